/*
 * check_records.c - unit tests for src/proto/sm_records.c and sm_compress.c:
 * record batch v2 encode/decode against an independently built golden batch,
 * CRC handling, client-batch validation, stamping, every codec's round trip,
 * output bounds, and truncation at every byte of every decoder's input.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <lz4frame.h>
#include <zlib.h>

#include "core/sm_buf.h"
#include "core/sm_crc32c.h"
#include "proto/sm_compress.h"
#include "proto/sm_records.h"
#include "sm_test.h"

/* Built by hand from the spec layout (and a bitwise CRC-32C), not by our
 * builder: baseOffset 42, records
 *   0: ts 1000, key "k", value "v0", no headers
 *   1: ts 1005, key null, value "v1", headers ("h","x"), ("n", null). */
static const uint8_t golden[] = {
    0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x2a,0x00,0x00,0x00,0x4b,0xff,0xff,0xff,0xff,0x02,0xc7,0x9b,0x47,
    0x71,0x00,0x00,0x00,0x00,0x00,0x01,0x00,0x00,0x00,0x00,0x00,0x00,0x03,0xe8,0x00,0x00,0x00,0x00,0x00,
    0x00,0x03,0xed,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0x00,0x00,0x00,
    0x02,0x12,0x00,0x00,0x00,0x02,0x6b,0x04,0x76,0x30,0x00,0x1e,0x00,0x0a,0x02,0x01,0x04,0x76,0x31,0x04,
    0x02,0x68,0x02,0x78,0x02,0x6e,0x01
};

static const sm_codec_t all_codecs[] = { SM_CODEC_NONE, SM_CODEC_GZIP, SM_CODEC_SNAPPY, SM_CODEC_LZ4, SM_CODEC_ZSTD };
#define NCODECS 5
#define BIG (1u << 20)

static void
fix_crc(uint8_t *b, size_t len)
{
    sm_put_be32(b + SM_BATCH_CRC_OFFSET, sm_crc32c(0, b + SM_BATCH_ATTR_OFFSET, len - SM_BATCH_ATTR_OFFSET));
}

/* The golden batch's two records, as builder input. */
static const sm_bytes_t g_hkeys[] = { { 1, (const uint8_t *)"h" }, { 1, (const uint8_t *)"n" } };
static const sm_bytes_t g_hvals[] = { { 1, (const uint8_t *)"x" }, { -1, NULL } };
static void
golden_specs(sm_record_spec_t s[2])
{
    memset(s, 0, 2 * sizeof(*s));
    s[0].timestamp = 1000; s[0].key = SM_BYTES_STR("k"); s[0].value = SM_BYTES_STR("v0");
    s[1].timestamp = 1005; s[1].key = SM_BYTES_NULL; s[1].value = SM_BYTES_STR("v1");
    s[1].nheaders = 2; s[1].header_keys = g_hkeys; s[1].header_values = g_hvals;
}

/* A batch with a large, compressible value so codecs use several blocks. */
static uint8_t *bigval;
static void
mixed_specs(sm_record_spec_t s[3])
{
    if (bigval == NULL) {
        bigval = malloc(200000);
        for (size_t i = 0; i < 200000; i++) bigval[i] = (uint8_t)("abcdefgh"[i % 8] + (i / 5000) % 7);
    }
    golden_specs(s);
    memset(&s[2], 0, sizeof(s[2]));
    s[2].timestamp = 990;                    /* out of order: max stays 1005 */
    s[2].key = SM_BYTES_STR("big");
    s[2].value = (sm_bytes_t){ 200000, bigval };
}

static uint8_t *
build(sm_codec_t codec, const sm_record_spec_t *s, int n, int64_t base, size_t *len)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_write_raw(&w, "junk", 4);             /* builder must append, not overwrite */
    ck_assert_int_eq(sm_batch_build(&w, base, codec, s, n), SM_ERR_NONE);
    ck_assert_mem_eq(w.data, "junk", 4);
    uint8_t *out = malloc(w.len - 4);
    memcpy(out, w.data + 4, w.len - 4);
    *len = w.len - 4;
    sm_wbuf_free(&w);
    return out;
}

/* Check the golden records (and optionally the big third one) via the iterator. */
static void
check_golden_records(const uint8_t *b, size_t len, int64_t base, int with_big)
{
    sm_record_iter_t it;
    sm_record_t r;
    sm_bytes_t k, v;
    sm_reader_t hr;

    ck_assert_int_eq(sm_record_iter_init(&it, b, len, BIG), SM_ERR_NONE);
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, base);
    ck_assert_int_eq(r.timestamp, 1000);
    ck_assert(sm_bytes_eq(r.key, "k"));
    ck_assert(sm_bytes_eq(r.value, "v0"));
    ck_assert_int_eq(r.header_count, 0);
    ck_assert_int_eq(r.headers_len, 0);

    ck_assert_int_eq(sm_record_iter_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, base + 1);
    ck_assert_int_eq(r.timestamp, 1005);
    ck_assert_int_eq(r.key.len, -1);
    ck_assert(sm_bytes_eq(r.value, "v1"));
    ck_assert_int_eq(r.header_count, 2);
    sm_reader_init(&hr, r.headers, r.headers_len);
    ck_assert_int_eq(sm_record_header_next(&hr, &k, &v), 1);
    ck_assert(sm_bytes_eq(k, "h"));
    ck_assert(sm_bytes_eq(v, "x"));
    ck_assert_int_eq(sm_record_header_next(&hr, &k, &v), 1);
    ck_assert(sm_bytes_eq(k, "n"));
    ck_assert_int_eq(v.len, -1);
    ck_assert_int_eq(sm_record_header_next(&hr, &k, &v), 0);

    if (with_big) {
        ck_assert_int_eq(sm_record_iter_next(&it, &r), 1);
        ck_assert_int_eq(r.offset, base + 2);
        ck_assert_int_eq(r.timestamp, 990);
        ck_assert(sm_bytes_eq(r.key, "big"));
        ck_assert_int_eq(r.value.len, 200000);
        ck_assert_mem_eq(r.value.ptr, bigval, 200000);
    }
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 0);
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 0);
    sm_record_iter_free(&it);
}

/* ---- golden / header ----------------------------------------------------- */

START_TEST(t_golden_decode)
{
    sm_batch_hdr_t h;
    ck_assert_int_eq(sm_batch_header_decode(golden, sizeof(golden), &h), 0);
    ck_assert_int_eq(h.base_offset, 42);
    ck_assert_int_eq(h.batch_length, sizeof(golden) - 12);
    ck_assert_int_eq(h.partition_leader_epoch, -1);
    ck_assert_int_eq(h.magic, 2);
    ck_assert_uint_eq(h.crc, 0xc79b4771u);
    ck_assert_int_eq(h.attributes, 0);
    ck_assert_int_eq(h.last_offset_delta, 1);
    ck_assert_int_eq(h.base_timestamp, 1000);
    ck_assert_int_eq(h.max_timestamp, 1005);
    ck_assert_int_eq(h.producer_id, -1);
    ck_assert_int_eq(h.producer_epoch, -1);
    ck_assert_int_eq(h.base_sequence, -1);
    ck_assert_int_eq(h.record_count, 2);
    ck_assert_int_eq(sm_batch_size(&h), sizeof(golden));
    ck_assert_int_eq(sm_batch_last_offset(&h), 43);
    ck_assert_int_eq(sm_batch_codec(&h), SM_CODEC_NONE);
    ck_assert_int_eq(sm_batch_check_crc(golden, sizeof(golden), &h), SM_ERR_NONE);
    ck_assert_int_eq(sm_batch_validate(golden, sizeof(golden), BIG, &h), SM_ERR_NONE);
    check_golden_records(golden, sizeof(golden), 42, 0);
}
END_TEST

START_TEST(t_golden_build)
{
    sm_record_spec_t s[2];
    size_t len;
    golden_specs(s);
    uint8_t *b = build(SM_CODEC_NONE, s, 2, 42, &len);
    ck_assert_int_eq(len, sizeof(golden));
    ck_assert_mem_eq(b, golden, sizeof(golden));
    free(b);
}
END_TEST

START_TEST(t_header_rejects)
{
    sm_batch_hdr_t h;
    uint8_t b[sizeof(golden)];
    ck_assert_int_eq(sm_batch_header_decode(golden, 60, &h), -1);
    memcpy(b, golden, sizeof(b));
    b[16] = 1;                                     /* magic 1 */
    ck_assert_int_eq(sm_batch_header_decode(b, sizeof(b), &h), -1);
    ck_assert_int_eq(sm_batch_check_crc(b, sizeof(b), &h), SM_ERR_CORRUPT_MESSAGE);
    memcpy(b, golden, sizeof(b));
    sm_put_be32(b + 8, 48);                         /* batchLength below the header */
    ck_assert_int_eq(sm_batch_header_decode(b, sizeof(b), &h), -1);
    sm_put_be32(b + 8, 49);                         /* minimum is accepted by decode */
    ck_assert_int_eq(sm_batch_header_decode(b, sizeof(b), &h), 0);
    sm_put_be32(b + 8, (uint32_t)-5);
    ck_assert_int_eq(sm_batch_header_decode(b, sizeof(b), &h), -1);
}
END_TEST

/* ---- CRC and stamping ---------------------------------------------------- */

START_TEST(t_crc_coverage)
{
    sm_batch_hdr_t h;
    uint8_t b[sizeof(golden)];
    for (size_t i = 0; i < sizeof(golden); i++) {
        memcpy(b, golden, sizeof(b));
        if (i == 16 || (i >= 8 && i < 12)) continue;  /* magic / length: header checks */
        b[i] ^= 0x01;
        sm_err_t want = i >= SM_BATCH_ATTR_OFFSET || (i >= 17 && i < 21) ? SM_ERR_CORRUPT_MESSAGE : SM_ERR_NONE;
        ck_assert_msg(sm_batch_check_crc(b, sizeof(b), &h) == want, "byte %zu", i);
    }
    /* A longer buffer (next batch follows) is fine; a shorter one is not. */
    uint8_t two[2 * sizeof(golden)];
    memcpy(two, golden, sizeof(golden));
    memcpy(two + sizeof(golden), golden, sizeof(golden));
    ck_assert_int_eq(sm_batch_check_crc(two, sizeof(two), &h), SM_ERR_NONE);
    ck_assert_int_eq(sm_batch_size(&h), sizeof(golden));
    ck_assert_int_eq(sm_batch_check_crc(golden, sizeof(golden) - 1, &h), SM_ERR_CORRUPT_MESSAGE);
}
END_TEST

START_TEST(t_stamping)
{
    sm_batch_hdr_t h;
    uint8_t b[sizeof(golden)];
    memcpy(b, golden, sizeof(b));
    sm_batch_set_base_offset(b, 0x0102030405060708LL);
    sm_batch_set_leader_epoch(b, 7);
    ck_assert_int_eq(sm_batch_check_crc(b, sizeof(b), &h), SM_ERR_NONE);
    ck_assert_int_eq(h.base_offset, 0x0102030405060708LL);
    ck_assert_int_eq(h.partition_leader_epoch, 7);
    ck_assert_uint_eq(h.crc, 0xc79b4771u);          /* untouched */
    ck_assert_int_eq(b[0], 0x01);
    ck_assert_int_eq(b[15], 7);
    check_golden_records(b, sizeof(b), 0x0102030405060708LL, 0);

    sm_batch_set_log_append_time(b, sizeof(b), 123456789012LL);
    ck_assert_int_eq(sm_batch_check_crc(b, sizeof(b), &h), SM_ERR_NONE);
    ck_assert_uint_ne(h.crc, 0xc79b4771u);
    ck_assert_int_eq(h.attributes, SM_ATTR_LOG_APPEND_TIME);
    ck_assert_int_eq(h.max_timestamp, 123456789012LL);
    ck_assert_int_eq(h.base_timestamp, 1000);       /* record timestamps keep CreateTime */
    ck_assert_int_eq(sm_batch_validate(b, sizeof(b), BIG, &h), SM_ERR_NONE);
    /* Only the stamped fields changed. */
    ck_assert_mem_eq(b + 23, golden + 23, 12);
    ck_assert_mem_eq(b + 43, golden + 43, sizeof(golden) - 43);
}
END_TEST

/* ---- validation ---------------------------------------------------------- */

static sm_err_t
validate_patched(void (*patch)(uint8_t *b, size_t len), size_t extra)
{
    sm_batch_hdr_t h;
    uint8_t b[sizeof(golden) + 8];
    memset(b, 0, sizeof(b));
    memcpy(b, golden, sizeof(golden));
    patch(b, sizeof(golden) + extra);
    fix_crc(b, sizeof(golden) + extra);
    return sm_batch_validate(b, sizeof(golden) + extra, BIG, &h);
}
static void p_none(uint8_t *b, size_t l) { (void)b; (void)l; }
static void p_control(uint8_t *b, size_t l) { b[22] |= SM_ATTR_CONTROL | SM_ATTR_TRANSACTIONAL; }
static void p_codec5(uint8_t *b, size_t l) { b[22] = 5; }
static void p_codec7(uint8_t *b, size_t l) { b[22] = 7; }
static void p_lod(uint8_t *b, size_t l) { sm_put_be32(b + 23, 2); }
static void p_count(uint8_t *b, size_t l) { sm_put_be32(b + 57, 3); sm_put_be32(b + 23, 2); }
static void p_count1(uint8_t *b, size_t l) { sm_put_be32(b + 57, 1); sm_put_be32(b + 23, 0); }
static void p_count0(uint8_t *b, size_t l) { sm_put_be32(b + 57, 0); sm_put_be32(b + 23, -1); }
static void p_offdelta(uint8_t *b, size_t l) { b[64] = 0x04; }     /* record 0 offsetDelta = 2 */
static void p_reclen(uint8_t *b, size_t l) { b[61] = 0x14; }       /* record 0 claims 10 bytes */
static void p_hkeynull(uint8_t *b, size_t l) { b[80] = 0x01; }     /* header "h" key null */
static void p_keylen(uint8_t *b, size_t l) { b[65] = 0x03; }       /* key length -2 */
static void p_trailing(uint8_t *b, size_t l) { sm_put_be32(b + 8, (uint32_t)(l - 12)); }
/* Record 1 claims one byte more than its fields and the batch really has one
 * more byte: only the per-record exact-length check can catch this. */
static void p_recpad(uint8_t *b, size_t l) { b[71] = 0x20; sm_put_be32(b + 8, (uint32_t)(l - 12)); }
static void p_gzip_attr(uint8_t *b, size_t l) { b[22] = SM_CODEC_GZIP; }

START_TEST(t_validate_errors)
{
    ck_assert_int_eq(validate_patched(p_none, 0), SM_ERR_NONE);
    ck_assert_int_eq(validate_patched(p_control, 0), SM_ERR_INVALID_RECORD);
    ck_assert_int_eq(validate_patched(p_codec5, 0), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    ck_assert_int_eq(validate_patched(p_codec7, 0), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    ck_assert_int_eq(validate_patched(p_lod, 0), SM_ERR_INVALID_RECORD);
    ck_assert_int_eq(validate_patched(p_count, 0), SM_ERR_CORRUPT_MESSAGE);   /* 3rd record missing */
    ck_assert_int_eq(validate_patched(p_count1, 0), SM_ERR_CORRUPT_MESSAGE);  /* record left over */
    ck_assert_int_eq(validate_patched(p_count0, 0), SM_ERR_INVALID_RECORD);
    ck_assert_int_eq(validate_patched(p_offdelta, 0), SM_ERR_INVALID_RECORD);
    ck_assert_int_eq(validate_patched(p_reclen, 0), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(validate_patched(p_hkeynull, 0), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(validate_patched(p_keylen, 0), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(validate_patched(p_trailing, 3), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(validate_patched(p_recpad, 1), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(validate_patched(p_gzip_attr, 0), SM_ERR_CORRUPT_MESSAGE); /* not gzip data */

    /* Bad CRC; and one batch plus extra bytes is not "one batch". */
    sm_batch_hdr_t h;
    uint8_t b[sizeof(golden) + 1];
    memcpy(b, golden, sizeof(golden));
    b[sizeof(golden)] = 0;
    ck_assert_int_eq(sm_batch_validate(b, sizeof(golden) + 1, BIG, &h), SM_ERR_CORRUPT_MESSAGE);
    b[70] ^= 0x40;
    ck_assert_int_eq(sm_batch_validate(b, sizeof(golden), BIG, &h), SM_ERR_CORRUPT_MESSAGE);
}
END_TEST

START_TEST(t_iter_compacted_and_control)
{
    /* Log data (not client data) may have gaps in offsetDelta and control
     * batches; the iterator must read them. */
    uint8_t b[sizeof(golden)];
    sm_record_iter_t it;
    sm_record_t r;
    memcpy(b, golden, sizeof(b));
    b[22] = SM_ATTR_CONTROL | SM_ATTR_TRANSACTIONAL;
    b[64] = 0x06;                                  /* record 0 offsetDelta 3 */
    fix_crc(b, sizeof(b));
    ck_assert_int_eq(sm_record_iter_init(&it, b, sizeof(b), BIG), SM_ERR_NONE);
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, 45);
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, 43);
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 0);
    sm_record_iter_free(&it);

    /* Empty batch (compaction may leave one). */
    size_t len;
    uint8_t *e = build(SM_CODEC_NONE, NULL, 0, 10, &len);
    sm_batch_hdr_t h;
    ck_assert_int_eq(len, SM_BATCH_HEADER_SIZE);
    ck_assert_int_eq(sm_batch_check_crc(e, len, &h), SM_ERR_NONE);
    ck_assert_int_eq(h.record_count, 0);
    ck_assert_int_eq(h.last_offset_delta, -1);
    ck_assert_int_eq(h.base_timestamp, -1);
    ck_assert_int_eq(sm_record_iter_init(&it, e, len, BIG), SM_ERR_NONE);
    ck_assert_int_eq(sm_record_iter_next(&it, &r), 0);
    sm_record_iter_free(&it);
    ck_assert_int_eq(sm_batch_validate(e, len, BIG, &h), SM_ERR_INVALID_RECORD);
    free(e);
}
END_TEST

/* ---- codecs -------------------------------------------------------------- */

START_TEST(t_roundtrip_codecs)
{
    sm_record_spec_t s[3];
    mixed_specs(s);
    for (int c = 0; c < NCODECS; c++) {
        size_t len;
        sm_batch_hdr_t h;
        uint8_t *b = build(all_codecs[c], s, 3, 1000, &len);
        ck_assert_int_eq(sm_batch_validate(b, len, BIG, &h), SM_ERR_NONE);
        ck_assert_int_eq(sm_batch_codec(&h), all_codecs[c]);
        ck_assert_int_eq(h.base_timestamp, 1000);
        ck_assert_int_eq(h.max_timestamp, 1005);
        ck_assert_int_eq(h.record_count, 3);
        ck_assert_int_eq(h.last_offset_delta, 2);
        if (all_codecs[c] != SM_CODEC_NONE) ck_assert_uint_lt(len, 100000);   /* really compressed */
        check_golden_records(b, len, 1000, 1);
        /* Decompressed size is ~200 KB: a 64 KB bound must refuse it. */
        if (all_codecs[c] != SM_CODEC_NONE)
            ck_assert_int_eq(sm_batch_validate(b, len, 65536, &h), SM_ERR_CORRUPT_MESSAGE);
        free(b);
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 16);
    ck_assert_int_eq(sm_batch_build(&w, 0, (sm_codec_t)5, s, 1), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    ck_assert_int_eq(w.len, 0);
    sm_wbuf_free(&w);
}
END_TEST

START_TEST(t_compress_bounds)
{
    size_t n = 100000;
    uint8_t *in = malloc(n);
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)(i * 7 / 3);
    for (int c = 1; c < NCODECS; c++) {
        uint8_t *z, *o;
        size_t zlen, olen;
        ck_assert_int_eq(sm_compress(all_codecs[c], in, n, &z, &zlen), SM_ERR_NONE);
        ck_assert_int_eq(sm_decompress(all_codecs[c], z, zlen, n, &o, &olen), SM_ERR_NONE);
        ck_assert_int_eq(olen, n);
        ck_assert_mem_eq(o, in, n);
        free(o);
        ck_assert_int_eq(sm_decompress(all_codecs[c], z, zlen, n - 1, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
        ck_assert_ptr_null(o);
        ck_assert_int_eq(sm_decompress(all_codecs[c], z, zlen, 0, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
        free(z);

        /* Empty input round-trips to empty output. */
        ck_assert_int_eq(sm_compress(all_codecs[c], in, 0, &z, &zlen), SM_ERR_NONE);
        ck_assert_int_eq(sm_decompress(all_codecs[c], z, zlen, 10, &o, &olen), SM_ERR_NONE);
        ck_assert_int_eq(olen, 0);
        free(o);
        free(z);
        /* Garbage is rejected. */
        ck_assert_int_eq(sm_decompress(all_codecs[c], (const uint8_t *)"\xff\xfe\xfdxyz", 6, 100, &o, &olen),
                         SM_ERR_CORRUPT_MESSAGE);
        ck_assert_int_eq(sm_decompress(all_codecs[c], in, 0, 100, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
    }
    uint8_t *o;
    size_t olen;
    ck_assert_int_eq(sm_decompress(SM_CODEC_NONE, in, 10, 10, &o, &olen), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    ck_assert_int_eq(sm_decompress((sm_codec_t)6, in, 10, 10, &o, &olen), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    free(in);
}
END_TEST

START_TEST(t_bomb)
{
    /* 16 MiB of zeros compresses to a few KB; a 1 MiB bound must stop it. */
    size_t n = 16u << 20;
    uint8_t *zeros = calloc(1, n);
    for (int c = 1; c < NCODECS; c++) {
        uint8_t *z, *o;
        size_t zlen, olen;
        ck_assert_int_eq(sm_compress(all_codecs[c], zeros, n, &z, &zlen), SM_ERR_NONE);
        ck_assert_uint_lt(zlen, n / 8);
        ck_assert_int_eq(sm_decompress(all_codecs[c], z, zlen, 1u << 20, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
        free(z);
    }
    free(zeros);
}
END_TEST

START_TEST(t_snappy_vectors)
{
    /* Raw snappy "hello": uvarint length 5, literal tag (5-1)<<2. */
    static const uint8_t raw[] = { 0x05, 0x10, 'h', 'e', 'l', 'l', 'o' };
    /* xerial: magic, version 1, min-compatible 1, then two blocks. */
    static const uint8_t xer[] = {
        0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
        0, 0, 0, 7, 0x05, 0x10, 'h', 'e', 'l', 'l', 'o',
        0, 0, 0, 4, 0x02, 0x04, '!', '?'
    };
    uint8_t *o;
    size_t olen;
    ck_assert_int_eq(sm_decompress(SM_CODEC_SNAPPY, raw, sizeof(raw), 100, &o, &olen), SM_ERR_NONE);
    ck_assert_int_eq(olen, 5);
    ck_assert_mem_eq(o, "hello", 5);
    free(o);
    ck_assert_int_eq(sm_decompress(SM_CODEC_SNAPPY, raw, sizeof(raw), 4, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(sm_decompress(SM_CODEC_SNAPPY, xer, sizeof(xer), 100, &o, &olen), SM_ERR_NONE);
    ck_assert_int_eq(olen, 7);
    ck_assert_mem_eq(o, "hello!?", 7);
    free(o);
    ck_assert_int_eq(sm_decompress(SM_CODEC_SNAPPY, xer, sizeof(xer), 6, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
    /* Every truncation that is not at a block boundary fails. */
    for (size_t k = 0; k < sizeof(xer); k++) {
        sm_err_t e = sm_decompress(SM_CODEC_SNAPPY, xer, k, 100, &o, &olen);
        if (k == 16 || k == 27) { ck_assert_int_eq(e, SM_ERR_NONE); free(o); }
        else ck_assert_msg(e == SM_ERR_CORRUPT_MESSAGE, "k=%zu", k);
    }
    /* Our compressor writes xerial framing. */
    uint8_t *z;
    size_t zlen;
    ck_assert_int_eq(sm_compress(SM_CODEC_SNAPPY, (const uint8_t *)"hello", 5, &z, &zlen), SM_ERR_NONE);
    ck_assert_mem_eq(z, xer, 16);
    ck_assert_int_eq(sm_be32(z + 16), zlen - 20);
    free(z);
}
END_TEST

START_TEST(t_gzip_members)
{
    /* Concatenated gzip members decode to the concatenation (GZIPInputStream). */
    uint8_t *a, *b, *o;
    size_t alen, blen, olen;
    ck_assert_int_eq(sm_compress(SM_CODEC_GZIP, (const uint8_t *)"abc", 3, &a, &alen), SM_ERR_NONE);
    ck_assert_int_eq(sm_compress(SM_CODEC_GZIP, (const uint8_t *)"defg", 4, &b, &blen), SM_ERR_NONE);
    ck_assert_int_eq(a[0], 0x1f);
    ck_assert_int_eq(a[1], 0x8b);
    uint8_t *cat = malloc(alen + blen + 1);
    memcpy(cat, a, alen);
    memcpy(cat + alen, b, blen);
    ck_assert_int_eq(sm_decompress(SM_CODEC_GZIP, cat, alen + blen, 100, &o, &olen), SM_ERR_NONE);
    ck_assert_int_eq(olen, 7);
    ck_assert_mem_eq(o, "abcdefg", 7);
    free(o);
    cat[alen + blen] = 0;                          /* trailing garbage */
    ck_assert_int_eq(sm_decompress(SM_CODEC_GZIP, cat, alen + blen + 1, 100, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
    free(a); free(b); free(cat);
}
END_TEST

START_TEST(t_lz4_frame_flags)
{
    static const char msg[] = "lz4 lz4 lz4 lz4 lz4 lz4 lz4 lz4";
    uint8_t *z, *o;
    size_t zlen, olen;
    ck_assert_int_eq(sm_compress(SM_CODEC_LZ4, (const uint8_t *)msg, sizeof(msg), &z, &zlen), SM_ERR_NONE);
    ck_assert_int_eq(sm_be32(z), 0x04224d18u);      /* 0x184D2204 little-endian */
    ck_assert_int_eq(z[4] & 0xc0, 0x40);            /* FLG version 01 */
    ck_assert(z[4] & 0x20);                         /* block independence */
    ck_assert_int_eq((z[5] >> 4) & 7, 4);           /* BD: 64 KiB blocks */
    free(z);

    /* A linked-block frame (LZ4F's default) is refused, as Kafka does. */
    LZ4F_preferences_t p;
    memset(&p, 0, sizeof(p));
    p.frameInfo.blockMode = LZ4F_blockLinked;
    /* Streaming API: LZ4F_compressFrame silently switches one-block inputs
     * to independent mode. */
    uint8_t buf[1024];
    LZ4F_cctx *cc;
    ck_assert(!LZ4F_isError(LZ4F_createCompressionContext(&cc, LZ4F_VERSION)));
    size_t n = LZ4F_compressBegin(cc, buf, sizeof(buf), &p);
    ck_assert(!LZ4F_isError(n));
    size_t m = LZ4F_compressUpdate(cc, buf + n, sizeof(buf) - n, msg, sizeof(msg), NULL);
    ck_assert(!LZ4F_isError(m));
    n += m;
    m = LZ4F_compressEnd(cc, buf + n, sizeof(buf) - n, NULL);
    ck_assert(!LZ4F_isError(m));
    n += m;
    LZ4F_freeCompressionContext(cc);
    ck_assert_int_eq(buf[4] & 0x20, 0);
    ck_assert_int_eq(sm_decompress(SM_CODEC_LZ4, buf, n, 100, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
    buf[4] |= 0x20;                                 /* flip to independent: HC now wrong */
    ck_assert_int_eq(sm_decompress(SM_CODEC_LZ4, buf, n, 100, &o, &olen), SM_ERR_CORRUPT_MESSAGE);
}
END_TEST

/* ---- truncation ---------------------------------------------------------- */

START_TEST(t_truncate_every_byte)
{
    sm_record_spec_t s[3];
    mixed_specs(s);
    s[2].value.len = 3000;                          /* keep the loops quick */
    for (int c = 0; c < NCODECS; c++) {
        size_t len;
        sm_batch_hdr_t h;
        sm_record_iter_t it;
        sm_record_t r;
        uint8_t *b = build(all_codecs[c], s, 3, 5, &len);
        uint8_t *t = malloc(len);

        /* Plain truncation: every decoder refuses. */
        for (size_t k = 0; k < len; k++) {
            memcpy(t, b, k);
            if (k < SM_BATCH_HEADER_SIZE) ck_assert_int_eq(sm_batch_header_decode(t, k, &h), -1);
            ck_assert_msg(sm_batch_check_crc(t, k, &h) == SM_ERR_CORRUPT_MESSAGE, "c=%d k=%zu", c, k);
            ck_assert_msg(sm_batch_validate(t, k, BIG, &h) == SM_ERR_CORRUPT_MESSAGE, "c=%d k=%zu", c, k);
            ck_assert(sm_record_iter_init(&it, t, k, BIG) != SM_ERR_NONE);
            sm_record_iter_free(&it);
        }
        /* Truncation with a consistent header (length and CRC fixed up), so
         * the record decoders and decompressors see short input. */
        for (size_t k = SM_BATCH_HEADER_SIZE; k < len; k++) {
            memcpy(t, b, k);
            sm_put_be32(t + 8, (uint32_t)(k - 12));
            fix_crc(t, k);
            ck_assert_msg(sm_batch_validate(t, k, BIG, &h) != SM_ERR_NONE, "c=%d k=%zu", c, k);
            if (sm_record_iter_init(&it, t, k, BIG) == SM_ERR_NONE) {
                int rc, got = 0;
                while ((rc = sm_record_iter_next(&it, &r)) == 1) got++;
                ck_assert_msg(rc == -1 && got < 3, "c=%d k=%zu rc=%d got=%d", c, k, rc, got);
                ck_assert_int_eq(sm_record_iter_next(&it, &r), -1);   /* sticky */
            }
            sm_record_iter_free(&it);
        }
        free(t);
        free(b);
    }
}
END_TEST

START_TEST(t_truncate_compressed)
{
    static const char msg[] = "truncate me truncate me truncate me, 0123456789 0123456789";
    for (int c = 1; c < NCODECS; c++) {
        uint8_t *z, *o;
        size_t zlen, olen;
        ck_assert_int_eq(sm_compress(all_codecs[c], (const uint8_t *)msg, sizeof(msg), &z, &zlen), SM_ERR_NONE);
        for (size_t k = 0; k < zlen; k++) {
            sm_err_t e = sm_decompress(all_codecs[c], z, k, 1000, &o, &olen);
            /* xerial snappy ends cleanly after the 16-byte header (no blocks). */
            if (all_codecs[c] == SM_CODEC_SNAPPY && k == 16) { ck_assert_int_eq(olen, 0); free(o); continue; }
            ck_assert_msg(e == SM_ERR_CORRUPT_MESSAGE, "codec %d k=%zu e=%d", c, k, e);
            ck_assert_ptr_null(o);
        }
        free(z);
    }
}
END_TEST

START_TEST(t_hostile_varints)
{
    /* Record sections that are pure junk must fail cleanly, never crash. */
    uint8_t b[SM_BATCH_HEADER_SIZE + 32];
    sm_batch_hdr_t h;
    memcpy(b, golden, SM_BATCH_HEADER_SIZE);
    sm_put_be32(b + 8, sizeof(b) - 12);
    for (int pat = 0; pat < 256; pat++) {
        for (size_t i = SM_BATCH_HEADER_SIZE; i < sizeof(b); i++) b[i] = (uint8_t)(pat + i * 37);
        b[SM_BATCH_HEADER_SIZE] = (uint8_t)pat;
        fix_crc(b, sizeof(b));
        ck_assert(sm_batch_validate(b, sizeof(b), BIG, &h) != SM_ERR_NONE);
    }
    /* Over-long varint (6 bytes) as record length. */
    memset(b + SM_BATCH_HEADER_SIZE, 0xff, 32);
    fix_crc(b, sizeof(b));
    ck_assert_int_eq(sm_batch_validate(b, sizeof(b), BIG, &h), SM_ERR_CORRUPT_MESSAGE);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("records");
    TCase *tc = tcase_create("records");
    tcase_add_test(tc, t_golden_decode);
    tcase_add_test(tc, t_golden_build);
    tcase_add_test(tc, t_header_rejects);
    tcase_add_test(tc, t_crc_coverage);
    tcase_add_test(tc, t_stamping);
    tcase_add_test(tc, t_validate_errors);
    tcase_add_test(tc, t_iter_compacted_and_control);
    tcase_add_test(tc, t_roundtrip_codecs);
    tcase_add_test(tc, t_compress_bounds);
    tcase_add_test(tc, t_bomb);
    tcase_add_test(tc, t_snappy_vectors);
    tcase_add_test(tc, t_gzip_members);
    tcase_add_test(tc, t_lz4_frame_flags);
    tcase_add_test(tc, t_truncate_every_byte);
    tcase_add_test(tc, t_truncate_compressed);
    tcase_add_test(tc, t_hostile_varints);
    suite_add_tcase(s, tc);
    int rc = sm_test_run(s);
    free(bigval);
    return rc;
}

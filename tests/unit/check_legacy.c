/*
 * check_legacy.c - unit tests for src/proto/sm_legacy.c: the legacy message
 * layout against hand-built bytes, build/parse round trips for magic 0 and 1
 * with every legacy codec, up-conversion to v2 and down-conversion back
 * (keys, values, timestamps, offsets), truncation at every byte, CRC and
 * wrapper rule violations, and the LZ4 magic-0 header checksum quirk.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <lz4frame.h>
#include <zlib.h>

#include "core/sm_buf.h"
#include "core/sm_crc32c.h"
#include "proto/sm_compress.h"
#include "proto/sm_legacy.h"
#include "proto/sm_records.h"
#include "sm_test.h"

#define BIG (64u << 20)
static const sm_codec_t legacy_codecs[] = { SM_CODEC_NONE, SM_CODEC_GZIP, SM_CODEC_SNAPPY, SM_CODEC_LZ4 };

/* Five messages at offsets 100..104: a null key, a null value, an empty
 * value and a larger compressible one. */
static char bigval[5000];
static void
specs5(sm_legacy_spec_t m[5])
{
    for (size_t i = 0; i < sizeof(bigval); i++) bigval[i] = "legacy!"[i % 7];
    static const char *keys[] = { "k0", NULL, "k2", "k3", "k4" };
    static const char *vals[] = { "v0", "v1", NULL, "", NULL };
    for (int i = 0; i < 5; i++) {
        m[i].offset = 100 + i;
        m[i].timestamp = 1600000000000LL + i * 7;
        m[i].key = keys[i] ? SM_BYTES_STR(keys[i]) : SM_BYTES_NULL;
        m[i].value = vals[i] ? SM_BYTES_STR(vals[i]) : SM_BYTES_NULL;
    }
    m[4].value = (sm_bytes_t){ (int32_t)sizeof(bigval), (const uint8_t *)bigval };
}

static int
bytes_eq(sm_bytes_t a, sm_bytes_t b)
{
    if (a.len != b.len) return 0;
    return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

/* Iterate p and compare with m[0..n) (timestamps -1 for magic 0). */
static void
expect_msgs(const uint8_t *p, size_t len, int magic, const sm_legacy_spec_t *m, int n, sm_codec_t codec)
{
    sm_legacy_iter_t it;
    sm_legacy_msg_t msg;
    int i = 0, rc;
    sm_legacy_iter_init(&it, p, len, BIG, 0);
    while ((rc = sm_legacy_iter_next(&it, &msg)) == 1) {
        ck_assert_int_lt(i, n);
        ck_assert_int_eq(msg.offset, m[i].offset);
        ck_assert_int_eq(msg.magic, magic);
        ck_assert_int_eq(msg.timestamp, magic == 0 ? -1 : m[i].timestamp);
        ck_assert_int_eq(msg.codec, codec);
        ck_assert(bytes_eq(msg.key, m[i].key));
        ck_assert(bytes_eq(msg.value, m[i].value));
        i++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(i, n);
    sm_legacy_iter_free(&it);
}

START_TEST(test_layout_golden)
{
    /* One v1 message, by hand: offset 5, ts 1000, key "k", value "v". */
    uint8_t msg[24] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v' };
    sm_put_be32(msg, (uint32_t)crc32(0, msg + 4, sizeof(msg) - 4));
    uint8_t want[12 + 24] = { 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 24 };
    memcpy(want + 12, msg, sizeof(msg));

    sm_legacy_spec_t s = { 5, 1000, SM_BYTES_STR("k"), SM_BYTES_STR("v") };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    ck_assert_int_eq(sm_legacy_build(&w, 1, SM_CODEC_NONE, &s, 1), SM_ERR_NONE);
    ck_assert_uint_eq(w.len, sizeof(want));
    ck_assert(memcmp(w.data, want, sizeof(want)) == 0);
    ck_assert_int_eq(sm_records_magic(w.data, w.len), 1);

    /* v0: no timestamp, 14-byte overhead, null key. */
    sm_wbuf_reset(&w);
    s.key = SM_BYTES_NULL;
    ck_assert_int_eq(sm_legacy_build(&w, 0, SM_CODEC_NONE, &s, 1), SM_ERR_NONE);
    ck_assert_uint_eq(w.len, 12 + 14 + 1);
    ck_assert_int_eq(sm_be32(w.data + 8), 15);
    ck_assert_int_eq(w.data[16], 0);
    ck_assert_int_eq((int32_t)sm_be32(w.data + 18), -1);
    ck_assert_int_eq(sm_be32(w.data + 12), (uint32_t)crc32(0, w.data + 16, 11));
    ck_assert_int_eq(sm_records_magic(w.data, w.len), 0);
    ck_assert_int_eq(sm_records_magic(w.data, 16), -1);
    sm_wbuf_free(&w);
}
END_TEST

START_TEST(test_roundtrip)
{
    sm_legacy_spec_t m[5];
    specs5(m);
    for (int magic = 0; magic <= 1; magic++) {
        for (size_t c = 0; c < 4; c++) {
            sm_wbuf_t w;
            sm_wbuf_init(&w, 64);
            ck_assert_int_eq(sm_legacy_build(&w, magic, legacy_codecs[c], m, 5), SM_ERR_NONE);
            expect_msgs(w.data, w.len, magic, m, 5, legacy_codecs[c]);
            if (legacy_codecs[c] != SM_CODEC_NONE) {
                /* One wrapper: offset of the last message, key null,
                 * attributes = codec only, timestamp = max (v1). */
                ck_assert_int_eq((int64_t)sm_be64(w.data), 104);
                ck_assert_int_eq(w.data[17], (int)legacy_codecs[c]);
                if (magic == 1) {
                    ck_assert_int_eq((int64_t)sm_be64(w.data + 18), m[4].timestamp);
                    ck_assert_int_eq((int32_t)sm_be32(w.data + 26), -1);
                } else {
                    ck_assert_int_eq((int32_t)sm_be32(w.data + 18), -1);
                }
                ck_assert_uint_eq(12 + sm_be32(w.data + 8), w.len);
            }
            sm_wbuf_free(&w);
        }
    }
}
END_TEST

START_TEST(test_v1_relative_offsets)
{
    /* Inner offsets of a v1 wrapper are relative, also when not dense
     * (compacted data): absolute = wrapper - last + inner. */
    sm_legacy_spec_t m[3] = { { 10, 1, SM_BYTES_STR("a"), SM_BYTES_STR("1") },
                              { 13, 2, SM_BYTES_STR("b"), SM_BYTES_STR("2") },
                              { 17, 3, SM_BYTES_STR("c"), SM_BYTES_STR("3") } };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    ck_assert_int_eq(sm_legacy_build(&w, 1, SM_CODEC_GZIP, m, 3), SM_ERR_NONE);
    uint8_t *inner;
    size_t ilen;
    int32_t vlen = (int32_t)sm_be32(w.data + 30);
    ck_assert_int_eq(sm_decompress(SM_CODEC_GZIP, w.data + 34, (size_t)vlen, BIG, &inner, &ilen), SM_ERR_NONE);
    ck_assert_int_eq((int64_t)sm_be64(inner), 0);
    ck_assert_int_eq((int64_t)sm_be64(inner + 12 + sm_be32(inner + 8)), 3);
    free(inner);
    expect_msgs(w.data, w.len, 1, m, 3, SM_CODEC_GZIP);
    sm_wbuf_free(&w);
}
END_TEST

/* Up-convert a legacy set, place it at base offset `base`, and read it
 * back as v2 records. */
static void
expect_batch(const uint8_t *b, size_t len, int magic, const sm_legacy_spec_t *m, int n, sm_codec_t codec)
{
    sm_record_iter_t it;
    sm_record_t r;
    ck_assert_int_eq(sm_batch_validate(b, len, BIG, &it.hdr), SM_ERR_NONE);
    ck_assert_int_eq(sm_record_iter_init(&it, b, len, BIG), SM_ERR_NONE);
    ck_assert_int_eq(sm_batch_codec(&it.hdr), codec);
    ck_assert_int_eq(it.hdr.producer_id, -1);
    int i = 0, rc;
    while ((rc = sm_record_iter_next(&it, &r)) == 1) {
        ck_assert_int_lt(i, n);
        ck_assert_int_eq(r.timestamp, magic == 0 ? -1 : m[i].timestamp);
        ck_assert(bytes_eq(r.key, m[i].key));
        ck_assert(bytes_eq(r.value, m[i].value));
        ck_assert_int_eq(r.header_count, 0);
        i++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(i, n);
    sm_record_iter_free(&it);
}

START_TEST(test_up_down)
{
    sm_legacy_spec_t m[5];
    specs5(m);
    for (int magic = 0; magic <= 1; magic++) {
        for (size_t c = 0; c < 4; c++) {
            sm_wbuf_t lw, bw, dw;
            sm_wbuf_init(&lw, 64);
            sm_wbuf_init(&bw, 64);
            sm_wbuf_init(&dw, 64);
            ck_assert_int_eq(sm_legacy_build(&lw, magic, legacy_codecs[c], m, 5), SM_ERR_NONE);
            int n = 0;
            ck_assert_int_eq(sm_legacy_to_batch(&bw, lw.data, lw.len, -1, BIG, &n), SM_ERR_NONE);
            ck_assert_int_eq(n, 5);
            expect_batch(bw.data, bw.len, magic, m, 5, legacy_codecs[c]);
            /* The log assigns offsets 100.. in place. */
            sm_batch_set_base_offset(bw.data, 100);
            for (int to = 0; to <= 1; to++) {
                sm_wbuf_reset(&dw);
                ck_assert_int_eq(sm_legacy_from_batch(&dw, to, bw.data, bw.len, 100, BIG), SM_ERR_NONE);
                sm_legacy_spec_t want[5];
                memcpy(want, m, sizeof(want));
                if (magic == 0)
                    for (int i = 0; i < 5; i++) want[i].timestamp = -1;
                expect_msgs(dw.data, dw.len, to, want, 5, legacy_codecs[c]);
            }
            /* Target codec overrides the source codec. */
            sm_wbuf_reset(&bw);
            ck_assert_int_eq(sm_legacy_to_batch(&bw, lw.data, lw.len, SM_CODEC_ZSTD, BIG, NULL), SM_ERR_NONE);
            expect_batch(bw.data, bw.len, magic, m, 5, SM_CODEC_ZSTD);
            sm_wbuf_free(&lw);
            sm_wbuf_free(&bw);
            sm_wbuf_free(&dw);
        }
    }
}
END_TEST

START_TEST(test_down_from_v2)
{
    /* A v2 batch with headers and a LogAppendTime stamp. */
    sm_record_spec_t r[3];
    sm_bytes_t hk = SM_BYTES_STR("h"), hv = SM_BYTES_STR("x");
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 3; i++) { r[i].timestamp = 5000 + i; r[i].value = SM_BYTES_STR("val"); }
    r[0].key = SM_BYTES_STR("key0");
    r[1].key = SM_BYTES_NULL;
    r[2].key = SM_BYTES_STR("key2");
    r[1].nheaders = 1; r[1].header_keys = &hk; r[1].header_values = &hv;
    for (size_t c = 0; c < 4; c++) {
        sm_wbuf_t bw, dw;
        sm_wbuf_init(&bw, 64);
        sm_wbuf_init(&dw, 64);
        ck_assert_int_eq(sm_batch_build(&bw, 40, legacy_codecs[c], r, 3), SM_ERR_NONE);
        sm_legacy_spec_t want[3];
        for (int i = 0; i < 3; i++) want[i] = (sm_legacy_spec_t){ 40 + i, 5000 + i, r[i].key, r[i].value };
        ck_assert_int_eq(sm_legacy_from_batch(&dw, 1, bw.data, bw.len, 40, BIG), SM_ERR_NONE);
        expect_msgs(dw.data, dw.len, 1, want, 3, legacy_codecs[c]);

        /* fetch_offset inside the batch: uncompressed output starts there,
         * compressed output keeps the whole wrapper (clients skip). */
        sm_wbuf_reset(&dw);
        ck_assert_int_eq(sm_legacy_from_batch(&dw, 0, bw.data, bw.len, 41, BIG), SM_ERR_NONE);
        for (int i = 0; i < 3; i++) want[i].timestamp = -1;
        if (legacy_codecs[c] == SM_CODEC_NONE) expect_msgs(dw.data, dw.len, 0, want + 1, 2, SM_CODEC_NONE);
        else expect_msgs(dw.data, dw.len, 0, want, 3, legacy_codecs[c]);
        if (legacy_codecs[c] == SM_CODEC_LZ4) {
            /* Down-conversion writes the standard checksum even for magic 0. */
            uint8_t good;
            int hc = sm_lz4_header_checksums(dw.data + 26, sm_be32(dw.data + 22), &good, NULL);
            ck_assert_int_ge(hc, 6);
            ck_assert_int_eq(dw.data[26 + hc], good);
        }

        /* LogAppendTime: every record gets maxTimestamp, no bit 3 written. */
        sm_batch_set_log_append_time(bw.data, bw.len, 777777);
        sm_wbuf_reset(&dw);
        ck_assert_int_eq(sm_legacy_from_batch(&dw, 1, bw.data, bw.len, 0, BIG), SM_ERR_NONE);
        for (int i = 0; i < 3; i++) want[i].timestamp = 777777;
        expect_msgs(dw.data, dw.len, 1, want, 3, legacy_codecs[c]);
        ck_assert_int_eq(dw.data[17] & SM_LEGACY_ATTR_LOG_APPEND_TIME, 0);
        sm_wbuf_free(&bw);
        sm_wbuf_free(&dw);
    }
    /* zstd cannot be expressed in a legacy set; control batches vanish. */
    sm_wbuf_t bw, dw;
    sm_wbuf_init(&bw, 64);
    sm_wbuf_init(&dw, 64);
    ck_assert_int_eq(sm_batch_build(&bw, 0, SM_CODEC_ZSTD, r, 3), SM_ERR_NONE);
    ck_assert_int_eq(sm_legacy_from_batch(&dw, 1, bw.data, bw.len, 0, BIG), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    ck_assert_uint_eq(dw.len, 0);
    sm_wbuf_reset(&bw);
    ck_assert_int_eq(sm_batch_build(&bw, 0, SM_CODEC_NONE, r, 3), SM_ERR_NONE);
    uint16_t attr = sm_be16(bw.data + SM_BATCH_ATTR_OFFSET) | SM_ATTR_CONTROL | SM_ATTR_TRANSACTIONAL;
    sm_put_be16(bw.data + SM_BATCH_ATTR_OFFSET, attr);
    sm_put_be32(bw.data + SM_BATCH_CRC_OFFSET, sm_crc32c(0, bw.data + SM_BATCH_ATTR_OFFSET, bw.len - SM_BATCH_ATTR_OFFSET));
    ck_assert_int_eq(sm_legacy_from_batch(&dw, 1, bw.data, bw.len, 0, BIG), SM_ERR_NONE);
    ck_assert_uint_eq(dw.len, 0);
    /* A batch with a bad CRC-32C is refused. */
    sm_wbuf_reset(&bw);
    ck_assert_int_eq(sm_batch_build(&bw, 0, SM_CODEC_NONE, r, 3), SM_ERR_NONE);
    bw.data[bw.len - 1] ^= 1;
    ck_assert_int_eq(sm_legacy_from_batch(&dw, 1, bw.data, bw.len, 0, BIG), SM_ERR_CORRUPT_MESSAGE);
    sm_wbuf_free(&bw);
    sm_wbuf_free(&dw);
}
END_TEST

START_TEST(test_down_many_records)
{
    /* Many small records in one compressed batch: the converter grows its
     * arrays as records decode (recordCount is not trusted for sizing). */
    enum { NREC = 5000 };
    sm_record_spec_t *r = calloc(NREC, sizeof(*r));
    for (int i = 0; i < NREC; i++) { r[i].timestamp = 9000; r[i].key = SM_BYTES_NULL; r[i].value = SM_BYTES_STR(""); }
    for (int magic = 0; magic <= 1; magic++) {
        sm_wbuf_t bw, dw;
        sm_wbuf_init(&bw, 64);
        sm_wbuf_init(&dw, 64);
        ck_assert_int_eq(sm_batch_build(&bw, 1000, SM_CODEC_GZIP, r, NREC), SM_ERR_NONE);
        ck_assert_int_eq(sm_legacy_from_batch(&dw, magic, bw.data, bw.len, 0, BIG), SM_ERR_NONE);
        sm_legacy_iter_t it;
        sm_legacy_msg_t msg;
        int n = 0, rc;
        sm_legacy_iter_init(&it, dw.data, dw.len, BIG, 0);
        while ((rc = sm_legacy_iter_next(&it, &msg)) == 1) {
            ck_assert_int_eq(msg.offset, 1000 + n);
            ck_assert_int_eq(msg.timestamp, magic ? 9000 : -1);
            ck_assert_int_eq(msg.key.len, -1);
            ck_assert_int_eq(msg.value.len, 0);
            n++;
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(n, NREC);
        sm_legacy_iter_free(&it);
        sm_wbuf_free(&bw);
        sm_wbuf_free(&dw);
    }
    free(r);
}
END_TEST

/* Entry boundaries of a top-level set. */
static int
whole_entries(const uint8_t *p, size_t cut)
{
    size_t pos = 0;
    int n = 0;
    while (pos + 12 <= cut) {
        size_t sz = 12 + sm_be32(p + pos + 8);
        if (pos + sz > cut) break;
        pos += sz;
        n++;
    }
    return n;
}

START_TEST(test_truncate_every_byte)
{
    sm_legacy_spec_t m[5];
    specs5(m);
    for (int magic = 0; magic <= 1; magic++) {
        for (size_t c = 0; c < 4; c++) {
            sm_wbuf_t w;
            sm_wbuf_init(&w, 64);
            ck_assert_int_eq(sm_legacy_build(&w, magic, legacy_codecs[c], m, 5), SM_ERR_NONE);
            for (size_t cut = 0; cut < w.len; cut++) {
                /* A copy of exactly cut bytes, so reads past it are caught by ASan/valgrind. */
                uint8_t *p = malloc(cut ? cut : 1);
                memcpy(p, w.data, cut);
                int whole = whole_entries(p, cut);
                int exact = 0;
                {
                    size_t pos = 0;
                    for (int k = 0; k < whole; k++) pos += 12 + sm_be32(p + pos + 8);
                    exact = pos == cut;
                }
                int expect_n = legacy_codecs[c] == SM_CODEC_NONE ? whole : (whole ? 5 : 0);
                for (int partial = 0; partial <= 1; partial++) {
                    sm_legacy_iter_t it;
                    sm_legacy_msg_t msg;
                    int n = 0, rc;
                    sm_legacy_iter_init(&it, p, cut, BIG, partial);
                    while ((rc = sm_legacy_iter_next(&it, &msg)) == 1) n++;
                    if (partial || exact) {
                        ck_assert_int_eq(rc, 0);
                        ck_assert_int_eq(n, expect_n);
                    } else {
                        ck_assert_int_eq(rc, -1);
                        ck_assert_int_eq(it.err, SM_ERR_CORRUPT_MESSAGE);
                    }
                    sm_legacy_iter_free(&it);
                }
                sm_wbuf_t bw;
                sm_wbuf_init(&bw, 64);
                sm_err_t err = sm_legacy_to_batch(&bw, p, cut, -1, BIG, NULL);
                ck_assert_int_eq(err, exact && cut > 0 ? SM_ERR_NONE : SM_ERR_CORRUPT_MESSAGE);
                sm_wbuf_free(&bw);
                free(p);
            }
            sm_wbuf_free(&w);
        }
    }
}
END_TEST

START_TEST(test_truncated_inner)
{
    /* A wrapper whose (valid, compressed) value holds a truncated inner set. */
    sm_legacy_spec_t m[5];
    specs5(m);
    sm_wbuf_t inner, w;
    sm_wbuf_init(&inner, 64);
    sm_wbuf_init(&w, 64);
    ck_assert_int_eq(sm_legacy_build(&inner, 1, SM_CODEC_NONE, m, 3), SM_ERR_NONE);
    for (size_t cut = 1; cut < inner.len; cut++) {
        uint8_t *z;
        size_t zlen;
        ck_assert_int_eq(sm_compress(SM_CODEC_GZIP, inner.data, cut, &z, &zlen), SM_ERR_NONE);
        sm_legacy_spec_t wrap = { 2, 0, SM_BYTES_NULL, { (int32_t)zlen, z } };
        sm_wbuf_reset(&w);
        ck_assert_int_eq(sm_legacy_build(&w, 1, SM_CODEC_NONE, &wrap, 1), SM_ERR_NONE);
        w.data[17] = SM_CODEC_GZIP;                       /* make it a wrapper, fix the CRC */
        sm_put_be32(w.data + 12, (uint32_t)crc32(0, w.data + 16, (uInt)(w.len - 16)));
        sm_legacy_iter_t it;
        sm_legacy_msg_t msg;
        sm_legacy_iter_init(&it, w.data, w.len, BIG, 1);
        int rc;
        while ((rc = sm_legacy_iter_next(&it, &msg)) == 1) {}
        int n_whole = whole_entries(inner.data, cut);
        size_t pos = 0;
        for (int k = 0; k < n_whole; k++) pos += 12 + sm_be32(inner.data + pos + 8);
        if (pos == cut) ck_assert_int_eq(rc, 0);
        else { ck_assert_int_eq(rc, -1); ck_assert_int_eq(it.err, SM_ERR_CORRUPT_MESSAGE); }
        sm_legacy_iter_free(&it);
        free(z);
    }
    sm_wbuf_free(&inner);
    sm_wbuf_free(&w);
}
END_TEST

START_TEST(test_bad_crc)
{
    sm_legacy_spec_t m[5];
    specs5(m);
    for (int magic = 0; magic <= 1; magic++) {
        for (size_t c = 0; c < 4; c++) {
            sm_wbuf_t w;
            sm_wbuf_init(&w, 64);
            ck_assert_int_eq(sm_legacy_build(&w, magic, legacy_codecs[c], m, 5), SM_ERR_NONE);
            /* Flip one bit in every byte covered by the first message's CRC
             * (and in the CRC itself): always CORRUPT_MESSAGE, never a crash. */
            size_t first_end = 12 + sm_be32(w.data + 8);
            for (size_t i = 12; i < first_end; i++) {
                if (i == 16) continue;                        /* magic: may turn into another error path */
                w.data[i] ^= 0x10;
                sm_wbuf_t bw;
                sm_wbuf_init(&bw, 64);
                ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
                sm_wbuf_free(&bw);
                w.data[i] ^= 0x10;
            }
            sm_wbuf_free(&w);
        }
    }
}
END_TEST

/* Wrap raw as the value of a v1 message with attributes attr. */
static void
wrap_raw(sm_wbuf_t *w, int magic, int8_t attr, const uint8_t *raw, size_t rawlen)
{
    sm_legacy_spec_t s = { 0, 0, SM_BYTES_NULL, { (int32_t)rawlen, raw } };
    sm_wbuf_reset(w);
    sm_legacy_build(w, magic, SM_CODEC_NONE, &s, 1);
    w->data[17] = (uint8_t)attr;
    sm_put_be32(w->data + 12, (uint32_t)crc32(0, w->data + 16, (uInt)(w->len - 16)));
}

START_TEST(test_wrapper_rules)
{
    sm_legacy_spec_t m[5];
    specs5(m);
    sm_wbuf_t in, w, bw;
    sm_wbuf_init(&in, 64);
    sm_wbuf_init(&w, 64);
    sm_wbuf_init(&bw, 64);
    /* Nested compression: the inner set is itself a gzip wrapper. */
    ck_assert_int_eq(sm_legacy_build(&in, 1, SM_CODEC_GZIP, m, 2), SM_ERR_NONE);
    uint8_t *z;
    size_t zlen;
    ck_assert_int_eq(sm_compress(SM_CODEC_GZIP, in.data, in.len, &z, &zlen), SM_ERR_NONE);
    wrap_raw(&w, 1, SM_CODEC_GZIP, z, zlen);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_INVALID_RECORD);
    free(z);
    /* Inner magic differing from the wrapper's. */
    sm_wbuf_reset(&in);
    ck_assert_int_eq(sm_legacy_build(&in, 0, SM_CODEC_NONE, m, 2), SM_ERR_NONE);
    ck_assert_int_eq(sm_compress(SM_CODEC_SNAPPY, in.data, in.len, &z, &zlen), SM_ERR_NONE);
    wrap_raw(&w, 1, SM_CODEC_SNAPPY, z, zlen);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_INVALID_RECORD);
    free(z);
    /* Empty inner set, garbage compressed data, zstd, null value. */
    ck_assert_int_eq(sm_compress(SM_CODEC_GZIP, (const uint8_t *)"", 0, &z, &zlen), SM_ERR_NONE);
    wrap_raw(&w, 1, SM_CODEC_GZIP, z, zlen);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_INVALID_RECORD);
    free(z);
    wrap_raw(&w, 1, SM_CODEC_LZ4, (const uint8_t *)"garbage!", 8);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
    wrap_raw(&w, 1, SM_CODEC_ZSTD, (const uint8_t *)"x", 1);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    ck_assert_int_eq(sm_legacy_build(&bw, 1, SM_CODEC_ZSTD, m, 2), SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    sm_legacy_spec_t nullv = { 0, 0, SM_BYTES_NULL, SM_BYTES_NULL };
    sm_wbuf_reset(&w);
    sm_legacy_build(&w, 1, SM_CODEC_NONE, &nullv, 1);
    w.data[17] = SM_CODEC_GZIP;
    sm_put_be32(w.data + 12, (uint32_t)crc32(0, w.data + 16, (uInt)(w.len - 16)));
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_INVALID_RECORD);
    /* Decompression bound is honoured. */
    sm_wbuf_reset(&w);
    ck_assert_int_eq(sm_legacy_build(&w, 1, SM_CODEC_GZIP, m, 5), SM_ERR_NONE);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, 1000, NULL), SM_ERR_CORRUPT_MESSAGE);
    /* Magic 2 or garbage sizes at top level. */
    uint8_t bad[40];
    memset(bad, 0, sizeof(bad));
    sm_put_be32(bad + 8, 13);                          /* below the v0 overhead */
    ck_assert_int_eq(sm_legacy_to_batch(&bw, bad, sizeof(bad), -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
    sm_put_be32(bad + 8, 28);
    bad[16] = 2;
    sm_put_be32(bad + 12, (uint32_t)crc32(0, bad + 16, 24));
    ck_assert_int_eq(sm_legacy_to_batch(&bw, bad, sizeof(bad), -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(sm_legacy_to_batch(&bw, bad, 0, -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
    /* Key length running past the message. */
    sm_wbuf_reset(&w);
    sm_legacy_build(&w, 0, SM_CODEC_NONE, m, 1);
    sm_put_be32(w.data + 18, 100);
    sm_put_be32(w.data + 12, (uint32_t)crc32(0, w.data + 16, (uInt)(w.len - 16)));
    ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
    sm_wbuf_free(&in);
    sm_wbuf_free(&w);
    sm_wbuf_free(&bw);
}
END_TEST

START_TEST(test_lz4_quirk)
{
    ck_assert_uint_eq(sm_xxh32("", 0, 0), 0x02CC5D05u);
    /* Our "good" checksum must equal what liblz4 writes. */
    uint8_t src[300], frame[1024];
    for (size_t i = 0; i < sizeof(src); i++) src[i] = (uint8_t)(i % 13);
    for (int withsize = 0; withsize <= 1; withsize++) {
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof(prefs));
        prefs.frameInfo.blockMode = LZ4F_blockIndependent;
        prefs.frameInfo.contentSize = withsize ? sizeof(src) : 0;
        size_t n = LZ4F_compressFrame(frame, sizeof(frame), src, sizeof(src), &prefs);
        ck_assert(!LZ4F_isError(n));
        uint8_t good, broken;
        int hc = sm_lz4_header_checksums(frame, n, &good, &broken);
        ck_assert_int_eq(hc, withsize ? 14 : 6);
        ck_assert_int_eq(frame[hc], good);
        ck_assert_uint_eq(broken, (uint8_t)(sm_xxh32(frame, (size_t)hc, 0) >> 8));
    }
    ck_assert_int_eq(sm_lz4_header_checksums((const uint8_t *)"nope!!!!", 8, NULL, NULL), -1);

    sm_legacy_spec_t m[5];
    specs5(m);
    for (int magic = 0; magic <= 1; magic++) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 64);
        ck_assert_int_eq(sm_legacy_build(&w, magic, SM_CODEC_LZ4, m, 5), SM_ERR_NONE);
        size_t voff = magic ? 34 : 26;
        const uint8_t *frame0 = w.data + voff;
        size_t flen = sm_be32(w.data + voff - 4);
        uint8_t good, broken;
        int hc = sm_lz4_header_checksums(frame0, flen, &good, &broken);
        ck_assert_int_ge(hc, 6);
        ck_assert_int_ne(good, broken);            /* true for this header; makes the test meaningful */
        ck_assert_int_eq(frame0[hc], magic == 0 ? broken : good);
        expect_msgs(w.data, w.len, magic, m, 5, SM_CODEC_LZ4);
        /* Magic 0 also accepts a correct checksum (other writers). */
        if (magic == 0) {
            w.data[voff + (size_t)hc] = good;
            sm_put_be32(w.data + 12, (uint32_t)crc32(0, w.data + 16, (uInt)(w.len - 16)));
            expect_msgs(w.data, w.len, 0, m, 5, SM_CODEC_LZ4);
        } else {
            /* Magic 1 insists on the correct one, as Kafka does. */
            w.data[voff + (size_t)hc] = broken;
            sm_put_be32(w.data + 12, (uint32_t)crc32(0, w.data + 16, (uInt)(w.len - 16)));
            sm_wbuf_t bw;
            sm_wbuf_init(&bw, 64);
            ck_assert_int_eq(sm_legacy_to_batch(&bw, w.data, w.len, -1, BIG, NULL), SM_ERR_CORRUPT_MESSAGE);
            sm_wbuf_free(&bw);
        }
        sm_wbuf_free(&w);
    }
}
END_TEST

static Suite *
legacy_suite(void)
{
    Suite *s = suite_create("legacy");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_layout_golden);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_v1_relative_offsets);
    tcase_add_test(tc, test_up_down);
    tcase_add_test(tc, test_down_from_v2);
    tcase_add_test(tc, test_down_many_records);
    tcase_add_test(tc, test_truncate_every_byte);
    tcase_add_test(tc, test_truncated_inner);
    tcase_add_test(tc, test_bad_crc);
    tcase_add_test(tc, test_wrapper_rules);
    tcase_add_test(tc, test_lz4_quirk);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(legacy_suite());
}

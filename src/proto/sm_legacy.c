/*
 * sm_legacy.c - owns magic 0/1 message sets: parsing and validation
 * (framing, CRC-32, wrapper rules), the legacy builder, up-conversion to a
 * record batch v2 and down-conversion from one, and the LZ4 magic-0 header
 * checksum quirk. See sm_legacy.h for the formats.
 */
#include "proto/sm_legacy.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/sm_util.h"
#include "proto/sm_compress.h"

#define LZ4_FRAME_MAGIC 0x184D2204u

/* Readers over "nothing" point here rather than at NULL. */
static const uint8_t empty_bytes[1];

int
sm_records_magic(const uint8_t *p, size_t len)
{
    if (p == NULL || len <= SM_RECORDS_MAGIC_OFFSET) return -1;
    return (int8_t)p[SM_RECORDS_MAGIC_OFFSET];
}

/* ---- xxh32 and the LZ4 header checksum ---------------------------------- */

#define P1 2654435761u
#define P2 2246822519u
#define P3 3266489917u
#define P4 668265263u
#define P5 374761393u

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

uint32_t
sm_xxh32(const void *data, size_t len, uint32_t seed)
{
    const uint8_t *p = data, *end = p + len;
    uint32_t h;
    if (len >= 16) {
        uint32_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
        const uint8_t *limit = end - 16;
        do {
            v1 = rotl32(v1 + le32(p) * P2, 13) * P1; p += 4;
            v2 = rotl32(v2 + le32(p) * P2, 13) * P1; p += 4;
            v3 = rotl32(v3 + le32(p) * P2, 13) * P1; p += 4;
            v4 = rotl32(v4 + le32(p) * P2, 13) * P1; p += 4;
        } while (p <= limit);
        h = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
    } else {
        h = seed + P5;
    }
    h += (uint32_t)len;
    while (p + 4 <= end) { h = rotl32(h + le32(p) * P3, 17) * P4; p += 4; }
    while (p < end) { h = rotl32(h + (*p++) * P5, 11) * P1; }
    h ^= h >> 15; h *= P2; h ^= h >> 13; h *= P3; h ^= h >> 16;
    return h;
}

int
sm_lz4_header_checksums(const uint8_t *p, size_t len, uint8_t *good, uint8_t *broken)
{
    if (len < 7 || le32(p) != LZ4_FRAME_MAGIC) return -1;
    uint8_t flg = p[4];
    if ((flg >> 6) != 1) return -1;
    size_t hc = 6 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
    if (hc >= len) return -1;
    if (good) *good = (uint8_t)(sm_xxh32(p + 4, hc - 4, 0) >> 8);
    if (broken) *broken = (uint8_t)(sm_xxh32(p, hc, 0) >> 8);
    return (int)hc;
}

/* Decompress a wrapper value. Magic-0 LZ4 frames written by Kafka carry the
 * broken checksum: repair it on a copy so the standard decoder accepts it. */
static sm_err_t
wrapper_decompress(sm_codec_t codec, int magic, const uint8_t *in, size_t inlen, size_t max_out,
                   uint8_t **out, size_t *outlen)
{
    uint8_t good, broken;
    int hc;
    if (codec == SM_CODEC_LZ4 && magic == 0 && (hc = sm_lz4_header_checksums(in, inlen, &good, &broken)) >= 0 &&
        in[hc] == broken && broken != good) {
        uint8_t *copy = sm_malloc(inlen);
        memcpy(copy, in, inlen);
        copy[hc] = good;
        sm_err_t err = sm_decompress(codec, copy, inlen, max_out, out, outlen);
        free(copy);
        return err;
    }
    return sm_decompress(codec, in, inlen, max_out, out, outlen);
}

/* ---- parsing -------------------------------------------------------------- */

typedef struct {
    int64_t offset;
    int8_t magic, attributes;
    int64_t timestamp;
    sm_bytes_t key, value;
} entry_t;

/* Read one bytes field (int32 length, -1 = null) from r. */
static int
read_lbytes(sm_reader_t *r, sm_bytes_t *out)
{
    int32_t n = sm_read_i32(r);
    if (r->err) return -1;
    if (n == -1) { *out = SM_BYTES_NULL; return 0; }
    if (n < 0 || (size_t)n > sm_reader_remaining(r)) return -1;
    out->len = n;
    out->ptr = sm_read_raw(r, (size_t)n);
    return r->err ? -1 : 0;
}

/* Parse one log entry. Returns 1 ok, 0 clean end, 2 truncated entry,
 * -1 corrupt. */
static int
read_entry(sm_reader_t *r, entry_t *e)
{
    size_t left = sm_reader_remaining(r);
    if (left == 0) return 0;
    if (left < SM_LEGACY_LOG_OVERHEAD) return 2;
    e->offset = sm_read_i64(r);
    int32_t size = sm_read_i32(r);
    if (size < SM_LEGACY_V0_OVERHEAD) return -1;
    if ((size_t)size > sm_reader_remaining(r)) return 2;
    const uint8_t *msg = sm_read_raw(r, (size_t)size);
    if (msg == NULL) return -1;

    sm_reader_t m;
    sm_reader_init(&m, msg, (size_t)size);
    uint32_t crc = sm_read_u32(&m);
    e->magic = sm_read_i8(&m);
    e->attributes = sm_read_i8(&m);
    if (e->magic != 0 && e->magic != 1) return -1;
    if (e->magic == 1 && size < SM_LEGACY_V1_OVERHEAD) return -1;
    if ((uint32_t)crc32(0, msg + 4, (uInt)(size - 4)) != crc) return -1;
    e->timestamp = e->magic == 1 ? sm_read_i64(&m) : -1;
    if (read_lbytes(&m, &e->key) < 0 || read_lbytes(&m, &e->value) < 0) return -1;
    /* The sizes must account for every byte of the message. */
    if (m.err || sm_reader_remaining(&m) != 0) return -1;
    return 1;
}

void
sm_legacy_iter_init(sm_legacy_iter_t *it, const uint8_t *p, size_t len, size_t max_uncompressed, int partial_ok)
{
    memset(it, 0, sizeof(*it));
    sm_reader_init(&it->outer, p ? p : empty_bytes, p ? len : 0);
    sm_reader_init(&it->inner, empty_bytes, 0);
    it->max_uncompressed = max_uncompressed;
    it->partial_ok = partial_ok;
}

/* Done with the current wrapper's buffer: free it, or park it (keep_all). */
static void
drop_wrapper(sm_legacy_iter_t *it)
{
    if (it->owned && it->keep_all) {
        if (it->nkept == it->kept_cap) {
            it->kept_cap = it->kept_cap ? it->kept_cap * 2 : 4;
            it->kept = sm_realloc(it->kept, it->kept_cap * sizeof(*it->kept));
        }
        it->kept[it->nkept++] = it->owned;
    } else {
        free(it->owned);
    }
    it->owned = NULL;
    it->in_wrapper = 0;
    sm_reader_init(&it->inner, empty_bytes, 0);
}

void
sm_legacy_iter_free(sm_legacy_iter_t *it)
{
    free(it->owned);
    it->owned = NULL;
    it->in_wrapper = 0;
    for (size_t i = 0; i < it->nkept; i++) free(it->kept[i]);
    free(it->kept);
    it->kept = NULL;
    it->nkept = it->kept_cap = 0;
}

static int
iter_fail(sm_legacy_iter_t *it, sm_err_t err)
{
    it->err = err;
    drop_wrapper(it);
    return -1;
}

/* Decompress and pre-validate a wrapper, then point it->inner at it. */
static int
enter_wrapper(sm_legacy_iter_t *it, const entry_t *w)
{
    sm_codec_t codec = (sm_codec_t)(w->attributes & SM_ATTR_CODEC_MASK);
    if (codec > SM_CODEC_LZ4) return iter_fail(it, SM_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    if (w->value.len < 0) return iter_fail(it, SM_ERR_INVALID_RECORD);
    uint8_t *out = NULL;
    size_t outlen = 0;
    sm_err_t err = wrapper_decompress(codec, w->magic, w->value.ptr, (size_t)w->value.len, it->max_uncompressed,
                                      &out, &outlen);
    if (err != SM_ERR_NONE) return iter_fail(it, err == SM_ERR_UNSUPPORTED_COMPRESSION_TYPE ? err : SM_ERR_CORRUPT_MESSAGE);
    drop_wrapper(it);
    it->owned = out;

    /* One pass over the inner set: every message valid, uncompressed, of the
     * wrapper's magic; and the last relative offset for v1. */
    sm_reader_t r;
    entry_t e;
    int n = 0, rc;
    int64_t last = 0;
    sm_reader_init(&r, out ? out : empty_bytes, outlen);
    while ((rc = read_entry(&r, &e)) == 1) {
        if (e.attributes & SM_ATTR_CODEC_MASK) return iter_fail(it, SM_ERR_INVALID_RECORD);
        if (e.magic != w->magic) return iter_fail(it, SM_ERR_INVALID_RECORD);
        last = e.offset;
        n++;
    }
    if (rc != 0) return iter_fail(it, SM_ERR_CORRUPT_MESSAGE);
    if (n == 0) return iter_fail(it, SM_ERR_INVALID_RECORD);

    sm_reader_init(&it->inner, out ? out : empty_bytes, outlen);
    it->in_wrapper = 1;
    it->w_magic = w->magic;
    it->w_codec = codec;
    it->last_codec = codec;
    it->w_log_append = w->magic == 1 && (w->attributes & SM_LEGACY_ATTR_LOG_APPEND_TIME);
    it->w_timestamp = w->timestamp;
    it->inner_delta = w->magic == 1 ? w->offset - last : 0;
    return 0;
}

int
sm_legacy_iter_next(sm_legacy_iter_t *it, sm_legacy_msg_t *m)
{
    entry_t e;
    if (it->err != SM_ERR_NONE) return -1;
    for (;;) {
        if (it->in_wrapper) {
            int rc = read_entry(&it->inner, &e);
            if (rc == 1) {
                m->offset = e.offset + it->inner_delta;
                m->magic = e.magic;
                m->attributes = e.attributes;
                m->timestamp = it->w_log_append ? it->w_timestamp : e.timestamp;
                m->codec = it->w_codec;
                m->key = e.key;
                m->value = e.value;
                return 1;
            }
            if (rc != 0) return iter_fail(it, SM_ERR_CORRUPT_MESSAGE);   /* validated already; defensive */
            drop_wrapper(it);
        }
        int rc = read_entry(&it->outer, &e);
        if (rc == 0) return 0;
        if (rc == 2) {
            if (it->partial_ok) { it->outer.pos = it->outer.end; return 0; }
            return iter_fail(it, SM_ERR_CORRUPT_MESSAGE);
        }
        if (rc < 0) return iter_fail(it, SM_ERR_CORRUPT_MESSAGE);
        if ((e.attributes & SM_ATTR_CODEC_MASK) == 0) {
            m->offset = e.offset;
            m->magic = e.magic;
            m->attributes = e.attributes;
            m->timestamp = e.timestamp;
            m->codec = SM_CODEC_NONE;
            m->key = e.key;
            m->value = e.value;
            return 1;
        }
        if (enter_wrapper(it, &e) < 0) return -1;
    }
}

/* ---- building ------------------------------------------------------------- */

/* One entry: offset | size | crc | magic | attributes | [ts] | key | value. */
static void
write_message(sm_wbuf_t *w, int magic, int8_t attributes, int64_t offset, int64_t ts, sm_bytes_t key,
              sm_bytes_t value)
{
    sm_write_i64(w, offset);
    size_t size_at = sm_wbuf_reserve_i32(w);
    size_t crc_at = w->len;
    sm_write_u32(w, 0);
    sm_write_i8(w, (int8_t)magic);
    sm_write_i8(w, attributes);
    if (magic == 1) sm_write_i64(w, ts);
    sm_write_i32(w, key.len < 0 ? -1 : key.len);
    if (key.len > 0) sm_write_raw(w, key.ptr, (size_t)key.len);
    sm_write_i32(w, value.len < 0 ? -1 : value.len);
    if (value.len > 0) sm_write_raw(w, value.ptr, (size_t)value.len);
    size_t size = w->len - crc_at;
    sm_wbuf_patch_i32(w, size_at, (int32_t)size);
    sm_put_be32(w->data + crc_at, (uint32_t)crc32(0, w->data + crc_at + 4, (uInt)(size - 4)));
}

static sm_err_t
build(sm_wbuf_t *w, int magic, sm_codec_t codec, const sm_legacy_spec_t *m, int n, int broken_lz4)
{
    if (magic != 0 && magic != 1) return SM_ERR__FAIL;
    if (codec > SM_CODEC_LZ4) return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (codec == SM_CODEC_NONE) {
        for (int i = 0; i < n; i++) write_message(w, magic, 0, m[i].offset, m[i].timestamp, m[i].key, m[i].value);
        return SM_ERR_NONE;
    }
    if (n <= 0) return SM_ERR_NONE;

    sm_wbuf_t inner;
    int64_t max_ts = -1;
    sm_wbuf_init(&inner, 256);
    for (int i = 0; i < n; i++) {
        int64_t off = magic == 1 ? m[i].offset - m[0].offset : m[i].offset;
        write_message(&inner, magic, 0, off, m[i].timestamp, m[i].key, m[i].value);
        if (m[i].timestamp > max_ts) max_ts = m[i].timestamp;
    }
    uint8_t *z = NULL;
    size_t zlen = 0;
    sm_err_t err = sm_compress(codec, inner.data, inner.len, &z, &zlen);
    sm_wbuf_free(&inner);
    if (err != SM_ERR_NONE) return err;
    if (codec == SM_CODEC_LZ4 && magic == 0 && broken_lz4) {
        /* Match what Kafka writes for magic 0 (and what its reader expects). */
        uint8_t broken;
        int hc = sm_lz4_header_checksums(z, zlen, NULL, &broken);
        if (hc >= 0) z[hc] = broken;
    }
    if (zlen > INT32_MAX - 64) { free(z); return SM_ERR_MESSAGE_TOO_LARGE; }
    write_message(w, magic, (int8_t)codec, m[n - 1].offset, max_ts, SM_BYTES_NULL,
                  (sm_bytes_t){ (int32_t)zlen, z });
    free(z);
    return SM_ERR_NONE;
}

sm_err_t
sm_legacy_build(sm_wbuf_t *w, int magic, sm_codec_t codec, const sm_legacy_spec_t *m, int n)
{
    return build(w, magic, codec, m, n, 1);
}

/* ---- conversions ---------------------------------------------------------- */

sm_err_t
sm_legacy_to_batch(sm_wbuf_t *w, const uint8_t *p, size_t len, int target_codec, size_t max_uncompressed,
                   int *nrecords)
{
    sm_legacy_iter_t it;
    sm_legacy_msg_t msg;
    sm_record_spec_t *specs = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (nrecords) *nrecords = 0;
    if (target_codec > (int)SM_CODEC_ZSTD) return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    sm_legacy_iter_init(&it, p, len, max_uncompressed, 0);
    it.keep_all = 1;     /* all views must live until the batch is built */
    while ((rc = sm_legacy_iter_next(&it, &msg)) == 1) {
        if (n >= INT32_MAX - 1) { rc = -1; it.err = SM_ERR_MESSAGE_TOO_LARGE; break; }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            specs = sm_realloc(specs, cap * sizeof(*specs));
        }
        memset(&specs[n], 0, sizeof(specs[n]));
        specs[n].timestamp = msg.timestamp;
        specs[n].key = msg.key;
        specs[n].value = msg.value;
        n++;
    }
    sm_err_t err = rc < 0 ? it.err : SM_ERR_NONE;
    if (err == SM_ERR_NONE && n == 0) err = SM_ERR_CORRUPT_MESSAGE;
    if (err == SM_ERR_NONE) {
        sm_codec_t codec = target_codec >= 0 ? (sm_codec_t)target_codec : it.last_codec;
        err = sm_batch_build(w, 0, codec, specs, (int)n);
        if (err == SM_ERR_NONE && nrecords) *nrecords = (int)n;
    }
    sm_legacy_iter_free(&it);
    free(specs);
    return err;
}

sm_err_t
sm_legacy_from_batch(sm_wbuf_t *w, int magic, const uint8_t *batch, size_t len, int64_t first_offset,
                     size_t max_uncompressed)
{
    sm_record_iter_t it;
    sm_record_t rec;
    sm_batch_hdr_t h;

    if (sm_batch_header_decode(batch, len, &h) < 0 || sm_batch_size(&h) > len) return SM_ERR_CORRUPT_MESSAGE;
    if (h.attributes & SM_ATTR_CONTROL) return SM_ERR_NONE;
    sm_codec_t codec = sm_batch_codec(&h);
    if (codec == SM_CODEC_ZSTD) return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (codec > SM_CODEC_ZSTD) return SM_ERR_CORRUPT_MESSAGE;
    sm_err_t err = sm_record_iter_init(&it, batch, sm_batch_size(&h), max_uncompressed);
    if (err != SM_ERR_NONE) { sm_record_iter_free(&it); return err; }

    int lat = (h.attributes & SM_ATTR_LOG_APPEND_TIME) != 0;
    /* recordCount is untrusted and a compressed batch may hold far more
     * records than bytes: grow as records actually decode. */
    sm_legacy_spec_t stack[64];
    sm_legacy_spec_t *specs = stack;
    size_t cap = 64;
    int n = 0, rc;
    while ((rc = sm_record_iter_next(&it, &rec)) == 1) {
        if (codec == SM_CODEC_NONE && rec.offset < first_offset) continue;
        if ((size_t)n == cap) {
            if (n >= INT32_MAX / 2) { rc = -1; break; }
            cap *= 2;
            if (specs == stack) {
                specs = sm_malloc(cap * sizeof(*specs));
                memcpy(specs, stack, sizeof(stack));
            } else {
                specs = sm_realloc(specs, cap * sizeof(*specs));
            }
        }
        specs[n].offset = rec.offset;
        specs[n].timestamp = lat ? h.max_timestamp : rec.timestamp;
        specs[n].key = rec.key;
        specs[n].value = rec.value;
        n++;
    }
    if (rc < 0) err = SM_ERR_CORRUPT_MESSAGE;
    else if (n > 0) err = build(w, magic, codec, specs, n, 0);
    if (specs != stack) free(specs);
    sm_record_iter_free(&it);
    return err;
}

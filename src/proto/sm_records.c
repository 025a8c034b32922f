/*
 * sm_records.c - owns record batch v2 (magic 2) handling: fixed-header decode,
 * CRC-32C integrity, client-batch validation, record/header iteration over
 * (decompressed) batches, in-place stamping of broker-assigned fields, and
 * the batch builder used by tools and tests.
 *
 * Nothing here allocates per record: the iterator hands out views into the
 * batch (or into one decompressed copy per batch).
 */
#include "proto/sm_records.h"

#include <stdlib.h>
#include <string.h>

#include "core/sm_crc32c.h"
#include "core/sm_util.h"
#include "proto/sm_compress.h"

#define BATCH_MAGIC_OFFSET 16
#define BATCH_MAXTS_OFFSET 35
#define BATCH_MAGIC_V2 2
/* Smallest batchLength: the 61-byte header minus baseOffset and batchLength. */
#define BATCH_MIN_LENGTH (SM_BATCH_HEADER_SIZE - SM_BATCH_LOG_OVERHEAD)

/* Readers over "nothing" point here rather than at NULL (NULL + 0 is UB). */
static const uint8_t empty_bytes[1];

int
sm_batch_header_decode(const uint8_t *p, size_t len, sm_batch_hdr_t *h)
{
    if (len < SM_BATCH_HEADER_SIZE) return -1;
    h->base_offset = (int64_t)sm_be64(p);
    h->batch_length = (int32_t)sm_be32(p + 8);
    h->partition_leader_epoch = (int32_t)sm_be32(p + 12);
    h->magic = (int8_t)p[BATCH_MAGIC_OFFSET];
    h->crc = sm_be32(p + SM_BATCH_CRC_OFFSET);
    h->attributes = (int16_t)sm_be16(p + SM_BATCH_ATTR_OFFSET);
    h->last_offset_delta = (int32_t)sm_be32(p + 23);
    h->base_timestamp = (int64_t)sm_be64(p + 27);
    h->max_timestamp = (int64_t)sm_be64(p + BATCH_MAXTS_OFFSET);
    h->producer_id = (int64_t)sm_be64(p + 43);
    h->producer_epoch = (int16_t)sm_be16(p + 51);
    h->base_sequence = (int32_t)sm_be32(p + 53);
    h->record_count = (int32_t)sm_be32(p + 57);
    if (h->magic != BATCH_MAGIC_V2) return -1;
    if (h->batch_length < BATCH_MIN_LENGTH) return -1;
    return 0;
}

sm_err_t
sm_batch_check_crc(const uint8_t *p, size_t len, sm_batch_hdr_t *h)
{
    if (sm_batch_header_decode(p, len, h) != 0) return SM_ERR_CORRUPT_MESSAGE;
    size_t size = sm_batch_size(h);
    if (size > len) return SM_ERR_CORRUPT_MESSAGE;
    uint32_t crc = sm_crc32c(0, p + SM_BATCH_ATTR_OFFSET, size - SM_BATCH_ATTR_OFFSET);
    return crc == h->crc ? SM_ERR_NONE : SM_ERR_CORRUPT_MESSAGE;
}

/* ---- iteration ----------------------------------------------------------- */

sm_err_t
sm_record_iter_init(sm_record_iter_t *it, const uint8_t *batch, size_t len, size_t max_uncompressed)
{
    memset(it, 0, sizeof(*it));
    sm_reader_init(&it->r, empty_bytes, 0);
    sm_err_t err = sm_batch_check_crc(batch, len, &it->hdr);
    if (err != SM_ERR_NONE) return err;
    if (it->hdr.record_count < 0) return SM_ERR_CORRUPT_MESSAGE;

    const uint8_t *recs = batch + SM_BATCH_HEADER_SIZE;
    size_t recs_len = sm_batch_size(&it->hdr) - SM_BATCH_HEADER_SIZE;
    sm_codec_t codec = sm_batch_codec(&it->hdr);
    if (codec == SM_CODEC_NONE) {
        sm_reader_init(&it->r, recs, recs_len);
        return SM_ERR_NONE;
    }
    if (codec > SM_CODEC_ZSTD) return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    size_t outlen = 0;
    err = sm_decompress(codec, recs, recs_len, max_uncompressed, &it->owned, &outlen);
    if (err != SM_ERR_NONE) {
        /* Never let an internal failure look like "try again". */
        return err == SM_ERR_UNSUPPORTED_COMPRESSION_TYPE ? err : SM_ERR_CORRUPT_MESSAGE;
    }
    sm_reader_init(&it->r, it->owned, outlen);
    return SM_ERR_NONE;
}

/* A varint length prefix followed by that many bytes; -1 means null when
 * nullable. Returns the view; fails the reader on anything else. */
static sm_bytes_t
read_varbytes(sm_reader_t *r, int nullable)
{
    sm_bytes_t b = SM_BYTES_NULL;
    int32_t n = sm_read_varint(r);
    if (r->err) return b;
    if (n < 0) {
        if (n != -1 || !nullable) sm_reader_fail(r);
        return b;
    }
    const uint8_t *p = sm_read_raw(r, (size_t)n);
    if (p == NULL) return b;
    b.len = n;
    b.ptr = p;
    return b;
}

int
sm_record_iter_next(sm_record_iter_t *it, sm_record_t *rec)
{
    if (it->r.err) return -1;
    if (it->index >= it->hdr.record_count) return 0;

    sm_reader_t *r = &it->r;
    int32_t rlen = sm_read_varint(r);
    if (r->err || rlen < 0) { sm_reader_fail(r); return -1; }
    const uint8_t *body = sm_read_raw(r, (size_t)rlen);
    if (body == NULL) return -1;

    /* Parse inside exactly rlen bytes: DefaultRecord rejects a record whose
     * fields do not add up to its declared length. */
    sm_reader_t rr;
    sm_reader_init(&rr, body, (size_t)rlen);
    (void)sm_read_i8(&rr);                             /* attributes: unused */
    int64_t ts_delta = sm_read_varlong(&rr);
    int32_t off_delta = sm_read_varint(&rr);
    rec->key = read_varbytes(&rr, 1);
    rec->value = read_varbytes(&rr, 1);
    int32_t nh = sm_read_varint(&rr);
    if (!rr.err && nh < 0) sm_reader_fail(&rr);
    const uint8_t *hstart = rr.pos;
    for (int32_t i = 0; i < nh && !rr.err; i++) {
        (void)read_varbytes(&rr, 0);                   /* header key: never null */
        (void)read_varbytes(&rr, 1);
    }
    if (rr.err || sm_reader_remaining(&rr) != 0) { sm_reader_fail(r); return -1; }

    /* Wrapping arithmetic: hostile deltas must not be signed-overflow UB. */
    rec->offset = (int64_t)((uint64_t)it->hdr.base_offset + (uint64_t)(int64_t)off_delta);
    rec->timestamp = (int64_t)((uint64_t)it->hdr.base_timestamp + (uint64_t)ts_delta);
    rec->header_count = nh;
    rec->headers = hstart;
    rec->headers_len = (size_t)(rr.pos - hstart);
    it->index++;
    return 1;
}

void
sm_record_iter_free(sm_record_iter_t *it)
{
    free(it->owned);
    it->owned = NULL;
    sm_reader_init(&it->r, empty_bytes, 0);
}

int
sm_record_header_next(sm_reader_t *hr, sm_bytes_t *key, sm_bytes_t *value)
{
    if (hr->err) return -1;
    if (sm_reader_remaining(hr) == 0) return 0;
    *key = read_varbytes(hr, 0);
    *value = read_varbytes(hr, 1);
    return hr->err ? -1 : 1;
}

/* ---- validation ---------------------------------------------------------- */

sm_err_t
sm_batch_validate(const uint8_t *p, size_t len, size_t max_uncompressed, sm_batch_hdr_t *h)
{
    sm_err_t err = sm_batch_check_crc(p, len, h);
    if (err != SM_ERR_NONE) return err;
    /* One batch exactly: a trailing partial batch in a Produce is corrupt. */
    if (sm_batch_size(h) != len) return SM_ERR_CORRUPT_MESSAGE;
    if (sm_batch_codec(h) > SM_CODEC_ZSTD) return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (h->attributes & SM_ATTR_CONTROL) return SM_ERR_INVALID_RECORD;
    /* lastOffset - baseOffset + 1 == recordCount > 0 (LogValidator). */
    if (h->record_count <= 0 || (int64_t)h->last_offset_delta != (int64_t)h->record_count - 1)
        return SM_ERR_INVALID_RECORD;

    sm_record_iter_t it;
    err = sm_record_iter_init(&it, p, len, max_uncompressed);
    if (err != SM_ERR_NONE) { sm_record_iter_free(&it); return err; }

    sm_record_t rec;
    int rc;
    int32_t expect = 0;
    while ((rc = sm_record_iter_next(&it, &rec)) == 1) {
        if ((uint64_t)rec.offset - (uint64_t)it.hdr.base_offset != (uint64_t)(int64_t)expect) { err = SM_ERR_INVALID_RECORD; break; }
        expect++;
    }
    if (err == SM_ERR_NONE) {
        if (rc < 0) err = SM_ERR_CORRUPT_MESSAGE;
        /* recordCount records consumed; anything left over means the count
         * or the batch length lies. */
        else if (sm_reader_remaining(&it.r) != 0) err = SM_ERR_CORRUPT_MESSAGE;
    }
    sm_record_iter_free(&it);
    return err;
}

/* ---- stamping ------------------------------------------------------------ */

void
sm_batch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
    sm_put_be64(batch, (uint64_t)base_offset);
}

void
sm_batch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
    sm_put_be32(batch + 12, (uint32_t)epoch);
}

void
sm_batch_set_log_append_time(uint8_t *batch, size_t len, int64_t ts)
{
    if (len < SM_BATCH_HEADER_SIZE) return;
    uint16_t attr = sm_be16(batch + SM_BATCH_ATTR_OFFSET) | SM_ATTR_LOG_APPEND_TIME;
    sm_put_be16(batch + SM_BATCH_ATTR_OFFSET, attr);
    sm_put_be64(batch + BATCH_MAXTS_OFFSET, (uint64_t)ts);
    /* Cover the batch as declared, never past what the caller gave us. */
    size_t size = SM_BATCH_LOG_OVERHEAD + (size_t)(uint32_t)sm_be32(batch + 8);
    if (size > len) size = len;
    if (size < SM_BATCH_HEADER_SIZE) return;   /* not a complete batch */
    sm_put_be32(batch + SM_BATCH_CRC_OFFSET,
                sm_crc32c(0, batch + SM_BATCH_ATTR_OFFSET, size - SM_BATCH_ATTR_OFFSET));
}

/* ---- builder ------------------------------------------------------------- */

static size_t
varlong_size(int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (u >= 0x80) { u >>= 7; n++; }
    return n;
}

static size_t
varbytes_size(sm_bytes_t b)
{
    return b.len < 0 ? varlong_size(-1) : varlong_size(b.len) + (size_t)b.len;
}

static void
write_varbytes(sm_wbuf_t *w, sm_bytes_t b)
{
    if (b.len < 0) { sm_write_varint(w, -1); return; }
    sm_write_varint(w, b.len);
    sm_write_raw(w, b.ptr, (size_t)b.len);
}

static void
write_record(sm_wbuf_t *w, const sm_record_spec_t *s, int32_t index, int64_t base_ts)
{
    int64_t ts_delta = (int64_t)((uint64_t)s->timestamp - (uint64_t)base_ts);
    /* Body size first, so the length prefix needs no scratch copy. */
    size_t body = 1 + varlong_size(ts_delta) + varlong_size(index) +
                  varbytes_size(s->key) + varbytes_size(s->value) + varlong_size(s->nheaders);
    for (int i = 0; i < s->nheaders; i++)
        body += varbytes_size(s->header_keys[i]) + varbytes_size(s->header_values[i]);
    sm_write_varint(w, (int32_t)body);
    sm_write_i8(w, 0);
    sm_write_varlong(w, ts_delta);
    sm_write_varint(w, index);
    write_varbytes(w, s->key);
    write_varbytes(w, s->value);
    sm_write_varint(w, s->nheaders);
    for (int i = 0; i < s->nheaders; i++) {
        write_varbytes(w, s->header_keys[i]);
        write_varbytes(w, s->header_values[i]);
    }
}

sm_err_t
sm_batch_build(sm_wbuf_t *w, int64_t base_offset, sm_codec_t codec,
               const sm_record_spec_t *recs, int n)
{
    if ((unsigned)codec > SM_CODEC_ZSTD) return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (n < 0) return SM_ERR__FAIL;

    /* DefaultRecordBatch: firstTimestamp is the first record's, -1 if empty. */
    int64_t base_ts = n > 0 ? recs[0].timestamp : -1;
    int64_t max_ts = -1;
    for (int i = 0; i < n; i++)
        if (recs[i].timestamp > max_ts) max_ts = recs[i].timestamp;

    size_t start = w->len;
    sm_write_i64(w, base_offset);
    sm_write_i32(w, 0);                       /* batchLength, patched below */
    sm_write_i32(w, -1);                      /* partitionLeaderEpoch */
    sm_write_i8(w, BATCH_MAGIC_V2);
    sm_write_u32(w, 0);                       /* crc, patched below */
    sm_write_i16(w, (int16_t)codec);
    sm_write_i32(w, n - 1);                   /* lastOffsetDelta */
    sm_write_i64(w, base_ts);
    sm_write_i64(w, max_ts);
    sm_write_i64(w, -1);                      /* producerId */
    sm_write_i16(w, -1);                      /* producerEpoch */
    sm_write_i32(w, -1);                      /* baseSequence */
    sm_write_i32(w, n);                       /* recordCount */

    if (codec == SM_CODEC_NONE) {
        for (int i = 0; i < n; i++) write_record(w, &recs[i], i, base_ts);
    } else {
        sm_wbuf_t raw;
        uint8_t *z = NULL;
        size_t zlen = 0;
        sm_wbuf_init(&raw, 256);
        for (int i = 0; i < n; i++) write_record(&raw, &recs[i], i, base_ts);
        sm_err_t err = sm_compress(codec, raw.data, raw.len, &z, &zlen);
        sm_wbuf_free(&raw);
        if (err != SM_ERR_NONE) { w->len = start; return err; }
        sm_write_raw(w, z, zlen);
        free(z);
    }

    size_t total = w->len - start;
    sm_put_be32(w->data + start + 8, (uint32_t)(total - SM_BATCH_LOG_OVERHEAD));
    sm_put_be32(w->data + start + SM_BATCH_CRC_OFFSET,
                sm_crc32c(0, w->data + start + SM_BATCH_ATTR_OFFSET, total - SM_BATCH_ATTR_OFFSET));
    return SM_ERR_NONE;
}

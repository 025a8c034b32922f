/*
 * sm_convert.c - owns the broker side of message-format conversion: legacy
 * Produce data into the magic-2 log, the topic's compression and timestamp
 * policy on append, chunked down-conversion for old Fetch versions, and
 * ListOffsets v0. The format work itself lives in proto/sm_legacy.c; the
 * handlers in sm_handlers.c / sm_fetch.c call in here with one line each.
 */
#include "server/sm_convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sm_crc32c.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "proto/sm_legacy.h"
#include "proto/sm_records.h"
#include "server/sm_server.h"

size_t
sm_convert_max_uncompressed(const sm_log_config_t *cfg)
{
    int64_t m = 8 * (int64_t)cfg->max_message_bytes;
    return (size_t)(m > (64 << 20) ? m : (64 << 20));
}

/* ---- Produce -------------------------------------------------------------- */

sm_err_t
sm_convert_produce_legacy(const sm_log_config_t *cfg, sm_bytes_t *rec, uint8_t **owned)
{
    *owned = NULL;
    if (rec->len < 0) return SM_ERR_CORRUPT_MESSAGE;
    int magic = sm_records_magic(rec->ptr, (size_t)rec->len);
    if (magic == 2) return SM_ERR_NONE;                 /* the normal path checks it */
    if (magic != 0 && magic != 1) return SM_ERR_CORRUPT_MESSAGE;

    sm_wbuf_t w;
    sm_wbuf_init(&w, (size_t)rec->len + SM_BATCH_HEADER_SIZE);
    sm_err_t err = sm_legacy_to_batch(&w, rec->ptr, (size_t)rec->len, cfg->compression_type,
                                      sm_convert_max_uncompressed(cfg), NULL);
    if (err != SM_ERR_NONE) { sm_wbuf_free(&w); return err; }
    size_t len;
    *owned = sm_wbuf_steal(&w, &len);
    *rec = (sm_bytes_t){ (int32_t)len, *owned };
    return SM_ERR_NONE;
}

/* Rebuild a validated batch with another codec into *out, keeping producer
 * id/epoch/sequence and record headers. */
static sm_err_t
recompress(const uint8_t *batch, size_t len, sm_codec_t codec, size_t max_unc, sm_wbuf_t *out)
{
    sm_record_iter_t it;
    sm_record_t r;
    sm_err_t err = sm_record_iter_init(&it, batch, len, max_unc);
    if (err != SM_ERR_NONE) { sm_record_iter_free(&it); return err; }
    size_t n = 0, cap = 0, nh = 0, hcap = 0;
    sm_record_spec_t *specs = NULL;
    sm_bytes_t *hk = NULL, *hv = NULL;
    size_t *hstart = NULL;
    int rc;
    while ((rc = sm_record_iter_next(&it, &r)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            specs = sm_realloc(specs, cap * sizeof(*specs));
            hstart = sm_realloc(hstart, cap * sizeof(*hstart));
        }
        memset(&specs[n], 0, sizeof(specs[n]));
        specs[n].timestamp = r.timestamp;
        specs[n].key = r.key;
        specs[n].value = r.value;
        hstart[n] = nh;
        sm_reader_t hr;
        sm_reader_init(&hr, r.headers ? r.headers : (const uint8_t *)"", r.headers_len);
        sm_bytes_t k, v;
        int hrc;
        while ((hrc = sm_record_header_next(&hr, &k, &v)) == 1) {
            if (nh == hcap) {
                hcap = hcap ? hcap * 2 : 16;
                hk = sm_realloc(hk, hcap * sizeof(*hk));
                hv = sm_realloc(hv, hcap * sizeof(*hv));
            }
            hk[nh] = k;
            hv[nh] = v;
            nh++;
        }
        if (hrc < 0) { rc = -1; break; }
        specs[n].nheaders = (int)(nh - hstart[n]);
        n++;
    }
    if (rc < 0) err = SM_ERR_CORRUPT_MESSAGE;
    if (err == SM_ERR_NONE) {
        /* The header arrays may have moved while growing: point now. */
        for (size_t i = 0; i < n; i++)
            if (specs[i].nheaders) { specs[i].header_keys = hk + hstart[i]; specs[i].header_values = hv + hstart[i]; }
        size_t at = out->len;
        err = sm_batch_build(out, 0, codec, specs, (int)n);
        if (err == SM_ERR_NONE) {
            uint8_t *b = out->data + at;
            size_t blen = out->len - at;
            /* producerId, producerEpoch, baseSequence and the attribute bits
             * other than the codec come from the original batch. */
            memcpy(b + 43, batch + 43, 8 + 2 + 4);
            uint16_t attr = (uint16_t)((sm_be16(batch + SM_BATCH_ATTR_OFFSET) & ~SM_ATTR_CODEC_MASK) | codec);
            sm_put_be16(b + SM_BATCH_ATTR_OFFSET, attr);
            sm_put_be32(b + SM_BATCH_CRC_OFFSET, sm_crc32c(0, b + SM_BATCH_ATTR_OFFSET, blen - SM_BATCH_ATTR_OFFSET));
        }
    }
    sm_record_iter_free(&it);
    free(specs);
    free(hstart);
    free(hk);
    free(hv);
    return err;
}

sm_err_t
sm_convert_topic_policy(const sm_log_config_t *cfg, sm_bytes_t *rec, uint8_t **owned, int64_t now_ms)
{
    sm_batch_hdr_t h;
    if (rec->len < SM_BATCH_HEADER_SIZE || sm_batch_header_decode(rec->ptr, (size_t)rec->len, &h) < 0)
        return SM_ERR_CORRUPT_MESSAGE;

    if (!cfg->message_timestamp_log_append && cfg->message_timestamp_difference_max_ms < INT64_MAX) {
        int64_t maxd = cfg->message_timestamp_difference_max_ms;
        sm_record_iter_t it;
        sm_record_t r;
        sm_err_t err = sm_record_iter_init(&it, rec->ptr, (size_t)rec->len, sm_convert_max_uncompressed(cfg));
        int rc = err == SM_ERR_NONE ? 0 : -1;
        while (err == SM_ERR_NONE && (rc = sm_record_iter_next(&it, &r)) == 1) {
            if (r.timestamp == -1) continue;                 /* NO_TIMESTAMP is exempt */
            int64_t d = r.timestamp > now_ms ? r.timestamp - now_ms : now_ms - r.timestamp;
            if (d > maxd || d < 0) { err = SM_ERR_INVALID_TIMESTAMP; break; }
        }
        if (err == SM_ERR_NONE && rc < 0) err = SM_ERR_CORRUPT_MESSAGE;
        sm_record_iter_free(&it);
        if (err != SM_ERR_NONE) return err;
    }

    if (cfg->compression_type < 0 || cfg->compression_type == (int)sm_batch_codec(&h)) return SM_ERR_NONE;
    sm_wbuf_t w;
    sm_wbuf_init(&w, (size_t)rec->len + 64);
    sm_err_t err = recompress(rec->ptr, (size_t)rec->len, (sm_codec_t)cfg->compression_type, sm_convert_max_uncompressed(cfg), &w);
    if (err != SM_ERR_NONE) { sm_wbuf_free(&w); return err; }
    size_t len;
    uint8_t *nb = sm_wbuf_steal(&w, &len);
    free(*owned);
    *owned = nb;
    *rec = (sm_bytes_t){ (int32_t)len, nb };
    return SM_ERR_NONE;
}

/* ---- Fetch ---------------------------------------------------------------- */

/* pread exactly n bytes at pos. 0 or -1. */
static int
pread_full(int fd, uint8_t *buf, size_t n, int64_t pos)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(pos + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

#define FETCH_WINDOW (64 * 1024)

/* Fill *buf with the file bytes [pos, pos + n) where n is at least `need`
 * and at most FETCH_WINDOW (or need, if larger), never past end. 0 / -1. */
static int
read_window(int fd, uint8_t **buf, size_t *cap, int64_t pos, int64_t end, size_t need, size_t *len)
{
    size_t n = need > FETCH_WINDOW ? need : FETCH_WINDOW;
    if ((int64_t)n > end - pos) n = (size_t)(end - pos);
    if (n < need) return -1;
    if (n > *cap) {
        *cap = n;
        *buf = sm_realloc(*buf, n);
    }
    if (pread_full(fd, *buf, n, pos) < 0) return -1;
    *len = n;
    return 0;
}

sm_err_t
sm_convert_fetch(int16_t api_version, const char *topic, int64_t fetch_offset, int32_t limit, int first,
                 sm_log_region_t *reg, sm_fetch_resp_part_t *op, sm_arena_t *a)
{
    if (api_version >= 10) return SM_ERR_NONE;
    sm_log_config_t cfg;
    sm_topic_log_config(NULL, topic, &cfg, NULL);
    if (cfg.compression_type == SM_CODEC_ZSTD) {
        sm_file_unref(reg->file);
        reg->file = NULL;
        reg->len = 0;
        return SM_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (api_version >= 4) return SM_ERR_NONE;

    int magic = api_version <= 1 ? 0 : 1;
    int hard = api_version <= 2;
    size_t lim = limit > 0 ? (size_t)limit : 0;
    sm_err_t err = SM_ERR_NONE;
    sm_wbuf_t out;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    sm_wbuf_init(&out, 1024);

    /* Batches are read through a window of at least 64 KiB (one pread
     * serves many small batches) and converted one at a time, so the only
     * buffers beyond the output are the window and one batch's records. */
    int64_t pos = reg->pos, end = reg->pos + reg->len;
    int64_t win_pos = pos;
    size_t win_len = 0;
    while (reg->file && pos + SM_BATCH_HEADER_SIZE <= end) {
        if (pos + SM_BATCH_HEADER_SIZE > win_pos + (int64_t)win_len) {
            if (read_window(reg->file->fd, &buf, &bufcap, pos, end, SM_BATCH_HEADER_SIZE, &win_len) < 0) {
                if (out.len == 0) err = SM_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            win_pos = pos;
        }
        const uint8_t *bp = buf + (pos - win_pos);
        sm_batch_hdr_t h;
        if (sm_batch_header_decode(bp, SM_BATCH_HEADER_SIZE, &h) < 0) break;
        size_t size = sm_batch_size(&h);
        if ((int64_t)size > end - pos) break;
        if (pos + (int64_t)size > win_pos + (int64_t)win_len) {
            if (read_window(reg->file->fd, &buf, &bufcap, pos, end, size, &win_len) < 0) {
                if (out.len == 0) err = SM_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            win_pos = pos;
            bp = buf;
        }
        size_t before = out.len;
        sm_err_t e = sm_legacy_from_batch(&out, magic, bp, size, fetch_offset, sm_convert_max_uncompressed(&cfg));
        if (e != SM_ERR_NONE) {
            /* zstd (or a damaged batch) ends the conversion; only when
             * nothing precedes it is it this partition's error. */
            out.len = before;
            if (before == 0) err = e;
            sm_log_debug("samsa.server", "[KafkaApi broker=%d] Down-conversion of %s at offset %lld stopped: %s",
                         sm_srv.cfg.broker_id, topic, (long long)h.base_offset, sm_err_name(e));
            break;
        }
        if (out.len > lim) {
            if (before > 0) out.len = before;                 /* next fetch gets it */
            else if (hard) out.len = lim;                     /* partial message: client grows its size */
            else if (!first) out.len = 0;                     /* KIP-74 only for the first partition */
            break;
        }
        pos += (int64_t)size;
    }
    free(buf);

    sm_file_unref(reg->file);
    reg->file = NULL;
    reg->pos = 0;
    reg->len = err == SM_ERR_NONE ? (int64_t)out.len : 0;
    op->emit = 0;
    if (reg->len > 0) {
        uint8_t *dst = sm_arena_alloc(a, out.len);
        memcpy(dst, out.data, out.len);
        op->records = (sm_bytes_t){ (int32_t)out.len, dst };
    } else {
        op->records = (sm_bytes_t){ 0, (const uint8_t *)"" };
    }
    op->records_len = op->records.len;
    sm_wbuf_free(&out);
    return err;
}

/* ---- ListOffsets v0 ------------------------------------------------------- */

void
sm_convert_listoffsets_v0(const sm_listoffsets_req_part_t *rp, sm_listoffsets_resp_part_t *op, sm_arena_t *a)
{
    /* Kafka's v0 answer lists segment base offsets too; every client we
     * serve asks for one offset (max_num_offsets 1), which is the v1 answer. */
    op->n_old_style_offsets = 0;
    op->old_style_offsets = sm_arena_calloc(a, 1, sizeof(int64_t));
    if (op->error_code == SM_ERR_NONE && op->offset >= 0 && rp->max_num_offsets > 0) {
        op->old_style_offsets[0] = op->offset;
        op->n_old_style_offsets = 1;
    }
}

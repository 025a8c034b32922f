/*
 * sm_pstate_snap.c - producer-state snapshot files and the rebuild of a
 * partition's producer state from snapshot + log (see sm_pstate_snap.h).
 *
 * The replay reads only batch headers (producerId, epoch, baseSequence and
 * lastOffsetDelta are all in the fixed v2 header, outside any compressed
 * payload) through a 1 MiB pread window, so rebuilding never decompresses
 * and costs about one read per MiB of log.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sm_crc32c.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_pstate_snap.h"

#define LOGGER "samsa.log"
#define SNAP_SUFFIX ".snapshot"
#define SNAP_MAX_BYTES ((size_t)1 << 30)
#define SCAN_WINDOW ((size_t)1 << 20)

/* ---- encode / decode ---- */

static void
encode_entry(void *arg, const sm_pentry_t *e)
{
    sm_wbuf_t *w = arg;
    int n = e->nbatches > 0 ? e->nbatches : 1;
    for (int k = 0; k < n; k++) {
        const sm_pbatch_t *b = e->nbatches > 0 ? &e->batches[k] : NULL;
        sm_write_i64(w, e->producer_id);
        sm_write_i16(w, e->epoch);
        sm_write_i32(w, b ? b->last_seq : -1);
        sm_write_i64(w, b ? b->last_offset : -1);
        sm_write_i32(w, b ? b->offset_delta : 0);
        sm_write_i64(w, b ? b->timestamp : -1);
        sm_write_i32(w, e->coordinator_epoch);
        sm_write_i64(w, e->txn_first_offset);
    }
}

void
sm_pstate_snap_encode(const sm_pstate_t *ps, sm_wbuf_t *w)
{
    size_t start = w->len;
    sm_write_i16(w, SM_PSNAP_VERSION);
    sm_write_u32(w, 0);                          /* crc, patched below */
    size_t count_at = sm_wbuf_reserve_i32(w);
    sm_pstate_foreach(ps, encode_entry, w);
    size_t body = w->len - count_at - 4;
    sm_wbuf_patch_i32(w, count_at, (int32_t)(body / SM_PSNAP_ENTRY_SIZE));
    uint32_t crc = sm_crc32c(0, w->data + start + 6, w->len - start - 6);
    sm_put_be32(w->data + start + 2, crc);
}

int
sm_pstate_snap_decode(const uint8_t *p, size_t len, sm_pstate_t *ps)
{
    sm_reader_t r;
    sm_reader_init(&r, p, len);
    int16_t version = sm_read_i16(&r);
    uint32_t crc = sm_read_u32(&r);
    int32_t count = sm_read_i32(&r);
    if (r.err || version != SM_PSNAP_VERSION || count < 0) return -1;
    if (sm_reader_remaining(&r) != (size_t)count * SM_PSNAP_ENTRY_SIZE) return -1;
    if (sm_crc32c(0, p + 6, len - 6) != crc) return -1;
    for (int32_t i = 0; i < count; i++) {
        int64_t pid = sm_read_i64(&r);
        int16_t epoch = sm_read_i16(&r);
        sm_pbatch_t b;
        b.last_seq = sm_read_i32(&r);
        b.last_offset = sm_read_i64(&r);
        b.offset_delta = sm_read_i32(&r);
        b.timestamp = sm_read_i64(&r);
        int32_t coord_epoch = sm_read_i32(&r);
        int64_t txn_first = sm_read_i64(&r);
        if (pid < 0) continue;
        if (b.last_offset >= 0 && b.offset_delta >= 0 && b.last_seq >= 0 && b.last_offset >= b.offset_delta) {
            sm_pstate_update(ps, pid, epoch, &b);
        } else if (!sm_pstate_get(ps, pid)) {
            /* A producer with an epoch but no retained batch. */
            sm_pentry_t e = { .producer_id = pid, .epoch = epoch, .nbatches = 0 };
            e.coordinator_epoch = coord_epoch;
            e.txn_first_offset = txn_first;
            sm_pstate_put(ps, &e);
        }
    }
    return 0;
}

/* ---- files ---- */

static char *
snap_path(const char *dir, int64_t offset)
{
    return sm_asprintf("%s/%020lld" SNAP_SUFFIX, dir, (long long)offset);
}

int
sm_pstate_snap_write(const char *dir, int64_t offset, const sm_pstate_t *ps)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, SM_PSNAP_HEADER_SIZE + sm_pstate_count(ps) * SM_PSNAP_ENTRY_SIZE);
    sm_pstate_snap_encode(ps, &w);
    char *path = snap_path(dir, offset);
    int rc = sm_write_file_atomic(path, w.data, w.len);
    int e = errno;
    free(path);
    sm_wbuf_free(&w);
    errno = e;
    return rc;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* "<20 digits>.snapshot" -> offset, or -1. */
static int64_t
parse_name(const char *nm)
{
    if (strlen(nm) != 20 + strlen(SNAP_SUFFIX) || strcmp(nm + 20, SNAP_SUFFIX) != 0) return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (nm[i] < '0' || nm[i] > '9' || v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (nm[i] - '0');
    }
    return v;
}

int
sm_pstate_snap_list(const char *dir, int64_t **offsets)
{
    *offsets = NULL;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int64_t o = parse_name(e->d_name);
        if (o < 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            *offsets = sm_realloc(*offsets, (size_t)cap * sizeof(int64_t));
        }
        (*offsets)[n++] = o;
    }
    closedir(d);
    if (n > 1) qsort(*offsets, (size_t)n, sizeof(int64_t), cmp_i64);
    return n;
}

static void
unlink_snap(const char *dir, int64_t offset)
{
    char *path = snap_path(dir, offset);
    if (unlink(path) < 0 && errno != ENOENT)
        sm_log_warn(LOGGER, "[ProducerStateManager dir=%s] Error deleting snapshot %s: %s", dir, path, strerror(errno));
    free(path);
}

void
sm_pstate_snap_delete_outside(const char *dir, int64_t lo, int64_t hi)
{
    int64_t *offs;
    int n = sm_pstate_snap_list(dir, &offs);
    for (int i = 0; i < n; i++)
        if (offs[i] < lo || offs[i] > hi) unlink_snap(dir, offs[i]);
    free(offs);
}

void
sm_pstate_snap_prune(const char *dir, int keep)
{
    int64_t *offs;
    int n = sm_pstate_snap_list(dir, &offs);
    for (int i = 0; i < n - keep; i++) unlink_snap(dir, offs[i]);
    free(offs);
}

/* ---- replay ---- */

void
sm_pstate_apply_header(sm_pstate_t *ps, const sm_batch_hdr_t *h, int64_t append_time)
{
    /* Control batches (transaction markers) carry no data sequence. */
    if (h->producer_id < 0 || h->base_sequence < 0 || (h->attributes & SM_ATTR_CONTROL)) return;
    sm_pbatch_t b;
    b.last_seq = sm_pstate_seq_add(h->base_sequence, h->last_offset_delta);
    b.last_offset = h->base_offset + h->last_offset_delta;
    b.offset_delta = h->last_offset_delta;
    b.timestamp = append_time >= 0 ? append_time : h->max_timestamp;
    sm_pstate_update(ps, h->producer_id, h->producer_epoch, &b);
}

sm_err_t
sm_pstate_check_append(const sm_pstate_t *ps, const uint8_t *buf, size_t len, sm_pbatch_t *dup)
{
    sm_batch_hdr_t h, e;
    for (size_t pos = 0; pos < len && sm_batch_header_decode(buf + pos, len - pos, &h) == 0; pos += sm_batch_size(&h)) {
        if (h.producer_id < 0) continue;
        if (h.base_sequence < 0) return SM_ERR_INVALID_RECORD;
        int32_t last_seq = sm_pstate_seq_add(h.base_sequence, h.last_offset_delta);
        /* The newest earlier batch of this producer in the same append. */
        int have = 0;
        sm_batch_hdr_t prev;
        for (size_t q = 0; q < pos && sm_batch_header_decode(buf + q, len - q, &e) == 0; q += sm_batch_size(&e))
            if (e.producer_id == h.producer_id) { prev = e; have = 1; }
        sm_err_t err;
        if (!have) {
            err = sm_pstate_check(ps, h.producer_id, h.producer_epoch, h.base_sequence, last_seq, dup);
        } else if (h.producer_epoch < prev.producer_epoch) {
            err = SM_ERR_INVALID_PRODUCER_EPOCH;
        } else if (h.producer_epoch > prev.producer_epoch) {
            err = h.base_sequence == 0 ? SM_ERR_NONE : SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        } else {
            int32_t prev_last = sm_pstate_seq_add(prev.base_sequence, prev.last_offset_delta);
            err = sm_pstate_in_sequence(prev_last, h.base_sequence) ? SM_ERR_NONE : SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        }
        if (err != SM_ERR_NONE) return err;
    }
    return SM_ERR_NONE;
}

void
sm_pstate_apply_append(sm_pstate_t *ps, const uint8_t *buf, size_t len, int64_t append_time)
{
    sm_batch_hdr_t h;
    for (size_t pos = 0; pos < len && sm_batch_header_decode(buf + pos, len - pos, &h) == 0; pos += sm_batch_size(&h))
        sm_pstate_apply_header(ps, &h, append_time);
}

/* Replay the headers of segment s for batches ending at or after `from`
 * and starting below leo. Returns batches applied, or -1 on I/O error. */
static int64_t
replay_seg(sm_pstate_t *ps, const sm_seg_t *s, int64_t from, int64_t leo, uint8_t *win, const char *name)
{
    int64_t pos = sm_seg_lookup_pos(s, from), wat = 0, n = 0;
    size_t wlen = 0;
    while (pos + SM_BATCH_HEADER_SIZE <= s->size) {
        if (pos < wat || pos + SM_BATCH_HEADER_SIZE > wat + (int64_t)wlen) {
            size_t want = (size_t)SM_MIN((int64_t)SCAN_WINDOW, s->size - pos);
            ssize_t r;
            do r = pread(s->log->fd, win, want, (off_t)pos); while (r < 0 && errno == EINTR);
            if (r < 0) return -1;
            if (r < SM_BATCH_HEADER_SIZE) break;
            wat = pos;
            wlen = (size_t)r;
        }
        sm_batch_hdr_t h;
        if (sm_batch_header_decode(win + (pos - wat), wlen - (size_t)(pos - wat), &h) < 0 || h.batch_length < 0 ||
            h.last_offset_delta < 0 || (int64_t)sm_batch_size(&h) > s->size - pos) {
            sm_log_warn(LOGGER, "%s Stopped the producer state scan of %s.log at invalid position %lld", name,
                        s->prefix, (long long)pos);
            break;
        }
        if (h.base_offset >= leo) break;
        if (sm_batch_last_offset(&h) >= from) {
            sm_pstate_apply_header(ps, &h, -1);
            n++;
        }
        pos += (int64_t)sm_batch_size(&h);
    }
    return n;
}

int64_t
sm_pstate_rebuild(sm_pstate_t *ps, const char *dir, const char *name, sm_seg_t *const *segs, int nsegs, int64_t leo)
{
    sm_pstate_clear(ps);
    if (nsegs <= 0) return 0;
    int64_t base0 = segs[0]->base, start = base0, *offs;
    int n = sm_pstate_snap_list(dir, &offs);
    int loaded = 0;
    for (int i = n - 1; i >= 0; i--) {
        if (offs[i] > leo || offs[i] < base0) {
            unlink_snap(dir, offs[i]);
            continue;
        }
        if (loaded) continue;
        char *path = snap_path(dir, offs[i]);
        size_t len = 0;
        char *data = sm_read_file(path, SNAP_MAX_BYTES, &len);
        if (data && sm_pstate_snap_decode((const uint8_t *)data, len, ps) == 0) {
            loaded = 1;
            start = offs[i];
            sm_log_info(LOGGER, "%s Loading producer state from snapshot file '%s'", name, path);
        } else {
            sm_log_warn(LOGGER, "%s Deleting corrupt or unreadable producer snapshot %s", name, path);
            sm_pstate_clear(ps);
            unlink(path);
        }
        free(data);
        free(path);
    }
    free(offs);
    if (start >= leo) return 0;
    uint8_t *win = sm_malloc(SCAN_WINDOW);
    int64_t total = 0;
    for (int i = 0; i < nsegs; i++) {
        int64_t upper = i + 1 < nsegs ? segs[i + 1]->base : leo;
        if (upper <= start) continue;
        int64_t r = replay_seg(ps, segs[i], start, leo, win, name);
        if (r < 0) { total = -1; break; }
        total += r;
    }
    free(win);
    sm_log_info(LOGGER, "%s Producer state recovery from offset %lld to %lld: %zu producers",
                name, (long long)start, (long long)leo, sm_pstate_count(ps));
    return total;
}

/*
 * sm_seg.c - log segments: .log file, mmapped offset/time indexes, batch
 * header scanning and per-segment recovery (see sm_seg.h).
 *
 * Index entries are big-endian, relative to the segment base offset, as in
 * Kafka's OffsetIndex (rel i32, pos i32) and TimeIndex (ts i64, rel i32).
 * The active segment's index files are preallocated to segment.index.bytes
 * and trimmed to entries * size when the segment is sealed or closed, so a
 * cleanly closed segment's file length gives its entry count.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "log/sm_seg.h"

static int
idx_map(sm_idx_t *x, size_t len)
{
    if (x->map) { munmap(x->map, x->map_len); x->map = NULL; }
    x->map_len = 0;
    x->max_entries = 0;
    if (len == 0) return 0;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, x->fd, 0);
    if (m == MAP_FAILED) return -1;
    /* The file is preallocated sparse (segment.index.bytes) and written a
     * page at a time: without this, each first touch makes the kernel read
     * ahead (zero-fill) megabytes of holes, which dominated produce CPU with
     * many partitions. */
    madvise(m, len, MADV_RANDOM);
    x->map = m;
    x->map_len = len;
    x->max_entries = (int32_t)(len / (size_t)x->esize);
    return 0;
}

/* Change the file length and remap; entries beyond the new end are lost. */
static int
idx_resize(sm_idx_t *x, size_t len)
{
    len -= len % (size_t)x->esize;
    if (len == x->map_len) return 0;
    if (x->map) { munmap(x->map, x->map_len); x->map = NULL; x->map_len = 0; }
    if (ftruncate(x->fd, (off_t)len) < 0) return -1;
    if (idx_map(x, len) < 0) return -1;
    if (x->entries > x->max_entries) x->entries = x->max_entries;
    return 0;
}

static void
idx_close(sm_idx_t *x, int trim)
{
    if (x->fd < 0) return;
    if (trim) idx_resize(x, (size_t)x->entries * (size_t)x->esize);
    if (x->map) munmap(x->map, x->map_len);
    x->map = NULL;
    x->map_len = 0;
    close(x->fd);
    x->fd = -1;
}

/* Open one index file; *missing = 1 when it did not exist. The entry count
 * is the file length / entry size (valid for a cleanly trimmed file). */
static int
idx_open(sm_idx_t *x, const char *path, int esize, int create, int *missing, int *bad)
{
    x->esize = esize;
    x->fd = -1;
    x->map = NULL;
    x->map_len = 0;
    x->entries = x->max_entries = 0;
    *missing = 0;
    *bad = 0;
    if (!create && access(path, F_OK) < 0) *missing = 1;
    x->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (create ? O_TRUNC : 0), 0644);
    if (x->fd < 0) return -1;
    struct stat st;
    if (fstat(x->fd, &st) < 0) return -1;
    int64_t size = st.st_size;
    if (size % esize != 0 || size > (int64_t)INT32_MAX) {
        /* Unusable length: start empty, the caller rebuilds. */
        *bad = 1;
        if (ftruncate(x->fd, 0) < 0) return -1;
        size = 0;
    }
    if (idx_map(x, (size_t)size) < 0) return -1;
    x->entries = x->max_entries;
    return 0;
}

static inline int32_t oidx_rel(const sm_idx_t *x, int32_t i) { return (int32_t)sm_be32(x->map + (size_t)i * 8); }
static inline int32_t oidx_pos(const sm_idx_t *x, int32_t i) { return (int32_t)sm_be32(x->map + (size_t)i * 8 + 4); }
static inline int64_t tidx_ts(const sm_idx_t *x, int32_t i) { return (int64_t)sm_be64(x->map + (size_t)i * 12); }
static inline int32_t tidx_rel(const sm_idx_t *x, int32_t i) { return (int32_t)sm_be32(x->map + (size_t)i * 12 + 8); }

sm_seg_t *
sm_seg_open(const char *dir, int64_t base, int create, int active, int32_t index_bytes,
            char *errstr, size_t errlen)
{
    sm_seg_t *s = sm_calloc(1, sizeof(*s));
    s->oidx.fd = s->tidx.fd = -1;
    s->base = base;
    s->prefix = sm_asprintf("%s/%020lld", dir, (long long)base);
    s->max_ts = s->max_ts_offset = s->first_ts = -1;
    s->next_offset = base;
    s->created_ms = sm_now_ms();
    s->active = active;
    s->index_bytes = index_bytes;
    char path[PATH_MAX];
    int fd, miss1, miss2, bad1, bad2;

    snprintf(path, sizeof(path), "%s.log", s->prefix);
    fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644);
    if (fd < 0) goto err;
    s->log = sm_file_new(fd);
    struct stat st;
    if (fstat(fd, &st) < 0) goto err;
    s->size = st.st_size;

    snprintf(path, sizeof(path), "%s.index", s->prefix);
    if (idx_open(&s->oidx, path, SM_OIDX_ENTRY, create, &miss1, &bad1) < 0) goto err;
    snprintf(path, sizeof(path), "%s.timeindex", s->prefix);
    if (idx_open(&s->tidx, path, SM_TIDX_ENTRY, create, &miss2, &bad2) < 0) goto err;
    s->index_suspect = miss1 || miss2 || bad1 || bad2;
    if (s->tidx.entries > 0) {
        s->max_ts = tidx_ts(&s->tidx, s->tidx.entries - 1);
        s->max_ts_offset = base + tidx_rel(&s->tidx, s->tidx.entries - 1);
    }
    if (active && sm_seg_index_resize(s, 1) < 0) goto err;
    return s;

err:
    snprintf(errstr, errlen, "Error opening segment %s.log: %s", s->prefix, strerror(errno));
    sm_seg_close(s, 0);
    return NULL;
}

void
sm_seg_close(sm_seg_t *s, int trim)
{
    if (!s) return;
    idx_close(&s->oidx, trim);
    idx_close(&s->tidx, trim);
    sm_file_unref(s->log);
    free(s->prefix);
    free(s);
}

void
sm_seg_delete(sm_seg_t *s)
{
    static const char *const sfx[] = { ".log", ".index", ".timeindex", ".txnindex" };
    char path[PATH_MAX];
    /* Unlinking at once is safe: open sm_file_t references keep the inode. */
    for (size_t i = 0; i < SM_ARRAY_SIZE(sfx); i++) {
        snprintf(path, sizeof(path), "%s%s", s->prefix, sfx[i]);
        unlink(path);
    }
    sm_seg_close(s, 0);
}

int
sm_seg_index_resize(sm_seg_t *s, int active)
{
    s->active = active;
    size_t o = (size_t)s->oidx.entries * SM_OIDX_ENTRY, t = (size_t)s->tidx.entries * SM_TIDX_ENTRY;
    if (active) {
        size_t want = s->index_bytes > 0 ? (size_t)s->index_bytes : 0;
        o = SM_MAX(o, want - want % SM_OIDX_ENTRY);
        t = SM_MAX(t, want - want % SM_TIDX_ENTRY);
    }
    if (idx_resize(&s->oidx, o) < 0 || idx_resize(&s->tidx, t) < 0) return -1;
    return 0;
}

int
sm_seg_index_ok(sm_seg_t *s)
{
    if (s->index_suspect) return 0;
    const sm_idx_t *o = &s->oidx, *t = &s->tidx;
    for (int32_t i = 0; i < o->entries; i++) {
        int32_t rel = oidx_rel(o, i), pos = oidx_pos(o, i);
        if (rel < 0 || pos < 0 || pos >= s->size) return 0;
        if (i > 0 && (rel <= oidx_rel(o, i - 1) || pos <= oidx_pos(o, i - 1))) return 0;
    }
    for (int32_t i = 0; i < t->entries; i++) {
        int32_t rel = tidx_rel(t, i);
        if (rel < 0) return 0;
        if (i > 0 && (tidx_ts(t, i) <= tidx_ts(t, i - 1) || rel < tidx_rel(t, i - 1))) return 0;
    }
    /* Data but no index entries past the first interval is normal (sparse),
     * but an index pointing at nothing while the log is empty is not. */
    if (s->size == 0 && (o->entries > 0 || t->entries > 0)) return 0;
    return 1;
}

void
sm_seg_index_reset(sm_seg_t *s)
{
    s->oidx.entries = 0;
    s->tidx.entries = 0;
    s->bytes_since_index = 0;
    s->index_suspect = 0;
}

int
sm_seg_index_full(const sm_seg_t *s)
{
    return s->oidx.entries >= s->oidx.max_entries || s->tidx.entries >= s->tidx.max_entries;
}

static void
tidx_maybe_append(sm_seg_t *s, int64_t ts, int64_t off)
{
    sm_idx_t *t = &s->tidx;
    if (ts < 0 || t->entries >= t->max_entries) return;
    if (t->entries > 0 && (ts <= tidx_ts(t, t->entries - 1) || off - s->base < tidx_rel(t, t->entries - 1)))
        return;
    uint8_t *p = t->map + (size_t)t->entries * SM_TIDX_ENTRY;
    sm_put_be64(p, (uint64_t)ts);
    sm_put_be32(p + 8, (uint32_t)(off - s->base));
    t->entries++;
}

void
sm_seg_index_append(sm_seg_t *s, int64_t last_offset, int64_t pos, int64_t max_ts, int64_t max_ts_off)
{
    sm_idx_t *o = &s->oidx;
    int64_t rel = last_offset - s->base;
    if (o->entries < o->max_entries && rel >= 0 && rel <= INT32_MAX && pos <= INT32_MAX &&
        (o->entries == 0 || rel > oidx_rel(o, o->entries - 1))) {
        uint8_t *p = o->map + (size_t)o->entries * SM_OIDX_ENTRY;
        sm_put_be32(p, (uint32_t)rel);
        sm_put_be32(p + 4, (uint32_t)pos);
        o->entries++;
    }
    tidx_maybe_append(s, max_ts, max_ts_off);
}

void
sm_seg_seal_time_index(sm_seg_t *s)
{
    tidx_maybe_append(s, s->max_ts, s->max_ts_offset);
}

int64_t
sm_seg_lookup_pos(const sm_seg_t *s, int64_t offset)
{
    const sm_idx_t *o = &s->oidx;
    int64_t rel = offset - s->base;
    if (rel < 0 || o->entries == 0 || oidx_rel(o, 0) > rel) return 0;
    int32_t lo = 0, hi = o->entries - 1;
    while (lo < hi) {   /* greatest i with rel_i <= rel */
        int32_t mid = lo + (hi - lo + 1) / 2;
        if (oidx_rel(o, mid) <= rel) lo = mid; else hi = mid - 1;
    }
    return oidx_pos(o, lo);
}

int64_t
sm_seg_lookup_pos_by_pos(const sm_seg_t *s, int64_t pos)
{
    const sm_idx_t *o = &s->oidx;
    if (o->entries == 0 || oidx_pos(o, 0) > pos) return 0;
    int32_t lo = 0, hi = o->entries - 1;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo + 1) / 2;
        if (oidx_pos(o, mid) <= pos) lo = mid; else hi = mid - 1;
    }
    return oidx_pos(o, lo);
}

int64_t
sm_seg_lookup_time(const sm_seg_t *s, int64_t ts)
{
    const sm_idx_t *t = &s->tidx;
    if (t->entries == 0 || tidx_ts(t, 0) >= ts) return s->base;
    int32_t lo = 0, hi = t->entries - 1;
    while (lo < hi) {   /* greatest i with ts_i < ts */
        int32_t mid = lo + (hi - lo + 1) / 2;
        if (tidx_ts(t, mid) < ts) lo = mid; else hi = mid - 1;
    }
    return s->base + tidx_rel(t, lo);
}

int64_t
sm_seg_last_index_offset(const sm_seg_t *s, int64_t *pos)
{
    if (s->oidx.entries == 0) { *pos = 0; return -1; }
    *pos = oidx_pos(&s->oidx, s->oidx.entries - 1);
    return s->base + oidx_rel(&s->oidx, s->oidx.entries - 1);
}

int
sm_seg_last_time_entry(const sm_seg_t *s, int64_t *ts, int64_t *offset)
{
    if (s->tidx.entries == 0) return -1;
    *ts = tidx_ts(&s->tidx, s->tidx.entries - 1);
    *offset = s->base + tidx_rel(&s->tidx, s->tidx.entries - 1);
    return 0;
}

int
sm_seg_read_header(const sm_seg_t *s, int64_t pos, int64_t limit, sm_batch_hdr_t *h)
{
    uint8_t buf[SM_BATCH_HEADER_SIZE];
    if (pos >= limit) return 0;
    size_t want = (size_t)SM_MIN((int64_t)sizeof(buf), limit - pos);
    if (want < SM_BATCH_HEADER_SIZE) return -1;
    ssize_t n;
    do n = pread(s->log->fd, buf, want, (off_t)pos); while (n < 0 && errno == EINTR);
    if (n < 0) return -2;
    if ((size_t)n < want) return -1;
    if (sm_batch_header_decode(buf, (size_t)n, h) < 0) return -1;
    if (h->base_offset < 0 || h->last_offset_delta < 0 || h->batch_length < 0) return -1;
    if ((int64_t)sm_batch_size(h) > limit - pos) return -1;
    return 1;
}

int
sm_seg_find_batch(const sm_seg_t *s, int64_t offset, int64_t pos, int64_t limit,
                  int64_t *found_pos, sm_batch_hdr_t *h)
{
    for (;;) {
        int r = sm_seg_read_header(s, pos, limit, h);
        if (r <= 0) return r == 0 ? 0 : -1;
        if (sm_batch_last_offset(h) >= offset) { *found_pos = pos; return 1; }
        pos += (int64_t)sm_batch_size(h);
    }
}

/* Sliding read window over the .log for recovery: one pread per ~1 MiB. */
typedef struct {
    uint8_t *buf;
    size_t cap, len;
    int64_t at;              /* file position of buf[0] */
} win_t;

/* Make [pos, pos+n) available; 1 ok, 0 short file, -1 I/O error. */
static int
win_fill(win_t *w, int fd, int64_t pos, size_t n, int64_t file_size)
{
    if (pos >= w->at && pos + (int64_t)n <= w->at + (int64_t)w->len) return 1;
    if (n > w->cap) { w->cap = n; free(w->buf); w->buf = sm_malloc(w->cap); }
    size_t want = (size_t)SM_MIN((int64_t)w->cap, file_size - pos);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, w->buf + got, want - got, (off_t)(pos + (int64_t)got));
        if (r < 0) { if (errno == EINTR) continue; return -1; }
        if (r == 0) break;
        got += (size_t)r;
    }
    w->at = pos;
    w->len = got;
    return got >= n ? 1 : 0;
}

int64_t
sm_seg_recover(sm_seg_t *s, int32_t index_interval, int64_t max_batch,
               void (*on_batch)(void *arg, const sm_batch_hdr_t *h), void *arg)
{
    struct stat st;
    if (fstat(s->log->fd, &st) < 0) return -1;
    int64_t file_size = st.st_size, valid = 0, last_index_at = 0, next = s->base;
    int was_active = s->active;
    sm_seg_index_reset(s);
    if (!was_active && sm_seg_index_resize(s, 1) < 0) return -1;
    s->max_ts = s->max_ts_offset = s->first_ts = -1;
    win_t w = { sm_malloc(1 << 20), 1 << 20, 0, 0 };
    int64_t ret = 0;

    while (valid < file_size) {
        sm_batch_hdr_t h;
        if (file_size - valid < SM_BATCH_HEADER_SIZE) break;
        int r = win_fill(&w, s->log->fd, valid, SM_BATCH_HEADER_SIZE, file_size);
        if (r < 0) { ret = -1; goto out; }
        if (r == 0) break;
        const uint8_t *p = w.buf + (valid - w.at);
        if (sm_batch_header_decode(p, SM_BATCH_HEADER_SIZE, &h) < 0) break;
        int64_t bsize = (int64_t)sm_batch_size(&h);
        if (h.batch_length < 0 || bsize > file_size - valid || bsize > max_batch) break;
        r = win_fill(&w, s->log->fd, valid, (size_t)bsize, file_size);
        if (r < 0) { ret = -1; goto out; }
        if (r == 0) break;
        p = w.buf + (valid - w.at);
        if (sm_batch_check_crc(p, (size_t)bsize, &h) != SM_ERR_NONE) break;
        int64_t last = sm_batch_last_offset(&h);
        if (h.last_offset_delta < 0 || h.base_offset < next || last - s->base > INT32_MAX) break;

        if (h.max_timestamp > s->max_ts) { s->max_ts = h.max_timestamp; s->max_ts_offset = last; }
        if (valid == 0) s->first_ts = h.max_timestamp;
        if (valid - last_index_at > index_interval) {
            sm_seg_index_append(s, last, valid, s->max_ts, s->max_ts_offset);
            last_index_at = valid;
        }
        if (on_batch) on_batch(arg, &h);
        next = last + 1;
        valid += bsize;
    }
    s->next_offset = next;
    s->bytes_since_index = valid - last_index_at;
    sm_seg_seal_time_index(s);
    if (valid < file_size) {
        if (ftruncate(s->log->fd, (off_t)valid) < 0) { ret = -1; goto out; }
        ret = file_size - valid;
    }
    s->size = valid;
    if (!was_active && sm_seg_index_resize(s, 0) < 0) ret = -1;
out:
    free(w.buf);
    return ret;
}

int
sm_seg_load_tail(sm_seg_t *s)
{
    int64_t pos;
    sm_batch_hdr_t h;
    int64_t last = sm_seg_last_index_offset(s, &pos);
    s->next_offset = last >= 0 ? last + 1 : s->base;
    if (s->first_ts < 0 && s->size > 0) {
        int r = sm_seg_read_header(s, 0, s->size, &h);
        if (r < 0) return -1;
        if (r > 0) s->first_ts = h.max_timestamp;
    }
    for (;;) {
        int r = sm_seg_read_header(s, pos, s->size, &h);
        if (r == 0) break;
        if (r < 0) return -1;
        int64_t lo = sm_batch_last_offset(&h);
        if (h.base_offset < s->base || lo < s->next_offset - 1) return -1;
        if (h.max_timestamp > s->max_ts) { s->max_ts = h.max_timestamp; s->max_ts_offset = lo; }
        s->next_offset = lo + 1;
        pos += (int64_t)sm_batch_size(&h);
    }
    return 0;
}

int
sm_seg_truncate_to(sm_seg_t *s, int64_t offset)
{
    int64_t fpos;
    sm_batch_hdr_t h;
    int r = sm_seg_find_batch(s, offset, sm_seg_lookup_pos(s, offset), s->size, &fpos, &h);
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (ftruncate(s->log->fd, (off_t)fpos) < 0) return -1;
    s->size = fpos;
    while (s->oidx.entries > 0 && oidx_pos(&s->oidx, s->oidx.entries - 1) >= fpos) s->oidx.entries--;
    while (s->tidx.entries > 0 && s->base + tidx_rel(&s->tidx, s->tidx.entries - 1) >= h.base_offset)
        s->tidx.entries--;
    s->max_ts = s->max_ts_offset = -1;
    sm_seg_last_time_entry(s, &s->max_ts, &s->max_ts_offset);
    if (fpos == 0) s->first_ts = -1;
    s->bytes_since_index = 0;
    return sm_seg_load_tail(s);
}

int
sm_seg_flush(sm_seg_t *s)
{
    int rc = 0;
    if (fdatasync(s->log->fd) < 0) rc = -1;
    if (s->oidx.map && msync(s->oidx.map, s->oidx.map_len, MS_SYNC) < 0) rc = -1;
    if (s->tidx.map && msync(s->tidx.map, s->tidx.map_len, MS_SYNC) < 0) rc = -1;
    return rc;
}

int64_t
sm_seg_largest_ts(const sm_seg_t *s)
{
    if (s->max_ts >= 0) return s->max_ts;
    struct stat st;
    if (fstat(s->log->fd, &st) < 0) return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

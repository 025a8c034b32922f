/*
 * sm_cleaner.c - the log cleaner (see sm_cleaner.h): cleaner threads and
 * log selection, the offset map, segment rewriting, the swap of cleaned
 * segments, crash recovery of an interrupted swap, and the
 * cleaner-offset-checkpoint files.
 *
 * The cleaner reads sealed segments through its own sm_file_t references
 * without any log lock (sealed segments never change in place; retention
 * or truncation unlink them, and the swap then notices they are gone).
 * Only sm_plog_clean_swap takes the partition's write lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/sm_buf.h"
#include "core/sm_crc32c.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_ckpt.h"
#include "log/sm_cleaner.h"
#include "log/sm_logmgr.h"
#include "proto/sm_compress.h"
#include "proto/sm_records.h"

#define LOGGER "samsa.log.LogCleaner"
#define DIGEST_LEN 16
/* Bounds for one batch read from disk, like the log's recovery. */
#define MAX_BATCH_FLOOR (64LL << 20)
#define MAX_UNCOMPRESSED (256u << 20)

void
sm_cleaner_config_defaults(sm_cleaner_config_t *c)
{
    c->enable = 1;
    c->threads = 1;
    c->backoff_ms = 15000;
    c->dedupe_buffer_size = 128LL << 20;
    c->io_buffer_size = 512 << 10;
}

/* ---- offset map: 16-byte key digest -> latest offset ---- */

typedef struct {
    uint8_t d[DIGEST_LEN];
    int64_t off1;                    /* offset + 1; 0 = empty slot */
} slot_t;

typedef struct {
    slot_t *slots;
    size_t cap, n, max_cap;          /* cap and max_cap are powers of two */
    int64_t latest;                  /* highest offset put, -1 */
    EVP_MD_CTX *md;
} omap_t;

static void
omap_init(omap_t *m, int64_t bytes)
{
    memset(m, 0, sizeof(*m));
    size_t want = bytes > 0 ? (size_t)bytes / sizeof(slot_t) : 0;
    m->max_cap = 1024;
    while (m->max_cap * 2 <= want) m->max_cap *= 2;
    m->md = EVP_MD_CTX_new();
    if (!m->md) abort();
    m->latest = -1;
}

static void
omap_free(omap_t *m)
{
    free(m->slots);
    EVP_MD_CTX_free(m->md);
    memset(m, 0, sizeof(*m));
}

/* Start empty; the table grows on demand up to max_cap, so a small dirty
 * section never touches the whole dedupe buffer. */
static void
omap_reset(omap_t *m)
{
    free(m->slots);
    m->cap = SM_MIN((size_t)4096, m->max_cap);
    m->slots = sm_calloc(m->cap, sizeof(slot_t));
    m->n = 0;
    m->latest = -1;
}

/* SHA-256 truncated to 128 bits: unlike MD5 (Kafka's choice), no known way
 * to make a key collide with somebody else's key and delete its records. */
static void
omap_digest(omap_t *m, const uint8_t *k, size_t len, uint8_t out[DIGEST_LEN])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int fl = 0;
    if (EVP_DigestInit_ex(m->md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(m->md, k, len) != 1 ||
        EVP_DigestFinal_ex(m->md, full, &fl) != 1 || fl < DIGEST_LEN)
        abort();   /* SHA-256 cannot fail short of memory corruption */
    memcpy(out, full, DIGEST_LEN);
}

static slot_t *
omap_find(const omap_t *m, const uint8_t d[DIGEST_LEN])
{
    uint64_t h;
    memcpy(&h, d, sizeof(h));
    for (size_t i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        slot_t *s = &m->slots[i];
        if (s->off1 == 0 || memcmp(s->d, d, DIGEST_LEN) == 0) return s;
    }
}

static void
omap_grow(omap_t *m)
{
    slot_t *old = m->slots;
    size_t ocap = m->cap;
    m->cap *= 2;
    m->slots = sm_calloc(m->cap, sizeof(slot_t));
    for (size_t i = 0; i < ocap; i++)
        if (old[i].off1) *omap_find(m, old[i].d) = old[i];
    free(old);
}

/* 1 = stored, 0 = the map is full (Kafka's 0.9 load factor at max size). */
static int
omap_put(omap_t *m, const uint8_t *key, size_t len, int64_t offset)
{
    uint8_t d[DIGEST_LEN];
    omap_digest(m, key, len, d);
    if ((m->n + 1) * 4 > m->cap * 3 && m->cap < m->max_cap) omap_grow(m);
    slot_t *s = omap_find(m, d);
    if (!s->off1) {
        if ((m->n + 1) * 10 > m->cap * 9) return 0;
        memcpy(s->d, d, DIGEST_LEN);
        m->n++;
    }
    s->off1 = offset + 1;
    m->latest = offset;
    return 1;
}

static int64_t
omap_get(omap_t *m, const uint8_t *key, size_t len)
{
    uint8_t d[DIGEST_LEN];
    omap_digest(m, key, len, d);
    return omap_find(m, d)->off1 - 1;
}

/* ---- cleaner state and checkpoints ---- */

typedef struct {
    int dir;
    char *topic;
    int32_t partition;
    int64_t offset;
} ck_entry_t;

typedef struct {
    struct sm_cleaner_s *c;
    int id;
    pthread_t th;
    sm_plog_t *cur;                  /* log being cleaned (under c->mu) */
    int abort;                       /* atomic: abandon cur */
    omap_t map;
} worker_t;

struct sm_cleaner_s {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sm_cleaner_config_t cfg;
    char **dirs;
    int ndirs;
    ck_entry_t *ck;
    int nck, ckcap;
    sm_plog_t **bad;                 /* logs that failed with corrupt data: skipped until restart */
    int nbad;
    struct sm_logmgr_s *mgr;
    worker_t *w;
    int nw, started;
    int stop;
};

/* Index of l's log dir (the parent of its partition dir), added if new. */
static int
dir_index_locked(sm_cleaner_t *c, sm_plog_t *l)
{
    const char *pd = sm_plog_dir(l);
    const char *slash = strrchr(pd, '/');
    size_t n = slash ? (size_t)(slash - pd) : 0;
    for (int i = 0; i < c->ndirs; i++)
        if (strlen(c->dirs[i]) == n && strncmp(c->dirs[i], pd, n) == 0) return i;
    c->dirs = sm_realloc(c->dirs, (size_t)(c->ndirs + 1) * sizeof(char *));
    c->dirs[c->ndirs] = slash ? sm_strndup(pd, n) : sm_strdup(".");
    return c->ndirs++;
}

static ck_entry_t *
ck_find_locked(sm_cleaner_t *c, int dir, const char *topic, int32_t partition)
{
    for (int i = 0; i < c->nck; i++)
        if (c->ck[i].dir == dir && c->ck[i].partition == partition && strcmp(c->ck[i].topic, topic) == 0)
            return &c->ck[i];
    return NULL;
}

static void
ck_set_locked(sm_cleaner_t *c, int dir, const char *topic, int32_t partition, int64_t offset)
{
    ck_entry_t *e = ck_find_locked(c, dir, topic, partition);
    if (!e) {
        if (c->nck == c->ckcap) {
            c->ckcap = c->ckcap ? c->ckcap * 2 : 16;
            c->ck = sm_realloc(c->ck, (size_t)c->ckcap * sizeof(*c->ck));
        }
        e = &c->ck[c->nck++];
        e->dir = dir;
        e->topic = sm_strdup(topic);
        e->partition = partition;
    }
    e->offset = offset;
}

static void
ck_write_dir_locked(sm_cleaner_t *c, int dir)
{
    sm_ckpt_entry_t *arr = sm_calloc((size_t)c->nck + 1, sizeof(*arr));
    int n = 0;
    for (int i = 0; i < c->nck; i++) {
        if (c->ck[i].dir != dir) continue;
        arr[n].topic = c->ck[i].topic;
        arr[n].partition = c->ck[i].partition;
        arr[n].offset = c->ck[i].offset;
        n++;
    }
    char *path = sm_asprintf("%s/" SM_CLEANER_CKPT_FILE, c->dirs[dir]);
    if (sm_ckpt_write(path, arr, n) < 0)
        sm_log_error(LOGGER, "[kafka-log-cleaner] Error writing %s: %s", path, strerror(errno));
    free(path);
    free(arr);
}

sm_cleaner_t *
sm_cleaner_new(const sm_cleaner_config_t *cfg, char *const *dirs, int ndirs)
{
    sm_cleaner_t *c = sm_calloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->cfg = *cfg;
    if (c->cfg.threads < 1) c->cfg.threads = 1;
    if (c->cfg.io_buffer_size < 4096) c->cfg.io_buffer_size = 4096;
    if (c->cfg.backoff_ms < 1) c->cfg.backoff_ms = 1;
    c->dirs = sm_calloc((size_t)(ndirs > 0 ? ndirs : 1), sizeof(char *));
    for (int d = 0; d < ndirs; d++) {
        c->dirs[c->ndirs++] = sm_strdup(dirs[d]);
        sm_ckpt_entry_t *e = NULL;
        int n = 0;
        char err[256];
        char *path = sm_asprintf("%s/" SM_CLEANER_CKPT_FILE, dirs[d]);
        if (sm_ckpt_read(path, &e, &n, err, sizeof(err)) < 0) {
            sm_log_warn(LOGGER, "[kafka-log-cleaner] Ignoring unreadable %s: %s", path, err);
            n = 0;
        }
        for (int i = 0; i < n; i++) ck_set_locked(c, d, e[i].topic, e[i].partition, e[i].offset);
        sm_ckpt_free(e, n);
        free(path);
    }
    c->nw = c->cfg.threads;
    c->w = sm_calloc((size_t)c->nw, sizeof(worker_t));
    for (int i = 0; i < c->nw; i++) {
        c->w[i].c = c;
        c->w[i].id = i;
        omap_init(&c->w[i].map, c->cfg.dedupe_buffer_size / c->nw);
    }
    return c;
}

void
sm_cleaner_checkpoint(sm_cleaner_t *c)
{
    pthread_mutex_lock(&c->mu);
    for (int d = 0; d < c->ndirs; d++) ck_write_dir_locked(c, d);
    pthread_mutex_unlock(&c->mu);
}

int64_t
sm_cleaner_first_dirty(sm_cleaner_t *c, sm_plog_t *l)
{
    pthread_mutex_lock(&c->mu);
    ck_entry_t *e = ck_find_locked(c, dir_index_locked(c, l), sm_plog_topic(l), sm_plog_partition(l));
    int64_t v = e ? e->offset : -1;
    pthread_mutex_unlock(&c->mu);
    return v;
}

void
sm_cleaner_abort(sm_cleaner_t *c, sm_plog_t *l, int forget)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < c->nw; i++) {
            if (c->w[i].cur == l) {
                __atomic_store_n(&c->w[i].abort, 1, __ATOMIC_RELEASE);
                busy = 1;
            }
        }
        if (!busy) break;
        pthread_cond_wait(&c->cv, &c->mu);
    }
    for (int i = 0; i < c->nbad; i++)
        if (c->bad[i] == l) c->bad[i--] = c->bad[--c->nbad];
    if (forget) {
        int d = dir_index_locked(c, l);
        ck_entry_t *e = ck_find_locked(c, d, sm_plog_topic(l), sm_plog_partition(l));
        if (e) {
            free(e->topic);
            *e = c->ck[--c->nck];
            ck_write_dir_locked(c, d);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---- reading segments ---- */

typedef struct {
    int fd;
    int64_t size;
    uint8_t *buf;
    size_t cap, len;
    int64_t at;                      /* file position of buf[0] */
    size_t max_batch;
} rd_t;

static void
rd_open(rd_t *r, const sm_clean_seg_t *s, uint8_t **buf, size_t *cap, size_t max_batch)
{
    r->fd = s->file->fd;
    r->size = s->size;
    r->buf = *buf;
    r->cap = *cap;
    r->len = 0;
    r->at = 0;
    r->max_batch = max_batch;
}

/* Give the (possibly grown) buffer back to its owner. */
static void
rd_close(rd_t *r, uint8_t **buf, size_t *cap)
{
    *buf = r->buf;
    *cap = r->cap;
}

/* Make [pos, pos+n) available: 1 ok, 0 short file, -1 I/O error. */
static int
rd_fill(rd_t *r, int64_t pos, size_t n)
{
    if (pos >= r->at && pos + (int64_t)n <= r->at + (int64_t)r->len) return 1;
    if (n > r->cap) {
        free(r->buf);
        r->cap = n;
        r->buf = sm_malloc(r->cap);
    }
    size_t want = (size_t)SM_MIN((int64_t)r->cap, r->size - pos), got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(pos + (int64_t)got));
        if (k < 0) { if (errno == EINTR) continue; return -1; }
        if (k == 0) break;
        got += (size_t)k;
    }
    r->at = pos;
    r->len = got;
    return got >= n ? 1 : 0;
}

/* The batch at pos: 1 with *p (valid until the next call) and *h, 0 at the
 * end, -1 bad framing or short file, -2 I/O error. */
static int
rd_batch(rd_t *r, int64_t pos, const uint8_t **p, sm_batch_hdr_t *h)
{
    if (pos >= r->size) return 0;
    if (r->size - pos < SM_BATCH_HEADER_SIZE) return -1;
    int k = rd_fill(r, pos, SM_BATCH_HEADER_SIZE);
    if (k <= 0) return k < 0 ? -2 : -1;
    if (sm_batch_header_decode(r->buf + (pos - r->at), SM_BATCH_HEADER_SIZE, h) < 0) return -1;
    size_t size = sm_batch_size(h);
    if (h->last_offset_delta < 0 || (int64_t)size > r->size - pos || size > r->max_batch) return -1;
    k = rd_fill(r, pos, size);
    if (k <= 0) return k < 0 ? -2 : -1;
    *p = r->buf + (pos - r->at);
    return 1;
}

/* ---- writing the cleaned segment ---- */

typedef struct {
    int fd;
    sm_wbuf_t out;                   /* pending .log bytes */
    size_t flush_at;
    int64_t pos;                     /* bytes of .log so far (written + pending) */
    int64_t base;
    int32_t interval;
    int64_t since_index;
    int64_t max_ts, max_ts_off;
    sm_wbuf_t oidx, tidx;
    int err;                         /* errno of the first failure */
} wr_t;

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) { if (errno == EINTR) continue; return -1; }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void
wr_flush(wr_t *w)
{
    if (w->out.len == 0 || w->err) { w->out.len = 0; return; }
    if (write_all(w->fd, w->out.data, w->out.len) < 0) w->err = errno ? errno : EIO;
    w->out.len = 0;
}

static void
tidx_add(wr_t *w, int64_t ts, int64_t off)
{
    if (ts < 0) return;
    if (w->tidx.len > 0) {
        const uint8_t *last = w->tidx.data + w->tidx.len - SM_TIDX_ENTRY;
        if (ts <= (int64_t)sm_be64(last) || off - w->base < (int64_t)(int32_t)sm_be32(last + 8)) return;
    }
    sm_write_i64(&w->tidx, ts);
    sm_write_i32(&w->tidx, (int32_t)(off - w->base));
}

/* Append one batch, adding index entries as the log's append does (an
 * entry for a batch once more than index.interval.bytes were written
 * since the previous one). */
static void
wr_batch(wr_t *w, const uint8_t *b, size_t len, const sm_batch_hdr_t *h)
{
    int64_t last = sm_batch_last_offset(h);
    if (h->max_timestamp > w->max_ts) { w->max_ts = h->max_timestamp; w->max_ts_off = last; }
    if (w->since_index > w->interval && w->pos <= INT32_MAX && last - w->base <= INT32_MAX) {
        int64_t rel = last - w->base;
        int ok = 1;
        if (w->oidx.len > 0) ok = rel > (int64_t)(int32_t)sm_be32(w->oidx.data + w->oidx.len - SM_OIDX_ENTRY);
        if (ok) {
            sm_write_i32(&w->oidx, (int32_t)rel);
            sm_write_i32(&w->oidx, (int32_t)w->pos);
        }
        tidx_add(w, w->max_ts, w->max_ts_off);
        w->since_index = 0;
    }
    w->since_index += (int64_t)len;
    sm_write_raw(&w->out, b, len);
    w->pos += (int64_t)len;
    if (w->out.len >= w->flush_at) wr_flush(w);
}

static int
write_file(const char *path, const sm_wbuf_t *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    if (write_all(fd, b->data, b->len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

static const char *const seg_sfx[] = { ".log", ".index", ".timeindex" };

static void
unlink_cleaned(const char *prefix)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < SM_ARRAY_SIZE(seg_sfx); i++) {
        snprintf(path, sizeof(path), "%s%s.cleaned", prefix, seg_sfx[i]);
        unlink(path);
    }
}

/* ---- one pass ---- */

typedef struct {
    sm_cleaner_t *c;
    sm_plog_t *l;
    const int *abort;                /* NULL: never abandoned */
    omap_t *map;
    int64_t now;
    const sm_clean_view_t *v;
    int64_t first_dirty, upper;
    uint8_t *rbuf;                   /* read window */
    size_t rcap;
    size_t max_batch;
    sm_wbuf_t recs, batch;           /* scratch for rebuilt batches */
    sm_clean_stats_t *st;
    int changed;                     /* the log changed under us: quietly give up */
} pass_t;

static int
aborted(const pass_t *p)
{
    return p->abort && __atomic_load_n(p->abort, __ATOMIC_ACQUIRE);
}

/* A read failure is corruption only if the segment still has the size we
 * saw; otherwise a truncation got there first. */
static int
read_failed(pass_t *p, const sm_clean_seg_t *s, int r, int64_t pos)
{
    struct stat st;
    if (fstat(s->file->fd, &st) == 0 && st.st_size != s->size) {
        p->changed = 1;
        return -1;
    }
    sm_log_error(LOGGER, "[kafka-log-cleaner] %s segment %020lld.log of %s-%d at position %lld: "
                 "not cleaning this log until restart", r == -2 ? "I/O error reading" : "Invalid batch in",
                 (long long)s->base, sm_plog_topic(p->l), sm_plog_partition(p->l), (long long)pos);
    return -1;
}

/* Fill the offset map from the dirty section. Returns 0 (p->map->latest
 * and *end set), or -1. */
static int
build_map(pass_t *p, int64_t *end)
{
    omap_t *m = p->map;
    omap_reset(m);
    int full = 0;
    for (int i = 0; i < p->v->nsegs && !full; i++) {
        const sm_clean_seg_t *s = &p->v->segs[i];
        if (s->end <= p->first_dirty) continue;
        if (s->base >= p->upper) break;
        rd_t r;
        rd_open(&r, s, &p->rbuf, &p->rcap, p->max_batch);
        int64_t pos = 0;
        int rc = 0;
        for (;;) {
            const uint8_t *b;
            sm_batch_hdr_t h;
            int k = rd_batch(&r, pos, &b, &h);
            if (k == 0) break;
            if (k < 0 || aborted(p)) { rc = k < 0 ? read_failed(p, s, k, pos) : -1; break; }
            size_t bsize = sm_batch_size(&h);
            if (sm_batch_last_offset(&h) >= p->first_dirty && !(h.attributes & SM_ATTR_CONTROL) && h.record_count > 0) {
                sm_record_iter_t it;
                sm_record_t rec;
                if (sm_record_iter_init(&it, b, bsize, MAX_UNCOMPRESSED) != SM_ERR_NONE) {
                    sm_record_iter_free(&it);
                    rc = read_failed(p, s, -1, pos);
                    break;
                }
                int n;
                while ((n = sm_record_iter_next(&it, &rec)) == 1) {
                    if (rec.offset < p->first_dirty || rec.key.len < 0) continue;
                    if (rec.offset >= p->upper) break;
                    if (!omap_put(m, rec.key.ptr, (size_t)rec.key.len, rec.offset)) { full = 1; break; }
                }
                sm_record_iter_free(&it);
                if (n < 0) { rc = read_failed(p, s, -1, pos); break; }
                if (full) break;
            }
            pos += (int64_t)bsize;
        }
        rd_close(&r, &p->rbuf, &p->rcap);
        if (rc < 0) return -1;
    }
    if (full) {
        *end = m->latest + 1;
    } else {
        *end = p->upper;
        m->latest = p->upper - 1;   /* every record below upper is judged */
    }
    return 0;
}

/* Write an empty batch (header only) standing for h, as Kafka's
 * writeEmptyHeader: offsets, producer fields and max timestamp kept. */
static void
write_empty_batch(pass_t *p, wr_t *w, const sm_batch_hdr_t *h)
{
    sm_wbuf_t *o = &p->batch;
    sm_wbuf_reset(o);
    sm_write_i64(o, h->base_offset);
    sm_write_i32(o, SM_BATCH_HEADER_SIZE - SM_BATCH_LOG_OVERHEAD);
    sm_write_i32(o, h->partition_leader_epoch);
    sm_write_i8(o, 2);
    sm_write_u32(o, 0);
    sm_write_i16(o, (int16_t)(h->attributes & ~SM_ATTR_CODEC_MASK));
    sm_write_i32(o, h->last_offset_delta);
    sm_write_i64(o, h->max_timestamp);
    sm_write_i64(o, h->max_timestamp);
    sm_write_i64(o, h->producer_id);
    sm_write_i16(o, h->producer_epoch);
    sm_write_i32(o, h->base_sequence);
    sm_write_i32(o, 0);
    sm_put_be32(o->data + SM_BATCH_CRC_OFFSET, sm_crc32c(0, o->data + SM_BATCH_ATTR_OFFSET, o->len - SM_BATCH_ATTR_OFFSET));
    sm_batch_hdr_t nh = *h;
    nh.base_timestamp = h->max_timestamp;
    nh.record_count = 0;
    nh.batch_length = SM_BATCH_HEADER_SIZE - SM_BATCH_LOG_OVERHEAD;
    wr_batch(w, o->data, o->len, &nh);
    p->st->bytes_written += (int64_t)o->len;
}

/* Filter one batch into w. 0, or -1 if its records are unreadable. */
static int
clean_batch(pass_t *p, wr_t *w, const uint8_t *b, size_t len, const sm_batch_hdr_t *h, int retain_deletes)
{
    if (h->attributes & SM_ATTR_CONTROL) {   /* no transactions here: markers are kept as they are */
        wr_batch(w, b, len, h);
        p->st->bytes_written += (int64_t)len;
        return 0;
    }
    sm_record_iter_t it;
    if (sm_record_iter_init(&it, b, len, MAX_UNCOMPRESSED) != SM_ERR_NONE) { sm_record_iter_free(&it); return -1; }
    sm_wbuf_reset(&p->recs);
    int32_t n = 0, kept = 0;
    int64_t max_ts = -1;
    int r;
    for (;;) {
        const uint8_t *start = it.r.pos;
        sm_record_t rec;
        if ((r = sm_record_iter_next(&it, &rec)) != 1) break;
        n++;
        int keep;
        if (rec.offset > p->map->latest) {
            keep = 1;                                        /* beyond what the map covers */
        } else if (rec.key.len < 0) {
            keep = 0;                                        /* Kafka drops keyless records too */
        } else {
            int64_t found = omap_get(p->map, rec.key.ptr, (size_t)rec.key.len);
            keep = !(found >= 0 && rec.offset < found) && !(!retain_deletes && rec.value.len < 0);
        }
        if (keep) {
            sm_write_raw(&p->recs, start, (size_t)(it.r.pos - start));
            kept++;
            if (rec.timestamp > max_ts) max_ts = rec.timestamp;
        }
    }
    sm_codec_t codec = sm_batch_codec(h);
    sm_record_iter_free(&it);   /* p->recs holds copies: the decompressed buffer may go */
    if (r < 0) return -1;
    p->st->records_read += n;
    p->st->records_written += kept;
    if (kept == n && n > 0) {
        wr_batch(w, b, len, h);
        p->st->bytes_written += (int64_t)len;
        return 0;
    }
    if (kept == 0) {
        /* The producer's newest batch keeps its sequence numbers alive
         * (otherwise its next write would look out of order). */
        if (h->producer_id >= 0 && sm_plog_producer_last_offset(p->l, h->producer_id) == sm_batch_last_offset(h))
            write_empty_batch(p, w, h);
        return 0;
    }
    sm_wbuf_t *o = &p->batch;
    sm_wbuf_reset(o);
    sm_write_raw(o, b, SM_BATCH_HEADER_SIZE);
    if (codec == SM_CODEC_NONE) {
        sm_write_raw(o, p->recs.data, p->recs.len);
    } else {
        uint8_t *z = NULL;
        size_t zlen = 0;
        if (sm_compress(codec, p->recs.data, p->recs.len, &z, &zlen) != SM_ERR_NONE) {
            /* Cannot happen for a codec we could decompress; keep the batch. */
            free(z);
            wr_batch(w, b, len, h);
            p->st->bytes_written += (int64_t)len;
            return 0;
        }
        sm_write_raw(o, z, zlen);
        free(z);
    }
    sm_batch_hdr_t nh = *h;
    nh.batch_length = (int32_t)(o->len - SM_BATCH_LOG_OVERHEAD);
    nh.record_count = kept;
    if (!(h->attributes & SM_ATTR_LOG_APPEND_TIME)) nh.max_timestamp = max_ts;
    sm_put_be32(o->data + 8, (uint32_t)nh.batch_length);
    sm_put_be64(o->data + 35, (uint64_t)nh.max_timestamp);          /* maxTimestamp */
    sm_put_be32(o->data + 57, (uint32_t)kept);                      /* recordCount */
    sm_put_be32(o->data + SM_BATCH_CRC_OFFSET, sm_crc32c(0, o->data + SM_BATCH_ATTR_OFFSET, o->len - SM_BATCH_ATTR_OFFSET));
    wr_batch(w, o->data, o->len, &nh);
    p->st->bytes_written += (int64_t)o->len;
    return 0;
}

/* Rewrite segs[from..to) into <dir>/<segs[from].base>.*.cleaned and swap
 * it in. 0, or -1 (p->changed says whether that is an error). */
static int
clean_group(pass_t *p, int from, int to)
{
    const sm_clean_view_t *v = p->v;
    const sm_log_config_t *cfg = &v->cfg;
    char *prefix = sm_asprintf("%s/%020lld", sm_plog_dir(p->l), (long long)v->segs[from].base);
    char path[PATH_MAX];
    int rc = -1;
    wr_t w;
    memset(&w, 0, sizeof(w));
    w.base = v->segs[from].base;
    w.interval = cfg->index_interval_bytes;
    w.max_ts = w.max_ts_off = -1;
    w.flush_at = (size_t)SM_MAX(p->c->cfg.io_buffer_size / p->c->nw / 2, 4096);
    sm_wbuf_init(&w.out, w.flush_at + 1024);
    sm_wbuf_init(&w.oidx, 1024);
    sm_wbuf_init(&w.tidx, 1024);
    snprintf(path, sizeof(path), "%s.log.cleaned", prefix);
    w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        sm_log_error(LOGGER, "[kafka-log-cleaner] Error creating %s: %s", path, strerror(errno));
        goto out;
    }
    int64_t horizon = p->now - cfg->delete_retention_ms, mtime = 0;
    for (int i = from; i < to; i++) {
        const sm_clean_seg_t *s = &v->segs[i];
        /* Tombstones go only from segments that were already cleaned once
         * and have not been modified for delete.retention.ms. */
        int retain_deletes = !(s->end <= p->first_dirty && cfg->delete_retention_ms <= p->now && s->mtime_ms < horizon);
        mtime = SM_MAX(mtime, s->mtime_ms);
        rd_t r;
        rd_open(&r, s, &p->rbuf, &p->rcap, p->max_batch);
        int64_t pos = 0;
        int bad = 0;
        for (;;) {
            const uint8_t *b;
            sm_batch_hdr_t h;
            int k = rd_batch(&r, pos, &b, &h);
            if (k == 0) break;
            if (k < 0 || aborted(p)) { bad = 1; if (k < 0) read_failed(p, s, k, pos); break; }
            size_t bsize = sm_batch_size(&h);
            p->st->bytes_read += (int64_t)bsize;
            if (clean_batch(p, &w, b, bsize, &h, retain_deletes) < 0) { bad = 1; read_failed(p, s, -1, pos); break; }
            pos += (int64_t)bsize;
        }
        rd_close(&r, &p->rbuf, &p->rcap);
        if (bad) goto out;
    }
    wr_flush(&w);
    tidx_add(&w, w.max_ts, w.max_ts_off);   /* the sealed segment's final time entry */
    if (!w.err && fsync(w.fd) < 0) w.err = errno;
    if (!w.err) {
        struct timespec ts[2] = { { 0, UTIME_OMIT }, { mtime / 1000, (mtime % 1000) * 1000000 } };
        futimens(w.fd, ts);   /* Kafka: the cleaned segment keeps its sources' newest mtime */
    }
    if (w.err) {
        sm_log_error(LOGGER, "[kafka-log-cleaner] Error writing %s.log.cleaned: %s", prefix, strerror(w.err));
        goto out;
    }
    snprintf(path, sizeof(path), "%s.index.cleaned", prefix);
    if (write_file(path, &w.oidx) < 0) {
        sm_log_error(LOGGER, "[kafka-log-cleaner] Error writing %s: %s", path, strerror(errno));
        goto out;
    }
    snprintf(path, sizeof(path), "%s.timeindex.cleaned", prefix);
    if (write_file(path, &w.tidx) < 0) {
        sm_log_error(LOGGER, "[kafka-log-cleaner] Error writing %s: %s", path, strerror(errno));
        goto out;
    }
    if (aborted(p)) goto out;
    if (sm_plog_clean_swap(p->l, &v->segs[from], to - from) < 0) {
        p->changed = 1;
        goto out;
    }
    p->st->segments_in += to - from;
    p->st->segments_out++;
    rc = 0;
out:
    if (w.fd >= 0) close(w.fd);
    if (rc < 0) unlink_cleaned(prefix);
    sm_wbuf_free(&w.out);
    sm_wbuf_free(&w.oidx);
    sm_wbuf_free(&w.tidx);
    free(prefix);
    return rc;
}

typedef struct {
    int64_t first_dirty, upper, clean_bytes, dirty_bytes;
    double ratio;
    int overdue;                     /* max.compaction.lag.ms passed */
} dirt_t;

/* LogCleanerManager.cleanableOffsets + the dirty ratio. */
static void
measure(const sm_clean_view_t *v, int64_t ckpt, int64_t now, dirt_t *d)
{
    memset(d, 0, sizeof(*d));
    d->first_dirty = ckpt;
    if (ckpt < v->log_start || ckpt > v->leo) d->first_dirty = v->log_start;
    d->upper = v->active_base;
    for (int i = 0; i < v->nsegs; i++) {
        const sm_clean_seg_t *s = &v->segs[i];
        if (s->end > v->hw) { d->upper = SM_MIN(d->upper, s->base); break; }
    }
    if (v->cfg.min_compaction_lag_ms > 0) {
        for (int i = 0; i < v->nsegs; i++) {
            const sm_clean_seg_t *s = &v->segs[i];
            if (s->end <= d->first_dirty) continue;
            int64_t largest = s->max_ts >= 0 ? s->max_ts : s->mtime_ms;
            if (largest > now - v->cfg.min_compaction_lag_ms) { d->upper = SM_MIN(d->upper, s->base); break; }
        }
    }
    if (d->upper < d->first_dirty) d->upper = d->first_dirty;
    int64_t oldest = -1;
    for (int i = 0; i < v->nsegs; i++) {
        const sm_clean_seg_t *s = &v->segs[i];
        if (s->base >= d->upper) break;
        if (s->end <= d->first_dirty) {
            d->clean_bytes += s->size;
        } else {
            d->dirty_bytes += s->size;
            if (oldest < 0) oldest = s->first_ts >= 0 ? s->first_ts : s->mtime_ms;
        }
    }
    int64_t total = d->clean_bytes + d->dirty_bytes;
    d->ratio = total > 0 ? (double)d->dirty_bytes / (double)total : 0;
    d->overdue = v->cfg.max_compaction_lag_ms < INT64_MAX && d->dirty_bytes > 0 && oldest >= 0 &&
                 now - oldest > v->cfg.max_compaction_lag_ms;
}

static double mb(int64_t b) { return (double)b / (1024.0 * 1024.0); }

/* The pass itself; worker id is -1 for synchronous calls. */
static int
clean_log(sm_cleaner_t *c, omap_t *map, const int *abort, int id, sm_plog_t *l, int64_t now, int force,
          sm_clean_stats_t *out)
{
    sm_clean_view_t v;
    sm_clean_stats_t st;
    memset(&st, 0, sizeof(st));
    sm_plog_clean_view(l, 1, &v);
    int rc = 0;
    if (!v.cfg.cleanup_compact || v.nsegs == 0) goto done;
    pthread_mutex_lock(&c->mu);
    int dir = dir_index_locked(c, l);
    ck_entry_t *e = ck_find_locked(c, dir, sm_plog_topic(l), sm_plog_partition(l));
    int64_t ckpt = e ? e->offset : -1;
    pthread_mutex_unlock(&c->mu);

    dirt_t d;
    measure(&v, ckpt, now, &d);
    if (!force && (d.dirty_bytes == 0 || (d.ratio < v.cfg.min_cleanable_dirty_ratio && !d.overdue))) goto done;
    if (ckpt >= 0 && ckpt != d.first_dirty)
        sm_log_warn(LOGGER, "[kafka-log-cleaner] Resetting first dirty offset of %s-%d to log start offset %lld "
                    "since the checkpointed offset %lld is invalid.", sm_plog_topic(l), sm_plog_partition(l),
                    (long long)d.first_dirty, (long long)ckpt);

    int64_t t0 = sm_mono_ms();
    pass_t p;
    memset(&p, 0, sizeof(p));
    p.c = c;
    p.l = l;
    p.abort = abort;
    p.map = map;
    p.now = now;
    p.v = &v;
    p.first_dirty = d.first_dirty;
    p.upper = d.upper;
    p.max_batch = (size_t)SM_MAX((int64_t)v.cfg.max_message_bytes + SM_BATCH_HEADER_SIZE, MAX_BATCH_FLOOR);
    p.rcap = (size_t)SM_MAX(c->cfg.io_buffer_size / c->nw / 2, 4096);
    p.rbuf = sm_malloc(p.rcap);
    p.st = &st;
    sm_wbuf_init(&p.recs, 4096);
    sm_wbuf_init(&p.batch, 4096);
    st.first_dirty = d.first_dirty;
    st.dirty_ratio = d.ratio;

    int64_t end;
    if (build_map(&p, &end) < 0) { rc = -1; goto pass_out; }
    int64_t t_map = sm_mono_ms();
    st.end_offset = end;
    /* Groups of consecutive segments below end that fit one segment. */
    int i = 0;
    if (v.segs[0].base >= end) goto pass_out;   /* nothing below end: rc stays 0 */
    while (i < v.nsegs && v.segs[i].base < end) {
        int j = i + 1;
        int64_t size = v.segs[i].size;
        while (j < v.nsegs && v.segs[j].base < end && size + v.segs[j].size <= v.cfg.segment_bytes &&
               v.segs[j].end - 1 - v.segs[i].base <= INT32_MAX) {
            size += v.segs[j].size;
            j++;
        }
        if (clean_group(&p, i, j) < 0) { rc = -1; goto pass_out; }
        i = j;
    }
    pthread_mutex_lock(&c->mu);
    dir = dir_index_locked(c, l);
    ck_set_locked(c, dir, sm_plog_topic(l), sm_plog_partition(l), end);
    ck_write_dir_locked(c, dir);
    pthread_mutex_unlock(&c->mu);
    rc = 1;

    double secs = (double)(sm_mono_ms() - t0) / 1000.0, msecs = (double)(t_map - t0) / 1000.0;
    double ssecs = secs - msecs;
    char tn[48];
    if (id >= 0) snprintf(tn, sizeof(tn), "kafka-log-cleaner-thread-%d", id); else snprintf(tn, sizeof(tn), "kafka-log-cleaner");
    sm_log_info(LOGGER,
                "[%s]: \n\tLog cleaner thread %d cleaned log %s-%d (dirty section = [%lld, %lld])\n"
                "\t%.1f MB of log processed in %.1f seconds (%.1f MB/sec).\n"
                "\tIndexed %.1f MB in %.1f seconds, %zu keys (%.1f%% of the offset map)\n"
                "\tCleaned %.1f MB in %.1f seconds\n"
                "\tStart size: %.1f MB (%lld messages)\n"
                "\tEnd size: %.1f MB (%lld messages)\n"
                "\t%.1f%% size reduction (%.1f%% fewer messages)",
                tn, id < 0 ? 0 : id, sm_plog_topic(l), sm_plog_partition(l), (long long)d.first_dirty, (long long)end,
                mb(st.bytes_read), secs, secs > 0 ? mb(st.bytes_read) / secs : 0.0,
                mb(d.dirty_bytes), msecs, map->n, 100.0 * (double)map->n / (double)map->max_cap,
                mb(st.bytes_read), ssecs,
                mb(st.bytes_read), (long long)st.records_read, mb(st.bytes_written), (long long)st.records_written,
                st.bytes_read > 0 ? 100.0 * (1.0 - (double)st.bytes_written / (double)st.bytes_read) : 0.0,
                st.records_read > 0 ? 100.0 * (1.0 - (double)st.records_written / (double)st.records_read) : 0.0);
pass_out:
    if (rc < 0 && !p.changed && !aborted(&p)) {
        pthread_mutex_lock(&c->mu);
        c->bad = sm_realloc(c->bad, (size_t)(c->nbad + 1) * sizeof(*c->bad));
        c->bad[c->nbad++] = l;
        pthread_mutex_unlock(&c->mu);
    }
    if (rc < 0 && (p.changed || aborted(&p))) rc = 0;   /* not an error: the log moved on, try again later */
    free(p.rbuf);
    sm_wbuf_free(&p.recs);
    sm_wbuf_free(&p.batch);
    if (map->slots) { free(map->slots); map->slots = NULL; map->cap = map->n = 0; }
done:
    sm_clean_view_free(&v);
    if (out) *out = st;
    return rc;
}

int
sm_cleaner_clean_log(sm_cleaner_t *c, sm_plog_t *l, int64_t now_ms, int force, sm_clean_stats_t *st)
{
    omap_t m;
    omap_init(&m, c->cfg.dedupe_buffer_size / c->nw);
    int rc = clean_log(c, &m, NULL, -1, l, now_ms, force, st);
    omap_free(&m);
    return rc;
}

void
sm_clean_view_free(sm_clean_view_t *v)
{
    for (int i = 0; i < v->nsegs; i++) sm_file_unref(v->segs[i].file);
    free(v->segs);
    v->segs = NULL;
    v->nsegs = 0;
}

/* ---- threads ---- */

typedef struct {
    worker_t *w;
    int64_t now;
    double best;                     /* overdue logs rank above any ratio */
} pick_t;

/* sm_logmgr_foreach callback (log manager lock held, so the chosen log
 * cannot be deleted before w->cur marks it). */
static void
pick_fn(sm_plog_t *l, void *arg)
{
    pick_t *pk = arg;
    sm_cleaner_t *c = pk->w->c;
    sm_clean_view_t v;
    sm_plog_clean_view(l, 0, &v);
    if (!v.cfg.cleanup_compact || v.nsegs == 0) { sm_clean_view_free(&v); return; }
    pthread_mutex_lock(&c->mu);
    int skip = 0;
    for (int i = 0; i < c->nw; i++)
        if (c->w[i].cur == l) skip = 1;
    for (int i = 0; i < c->nbad; i++)
        if (c->bad[i] == l) skip = 1;
    ck_entry_t *e = ck_find_locked(c, dir_index_locked(c, l), sm_plog_topic(l), sm_plog_partition(l));
    int64_t ckpt = e ? e->offset : -1;
    pthread_mutex_unlock(&c->mu);
    if (!skip) {
        dirt_t d;
        measure(&v, ckpt, pk->now, &d);
        double score = d.overdue ? 2.0 + d.ratio : d.ratio;
        if (d.dirty_bytes > 0 && (d.overdue || d.ratio >= v.cfg.min_cleanable_dirty_ratio) && score > pk->best) {
            pk->best = score;
            pthread_mutex_lock(&c->mu);
            pk->w->cur = l;
            pthread_mutex_unlock(&c->mu);
        }
    }
    sm_clean_view_free(&v);
}

static void *
worker_main(void *arg)
{
    worker_t *w = arg;
    sm_cleaner_t *c = w->c;
    char name[16];
    snprintf(name, sizeof(name), "log-cleaner-%d", w->id);
    pthread_setname_np(pthread_self(), name);
    sm_log_info(LOGGER, "[kafka-log-cleaner-thread-%d]: Starting", w->id);
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        pthread_mutex_unlock(&c->mu);
        pick_t pk = { w, sm_now_ms(), -1.0 };
        sm_logmgr_foreach(c->mgr, pick_fn, &pk);
        int did = 0;
        if (w->cur) {
            did = clean_log(c, &w->map, &w->abort, w->id, w->cur, sm_now_ms(), 0, NULL) > 0;
            pthread_mutex_lock(&c->mu);
            w->cur = NULL;
            __atomic_store_n(&w->abort, 0, __ATOMIC_RELEASE);
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
        }
        pthread_mutex_lock(&c->mu);
        if (!did && !c->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = (int64_t)ts.tv_nsec + (c->cfg.backoff_ms % 1000) * 1000000;
            ts.tv_sec += (time_t)(c->cfg.backoff_ms / 1000 + ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        }
    }
    pthread_mutex_unlock(&c->mu);
    sm_log_info(LOGGER, "[kafka-log-cleaner-thread-%d]: Stopped", w->id);
    return NULL;
}

void
sm_cleaner_start(sm_cleaner_t *c, struct sm_logmgr_s *m)
{
    if (c->started) return;
    c->mgr = m;
    for (int i = 0; i < c->nw; i++) {
        if (pthread_create(&c->w[i].th, NULL, worker_main, &c->w[i]) != 0) {
            sm_log_error(LOGGER, "[kafka-log-cleaner] Cannot start cleaner thread %d: %s", i, strerror(errno));
            break;
        }
        c->started++;
    }
}

void
sm_cleaner_free(sm_cleaner_t *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    for (int i = 0; i < c->nw; i++) __atomic_store_n(&c->w[i].abort, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < c->started; i++) pthread_join(c->w[i].th, NULL);
    sm_cleaner_checkpoint(c);
    for (int i = 0; i < c->nw; i++) omap_free(&c->w[i].map);
    free(c->w);
    for (int i = 0; i < c->nck; i++) free(c->ck[i].topic);
    free(c->ck);
    for (int i = 0; i < c->ndirs; i++) free(c->dirs[i]);
    free(c->dirs);
    free(c->bad);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- swap and its recovery ---- */

static void
unlink_seg_files(const char *prefix, int keep_log)
{
    static const char *const sfx[] = { ".index", ".timeindex", ".txnindex", ".log" };
    char path[PATH_MAX];
    for (size_t i = 0; i < SM_ARRAY_SIZE(sfx); i++) {
        if (keep_log && i == SM_ARRAY_SIZE(sfx) - 1) break;
        snprintf(path, sizeof(path), "%s%s", prefix, sfx[i]);
        unlink(path);
    }
}

/* Rename prefix<sfx><from> to prefix<sfx><to> for the three files, .log
 * last: a .log.swap on disk means its indexes were renamed before it. */
static int
rename_set(const char *prefix, const char *from, const char *to)
{
    static const char *const order[] = { ".index", ".timeindex", ".log" };
    char a[PATH_MAX], b[PATH_MAX];
    for (size_t i = 0; i < SM_ARRAY_SIZE(order); i++) {
        snprintf(a, sizeof(a), "%s%s%s", prefix, order[i], from);
        snprintf(b, sizeof(b), "%s%s%s", prefix, order[i], to);
        /* A missing index is rebuilt at load; a missing .log is an error. */
        if (rename(a, b) < 0 && !(errno == ENOENT && i < 2)) return -1;
    }
    return 0;
}

sm_seg_t *
sm_cleaner_swap_in(const char *dir, const char *name, sm_seg_t *const *old, int nold, int32_t index_bytes)
{
    const char *prefix = old[0]->prefix;
    int64_t base = old[0]->base;
    char err[256];
    /* 1. .cleaned -> .swap: from here on a crash completes the swap. */
    if (rename_set(prefix, ".cleaned", ".swap") < 0) {
        sm_log_error(LOGGER, "%s Error renaming %s.log.cleaned to .swap: %s", name, prefix, strerror(errno));
        char path[PATH_MAX];
        for (size_t i = 0; i < SM_ARRAY_SIZE(seg_sfx); i++) {
            snprintf(path, sizeof(path), "%s%s.swap", prefix, seg_sfx[i]);
            unlink(path);
        }
        unlink_cleaned(prefix);
        return NULL;
    }
    sm_fsync_dir(dir);
    /* 2. The replaced segments go; readers holding their sm_file_t keep the
     * old inodes. The first one's .log is replaced atomically below. */
    for (int i = nold - 1; i >= 0; i--) unlink_seg_files(old[i]->prefix, i == 0);
    /* 3. .swap -> final names. */
    if (rename_set(prefix, ".swap", "") < 0) {
        sm_log_error(LOGGER, "%s Error renaming %s.log.swap: %s (the swap completes at the next start-up)", name, prefix,
                     strerror(errno));
        goto keep_old;
    }
    sm_fsync_dir(dir);
    /* 4. Open the new segment. */
    sm_seg_t *s = sm_seg_open(dir, base, 0, 0, index_bytes, err, sizeof(err));
    if (!s) {
        sm_log_error(LOGGER, "%s %s (the cleaned segment is loaded at the next start-up)", name, err);
        goto keep_old;
    }
    if (sm_seg_load_tail(s) < 0)
        sm_log_warn(LOGGER, "%s Cleaned segment %s.log has an unreadable tail", name, s->prefix);
    for (int i = 0; i < nold; i++) {
        sm_log_debug(LOGGER, "%s Deleting segment %s.log (baseOffset=%lld) replaced by the log cleaner", name,
                    old[i]->prefix, (long long)old[i]->base);
    }
    return s;
keep_old:
    /* The old segments stay in memory, readable through their open fds; their
     * names must no longer point at files, or a later deletion would remove
     * the new segment. */
    for (int i = 0; i < nold; i++) {
        free(old[i]->prefix);
        old[i]->prefix = sm_asprintf("%s/.cleaner-replaced-%020lld", dir, (long long)old[i]->base);
    }
    return NULL;
}

/* "<20 digits><sfx>" -> base offset, or -1. */
static int64_t
parse_name(const char *nm, const char *sfx)
{
    size_t sl = strlen(sfx);
    if (strlen(nm) != 20 + sl || strcmp(nm + 20, sfx) != 0) return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (nm[i] < '0' || nm[i] > '9' || v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (nm[i] - '0');
    }
    return v;
}

static int
has_sfx(const char *s, const char *sfx)
{
    size_t n = strlen(s), m = strlen(sfx);
    return n >= m && strcmp(s + n - m, sfx) == 0;
}

/* Offset after the last valid batch of a segment file (base if none). */
static int64_t
file_next_offset(const char *path, int64_t base)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return base;
    struct stat st;
    int64_t next = base, pos = 0;
    if (fstat(fd, &st) == 0) {
        uint8_t hb[SM_BATCH_HEADER_SIZE];
        while (st.st_size - pos >= SM_BATCH_HEADER_SIZE) {
            sm_batch_hdr_t h;
            if (pread(fd, hb, sizeof(hb), (off_t)pos) != (ssize_t)sizeof(hb)) break;
            if (sm_batch_header_decode(hb, sizeof(hb), &h) < 0 || h.last_offset_delta < 0 ||
                (int64_t)sm_batch_size(&h) > st.st_size - pos || h.base_offset < next)
                break;
            next = sm_batch_last_offset(&h) + 1;
            pos += (int64_t)sm_batch_size(&h);
        }
    }
    close(fd);
    return next;
}

/* Names in dir (heap array of heap strings). */
static int
list_dir(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
        if (n == cap) { cap = cap ? cap * 2 : 32; v = sm_realloc(v, (size_t)cap * sizeof(char *)); }
        v[n++] = sm_strdup(e->d_name);
    }
    closedir(d);
    *out = v;
    return n;
}

int
sm_cleaner_recover_dir(const char *dir, const char *name)
{
    char **names = NULL;
    int n = list_dir(dir, &names);
    if (n < 0) {
        sm_log_error(LOGGER, "%s Error reading %s: %s", name, dir, strerror(errno));
        return -1;
    }
    char path[PATH_MAX + 32], prefix[PATH_MAX];
    int rc = 0, touched = 0;
    for (int i = 0; i < n; i++) {
        if (!has_sfx(names[i], ".cleaned")) continue;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        sm_log_info(LOGGER, "%s Deleting stray temporary file %s", name, path);
        unlink(path);
        touched = 1;
    }
    for (int i = 0; i < n; i++) {
        int64_t base = parse_name(names[i], ".log.swap");
        if (base < 0) continue;
        snprintf(prefix, sizeof(prefix), "%s/%020lld", dir, (long long)base);
        snprintf(path, sizeof(path), "%s.log.swap", prefix);
        int64_t next = SM_MAX(file_next_offset(path, base), base + 1);
        sm_log_info(LOGGER, "%s Completing the interrupted swap of %s (offsets [%lld, %lld))", name, path,
                    (long long)base, (long long)next);
        for (int j = 0; j < n; j++) {
            int64_t b = parse_name(names[j], ".log");
            if (b < base || b >= next) continue;
            char old[PATH_MAX];
            snprintf(old, sizeof(old), "%s/%020lld", dir, (long long)b);
            unlink_seg_files(old, 0);
        }
        if (rename_set(prefix, ".swap", "") < 0) {
            sm_log_error(LOGGER, "%s Error renaming %s: %s", name, path, strerror(errno));
            rc = -1;
        }
        touched = 1;
    }
    for (int i = 0; i < n; i++) {   /* index .swap files whose .log never made it */
        if (!has_sfx(names[i], ".swap")) continue;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (access(path, F_OK) == 0) {
            sm_log_info(LOGGER, "%s Deleting stray temporary file %s", name, path);
            unlink(path);
            touched = 1;
        }
    }
    if (touched) sm_fsync_dir(dir);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

/* ---- produce-side check ---- */

sm_err_t
sm_cleaner_check_keys(const uint8_t *p, size_t len, size_t max_uncompressed)
{
    sm_record_iter_t it;
    sm_record_t rec;
    sm_err_t err = sm_record_iter_init(&it, p, len, max_uncompressed);
    if (err == SM_ERR_NONE) {
        int r;
        while ((r = sm_record_iter_next(&it, &rec)) == 1)
            if (rec.key.len < 0) { err = SM_ERR_INVALID_RECORD; break; }
        if (r < 0) err = SM_ERR_CORRUPT_MESSAGE;
    }
    sm_record_iter_free(&it);
    return err;
}

/*
 * sm_plog.c - one partition's log (see sm_plog.h): the ordered segment
 * list, append with roll rules, fetch regions, recovery at open, leader
 * epoch cache, retention, truncation and flush policy.
 *
 * Locking: a rwlock per log. Reads (fetch, ListOffsets, accessors) take it
 * shared and only pread and look at mapped indexes; everything that changes
 * the segment list, sizes or indexes takes it exclusive. The high watermark
 * is an atomic so the replica manager can move it without the lock.
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
#include <unistd.h>

#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_ckpt.h"
#include "log/sm_cleaner.h"
#include "log/sm_plog.h"
#include "log/sm_pstate_snap.h"
#include "log/sm_seg.h"
#include "proto/sm_records.h"

#define LOGGER "samsa.log"
#define EPOCH_FILE "leader-epoch-checkpoint"
/* Upper bound for one batch during recovery and timestamp search, so a
 * garbage length can never make us allocate more than this. */
#define MAX_BATCH_FLOOR (64LL << 20)
/* transactional.id.expiration.ms: idle producers are forgotten after 7 d. */
#define SM_PRODUCER_EXPIRATION_MS 604800000LL

struct sm_plog_s {
    pthread_rwlock_t lock;
    char *topic;
    int32_t partition;
    char *parent;
    char *dir;
    char *name;                      /* "[Log partition=t-0, dir=/x]" */
    sm_log_config_t cfg;
    sm_seg_t **segs;
    int nsegs, cap;
    int64_t leo, log_start, recovery_point;
    int64_t hw;                      /* atomic */
    int64_t unflushed;
    int64_t last_flush_ms;
    int flush_pending;               /* a roll left a sealed segment unflushed */
    sm_epoch_entry_t *epochs;
    int nepochs, ecap;
    int epochs_dirty;
    sm_pstate_t *ps;                 /* idempotent producers, kept in step with leo */
};

static sm_seg_t *active(sm_plog_t *l) { return l->segs[l->nsegs - 1]; }

static int64_t
max_batch(const sm_plog_t *l)
{
    return SM_MAX((int64_t)l->cfg.max_message_bytes + SM_BATCH_HEADER_SIZE, MAX_BATCH_FLOOR);
}

static int64_t
new_jitter(const sm_log_config_t *c)
{
    if (c->segment_jitter_ms <= 0) return 0;
    int64_t span = SM_MIN(c->segment_jitter_ms, c->segment_ms);
    return span > 0 ? (int64_t)(((uint64_t)random() << 31 ^ (uint64_t)random()) % (uint64_t)span) : 0;
}

/* Index of the segment holding offset (greatest base <= offset), or -1. */
static int
seg_for(const sm_plog_t *l, int64_t offset)
{
    int lo = 0, hi = l->nsegs - 1, ans = -1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (l->segs[mid]->base <= offset) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
}

static void
push_seg(sm_plog_t *l, sm_seg_t *s)
{
    if (l->nsegs == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->segs = sm_realloc(l->segs, (size_t)l->cap * sizeof(*l->segs));
    }
    l->segs[l->nsegs++] = s;
}

/* Delete segments [from, to) from disk and the list. */
static void
remove_segs(sm_plog_t *l, int from, int to)
{
    if (to <= from) return;
    for (int i = from; i < to; i++) sm_seg_delete(l->segs[i]);
    memmove(l->segs + from, l->segs + to, (size_t)(l->nsegs - to) * sizeof(*l->segs));
    l->nsegs -= to - from;
}

/* ---- leader epoch cache (LeaderEpochFileCache) ---- */

static void
epoch_assign(sm_plog_t *l, int32_t epoch, int64_t offset)
{
    if (epoch < 0) return;
    if (l->nepochs > 0 && epoch <= l->epochs[l->nepochs - 1].epoch) return;
    /* Entries starting at or after the new one cannot stay (non-monotonic). */
    while (l->nepochs > 0 && l->epochs[l->nepochs - 1].start_offset >= offset) l->nepochs--;
    if (l->nepochs == l->ecap) {
        l->ecap = l->ecap ? l->ecap * 2 : 8;
        l->epochs = sm_realloc(l->epochs, (size_t)l->ecap * sizeof(*l->epochs));
    }
    l->epochs[l->nepochs].epoch = epoch;
    l->epochs[l->nepochs].start_offset = offset;
    l->nepochs++;
    l->epochs_dirty = 1;
}

static void
epoch_truncate_end(sm_plog_t *l, int64_t end)
{
    while (l->nepochs > 0 && l->epochs[l->nepochs - 1].start_offset >= end) {
        l->nepochs--;
        l->epochs_dirty = 1;
    }
}

/* Keep the last entry starting at or before start, moved up to start. */
static void
epoch_truncate_start(sm_plog_t *l, int64_t start)
{
    int k = 0;
    while (k < l->nepochs && l->epochs[k].start_offset <= start) k++;
    if (k == 0) return;
    if (k > 1 || l->epochs[0].start_offset != start) {
        memmove(l->epochs, l->epochs + (k - 1), (size_t)(l->nepochs - (k - 1)) * sizeof(*l->epochs));
        l->nepochs -= k - 1;
        l->epochs[0].start_offset = start;
        l->epochs_dirty = 1;
    }
}

static void
epoch_save(sm_plog_t *l)
{
    if (!l->epochs_dirty) return;
    char *path = sm_asprintf("%s/" EPOCH_FILE, l->dir);
    if (sm_epoch_ckpt_write(path, l->epochs, l->nepochs) < 0)
        sm_log_error(LOGGER, "%s Error writing %s: %s", l->name, path, strerror(errno));
    else
        l->epochs_dirty = 0;
    free(path);
}

static void
epoch_on_batch(void *arg, const sm_batch_hdr_t *h)
{
    epoch_assign(arg, h->partition_leader_epoch, h->base_offset);
}

/* ---- producer state (sm_pstate_snap.h) ---- */

/* Persist the producer state as of `offset` (== leo) and keep the newest
 * few snapshots; a failure only costs a longer replay on the next load. */
static void
pstate_snapshot(sm_plog_t *l, int64_t offset)
{
    if (sm_pstate_snap_write(l->dir, offset, l->ps) < 0)
        sm_log_warn(LOGGER, "%s Error writing producer snapshot at offset %lld: %s", l->name, (long long)offset,
                    strerror(errno));
    sm_pstate_snap_prune(l->dir, 3);
}

/* ---- open / close ---- */

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int
has_suffix(const char *s, const char *sfx)
{
    size_t n = strlen(s), m = strlen(sfx);
    return n >= m && strcmp(s + n - m, sfx) == 0;
}

/* "<20 digits><sfx>" -> base offset, or -1. */
static int64_t
parse_seg_name(const char *name, const char *sfx)
{
    if (strlen(name) != 20 + strlen(sfx) || strcmp(name + 20, sfx) != 0) return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return -1;
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

/* Scan the directory: drop leftovers, collect segment base offsets. */
static int
scan_dir(sm_plog_t *l, int64_t **bases, int *n)
{
    /* An interrupted cleaner swap is completed first (sm_cleaner.h). */
    if (sm_cleaner_recover_dir(l->dir, l->name) < 0) return -1;
    DIR *d = opendir(l->dir);
    if (!d) return -1;
    int cap = 0;
    *bases = NULL;
    *n = 0;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        snprintf(path, sizeof(path), "%s/%s", l->dir, nm);
        if (has_suffix(nm, ".deleted") || has_suffix(nm, ".cleaned") || has_suffix(nm, ".swap")) {
            /* Swaps were completed above: whatever is left is garbage. */
            sm_log_info(LOGGER, "%s Deleting stray temporary file %s", l->name, path);
            unlink(path);
            continue;
        }
        int64_t b = parse_seg_name(nm, ".log");
        if (b >= 0) {
            if (*n == cap) { cap = cap ? cap * 2 : 16; *bases = sm_realloc(*bases, (size_t)cap * sizeof(int64_t)); }
            (*bases)[(*n)++] = b;
            continue;
        }
        const char *isfx = has_suffix(nm, ".timeindex") ? ".timeindex" : has_suffix(nm, ".index") ? ".index" : NULL;
        if (isfx && parse_seg_name(nm, isfx) >= 0) {
            char logp[PATH_MAX];
            snprintf(logp, sizeof(logp), "%s/%.20s.log", l->dir, nm);
            if (access(logp, F_OK) < 0) {
                sm_log_info(LOGGER, "%s Found an orphaned index file %s, with no corresponding log file.", l->name, path);
                unlink(path);
            }
        }
    }
    closedir(d);
    qsort(*bases, (size_t)*n, sizeof(int64_t), cmp_i64);
    return 0;
}

/* Recover segment i; on truncation, drop every later segment. Returns -1
 * on I/O error, 1 if bytes were truncated, 0 otherwise. */
static int
recover_seg(sm_plog_t *l, int i)
{
    sm_seg_t *s = l->segs[i];
    int64_t cut = sm_seg_recover(s, l->cfg.index_interval_bytes, max_batch(l), epoch_on_batch, l);
    if (cut < 0) {
        sm_log_error(LOGGER, "%s I/O error while recovering segment %s.log: %s", l->name, s->prefix, strerror(errno));
        return -1;
    }
    if (cut == 0) return 0;
    sm_log_warn(LOGGER, "%s Found %lld invalid bytes at the end of segment %s.log, truncated to %lld bytes",
                l->name, (long long)cut, s->prefix, (long long)s->size);
    if (i < l->nsegs - 1) {
        for (int j = i + 1; j < l->nsegs; j++)
            sm_log_warn(LOGGER, "%s Deleting segment %s.log after the corruption in segment %lld", l->name,
                        l->segs[j]->prefix, (long long)s->base);
        remove_segs(l, i + 1, l->nsegs);
        if (sm_seg_index_resize(s, 1) < 0) return -1;
    }
    return 1;
}

static void
plog_free(sm_plog_t *l)
{
    if (!l) return;
    pthread_rwlock_destroy(&l->lock);
    free(l->segs);
    free(l->epochs);
    sm_pstate_free(l->ps);
    free(l->topic);
    free(l->parent);
    free(l->dir);
    free(l->name);
    free(l);
}

/* Start over with a single empty segment at offset. On failure the log
 * keeps its segments (nothing is removed before the new one exists). */
static int
reset_to(sm_plog_t *l, int64_t offset, char *errstr, size_t errlen)
{
    int same = -1;
    for (int i = 0; i < l->nsegs; i++)
        if (l->segs[i]->base == offset) same = i;
    if (same >= 0) {
        /* Reuse the segment already named after offset (its files would
         * otherwise be clobbered by a new open). */
        sm_seg_t *s = l->segs[same];
        if ((!s->active && sm_seg_index_resize(s, 1) < 0) || sm_seg_truncate_to(s, offset) < 0) {
            snprintf(errstr, errlen, "Error truncating %s.log: %s", s->prefix, strerror(errno));
            return -1;
        }
        remove_segs(l, same + 1, l->nsegs);
        remove_segs(l, 0, same);
    } else {
        sm_seg_t *s = sm_seg_open(l->dir, offset, 1, 1, l->cfg.segment_index_bytes, errstr, errlen);
        if (!s) return -1;
        s->jitter_ms = new_jitter(&l->cfg);
        remove_segs(l, 0, l->nsegs);
        push_seg(l, s);
    }
    l->leo = offset;
    return 0;
}

sm_plog_t *
sm_plog_open(const char *parent_dir, const char *topic, int32_t partition, const sm_log_config_t *cfg,
             int64_t recovery_point, int64_t log_start_offset, int recover, char *errstr, size_t errlen)
{
    int64_t t0 = sm_mono_ms();
    sm_plog_t *l = sm_calloc(1, sizeof(*l));
    pthread_rwlock_init(&l->lock, NULL);
    l->topic = sm_strdup(topic);
    l->partition = partition;
    l->parent = sm_strdup(parent_dir);
    l->dir = sm_asprintf("%s/%s-%d", parent_dir, topic, partition);
    l->name = sm_asprintf("[Log partition=%s-%d, dir=%s]", topic, partition, parent_dir);
    l->cfg = *cfg;
    l->last_flush_ms = sm_now_ms();
    l->ps = sm_pstate_new();
    int64_t *bases = NULL;
    int nb = 0;
    char e2[256];

    if (sm_mkdirs(l->dir, 0755) < 0) {
        snprintf(errstr, errlen, "Error creating log directory %s: %s", l->dir, strerror(errno));
        goto err;
    }
    char *epath = sm_asprintf("%s/" EPOCH_FILE, l->dir);
    if (sm_epoch_ckpt_read(epath, &l->epochs, &l->nepochs, e2, sizeof(e2)) < 0) {
        sm_log_warn(LOGGER, "%s Ignoring unreadable %s: %s", l->name, epath, e2);
        l->nepochs = 0;
        l->epochs_dirty = 1;
    }
    l->ecap = l->nepochs;
    free(epath);
    if (scan_dir(l, &bases, &nb) < 0) {
        snprintf(errstr, errlen, "Error reading log directory %s: %s", l->dir, strerror(errno));
        goto err;
    }
    for (int i = 0; i < nb; i++) {
        sm_seg_t *s = sm_seg_open(l->dir, bases[i], 0, i == nb - 1, cfg->segment_index_bytes, errstr, errlen);
        if (!s) goto err;
        push_seg(l, s);
    }
    free(bases);
    bases = NULL;
    if (l->nsegs == 0 && reset_to(l, SM_MAX(log_start_offset, 0), errstr, errlen) < 0) goto err;

    int first_rec = l->nsegs;
    if (recover) {
        first_rec = seg_for(l, recovery_point);
        if (first_rec < 0) first_rec = 0;
    }
    /* Clean segments: rebuild only indexes that fail the sanity check. */
    for (int i = 0; i < first_rec && i < l->nsegs; i++) {
        if (sm_seg_index_ok(l->segs[i])) continue;
        sm_log_warn(LOGGER, "%s Found a corrupted index file corresponding to log file %s.log, "
                    "recovering segment and rebuilding index files...", l->name, l->segs[i]->prefix);
        if (recover_seg(l, i) < 0) goto ioerr;
    }
    for (int i = first_rec; i < l->nsegs; i++) {
        sm_log_info(LOGGER, "%s Recovering unflushed segment %lld", l->name, (long long)l->segs[i]->base);
        int r = recover_seg(l, i);
        if (r < 0) goto ioerr;
        if (r > 0) break;
    }
    if (first_rec >= l->nsegs) {
        /* Clean open: the active segment's end is found from its last index
         * entry; an unreadable tail means the marker lied, so recover it. */
        if (sm_seg_load_tail(active(l)) < 0) {
            sm_log_warn(LOGGER, "%s Active segment %s.log has an invalid tail, recovering it", l->name, active(l)->prefix);
            if (recover_seg(l, l->nsegs - 1) < 0) goto ioerr;
        }
    }
    if (!active(l)->active && sm_seg_index_resize(active(l), 1) < 0) goto ioerr;
    l->leo = active(l)->next_offset;
    if (l->leo < log_start_offset) {
        sm_log_warn(LOGGER, "%s Log end offset %lld is below the log start offset %lld, deleting all segments",
                    l->name, (long long)l->leo, (long long)log_start_offset);
        if (reset_to(l, log_start_offset, errstr, errlen) < 0) goto err;
    }
    l->log_start = SM_MAX(log_start_offset, l->segs[0]->base);
    l->recovery_point = recover ? SM_MIN(SM_MAX(recovery_point, 0), l->leo) : l->leo;
    l->hw = l->log_start;
    epoch_truncate_end(l, l->leo);
    epoch_truncate_start(l, l->log_start);
    epoch_save(l);
    if (sm_pstate_rebuild(l->ps, l->dir, l->name, l->segs, l->nsegs, l->leo) < 0) goto ioerr;
    sm_log_info(LOGGER, "%s Completed load of log with %d segments, log start offset %lld and log end offset %lld in %lld ms",
                l->name, l->nsegs, (long long)l->log_start, (long long)l->leo, (long long)(sm_mono_ms() - t0));
    return l;

ioerr:
    snprintf(errstr, errlen, "I/O error while loading log %s: %s", l->dir, strerror(errno));
err:
    free(bases);
    for (int i = 0; i < l->nsegs; i++) sm_seg_close(l->segs[i], 0);
    plog_free(l);
    return NULL;
}

static int do_flush(sm_plog_t *l);

void
sm_plog_close(sm_plog_t *l)
{
    if (!l) return;
    pthread_rwlock_wrlock(&l->lock);
    if (l->nsegs > 0) sm_seg_seal_time_index(active(l));
    do_flush(l);
    epoch_save(l);
    if (l->nsegs > 0) pstate_snapshot(l, l->leo);
    for (int i = 0; i < l->nsegs; i++) sm_seg_close(l->segs[i], 1);
    l->nsegs = 0;
    pthread_rwlock_unlock(&l->lock);
    plog_free(l);
}

void
sm_plog_delete(sm_plog_t *l)
{
    if (!l) return;
    pthread_rwlock_wrlock(&l->lock);
    for (int i = 0; i < l->nsegs; i++) sm_seg_close(l->segs[i], 0);
    l->nsegs = 0;
    if (sm_rmtree(l->dir) < 0)
        sm_log_error(LOGGER, "%s Error deleting %s: %s", l->name, l->dir, strerror(errno));
    else
        sm_log_info(LOGGER, "%s Deleted log for partition %s-%d in %s.", l->name, l->topic, l->partition, l->dir);
    pthread_rwlock_unlock(&l->lock);
    plog_free(l);
}

/* ---- roll / append ---- */

/* Seal the active segment and start one at new_base (Kafka's roll). */
static sm_err_t
roll(sm_plog_t *l, int64_t new_base)
{
    int64_t t0 = sm_mono_ms();
    sm_seg_t *old = active(l);
    char err[256];
    if (old->size == 0 && old->base == new_base) return SM_ERR_NONE;
    /* Open the new segment first: on failure the old one stays active. */
    sm_seg_t *s = sm_seg_open(l->dir, new_base, 1, 1, l->cfg.segment_index_bytes, err, sizeof(err));
    if (!s) {
        sm_log_error(LOGGER, "%s Error rolling to offset %lld: %s", l->name, (long long)new_base, err);
        return SM_ERR_KAFKA_STORAGE_ERROR;
    }
    s->jitter_ms = new_jitter(&l->cfg);
    if (old->size == 0) {
        remove_segs(l, l->nsegs - 1, l->nsegs);   /* an empty segment has nothing to keep */
    } else {
        sm_seg_seal_time_index(old);
        sm_seg_index_resize(old, 0);
        l->flush_pending = 1;
    }
    push_seg(l, s);
    pstate_snapshot(l, new_base);
    sm_log_info(LOGGER, "%s Rolled new log segment at offset %lld in %lld ms.", l->name, (long long)new_base,
                (long long)(sm_mono_ms() - t0));
    return SM_ERR_NONE;
}

/* LogSegment.shouldRoll for an append of len bytes, offsets [first, last]. */
static int
should_roll(sm_plog_t *l, size_t len, int64_t first, int64_t last, int64_t max_ts, int64_t now)
{
    sm_seg_t *s = active(l);
    if (last - s->base > INT32_MAX || first < s->base) return 1;
    if (s->size == 0) return 0;
    if (s->size > l->cfg.segment_bytes - (int64_t)len) return 1;
    int64_t waited = (s->first_ts >= 0 && max_ts >= 0) ? max_ts - s->first_ts : now - s->created_ms;
    if (waited > l->cfg.segment_ms - s->jitter_ms) return 1;
    return sm_seg_index_full(s);
}

sm_err_t
sm_plog_append(sm_plog_t *l, uint8_t *buf, size_t len, int32_t leader_epoch, int assign_offsets,
               sm_append_info_t *info)
{
    sm_batch_hdr_t h;
    sm_err_t err = SM_ERR_NONE;
    int64_t now = sm_now_ms();
    int lat = l->cfg.message_timestamp_log_append && assign_offsets;

    pthread_rwlock_wrlock(&l->lock);
    /* Pass 1: framing and offsets, nothing modified yet. */
    int64_t next = l->leo, first = -1, in_max_ts = -1;
    for (size_t pos = 0; pos < len;) {
        if (sm_batch_header_decode(buf + pos, len - pos, &h) < 0 || h.batch_length < 0 ||
            h.last_offset_delta < 0 || sm_batch_size(&h) > len - pos) { err = SM_ERR_CORRUPT_MESSAGE; goto out; }
        int64_t base = assign_offsets ? next : h.base_offset;
        if (base < next || base > INT64_MAX - h.last_offset_delta - 1) { err = SM_ERR_CORRUPT_MESSAGE; goto out; }
        if (first < 0) first = base;
        next = base + h.last_offset_delta + 1;
        in_max_ts = SM_MAX(in_max_ts, lat ? now : h.max_timestamp);
        pos += sm_batch_size(&h);
    }
    if (first < 0) { err = SM_ERR_CORRUPT_MESSAGE; goto out; }
    int64_t last = next - 1;
    if (info) info->duplicate = 0;
    if (assign_offsets) {
        /* Idempotent producers: checked against the state under the same
         * lock as the write, so check + append + update are atomic. */
        sm_pbatch_t dup;
        err = sm_pstate_check_append(l->ps, buf, len, &dup);
        if (err == SM_ERR_DUPLICATE_SEQUENCE_NUMBER) {
            err = SM_ERR_NONE;
            if (info) {
                info->first_offset = sm_pbatch_first_offset(&dup);
                info->last_offset = dup.last_offset;
                info->max_timestamp = dup.timestamp;
                info->log_append_time = lat ? dup.timestamp : -1;
                info->log_start_offset = l->log_start;
                info->duplicate = 1;
            }
            goto out;
        }
        if (err != SM_ERR_NONE) goto out;
    }

    if (should_roll(l, len, first, last, in_max_ts, now) && (err = roll(l, first)) != SM_ERR_NONE) goto out;

    /* Pass 2: stamp in place and add index entries; undone if the write fails. */
    sm_seg_t *s = active(l);
    int32_t save_o = s->oidx.entries, save_t = s->tidx.entries;
    int64_t save_bsi = s->bytes_since_index, save_mts = s->max_ts, save_mto = s->max_ts_offset, save_fts = s->first_ts;
    next = first;
    for (size_t pos = 0; pos < len;) {
        uint8_t *p = buf + pos;
        sm_batch_header_decode(p, len - pos, &h);
        size_t bsize = sm_batch_size(&h);
        int64_t base = assign_offsets ? next : h.base_offset;
        if (assign_offsets) {
            sm_batch_set_base_offset(p, base);
            sm_batch_set_leader_epoch(p, leader_epoch);
        }
        if (lat) sm_batch_set_log_append_time(p, bsize, now);
        int64_t blast = base + h.last_offset_delta, bts = lat ? now : h.max_timestamp;
        if (bts > s->max_ts) { s->max_ts = bts; s->max_ts_offset = blast; }
        if (s->size == 0 && pos == 0) s->first_ts = bts;
        if (s->bytes_since_index > l->cfg.index_interval_bytes) {
            sm_seg_index_append(s, blast, s->size + (int64_t)pos, s->max_ts, s->max_ts_offset);
            s->bytes_since_index = 0;
        }
        s->bytes_since_index += (int64_t)bsize;
        next = blast + 1;
        pos += bsize;
    }

    /* One write for the whole append; a failure leaves no partial bytes. */
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(s->log->fd, buf + done, len - done, (off_t)(s->size + (int64_t)done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            sm_log_error(LOGGER, "%s Error appending %zu bytes to %s.log: %s", l->name, len, s->prefix,
                         w < 0 ? strerror(errno) : "short write");
            if (ftruncate(s->log->fd, (off_t)s->size) < 0) { /* the size we keep is still right */ }
            s->oidx.entries = save_o;
            s->tidx.entries = save_t;
            s->bytes_since_index = save_bsi;
            s->max_ts = save_mts;
            s->max_ts_offset = save_mto;
            s->first_ts = save_fts;
            err = SM_ERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        done += (size_t)w;
    }
    s->size += (int64_t)len;
    s->next_offset = last + 1;
    l->leo = last + 1;
    sm_pstate_apply_append(l->ps, buf, len, lat ? now : -1);

    if (assign_offsets) {
        epoch_assign(l, leader_epoch, first);
    } else {
        for (size_t pos = 0; pos < len; pos += sm_batch_size(&h)) {
            sm_batch_header_decode(buf + pos, len - pos, &h);
            epoch_assign(l, h.partition_leader_epoch, h.base_offset);
        }
    }
    epoch_save(l);

    l->unflushed += last - first + 1;
    if (l->unflushed >= l->cfg.flush_messages) do_flush(l);
    if (info) {
        info->first_offset = first;
        info->last_offset = last;
        info->max_timestamp = in_max_ts;
        info->log_append_time = lat ? now : -1;
        info->log_start_offset = l->log_start;
    }
out:
    pthread_rwlock_unlock(&l->lock);
    return err;
}

/* ---- read ---- */

sm_err_t
sm_plog_read(sm_plog_t *l, int64_t offset, int64_t max_offset, int32_t max_bytes, int min_one,
             sm_log_region_t *out)
{
    sm_batch_hdr_t h, mh;
    sm_err_t err = SM_ERR_NONE;
    out->file = NULL;
    out->pos = out->len = 0;

    pthread_rwlock_rdlock(&l->lock);
    if (offset < l->log_start || offset > l->leo) { err = SM_ERR_OFFSET_OUT_OF_RANGE; goto out; }
    if (max_offset > l->leo) max_offset = l->leo;
    if (offset >= max_offset) goto out;
    int i = seg_for(l, offset);
    if (i < 0) i = 0;
    for (; i < l->nsegs; i++) {
        sm_seg_t *s = l->segs[i];
        int64_t pos, limit = s->size;
        int r = sm_seg_find_batch(s, offset, sm_seg_lookup_pos(s, offset), limit, &pos, &h);
        if (r < 0) {
            sm_log_error(LOGGER, "%s Invalid batch header in %s.log while reading offset %lld", l->name, s->prefix,
                         (long long)offset);
            err = SM_ERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        if (r == 0) continue;
        if (sm_batch_last_offset(&h) >= max_offset) goto out;
        int64_t end = limit;
        /* HW below LEO and inside this segment: stop at the batch holding it. */
        if (max_offset < l->leo && (i == l->nsegs - 1 || max_offset < l->segs[i + 1]->base)) {
            int64_t mp, from = SM_MAX(pos, sm_seg_lookup_pos(s, max_offset));
            r = sm_seg_find_batch(s, max_offset, from, limit, &mp, &mh);
            if (r < 0) { err = SM_ERR_KAFKA_STORAGE_ERROR; goto out; }
            if (r == 1) end = mp;
        }
        int64_t first_size = (int64_t)sm_batch_size(&h);
        if (end - pos > (int64_t)SM_MAX(max_bytes, 0)) {
            if (first_size > max_bytes) {
                end = min_one ? pos + first_size : pos;
            } else {
                /* Largest batch boundary <= pos + max_bytes, found from the
                 * index so only a short run of headers is read. */
                int64_t target = pos + max_bytes;
                int64_t b = SM_MAX(pos, sm_seg_lookup_pos_by_pos(s, target));
                for (;;) {
                    r = sm_seg_read_header(s, b, end, &mh);
                    if (r < 0 && r != -1) { err = SM_ERR_KAFKA_STORAGE_ERROR; goto out; }
                    if (r <= 0 || b + (int64_t)sm_batch_size(&mh) > target) break;
                    b += (int64_t)sm_batch_size(&mh);
                }
                end = b;
            }
        }
        if (end > pos) {
            out->file = sm_file_ref(s->log);
            out->pos = pos;
            out->len = end - pos;
        }
        goto out;
    }
out:
    pthread_rwlock_unlock(&l->lock);
    return err;
}

/* ---- timestamps ---- */

/* Exact first record with timestamp >= ts inside the batch at pos (read
 * whole; ListOffsets is rare). Falls back to the batch bounds. */
static void
batch_ts_search(const sm_plog_t *l, const sm_seg_t *s, int64_t pos, const sm_batch_hdr_t *h, int64_t ts,
                int64_t *offset, int64_t *timestamp)
{
    *offset = h->base_offset;
    *timestamp = h->max_timestamp;
    if (h->attributes & SM_ATTR_LOG_APPEND_TIME) return;   /* every record has maxTimestamp */
    size_t n = sm_batch_size(h);
    if ((int64_t)n > max_batch(l)) return;
    uint8_t *buf = sm_malloc(n);
    ssize_t r;
    do r = pread(s->log->fd, buf, n, (off_t)pos); while (r < 0 && errno == EINTR);
    sm_record_iter_t it;
    if (r == (ssize_t)n && sm_record_iter_init(&it, buf, n, (size_t)max_batch(l)) == SM_ERR_NONE) {
        sm_record_t rec;
        while (sm_record_iter_next(&it, &rec) == 1) {
            if (rec.timestamp >= ts && rec.offset >= l->log_start) {
                *offset = rec.offset;
                *timestamp = rec.timestamp;
                break;
            }
        }
        sm_record_iter_free(&it);
    }
    free(buf);
}

int
sm_plog_offset_for_timestamp(sm_plog_t *l, int64_t ts, int64_t *offset, int64_t *timestamp)
{
    int rc = -1;
    sm_batch_hdr_t h;
    pthread_rwlock_rdlock(&l->lock);
    for (int i = 0; i < l->nsegs && rc < 0; i++) {
        sm_seg_t *s = l->segs[i];
        if (s->max_ts < ts || s->size == 0) continue;
        int64_t from = SM_MAX(sm_seg_lookup_time(s, ts), l->log_start);
        int64_t pos = sm_seg_lookup_pos(s, from);
        for (;;) {
            int r = sm_seg_read_header(s, pos, s->size, &h);
            if (r <= 0) break;
            if (sm_batch_last_offset(&h) >= l->log_start && h.max_timestamp >= ts) {
                batch_ts_search(l, s, pos, &h, ts, offset, timestamp);
                *offset = SM_MAX(*offset, l->log_start);
                rc = 0;
                break;
            }
            pos += (int64_t)sm_batch_size(&h);
        }
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

int
sm_plog_max_timestamp(sm_plog_t *l, int64_t *offset, int64_t *timestamp)
{
    int rc = -1;
    pthread_rwlock_rdlock(&l->lock);
    for (int i = 0; i < l->nsegs; i++) {
        sm_seg_t *s = l->segs[i];
        if (s->size > 0 && s->max_ts >= 0 && (rc < 0 || s->max_ts > *timestamp)) {
            *timestamp = s->max_ts;
            *offset = s->max_ts_offset;
            rc = 0;
        }
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

/* ---- accessors ---- */

#define RD_GET(type, fn, expr)                  \
    type fn(sm_plog_t *l) {                     \
        pthread_rwlock_rdlock(&l->lock);        \
        type v = (expr);                        \
        pthread_rwlock_unlock(&l->lock);        \
        return v;                               \
    }
RD_GET(int64_t, sm_plog_log_end_offset, l->leo)
RD_GET(int64_t, sm_plog_log_start_offset, l->log_start)
RD_GET(int64_t, sm_plog_recovery_point, l->recovery_point)
RD_GET(int, sm_plog_segment_count, l->nsegs)
RD_GET(int32_t, sm_plog_latest_epoch, l->nepochs ? l->epochs[l->nepochs - 1].epoch : -1)
#undef RD_GET

int64_t
sm_plog_size_bytes(sm_plog_t *l)
{
    int64_t n = 0;
    pthread_rwlock_rdlock(&l->lock);
    for (int i = 0; i < l->nsegs; i++) n += l->segs[i]->size;
    pthread_rwlock_unlock(&l->lock);
    return n;
}

const char *sm_plog_topic(sm_plog_t *l) { return l->topic; }
int32_t sm_plog_partition(sm_plog_t *l) { return l->partition; }
const char *sm_plog_dir(sm_plog_t *l) { return l->dir; }

void
sm_plog_set_high_watermark(sm_plog_t *l, int64_t hw)
{
    pthread_rwlock_rdlock(&l->lock);
    hw = SM_MAX(l->log_start, SM_MIN(hw, l->leo));
    __atomic_store_n(&l->hw, hw, __ATOMIC_RELEASE);
    pthread_rwlock_unlock(&l->lock);
}

int64_t
sm_plog_high_watermark(sm_plog_t *l)
{
    return __atomic_load_n(&l->hw, __ATOMIC_ACQUIRE);
}

void
sm_plog_epoch_end_offset(sm_plog_t *l, int32_t epoch, int32_t *out_epoch, int64_t *out_offset)
{
    *out_epoch = -1;
    *out_offset = -1;
    pthread_rwlock_rdlock(&l->lock);
    int n = l->nepochs;
    if (epoch >= 0 && n > 0) {
        if (epoch == l->epochs[n - 1].epoch) {
            *out_epoch = epoch;
            *out_offset = l->leo;
        } else {
            int hi = 0;   /* first entry with epoch > requested */
            while (hi < n && l->epochs[hi].epoch <= epoch) hi++;
            if (hi < n) {
                *out_epoch = hi == 0 ? epoch : l->epochs[hi - 1].epoch;
                *out_offset = l->epochs[hi].start_offset;
            }
        }
    }
    pthread_rwlock_unlock(&l->lock);
}

/* ---- retention, roll, flush ---- */

enum { DEL_START, DEL_TIME, DEL_SIZE };

/* Kafka's deletableSegments + deleteSegments for one rule, under wrlock. */
static int
delete_old(sm_plog_t *l, int rule, int64_t now)
{
    int64_t hw = __atomic_load_n(&l->hw, __ATOMIC_ACQUIRE), diff = 0;
    if (rule == DEL_SIZE) {
        if (l->cfg.retention_bytes < 0) return 0;
        for (int i = 0; i < l->nsegs; i++) diff += l->segs[i]->size;
        diff -= l->cfg.retention_bytes;
        if (diff <= 0) return 0;
    }
    if (rule == DEL_TIME && l->cfg.retention_ms < 0) return 0;
    int n = 0;
    for (int i = 0; i < l->nsegs; i++) {
        sm_seg_t *s = l->segs[i];
        int last = i == l->nsegs - 1;
        int64_t upper = last ? l->leo : l->segs[i + 1]->base;
        if ((last && s->size == 0) || upper > hw) break;
        int ok;
        switch (rule) {
        case DEL_START: ok = !last && upper <= l->log_start; break;
        case DEL_TIME: ok = now - sm_seg_largest_ts(s) > l->cfg.retention_ms; break;
        default: ok = diff - s->size >= 0; if (ok) diff -= s->size; break;
        }
        if (!ok) break;
        n++;
    }
    if (n == 0) return 0;
    /* The active segment can only go once it has been rolled. */
    if (n == l->nsegs && roll(l, l->leo) != SM_ERR_NONE) n--;
    for (int i = 0; i < n; i++) {
        sm_seg_t *s = l->segs[i];
        static const char *const why[] = { "log start offset breach", "retention time breach", "retention size breach" };
        sm_log_info(LOGGER, "%s Deleting segment %s.log (baseOffset=%lld, size=%lld, largestTime=%lld) due to %s",
                    l->name, s->prefix, (long long)s->base, (long long)s->size, (long long)sm_seg_largest_ts(s), why[rule]);
    }
    remove_segs(l, 0, n);
    sm_pstate_snap_delete_outside(l->dir, l->segs[0]->base, INT64_MAX);
    if (l->segs[0]->base > l->log_start) {
        l->log_start = l->segs[0]->base;
        sm_log_info(LOGGER, "%s Incremented log start offset to %lld due to segment deletion", l->name,
                    (long long)l->log_start);
    }
    if (l->recovery_point < l->log_start) l->recovery_point = l->log_start;
    epoch_truncate_start(l, l->log_start);
    epoch_save(l);
    return n;
}

int
sm_plog_apply_retention(sm_plog_t *l, int64_t now_ms)
{
    int n = 0;
    pthread_rwlock_wrlock(&l->lock);
    n += delete_old(l, DEL_START, now_ms);
    sm_pstate_expire(l->ps, now_ms, SM_PRODUCER_EXPIRATION_MS);
    if (l->cfg.cleanup_delete) {
        n += delete_old(l, DEL_TIME, now_ms);
        n += delete_old(l, DEL_SIZE, now_ms);
    }
    pthread_rwlock_unlock(&l->lock);
    return n;
}

void
sm_plog_maybe_roll(sm_plog_t *l, int64_t now_ms)
{
    pthread_rwlock_wrlock(&l->lock);
    sm_seg_t *s = active(l);
    /* Wall clock since the segment got data: old producer timestamps must
     * not make every tick roll. */
    int64_t since = SM_MAX(s->created_ms, s->first_ts);
    if (s->size > 0 && now_ms - since > l->cfg.segment_ms - s->jitter_ms) roll(l, l->leo);
    pthread_rwlock_unlock(&l->lock);
}

static int
do_flush(sm_plog_t *l)
{
    int rc = 0;
    for (int i = 0; i < l->nsegs; i++) {
        int last = i == l->nsegs - 1;
        if (!last && l->segs[i + 1]->base <= l->recovery_point) continue;
        if (sm_seg_flush(l->segs[i]) < 0) rc = -1;
    }
    if (l->flush_pending && sm_fsync_dir(l->dir) < 0) rc = -1;
    if (rc < 0) {
        sm_log_error(LOGGER, "%s Error flushing log: %s", l->name, strerror(errno));
        return -1;
    }
    l->recovery_point = l->leo;
    l->unflushed = 0;
    l->flush_pending = 0;
    l->last_flush_ms = sm_now_ms();
    return 0;
}

int
sm_plog_flush(sm_plog_t *l)
{
    pthread_rwlock_wrlock(&l->lock);
    int rc = do_flush(l);
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

void
sm_plog_maybe_flush(sm_plog_t *l, int64_t now_ms)
{
    pthread_rwlock_wrlock(&l->lock);
    if (l->flush_pending || (l->unflushed > 0 && now_ms - l->last_flush_ms >= l->cfg.flush_ms)) do_flush(l);
    pthread_rwlock_unlock(&l->lock);
}

sm_err_t
sm_plog_truncate_to(sm_plog_t *l, int64_t offset)
{
    sm_err_t err = SM_ERR_NONE;
    char e2[256];
    if (offset < 0) return SM_ERR_OFFSET_OUT_OF_RANGE;
    pthread_rwlock_wrlock(&l->lock);
    if (offset >= l->leo) goto out;
    sm_log_info(LOGGER, "%s Truncating to offset %lld", l->name, (long long)offset);
    if (offset < l->log_start || l->segs[0]->base > offset) {
        if (reset_to(l, offset, e2, sizeof(e2)) < 0) {
            sm_log_error(LOGGER, "%s %s", l->name, e2);
            err = SM_ERR_KAFKA_STORAGE_ERROR;
            goto out;
        }
        if (offset < l->log_start) l->log_start = offset;
    } else {
        int k = l->nsegs;
        while (k > 1 && l->segs[k - 1]->base > offset) k--;
        remove_segs(l, k, l->nsegs);
        if (!active(l)->active && sm_seg_index_resize(active(l), 1) < 0) { err = SM_ERR_KAFKA_STORAGE_ERROR; goto out; }
        if (sm_seg_truncate_to(active(l), offset) < 0) {
            sm_log_error(LOGGER, "%s Error truncating %s.log: %s", l->name, active(l)->prefix, strerror(errno));
            err = SM_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    l->leo = active(l)->next_offset;
    l->recovery_point = SM_MIN(l->recovery_point, l->leo);
    if (l->hw > l->leo) __atomic_store_n(&l->hw, l->leo, __ATOMIC_RELEASE);
    epoch_truncate_end(l, l->leo);
    epoch_save(l);
    /* Kafka's truncateAndReload: later snapshots go, the state is rebuilt. */
    sm_pstate_snap_delete_outside(l->dir, 0, l->leo);
    if (sm_pstate_rebuild(l->ps, l->dir, l->name, l->segs, l->nsegs, l->leo) < 0) err = SM_ERR_KAFKA_STORAGE_ERROR;
out:
    pthread_rwlock_unlock(&l->lock);
    return err;
}

sm_err_t
sm_plog_truncate_fully_and_start_at(sm_plog_t *l, int64_t offset)
{
    sm_err_t err = SM_ERR_NONE;
    char e2[256];
    if (offset < 0) return SM_ERR_OFFSET_OUT_OF_RANGE;
    pthread_rwlock_wrlock(&l->lock);
    sm_log_info(LOGGER, "%s Truncating fully and starting at offset %lld (was [%lld, %lld))", l->name,
                (long long)offset, (long long)l->log_start, (long long)l->leo);
    if (reset_to(l, offset, e2, sizeof(e2)) < 0) {
        sm_log_error(LOGGER, "%s %s", l->name, e2);
        err = SM_ERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    l->log_start = offset;
    l->recovery_point = offset;
    __atomic_store_n(&l->hw, offset, __ATOMIC_RELEASE);
    /* Nothing below offset is left to describe: Kafka clears the cache. */
    if (l->nepochs > 0) {
        l->nepochs = 0;
        l->epochs_dirty = 1;
    }
    epoch_save(l);
    sm_pstate_snap_delete_outside(l->dir, INT64_MAX, -1);   /* all of them */
    sm_pstate_clear(l->ps);
out:
    pthread_rwlock_unlock(&l->lock);
    return err;
}

sm_err_t
sm_plog_set_log_start_offset(sm_plog_t *l, int64_t offset)
{
    sm_err_t err = SM_ERR_NONE;
    pthread_rwlock_wrlock(&l->lock);
    if (offset > l->leo || offset < 0) { err = SM_ERR_OFFSET_OUT_OF_RANGE; goto out; }
    if (offset <= l->log_start) goto out;
    l->log_start = offset;
    sm_log_info(LOGGER, "%s Incremented log start offset to %lld due to client delete records request", l->name,
                (long long)offset);
    if (l->hw < offset) __atomic_store_n(&l->hw, offset, __ATOMIC_RELEASE);
    if (l->recovery_point < offset) l->recovery_point = offset;
    delete_old(l, DEL_START, 0);
    epoch_truncate_start(l, offset);
    epoch_save(l);
out:
    pthread_rwlock_unlock(&l->lock);
    return err;
}

void
sm_plog_set_config(sm_plog_t *l, const sm_log_config_t *cfg)
{
    pthread_rwlock_wrlock(&l->lock);
    l->cfg = *cfg;
    pthread_rwlock_unlock(&l->lock);
}

/* ---- log cleaner hooks (sm_cleaner.h) ---- */

void
sm_plog_clean_view(sm_plog_t *l, int with_files, sm_clean_view_t *v)
{
    memset(v, 0, sizeof(*v));
    pthread_rwlock_rdlock(&l->lock);
    v->cfg = l->cfg;
    v->log_start = l->log_start;
    v->leo = l->leo;
    v->hw = __atomic_load_n(&l->hw, __ATOMIC_ACQUIRE);
    v->active_base = active(l)->base;
    /* Logs that are not compacted come back without segments. */
    int n = l->cfg.cleanup_compact ? l->nsegs - 1 : 0;
    v->segs = sm_calloc((size_t)(n > 0 ? n : 1), sizeof(*v->segs));
    for (int i = 0; i < n; i++) {
        sm_seg_t *s = l->segs[i];
        sm_clean_seg_t *c = &v->segs[i];
        struct stat st;
        c->base = s->base;
        c->end = l->segs[i + 1]->base;
        c->size = s->size;
        c->max_ts = s->max_ts;
        c->first_ts = s->first_ts;
        c->mtime_ms = fstat(s->log->fd, &st) == 0 ? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 : 0;
        c->file = with_files ? sm_file_ref(s->log) : NULL;
    }
    v->nsegs = n;
    pthread_rwlock_unlock(&l->lock);
}

int
sm_plog_clean_swap(sm_plog_t *l, const sm_clean_seg_t *old, int nold)
{
    int rc = -1, at = -1;
    pthread_rwlock_wrlock(&l->lock);
    /* i + nold < nsegs: the active segment is never replaced. */
    for (int i = 0; nold > 0 && i + nold < l->nsegs && at < 0; i++)
        if (l->segs[i]->log == old[0].file) at = i;
    for (int k = 0; at >= 0 && k < nold; k++)
        if (l->segs[at + k]->log != old[k].file || l->segs[at + k]->size != old[k].size) at = -1;
    if (at >= 0) {
        sm_seg_t *s = sm_cleaner_swap_in(l->dir, l->name, l->segs + at, nold, l->cfg.segment_index_bytes);
        if (s) {
            for (int k = 0; k < nold; k++) sm_seg_close(l->segs[at + k], 0);
            l->segs[at] = s;
            memmove(l->segs + at + 1, l->segs + at + nold, (size_t)(l->nsegs - at - nold) * sizeof(*l->segs));
            l->nsegs -= nold - 1;
            rc = 0;
        }
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

int64_t
sm_plog_producer_last_offset(sm_plog_t *l, int64_t pid)
{
    pthread_rwlock_rdlock(&l->lock);
    const sm_pentry_t *e = sm_pstate_get(l->ps, pid);
    int64_t v = e && e->nbatches > 0 ? e->batches[e->nbatches - 1].last_offset : -1;
    pthread_rwlock_unlock(&l->lock);
    return v;
}

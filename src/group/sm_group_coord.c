/*
 * sm_group_coord.c - the coordinator thread (see sm_group_coord.h): event
 * loop, 100 ms tick, appends to __consumer_offsets as leader, and loading
 * of partitions this broker becomes leader of.
 *
 * Commit completion is driven by the high watermark: the replica manager's
 * "HW moved" notification reaches sm_gcoord_data_changed(), which posts one
 * re-check of the appends waiting for the ISR (only when some wait, and at
 * most one post in flight). The tick re-checks too, but only to enforce
 * offsets.commit.timeout.ms and as a safety net.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "group/sm_group_coord.h"
#include "proto/sm_records.h"

#define LOGGER "samsa.coordinator.group"
#define TICK_MS 100
#define LOAD_READ_BYTES (1 << 20)
#define MAX_UNCOMPRESSED (64 << 20)

struct sm_gcoord_s {
    sm_gc_config_t cfg;
    sm_gcoord_cb_t cb;
    sm_replica_mgr_t *rm;
    sm_gc_t *gc;
    struct event_base *base;
    struct event *tick;
    pthread_t thread;
    sm_wbuf_t batch;                 /* append buffer (coordinator thread) */
    struct acks_wait_s *waiting;     /* appends waiting for the ISR (acks=-1) */
    int nwaiting;                    /* atomic: length of waiting */
    int check_posted;                /* atomic: a re-check is queued */
};

/* An append whose records are in the leader's log but not yet replicated to
 * the whole ISR: re-checked whenever a high watermark moves (and on every
 * tick) until offsets.commit.timeout.ms. */
typedef struct acks_wait_s {
    sm_partition_t *p;               /* holds a reference */
    int32_t leader_epoch;
    int64_t required_offset;
    int64_t deadline;                /* monotonic */
    void *token;
    struct acks_wait_s *next;
} acks_wait_t;


/* ---- core callbacks (coordinator thread) ---- */

static void
op_join_done(void *arg, void *waiter, const sm_gc_join_result_t *res)
{
    ((sm_gcoord_t *)arg)->cb.join_done(waiter, res);
}

static void
op_sync_done(void *arg, void *waiter, sm_err_t err, sm_bytes_t assignment)
{
    ((sm_gcoord_t *)arg)->cb.sync_done(waiter, err, assignment);
}

static void
op_commit_done(void *arg, void *waiter, const int16_t *errors, int32_t n)
{
    ((sm_gcoord_t *)arg)->cb.commit_done(waiter, errors, n);
}

typedef struct {
    sm_gcoord_t *co;
    void *token;
    sm_err_t err;
} append_done_t;

static void
run_append_done(void *arg)
{
    append_done_t *d = arg;
    if (d->co->gc) sm_gc_append_done(d->co->gc, d->token, d->err, sm_now_ms());
    free(d);
}

static void
post_done(sm_gcoord_t *co, void *token, sm_err_t err)
{
    append_done_t *d = sm_malloc(sizeof(*d));
    d->co = co;
    d->token = token;
    d->err = err;
    sm_loop_post(co->base, run_append_done, d);
}

/* Finish appends the ISR has acknowledged (or that timed out). */
static void
check_waiting(sm_gcoord_t *co, int64_t mono_now)
{
    for (acks_wait_t **pp = &co->waiting; *pp;) {
        acks_wait_t *w = *pp;
        int done = 0;
        sm_err_t err = sm_replica_produce_status(w->p, w->leader_epoch, w->required_offset, &done);
        if (!done && mono_now < w->deadline) { pp = &w->next; continue; }
        if (!done) err = SM_ERR_REQUEST_TIMED_OUT;
        *pp = w->next;
        __atomic_sub_fetch(&co->nwaiting, 1, __ATOMIC_RELAXED);
        post_done(co, w->token, err);
        sm_partition_unref(w->p);
        free(w);
    }
}

static void
op_append(void *arg, int32_t partition, const sm_record_spec_t *recs, int n, void *token)
{
    sm_gcoord_t *co = arg;
    sm_wbuf_reset(&co->batch);
    sm_err_t err = sm_batch_build(&co->batch, 0, SM_CODEC_NONE, recs, n);
    sm_partition_t *p = NULL;
    sm_produce_result_t res;
    if (err == SM_ERR_NONE) {
        p = sm_replica_get(co->rm, SM_GC_OFFSETS_TOPIC, strlen(SM_GC_OFFSETS_TOPIC), partition);
        /* offsets.commit.required.acks (-1: the whole ISR; 0 is treated
         * as 1, since a commit answer always follows the append). */
        int acks = co->cfg.commit_required_acks < 0 ? -1 : 1;
        err = p ? sm_replica_append(co->rm, p, co->batch.data, co->batch.len, acks, &res) : SM_ERR_NOT_LEADER_OR_FOLLOWER;
    }
    if (err != SM_ERR_NONE)
        sm_log_warn(LOGGER, "[GroupMetadataManager brokerId=%d] Appending %d records to %s-%d failed: %s",
                    co->cfg.broker_id, n, SM_GC_OFFSETS_TOPIC, partition, sm_err_name(err));
    if (!token || err != SM_ERR_NONE || co->cfg.commit_required_acks >= 0) {
        if (token) post_done(co, token, err);
        sm_partition_unref(p);
        return;
    }
    /* The answer leaves once the ISR has the records (at once with a
     * leader-only ISR); always from a later event, never inside the core. */
    acks_wait_t *w = sm_calloc(1, sizeof(*w));
    w->p = p;
    w->leader_epoch = res.leader_epoch;
    w->required_offset = res.last_offset + 1;
    w->deadline = sm_mono_ms() + (co->cfg.commit_timeout_ms > 0 ? co->cfg.commit_timeout_ms : 5000);
    w->token = token;
    w->next = co->waiting;
    co->waiting = w;
    __atomic_add_fetch(&co->nwaiting, 1, __ATOMIC_RELAXED);
    check_waiting(co, sm_mono_ms());
}

static void
run_check(void *arg)
{
    sm_gcoord_t *co = arg;
    /* Clear first: a notification arriving during the check posts again. */
    __atomic_store_n(&co->check_posted, 0, __ATOMIC_RELEASE);
    if (co->gc) check_waiting(co, sm_mono_ms());
}

void
sm_gcoord_data_changed(sm_gcoord_t *co)
{
    if (!co || __atomic_load_n(&co->nwaiting, __ATOMIC_RELAXED) == 0) return;
    if (__atomic_exchange_n(&co->check_posted, 1, __ATOMIC_ACQ_REL)) return;
    sm_loop_post(co->base, run_check, co);
}

/* ---- loading ---- */

static int
pread_all(int fd, uint8_t *buf, size_t len, int64_t pos)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(pos + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

int
sm_gcoord_replay_log(sm_gc_t *gc, int32_t partition, sm_plog_t *log, int64_t now)
{
    int64_t off = sm_plog_log_start_offset(log);
    int64_t end = sm_plog_log_end_offset(log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int applied = 0;
    while (off < end) {
        sm_log_region_t reg;
        if (sm_plog_read(log, off, end, LOAD_READ_BYTES, 1, &reg) != SM_ERR_NONE) { applied = -1; break; }
        if (reg.len <= 0) break;
        if ((size_t)reg.len > cap) {
            cap = (size_t)reg.len;
            buf = sm_realloc(buf, cap);
        }
        int rc = pread_all(reg.file->fd, buf, (size_t)reg.len, reg.pos);
        size_t len = (size_t)reg.len;
        sm_file_unref(reg.file);
        if (rc < 0) { applied = -1; break; }
        int64_t next = off;
        size_t pos = 0;
        while (pos + SM_BATCH_HEADER_SIZE <= len) {
            sm_batch_hdr_t h;
            if (sm_batch_header_decode(buf + pos, len - pos, &h) < 0) break;
            size_t size = sm_batch_size(&h);
            if (size > len - pos) break;
            if (!(h.attributes & SM_ATTR_CONTROL)) {
                sm_record_iter_t it;
                if (sm_record_iter_init(&it, buf + pos, size, MAX_UNCOMPRESSED) == SM_ERR_NONE) {
                    sm_record_t rec;
                    while (sm_record_iter_next(&it, &rec) == 1)
                        if (rec.offset >= off && sm_gc_load_record(gc, partition, rec.key, rec.value, now) == 0) applied++;
                    sm_record_iter_free(&it);
                }
            }
            next = sm_batch_last_offset(&h) + 1;
            pos += size;
        }
        if (next <= off) break;      /* no progress: corrupt tail */
        off = next;
    }
    free(buf);
    return applied;
}

typedef struct {
    sm_gcoord_t *co;
    int32_t partition;
    int is_leader;
} lead_t;

static void
run_leadership(void *arg)
{
    lead_t *l = arg;
    sm_gcoord_t *co = l->co;
    int32_t p = l->partition;
    free(l);
    if (!co->gc || p < 0 || p >= co->cfg.num_partitions) return;
    sm_partition_t *part = sm_replica_get(co->rm, SM_GC_OFFSETS_TOPIC, strlen(SM_GC_OFFSETS_TOPIC), p);
    int leader = part && sm_replica_check_leader(part, NULL) == SM_ERR_NONE;
    /* Act on the current role, not on the (possibly stale) notification. */
    if (!leader) {
        sm_gc_unload(co->gc, p);
    } else {
        int64_t t0 = sm_mono_ms();
        sm_gc_load_begin(co->gc, p);
        int n = sm_gcoord_replay_log(co->gc, p, part->log, sm_now_ms());
        if (n < 0)
            sm_log_error(LOGGER, "[GroupMetadataManager brokerId=%d] Error reading %s-%d while loading; serving what was read",
                         co->cfg.broker_id, SM_GC_OFFSETS_TOPIC, p);
        sm_gc_load_end(co->gc, p, sm_now_ms());
        /* Fifty empty partitions at start-up are not worth fifty lines. */
        SM_LOG(n ? SM_LOG_INFO : SM_LOG_DEBUG, LOGGER,
               "[GroupMetadataManager brokerId=%d] Finished loading %d records of %s-%d in %lld milliseconds",
                    co->cfg.broker_id, n < 0 ? 0 : n, SM_GC_OFFSETS_TOPIC, p, (long long)(sm_mono_ms() - t0));
    }
    sm_partition_unref(part);
}

void
sm_gcoord_leadership(void *arg, const char *topic, int32_t partition, int is_leader, int32_t leader_epoch)
{
    sm_gcoord_t *co = arg;
    if (!co || strcmp(topic, SM_GC_OFFSETS_TOPIC)) return;
    lead_t *l = sm_malloc(sizeof(*l));
    l->co = co;
    l->partition = partition;
    l->is_leader = is_leader;
    sm_loop_post(co->base, run_leadership, l);
}

/* ---- thread ---- */

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    sm_gcoord_t *co = arg;
    if (!co->gc) return;
    check_waiting(co, sm_mono_ms());
    sm_gc_tick(co->gc, sm_now_ms());
}

static void *
thread_main(void *arg)
{
    sm_gcoord_t *co = arg;
    event_base_dispatch(co->base);
    return NULL;
}

typedef struct {
    void (*fn)(sm_gc_t *, void *);
    void *arg;
    sm_gcoord_t *co;
} post_t;

static void
run_post(void *arg)
{
    post_t *p = arg;
    if (p->co->gc) p->fn(p->co->gc, p->arg);
    free(p);
}

void
sm_gcoord_post(sm_gcoord_t *co, void (*fn)(sm_gc_t *, void *), void *arg)
{
    post_t *p = sm_malloc(sizeof(*p));
    p->fn = fn;
    p->arg = arg;
    p->co = co;
    sm_loop_post(co->base, run_post, p);
}

int32_t
sm_gcoord_partition_for(const sm_gcoord_t *co, sm_bytes_t group)
{
    return sm_gc_partition_for_n(group, co->cfg.num_partitions);
}

sm_gcoord_t *
sm_gcoord_start(const sm_gc_config_t *cfg, sm_replica_mgr_t *rm, const sm_gcoord_cb_t *cb)
{
    sm_loop_init();
    sm_gcoord_t *co = sm_calloc(1, sizeof(*co));
    co->cfg = *cfg;
    co->cb = *cb;
    co->rm = rm;
    sm_wbuf_init(&co->batch, 4096);
    sm_gc_ops_t ops = { op_join_done, op_sync_done, op_commit_done, op_append, co };
    co->gc = sm_gc_new(cfg, &ops);
    co->base = event_base_new();
    co->tick = event_new(co->base, -1, EV_PERSIST, on_tick, co);
    struct timeval tv = { 0, TICK_MS * 1000 };
    event_add(co->tick, &tv);
    pthread_create(&co->thread, NULL, thread_main, co);
    sm_replica_set_leader_listener(rm, sm_gcoord_leadership, co);
    /* Partitions led before we listened. */
    for (int32_t p = 0; p < cfg->num_partitions; p++) {
        sm_partition_t *part = sm_replica_get(rm, SM_GC_OFFSETS_TOPIC, strlen(SM_GC_OFFSETS_TOPIC), p);
        if (!part) continue;
        if (sm_replica_check_leader(part, NULL) == SM_ERR_NONE) sm_gcoord_leadership(co, SM_GC_OFFSETS_TOPIC, p, 1, -1);
        sm_partition_unref(part);
    }
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Startup complete.", cfg->broker_id);
    return co;
}

static void
run_stop(void *arg)
{
    sm_gcoord_t *co = arg;
    /* Answer every parked request while the network threads still run. */
    sm_gc_free(co->gc);
    co->gc = NULL;
    event_base_loopbreak(co->base);
}

void
sm_gcoord_stop(sm_gcoord_t *co)
{
    if (!co) return;
    sm_replica_set_leader_listener(co->rm, NULL, NULL);
    sm_loop_post(co->base, run_stop, co);
    pthread_join(co->thread, NULL);
    /* Posts that arrived after the stop (late append completions) are
     * dropped with the base. */
    while (co->waiting) {
        acks_wait_t *w = co->waiting;
        co->waiting = w->next;
        sm_partition_unref(w->p);
        free(w);
    }
    event_free(co->tick);
    event_base_free(co->base);
    sm_wbuf_free(&co->batch);
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Shutdown complete.", co->cfg.broker_id);
    free(co);
}

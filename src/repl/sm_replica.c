/*
 * sm_replica.c - partitions hosted by this broker, their leader/follower
 * role, ISR and high watermark (see sm_replica.h).
 *
 * The high watermark is the lowest log end offset in the ISR (Kafka's
 * Partition.maybeIncrementLeaderHW). Lock order: fetcher lock (see
 * sm_fetcher.c), then p->lock, then the log's own lock. Callbacks (data_fn,
 * the ISR writer, the fetcher manager) are never called with p->lock held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "repl/sm_fetcher.h"
#include "repl/sm_replica.h"

#define NBUCKETS 4096

typedef struct entry_s {
    sm_partition_t *p;
    struct entry_s *next;
} entry_t;

struct sm_replica_mgr_s {
    int32_t broker_id;
    sm_logmgr_t *logs;
    sm_topic_config_fn cfg_fn;
    sm_data_fn data_fn;
    void *arg;
    pthread_rwlock_t lock;
    entry_t *buckets[NBUCKETS];
    int64_t lag_ms;                  /* replica.lag.time.max.ms */
    int64_t (*clock)(void);
    sm_isr_write_fn isr_fn;
    void *isr_arg;
    sm_fetcher_mgr_t *fetchers;
    int64_t last_expire_ms;          /* atomic: last ISR-expiration run */
    sm_leader_change_fn leader_fn;   /* group coordinator hook */
    void *leader_arg;
};

static uint32_t
hash_tp(const char *topic, size_t len, int32_t partition)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) { h ^= (uint8_t)topic[i]; h *= 16777619u; }
    h ^= (uint32_t)partition;
    h *= 16777619u;
    return h % NBUCKETS;
}

sm_replica_mgr_t *
sm_replica_mgr_new(int32_t broker_id, sm_logmgr_t *logs, sm_topic_config_fn cfg_fn, sm_data_fn data_fn, void *arg)
{
    sm_replica_mgr_t *rm = sm_calloc(1, sizeof(*rm));
    rm->broker_id = broker_id;
    rm->logs = logs;
    rm->cfg_fn = cfg_fn;
    rm->data_fn = data_fn;
    rm->arg = arg;
    rm->lag_ms = 30000;
    rm->clock = sm_mono_ms;
    pthread_rwlock_init(&rm->lock, NULL);
    return rm;
}

void sm_replica_mgr_set_lag_time(sm_replica_mgr_t *rm, int64_t ms) { rm->lag_ms = ms > 0 ? ms : 1; }
void sm_replica_mgr_set_clock(sm_replica_mgr_t *rm, int64_t (*clock)(void)) { rm->clock = clock ? clock : sm_mono_ms; }
void sm_replica_mgr_set_fetchers(sm_replica_mgr_t *rm, sm_fetcher_mgr_t *fm) { rm->fetchers = fm; }
int32_t sm_replica_mgr_broker_id(const sm_replica_mgr_t *rm) { return rm->broker_id; }
void sm_replica_set_leader_listener(sm_replica_mgr_t *rm, sm_leader_change_fn fn, void *arg)
{
    rm->leader_arg = arg;
    rm->leader_fn = fn;
}

void
sm_replica_mgr_set_isr_writer(sm_replica_mgr_t *rm, sm_isr_write_fn fn, void *arg)
{
    rm->isr_fn = fn;
    rm->isr_arg = arg;
}

static void
partition_free(sm_partition_t *p)
{
    pthread_mutex_destroy(&p->lock);
    free(p->topic);
    free(p->replicas);
    free(p->isr);
    free(p->pending_isr);
    free(p->followers);
    free(p);
}

void
sm_partition_unref(sm_partition_t *p)
{
    if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) partition_free(p);
}

void
sm_replica_mgr_free(sm_replica_mgr_t *rm)
{
    if (!rm) return;
    for (int b = 0; b < NBUCKETS; b++) {
        entry_t *e = rm->buckets[b];
        while (e) {
            entry_t *next = e->next;
            sm_partition_unref(e->p);
            free(e);
            e = next;
        }
    }
    pthread_rwlock_destroy(&rm->lock);
    free(rm);
}

/* Caller holds rm->lock (read or write). */
static sm_partition_t *
lookup(sm_replica_mgr_t *rm, const char *topic, size_t len, int32_t partition)
{
    for (entry_t *e = rm->buckets[hash_tp(topic, len, partition)]; e; e = e->next)
        if (e->p->partition == partition && strlen(e->p->topic) == len && !memcmp(e->p->topic, topic, len))
            return e->p;
    return NULL;
}

sm_partition_t *
sm_replica_get(sm_replica_mgr_t *rm, const char *topic, size_t len, int32_t partition)
{
    pthread_rwlock_rdlock(&rm->lock);
    sm_partition_t *p = lookup(rm, topic, len, partition);
    if (p) __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&rm->lock);
    return p;
}

static void
set_ids(int32_t **dst, int32_t *ndst, const int32_t *src, int32_t n)
{
    int32_t *ids = sm_malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (n) memcpy(ids, src, sizeof(int32_t) * (size_t)n);
    free(*dst);
    *dst = ids;
    *ndst = n;
}

static int
has_id(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

/* "1,2,3" for log lines. */
static const char *
ids_str(char *buf, size_t len, const int32_t *ids, int32_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < n && at + 12 < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%d", i ? "," : "", ids[i]);
    return buf;
}

static sm_follower_t *
find_follower(sm_partition_t *p, int32_t id)
{
    for (int32_t i = 0; i < p->nfollowers; i++)
        if (p->followers[i].id == id) return &p->followers[i];
    return NULL;
}

/* Kafka's makeLeader: every remote replica starts with an unknown LEO; ISR
 * members count as caught up now so a dead one is dropped only after the
 * full lag time. Known state of replicas that stay is kept. Caller holds
 * p->lock. */
static void
reset_followers(sm_replica_mgr_t *rm, sm_partition_t *p, int64_t now, int keep)
{
    sm_follower_t *old = p->followers;
    int32_t nold = p->nfollowers;
    p->followers = sm_calloc((size_t)(p->nreplicas ? p->nreplicas : 1), sizeof(sm_follower_t));
    p->nfollowers = 0;
    for (int32_t i = 0; i < p->nreplicas; i++) {
        int32_t id = p->replicas[i];
        if (id == rm->broker_id || find_follower(p, id)) continue;
        sm_follower_t *f = &p->followers[p->nfollowers++];
        sm_follower_t *prev = NULL;
        for (int32_t k = 0; keep && k < nold; k++)
            if (old[k].id == id) prev = &old[k];
        if (prev) { *f = *prev; continue; }
        f->id = id;
        f->leo = -1;
        f->last_caught_up_ms = has_id(p->isr, p->nisr, id) ? now : 0;
        f->last_fetch_leader_leo = p->epoch_start_offset;
        f->last_fetch_ms = now;
    }
    free(old);
}

/* HW = min LEO over the ISR (including replicas being added by an
 * in-flight write, which may be in the ISR any moment) and over followers
 * caught up within the lag time; it only moves forward. Caller holds
 * p->lock. Returns 1 if it moved. */
static int
maybe_advance_hw(sm_replica_mgr_t *rm, sm_partition_t *p, int64_t now)
{
    if (!p->is_leader || p->deleted) return 0;
    int64_t hw = sm_plog_log_end_offset(p->log);
    for (int32_t i = 0; i < p->nfollowers; i++) {
        const sm_follower_t *f = &p->followers[i];
        int in_isr = has_id(p->isr, p->nisr, f->id) ||
                     (p->isr_inflight && has_id(p->pending_isr, p->npending_isr, f->id));
        int recent = f->leo >= 0 && now - f->last_caught_up_ms <= rm->lag_ms;
        if (f->leo < hw && (in_isr || recent)) hw = f->leo;
    }
    if (hw > sm_plog_high_watermark(p->log)) {
        sm_plog_set_high_watermark(p->log, hw);
        return 1;
    }
    return 0;
}

/* An ISR write prepared under p->lock and issued after unlocking. */
typedef struct {
    int on;
    sm_isr_write_t w;
    int32_t ids[64];
    int32_t *heap;
} isr_job_t;

/* Start changing the ISR to ids[0..n). Without a writer the change applies
 * at once (single broker tools, unit tests). Caller holds p->lock. */
static void
start_isr_change(sm_replica_mgr_t *rm, sm_partition_t *p, const int32_t *ids, int32_t n, isr_job_t *job, int64_t now)
{
    job->on = 0;
    if (p->isr_inflight || p->fenced) return;
    if (!rm->isr_fn) {
        set_ids(&p->isr, &p->nisr, ids, n);
        maybe_advance_hw(rm, p, now);
        return;
    }
    set_ids(&p->pending_isr, &p->npending_isr, ids, n);
    p->isr_inflight = 1;
    int32_t *copy = job->ids;
    job->heap = NULL;
    if (n > (int32_t)SM_ARRAY_SIZE(job->ids)) copy = job->heap = sm_malloc(sizeof(int32_t) * (size_t)n);
    memcpy(copy, ids, sizeof(int32_t) * (size_t)n);
    job->on = 1;
    job->w.topic = p->topic;             /* stable while the caller holds a reference */
    job->w.partition = p->partition;
    job->w.leader = rm->broker_id;
    job->w.leader_epoch = p->leader_epoch;
    job->w.controller_epoch = p->controller_epoch;
    job->w.nisr = n;
    job->w.isr = copy;
    job->w.zk_version = p->zk_version;
}

static void
run_isr_job(sm_replica_mgr_t *rm, isr_job_t *job)
{
    if (!job->on) return;
    rm->isr_fn(rm->isr_arg, &job->w);
    free(job->heap);
    job->on = 0;
}

static void
wake(sm_replica_mgr_t *rm)
{
    if (rm->data_fn) rm->data_fn(rm->arg);
}

void
sm_replica_leader_and_isr(sm_replica_mgr_t *rm, int32_t controller_epoch, const sm_replica_state_t *st, int n,
                          sm_err_t *errors)
{
    for (int i = 0; i < n; i++) {
        const sm_replica_state_t *s = &st[i];
        size_t tlen = strlen(s->topic);
        errors[i] = SM_ERR_NONE;
        pthread_rwlock_wrlock(&rm->lock);
        sm_partition_t *p = lookup(rm, s->topic, tlen, s->partition);
        if (!p) {
            char err[512];
            sm_log_config_t cfg;
            int32_t min_isr = 1;
            rm->cfg_fn(rm->arg, s->topic, &cfg, &min_isr);
            sm_plog_t *log = sm_logmgr_get_or_create(rm->logs, s->topic, s->partition, &cfg, err, sizeof(err));
            if (!log) {
                pthread_rwlock_unlock(&rm->lock);
                sm_log_error("samsa.state.change", "[Broker id=%d] Error creating log for partition %s-%d: %s",
                             rm->broker_id, s->topic, s->partition, err);
                errors[i] = SM_ERR_KAFKA_STORAGE_ERROR;
                continue;
            }
            /* An existing log was loaded with broker defaults: apply the
             * topic's overrides now. */
            sm_plog_set_config(log, &cfg);
            p = sm_calloc(1, sizeof(*p));
            p->topic = sm_strdup(s->topic);
            p->partition = s->partition;
            p->refs = 1;
            p->log = log;
            p->leader_epoch = -1;
            p->leader_id = -1;
            p->zk_version = -1;
            p->min_insync_replicas = min_isr;
            pthread_mutex_init(&p->lock, NULL);
            entry_t *e = sm_malloc(sizeof(*e));
            uint32_t b = hash_tp(s->topic, tlen, s->partition);
            e->p = p;
            e->next = rm->buckets[b];
            rm->buckets[b] = e;
        }
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
        pthread_rwlock_unlock(&rm->lock);

        int64_t now = rm->clock();
        int become_leader = s->leader == rm->broker_id;
        pthread_mutex_lock(&p->lock);
        if (s->leader_epoch < p->leader_epoch) {
            errors[i] = SM_ERR_FENCED_LEADER_EPOCH;
            pthread_mutex_unlock(&p->lock);
            sm_log_warn("samsa.state.change", "[Broker id=%d] Ignoring LeaderAndIsr for %s-%d: leader epoch %d is older than current %d",
                        rm->broker_id, s->topic, s->partition, s->leader_epoch, p->leader_epoch);
            sm_partition_unref(p);
            continue;
        }
        if (s->leader_epoch == p->leader_epoch && s->leader == p->leader_id && !p->deleted) {
            /* Same epoch (a resend): our own ISR writes may be newer than
             * the controller's view, so only a newer znode version wins. */
            set_ids(&p->replicas, &p->nreplicas, s->replicas, s->nreplicas);
            if (s->zk_version > p->zk_version) {
                set_ids(&p->isr, &p->nisr, s->isr, s->nisr);
                p->zk_version = s->zk_version;
                p->controller_epoch = s->controller_epoch;
                p->fenced = 0;
            }
            int moved = 0;
            if (p->is_leader) {
                reset_followers(rm, p, now, 1);
                moved = maybe_advance_hw(rm, p, now);
            }
            pthread_mutex_unlock(&p->lock);
            if (moved) wake(rm);
            sm_partition_unref(p);
            continue;
        }
        if (become_leader && rm->fetchers) {
            /* Stop fetching first: the fetcher may be appending right now
             * (lock order: fetcher, then partition). */
            pthread_mutex_unlock(&p->lock);
            sm_fetcher_remove(rm->fetchers, p);
            pthread_mutex_lock(&p->lock);
        }
        int was_leader = p->is_leader;
        p->leader_id = s->leader;
        p->leader_epoch = s->leader_epoch;
        p->controller_epoch = s->controller_epoch;
        p->zk_version = s->zk_version;
        set_ids(&p->replicas, &p->nreplicas, s->replicas, s->nreplicas);
        set_ids(&p->isr, &p->nisr, s->isr, s->nisr);
        p->is_leader = become_leader;
        p->deleted = 0;
        p->fenced = 0;
        p->isr_inflight = 0;             /* a write still in flight is for the old epoch */
        int moved = 0;
        if (become_leader) {
            /* A new leader starts from its own log; its HW is at least the
             * checkpointed one and moves once the ISR has fetched. */
            p->epoch_start_offset = sm_plog_log_end_offset(p->log);
            reset_followers(rm, p, now, 0);
            moved = maybe_advance_hw(rm, p, now);
        } else {
            free(p->followers);
            p->followers = NULL;
            p->nfollowers = 0;
        }
        int64_t leo = sm_plog_log_end_offset(p->log), hw = sm_plog_high_watermark(p->log);
        pthread_mutex_unlock(&p->lock);
        if (!become_leader && rm->fetchers) {
            if (s->leader >= 0) sm_fetcher_add(rm->fetchers, p, s->leader, s->leader_epoch);
            else sm_fetcher_remove(rm->fetchers, p);
        }
        sm_log_info("samsa.state.change", "[Broker id=%d] %s partition %s-%d with leader %d, leader epoch %d, LEO %lld, HW %lld",
                    rm->broker_id, become_leader ? "Leading" : "Following", s->topic, s->partition, s->leader,
                    s->leader_epoch, (long long)leo, (long long)hw);
        /* Waiting acks=all requests learn about the change (and finish). */
        if (moved || was_leader) wake(rm);
        if (become_leader != was_leader && rm->leader_fn)
            rm->leader_fn(rm->leader_arg, s->topic, s->partition, become_leader, s->leader_epoch);
        sm_partition_unref(p);
    }
}

void
sm_replica_stop(sm_replica_mgr_t *rm, const char *topic, int32_t partition, int delete_log)
{
    size_t tlen = strlen(topic);
    pthread_rwlock_wrlock(&rm->lock);
    uint32_t b = hash_tp(topic, tlen, partition);
    entry_t **pp = &rm->buckets[b], *e;
    for (; (e = *pp); pp = &e->next)
        if (e->p->partition == partition && !strcmp(e->p->topic, topic)) break;
    if (e) *pp = e->next;
    pthread_rwlock_unlock(&rm->lock);
    if (!e) {
        if (delete_log) sm_logmgr_delete(rm->logs, topic, partition);
        return;
    }
    sm_partition_t *p = e->p;
    free(e);
    if (rm->fetchers) sm_fetcher_remove(rm->fetchers, p);
    pthread_mutex_lock(&p->lock);
    int was_leader = p->is_leader;
    p->is_leader = 0;
    p->deleted = 1;
    pthread_mutex_unlock(&p->lock);
    if (was_leader) wake(rm);
    if (was_leader && rm->leader_fn) rm->leader_fn(rm->leader_arg, topic, partition, 0, -1);
    /* The log object stays valid for readers holding a partition reference
     * only until here; in-flight fetch regions keep their own file refs. */
    if (delete_log) sm_logmgr_delete(rm->logs, topic, partition);
    sm_partition_unref(p);
    sm_log_info("samsa.state.change", "[Broker id=%d] Stopped replica %s-%d%s", rm->broker_id, topic, partition,
                delete_log ? " and deleted its log" : "");
}

void
sm_replica_isr_written(sm_replica_mgr_t *rm, const char *topic, int32_t partition, int32_t leader_epoch, int rc,
                       int32_t new_zk_version)
{
    sm_partition_t *p = sm_replica_get(rm, topic, strlen(topic), partition);
    if (!p) return;
    char a[256], b[256];
    int moved = 0, fenced = 0;
    pthread_mutex_lock(&p->lock);
    if (p->is_leader && !p->deleted && p->isr_inflight && p->leader_epoch == leader_epoch) {
        p->isr_inflight = 0;
        if (rc == 0) {
            sm_log_info("samsa.cluster.Partition", "[Partition %s-%d broker=%d] ISR updated to %s and zkVersion updated to [%d]",
                        topic, partition, rm->broker_id, ids_str(a, sizeof(a), p->pending_isr, p->npending_isr),
                        new_zk_version);
            set_ids(&p->isr, &p->nisr, p->pending_isr, p->npending_isr);
            p->zk_version = new_zk_version;
            moved = maybe_advance_hw(rm, p, rm->clock());
        } else if (rc == 1) {
            /* Someone (the controller) wrote a newer state: we may no longer
             * be the leader. Stop until LeaderAndIsr says otherwise. */
            p->fenced = fenced = 1;
            sm_log_info("samsa.cluster.Partition", "[Partition %s-%d broker=%d] Cached zkVersion %d not equal to that in zookeeper, skip updating ISR (was %s, wanted %s)",
                        topic, partition, rm->broker_id, p->zk_version, ids_str(a, sizeof(a), p->isr, p->nisr),
                        ids_str(b, sizeof(b), p->pending_isr, p->npending_isr));
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (moved || fenced) wake(rm);
    sm_partition_unref(p);
}

/* Kafka's Partition.maybeShrinkIsr for one partition. */
static void
expire_partition(sm_replica_mgr_t *rm, sm_partition_t *p, int64_t now)
{
    isr_job_t job = { 0 };
    char a[256], b[256], c[512];
    pthread_mutex_lock(&p->lock);
    if (p->is_leader && !p->deleted && !p->isr_inflight && !p->fenced && p->nisr > 1) {
        int64_t leo = sm_plog_log_end_offset(p->log);
        int32_t *keep = sm_malloc(sizeof(int32_t) * (size_t)p->nisr), nkeep = 0;
        size_t at = 0;
        c[0] = '\0';
        for (int32_t i = 0; i < p->nisr; i++) {
            sm_follower_t *f = p->isr[i] == rm->broker_id ? NULL : find_follower(p, p->isr[i]);
            if (f && f->leo != leo && now - f->last_caught_up_ms > rm->lag_ms) {
                if (at + 64 < sizeof(c))
                    at += (size_t)snprintf(c + at, sizeof(c) - at, "%s(brokerId: %d, endOffset: %lld)", at ? ", " : "",
                                           f->id, (long long)f->leo);
                continue;
            }
            keep[nkeep++] = p->isr[i];
        }
        if (nkeep < p->nisr) {
            sm_log_info("samsa.cluster.Partition", "[Partition %s-%d broker=%d] Shrinking ISR from %s to %s. Leader: (highWatermark: %lld, endOffset: %lld). Out of sync replicas: %s.",
                        p->topic, p->partition, rm->broker_id, ids_str(a, sizeof(a), p->isr, p->nisr),
                        ids_str(b, sizeof(b), keep, nkeep), (long long)sm_plog_high_watermark(p->log), (long long)leo, c);
            start_isr_change(rm, p, keep, nkeep, &job, now);
        }
        free(keep);
    }
    int moved = !job.on && maybe_advance_hw(rm, p, now);
    pthread_mutex_unlock(&p->lock);
    run_isr_job(rm, &job);
    if (moved) wake(rm);
}

void
sm_replica_tick(sm_replica_mgr_t *rm)
{
    int64_t now = rm->clock();
    int64_t last = __atomic_load_n(&rm->last_expire_ms, __ATOMIC_RELAXED);
    if (last && now - last < rm->lag_ms / 2) return;
    if (!__atomic_compare_exchange_n(&rm->last_expire_ms, &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    /* Take references under the map lock, work without it. */
    sm_partition_t **ps = NULL;
    size_t n = 0, cap = 0;
    pthread_rwlock_rdlock(&rm->lock);
    for (int b = 0; b < NBUCKETS; b++)
        for (entry_t *e = rm->buckets[b]; e; e = e->next) {
            if (!__atomic_load_n(&e->p->is_leader, __ATOMIC_RELAXED)) continue;
            if (n == cap) ps = sm_realloc(ps, (cap = cap ? 2 * cap : 64) * sizeof(*ps));
            __atomic_add_fetch(&e->p->refs, 1, __ATOMIC_RELAXED);
            ps[n++] = e->p;
        }
    pthread_rwlock_unlock(&rm->lock);
    for (size_t i = 0; i < n; i++) {
        expire_partition(rm, ps[i], now);
        sm_partition_unref(ps[i]);
    }
    free(ps);
}

void
sm_replica_update_follower(sm_replica_mgr_t *rm, sm_partition_t *p, int32_t replica_id, int64_t fetch_offset)
{
    isr_job_t job = { 0 };
    int64_t now = rm->clock();
    pthread_mutex_lock(&p->lock);
    sm_follower_t *f = p->is_leader && !p->deleted ? find_follower(p, replica_id) : NULL;
    int64_t leo = sm_plog_log_end_offset(p->log);
    if (!f || fetch_offset > leo || fetch_offset < 0) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    /* Kafka's Replica.updateFetchState: caught up now if at our LEO, or as
     * of the previous fetch if it reached the LEO we had then. */
    if (fetch_offset >= leo) f->last_caught_up_ms = SM_MAX(f->last_caught_up_ms, now);
    else if (fetch_offset >= f->last_fetch_leader_leo) f->last_caught_up_ms = SM_MAX(f->last_caught_up_ms, f->last_fetch_ms);
    f->last_fetch_leader_leo = leo;
    f->last_fetch_ms = now;
    f->leo = fetch_offset;
    /* Expand: a follower that reached the HW and this epoch's start. */
    if (!has_id(p->isr, p->nisr, f->id) && !p->isr_inflight && !p->fenced && has_id(p->replicas, p->nreplicas, f->id) &&
        f->leo >= sm_plog_high_watermark(p->log) && f->leo >= p->epoch_start_offset) {
        int32_t *ids = sm_malloc(sizeof(int32_t) * (size_t)(p->nisr + 1));
        memcpy(ids, p->isr, sizeof(int32_t) * (size_t)p->nisr);
        ids[p->nisr] = f->id;
        char a[256], b[256];
        sm_log_info("samsa.cluster.Partition", "[Partition %s-%d broker=%d] Expanding ISR from %s to %s",
                    p->topic, p->partition, rm->broker_id, ids_str(a, sizeof(a), p->isr, p->nisr),
                    ids_str(b, sizeof(b), ids, p->nisr + 1));
        start_isr_change(rm, p, ids, p->nisr + 1, &job, now);
        free(ids);
    }
    int moved = maybe_advance_hw(rm, p, now);
    pthread_mutex_unlock(&p->lock);
    run_isr_job(rm, &job);
    if (moved) wake(rm);
}

sm_err_t
sm_replica_append_follower(sm_replica_mgr_t *rm, sm_partition_t *p, uint8_t *buf, size_t len, int64_t leader_hw,
                           int64_t leader_log_start)
{
    sm_append_info_t info;
    sm_err_t err = SM_ERR_NONE;
    pthread_mutex_lock(&p->lock);
    if (p->is_leader || p->deleted) {
        pthread_mutex_unlock(&p->lock);
        return SM_ERR_NOT_LEADER_OR_FOLLOWER;
    }
    if (len > 0) err = sm_plog_append(p->log, buf, len, -1, 0, &info);
    if (err == SM_ERR_NONE) {
        int64_t leo = sm_plog_log_end_offset(p->log);
        if (leader_log_start > sm_plog_log_start_offset(p->log) && leader_log_start <= leo)
            sm_plog_set_log_start_offset(p->log, leader_log_start);
        int64_t hw = SM_MIN(leo, leader_hw);
        if (hw > sm_plog_high_watermark(p->log)) sm_plog_set_high_watermark(p->log, hw);
    }
    pthread_mutex_unlock(&p->lock);
    return err;
}

sm_err_t
sm_replica_produce_status(sm_partition_t *p, int32_t leader_epoch, int64_t required_offset, int *done)
{
    sm_err_t err = SM_ERR_NONE;
    *done = 1;
    pthread_mutex_lock(&p->lock);
    if (!p->is_leader || p->deleted || p->fenced || p->leader_epoch != leader_epoch)
        err = SM_ERR_NOT_LEADER_OR_FOLLOWER;
    else if (sm_plog_high_watermark(p->log) >= required_offset)
        err = p->nisr < p->min_insync_replicas ? SM_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND : SM_ERR_NONE;
    else
        *done = 0;
    pthread_mutex_unlock(&p->lock);
    return err;
}

void
sm_replica_topic_config_changed(sm_replica_mgr_t *rm, const char *topic)
{
    sm_log_config_t cfg;
    int32_t min_isr = 1;
    rm->cfg_fn(rm->arg, topic, &cfg, &min_isr);
    pthread_rwlock_rdlock(&rm->lock);
    for (int b = 0; b < NBUCKETS; b++)
        for (entry_t *e = rm->buckets[b]; e; e = e->next)
            if (!strcmp(e->p->topic, topic)) {
                sm_plog_set_config(e->p->log, &cfg);
                e->p->min_insync_replicas = min_isr;
            }
    pthread_rwlock_unlock(&rm->lock);
    sm_log_info("samsa.server", "[Broker id=%d] Applied new config of topic %s", rm->broker_id, topic);
}

sm_err_t
sm_replica_check_leader(sm_partition_t *p, int32_t *leader_epoch)
{
    pthread_mutex_lock(&p->lock);
    sm_err_t err = p->is_leader && !p->deleted && !p->fenced ? SM_ERR_NONE : SM_ERR_NOT_LEADER_OR_FOLLOWER;
    if (leader_epoch) *leader_epoch = p->leader_epoch;
    pthread_mutex_unlock(&p->lock);
    return err;
}

sm_err_t
sm_replica_append(sm_replica_mgr_t *rm, sm_partition_t *p, uint8_t *buf, size_t len, int acks,
                  sm_produce_result_t *res)
{
    sm_append_info_t info;
    pthread_mutex_lock(&p->lock);
    if (!p->is_leader || p->deleted || p->fenced) {
        pthread_mutex_unlock(&p->lock);
        return SM_ERR_NOT_LEADER_OR_FOLLOWER;
    }
    if (acks == -1 && p->nisr < p->min_insync_replicas) {
        pthread_mutex_unlock(&p->lock);
        return SM_ERR_NOT_ENOUGH_REPLICAS;
    }
    /* The partition lock serialises appends so offsets are assigned in
     * order and the HW moves with them. */
    sm_err_t err = sm_plog_append(p->log, buf, len, p->leader_epoch, 1, &info);
    int moved = 0;
    if (err == SM_ERR_NONE) moved = maybe_advance_hw(rm, p, rm->clock());
    int followers = p->nfollowers > 0;
    int32_t epoch = p->leader_epoch;
    pthread_mutex_unlock(&p->lock);
    if (err != SM_ERR_NONE) return err;
    res->base_offset = info.first_offset;
    res->last_offset = info.last_offset;
    res->log_append_time = info.log_append_time;
    res->log_start_offset = info.log_start_offset;
    res->leader_epoch = epoch;
    /* Followers long-poll up to our LEO: an append is news for them. */
    if (moved || followers) wake(rm);
    return SM_ERR_NONE;
}

sm_err_t
sm_replica_read(sm_replica_mgr_t *rm, sm_partition_t *p, int32_t replica_id, int64_t offset, int32_t max_bytes,
                int min_one, sm_log_region_t *region, sm_fetch_info_t *info)
{
    region->file = NULL;
    region->pos = region->len = 0;
    pthread_mutex_lock(&p->lock);
    int ok = !p->deleted && (p->is_leader || replica_id == -2 /* debug consumer */);
    pthread_mutex_unlock(&p->lock);
    if (!ok) return SM_ERR_NOT_LEADER_OR_FOLLOWER;
    info->high_watermark = sm_plog_high_watermark(p->log);
    info->last_stable_offset = info->high_watermark;
    info->log_start_offset = sm_plog_log_start_offset(p->log);
    info->log_end_offset = sm_plog_log_end_offset(p->log);
    int64_t limit = replica_id >= 0 ? info->log_end_offset : info->high_watermark;
    /* A consumer at exactly the HW (or a follower at the LEO) gets an empty
     * answer, not OFFSET_OUT_OF_RANGE. */
    if (offset == limit && offset >= info->log_start_offset) return SM_ERR_NONE;
    if (offset > limit && offset <= info->log_end_offset) return SM_ERR_NONE;
    return sm_plog_read(p->log, offset, limit, max_bytes, min_one, region);
}

int64_t
sm_replica_available(sm_partition_t *p, int32_t replica_id, int64_t offset)
{
    int64_t limit = replica_id >= 0 ? sm_plog_log_end_offset(p->log) : sm_plog_high_watermark(p->log);
    if (offset >= limit) return 0;
    sm_log_region_t r;
    if (sm_plog_read(p->log, offset, limit, INT32_MAX, 1, &r) != SM_ERR_NONE) return 1; /* error: answer now */
    int64_t n = r.len;
    sm_file_unref(r.file);
    return n > 0 ? n : 1;
}

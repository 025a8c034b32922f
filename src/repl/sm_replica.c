/*
 * sm_replica.c - partitions hosted by this broker, their leader/follower
 * role, ISR and high watermark (see sm_replica.h).
 *
 * The high watermark is the lowest log end offset in the ISR. Follower
 * fetching and ISR changes arrive with the replication work; until then a
 * leader whose ISR is itself advances the HW on every append.
 */
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
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
    pthread_rwlock_init(&rm->lock, NULL);
    return rm;
}

static void
partition_free(sm_partition_t *p)
{
    pthread_mutex_destroy(&p->lock);
    free(p->topic);
    free(p->replicas);
    free(p->isr);
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
    free(*dst);
    *dst = sm_malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (n) memcpy(*dst, src, sizeof(int32_t) * (size_t)n);
    *ndst = n;
}

/* HW = min LEO over the ISR; with only this broker in the ISR that is our LEO.
 * Follower LEOs join with the replication work. Caller holds p->lock. */
static int
maybe_advance_hw(sm_replica_mgr_t *rm, sm_partition_t *p)
{
    if (!p->is_leader) return 0;
    int64_t leo = sm_plog_log_end_offset(p->log);
    if (leo > sm_plog_high_watermark(p->log)) {
        sm_plog_set_high_watermark(p->log, leo);
        return 1;
    }
    return 0;
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
            p->min_insync_replicas = min_isr;
            pthread_mutex_init(&p->lock, NULL);
            entry_t *e = sm_malloc(sizeof(*e));
            uint32_t b = hash_tp(s->topic, tlen, s->partition);
            e->p = p;
            e->next = rm->buckets[b];
            rm->buckets[b] = e;
        }
        pthread_mutex_lock(&p->lock);
        pthread_rwlock_unlock(&rm->lock);
        if (s->leader_epoch < p->leader_epoch) {
            errors[i] = SM_ERR_FENCED_LEADER_EPOCH;
            pthread_mutex_unlock(&p->lock);
            sm_log_warn("samsa.state.change", "[Broker id=%d] Ignoring LeaderAndIsr for %s-%d: leader epoch %d is older than current %d",
                        rm->broker_id, s->topic, s->partition, s->leader_epoch, p->leader_epoch);
            continue;
        }
        int was_leader = p->is_leader;
        p->leader_id = s->leader;
        p->leader_epoch = s->leader_epoch;
        p->controller_epoch = s->controller_epoch;
        p->zk_version = s->zk_version;
        set_ids(&p->replicas, &p->nreplicas, s->replicas, s->nreplicas);
        set_ids(&p->isr, &p->nisr, s->isr, s->nisr);
        p->is_leader = s->leader == rm->broker_id;
        int moved = 0;
        if (p->is_leader) {
            /* A new leader starts from its own log; its HW is at least the
             * checkpointed one and never ahead of its LEO. */
            moved = maybe_advance_hw(rm, p);
        }
        pthread_mutex_unlock(&p->lock);
        if (p->is_leader != was_leader || moved)
            sm_log_info("samsa.state.change", "[Broker id=%d] %s partition %s-%d with leader epoch %d, LEO %lld",
                        rm->broker_id, p->is_leader ? "Leading" : "Following", s->topic, s->partition, s->leader_epoch,
                        (long long)sm_plog_log_end_offset(p->log));
        if (moved && rm->data_fn) rm->data_fn(rm->arg);
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
    pthread_mutex_lock(&p->lock);
    p->is_leader = 0;
    p->deleted = 1;
    pthread_mutex_unlock(&p->lock);
    /* The log object stays valid for readers holding a partition reference
     * only until here; in-flight fetch regions keep their own file refs. */
    if (delete_log) sm_logmgr_delete(rm->logs, topic, partition);
    sm_partition_unref(p);
    sm_log_info("samsa.state.change", "[Broker id=%d] Stopped replica %s-%d%s", rm->broker_id, topic, partition,
                delete_log ? " and deleted its log" : "");
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
    sm_err_t err = p->is_leader && !p->deleted ? SM_ERR_NONE : SM_ERR_NOT_LEADER_OR_FOLLOWER;
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
    if (!p->is_leader || p->deleted) {
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
    if (err == SM_ERR_NONE) moved = maybe_advance_hw(rm, p);
    pthread_mutex_unlock(&p->lock);
    if (err != SM_ERR_NONE) return err;
    res->base_offset = info.first_offset;
    res->log_append_time = info.log_append_time;
    res->log_start_offset = info.log_start_offset;
    if (moved && rm->data_fn) rm->data_fn(rm->arg);
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

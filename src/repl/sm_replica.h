/*
 * sm_replica.h - the replica manager: every partition this broker hosts,
 * its role (leader or follower) as decided by the controller through
 * LeaderAndIsr, its ISR and high watermark, and the produce/fetch entry
 * points that enforce leadership before touching the log.
 *
 * Partitions are reference counted: sm_replica_get() returns a reference
 * that the caller drops with sm_partition_unref(). The partition map is
 * guarded by a rwlock; each partition's role state by its own mutex (taken
 * once per batch, never per record). Thread-safe.
 */
#ifndef SM_REPLICA_H
#define SM_REPLICA_H

#include <pthread.h>
#include <stdint.h>
#include "core/sm_conf.h"
#include "core/sm_err.h"
#include "log/sm_logmgr.h"

typedef struct sm_partition_s {
    char *topic;
    int32_t partition;
    int refs;                        /* atomic */
    pthread_mutex_t lock;            /* guards the fields below */
    sm_plog_t *log;
    int is_leader;
    int32_t leader_id;
    int32_t leader_epoch;
    int32_t controller_epoch;
    int32_t zk_version;
    int32_t nreplicas, *replicas;
    int32_t nisr, *isr;
    int32_t min_insync_replicas;
    int deleted;                     /* stopped and removed */
} sm_partition_t;

typedef struct sm_replica_mgr_s sm_replica_mgr_t;

/* One partition's role from a LeaderAndIsr request. */
typedef struct {
    const char *topic;
    int32_t partition;
    int32_t controller_epoch, leader, leader_epoch;
    int32_t nisr;
    const int32_t *isr;
    int32_t nreplicas;
    const int32_t *replicas;
    int32_t zk_version;
    int is_new;
} sm_replica_state_t;

/* Looks up the topic's config overrides (from ZooKeeper) for a new log;
 * fills *out with broker defaults + overrides. */
typedef void (*sm_topic_config_fn)(void *arg, const char *topic, sm_log_config_t *out, int32_t *min_isr);
/* Called (any thread) after data became visible to consumers (HW moved). */
typedef void (*sm_data_fn)(void *arg);

sm_replica_mgr_t *sm_replica_mgr_new(int32_t broker_id, sm_logmgr_t *logs, sm_topic_config_fn cfg_fn,
                                     sm_data_fn data_fn, void *arg);
void sm_replica_mgr_free(sm_replica_mgr_t *rm);

/* Apply LeaderAndIsr: create/open logs as needed, become leader or follower.
 * errors[i] receives the per-partition error (NONE, STALE_CONTROLLER_EPOCH,
 * FENCED_LEADER_EPOCH or KAFKA_STORAGE_ERROR). */
void sm_replica_leader_and_isr(sm_replica_mgr_t *rm, int32_t controller_epoch,
                               const sm_replica_state_t *states, int n, sm_err_t *errors);
/* StopReplica: stop hosting; with delete_log the log directory is removed. */
void sm_replica_stop(sm_replica_mgr_t *rm, const char *topic, int32_t partition, int delete_log);
/* Live topic config change (from /config/changes). */
void sm_replica_topic_config_changed(sm_replica_mgr_t *rm, const char *topic);

/* Reference to a hosted partition, or NULL. */
sm_partition_t *sm_replica_get(sm_replica_mgr_t *rm, const char *topic, size_t topic_len, int32_t partition);
void sm_partition_unref(sm_partition_t *p);

typedef struct {
    int64_t base_offset;
    int64_t log_append_time;
    int64_t log_start_offset;
} sm_produce_result_t;

/* Leader append of one validated client batch (buf is stamped in place).
 * acks: -1/0/1. Returns NONE, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS,
 * KAFKA_STORAGE_ERROR, ... */
sm_err_t sm_replica_append(sm_replica_mgr_t *rm, sm_partition_t *p, uint8_t *buf, size_t len, int acks,
                           sm_produce_result_t *res);

typedef struct {
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset;
    int64_t log_end_offset;
} sm_fetch_info_t;

/* Fetch: replica_id < 0 is a consumer (reads below the HW), >= 0 a follower
 * (reads to LEO). Fills *region (caller unrefs region->file). */
sm_err_t sm_replica_read(sm_replica_mgr_t *rm, sm_partition_t *p, int32_t replica_id, int64_t offset,
                         int32_t max_bytes, int min_one, sm_log_region_t *region, sm_fetch_info_t *info);
/* Bytes a consumer could fetch from offset right now (long-poll check). */
int64_t sm_replica_available(sm_partition_t *p, int32_t replica_id, int64_t offset);

/* Leader/epoch snapshot of a partition, NOT_LEADER_OR_FOLLOWER if not leader. */
sm_err_t sm_replica_check_leader(sm_partition_t *p, int32_t *leader_epoch);

#endif

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
 *
 * Replication (Kafka 2.x classic, broker-internals.md section 5): a leader
 * tracks every follower's log end offset from its Fetch requests, keeps
 * the high watermark at the lowest LEO of the ISR (plus followers caught up
 * within replica.lag.time.max.ms), shrinks and expands the ISR itself and
 * persists the change through a conditional write of the partition state
 * znode (the owner supplies the writer). A follower's log is filled by the
 * fetcher (repl/sm_fetcher.h) through sm_replica_append_follower().
 */
#ifndef SM_REPLICA_H
#define SM_REPLICA_H

#include <pthread.h>
#include <stdint.h>
#include "core/sm_conf.h"
#include "core/sm_err.h"
#include "log/sm_logmgr.h"

/* What the leader knows about one follower (Kafka's Replica). */
typedef struct {
    int32_t id;
    int64_t leo;                     /* -1 until its first fetch */
    int64_t last_caught_up_ms;
    int64_t last_fetch_leader_leo;
    int64_t last_fetch_ms;
} sm_follower_t;

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
    /* Leader state. */
    sm_follower_t *followers;        /* every replica but this broker */
    int32_t nfollowers;
    int64_t epoch_start_offset;      /* LEO when this leader epoch began */
    int isr_inflight;                /* an ISR write is outstanding */
    int32_t npending_isr, *pending_isr; /* the ISR being written */
    int fenced;                      /* our ISR write lost: stale leader */
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

/* A conditional write of a partition state znode that the owner performs
 * (asynchronously) and reports with sm_replica_isr_written(). The strings
 * and arrays are valid only during the call. */
typedef struct {
    const char *topic;
    int32_t partition;
    int32_t leader, leader_epoch, controller_epoch;
    int32_t nisr;
    const int32_t *isr;
    int32_t zk_version;              /* expected version of the state znode */
} sm_isr_write_t;
typedef void (*sm_isr_write_fn)(void *arg, const sm_isr_write_t *w);

struct sm_fetcher_mgr_s;

sm_replica_mgr_t *sm_replica_mgr_new(int32_t broker_id, sm_logmgr_t *logs, sm_topic_config_fn cfg_fn,
                                     sm_data_fn data_fn, void *arg);
void sm_replica_mgr_free(sm_replica_mgr_t *rm);

/* Setup, before any LeaderAndIsr (not thread-safe against traffic):
 * replica.lag.time.max.ms (default 30000); a millisecond clock (default
 * sm_mono_ms; tests pass a fake one); the ISR writer (without one ISR
 * changes stay in memory only); the follower fetchers to start and stop as
 * roles change (NULL: none, e.g. unit tests). */
void sm_replica_mgr_set_lag_time(sm_replica_mgr_t *rm, int64_t ms);
void sm_replica_mgr_set_clock(sm_replica_mgr_t *rm, int64_t (*clock)(void));
void sm_replica_mgr_set_isr_writer(sm_replica_mgr_t *rm, sm_isr_write_fn fn, void *arg);
void sm_replica_mgr_set_fetchers(sm_replica_mgr_t *rm, struct sm_fetcher_mgr_s *fm);
int32_t sm_replica_mgr_broker_id(const sm_replica_mgr_t *rm);
/* Leadership listener (the group coordinator watches __consumer_offsets):
 * called after this broker became (is_leader 1) or stopped being (0) the
 * leader of a partition, on the thread applying LeaderAndIsr/StopReplica,
 * with no lock held. One listener; fn NULL removes it. */
typedef void (*sm_leader_change_fn)(void *arg, const char *topic, int32_t partition, int is_leader,
                                    int32_t leader_epoch);
void sm_replica_set_leader_listener(sm_replica_mgr_t *rm, sm_leader_change_fn fn, void *arg);

/* Apply LeaderAndIsr: create/open logs as needed, become leader or follower.
 * errors[i] receives the per-partition error (NONE, STALE_CONTROLLER_EPOCH,
 * FENCED_LEADER_EPOCH or KAFKA_STORAGE_ERROR). */
void sm_replica_leader_and_isr(sm_replica_mgr_t *rm, int32_t controller_epoch,
                               const sm_replica_state_t *states, int n, sm_err_t *errors);
/* StopReplica: stop hosting; with delete_log the log directory is removed. */
void sm_replica_stop(sm_replica_mgr_t *rm, const char *topic, int32_t partition, int delete_log);
/* Result of an ISR write started through the writer: rc 0 = written with
 * new_zk_version, 1 = BADVERSION (this leader is stale: it stops changing
 * the ISR and acknowledging acks=all until a newer LeaderAndIsr), 2 = other
 * failure (retried on the next check). Any thread. */
void sm_replica_isr_written(sm_replica_mgr_t *rm, const char *topic, int32_t partition, int32_t leader_epoch,
                            int rc, int32_t new_zk_version);
/* Periodic ISR expiration (Kafka's isr-expiration task): every leader
 * drops followers that are out of sync for longer than
 * replica.lag.time.max.ms. Runs at most every lag/2; call often. Any thread. */
void sm_replica_tick(sm_replica_mgr_t *rm);
/* Leader side of a follower Fetch: record that replica_id fetched at
 * fetch_offset (its LEO), update lastCaughtUpTimeMs, maybe expand the ISR
 * and advance the HW. Ignored unless this broker leads p and replica_id is
 * one of its replicas. Any thread. */
void sm_replica_update_follower(sm_replica_mgr_t *rm, sm_partition_t *p, int32_t replica_id, int64_t fetch_offset);
/* Follower append of batches fetched from the leader (offsets kept, log
 * byte-identical to the leader's); then HW = min(LEO, leader_hw) and the
 * log start follows the leader's. Returns NOT_LEADER_OR_FOLLOWER if this
 * broker leads p (or p was stopped), or the log's error. */
sm_err_t sm_replica_append_follower(sm_replica_mgr_t *rm, sm_partition_t *p, uint8_t *buf, size_t len,
                                    int64_t leader_hw, int64_t leader_log_start);
/* acks=all progress of an append at leader_epoch that needs the HW to reach
 * required_offset (last offset + 1): *done = 0 while waiting; else the
 * answer: NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND (ISR below
 * min.insync.replicas), or NOT_LEADER_OR_FOLLOWER (leadership lost, epoch
 * changed, or fenced). Any thread. */
sm_err_t sm_replica_produce_status(sm_partition_t *p, int32_t leader_epoch, int64_t required_offset, int *done);
/* Live topic config change (from /config/changes). */
void sm_replica_topic_config_changed(sm_replica_mgr_t *rm, const char *topic);

/* Reference to a hosted partition, or NULL. */
sm_partition_t *sm_replica_get(sm_replica_mgr_t *rm, const char *topic, size_t topic_len, int32_t partition);
void sm_partition_unref(sm_partition_t *p);

typedef struct {
    int64_t base_offset;
    int64_t last_offset;
    int64_t log_append_time;
    int64_t log_start_offset;
    int32_t leader_epoch;            /* epoch the batch was appended in */
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

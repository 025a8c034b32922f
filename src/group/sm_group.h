/*
 * sm_group.h - the group coordinator core: Kafka 2.x consumer-group state
 * machine (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead),
 * committed offsets, and the __consumer_offsets record formats they are
 * persisted as.
 *
 * This is pure logic: no threads, no sockets, no log. Time is an argument
 * (wall-clock ms) and every effect leaves through sm_gc_ops_t callbacks:
 * delayed JoinGroup/SyncGroup/OffsetCommit answers go to an opaque `waiter`
 * the caller supplied, and persistence goes out as records to append to a
 * __consumer_offsets partition. The runtime (sm_group_coord.h) runs one
 * sm_gc_t on one coordinator thread and feeds it requests, ticks, append
 * completions and partition loads; unit tests drive it with a fake clock.
 *
 * Every function must be called on the owning thread. Views (sm_bytes_t)
 * passed in are only read during the call; the core copies what it keeps.
 * Views passed to callbacks are valid only during the callback.
 *
 * Every waiter handed to the core is answered exactly once (possibly from
 * inside the call that handed it over), including when its member is
 * removed or its partition is unloaded.
 */
#ifndef SM_GROUP_H
#define SM_GROUP_H

#include <stdint.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_err.h"
#include "proto/sm_proto_group.h"
#include "proto/sm_records.h"

#define SM_GC_OFFSETS_TOPIC "__consumer_offsets"

typedef enum {
    SM_GC_EMPTY = 0,
    SM_GC_PREPARING_REBALANCE,
    SM_GC_COMPLETING_REBALANCE,
    SM_GC_STABLE,
    SM_GC_DEAD,
} sm_gc_state_t;

/* Kafka's name of a state ("PreparingRebalance", ...). */
const char *sm_gc_state_name(sm_gc_state_t s);

typedef struct {
    int32_t broker_id;                    /* for log prefixes */
    int32_t num_partitions;               /* offsets.topic.num.partitions (50) */
    int32_t min_session_timeout_ms;       /* group.min.session.timeout.ms (6000) */
    int32_t max_session_timeout_ms;       /* group.max.session.timeout.ms (1800000) */
    int32_t max_size;                     /* group.max.size (INT32_MAX) */
    int32_t initial_rebalance_delay_ms;   /* group.initial.rebalance.delay.ms (3000) */
    int64_t offsets_retention_ms;         /* offsets.retention.minutes * 60000 (7 days) */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms (600000) */
    int32_t offset_metadata_max_bytes;    /* offset.metadata.max.bytes (4096) */
    int32_t commit_timeout_ms;            /* offsets.commit.timeout.ms (5000): runtime only */
    int32_t commit_required_acks;         /* offsets.commit.required.acks (-1): runtime only */
} sm_gc_config_t;

/* Kafka's defaults. */
void sm_gc_config_defaults(sm_gc_config_t *c);

/* What a JoinGroup answer carries. members is non-empty only for the leader
 * (n_members entries, metadata of the selected protocol). */
typedef struct {
    sm_err_t error;
    int32_t generation;                   /* -1 on error */
    sm_bytes_t protocol_type;             /* null when none */
    sm_bytes_t protocol_name;             /* null when none */
    sm_bytes_t leader_id;
    sm_bytes_t member_id;                 /* the (new) member id, also with MEMBER_ID_REQUIRED */
    int32_t n_members;
    const sm_joingroup_member_t *members;
} sm_gc_join_result_t;

/* The effects of the core. `arg` is sm_gc_ops_t.arg. */
typedef struct {
    void (*join_done)(void *arg, void *waiter, const sm_gc_join_result_t *res);
    void (*sync_done)(void *arg, void *waiter, sm_err_t err, sm_bytes_t assignment);
    /* errors[i] for the i-th of the n entries of the sm_gc_commit() call. */
    void (*commit_done)(void *arg, void *waiter, const int16_t *errors, int32_t n);
    /* Append recs (keys/values fully encoded; views valid during the call
     * only) to __consumer_offsets partition `partition` as leader with
     * acks=-1. If token is non-NULL the runtime must later (never inside this
     * call) call sm_gc_append_done(gc, token, err, now) exactly once; a NULL
     * token is fire-and-forget (tombstones). */
    void (*append)(void *arg, int32_t partition, const sm_record_spec_t *recs, int n, void *token);
    void *arg;
} sm_gc_ops_t;

typedef struct sm_gc_s sm_gc_t;

/* A new coordinator owning no partition. Copies cfg and ops. */
sm_gc_t *sm_gc_new(const sm_gc_config_t *cfg, const sm_gc_ops_t *ops);
/* Free everything. Outstanding waiters are answered NOT_COORDINATOR and
 * outstanding append tokens are forgotten (their later done is ignored only
 * if the runtime never delivers it: call after the runtime stopped). */
void sm_gc_free(sm_gc_t *gc);

/* abs(Java String.hashCode(group)) % num_partitions (Kafka's partitionFor). */
int32_t sm_gc_partition_for(const sm_gc_t *gc, sm_bytes_t group);
int32_t sm_gc_partition_for_n(sm_bytes_t group, int32_t num_partitions);

/* ---- partition ownership (leadership of __consumer_offsets-N) ---- */

/* Start loading partition p: requests for its groups get
 * COORDINATOR_LOAD_IN_PROGRESS. Any groups of p already present are dropped. */
void sm_gc_load_begin(sm_gc_t *gc, int32_t p);
/* Replay one record of partition p (value.len < 0 is a tombstone). Malformed
 * records are skipped with a warning. Returns 0, or -1 if skipped. */
int  sm_gc_load_record(sm_gc_t *gc, int32_t p, sm_bytes_t key, sm_bytes_t value, int64_t now);
/* Loading of p finished: its groups become active; loaded members get a
 * fresh session deadline. */
void sm_gc_load_end(sm_gc_t *gc, int32_t p, int64_t now);
/* No longer leader of p: drop its groups (waiters get NOT_COORDINATOR). */
void sm_gc_unload(sm_gc_t *gc, int32_t p);
/* NONE if this coordinator serves group, else NOT_COORDINATOR or
 * COORDINATOR_LOAD_IN_PROGRESS. */
sm_err_t sm_gc_check(const sm_gc_t *gc, sm_bytes_t group);

/* ---- group membership ---- */

typedef struct {
    sm_bytes_t group_id;
    sm_bytes_t member_id;                 /* "" for a new member */
    sm_bytes_t group_instance_id;         /* null = dynamic member */
    sm_bytes_t protocol_type;
    sm_bytes_t client_id, client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;         /* -1: use the session timeout (v0) */
    int require_known_member_id;          /* JoinGroup v4+ */
    int32_t n_protocols;
    const sm_joingroup_protocol_t *protocols;
} sm_gc_join_t;

/* JoinGroup: answers waiter through join_done, now or when the rebalance
 * completes. */
void sm_gc_join(sm_gc_t *gc, const sm_gc_join_t *req, void *waiter, int64_t now);
/* SyncGroup: answers waiter through sync_done (followers wait for the
 * leader's assignment). */
void sm_gc_sync(sm_gc_t *gc, sm_bytes_t group_id, int32_t generation, sm_bytes_t member_id,
                sm_bytes_t group_instance_id, int32_t n_assignments, const sm_syncgroup_assignment_t *assignments,
                void *waiter, int64_t now);
/* Heartbeat: the error to answer. */
sm_err_t sm_gc_heartbeat(sm_gc_t *gc, sm_bytes_t group_id, int32_t generation, sm_bytes_t member_id,
                         sm_bytes_t group_instance_id, int64_t now);
/* LeaveGroup of n members (v0-2: one, with a null instance id). member_errors
 * (n entries) receives each member's error; returns the top-level error. */
sm_err_t sm_gc_leave(sm_gc_t *gc, sm_bytes_t group_id, int32_t n, const sm_leavegroup_member_t *members,
                     int16_t *member_errors, int64_t now);

/* ---- offsets ---- */

typedef struct {
    sm_bytes_t topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;                 /* -1 = none */
    sm_bytes_t metadata;                  /* null = "" */
    int64_t commit_timestamp;
    int64_t expire_timestamp;             /* -1 = none */
} sm_gc_offset_t;

/* OffsetCommit of n partitions; commit_done(waiter, errors[n]) is called once
 * the records are appended (or at once on a group-level error). */
void sm_gc_commit(sm_gc_t *gc, sm_bytes_t group_id, int32_t generation, sm_bytes_t member_id,
                  sm_bytes_t group_instance_id, int32_t n, const sm_gc_offset_t *offsets, void *waiter,
                  int64_t now);
/* Committed offset of one partition: 1 with *out (views valid until the next
 * call into the core), or 0 if none. */
int  sm_gc_fetch_offset(sm_gc_t *gc, sm_bytes_t group_id, sm_bytes_t topic, int32_t partition, sm_gc_offset_t *out);
/* Every committed offset of the group, in no particular order. */
void sm_gc_foreach_offset(sm_gc_t *gc, sm_bytes_t group_id, void (*fn)(void *arg, const sm_gc_offset_t *o), void *arg);
/* OffsetDelete: errors[i] per entry; returns the group-level error. */
sm_err_t sm_gc_delete_offsets(sm_gc_t *gc, sm_bytes_t group_id, int32_t n, const sm_bytes_t *topics,
                              const int32_t *partitions, int16_t *errors, int64_t now);

/* ---- administration ---- */

/* DescribeGroups entry for one group; arrays from a. */
void sm_gc_describe(sm_gc_t *gc, sm_bytes_t group_id, sm_arena_t *a, sm_describegroups_group_t *out);
/* ListGroups: fn per group of every loaded partition; returns NONE or
 * COORDINATOR_LOAD_IN_PROGRESS when a partition is still loading. */
sm_err_t sm_gc_list(sm_gc_t *gc, void (*fn)(void *arg, sm_bytes_t group, sm_bytes_t protocol_type), void *arg);
/* DeleteGroups for one group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, ... */
sm_err_t sm_gc_delete_group(sm_gc_t *gc, sm_bytes_t group_id, int64_t now);

/* ---- time and persistence ---- */

/* Run due timers: session expiry, join completion/initial delay, pending
 * member expiry, offset retention. Call often (every 100 ms or so). */
void sm_gc_tick(sm_gc_t *gc, int64_t now);
/* Completion of an append started with a token. */
void sm_gc_append_done(sm_gc_t *gc, void *token, sm_err_t err, int64_t now);

/* Introspection for tests and logs: state/generation of a group, -1 if
 * absent; member count. */
int     sm_gc_group_state(const sm_gc_t *gc, sm_bytes_t group_id, int32_t *generation, int32_t *nmembers);

#endif

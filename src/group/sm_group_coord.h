/*
 * sm_group_coord.h - the group coordinator runtime: one thread with its own
 * event_base that owns the coordinator core (sm_group.h), its timers, and
 * its persistence in __consumer_offsets through the replica manager.
 *
 * Request handlers on network threads post work onto the coordinator base
 * (sm_gcoord_post); the core's answers come back through the callbacks
 * given at start-up, on the coordinator thread, and the handler layer posts
 * the encoded response to the connection's thread.
 *
 * Leadership of __consumer_offsets partitions (sm_gcoord_leadership, any
 * thread) loads a partition from its log (sm_plog_read + record iteration)
 * or unloads it. Appends are leader appends with acks=-1
 * (offsets.commit.required.acks); their completion, driven by the high
 * watermark (sm_gcoord_data_changed) and bounded by
 * offsets.commit.timeout.ms, is delivered to the core asynchronously (a
 * posted event), so a commit answer always leaves from an append-completion
 * callback.
 */
#ifndef SM_GROUP_COORD_H
#define SM_GROUP_COORD_H

#include "group/sm_group.h"
#include "repl/sm_replica.h"

struct event_base;
typedef struct sm_gcoord_s sm_gcoord_t;

/* Answers of the core, called on the coordinator thread (see sm_gc_ops_t). */
typedef struct {
    void (*join_done)(void *waiter, const sm_gc_join_result_t *res);
    void (*sync_done)(void *waiter, sm_err_t err, sm_bytes_t assignment);
    void (*commit_done)(void *waiter, const int16_t *errors, int32_t n);
} sm_gcoord_cb_t;

/* Start the coordinator thread. rm must outlive the coordinator. Registers
 * itself as rm's leader listener and loads every __consumer_offsets
 * partition this broker already leads. */
sm_gcoord_t *sm_gcoord_start(const sm_gc_config_t *cfg, sm_replica_mgr_t *rm, const sm_gcoord_cb_t *cb);
/* Stop the thread and free the core (outstanding waiters are answered
 * NOT_COORDINATOR before it returns). Not from the coordinator thread. */
void sm_gcoord_stop(sm_gcoord_t *co);

/* Run fn(core, arg) on the coordinator thread. Thread-safe. */
void sm_gcoord_post(sm_gcoord_t *co, void (*fn)(sm_gc_t *gc, void *arg), void *arg);

/* A high watermark moved somewhere (the replica manager's data
 * notification): re-check the commits waiting for their ISR on the
 * coordinator thread. Cheap when none waits (one atomic load); at most one
 * re-check is queued at a time. Thread-safe; co may be NULL. */
void sm_gcoord_data_changed(sm_gcoord_t *co);

/* Leadership change of topic-partition (filters on __consumer_offsets).
 * Thread-safe; the load/unload runs on the coordinator thread. */
void sm_gcoord_leadership(void *co, const char *topic, int32_t partition, int is_leader, int32_t leader_epoch);

/* The partition a group maps to (no thread requirement). */
int32_t sm_gcoord_partition_for(const sm_gcoord_t *co, sm_bytes_t group);

/* Replay a __consumer_offsets partition log into gc (used by the runtime's
 * loader and by tests): every record from the log start to the LEO.
 * Returns the number of records applied, or -1 on a read error. */
int sm_gcoord_replay_log(sm_gc_t *gc, int32_t partition, sm_plog_t *log, int64_t now);

#endif

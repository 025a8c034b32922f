/*
 * sm_fetcher.h - follower replication: the replica fetcher threads.
 *
 * When LeaderAndIsr makes this broker a follower of a partition, the
 * replica manager hands the partition to the fetcher of its leader: one
 * thread per source broker (Kafka's ReplicaFetcherThread with
 * num.replica.fetchers=1) that owns a blocking socket to that broker and
 * fetches all of its partitions in one Fetch request (replica_id = our
 * broker id, so the leader reads to its LEO and records our progress).
 *
 * A newly followed partition is first truncated by leader epoch (KIP-101 /
 * KIP-279): OffsetForLeaderEpoch for the latest local epoch, truncate to
 * the leader's end offset for it (asking again while the leader's epoch is
 * unknown locally; falling back to the high watermark when the leader has
 * no answer), then fetched from its LEO. Fetched batches are appended with
 * their offsets, so follower logs are byte-identical to the leader's.
 *
 * Throttling (follower.replication.throttled.rate): a partition listed in
 * its topic's follower.replication.throttled.replicas for this broker, and
 * not in the ISR, is left out of the Fetch while the follower budget is
 * spent (it waits until the token bucket has tokens again); the bytes
 * appended for such partitions are charged to the budget.
 *
 * Threading: sm_fetcher_add/remove may be called from any thread (the
 * replica manager calls them on the controller-channel thread).
 * sm_fetcher_remove returns only once the partition's fetcher no longer
 * touches its log: it waits for a response being applied. Lock order: a
 * fetcher's lock, then the partition lock.
 */
#ifndef SM_FETCHER_H
#define SM_FETCHER_H

#include <stddef.h>
#include <stdint.h>
#include "repl/sm_replica.h"
#include "repl/sm_throttle.h"

typedef struct sm_fetcher_mgr_s sm_fetcher_mgr_t;

/* Where a broker id listens: fill host (NUL-terminated) and *port, return
 * 0, or -1 if unknown yet (retried after the backoff). Any thread. */
typedef int (*sm_broker_resolve_fn)(void *arg, int32_t broker_id, char *host, size_t hostlen, int *port);

typedef struct {
    int32_t broker_id;               /* our id: replica_id of every Fetch */
    int32_t fetch_max_bytes;         /* replica.fetch.max.bytes (1048576), per partition */
    int32_t fetch_response_max_bytes;/* replica.fetch.response.max.bytes (10485760) */
    int32_t fetch_wait_max_ms;       /* replica.fetch.wait.max.ms (500) */
    int32_t fetch_min_bytes;         /* replica.fetch.min.bytes (1) */
    int32_t fetch_backoff_ms;        /* replica.fetch.backoff.ms (1000) */
    int32_t socket_timeout_ms;       /* replica.socket.timeout.ms (30000) */
    sm_broker_resolve_fn resolve;
    void *resolve_arg;
    /* Replication throttle (follower side), borrowed; NULL = none. */
    sm_throttle_t *throttle;
} sm_fetcher_config_t;

/* Fill c with Kafka's defaults (resolve left NULL). */
void sm_fetcher_config_defaults(sm_fetcher_config_t *c);

/* Create the manager (no thread runs until a partition is added). rm is
 * borrowed and must outlive the manager. */
sm_fetcher_mgr_t *sm_fetcher_mgr_new(sm_replica_mgr_t *rm, const sm_fetcher_config_t *cfg);
/* Stop and join every fetcher thread, drop their partition references,
 * free. Call before freeing the replica manager. NULL allowed. */
void sm_fetcher_mgr_free(sm_fetcher_mgr_t *fm);

/* Follow p (a reference is taken) from leader_id in leader_epoch: moves it
 * away from any other fetcher and (re)starts with truncation. Adding a
 * partition already fetched from the same leader in the same epoch is a
 * no-op. */
void sm_fetcher_add(sm_fetcher_mgr_t *fm, sm_partition_t *p, int32_t leader_id, int32_t leader_epoch);
/* Stop fetching p (become leader, StopReplica, leader offline). */
void sm_fetcher_remove(sm_fetcher_mgr_t *fm, sm_partition_t *p);
/* Partitions currently followed (for tests and metrics). */
int sm_fetcher_count(sm_fetcher_mgr_t *fm);

#endif

/*
 * sm_throttle.h - replication throttling (Kafka's ReplicationQuotaManager,
 * simplified to a token bucket): the bytes/s budgets
 * leader.replication.throttled.rate / follower.replication.throttled.rate
 * of this broker, and which partitions they apply to, from the topic
 * configs leader.replication.throttled.replicas /
 * follower.replication.throttled.replicas ("*" or "partition:broker,...";
 * only entries naming this broker count, as in Kafka).
 *
 * Semantics (Kafka 2.x): a throttled partition whose replica is not in the
 * ISR is left out of a fetch while its side's budget is spent; the bytes
 * moved for throttled partitions are charged to the budget afterwards, so
 * a single fetch may overdraw it (the debt is then paid off before the
 * next throttled fetch). A missing or non-positive rate means unlimited.
 *
 * Two layers: the pure token bucket (sm_tbucket_*: no locks, no clock of
 * its own, unit-testable), and the broker's throttle registry
 * (sm_throttle_*), thread-safe: the follower fetcher threads and the
 * network threads query it, the config plumbing (src/server) feeds it.
 */
#ifndef SM_THROTTLE_H
#define SM_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

/* ---- token bucket ---- */

/* Capacity is one second of rate (the burst); tokens may go negative. */
typedef struct {
    int64_t rate;                    /* bytes/s; <= 0 = unlimited */
    int64_t milli;                   /* tokens in 1/1000 byte units */
    int64_t last_ms;                 /* clock of the last refill */
} sm_tbucket_t;

/* Start full at rate (<= 0 or above 1e12 = unlimited) at time now_ms. */
void sm_tbucket_init(sm_tbucket_t *b, int64_t rate, int64_t now_ms);
/* Change the rate; tokens are kept but capped at the new capacity. An
 * unlimited bucket that becomes limited starts full. */
void sm_tbucket_set_rate(sm_tbucket_t *b, int64_t rate, int64_t now_ms);
/* 1 if the budget is spent (no positive tokens after refilling to now_ms);
 * always 0 when unlimited. */
int sm_tbucket_exhausted(sm_tbucket_t *b, int64_t now_ms);
/* Charge bytes (ignored when unlimited or bytes <= 0). */
void sm_tbucket_consume(sm_tbucket_t *b, int64_t bytes, int64_t now_ms);
/* Milliseconds until sm_tbucket_exhausted() turns 0 (0 = now). */
int64_t sm_tbucket_wait_ms(sm_tbucket_t *b, int64_t now_ms);

/* 1 if the throttled-replicas list names (partition, broker): "*", or a
 * "p:b" entry (whitespace around items tolerated). NULL/"" match nothing. */
int sm_throttle_list_match(const char *list, int32_t partition, int32_t broker);

/* ---- the broker's registry ---- */

typedef enum { SM_THROTTLE_LEADER = 0, SM_THROTTLE_FOLLOWER = 1 } sm_throttle_side_t;

typedef struct sm_throttle_s sm_throttle_t;

/* Asks the owner to (re)load a topic's throttled-replica lists and call
 * sm_throttle_set_topic() when it has them; must not block (it is called
 * from lookups on network and fetcher threads, with no lock held). */
typedef void (*sm_throttle_load_fn)(void *arg, const char *topic);

/* broker_id: this broker. clock: milliseconds (NULL = sm_mono_ms; tests
 * pass a fake). load may be NULL (topics only arrive through set_topic).
 * refresh_ms > 0: a topic entry older than that triggers one reload on its
 * next lookup (covers missed notifications and deleted topics). */
sm_throttle_t *sm_throttle_new(int32_t broker_id, int64_t (*clock)(void), sm_throttle_load_fn load,
                               void *load_arg, int64_t refresh_ms);
void sm_throttle_free(sm_throttle_t *t);

/* The broker rates (bytes/s; <= 0 = unlimited). Any thread. This is also
 * the accessor for the dynamic broker config code. */
void sm_throttle_set_rates(sm_throttle_t *t, int64_t leader_rate, int64_t follower_rate);
int64_t sm_throttle_rate(sm_throttle_t *t, sm_throttle_side_t side);
/* Alternatively a source the registry asks for the current rates on every
 * budget check (so a change applies at once; same units as set_rates).
 * It must be cheap, non-blocking and thread-safe. Set before use; NULL
 * stops asking. */
typedef void (*sm_throttle_rates_fn)(void *arg, int64_t *leader_rate, int64_t *follower_rate);
void sm_throttle_set_rates_fn(sm_throttle_t *t, sm_throttle_rates_fn fn, void *arg);

/* A topic's lists (NULL = key absent). Copies what it needs. Any thread. */
void sm_throttle_set_topic(sm_throttle_t *t, const char *topic, const char *leader_list,
                           const char *follower_list);
/* Forget a topic (deleted). */
void sm_throttle_forget_topic(sm_throttle_t *t, const char *topic);

/* 1 if side's list of topic names (partition, this broker) and side's rate
 * is limited. A topic not known yet reads as not throttled and is loaded.
 * No allocation on a hit. Any thread; t NULL = 0. */
int sm_throttle_is_throttled(sm_throttle_t *t, sm_throttle_side_t side, const char *topic, size_t topic_len,
                             int32_t partition);
/* Whether side's budget is spent now, charge bytes to it, and the wait
 * until it is not spent. Any thread; t NULL = never spent. */
int sm_throttle_exceeded(sm_throttle_t *t, sm_throttle_side_t side);
void sm_throttle_record(sm_throttle_t *t, sm_throttle_side_t side, int64_t bytes);
int64_t sm_throttle_wait_ms(sm_throttle_t *t, sm_throttle_side_t side);

#endif

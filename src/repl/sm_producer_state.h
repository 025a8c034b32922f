/*
 * sm_producer_state.h - idempotent-producer state of one partition (Kafka's
 * ProducerStateManager, without transactions): per producer id the current
 * epoch and the metadata of its last 5 batches, plus the Kafka 2.8 rules
 * that decide whether a client batch is in sequence, a duplicate, fenced or
 * out of order.
 *
 * This is a pure in-memory structure: no I/O, no locking, and it depends on
 * core/ only, so the partition log (log/sm_plog.c) can own one per log and
 * keep it under its own lock, updated together with every append. Files
 * (the Kafka `.snapshot` format) live in log/sm_pstate_snap.h.
 *
 * Sequences are int32 and wrap from INT32_MAX to 0 (Kafka's
 * DefaultRecordBatch.incrementSequence). Not thread-safe: the owner
 * serialises every call.
 */
#ifndef SM_PRODUCER_STATE_H
#define SM_PRODUCER_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_err.h"

/* ProducerStateEntry.NumBatchesToRetain */
#define SM_PSTATE_BATCHES 5

/* One retained batch (Kafka's BatchMetadata): the sequence range and the
 * offset range share the same delta because every record takes one of each. */
typedef struct {
    int32_t last_seq;
    int64_t last_offset;
    int32_t offset_delta;            /* last - first (offsets and sequences) */
    int64_t timestamp;               /* batch maxTimestamp (or append time) */
} sm_pbatch_t;

typedef struct {
    int64_t producer_id;
    int16_t epoch;
    int32_t coordinator_epoch;       /* -1: no transactions */
    int64_t txn_first_offset;        /* -1: no transactions */
    int nbatches;                    /* 0..SM_PSTATE_BATCHES, oldest first */
    sm_pbatch_t batches[SM_PSTATE_BATCHES];
} sm_pentry_t;

typedef struct sm_pstate_s sm_pstate_t;

/* seq + delta with Kafka's wrap at INT32_MAX (delta >= 0). */
int32_t sm_pstate_seq_add(int32_t seq, int32_t delta);
/* seq - delta, the inverse (DefaultRecordBatch.decrementSequence). */
int32_t sm_pstate_seq_sub(int32_t seq, int32_t delta);
static inline int32_t sm_pbatch_first_seq(const sm_pbatch_t *b) { return sm_pstate_seq_sub(b->last_seq, b->offset_delta); }
static inline int64_t sm_pbatch_first_offset(const sm_pbatch_t *b) { return b->last_offset - b->offset_delta; }

/* Empty state; free with sm_pstate_free (NULL allowed). */
sm_pstate_t *sm_pstate_new(void);
void sm_pstate_free(sm_pstate_t *ps);
/* Forget every producer (before a rebuild). */
void sm_pstate_clear(sm_pstate_t *ps);
size_t sm_pstate_count(const sm_pstate_t *ps);
/* The entry of pid, or NULL. Valid until the next mutating call. */
const sm_pentry_t *sm_pstate_get(const sm_pstate_t *ps, int64_t pid);

/* Leader-side validation of a client batch of producer pid (>= 0) with
 * the given epoch and sequence range, against the current state (Kafka 2.8
 * ProducerAppendInfo.checkProducerEpoch/checkSequence plus
 * ProducerStateEntry.findDuplicateBatch). Returns:
 *   SM_ERR_NONE                      append it;
 *   SM_ERR_DUPLICATE_SEQUENCE_NUMBER same epoch and the exact range of one
 *                                    of the retained batches: do not append,
 *                                    *dup (if not NULL) is that batch;
 *   SM_ERR_INVALID_PRODUCER_EPOCH    epoch older than the current one;
 *   SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER  a newer epoch not starting at 0,
 *                                    or the same epoch not continuing the
 *                                    last batch.
 * An unknown producer (or one without a current epoch) may start at any
 * sequence (KIP-360, Kafka >= 2.5). Pure function of the state. */
sm_err_t sm_pstate_check(const sm_pstate_t *ps, int64_t pid, int16_t epoch, int32_t first_seq, int32_t last_seq,
                         sm_pbatch_t *dup);
/* Does next_seq follow last_seq (with the INT32_MAX -> 0 wrap)? */
int sm_pstate_in_sequence(int32_t last_seq, int32_t next_seq);

/* Record an appended batch (leader after the write, follower, and log
 * replay): a newer epoch replaces the producer's batches, the same epoch
 * appends (keeping the last SM_PSTATE_BATCHES), an older epoch is ignored.
 * pid < 0 is ignored. */
void sm_pstate_update(sm_pstate_t *ps, int64_t pid, int16_t epoch, const sm_pbatch_t *b);

/* Insert or replace a whole entry (snapshot load). */
void sm_pstate_put(sm_pstate_t *ps, const sm_pentry_t *e);

/* Every entry, in ascending producer id order (deterministic snapshots).
 * fn must not modify ps. */
void sm_pstate_foreach(const sm_pstate_t *ps, void (*fn)(void *arg, const sm_pentry_t *e), void *arg);

/* Remove producers whose newest batch timestamp is older than now - max_age
 * (transactional.id.expiration.ms). Returns how many were removed. */
int sm_pstate_expire(sm_pstate_t *ps, int64_t now_ms, int64_t max_age_ms);

#endif

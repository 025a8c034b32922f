/*
 * sm_pstate_snap.h - producer-state persistence for a partition log:
 * Kafka's `<20-digit offset>.snapshot` files (ProducerStateManager
 * snapshot format, version 1) and the rebuild of the state from the newest
 * usable snapshot plus the v2 batch headers of the log after it.
 *
 * File layout (big-endian): version i16 (= 1) | crc u32 | entries array
 * (i32 count, then per entry: producerId i64, epoch i16, lastSequence i32,
 * lastOffset i64, offsetDelta i32, timestamp i64, coordinatorEpoch i32,
 * currentTxnFirstOffset i64). The CRC-32C covers everything after the crc
 * field. A snapshot named N holds the state of every batch below offset N.
 *
 * Kafka writes one entry per producer (its newest batch). We write one
 * entry per retained batch, oldest first: Kafka's reader keeps the last
 * entry of a producer (the newest batch), so the file stays readable by
 * Kafka, and our reader restores up to 5 batches, so duplicates of any
 * in-flight batch are still detected after a restart.
 *
 * Internal to src/log (uses sm_seg_t); called by sm_plog.c under the log's
 * write lock. Not thread-safe on its own.
 */
#ifndef SM_PSTATE_SNAP_H
#define SM_PSTATE_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "log/sm_seg.h"
#include "proto/sm_records.h"
#include "repl/sm_producer_state.h"

#define SM_PSNAP_VERSION 1
#define SM_PSNAP_ENTRY_SIZE 46
#define SM_PSNAP_HEADER_SIZE 10      /* version + crc + array count */

/* Append the snapshot bytes of ps to w. */
void sm_pstate_snap_encode(const sm_pstate_t *ps, sm_wbuf_t *w);
/* Parse snapshot bytes (untrusted) into ps (entries are added; clear ps
 * first for a fresh load). Returns 0, or -1 if the data is truncated, has
 * trailing bytes, another version, a negative count or a CRC mismatch (ps
 * is then left unchanged). */
int sm_pstate_snap_decode(const uint8_t *p, size_t len, sm_pstate_t *ps);

/* Write <dir>/<offset>.snapshot crash-safely. 0 or -1 with errno. */
int sm_pstate_snap_write(const char *dir, int64_t offset, const sm_pstate_t *ps);
/* Sorted offsets of the snapshot files in dir (heap array, free it).
 * Returns the count (0 with *offsets NULL when none). */
int sm_pstate_snap_list(const char *dir, int64_t **offsets);
/* Delete every snapshot whose offset is < lo or > hi. */
void sm_pstate_snap_delete_outside(const char *dir, int64_t lo, int64_t hi);
/* Keep only the `keep` newest snapshots. */
void sm_pstate_snap_prune(const char *dir, int keep);

/* Fold one appended batch header into ps (producerId < 0 is ignored).
 * append_time >= 0 replaces maxTimestamp (LogAppendTime). */
void sm_pstate_apply_header(sm_pstate_t *ps, const sm_batch_hdr_t *h, int64_t append_time);

/* Leader check of the batches buf[0..len) of one append (framing already
 * validated) against ps, in order, each batch also against earlier batches
 * of the same producer in the same buffer. Batches with producerId < 0 are
 * not checked. Returns SM_ERR_NONE; SM_ERR_DUPLICATE_SEQUENCE_NUMBER with
 * *dup = the original batch (the append must then write nothing and answer
 * with the original offsets); SM_ERR_INVALID_RECORD (baseSequence < 0);
 * SM_ERR_INVALID_PRODUCER_EPOCH; SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER. */
sm_err_t sm_pstate_check_append(const sm_pstate_t *ps, const uint8_t *buf, size_t len, sm_pbatch_t *dup);
/* After a successful write: fold every batch of buf[0..len) (offsets
 * already stamped) into ps. append_time as for sm_pstate_apply_header. */
void sm_pstate_apply_append(sm_pstate_t *ps, const uint8_t *buf, size_t len, int64_t append_time);

/* Rebuild ps for a log whose segments are segs[0..nsegs) with end offset
 * leo: drop snapshots above leo or below the first segment's base, load
 * the newest one that decodes (deleting corrupt ones), then replay the
 * batch headers from its offset (or from the first segment) to leo.
 * `name` prefixes log lines. Returns the number of batches replayed, or -1
 * on an I/O error while scanning (ps then holds what was read). */
int64_t sm_pstate_rebuild(sm_pstate_t *ps, const char *dir, const char *name, sm_seg_t *const *segs, int nsegs,
                          int64_t leo);

#endif

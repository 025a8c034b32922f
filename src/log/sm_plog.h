/*
 * sm_plog.h - one partition's log: a directory <topic>-<partition>/ of
 * segments named by 20-digit base offset (.log, sparse .index, .timeindex),
 * plus leader-epoch-checkpoint. Kafka 2.x on-disk compatible.
 *
 * The log stores batches exactly as given (after offset/epoch stamping); it
 * never parses a request and never decompresses. Every function is
 * thread-safe: an internal mutex is taken once per call (never per record).
 * Fetch data leaves as (sm_file_t, position, length) regions for sendfile.
 */
#ifndef SM_PLOG_H
#define SM_PLOG_H

#include <stdint.h>
#include "core/sm_err.h"
#include "core/sm_file.h"

/* Per-log settings: broker defaults (log.*) overridden per topic. */
typedef struct {
    int64_t segment_bytes;           /* segment.bytes / log.segment.bytes (1 GiB) */
    int64_t segment_ms;              /* segment.ms / log.roll.ms (7 days) */
    int64_t segment_jitter_ms;       /* segment.jitter.ms (0) */
    int64_t retention_ms;            /* retention.ms (7 days; -1 = forever) */
    int64_t retention_bytes;         /* retention.bytes (-1 = unlimited) */
    int32_t index_interval_bytes;    /* index.interval.bytes (4096) */
    int32_t segment_index_bytes;     /* segment.index.bytes (10 MiB) */
    int64_t flush_messages;          /* flush.messages (Long.MAX = never) */
    int64_t flush_ms;                /* flush.ms (Long.MAX = never) */
    int32_t max_message_bytes;       /* max.message.bytes (1048588) */
    int message_timestamp_log_append;/* message.timestamp.type == LogAppendTime */
    int cleanup_compact;             /* cleanup.policy contains compact */
    int cleanup_delete;              /* cleanup.policy contains delete (default) */
    int64_t file_delete_delay_ms;    /* file.delete.delay.ms (60000) */
    int compression_type;            /* compression.type: -1 producer (default), else sm_codec_t */
    int64_t message_timestamp_difference_max_ms; /* (Long.MAX) */
    int64_t delete_retention_ms;     /* delete.retention.ms: tombstones kept (1 day) */
    double min_cleanable_dirty_ratio;/* min.cleanable.dirty.ratio (0.5) */
    int64_t min_compaction_lag_ms;   /* min.compaction.lag.ms (0) */
    int64_t max_compaction_lag_ms;   /* max.compaction.lag.ms (Long.MAX) */
} sm_log_config_t;

void sm_log_config_defaults(sm_log_config_t *c);
/* Apply a topic-level key (retention.ms, segment.bytes, flush.messages, ...).
 * Returns 1 if applied, 0 if the key is not a log key, -1 with errstr if the
 * value is invalid (Kafka's "Invalid value X for configuration Y: ..."). */
int sm_log_config_set(sm_log_config_t *c, const char *key, const char *value, char *errstr, size_t errlen);

typedef struct sm_plog_s sm_plog_t;

typedef struct {
    int64_t first_offset;            /* offset of the first appended record */
    int64_t last_offset;
    int64_t max_timestamp;
    int64_t log_append_time;         /* -1 unless LogAppendTime */
    int64_t log_start_offset;
    int duplicate;                   /* idempotent retry: nothing written, offsets of the original */
} sm_append_info_t;

/* A byte range of one segment file, whole batches only (except min_one). */
typedef struct {
    sm_file_t *file;                 /* holds a reference: sm_file_unref when done */
    int64_t pos;
    int64_t len;                     /* 0 = nothing to send (file NULL) */
} sm_log_region_t;

/* Open (creating if absent) <parent_dir>/<topic>-<partition>. If recover,
 * every segment from the one holding recovery_point on is checked batch by
 * batch (length, CRC-32C), the first bad batch and everything after it is
 * truncated, and indexes are rebuilt. Returns NULL with errstr on failure. */
sm_plog_t *sm_plog_open(const char *parent_dir, const char *topic, int32_t partition,
                        const sm_log_config_t *cfg, int64_t recovery_point,
                        int64_t log_start_offset, int recover, char *errstr, size_t errlen);
/* Flush, trim indexes, close files, free. NULL allowed. */
void sm_plog_close(sm_plog_t *l);
/* Close and remove the whole directory (topic deletion / StopReplica delete). */
void sm_plog_delete(sm_plog_t *l);

/* Append buf[0..len): one or more complete, already validated v2 batches.
 * If assign_offsets, each batch's baseOffset is rewritten in place to the
 * next offset and its partitionLeaderEpoch to leader_epoch; otherwise
 * (follower) offsets must continue the log. LogAppendTime topics get their
 * timestamp stamped. Rolls the segment first when needed, writes with one
 * write(), adds index entries every index.interval.bytes, records a new
 * leader epoch in leader-epoch-checkpoint, and flushes per flush.messages.
 * Returns SM_ERR_NONE, SM_ERR_KAFKA_STORAGE_ERROR (I/O; nothing is left
 * half-written in the log), or SM_ERR_CORRUPT_MESSAGE (framing).
 * Idempotent producers (batches with producerId >= 0): a leader append
 * (assign_offsets) is first checked against the log's producer state
 * (repl/sm_producer_state.h) and may fail with OUT_OF_ORDER_SEQUENCE_NUMBER,
 * INVALID_PRODUCER_EPOCH or INVALID_RECORD; a retry of one of a producer's
 * last 5 batches writes nothing and returns NONE with info->duplicate = 1
 * and the original offsets. Every append (leader or follower) updates the
 * state; it is snapshotted to <offset>.snapshot on roll and close and
 * rebuilt on open and truncation. */
sm_err_t sm_plog_append(sm_plog_t *l, uint8_t *buf, size_t len, int32_t leader_epoch,
                        int assign_offsets, sm_append_info_t *info);

/* Locate batches for a fetch at `offset`: start at the batch containing it,
 * stop before max_bytes would be exceeded and never include a batch whose
 * last offset is >= max_offset (the high watermark, or LEO for followers).
 * With min_one the first batch is returned whole even if larger than
 * max_bytes (KIP-74). Reads only one segment per call. Uses the sparse index
 * plus batch headers read with pread, never record data.
 * Returns SM_ERR_NONE (region may be empty when offset == max_offset), or
 * SM_ERR_OFFSET_OUT_OF_RANGE if offset < log start or offset > LEO. */
sm_err_t sm_plog_read(sm_plog_t *l, int64_t offset, int64_t max_offset, int32_t max_bytes,
                      int min_one, sm_log_region_t *out);

int64_t sm_plog_log_end_offset(sm_plog_t *l);     /* LEO: next offset to assign */
int64_t sm_plog_log_start_offset(sm_plog_t *l);
int64_t sm_plog_size_bytes(sm_plog_t *l);         /* sum of segment sizes */
int64_t sm_plog_recovery_point(sm_plog_t *l);
int     sm_plog_segment_count(sm_plog_t *l);
const char *sm_plog_topic(sm_plog_t *l);
int32_t sm_plog_partition(sm_plog_t *l);
const char *sm_plog_dir(sm_plog_t *l);            /* the partition directory */

/* High watermark bookkeeping (owned by the replica manager, persisted by the
 * log manager in replication-offset-checkpoint). */
void    sm_plog_set_high_watermark(sm_plog_t *l, int64_t hw);
int64_t sm_plog_high_watermark(sm_plog_t *l);

/* ListOffsets by timestamp: the first offset whose record timestamp is >= ts,
 * found through the time index then a scan of batch headers. Returns 0 with
 * *offset and *timestamp set, or -1 if no such record. */
int sm_plog_offset_for_timestamp(sm_plog_t *l, int64_t ts, int64_t *offset, int64_t *timestamp);

/* Largest timestamp in the log and its offset (ListOffsets -3 MAX_TIMESTAMP). */
int sm_plog_max_timestamp(sm_plog_t *l, int64_t *offset, int64_t *timestamp);

/* Leader epoch cache: latest epoch, and the end offset of `epoch`
 * (KIP-101 endOffsetFor semantics). */
int32_t sm_plog_latest_epoch(sm_plog_t *l);
void    sm_plog_epoch_end_offset(sm_plog_t *l, int32_t epoch, int32_t *out_epoch, int64_t *out_offset);

/* Retention: delete whole non-active segments whose newest record is older
 * than retention.ms, or while the log exceeds retention.bytes by at least a
 * segment. Advances the log start offset. Returns segments deleted. */
int  sm_plog_apply_retention(sm_plog_t *l, int64_t now_ms);
/* Roll the active segment if segment.ms has passed (called periodically). */
void sm_plog_maybe_roll(sm_plog_t *l, int64_t now_ms);
/* fsync everything up to LEO and advance the recovery point. 0 or -1. */
int  sm_plog_flush(sm_plog_t *l);
/* flush.ms policy: flush if the last flush is older than flush.ms. */
void sm_plog_maybe_flush(sm_plog_t *l, int64_t now_ms);
/* Remove everything at and after offset (follower truncation). */
sm_err_t sm_plog_truncate_to(sm_plog_t *l, int64_t offset);
/* Follower whose whole log is below the leader's log start (Kafka's
 * truncateFullyAndStartAt): drop every segment, the leader epoch cache and
 * the producer state, and continue empty with log start = LEO = HW =
 * offset, so that fetched batches from offset on append without a gap.
 * SM_ERR_NONE or SM_ERR_KAFKA_STORAGE_ERROR (the log is then unchanged). */
sm_err_t sm_plog_truncate_fully_and_start_at(sm_plog_t *l, int64_t offset);
/* Advance the log start offset (DeleteRecords); deletes covered segments. */
sm_err_t sm_plog_set_log_start_offset(sm_plog_t *l, int64_t offset);
/* Replace the config (live topic config change). */
void sm_plog_set_config(sm_plog_t *l, const sm_log_config_t *cfg);

#endif

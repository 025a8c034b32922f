/*
 * sm_cleaner.h - the log cleaner (Kafka's LogCleaner): compaction of logs
 * whose cleanup.policy contains "compact", keeping for every key only the
 * record with the highest offset, and dropping tombstones (null values)
 * once they are older than delete.retention.ms.
 *
 * Owns: the cleaner threads (log.cleaner.threads, started by the log
 * manager), the per-dir cleaner-offset-checkpoint file (the first dirty
 * offset of each compacted log, same text format as the other offset
 * checkpoints), the `.cleaned` / `.swap` file dance that replaces segments,
 * and the completion of an interrupted swap when a log is loaded.
 *
 * A pass over one log (Kafka 2.x semantics):
 *  - the dirty section is [first dirty offset, first uncleanable offset):
 *    the first uncleanable offset is the base of the active segment, of
 *    the first segment above the high watermark, or of the first segment
 *    younger than min.compaction.lag.ms, whichever is lowest;
 *  - a log is picked when dirty bytes / total bytes of its sealed segments
 *    >= min.cleanable.dirty.ratio, or its oldest dirty record is older than
 *    max.compaction.lag.ms; the dirtiest log goes first;
 *  - an offset map key digest -> latest offset is built over the dirty
 *    section (bounded by log.cleaner.dedupe.buffer.size / threads; if it
 *    fills, the pass ends where the map ends);
 *  - every sealed segment from the log start up to that end is rewritten,
 *    in groups of consecutive segments whose total size fits segment.bytes,
 *    into one `<base>.log.cleaned` (+ .index.cleaned, .timeindex.cleaned):
 *    a record survives if it is not superseded by a later offset of its key
 *    and is not an expired tombstone. Records without a key are dropped
 *    (Kafka does the same; the produce path rejects them up front);
 *  - batches keep their base offset, last offset delta, base timestamp,
 *    producer id/epoch/base sequence, leader epoch and codec; partially
 *    kept batches are rebuilt (records copied byte for byte, recompressed
 *    with the batch's codec) and re-checksummed; fully kept batches are
 *    copied untouched; emptied batches are dropped except the newest batch
 *    of a producer that is still active in the log's producer state, which
 *    stays as an empty batch (header only) so its sequence numbers survive;
 *  - the swap holds the partition lock only for renames and one segment
 *    open: `.cleaned` -> `.swap`, old segment files unlinked (readers that
 *    hold an sm_file_t keep reading the old inode), `.swap` -> final name.
 *
 * Tombstones: a tombstone is removed when its segment lies entirely in the
 * already-cleaned part of the log (so it survived at least one pass) and
 * the segment was last modified more than delete.retention.ms ago (a
 * cleaned segment keeps the newest modification time of its sources, as in
 * Kafka).
 *
 * Thread-safe. Lock order: log manager lock -> cleaner lock -> partition log
 * lock; the cleaner never takes the log manager lock while holding its own.
 */
#ifndef SM_CLEANER_H
#define SM_CLEANER_H

#include <stdint.h>
#include "core/sm_err.h"
#include "core/sm_file.h"
#include "log/sm_plog.h"
#include "log/sm_seg.h"

#define SM_CLEANER_CKPT_FILE "cleaner-offset-checkpoint"

/* Broker-level cleaner settings (log.cleaner.*). */
typedef struct {
    int enable;                      /* log.cleaner.enable (true) */
    int threads;                     /* log.cleaner.threads (1) */
    int64_t backoff_ms;              /* log.cleaner.backoff.ms (15000) */
    int64_t dedupe_buffer_size;      /* log.cleaner.dedupe.buffer.size (128 MiB, all threads) */
    int32_t io_buffer_size;          /* log.cleaner.io.buffer.size (512 KiB, all threads) */
} sm_cleaner_config_t;

void sm_cleaner_config_defaults(sm_cleaner_config_t *c);

typedef struct sm_cleaner_s sm_cleaner_t;
struct sm_logmgr_s;

/* A cleaner for the log dirs dirs[0..ndirs) (copied): reads each dir's
 * cleaner-offset-checkpoint (an unreadable one is logged and ignored).
 * Starts no thread. Never NULL. */
sm_cleaner_t *sm_cleaner_new(const sm_cleaner_config_t *cfg, char *const *dirs, int ndirs);
/* Start cfg->threads threads that pick logs from m (sm_logmgr_foreach)
 * every backoff_ms. Call once, after the logs are loaded. */
void sm_cleaner_start(sm_cleaner_t *c, struct sm_logmgr_s *m);
/* Stop the threads (a pass in progress is abandoned without swapping),
 * write every checkpoint, free. NULL allowed. Must not be called with the
 * log manager lock held (threads may be waiting for it). */
void sm_cleaner_free(sm_cleaner_t *c);
/* Before a log is closed or deleted: abandon any pass over it and wait
 * until no thread uses it. forget = 1 also drops its checkpoint entry
 * (topic deletion). Any thread, log manager lock may be held. */
void sm_cleaner_abort(sm_cleaner_t *c, sm_plog_t *l, int forget);
/* Write the cleaner-offset-checkpoint of every dir now. */
void sm_cleaner_checkpoint(sm_cleaner_t *c);
/* The first dirty offset recorded for l (-1 if none). */
int64_t sm_cleaner_first_dirty(sm_cleaner_t *c, sm_plog_t *l);

typedef struct {
    int64_t first_dirty;             /* dirty section [first_dirty, end_offset) */
    int64_t end_offset;              /* new first dirty offset (checkpointed) */
    int64_t bytes_read, bytes_written;
    int64_t records_read, records_written;
    int segments_in, segments_out;
    double dirty_ratio;
} sm_clean_stats_t;

/* One synchronous pass over l at time now_ms (the clock is a parameter so
 * tests can move past delete.retention.ms). Skips logs that are not
 * compacted, and unless force, logs below min.cleanable.dirty.ratio.
 * Returns 1 if the log was cleaned (*st filled when not NULL), 0 if there
 * was nothing to do, -1 on an error (logged; the log is left as it was).
 * Not to be called concurrently for the same log. */
int sm_cleaner_clean_log(sm_cleaner_t *c, sm_plog_t *l, int64_t now_ms, int force, sm_clean_stats_t *st);

/* ---- between the cleaner and the partition log (internal to src/log) ---- */

/* A sealed segment as seen by the cleaner. */
typedef struct {
    int64_t base, end;               /* offsets [base, end): end = next segment's base */
    int64_t size;                    /* bytes of .log (sealed: fixed) */
    int64_t max_ts;                  /* largest record timestamp, -1 unknown */
    int64_t first_ts;                /* first batch's max timestamp, -1 unknown */
    int64_t mtime_ms;                /* .log modification time */
    sm_file_t *file;                 /* a reference (the segment's identity), or NULL */
} sm_clean_seg_t;

typedef struct {
    sm_log_config_t cfg;
    int64_t log_start, leo, hw, active_base;
    int nsegs;                       /* sealed segments only, oldest first */
    sm_clean_seg_t *segs;
} sm_clean_view_t;

/* sm_plog.c: a consistent copy of l's sealed segments (with file
 * references if with_files) under the read lock. Free with
 * sm_clean_view_free. */
void sm_plog_clean_view(sm_plog_t *l, int with_files, sm_clean_view_t *v);
void sm_clean_view_free(sm_clean_view_t *v);
/* sm_plog.c: under the write lock, replace the consecutive sealed segments
 * old[0..nold) (matched by file identity) with the cleaned segment whose
 * files are <dir>/<old[0].base>.*.cleaned. Returns 0; -1 if the segments
 * are no longer there (truncation, retention: nothing touched) or the swap
 * failed (logged). */
int sm_plog_clean_swap(sm_plog_t *l, const sm_clean_seg_t *old, int nold);
/* sm_plog.c: last offset of producer pid's newest batch in l's producer
 * state, or -1 if the producer is unknown. */
int64_t sm_plog_producer_last_offset(sm_plog_t *l, int64_t pid);

/* sm_cleaner.c, called by sm_plog_clean_swap with the log write-locked:
 * the rename dance for the cleaned files of old[0..nold) in dir, then the
 * new segment opened (sealed). Returns it, or NULL (logged) - the old
 * segments then stay valid in memory (their fds keep the data readable). */
sm_seg_t *sm_cleaner_swap_in(const char *dir, const char *name, sm_seg_t *const *old, int nold,
                             int32_t index_bytes);
/* sm_cleaner.c, called by the log before it scans dir at load: delete
 * `.cleaned` files, complete every `<base>.log.swap` (segments with a base
 * inside the swap segment's offsets are deleted, then the swap files are
 * renamed to their final names), delete other `.swap` files. 0, or -1 on
 * an I/O error (logged). */
int sm_cleaner_recover_dir(const char *dir, const char *name);

/* Produce path: SM_ERR_INVALID_RECORD if a record of the validated batch
 * p[0..len) has a null key (compacted topics), else SM_ERR_NONE (or the
 * iterator's error). */
sm_err_t sm_cleaner_check_keys(const uint8_t *p, size_t len, size_t max_uncompressed);

#endif

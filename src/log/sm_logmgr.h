/*
 * sm_logmgr.h - the log manager: every partition log across log.dirs.
 *
 * Owns the per-directory files: .lock, meta.properties (broker.id and
 * cluster.id, checked at start-up), recovery-point-offset-checkpoint,
 * log-start-offset-checkpoint, replication-offset-checkpoint and the
 * .kafka_cleanshutdown marker. Loads (and after an unclean shutdown,
 * recovers, logging progress per directory) every partition at start-up,
 * places new partitions in the directory holding the fewest, and runs the
 * periodic work (retention, time-based roll, flush.ms, checkpoints). It
 * also owns the log cleaner (sm_cleaner.h) of compacted logs.
 * Thread-safe.
 */
#ifndef SM_LOGMGR_H
#define SM_LOGMGR_H

#include <stdint.h>
#include "log/sm_cleaner.h"
#include "log/sm_plog.h"

typedef struct sm_logmgr_s sm_logmgr_t;

typedef struct {
    char **dirs;                     /* log.dirs, at least one */
    int ndirs;
    int32_t broker_id;
    const char *cluster_id;          /* checked against/written to meta.properties */
    int recovery_threads;            /* num.recovery.threads.per.data.dir */
    int64_t retention_check_interval_ms;   /* log.retention.check.interval.ms */
    int64_t flush_scheduler_interval_ms;   /* log.flush.scheduler.interval.ms */
    int64_t checkpoint_interval_ms;        /* log.flush.offset.checkpoint.interval.ms */
    sm_log_config_t defaults;        /* broker-level log defaults */
    sm_cleaner_config_t cleaner;     /* log.cleaner.*; enable = 0 (zeroed config): no cleaner */
} sm_logmgr_config_t;

/* Lock and load every log dir. Fails (NULL + errstr) on a dir that cannot be
 * created or locked, or a meta.properties naming another broker.id/cluster. */
sm_logmgr_t *sm_logmgr_open(const sm_logmgr_config_t *cfg, char *errstr, size_t errlen);

/* Config of a partition: the broker defaults with topic overrides applied
 * is passed in by the caller on create; existing logs keep theirs. */
sm_plog_t *sm_logmgr_get(sm_logmgr_t *m, const char *topic, int32_t partition);
sm_plog_t *sm_logmgr_get_or_create(sm_logmgr_t *m, const char *topic, int32_t partition,
                                   const sm_log_config_t *cfg, char *errstr, size_t errlen);
/* Close and delete a partition's log (its directory is removed). */
void sm_logmgr_delete(sm_logmgr_t *m, const char *topic, int32_t partition);
/* Call fn for each open log (under the manager's lock: fn must not call back). */
void sm_logmgr_foreach(sm_logmgr_t *m, void (*fn)(sm_plog_t *l, void *arg), void *arg);

/* Periodic work; call about every 100-1000 ms from one thread. */
void sm_logmgr_tick(sm_logmgr_t *m, int64_t now_ms);
/* Write all three checkpoint files now. */
void sm_logmgr_checkpoint(sm_logmgr_t *m);
/* Clean shutdown: flush and close every log, write checkpoints and the
 * .kafka_cleanshutdown marker, unlock dirs, free. */
void sm_logmgr_shutdown(sm_logmgr_t *m);

#endif

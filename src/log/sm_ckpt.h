/*
 * sm_ckpt.h - Kafka's text checkpoint files (internal to src/log, public for
 * tests and tools): the offset checkpoints of a log dir
 * (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 * replication-offset-checkpoint: "0\n<n>\n<topic> <partition> <offset>\n...")
 * and a partition's leader-epoch-checkpoint ("0\n<n>\n<epoch> <offset>\n...").
 *
 * Writes are crash-safe (<file>.tmp, fsync, rename, fsync dir). Reads are
 * strict like Kafka's CheckpointFile: wrong version, a malformed line or an
 * entry count that differs from the header is an error. Thread-safe.
 */
#ifndef SM_CKPT_H
#define SM_CKPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *topic;             /* heap, owned by the array */
    int32_t partition;
    int64_t offset;
} sm_ckpt_entry_t;

typedef struct {
    int32_t epoch;
    int64_t start_offset;
} sm_epoch_entry_t;

/* Write n entries to path atomically. 0, or -1 with errno. */
int sm_ckpt_write(const char *path, const sm_ckpt_entry_t *e, int n);
/* Parse checkpoint text. On success returns 0 with a heap array in *out
 * (free with sm_ckpt_free) and its length in *n; -1 with errstr otherwise. */
int sm_ckpt_parse(const char *text, size_t len, sm_ckpt_entry_t **out, int *n, char *errstr, size_t errlen);
/* Read a file; a missing file is an empty checkpoint (0, *n = 0). */
int sm_ckpt_read(const char *path, sm_ckpt_entry_t **out, int *n, char *errstr, size_t errlen);
void sm_ckpt_free(sm_ckpt_entry_t *e, int n);

/* Same for leader-epoch-checkpoint; *out is a plain heap array (free()). */
int sm_epoch_ckpt_write(const char *path, const sm_epoch_entry_t *e, int n);
int sm_epoch_ckpt_parse(const char *text, size_t len, sm_epoch_entry_t **out, int *n, char *errstr, size_t errlen);
int sm_epoch_ckpt_read(const char *path, sm_epoch_entry_t **out, int *n, char *errstr, size_t errlen);

#endif

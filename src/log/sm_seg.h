/*
 * sm_seg.h - one log segment (internal to src/log): the .log data file as a
 * ref-counted sm_file_t, plus its memory-mapped sparse offset index (.index,
 * 8-byte entries) and time index (.timeindex, 12-byte entries), in Kafka 2.x
 * on-disk format. Also the batch-header scanner used by reads and recovery.
 *
 * Segments carry no lock of their own: the owning sm_plog_t serialises
 * writers and lets readers (pread and index lookups only) run in parallel.
 */
#ifndef SM_SEG_H
#define SM_SEG_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_file.h"
#include "proto/sm_records.h"

#define SM_OIDX_ENTRY 8
#define SM_TIDX_ENTRY 12

typedef struct {
    int fd;                  /* -1 when closed */
    uint8_t *map;            /* NULL when map_len == 0 */
    size_t map_len;          /* bytes mapped = file length */
    int32_t entries;
    int32_t max_entries;     /* map_len / entry size */
    int esize;
} sm_idx_t;

typedef struct sm_seg_s {
    int64_t base;
    char *prefix;            /* "<dir>/<20-digit base>" */
    sm_file_t *log;
    int64_t size;            /* bytes in .log: cached, the writer keeps it exact */
    sm_idx_t oidx, tidx;
    int64_t bytes_since_index;
    int64_t max_ts;          /* largest batch maxTimestamp, -1 if unknown */
    int64_t max_ts_offset;
    int64_t first_ts;        /* maxTimestamp of the first batch (roll by time), -1 unknown */
    int64_t created_ms;
    int64_t jitter_ms;
    int64_t next_offset;     /* offset after the last batch (kept exact for the active segment) */
    int active;              /* indexes preallocated and writable */
    int32_t index_bytes;     /* segment.index.bytes for preallocation */
    int index_suspect;       /* an index file was missing or had a bad length */
} sm_seg_t;

/* Open (create=1: create, truncating stale files) segment `base` in dir.
 * Indexes of the active segment are grown to index_bytes and mapped
 * writable; others are mapped at their file size. The index contents are
 * not validated here (see sm_seg_index_ok). NULL with errstr on I/O error. */
sm_seg_t *sm_seg_open(const char *dir, int64_t base, int create, int active, int32_t index_bytes,
                      char *errstr, size_t errlen);
/* Close; if trim, cut the index files to their real entry count first. */
void sm_seg_close(sm_seg_t *s, int trim);
/* Unlink all files of the segment (via .deleted) and close it. Readers that
 * hold a reference to the .log sm_file_t keep reading the unlinked file. */
void sm_seg_delete(sm_seg_t *s);

/* Grow to index_bytes (active) or trim to the entry count (sealed) both
 * index files; 0 or -1. */
int sm_seg_index_resize(sm_seg_t *s, int active);
/* Check both indexes: entry sizes, monotonic entries, positions inside the
 * log. 1 if usable, 0 if they must be rebuilt. */
int sm_seg_index_ok(sm_seg_t *s);
/* Forget all index entries (rebuild follows). */
void sm_seg_index_reset(sm_seg_t *s);

/* Add an offset index entry (last offset of the batch at pos) and a time
 * index entry if max_ts grew; silently skipped when an index is full. */
void sm_seg_index_append(sm_seg_t *s, int64_t last_offset, int64_t pos, int64_t max_ts, int64_t max_ts_off);
/* Final time-index entry when the segment is sealed (Kafka's
 * onBecomeInactiveSegment). */
void sm_seg_seal_time_index(sm_seg_t *s);
int  sm_seg_index_full(const sm_seg_t *s);

/* Greatest offset-index entry <= offset: its position (0 if none). */
int64_t sm_seg_lookup_pos(const sm_seg_t *s, int64_t offset);
/* Greatest offset-index entry whose position <= pos: that position (0). */
int64_t sm_seg_lookup_pos_by_pos(const sm_seg_t *s, int64_t pos);
/* Time index: the entry with the greatest timestamp < ts; returns its
 * offset, or the base offset if none. */
int64_t sm_seg_lookup_time(const sm_seg_t *s, int64_t ts);
/* Last entries (for load): offset index last offset (-1), time index last. */
int64_t sm_seg_last_index_offset(const sm_seg_t *s, int64_t *pos);
int     sm_seg_last_time_entry(const sm_seg_t *s, int64_t *ts, int64_t *offset);

/* Read the batch header at pos with one pread, checking that the whole
 * batch lies inside [pos, limit). 1 = ok, 0 = pos == limit, -1 = invalid
 * or truncated, -2 = I/O error. */
int sm_seg_read_header(const sm_seg_t *s, int64_t pos, int64_t limit, sm_batch_hdr_t *h);
/* Scan headers from pos for the first batch whose last offset >= offset.
 * Returns 1 with *found_pos and *h, 0 if none before limit, -1 bad data. */
int sm_seg_find_batch(const sm_seg_t *s, int64_t offset, int64_t pos, int64_t limit,
                      int64_t *found_pos, sm_batch_hdr_t *h);

/* Walk every batch from position 0: framing, CRC-32C, increasing offsets,
 * relative-offset range, size <= max_batch. Rebuilds both indexes with
 * index_interval, recomputes next_offset/max_ts/first_ts, and truncates the
 * file at the first invalid byte. on_batch is called for each valid batch
 * (leader-epoch cache). Returns bytes truncated (>= 0) or -1 on I/O error. */
int64_t sm_seg_recover(sm_seg_t *s, int32_t index_interval, int64_t max_batch,
                       void (*on_batch)(void *arg, const sm_batch_hdr_t *h), void *arg);
/* Header-only walk from the last index entry to the end: sets next_offset
 * and folds tail timestamps into max_ts. 0, or -1 if the tail is invalid. */
int sm_seg_load_tail(sm_seg_t *s);
/* Cut the segment so no batch with base offset >= offset remains (whole
 * batches: a batch containing offset goes too). Updates indexes, size,
 * next_offset and max_ts. 0 or -1. */
int sm_seg_truncate_to(sm_seg_t *s, int64_t offset);
/* fdatasync the .log and msync the indexes. 0 or -1. */
int sm_seg_flush(sm_seg_t *s);
/* Largest timestamp for retention: max_ts, else the file's mtime. */
int64_t sm_seg_largest_ts(const sm_seg_t *s);

#endif

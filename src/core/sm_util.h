/*
 * sm_util.h - small helpers every module uses: allocation that aborts on
 * out-of-memory, clocks, Kafka's hash functions, and crash-safe file writes.
 */
#ifndef SM_UTIL_H
#define SM_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *sm_malloc(size_t n);
void *sm_calloc(size_t nmemb, size_t n);
void *sm_realloc(void *p, size_t n);
char *sm_strdup(const char *s);
char *sm_strndup(const char *s, size_t n);
/* printf into a fresh heap string. */
char *sm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wall clock in ms since the epoch, and a monotonic clock in ms. */
int64_t sm_now_ms(void);
int64_t sm_mono_ms(void);

/* Java String.hashCode over the UTF-16 code units of a UTF-8 string. */
int32_t sm_java_string_hash(const char *s, size_t len);
/* Kafka's murmur2 (Utils.murmur2), used by the default partitioner. */
int32_t sm_murmur2(const void *data, size_t len);

/* mkdir -p; returns 0 or -1 with errno. */
int sm_mkdirs(const char *path, int mode);
/* Write a whole file crash-safely: <path>.tmp, fsync, rename, fsync dir.
 * Returns 0 or -1 with errno. */
int sm_write_file_atomic(const char *path, const void *data, size_t len);
/* Read a whole file (at most max bytes) into a NUL-terminated heap buffer.
 * Returns NULL with errno on failure (EFBIG if larger than max). */
char *sm_read_file(const char *path, size_t max, size_t *len);
/* fsync a directory by path. */
int sm_fsync_dir(const char *path);
/* Remove a directory tree; returns 0 or -1. */
int sm_rmtree(const char *path);

/* Parse a decimal integer, the whole string; returns 0 or -1. */
int sm_parse_i64(const char *s, int64_t *out);

#define SM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SM_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif

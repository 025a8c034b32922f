/*
 * sm_buf.h - the bounds-checked reader and the growable writer.
 *
 * Every byte that comes from a socket, from disk or from ZooKeeper is read
 * through sm_reader_t. The reader has a sticky error: the first failed read
 * sets r->err to SM_ERR__BAD_MSG and every later read returns 0/empty, so a
 * decoder may read a whole struct and test r->err once. Strings and byte
 * fields are sm_bytes_t views into the underlying buffer: nothing is copied.
 *
 * sm_wbuf_t is an append-only byte buffer for encoding responses, znodes and
 * files; it grows by doubling and supports reserving a field to back-patch
 * (lengths, CRCs). Allocation failure aborts (see sm_util.h).
 *
 * Integers are big-endian on the wire. "varint"/"varlong" are the zigzag
 * encodings of record batch v2; "uvarint" is the unsigned varint of KIP-482
 * flexible versions. The two are not interchangeable.
 */
#ifndef SM_BUF_H
#define SM_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "core/sm_err.h"

typedef struct {
    int32_t len;          /* -1 means null */
    const uint8_t *ptr;
} sm_bytes_t;

#define SM_BYTES_NULL ((sm_bytes_t){ -1, NULL })
#define SM_BYTES_STR(s) ((sm_bytes_t){ (int32_t)strlen(s), (const uint8_t *)(s) })

typedef struct {
    const uint8_t *start; /* first byte (for offsets in error messages) */
    const uint8_t *pos;   /* next unread byte */
    const uint8_t *end;   /* one past the last readable byte */
    sm_err_t err;         /* sticky: first failure wins */
} sm_reader_t;

void sm_reader_init(sm_reader_t *r, const void *data, size_t len);
static inline size_t sm_reader_remaining(const sm_reader_t *r) {
    return r->err ? 0 : (size_t)(r->end - r->pos);
}
static inline size_t sm_reader_offset(const sm_reader_t *r) { return (size_t)(r->pos - r->start); }
/* Mark the reader failed (e.g. a semantic check in a decoder). */
static inline void sm_reader_fail(sm_reader_t *r) { if (!r->err) r->err = SM_ERR__BAD_MSG; }

int8_t   sm_read_i8(sm_reader_t *r);
int16_t  sm_read_i16(sm_reader_t *r);
int32_t  sm_read_i32(sm_reader_t *r);
int64_t  sm_read_i64(sm_reader_t *r);
uint32_t sm_read_u32(sm_reader_t *r);
/* Zigzag varint (max 5 bytes) / varlong (max 10 bytes), as in record batch v2. */
int32_t  sm_read_varint(sm_reader_t *r);
int64_t  sm_read_varlong(sm_reader_t *r);
/* Unsigned varint (max 5 bytes), as in KIP-482 compact types. */
uint32_t sm_read_uvarint(sm_reader_t *r);
/* n raw bytes as a view; fails if fewer remain. */
const uint8_t *sm_read_raw(sm_reader_t *r, size_t n);
void     sm_read_skip(sm_reader_t *r, size_t n);

/* Kafka types. flex != 0 selects the compact (KIP-482) encoding. Null is
 * returned as len -1; a non-nullable read of null fails the reader. */
sm_bytes_t sm_read_string(sm_reader_t *r, int flex);          /* STRING / COMPACT_STRING */
sm_bytes_t sm_read_nullable_string(sm_reader_t *r, int flex);
sm_bytes_t sm_read_bytes(sm_reader_t *r, int flex);           /* BYTES / COMPACT_BYTES */
sm_bytes_t sm_read_nullable_bytes(sm_reader_t *r, int flex);
/* Array count: -1 for null. Fails if count * min_elem_size exceeds what is
 * left, so callers may allocate count elements safely. */
int32_t  sm_read_array_len(sm_reader_t *r, int flex, size_t min_elem_size);
/* Skip a KIP-482 tagged-field section (count, then tag/size/data). */
void     sm_read_tags(sm_reader_t *r);

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} sm_wbuf_t;

void   sm_wbuf_init(sm_wbuf_t *w, size_t initial_cap);
void   sm_wbuf_free(sm_wbuf_t *w);
void   sm_wbuf_reset(sm_wbuf_t *w);            /* len = 0, keeps memory */
/* Ensure n more bytes fit; returns pointer to the write position. */
uint8_t *sm_wbuf_reserve(sm_wbuf_t *w, size_t n);
/* Take ownership of the data; the wbuf is left empty. */
uint8_t *sm_wbuf_steal(sm_wbuf_t *w, size_t *len);

void sm_write_raw(sm_wbuf_t *w, const void *p, size_t n);
void sm_write_i8(sm_wbuf_t *w, int8_t v);
void sm_write_i16(sm_wbuf_t *w, int16_t v);
void sm_write_i32(sm_wbuf_t *w, int32_t v);
void sm_write_i64(sm_wbuf_t *w, int64_t v);
void sm_write_u32(sm_wbuf_t *w, uint32_t v);
void sm_write_varint(sm_wbuf_t *w, int32_t v);
void sm_write_varlong(sm_wbuf_t *w, int64_t v);
void sm_write_uvarint(sm_wbuf_t *w, uint32_t v);
/* Kafka strings/bytes; len -1 writes null. */
void sm_write_string(sm_wbuf_t *w, sm_bytes_t s, int flex);
void sm_write_cstr(sm_wbuf_t *w, const char *s, int flex); /* NULL => null */
void sm_write_bytes(sm_wbuf_t *w, sm_bytes_t b, int flex);
void sm_write_array_len(sm_wbuf_t *w, int32_t n, int flex); /* -1 => null */
void sm_write_empty_tags(sm_wbuf_t *w);                     /* uvarint 0 */
/* Back-patching: reserve 4 bytes now, fill them later by offset. */
size_t sm_wbuf_reserve_i32(sm_wbuf_t *w);
void   sm_wbuf_patch_i32(sm_wbuf_t *w, size_t at, int32_t v);

/* Big-endian helpers on raw memory (caller guarantees bounds). */
static inline uint16_t sm_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sm_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t sm_be64(const uint8_t *p) { return (uint64_t)sm_be32(p) << 32 | sm_be32(p + 4); }
static inline void sm_put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void sm_put_be32(uint8_t *p, uint32_t v) {
    p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void sm_put_be64(uint8_t *p, uint64_t v) { sm_put_be32(p, (uint32_t)(v >> 32)); sm_put_be32(p + 4, (uint32_t)v); }

/* Bytes view helpers. */
static inline int sm_bytes_eq(sm_bytes_t a, const char *s) {
    size_t n = strlen(s);
    return a.len >= 0 && (size_t)a.len == n && memcmp(a.ptr, s, n) == 0;
}
/* Copy a view into a fresh NUL-terminated string (NULL for null). */
char *sm_bytes_strdup(sm_bytes_t b);

#endif

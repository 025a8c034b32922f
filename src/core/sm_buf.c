/*
 * sm_buf.c - bounds-checked reader and growable writer (see sm_buf.h).
 */
#include <stdlib.h>
#include "core/sm_buf.h"
#include "core/sm_util.h"

void
sm_reader_init(sm_reader_t *r, const void *data, size_t len)
{
    r->start = r->pos = data;
    r->end = r->pos + len;
    r->err = SM_ERR_NONE;
}

static inline int
need(sm_reader_t *r, size_t n)
{
    if (r->err) return 0;
    if ((size_t)(r->end - r->pos) < n) { r->err = SM_ERR__BAD_MSG; return 0; }
    return 1;
}

int8_t sm_read_i8(sm_reader_t *r) { if (!need(r, 1)) return 0; return (int8_t)*r->pos++; }
int16_t sm_read_i16(sm_reader_t *r) { if (!need(r, 2)) return 0; int16_t v = (int16_t)sm_be16(r->pos); r->pos += 2; return v; }
uint32_t sm_read_u32(sm_reader_t *r) { if (!need(r, 4)) return 0; uint32_t v = sm_be32(r->pos); r->pos += 4; return v; }
int32_t sm_read_i32(sm_reader_t *r) { return (int32_t)sm_read_u32(r); }
int64_t sm_read_i64(sm_reader_t *r) { if (!need(r, 8)) return 0; int64_t v = (int64_t)sm_be64(r->pos); r->pos += 8; return v; }

static uint64_t
read_uvar(sm_reader_t *r, int maxbytes)
{
    uint64_t v = 0;
    int shift = 0;
    for (int i = 0; i < maxbytes; i++) {
        if (!need(r, 1)) return 0;
        uint8_t b = *r->pos++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
        shift += 7;
    }
    r->err = SM_ERR__BAD_MSG;   /* too long */
    return 0;
}

uint32_t sm_read_uvarint(sm_reader_t *r) {
    uint64_t v = read_uvar(r, 5);
    if (v > UINT32_MAX) { r->err = SM_ERR__BAD_MSG; return 0; }
    return (uint32_t)v;
}
int32_t sm_read_varint(sm_reader_t *r) {
    uint64_t v = read_uvar(r, 5);
    if (v > UINT32_MAX) { r->err = SM_ERR__BAD_MSG; return 0; }
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 1) ^ -(u & 1));
}
int64_t sm_read_varlong(sm_reader_t *r) {
    uint64_t u = read_uvar(r, 10);
    return (int64_t)((u >> 1) ^ -(u & 1));
}

const uint8_t *
sm_read_raw(sm_reader_t *r, size_t n)
{
    if (!need(r, n)) return NULL;
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

void sm_read_skip(sm_reader_t *r, size_t n) { (void)sm_read_raw(r, n); }

/* Length prefix of a string (int16/compact) or bytes (int32/compact): -1 = null. */
static int64_t
read_len(sm_reader_t *r, int flex, int wide)
{
    if (flex) {
        uint32_t n = sm_read_uvarint(r);
        return r->err ? -2 : (int64_t)n - 1;
    }
    int64_t n = wide ? sm_read_i32(r) : sm_read_i16(r);
    if (r->err) return -2;
    if (n < -1) { r->err = SM_ERR__BAD_MSG; return -2; }
    return n;
}

static sm_bytes_t
read_lenbytes(sm_reader_t *r, int flex, int wide, int nullable)
{
    sm_bytes_t b = { -1, NULL };
    int64_t n = read_len(r, flex, wide);
    if (n == -2) return b;
    if (n == -1) {
        if (!nullable) r->err = SM_ERR__BAD_MSG;
        return b;
    }
    const uint8_t *p = sm_read_raw(r, (size_t)n);
    if (!p) return b;
    b.len = (int32_t)n;
    b.ptr = p;
    return b;
}

sm_bytes_t sm_read_string(sm_reader_t *r, int flex) { return read_lenbytes(r, flex, 0, 0); }
sm_bytes_t sm_read_nullable_string(sm_reader_t *r, int flex) { return read_lenbytes(r, flex, 0, 1); }
sm_bytes_t sm_read_bytes(sm_reader_t *r, int flex) { return read_lenbytes(r, flex, 1, 0); }
sm_bytes_t sm_read_nullable_bytes(sm_reader_t *r, int flex) { return read_lenbytes(r, flex, 1, 1); }

int32_t
sm_read_array_len(sm_reader_t *r, int flex, size_t min_elem_size)
{
    int64_t n;
    if (flex) {
        uint32_t u = sm_read_uvarint(r);
        if (r->err) return 0;
        n = (int64_t)u - 1;
    } else {
        n = sm_read_i32(r);
        if (r->err) return 0;
        if (n < -1) { r->err = SM_ERR__BAD_MSG; return 0; }
    }
    if (n > 0 && (uint64_t)n * (min_elem_size ? min_elem_size : 1) > (uint64_t)(r->end - r->pos)) {
        r->err = SM_ERR__BAD_MSG;
        return 0;
    }
    return (int32_t)n;
}

void
sm_read_tags(sm_reader_t *r)
{
    uint32_t n = sm_read_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        (void)sm_read_uvarint(r);               /* tag */
        uint32_t sz = sm_read_uvarint(r);
        sm_read_skip(r, sz);
    }
}

char *
sm_bytes_strdup(sm_bytes_t b)
{
    if (b.len < 0) return NULL;
    char *s = sm_malloc((size_t)b.len + 1);
    if (b.len) memcpy(s, b.ptr, (size_t)b.len);
    s[b.len] = '\0';
    return s;
}

/* ---- writer ---- */

void
sm_wbuf_init(sm_wbuf_t *w, size_t cap)
{
    w->data = cap ? sm_malloc(cap) : NULL;
    w->len = 0;
    w->cap = cap;
}

void sm_wbuf_free(sm_wbuf_t *w) { free(w->data); w->data = NULL; w->len = w->cap = 0; }
void sm_wbuf_reset(sm_wbuf_t *w) { w->len = 0; }

uint8_t *
sm_wbuf_reserve(sm_wbuf_t *w, size_t n)
{
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n) cap *= 2;
        w->data = sm_realloc(w->data, cap);
        w->cap = cap;
    }
    return w->data + w->len;
}

uint8_t *
sm_wbuf_steal(sm_wbuf_t *w, size_t *len)
{
    uint8_t *d = w->data;
    if (len) *len = w->len;
    w->data = NULL;
    w->len = w->cap = 0;
    return d;
}

void sm_write_raw(sm_wbuf_t *w, const void *p, size_t n) {
    if (!n) return;
    memcpy(sm_wbuf_reserve(w, n), p, n);
    w->len += n;
}
void sm_write_i8(sm_wbuf_t *w, int8_t v) { *sm_wbuf_reserve(w, 1) = (uint8_t)v; w->len++; }
void sm_write_i16(sm_wbuf_t *w, int16_t v) { sm_put_be16(sm_wbuf_reserve(w, 2), (uint16_t)v); w->len += 2; }
void sm_write_i32(sm_wbuf_t *w, int32_t v) { sm_put_be32(sm_wbuf_reserve(w, 4), (uint32_t)v); w->len += 4; }
void sm_write_u32(sm_wbuf_t *w, uint32_t v) { sm_put_be32(sm_wbuf_reserve(w, 4), v); w->len += 4; }
void sm_write_i64(sm_wbuf_t *w, int64_t v) { sm_put_be64(sm_wbuf_reserve(w, 8), (uint64_t)v); w->len += 8; }

static void
write_uvar(sm_wbuf_t *w, uint64_t v)
{
    uint8_t *p = sm_wbuf_reserve(w, 10);
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    p[n++] = (uint8_t)v;
    w->len += n;
}

void sm_write_uvarint(sm_wbuf_t *w, uint32_t v) { write_uvar(w, v); }
void sm_write_varint(sm_wbuf_t *w, int32_t v) { write_uvar(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31)); }
void sm_write_varlong(sm_wbuf_t *w, int64_t v) { write_uvar(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

void
sm_write_string(sm_wbuf_t *w, sm_bytes_t s, int flex)
{
    if (flex) sm_write_uvarint(w, (uint32_t)(s.len + 1));
    else sm_write_i16(w, (int16_t)s.len);
    if (s.len > 0) sm_write_raw(w, s.ptr, (size_t)s.len);
}

void
sm_write_cstr(sm_wbuf_t *w, const char *s, int flex)
{
    sm_write_string(w, s ? SM_BYTES_STR(s) : SM_BYTES_NULL, flex);
}

void
sm_write_bytes(sm_wbuf_t *w, sm_bytes_t b, int flex)
{
    if (flex) sm_write_uvarint(w, (uint32_t)(b.len + 1));
    else sm_write_i32(w, b.len);
    if (b.len > 0) sm_write_raw(w, b.ptr, (size_t)b.len);
}

void
sm_write_array_len(sm_wbuf_t *w, int32_t n, int flex)
{
    if (flex) sm_write_uvarint(w, (uint32_t)(n + 1));
    else sm_write_i32(w, n);
}

void sm_write_empty_tags(sm_wbuf_t *w) { sm_write_uvarint(w, 0); }

size_t
sm_wbuf_reserve_i32(sm_wbuf_t *w)
{
    size_t at = w->len;
    sm_write_i32(w, 0);
    return at;
}

void sm_wbuf_patch_i32(sm_wbuf_t *w, size_t at, int32_t v) { sm_put_be32(w->data + at, (uint32_t)v); }

/*
 * check_core.c - unit tests for src/core: the bounds-checked reader (every
 * type, sticky error, nulls, array-count check, truncation at every byte of a
 * composite message), the writer (round trips, exact encodings, growth,
 * back-patching), CRC-32C (published vectors, every alignment, hardware and
 * software paths against a bitwise reference), Java String.hashCode and
 * Kafka's murmur2, .properties parsing, typed config tables, the JSON DOM,
 * the arena, ref-counted files and the file helpers.
 *
 * Expected values come from public specs and Kafka's own tests (murmur2
 * vectors from Kafka's UtilsTest, CRC-32C vectors from RFC 3720), or were
 * worked out by hand as noted; never from the code under test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_conf.h"
#include "core/sm_crc32c.h"
#include "core/sm_err.h"
#include "core/sm_file.h"
#include "core/sm_json.h"
#include "core/sm_util.h"

/* A private copy of the CRC-32C implementation, so the test can call the
 * static hardware and software paths directly and compare them. Its public
 * function is renamed so it does not clash with the library's. */
#define sm_crc32c sm_crc32c_copy_for_test
#include "core/sm_crc32c.c"
#include "sm_test.h"
#undef sm_crc32c

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static void
reader_on(sm_reader_t *r, const void *p, size_t n)
{
    sm_reader_init(r, p, n);
}

#define HEX_EQ(w, lit)                                                        \
    do {                                                                      \
        static const uint8_t exp_[] = lit;                                    \
        ck_assert_uint_eq((w)->len, sizeof(exp_));                            \
        ck_assert_mem_eq((w)->data, exp_, sizeof(exp_));                      \
    } while (0)
#define B(...) { __VA_ARGS__ }

/* Fresh temp dir under $TMPDIR; caller removes it with sm_rmtree. */
static char *
make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = sm_asprintf("%s/check_core.XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(t));
    return t;
}

/* ------------------------------------------------------------------ */
/* reader                                                              */

START_TEST(t_reader_ints)
{
    static const uint8_t d[] = {
        0xfe,                                           /* i8 -2 */
        0x80, 0x01,                                     /* i16 -32767 */
        0x12, 0x34, 0x56, 0x78,                         /* i32 */
        0xff, 0xff, 0xff, 0xfe,                         /* u32 / i32 -2 */
        0x80, 0, 0, 0, 0, 0, 0, 1,                      /* i64 INT64_MIN+1 */
        0x7f,
    };
    sm_reader_t r;
    reader_on(&r, d, sizeof(d));
    ck_assert_int_eq(sm_read_i8(&r), -2);
    ck_assert_int_eq(sm_read_i16(&r), -32767);
    ck_assert_int_eq(sm_read_i32(&r), 0x12345678);
    ck_assert_uint_eq(sm_read_u32(&r), 0xfffffffeu);
    ck_assert_uint_eq(sm_reader_offset(&r), 11);
    ck_assert(sm_read_i64(&r) == INT64_MIN + 1);
    ck_assert_uint_eq(sm_reader_remaining(&r), 1);
    const uint8_t *p = sm_read_raw(&r, 1);
    ck_assert_ptr_eq(p, d + sizeof(d) - 1);
    ck_assert_int_eq(r.err, SM_ERR_NONE);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    /* Zero-length raw read at the end is fine. */
    ck_assert_ptr_nonnull(sm_read_raw(&r, 0));
    ck_assert_int_eq(r.err, SM_ERR_NONE);
    sm_read_i8(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
}
END_TEST

START_TEST(t_reader_sticky)
{
    static const uint8_t d[] = { 1, 2, 3, 4, 5, 6 };
    sm_reader_t r;
    reader_on(&r, d, 3);
    ck_assert_int_eq(sm_read_i32(&r), 0);          /* only 3 bytes */
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* Bytes are there but every later read must fail too. */
    ck_assert_int_eq(sm_read_i8(&r), 0);
    ck_assert_int_eq(sm_read_i16(&r), 0);
    ck_assert_ptr_null(sm_read_raw(&r, 1));
    sm_bytes_t s = sm_read_nullable_string(&r, 0);
    ck_assert_int_eq(s.len, -1);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    ck_assert_uint_eq(sm_reader_offset(&r), 0);    /* a failed read consumes nothing */
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* sm_reader_fail marks, first error wins. */
    reader_on(&r, d, sizeof(d));
    sm_reader_fail(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    ck_assert_int_eq(sm_read_i8(&r), 0);

    /* skip past the end fails; skip inside works */
    reader_on(&r, d, sizeof(d));
    sm_read_skip(&r, 5);
    ck_assert_int_eq(sm_read_i8(&r), 6);
    sm_read_skip(&r, 1);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* Huge skip must not wrap the pointer. */
    reader_on(&r, d, sizeof(d));
    sm_read_skip(&r, SIZE_MAX);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
}
END_TEST

START_TEST(t_reader_strings)
{
    sm_reader_t r;
    sm_bytes_t b;
    /* STRING "abc", NULLABLE_STRING null, STRING "" */
    static const uint8_t s1[] = { 0, 3, 'a', 'b', 'c', 0xff, 0xff, 0, 0 };
    reader_on(&r, s1, sizeof(s1));
    b = sm_read_string(&r, 0);
    ck_assert(sm_bytes_eq(b, "abc"));
    ck_assert_ptr_eq(b.ptr, s1 + 2);               /* a view, not a copy */
    b = sm_read_nullable_string(&r, 0);
    ck_assert_int_eq(b.len, -1);
    ck_assert_ptr_null(b.ptr);
    b = sm_read_string(&r, 0);
    ck_assert_int_eq(b.len, 0);
    ck_assert_int_eq(r.err, 0);

    /* non-nullable STRING given null fails */
    reader_on(&r, s1 + 5, 2);
    b = sm_read_string(&r, 0);
    ck_assert_int_eq(b.len, -1);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* length -2 is never valid */
    static const uint8_t neg[] = { 0xff, 0xfe, 'x', 'x' };
    reader_on(&r, neg, sizeof(neg));
    sm_read_nullable_string(&r, 0);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* length beyond the buffer */
    static const uint8_t longer[] = { 0, 4, 'a', 'b', 'c' };
    reader_on(&r, longer, sizeof(longer));
    b = sm_read_string(&r, 0);
    ck_assert_int_eq(b.len, -1);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* COMPACT_STRING: uvarint len+1; 0 = null; 1 = "" */
    static const uint8_t c1[] = { 4, 'x', 'y', 'z', 0, 1 };
    reader_on(&r, c1, sizeof(c1));
    ck_assert(sm_bytes_eq(sm_read_string(&r, 1), "xyz"));
    ck_assert_int_eq(sm_read_nullable_string(&r, 1).len, -1);
    b = sm_read_string(&r, 1);
    ck_assert_int_eq(b.len, 0);
    ck_assert_int_eq(r.err, 0);
    reader_on(&r, c1 + 4, 1);
    sm_read_string(&r, 1);                         /* compact null, not nullable */
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* BYTES (int32 length) and nullable BYTES */
    static const uint8_t by[] = { 0, 0, 0, 2, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff };
    reader_on(&r, by, sizeof(by));
    b = sm_read_bytes(&r, 0);
    ck_assert_int_eq(b.len, 2);
    ck_assert_int_eq(b.ptr[0], 0);
    ck_assert_int_eq(b.ptr[1], 0xff);
    ck_assert_int_eq(sm_read_nullable_bytes(&r, 0).len, -1);
    ck_assert_int_eq(r.err, 0);
    reader_on(&r, by + 6, 4);
    sm_read_bytes(&r, 0);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* int32 length -7 */
    static const uint8_t byneg[] = { 0xff, 0xff, 0xff, 0xf9 };
    reader_on(&r, byneg, sizeof(byneg));
    sm_read_nullable_bytes(&r, 0);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* int32 length 0x7fffffff with 1 byte left */
    static const uint8_t bybig[] = { 0x7f, 0xff, 0xff, 0xff, 0 };
    reader_on(&r, bybig, sizeof(bybig));
    sm_read_bytes(&r, 0);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);

    /* COMPACT_BYTES, a 2-byte uvarint length (130 => 129 bytes) */
    uint8_t cb[2 + 129];
    cb[0] = 0x82; cb[1] = 0x01;
    for (int i = 0; i < 129; i++) cb[2 + i] = (uint8_t)i;
    reader_on(&r, cb, sizeof(cb));
    b = sm_read_bytes(&r, 1);
    ck_assert_int_eq(b.len, 129);
    ck_assert_int_eq(b.ptr[128], 128);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    reader_on(&r, cb, sizeof(cb) - 1);
    sm_read_bytes(&r, 1);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* compact length uvarint 0xffffffff => len 0xfffffffe: must fail, not wrap */
    static const uint8_t cbig[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 'a' };
    reader_on(&r, cbig, sizeof(cbig));
    b = sm_read_nullable_bytes(&r, 1);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    ck_assert_int_eq(b.len, -1);

    /* strdup of views */
    char *d = sm_bytes_strdup((sm_bytes_t){ 3, (const uint8_t *)"abcdef" });
    ck_assert_str_eq(d, "abc");
    free(d);
    ck_assert_ptr_null(sm_bytes_strdup(SM_BYTES_NULL));
    d = sm_bytes_strdup((sm_bytes_t){ 0, NULL });
    ck_assert_str_eq(d, "");
    free(d);
    ck_assert(!sm_bytes_eq(SM_BYTES_NULL, ""));
    ck_assert(sm_bytes_eq(SM_BYTES_STR(""), ""));
    ck_assert(!sm_bytes_eq(SM_BYTES_STR("ab"), "abc"));
}
END_TEST

START_TEST(t_reader_arrays)
{
    sm_reader_t r;
    /* count 3, elements of at least 4 bytes, 12 bytes left: ok */
    uint8_t a[4 + 13] = { 0, 0, 0, 3 };
    reader_on(&r, a, 16);
    ck_assert_int_eq(sm_read_array_len(&r, 0, 4), 3);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(sm_reader_offset(&r), 4);
    /* 11 bytes left: fails before the caller can allocate */
    reader_on(&r, a, 15);
    ck_assert_int_eq(sm_read_array_len(&r, 0, 4), 0);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* min_elem_size 0 counts as 1 */
    reader_on(&r, a, 6);
    sm_read_array_len(&r, 0, 0);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    reader_on(&r, a, 7);
    ck_assert_int_eq(sm_read_array_len(&r, 0, 0), 3);
    /* null (-1) is returned as -1; -2 fails */
    static const uint8_t nul[] = { 0xff, 0xff, 0xff, 0xff }, m2[] = { 0xff, 0xff, 0xff, 0xfe };
    reader_on(&r, nul, 4);
    ck_assert_int_eq(sm_read_array_len(&r, 0, 8), -1);
    ck_assert_int_eq(r.err, 0);
    reader_on(&r, m2, 4);
    sm_read_array_len(&r, 0, 8);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* INT32_MAX elements of 8 bytes: the multiplication must not overflow */
    static const uint8_t big[] = { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4 };
    reader_on(&r, big, sizeof(big));
    sm_read_array_len(&r, 0, SIZE_MAX / 2);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* compact: 0 = null, 1 = empty, 3 = two elements */
    static const uint8_t c[] = { 0, 1, 3, 9, 9, 9, 9 };
    reader_on(&r, c, sizeof(c));
    ck_assert_int_eq(sm_read_array_len(&r, 1, 2), -1);
    ck_assert_int_eq(sm_read_array_len(&r, 1, 2), 0);
    ck_assert_int_eq(sm_read_array_len(&r, 1, 2), 2);
    ck_assert_int_eq(r.err, 0);
    reader_on(&r, c + 2, 4);                        /* 3 bytes left, need 4 */
    sm_read_array_len(&r, 1, 2);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* compact count 0xffffffff => 0xfffffffe elements: fails */
    static const uint8_t cbig[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0 };
    reader_on(&r, cbig, sizeof(cbig));
    sm_read_array_len(&r, 1, 1);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
}
END_TEST

START_TEST(t_reader_tags)
{
    sm_reader_t r;
    /* 2 tagged fields: tag 0 size 3, tag 300 (0xac 0x02) size 0; then 0x55 */
    static const uint8_t t[] = { 2, 0, 3, 'a', 'b', 'c', 0xac, 0x02, 0, 0x55 };
    reader_on(&r, t, sizeof(t));
    sm_read_tags(&r);
    ck_assert_int_eq(r.err, 0);
    ck_assert_int_eq(sm_read_i8(&r), 0x55);
    for (size_t cut = 0; cut < sizeof(t) - 1; cut++) {
        reader_on(&r, t, cut);
        sm_read_tags(&r);
        ck_assert_msg(r.err == SM_ERR__BAD_MSG, "cut %zu", cut);
    }
    /* A huge tag count with no data must fail quickly, not loop 4G times. */
    static const uint8_t many[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    reader_on(&r, many, sizeof(many));
    sm_read_tags(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* size larger than what is left */
    static const uint8_t sz[] = { 1, 7, 5, 'a' };
    reader_on(&r, sz, sizeof(sz));
    sm_read_tags(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
}
END_TEST

/* One message using every reader type, built with the writer. */
static void
build_composite(sm_wbuf_t *w)
{
    sm_write_i8(w, -5);
    sm_write_i16(w, 0x1234);
    sm_write_i32(w, -100000);
    sm_write_i64(w, INT64_C(0x0102030405060708));
    sm_write_u32(w, 0xdeadbeef);
    sm_write_cstr(w, "topic", 0);
    sm_write_cstr(w, NULL, 0);
    sm_write_cstr(w, "compact", 1);
    sm_write_cstr(w, NULL, 1);
    sm_write_bytes(w, (sm_bytes_t){ 3, (const uint8_t *)"\0\1\2" }, 0);
    sm_write_bytes(w, SM_BYTES_NULL, 0);
    sm_write_bytes(w, (sm_bytes_t){ 2, (const uint8_t *)"zz" }, 1);
    sm_write_varint(w, -300);
    sm_write_varlong(w, INT64_MIN);
    sm_write_uvarint(w, 1u << 31);
    sm_write_array_len(w, 2, 0);
    sm_write_i32(w, 7);
    sm_write_i32(w, 8);
    sm_write_array_len(w, 1, 1);
    sm_write_i16(w, 9);
    sm_write_array_len(w, -1, 0);
    sm_write_uvarint(w, 1);                         /* one tagged field */
    sm_write_uvarint(w, 0);
    sm_write_uvarint(w, 2);
    sm_write_i16(w, 0x7777);
    sm_write_empty_tags(w);
    sm_write_i8(w, 42);                             /* sentinel */
}

/* Decode it back; returns 0 if every field matched and the reader is clean. */
static int
parse_composite(const uint8_t *p, size_t n)
{
    sm_reader_t r;
    int ok = 1;
    reader_on(&r, p, n);
    ok &= sm_read_i8(&r) == -5;
    ok &= sm_read_i16(&r) == 0x1234;
    ok &= sm_read_i32(&r) == -100000;
    ok &= sm_read_i64(&r) == INT64_C(0x0102030405060708);
    ok &= sm_read_u32(&r) == 0xdeadbeef;
    ok &= sm_bytes_eq(sm_read_string(&r, 0), "topic");
    ok &= sm_read_nullable_string(&r, 0).len == -1;
    ok &= sm_bytes_eq(sm_read_string(&r, 1), "compact");
    ok &= sm_read_nullable_string(&r, 1).len == -1;
    sm_bytes_t b = sm_read_bytes(&r, 0);
    ok &= b.len == 3 && memcmp(b.ptr, "\0\1\2", 3) == 0;
    ok &= sm_read_nullable_bytes(&r, 0).len == -1;
    b = sm_read_bytes(&r, 1);
    ok &= b.len == 2 && memcmp(b.ptr, "zz", 2) == 0;
    ok &= sm_read_varint(&r) == -300;
    ok &= sm_read_varlong(&r) == INT64_MIN;
    ok &= sm_read_uvarint(&r) == 1u << 31;
    ok &= sm_read_array_len(&r, 0, 4) == 2;
    ok &= sm_read_i32(&r) == 7;
    ok &= sm_read_i32(&r) == 8;
    ok &= sm_read_array_len(&r, 1, 2) == 1;
    ok &= sm_read_i16(&r) == 9;
    ok &= sm_read_array_len(&r, 0, 4) == -1;
    sm_read_tags(&r);
    sm_read_tags(&r);
    ok &= sm_read_i8(&r) == 42;
    if (r.err) return -1;
    return ok && sm_reader_remaining(&r) == 0 ? 0 : -2;
}

START_TEST(t_reader_truncate_composite)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    build_composite(&w);
    ck_assert_int_eq(parse_composite(w.data, w.len), 0);
    for (size_t cut = 0; cut < w.len; cut++) {
        /* Copy into an exact-size heap block so ASan/valgrind catch overreads. */
        uint8_t *c = sm_malloc(cut ? cut : 1);
        memcpy(c, w.data, cut);
        ck_assert_msg(parse_composite(c, cut) == -1, "prefix of %zu/%zu bytes accepted", cut, w.len);
        free(c);
    }
    sm_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* writer and varints                                                  */

START_TEST(t_writer_exact)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 1);                            /* forces growth */
    sm_write_i8(&w, -1);
    sm_write_i16(&w, -2);
    sm_write_i32(&w, 0x01020304);
    sm_write_i64(&w, -1);
    HEX_EQ(&w, B(0xff, 0xff, 0xfe, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    sm_wbuf_reset(&w);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_uint_ge(w.cap, 15);
    sm_write_cstr(&w, NULL, 0);                     /* int16 -1 */
    sm_write_cstr(&w, NULL, 1);                     /* uvarint 0 */
    sm_write_cstr(&w, "", 1);                       /* uvarint 1 */
    sm_write_cstr(&w, "hi", 0);
    sm_write_bytes(&w, SM_BYTES_NULL, 0);           /* int32 -1 */
    sm_write_bytes(&w, SM_BYTES_NULL, 1);
    sm_write_array_len(&w, -1, 1);
    sm_write_array_len(&w, 5, 1);
    sm_write_empty_tags(&w);
    HEX_EQ(&w, B(0xff, 0xff, 0x00, 0x01, 0x00, 0x02, 'h', 'i', 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x06, 0x00));
    sm_write_raw(&w, NULL, 0);                      /* no-op */
    ck_assert_uint_eq(w.len, 16);
    sm_wbuf_free(&w);
    ck_assert_ptr_null(w.data);
}
END_TEST

START_TEST(t_writer_growth_patch_steal)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    size_t at = sm_wbuf_reserve_i32(&w);
    ck_assert_uint_eq(at, 0);
    for (int i = 0; i < 10000; i++) sm_write_i32(&w, i);
    size_t at2 = sm_wbuf_reserve_i32(&w);
    sm_write_i8(&w, 1);
    sm_wbuf_patch_i32(&w, at, (int32_t)(w.len - 4));
    sm_wbuf_patch_i32(&w, at2, -7);
    ck_assert_uint_eq(w.len, 4 + 40000 + 4 + 1);
    sm_reader_t r;
    reader_on(&r, w.data, w.len);
    ck_assert_int_eq(sm_read_i32(&r), 40005);
    for (int i = 0; i < 10000; i++) ck_assert_int_eq(sm_read_i32(&r), i);
    ck_assert_int_eq(sm_read_i32(&r), -7);
    ck_assert_int_eq(sm_read_i8(&r), 1);
    ck_assert_int_eq(r.err, 0);
    size_t len;
    uint8_t *d = sm_wbuf_steal(&w, &len);
    ck_assert_uint_eq(len, 40009);
    ck_assert_ptr_null(w.data);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_uint_eq(w.cap, 0);
    free(d);
    /* usable again after steal */
    sm_write_i8(&w, 3);
    ck_assert_uint_eq(w.len, 1);
    ck_assert_int_eq(w.data[0], 3);
    /* reserve returns the write position with room for n */
    uint8_t *p = sm_wbuf_reserve(&w, 5000);
    ck_assert_ptr_eq(p, w.data + 1);
    ck_assert_uint_ge(w.cap - w.len, 5000);
    sm_wbuf_free(&w);
}
END_TEST

static void
check_varint(int32_t v, const uint8_t *enc, size_t n)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_write_varint(&w, v);
    ck_assert_uint_eq(w.len, n);
    ck_assert_mem_eq(w.data, enc, n);
    sm_reader_t r;
    reader_on(&r, w.data, w.len);
    ck_assert_int_eq(sm_read_varint(&r), v);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    for (size_t cut = 0; cut < n; cut++) {
        reader_on(&r, w.data, cut);
        sm_read_varint(&r);
        ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    }
    sm_wbuf_free(&w);
}

static void
check_varlong(int64_t v, const uint8_t *enc, size_t n)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_write_varlong(&w, v);
    ck_assert_uint_eq(w.len, n);
    ck_assert_mem_eq(w.data, enc, n);
    sm_reader_t r;
    reader_on(&r, w.data, w.len);
    ck_assert(sm_read_varlong(&r) == v);
    ck_assert_int_eq(r.err, 0);
    for (size_t cut = 0; cut < n; cut++) {
        reader_on(&r, w.data, cut);
        sm_read_varlong(&r);
        ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    }
    sm_wbuf_free(&w);
}

START_TEST(t_varint_edges)
{
    /* Zigzag: 0->0, -1->1, 1->2, -64->127, 64->128. */
    check_varint(0, (const uint8_t[]){ 0x00 }, 1);
    check_varint(-1, (const uint8_t[]){ 0x01 }, 1);
    check_varint(1, (const uint8_t[]){ 0x02 }, 1);
    check_varint(-64, (const uint8_t[]){ 0x7f }, 1);
    check_varint(64, (const uint8_t[]){ 0x80, 0x01 }, 2);
    check_varint(-300, (const uint8_t[]){ 0xd7, 0x04 }, 2);    /* zigzag 599 */
    check_varint(INT32_MAX, (const uint8_t[]){ 0xfe, 0xff, 0xff, 0xff, 0x0f }, 5);
    check_varint(INT32_MIN, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0x0f }, 5);
    check_varlong(0, (const uint8_t[]){ 0x00 }, 1);
    check_varlong(-1, (const uint8_t[]){ 0x01 }, 1);
    check_varlong(1, (const uint8_t[]){ 0x02 }, 1);
    check_varlong(INT32_MIN, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0x0f }, 5);
    check_varlong(INT64_MAX, (const uint8_t[]){ 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10);
    check_varlong(INT64_MIN, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10);
    /* every 7-bit boundary round-trips */
    for (int s = 0; s < 63; s++) {
        int64_t v = (int64_t)1 << s;
        int64_t vs[] = { v, -v, v - 1, -v + 1 };
        for (int k = 0; k < 4; k++) {
            sm_wbuf_t w;
            sm_wbuf_init(&w, 0);
            sm_write_varlong(&w, vs[k]);
            if (vs[k] >= INT32_MIN && vs[k] <= INT32_MAX) sm_write_varint(&w, (int32_t)vs[k]);
            sm_reader_t r;
            reader_on(&r, w.data, w.len);
            ck_assert(sm_read_varlong(&r) == vs[k]);
            if (vs[k] >= INT32_MIN && vs[k] <= INT32_MAX) ck_assert_int_eq(sm_read_varint(&r), (int32_t)vs[k]);
            ck_assert_int_eq(r.err, 0);
            ck_assert_uint_eq(sm_reader_remaining(&r), 0);
            sm_wbuf_free(&w);
        }
    }
}
END_TEST

START_TEST(t_varint_overlong)
{
    sm_reader_t r;
    /* 6-byte varint: too long even though it encodes 0 */
    static const uint8_t v6[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    reader_on(&r, v6, sizeof(v6));
    sm_read_varint(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    reader_on(&r, v6, sizeof(v6));
    sm_read_uvarint(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* 5 bytes but more than 32 bits */
    static const uint8_t v5[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
    reader_on(&r, v5, sizeof(v5));
    sm_read_varint(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    reader_on(&r, v5, sizeof(v5));
    sm_read_uvarint(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* 11-byte varlong */
    static const uint8_t v11[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    reader_on(&r, v11, sizeof(v11));
    sm_read_varlong(&r);
    ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
    /* A 5-byte padded encoding of a small value is still accepted (Kafka
     * does the same): 0x81 0x80 0x80 0x80 0x00 = 1 => zigzag -1. */
    static const uint8_t pad[] = { 0x81, 0x80, 0x80, 0x80, 0x00 };
    reader_on(&r, pad, sizeof(pad));
    ck_assert_int_eq(sm_read_varint(&r), -1);
    ck_assert_int_eq(r.err, 0);
}
END_TEST

START_TEST(t_uvarint)
{
    struct { uint32_t v; uint8_t enc[5]; size_t n; } cases[] = {
        { 0, { 0 }, 1 },
        { 1, { 1 }, 1 },
        { 127, { 0x7f }, 1 },
        { 128, { 0x80, 0x01 }, 2 },
        { 300, { 0xac, 0x02 }, 2 },
        { 16384, { 0x80, 0x80, 0x01 }, 3 },
        { UINT32_MAX, { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 },
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(cases); i++) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 0);
        sm_write_uvarint(&w, cases[i].v);
        ck_assert_uint_eq(w.len, cases[i].n);
        ck_assert_mem_eq(w.data, cases[i].enc, cases[i].n);
        sm_reader_t r;
        reader_on(&r, w.data, w.len);
        ck_assert_uint_eq(sm_read_uvarint(&r), cases[i].v);
        ck_assert_int_eq(r.err, 0);
        for (size_t cut = 0; cut < w.len; cut++) {
            reader_on(&r, w.data, cut);
            sm_read_uvarint(&r);
            ck_assert_int_eq(r.err, SM_ERR__BAD_MSG);
        }
        sm_wbuf_free(&w);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* CRC-32C                                                             */

/* Bit-at-a-time reference, straight from the polynomial definition. */
static uint32_t
crc_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return ~c;
}

START_TEST(t_crc32c_vectors)
{
    uint8_t b[32];
    ck_assert_uint_eq(sm_crc32c(0, "123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(sm_crc32c(0, "", 0), 0);
    memset(b, 0, 32);
    ck_assert_uint_eq(sm_crc32c(0, b, 32), 0x8a9136aau);
    memset(b, 0xff, 32);                              /* RFC 3720 B.4 */
    ck_assert_uint_eq(sm_crc32c(0, b, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
    ck_assert_uint_eq(sm_crc32c(0, b, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)(31 - i);
    ck_assert_uint_eq(sm_crc32c(0, b, 32), 0x113fdb5cu);
    /* incremental == one shot */
    uint32_t c = sm_crc32c(0, "1234", 4);
    ck_assert_uint_eq(sm_crc32c(c, "56789", 5), 0xe3069283u);
}
END_TEST

START_TEST(t_crc32c_alignment_paths)
{
    enum { N = 300 };
    uint8_t *buf = sm_malloc(N + 16);
    uint32_t x = 12345;
    for (size_t i = 0; i < N + 16; i++) { x = x * 1103515245u + 12345u; buf[i] = (uint8_t)(x >> 16); }
    (void)sm_crc32c_copy_for_test(0, "", 0);          /* initialise the copy's tables */
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len <= N; len += (len < 40 ? 1 : 13)) {
            const uint8_t *p = buf + off;
            uint32_t want = crc_ref(p, len);
            ck_assert_msg(sm_crc32c(0, p, len) == want, "off %zu len %zu", off, len);
            ck_assert_uint_eq(~crc_sw(~0u, p, len), want);
#if defined(__x86_64__)
            if (have_hw) ck_assert_uint_eq(~crc_hw(~0u, p, len), want);
#endif
            /* split at an odd point */
            if (len > 3) {
                uint32_t c = sm_crc32c(0, p, 3);
                ck_assert_uint_eq(sm_crc32c(c, p + 3, len - 3), want);
            }
        }
    }
    free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* hashes                                                              */

START_TEST(t_java_hash)
{
    ck_assert_int_eq(sm_java_string_hash("", 0), 0);
    ck_assert_int_eq(sm_java_string_hash("hello", 5), 99162322);
    /* "hé": 'h'(104)*31 + U+00E9(233) = 3457; UTF-8 c3 a9 is one UTF-16 unit. */
    ck_assert_int_eq(sm_java_string_hash("h\xc3\xa9", 3), 3457);
    /* "€" U+20AC (3-byte UTF-8) = 8364. */
    ck_assert_int_eq(sm_java_string_hash("\xe2\x82\xac", 3), 8364);
    /* "a😀b": U+1F600 is the surrogate pair D83D DE00, so
     * ((97*31 + 55357)*31 + 56832)*31 + 98 = 57849694. */
    ck_assert_int_eq(sm_java_string_hash("a\xf0\x9f\x98\x80" "b", 6), 57849694);
    /* Overflow wraps like Java's int: "polygenelubricants" hashes to
     * Integer.MIN_VALUE (a well-known Java example). */
    ck_assert_int_eq(sm_java_string_hash("polygenelubricants", 18), INT32_MIN);
    /* Truncated UTF-8 at the end must not read past len. */
    (void)sm_java_string_hash("\xf0\x9f", 2);
    (void)sm_java_string_hash("\xe2", 1);
}
END_TEST

START_TEST(t_murmur2)
{
    /* Kafka UtilsTest.testMurmur2 */
    static const struct { const char *s; int32_t h; } v[] = {
        { "21", -973932308 },
        { "foobar", -790332482 },
        { "a-little-bit-long-string", -985981536 },
        { "a-little-bit-longer-string", -1486304829 },
        { "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971 },
        { "abc", 479470107 },
        /* lengths 1..5 (all tail cases), values of Kafka's Utils.murmur2 */
        { "1", -1993445489 },
        { "12", 126087238 },
        { "123", -267702483 },
        { "1234", -1614185708 },
        { "12345", -1188365604 },
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(v); i++)
        ck_assert_msg(sm_murmur2(v[i].s, strlen(v[i].s)) == v[i].h, "murmur2(%s) = %d, want %d",
                      v[i].s, sm_murmur2(v[i].s, strlen(v[i].s)), v[i].h);
    /* Only the first len bytes count. */
    ck_assert_int_eq(sm_murmur2("abcdef", 3), 479470107);
}
END_TEST

/* ------------------------------------------------------------------ */
/* .properties                                                          */

static int
parse_props(sm_props_t *p, const char *text, char *err, size_t errlen)
{
    sm_props_init(p);
    return sm_props_parse(p, text, strlen(text), err, errlen);
}

START_TEST(t_props_basic)
{
    sm_props_t p;
    char err[128];
    const char *text =
        "# comment line\n"
        "! bang comment\n"
        "   # indented comment\n"
        "\n"
        "   \t\n"
        "a=1\n"
        "b:2\n"
        "c 3\n"
        "d = 4\n"
        "e\t:\t5\n"
        "  f  =  spaced value  \n"
        "g\n"
        "h=\n"
        "i==x\n"
        "j=a:b=c\n"
        "url=PLAINTEXT://:9092\n"
        "a=last";                                   /* no final newline; last wins */
    ck_assert_int_eq(parse_props(&p, text, err, sizeof(err)), 0);
    ck_assert_str_eq(sm_props_get(&p, "a"), "last");
    ck_assert_str_eq(sm_props_get(&p, "b"), "2");
    ck_assert_str_eq(sm_props_get(&p, "c"), "3");
    ck_assert_str_eq(sm_props_get(&p, "d"), "4");
    ck_assert_str_eq(sm_props_get(&p, "e"), "5");
    ck_assert_str_eq(sm_props_get(&p, "f"), "spaced value");
    ck_assert_str_eq(sm_props_get(&p, "g"), "");
    ck_assert_str_eq(sm_props_get(&p, "h"), "");
    ck_assert_str_eq(sm_props_get(&p, "i"), "=x");
    ck_assert_str_eq(sm_props_get(&p, "j"), "a:b=c");
    ck_assert_str_eq(sm_props_get(&p, "url"), "PLAINTEXT://:9092");
    ck_assert_ptr_null(sm_props_get(&p, "#"));
    ck_assert_ptr_null(sm_props_get(&p, "comment"));
    ck_assert_uint_eq(p.n, 11);                     /* a counted once */
    /* line numbers: the winning "a" is on line 17 */
    for (size_t i = 0; i < p.n; i++)
        if (!strcmp(p.items[i].key, "a")) ck_assert_int_eq(p.items[i].line, 17);
        else if (!strcmp(p.items[i].key, "b")) ck_assert_int_eq(p.items[i].line, 7);
    sm_props_free(&p);
    ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(t_props_continuation_escapes)
{
    sm_props_t p;
    char err[128];
    const char *text =
        "list=a,\\\n"
        "     b,\\\n"
        "\tc\n"
        "even=x\\\\\n"                              /* escaped backslash: no continuation */
        "next=1\n"
        "crlf=v\r\n"
        "cont2=p\\\r\n"
        "  q\r\n"
        "key\\ with\\ space = v\n"
        "k\\=eq=v2\n"
        "k\\:co:v3\n"
        "tab=a\\tb\\nc\\rd\\fe\n"
        "uni=caf\\u00e9 \\u20AC\\u0041\n"
        "plain=\\q\\\\\n"
        "# comment ending in backslash \\\n"
        "after=comment\n"
        "! bang comment \\\n"
        "after2=bang\n"
        "contcomment=x\\\n"
        "  # not a comment\n"
        "last=\\\n";                                /* continuation at EOF */
    ck_assert_int_eq(parse_props(&p, text, err, sizeof(err)), 0);
    ck_assert_str_eq(sm_props_get(&p, "list"), "a,b,c");
    ck_assert_str_eq(sm_props_get(&p, "even"), "x\\");
    ck_assert_str_eq(sm_props_get(&p, "next"), "1");
    ck_assert_str_eq(sm_props_get(&p, "crlf"), "v");
    ck_assert_str_eq(sm_props_get(&p, "cont2"), "pq");
    ck_assert_str_eq(sm_props_get(&p, "key with space"), "v");
    ck_assert_str_eq(sm_props_get(&p, "k=eq"), "v2");
    ck_assert_str_eq(sm_props_get(&p, "k:co"), "v3");
    ck_assert_str_eq(sm_props_get(&p, "tab"), "a\tb\nc\rd\fe");
    ck_assert_str_eq(sm_props_get(&p, "uni"), "caf\xc3\xa9 \xe2\x82\xac" "A");
    ck_assert_str_eq(sm_props_get(&p, "plain"), "q\\");
    /* Java drops a comment line whole: its trailing backslash continues nothing. */
    ck_assert_str_eq(sm_props_get(&p, "after"), "comment");
    ck_assert_str_eq(sm_props_get(&p, "after2"), "bang");
    /* A continued line starting with # is content, not a comment. */
    ck_assert_str_eq(sm_props_get(&p, "contcomment"), "x# not a comment");
    ck_assert_str_eq(sm_props_get(&p, "last"), "");
    sm_props_free(&p);
}
END_TEST

START_TEST(t_props_errors_and_api)
{
    sm_props_t p;
    char err[128] = "";
    ck_assert_int_eq(parse_props(&p, "a=1\n=novalue\n", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "line 2: missing key");
    sm_props_free(&p);
    ck_assert_int_eq(parse_props(&p, "ok=1\n  : x\n", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "line 2: missing key");
    sm_props_free(&p);
    /* NUL, raw or escaped, would cut a C-string key or value: refused. */
    ck_assert_int_eq(parse_props(&p, "ok=1\nlog.dirs\\u0000x=/tmp\n", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "line 2: NUL character");
    ck_assert_ptr_null(sm_props_get(&p, "log.dirs"));
    sm_props_free(&p);
    ck_assert_int_eq(parse_props(&p, "k=a\\u0000b", err, sizeof(err)), -1);
    sm_props_free(&p);
    sm_props_init(&p);
    ck_assert_int_eq(sm_props_parse(&p, "k\0=v\n", 5, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "line 1: NUL character");
    sm_props_free(&p);
    /* Truncated \u escapes and a trailing lone backslash never crash. */
    const char *odd[] = { "k=\\u", "k=\\u12", "k=\\u12G4", "\\", "k\\", "k=\\", "\\u0041=x" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(odd); i++) {
        parse_props(&p, odd[i], err, sizeof(err));
        sm_props_free(&p);
    }
    ck_assert_int_eq(parse_props(&p, "\\u0041=x", err, sizeof(err)), 0);
    ck_assert_str_eq(sm_props_get(&p, "A"), "x");
    sm_props_free(&p);

    /* set / set_kv / get */
    sm_props_init(&p);
    sm_props_set(&p, "x", "1");
    sm_props_set(&p, "x", "2");
    ck_assert_uint_eq(p.n, 1);
    ck_assert_str_eq(sm_props_get(&p, "x"), "2");
    ck_assert_int_eq(sm_props_set_kv(&p, "y=a=b"), 0);
    ck_assert_str_eq(sm_props_get(&p, "y"), "a=b");
    ck_assert_int_eq(sm_props_set_kv(&p, "z="), 0);
    ck_assert_str_eq(sm_props_get(&p, "z"), "");
    ck_assert_int_eq(sm_props_set_kv(&p, "noequals"), -1);
    ck_assert_int_eq(sm_props_set_kv(&p, "=v"), -1);
    ck_assert_ptr_null(sm_props_get(&p, "noequals"));
    for (int i = 0; i < 100; i++) {                 /* growth */
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        sm_props_set(&p, k, k);
    }
    ck_assert_str_eq(sm_props_get(&p, "k99"), "k99");
    ck_assert_uint_eq(p.n, 103);
    sm_props_free(&p);

    /* load: a real file, and a missing one */
    char *dir = make_tmpdir();
    char *path = sm_asprintf("%s/server.properties", dir);
    const char *txt = "broker.id=3\r\nlog.dirs=/a,/b\n";
    ck_assert_int_eq(sm_write_file_atomic(path, txt, strlen(txt)), 0);
    sm_props_init(&p);
    ck_assert_int_eq(sm_props_load(&p, path, err, sizeof(err)), 0);
    ck_assert_str_eq(sm_props_get(&p, "broker.id"), "3");
    ck_assert_str_eq(sm_props_get(&p, "log.dirs"), "/a,/b");
    sm_props_free(&p);
    char *missing = sm_asprintf("%s/nope.properties", dir);
    sm_props_init(&p);
    ck_assert_int_eq(sm_props_load(&p, missing, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, missing));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    sm_props_free(&p);
    ck_assert_int_eq(sm_rmtree(dir), 0);
    free(missing);
    free(path);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* typed config tables                                                 */

typedef struct {
    int32_t ival;
    int64_t lval;
    int flag;
    char *name;
    char *opt;
    double ratio;
    int32_t open_int;
} test_conf_t;

static const sm_conf_def_t test_table[] = {
    { "num.i", SM_CONF_INT, offsetof(test_conf_t, ival), "5", 1, 10, 0, "an int in [1,10]" },
    { "num.l", SM_CONF_LONG, offsetof(test_conf_t, lval), "100", 0, INT64_MAX, 0, "a long >= 0" },
    { "flag", SM_CONF_BOOL, offsetof(test_conf_t, flag), "true", 0, 0, 0, "a bool" },
    { "name", SM_CONF_STRING, offsetof(test_conf_t, name), "abc", 0, 0, 0, "a string" },
    { "opt", SM_CONF_STRING, offsetof(test_conf_t, opt), NULL, 0, 0, SM_CONF_F_IGNORED, "unset string" },
    { "ratio", SM_CONF_DOUBLE, offsetof(test_conf_t, ratio), "0.5", 0, 0, 0, "a double" },
    { "open", SM_CONF_INT, offsetof(test_conf_t, open_int), "-1", INT32_MIN, INT32_MAX, 0, "any int" },
    { NULL, 0, 0, NULL, 0, 0, 0, NULL },
};

START_TEST(t_conf_table)
{
    test_conf_t c;
    char err[256], buf[64];
    memset(&c, 0x5a, sizeof(c));
    sm_conf_defaults(test_table, &c);
    ck_assert_int_eq(c.ival, 5);
    ck_assert(c.lval == 100);
    ck_assert_int_eq(c.flag, 1);
    ck_assert_str_eq(c.name, "abc");
    ck_assert_ptr_null(c.opt);
    ck_assert(c.ratio == 0.5);
    ck_assert_int_eq(c.open_int, -1);

    ck_assert_ptr_eq(sm_conf_find(test_table, "flag"), &test_table[2]);
    ck_assert_ptr_null(sm_conf_find(test_table, "nope"));
    ck_assert_int_eq(sm_conf_set(test_table, &c, "nope", "1", err, sizeof(err)), 0);

    /* valid sets */
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", "10", err, sizeof(err)), 1);
    ck_assert_int_eq(c.ival, 10);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", " 1", err, sizeof(err)), 1);
    ck_assert_int_eq(c.ival, 1);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.l", "9223372036854775807", err, sizeof(err)), 1);
    ck_assert(c.lval == INT64_MAX);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "open", "-2147483648", err, sizeof(err)), 1);
    ck_assert_int_eq(c.open_int, INT32_MIN);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "flag", "FALSE", err, sizeof(err)), 1);
    ck_assert_int_eq(c.flag, 0);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "flag", "True", err, sizeof(err)), 1);
    ck_assert_int_eq(c.flag, 1);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "name", "xyz", err, sizeof(err)), 1);
    ck_assert_str_eq(c.name, "xyz");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "opt", "", err, sizeof(err)), 1);
    ck_assert_str_eq(c.opt, "");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "ratio", "1e-3", err, sizeof(err)), 1);
    ck_assert(c.ratio == 0.001);

    /* errors, with Kafka's ConfigException wording; the value is unchanged */
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", "0", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value 0 for configuration num.i: Value must be at least 1");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", "11", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value 11 for configuration num.i: Value must be no more than 10");
    ck_assert_int_eq(c.ival, 1);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.l", "-1", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value -1 for configuration num.l: Value must be at least 0");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", "abc", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value abc for configuration num.i: Not a number of type INT");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", "", err, sizeof(err)), -1);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.i", "5x", err, sizeof(err)), -1);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "open", "2147483648", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value 2147483648 for configuration open: Not a number of type INT");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "num.l", "9223372036854775808", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value 9223372036854775808 for configuration num.l: Not a number of type LONG");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "flag", "yes", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value yes for configuration flag: Expected value to be either true or false");
    ck_assert_int_eq(c.flag, 1);
    ck_assert_int_eq(sm_conf_set(test_table, &c, "ratio", "half", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid value half for configuration ratio: Not a number of type DOUBLE");
    ck_assert_int_eq(sm_conf_set(test_table, &c, "ratio", "", err, sizeof(err)), -1);

    /* format */
    sm_conf_format(&test_table[0], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1");
    sm_conf_format(&test_table[1], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "9223372036854775807");
    sm_conf_format(&test_table[2], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "true");
    sm_conf_format(&test_table[3], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "xyz");
    sm_conf_format(&test_table[5], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "0.001");
    sm_conf_format(&test_table[6], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "-2147483648");
    sm_conf_format(&test_table[3], &c, buf, 3);     /* truncates safely */
    ck_assert_str_eq(buf, "xy");

    sm_conf_free(test_table, &c);
    ck_assert_ptr_null(c.name);
    ck_assert_ptr_null(c.opt);
    sm_conf_format(&test_table[4], &c, buf, sizeof(buf));
    ck_assert_str_eq(buf, "");
}
END_TEST

/* ------------------------------------------------------------------ */
/* JSON                                                                */

START_TEST(t_json_parse)
{
    char err[128];
    const char *txt =
        " {\"version\":1, \"partitions\":{\"0\":[1,2,3],\"1\":[]},"
        " \"s\":\"a\\\"b\\\\c\\/d\\n\", \"t\":true, \"f\":false, \"n\":null,"
        " \"neg\":-42, \"flt\":1.5, \"exp\":1e3, \"str_int\":\"1234567890123\","
        " \"big\":9007199254740993, \"dup\":1, \"dup\":2 } \n";
    sm_json_t *j = sm_json_parse(txt, strlen(txt), err, sizeof(err));
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(j->type, SM_JSON_OBJECT);
    ck_assert_uint_eq(j->count, 13);
    int64_t v;
    ck_assert_int_eq(sm_json_get_int(j, "version", &v), 0);
    ck_assert(v == 1);
    sm_json_t *parts = sm_json_get(j, "partitions");
    ck_assert_ptr_nonnull(parts);
    ck_assert_uint_eq(parts->count, 2);
    sm_json_t *p0 = sm_json_get(parts, "0");
    ck_assert_int_eq(p0->type, SM_JSON_ARRAY);
    ck_assert_uint_eq(p0->count, 3);
    ck_assert_int_eq(sm_json_int(sm_json_at(p0, 2), &v), 0);
    ck_assert(v == 3);
    ck_assert_ptr_null(sm_json_at(p0, 3));
    ck_assert_ptr_null(sm_json_at(j, 0));           /* not an array */
    ck_assert_uint_eq(sm_json_get(parts, "1")->count, 0);
    ck_assert_str_eq(sm_json_get_str(j, "s"), "a\"b\\c/d\n");
    ck_assert_ptr_null(sm_json_get_str(j, "t"));    /* wrong type */
    ck_assert_int_eq(sm_json_get(j, "t")->boolean, 1);
    ck_assert_int_eq(sm_json_get(j, "f")->type, SM_JSON_BOOL);
    ck_assert_int_eq(sm_json_get(j, "f")->boolean, 0);
    ck_assert_int_eq(sm_json_get(j, "n")->type, SM_JSON_NULL);
    ck_assert_int_eq(sm_json_get_int(j, "neg", &v), 0);
    ck_assert(v == -42);
    ck_assert_int_eq(sm_json_get_int(j, "flt", &v), -1);
    ck_assert(sm_json_get(j, "flt")->num == 1.5);
    ck_assert_int_eq(sm_json_get_int(j, "exp", &v), 0);
    ck_assert(v == 1000);
    ck_assert_int_eq(sm_json_get_int(j, "str_int", &v), 0);   /* Kafka writes some ints as strings */
    ck_assert(v == INT64_C(1234567890123));
    ck_assert_int_eq(sm_json_get_int(j, "s", &v), -1);
    ck_assert_int_eq(sm_json_get_int(j, "big", &v), 0);       /* exact beyond 2^53 */
    ck_assert(v == INT64_C(9007199254740993));
    ck_assert_int_eq(sm_json_get_int(j, "dup", &v), 0);       /* last wins */
    ck_assert(v == 2);
    ck_assert_int_eq(sm_json_get_int(j, "missing", &v), -1);
    ck_assert_int_eq(sm_json_get_int(NULL, "x", &v), -1);
    ck_assert_ptr_null(sm_json_get(NULL, "x"));
    ck_assert_ptr_null(sm_json_get(p0, "x"));
    sm_json_free(j);
    sm_json_free(NULL);

    /* scalars at top level */
    j = sm_json_parse("\"x\"", 3, err, sizeof(err));
    ck_assert_str_eq(j->str, "x");
    sm_json_free(j);
    j = sm_json_parse("-0", 2, NULL, 0);             /* errstr may be NULL */
    ck_assert_int_eq(sm_json_int(j, &v), 0);
    ck_assert(v == 0);
    sm_json_free(j);
    /* Out-of-range numbers parse but are not integers (no UB cast). */
    const char *huge[] = { "1e30", "-1e300", "1e999", "99999999999999999999", "-9223372036854775809" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(huge); i++) {
        j = sm_json_parse(huge[i], strlen(huge[i]), err, sizeof(err));
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(sm_json_int(j, &v) == -1, "%s accepted as int", huge[i]);
        sm_json_free(j);
    }
    j = sm_json_parse("-9223372036854775808", 20, err, sizeof(err));
    ck_assert_int_eq(sm_json_int(j, &v), 0);
    ck_assert(v == INT64_MIN);
    sm_json_free(j);
}
END_TEST

START_TEST(t_json_unicode)
{
    char err[128];
    const char *txt = "[\"caf\\u00e9\", \"\\u20AC\", \"\\ud83d\\ude00\", \"\\u0041\", \"\xc3\xa9raw\"]";
    sm_json_t *j = sm_json_parse(txt, strlen(txt), err, sizeof(err));
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(sm_json_at(j, 0)->str, "caf\xc3\xa9");
    ck_assert_str_eq(sm_json_at(j, 1)->str, "\xe2\x82\xac");
    ck_assert_str_eq(sm_json_at(j, 2)->str, "\xf0\x9f\x98\x80");
    ck_assert_str_eq(sm_json_at(j, 3)->str, "A");
    ck_assert_str_eq(sm_json_at(j, 4)->str, "\xc3\xa9raw");
    sm_json_free(j);
    const char *bad[] = { "\"\\u12\"", "\"\\u12g4\"", "\"\\ud83d\\u0041\"", "\"\\x\"", "\"a\nb\"" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++)
        ck_assert_msg(sm_json_parse(bad[i], strlen(bad[i]), err, sizeof(err)) == NULL, "%s", bad[i]);
}
END_TEST

START_TEST(t_json_errors_nesting)
{
    char err[128];
    const char *bad[] = { "", "   ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a:1}",
                          "tru", "nul", "fals", "\"abc", "[1]x", "{\"a\":1,}", "01x", "-", "+",
                          "1.2.3e", "[\"a\",", "{\"k\":[1,{\"x\":nul}]}", "\x01" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++) {
        err[0] = '\0';
        sm_json_t *j = sm_json_parse(bad[i], strlen(bad[i]), err, sizeof(err));
        ck_assert_msg(j == NULL, "accepted: %s", bad[i]);
        ck_assert_msg(strncmp(err, "invalid JSON at byte ", 21) == 0, "err for %s: %s", bad[i], err);
    }
    /* The reported offset points at the problem. */
    sm_json_parse("[1,2,x]", 7, err, sizeof(err));
    ck_assert_ptr_nonnull(strstr(err, "byte 5"));

    /* Embedded NUL in the buffer is just a bad character, not an end. */
    ck_assert_ptr_null(sm_json_parse("[1]\0", 4, err, sizeof(err)));

    /* Nesting: 64 levels parse, 100 and 100000 fail without blowing the stack. */
    char *deep = sm_malloc(200001);
    for (int depth = 1; depth <= 100000; depth = depth < 100 ? depth + 1 : depth * 10) {
        for (int i = 0; i < depth; i++) { deep[i] = '['; deep[depth + i] = ']'; }
        sm_json_t *j = sm_json_parse(deep, (size_t)depth * 2, err, sizeof(err));
        if (depth <= 64) {
            ck_assert_msg(j != NULL, "depth %d rejected", depth);
            sm_json_free(j);
        } else if (depth >= 100) {
            ck_assert_msg(j == NULL, "depth %d accepted", depth);
            if (depth == 100) ck_assert_ptr_nonnull(strstr(err, "nesting too deep"));
        } else {
            sm_json_free(j);                        /* around the limit: either way */
        }
    }
    free(deep);
}
END_TEST

START_TEST(t_json_truncate_every_byte)
{
    char err[128];
    const char *txt =
        "{\"version\":5,\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"},"
        "\"endpoints\":[\"PLAINTEXT://h\\u00e9:9092\"],\"jmx_port\":-1,\"host\":\"h\","
        "\"timestamp\":\"1600000000000\",\"port\":9092,\"rack\":null,\"x\":[true,false,1.5e2]}";
    size_t n = strlen(txt);
    sm_json_t *j = sm_json_parse(txt, n, err, sizeof(err));
    ck_assert_ptr_nonnull(j);
    sm_json_free(j);
    for (size_t cut = 0; cut < n; cut++) {
        char *c = sm_malloc(cut ? cut : 1);
        memcpy(c, txt, cut);
        j = sm_json_parse(c, cut, err, sizeof(err));
        ck_assert_msg(j == NULL, "prefix %zu accepted", cut);
        free(c);
    }
    /* Flip every byte to a few hostile values: must never crash. */
    char *m = sm_malloc(n);
    static const char flips[] = { '"', '\\', '{', '[', ']', '}', 0, ',', ':', '9' };
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(flips); k++) {
            memcpy(m, txt, n);
            m[i] = flips[k];
            sm_json_free(sm_json_parse(m, n, err, sizeof(err)));
        }
    }
    free(m);
}
END_TEST

START_TEST(t_json_write_string)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    const char *s = "q\"b\\s/\n\t\x01 \xc3\xa9";
    sm_json_write_string(&w, s);
    const char *want = "\"q\\\"b\\\\s/\\u000a\\u0009\\u0001 \xc3\xa9\"";
    ck_assert_uint_eq(w.len, strlen(want));
    ck_assert_mem_eq(w.data, want, w.len);
    char err[64];
    sm_json_t *j = sm_json_parse((const char *)w.data, w.len, err, sizeof(err));
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(j->str, s);
    sm_json_free(j);
    sm_wbuf_reset(&w);
    sm_json_write_string(&w, "");
    ck_assert_uint_eq(w.len, 2);
    ck_assert_mem_eq(w.data, "\"\"", 2);
    sm_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* arena                                                               */

START_TEST(t_arena)
{
    sm_arena_t a;
    sm_arena_init(&a, 256);
    ck_assert_uint_eq(a.total, 0);
    ck_assert_ptr_null(a.head);
    void *first = sm_arena_alloc(&a, 1);
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_eq((uintptr_t)first % 8, 0);
    char *prev = first;
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(i % 37) + 1;
        char *p = sm_arena_alloc(&a, n);
        ck_assert_uint_eq((uintptr_t)p % 8, 0);
        ck_assert_ptr_ne(p, prev);
        memset(p, 0xab, n);                          /* writable, ASan-clean */
        prev = p;
    }
    void *z = sm_arena_alloc(&a, 0);
    ck_assert_ptr_nonnull(z);
    /* larger than a chunk: a dedicated chunk */
    unsigned char *big = sm_arena_alloc(&a, 10000);
    memset(big, 1, 10000);
    ck_assert_uint_ge(a.total, 10000 + 256);
    /* calloc zeroes */
    int32_t *zs = sm_arena_calloc(&a, 100, sizeof(int32_t));
    for (int i = 0; i < 100; i++) ck_assert_int_eq(zs[i], 0);
    /* reset keeps memory up to 4 chunks and refills from the start */
    sm_arena_reset(&a);
    ck_assert_uint_le(a.total, 4 * 256 + 256);
    ck_assert_ptr_nonnull(a.head);
    void *again = sm_arena_alloc(&a, 1);
    ck_assert_ptr_eq(again, first);
    /* calloc after reset sees zeroed memory even where bytes were dirty */
    unsigned char *cz = sm_arena_calloc(&a, 1, 200);
    for (int i = 0; i < 200; i++) ck_assert_int_eq(cz[i], 0);
    sm_arena_free(&a);
    ck_assert_uint_eq(a.total, 0);
    ck_assert_ptr_null(a.head);
    /* usable after free */
    memset(sm_arena_alloc(&a, 64), 0, 64);
    sm_arena_free(&a);

    /* default chunk size; many resets without growth */
    sm_arena_init(&a, 0);
    ck_assert_uint_eq(a.chunk_size, 16 * 1024);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100; i++) memset(sm_arena_alloc(&a, 100), round, 100);
        sm_arena_reset(&a);
    }
    ck_assert_uint_le(a.total, 4 * 16 * 1024);
    sm_arena_free(&a);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ref-counted files and file helpers                                  */

START_TEST(t_file_refcount)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    sm_file_t *f = sm_file_new(fd);
    ck_assert_int_eq(f->fd, fd);
    ck_assert_int_eq(f->refs, 1);
    ck_assert_ptr_eq(sm_file_ref(f), f);
    ck_assert_ptr_eq(sm_file_ref(f), f);
    ck_assert_int_eq(f->refs, 3);
    sm_file_unref(f);
    sm_file_unref(f);
    ck_assert_int_ne(fcntl(fd, F_GETFD), -1);       /* still open */
    sm_file_unref(f);                                /* last: closes */
    errno = 0;
    ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
    sm_file_unref(NULL);
}
END_TEST

START_TEST(t_files)
{
    char *dir = make_tmpdir();
    struct stat st;
    /* mkdirs: nested, idempotent, trailing slash */
    char *deep = sm_asprintf("%s/a/b/c", dir);
    ck_assert_int_eq(sm_mkdirs(deep, 0755), 0);
    ck_assert_int_eq(stat(deep, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(sm_mkdirs(deep, 0755), 0);
    char *slash = sm_asprintf("%s/x/y/", dir);
    ck_assert_int_eq(sm_mkdirs(slash, 0755), 0);
    ck_assert_int_eq(sm_mkdirs("", 0755), -1);

    /* write/read atomic */
    char *path = sm_asprintf("%s/a/b/c/file", dir);
    ck_assert_int_eq(sm_write_file_atomic(path, "hello\0world", 11), 0);
    size_t len = 99;
    char *data = sm_read_file(path, 1 << 20, &len);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(len, 11);
    ck_assert_mem_eq(data, "hello\0world", 11);
    ck_assert_int_eq(data[11], '\0');               /* NUL-terminated */
    free(data);
    /* overwrite shorter; no .tmp left behind */
    ck_assert_int_eq(sm_write_file_atomic(path, "x", 1), 0);
    data = sm_read_file(path, 1 << 20, &len);
    ck_assert_uint_eq(len, 1);
    ck_assert_str_eq(data, "x");
    free(data);
    char *tmp = sm_asprintf("%s.tmp", path);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    /* empty file */
    ck_assert_int_eq(sm_write_file_atomic(path, "", 0), 0);
    data = sm_read_file(path, 10, &len);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(data, "");
    free(data);
    /* too large for max */
    ck_assert_int_eq(sm_write_file_atomic(path, "0123456789", 10), 0);
    errno = 0;
    ck_assert_ptr_null(sm_read_file(path, 9, &len));
    ck_assert_int_eq(errno, EFBIG);
    data = sm_read_file(path, 10, NULL);
    ck_assert_str_eq(data, "0123456789");
    free(data);
    /* missing file / missing directory */
    char *nof = sm_asprintf("%s/nope", dir);
    errno = 0;
    ck_assert_ptr_null(sm_read_file(nof, 10, &len));
    ck_assert_int_eq(errno, ENOENT);
    char *nodir = sm_asprintf("%s/nodir/f", dir);
    errno = 0;
    ck_assert_int_eq(sm_write_file_atomic(nodir, "x", 1), -1);
    ck_assert_int_eq(errno, ENOENT);
    /* mkdirs through a regular file fails */
    char *through = sm_asprintf("%s/sub", path);
    ck_assert_int_eq(sm_mkdirs(through, 0755), -1);
    ck_assert_int_eq(sm_fsync_dir(dir), 0);
    ck_assert_int_eq(sm_fsync_dir(nof), -1);

    /* rmtree removes files and nested dirs */
    ck_assert_int_eq(sm_rmtree(dir), 0);
    errno = 0;
    ck_assert_int_eq(stat(dir, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(sm_rmtree(dir), -1);           /* already gone */
    free(through); free(nodir); free(nof); free(tmp); free(path); free(slash); free(deep); free(dir);
}
END_TEST

START_TEST(t_util_misc)
{
    int64_t v;
    ck_assert_int_eq(sm_parse_i64("123", &v), 0);
    ck_assert(v == 123);
    ck_assert_int_eq(sm_parse_i64("-9223372036854775808", &v), 0);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(sm_parse_i64("9223372036854775808", &v), -1);
    ck_assert_int_eq(sm_parse_i64("", &v), -1);
    ck_assert_int_eq(sm_parse_i64(NULL, &v), -1);
    ck_assert_int_eq(sm_parse_i64("12a", &v), -1);
    char *s = sm_asprintf("%s-%d", "x", 42);
    ck_assert_str_eq(s, "x-42");
    free(s);
    s = sm_strndup("abcdef", 2);
    ck_assert_str_eq(s, "ab");
    free(s);
    ck_assert_int_gt(sm_now_ms(), INT64_C(1500000000000));
    int64_t a = sm_mono_ms(), b = sm_mono_ms();
    ck_assert(b >= a);
    ck_assert_str_eq(sm_err_name(SM_ERR_NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
    ck_assert_ptr_nonnull(sm_err_name((sm_err_t)12345));
}
END_TEST

static Suite *
core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc;

    tc = tcase_create("reader");
    tcase_add_test(tc, t_reader_ints);
    tcase_add_test(tc, t_reader_sticky);
    tcase_add_test(tc, t_reader_strings);
    tcase_add_test(tc, t_reader_arrays);
    tcase_add_test(tc, t_reader_tags);
    tcase_add_test(tc, t_reader_truncate_composite);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_test(tc, t_writer_exact);
    tcase_add_test(tc, t_writer_growth_patch_steal);
    tcase_add_test(tc, t_varint_edges);
    tcase_add_test(tc, t_varint_overlong);
    tcase_add_test(tc, t_uvarint);
    suite_add_tcase(s, tc);

    tc = tcase_create("checksums");
    tcase_add_test(tc, t_crc32c_vectors);
    tcase_add_test(tc, t_crc32c_alignment_paths);
    tcase_add_test(tc, t_java_hash);
    tcase_add_test(tc, t_murmur2);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_add_test(tc, t_props_basic);
    tcase_add_test(tc, t_props_continuation_escapes);
    tcase_add_test(tc, t_props_errors_and_api);
    tcase_add_test(tc, t_conf_table);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, t_json_parse);
    tcase_add_test(tc, t_json_unicode);
    tcase_add_test(tc, t_json_errors_nesting);
    tcase_add_test(tc, t_json_truncate_every_byte);
    tcase_add_test(tc, t_json_write_string);
    suite_add_tcase(s, tc);

    tc = tcase_create("memory_files");
    tcase_add_test(tc, t_arena);
    tcase_add_test(tc, t_file_refcount);
    tcase_add_test(tc, t_files);
    tcase_add_test(tc, t_util_misc);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(core_suite());
}

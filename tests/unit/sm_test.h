/*
 * sm_test.h - helpers shared by the unit-test programs in tests/unit/.
 *
 * Owns what every suite used to carry its own copy of: the check runner
 * main() body, temp-dir creation, reading files from the source tree via
 * SAMSA_TOP_SRCDIR, the codec fixture (a per-test arena plus a list of
 * encoded buffers that must outlive the decoded views pointing into them),
 * field comparisons for decoded codec structs, and the encode / decode /
 * re-encode / truncate-at-every-byte round-trip harness.
 *
 * Linked into every check program (each module's local.mk lists
 * tests/unit/sm_test.c in the program's _SOURCES). Everything here runs in
 * the test's own process; check forks per test by default, so the global
 * fixture state below is per test. Not thread-safe.
 */
#ifndef SM_TEST_H
#define SM_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "log/sm_plog.h"

/* Shorthands every codec suite uses for sample structs. */
#define S(x) SM_BYTES_STR(x)
#define NUL SM_BYTES_NULL

/* ------------------------------------------------------------ runner */

/*
 * Run every test of suite s (taking ownership of it) with CK_NORMAL output,
 * which prints the "100%: Checks: N, Failures: 0, Errors: 0" line.
 * Returns EXIT_SUCCESS when nothing failed, else EXIT_FAILURE: meant to be
 * returned straight from main().
 */
int sm_test_run(Suite *s);

/* ---------------------------------------------------------- temp dirs */

/*
 * Create a fresh directory from the template "/tmp/<prefix>XXXXXX" into
 * buf (cap bytes, which must hold the path), failing the current test if
 * mkdtemp fails. The caller removes it with sm_rmtree. Returns buf.
 */
char *sm_test_mkdtemp(char *buf, size_t cap, const char *prefix);

/*
 * Checked fixture for suites that work in one scratch directory per test:
 * setup creates sm_test_tmpdir as "/tmp/<program name>.XXXXXX" and raises
 * sm_log_level above ERROR (the tests provoke warnings and errors on
 * purpose); teardown removes the directory and everything below it.
 */
extern char sm_test_tmpdir[4096];
void sm_test_tmpdir_setup(void);
void sm_test_tmpdir_teardown(void);

/*
 * Open (creating it if needed) partition log "t-0" in sm_test_tmpdir with
 * config c; recover as sm_plog_open's. Fails the current test with the
 * log's error text if it cannot be opened. The caller closes the log.
 */
sm_plog_t *sm_test_open_plog(const sm_log_config_t *c, int recover);

/* ------------------------------------------------------ source files */

/*
 * Read the file at relpath below the source tree ($SAMSA_TOP_SRCDIR, set by
 * `make check`; `fallback` when unset) into a NUL-terminated heap buffer
 * of at most 1 MiB, storing its length in *len. Fails the current test if
 * the file cannot be read. The caller frees the result.
 */
char *sm_test_read_src(const char *fallback, const char *relpath, size_t *len);

/* ------------------------------------------------------ codec fixture */

/* The per-test arena that decoders allocate from (valid between
 * sm_test_codec_setup and sm_test_codec_teardown). */
extern sm_arena_t sm_test_arena;

/* Checked fixture for codec suites: set up the arena and an empty keep
 * list / free both. Register with tcase_add_checked_fixture. */
void sm_test_codec_setup(void);
void sm_test_codec_teardown(void);

/*
 * Take ownership of w's buffer (w is left empty, as after sm_wbuf_steal)
 * so that decoded views pointing into it stay valid until teardown. Fails
 * the test past a fixed number of kept buffers per test.
 */
void sm_test_keep(sm_wbuf_t *w);

/* Fail unless got holds exactly want's bytes (null and empty compare by
 * length). what names the field in the failure message. */
void sm_test_assert_bytes(sm_bytes_t got, sm_bytes_t want, const char *what);

/* Fail unless the int32 arrays (n1, a) and (n2, b) are equal. */
void sm_test_assert_i32s(int32_t n1, const int32_t *a, int32_t n2, const int32_t *b);

/* Fail unless w holds exactly the n bytes at want. */
void sm_test_assert_wire(const sm_wbuf_t *w, const uint8_t *want, size_t n);

/*
 * Return w's contents as a heap C string (cut at the first NUL byte, if
 * any; the caller frees it) and reset w to empty for the next output.
 */
char *sm_test_wbuf_take_str(sm_wbuf_t *w);

/* ------------------------------------------------- round-trip harness */

/*
 * Decode every proper prefix of the n bytes at data with CALL, which must
 * fail (== -1) for each. Each prefix is copied into an exactly sized heap
 * buffer so that an over-read shows up under ASan/valgrind. CALL is an
 * expression that may use the reader `r_` (already initialised over the
 * prefix) and `tmp_`, a scratch T to decode into; the failure message is
 * "<what> v<ver>: prefix <cut>/<n> decoded".
 */
#define SM_TEST_REJECT_PREFIXES(T, data, n, CALL, what, ver)                                 \
    do {                                                                                    \
        const uint8_t *d_ = (const uint8_t *)(data);                                        \
        size_t n_ = (n);                                                                    \
        for (size_t cut_ = 0; cut_ < n_; cut_++) {                                          \
            uint8_t *p_ = sm_malloc(cut_ ? cut_ : 1);                                       \
            memcpy(p_, d_, cut_);                                                           \
            T tmp_;                                                                         \
            sm_reader_t r_;                                                                 \
            sm_reader_init(&r_, p_, cut_);                                                  \
            ck_assert_msg((CALL) == -1, "%s v%d: prefix %zu/%zu decoded", (what), (int)(ver), \
                          cut_, n_);                                                        \
            free(p_);                                                                       \
        }                                                                                   \
    } while (0)

/*
 * The generic API-body round trip: encode `in` with
 * sm_proto_encode_<NAME>, decode into `out` (arena: sm_test_arena), check
 * that the decoder consumed everything, re-encode `out` and require
 * identical bytes, then require every proper prefix to fail. The encoding
 * is kept (sm_test_keep) because `out` points into it.
 */
#define SM_TEST_ROUNDTRIP(NAME, T, ver, in, out)                                             \
    do {                                                                                    \
        sm_wbuf_t w_, w2_;                                                                  \
        sm_reader_t r_;                                                                     \
        sm_wbuf_init(&w_, 64);                                                              \
        sm_wbuf_init(&w2_, 64);                                                             \
        sm_proto_encode_##NAME(&w_, (ver), (in));                                           \
        sm_reader_init(&r_, w_.data, w_.len);                                               \
        ck_assert_msg(sm_proto_decode_##NAME(&r_, (ver), &sm_test_arena, (out)) == 0,       \
                      #NAME " v%d decode failed", (ver));                                   \
        ck_assert_uint_eq(sm_reader_remaining(&r_), 0);                                     \
        sm_proto_encode_##NAME(&w2_, (ver), (out));                                         \
        ck_assert_uint_eq(w2_.len, w_.len);                                                 \
        ck_assert_msg(memcmp(w2_.data, w_.data, w_.len) == 0, #NAME " v%d re-encode", (ver)); \
        SM_TEST_REJECT_PREFIXES(T, w_.data, w_.len,                                         \
                                sm_proto_decode_##NAME(&r_, (ver), &sm_test_arena, &tmp_),  \
                                #NAME, (ver));                                              \
        sm_test_keep(&w_);                                                                  \
        sm_wbuf_free(&w2_);                                                                 \
    } while (0)

#endif /* SM_TEST_H */

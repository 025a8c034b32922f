/*
 * sm_test.c - helpers shared by the unit-test programs (see sm_test.h):
 * runner, temp dirs, source-tree files, codec fixture and comparisons.
 */
#include "sm_test.h"

#include <errno.h>
#include <stdio.h>

#include "core/sm_log.h"

/* ------------------------------------------------------------ runner */

int
sm_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---------------------------------------------------------- temp dirs */

char *
sm_test_mkdtemp(char *buf, size_t cap, const char *prefix)
{
    int n = snprintf(buf, cap, "/tmp/%sXXXXXX", prefix);
    ck_assert_msg(n > 0 && (size_t)n < cap, "temp dir template for %s too long", prefix);
    ck_assert_ptr_nonnull(mkdtemp(buf));
    return buf;
}

char sm_test_tmpdir[4096];

void
sm_test_tmpdir_setup(void)
{
    /* Named after the program so a leftover directory says who left it. */
    char prefix[256];
    snprintf(prefix, sizeof(prefix), "%s.", program_invocation_short_name);
    sm_test_mkdtemp(sm_test_tmpdir, sizeof(sm_test_tmpdir), prefix);
    sm_log_level = SM_LOG_ERROR + 1;
}

void
sm_test_tmpdir_teardown(void)
{
    sm_rmtree(sm_test_tmpdir);
}

sm_plog_t *
sm_test_open_plog(const sm_log_config_t *c, int recover)
{
    char err[512];
    sm_plog_t *l = sm_plog_open(sm_test_tmpdir, "t", 0, c, 0, 0, recover, err, sizeof(err));
    ck_assert_msg(l != NULL, "%s", err);
    return l;
}

/* ------------------------------------------------------ source files */

char *
sm_test_read_src(const char *fallback, const char *relpath, size_t *len)
{
    const char *top = getenv("SAMSA_TOP_SRCDIR");
    char *path = sm_asprintf("%s/%s", top ? top : fallback, relpath);
    char *data = sm_read_file(path, 1 << 20, len);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    free(path);
    return data;
}

/* ------------------------------------------------------ codec fixture */

sm_arena_t sm_test_arena;
/* Encodings kept alive until teardown because decoded views point into
 * them; the largest suite keeps a few hundred per test. */
static uint8_t *kept[512];
static int n_kept;

void
sm_test_codec_setup(void)
{
    sm_arena_init(&sm_test_arena, 256);
    n_kept = 0;
}

void
sm_test_codec_teardown(void)
{
    sm_arena_free(&sm_test_arena);
    while (n_kept > 0) free(kept[--n_kept]);
}

void
sm_test_keep(sm_wbuf_t *w)
{
    size_t len;
    ck_assert_int_lt(n_kept, (int)SM_ARRAY_SIZE(kept));
    kept[n_kept++] = sm_wbuf_steal(w, &len);
}

void
sm_test_assert_bytes(sm_bytes_t got, sm_bytes_t want, const char *what)
{
    ck_assert_msg(got.len == want.len, "%s: len %d != %d", what, got.len, want.len);
    if (want.len > 0)
        ck_assert_msg(memcmp(got.ptr, want.ptr, (size_t)want.len) == 0, "%s differs", what);
}

void
sm_test_assert_i32s(int32_t n1, const int32_t *a, int32_t n2, const int32_t *b)
{
    ck_assert_int_eq(n1, n2);
    for (int32_t i = 0; i < n1; i++) ck_assert_int_eq(a[i], b[i]);
}

void
sm_test_assert_wire(const sm_wbuf_t *w, const uint8_t *want, size_t n)
{
    ck_assert_uint_eq(w->len, n);
    ck_assert(memcmp(w->data, want, n) == 0);
}

char *
sm_test_wbuf_take_str(sm_wbuf_t *w)
{
    char *s = sm_strndup((const char *)w->data, w->len);
    sm_wbuf_reset(w);
    return s;
}

/*
 * replay.c - runs a libFuzzer entry point over a saved corpus without any
 * fuzzing engine, so every fuzz target's corpus (seeds, minimised finds,
 * fixed crashers) is replayed by `make check` with the ordinary compiler.
 *
 * Usage: replay_NAME [FILE|DIR]...
 * With no arguments it replays $SAMSA_TOP_SRCDIR/tests/fuzz/corpus/NAME/
 * (SAMSA_TOP_SRCDIR is exported by the test harness; "." if unset). NAME is
 * fixed at build time with -DSM_FUZZ_NAME="...". Exits 1 if no input was
 * found, so a missing corpus fails the test instead of passing silently; a
 * bug in the code under test shows up as a crash/abort of this program.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sm_util.h"

#ifndef SM_FUZZ_NAME
#error "build with -DSM_FUZZ_NAME=\"name\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
    size_t len;
    char *text = sm_read_file(path, 64u << 20, &len);
    if (!text) {
        fprintf(stderr, "replay_%s: cannot read %s: %s\n", SM_FUZZ_NAME, path, strerror(errno));
        return -1;
    }
    /* An exact-size copy, so an overread past the input is a real overread
     * (sm_read_file adds a NUL terminator that would hide off-by-one bugs). */
    uint8_t *exact = sm_malloc(len ? len : 1);
    memcpy(exact, text, len);
    free(text);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays a file or every regular file of a directory (sorted, not
 * recursive); returns the number of inputs or -1. */
static long
replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay_%s: %s: %s\n", SM_FUZZ_NAME, path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return replay_file(path) < 0 ? -1 : 1;
    DIR *d = opendir(path);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = sm_realloc(names, cap * sizeof(*names));
        }
        names[n++] = sm_asprintf("%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    long count = 0;
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(names[i]) < 0) count = -1;
            else if (count >= 0) count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int
main(int argc, char **argv)
{
    long total = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            long c = replay_path(argv[i]);
            if (c < 0) return 1;
            total += c;
        }
    } else {
        const char *top = getenv("SAMSA_TOP_SRCDIR");
        char *dir = sm_asprintf("%s/tests/fuzz/corpus/%s", top && *top ? top : ".", SM_FUZZ_NAME);
        total = replay_path(dir);
        free(dir);
        if (total < 0) return 1;
    }
    if (total == 0) {
        fprintf(stderr, "replay_%s: no inputs found\n", SM_FUZZ_NAME);
        return 1;
    }
    printf("replay_%s: %ld inputs replayed, no crash\n", SM_FUZZ_NAME, total);
    return 0;
}

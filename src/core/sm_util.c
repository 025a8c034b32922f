/*
 * sm_util.c - allocation, clocks, Kafka hashes, crash-safe file writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/sm_util.h"

static void
oom(size_t n)
{
    fprintf(stderr, "samsa: out of memory allocating %zu bytes\n", n);
    abort();
}

void *sm_malloc(size_t n) { void *p = malloc(n ? n : 1); if (!p) oom(n); return p; }
void *sm_calloc(size_t m, size_t n) { void *p = calloc(m ? m : 1, n ? n : 1); if (!p) oom(m * n); return p; }
void *sm_realloc(void *q, size_t n) { void *p = realloc(q, n ? n : 1); if (!p) oom(n); return p; }
char *sm_strdup(const char *s) { char *p = strdup(s); if (!p) oom(strlen(s)); return p; }
char *sm_strndup(const char *s, size_t n) { char *p = strndup(s, n); if (!p) oom(n); return p; }

char *
sm_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) oom(0);
    va_end(ap);
    return s;
}

int64_t
sm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sm_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t
sm_java_string_hash(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    uint32_t h = 0;
    while (p < end) {
        uint32_t cp;
        /* Decode one UTF-8 code point; invalid bytes count as themselves. */
        if (p[0] < 0x80) { cp = *p++; }
        else if ((p[0] & 0xe0) == 0xc0 && end - p >= 2) { cp = (p[0] & 0x1f) << 6 | (p[1] & 0x3f); p += 2; }
        else if ((p[0] & 0xf0) == 0xe0 && end - p >= 3) { cp = (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f); p += 3; }
        else if ((p[0] & 0xf8) == 0xf0 && end - p >= 4) {
            cp = (p[0] & 0x07) << 18 | (p[1] & 0x3f) << 12 | (p[2] & 0x3f) << 6 | (p[3] & 0x3f); p += 4;
        } else { cp = *p++; }
        if (cp >= 0x10000) {   /* surrogate pair: two UTF-16 units */
            cp -= 0x10000;
            h = 31 * h + (0xd800 + (cp >> 10));
            h = 31 * h + (0xdc00 + (cp & 0x3ff));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

int32_t
sm_murmur2(const void *data, size_t length)
{
    const uint8_t *d = data;
    const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = seed ^ (uint32_t)length;
    size_t len4 = length / 4;
    for (size_t i = 0; i < len4; i++) {
        size_t i4 = i * 4;
        uint32_t k = d[i4] | (uint32_t)d[i4 + 1] << 8 | (uint32_t)d[i4 + 2] << 16 | (uint32_t)d[i4 + 3] << 24;
        k *= m; k ^= k >> r; k *= m;
        h *= m; h ^= k;
    }
    switch (length % 4) {
    case 3: h ^= (uint32_t)d[(length & ~3u) + 2] << 16; /* fallthrough */
    case 2: h ^= (uint32_t)d[(length & ~3u) + 1] << 8;  /* fallthrough */
    case 1: h ^= d[length & ~3u]; h *= m;
    }
    h ^= h >> 13; h *= m; h ^= h >> 15;
    return (int32_t)h;
}

int
sm_mkdirs(const char *path, int mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf)) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

int
sm_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int
sm_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) { errno = ENAMETOOLONG; return -1; }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) { if (errno == EINTR) continue; int e = errno; close(fd); unlink(tmp); errno = e; return -1; }
        p += w; len -= (size_t)w;
    }
    if (fsync(fd) < 0) { int e = errno; close(fd); unlink(tmp); errno = e; return -1; }
    close(fd);
    if (rename(tmp, path) < 0) { int e = errno; unlink(tmp); errno = e; return -1; }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) { if (slash == dir) slash[1] = '\0'; else *slash = '\0'; sm_fsync_dir(dir); }
    else sm_fsync_dir(".");
    return 0;
}

char *
sm_read_file(const char *path, size_t max, size_t *lenp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) { int e = errno; close(fd); errno = e; return NULL; }
    if ((size_t)st.st_size > max) { close(fd); errno = EFBIG; return NULL; }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = sm_malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max + 1) { free(buf); close(fd); errno = EFBIG; return NULL; }
            cap *= 2; buf = sm_realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0) { if (errno == EINTR) continue; int e = errno; free(buf); close(fd); errno = e; return NULL; }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    if (lenp) *lenp = len;
    return buf;
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

int
sm_rmtree(const char *path)
{
    return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
sm_parse_i64(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

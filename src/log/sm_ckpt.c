/*
 * sm_ckpt.c - checkpoint file encoding and strict parsing (see sm_ckpt.h).
 * File contents are untrusted: lines are taken through sm_reader_t and
 * every field is length-limited and range-checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "log/sm_ckpt.h"

#define CKPT_MAX_FILE (256u << 20)
#define CKPT_MAX_FIELDS 3

/* Next '\n'-terminated line (a last line without '\n' counts too). */
static int
next_line(sm_reader_t *r, const char **line, size_t *len)
{
    size_t rem = sm_reader_remaining(r);
    if (rem == 0) return 0;
    const uint8_t *nl = memchr(r->pos, '\n', rem);
    size_t n = nl ? (size_t)(nl - r->pos) : rem;
    *line = (const char *)sm_read_raw(r, n);
    *len = n;
    if (nl) sm_read_skip(r, 1);
    return r->err ? 0 : 1;
}

/* Split a line on runs of blanks into at most CKPT_MAX_FIELDS fields
 * (NUL-terminated copies in f, each < 256 bytes). Returns the field count,
 * or -1 if a field is too long or there are too many. */
static int
split_fields(const char *line, size_t len, char f[CKPT_MAX_FIELDS][256])
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
        if (i >= len) break;
        size_t st = i;
        while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') i++;
        if (n >= CKPT_MAX_FIELDS || i - st >= 256) return -1;
        memcpy(f[n], line + st, i - st);
        f[n][i - st] = '\0';
        n++;
    }
    return n;
}

/* Parse version and count lines; returns count or -1. */
static int64_t
parse_head(sm_reader_t *r, char *errstr, size_t errlen)
{
    const char *line;
    size_t len;
    char f[CKPT_MAX_FIELDS][256];
    int64_t v, cnt;
    if (!next_line(r, &line, &len) || split_fields(line, len, f) != 1 || sm_parse_i64(f[0], &v) < 0) {
        snprintf(errstr, errlen, "Malformed checkpoint: missing version");
        return -1;
    }
    if (v != 0) {
        snprintf(errstr, errlen, "Unrecognized version of the checkpoint file: %lld", (long long)v);
        return -1;
    }
    if (!next_line(r, &line, &len) || split_fields(line, len, f) != 1 || sm_parse_i64(f[0], &cnt) < 0 ||
        cnt < 0 || cnt > INT32_MAX) {
        snprintf(errstr, errlen, "Malformed checkpoint: bad entry count");
        return -1;
    }
    return cnt;
}

int
sm_ckpt_parse(const char *text, size_t len, sm_ckpt_entry_t **out, int *n, char *errstr, size_t errlen)
{
    sm_reader_t r;
    sm_reader_init(&r, text, len);
    *out = NULL;
    *n = 0;
    int64_t cnt = parse_head(&r, errstr, errlen);
    if (cnt < 0) return -1;
    sm_ckpt_entry_t *e = NULL;
    int have = 0, cap = 0;
    const char *line;
    size_t ll;
    while (next_line(&r, &line, &ll)) {
        char f[CKPT_MAX_FIELDS][256];
        int64_t part, off;
        if (split_fields(line, ll, f) != 3 || sm_parse_i64(f[1], &part) < 0 || part < 0 ||
            part > INT32_MAX || sm_parse_i64(f[2], &off) < 0) {
            snprintf(errstr, errlen, "Malformed line in checkpoint file: '%.*s'", (int)SM_MIN(ll, 200), line);
            goto err;
        }
        if (have >= cnt) {   /* more lines than announced */
            snprintf(errstr, errlen, "Expected %lld entries in checkpoint file, but found more", (long long)cnt);
            goto err;
        }
        if (have == cap) { cap = cap ? cap * 2 : 16; e = sm_realloc(e, (size_t)cap * sizeof(*e)); }
        e[have].topic = sm_strdup(f[0]);
        e[have].partition = (int32_t)part;
        e[have].offset = off;
        have++;
    }
    if (have != cnt) {
        snprintf(errstr, errlen, "Expected %lld entries in checkpoint file, but found only %d", (long long)cnt, have);
        goto err;
    }
    *out = e;
    *n = have;
    return 0;
err:
    sm_ckpt_free(e, have);
    return -1;
}

void
sm_ckpt_free(sm_ckpt_entry_t *e, int n)
{
    for (int i = 0; i < n; i++) free(e[i].topic);
    free(e);
}

int
sm_ckpt_write(const char *path, const sm_ckpt_entry_t *e, int n)
{
    sm_wbuf_t w;
    char line[512];
    sm_wbuf_init(&w, 64 + (size_t)n * 48);
    int k = snprintf(line, sizeof(line), "0\n%d\n", n);
    sm_write_raw(&w, line, (size_t)k);
    for (int i = 0; i < n; i++) {
        k = snprintf(line, sizeof(line), "%s %d %lld\n", e[i].topic, e[i].partition, (long long)e[i].offset);
        sm_write_raw(&w, line, (size_t)SM_MIN(k, (int)sizeof(line) - 1));
    }
    int rc = sm_write_file_atomic(path, w.data, w.len);
    int saved = errno;
    sm_wbuf_free(&w);
    errno = saved;
    return rc;
}

static char *
read_ckpt_file(const char *path, size_t *len, int *missing, char *errstr, size_t errlen)
{
    *missing = 0;
    char *text = sm_read_file(path, CKPT_MAX_FILE, len);
    if (!text) {
        if (errno == ENOENT) { *missing = 1; return NULL; }
        snprintf(errstr, errlen, "Error reading checkpoint file %s: %s", path, strerror(errno));
    }
    return text;
}

int
sm_ckpt_read(const char *path, sm_ckpt_entry_t **out, int *n, char *errstr, size_t errlen)
{
    size_t len;
    int missing;
    *out = NULL;
    *n = 0;
    char *text = read_ckpt_file(path, &len, &missing, errstr, errlen);
    if (!text) return missing ? 0 : -1;
    int rc = sm_ckpt_parse(text, len, out, n, errstr, errlen);
    free(text);
    return rc;
}

int
sm_epoch_ckpt_parse(const char *text, size_t len, sm_epoch_entry_t **out, int *n, char *errstr, size_t errlen)
{
    sm_reader_t r;
    sm_reader_init(&r, text, len);
    *out = NULL;
    *n = 0;
    int64_t cnt = parse_head(&r, errstr, errlen);
    if (cnt < 0) return -1;
    sm_epoch_entry_t *e = NULL;
    int have = 0, cap = 0;
    const char *line;
    size_t ll;
    while (next_line(&r, &line, &ll)) {
        char f[CKPT_MAX_FIELDS][256];
        int64_t ep, off;
        if (split_fields(line, ll, f) != 2 || sm_parse_i64(f[0], &ep) < 0 || ep < 0 || ep > INT32_MAX ||
            sm_parse_i64(f[1], &off) < 0 || off < 0 || have >= cnt) {
            snprintf(errstr, errlen, "Malformed line in checkpoint file: '%.*s'", (int)SM_MIN(ll, 200), line);
            free(e);
            return -1;
        }
        if (have == cap) { cap = cap ? cap * 2 : 8; e = sm_realloc(e, (size_t)cap * sizeof(*e)); }
        e[have].epoch = (int32_t)ep;
        e[have].start_offset = off;
        have++;
    }
    if (have != cnt) {
        snprintf(errstr, errlen, "Expected %lld entries in checkpoint file, but found only %d", (long long)cnt, have);
        free(e);
        return -1;
    }
    *out = e;
    *n = have;
    return 0;
}

int
sm_epoch_ckpt_read(const char *path, sm_epoch_entry_t **out, int *n, char *errstr, size_t errlen)
{
    size_t len;
    int missing;
    *out = NULL;
    *n = 0;
    char *text = read_ckpt_file(path, &len, &missing, errstr, errlen);
    if (!text) return missing ? 0 : -1;
    int rc = sm_epoch_ckpt_parse(text, len, out, n, errstr, errlen);
    free(text);
    return rc;
}

int
sm_epoch_ckpt_write(const char *path, const sm_epoch_entry_t *e, int n)
{
    sm_wbuf_t w;
    char line[64];
    sm_wbuf_init(&w, 32 + (size_t)n * 24);
    int k = snprintf(line, sizeof(line), "0\n%d\n", n);
    sm_write_raw(&w, line, (size_t)k);
    for (int i = 0; i < n; i++) {
        k = snprintf(line, sizeof(line), "%d %lld\n", e[i].epoch, (long long)e[i].start_offset);
        sm_write_raw(&w, line, (size_t)k);
    }
    int rc = sm_write_file_atomic(path, w.data, w.len);
    int saved = errno;
    sm_wbuf_free(&w);
    errno = saved;
    return rc;
}

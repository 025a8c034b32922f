/*
 * sm_json.c - recursive-descent JSON parser (bounded depth) and string escaping.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_json.h"
#include "core/sm_util.h"

#define MAX_DEPTH 64

typedef struct {
    const char *start, *p, *end;
    char *err;
    size_t errlen;
    int failed;
} jp_t;

static void
fail(jp_t *s, const char *what)
{
    if (!s->failed) snprintf(s->err, s->errlen, "invalid JSON at byte %zu: %s", (size_t)(s->p - s->start), what);
    s->failed = 1;
}

static void
ws(jp_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static void
put_utf8(sm_wbuf_t *w, uint32_t cp)
{
    if (cp < 0x80) sm_write_i8(w, (int8_t)cp);
    else if (cp < 0x800) { sm_write_i8(w, (int8_t)(0xc0 | cp >> 6)); sm_write_i8(w, (int8_t)(0x80 | (cp & 0x3f))); }
    else if (cp < 0x10000) {
        sm_write_i8(w, (int8_t)(0xe0 | cp >> 12)); sm_write_i8(w, (int8_t)(0x80 | ((cp >> 6) & 0x3f)));
        sm_write_i8(w, (int8_t)(0x80 | (cp & 0x3f)));
    } else {
        sm_write_i8(w, (int8_t)(0xf0 | cp >> 18)); sm_write_i8(w, (int8_t)(0x80 | ((cp >> 12) & 0x3f)));
        sm_write_i8(w, (int8_t)(0x80 | ((cp >> 6) & 0x3f))); sm_write_i8(w, (int8_t)(0x80 | (cp & 0x3f)));
    }
}

static int
hex4(jp_t *s, uint32_t *out)
{
    if (s->end - s->p < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    s->p += 4;
    *out = v;
    return 0;
}

static char *
parse_string(jp_t *s)
{
    if (s->p >= s->end || *s->p != '"') { fail(s, "expected string"); return NULL; }
    s->p++;
    sm_wbuf_t w;
    sm_wbuf_init(&w, 32);
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = (unsigned char)*s->p++;
        if (c < 0x20) { fail(s, "control character in string"); goto bad; }
        if (c != '\\') { sm_write_i8(&w, (int8_t)c); continue; }
        if (s->p >= s->end) break;
        c = (unsigned char)*s->p++;
        switch (c) {
        case '"': case '\\': case '/': sm_write_i8(&w, (int8_t)c); break;
        case 'b': sm_write_i8(&w, '\b'); break;
        case 'f': sm_write_i8(&w, '\f'); break;
        case 'n': sm_write_i8(&w, '\n'); break;
        case 'r': sm_write_i8(&w, '\r'); break;
        case 't': sm_write_i8(&w, '\t'); break;
        case 'u': {
            uint32_t cp;
            if (hex4(s, &cp) < 0) { fail(s, "bad \\u escape"); goto bad; }
            if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u') {
                uint32_t lo;
                s->p += 2;
                if (hex4(s, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) { fail(s, "bad surrogate"); goto bad; }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(&w, cp);
            break;
        }
        default: fail(s, "bad escape"); goto bad;
        }
    }
    if (s->p >= s->end) { fail(s, "unterminated string"); goto bad; }
    s->p++;
    sm_write_i8(&w, 0);
    return (char *)sm_wbuf_steal(&w, NULL);
bad:
    sm_wbuf_free(&w);
    return NULL;
}

static sm_json_t *parse_value(jp_t *s, int depth);

static sm_json_t *
parse_container(jp_t *s, int depth, int is_obj)
{
    sm_json_t *j = sm_calloc(1, sizeof(*j)), **tail = &j->child;
    j->type = is_obj ? SM_JSON_OBJECT : SM_JSON_ARRAY;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == (is_obj ? '}' : ']')) { s->p++; return j; }
    for (;;) {
        char *key = NULL;
        ws(s);
        if (is_obj) {
            key = parse_string(s);
            if (!key) goto bad;
            ws(s);
            if (s->p >= s->end || *s->p != ':') { free(key); fail(s, "expected ':'"); goto bad; }
            s->p++;
        }
        sm_json_t *v = parse_value(s, depth + 1);
        if (!v) { free(key); goto bad; }
        v->key = key;
        *tail = v;
        tail = &v->next;
        j->count++;
        ws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        if (s->p < s->end && *s->p == (is_obj ? '}' : ']')) { s->p++; return j; }
        fail(s, "expected ',' or closing bracket");
        goto bad;
    }
bad:
    sm_json_free(j);
    return NULL;
}

static sm_json_t *
parse_value(jp_t *s, int depth)
{
    if (depth > MAX_DEPTH) { fail(s, "nesting too deep"); return NULL; }
    ws(s);
    if (s->p >= s->end) { fail(s, "unexpected end"); return NULL; }
    char c = *s->p;
    if (c == '{' || c == '[') return parse_container(s, depth, c == '{');
    sm_json_t *j = sm_calloc(1, sizeof(*j));
    if (c == '"') {
        j->type = SM_JSON_STRING;
        if (!(j->str = parse_string(s))) { free(j); return NULL; }
        return j;
    }
    size_t left = (size_t)(s->end - s->p);
    if (left >= 4 && !memcmp(s->p, "null", 4)) { s->p += 4; j->type = SM_JSON_NULL; return j; }
    if (left >= 4 && !memcmp(s->p, "true", 4)) { s->p += 4; j->type = SM_JSON_BOOL; j->boolean = 1; return j; }
    if (left >= 5 && !memcmp(s->p, "false", 5)) { s->p += 5; j->type = SM_JSON_BOOL; return j; }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char buf[64];
        size_t n = 0;
        while (s->p < s->end && n < sizeof(buf) - 1 && strchr("+-0123456789.eE", *s->p)) buf[n++] = *s->p++;
        buf[n] = '\0';
        char *end;
        j->type = SM_JSON_NUMBER;
        j->num = strtod(buf, &end);
        if (*end || n == 0) { fail(s, "bad number"); free(j); return NULL; }
        errno = 0;
        long long iv = strtoll(buf, &end, 10);
        /* Exact when the text is a decimal integer that fits; else derived
         * from the double, and 0 when even that is out of int64 range (a
         * double-to-int cast there is undefined). sm_json_int() rejects
         * values whose inum does not reproduce num. */
        if (!*end && errno != ERANGE) j->inum = iv;
        else if (j->num > -9223372036854775808.0 && j->num < 9223372036854775808.0) j->inum = (int64_t)j->num;
        else j->inum = 0;
        return j;
    }
    free(j);
    fail(s, "unexpected character");
    return NULL;
}

sm_json_t *
sm_json_parse(const char *text, size_t len, char *errstr, size_t errlen)
{
    char dummy[8];
    jp_t s = { text, text, text + len, errstr ? errstr : dummy, errstr ? errlen : sizeof(dummy), 0 };
    sm_json_t *j = parse_value(&s, 0);
    if (!j) return NULL;
    ws(&s);
    if (s.p != s.end) { fail(&s, "trailing data"); sm_json_free(j); return NULL; }
    return j;
}

void
sm_json_free(sm_json_t *j)
{
    while (j) {
        sm_json_t *next = j->next;
        sm_json_free(j->child);
        free(j->key);
        free(j->str);
        free(j);
        j = next;
    }
}

sm_json_t *
sm_json_get(const sm_json_t *o, const char *key)
{
    if (!o || o->type != SM_JSON_OBJECT) return NULL;
    sm_json_t *found = NULL;
    for (sm_json_t *c = o->child; c; c = c->next)
        if (!strcmp(c->key, key)) found = c;   /* last one wins, like Jackson */
    return found;
}

sm_json_t *
sm_json_at(const sm_json_t *a, size_t i)
{
    if (!a || a->type != SM_JSON_ARRAY) return NULL;
    sm_json_t *c = a->child;
    while (c && i--) c = c->next;
    return c;
}

int
sm_json_int(const sm_json_t *j, int64_t *out)
{
    if (!j) return -1;
    if (j->type == SM_JSON_NUMBER) {
        if (j->num != floor(j->num) || (double)j->inum != j->num) return -1;
        *out = j->inum;
        return 0;
    }
    if (j->type == SM_JSON_STRING) return sm_parse_i64(j->str, out);
    return -1;
}

int sm_json_get_int(const sm_json_t *o, const char *key, int64_t *out) { return sm_json_int(sm_json_get(o, key), out); }

const char *
sm_json_get_str(const sm_json_t *o, const char *key)
{
    sm_json_t *j = sm_json_get(o, key);
    return j && j->type == SM_JSON_STRING ? j->str : NULL;
}

void
sm_json_write_string(sm_wbuf_t *w, const char *s)
{
    sm_write_i8(w, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { sm_write_i8(w, '\\'); sm_write_i8(w, (int8_t)*p); }
        else if (*p < 0x20) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            sm_write_raw(w, esc, 6);
        } else sm_write_i8(w, (int8_t)*p);
    }
    sm_write_i8(w, '"');
}

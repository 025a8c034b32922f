/*
 * sm_conf.c - .properties parsing and table-driven typed configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/sm_conf.h"
#include "core/sm_util.h"

void sm_props_init(sm_props_t *p) { memset(p, 0, sizeof(*p)); }

void
sm_props_free(sm_props_t *p)
{
    for (size_t i = 0; i < p->n; i++) { free(p->items[i].key); free(p->items[i].value); }
    free(p->items);
    memset(p, 0, sizeof(*p));
}

static void
props_put(sm_props_t *p, char *key, char *value, int line)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!strcmp(p->items[i].key, key)) {
            free(p->items[i].value); free(key);
            p->items[i].value = value;
            p->items[i].line = line;
            return;
        }
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->items = sm_realloc(p->items, p->cap * sizeof(*p->items));
    }
    p->items[p->n++] = (sm_prop_t){ key, value, line };
}

void sm_props_set(sm_props_t *p, const char *key, const char *value) { props_put(p, sm_strdup(key), sm_strdup(value), 0); }

const char *
sm_props_get(const sm_props_t *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->items[i].key, key)) return p->items[i].value;
    return NULL;
}

int
sm_props_set_kv(sm_props_t *p, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return -1;
    props_put(p, sm_strndup(kv, (size_t)(eq - kv)), sm_strdup(eq + 1), 0);
    return 0;
}

/* Append one logical-line character, decoding escapes. */
static void
unescape_into(char **out, size_t *olen, size_t *ocap, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            c = s[++i];
            if (c == 't') c = '\t';
            else if (c == 'n') c = '\n';
            else if (c == 'r') c = '\r';
            else if (c == 'f') c = '\f';
            else if (c == 'u' && i + 4 < n + 0 && i + 4 <= n - 1 + 1) {
                unsigned v = 0; int ok = 1;
                for (int k = 1; k <= 4; k++) {
                    if (i + k >= n || !isxdigit((unsigned char)s[i + k])) { ok = 0; break; }
                    char h = s[i + k];
                    v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                }
                if (ok) {
                    i += 4;
                    char enc[4]; int m;
                    if (v < 0x80) { enc[0] = (char)v; m = 1; }
                    else if (v < 0x800) { enc[0] = (char)(0xc0 | v >> 6); enc[1] = (char)(0x80 | (v & 0x3f)); m = 2; }
                    else { enc[0] = (char)(0xe0 | v >> 12); enc[1] = (char)(0x80 | ((v >> 6) & 0x3f)); enc[2] = (char)(0x80 | (v & 0x3f)); m = 3; }
                    for (int k = 0; k < m; k++) {
                        if (*olen + 1 >= *ocap) { *ocap = *ocap * 2 + 16; *out = sm_realloc(*out, *ocap); }
                        (*out)[(*olen)++] = enc[k];
                    }
                    continue;
                }
            }
        }
        if (*olen + 1 >= *ocap) { *ocap = *ocap * 2 + 16; *out = sm_realloc(*out, *ocap); }
        (*out)[(*olen)++] = c;
    }
    (*out)[*olen] = '\0';
}

int
sm_props_parse(sm_props_t *p, const char *text, size_t len, char *errstr, size_t errlen)
{
    const char *s = text, *end = text + len;
    int lineno = 0;
    while (s < end) {
        /* Gather one logical line (joining backslash continuations). */
        char *logical = sm_malloc(64);
        size_t llen = 0, lcap = 64;
        int first_line = lineno + 1, first_phys = 1;
        logical[0] = '\0';
        for (;;) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            const char *le = nl ? nl : end;
            lineno++;
            const char *ls = s;
            if (llen > 0) while (ls < le && (*ls == ' ' || *ls == '\t' || *ls == '\f')) ls++;
            const char *te = le;
            if (te > ls && te[-1] == '\r') te--;
            /* odd number of trailing backslashes = continuation, except on
             * a comment line: Java's LineReader drops a comment line whole,
             * so a trailing backslash there must not swallow the next line. */
            size_t bs = 0;
            for (const char *q = te; q > ls && q[-1] == '\\'; q--) bs++;
            int cont = bs % 2 == 1;
            if (first_phys) {
                const char *c = ls;
                while (c < te && (*c == ' ' || *c == '\t' || *c == '\f')) c++;
                if (c < te && (*c == '#' || *c == '!')) cont = 0;
                first_phys = 0;
            }
            size_t seg = (size_t)(te - ls) - (cont ? 1 : 0);
            if (llen + seg + 1 > lcap) { lcap = llen + seg + 64; logical = sm_realloc(logical, lcap); }
            memcpy(logical + llen, ls, seg);
            llen += seg;
            logical[llen] = '\0';
            s = nl ? nl + 1 : end;
            if (!cont || s >= end) break;
        }
        /* Keys and values are C strings: a NUL (raw, or \u0000 decoded
         * below) would silently cut them, e.g. "a\u0000x=1" setting "a". */
        if (memchr(logical, '\0', llen)) {
            snprintf(errstr, errlen, "line %d: NUL character", first_line);
            free(logical);
            return -1;
        }
        /* Parse the logical line. */
        char *q = logical;
        while (*q == ' ' || *q == '\t' || *q == '\f') q++;
        if (*q == '\0' || *q == '#' || *q == '!') { free(logical); continue; }
        char *k = q;
        while (*q && *q != '=' && *q != ':' && *q != ' ' && *q != '\t' && *q != '\f') {
            if (*q == '\\' && q[1]) q++;
            q++;
        }
        size_t klen = (size_t)(q - k);
        while (*q == ' ' || *q == '\t' || *q == '\f') q++;
        if (*q == '=' || *q == ':') q++;
        while (*q == ' ' || *q == '\t' || *q == '\f') q++;
        if (klen == 0) {
            snprintf(errstr, errlen, "line %d: missing key", first_line);
            free(logical);
            return -1;
        }
        char *key = sm_malloc(klen + 1), *val = sm_malloc(strlen(q) + 1);
        size_t kl = 0, kc = klen + 1, vl = 0, vc = strlen(q) + 1;
        unescape_into(&key, &kl, &kc, k, klen);
        unescape_into(&val, &vl, &vc, q, strlen(q));
        if (strlen(key) != kl || strlen(val) != vl) {
            snprintf(errstr, errlen, "line %d: NUL character", first_line);
            free(key); free(val); free(logical);
            return -1;
        }
        /* Trailing whitespace in values is kept by Java; we trim it since
         * operators never mean it and it breaks numbers. */
        while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t')) val[--vl] = '\0';
        props_put(p, key, val, first_line);
        free(logical);
    }
    return 0;
}

int
sm_props_load(sm_props_t *p, const char *path, char *errstr, size_t errlen)
{
    size_t len;
    char *text = sm_read_file(path, 16 << 20, &len);
    if (!text) {
        snprintf(errstr, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char sub[256];
    int rc = sm_props_parse(p, text, len, sub, sizeof(sub));
    if (rc < 0) snprintf(errstr, errlen, "%s: %s", path, sub);
    free(text);
    return rc;
}

const sm_conf_def_t *
sm_conf_find(const sm_conf_def_t *t, const char *key)
{
    for (; t->name; t++)
        if (!strcmp(t->name, key)) return t;
    return NULL;
}

static int
set_one(const sm_conf_def_t *d, void *obj, const char *value, char *errstr, size_t errlen)
{
    char *base = obj;
    switch (d->type) {
    case SM_CONF_INT:
    case SM_CONF_LONG: {
        int64_t v;
        const char *s = value;
        while (*s == ' ') s++;
        if (sm_parse_i64(s, &v) < 0) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Not a number of type %s",
                     value, d->name, d->type == SM_CONF_INT ? "INT" : "LONG");
            return -1;
        }
        if (d->type == SM_CONF_INT && (v < INT32_MIN || v > INT32_MAX)) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Not a number of type INT", value, d->name);
            return -1;
        }
        /* Kafka's ConfigDef.Range wording: one message per violated bound. */
        if (v < d->min) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Value must be at least %lld",
                     value, d->name, (long long)d->min);
            return -1;
        }
        if (v > d->max) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Value must be no more than %lld",
                     value, d->name, (long long)d->max);
            return -1;
        }
        if (d->type == SM_CONF_INT) *(int32_t *)(base + d->offset) = (int32_t)v;
        else *(int64_t *)(base + d->offset) = v;
        return 0;
    }
    case SM_CONF_BOOL:
        if (!strcasecmp(value, "true")) *(int *)(base + d->offset) = 1;
        else if (!strcasecmp(value, "false")) *(int *)(base + d->offset) = 0;
        else {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Expected value to be either true or false",
                     value, d->name);
            return -1;
        }
        return 0;
    case SM_CONF_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || *end || end == value) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Not a number of type DOUBLE", value, d->name);
            return -1;
        }
        *(double *)(base + d->offset) = v;
        return 0;
    }
    case SM_CONF_STRING: {
        char **slot = (char **)(base + d->offset);
        free(*slot);
        *slot = value ? sm_strdup(value) : NULL;
        return 0;
    }
    }
    return -1;
}

void
sm_conf_defaults(const sm_conf_def_t *t, void *obj)
{
    char err[256];
    for (; t->name; t++) {
        if (t->type == SM_CONF_STRING) {
            char **slot = (char **)((char *)obj + t->offset);
            *slot = t->def ? sm_strdup(t->def) : NULL;
        } else if (t->def) {
            if (set_one(t, obj, t->def, err, sizeof(err)) < 0) {
                fprintf(stderr, "samsa: bad built-in default: %s\n", err);
                abort();
            }
        }
    }
}

int
sm_conf_set(const sm_conf_def_t *t, void *obj, const char *key, const char *value, char *errstr, size_t errlen)
{
    const sm_conf_def_t *d = sm_conf_find(t, key);
    if (!d) return 0;
    return set_one(d, obj, value, errstr, errlen) < 0 ? -1 : 1;
}

void
sm_conf_free(const sm_conf_def_t *t, void *obj)
{
    for (; t->name; t++) {
        if (t->type != SM_CONF_STRING) continue;
        char **slot = (char **)((char *)obj + t->offset);
        free(*slot);
        *slot = NULL;
    }
}

void
sm_conf_format(const sm_conf_def_t *d, const void *obj, char *buf, size_t len)
{
    const char *base = obj;
    switch (d->type) {
    case SM_CONF_INT: snprintf(buf, len, "%d", *(const int32_t *)(base + d->offset)); break;
    case SM_CONF_LONG: snprintf(buf, len, "%lld", (long long)*(const int64_t *)(base + d->offset)); break;
    case SM_CONF_BOOL: snprintf(buf, len, "%s", *(const int *)(base + d->offset) ? "true" : "false"); break;
    case SM_CONF_DOUBLE: snprintf(buf, len, "%g", *(const double *)(base + d->offset)); break;
    case SM_CONF_STRING: {
        const char *s = *(char *const *)(base + d->offset);
        snprintf(buf, len, "%s", s ? s : "");
        break;
    }
    }
}

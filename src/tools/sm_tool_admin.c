/*
 * sm_tool_admin.c - pure helpers of samsa-configs and samsa-consumer-groups
 * (see sm_tool_admin.h): Kafka 2.x ConfigCommand / ConsumerGroupCommand
 * argument parsing and output layout, with no I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_admin.h"

static char *
trim_dup(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s)) { s++; len--; }
    while (len && isspace((unsigned char)s[len - 1])) len--;
    return sm_strndup(s, len);
}

int
sm_tool_parse_add_config(const char *s, sm_props_t *out, char *errstr, size_t errlen)
{
    static const char bad[] = "Invalid entity config: all configs to be added must be in the format \"key=val\".";
    size_t n = strlen(s), start = 0;
    int depth = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] == '[') depth++;
        else if (i < n && s[i] == ']' && depth > 0) depth--;
        if (i < n && !(s[i] == ',' && depth == 0)) continue;
        /* One item s[start, i): exactly one '=' outside brackets. */
        size_t eq = (size_t)-1;
        int d = 0, neq = 0;
        for (size_t k = start; k < i; k++) {
            if (s[k] == '[') d++;
            else if (s[k] == ']' && d > 0) d--;
            else if (s[k] == '=' && d == 0) { if (!neq) eq = k; neq++; }
        }
        if (neq != 1) {
            snprintf(errstr, errlen, "%s", bad);
            return -1;
        }
        char *key = trim_dup(s + start, eq - start);
        char *raw = sm_strndup(s + eq + 1, i - eq - 1), *w = raw;
        for (char *r = raw; *r; r++)
            if (*r != '[' && *r != ']') *w++ = *r;
        *w = '\0';
        char *val = trim_dup(raw, strlen(raw));
        sm_props_set(out, key, val);
        free(key);
        free(raw);
        free(val);
        start = i + 1;
    }
    return 0;
}

int
sm_tool_split_list(const char *s, char ***out)
{
    int n = 0, cap = 4;
    char **v = sm_calloc((size_t)cap, sizeof(char *));
    const char *p = s ? s : "";
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char *item = trim_dup(p, len);
        if (*item) {
            if (n == cap) { cap *= 2; v = sm_realloc(v, sizeof(char *) * (size_t)cap); }
            v[n++] = item;
        } else {
            free(item);
        }
        if (!c) break;
        p = c + 1;
    }
    *out = v;
    return n;
}

void
sm_tool_strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void
sm_tool_config_entity_desc(char *buf, size_t len, const char *type, const char *name)
{
    const char *t = !strcmp(type, "topics") ? "topic" : !strcmp(type, "users") ? "user-principal"
                  : !strcmp(type, "clients") ? "client-id" : type;
    if (!name) snprintf(buf, len, "%s", t);
    else if (!strcmp(name, "<default>")) snprintf(buf, len, "default %s", t);
    else snprintf(buf, len, "%s '%s'", t, name);
}

void
sm_tool_fmt_zk_configs(sm_wbuf_t *w, const char *desc, const sm_props_t *configs)
{
    sm_tool_wprintf(w, "Configs for %s are ", desc);
    for (size_t i = 0; configs && i < configs->n; i++)
        sm_tool_wprintf(w, "%s%s=%s", i ? "," : "", configs->items[i].key, configs->items[i].value);
    sm_tool_wprintf(w, "\n");
}

/* ---- consumer groups --------------------------------------------------- */

static const char *
dash(const char *s)
{
    return s ? s : "-";
}

static int
maxw(int cur, const char *s)
{
    int l = (int)strlen(dash(s));
    return l > cur ? l : cur;
}

static void
num_or_dash(char *buf, size_t len, int64_t v)
{
    if (v < 0) snprintf(buf, len, "-");
    else snprintf(buf, len, "%lld", (long long)v);
}

void
sm_tool_fmt_offsets_table(sm_wbuf_t *w, const sm_tool_offset_row_t *rows, int n)
{
    int g = 15, t = 15, c = 15, h = 15;
    for (int i = 0; i < n; i++) {
        g = maxw(g, rows[i].group);
        t = maxw(t, rows[i].topic);
        c = maxw(c, rows[i].consumer_id);
        h = maxw(h, rows[i].host);
    }
    const char *fmt = "\n%-*s %-*s %-10s %-15s %-15s %-15s %-*s %-*s %s";
    sm_tool_wprintf(w, fmt, g, "GROUP", t, "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", c,
                   "CONSUMER-ID", h, "HOST", "CLIENT-ID");
    for (int i = 0; i < n; i++) {
        const sm_tool_offset_row_t *r = &rows[i];
        char part[16], cur[24], leo[24], lag[24];
        if (r->partition < 0) snprintf(part, sizeof(part), "-");
        else snprintf(part, sizeof(part), "%d", r->partition);
        num_or_dash(cur, sizeof(cur), r->current);
        num_or_dash(leo, sizeof(leo), r->log_end);
        num_or_dash(lag, sizeof(lag), r->current >= 0 && r->log_end >= 0 ? r->log_end - r->current : -1);
        sm_tool_wprintf(w, fmt, g, dash(r->group), t, dash(r->topic), part, cur, leo, lag, c, dash(r->consumer_id), h,
                       dash(r->host), dash(r->client_id));
    }
    sm_tool_wprintf(w, "\n");
}

void
sm_tool_fmt_members_table(sm_wbuf_t *w, const sm_tool_member_row_t *rows, int n, int verbose)
{
    int g = 15, c = 15, gi = 17, h = 15, cl = 15, with_gi = 0;
    for (int i = 0; i < n; i++) {
        g = maxw(g, rows[i].group);
        c = maxw(c, rows[i].consumer_id);
        h = maxw(h, rows[i].host);
        cl = maxw(cl, rows[i].client_id);
        if (rows[i].group_instance_id && rows[i].group_instance_id[0]) {
            with_gi = 1;
            gi = maxw(gi, rows[i].group_instance_id);
        }
    }
    if (with_gi)
        sm_tool_wprintf(w, "\n%-*s %-*s %-*s %-*s %-*s %-15s ", g, "GROUP", c, "CONSUMER-ID", gi, "GROUP-INSTANCE-ID", h,
                       "HOST", cl, "CLIENT-ID", "#PARTITIONS");
    else
        sm_tool_wprintf(w, "\n%-*s %-*s %-*s %-*s %-15s ", g, "GROUP", c, "CONSUMER-ID", h, "HOST", cl, "CLIENT-ID",
                       "#PARTITIONS");
    if (verbose) sm_tool_wprintf(w, "ASSIGNMENT");
    sm_tool_wprintf(w, "\n");
    for (int i = 0; i < n; i++) {
        const sm_tool_member_row_t *r = &rows[i];
        char np[16];
        snprintf(np, sizeof(np), "%d", r->npartitions);
        if (with_gi)
            sm_tool_wprintf(w, "%-*s %-*s %-*s %-*s %-*s %-15s ", g, dash(r->group), c, dash(r->consumer_id), gi,
                           r->group_instance_id && r->group_instance_id[0] ? r->group_instance_id : "-", h,
                           dash(r->host), cl, dash(r->client_id), np);
        else
            sm_tool_wprintf(w, "%-*s %-*s %-*s %-*s %-15s ", g, dash(r->group), c, dash(r->consumer_id), h,
                           dash(r->host), cl, dash(r->client_id), np);
        if (verbose) sm_tool_wprintf(w, "%s", dash(r->assignment));
        sm_tool_wprintf(w, "\n");
    }
}

void
sm_tool_fmt_state_table(sm_wbuf_t *w, const char *group, const char *coordinator, const char *assignor,
                        const char *state, int nmembers)
{
    int g = maxw(15, group), c = maxw(25, coordinator);
    const char *fmt = "\n%-*s %-*s %-25s %-20s %s";
    char nm[16];
    snprintf(nm, sizeof(nm), "%d", nmembers);
    sm_tool_wprintf(w, fmt, g, "GROUP", c, "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS");
    sm_tool_wprintf(w, fmt, g, group, c, dash(coordinator), assignor && *assignor ? assignor : "", dash(state), nm);
    sm_tool_wprintf(w, "\n");
}

void
sm_tool_fmt_list_states(sm_wbuf_t *w, const char *const *groups, const char *const *states, int n)
{
    int g = 15;
    for (int i = 0; i < n; i++) g = maxw(g, groups[i]);
    sm_tool_wprintf(w, "%-*s %s\n", g, "GROUP", "STATE");
    for (int i = 0; i < n; i++) sm_tool_wprintf(w, "%-*s %s\n", g, groups[i], dash(states[i]));
}

void
sm_tool_fmt_reset_table(sm_wbuf_t *w, const sm_tool_reset_row_t *rows, int n)
{
    if (n > 0) sm_tool_wprintf(w, "\n%-30s %-30s %-10s %-15s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
    for (int i = 0; i < n; i++) {
        char p[16], o[24];
        snprintf(p, sizeof(p), "%d", rows[i].partition);
        snprintf(o, sizeof(o), "%lld", (long long)rows[i].offset);
        sm_tool_wprintf(w, "%-30s %-30s %-10s %-15s\n", rows[i].group, rows[i].topic, p, o);
    }
}

typedef struct { const char *topic; int32_t part; } tp_t;

static int
cmp_tp(const void *a, const void *b)
{
    const tp_t *x = a, *y = b;
    return sm_tool_cmp_tp(x->topic, x->part, y->topic, y->part);
}

char *
sm_tool_fmt_assignment(const char *const *topics, const int32_t *parts, int n)
{
    if (n <= 0) return sm_strdup("-");
    tp_t *v = sm_calloc((size_t)n, sizeof(tp_t));
    for (int i = 0; i < n; i++) v[i] = (tp_t){ topics[i], parts[i] };
    qsort(v, (size_t)n, sizeof(tp_t), cmp_tp);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    for (int i = 0; i < n; i++) {
        int first = i == 0 || strcmp(v[i - 1].topic, v[i].topic);
        int last = i == n - 1 || strcmp(v[i + 1].topic, v[i].topic);
        if (first) sm_tool_wprintf(&w, "%s%s(", i ? ", " : "", v[i].topic);
        sm_tool_wprintf(&w, "%s%d", first ? "" : ",", v[i].part);
        if (last) sm_tool_wprintf(&w, ")");
    }
    char *s = sm_strndup((const char *)w.data, w.len);
    sm_wbuf_free(&w);
    free(v);
    return s;
}

int
sm_tool_parse_topic_scope(const char *s, char **topic, int32_t **parts, int *n, char *errstr, size_t errlen)
{
    const char *colon = strchr(s, ':');
    *parts = NULL;
    *n = 0;
    if (!colon) {
        *topic = trim_dup(s, strlen(s));
        return 0;
    }
    char **items;
    int k = sm_tool_split_list(colon + 1, &items);
    int32_t *p = sm_calloc((size_t)(k ? k : 1), sizeof(int32_t));
    for (int i = 0; i < k; i++) {
        int64_t v;
        if (sm_parse_i64(items[i], &v) < 0 || v < 0 || v > INT32_MAX) {
            snprintf(errstr, errlen, "For input string: \"%s\"", items[i]);
            sm_tool_strv_free(items, k);
            free(p);
            return -1;
        }
        p[i] = (int32_t)v;
    }
    sm_tool_strv_free(items, k);
    *topic = trim_dup(s, (size_t)(colon - s));
    *parts = p;
    *n = k;
    return 0;
}

int
sm_tool_parse_duration(const char *s, int64_t *ms)
{
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (*s != 'P' && *s != 'p') return -1;
    s++;
    int in_time = 0, any = 0;
    double total = 0;
    while (*s) {
        if ((*s == 'T' || *s == 't') && !in_time) {
            in_time = 1;
            s++;
            if (!*s) return -1;
            continue;
        }
        char *end;
        if (!isdigit((unsigned char)*s) && *s != '-' && *s != '+') return -1;
        double v = strtod(s, &end);
        if (end == s) return -1;
        char u = (char)toupper((unsigned char)*end);
        if (!in_time && u == 'D') total += v * 86400000.0;
        else if (in_time && u == 'H') total += v * 3600000.0;
        else if (in_time && u == 'M') total += v * 60000.0;
        else if (in_time && u == 'S') total += v * 1000.0;
        else return -1;
        /* Only seconds may have a fraction, as in Java. */
        if (u != 'S' && memchr(s, '.', (size_t)(end - s))) return -1;
        any = 1;
        s = end + 1;
    }
    if (!any || total > 9.2e18) return -1;
    *ms = (int64_t)(neg ? -total : total);
    return 0;
}

/* Days from 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int
sm_tool_parse_datetime(const char *s, int64_t *ms)
{
    int Y, M, D, h, m, sec, milli;
    if (strlen(s) < 23 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
        s[16] != ':' || digits(s + 17, 2, &sec) || s[19] != '.' || digits(s + 20, 3, &milli))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 59) return -1;
    const char *tz = s + 23;
    int64_t local = ((days_from_civil(Y, M, D) * 24 + h) * 60 + m) * 60 + sec;
    if (*tz == '\0') {
        /* No zone: the machine's local time, like SimpleDateFormat. */
        struct tm tm = { 0 };
        tm.tm_year = Y - 1900;
        tm.tm_mon = M - 1;
        tm.tm_mday = D;
        tm.tm_hour = h;
        tm.tm_min = m;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1) return -1;
        *ms = (int64_t)t * 1000 + milli;
        return 0;
    }
    int off = 0;
    if (!strcmp(tz, "Z")) {
        off = 0;
    } else if (*tz == '+' || *tz == '-') {
        int oh, om = 0;
        size_t l = strlen(tz + 1);
        if (digits(tz + 1, 2, &oh)) return -1;
        if (l == 5 && tz[3] == ':') { if (digits(tz + 4, 2, &om)) return -1; }
        else if (l == 4) { if (digits(tz + 3, 2, &om)) return -1; }
        else if (l != 2) return -1;
        off = (oh * 60 + om) * 60 * (*tz == '-' ? -1 : 1);
    } else {
        return -1;
    }
    *ms = (local - off) * 1000 + milli;
    return 0;
}

int64_t
sm_tool_clamp_offset(int64_t off, int64_t earliest, int64_t latest, int *clamped)
{
    *clamped = 0;
    if (latest >= 0 && off > latest) { *clamped = 1; return latest; }
    if (earliest >= 0 && off < earliest) { *clamped = -1; return earliest; }
    return off;
}

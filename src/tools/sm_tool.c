/*
 * sm_tool.c - shared, librdkafka-free helpers of the operator tools: option
 * parsing, the common front end (usage / failure exits, --help, --version,
 * stop signals), ZooKeeper conveniences, kafka-topics.sh formatting,
 * assignment/config parsing, topic filters, property-key mapping and the
 * console consumer's record formatter. See sm_tool.h for the contracts.
 */
#include "config.h"

#include "tools/sm_tool.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "zk/sm_zk_admin.h"

/* ---- option parsing ---------------------------------------------------- */

static int
opt_index(const sm_tool_opt_t *t, const char *name)
{
    for (int i = 0; t[i].name; i++)
        if (!strcmp(t[i].name, name)) return i;
    return -1;
}

static void
args_add(sm_tool_args_t *a, int i, const char *v)
{
    a->values[i] = sm_realloc(a->values[i], sizeof(char *) * (size_t)(a->count[i] + 1));
    a->values[i][a->count[i]++] = v ? sm_strdup(v) : NULL;
}

/* Resolve `name` (length n) to a table index: exact match first, else a
 * unique prefix. Returns -1 unknown, -2 ambiguous. */
static int
opt_resolve(const sm_tool_opt_t *t, const char *name, size_t n)
{
    int found = -1;
    for (int i = 0; t[i].name; i++) {
        if (strlen(t[i].name) == n && !strncmp(t[i].name, name, n)) return i;
    }
    for (int i = 0; t[i].name; i++) {
        if (!strncmp(t[i].name, name, n)) {
            if (found >= 0) return -2;
            found = i;
        }
    }
    return found;
}

int
sm_tool_args_parse(sm_tool_args_t *a, const sm_tool_opt_t *table, int argc, char **argv,
                   char *errstr, size_t errlen)
{
    int n = 0;
    while (table[n].name) n++;
    a->table = table;
    a->nopts = n;
    a->count = sm_calloc((size_t)n + 1, sizeof(int));
    a->values = sm_calloc((size_t)n + 1, sizeof(char **));

    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-' || w[1] == '\0') {
            snprintf(errstr, errlen, "Found non-option argument: %s", w);
            return -1;
        }
        const char *name = w + 1;
        if (*name == '-') name++;
        if (*name == '\0') {
            snprintf(errstr, errlen, "Found non-option argument: %s", w);
            return -1;
        }
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int idx = opt_resolve(table, name, nlen);
        if (idx == -1) {
            snprintf(errstr, errlen, "%.*s is not a recognized option", (int)SM_MIN(nlen, 200), name);
            return -1;
        }
        if (idx == -2) {
            snprintf(errstr, errlen, "%.*s is ambiguous", (int)SM_MIN(nlen, 200), name);
            return -1;
        }
        const sm_tool_opt_t *o = &table[idx];
        if (o->arg == SM_TOOL_ARG_NONE) {
            if (eq) {
                snprintf(errstr, errlen, "Option %s does not take an argument", o->name);
                return -1;
            }
            args_add(a, idx, NULL);
        } else if (eq) {
            args_add(a, idx, eq + 1);
        } else if (o->arg == SM_TOOL_ARG_REQUIRED) {
            if (i + 1 >= argc) {
                snprintf(errstr, errlen, "Option %s requires an argument", o->name);
                return -1;
            }
            args_add(a, idx, argv[++i]);
        } else {
            if (i + 1 < argc && argv[i + 1][0] != '-') args_add(a, idx, argv[++i]);
            else args_add(a, idx, NULL);
        }
    }
    return 0;
}

void
sm_tool_args_free(sm_tool_args_t *a)
{
    if (!a->values) return;
    for (int i = 0; i < a->nopts; i++) {
        for (int j = 0; j < a->count[i]; j++) free(a->values[i][j]);
        free(a->values[i]);
    }
    free(a->values);
    free(a->count);
    a->values = NULL;
    a->count = NULL;
}

static int
must_index(const sm_tool_args_t *a, const char *name)
{
    int i = opt_index(a->table, name);
    if (i < 0) {
        fprintf(stderr, "internal error: option table has no --%s\n", name);
        abort();
    }
    return i;
}

int sm_tool_has(const sm_tool_args_t *a, const char *name) { return a->count[must_index(a, name)] > 0; }

const char *
sm_tool_get(const sm_tool_args_t *a, const char *name)
{
    int i = must_index(a, name);
    return a->count[i] ? a->values[i][a->count[i] - 1] : NULL;
}

char **
sm_tool_get_all(const sm_tool_args_t *a, const char *name, int *n)
{
    int i = must_index(a, name);
    *n = a->count[i];
    return a->values[i];
}

/* Word-wrap `text` into a column of width `w`, the first line already
 * positioned; continuation lines are indented by `indent`. */
static void
print_wrapped(FILE *f, const char *text, int indent, int w)
{
    int col = 0;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", indent, "");
            col = 0;
            p++;
            continue;
        }
        const char *e = p;
        while (*e && *e != ' ' && *e != '\n') e++;
        int wl = (int)(e - p);
        if (col > 0 && col + 1 + wl > w) {
            fprintf(f, "\n%*s", indent, "");
            col = 0;
        } else if (col > 0) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, (size_t)wl, f);
        col += wl;
        p = e;
        while (*p == ' ') p++;
    }
}

void
sm_tool_print_usage(FILE *f, const sm_tool_opt_t *t)
{
    fprintf(f, "%-41s%s\n", "Option", "Description");
    fprintf(f, "%-41s%s\n", "------", "-----------");
    for (int i = 0; t[i].name; i++) {
        char left[256];
        if (t[i].arg == SM_TOOL_ARG_REQUIRED)
            snprintf(left, sizeof left, "--%s <%s>", t[i].name, t[i].argname ? t[i].argname : "String");
        else if (t[i].arg == SM_TOOL_ARG_OPTIONAL)
            snprintf(left, sizeof left, "--%s [%s]", t[i].name, t[i].argname ? t[i].argname : "String");
        else
            snprintf(left, sizeof left, "--%s", t[i].name);
        if (strlen(left) > 40) fprintf(f, "%s\n%-41s", left, "");
        else fprintf(f, "%-41s", left);
        print_wrapped(f, t[i].doc ? t[i].doc : "", 41, 39);
        fputc('\n', f);
    }
}

int
sm_tool_parse_int(const char *s, int32_t *out)
{
    int64_t v;
    if (!s || sm_parse_i64(s, &v) || v < INT32_MIN || v > INT32_MAX) return -1;
    *out = (int32_t)v;
    return 0;
}

/* ---- common front end --------------------------------------------------- */

void
sm_tool_usage_die(const sm_tool_opt_t *opts, const char *msg)
{
    fprintf(stderr, "%s\n", msg);
    sm_tool_print_usage(stderr, opts);
    exit(1);
}

void
sm_tool_cli_parse(const sm_tool_cli_t *cli, sm_tool_args_t *a, int argc, char **argv)
{
    char err[512];
    if (sm_tool_args_parse(a, cli->opts, argc, argv, err, sizeof err)) {
        if (cli->usage_on_bad_args) sm_tool_usage_die(cli->opts, err);
        fprintf(stderr, "%s\nTry '%s --help' for the list of options.\n", err, argv[0]);
        exit(1);
    }
    if (argc <= 1) sm_tool_usage_die(cli->opts, cli->no_args_msg);
    if (sm_tool_has(a, "help")) {
        if (cli->help_header) printf("%s\n", cli->help_header);
        sm_tool_print_usage(stdout, cli->opts);
        exit(0);
    }
    if (sm_tool_has(a, "version")) {
        printf("%s (%s)\n", PACKAGE_VERSION, cli->version_tag);
        exit(0);
    }
}

void
sm_tool_check_required(const sm_tool_args_t *a, const char *opt)
{
    if (sm_tool_has(a, opt)) return;
    char msg[128];
    snprintf(msg, sizeof msg, "Missing required argument \"[%s]\"", opt);
    sm_tool_usage_die(a->table, msg);
}

void
sm_tool_check_invalid(const sm_tool_args_t *a, const char *opt, const char *const *bad)
{
    if (!sm_tool_has(a, opt)) return;
    for (int i = 0; bad[i]; i++) {
        if (sm_tool_has(a, bad[i])) {
            char msg[256];
            snprintf(msg, sizeof msg, "Option \"[%s]\" can't be used with option \"[%s]\"", opt, bad[i]);
            sm_tool_usage_die(a->table, msg);
        }
    }
}

void
sm_tool_vdie(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    fputs(prefix, f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    exit(1);
}

void
sm_tool_fail(const char *prefix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sm_tool_vdie(stdout, prefix, fmt, ap);
}

void
sm_tool_error_die(const char *msg)
{
    fprintf(stderr, "ERROR %s\n", msg);
    exit(1);
}

volatile sig_atomic_t sm_tool_stop;

static void
on_stop_signal(int sig)
{
    (void)sig;
    sm_tool_stop = 1;
}

void
sm_tool_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int
sm_tool_props_add_kvs(sm_props_t *p, char *const *kvs, int n)
{
    for (int i = 0; i < n; i++)
        if (!kvs[i] || sm_props_set_kv(p, kvs[i])) return -1;
    return 0;
}

int
sm_tool_props_remove(sm_props_t *p, const char *key)
{
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!strcmp(p->items[i].key, key)) {
            free(p->items[i].key);
            free(p->items[i].value);
        } else {
            p->items[m++] = p->items[i];
        }
    }
    int removed = (int)(p->n - m);
    p->n = m;
    return removed;
}

void
sm_tool_warn_message_format(const sm_props_t *configs)
{
    const char *mfv = sm_props_get(configs, "message.format.version");
    if (mfv)
        printf("WARNING: The configuration message.format.version=%s is specified. This configuration will be ignored "
               "if the version is newer than the inter.broker.protocol.version specified in the broker.\n", mfv);
}

int
sm_tool_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sm_tool_cmp_tp(const char *t1, int32_t p1, const char *t2, int32_t p2)
{
    int c = strcmp(t1, t2);
    return c ? c : (p1 > p2) - (p1 < p2);
}

/* ---- ZooKeeper ----------------------------------------------------------- */

sm_zk_t *
sm_tool_zk_open(const char *connect, int timeout_ms, char *errstr, size_t errlen)
{
    *errstr = '\0';
    sm_zk_t *zk = sm_zk_admin_connect(connect, timeout_ms, errstr, errlen);
    if (!zk && !*errstr) snprintf(errstr, errlen, "Timed out waiting for connection while in state: CONNECTING");
    return zk;
}

int
sm_tool_zk_broker_ids(sm_zk_t *zk, int32_t **ids, int *n)
{
    sm_broker_info_t *b = NULL;
    int nb = 0;
    if (sm_zk_admin_list_brokers(zk, &b, &nb) < 0) return -1;
    *ids = sm_calloc((size_t)nb + 1, sizeof(int32_t));
    for (int i = 0; i < nb; i++) {
        (*ids)[i] = b[i].id;
        sm_broker_info_free(&b[i]);
    }
    free(b);
    *n = nb;
    return 0;
}

/* ---- kafka-topics.sh formatting --------------------------------------- */

sm_tool_fmt_t
sm_tool_fmt_from_env(void)
{
    const char *v = getenv("SAMSA_KAFKA_VERSION");
    if (!v || strncmp(v, "2.", 2)) return SM_TOOL_FMT_28;
    int minor = atoi(v + 2);
    if (minor < 4) return SM_TOOL_FMT_20;
    if (minor < 8) return SM_TOOL_FMT_24;
    return SM_TOOL_FMT_28;
}

static void
wputs(sm_wbuf_t *w, const char *s)
{
    sm_write_raw(w, s, strlen(s));
}

void
sm_tool_wprintf(sm_wbuf_t *w, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof buf) {
        sm_write_raw(w, buf, (size_t)n);
        return;
    }
    uint8_t *p = sm_wbuf_reserve(w, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

void
sm_tool_fmt_topic_line(sm_wbuf_t *w, sm_tool_fmt_t fmt, const char *topic, const char *topic_id,
                       int32_t npartitions, int32_t rf, const char *configs, int marked)
{
    /* 2.0-2.3 had no space after the colons; 2.4 added it; 2.8 added TopicId. */
    const char *sp = fmt == SM_TOOL_FMT_20 ? "" : " ";
    sm_tool_wprintf(w, "Topic:%s", sp);
    wputs(w, topic);
    if (fmt == SM_TOOL_FMT_28 && topic_id && *topic_id) {
        wputs(w, "\tTopicId: ");
        wputs(w, topic_id);
    }
    sm_tool_wprintf(w, "\tPartitionCount:%s%d\tReplicationFactor:%s%d\tConfigs:%s", sp, npartitions, sp, rf, sp);
    wputs(w, configs ? configs : "");
    if (marked) sm_tool_wprintf(w, "\tMarkedForDeletion:%strue", sp);
    wputs(w, "\n");
}

static void
write_ids(sm_wbuf_t *w, const int32_t *ids, int n)
{
    for (int i = 0; i < n; i++) sm_tool_wprintf(w, i ? ",%d" : "%d", ids[i]);
}

void
sm_tool_fmt_partition_line(sm_wbuf_t *w, const char *topic, int32_t partition, int32_t leader,
                           const int32_t *replicas, int nreplicas, const int32_t *isr, int nisr, int marked)
{
    wputs(w, "\tTopic: ");
    wputs(w, topic);
    sm_tool_wprintf(w, "\tPartition: %d\tLeader: ", partition);
    if (leader >= 0) sm_tool_wprintf(w, "%d", leader);
    else wputs(w, "none");
    wputs(w, "\tReplicas: ");
    write_ids(w, replicas, nreplicas);
    wputs(w, "\tIsr: ");
    write_ids(w, isr, nisr);
    if (marked) wputs(w, "\tMarkedForDeletion: true");
    wputs(w, "\n");
}

char *
sm_tool_join_configs(const sm_props_t *p)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    for (size_t i = 0; i < p->n; i++) {
        if (i) wputs(&w, ",");
        wputs(&w, p->items[i].key);
        wputs(&w, "=");
        wputs(&w, p->items[i].value ? p->items[i].value : "null");
    }
    sm_write_raw(&w, "", 1);
    size_t len;
    return (char *)sm_wbuf_steal(&w, &len);
}

void
sm_tool_assignment_free(sm_topic_assignment_t *a)
{
    if (a->replicas)
        for (int32_t i = 0; i < a->npartitions; i++) free(a->replicas[i]);
    free(a->replicas);
    free(a->nreplicas);
    free(a->topic_id);
    memset(a, 0, sizeof *a);
}

/* Java's String.trim().toInt on one broker id. */
static int
parse_trimmed_int(const char *s, size_t n, int32_t *out)
{
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0 || n > 11) return -1;
    char buf[16];
    memcpy(buf, s, n);
    buf[n] = '\0';
    return sm_tool_parse_int(buf, out);
}

int
sm_tool_parse_replica_assignment(const char *s, sm_topic_assignment_t *out, char *errstr, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int32_t np = 1;
    for (const char *p = s; *p; p++)
        if (*p == ',') np++;
    out->nreplicas = sm_calloc((size_t)np, sizeof(int32_t));
    out->replicas = sm_calloc((size_t)np, sizeof(int32_t *));
    out->npartitions = np;
    const char *part = s;
    for (int32_t i = 0; i < np; i++) {
        const char *pend = strchr(part, ',');
        if (!pend) pend = part + strlen(part);
        int32_t nr = 1;
        for (const char *p = part; p < pend; p++)
            if (*p == ':') nr++;
        out->replicas[i] = sm_calloc((size_t)nr, sizeof(int32_t));
        out->nreplicas[i] = nr;
        const char *r = part;
        for (int32_t j = 0; j < nr; j++) {
            const char *rend = memchr(r, ':', (size_t)(pend - r));
            if (!rend) rend = pend;
            if (parse_trimmed_int(r, (size_t)(rend - r), &out->replicas[i][j])) {
                snprintf(errstr, errlen, "For input string: \"%.*s\"", (int)SM_MIN(rend - r, 64), r);
                goto fail;
            }
            for (int32_t k = 0; k < j; k++)
                if (out->replicas[i][k] == out->replicas[i][j]) {
                    snprintf(errstr, errlen, "Partition replica lists may not contain duplicate entries: %d",
                             out->replicas[i][j]);
                    goto fail;
                }
            r = rend + 1;
        }
        if (nr != out->nreplicas[0]) {
            int off = snprintf(errstr, errlen, "Partition %d has different replication factor: ", i);
            for (int32_t j = 0; j < nr && off > 0 && (size_t)off < errlen; j++)
                off += snprintf(errstr + off, errlen - (size_t)off, j ? ",%d" : "%d", out->replicas[i][j]);
            goto fail;
        }
        part = pend + 1;
    }
    return 0;
fail:
    sm_tool_assignment_free(out);
    return -1;
}

/* Kafka 2.8 LogConfig.configNames, sorted. */
static const char *const topic_configs[] = {
    "cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms",
    "flush.messages", "flush.ms", "follower.replication.throttled.replicas", "index.interval.bytes",
    "leader.replication.throttled.replicas", "max.compaction.lag.ms", "max.message.bytes",
    "message.downconversion.enable", "message.format.version", "message.timestamp.difference.max.ms",
    "message.timestamp.type", "min.cleanable.dirty.ratio", "min.compaction.lag.ms",
    "min.insync.replicas", "preallocate", "retention.bytes", "retention.ms", "segment.bytes",
    "segment.index.bytes", "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable",
    NULL,
};

int
sm_tool_topic_config_known(const char *name)
{
    for (int i = 0; topic_configs[i]; i++)
        if (!strcmp(topic_configs[i], name)) return 1;
    return 0;
}

static char *
trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return sm_strndup(s, n);
}

int
sm_tool_parse_topic_configs(char **kvs, int n, sm_props_t *out, char *errstr, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const char *kv = kvs[i] ? kvs[i] : "";
        const char *eq = strchr(kv, '=');
        /* Kafka splits on \s*=\s* and insists on exactly two parts. */
        if (!eq || strchr(eq + 1, '=') || eq == kv || eq[1] == '\0') {
            snprintf(errstr, errlen, "Invalid topic config: all configs to be added must be in the format \"key=val\".");
            return -1;
        }
        char *k = trim_dup(kv, (size_t)(eq - kv));
        char *v = trim_dup(eq + 1, strlen(eq + 1));
        if (!sm_tool_topic_config_known(k)) {
            snprintf(errstr, errlen, "Unknown topic config name: %s", k);
            free(k);
            free(v);
            return -1;
        }
        sm_props_set(out, k, v);
        free(k);
        free(v);
    }
    return 0;
}

int
sm_tool_topic_is_internal(const char *t)
{
    return !strcmp(t, "__consumer_offsets") || !strcmp(t, "__transaction_state");
}

int sm_tool_topic_has_collision_chars(const char *t) { return strchr(t, '.') || strchr(t, '_'); }

int
sm_tool_filter_init(sm_tool_filter_t *f, const char *pattern, char *errstr, size_t errlen)
{
    /* IncludeList: strip spaces, commas become alternation, drop quotes. */
    sm_wbuf_t w;
    sm_wbuf_init(&w, strlen(pattern) + 8);
    wputs(&w, "^(");
    size_t plen = strlen(pattern);
    size_t b = 0, e = plen;
    if (plen >= 2 && ((pattern[0] == '"' && pattern[plen - 1] == '"') ||
                      (pattern[0] == '\'' && pattern[plen - 1] == '\''))) {
        b = 1;
        e = plen - 1;
    }
    for (size_t i = b; i < e; i++) {
        char c = pattern[i];
        if (c == ' ') continue;
        sm_write_raw(&w, c == ',' ? "|" : &pattern[i], 1);
    }
    wputs(&w, ")$");
    sm_write_raw(&w, "", 1);
    f->ok = 0;
    int rc = regcomp(&f->re, (const char *)w.data, REG_EXTENDED | REG_NOSUB);
    sm_wbuf_free(&w);
    if (rc != 0) {
        snprintf(errstr, errlen, "%s is an invalid regex.", pattern);
        return -1;
    }
    f->ok = 1;
    return 0;
}

int sm_tool_filter_match(const sm_tool_filter_t *f, const char *t) { return f->ok && regexec(&f->re, t, 0, NULL, 0) == 0; }

void
sm_tool_filter_free(sm_tool_filter_t *f)
{
    if (f->ok) regfree(&f->re);
    f->ok = 0;
}

/* ---- property mapping -------------------------------------------------- */

const char *
sm_tool_compression_name(const char *c)
{
    static const char *const names[] = { "none", "gzip", "snappy", "lz4", "zstd" };
    if (!c) return NULL;
    for (size_t i = 0; i < SM_ARRAY_SIZE(names); i++)
        if (!strcasecmp(c, names[i])) return names[i];
    if (c[0] >= '0' && c[0] <= '4' && c[1] == '\0') return names[c[0] - '0'];
    if (!strcasecmp(c, "uncompressed")) return "none";
    return NULL;
}

typedef struct { const char *from, *to; } key_alias_t;

static sm_tool_map_t
set_out(const char *k, const char *v, const char **ok, char *ov, size_t olen)
{
    *ok = k;
    snprintf(ov, olen, "%s", v);
    return SM_TOOL_MAP_SET;
}

/* Java-client and old-client keys whose value passes through unchanged. */
static const key_alias_t common_aliases[] = {
    { "metadata.broker.list", "bootstrap.servers" },
    { "send.buffer.bytes", "socket.send.buffer.bytes" },
    { "receive.buffer.bytes", "socket.receive.buffer.bytes" },
    { NULL, NULL },
};

/* Keys that only make sense for the JVM clients. */
static const char *const jvm_only[] = {
    "key.serializer", "value.serializer", "serializer.class", "key.serializer.class",
    "partitioner.class", "key.deserializer", "value.deserializer", "derializer.class",
    "deserializer.class", "interceptor.classes", "max.block.ms", "buffer.memory",
    "queue.enqueue.timeout.ms", "compressed.topics", "zookeeper.connect",
    "zookeeper.session.timeout.ms", "zookeeper.connection.timeout.ms", "zookeeper.sync.time.ms",
    "consumer.id", "conusmer.id", "queued.max.message.chunks", "rebalance.max.retries",
    "rebalance.backoff.ms", "consumer.timeout.ms", "exclude.internal.topics", "max.poll.records",
    "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type", "ssl.keystore.type",
    "sasl.jaas.config", "metric.reporters", "metrics.num.samples", "metrics.sample.window.ms",
    NULL,
};

static int
in_list(const char *const *l, const char *k)
{
    for (int i = 0; l[i]; i++)
        if (!strcmp(l[i], k)) return 1;
    return 0;
}

static sm_tool_map_t
map_common(const char *key, const char *value, const char **ok, char *ov, size_t olen)
{
    for (int i = 0; common_aliases[i].from; i++)
        if (!strcmp(key, common_aliases[i].from)) return set_out(common_aliases[i].to, value, ok, ov, olen);
    if (in_list(jvm_only, key)) return SM_TOOL_MAP_WARN;
    return set_out(key, value, ok, ov, olen);
}

sm_tool_map_t
sm_tool_map_producer_prop(const char *key, const char *value, const char **ok, char *ov, size_t olen, int *sync)
{
    if (!value) value = "";
    if (!strcmp(key, "request.required.acks")) return set_out("acks", value, ok, ov, olen);
    if (!strcmp(key, "message.send.max.retries")) return set_out("retries", value, ok, ov, olen);
    if (!strcmp(key, "queue.buffering.max.ms")) return set_out("linger.ms", value, ok, ov, olen);
    if (!strcmp(key, "delivery.timeout.ms")) return set_out("message.timeout.ms", value, ok, ov, olen);
    if (!strcmp(key, "compression.codec") || !strcmp(key, "compression.type")) {
        const char *c = sm_tool_compression_name(value);
        if (!c) {
            snprintf(ov, olen, "Invalid value %s for configuration %s", value, key);
            return SM_TOOL_MAP_BAD;
        }
        return set_out("compression.type", c, ok, ov, olen);
    }
    if (!strcmp(key, "producer.type")) {
        if (!strcmp(value, "sync")) {
            *sync = 1;
            return set_out("linger.ms", "0", ok, ov, olen);
        }
        if (!strcmp(value, "async")) return SM_TOOL_MAP_IGNORE;
        snprintf(ov, olen, "Invalid value %s for configuration %s", value, key);
        return SM_TOOL_MAP_BAD;
    }
    if (!strcmp(key, "batch.size")) {
        /* Java batch.size is bytes per partition batch; librdkafka has the same key. */
        return set_out("batch.size", value, ok, ov, olen);
    }
    return map_common(key, value, ok, ov, olen);
}

sm_tool_map_t
sm_tool_map_consumer_prop(const char *key, const char *value, const char **ok, char *ov, size_t olen)
{
    if (!value) value = "";
    if (!strcmp(key, "auto.offset.reset")) {
        const char *v = value;
        if (!strcmp(v, "smallest")) v = "earliest";
        else if (!strcmp(v, "largest")) v = "latest";
        else if (strcmp(v, "earliest") && strcmp(v, "latest") && strcmp(v, "none") && strcmp(v, "error")) {
            snprintf(ov, olen, "Invalid value %s for configuration auto.offset.reset", value);
            return SM_TOOL_MAP_BAD;
        }
        if (!strcmp(v, "none")) v = "error";
        return set_out("auto.offset.reset", v, ok, ov, olen);
    }
    if (!strcmp(key, "auto.commit.enable")) return set_out("enable.auto.commit", value, ok, ov, olen);
    if (!strcmp(key, "fetch.max.wait.ms")) return set_out("fetch.wait.max.ms", value, ok, ov, olen);
    return map_common(key, value, ok, ov, olen);
}

/* ---- console producer ---------------------------------------------------- */

int
sm_tool_split_key(const char *line, size_t len, const char *sep, size_t *keylen, const char **value, size_t *vallen)
{
    size_t sl = strlen(sep);
    if (sl == 0 || sl > len) return 0;
    const char *p = memmem(line, len, sep, sl);
    if (!p) return 0;
    *keylen = (size_t)(p - line);
    *value = p + sl;
    *vallen = len - *keylen - sl;
    return 1;
}

/* ---- console consumer ---------------------------------------------------- */

static int
prop_bool(const sm_props_t *p, const char *k, int def)
{
    const char *v = p ? sm_props_get(p, k) : NULL;
    if (!v) return def;
    while (isspace((unsigned char)*v)) v++;
    size_t n = strlen(v);
    while (n && isspace((unsigned char)v[n - 1])) n--;
    return n == 4 && !strncasecmp(v, "true", 4);
}

static char *
prop_str(const sm_props_t *p, const char *k, const char *def)
{
    const char *v = p ? sm_props_get(p, k) : NULL;
    return sm_strdup(v ? v : def);
}

void
sm_tool_fmtopts_init(sm_tool_fmtopts_t *o, const sm_props_t *p)
{
    o->print_timestamp = prop_bool(p, "print.timestamp", 0);
    o->print_partition = prop_bool(p, "print.partition", 0);
    o->print_offset = prop_bool(p, "print.offset", 0);
    o->print_headers = prop_bool(p, "print.headers", 0);
    o->print_key = prop_bool(p, "print.key", 0);
    o->print_value = prop_bool(p, "print.value", 1);
    o->key_separator = prop_str(p, "key.separator", "\t");
    o->line_separator = prop_str(p, "line.separator", "\n");
    o->headers_separator = prop_str(p, "headers.separator", ",");
    o->null_literal = prop_str(p, "null.literal", "null");
}

void
sm_tool_fmtopts_free(sm_tool_fmtopts_t *o)
{
    free(o->key_separator);
    free(o->line_separator);
    free(o->headers_separator);
    free(o->null_literal);
    memset(o, 0, sizeof *o);
}

/* After a field Kafka writes the column separator if another field follows,
 * otherwise the line separator. */
static void
sep(sm_wbuf_t *w, const sm_tool_fmtopts_t *o, int more)
{
    wputs(w, more ? o->key_separator : o->line_separator);
}

void
sm_tool_format_record(sm_wbuf_t *w, const sm_tool_fmtopts_t *o, int ts_type, int64_t ts, int32_t partition,
                      int64_t offset, const sm_tool_header_t *h, int nh, const void *key, size_t keylen,
                      const void *value, size_t vallen)
{
    if (o->print_timestamp) {
        if (ts_type == SM_TOOL_TS_CREATE) sm_tool_wprintf(w, "CreateTime:%lld", (long long)ts);
        else if (ts_type == SM_TOOL_TS_LOGAPPEND) sm_tool_wprintf(w, "LogAppendTime:%lld", (long long)ts);
        else wputs(w, "NO_TIMESTAMP");
        sep(w, o, o->print_partition || o->print_offset || o->print_headers || o->print_key || o->print_value);
    }
    if (o->print_partition) {
        sm_tool_wprintf(w, "Partition:%d", partition);
        sep(w, o, o->print_offset || o->print_headers || o->print_key || o->print_value);
    }
    if (o->print_offset) {
        sm_tool_wprintf(w, "Offset:%lld", (long long)offset);
        sep(w, o, o->print_headers || o->print_key || o->print_value);
    }
    if (o->print_headers) {
        if (nh == 0) wputs(w, "NO_HEADERS");
        for (int i = 0; i < nh; i++) {
            if (i) wputs(w, o->headers_separator);
            if (h[i].key) sm_write_raw(w, h[i].key, h[i].keylen);
            wputs(w, ":");
            if (h[i].value) sm_write_raw(w, h[i].value, h[i].vallen);
            else wputs(w, o->null_literal);
        }
        sep(w, o, o->print_key || o->print_value);
    }
    if (o->print_key) {
        if (key) sm_write_raw(w, key, keylen);
        else wputs(w, o->null_literal);
        sep(w, o, o->print_value);
    }
    if (o->print_value) {
        if (value) sm_write_raw(w, value, vallen);
        else wputs(w, o->null_literal);
        wputs(w, o->line_separator);
    }
}

int
sm_tool_parse_offset(const char *s, int64_t *out)
{
    if (!s) return -1;
    if (!strcasecmp(s, "earliest")) { *out = -2; return 0; }
    if (!strcasecmp(s, "latest")) { *out = -1; return 0; }
    int64_t v;
    if (sm_parse_i64(s, &v) || v < 0) return -1;
    *out = v;
    return 0;
}

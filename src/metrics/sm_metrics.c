/*
 * sm_metrics.c - counters (per topic and per request type), the topic
 * registry, the latency histograms and quantile window, the exposition
 * writer helpers, and process metrics from /proc.
 *
 * The topic registry is an open-addressing table of pointers that only
 * ever grows: a slot goes from NULL to an entry once (compare-and-swap) and
 * entries are never freed while the broker runs, so readers and writers
 * need no lock. A deleted topic's entry stays; the renderer hides it
 * through the filter callback.
 *
 * Latency: every request type has cumulative histogram buckets (exported as
 * a Prometheus histogram in seconds) and a ring of WIN_SLICES slices of
 * WIN_SLICE_MS each, from which the compatibility summary's quantiles are
 * computed over roughly the last minute, the way Kafka's Yammer histograms
 * favour recent samples. A slice is recycled by whichever writer first
 * sees it stale; a concurrent increment may be lost at that moment, which
 * only makes a quantile approximate.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "core/sm_util.h"
#include "metrics/sm_metrics.h"
#include "proto/sm_proto.h"

#define RELAXED __ATOMIC_RELAXED
#define ADD(p, v) __atomic_add_fetch((p), (v), RELAXED)
#define LOAD(p) __atomic_load_n((p), RELAXED)

/* ---------------------------------------------------------------------
 * Exposition writer
 */

static void
put(sm_wbuf_t *w, const char *s)
{
    sm_write_raw(w, s, strlen(s));
}

static void
put_escaped(sm_wbuf_t *w, const char *s, int quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\') rep = "\\\\";
        else if (*s == '\n') rep = "\\n";
        else if (*s == '"' && quote) rep = "\\\"";
        if (!rep) continue;
        sm_write_raw(w, run, (size_t)(s - run));
        put(w, rep);
        run = s + 1;
    }
    sm_write_raw(w, run, (size_t)(s - run));
}

void
sm_prom_escape(sm_wbuf_t *w, const char *s)
{
    put_escaped(w, s, 1);
}

void
sm_prom_family(sm_wbuf_t *w, const char *name, const char *type, const char *help)
{
    put(w, "# HELP ");
    put(w, name);
    put(w, " ");
    put_escaped(w, help, 0);
    put(w, "\n# TYPE ");
    put(w, name);
    put(w, " ");
    put(w, type);
    put(w, "\n");
}

static void
sample_head(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels)
{
    put(w, name);
    if (nlabels > 0) {
        put(w, "{");
        for (int i = 0; i < nlabels; i++) {
            if (i) put(w, ",");
            put(w, labels[i].name);
            put(w, "=\"");
            put_escaped(w, labels[i].value ? labels[i].value : "", 1);
            put(w, "\"");
        }
        put(w, "}");
    }
    put(w, " ");
}

void
sm_prom_u64(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels, uint64_t v)
{
    char num[32];
    sample_head(w, name, labels, nlabels);
    snprintf(num, sizeof(num), "%llu\n", (unsigned long long)v);
    put(w, num);
}

void
sm_prom_i64(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels, int64_t v)
{
    char num[32];
    sample_head(w, name, labels, nlabels);
    snprintf(num, sizeof(num), "%lld\n", (long long)v);
    put(w, num);
}

void
sm_prom_double(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels, double v)
{
    char num[40];
    sample_head(w, name, labels, nlabels);
    if (isnan(v)) snprintf(num, sizeof(num), "NaN\n");
    else if (isinf(v)) snprintf(num, sizeof(num), "%s\n", v > 0 ? "+Inf" : "-Inf");
    else {
        /* Shortest form that reads back as the same double. */
        snprintf(num, sizeof(num), "%.15g", v);
        if (strtod(num, NULL) != v) snprintf(num, sizeof(num), "%.17g", v);
        strcat(num, "\n");
    }
    put(w, num);
}

/* ---------------------------------------------------------------------
 * Topic registry and BrokerTopicMetrics
 */

#define TOPIC_SLOTS 32768            /* power of two, > SM_METRICS_MAX_TOPICS */

static sm_topic_metrics_t all_topics;
static sm_topic_metrics_t *topic_table[TOPIC_SLOTS];
static int topic_count;              /* atomic */
static uint64_t topics_dropped;      /* atomic: updates for topics over the cap */

static uint32_t
fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) { h ^= (uint8_t)s[i]; h *= 16777619u; }
    return h;
}

sm_topic_metrics_t *
sm_metrics_topic(const char *topic, size_t len)
{
    uint32_t h = fnv1a(topic, len);
    for (uint32_t n = 0, i = h & (TOPIC_SLOTS - 1); n < TOPIC_SLOTS; n++, i = (i + 1) & (TOPIC_SLOTS - 1)) {
        sm_topic_metrics_t *t = __atomic_load_n(&topic_table[i], __ATOMIC_ACQUIRE);
        if (!t) {
            if (__atomic_load_n(&topic_count, RELAXED) >= SM_METRICS_MAX_TOPICS) {
                ADD(&topics_dropped, 1);
                return NULL;
            }
            sm_topic_metrics_t *nt = sm_calloc(1, sizeof(*nt));
            nt->name = sm_strndup(topic, len);
            nt->len = len;
            nt->hash = h;
            sm_topic_metrics_t *expected = NULL;
            if (__atomic_compare_exchange_n(&topic_table[i], &expected, nt, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                ADD(&topic_count, 1);
                return nt;
            }
            /* Another thread filled the slot first: maybe with our topic. */
            free(nt->name);
            free(nt);
            t = expected;
        }
        if (t->hash == h && t->len == len && memcmp(t->name, topic, len) == 0) return t;
    }
    ADD(&topics_dropped, 1);
    return NULL;
}

void
sm_metrics_produce(const char *topic, int err, uint64_t messages, uint64_t bytes)
{
    sm_topic_metrics_t *t = sm_metrics_topic(topic, strlen(topic));
    ADD(&all_topics.produce_total, 1);
    if (t) ADD(&t->produce_total, 1);
    if (err == 0) {
        ADD(&all_topics.messages_in, messages);
        ADD(&all_topics.bytes_in, bytes);
        if (t) { ADD(&t->messages_in, messages); ADD(&t->bytes_in, bytes); }
    } else if (err != SM_ERR_NOT_LEADER_OR_FOLLOWER) {
        ADD(&all_topics.produce_failed, 1);
        if (t) ADD(&t->produce_failed, 1);
    }
}

void
sm_metrics_fetch(const char *topic, int err, int follower, uint64_t bytes)
{
    sm_topic_metrics_t *t = sm_metrics_topic(topic, strlen(topic));
    ADD(&all_topics.fetch_total, 1);
    if (t) ADD(&t->fetch_total, 1);
    if (err == 0) {
        uint64_t *a = follower ? &all_topics.repl_bytes_out : &all_topics.bytes_out;
        ADD(a, bytes);
        if (t) ADD(follower ? &t->repl_bytes_out : &t->bytes_out, bytes);
    } else if (err != SM_ERR_NOT_LEADER_OR_FOLLOWER) {
        ADD(&all_topics.fetch_failed, 1);
        if (t) ADD(&t->fetch_failed, 1);
    }
}

/* ---------------------------------------------------------------------
 * Request metrics
 */

const int64_t sm_metrics_bucket_us[SM_METRICS_NBUCKETS - 1] = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000,
};

#define WIN_SLICES 6
#define WIN_SLICE_MS 10000

typedef struct {
    int64_t id;                      /* now_ms / WIN_SLICE_MS this slice counts */
    uint64_t b[SM_METRICS_NBUCKETS];
} slice_t;

typedef struct {
    uint64_t requests[SM_METRICS_NVERSIONS];
    uint64_t buckets[SM_METRICS_NBUCKETS];   /* per bucket, not cumulative */
    uint64_t sum_ns;
    uint64_t count;
    slice_t win[WIN_SLICES];
} slot_metrics_t;

static slot_metrics_t slots[SM_METRICS_NSLOTS];

const char *
sm_metrics_slot_name(int slot)
{
    if (slot == SM_METRICS_FETCH_CONSUMER) return "FetchConsumer";
    if (slot == SM_METRICS_FETCH_FOLLOWER) return "FetchFollower";
    if (slot < 0 || slot >= SM_METRICS_NKEYS || slot >= SM_API__CNT) return NULL;
    const char *n = sm_api_name((int16_t)slot);
    return strcmp(n, "Unknown") ? n : NULL;
}

static int64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
sm_metrics_request_begin(sm_metrics_req_t *m, int16_t api_key, int16_t api_version, const uint8_t *body, size_t len)
{
    m->start_ns = 0;
    if (api_key < 0 || api_key >= SM_METRICS_NKEYS || api_key >= SM_API__CNT) return;
    int slot = api_key;
    if (api_key == SM_API_FETCH) {
        /* replica_id is the first body field of every Fetch version. */
        int32_t replica_id = len >= 4 ? (int32_t)sm_be32(body) : -1;
        slot = replica_id >= 0 ? SM_METRICS_FETCH_FOLLOWER : SM_METRICS_FETCH_CONSUMER;
    }
    if (api_version >= 0 && api_version < SM_METRICS_NVERSIONS) ADD(&slots[slot].requests[api_version], 1);
    m->slot = (int16_t)slot;
    m->start_ns = mono_ns();
}

static int
bucket_of(int64_t us)
{
    int i = 0;
    while (i < SM_METRICS_NBUCKETS - 1 && us > sm_metrics_bucket_us[i]) i++;
    return i;
}

void
sm_metrics_request_observe(int slot, int64_t ns, int64_t now_ms)
{
    if (slot < 0 || slot >= SM_METRICS_NSLOTS) return;
    if (ns < 0) ns = 0;
    slot_metrics_t *s = &slots[slot];
    int b = bucket_of(ns / 1000);
    ADD(&s->buckets[b], 1);
    ADD(&s->sum_ns, (uint64_t)ns);
    ADD(&s->count, 1);
    int64_t id = now_ms / WIN_SLICE_MS;
    slice_t *sl = &s->win[id % WIN_SLICES];
    int64_t old = __atomic_load_n(&sl->id, __ATOMIC_ACQUIRE);
    if (old < id && __atomic_compare_exchange_n(&sl->id, &old, id, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        for (int i = 0; i < SM_METRICS_NBUCKETS; i++) __atomic_store_n(&sl->b[i], 0, RELAXED);
    ADD(&sl->b[b], 1);
}

void
sm_metrics_request_end(sm_metrics_req_t *m)
{
    if (!m->start_ns) return;
    int64_t ns = mono_ns() - m->start_ns;
    m->start_ns = 0;
    sm_metrics_request_observe(m->slot, ns, sm_mono_ms());
}

double
sm_metrics_quantile_ms(const uint64_t *b, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < SM_METRICS_NBUCKETS; i++) total += b[i];
    if (total == 0) return NAN;
    double rank = q * (double)total, cum = 0;
    for (int i = 0; i < SM_METRICS_NBUCKETS; i++) {
        double next = cum + (double)b[i];
        if (b[i] && next >= rank) {
            if (i == SM_METRICS_NBUCKETS - 1) return (double)sm_metrics_bucket_us[i - 1] / 1000.0;
            double lo = i ? (double)sm_metrics_bucket_us[i - 1] : 0, hi = (double)sm_metrics_bucket_us[i];
            double frac = (rank - cum) / (double)b[i];
            if (frac < 0) frac = 0;
            return (lo + (hi - lo) * frac) / 1000.0;
        }
        cum = next;
    }
    return (double)sm_metrics_bucket_us[SM_METRICS_NBUCKETS - 2] / 1000.0;
}

/* ---------------------------------------------------------------------
 * Rendering
 */

typedef struct {
    const char *name;
    const char *help;
    size_t off;
} topic_family_t;

#define TF(field) offsetof(sm_topic_metrics_t, field)
static const topic_family_t topic_families[] = {
    { "kafka_server_brokertopicmetrics_messagesin_total", "Records appended by producers (MessagesInPerSec)", TF(messages_in) },
    { "kafka_server_brokertopicmetrics_bytesin_total", "Record batch bytes appended by producers (BytesInPerSec)", TF(bytes_in) },
    { "kafka_server_brokertopicmetrics_bytesout_total", "Record bytes sent to consumers (BytesOutPerSec)", TF(bytes_out) },
    { "kafka_server_brokertopicmetrics_replicationbytesout_total", "Record bytes sent to follower replicas (ReplicationBytesOutPerSec)", TF(repl_bytes_out) },
    { "kafka_server_brokertopicmetrics_totalproducerequests_total", "Partition produce requests (TotalProduceRequestsPerSec)", TF(produce_total) },
    { "kafka_server_brokertopicmetrics_totalfetchrequests_total", "Partition fetch requests (TotalFetchRequestsPerSec)", TF(fetch_total) },
    { "kafka_server_brokertopicmetrics_failedproducerequests_total", "Failed partition produce requests (FailedProduceRequestsPerSec)", TF(produce_failed) },
    { "kafka_server_brokertopicmetrics_failedfetchrequests_total", "Failed partition fetch requests (FailedFetchRequestsPerSec)", TF(fetch_failed) },
};

static uint64_t
field(const sm_topic_metrics_t *t, size_t off)
{
    return LOAD((const uint64_t *)((const char *)t + off));
}

static void
render_topics(sm_wbuf_t *w, sm_metrics_topic_filter_fn filter, void *arg)
{
    /* Which registered topics are shown: decided once per scrape. */
    uint8_t *show = sm_calloc(TOPIC_SLOTS, 1);
    for (int i = 0; i < TOPIC_SLOTS; i++) {
        sm_topic_metrics_t *t = __atomic_load_n(&topic_table[i], __ATOMIC_ACQUIRE);
        show[i] = t && (!filter || filter(t->name, arg));
    }
    for (size_t f = 0; f < SM_ARRAY_SIZE(topic_families); f++) {
        const topic_family_t *tf = &topic_families[f];
        sm_prom_family(w, tf->name, "counter", tf->help);
        sm_prom_u64(w, tf->name, NULL, 0, field(&all_topics, tf->off));
        for (int i = 0; i < TOPIC_SLOTS; i++) {
            if (!show[i]) continue;
            sm_topic_metrics_t *t = __atomic_load_n(&topic_table[i], __ATOMIC_ACQUIRE);
            sm_prom_label_t l = { "topic", t->name };
            sm_prom_u64(w, tf->name, &l, 1, field(t, tf->off));
        }
    }
    free(show);
    sm_prom_family(w, "samsa_metrics_topics", "gauge", "Topics with their own throughput series");
    sm_prom_i64(w, "samsa_metrics_topics", NULL, 0, __atomic_load_n(&topic_count, RELAXED));
    sm_prom_family(w, "samsa_metrics_topics_dropped_total", "counter",
                   "Topic updates counted only in the totals because the topic registry is full");
    sm_prom_u64(w, "samsa_metrics_topics_dropped_total", NULL, 0, LOAD(&topics_dropped));
}

static void
render_requests(sm_wbuf_t *w, int64_t now_ms)
{
    static const double quantiles[] = { 0.50, 0.75, 0.95, 0.98, 0.99, 0.999 };
    static const char *qnames[] = { "0.5", "0.75", "0.95", "0.98", "0.99", "0.999" };
    char ver[16], le[32];

    const char *reqs = "kafka_network_requestmetrics_requests_total";
    sm_prom_family(w, reqs, "counter", "Requests received, by request type and version (RequestsPerSec)");
    for (int s = 0; s < SM_METRICS_NSLOTS; s++) {
        const char *name = sm_metrics_slot_name(s);
        if (!name) continue;
        for (int v = 0; v < SM_METRICS_NVERSIONS; v++) {
            uint64_t n = LOAD(&slots[s].requests[v]);
            if (!n) continue;
            snprintf(ver, sizeof(ver), "%d", v);
            sm_prom_label_t l[2] = { { "request", name }, { "version", ver } };
            sm_prom_u64(w, reqs, l, 2, n);
        }
    }

    const char *tt = "kafka_network_requestmetrics_totaltimems";
    sm_prom_family(w, tt, "summary",
                   "Time from receiving a request to queueing its response in ms (TotalTimeMs); quantiles over the last minute");
    int64_t cur = now_ms / WIN_SLICE_MS;
    for (int s = 0; s < SM_METRICS_NSLOTS; s++) {
        const char *name = sm_metrics_slot_name(s);
        uint64_t count = LOAD(&slots[s].count);
        if (!name || !count) continue;
        uint64_t recent[SM_METRICS_NBUCKETS] = { 0 };
        for (int k = 0; k < WIN_SLICES; k++) {
            const slice_t *sl = &slots[s].win[k];
            int64_t id = __atomic_load_n(&sl->id, __ATOMIC_ACQUIRE);
            if (id <= cur - WIN_SLICES || id > cur) continue;
            for (int i = 0; i < SM_METRICS_NBUCKETS; i++) recent[i] += LOAD(&sl->b[i]);
        }
        for (size_t q = 0; q < SM_ARRAY_SIZE(quantiles); q++) {
            sm_prom_label_t l[2] = { { "request", name }, { "quantile", qnames[q] } };
            sm_prom_double(w, tt, l, 2, sm_metrics_quantile_ms(recent, quantiles[q]));
        }
        sm_prom_label_t l = { "request", name };
        sm_prom_double(w, "kafka_network_requestmetrics_totaltimems_sum", &l, 1, (double)LOAD(&slots[s].sum_ns) / 1e6);
        sm_prom_u64(w, "kafka_network_requestmetrics_totaltimems_count", &l, 1, count);
    }

    const char *hist = "samsa_network_request_duration_seconds";
    sm_prom_family(w, hist, "histogram", "Time from receiving a request to queueing its response");
    for (int s = 0; s < SM_METRICS_NSLOTS; s++) {
        const char *name = sm_metrics_slot_name(s);
        uint64_t count = LOAD(&slots[s].count);
        if (!name || !count) continue;
        uint64_t cum = 0;
        for (int i = 0; i < SM_METRICS_NBUCKETS; i++) {
            cum += LOAD(&slots[s].buckets[i]);
            if (i < SM_METRICS_NBUCKETS - 1) snprintf(le, sizeof(le), "%g", (double)sm_metrics_bucket_us[i] / 1e6);
            else snprintf(le, sizeof(le), "+Inf");
            sm_prom_label_t l[2] = { { "request", name }, { "le", le } };
            /* Counts read one by one can lag behind; keep +Inf == _count. */
            sm_prom_u64(w, "samsa_network_request_duration_seconds_bucket", l, 2,
                        i == SM_METRICS_NBUCKETS - 1 ? SM_MAX(cum, count) : cum);
        }
        sm_prom_label_t l = { "request", name };
        sm_prom_double(w, "samsa_network_request_duration_seconds_sum", &l, 1, (double)LOAD(&slots[s].sum_ns) / 1e9);
        sm_prom_u64(w, "samsa_network_request_duration_seconds_count", &l, 1, SM_MAX(cum, count));
    }
}

void
sm_metrics_render_counters(sm_wbuf_t *w, int64_t now_ms, sm_metrics_topic_filter_fn filter, void *arg)
{
    render_topics(w, filter, arg);
    render_requests(w, now_ms);
}

/* ---------------------------------------------------------------------
 * Process metrics (what the official client libraries export on Linux)
 */

static int
read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (int)n;
}

void
sm_metrics_render_process(sm_wbuf_t *w)
{
    char buf[4096];
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (tck <= 0) tck = 100;
    if (page <= 0) page = 4096;

    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
    long long rss = 0;
    int have_stat = 0;
    if (read_small("/proc/self/stat", buf, sizeof(buf)) > 0) {
        /* Fields after the command name, which may itself contain ')'. */
        char *p = strrchr(buf, ')');
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                        &utime, &stime, &start, &vsize, &rss) == 5)
            have_stat = 1;
    }
    long long btime = -1;
    if (read_small("/proc/stat", buf, sizeof(buf)) > 0) {
        char *p = strstr(buf, "\nbtime ");
        if (p) btime = atoll(p + 7);
    }
    if (have_stat) {
        sm_prom_family(w, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        sm_prom_double(w, "process_cpu_seconds_total", NULL, 0, (double)(utime + stime) / (double)tck);
        sm_prom_family(w, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        sm_prom_u64(w, "process_virtual_memory_bytes", NULL, 0, vsize);
        sm_prom_family(w, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        sm_prom_i64(w, "process_resident_memory_bytes", NULL, 0, rss * page);
        if (btime >= 0) {
            sm_prom_family(w, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
            sm_prom_double(w, "process_start_time_seconds", NULL, 0, (double)btime + (double)start / (double)tck);
        }
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int64_t n = 0;
        for (struct dirent *e; (e = readdir(d));)
            if (e->d_name[0] != '.') n++;
        closedir(d);
        sm_prom_family(w, "process_open_fds", "gauge", "Number of open file descriptors.");
        sm_prom_i64(w, "process_open_fds", NULL, 0, n - 1);   /* minus the directory's own */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        sm_prom_family(w, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        sm_prom_double(w, "process_max_fds", NULL, 0, rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
    }
}

/* ---------------------------------------------------------------------
 * Tests
 */

void
sm_metrics_reset(void)
{
    for (int i = 0; i < TOPIC_SLOTS; i++) {
        if (!topic_table[i]) continue;
        free(topic_table[i]->name);
        free(topic_table[i]);
        topic_table[i] = NULL;
    }
    topic_count = 0;
    topics_dropped = 0;
    memset(&all_topics, 0, sizeof(all_topics));
    memset(slots, 0, sizeof(slots));
}

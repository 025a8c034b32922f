/*
 * sm_metrics.h - the broker's counters and the Prometheus text exposition
 * (format 0.0.4) they are rendered in.
 *
 * Owns: broker-wide and per-topic throughput counters (Kafka's
 * BrokerTopicMetrics), per-request-type counters and latency histograms
 * (Kafka's RequestMetrics), the topic registry that holds the per-topic
 * counters, process metrics read from /proc, and the small writer helpers
 * every renderer uses (sm_prom_*).
 *
 * Hot path rules: recording never takes a lock and never allocates, except
 * the first time a topic is seen (one allocation per topic, ever). Counters
 * are 64-bit relaxed atomics; rendering reads them without stopping
 * writers, so one scrape may see counters a few increments apart.
 *
 * Names follow what prometheus/jmx_exporter's kafka-2_0_0.yml makes of
 * Kafka's MBeans (…PerSec meters become `_total` counters, lower case), so
 * dashboards and alert rules written against Kafka keep working.
 */
#ifndef SM_METRICS_H
#define SM_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"

/* ---- exposition writer ---- */

typedef struct {
    const char *name;
    const char *value;               /* escaped on output */
} sm_prom_label_t;

/* "# HELP name help\n# TYPE name type\n". type: "counter", "gauge",
 * "summary", "histogram" or "untyped". help is escaped (\\ and \n). */
void sm_prom_family(sm_wbuf_t *w, const char *name, const char *type, const char *help);
/* One sample line: name{labels} value\n. nlabels may be 0 (labels NULL).
 * Integers print exactly; doubles with %.17g, NaN as "NaN", infinities as
 * "+Inf"/"-Inf". */
void sm_prom_u64(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels, uint64_t v);
void sm_prom_i64(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels, int64_t v);
void sm_prom_double(sm_wbuf_t *w, const char *name, const sm_prom_label_t *labels, int nlabels, double v);
/* Append a label value escaped for the exposition format (\\ \" \n). */
void sm_prom_escape(sm_wbuf_t *w, const char *s);

/* ---- per-topic throughput (BrokerTopicMetrics) ---- */

typedef struct sm_topic_metrics_s {
    char *name;                      /* NULL for the all-topics totals */
    size_t len;
    uint32_t hash;
    uint64_t messages_in;            /* MessagesInPerSec */
    uint64_t bytes_in;               /* BytesInPerSec */
    uint64_t bytes_out;              /* BytesOutPerSec (consumers) */
    uint64_t repl_bytes_out;         /* ReplicationBytesOutPerSec (followers) */
    uint64_t produce_total;          /* TotalProduceRequestsPerSec (per partition) */
    uint64_t fetch_total;            /* TotalFetchRequestsPerSec (per partition) */
    uint64_t produce_failed;         /* FailedProduceRequestsPerSec */
    uint64_t fetch_failed;           /* FailedFetchRequestsPerSec */
} sm_topic_metrics_t;

/* Most topics with their own series; later topics count in the totals
 * only (and in samsa_metrics_topics_dropped_total). */
#define SM_METRICS_MAX_TOPICS 24576

/* Counters of a topic, registered on first use. NULL when the registry is
 * full. Any thread; lock-free. The caller must only pass names of topics
 * that exist (so a client cannot grow the registry with junk names). */
sm_topic_metrics_t *sm_metrics_topic(const char *topic, size_t len);

/* Produce of one partition of topic (NUL-terminated), after the partition
 * was found on this broker. err: the partition's result (0 = appended
 * `messages` records in `bytes` bytes). Errors other than
 * NOT_LEADER_OR_FOLLOWER count as failed, as in Kafka. Any thread. */
void sm_metrics_produce(const char *topic, int err, uint64_t messages, uint64_t bytes);
/* Fetch of one partition of topic. follower != 0 for replica fetches
 * (their bytes count as replication bytes out). Any thread. */
void sm_metrics_fetch(const char *topic, int err, int follower, uint64_t bytes);

/* ---- request metrics (RequestMetrics) ---- */

/* Request-type slots: an API key, or the two Fetch flavours Kafka reports
 * separately (FetchConsumer/FetchFollower). */
#define SM_METRICS_NKEYS 68
#define SM_METRICS_FETCH_CONSUMER (SM_METRICS_NKEYS)
#define SM_METRICS_FETCH_FOLLOWER (SM_METRICS_NKEYS + 1)
#define SM_METRICS_NSLOTS (SM_METRICS_NKEYS + 2)
#define SM_METRICS_NVERSIONS 32

/* Per-connection in-flight request timing, kept in the connection context. */
typedef struct {
    int64_t start_ns;                /* monotonic; 0 = nothing in flight */
    int16_t slot;
} sm_metrics_req_t;

/* A request was received: count it (requests_total{request,version}) and
 * start its clock. body/len: the request body after the header, used only
 * to tell consumer from follower Fetch (replica_id). Network thread. */
void sm_metrics_request_begin(sm_metrics_req_t *m, int16_t api_key, int16_t api_version, const uint8_t *body,
                              size_t len);
/* The request was answered (or finished without answer): record its total
 * time. No-op if nothing is in flight. Network thread. */
void sm_metrics_request_end(sm_metrics_req_t *m);
/* Record one request of `slot` that took `ns` nanoseconds, at monotonic
 * time now_ms (what request_end does; exposed for tests). */
void sm_metrics_request_observe(int slot, int64_t ns, int64_t now_ms);
/* Request-type name of a slot ("Produce", "FetchConsumer", ...), NULL if
 * the slot has no name. */
const char *sm_metrics_slot_name(int slot);

/* ---- rendering ---- */

/* Decide whether a registered topic still has series (deleted topics are
 * hidden); NULL keeps every topic. */
typedef int (*sm_metrics_topic_filter_fn)(const char *topic, void *arg);

/* BrokerTopicMetrics, RequestMetrics and the registry's own counters.
 * now_ms: monotonic clock for the quantile window (sm_mono_ms()). Any
 * thread; the filter is called once per registered topic. */
void sm_metrics_render_counters(sm_wbuf_t *w, int64_t now_ms, sm_metrics_topic_filter_fn filter, void *arg);
/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds (the standard client's names), from /proc. */
void sm_metrics_render_process(sm_wbuf_t *w);

/* Approximate quantile q (0..1) in ms from per-bucket (not cumulative)
 * counts over the request-latency bounds, interpolating linearly inside a
 * bucket (exposed for tests). NaN when every count is 0. */
double sm_metrics_quantile_ms(const uint64_t *buckets, double q);
/* Bucket upper bounds in microseconds; the last bucket is +Inf. */
#define SM_METRICS_NBUCKETS 21
extern const int64_t sm_metrics_bucket_us[SM_METRICS_NBUCKETS - 1];

/* Forget every counter and topic (tests only: no other thread may be
 * recording). */
void sm_metrics_reset(void);

#endif

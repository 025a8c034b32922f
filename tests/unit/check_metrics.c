/*
 * check_metrics.c - unit tests for src/metrics: the exposition writer, the
 * topic registry and throughput counters, request counters and latency
 * quantiles, the HTTP request-head parser (including truncated, garbage
 * and oversized input), and the scrape endpoint over a real socket.
 */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "core/sm_util.h"
#include "metrics/sm_metrics.h"
#include "metrics/sm_metrics_http.h"
#include "proto/sm_proto.h"
#include "sm_test.h"

/* NUL-terminated copy of a wbuf (tests only). */
static char *
wstr(sm_wbuf_t *w)
{
    char *s = sm_malloc(w->len + 1);
    memcpy(s, w->data, w->len);
    s[w->len] = '\0';
    return s;
}

static int
has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n') return 1;
    return 0;
}

/* Checks the text format's structure: every sample's metric family was
 * declared by a # TYPE line, families are not split, label syntax and
 * values parse, and the text ends in a newline. Returns NULL or a reason. */
static const char *
validate_exposition(const char *text)
{
    static char why[1400];
    char families[512][128];
    int nf = 0;
    char cur[128] = "";
    size_t len = strlen(text);
    if (len == 0 || text[len - 1] != '\n') return "does not end with a newline";
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t ll = (size_t)(eol - line);
        char buf[1024];
        if (ll >= sizeof(buf)) return "line too long";
        memcpy(buf, line, ll);
        buf[ll] = '\0';
        line = eol + 1;
        if (!strncmp(buf, "# HELP ", 7)) continue;
        if (!strncmp(buf, "# TYPE ", 7)) {
            char name[128], type[32];
            if (sscanf(buf + 7, "%127s %31s", name, type) != 2) return "bad TYPE line";
            for (int i = 0; i < nf; i++)
                if (!strcmp(families[i], name)) { snprintf(why, sizeof(why), "family %.127s declared twice", name); return why; }
            if (nf == 512) return "too many families";
            snprintf(families[nf++], 128, "%s", name);
            snprintf(cur, sizeof(cur), "%s", name);
            continue;
        }
        if (buf[0] == '#') return "unknown comment";
        /* name */
        size_t i = 0;
        while (buf[i] && (buf[i] == '_' || buf[i] == ':' || (buf[i] >= 'a' && buf[i] <= 'z') ||
                          (buf[i] >= 'A' && buf[i] <= 'Z') || (i && buf[i] >= '0' && buf[i] <= '9')))
            i++;
        if (i == 0) { snprintf(why, sizeof(why), "bad metric name in: %s", buf); return why; }
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)i, buf);
        size_t cl = strlen(cur);
        int ok = !strcmp(name, cur);
        static const char *suffixes[] = { "_sum", "_count", "_bucket" };
        for (int k = 0; k < 3 && !ok; k++)
            ok = strlen(name) == cl + strlen(suffixes[k]) && !strncmp(name, cur, cl) && !strcmp(name + cl, suffixes[k]);
        if (!ok) { snprintf(why, sizeof(why), "sample %s outside its family (current %s)", name, cur); return why; }
        if (buf[i] == '{') {
            i++;
            while (buf[i] != '}') {
                size_t s = i;
                while ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z') || buf[i] == '_') i++;
                if (i == s || buf[i] != '=' || buf[i + 1] != '"') return "bad label";
                i += 2;
                while (buf[i] && buf[i] != '"') {
                    if (buf[i] == '\\') { if (!strchr("\\\"n", buf[i + 1])) return "bad escape"; i++; }
                    i++;
                }
                if (buf[i] != '"') return "unterminated label value";
                i++;
                if (buf[i] == ',') i++;
                else if (buf[i] != '}') return "bad label separator";
            }
            i++;
        }
        if (buf[i] != ' ') return "no space before value";
        const char *v = buf + i + 1;
        char *end;
        if (strcmp(v, "NaN") && strcmp(v, "+Inf") && strcmp(v, "-Inf")) {
            strtod(v, &end);
            if (end == v || *end) { snprintf(why, sizeof(why), "bad value in: %s", buf); return why; }
        }
    }
    return NULL;
}

/* ---- exposition writer ---- */

START_TEST(test_writer)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_prom_family(&w, "x_total", "counter", "a \\ b\nc");
    sm_prom_label_t l[2] = { { "topic", "a\"b\\c\nd" }, { "partition", "0" } };
    sm_prom_u64(&w, "x_total", l, 2, 18446744073709551615ull);
    sm_prom_i64(&w, "x_total", NULL, 0, -5);
    sm_prom_double(&w, "x_total", l, 1, NAN);
    sm_prom_double(&w, "x_total", NULL, 0, INFINITY);
    sm_prom_double(&w, "x_total", NULL, 0, 0.25);
    char *s = wstr(&w);
    ck_assert_str_eq(s, "# HELP x_total a \\\\ b\\nc\n"
                        "# TYPE x_total counter\n"
                        "x_total{topic=\"a\\\"b\\\\c\\nd\",partition=\"0\"} 18446744073709551615\n"
                        "x_total -5\n"
                        "x_total{topic=\"a\\\"b\\\\c\\nd\"} NaN\n"
                        "x_total +Inf\n"
                        "x_total 0.25\n");
    ck_assert_ptr_null(validate_exposition(s));
    free(s);
    sm_wbuf_free(&w);
}
END_TEST

/* ---- registry and BrokerTopicMetrics ---- */

static int
hide_b(const char *topic, void *arg)
{
    (*(int *)arg)++;
    return strcmp(topic, "b") != 0;
}

START_TEST(test_topic_counters)
{
    sm_metrics_reset();
    sm_topic_metrics_t *a = sm_metrics_topic("a", 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(sm_metrics_topic("a", 1), a);
    ck_assert_ptr_eq(sm_metrics_topic("ab", 1), a);   /* length-bounded */
    ck_assert_ptr_ne(sm_metrics_topic("ab", 2), a);
    ck_assert_str_eq(a->name, "a");

    sm_metrics_produce("a", 0, 10, 1000);
    sm_metrics_produce("a", 0, 5, 500);
    sm_metrics_produce("a", SM_ERR_CORRUPT_MESSAGE, 0, 0);
    sm_metrics_produce("a", SM_ERR_NOT_LEADER_OR_FOLLOWER, 0, 0);   /* not a failure */
    sm_metrics_produce("b", 0, 1, 70);
    sm_metrics_fetch("a", 0, 0, 300);
    sm_metrics_fetch("a", 0, 1, 200);
    sm_metrics_fetch("b", SM_ERR_OFFSET_OUT_OF_RANGE, 0, 0);
    ck_assert_uint_eq(a->messages_in, 15);
    ck_assert_uint_eq(a->bytes_in, 1500);
    ck_assert_uint_eq(a->produce_total, 4);
    ck_assert_uint_eq(a->produce_failed, 1);
    ck_assert_uint_eq(a->bytes_out, 300);
    ck_assert_uint_eq(a->repl_bytes_out, 200);
    ck_assert_uint_eq(a->fetch_total, 2);

    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    int calls = 0;
    sm_metrics_render_counters(&w, 0, hide_b, &calls);
    char *s = wstr(&w);
    ck_assert_int_eq(calls, 3);   /* a, ab, b: once each per scrape */
    ck_assert(has_line(s, "# TYPE kafka_server_brokertopicmetrics_messagesin_total counter"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_messagesin_total 16"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_messagesin_total{topic=\"a\"} 15"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_bytesin_total 1570"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_bytesin_total{topic=\"a\"} 1500"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_bytesout_total{topic=\"a\"} 300"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_replicationbytesout_total 200"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_failedproducerequests_total{topic=\"a\"} 1"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_failedfetchrequests_total 1"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_totalproducerequests_total 5"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_totalfetchrequests_total 3"));
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_messagesin_total{topic=\"ab\"} 0"));
    ck_assert_ptr_null(strstr(s, "topic=\"b\""));           /* filtered out */
    ck_assert(has_line(s, "samsa_metrics_topics 3"));
    const char *why = validate_exposition(s);
    ck_assert_msg(why == NULL, "%s", why);
    free(s);
    sm_wbuf_free(&w);
    sm_metrics_reset();
}
END_TEST

START_TEST(test_registry_full)
{
    sm_metrics_reset();
    char name[32];
    for (int i = 0; i < SM_METRICS_MAX_TOPICS; i++) {
        int n = snprintf(name, sizeof(name), "t%d", i);
        ck_assert_ptr_nonnull(sm_metrics_topic(name, (size_t)n));
    }
    ck_assert_ptr_null(sm_metrics_topic("one-too-many", 12));
    ck_assert_ptr_nonnull(sm_metrics_topic("t7", 2));         /* existing ones still found */
    sm_metrics_produce("one-too-many", 0, 3, 30);             /* totals still count */
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_metrics_render_counters(&w, 0, NULL, NULL);
    char *s = wstr(&w);
    ck_assert(has_line(s, "kafka_server_brokertopicmetrics_messagesin_total 3"));
    ck_assert(has_line(s, "samsa_metrics_topics_dropped_total 2"));
    free(s);
    sm_wbuf_free(&w);
    sm_metrics_reset();
}
END_TEST

/* ---- request metrics ---- */

START_TEST(test_request_metrics)
{
    sm_metrics_reset();
    sm_metrics_req_t m;
    uint8_t consumer[4] = { 0xff, 0xff, 0xff, 0xff }, follower[4] = { 0, 0, 0, 2 };
    sm_metrics_request_begin(&m, SM_API_PRODUCE, 7, NULL, 0);
    ck_assert_int_eq(m.slot, SM_API_PRODUCE);
    ck_assert(m.start_ns > 0);
    sm_metrics_request_end(&m);
    ck_assert_int_eq(m.start_ns, 0);
    sm_metrics_request_end(&m);                               /* second end: ignored */
    sm_metrics_request_begin(&m, SM_API_FETCH, 11, consumer, 4);
    ck_assert_int_eq(m.slot, SM_METRICS_FETCH_CONSUMER);
    sm_metrics_request_end(&m);
    sm_metrics_request_begin(&m, SM_API_FETCH, 11, follower, 4);
    ck_assert_int_eq(m.slot, SM_METRICS_FETCH_FOLLOWER);
    sm_metrics_request_end(&m);
    sm_metrics_request_begin(&m, SM_API_FETCH, 4, follower, 3);  /* truncated body: consumer */
    ck_assert_int_eq(m.slot, SM_METRICS_FETCH_CONSUMER);
    m.start_ns = 0;
    sm_metrics_request_begin(&m, 32000, 0, NULL, 0);          /* unknown key: not timed */
    ck_assert_int_eq(m.start_ns, 0);
    sm_metrics_request_begin(&m, SM_API_METADATA, 99, NULL, 0); /* version out of table: timed, not counted */
    ck_assert(m.start_ns > 0);
    m.start_ns = 0;
    ck_assert_str_eq(sm_metrics_slot_name(SM_API_PRODUCE), "Produce");
    ck_assert_str_eq(sm_metrics_slot_name(SM_METRICS_FETCH_FOLLOWER), "FetchFollower");
    ck_assert_ptr_null(sm_metrics_slot_name(-1));

    /* Deterministic latencies for Metadata: 90 x 0.2 ms, 10 x 40 ms. */
    int64_t now = 1000000;
    for (int i = 0; i < 90; i++) sm_metrics_request_observe(SM_API_METADATA, 200000, now);
    for (int i = 0; i < 10; i++) sm_metrics_request_observe(SM_API_METADATA, 40000000, now);

    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_metrics_render_counters(&w, now, NULL, NULL);
    char *s = wstr(&w);
    ck_assert(has_line(s, "kafka_network_requestmetrics_requests_total{request=\"Produce\",version=\"7\"} 1"));
    ck_assert(has_line(s, "kafka_network_requestmetrics_requests_total{request=\"FetchConsumer\",version=\"11\"} 1"));
    ck_assert(has_line(s, "kafka_network_requestmetrics_requests_total{request=\"FetchConsumer\",version=\"4\"} 1"));
    ck_assert(has_line(s, "kafka_network_requestmetrics_requests_total{request=\"FetchFollower\",version=\"11\"} 1"));
    ck_assert_ptr_null(strstr(s, "request=\"Metadata\",version="));
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems_count{request=\"Metadata\"} 100"));
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems_sum{request=\"Metadata\"} 418"));
    /* p50 falls in (0.1, 0.25] ms; p99 in (25, 50] ms. */
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems{request=\"Metadata\",quantile=\"0.5\"} 0.18333333333333335"));
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems{request=\"Metadata\",quantile=\"0.99\"} 47.5"));
    ck_assert(has_line(s, "samsa_network_request_duration_seconds_bucket{request=\"Metadata\",le=\"0.0001\"} 0"));
    ck_assert(has_line(s, "samsa_network_request_duration_seconds_bucket{request=\"Metadata\",le=\"0.00025\"} 90"));
    ck_assert(has_line(s, "samsa_network_request_duration_seconds_bucket{request=\"Metadata\",le=\"0.05\"} 100"));
    ck_assert(has_line(s, "samsa_network_request_duration_seconds_bucket{request=\"Metadata\",le=\"+Inf\"} 100"));
    ck_assert(has_line(s, "samsa_network_request_duration_seconds_count{request=\"Metadata\"} 100"));
    const char *why = validate_exposition(s);
    ck_assert_msg(why == NULL, "%s", why);
    free(s);

    /* Two minutes later the quantile window is empty (NaN); totals stay. */
    sm_wbuf_reset(&w);
    sm_metrics_render_counters(&w, now + 120000, NULL, NULL);
    s = wstr(&w);
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems{request=\"Metadata\",quantile=\"0.99\"} NaN"));
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems_count{request=\"Metadata\"} 100"));
    free(s);
    /* New samples recycle a stale slice instead of adding to it. */
    sm_metrics_request_observe(SM_API_METADATA, 3000000, now + 120000);
    sm_wbuf_reset(&w);
    sm_metrics_render_counters(&w, now + 120000, NULL, NULL);
    s = wstr(&w);
    ck_assert(has_line(s, "kafka_network_requestmetrics_totaltimems{request=\"Metadata\",quantile=\"0.5\"} 3.75"));
    free(s);
    sm_wbuf_free(&w);
    sm_metrics_reset();
}
END_TEST

START_TEST(test_quantile)
{
    uint64_t b[SM_METRICS_NBUCKETS] = { 0 };
    ck_assert(isnan(sm_metrics_quantile_ms(b, 0.5)));
    b[3] = 4;                         /* (0.05, 0.1 ms] */
    ck_assert(fabs(sm_metrics_quantile_ms(b, 0.5) - 0.075) < 1e-9);
    ck_assert(fabs(sm_metrics_quantile_ms(b, 1.0) - 0.1) < 1e-9);
    b[0] = 4;                         /* (0, 0.01 ms]: the median is its upper bound */
    ck_assert(fabs(sm_metrics_quantile_ms(b, 0.5) - 0.01) < 1e-9);
    b[SM_METRICS_NBUCKETS - 1] = 4;   /* +Inf bucket reports the last bound */
    ck_assert(fabs(sm_metrics_quantile_ms(b, 0.99) - 30000.0) < 1e-9);
}
END_TEST

START_TEST(test_process_metrics)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_metrics_render_process(&w);
    char *s = wstr(&w);
    ck_assert(has_line(s, "# TYPE process_cpu_seconds_total counter"));
    ck_assert(has_line(s, "# TYPE process_open_fds gauge"));
    ck_assert(has_line(s, "# TYPE process_start_time_seconds gauge"));
    double rss = -1, start = -1, fds = -1;
    const char *p = strstr(s, "\nprocess_resident_memory_bytes ");
    ck_assert_ptr_nonnull(p);
    rss = atof(p + 31);
    p = strstr(s, "\nprocess_start_time_seconds ");
    ck_assert_ptr_nonnull(p);
    start = atof(p + 28);
    p = strstr(s, "\nprocess_open_fds ");
    ck_assert_ptr_nonnull(p);
    fds = atof(p + 18);
    ck_assert(rss > 100000);
    double now = (double)sm_now_ms() / 1000.0;
    ck_assert_msg(start > now - 86400 * 7 && start <= now + 2, "start %f now %f", start, now);
    ck_assert(fds >= 3);
    ck_assert_ptr_null(validate_exposition(s));
    free(s);
    sm_wbuf_free(&w);
}
END_TEST

/* ---- HTTP parser ---- */

START_TEST(test_http_parse_ok)
{
    sm_http_req_t r;
    const char *get = "GET /metrics HTTP/1.1\r\nHost: x:9404\r\nAccept: text/plain\r\n\r\n";
    ck_assert_int_eq(sm_metrics_http_parse(get, strlen(get), &r), 200);
    ck_assert_str_eq(r.path, "/metrics");
    ck_assert_int_eq(r.head, 0);
    ck_assert_int_eq(r.minor, 1);
    ck_assert_uint_eq(r.consumed, strlen(get));
    /* Every proper prefix asks for more bytes. */
    for (size_t n = 0; n < strlen(get); n++)
        ck_assert_msg(sm_metrics_http_parse(get, n, &r) == 0, "prefix %zu", n);

    const char *head = "HEAD /metrics?name[]=x HTTP/1.0\n\n";
    ck_assert_int_eq(sm_metrics_http_parse(head, strlen(head), &r), 200);
    ck_assert_int_eq(r.head, 1);
    ck_assert_str_eq(r.path, "/metrics");
    for (size_t n = 0; n < strlen(head); n++) ck_assert_int_eq(sm_metrics_http_parse(head, n, &r), 0);

    /* Bytes after the head (a body) are not the parser's business. */
    const char *extra = "GET /metrics HTTP/1.1\r\n\r\nGARBAGE";
    ck_assert_int_eq(sm_metrics_http_parse(extra, strlen(extra), &r), 200);
    ck_assert_uint_eq(r.consumed, strlen(extra) - 7);
}
END_TEST

START_TEST(test_http_parse_errors)
{
    sm_http_req_t r;
    static const struct { const char *in; int status; } cases[] = {
        { "GET / HTTP/1.1\r\n\r\n", 404 },
        { "GET /metricsx HTTP/1.1\r\n\r\n", 404 },
        { "GET /metrics/ HTTP/1.1\r\n\r\n", 404 },
        { "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405 },
        { "DELETE /metrics HTTP/1.0\r\n\r\n", 405 },
        { "get /metrics HTTP/1.1\r\n\r\n", 400 },
        { "GET metrics HTTP/1.1\r\n\r\n", 400 },
        { "GET  /metrics HTTP/1.1\r\n\r\n", 400 },
        { "GET /metrics HTTP/2.0\r\n\r\n", 400 },
        { "GET /metrics HTTP/1.2\r\n\r\n", 400 },
        { "GET /metrics\r\n\r\n", 400 },
        { "GET /metrics HTTP/1.1\r\nX: a\001b\r\n\r\n", 400 },
        { "GET /metrics HTTP/1.1\rX\n\r\n", 400 },
        { "GET /metrics HTTP/1.1\r\n\rX", 400 },
        { "\x16\x03\x01\x02\x00\x01", 400 },                  /* TLS ClientHello */
        { "\x00\x00\x00\x15\x00\x12\x00\x03", 400 },          /* a Kafka frame */
        { "GETTINGSOMELONGMETHOD /", 400 },
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(cases); i++) {
        size_t len = strlen(cases[i].in);
        if (cases[i].in[0] == '\0') len = 8;
        ck_assert_msg(sm_metrics_http_parse(cases[i].in, len, &r) == cases[i].status, "case %zu: got %d", i,
                      sm_metrics_http_parse(cases[i].in, len, &r));
    }
    /* Garbage is refused from its first byte, without waiting for more. */
    ck_assert_int_eq(sm_metrics_http_parse("\x16", 1, &r), 400);

    /* Oversized: a head with no end within the limit. */
    char *big = sm_malloc(SM_HTTP_MAX_REQUEST + 100);
    int n = snprintf(big, 64, "GET /metrics HTTP/1.1\r\n");
    memset(big + n, 'a', SM_HTTP_MAX_REQUEST + 100 - (size_t)n);
    ck_assert_int_eq(sm_metrics_http_parse(big, SM_HTTP_MAX_REQUEST - 1, &r), 0);
    ck_assert_int_eq(sm_metrics_http_parse(big, SM_HTTP_MAX_REQUEST, &r), 431);
    ck_assert_int_eq(sm_metrics_http_parse(big, SM_HTTP_MAX_REQUEST + 100, &r), 431);
    /* A target over the limit. */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'x', SM_HTTP_MAX_REQUEST + 95);
    ck_assert_int_eq(sm_metrics_http_parse(big, SM_HTTP_MAX_REQUEST, &r), 414);
    free(big);
}
END_TEST

START_TEST(test_http_response)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    sm_metrics_http_response(&w, 200, "a 1\n", 4, 0);
    char *s = wstr(&w);
    ck_assert_str_eq(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                        "Content-Length: 4\r\nConnection: close\r\n\r\na 1\n");
    free(s);
    sm_wbuf_reset(&w);
    sm_metrics_http_response(&w, 200, "a 1\n", 4, 1);
    s = wstr(&w);
    ck_assert_ptr_nonnull(strstr(s, "Content-Length: 4\r\n"));
    ck_assert_ptr_null(strstr(s, "a 1\n"));
    free(s);
    sm_wbuf_reset(&w);
    sm_metrics_http_response(&w, 405, NULL, 0, 0);
    s = wstr(&w);
    ck_assert_ptr_nonnull(strstr(s, "HTTP/1.1 405 Method Not Allowed\r\n"));
    ck_assert_ptr_nonnull(strstr(s, "Allow: GET, HEAD\r\n"));
    free(s);
    sm_wbuf_free(&w);
}
END_TEST

/* ---- the endpoint over a socket ---- */

static int g_renders;

static void
test_render(sm_wbuf_t *w, void *arg)
{
    __atomic_add_fetch(&g_renders, 1, __ATOMIC_RELAXED);
    sm_prom_family(w, "test_up", "gauge", "test");
    sm_prom_u64(w, "test_up", NULL, 0, 1);
}

static int
connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { 0 };
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = { 20, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Send req, read until EOF; returns the heap response. */
static char *
exchange(int port, const char *req, size_t len)
{
    int fd = connect_to(port);
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) break;   /* the server may refuse early and close */
        off += (size_t)n;
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 0);
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        sm_write_raw(&w, buf, (size_t)n);
    }
    close(fd);
    char *s = wstr(&w);
    sm_wbuf_free(&w);
    return s;
}

START_TEST(test_http_server)
{
    char err[256];
    sm_metrics_http_config_t cfg = { 0 };
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.render = test_render;
    sm_metrics_http_t *h = sm_metrics_http_start(&cfg, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    int port = sm_metrics_http_port(h);
    ck_assert_int_gt(port, 0);

    const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    char *s = exchange(port, get, strlen(get));
    ck_assert_str_eq(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                        "Content-Length: 51\r\nConnection: close\r\n\r\n"
                        "# HELP test_up test\n# TYPE test_up gauge\ntest_up 1\n");
    free(s);
    s = exchange(port, "GET /nope HTTP/1.0\r\n\r\n", 22);
    ck_assert_ptr_nonnull(strstr(s, "HTTP/1.1 404 Not Found\r\n"));
    free(s);
    s = exchange(port, "\x16\x03\x01garbage\r\n\r\n", 14);
    ck_assert_ptr_nonnull(strstr(s, "HTTP/1.1 400 Bad Request\r\n"));
    free(s);
    /* An oversized head is refused with 431 once the buffer is full. */
    char *big = sm_malloc(SM_HTTP_MAX_REQUEST + 1000);
    int n = snprintf(big, 64, "GET /metrics HTTP/1.1\r\nX: ");
    memset(big + n, 'a', SM_HTTP_MAX_REQUEST + 1000 - (size_t)n);
    /* Exactly the limit, so the server has read everything it closes on. */
    s = exchange(port, big, SM_HTTP_MAX_REQUEST);
    ck_assert_ptr_nonnull(strstr(s, "HTTP/1.1 431 "));
    free(s);
    free(big);
    /* A request split into single bytes still works. */
    int fd = connect_to(port);
    for (size_t i = 0; i < strlen(get); i++) ck_assert_int_eq(send(fd, get + i, 1, MSG_NOSIGNAL), 1);
    char buf[512];
    ssize_t got = 0, r;
    while ((r = recv(fd, buf + got, sizeof(buf) - 1 - (size_t)got, 0)) > 0) got += r;
    buf[got] = '\0';
    close(fd);
    ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\n# HELP test_up test\n"));
    ck_assert_int_eq(__atomic_load_n(&g_renders, __ATOMIC_RELAXED), 2);
    /* A client that connects and sends nothing does not block others. */
    int idle = connect_to(port);
    s = exchange(port, get, strlen(get));
    ck_assert_ptr_nonnull(strstr(s, "test_up 1\n"));
    free(s);

    /* Binding the same port again is a clear error. */
    cfg.port = port;
    sm_metrics_http_t *h2 = sm_metrics_http_start(&cfg, err, sizeof(err));
    ck_assert_ptr_null(h2);
    char want[128];
    snprintf(want, sizeof(want), "Metrics endpoint failed to bind to 127.0.0.1:%d: Address already in use", port);
    ck_assert_str_eq(err, want);

    sm_metrics_http_stop(h);          /* with the idle connection still open */
    close(idle);
}
END_TEST

START_TEST(test_http_timeout)
{
    char err[256], buf[512];
    sm_metrics_http_config_t cfg = { 0 };
    cfg.host = "127.0.0.1";
    cfg.render = test_render;
    cfg.timeout_ms = 200;
    sm_metrics_http_t *h = sm_metrics_http_start(&cfg, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    /* A half-sent request is dropped after the timeout: EOF, no answer. */
    int fd = connect_to(sm_metrics_http_port(h));
    ck_assert_int_eq(send(fd, "GET /met", 8, 0), 8);
    ck_assert_int_eq(recv(fd, buf, sizeof(buf), 0), 0);
    close(fd);
    sm_metrics_http_stop(h);

    /* Over max_conns, new connections are closed at once. Connections are
     * accepted in order, so a and b hold the two places when c arrives. */
    cfg.timeout_ms = 30000;
    cfg.max_conns = 2;
    h = sm_metrics_http_start(&cfg, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    int port = sm_metrics_http_port(h);
    int a = connect_to(port), b = connect_to(port);
    const char *get = "GET /metrics HTTP/1.1\r\n\r\n";
    char *s = exchange(port, get, strlen(get));
    ck_assert_str_eq(s, "");
    free(s);
    close(a);
    /* Once a place is free again the endpoint answers (retry until the
     * server has noticed the close; no fixed sleep). */
    int ok = 0;
    for (int i = 0; i < 2000 && !ok; i++) {
        s = exchange(port, get, strlen(get));
        ok = strstr(s, "test_up 1\n") != NULL;
        free(s);
        if (!ok) usleep(1000);
    }
    ck_assert(ok);
    close(b);
    sm_metrics_http_stop(h);
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_writer);
    tcase_add_test(tc, test_topic_counters);
    tcase_add_test(tc, test_registry_full);
    tcase_add_test(tc, test_request_metrics);
    tcase_add_test(tc, test_quantile);
    tcase_add_test(tc, test_process_metrics);
    tcase_add_test(tc, test_http_parse_ok);
    tcase_add_test(tc, test_http_parse_errors);
    tcase_add_test(tc, test_http_response);
    tcase_add_test(tc, test_http_server);
    tcase_add_test(tc, test_http_timeout);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(metrics_suite());
}

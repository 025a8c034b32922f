/*
 * contrib/bench/sm_bench.c - librdkafka load generator for Samsa (or any
 * Kafka-compatible broker).
 *
 * Owns three modes, each a single client run that prints one result line:
 *   create  : CreateTopics (admin API) and wait until every partition has a leader
 *   produce : N records of S bytes, round-robin over P partitions, acks as given
 *   consume : read N records from the beginning of P partitions with assign()
 *             (no consumer group needed on the broker)
 *
 * Result line (stable, parsed by contrib/bench/run.sh):
 *   RESULT mode=produce msgs=1000000 bytes=100000000 secs=1.234 msgs_per_s=810372 mb_per_s=77.28
 *
 * Not a broker component: it links only librdkafka and libc.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

typedef struct {
    const char *brokers;
    const char *topic;
    const char *mode;
    const char *acks;
    const char *compression;
    long        msgs;
    int         size;
    int         partitions;
    int         timeout_s;
} bench_opts_t;

static long long delivered_ok;
static long long delivered_err;
static rd_kafka_resp_err_t first_err;

static double
mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "sm_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void
conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        die(k, errstr);
}

static rd_kafka_t *
make_client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char        errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));

    if (rk == NULL)
        die("rd_kafka_new", errstr);
    return rk;
}

static void
report(const char *mode, long long msgs, long long bytes, double secs)
{
    if (secs <= 0)
        secs = 1e-9;
    printf("RESULT mode=%s msgs=%lld bytes=%lld secs=%.3f msgs_per_s=%.0f mb_per_s=%.2f\n",
           mode, msgs, bytes, secs, msgs / secs, bytes / secs / (1024.0 * 1024.0));
    fflush(stdout);
}

/* Wait until Metadata shows the topic with all partitions led. */
static int
wait_topic(rd_kafka_t *rk, const char *topic, int partitions, int timeout_s)
{
    double deadline = mono_s() + timeout_s;

    while (mono_s() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        int ok = 0;

        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == 0 &&
                md->topics[0].partition_cnt == partitions) {
                ok = 1;
                for (int i = 0; i < partitions; i++)
                    if (md->topics[0].partitions[i].leader < 0 || md->topics[0].partitions[i].err)
                        ok = 0;
            }
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        if (ok)
            return 0;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int
do_create(const bench_opts_t *o)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];

    conf_set(conf, "bootstrap.servers", o->brokers);
    rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, conf);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, o->partitions, 1, errstr, sizeof(errstr));

    if (nt == NULL)
        die("NewTopic", errstr);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, o->timeout_s * 1000);
    if (ev == NULL)
        die("CreateTopics", "timed out");
    if (rd_kafka_event_error(ev))
        die("CreateTopics", rd_kafka_event_error_string(ev));
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            die("CreateTopics", rd_kafka_err2str(e));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    int rc = wait_topic(rk, o->topic, o->partitions, o->timeout_s);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    if (rc < 0)
        die("topic not ready", o->topic);
    printf("RESULT mode=create topic=%s partitions=%d\n", o->topic, o->partitions);
    return 0;
}

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err) {
        if (!delivered_err)
            first_err = m->err;
        delivered_err++;
    } else {
        delivered_ok++;
    }
}

static int
do_produce(const bench_opts_t *o)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    conf_set(conf, "bootstrap.servers", o->brokers);
    conf_set(conf, "acks", o->acks);
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "batch.num.messages", "10000");
    conf_set(conf, "queue.buffering.max.messages", "1000000");
    conf_set(conf, "queue.buffering.max.kbytes", "1048576");
    conf_set(conf, "compression.type", o->compression);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, conf);

    /* One payload buffer for all records: librdkafka does not copy or free
     * it (flags 0), so the benchmark measures the broker, not malloc. */
    char *payload = malloc(o->size);
    if (payload == NULL)
        die("malloc", NULL);
    for (int i = 0; i < o->size; i++)
        payload[i] = 'a' + i % 26;

    double t0 = mono_s();
    for (long i = 0; i < o->msgs; i++) {
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(rk,
                RD_KAFKA_V_TOPIC(o->topic),
                RD_KAFKA_V_PARTITION((int32_t)(i % o->partitions)),
                RD_KAFKA_V_VALUE(payload, (size_t) o->size),
                RD_KAFKA_V_MSGFLAGS(0),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("produce", rd_kafka_err2str(err));
            rd_kafka_poll(rk, 5);
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, o->timeout_s * 1000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("flush", "timed out");
    double t1 = mono_s();
    rd_kafka_destroy(rk);
    free(payload);
    if (delivered_err) {
        fprintf(stderr, "sm_bench: %lld delivery errors (first: %s)\n", delivered_err,
                rd_kafka_err2str(first_err));
        return 1;
    }
    report("produce", delivered_ok, delivered_ok * (long long) o->size, t1 - t0);
    return 0;
}

static int
do_consume(const bench_opts_t *o)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    conf_set(conf, "bootstrap.servers", o->brokers);
    conf_set(conf, "group.id", "sm-bench");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.auto.offset.store", "false");
    conf_set(conf, "fetch.wait.max.ms", "100");
    conf_set(conf, "queued.min.messages", "1000000");
    rd_kafka_t *rk = make_client(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(o->partitions);
    for (int p = 0; p < o->partitions; p++)
        rd_kafka_topic_partition_list_add(tp, o->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;

    long long n = 0, bytes = 0;
    double t0 = mono_s(), deadline = t0 + o->timeout_s;
    if (rd_kafka_assign(rk, tp))
        die("assign", NULL);
    while (n < o->msgs) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (m == NULL) {
            if (mono_s() > deadline) {
                fprintf(stderr, "sm_bench: consumed %lld of %ld before timeout\n", n, o->msgs);
                return 1;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            n++;
            bytes += m->len;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "sm_bench: consume error: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return 1;
        }
        rd_kafka_message_destroy(m);
    }
    double t1 = mono_s();
    rd_kafka_topic_partition_list_destroy(tp);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    report("consume", n, bytes, t1 - t0);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr,
        "usage: sm_bench -b host:port -t topic -m create|produce|consume\n"
        "                [-n msgs] [-s size] [-p partitions] [-a acks] [-z codec] [-T timeout_s]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    bench_opts_t o = { "127.0.0.1:9092", "sm-bench", NULL, "1", "none", 100000, 100, 1, 300 };
    int c;

    while ((c = getopt(argc, argv, "b:t:m:n:s:p:a:z:T:h")) != -1) {
        switch (c) {
        case 'b': o.brokers = optarg; break;
        case 't': o.topic = optarg; break;
        case 'm': o.mode = optarg; break;
        case 'n': o.msgs = strtol(optarg, NULL, 10); break;
        case 's': o.size = atoi(optarg); break;
        case 'p': o.partitions = atoi(optarg); break;
        case 'a': o.acks = optarg; break;
        case 'z': o.compression = optarg; break;
        case 'T': o.timeout_s = atoi(optarg); break;
        default: usage();
        }
    }
    if (o.mode == NULL || o.msgs <= 0 || o.size <= 0 || o.partitions <= 0 || o.timeout_s <= 0)
        usage();
    if (strcmp(o.mode, "create") == 0)
        return do_create(&o);
    if (strcmp(o.mode, "produce") == 0)
        return do_produce(&o);
    if (strcmp(o.mode, "consume") == 0)
        return do_consume(&o);
    usage();
    return 2;
}

/*
 * sm_console_consumer.c - samsa-console-consumer, a native
 * kafka-console-consumer.sh (Kafka 2.x ConsoleConsumer) on librdkafka.
 *
 * Without --group it consumes by direct assignment (every partition of the
 * topic(s), or --partition with --offset), so it needs no group coordinator;
 * with --group (or group.id in the consumer properties) it subscribes and
 * lets the group protocol assign partitions. Brokers come from
 * --bootstrap-server / --broker-list, or from /brokers/ids when --zookeeper
 * is given (as the old-consumer command lines in the wild do). Records are
 * printed by DefaultMessageFormatter rules (sm_tool_format_record); at exit
 * "Processed a total of N messages" goes to stderr.
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_rdk.h"
#include "zk/sm_zk_admin.h"

static const sm_tool_opt_t consumer_opts[] = {
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: server to connect to", "REQUIRED: The server(s) to connect to." },
    { "broker-list", SM_TOOL_ARG_REQUIRED, "String: broker-list", "Same as --bootstrap-server (accepted for old command lines)." },
    { "consumer-property", SM_TOOL_ARG_REQUIRED, "String: consumer_prop", "A mechanism to pass user-defined properties in the form key=value to the consumer." },
    { "consumer.config", SM_TOOL_ARG_REQUIRED, "String: config file", "Consumer config properties file. Note that [consumer-property] takes precedence over this config." },
    { "enable-systest-events", SM_TOOL_ARG_NONE, NULL, "Accepted for compatibility; no effect." },
    { "formatter", SM_TOOL_ARG_REQUIRED, "String: class", "The name of a class to use for formatting kafka messages for display. Only kafka.tools.DefaultMessageFormatter is supported. (default: kafka.tools.DefaultMessageFormatter)" },
    { "from-beginning", SM_TOOL_ARG_NONE, NULL, "If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message." },
    { "group", SM_TOOL_ARG_REQUIRED, "String: consumer group id", "The consumer group id of the consumer." },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "isolation-level", SM_TOOL_ARG_REQUIRED, "String", "Set to read_committed in order to filter out transactional messages which are not committed. Set to read_uncommitted to read all messages. (default: read_uncommitted)" },
    { "key-deserializer", SM_TOOL_ARG_REQUIRED, "String: deserializer for key", "Accepted for compatibility; keys are printed as raw bytes." },
    { "max-messages", SM_TOOL_ARG_REQUIRED, "Integer: num_messages", "The maximum number of messages to consume before exiting. If not set, consumption is continual." },
    { "offset", SM_TOOL_ARG_REQUIRED, "String: consume offset", "The offset id to consume from (a non-negative number), or 'earliest' which means from beginning, or 'latest' which means from end (default: latest)" },
    { "partition", SM_TOOL_ARG_REQUIRED, "Integer: partition", "The partition to consume from. Consumption starts from the end of the partition unless '--offset' is specified." },
    { "property", SM_TOOL_ARG_REQUIRED, "String: prop", "The properties to initialize the message formatter. Default properties include:\n print.timestamp=true|false\n print.key=true|false\n print.offset=true|false\n print.partition=true|false\n print.headers=true|false\n print.value=true|false\n key.separator=<key.separator>\n line.separator=<line.separator>\n headers.separator=<line.separator>\n null.literal=<null.literal>" },
    { "skip-message-on-error", SM_TOOL_ARG_NONE, NULL, "If there is an error when processing a message, skip it instead of halt." },
    { "timeout-ms", SM_TOOL_ARG_REQUIRED, "Integer: timeout_ms", "If specified, exit if no message is available for consumption for the specified interval." },
    { "topic", SM_TOOL_ARG_REQUIRED, "String: topic", "The topic id to consume on." },
    { "value-deserializer", SM_TOOL_ARG_REQUIRED, "String: deserializer for values", "Accepted for compatibility; values are printed as raw bytes." },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { "whitelist", SM_TOOL_ARG_REQUIRED, "String: whitelist", "Regular expression specifying whitelist of topics to include for consumption." },
    { "zookeeper", SM_TOOL_ARG_REQUIRED, "String: urls", "Find the brokers through ZooKeeper (/brokers/ids) instead of --bootstrap-server." },
    { NULL, 0, NULL, NULL },
};

static const sm_tool_cli_t consumer_cli = {
    .opts = consumer_opts,
    .no_args_msg = "This tool helps to read data from Kafka topics and outputs it to standard output.",
    .help_header = "This tool helps to read data from Kafka topics and outputs it to standard output.",
    .version_tag = "samsa",
};

static void __attribute__((noreturn))
usage_die(const char *msg)
{
    sm_tool_usage_die(consumer_opts, msg);
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3) fprintf(stderr, "WARN [%s] %s\n", fac, buf);
}

static void
conf_put(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    sm_tool_rdk_conf_put(conf, 0, key, value, NULL);
}

/* "host:port,host:port" from the registered brokers. */
static char *
brokers_from_zk(const char *connect)
{
    char err[512];
    sm_zk_t *zk = sm_tool_zk_open(connect, 30000, err, sizeof err);
    if (!zk) sm_tool_error_die(err);
    sm_broker_info_t *b = NULL;
    int nb = 0;
    if (sm_zk_admin_list_brokers(zk, &b, &nb) < 0) sm_tool_error_die("Failed to read /brokers/ids from ZooKeeper");
    sm_wbuf_t w;
    sm_wbuf_init(&w, 128);
    for (int i = 0; i < nb; i++) {
        const char *host = b[i].host;
        int32_t port = b[i].port;
        if ((!host || port < 0) && b[i].nendpoints > 0) {
            host = b[i].endpoint_host[0];
            port = b[i].endpoint_port[0];
        }
        if (host && port >= 0) sm_tool_wprintf(&w, "%s%s:%d", w.len ? "," : "", host, port);
        sm_broker_info_free(&b[i]);
    }
    free(b);
    sm_zk_admin_close(zk);
    if (w.len == 0) {
        fprintf(stderr, "ERROR No brokers registered in ZooKeeper at %s\n", connect);
        exit(1);
    }
    sm_write_raw(&w, "", 1);
    size_t len;
    return (char *)sm_wbuf_steal(&w, &len);
}

/* Direct assignment: every partition of the matching topics (or the one
 * --partition) at `offset`. Returns the number of partitions assigned. */
static int
assign_partitions(rd_kafka_t *rk, const char *topic, const sm_tool_filter_t *wl, int32_t partition, int64_t offset)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *only = NULL;
    if (topic) only = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, topic ? 0 : 1, only, &md, 5000);
    if (only) rd_kafka_topic_destroy(only);
    if (e) return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (t->err || t->partition_cnt == 0) continue;
        if (topic ? strcmp(t->topic, topic) != 0 : !sm_tool_filter_match(wl, t->topic)) continue;
        if (!topic && sm_tool_topic_is_internal(t->topic)) continue;
        for (int p = 0; p < t->partition_cnt; p++) {
            if (partition >= 0 && t->partitions[p].id != partition) continue;
            rd_kafka_topic_partition_list_add(l, t->topic, t->partitions[p].id)->offset = offset;
        }
    }
    rd_kafka_metadata_destroy(md);
    int n = l->cnt;
    if (n > 0 && (e = rd_kafka_assign(rk, l))) sm_tool_error_die(rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
    return n;
}

int
main(int argc, char **argv)
{
    sm_tool_args_t a;
    char err[512];
    sm_log_level = SM_LOG_WARN;
    sm_tool_cli_parse(&consumer_cli, &a, argc, argv);
    const char *topic = sm_tool_get(&a, "topic");
    const char *whitelist = sm_tool_get(&a, "whitelist");
    if (!!topic == !!whitelist) usage_die("Exactly one of whitelist/topic is required.");
    int32_t partition = -1;
    int64_t offset = RD_KAFKA_OFFSET_END;
    int from_beginning = sm_tool_has(&a, "from-beginning");
    if (sm_tool_has(&a, "partition")) {
        if (sm_tool_parse_int(sm_tool_get(&a, "partition"), &partition) || partition < 0)
            usage_die("The partition must be a non-negative integer.");
        if (!topic) usage_die("The topic is required when partition is specified.");
        if (from_beginning && sm_tool_has(&a, "offset"))
            usage_die("Options from-beginning and offset cannot be specified together.");
        if (sm_tool_has(&a, "group")) usage_die("Options group and partition cannot be specified together.");
    } else if (sm_tool_has(&a, "offset")) {
        usage_die("The partition is required when offset is specified.");
    }
    if (sm_tool_has(&a, "offset")) {
        int64_t o;
        if (sm_tool_parse_offset(sm_tool_get(&a, "offset"), &o))
            usage_die("The provided offset value is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.");
        offset = o == -2 ? RD_KAFKA_OFFSET_BEGINNING : o == -1 ? RD_KAFKA_OFFSET_END : o;
    } else if (from_beginning) {
        offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    int64_t max_messages = -1, timeout_ms = -1;
    if (sm_tool_has(&a, "max-messages") && (sm_parse_i64(sm_tool_get(&a, "max-messages"), &max_messages) || max_messages < 0))
        usage_die("The max-messages value must be a non-negative integer.");
    if (sm_tool_has(&a, "timeout-ms") && (sm_parse_i64(sm_tool_get(&a, "timeout-ms"), &timeout_ms) || timeout_ms < 0))
        usage_die("The timeout-ms value must be a non-negative integer.");
    const char *fmtcls = sm_tool_get(&a, "formatter");
    if (fmtcls && strcmp(fmtcls, "kafka.tools.DefaultMessageFormatter"))
        sm_tool_error_die("Only kafka.tools.DefaultMessageFormatter is supported");

    /* Formatter properties. */
    sm_props_t fprops;
    sm_props_init(&fprops);
    int n;
    char **vals = sm_tool_get_all(&a, "property", &n);
    if (sm_tool_props_add_kvs(&fprops, vals, n)) sm_tool_error_die("Invalid formatter property: must be key=value");
    sm_tool_fmtopts_t fo;
    sm_tool_fmtopts_init(&fo, &fprops);

    /* Consumer properties: file < --consumer-property < flags. */
    sm_props_t user;
    sm_props_init(&user);
    const char *cc = sm_tool_get(&a, "consumer.config");
    if (cc && sm_props_load(&user, cc, err, sizeof err)) sm_tool_error_die(err);
    vals = sm_tool_get_all(&a, "consumer-property", &n);
    if (sm_tool_props_add_kvs(&user, vals, n)) sm_tool_error_die("Invalid consumer property: must be key=value");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < user.n; i++) conf_put(conf, user.items[i].key, user.items[i].value);

    const char *servers = sm_tool_get(&a, "bootstrap-server");
    if (!servers) servers = sm_tool_get(&a, "broker-list");
    char *zk_servers = NULL;
    if (!servers && sm_tool_get(&a, "zookeeper")) servers = zk_servers = brokers_from_zk(sm_tool_get(&a, "zookeeper"));
    if (servers) conf_put(conf, "bootstrap.servers", servers);
    else if (!sm_props_get(&user, "bootstrap.servers") && !sm_props_get(&user, "metadata.broker.list"))
        usage_die("Missing required argument \"[bootstrap-server]\"");

    const char *group = sm_tool_get(&a, "group");
    if (!group) group = sm_props_get(&user, "group.id");
    int subscribe = group != NULL;
    if (group && partition >= 0) usage_die("Options group and partition cannot be specified together.");
    char gen_group[64];
    if (!group) {
        /* librdkafka's assign() still wants a group id; like Kafka, a random
         * one that never commits. */
        srand((unsigned)(time(NULL) ^ getpid()));
        snprintf(gen_group, sizeof gen_group, "console-consumer-%d", rand() % 100000);
        conf_put(conf, "group.id", gen_group);
        conf_put(conf, "enable.auto.commit", "false");
    } else {
        conf_put(conf, "group.id", group);
    }
    if (!sm_props_get(&user, "auto.offset.reset"))
        conf_put(conf, "auto.offset.reset", from_beginning ? "earliest" : "latest");
    if (!sm_props_get(&user, "client.id")) conf_put(conf, "client.id", "console-consumer");
    if (sm_tool_get(&a, "isolation-level")) conf_put(conf, "isolation.level", sm_tool_get(&a, "isolation-level"));
    rd_kafka_conf_set_log_cb(conf, on_log);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) sm_tool_error_die(err);
    rd_kafka_poll_set_consumer(rk);

    sm_tool_catch_stop_signals();
    signal(SIGPIPE, SIG_IGN);

    sm_tool_filter_t wl = { .ok = 0 };
    if (whitelist && sm_tool_filter_init(&wl, whitelist, err, sizeof err)) sm_tool_error_die(err);
    if (subscribe) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        char *pat = NULL;
        if (whitelist) {
            /* librdkafka treats a leading '^' as a regex subscription. */
            pat = sm_asprintf("^(%s)$", whitelist);
            for (char *p = pat; *p; p++)
                if (*p == ',') *p = '|';
        }
        rd_kafka_topic_partition_list_add(l, pat ? pat : topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        free(pat);
        if (e) sm_tool_error_die(rd_kafka_err2str(e));
    }

    int64_t count = 0;
    int64_t last = sm_mono_ms();
    int assigned = subscribe;
    int timed_out = 0;
    sm_wbuf_t out;
    sm_wbuf_init(&out, 64 * 1024);
    sm_tool_header_t *hdrs = NULL;
    size_t hcap = 0;
    while (!sm_tool_stop && (max_messages < 0 || count < max_messages)) {
        if (!assigned) {
            assigned = assign_partitions(rk, topic, &wl, partition, offset) > 0;
            if (!assigned) {
                /* Topic not there yet (or no metadata): retry, bounded by --timeout-ms. */
                if (timeout_ms >= 0 && sm_mono_ms() - last >= timeout_ms) { timed_out = 1; break; }
                rd_kafka_poll(rk, 200);
                continue;
            }
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);
        if (!m) {
            /* About to block: hand what we have to stdout first. */
            if (out.len) {
                if (fwrite(out.data, 1, out.len, stdout) != out.len) sm_tool_stop = 1;
                sm_wbuf_reset(&out);
            }
            fflush(stdout);
            int64_t wait = 200;
            if (timeout_ms >= 0) {
                int64_t left = timeout_ms - (sm_mono_ms() - last);
                if (left <= 0) { timed_out = 1; break; }
                wait = SM_MIN(wait, left);
            }
            m = rd_kafka_consumer_poll(rk, (int)wait);
            if (!m) continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "ERROR Error processing message: %s\n", rd_kafka_message_errstr(m));
                if (rd_kafka_fatal_error(rk, NULL, 0)) sm_tool_stop = 1;
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        last = sm_mono_ms();
        rd_kafka_timestamp_type_t tst;
        int64_t ts = rd_kafka_message_timestamp(m, &tst);
        int nh = 0;
        rd_kafka_headers_t *h = NULL;
        if (fo.print_headers && rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *name;
            const void *val;
            size_t vs;
            for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &vs); i++) {
                if ((size_t)nh == hcap) {
                    hcap = hcap ? hcap * 2 : 8;
                    hdrs = sm_realloc(hdrs, hcap * sizeof(*hdrs));
                }
                hdrs[nh++] = (sm_tool_header_t){ name, strlen(name), val, vs };
            }
        }
        sm_tool_format_record(&out, &fo, tst == RD_KAFKA_TIMESTAMP_CREATE_TIME ? SM_TOOL_TS_CREATE
                                         : tst == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? SM_TOOL_TS_LOGAPPEND
                                                                                     : SM_TOOL_TS_NONE,
                              ts, m->partition, m->offset, hdrs, nh, m->key, m->key_len, m->payload, m->len);
        if (out.len >= 60 * 1024) {
            if (fwrite(out.data, 1, out.len, stdout) != out.len) sm_tool_stop = 1;
            sm_wbuf_reset(&out);
        }
        count++;
        rd_kafka_message_destroy(m);
    }
    if (out.len) fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    if (timed_out)
        fprintf(stderr, "ERROR Error processing message, terminating consumer process: TimeoutException\n");
    fprintf(stderr, "Processed a total of %lld messages\n", (long long)count);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    sm_wbuf_free(&out);
    free(hdrs);
    free(zk_servers);
    sm_tool_filter_free(&wl);
    sm_tool_fmtopts_free(&fo);
    sm_props_free(&fprops);
    sm_props_free(&user);
    sm_tool_args_free(&a);
    return 0;
}

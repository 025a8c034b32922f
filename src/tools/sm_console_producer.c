/*
 * sm_console_producer.c - samsa-console-producer, a native
 * kafka-console-producer.sh (Kafka 2.x ConsoleProducer) on librdkafka.
 *
 * Reads stdin, one record per line (LineMessageReader: parse.key,
 * key.separator, ignore.error), sends to --topic, flushes at EOF and exits 1
 * if any record failed (count on stderr). Producer settings come, lowest
 * precedence first, from --producer.config, --producer-property, then the
 * explicit flags; old Scala-producer keys (metadata.broker.list,
 * request.required.acks, producer.type, compression.codec, ...) and Java
 * producer keys are mapped to librdkafka names by sm_tool_map_producer_prop.
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_rdk.h"

static const sm_tool_opt_t producer_opts[] = {
    { "batch-size", SM_TOOL_ARG_REQUIRED, "Integer: size", "Number of messages to send in a single batch if they are not being sent synchronously. (default: 200)" },
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: server to connect to", "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. The broker list string in the form HOST1:PORT1,HOST2:PORT2." },
    { "broker-list", SM_TOOL_ARG_REQUIRED, "String: broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  The broker list string in the form HOST1:PORT1,HOST2:PORT2." },
    { "compression-codec", SM_TOOL_ARG_OPTIONAL, "String: compression-codec", "The compression codec: either 'none', 'gzip', 'snappy', 'lz4', or 'zstd'.If specified without value, then it defaults to 'gzip'" },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "line-reader", SM_TOOL_ARG_REQUIRED, "String: reader_class", "The class name of the class to use for reading lines from standard in. Only the default kafka.tools.ConsoleProducer$LineMessageReader is supported." },
    { "max-block-ms", SM_TOOL_ARG_REQUIRED, "Long: max block on send", "The max time that the producer will block for during a send request (default: 60000); accepted for compatibility." },
    { "max-memory-bytes", SM_TOOL_ARG_REQUIRED, "Long: total memory in bytes", "The total memory used by the producer to buffer records waiting to be sent to the server. (default: 33554432)" },
    { "max-partition-memory-bytes", SM_TOOL_ARG_REQUIRED, "Long: memory in bytes per partition", "The buffer size allocated for a partition. When records are received which are smaller than this size the producer will attempt to optimistically group them together until this size is reached. (default: 16384)" },
    { "message-send-max-retries", SM_TOOL_ARG_REQUIRED, "Integer", "Brokers can fail receiving the message for multiple reasons, and being unavailable transiently is just one of them. This property specifies the number of retries before the producer give up and drop this message. (default: 3)" },
    { "metadata-expiry-ms", SM_TOOL_ARG_REQUIRED, "Long: metadata expiration interval", "The period of time in milliseconds after which we force a refresh of metadata even if we haven't seen any leadership changes. (default: 300000)" },
    { "producer-property", SM_TOOL_ARG_REQUIRED, "String: producer_prop", "A mechanism to pass user-defined properties in the form key=value to the producer." },
    { "producer.config", SM_TOOL_ARG_REQUIRED, "String: config file", "Producer config properties file. Note that [producer-property] takes precedence over this config." },
    { "property", SM_TOOL_ARG_REQUIRED, "String: prop", "A mechanism to pass user-defined properties in the form key=value to the message reader. This allows custom configuration for a user-defined message reader. Default properties include:\n\tparse.key=true|false\n\tkey.separator=<key.separator>\n\tignore.error=true|false" },
    { "request-required-acks", SM_TOOL_ARG_REQUIRED, "String: request required acks", "The required acks of the producer requests (default: 1)" },
    { "request-timeout-ms", SM_TOOL_ARG_REQUIRED, "Integer: request timeout ms", "The ack timeout of the producer requests. Value must be non-negative and non-zero (default: 1500)" },
    { "retry-backoff-ms", SM_TOOL_ARG_REQUIRED, "Integer", "Before each retry, the producer refreshes the metadata of relevant topics. Since leader election takes a bit of time, this property specifies the amount of time that the producer waits before refreshing the metadata. (default: 100)" },
    { "socket-buffer-size", SM_TOOL_ARG_REQUIRED, "Integer: size", "The size of the tcp RECV size. (default: 102400)" },
    { "sync", SM_TOOL_ARG_NONE, NULL, "If set message send requests to the brokers are synchronously, one at a time as they arrive." },
    { "timeout", SM_TOOL_ARG_REQUIRED, "Integer: timeout_ms", "If set and the producer is running in asynchronous mode, this gives the maximum amount of time a message will queue awaiting sufficient batch size. The value is given in ms. (default: 1000)" },
    { "topic", SM_TOOL_ARG_REQUIRED, "String: topic", "REQUIRED: The topic id to produce messages to." },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { NULL, 0, NULL, NULL },
};

static const sm_tool_cli_t producer_cli = {
    .opts = producer_opts,
    .no_args_msg = "This tool helps to read data from standard input and publish it to Kafka.",
    .help_header = "This tool helps to read data from standard input and publish it to Kafka.",
    .version_tag = "samsa",
};

static long g_failed;
static long g_delivered;

/* Like Kafka's ErrorLoggingCallback: one line per failed record. */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk; (void)opaque;
    if (!m->err) {
        g_delivered++;
        return;
    }
    g_failed++;
    fprintf(stderr, "ERROR Error when sending message to topic %s with key: %s, value: %zu bytes with error: %s\n",
            rd_kafka_topic_name(m->rkt), m->key ? "<present>" : "null", m->len, rd_kafka_err2str(m->err));
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 4) fprintf(stderr, "WARN [%s] %s\n", fac, buf);
}

static void
conf_put(rd_kafka_conf_t *conf, const char *key, const char *value, int *sync)
{
    sm_tool_rdk_conf_put(conf, 1, key, value, sync);
}

/* A flag's value, else its default unless the user configured the
 * librdkafka key already (CommandLineUtils.maybeMergeOptions); `user` holds
 * the user's mapped keys. */
static void
merge_flag(rd_kafka_conf_t *conf, const sm_props_t *user, const sm_tool_args_t *a, const char *flag,
           const char *key, const char *def, int *sync)
{
    const char *v = sm_tool_get(a, flag);
    if (v) conf_put(conf, key, v, sync);
    else if (def && !sm_props_get(user, key)) conf_put(conf, key, def, sync);
}

int
main(int argc, char **argv)
{
    sm_tool_args_t a;
    char err[512];
    sm_log_level = SM_LOG_WARN;
    sm_tool_cli_parse(&producer_cli, &a, argc, argv);
    sm_tool_check_required(&a, "topic");
    const char *servers = sm_tool_get(&a, "bootstrap-server");
    if (!servers) servers = sm_tool_get(&a, "broker-list");
    const char *lr = sm_tool_get(&a, "line-reader");
    if (lr && strcmp(lr, "kafka.tools.ConsoleProducer$LineMessageReader"))
        sm_tool_error_die("Only the default line reader kafka.tools.ConsoleProducer$LineMessageReader is supported");

    /* Reader properties. */
    sm_props_t rprops;
    sm_props_init(&rprops);
    int n;
    char **vals = sm_tool_get_all(&a, "property", &n);
    if (sm_tool_props_add_kvs(&rprops, vals, n)) sm_tool_error_die("Invalid parser arguments: property must be key=value");
    const char *pk = sm_props_get(&rprops, "parse.key");
    int parse_key = pk && !strcasecmp(pk, "true");
    const char *ie = sm_props_get(&rprops, "ignore.error");
    int ignore_error = ie && !strcasecmp(ie, "true");
    const char *ksep = sm_props_get(&rprops, "key.separator");
    if (!ksep) ksep = "\t";

    /* Producer properties: file < --producer-property < flags. */
    int sync = sm_tool_has(&a, "sync");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    sm_props_t user;
    sm_props_init(&user);
    const char *pc = sm_tool_get(&a, "producer.config");
    if (pc && sm_props_load(&user, pc, err, sizeof err)) sm_tool_error_die(err);
    vals = sm_tool_get_all(&a, "producer-property", &n);
    if (sm_tool_props_add_kvs(&user, vals, n)) sm_tool_error_die("Invalid producer property: must be key=value");
    sm_props_t mapped;   /* librdkafka keys the user set, for maybeMerge */
    sm_props_init(&mapped);
    for (size_t i = 0; i < user.n; i++) {
        const char *k;
        char v[2048];
        int dummy = 0;
        if (sm_tool_map_producer_prop(user.items[i].key, user.items[i].value, &k, v, sizeof v, &dummy) == SM_TOOL_MAP_SET)
            sm_props_set(&mapped, k, v);
        conf_put(conf, user.items[i].key, user.items[i].value, &sync);
    }
    if (servers) conf_put(conf, "bootstrap.servers", servers, &sync);
    else if (!sm_props_get(&mapped, "bootstrap.servers"))
        sm_tool_usage_die(producer_opts, "Missing required argument \"[bootstrap-server]\"");
    if (sm_tool_has(&a, "compression-codec")) {
        const char *cc = sm_tool_get(&a, "compression-codec");
        const char *name = sm_tool_compression_name(cc ? cc : "gzip");
        if (!name) sm_tool_error_die("Invalid compression codec: use none, gzip, snappy, lz4 or zstd");
        conf_put(conf, "compression.type", name, &sync);
    }
    if (!sm_props_get(&mapped, "client.id")) conf_put(conf, "client.id", "console-producer", &sync);
    merge_flag(conf, &mapped, &a, "request-required-acks", "acks", "1", &sync);
    merge_flag(conf, &mapped, &a, "timeout", "linger.ms", "1000", &sync);
    merge_flag(conf, &mapped, &a, "message-send-max-retries", "retries", "3", &sync);
    merge_flag(conf, &mapped, &a, "retry-backoff-ms", "retry.backoff.ms", "100", &sync);
    merge_flag(conf, &mapped, &a, "request-timeout-ms", "request.timeout.ms", "1500", &sync);
    merge_flag(conf, &mapped, &a, "metadata-expiry-ms", "metadata.max.age.ms", "300000", &sync);
    merge_flag(conf, &mapped, &a, "max-partition-memory-bytes", "batch.size", "16384", &sync);
    merge_flag(conf, &mapped, &a, "socket-buffer-size", "socket.send.buffer.bytes", "102400", &sync);
    if (sm_tool_get(&a, "max-memory-bytes")) {
        int64_t b;
        if (sm_parse_i64(sm_tool_get(&a, "max-memory-bytes"), &b) || b < 1024) sm_tool_error_die("Invalid --max-memory-bytes");
        char kb[32];
        snprintf(kb, sizeof kb, "%lld", (long long)(b / 1024));
        conf_put(conf, "queue.buffering.max.kbytes", kb, &sync);
    }
    /* Kafka's delivery.timeout.ms default: give up on a record after 2 min
     * rather than librdkafka's 5. */
    if (!sm_props_get(&mapped, "message.timeout.ms")) conf_put(conf, "message.timeout.ms", "120000", &sync);
    if (sync) conf_put(conf, "linger.ms", "0", &sync);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_log_cb(conf, on_log);

    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) sm_tool_error_die(err);
    const char *topic = sm_tool_get(&a, "topic");
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

    sm_tool_catch_stop_signals();

    int prompt = isatty(0) && isatty(1);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    for (;;) {
        if (prompt) {
            fputs(">", stdout);
            fflush(stdout);
        }
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0 || sm_tool_stop) break;
        lineno++;
        /* BufferedReader.readLine strips "\n", "\r\n" or "\r". */
        if (len > 0 && line[len - 1] == '\n') len--;
        if (len > 0 && line[len - 1] == '\r') len--;
        const char *key = NULL, *val = line;
        size_t keylen = 0, vallen = (size_t)len;
        if (parse_key) {
            if (sm_tool_split_key(line, (size_t)len, ksep, &keylen, &val, &vallen)) {
                key = line;
            } else if (!ignore_error) {
                fprintf(stderr, "ERROR No key found on line %ld: %.*s\n", lineno, (int)len, line);
                rc = 1;
                break;
            }
        }
        for (;;) {
            if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)val, vallen, key, keylen, NULL) == 0)
                break;
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "ERROR Error when sending message to topic %s: %s\n", topic, rd_kafka_err2str(e));
                g_failed++;
                break;
            }
            rd_kafka_poll(rk, 100);   /* back-pressure: wait for deliveries */
        }
        if (sync) rd_kafka_flush(rk, -1);
        else rd_kafka_poll(rk, 0);
    }
    free(line);
    /* Flush until every record has a delivery report (message.timeout.ms bounds it). */
    while (rd_kafka_outq_len(rk) > 0 && !sm_tool_stop) rd_kafka_flush(rk, 1000);
    if (sm_tool_stop) rd_kafka_flush(rk, 5000);
    /* Snapshot before destroy: purged records would report again. */
    long failed = g_failed + rd_kafka_outq_len(rk);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (failed > 0) {
        fprintf(stderr, "%ld message(s) failed to be delivered\n", failed);
        rc = 1;
    }
    sm_props_free(&rprops);
    sm_props_free(&user);
    sm_props_free(&mapped);
    sm_tool_args_free(&a);
    return rc;
}

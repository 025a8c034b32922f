/*
 * tests/unit/check_tools.c - unit tests of the tools' pure helpers
 * (src/tools/sm_tool.c): option parsing, kafka-topics.sh line formats,
 * --replica-assignment / --config parsing, topic filters, property-key
 * mapping, the producer's key split and the consumer's record formatter,
 * and the common front end every tool's main uses (exits are checked in a
 * forked child whose stdout+stderr are captured).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "sm_test.h"

static const sm_tool_opt_t T[] = {
    { "topic", SM_TOOL_ARG_REQUIRED, "topic", "t" },
    { "topics-with-overrides", SM_TOOL_ARG_NONE, NULL, "o" },
    { "config", SM_TOOL_ARG_REQUIRED, NULL, "c" },
    { "compression-codec", SM_TOOL_ARG_OPTIONAL, NULL, "z" },
    { "create", SM_TOOL_ARG_NONE, NULL, "x" },
    { "list", SM_TOOL_ARG_NONE, NULL, "l" },
    { NULL, 0, NULL, NULL },
};

static int
parse(sm_tool_args_t *a, char *err, const char *const *words)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "prog";
    for (int i = 0; words[i]; i++) argv[argc++] = (char *)words[i];
    return sm_tool_args_parse(a, T, argc, argv, err, 256);
}

START_TEST(t_args_basic)
{
    sm_tool_args_t a;
    char err[256];
    const char *w[] = { "--topic", "t1", "--config=a=b", "--config", "c=d", "--create", "--compression-codec", NULL };
    ck_assert_int_eq(parse(&a, err, w), 0);
    ck_assert_str_eq(sm_tool_get(&a, "topic"), "t1");
    int n;
    char **v = sm_tool_get_all(&a, "config", &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(v[0], "a=b");
    ck_assert_str_eq(v[1], "c=d");
    ck_assert(sm_tool_has(&a, "create"));
    ck_assert(!sm_tool_has(&a, "list"));
    ck_assert(sm_tool_has(&a, "compression-codec"));
    ck_assert_ptr_null(sm_tool_get(&a, "compression-codec"));
    sm_tool_args_free(&a);

    const char *w2[] = { "--compression-codec", "lz4", "--list", NULL };
    ck_assert_int_eq(parse(&a, err, w2), 0);
    ck_assert_str_eq(sm_tool_get(&a, "compression-codec"), "lz4");
    sm_tool_args_free(&a);

    /* optional value not taken when the next word is an option */
    const char *w3[] = { "--compression-codec", "--list", NULL };
    ck_assert_int_eq(parse(&a, err, w3), 0);
    ck_assert_ptr_null(sm_tool_get(&a, "compression-codec"));
    ck_assert(sm_tool_has(&a, "list"));
    sm_tool_args_free(&a);
}
END_TEST

START_TEST(t_args_prefix_and_errors)
{
    sm_tool_args_t a;
    char err[256];
    /* exact "topic" wins over the longer "topics-with-overrides" */
    const char *w1[] = { "--topic", "x", "--cr", NULL };
    ck_assert_int_eq(parse(&a, err, w1), 0);
    ck_assert_str_eq(sm_tool_get(&a, "topic"), "x");
    ck_assert(sm_tool_has(&a, "create"));
    sm_tool_args_free(&a);

    const char *w2[] = { "--c", "x", NULL };   /* config / compression-codec / create */
    ck_assert_int_eq(parse(&a, err, w2), -1);
    ck_assert_str_eq(err, "c is ambiguous");
    sm_tool_args_free(&a);

    const char *w3[] = { "--bootstrap-server", "h:1", NULL };
    ck_assert_int_eq(parse(&a, err, w3), -1);
    ck_assert_str_eq(err, "bootstrap-server is not a recognized option");
    sm_tool_args_free(&a);

    const char *w4[] = { "--topic", NULL };
    ck_assert_int_eq(parse(&a, err, w4), -1);
    ck_assert_str_eq(err, "Option topic requires an argument");
    sm_tool_args_free(&a);

    const char *w5[] = { "stray", NULL };
    ck_assert_int_eq(parse(&a, err, w5), -1);
    ck_assert_str_eq(err, "Found non-option argument: stray");
    sm_tool_args_free(&a);

    const char *w6[] = { "--list=yes", NULL };
    ck_assert_int_eq(parse(&a, err, w6), -1);
    sm_tool_args_free(&a);

    int32_t v;
    ck_assert_int_eq(sm_tool_parse_int("12", &v), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(sm_tool_parse_int("12x", &v), -1);
    ck_assert_int_eq(sm_tool_parse_int("99999999999", &v), -1);
}
END_TEST

START_TEST(t_topic_lines)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    char *s;
    sm_tool_fmt_topic_line(&w, SM_TOOL_FMT_28, "t", NULL, 3, 2, "a=1,b=2", 0);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "Topic: t\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: a=1,b=2\n");
    free(s);
    sm_tool_fmt_topic_line(&w, SM_TOOL_FMT_28, "t", "AAAAAAAAAAAAAAAAAAAAAA", 1, 1, "", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "Topic: t\tTopicId: AAAAAAAAAAAAAAAAAAAAAA\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \tMarkedForDeletion: true\n");
    free(s);
    sm_tool_fmt_topic_line(&w, SM_TOOL_FMT_24, "t", "AAAA", 1, 1, "", 0);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "Topic: t\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n");
    free(s);
    sm_tool_fmt_topic_line(&w, SM_TOOL_FMT_20, "t", NULL, 3, 1, "x=y", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "Topic:t\tPartitionCount:3\tReplicationFactor:1\tConfigs:x=y\tMarkedForDeletion:true\n");
    free(s);

    int32_t rep[] = { 1, 2 }, isr[] = { 2 };
    sm_tool_fmt_partition_line(&w, "orders", 1, 2, rep, 2, isr, 1, 0);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 1,2\tIsr: 2\n");
    free(s);
    sm_tool_fmt_partition_line(&w, "orders", 2, -1, rep, 2, NULL, 0, 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "\tTopic: orders\tPartition: 2\tLeader: none\tReplicas: 1,2\tIsr: \tMarkedForDeletion: true\n");
    free(s);
    sm_wbuf_free(&w);

    sm_props_t p;
    sm_props_init(&p);
    s = sm_tool_join_configs(&p);
    ck_assert_str_eq(s, "");
    free(s);
    sm_props_set(&p, "retention.ms", "1000");
    sm_props_set(&p, "cleanup.policy", "compact");
    s = sm_tool_join_configs(&p);
    ck_assert_str_eq(s, "retention.ms=1000,cleanup.policy=compact");
    free(s);
    sm_props_free(&p);

    setenv("SAMSA_KAFKA_VERSION", "2.3", 1);
    ck_assert_int_eq(sm_tool_fmt_from_env(), SM_TOOL_FMT_20);
    setenv("SAMSA_KAFKA_VERSION", "2.7", 1);
    ck_assert_int_eq(sm_tool_fmt_from_env(), SM_TOOL_FMT_24);
    unsetenv("SAMSA_KAFKA_VERSION");
    ck_assert_int_eq(sm_tool_fmt_from_env(), SM_TOOL_FMT_28);
}
END_TEST

START_TEST(t_replica_assignment)
{
    sm_topic_assignment_t a;
    char err[256];
    ck_assert_int_eq(sm_tool_parse_replica_assignment("1:2, 2 :3,3:1", &a, err, sizeof err), 0);
    ck_assert_int_eq(a.npartitions, 3);
    ck_assert_int_eq(a.nreplicas[1], 2);
    ck_assert_int_eq(a.replicas[0][0], 1);
    ck_assert_int_eq(a.replicas[0][1], 2);
    ck_assert_int_eq(a.replicas[1][0], 2);
    ck_assert_int_eq(a.replicas[1][1], 3);
    ck_assert_int_eq(a.replicas[2][1], 1);
    sm_tool_assignment_free(&a);

    ck_assert_int_eq(sm_tool_parse_replica_assignment("1:1", &a, err, sizeof err), -1);
    ck_assert_str_eq(err, "Partition replica lists may not contain duplicate entries: 1");
    ck_assert_int_eq(sm_tool_parse_replica_assignment("1:2,3", &a, err, sizeof err), -1);
    ck_assert_str_eq(err, "Partition 1 has different replication factor: 3");
    ck_assert_int_eq(sm_tool_parse_replica_assignment("1:x", &a, err, sizeof err), -1);
    ck_assert_str_eq(err, "For input string: \"x\"");
    ck_assert_int_eq(sm_tool_parse_replica_assignment("1,", &a, err, sizeof err), -1);

    /* every prefix of a valid string either parses or fails cleanly */
    const char *full = "10:20:30,20:30:10,30:10:20";
    for (size_t i = 0; i <= strlen(full); i++) {
        char *pre = sm_strndup(full, i);
        int rc = sm_tool_parse_replica_assignment(pre, &a, err, sizeof err);
        if (rc == 0) {
            ck_assert_int_gt(a.npartitions, 0);
            sm_tool_assignment_free(&a);
        }
        free(pre);
    }
}
END_TEST

START_TEST(t_topic_configs)
{
    sm_props_t p;
    char err[256];
    sm_props_init(&p);
    char *ok[] = { "retention.ms=1000", " cleanup.policy = compact " };
    ck_assert_int_eq(sm_tool_parse_topic_configs(ok, 2, &p, err, sizeof err), 0);
    ck_assert_str_eq(sm_props_get(&p, "retention.ms"), "1000");
    ck_assert_str_eq(sm_props_get(&p, "cleanup.policy"), "compact");
    char *bad1[] = { "retention.ms" };
    ck_assert_int_eq(sm_tool_parse_topic_configs(bad1, 1, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "Invalid topic config: all configs to be added must be in the format \"key=val\".");
    char *bad2[] = { "a=b=c" };
    ck_assert_int_eq(sm_tool_parse_topic_configs(bad2, 1, &p, err, sizeof err), -1);
    char *bad3[] = { "no.such.config=1" };
    ck_assert_int_eq(sm_tool_parse_topic_configs(bad3, 1, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "Unknown topic config name: no.such.config");
    sm_props_free(&p);
    ck_assert(sm_tool_topic_is_internal("__consumer_offsets"));
    ck_assert(!sm_tool_topic_is_internal("orders"));
    ck_assert(sm_tool_topic_has_collision_chars("a.b"));
    ck_assert(!sm_tool_topic_has_collision_chars("a-b"));
}
END_TEST

START_TEST(t_filter)
{
    sm_tool_filter_t f;
    char err[256];
    ck_assert_int_eq(sm_tool_filter_init(&f, "test", err, sizeof err), 0);
    ck_assert(sm_tool_filter_match(&f, "test"));
    ck_assert(!sm_tool_filter_match(&f, "test2"));    /* whole-name match */
    ck_assert(!sm_tool_filter_match(&f, "mytest"));
    sm_tool_filter_free(&f);
    ck_assert_int_eq(sm_tool_filter_init(&f, "\"a.*, b\"", err, sizeof err), 0);
    ck_assert(sm_tool_filter_match(&f, "abc"));
    ck_assert(sm_tool_filter_match(&f, "b"));
    ck_assert(!sm_tool_filter_match(&f, "bc"));
    sm_tool_filter_free(&f);
    ck_assert_int_eq(sm_tool_filter_init(&f, "test\\.topic", err, sizeof err), 0);
    ck_assert(sm_tool_filter_match(&f, "test.topic"));
    ck_assert(!sm_tool_filter_match(&f, "testXtopic"));
    sm_tool_filter_free(&f);
    ck_assert_int_eq(sm_tool_filter_init(&f, "a(", err, sizeof err), -1);
    ck_assert(!sm_tool_filter_match(&f, "a("));
    sm_tool_filter_free(&f);
}
END_TEST

START_TEST(t_prop_mapping)
{
    const char *k;
    char v[128];
    int sync = 0;
    ck_assert_int_eq(sm_tool_map_producer_prop("metadata.broker.list", "h:1", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "bootstrap.servers");
    ck_assert_str_eq(v, "h:1");
    ck_assert_int_eq(sm_tool_map_producer_prop("request.required.acks", "-1", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "acks");
    ck_assert_str_eq(v, "-1");
    ck_assert_int_eq(sm_tool_map_producer_prop("compression.codec", "2", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "compression.type");
    ck_assert_str_eq(v, "snappy");
    ck_assert_int_eq(sm_tool_map_producer_prop("compression.codec", "none", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(v, "none");
    ck_assert_int_eq(sm_tool_map_producer_prop("compression.codec", "brotli", &k, v, sizeof v, &sync), SM_TOOL_MAP_BAD);
    ck_assert_int_eq(sm_tool_map_producer_prop("queue.buffering.max.ms", "5000", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "linger.ms");
    ck_assert_int_eq(sm_tool_map_producer_prop("message.send.max.retries", "3", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "retries");
    ck_assert_int_eq(sm_tool_map_producer_prop("batch.num.messages", "500", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "batch.num.messages");
    ck_assert_int_eq(sm_tool_map_producer_prop("retry.backoff.ms", "100", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "retry.backoff.ms");
    ck_assert_int_eq(sync, 0);
    ck_assert_int_eq(sm_tool_map_producer_prop("producer.type", "sync", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "linger.ms");
    ck_assert_str_eq(v, "0");
    ck_assert_int_eq(sync, 1);
    ck_assert_int_eq(sm_tool_map_producer_prop("producer.type", "async", &k, v, sizeof v, &sync), SM_TOOL_MAP_IGNORE);
    ck_assert_int_eq(sm_tool_map_producer_prop("serializer.class", "kafka.serializer.DefaultEncoder", &k, v, sizeof v, &sync), SM_TOOL_MAP_WARN);
    ck_assert_int_eq(sm_tool_map_producer_prop("send.buffer.bytes", "1", &k, v, sizeof v, &sync), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "socket.send.buffer.bytes");

    ck_assert_int_eq(sm_tool_map_consumer_prop("auto.offset.reset", "smallest", &k, v, sizeof v), SM_TOOL_MAP_SET);
    ck_assert_str_eq(v, "earliest");
    ck_assert_int_eq(sm_tool_map_consumer_prop("auto.offset.reset", "largest", &k, v, sizeof v), SM_TOOL_MAP_SET);
    ck_assert_str_eq(v, "latest");
    ck_assert_int_eq(sm_tool_map_consumer_prop("auto.offset.reset", "bogus", &k, v, sizeof v), SM_TOOL_MAP_BAD);
    ck_assert_int_eq(sm_tool_map_consumer_prop("auto.commit.enable", "true", &k, v, sizeof v), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "enable.auto.commit");
    ck_assert_int_eq(sm_tool_map_consumer_prop("group.id", "itcast", &k, v, sizeof v), SM_TOOL_MAP_SET);
    ck_assert_str_eq(k, "group.id");
    ck_assert_str_eq(v, "itcast");
    ck_assert_int_eq(sm_tool_map_consumer_prop("zookeeper.connect", "zk:2181", &k, v, sizeof v), SM_TOOL_MAP_WARN);

    ck_assert_str_eq(sm_tool_compression_name("GZIP"), "gzip");
    ck_assert_str_eq(sm_tool_compression_name("4"), "zstd");
    ck_assert_ptr_null(sm_tool_compression_name("5"));
}
END_TEST

START_TEST(t_split_key)
{
    size_t kl, vl;
    const char *v;
    ck_assert_int_eq(sm_tool_split_key("k\tv\tw", 5, "\t", &kl, &v, &vl), 1);
    ck_assert_uint_eq(kl, 1);
    ck_assert_uint_eq(vl, 3);
    ck_assert(!memcmp(v, "v\tw", 3));
    ck_assert_int_eq(sm_tool_split_key("key::val", 8, "::", &kl, &v, &vl), 1);
    ck_assert_uint_eq(kl, 3);
    ck_assert(!memcmp(v, "val", 3));
    ck_assert_int_eq(sm_tool_split_key("novalue", 7, ":", &kl, &v, &vl), 0);
    ck_assert_int_eq(sm_tool_split_key("a", 1, "", &kl, &v, &vl), 0);
    ck_assert_int_eq(sm_tool_split_key(":", 1, ":", &kl, &v, &vl), 1);
    ck_assert_uint_eq(kl, 0);
    ck_assert_uint_eq(vl, 0);
}
END_TEST

START_TEST(t_formatter)
{
    sm_props_t p;
    sm_props_init(&p);
    sm_tool_fmtopts_t o;
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    char *s;

    sm_tool_fmtopts_init(&o, &p);
    sm_tool_format_record(&w, &o, SM_TOOL_TS_CREATE, 5, 0, 7, NULL, 0, "k", 1, "hello", 5);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "hello\n");
    free(s);
    sm_tool_format_record(&w, &o, SM_TOOL_TS_CREATE, 5, 0, 7, NULL, 0, NULL, 0, NULL, 0);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "null\n");
    free(s);
    sm_tool_fmtopts_free(&o);

    sm_props_set(&p, "print.key", "true");
    sm_props_set(&p, "print.timestamp", " TRUE ");
    sm_props_set(&p, "print.offset", "true");
    sm_props_set(&p, "print.partition", "true");
    sm_props_set(&p, "key.separator", ":");
    sm_tool_fmtopts_init(&o, &p);
    sm_tool_format_record(&w, &o, SM_TOOL_TS_CREATE, 1700000000000LL, 2, 42, NULL, 0, NULL, 0, "v", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "CreateTime:1700000000000:Partition:2:Offset:42:null:v\n");
    free(s);
    sm_tool_format_record(&w, &o, SM_TOOL_TS_NONE, -1, 0, 0, NULL, 0, "k", 1, "v", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "NO_TIMESTAMP:Partition:0:Offset:0:k:v\n");
    free(s);
    sm_tool_fmtopts_free(&o);

    /* print.value=false: the key is followed by the line separator */
    sm_props_free(&p);
    sm_props_init(&p);
    sm_props_set(&p, "print.key", "true");
    sm_props_set(&p, "print.value", "false");
    sm_props_set(&p, "print.headers", "true");
    sm_tool_fmtopts_init(&o, &p);
    sm_tool_header_t h[2] = { { "a", 1, "1", 1 }, { "b", 1, NULL, 0 } };
    sm_tool_format_record(&w, &o, SM_TOOL_TS_LOGAPPEND, 9, 0, 0, h, 2, "k", 1, "v", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "a:1,b:null\tk\n");
    free(s);
    sm_tool_format_record(&w, &o, SM_TOOL_TS_LOGAPPEND, 9, 0, 0, NULL, 0, "k", 1, "v", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "NO_HEADERS\tk\n");
    free(s);
    sm_tool_fmtopts_free(&o);
    sm_props_free(&p);
    sm_wbuf_free(&w);

    int64_t off;
    ck_assert_int_eq(sm_tool_parse_offset("earliest", &off), 0);
    ck_assert_int_eq(off, -2);
    ck_assert_int_eq(sm_tool_parse_offset("latest", &off), 0);
    ck_assert_int_eq(off, -1);
    ck_assert_int_eq(sm_tool_parse_offset("17", &off), 0);
    ck_assert_int_eq(off, 17);
    ck_assert_int_eq(sm_tool_parse_offset("-3", &off), -1);
    ck_assert_int_eq(sm_tool_parse_offset("x", &off), -1);
}
END_TEST


/* ---- common front end ---------------------------------------------------- */

static const sm_tool_opt_t F[] = {
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "list", SM_TOOL_ARG_NONE, NULL, "List." },
    { "topic", SM_TOOL_ARG_REQUIRED, "String: topic", "The topic." },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { NULL, 0, NULL, NULL },
};

/* Returned by the child when the code under test did not exit. */
#define RETURNED 42

typedef void (*front_fn)(int argc, char **argv);

/* Run fn(argc, argv) in a child with stdout and stderr on one pipe. Returns
 * the child's exit status; out gets what it printed (NUL-terminated). */
static int
run_captured(front_fn fn, const char *const *words, char *out, size_t outlen)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = "prog";
    for (int i = 0; words[i]; i++) argv[argc++] = (char *)words[i];
    argv[argc] = NULL;
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        setvbuf(stderr, NULL, _IOFBF, 4096);   /* keep stdout/stderr order simple: one flush each */
        fn(argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(RETURNED);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd[0], out + len, outlen - 1 - len)) > 0) len += (size_t)r;
    out[len] = '\0';
    close(fd[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static const sm_tool_cli_t cli_try = {
    .opts = F, .no_args_msg = "Does things.", .help_header = "This tool does things.", .version_tag = "samsa",
};
static const sm_tool_cli_t cli_usage = {
    .opts = F, .no_args_msg = "Does things.", .version_tag = "Commit:samsa", .usage_on_bad_args = 1,
};

static void
front_try(int argc, char **argv)
{
    sm_tool_args_t a;
    sm_tool_cli_parse(&cli_try, &a, argc, argv);
    printf("ran topic=%s\n", sm_tool_get(&a, "topic") ? sm_tool_get(&a, "topic") : "-");
    sm_tool_args_free(&a);
}

static void
front_usage(int argc, char **argv)
{
    sm_tool_args_t a;
    sm_tool_cli_parse(&cli_usage, &a, argc, argv);
    sm_tool_check_required(&a, "topic");
    static const char *const bad[] = { "help", "list", NULL };
    sm_tool_check_invalid(&a, "topic", bad);
    printf("ran\n");
    sm_tool_args_free(&a);
}

static void
front_fail(int argc, char **argv)
{
    (void)argc;
    sm_tool_fail("Error: ", "bad %s %d", argv[0], 7);
}

static void
front_error_die(int argc, char **argv)
{
    (void)argc; (void)argv;
    sm_tool_error_die("Invalid thing");
}

START_TEST(t_cli_front)
{
    char out[8192];
    const char *none[] = { NULL };
    ck_assert_int_eq(run_captured(front_try, none, out, sizeof out), 1);
    ck_assert(!strncmp(out, "Does things.\nOption ", 20));

    const char *help[] = { "--help", NULL };
    ck_assert_int_eq(run_captured(front_try, help, out, sizeof out), 0);
    ck_assert(!strncmp(out, "This tool does things.\nOption ", 30));
    ck_assert_ptr_nonnull(strstr(out, "--topic <String: topic>"));
    ck_assert_int_eq(run_captured(front_usage, help, out, sizeof out), 0);
    ck_assert(!strncmp(out, "Option ", 7));

    const char *ver[] = { "--vers", NULL };
    ck_assert_int_eq(run_captured(front_try, ver, out, sizeof out), 0);
    ck_assert_str_eq(strchr(out, ' '), " (samsa)\n");
    ck_assert_int_eq(run_captured(front_usage, ver, out, sizeof out), 0);
    ck_assert_str_eq(strchr(out, ' '), " (Commit:samsa)\n");

    const char *bogus[] = { "--bogus", NULL };
    ck_assert_int_eq(run_captured(front_try, bogus, out, sizeof out), 1);
    ck_assert_str_eq(out, "bogus is not a recognized option\nTry 'prog --help' for the list of options.\n");
    ck_assert_int_eq(run_captured(front_usage, bogus, out, sizeof out), 1);
    ck_assert(!strncmp(out, "bogus is not a recognized option\nOption ", 40));

    const char *ok[] = { "--topic", "t1", NULL };
    ck_assert_int_eq(run_captured(front_try, ok, out, sizeof out), RETURNED);
    ck_assert_str_eq(out, "ran topic=t1\n");
    ck_assert_int_eq(run_captured(front_usage, ok, out, sizeof out), RETURNED);
    ck_assert_str_eq(out, "ran\n");
}
END_TEST

START_TEST(t_cli_checks_and_exits)
{
    char out[8192];
    const char *missing[] = { "--list", NULL };
    ck_assert_int_eq(run_captured(front_usage, missing, out, sizeof out), 1);
    ck_assert(!strncmp(out, "Missing required argument \"[topic]\"\nOption ", 43));

    const char *clash[] = { "--topic", "t", "--list", NULL };
    ck_assert_int_eq(run_captured(front_usage, clash, out, sizeof out), 1);
    ck_assert(!strncmp(out, "Option \"[topic]\" can't be used with option \"[list]\"\nOption ", 59));

    ck_assert_int_eq(run_captured(front_fail, missing, out, sizeof out), 1);
    ck_assert_str_eq(out, "Error: bad prog 7\n");
    ck_assert_int_eq(run_captured(front_error_die, missing, out, sizeof out), 1);
    ck_assert_str_eq(out, "ERROR Invalid thing\n");
}
END_TEST

START_TEST(t_shared_helpers)
{
    sm_props_t p;
    sm_props_init(&p);
    char *kvs[] = { "a=1", "b=2", "a=3", "c=4" };
    ck_assert_int_eq(sm_tool_props_add_kvs(&p, kvs, 4), 0);
    ck_assert_int_eq((int)p.n, 3);
    ck_assert_str_eq(sm_props_get(&p, "a"), "3");
    char *bad[] = { "d=5", "noequals", "e=6" };
    ck_assert_int_eq(sm_tool_props_add_kvs(&p, bad, 3), -1);
    ck_assert_str_eq(sm_props_get(&p, "d"), "5");
    ck_assert_ptr_null(sm_props_get(&p, "e"));
    char *nul[] = { NULL };
    ck_assert_int_eq(sm_tool_props_add_kvs(&p, nul, 1), -1);

    ck_assert_int_eq(sm_tool_props_remove(&p, "a"), 1);
    ck_assert_int_eq(sm_tool_props_remove(&p, "a"), 0);
    ck_assert_int_eq((int)p.n, 3);
    /* The rest keep their order. */
    ck_assert_str_eq(p.items[0].key, "b");
    ck_assert_str_eq(p.items[1].key, "c");
    ck_assert_str_eq(p.items[2].key, "d");
    sm_props_free(&p);

    ck_assert_int_lt(sm_tool_cmp_tp("a", 9, "b", 0), 0);
    ck_assert_int_gt(sm_tool_cmp_tp("b", 0, "a", 9), 0);
    ck_assert_int_lt(sm_tool_cmp_tp("a", 1, "a", 2), 0);
    ck_assert_int_gt(sm_tool_cmp_tp("a", 10, "a", 2), 0);
    ck_assert_int_eq(sm_tool_cmp_tp("a", 2, "a", 2), 0);
    char *names[] = { "zeta", "alpha", "mid" };
    qsort(names, 3, sizeof(char *), sm_tool_cmp_str);
    ck_assert_str_eq(names[0], "alpha");
    ck_assert_str_eq(names[2], "zeta");

    sm_wbuf_t w;
    sm_wbuf_init(&w, 4);
    sm_tool_wprintf(&w, "%s-%d", "x", 1);
    char longv[300];
    memset(longv, 'q', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    sm_tool_wprintf(&w, "[%s]", longv);    /* longer than any internal scratch buffer */
    ck_assert_uint_eq(w.len, 3 + 2 + 299);
    ck_assert(!memcmp(w.data, "x-1[qqq", 7));
    ck_assert_int_eq(w.data[w.len - 1], ']');
    sm_wbuf_free(&w);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("tools");
    TCase *tc = tcase_create("tools");
    tcase_add_test(tc, t_args_basic);
    tcase_add_test(tc, t_args_prefix_and_errors);
    tcase_add_test(tc, t_topic_lines);
    tcase_add_test(tc, t_replica_assignment);
    tcase_add_test(tc, t_topic_configs);
    tcase_add_test(tc, t_filter);
    tcase_add_test(tc, t_prop_mapping);
    tcase_add_test(tc, t_split_key);
    tcase_add_test(tc, t_formatter);
    tcase_add_test(tc, t_cli_front);
    tcase_add_test(tc, t_cli_checks_and_exits);
    tcase_add_test(tc, t_shared_helpers);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}

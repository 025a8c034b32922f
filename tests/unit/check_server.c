/*
 * check_server.c - unit tests for the broker's config loading (Kafka keys,
 * defaults, legacy keys, validation errors) and the metadata cache.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "server/sm_config.h"
#include "server/sm_metadata.h"
#include "sm_test.h"

static char *
write_props(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/samsa-check-server-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int
load(sm_broker_config_t *c, const char *text, const char *override, char *err, size_t errlen)
{
    sm_props_t ov;
    sm_props_init(&ov);
    if (override) sm_props_set_kv(&ov, override);
    char *path = write_props(text);
    int rc = sm_broker_config_load(c, path, &ov, err, errlen);
    unlink(path);
    sm_props_free(&ov);
    return rc;
}

START_TEST(t_defaults)
{
    sm_broker_config_t c;
    char err[512];
    ck_assert_int_eq(load(&c, "broker.id=3\nzookeeper.connect=localhost:2181/kafka\n", NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(c.broker_id, 3);
    ck_assert_int_eq(c.num_network_threads, 3);
    ck_assert_int_eq(c.socket_request_max_bytes, 104857600);
    ck_assert_int_eq(c.message_max_bytes, 1048588);
    ck_assert_int_eq(c.num_partitions, 1);
    ck_assert_int_eq(c.auto_create_topics_enable, 1);
    ck_assert_int_eq(c.zookeeper_session_timeout_ms, 18000);
    ck_assert_int_eq(c.zookeeper_connection_timeout_ms, 18000);
    ck_assert_int_eq(c.nlisteners, 1);
    ck_assert_str_eq(c.listener[0].name, "PLAINTEXT");
    ck_assert_int_eq(c.listener[0].port, 9092);
    ck_assert_int_eq(c.ndirs, 1);
    ck_assert_str_eq(c.dirs[0], "/tmp/kafka-logs");
    ck_assert_int_eq(c.log_defaults.segment_bytes, 1073741824);
    ck_assert_int_eq(c.log_defaults.retention_ms, 168LL * 3600000);
    ck_assert_int_eq(c.log_defaults.segment_ms, 168LL * 3600000);
    ck_assert_int_eq(c.log_defaults.retention_bytes, -1);
    ck_assert_int_eq(c.log_defaults.index_interval_bytes, 4096);
    sm_broker_config_free(&c);
}
END_TEST

START_TEST(t_retention_precedence)
{
    sm_broker_config_t c;
    char err[512];
    ck_assert_int_eq(load(&c, "broker.id=0\nzookeeper.connect=z:1\nlog.retention.hours=1\nlog.retention.minutes=5\n", NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(c.log_defaults.retention_ms, 5 * 60000);
    sm_broker_config_free(&c);
    ck_assert_int_eq(load(&c, "broker.id=0\nzookeeper.connect=z:1\nlog.retention.minutes=5\nlog.retention.ms=1234\n", NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(c.log_defaults.retention_ms, 1234);
    sm_broker_config_free(&c);
    ck_assert_int_eq(load(&c, "broker.id=0\nzookeeper.connect=z:1\nlog.roll.hours=2\nlog.retention.ms=-1\n", NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(c.log_defaults.segment_ms, 2 * 3600000);
    ck_assert_int_eq(c.log_defaults.retention_ms, -1);
    sm_broker_config_free(&c);
}
END_TEST

START_TEST(t_listeners_and_dirs)
{
    sm_broker_config_t c;
    char err[512];
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nlisteners=PLAINTEXT://127.0.0.1:19092\n"
                              "advertised.listeners=PLAINTEXT://broker1.example:9092\nlog.dirs=/a, /b,/c\n",
                          NULL, err, sizeof(err)), 0);
    ck_assert_str_eq(c.listener[0].host, "127.0.0.1");
    ck_assert_int_eq(c.listener[0].port, 19092);
    ck_assert_str_eq(c.advertised[0].host, "broker1.example");
    ck_assert_int_eq(c.ndirs, 3);
    ck_assert_str_eq(c.dirs[1], "/b");
    sm_broker_config_free(&c);
}
END_TEST

START_TEST(t_legacy_keys)
{
    sm_broker_config_t c;
    char err[512];
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nport=9093\nhost.name=10.0.0.1\nadvertised.host.name=node01\n"
                              "num.io.threads=8\nlog.cleaner.enable=false\nlog.flush.interval.messages=10000\n",
                          NULL, err, sizeof(err)), 0);
    ck_assert_str_eq(c.listener[0].host, "10.0.0.1");
    ck_assert_int_eq(c.listener[0].port, 9093);
    ck_assert_str_eq(c.advertised[0].host, "node01");
    ck_assert_int_eq(c.advertised[0].port, 9093);
    ck_assert_int_eq(c.log_defaults.flush_messages, 10000);
    sm_broker_config_free(&c);
}
END_TEST

START_TEST(t_override)
{
    sm_broker_config_t c;
    char err[512];
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nnum.partitions=2\n", "num.partitions=7", err, sizeof(err)), 0);
    ck_assert_int_eq(c.num_partitions, 7);
    sm_broker_config_free(&c);
}
END_TEST

START_TEST(t_invalid)
{
    sm_broker_config_t c;
    char err[512];
    ck_assert_int_eq(load(&c, "broker.id=x\nzookeeper.connect=z:1\n", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "Invalid value x for configuration broker.id"));
    ck_assert_int_eq(load(&c, "broker.id=1\n", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "zookeeper.connect"));
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nnum.partitions=0\n", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "num.partitions"));
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nlisteners=PLAINTEXT://nohostport\n", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "listeners"));
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nauto.create.topics.enable=maybe\n", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "true or false"));
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nlog.message.timestamp.type=Foo\n", NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(load(&c, "broker.id=1\nzookeeper.connect=z:1\nlog.segment.bytes=10\n", NULL, err, sizeof(err)), -1);
}
END_TEST

START_TEST(t_metadata_cache)
{
    sm_metadata_t *md = sm_metadata_new();
    sm_md_broker_t b[2] = { { 0, "h0", 9092, NULL }, { 1, "h1", 9093, "r1" } };
    sm_metadata_set_brokers(md, 1, b, 2);
    int32_t reps[2] = { 0, 1 }, isr[1] = { 0 };
    sm_metadata_update_partition(md, "t", 2, 0, 3, reps, 2, isr, 1);
    sm_metadata_update_partition(md, "t", 0, 1, 1, reps, 2, reps, 2);
    sm_metadata_rdlock(md);
    ck_assert_int_eq(md->controller_id, 1);
    sm_md_topic_t *t = sm_metadata_topic(md, "t", 1);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->npartitions, 3);
    ck_assert_int_eq(t->partitions[1].present, 0);
    ck_assert_int_eq(t->partitions[2].leader, 0);
    ck_assert_int_eq(t->partitions[2].leader_epoch, 3);
    ck_assert_int_eq(t->partitions[2].nisr, 1);
    ck_assert_str_eq(sm_metadata_broker(md, 1)->rack, "r1");
    ck_assert_ptr_null(sm_metadata_broker(md, 5));
    int n = 0;
    for (sm_md_topic_t *x = sm_metadata_next_topic(md, NULL); x; x = sm_metadata_next_topic(md, x)) n++;
    ck_assert_int_eq(n, 1);
    sm_metadata_unlock(md);
    sm_metadata_update_partition(md, "t", 0, -2, 0, NULL, 0, NULL, 0);
    sm_metadata_update_partition(md, "t", 2, -2, 0, NULL, 0, NULL, 0);
    sm_metadata_rdlock(md);
    ck_assert_ptr_null(sm_metadata_topic(md, "t", 1));
    sm_metadata_unlock(md);
    sm_metadata_free(md);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, t_defaults);
    tcase_add_test(tc, t_retention_precedence);
    tcase_add_test(tc, t_listeners_and_dirs);
    tcase_add_test(tc, t_legacy_keys);
    tcase_add_test(tc, t_override);
    tcase_add_test(tc, t_invalid);
    suite_add_tcase(s, tc);
    tc = tcase_create("metadata");
    tcase_add_test(tc, t_metadata_cache);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}

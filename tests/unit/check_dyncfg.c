/*
 * check_dyncfg.c - unit tests for the dynamic broker config layers
 * (sm_dyncfg.h): precedence per-broker > cluster default > static >
 * default, fallback when an override is deleted or invalid, the derived
 * log defaults, Kafka's synonyms, and DescribeConfigs entries (values,
 * sources, read-only flags, synonym lists, key filter, cluster default).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "server/sm_dyncfg.h"
#include "sm_test.h"

static sm_broker_config_t C;
static sm_props_t P_broker, P_cluster;
static sm_arena_t A;

static void
setup(void)
{
    char path[] = "/tmp/samsa-check-dyncfg-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "broker.id=0\nzookeeper.connect=localhost:2181\nlog.segment.bytes=8388608\n"
                       "log.retention.hours=2\nmin.insync.replicas=1\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[256];
    ck_assert_int_eq(sm_broker_config_load(&C, path, NULL, err, sizeof(err)), 0);
    unlink(path);
    sm_props_init(&P_broker);
    sm_props_init(&P_cluster);
    sm_arena_init(&A, 4096);
    sm_log_level = SM_LOG_ERROR;
}

static void
teardown(void)
{
    sm_broker_config_free(&C);
    sm_props_free(&P_broker);
    sm_props_free(&P_cluster);
    sm_arena_free(&A);
}

static sm_dyncfg_layers_t
layers(void)
{
    sm_dyncfg_layers_t L = { &P_broker, &P_cluster, &C.props };
    return L;
}

static const sm_describeconfigs_config_t *
find(const sm_describeconfigs_config_t *cf, int32_t n, const char *name)
{
    for (int32_t i = 0; i < n; i++)
        if (sm_bytes_eq(cf[i].name, name)) return &cf[i];
    return NULL;
}

static int
bytes_is(sm_bytes_t b, const char *s)
{
    return s ? sm_bytes_eq(b, s) : b.len < 0;
}

START_TEST(t_precedence_and_fallback)
{
    sm_dyncfg_layers_t L = layers();
    ck_assert_int_eq(C.log_defaults.segment_bytes, 8388608);
    ck_assert_int_eq(C.log_defaults.retention_ms, 2 * 3600000LL);

    /* Cluster default first, then a per-broker override above it. */
    sm_props_set(&P_cluster, "log.segment.bytes", "5000");
    sm_props_set(&P_cluster, "log.retention.ms", "60000");
    sm_wbuf_t ch;
    sm_wbuf_init(&ch, 64);
    ck_assert_int_eq(sm_dyncfg_apply(&C, &L, &ch), 2);
    sm_write_i8(&ch, 0);
    ck_assert_str_eq((const char *)ch.data, "log.segment.bytes: 8388608 -> 5000\nlog.retention.ms: -2 -> 60000");
    sm_wbuf_free(&ch);
    ck_assert_int_eq(C.log_defaults.segment_bytes, 5000);
    ck_assert_int_eq(C.log_defaults.retention_ms, 60000);

    sm_props_set(&P_broker, "log.segment.bytes", "2000");
    sm_props_set(&P_broker, "min.insync.replicas", "2");
    sm_props_set(&P_broker, "log.cleanup.policy", "compact,delete");
    sm_props_set(&P_broker, "compression.type", "lz4");
    ck_assert_int_eq(sm_dyncfg_apply(&C, &L, NULL), 4);
    ck_assert_int_eq(C.log_defaults.segment_bytes, 2000);
    ck_assert_int_eq(C.min_insync_replicas, 2);
    ck_assert_int_eq(C.log_defaults.cleanup_compact, 1);
    ck_assert_int_eq(C.log_defaults.cleanup_delete, 1);
    ck_assert_int_eq(C.log_defaults.compression_type, 3);
    /* Nothing changed: nothing reported. */
    ck_assert_int_eq(sm_dyncfg_apply(&C, &L, NULL), 0);

    /* Deleting the per-broker overrides falls back layer by layer. */
    sm_props_free(&P_broker);
    sm_props_init(&P_broker);
    ck_assert_int_eq(sm_dyncfg_apply(&C, &L, NULL), 4);
    ck_assert_int_eq(C.log_defaults.segment_bytes, 5000);
    ck_assert_int_eq(C.min_insync_replicas, 1);
    ck_assert_str_eq(C.log_cleanup_policy, "delete");
    ck_assert_int_eq(C.log_defaults.cleanup_compact, 0);
    ck_assert_int_eq(C.log_defaults.compression_type, -1);
    sm_props_free(&P_cluster);
    sm_props_init(&P_cluster);
    sm_dyncfg_apply(&C, &L, NULL);
    ck_assert_int_eq(C.log_defaults.segment_bytes, 8388608);
    ck_assert_int_eq(C.log_retention_ms, -2);
    ck_assert_int_eq(C.log_defaults.retention_ms, 2 * 3600000LL);
}
END_TEST

START_TEST(t_invalid_and_readonly_ignored)
{
    sm_dyncfg_layers_t L = layers();
    sm_props_set(&P_cluster, "log.segment.bytes", "7000");
    sm_props_set(&P_broker, "log.segment.bytes", "1");          /* below the minimum */
    sm_props_set(&P_broker, "log.message.timestamp.type", "Bogus");
    sm_props_set(&P_broker, "broker.id", "7");                  /* not dynamic */
    sm_props_set(&P_broker, "log.retention.minutes", "3");      /* synonym: honoured */
    sm_dyncfg_apply(&C, &L, NULL);
    ck_assert_int_eq(C.log_defaults.segment_bytes, 7000);
    ck_assert_str_eq(C.log_message_timestamp_type, "CreateTime");
    ck_assert_int_eq(C.broker_id, 0);
    ck_assert_int_eq(C.log_defaults.retention_ms, 180000);
    ck_assert_int_eq(sm_dyncfg_is_dynamic("log.segment.bytes"), 1);
    ck_assert_int_eq(sm_dyncfg_is_dynamic("broker.id"), 0);
    ck_assert_int_eq(sm_dyncfg_is_dynamic("log.retention.hours"), 0);
    ck_assert_str_eq(sm_dyncfg_broker_synonym("segment.bytes"), "log.segment.bytes");
    ck_assert_ptr_null(sm_dyncfg_broker_synonym("no.such.key"));
}
END_TEST

START_TEST(t_synonyms)
{
    const char *s[3];
    ck_assert_int_eq(sm_dyncfg_synonyms("log.retention.hours", s), 3);
    ck_assert_str_eq(s[0], "log.retention.ms");
    ck_assert_str_eq(s[2], "log.retention.hours");
    ck_assert_int_eq(sm_dyncfg_synonyms("log.flush.interval.ms", s), 2);
    ck_assert_str_eq(s[1], "log.flush.scheduler.interval.ms");
    ck_assert_int_eq(sm_dyncfg_synonyms("log.flush.scheduler.interval.ms", s), 1);
    ck_assert_int_eq(sm_dyncfg_synonyms("log.segment.bytes", s), 1);
    ck_assert_str_eq(s[0], "log.segment.bytes");
}
END_TEST

START_TEST(t_describe_per_broker)
{
    sm_dyncfg_layers_t L = layers();
    sm_props_set(&P_cluster, "log.retention.ms", "60000");
    sm_props_set(&P_broker, "log.retention.ms", "30000");
    sm_props_set(&P_broker, "leader.replication.throttled.rate", "1000");
    sm_dyncfg_apply(&C, &L, NULL);
    sm_describeconfigs_config_t *cf;
    int32_t n = sm_dyncfg_describe(&C, &L, 1, 1, NULL, -1, &A, &cf);
    ck_assert_int_gt(n, 80);

    const sm_describeconfigs_config_t *e = find(cf, n, "log.retention.ms");
    ck_assert_ptr_nonnull(e);
    ck_assert(bytes_is(e->value, "30000"));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_DYNAMIC_BROKER);
    ck_assert_int_eq(e->read_only, 0);
    ck_assert_int_eq(e->is_default, 0);
    /* Kafka's order: layer by layer, each with the synonyms in priority order. */
    ck_assert_int_eq(e->n_synonyms, 4);
    ck_assert(bytes_is(e->synonyms[0].name, "log.retention.ms") && bytes_is(e->synonyms[0].value, "30000"));
    ck_assert_int_eq(e->synonyms[0].source, SM_CFGSRC_DYNAMIC_BROKER);
    ck_assert(bytes_is(e->synonyms[1].name, "log.retention.ms") && bytes_is(e->synonyms[1].value, "60000"));
    ck_assert_int_eq(e->synonyms[1].source, SM_CFGSRC_DYNAMIC_DEFAULT_BROKER);
    ck_assert(bytes_is(e->synonyms[2].name, "log.retention.hours") && bytes_is(e->synonyms[2].value, "2"));
    ck_assert_int_eq(e->synonyms[2].source, SM_CFGSRC_STATIC_BROKER);
    ck_assert(bytes_is(e->synonyms[3].name, "log.retention.hours") && bytes_is(e->synonyms[3].value, "168"));
    ck_assert_int_eq(e->synonyms[3].source, SM_CFGSRC_DEFAULT);

    /* hours: its own static value; the dynamic ms entries come before it and are dropped. */
    e = find(cf, n, "log.retention.hours");
    ck_assert(bytes_is(e->value, "2"));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_STATIC_BROKER);
    ck_assert_int_eq(e->read_only, 1);
    ck_assert_int_eq(e->n_synonyms, 2);
    ck_assert_int_eq(e->synonyms[1].source, SM_CFGSRC_DEFAULT);
    ck_assert(bytes_is(e->synonyms[1].value, "168"));

    e = find(cf, n, "log.retention.minutes");       /* Kafka's null default */
    ck_assert(bytes_is(e->value, NULL));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_DEFAULT);
    ck_assert_int_eq(e->is_default, 1);

    e = find(cf, n, "log.segment.bytes");
    ck_assert(bytes_is(e->value, "8388608"));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_STATIC_BROKER);
    e = find(cf, n, "num.partitions");
    ck_assert(bytes_is(e->value, "1"));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_DEFAULT);
    ck_assert_int_eq(e->read_only, 1);
    ck_assert_int_eq(e->n_synonyms, 1);
    e = find(cf, n, "broker.rack");
    ck_assert(bytes_is(e->value, NULL));
    e = find(cf, n, "leader.replication.throttled.rate");   /* outside the key table */
    ck_assert_ptr_nonnull(e);
    ck_assert(bytes_is(e->value, "1000"));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_DYNAMIC_BROKER);
    ck_assert_int_eq(e->read_only, 0);
    /* Every name once. */
    for (int32_t i = 0; i < n; i++)
        for (int32_t k = i + 1; k < n; k++)
            ck_assert(!(cf[i].name.len == cf[k].name.len && !memcmp(cf[i].name.ptr, cf[k].name.ptr, (size_t)cf[i].name.len)));

    /* Key filter, no synonyms. */
    sm_bytes_t keys[2] = { SM_BYTES_STR("log.segment.bytes"), SM_BYTES_STR("leader.replication.throttled.rate") };
    n = sm_dyncfg_describe(&C, &L, 1, 0, keys, 2, &A, &cf);
    ck_assert_int_eq(n, 2);
    ck_assert(bytes_is(cf[0].name, "log.segment.bytes"));
    ck_assert_int_eq(cf[0].n_synonyms, 0);
    ck_assert(bytes_is(cf[1].name, "leader.replication.throttled.rate"));
    ck_assert_int_eq(sm_dyncfg_describe(&C, &L, 1, 0, keys, 0, &A, &cf), 0);
}
END_TEST

START_TEST(t_describe_cluster_default)
{
    sm_dyncfg_layers_t L = layers();
    sm_props_set(&P_broker, "log.retention.ms", "30000");
    sm_props_set(&P_cluster, "log.retention.ms", "60000");
    sm_props_set(&P_cluster, "log.segment.bytes", "9000");
    sm_describeconfigs_config_t *cf;
    int32_t n = sm_dyncfg_describe(&C, &L, 0, 1, NULL, -1, &A, &cf);
    ck_assert_int_eq(n, 2);
    const sm_describeconfigs_config_t *e = find(cf, n, "log.retention.ms");
    ck_assert(bytes_is(e->value, "60000"));
    ck_assert_int_eq(e->config_source, SM_CFGSRC_DYNAMIC_DEFAULT_BROKER);
    /* The per-broker layer is not part of the default's synonyms. */
    ck_assert_int_eq(e->n_synonyms, 3);
    ck_assert_int_eq(e->synonyms[0].source, SM_CFGSRC_DYNAMIC_DEFAULT_BROKER);
    ck_assert_int_eq(e->synonyms[1].source, SM_CFGSRC_STATIC_BROKER);
    ck_assert_int_eq(e->synonyms[2].source, SM_CFGSRC_DEFAULT);
    e = find(cf, n, "log.segment.bytes");
    ck_assert(bytes_is(e->value, "9000"));
    ck_assert_int_eq(sm_dyncfg_source(&L, "log.segment.bytes", 1), SM_CFGSRC_DYNAMIC_DEFAULT_BROKER);
    ck_assert_int_eq(sm_dyncfg_source(&L, "log.retention.ms", 1), SM_CFGSRC_DYNAMIC_BROKER);
    ck_assert_int_eq(sm_dyncfg_source(&L, "log.retention.ms", 0), SM_CFGSRC_DYNAMIC_DEFAULT_BROKER);
    ck_assert_int_eq(sm_dyncfg_source(&L, "num.partitions", 1), SM_CFGSRC_DEFAULT);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("dyncfg");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_precedence_and_fallback);
    tcase_add_test(tc, t_invalid_and_readonly_ignored);
    tcase_add_test(tc, t_synonyms);
    tcase_add_test(tc, t_describe_per_broker);
    tcase_add_test(tc, t_describe_cluster_default);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(suite());
}

/*
 * check_zk.c - unit tests for the zk module that need no ZooKeeper server:
 * znode JSON codecs (round trips, Kafka's own example payloads, the sample
 * files under zkschema/samples, malformed and truncated input), topic name
 * validation and Kafka's rack-unaware replica assignment.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "zk/sm_zk_admin.h"
#include "zk/sm_zk_codec.h"
#include "sm_test.h"

/* Copy into an exact-size buffer so any overread is an ASan/valgrind hit. */
static char *
exact(const char *s, size_t n)
{
    char *p = calloc(1, n ? n : 1);
    memcpy(p, s, n);
    return p;
}

/* A sample znode payload from zkschema/samples/ (heap; caller frees). */
static char *
sample(const char *name, size_t *len)
{
    char *rel = sm_asprintf("zkschema/samples/%s", name);
    char *s = sm_test_read_src("..", rel, len);
    free(rel);
    return s;
}

/* Every strict prefix of a JSON object must be rejected cleanly. */
typedef int (*decode_fn)(const char *, size_t);

static int d_broker(const char *s, size_t n) { sm_broker_info_t b; int r = sm_zk_decode_broker(s, n, 1, &b); if (!r) sm_broker_info_free(&b); return r; }
static int d_assign(const char *s, size_t n) { sm_topic_assignment_t a; int r = sm_zk_decode_assignment(s, n, &a); if (!r) sm_topic_assignment_free(&a); return r; }
static int d_state(const char *s, size_t n) { sm_partition_state_t p; int r = sm_zk_decode_partition_state(s, n, &p); if (!r) sm_partition_state_free(&p); return r; }
static int d_config(const char *s, size_t n) { sm_props_t p = { 0 }; int r = sm_zk_decode_config(s, n, &p); sm_props_free(&p); return r; }
static int d_ctrl(const char *s, size_t n) { int32_t id; return sm_zk_decode_controller(s, n, &id); }
static int d_cid(const char *s, size_t n) { char *id = NULL; int r = sm_zk_decode_cluster_id(s, n, &id); free(id); return r; }
static int d_change(const char *s, size_t n) { char *t = NULL, *e = NULL; int r = sm_zk_decode_config_change(s, n, &t, &e); free(t); free(e); return r; }

static void
truncations(decode_fn fn, const char *json)
{
    size_t n = strlen(json);
    while (n && (json[n - 1] == '\n' || json[n - 1] == ' ')) n--;
    char *full = exact(json, n);
    ck_assert_int_eq(fn(full, n), 0);
    free(full);
    for (size_t i = 0; i < n; i++) {
        char *p = exact(json, i);
        ck_assert_msg(fn(p, i) == -1, "prefix of %zu bytes of %s decoded", i, json);
        free(p);
    }
}

/* ---- broker ------------------------------------------------------------- */

START_TEST(t_broker_kafka_example)
{
    const char *j = "{\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"},\"endpoints\":"
                    "[\"PLAINTEXT://10.0.0.5:9092\"],\"jmx_port\":-1,\"host\":\"10.0.0.5\",\"timestamp\":"
                    "\"1660000000123\",\"port\":9092,\"version\":4}";
    sm_broker_info_t b;
    ck_assert_int_eq(sm_zk_decode_broker(j, strlen(j), 7, &b), 0);
    ck_assert_int_eq(b.id, 7);
    ck_assert_str_eq(b.host, "10.0.0.5");
    ck_assert_int_eq(b.port, 9092);
    ck_assert_ptr_null(b.rack);
    ck_assert_int_eq(b.nendpoints, 1);
    ck_assert_str_eq(b.endpoints[0], "PLAINTEXT://10.0.0.5:9092");
    ck_assert_str_eq(b.endpoint_listener[0], "PLAINTEXT");
    ck_assert_str_eq(b.endpoint_host[0], "10.0.0.5");
    ck_assert_int_eq(b.endpoint_port[0], 9092);
    ck_assert_int_eq(b.jmx_port, -1);
    ck_assert(b.timestamp == 1660000000123LL);
    sm_broker_info_free(&b);
    truncations(d_broker, j);
}
END_TEST

START_TEST(t_broker_roundtrip)
{
    sm_broker_info_t b = { 0 };
    char *eps[] = { "PLAINTEXT://h1:9092", "SSL://[::1]:9093" };
    char *ls[] = { "PLAINTEXT", "SSL" };
    char *hs[] = { "h1", "::1" };
    int32_t ps[] = { 9092, 9093 };
    b.id = 3; b.host = "h1"; b.port = 9092; b.rack = "r1"; b.nendpoints = 2;
    b.endpoints = eps; b.endpoint_listener = ls; b.endpoint_host = hs; b.endpoint_port = ps;
    b.timestamp = 1234567890123LL; b.jmx_port = -1;
    for (int v = 4; v <= 5; v++) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 64);
        sm_zk_encode_broker(&w, &b, v);
        sm_write_i8(&w, 0);
        const char *s = (const char *)w.data;
        ck_assert_ptr_nonnull(strstr(s, "\"timestamp\":\"1234567890123\""));
        ck_assert_ptr_nonnull(strstr(s, "\"jmx_port\":-1"));
        ck_assert_ptr_nonnull(strstr(s, "\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\",\"SSL\":\"SSL\"}"));
        ck_assert_ptr_nonnull(strstr(s, v == 5 ? "\"version\":5" : "\"version\":4"));
        ck_assert((strstr(s, "\"features\":{}") != NULL) == (v == 5));
        sm_broker_info_t d;
        ck_assert_int_eq(sm_zk_decode_broker(s, w.len - 1, 3, &d), 0);
        ck_assert_str_eq(d.host, "h1");
        ck_assert_int_eq(d.port, 9092);
        ck_assert_str_eq(d.rack, "r1");
        ck_assert_int_eq(d.nendpoints, 2);
        ck_assert_str_eq(d.endpoints[1], "SSL://[::1]:9093");
        ck_assert_str_eq(d.endpoint_host[1], "::1");
        ck_assert_int_eq(d.endpoint_port[1], 9093);
        ck_assert(d.timestamp == 1234567890123LL);
        sm_broker_info_free(&d);
        truncations(d_broker, s);
        sm_wbuf_free(&w);
    }
}
END_TEST

START_TEST(t_broker_no_plaintext_and_v1)
{
    const char *j = "{\"listener_security_protocol_map\":{\"INTERNAL\":\"SSL\"},\"endpoints\":"
                    "[\"INTERNAL://a:1\"],\"jmx_port\":-1,\"host\":null,\"timestamp\":\"1\",\"port\":-1,\"version\":4}";
    sm_broker_info_t b;
    ck_assert_int_eq(sm_zk_decode_broker(j, strlen(j), 1, &b), 0);
    ck_assert_ptr_null(b.host);
    ck_assert_int_eq(b.port, -1);
    ck_assert_str_eq(b.endpoint_listener[0], "INTERNAL");
    sm_broker_info_free(&b);
    const char *v1 = "{\"jmx_port\":-1,\"timestamp\":\"2\",\"host\":\"old\",\"version\":1,\"port\":9092}";
    ck_assert_int_eq(sm_zk_decode_broker(v1, strlen(v1), 1, &b), 0);
    ck_assert_int_eq(b.nendpoints, 1);
    ck_assert_str_eq(b.endpoints[0], "PLAINTEXT://old:9092");
    sm_broker_info_free(&b);
}
END_TEST

START_TEST(t_broker_malformed)
{
    const char *bad[] = {
        "", "[]", "{}", "{\"version\":\"x\"}", "{\"version\":4,\"endpoints\":[\"nohost\"]}",
        "{\"version\":4,\"endpoints\":[\"PLAINTEXT://h:99999\"]}", "{\"version\":4,\"endpoints\":[1]}",
        "{\"version\":4,\"endpoints\":[\"PLAINTEXT://[::1:9\"]}", "{\"version\":4,\"port\":\"x\",\"host\":\"h\"}",
        "{\"version\":4,\"jmx_port\":1.5}", "{\"version\":4,\"rack\":7}", "{\"version\":4} x",
        "{\"version\":4,\"endpoints\":[\"PLAINTEXT://h:1\",\"SSL://h\"]}",
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++) {
        sm_broker_info_t b;
        ck_assert_msg(sm_zk_decode_broker(bad[i], strlen(bad[i]), 1, &b) == -1, "accepted %s", bad[i]);
        ck_assert_int_eq(b.nendpoints, 0);
        ck_assert_ptr_null(b.host);
    }
}
END_TEST

/* ---- assignment --------------------------------------------------------- */

START_TEST(t_assignment_versions)
{
    const char *v1 = "{\"version\":1,\"partitions\":{\"1\":[2,1],\"0\":[1,2]}}";
    const char *v2 = "{\"version\":2,\"partitions\":{\"0\":[1,2,3],\"1\":[2,3,1]},\"adding_replicas\":{},\"removing_replicas\":{}}";
    const char *v3 = "{\"version\":3,\"topic_id\":\"eVhPqRWyRXuQN9mgoTZj8A\",\"partitions\":{\"0\":[5]},"
                     "\"adding_replicas\":{},\"removing_replicas\":{}}";
    sm_topic_assignment_t a;
    ck_assert_int_eq(sm_zk_decode_assignment(v1, strlen(v1), &a), 0);
    ck_assert_int_eq(a.npartitions, 2);
    ck_assert_int_eq(a.nreplicas[1], 2);
    ck_assert_int_eq(a.replicas[1][0], 2);
    ck_assert_int_eq(a.replicas[0][0], 1);
    ck_assert_ptr_null(a.topic_id);
    sm_topic_assignment_free(&a);
    ck_assert_int_eq(sm_zk_decode_assignment(v2, strlen(v2), &a), 0);
    ck_assert_int_eq(a.npartitions, 2);
    ck_assert_int_eq(a.nreplicas[0], 3);
    ck_assert_int_eq(a.replicas[1][2], 1);
    sm_topic_assignment_free(&a);
    ck_assert_int_eq(sm_zk_decode_assignment(v3, strlen(v3), &a), 0);
    ck_assert_str_eq(a.topic_id, "eVhPqRWyRXuQN9mgoTZj8A");
    ck_assert_int_eq(a.replicas[0][0], 5);
    sm_topic_assignment_free(&a);
    truncations(d_assign, v1);
    truncations(d_assign, v2);
    truncations(d_assign, v3);
}
END_TEST

START_TEST(t_assignment_roundtrip)
{
    sm_topic_assignment_t a;
    int32_t brokers[] = { 0, 1, 2 };
    ck_assert_int_eq(sm_assign_replicas(brokers, 3, 4, 2, 0, 0, &a), SM_ERR_NONE);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_zk_encode_assignment(&w, &a);
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, "{\"version\":2,\"partitions\":{\"0\":[0,1],\"1\":[1,2],\"2\":[2,0],"
                                           "\"3\":[0,2]},\"adding_replicas\":{},\"removing_replicas\":{}}");
    sm_topic_assignment_t d;
    ck_assert_int_eq(sm_zk_decode_assignment((const char *)w.data, w.len - 1, &d), 0);
    ck_assert_int_eq(d.npartitions, 4);
    for (int p = 0; p < 4; p++) {
        ck_assert_int_eq(d.nreplicas[p], 2);
        ck_assert_int_eq(d.replicas[p][0], a.replicas[p][0]);
        ck_assert_int_eq(d.replicas[p][1], a.replicas[p][1]);
    }
    sm_topic_assignment_free(&d);
    sm_topic_assignment_free(&a);
    sm_wbuf_free(&w);
}
END_TEST

START_TEST(t_assignment_malformed)
{
    const char *bad[] = {
        "{\"version\":1}", "{\"version\":1,\"partitions\":[]}", "{\"version\":1,\"partitions\":{\"1\":[1]}}",
        "{\"version\":1,\"partitions\":{\"0\":[1],\"0\":[2]}}", "{\"version\":1,\"partitions\":{\"-1\":[1]}}",
        "{\"version\":1,\"partitions\":{\"01\":[1],\"1\":[1]}}", "{\"version\":1,\"partitions\":{\"x\":[1]}}",
        "{\"version\":1,\"partitions\":{\"0\":[\"1\"]}}", "{\"version\":1,\"partitions\":{\"0\":[1.5]}}",
        "{\"version\":1,\"partitions\":{\"0\":[99999999999]}}", "{\"version\":1,\"partitions\":{\"0\":{}}}",
        "{\"partitions\":{\"0\":[1]}}", "{\"version\":0,\"partitions\":{\"0\":[1]}}",
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++) {
        sm_topic_assignment_t a;
        ck_assert_msg(sm_zk_decode_assignment(bad[i], strlen(bad[i]), &a) == -1, "accepted %s", bad[i]);
        ck_assert_int_eq(a.npartitions, 0);
        ck_assert_ptr_null(a.replicas);
    }
}
END_TEST

/* ---- partition state, config, controller, cluster id, changes ----------- */

START_TEST(t_partition_state)
{
    const char *j = "{\"controller_epoch\":3,\"leader\":1,\"version\":1,\"leader_epoch\":7,\"isr\":[1,3]}";
    sm_partition_state_t s;
    ck_assert_int_eq(sm_zk_decode_partition_state(j, strlen(j), &s), 0);
    ck_assert_int_eq(s.controller_epoch, 3);
    ck_assert_int_eq(s.leader, 1);
    ck_assert_int_eq(s.leader_epoch, 7);
    ck_assert_int_eq(s.nisr, 2);
    ck_assert_int_eq(s.isr[1], 3);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_zk_encode_partition_state(&w, &s);
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, j);
    sm_wbuf_free(&w);
    sm_partition_state_free(&s);
    truncations(d_state, j);
    const char *none = "{\"controller_epoch\":1,\"leader\":-1,\"version\":1,\"leader_epoch\":0,\"isr\":[]}";
    ck_assert_int_eq(sm_zk_decode_partition_state(none, strlen(none), &s), 0);
    ck_assert_int_eq(s.leader, -1);
    ck_assert_int_eq(s.nisr, 0);
    sm_partition_state_free(&s);
    const char *bad[] = { "{\"leader\":1}", "{\"controller_epoch\":1,\"leader\":\"1\",\"leader_epoch\":0,\"isr\":[]}",
                          "{\"controller_epoch\":1,\"leader\":1,\"leader_epoch\":0,\"isr\":[true]}" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++)
        ck_assert_int_eq(sm_zk_decode_partition_state(bad[i], strlen(bad[i]), &s), -1);
}
END_TEST

START_TEST(t_config)
{
    const char *j = "{\"version\":1,\"config\":{\"retention.ms\":\"86400000\",\"cleanup.policy\":\"delete\"}}";
    sm_props_t p;
    ck_assert_int_eq(sm_zk_decode_config(j, strlen(j), &p), 0);
    ck_assert_str_eq(sm_props_get(&p, "retention.ms"), "86400000");
    ck_assert_str_eq(sm_props_get(&p, "cleanup.policy"), "delete");
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_zk_encode_config(&w, &p);
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, j);
    sm_wbuf_free(&w);
    sm_props_free(&p);
    truncations(d_config, j);
    sm_props_init(&p);
    sm_wbuf_init(&w, 64);
    sm_zk_encode_config(&w, &p);
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, "{\"version\":1,\"config\":{}}");
    sm_wbuf_free(&w);
    sm_props_set(&p, "a\"b", "x\ny");
    sm_wbuf_init(&w, 64);
    sm_zk_encode_config(&w, &p);
    sm_props_free(&p);
    ck_assert_int_eq(sm_zk_decode_config((const char *)w.data, w.len, &p), 0);
    ck_assert_str_eq(sm_props_get(&p, "a\"b"), "x\ny");
    sm_props_free(&p);
    sm_wbuf_free(&w);
    const char *bad = "{\"version\":1,\"config\":{\"a\":1}}";
    ck_assert_int_eq(sm_zk_decode_config(bad, strlen(bad), &p), -1);
    sm_props_free(&p);
}
END_TEST

START_TEST(t_controller_cluster_change)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_zk_encode_controller(&w, 2, 1660000000456LL);
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, "{\"version\":1,\"brokerid\":2,\"timestamp\":\"1660000000456\"}");
    int32_t id = -1;
    ck_assert_int_eq(sm_zk_decode_controller((const char *)w.data, w.len - 1, &id), 0);
    ck_assert_int_eq(id, 2);
    truncations(d_ctrl, (const char *)w.data);
    ck_assert_int_eq(sm_zk_decode_controller("{\"brokerid\":\"2\"}", 16, &id), -1);

    sm_wbuf_reset(&w);
    sm_zk_encode_cluster_id(&w, "l2V1XzbaQVWBwm7aTmmTgQ");
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, "{\"version\":\"1\",\"id\":\"l2V1XzbaQVWBwm7aTmmTgQ\"}");
    char *cid = NULL;
    ck_assert_int_eq(sm_zk_decode_cluster_id((const char *)w.data, w.len - 1, &cid), 0);
    ck_assert_str_eq(cid, "l2V1XzbaQVWBwm7aTmmTgQ");
    free(cid);
    truncations(d_cid, (const char *)w.data);

    sm_wbuf_reset(&w);
    sm_zk_encode_config_change(&w, "topics", "my-topic");
    sm_write_i8(&w, 0);
    ck_assert_str_eq((const char *)w.data, "{\"version\":2,\"entity_path\":\"topics/my-topic\"}");
    char *t = NULL, *n = NULL;
    ck_assert_int_eq(sm_zk_decode_config_change((const char *)w.data, w.len - 1, &t, &n), 0);
    ck_assert_str_eq(t, "topics");
    ck_assert_str_eq(n, "my-topic");
    free(t); free(n);
    truncations(d_change, (const char *)w.data);
    const char *nested = "{\"version\":2,\"entity_path\":\"users/alice/clients/app1\"}";
    ck_assert_int_eq(sm_zk_decode_config_change(nested, strlen(nested), &t, &n), 0);
    ck_assert_str_eq(t, "users");
    ck_assert_str_eq(n, "alice/clients/app1");
    free(t); free(n);
    const char *bad[] = { "{\"version\":2,\"entity_path\":\"topics\"}", "{\"version\":2,\"entity_path\":\"/t\"}",
                          "{\"version\":3,\"entity_path\":\"topics/t\"}", "{\"version\":1,\"entity_type\":\"topics\"}" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++)
        ck_assert_int_eq(sm_zk_decode_config_change(bad[i], strlen(bad[i]), &t, &n), -1);
    sm_wbuf_free(&w);
}
END_TEST

/* ---- zkschema/samples --------------------------------------------------- */

START_TEST(t_samples)
{
    size_t len;
    char *s;
    sm_broker_info_t b;
    s = sample("broker_v4.json", &len);
    ck_assert_int_eq(sm_zk_decode_broker(s, len, 0, &b), 0);
    ck_assert_str_eq(b.host, "10.0.0.5");
    sm_broker_info_free(&b);
    truncations(d_broker, s);
    free(s);
    s = sample("broker_v5.json", &len);
    ck_assert_int_eq(sm_zk_decode_broker(s, len, 1, &b), 0);
    ck_assert_str_eq(b.rack, "rack-a");
    ck_assert_int_eq(b.nendpoints, 2);
    ck_assert_int_eq(b.jmx_port, 9999);
    ck_assert_str_eq(b.endpoint_listener[1], "SSL");
    sm_broker_info_free(&b);
    truncations(d_broker, s);
    free(s);

    const char *topics[] = { "topic_v1.json", "topic_v2.json", "topic_v3.json" };
    const int32_t nparts[] = { 2, 2, 3 };
    for (int i = 0; i < 3; i++) {
        sm_topic_assignment_t a;
        s = sample(topics[i], &len);
        ck_assert_int_eq(sm_zk_decode_assignment(s, len, &a), 0);
        ck_assert_int_eq(a.npartitions, nparts[i]);
        ck_assert_int_eq(a.replicas[1][0], 2);
        sm_topic_assignment_free(&a);
        truncations(d_assign, s);
        free(s);
    }
    sm_partition_state_t ps;
    s = sample("partition_state.json", &len);
    ck_assert_int_eq(sm_zk_decode_partition_state(s, len, &ps), 0);
    ck_assert_int_eq(ps.leader_epoch, 7);
    sm_partition_state_free(&ps);
    truncations(d_state, s);
    free(s);
    sm_props_t p;
    s = sample("topic_config.json", &len);
    ck_assert_int_eq(sm_zk_decode_config(s, len, &p), 0);
    ck_assert_str_eq(sm_props_get(&p, "cleanup.policy"), "delete");
    sm_props_free(&p);
    truncations(d_config, s);
    free(s);
    int32_t id;
    s = sample("controller.json", &len);
    ck_assert_int_eq(sm_zk_decode_controller(s, len, &id), 0);
    ck_assert_int_eq(id, 2);
    truncations(d_ctrl, s);
    free(s);
    char *cid;
    s = sample("cluster_id.json", &len);
    ck_assert_int_eq(sm_zk_decode_cluster_id(s, len, &cid), 0);
    ck_assert_int_eq(strlen(cid), 22);
    free(cid);
    truncations(d_cid, s);
    free(s);
    const char *changes[] = { "config_change_v1.json", "config_change_v2.json" };
    for (int i = 0; i < 2; i++) {
        char *t, *n;
        s = sample(changes[i], &len);
        ck_assert_int_eq(sm_zk_decode_config_change(s, len, &t, &n), 0);
        ck_assert_str_eq(t, "topics");
        ck_assert_str_eq(n, "my-topic");
        free(t); free(n);
        truncations(d_change, s);
        free(s);
    }
}
END_TEST

/* ---- admin helpers ------------------------------------------------------ */

START_TEST(t_topic_names)
{
    char err[512];
    ck_assert_int_eq(sm_topic_name_valid("my-topic.v1_x", err, sizeof(err)), 1);
    ck_assert_int_eq(sm_topic_name_valid("", err, sizeof(err)), 0);
    ck_assert_str_eq(err, "Topic name is illegal, it can't be empty");
    ck_assert_int_eq(sm_topic_name_valid("..", err, sizeof(err)), 0);
    ck_assert_str_eq(err, "Topic name cannot be \".\" or \"..\"");
    ck_assert_int_eq(sm_topic_name_valid("a b", err, sizeof(err)), 0);
    ck_assert_str_eq(err, "Topic name \"a b\" is illegal, it contains a character other than ASCII "
                          "alphanumerics, '.', '_' and '-'");
    char longname[251];
    memset(longname, 'a', 250);
    longname[250] = 0;
    ck_assert_int_eq(sm_topic_name_valid(longname, err, sizeof(err)), 0);
    longname[249] = 0;
    ck_assert_int_eq(sm_topic_name_valid(longname, err, sizeof(err)), 1);
}
END_TEST

/* Expected output of Kafka's AdminTest.testReplicaAssignment (5 brokers,
 * 10 partitions, rf 3, fixed start 0). */
START_TEST(t_assign_kafka_known)
{
    static const int32_t expect[10][3] = {
        { 0, 1, 2 }, { 1, 2, 3 }, { 2, 3, 4 }, { 3, 4, 0 }, { 4, 0, 1 },
        { 0, 2, 3 }, { 1, 3, 4 }, { 2, 4, 0 }, { 3, 0, 1 }, { 4, 1, 2 },
    };
    int32_t brokers[] = { 4, 2, 0, 3, 1 };   /* unsorted on purpose */
    sm_topic_assignment_t a;
    ck_assert_int_eq(sm_assign_replicas(brokers, 5, 10, 3, 0, 0, &a), SM_ERR_NONE);
    ck_assert_int_eq(a.npartitions, 10);
    for (int p = 0; p < 10; p++) {
        ck_assert_int_eq(a.nreplicas[p], 3);
        for (int r = 0; r < 3; r++) ck_assert_int_eq(a.replicas[p][r], expect[p][r]);
    }
    sm_topic_assignment_free(&a);

    /* Non-contiguous ids keep positions: ids 10,20,30, start 1. */
    int32_t b2[] = { 10, 20, 30 };
    ck_assert_int_eq(sm_assign_replicas(b2, 3, 4, 2, 1, 0, &a), SM_ERR_NONE);
    static const int32_t e2[4][2] = { { 20, 10 }, { 30, 20 }, { 10, 30 }, { 20, 30 } };
    for (int p = 0; p < 4; p++)
        for (int r = 0; r < 2; r++) ck_assert_int_eq(a.replicas[p][r], e2[p][r]);
    sm_topic_assignment_free(&a);

    /* Adding partitions 10..12 continues the same sequence. */
    ck_assert_int_eq(sm_assign_replicas(brokers, 5, 3, 3, 0, 10, &a), SM_ERR_NONE);
    ck_assert_int_eq(a.npartitions, 3);
    static const int32_t e3[3][3] = { { 0, 2, 3 }, { 1, 3, 4 }, { 2, 4, 0 } };
    for (int p = 0; p < 3; p++)
        for (int r = 0; r < 3; r++) ck_assert_int_eq(a.replicas[p][r], e3[p][r]);
    sm_topic_assignment_free(&a);
}
END_TEST

START_TEST(t_assign_random_and_errors)
{
    int32_t brokers[] = { 0, 1, 2, 3 };
    sm_topic_assignment_t a;
    for (int iter = 0; iter < 50; iter++) {
        ck_assert_int_eq(sm_assign_replicas(brokers, 4, 8, 3, -1, 0, &a), SM_ERR_NONE);
        int leaders[4] = { 0 };
        for (int p = 0; p < 8; p++) {
            /* Leaders rotate, replicas distinct. */
            ck_assert_int_eq(a.replicas[p][0], (a.replicas[0][0] + p) % 4);
            leaders[a.replicas[p][0]]++;
            ck_assert(a.replicas[p][0] != a.replicas[p][1] && a.replicas[p][1] != a.replicas[p][2] &&
                      a.replicas[p][0] != a.replicas[p][2]);
        }
        for (int i = 0; i < 4; i++) ck_assert_int_eq(leaders[i], 2);
        sm_topic_assignment_free(&a);
    }
    ck_assert_int_eq(sm_assign_replicas(brokers, 4, 0, 1, -1, 0, &a), SM_ERR_INVALID_PARTITIONS);
    ck_assert_int_eq(sm_assign_replicas(brokers, 4, 1, 0, -1, 0, &a), SM_ERR_INVALID_REPLICATION_FACTOR);
    ck_assert_int_eq(sm_assign_replicas(brokers, 4, 1, 5, -1, 0, &a), SM_ERR_INVALID_REPLICATION_FACTOR);
    ck_assert_int_eq(sm_assign_replicas(brokers, 1, 3, 1, -1, 0, &a), SM_ERR_NONE);
    ck_assert_int_eq(a.replicas[2][0], 0);
    sm_topic_assignment_free(&a);
}
END_TEST


/* Kafka's AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers. */
START_TEST(t_assign_rack_aware_kafka_known)
{
    int32_t brokers[6] = { 0, 1, 2, 3, 4, 5 };
    const char *racks[6] = { "rack1", "rack3", "rack3", "rack2", "rack2", "rack1" };
    static const int32_t want[7][3] = { { 0, 3, 1 }, { 3, 1, 5 }, { 1, 5, 4 }, { 5, 4, 2 },
                                        { 4, 2, 0 }, { 2, 0, 3 }, { 0, 4, 2 } };
    sm_topic_assignment_t a;
    char err[128];
    ck_assert_int_eq(sm_assign_replicas_rack(brokers, racks, 6, 7, 3, 0, 0, &a, err, sizeof(err)), SM_ERR_NONE);
    ck_assert_int_eq(a.npartitions, 7);
    for (int p = 0; p < 7; p++) {
        ck_assert_int_eq(a.nreplicas[p], 3);
        for (int r = 0; r < 3; r++) ck_assert_int_eq(a.replicas[p][r], want[p][r]);
    }
    sm_topic_assignment_free(&a);
    /* Random starts: every partition still spans three racks. */
    for (int round = 0; round < 50; round++) {
        ck_assert_int_eq(sm_assign_replicas_rack(brokers, racks, 6, 6, 3, -1, 0, &a, err, sizeof(err)), SM_ERR_NONE);
        for (int p = 0; p < 6; p++)
            for (int i = 0; i < 3; i++)
                for (int j = i + 1; j < 3; j++)
                    ck_assert_str_ne(racks[a.replicas[p][i]], racks[a.replicas[p][j]]);
        sm_topic_assignment_free(&a);
    }
    /* No racks at all: the rack-unaware assignment. */
    const char *none[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
    ck_assert_int_eq(sm_assign_replicas_rack(brokers, none, 6, 3, 2, 0, 0, &a, err, sizeof(err)), SM_ERR_NONE);
    sm_topic_assignment_free(&a);
    /* Some racks only: refused with Kafka's message. */
    const char *some[6] = { "r1", NULL, "r2", NULL, NULL, NULL };
    ck_assert_int_eq(sm_assign_replicas_rack(brokers, some, 6, 3, 2, 0, 0, &a, err, sizeof(err)),
                     SM_ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_ptr_nonnull(strstr(err, "Not all brokers have rack information"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("zk");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, t_broker_kafka_example);
    tcase_add_test(tc, t_broker_roundtrip);
    tcase_add_test(tc, t_broker_no_plaintext_and_v1);
    tcase_add_test(tc, t_broker_malformed);
    tcase_add_test(tc, t_assignment_versions);
    tcase_add_test(tc, t_assignment_roundtrip);
    tcase_add_test(tc, t_assignment_malformed);
    tcase_add_test(tc, t_partition_state);
    tcase_add_test(tc, t_config);
    tcase_add_test(tc, t_controller_cluster_change);
    tcase_add_test(tc, t_samples);
    suite_add_tcase(s, tc);
    TCase *ta = tcase_create("admin");
    tcase_add_test(ta, t_topic_names);
    tcase_add_test(ta, t_assign_kafka_known);
    tcase_add_test(ta, t_assign_random_and_errors);
    tcase_add_test(ta, t_assign_rack_aware_kafka_known);
    suite_add_tcase(s, ta);
    return sm_test_run(s);
}

/*
 * check_zk_live.c - zk module tests against a real ZooKeeper server.
 *
 * Skipped (exit 77) unless SAMSA_ZK_CONNECT is set; tests/zk-test-env.sh
 * starts a throw-away server and sets it. Every test works under its own
 * chroot, so tests never see each other's znodes. Waiting is done by running
 * the event loop until a condition holds (generous deadline), never by
 * sleeping a fixed time.
 */
#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "zk/sm_ctrl.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_admin.h"
#include "zk/sm_zk_broker.h"
#include "sm_test.h"

#define WAIT_MS 30000

static struct event_base *base;
static char *root;      /* "host:port/chroot" for this test */

static void
setup(void)
{
    static int n;
    const char *zkc = getenv("SAMSA_ZK_CONNECT");
    sm_loop_init();
    base = event_base_new();
    char err[256];
    sm_zk_t *z = sm_zk_open(zkc, 10000, 10000, NULL, err, sizeof(err));
    ck_assert_msg(z != NULL, "%s", err);
    char *chroot = sm_asprintf("/samsa-test-%d-%d-%lld", (int)getpid(), n++, (long long)sm_now_ms());
    ck_assert_int_eq(sm_zk_create(z, chroot, NULL, -1, 0, NULL, NULL), ZOK);
    sm_zk_close(z);
    root = sm_asprintf("%s%s", zkc, chroot);
    free(chroot);
}

static void
teardown(void)
{
    /* Run completions posted by closing handles, so nothing leaks. */
    for (int i = 0; i < 10; i++) event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    free(root);
}

static sm_zk_t *
open_zk(void)
{
    char err[256];
    sm_zk_t *z = sm_zk_open(root, 6000, 10000, base, err, sizeof(err));
    ck_assert_msg(z != NULL, "%s", err);
    return z;
}

typedef int (*pred_fn)(void *);

/* Run the loop until pred holds; 1 if it did before the deadline. */
static int
spin(pred_fn pred, void *arg)
{
    int64_t end = sm_mono_ms() + WAIT_MS;
    while (!pred(arg)) {
        if (sm_mono_ms() > end) return 0;
        struct timeval tv = { 0, 10000 };
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return 1;
}

/* ---- a recording channel and broker callbacks --------------------------- */

typedef struct {
    int lai_calls, um_calls, stop_calls;
    struct { char topic[64]; int32_t broker, part, leader, leader_epoch, nisr, isr0; int is_new; } lai[256];
    int nlai;
    char stopped[64];
    int stop_delete;
    int32_t stop_broker, stop_part;
    int um_deleting;    /* partitions sent with leader -2 */
    int64_t epochs[8];
    int nepochs;
    int32_t controller;
    char cfg_topic[64];
    char cfg_value[64];
} rec_t;

static void
rec_lai(void *arg, int32_t broker, int32_t cid, int32_t cepoch, const sm_ctrl_partition_t *p, int n)
{
    rec_t *r = arg;
    r->lai_calls++;
    for (int i = 0; i < n && r->nlai < 256; i++) {
        snprintf(r->lai[r->nlai].topic, 64, "%s", p[i].topic);
        r->lai[r->nlai].broker = broker;
        r->lai[r->nlai].part = p[i].partition;
        r->lai[r->nlai].leader = p[i].leader;
        r->lai[r->nlai].leader_epoch = p[i].leader_epoch;
        r->lai[r->nlai].nisr = p[i].nisr;
        r->lai[r->nlai].isr0 = p[i].nisr ? p[i].isr[0] : -1;
        r->lai[r->nlai].is_new = p[i].is_new;
        r->nlai++;
    }
}

static void
rec_um(void *arg, int32_t broker, int32_t cid, int32_t cepoch, const sm_ctrl_broker_t *live, int nlive,
       const sm_ctrl_partition_t *p, int n)
{
    rec_t *r = arg;
    r->um_calls++;
    for (int i = 0; i < n; i++)
        if (p[i].leader == -2) r->um_deleting++;
}

static void
rec_stop(void *arg, int32_t broker, int32_t epoch, const char *topic, int32_t part, int del)
{
    rec_t *r = arg;
    r->stop_calls++;
    snprintf(r->stopped, sizeof(r->stopped), "%s", topic);
    r->stop_delete = del;
    r->stop_broker = broker;
    r->stop_part = part;
}

static void
rec_registered(void *arg, int64_t epoch)
{
    rec_t *r = arg;
    if (r->nepochs < 8) r->epochs[r->nepochs++] = epoch;
}

static void
rec_controller(void *arg, int32_t id)
{
    ((rec_t *)arg)->controller = id;
}

static void
rec_config(void *arg, const char *topic, const sm_props_t *cfg)
{
    rec_t *r = arg;
    snprintf(r->cfg_topic, sizeof(r->cfg_topic), "%s", topic);
    const char *v = sm_props_get(cfg, "retention.ms");
    snprintf(r->cfg_value, sizeof(r->cfg_value), "%s", v ? v : "");
}

static sm_zk_broker_t *
start_broker(sm_zk_t *zk, int32_t id, rec_t *r, char **cluster_id, char *err, size_t errlen)
{
    char *ls[] = { "PLAINTEXT" }, *hs[] = { "127.0.0.1" };
    int32_t ps[] = { 9092 + id };
    sm_broker_info_t info = { .id = id, .nendpoints = 1, .endpoint_listener = ls, .endpoint_host = hs,
                              .endpoint_port = ps, .jmx_port = -1 };
    sm_zk_broker_cb_t cb = { .registered = rec_registered, .controller_changed = rec_controller,
                             .topic_config_changed = rec_config, .arg = r };
    sm_zk_broker_t *b = sm_zk_broker_new(zk, &info, 4, &cb);
    int64_t epoch;
    char *cid = NULL;
    if (sm_zk_broker_start(b, &cid, &epoch, err, errlen) < 0) {
        sm_zk_broker_free(b);
        return NULL;
    }
    if (cluster_id) *cluster_id = cid;
    else free(cid);
    return b;
}

static sm_ctrl_t *
start_ctrl(sm_zk_t *zk, int32_t id, rec_t *r, int delete_enable)
{
    sm_ctrl_conf_t conf = { .delete_topic_enable = delete_enable };
    sm_ctrl_channel_t ch = { rec_lai, rec_um, rec_stop, r };
    sm_ctrl_t *c = sm_ctrl_new(zk, id, &conf, &ch);
    sm_ctrl_start(c);
    return c;
}

static int p_active(void *c) { return sm_ctrl_is_active(c) && sm_ctrl_idle(c); }

/* ---- tests -------------------------------------------------------------- */

START_TEST(t_registration)
{
    sm_zk_t *zk = open_zk();
    rec_t r = { 0 };
    char err[512], *cid = NULL, *cid2 = NULL;
    sm_zk_broker_t *b = start_broker(zk, 0, &r, &cid, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    ck_assert_int_eq(strlen(cid), 22);
    for (int i = 0; sm_zk_persistent_paths[i]; i++)
        ck_assert_int_eq(sm_zk_exists(zk, sm_zk_persistent_paths[i], NULL), ZOK);

    char *data = NULL;
    int len;
    struct Stat st;
    ck_assert_int_eq(sm_zk_get(zk, "/brokers/ids/0", &data, &len, &st), ZOK);
    ck_assert(st.ephemeralOwner == sm_zk_session_id(zk));
    ck_assert(st.czxid == sm_zk_broker_epoch(b));
    ck_assert_ptr_nonnull(strstr(data, "\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"}"));
    ck_assert_ptr_nonnull(strstr(data, "\"endpoints\":[\"PLAINTEXT://127.0.0.1:9092\"]"));
    ck_assert_ptr_nonnull(strstr(data, "\"jmx_port\":-1"));
    ck_assert_ptr_nonnull(strstr(data, "\"host\":\"127.0.0.1\""));
    ck_assert_ptr_nonnull(strstr(data, "\"port\":9092"));
    ck_assert_ptr_nonnull(strstr(data, "\"version\":4"));
    ck_assert_ptr_nonnull(strstr(data, "\"timestamp\":\""));   /* a string */
    sm_broker_info_t info;
    ck_assert_int_eq(sm_zk_decode_broker(data, (size_t)len, 0, &info), 0);
    ck_assert(info.timestamp > 1600000000000LL);
    sm_broker_info_free(&info);
    free(data);

    /* /cluster/id is created once and read back by later brokers. */
    ck_assert_int_eq(sm_zk_get(zk, "/cluster/id", &data, &len, NULL), ZOK);
    ck_assert_ptr_nonnull(strstr(data, "\"version\":\"1\""));
    free(data);
    sm_zk_t *zk2 = open_zk();
    rec_t r2 = { 0 };
    sm_zk_broker_t *b2 = start_broker(zk2, 1, &r2, &cid2, err, sizeof(err));
    ck_assert_msg(b2 != NULL, "%s", err);
    ck_assert_str_eq(cid, cid2);

    /* Listing via the admin API sees both, sorted, with epochs. */
    sm_broker_info_t *bl;
    int nb;
    ck_assert_int_eq(sm_zk_admin_list_brokers(zk, &bl, &nb), 0);
    ck_assert_int_eq(nb, 2);
    ck_assert_int_eq(bl[0].id, 0);
    ck_assert_int_eq(bl[1].port, 9093);
    ck_assert(bl[0].broker_epoch == sm_zk_broker_epoch(b));
    for (int i = 0; i < nb; i++) sm_broker_info_free(&bl[i]);
    free(bl);
    free(cid);
    free(cid2);
    sm_zk_broker_free(b2);
    sm_zk_close(zk2);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
}
END_TEST

START_TEST(t_duplicate_id)
{
    sm_zk_t *zk = open_zk(), *zk2 = open_zk();
    rec_t r = { 0 }, r2 = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 5, &r, NULL, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    sm_zk_broker_t *b2 = start_broker(zk2, 5, &r2, NULL, err, sizeof(err));
    ck_assert_ptr_null(b2);
    char *expect = sm_asprintf("Error while creating ephemeral at /brokers/ids/5, node already exists and owner "
                               "'%lld' does not match current session '%lld'",
                               (long long)sm_zk_session_id(zk), (long long)sm_zk_session_id(zk2));
    ck_assert_str_eq(err, expect);
    free(expect);
    sm_zk_close(zk2);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
}
END_TEST

static int p_two_epochs(void *r) { return ((rec_t *)r)->nepochs >= 1; }

static void quiet_log(const char *msg) { (void)msg; }

/* Expire zk's session: attach a second handle to the same session and
 * close it (the standard trick). */
static void
expire_session(sm_zk_t *zk)
{
    const clientid_t *cid = zoo_client_id(sm_zk_handle(zk));
    clientid_t copy = *cid;
    const char *slash = strchr(root, '/');
    char *hosts = sm_strndup(root, (size_t)(slash - root));
    zhandle_t *zh = zookeeper_init2(hosts, NULL, 6000, &copy, NULL, 0, quiet_log);
    ck_assert_ptr_nonnull(zh);
    for (int i = 0; i < 1000 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) usleep(10000);
    ck_assert_int_eq(zoo_state(zh), ZOO_CONNECTED_STATE);
    zookeeper_close(zh);
    free(hosts);
}

typedef struct { sm_ctrl_t *c; int32_t epoch; } ep_t;
static int p_epoch(void *a) { ep_t *e = a; return sm_ctrl_is_active(e->c) && sm_ctrl_epoch(e->c) >= e->epoch && sm_ctrl_idle(e->c); }

START_TEST(t_session_expiry)
{
    sm_zk_t *zk = open_zk();
    rec_t r = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, 1);
    ck_assert(spin(p_active, c));
    ck_assert_int_eq(sm_ctrl_epoch(c), 1);
    int64_t old_session = sm_zk_session_id(zk), old_epoch = sm_zk_broker_epoch(b);

    expire_session(zk);
    ck_assert(spin(p_two_epochs, &r));
    ck_assert(sm_zk_session_id(zk) != old_session);
    ck_assert(r.epochs[0] > old_epoch);
    struct Stat st;
    ck_assert_int_eq(sm_zk_exists(zk, "/brokers/ids/0", &st), ZOK);
    ck_assert(st.ephemeralOwner == sm_zk_session_id(zk));
    ck_assert(st.czxid == r.epochs[0]);
    /* The controller comes back with a new epoch. */
    ep_t e = { c, 2 };
    ck_assert(spin(p_epoch, &e));
    ck_assert_int_eq(sm_ctrl_epoch(c), 2);
    sm_ctrl_free(c);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
}
END_TEST

static int p_knows_controller(void *c) { return sm_ctrl_controller_id(c) == 0 && sm_ctrl_idle(c); }
static int p_rec_controller1(void *r) { return ((rec_t *)r)->controller == 1; }

START_TEST(t_controller_election)
{
    sm_zk_t *zk0 = open_zk(), *zk1 = open_zk();
    rec_t r0 = { 0 }, r1 = { 0 };
    char err[512];
    sm_zk_broker_t *b0 = start_broker(zk0, 0, &r0, NULL, err, sizeof(err));
    ck_assert_msg(b0 != NULL, "%s", err);
    sm_ctrl_t *c0 = start_ctrl(zk0, 0, &r0, 1);
    ck_assert(spin(p_active, c0));
    ck_assert_int_eq(sm_ctrl_epoch(c0), 1);
    ck_assert_int_eq(sm_ctrl_controller_id(c0), 0);
    ck_assert_int_ge(r0.um_calls, 1);   /* full UpdateMetadata on failover */
    char *data = NULL;
    int len;
    struct Stat st;
    ck_assert_int_eq(sm_zk_get(zk0, "/controller_epoch", &data, &len, &st), ZOK);
    ck_assert_str_eq(data, "1");
    ck_assert_int_eq(st.version, 1);
    free(data);
    ck_assert_int_eq(sm_zk_get(zk0, "/controller", &data, &len, &st), ZOK);
    ck_assert_ptr_nonnull(strstr(data, "\"brokerid\":0"));
    ck_assert_ptr_nonnull(strstr(data, "\"timestamp\":\""));
    ck_assert(st.ephemeralOwner == sm_zk_session_id(zk0));
    free(data);
    ck_assert_int_eq(sm_zk_admin_controller_id(zk0), 0);

    /* A second broker loses the election and follows the winner. */
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    ck_assert_msg(b1 != NULL, "%s", err);
    sm_ctrl_t *c1 = start_ctrl(zk1, 1, &r1, 1);
    ck_assert(spin(p_knows_controller, c1));
    ck_assert(!sm_ctrl_is_active(c1));

    /* The controller's session ends: broker 1 takes over with epoch 2. */
    sm_ctrl_free(c0);
    sm_zk_broker_free(b0);
    sm_zk_close(zk0);
    ep_t e = { c1, 2 };
    ck_assert(spin(p_epoch, &e));
    ck_assert_int_eq(sm_ctrl_epoch(c1), 2);
    ck_assert_int_eq(sm_ctrl_controller_id(c1), 1);
    ck_assert(spin(p_rec_controller1, &r1));   /* broker-side /controller watch */
    ck_assert_int_eq(sm_zk_get(zk1, "/controller_epoch", &data, &len, NULL), ZOK);
    ck_assert_str_eq(data, "2");
    free(data);
    sm_ctrl_free(c1);
    sm_zk_broker_free(b1);
    sm_zk_close(zk1);
}
END_TEST

typedef struct { rec_t *r; const char *topic; int32_t part, leader, leader_epoch; } lai_t;
static int
p_lai(void *a)
{
    lai_t *l = a;
    for (int i = 0; i < l->r->nlai; i++)
        if (!strcmp(l->r->lai[i].topic, l->topic) && l->r->lai[i].part == l->part &&
            l->r->lai[i].leader == l->leader && l->r->lai[i].leader_epoch == l->leader_epoch)
            return 1;
    return 0;
}

static void
make_assignment(sm_topic_assignment_t *a, int32_t nparts, const int32_t *replicas, int32_t rf)
{
    a->npartitions = nparts;
    a->nreplicas = sm_calloc((size_t)nparts, sizeof(int32_t));
    a->replicas = sm_calloc((size_t)nparts, sizeof(int32_t *));
    a->topic_id = NULL;
    for (int32_t p = 0; p < nparts; p++) {
        a->nreplicas[p] = rf;
        a->replicas[p] = sm_malloc(sizeof(int32_t) * (size_t)rf);
        memcpy(a->replicas[p], replicas, sizeof(int32_t) * (size_t)rf);
    }
}

START_TEST(t_topic_online)
{
    sm_zk_t *zk = open_zk(), *zk1 = open_zk();
    rec_t r = { 0 }, r1 = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, 1);
    ck_assert(spin(p_active, c));

    sm_topic_assignment_t a;
    int32_t reps[] = { 0 };
    make_assignment(&a, 2, reps, 1);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "t", &a, NULL, err, sizeof(err)), SM_ERR_NONE);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "t", &a, NULL, err, sizeof(err)), SM_ERR_TOPIC_ALREADY_EXISTS);
    ck_assert_str_eq(err, "Topic 't' already exists.");
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "a.b", &a, NULL, err, sizeof(err)), SM_ERR_NONE);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "a_b", &a, NULL, err, sizeof(err)), SM_ERR_INVALID_TOPIC_EXCEPTION);
    ck_assert_str_eq(err, "Topic 'a_b' collides with existing topics: a.b");
    sm_props_t bad;
    sm_props_init(&bad);
    sm_props_set(&bad, "no.such.config", "1");
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "u", &a, &bad, err, sizeof(err)), SM_ERR_INVALID_CONFIG);
    sm_props_free(&bad);

    lai_t l0 = { &r, "t", 0, 0, 0 }, l1 = { &r, "t", 1, 0, 0 };
    ck_assert(spin(p_lai, &l0));
    ck_assert(spin(p_lai, &l1));
    sm_partition_state_t ps;
    ck_assert_int_eq(sm_zk_admin_get_partition_state(zk, "t", 1, &ps), 0);
    ck_assert_int_eq(ps.leader, 0);
    ck_assert_int_eq(ps.leader_epoch, 0);
    ck_assert_int_eq(ps.controller_epoch, 1);
    ck_assert_int_eq(ps.nisr, 1);
    ck_assert_int_eq(ps.isr[0], 0);
    sm_partition_state_free(&ps);
    char *data = NULL;
    int len;
    ck_assert_int_eq(sm_zk_get(zk, "/config/topics/t", &data, &len, NULL), ZOK);
    ck_assert_str_eq(data, "{\"version\":1,\"config\":{}}");
    free(data);
    ck_assert_int_eq(sm_zk_get(zk, "/brokers/topics/t", &data, &len, NULL), ZOK);
    ck_assert_str_eq(data, "{\"version\":2,\"partitions\":{\"0\":[0],\"1\":[0]},\"adding_replicas\":{},"
                           "\"removing_replicas\":{}}");
    free(data);
    int saw_new = 0;
    for (int i = 0; i < r.nlai; i++) saw_new |= r.lai[i].is_new;
    ck_assert(saw_new);

    /* Partition addition through the topic's data watch. */
    sm_topic_assignment_t a3;
    make_assignment(&a3, 3, reps, 1);
    ck_assert_int_eq(sm_zk_admin_add_partitions(zk, "t", &a, err, sizeof(err)), SM_ERR_INVALID_PARTITIONS);
    ck_assert_int_eq(sm_zk_admin_add_partitions(zk, "t", &a3, err, sizeof(err)), SM_ERR_NONE);
    lai_t l2 = { &r, "t", 2, 0, 0 };
    ck_assert(spin(p_lai, &l2));

    /* Leader failover: broker 1 leads t2-0, then dies. */
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    ck_assert_msg(b1 != NULL, "%s", err);
    sm_topic_assignment_t a2;
    int32_t reps2[] = { 1, 0 };
    make_assignment(&a2, 1, reps2, 2);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "t2", &a2, NULL, err, sizeof(err)), SM_ERR_NONE);
    lai_t m0 = { &r, "t2", 0, 1, 0 };
    ck_assert(spin(p_lai, &m0));
    sm_zk_broker_free(b1);
    sm_zk_close(zk1);
    lai_t m1 = { &r, "t2", 0, 0, 1 };
    ck_assert(spin(p_lai, &m1));
    ck_assert_int_eq(sm_zk_admin_get_partition_state(zk, "t2", 0, &ps), 0);
    ck_assert_int_eq(ps.leader, 0);
    ck_assert_int_eq(ps.leader_epoch, 1);
    ck_assert_int_eq(ps.nisr, 1);
    ck_assert_int_eq(ps.isr[0], 0);
    ck_assert_int_eq(ps.zk_version, 1);
    sm_partition_state_free(&ps);

    char **topics;
    int nt;
    ck_assert_int_eq(sm_zk_admin_list_topics(zk, &topics, &nt), 0);
    ck_assert_int_eq(nt, 3);
    ck_assert_str_eq(topics[0], "a.b");
    ck_assert_str_eq(topics[2], "t2");
    sm_zk_admin_free_list(topics, nt);
    sm_topic_assignment_free(&a);
    sm_topic_assignment_free(&a2);
    sm_topic_assignment_free(&a3);
    sm_ctrl_free(c);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
}
END_TEST

static int p_cfg(void *r) { return !strcmp(((rec_t *)r)->cfg_value, "1000"); }

START_TEST(t_config_change)
{
    sm_zk_t *zk = open_zk();
    rec_t r = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    sm_topic_assignment_t a;
    int32_t reps[] = { 0 };
    make_assignment(&a, 1, reps, 1);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "cfg", &a, NULL, err, sizeof(err)), SM_ERR_NONE);
    sm_props_t p;
    sm_props_init(&p);
    sm_props_set(&p, "retention.ms", "1000");
    ck_assert_int_eq(sm_zk_admin_set_topic_config(zk, "missing", &p, err, sizeof(err)),
                     SM_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    ck_assert_int_eq(sm_zk_admin_set_topic_config(zk, "cfg", &p, err, sizeof(err)), SM_ERR_NONE);
    ck_assert(spin(p_cfg, &r));
    ck_assert_str_eq(r.cfg_topic, "cfg");
    char **kids;
    int n;
    ck_assert_int_eq(sm_zk_children(zk, "/config/changes", &kids, &n), ZOK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(kids[0], "config_change_0000000000");
    char *path = sm_asprintf("/config/changes/%s", kids[0]), *data;
    int len;
    ck_assert_int_eq(sm_zk_get(zk, path, &data, &len, NULL), ZOK);
    ck_assert_str_eq(data, "{\"version\":2,\"entity_path\":\"topics/cfg\"}");
    free(data);
    free(path);
    sm_zk_free_children(kids, n);
    sm_props_t got;
    ck_assert_int_eq(sm_zk_admin_get_topic_config(zk, "cfg", &got), 0);
    ck_assert_str_eq(sm_props_get(&got, "retention.ms"), "1000");
    sm_props_free(&got);
    sm_props_free(&p);
    sm_topic_assignment_free(&a);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
}
END_TEST

typedef struct { sm_zk_t *zk; const char *path; } gone_t;
static int p_gone(void *a) { gone_t *g = a; return sm_zk_exists(g->zk, g->path, NULL) == ZNONODE; }

static void
delete_case(int enable)
{
    sm_zk_t *zk = open_zk();
    rec_t r = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, enable);
    ck_assert(spin(p_active, c));
    sm_topic_assignment_t a;
    int32_t reps[] = { 0 };
    make_assignment(&a, 2, reps, 1);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, "d", &a, NULL, err, sizeof(err)), SM_ERR_NONE);
    lai_t l = { &r, "d", 1, 0, 0 };
    ck_assert(spin(p_lai, &l));
    ck_assert_int_eq(sm_zk_admin_delete_topic(zk, "nope", err, sizeof(err)), SM_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    ck_assert_int_eq(sm_zk_admin_delete_topic(zk, "d", err, sizeof(err)), SM_ERR_NONE);
    gone_t marker = { zk, "/admin/delete_topics/d" };
    ck_assert(spin(p_gone, &marker));
    if (enable) {
        gone_t t = { zk, "/brokers/topics/d" }, cfg = { zk, "/config/topics/d" };
        ck_assert(spin(p_gone, &t));
        ck_assert(spin(p_gone, &cfg));
        ck_assert_int_eq(r.stop_calls, 2);
        ck_assert_str_eq(r.stopped, "d");
        ck_assert_int_eq(r.stop_delete, 1);
        ck_assert_int_eq(r.um_deleting, 2);
    } else {
        ck_assert(spin(p_active, c));
        ck_assert_int_eq(sm_zk_exists(zk, "/brokers/topics/d", NULL), ZOK);
        ck_assert_int_eq(sm_zk_exists(zk, "/config/topics/d", NULL), ZOK);
        ck_assert_int_eq(r.stop_calls, 0);
    }
    sm_topic_assignment_free(&a);
    sm_ctrl_free(c);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
}

START_TEST(t_delete_enabled) { delete_case(1); }
END_TEST
START_TEST(t_delete_disabled) { delete_case(0); }
END_TEST

START_TEST(t_connect_timeout)
{
    char err[256];
    /* Nothing listens on port 1. */
    sm_zk_t *z = sm_zk_open("127.0.0.1:1", 6000, 500, NULL, err, sizeof(err));
    ck_assert_ptr_null(z);
    ck_assert_str_eq(err, "Timed out waiting for connection while in state: CONNECTING");
}
END_TEST

/* ---- replicated-cluster controller tests -------------------------------- */

typedef struct { sm_zk_t *zk; const char *topic; int32_t part, leader, leader_epoch, nisr; int32_t isr[4]; } st_t;

/* The state znode equals the expectation (ISR compared in order). */
static int
p_state(void *a)
{
    st_t *e = a;
    sm_partition_state_t ps;
    if (sm_zk_admin_get_partition_state(e->zk, e->topic, e->part, &ps) != 0) return 0;
    int ok = ps.leader == e->leader && ps.leader_epoch == e->leader_epoch && ps.nisr == e->nisr;
    for (int32_t i = 0; ok && i < ps.nisr; i++) ok = ps.isr[i] == e->isr[i];
    sm_partition_state_free(&ps);
    return ok;
}

typedef struct { sm_zk_t *zk; const char *path; } path_t;
static int p_absent(void *a) { path_t *x = a; return sm_zk_exists(x->zk, x->path, NULL) == ZNONODE; }
static int
p_no_children(void *a)
{
    path_t *x = a;
    char **kids;
    int n = -1;
    if (sm_zk_children(x->zk, x->path, &kids, &n) != ZOK) return 0;
    sm_zk_free_children(kids, n);
    return n == 0;
}
typedef struct { rec_t *r; int before; } um_t;
static int p_um_more(void *a) { um_t *u = a; return u->r->um_calls > u->before; }

static void
create_topic(sm_zk_t *zk, const char *name, int32_t nparts, const int32_t *reps, int32_t rf)
{
    sm_topic_assignment_t a;
    char err[256];
    make_assignment(&a, nparts, reps, rf);
    ck_assert_int_eq(sm_zk_admin_create_topic(zk, name, &a, NULL, err, sizeof(err)), SM_ERR_NONE);
    sm_topic_assignment_free(&a);
}

/* Overwrite a state znode as a partition leader would (ISR change). */
static void
leader_sets_isr(sm_zk_t *zk, const char *topic, int32_t part, const int32_t *isr, int32_t nisr, int notify)
{
    sm_partition_state_t ps;
    ck_assert_int_eq(sm_zk_admin_get_partition_state(zk, topic, part, &ps), 0);
    free(ps.isr);
    ps.isr = sm_malloc(sizeof(int32_t) * (size_t)nisr);
    memcpy(ps.isr, isr, sizeof(int32_t) * (size_t)nisr);
    ps.nisr = nisr;
    sm_wbuf_t w;
    sm_wbuf_init(&w, 128);
    sm_zk_encode_partition_state(&w, &ps);
    char *path = sm_asprintf("/brokers/topics/%s/partitions/%d/state", topic, part);
    ck_assert_int_eq(sm_zk_set(zk, path, (const char *)w.data, (int)w.len, ps.zk_version, NULL), ZOK);
    free(path);
    sm_wbuf_free(&w);
    sm_partition_state_free(&ps);
    if (notify) {
        char *json = sm_asprintf("{\"version\":1,\"partitions\":[{\"topic\":\"%s\",\"partition\":%d}]}", topic, part);
        ck_assert_int_eq(sm_zk_create(zk, "/isr_change_notification/isr_change_", json, (int)strlen(json),
                                      ZOO_PERSISTENT_SEQUENTIAL, NULL, NULL), ZOK);
        free(json);
    }
}

START_TEST(t_epoch_fencing)
{
    sm_zk_t *zk = open_zk(), *adm = open_zk();
    rec_t r = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    ck_assert_msg(b != NULL, "%s", err);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, 1);
    ck_assert(spin(p_active, c));
    ck_assert_int_eq(sm_ctrl_epoch(c), 1);
    /* Another controller bumped the epoch behind our back: our next write
     * (creating the state of a new topic) must fail the epoch check. */
    ck_assert_int_eq(sm_zk_set(adm, "/controller_epoch", "2", 1, 1, NULL), ZOK);
    int32_t reps[] = { 0 };
    create_topic(adm, "f", 1, reps, 1);
    /* Deposed, it deletes its stale /controller and wins again, epoch 3;
     * the state is then written by the new reign only. */
    ep_t e = { c, 3 };
    ck_assert(spin(p_epoch, &e));
    st_t s = { adm, "f", 0, 0, 0, 1, { 0 } };
    ck_assert(spin(p_state, &s));
    sm_partition_state_t ps;
    ck_assert_int_eq(sm_zk_admin_get_partition_state(adm, "f", 0, &ps), 0);
    ck_assert_int_eq(ps.controller_epoch, 3);
    ck_assert_int_eq(ps.zk_version, 0);
    sm_partition_state_free(&ps);
    char *data = NULL;
    int len;
    ck_assert_int_eq(sm_zk_get(adm, "/controller_epoch", &data, &len, NULL), ZOK);
    ck_assert_str_eq(data, "3");
    free(data);
    /* /controller deleted by an operator: the controller stops at once. */
    struct Stat st;
    ck_assert_int_eq(sm_zk_exists(adm, "/controller", &st), ZOK);
    ck_assert_int_eq(sm_zk_delete(adm, "/controller", st.version), ZOK);
    ep_t e4 = { c, 4 };
    ck_assert(spin(p_epoch, &e4));
    sm_ctrl_free(c);
    sm_zk_broker_free(b);
    sm_zk_close(zk);
    sm_zk_close(adm);
}
END_TEST

START_TEST(t_broker_loss_unclean)
{
    sm_zk_t *zk = open_zk(), *zk1 = open_zk(), *zk2 = open_zk();
    rec_t r = { 0 }, r1 = { 0 }, r2 = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    sm_zk_broker_t *b2 = start_broker(zk2, 2, &r2, NULL, err, sizeof(err));
    ck_assert(b && b1 && b2);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, 1);
    ck_assert(spin(p_active, c));
    int32_t reps[] = { 1, 2 };
    create_topic(zk, "x", 1, reps, 2);
    st_t s0 = { zk, "x", 0, 1, 0, 2, { 1, 2 } };
    ck_assert(spin(p_state, &s0));
    /* Leader 1 dies: 2 leads, ISR shrinks, epoch + 1. */
    sm_zk_broker_free(b1);
    sm_zk_close(zk1);
    st_t s1 = { zk, "x", 0, 2, 1, 1, { 2 } };
    ck_assert(spin(p_state, &s1));
    lai_t l1 = { &r2, "x", 0, 2, 1 };
    (void)l1;
    /* The last ISR member dies: offline (-1), ISR keeps it. */
    sm_zk_broker_free(b2);
    sm_zk_close(zk2);
    st_t s2 = { zk, "x", 0, -1, 2, 1, { 2 } };
    ck_assert(spin(p_state, &s2));
    /* Out-of-sync broker 1 returns: unclean election is off, so the
     * partition stays offline. */
    zk1 = open_zk();
    rec_t r1b = { 0 };
    b1 = start_broker(zk1, 1, &r1b, NULL, err, sizeof(err));
    ck_assert(b1 != NULL);
    um_t u = { &r, r.um_calls };
    ck_assert(spin(p_um_more, &u));
    ck_assert(spin(p_active, c));
    ck_assert(p_state(&s2));
    /* Topic-level unclean.leader.election.enable=true: the next event
     * (another broker arriving) elects broker 1 with ISR [1]. */
    sm_props_t cfg;
    sm_props_init(&cfg);
    sm_props_set(&cfg, "unclean.leader.election.enable", "true");
    ck_assert_int_eq(sm_zk_admin_set_topic_config(zk, "x", &cfg, err, sizeof(err)), SM_ERR_NONE);
    sm_props_free(&cfg);
    sm_zk_t *zk3 = open_zk();
    rec_t r3 = { 0 };
    sm_zk_broker_t *b3 = start_broker(zk3, 3, &r3, NULL, err, sizeof(err));
    st_t s3 = { zk, "x", 0, 1, 3, 1, { 1 } };
    ck_assert(spin(p_state, &s3));
    sm_ctrl_free(c);
    sm_zk_broker_free(b3);
    sm_zk_broker_free(b1);
    sm_zk_broker_free(b);
    sm_zk_close(zk3);
    sm_zk_close(zk1);
    sm_zk_close(zk);
}
END_TEST

typedef struct { int called; int16_t err; int n; char first[64]; } csr_t;
static void
cs_done(void *arg, int16_t error, const sm_ctrl_tp_t *rem, int n)
{
    csr_t *x = arg;
    x->called++;
    x->err = error;
    x->n = n;
    if (n) snprintf(x->first, sizeof(x->first), "%s-%d", rem[0].topic, rem[0].partition);
}
static int p_cs(void *a) { return ((csr_t *)a)->called > 0; }

START_TEST(t_controlled_shutdown)
{
    sm_zk_t *zk = open_zk(), *zk1 = open_zk();
    rec_t r = { 0 }, r1 = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    ck_assert(b && b1);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, 1);
    ck_assert(spin(p_active, c));
    sm_ctrl_t *c1 = start_ctrl(zk1, 1, &r1, 1);
    int32_t reps10[] = { 1, 0 }, reps01[] = { 0, 1 }, reps12[] = { 1, 2 };
    create_topic(zk, "cs", 1, reps10, 2);
    create_topic(zk, "fo", 1, reps01, 2);
    create_topic(zk, "two", 1, reps12, 2);    /* broker 2 never registered: ISR [1] */
    st_t a0 = { zk, "cs", 0, 1, 0, 2, { 1, 0 } }, b0 = { zk, "fo", 0, 0, 0, 2, { 0, 1 } },
         c0 = { zk, "two", 0, 1, 0, 1, { 1 } };
    ck_assert(spin(p_state, &a0) && spin(p_state, &b0) && spin(p_state, &c0));
    ck_assert(spin(p_active, c));

    csr_t x = { 0 };
    sm_ctrl_controlled_shutdown(c1, 1, -1, cs_done, &x);     /* not the controller */
    ck_assert_int_eq(x.called, 1);
    ck_assert_int_eq(x.err, 41);
    memset(&x, 0, sizeof(x));
    sm_ctrl_controlled_shutdown(c, 7, -1, cs_done, &x);      /* unknown broker */
    ck_assert(spin(p_cs, &x));
    ck_assert_int_eq(x.err, 8);
    memset(&x, 0, sizeof(x));
    sm_ctrl_controlled_shutdown(c, 1, 1, cs_done, &x);       /* stale broker epoch */
    ck_assert(spin(p_cs, &x));
    ck_assert_int_eq(x.err, 77);

    memset(&x, 0, sizeof(x));
    int stops = r.stop_calls;
    struct Stat bst;
    ck_assert_int_eq(sm_zk_exists(zk, "/brokers/ids/1", &bst), ZOK);
    sm_ctrl_controlled_shutdown(c, 1, bst.czxid, cs_done, &x);
    ck_assert(spin(p_cs, &x));
    ck_assert_int_eq(x.called, 1);
    ck_assert_int_eq(x.err, 0);
    ck_assert_int_eq(x.n, 1);                   /* nobody else in sync for two-0 */
    ck_assert_str_eq(x.first, "two-0");
    st_t a1 = { zk, "cs", 0, 0, 1, 1, { 0 } }, b1s = { zk, "fo", 0, 0, 1, 1, { 0 } };
    ck_assert(p_state(&a1));                     /* leadership moved, 1 left the ISR */
    ck_assert(p_state(&b1s));                    /* follower 1 left the ISR */
    ck_assert(p_state(&c0));                     /* unchanged */
    ck_assert_int_eq(r.stop_calls, stops + 1);   /* StopReplica(delete=false) for fo-0 on 1 */
    ck_assert_str_eq(r.stopped, "fo");
    ck_assert_int_eq(r.stop_broker, 1);
    ck_assert_int_eq(r.stop_delete, 0);
    lai_t l = { &r, "cs", 0, 0, 1 };
    ck_assert(p_lai(&l));
    sm_ctrl_free(c1);
    sm_ctrl_free(c);
    sm_zk_broker_free(b1);
    sm_zk_broker_free(b);
    sm_zk_close(zk1);
    sm_zk_close(zk);
}
END_TEST

START_TEST(t_preferred_election)
{
    sm_zk_t *zk = open_zk(), *zk0 = open_zk(), *zk1 = open_zk();
    rec_t r = { 0 }, r0 = { 0 }, r1 = { 0 };
    char err[512];
    sm_zk_broker_t *b2 = start_broker(zk, 2, &r, NULL, err, sizeof(err));
    sm_ctrl_t *c = start_ctrl(zk, 2, &r, 1);
    ck_assert(spin(p_active, c));
    sm_zk_broker_t *b0 = start_broker(zk0, 0, &r0, NULL, err, sizeof(err));
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    ck_assert(b2 && b0 && b1);
    int32_t reps[] = { 0, 1 };
    create_topic(zk, "p", 2, reps, 2);
    st_t s0 = { zk, "p", 0, 0, 0, 2, { 0, 1 } };
    ck_assert(spin(p_state, &s0));
    /* Preferred leader 0 dies and returns: leadership stays on 1. */
    sm_zk_broker_free(b0);
    sm_zk_close(zk0);
    st_t s1 = { zk, "p", 0, 1, 1, 1, { 1 } }, s1b = { zk, "p", 1, 1, 1, 1, { 1 } };
    ck_assert(spin(p_state, &s1) && spin(p_state, &s1b));
    zk0 = open_zk();
    b0 = start_broker(zk0, 0, &r0, NULL, err, sizeof(err));
    ck_assert(b0 != NULL);
    /* Leader 1 adds 0 back to the ISRs and notifies the controller. */
    int32_t isr[] = { 1, 0 };
    leader_sets_isr(zk, "p", 0, isr, 2, 1);
    leader_sets_isr(zk, "p", 1, isr, 2, 0);
    path_t none = { zk, "/isr_change_notification" };
    ck_assert(spin(p_no_children, &none));   /* processed and deleted */
    ck_assert(spin(p_active, c));
    /* Admin-triggered preferred election for p-0 only. */
    const char *json = "{\"version\":1,\"partitions\":[{\"topic\":\"p\",\"partition\":0}]}";
    ck_assert_int_eq(sm_zk_create(zk, "/admin/preferred_replica_election", json, (int)strlen(json), 0, NULL, NULL),
                     ZOK);
    st_t s2 = { zk, "p", 0, 0, 2, 2, { 1, 0 } };
    ck_assert(spin(p_state, &s2));
    path_t pe = { zk, "/admin/preferred_replica_election" };
    ck_assert(spin(p_absent, &pe));
    ck_assert(spin(p_active, c));
    st_t s3 = { zk, "p", 1, 1, 1, 2, { 1, 0 } };
    ck_assert(p_state(&s3));   /* not listed: untouched */
    /* The auto-rebalance check moves p-1 back to its preferred leader. */
    sm_ctrl_check_imbalance(c);
    st_t s4 = { zk, "p", 1, 0, 2, 2, { 1, 0 } };
    ck_assert(spin(p_state, &s4));
    sm_ctrl_free(c);
    sm_zk_broker_free(b0);
    sm_zk_broker_free(b1);
    sm_zk_broker_free(b2);
    sm_zk_close(zk0);
    sm_zk_close(zk1);
    sm_zk_close(zk);
}
END_TEST

typedef struct { sm_zk_t *zk; const char *path; const char *want; } data_t;
static int
p_data(void *a)
{
    data_t *d = a;
    char *data = NULL;
    int len, ok = 0;
    if (sm_zk_get(d->zk, d->path, &data, &len, NULL) == ZOK && data) ok = !strcmp(data, d->want);
    free(data);
    return ok;
}

START_TEST(t_reassignment)
{
    sm_zk_t *zk = open_zk(), *zk1 = open_zk(), *zk2 = open_zk();
    rec_t r = { 0 }, r1 = { 0 }, r2 = { 0 };
    char err[512];
    sm_zk_broker_t *b = start_broker(zk, 0, &r, NULL, err, sizeof(err));
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    sm_zk_broker_t *b2 = start_broker(zk2, 2, &r2, NULL, err, sizeof(err));
    ck_assert(b && b1 && b2);
    sm_ctrl_t *c = start_ctrl(zk, 0, &r, 1);
    ck_assert(spin(p_active, c));
    int32_t reps[] = { 0, 1 };
    create_topic(zk, "r", 1, reps, 2);
    st_t s0 = { zk, "r", 0, 0, 0, 2, { 0, 1 } };
    ck_assert(spin(p_state, &s0));
    /* Malformed entries are dropped, valid ones driven. */
    const char *json = "{\"version\":1,\"partitions\":[{\"topic\":\"r\",\"partition\":0,\"replicas\":[1,2]},"
                       "{\"topic\":\"nope\",\"partition\":0,\"replicas\":[1]}]}";
    ck_assert_int_eq(sm_zk_create(zk, "/admin/reassign_partitions", json, (int)strlen(json), 0, NULL, NULL), ZOK);
    /* Phase A: RS = TRS + (ORS - TRS), adding 2, removing 0, epoch + 1. */
    data_t da = { zk, "/brokers/topics/r", "{\"version\":2,\"partitions\":{\"0\":[1,2,0]},\"adding_replicas\":"
                                           "{\"0\":[2]},\"removing_replicas\":{\"0\":[0]}}" };
    ck_assert(spin(p_data, &da));
    st_t s1 = { zk, "r", 0, 0, 1, 2, { 0, 1 } };
    ck_assert(spin(p_state, &s1));
    ck_assert(spin(p_active, c));
    int lai_to_2 = 0;
    for (int i = 0; i < r.nlai; i++) lai_to_2 |= r.lai[i].broker == 2 && !strcmp(r.lai[i].topic, "r");
    ck_assert(lai_to_2);   /* the new replica is told to start fetching */
    data_t dz = { zk, "/admin/reassign_partitions",
                  "{\"version\":1,\"partitions\":[{\"topic\":\"r\",\"partition\":0,\"replicas\":[1,2]}]}" };
    ck_assert(spin(p_data, &dz));   /* the invalid entry was removed */
    ck_assert_int_eq(sm_ctrl_reassignments(c), 1);
    /* Broker 2 catches up: leader 0 adds it to the ISR. Phase B elects 1
     * (0 is leaving), shrinks the ISR to the targets, stops 0. */
    int32_t isr[] = { 0, 1, 2 };
    leader_sets_isr(zk, "r", 0, isr, 3, 1);
    st_t s2 = { zk, "r", 0, 1, 2, 2, { 1, 2 } };
    ck_assert(spin(p_state, &s2));
    data_t db = { zk, "/brokers/topics/r", "{\"version\":2,\"partitions\":{\"0\":[1,2]},\"adding_replicas\":{},"
                                           "\"removing_replicas\":{}}" };
    ck_assert(spin(p_data, &db));
    path_t pz = { zk, "/admin/reassign_partitions" };
    ck_assert(spin(p_absent, &pz));
    ck_assert(spin(p_active, c));
    ck_assert_str_eq(r.stopped, "r");
    ck_assert_int_eq(r.stop_broker, 0);
    ck_assert_int_eq(r.stop_delete, 1);
    ck_assert_int_eq(sm_ctrl_reassignments(c), 0);
    sm_ctrl_free(c);
    sm_zk_broker_free(b2);
    sm_zk_broker_free(b1);
    sm_zk_broker_free(b);
    sm_zk_close(zk2);
    sm_zk_close(zk1);
    sm_zk_close(zk);
}
END_TEST

/* Controller failover benchmark (SAMSA_CTRL_BENCH=<partitions>, e.g.
 * 10000; skipped otherwise): 3 brokers, one RF-2 topic; the controller
 * (also broker 0) goes away and a standby takes over. Prints the time to
 * the new controller being active, and to every partition having a live
 * leader with the new controller idle. */
static int p_is_active(void *c) { return sm_ctrl_is_active(c); }

START_TEST(t_failover_bench)
{
    const char *env = getenv("SAMSA_CTRL_BENCH");
    int32_t n = env ? atoi(env) : 0;
    if (n <= 0) return;
    sm_zk_t *zk0 = open_zk(), *zk1 = open_zk(), *zk2 = open_zk();
    rec_t r0 = { 0 }, r1 = { 0 }, r2 = { 0 };
    char err[512];
    sm_zk_broker_t *b0 = start_broker(zk0, 0, &r0, NULL, err, sizeof(err));
    sm_zk_broker_t *b1 = start_broker(zk1, 1, &r1, NULL, err, sizeof(err));
    sm_zk_broker_t *b2 = start_broker(zk2, 2, &r2, NULL, err, sizeof(err));
    ck_assert(b0 && b1 && b2);
    sm_ctrl_t *c0 = start_ctrl(zk0, 0, &r0, 1);
    ck_assert(spin(p_active, c0));
    sm_ctrl_t *c1 = start_ctrl(zk1, 1, &r1, 1);
    sm_topic_assignment_t a = { 0 };
    a.npartitions = n;
    a.nreplicas = sm_calloc((size_t)n, sizeof(int32_t));
    a.replicas = sm_calloc((size_t)n, sizeof(int32_t *));
    for (int32_t p = 0; p < n; p++) {
        a.nreplicas[p] = 2;
        a.replicas[p] = sm_malloc(2 * sizeof(int32_t));
        a.replicas[p][0] = p % 3;
        a.replicas[p][1] = (p + 1) % 3;
    }
    int64_t t = sm_mono_ms();
    ck_assert_int_eq(sm_zk_admin_create_topic(zk1, "big", &a, NULL, err, sizeof(err)), SM_ERR_NONE);
    st_t last = { zk1, "big", n - 1, (n - 1) % 3, 0, 2, { (n - 1) % 3, n % 3 } };
    ck_assert(spin(p_state, &last));
    ck_assert(spin(p_active, c0));
    fprintf(stderr, "bench: %d partitions created and online in %lld ms\n", n, (long long)(sm_mono_ms() - t));
    ck_assert(spin(p_knows_controller, c1));

    int64_t t0 = sm_mono_ms();
    sm_ctrl_free(c0);
    sm_zk_broker_free(b0);
    sm_zk_close(zk0);
    /* Closing zk0 blocks this thread (and so c1's loop); count from here
     * too, which is when c1 can start processing. */
    int64_t t0b = sm_mono_ms();
    ck_assert(spin(p_is_active, c1));
    int64_t t_active = sm_mono_ms();
    ck_assert(spin(p_active, c1));
    st_t moved = { zk1, "big", 0, 1, 1, 1, { 1 } };   /* led by 0 before */
    ck_assert(spin(p_state, &moved));
    ck_assert(spin(p_active, c1));
    int64_t t_done = sm_mono_ms();
    int32_t bad = 0;
    for (int32_t p = 0; p < n; p++) {
        sm_partition_state_t ps;
        if (sm_zk_admin_get_partition_state(zk1, "big", p, &ps) != 0 || ps.leader < 1) bad++;
        else sm_partition_state_free(&ps);
    }
    fprintf(stderr, "bench: controller failover with %d partitions: old controller gone in %lld ms; new one "
            "active after %lld ms, all partitions led by live brokers and controller idle after %lld ms "
            "(%d without leader)\n", n, (long long)(t0b - t0), (long long)(t_active - t0b),
            (long long)(t_done - t0b), bad);
    ck_assert_int_eq(bad, 0);
    sm_topic_assignment_free(&a);
    sm_ctrl_free(c1);
    sm_zk_broker_free(b1);
    sm_zk_broker_free(b2);
    sm_zk_close(zk1);
    sm_zk_close(zk2);
}
END_TEST

int
main(void)
{
    if (!getenv("SAMSA_ZK_CONNECT")) {
        fprintf(stderr, "SAMSA_ZK_CONNECT not set: skipping (run through tests/zk-test-env.sh)\n");
        return 77;
    }
    /* SAMSA_TEST_LOG=INFO shows the controller's log lines. */
    const char *lvl = getenv("SAMSA_TEST_LOG");
    sm_log_level = lvl && sm_log_level_parse(lvl) >= 0 ? sm_log_level_parse(lvl) : SM_LOG_WARN;
    Suite *s = suite_create("zk_live");
    TCase *tc = tcase_create("live");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_registration);
    tcase_add_test(tc, t_duplicate_id);
    tcase_add_test(tc, t_session_expiry);
    tcase_add_test(tc, t_controller_election);
    tcase_add_test(tc, t_topic_online);
    tcase_add_test(tc, t_config_change);
    tcase_add_test(tc, t_delete_enabled);
    tcase_add_test(tc, t_delete_disabled);
    tcase_add_test(tc, t_connect_timeout);
    tcase_add_test(tc, t_epoch_fencing);
    tcase_add_test(tc, t_broker_loss_unclean);
    tcase_add_test(tc, t_controlled_shutdown);
    tcase_add_test(tc, t_preferred_election);
    tcase_add_test(tc, t_reassignment);
    tcase_add_test(tc, t_failover_bench);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}

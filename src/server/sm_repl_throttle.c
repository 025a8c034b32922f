/*
 * sm_repl_throttle.c - the broker's replication throttle registry
 * (repl/sm_throttle.h) and what feeds it:
 *
 * - the rates leader/follower.replication.throttled.rate: read on every
 *   budget check from the dynamic broker config module
 *   (sm_dyncfg_*_throttle_rate) when it is linked in, otherwise every
 *   second from /config/brokers/<id> and /config/brokers/<default>
 *   (per-broker value first), asynchronously;
 * - the topics' leader/follower.replication.throttled.replicas: from
 *   /config/changes topic notifications (sm_repl_throttle_topic_config),
 *   and loaded from /config/topics/<t> the first time a follower fetch
 *   touches a topic and every REFRESH_MS after that (missed notifications,
 *   deleted topics).
 *
 * Every ZooKeeper call is async on the main loop: lookups on network and
 * fetcher threads only post a load there, they never block.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "server/sm_server.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_codec.h"

#define LOGGER "samsa.server.ReplicationQuotaManager"
#define POLL_MS 1000
#define REFRESH_MS 300000          /* safety net only: notifications carry changes */

static const char LEADER_RATE[] = "leader.replication.throttled.rate";
static const char FOLLOWER_RATE[] = "follower.replication.throttled.rate";
static const char LEADER_REPLICAS[] = "leader.replication.throttled.replicas";
static const char FOLLOWER_REPLICAS[] = "follower.replication.throttled.replicas";

/* The dynamic broker config module's accessors, if it is linked in. */
extern int64_t sm_dyncfg_leader_throttle_rate(void) __attribute__((weak));
extern int64_t sm_dyncfg_follower_throttle_rate(void) __attribute__((weak));

static sm_throttle_t *thr;           /* set/cleared on the main thread before/after every user */
static struct event *poll_ev;
/* Main thread: the two broker config layers as last read (-1 = key absent). */
static int64_t zk_rate[2][2];        /* [0 = <id>, 1 = <default>][side] */
static int64_t last_rate[2] = { -2, -2 };

sm_throttle_t *
sm_repl_throttle(void)
{
    return thr;
}

/* ---- rates ---- */

static void
apply_rates(int64_t leader, int64_t follower)
{
    /* Kafka's default (Long.MaxValue) and anything absurd mean unlimited. */
    if (leader == INT64_MAX) leader = 0;
    if (follower == INT64_MAX) follower = 0;
    if (leader == last_rate[0] && follower == last_rate[1]) return;
    if (last_rate[0] != -2 || leader > 0 || follower > 0)
        sm_log_info(LOGGER, "[ReplicationQuotaManager broker=%d] Replication throttle: leader %lld B/s, follower %lld B/s (0 = unlimited)",
                    sm_srv.cfg.broker_id, (long long)leader, (long long)follower);
    last_rate[0] = leader;
    last_rate[1] = follower;
    sm_throttle_set_rates(thr, leader, follower);
}

static int64_t
prop_rate(const sm_props_t *p, const char *key)
{
    const char *v = sm_props_get(p, key);
    int64_t n;
    return v && sm_parse_i64(v, &n) == 0 && n >= 0 ? n : -1;
}

static void
on_broker_config(void *arg, const sm_zk_res_t *r)
{
    int layer = (int)(intptr_t)arg;
    if (!thr || r->rc == ZCLOSING) return;
    if (r->rc != ZOK && r->rc != ZNONODE) return;   /* keep the last values on errors */
    sm_props_t p;
    sm_props_init(&p);
    if (r->rc == ZOK && r->data) sm_zk_decode_config(r->data, (size_t)r->len, &p);
    zk_rate[layer][0] = prop_rate(&p, LEADER_RATE);
    zk_rate[layer][1] = prop_rate(&p, FOLLOWER_RATE);
    sm_props_free(&p);
    if (layer == 1) {
        /* Both answers are in (completions arrive in request order). */
        int64_t l = zk_rate[0][0] >= 0 ? zk_rate[0][0] : zk_rate[1][0];
        int64_t f = zk_rate[0][1] >= 0 ? zk_rate[0][1] : zk_rate[1][1];
        apply_rates(l < 0 ? 0 : l, f < 0 ? 0 : f);
    }
}

/* Registry rate source with the dynamic config module: any thread. */
static void
dyncfg_rates(void *arg, int64_t *leader, int64_t *follower)
{
    *leader = sm_dyncfg_leader_throttle_rate();
    *follower = sm_dyncfg_follower_throttle_rate();
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
    if (!thr || sm_srv.shutting_down) return;
    if (sm_dyncfg_leader_throttle_rate && sm_dyncfg_follower_throttle_rate) {
        /* The registry reads the rates itself; this only logs changes. */
        apply_rates(sm_dyncfg_leader_throttle_rate(), sm_dyncfg_follower_throttle_rate());
        return;
    }
    if (!sm_srv.zk) return;
    char path[64];
    snprintf(path, sizeof(path), "/config/brokers/%d", sm_srv.cfg.broker_id);
    sm_zk_aget(sm_srv.zk, path, 0, on_broker_config, (void *)(intptr_t)0);
    sm_zk_aget(sm_srv.zk, "/config/brokers/<default>", 0, on_broker_config, (void *)(intptr_t)1);
}

/* ---- topics ---- */

static void
set_topic_from(const char *topic, const sm_props_t *p)
{
    sm_throttle_set_topic(thr, topic, sm_props_get(p, LEADER_REPLICAS), sm_props_get(p, FOLLOWER_REPLICAS));
}

void
sm_repl_throttle_topic_config(const char *topic, const sm_props_t *config)
{
    if (thr) set_topic_from(topic, config);
}

static void
on_topic_config(void *arg, const sm_zk_res_t *r)
{
    char *topic = arg;
    if (thr && (r->rc == ZOK || r->rc == ZNONODE)) {
        sm_props_t p;
        sm_props_init(&p);
        if (r->rc == ZOK && r->data) sm_zk_decode_config(r->data, (size_t)r->len, &p);
        set_topic_from(topic, &p);
        sm_props_free(&p);
    } else if (thr && r->rc != ZCLOSING) {
        /* Try again on a later lookup instead of never. */
        sm_throttle_forget_topic(thr, topic);
    }
    free(topic);
}

static void
load_main(void *arg)
{
    char *topic = arg;
    if (!thr || !sm_srv.zk || sm_srv.shutting_down) {
        free(topic);
        return;
    }
    char *path = sm_asprintf("/config/topics/%s", topic);
    sm_zk_aget(sm_srv.zk, path, 0, on_topic_config, topic);
    free(path);
}

/* Registry loader: any thread, never blocks. */
static void
load_topic(void *arg, const char *topic)
{
    sm_loop_post(sm_srv.main_base, load_main, sm_strdup(topic));
}

/* ---- leader side ---- */

int
sm_repl_leader_throttled(sm_partition_t *p, int32_t replica_id)
{
    if (!thr || replica_id < 0 ||
        !sm_throttle_is_throttled(thr, SM_THROTTLE_LEADER, p->topic, strlen(p->topic), p->partition))
        return 0;
    /* Kafka's shouldLeaderThrottle: in-sync followers are never held back. */
    int in = 0;
    pthread_mutex_lock(&p->lock);
    for (int32_t i = 0; i < p->nisr && !in; i++) in = p->isr[i] == replica_id;
    pthread_mutex_unlock(&p->lock);
    return !in;
}

/* ---- start / stop ---- */

void
sm_repl_throttle_start(void)
{
    thr = sm_throttle_new(sm_srv.cfg.broker_id, NULL, load_topic, NULL, REFRESH_MS);
    for (int i = 0; i < 2; i++) zk_rate[i][0] = zk_rate[i][1] = -1;
    last_rate[0] = last_rate[1] = -2;
    poll_ev = event_new(sm_srv.main_base, -1, EV_PERSIST, on_poll, NULL);
    if (sm_dyncfg_leader_throttle_rate && sm_dyncfg_follower_throttle_rate)
        sm_throttle_set_rates_fn(thr, dyncfg_rates, NULL);
    struct timeval tv = { POLL_MS / 1000, (POLL_MS % 1000) * 1000 };
    event_add(poll_ev, &tv);
    on_poll(-1, 0, NULL);
}

void
sm_repl_throttle_stop(void)
{
    if (poll_ev) {
        event_free(poll_ev);
        poll_ev = NULL;
    }
    sm_throttle_t *t = thr;
    thr = NULL;
    sm_throttle_free(t);
}

/*
 * sm_server.c - broker start-up and shutdown order, the ZooKeeper broker
 * callbacks, the controller channel (how controller decisions reach this
 * broker's replica manager and metadata cache), and periodic log work.
 *
 * Start-up (Kafka's KafkaServer order, adapted): ZooKeeper session ->
 * persistent paths, cluster id, broker registration -> log manager (lock,
 * meta.properties, recovery) -> replica manager -> network threads ->
 * controller election. Shutdown reverses it: stop accepting, resign and
 * close the ZooKeeper session (the ephemeral broker znode goes away), flush
 * logs and write checkpoints plus the clean-shutdown marker.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "server/sm_server.h"
#include "zk/sm_ctrl.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_broker.h"

sm_server_t sm_srv;

static struct event *tick_ev;

/* ---- controller channel: this broker is the only recipient so far ---- */

static void
ch_leader_and_isr(void *arg, int32_t broker_id, int32_t controller_id, int32_t controller_epoch,
                  const sm_ctrl_partition_t *parts, int nparts)
{
    if (broker_id != sm_srv.cfg.broker_id || nparts <= 0) return;
    sm_replica_state_t *st = sm_calloc((size_t)nparts, sizeof(*st));
    sm_err_t *errs = sm_calloc((size_t)nparts, sizeof(*errs));
    for (int i = 0; i < nparts; i++) {
        st[i].topic = parts[i].topic;
        st[i].partition = parts[i].partition;
        st[i].controller_epoch = parts[i].controller_epoch;
        st[i].leader = parts[i].leader;
        st[i].leader_epoch = parts[i].leader_epoch;
        st[i].nisr = parts[i].nisr;
        st[i].isr = parts[i].isr;
        st[i].nreplicas = parts[i].nreplicas;
        st[i].replicas = parts[i].replicas;
        st[i].zk_version = parts[i].zk_version;
        st[i].is_new = parts[i].is_new;
    }
    sm_replica_leader_and_isr(sm_srv.replicas, controller_epoch, st, nparts, errs);
    free(st);
    free(errs);
}

static void
ch_update_metadata(void *arg, int32_t broker_id, int32_t controller_id, int32_t controller_epoch,
                   const sm_ctrl_broker_t *live, int nlive, const sm_ctrl_partition_t *parts, int nparts)
{
    if (broker_id != sm_srv.cfg.broker_id) return;
    sm_md_broker_t *b = sm_calloc((size_t)(nlive ? nlive : 1), sizeof(*b));
    for (int i = 0; i < nlive; i++) {
        b[i].id = live[i].id;
        b[i].host = live[i].host;
        b[i].port = live[i].port;
        b[i].rack = live[i].rack;
    }
    sm_metadata_set_brokers(sm_srv.metadata, controller_id, b, nlive);
    free(b);
    for (int i = 0; i < nparts; i++) {
        const sm_ctrl_partition_t *p = &parts[i];
        sm_metadata_update_partition(sm_srv.metadata, p->topic, p->partition, p->leader, p->leader_epoch, p->replicas,
                                     p->nreplicas, p->isr, p->nisr);
        if (p->leader == -2) sm_topic_config_invalidate(p->topic);
    }
}

static void
ch_stop_replica(void *arg, int32_t broker_id, int32_t controller_epoch, const char *topic, int32_t partition,
                int delete_partition)
{
    if (broker_id != sm_srv.cfg.broker_id) return;
    sm_replica_stop(sm_srv.replicas, topic, partition, delete_partition);
}

/* ---- broker ZooKeeper callbacks (main thread) ---- */

static void
zk_registered(void *arg, int64_t epoch)
{
    sm_srv.broker_epoch = epoch;
}

static void
zk_controller_changed(void *arg, int32_t id)
{
    __atomic_store_n(&sm_srv.controller_id, id, __ATOMIC_RELAXED);
}

static void
zk_topic_config_changed(void *arg, const char *topic, const sm_props_t *config)
{
    sm_topic_config_invalidate(topic);
    sm_replica_topic_config_changed(sm_srv.replicas, topic);
}

static void
zk_fatal(void *arg, const char *msg)
{
    sm_log_error("samsa.server", "[KafkaServer id=%d] %s; shutting down", sm_srv.cfg.broker_id, msg);
    sm_srv.shutting_down = 1;
    event_base_loopbreak(sm_srv.main_base);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    sm_logmgr_tick(sm_srv.logs, sm_now_ms());
}

/* ---- start / stop ---- */

int
sm_server_start(char *errstr, size_t errlen)
{
    sm_broker_config_t *cfg = &sm_srv.cfg;
    sm_srv.controller_id = -1;
    sm_log_info("samsa.server", "[KafkaServer id=%d] starting", cfg->broker_id);
    sm_log_info("samsa.server", "[KafkaServer id=%d] Connecting to zookeeper on %s", cfg->broker_id, cfg->zookeeper_connect);
    if (sm_zk_ensure_chroot(cfg->zookeeper_connect, cfg->zookeeper_session_timeout_ms,
                            cfg->zookeeper_connection_timeout_ms, errstr, errlen) < 0)
        return -1;
    sm_srv.zk = sm_zk_open(cfg->zookeeper_connect, cfg->zookeeper_session_timeout_ms,
                           cfg->zookeeper_connection_timeout_ms, sm_srv.main_base, errstr, errlen);
    if (!sm_srv.zk) return -1;

    /* Registration info: advertised endpoints. */
    sm_broker_info_t info = { 0 };
    info.id = cfg->broker_id;
    info.rack = cfg->broker_rack;
    info.jmx_port = -1;
    info.nendpoints = cfg->nadvertised;
    info.endpoints = sm_calloc((size_t)cfg->nadvertised, sizeof(char *));
    info.endpoint_listener = sm_calloc((size_t)cfg->nadvertised, sizeof(char *));
    info.endpoint_host = sm_calloc((size_t)cfg->nadvertised, sizeof(char *));
    info.endpoint_port = sm_calloc((size_t)cfg->nadvertised, sizeof(int32_t));
    for (int i = 0; i < cfg->nadvertised; i++) {
        info.endpoints[i] = sm_asprintf("%s://%s:%d", cfg->advertised[i].name, cfg->advertised[i].host, cfg->advertised[i].port);
        info.endpoint_listener[i] = cfg->advertised[i].name;
        info.endpoint_host[i] = cfg->advertised[i].host;
        info.endpoint_port[i] = cfg->advertised[i].port;
    }
    info.host = cfg->advertised[0].host;
    info.port = cfg->advertised[0].port;
    sm_zk_broker_cb_t cb = { zk_registered, zk_controller_changed, zk_topic_config_changed, zk_fatal, NULL };
    sm_srv.zk_broker = sm_zk_broker_new(sm_srv.zk, &info, 4, &cb);
    for (int i = 0; i < cfg->nadvertised; i++) free(info.endpoints[i]);
    free(info.endpoints);
    free(info.endpoint_listener);
    free(info.endpoint_host);
    free(info.endpoint_port);

    sm_srv.metadata = sm_metadata_new();
    sm_srv.admin = sm_worker_start("samsa-admin");

    /* Logs before registration: a broker is announced only once it can serve. */
    char *cluster_id = NULL;
    int64_t epoch = 0;
    if (sm_zk_broker_start(sm_srv.zk_broker, &cluster_id, &epoch, errstr, errlen) < 0) return -1;
    sm_srv.cluster_id = cluster_id;
    sm_srv.broker_epoch = epoch;
    sm_metadata_set_cluster_id(sm_srv.metadata, cluster_id);
    sm_log_info("samsa.server", "[KafkaServer id=%d] Cluster ID = %s", cfg->broker_id, cluster_id);

    sm_logmgr_config_t lc = { 0 };
    lc.dirs = cfg->dirs;
    lc.ndirs = cfg->ndirs;
    lc.broker_id = cfg->broker_id;
    lc.cluster_id = cluster_id;
    lc.recovery_threads = cfg->num_recovery_threads_per_data_dir;
    lc.retention_check_interval_ms = cfg->log_retention_check_interval_ms;
    lc.flush_scheduler_interval_ms = cfg->log_flush_scheduler_interval_ms;
    lc.checkpoint_interval_ms = cfg->log_flush_offset_checkpoint_interval_ms;
    lc.defaults = cfg->log_defaults;
    sm_srv.logs = sm_logmgr_open(&lc, errstr, errlen);
    if (!sm_srv.logs) return -1;
    sm_srv.replicas = sm_replica_mgr_new(cfg->broker_id, sm_srv.logs, sm_topic_log_config, sm_fetch_wake_all, NULL);

    sm_net_config_t nc = { 0 };
    nc.host = cfg->listener[0].host;
    nc.port = cfg->listener[0].port;
    nc.num_threads = cfg->num_network_threads;
    nc.max_request_bytes = cfg->socket_request_max_bytes;
    nc.sndbuf = cfg->socket_send_buffer_bytes;
    nc.rcvbuf = cfg->socket_receive_buffer_bytes;
    nc.on_request = sm_handle_request;
    sm_net_set_node_id(cfg->broker_id);
    sm_srv.net = sm_net_start(&nc, errstr, errlen);
    if (!sm_srv.net) return -1;

    sm_ctrl_channel_t ch = { ch_leader_and_isr, ch_update_metadata, ch_stop_replica, NULL };
    sm_ctrl_conf_t cc = { 0 };
    cc.delete_topic_enable = cfg->delete_topic_enable;
    cc.unclean_leader_election_enable = cfg->unclean_leader_election_enable;
    sm_srv.ctrl = sm_ctrl_new(sm_srv.zk, cfg->broker_id, &cc, &ch);
    sm_ctrl_start(sm_srv.ctrl);

    tick_ev = event_new(sm_srv.main_base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = { 0, 500000 };
    event_add(tick_ev, &tv);
    sm_log_info("samsa.server", "[KafkaServer id=%d] started", cfg->broker_id);
    return 0;
}

void
sm_server_stop(void)
{
    int id = sm_srv.cfg.broker_id;
    sm_srv.shutting_down = 1;
    sm_log_info("samsa.server", "[KafkaServer id=%d] shutting down", id);
    if (tick_ev) { event_free(tick_ev); tick_ev = NULL; }
    if (sm_srv.net) { sm_net_stop(sm_srv.net); sm_srv.net = NULL; }
    if (sm_srv.ctrl) { sm_ctrl_free(sm_srv.ctrl); sm_srv.ctrl = NULL; }
    if (sm_srv.admin) { sm_worker_stop(sm_srv.admin); sm_srv.admin = NULL; }
    if (sm_srv.zk_broker) { sm_zk_broker_free(sm_srv.zk_broker); sm_srv.zk_broker = NULL; }
    if (sm_srv.zk) {
        sm_zk_close(sm_srv.zk);
        sm_srv.zk = NULL;
        /* Let cancelled ZooKeeper completions release their memory. */
        event_base_loop(sm_srv.main_base, EVLOOP_NONBLOCK);
    }
    if (sm_srv.replicas) { sm_replica_mgr_free(sm_srv.replicas); sm_srv.replicas = NULL; }
    if (sm_srv.logs) { sm_logmgr_shutdown(sm_srv.logs); sm_srv.logs = NULL; }
    if (sm_srv.metadata) { sm_metadata_free(sm_srv.metadata); sm_srv.metadata = NULL; }
    free(sm_srv.cluster_id);
    sm_srv.cluster_id = NULL;
    sm_log_info("samsa.server", "[KafkaServer id=%d] shut down completed", id);
}

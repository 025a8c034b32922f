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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "metrics/sm_metrics_broker.h"
#include "repl/sm_fetcher.h"
#include "repl/sm_ib_client.h"
#include "server/sm_dyncfg.h"
#include "server/sm_server.h"
#include "server/sm_ib_api.h"
#include "zk/sm_ctrl.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_broker.h"

sm_server_t sm_srv;

static struct event *tick_ev;
static sm_fetcher_mgr_t *fetchers;

/* ---- controller channel ----
 *
 * Controller decisions reach every broker as real requests. This broker
 * applies its own through sm_ib_apply_* (the path received requests take:
 * controller/broker epoch fencing, then the replica manager or metadata
 * cache); other brokers get LeaderAndIsr v4 / UpdateMetadata v6 /
 * StopReplica v3 queued on ctrl_client, whose per-broker send thread keeps
 * them in order and retries until answered, so the controller's loop never
 * blocks. Broker epochs are not known here, so requests carry -1 (not
 * checked). */

#define CH_LAI_VERSION 4
#define CH_UM_VERSION 6
#define CH_SR_VERSION 3

static sm_ib_client_t *ctrl_client;

static void
ch_log_errors(const char *api, int32_t broker_id, int16_t top, const sm_ib_part_error_t *errs, int32_t n)
{
    if (top != SM_ERR_NONE) {
        sm_log_warn("state.change.logger", "[Controller id=%d] %s request to broker %d failed: %s",
                    sm_srv.cfg.broker_id, api, broker_id, sm_err_name(top));
        return;
    }
    for (int32_t i = 0; i < n; i++)
        if (errs[i].error_code != SM_ERR_NONE)
            sm_log_warn("state.change.logger", "[Controller id=%d] Broker %d answered %s for partition %.*s-%d: %s",
                        sm_srv.cfg.broker_id, broker_id, api, errs[i].topic.len, errs[i].topic.ptr,
                        errs[i].partition, sm_err_name(errs[i].error_code));
}

/* Response of a remote broker (its send thread): log what failed. */
static void
ch_response(void *arg, int32_t broker_id, int16_t api, int16_t ver, sm_reader_t *body)
{
    if (!body) return;   /* dropped: the broker died or we are stopping */
    sm_arena_t a;
    sm_arena_init(&a, 2048);
    int rc = 0;
    if (api == SM_API_LEADERANDISR) {
        sm_leaderandisr_resp_t r;
        if ((rc = sm_proto_decode_LeaderAndIsrResponse(body, ver, &a, &r)) == 0)
            ch_log_errors("LeaderAndIsr", broker_id, r.error_code, r.partition_errors, r.n_partition_errors);
    } else if (api == SM_API_UPDATEMETADATA) {
        sm_updatemetadata_resp_t r;
        if ((rc = sm_proto_decode_UpdateMetadataResponse(body, ver, &a, &r)) == 0)
            ch_log_errors("UpdateMetadata", broker_id, r.error_code, NULL, 0);
    } else if (api == SM_API_STOPREPLICA) {
        sm_stopreplica_resp_t r;
        if ((rc = sm_proto_decode_StopReplicaResponse(body, ver, &a, &r)) == 0)
            ch_log_errors("StopReplica", broker_id, r.error_code, r.partition_errors, r.n_partition_errors);
    }
    if (rc < 0)
        sm_log_warn("state.change.logger", "[Controller id=%d] Malformed %s response from broker %d",
                    sm_srv.cfg.broker_id, sm_api_name(api), broker_id);
    sm_arena_free(&a);
}

static void
ch_send(int32_t broker_id, int16_t api, int16_t ver, sm_wbuf_t *w)
{
    size_t len;
    uint8_t *body = sm_wbuf_steal(w, &len);
    sm_ib_send(ctrl_client, broker_id, api, ver, body, len, ch_response, NULL);
}

/* Index of the topic entry for parts[i]: consecutive partitions of one
 * topic share an entry (the controller lists partitions topic by topic). */
static int
ch_group(const sm_ctrl_partition_t *parts, int i, int nt)
{
    return i > 0 && strcmp(parts[i - 1].topic, parts[i].topic) == 0 ? nt - 1 : nt;
}

static void
ch_leader_and_isr(void *arg, int32_t broker_id, int32_t controller_id, int32_t controller_epoch,
                  const sm_ctrl_partition_t *parts, int nparts)
{
    if (nparts <= 0) return;
    sm_lai_topic_t *topics = sm_calloc((size_t)nparts, sizeof(*topics));
    sm_lai_part_t *lp = sm_calloc((size_t)nparts, sizeof(*lp));
    sm_lai_leader_t *leaders = sm_calloc((size_t)nparts, sizeof(*leaders));
    char (*hosts)[256] = sm_calloc((size_t)nparts, sizeof(*hosts));
    int nt = 0, nl = 0;
    for (int i = 0; i < nparts; i++) {
        const sm_ctrl_partition_t *p = &parts[i];
        int t = ch_group(parts, i, nt);
        if (t == nt) {
            topics[nt].topic = SM_BYTES_STR(p->topic);
            topics[nt].partitions = &lp[i];
            nt++;
        }
        topics[t].n_partitions++;
        lp[i].partition_index = p->partition;
        lp[i].controller_epoch = p->controller_epoch;
        lp[i].leader = p->leader;
        lp[i].leader_epoch = p->leader_epoch;
        lp[i].n_isr = p->nisr;
        lp[i].isr = p->isr;
        lp[i].zk_version = p->zk_version;
        lp[i].n_replicas = p->nreplicas;
        lp[i].replicas = p->replicas;
        lp[i].is_new = (int8_t)p->is_new;
        int seen = p->leader < 0;
        for (int k = 0; k < nl && !seen; k++) seen = leaders[k].broker_id == p->leader;
        int port;
        if (!seen && sm_ib_resolve_broker(NULL, p->leader, hosts[nl], sizeof(hosts[nl]), &port) == 0) {
            leaders[nl].broker_id = p->leader;
            leaders[nl].host = SM_BYTES_STR(hosts[nl]);
            leaders[nl].port = port;
            nl++;
        }
    }
    sm_leaderandisr_req_t req = { controller_id, controller_epoch, -1, nt, topics, nl, leaders };
    if (broker_id == sm_srv.cfg.broker_id) {
        sm_ib_part_error_t *errs = sm_calloc((size_t)nparts, sizeof(*errs));
        int16_t top = sm_ib_apply_LeaderAndIsr(&req, errs);
        ch_log_errors("LeaderAndIsr", broker_id, top, errs, nparts);
        free(errs);
    } else if (ctrl_client) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        sm_proto_encode_LeaderAndIsrRequest(&w, CH_LAI_VERSION, &req);
        ch_send(broker_id, SM_API_LEADERANDISR, CH_LAI_VERSION, &w);
    }
    free(topics);
    free(lp);
    free(leaders);
    free(hosts);
}

static void
ch_update_metadata(void *arg, int32_t broker_id, int32_t controller_id, int32_t controller_epoch,
                   const sm_ctrl_broker_t *live, int nlive, const sm_ctrl_partition_t *parts, int nparts)
{
    int nb = nlive > 0 ? nlive : 1, np = nparts > 0 ? nparts : 1;
    sm_um_broker_t *ub = sm_calloc((size_t)nb, sizeof(*ub));
    sm_um_endpoint_t *ep = sm_calloc((size_t)nb, sizeof(*ep));
    int32_t *live_ids = sm_calloc((size_t)nb, sizeof(*live_ids));
    for (int i = 0; i < nlive; i++) {
        live_ids[i] = live[i].id;
        ep[i].port = live[i].port;
        ep[i].host = SM_BYTES_STR(live[i].host ? live[i].host : "");
        ep[i].listener = SM_BYTES_STR(live[i].listener ? live[i].listener : "PLAINTEXT");
        ep[i].security_protocol = 0;   /* PLAINTEXT */
        ub[i].id = live[i].id;
        ub[i].n_endpoints = 1;
        ub[i].endpoints = &ep[i];
        ub[i].rack = live[i].rack ? SM_BYTES_STR(live[i].rack) : SM_BYTES_NULL;
    }
    sm_um_topic_t *topics = sm_calloc((size_t)np, sizeof(*topics));
    sm_um_part_t *up = sm_calloc((size_t)np, sizeof(*up));
    int32_t total_replicas = 0;
    for (int i = 0; i < nparts; i++) total_replicas += parts[i].nreplicas > 0 ? parts[i].nreplicas : 0;
    int32_t *offline = sm_calloc((size_t)(total_replicas + 1), sizeof(*offline));
    int nt = 0, used = 0;
    for (int i = 0; i < nparts; i++) {
        const sm_ctrl_partition_t *p = &parts[i];
        int t = ch_group(parts, i, nt);
        if (t == nt) {
            topics[nt].topic = SM_BYTES_STR(p->topic);
            topics[nt].partitions = &up[i];
            nt++;
        }
        topics[t].n_partitions++;
        up[i].partition_index = p->partition;
        up[i].controller_epoch = p->controller_epoch;
        up[i].leader = p->leader;
        up[i].leader_epoch = p->leader_epoch;
        up[i].n_isr = p->nisr;
        up[i].isr = p->isr;
        up[i].zk_version = p->zk_version;
        up[i].n_replicas = p->nreplicas;
        up[i].replicas = p->replicas;
        up[i].offline_replicas = &offline[used];
        for (int32_t k = 0; k < p->nreplicas; k++) {
            int alive = 0;
            for (int b = 0; b < nlive && !alive; b++) alive = live_ids[b] == p->replicas[k];
            if (!alive) offline[used + up[i].n_offline_replicas++] = p->replicas[k];
        }
        used += up[i].n_offline_replicas;
    }
    sm_updatemetadata_req_t req = { controller_id, controller_epoch, -1, nt, topics, nlive, ub };
    if (broker_id == sm_srv.cfg.broker_id) {
        ch_log_errors("UpdateMetadata", broker_id, sm_ib_apply_UpdateMetadata(&req), NULL, 0);
    } else if (ctrl_client) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        sm_proto_encode_UpdateMetadataRequest(&w, CH_UM_VERSION, &req);
        ch_send(broker_id, SM_API_UPDATEMETADATA, CH_UM_VERSION, &w);
    }
    /* Queues to brokers that are gone would retry forever: drop them. */
    if (ctrl_client) sm_ib_client_retain(ctrl_client, live_ids, nlive);
    free(ub);
    free(ep);
    free(live_ids);
    free(topics);
    free(up);
    free(offline);
}

static void
ch_stop_replica(void *arg, int32_t broker_id, int32_t controller_epoch, const char *topic, int32_t partition,
                int delete_partition)
{
    /* Kafka's LeaderEpochDuringDelete (-2) marks deletion, NoEpoch (-1) a plain stop. */
    sm_sr_part_t p = { partition, delete_partition ? -2 : -1, (int8_t)(delete_partition ? 1 : 0) };
    sm_sr_topic_t t = { SM_BYTES_STR(topic), 1, &p };
    int32_t controller_id = sm_srv.ctrl ? sm_ctrl_controller_id(sm_srv.ctrl) : sm_srv.cfg.broker_id;
    sm_stopreplica_req_t req = { controller_id, controller_epoch, -1, p.delete_partition, 1, &t };
    if (broker_id == sm_srv.cfg.broker_id) {
        sm_ib_part_error_t err;
        int16_t top = sm_ib_apply_StopReplica(&req, &err);
        ch_log_errors("StopReplica", broker_id, top, &err, 1);
    } else if (ctrl_client) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 64);
        sm_proto_encode_StopReplicaRequest(&w, CH_SR_VERSION, &req);
        ch_send(broker_id, SM_API_STOPREPLICA, CH_SR_VERSION, &w);
    }
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
    sm_repl_throttle_topic_config(topic, config);
}

static void
zk_broker_config_changed(void *arg, const char *entity, const sm_props_t *config)
{
    sm_dyncfg_changed(entity, config);
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
    sm_replica_tick(sm_srv.replicas);
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
    sm_zk_broker_cb_t cb = { zk_registered, zk_controller_changed, zk_topic_config_changed, zk_fatal, NULL,
                             zk_broker_config_changed };
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
    /* Dynamic broker configs before the logs load with the defaults. */
    sm_dyncfg_start();

    sm_logmgr_config_t lc = { 0 };
    lc.dirs = cfg->dirs;
    lc.ndirs = cfg->ndirs;
    lc.broker_id = cfg->broker_id;
    lc.cluster_id = cluster_id;
    lc.recovery_threads = cfg->num_recovery_threads_per_data_dir;
    lc.retention_check_interval_ms = cfg->log_retention_check_interval_ms;
    lc.flush_scheduler_interval_ms = cfg->log_flush_scheduler_interval_ms;
    /* One interval for all checkpoints: the HW one's (5 s) when shorter. */
    lc.checkpoint_interval_ms = SM_MIN(cfg->log_flush_offset_checkpoint_interval_ms,
                                       cfg->replica_high_watermark_checkpoint_interval_ms);
    lc.defaults = cfg->log_defaults;
    sm_broker_cleaner_config(cfg, &lc.cleaner);
    sm_srv.logs = sm_logmgr_open(&lc, errstr, errlen);
    if (!sm_srv.logs) return -1;
    sm_srv.replicas = sm_replica_mgr_new(cfg->broker_id, sm_srv.logs, sm_topic_log_config, sm_repl_data_changed, NULL);
    sm_replica_mgr_set_lag_time(sm_srv.replicas, cfg->replica_lag_time_max_ms);
    sm_replica_mgr_set_isr_writer(sm_srv.replicas, sm_repl_isr_write, NULL);
    sm_group_api_start();
    sm_fetcher_config_t fc;
    sm_fetcher_config_defaults(&fc);
    fc.broker_id = cfg->broker_id;
    fc.fetch_max_bytes = cfg->replica_fetch_max_bytes;
    fc.fetch_response_max_bytes = cfg->replica_fetch_response_max_bytes;
    fc.fetch_wait_max_ms = cfg->replica_fetch_wait_max_ms;
    fc.fetch_min_bytes = cfg->replica_fetch_min_bytes;
    fc.fetch_backoff_ms = cfg->replica_fetch_backoff_ms;
    fc.socket_timeout_ms = cfg->replica_socket_timeout_ms;
    fc.resolve = sm_repl_resolve_broker;
    sm_repl_throttle_start();
    fc.throttle = sm_repl_throttle();
    fetchers = sm_fetcher_mgr_new(sm_srv.replicas, &fc);
    sm_replica_mgr_set_fetchers(sm_srv.replicas, fetchers);

    sm_net_config_t nc = { 0 };
    nc.host = cfg->listener[0].host;
    nc.port = cfg->listener[0].port;
    nc.num_threads = cfg->num_network_threads;
    nc.max_request_bytes = cfg->socket_request_max_bytes;
    nc.sndbuf = cfg->socket_send_buffer_bytes;
    nc.rcvbuf = cfg->socket_receive_buffer_bytes;
    nc.on_request = sm_handle_request;
    sm_net_set_node_id(cfg->broker_id);
    /* Prometheus endpoint (samsa.metrics.listener) before clients arrive. */
    if (sm_metrics_broker_start(errstr, errlen) < 0) return -1;
    sm_srv.net = sm_net_start(&nc, errstr, errlen);
    if (!sm_srv.net) return -1;

    sm_ib_client_conf_t icc = { 0 };
    char ctrl_cid[32], ctrl_log[48];
    snprintf(ctrl_cid, sizeof(ctrl_cid), "controller-%d", cfg->broker_id);
    snprintf(ctrl_log, sizeof(ctrl_log), "Controller id=%d", cfg->broker_id);
    icc.client_id = ctrl_cid;
    icc.log_prefix = ctrl_log;
    icc.lookup = sm_ib_resolve_broker;
    ctrl_client = sm_ib_client_new(&icc);
    sm_ctrl_channel_t ch = { ch_leader_and_isr, ch_update_metadata, ch_stop_replica, NULL };
    sm_ctrl_conf_t cc = { 0 };
    cc.delete_topic_enable = cfg->delete_topic_enable;
    cc.unclean_leader_election_enable = cfg->unclean_leader_election_enable;
    cc.auto_leader_rebalance_enable = cfg->auto_leader_rebalance_enable;
    cc.leader_imbalance_check_interval_seconds = (int)cfg->leader_imbalance_check_interval_seconds;
    cc.leader_imbalance_per_broker_percentage = cfg->leader_imbalance_per_broker_percentage;
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
    sm_metrics_broker_stop();        /* it reads everything stopped below */
    /* Hand leadership over while everything still runs. */
    sm_ib_controlled_shutdown();
    if (tick_ev) { event_free(tick_ev); tick_ev = NULL; }
    /* Followers stop first: their threads use the ZooKeeper session and logs. */
    if (fetchers) {
        if (sm_srv.replicas) sm_replica_mgr_set_fetchers(sm_srv.replicas, NULL);
        sm_fetcher_mgr_free(fetchers);
        fetchers = NULL;
    }
    sm_group_api_stop();             /* answers parked group requests */
    sm_repl_stop_parked();           /* and parked acks=all produces */
    if (sm_srv.net) { sm_net_stop(sm_srv.net); sm_srv.net = NULL; }
    sm_repl_throttle_stop();         /* its users (fetchers, network threads) are gone */
    if (sm_srv.ctrl) { sm_ctrl_free(sm_srv.ctrl); sm_srv.ctrl = NULL; }
    if (ctrl_client) { sm_ib_client_free(ctrl_client); ctrl_client = NULL; }
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
    sm_dyncfg_stop();
    free(sm_srv.cluster_id);
    sm_srv.cluster_id = NULL;
    sm_ib_api_cleanup();
    sm_log_info("samsa.server", "[KafkaServer id=%d] shut down completed", id);
}

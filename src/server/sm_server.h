/*
 * sm_server.h - the broker process: one context shared by the request
 * handlers, the controller channel and start-up/shutdown.
 *
 * Threads: the main thread runs `main_base` (ZooKeeper events, controller,
 * timers, signals); num.network.threads threads run the handlers in
 * sm_handlers.c/sm_fetch.c/sm_admin_api.c for their own connections; one
 * worker thread runs blocking ZooKeeper admin calls.
 */
#ifndef SM_SERVER_H
#define SM_SERVER_H

#include <stdint.h>
#include "core/sm_conf.h"
#include "log/sm_logmgr.h"
#include "metrics/sm_metrics.h"
#include "net/sm_net.h"
#include "proto/sm_proto.h"
#include "repl/sm_replica.h"
#include "repl/sm_throttle.h"
#include "server/sm_config.h"
#include "server/sm_metadata.h"
#include "server/sm_worker.h"

struct event_base;
typedef struct sm_zk_s sm_zk_t;

typedef struct {
    sm_broker_config_t cfg;
    struct event_base *main_base;
    sm_zk_t *zk;                     /* the broker's ZooKeeper session */
    void *zk_broker;                 /* sm_zk_broker_t */
    void *ctrl;                      /* sm_ctrl_t */
    sm_logmgr_t *logs;
    sm_replica_mgr_t *replicas;
    sm_metadata_t *metadata;
    sm_net_t *net;
    sm_worker_t *admin;
    char *cluster_id;
    int64_t broker_epoch;
    int32_t controller_id;           /* as seen on /controller (atomic) */
    int parked_fetches;              /* atomic: long polls waiting anywhere */
    int32_t ib_controller_epoch;     /* highest controller epoch accepted (main thread) */
    int shutting_down;
} sm_server_t;

extern sm_server_t sm_srv;

/* Entry point for net: one complete request frame. */
void sm_handle_request(sm_conn_t *c, const uint8_t *frame, size_t len, void *opaque);

/* Per-connection state kept in sm_conn_data. */
typedef struct {
    sm_arena_t arena;                /* decoded request arrays; reset per request */
    sm_metrics_req_t metrics;        /* in-flight request timing (src/metrics) */
} sm_conn_ctx_t;

/* Helpers shared by the handler files. */
sm_resp_t *sm_response_start(const sm_req_hdr_t *h);
void sm_handle_Fetch(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_CreateTopics(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_DeleteTopics(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_CreatePartitions(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_DescribeConfigs(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
/* AlterConfigs v0-1 (sm_config_api.c): topic and broker dynamic configs. */
void sm_handle_AlterConfigs(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
/* Inter-broker APIs (sm_ib_api.c): decoded on the network thread, applied
 * on the main thread, answered back on the network thread. */
void sm_handle_LeaderAndIsr(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_UpdateMetadata(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_StopReplica(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_ControlledShutdown(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
/* Called from any thread when consumer-visible data appeared. */
void sm_fetch_wake_all(void *arg);
/* Replication (sm_repl_api.c). */
void sm_handle_OffsetForLeaderEpoch(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
/* Replica manager data callback: wakes parked fetches and delayed produces
 * (HW moved, leader append, leadership or ISR change). Any thread. */
void sm_repl_data_changed(void *arg);
/* Follower Fetch (replica_id >= 0): record each partition's fetch offset
 * as that follower's LEO before answering. Network thread. */
void sm_repl_update_followers(const sm_fetch_req_t *req);
/* acks=all: required[k]/epochs[k] per response partition k (in order;
 * required -1 = not waiting) from the appends. Finished partitions get
 * their status now; returns 0 if nothing waits (respond now) or 1 if the
 * request is parked until replicated, timed out, or leadership was lost
 * (resp's arrays must live in the connection's arena). Network thread. */
int sm_produce_delay(sm_conn_t *c, const sm_req_hdr_t *h, int32_t timeout_ms, sm_produce_resp_t *resp,
                     const int64_t *required, const int32_t *epochs);
/* Shutdown (main thread, sm_srv.shutting_down set, network still up):
 * answer every acks=all request still parked and free its timer, waiting
 * up to 2 s for the network threads to do it. */
void sm_repl_stop_parked(void);
/* ISR writer for the replica manager and broker resolver for fetchers. */
void sm_repl_isr_write(void *arg, const sm_isr_write_t *w);
int  sm_repl_resolve_broker(void *arg, int32_t id, char *host, size_t hostlen, int *port);
/* Queue creation of topic with broker defaults (auto.create.topics.enable). */
void sm_auto_create_topic(const char *topic, size_t len);
/* Consumer-group APIs (sm_group_api.c) and the group coordinator thread:
 * start after the replica manager exists, stop before the network threads. */
void sm_handle_FindCoordinator(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_JoinGroup(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_SyncGroup(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_Heartbeat(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_LeaveGroup(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_OffsetCommit(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_OffsetFetch(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_ListGroups(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_DescribeGroups(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_DeleteGroups(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_OffsetDelete(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
int  sm_group_api_start(void);
void sm_group_api_stop(void);
/* A high watermark moved (from sm_repl_data_changed, any thread): lets the
 * coordinator finish commits waiting for the ISR. */
void sm_group_data_changed(void);
/* Idempotent producers and DeleteRecords (sm_idem_api.c). */
void sm_handle_InitProducerId(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
void sm_handle_DeleteRecords(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
/* Effective log config of a topic (broker defaults + ZooKeeper overrides). */
void sm_topic_log_config(void *arg, const char *topic, sm_log_config_t *out, int32_t *min_isr);
/* Forget a cached topic config (config change or deletion). */
void sm_topic_config_invalidate(const char *topic);
/* Recompute every cached topic config from the current broker defaults
 * (dynamic broker config change); *topics gets the cached topic names
 * (heap, caller frees each and the array). Returns their count. */
int sm_topic_config_refresh_all(char ***topics);
/* DescribeLogDirs v0-1 (sm_logdirs_api.c): partition sizes per log dir. */
void sm_handle_DescribeLogDirs(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
/* Replication throttles (sm_repl_throttle.c). start (main thread, after
 * the ZooKeeper session, before the fetchers) creates the registry and
 * wires its rate source; stop (after the fetchers and the network threads
 * are gone) frees it. */
void sm_repl_throttle_start(void);
void sm_repl_throttle_stop(void);
/* The registry (NULL before start / after stop), for the fetchers. */
sm_throttle_t *sm_repl_throttle(void);
/* A topic config notification (main thread): new throttled-replica lists. */
void sm_repl_throttle_topic_config(const char *topic, const sm_props_t *config);
/* 1 if a Fetch from follower replica_id of leader partition p is under the
 * leader throttle: listed for this broker, limited, follower not in the
 * ISR. Network threads. */
int sm_repl_leader_throttled(sm_partition_t *p, int32_t replica_id);

#endif

/*
 * sm_repl_api.c - the broker side of replication: the OffsetForLeaderEpoch
 * handler, follower progress from replica Fetch requests, delayed acks=all
 * produce responses (Kafka's DelayedProduce purgatory), the ZooKeeper
 * writer for leader ISR changes, and broker-id resolution for the follower
 * fetchers.
 *
 * Delayed produces live in a per-network-thread list like parked fetches:
 * a request waiting for replication keeps its connection muted (so its
 * frame and arena-held response stay valid) and holds a connection
 * reference; whenever a high watermark moves, leadership changes or an ISR
 * write lands, sm_repl_data_changed() asks every network thread (only if
 * something is parked anywhere) to re-check its list. Each request also has
 * a timer for its timeout_ms.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/sm_json.h"
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "proto/sm_proto_interbroker.h"
#include "server/sm_server.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_codec.h"

/* ---- OffsetForLeaderEpoch (leader side) ---- */

static int16_t
ofle_partition(sm_bytes_t topic, const sm_ofle_req_part_t *rp, sm_ofle_resp_part_t *op)
{
    op->partition = rp->partition;
    op->leader_epoch = -1;
    op->end_offset = -1;
    sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)topic.ptr, (size_t)topic.len, rp->partition);
    if (!p) {
        sm_err_t err = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        sm_metadata_rdlock(sm_srv.metadata);
        sm_md_topic_t *t = sm_metadata_topic(sm_srv.metadata, (const char *)topic.ptr, (size_t)topic.len);
        if (t && rp->partition >= 0 && rp->partition < t->npartitions && t->partitions[rp->partition].present)
            err = SM_ERR_NOT_LEADER_OR_FOLLOWER;
        sm_metadata_unlock(sm_srv.metadata);
        return (int16_t)err;
    }
    int32_t epoch;
    sm_err_t err = sm_replica_check_leader(p, &epoch);
    if (err == SM_ERR_NONE && rp->current_leader_epoch >= 0 && rp->current_leader_epoch != epoch)
        err = rp->current_leader_epoch < epoch ? SM_ERR_FENCED_LEADER_EPOCH : SM_ERR_UNKNOWN_LEADER_EPOCH;
    if (err == SM_ERR_NONE) sm_plog_epoch_end_offset(p->log, rp->leader_epoch, &op->leader_epoch, &op->end_offset);
    sm_partition_unref(p);
    return (int16_t)err;
}

void
sm_handle_OffsetForLeaderEpoch(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_offsetforleaderepoch_req_t req;
    sm_offsetforleaderepoch_resp_t resp = { 0 };
    if (sm_proto_decode_OffsetForLeaderEpochRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed OffsetForLeaderEpoch request");
        return;
    }
    resp.n_topics = req.n_topics;
    resp.topics = sm_arena_calloc(a, (size_t)(req.n_topics > 0 ? req.n_topics : 1), sizeof(*resp.topics));
    for (int32_t t = 0; t < req.n_topics; t++) {
        sm_ofle_req_topic_t *rt = &req.topics[t];
        sm_ofle_resp_topic_t *ot = &resp.topics[t];
        ot->topic = rt->topic;
        ot->n_partitions = rt->n_partitions;
        ot->partitions = sm_arena_calloc(a, (size_t)(rt->n_partitions > 0 ? rt->n_partitions : 1), sizeof(*ot->partitions));
        for (int32_t i = 0; i < rt->n_partitions; i++)
            ot->partitions[i].error_code = ofle_partition(rt->topic, &rt->partitions[i], &ot->partitions[i]);
    }
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_OffsetForLeaderEpochResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

/* ---- follower progress from replica fetches ---- */

void
sm_repl_update_followers(const sm_fetch_req_t *req)
{
    if (req->replica_id < 0) return;
    for (int32_t t = 0; t < req->n_topics; t++) {
        const sm_fetch_req_topic_t *rt = &req->topics[t];
        for (int32_t i = 0; i < rt->n_partitions; i++) {
            sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)rt->topic.ptr, (size_t)rt->topic.len,
                                               rt->partitions[i].partition);
            if (!p) continue;
            sm_replica_update_follower(sm_srv.replicas, p, req->replica_id, rt->partitions[i].fetch_offset);
            sm_partition_unref(p);
        }
    }
}

/* ---- delayed produce (acks=all) ---- */

typedef struct {
    sm_partition_t *p;               /* reference */
    int32_t epoch;
    int64_t required;
    sm_produce_resp_part_t *out;
    int done;
} pwait_t;

typedef struct dprod_s {
    sm_conn_t *conn;                 /* reference */
    sm_req_hdr_t hdr;
    sm_produce_resp_t resp;          /* copy; its arrays are in the connection's arena */
    pwait_t *w;
    int n, left;
    struct event *timer;
    struct dprod_s *prev, *next;
} dprod_t;

static __thread dprod_t *dprod_head;
static __thread int dprod_wake_pending;
static int parked_produces;          /* atomic, all threads */

/* Re-check every waiting partition; returns how many still wait. */
static int
dprod_check(dprod_t *d)
{
    for (int i = 0; i < d->n; i++) {
        pwait_t *w = &d->w[i];
        if (w->done) continue;
        int done;
        sm_err_t err = sm_replica_produce_status(w->p, w->epoch, w->required, &done);
        if (!done) continue;
        w->done = 1;
        w->out->error_code = (int16_t)err;
        d->left--;
    }
    return d->left;
}

static void
dprod_finish(dprod_t *d, int timed_out)
{
    if (d->prev) d->prev->next = d->next; else dprod_head = d->next;
    if (d->next) d->next->prev = d->prev;
    __atomic_sub_fetch(&parked_produces, 1, __ATOMIC_RELAXED);
    event_free(d->timer);
    for (int i = 0; i < d->n; i++) {
        if (!d->w[i].done && timed_out) d->w[i].out->error_code = SM_ERR_REQUEST_TIMED_OUT;
        sm_partition_unref(d->w[i].p);
    }
    if (!sm_conn_closed(d->conn)) {
        sm_resp_t *out = sm_response_start(&d->hdr);
        sm_proto_encode_ProduceResponse(sm_resp_wbuf(out), d->hdr.api_version, &d->resp);
        sm_conn_respond(d->conn, out);
    }
    sm_conn_unref(d->conn);
    free(d->w);
    free(d);
}

static void
dprod_timeout(evutil_socket_t fd, short what, void *arg)
{
    dprod_t *d = arg;
    dprod_check(d);
    dprod_finish(d, 1);
}

static void
dprod_recheck(struct event_base *base, void *arg)
{
    dprod_wake_pending = 0;
    for (dprod_t *d = dprod_head, *next; d; d = next) {
        next = d->next;
        if (sm_conn_closed(d->conn) || dprod_check(d) == 0) dprod_finish(d, 0);
    }
}

static void
dprod_recheck_post(void *arg)
{
    dprod_recheck(NULL, arg);
}

int
sm_produce_delay(sm_conn_t *c, const sm_req_hdr_t *h, int32_t timeout_ms, sm_produce_resp_t *resp,
                 const int64_t *required, const int32_t *epochs)
{
    int n = 0, k = 0;
    for (int32_t t = 0; t < resp->n_topics; t++)
        for (int32_t i = 0; i < resp->topics[t].n_partitions; i++, k++)
            if (required[k] >= 0) n++;
    if (n == 0) return 0;
    dprod_t *d = sm_calloc(1, sizeof(*d));
    d->w = sm_calloc((size_t)n, sizeof(*d->w));
    k = 0;
    for (int32_t t = 0; t < resp->n_topics; t++) {
        sm_produce_resp_topic_t *ot = &resp->topics[t];
        for (int32_t i = 0; i < ot->n_partitions; i++, k++) {
            if (required[k] < 0) continue;
            sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)ot->name.ptr, (size_t)ot->name.len,
                                               ot->partitions[i].index);
            if (!p) {
                ot->partitions[i].error_code = SM_ERR_NOT_LEADER_OR_FOLLOWER;
                continue;
            }
            pwait_t *w = &d->w[d->n++];
            w->p = p;
            w->epoch = epochs[k];
            w->required = required[k];
            w->out = &ot->partitions[i];
        }
    }
    d->left = d->n;
    d->resp = *resp;
    d->hdr = *h;
    if (dprod_check(d) == 0 || timeout_ms <= 0 || sm_srv.shutting_down) {
        /* Already replicated (or no time to wait): answer now. */
        for (int i = 0; i < d->n; i++) {
            if (!d->w[i].done) d->w[i].out->error_code = SM_ERR_REQUEST_TIMED_OUT;
            sm_partition_unref(d->w[i].p);
        }
        free(d->w);
        free(d);
        return 0;
    }
    d->conn = sm_conn_ref(c);
    d->timer = evtimer_new(sm_conn_base(c), dprod_timeout, d);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(d->timer, &tv);
    d->next = dprod_head;
    if (dprod_head) dprod_head->prev = d;
    dprod_head = d;
    __atomic_add_fetch(&parked_produces, 1, __ATOMIC_RELAXED);
    /* The HW may have moved between the check and the registration. */
    if (!dprod_wake_pending) {
        dprod_wake_pending = 1;
        sm_net_post(sm_conn_base(c), dprod_recheck_post, NULL);
    }
    return 1;
}

/* On each network thread at shutdown: answer every parked produce now
 * (unfinished partitions NOT_LEADER_OR_FOLLOWER, so clients refresh their
 * metadata and retry on the new leader) and free its timer before the
 * thread's base goes away. */
static void
dprod_flush(struct event_base *base, void *arg)
{
    (void)base;
    (void)arg;
    for (dprod_t *d = dprod_head, *next; d; d = next) {
        next = d->next;
        dprod_check(d);
        for (int i = 0; i < d->n; i++)
            if (!d->w[i].done) {
                d->w[i].done = 1;
                d->w[i].out->error_code = SM_ERR_NOT_LEADER_OR_FOLLOWER;
            }
        dprod_finish(d, 0);
    }
}

void
sm_repl_stop_parked(void)
{
    if (!sm_srv.net || __atomic_load_n(&parked_produces, __ATOMIC_ACQUIRE) == 0) return;
    sm_net_broadcast(sm_srv.net, dprod_flush, NULL);
    /* Bounded: a network thread stuck elsewhere must not block shutdown. */
    int64_t end = sm_mono_ms() + 2000;
    while (__atomic_load_n(&parked_produces, __ATOMIC_ACQUIRE) > 0 && sm_mono_ms() < end) {
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

void
sm_repl_data_changed(void *arg)
{
    sm_fetch_wake_all(arg);
    sm_group_data_changed();         /* offset commits waiting for the ISR */
    if (__atomic_load_n(&parked_produces, __ATOMIC_RELAXED) > 0 && sm_srv.net)
        sm_net_broadcast(sm_srv.net, dprod_recheck, NULL);
}

/* ---- ISR writes to ZooKeeper (main thread) ---- */

typedef struct {
    char *topic;
    int32_t partition, leader_epoch, zk_version;
    char *path;
    sm_wbuf_t json;
} isr_job_t;

static void
isr_notified(void *arg, const sm_zk_res_t *res)
{
    if (res->rc != ZOK && res->rc != ZCLOSING)
        sm_log_warn("samsa.server.ZkIsrManager", "[ZkIsrManager broker=%d] Failed to create ISR change notification: %s",
                    sm_srv.cfg.broker_id, sm_zk_rc_name(res->rc));
}

static void
isr_job_free(isr_job_t *j)
{
    free(j->topic);
    free(j->path);
    sm_wbuf_free(&j->json);
    free(j);
}

static void
isr_written(void *arg, const sm_zk_res_t *res)
{
    isr_job_t *j = arg;
    if (res->rc == ZCLOSING || !sm_srv.replicas) { isr_job_free(j); return; }
    int rc = res->rc == ZOK ? 0 : res->rc == ZBADVERSION ? 1 : 2;
    if (rc == 2)
        sm_log_warn("samsa.server.ZkIsrManager", "[ZkIsrManager broker=%d] Failed to update ISR of %s-%d: %s",
                    sm_srv.cfg.broker_id, j->topic, j->partition, sm_zk_rc_name(res->rc));
    sm_replica_isr_written(sm_srv.replicas, j->topic, j->partition, j->leader_epoch, rc,
                           res->has_stat ? res->stat.version : -1);
    if (rc == 0 && sm_srv.zk) {
        /* Tell the controller (it sends UpdateMetadata to every broker). */
        sm_wbuf_t w;
        sm_wbuf_init(&w, 128);
        static const char head[] = "{\"version\":1,\"partitions\":[{\"topic\":";
        sm_write_raw(&w, head, sizeof(head) - 1);
        sm_json_write_string(&w, j->topic);
        char tail[48];
        int n = snprintf(tail, sizeof(tail), ",\"partition\":%d}]}", j->partition);
        sm_write_raw(&w, tail, (size_t)n);
        sm_zk_acreate(sm_srv.zk, "/isr_change_notification/isr_change_", (const char *)w.data, (int)w.len,
                      ZOO_PERSISTENT_SEQUENTIAL, isr_notified, NULL);
        sm_wbuf_free(&w);
    }
    isr_job_free(j);
}

static void
isr_write_main(void *arg)
{
    isr_job_t *j = arg;
    if (!sm_srv.zk || sm_srv.shutting_down) { isr_job_free(j); return; }
    sm_zk_aset(sm_srv.zk, j->path, (const char *)j->json.data, (int)j->json.len, j->zk_version, isr_written, j);
}

/* Replica manager writer: any thread; the ZooKeeper call runs on the main
 * loop (async API), its result comes back through sm_replica_isr_written. */
void
sm_repl_isr_write(void *arg, const sm_isr_write_t *w)
{
    isr_job_t *j = sm_calloc(1, sizeof(*j));
    j->topic = sm_strdup(w->topic);
    j->partition = w->partition;
    j->leader_epoch = w->leader_epoch;
    j->zk_version = w->zk_version;
    j->path = sm_asprintf("/brokers/topics/%s/partitions/%d/state", w->topic, w->partition);
    sm_partition_state_t st = { 0 };
    st.controller_epoch = w->controller_epoch;
    st.leader = w->leader;
    st.leader_epoch = w->leader_epoch;
    st.nisr = w->nisr;
    st.isr = (int32_t *)(uintptr_t)w->isr;
    st.zk_version = w->zk_version;
    sm_wbuf_init(&j->json, 128);
    sm_zk_encode_partition_state(&j->json, &st);
    sm_loop_post(sm_srv.main_base, isr_write_main, j);
}

/* ---- broker id -> host:port for the fetchers (fetcher threads) ---- */

int
sm_repl_resolve_broker(void *arg, int32_t id, char *host, size_t hostlen, int *port)
{
    int found = 0;
    sm_metadata_rdlock(sm_srv.metadata);
    const sm_md_broker_t *b = sm_metadata_broker(sm_srv.metadata, id);
    if (b && b->host) {
        snprintf(host, hostlen, "%s", b->host);
        *port = b->port;
        found = 1;
    }
    sm_metadata_unlock(sm_srv.metadata);
    if (found) return 0;
    /* Not in the metadata cache yet (LeaderAndIsr can precede
     * UpdateMetadata): read the registration. */
    sm_zk_t *zk = sm_srv.zk;
    if (!zk) return -1;
    char path[64], *data = NULL;
    int len = 0;
    snprintf(path, sizeof(path), "/brokers/ids/%d", id);
    if (sm_zk_get(zk, path, &data, &len, NULL) != ZOK || !data) { free(data); return -1; }
    sm_broker_info_t bi;
    int rc = -1;
    if (sm_zk_decode_broker(data, (size_t)len, id, &bi) == 0) {
        if (bi.host && bi.port > 0) {
            snprintf(host, hostlen, "%s", bi.host);
            *port = bi.port;
            rc = 0;
        }
        sm_broker_info_free(&bi);
    }
    free(data);
    return rc;
}

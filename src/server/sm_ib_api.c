/*
 * sm_ib_api.c - the broker side of the inter-broker protocol (see
 * sm_ib_api.h): the LeaderAndIsr / UpdateMetadata / StopReplica /
 * ControlledShutdown handlers, the shared validation-and-apply path also
 * used for this broker's own controller, the broker endpoint directory, and
 * the controlled-shutdown client loop.
 *
 * Threads: requests are decoded on their network thread, then posted to the
 * main thread (sm_srv.main_base), which owns replica role changes, the
 * highest controller epoch seen and the controller itself; the response is
 * posted back to the connection's network thread. The connection stays
 * muted meanwhile, so its arena and frame (which the decoded request points
 * into) are ours until we respond; a reference keeps them alive if the peer
 * goes away first.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "repl/sm_ib_client.h"
#include "server/sm_ib_api.h"
#include "server/sm_server.h"
#include "zk/sm_ctrl.h"
#include "zk/sm_zk_admin.h"

#define LOGGER "samsa.server"
#define STATE_LOGGER "state.change.logger"

/* ---- endpoint directory ------------------------------------------------ */

typedef struct {
    int32_t id;
    char *host;
    int port;
} dir_entry_t;

static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static dir_entry_t *dir;
static int ndir;

/* Insert or update one endpoint; caller holds dir_lock. */
static void
dir_put_locked(int32_t id, const char *host, size_t hlen, int port)
{
    for (int i = 0; i < ndir; i++)
        if (dir[i].id == id) {
            if (strlen(dir[i].host) != hlen || memcmp(dir[i].host, host, hlen) != 0) {
                free(dir[i].host);
                dir[i].host = sm_strndup(host, hlen);
            }
            dir[i].port = port;
            return;
        }
    dir = sm_realloc(dir, (size_t)(ndir + 1) * sizeof(*dir));
    dir[ndir].id = id;
    dir[ndir].host = sm_strndup(host, hlen);
    dir[ndir].port = port;
    ndir++;
}

int
sm_ib_resolve_broker(void *arg, int32_t broker_id, char *host, size_t hostlen, int *port)
{
    (void)arg;
    int rc = -1;
    if (broker_id == sm_srv.cfg.broker_id && sm_srv.cfg.nadvertised > 0) {
        snprintf(host, hostlen, "%s", sm_srv.cfg.advertised[0].host);
        *port = sm_srv.cfg.advertised[0].port;
        return 0;
    }
    pthread_mutex_lock(&dir_lock);
    for (int i = 0; i < ndir && rc < 0; i++)
        if (dir[i].id == broker_id) {
            snprintf(host, hostlen, "%s", dir[i].host);
            *port = dir[i].port;
            rc = 0;
        }
    pthread_mutex_unlock(&dir_lock);
    if (rc == 0 || !sm_srv.metadata) return rc;
    /* Fall back to the metadata cache (e.g. before any controller request). */
    sm_metadata_rdlock(sm_srv.metadata);
    const sm_md_broker_t *b = sm_metadata_broker(sm_srv.metadata, broker_id);
    if (b) {
        snprintf(host, hostlen, "%s", b->host ? b->host : "");
        *port = b->port;
        rc = 0;
    }
    sm_metadata_unlock(sm_srv.metadata);
    return rc;
}

void
sm_ib_api_cleanup(void)
{
    pthread_mutex_lock(&dir_lock);
    for (int i = 0; i < ndir; i++) free(dir[i].host);
    free(dir);
    dir = NULL;
    ndir = 0;
    pthread_mutex_unlock(&dir_lock);
}

/* ---- validation and apply (main thread) -------------------------------- */

/* Scratch memory for C strings and arrays of one apply call. */
static sm_arena_t scratch;
static int scratch_ready;

static sm_arena_t *
scratch_reset(void)
{
    if (!scratch_ready) {
        sm_arena_init(&scratch, 16384);
        scratch_ready = 1;
    }
    sm_arena_reset(&scratch);
    return &scratch;
}

static char *
adup(sm_arena_t *a, sm_bytes_t b)
{
    size_t n = b.len > 0 ? (size_t)b.len : 0;
    char *s = sm_arena_alloc(a, n + 1);
    if (n) memcpy(s, b.ptr, n);
    s[n] = '\0';
    return s;
}

/* Requests name topics and partitions that become directory names: refuse
 * anything a topic could not be called (path tricks from a hostile peer)
 * and absurd partition numbers. */
static int
valid_tp(const char *topic, int32_t partition)
{
    char err[128];
    return partition >= 0 && partition < (1 << 20) && sm_topic_name_valid(topic, err, sizeof(err));
}

/* Controller-epoch and broker-epoch fencing shared by the three requests. */
static int16_t
fence(const char *api, int32_t controller_id, int32_t controller_epoch, int64_t broker_epoch)
{
    if (controller_epoch < sm_srv.ib_controller_epoch) {
        sm_log_warn(STATE_LOGGER, "[Broker id=%d] Ignoring %s request from controller %d with epoch %d since its "
                    "controller epoch %d is old. Latest known controller epoch is %d", sm_srv.cfg.broker_id, api,
                    controller_id, controller_epoch, controller_epoch, sm_srv.ib_controller_epoch);
        return SM_ERR_STALE_CONTROLLER_EPOCH;
    }
    if (broker_epoch != -1 && broker_epoch < sm_srv.broker_epoch) {
        sm_log_info(STATE_LOGGER, "[Broker id=%d] Received %s request with broker epoch %lld smaller than the current "
                    "broker epoch %lld", sm_srv.cfg.broker_id, api, (long long)broker_epoch,
                    (long long)sm_srv.broker_epoch);
        return SM_ERR_STALE_BROKER_EPOCH;
    }
    sm_srv.ib_controller_epoch = controller_epoch;
    return SM_ERR_NONE;
}

/* Loops over the partitions of a LeaderAndIsr or StopReplica request in
 * request order (the two topic types differ only in their partition type):
 * req->topics[t].partitions[p]. */
#define FOR_EACH_PARTITION(req, t, p)                       \
    for (int32_t t = 0; t < (req)->n_topics; t++)           \
        for (int32_t p = 0; p < (req)->topics[t].n_partitions; p++)

/* Append one entry per partition of req to errs[n...], with no error. */
#define LIST_PARTITIONS(req, errs, n)                                                                 \
    FOR_EACH_PARTITION(req, t_, p_)                                                                   \
        (errs)[(n)++] = (sm_ib_part_error_t){ (req)->topics[t_].topic,                                \
                                              (req)->topics[t_].partitions[p_].partition_index, SM_ERR_NONE }

/* fence() for the requests that answer per partition: errs lists the n
 * partitions; a fenced request gives every one of them the error. */
static int16_t
fence_partitions(const char *api, int32_t controller_id, int32_t controller_epoch, int64_t broker_epoch,
                 sm_ib_part_error_t *errs, int n)
{
    int16_t err = fence(api, controller_id, controller_epoch, broker_epoch);
    if (err != SM_ERR_NONE)
        for (int i = 0; i < n; i++) errs[i].error_code = err;
    return err;
}

int16_t
sm_ib_apply_LeaderAndIsr(const sm_leaderandisr_req_t *req, sm_ib_part_error_t *errs)
{
    int n = 0;
    LIST_PARTITIONS(req, errs, n);
    int16_t err = fence_partitions("LeaderAndIsr", req->controller_id, req->controller_epoch, req->broker_epoch, errs, n);
    if (err != SM_ERR_NONE) return err;
    /* Leaders' endpoints help followers find them before UpdateMetadata. */
    pthread_mutex_lock(&dir_lock);
    for (int32_t i = 0; i < req->n_live_leaders; i++) {
        const sm_lai_leader_t *l = &req->live_leaders[i];
        if (l->host.len >= 0) dir_put_locked(l->broker_id, (const char *)l->host.ptr, (size_t)l->host.len, l->port);
    }
    pthread_mutex_unlock(&dir_lock);
    if (n == 0 || !sm_srv.replicas) return SM_ERR_NONE;

    sm_arena_t *a = scratch_reset();
    sm_replica_state_t *st = sm_arena_calloc(a, (size_t)n, sizeof(*st));
    sm_err_t *e = sm_arena_calloc(a, (size_t)n, sizeof(*e));
    int *slot = sm_arena_calloc(a, (size_t)n, sizeof(*slot));
    int k = 0, i = 0;
    for (int32_t t = 0; t < req->n_topics; t++) {
        char *topic = adup(a, req->topics[t].topic);
        for (int32_t p = 0; p < req->topics[t].n_partitions; p++, i++) {
            const sm_lai_part_t *lp = &req->topics[t].partitions[p];
            if (!valid_tp(topic, lp->partition_index)) {
                errs[i].error_code = SM_ERR_INVALID_TOPIC_EXCEPTION;
                slot[i] = -1;
                continue;
            }
            slot[i] = k;
            st[k].topic = topic;
            st[k].partition = lp->partition_index;
            st[k].controller_epoch = lp->controller_epoch;
            st[k].leader = lp->leader;
            st[k].leader_epoch = lp->leader_epoch;
            st[k].nisr = lp->n_isr;
            st[k].isr = lp->isr;
            st[k].nreplicas = lp->n_replicas;
            st[k].replicas = lp->replicas;
            st[k].zk_version = lp->zk_version;
            st[k].is_new = lp->is_new;
            k++;
        }
    }
    if (k > 0) sm_replica_leader_and_isr(sm_srv.replicas, req->controller_epoch, st, k, e);
    for (i = 0; i < n; i++)
        if (slot[i] >= 0) errs[i].error_code = (int16_t)e[slot[i]];
    return SM_ERR_NONE;
}

/* The endpoint of b that clients should use: our listener's name if the
 * broker has it, else its first endpoint. */
static const sm_um_endpoint_t *
pick_endpoint(const sm_um_broker_t *b)
{
    if (b->n_endpoints <= 0) return NULL;
    const char *want = sm_srv.cfg.nadvertised > 0 ? sm_srv.cfg.advertised[0].name : "PLAINTEXT";
    for (int32_t i = 0; i < b->n_endpoints; i++)
        if (sm_bytes_eq(b->endpoints[i].listener, want)) return &b->endpoints[i];
    return &b->endpoints[0];
}

int16_t
sm_ib_apply_UpdateMetadata(const sm_updatemetadata_req_t *req)
{
    int16_t err = fence("UpdateMetadata", req->controller_id, req->controller_epoch, req->broker_epoch);
    if (err != SM_ERR_NONE || !sm_srv.metadata) return err;
    sm_arena_t *a = scratch_reset();
    int32_t nb = req->n_live_brokers;
    sm_md_broker_t *b = sm_arena_calloc(a, (size_t)(nb > 0 ? nb : 1), sizeof(*b));
    int m = 0;
    pthread_mutex_lock(&dir_lock);
    for (int32_t i = 0; i < nb; i++) {
        const sm_um_broker_t *ub = &req->live_brokers[i];
        const sm_um_endpoint_t *ep = pick_endpoint(ub);
        if (!ep) continue;
        b[m].id = ub->id;
        b[m].host = adup(a, ep->host);
        b[m].port = ep->port;
        b[m].rack = ub->rack.len >= 0 ? adup(a, ub->rack) : NULL;
        dir_put_locked(ub->id, b[m].host, strlen(b[m].host), ep->port);
        m++;
    }
    pthread_mutex_unlock(&dir_lock);
    sm_metadata_set_brokers(sm_srv.metadata, req->controller_id, b, m);
    for (int32_t t = 0; t < req->n_topics; t++) {
        const sm_um_topic_t *ut = &req->topics[t];
        char *topic = adup(a, ut->topic);
        int deleting = 0;
        for (int32_t p = 0; p < ut->n_partitions; p++) {
            const sm_um_part_t *up = &ut->partitions[p];
            if (!valid_tp(topic, up->partition_index)) continue;
            sm_metadata_update_partition(sm_srv.metadata, topic, up->partition_index, up->leader, up->leader_epoch,
                                         up->replicas, up->n_replicas, up->isr, up->n_isr);
            if (up->leader == -2) deleting = 1;
        }
        if (deleting) sm_topic_config_invalidate(topic);
    }
    return SM_ERR_NONE;
}

int16_t
sm_ib_apply_StopReplica(const sm_stopreplica_req_t *req, sm_ib_part_error_t *errs)
{
    int n = 0;
    LIST_PARTITIONS(req, errs, n);
    int16_t err = fence_partitions("StopReplica", req->controller_id, req->controller_epoch, req->broker_epoch, errs, n);
    if (err != SM_ERR_NONE) return err;
    if (!sm_srv.replicas) return SM_ERR_NONE;
    sm_arena_t *a = scratch_reset();
    int i = 0;
    for (int32_t t = 0; t < req->n_topics; t++) {
        char *topic = adup(a, req->topics[t].topic);
        for (int32_t p = 0; p < req->topics[t].n_partitions; p++, i++) {
            const sm_sr_part_t *sp = &req->topics[t].partitions[p];
            if (!valid_tp(topic, sp->partition_index)) errs[i].error_code = SM_ERR_INVALID_TOPIC_EXCEPTION;
            else sm_replica_stop(sm_srv.replicas, topic, sp->partition_index, sp->delete_partition);
        }
    }
    return SM_ERR_NONE;
}

/* ---- handlers: network thread -> main thread -> network thread --------- */

typedef struct {
    sm_conn_t *c;
    sm_req_hdr_t h;
    sm_arena_t *a;                   /* the connection's arena (muted: ours) */
    sm_resp_t *resp;
    union {
        sm_leaderandisr_req_t lai;
        sm_updatemetadata_req_t um;
        sm_stopreplica_req_t sr;
        sm_controlledshutdown_req_t cs;
    } req;
} ib_job_t;

static void
job_respond(void *arg)
{
    ib_job_t *j = arg;
    sm_conn_respond(j->c, j->resp);
    sm_conn_unref(j->c);
    free(j);
}

/* Main thread: hand the encoded response back to the connection's thread,
 * unless the network is already stopped (shutdown), then just drop it. */
static void
job_finish(ib_job_t *j)
{
    if (!sm_srv.net) {
        sm_resp_free(j->resp);
        sm_conn_unref(j->c);
        free(j);
        return;
    }
    sm_net_post(sm_conn_base(j->c), job_respond, j);
}

static int
job_dead(ib_job_t *j)
{
    if (sm_srv.net && sm_srv.replicas) return 0;
    sm_conn_unref(j->c);
    free(j);
    return 1;
}

static ib_job_t *
job_new(sm_conn_t *c, const sm_req_hdr_t *h, sm_arena_t *a)
{
    ib_job_t *j = sm_calloc(1, sizeof(*j));
    j->c = c;
    j->h = *h;
    j->a = a;
    return j;
}

static void
job_post(ib_job_t *j, void (*fn)(void *))
{
    sm_conn_ref(j->c);
    sm_loop_post(sm_srv.main_base, fn, j);
}

static void
bad_request(sm_conn_t *c, const sm_req_hdr_t *h, ib_job_t *j)
{
    char why[160];
    snprintf(why, sizeof(why), "malformed %s v%d request (correlation id %d)", sm_api_name(h->api_key),
             h->api_version, h->correlation_id);
    free(j);
    sm_conn_close(c, why);
}

/* Network thread: post a job whose request decoded (rc 0) to run on the
 * main thread, else close the connection. */
static void
job_start(ib_job_t *j, int rc, void (*run)(void *))
{
    if (rc < 0) bad_request(j->c, &j->h, j);
    else job_post(j, run);
}

/* Main thread: LeaderAndIsr and StopReplica, which answer with one error
 * per partition of the request, in request order. */
static void
run_part_errors(void *arg)
{
    ib_job_t *j = arg;
    if (job_dead(j)) return;
    int lai = j->h.api_key == SM_API_LEADERANDISR;
    int32_t n = 0;
    if (lai) FOR_EACH_PARTITION(&j->req.lai, t, p) n++;
    else FOR_EACH_PARTITION(&j->req.sr, t, p) n++;
    sm_ib_part_error_t *errs = sm_arena_calloc(j->a, (size_t)(n ? n : 1), sizeof(*errs));
    int16_t err = lai ? sm_ib_apply_LeaderAndIsr(&j->req.lai, errs) : sm_ib_apply_StopReplica(&j->req.sr, errs);
    j->resp = sm_response_start(&j->h);
    if (lai) {
        sm_leaderandisr_resp_t resp = { err, n, errs };
        sm_proto_encode_LeaderAndIsrResponse(sm_resp_wbuf(j->resp), j->h.api_version, &resp);
    } else {
        sm_stopreplica_resp_t resp = { err, n, errs };
        sm_proto_encode_StopReplicaResponse(sm_resp_wbuf(j->resp), j->h.api_version, &resp);
    }
    job_finish(j);
}

void
sm_handle_LeaderAndIsr(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    ib_job_t *j = job_new(c, h, a);
    job_start(j, sm_proto_decode_LeaderAndIsrRequest(r, h->api_version, a, &j->req.lai), run_part_errors);
}

static void
run_um(void *arg)
{
    ib_job_t *j = arg;
    if (job_dead(j)) return;
    sm_updatemetadata_resp_t resp = { sm_ib_apply_UpdateMetadata(&j->req.um) };
    j->resp = sm_response_start(&j->h);
    sm_proto_encode_UpdateMetadataResponse(sm_resp_wbuf(j->resp), j->h.api_version, &resp);
    job_finish(j);
}

void
sm_handle_UpdateMetadata(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    ib_job_t *j = job_new(c, h, a);
    job_start(j, sm_proto_decode_UpdateMetadataRequest(r, h->api_version, a, &j->req.um), run_um);
}

void
sm_handle_StopReplica(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    ib_job_t *j = job_new(c, h, a);
    job_start(j, sm_proto_decode_StopReplicaRequest(r, h->api_version, a, &j->req.sr), run_part_errors);
}

/* The controller's answer; may run inside sm_ctrl_controlled_shutdown() or
 * later, or from sm_ctrl_free() during our own shutdown. */
static void
cs_done(void *arg, int16_t error, const sm_ctrl_tp_t *remaining, int n)
{
    ib_job_t *j = arg;
    sm_controlledshutdown_resp_t resp = { error, 0, NULL };
    if (n > 0) {
        resp.remaining = sm_arena_calloc(j->a, (size_t)n, sizeof(*resp.remaining));
        for (int i = 0; i < n; i++) {
            size_t len = strlen(remaining[i].topic);
            char *s = sm_arena_alloc(j->a, len + 1);
            memcpy(s, remaining[i].topic, len + 1);
            resp.remaining[i].topic = (sm_bytes_t){ (int32_t)len, (const uint8_t *)s };
            resp.remaining[i].partition = remaining[i].partition;
        }
        resp.n_remaining = n;
    }
    j->resp = sm_response_start(&j->h);
    sm_proto_encode_ControlledShutdownResponse(sm_resp_wbuf(j->resp), j->h.api_version, &resp);
    job_finish(j);
}

static void
run_cs(void *arg)
{
    ib_job_t *j = arg;
    if (job_dead(j)) return;
    if (!sm_srv.ctrl) {
        cs_done(j, SM_ERR_NOT_CONTROLLER, NULL, 0);
        return;
    }
    sm_log_info(LOGGER, "[KafkaApi-%d] Received ControlledShutdown request from broker %d (broker epoch %lld)",
                sm_srv.cfg.broker_id, j->req.cs.broker_id, (long long)j->req.cs.broker_epoch);
    sm_ctrl_controlled_shutdown(sm_srv.ctrl, j->req.cs.broker_id, j->req.cs.broker_epoch, cs_done, j);
}

void
sm_handle_ControlledShutdown(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    ib_job_t *j = job_new(c, h, a);
    job_start(j, sm_proto_decode_ControlledShutdownRequest(r, h->api_version, a, &j->req.cs), run_cs);
}

/* ---- controlled shutdown (the broker going down) ----------------------- */

#define CS_VERSION 2

typedef struct {
    int done;                        /* atomic */
    int ok;
} cs_state_t;

static void cs_wake(void *arg) { (void)arg; }

/* Wait up to ms, returning early once a controller other than `from`
 * shows up (so an election in progress does not cost a whole backoff). */
static void
cs_backoff(int64_t ms, int32_t from)
{
    int64_t end = sm_mono_ms() + ms;
    while (sm_mono_ms() < end) {
        int32_t now = __atomic_load_n(&sm_srv.controller_id, __ATOMIC_RELAXED);
        if (from < 0 && now >= 0) return;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* One attempt: 1 = no partitions remain, 0 = try again. */
static int
cs_attempt(int32_t controller)
{
    const sm_broker_config_t *cfg = &sm_srv.cfg;
    char host[256], err[256];
    int port;
    if (sm_ib_resolve_broker(NULL, controller, host, sizeof(host), &port) < 0) {
        sm_log_warn(LOGGER, "[KafkaServer id=%d] No endpoint known for controller %d", cfg->broker_id, controller);
        return 0;
    }
    char cid[32];
    snprintf(cid, sizeof(cid), "broker-%d", cfg->broker_id);
    sm_ib_conn_t *conn = sm_ib_connect(host, port, 10000, cid, err, sizeof(err));
    if (!conn) {
        sm_log_warn(LOGGER, "[KafkaServer id=%d] Error during controlled shutdown, possibly because leader movement "
                    "took longer than the configured controller.socket.timeout.ms: %s", cfg->broker_id, err);
        return 0;
    }
    sm_arena_t a;
    sm_arena_init(&a, 4096);
    sm_controlledshutdown_req_t req = { cfg->broker_id, sm_srv.broker_epoch };
    sm_controlledshutdown_resp_t resp;
    int ok = 0;
    if (SM_IB_CALL(conn, ControlledShutdown, SM_API_CONTROLLEDSHUTDOWN, CS_VERSION, &req, &a, &resp, 30000, err,
                   sizeof(err)) < 0) {
        sm_log_warn(LOGGER, "[KafkaServer id=%d] Error during controlled shutdown: %s", cfg->broker_id, err);
    } else if (resp.error_code != SM_ERR_NONE) {
        sm_log_warn(LOGGER, "[KafkaServer id=%d] Controlled shutdown failed with error %s", cfg->broker_id,
                    sm_err_name(resp.error_code));
    } else if (resp.n_remaining > 0) {
        sm_wbuf_t list;
        sm_wbuf_init(&list, 128);
        for (int32_t i = 0; i < resp.n_remaining && list.len < 1000; i++) {
            char one[300];
            int len = snprintf(one, sizeof(one), "%s%.*s-%d", i ? "," : "", resp.remaining[i].topic.len,
                               resp.remaining[i].topic.ptr, resp.remaining[i].partition);
            sm_write_raw(&list, one, (size_t)len);
        }
        sm_write_i8(&list, 0);
        sm_log_info(LOGGER, "[KafkaServer id=%d] Remaining partitions to move: %s", cfg->broker_id, (char *)list.data);
        sm_wbuf_free(&list);
    } else {
        ok = 1;
    }
    sm_arena_free(&a);
    sm_ib_close(conn);
    return ok;
}

static void *
cs_thread(void *arg)
{
    cs_state_t *st = arg;
    const sm_broker_config_t *cfg = &sm_srv.cfg;
    int retries = cfg->controlled_shutdown_max_retries;
    while (!st->ok && retries-- > 0) {
        int32_t controller = __atomic_load_n(&sm_srv.controller_id, __ATOMIC_RELAXED);
        if (controller == cfg->broker_id) break;   /* we became the controller: nobody to ask */
        if (controller >= 0) st->ok = cs_attempt(controller);
        else sm_log_warn(LOGGER, "[KafkaServer id=%d] No controller registered while requesting controlled shutdown",
                         cfg->broker_id);
        if (!st->ok && retries > 0) {
            cs_backoff(cfg->controlled_shutdown_retry_backoff_ms, controller);
            sm_log_info(LOGGER, "[KafkaServer id=%d] Retrying controlled shutdown after the previous attempt failed...",
                        cfg->broker_id);
        }
    }
    __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
    sm_loop_post(sm_srv.main_base, cs_wake, NULL);
    return NULL;
}

/* The active controller's own answer (main thread). */
static void
cs_local_done(void *arg, int16_t error, const sm_ctrl_tp_t *remaining, int n)
{
    cs_state_t *st = arg;
    (void)remaining;
    if (error != SM_ERR_NONE)
        sm_log_warn(LOGGER, "[KafkaServer id=%d] Controlled shutdown failed with error %s", sm_srv.cfg.broker_id,
                    sm_err_name(error));
    else if (n > 0)
        sm_log_info(LOGGER, "[KafkaServer id=%d] Remaining partitions to move: %d", sm_srv.cfg.broker_id, n);
    st->ok = error == SM_ERR_NONE && n == 0;
    st->done = 1;
}

/* This broker is the active controller: it moves its own leaderships
 * away as it would for any other broker, before it resigns, so that a
 * rolling restart of the controller does not leave its partitions
 * leaderless until the successor notices the broker change. Runs the
 * event loop meanwhile (the controller lives on it). Returns 1 on
 * success, 0 after the retries, -1 if this broker stopped being the
 * controller (the caller then asks the new one). */
static int
cs_as_controller(void)
{
    const sm_broker_config_t *cfg = &sm_srv.cfg;
    for (int retries = cfg->controlled_shutdown_max_retries; retries > 0; retries--) {
        if (!sm_srv.ctrl || !sm_ctrl_is_active(sm_srv.ctrl)) return -1;
        cs_state_t st = { 0, 0 };
        sm_ctrl_controlled_shutdown(sm_srv.ctrl, cfg->broker_id, sm_srv.broker_epoch, cs_local_done, &st);
        while (!st.done) event_base_loop(sm_srv.main_base, EVLOOP_ONCE);
        if (st.ok) return 1;
        if (retries > 1) {
            /* The periodic tick wakes the loop at least twice a second. */
            int64_t end = sm_mono_ms() + cfg->controlled_shutdown_retry_backoff_ms;
            while (sm_mono_ms() < end) event_base_loop(sm_srv.main_base, EVLOOP_ONCE);
            sm_log_info(LOGGER, "[KafkaServer id=%d] Retrying controlled shutdown after the previous attempt failed...",
                        cfg->broker_id);
        }
    }
    return 0;
}

int
sm_ib_controlled_shutdown(void)
{
    const sm_broker_config_t *cfg = &sm_srv.cfg;
    if (!cfg->controlled_shutdown_enable || !sm_srv.net || cfg->controlled_shutdown_max_retries <= 0) return 0;
    int32_t controller = __atomic_load_n(&sm_srv.controller_id, __ATOMIC_RELAXED);
    sm_log_info(LOGGER, "[KafkaServer id=%d] Starting controlled shutdown", cfg->broker_id);
    cs_state_t st = { 0, 0 };
    int local = -1;
    if (controller == cfg->broker_id) local = cs_as_controller();
    if (local >= 0) {
        st.ok = local;
    } else {
        pthread_t tid;
        if (pthread_create(&tid, NULL, cs_thread, &st) != 0) return 0;
        /* Keep serving the controller's LeaderAndIsr/StopReplica meanwhile. */
        while (!__atomic_load_n(&st.done, __ATOMIC_ACQUIRE)) event_base_loop(sm_srv.main_base, EVLOOP_ONCE);
        pthread_join(tid, NULL);
        /* We were elected controller while asking: do it ourselves. */
        if (!st.ok && __atomic_load_n(&sm_srv.controller_id, __ATOMIC_RELAXED) == cfg->broker_id)
            st.ok = cs_as_controller() == 1;
    }
    if (st.ok) sm_log_info(LOGGER, "[KafkaServer id=%d] Controlled shutdown succeeded", cfg->broker_id);
    else sm_log_warn(LOGGER, "[KafkaServer id=%d] Proceeding to do an unclean shutdown as all the controlled "
                     "shutdown attempts failed", cfg->broker_id);
    return st.ok;
}

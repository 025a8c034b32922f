/*
 * sm_fetch.c - the Fetch handler: reads log regions and sends them with
 * sendfile, and parks long polls (max_wait_ms / min_bytes) until an append
 * makes enough data visible or the wait expires.
 *
 * Parked fetches live in a per-network-thread list. An append that moves a
 * high watermark calls sm_fetch_wake_all(), which (only if any fetch is
 * parked anywhere) asks every network thread to re-check its list; there is
 * no polling. A parked request keeps its connection muted, so its frame and
 * decoded arrays (in the connection's arena) stay valid until it answers.
 *
 * Leader replication throttle (sm_repl_throttle.c): for a follower fetch,
 * a partition under the throttle gets no records while the leader budget
 * is spent and is not counted as available for the long poll; the bytes
 * sent for such partitions are charged to the budget.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "server/sm_convert.h"
#include "server/sm_server.h"

typedef struct parked_s {
    sm_conn_t *conn;                 /* holds a reference */
    sm_req_hdr_t hdr;
    sm_fetch_req_t req;
    struct event *timer;
    struct parked_s *prev, *next;
} parked_t;

/* Per network thread: its parked fetches and a pending-wake flag. */
static __thread parked_t *parked_head;
static __thread int wake_pending;

/* Splice points collected while encoding: where a file region goes. */
typedef struct {
    sm_log_region_t *regions;        /* [topic][partition] flattened */
    int32_t *first_index;            /* per topic: index of its first partition */
    size_t *at;                      /* encoder offsets of each region, in order */
    sm_log_region_t **order;
    int n;
} splice_t;

static void
emit_records(void *arg, sm_wbuf_t *w, int t, int p)
{
    splice_t *s = arg;
    sm_log_region_t *reg = &s->regions[s->first_index[t] + p];
    if (reg->len <= 0) return;
    s->at[s->n] = w->len;
    s->order[s->n] = reg;
    s->n++;
}

static int
leader_epoch_error(int32_t requested, int32_t current)
{
    if (requested < 0 || requested == current) return SM_ERR_NONE;
    return requested < current ? SM_ERR_FENCED_LEADER_EPOCH : SM_ERR_UNKNOWN_LEADER_EPOCH;
}

/* Bytes the request could get now; *errors set if any partition errs. */
static int64_t
fetch_available(const sm_fetch_req_t *req, int *errors)
{
    int64_t total = 0;
    *errors = 0;
    for (int32_t t = 0; t < req->n_topics; t++) {
        sm_fetch_req_topic_t *rt = &req->topics[t];
        for (int32_t i = 0; i < rt->n_partitions; i++) {
            sm_fetch_req_part_t *rp = &rt->partitions[i];
            sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)rt->topic.ptr, (size_t)rt->topic.len,
                                               rp->partition);
            if (!p) { *errors = 1; continue; }
            int32_t epoch;
            if (sm_replica_check_leader(p, &epoch) != SM_ERR_NONE ||
                leader_epoch_error(rp->current_leader_epoch, epoch) != SM_ERR_NONE ||
                rp->fetch_offset < sm_plog_log_start_offset(p->log) ||
                rp->fetch_offset > sm_plog_log_end_offset(p->log)) {
                *errors = 1;
            } else if (!(sm_repl_leader_throttled(p, req->replica_id) &&
                         sm_throttle_exceeded(sm_repl_throttle(), SM_THROTTLE_LEADER))) {
                /* A throttled partition over budget adds nothing: the
                 * follower's fetch waits instead of spinning on empty answers. */
                total += sm_replica_available(p, req->replica_id, rp->fetch_offset);
            }
            sm_partition_unref(p);
        }
    }
    return total;
}

/* Build and send the response now. */
static void
fetch_respond(sm_conn_t *c, const sm_req_hdr_t *h, const sm_fetch_req_t *req, sm_arena_t *a)
{
    sm_fetch_resp_t resp = { 0 };
    int32_t nparts = 0;
    for (int32_t t = 0; t < req->n_topics; t++) nparts += req->topics[t].n_partitions;

    splice_t s = { 0 };
    s.regions = sm_arena_calloc(a, (size_t)(nparts ? nparts : 1), sizeof(*s.regions));
    s.first_index = sm_arena_calloc(a, (size_t)(req->n_topics ? req->n_topics : 1), sizeof(int32_t));
    s.at = sm_arena_calloc(a, (size_t)(nparts ? nparts : 1), sizeof(size_t));
    s.order = sm_arena_calloc(a, (size_t)(nparts ? nparts : 1), sizeof(*s.order));

    resp.n_topics = req->n_topics;
    resp.topics = sm_arena_calloc(a, (size_t)(req->n_topics ? req->n_topics : 1), sizeof(*resp.topics));
    resp.emit_records = emit_records;
    resp.emit_arg = &s;
    resp.session_id = 0;             /* sessionless: full responses every time */

    /* KIP-74: max_bytes is a soft limit; the first non-empty batch always fits. */
    int64_t budget = req->max_bytes > 0 ? req->max_bytes : INT32_MAX;
    /* Consumers below v4 get down-converted copies (sm_convert.c), which
     * apply their own limits to the converted size, so read at least one batch. */
    int legacy = h->api_version <= 3 && req->replica_id < 0;
    int got_any = 0, idx = 0;
    for (int32_t t = 0; t < req->n_topics; t++) {
        sm_fetch_req_topic_t *rt = &req->topics[t];
        sm_fetch_resp_topic_t *ot = &resp.topics[t];
        s.first_index[t] = idx;
        ot->topic = rt->topic;
        ot->n_partitions = rt->n_partitions;
        ot->partitions = sm_arena_calloc(a, (size_t)(rt->n_partitions ? rt->n_partitions : 1), sizeof(*ot->partitions));
        for (int32_t i = 0; i < rt->n_partitions; i++, idx++) {
            sm_fetch_req_part_t *rp = &rt->partitions[i];
            sm_fetch_resp_part_t *op = &ot->partitions[i];
            sm_log_region_t *reg = &s.regions[idx];
            op->partition = rp->partition;
            op->high_watermark = -1;
            op->last_stable_offset = -1;
            op->log_start_offset = -1;
            op->n_aborted = h->api_version >= 4 ? 0 : -1;
            op->preferred_read_replica = -1;
            op->emit = 1;
            op->records_len = 0;
            sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)rt->topic.ptr, (size_t)rt->topic.len,
                                               rp->partition);
            if (!p) {
                sm_bytes_t name = rt->topic;
                sm_metadata_rdlock(sm_srv.metadata);
                sm_md_topic_t *mt = sm_metadata_topic(sm_srv.metadata, (const char *)name.ptr, (size_t)name.len);
                op->error_code = mt && rp->partition >= 0 && rp->partition < mt->npartitions &&
                                         mt->partitions[rp->partition].present
                                     ? SM_ERR_NOT_LEADER_OR_FOLLOWER
                                     : SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                sm_metadata_unlock(sm_srv.metadata);
                continue;
            }
            int32_t epoch;
            sm_err_t err = sm_replica_check_leader(p, &epoch);
            if (err == SM_ERR_NONE) err = leader_epoch_error(rp->current_leader_epoch, epoch);
            if (err == SM_ERR_NONE) {
                int32_t max = rp->partition_max_bytes;
                if (max > budget) max = (int32_t)budget;
                /* Leader replication throttle: over budget, a throttled
                 * partition gets no records this round (offsets still checked). */
                int throttled = req->replica_id >= 0 && sm_repl_leader_throttled(p, req->replica_id);
                int held = throttled && sm_throttle_exceeded(sm_repl_throttle(), SM_THROTTLE_LEADER);
                sm_fetch_info_t info;
                err = sm_replica_read(sm_srv.replicas, p, req->replica_id, rp->fetch_offset, max < 0 || held ? 0 : max,
                                      (!got_any || legacy) && !held, reg, &info);
                if (throttled && err == SM_ERR_NONE && !held)
                    sm_throttle_record(sm_repl_throttle(), SM_THROTTLE_LEADER, (int64_t)reg->len);
                if (err == SM_ERR_NONE && h->api_version < 10 && req->replica_id < 0)
                    err = sm_convert_fetch(h->api_version, p->topic, rp->fetch_offset, max < 0 ? 0 : max, !got_any, reg, op, a);
                op->high_watermark = info.high_watermark;
                op->last_stable_offset = info.last_stable_offset;
                op->log_start_offset = info.log_start_offset;
                if (err == SM_ERR_NONE && reg->len > 0) {
                    op->records_len = (int32_t)reg->len;
                    budget -= reg->len;
                    if (budget < 0) budget = 0;
                    got_any = 1;
                }
            }
            op->error_code = (int16_t)err;
            sm_metrics_fetch(p->topic, err, req->replica_id >= 0, err == SM_ERR_NONE && reg->len > 0 ? (uint64_t)reg->len : 0);
            sm_partition_unref(p);
        }
    }

    /* Encode into a scratch buffer, then cut it at the splice points so the
     * record data goes out with sendfile straight from the segments. */
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256 + 64 * (size_t)nparts);
    sm_proto_encode_ResponseHeader(&w, h->api_key, h->api_version, h->correlation_id);
    sm_proto_encode_FetchResponse(&w, h->api_version, &resp);
    sm_resp_t *out = sm_resp_new();
    size_t prev = 0;
    for (int i = 0; i < s.n; i++) {
        sm_write_raw(sm_resp_wbuf(out), w.data + prev, s.at[i] - prev);
        sm_resp_add_file(out, s.order[i]->file, s.order[i]->pos, s.order[i]->len);
        prev = s.at[i];
    }
    sm_write_raw(sm_resp_wbuf(out), w.data + prev, w.len - prev);
    sm_wbuf_free(&w);
    for (int32_t i = 0; i < nparts; i++) sm_file_unref(s.regions[i].file);
    sm_conn_respond(c, out);
}

static void
unpark(parked_t *pf)
{
    if (pf->prev) pf->prev->next = pf->next; else parked_head = pf->next;
    if (pf->next) pf->next->prev = pf->prev;
    event_free(pf->timer);
    __atomic_sub_fetch(&sm_srv.parked_fetches, 1, __ATOMIC_RELAXED);
}

static void
finish_parked(parked_t *pf)
{
    unpark(pf);
    if (!sm_conn_closed(pf->conn)) {
        sm_conn_ctx_t *ctx = sm_conn_data(pf->conn);
        fetch_respond(pf->conn, &pf->hdr, &pf->req, &ctx->arena);
    }
    sm_conn_unref(pf->conn);
    free(pf);
}

static void
parked_timeout(evutil_socket_t fd, short what, void *arg)
{
    finish_parked(arg);
}

/* On a network thread: answer every parked fetch that now has enough data. */
static void
recheck_parked(struct event_base *base, void *arg)
{
    wake_pending = 0;
    parked_t *pf = parked_head;
    while (pf) {
        parked_t *next = pf->next;
        int errors;
        if (sm_conn_closed(pf->conn) || fetch_available(&pf->req, &errors) >= pf->req.min_bytes || errors)
            finish_parked(pf);
        pf = next;
    }
}

static void
recheck_parked_post(void *arg)
{
    recheck_parked(NULL, arg);
}

void
sm_fetch_wake_all(void *arg)
{
    if (__atomic_load_n(&sm_srv.parked_fetches, __ATOMIC_RELAXED) > 0 && sm_srv.net)
        sm_net_broadcast(sm_srv.net, recheck_parked, NULL);
}

void
sm_handle_Fetch(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_fetch_req_t req;
    if (sm_proto_decode_FetchRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed Fetch request");
        return;
    }
    if (req.replica_id >= 0) sm_repl_update_followers(&req);   /* follower LEOs -> ISR/HW */
    int errors = 0;
    if (req.max_wait_ms <= 0 || req.min_bytes <= 0 || req.n_topics == 0 || sm_srv.shutting_down ||
        fetch_available(&req, &errors) >= req.min_bytes || errors) {
        fetch_respond(c, h, &req, a);
        return;
    }
    parked_t *pf = sm_calloc(1, sizeof(*pf));
    pf->conn = sm_conn_ref(c);
    pf->hdr = *h;
    pf->req = req;
    pf->timer = evtimer_new(sm_conn_base(c), parked_timeout, pf);
    struct timeval tv = { req.max_wait_ms / 1000, (req.max_wait_ms % 1000) * 1000 };
    evtimer_add(pf->timer, &tv);
    pf->next = parked_head;
    if (parked_head) parked_head->prev = pf;
    parked_head = pf;
    __atomic_add_fetch(&sm_srv.parked_fetches, 1, __ATOMIC_RELAXED);
    /* Data may have arrived between the check and registering: re-check
     * once on this thread's loop. */
    if (!wake_pending) {
        wake_pending = 1;
        sm_net_post(sm_conn_base(c), recheck_parked_post, NULL);
    }
}

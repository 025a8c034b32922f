/*
 * sm_group_api.c - the consumer-group API handlers: FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * ListGroups, DescribeGroups, DeleteGroups, OffsetDelete; the creation of
 * __consumer_offsets; and the broker's group coordinator life cycle.
 *
 * A handler decodes on its network thread, takes a connection reference and
 * posts the request to the coordinator thread (src/group/). There the core
 * answers at once or parks the request (JoinGroup/SyncGroup waiting for the
 * rebalance, OffsetCommit waiting for its append); the answer is encoded on
 * the coordinator thread and posted back to the connection's thread. The
 * connection stays muted meanwhile, so its frame and arena stay valid.
 * FindCoordinator needs only the metadata cache. OffsetCommit/OffsetFetch v0
 * use ZooKeeper (/consumers/<group>/offsets/<topic>/<partition>) on the
 * admin worker thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "group/sm_group_coord.h"
#include "proto/sm_proto_group.h"
#include "server/sm_server.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_admin.h"

#define LOGGER "samsa.server"

/* Readers: request submission and HW notifications (any thread); writers:
 * start and stop. A rwlock, so concurrent HW notifications never queue. */
static pthread_rwlock_t co_lock = PTHREAD_RWLOCK_INITIALIZER;
static sm_gcoord_t *coord;           /* NULL when stopped */
static int offsets_topic_creating;   /* atomic: a creation job is queued */

/* One request on its way through the coordinator. */
typedef struct {
    sm_conn_t *conn;                 /* holds a reference */
    sm_req_hdr_t h;
    sm_arena_t *a;                   /* the connection's arena (muted) */
    void *req;                       /* decoded request, in a */
    void (*run)(sm_gc_t *gc, void *op);
    sm_resp_t *out;
    int32_t n;                       /* OffsetCommit: flattened partitions */
    char host[80];                   /* "/127.0.0.1" as Kafka prints clients */
} gop_t;

static void
malformed(sm_conn_t *c, const sm_req_hdr_t *h)
{
    char why[160];
    snprintf(why, sizeof(why), "malformed %s v%d request (correlation id %d)", sm_api_name(h->api_key), h->api_version,
             h->correlation_id);
    sm_conn_close(c, why);
}

static void
send_on_conn_thread(void *arg)
{
    gop_t *op = arg;
    sm_conn_respond(op->conn, op->out);
    sm_conn_unref(op->conn);
    free(op);
}

/* Coordinator thread: op->out is encoded; hand it to the connection. */
static void
finish(gop_t *op)
{
    sm_net_post(sm_conn_base(op->conn), send_on_conn_thread, op);
}

static void
run_op(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    op->run(gc, op);
}

static void
submit(sm_conn_t *c, const sm_req_hdr_t *h, sm_arena_t *a, void *req, void (*run)(sm_gc_t *, void *))
{
    gop_t *op = sm_calloc(1, sizeof(*op));
    op->conn = sm_conn_ref(c);
    op->h = *h;
    op->a = a;
    op->req = req;
    op->run = run;
    const char *peer = sm_conn_peer(c);
    const char *colon = strrchr(peer, ':');
    int hl = colon ? (int)(colon - peer) : (int)strlen(peer);
    snprintf(op->host, sizeof(op->host), "/%.*s", hl, peer);
    pthread_rwlock_rdlock(&co_lock);
    int posted = coord != NULL;
    if (posted) sm_gcoord_post(coord, run_op, op);
    pthread_rwlock_unlock(&co_lock);
    if (!posted) {
        /* Shutting down: the client retries elsewhere. */
        sm_conn_unref(c);
        free(op);
        sm_conn_close(c, "group coordinator is shutting down");
    }
}

static sm_resp_t *
start(gop_t *op)
{
    op->out = sm_response_start(&op->h);
    return op->out;
}

/* ---- JoinGroup ---- */

static void
join_done(void *waiter, const sm_gc_join_result_t *res)
{
    gop_t *op = waiter;
    sm_joingroup_resp_t r = { 0 };
    r.error_code = (int16_t)res->error;
    r.generation_id = res->generation;
    r.protocol_name = res->protocol_name.len < 0 ? SM_BYTES_STR("") : res->protocol_name;
    r.leader = res->leader_id;
    r.member_id = res->member_id;
    r.n_members = res->n_members;
    r.members = (sm_joingroup_member_t *)res->members;
    sm_proto_encode_JoinGroupResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

static void
run_join(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_joingroup_req_t *q = op->req;
    sm_gc_join_t j = { 0 };
    j.group_id = q->group_id;
    j.member_id = q->member_id;
    j.group_instance_id = op->h.api_version >= 5 ? q->group_instance_id : SM_BYTES_NULL;
    j.protocol_type = q->protocol_type;
    j.client_id = op->h.client_id.len >= 0 ? op->h.client_id : SM_BYTES_STR("");
    j.client_host = SM_BYTES_STR(op->host);
    j.session_timeout_ms = q->session_timeout_ms;
    j.rebalance_timeout_ms = op->h.api_version >= 1 ? q->rebalance_timeout_ms : -1;
    j.require_known_member_id = op->h.api_version >= 4;
    j.n_protocols = q->n_protocols < 0 ? 0 : q->n_protocols;
    j.protocols = q->protocols;
    sm_gc_join(gc, &j, op, sm_now_ms());
}

void
sm_handle_JoinGroup(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_joingroup_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_JoinGroupRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_join);
}

/* ---- SyncGroup ---- */

static void
sync_done(void *waiter, sm_err_t err, sm_bytes_t assignment)
{
    gop_t *op = waiter;
    sm_syncgroup_resp_t r = { 0 };
    r.error_code = (int16_t)err;
    r.assignment = assignment.len < 0 ? SM_BYTES_STR("") : assignment;
    sm_proto_encode_SyncGroupResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

static void
run_sync(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_syncgroup_req_t *q = op->req;
    sm_gc_sync(gc, q->group_id, q->generation_id, q->member_id, op->h.api_version >= 3 ? q->group_instance_id : SM_BYTES_NULL,
               q->n_assignments < 0 ? 0 : q->n_assignments, q->assignments, op, sm_now_ms());
}

void
sm_handle_SyncGroup(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_syncgroup_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_SyncGroupRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_sync);
}

/* ---- Heartbeat ---- */

static void
run_heartbeat(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_heartbeat_req_t *q = op->req;
    sm_heartbeat_resp_t r = { 0 };
    r.error_code = (int16_t)sm_gc_heartbeat(gc, q->group_id, q->generation_id, q->member_id,
                                            op->h.api_version >= 3 ? q->group_instance_id : SM_BYTES_NULL, sm_now_ms());
    sm_proto_encode_HeartbeatResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

void
sm_handle_Heartbeat(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_heartbeat_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_HeartbeatRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_heartbeat);
}

/* ---- LeaveGroup ---- */

static void
run_leave(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_leavegroup_req_t *q = op->req;
    int32_t n = q->n_members < 0 ? 0 : q->n_members;
    int16_t *errs = sm_arena_calloc(op->a, (size_t)(n ? n : 1), sizeof(int16_t));
    sm_err_t top = sm_gc_leave(gc, q->group_id, n, q->members, errs, sm_now_ms());
    sm_leavegroup_resp_t r = { 0 };
    r.error_code = (int16_t)top;
    if (op->h.api_version >= 3) {
        if (top == SM_ERR_NONE) {
            r.n_members = n;
            r.members = sm_arena_calloc(op->a, (size_t)(n ? n : 1), sizeof(*r.members));
            for (int32_t i = 0; i < n; i++) {
                r.members[i].member_id = q->members[i].member_id;
                r.members[i].group_instance_id = q->members[i].group_instance_id;
                r.members[i].error_code = errs[i];
            }
        }
    } else if (top == SM_ERR_NONE && n > 0) {
        r.error_code = errs[0];      /* v0-2 carry the one member's error */
    }
    sm_proto_encode_LeaveGroupResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

void
sm_handle_LeaveGroup(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_leavegroup_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_LeaveGroupRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_leave);
}

/* ---- OffsetCommit ---- */

/* Response shaped like the request, errors taken in flattened order. */
static void
encode_commit_response(gop_t *op, const int16_t *errors)
{
    sm_offsetcommit_req_t *q = op->req;
    sm_offsetcommit_resp_t r = { 0 };
    r.n_topics = q->n_topics < 0 ? 0 : q->n_topics;
    r.topics = sm_arena_calloc(op->a, (size_t)(r.n_topics ? r.n_topics : 1), sizeof(*r.topics));
    int32_t k = 0;
    for (int32_t t = 0; t < r.n_topics; t++) {
        sm_offsetcommit_req_topic_t *qt = &q->topics[t];
        int32_t np = qt->n_partitions < 0 ? 0 : qt->n_partitions;
        r.topics[t].name = qt->name;
        r.topics[t].n_partitions = np;
        r.topics[t].partitions = sm_arena_calloc(op->a, (size_t)(np ? np : 1), sizeof(sm_grp_part_err_t));
        for (int32_t i = 0; i < np; i++, k++) {
            r.topics[t].partitions[i].partition_index = qt->partitions[i].partition_index;
            r.topics[t].partitions[i].error_code = errors[k];
        }
    }
    sm_proto_encode_OffsetCommitResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
}

static void
commit_done(void *waiter, const int16_t *errors, int32_t n)
{
    gop_t *op = waiter;
    encode_commit_response(op, errors);
    finish(op);
}

static void
run_commit(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_offsetcommit_req_t *q = op->req;
    int64_t now = sm_now_ms();
    int32_t n = 0;
    for (int32_t t = 0; t < q->n_topics; t++) n += q->topics[t].n_partitions < 0 ? 0 : q->topics[t].n_partitions;
    sm_gc_offset_t *offs = sm_arena_calloc(op->a, (size_t)(n ? n : 1), sizeof(*offs));
    int32_t k = 0;
    int v = op->h.api_version;
    for (int32_t t = 0; t < q->n_topics; t++)
        for (int32_t i = 0; i < q->topics[t].n_partitions; i++, k++) {
            sm_offsetcommit_req_part_t *p = &q->topics[t].partitions[i];
            offs[k].topic = q->topics[t].name;
            offs[k].partition = p->partition_index;
            offs[k].offset = p->committed_offset;
            offs[k].leader_epoch = v >= 6 ? p->committed_leader_epoch : -1;
            offs[k].metadata = p->committed_metadata;
            offs[k].commit_timestamp = v == 1 && p->commit_timestamp != -1 ? p->commit_timestamp : now;
            offs[k].expire_timestamp = v >= 2 && v <= 4 && q->retention_time_ms != -1 ? now + q->retention_time_ms : -1;
        }
    op->n = n;
    sm_gc_commit(gc, q->group_id, v >= 1 ? q->generation_id : -1, v >= 1 ? q->member_id : SM_BYTES_STR(""),
                 v >= 7 ? q->group_instance_id : SM_BYTES_NULL, n, offs, op, now);
}

/* OffsetCommit v0 / OffsetFetch v0: ZooKeeper, on the admin worker. */
typedef struct {
    sm_conn_t *conn;
    sm_req_hdr_t h;
    sm_arena_t *a;
    void *req;
    int16_t *errors;
    int64_t *offsets;
} zkop_t;

static char *
zk_offset_path(sm_bytes_t group, sm_bytes_t topic, int32_t partition)
{
    return sm_asprintf("/consumers/%.*s/offsets/%.*s/%d", group.len, group.ptr, topic.len, topic.ptr, partition);
}

static int
zk_path_ok(sm_bytes_t s)
{
    /* A '/' (or nothing) would address another znode. */
    if (s.len <= 0) return 0;
    for (int32_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '/' || s.ptr[i] == 0) return 0;
    return !(s.len == 1 && s.ptr[0] == '.') && !(s.len == 2 && s.ptr[0] == '.' && s.ptr[1] == '.');
}

static void
zk_commit_work(void *arg)
{
    zkop_t *z = arg;
    sm_offsetcommit_req_t *q = z->req;
    int32_t k = 0;
    for (int32_t t = 0; t < q->n_topics; t++)
        for (int32_t i = 0; i < q->topics[t].n_partitions; i++, k++) {
            sm_offsetcommit_req_part_t *p = &q->topics[t].partitions[i];
            if (!zk_path_ok(q->group_id) || !zk_path_ok(q->topics[t].name)) { z->errors[k] = SM_ERR_INVALID_REQUEST; continue; }
            if (p->committed_metadata.len > sm_srv.cfg.offset_metadata_max_bytes) {
                z->errors[k] = SM_ERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            char *path = zk_offset_path(q->group_id, q->topics[t].name, p->partition_index);
            char val[32];
            int len = snprintf(val, sizeof(val), "%lld", (long long)p->committed_offset);
            int rc = sm_zk_set(sm_srv.zk, path, val, len, -1, NULL);
            if (rc == ZNONODE) rc = sm_zk_create_recursive(sm_srv.zk, path, val, len, 0);
            z->errors[k] = rc == ZOK ? SM_ERR_NONE : SM_ERR_UNKNOWN_SERVER_ERROR;
            free(path);
        }
}

static void
zk_commit_done(void *arg)
{
    zkop_t *z = arg;
    gop_t op = { 0 };
    op.h = z->h;
    op.a = z->a;
    op.req = z->req;
    encode_commit_response(&op, z->errors);
    sm_conn_respond(z->conn, op.out);
    sm_conn_unref(z->conn);
    free(z);
}

void
sm_handle_OffsetCommit(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_offsetcommit_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_OffsetCommitRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    if (q->n_topics < 0) q->n_topics = 0;
    if (h->api_version == 0) {
        int32_t n = 0;
        for (int32_t t = 0; t < q->n_topics; t++) n += q->topics[t].n_partitions < 0 ? 0 : q->topics[t].n_partitions;
        zkop_t *z = sm_calloc(1, sizeof(*z));
        z->conn = sm_conn_ref(c);
        z->h = *h;
        z->a = a;
        z->req = q;
        z->errors = sm_arena_calloc(a, (size_t)(n ? n : 1), sizeof(int16_t));
        sm_worker_submit(sm_srv.admin, zk_commit_work, zk_commit_done, sm_conn_base(c), z);
        return;
    }
    submit(c, h, a, q, run_commit);
}

/* ---- OffsetFetch ---- */

typedef struct {
    sm_gc_offset_t *items;
    int32_t n, cap;
    sm_arena_t *a;
} collect_t;

static void
collect_offset(void *arg, const sm_gc_offset_t *o)
{
    collect_t *c = arg;
    if (c->n == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 64;
        sm_gc_offset_t *n = sm_arena_alloc(c->a, sizeof(*n) * (size_t)cap);
        if (c->n) memcpy(n, c->items, sizeof(*n) * (size_t)c->n);
        c->items = n;
        c->cap = cap;
    }
    sm_gc_offset_t *x = &c->items[c->n++];
    *x = *o;
    /* Copy the views: the core's storage may move on the next call. */
    char *t = sm_arena_alloc(c->a, (size_t)o->topic.len + 1);
    memcpy(t, o->topic.ptr, (size_t)o->topic.len);
    x->topic.ptr = (const uint8_t *)t;
    char *m = sm_arena_alloc(c->a, (size_t)(o->metadata.len > 0 ? o->metadata.len : 0) + 1);
    if (o->metadata.len > 0) memcpy(m, o->metadata.ptr, (size_t)o->metadata.len);
    x->metadata.ptr = (const uint8_t *)m;
    x->metadata.len = o->metadata.len > 0 ? o->metadata.len : 0;
}

static int
cmp_offset(const void *a, const void *b)
{
    const sm_gc_offset_t *x = a, *y = b;
    int32_t n = SM_MIN(x->topic.len, y->topic.len);
    int c = memcmp(x->topic.ptr, y->topic.ptr, (size_t)n);
    if (c) return c;
    if (x->topic.len != y->topic.len) return x->topic.len < y->topic.len ? -1 : 1;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

static void
fill_fetch_part(sm_offsetfetch_resp_part_t *rp, int32_t partition, const sm_gc_offset_t *o, sm_err_t err)
{
    rp->partition_index = partition;
    rp->committed_offset = o ? o->offset : -1;
    rp->committed_leader_epoch = o ? o->leader_epoch : -1;
    rp->metadata = o ? o->metadata : SM_BYTES_STR("");
    rp->error_code = (int16_t)err;
}

/* Build the response for the requested partitions with per-partition
 * lookups (lookup NULL: every one gets err). */
static void
fetch_requested(sm_offsetfetch_req_t *q, sm_arena_t *a, sm_offsetfetch_resp_t *r,
                int (*lookup)(void *arg, sm_bytes_t topic, int32_t part, sm_gc_offset_t *out), void *arg, sm_err_t err)
{
    r->n_topics = q->n_topics < 0 ? 0 : q->n_topics;
    r->topics = sm_arena_calloc(a, (size_t)(r->n_topics ? r->n_topics : 1), sizeof(*r->topics));
    for (int32_t t = 0; t < r->n_topics; t++) {
        sm_offsetfetch_req_topic_t *qt = &q->topics[t];
        int32_t np = qt->n_partition_indexes < 0 ? 0 : qt->n_partition_indexes;
        r->topics[t].name = qt->name;
        r->topics[t].n_partitions = np;
        r->topics[t].partitions = sm_arena_calloc(a, (size_t)(np ? np : 1), sizeof(sm_offsetfetch_resp_part_t));
        for (int32_t i = 0; i < np; i++) {
            sm_gc_offset_t o;
            int found = lookup && lookup(arg, qt->name, qt->partition_indexes[i], &o);
            fill_fetch_part(&r->topics[t].partitions[i], qt->partition_indexes[i], found ? &o : NULL, lookup ? SM_ERR_NONE : err);
        }
    }
}

typedef struct {
    sm_gc_t *gc;
    sm_bytes_t group;
} gclookup_t;

static int
gc_lookup(void *arg, sm_bytes_t topic, int32_t part, sm_gc_offset_t *out)
{
    gclookup_t *l = arg;
    return sm_gc_fetch_offset(l->gc, l->group, topic, part, out);
}

static void
run_fetch(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_offsetfetch_req_t *q = op->req;
    sm_offsetfetch_resp_t r = { 0 };
    sm_err_t err = sm_gc_check(gc, q->group_id);
    if (err != SM_ERR_NONE) {
        if (op->h.api_version >= 2) r.error_code = (int16_t)err;
        else fetch_requested(q, op->a, &r, NULL, NULL, err);
    } else if (q->n_topics < 0) {
        collect_t c = { NULL, 0, 0, op->a };
        sm_gc_foreach_offset(gc, q->group_id, collect_offset, &c);
        qsort(c.items, (size_t)c.n, sizeof(*c.items), cmp_offset);
        r.topics = sm_arena_calloc(op->a, (size_t)(c.n ? c.n : 1), sizeof(*r.topics));
        for (int32_t i = 0; i < c.n;) {
            int32_t j = i;
            while (j < c.n && !cmp_offset(&(sm_gc_offset_t){ .topic = c.items[j].topic, .partition = 0 },
                                          &(sm_gc_offset_t){ .topic = c.items[i].topic, .partition = 0 }))
                j++;
            sm_offsetfetch_resp_topic_t *rt = &r.topics[r.n_topics++];
            rt->name = c.items[i].topic;
            rt->n_partitions = j - i;
            rt->partitions = sm_arena_calloc(op->a, (size_t)(j - i), sizeof(sm_offsetfetch_resp_part_t));
            for (int32_t k = i; k < j; k++) fill_fetch_part(&rt->partitions[k - i], c.items[k].partition, &c.items[k], SM_ERR_NONE);
            i = j;
        }
    } else {
        gclookup_t l = { gc, q->group_id };
        fetch_requested(q, op->a, &r, gc_lookup, &l, SM_ERR_NONE);
    }
    sm_proto_encode_OffsetFetchResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

typedef struct {
    sm_bytes_t group;
} zklookup_t;

static int
zk_lookup(void *arg, sm_bytes_t topic, int32_t part, sm_gc_offset_t *out)
{
    zklookup_t *l = arg;
    if (!zk_path_ok(l->group) || !zk_path_ok(topic)) return 0;
    char *path = zk_offset_path(l->group, topic, part), *data = NULL;
    int len = 0;
    int rc = sm_zk_get(sm_srv.zk, path, &data, &len, NULL);
    free(path);
    int64_t off;
    int ok = rc == ZOK && data && sm_parse_i64(data, &off) == 0;
    free(data);
    if (!ok) return 0;
    memset(out, 0, sizeof(*out));
    out->offset = off;
    out->leader_epoch = -1;
    out->metadata = SM_BYTES_STR("");
    return 1;
}

static void
zk_fetch_work(void *arg)
{
    zkop_t *z = arg;
    sm_offsetfetch_req_t *q = z->req;
    sm_offsetfetch_resp_t r = { 0 };
    zklookup_t l = { q->group_id };
    fetch_requested(q, z->a, &r, zk_lookup, &l, SM_ERR_NONE);
    gop_t op = { 0 };
    op.h = z->h;
    sm_proto_encode_OffsetFetchResponse(sm_resp_wbuf(start(&op)), z->h.api_version, &r);
    z->req = op.out;
}

static void
zk_fetch_done(void *arg)
{
    zkop_t *z = arg;
    sm_conn_respond(z->conn, z->req);
    sm_conn_unref(z->conn);
    free(z);
}

void
sm_handle_OffsetFetch(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_offsetfetch_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_OffsetFetchRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    if (h->api_version == 0) {
        zkop_t *z = sm_calloc(1, sizeof(*z));
        z->conn = sm_conn_ref(c);
        z->h = *h;
        z->a = a;
        z->req = q;
        sm_worker_submit(sm_srv.admin, zk_fetch_work, zk_fetch_done, sm_conn_base(c), z);
        return;
    }
    submit(c, h, a, q, run_fetch);
}

/* ---- ListGroups / DescribeGroups / DeleteGroups ---- */

typedef struct {
    sm_listgroups_resp_t *r;
    int32_t cap;
    sm_arena_t *a;
} list_t;

static void
list_one(void *arg, sm_bytes_t group, sm_bytes_t type)
{
    list_t *l = arg;
    if (l->r->n_groups == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 32;
        sm_listgroups_group_t *n = sm_arena_alloc(l->a, sizeof(*n) * (size_t)cap);
        if (l->r->n_groups) memcpy(n, l->r->groups, sizeof(*n) * (size_t)l->r->n_groups);
        l->r->groups = n;
        l->cap = cap;
    }
    /* Views into the core stay valid: nothing runs before encoding. */
    l->r->groups[l->r->n_groups++] = (sm_listgroups_group_t){ group, type };
}

static void
run_list(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_listgroups_resp_t r = { 0 };
    list_t l = { &r, 0, op->a };
    r.error_code = (int16_t)sm_gc_list(gc, list_one, &l);
    sm_proto_encode_ListGroupsResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

void
sm_handle_ListGroups(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_listgroups_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_ListGroupsRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_list);
}

static void
run_describe(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_describegroups_req_t *q = op->req;
    sm_describegroups_resp_t r = { 0 };
    r.n_groups = q->n_groups < 0 ? 0 : q->n_groups;
    r.groups = sm_arena_calloc(op->a, (size_t)(r.n_groups ? r.n_groups : 1), sizeof(*r.groups));
    for (int32_t i = 0; i < r.n_groups; i++) sm_gc_describe(gc, q->groups[i], op->a, &r.groups[i]);
    sm_proto_encode_DescribeGroupsResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

void
sm_handle_DescribeGroups(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_describegroups_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_DescribeGroupsRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_describe);
}

static void
run_delete_groups(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_deletegroups_req_t *q = op->req;
    sm_deletegroups_resp_t r = { 0 };
    r.n_results = q->n_groups_names < 0 ? 0 : q->n_groups_names;
    r.results = sm_arena_calloc(op->a, (size_t)(r.n_results ? r.n_results : 1), sizeof(*r.results));
    for (int32_t i = 0; i < r.n_results; i++) {
        r.results[i].group_id = q->groups_names[i];
        r.results[i].error_code = (int16_t)sm_gc_delete_group(gc, q->groups_names[i], sm_now_ms());
    }
    sm_proto_encode_DeleteGroupsResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

void
sm_handle_DeleteGroups(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_deletegroups_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_DeleteGroupsRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_delete_groups);
}

/* ---- OffsetDelete ---- */

static void
run_offset_delete(sm_gc_t *gc, void *arg)
{
    gop_t *op = arg;
    sm_offsetdelete_req_t *q = op->req;
    int32_t nt = q->n_topics < 0 ? 0 : q->n_topics, n = 0;
    for (int32_t t = 0; t < nt; t++) n += q->topics[t].n_partitions < 0 ? 0 : q->topics[t].n_partitions;
    sm_bytes_t *topics = sm_arena_calloc(op->a, (size_t)(n ? n : 1), sizeof(*topics));
    int32_t *parts = sm_arena_calloc(op->a, (size_t)(n ? n : 1), sizeof(int32_t));
    int16_t *errs = sm_arena_calloc(op->a, (size_t)(n ? n : 1), sizeof(int16_t));
    int32_t k = 0;
    for (int32_t t = 0; t < nt; t++)
        for (int32_t i = 0; i < q->topics[t].n_partitions; i++, k++) {
            topics[k] = q->topics[t].name;
            parts[k] = q->topics[t].partitions[i];
        }
    sm_offsetdelete_resp_t r = { 0 };
    r.error_code = (int16_t)sm_gc_delete_offsets(gc, q->group_id, n, topics, parts, errs, sm_now_ms());
    if (r.error_code == SM_ERR_NONE) {
        r.n_topics = nt;
        r.topics = sm_arena_calloc(op->a, (size_t)(nt ? nt : 1), sizeof(*r.topics));
        k = 0;
        for (int32_t t = 0; t < nt; t++) {
            int32_t np = q->topics[t].n_partitions < 0 ? 0 : q->topics[t].n_partitions;
            r.topics[t].name = q->topics[t].name;
            r.topics[t].n_partitions = np;
            r.topics[t].partitions = sm_arena_calloc(op->a, (size_t)(np ? np : 1), sizeof(sm_grp_part_err_t));
            for (int32_t i = 0; i < np; i++, k++) {
                r.topics[t].partitions[i].partition_index = parts[k];
                r.topics[t].partitions[i].error_code = errs[k];
            }
        }
    }
    sm_proto_encode_OffsetDeleteResponse(sm_resp_wbuf(start(op)), op->h.api_version, &r);
    finish(op);
}

void
sm_handle_OffsetDelete(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_offsetdelete_req_t *q = sm_arena_calloc(a, 1, sizeof(*q));
    if (sm_proto_decode_OffsetDeleteRequest(r, h->api_version, a, q) < 0) { malformed(c, h); return; }
    submit(c, h, a, q, run_offset_delete);
}

/* ---- FindCoordinator and __consumer_offsets creation ---- */

static void
create_offsets_topic_work(void *arg)
{
    sm_broker_config_t *cfg = &sm_srv.cfg;
    sm_broker_info_t *b = NULL;
    int nb = 0;
    char msg[256] = "";
    sm_err_t err = SM_ERR_UNKNOWN_SERVER_ERROR;
    if (sm_zk_admin_list_brokers(sm_srv.zk, &b, &nb) == 0 && nb > 0) {
        int32_t *ids = sm_malloc(sizeof(int32_t) * (size_t)nb);
        for (int i = 0; i < nb; i++) ids[i] = b[i].id;
        int32_t rf = cfg->offsets_topic_replication_factor;
        if (rf > nb) {
            sm_log_warn(LOGGER, "[KafkaApi-%d] offsets.topic.replication.factor %d is larger than the %d live brokers; creating %s with replication factor %d",
                        cfg->broker_id, rf, nb, SM_GC_OFFSETS_TOPIC, nb);
            rf = nb;
        }
        sm_topic_assignment_t as = { 0 };
        err = sm_zk_admin_assign(sm_srv.zk, cfg->offsets_topic_num_partitions, rf, -1, 0, &as, msg, sizeof(msg));
        if (err == SM_ERR_NONE) {
            sm_props_t props;
            char seg[32];
            sm_props_init(&props);
            snprintf(seg, sizeof(seg), "%d", cfg->offsets_topic_segment_bytes);
            sm_props_set(&props, "cleanup.policy", "compact");
            sm_props_set(&props, "segment.bytes", seg);
            sm_props_set(&props, "compression.type", "producer");
            err = sm_zk_admin_create_topic(sm_srv.zk, SM_GC_OFFSETS_TOPIC, &as, &props, msg, sizeof(msg));
            sm_props_free(&props);
            if (err == SM_ERR_NONE)
                sm_log_info(LOGGER, "[KafkaApi-%d] Auto creation of topic %s with %d partitions and replication factor %d is successful",
                            cfg->broker_id, SM_GC_OFFSETS_TOPIC, cfg->offsets_topic_num_partitions, rf);
        }
        sm_topic_assignment_free(&as);
        free(ids);
    }
    for (int i = 0; i < nb; i++) sm_broker_info_free(&b[i]);
    free(b);
    if (err != SM_ERR_NONE && err != SM_ERR_TOPIC_ALREADY_EXISTS)
        sm_log_warn(LOGGER, "[KafkaApi-%d] Auto creation of topic %s failed: %s %s", cfg->broker_id, SM_GC_OFFSETS_TOPIC,
                    sm_err_name(err), msg);
    __atomic_store_n(&offsets_topic_creating, 0, __ATOMIC_RELEASE);
}

void
sm_handle_FindCoordinator(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_findcoordinator_req_t q;
    if (sm_proto_decode_FindCoordinatorRequest(r, h->api_version, a, &q) < 0) { malformed(c, h); return; }
    sm_findcoordinator_resp_t resp = { 0 };
    resp.error_message = SM_BYTES_NULL;
    resp.node_id = -1;
    resp.host = SM_BYTES_STR("");
    resp.port = -1;
    sm_err_t err = SM_ERR_COORDINATOR_NOT_AVAILABLE;
    int create = 0;
    char host[256] = "";
    if (h->api_version >= 1 && q.key_type != 0) {
        /* No transaction coordinator (yet). */
        err = q.key_type == 1 ? SM_ERR_COORDINATOR_NOT_AVAILABLE : SM_ERR_INVALID_REQUEST;
    } else {
        int32_t part = sm_gc_partition_for_n(q.key, sm_srv.cfg.offsets_topic_num_partitions);
        sm_metadata_t *md = sm_srv.metadata;
        sm_metadata_rdlock(md);
        sm_md_topic_t *t = sm_metadata_topic(md, SM_GC_OFFSETS_TOPIC, strlen(SM_GC_OFFSETS_TOPIC));
        if (!t) {
            create = 1;
        } else if (part < t->npartitions && t->partitions[part].present && t->partitions[part].leader >= 0) {
            const sm_md_broker_t *b = sm_metadata_broker(md, t->partitions[part].leader);
            if (b) {
                err = SM_ERR_NONE;
                resp.node_id = b->id;
                snprintf(host, sizeof(host), "%s", b->host);
                resp.port = b->port;
            }
        }
        sm_metadata_unlock(md);
    }
    if (create && !__atomic_exchange_n(&offsets_topic_creating, 1, __ATOMIC_ACQ_REL))
        sm_worker_submit(sm_srv.admin, create_offsets_topic_work, NULL, NULL, NULL);
    if (err == SM_ERR_NONE) resp.host = SM_BYTES_STR(host);
    resp.error_code = (int16_t)err;
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_FindCoordinatorResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

/* ---- life cycle ---- */

int
sm_group_api_start(void)
{
    sm_broker_config_t *cfg = &sm_srv.cfg;
    sm_gc_config_t gcfg;
    sm_gc_config_defaults(&gcfg);
    gcfg.broker_id = cfg->broker_id;
    gcfg.num_partitions = cfg->offsets_topic_num_partitions;
    gcfg.min_session_timeout_ms = cfg->group_min_session_timeout_ms;
    gcfg.max_session_timeout_ms = cfg->group_max_session_timeout_ms;
    gcfg.max_size = cfg->group_max_size;
    gcfg.initial_rebalance_delay_ms = cfg->group_initial_rebalance_delay_ms;
    gcfg.offsets_retention_ms = (int64_t)cfg->offsets_retention_minutes * 60000;
    gcfg.offsets_retention_check_interval_ms = cfg->offsets_retention_check_interval_ms;
    gcfg.offset_metadata_max_bytes = cfg->offset_metadata_max_bytes;
    gcfg.commit_timeout_ms = cfg->offsets_commit_timeout_ms;
    gcfg.commit_required_acks = cfg->offsets_commit_required_acks;
    sm_gcoord_cb_t cb = { join_done, sync_done, commit_done };
    sm_gcoord_t *co = sm_gcoord_start(&gcfg, sm_srv.replicas, &cb);
    pthread_rwlock_wrlock(&co_lock);
    coord = co;
    pthread_rwlock_unlock(&co_lock);
    return 0;
}

void
sm_group_api_stop(void)
{
    pthread_rwlock_wrlock(&co_lock);
    sm_gcoord_t *co = coord;
    coord = NULL;
    pthread_rwlock_unlock(&co_lock);
    sm_gcoord_stop(co);
}

void
sm_group_data_changed(void)
{
    pthread_rwlock_rdlock(&co_lock);
    sm_gcoord_data_changed(coord);
    pthread_rwlock_unlock(&co_lock);
}

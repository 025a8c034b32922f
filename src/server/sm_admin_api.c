/*
 * sm_admin_api.c - CreateTopics, DeleteTopics, CreatePartitions and
 * DescribeConfigs, plus topic auto-creation and the topic config cache.
 *
 * ZooKeeper writes are blocking calls, so a request is validated on its
 * network thread, the writes run on the admin worker thread, and the answer
 * is sent back on the network thread once the controller has made the
 * change visible in this broker's metadata cache (or timeout_ms passed),
 * like Kafka's DelayedCreateTopics.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "server/sm_dyncfg.h"
#include "server/sm_server.h"
#include "zk/sm_zk_admin.h"

/* ---- topic config cache ---- */

typedef struct tcfg_s {
    char *topic;
    sm_props_t overrides;
    sm_log_config_t cfg;
    int32_t min_isr;
    struct tcfg_s *next;
} tcfg_t;

#define TCFG_BUCKETS 1024

static pthread_mutex_t tcfg_lock = PTHREAD_MUTEX_INITIALIZER;
static tcfg_t *tcfg_buckets[TCFG_BUCKETS];

static tcfg_t **
tcfg_bucket(const char *topic)
{
    uint32_t h = 2166136261u;
    for (const char *p = topic; *p; p++) { h ^= (uint8_t)*p; h *= 16777619u; }
    return &tcfg_buckets[h % TCFG_BUCKETS];
}

/* Fill overrides-derived settings; props is consumed into the entry. */
static void
tcfg_compute(tcfg_t *e)
{
    /* Broker defaults may change under us (dynamic broker configs). */
    sm_dyncfg_rdlock();
    sm_broker_topic_log_config(&sm_srv.cfg, &e->overrides, &e->cfg);
    e->min_isr = sm_srv.cfg.min_insync_replicas;
    sm_dyncfg_unlock();
    const char *v = sm_props_get(&e->overrides, "min.insync.replicas");
    int64_t n;
    if (v && sm_parse_i64(v, &n) == 0 && n >= 1 && n <= INT32_MAX) e->min_isr = (int32_t)n;
}

static tcfg_t *
tcfg_find(const char *topic)
{
    for (tcfg_t *e = *tcfg_bucket(topic); e; e = e->next)
        if (!strcmp(e->topic, topic)) return e;
    return NULL;
}

void
sm_topic_log_config(void *arg, const char *topic, sm_log_config_t *out, int32_t *min_isr)
{
    pthread_mutex_lock(&tcfg_lock);
    tcfg_t *e = tcfg_find(topic);
    if (e) {
        *out = e->cfg;
        if (min_isr) *min_isr = e->min_isr;
        pthread_mutex_unlock(&tcfg_lock);
        return;
    }
    pthread_mutex_unlock(&tcfg_lock);
    /* Miss: read /config/topics/<t> (blocking, once per topic). */
    tcfg_t *n = sm_calloc(1, sizeof(*n));
    n->topic = sm_strdup(topic);
    sm_props_init(&n->overrides);
    if (sm_srv.zk && sm_zk_admin_get_topic_config(sm_srv.zk, topic, &n->overrides) < 0)
        sm_props_init(&n->overrides);
    tcfg_compute(n);
    pthread_mutex_lock(&tcfg_lock);
    if ((e = tcfg_find(topic))) {
        sm_props_free(&n->overrides);
        free(n->topic);
        free(n);
    } else {
        tcfg_t **b = tcfg_bucket(topic);
        n->next = *b;
        *b = e = n;
    }
    *out = e->cfg;
    if (min_isr) *min_isr = e->min_isr;
    pthread_mutex_unlock(&tcfg_lock);
}

void
sm_topic_config_invalidate(const char *topic)
{
    pthread_mutex_lock(&tcfg_lock);
    for (tcfg_t **pp = tcfg_bucket(topic); *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->topic, topic)) continue;
        tcfg_t *e = *pp;
        *pp = e->next;
        sm_props_free(&e->overrides);
        free(e->topic);
        free(e);
        break;
    }
    pthread_mutex_unlock(&tcfg_lock);
}

int
sm_topic_config_refresh_all(char ***topics)
{
    int n = 0, cap = 16;
    *topics = sm_malloc(sizeof(char *) * (size_t)cap);
    pthread_mutex_lock(&tcfg_lock);
    for (int b = 0; b < TCFG_BUCKETS; b++)
        for (tcfg_t *e = tcfg_buckets[b]; e; e = e->next) {
            tcfg_compute(e);
            if (n == cap) *topics = sm_realloc(*topics, sizeof(char *) * (size_t)(cap *= 2));
            (*topics)[n++] = sm_strdup(e->topic);
        }
    pthread_mutex_unlock(&tcfg_lock);
    return n;
}

/* Copy of a topic's overrides (for DescribeConfigs). */
static void
topic_overrides(const char *topic, sm_props_t *out)
{
    sm_log_config_t unused;
    sm_topic_log_config(NULL, topic, &unused, NULL);
    sm_props_init(out);
    pthread_mutex_lock(&tcfg_lock);
    tcfg_t *e = tcfg_find(topic);
    for (size_t i = 0; e && i < e->overrides.n; i++) sm_props_set(out, e->overrides.items[i].key, e->overrides.items[i].value);
    pthread_mutex_unlock(&tcfg_lock);
}

/* ---- shared helpers ---- */

static int
is_controller(void)
{
    return __atomic_load_n(&sm_srv.controller_id, __ATOMIC_RELAXED) == sm_srv.cfg.broker_id;
}

/* Live broker ids from ZooKeeper, sorted. */
static int
live_brokers(int32_t **ids)
{
    sm_broker_info_t *b;
    int n;
    if (sm_zk_admin_list_brokers(sm_srv.zk, &b, &n) < 0) return -1;
    *ids = sm_malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) { (*ids)[i] = b[i].id; sm_broker_info_free(&b[i]); }
    free(b);
    return n;
}

static void
assignment_free(sm_topic_assignment_t *a)
{
    sm_topic_assignment_free(a);
    memset(a, 0, sizeof(*a));
}

static char *
bytes_cstr(sm_arena_t *a, sm_bytes_t b)
{
    if (b.len < 0) return NULL;
    char *s = sm_arena_alloc(a, (size_t)b.len + 1);
    memcpy(s, b.ptr, (size_t)b.len);
    s[b.len] = '\0';
    return s;
}

/* A pending admin request: one entry per topic. */
typedef struct {
    char *topic;
    int32_t partitions;              /* create: count; add: new total */
    int16_t rf;
    sm_topic_assignment_t assignment;/* explicit assignment, or empty */
    sm_props_t configs;
    sm_err_t err;
    char msg[256];
    int pending;                     /* waiting to show up in metadata */
} admin_item_t;

typedef enum { OP_CREATE, OP_DELETE, OP_ADD_PARTITIONS } admin_op_t;

typedef struct {
    admin_op_t op;
    sm_conn_t *conn;
    sm_req_hdr_t hdr;
    int validate_only;
    int32_t timeout_ms;
    int64_t deadline;
    int n;
    admin_item_t *items;
    struct event *timer;
} admin_job_t;

static void
job_free(admin_job_t *j)
{
    for (int i = 0; i < j->n; i++) {
        free(j->items[i].topic);
        sm_topic_assignment_free(&j->items[i].assignment);
        sm_props_free(&j->items[i].configs);
    }
    free(j->items);
    if (j->timer) event_free(j->timer);
    sm_conn_unref(j->conn);
    free(j);
}

/* Is the job's effect visible in the metadata cache yet? */
static int
item_visible(admin_job_t *j, admin_item_t *it)
{
    sm_metadata_t *md = sm_srv.metadata;
    sm_metadata_rdlock(md);
    sm_md_topic_t *t = sm_metadata_topic(md, it->topic, strlen(it->topic));
    int ok;
    if (j->op == OP_DELETE) {
        ok = t == NULL;
    } else {
        int32_t want = it->partitions;
        ok = t && t->npartitions >= want;
        for (int32_t p = 0; ok && p < want; p++) ok = t->partitions[p].present && t->partitions[p].leader >= 0;
    }
    sm_metadata_unlock(md);
    return ok;
}

static void
job_respond(admin_job_t *j)
{
    sm_conn_t *c = j->conn;
    if (sm_conn_closed(c)) { job_free(j); return; }
    sm_conn_ctx_t *ctx = sm_conn_data(c);
    sm_arena_t *a = &ctx->arena;
    sm_topic_result_t *res = sm_arena_calloc(a, (size_t)(j->n ? j->n : 1), sizeof(*res));
    for (int i = 0; i < j->n; i++) {
        admin_item_t *it = &j->items[i];
        if (it->err == SM_ERR_NONE && it->pending) it->err = SM_ERR_REQUEST_TIMED_OUT;
        res[i].name = SM_BYTES_STR(it->topic);
        res[i].error_code = (int16_t)it->err;
        res[i].error_message = it->err != SM_ERR_NONE && it->msg[0] ? SM_BYTES_STR(it->msg) : SM_BYTES_NULL;
    }
    sm_resp_t *out = sm_response_start(&j->hdr);
    sm_wbuf_t *w = sm_resp_wbuf(out);
    if (j->op == OP_CREATE) {
        sm_createtopics_resp_t r = { 0, j->n, res };
        sm_proto_encode_CreateTopicsResponse(w, j->hdr.api_version, &r);
    } else if (j->op == OP_DELETE) {
        sm_deletetopics_resp_t r = { 0, j->n, res };
        sm_proto_encode_DeleteTopicsResponse(w, j->hdr.api_version, &r);
    } else {
        sm_createpartitions_resp_t r = { 0, j->n, res };
        sm_proto_encode_CreatePartitionsResponse(w, j->hdr.api_version, &r);
    }
    sm_conn_respond(c, out);
    job_free(j);
}

static void
job_poll(evutil_socket_t fd, short what, void *arg)
{
    admin_job_t *j = arg;
    int waiting = 0;
    for (int i = 0; i < j->n; i++) {
        admin_item_t *it = &j->items[i];
        if (it->pending && item_visible(j, it)) it->pending = 0;
        waiting |= it->pending;
    }
    if (!waiting || sm_mono_ms() >= j->deadline || sm_conn_closed(j->conn)) {
        job_respond(j);
        return;
    }
    struct timeval tv = { 0, 20000 };
    evtimer_add(j->timer, &tv);
}

/* Network thread: the ZooKeeper work is done; wait for propagation. */
static void
job_done(void *arg)
{
    admin_job_t *j = arg;
    j->deadline = sm_mono_ms() + (j->timeout_ms > 0 ? j->timeout_ms : 0);
    j->timer = evtimer_new(sm_conn_base(j->conn), job_poll, j);
    job_poll(-1, 0, j);
}

/* Worker thread: perform the ZooKeeper writes. */
static void
job_work(void *arg)
{
    admin_job_t *j = arg;
    for (int i = 0; i < j->n; i++) {
        admin_item_t *it = &j->items[i];
        if (it->err != SM_ERR_NONE) continue;
        if (j->op == OP_DELETE) {
            if (!j->validate_only) it->err = sm_zk_admin_delete_topic(sm_srv.zk, it->topic, it->msg, sizeof(it->msg));
            it->pending = it->err == SM_ERR_NONE && sm_srv.cfg.delete_topic_enable;
            continue;
        }
        sm_topic_assignment_t cur = { 0 };
        int have = 0;
        if (j->op == OP_ADD_PARTITIONS) {
            int rc = sm_zk_admin_get_assignment(sm_srv.zk, it->topic, &cur);
            if (rc != 0) {
                it->err = rc > 0 ? SM_ERR_UNKNOWN_TOPIC_OR_PARTITION : SM_ERR_UNKNOWN_SERVER_ERROR;
                snprintf(it->msg, sizeof(it->msg), "The topic '%s' does not exist.", it->topic);
                continue;
            }
            have = 1;
            if (it->partitions <= cur.npartitions) {
                it->err = SM_ERR_INVALID_PARTITIONS;
                snprintf(it->msg, sizeof(it->msg), "Topic currently has %d partitions, which is %s the requested %d.",
                         cur.npartitions, it->partitions == cur.npartitions ? "equal to" : "higher than", it->partitions);
                goto next;
            }
        }
        int32_t *brokers = NULL;
        int nb = live_brokers(&brokers);
        if (nb < 0) { it->err = SM_ERR_UNKNOWN_SERVER_ERROR; snprintf(it->msg, sizeof(it->msg), "ZooKeeper error"); goto next; }
        sm_topic_assignment_t full = { 0 };
        int32_t first_new = have ? cur.npartitions : 0;
        int32_t rf = have ? (cur.npartitions ? cur.nreplicas[0] : 1) : it->rf;
        if (it->assignment.npartitions > 0) {
            /* Explicit assignment: replica ids must be registered brokers. */
            for (int32_t p = 0; p < it->assignment.npartitions && it->err == SM_ERR_NONE; p++)
                for (int32_t k = 0; k < it->assignment.nreplicas[p]; k++) {
                    int found = 0;
                    for (int b = 0; b < nb; b++) found |= brokers[b] == it->assignment.replicas[p][k];
                    if (!found) {
                        it->err = SM_ERR_INVALID_REPLICA_ASSIGNMENT;
                        snprintf(it->msg, sizeof(it->msg), "Unknown broker id %d in replica assignment",
                                 it->assignment.replicas[p][k]);
                        break;
                    }
                }
        } else {
            int32_t start_broker = have && cur.npartitions > 0 ? cur.replicas[0][0] : -1;
            it->err = sm_zk_admin_assign(sm_srv.zk, it->partitions - first_new, rf, start_broker, first_new,
                                         &it->assignment, it->msg, sizeof(it->msg));
        }
        free(brokers);
        if (it->err != SM_ERR_NONE || j->validate_only) goto next;
        if (j->op == OP_CREATE) {
            it->err = sm_zk_admin_create_topic(sm_srv.zk, it->topic, &it->assignment, &it->configs, it->msg, sizeof(it->msg));
        } else {
            /* Full assignment = existing partitions + new ones. */
            full.npartitions = cur.npartitions + it->assignment.npartitions;
            full.nreplicas = sm_calloc((size_t)full.npartitions, sizeof(int32_t));
            full.replicas = sm_calloc((size_t)full.npartitions, sizeof(int32_t *));
            for (int32_t p = 0; p < full.npartitions; p++) {
                const sm_topic_assignment_t *src = p < cur.npartitions ? &cur : &it->assignment;
                int32_t sp = p < cur.npartitions ? p : p - cur.npartitions;
                full.nreplicas[p] = src->nreplicas[sp];
                full.replicas[p] = sm_malloc(sizeof(int32_t) * (size_t)(src->nreplicas[sp] ? src->nreplicas[sp] : 1));
                memcpy(full.replicas[p], src->replicas[sp], sizeof(int32_t) * (size_t)src->nreplicas[sp]);
            }
            it->err = sm_zk_admin_add_partitions(sm_srv.zk, it->topic, &full, it->msg, sizeof(it->msg));
            assignment_free(&full);
        }
        it->pending = it->err == SM_ERR_NONE;
    next:
        if (have) sm_topic_assignment_free(&cur);
    }
}

static admin_job_t *
job_new(admin_op_t op, sm_conn_t *c, const sm_req_hdr_t *h, int n, int32_t timeout_ms, int validate_only)
{
    admin_job_t *j = sm_calloc(1, sizeof(*j));
    j->op = op;
    j->conn = sm_conn_ref(c);
    j->hdr = *h;
    j->n = n;
    j->items = sm_calloc((size_t)(n ? n : 1), sizeof(admin_item_t));
    j->timeout_ms = timeout_ms;
    j->validate_only = validate_only;
    for (int i = 0; i < n; i++) sm_props_init(&j->items[i].configs);
    return j;
}

/* Common per-topic checks; returns 0 if the item may proceed. */
static int
check_topic(admin_job_t *j, int i, sm_bytes_t name, sm_arena_t *a)
{
    admin_item_t *it = &j->items[i];
    it->topic = sm_strdup(bytes_cstr(a, name) ? bytes_cstr(a, name) : "");
    if (!is_controller()) {
        it->err = SM_ERR_NOT_CONTROLLER;
        snprintf(it->msg, sizeof(it->msg), "This is not the correct controller for this cluster.");
        return -1;
    }
    for (int k = 0; k < i; k++)
        if (!strcmp(j->items[k].topic, it->topic)) {
            it->err = j->items[k].err = SM_ERR_INVALID_REQUEST;
            snprintf(it->msg, sizeof(it->msg), "Found multiple entries for topic %s", it->topic);
            return -1;
        }
    return 0;
}

void
sm_handle_CreateTopics(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_createtopics_req_t req;
    if (sm_proto_decode_CreateTopicsRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed CreateTopics request");
        return;
    }
    admin_job_t *j = job_new(OP_CREATE, c, h, req.n_topics, req.timeout_ms, req.validate_only);
    for (int32_t i = 0; i < req.n_topics; i++) {
        sm_createtopics_topic_t *t = &req.topics[i];
        admin_item_t *it = &j->items[i];
        if (check_topic(j, i, t->name, a) < 0) continue;
        if (!sm_topic_name_valid(it->topic, it->msg, sizeof(it->msg))) { it->err = SM_ERR_INVALID_TOPIC_EXCEPTION; continue; }
        it->partitions = t->num_partitions == -1 ? sm_srv.cfg.num_partitions : t->num_partitions;
        it->rf = t->replication_factor == -1 ? (int16_t)sm_srv.cfg.default_replication_factor : t->replication_factor;
        if (t->n_assignments > 0) {
            if (t->num_partitions != -1 || t->replication_factor != -1) {
                it->err = SM_ERR_INVALID_REQUEST;
                snprintf(it->msg, sizeof(it->msg), "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
                continue;
            }
            sm_topic_assignment_t *as = &it->assignment;
            as->npartitions = t->n_assignments;
            as->nreplicas = sm_calloc((size_t)t->n_assignments, sizeof(int32_t));
            as->replicas = sm_calloc((size_t)t->n_assignments, sizeof(int32_t *));
            for (int32_t p = 0; p < t->n_assignments; p++) {
                sm_createtopics_assignment_t *ra = &t->assignments[p];
                int32_t idx = ra->partition_index;
                if (idx < 0 || idx >= t->n_assignments || as->replicas[idx] || ra->n_broker_ids <= 0) {
                    it->err = SM_ERR_INVALID_REPLICA_ASSIGNMENT;
                    snprintf(it->msg, sizeof(it->msg), "Partitions should be a consecutive 0-based integer sequence");
                    break;
                }
                as->nreplicas[idx] = ra->n_broker_ids;
                as->replicas[idx] = sm_malloc(sizeof(int32_t) * (size_t)ra->n_broker_ids);
                memcpy(as->replicas[idx], ra->broker_ids, sizeof(int32_t) * (size_t)ra->n_broker_ids);
            }
            it->partitions = t->n_assignments;
            if (it->err) continue;
        } else if (it->partitions <= 0) {
            it->err = SM_ERR_INVALID_PARTITIONS;
            snprintf(it->msg, sizeof(it->msg), "Number of partitions must be larger than 0.");
            continue;
        } else if (it->rf <= 0) {
            it->err = SM_ERR_INVALID_REPLICATION_FACTOR;
            snprintf(it->msg, sizeof(it->msg), "Replication factor must be larger than 0.");
            continue;
        }
        sm_log_config_t probe;
        sm_log_config_defaults(&probe);
        for (int32_t k = 0; k < t->n_configs && !it->err; k++) {
            char *key = bytes_cstr(a, t->configs[k].name), *val = bytes_cstr(a, t->configs[k].value);
            if (!key || !val) { it->err = SM_ERR_INVALID_CONFIG; snprintf(it->msg, sizeof(it->msg), "Null value not supported for topic configs : %s", key ? key : ""); break; }
            int rc = sm_log_config_set(&probe, key, val, it->msg, sizeof(it->msg));
            if (rc == 0) { it->err = SM_ERR_INVALID_CONFIG; snprintf(it->msg, sizeof(it->msg), "Unknown topic config name: %s", key); }
            else if (rc < 0) it->err = SM_ERR_INVALID_CONFIG;
            else sm_props_set(&it->configs, key, val);
        }
    }
    sm_worker_submit(sm_srv.admin, job_work, job_done, sm_conn_base(c), j);
}

void
sm_handle_DeleteTopics(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_deletetopics_req_t req;
    if (sm_proto_decode_DeleteTopicsRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed DeleteTopics request");
        return;
    }
    admin_job_t *j = job_new(OP_DELETE, c, h, req.n_topic_names, req.timeout_ms, 0);
    for (int32_t i = 0; i < req.n_topic_names; i++) {
        admin_item_t *it = &j->items[i];
        if (check_topic(j, i, req.topic_names[i], a) < 0) continue;
        if (!sm_srv.cfg.delete_topic_enable) {
            it->err = h->api_version < 3 ? SM_ERR_CLUSTER_AUTHORIZATION_FAILED : SM_ERR_TOPIC_DELETION_DISABLED;
            continue;
        }
        sm_metadata_rdlock(sm_srv.metadata);
        int known = sm_metadata_topic(sm_srv.metadata, it->topic, strlen(it->topic)) != NULL;
        sm_metadata_unlock(sm_srv.metadata);
        if (!known) it->err = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    sm_worker_submit(sm_srv.admin, job_work, job_done, sm_conn_base(c), j);
}

void
sm_handle_CreatePartitions(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_createpartitions_req_t req;
    if (sm_proto_decode_CreatePartitionsRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed CreatePartitions request");
        return;
    }
    admin_job_t *j = job_new(OP_ADD_PARTITIONS, c, h, req.n_topics, req.timeout_ms, req.validate_only);
    for (int32_t i = 0; i < req.n_topics; i++) {
        sm_createpartitions_topic_t *t = &req.topics[i];
        admin_item_t *it = &j->items[i];
        if (check_topic(j, i, t->name, a) < 0) continue;
        it->partitions = t->count;
        if (t->n_assignments > 0) {
            sm_topic_assignment_t *as = &it->assignment;
            as->npartitions = t->n_assignments;
            as->nreplicas = sm_calloc((size_t)t->n_assignments, sizeof(int32_t));
            as->replicas = sm_calloc((size_t)t->n_assignments, sizeof(int32_t *));
            for (int32_t p = 0; p < t->n_assignments; p++) {
                int32_t n = t->assignments[p].n_broker_ids;
                as->nreplicas[p] = n;
                as->replicas[p] = sm_malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
                if (n > 0) memcpy(as->replicas[p], t->assignments[p].broker_ids, sizeof(int32_t) * (size_t)n);
            }
        }
    }
    sm_worker_submit(sm_srv.admin, job_work, job_done, sm_conn_base(c), j);
}

/* ---- DescribeConfigs ---- */

typedef struct {
    sm_conn_t *conn;
    sm_req_hdr_t hdr;
    sm_describeconfigs_req_t req;
    sm_props_t *overrides;           /* per resource (topics) */
    sm_err_t *errors;
} describe_job_t;

static void
describe_work(void *arg)
{
    describe_job_t *j = arg;
    for (int32_t i = 0; i < j->req.n_resources; i++) {
        sm_describeconfigs_resource_t *res = &j->req.resources[i];
        sm_props_init(&j->overrides[i]);
        if (res->resource_type != 2) continue;
        char topic[256];
        if (res->resource_name.len <= 0 || res->resource_name.len >= (int32_t)sizeof(topic)) {
            j->errors[i] = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        memcpy(topic, res->resource_name.ptr, (size_t)res->resource_name.len);
        topic[res->resource_name.len] = '\0';
        sm_topic_assignment_t as;
        int rc = sm_zk_admin_get_assignment(sm_srv.zk, topic, &as);
        if (rc != 0) { j->errors[i] = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION; continue; }
        sm_topic_assignment_free(&as);
        topic_overrides(topic, &j->overrides[i]);
    }
}

/* Topic-level keys reported by DescribeConfigs, with their broker-derived
 * defaults. */
static void
topic_default_value(const char *key, char *buf, size_t len)
{
    const sm_log_config_t *d = &sm_srv.cfg.log_defaults;
    buf[0] = '\0';
    if (!strcmp(key, "segment.bytes")) snprintf(buf, len, "%lld", (long long)d->segment_bytes);
    else if (!strcmp(key, "segment.ms")) snprintf(buf, len, "%lld", (long long)d->segment_ms);
    else if (!strcmp(key, "retention.ms")) snprintf(buf, len, "%lld", (long long)d->retention_ms);
    else if (!strcmp(key, "retention.bytes")) snprintf(buf, len, "%lld", (long long)d->retention_bytes);
    else if (!strcmp(key, "max.message.bytes")) snprintf(buf, len, "%d", d->max_message_bytes);
    else if (!strcmp(key, "index.interval.bytes")) snprintf(buf, len, "%d", d->index_interval_bytes);
    else if (!strcmp(key, "segment.index.bytes")) snprintf(buf, len, "%d", d->segment_index_bytes);
    else if (!strcmp(key, "flush.messages")) snprintf(buf, len, "%lld", (long long)d->flush_messages);
    else if (!strcmp(key, "flush.ms")) snprintf(buf, len, "%lld", (long long)d->flush_ms);
    else if (!strcmp(key, "message.timestamp.type")) snprintf(buf, len, "%s", d->message_timestamp_log_append ? "LogAppendTime" : "CreateTime");
    else if (!strcmp(key, "cleanup.policy")) snprintf(buf, len, "%s", sm_srv.cfg.log_cleanup_policy);
    else if (!strcmp(key, "min.insync.replicas")) snprintf(buf, len, "%d", sm_srv.cfg.min_insync_replicas);
    else if (!strcmp(key, "unclean.leader.election.enable")) snprintf(buf, len, "%s", sm_srv.cfg.unclean_leader_election_enable ? "true" : "false");
    else if (!strcmp(key, "compression.type")) snprintf(buf, len, "%s", sm_srv.cfg.compression_type);
}

static const char *topic_keys[] = {
    "cleanup.policy", "compression.type", "flush.messages", "flush.ms", "index.interval.bytes",
    "max.message.bytes", "message.timestamp.type", "min.insync.replicas", "retention.bytes", "retention.ms",
    "segment.bytes", "segment.index.bytes", "segment.ms", "unclean.leader.election.enable", NULL,
};

static int
key_wanted(const sm_describeconfigs_resource_t *res, const char *key)
{
    if (res->n_configuration_keys < 0) return 1;
    for (int32_t k = 0; k < res->n_configuration_keys; k++)
        if (sm_bytes_eq(res->configuration_keys[k], key)) return 1;
    return 0;
}

static void
describe_done(void *arg)
{
    describe_job_t *j = arg;
    sm_conn_t *c = j->conn;
    if (!sm_conn_closed(c)) {
        sm_arena_t *a = &((sm_conn_ctx_t *)sm_conn_data(c))->arena;
        sm_describeconfigs_resp_t resp = { 0 };
        resp.n_results = j->req.n_resources;
        resp.results = sm_arena_calloc(a, (size_t)(resp.n_results ? resp.n_results : 1), sizeof(*resp.results));
        for (int32_t i = 0; i < j->req.n_resources; i++) {
            sm_describeconfigs_resource_t *res = &j->req.resources[i];
            sm_describeconfigs_result_t *out = &resp.results[i];
            out->resource_type = res->resource_type;
            out->resource_name = res->resource_name;
            out->error_message = SM_BYTES_NULL;
            out->error_code = (int16_t)j->errors[i];
            if (out->error_code) continue;
            size_t cap = 128;
            out->configs = sm_arena_calloc(a, cap, sizeof(*out->configs));
            if (res->resource_type == 2) {
                sm_dyncfg_rdlock();   /* broker defaults and their sources */
                for (const char **k = topic_keys; *k; k++) {
                    if (!key_wanted(res, *k)) continue;
                    sm_describeconfigs_config_t *cf = &out->configs[out->n_configs++];
                    const char *ov = sm_props_get(&j->overrides[i], *k);
                    char *val = sm_arena_alloc(a, 64);
                    if (ov) snprintf(val, 64, "%s", ov); else topic_default_value(*k, val, 64);
                    cf->name = SM_BYTES_STR(*k);
                    cf->value = SM_BYTES_STR(val);
                    cf->config_source = (int8_t)(ov ? 1 /* DYNAMIC_TOPIC_CONFIG */ : sm_dyncfg_topic_default_source(*k));
                    cf->is_default = cf->config_source == 5 /* DEFAULT_CONFIG */;
                }
                sm_dyncfg_unlock();
                /* Overrides that are not in the list above (flush, custom). */
                for (size_t k = 0; k < j->overrides[i].n && out->n_configs < (int32_t)cap; k++) {
                    const char *key = j->overrides[i].items[k].key;
                    int listed = 0;
                    for (const char **t = topic_keys; *t; t++) listed |= !strcmp(*t, key);
                    if (listed || !key_wanted(res, key)) continue;
                    sm_describeconfigs_config_t *cf = &out->configs[out->n_configs++];
                    cf->name = SM_BYTES_STR(key);
                    cf->value = SM_BYTES_STR(j->overrides[i].items[k].value);
                    cf->config_source = 1;
                }
            } else if (res->resource_type == 4) {
                const char *msg = NULL;
                out->error_code = (int16_t)sm_dyncfg_describe_broker(res, j->req.include_synonyms, a, out, &msg);
                if (msg) out->error_message = SM_BYTES_STR(msg);
            } else {
                out->error_code = SM_ERR_INVALID_REQUEST;
                out->error_message = SM_BYTES_STR("Unsupported resource type");
            }
        }
        sm_resp_t *o = sm_response_start(&j->hdr);
        sm_proto_encode_DescribeConfigsResponse(sm_resp_wbuf(o), j->hdr.api_version, &resp);
        sm_conn_respond(c, o);
    }
    for (int32_t i = 0; i < j->req.n_resources; i++) sm_props_free(&j->overrides[i]);
    free(j->overrides);
    free(j->errors);
    sm_conn_unref(c);
    free(j);
}

void
sm_handle_DescribeConfigs(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    describe_job_t *j = sm_calloc(1, sizeof(*j));
    if (sm_proto_decode_DescribeConfigsRequest(r, h->api_version, a, &j->req) < 0) {
        free(j);
        sm_conn_close(c, "malformed DescribeConfigs request");
        return;
    }
    j->conn = sm_conn_ref(c);
    j->hdr = *h;
    j->overrides = sm_calloc((size_t)(j->req.n_resources ? j->req.n_resources : 1), sizeof(sm_props_t));
    j->errors = sm_calloc((size_t)(j->req.n_resources ? j->req.n_resources : 1), sizeof(sm_err_t));
    sm_worker_submit(sm_srv.admin, describe_work, describe_done, sm_conn_base(c), j);
}

/* ---- auto-creation ---- */

static void
auto_create_work(void *arg)
{
    char *topic = arg;
    sm_topic_assignment_t as = { 0 };
    char msg[256] = "";
    /* A broker whose metadata cache is not filled yet (just started) may be
     * asked about a topic that exists: nothing to create then. */
    if (sm_zk_admin_get_assignment(sm_srv.zk, topic, &as) == 0) {
        sm_topic_assignment_free(&as);
        free(topic);
        return;
    }
    sm_err_t err = sm_zk_admin_assign(sm_srv.zk, sm_srv.cfg.num_partitions, sm_srv.cfg.default_replication_factor,
                                      -1, 0, &as, msg, sizeof(msg));
    if (err == SM_ERR_NONE) {
        sm_props_t none;
        sm_props_init(&none);
        err = sm_zk_admin_create_topic(sm_srv.zk, topic, &as, &none, msg, sizeof(msg));
        if (err == SM_ERR_NONE)
            sm_log_info("samsa.server", "[KafkaApi-%d] Auto creation of topic %s with %d partitions and replication factor %d is successful",
                        sm_srv.cfg.broker_id, topic, sm_srv.cfg.num_partitions, sm_srv.cfg.default_replication_factor);
    }
    if (err != SM_ERR_NONE && err != SM_ERR_TOPIC_ALREADY_EXISTS)
        sm_log_warn("samsa.server", "[KafkaApi-%d] Auto creation of topic %s failed: %s %s", sm_srv.cfg.broker_id, topic,
                    sm_err_name(err), msg);
    sm_topic_assignment_free(&as);
    free(topic);
}

void
sm_auto_create_topic(const char *topic, size_t len)
{
    sm_worker_submit(sm_srv.admin, auto_create_work, NULL, NULL, sm_strndup(topic, len));
}

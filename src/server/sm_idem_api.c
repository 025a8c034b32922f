/*
 * sm_idem_api.c - InitProducerId (idempotent producers, no transactions)
 * and DeleteRecords.
 *
 * Producer ids come from blocks of 1000 claimed in ZooKeeper through
 * /latest_producer_id_block (Kafka's ProducerIdManager): the znode holds
 * the last block handed out, {"version":1,"broker":N,"block_start":"S",
 * "block_end":"E"} with both ends inclusive and as strings, and a broker
 * claims [E+1, E+1000] with a setData conditional on the znode version, so
 * two brokers never get the same block. While the current block lasts an
 * id is handed out on the network thread; claiming the next block is a
 * blocking ZooKeeper round trip and runs on the admin worker thread, and
 * the answer is sent from its completion.
 *
 * DeleteRecords advances each partition's log start offset on its leader
 * and answers at once with the leader's new low watermark.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper/zookeeper.h>
#include "core/sm_json.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "proto/sm_proto_interbroker.h"
#include "server/sm_server.h"
#include "zk/sm_zk.h"

#define LOGGER "samsa.coordinator.transaction"
#define PID_BLOCK_PATH "/latest_producer_id_block"
#define PID_BLOCK_SIZE 1000
#define PID_CLAIM_ATTEMPTS 20

/* The block this broker hands ids out of: [next, end]; empty if next > end. */
static pthread_mutex_t pid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t pid_next = 0, pid_end = -1;

static int
take_pid(int64_t *pid)
{
    int ok = 0;
    pthread_mutex_lock(&pid_lock);
    if (pid_next <= pid_end) {
        *pid = pid_next++;
        ok = 1;
    }
    pthread_mutex_unlock(&pid_lock);
    return ok;
}

/* Claim the next block in ZooKeeper (worker thread). 0 with [*start, *end]
 * or -1. Untrusted znode content is parsed with sm_json. */
static int
claim_block(int64_t *start, int64_t *end)
{
    if (!sm_srv.zk) return -1;
    for (int attempt = 0; attempt < PID_CLAIM_ATTEMPTS; attempt++) {
        char *data = NULL;
        int len = 0;
        struct Stat st;
        int rc = sm_zk_get(sm_srv.zk, PID_BLOCK_PATH, &data, &len, &st);
        int exists = rc == ZOK;
        if (rc != ZOK && rc != ZNONODE) {
            sm_log_error(LOGGER, "[ProducerIdManager brokerId=%d] Error reading %s: %s", sm_srv.cfg.broker_id,
                         PID_BLOCK_PATH, sm_zk_rc_name(rc));
            free(data);
            return -1;
        }
        int64_t s = 0;
        if (exists && data && len > 0) {
            char e[128];
            sm_json_t *j = sm_json_parse(data, (size_t)len, e, sizeof(e));
            int64_t prev_end, version;
            if (!j || sm_json_get_int(j, "version", &version) < 0 || version != 1 ||
                sm_json_int(sm_json_get(j, "block_end"), &prev_end) < 0 || prev_end < -1 ||
                prev_end > INT64_MAX - 2 * PID_BLOCK_SIZE) {
                sm_log_error(LOGGER, "[ProducerIdManager brokerId=%d] Invalid content of %s: %s", sm_srv.cfg.broker_id,
                             PID_BLOCK_PATH, data);
                sm_json_free(j);
                free(data);
                return -1;
            }
            sm_json_free(j);
            s = prev_end + 1;
        }
        free(data);
        int64_t e = s + PID_BLOCK_SIZE - 1;
        char *json = sm_asprintf("{\"version\":1,\"broker\":%d,\"block_start\":\"%lld\",\"block_end\":\"%lld\"}",
                                 sm_srv.cfg.broker_id, (long long)s, (long long)e);
        rc = exists ? sm_zk_set(sm_srv.zk, PID_BLOCK_PATH, json, (int)strlen(json), st.version, NULL)
                    : sm_zk_create(sm_srv.zk, PID_BLOCK_PATH, json, (int)strlen(json), 0, NULL, NULL);
        free(json);
        if (rc == ZOK) {
            sm_log_info(LOGGER, "[ProducerIdManager brokerId=%d] Acquired new producerId block "
                        "(brokerId:%d,blockStartProducerId:%lld,blockEndProducerId:%lld) by writing to Zk with path version %d",
                        sm_srv.cfg.broker_id, sm_srv.cfg.broker_id, (long long)s, (long long)e,
                        exists ? st.version + 1 : 0);
            *start = s;
            *end = e;
            return 0;
        }
        if (rc != ZBADVERSION && rc != ZNODEEXISTS) {
            sm_log_error(LOGGER, "[ProducerIdManager brokerId=%d] Error writing %s: %s", sm_srv.cfg.broker_id,
                         PID_BLOCK_PATH, sm_zk_rc_name(rc));
            return -1;
        }
        /* Another broker claimed a block in between: read again. */
    }
    return -1;
}

typedef struct {
    sm_conn_t *conn;
    sm_req_hdr_t hdr;
    sm_err_t err;
    int64_t pid;
} pid_job_t;

static void
respond_pid(sm_conn_t *c, const sm_req_hdr_t *h, sm_err_t err, int64_t pid)
{
    sm_initproducerid_resp_t resp = { 0, (int16_t)err, err == SM_ERR_NONE ? pid : -1, err == SM_ERR_NONE ? 0 : -1 };
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_InitProducerIdResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

/* Worker thread: jobs run one at a time, so only one claim is in flight;
 * a job queued behind a claim usually finds fresh ids without ZooKeeper. */
static void
pid_work(void *arg)
{
    pid_job_t *j = arg;
    if (take_pid(&j->pid)) return;
    int64_t s, e;
    if (claim_block(&s, &e) < 0) {
        j->err = SM_ERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    pthread_mutex_lock(&pid_lock);
    pid_next = s + 1;
    pid_end = e;
    pthread_mutex_unlock(&pid_lock);
    j->pid = s;
}

/* Network thread of the connection. */
static void
pid_done(void *arg)
{
    pid_job_t *j = arg;
    if (!sm_conn_closed(j->conn)) respond_pid(j->conn, &j->hdr, j->err, j->pid);
    sm_conn_unref(j->conn);
    free(j);
}

void
sm_handle_InitProducerId(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_initproducerid_req_t req;
    if (sm_proto_decode_InitProducerIdRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed InitProducerId request");
        return;
    }
    if (req.transactional_id.len >= 0) {
        /* No transaction coordinator: Kafka answers an empty id with
         * INVALID_REQUEST, and COORDINATOR_NOT_AVAILABLE while the
         * transaction state log is unavailable, which is what a broker
         * without one permanently is (retriable, so clients report a
         * timeout instead of a fatal authorization error). */
        respond_pid(c, h, req.transactional_id.len == 0 ? SM_ERR_INVALID_REQUEST : SM_ERR_COORDINATOR_NOT_AVAILABLE, -1);
        return;
    }
    int64_t pid;
    if (take_pid(&pid)) {
        respond_pid(c, h, SM_ERR_NONE, pid);
        return;
    }
    pid_job_t *j = sm_calloc(1, sizeof(*j));
    j->conn = sm_conn_ref(c);
    j->hdr = *h;
    j->err = SM_ERR_NONE;
    sm_worker_submit(sm_srv.admin, pid_work, pid_done, sm_conn_base(c), j);
}

/* ---- DeleteRecords ---- */

static sm_err_t
delete_records_partition(sm_bytes_t topic, int32_t partition, int64_t offset, int64_t *low_watermark)
{
    *low_watermark = -1;
    sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)topic.ptr, (size_t)topic.len, partition);
    if (!p) {
        sm_err_t err = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        sm_metadata_rdlock(sm_srv.metadata);
        sm_md_topic_t *t = sm_metadata_topic(sm_srv.metadata, (const char *)topic.ptr, (size_t)topic.len);
        if (t && partition >= 0 && partition < t->npartitions && t->partitions[partition].present)
            err = SM_ERR_NOT_LEADER_OR_FOLLOWER;
        sm_metadata_unlock(sm_srv.metadata);
        return err;
    }
    sm_err_t err = sm_replica_check_leader(p, NULL);
    if (err == SM_ERR_NONE) {
        int64_t hw = sm_plog_high_watermark(p->log);
        int64_t target = offset == -1 ? hw : offset;
        if (target < 0 || target > hw)
            err = SM_ERR_OFFSET_OUT_OF_RANGE;
        else
            err = sm_plog_set_log_start_offset(p->log, target);
        if (err == SM_ERR_NONE) *low_watermark = sm_plog_log_start_offset(p->log);
    }
    sm_partition_unref(p);
    return err;
}

void
sm_handle_DeleteRecords(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_deleterecords_req_t req;
    if (sm_proto_decode_DeleteRecordsRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed DeleteRecords request");
        return;
    }
    sm_deleterecords_resp_t resp = { 0, req.n_topics, NULL };
    resp.topics = sm_arena_calloc(a, (size_t)(req.n_topics > 0 ? req.n_topics : 1), sizeof(*resp.topics));
    for (int32_t t = 0; t < req.n_topics; t++) {
        const sm_dr_req_topic_t *rt = &req.topics[t];
        sm_dr_resp_topic_t *ot = &resp.topics[t];
        ot->name = rt->name;
        ot->n_partitions = rt->n_partitions;
        ot->partitions = sm_arena_calloc(a, (size_t)(rt->n_partitions > 0 ? rt->n_partitions : 1), sizeof(*ot->partitions));
        for (int32_t i = 0; i < rt->n_partitions; i++) {
            sm_dr_resp_part_t *op = &ot->partitions[i];
            op->partition_index = rt->partitions[i].partition_index;
            op->error_code = (int16_t)delete_records_partition(rt->name, op->partition_index, rt->partitions[i].offset,
                                                               &op->low_watermark);
        }
    }
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_DeleteRecordsResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

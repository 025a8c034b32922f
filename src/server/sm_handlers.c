/*
 * sm_handlers.c - request dispatch and the data-path handlers: ApiVersions,
 * Metadata, Produce, ListOffsets. Fetch lives in sm_fetch.c and the admin
 * APIs in sm_admin_api.c.
 *
 * Runs on network threads. A request is decoded with proto/, checked against
 * the replica manager and metadata cache, and answered in one response; the
 * connection stays muted until then, so responses leave in request order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "proto/sm_records.h"
#include "server/sm_convert.h"
#include "server/sm_server.h"
#include "zk/sm_zk_admin.h"

sm_resp_t *
sm_response_start(const sm_req_hdr_t *h)
{
    sm_resp_t *resp = sm_resp_new();
    sm_proto_encode_ResponseHeader(sm_resp_wbuf(resp), h->api_key, h->api_version, h->correlation_id);
    return resp;
}

static void
conn_ctx_free(void *p)
{
    sm_conn_ctx_t *ctx = p;
    sm_arena_free(&ctx->arena);
    free(ctx);
}

static void
malformed(sm_conn_t *c, const sm_req_hdr_t *h)
{
    char why[160];
    snprintf(why, sizeof(why), "malformed %s v%d request (correlation id %d)", sm_api_name(h->api_key), h->api_version,
             h->correlation_id);
    sm_conn_close(c, why);
}

static void handle_ApiVersions(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
static void handle_Metadata(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
static void handle_Produce(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);
static void handle_ListOffsets(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);

typedef void (*handler_fn)(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a);

/* What this broker implements, advertised exactly in ApiVersions: one line
 * per API (key, version range, handler). kafka-python infers the broker
 * version from these ranges, so they must stay self-consistent. */
static const struct {
    int16_t key, min, max;
    handler_fn fn;
} apis[] = {
    { SM_API_PRODUCE, 0, 7, handle_Produce },
    { SM_API_FETCH, 0, 11, sm_handle_Fetch },
    { SM_API_LISTOFFSETS, 0, 5, handle_ListOffsets },
    { SM_API_METADATA, 0, 8, handle_Metadata },
    { SM_API_APIVERSIONS, 0, 3, handle_ApiVersions },
    { SM_API_CREATETOPICS, 0, 4, sm_handle_CreateTopics },
    { SM_API_DELETETOPICS, 0, 3, sm_handle_DeleteTopics },
    { SM_API_DESCRIBECONFIGS, 0, 2, sm_handle_DescribeConfigs },
    { SM_API_ALTERCONFIGS, 0, 1, sm_handle_AlterConfigs },
    { SM_API_CREATEPARTITIONS, 0, 1, sm_handle_CreatePartitions },
    { SM_API_LEADERANDISR, 0, 4, sm_handle_LeaderAndIsr },
    { SM_API_STOPREPLICA, 0, 3, sm_handle_StopReplica },
    { SM_API_UPDATEMETADATA, 0, 6, sm_handle_UpdateMetadata },
    { SM_API_CONTROLLEDSHUTDOWN, 0, 3, sm_handle_ControlledShutdown },
    { SM_API_OFFSETFORLEADEREPOCH, 0, 3, sm_handle_OffsetForLeaderEpoch },
    { SM_API_FINDCOORDINATOR, 0, 2, sm_handle_FindCoordinator },
    { SM_API_JOINGROUP, 0, 5, sm_handle_JoinGroup },
    { SM_API_SYNCGROUP, 0, 3, sm_handle_SyncGroup },
    { SM_API_HEARTBEAT, 0, 3, sm_handle_Heartbeat },
    { SM_API_LEAVEGROUP, 0, 3, sm_handle_LeaveGroup },
    { SM_API_OFFSETCOMMIT, 0, 7, sm_handle_OffsetCommit },
    { SM_API_OFFSETFETCH, 0, 5, sm_handle_OffsetFetch },
    { SM_API_LISTGROUPS, 0, 2, sm_handle_ListGroups },
    { SM_API_INITPRODUCERID, 0, 1, sm_handle_InitProducerId },
    { SM_API_DELETERECORDS, 0, 1, sm_handle_DeleteRecords },
    { SM_API_DESCRIBEGROUPS, 0, 4, sm_handle_DescribeGroups },
    { SM_API_DELETEGROUPS, 0, 1, sm_handle_DeleteGroups },
    { SM_API_OFFSETDELETE, 0, 0, sm_handle_OffsetDelete },
    { SM_API_DESCRIBELOGDIRS, 0, 1, sm_handle_DescribeLogDirs },
};


/* ---- ApiVersions ---- */

static void
handle_ApiVersions(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_apiversions_req_t req;
    sm_apiversions_resp_t resp = { 0 };
    if (sm_proto_decode_ApiVersionsRequest(r, h->api_version, a, &req) < 0) { malformed(c, h); return; }
    sm_apiversion_t supported[SM_ARRAY_SIZE(apis)];
    for (size_t i = 0; i < SM_ARRAY_SIZE(apis); i++)
        supported[i] = (sm_apiversion_t){ apis[i].key, apis[i].min, apis[i].max };
    resp.n_api_keys = (int32_t)SM_ARRAY_SIZE(apis);
    resp.api_keys = supported;
    if (h->api_version >= 3 && (!sm_proto_apiversions_valid_name(req.client_software_name) ||
                                !sm_proto_apiversions_valid_name(req.client_software_version))) {
        resp.error_code = SM_ERR_INVALID_REQUEST;
        resp.n_api_keys = 0;
    }
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_ApiVersionsResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

/* ---- Metadata ---- */

static void
fill_partition(sm_metadata_part_t *mp, int32_t idx, const sm_md_partition_t *p, sm_arena_t *a)
{
    mp->partition_index = idx;
    mp->leader_id = p->leader;
    mp->leader_epoch = p->leader_epoch;
    mp->n_replicas = p->nreplicas;
    mp->replicas = p->replicas;
    mp->n_isr = p->nisr;
    mp->isr = p->isr;
    mp->offline = sm_arena_calloc(a, (size_t)(p->nreplicas ? p->nreplicas : 1), sizeof(int32_t));
    mp->n_offline = 0;
    for (int32_t i = 0; i < p->nreplicas; i++)
        if (!sm_metadata_broker(sm_srv.metadata, p->replicas[i])) mp->offline[mp->n_offline++] = p->replicas[i];
    mp->error_code = p->leader < 0 ? SM_ERR_LEADER_NOT_AVAILABLE : SM_ERR_NONE;
}

static void
fill_topic(sm_metadata_topic_t *mt, sm_md_topic_t *t, sm_arena_t *a)
{
    mt->error_code = SM_ERR_NONE;
    mt->name = (sm_bytes_t){ (int32_t)strlen(t->name), (const uint8_t *)t->name };
    mt->is_internal = (int8_t)t->internal;
    mt->topic_authorized_operations = INT32_MIN;
    mt->partitions = sm_arena_calloc(a, (size_t)(t->npartitions ? t->npartitions : 1), sizeof(*mt->partitions));
    mt->n_partitions = 0;
    for (int32_t i = 0; i < t->npartitions; i++)
        if (t->partitions[i].present) fill_partition(&mt->partitions[mt->n_partitions++], i, &t->partitions[i], a);
}

static void
handle_Metadata(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_metadata_req_t req;
    sm_metadata_resp_t resp = { 0 };
    if (sm_proto_decode_MetadataRequest(r, h->api_version, a, &req) < 0) { malformed(c, h); return; }
    int all = req.n_topics < 0 || (h->api_version == 0 && req.n_topics == 0);
    sm_metadata_t *md = sm_srv.metadata;

    sm_metadata_rdlock(md);
    resp.controller_id = md->controller_id;
    resp.cluster_id = md->cluster_id ? SM_BYTES_STR(md->cluster_id) : SM_BYTES_NULL;
    resp.cluster_authorized_operations = INT32_MIN;
    resp.n_brokers = md->nbrokers;
    resp.brokers = sm_arena_calloc(a, (size_t)(md->nbrokers ? md->nbrokers : 1), sizeof(*resp.brokers));
    for (int i = 0; i < md->nbrokers; i++) {
        resp.brokers[i].node_id = md->brokers[i].id;
        resp.brokers[i].host = SM_BYTES_STR(md->brokers[i].host);
        resp.brokers[i].port = md->brokers[i].port;
        resp.brokers[i].rack = md->brokers[i].rack ? SM_BYTES_STR(md->brokers[i].rack) : SM_BYTES_NULL;
    }
    if (all) {
        resp.topics = sm_arena_calloc(a, (size_t)(md->ntopics ? md->ntopics : 1), sizeof(*resp.topics));
        for (sm_md_topic_t *t = sm_metadata_next_topic(md, NULL); t; t = sm_metadata_next_topic(md, t))
            fill_topic(&resp.topics[resp.n_topics++], t, a);
    } else {
        resp.topics = sm_arena_calloc(a, (size_t)(req.n_topics ? req.n_topics : 1), sizeof(*resp.topics));
        for (int32_t i = 0; i < req.n_topics; i++) {
            sm_bytes_t name = req.topics[i];
            sm_metadata_topic_t *mt = &resp.topics[resp.n_topics++];
            sm_md_topic_t *t = sm_metadata_topic(md, (const char *)name.ptr, (size_t)name.len);
            if (t) { fill_topic(mt, t, a); continue; }
            mt->name = name;
            mt->topic_authorized_operations = INT32_MIN;
            char tname[256], err[128];
            int valid = name.len > 0 && name.len < (int32_t)sizeof(tname);
            if (valid) {
                memcpy(tname, name.ptr, (size_t)name.len);
                tname[name.len] = '\0';
                valid = sm_topic_name_valid(tname, err, sizeof(err));
            }
            int may_create = sm_srv.cfg.auto_create_topics_enable && (h->api_version < 4 || req.allow_auto_topic_creation);
            if (!valid) mt->error_code = SM_ERR_INVALID_TOPIC_EXCEPTION;
            else if (may_create) {
                mt->error_code = SM_ERR_LEADER_NOT_AVAILABLE;
                sm_auto_create_topic(tname, (size_t)name.len);
            } else mt->error_code = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_MetadataResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_metadata_unlock(md);
    sm_conn_respond(c, out);
}

/* ---- Produce ---- */

/* Error for a partition this broker does not host. */
static sm_err_t
not_hosted_error(sm_bytes_t topic, int32_t partition)
{
    sm_metadata_t *md = sm_srv.metadata;
    sm_err_t err = SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    sm_metadata_rdlock(md);
    sm_md_topic_t *t = sm_metadata_topic(md, (const char *)topic.ptr, (size_t)topic.len);
    if (t && partition >= 0 && partition < t->npartitions && t->partitions[partition].present)
        err = SM_ERR_NOT_LEADER_OR_FOLLOWER;
    sm_metadata_unlock(md);
    return err;
}

/* Validate and append one partition's records; fills the response entry. */
static sm_err_t
produce_partition(const sm_req_hdr_t *h, int acks, sm_bytes_t topic, const sm_produce_req_part_t *pp,
                  sm_produce_resp_part_t *out, int64_t *required, int32_t *epoch)
{
    out->index = pp->index;
    out->base_offset = -1;
    out->log_append_time_ms = -1;
    out->log_start_offset = -1;
    sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)topic.ptr, (size_t)topic.len, pp->index);
    if (!p) return not_hosted_error(topic, pp->index);

    sm_err_t err;
    sm_batch_hdr_t bh;
    sm_log_config_t cfg;
    sm_bytes_t rec = pp->records;
    uint8_t *converted = NULL;       /* legacy or recompressed data (sm_convert.c) */
    if (sm_replica_check_leader(p, NULL) != SM_ERR_NONE) { err = SM_ERR_NOT_LEADER_OR_FOLLOWER; goto done; }
    sm_topic_log_config(NULL, p->topic, &cfg, NULL);
    /* Produce v0-2 may carry magic 0/1 message sets: make them one v2 batch. */
    if (h->api_version <= 2 && (err = sm_convert_produce_legacy(&cfg, &rec, &converted)) != SM_ERR_NONE) goto done;
    /* Produce v3+: exactly one magic-2 batch that fills the records field. */
    if (rec.len < SM_BATCH_HEADER_SIZE || sm_batch_header_decode(rec.ptr, (size_t)rec.len, &bh) < 0 ||
        sm_batch_size(&bh) != (size_t)rec.len) {
        err = SM_ERR_CORRUPT_MESSAGE;
        goto done;
    }
    if (rec.len > cfg.max_message_bytes) { err = SM_ERR_MESSAGE_TOO_LARGE; goto done; }
    if (sm_batch_codec(&bh) == SM_CODEC_ZSTD && h->api_version < 7) { err = SM_ERR_UNSUPPORTED_COMPRESSION_TYPE; goto done; }
    if (bh.attributes & (SM_ATTR_CONTROL | SM_ATTR_TRANSACTIONAL)) { err = SM_ERR_INVALID_RECORD; goto done; }
    err = sm_batch_validate(rec.ptr, (size_t)rec.len, sm_convert_max_uncompressed(&cfg), &bh);
    if (err != SM_ERR_NONE) goto done;
    /* LogValidator.validateKey: a compacted topic needs a key on every record. */
    if (cfg.cleanup_compact && (err = sm_cleaner_check_keys(rec.ptr, (size_t)rec.len, sm_convert_max_uncompressed(&cfg))) != SM_ERR_NONE) goto done;
    if ((err = sm_convert_topic_policy(&cfg, &rec, &converted, sm_now_ms())) != SM_ERR_NONE) goto done;

    sm_produce_result_t res;
    err = sm_replica_append(sm_srv.replicas, p, sm_bytes_mut(rec), (size_t)rec.len, acks, &res);
    if (err == SM_ERR_NONE) {
        out->base_offset = res.base_offset;
        out->log_append_time_ms = res.log_append_time;
        out->log_start_offset = res.log_start_offset;
        if (acks == -1) { *required = res.last_offset + 1; *epoch = res.leader_epoch; }   /* replication wait */
        sm_metrics_produce(p->topic, 0, (uint64_t)(res.last_offset - res.base_offset + 1), (uint64_t)rec.len);
    }
done:
    if (err != SM_ERR_NONE) sm_metrics_produce(p->topic, err, 0, 0);
    if (err != SM_ERR_NONE && err != SM_ERR_NOT_LEADER_OR_FOLLOWER)
        sm_log_debug("samsa.server", "[ReplicaManager broker=%d] Error processing append operation on partition %.*s-%d: %s",
                     sm_srv.cfg.broker_id, topic.len, topic.ptr, pp->index, sm_err_name(err));
    free(converted);
    sm_partition_unref(p);
    return err;
}

static void
handle_Produce(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_produce_req_t req;
    sm_produce_resp_t resp = { 0 };
    if (sm_proto_decode_ProduceRequest(r, h->api_version, a, &req) < 0) { malformed(c, h); return; }
    int acks = req.acks, failed = 0;
    resp.n_topics = req.n_topics;
    resp.topics = sm_arena_calloc(a, (size_t)(req.n_topics ? req.n_topics : 1), sizeof(*resp.topics));
    int32_t nparts = 0, k = 0;
    for (int32_t t = 0; t < req.n_topics; t++) nparts += req.topics[t].n_partitions;
    int64_t *required = sm_arena_alloc(a, sizeof(int64_t) * (size_t)(nparts ? nparts : 1));
    int32_t *epochs = sm_arena_alloc(a, sizeof(int32_t) * (size_t)(nparts ? nparts : 1));
    for (int32_t t = 0; t < req.n_topics; t++) {
        sm_produce_req_topic_t *rt = &req.topics[t];
        sm_produce_resp_topic_t *ot = &resp.topics[t];
        ot->name = rt->name;
        ot->n_partitions = rt->n_partitions;
        ot->partitions = sm_arena_calloc(a, (size_t)(rt->n_partitions ? rt->n_partitions : 1), sizeof(*ot->partitions));
        for (int32_t i = 0; i < rt->n_partitions; i++, k++) {
            sm_err_t err;
            required[k] = -1;
            if (acks != -1 && acks != 0 && acks != 1) {
                err = SM_ERR_INVALID_REQUIRED_ACKS;
                ot->partitions[i].index = rt->partitions[i].index;
                ot->partitions[i].base_offset = -1;
                ot->partitions[i].log_append_time_ms = -1;
                ot->partitions[i].log_start_offset = -1;
            } else {
                err = produce_partition(h, acks, rt->name, &rt->partitions[i], &ot->partitions[i], &required[k], &epochs[k]);
            }
            ot->partitions[i].error_code = (int16_t)err;
            if (err != SM_ERR_NONE) failed = 1;
        }
    }
    if (acks == 0) {
        /* No response for acks=0; on failure close the connection so the
         * producer refreshes its metadata (Kafka's behaviour). */
        if (failed) sm_conn_close(c, "acks=0 produce failed for at least one partition");
        else sm_conn_no_response(c);
        return;
    }
    /* acks=all: answer once the ISR has every appended batch. */
    if (acks == -1 && sm_produce_delay(c, h, req.timeout_ms, &resp, required, epochs)) return;
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_ProduceResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

/* ---- ListOffsets ---- */

static void
list_offset(int32_t replica_id, int8_t isolation, sm_bytes_t topic, const sm_listoffsets_req_part_t *rp,
            sm_listoffsets_resp_part_t *op)
{
    op->partition_index = rp->partition_index;
    op->timestamp = -1;
    op->offset = -1;
    op->leader_epoch = -1;
    sm_partition_t *p = sm_replica_get(sm_srv.replicas, (const char *)topic.ptr, (size_t)topic.len, rp->partition_index);
    if (!p) { op->error_code = (int16_t)not_hosted_error(topic, rp->partition_index); return; }
    int32_t epoch;
    sm_err_t err = sm_replica_check_leader(p, &epoch);
    if (err == SM_ERR_NONE && rp->current_leader_epoch >= 0 && rp->current_leader_epoch != epoch)
        err = rp->current_leader_epoch < epoch ? SM_ERR_FENCED_LEADER_EPOCH : SM_ERR_UNKNOWN_LEADER_EPOCH;
    if (err == SM_ERR_NONE) {
        int64_t hw = sm_plog_high_watermark(p->log);
        if (rp->timestamp == -1) {            /* LATEST */
            op->offset = replica_id >= 0 ? sm_plog_log_end_offset(p->log) : hw;
            op->leader_epoch = epoch;
        } else if (rp->timestamp == -2) {     /* EARLIEST */
            op->offset = sm_plog_log_start_offset(p->log);
        } else if (rp->timestamp == -3) {     /* MAX_TIMESTAMP (KIP-734) */
            int64_t off, ts;
            if (sm_plog_max_timestamp(p->log, &off, &ts) == 0) { op->offset = off; op->timestamp = ts; }
        } else if (rp->timestamp >= 0) {
            int64_t off, ts;
            if (sm_plog_offset_for_timestamp(p->log, rp->timestamp, &off, &ts) == 0 && (replica_id >= 0 || off < hw)) {
                op->offset = off;
                op->timestamp = ts;
            }
        } else {
            err = SM_ERR_INVALID_REQUEST;
        }
    }
    (void)isolation;   /* no transactions yet: LSO == HW */
    op->error_code = (int16_t)err;
    sm_partition_unref(p);
}

static void
handle_ListOffsets(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_listoffsets_req_t req;
    sm_listoffsets_resp_t resp = { 0 };
    if (sm_proto_decode_ListOffsetsRequest(r, h->api_version, a, &req) < 0) { malformed(c, h); return; }
    resp.n_topics = req.n_topics;
    resp.topics = sm_arena_calloc(a, (size_t)(req.n_topics ? req.n_topics : 1), sizeof(*resp.topics));
    for (int32_t t = 0; t < req.n_topics; t++) {
        resp.topics[t].name = req.topics[t].name;
        resp.topics[t].n_partitions = req.topics[t].n_partitions;
        resp.topics[t].partitions = sm_arena_calloc(a, (size_t)(req.topics[t].n_partitions ? req.topics[t].n_partitions : 1),
                                                    sizeof(sm_listoffsets_resp_part_t));
        for (int32_t i = 0; i < req.topics[t].n_partitions; i++)
            list_offset(req.replica_id, req.isolation_level, req.topics[t].name, &req.topics[t].partitions[i],
                        &resp.topics[t].partitions[i]);
        if (h->api_version == 0)
            for (int32_t i = 0; i < req.topics[t].n_partitions; i++)
                sm_convert_listoffsets_v0(&req.topics[t].partitions[i], &resp.topics[t].partitions[i], a);
    }
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_ListOffsetsResponse(sm_resp_wbuf(out), h->api_version, &resp);
    sm_conn_respond(c, out);
}

/* ---- dispatch ---- */

static int
find_api(int16_t key)
{
    for (size_t i = 0; i < SM_ARRAY_SIZE(apis); i++)
        if (apis[i].key == key) return (int)i;
    return -1;
}

void
sm_handle_request(sm_conn_t *c, const uint8_t *frame, size_t len, void *opaque)
{
    sm_reader_t r;
    sm_req_hdr_t h;
    sm_reader_init(&r, frame, len);
    if (sm_proto_decode_RequestHeader(&r, &h) < 0) {
        sm_conn_close(c, "malformed request header");
        return;
    }
    sm_conn_ctx_t *ctx = sm_conn_data(c);
    if (!ctx) {
        ctx = sm_calloc(1, sizeof(*ctx));
        sm_arena_init(&ctx->arena, 16384);
        sm_conn_set_data(c, ctx, conn_ctx_free);
    }
    sm_arena_reset(&ctx->arena);
    sm_metrics_request_begin(&ctx->metrics, h.api_key, h.api_version, r.pos, sm_reader_remaining(&r));

    int i = find_api(h.api_key);
    if (h.api_key == SM_API_APIVERSIONS && i >= 0 && h.api_version > apis[i].max) {
        /* KIP-511: answer in v0 format without parsing the body. */
        sm_resp_t *out = sm_resp_new();
        sm_write_i32(sm_resp_wbuf(out), h.correlation_id);
        sm_proto_encode_ApiVersionsResponse_unsupported(sm_resp_wbuf(out), apis[i].min, apis[i].max);
        sm_conn_respond(c, out);
        return;
    }
    if (i < 0 || h.api_version < apis[i].min || h.api_version > apis[i].max) {
        char why[160];
        snprintf(why, sizeof(why), "unsupported API %s (key %d) version %d", sm_api_name(h.api_key), h.api_key,
                 h.api_version);
        sm_conn_close(c, why);
        return;
    }
    apis[i].fn(c, &h, &r, &ctx->arena);
}

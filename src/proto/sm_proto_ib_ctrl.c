/*
 * sm_proto_ib_ctrl.c - codecs of the controller-to-broker requests and the
 * broker-to-controller ControlledShutdown: LeaderAndIsr (4) v0-4,
 * StopReplica (5) v0-3, UpdateMetadata (6) v0-6, ControlledShutdown (7)
 * v0-3. See sm_proto_interbroker.h for the grouped-by-topic presentation of
 * the old "ungrouped" layouts.
 */
#include "proto/sm_proto_interbroker.h"

#include <stdint.h>

/* ---- shared ---- */

static void
write_part_errors(sm_wbuf_t *w, int flex, int32_t n, const sm_ib_part_error_t *v)
{
    sm_proto_write_array_len(w, flex, 0, n);
    for (int32_t i = 0; i < n; i++) {
        sm_write_string(w, v[i].topic, flex);
        sm_write_i32(w, v[i].partition);
        sm_write_i16(w, v[i].error_code);
        sm_proto_write_tags(w, flex);
    }
}

static sm_ib_part_error_t *
read_part_errors(sm_reader_t *r, sm_arena_t *a, int flex, int32_t *n)
{
    sm_ib_part_error_t *v = sm_proto_read_array(r, a, flex, 0, flex ? 8 : 8, sizeof(*v), n);
    for (int32_t i = 0; i < *n && !r->err; i++) {
        v[i].topic = sm_read_string(r, flex);
        v[i].partition = sm_read_i32(r);
        v[i].error_code = sm_read_i16(r);
        sm_proto_read_tags(r, flex);
    }
    return v;
}

/* Ungrouped layouts: read `count` partitions that each carry a topic name
 * into one topic entry per partition. The caller reads the count; each
 * element is read by read_one(r, topic, part) after the name. */
static int32_t
total_partitions(int32_t n_topics, const void *topics, size_t topic_size, size_t n_off)
{
    int32_t total = 0;
    for (int32_t i = 0; i < n_topics; i++) {
        int32_t n = *(const int32_t *)((const char *)topics + (size_t)i * topic_size + n_off);
        if (n > 0) total += n;
    }
    return total;
}

/* ---------------------------------------------------------------------- */
/* LeaderAndIsr                                                           */

static void
lai_read_part(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, sm_lai_part_t *p)
{
    p->partition_index = sm_read_i32(r);
    p->controller_epoch = sm_read_i32(r);
    p->leader = sm_read_i32(r);
    p->leader_epoch = sm_read_i32(r);
    p->isr = sm_proto_read_i32_array(r, a, flex, 0, &p->n_isr);
    p->zk_version = sm_read_i32(r);
    p->replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_replicas);
    if (ver >= 3) {
        p->adding_replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_adding_replicas);
        p->removing_replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_removing_replicas);
    }
    if (ver >= 1) p->is_new = sm_proto_read_bool(r);
    sm_proto_read_tags(r, flex);
}

static void
lai_write_part(sm_wbuf_t *w, int16_t ver, int flex, sm_bytes_t topic, const sm_lai_part_t *p)
{
    if (ver <= 1) sm_write_string(w, topic, flex);
    sm_write_i32(w, p->partition_index);
    sm_write_i32(w, p->controller_epoch);
    sm_write_i32(w, p->leader);
    sm_write_i32(w, p->leader_epoch);
    sm_proto_write_i32_array(w, flex, 0, p->n_isr, p->isr);
    sm_write_i32(w, p->zk_version);
    sm_proto_write_i32_array(w, flex, 0, p->n_replicas, p->replicas);
    if (ver >= 3) {
        sm_proto_write_i32_array(w, flex, 0, p->n_adding_replicas, p->adding_replicas);
        sm_proto_write_i32_array(w, flex, 0, p->n_removing_replicas, p->removing_replicas);
    }
    if (ver >= 1) sm_write_i8(w, p->is_new ? 1 : 0);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_LeaderAndIsrRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leaderandisr_req_t *out)
{
    *out = (sm_leaderandisr_req_t){ 0 };
    out->broker_epoch = -1;
    if (!sm_proto_codec_supports(SM_API_LEADERANDISR, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_LEADERANDISR, ver);
    out->controller_id = sm_read_i32(r);
    out->controller_epoch = sm_read_i32(r);
    if (ver >= 2) out->broker_epoch = sm_read_i64(r);
    if (ver <= 1) {
        int32_t n;
        /* name(2) + 4 int32 + isr(4) + zk(4) + replicas(4) */
        sm_lai_part_t *parts = sm_proto_read_array(r, a, flex, 0, 30, sizeof(*parts), &n);
        if (n > 0) out->topics = sm_arena_calloc(a, (size_t)n, sizeof(*out->topics));
        out->n_topics = n;
        for (int32_t i = 0; i < n && !r->err; i++) {
            out->topics[i].topic = sm_read_string(r, flex);
            out->topics[i].n_partitions = 1;
            out->topics[i].partitions = &parts[i];
            lai_read_part(r, a, ver, flex, &parts[i]);
        }
    } else {
        out->topics = sm_proto_read_array(r, a, flex, 0, flex ? 2 : 6, sizeof(*out->topics), &out->n_topics);
        for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
            sm_lai_topic_t *t = &out->topics[i];
            t->topic = sm_read_string(r, flex);
            t->partitions = sm_proto_read_array(r, a, flex, 0, flex ? 20 : 28, sizeof(*t->partitions), &t->n_partitions);
            for (int32_t j = 0; j < t->n_partitions && !r->err; j++) lai_read_part(r, a, ver, flex, &t->partitions[j]);
            sm_proto_read_tags(r, flex);
        }
    }
    out->live_leaders = sm_proto_read_array(r, a, flex, 0, flex ? 9 : 10, sizeof(*out->live_leaders),
                                            &out->n_live_leaders);
    for (int32_t i = 0; i < out->n_live_leaders && !r->err; i++) {
        out->live_leaders[i].broker_id = sm_read_i32(r);
        out->live_leaders[i].host = sm_read_string(r, flex);
        out->live_leaders[i].port = sm_read_i32(r);
        sm_proto_read_tags(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_LEADERANDISR, ver);
}

void
sm_proto_encode_LeaderAndIsrRequest(sm_wbuf_t *w, int16_t ver, const sm_leaderandisr_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_LEADERANDISR, ver);
    sm_write_i32(w, in->controller_id);
    sm_write_i32(w, in->controller_epoch);
    if (ver >= 2) sm_write_i64(w, in->broker_epoch);
    if (ver <= 1) {
        int32_t total = total_partitions(in->n_topics, in->topics, sizeof(*in->topics),
                                         offsetof(sm_lai_topic_t, n_partitions));
        sm_proto_write_array_len(w, flex, 0, total);
        for (int32_t i = 0; i < in->n_topics; i++)
            for (int32_t j = 0; j < in->topics[i].n_partitions; j++)
                lai_write_part(w, ver, flex, in->topics[i].topic, &in->topics[i].partitions[j]);
    } else {
        sm_proto_write_array_len(w, flex, 0, in->n_topics);
        for (int32_t i = 0; i < in->n_topics; i++) {
            const sm_lai_topic_t *t = &in->topics[i];
            sm_write_string(w, t->topic, flex);
            sm_proto_write_array_len(w, flex, 0, t->n_partitions);
            for (int32_t j = 0; j < t->n_partitions; j++) lai_write_part(w, ver, flex, t->topic, &t->partitions[j]);
            sm_proto_write_tags(w, flex);
        }
    }
    sm_proto_write_array_len(w, flex, 0, in->n_live_leaders);
    for (int32_t i = 0; i < in->n_live_leaders; i++) {
        sm_write_i32(w, in->live_leaders[i].broker_id);
        sm_write_string(w, in->live_leaders[i].host, flex);
        sm_write_i32(w, in->live_leaders[i].port);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_LeaderAndIsrResponse(sm_wbuf_t *w, int16_t ver, const sm_leaderandisr_resp_t *in)
{
    int flex = sm_api_is_flexible(SM_API_LEADERANDISR, ver);
    sm_write_i16(w, in->error_code);
    write_part_errors(w, flex, in->n_partition_errors, in->partition_errors);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_LeaderAndIsrResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leaderandisr_resp_t *out)
{
    *out = (sm_leaderandisr_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_LEADERANDISR, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_LEADERANDISR, ver);
    out->error_code = sm_read_i16(r);
    out->partition_errors = read_part_errors(r, a, flex, &out->n_partition_errors);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_LEADERANDISR, ver);
}

/* ---------------------------------------------------------------------- */
/* UpdateMetadata                                                         */

static void
um_read_part(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, sm_um_part_t *p)
{
    p->partition_index = sm_read_i32(r);
    p->controller_epoch = sm_read_i32(r);
    p->leader = sm_read_i32(r);
    p->leader_epoch = sm_read_i32(r);
    p->isr = sm_proto_read_i32_array(r, a, flex, 0, &p->n_isr);
    p->zk_version = sm_read_i32(r);
    p->replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_replicas);
    if (ver >= 4) p->offline_replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_offline_replicas);
    sm_proto_read_tags(r, flex);
}

static void
um_write_part(sm_wbuf_t *w, int16_t ver, int flex, sm_bytes_t topic, const sm_um_part_t *p)
{
    if (ver <= 4) sm_write_string(w, topic, flex);
    sm_write_i32(w, p->partition_index);
    sm_write_i32(w, p->controller_epoch);
    sm_write_i32(w, p->leader);
    sm_write_i32(w, p->leader_epoch);
    sm_proto_write_i32_array(w, flex, 0, p->n_isr, p->isr);
    sm_write_i32(w, p->zk_version);
    sm_proto_write_i32_array(w, flex, 0, p->n_replicas, p->replicas);
    if (ver >= 4) sm_proto_write_i32_array(w, flex, 0, p->n_offline_replicas, p->offline_replicas);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_UpdateMetadataRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_updatemetadata_req_t *out)
{
    *out = (sm_updatemetadata_req_t){ 0 };
    out->broker_epoch = -1;
    if (!sm_proto_codec_supports(SM_API_UPDATEMETADATA, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    out->controller_id = sm_read_i32(r);
    out->controller_epoch = sm_read_i32(r);
    if (ver >= 5) out->broker_epoch = sm_read_i64(r);
    if (ver <= 4) {
        int32_t n;
        sm_um_part_t *parts = sm_proto_read_array(r, a, flex, 0, 30, sizeof(*parts), &n);
        if (n > 0) out->topics = sm_arena_calloc(a, (size_t)n, sizeof(*out->topics));
        out->n_topics = n;
        for (int32_t i = 0; i < n && !r->err; i++) {
            out->topics[i].topic = sm_read_string(r, flex);
            out->topics[i].n_partitions = 1;
            out->topics[i].partitions = &parts[i];
            um_read_part(r, a, ver, flex, &parts[i]);
        }
    } else {
        out->topics = sm_proto_read_array(r, a, flex, 0, flex ? 2 : 6, sizeof(*out->topics), &out->n_topics);
        for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
            sm_um_topic_t *t = &out->topics[i];
            t->topic = sm_read_string(r, flex);
            t->partitions = sm_proto_read_array(r, a, flex, 0, flex ? 20 : 28, sizeof(*t->partitions), &t->n_partitions);
            for (int32_t j = 0; j < t->n_partitions && !r->err; j++) um_read_part(r, a, ver, flex, &t->partitions[j]);
            sm_proto_read_tags(r, flex);
        }
    }
    out->live_brokers = sm_proto_read_array(r, a, flex, 0, flex ? 6 : 8, sizeof(*out->live_brokers),
                                            &out->n_live_brokers);
    for (int32_t i = 0; i < out->n_live_brokers && !r->err; i++) {
        sm_um_broker_t *b = &out->live_brokers[i];
        b->id = sm_read_i32(r);
        b->rack = SM_BYTES_NULL;
        if (ver == 0) {
            b->n_endpoints = 1;
            b->endpoints = sm_arena_calloc(a, 1, sizeof(*b->endpoints));
            b->endpoints[0].host = sm_read_string(r, flex);
            b->endpoints[0].port = sm_read_i32(r);
            b->endpoints[0].listener = (sm_bytes_t){ 0, (const uint8_t *)"" };
        } else {
            b->endpoints = sm_proto_read_array(r, a, flex, 0, flex ? 8 : 8, sizeof(*b->endpoints), &b->n_endpoints);
            for (int32_t j = 0; j < b->n_endpoints && !r->err; j++) {
                sm_um_endpoint_t *e = &b->endpoints[j];
                e->port = sm_read_i32(r);
                e->host = sm_read_string(r, flex);
                e->listener = ver >= 3 ? sm_read_string(r, flex) : (sm_bytes_t){ 0, (const uint8_t *)"" };
                e->security_protocol = sm_read_i16(r);
                sm_proto_read_tags(r, flex);
            }
        }
        if (ver >= 2) b->rack = sm_read_nullable_string(r, flex);
        sm_proto_read_tags(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_UPDATEMETADATA, ver);
}

void
sm_proto_encode_UpdateMetadataRequest(sm_wbuf_t *w, int16_t ver, const sm_updatemetadata_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    sm_write_i32(w, in->controller_id);
    sm_write_i32(w, in->controller_epoch);
    if (ver >= 5) sm_write_i64(w, in->broker_epoch);
    if (ver <= 4) {
        int32_t total = total_partitions(in->n_topics, in->topics, sizeof(*in->topics),
                                         offsetof(sm_um_topic_t, n_partitions));
        sm_proto_write_array_len(w, flex, 0, total);
        for (int32_t i = 0; i < in->n_topics; i++)
            for (int32_t j = 0; j < in->topics[i].n_partitions; j++)
                um_write_part(w, ver, flex, in->topics[i].topic, &in->topics[i].partitions[j]);
    } else {
        sm_proto_write_array_len(w, flex, 0, in->n_topics);
        for (int32_t i = 0; i < in->n_topics; i++) {
            const sm_um_topic_t *t = &in->topics[i];
            sm_write_string(w, t->topic, flex);
            sm_proto_write_array_len(w, flex, 0, t->n_partitions);
            for (int32_t j = 0; j < t->n_partitions; j++) um_write_part(w, ver, flex, t->topic, &t->partitions[j]);
            sm_proto_write_tags(w, flex);
        }
    }
    sm_proto_write_array_len(w, flex, 0, in->n_live_brokers);
    for (int32_t i = 0; i < in->n_live_brokers; i++) {
        const sm_um_broker_t *b = &in->live_brokers[i];
        sm_write_i32(w, b->id);
        if (ver == 0) {
            if (b->n_endpoints > 0) {
                sm_write_string(w, b->endpoints[0].host, flex);
                sm_write_i32(w, b->endpoints[0].port);
            } else {
                sm_write_string(w, (sm_bytes_t){ 0, (const uint8_t *)"" }, flex);
                sm_write_i32(w, -1);
            }
        } else {
            sm_proto_write_array_len(w, flex, 0, b->n_endpoints);
            for (int32_t j = 0; j < b->n_endpoints; j++) {
                const sm_um_endpoint_t *e = &b->endpoints[j];
                sm_write_i32(w, e->port);
                sm_write_string(w, e->host, flex);
                if (ver >= 3) sm_write_string(w, e->listener.len < 0 ? (sm_bytes_t){ 0, (const uint8_t *)"" } : e->listener, flex);
                sm_write_i16(w, e->security_protocol);
                sm_proto_write_tags(w, flex);
            }
        }
        if (ver >= 2) sm_write_string(w, b->rack, flex);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_UpdateMetadataResponse(sm_wbuf_t *w, int16_t ver, const sm_updatemetadata_resp_t *in)
{
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    sm_write_i16(w, in->error_code);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_UpdateMetadataResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_updatemetadata_resp_t *out)
{
    (void)a;
    out->error_code = 0;
    if (!sm_proto_codec_supports(SM_API_UPDATEMETADATA, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    out->error_code = sm_read_i16(r);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_UPDATEMETADATA, ver);
}

/* ---------------------------------------------------------------------- */
/* StopReplica                                                            */

int
sm_proto_decode_StopReplicaRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_stopreplica_req_t *out)
{
    *out = (sm_stopreplica_req_t){ 0 };
    out->broker_epoch = -1;
    if (!sm_proto_codec_supports(SM_API_STOPREPLICA, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_STOPREPLICA, ver);
    out->controller_id = sm_read_i32(r);
    out->controller_epoch = sm_read_i32(r);
    if (ver >= 1) out->broker_epoch = sm_read_i64(r);
    if (ver <= 2) out->delete_partitions = sm_proto_read_bool(r);
    if (ver == 0) {
        int32_t n;
        sm_sr_part_t *parts = sm_proto_read_array(r, a, flex, 0, 6, sizeof(*parts), &n);
        if (n > 0) out->topics = sm_arena_calloc(a, (size_t)n, sizeof(*out->topics));
        out->n_topics = n;
        for (int32_t i = 0; i < n && !r->err; i++) {
            out->topics[i].topic = sm_read_string(r, flex);
            out->topics[i].n_partitions = 1;
            out->topics[i].partitions = &parts[i];
            parts[i].partition_index = sm_read_i32(r);
            parts[i].leader_epoch = -1;
            parts[i].delete_partition = out->delete_partitions;
        }
    } else {
        out->topics = sm_proto_read_array(r, a, flex, 0, flex ? 2 : 6, sizeof(*out->topics), &out->n_topics);
        for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
            sm_sr_topic_t *t = &out->topics[i];
            t->topic = sm_read_string(r, flex);
            if (ver <= 2) {
                int32_t n;
                int32_t *idx = sm_proto_read_i32_array(r, a, flex, 0, &n);
                if (n > 0) t->partitions = sm_arena_calloc(a, (size_t)n, sizeof(*t->partitions));
                t->n_partitions = n;
                for (int32_t j = 0; j < n && !r->err; j++) {
                    t->partitions[j].partition_index = idx[j];
                    t->partitions[j].leader_epoch = -1;
                    t->partitions[j].delete_partition = out->delete_partitions;
                }
            } else {
                t->partitions = sm_proto_read_array(r, a, flex, 0, 10, sizeof(*t->partitions), &t->n_partitions);
                for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
                    t->partitions[j].partition_index = sm_read_i32(r);
                    t->partitions[j].leader_epoch = sm_read_i32(r);
                    t->partitions[j].delete_partition = sm_proto_read_bool(r);
                    sm_proto_read_tags(r, flex);
                }
            }
            sm_proto_read_tags(r, flex);
        }
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_STOPREPLICA, ver);
}

void
sm_proto_encode_StopReplicaRequest(sm_wbuf_t *w, int16_t ver, const sm_stopreplica_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_STOPREPLICA, ver);
    sm_write_i32(w, in->controller_id);
    sm_write_i32(w, in->controller_epoch);
    if (ver >= 1) sm_write_i64(w, in->broker_epoch);
    if (ver <= 2) sm_write_i8(w, in->delete_partitions ? 1 : 0);
    if (ver == 0) {
        int32_t total = total_partitions(in->n_topics, in->topics, sizeof(*in->topics),
                                         offsetof(sm_sr_topic_t, n_partitions));
        sm_proto_write_array_len(w, flex, 0, total);
        for (int32_t i = 0; i < in->n_topics; i++)
            for (int32_t j = 0; j < in->topics[i].n_partitions; j++) {
                sm_write_string(w, in->topics[i].topic, flex);
                sm_write_i32(w, in->topics[i].partitions[j].partition_index);
            }
    } else {
        sm_proto_write_array_len(w, flex, 0, in->n_topics);
        for (int32_t i = 0; i < in->n_topics; i++) {
            const sm_sr_topic_t *t = &in->topics[i];
            sm_write_string(w, t->topic, flex);
            sm_proto_write_array_len(w, flex, 0, t->n_partitions);
            for (int32_t j = 0; j < t->n_partitions; j++) {
                sm_write_i32(w, t->partitions[j].partition_index);
                if (ver >= 3) {
                    sm_write_i32(w, t->partitions[j].leader_epoch);
                    sm_write_i8(w, t->partitions[j].delete_partition ? 1 : 0);
                    sm_proto_write_tags(w, flex);
                }
            }
            sm_proto_write_tags(w, flex);
        }
    }
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_StopReplicaResponse(sm_wbuf_t *w, int16_t ver, const sm_stopreplica_resp_t *in)
{
    int flex = sm_api_is_flexible(SM_API_STOPREPLICA, ver);
    sm_write_i16(w, in->error_code);
    write_part_errors(w, flex, in->n_partition_errors, in->partition_errors);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_StopReplicaResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_stopreplica_resp_t *out)
{
    *out = (sm_stopreplica_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_STOPREPLICA, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_STOPREPLICA, ver);
    out->error_code = sm_read_i16(r);
    out->partition_errors = read_part_errors(r, a, flex, &out->n_partition_errors);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_STOPREPLICA, ver);
}

/* ---------------------------------------------------------------------- */
/* ControlledShutdown                                                     */

int
sm_proto_decode_ControlledShutdownRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                          sm_controlledshutdown_req_t *out)
{
    (void)a;
    out->broker_id = -1;
    out->broker_epoch = -1;
    if (!sm_proto_codec_supports(SM_API_CONTROLLEDSHUTDOWN, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    out->broker_id = sm_read_i32(r);
    if (ver >= 2) out->broker_epoch = sm_read_i64(r);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_CONTROLLEDSHUTDOWN, ver);
}

void
sm_proto_encode_ControlledShutdownRequest(sm_wbuf_t *w, int16_t ver, const sm_controlledshutdown_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    sm_write_i32(w, in->broker_id);
    if (ver >= 2) sm_write_i64(w, in->broker_epoch);
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_ControlledShutdownResponse(sm_wbuf_t *w, int16_t ver, const sm_controlledshutdown_resp_t *in)
{
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    sm_write_i16(w, in->error_code);
    sm_proto_write_array_len(w, flex, 0, in->n_remaining);
    for (int32_t i = 0; i < in->n_remaining; i++) {
        sm_write_string(w, in->remaining[i].topic, flex);
        sm_write_i32(w, in->remaining[i].partition);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_ControlledShutdownResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                           sm_controlledshutdown_resp_t *out)
{
    *out = (sm_controlledshutdown_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_CONTROLLEDSHUTDOWN, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    out->error_code = sm_read_i16(r);
    out->remaining = sm_proto_read_array(r, a, flex, 0, flex ? 6 : 6, sizeof(*out->remaining), &out->n_remaining);
    for (int32_t i = 0; i < out->n_remaining && !r->err; i++) {
        out->remaining[i].topic = sm_read_string(r, flex);
        out->remaining[i].partition = sm_read_i32(r);
        sm_proto_read_tags(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_CONTROLLEDSHUTDOWN, ver);
}

/*
 * sm_proto_metadata.c - Metadata (key 3) v0-8 (all non-flexible).
 *
 * The one semantic quirk lives in the topics array: in v0 an empty array
 * means "all topics" and null is not allowed; from v1 null means all topics
 * and empty means none. The codec keeps the wire value; the handler decides.
 */
#include "proto/sm_proto.h"

#define KEY SM_API_METADATA

int
sm_proto_decode_MetadataRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_metadata_req_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    out->allow_auto_topic_creation = 1;
    out->include_cluster_authorized_operations = 0;
    out->include_topic_authorized_operations = 0;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    out->topics = sm_proto_read_str_array(r, a, 0, ver >= 1, &out->n_topics);
    if (ver >= 4) out->allow_auto_topic_creation = sm_proto_read_bool(r);
    if (ver >= 8) {
        out->include_cluster_authorized_operations = sm_proto_read_bool(r);
        out->include_topic_authorized_operations = sm_proto_read_bool(r);
    }
    return sm_proto_check(r, KEY, ver);
}

void
sm_proto_encode_MetadataRequest(sm_wbuf_t *w, int16_t ver, const sm_metadata_req_t *in)
{
    sm_proto_write_str_array(w, 0, ver >= 1, in->n_topics, in->topics);
    if (ver >= 4) sm_write_i8(w, in->allow_auto_topic_creation);
    if (ver >= 8) {
        sm_write_i8(w, in->include_cluster_authorized_operations);
        sm_write_i8(w, in->include_topic_authorized_operations);
    }
}

void
sm_proto_encode_MetadataResponse(sm_wbuf_t *w, int16_t ver, const sm_metadata_resp_t *in)
{
    if (ver >= 3) sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_brokers);
    for (int32_t i = 0; i < in->n_brokers; i++) {
        const sm_metadata_broker_t *b = &in->brokers[i];
        sm_write_i32(w, b->node_id);
        sm_write_string(w, b->host, 0);
        sm_write_i32(w, b->port);
        if (ver >= 1) sm_write_string(w, b->rack, 0);
    }
    if (ver >= 2) sm_write_string(w, in->cluster_id, 0);
    if (ver >= 1) sm_write_i32(w, in->controller_id);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_metadata_topic_t *t = &in->topics[i];
        sm_write_i16(w, t->error_code);
        sm_write_string(w, t->name, 0);
        if (ver >= 1) sm_write_i8(w, t->is_internal);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_metadata_part_t *p = &t->partitions[j];
            sm_write_i16(w, p->error_code);
            sm_write_i32(w, p->partition_index);
            sm_write_i32(w, p->leader_id);
            if (ver >= 7) sm_write_i32(w, p->leader_epoch);
            sm_proto_write_i32_array(w, 0, 0, p->n_replicas, p->replicas);
            sm_proto_write_i32_array(w, 0, 0, p->n_isr, p->isr);
            if (ver >= 5) sm_proto_write_i32_array(w, 0, 0, p->n_offline, p->offline);
        }
        if (ver >= 8) sm_write_i32(w, t->topic_authorized_operations);
    }
    if (ver >= 8) sm_write_i32(w, in->cluster_authorized_operations);
}

int
sm_proto_decode_MetadataResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_metadata_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_brokers = out->n_topics = 0;
    out->brokers = NULL;
    out->topics = NULL;
    out->cluster_id = SM_BYTES_NULL;
    out->controller_id = -1;
    out->cluster_authorized_operations = INT32_MIN;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    if (ver >= 3) out->throttle_time_ms = sm_read_i32(r);
    /* node_id + host + port (+ rack) */
    out->brokers = sm_proto_read_array(r, a, 0, 0, ver >= 1 ? 12 : 10, sizeof(sm_metadata_broker_t),
                                       &out->n_brokers);
    for (int32_t i = 0; i < out->n_brokers && !r->err; i++) {
        sm_metadata_broker_t *b = &out->brokers[i];
        b->node_id = sm_read_i32(r);
        b->host = sm_read_string(r, 0);
        b->port = sm_read_i32(r);
        b->rack = ver >= 1 ? sm_read_nullable_string(r, 0) : SM_BYTES_NULL;
    }
    if (ver >= 2) out->cluster_id = sm_read_nullable_string(r, 0);
    if (ver >= 1) out->controller_id = sm_read_i32(r);
    /* error + name + partitions array (+ flags) */
    out->topics = sm_proto_read_array(r, a, 0, 0, 8, sizeof(sm_metadata_topic_t), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_metadata_topic_t *t = &out->topics[i];
        t->error_code = sm_read_i16(r);
        t->name = sm_read_string(r, 0);
        t->is_internal = ver >= 1 ? sm_proto_read_bool(r) : 0;
        /* error + index + leader + replicas + isr */
        t->partitions = sm_proto_read_array(r, a, 0, 0, 18, sizeof(sm_metadata_part_t),
                                            &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_metadata_part_t *p = &t->partitions[j];
            p->error_code = sm_read_i16(r);
            p->partition_index = sm_read_i32(r);
            p->leader_id = sm_read_i32(r);
            p->leader_epoch = ver >= 7 ? sm_read_i32(r) : -1;
            p->replicas = sm_proto_read_i32_array(r, a, 0, 0, &p->n_replicas);
            p->isr = sm_proto_read_i32_array(r, a, 0, 0, &p->n_isr);
            if (ver >= 5) p->offline = sm_proto_read_i32_array(r, a, 0, 0, &p->n_offline);
        }
        t->topic_authorized_operations = ver >= 8 ? sm_read_i32(r) : INT32_MIN;
    }
    if (ver >= 8) out->cluster_authorized_operations = sm_read_i32(r);
    return sm_proto_check(r, KEY, ver);
}

/*
 * sm_proto_ib_misc.c - codecs of OffsetForLeaderEpoch (23) v0-3,
 * InitProducerId (22) v0-1, AlterConfigs (33) v0-1 and DeleteRecords (21)
 * v0-1. None of these versions is flexible.
 */
#include "proto/sm_proto_interbroker.h"

#include <stdint.h>

/* ---------------------------------------------------------------------- */
/* OffsetForLeaderEpoch                                                   */

int
sm_proto_decode_OffsetForLeaderEpochRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                            sm_offsetforleaderepoch_req_t *out)
{
    *out = (sm_offsetforleaderepoch_req_t){ 0 };
    out->replica_id = -2;
    if (!sm_proto_codec_supports(SM_API_OFFSETFORLEADEREPOCH, ver)) return -1;
    if (ver >= 3) out->replica_id = sm_read_i32(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_ofle_req_topic_t *t = &out->topics[i];
        t->topic = sm_read_string(r, 0);
        t->partitions = sm_proto_read_array(r, a, 0, 0, 8, sizeof(*t->partitions), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_ofle_req_part_t *p = &t->partitions[j];
            p->partition = sm_read_i32(r);
            p->current_leader_epoch = ver >= 2 ? sm_read_i32(r) : -1;
            p->leader_epoch = sm_read_i32(r);
        }
    }
    return sm_proto_check(r, SM_API_OFFSETFORLEADEREPOCH, ver);
}

void
sm_proto_encode_OffsetForLeaderEpochRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetforleaderepoch_req_t *in)
{
    if (ver >= 3) sm_write_i32(w, in->replica_id);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_ofle_req_topic_t *t = &in->topics[i];
        sm_write_string(w, t->topic, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            sm_write_i32(w, t->partitions[j].partition);
            if (ver >= 2) sm_write_i32(w, t->partitions[j].current_leader_epoch);
            sm_write_i32(w, t->partitions[j].leader_epoch);
        }
    }
}

void
sm_proto_encode_OffsetForLeaderEpochResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetforleaderepoch_resp_t *in)
{
    if (ver >= 2) sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_ofle_resp_topic_t *t = &in->topics[i];
        sm_write_string(w, t->topic, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_ofle_resp_part_t *p = &t->partitions[j];
            sm_write_i16(w, p->error_code);
            sm_write_i32(w, p->partition);
            if (ver >= 1) sm_write_i32(w, p->leader_epoch);
            sm_write_i64(w, p->end_offset);
        }
    }
}

int
sm_proto_decode_OffsetForLeaderEpochResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                             sm_offsetforleaderepoch_resp_t *out)
{
    *out = (sm_offsetforleaderepoch_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_OFFSETFORLEADEREPOCH, ver)) return -1;
    if (ver >= 2) out->throttle_time_ms = sm_read_i32(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_ofle_resp_topic_t *t = &out->topics[i];
        t->topic = sm_read_string(r, 0);
        t->partitions = sm_proto_read_array(r, a, 0, 0, 14, sizeof(*t->partitions), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_ofle_resp_part_t *p = &t->partitions[j];
            p->error_code = sm_read_i16(r);
            p->partition = sm_read_i32(r);
            p->leader_epoch = ver >= 1 ? sm_read_i32(r) : -1;
            p->end_offset = sm_read_i64(r);
        }
    }
    return sm_proto_check(r, SM_API_OFFSETFORLEADEREPOCH, ver);
}

/* ---------------------------------------------------------------------- */
/* InitProducerId                                                         */

int
sm_proto_decode_InitProducerIdRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_initproducerid_req_t *out)
{
    (void)a;
    out->transactional_id = SM_BYTES_NULL;
    out->transaction_timeout_ms = 0;
    if (!sm_proto_codec_supports(SM_API_INITPRODUCERID, ver)) return -1;
    out->transactional_id = sm_read_nullable_string(r, 0);
    out->transaction_timeout_ms = sm_read_i32(r);
    return sm_proto_check(r, SM_API_INITPRODUCERID, ver);
}

void
sm_proto_encode_InitProducerIdRequest(sm_wbuf_t *w, int16_t ver, const sm_initproducerid_req_t *in)
{
    (void)ver;
    sm_write_string(w, in->transactional_id, 0);
    sm_write_i32(w, in->transaction_timeout_ms);
}

void
sm_proto_encode_InitProducerIdResponse(sm_wbuf_t *w, int16_t ver, const sm_initproducerid_resp_t *in)
{
    (void)ver;
    sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
    sm_write_i64(w, in->producer_id);
    sm_write_i16(w, in->producer_epoch);
}

int
sm_proto_decode_InitProducerIdResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_initproducerid_resp_t *out)
{
    (void)a;
    *out = (sm_initproducerid_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_INITPRODUCERID, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    out->producer_id = sm_read_i64(r);
    out->producer_epoch = sm_read_i16(r);
    return sm_proto_check(r, SM_API_INITPRODUCERID, ver);
}

/* ---------------------------------------------------------------------- */
/* AlterConfigs                                                           */

int
sm_proto_decode_AlterConfigsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_alterconfigs_req_t *out)
{
    *out = (sm_alterconfigs_req_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_ALTERCONFIGS, ver)) return -1;
    /* type(1) + name(2) + configs(4) */
    out->resources = sm_proto_read_array(r, a, 0, 0, 7, sizeof(*out->resources), &out->n_resources);
    for (int32_t i = 0; i < out->n_resources && !r->err; i++) {
        sm_alterconfigs_resource_t *res = &out->resources[i];
        res->resource_type = sm_read_i8(r);
        res->resource_name = sm_read_string(r, 0);
        res->configs = sm_proto_read_array(r, a, 0, 0, 4, sizeof(*res->configs), &res->n_configs);
        for (int32_t j = 0; j < res->n_configs && !r->err; j++) {
            res->configs[j].name = sm_read_string(r, 0);
            res->configs[j].value = sm_read_nullable_string(r, 0);
        }
    }
    out->validate_only = sm_proto_read_bool(r);
    return sm_proto_check(r, SM_API_ALTERCONFIGS, ver);
}

void
sm_proto_encode_AlterConfigsRequest(sm_wbuf_t *w, int16_t ver, const sm_alterconfigs_req_t *in)
{
    (void)ver;
    sm_proto_write_array_len(w, 0, 0, in->n_resources);
    for (int32_t i = 0; i < in->n_resources; i++) {
        const sm_alterconfigs_resource_t *res = &in->resources[i];
        sm_write_i8(w, res->resource_type);
        sm_write_string(w, res->resource_name, 0);
        sm_proto_write_array_len(w, 0, 0, res->n_configs);
        for (int32_t j = 0; j < res->n_configs; j++) {
            sm_write_string(w, res->configs[j].name, 0);
            sm_write_string(w, res->configs[j].value, 0);
        }
    }
    sm_write_i8(w, in->validate_only ? 1 : 0);
}

void
sm_proto_encode_AlterConfigsResponse(sm_wbuf_t *w, int16_t ver, const sm_alterconfigs_resp_t *in)
{
    (void)ver;
    sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_responses);
    for (int32_t i = 0; i < in->n_responses; i++) {
        const sm_alterconfigs_result_t *res = &in->responses[i];
        sm_write_i16(w, res->error_code);
        sm_write_string(w, res->error_message, 0);
        sm_write_i8(w, res->resource_type);
        sm_write_string(w, res->resource_name, 0);
    }
}

int
sm_proto_decode_AlterConfigsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_alterconfigs_resp_t *out)
{
    *out = (sm_alterconfigs_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_ALTERCONFIGS, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    /* error(2) + message(2) + type(1) + name(2) */
    out->responses = sm_proto_read_array(r, a, 0, 0, 7, sizeof(*out->responses), &out->n_responses);
    for (int32_t i = 0; i < out->n_responses && !r->err; i++) {
        sm_alterconfigs_result_t *res = &out->responses[i];
        res->error_code = sm_read_i16(r);
        res->error_message = sm_read_nullable_string(r, 0);
        res->resource_type = sm_read_i8(r);
        res->resource_name = sm_read_string(r, 0);
    }
    return sm_proto_check(r, SM_API_ALTERCONFIGS, ver);
}

/* ---------------------------------------------------------------------- */
/* DeleteRecords                                                          */

int
sm_proto_decode_DeleteRecordsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deleterecords_req_t *out)
{
    *out = (sm_deleterecords_req_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_DELETERECORDS, ver)) return -1;
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_dr_req_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->partitions = sm_proto_read_array(r, a, 0, 0, 12, sizeof(*t->partitions), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            t->partitions[j].partition_index = sm_read_i32(r);
            t->partitions[j].offset = sm_read_i64(r);
        }
    }
    out->timeout_ms = sm_read_i32(r);
    return sm_proto_check(r, SM_API_DELETERECORDS, ver);
}

void
sm_proto_encode_DeleteRecordsRequest(sm_wbuf_t *w, int16_t ver, const sm_deleterecords_req_t *in)
{
    (void)ver;
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_dr_req_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            sm_write_i32(w, t->partitions[j].partition_index);
            sm_write_i64(w, t->partitions[j].offset);
        }
    }
    sm_write_i32(w, in->timeout_ms);
}

void
sm_proto_encode_DeleteRecordsResponse(sm_wbuf_t *w, int16_t ver, const sm_deleterecords_resp_t *in)
{
    (void)ver;
    sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_dr_resp_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            sm_write_i32(w, t->partitions[j].partition_index);
            sm_write_i64(w, t->partitions[j].low_watermark);
            sm_write_i16(w, t->partitions[j].error_code);
        }
    }
}

int
sm_proto_decode_DeleteRecordsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deleterecords_resp_t *out)
{
    *out = (sm_deleterecords_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_DELETERECORDS, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_dr_resp_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->partitions = sm_proto_read_array(r, a, 0, 0, 14, sizeof(*t->partitions), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            t->partitions[j].partition_index = sm_read_i32(r);
            t->partitions[j].low_watermark = sm_read_i64(r);
            t->partitions[j].error_code = sm_read_i16(r);
        }
    }
    return sm_proto_check(r, SM_API_DELETERECORDS, ver);
}

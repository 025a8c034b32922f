/*
 * sm_proto_produce.c - Produce (key 0) v0-7 (all non-flexible).
 *
 * Records stay a view into the request frame: the broker validates and
 * stamps batches in place (sm_bytes_mut) and appends them without a copy.
 */
#include "proto/sm_proto.h"

#define KEY SM_API_PRODUCE

int
sm_proto_decode_ProduceRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_produce_req_t *out)
{
    out->transactional_id = SM_BYTES_NULL;
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    if (ver >= 3) out->transactional_id = sm_read_nullable_string(r, 0);
    out->acks = sm_read_i16(r);
    out->timeout_ms = sm_read_i32(r);
    /* name + partitions array */
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_produce_req_topic_t), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_produce_req_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        /* index + records length */
        t->partitions = sm_proto_read_array(r, a, 0, 0, 8, sizeof(sm_produce_req_part_t),
                                            &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            t->partitions[j].index = sm_read_i32(r);
            t->partitions[j].records = sm_read_nullable_bytes(r, 0);
        }
    }
    return sm_proto_check(r, KEY, ver);
}

void
sm_proto_encode_ProduceRequest(sm_wbuf_t *w, int16_t ver, const sm_produce_req_t *in)
{
    if (ver >= 3) sm_write_string(w, in->transactional_id, 0);
    sm_write_i16(w, in->acks);
    sm_write_i32(w, in->timeout_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_produce_req_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            sm_write_i32(w, t->partitions[j].index);
            sm_write_bytes(w, t->partitions[j].records, 0);
        }
    }
}

void
sm_proto_encode_ProduceResponse(sm_wbuf_t *w, int16_t ver, const sm_produce_resp_t *in)
{
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_produce_resp_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_produce_resp_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->index);
            sm_write_i16(w, p->error_code);
            sm_write_i64(w, p->base_offset);
            if (ver >= 2) sm_write_i64(w, p->log_append_time_ms);
            if (ver >= 5) sm_write_i64(w, p->log_start_offset);
        }
    }
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
}

int
sm_proto_decode_ProduceResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_produce_resp_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    out->throttle_time_ms = 0;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_produce_resp_topic_t), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_produce_resp_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        /* index + error + base offset */
        t->partitions = sm_proto_read_array(r, a, 0, 0, 14, sizeof(sm_produce_resp_part_t),
                                            &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_produce_resp_part_t *p = &t->partitions[j];
            p->index = sm_read_i32(r);
            p->error_code = sm_read_i16(r);
            p->base_offset = sm_read_i64(r);
            p->log_append_time_ms = ver >= 2 ? sm_read_i64(r) : -1;
            p->log_start_offset = ver >= 5 ? sm_read_i64(r) : -1;
        }
    }
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    return sm_proto_check(r, KEY, ver);
}

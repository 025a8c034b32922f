/*
 * sm_proto_listoffsets.c - ListOffsets (key 2) v0-5 (all non-flexible).
 *
 * v0 is the old "offsets before timestamp" form: the request carries
 * max_num_offsets and the response an array of offsets; v1+ carry a single
 * (timestamp, offset) pair per partition.
 */
#include "proto/sm_proto.h"

#define KEY SM_API_LISTOFFSETS

int
sm_proto_decode_ListOffsetsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                   sm_listoffsets_req_t *out)
{
    out->isolation_level = 0;
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    out->replica_id = sm_read_i32(r);
    if (ver >= 2) out->isolation_level = sm_read_i8(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_listoffsets_req_topic_t),
                                      &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_listoffsets_req_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        /* partition + timestamp */
        t->partitions = sm_proto_read_array(r, a, 0, 0, 12, sizeof(sm_listoffsets_req_part_t),
                                            &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_listoffsets_req_part_t *p = &t->partitions[j];
            p->partition_index = sm_read_i32(r);
            p->current_leader_epoch = ver >= 4 ? sm_read_i32(r) : -1;
            p->timestamp = sm_read_i64(r);
            p->max_num_offsets = ver == 0 ? sm_read_i32(r) : 1;
        }
    }
    return sm_proto_check(r, KEY, ver);
}

void
sm_proto_encode_ListOffsetsRequest(sm_wbuf_t *w, int16_t ver, const sm_listoffsets_req_t *in)
{
    sm_write_i32(w, in->replica_id);
    if (ver >= 2) sm_write_i8(w, in->isolation_level);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_listoffsets_req_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_listoffsets_req_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->partition_index);
            if (ver >= 4) sm_write_i32(w, p->current_leader_epoch);
            sm_write_i64(w, p->timestamp);
            if (ver == 0) sm_write_i32(w, p->max_num_offsets);
        }
    }
}

void
sm_proto_encode_ListOffsetsResponse(sm_wbuf_t *w, int16_t ver, const sm_listoffsets_resp_t *in)
{
    if (ver >= 2) sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_listoffsets_resp_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_listoffsets_resp_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->partition_index);
            sm_write_i16(w, p->error_code);
            if (ver == 0) {
                sm_proto_write_i64_array(w, 0, 0, p->n_old_style_offsets, p->old_style_offsets);
            } else {
                sm_write_i64(w, p->timestamp);
                sm_write_i64(w, p->offset);
                if (ver >= 4) sm_write_i32(w, p->leader_epoch);
            }
        }
    }
}

int
sm_proto_decode_ListOffsetsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_listoffsets_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    if (ver >= 2) out->throttle_time_ms = sm_read_i32(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_listoffsets_resp_topic_t),
                                      &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_listoffsets_resp_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        /* partition + error + (offsets array | timestamp + offset) */
        t->partitions = sm_proto_read_array(r, a, 0, 0, ver == 0 ? 10 : 22,
                                            sizeof(sm_listoffsets_resp_part_t), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_listoffsets_resp_part_t *p = &t->partitions[j];
            p->partition_index = sm_read_i32(r);
            p->error_code = sm_read_i16(r);
            p->timestamp = p->offset = -1;
            p->leader_epoch = -1;
            if (ver == 0) {
                p->old_style_offsets = sm_proto_read_i64_array(r, a, 0, 0, &p->n_old_style_offsets);
            } else {
                p->timestamp = sm_read_i64(r);
                p->offset = sm_read_i64(r);
                if (ver >= 4) p->leader_epoch = sm_read_i32(r);
            }
        }
    }
    return sm_proto_check(r, KEY, ver);
}

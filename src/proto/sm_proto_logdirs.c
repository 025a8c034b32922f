/*
 * sm_proto_logdirs.c - DescribeLogDirs (35) v0-1 request and response
 * codec (see sm_proto_logdirs.h). Field layout from Kafka 2.8's
 * DescribeLogDirsRequest/Response message JSON; v2 (flexible) is not
 * implemented.
 */
#include "proto/sm_proto_logdirs.h"

int
sm_proto_decode_DescribeLogDirsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describelogdirs_req_t *out)
{
    *out = (sm_describelogdirs_req_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_DESCRIBELOGDIRS, ver)) return -1;
    /* topic(2) + partitions count(4) */
    out->topics = sm_proto_read_array(r, a, 0, 1, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_describelogdirs_req_topic_t *t = &out->topics[i];
        t->topic = sm_read_string(r, 0);
        t->partitions = sm_proto_read_i32_array(r, a, 0, 0, &t->n_partitions);
    }
    return sm_proto_check(r, SM_API_DESCRIBELOGDIRS, ver);
}

void
sm_proto_encode_DescribeLogDirsRequest(sm_wbuf_t *w, int16_t ver, const sm_describelogdirs_req_t *in)
{
    (void)ver;
    sm_proto_write_array_len(w, 0, 1, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        sm_write_string(w, in->topics[i].topic, 0);
        sm_proto_write_i32_array(w, 0, 0, in->topics[i].n_partitions, in->topics[i].partitions);
    }
}

void
sm_proto_encode_DescribeLogDirsResponse(sm_wbuf_t *w, int16_t ver, const sm_describelogdirs_resp_t *in)
{
    (void)ver;
    sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_results);
    for (int32_t i = 0; i < in->n_results; i++) {
        const sm_describelogdirs_result_t *res = &in->results[i];
        sm_write_i16(w, res->error_code);
        sm_write_string(w, res->log_dir, 0);
        sm_proto_write_array_len(w, 0, 0, res->n_topics);
        for (int32_t j = 0; j < res->n_topics; j++) {
            const sm_describelogdirs_topic_t *t = &res->topics[j];
            sm_write_string(w, t->name, 0);
            sm_proto_write_array_len(w, 0, 0, t->n_partitions);
            for (int32_t k = 0; k < t->n_partitions; k++) {
                const sm_describelogdirs_part_t *p = &t->partitions[k];
                sm_write_i32(w, p->partition_index);
                sm_write_i64(w, p->partition_size);
                sm_write_i64(w, p->offset_lag);
                sm_write_i8(w, p->is_future_key ? 1 : 0);
            }
        }
    }
}

int
sm_proto_decode_DescribeLogDirsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describelogdirs_resp_t *out)
{
    *out = (sm_describelogdirs_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_DESCRIBELOGDIRS, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    /* error(2) + dir(2) + topics count(4) */
    out->results = sm_proto_read_array(r, a, 0, 0, 8, sizeof(*out->results), &out->n_results);
    for (int32_t i = 0; i < out->n_results && !r->err; i++) {
        sm_describelogdirs_result_t *res = &out->results[i];
        res->error_code = sm_read_i16(r);
        res->log_dir = sm_read_string(r, 0);
        res->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*res->topics), &res->n_topics);
        for (int32_t j = 0; j < res->n_topics && !r->err; j++) {
            sm_describelogdirs_topic_t *t = &res->topics[j];
            t->name = sm_read_string(r, 0);
            /* index(4) + size(8) + lag(8) + future(1) */
            t->partitions = sm_proto_read_array(r, a, 0, 0, 21, sizeof(*t->partitions), &t->n_partitions);
            for (int32_t k = 0; k < t->n_partitions && !r->err; k++) {
                sm_describelogdirs_part_t *p = &t->partitions[k];
                p->partition_index = sm_read_i32(r);
                p->partition_size = sm_read_i64(r);
                p->offset_lag = sm_read_i64(r);
                p->is_future_key = sm_proto_read_bool(r);
            }
        }
    }
    return sm_proto_check(r, SM_API_DESCRIBELOGDIRS, ver);
}

/*
 * sm_proto_fetch.c - Fetch (key 1) v0-11 (all non-flexible).
 *
 * The response encoder never copies log data unless the caller hands it
 * inline bytes: a partition marked `emit` gets its int32 length written here
 * and its bytes supplied by the caller's emit_records callback, which is how
 * the broker splices a sendfile() region into the response.
 */
#include "proto/sm_proto.h"

#include <stdint.h>

#define KEY SM_API_FETCH

int
sm_proto_decode_FetchRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_fetch_req_t *out)
{
    out->max_bytes = INT32_MAX;
    out->isolation_level = 0;
    out->session_id = 0;
    out->session_epoch = -1;
    out->n_topics = out->n_forgotten = 0;
    out->topics = NULL;
    out->forgotten = NULL;
    out->rack_id = SM_BYTES_STR("");
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    out->replica_id = sm_read_i32(r);
    out->max_wait_ms = sm_read_i32(r);
    out->min_bytes = sm_read_i32(r);
    if (ver >= 3) out->max_bytes = sm_read_i32(r);
    if (ver >= 4) out->isolation_level = sm_read_i8(r);
    if (ver >= 7) {
        out->session_id = sm_read_i32(r);
        out->session_epoch = sm_read_i32(r);
    }
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_fetch_req_topic_t), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_fetch_req_topic_t *t = &out->topics[i];
        t->topic = sm_read_string(r, 0);
        /* partition + fetch offset + max bytes */
        t->partitions = sm_proto_read_array(r, a, 0, 0, 16, sizeof(sm_fetch_req_part_t),
                                            &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_fetch_req_part_t *p = &t->partitions[j];
            p->partition = sm_read_i32(r);
            p->current_leader_epoch = ver >= 9 ? sm_read_i32(r) : -1;
            p->fetch_offset = sm_read_i64(r);
            p->log_start_offset = ver >= 5 ? sm_read_i64(r) : -1;
            p->partition_max_bytes = sm_read_i32(r);
        }
    }
    if (ver >= 7) {
        out->forgotten = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_fetch_forgotten_t),
                                             &out->n_forgotten);
        for (int32_t i = 0; i < out->n_forgotten && !r->err; i++) {
            out->forgotten[i].topic = sm_read_string(r, 0);
            out->forgotten[i].partitions =
                sm_proto_read_i32_array(r, a, 0, 0, &out->forgotten[i].n_partitions);
        }
    }
    if (ver >= 11) out->rack_id = sm_read_string(r, 0);
    return sm_proto_check(r, KEY, ver);
}

void
sm_proto_encode_FetchRequest(sm_wbuf_t *w, int16_t ver, const sm_fetch_req_t *in)
{
    sm_write_i32(w, in->replica_id);
    sm_write_i32(w, in->max_wait_ms);
    sm_write_i32(w, in->min_bytes);
    if (ver >= 3) sm_write_i32(w, in->max_bytes);
    if (ver >= 4) sm_write_i8(w, in->isolation_level);
    if (ver >= 7) {
        sm_write_i32(w, in->session_id);
        sm_write_i32(w, in->session_epoch);
    }
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_fetch_req_topic_t *t = &in->topics[i];
        sm_write_string(w, t->topic, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_fetch_req_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->partition);
            if (ver >= 9) sm_write_i32(w, p->current_leader_epoch);
            sm_write_i64(w, p->fetch_offset);
            if (ver >= 5) sm_write_i64(w, p->log_start_offset);
            sm_write_i32(w, p->partition_max_bytes);
        }
    }
    if (ver >= 7) {
        sm_proto_write_array_len(w, 0, 0, in->n_forgotten);
        for (int32_t i = 0; i < in->n_forgotten; i++) {
            sm_write_string(w, in->forgotten[i].topic, 0);
            sm_proto_write_i32_array(w, 0, 0, in->forgotten[i].n_partitions,
                                     in->forgotten[i].partitions);
        }
    }
    if (ver >= 11) sm_write_string(w, in->rack_id.len < 0 ? SM_BYTES_STR("") : in->rack_id, 0);
}

void
sm_proto_encode_FetchResponse(sm_wbuf_t *w, int16_t ver, const sm_fetch_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    if (ver >= 7) {
        sm_write_i16(w, in->error_code);
        sm_write_i32(w, in->session_id);
    }
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_fetch_resp_topic_t *t = &in->topics[i];
        sm_write_string(w, t->topic, 0);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_fetch_resp_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->partition);
            sm_write_i16(w, p->error_code);
            sm_write_i64(w, p->high_watermark);
            if (ver >= 4) {
                sm_write_i64(w, p->last_stable_offset);
                if (ver >= 5) sm_write_i64(w, p->log_start_offset);
                sm_proto_write_array_len(w, 0, 1, p->n_aborted);
                for (int32_t k = 0; k < p->n_aborted; k++) {
                    sm_write_i64(w, p->aborted[k].producer_id);
                    sm_write_i64(w, p->aborted[k].first_offset);
                }
            }
            if (ver >= 11) sm_write_i32(w, p->preferred_read_replica);
            if (p->emit && in->emit_records) {
                sm_write_i32(w, p->records_len);
                in->emit_records(in->emit_arg, w, (int)i, (int)j);
            } else {
                sm_write_bytes(w, p->records, 0);
            }
        }
    }
}

int
sm_proto_decode_FetchResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_fetch_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->error_code = 0;
    out->session_id = 0;
    out->n_topics = 0;
    out->topics = NULL;
    out->emit_records = NULL;
    out->emit_arg = NULL;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    if (ver >= 7) {
        out->error_code = sm_read_i16(r);
        out->session_id = sm_read_i32(r);
    }
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_fetch_resp_topic_t), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_fetch_resp_topic_t *t = &out->topics[i];
        t->topic = sm_read_string(r, 0);
        /* partition + error + hwm + records length */
        t->partitions = sm_proto_read_array(r, a, 0, 0, 18, sizeof(sm_fetch_resp_part_t),
                                            &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_fetch_resp_part_t *p = &t->partitions[j];
            p->partition = sm_read_i32(r);
            p->error_code = sm_read_i16(r);
            p->high_watermark = sm_read_i64(r);
            p->last_stable_offset = -1;
            p->log_start_offset = -1;
            p->n_aborted = -1;
            if (ver >= 4) {
                p->last_stable_offset = sm_read_i64(r);
                if (ver >= 5) p->log_start_offset = sm_read_i64(r);
                p->aborted = sm_proto_read_array(r, a, 0, 1, 16, sizeof(sm_aborted_txn_t),
                                                 &p->n_aborted);
                for (int32_t k = 0; k < p->n_aborted && !r->err; k++) {
                    p->aborted[k].producer_id = sm_read_i64(r);
                    p->aborted[k].first_offset = sm_read_i64(r);
                }
            }
            p->preferred_read_replica = ver >= 11 ? sm_read_i32(r) : -1;
            p->emit = 0;
            p->records = sm_read_nullable_bytes(r, 0);
            p->records_len = p->records.len;
        }
    }
    return sm_proto_check(r, KEY, ver);
}

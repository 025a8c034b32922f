/*
 * sm_proto_grp_offsets.c - committed-offset APIs: OffsetCommit (8) v0-7,
 * OffsetFetch (9) v0-5 and OffsetDelete (47) v0. All non-flexible.
 *
 * OffsetCommit's shape changes most: v1 adds generation/member and a
 * per-partition commit timestamp (v1 only), v2-4 a group-wide retention
 * time, v6 the leader epoch, v7 group.instance.id. OffsetFetch v2 makes the
 * topic list nullable ("all partitions") and adds a top-level error that
 * comes AFTER the topics.
 */
#include "proto/sm_proto_group.h"


/* Topic/partition error lists shared by OffsetCommit and OffsetDelete. */
static void
write_topic_errs(sm_wbuf_t *w, int32_t n, const sm_grp_topic_err_t *t)
{
    sm_proto_write_array_len(w, 0, 0, n);
    for (int32_t i = 0; i < n; i++) {
        sm_proto_write_str_nn(w, t[i].name);
        sm_proto_write_array_len(w, 0, 0, t[i].n_partitions);
        for (int32_t j = 0; j < t[i].n_partitions; j++) {
            sm_write_i32(w, t[i].partitions[j].partition_index);
            sm_write_i16(w, t[i].partitions[j].error_code);
        }
    }
}

static sm_grp_topic_err_t *
read_topic_errs(sm_reader_t *r, sm_arena_t *a, int32_t *n)
{
    /* name + partition count */
    sm_grp_topic_err_t *t = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*t), n);
    for (int32_t i = 0; i < *n && !r->err; i++) {
        t[i].name = sm_read_string(r, 0);
        t[i].partitions = sm_proto_read_array(r, a, 0, 0, 6, sizeof(sm_grp_part_err_t),
                                              &t[i].n_partitions);
        for (int32_t j = 0; j < t[i].n_partitions && !r->err; j++) {
            t[i].partitions[j].partition_index = sm_read_i32(r);
            t[i].partitions[j].error_code = sm_read_i16(r);
        }
    }
    return t;
}

/* ---- OffsetCommit ---- */

int
sm_proto_decode_OffsetCommitRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_offsetcommit_req_t *out)
{
    out->generation_id = -1;
    out->member_id = SM_BYTES_EMPTY;
    out->group_instance_id = SM_BYTES_NULL;
    out->retention_time_ms = -1;
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_OFFSETCOMMIT, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    if (ver >= 1) {
        out->generation_id = sm_read_i32(r);
        out->member_id = sm_read_string(r, 0);
    }
    if (ver >= 7) out->group_instance_id = sm_read_nullable_string(r, 0);
    if (ver >= 2 && ver <= 4) out->retention_time_ms = sm_read_i64(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    /* index + offset + metadata, plus the version-specific fields */
    size_t pmin = 14 + (ver == 1 ? 8 : 0) + (ver >= 6 ? 4 : 0);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_offsetcommit_req_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->partitions = sm_proto_read_array(r, a, 0, 0, pmin, sizeof(*t->partitions), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_offsetcommit_req_part_t *p = &t->partitions[j];
            p->partition_index = sm_read_i32(r);
            p->committed_offset = sm_read_i64(r);
            p->committed_leader_epoch = ver >= 6 ? sm_read_i32(r) : -1;
            p->commit_timestamp = ver == 1 ? sm_read_i64(r) : -1;
            p->committed_metadata = sm_read_nullable_string(r, 0);
        }
    }
    return sm_proto_check(r, SM_API_OFFSETCOMMIT, ver);
}

void
sm_proto_encode_OffsetCommitRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetcommit_req_t *in)
{
    sm_proto_write_str_nn(w, in->group_id);
    if (ver >= 1) {
        sm_write_i32(w, in->generation_id);
        sm_proto_write_str_nn(w, in->member_id);
    }
    if (ver >= 7) sm_write_string(w, in->group_instance_id, 0);
    if (ver >= 2 && ver <= 4) sm_write_i64(w, in->retention_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_offsetcommit_req_topic_t *t = &in->topics[i];
        sm_proto_write_str_nn(w, t->name);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_offsetcommit_req_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->partition_index);
            sm_write_i64(w, p->committed_offset);
            if (ver >= 6) sm_write_i32(w, p->committed_leader_epoch);
            if (ver == 1) sm_write_i64(w, p->commit_timestamp);
            sm_write_string(w, p->committed_metadata, 0);
        }
    }
}

void
sm_proto_encode_OffsetCommitResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetcommit_resp_t *in)
{
    if (ver >= 3) sm_write_i32(w, in->throttle_time_ms);
    write_topic_errs(w, in->n_topics, in->topics);
}

int
sm_proto_decode_OffsetCommitResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                     sm_offsetcommit_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_OFFSETCOMMIT, ver)) return -1;
    if (ver >= 3) out->throttle_time_ms = sm_read_i32(r);
    out->topics = read_topic_errs(r, a, &out->n_topics);
    return sm_proto_check(r, SM_API_OFFSETCOMMIT, ver);
}

/* ---- OffsetFetch ---- */

int
sm_proto_decode_OffsetFetchRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                   sm_offsetfetch_req_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_OFFSETFETCH, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    out->topics = sm_proto_read_array(r, a, 0, ver >= 2, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_offsetfetch_req_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->partition_indexes = sm_proto_read_i32_array(r, a, 0, 0, &t->n_partition_indexes);
    }
    return sm_proto_check(r, SM_API_OFFSETFETCH, ver);
}

void
sm_proto_encode_OffsetFetchRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetfetch_req_t *in)
{
    sm_proto_write_str_nn(w, in->group_id);
    sm_proto_write_array_len(w, 0, ver >= 2, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        sm_proto_write_str_nn(w, in->topics[i].name);
        sm_proto_write_i32_array(w, 0, 0, in->topics[i].n_partition_indexes,
                                 in->topics[i].partition_indexes);
    }
}

void
sm_proto_encode_OffsetFetchResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetfetch_resp_t *in)
{
    if (ver >= 3) sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_offsetfetch_resp_topic_t *t = &in->topics[i];
        sm_proto_write_str_nn(w, t->name);
        sm_proto_write_array_len(w, 0, 0, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const sm_offsetfetch_resp_part_t *p = &t->partitions[j];
            sm_write_i32(w, p->partition_index);
            sm_write_i64(w, p->committed_offset);
            if (ver >= 5) sm_write_i32(w, p->committed_leader_epoch);
            sm_write_string(w, p->metadata, 0);
            sm_write_i16(w, p->error_code);
        }
    }
    if (ver >= 2) sm_write_i16(w, in->error_code);
}

int
sm_proto_decode_OffsetFetchResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_offsetfetch_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_topics = 0;
    out->topics = NULL;
    out->error_code = 0;
    if (!sm_proto_codec_supports(SM_API_OFFSETFETCH, ver)) return -1;
    if (ver >= 3) out->throttle_time_ms = sm_read_i32(r);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    /* index + offset + metadata + error, plus the v5 leader epoch */
    size_t pmin = ver >= 5 ? 20 : 16;
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_offsetfetch_resp_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->partitions = sm_proto_read_array(r, a, 0, 0, pmin, sizeof(*t->partitions), &t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions && !r->err; j++) {
            sm_offsetfetch_resp_part_t *p = &t->partitions[j];
            p->partition_index = sm_read_i32(r);
            p->committed_offset = sm_read_i64(r);
            p->committed_leader_epoch = ver >= 5 ? sm_read_i32(r) : -1;
            p->metadata = sm_read_nullable_string(r, 0);
            p->error_code = sm_read_i16(r);
        }
    }
    if (ver >= 2) out->error_code = sm_read_i16(r);
    return sm_proto_check(r, SM_API_OFFSETFETCH, ver);
}

/* ---- OffsetDelete ---- */

int
sm_proto_decode_OffsetDeleteRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_offsetdelete_req_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_OFFSETDELETE, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    out->topics = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->topics), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        out->topics[i].name = sm_read_string(r, 0);
        out->topics[i].partitions = sm_proto_read_i32_array(r, a, 0, 0, &out->topics[i].n_partitions);
    }
    return sm_proto_check(r, SM_API_OFFSETDELETE, ver);
}

void
sm_proto_encode_OffsetDeleteRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetdelete_req_t *in)
{
    (void)ver;
    sm_proto_write_str_nn(w, in->group_id);
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        sm_proto_write_str_nn(w, in->topics[i].name);
        sm_proto_write_i32_array(w, 0, 0, in->topics[i].n_partitions, in->topics[i].partitions);
    }
}

void
sm_proto_encode_OffsetDeleteResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetdelete_resp_t *in)
{
    (void)ver;
    sm_write_i16(w, in->error_code);
    sm_write_i32(w, in->throttle_time_ms);
    write_topic_errs(w, in->n_topics, in->topics);
}

int
sm_proto_decode_OffsetDeleteResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                     sm_offsetdelete_resp_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_OFFSETDELETE, ver)) return -1;
    out->error_code = sm_read_i16(r);
    out->throttle_time_ms = sm_read_i32(r);
    out->topics = read_topic_errs(r, a, &out->n_topics);
    return sm_proto_check(r, SM_API_OFFSETDELETE, ver);
}

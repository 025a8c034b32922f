/*
 * sm_proto_grp_admin.c - group administration APIs: ListGroups (16) v0-2,
 * DescribeGroups (15) v0-4 and DeleteGroups (42) v0-1. All non-flexible.
 *
 * ListGroups v0-2 requests have an empty body (the states filter is v4+).
 * DescribeGroups v3 adds the authorized-operations request flag and
 * response field, v4 the members' group.instance.id.
 */
#include "proto/sm_proto_group.h"

#include <stdint.h>


/* ---- ListGroups ---- */

int
sm_proto_decode_ListGroupsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                  sm_listgroups_req_t *out)
{
    (void)a;
    out->n_states_filter = 0;
    out->states_filter = NULL;
    if (!sm_proto_codec_supports(SM_API_LISTGROUPS, ver)) return -1;
    return sm_proto_check(r, SM_API_LISTGROUPS, ver);
}

void
sm_proto_encode_ListGroupsRequest(sm_wbuf_t *w, int16_t ver, const sm_listgroups_req_t *in)
{
    /* Nothing below v4. */
    (void)w; (void)ver; (void)in;
}

void
sm_proto_encode_ListGroupsResponse(sm_wbuf_t *w, int16_t ver, const sm_listgroups_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
    sm_proto_write_array_len(w, 0, 0, in->n_groups);
    for (int32_t i = 0; i < in->n_groups; i++) {
        sm_proto_write_str_nn(w, in->groups[i].group_id);
        sm_proto_write_str_nn(w, in->groups[i].protocol_type);
    }
}

int
sm_proto_decode_ListGroupsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                   sm_listgroups_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_groups = 0;
    out->groups = NULL;
    if (!sm_proto_codec_supports(SM_API_LISTGROUPS, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    out->groups = sm_proto_read_array(r, a, 0, 0, 4, sizeof(*out->groups), &out->n_groups);
    for (int32_t i = 0; i < out->n_groups && !r->err; i++) {
        out->groups[i].group_id = sm_read_string(r, 0);
        out->groups[i].protocol_type = sm_read_string(r, 0);
    }
    return sm_proto_check(r, SM_API_LISTGROUPS, ver);
}

/* ---- DescribeGroups ---- */

int
sm_proto_decode_DescribeGroupsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                      sm_describegroups_req_t *out)
{
    out->n_groups = 0;
    out->groups = NULL;
    out->include_authorized_operations = 0;
    if (!sm_proto_codec_supports(SM_API_DESCRIBEGROUPS, ver)) return -1;
    out->groups = sm_proto_read_str_array(r, a, 0, 0, &out->n_groups);
    if (ver >= 3) out->include_authorized_operations = sm_proto_read_bool(r);
    return sm_proto_check(r, SM_API_DESCRIBEGROUPS, ver);
}

void
sm_proto_encode_DescribeGroupsRequest(sm_wbuf_t *w, int16_t ver, const sm_describegroups_req_t *in)
{
    sm_proto_write_str_array(w, 0, 0, in->n_groups, in->groups);
    if (ver >= 3) sm_write_i8(w, in->include_authorized_operations ? 1 : 0);
}

void
sm_proto_encode_DescribeGroupsResponse(sm_wbuf_t *w, int16_t ver, const sm_describegroups_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_groups);
    for (int32_t i = 0; i < in->n_groups; i++) {
        const sm_describegroups_group_t *g = &in->groups[i];
        sm_write_i16(w, g->error_code);
        sm_proto_write_str_nn(w, g->group_id);
        sm_proto_write_str_nn(w, g->group_state);
        sm_proto_write_str_nn(w, g->protocol_type);
        sm_proto_write_str_nn(w, g->protocol_data);
        sm_proto_write_array_len(w, 0, 0, g->n_members);
        for (int32_t j = 0; j < g->n_members; j++) {
            const sm_describegroups_member_t *m = &g->members[j];
            sm_proto_write_str_nn(w, m->member_id);
            if (ver >= 4) sm_write_string(w, m->group_instance_id, 0);
            sm_proto_write_str_nn(w, m->client_id);
            sm_proto_write_str_nn(w, m->client_host);
            sm_proto_write_bytes_nn(w, m->member_metadata);
            sm_proto_write_bytes_nn(w, m->member_assignment);
        }
        if (ver >= 3) sm_write_i32(w, g->authorized_operations);
    }
}

int
sm_proto_decode_DescribeGroupsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                       sm_describegroups_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_groups = 0;
    out->groups = NULL;
    if (!sm_proto_codec_supports(SM_API_DESCRIBEGROUPS, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    /* error + 4 strings + member count (+ authorized operations) */
    out->groups = sm_proto_read_array(r, a, 0, 0, ver >= 3 ? 18 : 14, sizeof(*out->groups),
                                      &out->n_groups);
    for (int32_t i = 0; i < out->n_groups && !r->err; i++) {
        sm_describegroups_group_t *g = &out->groups[i];
        g->error_code = sm_read_i16(r);
        g->group_id = sm_read_string(r, 0);
        g->group_state = sm_read_string(r, 0);
        g->protocol_type = sm_read_string(r, 0);
        g->protocol_data = sm_read_string(r, 0);
        /* 3 (4) strings + 2 byte fields */
        g->members = sm_proto_read_array(r, a, 0, 0, ver >= 4 ? 16 : 14, sizeof(*g->members),
                                         &g->n_members);
        for (int32_t j = 0; j < g->n_members && !r->err; j++) {
            sm_describegroups_member_t *m = &g->members[j];
            m->member_id = sm_read_string(r, 0);
            m->group_instance_id = ver >= 4 ? sm_read_nullable_string(r, 0) : SM_BYTES_NULL;
            m->client_id = sm_read_string(r, 0);
            m->client_host = sm_read_string(r, 0);
            m->member_metadata = sm_read_bytes(r, 0);
            m->member_assignment = sm_read_bytes(r, 0);
        }
        g->authorized_operations = ver >= 3 ? sm_read_i32(r) : INT32_MIN;
    }
    return sm_proto_check(r, SM_API_DESCRIBEGROUPS, ver);
}

/* ---- DeleteGroups ---- */

int
sm_proto_decode_DeleteGroupsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_deletegroups_req_t *out)
{
    out->n_groups_names = 0;
    out->groups_names = NULL;
    if (!sm_proto_codec_supports(SM_API_DELETEGROUPS, ver)) return -1;
    out->groups_names = sm_proto_read_str_array(r, a, 0, 0, &out->n_groups_names);
    return sm_proto_check(r, SM_API_DELETEGROUPS, ver);
}

void
sm_proto_encode_DeleteGroupsRequest(sm_wbuf_t *w, int16_t ver, const sm_deletegroups_req_t *in)
{
    (void)ver;
    sm_proto_write_str_array(w, 0, 0, in->n_groups_names, in->groups_names);
}

void
sm_proto_encode_DeleteGroupsResponse(sm_wbuf_t *w, int16_t ver, const sm_deletegroups_resp_t *in)
{
    (void)ver;
    sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_results);
    for (int32_t i = 0; i < in->n_results; i++) {
        sm_proto_write_str_nn(w, in->results[i].group_id);
        sm_write_i16(w, in->results[i].error_code);
    }
}

int
sm_proto_decode_DeleteGroupsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                     sm_deletegroups_resp_t *out)
{
    out->n_results = 0;
    out->results = NULL;
    if (!sm_proto_codec_supports(SM_API_DELETEGROUPS, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    out->results = sm_proto_read_array(r, a, 0, 0, 4, sizeof(*out->results), &out->n_results);
    for (int32_t i = 0; i < out->n_results && !r->err; i++) {
        out->results[i].group_id = sm_read_string(r, 0);
        out->results[i].error_code = sm_read_i16(r);
    }
    return sm_proto_check(r, SM_API_DELETEGROUPS, ver);
}

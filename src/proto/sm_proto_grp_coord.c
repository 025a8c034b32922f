/*
 * sm_proto_grp_coord.c - group membership APIs: FindCoordinator (10) v0-2,
 * JoinGroup (11) v0-5, SyncGroup (14) v0-3, Heartbeat (12) v0-3 and
 * LeaveGroup (13) v0-3. All non-flexible.
 *
 * Field presence follows Kafka 2.8's JSON: rebalance timeout from JoinGroup
 * v1, throttle time from v1 (JoinGroup v2), group.instance.id (KIP-345) from
 * JoinGroup v5 / SyncGroup v3 / Heartbeat v3 / LeaveGroup v3, where
 * LeaveGroup also switches from one member id to a batch of members.
 */
#include "proto/sm_proto_group.h"


/* ---- FindCoordinator ---- */

int
sm_proto_decode_FindCoordinatorRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                       sm_findcoordinator_req_t *out)
{
    (void)a;
    out->key = SM_BYTES_EMPTY;
    out->key_type = 0;
    if (!sm_proto_codec_supports(SM_API_FINDCOORDINATOR, ver)) return -1;
    out->key = sm_read_string(r, 0);
    if (ver >= 1) out->key_type = sm_read_i8(r);
    return sm_proto_check(r, SM_API_FINDCOORDINATOR, ver);
}

void
sm_proto_encode_FindCoordinatorRequest(sm_wbuf_t *w, int16_t ver, const sm_findcoordinator_req_t *in)
{
    sm_proto_write_str_nn(w, in->key);
    if (ver >= 1) sm_write_i8(w, in->key_type);
}

void
sm_proto_encode_FindCoordinatorResponse(sm_wbuf_t *w, int16_t ver, const sm_findcoordinator_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
    if (ver >= 1) sm_write_string(w, in->error_message, 0);
    sm_write_i32(w, in->node_id);
    sm_proto_write_str_nn(w, in->host);
    sm_write_i32(w, in->port);
}

int
sm_proto_decode_FindCoordinatorResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                        sm_findcoordinator_resp_t *out)
{
    (void)a;
    out->throttle_time_ms = 0;
    out->error_message = SM_BYTES_NULL;
    out->host = SM_BYTES_EMPTY;
    if (!sm_proto_codec_supports(SM_API_FINDCOORDINATOR, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    if (ver >= 1) out->error_message = sm_read_nullable_string(r, 0);
    out->node_id = sm_read_i32(r);
    out->host = sm_read_string(r, 0);
    out->port = sm_read_i32(r);
    return sm_proto_check(r, SM_API_FINDCOORDINATOR, ver);
}

/* ---- JoinGroup ---- */

int
sm_proto_decode_JoinGroupRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_joingroup_req_t *out)
{
    out->rebalance_timeout_ms = -1;
    out->group_instance_id = SM_BYTES_NULL;
    out->n_protocols = 0;
    out->protocols = NULL;
    if (!sm_proto_codec_supports(SM_API_JOINGROUP, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    out->session_timeout_ms = sm_read_i32(r);
    if (ver >= 1) out->rebalance_timeout_ms = sm_read_i32(r);
    out->member_id = sm_read_string(r, 0);
    if (ver >= 5) out->group_instance_id = sm_read_nullable_string(r, 0);
    out->protocol_type = sm_read_string(r, 0);
    /* name + metadata */
    out->protocols = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->protocols), &out->n_protocols);
    for (int32_t i = 0; i < out->n_protocols && !r->err; i++) {
        out->protocols[i].name = sm_read_string(r, 0);
        out->protocols[i].metadata = sm_read_bytes(r, 0);
    }
    return sm_proto_check(r, SM_API_JOINGROUP, ver);
}

void
sm_proto_encode_JoinGroupRequest(sm_wbuf_t *w, int16_t ver, const sm_joingroup_req_t *in)
{
    sm_proto_write_str_nn(w, in->group_id);
    sm_write_i32(w, in->session_timeout_ms);
    if (ver >= 1) sm_write_i32(w, in->rebalance_timeout_ms);
    sm_proto_write_str_nn(w, in->member_id);
    if (ver >= 5) sm_write_string(w, in->group_instance_id, 0);
    sm_proto_write_str_nn(w, in->protocol_type);
    sm_proto_write_array_len(w, 0, 0, in->n_protocols);
    for (int32_t i = 0; i < in->n_protocols; i++) {
        sm_proto_write_str_nn(w, in->protocols[i].name);
        sm_proto_write_bytes_nn(w, in->protocols[i].metadata);
    }
}

void
sm_proto_encode_JoinGroupResponse(sm_wbuf_t *w, int16_t ver, const sm_joingroup_resp_t *in)
{
    if (ver >= 2) sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
    sm_write_i32(w, in->generation_id);
    sm_proto_write_str_nn(w, in->protocol_name);
    sm_proto_write_str_nn(w, in->leader);
    sm_proto_write_str_nn(w, in->member_id);
    sm_proto_write_array_len(w, 0, 0, in->n_members);
    for (int32_t i = 0; i < in->n_members; i++) {
        const sm_joingroup_member_t *m = &in->members[i];
        sm_proto_write_str_nn(w, m->member_id);
        if (ver >= 5) sm_write_string(w, m->group_instance_id, 0);
        sm_proto_write_bytes_nn(w, m->metadata);
    }
}

int
sm_proto_decode_JoinGroupResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_joingroup_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->generation_id = -1;
    out->n_members = 0;
    out->members = NULL;
    if (!sm_proto_codec_supports(SM_API_JOINGROUP, ver)) return -1;
    if (ver >= 2) out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    out->generation_id = sm_read_i32(r);
    out->protocol_name = sm_read_string(r, 0);
    out->leader = sm_read_string(r, 0);
    out->member_id = sm_read_string(r, 0);
    /* member_id + (instance id) + metadata */
    out->members = sm_proto_read_array(r, a, 0, 0, ver >= 5 ? 8 : 6, sizeof(*out->members),
                                       &out->n_members);
    for (int32_t i = 0; i < out->n_members && !r->err; i++) {
        sm_joingroup_member_t *m = &out->members[i];
        m->member_id = sm_read_string(r, 0);
        m->group_instance_id = ver >= 5 ? sm_read_nullable_string(r, 0) : SM_BYTES_NULL;
        m->metadata = sm_read_bytes(r, 0);
    }
    return sm_proto_check(r, SM_API_JOINGROUP, ver);
}

/* ---- SyncGroup ---- */

int
sm_proto_decode_SyncGroupRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_syncgroup_req_t *out)
{
    out->group_instance_id = SM_BYTES_NULL;
    out->n_assignments = 0;
    out->assignments = NULL;
    if (!sm_proto_codec_supports(SM_API_SYNCGROUP, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    out->generation_id = sm_read_i32(r);
    out->member_id = sm_read_string(r, 0);
    if (ver >= 3) out->group_instance_id = sm_read_nullable_string(r, 0);
    out->assignments = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->assignments),
                                           &out->n_assignments);
    for (int32_t i = 0; i < out->n_assignments && !r->err; i++) {
        out->assignments[i].member_id = sm_read_string(r, 0);
        out->assignments[i].assignment = sm_read_bytes(r, 0);
    }
    return sm_proto_check(r, SM_API_SYNCGROUP, ver);
}

void
sm_proto_encode_SyncGroupRequest(sm_wbuf_t *w, int16_t ver, const sm_syncgroup_req_t *in)
{
    sm_proto_write_str_nn(w, in->group_id);
    sm_write_i32(w, in->generation_id);
    sm_proto_write_str_nn(w, in->member_id);
    if (ver >= 3) sm_write_string(w, in->group_instance_id, 0);
    sm_proto_write_array_len(w, 0, 0, in->n_assignments);
    for (int32_t i = 0; i < in->n_assignments; i++) {
        sm_proto_write_str_nn(w, in->assignments[i].member_id);
        sm_proto_write_bytes_nn(w, in->assignments[i].assignment);
    }
}

void
sm_proto_encode_SyncGroupResponse(sm_wbuf_t *w, int16_t ver, const sm_syncgroup_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
    sm_proto_write_bytes_nn(w, in->assignment);
}

int
sm_proto_decode_SyncGroupResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_syncgroup_resp_t *out)
{
    (void)a;
    out->throttle_time_ms = 0;
    out->assignment = SM_BYTES_EMPTY;
    if (!sm_proto_codec_supports(SM_API_SYNCGROUP, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    out->assignment = sm_read_bytes(r, 0);
    return sm_proto_check(r, SM_API_SYNCGROUP, ver);
}

/* ---- Heartbeat ---- */

int
sm_proto_decode_HeartbeatRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_heartbeat_req_t *out)
{
    (void)a;
    out->group_instance_id = SM_BYTES_NULL;
    if (!sm_proto_codec_supports(SM_API_HEARTBEAT, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    out->generation_id = sm_read_i32(r);
    out->member_id = sm_read_string(r, 0);
    if (ver >= 3) out->group_instance_id = sm_read_nullable_string(r, 0);
    return sm_proto_check(r, SM_API_HEARTBEAT, ver);
}

void
sm_proto_encode_HeartbeatRequest(sm_wbuf_t *w, int16_t ver, const sm_heartbeat_req_t *in)
{
    sm_proto_write_str_nn(w, in->group_id);
    sm_write_i32(w, in->generation_id);
    sm_proto_write_str_nn(w, in->member_id);
    if (ver >= 3) sm_write_string(w, in->group_instance_id, 0);
}

void
sm_proto_encode_HeartbeatResponse(sm_wbuf_t *w, int16_t ver, const sm_heartbeat_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
}

int
sm_proto_decode_HeartbeatResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_heartbeat_resp_t *out)
{
    (void)a;
    out->throttle_time_ms = 0;
    if (!sm_proto_codec_supports(SM_API_HEARTBEAT, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    return sm_proto_check(r, SM_API_HEARTBEAT, ver);
}

/* ---- LeaveGroup ---- */

int
sm_proto_decode_LeaveGroupRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leavegroup_req_t *out)
{
    out->member_id = SM_BYTES_EMPTY;
    out->n_members = 0;
    out->members = NULL;
    if (!sm_proto_codec_supports(SM_API_LEAVEGROUP, ver)) return -1;
    out->group_id = sm_read_string(r, 0);
    if (ver <= 2) {
        out->member_id = sm_read_string(r, 0);
        if (!r->err) {
            /* One-element batch so the coordinator has a single code path. */
            out->members = sm_arena_calloc(a, 1, sizeof(*out->members));
            out->members[0].member_id = out->member_id;
            out->members[0].group_instance_id = SM_BYTES_NULL;
            out->n_members = 1;
        }
    } else {
        /* member_id + group_instance_id */
        out->members = sm_proto_read_array(r, a, 0, 0, 4, sizeof(*out->members), &out->n_members);
        for (int32_t i = 0; i < out->n_members && !r->err; i++) {
            out->members[i].member_id = sm_read_string(r, 0);
            out->members[i].group_instance_id = sm_read_nullable_string(r, 0);
        }
    }
    return sm_proto_check(r, SM_API_LEAVEGROUP, ver);
}

void
sm_proto_encode_LeaveGroupRequest(sm_wbuf_t *w, int16_t ver, const sm_leavegroup_req_t *in)
{
    sm_proto_write_str_nn(w, in->group_id);
    if (ver <= 2) {
        sm_proto_write_str_nn(w, in->member_id);
        return;
    }
    sm_proto_write_array_len(w, 0, 0, in->n_members);
    for (int32_t i = 0; i < in->n_members; i++) {
        sm_proto_write_str_nn(w, in->members[i].member_id);
        sm_write_string(w, in->members[i].group_instance_id, 0);
    }
}

void
sm_proto_encode_LeaveGroupResponse(sm_wbuf_t *w, int16_t ver, const sm_leavegroup_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_write_i16(w, in->error_code);
    if (ver < 3) return;
    sm_proto_write_array_len(w, 0, 0, in->n_members);
    for (int32_t i = 0; i < in->n_members; i++) {
        const sm_leavegroup_member_resp_t *m = &in->members[i];
        sm_proto_write_str_nn(w, m->member_id);
        sm_write_string(w, m->group_instance_id, 0);
        sm_write_i16(w, m->error_code);
    }
}

int
sm_proto_decode_LeaveGroupResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leavegroup_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_members = 0;
    out->members = NULL;
    if (!sm_proto_codec_supports(SM_API_LEAVEGROUP, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    out->error_code = sm_read_i16(r);
    if (ver >= 3) {
        /* member_id + group_instance_id + error_code */
        out->members = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*out->members), &out->n_members);
        for (int32_t i = 0; i < out->n_members && !r->err; i++) {
            sm_leavegroup_member_resp_t *m = &out->members[i];
            m->member_id = sm_read_string(r, 0);
            m->group_instance_id = sm_read_nullable_string(r, 0);
            m->error_code = sm_read_i16(r);
        }
    }
    return sm_proto_check(r, SM_API_LEAVEGROUP, ver);
}

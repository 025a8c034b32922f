/*
 * sm_proto_group.h - wire codecs of the consumer-group APIs: FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * ListGroups, DescribeGroups, DeleteGroups and OffsetDelete.
 *
 * Same conventions as sm_proto.h (read its header comment): four functions
 * per API, arrays from the caller's arena, strings and bytes as views into
 * the frame, decoders return -1 on malformed input or a version outside
 * sm_proto_codec_range(), fields absent in a version get Kafka's default,
 * encoders ignore fields the version lacks. Every range here is below the
 * API's first flexible version, so there are no compact encodings or tagged
 * fields. Non-nullable strings given as null (len -1) are written as "" so a
 * careless caller cannot produce a frame Kafka clients reject.
 *
 * Implementations: sm_proto_grp_coord.c (FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup), sm_proto_grp_offsets.c (OffsetCommit,
 * OffsetFetch, OffsetDelete), sm_proto_grp_admin.c (ListGroups,
 * DescribeGroups, DeleteGroups). The embedded consumer-protocol payloads and
 * the __consumer_offsets records are in sm_group_records.h.
 */
#ifndef SM_PROTO_GROUP_H
#define SM_PROTO_GROUP_H

#include "proto/sm_proto.h"

/* ---------------------------------------------------------------------- */
/* FindCoordinator (10), versions 0-2                                     */

typedef struct {
    sm_bytes_t key;                      /* group id (or transactional id) */
    int8_t key_type;                     /* v1+, 0 = group, 1 = transaction */
} sm_findcoordinator_req_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int16_t error_code;
    sm_bytes_t error_message;            /* v1+, nullable, default null */
    int32_t node_id;
    sm_bytes_t host;
    int32_t port;
} sm_findcoordinator_resp_t;

int  sm_proto_decode_FindCoordinatorRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_findcoordinator_req_t *out);
void sm_proto_encode_FindCoordinatorRequest(sm_wbuf_t *w, int16_t ver, const sm_findcoordinator_req_t *in);
void sm_proto_encode_FindCoordinatorResponse(sm_wbuf_t *w, int16_t ver, const sm_findcoordinator_resp_t *in);
int  sm_proto_decode_FindCoordinatorResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_findcoordinator_resp_t *out);

/* ---------------------------------------------------------------------- */
/* JoinGroup (11), versions 0-5                                           */

typedef struct {
    sm_bytes_t name;                     /* assignor name, e.g. "range" */
    sm_bytes_t metadata;                 /* ConsumerProtocolSubscription for "consumer" */
} sm_joingroup_protocol_t;

typedef struct {
    sm_bytes_t group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;        /* v1+, default -1 (v0: Kafka uses the session timeout) */
    sm_bytes_t member_id;                /* "" on first join */
    sm_bytes_t group_instance_id;        /* v5+, nullable, default null */
    sm_bytes_t protocol_type;            /* "consumer", "connect", ... */
    int32_t n_protocols;
    sm_joingroup_protocol_t *protocols;
} sm_joingroup_req_t;

typedef struct {
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* v5+, nullable, default null */
    sm_bytes_t metadata;
} sm_joingroup_member_t;

typedef struct {
    int32_t throttle_time_ms;            /* v2+ */
    int16_t error_code;
    int32_t generation_id;               /* -1 on error */
    sm_bytes_t protocol_name;            /* not nullable in v0-5 (null is written as "") */
    sm_bytes_t leader;
    sm_bytes_t member_id;
    int32_t n_members;                   /* non-empty only in the leader's response */
    sm_joingroup_member_t *members;
} sm_joingroup_resp_t;

int  sm_proto_decode_JoinGroupRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_joingroup_req_t *out);
void sm_proto_encode_JoinGroupRequest(sm_wbuf_t *w, int16_t ver, const sm_joingroup_req_t *in);
void sm_proto_encode_JoinGroupResponse(sm_wbuf_t *w, int16_t ver, const sm_joingroup_resp_t *in);
int  sm_proto_decode_JoinGroupResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_joingroup_resp_t *out);

/* ---------------------------------------------------------------------- */
/* SyncGroup (14), versions 0-3                                           */

typedef struct {
    sm_bytes_t member_id;
    sm_bytes_t assignment;               /* ConsumerProtocolAssignment for "consumer" */
} sm_syncgroup_assignment_t;

typedef struct {
    sm_bytes_t group_id;
    int32_t generation_id;
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* v3+, nullable, default null */
    int32_t n_assignments;               /* only the leader sends assignments */
    sm_syncgroup_assignment_t *assignments;
} sm_syncgroup_req_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int16_t error_code;
    sm_bytes_t assignment;               /* this member's assignment (may be empty) */
} sm_syncgroup_resp_t;

int  sm_proto_decode_SyncGroupRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_syncgroup_req_t *out);
void sm_proto_encode_SyncGroupRequest(sm_wbuf_t *w, int16_t ver, const sm_syncgroup_req_t *in);
void sm_proto_encode_SyncGroupResponse(sm_wbuf_t *w, int16_t ver, const sm_syncgroup_resp_t *in);
int  sm_proto_decode_SyncGroupResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_syncgroup_resp_t *out);

/* ---------------------------------------------------------------------- */
/* Heartbeat (12), versions 0-3                                           */

typedef struct {
    sm_bytes_t group_id;
    int32_t generation_id;
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* v3+, nullable, default null */
} sm_heartbeat_req_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int16_t error_code;
} sm_heartbeat_resp_t;

int  sm_proto_decode_HeartbeatRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_heartbeat_req_t *out);
void sm_proto_encode_HeartbeatRequest(sm_wbuf_t *w, int16_t ver, const sm_heartbeat_req_t *in);
void sm_proto_encode_HeartbeatResponse(sm_wbuf_t *w, int16_t ver, const sm_heartbeat_resp_t *in);
int  sm_proto_decode_HeartbeatResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_heartbeat_resp_t *out);

/* ---------------------------------------------------------------------- */
/* LeaveGroup (13), versions 0-3                                          */

typedef struct {
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* nullable */
} sm_leavegroup_member_t;

/* v0-2 carry one member_id; v3 a batch of members (KIP-345). The decoder of
 * v0-2 ALSO fills members with one entry {member_id, null}, as Kafka's
 * LeaveGroupRequest.members() does, so a coordinator can iterate `members`
 * for every version. The v3 decoder leaves member_id as "". The v0-2
 * encoder writes member_id and ignores members; v3 does the opposite. */
typedef struct {
    sm_bytes_t group_id;
    sm_bytes_t member_id;                /* v0-2 */
    int32_t n_members;                   /* v3 (synthesised for v0-2 on decode) */
    sm_leavegroup_member_t *members;
} sm_leavegroup_req_t;

typedef struct {
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* nullable */
    int16_t error_code;
} sm_leavegroup_member_resp_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int16_t error_code;                  /* top-level error */
    int32_t n_members;                   /* v3+: per-member results */
    sm_leavegroup_member_resp_t *members;
} sm_leavegroup_resp_t;

int  sm_proto_decode_LeaveGroupRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leavegroup_req_t *out);
void sm_proto_encode_LeaveGroupRequest(sm_wbuf_t *w, int16_t ver, const sm_leavegroup_req_t *in);
void sm_proto_encode_LeaveGroupResponse(sm_wbuf_t *w, int16_t ver, const sm_leavegroup_resp_t *in);
int  sm_proto_decode_LeaveGroupResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leavegroup_resp_t *out);

/* ---------------------------------------------------------------------- */
/* Shared by OffsetCommit and OffsetDelete responses                      */

typedef struct {
    int32_t partition_index;
    int16_t error_code;
} sm_grp_part_err_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_grp_part_err_t *partitions;
} sm_grp_topic_err_t;

/* ---------------------------------------------------------------------- */
/* OffsetCommit (8), versions 0-7                                         */

typedef struct {
    int32_t partition_index;
    int64_t committed_offset;
    int32_t committed_leader_epoch;      /* v6+, default -1 */
    int64_t commit_timestamp;            /* v1 only, default -1 */
    sm_bytes_t committed_metadata;       /* nullable */
} sm_offsetcommit_req_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_offsetcommit_req_part_t *partitions;
} sm_offsetcommit_req_topic_t;

typedef struct {
    sm_bytes_t group_id;
    int32_t generation_id;               /* v1+, default -1 ("simple" commit) */
    sm_bytes_t member_id;                /* v1+, default "" */
    sm_bytes_t group_instance_id;        /* v7+, nullable, default null */
    int64_t retention_time_ms;           /* v2-4, default -1 (broker default) */
    int32_t n_topics;
    sm_offsetcommit_req_topic_t *topics;
} sm_offsetcommit_req_t;

typedef struct {
    int32_t throttle_time_ms;            /* v3+ */
    int32_t n_topics;
    sm_grp_topic_err_t *topics;
} sm_offsetcommit_resp_t;

int  sm_proto_decode_OffsetCommitRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetcommit_req_t *out);
void sm_proto_encode_OffsetCommitRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetcommit_req_t *in);
void sm_proto_encode_OffsetCommitResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetcommit_resp_t *in);
int  sm_proto_decode_OffsetCommitResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetcommit_resp_t *out);

/* ---------------------------------------------------------------------- */
/* OffsetFetch (9), versions 0-5                                          */

typedef struct {
    sm_bytes_t name;
    int32_t n_partition_indexes;
    int32_t *partition_indexes;
} sm_offsetfetch_req_topic_t;

typedef struct {
    sm_bytes_t group_id;
    int32_t n_topics;                    /* -1 (null, v2+) = every committed partition */
    sm_offsetfetch_req_topic_t *topics;
} sm_offsetfetch_req_t;

typedef struct {
    int32_t partition_index;
    int64_t committed_offset;            /* -1 = none */
    int32_t committed_leader_epoch;      /* v5+, default -1 */
    sm_bytes_t metadata;                 /* nullable */
    int16_t error_code;
} sm_offsetfetch_resp_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_offsetfetch_resp_part_t *partitions;
} sm_offsetfetch_resp_topic_t;

typedef struct {
    int32_t throttle_time_ms;            /* v3+ */
    int32_t n_topics;
    sm_offsetfetch_resp_topic_t *topics;
    int16_t error_code;                  /* v2+, top-level (written after topics) */
} sm_offsetfetch_resp_t;

int  sm_proto_decode_OffsetFetchRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetfetch_req_t *out);
void sm_proto_encode_OffsetFetchRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetfetch_req_t *in);
void sm_proto_encode_OffsetFetchResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetfetch_resp_t *in);
int  sm_proto_decode_OffsetFetchResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetfetch_resp_t *out);

/* ---------------------------------------------------------------------- */
/* ListGroups (16), versions 0-2 (the request body is empty)              */

typedef struct {
    int32_t n_states_filter;             /* v4+ only: always 0 in this codec range */
    sm_bytes_t *states_filter;
} sm_listgroups_req_t;

typedef struct {
    sm_bytes_t group_id;
    sm_bytes_t protocol_type;
} sm_listgroups_group_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int16_t error_code;
    int32_t n_groups;
    sm_listgroups_group_t *groups;
} sm_listgroups_resp_t;

int  sm_proto_decode_ListGroupsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_listgroups_req_t *out);
void sm_proto_encode_ListGroupsRequest(sm_wbuf_t *w, int16_t ver, const sm_listgroups_req_t *in);
void sm_proto_encode_ListGroupsResponse(sm_wbuf_t *w, int16_t ver, const sm_listgroups_resp_t *in);
int  sm_proto_decode_ListGroupsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_listgroups_resp_t *out);

/* ---------------------------------------------------------------------- */
/* DescribeGroups (15), versions 0-4                                      */

typedef struct {
    int32_t n_groups;
    sm_bytes_t *groups;
    int8_t include_authorized_operations; /* v3+ */
} sm_describegroups_req_t;

typedef struct {
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* v4+, nullable, default null */
    sm_bytes_t client_id;
    sm_bytes_t client_host;
    sm_bytes_t member_metadata;          /* subscription (only when Stable etc.) */
    sm_bytes_t member_assignment;
} sm_describegroups_member_t;

typedef struct {
    int16_t error_code;
    sm_bytes_t group_id;
    sm_bytes_t group_state;              /* "Stable", "Empty", "Dead", ... */
    sm_bytes_t protocol_type;
    sm_bytes_t protocol_data;            /* assignor name when Stable */
    int32_t n_members;
    sm_describegroups_member_t *members;
    int32_t authorized_operations;       /* v3+, default INT32_MIN */
} sm_describegroups_group_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int32_t n_groups;
    sm_describegroups_group_t *groups;
} sm_describegroups_resp_t;

int  sm_proto_decode_DescribeGroupsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describegroups_req_t *out);
void sm_proto_encode_DescribeGroupsRequest(sm_wbuf_t *w, int16_t ver, const sm_describegroups_req_t *in);
void sm_proto_encode_DescribeGroupsResponse(sm_wbuf_t *w, int16_t ver, const sm_describegroups_resp_t *in);
int  sm_proto_decode_DescribeGroupsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describegroups_resp_t *out);

/* ---------------------------------------------------------------------- */
/* DeleteGroups (42), versions 0-1 (v1 is identical to v0)                */

typedef struct {
    int32_t n_groups_names;
    sm_bytes_t *groups_names;
} sm_deletegroups_req_t;

typedef struct {
    sm_bytes_t group_id;
    int16_t error_code;
} sm_deletegroups_result_t;

typedef struct {
    int32_t throttle_time_ms;
    int32_t n_results;
    sm_deletegroups_result_t *results;
} sm_deletegroups_resp_t;

int  sm_proto_decode_DeleteGroupsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deletegroups_req_t *out);
void sm_proto_encode_DeleteGroupsRequest(sm_wbuf_t *w, int16_t ver, const sm_deletegroups_req_t *in);
void sm_proto_encode_DeleteGroupsResponse(sm_wbuf_t *w, int16_t ver, const sm_deletegroups_resp_t *in);
int  sm_proto_decode_DeleteGroupsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deletegroups_resp_t *out);

/* ---------------------------------------------------------------------- */
/* OffsetDelete (47), version 0                                           */

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    int32_t *partitions;                 /* partition indexes */
} sm_offsetdelete_req_topic_t;

typedef struct {
    sm_bytes_t group_id;
    int32_t n_topics;
    sm_offsetdelete_req_topic_t *topics;
} sm_offsetdelete_req_t;

typedef struct {
    int16_t error_code;                  /* top-level, written first */
    int32_t throttle_time_ms;
    int32_t n_topics;
    sm_grp_topic_err_t *topics;
} sm_offsetdelete_resp_t;

int  sm_proto_decode_OffsetDeleteRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetdelete_req_t *out);
void sm_proto_encode_OffsetDeleteRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetdelete_req_t *in);
void sm_proto_encode_OffsetDeleteResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetdelete_resp_t *in);
int  sm_proto_decode_OffsetDeleteResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetdelete_resp_t *out);

#endif

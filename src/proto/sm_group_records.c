/*
 * sm_group_records.c - the consumer embedded protocol (subscription and
 * assignment blobs) and the __consumer_offsets key/value records.
 *
 * Layouts follow Kafka 2.8's ConsumerProtocol{Subscription,Assignment}.json
 * and the internal-records JSON (OffsetCommitKey/Value, GroupMetadataKey/
 * Value); see sm_group_records.h for the version policy.
 */
#include "proto/sm_group_records.h"

#include "proto/sm_proto.h"


/* ---- consumer embedded protocol ---- */

static sm_cp_topic_parts_t *
read_topic_parts(sm_reader_t *r, sm_arena_t *a, int32_t *n)
{
    /* topic + partition count */
    sm_cp_topic_parts_t *t = sm_proto_read_array(r, a, 0, 0, 6, sizeof(*t), n);
    for (int32_t i = 0; i < *n && !r->err; i++) {
        t[i].topic = sm_read_string(r, 0);
        t[i].partitions = sm_proto_read_i32_array(r, a, 0, 0, &t[i].n_partitions);
    }
    return t;
}

static void
write_topic_parts(sm_wbuf_t *w, int32_t n, const sm_cp_topic_parts_t *t)
{
    sm_proto_write_array_len(w, 0, 0, n);
    for (int32_t i = 0; i < n; i++) {
        sm_proto_write_str_nn(w, t[i].topic);
        sm_proto_write_i32_array(w, 0, 0, t[i].n_partitions, t[i].partitions);
    }
}

int
sm_group_decode_ConsumerProtocolSubscription(sm_reader_t *r, sm_arena_t *a,
                                             sm_consumer_subscription_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    out->user_data = SM_BYTES_NULL;
    out->n_owned_partitions = 0;
    out->owned_partitions = NULL;
    out->version = sm_read_i16(r);
    if (r->err || out->version < 0) return -1;
    out->topics = sm_proto_read_str_array(r, a, 0, 0, &out->n_topics);
    out->user_data = sm_read_nullable_bytes(r, 0);
    /* Newer versions only append fields, so they parse as v1 (Kafka does the same). */
    if (out->version >= 1)
        out->owned_partitions = read_topic_parts(r, a, &out->n_owned_partitions);
    return r->err ? -1 : 0;
}

void
sm_group_encode_ConsumerProtocolSubscription(sm_wbuf_t *w, int16_t ver,
                                             const sm_consumer_subscription_t *in)
{
    sm_write_i16(w, ver);
    sm_proto_write_str_array(w, 0, 0, in->n_topics, in->topics);
    sm_write_bytes(w, in->user_data, 0);
    if (ver >= 1) write_topic_parts(w, in->n_owned_partitions, in->owned_partitions);
}

int
sm_group_decode_ConsumerProtocolAssignment(sm_reader_t *r, sm_arena_t *a,
                                           sm_consumer_assignment_t *out)
{
    out->n_assigned = 0;
    out->assigned = NULL;
    out->user_data = SM_BYTES_NULL;
    out->version = sm_read_i16(r);
    if (r->err || out->version < 0) return -1;
    out->assigned = read_topic_parts(r, a, &out->n_assigned);
    out->user_data = sm_read_nullable_bytes(r, 0);
    return r->err ? -1 : 0;
}

void
sm_group_encode_ConsumerProtocolAssignment(sm_wbuf_t *w, int16_t ver,
                                           const sm_consumer_assignment_t *in)
{
    /* v1 has the same fields as v0 (it signals cooperative rebalancing). */
    sm_write_i16(w, ver);
    write_topic_parts(w, in->n_assigned, in->assigned);
    sm_write_bytes(w, in->user_data, 0);
}

/* ---- __consumer_offsets keys ---- */

int
sm_group_decode_key(sm_reader_t *r, sm_group_key_t *out)
{
    out->topic = SM_BYTES_NULL;
    out->partition = -1;
    out->version = sm_read_i16(r);
    out->group = sm_read_string(r, 0);
    if (r->err) return -1;
    if (out->version == 0 || out->version == 1) {
        out->topic = sm_read_string(r, 0);
        out->partition = sm_read_i32(r);
    } else if (out->version != 2) {
        return -1;
    }
    return r->err ? -1 : 0;
}

void
sm_group_encode_OffsetCommitKey(sm_wbuf_t *w, int16_t ver, sm_bytes_t group, sm_bytes_t topic,
                                int32_t partition)
{
    sm_write_i16(w, ver);
    sm_proto_write_str_nn(w, group);
    sm_proto_write_str_nn(w, topic);
    sm_write_i32(w, partition);
}

void
sm_group_encode_GroupMetadataKey(sm_wbuf_t *w, sm_bytes_t group)
{
    sm_write_i16(w, 2);
    sm_proto_write_str_nn(w, group);
}

/* ---- OffsetCommitValue ---- */

int
sm_group_decode_OffsetCommitValue(sm_reader_t *r, sm_offset_commit_value_t *out)
{
    out->leader_epoch = -1;
    out->expire_timestamp = -1;
    out->metadata = SM_BYTES_EMPTY;
    out->version = sm_read_i16(r);
    if (r->err || out->version < 0 || out->version > 3) return -1;
    out->offset = sm_read_i64(r);
    if (out->version >= 3) out->leader_epoch = sm_read_i32(r);
    out->metadata = sm_read_string(r, 0);
    out->commit_timestamp = sm_read_i64(r);
    if (out->version == 1) out->expire_timestamp = sm_read_i64(r);
    return r->err ? -1 : 0;
}

void
sm_group_encode_OffsetCommitValue(sm_wbuf_t *w, int16_t ver, const sm_offset_commit_value_t *in)
{
    sm_write_i16(w, ver);
    sm_write_i64(w, in->offset);
    if (ver >= 3) sm_write_i32(w, in->leader_epoch);
    sm_proto_write_str_nn(w, in->metadata);
    sm_write_i64(w, in->commit_timestamp);
    if (ver == 1) sm_write_i64(w, in->expire_timestamp);
}

/* ---- GroupMetadataValue ---- */

int
sm_group_decode_GroupMetadataValue(sm_reader_t *r, sm_arena_t *a, sm_group_metadata_value_t *out)
{
    out->protocol = out->leader = SM_BYTES_NULL;
    out->current_state_timestamp = -1;
    out->n_members = 0;
    out->members = NULL;
    out->version = sm_read_i16(r);
    if (r->err || out->version < 0 || out->version > 3) return -1;
    int16_t v = out->version;
    out->protocol_type = sm_read_string(r, 0);
    out->generation = sm_read_i32(r);
    out->protocol = sm_read_nullable_string(r, 0);
    out->leader = sm_read_nullable_string(r, 0);
    if (v >= 2) out->current_state_timestamp = sm_read_i64(r);
    /* 3 strings + session timeout + 2 byte fields (+ rebalance, + instance id) */
    size_t mmin = 18 + (v >= 1 ? 4 : 0) + (v >= 3 ? 2 : 0);
    out->members = sm_proto_read_array(r, a, 0, 0, mmin, sizeof(*out->members), &out->n_members);
    for (int32_t i = 0; i < out->n_members && !r->err; i++) {
        sm_group_member_md_t *m = &out->members[i];
        m->member_id = sm_read_string(r, 0);
        m->group_instance_id = v >= 3 ? sm_read_nullable_string(r, 0) : SM_BYTES_NULL;
        m->client_id = sm_read_string(r, 0);
        m->client_host = sm_read_string(r, 0);
        int32_t rebalance = v >= 1 ? sm_read_i32(r) : 0;
        m->session_timeout = sm_read_i32(r);
        /* v0 predates the separate rebalance timeout; Kafka reuses the session timeout. */
        m->rebalance_timeout = v >= 1 ? rebalance : m->session_timeout;
        m->subscription = sm_read_bytes(r, 0);
        m->assignment = sm_read_bytes(r, 0);
    }
    return r->err ? -1 : 0;
}

void
sm_group_encode_GroupMetadataValue(sm_wbuf_t *w, int16_t ver, const sm_group_metadata_value_t *in)
{
    sm_write_i16(w, ver);
    sm_proto_write_str_nn(w, in->protocol_type);
    sm_write_i32(w, in->generation);
    sm_write_string(w, in->protocol, 0);
    sm_write_string(w, in->leader, 0);
    if (ver >= 2) sm_write_i64(w, in->current_state_timestamp);
    sm_proto_write_array_len(w, 0, 0, in->n_members);
    for (int32_t i = 0; i < in->n_members; i++) {
        const sm_group_member_md_t *m = &in->members[i];
        sm_proto_write_str_nn(w, m->member_id);
        if (ver >= 3) sm_write_string(w, m->group_instance_id, 0);
        sm_proto_write_str_nn(w, m->client_id);
        sm_proto_write_str_nn(w, m->client_host);
        if (ver >= 1) sm_write_i32(w, m->rebalance_timeout);
        sm_write_i32(w, m->session_timeout);
        sm_proto_write_bytes_nn(w, m->subscription);
        sm_proto_write_bytes_nn(w, m->assignment);
    }
}

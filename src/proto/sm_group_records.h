/*
 * sm_group_records.h - byte formats that live inside group APIs and the
 * __consumer_offsets topic, not in request/response bodies:
 *
 *   - the "consumer" embedded protocol: ConsumerProtocolSubscription (the
 *     JoinGroup protocol metadata) and ConsumerProtocolAssignment (the
 *     SyncGroup assignment), versions 0-1;
 *   - the __consumer_offsets record keys and values: OffsetCommitKey v0-1,
 *     OffsetCommitValue v0-3, GroupMetadataKey v2, GroupMetadataValue v0-3.
 *
 * Every payload starts with an int16 version followed by a non-flexible
 * struct (int16-length strings, int32-length bytes, int32 array counts).
 * Decoders read through sm_reader_t (never crash on hostile bytes), take
 * arrays from the caller's arena and return views into the input, so the
 * result lives as long as both. They return 0 or -1 (malformed, or a version
 * Kafka would refuse). Trailing bytes are tolerated. Encoders append to an
 * sm_wbuf_t. Thread-safe: no shared state. A record whose value is null is
 * a tombstone: callers handle that before calling a value decoder.
 */
#ifndef SM_GROUP_RECORDS_H
#define SM_GROUP_RECORDS_H

#include <stdint.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"

/* ---------------------------------------------------------------------- */
/* Consumer embedded protocol (protocol_type "consumer")                  */

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    int32_t *partitions;
} sm_cp_topic_parts_t;

typedef struct {
    int16_t version;                     /* as found on the wire */
    int32_t n_topics;
    sm_bytes_t *topics;
    sm_bytes_t user_data;                /* nullable */
    int32_t n_owned_partitions;          /* v1+ (KIP-429), else 0 */
    sm_cp_topic_parts_t *owned_partitions;
} sm_consumer_subscription_t;

typedef struct {
    int16_t version;                     /* as found on the wire */
    int32_t n_assigned;
    sm_cp_topic_parts_t *assigned;
    sm_bytes_t user_data;                /* nullable */
} sm_consumer_assignment_t;

/* Decode a JoinGroup protocol metadata / SyncGroup assignment blob. As in
 * Kafka's ConsumerProtocol, a version above 1 is read as version 1 (newer
 * versions only append fields) and a negative version fails. An empty
 * assignment blob (0 bytes: a member that got nothing) fails too; callers
 * that accept it must test the length first. */
int sm_group_decode_ConsumerProtocolSubscription(sm_reader_t *r, sm_arena_t *a,
                                                 sm_consumer_subscription_t *out);
int sm_group_decode_ConsumerProtocolAssignment(sm_reader_t *r, sm_arena_t *a,
                                               sm_consumer_assignment_t *out);
/* Encode with version ver (0 or 1): the int16 version, then the fields the
 * version has. */
void sm_group_encode_ConsumerProtocolSubscription(sm_wbuf_t *w, int16_t ver,
                                                  const sm_consumer_subscription_t *in);
void sm_group_encode_ConsumerProtocolAssignment(sm_wbuf_t *w, int16_t ver,
                                                const sm_consumer_assignment_t *in);

/* ---------------------------------------------------------------------- */
/* __consumer_offsets keys                                                */

/* A decoded key. version 0 or 1: OffsetCommitKey (group, topic, partition);
 * version 2: GroupMetadataKey (group only; topic is null, partition -1). */
typedef struct {
    int16_t version;
    sm_bytes_t group;
    sm_bytes_t topic;
    int32_t partition;
} sm_group_key_t;

#define SM_GROUP_KEY_IS_OFFSET(k) ((k)->version <= 1)
#define SM_GROUP_KEY_IS_METADATA(k) ((k)->version == 2)

/* Decode any key; -1 for malformed bytes or a version other than 0-2. */
int sm_group_decode_key(sm_reader_t *r, sm_group_key_t *out);
/* OffsetCommitKey with version ver (0 or 1; Kafka 2.8 writes 1 - the two are
 * byte-identical apart from the version). */
void sm_group_encode_OffsetCommitKey(sm_wbuf_t *w, int16_t ver, sm_bytes_t group,
                                     sm_bytes_t topic, int32_t partition);
/* GroupMetadataKey version 2. */
void sm_group_encode_GroupMetadataKey(sm_wbuf_t *w, sm_bytes_t group);

/* ---------------------------------------------------------------------- */
/* OffsetCommitValue                                                      */

typedef struct {
    int16_t version;                     /* as decoded / ignored by the encoder */
    int64_t offset;
    int32_t leader_epoch;                /* v3+, default -1 */
    sm_bytes_t metadata;                 /* not nullable (null written as "") */
    int64_t commit_timestamp;
    int64_t expire_timestamp;            /* v1 only, default -1 */
} sm_offset_commit_value_t;

/* The version Kafka 2.8 (IBP >= 2.1-IV1) writes: 1 when an explicit expire
 * timestamp is set (OffsetCommit v1 commit_timestamp / v2-4 retention), else 3. */
static inline int16_t sm_group_offset_value_version(const sm_offset_commit_value_t *v) {
    return v->expire_timestamp >= 0 ? 1 : 3;
}
int  sm_group_decode_OffsetCommitValue(sm_reader_t *r, sm_offset_commit_value_t *out);
/* ver 0-3 (normally sm_group_offset_value_version(in)). */
void sm_group_encode_OffsetCommitValue(sm_wbuf_t *w, int16_t ver, const sm_offset_commit_value_t *in);

/* ---------------------------------------------------------------------- */
/* GroupMetadataValue                                                     */

typedef struct {
    sm_bytes_t member_id;
    sm_bytes_t group_instance_id;        /* v3+, nullable, default null */
    sm_bytes_t client_id;
    sm_bytes_t client_host;
    int32_t rebalance_timeout;           /* v1+; v0 decodes as session_timeout (as Kafka) */
    int32_t session_timeout;
    sm_bytes_t subscription;             /* JoinGroup metadata of the chosen protocol */
    sm_bytes_t assignment;
} sm_group_member_md_t;

typedef struct {
    int16_t version;                     /* as decoded / ignored by the encoder */
    sm_bytes_t protocol_type;
    int32_t generation;
    sm_bytes_t protocol;                 /* nullable (null when Empty) */
    sm_bytes_t leader;                   /* nullable */
    int64_t current_state_timestamp;     /* v2+, default -1 */
    int32_t n_members;
    sm_group_member_md_t *members;
} sm_group_metadata_value_t;

/* Kafka 2.8 (IBP >= 2.3) writes version 3. */
#define SM_GROUP_METADATA_VALUE_VERSION 3
int  sm_group_decode_GroupMetadataValue(sm_reader_t *r, sm_arena_t *a, sm_group_metadata_value_t *out);
/* ver 0-3 (normally SM_GROUP_METADATA_VALUE_VERSION). */
void sm_group_encode_GroupMetadataValue(sm_wbuf_t *w, int16_t ver, const sm_group_metadata_value_t *in);

#endif

/*
 * sm_proto_interbroker.h - wire codecs of the inter-broker APIs of classic
 * (ZooKeeper-mode) Kafka, plus three broker APIs that other work builds on:
 *
 *   LeaderAndIsr (4) v0-4          (v4 flexible)
 *   StopReplica (5) v0-3           (v2-3 flexible)
 *   UpdateMetadata (6) v0-6        (v6 flexible)
 *   ControlledShutdown (7) v0-3    (v3 flexible; v0 uses request header v0)
 *   OffsetForLeaderEpoch (23) v0-3
 *   InitProducerId (22) v0-1
 *   AlterConfigs (33) v0-1
 *   DeleteRecords (21) v0-1
 *
 * Conventions are exactly those of sm_proto.h (four functions per API,
 * arena arrays, views into the frame, defaults for absent fields, -1 on
 * malformed input). Flexible versions use compact strings/arrays and write
 * an empty tagged-field section after every struct; decoders skip unknown
 * tagged fields.
 *
 * Versions that Kafka lays out "ungrouped" (LeaderAndIsr v0-1,
 * UpdateMetadata v0-4, StopReplica v0: one topic name per partition) are
 * presented grouped by topic like the newer versions: the decoder makes one
 * topic entry per wire partition, and the encoder writes each partition
 * with its topic's name, so callers never care which layout was on the wire.
 */
#ifndef SM_PROTO_INTERBROKER_H
#define SM_PROTO_INTERBROKER_H

#include <stdint.h>
#include "proto/sm_proto.h"

/* Per-partition error in LeaderAndIsr (v0-4) and StopReplica responses. */
typedef struct {
    sm_bytes_t topic;
    int32_t partition;
    int16_t error_code;
} sm_ib_part_error_t;

/* ---------------------------------------------------------------------- */
/* LeaderAndIsr (4), versions 0-4                                         */

typedef struct {
    int32_t partition_index;
    int32_t controller_epoch;
    int32_t leader;
    int32_t leader_epoch;
    int32_t n_isr;
    int32_t *isr;
    int32_t zk_version;
    int32_t n_replicas;
    int32_t *replicas;
    int32_t n_adding_replicas;           /* v3+ */
    int32_t *adding_replicas;
    int32_t n_removing_replicas;         /* v3+ */
    int32_t *removing_replicas;
    int8_t is_new;                       /* v1+, default 0 */
} sm_lai_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_lai_part_t *partitions;
} sm_lai_topic_t;

typedef struct {
    int32_t broker_id;
    sm_bytes_t host;
    int32_t port;
} sm_lai_leader_t;

typedef struct {
    int32_t controller_id;
    int32_t controller_epoch;
    int64_t broker_epoch;                /* v2+, default -1 */
    int32_t n_topics;
    sm_lai_topic_t *topics;
    int32_t n_live_leaders;
    sm_lai_leader_t *live_leaders;
} sm_leaderandisr_req_t;

typedef struct {
    int16_t error_code;
    int32_t n_partition_errors;
    sm_ib_part_error_t *partition_errors;
} sm_leaderandisr_resp_t;

int  sm_proto_decode_LeaderAndIsrRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leaderandisr_req_t *out);
void sm_proto_encode_LeaderAndIsrRequest(sm_wbuf_t *w, int16_t ver, const sm_leaderandisr_req_t *in);
void sm_proto_encode_LeaderAndIsrResponse(sm_wbuf_t *w, int16_t ver, const sm_leaderandisr_resp_t *in);
int  sm_proto_decode_LeaderAndIsrResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leaderandisr_resp_t *out);

/* ---------------------------------------------------------------------- */
/* UpdateMetadata (6), versions 0-6                                       */

typedef struct {
    int32_t partition_index;
    int32_t controller_epoch;
    int32_t leader;                      /* -2: topic being deleted */
    int32_t leader_epoch;
    int32_t n_isr;
    int32_t *isr;
    int32_t zk_version;
    int32_t n_replicas;
    int32_t *replicas;
    int32_t n_offline_replicas;          /* v4+ */
    int32_t *offline_replicas;
} sm_um_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_um_part_t *partitions;
} sm_um_topic_t;

typedef struct {
    int32_t port;
    sm_bytes_t host;
    sm_bytes_t listener;                 /* v3+, default "" */
    int16_t security_protocol;           /* v1+, 0 = PLAINTEXT */
} sm_um_endpoint_t;

typedef struct {
    int32_t id;
    /* v0 carries exactly one host/port: the encoder writes endpoints[0]
     * (empty host, port -1 if there is none) and the decoder yields one
     * endpoint with listener "" and security protocol 0. */
    int32_t n_endpoints;
    sm_um_endpoint_t *endpoints;
    sm_bytes_t rack;                     /* v2+, nullable, default null */
} sm_um_broker_t;

typedef struct {
    int32_t controller_id;
    int32_t controller_epoch;
    int64_t broker_epoch;                /* v5+, default -1 */
    int32_t n_topics;
    sm_um_topic_t *topics;
    int32_t n_live_brokers;
    sm_um_broker_t *live_brokers;
} sm_updatemetadata_req_t;

typedef struct {
    int16_t error_code;
} sm_updatemetadata_resp_t;

int  sm_proto_decode_UpdateMetadataRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_updatemetadata_req_t *out);
void sm_proto_encode_UpdateMetadataRequest(sm_wbuf_t *w, int16_t ver, const sm_updatemetadata_req_t *in);
void sm_proto_encode_UpdateMetadataResponse(sm_wbuf_t *w, int16_t ver, const sm_updatemetadata_resp_t *in);
int  sm_proto_decode_UpdateMetadataResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_updatemetadata_resp_t *out);

/* ---------------------------------------------------------------------- */
/* StopReplica (5), versions 0-3                                          */

typedef struct {
    int32_t partition_index;
    int32_t leader_epoch;                /* v3+, default -1 */
    int8_t delete_partition;             /* v3+; v0-2: the request's flag */
} sm_sr_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_sr_part_t *partitions;
} sm_sr_topic_t;

typedef struct {
    int32_t controller_id;
    int32_t controller_epoch;
    int64_t broker_epoch;                /* v1+, default -1 */
    int8_t delete_partitions;            /* v0-2; decoders of v3 leave it 0 */
    int32_t n_topics;
    sm_sr_topic_t *topics;
} sm_stopreplica_req_t;

typedef struct {
    int16_t error_code;
    int32_t n_partition_errors;
    sm_ib_part_error_t *partition_errors;
} sm_stopreplica_resp_t;

/* Decoders of v0-2 copy delete_partitions into every partition's
 * delete_partition, so handlers read the per-partition flag only. Encoders of
 * v0-2 write delete_partitions and ignore the per-partition values. */
int  sm_proto_decode_StopReplicaRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_stopreplica_req_t *out);
void sm_proto_encode_StopReplicaRequest(sm_wbuf_t *w, int16_t ver, const sm_stopreplica_req_t *in);
void sm_proto_encode_StopReplicaResponse(sm_wbuf_t *w, int16_t ver, const sm_stopreplica_resp_t *in);
int  sm_proto_decode_StopReplicaResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_stopreplica_resp_t *out);

/* ---------------------------------------------------------------------- */
/* ControlledShutdown (7), versions 0-3                                   */

typedef struct {
    int32_t broker_id;
    int64_t broker_epoch;                /* v2+, default -1 */
} sm_controlledshutdown_req_t;

typedef struct {
    sm_bytes_t topic;
    int32_t partition;
} sm_cs_remaining_t;

typedef struct {
    int16_t error_code;
    int32_t n_remaining;
    sm_cs_remaining_t *remaining;
} sm_controlledshutdown_resp_t;

int  sm_proto_decode_ControlledShutdownRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_controlledshutdown_req_t *out);
void sm_proto_encode_ControlledShutdownRequest(sm_wbuf_t *w, int16_t ver, const sm_controlledshutdown_req_t *in);
void sm_proto_encode_ControlledShutdownResponse(sm_wbuf_t *w, int16_t ver, const sm_controlledshutdown_resp_t *in);
int  sm_proto_decode_ControlledShutdownResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_controlledshutdown_resp_t *out);

/* ---------------------------------------------------------------------- */
/* OffsetForLeaderEpoch (23), versions 0-3                                */

typedef struct {
    int32_t partition;
    int32_t current_leader_epoch;        /* v2+, default -1 */
    int32_t leader_epoch;
} sm_ofle_req_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_ofle_req_part_t *partitions;
} sm_ofle_req_topic_t;

typedef struct {
    int32_t replica_id;                  /* v3+, default -2 (consumer) */
    int32_t n_topics;
    sm_ofle_req_topic_t *topics;
} sm_offsetforleaderepoch_req_t;

typedef struct {
    int16_t error_code;
    int32_t partition;
    int32_t leader_epoch;                /* v1+, default -1 */
    int64_t end_offset;
} sm_ofle_resp_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_ofle_resp_part_t *partitions;
} sm_ofle_resp_topic_t;

typedef struct {
    int32_t throttle_time_ms;            /* v2+ */
    int32_t n_topics;
    sm_ofle_resp_topic_t *topics;
} sm_offsetforleaderepoch_resp_t;

int  sm_proto_decode_OffsetForLeaderEpochRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetforleaderepoch_req_t *out);
void sm_proto_encode_OffsetForLeaderEpochRequest(sm_wbuf_t *w, int16_t ver, const sm_offsetforleaderepoch_req_t *in);
void sm_proto_encode_OffsetForLeaderEpochResponse(sm_wbuf_t *w, int16_t ver, const sm_offsetforleaderepoch_resp_t *in);
int  sm_proto_decode_OffsetForLeaderEpochResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_offsetforleaderepoch_resp_t *out);

/* ---------------------------------------------------------------------- */
/* InitProducerId (22), versions 0-1 (v1 is identical to v0)              */

typedef struct {
    sm_bytes_t transactional_id;         /* nullable */
    int32_t transaction_timeout_ms;
} sm_initproducerid_req_t;

typedef struct {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
} sm_initproducerid_resp_t;

int  sm_proto_decode_InitProducerIdRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_initproducerid_req_t *out);
void sm_proto_encode_InitProducerIdRequest(sm_wbuf_t *w, int16_t ver, const sm_initproducerid_req_t *in);
void sm_proto_encode_InitProducerIdResponse(sm_wbuf_t *w, int16_t ver, const sm_initproducerid_resp_t *in);
int  sm_proto_decode_InitProducerIdResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_initproducerid_resp_t *out);

/* ---------------------------------------------------------------------- */
/* AlterConfigs (33), versions 0-1 (v1 is identical to v0)                */

typedef struct {
    int8_t resource_type;                /* 2 = topic, 4 = broker */
    sm_bytes_t resource_name;
    int32_t n_configs;
    sm_config_kv_t *configs;             /* value nullable */
} sm_alterconfigs_resource_t;

typedef struct {
    int32_t n_resources;
    sm_alterconfigs_resource_t *resources;
    int8_t validate_only;
} sm_alterconfigs_req_t;

typedef struct {
    int16_t error_code;
    sm_bytes_t error_message;            /* nullable */
    int8_t resource_type;
    sm_bytes_t resource_name;
} sm_alterconfigs_result_t;

typedef struct {
    int32_t throttle_time_ms;
    int32_t n_responses;
    sm_alterconfigs_result_t *responses;
} sm_alterconfigs_resp_t;

int  sm_proto_decode_AlterConfigsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_alterconfigs_req_t *out);
void sm_proto_encode_AlterConfigsRequest(sm_wbuf_t *w, int16_t ver, const sm_alterconfigs_req_t *in);
void sm_proto_encode_AlterConfigsResponse(sm_wbuf_t *w, int16_t ver, const sm_alterconfigs_resp_t *in);
int  sm_proto_decode_AlterConfigsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_alterconfigs_resp_t *out);

/* ---------------------------------------------------------------------- */
/* DeleteRecords (21), versions 0-1 (v1 is identical to v0)               */

typedef struct {
    int32_t partition_index;
    int64_t offset;                      /* -1 = high watermark */
} sm_dr_req_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_dr_req_part_t *partitions;
} sm_dr_req_topic_t;

typedef struct {
    int32_t n_topics;
    sm_dr_req_topic_t *topics;
    int32_t timeout_ms;
} sm_deleterecords_req_t;

typedef struct {
    int32_t partition_index;
    int64_t low_watermark;
    int16_t error_code;
} sm_dr_resp_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_dr_resp_part_t *partitions;
} sm_dr_resp_topic_t;

typedef struct {
    int32_t throttle_time_ms;
    int32_t n_topics;
    sm_dr_resp_topic_t *topics;
} sm_deleterecords_resp_t;

int  sm_proto_decode_DeleteRecordsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deleterecords_req_t *out);
void sm_proto_encode_DeleteRecordsRequest(sm_wbuf_t *w, int16_t ver, const sm_deleterecords_req_t *in);
void sm_proto_encode_DeleteRecordsResponse(sm_wbuf_t *w, int16_t ver, const sm_deleterecords_resp_t *in);
int  sm_proto_decode_DeleteRecordsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deleterecords_resp_t *out);

#endif

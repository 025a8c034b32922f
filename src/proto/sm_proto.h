/*
 * sm_proto.h - the Kafka wire codec: request/response headers and the
 * request/response bodies of the APIs the broker serves.
 *
 * This module turns bytes into C structs and C structs into bytes, nothing
 * else: it never includes log/, repl/, zk/ or server code. Field presence per
 * version follows Kafka 2.8's message JSON (validVersions, per-field versions,
 * nullableVersions, flexibleVersions). Every API has four functions, so the
 * broker and clients/tests share one codec:
 *
 *   int  sm_proto_decode_XRequest (sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_x_req_t *out);
 *   void sm_proto_encode_XRequest (sm_wbuf_t *w, int16_t ver, const sm_x_req_t *in);
 *   void sm_proto_encode_XResponse(sm_wbuf_t *w, int16_t ver, const sm_x_resp_t *in);
 *   int  sm_proto_decode_XResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_x_resp_t *out);
 *
 * Decoders return 0, or -1 when the input is malformed or the version is
 * outside sm_proto_codec_range(); they never crash on hostile input. Arrays
 * are allocated from the arena (counts are checked against the bytes left
 * before allocating), strings and byte fields are sm_bytes_t views into the
 * reader's buffer, so the decoded struct is valid while both the frame and
 * the arena are. Trailing bytes after a body are tolerated (as Kafka does);
 * sm_reader_remaining() tells whether there were any. Fields absent in the
 * decoded version get Kafka's default value. Encoders only write the body;
 * they ignore fields the version lacks. All functions are thread-safe
 * (no shared mutable state).
 *
 * Array convention: `n_x` is the element count and `x` the elements; n_x -1
 * encodes a null array where the version allows it (otherwise it is written
 * as empty).
 *
 * How a request handler uses it (one complete frame, size prefix removed):
 *
 *   sm_reader_t r; sm_req_hdr_t h; sm_metadata_req_t req;
 *   sm_reader_init(&r, frame, len);
 *   if (sm_proto_decode_RequestHeader(&r, &h) < 0) close connection;
 *   if (h.api_key == SM_API_APIVERSIONS && h.api_version > broker max)
 *       -> respond with sm_proto_encode_ApiVersionsResponse_unsupported()
 *          (do NOT decode the body);
 *   if (version not in the broker's advertised range for h.api_key, which
 *       must lie within sm_proto_codec_range()) close connection;
 *   sm_arena_reset(&conn->arena);
 *   switch (h.api_key) {
 *   case SM_API_METADATA:
 *       if (sm_proto_decode_MetadataRequest(&r, h.api_version, &conn->arena, &req) < 0)
 *           close connection;
 *       ... fill an sm_metadata_resp_t (views may point at broker memory) ...
 *       size_t at = sm_proto_response_begin(&out, &h);  // size + header
 *       sm_proto_encode_MetadataResponse(&out, h.api_version, &resp);
 *       sm_proto_frame_end(&out, at, 0);                // patch the size
 *   }
 *
 * Produce records: sm_produce_req_part_t.records is a view into the frame.
 * The broker owns the frame buffer and it is writable, so the broker may
 * stamp offsets in place through sm_bytes_mut(records).
 *
 * Fetch records: see sm_fetch_resp_part_t; a partition either carries an
 * inline view or asks the encoder to call emit_records() exactly where the
 * records go, after the encoder has written the int32 length records_len.
 */
#ifndef SM_PROTO_H
#define SM_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"

/* ---------------------------------------------------------------------- */
/* API keys                                                               */

typedef enum {
    SM_API_PRODUCE = 0,
    SM_API_FETCH = 1,
    SM_API_LISTOFFSETS = 2,
    SM_API_METADATA = 3,
    SM_API_LEADERANDISR = 4,
    SM_API_STOPREPLICA = 5,
    SM_API_UPDATEMETADATA = 6,
    SM_API_CONTROLLEDSHUTDOWN = 7,
    SM_API_OFFSETCOMMIT = 8,
    SM_API_OFFSETFETCH = 9,
    SM_API_FINDCOORDINATOR = 10,
    SM_API_JOINGROUP = 11,
    SM_API_HEARTBEAT = 12,
    SM_API_LEAVEGROUP = 13,
    SM_API_SYNCGROUP = 14,
    SM_API_DESCRIBEGROUPS = 15,
    SM_API_LISTGROUPS = 16,
    SM_API_SASLHANDSHAKE = 17,
    SM_API_APIVERSIONS = 18,
    SM_API_CREATETOPICS = 19,
    SM_API_DELETETOPICS = 20,
    SM_API_DELETERECORDS = 21,
    SM_API_INITPRODUCERID = 22,
    SM_API_OFFSETFORLEADEREPOCH = 23,
    SM_API_ADDPARTITIONSTOTXN = 24,
    SM_API_ADDOFFSETSTOTXN = 25,
    SM_API_ENDTXN = 26,
    SM_API_WRITETXNMARKERS = 27,
    SM_API_TXNOFFSETCOMMIT = 28,
    SM_API_DESCRIBEACLS = 29,
    SM_API_CREATEACLS = 30,
    SM_API_DELETEACLS = 31,
    SM_API_DESCRIBECONFIGS = 32,
    SM_API_ALTERCONFIGS = 33,
    SM_API_ALTERREPLICALOGDIRS = 34,
    SM_API_DESCRIBELOGDIRS = 35,
    SM_API_SASLAUTHENTICATE = 36,
    SM_API_CREATEPARTITIONS = 37,
    SM_API_CREATEDELEGATIONTOKEN = 38,
    SM_API_RENEWDELEGATIONTOKEN = 39,
    SM_API_EXPIREDELEGATIONTOKEN = 40,
    SM_API_DESCRIBEDELEGATIONTOKEN = 41,
    SM_API_DELETEGROUPS = 42,
    SM_API_ELECTLEADERS = 43,
    SM_API_INCREMENTALALTERCONFIGS = 44,
    SM_API_ALTERPARTITIONREASSIGNMENTS = 45,
    SM_API_LISTPARTITIONREASSIGNMENTS = 46,
    SM_API_OFFSETDELETE = 47,
    SM_API_DESCRIBECLIENTQUOTAS = 48,
    SM_API_ALTERCLIENTQUOTAS = 49,
    SM_API_DESCRIBEUSERSCRAMCREDENTIALS = 50,
    SM_API_ALTERUSERSCRAMCREDENTIALS = 51,
    SM_API_VOTE = 52,
    SM_API_BEGINQUORUMEPOCH = 53,
    SM_API_ENDQUORUMEPOCH = 54,
    SM_API_DESCRIBEQUORUM = 55,
    SM_API_ALTERISR = 56,
    SM_API_UPDATEFEATURES = 57,
    SM_API_ENVELOPE = 58,
    SM_API_FETCHSNAPSHOT = 59,
    SM_API_DESCRIBECLUSTER = 60,
    SM_API_DESCRIBEPRODUCERS = 61,
    SM_API_BROKERREGISTRATION = 62,
    SM_API_BROKERHEARTBEAT = 63,
    SM_API_UNREGISTERBROKER = 64,
    SM_API__CNT
} sm_api_t;

/* Kafka's name for an API key ("Produce", "ApiVersions"); "Unknown" for keys
 * we do not know. Never NULL. */
const char *sm_api_name(int16_t api_key);
/* First flexible (KIP-482) version of the API, or INT16_MAX if the API has
 * none; -1 for unknown keys. Taken from Kafka 2.8's flexibleVersions. */
int sm_api_first_flexible(int16_t api_key);
/* 1 if (api_key, api_version) uses compact encodings and tagged fields. */
int sm_api_is_flexible(int16_t api_key, int16_t api_version);
/* Request header version 0, 1 or 2 for (key, version): 2 for flexible
 * versions, 0 only for ControlledShutdown v0, else 1. */
int sm_proto_request_header_version(int16_t api_key, int16_t api_version);
/* Response header version 0 or 1: 1 for flexible versions, except that
 * ApiVersions responses always use header v0 (KIP-511). */
int sm_proto_response_header_version(int16_t api_key, int16_t api_version);
/* Versions this codec can decode and encode for api_key. Returns 0 and sets
 * min and max, or -1 if the API has no codec here. */
int sm_proto_codec_range(int16_t api_key, int16_t *min, int16_t *max);
static inline int sm_proto_codec_supports(int16_t api_key, int16_t api_version) {
    int16_t lo, hi;
    return sm_proto_codec_range(api_key, &lo, &hi) == 0 && api_version >= lo && api_version <= hi;
}

/* The empty string as a view. */
#define SM_BYTES_EMPTY ((sm_bytes_t){ 0, (const uint8_t *)"" })

/* Non-nullable STRING / BYTES fields (non-flexible): a null view from the
 * caller is written as "" rather than as a null the peer would reject. */
static inline void sm_proto_write_str_nn(sm_wbuf_t *w, sm_bytes_t s) {
    sm_write_string(w, s.len < 0 ? SM_BYTES_EMPTY : s, 0);
}
static inline void sm_proto_write_bytes_nn(sm_wbuf_t *w, sm_bytes_t b) {
    sm_write_bytes(w, b.len < 0 ? SM_BYTES_EMPTY : b, 0);
}

/* Writable pointer into a view whose backing memory the caller owns and
 * knows to be writable (the broker's own frame buffer). */
static inline uint8_t *sm_bytes_mut(sm_bytes_t b) { return (uint8_t *)(uintptr_t)b.ptr; }

/* ---------------------------------------------------------------------- */
/* Headers and framing                                                    */

typedef struct {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    sm_bytes_t client_id;   /* nullable; header v1+ */
    int8_t hdr_version;     /* 0, 1 or 2, derived from key and version */
} sm_req_hdr_t;

/* Decode a request header from the start of a frame (size prefix already
 * stripped). The header version is derived from the key and version; unknown
 * keys are read as header v1 so the caller can still log the request. On
 * return r points at the body. Returns 0 or -1 (malformed). Tagged fields in
 * header v2 are skipped. */
int sm_proto_decode_RequestHeader(sm_reader_t *r, sm_req_hdr_t *h);
/* Encode h (hdr_version is ignored and derived again). */
void sm_proto_encode_RequestHeader(sm_wbuf_t *w, const sm_req_hdr_t *h);
/* Response header for a request of (api_key, api_version). */
void sm_proto_encode_ResponseHeader(sm_wbuf_t *w, int16_t api_key, int16_t api_version,
                                    int32_t correlation_id);
/* Decode a response header; *correlation_id receives the id. Returns 0/-1. */
int sm_proto_decode_ResponseHeader(sm_reader_t *r, int16_t api_key, int16_t api_version,
                                   int32_t *correlation_id);

/* Reserve the int32 size prefix of a frame; returns its offset for
 * sm_proto_frame_end(). */
size_t sm_proto_frame_begin(sm_wbuf_t *w);
/* Patch the size prefix reserved at `at` to cover everything written since,
 * plus extra bytes the caller sends out of band (spliced Fetch records). */
void sm_proto_frame_end(sm_wbuf_t *w, size_t at, size_t extra);
/* frame_begin + response header for the request h. */
size_t sm_proto_response_begin(sm_wbuf_t *w, const sm_req_hdr_t *h);
/* frame_begin + request header h (client side). */
size_t sm_proto_request_begin(sm_wbuf_t *w, const sm_req_hdr_t *h);

/* ---------------------------------------------------------------------- */
/* ApiVersions (18), versions 0-3 (3 flexible)                            */

typedef struct {
    sm_bytes_t client_software_name;     /* v3+ */
    sm_bytes_t client_software_version;  /* v3+ */
} sm_apiversions_req_t;

typedef struct {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
} sm_apiversion_t;

typedef struct {
    int16_t error_code;
    int32_t n_api_keys;
    sm_apiversion_t *api_keys;
    int32_t throttle_time_ms;            /* v1+ */
    /* v3 tagged fields (SupportedFeatures etc.) are skipped / not emitted. */
} sm_apiversions_resp_t;

int  sm_proto_decode_ApiVersionsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_apiversions_req_t *out);
void sm_proto_encode_ApiVersionsRequest(sm_wbuf_t *w, int16_t ver, const sm_apiversions_req_t *in);
void sm_proto_encode_ApiVersionsResponse(sm_wbuf_t *w, int16_t ver, const sm_apiversions_resp_t *in);
int  sm_proto_decode_ApiVersionsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_apiversions_resp_t *out);
/* Body of the answer to an ApiVersions request whose version is above the
 * broker's maximum: v0 format, error UNSUPPORTED_VERSION (35), listing only
 * ApiVersions itself with [min_version, max_version]. The request body must
 * not be parsed; the header is v0 as for every ApiVersions response. */
void sm_proto_encode_ApiVersionsResponse_unsupported(sm_wbuf_t *w, int16_t min_version,
                                                     int16_t max_version);
/* 1 if s matches [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? (the v3 check
 * for client_software_name/version; failing it means INVALID_REQUEST). */
int sm_proto_apiversions_valid_name(sm_bytes_t s);

/* ---------------------------------------------------------------------- */
/* Metadata (3), versions 0-8                                             */

typedef struct {
    int32_t n_topics;                    /* -1 = all topics (v1+); v0: 0 = all */
    sm_bytes_t *topics;
    int8_t allow_auto_topic_creation;    /* v4+, default 1 */
    int8_t include_cluster_authorized_operations; /* v8+ */
    int8_t include_topic_authorized_operations;   /* v8+ */
} sm_metadata_req_t;

typedef struct {
    int32_t node_id;
    sm_bytes_t host;
    int32_t port;
    sm_bytes_t rack;                     /* v1+, nullable */
} sm_metadata_broker_t;

typedef struct {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch;                /* v7+, default -1 */
    int32_t n_replicas;
    int32_t *replicas;
    int32_t n_isr;
    int32_t *isr;
    int32_t n_offline;                   /* v5+ */
    int32_t *offline;
} sm_metadata_part_t;

typedef struct {
    int16_t error_code;
    sm_bytes_t name;
    int8_t is_internal;                  /* v1+ */
    int32_t n_partitions;
    sm_metadata_part_t *partitions;
    int32_t topic_authorized_operations; /* v8+, default INT32_MIN */
} sm_metadata_topic_t;

typedef struct {
    int32_t throttle_time_ms;            /* v3+ */
    int32_t n_brokers;
    sm_metadata_broker_t *brokers;
    sm_bytes_t cluster_id;               /* v2+, nullable */
    int32_t controller_id;               /* v1+, default -1 */
    int32_t n_topics;
    sm_metadata_topic_t *topics;
    int32_t cluster_authorized_operations; /* v8+, default INT32_MIN */
} sm_metadata_resp_t;

int  sm_proto_decode_MetadataRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_metadata_req_t *out);
void sm_proto_encode_MetadataRequest(sm_wbuf_t *w, int16_t ver, const sm_metadata_req_t *in);
void sm_proto_encode_MetadataResponse(sm_wbuf_t *w, int16_t ver, const sm_metadata_resp_t *in);
int  sm_proto_decode_MetadataResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_metadata_resp_t *out);

/* ---------------------------------------------------------------------- */
/* Produce (0), versions 0-7                                              */

typedef struct {
    int32_t index;
    sm_bytes_t records;                  /* nullable; view into the frame */
} sm_produce_req_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_produce_req_part_t *partitions;
} sm_produce_req_topic_t;

typedef struct {
    sm_bytes_t transactional_id;         /* v3+, nullable */
    int16_t acks;
    int32_t timeout_ms;
    int32_t n_topics;
    sm_produce_req_topic_t *topics;
} sm_produce_req_t;

typedef struct {
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms;          /* v2+, default -1 */
    int64_t log_start_offset;            /* v5+, default -1 */
} sm_produce_resp_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_produce_resp_part_t *partitions;
} sm_produce_resp_topic_t;

typedef struct {
    int32_t n_topics;
    sm_produce_resp_topic_t *topics;
    int32_t throttle_time_ms;            /* v1+ */
} sm_produce_resp_t;

int  sm_proto_decode_ProduceRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_produce_req_t *out);
void sm_proto_encode_ProduceRequest(sm_wbuf_t *w, int16_t ver, const sm_produce_req_t *in);
void sm_proto_encode_ProduceResponse(sm_wbuf_t *w, int16_t ver, const sm_produce_resp_t *in);
int  sm_proto_decode_ProduceResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_produce_resp_t *out);

/* ---------------------------------------------------------------------- */
/* Fetch (1), versions 0-11                                               */

typedef struct {
    int32_t partition;
    int32_t current_leader_epoch;        /* v9+, default -1 */
    int64_t fetch_offset;
    int64_t log_start_offset;            /* v5+, default -1 */
    int32_t partition_max_bytes;
} sm_fetch_req_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_fetch_req_part_t *partitions;
} sm_fetch_req_topic_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    int32_t *partitions;
} sm_fetch_forgotten_t;

typedef struct {
    int32_t replica_id;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;                   /* v3+, default INT32_MAX */
    int8_t isolation_level;              /* v4+, default 0 */
    int32_t session_id;                  /* v7+, default 0 */
    int32_t session_epoch;               /* v7+, default -1 */
    int32_t n_topics;
    sm_fetch_req_topic_t *topics;
    int32_t n_forgotten;                 /* v7+ */
    sm_fetch_forgotten_t *forgotten;
    sm_bytes_t rack_id;                  /* v11+, default "" */
} sm_fetch_req_t;

typedef struct {
    int64_t producer_id;
    int64_t first_offset;
} sm_aborted_txn_t;

typedef struct sm_fetch_resp_s sm_fetch_resp_t;

/* Called by the Fetch response encoder right after it wrote the int32
 * records_len of partition (topic_idx, part_idx). The callback either writes
 * exactly records_len bytes into w, or writes nothing and remembers w->len as
 * the point where records_len bytes will be spliced in at send time (then
 * pass the spliced total as `extra` to sm_proto_frame_end()). */
typedef void (*sm_emit_records_fn)(void *arg, sm_wbuf_t *w, int topic_idx, int part_idx);

typedef struct {
    int32_t partition;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset;          /* v4+, default -1 */
    int64_t log_start_offset;            /* v5+, default -1 */
    int32_t n_aborted;                   /* v4+, nullable (-1) */
    sm_aborted_txn_t *aborted;
    int32_t preferred_read_replica;      /* v11+, default -1 */
    /* Records: if `emit` is 0, `records` is written inline (len -1 = null).
     * If `emit` is 1, the encoder writes int32 records_len and calls the
     * response's emit_records callback. Decoders always fill `records`. */
    int8_t emit;
    int32_t records_len;
    sm_bytes_t records;
} sm_fetch_resp_part_t;

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    sm_fetch_resp_part_t *partitions;
} sm_fetch_resp_topic_t;

struct sm_fetch_resp_s {
    int32_t throttle_time_ms;            /* v1+ */
    int16_t error_code;                  /* v7+ */
    int32_t session_id;                  /* v7+ */
    int32_t n_topics;
    sm_fetch_resp_topic_t *topics;
    sm_emit_records_fn emit_records;     /* required if any partition has emit */
    void *emit_arg;
};

int  sm_proto_decode_FetchRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_fetch_req_t *out);
void sm_proto_encode_FetchRequest(sm_wbuf_t *w, int16_t ver, const sm_fetch_req_t *in);
void sm_proto_encode_FetchResponse(sm_wbuf_t *w, int16_t ver, const sm_fetch_resp_t *in);
int  sm_proto_decode_FetchResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_fetch_resp_t *out);

/* ---------------------------------------------------------------------- */
/* ListOffsets (2), versions 0-5                                          */

typedef struct {
    int32_t partition_index;
    int32_t current_leader_epoch;        /* v4+, default -1 */
    int64_t timestamp;
    int32_t max_num_offsets;             /* v0 only, default 1 */
} sm_listoffsets_req_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_listoffsets_req_part_t *partitions;
} sm_listoffsets_req_topic_t;

typedef struct {
    int32_t replica_id;
    int8_t isolation_level;              /* v2+ */
    int32_t n_topics;
    sm_listoffsets_req_topic_t *topics;
} sm_listoffsets_req_t;

typedef struct {
    int32_t partition_index;
    int16_t error_code;
    int32_t n_old_style_offsets;         /* v0 only */
    int64_t *old_style_offsets;
    int64_t timestamp;                   /* v1+, default -1 */
    int64_t offset;                      /* v1+, default -1 */
    int32_t leader_epoch;                /* v4+, default -1 */
} sm_listoffsets_resp_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_listoffsets_resp_part_t *partitions;
} sm_listoffsets_resp_topic_t;

typedef struct {
    int32_t throttle_time_ms;            /* v2+ */
    int32_t n_topics;
    sm_listoffsets_resp_topic_t *topics;
} sm_listoffsets_resp_t;

int  sm_proto_decode_ListOffsetsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_listoffsets_req_t *out);
void sm_proto_encode_ListOffsetsRequest(sm_wbuf_t *w, int16_t ver, const sm_listoffsets_req_t *in);
void sm_proto_encode_ListOffsetsResponse(sm_wbuf_t *w, int16_t ver, const sm_listoffsets_resp_t *in);
int  sm_proto_decode_ListOffsetsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_listoffsets_resp_t *out);

/* ---------------------------------------------------------------------- */
/* CreateTopics (19), versions 0-4                                        */

typedef struct {
    int32_t partition_index;
    int32_t n_broker_ids;
    int32_t *broker_ids;
} sm_createtopics_assignment_t;

typedef struct {
    sm_bytes_t name;
    sm_bytes_t value;                    /* nullable */
} sm_config_kv_t;

typedef struct {
    sm_bytes_t name;
    int32_t num_partitions;
    int16_t replication_factor;
    int32_t n_assignments;
    sm_createtopics_assignment_t *assignments;
    int32_t n_configs;
    sm_config_kv_t *configs;
} sm_createtopics_topic_t;

typedef struct {
    int32_t n_topics;
    sm_createtopics_topic_t *topics;
    int32_t timeout_ms;
    int8_t validate_only;                /* v1+ */
} sm_createtopics_req_t;

typedef struct {
    sm_bytes_t name;
    int16_t error_code;
    sm_bytes_t error_message;            /* v1+, nullable */
} sm_topic_result_t;

typedef struct {
    int32_t throttle_time_ms;            /* v2+ */
    int32_t n_topics;
    sm_topic_result_t *topics;
} sm_createtopics_resp_t;

int  sm_proto_decode_CreateTopicsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_createtopics_req_t *out);
void sm_proto_encode_CreateTopicsRequest(sm_wbuf_t *w, int16_t ver, const sm_createtopics_req_t *in);
void sm_proto_encode_CreateTopicsResponse(sm_wbuf_t *w, int16_t ver, const sm_createtopics_resp_t *in);
int  sm_proto_decode_CreateTopicsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_createtopics_resp_t *out);

/* ---------------------------------------------------------------------- */
/* DeleteTopics (20), versions 0-3                                        */

typedef struct {
    int32_t n_topic_names;
    sm_bytes_t *topic_names;
    int32_t timeout_ms;
} sm_deletetopics_req_t;

typedef struct {
    int32_t throttle_time_ms;            /* v1+ */
    int32_t n_responses;
    sm_topic_result_t *responses;        /* error_message unused (v5+) */
} sm_deletetopics_resp_t;

int  sm_proto_decode_DeleteTopicsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deletetopics_req_t *out);
void sm_proto_encode_DeleteTopicsRequest(sm_wbuf_t *w, int16_t ver, const sm_deletetopics_req_t *in);
void sm_proto_encode_DeleteTopicsResponse(sm_wbuf_t *w, int16_t ver, const sm_deletetopics_resp_t *in);
int  sm_proto_decode_DeleteTopicsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_deletetopics_resp_t *out);

/* ---------------------------------------------------------------------- */
/* CreatePartitions (37), versions 0-1 (v1 is identical to v0)            */

typedef struct {
    int32_t n_broker_ids;
    int32_t *broker_ids;
} sm_createpartitions_assignment_t;

typedef struct {
    sm_bytes_t name;
    int32_t count;
    int32_t n_assignments;               /* nullable (-1) */
    sm_createpartitions_assignment_t *assignments;
} sm_createpartitions_topic_t;

typedef struct {
    int32_t n_topics;
    sm_createpartitions_topic_t *topics;
    int32_t timeout_ms;
    int8_t validate_only;
} sm_createpartitions_req_t;

typedef struct {
    int32_t throttle_time_ms;
    int32_t n_results;
    sm_topic_result_t *results;          /* error_message nullable */
} sm_createpartitions_resp_t;

int  sm_proto_decode_CreatePartitionsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_createpartitions_req_t *out);
void sm_proto_encode_CreatePartitionsRequest(sm_wbuf_t *w, int16_t ver, const sm_createpartitions_req_t *in);
void sm_proto_encode_CreatePartitionsResponse(sm_wbuf_t *w, int16_t ver, const sm_createpartitions_resp_t *in);
int  sm_proto_decode_CreatePartitionsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_createpartitions_resp_t *out);

/* ---------------------------------------------------------------------- */
/* DescribeConfigs (32), versions 0-2                                     */

typedef struct {
    int8_t resource_type;                /* 2 = topic, 4 = broker */
    sm_bytes_t resource_name;
    int32_t n_configuration_keys;        /* nullable (-1 = all) */
    sm_bytes_t *configuration_keys;
} sm_describeconfigs_resource_t;

typedef struct {
    int32_t n_resources;
    sm_describeconfigs_resource_t *resources;
    int8_t include_synonyms;             /* v1+ */
} sm_describeconfigs_req_t;

typedef struct {
    sm_bytes_t name;
    sm_bytes_t value;                    /* nullable */
    int8_t source;
} sm_describeconfigs_synonym_t;

typedef struct {
    sm_bytes_t name;
    sm_bytes_t value;                    /* nullable */
    int8_t read_only;
    int8_t is_default;                   /* v0 only */
    int8_t config_source;                /* v1+, default -1 */
    int8_t is_sensitive;
    int32_t n_synonyms;                  /* v1+ */
    sm_describeconfigs_synonym_t *synonyms;
} sm_describeconfigs_config_t;

typedef struct {
    int16_t error_code;
    sm_bytes_t error_message;            /* nullable */
    int8_t resource_type;
    sm_bytes_t resource_name;
    int32_t n_configs;
    sm_describeconfigs_config_t *configs;
} sm_describeconfigs_result_t;

typedef struct {
    int32_t throttle_time_ms;
    int32_t n_results;
    sm_describeconfigs_result_t *results;
} sm_describeconfigs_resp_t;

int  sm_proto_decode_DescribeConfigsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describeconfigs_req_t *out);
void sm_proto_encode_DescribeConfigsRequest(sm_wbuf_t *w, int16_t ver, const sm_describeconfigs_req_t *in);
void sm_proto_encode_DescribeConfigsResponse(sm_wbuf_t *w, int16_t ver, const sm_describeconfigs_resp_t *in);
int  sm_proto_decode_DescribeConfigsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describeconfigs_resp_t *out);

/* ---------------------------------------------------------------------- */
/* Helpers shared by the codec files (sm_proto_*.c); usable by others.   */

/* Read an array count and allocate that many zeroed elements of elem_size
 * from the arena. min_wire is the smallest encoding of one element, checked
 * against the remaining bytes before allocating. Null arrays (-1) fail the
 * reader unless nullable. Returns the elements (NULL for null/empty) and
 * sets *n. */
void *sm_proto_read_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable,
                          size_t min_wire, size_t elem_size, int32_t *n);
/* int32 / int64 / string arrays. */
int32_t *sm_proto_read_i32_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable, int32_t *n);
int64_t *sm_proto_read_i64_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable, int32_t *n);
sm_bytes_t *sm_proto_read_str_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable, int32_t *n);
void sm_proto_write_i32_array(sm_wbuf_t *w, int flex, int nullable, int32_t n, const int32_t *v);
void sm_proto_write_i64_array(sm_wbuf_t *w, int flex, int nullable, int32_t n, const int64_t *v);
void sm_proto_write_str_array(sm_wbuf_t *w, int flex, int nullable, int32_t n, const sm_bytes_t *v);
/* Array count: n < 0 is written as null if nullable, else as empty. */
void sm_proto_write_array_len(sm_wbuf_t *w, int flex, int nullable, int32_t n);
/* Boolean: any non-zero byte is true (Kafka reads `!= 0`). */
static inline int8_t sm_proto_read_bool(sm_reader_t *r) { return sm_read_i8(r) != 0; }
/* Tagged-field section: skipped on read / written empty, only if flex. */
static inline void sm_proto_read_tags(sm_reader_t *r, int flex) { if (flex) sm_read_tags(r); }
static inline void sm_proto_write_tags(sm_wbuf_t *w, int flex) { if (flex) sm_write_empty_tags(w); }
/* Decoder epilogue: -1 if the reader failed or ver is outside the codec's
 * range for api_key, else 0. */
int sm_proto_check(sm_reader_t *r, int16_t api_key, int16_t ver);

#endif

/*
 * sm_proto_hdr.c - API key table, request/response headers, framing, and
 * the array helpers shared by every codec file.
 *
 * The per-API facts (name, first flexible version) come from Kafka 2.8's
 * message JSON; the codec ranges are what this module implements. Nothing
 * here allocates except from the caller's arena.
 */
#include "proto/sm_proto.h"

#include <stdint.h>
#include "core/sm_util.h"

#define NOFLEX INT16_MAX

static const struct {
    const char *name;
    int16_t first_flex;     /* NOFLEX: never flexible */
    int16_t codec_min;      /* -1: no codec in this module */
    int16_t codec_max;
} apis[SM_API__CNT] = {
    [SM_API_PRODUCE] = { "Produce", 9, 0, 7 },
    [SM_API_FETCH] = { "Fetch", 12, 0, 11 },
    [SM_API_LISTOFFSETS] = { "ListOffsets", 6, 0, 5 },
    [SM_API_METADATA] = { "Metadata", 9, 0, 8 },
    [SM_API_LEADERANDISR] = { "LeaderAndIsr", 4, 0, 4 },
    [SM_API_STOPREPLICA] = { "StopReplica", 2, 0, 3 },
    [SM_API_UPDATEMETADATA] = { "UpdateMetadata", 6, 0, 6 },
    [SM_API_CONTROLLEDSHUTDOWN] = { "ControlledShutdown", 3, 0, 3 },
    [SM_API_OFFSETCOMMIT] = { "OffsetCommit", 8, 0, 7 },
    [SM_API_OFFSETFETCH] = { "OffsetFetch", 6, 0, 5 },
    [SM_API_FINDCOORDINATOR] = { "FindCoordinator", 3, 0, 2 },
    [SM_API_JOINGROUP] = { "JoinGroup", 6, 0, 5 },
    [SM_API_HEARTBEAT] = { "Heartbeat", 4, 0, 3 },
    [SM_API_LEAVEGROUP] = { "LeaveGroup", 4, 0, 3 },
    [SM_API_SYNCGROUP] = { "SyncGroup", 4, 0, 3 },
    [SM_API_DESCRIBEGROUPS] = { "DescribeGroups", 5, 0, 4 },
    [SM_API_LISTGROUPS] = { "ListGroups", 3, 0, 2 },
    [SM_API_SASLHANDSHAKE] = { "SaslHandshake", NOFLEX, -1, -1 },
    [SM_API_APIVERSIONS] = { "ApiVersions", 3, 0, 3 },
    [SM_API_CREATETOPICS] = { "CreateTopics", 5, 0, 4 },
    [SM_API_DELETETOPICS] = { "DeleteTopics", 4, 0, 3 },
    [SM_API_DELETERECORDS] = { "DeleteRecords", 2, 0, 1 },
    [SM_API_INITPRODUCERID] = { "InitProducerId", 2, 0, 1 },
    [SM_API_OFFSETFORLEADEREPOCH] = { "OffsetForLeaderEpoch", 4, 0, 3 },
    [SM_API_ADDPARTITIONSTOTXN] = { "AddPartitionsToTxn", 3, -1, -1 },
    [SM_API_ADDOFFSETSTOTXN] = { "AddOffsetsToTxn", 3, -1, -1 },
    [SM_API_ENDTXN] = { "EndTxn", 3, -1, -1 },
    [SM_API_WRITETXNMARKERS] = { "WriteTxnMarkers", 1, -1, -1 },
    [SM_API_TXNOFFSETCOMMIT] = { "TxnOffsetCommit", 3, -1, -1 },
    [SM_API_DESCRIBEACLS] = { "DescribeAcls", 2, -1, -1 },
    [SM_API_CREATEACLS] = { "CreateAcls", 2, -1, -1 },
    [SM_API_DELETEACLS] = { "DeleteAcls", 2, -1, -1 },
    [SM_API_DESCRIBECONFIGS] = { "DescribeConfigs", 4, 0, 2 },
    [SM_API_ALTERCONFIGS] = { "AlterConfigs", 2, 0, 1 },
    [SM_API_ALTERREPLICALOGDIRS] = { "AlterReplicaLogDirs", 2, -1, -1 },
    [SM_API_DESCRIBELOGDIRS] = { "DescribeLogDirs", 2, 0, 1 },
    [SM_API_SASLAUTHENTICATE] = { "SaslAuthenticate", 2, -1, -1 },
    [SM_API_CREATEPARTITIONS] = { "CreatePartitions", 2, 0, 1 },
    [SM_API_CREATEDELEGATIONTOKEN] = { "CreateDelegationToken", 2, -1, -1 },
    [SM_API_RENEWDELEGATIONTOKEN] = { "RenewDelegationToken", 2, -1, -1 },
    [SM_API_EXPIREDELEGATIONTOKEN] = { "ExpireDelegationToken", 2, -1, -1 },
    [SM_API_DESCRIBEDELEGATIONTOKEN] = { "DescribeDelegationToken", 2, -1, -1 },
    [SM_API_DELETEGROUPS] = { "DeleteGroups", 2, 0, 1 },
    [SM_API_ELECTLEADERS] = { "ElectLeaders", 2, -1, -1 },
    [SM_API_INCREMENTALALTERCONFIGS] = { "IncrementalAlterConfigs", 1, -1, -1 },
    [SM_API_ALTERPARTITIONREASSIGNMENTS] = { "AlterPartitionReassignments", 0, -1, -1 },
    [SM_API_LISTPARTITIONREASSIGNMENTS] = { "ListPartitionReassignments", 0, -1, -1 },
    [SM_API_OFFSETDELETE] = { "OffsetDelete", NOFLEX, 0, 0 },
    [SM_API_DESCRIBECLIENTQUOTAS] = { "DescribeClientQuotas", 1, -1, -1 },
    [SM_API_ALTERCLIENTQUOTAS] = { "AlterClientQuotas", 1, -1, -1 },
    [SM_API_DESCRIBEUSERSCRAMCREDENTIALS] = { "DescribeUserScramCredentials", 0, -1, -1 },
    [SM_API_ALTERUSERSCRAMCREDENTIALS] = { "AlterUserScramCredentials", 0, -1, -1 },
    [SM_API_VOTE] = { "Vote", 0, -1, -1 },
    [SM_API_BEGINQUORUMEPOCH] = { "BeginQuorumEpoch", NOFLEX, -1, -1 },
    [SM_API_ENDQUORUMEPOCH] = { "EndQuorumEpoch", NOFLEX, -1, -1 },
    [SM_API_DESCRIBEQUORUM] = { "DescribeQuorum", 0, -1, -1 },
    [SM_API_ALTERISR] = { "AlterIsr", 0, -1, -1 },
    [SM_API_UPDATEFEATURES] = { "UpdateFeatures", 0, -1, -1 },
    [SM_API_ENVELOPE] = { "Envelope", 0, -1, -1 },
    [SM_API_FETCHSNAPSHOT] = { "FetchSnapshot", 0, -1, -1 },
    [SM_API_DESCRIBECLUSTER] = { "DescribeCluster", 0, -1, -1 },
    [SM_API_DESCRIBEPRODUCERS] = { "DescribeProducers", 0, -1, -1 },
    [SM_API_BROKERREGISTRATION] = { "BrokerRegistration", 0, -1, -1 },
    [SM_API_BROKERHEARTBEAT] = { "BrokerHeartbeat", 0, -1, -1 },
    [SM_API_UNREGISTERBROKER] = { "UnregisterBroker", 0, -1, -1 },
};

static int known(int16_t k) { return k >= 0 && k < SM_API__CNT && apis[k].name != NULL; }

const char *
sm_api_name(int16_t api_key)
{
    return known(api_key) ? apis[api_key].name : "Unknown";
}

int
sm_api_first_flexible(int16_t api_key)
{
    return known(api_key) ? apis[api_key].first_flex : -1;
}

int
sm_api_is_flexible(int16_t api_key, int16_t api_version)
{
    return known(api_key) && api_version >= apis[api_key].first_flex;
}

int
sm_proto_request_header_version(int16_t api_key, int16_t api_version)
{
    /* ControlledShutdown v0 predates the client id (Kafka special-cases it
     * in ApiMessageTypeGenerator). */
    if (api_key == SM_API_CONTROLLEDSHUTDOWN && api_version == 0) return 0;
    return sm_api_is_flexible(api_key, api_version) ? 2 : 1;
}

int
sm_proto_response_header_version(int16_t api_key, int16_t api_version)
{
    /* KIP-511: a client that does not yet know the broker's versions must be
     * able to parse any ApiVersions response, so its header stays v0. */
    if (api_key == SM_API_APIVERSIONS) return 0;
    return sm_api_is_flexible(api_key, api_version) ? 1 : 0;
}

int
sm_proto_codec_range(int16_t api_key, int16_t *min, int16_t *max)
{
    if (!known(api_key) || apis[api_key].codec_min < 0) return -1;
    *min = apis[api_key].codec_min;
    *max = apis[api_key].codec_max;
    return 0;
}

/* ---- headers ---- */

int
sm_proto_decode_RequestHeader(sm_reader_t *r, sm_req_hdr_t *h)
{
    h->api_key = sm_read_i16(r);
    h->api_version = sm_read_i16(r);
    h->correlation_id = sm_read_i32(r);
    h->client_id = SM_BYTES_NULL;
    if (r->err) return -1;
    h->hdr_version = (int8_t)sm_proto_request_header_version(h->api_key, h->api_version);
    if (h->hdr_version >= 1)
        h->client_id = sm_read_nullable_string(r, 0);   /* int16 length even in v2 */
    if (h->hdr_version >= 2) sm_read_tags(r);
    return r->err ? -1 : 0;
}

void
sm_proto_encode_RequestHeader(sm_wbuf_t *w, const sm_req_hdr_t *h)
{
    int hv = sm_proto_request_header_version(h->api_key, h->api_version);
    sm_write_i16(w, h->api_key);
    sm_write_i16(w, h->api_version);
    sm_write_i32(w, h->correlation_id);
    if (hv >= 1) sm_write_string(w, h->client_id, 0);
    if (hv >= 2) sm_write_empty_tags(w);
}

void
sm_proto_encode_ResponseHeader(sm_wbuf_t *w, int16_t api_key, int16_t api_version,
                               int32_t correlation_id)
{
    sm_write_i32(w, correlation_id);
    if (sm_proto_response_header_version(api_key, api_version) >= 1) sm_write_empty_tags(w);
}

int
sm_proto_decode_ResponseHeader(sm_reader_t *r, int16_t api_key, int16_t api_version,
                               int32_t *correlation_id)
{
    *correlation_id = sm_read_i32(r);
    if (sm_proto_response_header_version(api_key, api_version) >= 1) sm_read_tags(r);
    return r->err ? -1 : 0;
}

size_t sm_proto_frame_begin(sm_wbuf_t *w) { return sm_wbuf_reserve_i32(w); }

void
sm_proto_frame_end(sm_wbuf_t *w, size_t at, size_t extra)
{
    sm_wbuf_patch_i32(w, at, (int32_t)(w->len - at - 4 + extra));
}

size_t
sm_proto_response_begin(sm_wbuf_t *w, const sm_req_hdr_t *h)
{
    size_t at = sm_proto_frame_begin(w);
    sm_proto_encode_ResponseHeader(w, h->api_key, h->api_version, h->correlation_id);
    return at;
}

size_t
sm_proto_request_begin(sm_wbuf_t *w, const sm_req_hdr_t *h)
{
    size_t at = sm_proto_frame_begin(w);
    sm_proto_encode_RequestHeader(w, h);
    return at;
}

/* ---- shared array helpers ---- */

void *
sm_proto_read_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable,
                    size_t min_wire, size_t elem_size, int32_t *n)
{
    int32_t cnt = sm_read_array_len(r, flex, min_wire);
    *n = 0;
    if (r->err) return NULL;
    if (cnt < 0) {
        if (!nullable) sm_reader_fail(r);
        else *n = -1;
        return NULL;
    }
    *n = cnt;
    if (cnt == 0) return NULL;
    return sm_arena_calloc(a, (size_t)cnt, elem_size);
}

int32_t *
sm_proto_read_i32_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable, int32_t *n)
{
    int32_t *v = sm_proto_read_array(r, a, flex, nullable, 4, sizeof(*v), n);
    for (int32_t i = 0; i < *n && !r->err; i++) v[i] = sm_read_i32(r);
    return v;
}

int64_t *
sm_proto_read_i64_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable, int32_t *n)
{
    int64_t *v = sm_proto_read_array(r, a, flex, nullable, 8, sizeof(*v), n);
    for (int32_t i = 0; i < *n && !r->err; i++) v[i] = sm_read_i64(r);
    return v;
}

sm_bytes_t *
sm_proto_read_str_array(sm_reader_t *r, sm_arena_t *a, int flex, int nullable, int32_t *n)
{
    sm_bytes_t *v = sm_proto_read_array(r, a, flex, nullable, flex ? 1 : 2, sizeof(*v), n);
    for (int32_t i = 0; i < *n && !r->err; i++) v[i] = sm_read_string(r, flex);
    return v;
}

void
sm_proto_write_array_len(sm_wbuf_t *w, int flex, int nullable, int32_t n)
{
    sm_write_array_len(w, n < 0 ? (nullable ? -1 : 0) : n, flex);
}

void
sm_proto_write_i32_array(sm_wbuf_t *w, int flex, int nullable, int32_t n, const int32_t *v)
{
    sm_proto_write_array_len(w, flex, nullable, n);
    for (int32_t i = 0; i < n; i++) sm_write_i32(w, v[i]);
}

void
sm_proto_write_i64_array(sm_wbuf_t *w, int flex, int nullable, int32_t n, const int64_t *v)
{
    sm_proto_write_array_len(w, flex, nullable, n);
    for (int32_t i = 0; i < n; i++) sm_write_i64(w, v[i]);
}

void
sm_proto_write_str_array(sm_wbuf_t *w, int flex, int nullable, int32_t n, const sm_bytes_t *v)
{
    sm_proto_write_array_len(w, flex, nullable, n);
    for (int32_t i = 0; i < n; i++) sm_write_string(w, v[i], flex);
}

int
sm_proto_check(sm_reader_t *r, int16_t api_key, int16_t ver)
{
    if (r->err || !sm_proto_codec_supports(api_key, ver)) return -1;
    return 0;
}

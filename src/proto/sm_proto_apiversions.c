/*
 * sm_proto_apiversions.c - ApiVersions (key 18) v0-3, the only flexible
 * message the broker speaks today (v3), plus the KIP-511 fallback answer.
 */
#include "proto/sm_proto.h"

#define KEY SM_API_APIVERSIONS

int
sm_proto_decode_ApiVersionsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                   sm_apiversions_req_t *out)
{
    int flex = sm_api_is_flexible(KEY, ver);
    out->client_software_name = SM_BYTES_STR("");
    out->client_software_version = SM_BYTES_STR("");
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    if (ver >= 3) {
        out->client_software_name = sm_read_string(r, flex);
        out->client_software_version = sm_read_string(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, KEY, ver);
}

void
sm_proto_encode_ApiVersionsRequest(sm_wbuf_t *w, int16_t ver, const sm_apiversions_req_t *in)
{
    int flex = sm_api_is_flexible(KEY, ver);
    if (ver >= 3) {
        sm_write_string(w, in->client_software_name, flex);
        sm_write_string(w, in->client_software_version, flex);
    }
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_ApiVersionsResponse(sm_wbuf_t *w, int16_t ver, const sm_apiversions_resp_t *in)
{
    int flex = sm_api_is_flexible(KEY, ver);
    sm_write_i16(w, in->error_code);
    sm_proto_write_array_len(w, flex, 0, in->n_api_keys);
    for (int32_t i = 0; i < in->n_api_keys; i++) {
        sm_write_i16(w, in->api_keys[i].api_key);
        sm_write_i16(w, in->api_keys[i].min_version);
        sm_write_i16(w, in->api_keys[i].max_version);
        sm_proto_write_tags(w, flex);
    }
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_ApiVersionsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_apiversions_resp_t *out)
{
    int flex = sm_api_is_flexible(KEY, ver);
    out->n_api_keys = 0;
    out->api_keys = NULL;
    out->throttle_time_ms = 0;
    if (!sm_proto_codec_supports(KEY, ver)) return -1;
    out->error_code = sm_read_i16(r);
    out->api_keys = sm_proto_read_array(r, a, flex, 0, flex ? 7 : 6, sizeof(sm_apiversion_t),
                                        &out->n_api_keys);
    for (int32_t i = 0; i < out->n_api_keys && !r->err; i++) {
        sm_apiversion_t *k = &out->api_keys[i];
        k->api_key = sm_read_i16(r);
        k->min_version = sm_read_i16(r);
        k->max_version = sm_read_i16(r);
        sm_proto_read_tags(r, flex);
    }
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, KEY, ver);
}

void
sm_proto_encode_ApiVersionsResponse_unsupported(sm_wbuf_t *w, int16_t min_version,
                                                int16_t max_version)
{
    sm_apiversion_t self = { KEY, min_version, max_version };
    sm_apiversions_resp_t resp = { SM_ERR_UNSUPPORTED_VERSION, 1, &self, 0 };
    sm_proto_encode_ApiVersionsResponse(w, 0, &resp);
}

static int
alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int
sm_proto_apiversions_valid_name(sm_bytes_t s)
{
    if (s.len <= 0) return 0;
    if (!alnum(s.ptr[0]) || !alnum(s.ptr[s.len - 1])) return 0;
    for (int32_t i = 1; i < s.len - 1; i++)
        if (!alnum(s.ptr[i]) && s.ptr[i] != '-' && s.ptr[i] != '.') return 0;
    return 1;
}

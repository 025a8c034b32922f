/*
 * fuzz_request.c - libFuzzer entry point for the Kafka wire codec
 * (proto/sm_proto.h).
 *
 * The input is one request frame without its 4-byte size prefix, exactly
 * what the broker's dispatcher hands to the codec: sm_proto_decode_
 * RequestHeader(), then the request decoder for the header's api key and
 * version, for every API the codec has. The same body bytes are also fed to
 * that API's response decoder (clients and tools decode responses from
 * untrusted brokers). Invariant checked (abort on violation): whatever a
 * decoder accepts, its encoder writes back, and the decoder accepts that
 * again and consumes it exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "proto/sm_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sm_arena_t arena;
static int arena_ready;
static sm_wbuf_t out;
/* SM_FUZZ_SKIP="DescribeConfigsResponse,..." turns off the round-trip check
 * for known, already reported bugs so a fuzzing session can go on past
 * them; decoding still runs. Unset in `make check`. */
static const char *skip_list;

static int
skipped(const char *what)
{
    if (!skip_list) return 0;
    size_t n = strlen(what);
    for (const char *p = strstr(skip_list, what); p; p = strstr(p + 1, what))
        if ((p == skip_list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

/* Decode body as NAME##DIR at version ver; on success re-encode and demand
 * that the result decodes again to the end. */
#define ROUNDTRIP(NAME, DIR, T)                                                     \
    do {                                                                            \
        T v_, v2_;                                                                  \
        memset(&v_, 0, sizeof(v_));                                                 \
        memset(&v2_, 0, sizeof(v2_));                                               \
        sm_reader_t r_ = *body;                                                     \
        if (sm_proto_decode_##NAME##DIR(&r_, ver, &arena, &v_) == 0 &&              \
            !skipped(#NAME #DIR)) {                                                 \
            sm_wbuf_reset(&out);                                                    \
            sm_proto_encode_##NAME##DIR(&out, ver, &v_);                            \
            sm_reader_t r2_;                                                        \
            sm_reader_init(&r2_, out.data, out.len);                                \
            if (sm_proto_decode_##NAME##DIR(&r2_, ver, &arena, &v2_) != 0 ||        \
                sm_reader_remaining(&r2_) != 0) {                                   \
                fprintf(stderr, "re-decode of encoded " #NAME #DIR " v%d failed\n", \
                        (int)ver);                                                  \
                abort();                                                            \
            }                                                                       \
        }                                                                           \
    } while (0)

#define API(NAME, REQ_T, RESP_T)              \
    do {                                      \
        ROUNDTRIP(NAME, Request, REQ_T);      \
        ROUNDTRIP(NAME, Response, RESP_T);    \
    } while (0)

static void
decode_body(int16_t key, int16_t ver, const sm_reader_t *body)
{
    switch (key) {
    case SM_API_PRODUCE: API(Produce, sm_produce_req_t, sm_produce_resp_t); break;
    case SM_API_FETCH: API(Fetch, sm_fetch_req_t, sm_fetch_resp_t); break;
    case SM_API_LISTOFFSETS: API(ListOffsets, sm_listoffsets_req_t, sm_listoffsets_resp_t); break;
    case SM_API_METADATA: API(Metadata, sm_metadata_req_t, sm_metadata_resp_t); break;
    case SM_API_APIVERSIONS: API(ApiVersions, sm_apiversions_req_t, sm_apiversions_resp_t); break;
    case SM_API_CREATETOPICS: API(CreateTopics, sm_createtopics_req_t, sm_createtopics_resp_t); break;
    case SM_API_DELETETOPICS: API(DeleteTopics, sm_deletetopics_req_t, sm_deletetopics_resp_t); break;
    case SM_API_CREATEPARTITIONS:
        API(CreatePartitions, sm_createpartitions_req_t, sm_createpartitions_resp_t);
        break;
    case SM_API_DESCRIBECONFIGS: API(DescribeConfigs, sm_describeconfigs_req_t, sm_describeconfigs_resp_t); break;
    default: break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!arena_ready) {
        sm_arena_init(&arena, 0);
        sm_wbuf_init(&out, 256);
        skip_list = getenv("SM_FUZZ_SKIP");
        arena_ready = 1;
    }
    sm_arena_reset(&arena);

    sm_reader_t r;
    sm_req_hdr_t h;
    sm_reader_init(&r, data, size);
    if (sm_proto_decode_RequestHeader(&r, &h) < 0) return 0;
    (void)sm_api_name(h.api_key);
    (void)sm_api_is_flexible(h.api_key, h.api_version);
    (void)sm_proto_response_header_version(h.api_key, h.api_version);

    /* The header re-encodes to the bytes it was read from (client_id is
     * int16-length in every header version). */
    sm_wbuf_reset(&out);
    sm_proto_encode_RequestHeader(&out, &h);
    size_t hlen = sm_reader_offset(&r);
    if (h.hdr_version < 2 && (out.len != hlen || memcmp(out.data, data, hlen) != 0)) {
        fprintf(stderr, "request header v%d does not re-encode to its input\n", h.hdr_version);
        abort();
    }

    if (h.api_key == SM_API_APIVERSIONS) {
        int16_t lo, hi;
        if (sm_proto_codec_range(SM_API_APIVERSIONS, &lo, &hi) == 0 && h.api_version > hi) {
            sm_wbuf_reset(&out);
            sm_proto_encode_ApiVersionsResponse_unsupported(&out, lo, hi);
        }
    }
    if (!sm_proto_codec_supports(h.api_key, h.api_version)) {
        /* Still exercise the version gate of every decoder: it must refuse. */
        for (int16_t k = 0; k < SM_API__CNT; k++) decode_body(k, h.api_version, &r);
        return 0;
    }
    decode_body(h.api_key, h.api_version, &r);
    return 0;
}

/*
 * check_proto.c - unit tests for the wire codec (src/proto/sm_proto_*.c) and
 * the per-request arena (src/core/sm_arena.c).
 *
 * For every API and every version in the codec's range: encode a request
 * and a response from a sample struct, decode them, compare the fields the
 * version carries (and defaults for those it lacks), re-encode the decoded
 * struct and require identical bytes, and decode every proper prefix of the
 * encoding, which must fail cleanly. Golden frames captured from kcat and
 * kafka-python live in tests/data/frames/.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "proto/sm_proto.h"
#include "sm_test.h"

/* ---------------------------------------------------------------- arena */

START_TEST(test_arena)
{
    sm_arena_t a;
    sm_arena_init(&a, 64);
    uint8_t *p1 = sm_arena_alloc(&a, 3);
    uint8_t *p2 = sm_arena_alloc(&a, 5);
    ck_assert_uint_eq((uintptr_t)p1 % 8, 0);
    ck_assert_uint_eq((uintptr_t)p2 % 8, 0);
    ck_assert_ptr_eq(p2, p1 + 8);
    memset(p1, 0xaa, 3);
    uint8_t *big = sm_arena_alloc(&a, 1000);     /* bigger than a chunk */
    memset(big, 1, 1000);
    int32_t *z = sm_arena_calloc(&a, 10, sizeof(int32_t));
    for (int i = 0; i < 10; i++) ck_assert_int_eq(z[i], 0);
    sm_arena_reset(&a);
    /* The first chunk is reused from its start after a reset. */
    ck_assert_ptr_eq(sm_arena_alloc(&a, 8), p1);
    for (int i = 0; i < 100; i++) memset(sm_arena_alloc(&a, 40), i, 40);
    sm_arena_reset(&a);
    ck_assert_uint_le(a.total, 4 * 64 + 1000);
    sm_arena_free(&a);
    ck_assert_ptr_null(a.head);
}
END_TEST

/* --------------------------------------------------------------- tables */

START_TEST(test_api_table)
{
    ck_assert_str_eq(sm_api_name(SM_API_PRODUCE), "Produce");
    ck_assert_str_eq(sm_api_name(SM_API_APIVERSIONS), "ApiVersions");
    ck_assert_str_eq(sm_api_name(SM_API_DESCRIBECONFIGS), "DescribeConfigs");
    ck_assert_str_eq(sm_api_name(-1), "Unknown");
    ck_assert_str_eq(sm_api_name(999), "Unknown");
    ck_assert_int_eq(sm_api_first_flexible(SM_API_METADATA), 9);
    ck_assert_int_eq(sm_api_first_flexible(SM_API_SASLHANDSHAKE), INT16_MAX);
    ck_assert_int_eq(sm_api_first_flexible(500), -1);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_CONTROLLEDSHUTDOWN, 0), 0);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_CONTROLLEDSHUTDOWN, 1), 1);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_APIVERSIONS, 3), 2);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_APIVERSIONS, 2), 1);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_FETCH, 11), 1);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_FETCH, 12), 2);
    ck_assert_int_eq(sm_proto_response_header_version(SM_API_APIVERSIONS, 3), 0);
    ck_assert_int_eq(sm_proto_response_header_version(SM_API_FETCH, 12), 1);
    ck_assert_int_eq(sm_proto_response_header_version(SM_API_METADATA, 8), 0);
    int16_t lo, hi;
    ck_assert_int_eq(sm_proto_codec_range(SM_API_FETCH, &lo, &hi), 0);
    ck_assert_int_eq(lo, 0);
    ck_assert_int_eq(hi, 11);
    ck_assert_int_eq(sm_proto_codec_range(SM_API_SASLHANDSHAKE, &lo, &hi), -1);
    ck_assert(sm_proto_codec_supports(SM_API_PRODUCE, 7));
    ck_assert(!sm_proto_codec_supports(SM_API_PRODUCE, 8));
    ck_assert(!sm_proto_codec_supports(SM_API_PRODUCE, -1));
}
END_TEST

/* -------------------------------------------------------------- headers */

START_TEST(test_headers)
{
    static const struct { int16_t key, ver; int hv; } cases[] = {
        { SM_API_CONTROLLEDSHUTDOWN, 0, 0 }, { SM_API_METADATA, 1, 1 }, { SM_API_APIVERSIONS, 3, 2 },
    };
    for (size_t c = 0; c < SM_ARRAY_SIZE(cases); c++) {
        sm_req_hdr_t h = { cases[c].key, cases[c].ver, 0x01020304, S("client-1"), 0 }, d;
        sm_wbuf_t w;
        sm_reader_t r;
        sm_wbuf_init(&w, 16);
        size_t at = sm_proto_request_begin(&w, &h);
        sm_write_i8(&w, 0x7f);                  /* one body byte */
        sm_proto_frame_end(&w, at, 0);
        ck_assert_uint_eq(sm_be32(w.data), w.len - 4);
        sm_reader_init(&r, w.data + 4, w.len - 4);
        ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &d), 0);
        ck_assert_int_eq(d.api_key, h.api_key);
        ck_assert_int_eq(d.api_version, h.api_version);
        ck_assert_int_eq(d.correlation_id, 0x01020304);
        ck_assert_int_eq(d.hdr_version, cases[c].hv);
        sm_test_assert_bytes(d.client_id, cases[c].hv ? S("client-1") : NUL, "client_id");
        ck_assert_uint_eq(sm_reader_remaining(&r), 1);
        ck_assert_int_eq(sm_read_i8(&r), 0x7f);
        /* Every proper prefix of the header fails. */
        size_t hlen = w.len - 5;
        for (size_t cut = 0; cut < hlen; cut++) {
            sm_reader_init(&r, w.data + 4, cut);
            ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &d), -1);
        }
        sm_wbuf_free(&w);
    }

    /* Null client id; v2 header with a non-empty tag section is skipped. */
    static const uint8_t v2[] = { 0, 18, 0, 3, 0, 0, 0, 9, 0xff, 0xff, 1, 5, 2, 0xaa, 0xbb, 0x42 };
    sm_reader_t r;
    sm_req_hdr_t d;
    sm_reader_init(&r, v2, sizeof(v2));
    ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &d), 0);
    ck_assert_int_eq(d.client_id.len, -1);
    ck_assert_int_eq(d.correlation_id, 9);
    ck_assert_uint_eq(sm_reader_remaining(&r), 1);

    /* Response headers: ApiVersions v3 has no tag byte, a flexible Fetch has. */
    sm_wbuf_t w;
    int32_t corr;
    sm_wbuf_init(&w, 16);
    sm_proto_encode_ResponseHeader(&w, SM_API_APIVERSIONS, 3, 77);
    ck_assert_uint_eq(w.len, 4);
    sm_proto_encode_ResponseHeader(&w, SM_API_FETCH, 12, 78);
    ck_assert_uint_eq(w.len, 9);
    ck_assert_int_eq(w.data[8], 0);
    sm_reader_init(&r, w.data, w.len);
    ck_assert_int_eq(sm_proto_decode_ResponseHeader(&r, SM_API_APIVERSIONS, 3, &corr), 0);
    ck_assert_int_eq(corr, 77);
    ck_assert_int_eq(sm_proto_decode_ResponseHeader(&r, SM_API_FETCH, 12, &corr), 0);
    ck_assert_int_eq(corr, 78);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    sm_wbuf_reset(&w);
    sm_req_hdr_t h = { SM_API_METADATA, 5, 31, S("x"), 1 };
    size_t at = sm_proto_response_begin(&w, &h);
    sm_proto_frame_end(&w, at, 100);
    ck_assert_uint_eq(w.len, 8);
    ck_assert_uint_eq(sm_be32(w.data), 104);
    ck_assert_uint_eq(sm_be32(w.data + 4), 31);
    sm_wbuf_free(&w);
}
END_TEST

/* ---------------------------------------------------------- ApiVersions */

START_TEST(test_apiversions)
{
    for (int16_t v = 0; v <= 3; v++) {
        sm_apiversions_req_t rq = { S("librdkafka"), S("2.0.2") }, rd;
        SM_TEST_ROUNDTRIP(ApiVersionsRequest, sm_apiversions_req_t, v, &rq, &rd);
        sm_test_assert_bytes(rd.client_software_name, v >= 3 ? S("librdkafka") : S(""), "name");
        sm_test_assert_bytes(rd.client_software_version, v >= 3 ? S("2.0.2") : S(""), "version");

        sm_apiversion_t keys[] = { { 0, 0, 7 }, { 1, 0, 11 }, { 18, 0, 3 } };
        sm_apiversions_resp_t rs = { 0, 3, keys, 250 }, sd;
        SM_TEST_ROUNDTRIP(ApiVersionsResponse, sm_apiversions_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.error_code, 0);
        ck_assert_int_eq(sd.n_api_keys, 3);
        ck_assert_int_eq(sd.api_keys[1].api_key, 1);
        ck_assert_int_eq(sd.api_keys[1].max_version, 11);
        ck_assert_int_eq(sd.api_keys[2].min_version, 0);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 1 ? 250 : 0);
    }
    ck_assert(sm_proto_apiversions_valid_name(S("librdkafka")));
    ck_assert(sm_proto_apiversions_valid_name(S("2.0.2-RC1")));
    ck_assert(sm_proto_apiversions_valid_name(S("a")));
    ck_assert(!sm_proto_apiversions_valid_name(S("")));
    ck_assert(!sm_proto_apiversions_valid_name(S("-abc")));
    ck_assert(!sm_proto_apiversions_valid_name(S("abc.")));
    ck_assert(!sm_proto_apiversions_valid_name(S("a b")));
}
END_TEST

START_TEST(test_apiversions_unsupported)
{
    static const uint8_t want[] = { 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3 };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 16);
    sm_proto_encode_ApiVersionsResponse_unsupported(&w, 0, 3);
    ck_assert_uint_eq(w.len, sizeof(want));
    ck_assert(memcmp(w.data, want, sizeof(want)) == 0);
    sm_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------------------- Metadata */

START_TEST(test_metadata)
{
    sm_bytes_t names[] = { S("orders"), S("") };
    int32_t reps[] = { 1, 2, 3 }, isr[] = { 1, 3 }, off[] = { 2 };
    sm_metadata_part_t parts[] = {
        { 0, 0, 1, 7, 3, reps, 2, isr, 1, off },
        { 5, 1, -1, 8, 0, NULL, 0, NULL, 0, NULL },
    };
    sm_metadata_topic_t topics[] = {
        { 0, S("orders"), 1, 2, parts, 0x0f },
        { 3, S("missing"), 0, 0, NULL, INT32_MIN },
    };
    sm_metadata_broker_t brokers[] = { { 1, S("h1"), 9092, S("r1") }, { 2, S("h2"), 9093, NUL } };

    for (int16_t v = 0; v <= 8; v++) {
        for (int nullreq = 0; nullreq < 2; nullreq++) {
            sm_metadata_req_t rq = { nullreq ? -1 : 2, nullreq ? NULL : names, 0, 1, 1 }, rd;
            SM_TEST_ROUNDTRIP(MetadataRequest, sm_metadata_req_t, v, &rq, &rd);
            /* v0 has no null: -1 is sent as the empty array (= all topics). */
            ck_assert_int_eq(rd.n_topics, nullreq ? (v >= 1 ? -1 : 0) : 2);
            if (!nullreq) {
                sm_test_assert_bytes(rd.topics[0], S("orders"), "topic");
                sm_test_assert_bytes(rd.topics[1], S(""), "topic");
            }
            ck_assert_int_eq(rd.allow_auto_topic_creation, v >= 4 ? 0 : 1);
            ck_assert_int_eq(rd.include_topic_authorized_operations, v >= 8);
        }

        sm_metadata_resp_t rs = { 10, 2, brokers, S("cluster-x"), 2, 2, topics, 0x55 }, sd;
        SM_TEST_ROUNDTRIP(MetadataResponse, sm_metadata_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 3 ? 10 : 0);
        ck_assert_int_eq(sd.n_brokers, 2);
        ck_assert_int_eq(sd.brokers[1].node_id, 2);
        sm_test_assert_bytes(sd.brokers[0].host, S("h1"), "host");
        ck_assert_int_eq(sd.brokers[1].port, 9093);
        sm_test_assert_bytes(sd.brokers[0].rack, v >= 1 ? S("r1") : NUL, "rack");
        ck_assert_int_eq(sd.brokers[1].rack.len, -1);
        sm_test_assert_bytes(sd.cluster_id, v >= 2 ? S("cluster-x") : NUL, "cluster_id");
        ck_assert_int_eq(sd.controller_id, v >= 1 ? 2 : -1);
        ck_assert_int_eq(sd.n_topics, 2);
        const sm_metadata_topic_t *t = &sd.topics[0];
        sm_test_assert_bytes(t->name, S("orders"), "name");
        ck_assert_int_eq(t->is_internal, v >= 1);
        ck_assert_int_eq(t->topic_authorized_operations, v >= 8 ? 0x0f : INT32_MIN);
        ck_assert_int_eq(t->n_partitions, 2);
        ck_assert_int_eq(t->partitions[0].leader_id, 1);
        ck_assert_int_eq(t->partitions[0].leader_epoch, v >= 7 ? 7 : -1);
        sm_test_assert_i32s(t->partitions[0].n_replicas, t->partitions[0].replicas, 3, reps);
        sm_test_assert_i32s(t->partitions[0].n_isr, t->partitions[0].isr, 2, isr);
        if (v >= 5) sm_test_assert_i32s(t->partitions[0].n_offline, t->partitions[0].offline, 1, off);
        else ck_assert_int_eq(t->partitions[0].n_offline, 0);
        ck_assert_int_eq(t->partitions[1].error_code, 5);
        ck_assert_int_eq(sd.topics[1].error_code, 3);
        ck_assert_int_eq(sd.cluster_authorized_operations, v >= 8 ? 0x55 : INT32_MIN);
    }
}
END_TEST

/* -------------------------------------------------------------- Produce */

START_TEST(test_produce)
{
    static const uint8_t batch[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3 };
    sm_produce_req_part_t pp[] = { { 0, { sizeof(batch), batch } }, { 3, NUL }, { 4, S("") } };
    sm_produce_req_topic_t pt[] = { { S("t1"), 3, pp }, { S("t2"), 0, NULL } };
    sm_produce_resp_part_t rp[] = { { 0, 0, 100, 1600000000000LL, 5 }, { 3, 6, -1, -1, -1 } };
    sm_produce_resp_topic_t rt[] = { { S("t1"), 2, rp } };

    for (int16_t v = 0; v <= 7; v++) {
        sm_produce_req_t rq = { S("txn-1"), -1, 30000, 2, pt }, rd;
        SM_TEST_ROUNDTRIP(ProduceRequest, sm_produce_req_t, v, &rq, &rd);
        sm_test_assert_bytes(rd.transactional_id, v >= 3 ? S("txn-1") : NUL, "txn id");
        ck_assert_int_eq(rd.acks, -1);
        ck_assert_int_eq(rd.timeout_ms, 30000);
        ck_assert_int_eq(rd.n_topics, 2);
        sm_test_assert_bytes(rd.topics[0].name, S("t1"), "topic");
        ck_assert_int_eq(rd.topics[0].n_partitions, 3);
        ck_assert_int_eq(rd.topics[0].partitions[1].index, 3);
        sm_test_assert_bytes(rd.topics[0].partitions[0].records, pp[0].records, "records");
        ck_assert_int_eq(rd.topics[0].partitions[1].records.len, -1);
        ck_assert_int_eq(rd.topics[0].partitions[2].records.len, 0);
        ck_assert_int_eq(rd.topics[1].n_partitions, 0);

        sm_produce_resp_t rs = { 1, rt, 42 }, sd;
        SM_TEST_ROUNDTRIP(ProduceResponse, sm_produce_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.n_topics, 1);
        const sm_produce_resp_part_t *p = sd.topics[0].partitions;
        ck_assert_int_eq(p[0].base_offset, 100);
        ck_assert_int_eq(p[0].log_append_time_ms, v >= 2 ? 1600000000000LL : -1);
        ck_assert_int_eq(p[0].log_start_offset, v >= 5 ? 5 : -1);
        ck_assert_int_eq(p[1].error_code, 6);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 1 ? 42 : 0);
    }
}
END_TEST

/* The records view points into the caller's writable frame: stamping
 * through sm_bytes_mut() changes the frame in place. */
START_TEST(test_produce_records_in_place)
{
    uint8_t rec[16] = { 0 };
    sm_produce_req_part_t pp = { 0, { sizeof(rec), rec } };
    sm_produce_req_topic_t pt = { S("t"), 1, &pp };
    sm_produce_req_t rq = { NUL, 1, 1000, 1, &pt }, rd;
    sm_wbuf_t w;
    sm_reader_t r;
    sm_wbuf_init(&w, 64);
    sm_proto_encode_ProduceRequest(&w, 7, &rq);
    sm_reader_init(&r, w.data, w.len);
    ck_assert_int_eq(sm_proto_decode_ProduceRequest(&r, 7, &sm_test_arena, &rd), 0);
    sm_bytes_t b = rd.topics[0].partitions[0].records;
    ck_assert(b.ptr >= w.data && b.ptr + b.len <= w.data + w.len);
    sm_put_be64(sm_bytes_mut(b), 0x1122334455667788ULL);
    ck_assert_uint_eq(sm_be64(w.data + (b.ptr - w.data)), 0x1122334455667788ULL);
    sm_wbuf_free(&w);
}
END_TEST

/* ---------------------------------------------------------------- Fetch */

START_TEST(test_fetch_request)
{
    sm_fetch_req_part_t fp[] = { { 0, 5, 1234, 10, 1048576 }, { 1, 5, 0, 0, 65536 } };
    sm_fetch_req_topic_t ft[] = { { S("t1"), 2, fp } };
    int32_t gone[] = { 3, 4 };
    sm_fetch_forgotten_t fg[] = { { S("old"), 2, gone } };
    for (int16_t v = 0; v <= 11; v++) {
        sm_fetch_req_t rq = { -1, 500, 1, 52428800, 1, 77, 3, 1, ft, 1, fg, S("rack-a") }, rd;
        SM_TEST_ROUNDTRIP(FetchRequest, sm_fetch_req_t, v, &rq, &rd);
        ck_assert_int_eq(rd.replica_id, -1);
        ck_assert_int_eq(rd.max_wait_ms, 500);
        ck_assert_int_eq(rd.min_bytes, 1);
        ck_assert_int_eq(rd.max_bytes, v >= 3 ? 52428800 : INT32_MAX);
        ck_assert_int_eq(rd.isolation_level, v >= 4 ? 1 : 0);
        ck_assert_int_eq(rd.session_id, v >= 7 ? 77 : 0);
        ck_assert_int_eq(rd.session_epoch, v >= 7 ? 3 : -1);
        ck_assert_int_eq(rd.n_topics, 1);
        sm_test_assert_bytes(rd.topics[0].topic, S("t1"), "topic");
        const sm_fetch_req_part_t *p = rd.topics[0].partitions;
        ck_assert_int_eq(rd.topics[0].n_partitions, 2);
        ck_assert_int_eq(p[0].fetch_offset, 1234);
        ck_assert_int_eq(p[0].current_leader_epoch, v >= 9 ? 5 : -1);
        ck_assert_int_eq(p[0].log_start_offset, v >= 5 ? 10 : -1);
        ck_assert_int_eq(p[1].partition_max_bytes, 65536);
        if (v >= 7) {
            ck_assert_int_eq(rd.n_forgotten, 1);
            sm_test_assert_bytes(rd.forgotten[0].topic, S("old"), "forgotten");
            sm_test_assert_i32s(rd.forgotten[0].n_partitions, rd.forgotten[0].partitions, 2, gone);
        } else {
            ck_assert_int_eq(rd.n_forgotten, 0);
        }
        sm_test_assert_bytes(rd.rack_id, v >= 11 ? S("rack-a") : S(""), "rack");
    }
}
END_TEST

static sm_aborted_txn_t fetch_ab[] = { { 1000, 50 }, { 1001, 60 } };

static void
fill_fetch_resp(sm_fetch_resp_t *rs, sm_fetch_resp_topic_t *ft, sm_fetch_resp_part_t *fp,
                const uint8_t *rec, int32_t rec_len)
{
    memset(fp, 0, 3 * sizeof(*fp));
    fp[0] = (sm_fetch_resp_part_t){ 0, 0, 500, 490, 3, 2, fetch_ab, 2, 0, rec_len, { rec_len, rec } };
    fp[1] = (sm_fetch_resp_part_t){ 1, 1, -1, -1, -1, -1, NULL, -1, 0, 0, NUL };
    fp[2] = (sm_fetch_resp_part_t){ 2, 0, 7, 7, 0, 0, NULL, -1, 0, 0, S("") };
    ft[0] = (sm_fetch_resp_topic_t){ S("t1"), 3, fp };
    *rs = (sm_fetch_resp_t){ 9, 0, 0, 1, ft, NULL, NULL };
}

START_TEST(test_fetch_response)
{
    static const uint8_t rec[] = "0123456789abcdef";
    sm_fetch_resp_part_t fp[3];
    sm_fetch_resp_topic_t ft[1];
    for (int16_t v = 0; v <= 11; v++) {
        sm_fetch_resp_t rs, sd;
        fill_fetch_resp(&rs, ft, fp, rec, 16);
        SM_TEST_ROUNDTRIP(FetchResponse, sm_fetch_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 1 ? 9 : 0);
        ck_assert_int_eq(sd.n_topics, 1);
        sm_test_assert_bytes(sd.topics[0].topic, S("t1"), "topic");
        const sm_fetch_resp_part_t *p = sd.topics[0].partitions;
        ck_assert_int_eq(sd.topics[0].n_partitions, 3);
        ck_assert_int_eq(p[0].high_watermark, 500);
        ck_assert_int_eq(p[0].last_stable_offset, v >= 4 ? 490 : -1);
        ck_assert_int_eq(p[0].log_start_offset, v >= 5 ? 3 : -1);
        if (v >= 4) {
            ck_assert_int_eq(p[0].n_aborted, 2);
            ck_assert_int_eq(p[0].aborted[1].producer_id, 1001);
            ck_assert_int_eq(p[0].aborted[1].first_offset, 60);
            ck_assert_int_eq(p[1].n_aborted, -1);
            ck_assert_int_eq(p[2].n_aborted, 0);
        }
        ck_assert_int_eq(p[0].preferred_read_replica, v >= 11 ? 2 : -1);
        sm_test_assert_bytes(p[0].records, (sm_bytes_t){ 16, rec }, "records");
        ck_assert_int_eq(p[0].records_len, 16);
        ck_assert_int_eq(p[1].error_code, 1);
        ck_assert_int_eq(p[1].records.len, -1);
        ck_assert_int_eq(p[2].records.len, 0);
    }
}
END_TEST

/* emit_records: the callback runs right after the int32 length, and its
 * output lands exactly where inline bytes would have. */
typedef struct { int calls; int ti[4], pi[4]; size_t at[4]; int splice; } emit_state_t;

static void
emit_cb(void *arg, sm_wbuf_t *w, int ti, int pi)
{
    emit_state_t *st = arg;
    st->ti[st->calls] = ti;
    st->pi[st->calls] = pi;
    st->at[st->calls] = w->len;
    st->calls++;
    if (!st->splice) sm_write_raw(w, "0123456789abcdef", 16);
}

START_TEST(test_fetch_emit)
{
    static const uint8_t rec[] = "0123456789abcdef";
    for (int16_t v = 0; v <= 11; v++) {
        sm_fetch_resp_part_t fp[3];
        sm_fetch_resp_topic_t ft[1];
        sm_fetch_resp_t inl, ext;
        sm_wbuf_t a, b;
        fill_fetch_resp(&inl, ft, fp, rec, 16);
        sm_wbuf_init(&a, 64);
        sm_wbuf_init(&b, 64);
        sm_proto_encode_FetchResponse(&a, v, &inl);

        emit_state_t st = { 0 };
        fill_fetch_resp(&ext, ft, fp, NULL, 0);
        fp[0].emit = 1;
        fp[0].records_len = 16;
        fp[0].records = NUL;             /* must be ignored when emit is set */
        ext.emit_records = emit_cb;
        ext.emit_arg = &st;
        sm_proto_encode_FetchResponse(&b, v, &ext);
        ck_assert_int_eq(st.calls, 1);
        ck_assert_int_eq(st.ti[0], 0);
        ck_assert_int_eq(st.pi[0], 0);
        ck_assert_uint_eq(b.len, a.len);
        ck_assert(memcmp(a.data, b.data, a.len) == 0);
        ck_assert_uint_eq(sm_be32(b.data + st.at[0] - 4), 16);

        /* Splice mode: nothing written, the frame size accounts for it. */
        emit_state_t sp = { .splice = 1 };
        ext.emit_arg = &sp;
        sm_wbuf_reset(&b);
        size_t at = sm_proto_frame_begin(&b);
        sm_proto_encode_FetchResponse(&b, v, &ext);
        sm_proto_frame_end(&b, at, 16);
        ck_assert_int_eq(sp.calls, 1);
        ck_assert_uint_eq(b.len, 4 + a.len - 16);
        ck_assert_uint_eq(sm_be32(b.data), a.len);
        ck_assert(memcmp(b.data + 4, a.data, sp.at[0] - 4) == 0);
        ck_assert(memcmp(b.data + sp.at[0], a.data + sp.at[0] - 4 + 16, b.len - sp.at[0]) == 0);
        sm_wbuf_free(&a);
        sm_wbuf_free(&b);
    }
}
END_TEST

/* ---------------------------------------------------------- ListOffsets */

START_TEST(test_listoffsets)
{
    sm_listoffsets_req_part_t qp[] = { { 0, 4, -1, 3 }, { 1, 4, -2, 1 } };
    sm_listoffsets_req_topic_t qt[] = { { S("t1"), 2, qp } };
    int64_t olds[] = { 100, 0 };
    sm_listoffsets_resp_part_t sp[] = { { 0, 0, 2, olds, 1600000000000LL, 100, 4 },
                                        { 1, 3, 0, NULL, -1, -1, -1 } };
    sm_listoffsets_resp_topic_t st[] = { { S("t1"), 2, sp } };
    for (int16_t v = 0; v <= 5; v++) {
        sm_listoffsets_req_t rq = { -1, 1, 1, qt }, rd;
        SM_TEST_ROUNDTRIP(ListOffsetsRequest, sm_listoffsets_req_t, v, &rq, &rd);
        ck_assert_int_eq(rd.replica_id, -1);
        ck_assert_int_eq(rd.isolation_level, v >= 2 ? 1 : 0);
        ck_assert_int_eq(rd.n_topics, 1);
        const sm_listoffsets_req_part_t *p = rd.topics[0].partitions;
        ck_assert_int_eq(p[0].timestamp, -1);
        ck_assert_int_eq(p[1].timestamp, -2);
        ck_assert_int_eq(p[0].current_leader_epoch, v >= 4 ? 4 : -1);
        ck_assert_int_eq(p[0].max_num_offsets, v == 0 ? 3 : 1);

        sm_listoffsets_resp_t rs = { 12, 1, st }, sd;
        SM_TEST_ROUNDTRIP(ListOffsetsResponse, sm_listoffsets_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 2 ? 12 : 0);
        const sm_listoffsets_resp_part_t *q = sd.topics[0].partitions;
        if (v == 0) {
            ck_assert_int_eq(q[0].n_old_style_offsets, 2);
            ck_assert_int_eq(q[0].old_style_offsets[0], 100);
            ck_assert_int_eq(q[0].offset, -1);
        } else {
            ck_assert_int_eq(q[0].n_old_style_offsets, 0);
            ck_assert_int_eq(q[0].timestamp, 1600000000000LL);
            ck_assert_int_eq(q[0].offset, 100);
        }
        ck_assert_int_eq(q[0].leader_epoch, v >= 4 ? 4 : -1);
        ck_assert_int_eq(q[1].error_code, 3);
    }
}
END_TEST

/* ------------------------------------------------- admin: create/delete */

START_TEST(test_createtopics)
{
    int32_t b0[] = { 1, 2 }, b1[] = { 2, 3 };
    sm_createtopics_assignment_t as[] = { { 0, 2, b0 }, { 1, 2, b1 } };
    sm_config_kv_t cf[] = { { S("cleanup.policy"), S("compact") }, { S("retention.ms"), NUL } };
    sm_createtopics_topic_t tt[] = { { S("a"), -1, -1, 2, as, 2, cf }, { S("b"), 3, 2, 0, NULL, 0, NULL } };
    sm_topic_result_t res[] = { { S("a"), 0, NUL }, { S("b"), 36, S("Topic 'b' already exists.") } };
    for (int16_t v = 0; v <= 4; v++) {
        sm_createtopics_req_t rq = { 2, tt, 60000, 1 }, rd;
        SM_TEST_ROUNDTRIP(CreateTopicsRequest, sm_createtopics_req_t, v, &rq, &rd);
        ck_assert_int_eq(rd.n_topics, 2);
        const sm_createtopics_topic_t *t = &rd.topics[0];
        sm_test_assert_bytes(t->name, S("a"), "name");
        ck_assert_int_eq(t->num_partitions, -1);
        ck_assert_int_eq(t->replication_factor, -1);
        ck_assert_int_eq(t->n_assignments, 2);
        ck_assert_int_eq(t->assignments[1].partition_index, 1);
        sm_test_assert_i32s(t->assignments[1].n_broker_ids, t->assignments[1].broker_ids, 2, b1);
        ck_assert_int_eq(t->n_configs, 2);
        sm_test_assert_bytes(t->configs[0].value, S("compact"), "config");
        ck_assert_int_eq(t->configs[1].value.len, -1);
        ck_assert_int_eq(rd.topics[1].num_partitions, 3);
        ck_assert_int_eq(rd.timeout_ms, 60000);
        ck_assert_int_eq(rd.validate_only, v >= 1);

        sm_createtopics_resp_t rs = { 5, 2, res }, sd;
        SM_TEST_ROUNDTRIP(CreateTopicsResponse, sm_createtopics_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 2 ? 5 : 0);
        ck_assert_int_eq(sd.topics[1].error_code, 36);
        sm_test_assert_bytes(sd.topics[1].error_message, v >= 1 ? res[1].error_message : NUL, "msg");
        ck_assert_int_eq(sd.topics[0].error_message.len, -1);
    }
}
END_TEST

START_TEST(test_deletetopics)
{
    sm_bytes_t names[] = { S("a"), S("b") };
    sm_topic_result_t res[] = { { S("a"), 0, NUL }, { S("b"), 3, NUL } };
    for (int16_t v = 0; v <= 3; v++) {
        sm_deletetopics_req_t rq = { 2, names, 30000 }, rd;
        SM_TEST_ROUNDTRIP(DeleteTopicsRequest, sm_deletetopics_req_t, v, &rq, &rd);
        ck_assert_int_eq(rd.n_topic_names, 2);
        sm_test_assert_bytes(rd.topic_names[1], S("b"), "name");
        ck_assert_int_eq(rd.timeout_ms, 30000);

        sm_deletetopics_resp_t rs = { 7, 2, res }, sd;
        SM_TEST_ROUNDTRIP(DeleteTopicsResponse, sm_deletetopics_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.throttle_time_ms, v >= 1 ? 7 : 0);
        ck_assert_int_eq(sd.n_responses, 2);
        sm_test_assert_bytes(sd.responses[1].name, S("b"), "name");
        ck_assert_int_eq(sd.responses[1].error_code, 3);
    }
}
END_TEST

START_TEST(test_createpartitions)
{
    int32_t b0[] = { 1 }, b1[] = { 2, 1 };
    sm_createpartitions_assignment_t as[] = { { 1, b0 }, { 2, b1 } };
    sm_createpartitions_topic_t tt[] = { { S("a"), 4, 2, as }, { S("b"), 8, -1, NULL } };
    sm_topic_result_t res[] = { { S("a"), 0, NUL }, { S("b"), 37, S("bad") } };
    for (int16_t v = 0; v <= 1; v++) {
        sm_createpartitions_req_t rq = { 2, tt, 1000, 1 }, rd;
        SM_TEST_ROUNDTRIP(CreatePartitionsRequest, sm_createpartitions_req_t, v, &rq, &rd);
        ck_assert_int_eq(rd.n_topics, 2);
        ck_assert_int_eq(rd.topics[0].count, 4);
        ck_assert_int_eq(rd.topics[0].n_assignments, 2);
        sm_test_assert_i32s(rd.topics[0].assignments[1].n_broker_ids, rd.topics[0].assignments[1].broker_ids, 2, b1);
        ck_assert_int_eq(rd.topics[1].n_assignments, -1);
        ck_assert_int_eq(rd.timeout_ms, 1000);
        ck_assert_int_eq(rd.validate_only, 1);

        sm_createpartitions_resp_t rs = { 3, 2, res }, sd;
        SM_TEST_ROUNDTRIP(CreatePartitionsResponse, sm_createpartitions_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.throttle_time_ms, 3);
        ck_assert_int_eq(sd.results[1].error_code, 37);
        sm_test_assert_bytes(sd.results[1].error_message, S("bad"), "msg");
        ck_assert_int_eq(sd.results[0].error_message.len, -1);
    }
}
END_TEST

START_TEST(test_describeconfigs)
{
    sm_bytes_t keys[] = { S("retention.ms") };
    sm_describeconfigs_resource_t rr[] = { { 2, S("t1"), 1, keys }, { 4, S("0"), -1, NULL } };
    sm_describeconfigs_synonym_t syn[] = { { S("log.retention.ms"), NUL, 5 } };
    sm_describeconfigs_config_t cc[] = {
        { S("retention.ms"), S("1000"), 0, 1, 1, 0, 1, syn },
        { S("password"), NUL, 1, 0, 4, 1, 0, NULL },
    };
    sm_describeconfigs_result_t res[] = { { 0, NUL, 2, S("t1"), 2, cc }, { 3, S("nope"), 2, S("t2"), 0, NULL } };
    for (int16_t v = 0; v <= 2; v++) {
        sm_describeconfigs_req_t rq = { 2, rr, 1 }, rd;
        SM_TEST_ROUNDTRIP(DescribeConfigsRequest, sm_describeconfigs_req_t, v, &rq, &rd);
        ck_assert_int_eq(rd.n_resources, 2);
        ck_assert_int_eq(rd.resources[0].resource_type, 2);
        sm_test_assert_bytes(rd.resources[0].configuration_keys[0], S("retention.ms"), "key");
        ck_assert_int_eq(rd.resources[1].n_configuration_keys, -1);
        sm_test_assert_bytes(rd.resources[1].resource_name, S("0"), "name");
        ck_assert_int_eq(rd.include_synonyms, v >= 1);

        sm_describeconfigs_resp_t rs = { 0, 2, res }, sd;
        SM_TEST_ROUNDTRIP(DescribeConfigsResponse, sm_describeconfigs_resp_t, v, &rs, &sd);
        ck_assert_int_eq(sd.n_results, 2);
        const sm_describeconfigs_config_t *c = sd.results[0].configs;
        ck_assert_int_eq(sd.results[0].n_configs, 2);
        sm_test_assert_bytes(c[0].value, S("1000"), "value");
        ck_assert_int_eq(c[1].value.len, -1);
        ck_assert_int_eq(c[1].read_only, 1);
        ck_assert_int_eq(c[1].is_sensitive, 1);
        ck_assert_int_eq(c[0].is_default, v == 0 ? 1 : 0);
        ck_assert_int_eq(c[0].config_source, v >= 1 ? 1 : -1);
        ck_assert_int_eq(c[0].n_synonyms, v >= 1 ? 1 : 0);
        if (v >= 1) {
            sm_test_assert_bytes(c[0].synonyms[0].name, S("log.retention.ms"), "syn");
            ck_assert_int_eq(c[0].synonyms[0].value.len, -1);
            ck_assert_int_eq(c[0].synonyms[0].source, 5);
        }
        sm_test_assert_bytes(sd.results[1].error_message, S("nope"), "msg");
        ck_assert_int_eq(sd.results[1].error_code, 3);
    }
}
END_TEST

/* --------------------------------------------------------- hostile input */

START_TEST(test_hostile)
{
    sm_reader_t r;
    sm_metadata_req_t mq;
    sm_produce_req_t pq;
    sm_fetch_req_t fq;
    /* Array count far beyond the bytes present: rejected before allocating. */
    static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0, 1, 'a' };
    sm_reader_init(&r, huge, sizeof(huge));
    ck_assert_int_eq(sm_proto_decode_MetadataRequest(&r, 1, &sm_test_arena, &mq), -1);
    ck_assert_uint_le(sm_test_arena.total, 4096);
    /* Negative counts other than -1, and null where not nullable. */
    static const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xfe };
    sm_reader_init(&r, neg, sizeof(neg));
    ck_assert_int_eq(sm_proto_decode_MetadataRequest(&r, 1, &sm_test_arena, &mq), -1);
    static const uint8_t null_v0[] = { 0xff, 0xff, 0xff, 0xff };
    sm_reader_init(&r, null_v0, sizeof(null_v0));
    ck_assert_int_eq(sm_proto_decode_MetadataRequest(&r, 0, &sm_test_arena, &mq), -1);
    sm_reader_init(&r, null_v0, sizeof(null_v0));
    ck_assert_int_eq(sm_proto_decode_MetadataRequest(&r, 1, &sm_test_arena, &mq), 0);
    ck_assert_int_eq(mq.n_topics, -1);
    /* Produce v0 with a topic name of length -2. */
    static const uint8_t badstr[] = { 0, 1, 0, 0, 0, 10, 0, 0, 0, 1, 0xff, 0xfe, 0, 0, 0, 0 };
    sm_reader_init(&r, badstr, sizeof(badstr));
    ck_assert_int_eq(sm_proto_decode_ProduceRequest(&r, 0, &sm_test_arena, &pq), -1);
    /* Records longer than the frame. */
    static const uint8_t badrec[] = { 0, 1, 0, 0, 0, 10, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1,
                                      0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2 };
    sm_reader_init(&r, badrec, sizeof(badrec));
    ck_assert_int_eq(sm_proto_decode_ProduceRequest(&r, 0, &sm_test_arena, &pq), -1);
    /* Versions outside the codec's range are refused. */
    sm_reader_init(&r, NULL, 0);
    ck_assert_int_eq(sm_proto_decode_FetchRequest(&r, 12, &sm_test_arena, &fq), -1);
    sm_reader_init(&r, NULL, 0);
    ck_assert_int_eq(sm_proto_decode_FetchRequest(&r, -1, &sm_test_arena, &fq), -1);
    /* Compact array count overflowing a uvarint (ApiVersions v3 response). */
    static const uint8_t badvar[] = { 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f };
    sm_apiversions_resp_t ar;
    sm_reader_init(&r, badvar, sizeof(badvar));
    ck_assert_int_eq(sm_proto_decode_ApiVersionsResponse(&r, 3, &sm_test_arena, &ar), -1);
}
END_TEST

/* Random byte flips on valid encodings must never crash or over-read. */
START_TEST(test_mutations)
{
    sm_bytes_t names[] = { S("orders"), S("x") };
    int32_t reps[] = { 1, 2, 3 };
    sm_createtopics_assignment_t as[] = { { 0, 3, reps } };
    sm_config_kv_t cf[] = { { S("k"), S("v") } };
    sm_createtopics_topic_t tt[] = { { S("a"), 1, 3, 1, as, 1, cf } };
    sm_createtopics_req_t ct = { 1, tt, 100, 0 };
    sm_fetch_req_part_t fp[] = { { 0, 5, 1234, 10, 1048576 } };
    sm_fetch_req_topic_t ft[] = { { S("t1"), 1, fp } };
    sm_fetch_req_t fr = { -1, 500, 1, 100, 1, 0, -1, 1, ft, 0, NULL, S("r") };
    sm_metadata_req_t mr = { 2, names, 1, 0, 0 };
    sm_wbuf_t w[3];
    for (int i = 0; i < 3; i++) sm_wbuf_init(&w[i], 64);
    sm_proto_encode_CreateTopicsRequest(&w[0], 4, &ct);
    sm_proto_encode_FetchRequest(&w[1], 11, &fr);
    sm_proto_encode_MetadataRequest(&w[2], 8, &mr);
    uint32_t seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        sm_wbuf_t *src = &w[iter % 3];
        uint8_t *p = sm_malloc(src->len);
        memcpy(p, src->data, src->len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            p[(seed >> 8) % src->len] ^= (uint8_t)(1u << ((seed >> 4) & 7));
        }
        sm_reader_t r;
        sm_reader_init(&r, p, src->len);
        sm_arena_reset(&sm_test_arena);
        union { sm_createtopics_req_t c; sm_fetch_req_t f; sm_metadata_req_t m; } u;
        int rc = iter % 3 == 0 ? sm_proto_decode_CreateTopicsRequest(&r, 4, &sm_test_arena, &u.c)
               : iter % 3 == 1 ? sm_proto_decode_FetchRequest(&r, 11, &sm_test_arena, &u.f)
                               : sm_proto_decode_MetadataRequest(&r, 8, &sm_test_arena, &u.m);
        ck_assert(rc == 0 || rc == -1);
        free(p);
    }
    for (int i = 0; i < 3; i++) sm_wbuf_free(&w[i]);
}
END_TEST

/* Layouts written out field by field in JSON order with the raw primitives,
 * independent of the codec, so a symmetric encoder/decoder mistake shows. */
START_TEST(test_layouts)
{
    sm_wbuf_t want, got;
    sm_wbuf_init(&want, 64);
    sm_wbuf_init(&got, 64);

    /* FetchRequest v11 */
    sm_fetch_req_part_t fp = { 2, 6, 100, 7, 4096 };
    sm_fetch_req_topic_t ft = { S("t"), 1, &fp };
    int32_t gone = 9;
    sm_fetch_forgotten_t fg = { S("g"), 1, &gone };
    sm_fetch_req_t fr = { -1, 500, 1, 1000, 1, 0, -1, 1, &ft, 1, &fg, S("r") };
    sm_proto_encode_FetchRequest(&got, 11, &fr);
    sm_write_i32(&want, -1); sm_write_i32(&want, 500); sm_write_i32(&want, 1);
    sm_write_i32(&want, 1000); sm_write_i8(&want, 1); sm_write_i32(&want, 0); sm_write_i32(&want, -1);
    sm_write_i32(&want, 1); sm_write_cstr(&want, "t", 0); sm_write_i32(&want, 1);
    sm_write_i32(&want, 2); sm_write_i32(&want, 6); sm_write_i64(&want, 100); sm_write_i64(&want, 7);
    sm_write_i32(&want, 4096);
    sm_write_i32(&want, 1); sm_write_cstr(&want, "g", 0); sm_write_i32(&want, 1); sm_write_i32(&want, 9);
    sm_write_cstr(&want, "r", 0);
    ck_assert_uint_eq(got.len, want.len);
    ck_assert(memcmp(got.data, want.data, want.len) == 0);

    /* ProduceResponse v7 */
    sm_wbuf_reset(&want);
    sm_wbuf_reset(&got);
    sm_produce_resp_part_t pp = { 1, 0, 55, -1, 3 };
    sm_produce_resp_topic_t pt = { S("t"), 1, &pp };
    sm_produce_resp_t pr = { 1, &pt, 8 };
    sm_proto_encode_ProduceResponse(&got, 7, &pr);
    sm_write_i32(&want, 1); sm_write_cstr(&want, "t", 0); sm_write_i32(&want, 1);
    sm_write_i32(&want, 1); sm_write_i16(&want, 0); sm_write_i64(&want, 55); sm_write_i64(&want, -1);
    sm_write_i64(&want, 3); sm_write_i32(&want, 8);
    ck_assert_uint_eq(got.len, want.len);
    ck_assert(memcmp(got.data, want.data, want.len) == 0);

    /* ListOffsetsResponse v0 */
    sm_wbuf_reset(&want);
    sm_wbuf_reset(&got);
    int64_t olds[] = { 42 };
    sm_listoffsets_resp_part_t lp = { 0, 0, 1, olds, -1, -1, -1 };
    sm_listoffsets_resp_topic_t lt = { S("t"), 1, &lp };
    sm_listoffsets_resp_t lr = { 0, 1, &lt };
    sm_proto_encode_ListOffsetsResponse(&got, 0, &lr);
    sm_write_i32(&want, 1); sm_write_cstr(&want, "t", 0); sm_write_i32(&want, 1);
    sm_write_i32(&want, 0); sm_write_i16(&want, 0); sm_write_i32(&want, 1); sm_write_i64(&want, 42);
    ck_assert_uint_eq(got.len, want.len);
    ck_assert(memcmp(got.data, want.data, want.len) == 0);

    /* ApiVersionsResponse v3: compact array, per-entry tags, throttle, tags */
    sm_wbuf_reset(&want);
    sm_wbuf_reset(&got);
    sm_apiversion_t k = { 3, 0, 8 };
    sm_apiversions_resp_t ar = { 0, 1, &k, 0 };
    sm_proto_encode_ApiVersionsResponse(&got, 3, &ar);
    static const uint8_t av3[] = { 0, 0, 2, 0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0 };
    ck_assert_uint_eq(got.len, sizeof(av3));
    ck_assert(memcmp(got.data, av3, sizeof(av3)) == 0);

    sm_wbuf_free(&want);
    sm_wbuf_free(&got);
}
END_TEST

/* ------------------------------------------------------- golden frames */

/* A golden frame from tests/data/frames/ (heap; the caller frees it). */
static uint8_t *
load_frame(const char *name, size_t *len)
{
    char *rel = sm_asprintf("tests/data/frames/%s", name);
    uint8_t *data = (uint8_t *)sm_test_read_src(".", rel, len);
    free(rel);
    return data;
}

/* kcat 1.7.1 (librdkafka 2.0.2): ApiVersions v3, header v2, compact strings. */
START_TEST(test_golden_kcat)
{
    size_t len;
    uint8_t *f = load_frame("kcat-1.7.1-apiversions-v3.bin", &len);
    ck_assert_uint_eq(len, 40);
    ck_assert_uint_eq(sm_be32(f), len - 4);
    sm_reader_t r;
    sm_req_hdr_t h;
    sm_apiversions_req_t q;
    sm_reader_init(&r, f + 4, len - 4);
    ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &h), 0);
    ck_assert_int_eq(h.api_key, SM_API_APIVERSIONS);
    ck_assert_int_eq(h.api_version, 3);
    ck_assert_int_eq(h.hdr_version, 2);
    ck_assert_int_eq(h.correlation_id, 1);
    sm_test_assert_bytes(h.client_id, S("rdkafka"), "client_id");
    ck_assert_int_eq(sm_proto_decode_ApiVersionsRequest(&r, h.api_version, &sm_test_arena, &q), 0);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    sm_test_assert_bytes(q.client_software_name, S("librdkafka"), "software name");
    sm_test_assert_bytes(q.client_software_version, S("2.0.2"), "software version");
    ck_assert(sm_proto_apiversions_valid_name(q.client_software_name));
    ck_assert(sm_proto_apiversions_valid_name(q.client_software_version));

    /* Our encoder reproduces the client's bytes exactly. */
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    size_t at = sm_proto_request_begin(&w, &h);
    sm_proto_encode_ApiVersionsRequest(&w, 3, &q);
    sm_proto_frame_end(&w, at, 0);
    ck_assert_uint_eq(w.len, len);
    ck_assert(memcmp(w.data, f, len) == 0);
    sm_wbuf_free(&w);
    free(f);
}
END_TEST

/* kafka-python 2.0.2: ApiVersions v0 and Metadata v0 back to back. */
START_TEST(test_golden_kafka_python)
{
    size_t len;
    uint8_t *f = load_frame("kafka-python-2.0.2-apiversions-v0-metadata-v0.bin", &len);
    size_t off = 0;
    int frames = 0;
    while (off + 4 <= len) {
        size_t sz = sm_be32(f + off);
        ck_assert_uint_le(off + 4 + sz, len);
        sm_reader_t r;
        sm_req_hdr_t h;
        sm_reader_init(&r, f + off + 4, sz);
        ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &h), 0);
        ck_assert_int_eq(h.hdr_version, 1);
        sm_test_assert_bytes(h.client_id, S("kafka-python-producer-1"), "client_id");
        if (frames == 0) {
            sm_apiversions_req_t q;
            ck_assert_int_eq(h.api_key, SM_API_APIVERSIONS);
            ck_assert_int_eq(h.api_version, 0);
            ck_assert_int_eq(h.correlation_id, 1);
            ck_assert_int_eq(sm_proto_decode_ApiVersionsRequest(&r, 0, &sm_test_arena, &q), 0);
        } else {
            sm_metadata_req_t q;
            ck_assert_int_eq(h.api_key, SM_API_METADATA);
            ck_assert_int_eq(h.api_version, 0);
            ck_assert_int_eq(h.correlation_id, 2);
            ck_assert_int_eq(sm_proto_decode_MetadataRequest(&r, 0, &sm_test_arena, &q), 0);
            ck_assert_int_eq(q.n_topics, 0);   /* v0: empty = all topics */
        }
        ck_assert_uint_eq(sm_reader_remaining(&r), 0);
        off += 4 + sz;
        frames++;
    }
    ck_assert_int_eq(frames, 2);
    ck_assert_uint_eq(off, len);
    free(f);
}
END_TEST

static Suite *
proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, test_arena);
    tcase_add_test(tc, test_api_table);
    tcase_add_test(tc, test_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("apis");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_apiversions);
    tcase_add_test(tc, test_apiversions_unsupported);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_produce);
    tcase_add_test(tc, test_produce_records_in_place);
    tcase_add_test(tc, test_fetch_request);
    tcase_add_test(tc, test_fetch_response);
    tcase_add_test(tc, test_fetch_emit);
    tcase_add_test(tc, test_listoffsets);
    tcase_add_test(tc, test_createtopics);
    tcase_add_test(tc, test_deletetopics);
    tcase_add_test(tc, test_createpartitions);
    tcase_add_test(tc, test_describeconfigs);
    tcase_add_test(tc, test_layouts);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_golden_kcat);
    tcase_add_test(tc, test_golden_kafka_python);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(proto_suite());
}

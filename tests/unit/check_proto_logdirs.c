/*
 * check_proto_logdirs.c - unit tests for the DescribeLogDirs codec
 * (src/proto/sm_proto_logdirs.c): round trips of v0 and v1 requests (null
 * and explicit topic lists) and responses with every field compared, a
 * hand-assembled response pinned byte for byte, every truncation
 * rejected, hostile array counts and unsupported versions refused.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "proto/sm_proto_logdirs.h"
#include "sm_test.h"

static int
bytes_eq(sm_bytes_t a, const char *s)
{
    return a.len == (int32_t)strlen(s) && !memcmp(a.ptr, s, strlen(s));
}

START_TEST(test_request)
{
    int32_t parts_a[] = { 0, 3, 7 };
    sm_describelogdirs_req_topic_t topics[] = { { S("alpha"), 3, parts_a }, { S("b"), 0, NULL } };
    for (int16_t ver = 0; ver <= 1; ver++) {
        sm_describelogdirs_req_t in = { 2, topics }, out;
        sm_wbuf_t w, w2;
        sm_wbuf_init(&w, 64);
        sm_wbuf_init(&w2, 64);
        sm_proto_encode_DescribeLogDirsRequest(&w, ver, &in);
        sm_reader_t r;
        sm_reader_init(&r, w.data, w.len);
        ck_assert_int_eq(sm_proto_decode_DescribeLogDirsRequest(&r, ver, &sm_test_arena, &out), 0);
        ck_assert_uint_eq(sm_reader_remaining(&r), 0);
        ck_assert_int_eq(out.n_topics, 2);
        ck_assert(bytes_eq(out.topics[0].topic, "alpha"));
        ck_assert_int_eq(out.topics[0].n_partitions, 3);
        ck_assert_int_eq(out.topics[0].partitions[0], 0);
        ck_assert_int_eq(out.topics[0].partitions[1], 3);
        ck_assert_int_eq(out.topics[0].partitions[2], 7);
        ck_assert(bytes_eq(out.topics[1].topic, "b"));
        ck_assert_int_eq(out.topics[1].n_partitions, 0);
        sm_proto_encode_DescribeLogDirsRequest(&w2, ver, &out);
        ck_assert_uint_eq(w2.len, w.len);
        ck_assert(!memcmp(w.data, w2.data, w.len));
        SM_TEST_REJECT_PREFIXES(sm_describelogdirs_req_t, w.data, w.len,
                                sm_proto_decode_DescribeLogDirsRequest(&r_, ver, &sm_test_arena, &tmp_),
                                "DescribeLogDirsRequest", ver);
        sm_wbuf_free(&w);
        sm_wbuf_free(&w2);

        /* Null topic list: all topics, exactly four 0xff bytes. */
        sm_describelogdirs_req_t all = { -1, NULL };
        sm_wbuf_init(&w, 8);
        sm_proto_encode_DescribeLogDirsRequest(&w, ver, &all);
        ck_assert_uint_eq(w.len, 4);
        ck_assert(!memcmp(w.data, "\xff\xff\xff\xff", 4));
        sm_reader_init(&r, w.data, w.len);
        ck_assert_int_eq(sm_proto_decode_DescribeLogDirsRequest(&r, ver, &sm_test_arena, &out), 0);
        ck_assert_int_eq(out.n_topics, -1);
        ck_assert_ptr_null(out.topics);
        sm_wbuf_free(&w);
    }
}
END_TEST

START_TEST(test_response)
{
    sm_describelogdirs_part_t pa[] = { { 0, 1234567890123LL, 0, 0 }, { 2, 5, 17, 1 } };
    sm_describelogdirs_part_t pb[] = { { 9, 0, 0, 0 } };
    sm_describelogdirs_topic_t ta[] = { { S("alpha"), 2, pa }, { S("beta"), 1, pb } };
    sm_describelogdirs_result_t res[] = { { 0, S("/data/a"), 2, ta }, { 56, S("/data/b"), 0, NULL } };
    for (int16_t ver = 0; ver <= 1; ver++) {
        sm_describelogdirs_resp_t in = { 42, 2, res }, out;
        sm_wbuf_t w, w2;
        sm_wbuf_init(&w, 64);
        sm_wbuf_init(&w2, 64);
        sm_proto_encode_DescribeLogDirsResponse(&w, ver, &in);
        sm_reader_t r;
        sm_reader_init(&r, w.data, w.len);
        ck_assert_int_eq(sm_proto_decode_DescribeLogDirsResponse(&r, ver, &sm_test_arena, &out), 0);
        ck_assert_uint_eq(sm_reader_remaining(&r), 0);
        ck_assert_int_eq(out.throttle_time_ms, 42);
        ck_assert_int_eq(out.n_results, 2);
        ck_assert_int_eq(out.results[0].error_code, 0);
        ck_assert(bytes_eq(out.results[0].log_dir, "/data/a"));
        ck_assert_int_eq(out.results[0].n_topics, 2);
        ck_assert(bytes_eq(out.results[0].topics[0].name, "alpha"));
        ck_assert_int_eq(out.results[0].topics[0].n_partitions, 2);
        ck_assert_int_eq(out.results[0].topics[0].partitions[0].partition_index, 0);
        ck_assert(out.results[0].topics[0].partitions[0].partition_size == 1234567890123LL);
        ck_assert_int_eq(out.results[0].topics[0].partitions[1].partition_index, 2);
        ck_assert_int_eq(out.results[0].topics[0].partitions[1].offset_lag, 17);
        ck_assert_int_eq(out.results[0].topics[0].partitions[1].is_future_key, 1);
        ck_assert(bytes_eq(out.results[0].topics[1].name, "beta"));
        ck_assert_int_eq(out.results[0].topics[1].partitions[0].partition_index, 9);
        ck_assert_int_eq(out.results[1].error_code, 56);
        ck_assert(bytes_eq(out.results[1].log_dir, "/data/b"));
        ck_assert_int_eq(out.results[1].n_topics, 0);
        sm_proto_encode_DescribeLogDirsResponse(&w2, ver, &out);
        ck_assert_uint_eq(w2.len, w.len);
        ck_assert(!memcmp(w.data, w2.data, w.len));
        SM_TEST_REJECT_PREFIXES(sm_describelogdirs_resp_t, w.data, w.len,
                                sm_proto_decode_DescribeLogDirsResponse(&r_, ver, &sm_test_arena, &tmp_),
                                "DescribeLogDirsResponse", ver);
        sm_wbuf_free(&w);
        sm_wbuf_free(&w2);
    }
}
END_TEST

START_TEST(test_response_wire)
{
    /* throttle 0, one dir "/d" with topic "t", partition 1: size 300, lag 2, future false. */
    static const uint8_t want[] = {
        0, 0, 0, 0,              /* throttle_time_ms */
        0, 0, 0, 1,              /* results */
        0, 0,                    /* error */
        0, 2, '/', 'd',          /* log_dir */
        0, 0, 0, 1,              /* topics */
        0, 1, 't',               /* name */
        0, 0, 0, 1,              /* partitions */
        0, 0, 0, 1,              /* index */
        0, 0, 0, 0, 0, 0, 1, 44, /* size 300 */
        0, 0, 0, 0, 0, 0, 0, 2,  /* lag */
        0,                       /* future */
    };
    sm_describelogdirs_part_t p = { 1, 300, 2, 0 };
    sm_describelogdirs_topic_t t = { S("t"), 1, &p };
    sm_describelogdirs_result_t res = { 0, S("/d"), 1, &t };
    sm_describelogdirs_resp_t in = { 0, 1, &res };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_proto_encode_DescribeLogDirsResponse(&w, 1, &in);
    ck_assert_uint_eq(w.len, sizeof(want));
    ck_assert(!memcmp(w.data, want, sizeof(want)));
    sm_wbuf_free(&w);
}
END_TEST

START_TEST(test_hostile)
{
    sm_reader_t r;
    sm_describelogdirs_req_t req;
    sm_describelogdirs_resp_t resp;
    /* A count far beyond the bytes present must fail before allocating. */
    static const uint8_t big_req[] = { 0x7f, 0xff, 0xff, 0xff, 0, 1, 'x' };
    sm_reader_init(&r, big_req, sizeof(big_req));
    ck_assert_int_eq(sm_proto_decode_DescribeLogDirsRequest(&r, 1, &sm_test_arena, &req), -1);
    static const uint8_t big_resp[] = { 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0 };
    sm_reader_init(&r, big_resp, sizeof(big_resp));
    ck_assert_int_eq(sm_proto_decode_DescribeLogDirsResponse(&r, 0, &sm_test_arena, &resp), -1);
    /* Negative partition-array count (null) is not allowed inside a topic. */
    static const uint8_t null_parts[] = { 0, 0, 0, 1, 0, 1, 'x', 0xff, 0xff, 0xff, 0xff };
    sm_reader_init(&r, null_parts, sizeof(null_parts));
    ck_assert_int_eq(sm_proto_decode_DescribeLogDirsRequest(&r, 0, &sm_test_arena, &req), -1);
    /* Versions outside 0-1 are refused even with a valid body. */
    static const uint8_t all[] = { 0xff, 0xff, 0xff, 0xff };
    sm_reader_init(&r, all, sizeof(all));
    ck_assert_int_eq(sm_proto_decode_DescribeLogDirsRequest(&r, 2, &sm_test_arena, &req), -1);
    sm_reader_init(&r, all, sizeof(all));
    ck_assert_int_eq(sm_proto_decode_DescribeLogDirsRequest(&r, 1, &sm_test_arena, &req), 0);
    int16_t lo, hi;
    ck_assert_int_eq(sm_proto_codec_range(SM_API_DESCRIBELOGDIRS, &lo, &hi), 0);
    ck_assert_int_eq(lo, 0);
    ck_assert_int_eq(hi, 1);
}
END_TEST

static Suite *
logdirs_suite(void)
{
    Suite *s = suite_create("proto_logdirs");
    TCase *tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_request);
    tcase_add_test(tc, test_response);
    tcase_add_test(tc, test_response_wire);
    tcase_add_test(tc, test_hostile);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(logdirs_suite());
}

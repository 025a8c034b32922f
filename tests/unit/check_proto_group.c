/*
 * check_proto_group.c - unit tests for the consumer-group codecs
 * (src/proto/sm_proto_grp_*.c) and the group records
 * (src/proto/sm_group_records.c).
 *
 * For every API and every version in the codec's range: encode a request
 * and a response from a fully populated struct, decode them, compare the
 * fields the version carries (and the defaults of those it lacks), re-encode
 * the decoded struct and require identical bytes, and decode every proper
 * prefix, which must fail. The same is done for every version of every
 * __consumer_offsets key/value and consumer-protocol payload. Hostile
 * counts, unsupported versions and a hand-written JoinGroup v5 frame (from
 * JoinGroupRequest.json) complete the suite.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "proto/sm_group_records.h"
#include "proto/sm_proto.h"
#include "proto/sm_proto_group.h"
#include "sm_test.h"

/* The round trip (see SM_TEST_ROUNDTRIP) for the group records, whose
 * encoders take the version and whose decoders read it from the payload.
 * ARGS are the decoder's extra leading arguments after the reader (the
 * arena, or nothing). */
#define REC_ROUNDTRIP(ENC, DEC, T, ver, in, out, ...)                                       \
    do {                                                                                    \
        sm_wbuf_t w_, w2_;                                                                  \
        sm_reader_t r_;                                                                     \
        sm_wbuf_init(&w_, 64);                                                              \
        sm_wbuf_init(&w2_, 64);                                                             \
        ENC(&w_, (ver), (in));                                                              \
        sm_reader_init(&r_, w_.data, w_.len);                                               \
        ck_assert_msg(DEC(&r_, __VA_ARGS__ (out)) == 0, #DEC " v%d failed", (ver));       \
        ck_assert_uint_eq(sm_reader_remaining(&r_), 0);                                     \
        ck_assert_int_eq((out)->version, (ver));                                            \
        ENC(&w2_, (ver), (out));                                                            \
        ck_assert_uint_eq(w2_.len, w_.len);                                                 \
        ck_assert_msg(memcmp(w2_.data, w_.data, w_.len) == 0, #ENC " v%d re-encode", (ver)); \
        SM_TEST_REJECT_PREFIXES(T, w_.data, w_.len, DEC(&r_, __VA_ARGS__ &tmp_), #DEC, (ver)); \
        sm_test_keep(&w_);                                                                  \
        sm_wbuf_free(&w2_);                                                                 \
    } while (0)

/* --------------------------------------------------------------- tables */

START_TEST(test_ranges)
{
    static const struct { int16_t key, lo, hi; } want[] = {
        { SM_API_FINDCOORDINATOR, 0, 2 }, { SM_API_JOINGROUP, 0, 5 },
        { SM_API_SYNCGROUP, 0, 3 },       { SM_API_HEARTBEAT, 0, 3 },
        { SM_API_LEAVEGROUP, 0, 3 },      { SM_API_OFFSETCOMMIT, 0, 7 },
        { SM_API_OFFSETFETCH, 0, 5 },     { SM_API_LISTGROUPS, 0, 2 },
        { SM_API_DESCRIBEGROUPS, 0, 4 },  { SM_API_DELETEGROUPS, 0, 1 },
        { SM_API_OFFSETDELETE, 0, 0 },
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(want); i++) {
        int16_t lo, hi;
        ck_assert_int_eq(sm_proto_codec_range(want[i].key, &lo, &hi), 0);
        ck_assert_int_eq(lo, want[i].lo);
        ck_assert_int_eq(hi, want[i].hi);
        /* Every version here must be below the first flexible one. */
        ck_assert(!sm_api_is_flexible(want[i].key, hi));
        ck_assert_int_eq(sm_proto_request_header_version(want[i].key, hi), 1);
    }
}
END_TEST

/* ------------------------------------------------------ FindCoordinator */

START_TEST(test_findcoordinator)
{
    for (int16_t v = 0; v <= 2; v++) {
        sm_findcoordinator_req_t in = { .key = S("my-group"), .key_type = 1 }, out;
        SM_TEST_ROUNDTRIP(FindCoordinatorRequest, sm_findcoordinator_req_t, v, &in, &out);
        sm_test_assert_bytes(out.key, S("my-group"), "key");
        ck_assert_int_eq(out.key_type, v >= 1 ? 1 : 0);

        sm_findcoordinator_resp_t rin = {
            .throttle_time_ms = 7, .error_code = 15, .error_message = S("not yet"),
            .node_id = 3, .host = S("broker3.example"), .port = 9093,
        }, rout;
        SM_TEST_ROUNDTRIP(FindCoordinatorResponse, sm_findcoordinator_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 1 ? 7 : 0);
        ck_assert_int_eq(rout.error_code, 15);
        sm_test_assert_bytes(rout.error_message, v >= 1 ? S("not yet") : NUL, "error_message");
        ck_assert_int_eq(rout.node_id, 3);
        sm_test_assert_bytes(rout.host, S("broker3.example"), "host");
        ck_assert_int_eq(rout.port, 9093);
        /* Null error message (the normal case) survives v1+. */
        rin.error_message = NUL;
        SM_TEST_ROUNDTRIP(FindCoordinatorResponse, sm_findcoordinator_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.error_message.len, -1);
    }
}
END_TEST

/* ------------------------------------------------------------ JoinGroup */

START_TEST(test_joingroup)
{
    for (int16_t v = 0; v <= 5; v++) {
        sm_joingroup_protocol_t protos[2] = {
            { S("range"), S("\x00\x00meta-r") }, { S("roundrobin"), (sm_bytes_t){ 0, NULL } },
        };
        sm_joingroup_req_t in = {
            .group_id = S("g"), .session_timeout_ms = 10000, .rebalance_timeout_ms = 300000,
            .member_id = S("m-1"), .group_instance_id = S("inst-1"), .protocol_type = S("consumer"),
            .n_protocols = 2, .protocols = protos,
        }, out;
        protos[0].metadata.len = 8;
        SM_TEST_ROUNDTRIP(JoinGroupRequest, sm_joingroup_req_t, v, &in, &out);
        sm_test_assert_bytes(out.group_id, S("g"), "group_id");
        ck_assert_int_eq(out.session_timeout_ms, 10000);
        ck_assert_int_eq(out.rebalance_timeout_ms, v >= 1 ? 300000 : -1);
        sm_test_assert_bytes(out.member_id, S("m-1"), "member_id");
        sm_test_assert_bytes(out.group_instance_id, v >= 5 ? S("inst-1") : NUL, "group_instance_id");
        sm_test_assert_bytes(out.protocol_type, S("consumer"), "protocol_type");
        ck_assert_int_eq(out.n_protocols, 2);
        sm_test_assert_bytes(out.protocols[0].name, S("range"), "proto name");
        sm_test_assert_bytes(out.protocols[0].metadata, protos[0].metadata, "proto metadata");
        sm_test_assert_bytes(out.protocols[1].name, S("roundrobin"), "proto name 2");
        ck_assert_int_eq(out.protocols[1].metadata.len, 0);

        sm_joingroup_member_t mem[2] = {
            { S("m-1"), S("inst-1"), S("sub1") }, { S("m-2"), NUL, S("") },
        };
        sm_joingroup_resp_t rin = {
            .throttle_time_ms = 5, .error_code = 0, .generation_id = 4, .protocol_name = S("range"),
            .leader = S("m-1"), .member_id = S("m-2"), .n_members = 2, .members = mem,
        }, rout;
        SM_TEST_ROUNDTRIP(JoinGroupResponse, sm_joingroup_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 2 ? 5 : 0);
        ck_assert_int_eq(rout.generation_id, 4);
        sm_test_assert_bytes(rout.protocol_name, S("range"), "protocol_name");
        sm_test_assert_bytes(rout.leader, S("m-1"), "leader");
        sm_test_assert_bytes(rout.member_id, S("m-2"), "member_id");
        ck_assert_int_eq(rout.n_members, 2);
        sm_test_assert_bytes(rout.members[0].member_id, S("m-1"), "m0");
        sm_test_assert_bytes(rout.members[0].group_instance_id, v >= 5 ? S("inst-1") : NUL, "m0 inst");
        sm_test_assert_bytes(rout.members[0].metadata, S("sub1"), "m0 md");
        ck_assert_int_eq(rout.members[1].group_instance_id.len, -1);
        ck_assert_int_eq(rout.members[1].metadata.len, 0);

        /* Error response: MEMBER_ID_REQUIRED with no members; a null protocol
         * name is written as "" (not nullable before v7). */
        sm_joingroup_resp_t err = { .error_code = 79, .generation_id = -1, .protocol_name = NUL,
                                    .leader = S(""), .member_id = S("new-id") };
        SM_TEST_ROUNDTRIP(JoinGroupResponse, sm_joingroup_resp_t, v, &err, &rout);
        ck_assert_int_eq(rout.error_code, 79);
        ck_assert_int_eq(rout.generation_id, -1);
        ck_assert_int_eq(rout.protocol_name.len, 0);
        ck_assert_int_eq(rout.n_members, 0);
    }
}
END_TEST

/* The golden frame: JoinGroup v5 as librdkafka sends it on a first join,
 * written byte by byte from JoinGroupRequest.json (header v1 + body). The
 * protocol metadata is a ConsumerProtocolSubscription v1 for topic "t". */
static const uint8_t golden_join_v5[] = {
    0x00, 0x0b, 0x00, 0x05,             /* api key 11, version 5 */
    0x00, 0x00, 0x00, 0x2a,             /* correlation id 42 */
    0x00, 0x03, 'c', 'l', 'i',          /* client id "cli" */
    0x00, 0x02, 'g', '1',               /* group_id */
    0x00, 0x00, 0x27, 0x10,             /* session_timeout_ms 10000 */
    0x00, 0x04, 0x93, 0xe0,             /* rebalance_timeout_ms 300000 */
    0x00, 0x00,                         /* member_id "" */
    0xff, 0xff,                         /* group_instance_id null */
    0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', /* protocol_type */
    0x00, 0x00, 0x00, 0x01,             /* 1 protocol */
    0x00, 0x05, 'r', 'a', 'n', 'g', 'e',
    0x00, 0x00, 0x00, 0x11,             /* metadata: 17 bytes */
    0x00, 0x01,                         /*   subscription version 1 */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', /* topics ["t"] */
    0xff, 0xff, 0xff, 0xff,             /*   user_data null */
    0x00, 0x00, 0x00, 0x00,             /*   owned_partitions [] */
};

START_TEST(test_golden_joingroup_v5)
{
    sm_reader_t r;
    sm_req_hdr_t h;
    sm_joingroup_req_t req;
    sm_reader_init(&r, golden_join_v5, sizeof(golden_join_v5));
    ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &h), 0);
    ck_assert_int_eq(h.api_key, SM_API_JOINGROUP);
    ck_assert_int_eq(h.api_version, 5);
    ck_assert_int_eq(h.correlation_id, 42);
    sm_test_assert_bytes(h.client_id, S("cli"), "client_id");
    ck_assert_int_eq(sm_proto_decode_JoinGroupRequest(&r, 5, &sm_test_arena, &req), 0);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    sm_test_assert_bytes(req.group_id, S("g1"), "group_id");
    ck_assert_int_eq(req.session_timeout_ms, 10000);
    ck_assert_int_eq(req.rebalance_timeout_ms, 300000);
    ck_assert_int_eq(req.member_id.len, 0);
    ck_assert_int_eq(req.group_instance_id.len, -1);
    sm_test_assert_bytes(req.protocol_type, S("consumer"), "protocol_type");
    ck_assert_int_eq(req.n_protocols, 1);
    sm_test_assert_bytes(req.protocols[0].name, S("range"), "protocol");
    ck_assert_int_eq(req.protocols[0].metadata.len, 17);

    /* The embedded subscription. */
    sm_consumer_subscription_t sub;
    sm_reader_init(&r, req.protocols[0].metadata.ptr, (size_t)req.protocols[0].metadata.len);
    ck_assert_int_eq(sm_group_decode_ConsumerProtocolSubscription(&r, &sm_test_arena, &sub), 0);
    ck_assert_int_eq(sub.version, 1);
    ck_assert_int_eq(sub.n_topics, 1);
    sm_test_assert_bytes(sub.topics[0], S("t"), "topic");
    ck_assert_int_eq(sub.user_data.len, -1);
    ck_assert_int_eq(sub.n_owned_partitions, 0);

    /* Encoding the same request reproduces the frame exactly. */
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_req_hdr_t hh = { .api_key = SM_API_JOINGROUP, .api_version = 5, .correlation_id = 42,
                        .client_id = S("cli") };
    sm_proto_encode_RequestHeader(&w, &hh);
    sm_wbuf_t m;
    sm_wbuf_init(&m, 32);
    sm_bytes_t topic = S("t");
    sm_consumer_subscription_t s = { .n_topics = 1, .topics = &topic, .user_data = NUL };
    sm_group_encode_ConsumerProtocolSubscription(&m, 1, &s);
    sm_joingroup_protocol_t p = { S("range"), { (int32_t)m.len, m.data } };
    sm_joingroup_req_t in = { .group_id = S("g1"), .session_timeout_ms = 10000,
                              .rebalance_timeout_ms = 300000, .member_id = S(""),
                              .group_instance_id = NUL, .protocol_type = S("consumer"),
                              .n_protocols = 1, .protocols = &p };
    sm_proto_encode_JoinGroupRequest(&w, 5, &in);
    ck_assert_uint_eq(w.len, sizeof(golden_join_v5));
    ck_assert(memcmp(w.data, golden_join_v5, w.len) == 0);
    sm_wbuf_free(&w);
    sm_wbuf_free(&m);
}
END_TEST

/* ------------------------------------------------- SyncGroup, Heartbeat */

START_TEST(test_syncgroup)
{
    for (int16_t v = 0; v <= 3; v++) {
        sm_syncgroup_assignment_t as[2] = { { S("m-1"), S("assign-1") }, { S("m-2"), S("") } };
        sm_syncgroup_req_t in = { .group_id = S("g"), .generation_id = 9, .member_id = S("m-1"),
                                  .group_instance_id = S("i"), .n_assignments = 2, .assignments = as },
                           out;
        SM_TEST_ROUNDTRIP(SyncGroupRequest, sm_syncgroup_req_t, v, &in, &out);
        sm_test_assert_bytes(out.group_id, S("g"), "group_id");
        ck_assert_int_eq(out.generation_id, 9);
        sm_test_assert_bytes(out.member_id, S("m-1"), "member_id");
        sm_test_assert_bytes(out.group_instance_id, v >= 3 ? S("i") : NUL, "instance");
        ck_assert_int_eq(out.n_assignments, 2);
        sm_test_assert_bytes(out.assignments[0].member_id, S("m-1"), "a0");
        sm_test_assert_bytes(out.assignments[0].assignment, S("assign-1"), "a0 data");
        ck_assert_int_eq(out.assignments[1].assignment.len, 0);

        /* A follower sends no assignments. */
        in.n_assignments = 0;
        SM_TEST_ROUNDTRIP(SyncGroupRequest, sm_syncgroup_req_t, v, &in, &out);
        ck_assert_int_eq(out.n_assignments, 0);

        sm_syncgroup_resp_t rin = { .throttle_time_ms = 3, .error_code = 27, .assignment = S("xyz") },
                            rout;
        SM_TEST_ROUNDTRIP(SyncGroupResponse, sm_syncgroup_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 1 ? 3 : 0);
        ck_assert_int_eq(rout.error_code, 27);
        sm_test_assert_bytes(rout.assignment, S("xyz"), "assignment");
    }
}
END_TEST

START_TEST(test_heartbeat)
{
    for (int16_t v = 0; v <= 3; v++) {
        sm_heartbeat_req_t in = { S("grp"), 12, S("member"), S("static-1") }, out;
        SM_TEST_ROUNDTRIP(HeartbeatRequest, sm_heartbeat_req_t, v, &in, &out);
        sm_test_assert_bytes(out.group_id, S("grp"), "group");
        ck_assert_int_eq(out.generation_id, 12);
        sm_test_assert_bytes(out.member_id, S("member"), "member");
        sm_test_assert_bytes(out.group_instance_id, v >= 3 ? S("static-1") : NUL, "instance");

        sm_heartbeat_resp_t rin = { 100, 22 }, rout;
        SM_TEST_ROUNDTRIP(HeartbeatResponse, sm_heartbeat_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 1 ? 100 : 0);
        ck_assert_int_eq(rout.error_code, 22);
    }
}
END_TEST

/* ----------------------------------------------------------- LeaveGroup */

START_TEST(test_leavegroup)
{
    for (int16_t v = 0; v <= 3; v++) {
        sm_leavegroup_member_t mem[2] = { { S("a"), S("ia") }, { S("b"), NUL } };
        sm_leavegroup_req_t in = { .group_id = S("g"), .member_id = S("solo"), .n_members = 2,
                                   .members = mem }, out;
        SM_TEST_ROUNDTRIP(LeaveGroupRequest, sm_leavegroup_req_t, v, &in, &out);
        sm_test_assert_bytes(out.group_id, S("g"), "group");
        if (v <= 2) {
            sm_test_assert_bytes(out.member_id, S("solo"), "member_id");
            /* Synthesised one-member batch. */
            ck_assert_int_eq(out.n_members, 1);
            sm_test_assert_bytes(out.members[0].member_id, S("solo"), "batch member");
            ck_assert_int_eq(out.members[0].group_instance_id.len, -1);
        } else {
            ck_assert_int_eq(out.member_id.len, 0);
            ck_assert_int_eq(out.n_members, 2);
            sm_test_assert_bytes(out.members[0].member_id, S("a"), "m0");
            sm_test_assert_bytes(out.members[0].group_instance_id, S("ia"), "m0 inst");
            sm_test_assert_bytes(out.members[1].member_id, S("b"), "m1");
            ck_assert_int_eq(out.members[1].group_instance_id.len, -1);
        }

        sm_leavegroup_member_resp_t rm[1] = { { S("a"), S("ia"), 25 } };
        sm_leavegroup_resp_t rin = { .throttle_time_ms = 1, .error_code = 0, .n_members = 1,
                                     .members = rm }, rout;
        SM_TEST_ROUNDTRIP(LeaveGroupResponse, sm_leavegroup_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 1 ? 1 : 0);
        ck_assert_int_eq(rout.error_code, 0);
        ck_assert_int_eq(rout.n_members, v >= 3 ? 1 : 0);
        if (v >= 3) {
            sm_test_assert_bytes(rout.members[0].member_id, S("a"), "resp member");
            sm_test_assert_bytes(rout.members[0].group_instance_id, S("ia"), "resp inst");
            ck_assert_int_eq(rout.members[0].error_code, 25);
        }
    }
}
END_TEST

/* --------------------------------------------------------- OffsetCommit */

START_TEST(test_offsetcommit)
{
    for (int16_t v = 0; v <= 7; v++) {
        sm_offsetcommit_req_part_t parts[2] = {
            { .partition_index = 0, .committed_offset = 1234567890123LL, .committed_leader_epoch = 5,
              .commit_timestamp = 1600000000000LL, .committed_metadata = S("md") },
            { .partition_index = 7, .committed_offset = 0, .committed_leader_epoch = -1,
              .commit_timestamp = -1, .committed_metadata = NUL },
        };
        sm_offsetcommit_req_topic_t topics[1] = { { S("orders"), 2, parts } };
        sm_offsetcommit_req_t in = {
            .group_id = S("g"), .generation_id = 3, .member_id = S("m"), .group_instance_id = S("i"),
            .retention_time_ms = 86400000, .n_topics = 1, .topics = topics,
        }, out;
        SM_TEST_ROUNDTRIP(OffsetCommitRequest, sm_offsetcommit_req_t, v, &in, &out);
        sm_test_assert_bytes(out.group_id, S("g"), "group");
        ck_assert_int_eq(out.generation_id, v >= 1 ? 3 : -1);
        sm_test_assert_bytes(out.member_id, v >= 1 ? S("m") : S(""), "member");
        sm_test_assert_bytes(out.group_instance_id, v >= 7 ? S("i") : NUL, "instance");
        ck_assert_int_eq(out.retention_time_ms, v >= 2 && v <= 4 ? 86400000 : -1);
        ck_assert_int_eq(out.n_topics, 1);
        sm_test_assert_bytes(out.topics[0].name, S("orders"), "topic");
        ck_assert_int_eq(out.topics[0].n_partitions, 2);
        const sm_offsetcommit_req_part_t *p = &out.topics[0].partitions[0];
        ck_assert_int_eq(p->partition_index, 0);
        ck_assert(p->committed_offset == 1234567890123LL);
        ck_assert_int_eq(p->committed_leader_epoch, v >= 6 ? 5 : -1);
        ck_assert(p->commit_timestamp == (v == 1 ? 1600000000000LL : -1));
        sm_test_assert_bytes(p->committed_metadata, S("md"), "metadata");
        ck_assert_int_eq(out.topics[0].partitions[1].partition_index, 7);
        ck_assert_int_eq(out.topics[0].partitions[1].committed_metadata.len, -1);

        sm_grp_part_err_t pe[2] = { { 0, 0 }, { 7, 12 } };
        sm_grp_topic_err_t te[1] = { { S("orders"), 2, pe } };
        sm_offsetcommit_resp_t rin = { 9, 1, te }, rout;
        SM_TEST_ROUNDTRIP(OffsetCommitResponse, sm_offsetcommit_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 3 ? 9 : 0);
        ck_assert_int_eq(rout.n_topics, 1);
        sm_test_assert_bytes(rout.topics[0].name, S("orders"), "resp topic");
        ck_assert_int_eq(rout.topics[0].n_partitions, 2);
        ck_assert_int_eq(rout.topics[0].partitions[1].partition_index, 7);
        ck_assert_int_eq(rout.topics[0].partitions[1].error_code, 12);
    }
}
END_TEST

/* ---------------------------------------------------------- OffsetFetch */

START_TEST(test_offsetfetch)
{
    for (int16_t v = 0; v <= 5; v++) {
        int32_t idx[3] = { 0, 1, 5 };
        sm_offsetfetch_req_topic_t t[2] = { { S("a"), 3, idx }, { S("b"), 0, NULL } };
        sm_offsetfetch_req_t in = { S("g"), 2, t }, out;
        SM_TEST_ROUNDTRIP(OffsetFetchRequest, sm_offsetfetch_req_t, v, &in, &out);
        sm_test_assert_bytes(out.group_id, S("g"), "group");
        ck_assert_int_eq(out.n_topics, 2);
        sm_test_assert_bytes(out.topics[0].name, S("a"), "t0");
        sm_test_assert_i32s(out.topics[0].n_partition_indexes, out.topics[0].partition_indexes, 3, idx);
        ck_assert_int_eq(out.topics[1].n_partition_indexes, 0);

        /* All topics: null from v2, written as empty before. */
        sm_offsetfetch_req_t all = { S("g"), -1, NULL };
        SM_TEST_ROUNDTRIP(OffsetFetchRequest, sm_offsetfetch_req_t, v, &all, &out);
        ck_assert_int_eq(out.n_topics, v >= 2 ? -1 : 0);

        sm_offsetfetch_resp_part_t rp[2] = {
            { 0, 42, 3, S("meta"), 0 }, { 1, -1, -1, NUL, 0 },
        };
        sm_offsetfetch_resp_topic_t rt[1] = { { S("a"), 2, rp } };
        sm_offsetfetch_resp_t rin = { 11, 1, rt, 14 }, rout;
        SM_TEST_ROUNDTRIP(OffsetFetchResponse, sm_offsetfetch_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 3 ? 11 : 0);
        ck_assert_int_eq(rout.error_code, v >= 2 ? 14 : 0);
        ck_assert_int_eq(rout.n_topics, 1);
        sm_test_assert_bytes(rout.topics[0].name, S("a"), "topic");
        ck_assert_int_eq(rout.topics[0].n_partitions, 2);
        const sm_offsetfetch_resp_part_t *p = &rout.topics[0].partitions[0];
        ck_assert_int_eq(p->partition_index, 0);
        ck_assert_int_eq(p->committed_offset, 42);
        ck_assert_int_eq(p->committed_leader_epoch, v >= 5 ? 3 : -1);
        sm_test_assert_bytes(p->metadata, S("meta"), "meta");
        ck_assert_int_eq(rout.topics[0].partitions[1].committed_offset, -1);
        ck_assert_int_eq(rout.topics[0].partitions[1].metadata.len, -1);
    }
}
END_TEST

/* ---------------------------------------- ListGroups, Describe, Delete */

START_TEST(test_listgroups)
{
    for (int16_t v = 0; v <= 2; v++) {
        sm_listgroups_req_t in = { 0, NULL }, out;
        sm_wbuf_t w;
        sm_wbuf_init(&w, 8);
        sm_proto_encode_ListGroupsRequest(&w, v, &in);
        ck_assert_uint_eq(w.len, 0);
        sm_reader_t r;
        sm_reader_init(&r, w.data, 0);
        ck_assert_int_eq(sm_proto_decode_ListGroupsRequest(&r, v, &sm_test_arena, &out), 0);
        ck_assert_int_eq(out.n_states_filter, 0);
        sm_wbuf_free(&w);

        sm_listgroups_group_t g[2] = { { S("g1"), S("consumer") }, { S("g2"), S("") } };
        sm_listgroups_resp_t rin = { 2, 0, 2, g }, rout;
        SM_TEST_ROUNDTRIP(ListGroupsResponse, sm_listgroups_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 1 ? 2 : 0);
        ck_assert_int_eq(rout.error_code, 0);
        ck_assert_int_eq(rout.n_groups, 2);
        sm_test_assert_bytes(rout.groups[0].group_id, S("g1"), "g1");
        sm_test_assert_bytes(rout.groups[0].protocol_type, S("consumer"), "ptype");
        sm_test_assert_bytes(rout.groups[1].group_id, S("g2"), "g2");
        ck_assert_int_eq(rout.groups[1].protocol_type.len, 0);
    }
}
END_TEST

START_TEST(test_describegroups)
{
    for (int16_t v = 0; v <= 4; v++) {
        sm_bytes_t names[2] = { S("g1"), S("g2") };
        sm_describegroups_req_t in = { 2, names, 1 }, out;
        SM_TEST_ROUNDTRIP(DescribeGroupsRequest, sm_describegroups_req_t, v, &in, &out);
        ck_assert_int_eq(out.n_groups, 2);
        sm_test_assert_bytes(out.groups[1], S("g2"), "name");
        ck_assert_int_eq(out.include_authorized_operations, v >= 3 ? 1 : 0);

        sm_describegroups_member_t m[1] = { {
            .member_id = S("c-1"), .group_instance_id = S("inst"), .client_id = S("c"),
            .client_host = S("/127.0.0.1"), .member_metadata = S("MD"), .member_assignment = S("AS"),
        } };
        sm_describegroups_group_t g[2] = {
            { .error_code = 0, .group_id = S("g1"), .group_state = S("Stable"),
              .protocol_type = S("consumer"), .protocol_data = S("range"), .n_members = 1,
              .members = m, .authorized_operations = 0x1f },
            { .error_code = 16, .group_id = S("g2"), .group_state = S("Dead"),
              .protocol_type = S(""), .protocol_data = S(""), .n_members = 0,
              .authorized_operations = INT32_MIN },
        };
        sm_describegroups_resp_t rin = { 4, 2, g }, rout;
        SM_TEST_ROUNDTRIP(DescribeGroupsResponse, sm_describegroups_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 1 ? 4 : 0);
        ck_assert_int_eq(rout.n_groups, 2);
        const sm_describegroups_group_t *o = &rout.groups[0];
        sm_test_assert_bytes(o->group_id, S("g1"), "gid");
        sm_test_assert_bytes(o->group_state, S("Stable"), "state");
        sm_test_assert_bytes(o->protocol_type, S("consumer"), "ptype");
        sm_test_assert_bytes(o->protocol_data, S("range"), "pdata");
        ck_assert_int_eq(o->authorized_operations, v >= 3 ? 0x1f : INT32_MIN);
        ck_assert_int_eq(o->n_members, 1);
        sm_test_assert_bytes(o->members[0].member_id, S("c-1"), "mid");
        sm_test_assert_bytes(o->members[0].group_instance_id, v >= 4 ? S("inst") : NUL, "inst");
        sm_test_assert_bytes(o->members[0].client_id, S("c"), "cid");
        sm_test_assert_bytes(o->members[0].client_host, S("/127.0.0.1"), "host");
        sm_test_assert_bytes(o->members[0].member_metadata, S("MD"), "md");
        sm_test_assert_bytes(o->members[0].member_assignment, S("AS"), "as");
        ck_assert_int_eq(rout.groups[1].error_code, 16);
        ck_assert_int_eq(rout.groups[1].n_members, 0);
    }
}
END_TEST

START_TEST(test_deletegroups)
{
    for (int16_t v = 0; v <= 1; v++) {
        sm_bytes_t names[3] = { S("a"), S("bb"), S("") };
        sm_deletegroups_req_t in = { 3, names }, out;
        SM_TEST_ROUNDTRIP(DeleteGroupsRequest, sm_deletegroups_req_t, v, &in, &out);
        ck_assert_int_eq(out.n_groups_names, 3);
        sm_test_assert_bytes(out.groups_names[1], S("bb"), "name");
        ck_assert_int_eq(out.groups_names[2].len, 0);

        sm_deletegroups_result_t res[2] = { { S("a"), 0 }, { S("bb"), 68 } };
        sm_deletegroups_resp_t rin = { 6, 2, res }, rout;
        SM_TEST_ROUNDTRIP(DeleteGroupsResponse, sm_deletegroups_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, 6);
        ck_assert_int_eq(rout.n_results, 2);
        sm_test_assert_bytes(rout.results[1].group_id, S("bb"), "gid");
        ck_assert_int_eq(rout.results[1].error_code, 68);
    }
}
END_TEST

START_TEST(test_offsetdelete)
{
    int32_t parts[2] = { 3, 4 };
    sm_offsetdelete_req_topic_t t[1] = { { S("t"), 2, parts } };
    sm_offsetdelete_req_t in = { S("g"), 1, t }, out;
    SM_TEST_ROUNDTRIP(OffsetDeleteRequest, sm_offsetdelete_req_t, 0, &in, &out);
    sm_test_assert_bytes(out.group_id, S("g"), "group");
    ck_assert_int_eq(out.n_topics, 1);
    sm_test_assert_bytes(out.topics[0].name, S("t"), "topic");
    sm_test_assert_i32s(out.topics[0].n_partitions, out.topics[0].partitions, 2, parts);

    sm_grp_part_err_t pe[2] = { { 3, 0 }, { 4, 86 } };
    sm_grp_topic_err_t te[1] = { { S("t"), 2, pe } };
    sm_offsetdelete_resp_t rin = { 0, 8, 1, te }, rout;
    SM_TEST_ROUNDTRIP(OffsetDeleteResponse, sm_offsetdelete_resp_t, 0, &rin, &rout);
    ck_assert_int_eq(rout.error_code, 0);
    ck_assert_int_eq(rout.throttle_time_ms, 8);
    ck_assert_int_eq(rout.topics[0].partitions[1].partition_index, 4);
    ck_assert_int_eq(rout.topics[0].partitions[1].error_code, 86);

    /* Top-level error comes first on the wire. */
    rin.error_code = 69;
    rin.n_topics = 0;
    sm_wbuf_t w;
    sm_wbuf_init(&w, 16);
    sm_proto_encode_OffsetDeleteResponse(&w, 0, &rin);
    static const uint8_t want[] = { 0x00, 0x45, 0, 0, 0, 8, 0, 0, 0, 0 };
    ck_assert_uint_eq(w.len, sizeof(want));
    ck_assert(memcmp(w.data, want, sizeof(want)) == 0);
    sm_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------------- hostile input */

static int
dec_join(const uint8_t *p, size_t n, int16_t v)
{
    sm_reader_t r;
    sm_joingroup_req_t req;
    sm_reader_init(&r, p, n);
    return sm_proto_decode_JoinGroupRequest(&r, v, &sm_test_arena, &req);
}

START_TEST(test_hostile)
{
    /* JoinGroup v0 claiming 2^31-1 protocols, with 6 bytes behind: must fail
     * before allocating. */
    static const uint8_t huge[] = {
        0x00, 0x01, 'g', 0x00, 0x00, 0x27, 0x10, 0x00, 0x00, 0x00, 0x01, 'c',
        0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'x', 0x00, 0x00, 0x00,
    };
    size_t before = sm_test_arena.total;
    ck_assert_int_eq(dec_join(huge, sizeof(huge), 0), -1);
    ck_assert_uint_le(sm_test_arena.total, before + 1024);
    /* Negative count other than -1, and null where not nullable. */
    uint8_t neg[sizeof(huge)];
    memcpy(neg, huge, sizeof(huge));
    neg[12] = 0xff; neg[13] = 0xff; neg[14] = 0xff; neg[15] = 0xfe;
    ck_assert_int_eq(dec_join(neg, sizeof(neg), 0), -1);
    neg[15] = 0xff;
    ck_assert_int_eq(dec_join(neg, sizeof(neg), 0), -1);
    /* String length beyond the buffer. */
    static const uint8_t longstr[] = { 0x7f, 0xff, 'g' };
    ck_assert_int_eq(dec_join(longstr, sizeof(longstr), 0), -1);
    /* Null (non-nullable) group id. */
    static const uint8_t nullgid[] = { 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    ck_assert_int_eq(dec_join(nullgid, sizeof(nullgid), 0), -1);

    /* OffsetFetch: a null topic list is "all" in v2+, malformed before. */
    static const uint8_t ofall[] = { 0x00, 0x01, 'g', 0xff, 0xff, 0xff, 0xff };
    sm_reader_t r;
    sm_offsetfetch_req_t of;
    sm_reader_init(&r, ofall, sizeof(ofall));
    ck_assert_int_eq(sm_proto_decode_OffsetFetchRequest(&r, 1, &sm_test_arena, &of), -1);
    sm_reader_init(&r, ofall, sizeof(ofall));
    ck_assert_int_eq(sm_proto_decode_OffsetFetchRequest(&r, 2, &sm_test_arena, &of), 0);
    ck_assert_int_eq(of.n_topics, -1);

    /* OffsetCommit with a huge partition count under a real topic. */
    static const uint8_t ochuge[] = {
        0x00, 0x01, 'g', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
        0x10, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    sm_offsetcommit_req_t oc;
    sm_reader_init(&r, ochuge, sizeof(ochuge));
    ck_assert_int_eq(sm_proto_decode_OffsetCommitRequest(&r, 0, &sm_test_arena, &oc), -1);

    /* DescribeGroups response with a huge member count. */
    static const uint8_t dghuge[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x7f, 0x00, 0x00, 0x00,
    };
    sm_describegroups_resp_t dg;
    sm_reader_init(&r, dghuge, sizeof(dghuge));
    ck_assert_int_eq(sm_proto_decode_DescribeGroupsResponse(&r, 0, &sm_test_arena, &dg), -1);

    /* Group records: huge member count, unknown versions. */
    static const uint8_t gmhuge[] = {
        0x00, 0x03, 0x00, 0x01, 'c', 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    };
    sm_group_metadata_value_t gm;
    sm_reader_init(&r, gmhuge, sizeof(gmhuge));
    ck_assert_int_eq(sm_group_decode_GroupMetadataValue(&r, &sm_test_arena, &gm), -1);
    static const uint8_t subhuge[] = { 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'a' };
    sm_consumer_subscription_t sub;
    sm_reader_init(&r, subhuge, sizeof(subhuge));
    ck_assert_int_eq(sm_group_decode_ConsumerProtocolSubscription(&r, &sm_test_arena, &sub), -1);
    ck_assert_uint_le(sm_test_arena.total, before + 4096);
}
END_TEST

START_TEST(test_unsupported_versions)
{
    static const uint8_t zeros[64];
    sm_reader_t r;
#define UNSUP(NAME, T, lo, hi)                                                     \
    do {                                                                           \
        T o_;                                                                      \
        sm_reader_init(&r, zeros, sizeof(zeros));                                  \
        ck_assert_msg(sm_proto_decode_##NAME(&r, (hi) + 1, &sm_test_arena, &o_) == -1, #NAME " hi+1"); \
        sm_reader_init(&r, zeros, sizeof(zeros));                                  \
        ck_assert_msg(sm_proto_decode_##NAME(&r, (lo) - 1, &sm_test_arena, &o_) == -1, #NAME " lo-1"); \
    } while (0)
    UNSUP(FindCoordinatorRequest, sm_findcoordinator_req_t, 0, 2);
    UNSUP(FindCoordinatorResponse, sm_findcoordinator_resp_t, 0, 2);
    UNSUP(JoinGroupRequest, sm_joingroup_req_t, 0, 5);
    UNSUP(JoinGroupResponse, sm_joingroup_resp_t, 0, 5);
    UNSUP(SyncGroupRequest, sm_syncgroup_req_t, 0, 3);
    UNSUP(SyncGroupResponse, sm_syncgroup_resp_t, 0, 3);
    UNSUP(HeartbeatRequest, sm_heartbeat_req_t, 0, 3);
    UNSUP(HeartbeatResponse, sm_heartbeat_resp_t, 0, 3);
    UNSUP(LeaveGroupRequest, sm_leavegroup_req_t, 0, 3);
    UNSUP(LeaveGroupResponse, sm_leavegroup_resp_t, 0, 3);
    UNSUP(OffsetCommitRequest, sm_offsetcommit_req_t, 0, 7);
    UNSUP(OffsetCommitResponse, sm_offsetcommit_resp_t, 0, 7);
    UNSUP(OffsetFetchRequest, sm_offsetfetch_req_t, 0, 5);
    UNSUP(OffsetFetchResponse, sm_offsetfetch_resp_t, 0, 5);
    UNSUP(ListGroupsRequest, sm_listgroups_req_t, 0, 2);
    UNSUP(ListGroupsResponse, sm_listgroups_resp_t, 0, 2);
    UNSUP(DescribeGroupsRequest, sm_describegroups_req_t, 0, 4);
    UNSUP(DescribeGroupsResponse, sm_describegroups_resp_t, 0, 4);
    UNSUP(DeleteGroupsRequest, sm_deletegroups_req_t, 0, 1);
    UNSUP(DeleteGroupsResponse, sm_deletegroups_resp_t, 0, 1);
    UNSUP(OffsetDeleteRequest, sm_offsetdelete_req_t, 0, 0);
    UNSUP(OffsetDeleteResponse, sm_offsetdelete_resp_t, 0, 0);
#undef UNSUP
}
END_TEST

/* ------------------------------------------- consumer embedded protocol */

START_TEST(test_consumer_protocol)
{
    for (int16_t v = 0; v <= 1; v++) {
        sm_bytes_t topics[2] = { S("orders"), S("payments") };
        int32_t p0[2] = { 0, 2 }, p1[1] = { 7 };
        sm_cp_topic_parts_t owned[2] = { { S("orders"), 2, p0 }, { S("payments"), 1, p1 } };
        sm_consumer_subscription_t in = { .n_topics = 2, .topics = topics, .user_data = S("ud"),
                                          .n_owned_partitions = 2, .owned_partitions = owned },
                                   out;
        REC_ROUNDTRIP(sm_group_encode_ConsumerProtocolSubscription,
                      sm_group_decode_ConsumerProtocolSubscription, sm_consumer_subscription_t, v,
                      &in, &out, &sm_test_arena,);
        ck_assert_int_eq(out.n_topics, 2);
        sm_test_assert_bytes(out.topics[1], S("payments"), "topic");
        sm_test_assert_bytes(out.user_data, S("ud"), "user_data");
        ck_assert_int_eq(out.n_owned_partitions, v >= 1 ? 2 : 0);
        if (v >= 1) {
            sm_test_assert_bytes(out.owned_partitions[0].topic, S("orders"), "owned topic");
            sm_test_assert_i32s(out.owned_partitions[0].n_partitions, out.owned_partitions[0].partitions, 2, p0);
            sm_test_assert_i32s(out.owned_partitions[1].n_partitions, out.owned_partitions[1].partitions, 1, p1);
        }
        in.user_data = NUL;
        REC_ROUNDTRIP(sm_group_encode_ConsumerProtocolSubscription,
                      sm_group_decode_ConsumerProtocolSubscription, sm_consumer_subscription_t, v,
                      &in, &out, &sm_test_arena,);
        ck_assert_int_eq(out.user_data.len, -1);

        sm_consumer_assignment_t ain = { .n_assigned = 2, .assigned = owned, .user_data = S("x") },
                                 aout;
        REC_ROUNDTRIP(sm_group_encode_ConsumerProtocolAssignment,
                      sm_group_decode_ConsumerProtocolAssignment, sm_consumer_assignment_t, v,
                      &ain, &aout, &sm_test_arena,);
        ck_assert_int_eq(aout.n_assigned, 2);
        sm_test_assert_bytes(aout.assigned[1].topic, S("payments"), "assigned");
        sm_test_assert_i32s(aout.assigned[1].n_partitions, aout.assigned[1].partitions, 1, p1);
        sm_test_assert_bytes(aout.user_data, S("x"), "user_data");
    }

    /* A future version (with extra trailing fields) reads as v1. */
    static const uint8_t v3[] = {
        0x00, 0x03, 0, 0, 0, 1, 0, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        0x00, 0x00, 0x00, 0x05, /* some later field */
    };
    sm_reader_t r;
    sm_consumer_subscription_t s;
    sm_reader_init(&r, v3, sizeof(v3));
    ck_assert_int_eq(sm_group_decode_ConsumerProtocolSubscription(&r, &sm_test_arena, &s), 0);
    ck_assert_int_eq(s.version, 3);
    ck_assert_int_eq(s.n_topics, 1);
    sm_test_assert_bytes(s.topics[0], S("a"), "topic");
    /* Negative version and an empty blob fail. */
    static const uint8_t negv[] = { 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    sm_reader_init(&r, negv, sizeof(negv));
    ck_assert_int_eq(sm_group_decode_ConsumerProtocolSubscription(&r, &sm_test_arena, &s), -1);
    sm_consumer_assignment_t as;
    sm_reader_init(&r, negv, sizeof(negv));
    ck_assert_int_eq(sm_group_decode_ConsumerProtocolAssignment(&r, &sm_test_arena, &as), -1);
    sm_reader_init(&r, negv, 0);
    ck_assert_int_eq(sm_group_decode_ConsumerProtocolAssignment(&r, &sm_test_arena, &as), -1);
}
END_TEST

/* -------------------------------------------- __consumer_offsets records */

static void
check_key_bytes(const uint8_t *p, size_t n, sm_group_key_t *k)
{
    sm_reader_t r;
    sm_reader_init(&r, p, n);
    ck_assert_int_eq(sm_group_decode_key(&r, k), 0);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    for (size_t cut = 0; cut < n; cut++) {
        sm_group_key_t t;
        uint8_t *c = sm_malloc(cut ? cut : 1);
        memcpy(c, p, cut);
        sm_reader_init(&r, c, cut);
        ck_assert_msg(sm_group_decode_key(&r, &t) == -1, "key prefix %zu", cut);
        free(c);
    }
}

START_TEST(test_offsets_keys)
{
    sm_wbuf_t w;
    sm_group_key_t k;
    for (int16_t v = 0; v <= 1; v++) {
        sm_wbuf_init(&w, 32);
        sm_group_encode_OffsetCommitKey(&w, v, S("grp"), S("tp"), 9);
        static const uint8_t want_tail[] = { 0, 3, 'g', 'r', 'p', 0, 2, 't', 'p', 0, 0, 0, 9 };
        ck_assert_uint_eq(w.len, 2 + sizeof(want_tail));
        ck_assert_int_eq(w.data[0], 0);
        ck_assert_int_eq(w.data[1], v);
        ck_assert(memcmp(w.data + 2, want_tail, sizeof(want_tail)) == 0);
        check_key_bytes(w.data, w.len, &k);
        ck_assert_int_eq(k.version, v);
        ck_assert(SM_GROUP_KEY_IS_OFFSET(&k));
        sm_test_assert_bytes(k.group, S("grp"), "group");
        sm_test_assert_bytes(k.topic, S("tp"), "topic");
        ck_assert_int_eq(k.partition, 9);
        sm_wbuf_free(&w);
    }
    sm_wbuf_init(&w, 32);
    sm_group_encode_GroupMetadataKey(&w, S("grp"));
    static const uint8_t gmk[] = { 0, 2, 0, 3, 'g', 'r', 'p' };
    ck_assert_uint_eq(w.len, sizeof(gmk));
    ck_assert(memcmp(w.data, gmk, sizeof(gmk)) == 0);
    check_key_bytes(w.data, w.len, &k);
    ck_assert(SM_GROUP_KEY_IS_METADATA(&k));
    sm_test_assert_bytes(k.group, S("grp"), "group");
    ck_assert_int_eq(k.topic.len, -1);
    ck_assert_int_eq(k.partition, -1);
    sm_wbuf_free(&w);

    /* Unknown key versions (e.g. a transaction-log key that strayed in). */
    static const uint8_t bad[] = { 0, 3, 0, 1, 'g' };
    sm_reader_t r;
    sm_reader_init(&r, bad, sizeof(bad));
    ck_assert_int_eq(sm_group_decode_key(&r, &k), -1);
    static const uint8_t neg[] = { 0xff, 0xff, 0, 1, 'g' };
    sm_reader_init(&r, neg, sizeof(neg));
    ck_assert_int_eq(sm_group_decode_key(&r, &k), -1);
}
END_TEST

START_TEST(test_offset_commit_value)
{
    for (int16_t v = 0; v <= 3; v++) {
        sm_offset_commit_value_t in = { .offset = 77, .leader_epoch = 4, .metadata = S("m"),
                                        .commit_timestamp = 1700000000000LL,
                                        .expire_timestamp = 1800000000000LL }, out;
        REC_ROUNDTRIP(sm_group_encode_OffsetCommitValue, sm_group_decode_OffsetCommitValue,
                      sm_offset_commit_value_t, v, &in, &out,);
        ck_assert_int_eq(out.offset, 77);
        ck_assert_int_eq(out.leader_epoch, v >= 3 ? 4 : -1);
        sm_test_assert_bytes(out.metadata, S("m"), "metadata");
        ck_assert(out.commit_timestamp == 1700000000000LL);
        ck_assert(out.expire_timestamp == (v == 1 ? 1800000000000LL : -1));
    }
    /* Version policy: 3 normally, 1 with an explicit expiry. */
    sm_offset_commit_value_t x = { .expire_timestamp = -1 };
    ck_assert_int_eq(sm_group_offset_value_version(&x), 3);
    x.expire_timestamp = 5;
    ck_assert_int_eq(sm_group_offset_value_version(&x), 1);

    /* Golden v3: offset 5, epoch 2, metadata "", timestamp 1000. */
    static const uint8_t g3[] = {
        0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8,
    };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 32);
    sm_offset_commit_value_t gv = { .offset = 5, .leader_epoch = 2, .metadata = NUL,
                                    .commit_timestamp = 1000, .expire_timestamp = -1 };
    sm_group_encode_OffsetCommitValue(&w, sm_group_offset_value_version(&gv), &gv);
    ck_assert_uint_eq(w.len, sizeof(g3));
    ck_assert(memcmp(w.data, g3, sizeof(g3)) == 0);
    sm_wbuf_free(&w);

    static const uint8_t v4[] = { 0, 4, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    sm_reader_t r;
    sm_reader_init(&r, v4, sizeof(v4));
    ck_assert_int_eq(sm_group_decode_OffsetCommitValue(&r, &x), -1);
}
END_TEST

START_TEST(test_group_metadata_value)
{
    for (int16_t v = 0; v <= 3; v++) {
        sm_group_member_md_t m[2] = {
            { .member_id = S("c-1-uuid"), .group_instance_id = S("inst"), .client_id = S("c-1"),
              .client_host = S("/10.0.0.1"), .rebalance_timeout = 300000, .session_timeout = 10000,
              .subscription = S("SUB"), .assignment = S("ASSIGN") },
            { .member_id = S("c-2-uuid"), .group_instance_id = NUL, .client_id = S("c-2"),
              .client_host = S("/10.0.0.2"), .rebalance_timeout = 45000, .session_timeout = 45000,
              .subscription = S(""), .assignment = S("") },
        };
        sm_group_metadata_value_t in = { .protocol_type = S("consumer"), .generation = 12,
                                         .protocol = S("range"), .leader = S("c-1-uuid"),
                                         .current_state_timestamp = 1650000000000LL,
                                         .n_members = 2, .members = m }, out;
        /* v0 has no rebalance timeout: decode yields the session timeout, so
         * a v0 round trip only re-encodes identically (v0 omits the field). */
        REC_ROUNDTRIP(sm_group_encode_GroupMetadataValue, sm_group_decode_GroupMetadataValue,
                      sm_group_metadata_value_t, v, &in, &out, &sm_test_arena,);
        sm_test_assert_bytes(out.protocol_type, S("consumer"), "ptype");
        ck_assert_int_eq(out.generation, 12);
        sm_test_assert_bytes(out.protocol, S("range"), "protocol");
        sm_test_assert_bytes(out.leader, S("c-1-uuid"), "leader");
        ck_assert(out.current_state_timestamp == (v >= 2 ? 1650000000000LL : -1));
        ck_assert_int_eq(out.n_members, 2);
        const sm_group_member_md_t *o = &out.members[0];
        sm_test_assert_bytes(o->member_id, S("c-1-uuid"), "mid");
        sm_test_assert_bytes(o->group_instance_id, v >= 3 ? S("inst") : NUL, "inst");
        sm_test_assert_bytes(o->client_id, S("c-1"), "cid");
        sm_test_assert_bytes(o->client_host, S("/10.0.0.1"), "host");
        ck_assert_int_eq(o->rebalance_timeout, v >= 1 ? 300000 : 10000);
        ck_assert_int_eq(o->session_timeout, 10000);
        sm_test_assert_bytes(o->subscription, S("SUB"), "sub");
        sm_test_assert_bytes(o->assignment, S("ASSIGN"), "assign");
        ck_assert_int_eq(out.members[1].group_instance_id.len, -1);
        ck_assert_int_eq(out.members[1].assignment.len, 0);

        /* An Empty group: null protocol and leader, no members. */
        sm_group_metadata_value_t e = { .protocol_type = S("consumer"), .generation = 13,
                                        .protocol = NUL, .leader = NUL,
                                        .current_state_timestamp = 5 };
        REC_ROUNDTRIP(sm_group_encode_GroupMetadataValue, sm_group_decode_GroupMetadataValue,
                      sm_group_metadata_value_t, v, &e, &out, &sm_test_arena,);
        ck_assert_int_eq(out.protocol.len, -1);
        ck_assert_int_eq(out.leader.len, -1);
        ck_assert_int_eq(out.n_members, 0);
    }
    static const uint8_t v4[] = { 0, 4, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    sm_reader_t r;
    sm_group_metadata_value_t x;
    sm_reader_init(&r, v4, sizeof(v4));
    ck_assert_int_eq(sm_group_decode_GroupMetadataValue(&r, &sm_test_arena, &x), -1);
}
END_TEST

static Suite *
proto_group_suite(void)
{
    Suite *s = suite_create("proto_group");
    TCase *tc = tcase_create("apis");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_findcoordinator);
    tcase_add_test(tc, test_joingroup);
    tcase_add_test(tc, test_golden_joingroup_v5);
    tcase_add_test(tc, test_syncgroup);
    tcase_add_test(tc, test_heartbeat);
    tcase_add_test(tc, test_leavegroup);
    tcase_add_test(tc, test_offsetcommit);
    tcase_add_test(tc, test_offsetfetch);
    tcase_add_test(tc, test_listgroups);
    tcase_add_test(tc, test_describegroups);
    tcase_add_test(tc, test_deletegroups);
    tcase_add_test(tc, test_offsetdelete);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_unsupported_versions);
    suite_add_tcase(s, tc);

    tc = tcase_create("records");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_consumer_protocol);
    tcase_add_test(tc, test_offsets_keys);
    tcase_add_test(tc, test_offset_commit_value);
    tcase_add_test(tc, test_group_metadata_value);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(proto_group_suite());
}

/*
 * check_proto_ib.c - unit tests for the inter-broker codecs
 * (src/proto/sm_proto_ib_*.c): LeaderAndIsr, UpdateMetadata, StopReplica,
 * ControlledShutdown, OffsetForLeaderEpoch, InitProducerId, AlterConfigs,
 * DeleteRecords.
 *
 * For every version: encode a sample, decode, compare the fields the
 * version carries (and defaults for the others), re-encode and require
 * identical bytes, then decode every proper prefix, which must fail. A few
 * hand-assembled frames pin the flexible layouts (compact lengths, tagged
 * fields) and the ungrouped old layouts byte for byte.
 *
 * The second test case drives the inter-broker client
 * (src/repl/sm_ib_client.c) against a fake broker thread on a loopback
 * socket: a blocking typed call, in-order delivery with a retry after the
 * fake drops the connection, and dropping a destination's queue.
 */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_util.h"
#include "proto/sm_proto_interbroker.h"
#include "repl/sm_ib_client.h"
#include "sm_test.h"

/* ---------------------------------------------------------------- table */

START_TEST(test_ranges)
{
    static const struct { int16_t key, max; } r[] = {
        { SM_API_LEADERANDISR, 4 }, { SM_API_UPDATEMETADATA, 6 }, { SM_API_STOPREPLICA, 3 },
        { SM_API_CONTROLLEDSHUTDOWN, 3 }, { SM_API_OFFSETFORLEADEREPOCH, 3 }, { SM_API_INITPRODUCERID, 1 },
        { SM_API_ALTERCONFIGS, 1 }, { SM_API_DELETERECORDS, 1 },
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(r); i++) {
        int16_t lo, hi;
        ck_assert_int_eq(sm_proto_codec_range(r[i].key, &lo, &hi), 0);
        ck_assert_int_eq(lo, 0);
        ck_assert_int_eq(hi, r[i].max);
    }
    ck_assert(sm_api_is_flexible(SM_API_LEADERANDISR, 4));
    ck_assert(!sm_api_is_flexible(SM_API_LEADERANDISR, 3));
    ck_assert(sm_api_is_flexible(SM_API_STOPREPLICA, 2));
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_CONTROLLEDSHUTDOWN, 0), 0);
    ck_assert_int_eq(sm_proto_request_header_version(SM_API_CONTROLLEDSHUTDOWN, 3), 2);
    ck_assert_int_eq(sm_proto_response_header_version(SM_API_UPDATEMETADATA, 6), 1);
    /* Out-of-range versions are refused by decoders. */
    sm_reader_t r0;
    uint8_t zeros[64] = { 0 };
    sm_leaderandisr_req_t lai;
    sm_reader_init(&r0, zeros, sizeof(zeros));
    ck_assert_int_eq(sm_proto_decode_LeaderAndIsrRequest(&r0, 5, &sm_test_arena, &lai), -1);
    sm_updatemetadata_req_t um;
    sm_reader_init(&r0, zeros, sizeof(zeros));
    ck_assert_int_eq(sm_proto_decode_UpdateMetadataRequest(&r0, 7, &sm_test_arena, &um), -1);
}
END_TEST

/* --------------------------------------------------------- LeaderAndIsr */

START_TEST(test_leaderandisr)
{
    int32_t isr0[] = { 1, 2 }, rep0[] = { 1, 2, 3 }, add0[] = { 3 }, rem0[] = { 4, 5 };
    int32_t isr1[] = { 2 }, rep1[] = { 2, 1 };
    sm_lai_part_t pa[] = {
        { 0, 7, 1, 10, 2, isr0, 33, 3, rep0, 1, add0, 2, rem0, 1 },
        { 3, 7, 2, 11, 1, isr1, 34, 2, rep1, 0, NULL, 0, NULL, 0 },
    };
    int32_t isr2[] = { 3 }, rep2[] = { 3 };
    sm_lai_part_t pb[] = { { 5, 6, 3, 0, 1, isr2, 0, 1, rep2, 0, NULL, 0, NULL, 1 } };
    sm_lai_topic_t topics[] = { { S("orders"), 2, pa }, { S("t2"), 1, pb } };
    sm_lai_leader_t leaders[] = { { 1, S("host-a"), 9092 }, { 3, S("127.0.0.1"), 19093 } };
    sm_leaderandisr_req_t in = { 2, 7, 0x1122334455LL, 2, topics, 2, leaders };

    for (int16_t v = 0; v <= 4; v++) {
        sm_leaderandisr_req_t out;
        SM_TEST_ROUNDTRIP(LeaderAndIsrRequest, sm_leaderandisr_req_t, v, &in, &out);
        ck_assert_int_eq(out.controller_id, 2);
        ck_assert_int_eq(out.controller_epoch, 7);
        ck_assert(out.broker_epoch == (v >= 2 ? 0x1122334455LL : -1));
        /* v0-1: one topic entry per wire partition. */
        ck_assert_int_eq(out.n_topics, v <= 1 ? 3 : 2);
        const sm_lai_part_t *got[3];
        sm_bytes_t names[3];
        int k = 0;
        for (int32_t t = 0; t < out.n_topics; t++)
            for (int32_t p = 0; p < out.topics[t].n_partitions; p++) {
                ck_assert_int_lt(k, 3);
                names[k] = out.topics[t].topic;
                got[k++] = &out.topics[t].partitions[p];
            }
        ck_assert_int_eq(k, 3);
        const sm_lai_part_t *want[3] = { &pa[0], &pa[1], &pb[0] };
        const char *wnames[3] = { "orders", "orders", "t2" };
        for (int i = 0; i < 3; i++) {
            ck_assert(sm_bytes_eq(names[i], wnames[i]));
            ck_assert_int_eq(got[i]->partition_index, want[i]->partition_index);
            ck_assert_int_eq(got[i]->controller_epoch, want[i]->controller_epoch);
            ck_assert_int_eq(got[i]->leader, want[i]->leader);
            ck_assert_int_eq(got[i]->leader_epoch, want[i]->leader_epoch);
            ck_assert_int_eq(got[i]->zk_version, want[i]->zk_version);
            sm_test_assert_i32s(got[i]->n_isr, got[i]->isr, want[i]->n_isr, want[i]->isr);
            sm_test_assert_i32s(got[i]->n_replicas, got[i]->replicas, want[i]->n_replicas, want[i]->replicas);
            if (v >= 3) {
                sm_test_assert_i32s(got[i]->n_adding_replicas, got[i]->adding_replicas, want[i]->n_adding_replicas,
                            want[i]->adding_replicas);
                sm_test_assert_i32s(got[i]->n_removing_replicas, got[i]->removing_replicas, want[i]->n_removing_replicas,
                            want[i]->removing_replicas);
            } else {
                ck_assert_int_eq(got[i]->n_adding_replicas, 0);
                ck_assert_int_eq(got[i]->n_removing_replicas, 0);
            }
            ck_assert_int_eq(got[i]->is_new, v >= 1 ? want[i]->is_new : 0);
        }
        ck_assert_int_eq(out.n_live_leaders, 2);
        ck_assert_int_eq(out.live_leaders[1].broker_id, 3);
        ck_assert(sm_bytes_eq(out.live_leaders[1].host, "127.0.0.1"));
        ck_assert_int_eq(out.live_leaders[1].port, 19093);
    }

    sm_ib_part_error_t errs[] = { { S("orders"), 0, 0 }, { S("orders"), 3, 11 } };
    sm_leaderandisr_resp_t rin = { 0, 2, errs };
    for (int16_t v = 0; v <= 4; v++) {
        sm_leaderandisr_resp_t rout;
        SM_TEST_ROUNDTRIP(LeaderAndIsrResponse, sm_leaderandisr_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.error_code, 0);
        ck_assert_int_eq(rout.n_partition_errors, 2);
        ck_assert(sm_bytes_eq(rout.partition_errors[1].topic, "orders"));
        ck_assert_int_eq(rout.partition_errors[1].partition, 3);
        ck_assert_int_eq(rout.partition_errors[1].error_code, 11);
    }
}
END_TEST

/* The flexible v4 layout, assembled by hand: compact arrays/strings and an
 * empty tag section after every struct and at the end. */
START_TEST(test_leaderandisr_v4_wire)
{
    int32_t one[] = { 1 };
    sm_lai_part_t p = { 0, 1, 1, 2, 1, one, 3, 1, one, 0, NULL, 0, NULL, 1 };
    sm_lai_topic_t t = { S("t"), 1, &p };
    sm_lai_leader_t l = { 1, S("h"), 9 };
    sm_leaderandisr_req_t in = { 1, 1, 5, 1, &t, 1, &l };
    static const uint8_t want[] = {
        0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5,     /* controller id, epoch, broker epoch */
        2, 2, 't',                                          /* 1 topic, "t" */
        2,                                                  /* 1 partition */
        0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2,     /* index, ctrl epoch, leader, leader epoch */
        2, 0, 0, 0, 1, 0, 0, 0, 3, 2, 0, 0, 0, 1,           /* isr [1], zk version 3, replicas [1] */
        1, 1, 1, 0,                                         /* adding [], removing [], is_new, tags */
        0,                                                  /* topic tags */
        2, 0, 0, 0, 1, 2, 'h', 0, 0, 0, 9, 0,               /* live leaders [{1, "h", 9}] */
        0,                                                  /* request tags */
    };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_proto_encode_LeaderAndIsrRequest(&w, 4, &in);
    sm_test_assert_wire(&w, want, sizeof(want));
    sm_wbuf_free(&w);

    /* Unknown tagged fields are skipped: add tag 7 (2 bytes) at the end. */
    uint8_t tagged[sizeof(want) + 4];
    memcpy(tagged, want, sizeof(want));
    tagged[sizeof(want) - 1] = 1;
    tagged[sizeof(want)] = 7;
    tagged[sizeof(want) + 1] = 2;
    tagged[sizeof(want) + 2] = 0xaa;
    tagged[sizeof(want) + 3] = 0xbb;
    sm_reader_t r;
    sm_leaderandisr_req_t out;
    sm_reader_init(&r, tagged, sizeof(tagged));
    ck_assert_int_eq(sm_proto_decode_LeaderAndIsrRequest(&r, 4, &sm_test_arena, &out), 0);
    ck_assert_uint_eq(sm_reader_remaining(&r), 0);
    ck_assert_int_eq(out.topics[0].partitions[0].zk_version, 3);
    ck_assert_int_eq(out.live_leaders[0].port, 9);
}
END_TEST

/* ------------------------------------------------------- UpdateMetadata */

START_TEST(test_updatemetadata)
{
    int32_t isr[] = { 1, 2 }, rep[] = { 1, 2, 3 }, off[] = { 3 };
    int32_t r1[] = { 2 };
    sm_um_part_t pa[] = {
        { 0, 4, 1, 9, 2, isr, 12, 3, rep, 1, off },
        { 1, 4, -2, 9, 1, r1, 13, 1, r1, 0, NULL },
    };
    sm_um_topic_t topics[] = { { S("events"), 2, pa } };
    sm_um_endpoint_t e1[] = { { 9092, S("broker-1"), S("PLAINTEXT"), 0 }, { 9093, S("broker-1"), S("INTERNAL"), 0 } };
    sm_um_endpoint_t e2[] = { { 19092, S("127.0.0.1"), S("PLAINTEXT"), 0 } };
    sm_um_broker_t brokers[] = { { 1, 2, e1, S("rack-a") }, { 2, 1, e2, NUL } };
    sm_updatemetadata_req_t in = { 1, 4, 77, 1, topics, 2, brokers };

    for (int16_t v = 0; v <= 6; v++) {
        sm_updatemetadata_req_t out;
        if (v == 0) {
            /* v0 has exactly one endpoint per broker: only endpoints[0] survives. */
            sm_um_broker_t b0[] = { { 1, 1, e1, NUL }, { 2, 1, e2, NUL } };
            sm_updatemetadata_req_t in0 = in;
            in0.live_brokers = b0;
            SM_TEST_ROUNDTRIP(UpdateMetadataRequest, sm_updatemetadata_req_t, v, &in0, &out);
        } else {
            SM_TEST_ROUNDTRIP(UpdateMetadataRequest, sm_updatemetadata_req_t, v, &in, &out);
        }
        ck_assert_int_eq(out.controller_id, 1);
        ck_assert_int_eq(out.controller_epoch, 4);
        ck_assert(out.broker_epoch == (v >= 5 ? 77 : -1));
        ck_assert_int_eq(out.n_topics, v <= 4 ? 2 : 1);
        const sm_um_part_t *p1 = v <= 4 ? &out.topics[1].partitions[0] : &out.topics[0].partitions[1];
        ck_assert(sm_bytes_eq(out.topics[0].topic, "events"));
        ck_assert_int_eq(out.topics[0].partitions[0].leader, 1);
        ck_assert_int_eq(out.topics[0].partitions[0].zk_version, 12);
        sm_test_assert_i32s(out.topics[0].partitions[0].n_replicas, out.topics[0].partitions[0].replicas, 3, rep);
        sm_test_assert_i32s(out.topics[0].partitions[0].n_isr, out.topics[0].partitions[0].isr, 2, isr);
        ck_assert_int_eq(out.topics[0].partitions[0].n_offline_replicas, v >= 4 ? 1 : 0);
        ck_assert_int_eq(p1->partition_index, 1);
        ck_assert_int_eq(p1->leader, -2);
        ck_assert_int_eq(out.n_live_brokers, 2);
        const sm_um_broker_t *b = &out.live_brokers[0];
        ck_assert_int_eq(b->id, 1);
        ck_assert_int_eq(b->n_endpoints, v == 0 ? 1 : 2);
        ck_assert(sm_bytes_eq(b->endpoints[0].host, "broker-1"));
        ck_assert_int_eq(b->endpoints[0].port, 9092);
        ck_assert(sm_bytes_eq(b->endpoints[0].listener, v >= 3 ? "PLAINTEXT" : ""));
        if (v >= 2) ck_assert(sm_bytes_eq(b->rack, "rack-a"));
        else ck_assert_int_eq(b->rack.len, -1);
        ck_assert_int_eq(out.live_brokers[1].rack.len, -1);
        ck_assert_int_eq(out.live_brokers[1].endpoints[0].port, 19092);
    }
    sm_updatemetadata_resp_t rin = { 38 };
    for (int16_t v = 0; v <= 6; v++) {
        sm_updatemetadata_resp_t rout;
        SM_TEST_ROUNDTRIP(UpdateMetadataResponse, sm_updatemetadata_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.error_code, 38);
    }
}
END_TEST

START_TEST(test_updatemetadata_v0_wire)
{
    int32_t one[] = { 1 };
    sm_um_part_t p = { 2, 1, 1, 0, 1, one, 0, 1, one, 0, NULL };
    sm_um_topic_t t = { S("ab"), 1, &p };
    sm_um_endpoint_t e = { 7, S("h"), S("PLAINTEXT"), 0 };
    sm_um_broker_t b = { 1, 1, &e, S("r") };
    sm_updatemetadata_req_t in = { 1, 1, -1, 1, &t, 1, &b };
    static const uint8_t want[] = {
        0, 0, 0, 1, 0, 0, 0, 1,                             /* controller id, epoch */
        0, 0, 0, 1, 0, 2, 'a', 'b',                         /* 1 ungrouped partition of "ab" */
        0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,     /* index 2, ctrl epoch, leader, leader epoch */
        0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, /* isr, zk, replicas */
        0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 'h', 0, 0, 0, 7,      /* brokers: id 1, "h", port 7 */
    };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_proto_encode_UpdateMetadataRequest(&w, 0, &in);
    sm_test_assert_wire(&w, want, sizeof(want));
    sm_wbuf_free(&w);
}
END_TEST

/* ---------------------------------------------------------- StopReplica */

START_TEST(test_stopreplica)
{
    sm_sr_part_t pa[] = { { 0, 5, 1 }, { 2, 6, 1 } };
    sm_sr_part_t pb[] = { { 1, -1, 1 } };
    sm_sr_topic_t topics[] = { { S("gone"), 2, pa }, { S("x"), 1, pb } };
    sm_stopreplica_req_t in = { 3, 9, 1234, 1, 2, topics };
    for (int16_t v = 0; v <= 3; v++) {
        sm_stopreplica_req_t out;
        SM_TEST_ROUNDTRIP(StopReplicaRequest, sm_stopreplica_req_t, v, &in, &out);
        ck_assert_int_eq(out.controller_id, 3);
        ck_assert_int_eq(out.controller_epoch, 9);
        ck_assert(out.broker_epoch == (v >= 1 ? 1234 : -1));
        ck_assert_int_eq(out.delete_partitions, v <= 2 ? 1 : 0);
        ck_assert_int_eq(out.n_topics, v == 0 ? 3 : 2);
        ck_assert(sm_bytes_eq(out.topics[0].topic, "gone"));
        const sm_sr_part_t *second = v == 0 ? &out.topics[1].partitions[0] : &out.topics[0].partitions[1];
        ck_assert_int_eq(second->partition_index, 2);
        ck_assert_int_eq(second->leader_epoch, v >= 3 ? 6 : -1);
        ck_assert_int_eq(second->delete_partition, 1);
    }
    /* v3 carries the flag per partition. */
    sm_sr_part_t mixed[] = { { 0, 1, 0 }, { 1, 2, 1 } };
    sm_sr_topic_t mt = { S("m"), 2, mixed };
    sm_stopreplica_req_t in3 = { 1, 1, 1, 0, 1, &mt };
    sm_stopreplica_req_t out3;
    SM_TEST_ROUNDTRIP(StopReplicaRequest, sm_stopreplica_req_t, 3, &in3, &out3);
    ck_assert_int_eq(out3.topics[0].partitions[0].delete_partition, 0);
    ck_assert_int_eq(out3.topics[0].partitions[1].delete_partition, 1);

    sm_ib_part_error_t errs[] = { { S("gone"), 0, 0 }, { S("gone"), 2, 3 } };
    sm_stopreplica_resp_t rin = { 0, 2, errs };
    for (int16_t v = 0; v <= 3; v++) {
        sm_stopreplica_resp_t rout;
        SM_TEST_ROUNDTRIP(StopReplicaResponse, sm_stopreplica_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.n_partition_errors, 2);
        ck_assert_int_eq(rout.partition_errors[1].error_code, 3);
        ck_assert(sm_bytes_eq(rout.partition_errors[1].topic, "gone"));
    }
}
END_TEST

START_TEST(test_stopreplica_v2_wire)
{
    sm_sr_part_t p[] = { { 4, -1, 1 } };
    sm_sr_topic_t t = { S("t"), 1, p };
    sm_stopreplica_req_t in = { 1, 2, 3, 1, 1, &t };
    static const uint8_t want[] = {
        0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 1,  /* ids, broker epoch, delete */
        2, 2, 't', 2, 0, 0, 0, 4, 0,                        /* [{"t", [4]}] */
        0,                                                  /* tags */
    };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_proto_encode_StopReplicaRequest(&w, 2, &in);
    sm_test_assert_wire(&w, want, sizeof(want));
    sm_wbuf_free(&w);
}
END_TEST

/* --------------------------------------------------- ControlledShutdown */

START_TEST(test_controlledshutdown)
{
    sm_controlledshutdown_req_t in = { 2, 4294967301LL };
    for (int16_t v = 0; v <= 3; v++) {
        sm_controlledshutdown_req_t out;
        SM_TEST_ROUNDTRIP(ControlledShutdownRequest, sm_controlledshutdown_req_t, v, &in, &out);
        ck_assert_int_eq(out.broker_id, 2);
        ck_assert(out.broker_epoch == (v >= 2 ? 4294967301LL : -1));
    }
    sm_cs_remaining_t rem[] = { { S("a"), 0 }, { S("bb"), 7 } };
    sm_controlledshutdown_resp_t rin = { 0, 2, rem };
    for (int16_t v = 0; v <= 3; v++) {
        sm_controlledshutdown_resp_t rout;
        SM_TEST_ROUNDTRIP(ControlledShutdownResponse, sm_controlledshutdown_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.n_remaining, 2);
        ck_assert(sm_bytes_eq(rout.remaining[1].topic, "bb"));
        ck_assert_int_eq(rout.remaining[1].partition, 7);
    }
    static const uint8_t v3[] = { 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 5, 0 };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 16);
    sm_proto_encode_ControlledShutdownRequest(&w, 3, &in);
    sm_test_assert_wire(&w, v3, sizeof(v3));
    sm_wbuf_free(&w);
    /* v0 requests use request header v0: no client id. */
    sm_req_hdr_t h = { SM_API_CONTROLLEDSHUTDOWN, 0, 42, S("samsa"), 0 };
    sm_wbuf_init(&w, 16);
    sm_proto_encode_RequestHeader(&w, &h);
    static const uint8_t h0[] = { 0, 7, 0, 0, 0, 0, 0, 42 };
    sm_test_assert_wire(&w, h0, sizeof(h0));
    sm_wbuf_free(&w);
}
END_TEST

/* ------------------------------------------------- OffsetForLeaderEpoch */

START_TEST(test_offsetforleaderepoch)
{
    sm_ofle_req_part_t rp[] = { { 0, 5, 4 }, { 1, 5, 3 } };
    sm_ofle_req_topic_t rt[] = { { S("t"), 2, rp } };
    sm_offsetforleaderepoch_req_t in = { 1, 1, rt };
    for (int16_t v = 0; v <= 3; v++) {
        sm_offsetforleaderepoch_req_t out;
        SM_TEST_ROUNDTRIP(OffsetForLeaderEpochRequest, sm_offsetforleaderepoch_req_t, v, &in, &out);
        ck_assert_int_eq(out.replica_id, v >= 3 ? 1 : -2);
        ck_assert_int_eq(out.n_topics, 1);
        ck_assert_int_eq(out.topics[0].n_partitions, 2);
        ck_assert_int_eq(out.topics[0].partitions[1].partition, 1);
        ck_assert_int_eq(out.topics[0].partitions[1].current_leader_epoch, v >= 2 ? 5 : -1);
        ck_assert_int_eq(out.topics[0].partitions[1].leader_epoch, 3);
    }
    sm_ofle_resp_part_t op[] = { { 0, 0, 4, 1000 }, { 74, 1, -1, -1 } };
    sm_ofle_resp_topic_t ot[] = { { S("t"), 2, op } };
    sm_offsetforleaderepoch_resp_t rin = { 10, 1, ot };
    for (int16_t v = 0; v <= 3; v++) {
        sm_offsetforleaderepoch_resp_t rout;
        SM_TEST_ROUNDTRIP(OffsetForLeaderEpochResponse, sm_offsetforleaderepoch_resp_t, v, &rin, &rout);
        ck_assert_int_eq(rout.throttle_time_ms, v >= 2 ? 10 : 0);
        ck_assert_int_eq(rout.topics[0].partitions[0].leader_epoch, v >= 1 ? 4 : -1);
        ck_assert(rout.topics[0].partitions[0].end_offset == 1000);
        ck_assert_int_eq(rout.topics[0].partitions[1].error_code, 74);
    }
}
END_TEST

/* -------------------------------------- InitProducerId / AlterConfigs / DeleteRecords */

START_TEST(test_misc)
{
    sm_initproducerid_req_t ipin[] = { { NUL, 60000 }, { S("txn-1"), 1000 } };
    for (int16_t v = 0; v <= 1; v++)
        for (int k = 0; k < 2; k++) {
            sm_initproducerid_req_t out;
            SM_TEST_ROUNDTRIP(InitProducerIdRequest, sm_initproducerid_req_t, v, &ipin[k], &out);
            sm_test_assert_bytes(out.transactional_id, ipin[k].transactional_id, "transactional_id");
            ck_assert_int_eq(out.transaction_timeout_ms, ipin[k].transaction_timeout_ms);
        }
    sm_initproducerid_resp_t iprin = { 5, 0, 4000, 2 };
    for (int16_t v = 0; v <= 1; v++) {
        sm_initproducerid_resp_t out;
        SM_TEST_ROUNDTRIP(InitProducerIdResponse, sm_initproducerid_resp_t, v, &iprin, &out);
        ck_assert(out.producer_id == 4000);
        ck_assert_int_eq(out.producer_epoch, 2);
        ck_assert_int_eq(out.throttle_time_ms, 5);
    }

    sm_config_kv_t kv[] = { { S("retention.ms"), S("1000") }, { S("cleanup.policy"), NUL } };
    sm_alterconfigs_resource_t res[] = { { 2, S("t"), 2, kv }, { 4, S("1"), 0, NULL } };
    sm_alterconfigs_req_t acin = { 2, res, 1 };
    for (int16_t v = 0; v <= 1; v++) {
        sm_alterconfigs_req_t out;
        SM_TEST_ROUNDTRIP(AlterConfigsRequest, sm_alterconfigs_req_t, v, &acin, &out);
        ck_assert_int_eq(out.n_resources, 2);
        ck_assert_int_eq(out.resources[0].resource_type, 2);
        ck_assert(sm_bytes_eq(out.resources[0].configs[0].value, "1000"));
        ck_assert_int_eq(out.resources[0].configs[1].value.len, -1);
        ck_assert_int_eq(out.resources[1].n_configs, 0);
        ck_assert_int_eq(out.validate_only, 1);
    }
    sm_alterconfigs_result_t acr[] = { { 0, NUL, 2, S("t") }, { 40, S("bad"), 4, S("1") } };
    sm_alterconfigs_resp_t acrin = { 0, 2, acr };
    for (int16_t v = 0; v <= 1; v++) {
        sm_alterconfigs_resp_t out;
        SM_TEST_ROUNDTRIP(AlterConfigsResponse, sm_alterconfigs_resp_t, v, &acrin, &out);
        ck_assert_int_eq(out.responses[1].error_code, 40);
        ck_assert(sm_bytes_eq(out.responses[1].error_message, "bad"));
        ck_assert_int_eq(out.responses[0].error_message.len, -1);
    }

    sm_dr_req_part_t drp[] = { { 0, 10 }, { 1, -1 } };
    sm_dr_req_topic_t drt[] = { { S("t"), 2, drp } };
    sm_deleterecords_req_t drin = { 1, drt, 3000 };
    for (int16_t v = 0; v <= 1; v++) {
        sm_deleterecords_req_t out;
        SM_TEST_ROUNDTRIP(DeleteRecordsRequest, sm_deleterecords_req_t, v, &drin, &out);
        ck_assert(out.topics[0].partitions[1].offset == -1);
        ck_assert(out.topics[0].partitions[0].offset == 10);
        ck_assert_int_eq(out.timeout_ms, 3000);
    }
    sm_dr_resp_part_t drr[] = { { 0, 10, 0 }, { 1, -1, 6 } };
    sm_dr_resp_topic_t drrt[] = { { S("t"), 2, drr } };
    sm_deleterecords_resp_t drrin = { 0, 1, drrt };
    for (int16_t v = 0; v <= 1; v++) {
        sm_deleterecords_resp_t out;
        SM_TEST_ROUNDTRIP(DeleteRecordsResponse, sm_deleterecords_resp_t, v, &drrin, &out);
        ck_assert(out.topics[0].partitions[0].low_watermark == 10);
        ck_assert_int_eq(out.topics[0].partitions[1].error_code, 6);
    }
}
END_TEST

/* Hostile counts must fail before allocating, not crash. */
START_TEST(test_hostile)
{
    static const uint8_t huge_v0[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff };
    static const uint8_t huge_v4[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const uint8_t null_arr[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x00 };
    sm_reader_t r;
    sm_leaderandisr_req_t lai;
    sm_updatemetadata_req_t um;
    sm_stopreplica_req_t sr;
    sm_reader_init(&r, huge_v0, sizeof(huge_v0));
    ck_assert_int_eq(sm_proto_decode_LeaderAndIsrRequest(&r, 0, &sm_test_arena, &lai), -1);
    sm_reader_init(&r, huge_v0, sizeof(huge_v0));
    ck_assert_int_eq(sm_proto_decode_UpdateMetadataRequest(&r, 0, &sm_test_arena, &um), -1);
    sm_reader_init(&r, huge_v4, sizeof(huge_v4));
    ck_assert_int_eq(sm_proto_decode_LeaderAndIsrRequest(&r, 4, &sm_test_arena, &lai), -1);
    /* A compact null (0) where a non-nullable array is required. */
    sm_reader_init(&r, null_arr, sizeof(null_arr));
    ck_assert_int_eq(sm_proto_decode_LeaderAndIsrRequest(&r, 4, &sm_test_arena, &lai), -1);
    sm_reader_init(&r, null_arr, sizeof(null_arr));
    ck_assert_int_eq(sm_proto_decode_StopReplicaRequest(&r, 3, &sm_test_arena, &sr), -1);
    ck_assert_uint_lt(sm_test_arena.total, 4096);
}
END_TEST


/* ------------------------------------------------------- the ib client */

/* A fake broker: accepts connections one at a time and answers
 * ControlledShutdown (one remaining partition "t"-broker_id) and
 * UpdateMetadata (error_code = the request's controller epoch, so the test
 * sees which request got which answer). With drop_first it closes the
 * first connection after reading its first request, unanswered. */
typedef struct {
    int lfd, port;
    int drop_first;
    int requests;                    /* frames read, including the dropped one */
    int stop;
    pthread_t tid;
} fake_t;

static int
read_n(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static void *
fake_main(void *arg)
{
    fake_t *f = arg;
    sm_arena_t a;
    sm_arena_init(&a, 1024);
    while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) break;
        for (;;) {
            uint8_t szb[4];
            if (read_n(fd, szb, 4) < 0) break;
            size_t size = sm_be32(szb);
            uint8_t *frame = sm_malloc(size ? size : 1);
            if (read_n(fd, frame, size) < 0) { free(frame); break; }
            int nth = __atomic_add_fetch(&f->requests, 1, __ATOMIC_ACQ_REL);
            if (f->drop_first && nth == 1) { free(frame); break; }
            sm_reader_t r;
            sm_req_hdr_t h;
            sm_reader_init(&r, frame, size);
            sm_arena_reset(&a);
            ck_assert_int_eq(sm_proto_decode_RequestHeader(&r, &h), 0);
            sm_wbuf_t w;
            sm_wbuf_init(&w, 64);
            size_t at = sm_proto_response_begin(&w, &h);
            if (h.api_key == SM_API_CONTROLLEDSHUTDOWN) {
                sm_controlledshutdown_req_t req;
                ck_assert_int_eq(sm_proto_decode_ControlledShutdownRequest(&r, h.api_version, &a, &req), 0);
                ck_assert(h.api_version == 0 ? h.client_id.len == -1 : sm_bytes_eq(h.client_id, "broker-9"));
                sm_cs_remaining_t rem = { S("t"), req.broker_id };
                sm_controlledshutdown_resp_t resp = { 0, 1, &rem };
                sm_proto_encode_ControlledShutdownResponse(&w, h.api_version, &resp);
            } else {
                sm_updatemetadata_req_t req;
                ck_assert_int_eq(sm_proto_decode_UpdateMetadataRequest(&r, h.api_version, &a, &req), 0);
                sm_updatemetadata_resp_t resp = { (int16_t)req.controller_epoch };
                sm_proto_encode_UpdateMetadataResponse(&w, h.api_version, &resp);
            }
            sm_proto_frame_end(&w, at, 0);
            ck_assert_int_eq(write(fd, w.data, w.len), (ssize_t)w.len);
            sm_wbuf_free(&w);
            free(frame);
        }
        close(fd);
    }
    sm_arena_free(&a);
    return NULL;
}

static void
fake_start(fake_t *f, int drop_first)
{
    memset(f, 0, sizeof(*f));
    f->drop_first = drop_first;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { 0 };
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(f->lfd, 8), 0);
    socklen_t sl = sizeof(sa);
    getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
    f->port = ntohs(sa.sin_port);
    pthread_create(&f->tid, NULL, fake_main, f);
}

static void
fake_stop(fake_t *f)
{
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
    shutdown(f->lfd, SHUT_RDWR);
    close(f->lfd);
    pthread_join(f->tid, NULL);
}

START_TEST(test_client_call)
{
    fake_t f;
    fake_start(&f, 0);
    char err[256];
    sm_ib_conn_t *c = sm_ib_connect("127.0.0.1", f.port, 5000, "broker-9", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    for (int16_t v = 0; v <= 3; v++) {
        sm_controlledshutdown_req_t req = { 9, 77 };
        sm_controlledshutdown_resp_t resp;
        int rc = SM_IB_CALL(c, ControlledShutdown, SM_API_CONTROLLEDSHUTDOWN, v, &req, &sm_test_arena, &resp, 5000, err,
                            sizeof(err));
        ck_assert_msg(rc == 0, "v%d: %s", v, err);
        ck_assert_int_eq(resp.error_code, 0);
        ck_assert_int_eq(resp.n_remaining, 1);
        ck_assert(sm_bytes_eq(resp.remaining[0].topic, "t"));
        ck_assert_int_eq(resp.remaining[0].partition, 9);
    }
    sm_ib_close(c);
    fake_stop(&f);
    /* Nothing listens there any more. */
    ck_assert_ptr_null(sm_ib_connect("127.0.0.1", f.port, 2000, NULL, err, sizeof(err)));
    ck_assert(strstr(err, "cannot connect") != NULL);
}
END_TEST

typedef struct {
    pthread_mutex_t lock;
    int n, dropped;
    int16_t got[16];
    int port;                        /* -1: lookup fails */
} sink_t;

static int
sink_lookup(void *arg, int32_t id, char *host, size_t hostlen, int *port)
{
    sink_t *s = arg;
    if (s->port < 0) return -1;
    snprintf(host, hostlen, "127.0.0.1");
    *port = s->port;
    return 0;
}

static void
sink_done(void *arg, int32_t id, int16_t api, int16_t ver, sm_reader_t *body)
{
    sink_t *s = arg;
    pthread_mutex_lock(&s->lock);
    if (!body) s->dropped++;
    else {
        sm_updatemetadata_resp_t resp;
        sm_arena_t a;
        sm_arena_init(&a, 64);
        if (sm_proto_decode_UpdateMetadataResponse(body, ver, &a, &resp) == 0 && s->n < 16) s->got[s->n++] = resp.error_code;
        sm_arena_free(&a);
    }
    pthread_mutex_unlock(&s->lock);
}

static void
send_um(sm_ib_client_t *cl, sink_t *s, int32_t epoch)
{
    sm_updatemetadata_req_t req = { 1, epoch, -1, 0, NULL, 0, NULL };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 32);
    sm_proto_encode_UpdateMetadataRequest(&w, 6, &req);
    size_t len;
    uint8_t *body = sm_wbuf_steal(&w, &len);
    sm_ib_send(cl, 2, SM_API_UPDATEMETADATA, 6, body, len, sink_done, s);
}

START_TEST(test_client_queue)
{
    fake_t f;
    fake_start(&f, 1);
    sink_t s = { PTHREAD_MUTEX_INITIALIZER, 0, 0, { 0 }, f.port };
    sm_ib_client_conf_t conf = { "controller-1", "Controller id=1", sink_lookup, &s, 2000, 5000, 5, 20 };
    sm_ib_client_t *cl = sm_ib_client_new(&conf);
    for (int i = 0; i < 5; i++) send_um(cl, &s, 100 + i);
    /* Wait for completion (bounded; not a timing assumption). */
    for (int spin = 0; spin < 1000; spin++) {
        pthread_mutex_lock(&s.lock);
        int n = s.n;
        pthread_mutex_unlock(&s.lock);
        if (n == 5) break;
        usleep(10000);
    }
    ck_assert_int_eq(s.n, 5);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(s.got[i], 100 + i);
    /* The first request was read and dropped, then sent again. */
    ck_assert_int_eq(__atomic_load_n(&f.requests, __ATOMIC_ACQUIRE), 6);
    ck_assert_int_eq(sm_ib_client_pending(cl, 2), 0);
    sm_ib_client_free(cl);
    fake_stop(&f);
}
END_TEST

START_TEST(test_client_drop)
{
    sink_t s = { PTHREAD_MUTEX_INITIALIZER, 0, 0, { 0 }, -1 };
    sm_ib_client_conf_t conf = { NULL, NULL, sink_lookup, &s, 1000, 1000, 5, 10 };
    sm_ib_client_t *cl = sm_ib_client_new(&conf);
    send_um(cl, &s, 1);
    send_um(cl, &s, 2);
    ck_assert_int_eq(sm_ib_client_pending(cl, 2), 2);
    int32_t keep[] = { 1, 3 };
    sm_ib_client_retain(cl, keep, 2);        /* broker 2 is not live: dropped */
    ck_assert_int_eq(sm_ib_client_pending(cl, 2), 0);
    ck_assert_int_eq(s.dropped, 2);
    ck_assert_int_eq(s.n, 0);
    send_um(cl, &s, 3);                       /* a fresh thread; dropped by free */
    sm_ib_client_free(cl);
    ck_assert_int_eq(s.dropped, 3);
}
END_TEST

static Suite *
proto_ib_suite(void)
{
    Suite *s = suite_create("proto_ib");
    TCase *tc = tcase_create("codecs");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_leaderandisr);
    tcase_add_test(tc, test_leaderandisr_v4_wire);
    tcase_add_test(tc, test_updatemetadata);
    tcase_add_test(tc, test_updatemetadata_v0_wire);
    tcase_add_test(tc, test_stopreplica);
    tcase_add_test(tc, test_stopreplica_v2_wire);
    tcase_add_test(tc, test_controlledshutdown);
    tcase_add_test(tc, test_offsetforleaderepoch);
    tcase_add_test(tc, test_misc);
    tcase_add_test(tc, test_hostile);
    suite_add_tcase(s, tc);
    tc = tcase_create("client");
    tcase_add_checked_fixture(tc, sm_test_codec_setup, sm_test_codec_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_client_call);
    tcase_add_test(tc, test_client_queue);
    tcase_add_test(tc, test_client_drop);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(proto_ib_suite());
}

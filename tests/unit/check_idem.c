/*
 * check_idem.c - unit tests of idempotent-producer support: the Kafka 2.8
 * sequence/epoch rules (repl/sm_producer_state), the `.snapshot` codec
 * (log/sm_pstate_snap: layout, truncation at every byte, CRC), and the
 * partition log hooks (duplicate/gap/fencing on append, snapshots on roll
 * and close, rebuild on open and truncation).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sm_buf.h"
#include "core/sm_crc32c.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_plog.h"
#include "log/sm_pstate_snap.h"
#include "proto/sm_records.h"
#include "repl/sm_producer_state.h"
#include "sm_test.h"

static sm_pbatch_t
pb(int32_t first_seq, int32_t n, int64_t first_offset)
{
    sm_pbatch_t b = { sm_pstate_seq_add(first_seq, n - 1), first_offset + n - 1, n - 1, 1000 + first_offset };
    return b;
}

START_TEST(test_seq_wrap)
{
    ck_assert_int_eq(sm_pstate_seq_add(5, 3), 8);
    ck_assert_int_eq(sm_pstate_seq_add(INT32_MAX, 1), 0);
    ck_assert_int_eq(sm_pstate_seq_add(INT32_MAX - 1, 3), 1);
    ck_assert_int_eq(sm_pstate_seq_sub(1, 3), INT32_MAX - 1);
    ck_assert_int_eq(sm_pstate_seq_sub(8, 3), 5);
    ck_assert(sm_pstate_in_sequence(INT32_MAX, 0));
    ck_assert(sm_pstate_in_sequence(-1, 0));
    ck_assert(sm_pstate_in_sequence(4, 5));
    ck_assert(!sm_pstate_in_sequence(4, 6));
    ck_assert(!sm_pstate_in_sequence(INT32_MAX, 1));
}
END_TEST

START_TEST(test_rules)
{
    sm_pstate_t *ps = sm_pstate_new();
    sm_pbatch_t d;
    /* Unknown producer: any sequence (KIP-360). */
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 0, 9, &d), SM_ERR_NONE);
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 42, 50, &d), SM_ERR_NONE);
    /* Seven batches of 10: offsets 100.., seq 0..69. */
    for (int i = 0; i < 7; i++) {
        sm_pbatch_t b = pb(i * 10, 10, 100 + i * 10);
        ck_assert_int_eq(sm_pstate_check(ps, 7, 0, i * 10, i * 10 + 9, &d), SM_ERR_NONE);
        sm_pstate_update(ps, 7, 0, &b);
    }
    const sm_pentry_t *e = sm_pstate_get(ps, 7);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->nbatches, SM_PSTATE_BATCHES);
    ck_assert_int_eq(sm_pbatch_first_seq(&e->batches[0]), 20);
    ck_assert_int_eq(e->batches[4].last_seq, 69);
    /* Duplicates of each of the last 5 batches, with the original offsets. */
    for (int i = 2; i < 7; i++) {
        memset(&d, 0, sizeof(d));
        ck_assert_int_eq(sm_pstate_check(ps, 7, 0, i * 10, i * 10 + 9, &d), SM_ERR_DUPLICATE_SEQUENCE_NUMBER);
        ck_assert_int_eq(sm_pbatch_first_offset(&d), 100 + i * 10);
        ck_assert_int_eq(d.last_offset, 109 + i * 10);
    }
    /* Older than the retained window: out of order, not a duplicate. */
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 10, 19, &d), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* Same range start but different end is no duplicate. */
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 60, 65, &d), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* Next in sequence, and a gap. */
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 70, 71, &d), SM_ERR_NONE);
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 71, 71, &d), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* Epochs: older is fenced, newer must start at 0. */
    ck_assert_int_eq(sm_pstate_check(ps, 7, -1, 70, 70, &d), SM_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(sm_pstate_check(ps, 7, 1, 5, 5, &d), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(sm_pstate_check(ps, 7, 1, 0, 3, &d), SM_ERR_NONE);
    sm_pbatch_t b = pb(0, 4, 200);
    sm_pstate_update(ps, 7, 1, &b);
    e = sm_pstate_get(ps, 7);
    ck_assert_int_eq(e->epoch, 1);
    ck_assert_int_eq(e->nbatches, 1);
    ck_assert_int_eq(sm_pstate_check(ps, 7, 0, 70, 70, &d), SM_ERR_INVALID_PRODUCER_EPOCH);
    /* Older epoch updates (replay of stale data) are ignored. */
    sm_pstate_update(ps, 7, 0, &b);
    ck_assert_int_eq(sm_pstate_get(ps, 7)->epoch, 1);
    /* Other producers are independent. */
    ck_assert_int_eq(sm_pstate_check(ps, 8, 0, 3, 3, &d), SM_ERR_NONE);
    sm_pstate_free(ps);
}
END_TEST

START_TEST(test_wrap_in_state)
{
    sm_pstate_t *ps = sm_pstate_new();
    sm_pbatch_t d, b = pb(INT32_MAX - 4, 5, 0);   /* seq MAX-4 .. MAX */
    ck_assert_int_eq(b.last_seq, INT32_MAX);
    sm_pstate_update(ps, 1, 3, &b);
    ck_assert_int_eq(sm_pstate_check(ps, 1, 3, 0, 9, &d), SM_ERR_NONE);
    sm_pbatch_t c = pb(INT32_MAX - 1, 4, 5);      /* MAX-1 .. 1, wraps inside */
    ck_assert_int_eq(c.last_seq, 1);
    sm_pstate_t *ps2 = sm_pstate_new();
    sm_pstate_update(ps2, 1, 3, &c);
    ck_assert_int_eq(sm_pstate_check(ps2, 1, 3, INT32_MAX - 1, 1, &d), SM_ERR_DUPLICATE_SEQUENCE_NUMBER);
    ck_assert_int_eq(sm_pbatch_first_offset(&d), 5);
    ck_assert_int_eq(sm_pstate_check(ps2, 1, 3, 2, 2, &d), SM_ERR_NONE);
    sm_pstate_free(ps);
    sm_pstate_free(ps2);
}
END_TEST

START_TEST(test_map_expire)
{
    sm_pstate_t *ps = sm_pstate_new();
    for (int64_t pid = 0; pid < 5000; pid++) {
        sm_pbatch_t b = { 0, pid, 0, pid % 2 ? 100 : 5000 };
        sm_pstate_update(ps, pid * 1000003, 0, &b);
    }
    ck_assert_uint_eq(sm_pstate_count(ps), 5000);
    ck_assert_int_eq(sm_pstate_expire(ps, 6000, 2000), 2500);
    ck_assert_uint_eq(sm_pstate_count(ps), 2500);
    for (int64_t pid = 0; pid < 5000; pid++) {
        const sm_pentry_t *e = sm_pstate_get(ps, pid * 1000003);
        if (pid % 2) {
            ck_assert_ptr_null(e);
        } else {
            ck_assert_ptr_nonnull(e);
            ck_assert_int_eq(e->batches[0].last_offset, pid);
        }
    }
    sm_pstate_clear(ps);
    ck_assert_uint_eq(sm_pstate_count(ps), 0);
    ck_assert_ptr_null(sm_pstate_get(ps, 0));
    sm_pstate_free(ps);
}
END_TEST

/* ---- snapshot codec ---- */

static sm_pstate_t *
sample_state(void)
{
    sm_pstate_t *ps = sm_pstate_new();
    for (int i = 0; i < 3; i++) {
        sm_pbatch_t b = pb(i * 4, 4, 10 + i * 4);
        sm_pstate_update(ps, 42, 2, &b);
    }
    sm_pbatch_t b = pb(0, 1, 30);
    sm_pstate_update(ps, 5, 0, &b);
    return ps;
}

START_TEST(test_snap_layout)
{
    sm_pstate_t *ps = sample_state();
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_pstate_snap_encode(ps, &w);
    /* 4 entries: pid 5 (one batch) then pid 42 (three, oldest first). */
    ck_assert_uint_eq(w.len, SM_PSNAP_HEADER_SIZE + 4 * SM_PSNAP_ENTRY_SIZE);
    ck_assert_int_eq(sm_be16(w.data), 1);
    ck_assert_uint_eq(sm_be32(w.data + 2), sm_crc32c(0, w.data + 6, w.len - 6));
    ck_assert_int_eq((int32_t)sm_be32(w.data + 6), 4);
    const uint8_t *e0 = w.data + 10, *e3 = w.data + 10 + 3 * SM_PSNAP_ENTRY_SIZE;
    ck_assert_int_eq((int64_t)sm_be64(e0), 5);
    ck_assert_int_eq((int64_t)sm_be64(e3), 42);
    ck_assert_int_eq((int16_t)sm_be16(e3 + 8), 2);              /* epoch */
    ck_assert_int_eq((int32_t)sm_be32(e3 + 10), 11);            /* lastSequence */
    ck_assert_int_eq((int64_t)sm_be64(e3 + 14), 21);            /* lastOffset */
    ck_assert_int_eq((int32_t)sm_be32(e3 + 22), 3);             /* offsetDelta */
    ck_assert_int_eq((int64_t)sm_be64(e3 + 26), 1018);          /* timestamp */
    ck_assert_int_eq((int32_t)sm_be32(e3 + 34), -1);            /* coordinatorEpoch */
    ck_assert_int_eq((int64_t)sm_be64(e3 + 38), -1);            /* currentTxnFirstOffset */

    sm_pstate_t *back = sm_pstate_new();
    ck_assert_int_eq(sm_pstate_snap_decode(w.data, w.len, back), 0);
    ck_assert_uint_eq(sm_pstate_count(back), 2);
    const sm_pentry_t *e = sm_pstate_get(back, 42);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->epoch, 2);
    ck_assert_int_eq(e->nbatches, 3);
    ck_assert_int_eq(sm_pbatch_first_seq(&e->batches[0]), 0);
    ck_assert_int_eq(sm_pbatch_first_offset(&e->batches[2]), 18);
    sm_pbatch_t d;
    ck_assert_int_eq(sm_pstate_check(back, 42, 2, 4, 7, &d), SM_ERR_DUPLICATE_SEQUENCE_NUMBER);
    ck_assert_int_eq(sm_pbatch_first_offset(&d), 14);
    ck_assert_int_eq(sm_pstate_check(back, 42, 2, 12, 12, &d), SM_ERR_NONE);

    /* Every truncation fails and leaves the state untouched. */
    for (size_t n = 0; n < w.len; n++) {
        sm_pstate_t *t = sm_pstate_new();
        ck_assert_int_eq(sm_pstate_snap_decode(w.data, n, t), -1);
        ck_assert_uint_eq(sm_pstate_count(t), 0);
        sm_pstate_free(t);
    }
    /* Any flipped bit after the version is caught (CRC, count or length). */
    for (size_t i = 2; i < w.len; i++) {
        w.data[i] ^= 0x10;
        sm_pstate_t *t = sm_pstate_new();
        ck_assert_int_eq(sm_pstate_snap_decode(w.data, w.len, t), -1);
        ck_assert_uint_eq(sm_pstate_count(t), 0);
        sm_pstate_free(t);
        w.data[i] ^= 0x10;
    }
    /* Wrong version. */
    w.data[1] = 2;
    ck_assert_int_eq(sm_pstate_snap_decode(w.data, w.len, back), -1);
    sm_wbuf_free(&w);
    sm_pstate_free(back);
    sm_pstate_free(ps);
}
END_TEST

/* A Kafka-written snapshot: one entry per producer, and an entry with no
 * batch (lastOffset -1) that keeps only the epoch. */
START_TEST(test_snap_kafka_style)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_write_i16(&w, 1);
    sm_write_u32(&w, 0);
    sm_write_i32(&w, 2);
    int64_t pids[2] = { 1000, 1001 };
    int64_t lastoff[2] = { 99, -1 };
    for (int i = 0; i < 2; i++) {
        sm_write_i64(&w, pids[i]);
        sm_write_i16(&w, 4);
        sm_write_i32(&w, lastoff[i] < 0 ? -1 : 49);
        sm_write_i64(&w, lastoff[i]);
        sm_write_i32(&w, lastoff[i] < 0 ? 0 : 9);
        sm_write_i64(&w, 123);
        sm_write_i32(&w, -1);
        sm_write_i64(&w, -1);
    }
    sm_put_be32(w.data + 2, sm_crc32c(0, w.data + 6, w.len - 6));
    sm_pstate_t *ps = sm_pstate_new();
    ck_assert_int_eq(sm_pstate_snap_decode(w.data, w.len, ps), 0);
    sm_pbatch_t d;
    ck_assert_int_eq(sm_pstate_check(ps, 1000, 4, 40, 49, &d), SM_ERR_DUPLICATE_SEQUENCE_NUMBER);
    ck_assert_int_eq(sm_pbatch_first_offset(&d), 90);
    ck_assert_int_eq(sm_pstate_check(ps, 1000, 4, 50, 50, &d), SM_ERR_NONE);
    const sm_pentry_t *e = sm_pstate_get(ps, 1001);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->epoch, 4);
    ck_assert_int_eq(e->nbatches, 0);
    ck_assert_int_eq(sm_pstate_check(ps, 1001, 4, 0, 0, &d), SM_ERR_NONE);
    ck_assert_int_eq(sm_pstate_check(ps, 1001, 4, 3, 3, &d), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(sm_pstate_check(ps, 1001, 3, 0, 0, &d), SM_ERR_INVALID_PRODUCER_EPOCH);
    sm_pstate_free(ps);
    sm_wbuf_free(&w);
}
END_TEST

/* ---- partition log hooks ---- */

/* One idempotent batch of n records: producer pid/epoch, base sequence seq. */
static void
build_idem(sm_wbuf_t *w, int n, int64_t pid, int16_t epoch, int32_t seq)
{
    sm_record_spec_t r[16];
    static const uint8_t val[8] = "payload";
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].timestamp = 1000 + i;
        r[i].key = SM_BYTES_NULL;
        r[i].value = (sm_bytes_t){ 7, val };
    }
    sm_wbuf_reset(w);
    ck_assert_int_eq(sm_batch_build(w, 0, SM_CODEC_NONE, r, n), SM_ERR_NONE);
    sm_put_be64(w->data + 43, (uint64_t)pid);
    sm_put_be16(w->data + 51, (uint16_t)epoch);
    sm_put_be32(w->data + 53, (uint32_t)seq);
    sm_put_be32(w->data + SM_BATCH_CRC_OFFSET, sm_crc32c(0, w->data + SM_BATCH_ATTR_OFFSET, w->len - SM_BATCH_ATTR_OFFSET));
}

static sm_err_t
append_idem(sm_plog_t *l, int leader, int n, int64_t pid, int16_t epoch, int32_t seq, sm_append_info_t *info)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    build_idem(&w, n, pid, epoch, seq);
    if (!leader) sm_batch_set_base_offset(w.data, sm_plog_log_end_offset(l));
    sm_err_t err = sm_plog_append(l, w.data, w.len, 0, leader, info);
    sm_wbuf_free(&w);
    return err;
}

static int
snapshot_exists(int64_t offset)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/t-0/%020lld.snapshot", sm_test_tmpdir, (long long)offset);
    return access(p, F_OK) == 0;
}

START_TEST(test_plog_dedup)
{
    sm_log_config_t c;
    sm_log_config_defaults(&c);
    sm_plog_t *l = sm_test_open_plog(&c, 1);
    sm_append_info_t info;
    ck_assert_int_eq(append_idem(l, 1, 3, 9, 0, 0, &info), SM_ERR_NONE);       /* offsets 0-2, seq 0-2 */
    ck_assert_int_eq(info.duplicate, 0);
    ck_assert_int_eq(append_idem(l, 1, 2, 9, 0, 3, &info), SM_ERR_NONE);       /* 3-4, seq 3-4 */
    ck_assert_int_eq(info.first_offset, 3);
    /* Retry of the first batch: original offsets, nothing written. */
    ck_assert_int_eq(append_idem(l, 1, 3, 9, 0, 0, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(info.first_offset, 0);
    ck_assert_int_eq(info.last_offset, 2);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 5);
    ck_assert_int_eq(append_idem(l, 1, 1, 9, 0, 7, &info), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(append_idem(l, 1, 1, 9, -1, 5, &info), SM_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(append_idem(l, 1, 1, 9, 0, -1, &info), SM_ERR_INVALID_RECORD);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 5);
    /* Non-idempotent batches are never checked. */
    ck_assert_int_eq(append_idem(l, 1, 1, -1, -1, -1, &info), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 6);

    /* Clean close writes <leo>.snapshot; the duplicate survives a reopen. */
    sm_plog_close(l);
    ck_assert(snapshot_exists(6));
    l = sm_test_open_plog(&c, 1);
    ck_assert_int_eq(append_idem(l, 1, 2, 9, 0, 3, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(info.first_offset, 3);
    ck_assert_int_eq(append_idem(l, 1, 3, 9, 0, 0, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(append_idem(l, 1, 1, 9, 0, 5, &info), SM_ERR_NONE);     /* offset 6 */
    ck_assert_int_eq(info.duplicate, 0);
    ck_assert_int_eq(info.first_offset, 6);
    sm_plog_close(l);

    /* Without any snapshot (a crash before the first one) the state comes
     * from the batch headers alone. */
    char d[PATH_MAX + 64];
    snprintf(d, sizeof(d), "%s/t-0", sm_test_tmpdir);
    ck_assert(snapshot_exists(7));
    sm_pstate_snap_delete_outside(d, INT64_MAX, INT64_MAX);
    int64_t *offs;
    ck_assert_int_eq(sm_pstate_snap_list(d, &offs), 0);
    free(offs);
    l = sm_test_open_plog(&c, 1);
    ck_assert_int_eq(append_idem(l, 1, 1, 9, 0, 5, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(info.first_offset, 6);
    ck_assert_int_eq(append_idem(l, 1, 1, 9, 0, 7, &info), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    sm_plog_close(l);
}
END_TEST

START_TEST(test_plog_roll_truncate_follower)
{
    sm_log_config_t c;
    sm_log_config_defaults(&c);
    c.segment_bytes = 300;           /* a roll every couple of batches */
    sm_plog_t *l = sm_test_open_plog(&c, 1);
    sm_append_info_t info;
    for (int i = 0; i < 10; i++) ck_assert_int_eq(append_idem(l, 1, 2, 77, 1, i * 2, &info), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 20);
    ck_assert_int_gt(sm_plog_segment_count(l), 2);
    /* Roll snapshots exist, at most 3 kept. */
    int64_t *offs;
    int n = sm_pstate_snap_list(sm_plog_dir(l), &offs);
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, 3);
    free(offs);
    /* Follower-style truncation to offset 10: batches seq 0..9 remain. */
    ck_assert_int_eq(sm_plog_truncate_to(l, 10), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 10);
    n = sm_pstate_snap_list(sm_plog_dir(l), &offs);
    for (int i = 0; i < n; i++) ck_assert_int_le(offs[i], 10);
    free(offs);
    ck_assert_int_eq(append_idem(l, 1, 2, 77, 1, 12, &info), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    ck_assert_int_eq(append_idem(l, 1, 2, 77, 1, 8, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(info.first_offset, 8);
    ck_assert_int_eq(append_idem(l, 1, 2, 77, 1, 10, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 0);
    ck_assert_int_eq(info.first_offset, 10);
    /* Follower appends are not checked but do update the state. */
    ck_assert_int_eq(append_idem(l, 0, 1, 78, 0, 40, &info), SM_ERR_NONE);
    ck_assert_int_eq(append_idem(l, 1, 1, 78, 0, 40, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(info.first_offset, 12);
    sm_plog_close(l);
    /* Rebuilt after reopen from the roll/close snapshot + log. */
    l = sm_test_open_plog(&c, 1);
    ck_assert_int_eq(append_idem(l, 1, 1, 78, 0, 41, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 0);
    ck_assert_int_eq(append_idem(l, 1, 2, 77, 1, 10, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    sm_plog_close(l);
}
END_TEST

/* Corrupt newest snapshot: deleted, the next older one (or the log) used. */
START_TEST(test_plog_corrupt_snapshot)
{
    sm_log_config_t c;
    sm_log_config_defaults(&c);
    sm_plog_t *l = sm_test_open_plog(&c, 1);
    sm_append_info_t info;
    for (int i = 0; i < 3; i++) ck_assert_int_eq(append_idem(l, 1, 1, 5, 0, i, &info), SM_ERR_NONE);
    sm_plog_close(l);
    ck_assert(snapshot_exists(3));
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/t-0/%020lld.snapshot", sm_test_tmpdir, 3LL);
    FILE *f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 12, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    l = sm_test_open_plog(&c, 1);
    ck_assert(!snapshot_exists(3));
    ck_assert_int_eq(append_idem(l, 1, 1, 5, 0, 2, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.duplicate, 1);
    ck_assert_int_eq(info.first_offset, 2);
    ck_assert_int_eq(append_idem(l, 1, 1, 5, 0, 4, &info), SM_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    sm_plog_close(l);
}
END_TEST

static Suite *
idem_suite(void)
{
    Suite *s = suite_create("idem");
    TCase *tc = tcase_create("state");
    tcase_add_test(tc, test_seq_wrap);
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_wrap_in_state);
    tcase_add_test(tc, test_map_expire);
    tcase_add_test(tc, test_snap_layout);
    tcase_add_test(tc, test_snap_kafka_style);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("plog");
    tcase_add_checked_fixture(tl, sm_test_tmpdir_setup, sm_test_tmpdir_teardown);
    tcase_add_test(tl, test_plog_dedup);
    tcase_add_test(tl, test_plog_roll_truncate_follower);
    tcase_add_test(tl, test_plog_corrupt_snapshot);
    suite_add_tcase(s, tl);
    return s;
}

int
main(void)
{
    return sm_test_run(idem_suite());
}

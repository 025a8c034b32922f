/*
 * check_repl.c - unit tests for the replica manager's replication logic
 * with a fake clock and a fake ISR writer: leader high watermark from
 * follower fetches, Kafka's lastCaughtUpTimeMs rule, ISR shrink and
 * expand (including BADVERSION fencing), acks=all statuses
 * (NOT_ENOUGH_REPLICAS before append, ..._AFTER_APPEND, leadership loss),
 * and follower appends producing byte-identical logs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_util.h"
#include "log/sm_logmgr.h"
#include "proto/sm_records.h"
#include "repl/sm_replica.h"
#include "sm_test.h"

#define LAG 10000

static int64_t fake_now;
static int64_t clock_fn(void) { return fake_now; }

static int32_t min_isr_cfg = 1;
static void
topic_cfg(void *arg, const char *topic, sm_log_config_t *out, int32_t *min_isr)
{
    sm_log_config_defaults(out);
    if (min_isr) *min_isr = min_isr_cfg;
}

static int wakes;
static void on_data(void *arg) { wakes++; }

/* The fake ISR writer records the last write. */
static int nwrites;
static int32_t w_isr[8], w_nisr, w_version, w_epoch;
static void
isr_writer(void *arg, const sm_isr_write_t *w)
{
    nwrites++;
    w_nisr = w->nisr;
    memcpy(w_isr, w->isr, sizeof(int32_t) * (size_t)w->nisr);
    w_version = w->zk_version;
    w_epoch = w->leader_epoch;
    ck_assert_str_eq(w->topic, "t");
    ck_assert_int_eq(w->leader, 1);
}

typedef struct {
    char dir[64];
    char *dirs[1];
    sm_logmgr_t *logs;
    sm_replica_mgr_t *rm;
} node_t;

static void
node_open(node_t *n, int32_t id)
{
    sm_test_mkdtemp(n->dir, sizeof(n->dir), "samsa-check-repl-");
    n->dirs[0] = n->dir;
    sm_logmgr_config_t m;
    memset(&m, 0, sizeof(m));
    m.dirs = n->dirs;
    m.ndirs = 1;
    m.broker_id = id;
    m.cluster_id = "abcdefghijklmnopqrstuv";
    m.recovery_threads = 1;
    m.retention_check_interval_ms = 300000;
    m.flush_scheduler_interval_ms = 1000;
    m.checkpoint_interval_ms = 60000;
    sm_log_config_defaults(&m.defaults);
    char err[256];
    n->logs = sm_logmgr_open(&m, err, sizeof(err));
    ck_assert_msg(n->logs != NULL, "%s", err);
    n->rm = sm_replica_mgr_new(id, n->logs, topic_cfg, on_data, NULL);
    sm_replica_mgr_set_clock(n->rm, clock_fn);
    sm_replica_mgr_set_lag_time(n->rm, LAG);
}

static void
node_close(node_t *n)
{
    sm_replica_mgr_free(n->rm);
    sm_logmgr_shutdown(n->logs);
    sm_rmtree(n->dir);
}

static void
become(node_t *n, int32_t leader, int32_t epoch, const int32_t *isr, int32_t nisr, int32_t zkv)
{
    static const int32_t replicas[] = { 1, 2, 3 };
    sm_replica_state_t st = { "t", 0, 1, leader, epoch, nisr, isr, 3, replicas, zkv, 0 };
    sm_err_t err;
    sm_replica_leader_and_isr(n->rm, 1, &st, 1, &err);
    ck_assert_int_eq(err, SM_ERR_NONE);
}

/* Append one batch of `count` records as leader. */
static sm_err_t
produce(node_t *n, sm_partition_t *p, int count, int acks, sm_produce_result_t *res)
{
    sm_record_spec_t recs[8];
    char vals[8][16];
    memset(recs, 0, sizeof(recs));
    for (int i = 0; i < count; i++) {
        snprintf(vals[i], sizeof(vals[i]), "v%d", i);
        recs[i].timestamp = 1000 + i;
        recs[i].key = SM_BYTES_NULL;
        recs[i].value = SM_BYTES_STR(vals[i]);
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    ck_assert_int_eq(sm_batch_build(&w, 0, SM_CODEC_NONE, recs, count), SM_ERR_NONE);
    sm_err_t err = sm_replica_append(n->rm, p, w.data, w.len, acks, res);
    sm_wbuf_free(&w);
    return err;
}

static int64_t hw(sm_partition_t *p) { return sm_plog_high_watermark(p->log); }

static void
reset_globals(void)
{
    fake_now = 1000000;
    min_isr_cfg = 1;
    wakes = nwrites = 0;
}

START_TEST(t_hw_from_followers)
{
    static const int32_t isr[] = { 1, 2, 3 };
    node_t n;
    reset_globals();
    node_open(&n, 1);
    become(&n, 1, 0, isr, 3, 0);
    sm_partition_t *p = sm_replica_get(n.rm, "t", 1, 0);
    ck_assert_ptr_nonnull(p);
    sm_produce_result_t res;
    ck_assert_int_eq(produce(&n, p, 2, 1, &res), SM_ERR_NONE);
    ck_assert_int_eq(res.base_offset, 0);
    ck_assert_int_eq(res.last_offset, 1);
    ck_assert_int_eq(res.leader_epoch, 0);
    ck_assert_int_eq(produce(&n, p, 3, 1, &res), SM_ERR_NONE);
    ck_assert_int_eq(res.last_offset, 4);
    /* Followers have not fetched: the HW stays. */
    ck_assert_int_eq(hw(p), 0);
    int done;
    ck_assert_int_eq(sm_replica_produce_status(p, 0, 5, &done), SM_ERR_NONE);
    ck_assert_int_eq(done, 0);
    sm_replica_update_follower(n.rm, p, 2, 5);
    ck_assert_int_eq(hw(p), 0);              /* 3 still unknown */
    sm_replica_update_follower(n.rm, p, 3, 2);
    ck_assert_int_eq(hw(p), 2);
    ck_assert_int_eq(sm_replica_produce_status(p, 0, 2, &done), SM_ERR_NONE);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(sm_replica_produce_status(p, 0, 5, &done), SM_ERR_NONE);
    ck_assert_int_eq(done, 0);
    sm_replica_update_follower(n.rm, p, 3, 5);
    ck_assert_int_eq(hw(p), 5);
    /* Never backwards; unknown replicas and offsets past the LEO ignored. */
    sm_replica_update_follower(n.rm, p, 3, 1);
    ck_assert_int_eq(hw(p), 5);
    sm_replica_update_follower(n.rm, p, 9, 0);
    sm_replica_update_follower(n.rm, p, 2, 99);
    ck_assert_int_eq(hw(p), 5);
    ck_assert_int_eq(sm_replica_produce_status(p, 0, 5, &done), SM_ERR_NONE);
    ck_assert_int_eq(done, 1);
    /* A wrong epoch means the append may be gone: never acknowledged. */
    ck_assert_int_eq(sm_replica_produce_status(p, 1, 5, &done), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    ck_assert_int_eq(done, 1);
    ck_assert_int_gt(wakes, 0);
    ck_assert_int_eq(nwrites, 0);
    sm_partition_unref(p);
    node_close(&n);
}
END_TEST

START_TEST(t_isr_shrink_expand)
{
    static const int32_t isr[] = { 1, 2, 3 };
    node_t n;
    reset_globals();
    node_open(&n, 1);
    sm_replica_mgr_set_isr_writer(n.rm, isr_writer, NULL);
    become(&n, 1, 4, isr, 3, 7);
    sm_partition_t *p = sm_replica_get(n.rm, "t", 1, 0);
    sm_produce_result_t res;
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NONE);
    /* Both followers fetch to the end; then only 2 keeps up. */
    sm_replica_update_follower(n.rm, p, 2, 1);
    sm_replica_update_follower(n.rm, p, 3, 1);
    ck_assert_int_eq(hw(p), 1);
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NONE);
    fake_now += LAG / 2;
    sm_replica_update_follower(n.rm, p, 2, 2);
    sm_replica_tick(n.rm);
    ck_assert_int_eq(nwrites, 0);            /* 3 lags less than LAG */
    fake_now += LAG / 2 + 1;
    sm_replica_update_follower(n.rm, p, 2, 2);
    sm_replica_tick(n.rm);
    ck_assert_int_eq(nwrites, 1);
    ck_assert_int_eq(w_nisr, 2);
    ck_assert_int_eq(w_isr[0], 1);
    ck_assert_int_eq(w_isr[1], 2);
    ck_assert_int_eq(w_version, 7);
    ck_assert_int_eq(w_epoch, 4);
    /* Until the write lands, 3 still holds the HW back. */
    ck_assert_int_eq(p->nisr, 3);
    ck_assert_int_eq(hw(p), 1);
    sm_replica_isr_written(n.rm, "t", 0, 4, 0, 8);
    ck_assert_int_eq(p->nisr, 2);
    ck_assert_int_eq(p->zk_version, 8);
    ck_assert_int_eq(hw(p), 2);
    /* 3 comes back below the HW: not yet; at the HW: expand. */
    sm_replica_update_follower(n.rm, p, 3, 1);
    ck_assert_int_eq(nwrites, 1);
    sm_replica_update_follower(n.rm, p, 3, 2);
    ck_assert_int_eq(nwrites, 2);
    ck_assert_int_eq(w_nisr, 3);
    ck_assert_int_eq(w_isr[2], 3);
    ck_assert_int_eq(w_version, 8);
    /* While the expansion is in flight, 3 already counts for the HW. */
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NONE);
    sm_replica_update_follower(n.rm, p, 2, 3);
    ck_assert_int_eq(hw(p), 2);
    /* A stale write result (other epoch) is ignored. */
    sm_replica_isr_written(n.rm, "t", 0, 3, 0, 99);
    ck_assert_int_eq(p->nisr, 2);
    sm_replica_isr_written(n.rm, "t", 0, 4, 0, 9);
    ck_assert_int_eq(p->nisr, 3);
    ck_assert_int_eq(p->zk_version, 9);
    sm_partition_unref(p);
    node_close(&n);
}
END_TEST

START_TEST(t_caught_up_rule)
{
    static const int32_t isr[] = { 1, 2 };
    node_t n;
    reset_globals();
    node_open(&n, 1);
    sm_replica_mgr_set_isr_writer(n.rm, isr_writer, NULL);
    int64_t tb = fake_now;
    become(&n, 1, 0, isr, 2, 0);
    sm_partition_t *p = sm_replica_get(n.rm, "t", 1, 0);
    sm_produce_result_t res;
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NONE);
    /* At t0 follower 2 fetches at 0 (our LEO is 1): not at the end, but at
     * the LEO of its previous "fetch" (the epoch start), so caught up as
     * of then (tb). */
    int64_t t0 = tb + 5000;
    fake_now = t0;
    sm_replica_update_follower(n.rm, p, 2, 0);
    ck_assert_int_eq(p->followers[0].last_caught_up_ms, tb);
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NONE);
    /* Later it fetches at 1 = the LEO we had at t0, while we are at 2:
     * caught up as of t0. */
    fake_now = t0 + LAG - 1;
    sm_replica_update_follower(n.rm, p, 2, 1);
    ck_assert_int_eq(p->followers[0].last_caught_up_ms, t0);
    ck_assert_int_eq(p->followers[0].leo, 1);
    fake_now = t0 + LAG;
    sm_replica_tick(n.rm);
    ck_assert_int_eq(nwrites, 0);            /* exactly LAG behind: still in sync */
    fake_now = t0 + LAG + LAG / 2;
    sm_replica_tick(n.rm);
    ck_assert_int_eq(nwrites, 1);
    ck_assert_int_eq(w_nisr, 1);
    ck_assert_int_eq(w_isr[0], 1);
    /* At our LEO it is caught up now, whatever happened before. */
    sm_replica_update_follower(n.rm, p, 2, 2);
    ck_assert_int_eq(p->followers[0].last_caught_up_ms, fake_now);
    sm_partition_unref(p);
    node_close(&n);
}
END_TEST

START_TEST(t_acks_all_errors)
{
    static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 };
    node_t n;
    reset_globals();
    min_isr_cfg = 2;
    node_open(&n, 1);
    sm_replica_mgr_set_isr_writer(n.rm, isr_writer, NULL);
    become(&n, 1, 0, isr1, 1, 0);
    sm_partition_t *p = sm_replica_get(n.rm, "t", 1, 0);
    sm_produce_result_t res;
    /* ISR below min.insync.replicas: acks=all rejected before the append. */
    ck_assert_int_eq(produce(&n, p, 1, -1, &res), SM_ERR_NOT_ENOUGH_REPLICAS);
    ck_assert_int_eq(sm_plog_log_end_offset(p->log), 0);
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(p->log), 1);
    sm_partition_unref(p);

    /* New epoch with ISR {1,2}: acks=all appends and waits. */
    become(&n, 1, 1, isr12, 2, 1);
    p = sm_replica_get(n.rm, "t", 1, 0);
    ck_assert_int_eq(produce(&n, p, 2, -1, &res), SM_ERR_NONE);
    ck_assert_int_eq(res.last_offset, 2);
    int done;
    sm_replica_produce_status(p, res.leader_epoch, 3, &done);
    ck_assert_int_eq(done, 0);
    /* The follower dies; the ISR shrinks to {1}: HW reaches the offset but
     * the ISR is too small. */
    fake_now += LAG + 1;
    sm_replica_tick(n.rm);
    ck_assert_int_eq(nwrites, 1);
    sm_replica_isr_written(n.rm, "t", 0, 1, 0, 2);
    ck_assert_int_eq(hw(p), 3);
    ck_assert_int_eq(sm_replica_produce_status(p, 1, 3, &done), SM_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    ck_assert_int_eq(done, 1);
    sm_partition_unref(p);
    node_close(&n);
}
END_TEST

START_TEST(t_fenced_and_demoted)
{
    static const int32_t isr[] = { 1, 2 };
    node_t n;
    reset_globals();
    node_open(&n, 1);
    sm_replica_mgr_set_isr_writer(n.rm, isr_writer, NULL);
    become(&n, 1, 0, isr, 2, 0);
    sm_partition_t *p = sm_replica_get(n.rm, "t", 1, 0);
    sm_produce_result_t res;
    ck_assert_int_eq(produce(&n, p, 1, -1, &res), SM_ERR_NONE);
    int done;
    /* BADVERSION on a shrink: a stale leader never acknowledges. */
    fake_now += LAG + 1;
    sm_replica_tick(n.rm);
    ck_assert_int_eq(nwrites, 1);
    sm_replica_isr_written(n.rm, "t", 0, 0, 1, -1);
    ck_assert_int_eq(p->fenced, 1);
    ck_assert_int_eq(sm_replica_produce_status(p, 0, 1, &done), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(produce(&n, p, 1, 1, &res), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    ck_assert_int_eq(sm_replica_check_leader(p, NULL), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    /* A newer LeaderAndIsr makes it a follower of 2. */
    become(&n, 2, 1, isr, 2, 3);
    ck_assert_int_eq(p->is_leader, 0);
    ck_assert_int_eq(p->fenced, 0);
    ck_assert_int_eq(sm_replica_produce_status(p, 0, 1, &done), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    /* An older one is refused. */
    static const int32_t replicas[] = { 1, 2, 3 };
    sm_replica_state_t st = { "t", 0, 1, 1, 0, 2, isr, 3, replicas, 0, 0 };
    sm_err_t err;
    sm_replica_leader_and_isr(n.rm, 1, &st, 1, &err);
    ck_assert_int_eq(err, SM_ERR_FENCED_LEADER_EPOCH);
    ck_assert_int_eq(p->is_leader, 0);
    sm_partition_unref(p);
    node_close(&n);
}
END_TEST

static char *
slurp_log(node_t *n, size_t *len)
{
    char *path = sm_asprintf("%s/t-0/00000000000000000000.log", n->dir);
    char *data = sm_read_file(path, 1 << 20, len);
    free(path);
    ck_assert_ptr_nonnull(data);
    return data;
}

START_TEST(t_follower_append_identical)
{
    static const int32_t isr[] = { 1, 2 };
    node_t a, b;
    reset_globals();
    node_open(&a, 1);
    node_open(&b, 2);
    become(&a, 1, 3, isr, 2, 0);
    become(&b, 1, 3, isr, 2, 0);
    sm_partition_t *pa = sm_replica_get(a.rm, "t", 1, 0), *pb = sm_replica_get(b.rm, "t", 1, 0);
    sm_produce_result_t res;
    for (int i = 1; i <= 4; i++) ck_assert_int_eq(produce(&a, pa, i, 1, &res), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(pa->log), 10);
    /* A follower may not take client appends. */
    ck_assert_int_eq(produce(&b, pb, 1, 1, &res), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    size_t la, lb;
    char *da = slurp_log(&a, &la);
    /* Replicate in two fetches, as the fetcher would. */
    sm_batch_hdr_t h;
    ck_assert_int_eq(sm_batch_header_decode((uint8_t *)da, la, &h), 0);
    size_t first = sm_batch_size(&h);
    ck_assert_int_eq(sm_replica_append_follower(b.rm, pb, (uint8_t *)da, first, 7, 0), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(pb->log), 1);
    ck_assert_int_eq(hw(pb), 1);             /* min(LEO, leader HW) */
    ck_assert_int_eq(sm_replica_append_follower(b.rm, pb, (uint8_t *)da + first, la - first, 7, 0), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(pb->log), 10);
    ck_assert_int_eq(hw(pb), 7);
    /* Re-appending old offsets is refused and changes nothing. */
    ck_assert_int_ne(sm_replica_append_follower(b.rm, pb, (uint8_t *)da, first, 7, 0), SM_ERR_NONE);
    char *db = slurp_log(&b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(da, db, la) == 0);
    /* Epoch history came along with the batches. */
    ck_assert_int_eq(sm_plog_latest_epoch(pb->log), 3);
    int32_t e;
    int64_t off;
    sm_plog_epoch_end_offset(pb->log, 3, &e, &off);
    ck_assert_int_eq(e, 3);
    ck_assert_int_eq(off, 10);
    /* The leader refuses appends from the follower path. */
    ck_assert_int_eq(sm_replica_append_follower(a.rm, pa, (uint8_t *)da, first, 7, 0), SM_ERR_NOT_LEADER_OR_FOLLOWER);
    free(da);
    free(db);
    sm_partition_unref(pa);
    sm_partition_unref(pb);
    node_close(&a);
    node_close(&b);
}
END_TEST

static Suite *
repl_suite(void)
{
    Suite *s = suite_create("repl");
    TCase *tc = tcase_create("replica");
    tcase_add_test(tc, t_hw_from_followers);
    tcase_add_test(tc, t_isr_shrink_expand);
    tcase_add_test(tc, t_caught_up_rule);
    tcase_add_test(tc, t_acks_all_errors);
    tcase_add_test(tc, t_fenced_and_demoted);
    tcase_add_test(tc, t_follower_append_identical);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(repl_suite());
}

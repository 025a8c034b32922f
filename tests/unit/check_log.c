/*
 * check_log.c - unit tests of src/log: segments and indexes, append/read,
 * rolls, timestamps, retention, truncation, recovery from damaged files,
 * checkpoint files, leader epoch cache, config keys and the log manager.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sm_buf.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_ckpt.h"
#include "log/sm_logmgr.h"
#include "log/sm_plog.h"
#include "proto/sm_records.h"
#include "sm_test.h"

static char errbuf[512];

static sm_log_config_t
small_cfg(void)
{
    sm_log_config_t c;
    sm_log_config_defaults(&c);
    c.index_interval_bytes = 200;
    c.segment_index_bytes = 4096;
    return c;
}

/* One batch of n records, timestamps ts, ts+1, ..., values of vlen bytes. */
static void
build(sm_wbuf_t *w, int n, int64_t ts, int vlen)
{
    sm_record_spec_t r[16];
    static uint8_t val[4096];
    memset(val, 'v', sizeof(val));
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].timestamp = ts + i;
        r[i].key = SM_BYTES_NULL;
        r[i].value = (sm_bytes_t){ vlen, val };
    }
    ck_assert_int_eq(sm_batch_build(w, 0, SM_CODEC_NONE, r, n), SM_ERR_NONE);
}

/* Append nb batches of n records each; returns the size of one batch. */
static size_t
append_batches(sm_plog_t *l, int nb, int n, int64_t ts, int vlen, int32_t epoch)
{
    sm_wbuf_t w;
    size_t sz = 0;
    sm_wbuf_init(&w, 256);
    for (int i = 0; i < nb; i++) {
        sm_wbuf_reset(&w);
        build(&w, n, ts + (int64_t)i * n, vlen);
        sz = w.len;
        sm_append_info_t info;
        int64_t leo = sm_plog_log_end_offset(l);
        ck_assert_int_eq(sm_plog_append(l, w.data, w.len, epoch, 1, &info), SM_ERR_NONE);
        ck_assert_int_eq(info.first_offset, leo);
        ck_assert_int_eq(info.last_offset, leo + n - 1);
    }
    sm_wbuf_free(&w);
    return sz;
}

static char *
seg_path(int64_t base, const char *sfx)
{
    return sm_asprintf("%s/t-0/%020lld%s", sm_test_tmpdir, (long long)base, sfx);
}

static int64_t
file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

/* The batch header at the start of a region: its base offset. */
static int64_t
region_first_offset(const sm_log_region_t *r)
{
    uint8_t b[SM_BATCH_HEADER_SIZE];
    sm_batch_hdr_t h;
    ck_assert_int_eq(pread(r->file->fd, b, sizeof(b), r->pos), (ssize_t)sizeof(b));
    ck_assert_int_eq(sm_batch_header_decode(b, sizeof(b), &h), 0);
    return h.base_offset;
}

/* ---- append, reopen, lookup ---- */

START_TEST(t_append_reopen_lookup)
{
    sm_log_config_t c = small_cfg();
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 0);
    size_t bs = append_batches(l, 10, 3, 1000, 50, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 30);
    ck_assert_int_eq(sm_plog_size_bytes(l), (int64_t)bs * 10);
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t off = 0; off < 30; off++) {
            sm_log_region_t r;
            ck_assert_int_eq(sm_plog_read(l, off, 30, 1 << 20, 1, &r), SM_ERR_NONE);
            ck_assert_ptr_nonnull(r.file);
            ck_assert_int_eq(r.pos, (off / 3) * (int64_t)bs);
            ck_assert_int_eq(r.len, (int64_t)bs * 10 - r.pos);
            ck_assert_int_eq(region_first_offset(&r), off / 3 * 3);
            sm_file_unref(r.file);
        }
        sm_plog_close(l);
        /* Trimmed sparse index: one entry per > 200 bytes, after the first. */
        char *ip = seg_path(0, ".index");
        int64_t isz = file_size(ip);
        ck_assert_int_gt(isz, 0);
        ck_assert_int_eq(isz % 8, 0);
        int fd = open(ip, O_RDONLY);
        uint8_t ent[8 * 64];
        ck_assert_int_eq(read(fd, ent, sizeof(ent)), isz);
        close(fd);
        int64_t prev = 0;
        for (int i = 0; i < isz / 8; i++) {
            int32_t rel = (int32_t)sm_be32(ent + i * 8), pos = (int32_t)sm_be32(ent + i * 8 + 4);
            ck_assert_int_gt(pos - prev, 200);
            ck_assert_int_eq(pos % (int64_t)bs, 0);
            ck_assert_int_eq(rel, pos / (int64_t)bs * 3 + 2);   /* last offset of the batch at pos */
            prev = pos;
        }
        char *tp = seg_path(0, ".timeindex");
        ck_assert_int_eq(file_size(tp) % 12, 0);
        free(tp);
        free(ip);
        l = sm_test_open_plog(&c, 0);
        ck_assert_int_eq(sm_plog_log_end_offset(l), 30);
    }
    /* offsets continue after reopen */
    append_batches(l, 1, 2, 5000, 10, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 32);
    sm_plog_close(l);
}
END_TEST

START_TEST(t_follower_append)
{
    sm_log_config_t c = small_cfg();
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    build(&w, 2, 100, 10);
    sm_batch_set_base_offset(w.data, 5);
    sm_batch_set_leader_epoch(w.data, 3);
    sm_append_info_t info;
    ck_assert_int_eq(sm_plog_append(l, w.data, w.len, 0, 0, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.first_offset, 5);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 7);
    ck_assert_int_eq(sm_plog_latest_epoch(l), 3);
    /* going backwards is refused and leaves the log unchanged */
    sm_batch_set_base_offset(w.data, 6);
    ck_assert_int_eq(sm_plog_append(l, w.data, w.len, 0, 0, &info), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 7);
    /* truncated framing */
    ck_assert_int_eq(sm_plog_append(l, w.data, w.len - 1, 0, 1, &info), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(sm_plog_append(l, w.data, 30, 0, 1, &info), SM_ERR_CORRUPT_MESSAGE);
    ck_assert_int_eq(sm_plog_size_bytes(l), (int64_t)w.len);
    sm_wbuf_free(&w);
    sm_plog_close(l);
}
END_TEST

/* ---- rolls ---- */

START_TEST(t_roll_size)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 1000;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 12, 2, 1000, 100, 0);
    int per = (int)(1000 / bs);          /* batches that fit a segment */
    ck_assert_int_gt(per, 0);
    ck_assert_int_eq(sm_plog_segment_count(l), (12 + per - 1) / per);
    for (int s = 0; s < sm_plog_segment_count(l); s++) {
        char *p = seg_path((int64_t)s * per * 2, ".log");
        ck_assert_int_le(file_size(p), 1000);
        ck_assert_int_gt(file_size(p), 0);
        free(p);
    }
    /* reads cross segments: the region stays inside one segment */
    sm_log_region_t r;
    ck_assert_int_eq(sm_plog_read(l, 0, 24, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.pos, 0);
    ck_assert_int_eq(r.len, (int64_t)bs * per);
    sm_file_unref(r.file);
    ck_assert_int_eq(sm_plog_read(l, per * 2 + 1, 24, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.pos, 0);
    ck_assert_int_eq(region_first_offset(&r), per * 2);
    sm_file_unref(r.file);
    sm_plog_close(l);
    l = sm_test_open_plog(&c, 1);   /* full recovery keeps everything */
    ck_assert_int_eq(sm_plog_log_end_offset(l), 24);
    ck_assert_int_eq(sm_plog_segment_count(l), (12 + per - 1) / per);
    sm_plog_close(l);
}
END_TEST

START_TEST(t_roll_time)
{
    sm_log_config_t c = small_cfg();
    c.segment_ms = 1000;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 1, 1, 10000, 10, 0);
    append_batches(l, 1, 1, 10500, 10, 0);
    ck_assert_int_eq(sm_plog_segment_count(l), 1);
    append_batches(l, 1, 1, 11001, 10, 0);   /* 1001 ms after the first batch */
    ck_assert_int_eq(sm_plog_segment_count(l), 2);
    char *p = seg_path(2, ".log");
    ck_assert_int_gt(file_size(p), 0);
    free(p);
    /* periodic roll by wall clock */
    sm_plog_maybe_roll(l, sm_now_ms());
    ck_assert_int_eq(sm_plog_segment_count(l), 2);
    sm_plog_maybe_roll(l, sm_now_ms() + 5000);
    ck_assert_int_eq(sm_plog_segment_count(l), 3);
    sm_plog_maybe_roll(l, sm_now_ms() + 10000);   /* empty active: no roll */
    ck_assert_int_eq(sm_plog_segment_count(l), 3);
    sm_plog_close(l);
}
END_TEST

START_TEST(t_roll_index_full)
{
    sm_log_config_t c = small_cfg();
    c.index_interval_bytes = 0;
    c.segment_index_bytes = 24;         /* 3 offset entries, 2 time entries */
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 3, 1, 1000, 10, 0);   /* entries for batches 2, 3 */
    ck_assert_int_eq(sm_plog_segment_count(l), 1);
    append_batches(l, 1, 1, 2000, 10, 0);   /* time index full: roll */
    ck_assert_int_eq(sm_plog_segment_count(l), 2);
    char *tp = seg_path(0, ".timeindex"), *ip = seg_path(0, ".index");
    ck_assert_int_eq(file_size(tp), 24);
    sm_plog_close(l);
    ck_assert_int_eq(file_size(ip), 16);
    free(tp);
    free(ip);
    l = sm_test_open_plog(&c, 0);
    for (int64_t off = 0; off < 4; off++) {
        sm_log_region_t r;
        ck_assert_int_eq(sm_plog_read(l, off, 4, 1 << 20, 1, &r), SM_ERR_NONE);
        ck_assert_int_eq(region_first_offset(&r), off);
        sm_file_unref(r.file);
    }
    sm_plog_close(l);
}
END_TEST

/* ---- read limits ---- */

START_TEST(t_read_limits)
{
    sm_log_config_t c = small_cfg();
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 10, 2, 1000, 60, 0);   /* offsets 0..19 */
    sm_log_region_t r;
    /* HW at a batch boundary and inside a batch */
    ck_assert_int_eq(sm_plog_read(l, 0, 6, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.len, (int64_t)bs * 3);
    sm_file_unref(r.file);
    ck_assert_int_eq(sm_plog_read(l, 2, 7, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.pos, (int64_t)bs);
    ck_assert_int_eq(r.len, (int64_t)bs * 2);
    sm_file_unref(r.file);
    ck_assert_int_eq(sm_plog_read(l, 6, 7, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_ptr_null(r.file);
    ck_assert_int_eq(r.len, 0);
    /* max_bytes: whole batches only */
    ck_assert_int_eq(sm_plog_read(l, 0, 20, (int32_t)(bs * 3 + bs / 2), 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.len, (int64_t)bs * 3);
    sm_file_unref(r.file);
    ck_assert_int_eq(sm_plog_read(l, 4, 20, (int32_t)bs * 5, 0, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.pos, (int64_t)bs * 2);
    ck_assert_int_eq(r.len, (int64_t)bs * 5);
    sm_file_unref(r.file);
    /* KIP-74 min_one */
    ck_assert_int_eq(sm_plog_read(l, 3, 20, 10, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(r.pos, (int64_t)bs);
    ck_assert_int_eq(r.len, (int64_t)bs);
    sm_file_unref(r.file);
    ck_assert_int_eq(sm_plog_read(l, 3, 20, 10, 0, &r), SM_ERR_NONE);
    ck_assert_ptr_null(r.file);
    /* edges */
    ck_assert_int_eq(sm_plog_read(l, 20, 20, 1000, 1, &r), SM_ERR_NONE);
    ck_assert_ptr_null(r.file);
    ck_assert_int_eq(sm_plog_read(l, 21, 21, 1000, 1, &r), SM_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sm_plog_read(l, -1, 20, 1000, 1, &r), SM_ERR_OFFSET_OUT_OF_RANGE);
    sm_plog_close(l);
}
END_TEST

/* A region keeps the deleted segment readable. */
START_TEST(t_region_outlives_segment)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 300;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 4, 2, 1000, 100, 0);
    ck_assert_int_ge(sm_plog_segment_count(l), 2);
    sm_log_region_t r;
    ck_assert_int_eq(sm_plog_read(l, 0, 8, 1 << 20, 1, &r), SM_ERR_NONE);
    sm_plog_set_high_watermark(l, 8);
    ck_assert_int_eq(sm_plog_set_log_start_offset(l, 4), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 4);
    char *p = seg_path(0, ".log");
    ck_assert_int_eq(access(p, F_OK), -1);
    free(p);
    ck_assert_int_eq(region_first_offset(&r), 0);
    ck_assert_int_eq(r.len, (int64_t)bs);
    sm_file_unref(r.file);
    ck_assert_int_eq(sm_plog_read(l, 2, 8, 1000, 1, &r), SM_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sm_plog_set_log_start_offset(l, 9), SM_ERR_OFFSET_OUT_OF_RANGE);
    sm_plog_close(l);
}
END_TEST

/* ---- timestamps ---- */

START_TEST(t_offset_for_timestamp)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 600;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 10, 4, 1000, 40, 0);   /* record i has timestamp 1000 + i */
    ck_assert_int_gt(sm_plog_segment_count(l), 1);
    for (int64_t ts = 990; ts < 1040; ts++) {
        int64_t off, t;
        ck_assert_int_eq(sm_plog_offset_for_timestamp(l, ts, &off, &t), 0);
        int64_t want = ts < 1000 ? 0 : ts - 1000;
        ck_assert_int_eq(off, want);
        ck_assert_int_eq(t, 1000 + want);
    }
    int64_t off, t;
    ck_assert_int_eq(sm_plog_offset_for_timestamp(l, 1040, &off, &t), -1);
    ck_assert_int_eq(sm_plog_max_timestamp(l, &off, &t), 0);
    ck_assert_int_eq(t, 1039);
    ck_assert_int_eq(off, 39);
    sm_plog_close(l);
    l = sm_test_open_plog(&c, 0);
    ck_assert_int_eq(sm_plog_offset_for_timestamp(l, 1021, &off, &t), 0);
    ck_assert_int_eq(off, 21);
    sm_plog_close(l);
}
END_TEST

START_TEST(t_log_append_time)
{
    sm_log_config_t c = small_cfg();
    c.message_timestamp_log_append = 1;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    build(&w, 2, 5, 10);
    sm_append_info_t info;
    int64_t before = sm_now_ms();
    ck_assert_int_eq(sm_plog_append(l, w.data, w.len, 1, 1, &info), SM_ERR_NONE);
    ck_assert_int_ge(info.log_append_time, before);
    sm_batch_hdr_t h;
    ck_assert_int_eq(sm_batch_check_crc(w.data, w.len, &h), SM_ERR_NONE);
    ck_assert_int_eq(h.max_timestamp, info.log_append_time);
    ck_assert(h.attributes & SM_ATTR_LOG_APPEND_TIME);
    sm_wbuf_free(&w);
    sm_plog_close(l);
}
END_TEST

/* ---- retention, truncation ---- */

START_TEST(t_retention_time)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 400;
    c.retention_ms = 1000;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 4, 2, 10000, 100, 0);   /* old records */
    int old_segs = sm_plog_segment_count(l);
    ck_assert_int_ge(old_segs, 2);
    int64_t now = sm_now_ms();
    append_batches(l, 2, 2, now, 100, 0);
    int total = sm_plog_segment_count(l);
    /* nothing above the high watermark may go */
    ck_assert_int_eq(sm_plog_apply_retention(l, now), 0);
    sm_plog_set_high_watermark(l, sm_plog_log_end_offset(l));
    int del = sm_plog_apply_retention(l, now);
    ck_assert_int_ge(del, 1);
    ck_assert_int_eq(sm_plog_segment_count(l), total - del);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 8);   /* first new-record offset */
    sm_log_region_t r;
    ck_assert_int_eq(sm_plog_read(l, 0, 12, 1000, 1, &r), SM_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(sm_plog_read(l, 8, 12, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(region_first_offset(&r), 8);
    sm_file_unref(r.file);
    /* everything expired: the active segment is rolled, then deleted */
    ck_assert_int_gt(sm_plog_apply_retention(l, now + 100000), 0);
    ck_assert_int_eq(sm_plog_segment_count(l), 1);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 12);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 12);
    ck_assert_int_eq(sm_plog_size_bytes(l), 0);
    /* follower truncation below the log start starts the log over there */
    ck_assert_int_eq(sm_plog_truncate_to(l, 5), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 5);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 5);
    ck_assert_int_eq(sm_plog_segment_count(l), 1);
    append_batches(l, 1, 2, now, 10, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 7);
    char *p5 = seg_path(5, ".log");
    ck_assert_int_gt(file_size(p5), 0);
    free(p5);
    sm_plog_close(l);
}
END_TEST

START_TEST(t_retention_size)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 400;
    c.retention_ms = -1;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 12, 2, 1000, 100, 0);
    int per = (int)(400 / bs);
    int segs = sm_plog_segment_count(l);
    c.retention_bytes = (int64_t)bs * per * 2;   /* keep ~2 segments */
    sm_plog_set_config(l, &c);
    sm_plog_set_high_watermark(l, 24);
    int del = sm_plog_apply_retention(l, sm_now_ms());
    ck_assert_int_gt(del, 0);
    ck_assert_int_eq(sm_plog_segment_count(l), segs - del);
    ck_assert_int_le(sm_plog_size_bytes(l) - (int64_t)bs * per, c.retention_bytes);
    ck_assert_int_eq(sm_plog_log_start_offset(l), (int64_t)del * per * 2);
    c.cleanup_delete = 0;   /* compact-only topics keep everything */
    c.retention_bytes = 0;
    sm_plog_set_config(l, &c);
    ck_assert_int_eq(sm_plog_apply_retention(l, sm_now_ms()), 0);
    sm_plog_close(l);
}
END_TEST

START_TEST(t_truncate_to)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 500;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 10, 3, 1000, 50, 0);   /* 30 offsets, several segments */
    int segs = sm_plog_segment_count(l);
    ck_assert_int_gt(segs, 2);
    ck_assert_int_eq(sm_plog_truncate_to(l, 40), SM_ERR_NONE);   /* beyond LEO: no-op */
    ck_assert_int_eq(sm_plog_log_end_offset(l), 30);
    ck_assert_int_eq(sm_plog_truncate_to(l, 22), SM_ERR_NONE);    /* inside batch 21..23 */
    ck_assert_int_eq(sm_plog_log_end_offset(l), 21);
    ck_assert_int_eq(sm_plog_truncate_to(l, 9), SM_ERR_NONE);     /* batch boundary */
    ck_assert_int_eq(sm_plog_log_end_offset(l), 9);
    ck_assert_int_lt(sm_plog_segment_count(l), segs);
    append_batches(l, 2, 3, 2000, 50, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 15);
    sm_log_region_t r;
    ck_assert_int_eq(sm_plog_read(l, 9, 15, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(region_first_offset(&r), 9);
    sm_file_unref(r.file);
    int64_t off, t;
    ck_assert_int_eq(sm_plog_offset_for_timestamp(l, 2000, &off, &t), 0);
    ck_assert_int_eq(off, 9);
    sm_plog_close(l);
    l = sm_test_open_plog(&c, 1);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 15);
    ck_assert_int_eq(sm_plog_truncate_to(l, 0), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 0);
    ck_assert_int_eq(sm_plog_size_bytes(l), 0);
    sm_plog_close(l);
}
END_TEST

/* A follower whose log lies wholly below the leader's log start starts
 * over empty at the leader's log start: no gap, appends at its offsets. */
START_TEST(t_truncate_fully_and_start_at)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 500;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 10, 3, 1000, 50, 3);
    ck_assert_int_gt(sm_plog_segment_count(l), 2);
    sm_plog_set_high_watermark(l, 30);
    ck_assert_int_eq(sm_plog_latest_epoch(l), 3);
    ck_assert_int_eq(sm_plog_truncate_fully_and_start_at(l, 100), SM_ERR_NONE);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 100);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 100);
    ck_assert_int_eq(sm_plog_high_watermark(l), 100);
    ck_assert_int_eq(sm_plog_segment_count(l), 1);
    ck_assert_int_eq(sm_plog_size_bytes(l), 0);
    ck_assert_int_eq(sm_plog_latest_epoch(l), -1);
    char *p0 = seg_path(0, ".log"), *p100 = seg_path(100, ".log");
    ck_assert_int_eq(file_size(p0), -1);
    ck_assert_int_eq(file_size(p100), 0);
    sm_log_region_t r;
    ck_assert_int_eq(sm_plog_read(l, 99, 100, 1000, 1, &r), SM_ERR_OFFSET_OUT_OF_RANGE);
    /* A fetched batch at the leader's offsets 100..102 continues the log. */
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    build(&w, 3, 5000, 50);
    for (int i = 0; i < 8; i++) w.data[i] = (uint8_t)((uint64_t)100 >> (56 - 8 * i));
    sm_append_info_t info;
    ck_assert_int_eq(sm_plog_append(l, w.data, w.len, 7, 0, &info), SM_ERR_NONE);
    ck_assert_int_eq(info.first_offset, 100);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 103);
    ck_assert_int_eq(sm_plog_read(l, 100, 103, 1 << 20, 1, &r), SM_ERR_NONE);
    ck_assert_int_eq(region_first_offset(&r), 100);
    ck_assert_int_eq(r.len, (int64_t)w.len);
    sm_file_unref(r.file);
    sm_wbuf_free(&w);
    sm_plog_close(l);
    /* Survives a restart. */
    l = sm_test_open_plog(&c, 1);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 100);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 103);
    ck_assert_int_eq(file_size(p0), -1);
    free(p0);
    free(p100);
    ck_assert_int_eq(sm_plog_truncate_fully_and_start_at(l, -1), SM_ERR_OFFSET_OUT_OF_RANGE);
    sm_plog_close(l);
}
END_TEST

/* ---- recovery ---- */

START_TEST(t_recover_truncated_last_batch)
{
    sm_log_config_t c = small_cfg();
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 3, 3, 1000, 30, 0);
    sm_plog_close(l);
    char *p = seg_path(0, ".log");
    size_t full = bs * 3;
    uint8_t *orig = (uint8_t *)sm_read_file(p, 1 << 20, NULL);
    for (size_t cut = 1; cut <= bs; cut++) {
        int fd = open(p, O_WRONLY | O_TRUNC);
        ck_assert_int_eq(write(fd, orig, full - cut), (ssize_t)(full - cut));
        close(fd);
        l = sm_test_open_plog(&c, 1);
        ck_assert_int_eq(sm_plog_log_end_offset(l), 6);
        ck_assert_int_eq(sm_plog_size_bytes(l), (int64_t)bs * 2);
        sm_plog_close(l);
        ck_assert_int_eq(file_size(p), (int64_t)bs * 2);
    }
    free(orig);
    free(p);
}
END_TEST

START_TEST(t_recover_crc_middle)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 400;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 9, 2, 1000, 60, 0);
    int per = (int)(400 / bs);
    int segs = sm_plog_segment_count(l);
    ck_assert_int_ge(segs, 3);
    sm_plog_close(l);
    /* flip a payload bit of the second batch of the second segment */
    int64_t base2 = per * 2;
    char *p = seg_path(base2, ".log");
    int fd = open(p, O_RDWR);
    uint8_t b;
    off_t at = (off_t)bs + (off_t)bs - 5;
    ck_assert_int_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x10;
    ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
    /* clean open does not look at CRCs */
    l = sm_test_open_plog(&c, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 18);
    sm_plog_close(l);
    l = sm_plog_open(sm_test_tmpdir, "t", 0, &c, base2, 0, 1, errbuf, sizeof(errbuf));
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(sm_plog_segment_count(l), 2);
    ck_assert_int_eq(sm_plog_log_end_offset(l), base2 + 2);
    ck_assert_int_eq(file_size(p), (int64_t)bs);
    char *p3 = seg_path(per * 4, ".log");
    ck_assert_int_eq(access(p3, F_OK), -1);
    free(p3);
    /* appends continue after the cut */
    append_batches(l, 1, 2, 3000, 10, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), base2 + 4);
    sm_plog_close(l);
    free(p);
}
END_TEST

static void
check_all_reads(sm_plog_t *l, int64_t leo, int per_batch)
{
    for (int64_t off = 0; off < leo; off++) {
        sm_log_region_t r;
        ck_assert_int_eq(sm_plog_read(l, off, leo, 1 << 20, 1, &r), SM_ERR_NONE);
        ck_assert_ptr_nonnull(r.file);
        ck_assert_int_eq(region_first_offset(&r), off / per_batch * per_batch);
        sm_file_unref(r.file);
    }
}

START_TEST(t_recover_bad_indexes)
{
    sm_log_config_t c = small_cfg();
    c.segment_bytes = 2000;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 20, 2, 1000, 60, 0);
    ck_assert_int_ge(sm_plog_segment_count(l), 2);
    sm_plog_close(l);
    /* garbage offset index in the first segment, missing time index */
    char *ip = seg_path(0, ".index"), *tp = seg_path(0, ".timeindex");
    int64_t isz = file_size(ip);
    ck_assert_int_gt(isz, 8);
    int fd = open(ip, O_WRONLY);
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++) junk[i] = (uint8_t)(i * 37 + 11);
    ck_assert_int_eq(write(fd, junk, (size_t)isz), isz);
    close(fd);
    unlink(tp);
    l = sm_test_open_plog(&c, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 40);
    check_all_reads(l, 40, 2);
    int64_t off, t;
    ck_assert_int_eq(sm_plog_offset_for_timestamp(l, 1005, &off, &t), 0);
    ck_assert_int_eq(off, 5);
    sm_plog_close(l);
    ck_assert_int_eq(file_size(ip), isz);   /* rebuilt to the same entries */
    ck_assert_int_gt(file_size(tp), 0);
    /* bad length (not a multiple of 8) and missing index */
    fd = open(ip, O_WRONLY | O_APPEND);
    ck_assert_int_eq(write(fd, junk, 3), 3);
    close(fd);
    l = sm_test_open_plog(&c, 0);
    check_all_reads(l, 40, 2);
    sm_plog_close(l);
    ck_assert_int_eq(file_size(ip) % 8, 0);
    free(ip);
    free(tp);
}
END_TEST

START_TEST(t_recover_zero_tail)
{
    sm_log_config_t c = small_cfg();
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    size_t bs = append_batches(l, 5, 2, 1000, 60, 0);
    sm_plog_close(l);
    char *p = seg_path(0, ".log");
    static uint8_t zeros[8192];
    for (int recover = 1; recover >= 0; recover--) {
        int fd = open(p, O_WRONLY | O_APPEND);
        ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
        close(fd);
        /* recover=0: a marker that lied; the tail check still catches it */
        l = sm_test_open_plog(&c, recover);
        ck_assert_int_eq(sm_plog_log_end_offset(l), 10);
        ck_assert_int_eq(sm_plog_size_bytes(l), (int64_t)bs * 5);
        sm_plog_close(l);
        ck_assert_int_eq(file_size(p), (int64_t)bs * 5);
    }
    free(p);
}
END_TEST

START_TEST(t_recover_garbage_files)
{
    sm_log_config_t c = small_cfg();
    char *d = sm_asprintf("%s/t-0", sm_test_tmpdir);
    ck_assert_int_eq(sm_mkdirs(d, 0755), 0);
    uint8_t junk[5000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(junk); i++) { x = x * 1103515245 + 12345; junk[i] = (uint8_t)(x >> 16); }
    static const char *const names[] = { "00000000000000000000.log", "00000000000000000000.index",
                                         "00000000000000000000.timeindex", "00000000000000000100.log",
                                         "00000000000000000100.index", "leader-epoch-checkpoint",
                                         "00000000000000000007.index", "00000000000000000000.log.deleted",
                                         "00000000000000000000.log.swap" };
    for (size_t i = 0; i < SM_ARRAY_SIZE(names); i++) {
        char *p = sm_asprintf("%s/%s", d, names[i]);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_eq(write(fd, junk, 1000 + i * 300), (ssize_t)(1000 + i * 300));
        close(fd);
        free(p);
    }
    for (int recover = 1; recover >= 0; recover--) {
        sm_plog_t *l = sm_test_open_plog(&c, recover);
        /* recovery cuts segment 0 to nothing and drops segment 100 */
        ck_assert_int_eq(sm_plog_log_end_offset(l), recover ? 0 : 1);
        ck_assert_int_eq(sm_plog_segment_count(l), 1);
        sm_log_region_t r;
        sm_plog_read(l, 0, sm_plog_log_end_offset(l), 1000, 1, &r);
        sm_file_unref(r.file);
        append_batches(l, 1, 1, 5, 5, 0);
        sm_plog_close(l);
    }
    char *p = sm_asprintf("%s/00000000000000000007.index", d);
    ck_assert_int_eq(access(p, F_OK), -1);   /* orphan index removed */
    free(p);
    p = sm_asprintf("%s/00000000000000000000.log.deleted", d);
    ck_assert_int_eq(access(p, F_OK), -1);
    free(p);
    free(d);
}
END_TEST

/* ---- leader epochs ---- */

START_TEST(t_leader_epochs)
{
    sm_log_config_t c = small_cfg();
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    int32_t e;
    int64_t o;
    sm_plog_epoch_end_offset(l, 0, &e, &o);
    ck_assert_int_eq(e, -1);
    ck_assert_int_eq(o, -1);
    append_batches(l, 2, 3, 1000, 10, 0);
    append_batches(l, 2, 3, 1000, 10, 2);
    append_batches(l, 1, 3, 1000, 10, 5);
    char *p = sm_asprintf("%s/t-0/leader-epoch-checkpoint", sm_test_tmpdir);
    char *txt = sm_read_file(p, 4096, NULL);
    ck_assert_str_eq(txt, "0\n3\n0 0\n2 6\n5 12\n");
    free(txt);
    ck_assert_int_eq(sm_plog_latest_epoch(l), 5);
    sm_plog_epoch_end_offset(l, 5, &e, &o);
    ck_assert_int_eq(e, 5); ck_assert_int_eq(o, 15);
    sm_plog_epoch_end_offset(l, 2, &e, &o);
    ck_assert_int_eq(e, 2); ck_assert_int_eq(o, 12);
    sm_plog_epoch_end_offset(l, 3, &e, &o);   /* unknown: largest <= 3 is 2 */
    ck_assert_int_eq(e, 2); ck_assert_int_eq(o, 12);
    sm_plog_epoch_end_offset(l, 9, &e, &o);
    ck_assert_int_eq(e, -1); ck_assert_int_eq(o, -1);
    ck_assert_int_eq(sm_plog_truncate_to(l, 9), SM_ERR_NONE);
    txt = sm_read_file(p, 4096, NULL);
    ck_assert_str_eq(txt, "0\n2\n0 0\n2 6\n");
    free(txt);
    sm_plog_close(l);
    /* recovery rebuilds the cache from the batches */
    unlink(p);
    l = sm_test_open_plog(&c, 1);
    ck_assert_int_eq(sm_plog_latest_epoch(l), 2);
    sm_plog_epoch_end_offset(l, 0, &e, &o);
    ck_assert_int_eq(e, 0); ck_assert_int_eq(o, 6);
    sm_plog_close(l);
    free(p);
}
END_TEST

/* ---- checkpoint files ---- */

START_TEST(t_checkpoint_files)
{
    char *p = sm_asprintf("%s/ckpt", sm_test_tmpdir);
    sm_ckpt_entry_t in[3] = { { "a.b-c", 0, 12 }, { "x", 7, 0 }, { "my-topic", 12, 9999999999LL } };
    ck_assert_int_eq(sm_ckpt_write(p, in, 3), 0);
    char *txt = sm_read_file(p, 4096, NULL);
    ck_assert_str_eq(txt, "0\n3\na.b-c 0 12\nx 7 0\nmy-topic 12 9999999999\n");
    free(txt);
    sm_ckpt_entry_t *out;
    int n;
    ck_assert_int_eq(sm_ckpt_read(p, &out, &n, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(out[i].topic, in[i].topic);
        ck_assert_int_eq(out[i].partition, in[i].partition);
        ck_assert_int_eq(out[i].offset, in[i].offset);
    }
    sm_ckpt_free(out, n);
    static const char *const bad[] = {
        "0\n3\na 0 1\nb 0 2\n", "0\n1\na 0 1\nb 0 2\n", "1\n0\n", "0\n1\na 0\n", "0\n1\na x 1\n",
        "0\n-1\n", "", "0\n", "0\n1\na 0 1 2\n", "0\n1\na -1 5\n",
    };
    for (size_t i = 0; i < SM_ARRAY_SIZE(bad); i++) {
        ck_assert_msg(sm_ckpt_parse(bad[i], strlen(bad[i]), &out, &n, errbuf, sizeof(errbuf)) == -1, "accepted %zu", i);
        ck_assert_ptr_null(out);
    }
    ck_assert_int_eq(sm_ckpt_parse("0\n3\na 0 1\nb 0 2\n", 16, &out, &n, errbuf, sizeof(errbuf)), -1);
    ck_assert_ptr_nonnull(strstr(errbuf, "Expected 3 entries"));
    /* truncation at every byte of a valid file never crashes or accepts a wrong count */
    const char *good = "0\n2\ntopic 1 100\ntopic 2 200\n";
    for (size_t k = 0; k < strlen(good); k++) {
        int rc = sm_ckpt_parse(good, k, &out, &n, errbuf, sizeof(errbuf));
        if (rc == 0) { ck_assert_int_eq(n, 2); sm_ckpt_free(out, n); }
    }
    unlink(p);
    ck_assert_int_eq(sm_ckpt_read(p, &out, &n, errbuf, sizeof(errbuf)), 0);   /* missing = empty */
    ck_assert_int_eq(n, 0);
    sm_epoch_entry_t *ee;
    ck_assert_int_eq(sm_epoch_ckpt_parse("0\n2\n1 0\n3 50\n", 13, &ee, &n, errbuf, sizeof(errbuf)), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ee[1].epoch, 3);
    ck_assert_int_eq(ee[1].start_offset, 50);
    free(ee);
    ck_assert_int_eq(sm_epoch_ckpt_parse("0\n2\n1 0\n", 8, &ee, &n, errbuf, sizeof(errbuf)), -1);
    free(p);
}
END_TEST

/* ---- config ---- */

START_TEST(t_config_keys)
{
    sm_log_config_t c;
    sm_log_config_defaults(&c);
    ck_assert_int_eq(c.segment_bytes, 1073741824);
    ck_assert_int_eq(c.flush_messages, INT64_MAX);
    ck_assert_int_eq(sm_log_config_set(&c, "segment.bytes", "13", errbuf, sizeof(errbuf)), -1);
    ck_assert_str_eq(errbuf, "Invalid value 13 for configuration segment.bytes: Value must be at least 14");
    ck_assert_int_eq(sm_log_config_set(&c, "segment.bytes", "14", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.segment_bytes, 14);
    ck_assert_int_eq(sm_log_config_set(&c, "retention.ms", "abc", errbuf, sizeof(errbuf)), -1);
    ck_assert_ptr_nonnull(strstr(errbuf, "Not a number of type LONG"));
    ck_assert_int_eq(sm_log_config_set(&c, "retention.ms", "-1", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.retention_ms, -1);
    ck_assert_int_eq(sm_log_config_set(&c, "retention.ms", "-2", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "cleanup.policy", "compact,delete", errbuf, sizeof(errbuf)), 1);
    ck_assert(c.cleanup_compact && c.cleanup_delete);
    ck_assert_int_eq(sm_log_config_set(&c, "cleanup.policy", "compact", errbuf, sizeof(errbuf)), 1);
    ck_assert(c.cleanup_compact && !c.cleanup_delete);
    ck_assert_int_eq(sm_log_config_set(&c, "cleanup.policy", "remove", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "message.timestamp.type", "LogAppendTime", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.message_timestamp_log_append, 1);
    ck_assert_int_eq(sm_log_config_set(&c, "message.timestamp.type", "Now", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "flush.messages", "1", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.flush_messages, 1);
    ck_assert_int_eq(sm_log_config_set(&c, "min.insync.replicas", "2", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(sm_log_config_set(&c, "min.insync.replicas", "0", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "compression.type", "zstd", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(sm_log_config_set(&c, "compression.type", "brotli", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "unclean.leader.election.enable", "yes", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "min.cleanable.dirty.ratio", "0.5", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(sm_log_config_set(&c, "leader.replication.throttled.replicas", "0:1,1:2", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(sm_log_config_set(&c, "no.such.key", "1", errbuf, sizeof(errbuf)), 0);
}
END_TEST

START_TEST(t_flush_messages)
{
    sm_log_config_t c = small_cfg();
    c.flush_messages = 4;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    append_batches(l, 1, 3, 1000, 10, 0);
    ck_assert_int_eq(sm_plog_recovery_point(l), 0);
    append_batches(l, 1, 3, 1000, 10, 0);
    ck_assert_int_eq(sm_plog_recovery_point(l), 6);
    append_batches(l, 1, 1, 1000, 10, 0);
    ck_assert_int_eq(sm_plog_recovery_point(l), 6);
    ck_assert_int_eq(sm_plog_flush(l), 0);
    ck_assert_int_eq(sm_plog_recovery_point(l), 7);
    sm_plog_close(l);
}
END_TEST

/* ---- log manager ---- */

static sm_logmgr_config_t
mgr_cfg(char **dirs, int n, int32_t broker)
{
    sm_logmgr_config_t m;
    memset(&m, 0, sizeof(m));
    m.dirs = dirs;
    m.ndirs = n;
    m.broker_id = broker;
    m.cluster_id = "abcdefghijklmnopqrstuv";
    m.recovery_threads = 2;
    m.retention_check_interval_ms = 300000;
    m.flush_scheduler_interval_ms = 1000;
    m.checkpoint_interval_ms = 60000;
    m.defaults = small_cfg();
    return m;
}

START_TEST(t_logmgr_lifecycle)
{
    char *d1 = sm_asprintf("%s/d1", sm_test_tmpdir), *d2 = sm_asprintf("%s/d2", sm_test_tmpdir);
    char *dirs[2] = { d1, d2 };
    sm_logmgr_config_t mc = mgr_cfg(dirs, 2, 1);
    sm_logmgr_t *m = sm_logmgr_open(&mc, errbuf, sizeof(errbuf));
    ck_assert_msg(m != NULL, "%s", errbuf);
    /* second instance on the same dirs */
    ck_assert_ptr_null(sm_logmgr_open(&mc, errbuf, sizeof(errbuf)));
    ck_assert_ptr_nonnull(strstr(errbuf, "Failed to acquire lock"));
    const char *topics[3] = { "my.topic-with-dash", "plain", "a-b-c" };
    for (int i = 0; i < 3; i++) {
        for (int p = 0; p < 4; p++) {
            sm_plog_t *l = sm_logmgr_get_or_create(m, topics[i], p, NULL, errbuf, sizeof(errbuf));
            ck_assert_ptr_nonnull(l);
            append_batches(l, 1 + p, 2, 1000, 10, 0);
            sm_plog_set_high_watermark(l, 2 * (1 + p));
        }
    }
    ck_assert_ptr_eq(sm_logmgr_get(m, "plain", 2), sm_logmgr_get_or_create(m, "plain", 2, NULL, errbuf, sizeof(errbuf)));
    ck_assert_ptr_null(sm_logmgr_get(m, "plain", 9));
    /* placement balances the dirs */
    int in1 = 0;
    for (int i = 0; i < 3; i++)
        for (int p = 0; p < 4; p++)
            in1 += strncmp(sm_plog_dir(sm_logmgr_get(m, topics[i], p)), d1, strlen(d1)) == 0;
    ck_assert_int_eq(in1, 6);
    sm_logmgr_delete(m, "plain", 3);
    ck_assert_ptr_null(sm_logmgr_get(m, "plain", 3));
    sm_logmgr_shutdown(m);

    char *marker = sm_asprintf("%s/.kafka_cleanshutdown", d1);
    ck_assert_int_eq(access(marker, F_OK), 0);
    char *rp = sm_asprintf("%s/recovery-point-offset-checkpoint", d1);
    sm_ckpt_entry_t *e;
    int n;
    ck_assert_int_eq(sm_ckpt_read(rp, &e, &n, errbuf, sizeof(errbuf)), 0);
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(e[i].topic, "my.topic-with-dash") == 0 && e[i].partition == 2) {
            ck_assert_int_eq(e[i].offset, 6);
            found = 1;
        }
    }
    sm_ckpt_free(e, n);
    ck_assert_int_eq(n + 0, n);
    char *meta = sm_asprintf("%s/meta.properties", d2);
    char *mt = sm_read_file(meta, 4096, NULL);
    ck_assert_ptr_nonnull(strstr(mt, "broker.id=1\n"));
    ck_assert_ptr_nonnull(strstr(mt, "version=0\n"));
    ck_assert_ptr_nonnull(strstr(mt, "cluster.id=abcdefghijklmnopqrstuv\n"));
    free(mt);

    /* reopen after clean shutdown: marker consumed, logs and HW back */
    m = sm_logmgr_open(&mc, errbuf, sizeof(errbuf));
    ck_assert_msg(m != NULL, "%s", errbuf);
    ck_assert_int_eq(access(marker, F_OK), -1);
    for (int i = 0; i < 3; i++) {
        for (int p = 0; p < 4; p++) {
            sm_plog_t *l = sm_logmgr_get(m, topics[i], p);
            if (i == 1 && p == 3) { ck_assert_ptr_null(l); continue; }
            ck_assert_ptr_nonnull(l);
            ck_assert_int_eq(sm_plog_log_end_offset(l), 2 * (1 + p));
            ck_assert_int_eq(sm_plog_high_watermark(l), 2 * (1 + p));
        }
    }
    /* corrupt a CRC in a partition, then "crash" (no marker): recovery cuts it */
    sm_plog_t *l = sm_logmgr_get(m, "a-b-c", 3);
    char *logp = sm_asprintf("%s/00000000000000000000.log", sm_plog_dir(l));
    sm_logmgr_checkpoint(m);
    /* simulate a crash: checkpoints written, logs not closed cleanly, no marker */
    int fd = open(logp, O_RDWR);
    uint8_t b = 0xEE;
    ck_assert_int_eq(pwrite(fd, &b, 1, file_size(logp) - 3), 1);
    close(fd);
    sm_logmgr_shutdown(m);
    unlink(marker);
    char *marker2 = sm_asprintf("%s/.kafka_cleanshutdown", d2);
    unlink(marker2);
    /* recovery point 8 from the checkpoint would skip that segment: force 0 */
    char *rp2 = sm_asprintf("%s/recovery-point-offset-checkpoint", strstr(logp, d1) ? d1 : d2);
    ck_assert_int_eq(sm_ckpt_write(rp2, NULL, 0), 0);
    m = sm_logmgr_open(&mc, errbuf, sizeof(errbuf));
    ck_assert_msg(m != NULL, "%s", errbuf);
    ck_assert_int_eq(sm_plog_log_end_offset(sm_logmgr_get(m, "a-b-c", 3)), 6);
    ck_assert_int_eq(sm_plog_log_end_offset(sm_logmgr_get(m, "a-b-c", 2)), 6);
    sm_logmgr_tick(m, sm_now_ms() + 120000);
    sm_logmgr_shutdown(m);

    /* meta.properties mismatch */
    sm_logmgr_config_t bad = mgr_cfg(dirs, 2, 2);
    ck_assert_ptr_null(sm_logmgr_open(&bad, errbuf, sizeof(errbuf)));
    ck_assert_ptr_nonnull(strstr(errbuf, "The broker id 2 doesn't match stored broker.id 1 in meta.properties"));
    bad = mgr_cfg(dirs, 2, 1);
    bad.cluster_id = "otherclusterotherclust";
    ck_assert_ptr_null(sm_logmgr_open(&bad, errbuf, sizeof(errbuf)));
    ck_assert_ptr_nonnull(strstr(errbuf, "doesn't match stored clusterId"));
    ck_assert_int_eq(found, 1);
    free(rp2); free(marker2); free(logp); free(meta); free(rp); free(marker); free(d1); free(d2);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, sm_test_tmpdir_setup, sm_test_tmpdir_teardown);
    tcase_add_test(tc, t_append_reopen_lookup);
    tcase_add_test(tc, t_follower_append);
    tcase_add_test(tc, t_roll_size);
    tcase_add_test(tc, t_roll_time);
    tcase_add_test(tc, t_roll_index_full);
    tcase_add_test(tc, t_read_limits);
    tcase_add_test(tc, t_region_outlives_segment);
    tcase_add_test(tc, t_offset_for_timestamp);
    tcase_add_test(tc, t_log_append_time);
    tcase_add_test(tc, t_retention_time);
    tcase_add_test(tc, t_retention_size);
    tcase_add_test(tc, t_truncate_to);
    tcase_add_test(tc, t_truncate_fully_and_start_at);
    tcase_add_test(tc, t_recover_truncated_last_batch);
    tcase_add_test(tc, t_recover_crc_middle);
    tcase_add_test(tc, t_recover_bad_indexes);
    tcase_add_test(tc, t_recover_zero_tail);
    tcase_add_test(tc, t_recover_garbage_files);
    tcase_add_test(tc, t_leader_epochs);
    tcase_add_test(tc, t_checkpoint_files);
    tcase_add_test(tc, t_config_keys);
    tcase_add_test(tc, t_flush_messages);
    tcase_add_test(tc, t_logmgr_lifecycle);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}

/*
 * check_cleaner.c - unit tests of the log cleaner (src/log/sm_cleaner.c):
 * latest value per key with original offsets, tombstones before and after
 * delete.retention.ms, compressed batches, the active segment left alone,
 * idempotent producers' last batch, offset map overflow, checkpoints,
 * in-flight readers across a swap, crash recovery of .cleaned/.swap files,
 * the produce-side key check and the topic config keys.
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
#include "core/sm_crc32c.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_cleaner.h"
#include "log/sm_plog.h"
#include "proto/sm_records.h"
#include "sm_test.h"

static char errbuf[512];

static sm_log_config_t
compact_cfg(int64_t segment_bytes)
{
    sm_log_config_t c;
    sm_log_config_defaults(&c);
    c.cleanup_compact = 1;
    c.cleanup_delete = 0;
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = 100;
    c.segment_index_bytes = 4096;
    return c;
}

static sm_cleaner_t *
new_cleaner(int64_t dedupe)
{
    sm_cleaner_config_t cc;
    sm_cleaner_config_defaults(&cc);
    cc.dedupe_buffer_size = dedupe;
    char *dirs[] = { sm_test_tmpdir };
    return sm_cleaner_new(&cc, dirs, 1);
}

/* Keys/values of one batch: "k<key>" / "v<val>", val < 0 = tombstone. */
typedef struct { int key, val; } kv_t;

static int64_t
append_kv(sm_plog_t *l, const kv_t *kv, int n, sm_codec_t codec, int64_t ts, int64_t pid, int32_t seq)
{
    char kb[16][16], vb[16][16];
    sm_record_spec_t r[16];
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        snprintf(kb[i], sizeof(kb[i]), "k%d", kv[i].key);
        snprintf(vb[i], sizeof(vb[i]), "v%d", kv[i].val);
        r[i].timestamp = ts + i;
        r[i].key = SM_BYTES_STR(kb[i]);
        r[i].value = kv[i].val < 0 ? SM_BYTES_NULL : SM_BYTES_STR(vb[i]);
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    ck_assert_int_eq(sm_batch_build(&w, 0, codec, r, n), SM_ERR_NONE);
    if (pid >= 0) {   /* an idempotent producer's batch: fields inside the CRC */
        sm_put_be64(w.data + 43, (uint64_t)pid);
        sm_put_be16(w.data + 51, 0);
        sm_put_be32(w.data + 53, (uint32_t)seq);
        sm_put_be32(w.data + SM_BATCH_CRC_OFFSET, sm_crc32c(0, w.data + SM_BATCH_ATTR_OFFSET, w.len - SM_BATCH_ATTR_OFFSET));
    }
    sm_append_info_t info;
    ck_assert_int_eq(sm_plog_append(l, w.data, w.len, 0, 1, &info), SM_ERR_NONE);
    sm_wbuf_free(&w);
    sm_plog_set_high_watermark(l, sm_plog_log_end_offset(l));
    return info.first_offset;
}

static int64_t
put1(sm_plog_t *l, int key, int val)
{
    kv_t kv = { key, val };
    return append_kv(l, &kv, 1, SM_CODEC_NONE, 1000, -1, 0);
}

typedef struct {
    int64_t off;
    int key, val;                    /* val -1 = tombstone */
    int codec;
    int batch_records;               /* recordCount of the batch holding it */
    int64_t batch_base, batch_last;
} rec_t;

static int
parse_num(sm_bytes_t b, char prefix)
{
    ck_assert_int_ge(b.len, 2);
    ck_assert_int_eq(b.ptr[0], prefix);
    char tmp[16];
    ck_assert_int_lt(b.len, (int)sizeof(tmp));
    memcpy(tmp, b.ptr + 1, (size_t)b.len - 1);
    tmp[b.len - 1] = '\0';
    return atoi(tmp);
}

/* Every record from the log start to the LEO through sm_plog_read, as a
 * consumer would see it. Empty batches are counted in *nempty. */
static int
read_all(sm_plog_t *l, rec_t *out, int max, int *nempty)
{
    int64_t off = sm_plog_log_start_offset(l), leo = sm_plog_log_end_offset(l);
    int n = 0;
    if (nempty) *nempty = 0;
    while (off < leo) {
        sm_log_region_t rg;
        ck_assert_int_eq(sm_plog_read(l, off, leo, 1 << 20, 1, &rg), SM_ERR_NONE);
        if (rg.len == 0) break;
        uint8_t *buf = sm_malloc((size_t)rg.len);
        ck_assert_int_eq(pread(rg.file->fd, buf, (size_t)rg.len, rg.pos), rg.len);
        for (size_t pos = 0; pos < (size_t)rg.len;) {
            sm_record_iter_t it;
            sm_record_t rec;
            ck_assert_int_eq(sm_record_iter_init(&it, buf + pos, (size_t)rg.len - pos, 1 << 24), SM_ERR_NONE);
            sm_batch_hdr_t h = it.hdr;
            if (h.record_count == 0 && nempty) (*nempty)++;
            int k, prev = -1;
            while ((k = sm_record_iter_next(&it, &rec)) == 1) {
                ck_assert_int_gt(rec.offset, prev);
                prev = (int)rec.offset;
                if (rec.offset < off) continue;
                ck_assert_int_lt(n, max);
                out[n].off = rec.offset;
                out[n].key = parse_num(rec.key, 'k');
                out[n].val = rec.value.len < 0 ? -1 : parse_num(rec.value, 'v');
                out[n].codec = sm_batch_codec(&h);
                out[n].batch_records = h.record_count;
                out[n].batch_base = h.base_offset;
                out[n].batch_last = sm_batch_last_offset(&h);
                ck_assert_int_ge(rec.offset, h.base_offset);
                ck_assert_int_le(rec.offset, sm_batch_last_offset(&h));
                n++;
            }
            ck_assert_int_eq(k, 0);
            sm_record_iter_free(&it);
            off = sm_batch_last_offset(&h) + 1;
            pos += sm_batch_size(&h);
        }
        free(buf);
        sm_file_unref(rg.file);
    }
    return n;
}

/* Calls fn for each "<20 digits>.log" (base, size) in the partition dir. */
static void
each_segment(void (*fn)(int64_t base, int64_t size, void *arg), void *arg)
{
    char *d = sm_asprintf("%s/t-0", sm_test_tmpdir);
    DIR *dir = opendir(d);
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n != 24 || strcmp(e->d_name + 20, ".log") != 0) continue;
        char *p = sm_asprintf("%s/%s", d, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        fn(atoll(e->d_name), st.st_size, arg);
        free(p);
    }
    closedir(dir);
    free(d);
}

static void max_base_fn(int64_t base, int64_t size, void *arg) { int64_t *m = arg; if (base > *m) *m = base; }
static void sum_size_fn(int64_t base, int64_t size, void *arg) { *(int64_t *)arg += size; }

/* The base offset of the active segment = the largest .log file name. */
static int64_t
active_base(void)
{
    int64_t m = -1;
    each_segment(max_base_fn, &m);
    return m;
}

static int64_t
dir_log_bytes(void)
{
    int64_t n = 0;
    each_segment(sum_size_fn, &n);
    return n;
}

/* Files with .cleaned or .swap in their name. */
static int
count_temp_files(const char *d)
{
    DIR *dir = opendir(d);
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dir)) != NULL)
        if (strstr(e->d_name, ".cleaned") || strstr(e->d_name, ".swap")) n++;
    closedir(dir);
    return n;
}

/* Check a log against the history of everything appended: below the
 * active segment only the newest record of each key survives (tombstones
 * too, unless gone), and the active segment is untouched. */
static void
check_compacted(sm_plog_t *l, const rec_t *hist, int nh, int64_t upper, int tombstones_gone)
{
    static rec_t got[8192];
    int n = read_all(l, got, 8192, NULL);
    int j = 0;
    for (int i = 0; i < nh; i++) {
        int latest = 1;
        if (hist[i].off < upper) {
            for (int k = i + 1; k < nh && hist[k].off < upper; k++)
                if (hist[k].key == hist[i].key) latest = 0;
            if (tombstones_gone && hist[i].val < 0) latest = 0;
        }
        if (!latest) continue;
        ck_assert_msg(j < n, "record at offset %lld missing", (long long)hist[i].off);
        ck_assert_int_eq(got[j].off, hist[i].off);
        ck_assert_int_eq(got[j].key, hist[i].key);
        ck_assert_int_eq(got[j].val, hist[i].val);
        j++;
    }
    ck_assert_int_eq(j, n);
    /* Every surviving record is fetchable at its own offset. */
    for (int i = 0; i < n; i++) {
        sm_log_region_t rg;
        ck_assert_int_eq(sm_plog_read(l, got[i].off, sm_plog_log_end_offset(l), 1 << 20, 1, &rg), SM_ERR_NONE);
        ck_assert_ptr_nonnull(rg.file);
        uint8_t hb[SM_BATCH_HEADER_SIZE];
        sm_batch_hdr_t h;
        ck_assert_int_eq(pread(rg.file->fd, hb, sizeof(hb), rg.pos), (ssize_t)sizeof(hb));
        ck_assert_int_eq(sm_batch_header_decode(hb, sizeof(hb), &h), 0);
        ck_assert_int_le(h.base_offset, got[i].off);
        ck_assert_int_ge(sm_batch_last_offset(&h), got[i].off);
        sm_file_unref(rg.file);
    }
}

/* ---- tests ---- */

START_TEST(t_latest_value_per_key)
{
    sm_log_config_t c = compact_cfg(400);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    static rec_t hist[512];
    int nh = 0;
    for (int round = 0; round < 8; round++) {
        for (int k = 0; k < 10; k++) {
            int val = round * 100 + k;
            hist[nh] = (rec_t){ .off = put1(l, k, val), .key = k, .val = val };
            nh++;
        }
    }
    ck_assert_int_gt(sm_plog_segment_count(l), 5);
    int64_t before = dir_log_bytes(), upper = active_base();
    sm_clean_stats_t st;
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, &st), 1);
    ck_assert_int_eq(st.first_dirty, 0);
    ck_assert_int_eq(st.end_offset, upper);
    ck_assert_int_lt(st.records_written, st.records_read);
    ck_assert_int_lt(dir_log_bytes(), before);
    check_compacted(l, hist, nh, upper, 0);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 80);
    ck_assert_int_eq(sm_plog_log_start_offset(l), 0);

    /* The checkpoint file holds the new first dirty offset. */
    char *path = sm_asprintf("%s/%s", sm_test_tmpdir, SM_CLEANER_CKPT_FILE);
    size_t len;
    char *text = sm_read_file(path, 4096, &len);
    ck_assert_ptr_nonnull(text);
    char want[64];
    snprintf(want, sizeof(want), "0\n1\nt 0 %lld\n", (long long)upper);
    ck_assert_str_eq(text, want);
    free(text);
    free(path);
    ck_assert_int_eq(sm_cleaner_first_dirty(cl, l), upper);
    /* Nothing dirty now: below the ratio, no pass. */
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 0);

    /* The cleaned log survives a reopen (indexes and all), and a new
     * cleaner picks up the checkpoint. */
    sm_plog_close(l);
    sm_cleaner_free(cl);
    l = sm_test_open_plog(&c, 0);
    check_compacted(l, hist, nh, upper, 0);
    cl = new_cleaner(1 << 20);
    ck_assert_int_eq(sm_cleaner_first_dirty(cl, l), upper);

    /* More updates, then a second pass: offsets still the originals. */
    for (int k = 0; k < 10; k += 2) {
        int val = 900 + k;
        hist[nh] = (rec_t){ .off = put1(l, k, val), .key = k, .val = val };
        nh++;
    }
    for (int k = 0; k < 30; k++) { hist[nh] = (rec_t){ .off = put1(l, 50 + k, k), .key = 50 + k, .val = k }; nh++; }
    upper = active_base();
    sm_plog_set_high_watermark(l, sm_plog_log_end_offset(l));
    int segs = sm_plog_segment_count(l);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 1, &st), 1);
    check_compacted(l, hist, nh, upper, 0);
    /* Small cleaned segments were merged into groups up to segment.bytes. */
    ck_assert_int_lt(st.segments_out, st.segments_in);
    ck_assert_int_lt(sm_plog_segment_count(l), segs);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_tombstones)
{
    sm_log_config_t c = compact_cfg(300);
    c.delete_retention_ms = 3600000;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    static rec_t hist[256];
    int nh = 0;
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 6; k++) { hist[nh] = (rec_t){ .off = put1(l, k, round * 10 + k), .key = k, .val = round * 10 + k }; nh++; }
    hist[nh] = (rec_t){ .off = put1(l, 1, -1), .key = 1, .val = -1 }; nh++;
    hist[nh] = (rec_t){ .off = put1(l, 4, -1), .key = 4, .val = -1 }; nh++;
    for (int k = 0; k < 12; k++) { hist[nh] = (rec_t){ .off = put1(l, 20 + k, k), .key = 20 + k, .val = k }; nh++; }
    int64_t upper = active_base();
    int64_t now = sm_now_ms();
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, now, 0, NULL), 1);
    /* First pass: tombstones were dirty, so they stay; old values of 1 and 4 go. */
    check_compacted(l, hist, nh, upper, 0);
    /* Within delete.retention.ms they stay. */
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, now + 1000, 1, NULL), 1);
    check_compacted(l, hist, nh, upper, 0);
    /* After it they go, with everything else unchanged. */
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, now + c.delete_retention_ms + 5000, 1, NULL), 1);
    check_compacted(l, hist, nh, upper, 1);
    static rec_t got[256];
    int n = read_all(l, got, 256, NULL);
    for (int i = 0; i < n; i++) ck_assert_msg(got[i].key != 1 && got[i].key != 4, "deleted key %d is back", got[i].key);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_compressed_batches)
{
    static const sm_codec_t codecs[] = { SM_CODEC_GZIP, SM_CODEC_SNAPPY, SM_CODEC_LZ4, SM_CODEC_ZSTD, SM_CODEC_NONE };
    sm_log_config_t c = compact_cfg(600);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    static rec_t hist[512];
    int nh = 0;
    for (int b = 0; b < 30; b++) {
        kv_t kv[4];
        for (int i = 0; i < 4; i++) kv[i] = (kv_t){ (b * 3 + i) % 7, b * 10 + i };
        int64_t first = append_kv(l, kv, 4, codecs[b % 5], 5000 + b * 10, -1, 0);
        for (int i = 0; i < 4; i++) { hist[nh] = (rec_t){ .off = first + i, .key = kv[i].key, .val = kv[i].val }; nh++; }
    }
    int64_t upper = active_base();
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 1);
    check_compacted(l, hist, nh, upper, 0);
    /* Rebuilt batches keep their codec, base offset and last offset. */
    static rec_t got[512];
    int n = read_all(l, got, 512, NULL);
    int partial = 0;
    for (int i = 0; i < n; i++) {
        int64_t b = got[i].batch_base / 4;
        ck_assert_int_eq(got[i].codec, codecs[b % 5]);
        ck_assert_int_eq(got[i].batch_base, b * 4);
        ck_assert_int_eq(got[i].batch_last, b * 4 + 3);
        if (got[i].batch_records < 4) partial++;
    }
    ck_assert_int_gt(partial, 0);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_active_segment_untouched)
{
    sm_log_config_t c = compact_cfg(1 << 20);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    for (int i = 0; i < 50; i++) put1(l, i % 3, i);
    int64_t before = dir_log_bytes();
    /* One (active) segment: nothing is cleanable, even when forced. */
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 1, NULL), 0);
    ck_assert_int_eq(dir_log_bytes(), before);
    static rec_t got[64];
    ck_assert_int_eq(read_all(l, got, 64, NULL), 50);
    sm_plog_close(l);

    /* Several segments: the active one is byte-identical after cleaning. */
    sm_rmtree(sm_test_tmpdir);
    ck_assert_int_eq(sm_mkdirs(sm_test_tmpdir, 0755), 0);
    c = compact_cfg(300);
    l = sm_test_open_plog(&c, 0);
    for (int i = 0; i < 60; i++) put1(l, i % 3, i);
    int64_t ab = active_base();
    char *p = sm_asprintf("%s/t-0/%020lld.log", sm_test_tmpdir, (long long)ab);
    size_t len1, len2;
    char *a1 = sm_read_file(p, 1 << 20, &len1);
    ck_assert_ptr_nonnull(a1);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 1);
    char *a2 = sm_read_file(p, 1 << 20, &len2);
    ck_assert_ptr_nonnull(a2);
    ck_assert_int_eq(len1, len2);
    ck_assert_int_eq(memcmp(a1, a2, len1), 0);
    ck_assert_int_eq(active_base(), ab);
    free(a1);
    free(a2);
    free(p);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_not_compacted_or_not_dirty)
{
    sm_log_config_t c = compact_cfg(300);
    c.cleanup_compact = 0;
    c.cleanup_delete = 1;
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    for (int i = 0; i < 60; i++) put1(l, i % 3, i);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 1, NULL), 0);
    /* min.compaction.lag.ms: records younger than the lag are not cleanable. */
    c.cleanup_compact = 1;
    c.min_compaction_lag_ms = 3600000;
    sm_plog_set_config(l, &c);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, 1000 + 60, 0, NULL), 0);
    /* High watermark: nothing above it is cleaned. */
    c.min_compaction_lag_ms = 0;
    sm_plog_set_config(l, &c);
    sm_plog_set_high_watermark(l, 0);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 0);
    sm_plog_set_high_watermark(l, sm_plog_log_end_offset(l));
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 1);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_producer_last_batch_kept_empty)
{
    sm_log_config_t c = compact_cfg(250);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    kv_t kv = { 1, 1 };
    int64_t o1 = append_kv(l, &kv, 1, SM_CODEC_NONE, 1000, 77, 0);   /* producer 77, superseded below */
    kv = (kv_t){ 2, 2 };
    int64_t o2 = append_kv(l, &kv, 1, SM_CODEC_NONE, 1000, 88, 0);   /* producer 88, superseded; not its last */
    kv = (kv_t){ 2, 3 };
    int64_t o3 = append_kv(l, &kv, 1, SM_CODEC_NONE, 1000, 88, 1);   /* producer 88's last batch */
    for (int i = 0; i < 20; i++) put1(l, i % 4, 100 + i);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 1);
    /* Producer 77's only batch lost its record but stays as an empty batch;
     * producer 88's older batch is gone entirely. */
    sm_log_region_t rg;
    ck_assert_int_eq(sm_plog_read(l, o1, sm_plog_log_end_offset(l), 1 << 20, 1, &rg), SM_ERR_NONE);
    uint8_t hb[SM_BATCH_HEADER_SIZE];
    sm_batch_hdr_t h;
    ck_assert_int_eq(pread(rg.file->fd, hb, sizeof(hb), rg.pos), (ssize_t)sizeof(hb));
    ck_assert_int_eq(sm_batch_header_decode(hb, sizeof(hb), &h), 0);
    ck_assert_int_eq(h.base_offset, o1);
    ck_assert_int_eq(h.record_count, 0);
    ck_assert_int_eq(h.producer_id, 77);
    ck_assert_int_eq(h.batch_length, SM_BATCH_HEADER_SIZE - SM_BATCH_LOG_OVERHEAD);
    ck_assert_int_eq(pread(rg.file->fd, hb, sizeof(hb), rg.pos + SM_BATCH_HEADER_SIZE), (ssize_t)sizeof(hb));
    ck_assert_int_eq(sm_batch_header_decode(hb, sizeof(hb), &h), 0);
    ck_assert_int_ne(h.base_offset, o2);
    ck_assert_int_eq(h.base_offset, o3);   /* key 2's value 3 is superseded too: an empty batch of 88 */
    ck_assert_int_eq(h.record_count, 0);
    sm_file_unref(rg.file);
    /* CRCs of the empty batches are right: recovery keeps them. */
    sm_plog_close(l);
    l = sm_plog_open(sm_test_tmpdir, "t", 0, &c, 0, 0, 1, errbuf, sizeof(errbuf));
    ck_assert_ptr_nonnull(l);
    int nempty = 0;
    static rec_t got[64];
    read_all(l, got, 64, &nempty);
    ck_assert_int_eq(nempty, 2);
    ck_assert_int_eq(sm_plog_log_end_offset(l), 23);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_offset_map_full)
{
    sm_log_config_t c = compact_cfg(2000);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    /* The smallest map: 1024 slots, full at 921 keys. */
    sm_cleaner_t *cl = new_cleaner(1);
    static rec_t hist[4096];
    int nh = 0;
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 1200; k += 4) {
            kv_t kv[4];
            for (int i = 0; i < 4; i++) kv[i] = (kv_t){ k + i, round * 10000 + k + i };
            int64_t first = append_kv(l, kv, 4, SM_CODEC_NONE, 1000, -1, 0);
            for (int i = 0; i < 4; i++) { hist[nh] = (rec_t){ .off = first + i, .key = kv[i].key, .val = kv[i].val }; nh++; }
        }
    }
    int64_t upper = active_base();
    sm_clean_stats_t st;
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, &st), 1);
    ck_assert_int_lt(st.end_offset, upper);
    ck_assert_int_eq(st.end_offset, 921);
    ck_assert_int_eq(sm_cleaner_first_dirty(cl, l), 921);
    /* Later passes pick up where the map ended. */
    for (int pass = 0; pass < 6 && sm_cleaner_first_dirty(cl, l) < upper; pass++)
        ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 1, NULL), 1);
    ck_assert_int_eq(sm_cleaner_first_dirty(cl, l), upper);
    check_compacted(l, hist, nh, upper, 0);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

START_TEST(t_reader_survives_swap)
{
    sm_log_config_t c = compact_cfg(400);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    sm_cleaner_t *cl = new_cleaner(1 << 20);
    for (int i = 0; i < 60; i++) put1(l, i % 5, i);
    sm_log_region_t rg;
    ck_assert_int_eq(sm_plog_read(l, 0, sm_plog_log_end_offset(l), 1 << 20, 1, &rg), SM_ERR_NONE);
    uint8_t *before = sm_malloc((size_t)rg.len);
    ck_assert_int_eq(pread(rg.file->fd, before, (size_t)rg.len, rg.pos), rg.len);
    ck_assert_int_eq(sm_cleaner_clean_log(cl, l, sm_now_ms(), 0, NULL), 1);
    /* The in-flight region still reads the old bytes (old inode kept). */
    uint8_t *after = sm_malloc((size_t)rg.len);
    ck_assert_int_eq(pread(rg.file->fd, after, (size_t)rg.len, rg.pos), rg.len);
    ck_assert_int_eq(memcmp(before, after, (size_t)rg.len), 0);
    sm_file_unref(rg.file);
    free(before);
    free(after);
    /* Appends continue after a swap. */
    int64_t o = put1(l, 1, 1000);
    ck_assert_int_eq(o, 60);
    sm_plog_close(l);
    sm_cleaner_free(cl);
}
END_TEST

static void
write_bytes(const char *path, const void *p, size_t n)
{
    ck_assert_int_eq(sm_write_file_atomic(path, p, n), 0);
}

START_TEST(t_recover_leftovers)
{
    sm_log_config_t c = compact_cfg(300);
    sm_plog_t *l = sm_test_open_plog(&c, 0);
    for (int i = 0; i < 40; i++) put1(l, i % 4, i);
    sm_plog_close(l);
    char *d = sm_asprintf("%s/t-0", sm_test_tmpdir);
    /* Segment bases in order. */
    int64_t bases[64];
    int nb = 0;
    for (int64_t b = 0; b < 40; b++) {
        char *p = sm_asprintf("%s/%020lld.log", d, (long long)b);
        if (access(p, F_OK) == 0) bases[nb++] = b;
        free(p);
    }
    ck_assert_int_ge(nb, 4);

    /* 1. A crash while writing: .cleaned files are garbage. */
    char *p = sm_asprintf("%s/%020lld.log.cleaned", d, (long long)bases[0]);
    write_bytes(p, "junk", 4);
    free(p);
    p = sm_asprintf("%s/%020lld.index.cleaned", d, (long long)bases[0]);
    write_bytes(p, "junk", 4);
    free(p);
    /* 2. A crash between the two renames: an index .swap without its .log.swap. */
    p = sm_asprintf("%s/%020lld.timeindex.swap", d, (long long)bases[1]);
    write_bytes(p, "junk", 4);
    free(p);
    l = sm_test_open_plog(&c, 0);
    static rec_t got[256];
    int n = read_all(l, got, 256, NULL);
    ck_assert_int_eq(n, 40);
    for (int i = 0; i < n; i++) ck_assert_int_eq(got[i].off, i);
    sm_plog_close(l);
    ck_assert_int_eq(count_temp_files(d), 0);

    /* 3. A crash after .cleaned -> .swap and some deletions: segment 0's
     * swap holds only the last batch of segment 1 (as if everything
     * before it was superseded); segment 1's index is already gone. */
    char *seg1 = sm_asprintf("%s/%020lld.log", d, (long long)bases[1]);
    size_t len;
    char *data = sm_read_file(seg1, 1 << 20, &len);
    ck_assert_ptr_nonnull(data);
    size_t pos = 0, lastpos = 0;
    sm_batch_hdr_t h;
    while (pos < len) {
        ck_assert_int_eq(sm_batch_header_decode((uint8_t *)data + pos, len - pos, &h), 0);
        lastpos = pos;
        pos += sm_batch_size(&h);
    }
    sm_batch_header_decode((uint8_t *)data + lastpos, len - lastpos, &h);
    int64_t kept_off = h.base_offset;
    p = sm_asprintf("%s/%020lld.log.swap", d, (long long)bases[0]);
    write_bytes(p, data + lastpos, len - lastpos);
    free(p);
    free(data);
    p = sm_asprintf("%s/%020lld.index", d, (long long)bases[1]);
    unlink(p);
    free(p);
    l = sm_test_open_plog(&c, 0);
    n = read_all(l, got, 256, NULL);
    ck_assert_int_eq(got[0].off, kept_off);
    ck_assert_int_eq(got[0].val, (int)kept_off);
    ck_assert_int_eq(kept_off, bases[2] - 1);
    ck_assert_int_eq(n, 40 - kept_off);
    for (int i = 1; i < n; i++) ck_assert_int_eq(got[i].off, got[i - 1].off + 1);
    ck_assert_int_eq(got[n - 1].off, 39);
    ck_assert_int_eq(access(seg1, F_OK), -1);   /* segment 1 was replaced */
    p = sm_asprintf("%s/%020lld.log.swap", d, (long long)bases[0]);
    ck_assert_int_eq(access(p, F_OK), -1);
    free(p);
    ck_assert_int_eq(count_temp_files(d), 0);
    sm_plog_close(l);
    free(seg1);
    free(d);
}
END_TEST

START_TEST(t_check_keys_and_config)
{
    sm_record_spec_t r[2];
    memset(r, 0, sizeof(r));
    r[0].key = SM_BYTES_STR("a");
    r[0].value = SM_BYTES_STR("x");
    r[1].key = SM_BYTES_NULL;
    r[1].value = SM_BYTES_STR("y");
    sm_wbuf_t w;
    sm_wbuf_init(&w, 128);
    ck_assert_int_eq(sm_batch_build(&w, 0, SM_CODEC_LZ4, r, 1), SM_ERR_NONE);
    ck_assert_int_eq(sm_cleaner_check_keys(w.data, w.len, 1 << 20), SM_ERR_NONE);
    sm_wbuf_reset(&w);
    ck_assert_int_eq(sm_batch_build(&w, 0, SM_CODEC_NONE, r, 2), SM_ERR_NONE);
    ck_assert_int_eq(sm_cleaner_check_keys(w.data, w.len, 1 << 20), SM_ERR_INVALID_RECORD);
    /* Truncated at every byte: an error, never a crash. */
    for (size_t k = 0; k < w.len; k++) ck_assert_int_ne(sm_cleaner_check_keys(w.data, k, 1 << 20), SM_ERR_NONE);
    sm_wbuf_free(&w);

    sm_log_config_t c;
    sm_log_config_defaults(&c);
    ck_assert_int_eq(c.delete_retention_ms, 86400000);
    ck_assert(c.min_cleanable_dirty_ratio == 0.5);
    ck_assert_int_eq(c.max_compaction_lag_ms, INT64_MAX);
    ck_assert_int_eq(sm_log_config_set(&c, "delete.retention.ms", "1000", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.delete_retention_ms, 1000);
    ck_assert_int_eq(sm_log_config_set(&c, "min.cleanable.dirty.ratio", "0.01", errbuf, sizeof(errbuf)), 1);
    ck_assert(c.min_cleanable_dirty_ratio == 0.01);
    ck_assert_int_eq(sm_log_config_set(&c, "min.compaction.lag.ms", "5", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.min_compaction_lag_ms, 5);
    ck_assert_int_eq(sm_log_config_set(&c, "max.compaction.lag.ms", "7", errbuf, sizeof(errbuf)), 1);
    ck_assert_int_eq(c.max_compaction_lag_ms, 7);
    ck_assert_int_eq(sm_log_config_set(&c, "min.cleanable.dirty.ratio", "1.5", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "min.cleanable.dirty.ratio", "nan", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "max.compaction.lag.ms", "0", errbuf, sizeof(errbuf)), -1);
    ck_assert_int_eq(sm_log_config_set(&c, "delete.retention.ms", "-1", errbuf, sizeof(errbuf)), -1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cleaner");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, sm_test_tmpdir_setup, sm_test_tmpdir_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_latest_value_per_key);
    tcase_add_test(tc, t_tombstones);
    tcase_add_test(tc, t_compressed_batches);
    tcase_add_test(tc, t_active_segment_untouched);
    tcase_add_test(tc, t_not_compacted_or_not_dirty);
    tcase_add_test(tc, t_producer_last_batch_kept_empty);
    tcase_add_test(tc, t_offset_map_full);
    tcase_add_test(tc, t_reader_survives_swap);
    tcase_add_test(tc, t_recover_leftovers);
    tcase_add_test(tc, t_check_keys_and_config);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}

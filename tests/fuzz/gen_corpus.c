/*
 * gen_corpus.c - writes the seed corpus of the fuzz targets
 * (tests/fuzz/corpus/{records,request,json,props}/) from our own encoders,
 * so the seeds are valid inputs that reach deep into each decoder.
 *
 * Usage: gen_corpus TOP_SRCDIR OUTDIR   (OUTDIR is usually
 * TOP_SRCDIR/tests/fuzz/corpus). Deterministic: re-running rewrites the
 * same files. Inputs found by fuzzing are added next to these by hand
 * (named find-*, crash-*) and are not touched here.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_conf.h"
#include "core/sm_util.h"
#include "proto/sm_proto.h"
#include "proto/sm_records.h"
#include "zk/sm_zk_codec.h"

static const char *outdir;
static int nfiles;

static void
put(const char *sub, const char *name, const void *data, size_t len)
{
    char *dir = sm_asprintf("%s/%s", outdir, sub);
    char *path = sm_asprintf("%s/%s", dir, name);
    if (sm_mkdirs(dir, 0755) < 0 || sm_write_file_atomic(path, data, len) < 0) {
        perror(path);
        exit(1);
    }
    nfiles++;
    free(path);
    free(dir);
}

static void
put_wbuf(const char *sub, const char *name, const sm_wbuf_t *w)
{
    put(sub, name, w->data, w->len);
}

/* ---- records -------------------------------------------------------- */

static void
gen_records(void)
{
    static const char *codec_names[] = { "none", "gzip", "snappy", "lz4", "zstd" };
    sm_bytes_t hk[2] = { SM_BYTES_STR("trace"), SM_BYTES_STR("n") };
    sm_bytes_t hv[2] = { SM_BYTES_STR("abc123"), SM_BYTES_NULL };
    sm_record_spec_t recs[3] = {
        { 1600000000000, SM_BYTES_STR("key-0"), SM_BYTES_STR("value zero"), 0, NULL, NULL },
        { 1600000000005, SM_BYTES_NULL, SM_BYTES_STR("v1 v1 v1 v1 v1 v1 v1 v1"), 2, hk, hv },
        { 1599999999990, SM_BYTES_STR("k2"), SM_BYTES_NULL, 0, NULL, NULL },
    };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    for (int c = SM_CODEC_NONE; c <= SM_CODEC_ZSTD; c++) {
        sm_wbuf_reset(&w);
        if (sm_batch_build(&w, 0, (sm_codec_t)c, recs, 3) != SM_ERR_NONE) { fprintf(stderr, "build failed\n"); exit(1); }
        char *name = sm_asprintf("valid-%s-3recs", codec_names[c]);
        put_wbuf("records", name, &w);
        free(name);
    }
    /* one record, empty key and value, base offset in the billions */
    sm_record_spec_t one = { 5, SM_BYTES_STR(""), SM_BYTES_STR(""), 0, NULL, NULL };
    sm_wbuf_reset(&w);
    sm_batch_build(&w, INT64_C(4000000000), SM_CODEC_NONE, &one, 1);
    put_wbuf("records", "valid-none-1rec-empty", &w);
    /* truncated in the records area and inside the header */
    sm_wbuf_reset(&w);
    sm_batch_build(&w, 0, SM_CODEC_NONE, recs, 3);
    put("records", "trunc-none-records", w.data, w.len - 7);
    put("records", "trunc-header", w.data, 40);
    /* bit flips: in a record length varint and in the attributes (codec 7) */
    uint8_t *flip = sm_malloc(w.len);
    memcpy(flip, w.data, w.len);
    flip[SM_BATCH_HEADER_SIZE] ^= 0x40;
    put("records", "flip-record-length", flip, w.len);
    memcpy(flip, w.data, w.len);
    flip[SM_BATCH_ATTR_OFFSET + 1] |= 0x07;
    put("records", "flip-codec-7", flip, w.len);
    memcpy(flip, w.data, w.len);
    flip[SM_BATCH_ATTR_OFFSET + 1] |= SM_ATTR_CONTROL;   /* control batch from a client */
    put("records", "flip-control", flip, w.len);
    free(flip);
    /* gzip batch whose compressed stream is cut short */
    sm_wbuf_reset(&w);
    sm_batch_build(&w, 0, SM_CODEC_GZIP, recs, 3);
    sm_put_be32(w.data + 8, (uint32_t)(w.len - 12 - 5));
    put("records", "trunc-gzip-stream", w.data, w.len - 5);
    sm_wbuf_free(&w);
}

/* ---- request frames -------------------------------------------------- */

static sm_wbuf_t batch;

static void
encode_body(sm_wbuf_t *w, int16_t key, int16_t ver)
{
    sm_bytes_t topic_names[] = { SM_BYTES_STR("t") };
    switch (key) {
    case SM_API_PRODUCE: {
        sm_produce_req_part_t part = { 0, { (int32_t)batch.len, batch.data } };
        sm_produce_req_topic_t t = { SM_BYTES_STR("t"), 1, &part };
        sm_produce_req_t q = { SM_BYTES_NULL, -1, 30000, 1, &t };
        sm_proto_encode_ProduceRequest(w, ver, &q);
        break;
    }
    case SM_API_FETCH: {
        sm_fetch_req_part_t part = { 0, 3, 42, -1, 1048576 };
        sm_fetch_req_topic_t t = { SM_BYTES_STR("t"), 1, &part };
        int32_t fp[] = { 1 };
        sm_fetch_forgotten_t fg = { SM_BYTES_STR("old"), 1, fp };
        sm_fetch_req_t q = { -1, 500, 1, 52428800, 1, 0, -1, 1, &t, 1, &fg, SM_BYTES_STR("rack-a") };
        sm_proto_encode_FetchRequest(w, ver, &q);
        break;
    }
    case SM_API_LISTOFFSETS: {
        sm_listoffsets_req_part_t part = { 0, -1, -1, 1 };
        sm_listoffsets_req_topic_t t = { SM_BYTES_STR("t"), 1, &part };
        sm_listoffsets_req_t q = { -1, 0, 1, &t };
        sm_proto_encode_ListOffsetsRequest(w, ver, &q);
        break;
    }
    case SM_API_METADATA: {
        sm_metadata_req_t q = { 1, topic_names, 1, 0, 0 };
        sm_proto_encode_MetadataRequest(w, ver, &q);
        break;
    }
    case SM_API_APIVERSIONS: {
        sm_apiversions_req_t q = { SM_BYTES_STR("samsa-fuzz"), SM_BYTES_STR("1.0") };
        sm_proto_encode_ApiVersionsRequest(w, ver, &q);
        break;
    }
    case SM_API_CREATETOPICS: {
        int32_t ids[] = { 1, 2 };
        sm_createtopics_assignment_t as = { 0, 2, ids };
        sm_config_kv_t cfg[] = { { SM_BYTES_STR("cleanup.policy"), SM_BYTES_STR("compact") },
                                 { SM_BYTES_STR("retention.ms"), SM_BYTES_NULL } };
        sm_createtopics_topic_t t[] = {
            { SM_BYTES_STR("t2"), 3, 1, 0, NULL, 2, cfg },
            { SM_BYTES_STR("t3"), -1, -1, 1, &as, 0, NULL },
        };
        sm_createtopics_req_t q = { 2, t, 30000, 0 };
        sm_proto_encode_CreateTopicsRequest(w, ver, &q);
        break;
    }
    case SM_API_DELETETOPICS: {
        sm_deletetopics_req_t q = { 1, topic_names, 30000 };
        sm_proto_encode_DeleteTopicsRequest(w, ver, &q);
        break;
    }
    case SM_API_CREATEPARTITIONS: {
        int32_t ids[] = { 3 };
        sm_createpartitions_assignment_t as = { 1, ids };
        sm_createpartitions_topic_t t[] = { { SM_BYTES_STR("t"), 4, -1, NULL }, { SM_BYTES_STR("u"), 2, 1, &as } };
        sm_createpartitions_req_t q = { 2, t, 30000, 1 };
        sm_proto_encode_CreatePartitionsRequest(w, ver, &q);
        break;
    }
    case SM_API_DESCRIBECONFIGS: {
        sm_bytes_t keys[] = { SM_BYTES_STR("retention.ms") };
        sm_describeconfigs_resource_t res[] = { { 2, SM_BYTES_STR("t"), -1, NULL },
                                                { 4, SM_BYTES_STR("0"), 1, keys } };
        sm_describeconfigs_req_t q = { 2, res, 1 };
        sm_proto_encode_DescribeConfigsRequest(w, ver, &q);
        break;
    }
    }
}

static void
put_request(int16_t key, int16_t ver)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_req_hdr_t h = { key, ver, 1000 + key, SM_BYTES_STR("fuzz-client"), 0 };
    sm_proto_encode_RequestHeader(&w, &h);
    encode_body(&w, key, ver);
    char *name = sm_asprintf("enc-%s-v%d", sm_api_name(key), ver);
    put_wbuf("request", name, &w);
    free(name);
    sm_wbuf_free(&w);
}

/* Split captured client streams (size-prefixed frames) into single frames. */
static void
split_captures(const char *top)
{
    char *dir = sm_asprintf("%s/tests/data/frames", top);
    DIR *d = opendir(dir);
    if (!d) { free(dir); return; }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".bin")) continue;
        char *path = sm_asprintf("%s/%s", dir, e->d_name);
        size_t len;
        char *data = sm_read_file(path, 1 << 20, &len);
        free(path);
        if (!data) continue;
        size_t off = 0;
        int i = 0;
        while (off + 4 <= len) {
            uint32_t n = sm_be32((const uint8_t *)data + off);
            if (n > len - off - 4) break;
            char *name = sm_asprintf("cap-%.*s-%d", (int)(nl - 4), e->d_name, i++);
            put("request", name, data + off + 4, n);
            free(name);
            off += 4 + n;
        }
        free(data);
    }
    closedir(d);
    free(dir);
}

static void
gen_requests(const char *top)
{
    sm_record_spec_t rec = { 1600000000000, SM_BYTES_STR("k"), SM_BYTES_STR("v"), 0, NULL, NULL };
    sm_wbuf_init(&batch, 128);
    sm_batch_build(&batch, 0, SM_CODEC_NONE, &rec, 1);
    static const int16_t keys[] = { SM_API_PRODUCE, SM_API_FETCH, SM_API_LISTOFFSETS, SM_API_METADATA,
                                    SM_API_APIVERSIONS, SM_API_CREATETOPICS, SM_API_DELETETOPICS,
                                    SM_API_CREATEPARTITIONS, SM_API_DESCRIBECONFIGS };
    for (size_t i = 0; i < SM_ARRAY_SIZE(keys); i++) {
        int16_t lo, hi;
        if (sm_proto_codec_range(keys[i], &lo, &hi) < 0) continue;
        put_request(keys[i], lo);
        if (hi != lo) put_request(keys[i], hi);
    }
    /* an unknown api key and an ApiVersions version above the maximum */
    static const uint8_t unknown[] = { 0x03, 0xe7, 0, 1, 0, 0, 0, 9, 0, 1, 'x', 1, 2, 3 };
    put("request", "hand-unknown-key", unknown, sizeof(unknown));
    static const uint8_t apiv_hi[] = { 0, 18, 0, 99, 0, 0, 0, 1, 0xff, 0xff, 0 };
    put("request", "hand-apiversions-v99", apiv_hi, sizeof(apiv_hi));
    split_captures(top);
    sm_wbuf_free(&batch);
}

/* ---- znode JSON ------------------------------------------------------ */

static void
gen_json(void)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    char *eps[] = { "PLAINTEXT://broker-1.example:9092", "SSL://broker-1.example:9093" };
    char *lst[] = { "PLAINTEXT", "SSL" };
    char *hosts[] = { "broker-1.example", "broker-1.example" };
    int32_t ports[] = { 9092, 9093 };
    sm_broker_info_t b = { 1, "broker-1.example", 9092, "rack-\xc3\xa9", 2, eps, lst, hosts, ports,
                           1600000000000, -1, 0 };
    sm_zk_encode_broker(&w, &b, 5);
    put_wbuf("json", "broker-v5", &w);
    sm_wbuf_reset(&w);
    b.rack = NULL;
    b.nendpoints = 1;
    sm_zk_encode_broker(&w, &b, 4);
    put_wbuf("json", "broker-v4", &w);

    int32_t r0[] = { 1, 2, 3 }, r1[] = { 2, 3, 1 };
    int32_t nr[] = { 3, 3 };
    int32_t *reps[] = { r0, r1 };
    sm_topic_assignment_t a = { 2, nr, reps, NULL };
    sm_wbuf_reset(&w);
    sm_zk_encode_assignment(&w, &a);
    put_wbuf("json", "assignment", &w);

    int32_t isr[] = { 1, 2 };
    sm_partition_state_t st = { 3, 1, 7, 2, isr, 0 };
    sm_wbuf_reset(&w);
    sm_zk_encode_partition_state(&w, &st);
    put_wbuf("json", "partition-state", &w);

    sm_props_t p;
    sm_props_init(&p);
    sm_props_set(&p, "retention.ms", "86400000");
    sm_props_set(&p, "cleanup.policy", "compact,delete");
    sm_props_set(&p, "message.\"quoted\"", "tab\there");
    sm_wbuf_reset(&w);
    sm_zk_encode_config(&w, &p);
    put_wbuf("json", "config", &w);
    sm_props_free(&p);

    sm_wbuf_reset(&w);
    sm_zk_encode_controller(&w, 2, 1600000000000);
    put_wbuf("json", "controller", &w);
    sm_wbuf_reset(&w);
    sm_zk_encode_cluster_id(&w, "AbCdEfGhIjKlMnOpQrStUv");
    put_wbuf("json", "cluster-id", &w);
    sm_wbuf_reset(&w);
    sm_zk_encode_config_change(&w, "topics", "t");
    put_wbuf("json", "config-change-v2", &w);
    static const char v1[] = "{\"version\":1,\"entity_type\":\"topics\",\"entity_name\":\"t\"}";
    put("json", "config-change-v1", v1, sizeof(v1) - 1);
    /* Kafka 2.8 topic znode with a topic id and adding/removing replicas */
    static const char t3[] =
        "{\"version\":3,\"topic_id\":\"q1w2e3r4T5y6u7i8o9p0aA\",\"partitions\":{\"0\":[1,2],\"1\":[2,1]},"
        "\"adding_replicas\":{},\"removing_replicas\":{}}";
    put("json", "assignment-v3", t3, sizeof(t3) - 1);
    static const char odd[] =
        " [ {\"a\\u00e9\\ud83d\\ude00\":[-0.5e-3, 1E+2, true, false, null, \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]},"
        " {}, [], [[[[1]]]], \"12345678901234567890\", 9007199254740993 ] ";
    put("json", "misc-values", odd, sizeof(odd) - 1);
    sm_wbuf_free(&w);
}

/* ---- properties -------------------------------------------------------- */

static void
gen_props(const char *top)
{
    char *path = sm_asprintf("%s/conf/server.properties", top);
    size_t len;
    char *text = sm_read_file(path, 1 << 20, &len);
    if (text) put("props", "server.properties", text, len);
    free(text);
    free(path);
    static const char tricky[] =
        "# comment \\\n"
        "! other comment\n"
        "  listeners = PLAINTEXT://:9092,\\\n"
        "              SSL://:9093\n"
        "key\\ with\\:odd\\=chars : v\\u00e9\\t\\n\n"
        "log.dirs /a,/b\n"
        "empty=\n"
        "novalue\n"
        "num.partitions=3\n"
        "num.partitions=4\n"
        "last=\\\n";
    put("props", "tricky.properties", tricky, sizeof(tricky) - 1);
    static const char crlf[] = "broker.id=1\r\nzookeeper.connect=localhost:2181/samsa\r\ncont=a\\\r\n  b\r\n";
    put("props", "crlf.properties", crlf, sizeof(crlf) - 1);
    static const char bad[] = "good=1\n  = no key\n";
    put("props", "missing-key.properties", bad, sizeof(bad) - 1);
    static const char esc[] = "\\u0041\\u00\\uZZZZ=\\\\\\\n\\";
    put("props", "bad-escapes.properties", esc, sizeof(esc) - 1);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s TOP_SRCDIR OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[2];
    gen_records();
    gen_requests(argv[1]);
    gen_json();
    gen_props(argv[1]);
    printf("gen_corpus: wrote %d files under %s\n", nfiles, outdir);
    return 0;
}

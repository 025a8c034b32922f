/*
 * fuzz_json.c - libFuzzer entry point for the JSON DOM (core/sm_json.h) and
 * every znode decoder built on it (zk/sm_zk_codec.h).
 *
 * The input is a znode payload. It is parsed and walked with every getter,
 * then given to each znode decoder. Invariant checked (abort on violation):
 * whatever a znode decoder accepts, its encoder writes, and the decoder
 * accepts that output again with the same values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_buf.h"
#include "core/sm_conf.h"
#include "core/sm_json.h"
#include "zk/sm_zk_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_json: %s\n", what);
    abort();
}

static void
walk(const sm_json_t *j, int depth)
{
    for (; j; j = j->next) {
        int64_t v;
        (void)sm_json_int(j, &v);
        if (j->key) (void)strlen(j->key);
        if (j->type == SM_JSON_STRING) (void)strlen(j->str);
        if (j->type == SM_JSON_OBJECT || j->type == SM_JSON_ARRAY) {
            size_t n = 0;
            for (const sm_json_t *c = j->child; c; c = c->next) n++;
            if (n != j->count) fail("child count mismatch");
            if (j->type == SM_JSON_OBJECT && j->child) (void)sm_json_get(j, j->child->key);
            if (j->type == SM_JSON_ARRAY && n && sm_json_at(j, n - 1) == NULL) fail("sm_json_at");
            walk(j->child, depth + 1);
        }
    }
}

static void
check_broker(const char *s, size_t n)
{
    sm_broker_info_t b, b2;
    if (sm_zk_decode_broker(s, n, 7, &b) != 0) return;
    for (int version = 4; version <= 5; version++) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        sm_zk_encode_broker(&w, &b, version);
        if (sm_zk_decode_broker((const char *)w.data, w.len, 7, &b2) != 0) fail("broker re-decode");
        if (b2.id != b.id || b2.nendpoints != b.nendpoints) fail("broker fields");
        /* Only a resolved host/port must survive: with none, the encoder's
         * derived listener map may resolve one on re-decode. */
        if (b.host && (!b2.host || strcmp(b.host, b2.host) || b2.port != b.port)) fail("broker host/port");
        sm_broker_info_free(&b2);
        sm_wbuf_free(&w);
    }
    sm_broker_info_free(&b);
}

static void
check_assignment(const char *s, size_t n)
{
    sm_topic_assignment_t a, a2;
    if (sm_zk_decode_assignment(s, n, &a) != 0) return;
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_assignment(&w, &a);
    if (sm_zk_decode_assignment((const char *)w.data, w.len, &a2) != 0) fail("assignment re-decode");
    if (a2.npartitions != a.npartitions) fail("assignment partition count");
    for (int32_t p = 0; p < a.npartitions; p++) {
        if (a2.nreplicas[p] != a.nreplicas[p]) fail("assignment replica count");
        if (a.nreplicas[p] && memcmp(a2.replicas[p], a.replicas[p], sizeof(int32_t) * (size_t)a.nreplicas[p]))
            fail("assignment replicas");
    }
    sm_topic_assignment_free(&a2);
    sm_topic_assignment_free(&a);
    sm_wbuf_free(&w);
}

static void
check_state(const char *s, size_t n)
{
    sm_partition_state_t st, st2;
    if (sm_zk_decode_partition_state(s, n, &st) != 0) return;
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_partition_state(&w, &st);
    if (sm_zk_decode_partition_state((const char *)w.data, w.len, &st2) != 0) fail("state re-decode");
    if (st2.leader != st.leader || st2.leader_epoch != st.leader_epoch ||
        st2.controller_epoch != st.controller_epoch || st2.nisr != st.nisr)
        fail("state fields");
    if (st.nisr && memcmp(st.isr, st2.isr, sizeof(int32_t) * (size_t)st.nisr)) fail("state isr");
    sm_partition_state_free(&st2);
    sm_partition_state_free(&st);
    sm_wbuf_free(&w);
}

static void
check_config(const char *s, size_t n)
{
    sm_props_t p, p2;
    if (sm_zk_decode_config(s, n, &p) != 0) { sm_props_free(&p); return; }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_config(&w, &p);
    if (sm_zk_decode_config((const char *)w.data, w.len, &p2) != 0) fail("config re-decode");
    if (p2.n != p.n) fail("config entry count");
    for (size_t i = 0; i < p.n; i++) {
        const char *v = sm_props_get(&p2, p.items[i].key);
        if (!v || strcmp(v, p.items[i].value)) fail("config value");
    }
    sm_props_free(&p2);
    sm_props_free(&p);
    sm_wbuf_free(&w);
}

static void
check_small(const char *s, size_t n)
{
    int32_t id = 0, id2 = 0;
    if (sm_zk_decode_controller(s, n, &id) == 0) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 64);
        sm_zk_encode_controller(&w, id, 1600000000000);
        if (sm_zk_decode_controller((const char *)w.data, w.len, &id2) != 0 || id2 != id) fail("controller");
        sm_wbuf_free(&w);
    }
    char *cid = NULL, *cid2 = NULL;
    if (sm_zk_decode_cluster_id(s, n, &cid) == 0) {
        sm_wbuf_t w;
        sm_wbuf_init(&w, 64);
        sm_zk_encode_cluster_id(&w, cid);
        if (sm_zk_decode_cluster_id((const char *)w.data, w.len, &cid2) != 0 || strcmp(cid, cid2)) fail("cluster id");
        free(cid2);
        free(cid);
        sm_wbuf_free(&w);
    }
    char *et = NULL, *en = NULL;
    if (sm_zk_decode_config_change(s, n, &et, &en) == 0) {
        free(et);
        free(en);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char err[128];
    sm_json_t *j = sm_json_parse(s, size, err, sizeof(err));
    if (j) {
        walk(j, 0);
        sm_json_free(j);
    }
    check_broker(s, size);
    check_assignment(s, size);
    check_state(s, size);
    check_config(s, size);
    check_small(s, size);
    return 0;
}

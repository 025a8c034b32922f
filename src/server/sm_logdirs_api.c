/*
 * sm_logdirs_api.c - DescribeLogDirs (35) v0-1: every configured log
 * directory with the size of each hosted partition log in it (all
 * partitions for a null topic list, else the requested ones), as Kafka's
 * ReplicaManager.describeLogDirs. Samsa has no future (AlterReplicaLogDirs)
 * logs, so is_future_key is always false and offset_lag is
 * max(HW - LEO, 0) of the current log. Answered on the network thread:
 * sizes come from the in-memory segment list.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "proto/sm_proto_logdirs.h"
#include "server/sm_server.h"

typedef struct {
    int dir;
    char *topic;
    int32_t partition;
    int64_t size, lag;
} ld_ent_t;

typedef struct {
    const sm_describelogdirs_req_t *req;
    ld_ent_t *v;
    int n, cap;
} ld_collect_t;

/* Length of dir without trailing slashes. */
static size_t
dir_len(const char *d, size_t n)
{
    while (n > 1 && d[n - 1] == '/') n--;
    return n;
}

/* Index of the configured log dir holding partition directory pdir. */
static int
dir_index(const char *pdir)
{
    const char *slash = strrchr(pdir, '/');
    if (!slash) return 0;
    size_t plen = dir_len(pdir, (size_t)(slash - pdir));
    for (int i = 0; i < sm_srv.cfg.ndirs; i++) {
        const char *d = sm_srv.cfg.dirs[i];
        size_t dl = dir_len(d, strlen(d));
        if (dl == plen && !memcmp(d, pdir, dl)) return i;
    }
    return 0;
}

static int
wanted(const sm_describelogdirs_req_t *req, const char *topic, int32_t partition)
{
    if (req->n_topics < 0) return 1;
    size_t tl = strlen(topic);
    for (int32_t i = 0; i < req->n_topics; i++) {
        const sm_describelogdirs_req_topic_t *t = &req->topics[i];
        if ((size_t)t->topic.len != tl || memcmp(t->topic.ptr, topic, tl)) continue;
        for (int32_t j = 0; j < t->n_partitions; j++)
            if (t->partitions[j] == partition) return 1;
    }
    return 0;
}

/* Under the log manager's lock: only reads of the log itself here. */
static void
collect(sm_plog_t *l, void *arg)
{
    ld_collect_t *c = arg;
    const char *topic = sm_plog_topic(l);
    int32_t partition = sm_plog_partition(l);
    if (!wanted(c->req, topic, partition)) return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->v = sm_realloc(c->v, (size_t)c->cap * sizeof(*c->v));
    }
    ld_ent_t *e = &c->v[c->n++];
    e->dir = dir_index(sm_plog_dir(l));
    e->topic = sm_strdup(topic);
    e->partition = partition;
    e->size = sm_plog_size_bytes(l);
    int64_t lag = sm_plog_high_watermark(l) - sm_plog_log_end_offset(l);
    e->lag = lag > 0 ? lag : 0;
}

static int
cmp_ent(const void *a, const void *b)
{
    const ld_ent_t *x = a, *y = b;
    if (x->dir != y->dir) return x->dir < y->dir ? -1 : 1;
    int c = strcmp(x->topic, y->topic);
    if (c) return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

void
sm_handle_DescribeLogDirs(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_describelogdirs_req_t req;
    if (sm_proto_decode_DescribeLogDirsRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed DescribeLogDirs request");
        return;
    }
    ld_collect_t col = { &req, NULL, 0, 0 };
    if (sm_srv.logs) sm_logmgr_foreach(sm_srv.logs, collect, &col);
    if (col.n > 1) qsort(col.v, (size_t)col.n, sizeof(*col.v), cmp_ent);

    int ndirs = sm_srv.cfg.ndirs > 0 ? sm_srv.cfg.ndirs : 1;
    sm_describelogdirs_resp_t resp = { 0 };
    resp.n_results = sm_srv.cfg.ndirs;
    resp.results = sm_arena_calloc(a, (size_t)ndirs, sizeof(*resp.results));
    int k = 0;
    for (int d = 0; d < sm_srv.cfg.ndirs; d++) {
        sm_describelogdirs_result_t *res = &resp.results[d];
        /* Kafka reports absolute paths. */
        char abs[PATH_MAX];
        const char *path = realpath(sm_srv.cfg.dirs[d], abs) ? abs : sm_srv.cfg.dirs[d];
        char *copy = sm_arena_alloc(a, strlen(path) + 1);
        memcpy(copy, path, strlen(path) + 1);
        res->log_dir = SM_BYTES_STR(copy);
        int first = k, ntopics = 0;
        for (int i = k; i < col.n && col.v[i].dir == d; i++)
            if (i == first || strcmp(col.v[i].topic, col.v[i - 1].topic)) ntopics++;
        res->n_topics = ntopics;
        res->topics = sm_arena_calloc(a, (size_t)(ntopics ? ntopics : 1), sizeof(*res->topics));
        int t = -1;
        for (; k < col.n && col.v[k].dir == d; k++) {
            if (k == first || strcmp(col.v[k].topic, col.v[k - 1].topic)) {
                t++;
                int np = 0;
                for (int j = k; j < col.n && col.v[j].dir == d && !strcmp(col.v[j].topic, col.v[k].topic); j++) np++;
                res->topics[t].name = SM_BYTES_STR(col.v[k].topic);
                res->topics[t].partitions = sm_arena_calloc(a, (size_t)np, sizeof(*res->topics[t].partitions));
            }
            sm_describelogdirs_topic_t *ot = &res->topics[t];
            sm_describelogdirs_part_t *op = &ot->partitions[ot->n_partitions++];
            op->partition_index = col.v[k].partition;
            op->partition_size = col.v[k].size;
            op->offset_lag = col.v[k].lag;
            op->is_future_key = 0;
        }
    }
    sm_resp_t *out = sm_response_start(h);
    sm_proto_encode_DescribeLogDirsResponse(sm_resp_wbuf(out), h->api_version, &resp);
    for (int i = 0; i < col.n; i++) free(col.v[i].topic);
    free(col.v);
    sm_conn_respond(c, out);
}

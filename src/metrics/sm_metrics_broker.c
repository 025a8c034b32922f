/*
 * sm_metrics_broker.c - the broker's metrics glue (see sm_metrics_broker.h):
 * endpoint life cycle, request timing hook, and the gauges read from the
 * replica manager, controller, metadata cache, log manager and network at
 * scrape time.
 *
 * Scrapes run on the endpoint's thread. Gauges are computed there, from
 * the managers' own thread-safe accessors: logs are listed under the log
 * manager's lock (copying what is needed), then each partition's role is
 * read through a replica-manager reference, so no two managers' locks are
 * ever held together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "core/sm_util.h"
#include "metrics/sm_metrics.h"
#include "metrics/sm_metrics_broker.h"
#include "metrics/sm_metrics_http.h"
#include "server/sm_server.h"
#include "zk/sm_ctrl.h"

static sm_metrics_http_t *endpoint;

void
sm_metrics_broker_request_done(sm_conn_t *c)
{
    sm_conn_ctx_t *ctx = sm_conn_data(c);
    if (ctx) sm_metrics_request_end(&ctx->metrics);
}

int
sm_metrics_broker_start(char *errstr, size_t errlen)
{
    sm_net_set_finish_hook(sm_metrics_broker_request_done);
    const sm_broker_config_t *cfg = &sm_srv.cfg;
    if (!cfg->metrics_host) return 0;
    sm_metrics_http_config_t hc = { 0 };
    hc.host = cfg->metrics_host;
    hc.port = cfg->metrics_port;
    hc.render = sm_metrics_broker_render;
    endpoint = sm_metrics_http_start(&hc, errstr, errlen);
    return endpoint ? 0 : -1;
}

void
sm_metrics_broker_stop(void)
{
    sm_metrics_http_stop(endpoint);
    endpoint = NULL;
}

int
sm_metrics_broker_port(void)
{
    return endpoint ? sm_metrics_http_port(endpoint) : -1;
}

/* ---- logs and replicas ---- */

typedef struct {
    char *topic;
    int32_t partition;
    int64_t size, leo, lso;
    int nsegs;
} plog_info_t;

typedef struct {
    plog_info_t *v;
    size_t n, cap;
} plog_list_t;

static void
collect_log(sm_plog_t *l, void *arg)
{
    plog_list_t *pl = arg;
    if (pl->n == pl->cap) {
        pl->cap = pl->cap ? pl->cap * 2 : 64;
        pl->v = sm_realloc(pl->v, pl->cap * sizeof(*pl->v));
    }
    plog_info_t *e = &pl->v[pl->n++];
    e->topic = sm_strdup(sm_plog_topic(l));
    e->partition = sm_plog_partition(l);
    e->size = sm_plog_size_bytes(l);
    e->leo = sm_plog_log_end_offset(l);
    e->lso = sm_plog_log_start_offset(l);
    e->nsegs = sm_plog_segment_count(l);
}

static int
cmp_plog(const void *a, const void *b)
{
    const plog_info_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static void
render_replicas(sm_wbuf_t *w)
{
    plog_list_t pl = { 0 };
    if (sm_srv.logs) sm_logmgr_foreach(sm_srv.logs, collect_log, &pl);
    if (pl.n) qsort(pl.v, pl.n, sizeof(*pl.v), cmp_plog);

    int64_t partitions = 0, leaders = 0, urp = 0, under_min = 0, at_min = 0;
    for (size_t i = 0; i < pl.n && sm_srv.replicas; i++) {
        sm_partition_t *p = sm_replica_get(sm_srv.replicas, pl.v[i].topic, strlen(pl.v[i].topic), pl.v[i].partition);
        if (!p) continue;
        pthread_mutex_lock(&p->lock);
        if (!p->deleted) {
            partitions++;
            if (p->is_leader) {
                leaders++;
                if (p->nisr < p->nreplicas) urp++;
                if (p->nisr < p->min_insync_replicas) under_min++;
                else if (p->nisr == p->min_insync_replicas) at_min++;
            }
        }
        pthread_mutex_unlock(&p->lock);
        sm_partition_unref(p);
    }
    static const struct { const char *name, *help; } g[] = {
        { "kafka_server_replicamanager_partitioncount", "Partitions hosted by this broker (PartitionCount)" },
        { "kafka_server_replicamanager_leadercount", "Partitions this broker leads (LeaderCount)" },
        { "kafka_server_replicamanager_underreplicatedpartitions",
          "Led partitions whose ISR is smaller than their replica set (UnderReplicatedPartitions)" },
        { "kafka_server_replicamanager_underminisrpartitioncount",
          "Led partitions whose ISR is below min.insync.replicas (UnderMinIsrPartitionCount)" },
        { "kafka_server_replicamanager_atminisrpartitioncount",
          "Led partitions whose ISR is exactly min.insync.replicas (AtMinIsrPartitionCount)" },
        { "kafka_server_replicamanager_offlinereplicacount",
          "Replicas on offline log directories (OfflineReplicaCount; a failed log directory stops the broker, so 0)" },
    };
    int64_t vals[] = { partitions, leaders, urp, under_min, at_min, 0 };
    for (size_t i = 0; i < SM_ARRAY_SIZE(g); i++) {
        sm_prom_family(w, g[i].name, "gauge", g[i].help);
        sm_prom_i64(w, g[i].name, NULL, 0, vals[i]);
    }

    if (sm_srv.cfg.metrics_per_partition) {
        static const struct { const char *name, *help; size_t off; int is_int; } lg[] = {
            { "kafka_log_log_size", "Bytes of the partition's segments (Log Size)", offsetof(plog_info_t, size), 0 },
            { "kafka_log_log_logendoffset", "Next offset to be assigned (LogEndOffset)", offsetof(plog_info_t, leo), 0 },
            { "kafka_log_log_logstartoffset", "First offset still in the log (LogStartOffset)", offsetof(plog_info_t, lso), 0 },
            { "kafka_log_log_numlogsegments", "Segments of the partition (NumLogSegments)", offsetof(plog_info_t, nsegs), 1 },
        };
        for (size_t f = 0; f < SM_ARRAY_SIZE(lg); f++) {
            sm_prom_family(w, lg[f].name, "gauge", lg[f].help);
            for (size_t i = 0; i < pl.n; i++) {
                char part[16];
                snprintf(part, sizeof(part), "%d", pl.v[i].partition);
                sm_prom_label_t l[2] = { { "topic", pl.v[i].topic }, { "partition", part } };
                const char *base = (const char *)&pl.v[i];
                int64_t v = lg[f].is_int ? *(const int *)(base + lg[f].off) : *(const int64_t *)(base + lg[f].off);
                sm_prom_i64(w, lg[f].name, l, 2, v);
            }
        }
    }
    for (size_t i = 0; i < pl.n; i++) free(pl.v[i].topic);
    free(pl.v);
}

/* ---- controller (metadata cache read lock held) ---- */

static void
render_controller(sm_wbuf_t *w, sm_metadata_t *md)
{
    sm_ctrl_t *ctrl = __atomic_load_n(&sm_srv.ctrl, __ATOMIC_ACQUIRE);
    int active = ctrl && sm_ctrl_is_active(ctrl);
    int64_t offline = 0, topics = 0, partitions = 0;
    /* Like Kafka, only the active controller reports the cluster-wide
     * counts; the others report 0 so that sums over brokers stay right. */
    if (active && md) {
        for (sm_md_topic_t *t = sm_metadata_next_topic(md, NULL); t; t = sm_metadata_next_topic(md, t)) {
            topics++;
            for (int32_t i = 0; i < t->npartitions; i++) {
                if (!t->partitions[i].present) continue;
                partitions++;
                if (t->partitions[i].leader < 0) offline++;
            }
        }
    }
    sm_prom_family(w, "kafka_controller_kafkacontroller_activecontrollercount", "gauge",
                   "1 on the active controller, else 0 (ActiveControllerCount); the cluster sum must be 1");
    sm_prom_i64(w, "kafka_controller_kafkacontroller_activecontrollercount", NULL, 0, active);
    sm_prom_family(w, "kafka_controller_kafkacontroller_offlinepartitionscount", "gauge",
                   "Partitions without a live leader, on the active controller (OfflinePartitionsCount)");
    sm_prom_i64(w, "kafka_controller_kafkacontroller_offlinepartitionscount", NULL, 0, offline);
    sm_prom_family(w, "kafka_controller_kafkacontroller_globaltopiccount", "gauge",
                   "Topics in the cluster, on the active controller (GlobalTopicCount)");
    sm_prom_i64(w, "kafka_controller_kafkacontroller_globaltopiccount", NULL, 0, topics);
    sm_prom_family(w, "kafka_controller_kafkacontroller_globalpartitioncount", "gauge",
                   "Partitions in the cluster, on the active controller (GlobalPartitionCount)");
    sm_prom_i64(w, "kafka_controller_kafkacontroller_globalpartitioncount", NULL, 0, partitions);
}

/* ---- network ---- */

static void
render_network(sm_wbuf_t *w)
{
    sm_prom_label_t l = { "listener", "PLAINTEXT" };
    sm_prom_family(w, "kafka_server_socket_server_metrics_connection_count", "gauge", "Open client connections");
    sm_prom_i64(w, "kafka_server_socket_server_metrics_connection_count", &l, 1, sm_net_connection_count());
    sm_prom_family(w, "kafka_server_socket_server_metrics_connection_creation_total", "counter", "Accepted client connections");
    sm_prom_u64(w, "kafka_server_socket_server_metrics_connection_creation_total", &l, 1, sm_net_connections_accepted());
    sm_prom_family(w, "samsa_network_sendfile_calls_total", "counter", "sendfile(2) calls sending record data");
    sm_prom_u64(w, "samsa_network_sendfile_calls_total", NULL, 0, sm_net_sendfile_calls());
    sm_prom_family(w, "samsa_network_sendfile_bytes_total", "counter", "Bytes sent with sendfile(2)");
    sm_prom_u64(w, "samsa_network_sendfile_bytes_total", NULL, 0, sm_net_sendfile_bytes());
    sm_prom_label_t op = { "delayedOperation", "Fetch" };
    sm_prom_family(w, "kafka_server_delayedoperationpurgatory_purgatorysize", "gauge",
                   "Requests waiting (long-poll fetches) (PurgatorySize)");
    sm_prom_i64(w, "kafka_server_delayedoperationpurgatory_purgatorysize", &op, 1,
                __atomic_load_n(&sm_srv.parked_fetches, __ATOMIC_RELAXED));
}

static int
topic_exists(const char *topic, void *arg)
{
    return sm_metadata_topic(arg, topic, strlen(topic)) != NULL;
}

void
sm_metrics_broker_render(sm_wbuf_t *w, void *arg)
{
    char id[16];
    snprintf(id, sizeof(id), "%d", sm_srv.cfg.broker_id);
    sm_prom_label_t info[3] = { { "broker_id", id }, { "cluster_id", sm_srv.cluster_id ? sm_srv.cluster_id : "" },
                                { "version", PACKAGE_VERSION } };
    sm_prom_family(w, "samsa_broker_info", "gauge", "Broker identity; always 1");
    sm_prom_i64(w, "samsa_broker_info", info, 3, 1);

    sm_metadata_t *md = sm_srv.metadata;
    if (md) sm_metadata_rdlock(md);
    sm_metrics_render_counters(w, sm_mono_ms(), md ? topic_exists : NULL, md);
    render_controller(w, md);
    if (md) sm_metadata_unlock(md);
    render_replicas(w);
    render_network(w);
    sm_metrics_render_process(w);
}

/*
 * sm_tool_zk.c - ZooKeeper access for the admin tools (see sm_tool_zk.h).
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_zk.h"
#include "zk/sm_zk_admin.h"
#include "zk/sm_zk_codec.h"

/* zookeeper.connect of the first broker that answers DescribeConfigs. */
static char *
zk_from_broker(const char *bootstrap, int timeout_ms, char *errstr, size_t errlen)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errlen, "%s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        snprintf(errstr, errlen, "%s", err);
        return NULL;
    }
    char *out = NULL;
    const rd_kafka_metadata_t *md = NULL;
    if (rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR || md->broker_cnt == 0) {
        snprintf(errstr, errlen, "Timed out waiting for a node assignment.");
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return NULL;
    }
    char id[16];
    snprintf(id, sizeof id, "%d", md->brokers[0].id);
    rd_kafka_metadata_destroy(md);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, id);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
    const rd_kafka_DescribeConfigs_result_t *r = ev ? rd_kafka_event_DescribeConfigs_result(ev) : NULL;
    size_t nres = 0;
    const rd_kafka_ConfigResource_t **rs = r ? rd_kafka_DescribeConfigs_result_resources(r, &nres) : NULL;
    for (size_t i = 0; i < nres && !out; i++) {
        size_t nc = 0;
        const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rs[i], &nc);
        for (size_t k = 0; k < nc; k++)
            if (!strcmp(rd_kafka_ConfigEntry_name(ce[k]), "zookeeper.connect") && rd_kafka_ConfigEntry_value(ce[k]))
                out = sm_strdup(rd_kafka_ConfigEntry_value(ce[k]));
    }
    if (!out)
        snprintf(errstr, errlen, "Could not learn zookeeper.connect from broker %s: %s", id,
                 ev && rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : "no such config");
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_destroy(rk);
    return out;
}

sm_zk_t *
sm_tool_zk_connect(const char *zookeeper, const char *bootstrap, int timeout_ms, char *errstr, size_t errlen)
{
    char *conn = zookeeper ? sm_strdup(zookeeper) : zk_from_broker(bootstrap, timeout_ms, errstr, errlen);
    if (!conn) return NULL;
    sm_zk_t *zk = sm_tool_zk_open(conn, timeout_ms, errstr, errlen);
    free(conn);
    return zk;
}

int
sm_tool_zk_broker_config(sm_zk_t *zk, int32_t id, const char *const *keys, const char *const *values, int n)
{
    char *path = sm_asprintf("/config/brokers/%d", id);
    char *data = NULL;
    int len = 0;
    struct Stat st;
    sm_props_t props;
    sm_props_init(&props);
    int rc = sm_zk_get(zk, path, &data, &len, &st);
    if (rc == ZOK && data && sm_zk_decode_config(data, (size_t)len, &props) < 0) sm_props_init(&props);
    free(data);
    if (rc != ZOK && rc != ZNONODE) goto out;
    for (int i = 0; i < n; i++) {
        if (values[i]) sm_props_set(&props, keys[i], values[i]);
        else sm_tool_props_remove(&props, keys[i]);
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_config(&w, &props);
    if (rc == ZNONODE) rc = sm_zk_create_recursive(zk, path, (const char *)w.data, (int)w.len, 0);
    else rc = sm_zk_set(zk, path, (const char *)w.data, (int)w.len, st.version, NULL);
    sm_wbuf_free(&w);
    if (rc == ZOK) {
        char ent[32];
        snprintf(ent, sizeof ent, "%d", id);
        sm_wbuf_init(&w, 128);
        sm_zk_encode_config_change(&w, "brokers", ent);
        rc = sm_zk_create(zk, "/config/changes/config_change_", (const char *)w.data, (int)w.len,
                          ZOO_PERSISTENT_SEQUENTIAL, NULL, NULL);
        sm_wbuf_free(&w);
    }
out:
    sm_props_free(&props);
    free(path);
    return rc;
}

/*
 * sm_config_api.c - AlterConfigs (v0-1): replace a topic's or a broker's
 * dynamic config in ZooKeeper, as Kafka 2.x's AdminManager.alterConfigs.
 *
 * Topics (resource type 2): every key must be a topic config name and every
 * value must parse (checked with sm_log_config_set on a scratch config);
 * the whole /config/topics/<t> is then replaced (AlterConfigs is not
 * incremental: keys left out are removed) and a /config/changes
 * notification is written, which every broker's DynamicConfigManager turns
 * into a cache invalidation and a live sm_plog_set_config.
 *
 * Brokers (resource type 4, name "" = cluster default, else this broker's
 * id): keys are checked against Kafka's dynamically updatable broker
 * configs and stored in /config/brokers/<id> or /config/brokers/<default>
 * with a "brokers/<id>" notification, so Kafka tools read the same znodes.
 * Every broker applies them through sm_dyncfg.c (per-broker over cluster
 * default over server.properties), and DescribeConfigs reports the
 * effective values with their sources.
 *
 * The ZooKeeper writes are blocking, so the whole job (checks included,
 * which keeps Kafka's error precedence: missing topic before bad values)
 * runs on the admin worker thread; the answer goes out on the network
 * thread of the connection.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "proto/sm_proto_interbroker.h"
#include "server/sm_server.h"
#include "zk/sm_zk_admin.h"

enum { RES_TOPIC = 2, RES_BROKER = 4 };

typedef struct {
    int8_t type;
    char *name;
    int n;
    char **keys;
    char **values;                   /* NULL entry = null on the wire */
    sm_err_t err;
    char msg[1024];
} alter_item_t;

typedef struct {
    sm_conn_t *conn;
    sm_req_hdr_t hdr;
    int validate_only;
    int n;
    alter_item_t *items;
} alter_job_t;

/* Broker configs Kafka 2.x can change without a restart
 * (DynamicBrokerConfig.AllDynamicConfigs minus the SSL/SASL/listener
 * families, which need per-listener prefixes Samsa does not have). Entries
 * with a topic synonym are value-checked through it. */
static const struct {
    const char *name;
    const char *topic_synonym;
} broker_dynamic[] = {
    { "log.segment.bytes", "segment.bytes" },
    { "log.roll.ms", "segment.ms" },
    { "log.roll.jitter.ms", "segment.jitter.ms" },
    { "log.index.size.max.bytes", "segment.index.bytes" },
    { "log.flush.interval.messages", "flush.messages" },
    { "log.flush.interval.ms", "flush.ms" },
    { "log.retention.bytes", "retention.bytes" },
    { "log.retention.ms", "retention.ms" },
    { "message.max.bytes", "max.message.bytes" },
    { "log.index.interval.bytes", "index.interval.bytes" },
    { "log.cleaner.delete.retention.ms", "delete.retention.ms" },
    { "log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms" },
    { "log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms" },
    { "log.segment.delete.delay.ms", "file.delete.delay.ms" },
    { "log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio" },
    { "log.cleanup.policy", "cleanup.policy" },
    { "unclean.leader.election.enable", "unclean.leader.election.enable" },
    { "min.insync.replicas", "min.insync.replicas" },
    { "compression.type", "compression.type" },
    { "log.preallocate", "preallocate" },
    { "log.message.timestamp.type", "message.timestamp.type" },
    { "log.message.timestamp.difference.max.ms", "message.timestamp.difference.max.ms" },
    { "log.message.downconversion.enable", "message.downconversion.enable" },
    { "num.io.threads", NULL },
    { "num.network.threads", NULL },
    { "num.replica.fetchers", NULL },
    { "num.recovery.threads.per.data.dir", NULL },
    { "background.threads", NULL },
    { "log.cleaner.threads", NULL },
    { "log.cleaner.dedupe.buffer.size", NULL },
    { "log.cleaner.io.buffer.load.factor", NULL },
    { "log.cleaner.io.buffer.size", NULL },
    { "log.cleaner.io.max.bytes.per.second", NULL },
    { "log.cleaner.backoff.ms", NULL },
    { "max.connections", NULL },
    { "max.connections.per.ip", NULL },
    { "max.connections.per.ip.overrides", NULL },
    { "leader.replication.throttled.rate", NULL },
    { "follower.replication.throttled.rate", NULL },
    { "replica.alter.log.dirs.io.max.bytes.per.second", NULL },
};

static void
job_free(alter_job_t *j)
{
    for (int i = 0; i < j->n; i++) {
        alter_item_t *it = &j->items[i];
        for (int k = 0; k < it->n; k++) { free(it->keys[k]); free(it->values[k]); }
        free(it->keys);
        free(it->values);
        free(it->name);
    }
    free(j->items);
    sm_conn_unref(j->conn);
    free(j);
}

static char *
dup_bytes(sm_bytes_t b)
{
    return b.len < 0 ? NULL : sm_strndup((const char *)b.ptr, (size_t)b.len);
}

/* Kafka's ConfigResource.toString, used as the prefix of ConfigException
 * messages ("Invalid config value for resource ConfigResource(...): ..."). */
static void
invalid_value(alter_item_t *it, const char *detail)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", detail);
    snprintf(it->msg, sizeof(it->msg), "Invalid config value for resource ConfigResource(type=%s, name='%s'): %s",
             it->type == RES_TOPIC ? "TOPIC" : "BROKER", it->name, tmp);
    it->err = SM_ERR_INVALID_REQUEST;
}

static void
nulls_check(alter_item_t *it)
{
    char names[256] = "";
    size_t len = 0;
    for (int k = 0; k < it->n; k++)
        if (!it->values[k] && len < sizeof(names))
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? "," : "", it->keys[k]);
    if (len) {
        it->err = SM_ERR_INVALID_REQUEST;
        snprintf(it->msg, sizeof(it->msg), "Null value not supported for : %s", names);
    }
}

static void
alter_topic(alter_job_t *j, alter_item_t *it)
{
    char why[256];
    if (!sm_topic_name_valid(it->name, why, sizeof(why))) {
        it->err = SM_ERR_INVALID_TOPIC_EXCEPTION;
        snprintf(it->msg, sizeof(it->msg), "%s", why);
        return;
    }
    sm_topic_assignment_t as;
    int rc = sm_zk_admin_get_assignment(sm_srv.zk, it->name, &as);
    if (rc != 0) {
        it->err = rc > 0 ? SM_ERR_UNKNOWN_TOPIC_OR_PARTITION : SM_ERR_UNKNOWN_SERVER_ERROR;
        snprintf(it->msg, sizeof(it->msg), rc > 0 ? "Topic %s does not exist." : "Could not read topic %s", it->name);
        return;
    }
    sm_topic_assignment_free(&as);
    /* Names first (InvalidConfigurationException -> INVALID_CONFIG), then
     * values (ConfigException -> INVALID_REQUEST), as LogConfig.validate. */
    sm_log_config_t probe;
    for (int k = 0; k < it->n; k++) {
        sm_log_config_defaults(&probe);
        /* 0 = not a topic key, whatever the value (1/-1 = known key). */
        if (sm_log_config_set(&probe, it->keys[k], "0", why, sizeof(why)) == 0) {
            it->err = SM_ERR_INVALID_CONFIG;
            snprintf(it->msg, sizeof(it->msg), "Unknown topic config name: %s", it->keys[k]);
            return;
        }
    }
    sm_props_t cfg;
    sm_props_init(&cfg);
    sm_log_config_defaults(&probe);
    for (int k = 0; k < it->n && !it->err; k++) {
        if (sm_log_config_set(&probe, it->keys[k], it->values[k], why, sizeof(why)) < 0) invalid_value(it, why);
        else sm_props_set(&cfg, it->keys[k], it->values[k]);
    }
    if (!it->err && !j->validate_only) {
        it->err = sm_zk_admin_set_topic_config(sm_srv.zk, it->name, &cfg, it->msg, sizeof(it->msg));
        if (it->err == SM_ERR_NONE) {
            /* The notification invalidates every broker's cache shortly;
             * dropping ours now makes a DescribeConfigs that follows this
             * response on the same broker see the new values. */
            sm_topic_config_invalidate(it->name);
            sm_log_info("samsa.admin", "[Admin Manager on Broker %d]: Updated topic %s with new configuration %s",
                        sm_srv.cfg.broker_id, it->name, it->n ? "(overrides replaced)" : "(overrides cleared)");
        }
    }
    sm_props_free(&cfg);
}

static void
alter_broker(alter_job_t *j, alter_item_t *it)
{
    const char *entity = "<default>";
    char idbuf[16];
    if (it->name[0]) {
        int64_t id;
        if (sm_parse_i64(it->name, &id) < 0 || id < 0 || id > INT32_MAX) {
            it->err = SM_ERR_INVALID_REQUEST;
            snprintf(it->msg, sizeof(it->msg), "Broker id must be an integer, but it is: %s", it->name);
            return;
        }
        if (id != sm_srv.cfg.broker_id) {
            it->err = SM_ERR_INVALID_REQUEST;
            snprintf(it->msg, sizeof(it->msg), "Unexpected broker id, expected %d, but received %s",
                     sm_srv.cfg.broker_id, it->name);
            return;
        }
        snprintf(idbuf, sizeof(idbuf), "%d", (int)id);
        entity = idbuf;
    }
    char bad[256] = "";
    size_t blen = 0;
    for (int k = 0; k < it->n; k++) {
        int known = 0;
        for (size_t d = 0; d < SM_ARRAY_SIZE(broker_dynamic); d++) known |= !strcmp(broker_dynamic[d].name, it->keys[k]);
        if (!known && blen < sizeof(bad))
            blen += (size_t)snprintf(bad + blen, sizeof(bad) - blen, "%s%s", blen ? ", " : "", it->keys[k]);
    }
    if (blen) {
        char detail[300];
        snprintf(detail, sizeof(detail), "Cannot update these configs dynamically: Set(%s)", bad);
        invalid_value(it, detail);
        return;
    }
    sm_props_t cfg;
    sm_props_init(&cfg);
    char why[256];
    for (int k = 0; k < it->n && !it->err; k++) {
        const char *syn = NULL;
        for (size_t d = 0; d < SM_ARRAY_SIZE(broker_dynamic); d++)
            if (!strcmp(broker_dynamic[d].name, it->keys[k])) syn = broker_dynamic[d].topic_synonym;
        if (syn) {
            sm_log_config_t probe;
            sm_log_config_defaults(&probe);
            if (sm_log_config_set(&probe, syn, it->values[k], why, sizeof(why)) < 0) {
                /* The synonym's message names the topic key; Kafka names the broker key. */
                snprintf(why, sizeof(why), "Invalid value %s for configuration %s", it->values[k], it->keys[k]);
                invalid_value(it, why);
            }
        } else if (strcmp(it->keys[k], "max.connections.per.ip.overrides") != 0 &&
                   strcmp(it->keys[k], "log.cleaner.io.buffer.load.factor") != 0) {
            int64_t v;
            if (sm_parse_i64(it->values[k], &v) < 0 || v < 0) {
                snprintf(why, sizeof(why), "Invalid value %s for configuration %s: Not a number of type %s",
                         it->values[k], it->keys[k], "INT");
                invalid_value(it, why);
            }
        }
        if (!it->err) sm_props_set(&cfg, it->keys[k], it->values[k]);
    }
    if (!it->err && !j->validate_only)
        it->err = sm_zk_admin_set_broker_config(sm_srv.zk, entity, &cfg, it->msg, sizeof(it->msg));
    sm_props_free(&cfg);
}

/* Worker thread. */
static void
alter_work(void *arg)
{
    alter_job_t *j = arg;
    for (int i = 0; i < j->n; i++) {
        alter_item_t *it = &j->items[i];
        if (it->err != SM_ERR_NONE) continue;
        nulls_check(it);
        if (it->err != SM_ERR_NONE) continue;
        if (it->type == RES_TOPIC) alter_topic(j, it);
        else if (it->type == RES_BROKER) alter_broker(j, it);
        else {
            it->err = SM_ERR_INVALID_REQUEST;
            snprintf(it->msg, sizeof(it->msg), "AlterConfigs is only supported for topics and brokers, but resource type is %d",
                     it->type);
        }
    }
}

/* Network thread of the connection. */
static void
alter_done(void *arg)
{
    alter_job_t *j = arg;
    sm_conn_t *c = j->conn;
    if (!sm_conn_closed(c)) {
        sm_arena_t *a = &((sm_conn_ctx_t *)sm_conn_data(c))->arena;
        sm_alterconfigs_resp_t resp = { 0 };
        resp.n_responses = j->n;
        resp.responses = sm_arena_calloc(a, (size_t)(j->n ? j->n : 1), sizeof(*resp.responses));
        for (int i = 0; i < j->n; i++) {
            alter_item_t *it = &j->items[i];
            sm_alterconfigs_result_t *r = &resp.responses[i];
            r->error_code = (int16_t)it->err;
            r->error_message = it->err != SM_ERR_NONE && it->msg[0] ? SM_BYTES_STR(it->msg) : SM_BYTES_NULL;
            r->resource_type = it->type;
            r->resource_name = SM_BYTES_STR(it->name);
        }
        sm_resp_t *out = sm_response_start(&j->hdr);
        sm_proto_encode_AlterConfigsResponse(sm_resp_wbuf(out), j->hdr.api_version, &resp);
        sm_conn_respond(c, out);
    }
    job_free(j);
}

/* AlterConfigs (33) v0-1. Network thread; copies the request to the heap
 * and hands it to the admin worker. */
void
sm_handle_AlterConfigs(sm_conn_t *c, const sm_req_hdr_t *h, sm_reader_t *r, sm_arena_t *a)
{
    sm_alterconfigs_req_t req;
    if (sm_proto_decode_AlterConfigsRequest(r, h->api_version, a, &req) < 0) {
        sm_conn_close(c, "malformed AlterConfigs request");
        return;
    }
    alter_job_t *j = sm_calloc(1, sizeof(*j));
    j->conn = sm_conn_ref(c);
    j->hdr = *h;
    j->validate_only = req.validate_only;
    j->n = req.n_resources > 0 ? req.n_resources : 0;
    j->items = sm_calloc((size_t)(j->n ? j->n : 1), sizeof(alter_item_t));
    for (int i = 0; i < j->n; i++) {
        const sm_alterconfigs_resource_t *res = &req.resources[i];
        alter_item_t *it = &j->items[i];
        it->type = res->resource_type;
        it->name = dup_bytes(res->resource_name);
        if (!it->name) it->name = sm_strdup("");
        it->n = res->n_configs > 0 ? res->n_configs : 0;
        it->keys = sm_calloc((size_t)(it->n ? it->n : 1), sizeof(char *));
        it->values = sm_calloc((size_t)(it->n ? it->n : 1), sizeof(char *));
        for (int k = 0; k < it->n; k++) {
            it->keys[k] = dup_bytes(res->configs[k].name);
            if (!it->keys[k]) it->keys[k] = sm_strdup("");
            it->values[k] = dup_bytes(res->configs[k].value);
        }
        /* Same resource twice in one request: Kafka rejects both. */
        for (int p = 0; p < i; p++)
            if (j->items[p].type == it->type && !strcmp(j->items[p].name, it->name)) {
                it->err = j->items[p].err = SM_ERR_INVALID_REQUEST;
                snprintf(it->msg, sizeof(it->msg), "Duplicate resource in request");
                snprintf(j->items[p].msg, sizeof(j->items[p].msg), "Duplicate resource in request");
            }
    }
    sm_worker_submit(sm_srv.admin, alter_work, alter_done, sm_conn_base(c), j);
}

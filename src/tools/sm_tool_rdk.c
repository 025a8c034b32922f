/*
 * sm_tool_rdk.c - librdkafka plumbing shared by the tool binaries (see
 * sm_tool_rdk.h). Not part of libsamsa.a.
 */
#include "config.h"

#include <stdio.h>
#include "core/sm_conf.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_rdk.h"

static void
warn_unknown(const char *key)
{
    fprintf(stderr, "WARN The configuration '%s' was supplied but isn't a known config.\n", key);
}

void
sm_tool_rdk_log_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk; (void)level; (void)fac; (void)buf;
}

/* --command-config into conf; 0 or -1 with errstr. */
static int
load_command_config(rd_kafka_conf_t *conf, const char *path, int map_keys, char *errstr, size_t errlen)
{
    char err[512];
    sm_props_t p;
    sm_props_init(&p);
    if (sm_props_load(&p, path, errstr, errlen)) {
        sm_props_free(&p);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < p.n && rc == 0; i++) {
        const char *k = p.items[i].key, *val = p.items[i].value;
        char v[1024];
        if (map_keys) {
            int sync = 0;
            sm_tool_map_t m = sm_tool_map_producer_prop(p.items[i].key, p.items[i].value, &k, v, sizeof v, &sync);
            if (m == SM_TOOL_MAP_BAD) {
                snprintf(errstr, errlen, "%s", v);
                rc = -1;
            }
            if (m != SM_TOOL_MAP_SET) continue;
            val = v;
        }
        if (rd_kafka_conf_set(conf, k, val, err, sizeof err) != RD_KAFKA_CONF_OK) warn_unknown(p.items[i].key);
    }
    sm_props_free(&p);
    return rc;
}

rd_kafka_t *
sm_tool_rdk_admin_new(const char *bootstrap, const char *command_config, int map_keys, const char *client_id,
                      char *errstr, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (command_config && load_command_config(conf, command_config, map_keys, errstr, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errlen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set(conf, "client.id", client_id, NULL, 0);
    rd_kafka_conf_set_log_cb(conf, sm_tool_rdk_log_quiet);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errlen);
    if (!rk) rd_kafka_conf_destroy(conf);   /* rd_kafka_new takes conf only on success */
    return rk;
}

void
sm_tool_rdk_call_begin(sm_tool_rdk_call_t *c, rd_kafka_t *rk, rd_kafka_admin_op_t op, int request_timeout_ms,
                       int op_timeout_ms)
{
    char err[256];
    c->q = rd_kafka_queue_new(rk);
    c->o = rd_kafka_AdminOptions_new(rk, op);
    c->ev = NULL;
    rd_kafka_AdminOptions_set_request_timeout(c->o, request_timeout_ms, err, sizeof err);
    if (op_timeout_ms > 0) rd_kafka_AdminOptions_set_operation_timeout(c->o, op_timeout_ms, err, sizeof err);
}

rd_kafka_event_t *
sm_tool_rdk_call_wait(sm_tool_rdk_call_t *c, int wait_ms)
{
    c->ev = rd_kafka_queue_poll(c->q, wait_ms);
    return c->ev;
}

void
sm_tool_rdk_call_end(sm_tool_rdk_call_t *c)
{
    if (c->ev) rd_kafka_event_destroy(c->ev);
    if (c->o) rd_kafka_AdminOptions_destroy(c->o);
    if (c->q) rd_kafka_queue_destroy(c->q);
    c->ev = NULL;
    c->o = NULL;
    c->q = NULL;
}

void
sm_tool_rdk_conf_put(rd_kafka_conf_t *conf, int producer, const char *key, const char *value, int *sync)
{
    const char *k;
    char v[2048], err[512];
    sm_tool_map_t m = producer ? sm_tool_map_producer_prop(key, value, &k, v, sizeof v, sync)
                               : sm_tool_map_consumer_prop(key, value, &k, v, sizeof v);
    switch (m) {
    case SM_TOOL_MAP_IGNORE:
        return;
    case SM_TOOL_MAP_WARN:
        warn_unknown(key);
        return;
    case SM_TOOL_MAP_BAD:
        sm_tool_error_die(v);
    case SM_TOOL_MAP_SET:
        break;
    }
    rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, k, v, err, sizeof err);
    if (r == RD_KAFKA_CONF_UNKNOWN) warn_unknown(key);
    else if (r != RD_KAFKA_CONF_OK) sm_tool_error_die(err);
}

/*
 * sm_dyncfg.h - dynamic broker configs, as Kafka 2.x's DynamicBrokerConfig:
 * the per-broker (/config/brokers/<id>) and cluster-default
 * (/config/brokers/<default>) layers over server.properties, applied live,
 * and the broker side of DescribeConfigs with Kafka's config sources and
 * synonyms.
 *
 * Precedence, highest first: DYNAMIC_BROKER_CONFIG (per broker),
 * DYNAMIC_DEFAULT_BROKER_CONFIG (cluster default), STATIC_BROKER_CONFIG
 * (server.properties and --override), DEFAULT_CONFIG (the key table). The
 * layers are read at start-up (after registration, before the logs load)
 * and again on every "brokers/<id>" / "brokers/<default>" change
 * notification; each time, every dynamically updatable key of sm_srv.cfg is
 * set to its effective value, the broker log defaults are recomputed and
 * pushed to every local log whose topic does not override the key.
 *
 * The module has two parts: pure functions over explicit layers (unit
 * tested) and the server glue over sm_srv (main thread for changes, any
 * thread for reads under sm_dyncfg_rdlock).
 */
#ifndef SM_DYNCFG_H
#define SM_DYNCFG_H

#include <stdint.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "core/sm_conf.h"
#include "proto/sm_proto.h"
#include "server/sm_config.h"

/* DescribeConfigs config_source values (Kafka's ConfigSource ids). */
enum {
    SM_CFGSRC_DYNAMIC_TOPIC = 1,
    SM_CFGSRC_DYNAMIC_BROKER = 2,
    SM_CFGSRC_DYNAMIC_DEFAULT_BROKER = 3,
    SM_CFGSRC_STATIC_BROKER = 4,
    SM_CFGSRC_DEFAULT = 5,
};

/* The three configured layers (DEFAULT_CONFIG is the key table). Borrowed
 * pointers; any may be NULL (= empty). */
typedef struct {
    const sm_props_t *broker;        /* /config/brokers/<id> */
    const sm_props_t *cluster;       /* /config/brokers/<default> */
    const sm_props_t *statics;       /* server.properties + --override */
} sm_dyncfg_layers_t;

/* ---- pure functions ---- */

/* 1 if Kafka 2.x lets AlterConfigs change name without a restart (and
 * Samsa accepts it); such keys are reported read_only = false. */
int sm_dyncfg_is_dynamic(const char *name);

/* Kafka's DynamicBrokerConfig.brokerConfigSynonyms: the keys that set the
 * same value, highest priority first (e.g. log.retention.ms, .minutes,
 * .hours); a key without synonyms yields itself. Returns the count (<= 3);
 * out[] points to static strings. */
int sm_dyncfg_synonyms(const char *name, const char *out[3]);

/* The broker key whose value is the default of topic key `topic_key`
 * (segment.bytes -> log.segment.bytes), or NULL. Static string. */
const char *sm_dyncfg_broker_synonym(const char *topic_key);

/* Set every key of c that may change at run time to its effective value
 * over L (a value that does not parse is logged and the next layer used),
 * then recompute c->log_defaults. When changes is non-NULL, one line
 * "key: old -> new" per changed key is appended (no terminator). Returns the
 * number of changed keys. The caller serialises against readers of c. */
int sm_dyncfg_apply(sm_broker_config_t *c, const sm_dyncfg_layers_t *L, sm_wbuf_t *changes);

/* Kafka's config source of broker key `name` over L: the highest layer
 * that sets `name` itself (a synonym set higher up does not count, as in
 * AdminManager.configSynonyms' dropWhile), else DEFAULT. per_broker = 0
 * ignores L->broker (describing the cluster default). */
int sm_dyncfg_source(const sm_dyncfg_layers_t *L, const char *name, int per_broker);

/* DescribeConfigs entries of a broker resource, allocated in a (strings
 * copied): per_broker = 1 lists every broker key (the effective values of
 * c), 0 lists only the keys of the cluster-default layer (their stored
 * values). keys/nkeys filter by name (nkeys < 0 = all). Synonyms are filled
 * when include_synonyms. Returns the entry count (*out never NULL). */
int32_t sm_dyncfg_describe(const sm_broker_config_t *c, const sm_dyncfg_layers_t *L, int per_broker,
                           int include_synonyms, const sm_bytes_t *keys, int32_t nkeys, sm_arena_t *a,
                           sm_describeconfigs_config_t **out);

/* ---- server glue (sm_srv) ---- */

/* Start-up, main thread, blocking: read /config/brokers/<default> and
 * /config/brokers/<id> and apply them to sm_srv.cfg (call after broker
 * registration, before the log manager is opened). A read error is logged
 * and the layer treated as empty. */
void sm_dyncfg_start(void);
/* A change notification for entity "<default>" or this broker's id with
 * its full new config (main thread): replace the layer, apply, log what
 * changed, and push new log configs to every local partition. */
void sm_dyncfg_changed(const char *entity, const sm_props_t *config);
/* Free the layers (shutdown, after every reader stopped). */
void sm_dyncfg_stop(void);

/* Readers of the dynamic members of sm_srv.cfg (log_defaults,
 * min_insync_replicas, the log.* strings...) off the main thread hold this. */
void sm_dyncfg_rdlock(void);
void sm_dyncfg_unlock(void);

/* DescribeConfigs of broker resource res (name "" = cluster default, else
 * this broker's id) into out (entries in a). Returns NONE, or
 * INVALID_REQUEST with *msg (static or arena text) for another broker's id.
 * Any thread; takes the lock itself. */
sm_err_t sm_dyncfg_describe_broker(const sm_describeconfigs_resource_t *res, int include_synonyms, sm_arena_t *a,
                                   sm_describeconfigs_result_t *out, const char **msg);
/* Config source of the broker-level default of topic key topic_key (for a
 * topic DescribeConfigs entry without override): DEFAULT when it has no
 * broker synonym. Caller holds sm_dyncfg_rdlock. */
int sm_dyncfg_topic_default_source(const char *topic_key);

/* leader.replication.throttled.rate / follower.replication.throttled.rate
 * in bytes/s (this broker's value, else the cluster default, else
 * INT64_MAX = unthrottled). Any thread. */
int64_t sm_dyncfg_leader_throttle_rate(void);
int64_t sm_dyncfg_follower_throttle_rate(void);

#endif

/*
 * sm_dyncfg.c - dynamic broker configs (see sm_dyncfg.h): the layer
 * arithmetic, DescribeConfigs entries for brokers, and applying
 * /config/brokers changes to sm_srv.cfg and the local logs.
 *
 * Why a whole-key recomputation rather than patching the changed keys:
 * AlterConfigs replaces an entity's full config, so a notification tells
 * only that something changed; recomputing every dynamic key from the
 * three layers also makes a deleted override fall back to the cluster
 * default or server.properties without remembering what it replaced.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "server/sm_dyncfg.h"
#include "server/sm_server.h"
#include "zk/sm_zk_admin.h"

#define LOGGER "samsa.server"

/* DynamicBrokerConfig.AllDynamicConfigs minus the SSL/SASL/listener
 * families (the list sm_config_api.c accepts). topic = the LogConfig key
 * whose default it is (used to validate the value); restart = Samsa keeps
 * the new value (DescribeConfigs shows it) but the component sized by it
 * only picks it up at the next start. */
static const struct {
    const char *name;
    const char *topic;
    int restart;
} dyn[] = {
    { "log.segment.bytes", "segment.bytes", 0 },
    { "log.roll.ms", "segment.ms", 0 },
    { "log.roll.jitter.ms", "segment.jitter.ms", 0 },
    { "log.index.size.max.bytes", "segment.index.bytes", 0 },
    { "log.flush.interval.messages", "flush.messages", 0 },
    { "log.flush.interval.ms", "flush.ms", 0 },
    { "log.retention.bytes", "retention.bytes", 0 },
    { "log.retention.ms", "retention.ms", 0 },
    { "message.max.bytes", "max.message.bytes", 0 },
    { "log.index.interval.bytes", "index.interval.bytes", 0 },
    { "log.cleaner.delete.retention.ms", "delete.retention.ms", 0 },
    { "log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms", 0 },
    { "log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms", 0 },
    { "log.segment.delete.delay.ms", "file.delete.delay.ms", 0 },
    { "log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio", 0 },
    { "log.cleanup.policy", "cleanup.policy", 0 },
    { "unclean.leader.election.enable", "unclean.leader.election.enable", 1 },
    { "min.insync.replicas", "min.insync.replicas", 0 },
    { "compression.type", "compression.type", 0 },
    { "log.preallocate", "preallocate", 0 },
    { "log.message.timestamp.type", "message.timestamp.type", 0 },
    { "log.message.timestamp.difference.max.ms", "message.timestamp.difference.max.ms", 0 },
    { "log.message.downconversion.enable", "message.downconversion.enable", 0 },
    { "num.io.threads", NULL, 1 },
    { "num.network.threads", NULL, 1 },
    { "num.replica.fetchers", NULL, 1 },
    { "num.recovery.threads.per.data.dir", NULL, 1 },
    { "background.threads", NULL, 1 },
    { "log.cleaner.threads", NULL, 1 },
    { "log.cleaner.dedupe.buffer.size", NULL, 1 },
    { "log.cleaner.io.buffer.load.factor", NULL, 1 },
    { "log.cleaner.io.buffer.size", NULL, 1 },
    { "log.cleaner.io.max.bytes.per.second", NULL, 1 },
    { "log.cleaner.backoff.ms", NULL, 1 },
    { "max.connections", NULL, 1 },
    { "max.connections.per.ip", NULL, 1 },
    { "max.connections.per.ip.overrides", NULL, 1 },
    { "leader.replication.throttled.rate", NULL, 0 },
    { "follower.replication.throttled.rate", NULL, 0 },
    { "replica.alter.log.dirs.io.max.bytes.per.second", NULL, 1 },
};

/* Not updatable through AlterConfigs in Kafka, but synonyms of dynamic
 * keys: honoured when found in /config/brokers (written by hand or by an
 * older tool) so the ms/hours pairs never disagree with the layers. */
static const char *const applied_synonyms[] = {
    "log.roll.hours", "log.roll.jitter.hours", "log.retention.minutes", "log.retention.hours", NULL,
};

/* Keys whose Kafka default is null: Samsa's table stores a sentinel
 * (-1/-2) that DescribeConfigs must not show as a value. */
static const char *const nullable[] = {
    "log.roll.ms", "log.roll.jitter.ms", "log.retention.ms", "log.retention.minutes", "log.flush.interval.ms", NULL,
};

static int
in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (!strcmp(*list, name)) return 1;
    return 0;
}

static int
dyn_index(const char *name)
{
    for (size_t i = 0; i < SM_ARRAY_SIZE(dyn); i++)
        if (!strcmp(dyn[i].name, name)) return (int)i;
    return -1;
}

int
sm_dyncfg_is_dynamic(const char *name)
{
    return dyn_index(name) >= 0;
}

int
sm_dyncfg_synonyms(const char *name, const char *out[3])
{
    static const char *const groups[][4] = {
        { "log.roll.ms", "log.roll.hours", NULL, NULL },
        { "log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL },
        /* log.flush.scheduler.interval.ms is the default of flush.interval.ms. */
        { "log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL },
        { "log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL },
    };
    for (size_t g = 0; g < SM_ARRAY_SIZE(groups); g++) {
        int hit = 0;
        /* The scheduler interval is not itself a synonym of flush.interval.ms. */
        for (int k = 0; groups[g][k]; k++) hit |= !strcmp(groups[g][k], name) && !(g == 2 && k == 1);
        if (!hit) continue;
        int n = 0;
        for (int k = 0; groups[g][k]; k++) out[n++] = groups[g][k];
        return n;
    }
    out[0] = name;
    return 1;
}

const char *
sm_dyncfg_broker_synonym(const char *topic_key)
{
    for (size_t i = 0; i < SM_ARRAY_SIZE(dyn); i++)
        if (dyn[i].topic && !strcmp(dyn[i].topic, topic_key)) return dyn[i].name;
    return NULL;
}

static const char *
layer_get(const sm_props_t *p, const char *key)
{
    return p ? sm_props_get(p, key) : NULL;
}

static void __attribute__((format(printf, 2, 3)))
wprintf_(sm_wbuf_t *w, const char *fmt, ...)
{
    char tmp[768];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sm_write_raw(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Is value acceptable for key (beyond the table's type and bounds)? */
static int
value_ok(const char *key, const char *value, char *err, size_t errlen)
{
    int i = dyn_index(key);
    if (i < 0 || !dyn[i].topic) return 1;
    sm_log_config_t probe;
    sm_log_config_defaults(&probe);
    return sm_log_config_set(&probe, dyn[i].topic, value, err, errlen) >= 0;
}

/* Set one table key of c to its effective value over L; returns 1 if the
 * rendered value changed. */
static int
apply_key(sm_broker_config_t *c, const sm_dyncfg_layers_t *L, const char *key, sm_wbuf_t *changes)
{
    static const char *const src_name[] = { "brokers/<id>", "brokers/<default>", "server.properties" };
    const sm_conf_def_t *d = sm_conf_find(sm_broker_config_table, key);
    if (!d) return 0;
    char before[256], after[256], err[256];
    sm_conf_format(d, c, before, sizeof(before));
    const char *vals[3] = { layer_get(L->broker, key), layer_get(L->cluster, key), layer_get(L->statics, key) };
    int done = 0;
    for (int i = 0; i < 3 && !done; i++) {
        if (!vals[i]) continue;
        if (value_ok(key, vals[i], err, sizeof(err)) && sm_conf_set(sm_broker_config_table, c, key, vals[i], err, sizeof(err)) == 1)
            done = 1;
        else
            sm_log_warn(LOGGER, "[DynamicBrokerConfig id=%d] Ignoring invalid value of %s from %s: %s", c->broker_id,
                        key, src_name[i], err);
    }
    if (!done && d->def) sm_conf_set(sm_broker_config_table, c, key, d->def, err, sizeof(err));
    sm_conf_format(d, c, after, sizeof(after));
    if (!strcmp(before, after)) return 0;
    if (changes) {
        int k = dyn_index(key);
        wprintf_(changes, "%s%s: %s -> %s%s", changes->len ? "\n" : "", key, before, after,
                 k >= 0 && dyn[k].restart ? " (takes effect at the next restart)" : "");
    }
    return 1;
}

int
sm_dyncfg_apply(sm_broker_config_t *c, const sm_dyncfg_layers_t *L, sm_wbuf_t *changes)
{
    int n = 0;
    for (size_t i = 0; i < SM_ARRAY_SIZE(dyn); i++) n += apply_key(c, L, dyn[i].name, changes);
    for (int i = 0; applied_synonyms[i]; i++) n += apply_key(c, L, applied_synonyms[i], changes);
    sm_broker_config_derive_log_defaults(c);
    return n;
}

/* Table default usable as a DEFAULT_CONFIG value (NULL for Kafka's null). */
static const char *
table_default(const char *name)
{
    const sm_conf_def_t *d = sm_conf_find(sm_broker_config_table, name);
    if (!d || !d->def || in_list(nullable, name)) return NULL;
    return d->def;
}

int
sm_dyncfg_source(const sm_dyncfg_layers_t *L, const char *name, int per_broker)
{
    if (per_broker && layer_get(L->broker, name)) return SM_CFGSRC_DYNAMIC_BROKER;
    if (layer_get(L->cluster, name)) return SM_CFGSRC_DYNAMIC_DEFAULT_BROKER;
    if (layer_get(L->statics, name)) return SM_CFGSRC_STATIC_BROKER;
    return SM_CFGSRC_DEFAULT;
}

static sm_bytes_t
arena_str(sm_arena_t *a, const char *s)
{
    if (!s) return SM_BYTES_NULL;
    size_t n = strlen(s);
    char *p = sm_arena_alloc(a, n + 1);
    memcpy(p, s, n + 1);
    return (sm_bytes_t){ (int32_t)n, (const uint8_t *)p };
}

static int
key_wanted(const sm_bytes_t *keys, int32_t nkeys, const char *name)
{
    if (nkeys < 0) return 1;
    for (int32_t k = 0; k < nkeys; k++)
        if (sm_bytes_eq(keys[k], name)) return 1;
    return 0;
}

/* AdminManager.configSynonyms: every (synonym, layer) pair that is set,
 * layer by layer, then the prefix before `name` itself dropped. */
static void
fill_synonyms(const sm_dyncfg_layers_t *L, const char *name, int per_broker, sm_arena_t *a,
              sm_describeconfigs_config_t *cf)
{
    const char *syn[3];
    int ns = sm_dyncfg_synonyms(name, syn);
    const sm_props_t *layers[3] = { per_broker ? L->broker : NULL, L->cluster, L->statics };
    static const int8_t srcs[4] = { SM_CFGSRC_DYNAMIC_BROKER, SM_CFGSRC_DYNAMIC_DEFAULT_BROKER, SM_CFGSRC_STATIC_BROKER,
                                    SM_CFGSRC_DEFAULT };
    sm_describeconfigs_synonym_t *out = sm_arena_calloc(a, 4 * 3, sizeof(*out));
    int n = 0, seen_self = 0;
    for (int l = 0; l < 4; l++)
        for (int s = 0; s < ns; s++) {
            const char *v = l < 3 ? layer_get(layers[l], syn[s]) : table_default(syn[s]);
            if (!v) continue;
            if (!seen_self && strcmp(syn[s], name)) continue;
            seen_self = 1;
            out[n].name = arena_str(a, syn[s]);
            out[n].value = arena_str(a, v);
            out[n].source = srcs[l];
            n++;
        }
    cf->synonyms = out;
    cf->n_synonyms = n;
}

/* Effective value of table key d for DescribeConfigs (NULL = Kafka's null). */
static const char *
effective_value(const sm_broker_config_t *c, const sm_dyncfg_layers_t *L, const sm_conf_def_t *d, char *buf,
                size_t len)
{
    if (d->type == SM_CONF_STRING && !*(char *const *)((const char *)c + d->offset)) return NULL;
    if (in_list(nullable, d->name) && !layer_get(L->broker, d->name) && !layer_get(L->cluster, d->name) &&
        !layer_get(L->statics, d->name))
        return NULL;
    sm_conf_format(d, c, buf, len);
    return buf;
}

static void
fill_entry(const sm_dyncfg_layers_t *L, const char *name, const char *value, int per_broker, int include_synonyms,
           sm_arena_t *a, sm_describeconfigs_config_t *cf)
{
    cf->name = arena_str(a, name);
    cf->value = arena_str(a, value);
    cf->config_source = (int8_t)sm_dyncfg_source(L, name, per_broker);
    cf->is_default = cf->config_source == SM_CFGSRC_DEFAULT;
    cf->read_only = !sm_dyncfg_is_dynamic(name);
    cf->is_sensitive = 0;
    if (include_synonyms) fill_synonyms(L, name, per_broker, a, cf);
}

int32_t
sm_dyncfg_describe(const sm_broker_config_t *c, const sm_dyncfg_layers_t *L, int per_broker, int include_synonyms,
                   const sm_bytes_t *keys, int32_t nkeys, sm_arena_t *a, sm_describeconfigs_config_t **out)
{
    size_t ntable = 0;
    while (sm_broker_config_table[ntable].name) ntable++;
    const sm_props_t *layers[3] = { L->broker, L->cluster, L->statics };
    size_t cap = ntable + 1;
    for (int l = 0; l < 3; l++) cap += layers[l] ? layers[l]->n : 0;
    sm_describeconfigs_config_t *cf = sm_arena_calloc(a, cap, sizeof(*cf));
    int32_t n = 0;
    char buf[256];
    if (!per_broker) {
        /* The cluster default lists only what is set there (Kafka's
         * currentDynamicDefaultConfigs), with the stored values. */
        for (size_t i = 0; L->cluster && i < L->cluster->n; i++) {
            const sm_prop_t *p = &L->cluster->items[i];
            if (key_wanted(keys, nkeys, p->key)) fill_entry(L, p->key, p->value, 0, include_synonyms, a, &cf[n++]);
        }
        *out = cf;
        return n;
    }
    for (size_t i = 0; i < ntable; i++) {
        const sm_conf_def_t *d = &sm_broker_config_table[i];
        if (!key_wanted(keys, nkeys, d->name)) continue;
        fill_entry(L, d->name, effective_value(c, L, d, buf, sizeof(buf)), 1, include_synonyms, a, &cf[n++]);
    }
    /* Keys outside the table (throttle rates, custom keys), once each, with
     * the value of the highest layer that sets them. */
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; layers[l] && i < layers[l]->n; i++) {
            const char *k = layers[l]->items[i].key;
            if (sm_conf_find(sm_broker_config_table, k) || !key_wanted(keys, nkeys, k)) continue;
            int dup = 0;
            for (int m = 0; m < l && !dup; m++) dup = layer_get(layers[m], k) != NULL;
            for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(layers[l]->items[j].key, k);
            if (dup) continue;
            fill_entry(L, k, layer_get(layers[l], k), 1, include_synonyms, a, &cf[n++]);
        }
    *out = cf;
    return n;
}

/* ---- server glue ---- */

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static sm_props_t layer_broker, layer_cluster;   /* under lock */
static int64_t leader_rate = INT64_MAX, follower_rate = INT64_MAX;   /* atomic */

void sm_dyncfg_rdlock(void) { pthread_rwlock_rdlock(&lock); }
void sm_dyncfg_unlock(void) { pthread_rwlock_unlock(&lock); }

static sm_dyncfg_layers_t
layers_now(void)
{
    sm_dyncfg_layers_t L = { &layer_broker, &layer_cluster, &sm_srv.cfg.props };
    return L;
}

/* DynamicConfig.Broker rates: per broker, else the cluster default. */
static int64_t
rate_of(const char *key)
{
    const char *v = sm_props_get(&layer_broker, key);
    if (!v) v = sm_props_get(&layer_cluster, key);
    int64_t r;
    if (!v || sm_parse_i64(v, &r) < 0 || r < 0) return INT64_MAX;
    return r;
}

static void
props_copy(sm_props_t *dst, const sm_props_t *src)
{
    sm_props_free(dst);
    sm_props_init(dst);
    for (size_t i = 0; src && i < src->n; i++) sm_props_set(dst, src->items[i].key, src->items[i].value);
}

/* Recompute and apply under the write lock, then push outside it: the push
 * takes the topic cache and replica locks, which readers of the config
 * take before sm_dyncfg_rdlock. Main thread. */
static void
reapply(const char *why)
{
    sm_wbuf_t ch;
    sm_wbuf_init(&ch, 256);
    pthread_rwlock_wrlock(&lock);
    sm_log_config_t old_defaults = sm_srv.cfg.log_defaults;
    int32_t old_min_isr = sm_srv.cfg.min_insync_replicas;
    sm_dyncfg_layers_t L = layers_now();
    int n = sm_dyncfg_apply(&sm_srv.cfg, &L, &ch);
    int logs_changed = memcmp(&old_defaults, &sm_srv.cfg.log_defaults, sizeof(old_defaults)) != 0 ||
                       old_min_isr != sm_srv.cfg.min_insync_replicas;
    __atomic_store_n(&leader_rate, rate_of("leader.replication.throttled.rate"), __ATOMIC_RELAXED);
    __atomic_store_n(&follower_rate, rate_of("follower.replication.throttled.rate"), __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&lock);

    int id = sm_srv.cfg.broker_id;
    if (n == 0) {
        sm_log_info(LOGGER, "[DynamicBrokerConfig id=%d] %s: no effective broker config change", id, why);
    } else {
        sm_write_i8(&ch, 0);
        char *save = NULL;
        for (char *line = strtok_r((char *)ch.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            sm_log_info(LOGGER, "[DynamicBrokerConfig id=%d] %s: updated %s", id, why, line);
    }
    sm_wbuf_free(&ch);
    if (!logs_changed || !sm_srv.replicas) return;
    char **topics = NULL;
    int nt = sm_topic_config_refresh_all(&topics);
    for (int i = 0; i < nt; i++) {
        sm_replica_topic_config_changed(sm_srv.replicas, topics[i]);
        free(topics[i]);
    }
    free(topics);
    sm_log_info(LOGGER, "[DynamicBrokerConfig id=%d] New broker log defaults pushed to %d topic(s)", id, nt);
}

void
sm_dyncfg_start(void)
{
    char idbuf[16];
    snprintf(idbuf, sizeof(idbuf), "%d", sm_srv.cfg.broker_id);
    sm_props_t def, own;
    int rc_def = sm_srv.zk ? sm_zk_admin_get_entity_config(sm_srv.zk, "brokers", "<default>", &def) : 1;
    if (rc_def < 0 || !sm_srv.zk) sm_props_init(&def);
    int rc_own = sm_srv.zk ? sm_zk_admin_get_entity_config(sm_srv.zk, "brokers", idbuf, &own) : 1;
    if (rc_own < 0 || !sm_srv.zk) sm_props_init(&own);
    if (rc_def < 0 || rc_own < 0)
        sm_log_warn(LOGGER, "[DynamicBrokerConfig id=%d] Could not read /config/brokers; starting without "
                    "(some) dynamic broker configs", sm_srv.cfg.broker_id);
    pthread_rwlock_wrlock(&lock);
    props_copy(&layer_cluster, &def);
    props_copy(&layer_broker, &own);
    pthread_rwlock_unlock(&lock);
    sm_log_info(LOGGER, "[DynamicBrokerConfig id=%d] Loaded %zu per-broker and %zu cluster-default dynamic "
                "config(s)", sm_srv.cfg.broker_id, own.n, def.n);
    sm_props_free(&def);
    sm_props_free(&own);
    reapply("start-up");
}

void
sm_dyncfg_changed(const char *entity, const sm_props_t *config)
{
    int64_t id;
    int is_default = !strcmp(entity, "<default>");
    if (!is_default && (sm_parse_i64(entity, &id) < 0 || id != sm_srv.cfg.broker_id)) return;
    pthread_rwlock_wrlock(&lock);
    props_copy(is_default ? &layer_cluster : &layer_broker, config);
    pthread_rwlock_unlock(&lock);
    char why[64];
    snprintf(why, sizeof(why), "brokers/%s", entity);
    reapply(why);
}

void
sm_dyncfg_stop(void)
{
    pthread_rwlock_wrlock(&lock);
    sm_props_free(&layer_broker);
    sm_props_free(&layer_cluster);
    pthread_rwlock_unlock(&lock);
}

sm_err_t
sm_dyncfg_describe_broker(const sm_describeconfigs_resource_t *res, int include_synonyms, sm_arena_t *a,
                          sm_describeconfigs_result_t *out, const char **msg)
{
    int per_broker = res->resource_name.len > 0;
    *msg = NULL;
    out->configs = NULL;
    out->n_configs = 0;
    if (per_broker) {
        char name[32];
        int64_t id;
        int ok = res->resource_name.len < (int32_t)sizeof(name);
        if (ok) {
            memcpy(name, res->resource_name.ptr, (size_t)res->resource_name.len);
            name[res->resource_name.len] = '\0';
            ok = sm_parse_i64(name, &id) == 0;
        }
        if (!ok || id != sm_srv.cfg.broker_id) {
            char *m = sm_arena_alloc(a, 192);
            snprintf(m, 192, "Unexpected broker id, expected %d or empty string, but received %.*s",
                     sm_srv.cfg.broker_id, res->resource_name.len > 64 ? 64 : (int)res->resource_name.len,
                     (const char *)res->resource_name.ptr);
            *msg = m;
            return SM_ERR_INVALID_REQUEST;
        }
    }
    pthread_rwlock_rdlock(&lock);
    sm_dyncfg_layers_t L = layers_now();
    out->n_configs = sm_dyncfg_describe(&sm_srv.cfg, &L, per_broker, include_synonyms, res->configuration_keys,
                                        res->n_configuration_keys, a, &out->configs);
    pthread_rwlock_unlock(&lock);
    return SM_ERR_NONE;
}

int
sm_dyncfg_topic_default_source(const char *topic_key)
{
    const char *b = sm_dyncfg_broker_synonym(topic_key);
    if (!b) return SM_CFGSRC_DEFAULT;
    sm_dyncfg_layers_t L = layers_now();
    return sm_dyncfg_source(&L, b, 1);
}

int64_t sm_dyncfg_leader_throttle_rate(void) { return __atomic_load_n(&leader_rate, __ATOMIC_RELAXED); }
int64_t sm_dyncfg_follower_throttle_rate(void) { return __atomic_load_n(&follower_rate, __ATOMIC_RELAXED); }

/*
 * sm_zk_broker.c - broker registration and the broker-side watches (see
 * sm_zk_broker.h).
 *
 * Registration is blocking (a few round trips, at start-up and after an
 * expiry) because the owner must know the outcome before going on; the
 * watches are async and re-armed on every read. Config change notifications
 * are processed in sequence order; completions on one session arrive in the
 * order the requests were sent, so pipelining the reads keeps that order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "zk/sm_zk_broker.h"

#define LOGGER "samsa.zk"
/* ZkNodeChangeNotificationListener.changeExpirationMs */
#define CHANGE_EXPIRATION_MS (15 * 60 * 1000)

const char *const sm_zk_persistent_paths[] = {
    "/consumers", "/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics",
    "/brokers/seqid", "/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification",
    "/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips", NULL,
};

struct sm_zk_broker_s {
    sm_zk_t *zk;
    sm_broker_info_t info;
    int version;
    sm_zk_broker_cb_t cb;
    int listener_id;
    int started;
    int64_t epoch;
    int64_t session_id;          /* session that owns our registration */
    int64_t prev_session_id;     /* the one before the last expiry */
    int32_t controller_id;
    int64_t last_change_seq;     /* highest config_change sequence handled */
    unsigned gen;                /* bumped on expiry: drop stale completions */
    int refs;                    /* outstanding async requests + owner */
    int freed;
};

typedef struct {
    sm_zk_broker_t *b;
    unsigned gen;
    int deliver;
    int64_t seq;
    char *topic;                 /* topic, or broker config entity */
} bctx_t;

static bctx_t *
ctx_new(sm_zk_broker_t *b)
{
    bctx_t *x = sm_calloc(1, sizeof(*x));
    x->b = b;
    x->gen = b->gen;
    b->refs++;
    return x;
}

/* Returns 1 if the completion is still relevant; always consumes the ref
 * on the last use via ctx_free(). */
static int
ctx_live(bctx_t *x)
{
    return !x->b->freed && x->gen == x->b->gen;
}

static void
ctx_free(bctx_t *x)
{
    sm_zk_broker_t *b = x->b;
    free(x->topic);
    free(x);
    if (--b->refs == 0) {
        sm_broker_info_free(&b->info);
        free(b);
    }
}

/* ---- cluster id --------------------------------------------------------- */

void
sm_zk_generate_cluster_id(char out[23])
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t u[18] = { 0 };
    if (getrandom(u, 16, 0) != 16) {
        uint64_t s = (uint64_t)sm_now_ms() ^ (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 16; i++) { s = s * 6364136223846793005ULL + 1442695040888963407ULL; u[i] = (uint8_t)(s >> 56); }
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);   /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);   /* IETF variant */
    int o = 0;
    for (int i = 0; i < 18 && o < 22; i += 3) {
        uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (o < 22) out[o++] = tab[v >> 6 & 63];
        if (o < 22) out[o++] = tab[v & 63];
    }
    out[22] = '\0';
}

static int
get_or_create_cluster_id(sm_zk_broker_t *b, char **id, char *errstr, size_t errlen)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        char *data = NULL;
        int len;
        int rc = sm_zk_get(b->zk, "/cluster/id", &data, &len, NULL);
        if (rc == ZOK) {
            int r = data ? sm_zk_decode_cluster_id(data, (size_t)len, id) : -1;
            free(data);
            if (r < 0) snprintf(errstr, errlen, "Malformed cluster id in ZooKeeper at /cluster/id");
            return r;
        }
        if (rc != ZNONODE) {
            snprintf(errstr, errlen, "Error reading /cluster/id: %s", sm_zk_rc_name(rc));
            return -1;
        }
        char fresh[23];
        sm_zk_generate_cluster_id(fresh);
        sm_wbuf_t w;
        sm_wbuf_init(&w, 64);
        sm_zk_encode_cluster_id(&w, fresh);
        rc = sm_zk_create_recursive(b->zk, "/cluster/id", (const char *)w.data, (int)w.len, 0);
        sm_wbuf_free(&w);
        if (rc == ZOK) {
            *id = sm_strdup(fresh);
            return 0;
        }
        if (rc != ZNODEEXISTS) {   /* NODEEXISTS: another broker won; read theirs */
            snprintf(errstr, errlen, "Error creating /cluster/id: %s", sm_zk_rc_name(rc));
            return -1;
        }
    }
    snprintf(errstr, errlen, "Could not get or create /cluster/id");
    return -1;
}

/* ---- registration ------------------------------------------------------- */

static int
register_broker(sm_zk_broker_t *b, char *errstr, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof(path), "/brokers/ids/%d", b->info.id);
    int64_t session = sm_zk_session_id(b->zk);
    b->info.timestamp = sm_now_ms();
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_broker(&w, &b->info, b->version);
    int rc = ZOK;
    for (int attempt = 0; attempt < 5; attempt++) {
        struct Stat st;
        rc = sm_zk_create(b->zk, path, (const char *)w.data, (int)w.len, ZOO_EPHEMERAL, NULL, &st);
        if (rc == ZOK) {
            b->epoch = st.czxid;
            b->session_id = session;
            sm_wbuf_free(&w);
            sm_log_info(LOGGER, "[KafkaZkClient] Registered broker %d at path %s with addresses: %s, czxid "
                        "(broker epoch): %" PRId64, b->info.id, path,
                        b->info.nendpoints ? b->info.endpoints[0] : "", b->epoch);
            return 0;
        }
        if (rc == ZNONODE) {   /* /brokers/ids missing (wiped?): recreate */
            sm_zk_create_recursive(b->zk, "/brokers/ids", NULL, -1, 0);
            continue;
        }
        if (rc != ZNODEEXISTS) break;
        rc = sm_zk_exists(b->zk, path, &st);
        if (rc == ZNONODE) {
            sm_log_info(LOGGER, "[KafkaZkClient] The ephemeral node at %s went away while reading it, "
                        "attempting create() again", path);
            continue;
        }
        if (rc != ZOK) break;
        if (st.ephemeralOwner == session) {   /* ours already (retry after connection loss) */
            b->epoch = st.czxid;
            b->session_id = session;
            sm_wbuf_free(&w);
            return 0;
        }
        if (b->prev_session_id && st.ephemeralOwner == b->prev_session_id) {
            /* Left over from our expired session (KAFKA-7165): replace it. */
            sm_log_info(LOGGER, "[KafkaZkClient] Deleting stale registration at %s of our previous session "
                        "0x%llx", path, (unsigned long long)b->prev_session_id);
            sm_zk_delete(b->zk, path, st.version);
            continue;
        }
        snprintf(errstr, errlen, "Error while creating ephemeral at %s, node already exists and owner '%" PRId64
                 "' does not match current session '%" PRId64 "'", path, (int64_t)st.ephemeralOwner, session);
        sm_log_error(LOGGER, "[KafkaZkClient] %s", errstr);
        sm_wbuf_free(&w);
        return -1;
    }
    sm_wbuf_free(&w);
    snprintf(errstr, errlen, "Error while creating ephemeral at %s: %s", path, sm_zk_rc_name(rc));
    return -1;
}

/* ---- /controller -------------------------------------------------------- */

static void watch_controller(sm_zk_broker_t *b);

static void
set_controller(sm_zk_broker_t *b, int32_t id)
{
    if (id == b->controller_id) return;
    b->controller_id = id;
    if (b->cb.controller_changed) b->cb.controller_changed(b->cb.arg, id);
}

static void
on_controller_exists(void *arg, const sm_zk_res_t *r)
{
    bctx_t *x = arg;
    sm_zk_broker_t *b = x->b;
    /* Created between our get and exists: read it now. */
    if (ctx_live(x) && r->rc == ZOK) watch_controller(b);
    ctx_free(x);
}

static void
on_controller(void *arg, const sm_zk_res_t *r)
{
    bctx_t *x = arg;
    sm_zk_broker_t *b = x->b;
    if (ctx_live(x)) {
        int32_t id = -1;
        if (r->rc == ZOK && r->data && sm_zk_decode_controller(r->data, (size_t)r->len, &id) < 0) id = -1;
        if (r->rc == ZOK || r->rc == ZNONODE) set_controller(b, id);
        /* A get on a missing node leaves no watch: arm an exists watch. */
        if (r->rc == ZNONODE) sm_zk_aexists(b->zk, "/controller", 1, on_controller_exists, ctx_new(b));
    }
    ctx_free(x);
}

static void
watch_controller(sm_zk_broker_t *b)
{
    sm_zk_aget(b->zk, "/controller", 1, on_controller, ctx_new(b));
}

/* ---- /config/changes ---------------------------------------------------- */

static void
on_topic_config(void *arg, const sm_zk_res_t *r)
{
    bctx_t *x = arg;
    sm_zk_broker_t *b = x->b;
    if (ctx_live(x) && b->cb.topic_config_changed) {
        sm_props_t p;
        sm_props_init(&p);
        /* A deleted topic config reads as empty, as in Kafka. */
        if (r->rc == ZNONODE || (r->rc == ZOK && (!r->data || sm_zk_decode_config(r->data, (size_t)r->len, &p) == 0))) {
            sm_log_info(LOGGER, "[DynamicConfigManager] Processing override for entityPath: topics/%s", x->topic);
            b->cb.topic_config_changed(b->cb.arg, x->topic, &p);
        } else {
            sm_log_warn(LOGGER, "[DynamicConfigManager] Could not read config of topic %s: %s", x->topic,
                        sm_zk_rc_name(r->rc));
        }
        sm_props_free(&p);
    }
    ctx_free(x);
}

static void
on_broker_config(void *arg, const sm_zk_res_t *r)
{
    bctx_t *x = arg;
    sm_zk_broker_t *b = x->b;
    if (ctx_live(x) && b->cb.broker_config_changed) {
        sm_props_t p;
        sm_props_init(&p);
        if (r->rc == ZNONODE || (r->rc == ZOK && (!r->data || sm_zk_decode_config(r->data, (size_t)r->len, &p) == 0))) {
            sm_log_info(LOGGER, "[DynamicConfigManager] Processing override for entityPath: brokers/%s", x->topic);
            b->cb.broker_config_changed(b->cb.arg, x->topic, &p);
        } else {
            sm_log_warn(LOGGER, "[DynamicConfigManager] Could not read config of brokers/%s: %s", x->topic,
                        sm_zk_rc_name(r->rc));
        }
        sm_props_free(&p);
    }
    ctx_free(x);
}

/* Kafka's BrokerConfigHandler acts on the cluster default and its own id. */
static int
broker_entity_is_ours(const sm_zk_broker_t *b, const char *name)
{
    int64_t id;
    if (!strcmp(name, "<default>")) return 1;
    return sm_parse_i64(name, &id) == 0 && id == b->info.id;
}

static void
on_change(void *arg, const sm_zk_res_t *r)
{
    bctx_t *x = arg;
    sm_zk_broker_t *b = x->b;
    if (ctx_live(x) && r->rc == ZOK) {
        if (r->has_stat && r->stat.ctime < sm_now_ms() - CHANGE_EXPIRATION_MS) {
            /* Purge like ZkNodeChangeNotificationListener.purgeObsoleteNotifications. */
            sm_zk_adelete(b->zk, r->path, -1, NULL, NULL);
        }
        char *type = NULL, *name = NULL;
        if (x->deliver) {
            if (!r->data || sm_zk_decode_config_change(r->data, (size_t)r->len, &type, &name) < 0) {
                sm_log_warn(LOGGER, "[DynamicConfigManager] Ignoring malformed config change notification %s",
                            r->path);
            } else if (!strcmp(type, "topics")) {
                bctx_t *y = ctx_new(b);
                y->topic = sm_strdup(name);
                char *path = sm_asprintf("/config/topics/%s", name);
                sm_zk_aget(b->zk, path, 0, on_topic_config, y);
                free(path);
            } else if (!strcmp(type, "brokers") && broker_entity_is_ours(b, name)) {
                bctx_t *y = ctx_new(b);
                y->topic = sm_strdup(name);   /* the entity name */
                char *path = sm_asprintf("/config/brokers/%s", name);
                sm_zk_aget(b->zk, path, 0, on_broker_config, y);
                free(path);
            }
        }
        free(type);
        free(name);
    }
    ctx_free(x);
}

static int
cmp_str(const void *a, const void *c)
{
    return strcmp(*(char *const *)a, *(char *const *)c);
}

static void
on_changes_children(void *arg, const sm_zk_res_t *r)
{
    bctx_t *x = arg;
    sm_zk_broker_t *b = x->b;
    if (ctx_live(x) && r->rc == ZOK) {
        qsort(r->children, (size_t)r->nchildren, sizeof(char *), cmp_str);
        int64_t max = b->last_change_seq;
        for (int i = 0; i < r->nchildren; i++) {
            const char *c = r->children[i];
            int64_t seq;
            if (strncmp(c, "config_change_", 14) || sm_parse_i64(c + 14, &seq) < 0) continue;
            int fresh = seq > b->last_change_seq;
            /* Before start-up completes, old notifications are only purged. */
            if (!fresh && x->deliver) continue;
            bctx_t *y = ctx_new(b);
            y->deliver = fresh && x->deliver;
            y->seq = seq;
            char *path = sm_asprintf("/config/changes/%s", c);
            sm_zk_aget(b->zk, path, 0, on_change, y);
            free(path);
            if (seq > max) max = seq;
        }
        b->last_change_seq = max;
    }
    ctx_free(x);
}

static void
watch_changes(sm_zk_broker_t *b, int deliver)
{
    bctx_t *x = ctx_new(b);
    x->deliver = deliver;
    sm_zk_achildren(b->zk, "/config/changes", 1, on_changes_children, x);
}

/* ---- session events ----------------------------------------------------- */

static void
on_zk_event(void *arg, sm_zk_event_t ev, const char *path)
{
    sm_zk_broker_t *b = arg;
    if (!b->started) return;
    switch (ev) {
    case SM_ZK_EV_CREATED:
    case SM_ZK_EV_DELETED:
    case SM_ZK_EV_CHANGED:
        if (!strcmp(path, "/controller")) watch_controller(b);
        break;
    case SM_ZK_EV_CHILD:
        if (!strcmp(path, "/config/changes")) watch_changes(b, 1);
        break;
    case SM_ZK_EV_EXPIRED:
        b->gen++;
        b->prev_session_id = b->session_id;
        break;
    case SM_ZK_EV_NEW_SESSION: {
        char err[512];
        sm_log_info(LOGGER, "[KafkaZkClient] Re-registering broker %d after session expiry", b->info.id);
        if (register_broker(b, err, sizeof(err)) < 0) {
            if (b->cb.fatal) b->cb.fatal(b->cb.arg, err);
            return;
        }
        if (b->cb.registered) b->cb.registered(b->cb.arg, b->epoch);
        watch_controller(b);
        watch_changes(b, 1);
        break;
    }
    default:
        break;
    }
}

/* ---- lifecycle ---------------------------------------------------------- */

static char **
dup_strv(char **v, int n)
{
    if (!v) return NULL;
    char **c = sm_calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) c[i] = v[i] ? sm_strdup(v[i]) : NULL;
    return c;
}

sm_zk_broker_t *
sm_zk_broker_new(sm_zk_t *zk, const sm_broker_info_t *info, int version, const sm_zk_broker_cb_t *cb)
{
    sm_zk_broker_t *b = sm_calloc(1, sizeof(*b));
    b->zk = zk;
    b->version = version >= 5 ? 5 : 4;
    if (cb) b->cb = *cb;
    b->refs = 1;
    b->controller_id = -1;
    b->epoch = -1;
    b->last_change_seq = -1;
    b->info = *info;
    b->info.host = info->host ? sm_strdup(info->host) : NULL;
    b->info.rack = info->rack ? sm_strdup(info->rack) : NULL;
    int n = info->nendpoints;
    b->info.endpoint_listener = dup_strv(info->endpoint_listener, n);
    b->info.endpoint_host = dup_strv(info->endpoint_host, n);
    b->info.endpoint_port = sm_calloc((size_t)n + 1, sizeof(int32_t));
    if (info->endpoint_port) memcpy(b->info.endpoint_port, info->endpoint_port, sizeof(int32_t) * (size_t)n);
    /* Always store the rendered endpoint strings for the log line. */
    b->info.endpoints = sm_calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) {
        if (info->endpoints && info->endpoints[i]) {
            b->info.endpoints[i] = sm_strdup(info->endpoints[i]);
        } else {
            const char *l = b->info.endpoint_listener && b->info.endpoint_listener[i] ? b->info.endpoint_listener[i]
                                                                                      : "PLAINTEXT";
            const char *h = b->info.endpoint_host && b->info.endpoint_host[i] ? b->info.endpoint_host[i] : "";
            b->info.endpoints[i] = strchr(h, ':') ? sm_asprintf("%s://[%s]:%d", l, h, b->info.endpoint_port[i])
                                                  : sm_asprintf("%s://%s:%d", l, h, b->info.endpoint_port[i]);
        }
    }
    if (!b->info.endpoint_listener) b->info.endpoint_listener = sm_calloc((size_t)n + 1, sizeof(char *));
    if (!b->info.endpoint_host) b->info.endpoint_host = sm_calloc((size_t)n + 1, sizeof(char *));
    b->listener_id = sm_zk_add_listener(zk, on_zk_event, b);
    return b;
}

void
sm_zk_broker_free(sm_zk_broker_t *b)
{
    if (!b) return;
    sm_zk_remove_listener(b->zk, b->listener_id);
    b->freed = 1;
    if (--b->refs == 0) {
        sm_broker_info_free(&b->info);
        free(b);
    }
}

int
sm_zk_broker_start(sm_zk_broker_t *b, char **cluster_id, int64_t *broker_epoch, char *errstr, size_t errlen)
{
    for (int i = 0; sm_zk_persistent_paths[i]; i++) {
        int rc = sm_zk_create_recursive(b->zk, sm_zk_persistent_paths[i], NULL, -1, 0);
        if (rc != ZOK && rc != ZNODEEXISTS) {
            snprintf(errstr, errlen, "Error creating %s: %s", sm_zk_persistent_paths[i], sm_zk_rc_name(rc));
            return -1;
        }
    }
    char *cid = NULL;
    if (get_or_create_cluster_id(b, &cid, errstr, errlen) < 0) return -1;
    if (register_broker(b, errstr, errlen) < 0) {
        free(cid);
        return -1;
    }
    if (cluster_id) *cluster_id = cid;
    else free(cid);
    if (broker_epoch) *broker_epoch = b->epoch;
    b->started = 1;
    watch_controller(b);
    watch_changes(b, 0);
    /* From now on every new notification is delivered. */
    return 0;
}

int32_t sm_zk_broker_controller_id(const sm_zk_broker_t *b) { return b->controller_id; }
int64_t sm_zk_broker_epoch(const sm_zk_broker_t *b) { return b->epoch; }

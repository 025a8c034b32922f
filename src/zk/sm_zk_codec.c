/*
 * sm_zk_codec.c - JSON encoders and decoders for the znodes of Kafka 2.x's
 * ZooKeeper layout (broker registration, topic assignment, partition state,
 * entity config, controller, cluster id, config change notifications).
 *
 * Decoders parse untrusted bytes with sm_json (bounded depth, explicit
 * length, no NUL terminator needed), validate every field they keep, and on
 * any failure return -1 with *out left zeroed, so callers never see a
 * half-filled struct. Encoders write Kafka's key names and value types; key
 * order is irrelevant to Kafka (Jackson maps) but is kept like Kafka's own
 * output to make diffs against a real cluster easy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_json.h"
#include "core/sm_util.h"
#include "zk/sm_zk_codec.h"

/* ---- small writer helpers ---------------------------------------------- */

static void
put(sm_wbuf_t *w, const char *s)
{
    sm_write_raw(w, s, strlen(s));
}

static void
put_i64(sm_wbuf_t *w, int64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    sm_write_raw(w, buf, (size_t)n);
}

/* "key": with a leading comma unless first. */
static void
put_key(sm_wbuf_t *w, int *first, const char *key)
{
    if (!*first) put(w, ",");
    *first = 0;
    sm_json_write_string(w, key);
    put(w, ":");
}

static int
int32_of(const sm_json_t *j, int32_t *out)
{
    int64_t v;
    if (!j || j->type != SM_JSON_NUMBER || sm_json_int(j, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

/* Parse an int32 array into a fresh buffer; -1 on any non-integer. */
static int
int32_array(const sm_json_t *arr, int32_t **out, int32_t *n)
{
    if (!arr || arr->type != SM_JSON_ARRAY || arr->count > INT32_MAX) return -1;
    int32_t *v = sm_calloc(arr->count ? arr->count : 1, sizeof(*v));
    int32_t i = 0;
    for (const sm_json_t *e = arr->child; e; e = e->next, i++) {
        if (int32_of(e, &v[i]) < 0) { free(v); return -1; }
    }
    *out = v;
    *n = i;
    return 0;
}

static void
put_i32_array(sm_wbuf_t *w, const int32_t *v, int32_t n)
{
    put(w, "[");
    for (int32_t i = 0; i < n; i++) {
        if (i) put(w, ",");
        put_i64(w, v[i]);
    }
    put(w, "]");
}

/* Decimal string (partition keys) to int32 >= 0, whole string. */
static int
parse_partition_key(const char *s, int32_t *out)
{
    int64_t v;
    if (!s || !*s || sm_parse_i64(s, &v) < 0 || v < 0 || v > INT32_MAX) return -1;
    if (s[0] == '0' && s[1]) return -1;        /* "01" is not a key Kafka writes */
    if (s[0] == '+' || s[0] == '-') return -1;
    *out = (int32_t)v;
    return 0;
}

/* ---- /brokers/ids/<id> -------------------------------------------------- */

/* Split "LISTENER://host:port" (IPv6 host bracketed). Returns 0 or -1. */
static int
parse_endpoint(const char *ep, char **listener, char **host, int32_t *port)
{
    const char *sep = strstr(ep, "://");
    if (!sep || sep == ep) return -1;
    const char *h = sep + 3, *hend, *colon;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend || hend[1] != ':') return -1;
        colon = hend + 1;
        h++;
    } else {
        colon = strrchr(h, ':');
        if (!colon) return -1;
        hend = colon;
    }
    int64_t p;
    if (sm_parse_i64(colon + 1, &p) < 0 || p < 0 || p > 65535) return -1;
    *listener = sm_strndup(ep, (size_t)(sep - ep));
    *host = sm_strndup(h, (size_t)(hend - h));
    *port = (int32_t)p;
    return 0;
}

static const char *
security_protocol_of(const sm_json_t *map, const char *listener)
{
    const char *sp = map ? sm_json_get_str(map, listener) : NULL;
    return sp ? sp : listener;
}

int
sm_zk_decode_broker(const char *json, size_t len, int32_t id, sm_broker_info_t *out)
{
    memset(out, 0, sizeof(*out));
    out->id = id;
    out->port = -1;
    out->jmx_port = -1;
    out->broker_epoch = -1;
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    if (!root || root->type != SM_JSON_OBJECT) goto bad;
    int64_t version, v;
    if (sm_json_get_int(root, "version", &version) < 0) goto bad;
    const sm_json_t *map = sm_json_get(root, "listener_security_protocol_map");
    if (map && map->type != SM_JSON_OBJECT && map->type != SM_JSON_NULL) goto bad;

    const sm_json_t *eps = sm_json_get(root, "endpoints");
    if (eps && eps->type == SM_JSON_ARRAY) {
        if (eps->count > 1024) goto bad;
        size_t n = eps->count;
        out->endpoints = sm_calloc(n + 1, sizeof(char *));
        out->endpoint_listener = sm_calloc(n + 1, sizeof(char *));
        out->endpoint_host = sm_calloc(n + 1, sizeof(char *));
        out->endpoint_port = sm_calloc(n + 1, sizeof(int32_t));
        for (const sm_json_t *e = eps->child; e; e = e->next) {
            int i = out->nendpoints;
            if (e->type != SM_JSON_STRING) goto bad;
            if (parse_endpoint(e->str, &out->endpoint_listener[i], &out->endpoint_host[i],
                               &out->endpoint_port[i]) < 0)
                goto bad;
            out->endpoints[i] = sm_strdup(e->str);
            out->nendpoints++;
        }
    } else if (eps && eps->type != SM_JSON_NULL) {
        goto bad;
    }

    const char *host = sm_json_get_str(root, "host");
    int32_t port = -1;
    const sm_json_t *pj = sm_json_get(root, "port");
    if (pj && pj->type != SM_JSON_NULL && (int32_of(pj, &port) < 0 || port < -1 || port > 65535)) goto bad;
    if (host && port >= 0) {
        out->host = sm_strdup(host);
        out->port = port;
    } else {
        for (int i = 0; i < out->nendpoints; i++) {
            if (!strcmp(security_protocol_of(map, out->endpoint_listener[i]), "PLAINTEXT")) {
                out->host = sm_strdup(out->endpoint_host[i]);
                out->port = out->endpoint_port[i];
                break;
            }
        }
    }
    /* Version 1 registrations carry only host/port: treat them as one
     * PLAINTEXT endpoint so callers can always walk endpoints[]. */
    if (out->nendpoints == 0 && out->host) {
        free(out->endpoints);
        free(out->endpoint_listener);
        free(out->endpoint_host);
        free(out->endpoint_port);
        out->endpoints = sm_calloc(2, sizeof(char *));
        out->endpoint_listener = sm_calloc(2, sizeof(char *));
        out->endpoint_host = sm_calloc(2, sizeof(char *));
        out->endpoint_port = sm_calloc(2, sizeof(int32_t));
        out->endpoints[0] = strchr(out->host, ':') ? sm_asprintf("PLAINTEXT://[%s]:%d", out->host, out->port)
                                                   : sm_asprintf("PLAINTEXT://%s:%d", out->host, out->port);
        out->endpoint_listener[0] = sm_strdup("PLAINTEXT");
        out->endpoint_host[0] = sm_strdup(out->host);
        out->endpoint_port[0] = out->port;
        out->nendpoints = 1;
    }

    const sm_json_t *rack = sm_json_get(root, "rack");
    if (rack && rack->type == SM_JSON_STRING) out->rack = sm_strdup(rack->str);
    else if (rack && rack->type != SM_JSON_NULL) goto bad;
    const sm_json_t *jmx = sm_json_get(root, "jmx_port");
    if (jmx && int32_of(jmx, &out->jmx_port) < 0) goto bad;
    const sm_json_t *ts = sm_json_get(root, "timestamp");
    if (ts) {
        if (sm_json_int(ts, &v) < 0) goto bad;
        out->timestamp = v;
    }
    sm_json_free(root);
    return 0;
bad:
    sm_json_free(root);
    sm_broker_info_free(out);
    out->id = id;
    return -1;
}

void
sm_zk_encode_broker(sm_wbuf_t *w, const sm_broker_info_t *b, int version)
{
    int first = 1;
    put(w, "{");
    put_key(w, &first, "listener_security_protocol_map");
    put(w, "{");
    for (int i = 0, f = 1; i < b->nendpoints; i++) {
        const char *l = b->endpoint_listener && b->endpoint_listener[i] ? b->endpoint_listener[i] : "PLAINTEXT";
        int dup = 0;
        for (int k = 0; k < i; k++)
            if (b->endpoint_listener && b->endpoint_listener[k] && !strcmp(b->endpoint_listener[k], l)) dup = 1;
        if (dup) continue;
        /* Without a listener.security.protocol.map only the four protocol
         * names are valid listener names, each mapping to itself. */
        const char *sp = (!strcmp(l, "SSL") || !strcmp(l, "SASL_PLAINTEXT") || !strcmp(l, "SASL_SSL"))
                             ? l : "PLAINTEXT";
        put_key(w, &f, l);
        sm_json_write_string(w, sp);
    }
    put(w, "}");
    put_key(w, &first, "endpoints");
    put(w, "[");
    for (int i = 0; i < b->nendpoints; i++) {
        if (i) put(w, ",");
        if (b->endpoints && b->endpoints[i]) {
            sm_json_write_string(w, b->endpoints[i]);
        } else {
            const char *l = b->endpoint_listener && b->endpoint_listener[i] ? b->endpoint_listener[i] : "PLAINTEXT";
            const char *h = b->endpoint_host && b->endpoint_host[i] ? b->endpoint_host[i] : "";
            char *s = strchr(h, ':') ? sm_asprintf("%s://[%s]:%d", l, h, b->endpoint_port[i])
                                     : sm_asprintf("%s://%s:%d", l, h, b->endpoint_port[i]);
            sm_json_write_string(w, s);
            free(s);
        }
    }
    put(w, "]");
    if (b->rack) {
        put_key(w, &first, "rack");
        sm_json_write_string(w, b->rack);
    }
    put_key(w, &first, "jmx_port");
    put_i64(w, b->jmx_port);
    if (version >= 5) {
        put_key(w, &first, "features");
        put(w, "{}");
    }
    /* host/port repeat the first PLAINTEXT endpoint (null/-1 if none). */
    const char *host = b->host;
    int32_t port = b->port;
    for (int i = 0; !host && i < b->nendpoints; i++) {
        if (b->endpoint_listener && b->endpoint_listener[i] && !strcmp(b->endpoint_listener[i], "PLAINTEXT") &&
            b->endpoint_host && b->endpoint_host[i] && b->endpoint_port) {
            host = b->endpoint_host[i];
            port = b->endpoint_port[i];
        }
    }
    put_key(w, &first, "host");
    if (host) sm_json_write_string(w, host);
    else put(w, "null");
    put_key(w, &first, "timestamp");
    char ts[32];
    snprintf(ts, sizeof(ts), "%" PRId64, b->timestamp);
    sm_json_write_string(w, ts);
    put_key(w, &first, "port");
    put_i64(w, host ? port : -1);
    put_key(w, &first, "version");
    put_i64(w, version >= 5 ? 5 : 4);
    put(w, "}");
}

void
sm_broker_info_free(sm_broker_info_t *b)
{
    if (!b) return;
    for (int i = 0; i < b->nendpoints; i++) {
        if (b->endpoints) free(b->endpoints[i]);
        if (b->endpoint_listener) free(b->endpoint_listener[i]);
        if (b->endpoint_host) free(b->endpoint_host[i]);
    }
    /* A decoder that failed mid-array may have filled slot nendpoints. */
    if (b->endpoints) free(b->endpoints[b->nendpoints]);
    if (b->endpoint_listener) free(b->endpoint_listener[b->nendpoints]);
    if (b->endpoint_host) free(b->endpoint_host[b->nendpoints]);
    free(b->endpoints);
    free(b->endpoint_listener);
    free(b->endpoint_host);
    free(b->endpoint_port);
    free(b->host);
    free(b->rack);
    memset(b, 0, sizeof(*b));
    b->port = -1;
    b->jmx_port = -1;
    b->broker_epoch = -1;
}

/* ---- /brokers/topics/<t> ------------------------------------------------ */

/* Optional {"0":[1,2],...} map of a v2 topic znode into per-partition
 * arrays (left NULL when the map is absent or empty). */
static int
replica_map(const sm_json_t *m, int32_t np, int32_t **nv, int32_t ***v)
{
    if (!m || m->type == SM_JSON_NULL) return 0;
    if (m->type != SM_JSON_OBJECT) return -1;
    if (!m->child) return 0;
    *nv = sm_calloc(np ? (size_t)np : 1, sizeof(int32_t));
    *v = sm_calloc(np ? (size_t)np : 1, sizeof(int32_t *));
    for (const sm_json_t *e = m->child; e; e = e->next) {
        int32_t p;
        if (parse_partition_key(e->key, &p) < 0 || p >= np || (*v)[p]) return -1;
        if (int32_array(e, &(*v)[p], &(*nv)[p]) < 0) return -1;
    }
    return 0;
}

int
sm_zk_decode_assignment(const char *json, size_t len, sm_topic_assignment_t *out)
{
    memset(out, 0, sizeof(*out));
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    int64_t version;
    if (!root || root->type != SM_JSON_OBJECT) goto bad;
    if (sm_json_get_int(root, "version", &version) < 0 || version < 1) goto bad;
    const sm_json_t *parts = sm_json_get(root, "partitions");
    if (!parts || parts->type != SM_JSON_OBJECT || parts->count > 1000000) goto bad;
    int32_t n = (int32_t)parts->count;
    out->nreplicas = sm_calloc(n ? n : 1, sizeof(int32_t));
    out->replicas = sm_calloc(n ? n : 1, sizeof(int32_t *));
    out->npartitions = n;
    /* Keys may come in any order; they must be exactly 0..n-1. */
    for (const sm_json_t *e = parts->child; e; e = e->next) {
        int32_t p;
        if (parse_partition_key(e->key, &p) < 0 || p >= n || out->replicas[p]) goto bad;
        if (int32_array(e, &out->replicas[p], &out->nreplicas[p]) < 0) goto bad;
    }
    const char *tid = sm_json_get_str(root, "topic_id");
    if (tid) out->topic_id = sm_strdup(tid);
    sm_json_free(root);
    return 0;
bad:
    sm_json_free(root);
    sm_topic_assignment_free(out);
    return -1;
}

static void
put_replica_map(sm_wbuf_t *w, int32_t np, const int32_t *nv, int32_t *const *v)
{
    put(w, "{");
    int first = 1;
    for (int32_t p = 0; nv && p < np; p++) {
        if (nv[p] <= 0) continue;
        char key[16];
        snprintf(key, sizeof(key), "%d", p);
        if (!first) put(w, ",");
        first = 0;
        sm_json_write_string(w, key);
        put(w, ":");
        put_i32_array(w, v[p], nv[p]);
    }
    put(w, "}");
}

int
sm_zk_decode_reassigning(const char *json, size_t len, int32_t npartitions, sm_zk_reassigning_t *out)
{
    memset(out, 0, sizeof(*out));
    out->npartitions = npartitions;
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    int rc = -1;
    if (root && root->type == SM_JSON_OBJECT &&
        replica_map(sm_json_get(root, "adding_replicas"), npartitions, &out->nadding, &out->adding) == 0 &&
        replica_map(sm_json_get(root, "removing_replicas"), npartitions, &out->nremoving, &out->removing) == 0)
        rc = 0;
    sm_json_free(root);
    if (rc < 0) sm_zk_reassigning_free(out);
    return rc;
}

void
sm_zk_reassigning_free(sm_zk_reassigning_t *r)
{
    if (!r) return;
    for (int32_t p = 0; r->adding && p < r->npartitions; p++) free(r->adding[p]);
    for (int32_t p = 0; r->removing && p < r->npartitions; p++) free(r->removing[p]);
    free(r->adding);
    free(r->nadding);
    free(r->removing);
    free(r->nremoving);
    memset(r, 0, sizeof(*r));
}

void
sm_zk_encode_assignment(sm_wbuf_t *w, const sm_topic_assignment_t *a)
{
    sm_zk_encode_assignment_ex(w, a, NULL);
}

void
sm_zk_encode_assignment_ex(sm_wbuf_t *w, const sm_topic_assignment_t *a, const sm_zk_reassigning_t *r)
{
    put(w, "{\"version\":2,\"partitions\":{");
    for (int32_t p = 0; p < a->npartitions; p++) {
        if (p) put(w, ",");
        char key[16];
        snprintf(key, sizeof(key), "%d", p);
        sm_json_write_string(w, key);
        put(w, ":");
        put_i32_array(w, a->replicas[p], a->nreplicas[p]);
    }
    put(w, "},\"adding_replicas\":");
    put_replica_map(w, r ? r->npartitions : 0, r ? r->nadding : NULL, r ? r->adding : NULL);
    put(w, ",\"removing_replicas\":");
    put_replica_map(w, r ? r->npartitions : 0, r ? r->nremoving : NULL, r ? r->removing : NULL);
    put(w, "}");
}

void
sm_topic_assignment_free(sm_topic_assignment_t *a)
{
    if (!a) return;
    if (a->replicas)
        for (int32_t p = 0; p < a->npartitions; p++) free(a->replicas[p]);
    free(a->replicas);
    free(a->nreplicas);
    free(a->topic_id);

    memset(a, 0, sizeof(*a));
}

/* ---- /brokers/topics/<t>/partitions/<p>/state --------------------------- */

int
sm_zk_decode_partition_state(const char *json, size_t len, sm_partition_state_t *out)
{
    memset(out, 0, sizeof(*out));
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    if (!root || root->type != SM_JSON_OBJECT) goto bad;
    if (int32_of(sm_json_get(root, "controller_epoch"), &out->controller_epoch) < 0 ||
        int32_of(sm_json_get(root, "leader"), &out->leader) < 0 ||
        int32_of(sm_json_get(root, "leader_epoch"), &out->leader_epoch) < 0 ||
        int32_array(sm_json_get(root, "isr"), &out->isr, &out->nisr) < 0)
        goto bad;
    sm_json_free(root);
    return 0;
bad:
    sm_json_free(root);
    sm_partition_state_free(out);
    return -1;
}

void
sm_zk_encode_partition_state(sm_wbuf_t *w, const sm_partition_state_t *s)
{
    put(w, "{\"controller_epoch\":");
    put_i64(w, s->controller_epoch);
    put(w, ",\"leader\":");
    put_i64(w, s->leader);
    put(w, ",\"version\":1,\"leader_epoch\":");
    put_i64(w, s->leader_epoch);
    put(w, ",\"isr\":");
    put_i32_array(w, s->isr, s->nisr);
    put(w, "}");
}

void
sm_partition_state_free(sm_partition_state_t *s)
{
    if (!s) return;
    free(s->isr);
    memset(s, 0, sizeof(*s));
}

/* ---- /config/<type>/<name> ---------------------------------------------- */

int
sm_zk_decode_config(const char *json, size_t len, sm_props_t *out)
{
    sm_props_init(out);
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    if (!root || root->type != SM_JSON_OBJECT) goto bad;
    const sm_json_t *cfg = sm_json_get(root, "config");
    if (!cfg || cfg->type != SM_JSON_OBJECT) goto bad;
    for (const sm_json_t *e = cfg->child; e; e = e->next) {
        if (e->type != SM_JSON_STRING) goto bad;
        sm_props_set(out, e->key, e->str);
    }
    sm_json_free(root);
    return 0;
bad:
    sm_json_free(root);
    sm_props_free(out);
    sm_props_init(out);
    return -1;
}

void
sm_zk_encode_config(sm_wbuf_t *w, const sm_props_t *config)
{
    put(w, "{\"version\":1,\"config\":{");
    int first = 1;
    for (size_t i = 0; config && i < config->n; i++) {
        /* Later duplicates win, as in sm_props_get(). */
        int later = 0;
        for (size_t k = i + 1; k < config->n; k++)
            if (!strcmp(config->items[k].key, config->items[i].key)) later = 1;
        if (later) continue;
        put_key(w, &first, config->items[i].key);
        sm_json_write_string(w, config->items[i].value ? config->items[i].value : "");
    }
    put(w, "}}");
}

/* ---- /controller -------------------------------------------------------- */

int
sm_zk_decode_controller(const char *json, size_t len, int32_t *broker_id)
{
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    int32_t id;
    int rc = -1;
    if (root && root->type == SM_JSON_OBJECT && int32_of(sm_json_get(root, "brokerid"), &id) == 0) {
        *broker_id = id;
        rc = 0;
    }
    sm_json_free(root);
    return rc;
}

void
sm_zk_encode_controller(sm_wbuf_t *w, int32_t broker_id, int64_t timestamp_ms)
{
    char ts[32];
    snprintf(ts, sizeof(ts), "%" PRId64, timestamp_ms);
    put(w, "{\"version\":1,\"brokerid\":");
    put_i64(w, broker_id);
    put(w, ",\"timestamp\":");
    sm_json_write_string(w, ts);
    put(w, "}");
}

/* ---- /cluster/id -------------------------------------------------------- */

int
sm_zk_decode_cluster_id(const char *json, size_t len, char **id)
{
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    const char *s = root && root->type == SM_JSON_OBJECT ? sm_json_get_str(root, "id") : NULL;
    int rc = -1;
    if (s && *s) {
        *id = sm_strdup(s);
        rc = 0;
    }
    sm_json_free(root);
    return rc;
}

void
sm_zk_encode_cluster_id(sm_wbuf_t *w, const char *id)
{
    put(w, "{\"version\":\"1\",\"id\":");
    sm_json_write_string(w, id);
    put(w, "}");
}

/* ---- /config/changes/config_change_N ------------------------------------ */

int
sm_zk_decode_config_change(const char *json, size_t len, char **entity_type, char **entity_name)
{
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    int64_t version;
    int rc = -1;
    if (!root || root->type != SM_JSON_OBJECT || sm_json_get_int(root, "version", &version) < 0) goto out;
    if (version == 1) {
        const char *t = sm_json_get_str(root, "entity_type"), *n = sm_json_get_str(root, "entity_name");
        if (!t || !n || !*t || !*n) goto out;
        *entity_type = sm_strdup(t);
        *entity_name = sm_strdup(n);
        rc = 0;
    } else if (version == 2) {
        const char *p = sm_json_get_str(root, "entity_path");
        const char *slash = p ? strchr(p, '/') : NULL;
        if (!slash || slash == p || !slash[1]) goto out;
        *entity_type = sm_strndup(p, (size_t)(slash - p));
        *entity_name = sm_strdup(slash + 1);
        rc = 0;
    }
out:
    sm_json_free(root);
    return rc;
}

void
sm_zk_encode_config_change(sm_wbuf_t *w, const char *entity_type, const char *entity_name)
{
    char *path = sm_asprintf("%s/%s", entity_type, entity_name);
    put(w, "{\"version\":2,\"entity_path\":");
    sm_json_write_string(w, path);
    put(w, "}");
    free(path);
}

/* ---- partition lists (admin and notification znodes) -------------------- */

int
sm_zk_decode_tp_list(const char *json, size_t len, int with_replicas, sm_zk_tp_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    sm_json_t *root = sm_json_parse(json, len, NULL, 0);
    int64_t version;
    if (!root || root->type != SM_JSON_OBJECT) goto bad;
    if (sm_json_get(root, "version") && (sm_json_get_int(root, "version", &version) < 0 || version != 1)) goto bad;
    const sm_json_t *parts = sm_json_get(root, "partitions");
    if (!parts || parts->type != SM_JSON_ARRAY || parts->count > 10000000) goto bad;
    *out = sm_calloc(parts->count + 1, sizeof(sm_zk_tp_t));
    for (const sm_json_t *e = parts->child; e; e = e->next) {
        if (e->type != SM_JSON_OBJECT) goto bad;
        const char *topic = sm_json_get_str(e, "topic");
        int32_t p;
        if (!topic || !*topic || int32_of(sm_json_get(e, "partition"), &p) < 0 || p < 0) goto bad;
        sm_zk_tp_t *tp = &(*out)[*n];
        tp->topic = sm_strdup(topic);
        tp->partition = p;
        (*n)++;
        if (with_replicas) {
            if (int32_array(sm_json_get(e, "replicas"), &tp->replicas, &tp->nreplicas) < 0) goto bad;
            for (int32_t i = 0; i < tp->nreplicas; i++)
                for (int32_t k = 0; k < i; k++)
                    if (tp->replicas[i] == tp->replicas[k]) goto bad;
        }
        for (int i = 0; i < *n - 1; i++)
            if ((*out)[i].partition == p && !strcmp((*out)[i].topic, topic)) goto bad;
    }
    sm_json_free(root);
    return 0;
bad:
    sm_json_free(root);
    return -1;
}

void
sm_zk_encode_tp_list(sm_wbuf_t *w, const sm_zk_tp_t *v, int n, int with_replicas)
{
    put(w, "{\"version\":1,\"partitions\":[");
    for (int i = 0; i < n; i++) {
        if (i) put(w, ",");
        put(w, "{\"topic\":");
        sm_json_write_string(w, v[i].topic);
        put(w, ",\"partition\":");
        put_i64(w, v[i].partition);
        if (with_replicas) {
            put(w, ",\"replicas\":");
            put_i32_array(w, v[i].replicas, v[i].nreplicas);
        }
        put(w, "}");
    }
    put(w, "]}");
}

void
sm_zk_tp_list_free(sm_zk_tp_t *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        free(v[i].topic);
        free(v[i].replicas);
    }
    free(v);
}

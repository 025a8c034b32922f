/*
 * sm_zk_admin.c - blocking topic administration over ZooKeeper (see
 * sm_zk_admin.h), following Kafka 2.x's AdminZkClient and AdminUtils:
 * write order, validation order, error codes and messages.
 *
 * Every call here uses the sync helpers of sm_zk.h, so it must not run on
 * a ZooKeeper callback thread; it may run on a tool's main thread or on a
 * broker worker thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_admin.h"

#define LOGGER "samsa.admin"

/* Topic-level config names Kafka 2.x accepts (LogConfig.configNames). */
static const char *const topic_config_names[] = {
    "cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms",
    "flush.messages", "flush.ms", "follower.replication.throttled.replicas", "index.interval.bytes",
    "leader.replication.throttled.replicas", "max.compaction.lag.ms", "max.message.bytes",
    "message.downconversion.enable", "message.format.version", "message.timestamp.difference.max.ms",
    "message.timestamp.type", "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas",
    "preallocate", "retention.bytes", "retention.ms", "segment.bytes", "segment.index.bytes",
    "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable",
};

static int
config_valid(const sm_props_t *c, char *errstr, size_t errlen)
{
    for (size_t i = 0; c && i < c->n; i++) {
        int ok = 0;
        for (size_t k = 0; k < SM_ARRAY_SIZE(topic_config_names); k++)
            if (!strcmp(c->items[i].key, topic_config_names[k])) ok = 1;
        if (!ok) {
            snprintf(errstr, errlen, "Unknown topic config name: %s", c->items[i].key);
            return 0;
        }
    }
    return 1;
}

sm_zk_t *
sm_zk_admin_connect(const char *connect, int timeout_ms, char *errstr, size_t errlen)
{
    /* 18 s is Kafka's zookeeper.session.timeout.ms default. */
    return sm_zk_open(connect, 18000, timeout_ms, NULL, errstr, errlen);
}

void sm_zk_admin_close(sm_zk_t *zk) { sm_zk_close(zk); }

void
sm_zk_admin_free_list(char **list, int n)
{
    sm_zk_free_children(list, n);
}

int
sm_zk_admin_list_topics(sm_zk_t *zk, char ***topics, int *ntopics)
{
    int rc = sm_zk_children(zk, "/brokers/topics", topics, ntopics);
    if (rc == ZNONODE) {
        *topics = sm_calloc(1, sizeof(char *));
        *ntopics = 0;
        return 0;
    }
    return rc == ZOK ? 0 : -1;
}

/* Read a node's data: 0 found, 1 absent, -1 error. */
static int
get_node(sm_zk_t *zk, const char *path, char **data, int *len, struct Stat *st)
{
    int rc = sm_zk_get(zk, path, data, len, st);
    if (rc == ZNONODE) return 1;
    if (rc != ZOK) {
        sm_log_warn(LOGGER, "[AdminZkClient] Reading %s failed: %s", path, sm_zk_rc_name(rc));
        return -1;
    }
    return 0;
}

int
sm_zk_admin_get_assignment(sm_zk_t *zk, const char *topic, sm_topic_assignment_t *out)
{
    memset(out, 0, sizeof(*out));
    char *path = sm_asprintf("/brokers/topics/%s", topic), *data = NULL;
    int len, r = get_node(zk, path, &data, &len, NULL);
    if (r == 0 && (!data || sm_zk_decode_assignment(data, (size_t)len, out) < 0)) {
        sm_log_warn(LOGGER, "[AdminZkClient] Malformed assignment at %s", path);
        r = -1;
    }
    free(data);
    free(path);
    return r;
}

int
sm_zk_admin_get_partition_state(sm_zk_t *zk, const char *topic, int32_t partition, sm_partition_state_t *out)
{
    memset(out, 0, sizeof(*out));
    char *path = sm_asprintf("/brokers/topics/%s/partitions/%d/state", topic, partition), *data = NULL;
    struct Stat st;
    int len, r = get_node(zk, path, &data, &len, &st);
    if (r == 0) {
        if (!data || sm_zk_decode_partition_state(data, (size_t)len, out) < 0) r = -1;
        else out->zk_version = st.version;
    }
    free(data);
    free(path);
    return r;
}

int
sm_zk_admin_get_topic_config(sm_zk_t *zk, const char *topic, sm_props_t *out)
{
    sm_props_init(out);
    char *path = sm_asprintf("/config/topics/%s", topic), *data = NULL;
    int len, r = get_node(zk, path, &data, &len, NULL);
    if (r == 0 && data && sm_zk_decode_config(data, (size_t)len, out) < 0) r = -1;
    free(data);
    free(path);
    return r;
}

static int
cmp_broker(const void *a, const void *b)
{
    const sm_broker_info_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

int
sm_zk_admin_list_brokers(sm_zk_t *zk, sm_broker_info_t **brokers, int *nbrokers)
{
    char **ids;
    int n;
    *brokers = NULL;
    *nbrokers = 0;
    int rc = sm_zk_children(zk, "/brokers/ids", &ids, &n);
    if (rc == ZNONODE) {
        *brokers = sm_calloc(1, sizeof(sm_broker_info_t));
        return 0;
    }
    if (rc != ZOK) return -1;
    sm_broker_info_t *out = sm_calloc((size_t)n + 1, sizeof(*out));
    int k = 0;
    for (int i = 0; i < n; i++) {
        int64_t id;
        if (sm_parse_i64(ids[i], &id) < 0 || id < 0 || id > INT32_MAX) continue;
        char *path = sm_asprintf("/brokers/ids/%s", ids[i]), *data = NULL;
        struct Stat st;
        int len, r = get_node(zk, path, &data, &len, &st);
        free(path);
        /* A broker that went away between the two reads is just skipped. */
        if (r == 0 && data && sm_zk_decode_broker(data, (size_t)len, (int32_t)id, &out[k]) == 0) {
            out[k].broker_epoch = st.czxid;
            k++;
        }
        free(data);
        if (r < 0) {
            for (int j = 0; j < k; j++) sm_broker_info_free(&out[j]);
            free(out);
            sm_zk_free_children(ids, n);
            return -1;
        }
    }
    sm_zk_free_children(ids, n);
    qsort(out, (size_t)k, sizeof(*out), cmp_broker);
    *brokers = out;
    *nbrokers = k;
    return 0;
}

int
sm_zk_admin_marked_for_deletion(sm_zk_t *zk, const char *topic)
{
    char *path = sm_asprintf("/admin/delete_topics/%s", topic);
    int rc = sm_zk_exists(zk, path, NULL);
    free(path);
    return rc == ZOK;
}

int32_t
sm_zk_admin_controller_id(sm_zk_t *zk)
{
    char *data = NULL;
    int len;
    int32_t id = -1;
    if (sm_zk_get(zk, "/controller", &data, &len, NULL) == ZOK && data)
        if (sm_zk_decode_controller(data, (size_t)len, &id) < 0) id = -1;
    free(data);
    return id;
}

/* ---- validation --------------------------------------------------------- */

int
sm_topic_name_valid(const char *topic, char *errstr, size_t errlen)
{
    size_t n = topic ? strlen(topic) : 0;
    if (n == 0) {
        snprintf(errstr, errlen, "Topic name is illegal, it can't be empty");
        return 0;
    }
    if (!strcmp(topic, ".") || !strcmp(topic, "..")) {
        snprintf(errstr, errlen, "Topic name cannot be \".\" or \"..\"");
        return 0;
    }
    if (n > 249) {
        snprintf(errstr, errlen, "Topic name is illegal, it can't be longer than 249 characters, topic name: %s",
                 topic);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-')) {
            snprintf(errstr, errlen,
                     "Topic name \"%s\" is illegal, it contains a character other than ASCII alphanumerics, "
                     "'.', '_' and '-'", topic);
            return 0;
        }
    }
    return 1;
}

/* Topic.hasCollision: equal once '.' is mapped to '_'. */
static int
collides(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b)) return 0;
    for (size_t i = 0; i < n; i++) {
        char x = a[i] == '.' ? '_' : a[i], y = b[i] == '.' ? '_' : b[i];
        if (x != y) return 0;
    }
    return 1;
}

/* AdminZkClient.validateReplicaAssignment. */
static sm_err_t
assignment_valid(const sm_topic_assignment_t *a, int32_t first, char *errstr, size_t errlen)
{
    if (a->npartitions <= 0) {
        snprintf(errstr, errlen, "Number of partitions must be larger than 0.");
        return SM_ERR_INVALID_PARTITIONS;
    }
    int32_t rf = a->nreplicas[first < a->npartitions ? first : 0];
    for (int32_t p = first; p < a->npartitions; p++) {
        if (a->nreplicas[p] <= 0) {
            snprintf(errstr, errlen, "Replication factor must be larger than 0.");
            return SM_ERR_INVALID_REPLICATION_FACTOR;
        }
        if (a->nreplicas[p] != rf) {
            snprintf(errstr, errlen, "All partitions should have the same number of replicas");
            return SM_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        for (int32_t i = 0; i < a->nreplicas[p]; i++) {
            if (a->replicas[p][i] < 0) {
                snprintf(errstr, errlen, "Invalid broker id %d in the replica assignment", a->replicas[p][i]);
                return SM_ERR_INVALID_REPLICA_ASSIGNMENT;
            }
            for (int32_t k = 0; k < i; k++)
                if (a->replicas[p][k] == a->replicas[p][i]) {
                    snprintf(errstr, errlen, "Duplicate replica assignment found: %d", p);
                    return SM_ERR_INVALID_REPLICA_ASSIGNMENT;
                }
        }
    }
    return SM_ERR_NONE;
}

/* setOrCreateEntityConfigs: setData, or create (with parents) if absent. */
static int
write_topic_config(sm_zk_t *zk, const char *topic, const sm_props_t *configs)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 128);
    sm_zk_encode_config(&w, configs);
    char *path = sm_asprintf("/config/topics/%s", topic);
    int rc = sm_zk_set(zk, path, (const char *)w.data, (int)w.len, -1, NULL);
    if (rc == ZNONODE) {
        rc = sm_zk_create_recursive(zk, path, (const char *)w.data, (int)w.len, 0);
        if (rc == ZNODEEXISTS)   /* lost a race with another writer: overwrite */
            rc = sm_zk_set(zk, path, (const char *)w.data, (int)w.len, -1, NULL);
    }
    free(path);
    sm_wbuf_free(&w);
    return rc;
}

sm_err_t
sm_zk_admin_create_topic(sm_zk_t *zk, const char *topic, const sm_topic_assignment_t *a,
                         const sm_props_t *configs, char *errstr, size_t errlen)
{
    char dummy[8];
    if (!errstr) { errstr = dummy; errlen = sizeof(dummy); }
    errstr[0] = '\0';
    if (!sm_topic_name_valid(topic, errstr, errlen)) return SM_ERR_INVALID_TOPIC_EXCEPTION;
    sm_err_t err = assignment_valid(a, 0, errstr, errlen);
    if (err) return err;
    if (!config_valid(configs, errstr, errlen)) return SM_ERR_INVALID_CONFIG;

    if (sm_zk_admin_marked_for_deletion(zk, topic)) {
        snprintf(errstr, errlen, "Topic \"%s\" is marked for deletion.", topic);
        return SM_ERR_TOPIC_ALREADY_EXISTS;
    }
    char **topics;
    int n;
    if (sm_zk_admin_list_topics(zk, &topics, &n) < 0) {
        snprintf(errstr, errlen, "Could not list topics in ZooKeeper");
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    err = SM_ERR_NONE;
    for (int i = 0; i < n && !err; i++) {
        if (!strcmp(topics[i], topic)) {
            snprintf(errstr, errlen, "Topic '%s' already exists.", topic);
            err = SM_ERR_TOPIC_ALREADY_EXISTS;
        }
    }
    if (!err && (strchr(topic, '.') || strchr(topic, '_'))) {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            if (!collides(topic, topics[i])) continue;
            if (!off) off = (size_t)snprintf(errstr, errlen, "Topic '%s' collides with existing topics: %s", topic,
                                             topics[i]);
            else if (off < errlen) off += (size_t)snprintf(errstr + off, errlen - off, ", %s", topics[i]);
            err = SM_ERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    sm_zk_admin_free_list(topics, n);
    if (err) return err;

    sm_props_t empty;
    sm_props_init(&empty);
    int rc = write_topic_config(zk, topic, configs ? configs : &empty);
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error writing /config/topics/%s: %s", topic, sm_zk_rc_name(rc));
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_assignment(&w, a);
    char *path = sm_asprintf("/brokers/topics/%s", topic);
    rc = sm_zk_create_recursive(zk, path, (const char *)w.data, (int)w.len, 0);
    free(path);
    sm_wbuf_free(&w);
    if (rc == ZNODEEXISTS) {
        snprintf(errstr, errlen, "Topic '%s' already exists.", topic);
        return SM_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error writing /brokers/topics/%s: %s", topic, sm_zk_rc_name(rc));
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    sm_log_info(LOGGER, "[AdminZkClient] Topic creation %s", topic);
    return SM_ERR_NONE;
}

static int
topic_exists(sm_zk_t *zk, const char *topic)
{
    char *path = sm_asprintf("/brokers/topics/%s", topic);
    int rc = sm_zk_exists(zk, path, NULL);
    free(path);
    return rc == ZOK ? 1 : rc == ZNONODE ? 0 : -1;
}

sm_err_t
sm_zk_admin_delete_topic(sm_zk_t *zk, const char *topic, char *errstr, size_t errlen)
{
    char dummy[8];
    if (!errstr) { errstr = dummy; errlen = sizeof(dummy); }
    errstr[0] = '\0';
    int ex = topic_exists(zk, topic);
    if (ex < 0) {
        snprintf(errstr, errlen, "Could not read topic %s from ZooKeeper", topic);
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (!ex) {
        snprintf(errstr, errlen, "Topic `%s` to delete does not exist", topic);
        return SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    char *path = sm_asprintf("/admin/delete_topics/%s", topic);
    int rc = sm_zk_create_recursive(zk, path, NULL, -1, 0);
    free(path);
    if (rc == ZNODEEXISTS) {
        /* Kafka raises TopicAlreadyMarkedForDeletionException; the request
         * is already in effect, so callers treat it as success. */
        snprintf(errstr, errlen, "Topic %s is already marked for deletion.", topic);
        return SM_ERR_NONE;
    }
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error creating /admin/delete_topics/%s: %s", topic, sm_zk_rc_name(rc));
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    return SM_ERR_NONE;
}

sm_err_t
sm_zk_admin_add_partitions(sm_zk_t *zk, const char *topic, const sm_topic_assignment_t *a,
                           char *errstr, size_t errlen)
{
    char dummy[8];
    if (!errstr) { errstr = dummy; errlen = sizeof(dummy); }
    errstr[0] = '\0';
    sm_topic_assignment_t cur;
    char *path = sm_asprintf("/brokers/topics/%s", topic), *data = NULL;
    struct Stat st;
    int len;
    int r = get_node(zk, path, &data, &len, &st);
    if (r == 1) {
        free(path);
        snprintf(errstr, errlen, "Topic `%s` does not exist", topic);
        return SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (r < 0 || !data || sm_zk_decode_assignment(data, (size_t)len, &cur) < 0) {
        free(path);
        free(data);
        snprintf(errstr, errlen, "Could not read the assignment of %s", topic);
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    free(data);
    sm_err_t err = SM_ERR_NONE;
    if (a->npartitions <= cur.npartitions) {
        snprintf(errstr, errlen, "Topic currently has %d partitions, %d would not be an increase.",
                 cur.npartitions, a->npartitions);
        err = SM_ERR_INVALID_PARTITIONS;
    }
    for (int32_t p = 0; !err && p < cur.npartitions; p++) {
        if (a->nreplicas[p] != cur.nreplicas[p] ||
            memcmp(a->replicas[p], cur.replicas[p], sizeof(int32_t) * (size_t)cur.nreplicas[p])) {
            snprintf(errstr, errlen, "Existing partition %d assignment cannot be changed", p);
            err = SM_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    if (!err) err = assignment_valid(a, cur.npartitions, errstr, errlen);
    if (!err && cur.npartitions > 0 && a->nreplicas[a->npartitions - 1] != cur.nreplicas[0]) {
        snprintf(errstr, errlen, "Inconsistent replication factor between partitions, partition 0 has %d "
                 "while partitions [%d] have replication factors [%d], respectively.",
                 cur.nreplicas[0], a->npartitions - 1, a->nreplicas[a->npartitions - 1]);
        err = SM_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    sm_topic_assignment_free(&cur);
    if (err) {
        free(path);
        return err;
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_assignment(&w, a);
    /* Conditional on the version we validated against: a concurrent
     * change makes us fail instead of silently overwriting it. */
    int rc = sm_zk_set(zk, path, (const char *)w.data, (int)w.len, st.version, NULL);
    sm_wbuf_free(&w);
    free(path);
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error updating the assignment of %s: %s", topic, sm_zk_rc_name(rc));
        return rc == ZNONODE ? SM_ERR_UNKNOWN_TOPIC_OR_PARTITION : SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    return SM_ERR_NONE;
}

sm_err_t
sm_zk_admin_set_topic_config(sm_zk_t *zk, const char *topic, const sm_props_t *config,
                             char *errstr, size_t errlen)
{
    char dummy[8];
    if (!errstr) { errstr = dummy; errlen = sizeof(dummy); }
    errstr[0] = '\0';
    if (!config_valid(config, errstr, errlen)) return SM_ERR_INVALID_CONFIG;
    int ex = topic_exists(zk, topic);
    if (ex == 0) {
        snprintf(errstr, errlen, "Topic %s does not exist", topic);
        return SM_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int rc = ex < 0 ? ZSYSTEMERROR : write_topic_config(zk, topic, config);
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error writing /config/topics/%s: %s", topic, sm_zk_rc_name(rc));
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_zk_encode_config_change(&w, "topics", topic);
    rc = sm_zk_create(zk, "/config/changes/config_change_", (const char *)w.data, (int)w.len,
                      ZOO_PERSISTENT_SEQUENTIAL, NULL, NULL);
    if (rc == ZNONODE)
        rc = sm_zk_create_recursive(zk, "/config/changes/config_change_", (const char *)w.data, (int)w.len,
                                    ZOO_PERSISTENT_SEQUENTIAL);
    sm_wbuf_free(&w);
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error creating a config change notification: %s", sm_zk_rc_name(rc));
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    return SM_ERR_NONE;
}

/* ---- other entity configs (kafka-configs.sh) ----------------------------- */

int
sm_zk_admin_get_entity_config(sm_zk_t *zk, const char *type, const char *name, sm_props_t *out)
{
    sm_props_init(out);
    char *path = sm_asprintf("/config/%s/%s", type, name), *data = NULL;
    int len, r = get_node(zk, path, &data, &len, NULL);
    if (r == 0 && data && sm_zk_decode_config(data, (size_t)len, out) < 0) r = -1;
    free(data);
    free(path);
    return r;
}

int
sm_zk_admin_list_entity_configs(sm_zk_t *zk, const char *type, char ***names, int *n)
{
    char *path = sm_asprintf("/config/%s", type);
    int rc = sm_zk_children(zk, path, names, n);
    free(path);
    if (rc == ZNONODE) {
        *names = sm_calloc(1, sizeof(char *));
        *n = 0;
        return 0;
    }
    return rc == ZOK ? 0 : -1;
}

sm_err_t
sm_zk_admin_set_broker_config(sm_zk_t *zk, const char *broker, const sm_props_t *config,
                              char *errstr, size_t errlen)
{
    char dummy[8];
    if (!errstr) { errstr = dummy; errlen = sizeof(dummy); }
    errstr[0] = '\0';
    sm_wbuf_t w;
    sm_wbuf_init(&w, 128);
    sm_zk_encode_config(&w, config);
    char *path = sm_asprintf("/config/brokers/%s", broker);
    int rc = sm_zk_set(zk, path, (const char *)w.data, (int)w.len, -1, NULL);
    if (rc == ZNONODE) {
        rc = sm_zk_create_recursive(zk, path, (const char *)w.data, (int)w.len, 0);
        if (rc == ZNODEEXISTS) rc = sm_zk_set(zk, path, (const char *)w.data, (int)w.len, -1, NULL);
    }
    sm_wbuf_free(&w);
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error writing %s: %s", path, sm_zk_rc_name(rc));
        free(path);
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    free(path);
    /* Entity path "brokers/<id>" (or "brokers/<default>"), as
     * AdminZkClient.changeEntityConfig writes it. */
    sm_wbuf_init(&w, 64);
    sm_zk_encode_config_change(&w, "brokers", broker);
    rc = sm_zk_create(zk, "/config/changes/config_change_", (const char *)w.data, (int)w.len,
                      ZOO_PERSISTENT_SEQUENTIAL, NULL, NULL);
    if (rc == ZNONODE)
        rc = sm_zk_create_recursive(zk, "/config/changes/config_change_", (const char *)w.data, (int)w.len,
                                    ZOO_PERSISTENT_SEQUENTIAL);
    sm_wbuf_free(&w);
    if (rc != ZOK) {
        snprintf(errstr, errlen, "Error creating a config change notification: %s", sm_zk_rc_name(rc));
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    return SM_ERR_NONE;
}

/* ---- replica assignment ------------------------------------------------- */

static uint32_t
rand_below(uint32_t n)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t state;
    pthread_mutex_lock(&mu);
    if (!state) state = (uint64_t)sm_now_ms() * 6364136223846793005ULL ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    uint64_t v = state;
    pthread_mutex_unlock(&mu);
    return (uint32_t)(v % n);
}

static int
cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

sm_err_t
sm_assign_replicas(const int32_t *brokers, int nbrokers, int32_t npartitions, int32_t rf,
                   int32_t fixed_start, int32_t start_partition, sm_topic_assignment_t *out)
{
    memset(out, 0, sizeof(*out));
    if (npartitions <= 0) return SM_ERR_INVALID_PARTITIONS;
    if (rf <= 0 || rf > nbrokers) return SM_ERR_INVALID_REPLICATION_FACTOR;
    int32_t *b = sm_malloc(sizeof(int32_t) * (size_t)nbrokers);
    memcpy(b, brokers, sizeof(int32_t) * (size_t)nbrokers);
    qsort(b, (size_t)nbrokers, sizeof(int32_t), cmp_i32);
    int32_t n = nbrokers;
    /* Two draws, in Kafka's order: start index, then replica shift. */
    int32_t start_index = fixed_start >= 0 ? fixed_start : (int32_t)rand_below((uint32_t)n);
    int32_t shift = fixed_start >= 0 ? fixed_start : (int32_t)rand_below((uint32_t)n);
    int32_t cur = start_partition > 0 ? start_partition : 0;
    out->npartitions = npartitions;
    out->nreplicas = sm_calloc((size_t)npartitions, sizeof(int32_t));
    out->replicas = sm_calloc((size_t)npartitions, sizeof(int32_t *));
    for (int32_t i = 0; i < npartitions; i++, cur++) {
        if (cur > 0 && cur % n == 0) shift++;
        int32_t first = (int32_t)(((int64_t)cur + start_index) % n);
        int32_t *r = sm_malloc(sizeof(int32_t) * (size_t)rf);
        r[0] = b[first];
        for (int32_t j = 0; j < rf - 1; j++) {
            int32_t s = 1 + (int32_t)(((int64_t)shift + j) % (n - 1));
            r[j + 1] = b[(first + s) % n];
        }
        out->nreplicas[i] = rf;
        out->replicas[i] = r;
    }
    free(b);
    return SM_ERR_NONE;
}

/* Kafka's AdminUtils.getRackAlternatedBrokerList: racks sorted by name, the
 * brokers of each rack sorted by id, then one broker per rack in turn. */
static int32_t *
rack_alternated(const int32_t *ids, const char *const *racks, int n)
{
    int32_t *order = sm_malloc(sizeof(int32_t) * (size_t)n);
    int *used = sm_calloc((size_t)n, sizeof(int));
    const char **names = sm_malloc(sizeof(char *) * (size_t)n);
    int nr = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int k = 0; k < nr; k++) seen |= !strcmp(names[k], racks[i]);
        if (!seen) names[nr++] = racks[i];
    }
    for (int a = 0; a < nr; a++)            /* sort rack names */
        for (int b = a + 1; b < nr; b++)
            if (strcmp(names[b], names[a]) < 0) { const char *t = names[a]; names[a] = names[b]; names[b] = t; }
    int out = 0, r = 0;
    while (out < n) {
        /* Next unused broker of rack r, lowest id first. */
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!used[i] && !strcmp(racks[i], names[r]) && (best < 0 || ids[i] < ids[best])) best = i;
        if (best >= 0) { used[best] = 1; order[out++] = ids[best]; }
        r = (r + 1) % nr;
    }
    free(used);
    free(names);
    return order;
}

sm_err_t
sm_assign_replicas_rack(const int32_t *brokers, const char *const *racks, int nbrokers, int32_t npartitions,
                        int32_t rf, int32_t fixed_start, int32_t start_partition, sm_topic_assignment_t *out,
                        char *errstr, size_t errlen)
{
    int with = 0;
    for (int i = 0; racks && i < nbrokers; i++) with += racks[i] != NULL;
    if (with == 0) return sm_assign_replicas(brokers, nbrokers, npartitions, rf, fixed_start, start_partition, out);
    memset(out, 0, sizeof(*out));
    if (npartitions <= 0) return SM_ERR_INVALID_PARTITIONS;
    if (rf <= 0 || rf > nbrokers) return SM_ERR_INVALID_REPLICATION_FACTOR;
    if (with < nbrokers) {
        snprintf(errstr, errlen, "Not all brokers have rack information for replica rack aware assignment.");
        return SM_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    int32_t n = nbrokers;
    int32_t *arranged = rack_alternated(brokers, racks, n);
    const char **rack_of = sm_malloc(sizeof(char *) * (size_t)n);   /* rack of arranged[i] */
    int nracks = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++) if (brokers[k] == arranged[i]) rack_of[i] = racks[k];
        int first = 1;
        for (int k = 0; k < i; k++) first &= strcmp(rack_of[k], rack_of[i]) != 0;
        nracks += first;
    }
    int32_t start_index = fixed_start >= 0 ? fixed_start : (int32_t)rand_below((uint32_t)n);
    int32_t shift = fixed_start >= 0 ? fixed_start : (int32_t)rand_below((uint32_t)n);
    int32_t cur = start_partition > 0 ? start_partition : 0;
    int *has_rack = sm_malloc(sizeof(int) * (size_t)n), *has_broker = sm_malloc(sizeof(int) * (size_t)n);
    out->npartitions = npartitions;
    out->nreplicas = sm_calloc((size_t)npartitions, sizeof(int32_t));
    out->replicas = sm_calloc((size_t)npartitions, sizeof(int32_t *));
    for (int32_t p = 0; p < npartitions; p++, cur++) {
        if (cur > 0 && cur % n == 0) shift++;
        int32_t first = (int32_t)(((int64_t)cur + start_index) % n);
        int32_t *r = sm_malloc(sizeof(int32_t) * (size_t)rf);
        memset(has_rack, 0, sizeof(int) * (size_t)n);
        memset(has_broker, 0, sizeof(int) * (size_t)n);
        r[0] = arranged[first];
        has_broker[first] = 1;
        int nrack_used = 1, nbroker_used = 1;
        for (int k = 0; k < n; k++) if (!strcmp(rack_of[k], rack_of[first])) has_rack[k] = 1;
        int64_t k = 0;
        for (int32_t j = 1; j < rf; j++) {
            for (;; k++) {
                /* replicaIndex(first, shift * numRacks, k, n) */
                int32_t s = 1 + (int32_t)(((int64_t)shift * nracks + k) % (n - 1));
                int32_t idx = (first + s) % n;
                if ((!has_rack[idx] || nrack_used == nracks) && (!has_broker[idx] || nbroker_used == n)) {
                    r[j] = arranged[idx];
                    if (!has_rack[idx]) {
                        nrack_used++;
                        for (int q = 0; q < n; q++) if (!strcmp(rack_of[q], rack_of[idx])) has_rack[q] = 1;
                    }
                    if (!has_broker[idx]) { has_broker[idx] = 1; nbroker_used++; }
                    k++;
                    break;
                }
            }
        }
        out->nreplicas[p] = rf;
        out->replicas[p] = r;
    }
    free(has_rack);
    free(has_broker);
    free(rack_of);
    free(arranged);
    return SM_ERR_NONE;
}

sm_err_t
sm_zk_admin_assign(sm_zk_t *zk, int32_t npartitions, int32_t rf, int32_t fixed_start_broker, int32_t start_partition,
                   sm_topic_assignment_t *out, char *errstr, size_t errlen)
{
    sm_broker_info_t *b = NULL;
    int nb = 0;
    memset(out, 0, sizeof(*out));
    if (sm_zk_admin_list_brokers(zk, &b, &nb) < 0) {
        snprintf(errstr, errlen, "Could not read /brokers/ids from ZooKeeper");
        return SM_ERR_UNKNOWN_SERVER_ERROR;
    }
    int32_t *ids = sm_malloc(sizeof(int32_t) * (size_t)(nb ? nb : 1));
    const char **racks = sm_malloc(sizeof(char *) * (size_t)(nb ? nb : 1));
    int32_t fixed = -1;
    for (int i = 0; i < nb; i++) {
        ids[i] = b[i].id;
        racks[i] = b[i].rack;
        if (fixed_start_broker >= 0 && fixed < 0 && b[i].id >= fixed_start_broker) fixed = i;
    }
    if (fixed_start_broker >= 0 && fixed < 0) fixed = 0;
    sm_err_t err = sm_assign_replicas_rack(ids, racks, nb, npartitions, rf, fixed, start_partition, out, errstr, errlen);
    if (err == SM_ERR_INVALID_REPLICATION_FACTOR && rf > nb)
        snprintf(errstr, errlen, "Replication factor: %d larger than available brokers: %d.", rf, nb);
    else if (err == SM_ERR_INVALID_PARTITIONS)
        snprintf(errstr, errlen, "Number of partitions must be larger than 0.");
    else if (err == SM_ERR_INVALID_REPLICATION_FACTOR)
        snprintf(errstr, errlen, "Replication factor must be larger than 0.");
    for (int i = 0; i < nb; i++) sm_broker_info_free(&b[i]);
    free(b);
    free(ids);
    free(racks);
    return err;
}

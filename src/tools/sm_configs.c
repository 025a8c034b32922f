/*
 * sm_configs.c - samsa-configs, a native kafka-configs.sh (Kafka 2.x
 * ConfigCommand) for the entity types Samsa has: topics and brokers.
 *
 * --zookeeper reads and writes /config/<type>/<name> directly and leaves a
 * /config/changes notification (AdminZkClient.changeConfigs), refusing
 * dynamic broker keys while that broker runs, as Kafka does.
 * --bootstrap-server goes through librdkafka's DescribeConfigs and
 * AlterConfigs: the tool reads the current dynamic entries, applies
 * --add-config/--delete-config and writes the merged set back (AlterConfigs
 * replaces a resource's whole dynamic config).
 *
 * Messages and output lines follow Kafka 2.8's ConfigCommand: argument
 * errors and InvalidConfigurationException-style failures print the bare
 * message on stderr; other failures print "Error while executing config
 * command with args '...'" and the exception line. Exit status 1 on error.
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_plog.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_admin.h"
#include "tools/sm_tool_rdk.h"
#include "zk/sm_zk_admin.h"

#define TIMEOUT_MS 30000

static const sm_tool_opt_t opts[] = {
    { "add-config", SM_TOOL_ARG_REQUIRED, "String", "Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'." },
    { "add-config-file", SM_TOOL_ARG_REQUIRED, "String", "Path to a properties file with configs to add." },
    { "all", SM_TOOL_ARG_NONE, NULL, "List all configs for the given topic, broker, or broker-logger entity (includes static configuration when the entity type is brokers)" },
    { "alter", SM_TOOL_ARG_NONE, NULL, "Alter the configuration for the entity." },
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: server to connect to", "The Kafka server to connect to. This is required for describing and altering broker configs." },
    { "broker", SM_TOOL_ARG_REQUIRED, "String", "The broker's ID." },
    { "broker-defaults", SM_TOOL_ARG_NONE, NULL, "The config defaults for all brokers." },
    { "command-config", SM_TOOL_ARG_REQUIRED, "String: command config property file", "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs." },
    { "delete-config", SM_TOOL_ARG_REQUIRED, "String", "config keys to remove 'k1,k2'" },
    { "describe", SM_TOOL_ARG_NONE, NULL, "List configs for the given entity." },
    { "entity-default", SM_TOOL_ARG_NONE, NULL, "Default entity name for clients/users/brokers (applies to corresponding entity type in command line)" },
    { "entity-name", SM_TOOL_ARG_REQUIRED, "String", "Name of entity (topic name/client id/user principal name/broker id)" },
    { "entity-type", SM_TOOL_ARG_REQUIRED, "String", "Type of entity (topics/clients/users/brokers/broker-loggers)" },
    { "force", SM_TOOL_ARG_NONE, NULL, "Suppress console prompts" },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "topic", SM_TOOL_ARG_REQUIRED, "String", "The topic's name." },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { "zookeeper", SM_TOOL_ARG_REQUIRED, "String: urls", "DEPRECATED. The connection string for the zookeeper connection in the form host:port. Multiple URLS can be given to allow fail-over. Replaced by --bootstrap-server, REQUIRED unless --bootstrap-server is given." },
    { NULL, 0, NULL, NULL },
};

typedef struct {
    sm_tool_args_t args;
    char cmdline[2048];
    const char *type;                /* "topics" or "brokers" */
    const char *name;                /* NULL = all; "<default>" = broker default */
    sm_props_t add;
    char **del;
    int ndel;
} cfg_cmd_t;

static cfg_cmd_t C;

static const sm_tool_cli_t cli = {
    .opts = opts,
    .no_args_msg = "This tool helps to manipulate and describe entity config for a topic, client, user, broker or ip",
    .help_header = "This tool helps to manipulate and describe entity config for a topic, client, user, broker or ip",
    .version_tag = "samsa",
};

/* IllegalArgumentException / InvalidConfigurationException: message only. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sm_tool_vdie(stderr, "", fmt, ap);
}

/* Any other exception: Kafka's generic line plus "<exception>: <message>". */
static void __attribute__((noreturn, format(printf, 2, 3)))
die_exc(const char *exc, const char *fmt, ...)
{
    char *prefix = sm_asprintf("Error while executing config command with args '%s'\n%s: ", C.cmdline, exc);
    va_list ap;
    va_start(ap, fmt);
    sm_tool_vdie(stderr, prefix, fmt, ap);
}

/* Java exception class for a Kafka error code (the ones AlterConfigs and
 * DescribeConfigs return). */
static const char *
exc_name(rd_kafka_resp_err_t e)
{
    switch ((int)e) {
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG: return "org.apache.kafka.common.errors.InvalidConfigurationException";
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST: return "org.apache.kafka.common.errors.InvalidRequestException";
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return "org.apache.kafka.common.errors.UnknownTopicOrPartitionException";
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION: return "org.apache.kafka.common.errors.PolicyViolationException";
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: return "org.apache.kafka.common.errors.TopicAuthorizationException";
    case RD_KAFKA_RESP_ERR__TIMED_OUT: return "org.apache.kafka.common.errors.TimeoutException";
    default: return "org.apache.kafka.common.KafkaException";
    }
}

/* ConfigCommandOptions.checkArgs, resolving the entity and the changes. */
static void
check_args(void)
{
    sm_tool_args_t *a = &C.args;
    if (sm_tool_has(a, "alter") + sm_tool_has(a, "describe") != 1)
        sm_tool_usage_die(opts, "Command must include exactly one action: --describe, --alter");
    if (sm_tool_has(a, "bootstrap-server") == sm_tool_has(a, "zookeeper"))
        die_msg("Only one of --bootstrap-server or --zookeeper must be specified");
    /* Entity: --entity-type (+ --entity-name / --entity-default) or a shortcut. */
    int shortcuts = sm_tool_has(a, "topic") + sm_tool_has(a, "broker") + sm_tool_has(a, "broker-defaults");
    if (shortcuts + sm_tool_has(a, "entity-type") == 0) die_msg("At least one entity type must be specified");
    if (shortcuts + sm_tool_has(a, "entity-type") > 1)
        die_msg("Only one entity type may be specified: samsa-configs handles one entity at a time");
    if (sm_tool_has(a, "topic")) { C.type = "topics"; C.name = sm_tool_get(a, "topic"); }
    else if (sm_tool_has(a, "broker")) { C.type = "brokers"; C.name = sm_tool_get(a, "broker"); }
    else if (sm_tool_has(a, "broker-defaults")) { C.type = "brokers"; C.name = "<default>"; }
    else {
        C.type = sm_tool_get(a, "entity-type");
        if (!strcmp(C.type, "users") || !strcmp(C.type, "clients") || !strcmp(C.type, "broker-loggers") ||
            !strcmp(C.type, "ips"))
            die_msg("Entity type %s is not supported by Samsa (only topics and brokers)", C.type);
        if (strcmp(C.type, "topics") && strcmp(C.type, "brokers"))
            die_msg("Invalid entity type %s, the entity type must be one of users, brokers, topics, clients, broker-loggers, ips", C.type);
        if (sm_tool_has(a, "entity-name") && sm_tool_has(a, "entity-default"))
            die_msg("Only one of --entity-name or --entity-default can be specified");
        if (sm_tool_has(a, "entity-name")) C.name = sm_tool_get(a, "entity-name");
        else if (sm_tool_has(a, "entity-default")) C.name = "<default>";
    }
    if (!strcmp(C.type, "topics") && C.name && !strcmp(C.name, "<default>"))
        die_msg("--entity-default is not supported with --entity-type topics");
    if (!strcmp(C.type, "brokers") && C.name && strcmp(C.name, "<default>")) {
        int64_t id;
        if (sm_parse_i64(C.name, &id) < 0 || id < 0 || id > INT32_MAX)
            die_msg("The entity name for brokers must be a valid integer broker id, found: %s", C.name);
    }
    sm_props_init(&C.add);
    if (sm_tool_has(a, "alter")) {
        if (!sm_tool_has(a, "add-config") && !sm_tool_has(a, "add-config-file") && !sm_tool_has(a, "delete-config"))
            die_msg("At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter");
        if (!C.name) {
            if (!strcmp(C.type, "brokers"))
                die_msg("an entity-name or default entity must be specified with --alter of users, clients, brokers or broker-loggers");
            die_msg("an entity name must be specified with --alter of %s", C.type);
        }
        char err[512];
        const char *file = sm_tool_get(a, "add-config-file");
        if (file) {
            sm_props_t p;
            sm_props_init(&p);
            if (sm_props_load(&p, file, err, sizeof err)) die_msg("%s", err);
            for (size_t i = 0; i < p.n; i++) sm_props_set(&C.add, p.items[i].key, p.items[i].value);
            sm_props_free(&p);
        }
        int n;
        char **v = sm_tool_get_all(a, "add-config", &n);
        for (int i = 0; i < n; i++)
            if (sm_tool_parse_add_config(v[i], &C.add, err, sizeof err)) die_msg("%s", err);
        v = sm_tool_get_all(a, "delete-config", &n);
        for (int i = 0; i < n; i++) {
            char **items;
            int k = sm_tool_split_list(v[i], &items);
            C.del = sm_realloc(C.del, sizeof(char *) * (size_t)(C.ndel + k + 1));
            for (int j = 0; j < k; j++) C.del[C.ndel++] = items[j];
            free(items);
        }
        sm_tool_warn_message_format(&C.add);
    } else if (sm_tool_has(a, "add-config") || sm_tool_has(a, "delete-config")) {
        die_msg("Option \"[add-config]\" can't be used with option \"[describe]\"");
    }
}

/* "Invalid config(s): a,b" when a --delete-config key is not set. */
static void
check_deletes(const sm_props_t *cur)
{
    char bad[1024] = "";
    size_t len = 0;
    for (int i = 0; i < C.ndel; i++)
        if (!sm_props_get(cur, C.del[i]) && len < sizeof bad)
            len += (size_t)snprintf(bad + len, sizeof bad - len, "%s%s", len ? "," : "", C.del[i]);
    if (len) die_msg("Invalid config(s): %s", bad);
}

/* current + --add-config - --delete-config, in current's order. */
static void
merge(const sm_props_t *cur, sm_props_t *out)
{
    sm_props_init(out);
    for (size_t i = 0; i < cur->n; i++) sm_props_set(out, cur->items[i].key, cur->items[i].value);
    for (size_t i = 0; i < C.add.n; i++) sm_props_set(out, C.add.items[i].key, C.add.items[i].value);
    sm_props_t tmp;
    sm_props_init(&tmp);
    for (size_t i = 0; i < out->n; i++) {
        int drop = 0;
        for (int k = 0; k < C.ndel; k++) drop |= !strcmp(C.del[k], out->items[i].key);
        if (!drop) sm_props_set(&tmp, out->items[i].key, out->items[i].value);
    }
    sm_props_free(out);
    *out = tmp;
}

/* ---- --zookeeper -------------------------------------------------------- */

/* DynamicConfig.Broker's own keys: the only broker configs Kafka lets
 * --zookeeper change while brokers run. */
static int
zk_broker_quota_key(const char *k)
{
    return !strcmp(k, "leader.replication.throttled.rate") || !strcmp(k, "follower.replication.throttled.rate") ||
           !strcmp(k, "replica.alter.log.dirs.io.max.bytes.per.second");
}

static int
zk_run(void)
{
    char err[512], desc[512];
    sm_zk_t *zk = sm_tool_zk_open(sm_tool_get(&C.args, "zookeeper"), TIMEOUT_MS, err, sizeof err);
    if (!zk) die_exc("kafka.zookeeper.ZooKeeperClientTimeoutException", "%s", err);
    if (sm_tool_has(&C.args, "describe")) {
        char **names = NULL;
        int n = 0;
        if (C.name) {
            names = sm_calloc(1, sizeof(char *));
            names[0] = sm_strdup(C.name);
            n = 1;
        } else if (sm_zk_admin_list_entity_configs(zk, C.type, &names, &n) < 0) {
            die_exc("org.apache.zookeeper.KeeperException", "could not list /config/%s", C.type);
        }
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        for (int i = 0; i < n; i++) {
            sm_props_t p;
            if (sm_zk_admin_get_entity_config(zk, C.type, names[i], &p) < 0)
                die_exc("org.apache.zookeeper.KeeperException", "could not read /config/%s/%s", C.type, names[i]);
            sm_tool_config_entity_desc(desc, sizeof desc, C.type, names[i]);
            sm_tool_fmt_zk_configs(&w, desc, &p);
            sm_props_free(&p);
        }
        fwrite(w.data, 1, w.len, stdout);
        sm_wbuf_free(&w);
        sm_zk_admin_free_list(names, n);
        sm_zk_admin_close(zk);
        return 0;
    }
    sm_tool_config_entity_desc(desc, sizeof desc, C.type, C.name);
    if (!strcmp(C.type, "brokers")) {
        char dyn[512] = "";
        size_t len = 0;
        for (size_t i = 0; i < C.add.n; i++)
            if (!zk_broker_quota_key(C.add.items[i].key) && len < sizeof dyn)
                len += (size_t)snprintf(dyn + len, sizeof dyn - len, "%s%s", len ? ", " : "", C.add.items[i].key);
        if (len) {
            int32_t *ids;
            int nb, running = 0;
            if (sm_tool_zk_broker_ids(zk, &ids, &nb) < 0)
                die_exc("org.apache.zookeeper.KeeperException", "could not list /brokers/ids");
            for (int i = 0; i < nb; i++) running += !strcmp(C.name, "<default>") || ids[i] == atoi(C.name);
            free(ids);
            const char *info = "Broker configuration updates using ZooKeeper are supported for bootstrapping before "
                               "brokers are started to enable encrypted password configs to be stored in ZooKeeper.";
            if (running && strcmp(C.name, "<default>"))
                die_msg("requirement failed: --bootstrap-server option must be specified to update broker configs Set(%s). "
                        "when broker %s is running. %s", dyn, C.name, info);
            if (running)
                die_msg("requirement failed: --bootstrap-server option must be specified to update broker configs Set(%s). "
                        "when brokers are running. %s", dyn, info);
        }
    }
    sm_props_t cur, next;
    if (sm_zk_admin_get_entity_config(zk, C.type, C.name, &cur) < 0)
        die_exc("org.apache.zookeeper.KeeperException", "could not read /config/%s/%s", C.type, C.name);
    check_deletes(&cur);
    merge(&cur, &next);
    sm_err_t e;
    if (!strcmp(C.type, "topics")) {
        sm_topic_assignment_t as;
        int rc = sm_zk_admin_get_assignment(zk, C.name, &as);
        if (rc > 0) die_exc("kafka.admin.AdminOperationException", "Topic \"%s\" does not exist.", C.name);
        if (rc < 0) die_exc("org.apache.zookeeper.KeeperException", "could not read /brokers/topics/%s", C.name);
        sm_topic_assignment_free(&as);
        /* LogConfig.validate: names, then values. */
        sm_log_config_t probe;
        for (size_t i = 0; i < next.n; i++)
            if (!sm_tool_topic_config_known(next.items[i].key)) die_msg("Unknown topic config name: %s", next.items[i].key);
        sm_log_config_defaults(&probe);
        for (size_t i = 0; i < next.n; i++)
            if (sm_log_config_set(&probe, next.items[i].key, next.items[i].value, err, sizeof err) < 0)
                die_exc("org.apache.kafka.common.config.ConfigException", "%s", err);
        e = sm_zk_admin_set_topic_config(zk, C.name, &next, err, sizeof err);
    } else {
        e = sm_zk_admin_set_broker_config(zk, C.name, &next, err, sizeof err);
    }
    if (e != SM_ERR_NONE) die_exc("kafka.admin.AdminOperationException", "%s", err);
    printf("Completed updating config for entity: %s.\n", desc);
    sm_props_free(&cur);
    sm_props_free(&next);
    sm_zk_admin_close(zk);
    return 0;
}

/* ---- --bootstrap-server ------------------------------------------------- */

static rd_kafka_t *
rk_open(void)
{
    char err[512];
    rd_kafka_t *rk = sm_tool_rdk_admin_new(sm_tool_get(&C.args, "bootstrap-server"), sm_tool_get(&C.args, "command-config"),
                                           0, "samsa-configs", err, sizeof err);
    if (!rk) die_msg("%s", err);
    return rk;
}

/* The request's result event (owned by call); dies on timeout or a
 * request-level error. */
static rd_kafka_event_t *
rk_wait(sm_tool_rdk_call_t *call)
{
    rd_kafka_event_t *ev = sm_tool_rdk_call_wait(call, TIMEOUT_MS + 5000);
    if (!ev) die_exc("org.apache.kafka.common.errors.TimeoutException", "Timed out waiting for a response");
    if (rd_kafka_event_error(ev))
        die_exc(exc_name(rd_kafka_event_error(ev)), "%s", rd_kafka_event_error_string(ev));
    return ev;
}

/* Start a DescribeConfigs/AlterConfigs request; a broker resource (other
 * than the cluster default) must be sent to that broker. */
static void
rk_begin(sm_tool_rdk_call_t *call, rd_kafka_t *rk, rd_kafka_admin_op_t op, rd_kafka_ResourceType_t type,
         const char *name)
{
    char err[256];
    sm_tool_rdk_call_begin(call, rk, op, TIMEOUT_MS, 0);
    if (type == RD_KAFKA_RESOURCE_BROKER && *name && strcmp(name, "<default>"))
        rd_kafka_AdminOptions_set_broker(call->o, atoi(name), err, sizeof err);
}

/* A failed resource in an AlterConfigs/DescribeConfigs result: die with
 * its exception line. */
static void
check_resource(const rd_kafka_ConfigResource_t *r)
{
    rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(r);
    if (!e) return;
    const char *msg = rd_kafka_ConfigResource_error_string(r);
    die_exc(exc_name(e), "%s", msg && *msg ? msg : rd_kafka_err2str(e));
}

/* The resource name on the wire: "" for the broker default. */
static const char *
wire_name(const char *name)
{
    return !strcmp(name, "<default>") ? "" : name;
}

typedef struct {
    char *name, *value;
    int source, sensitive;
    char *synonyms;                  /* "SRC:k=v, SRC:k=v" */
} entry_t;

static int
cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

/* DescribeConfigs of one resource; only entries whose source is `only`
 * (or all when only < 0), sorted by name. */
static entry_t *
rk_describe_one(rd_kafka_t *rk, rd_kafka_ResourceType_t type, const char *name, int only, int *n)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, name);
    sm_tool_rdk_call_t call;
    rk_begin(&call, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, type, name);
    rd_kafka_DescribeConfigs(rk, &res, 1, call.o, call.q);
    size_t nr;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(rk_wait(&call)), &nr);
    entry_t *out = NULL;
    *n = 0;
    for (size_t i = 0; i < nr; i++) {
        check_resource(rr[i]);
        size_t ne;
        const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(rr[i], &ne);
        out = sm_calloc(ne + 1, sizeof(entry_t));
        for (size_t k = 0; k < ne; k++) {
            int src = rd_kafka_ConfigEntry_source(ents[k]);
            if (only >= 0 && src != only) continue;
            entry_t *x = &out[(*n)++];
            const char *v = rd_kafka_ConfigEntry_value(ents[k]);
            x->name = sm_strdup(rd_kafka_ConfigEntry_name(ents[k]));
            x->value = v ? sm_strdup(v) : NULL;
            x->source = src;
            x->sensitive = rd_kafka_ConfigEntry_is_sensitive(ents[k]);
            size_t ns;
            const rd_kafka_ConfigEntry_t **syn = rd_kafka_ConfigEntry_synonyms(ents[k], &ns);
            sm_wbuf_t w;
            sm_wbuf_init(&w, 64);
            for (size_t s = 0; s < ns; s++) {
                const char *sv = rd_kafka_ConfigEntry_value(syn[s]);
                sm_tool_wprintf(&w, "%s%s:%s=%s", s ? ", " : "",
                                rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(syn[s])),
                                rd_kafka_ConfigEntry_name(syn[s]), sv ? sv : "null");
            }
            x->synonyms = sm_strndup((const char *)w.data, w.len);
            sm_wbuf_free(&w);
        }
    }
    if (!out) out = sm_calloc(1, sizeof(entry_t));
    qsort(out, (size_t)*n, sizeof(entry_t), cmp_entry);
    sm_tool_rdk_call_end(&call);
    rd_kafka_ConfigResource_destroy(res);
    return out;
}

static void
entries_free(entry_t *e, int n)
{
    for (int i = 0; i < n; i++) { free(e[i].name); free(e[i].value); free(e[i].synonyms); }
    free(e);
}

static int
dynamic_source(const char *name)
{
    if (!strcmp(C.type, "topics")) return RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    return !strcmp(name, "<default>") ? RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG
                                      : RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG;
}

static void
rk_describe(rd_kafka_t *rk)
{
    int all = sm_tool_has(&C.args, "all");
    rd_kafka_ResourceType_t rt = !strcmp(C.type, "topics") ? RD_KAFKA_RESOURCE_TOPIC : RD_KAFKA_RESOURCE_BROKER;
    char **names;
    int n = 0;
    if (C.name) {
        names = sm_calloc(1, sizeof(char *));
        names[n++] = sm_strdup(C.name);
    } else {
        const rd_kafka_metadata_t *md;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, TIMEOUT_MS);
        if (e) die_exc(exc_name(e), "%s", rd_kafka_err2str(e));
        int cap = (rt == RD_KAFKA_RESOURCE_TOPIC ? md->topic_cnt : md->broker_cnt) + 1;
        names = sm_calloc((size_t)cap, sizeof(char *));
        if (rt == RD_KAFKA_RESOURCE_TOPIC) {
            for (int i = 0; i < md->topic_cnt; i++) names[n++] = sm_strdup(md->topics[i].topic);
            qsort(names, (size_t)n, sizeof(char *), sm_tool_cmp_str);
        } else {
            /* Kafka also lists the cluster default here; librdkafka cannot ask for it. */
            for (int i = 0; i < md->broker_cnt; i++) names[n++] = sm_asprintf("%d", md->brokers[i].id);
        }
        rd_kafka_metadata_destroy(md);
    }
    for (int i = 0; i < n; i++) {
        int ne;
        entry_t *e = rk_describe_one(rk, rt, wire_name(names[i]), all ? -1 : dynamic_source(names[i]), &ne);
        if (!strcmp(names[i], "<default>")) printf("Default configs for brokers in the cluster are:\n");
        else printf("%s configs for %s %s are:\n", all ? "All" : "Dynamic", rt == RD_KAFKA_RESOURCE_TOPIC ? "topic" : "broker",
                    names[i]);
        for (int k = 0; k < ne; k++)
            printf("  %s=%s sensitive=%s synonyms={%s}\n", e[k].name, e[k].sensitive || !e[k].value ? "null" : e[k].value,
                   e[k].sensitive ? "true" : "false", e[k].synonyms);
        entries_free(e, ne);
    }
    sm_tool_strv_free(names, n);
}

static void
rk_alter(rd_kafka_t *rk)
{
    rd_kafka_ResourceType_t rt = !strcmp(C.type, "topics") ? RD_KAFKA_RESOURCE_TOPIC : RD_KAFKA_RESOURCE_BROKER;
    int ne;
    entry_t *e = rk_describe_one(rk, rt, wire_name(C.name), dynamic_source(C.name), &ne);
    sm_props_t cur, next;
    sm_props_init(&cur);
    for (int i = 0; i < ne; i++) {
        /* A sensitive value cannot be read back, so it cannot be rewritten. */
        if (!e[i].value)
            die_msg("All sensitive broker config entries must be specified for --alter, missing entries: Set(%s)", e[i].name);
        sm_props_set(&cur, e[i].name, e[i].value);
    }
    entries_free(e, ne);
    check_deletes(&cur);
    merge(&cur, &next);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(rt, wire_name(C.name));
    for (size_t i = 0; i < next.n; i++) rd_kafka_ConfigResource_set_config(res, next.items[i].key, next.items[i].value);
    sm_tool_rdk_call_t call;
    rk_begin(&call, rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, rt, C.name);
    rd_kafka_AlterConfigs(rk, &res, 1, call.o, call.q);
    size_t nr;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(rk_wait(&call)), &nr);
    for (size_t i = 0; i < nr; i++) check_resource(rr[i]);
    sm_tool_rdk_call_end(&call);
    rd_kafka_ConfigResource_destroy(res);
    if (!strcmp(C.name, "<default>")) printf("Completed updating default config for brokers in the cluster.\n");
    else printf("Completed updating config for %s %s.\n", rt == RD_KAFKA_RESOURCE_TOPIC ? "topic" : "broker", C.name);
    sm_props_free(&cur);
    sm_props_free(&next);
}

static int
rk_run(void)
{
    /* librdkafka refuses a ConfigResource with an empty name, which is how
     * the wire addresses the cluster-wide broker default. */
    if (C.name && !strcmp(C.name, "<default>"))
        die_msg("The cluster-default broker config cannot be addressed through librdkafka; "
                "use --zookeeper (while brokers are stopped, as Kafka requires for dynamic keys)");
    rd_kafka_t *rk = rk_open();
    if (sm_tool_has(&C.args, "describe")) rk_describe(rk);
    else rk_alter(rk);
    fflush(stdout);
    rd_kafka_destroy(rk);
    return 0;
}

int
main(int argc, char **argv)
{
    sm_log_level = SM_LOG_WARN;
    size_t len = 0;
    for (int i = 1; i < argc && len < sizeof C.cmdline; i++)
        len += (size_t)snprintf(C.cmdline + len, sizeof C.cmdline - len, "%s%s", i > 1 ? " " : "", argv[i]);
    sm_tool_cli_parse(&cli, &C.args, argc, argv);
    check_args();
    int rc = sm_tool_has(&C.args, "zookeeper") ? zk_run() : rk_run();
    sm_props_free(&C.add);
    sm_tool_strv_free(C.del, C.ndel);
    sm_tool_args_free(&C.args);
    return rc;
}

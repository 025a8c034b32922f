/*
 * sm_topics.c - samsa-topics, a native kafka-topics.sh (Kafka 2.x).
 *
 * Two back ends behind one front end, as in Kafka's TopicCommand:
 * --zookeeper talks to ZooKeeper synchronously through zk/sm_zk_admin.h
 * (AdminZkClient semantics, znode layout shared with Kafka), and
 * --bootstrap-server goes through librdkafka's Admin API and Metadata.
 * Flags, checks, messages and output lines follow Kafka 2.8's TopicCommand;
 * --describe's layout can be switched to 2.0/2.4 with SAMSA_KAFKA_VERSION.
 * Execution errors print "Error while executing topic command : <msg>" on
 * stdout (as Kafka does) and exit 1; usage errors go to stderr.
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_rdk.h"
#include "zk/sm_zk_admin.h"

#define ADMIN_TIMEOUT_MS 30000
#define ZK_TIMEOUT_MS 30000

static const sm_tool_opt_t topic_opts[] = {
    { "alter", SM_TOOL_ARG_NONE, NULL, "Alter the number of partitions, replica assignment, and/or configuration for the topic." },
    { "at-min-isr-partitions", SM_TOOL_ARG_NONE, NULL, "if set when describing topics, only show partitions whose isr count is equal to the configured minimum. Not supported with the --zookeeper option." },
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: server to connect to", "REQUIRED: The Kafka server to connect to. In case of providing this, a direct Zookeeper connection won't be required." },
    { "command-config", SM_TOOL_ARG_REQUIRED, "String: command config property file", "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs." },
    { "config", SM_TOOL_ARG_REQUIRED, "String: name=value", "A topic configuration override for the topic being created or altered. See the Kafka documentation for the list of topic configs. It is supported only in combination with --create if --bootstrap-server option is used." },
    { "create", SM_TOOL_ARG_NONE, NULL, "Create a new topic." },
    { "delete", SM_TOOL_ARG_NONE, NULL, "Delete a topic" },
    { "delete-config", SM_TOOL_ARG_REQUIRED, "String: name", "A topic configuration override to be removed for an existing topic (see the list of configurations under the --config option). Not supported with the --bootstrap-server option." },
    { "describe", SM_TOOL_ARG_NONE, NULL, "List details for the given topics." },
    { "disable-rack-aware", SM_TOOL_ARG_NONE, NULL, "Disable rack aware replica assignment" },
    { "exclude-internal", SM_TOOL_ARG_NONE, NULL, "exclude internal topics when running list or describe command. The internal topics will be listed by default" },
    { "force", SM_TOOL_ARG_NONE, NULL, "Suppress console prompts" },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "if-exists", SM_TOOL_ARG_NONE, NULL, "if set when altering or deleting or describing topics, the action will only execute if the topic exists." },
    { "if-not-exists", SM_TOOL_ARG_NONE, NULL, "if set when creating topics, the action will only execute if the topic does not already exist." },
    { "list", SM_TOOL_ARG_NONE, NULL, "List all available topics." },
    { "partitions", SM_TOOL_ARG_REQUIRED, "Integer: # of partitions", "The number of partitions for the topic being created or altered (WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected). If not supplied for create, defaults to the cluster default." },
    { "replica-assignment", SM_TOOL_ARG_REQUIRED, "String: broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...", "A list of manual partition-to-broker assignments for the topic being created or altered." },
    { "replication-factor", SM_TOOL_ARG_REQUIRED, "Integer: replication factor", "The replication factor for each partition in the topic being created. If not supplied, defaults to the cluster default." },
    { "topic", SM_TOOL_ARG_REQUIRED, "String: topic", "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option. Put topic name in double quotes and use the '\\' prefix to escape regular expression symbols; e.g. \"test\\.topic\"." },
    { "topics-with-overrides", SM_TOOL_ARG_NONE, NULL, "if set when describing topics, only show topics that have overridden configs" },
    { "unavailable-partitions", SM_TOOL_ARG_NONE, NULL, "if set when describing topics, only show partitions whose leader is not available" },
    { "under-min-isr-partitions", SM_TOOL_ARG_NONE, NULL, "if set when describing topics, only show partitions whose isr count is less than the configured minimum. Not supported with the --zookeeper option." },
    { "under-replicated-partitions", SM_TOOL_ARG_NONE, NULL, "if set when describing topics, only show under replicated partitions" },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { "zookeeper", SM_TOOL_ARG_REQUIRED, "String: hosts", "DEPRECATED, The connection string for the zookeeper connection in the form host:port. Multiple hosts can be given to allow fail-over." },
    { NULL, 0, NULL, NULL },
};

/* Everything the back ends need, resolved from the command line once. */
typedef struct {
    sm_tool_args_t args;
    const char *topic;                 /* --topic (name or regex) */
    int has_partitions;
    int32_t partitions;
    int has_rf;
    int32_t rf;
    sm_topic_assignment_t assignment;  /* --replica-assignment, npartitions 0 if absent */
    sm_props_t add_configs;
    char **del_configs;
    int ndel_configs;
    int if_exists, if_not_exists, exclude_internal;
    int under_replicated, unavailable, under_min_isr, at_min_isr, with_overrides;
    sm_tool_fmt_t fmt;
} topic_cmd_t;

static const sm_tool_cli_t topic_cli = {
    .opts = topic_opts,
    .no_args_msg = "Create, delete, describe, or change a topic.",
    .help_header = "This tool helps to create, delete, describe, or change a topic.",
    .version_tag = "samsa",
};

/* Execution errors: Kafka prints them on stdout. */
#define fail(...) sm_tool_fail("Error while executing topic command : ", __VA_ARGS__)
#define usage_die(msg) sm_tool_usage_die(topic_opts, (msg))

/* TopicCommandOptions.checkArgs. */
static void
check_args(topic_cmd_t *c)
{
    sm_tool_args_t *a = &c->args;
    int actions = sm_tool_has(a, "create") + sm_tool_has(a, "list") + sm_tool_has(a, "alter") +
                  sm_tool_has(a, "describe") + sm_tool_has(a, "delete");
    if (actions != 1)
        usage_die("Command must include exactly one action: --list, --describe, --create, --alter or --delete");
    if (sm_tool_has(a, "bootstrap-server") == sm_tool_has(a, "zookeeper")) {
        fprintf(stderr, "Only one of --bootstrap-server or --zookeeper must be specified\n");
        exit(1);
    }
    int bs = sm_tool_has(a, "bootstrap-server"), zk = !bs;
    if (sm_tool_has(a, "describe") && sm_tool_has(a, "if-exists")) sm_tool_check_required(a, "topic");
    if (!sm_tool_has(a, "list") && !sm_tool_has(a, "describe")) sm_tool_check_required(a, "topic");
    if (sm_tool_has(a, "create") && !sm_tool_has(a, "replica-assignment") && zk) {
        sm_tool_check_required(a, "partitions");
        sm_tool_check_required(a, "replication-factor");
    }
    if (bs && sm_tool_has(a, "alter")) {
        if (sm_tool_has(a, "config"))
            usage_die("Option \"[bootstrap-server, config]\" can't be used with option \"[alter]\" (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)");
        sm_tool_check_required(a, "partitions");
    }
    static const char *const not_ac[] = { "describe", "list", "delete", NULL };
    static const char *const not_a_bs[] = { "create", "describe", "list", "delete", "bootstrap-server", NULL };
    static const char *const not_c[] = { "alter", "describe", "list", "delete", NULL };
    static const char *const not_c_pr[] = { "partitions", "replication-factor", NULL };
    static const char *const ur[] = { "create", "alter", "list", "delete", "under-min-isr-partitions", "at-min-isr-partitions", "unavailable-partitions", "topics-with-overrides", NULL };
    static const char *const umi[] = { "create", "alter", "list", "delete", "under-replicated-partitions", "at-min-isr-partitions", "unavailable-partitions", "topics-with-overrides", "zookeeper", NULL };
    static const char *const ami[] = { "create", "alter", "list", "delete", "under-replicated-partitions", "under-min-isr-partitions", "unavailable-partitions", "topics-with-overrides", "zookeeper", NULL };
    static const char *const ua[] = { "create", "alter", "list", "delete", "under-replicated-partitions", "under-min-isr-partitions", "at-min-isr-partitions", "topics-with-overrides", NULL };
    static const char *const two[] = { "create", "alter", "list", "delete", "under-replicated-partitions", "under-min-isr-partitions", "at-min-isr-partitions", "unavailable-partitions", NULL };
    static const char *const ie[] = { "create", "list", NULL };
    static const char *const ine[] = { "alter", "describe", "list", "delete", NULL };
    static const char *const exi[] = { "create", "alter", "delete", NULL };
    sm_tool_check_invalid(a, "config", not_ac);
    sm_tool_check_invalid(a, "delete-config", not_a_bs);
    sm_tool_check_invalid(a, "partitions", not_ac);
    sm_tool_check_invalid(a, "replication-factor", not_c);
    sm_tool_check_invalid(a, "replica-assignment", not_ac);
    if (sm_tool_has(a, "create")) sm_tool_check_invalid(a, "replica-assignment", not_c_pr);
    sm_tool_check_invalid(a, "under-replicated-partitions", ur);
    sm_tool_check_invalid(a, "under-min-isr-partitions", umi);
    sm_tool_check_invalid(a, "at-min-isr-partitions", ami);
    sm_tool_check_invalid(a, "unavailable-partitions", ua);
    sm_tool_check_invalid(a, "topics-with-overrides", two);
    sm_tool_check_invalid(a, "if-exists", ie);
    sm_tool_check_invalid(a, "if-not-exists", ine);
    sm_tool_check_invalid(a, "exclude-internal", exi);
}

/* Turn the parsed options into typed fields; bad values are execution errors
 * in Kafka (thrown inside the try), so they use fail(). */
static void
resolve_args(topic_cmd_t *c)
{
    sm_tool_args_t *a = &c->args;
    char err[512];
    c->topic = sm_tool_get(a, "topic");
    if ((c->has_partitions = sm_tool_has(a, "partitions")) && sm_tool_parse_int(sm_tool_get(a, "partitions"), &c->partitions))
        fail("For input string: \"%s\"", sm_tool_get(a, "partitions"));
    if ((c->has_rf = sm_tool_has(a, "replication-factor")) && sm_tool_parse_int(sm_tool_get(a, "replication-factor"), &c->rf))
        fail("For input string: \"%s\"", sm_tool_get(a, "replication-factor"));
    const char *ra = sm_tool_get(a, "replica-assignment");
    if (ra && *ra && sm_tool_parse_replica_assignment(ra, &c->assignment, err, sizeof err)) fail("%s", err);
    int n;
    char **kv = sm_tool_get_all(a, "config", &n);
    sm_props_init(&c->add_configs);
    if (sm_tool_parse_topic_configs(kv, n, &c->add_configs, err, sizeof err)) fail("%s", err);
    sm_tool_warn_message_format(&c->add_configs);
    c->del_configs = sm_tool_get_all(a, "delete-config", &c->ndel_configs);
    for (int i = 0; i < c->ndel_configs; i++)
        if (!c->del_configs[i] || !sm_tool_topic_config_known(c->del_configs[i]))
            fail("Unknown topic config name: %s", c->del_configs[i] ? c->del_configs[i] : "");
    c->if_exists = sm_tool_has(a, "if-exists");
    c->if_not_exists = sm_tool_has(a, "if-not-exists");
    c->exclude_internal = sm_tool_has(a, "exclude-internal");
    c->under_replicated = sm_tool_has(a, "under-replicated-partitions");
    c->unavailable = sm_tool_has(a, "unavailable-partitions");
    c->under_min_isr = sm_tool_has(a, "under-min-isr-partitions");
    c->at_min_isr = sm_tool_has(a, "at-min-isr-partitions");
    c->with_overrides = sm_tool_has(a, "topics-with-overrides");
    c->fmt = sm_tool_fmt_from_env();
}

/* doGetTopics: filter a sorted list by --topic regex and --exclude-internal.
 * Keeps matches in place; returns the new count. */
static int
filter_topics(const topic_cmd_t *c, char **topics, int n)
{
    sm_tool_filter_t f = { .ok = 0 };
    char err[256];
    if (c->topic && sm_tool_filter_init(&f, c->topic, err, sizeof err)) fail("%s", err);
    int m = 0;
    for (int i = 0; i < n; i++) {
        int keep = (!c->topic || sm_tool_filter_match(&f, topics[i])) &&
                   !(c->exclude_internal && sm_tool_topic_is_internal(topics[i]));
        if (keep) topics[m++] = topics[i];
        else free(topics[i]);
    }
    sm_tool_filter_free(&f);
    return m;
}

static void
ensure_topic_exists(const topic_cmd_t *c, int nfound)
{
    if (c->topic && !c->if_exists && nfound == 0) fail("Topic '%s' does not exist as expected", c->topic);
}

static void
print_wbuf(sm_wbuf_t *w)
{
    fwrite(w->data, 1, w->len, stdout);
    sm_wbuf_reset(w);
}

static void
collision_warning(const char *topic)
{
    if (sm_tool_topic_has_collision_chars(topic))
        printf("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n");
}

/* Which partitions --describe prints (DescribeOptions). */
static int
describe_configs(const topic_cmd_t *c)
{
    return !c->unavailable && !c->under_replicated && !c->under_min_isr && !c->at_min_isr;
}

static int
want_partition(const topic_cmd_t *c, int32_t leader, int leader_live, int32_t nreplicas, int32_t nisr,
               int32_t min_isr)
{
    if (describe_configs(c)) return 1;
    if (c->under_replicated && nreplicas - nisr > 0) return 1;
    if (c->unavailable && (leader < 0 || !leader_live)) return 1;
    if (c->under_min_isr && (leader < 0 || (min_isr > 0 && nisr < min_isr))) return 1;
    if (c->at_min_isr && min_isr > 0 && nisr == min_isr) return 1;
    return 0;
}

/* ======================= ZooKeeper back end ============================ */

static int32_t *
zk_broker_ids(sm_zk_t *zk, int *n)
{
    int32_t *ids;
    if (sm_tool_zk_broker_ids(zk, &ids, n) < 0) fail("Failed to read /brokers/ids from ZooKeeper");
    return ids;
}

static char **
zk_topics(sm_zk_t *zk, const topic_cmd_t *c, int *n)
{
    char **t = NULL;
    int nt = 0;
    if (sm_zk_admin_list_topics(zk, &t, &nt) < 0) fail("Failed to list /brokers/topics in ZooKeeper");
    qsort(t, (size_t)nt, sizeof(char *), sm_tool_cmp_str);
    *n = filter_topics(c, t, nt);
    return t;
}

static void
zk_create(sm_zk_t *zk, topic_cmd_t *c)
{
    char err[512];
    const char *topic = c->topic;
    collision_warning(topic);
    if (!sm_topic_name_valid(topic, err, sizeof err)) fail("%s", err);
    sm_topic_assignment_t a = { 0 };
    int own = 0;
    if (c->assignment.npartitions > 0) {
        a = c->assignment;
    } else {
        if (c->partitions <= 0) fail("Number of partitions must be larger than 0.");
        if (c->rf <= 0) fail("Replication factor must be larger than 0.");
        char aerr[256] = "";
        sm_err_t e = sm_zk_admin_assign(zk, c->partitions, c->rf, -1, 0, &a, aerr, sizeof aerr);
        if (e != SM_ERR_NONE) fail("%s", aerr[0] ? aerr : sm_err_name(e));
        own = 1;
    }
    err[0] = '\0';
    sm_err_t e = sm_zk_admin_create_topic(zk, topic, &a, &c->add_configs, err, sizeof err);
    if (own) sm_topic_assignment_free(&a);
    if (e == SM_ERR_NONE) {
        printf("Created topic %s.\n", topic);
    } else if (e == SM_ERR_TOPIC_ALREADY_EXISTS && c->if_not_exists) {
        /* Kafka is silent here. */
    } else if (e == SM_ERR_TOPIC_ALREADY_EXISTS) {
        fail("%s", *err ? err : "Topic already exists.");
    } else {
        fail("%s", *err ? err : sm_err_name(e));
    }
}

static void
zk_list(sm_zk_t *zk, topic_cmd_t *c)
{
    int n;
    char **t = zk_topics(zk, c, &n);
    for (int i = 0; i < n; i++)
        printf(sm_zk_admin_marked_for_deletion(zk, t[i]) == 1 ? "%s - marked for deletion\n" : "%s\n", t[i]);
    sm_zk_admin_free_list(t, n);
}

static void
zk_describe(sm_zk_t *zk, topic_cmd_t *c)
{
    int n;
    char **t = zk_topics(zk, c, &n);
    ensure_topic_exists(c, n);
    int nlive;
    int32_t *live = zk_broker_ids(zk, &nlive);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 1024);
    for (int i = 0; i < n; i++) {
        sm_topic_assignment_t a = { 0 };
        int rc = sm_zk_admin_get_assignment(zk, t[i], &a);
        if (rc < 0) fail("Failed to read /brokers/topics/%s from ZooKeeper", t[i]);
        if (rc == 1 || a.npartitions <= 0) {
            printf("Topic %s doesn't exist!\n", t[i]);
            if (rc == 0) sm_topic_assignment_free(&a);
            continue;
        }
        int marked = sm_zk_admin_marked_for_deletion(zk, t[i]) == 1;
        if (describe_configs(c)) {
            sm_props_t cfg;
            sm_props_init(&cfg);
            if (sm_zk_admin_get_topic_config(zk, t[i], &cfg) < 0) fail("Failed to read /config/topics/%s", t[i]);
            if (!c->with_overrides || cfg.n > 0) {
                char *joined = sm_tool_join_configs(&cfg);
                sm_tool_fmt_topic_line(&w, c->fmt, t[i], a.topic_id, a.npartitions, a.nreplicas[0], joined, marked);
                free(joined);
            }
            sm_props_free(&cfg);
        }
        if (!c->with_overrides) {
            for (int32_t p = 0; p < a.npartitions; p++) {
                sm_partition_state_t st = { 0 };
                int src = sm_zk_admin_get_partition_state(zk, t[i], p, &st);
                if (src < 0) fail("Failed to read the state of %s-%d from ZooKeeper", t[i], p);
                int32_t leader = src == 0 ? st.leader : -1;
                int leader_live = 0;
                for (int b = 0; b < nlive; b++) leader_live |= live[b] == leader;
                int32_t nisr = src == 0 ? st.nisr : 0;
                if (want_partition(c, leader, leader_live, a.nreplicas[p], nisr, 0))
                    sm_tool_fmt_partition_line(&w, t[i], p, leader, a.replicas[p], a.nreplicas[p],
                                               src == 0 ? st.isr : NULL, nisr, marked);
                if (src == 0) sm_partition_state_free(&st);
            }
        }
        sm_topic_assignment_free(&a);
        print_wbuf(&w);
    }
    sm_wbuf_free(&w);
    free(live);
    sm_zk_admin_free_list(t, n);
}

static void
zk_alter(sm_zk_t *zk, topic_cmd_t *c)
{
    char err[512];
    int n;
    char **t = zk_topics(zk, c, &n);
    ensure_topic_exists(c, n);
    for (int i = 0; i < n; i++) {
        const char *topic = t[i];
        if (c->add_configs.n > 0 || c->ndel_configs > 0) {
            printf("WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.\n");
            printf("         Going forward, please use kafka-configs.sh for this functionality\n");
            sm_props_t cfg;
            sm_props_init(&cfg);
            if (sm_zk_admin_get_topic_config(zk, topic, &cfg) < 0) fail("Failed to read /config/topics/%s", topic);
            for (size_t k = 0; k < c->add_configs.n; k++)
                sm_props_set(&cfg, c->add_configs.items[k].key, c->add_configs.items[k].value);
            for (int k = 0; k < c->ndel_configs; k++) sm_tool_props_remove(&cfg, c->del_configs[k]);
            err[0] = '\0';
            sm_err_t e = sm_zk_admin_set_topic_config(zk, topic, &cfg, err, sizeof err);
            sm_props_free(&cfg);
            if (e != SM_ERR_NONE) fail("%s", *err ? err : sm_err_name(e));
            printf("Updated config for topic %s.\n", topic);
        }
        if (c->has_partitions) {
            if (sm_tool_topic_is_internal(topic))
                fail("The number of partitions for the internal topic %s cannot be changed.", topic);
            printf("WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected\n");
            sm_topic_assignment_t cur = { 0 };
            int rc = sm_zk_admin_get_assignment(zk, topic, &cur);
            if (rc < 0) fail("Failed to read /brokers/topics/%s from ZooKeeper", topic);
            if (rc == 1 || cur.npartitions <= 0) fail("The topic %s does not exist", topic);
            int32_t inc = c->partitions - cur.npartitions;
            if (inc < 0)
                fail("The number of partitions for a topic can only be increased. Topic %s currently has %d partitions, %d would not be an increase.",
                     topic, cur.npartitions, c->partitions);
            if (inc == 0) fail("Topic already has %d partitions.", c->partitions);
            sm_topic_assignment_t full = { 0 };
            full.npartitions = c->partitions;
            full.nreplicas = sm_calloc((size_t)c->partitions, sizeof(int32_t));
            full.replicas = sm_calloc((size_t)c->partitions, sizeof(int32_t *));
            for (int32_t p = 0; p < cur.npartitions; p++) {
                full.nreplicas[p] = cur.nreplicas[p];
                full.replicas[p] = sm_calloc((size_t)cur.nreplicas[p] + 1, sizeof(int32_t));
                memcpy(full.replicas[p], cur.replicas[p], sizeof(int32_t) * (size_t)cur.nreplicas[p]);
            }
            if (c->assignment.npartitions > 0) {
                if (c->assignment.npartitions != c->partitions)
                    fail("Increasing the number of partitions by %d but %d assignments provided.", inc,
                         c->assignment.npartitions - cur.npartitions > 0 ? c->assignment.npartitions - cur.npartitions : 0);
                for (int32_t p = cur.npartitions; p < c->partitions; p++) {
                    full.nreplicas[p] = c->assignment.nreplicas[p];
                    full.replicas[p] = sm_calloc((size_t)full.nreplicas[p] + 1, sizeof(int32_t));
                    memcpy(full.replicas[p], c->assignment.replicas[p], sizeof(int32_t) * (size_t)full.nreplicas[p]);
                }
            } else {
                int nb;
                int32_t *ids = zk_broker_ids(zk, &nb);
                int32_t rf = cur.nreplicas[0];
                if (rf > nb) fail("Replication factor: %d larger than available brokers: %d.", rf, nb);
                /* AdminZkClient: start from the broker owning partition 0's first replica. */
                int32_t start = 0;
                for (int b = 0; b < nb; b++)
                    if (cur.nreplicas[0] > 0 && ids[b] >= cur.replicas[0][0]) { start = b; break; }
                sm_topic_assignment_t add = { 0 };
                sm_err_t e = sm_assign_replicas(ids, nb, inc, rf, start, cur.npartitions, &add);
                free(ids);
                if (e != SM_ERR_NONE) fail("Replica assignment failed: %s", sm_err_name(e));
                /* Accept either an assignment of just the new partitions or of
                 * all partitions (ids from start_partition). */
                int32_t off = add.npartitions == inc ? 0 : cur.npartitions;
                for (int32_t p = 0; p < inc && off + p < add.npartitions; p++) {
                    int32_t dst = cur.npartitions + p;
                    full.nreplicas[dst] = add.nreplicas[off + p];
                    full.replicas[dst] = sm_calloc((size_t)full.nreplicas[dst] + 1, sizeof(int32_t));
                    memcpy(full.replicas[dst], add.replicas[off + p], sizeof(int32_t) * (size_t)full.nreplicas[dst]);
                }
                sm_topic_assignment_free(&add);
            }
            err[0] = '\0';
            sm_err_t e = sm_zk_admin_add_partitions(zk, topic, &full, err, sizeof err);
            sm_tool_assignment_free(&full);
            sm_topic_assignment_free(&cur);
            if (e != SM_ERR_NONE) fail("%s", *err ? err : sm_err_name(e));
            printf("Adding partitions succeeded!\n");
        }
    }
    sm_zk_admin_free_list(t, n);
}

static void
zk_delete(sm_zk_t *zk, topic_cmd_t *c)
{
    char err[512];
    int n;
    char **t = zk_topics(zk, c, &n);
    ensure_topic_exists(c, n);
    for (int i = 0; i < n; i++) {
        if (sm_tool_topic_is_internal(t[i]))
            fail("Topic %s is a kafka internal topic and is not allowed to be marked for deletion.", t[i]);
        if (sm_zk_admin_marked_for_deletion(zk, t[i]) == 1) {
            printf("Topic %s is already marked for deletion.\n", t[i]);
            continue;
        }
        err[0] = '\0';
        sm_err_t e = sm_zk_admin_delete_topic(zk, t[i], err, sizeof err);
        if (e == SM_ERR_TOPIC_ALREADY_EXISTS) {
            printf("Topic %s is already marked for deletion.\n", t[i]);
        } else if (e != SM_ERR_NONE) {
            fail("Error while deleting topic %s", t[i]);
        } else {
            printf("Topic %s is marked for deletion.\n", t[i]);
            printf("Note: This will have no impact if delete.topic.enable is not set to true.\n");
        }
    }
    sm_zk_admin_free_list(t, n);
}

static int
run_zk(topic_cmd_t *c)
{
    char err[512];
    sm_zk_t *zk = sm_tool_zk_open(sm_tool_get(&c->args, "zookeeper"), ZK_TIMEOUT_MS, err, sizeof err);
    if (!zk) fail("%s", err);
    if (sm_tool_has(&c->args, "create")) zk_create(zk, c);
    else if (sm_tool_has(&c->args, "alter")) zk_alter(zk, c);
    else if (sm_tool_has(&c->args, "list")) zk_list(zk, c);
    else if (sm_tool_has(&c->args, "describe")) zk_describe(zk, c);
    else zk_delete(zk, c);
    fflush(stdout);
    sm_zk_admin_close(zk);
    return 0;
}

/* ======================= librdkafka back end =========================== */

static rd_kafka_t *
rk_open(topic_cmd_t *c)
{
    char err[512];
    rd_kafka_t *rk = sm_tool_rdk_admin_new(sm_tool_get(&c->args, "bootstrap-server"),
                                           sm_tool_get(&c->args, "command-config"), 1, "samsa-topics", err, sizeof err);
    if (!rk) fail("%s", err);
    return rk;
}

/* Metadata for all topics; the topic list is filtered, sorted and returned
 * as borrowed pointers into md. */
static const rd_kafka_metadata_topic_t **
rk_topics(rd_kafka_t *rk, const topic_cmd_t *c, const rd_kafka_metadata_t **mdp, int *n)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, ADMIN_TIMEOUT_MS);
    if (e) fail("%s", rd_kafka_err2str(e));
    char **names = sm_calloc((size_t)md->topic_cnt + 1, sizeof(char *));
    for (int i = 0; i < md->topic_cnt; i++) names[i] = sm_strdup(md->topics[i].topic);
    qsort(names, (size_t)md->topic_cnt, sizeof(char *), sm_tool_cmp_str);
    int m = filter_topics(c, names, md->topic_cnt);
    const rd_kafka_metadata_topic_t **out = sm_calloc((size_t)m + 1, sizeof(*out));
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < md->topic_cnt; j++)
            if (!strcmp(md->topics[j].topic, names[i])) { out[i] = &md->topics[j]; break; }
        free(names[i]);
    }
    free(names);
    *mdp = md;
    *n = m;
    return out;
}

/* Start an admin request: request timeout, plus the operation timeout for
 * the requests that wait for the controller. */
static void
rk_begin(sm_tool_rdk_call_t *call, rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    int op_timeout = op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
                     op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS ? ADMIN_TIMEOUT_MS : 0;
    sm_tool_rdk_call_begin(call, rk, op, ADMIN_TIMEOUT_MS, op_timeout);
}

/* The request's result event (owned by call); fails on timeout or a
 * request-level error. */
static rd_kafka_event_t *
rk_wait(sm_tool_rdk_call_t *call)
{
    rd_kafka_event_t *ev = sm_tool_rdk_call_wait(call, ADMIN_TIMEOUT_MS + 5000);
    if (!ev) fail("Timed out waiting for a response from the broker");
    if (rd_kafka_event_error(ev)) fail("%s", rd_kafka_event_error_string(ev));
    return ev;
}

/* Wait for a CreateTopics / CreatePartitions / DeleteTopics result and fail
 * on the first topic error; TOPIC_ALREADY_EXISTS passes when
 * tolerate_exists. Returns 1 if some topic already existed. */
static int
rk_topic_results(sm_tool_rdk_call_t *call, rd_kafka_admin_op_t op, int tolerate_exists)
{
    rd_kafka_event_t *ev = rk_wait(call);
    size_t n = 0;
    const rd_kafka_topic_result_t **r =
        op == RD_KAFKA_ADMIN_OP_CREATETOPICS ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n)
        : op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS
            ? rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n)
            : rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    int existed = 0;
    for (size_t i = 0; i < n; i++) existed |= rd_kafka_topic_result_error(r[i]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(r[i]);
        if (!e) continue;
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && tolerate_exists) continue;
        const char *msg = rd_kafka_topic_result_error_string(r[i]);
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && (!msg || !*msg || !strcmp(msg, rd_kafka_err2str(e))))
            fail("Topic '%s' already exists.", rd_kafka_topic_result_name(r[i]));
        fail("%s", msg && *msg ? msg : rd_kafka_err2str(e));
    }
    return existed;
}

static void
rk_create(rd_kafka_t *rk, topic_cmd_t *c)
{
    char err[512];
    collision_warning(c->topic);
    if (c->has_rf && (c->rf > 32767 || c->rf < 1)) fail("The replication factor must be between 1 and 32767 inclusive");
    if (c->has_partitions && c->partitions < 1) fail("The partitions must be greater than 0");
    rd_kafka_NewTopic_t *nt;
    if (c->assignment.npartitions > 0) {
        nt = rd_kafka_NewTopic_new(c->topic, c->assignment.npartitions, -1, err, sizeof err);
        if (!nt) fail("%s", err);
        for (int32_t p = 0; p < c->assignment.npartitions; p++)
            if (rd_kafka_NewTopic_set_replica_assignment(nt, p, c->assignment.replicas[p], (size_t)c->assignment.nreplicas[p], err, sizeof err))
                fail("%s", err);
    } else {
        nt = rd_kafka_NewTopic_new(c->topic, c->has_partitions ? c->partitions : -1, c->has_rf ? c->rf : -1, err, sizeof err);
        if (!nt) fail("%s", err);
    }
    for (size_t i = 0; i < c->add_configs.n; i++)
        rd_kafka_NewTopic_set_config(nt, c->add_configs.items[i].key, c->add_configs.items[i].value);
    sm_tool_rdk_call_t call;
    rk_begin(&call, rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, &nt, 1, call.o, call.q);
    int existed = rk_topic_results(&call, RD_KAFKA_ADMIN_OP_CREATETOPICS, c->if_not_exists);
    if (!existed) printf("Created topic %s.\n", c->topic);
    sm_tool_rdk_call_end(&call);
    rd_kafka_NewTopic_destroy(nt);
}

static void
rk_list(rd_kafka_t *rk, topic_cmd_t *c)
{
    const rd_kafka_metadata_t *md;
    int n;
    const rd_kafka_metadata_topic_t **t = rk_topics(rk, c, &md, &n);
    /* Kafka prints mkString("\n") with println, so an empty list is one blank line. */
    for (int i = 0; i < n; i++) printf(i ? "\n%s" : "%s", t[i]->topic);
    printf("\n");
    free(t);
    rd_kafka_metadata_destroy(md);
}

static void
rk_describe(rd_kafka_t *rk, topic_cmd_t *c)
{
    const rd_kafka_metadata_t *md;
    int n;
    const rd_kafka_metadata_topic_t **t = rk_topics(rk, c, &md, &n);
    ensure_topic_exists(c, n);
    char **cfgs = sm_calloc((size_t)n + 1, sizeof(char *));
    int32_t *min_isr = sm_calloc((size_t)n + 1, sizeof(int32_t));
    int *has_override = sm_calloc((size_t)n + 1, sizeof(int));
    if (n > 0 && describe_configs(c)) {
        rd_kafka_ConfigResource_t **res = sm_calloc((size_t)n, sizeof(*res));
        for (int i = 0; i < n; i++) res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t[i]->topic);
        sm_tool_rdk_call_t call;
        rk_begin(&call, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
        rd_kafka_DescribeConfigs(rk, res, (size_t)n, call.o, call.q);
        rd_kafka_event_t *ev = rk_wait(&call);
        size_t nr;
        const rd_kafka_ConfigResource_t **rr = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nr);
        for (size_t i = 0; i < nr; i++) {
            int idx = -1;
            for (int j = 0; j < n; j++)
                if (!strcmp(t[j]->topic, rd_kafka_ConfigResource_name(rr[i]))) idx = j;
            if (idx < 0) continue;
            if (rd_kafka_ConfigResource_error(rr[i]))
                fail("%s", rd_kafka_ConfigResource_error_string(rr[i]));
            size_t ne;
            const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(rr[i], &ne);
            sm_props_t p;
            sm_props_init(&p);
            for (size_t k = 0; k < ne; k++) {
                const char *name = rd_kafka_ConfigEntry_name(ents[k]);
                const char *val = rd_kafka_ConfigEntry_value(ents[k]);
                if (!strcmp(name, "min.insync.replicas") && val) min_isr[idx] = atoi(val);
                if (rd_kafka_ConfigEntry_source(ents[k]) == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG) continue;
                if (rd_kafka_ConfigEntry_is_default(ents[k])) continue;
                sm_props_set(&p, name, val ? val : "null");
            }
            has_override[idx] = p.n > 0;
            cfgs[idx] = sm_tool_join_configs(&p);
            sm_props_free(&p);
        }
        sm_tool_rdk_call_end(&call);
        rd_kafka_ConfigResource_destroy_array(res, (size_t)n);
        free(res);
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 1024);
    for (int i = 0; i < n; i++) {
        const rd_kafka_metadata_topic_t *mt = t[i];
        if (mt->err && mt->partition_cnt == 0) fail("%s", rd_kafka_err2str(mt->err));
        /* librdkafka does not sort partitions; Kafka prints them by id. */
        int *order = sm_calloc((size_t)mt->partition_cnt + 1, sizeof(int));
        for (int p = 0; p < mt->partition_cnt; p++) {
            int k = p;
            while (k > 0 && mt->partitions[order[k - 1]].id > mt->partitions[p].id) { order[k] = order[k - 1]; k--; }
            order[k] = p;
        }
        if (describe_configs(c) && (!c->with_overrides || has_override[i]) && mt->partition_cnt > 0) {
            const rd_kafka_metadata_partition_t *p0 = &mt->partitions[order[0]];
            sm_tool_fmt_topic_line(&w, c->fmt, mt->topic, NULL, mt->partition_cnt, p0->replica_cnt,
                                   cfgs[i] ? cfgs[i] : "", 0);
        }
        if (!c->with_overrides) {
            for (int k = 0; k < mt->partition_cnt; k++) {
                const rd_kafka_metadata_partition_t *p = &mt->partitions[order[k]];
                int live = 0;
                for (int b = 0; b < md->broker_cnt; b++) live |= md->brokers[b].id == p->leader;
                if (want_partition(c, p->leader, live, p->replica_cnt, p->isr_cnt, min_isr[i]))
                    sm_tool_fmt_partition_line(&w, mt->topic, p->id, p->leader, p->replicas, p->replica_cnt,
                                               p->isrs, p->isr_cnt, 0);
            }
        }
        free(order);
        print_wbuf(&w);
    }
    sm_wbuf_free(&w);
    for (int i = 0; i < n; i++) free(cfgs[i]);
    free(cfgs);
    free(min_isr);
    free(has_override);
    free(t);
    rd_kafka_metadata_destroy(md);
}

static void
rk_alter(rd_kafka_t *rk, topic_cmd_t *c)
{
    char err[512];
    const rd_kafka_metadata_t *md;
    int n;
    const rd_kafka_metadata_topic_t **t = rk_topics(rk, c, &md, &n);
    ensure_topic_exists(c, n);
    if (n > 0) {
        rd_kafka_NewPartitions_t **np = sm_calloc((size_t)n, sizeof(*np));
        for (int i = 0; i < n; i++) {
            np[i] = rd_kafka_NewPartitions_new(t[i]->topic, (size_t)(c->partitions > 0 ? c->partitions : 0), err, sizeof err);
            if (!np[i]) fail("%s", err);
            int32_t start = t[i]->partition_cnt;
            for (int32_t p = start; p < c->assignment.npartitions; p++)
                if (rd_kafka_NewPartitions_set_replica_assignment(np[i], p - start, c->assignment.replicas[p],
                                                                  (size_t)c->assignment.nreplicas[p], err, sizeof err))
                    fail("%s", err);
        }
        sm_tool_rdk_call_t call;
        rk_begin(&call, rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
        rd_kafka_CreatePartitions(rk, np, (size_t)n, call.o, call.q);
        rk_topic_results(&call, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, 0);
        sm_tool_rdk_call_end(&call);
        rd_kafka_NewPartitions_destroy_array(np, (size_t)n);
        free(np);
    }
    free(t);
    rd_kafka_metadata_destroy(md);
}

static void
rk_delete(rd_kafka_t *rk, topic_cmd_t *c)
{
    const rd_kafka_metadata_t *md;
    int n;
    const rd_kafka_metadata_topic_t **t = rk_topics(rk, c, &md, &n);
    ensure_topic_exists(c, n);
    if (n > 0) {
        rd_kafka_DeleteTopic_t **dt = sm_calloc((size_t)n, sizeof(*dt));
        for (int i = 0; i < n; i++) dt[i] = rd_kafka_DeleteTopic_new(t[i]->topic);
        sm_tool_rdk_call_t call;
        rk_begin(&call, rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
        rd_kafka_DeleteTopics(rk, dt, (size_t)n, call.o, call.q);
        rk_topic_results(&call, RD_KAFKA_ADMIN_OP_DELETETOPICS, 0);
        sm_tool_rdk_call_end(&call);
        rd_kafka_DeleteTopic_destroy_array(dt, (size_t)n);
        free(dt);
    }
    free(t);
    rd_kafka_metadata_destroy(md);
}

static int
run_rk(topic_cmd_t *c)
{
    rd_kafka_t *rk = rk_open(c);
    if (sm_tool_has(&c->args, "create")) rk_create(rk, c);
    else if (sm_tool_has(&c->args, "alter")) rk_alter(rk, c);
    else if (sm_tool_has(&c->args, "list")) rk_list(rk, c);
    else if (sm_tool_has(&c->args, "describe")) rk_describe(rk, c);
    else rk_delete(rk, c);
    fflush(stdout);
    rd_kafka_destroy(rk);
    return 0;
}

int
main(int argc, char **argv)
{
    topic_cmd_t c;
    memset(&c, 0, sizeof c);
    /* Like Kafka's tools-log4j.properties: only warnings reach stderr. */
    sm_log_level = SM_LOG_WARN;
    sm_tool_cli_parse(&topic_cli, &c.args, argc, argv);
    check_args(&c);
    resolve_args(&c);
    int rc = sm_tool_has(&c.args, "zookeeper") ? run_zk(&c) : run_rk(&c);
    sm_tool_assignment_free(&c.assignment);
    sm_props_free(&c.add_configs);
    sm_tool_args_free(&c.args);
    return rc;
}

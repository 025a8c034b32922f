/*
 * sm_reassign.c - samsa-reassign-partitions, a native
 * kafka-reassign-partitions.sh (Kafka 2.x, ZooKeeper mode).
 *
 * --generate proposes an assignment of whole topics onto --broker-list
 * (AdminUtils round robin), --execute writes the plan to
 * /admin/reassign_partitions for the controller (optionally setting the
 * replication throttles), --verify reports per-partition status and clears
 * the throttles once everything is done. --bootstrap-server is accepted:
 * the tool learns zookeeper.connect from a broker (sm_tool_zk.h).
 * Output lines follow Kafka 2.6-2.8's ReassignPartitionsCommand.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_json.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "repl/sm_logdirs_client.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_zk.h"
#include "zk/sm_zk_admin.h"
#include "zk/sm_zk_codec.h"

#define TIMEOUT_MS 30000
#define ZNODE "/admin/reassign_partitions"

static const sm_tool_opt_t opts[] = {
    { "additional", SM_TOOL_ARG_NONE, NULL, "Execute this reassignment in addition to any other ongoing ones. (ignored: ZooKeeper mode)" },
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: Server(s) to use for bootstrapping", "the server(s) to use for bootstrapping." },
    { "broker-list", SM_TOOL_ARG_REQUIRED, "String: brokerlist", "The list of brokers to which the partitions need to be reassigned in the form \"0,1,2\". This is required if --topics-to-move-json-file is used to generate reassignment configuration" },
    { "command-config", SM_TOOL_ARG_REQUIRED, "String: Admin client property file", "Property file containing configs to be passed to Admin Client." },
    { "disable-rack-aware", SM_TOOL_ARG_NONE, NULL, "Disable rack aware replica assignment" },
    { "execute", SM_TOOL_ARG_NONE, NULL, "Kick off the reassignment as specified by the --reassignment-json-file option." },
    { "generate", SM_TOOL_ARG_NONE, NULL, "Generate a candidate partition reassignment configuration. Note that this only generates a candidate assignment, it does not execute it." },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "reassignment-json-file", SM_TOOL_ARG_REQUIRED, "String: manual assignment json file path", "The JSON file with the partition reassignment configuration." },
    { "replica-alter-log-dirs-throttle", SM_TOOL_ARG_REQUIRED, "Long", "The movement of replicas between log directories on the same broker will be throttled to this value (bytes/sec). (ignored)" },
    { "throttle", SM_TOOL_ARG_REQUIRED, "Long", "The movement of partitions between brokers will be throttled to this value (bytes/sec)." },
    { "timeout", SM_TOOL_ARG_REQUIRED, "Long", "The maximum time in ms to wait for log directory replica assignment to begin." },
    { "topics-to-move-json-file", SM_TOOL_ARG_REQUIRED, "String: topics to reassign json file path", "Generate a reassignment configuration to move the partitions of the specified topics to the list of brokers specified by the --broker-list option." },
    { "verify", SM_TOOL_ARG_NONE, NULL, "Verify if the reassignment completed as specified by the --reassignment-json-file option. If there is a throttle engaged for the replicas specified, and the rebalance has completed, the throttle will be removed" },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { "zookeeper", SM_TOOL_ARG_REQUIRED, "String: urls", "DEPRECATED: The connection string for the zookeeper connection in the form host:port. Multiple URLS can be given to allow fail-over." },
    { NULL, 0, NULL, NULL },
};

static const char *const throttle_keys[] = { "leader.replication.throttled.rate", "follower.replication.throttled.rate" };
static const char *const topic_throttle_keys[] = { "leader.replication.throttled.replicas",
                                                   "follower.replication.throttled.replicas" };

static const sm_tool_cli_t cli = {
    .opts = opts,
    .no_args_msg = "This tool helps to move topic partitions between replicas.",
    .version_tag = "Commit:samsa",
    .usage_on_bad_args = 1,
};

#define fail(...) sm_tool_fail("Error: ", __VA_ARGS__)
#define usage_die(msg) sm_tool_usage_die(opts, (msg))

static int
cmp_tp(const void *a, const void *b)
{
    const sm_zk_tp_t *x = a, *y = b;
    return sm_tool_cmp_tp(x->topic, x->partition, y->topic, y->partition);
}

/* Kafka's formatAsReassignmentJson: version, partitions sorted, log_dirs "any". */
static void
print_plan(const sm_zk_tp_t *v, int n)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_write_raw(&w, "{\"version\":1,\"partitions\":[", 27);
    for (int i = 0; i < n; i++) {
        char buf[64];
        if (i) sm_write_raw(&w, ",", 1);
        sm_write_raw(&w, "{\"topic\":", 9);
        sm_json_write_string(&w, v[i].topic);
        int k = snprintf(buf, sizeof buf, ",\"partition\":%d,\"replicas\":[", v[i].partition);
        sm_write_raw(&w, buf, (size_t)k);
        for (int32_t j = 0; j < v[i].nreplicas; j++) {
            k = snprintf(buf, sizeof buf, "%s%d", j ? "," : "", v[i].replicas[j]);
            sm_write_raw(&w, buf, (size_t)k);
        }
        sm_write_raw(&w, "],\"log_dirs\":[", 14);
        for (int32_t j = 0; j < v[i].nreplicas; j++) sm_write_raw(&w, j ? ",\"any\"" : "\"any\"", j ? 6 : 5);
        sm_write_raw(&w, "]}", 2);
    }
    sm_write_raw(&w, "]}", 2);
    fwrite(w.data, 1, w.len, stdout);
    sm_wbuf_free(&w);
}

static char *
ids_join(const int32_t *v, int32_t n)
{
    char *s = sm_strdup("");
    for (int32_t i = 0; i < n; i++) {
        char *x = sm_asprintf("%s%s%d", s, i ? "," : "", v[i]);
        free(s);
        s = x;
    }
    return s;
}

static char *
read_json_file(const char *path)
{
    size_t len;
    char *s = sm_read_file(path, 64 << 20, &len);
    if (!s) fail("Unable to read file %s", path);
    return s;
}

/* The current assignment of the partitions named in v (same order). */
static sm_zk_tp_t *
current_of(sm_zk_t *zk, const sm_zk_tp_t *v, int n)
{
    sm_zk_tp_t *cur = sm_calloc((size_t)n + 1, sizeof(*cur));
    for (int i = 0; i < n; i++) {
        sm_topic_assignment_t a;
        int rc = sm_zk_admin_get_assignment(zk, v[i].topic, &a);
        if (rc != 0 || v[i].partition >= a.npartitions) {
            if (rc == 0) sm_topic_assignment_free(&a);
            fail("Topic %s not found or partition %d does not exist", v[i].topic, v[i].partition);
        }
        cur[i].topic = sm_strdup(v[i].topic);
        cur[i].partition = v[i].partition;
        cur[i].nreplicas = a.nreplicas[v[i].partition];
        cur[i].replicas = sm_calloc((size_t)cur[i].nreplicas + 1, sizeof(int32_t));
        memcpy(cur[i].replicas, a.replicas[v[i].partition], sizeof(int32_t) * (size_t)cur[i].nreplicas);
        sm_topic_assignment_free(&a);
    }
    return cur;
}

static void
do_generate(sm_zk_t *zk, const sm_tool_args_t *a)
{
    const char *tf = sm_tool_get(a, "topics-to-move-json-file"), *bl = sm_tool_get(a, "broker-list");
    int32_t brokers[1024];
    int nb = 0;
    char *list = sm_strdup(bl);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int32_t id;
        if (sm_tool_parse_int(tok, &id) < 0 || nb == 1024) fail("For input string: \"%s\"", tok);
        for (int i = 0; i < nb; i++)
            if (brokers[i] == id) fail("Broker list contains duplicate entries: %s", bl);
        brokers[nb++] = id;
    }
    free(list);
    for (int i = 1; i < nb; i++)   /* sorted, as AdminUtils expects */
        for (int j = i; j > 0 && brokers[j - 1] > brokers[j]; j--) {
            int32_t t = brokers[j];
            brokers[j] = brokers[j - 1];
            brokers[j - 1] = t;
        }
    char *text = read_json_file(tf);
    sm_json_t *root = sm_json_parse(text, strlen(text), NULL, 0);
    const sm_json_t *topics = root ? sm_json_get(root, "topics") : NULL;
    if (!topics || topics->type != SM_JSON_ARRAY) fail("Unable to parse topics-to-move JSON file %s", tf);
    sm_zk_tp_t *cur = NULL, *prop = NULL;
    int n = 0;
    for (const sm_json_t *e = topics->child; e; e = e->next) {
        const char *t = sm_json_get_str(e, "topic");
        if (!t) fail("Unable to parse topics-to-move JSON file %s", tf);
        sm_topic_assignment_t as, na;
        if (sm_zk_admin_get_assignment(zk, t, &as) != 0) fail("Topic %s not found", t);
        if (as.npartitions == 0) continue;
        if (sm_assign_replicas(brokers, nb, as.npartitions, as.nreplicas[0], -1, 0, &na) != SM_ERR_NONE)
            fail("Replication factor: %d larger than available brokers: %d.", as.nreplicas[0], nb);
        cur = sm_realloc(cur, sizeof(*cur) * (size_t)(n + as.npartitions));
        prop = sm_realloc(prop, sizeof(*prop) * (size_t)(n + as.npartitions));
        for (int32_t p = 0; p < as.npartitions; p++, n++) {
            cur[n] = (sm_zk_tp_t){ sm_strdup(t), p, as.nreplicas[p], NULL };
            cur[n].replicas = sm_calloc((size_t)as.nreplicas[p] + 1, sizeof(int32_t));
            memcpy(cur[n].replicas, as.replicas[p], sizeof(int32_t) * (size_t)as.nreplicas[p]);
            prop[n] = (sm_zk_tp_t){ sm_strdup(t), p, na.nreplicas[p], NULL };
            prop[n].replicas = sm_calloc((size_t)na.nreplicas[p] + 1, sizeof(int32_t));
            memcpy(prop[n].replicas, na.replicas[p], sizeof(int32_t) * (size_t)na.nreplicas[p]);
        }
        sm_topic_assignment_free(&as);
        sm_topic_assignment_free(&na);
    }
    qsort(cur, (size_t)n, sizeof(*cur), cmp_tp);
    qsort(prop, (size_t)n, sizeof(*prop), cmp_tp);
    printf("Current partition replica assignment\n\n");
    print_plan(cur, n);
    printf("\n\nProposed partition reassignment configuration\n");
    print_plan(prop, n);
    printf("\n");
    sm_zk_tp_list_free(cur, n);
    sm_zk_tp_list_free(prop, n);
    sm_json_free(root);
    free(text);
}

static sm_zk_tp_t *
load_plan(const sm_tool_args_t *a, int *n)
{
    const char *f = sm_tool_get(a, "reassignment-json-file");
    char *text = read_json_file(f);
    sm_zk_tp_t *v;
    if (sm_zk_decode_tp_list(text, strlen(text), 1, &v, n) < 0) {
        sm_zk_tp_list_free(v, *n);
        fail("Unable to parse reassignment JSON file %s (duplicate partitions or replicas, or bad format)", f);
    }
    free(text);
    if (*n == 0) fail("Partition reassignment list cannot be empty");
    for (int i = 0; i < *n; i++)
        if (v[i].nreplicas == 0) fail("Partition replica list cannot be empty");
    qsort(v, (size_t)*n, sizeof(*v), cmp_tp);
    return v;
}

static void
do_execute(sm_zk_t *zk, const sm_tool_args_t *a)
{
    int n;
    sm_zk_tp_t *v = load_plan(a, &n);
    int32_t *live;
    int nlive;
    if (sm_tool_zk_broker_ids(zk, &live, &nlive) < 0) fail("Cannot list brokers");
    char *missing = NULL;
    for (int i = 0; i < n; i++)
        for (int32_t k = 0; k < v[i].nreplicas; k++) {
            int found = 0;
            for (int b = 0; b < nlive; b++) found |= live[b] == v[i].replicas[k];
            if (!found) {
                char *x = sm_asprintf("%s%s%d", missing ? missing : "", missing ? ", " : "", v[i].replicas[k]);
                free(missing);
                missing = x;
            }
        }
    free(live);
    if (missing) fail("The proposed assignment contains non-existent brokerIDs: %s", missing);
    sm_zk_tp_t *cur = current_of(zk, v, n);
    if (sm_zk_exists(zk, ZNODE, NULL) == ZOK) fail("There is an existing assignment running.");
    printf("Current partition replica assignment\n\n");
    print_plan(cur, n);
    printf("\n\nSave this to use as the --reassignment-json-file option during rollback\n");
    const char *thr = sm_tool_get(a, "throttle");
    if (thr) {
        int64_t rate;
        if (sm_parse_i64(thr, &rate) < 0 || rate < 0) fail("For input string: \"%s\"", thr);
        /* Broker throttle on every broker involved, topic throttled-replica
         * lists as Kafka computes them: leaders = current replicas,
         * followers = moving (new) replicas. */
        int32_t ids[4096];
        int nids = 0;
        for (int i = 0; i < n; i++) {
            for (int32_t k = 0; k < cur[i].nreplicas + v[i].nreplicas; k++) {
                int32_t id = k < cur[i].nreplicas ? cur[i].replicas[k] : v[i].replicas[k - cur[i].nreplicas];
                int seen = 0;
                for (int j = 0; j < nids; j++) seen |= ids[j] == id;
                if (!seen && nids < 4096) ids[nids++] = id;
            }
        }
        const char *vals[2] = { thr, thr };
        for (int j = 0; j < nids; j++)
            if (sm_tool_zk_broker_config(zk, ids[j], throttle_keys, vals, 2) != ZOK)
                fail("Failed to set the throttle on broker %d", ids[j]);
        for (int i = 0; i < n; i++) {
            if (i && !strcmp(v[i].topic, v[i - 1].topic)) continue;
            char *lead = NULL, *follow = NULL;
            for (int k = i; k < n && !strcmp(v[k].topic, v[i].topic); k++) {
                for (int32_t j = 0; j < cur[k].nreplicas; j++) {
                    char *x = sm_asprintf("%s%s%d:%d", lead ? lead : "", lead ? "," : "", cur[k].partition, cur[k].replicas[j]);
                    free(lead);
                    lead = x;
                }
                for (int32_t j = 0; j < v[k].nreplicas; j++) {
                    int moving = 1;
                    for (int32_t q = 0; q < cur[k].nreplicas; q++) moving &= cur[k].replicas[q] != v[k].replicas[j];
                    if (!moving) continue;
                    char *x = sm_asprintf("%s%s%d:%d", follow ? follow : "", follow ? "," : "", v[k].partition, v[k].replicas[j]);
                    free(follow);
                    follow = x;
                }
            }
            sm_props_t cfg;
            char err[512];
            if (sm_zk_admin_get_topic_config(zk, v[i].topic, &cfg) < 0) sm_props_init(&cfg);
            if (lead) sm_props_set(&cfg, topic_throttle_keys[0], lead);
            if (follow) sm_props_set(&cfg, topic_throttle_keys[1], follow);
            if (sm_zk_admin_set_topic_config(zk, v[i].topic, &cfg, err, sizeof err) != SM_ERR_NONE) fail("%s", err);
            sm_props_free(&cfg);
            free(lead);
            free(follow);
        }
        printf("Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\n");
        printf("The inter-broker throttle limit was set to %s B/s\n", thr);
    }
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_tp_list(&w, v, n, 1);
    int rc = sm_zk_create(zk, ZNODE, (const char *)w.data, (int)w.len, 0, NULL, NULL);
    sm_wbuf_free(&w);
    if (rc == ZNODEEXISTS) fail("There is an existing assignment running.");
    if (rc != ZOK) fail("Failed to create %s: %s", ZNODE, sm_zk_rc_name(rc));
    printf("Successfully started partition reassignment%s for ", n > 1 ? "s" : "");
    for (int i = 0; i < n; i++) printf("%s%s-%d", i ? "," : "", v[i].topic, v[i].partition);
    printf("\n");
    sm_zk_tp_list_free(cur, n);
    sm_zk_tp_list_free(v, n);
}

static void
do_verify(sm_zk_t *zk, const sm_tool_args_t *a)
{
    int n, nrun = 0;
    sm_zk_tp_t *v = load_plan(a, &n), *running = NULL;
    char *data = NULL;
    int len;
    if (sm_zk_get(zk, ZNODE, &data, &len, NULL) == ZOK && data &&
        sm_zk_decode_tp_list(data, (size_t)len, 1, &running, &nrun) < 0) {
        sm_zk_tp_list_free(running, nrun);
        running = NULL;
        nrun = 0;
    }
    free(data);
    printf("Status of partition reassignment:\n");
    int left = 0;
    int64_t bytes_left = 0;          /* -1: some replica size unknown */
    for (int i = 0; i < n; i++) {
        int in_progress = 0;
        for (int k = 0; k < nrun; k++)
            in_progress |= running[k].partition == v[i].partition && !strcmp(running[k].topic, v[i].topic);
        sm_topic_assignment_t as;
        int exists = sm_zk_admin_get_assignment(zk, v[i].topic, &as) == 0;
        int32_t p = v[i].partition;
        if (exists && p < as.npartitions && !in_progress) {
            /* Also in progress while the topic znode still lists more
             * replicas than the target (the controller is finishing). */
            if (as.nreplicas[p] == v[i].nreplicas &&
                !memcmp(as.replicas[p], v[i].replicas, sizeof(int32_t) * (size_t)v[i].nreplicas)) {
                printf("Reassignment of partition %s-%d is complete.\n", v[i].topic, p);
            } else {
                char *have = ids_join(as.replicas[p], as.nreplicas[p]), *want = ids_join(v[i].replicas, v[i].nreplicas);
                printf("There is no active reassignment of partition %s-%d, but replica set is %s rather than %s.\n",
                       v[i].topic, p, have, want);
                free(have);
                free(want);
            }
        } else if (in_progress) {
            printf("Reassignment of partition %s-%d is still in progress.\n", v[i].topic, p);
            left++;
            int64_t b = exists && p < as.npartitions && bytes_left >= 0
                            ? sm_logdirs_bytes_left(zk, v[i].topic, p, as.replicas[p], as.nreplicas[p], v[i].replicas,
                                                    v[i].nreplicas, 10000)
                            : -1;
            bytes_left = b < 0 ? -1 : bytes_left + b;
        } else {
            printf("Reassignment of partition %s-%d failed: no such partition.\n", v[i].topic, p);
        }
        if (exists) sm_topic_assignment_free(&as);
    }
    if (left) {
        /* Samsa extension: how much is left, from the replicas' log sizes
         * (DescribeLogDirs): what each target replica lacks of the largest. */
        if (bytes_left >= 0)
            printf("Partitions still being reassigned: %d of %d (bytes left: %lld)\n", left, n, (long long)bytes_left);
        else
            printf("Partitions still being reassigned: %d of %d (bytes left: unknown)\n", left, n);
    } else {
        int32_t *ids;
        int nbs;
        if (sm_tool_zk_broker_ids(zk, &ids, &nbs) == 0) {
            const char *vals[2] = { NULL, NULL };
            for (int b = 0; b < nbs; b++) sm_tool_zk_broker_config(zk, ids[b], throttle_keys, vals, 2);
            char *s = ids_join(ids, nbs);
            printf("Clearing broker-level throttles on brokers %s\n", s);
            free(s);
            free(ids);
        }
        for (int i = 0; i < n; i++) {
            if (i && !strcmp(v[i].topic, v[i - 1].topic)) continue;
            sm_props_t cfg;
            char err[512];
            if (sm_zk_admin_get_topic_config(zk, v[i].topic, &cfg) < 0) continue;
            int had = sm_tool_props_remove(&cfg, topic_throttle_keys[0]) + sm_tool_props_remove(&cfg, topic_throttle_keys[1]);
            if (had) sm_zk_admin_set_topic_config(zk, v[i].topic, &cfg, err, sizeof err);
            printf("Clearing topic-level throttles on topic %s\n", v[i].topic);
            sm_props_free(&cfg);
        }
    }
    sm_zk_tp_list_free(running, nrun);
    sm_zk_tp_list_free(v, n);
}

int
main(int argc, char **argv)
{
    sm_log_level = SM_LOG_ERROR;
    sm_tool_args_t a;
    char err[512];
    sm_tool_cli_parse(&cli, &a, argc, argv);
    int actions = sm_tool_has(&a, "generate") + sm_tool_has(&a, "execute") + sm_tool_has(&a, "verify");
    if (actions != 1) usage_die("Command must include exactly one action: --generate, --execute, --verify, --cancel, or --list");
    if (sm_tool_has(&a, "bootstrap-server") == sm_tool_has(&a, "zookeeper"))
        usage_die("Please specify --bootstrap-server");
    /* Every usage check before connecting, so misuse fails at once. */
    if (sm_tool_has(&a, "generate") &&
        !(sm_tool_has(&a, "topics-to-move-json-file") && sm_tool_has(&a, "broker-list")))
        usage_die("If --generate option is used, command must include both --topics-to-move-json-file and --broker-list options");
    if (!sm_tool_has(&a, "generate")) sm_tool_check_required(&a, "reassignment-json-file");
    sm_zk_t *zk = sm_tool_zk_connect(sm_tool_get(&a, "zookeeper"), sm_tool_get(&a, "bootstrap-server"), TIMEOUT_MS,
                                     err, sizeof err);
    if (!zk) fail("%s", err);
    if (sm_tool_has(&a, "generate")) do_generate(zk, &a);
    else if (sm_tool_has(&a, "execute")) do_execute(zk, &a);
    else do_verify(zk, &a);
    fflush(stdout);
    sm_zk_admin_close(zk);
    sm_tool_args_free(&a);
    return 0;
}

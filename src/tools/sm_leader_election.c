/*
 * sm_leader_election.c - samsa-leader-election, a native
 * kafka-leader-election.sh (Kafka 2.4+, KIP-460) for preferred elections.
 *
 * The partitions (--topic/--partition, --all-topic-partitions or
 * --path-to-json-file) whose preferred replica does not lead already are
 * written to /admin/preferred_replica_election, as ZooKeeper-mode Kafka
 * does; the tool then waits for the controller to consume the znode and
 * reports per partition from the state znodes. --bootstrap-server learns
 * zookeeper.connect from a broker (sm_tool_zk.h); Samsa has no ElectLeaders
 * API yet, and --election-type unclean is refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_zk.h"
#include "zk/sm_zk_admin.h"
#include "zk/sm_zk_codec.h"

#define TIMEOUT_MS 30000
#define ZNODE "/admin/preferred_replica_election"

static const sm_tool_opt_t opts[] = {
    { "admin.config", SM_TOOL_ARG_REQUIRED, "String: config file", "Configuration properties files to pass to the admin client" },
    { "all-topic-partitions", SM_TOOL_ARG_NONE, NULL, "Perform election on all of the eligible topic partitions based on the type of election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified." },
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: host:port", "A hostname and port for the broker to connect to, in the form host:port. Multiple comma separated URLs can be given. REQUIRED." },
    { "election-type", SM_TOOL_ARG_REQUIRED, "[PREFERRED,UNCLEAN]: election type", "Type of election to attempt. Possible values are \"preferred\" for preferred leader election or \"unclean\" for unclean leader election. If preferred election is selection, the election is only performed if the current leader is not the preferred leader for the topic partition. If unclean election is selected, the election is only performed if there are no leader for the topic partition. REQUIRED." },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "partition", SM_TOOL_ARG_REQUIRED, "Integer: partition id", "Partition id for which to perform an election. REQUIRED if --topic is specified." },
    { "path-to-json-file", SM_TOOL_ARG_REQUIRED, "String: Path to JSON file", "The JSON file with the list  of partition for which leader elections should be performed. This is an example format. \n{\"partitions\":\n\t[{\"topic\": \"foo\", \"partition\": 1},\n\t {\"topic\": \"foobar\", \"partition\": 2}]\n}\nNot allowed if --all-topic-partitions or --topic flags are specified." },
    { "topic", SM_TOOL_ARG_REQUIRED, "String: topic name", "Name of topic for which to perform an election. Not allowed if --path-to-json-file or --all-topic-partitions is specified." },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { "zookeeper", SM_TOOL_ARG_REQUIRED, "String: urls", "Samsa extension: the ZooKeeper connection string, instead of --bootstrap-server." },
    { NULL, 0, NULL, NULL },
};

static const sm_tool_cli_t cli = {
    .opts = opts,
    .no_args_msg = "This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas.",
    .version_tag = "Commit:samsa",
    .usage_on_bad_args = 1,
};

#define fail(...) sm_tool_fail("Error: ", __VA_ARGS__)
#define usage_die(msg) sm_tool_usage_die(opts, (msg))

static void
add_tp(sm_zk_tp_t **v, int *n, const char *topic, int32_t p)
{
    *v = sm_realloc(*v, sizeof(**v) * (size_t)(*n + 1));
    (*v)[(*n)++] = (sm_zk_tp_t){ sm_strdup(topic), p, 0, NULL };
}

static char *
join(const sm_zk_tp_t *v, const int *sel, int n, int want)
{
    char *s = NULL;
    for (int i = 0; i < n; i++) {
        if (sel[i] != want) continue;
        char *x = sm_asprintf("%s%s%s-%d", s ? s : "", s ? ", " : "", v[i].topic, v[i].partition);
        free(s);
        s = x;
    }
    return s;
}

int
main(int argc, char **argv)
{
    sm_log_level = SM_LOG_ERROR;
    sm_tool_args_t a;
    char err[512];
    sm_tool_cli_parse(&cli, &a, argc, argv);
    if (sm_tool_has(&a, "bootstrap-server") == sm_tool_has(&a, "zookeeper"))
        usage_die("Missing required option(s) [bootstrap-server]");
    const char *type = sm_tool_get(&a, "election-type");
    if (!type) usage_die("Missing required option(s) [election-type]");
    if (!strcasecmp(type, "unclean")) fail("Unclean leader election through this tool is not supported by Samsa; set unclean.leader.election.enable on the topic instead");
    if (strcasecmp(type, "preferred")) usage_die("Invalid election type: must be one of preferred, unclean");
    int sources = sm_tool_has(&a, "topic") + sm_tool_has(&a, "all-topic-partitions") + sm_tool_has(&a, "path-to-json-file");
    if (sources != 1) usage_die("One and only one of the following options is required: all-topic-partitions, topic, path-to-json-file");
    if (sm_tool_has(&a, "topic") != sm_tool_has(&a, "partition"))
        usage_die("Missing required option(s) [partition]");
    int32_t partition = -1;
    if (sm_tool_has(&a, "topic") && (sm_tool_parse_int(sm_tool_get(&a, "partition"), &partition) < 0 || partition < 0))
        fail("For input string: \"%s\"", sm_tool_get(&a, "partition"));

    sm_zk_t *zk = sm_tool_zk_connect(sm_tool_get(&a, "zookeeper"), sm_tool_get(&a, "bootstrap-server"), TIMEOUT_MS,
                                     err, sizeof err);
    if (!zk) fail("%s", err);
    sm_zk_tp_t *v = NULL;
    int n = 0;
    if (sm_tool_has(&a, "topic")) {
        add_tp(&v, &n, sm_tool_get(&a, "topic"), partition);
    } else if (sm_tool_has(&a, "all-topic-partitions")) {
        char **topics;
        int nt;
        if (sm_zk_admin_list_topics(zk, &topics, &nt) < 0) fail("Cannot list topics");
        for (int i = 0; i < nt; i++) {
            sm_topic_assignment_t as;
            if (sm_zk_admin_get_assignment(zk, topics[i], &as) != 0) continue;
            for (int32_t p = 0; p < as.npartitions; p++) add_tp(&v, &n, topics[i], p);
            sm_topic_assignment_free(&as);
        }
        sm_zk_admin_free_list(topics, nt);
    } else {
        size_t len;
        char *text = sm_read_file(sm_tool_get(&a, "path-to-json-file"), 64 << 20, &len);
        if (!text) fail("Unable to read file %s", sm_tool_get(&a, "path-to-json-file"));
        if (sm_zk_decode_tp_list(text, len, 0, &v, &n) < 0) fail("Duplicate partitions or malformed JSON in %s", sm_tool_get(&a, "path-to-json-file"));
        free(text);
    }
    /* 0 = to elect, 1 = already preferred, 2 = unknown partition, 3 = done, 4 = failed */
    int *sel = sm_calloc((size_t)n + 1, sizeof(int));
    int32_t *pref = sm_calloc((size_t)n + 1, sizeof(int32_t));
    int todo = 0;
    for (int i = 0; i < n; i++) {
        sm_topic_assignment_t as;
        sm_partition_state_t st;
        if (sm_zk_admin_get_assignment(zk, v[i].topic, &as) != 0 || v[i].partition >= as.npartitions) {
            sel[i] = 2;
            continue;
        }
        pref[i] = as.nreplicas[v[i].partition] ? as.replicas[v[i].partition][0] : -1;
        sm_topic_assignment_free(&as);
        if (sm_zk_admin_get_partition_state(zk, v[i].topic, v[i].partition, &st) == 0) {
            if (st.leader == pref[i]) sel[i] = 1;
            sm_partition_state_free(&st);
        }
        if (sel[i] == 0) todo++;
    }
    if (todo) {
        sm_zk_tp_t *w = sm_calloc((size_t)todo, sizeof(*w));
        int k = 0;
        for (int i = 0; i < n; i++)
            if (sel[i] == 0) w[k++] = v[i];
        sm_wbuf_t b;
        sm_wbuf_init(&b, 256);
        sm_zk_encode_tp_list(&b, w, k, 0);
        free(w);
        int rc = sm_zk_create(zk, ZNODE, (const char *)b.data, (int)b.len, 0, NULL, NULL);
        sm_wbuf_free(&b);
        if (rc == ZNODEEXISTS) fail("Preferred replica leader election currently in progress. Aborting operation");
        if (rc != ZOK) fail("Failed to create %s: %s", ZNODE, sm_zk_rc_name(rc));
        /* The controller deletes the znode once it has acted. */
        int64_t end = sm_mono_ms() + TIMEOUT_MS;
        while (sm_zk_exists(zk, ZNODE, NULL) == ZOK && sm_mono_ms() < end) usleep(50000);
        for (int i = 0; i < n; i++) {
            if (sel[i] != 0) continue;
            sm_partition_state_t st;
            sel[i] = 4;
            if (sm_zk_admin_get_partition_state(zk, v[i].topic, v[i].partition, &st) == 0) {
                if (st.leader == pref[i]) sel[i] = 3;
                sm_partition_state_free(&st);
            }
        }
    }
    int rc = 0;
    char *s;
    if ((s = join(v, sel, n, 3))) printf("Successfully completed leader election (PREFERRED) for partitions %s\n", s);
    free(s);
    if ((s = join(v, sel, n, 1))) printf("Valid replica already elected for partitions %s\n", s);
    free(s);
    for (int i = 0; i < n; i++) {
        if (sel[i] == 4) {
            printf("Error completing leader election (PREFERRED) for partition: %s-%d: "
                   "org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for "
                   "partition %s-%d under strategy PreferredReplicaPartitionLeaderElectionStrategy\n",
                   v[i].topic, v[i].partition, v[i].topic, v[i].partition);
            rc = 1;
        } else if (sel[i] == 2) {
            printf("Error completing leader election (PREFERRED) for partition: %s-%d: "
                   "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this "
                   "topic-partition.\n", v[i].topic, v[i].partition);
            rc = 1;
        }
    }
    fflush(stdout);
    free(sel);
    free(pref);
    sm_zk_tp_list_free(v, n);
    sm_zk_admin_close(zk);
    sm_tool_args_free(&a);
    return rc;
}

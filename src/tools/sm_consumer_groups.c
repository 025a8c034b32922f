/*
 * sm_consumer_groups.c - samsa-consumer-groups, a native
 * kafka-consumer-groups.sh (Kafka 2.x ConsumerGroupCommand, 2.3+ layout).
 *
 * Everything goes through librdkafka 2.0's Admin API: ListConsumerGroups,
 * DescribeConsumerGroups, ListConsumerGroupOffsets,
 * AlterConsumerGroupOffsets, DeleteGroups and DeleteConsumerGroupOffsets;
 * log start/end offsets come from query_watermark_offsets and
 * --to-datetime / --by-duration from offsets_for_times (ListOffsets).
 *
 * Output (tables, stdout/stderr split, messages) follows Kafka 2.8's
 * ConsumerGroupCommand; the table layouts live in sm_tool_admin.c.
 * Unexpected failures print "Error: Executing consumer group command failed
 * due to <msg>" and exit 1, as Kafka does.
 */
#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "tools/sm_tool.h"
#include "tools/sm_tool_admin.h"
#include "tools/sm_tool_rdk.h"

static const sm_tool_opt_t opts[] = {
    { "all-groups", SM_TOOL_ARG_NONE, NULL, "Apply to all consumer groups." },
    { "all-topics", SM_TOOL_ARG_NONE, NULL, "Consider all topics assigned to a group in the `reset-offsets` process." },
    { "bootstrap-server", SM_TOOL_ARG_REQUIRED, "String: server to connect to", "REQUIRED: The server(s) to connect to." },
    { "by-duration", SM_TOOL_ARG_REQUIRED, "String: duration", "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'" },
    { "command-config", SM_TOOL_ARG_REQUIRED, "String: command config property file", "Property file containing configs to be passed to Admin Client and Consumer." },
    { "delete", SM_TOOL_ARG_NONE, NULL, "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2" },
    { "delete-offsets", SM_TOOL_ARG_NONE, NULL, "Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics." },
    { "describe", SM_TOOL_ARG_NONE, NULL, "Describe consumer group and list offset lag (number of messages not yet processed) related to given group." },
    { "dry-run", SM_TOOL_ARG_NONE, NULL, "Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets." },
    { "execute", SM_TOOL_ARG_NONE, NULL, "Execute operation. Supported operations: reset-offsets." },
    { "export", SM_TOOL_ARG_NONE, NULL, "Export operation execution to a CSV file. Supported operations: reset-offsets." },
    { "from-file", SM_TOOL_ARG_REQUIRED, "String: path to CSV file", "Reset offsets to values defined in CSV file." },
    { "group", SM_TOOL_ARG_REQUIRED, "String: consumer group", "The consumer group we wish to act on." },
    { "help", SM_TOOL_ARG_NONE, NULL, "Print usage information." },
    { "list", SM_TOOL_ARG_NONE, NULL, "List all consumer groups." },
    { "members", SM_TOOL_ARG_NONE, NULL, "Describe members of the group. This option may be used with '--describe' and '--bootstrap-server' options only." },
    { "offsets", SM_TOOL_ARG_NONE, NULL, "Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with '--describe' and '--bootstrap-server' options only." },
    { "reset-offsets", SM_TOOL_ARG_NONE, NULL, "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive" },
    { "shift-by", SM_TOOL_ARG_REQUIRED, "Long: number-of-offsets", "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative." },
    { "state", SM_TOOL_ARG_OPTIONAL, "String", "When specified with '--describe', includes the state of the group. When specified with '--list', it displays the state of all groups. It can also be used to list groups with specific states." },
    { "timeout", SM_TOOL_ARG_REQUIRED, "Long: timeout (ms)", "The timeout that can be set for some use cases." },
    { "to-current", SM_TOOL_ARG_NONE, NULL, "Reset offsets to current offset." },
    { "to-datetime", SM_TOOL_ARG_REQUIRED, "String: datetime", "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'" },
    { "to-earliest", SM_TOOL_ARG_NONE, NULL, "Reset offsets to earliest offset." },
    { "to-latest", SM_TOOL_ARG_NONE, NULL, "Reset offsets to latest offset." },
    { "to-offset", SM_TOOL_ARG_REQUIRED, "Long: offset", "Reset offsets to a specific offset." },
    { "topic", SM_TOOL_ARG_REQUIRED, "String: topic", "The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process." },
    { "verbose", SM_TOOL_ARG_NONE, NULL, "Provide additional information, if any, when describing the group." },
    { "version", SM_TOOL_ARG_NONE, NULL, "Display Kafka version." },
    { NULL, 0, NULL, NULL },
};

static const sm_tool_cli_t cli = {
    .opts = opts,
    .no_args_msg = "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.",
    .help_header = "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.",
    .version_tag = "samsa",
};

static sm_tool_args_t A;
static int timeout_ms = 5000;
static int64_t to_offset, shift_by;   /* --to-offset / --shift-by, checked with the arguments */
static rd_kafka_t *rk;

/* printError + exit: Kafka's catch-all for a failed command. */
#define fail(...) sm_tool_fail("\nError: Executing consumer group command failed due to ", __VA_ARGS__)
#define usage_die(msg) sm_tool_usage_die(opts, (msg))

static int
has(const char *o)
{
    return sm_tool_has(&A, o);
}

/* ---- librdkafka plumbing ------------------------------------------------ */

static void
rk_open(void)
{
    char err[512];
    rk = sm_tool_rdk_admin_new(sm_tool_get(&A, "bootstrap-server"), sm_tool_get(&A, "command-config"), 0,
                               "samsa-consumer-groups", err, sizeof err);
    if (!rk) fail("%s", err);
}

static void
begin(sm_tool_rdk_call_t *call, rd_kafka_admin_op_t op)
{
    sm_tool_rdk_call_begin(call, rk, op, timeout_ms, 0);
}

/* The request's result event (owned by call), or NULL after a
 * request-level error when tolerate_error; fails on a timeout. */
static rd_kafka_event_t *
wait_result(sm_tool_rdk_call_t *call, int tolerate_error)
{
    rd_kafka_event_t *ev = sm_tool_rdk_call_wait(call, timeout_ms + 5000);
    if (!ev) fail("Timed out waiting for a node assignment.");
    if (rd_kafka_event_error(ev) && !tolerate_error) fail("%s", rd_kafka_event_error_string(ev));
    return ev;
}

/* All consumer group ids (and states when the broker reports them). */
static int
list_groups(char ***ids, char ***states)
{
    sm_tool_rdk_call_t call;
    begin(&call, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(rk, call.o, call.q);
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(wait_result(&call, 0));
    size_t n, ne;
    const rd_kafka_ConsumerGroupListing_t **v = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
    if (ne > 0 && n == 0) fail("%s", rd_kafka_error_string(errs[0]));
    *ids = sm_calloc(n + 1, sizeof(char *));
    *states = sm_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        (*ids)[i] = sm_strdup(rd_kafka_ConsumerGroupListing_group_id(v[i]));
        (*states)[i] = sm_strdup(rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(v[i])));
    }
    sm_tool_rdk_call_end(&call);
    return (int)n;
}

/* One group's description; the event owns it (destroy after use). */
static const rd_kafka_ConsumerGroupDescription_t *
describe_group(const char *group, rd_kafka_event_t **evp)
{
    sm_tool_rdk_call_t call;
    begin(&call, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    const char *groups[1] = { group };
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, call.o, call.q);
    rd_kafka_event_t *ev = wait_result(&call, 0);
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **d =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    if (n < 1) fail("no description returned for group %s", group);
    const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(d[0]);
    if (e) fail("%s", rd_kafka_error_string(e));
    call.ev = NULL;   /* the caller keeps the event: d[0] lives in it */
    sm_tool_rdk_call_end(&call);
    *evp = ev;
    return d[0];
}

static const char *
state_name(const rd_kafka_ConsumerGroupDescription_t *d)
{
    return rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d));
}

/* Committed offsets of a group (all partitions); caller destroys. */
static rd_kafka_topic_partition_list_t *
committed_offsets(const char *group)
{
    sm_tool_rdk_call_t call;
    begin(&call, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    /* librdkafka 2.0.2 encodes "all partitions" (NULL) as an empty topic
     * array, which a Kafka broker answers with nothing; ask for every
     * partition in the cluster instead (uncommitted ones come back as -1). */
    const rd_kafka_metadata_t *md;
    rd_kafka_resp_err_t me = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (me) fail("%s", rd_kafka_err2str(me));
    rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < md->topic_cnt; t++)
        for (int k = 0; k < md->topics[t].partition_cnt; k++)
            rd_kafka_topic_partition_list_add(all, md->topics[t].topic, md->topics[t].partitions[k].id);
    rd_kafka_metadata_destroy(md);
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, all);
    rd_kafka_topic_partition_list_destroy(all);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, call.o, call.q);
    size_t n;
    const rd_kafka_group_result_t **g = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(wait_result(&call, 0)), &n);
    if (n < 1) fail("no committed offsets returned for group %s", group);
    if (rd_kafka_group_result_error(g[0])) fail("%s", rd_kafka_error_string(rd_kafka_group_result_error(g[0])));
    const rd_kafka_topic_partition_list_t *p = rd_kafka_group_result_partitions(g[0]);
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(p ? p->cnt : 0);
    for (int i = 0; p && i < p->cnt; i++) {
        /* Partitions without a commit come back with offset -1. */
        if (p->elems[i].offset < 0 || p->elems[i].err) continue;
        rd_kafka_topic_partition_list_add(out, p->elems[i].topic, p->elems[i].partition)->offset = p->elems[i].offset;
    }
    sm_tool_rdk_call_end(&call);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    return out;
}

static void
watermarks(const char *topic, int32_t p, int64_t *lo, int64_t *hi)
{
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, lo, hi, timeout_ms);
    if (e) { *lo = -1; *hi = -1; }
}

/* Partition ids of a topic from metadata, sorted; -1 if unknown. */
static int
topic_partitions(const char *topic, int32_t **out)
{
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e) fail("%s", rd_kafka_err2str(e));
    int n = -1;
    if (md->topic_cnt == 1 && !md->topics[0].err) {
        n = md->topics[0].partition_cnt;
        *out = sm_calloc((size_t)n + 1, sizeof(int32_t));
        for (int i = 0; i < n; i++) (*out)[i] = md->topics[0].partitions[i].id;
        for (int i = 1; i < n; i++)
            for (int k = i; k > 0 && (*out)[k - 1] > (*out)[k]; k--) {
                int32_t x = (*out)[k]; (*out)[k] = (*out)[k - 1]; (*out)[k - 1] = x;
            }
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Groups named by --group, or all of them for --all-groups. */
static int
target_groups(char ***out)
{
    if (has("all-groups")) {
        char **states;
        int n = list_groups(out, &states);
        sm_tool_strv_free(states, n);
        qsort(*out, (size_t)n, sizeof(char *), sm_tool_cmp_str);
        return n;
    }
    int n;
    char **g = sm_tool_get_all(&A, "group", &n);
    *out = sm_calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) (*out)[i] = sm_strdup(g[i]);
    return n;
}

/* shouldPrintMemberState: messages for Dead/Empty/rebalancing groups;
 * 1 if there are rows to print. */
static int
print_member_state(const char *group, const char *state, int nrows)
{
    if (!strcmp(state, "Dead")) {
        printf("\nError: Consumer group '%s' does not exist.\n", group);
        return 0;
    }
    if (!strcmp(state, "Empty")) fprintf(stderr, "\nConsumer group '%s' has no active members.\n", group);
    else if (!strcmp(state, "PreparingRebalance") || !strcmp(state, "CompletingRebalance"))
        fprintf(stderr, "\nWarning: Consumer group '%s' is rebalancing.\n", group);
    return nrows > 0;
}

/* ---- --list ---------------------------------------------------------- */

static void
cmd_list(void)
{
    char **ids, **states;
    int n = list_groups(&ids, &states);
    qsort(ids, (size_t)n, sizeof(char *), sm_tool_cmp_str);
    if (!has("state")) {
        for (int i = 0; i < n; i++) printf("%s\n", ids[i]);
    } else {
        /* ListGroups < v4 carries no state: ask DescribeGroups. */
        char **filter = NULL;
        int nf = sm_tool_get(&A, "state") ? sm_tool_split_list(sm_tool_get(&A, "state"), &filter) : 0;
        const char **g = sm_calloc((size_t)n + 1, sizeof(char *)), **s = sm_calloc((size_t)n + 1, sizeof(char *));
        rd_kafka_event_t **evs = sm_calloc((size_t)n + 1, sizeof(*evs));
        int m = 0;
        for (int i = 0; i < n; i++) {
            const char *st = state_name(describe_group(ids[i], &evs[i]));
            int keep = nf == 0;
            for (int k = 0; k < nf; k++) keep |= !strcasecmp(filter[k], st);
            if (!keep) continue;
            g[m] = ids[i];
            s[m++] = st;
        }
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        sm_tool_fmt_list_states(&w, g, s, m);
        fwrite(w.data, 1, w.len, stdout);
        sm_wbuf_free(&w);
        for (int i = 0; i < n; i++) rd_kafka_event_destroy(evs[i]);
        free(evs);
        free(g);
        free(s);
        sm_tool_strv_free(filter, nf);
    }
    sm_tool_strv_free(ids, n);
    sm_tool_strv_free(states, n);
}

/* ---- --describe -------------------------------------------------------- */

typedef struct { const char *topic; int32_t partition; } tpref_t;

static int
cmp_row(const void *a, const void *b)
{
    const sm_tool_offset_row_t *x = a, *y = b;
    return sm_tool_cmp_tp(x->topic, x->partition, y->topic, y->partition);
}

static int
cmp_member_size(const void *a, const void *b)
{
    const rd_kafka_MemberDescription_t *x = *(const rd_kafka_MemberDescription_t *const *)a;
    const rd_kafka_MemberDescription_t *y = *(const rd_kafka_MemberDescription_t *const *)b;
    int nx = rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(x))->cnt;
    int ny = rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(y))->cnt;
    return ny - nx;
}

static void
describe_offsets(const char *group, const rd_kafka_ConsumerGroupDescription_t *d, sm_wbuf_t *w)
{
    rd_kafka_topic_partition_list_t *committed = committed_offsets(group);
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d);
    const rd_kafka_MemberDescription_t **members = sm_calloc(nm + 1, sizeof(*members));
    int total = committed->cnt;
    for (size_t i = 0; i < nm; i++) {
        members[i] = rd_kafka_ConsumerGroupDescription_member(d, i);
        total += rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(members[i]))->cnt;
    }
    qsort(members, nm, sizeof(*members), cmp_member_size);
    sm_tool_offset_row_t *rows = sm_calloc((size_t)total + 1, sizeof(*rows));
    char *assigned = sm_calloc((size_t)committed->cnt + 1, 1);
    int n = 0;
    for (size_t i = 0; i < nm; i++) {
        const rd_kafka_topic_partition_list_t *a = rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(members[i]));
        int first = n;
        for (int k = 0; k < a->cnt; k++) {
            sm_tool_offset_row_t *r = &rows[n++];
            r->group = group;
            r->topic = a->elems[k].topic;
            r->partition = a->elems[k].partition;
            r->current = -1;
            for (int c = 0; c < committed->cnt; c++)
                if (!strcmp(committed->elems[c].topic, r->topic) && committed->elems[c].partition == r->partition) {
                    r->current = committed->elems[c].offset;
                    assigned[c] = 1;
                }
            int64_t lo;
            watermarks(r->topic, r->partition, &lo, &r->log_end);
            r->consumer_id = rd_kafka_MemberDescription_consumer_id(members[i]);
            r->host = rd_kafka_MemberDescription_host(members[i]);
            r->client_id = rd_kafka_MemberDescription_client_id(members[i]);
        }
        qsort(rows + first, (size_t)(n - first), sizeof(*rows), cmp_row);
    }
    int first = n;
    for (int c = 0; c < committed->cnt; c++) {
        if (assigned[c]) continue;
        sm_tool_offset_row_t *r = &rows[n++];
        r->group = group;
        r->topic = committed->elems[c].topic;
        r->partition = committed->elems[c].partition;
        r->current = committed->elems[c].offset;
        int64_t lo;
        watermarks(r->topic, r->partition, &lo, &r->log_end);
    }
    qsort(rows + first, (size_t)(n - first), sizeof(*rows), cmp_row);
    if (print_member_state(group, state_name(d), n)) sm_tool_fmt_offsets_table(w, rows, n);
    free(assigned);
    free(rows);
    free(members);
    rd_kafka_topic_partition_list_destroy(committed);
}

static void
describe_members(const char *group, const rd_kafka_ConsumerGroupDescription_t *d, sm_wbuf_t *w)
{
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d);
    sm_tool_member_row_t *rows = sm_calloc(nm + 1, sizeof(*rows));
    char **texts = sm_calloc(nm + 1, sizeof(char *));
    for (size_t i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
        const rd_kafka_topic_partition_list_t *a = rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
        const char **tp = sm_calloc((size_t)a->cnt + 1, sizeof(char *));
        int32_t *pp = sm_calloc((size_t)a->cnt + 1, sizeof(int32_t));
        for (int k = 0; k < a->cnt; k++) { tp[k] = a->elems[k].topic; pp[k] = a->elems[k].partition; }
        texts[i] = sm_tool_fmt_assignment(tp, pp, a->cnt);
        free(tp);
        free(pp);
        rows[i] = (sm_tool_member_row_t){ group, rd_kafka_MemberDescription_consumer_id(m),
                                          rd_kafka_MemberDescription_group_instance_id(m),
                                          rd_kafka_MemberDescription_host(m), rd_kafka_MemberDescription_client_id(m),
                                          a->cnt, texts[i] };
    }
    if (print_member_state(group, state_name(d), (int)nm))
        sm_tool_fmt_members_table(w, rows, (int)nm, has("verbose"));
    for (size_t i = 0; i < nm; i++) free(texts[i]);
    free(texts);
    free(rows);
}

static void
describe_state(const char *group, const rd_kafka_ConsumerGroupDescription_t *d, sm_wbuf_t *w)
{
    const char *st = state_name(d);
    if (!strcmp(st, "Dead")) {
        printf("\nError: Consumer group '%s' does not exist.\n", group);
        return;
    }
    const rd_kafka_Node_t *c = rd_kafka_ConsumerGroupDescription_coordinator(d);
    char coord[300];
    snprintf(coord, sizeof coord, "%s:%u (%d)", c ? rd_kafka_Node_host(c) : "-", c ? rd_kafka_Node_port(c) : 0,
             c ? rd_kafka_Node_id(c) : -1);
    sm_tool_fmt_state_table(w, group, coord, rd_kafka_ConsumerGroupDescription_partition_assignor(d), st,
                            (int)rd_kafka_ConsumerGroupDescription_member_count(d));
}

static void
cmd_describe(void)
{
    char **groups;
    int n = target_groups(&groups);
    sm_wbuf_t w;
    sm_wbuf_init(&w, 1024);
    for (int i = 0; i < n; i++) {
        rd_kafka_event_t *ev;
        const rd_kafka_ConsumerGroupDescription_t *d = describe_group(groups[i], &ev);
        if (has("members")) describe_members(groups[i], d, &w);
        else if (has("state")) describe_state(groups[i], d, &w);
        else describe_offsets(groups[i], d, &w);
        fflush(stderr);
        fwrite(w.data, 1, w.len, stdout);
        fflush(stdout);
        sm_wbuf_reset(&w);
        rd_kafka_event_destroy(ev);
    }
    sm_wbuf_free(&w);
    sm_tool_strv_free(groups, n);
}

/* ---- --reset-offsets ------------------------------------------------- */

typedef struct { char *topic; int32_t partition; int64_t offset; } reset_t;

/* Partitions in scope: --all-topics = the committed ones; --topic t[:p]. */
static int
reset_scope(const rd_kafka_topic_partition_list_t *committed, reset_t **out)
{
    int n = 0, cap = 16;
    reset_t *v = sm_calloc((size_t)cap, sizeof(reset_t));
#define PUSH(t, p)                                                                  \
    do {                                                                            \
        if (n == cap) { cap *= 2; v = sm_realloc(v, sizeof(reset_t) * (size_t)cap); } \
        v[n].topic = sm_strdup(t); v[n].partition = (p); v[n].offset = -1; n++;     \
    } while (0)
    if (has("all-topics")) {
        for (int i = 0; i < committed->cnt; i++) PUSH(committed->elems[i].topic, committed->elems[i].partition);
    } else {
        int nt;
        char **topics = sm_tool_get_all(&A, "topic", &nt);
        for (int i = 0; i < nt; i++) {
            char *t, err[128];
            int32_t *parts;
            int np;
            if (sm_tool_parse_topic_scope(topics[i], &t, &parts, &np, err, sizeof err)) fail("%s", err);
            if (np == 0) {
                np = topic_partitions(t, &parts);
                if (np < 0) fail("This server does not host this topic-partition.");
            }
            for (int k = 0; k < np; k++) PUSH(t, parts[k]);
            free(t);
            free(parts);
        }
    }
#undef PUSH
    *out = v;
    return n;
}

static int64_t
committed_of(const rd_kafka_topic_partition_list_t *c, const char *t, int32_t p)
{
    for (int i = 0; i < c->cnt; i++)
        if (c->elems[i].partition == p && !strcmp(c->elems[i].topic, t)) return c->elems[i].offset;
    return -1;
}

static int64_t
checked(const char *t, int32_t p, int64_t off)
{
    int64_t lo, hi;
    int cl;
    watermarks(t, p, &lo, &hi);
    int64_t r = sm_tool_clamp_offset(off, lo, hi, &cl);
    if (cl > 0)
        fprintf(stderr, "WARN New offset (%lld) is higher than latest offset for topic partition %s-%d. Value will be set to %lld\n",
                (long long)off, t, p, (long long)r);
    else if (cl < 0)
        fprintf(stderr, "WARN New offset (%lld) is lower than earliest offset for topic partition %s-%d. Value will be set to %lld\n",
                (long long)off, t, p, (long long)r);
    return r;
}

/* Offsets at a timestamp (ListOffsets); no such offset = log end. */
static void
offsets_at(reset_t *v, int n, int64_t ts)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++) rd_kafka_topic_partition_list_add(l, v[i].topic, v[i].partition)->offset = ts;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, timeout_ms);
    if (e) fail("%s", rd_kafka_err2str(e));
    for (int i = 0; i < n; i++) {
        int64_t off = l->elems[i].offset;
        if (l->elems[i].err || off < 0) {
            int64_t lo;
            watermarks(v[i].topic, v[i].partition, &lo, &off);
        }
        v[i].offset = off;
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void
prepare(reset_t *v, int n, const rd_kafka_topic_partition_list_t *committed)
{
    if (has("to-datetime")) {
        int64_t ts;
        if (sm_tool_parse_datetime(sm_tool_get(&A, "to-datetime"), &ts))
            fail("Error parsing timestamp. It does not contain a 'T' according to ISO8601 format");
        offsets_at(v, n, ts);
        return;
    }
    if (has("by-duration")) {
        int64_t d;
        if (sm_tool_parse_duration(sm_tool_get(&A, "by-duration"), &d))
            fail("Text cannot be parsed to a Duration");
        offsets_at(v, n, sm_now_ms() - d);
        return;
    }
    for (int i = 0; i < n; i++) {
        reset_t *r = &v[i];
        int64_t lo, hi, cur = committed_of(committed, r->topic, r->partition);
        if (has("to-earliest")) { watermarks(r->topic, r->partition, &lo, &hi); r->offset = lo; }
        else if (has("to-latest")) { watermarks(r->topic, r->partition, &lo, &hi); r->offset = hi; }
        else if (has("to-offset")) r->offset = checked(r->topic, r->partition, to_offset);
        else if (has("shift-by")) {
            if (cur < 0)
                fail("Cannot shift offset for partition %s-%d since there is no current committed offset", r->topic,
                     r->partition);
            r->offset = checked(r->topic, r->partition, cur + shift_by);
        } else if (has("to-current")) {
            if (cur < 0) { watermarks(r->topic, r->partition, &lo, &hi); cur = hi; }
            r->offset = cur;
        }
    }
}

/* --from-file: CSV "topic,partition,offset" (or with a leading group). */
static int
from_file(const char *group, int many, reset_t **out)
{
    size_t len;
    char *data = sm_read_file(sm_tool_get(&A, "from-file"), 64 << 20, &len);
    if (!data) fail("Could not read %s", sm_tool_get(&A, "from-file"));
    int n = 0, cap = 16;
    reset_t *v = sm_calloc((size_t)cap, sizeof(reset_t));
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char **f;
        int nf = sm_tool_split_list(line, &f);
        int base = nf == 4 ? 1 : 0;
        int64_t p, o;
        if ((nf != 3 && nf != 4) || sm_parse_i64(f[base + 1], &p) || sm_parse_i64(f[base + 2], &o))
            fail("Error parsing offsets file line: %s", line);
        if (nf == 4 && strcmp(f[0], group)) { sm_tool_strv_free(f, nf); continue; }
        (void)many;
        if (n == cap) { cap *= 2; v = sm_realloc(v, sizeof(reset_t) * (size_t)cap); }
        v[n++] = (reset_t){ sm_strdup(f[base]), (int32_t)p, o };
        sm_tool_strv_free(f, nf);
    }
    free(data);
    *out = v;
    return n;
}

static void
cmd_reset(void)
{
    int execute = has("execute") && !has("dry-run");
    if (!has("dry-run") && !has("execute"))
        fprintf(stderr, "WARN: No action will be performed as the --execute option is missing.In a future major release, "
                        "the default behavior of this command will be to prompt the user before executing the reset "
                        "rather than doing a dry run. You should add the --dry-run option explicitly if you are "
                        "scripting this command and want to keep the current default behavior without prompting.\n");
    char **groups;
    int ng = target_groups(&groups);
    sm_wbuf_t table, csv;
    sm_wbuf_init(&table, 1024);
    sm_wbuf_init(&csv, 256);
    sm_tool_reset_row_t *rows = NULL;
    int nrows = 0;
    reset_t **keep = sm_calloc((size_t)ng + 1, sizeof(reset_t *));
    int *nkeep = sm_calloc((size_t)ng + 1, sizeof(int));
    for (int g = 0; g < ng; g++) {
        rd_kafka_event_t *ev;
        const rd_kafka_ConsumerGroupDescription_t *d = describe_group(groups[g], &ev);
        const char *st = state_name(d);
        if (strcmp(st, "Empty") && strcmp(st, "Dead")) {
            printf("\nError: Assignments can only be reset if the group '%s' is inactive, but the current state is %s.\n",
                   groups[g], st);
            rd_kafka_event_destroy(ev);
            continue;
        }
        rd_kafka_event_destroy(ev);
        rd_kafka_topic_partition_list_t *committed = committed_offsets(groups[g]);
        reset_t *v;
        int n;
        if (has("from-file")) n = from_file(groups[g], ng > 1, &v);
        else {
            n = reset_scope(committed, &v);
            prepare(v, n, committed);
        }
        rd_kafka_topic_partition_list_destroy(committed);
        if (execute && n > 0) {
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
            for (int i = 0; i < n; i++) rd_kafka_topic_partition_list_add(l, v[i].topic, v[i].partition)->offset = v[i].offset;
            rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(groups[g], l);
            sm_tool_rdk_call_t call;
            begin(&call, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
            rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, call.o, call.q);
            size_t nr;
            const rd_kafka_group_result_t **gr = rd_kafka_AlterConsumerGroupOffsets_result_groups(
                rd_kafka_event_AlterConsumerGroupOffsets_result(wait_result(&call, 0)), &nr);
            for (size_t i = 0; i < nr; i++) {
                if (rd_kafka_group_result_error(gr[i])) fail("%s", rd_kafka_error_string(rd_kafka_group_result_error(gr[i])));
                const rd_kafka_topic_partition_list_t *pl = rd_kafka_group_result_partitions(gr[i]);
                for (int k = 0; pl && k < pl->cnt; k++)
                    if (pl->elems[k].err) fail("%s", rd_kafka_err2str(pl->elems[k].err));
            }
            sm_tool_rdk_call_end(&call);
            rd_kafka_AlterConsumerGroupOffsets_destroy(req);
            rd_kafka_topic_partition_list_destroy(l);
        }
        keep[g] = v;
        nkeep[g] = n;
        rows = sm_realloc(rows, sizeof(*rows) * (size_t)(nrows + n + 1));
        for (int i = 0; i < n; i++) {
            rows[nrows++] = (sm_tool_reset_row_t){ groups[g], v[i].topic, v[i].partition, v[i].offset };
            if (ng > 1) sm_tool_wprintf(&csv, "%s,", groups[g]);
            sm_tool_wprintf(&csv, "%s,%d,%lld\n", v[i].topic, v[i].partition, (long long)v[i].offset);
        }
    }
    if (has("export")) {
        fwrite(csv.data, 1, csv.len, stdout);
    } else {
        sm_tool_fmt_reset_table(&table, rows, nrows);
        fwrite(table.data, 1, table.len, stdout);
    }
    for (int g = 0; g < ng; g++) {
        for (int i = 0; i < nkeep[g]; i++) free(keep[g][i].topic);
        free(keep[g]);
    }
    free(keep);
    free(nkeep);
    free(rows);
    sm_wbuf_free(&table);
    sm_wbuf_free(&csv);
    sm_tool_strv_free(groups, ng);
}

/* ---- --delete / --delete-offsets ---------------------------------------- */

/* Error.toString() of the Java exception for a group error code. */
static void
java_error(rd_kafka_resp_err_t e, char *buf, size_t len)
{
    const char *cls = "org.apache.kafka.common.KafkaException", *msg = rd_kafka_err2str(e);
    switch ((int)e) {
    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
        cls = "org.apache.kafka.common.errors.GroupNotEmptyException"; msg = "The group is not empty."; break;
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
        cls = "org.apache.kafka.common.errors.GroupIdNotFoundException"; msg = "The group id does not exist."; break;
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
        cls = "org.apache.kafka.common.errors.InvalidGroupIdException"; msg = "The configured groupId is invalid."; break;
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
        cls = "org.apache.kafka.common.errors.CoordinatorNotAvailableException";
        msg = "The coordinator is not available."; break;
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
        cls = "org.apache.kafka.common.errors.NotCoordinatorException"; msg = "This is not the correct coordinator."; break;
    case RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC:
        cls = "org.apache.kafka.common.errors.GroupSubscribedToTopicException";
        msg = "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."; break;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        cls = "org.apache.kafka.common.errors.UnknownTopicOrPartitionException";
        msg = "This server does not host this topic-partition."; break;
    default: break;
    }
    snprintf(buf, len, "%s: %s", cls, msg);
}

static void
cmd_delete(void)
{
    char **groups;
    int n = target_groups(&groups);
    if (n == 0) { sm_tool_strv_free(groups, n); return; }
    rd_kafka_DeleteGroup_t **dg = sm_calloc((size_t)n, sizeof(*dg));
    for (int i = 0; i < n; i++) dg[i] = rd_kafka_DeleteGroup_new(groups[i]);
    sm_tool_rdk_call_t call;
    begin(&call, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
    rd_kafka_DeleteGroups(rk, dg, (size_t)n, call.o, call.q);
    size_t nr;
    const rd_kafka_group_result_t **r =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(wait_result(&call, 0)), &nr);
    sm_wbuf_t ok, bad;
    sm_wbuf_init(&ok, 128);
    sm_wbuf_init(&bad, 256);
    int nok = 0, nbad = 0;
    for (size_t i = 0; i < nr; i++) {
        const rd_kafka_error_t *e = rd_kafka_group_result_error(r[i]);
        if (!e) {
            sm_tool_wprintf(&ok, "%s'%s'", nok++ ? ", " : "", rd_kafka_group_result_name(r[i]));
        } else {
            char je[512];
            java_error(rd_kafka_error_code(e), je, sizeof je);
            sm_tool_wprintf(&bad, "* Group '%s' could not be deleted due to: %s\n", rd_kafka_group_result_name(r[i]), je);
            nbad++;
        }
    }
    if (!nbad) {
        printf("Deletion of requested consumer groups (%.*s) was successful.\n", (int)ok.len, (const char *)ok.data);
    } else {
        printf("\nError: Deletion of some consumer groups failed:\n%.*s", (int)bad.len, (const char *)bad.data);
        if (nok) printf("\nThese consumer groups were deleted successfully: %.*s\n", (int)ok.len, (const char *)ok.data);
    }
    sm_wbuf_free(&ok);
    sm_wbuf_free(&bad);
    sm_tool_rdk_call_end(&call);
    rd_kafka_DeleteGroup_destroy_array(dg, (size_t)n);
    free(dg);
    sm_tool_strv_free(groups, n);
    if (nbad) exit(1);
}

static int
cmp_tp_row(const void *a, const void *b)
{
    const rd_kafka_topic_partition_t *x = a, *y = b;
    return sm_tool_cmp_tp(x->topic, x->partition, y->topic, y->partition);
}

static void
cmd_delete_offsets(void)
{
    const char *group = sm_tool_get(&A, "group");
    int nt;
    char **topics = sm_tool_get_all(&A, "topic", &nt);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    sm_wbuf_t names;
    sm_wbuf_init(&names, 64);
    for (int i = 0; i < nt; i++) {
        char *t, err[128];
        int32_t *parts;
        int np;
        if (sm_tool_parse_topic_scope(topics[i], &t, &parts, &np, err, sizeof err)) fail("%s", err);
        if (np == 0) np = topic_partitions(t, &parts);
        if (np < 0) rd_kafka_topic_partition_list_add(l, t, -1);    /* reported as unknown below */
        for (int k = 0; k < np; k++) rd_kafka_topic_partition_list_add(l, t, parts[k]);
        sm_write_raw(&names, i ? ", " : "", i ? 2 : 0);
        sm_write_raw(&names, t, strlen(t));
        free(t);
        free(parts);
    }
    rd_kafka_resp_err_t top = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_t *res = rd_kafka_topic_partition_list_new(l->cnt);
    rd_kafka_topic_partition_list_t *known = rd_kafka_topic_partition_list_new(l->cnt);
    for (int i = 0; i < l->cnt; i++) {
        if (l->elems[i].partition < 0) {
            rd_kafka_topic_partition_list_add(res, l->elems[i].topic, -1)->err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            top = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        } else {
            rd_kafka_topic_partition_list_add(known, l->elems[i].topic, l->elems[i].partition);
        }
    }
    sm_tool_rdk_call_t call = { 0 };
    rd_kafka_DeleteConsumerGroupOffsets_t *req = NULL;
    if (known->cnt > 0) {
        req = rd_kafka_DeleteConsumerGroupOffsets_new(group, known);
        begin(&call, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS);
        rd_kafka_DeleteConsumerGroupOffsets(rk, &req, 1, call.o, call.q);
        rd_kafka_event_t *ev = wait_result(&call, 1);
        if (rd_kafka_event_error(ev)) {
            top = rd_kafka_event_error(ev);
        } else {
            size_t nr;
            const rd_kafka_group_result_t **gr =
                rd_kafka_DeleteConsumerGroupOffsets_result_groups(rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &nr);
            for (size_t i = 0; i < nr; i++) {
                const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[i]);
                if (e) top = rd_kafka_error_code(e);
                const rd_kafka_topic_partition_list_t *pl = rd_kafka_group_result_partitions(gr[i]);
                for (int k = 0; pl && k < pl->cnt; k++) {
                    rd_kafka_topic_partition_list_add(res, pl->elems[k].topic, pl->elems[k].partition)->err = pl->elems[k].err;
                    if (pl->elems[k].err && !top) top = pl->elems[k].err;
                }
            }
        }
    }
    switch ((int)top) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        printf("Request succeed for deleting offsets with topic %.*s group %s\n", (int)names.len, (const char *)names.data, group);
        break;
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID: printf("\nError: '%s' is not valid.\n", group); break;
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND: printf("\nError: '%s' does not exist.\n", group); break;
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED: printf("\nError: Access to '%s' is not authorized.\n", group); break;
    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
        printf("\nError: Deleting offsets of a consumer group '%s' is forbidden if the group is not empty.\n", group);
        break;
    case RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        printf("\nError: Encounter some partition level error, see the follow-up details:\n");
        break;
    default: printf("\nError: Encounter some unknown error: %s\n", rd_kafka_err2name(top)); break;
    }
    printf("\n%-30s %-15s %-15s\n", "TOPIC", "PARTITION", "STATUS");
    if (res->cnt > 1) qsort(res->elems, (size_t)res->cnt, sizeof(rd_kafka_topic_partition_t), cmp_tp_row);
    for (int i = 0; i < res->cnt; i++) {
        char p[32], st[600];
        if (res->elems[i].partition >= 0) snprintf(p, sizeof p, "%d", res->elems[i].partition);
        else snprintf(p, sizeof p, "Not Provided");
        if (res->elems[i].err) {
            char je[512];
            java_error(res->elems[i].err, je, sizeof je);
            const char *m = strstr(je, ": ");
            snprintf(st, sizeof st, "Error: %s", m ? m + 2 : je);
        } else {
            snprintf(st, sizeof st, "Successful");
        }
        printf("%-30s %-15s %-15s\n", res->elems[i].topic, p, st);
    }
    sm_tool_rdk_call_end(&call);
    if (req) rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
    rd_kafka_topic_partition_list_destroy(res);
    rd_kafka_topic_partition_list_destroy(known);
    rd_kafka_topic_partition_list_destroy(l);
    sm_wbuf_free(&names);
    if (top) exit(1);
}

/* ---- argument checks (ConsumerGroupCommandOptions.checkArgs) ---------- */

static void
check_args(void)
{
    int actions = has("list") + has("describe") + has("delete") + has("reset-offsets") + has("delete-offsets");
    if (actions != 1)
        usage_die("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets");
    sm_tool_check_required(&A, "bootstrap-server");
    if (has("timeout")) {
        int32_t t;
        if (sm_tool_parse_int(sm_tool_get(&A, "timeout"), &t) || t <= 0) usage_die("Option timeout: not a valid number");
        timeout_ms = t;
    }
    int groups = has("group") || has("all-groups");
    if (has("group") && has("all-groups")) usage_die("Option \"[group]\" can't be used with option \"[all-groups]\"");
    if (has("describe")) {
        if (!groups)
            usage_die("Option [describe] takes one of these options: [all-groups], [group]");
        if (has("members") + has("offsets") + has("state") > 1)
            usage_die("Option [describe] takes at most one of these options: [members], [offsets], [state]");
        if (has("verbose") && !has("members")) usage_die("Option \"[verbose]\" can only be used with option \"[members]\"");
    }
    if (has("delete")) {
        if (!groups) usage_die("Option [delete] takes one of these options: [all-groups], [group]");
        if (has("topic")) usage_die("The consumer does not support topic-specific offset deletion from a consumer group.");
    }
    if (has("delete-offsets")) {
        int n;
        sm_tool_get_all(&A, "group", &n);
        if (n != 1 || has("all-groups")) usage_die("Option [delete-offsets] takes the [group] option");
        if (!has("topic")) usage_die("Option [delete-offsets] takes the following options: [topic], [group]");
    }
    if (has("reset-offsets")) {
        if (has("dry-run") && has("execute")) usage_die("Option [reset-offsets] only accepts one of [execute], [dry-run]");
        if (!groups) usage_die("Option [reset-offsets] takes one of these options: [all-groups], [group]");
        int specs = has("to-offset") + has("to-datetime") + has("by-duration") + has("to-earliest") + has("to-latest") +
                    has("shift-by") + has("from-file") + has("to-current");
        if (specs != 1)
            usage_die("Option [reset-offsets] takes exactly one of these options: [to-offset], [to-datetime], [by-duration], "
                      "[to-earliest], [to-latest], [shift-by], [from-file], [to-current]");
        if (!has("from-file") && has("all-topics") + has("topic") != 1)
            usage_die("Option [reset-offsets] takes one of these options: [all-topics], [topic]");
        /* Numbers are checked here, before any request goes out. */
        if (has("to-offset") && sm_parse_i64(sm_tool_get(&A, "to-offset"), &to_offset))
            usage_die("Option to-offset: not a number");
        if (has("shift-by") && sm_parse_i64(sm_tool_get(&A, "shift-by"), &shift_by))
            usage_die("Option shift-by: not a number");
    } else if (has("to-offset") || has("to-datetime") || has("by-duration") || has("to-earliest") || has("to-latest") ||
               has("shift-by") || has("from-file") || has("to-current") || has("execute") || has("dry-run") ||
               has("all-topics") || has("export")) {
        usage_die("Option [reset-offsets] options can only be used with [reset-offsets]");
    }
    if (has("topic") && !has("reset-offsets") && !has("delete-offsets"))
        usage_die("Option \"[topic]\" can't be used without \"[reset-offsets]\" or \"[delete-offsets]\"");
}

int
main(int argc, char **argv)
{
    sm_log_level = SM_LOG_WARN;
    sm_tool_cli_parse(&cli, &A, argc, argv);
    check_args();
    rk_open();
    if (has("list")) cmd_list();
    else if (has("describe")) cmd_describe();
    else if (has("reset-offsets")) cmd_reset();
    else if (has("delete")) cmd_delete();
    else cmd_delete_offsets();
    fflush(stdout);
    rd_kafka_destroy(rk);
    sm_tool_args_free(&A);
    return 0;
}

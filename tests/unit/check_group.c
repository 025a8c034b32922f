/*
 * check_group.c - unit tests of the group coordinator core (src/group/
 * sm_group.h): the rebalance state machine, static membership, offsets,
 * __consumer_offsets records and their replay, driven with a fake clock and
 * an in-memory append log; and the coordinator runtime (sm_group_coord.h) on
 * a real replica manager: commits answered only once the ISR has them (HW
 * notification), NOT_COORDINATOR after leadership moves away, offsets
 * reloaded from the log when it comes back.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "group/sm_group.h"
#include "group/sm_group_coord.h"
#include "log/sm_logmgr.h"
#include "log/sm_plog.h"
#include "proto/sm_group_records.h"
#include "repl/sm_replica.h"
#include "sm_test.h"

/* ---- fake runtime: answers and appended records ---- */

#define MAXW 64
#define MAXREC 512

typedef struct {
    int answered;
    sm_err_t err;
    int32_t generation;
    char member_id[256], leader[256], protocol[64];
    int n_members;
    char members[8][256];
    char assignment[256];
    int16_t errors[16];
} answer_t;

typedef struct {
    int32_t partition;
    uint8_t *key, *value;
    int32_t klen, vlen;              /* vlen -1 = tombstone */
} rec_t;

static answer_t ans[MAXW];
static rec_t recs[MAXREC];
static int nrecs;
static void *tokens[64];
static int ntokens;

#define W(i) ((void *)(intptr_t)(i))

static void
copy_b(char *dst, size_t cap, sm_bytes_t b)
{
    size_t n = b.len < 0 ? 0 : (size_t)b.len;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, b.ptr, n);
    dst[n] = '\0';
}

static void
f_join(void *arg, void *waiter, const sm_gc_join_result_t *r)
{
    answer_t *a = &ans[(intptr_t)waiter];
    ck_assert_int_eq(a->answered, 0);
    a->answered = 1;
    a->err = r->error;
    a->generation = r->generation;
    copy_b(a->member_id, sizeof(a->member_id), r->member_id);
    copy_b(a->leader, sizeof(a->leader), r->leader_id);
    copy_b(a->protocol, sizeof(a->protocol), r->protocol_name);
    a->n_members = r->n_members;
    for (int i = 0; i < r->n_members && i < 8; i++) copy_b(a->members[i], 256, r->members[i].member_id);
}

static void
f_sync(void *arg, void *waiter, sm_err_t err, sm_bytes_t assignment)
{
    answer_t *a = &ans[(intptr_t)waiter];
    ck_assert_int_eq(a->answered, 0);
    a->answered = 1;
    a->err = err;
    copy_b(a->assignment, sizeof(a->assignment), assignment);
}

static void
f_commit(void *arg, void *waiter, const int16_t *errors, int32_t n)
{
    answer_t *a = &ans[(intptr_t)waiter];
    ck_assert_int_eq(a->answered, 0);
    a->answered = 1;
    ck_assert_int_le(n, 16);
    memcpy(a->errors, errors, sizeof(int16_t) * (size_t)n);
}

static void
f_append(void *arg, int32_t partition, const sm_record_spec_t *rs, int n, void *token)
{
    for (int i = 0; i < n; i++) {
        ck_assert_int_lt(nrecs, MAXREC);
        rec_t *r = &recs[nrecs++];
        r->partition = partition;
        r->klen = rs[i].key.len;
        r->key = sm_malloc((size_t)r->klen + 1);
        memcpy(r->key, rs[i].key.ptr, (size_t)r->klen);
        r->vlen = rs[i].value.len;
        r->value = NULL;
        if (r->vlen >= 0) {
            r->value = sm_malloc((size_t)r->vlen + 1);
            memcpy(r->value, rs[i].value.ptr, (size_t)r->vlen);
        }
    }
    if (token) tokens[ntokens++] = token;
}

static sm_gc_t *
new_gc(sm_gc_config_t *cfg)
{
    memset(ans, 0, sizeof(ans));
    for (int i = 0; i < nrecs; i++) { free(recs[i].key); free(recs[i].value); }
    nrecs = 0;
    ntokens = 0;
    sm_gc_config_t c;
    sm_gc_config_defaults(&c);
    c.num_partitions = 4;
    c.initial_rebalance_delay_ms = 0;
    if (cfg) c = *cfg;
    sm_gc_ops_t ops = { f_join, f_sync, f_commit, f_append, NULL };
    sm_gc_t *gc = sm_gc_new(&c, &ops);
    for (int32_t p = 0; p < c.num_partitions; p++) {
        sm_gc_load_begin(gc, p);
        sm_gc_load_end(gc, p, 0);
    }
    return gc;
}

/* Complete every outstanding append with err. */
static void
flush(sm_gc_t *gc, sm_err_t err, int64_t now)
{
    while (ntokens > 0) {
        void *t = tokens[0];
        memmove(tokens, tokens + 1, sizeof(void *) * (size_t)--ntokens);
        sm_gc_append_done(gc, t, err, now);
    }
}

static sm_joingroup_protocol_t P_RANGE[] = { { { 5, (const uint8_t *)"range" }, { 3, (const uint8_t *)"sub" } } };

static void
join(sm_gc_t *gc, int w, const char *group, const char *member, const char *instance, int v4,
     int32_t n_protos, const sm_joingroup_protocol_t *protos, int64_t now)
{
    sm_gc_join_t j = { 0 };
    j.group_id = SM_BYTES_STR(group);
    j.member_id = SM_BYTES_STR(member);
    j.group_instance_id = instance ? SM_BYTES_STR(instance) : SM_BYTES_NULL;
    j.protocol_type = SM_BYTES_STR("consumer");
    j.client_id = SM_BYTES_STR("cli");
    j.client_host = SM_BYTES_STR("/127.0.0.1");
    j.session_timeout_ms = 10000;
    j.rebalance_timeout_ms = 30000;
    j.require_known_member_id = v4;
    j.n_protocols = n_protos ? n_protos : 1;
    j.protocols = protos ? protos : P_RANGE;
    ans[w].answered = 0;
    sm_gc_join(gc, &j, W(w), now);
}

static void
sync_(sm_gc_t *gc, int w, const char *group, int32_t gen, const char *member, const char *instance, int n,
      const char **ids, const char **assign, int64_t now)
{
    sm_syncgroup_assignment_t as[8];
    for (int i = 0; i < n; i++) {
        as[i].member_id = SM_BYTES_STR(ids[i]);
        as[i].assignment = SM_BYTES_STR(assign[i]);
    }
    ans[w].answered = 0;
    sm_gc_sync(gc, SM_BYTES_STR(group), gen, SM_BYTES_STR(member), instance ? SM_BYTES_STR(instance) : SM_BYTES_NULL,
               n, as, W(w), now);
}

static int
state_of(sm_gc_t *gc, const char *g, int32_t *gen, int32_t *n)
{
    return sm_gc_group_state(gc, SM_BYTES_STR(g), gen, n);
}

/* One dynamic member, v4 handshake, through to Stable. Returns its id in out. */
static void
one_member_stable(sm_gc_t *gc, const char *group, char *out, int64_t now)
{
    join(gc, 1, group, "", NULL, 1, 0, NULL, now);
    ck_assert(ans[1].answered);
    ck_assert_int_eq(ans[1].err, SM_ERR_MEMBER_ID_REQUIRED);
    ck_assert_int_eq(ans[1].generation, -1);
    ck_assert(!strncmp(ans[1].member_id, "cli-", 4));
    strcpy(out, ans[1].member_id);
    join(gc, 2, group, out, NULL, 1, 0, NULL, now);
    ck_assert(!ans[2].answered);            /* initial delayed join */
    sm_gc_tick(gc, now);
    ck_assert(ans[2].answered);
    ck_assert_int_eq(ans[2].err, SM_ERR_NONE);
    ck_assert_int_eq(ans[2].generation, 1);
    ck_assert_str_eq(ans[2].leader, out);
    ck_assert_str_eq(ans[2].protocol, "range");
    ck_assert_int_eq(ans[2].n_members, 1);
    const char *ids[] = { out }, *as[] = { "A0" };
    sync_(gc, 3, group, 1, out, NULL, 1, ids, as, now);
    ck_assert(!ans[3].answered);            /* waits for the append */
    ck_assert_int_eq(ntokens, 1);
    flush(gc, SM_ERR_NONE, now);
    ck_assert(ans[3].answered);
    ck_assert_int_eq(ans[3].err, SM_ERR_NONE);
    ck_assert_str_eq(ans[3].assignment, "A0");
    ck_assert_int_eq(state_of(gc, group, NULL, NULL), SM_GC_STABLE);
}

START_TEST(test_partition_for)
{
    /* Values of Java's Math.abs("...".hashCode()) % 50. */
    ck_assert_int_eq(sm_gc_partition_for_n(SM_BYTES_STR("my-group"), 50), 12);
    ck_assert_int_eq(sm_gc_partition_for_n(SM_BYTES_STR("test"), 50), 48);
    ck_assert_int_eq(sm_gc_partition_for_n(SM_BYTES_STR(""), 50), 0);
    /* "polygenelubricants".hashCode() == Integer.MIN_VALUE -> Utils.abs = 0 */
    ck_assert_int_eq(sm_gc_partition_for_n(SM_BYTES_STR("polygenelubricants"), 50), 0);
}
END_TEST

START_TEST(test_join_sync_heartbeat)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 1000);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 1000), SM_ERR_NONE);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 0, SM_BYTES_STR(m1), SM_BYTES_NULL, 1000), SM_ERR_ILLEGAL_GENERATION);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR("nobody"), SM_BYTES_NULL, 1000), SM_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("zz"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 1000), SM_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR(""), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 1000), SM_ERR_INVALID_GROUP_ID);
    /* Stable: a sync returns the stored assignment at once. */
    sync_(gc, 4, "g", 1, m1, NULL, 0, NULL, NULL, 1000);
    ck_assert(ans[4].answered);
    ck_assert_str_eq(ans[4].assignment, "A0");
    /* The group record was persisted: key v2, value v3 with one member. */
    ck_assert_int_ge(nrecs, 1);
    rec_t *r = &recs[nrecs - 1];
    sm_reader_t rd;
    sm_group_key_t k;
    sm_reader_init(&rd, r->key, (size_t)r->klen);
    ck_assert_int_eq(sm_group_decode_key(&rd, &k), 0);
    ck_assert_int_eq(k.version, 2);
    ck_assert_int_eq(r->partition, sm_gc_partition_for_n(SM_BYTES_STR("g"), 4));
    sm_arena_t a;
    sm_arena_init(&a, 0);
    sm_group_metadata_value_t v;
    sm_reader_init(&rd, r->value, (size_t)r->vlen);
    ck_assert_int_eq(sm_group_decode_GroupMetadataValue(&rd, &a, &v), 0);
    ck_assert_int_eq(v.version, 3);
    ck_assert_int_eq(v.generation, 1);
    ck_assert_int_eq(v.n_members, 1);
    ck_assert(v.members[0].assignment.len == 2 && !memcmp(v.members[0].assignment.ptr, "A0", 2));
    ck_assert(v.members[0].subscription.len == 3 && !memcmp(v.members[0].subscription.ptr, "sub", 3));
    sm_arena_free(&a);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_join_errors)
{
    sm_gc_config_t c;
    sm_gc_config_defaults(&c);
    c.num_partitions = 4;
    c.initial_rebalance_delay_ms = 0;
    c.max_size = 1;
    sm_gc_t *gc = new_gc(&c);
    sm_gc_join_t j = { 0 };
    j.group_id = SM_BYTES_STR("g");
    j.member_id = SM_BYTES_STR("");
    j.group_instance_id = SM_BYTES_NULL;
    j.protocol_type = SM_BYTES_STR("consumer");
    j.session_timeout_ms = 1000;           /* below group.min.session.timeout.ms */
    j.n_protocols = 1;
    j.protocols = P_RANGE;
    sm_gc_join(gc, &j, W(1), 0);
    ck_assert_int_eq(ans[1].err, SM_ERR_INVALID_SESSION_TIMEOUT);
    j.session_timeout_ms = 1800001;
    sm_gc_join(gc, &j, W(2), 0);
    ck_assert_int_eq(ans[2].err, SM_ERR_INVALID_SESSION_TIMEOUT);
    j.group_id = SM_BYTES_STR("");
    j.session_timeout_ms = 10000;
    sm_gc_join(gc, &j, W(3), 0);
    ck_assert_int_eq(ans[3].err, SM_ERR_INVALID_GROUP_ID);
    /* Unknown member id on a group that does not exist. */
    join(gc, 4, "g", "ghost", NULL, 0, 0, NULL, 0);
    ck_assert_int_eq(ans[4].err, SM_ERR_UNKNOWN_MEMBER_ID);
    /* v0-3 join: no MEMBER_ID_REQUIRED round trip. */
    join(gc, 5, "g", "", NULL, 0, 0, NULL, 0);
    ck_assert(!ans[5].answered);
    sm_gc_tick(gc, 0);
    ck_assert_int_eq(ans[5].err, SM_ERR_NONE);
    /* Different protocol type, and no common protocol. */
    sm_gc_join_t k = j;
    k.group_id = SM_BYTES_STR("g");
    k.protocol_type = SM_BYTES_STR("connect");
    sm_gc_join(gc, &k, W(6), 0);
    ck_assert_int_eq(ans[6].err, SM_ERR_INCONSISTENT_GROUP_PROTOCOL);
    sm_joingroup_protocol_t rr[] = { { { 10, (const uint8_t *)"roundrobin" }, { 0, (const uint8_t *)"" } } };
    join(gc, 7, "g", "", NULL, 0, 1, rr, 0);
    ck_assert_int_eq(ans[7].err, SM_ERR_INCONSISTENT_GROUP_PROTOCOL);
    /* group.max.size = 1 */
    join(gc, 8, "g", "", NULL, 0, 0, NULL, 0);
    ck_assert_int_eq(ans[8].err, SM_ERR_GROUP_MAX_SIZE_REACHED);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_protocol_votes)
{
    sm_gc_t *gc = new_gc(NULL);
    sm_joingroup_protocol_t rr_range[] = { { { 10, (const uint8_t *)"roundrobin" }, { 0, NULL } },
                                           { { 5, (const uint8_t *)"range" }, { 0, NULL } } };
    sm_joingroup_protocol_t range_rr[] = { { { 5, (const uint8_t *)"range" }, { 0, NULL } },
                                           { { 10, (const uint8_t *)"roundrobin" }, { 0, NULL } } };
    join(gc, 1, "g", "", NULL, 0, 2, rr_range, 0);
    join(gc, 2, "g", "", NULL, 0, 2, range_rr, 0);
    join(gc, 3, "g", "", NULL, 0, 2, range_rr, 0);
    sm_gc_tick(gc, 0);
    for (int i = 1; i <= 3; i++) {
        ck_assert(ans[i].answered);
        ck_assert_int_eq(ans[i].err, SM_ERR_NONE);
        ck_assert_str_eq(ans[i].protocol, "range");       /* 2 votes to 1 */
        ck_assert_int_eq(ans[i].generation, 1);
    }
    /* Exactly the leader gets the member list. */
    int leaders = 0;
    for (int i = 1; i <= 3; i++)
        if (!strcmp(ans[i].leader, ans[i].member_id)) { leaders++; ck_assert_int_eq(ans[i].n_members, 3); }
        else ck_assert_int_eq(ans[i].n_members, 0);
    ck_assert_int_eq(leaders, 1);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_rebalance_and_fencing)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256], m2[256];
    one_member_stable(gc, "g", m1, 0);
    /* A second member joins: the group prepares a rebalance. */
    join(gc, 10, "g", "", NULL, 0, 0, NULL, 100);
    ck_assert(!ans[10].answered);
    ck_assert_int_eq(state_of(gc, "g", NULL, NULL), SM_GC_PREPARING_REBALANCE);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 100), SM_ERR_REBALANCE_IN_PROGRESS);
    const char *none[] = { NULL };
    sync_(gc, 11, "g", 1, m1, NULL, 0, none, none, 100);
    ck_assert_int_eq(ans[11].err, SM_ERR_REBALANCE_IN_PROGRESS);
    /* The first member rejoins: everybody is in, the join completes. */
    join(gc, 12, "g", m1, NULL, 0, 0, NULL, 200);
    ck_assert(ans[10].answered && ans[12].answered);
    ck_assert_int_eq(ans[12].generation, 2);
    ck_assert_int_eq(ans[10].generation, 2);
    ck_assert_str_eq(ans[12].leader, m1);          /* the old leader stays */
    strcpy(m2, ans[10].member_id);
    ck_assert_int_eq(state_of(gc, "g", NULL, NULL), SM_GC_COMPLETING_REBALANCE);
    /* Generation fencing. */
    sync_(gc, 13, "g", 1, m2, NULL, 0, none, none, 200);
    ck_assert_int_eq(ans[13].err, SM_ERR_ILLEGAL_GENERATION);
    sync_(gc, 14, "g", 2, "nobody", NULL, 0, none, none, 200);
    ck_assert_int_eq(ans[14].err, SM_ERR_UNKNOWN_MEMBER_ID);
    /* Commits are refused while completing the rebalance. */
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 0, 5, -1, SM_BYTES_NULL, 200, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), 2, SM_BYTES_STR(m2), SM_BYTES_NULL, 1, &o, W(15), 200);
    ck_assert_int_eq(ans[15].errors[0], SM_ERR_REBALANCE_IN_PROGRESS);
    /* Follower waits for the leader's assignment. */
    sync_(gc, 16, "g", 2, m2, NULL, 0, none, none, 200);
    ck_assert(!ans[16].answered);
    const char *ids[] = { m1, m2 }, *as[] = { "P0", "P1" };
    sync_(gc, 17, "g", 2, m1, NULL, 2, ids, as, 200);
    ck_assert(!ans[16].answered && !ans[17].answered);
    flush(gc, SM_ERR_NONE, 200);
    ck_assert(ans[16].answered && ans[17].answered);
    ck_assert_str_eq(ans[16].assignment, "P1");
    ck_assert_str_eq(ans[17].assignment, "P0");
    ck_assert_int_eq(state_of(gc, "g", NULL, NULL), SM_GC_STABLE);
    /* Session expiry: m2 keeps heartbeating, m1 goes silent. */
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 2, SM_BYTES_STR(m2), SM_BYTES_NULL, 9000), SM_ERR_NONE);
    sm_gc_tick(gc, 10300);             /* m1's last request was at 200 */
    int32_t gen, n;
    ck_assert_int_eq(state_of(gc, "g", &gen, &n), SM_GC_PREPARING_REBALANCE);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 2, SM_BYTES_STR(m1), SM_BYTES_NULL, 10300), SM_ERR_UNKNOWN_MEMBER_ID);
    join(gc, 18, "g", m2, NULL, 0, 0, NULL, 10400);
    ck_assert(ans[18].answered);
    ck_assert_int_eq(ans[18].generation, 3);
    ck_assert_str_eq(ans[18].leader, m2);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_rebalance_timeout_drops_laggards)
{
    sm_gc_t *gc = new_gc(NULL);
    join(gc, 1, "g", "", NULL, 0, 0, NULL, 0);
    join(gc, 2, "g", "", NULL, 0, 0, NULL, 0);
    sm_gc_tick(gc, 0);
    char a[256], b[256];
    strcpy(a, ans[1].member_id);
    strcpy(b, ans[2].member_id);
    /* Rebalance triggered by a metadata change of a; b never rejoins. */
    sm_joingroup_protocol_t other[] = { { { 5, (const uint8_t *)"range" }, { 3, (const uint8_t *)"new" } } };
    join(gc, 3, "g", a, NULL, 0, 1, other, 100);
    ck_assert(!ans[3].answered);
    /* b heartbeats (and learns of the rebalance) but never rejoins. */
    for (int64_t t = 9000; t < 30000; t += 9000) {
        ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(b), SM_BYTES_NULL, t),
                         SM_ERR_REBALANCE_IN_PROGRESS);
        sm_gc_tick(gc, t);
    }
    sm_gc_tick(gc, 100 + 29999);
    ck_assert(!ans[3].answered);
    sm_gc_tick(gc, 100 + 30000);       /* rebalance timeout of 30 s */
    ck_assert(ans[3].answered);
    ck_assert_int_eq(ans[3].generation, 2);
    int32_t n;
    state_of(gc, "g", NULL, &n);
    ck_assert_int_eq(n, 1);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_initial_delay)
{
    sm_gc_config_t c;
    sm_gc_config_defaults(&c);
    c.num_partitions = 4;
    sm_gc_t *gc = new_gc(&c);          /* group.initial.rebalance.delay.ms = 3000 */
    join(gc, 1, "g", "", NULL, 0, 0, NULL, 0);
    sm_gc_tick(gc, 2999);
    ck_assert(!ans[1].answered);
    join(gc, 2, "g", "", NULL, 0, 0, NULL, 2000);
    sm_gc_tick(gc, 3000);              /* a member arrived: wait another 3 s */
    ck_assert(!ans[1].answered);
    sm_gc_tick(gc, 6000);
    ck_assert(ans[1].answered && ans[2].answered);
    ck_assert_int_eq(ans[1].generation, 1);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_static_member_restart)
{
    sm_gc_t *gc = new_gc(NULL);
    join(gc, 1, "g", "", "inst-1", 1, 0, NULL, 0);
    join(gc, 2, "g", "", "inst-2", 1, 0, NULL, 0);
    ck_assert(!ans[1].answered);       /* static members skip MEMBER_ID_REQUIRED */
    sm_gc_tick(gc, 0);
    ck_assert(ans[1].answered && ans[2].answered);
    ck_assert(!strncmp(ans[1].member_id, "inst-1-", 7));
    char s1[256], s2[256], leader[256];
    strcpy(s1, ans[1].member_id);
    strcpy(s2, ans[2].member_id);
    strcpy(leader, ans[1].leader);
    const char *ids[] = { s1, s2 }, *as[] = { "X1", "X2" };
    const char *ldr = !strcmp(leader, s1) ? s1 : s2;
    sync_(gc, 3, "g", 1, ldr, NULL, 2, ids, as, 0);
    flush(gc, SM_ERR_NONE, 0);
    ck_assert_int_eq(state_of(gc, "g", NULL, NULL), SM_GC_STABLE);
    /* inst-2 restarts within its session: new member id, same generation,
     * no rebalance, old assignment. */
    join(gc, 4, "g", "", "inst-2", 1, 0, NULL, 5000);
    flush(gc, SM_ERR_NONE, 5000);
    ck_assert(ans[4].answered);
    ck_assert_int_eq(ans[4].err, SM_ERR_NONE);
    ck_assert_int_eq(ans[4].generation, 1);
    ck_assert_str_ne(ans[4].member_id, s2);
    ck_assert_str_eq(ans[4].leader, leader);
    int32_t gen;
    ck_assert_int_eq(state_of(gc, "g", &gen, NULL), SM_GC_STABLE);
    ck_assert_int_eq(gen, 1);
    char n2[256];
    strcpy(n2, ans[4].member_id);
    sync_(gc, 5, "g", 1, n2, "inst-2", 0, NULL, NULL, 5000);
    ck_assert_str_eq(ans[5].assignment, "X2");
    /* The old incarnation is fenced. */
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(s2), SM_BYTES_STR("inst-2"), 5000),
                     SM_ERR_FENCED_INSTANCE_ID);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(n2), SM_BYTES_STR("inst-2"), 5000), SM_ERR_NONE);
    /* A static member that never comes back expires after its session. */
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(n2), SM_BYTES_STR("inst-2"), 14000), SM_ERR_NONE);
    sm_gc_tick(gc, 14000);             /* inst-1 silent since 0: session 10 s */
    int32_t n;
    ck_assert_int_eq(state_of(gc, "g", NULL, &n), SM_GC_PREPARING_REBALANCE);
    ck_assert_int_eq(n, 1);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_leave_group)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 0);
    int nbefore = nrecs;
    sm_leavegroup_member_t lm[2] = { { SM_BYTES_STR("nobody"), SM_BYTES_NULL }, { SM_BYTES_STR(m1), SM_BYTES_NULL } };
    int16_t errs[2];
    ck_assert_int_eq(sm_gc_leave(gc, SM_BYTES_STR("g"), 2, lm, errs, 10), SM_ERR_NONE);
    ck_assert_int_eq(errs[0], SM_ERR_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(errs[1], SM_ERR_NONE);
    int32_t gen, n;
    ck_assert_int_eq(state_of(gc, "g", &gen, &n), SM_GC_EMPTY);
    ck_assert_int_eq(gen, 2);
    ck_assert_int_eq(n, 0);
    /* The empty group was persisted (no members, null protocol). */
    ck_assert_int_eq(nrecs, nbefore + 1);
    sm_arena_t a;
    sm_arena_init(&a, 0);
    sm_reader_t rd;
    sm_group_metadata_value_t v;
    sm_reader_init(&rd, recs[nrecs - 1].value, (size_t)recs[nrecs - 1].vlen);
    ck_assert_int_eq(sm_group_decode_GroupMetadataValue(&rd, &a, &v), 0);
    ck_assert_int_eq(v.n_members, 0);
    ck_assert_int_eq(v.generation, 2);
    ck_assert_int_eq(v.protocol.len, -1);
    sm_arena_free(&a);
    ck_assert_int_eq(sm_gc_leave(gc, SM_BYTES_STR("nogroup"), 1, lm, errs, 10), SM_ERR_NONE);
    ck_assert_int_eq(errs[0], SM_ERR_UNKNOWN_MEMBER_ID);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_offsets)
{
    sm_gc_t *gc = new_gc(NULL);
    char big[5000];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sm_gc_offset_t o[2] = { { SM_BYTES_STR("t"), 0, 42, 3, SM_BYTES_STR("meta"), 1000, -1 },
                            { SM_BYTES_STR("t"), 1, 7, -1, SM_BYTES_STR(big), 1000, -1 } };
    /* A commit with a generation on an unknown group is stale. */
    sm_gc_commit(gc, SM_BYTES_STR("s"), 3, SM_BYTES_STR("m"), SM_BYTES_NULL, 2, o, W(1), 1000);
    ck_assert_int_eq(ans[1].errors[0], SM_ERR_ILLEGAL_GENERATION);
    /* A simple commit (generation -1) creates the group. */
    sm_gc_commit(gc, SM_BYTES_STR("s"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 2, o, W(2), 1000);
    ck_assert(!ans[2].answered);       /* answered from the append completion */
    sm_gc_offset_t got;
    ck_assert(!sm_gc_fetch_offset(gc, SM_BYTES_STR("s"), SM_BYTES_STR("t"), 0, &got));
    flush(gc, SM_ERR_NONE, 1000);
    ck_assert(ans[2].answered);
    ck_assert_int_eq(ans[2].errors[0], SM_ERR_NONE);
    ck_assert_int_eq(ans[2].errors[1], SM_ERR_OFFSET_METADATA_TOO_LARGE);
    ck_assert(sm_gc_fetch_offset(gc, SM_BYTES_STR("s"), SM_BYTES_STR("t"), 0, &got));
    ck_assert_int_eq(got.offset, 42);
    ck_assert_int_eq(got.leader_epoch, 3);
    ck_assert(sm_bytes_eq(got.metadata, "meta"));
    ck_assert(!sm_gc_fetch_offset(gc, SM_BYTES_STR("s"), SM_BYTES_STR("t"), 1, &got));
    ck_assert_int_eq(state_of(gc, "s", NULL, NULL), SM_GC_EMPTY);
    /* The record: OffsetCommitKey v1 + value v3. */
    rec_t *r = &recs[nrecs - 1];
    sm_reader_t rd;
    sm_group_key_t k;
    sm_reader_init(&rd, r->key, (size_t)r->klen);
    ck_assert_int_eq(sm_group_decode_key(&rd, &k), 0);
    ck_assert_int_eq(k.version, 1);
    ck_assert(sm_bytes_eq(k.group, "s") && sm_bytes_eq(k.topic, "t") && k.partition == 0);
    sm_offset_commit_value_t v;
    sm_reader_init(&rd, r->value, (size_t)r->vlen);
    ck_assert_int_eq(sm_group_decode_OffsetCommitValue(&rd, &v), 0);
    ck_assert_int_eq(v.version, 3);
    ck_assert_int_eq(v.offset, 42);
    /* A failed append maps to a coordinator error and changes nothing. */
    o[0].offset = 50;
    sm_gc_commit(gc, SM_BYTES_STR("s"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, o, W(3), 1000);
    flush(gc, SM_ERR_NOT_LEADER_OR_FOLLOWER, 1000);
    ck_assert_int_eq(ans[3].errors[0], SM_ERR_NOT_COORDINATOR);
    ck_assert(sm_gc_fetch_offset(gc, SM_BYTES_STR("s"), SM_BYTES_STR("t"), 0, &got));
    ck_assert_int_eq(got.offset, 42);
    /* OffsetDelete on an empty group. */
    sm_bytes_t topics[1] = { SM_BYTES_STR("t") };
    int32_t parts[1] = { 0 };
    int16_t errs[1];
    ck_assert_int_eq(sm_gc_delete_offsets(gc, SM_BYTES_STR("s"), 1, topics, parts, errs, 1000), SM_ERR_NONE);
    ck_assert_int_eq(errs[0], SM_ERR_NONE);
    ck_assert(!sm_gc_fetch_offset(gc, SM_BYTES_STR("s"), SM_BYTES_STR("t"), 0, &got));
    ck_assert_int_eq(recs[nrecs - 1].vlen, -1);    /* tombstone */
    ck_assert_int_eq(sm_gc_delete_offsets(gc, SM_BYTES_STR("none"), 1, topics, parts, errs, 1000), SM_ERR_GROUP_ID_NOT_FOUND);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_member_commit)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 0);
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 0, 9, -1, SM_BYTES_NULL, 0, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), 0, SM_BYTES_STR(m1), SM_BYTES_NULL, 1, &o, W(10), 0);
    ck_assert_int_eq(ans[10].errors[0], SM_ERR_ILLEGAL_GENERATION);
    sm_gc_commit(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR("x"), SM_BYTES_NULL, 1, &o, W(11), 0);
    ck_assert_int_eq(ans[11].errors[0], SM_ERR_UNKNOWN_MEMBER_ID);
    sm_gc_commit(gc, SM_BYTES_STR("g"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, &o, W(12), 0);
    ck_assert_int_eq(ans[12].errors[0], SM_ERR_UNKNOWN_MEMBER_ID);   /* not Empty */
    sm_gc_commit(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 1, &o, W(13), 0);
    flush(gc, SM_ERR_NONE, 0);
    ck_assert_int_eq(ans[13].errors[0], SM_ERR_NONE);
    /* OffsetDelete of a subscribed topic of an active consumer group: the
     * subscription here ("sub") is not a valid consumer protocol blob, so no
     * topic counts as subscribed. */
    ck_assert_int_eq(sm_gc_delete_group(gc, SM_BYTES_STR("g"), 0), SM_ERR_NON_EMPTY_GROUP);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_coordinator_state)
{
    sm_gc_config_t c;
    sm_gc_config_defaults(&c);
    c.num_partitions = 1;
    c.initial_rebalance_delay_ms = 0;
    sm_gc_ops_t ops = { f_join, f_sync, f_commit, f_append, NULL };
    memset(ans, 0, sizeof(ans));
    ntokens = 0;
    sm_gc_t *gc = sm_gc_new(&c, &ops);
    ck_assert_int_eq(sm_gc_check(gc, SM_BYTES_STR("g")), SM_ERR_NOT_COORDINATOR);
    join(gc, 1, "g", "", NULL, 0, 0, NULL, 0);
    ck_assert_int_eq(ans[1].err, SM_ERR_NOT_COORDINATOR);
    sm_gc_load_begin(gc, 0);
    ck_assert_int_eq(sm_gc_heartbeat(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR("m"), SM_BYTES_NULL, 0),
                     SM_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    sm_gc_load_end(gc, 0, 0);
    join(gc, 2, "g", "", NULL, 0, 0, NULL, 0);
    ck_assert(!ans[2].answered);
    /* Losing leadership answers parked requests. */
    sm_gc_unload(gc, 0);
    ck_assert(ans[2].answered);
    ck_assert_int_eq(ans[2].err, SM_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(state_of(gc, "g", NULL, NULL), -1);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_describe_list_delete)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 0);
    sm_arena_t a;
    sm_arena_init(&a, 0);
    sm_describegroups_group_t d;
    sm_gc_describe(gc, SM_BYTES_STR("g"), &a, &d);
    ck_assert_int_eq(d.error_code, 0);
    ck_assert(sm_bytes_eq(d.group_state, "Stable"));
    ck_assert(sm_bytes_eq(d.protocol_type, "consumer"));
    ck_assert(sm_bytes_eq(d.protocol_data, "range"));
    ck_assert_int_eq(d.n_members, 1);
    ck_assert(sm_bytes_eq(d.members[0].member_id, m1));
    ck_assert(sm_bytes_eq(d.members[0].client_host, "/127.0.0.1"));
    ck_assert(sm_bytes_eq(d.members[0].member_metadata, "sub"));
    ck_assert(sm_bytes_eq(d.members[0].member_assignment, "A0"));
    sm_gc_describe(gc, SM_BYTES_STR("unknown"), &a, &d);
    ck_assert(sm_bytes_eq(d.group_state, "Dead"));
    ck_assert_int_eq(d.n_members, 0);
    sm_arena_free(&a);
    ck_assert_int_eq(sm_gc_delete_group(gc, SM_BYTES_STR("g"), 0), SM_ERR_NON_EMPTY_GROUP);
    ck_assert_int_eq(sm_gc_delete_group(gc, SM_BYTES_STR("x"), 0), SM_ERR_GROUP_ID_NOT_FOUND);
    sm_leavegroup_member_t lm = { SM_BYTES_STR(m1), SM_BYTES_NULL };
    int16_t e;
    sm_gc_leave(gc, SM_BYTES_STR("g"), 1, &lm, &e, 0);
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 0, 9, -1, SM_BYTES_NULL, 0, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, &o, W(20), 0);
    flush(gc, SM_ERR_NONE, 0);
    int before = nrecs;
    ck_assert_int_eq(sm_gc_delete_group(gc, SM_BYTES_STR("g"), 0), SM_ERR_NONE);
    ck_assert_int_eq(nrecs, before + 2);               /* offset + group tombstones */
    ck_assert_int_eq(recs[nrecs - 1].vlen, -1);
    ck_assert_int_eq(recs[nrecs - 2].vlen, -1);
    ck_assert_int_eq(state_of(gc, "g", NULL, NULL), -1);
    sm_gc_free(gc);
}
END_TEST

static int nlisted;
static void count_list(void *arg, sm_bytes_t g, sm_bytes_t t) { nlisted++; }

START_TEST(test_replay_and_expiry)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 0);
    sm_gc_offset_t o[2] = { { SM_BYTES_STR("t"), 0, 11, -1, SM_BYTES_STR("x"), 100, -1 },
                            { SM_BYTES_STR("u"), 3, 12, -1, SM_BYTES_NULL, 100, -1 } };
    sm_gc_commit(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 2, o, W(30), 100);
    sm_gc_commit(gc, SM_BYTES_STR("simple"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, o, W(31), 100);
    flush(gc, SM_ERR_NONE, 100);
    sm_gc_offset_t del = { SM_BYTES_STR("u"), 3, 0, -1, SM_BYTES_NULL, 0, -1 };
    (void)del;
    sm_gc_free(gc);

    /* A new coordinator replays the records (as after a restart). */
    sm_gc_config_t c;
    sm_gc_config_defaults(&c);
    c.num_partitions = 4;
    c.initial_rebalance_delay_ms = 0;
    sm_gc_ops_t ops = { f_join, f_sync, f_commit, f_append, NULL };
    sm_gc_t *g2 = sm_gc_new(&c, &ops);
    for (int32_t p = 0; p < 4; p++) sm_gc_load_begin(g2, p);
    ck_assert_int_eq(sm_gc_list(g2, count_list, NULL), SM_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    for (int i = 0; i < nrecs; i++)
        ck_assert_int_eq(sm_gc_load_record(g2, recs[i].partition, (sm_bytes_t){ recs[i].klen, recs[i].key },
                                           (sm_bytes_t){ recs[i].vlen, recs[i].value }, 200), 0);
    for (int32_t p = 0; p < 4; p++) sm_gc_load_end(g2, p, 200);
    nlisted = 0;
    ck_assert_int_eq(sm_gc_list(g2, count_list, NULL), SM_ERR_NONE);
    ck_assert_int_eq(nlisted, 2);
    int32_t gen, n;
    ck_assert_int_eq(state_of(g2, "g", &gen, &n), SM_GC_STABLE);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(n, 1);
    sm_gc_offset_t got;
    ck_assert(sm_gc_fetch_offset(g2, SM_BYTES_STR("g"), SM_BYTES_STR("u"), 3, &got));
    ck_assert_int_eq(got.offset, 12);
    ck_assert(sm_gc_fetch_offset(g2, SM_BYTES_STR("simple"), SM_BYTES_STR("t"), 0, &got));
    ck_assert_int_eq(got.offset, 11);
    ck_assert(sm_bytes_eq(got.metadata, "x"));
    /* The loaded member can heartbeat and sync with its assignment. */
    ck_assert_int_eq(sm_gc_heartbeat(g2, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 300), SM_ERR_NONE);
    sync_(g2, 32, "g", 1, m1, NULL, 0, NULL, NULL, 300);
    ck_assert_str_eq(ans[32].assignment, "A0");
    /* A silent loaded member expires; then offsets expire after the retention
     * counted from the moment the group became Empty. */
    sm_gc_tick(g2, 20000);
    ck_assert_int_eq(state_of(g2, "g", NULL, &n), SM_GC_EMPTY);
    int64_t week = 10080LL * 60000;
    sm_gc_tick(g2, 20000 + 600000);
    ck_assert(sm_gc_fetch_offset(g2, SM_BYTES_STR("g"), SM_BYTES_STR("u"), 3, &got));
    int before = nrecs;
    sm_gc_tick(g2, 20000 + week + 1200000);
    ck_assert(!sm_gc_fetch_offset(g2, SM_BYTES_STR("g"), SM_BYTES_STR("u"), 3, &got));
    ck_assert_int_eq(state_of(g2, "g", NULL, NULL), -1);
    ck_assert_int_eq(state_of(g2, "simple", NULL, NULL), -1);
    ck_assert_int_ge(nrecs, before + 5);   /* 3 offset + 2 group tombstones */
    /* Replaying tombstones removes what they cover. */
    sm_gc_t *g3 = sm_gc_new(&c, &ops);
    for (int32_t p = 0; p < 4; p++) sm_gc_load_begin(g3, p);
    for (int i = 0; i < nrecs; i++)
        sm_gc_load_record(g3, recs[i].partition, (sm_bytes_t){ recs[i].klen, recs[i].key },
                          (sm_bytes_t){ recs[i].vlen, recs[i].value }, 200);
    for (int32_t p = 0; p < 4; p++) sm_gc_load_end(g3, p, 200);
    ck_assert_int_eq(state_of(g3, "g", NULL, NULL), -1);
    ck_assert(!sm_gc_fetch_offset(g3, SM_BYTES_STR("simple"), SM_BYTES_STR("t"), 0, &got));
    sm_gc_free(g3);
    sm_gc_free(g2);
}
END_TEST

START_TEST(test_load_truncated_records)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 0);
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 0, 9, -1, SM_BYTES_STR("meta"), 0, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 1, &o, W(5), 0);
    flush(gc, SM_ERR_NONE, 0);
    int n = nrecs;
    sm_gc_t *g2 = sm_gc_new(&(sm_gc_config_t){ .num_partitions = 4, .min_session_timeout_ms = 1,
                                                .max_session_timeout_ms = 100000, .max_size = 10 },
                            &(sm_gc_ops_t){ f_join, f_sync, f_commit, f_append, NULL });
    for (int32_t p = 0; p < 4; p++) sm_gc_load_begin(g2, p);
    for (int i = 0; i < n; i++) {
        for (int32_t cut = 0; cut < recs[i].klen; cut++)
            ck_assert_int_eq(sm_gc_load_record(g2, recs[i].partition, (sm_bytes_t){ cut, recs[i].key },
                                               (sm_bytes_t){ recs[i].vlen, recs[i].value }, 0), -1);
        for (int32_t cut = 0; cut < recs[i].vlen; cut++)
            sm_gc_load_record(g2, recs[i].partition, (sm_bytes_t){ recs[i].klen, recs[i].key },
                              (sm_bytes_t){ cut, recs[i].value }, 0);
    }
    for (int32_t p = 0; p < 4; p++) sm_gc_load_end(g2, p, 0);
    sm_gc_free(g2);
    sm_gc_free(gc);
}
END_TEST

START_TEST(test_replay_from_log)
{
    sm_gc_t *gc = new_gc(NULL);
    char m1[256];
    one_member_stable(gc, "g", m1, 0);
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 2, 77, 4, SM_BYTES_STR("md"), 0, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), 1, SM_BYTES_STR(m1), SM_BYTES_NULL, 1, &o, W(40), 0);
    flush(gc, SM_ERR_NONE, 0);
    int32_t part = sm_gc_partition_for_n(SM_BYTES_STR("g"), 4);
    char tmpl[64];
    char *dir = sm_test_mkdtemp(tmpl, sizeof(tmpl), "check_group_");
    sm_log_config_t lc;
    sm_log_config_defaults(&lc);
    char err[256];
    sm_plog_t *log = sm_plog_open(dir, SM_GC_OFFSETS_TOPIC, part, &lc, 0, 0, 0, err, sizeof(err));
    ck_assert_ptr_nonnull(log);
    /* One batch per record, as the coordinator appends them. */
    for (int i = 0; i < nrecs; i++) {
        ck_assert_int_eq(recs[i].partition, part);
        sm_record_spec_t spec = { 0 };
        spec.key = (sm_bytes_t){ recs[i].klen, recs[i].key };
        spec.value = (sm_bytes_t){ recs[i].vlen, recs[i].value };
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        ck_assert_int_eq(sm_batch_build(&w, 0, i % 2 ? SM_CODEC_GZIP : SM_CODEC_NONE, &spec, 1), SM_ERR_NONE);
        sm_append_info_t info;
        ck_assert_int_eq(sm_plog_append(log, w.data, w.len, 0, 1, &info), SM_ERR_NONE);
        sm_wbuf_free(&w);
    }
    sm_plog_set_high_watermark(log, sm_plog_log_end_offset(log));
    sm_gc_t *g2 = sm_gc_new(&(sm_gc_config_t){ .num_partitions = 4, .min_session_timeout_ms = 1,
                                                .max_session_timeout_ms = 100000, .max_size = 10 },
                            &(sm_gc_ops_t){ f_join, f_sync, f_commit, f_append, NULL });
    sm_gc_load_begin(g2, part);
    ck_assert_int_eq(sm_gcoord_replay_log(g2, part, log, 0), nrecs);
    sm_gc_load_end(g2, part, 0);
    int32_t gen;
    ck_assert_int_eq(state_of(g2, "g", &gen, NULL), SM_GC_STABLE);
    ck_assert_int_eq(gen, 1);
    sm_gc_offset_t got;
    ck_assert(sm_gc_fetch_offset(g2, SM_BYTES_STR("g"), SM_BYTES_STR("t"), 2, &got));
    ck_assert_int_eq(got.offset, 77);
    ck_assert_int_eq(got.leader_epoch, 4);
    ck_assert(sm_bytes_eq(got.metadata, "md"));
    sm_gc_free(g2);
    sm_plog_close(log);
    ck_assert_int_eq(sm_rmtree(dir), 0);
    sm_gc_free(gc);
}
END_TEST

/* A commit completion arriving after its partition was unloaded and
 * reloaded (leadership away and back) must not touch the reloaded group. */
START_TEST(test_stale_completion_after_reload)
{
    sm_gc_t *gc = new_gc(NULL);
    int32_t part = sm_gc_partition_for_n(SM_BYTES_STR("g"), 4);
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 0, 5, -1, SM_BYTES_NULL, 0, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, &o, W(41), 0);
    ck_assert_int_eq(ntokens, 1);
    sm_gc_unload(gc, part);
    sm_gc_load_begin(gc, part);
    sm_gc_load_end(gc, part, 0);
    o.offset = 9;
    sm_gc_commit(gc, SM_BYTES_STR("g"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, &o, W(42), 0);
    ck_assert_int_eq(ntokens, 2);
    /* The new commit completes first, then the stale one. */
    sm_gc_append_done(gc, tokens[1], SM_ERR_NONE, 0);
    sm_gc_append_done(gc, tokens[0], SM_ERR_NONE, 0);
    ntokens = 0;
    ck_assert_int_eq(ans[41].answered, 1);
    ck_assert_int_eq(ans[42].answered, 1);
    ck_assert_int_eq(ans[42].errors[0], SM_ERR_NONE);
    sm_gc_offset_t got;
    ck_assert(sm_gc_fetch_offset(gc, SM_BYTES_STR("g"), SM_BYTES_STR("t"), 0, &got));
    ck_assert_int_eq(got.offset, 9);
    sm_gc_free(gc);
}
END_TEST

/* ---- the runtime on a real replica manager ---- */

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_cond = PTHREAD_COND_INITIALIZER;
static int rt_commits, rt_barriers;
static int16_t rt_err;
static sm_gcoord_t *rt_co;

static void rt_join(void *w, const sm_gc_join_result_t *r) { ck_abort_msg("unexpected join answer"); }
static void rt_sync(void *w, sm_err_t e, sm_bytes_t a) { ck_abort_msg("unexpected sync answer"); }

static void
rt_commit(void *w, const int16_t *errors, int32_t n)
{
    ck_assert_int_eq(n, 1);
    pthread_mutex_lock(&rt_lock);
    rt_commits++;
    rt_err = errors[0];
    pthread_cond_broadcast(&rt_cond);
    pthread_mutex_unlock(&rt_lock);
}

/* The replica manager's "HW moved" notification, as sm_repl_data_changed. */
static void rt_data(void *arg) { sm_gcoord_data_changed(rt_co); }

static void
rt_topic_cfg(void *arg, const char *topic, sm_log_config_t *out, int32_t *min_isr)
{
    sm_log_config_defaults(out);
    *min_isr = 1;
}

static void
rt_barrier_fn(sm_gc_t *gc, void *arg)
{
    pthread_mutex_lock(&rt_lock);
    rt_barriers++;
    pthread_cond_broadcast(&rt_cond);
    pthread_mutex_unlock(&rt_lock);
}

/* Wait until *counter reaches want (generous deadline: not a timing test). */
static int
rt_wait(int *counter, int want)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    pthread_mutex_lock(&rt_lock);
    int rc = 0;
    while (*counter < want && rc == 0) rc = pthread_cond_timedwait(&rt_cond, &rt_lock, &ts);
    int got = *counter;
    pthread_mutex_unlock(&rt_lock);
    return got;
}

/* Everything posted to the coordinator so far has run, and so have the
 * events those posted (append completions): two round trips. */
static void
rt_drain(void)
{
    for (int i = 0; i < 2; i++) {
        int want = rt_barriers + 1;
        sm_gcoord_post(rt_co, rt_barrier_fn, NULL);
        ck_assert_int_eq(rt_wait(&rt_barriers, want), want);
    }
}

static void
rt_do_commit(sm_gc_t *gc, void *arg)
{
    sm_gc_offset_t o = { SM_BYTES_STR("t"), 3, (int64_t)(intptr_t)arg, -1, SM_BYTES_NULL, 0, -1 };
    sm_gc_commit(gc, SM_BYTES_STR("g"), -1, SM_BYTES_STR(""), SM_BYTES_NULL, 1, &o, W(1), sm_now_ms());
}

static int64_t rt_fetched;
static sm_err_t rt_check;

static void
rt_do_fetch(sm_gc_t *gc, void *arg)
{
    sm_gc_offset_t o;
    rt_check = sm_gc_check(gc, SM_BYTES_STR("g"));
    rt_fetched = sm_gc_fetch_offset(gc, SM_BYTES_STR("g"), SM_BYTES_STR("t"), 3, &o) ? o.offset : -1;
}

static void
rt_fetch(sm_err_t *check, int64_t *offset)
{
    sm_gcoord_post(rt_co, rt_do_fetch, NULL);
    rt_drain();
    *check = rt_check;
    *offset = rt_fetched;
}

static void
rt_become(sm_replica_mgr_t *rm, int32_t leader, int32_t epoch, const int32_t *isr, int32_t nisr)
{
    static const int32_t replicas[] = { 1, 2 };
    sm_replica_state_t st = { SM_GC_OFFSETS_TOPIC, 0, 1, leader, epoch, nisr, isr, 2, replicas, epoch, 0 };
    sm_err_t err;
    sm_replica_leader_and_isr(rm, 1, &st, 1, &err);
    ck_assert_int_eq(err, SM_ERR_NONE);
}

START_TEST(test_runtime_isr_and_failover)
{
    char dir[64];
    sm_test_mkdtemp(dir, sizeof(dir), "check_group_rt_");
    char *dirs[1] = { dir };
    sm_logmgr_config_t m;
    memset(&m, 0, sizeof(m));
    m.dirs = dirs;
    m.ndirs = 1;
    m.broker_id = 1;
    m.cluster_id = "abcdefghijklmnopqrstuv";
    m.recovery_threads = 1;
    m.retention_check_interval_ms = 300000;
    m.flush_scheduler_interval_ms = 1000;
    m.checkpoint_interval_ms = 60000;
    sm_log_config_defaults(&m.defaults);
    char err[256];
    sm_logmgr_t *logs = sm_logmgr_open(&m, err, sizeof(err));
    ck_assert_msg(logs != NULL, "%s", err);
    sm_replica_mgr_t *rm = sm_replica_mgr_new(1, logs, rt_topic_cfg, rt_data, NULL);
    static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 };
    rt_become(rm, 1, 0, isr12, 2);

    sm_gc_config_t cfg;
    sm_gc_config_defaults(&cfg);
    cfg.broker_id = 1;
    cfg.num_partitions = 1;
    cfg.commit_timeout_ms = 600000;      /* only the ISR may answer */
    rt_commits = 0;
    rt_co = sm_gcoord_start(&cfg, rm, &(sm_gcoord_cb_t){ rt_join, rt_sync, rt_commit });
    sm_err_t check;
    int64_t off;
    rt_fetch(&check, &off);
    ck_assert_int_eq(check, SM_ERR_NONE);      /* loaded at start-up: leader */
    ck_assert_int_eq(off, -1);

    /* A commit waits for follower 2 (acks=-1 over ISR {1,2}). */
    sm_gcoord_post(rt_co, rt_do_commit, (void *)(intptr_t)42);
    rt_drain();
    ck_assert_int_eq(rt_commits, 0);
    rt_fetch(&check, &off);
    ck_assert_int_eq(off, -1);                 /* not visible before it is answered */
    sm_partition_t *p = sm_replica_get(rm, SM_GC_OFFSETS_TOPIC, strlen(SM_GC_OFFSETS_TOPIC), 0);
    ck_assert_ptr_nonnull(p);
    int64_t leo = sm_plog_log_end_offset(p->log);
    ck_assert_int_ge(leo, 1);
    sm_replica_update_follower(rm, p, 2, leo - 1);
    rt_drain();
    ck_assert_int_eq(rt_commits, 0);           /* HW still short of the commit */
    /* The follower's fetch moves the HW; its notification completes it. */
    sm_replica_update_follower(rm, p, 2, leo);
    ck_assert_int_eq(rt_wait(&rt_commits, 1), 1);
    ck_assert_int_eq(rt_err, SM_ERR_NONE);
    rt_fetch(&check, &off);
    ck_assert_int_eq(off, 42);

    /* Leadership moves to broker 2: NOT_COORDINATOR, offsets unloaded. */
    rt_become(rm, 2, 1, isr12, 2);
    rt_fetch(&check, &off);
    ck_assert_int_eq(check, SM_ERR_NOT_COORDINATOR);
    ck_assert_int_eq(off, -1);
    sm_gcoord_post(rt_co, rt_do_commit, (void *)(intptr_t)7);
    ck_assert_int_eq(rt_wait(&rt_commits, 2), 2);
    ck_assert_int_eq(rt_err, SM_ERR_NOT_COORDINATOR);

    /* Back as leader: the offset comes back from the log. */
    rt_become(rm, 1, 2, isr12, 2);
    rt_fetch(&check, &off);
    ck_assert_int_eq(check, SM_ERR_NONE);
    ck_assert_int_eq(off, 42);

    /* A commit waiting for the ISR when leadership is lost: NOT_COORDINATOR
     * (the client retries on the new coordinator), never success. */
    sm_gcoord_post(rt_co, rt_do_commit, (void *)(intptr_t)50);
    rt_drain();
    ck_assert_int_eq(rt_commits, 2);
    rt_become(rm, 2, 3, isr12, 2);
    ck_assert_int_eq(rt_wait(&rt_commits, 3), 3);
    ck_assert_int_eq(rt_err, SM_ERR_NOT_COORDINATOR);

    /* A leader-only ISR answers at once (from a later event). */
    rt_become(rm, 1, 4, isr1, 1);
    rt_fetch(&check, &off);
    ck_assert_int_eq(check, SM_ERR_NONE);
    sm_gcoord_post(rt_co, rt_do_commit, (void *)(intptr_t)60);
    ck_assert_int_eq(rt_wait(&rt_commits, 4), 4);
    ck_assert_int_eq(rt_err, SM_ERR_NONE);
    rt_fetch(&check, &off);
    ck_assert_int_eq(off, 60);

    sm_partition_unref(p);
    sm_gcoord_t *co = rt_co;
    sm_gcoord_stop(co);
    rt_co = NULL;
    sm_replica_mgr_free(rm);
    sm_logmgr_shutdown(logs);
    ck_assert_int_eq(sm_rmtree(dir), 0);
}
END_TEST

static Suite *
group_suite(void)
{
    Suite *s = suite_create("group");
    TCase *tc = tcase_create("coordinator");
    tcase_add_test(tc, test_partition_for);
    tcase_add_test(tc, test_join_sync_heartbeat);
    tcase_add_test(tc, test_join_errors);
    tcase_add_test(tc, test_protocol_votes);
    tcase_add_test(tc, test_rebalance_and_fencing);
    tcase_add_test(tc, test_rebalance_timeout_drops_laggards);
    tcase_add_test(tc, test_initial_delay);
    tcase_add_test(tc, test_static_member_restart);
    tcase_add_test(tc, test_leave_group);
    tcase_add_test(tc, test_offsets);
    tcase_add_test(tc, test_member_commit);
    tcase_add_test(tc, test_coordinator_state);
    tcase_add_test(tc, test_describe_list_delete);
    tcase_add_test(tc, test_replay_and_expiry);
    tcase_add_test(tc, test_load_truncated_records);
    tcase_add_test(tc, test_replay_from_log);
    tcase_add_test(tc, test_stale_completion_after_reload);
    tcase_add_test(tc, test_runtime_isr_and_failover);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    sm_log_level = SM_LOG_ERROR;
    return sm_test_run(group_suite());
}

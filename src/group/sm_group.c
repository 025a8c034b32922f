/*
 * sm_group.c - the group coordinator core (see sm_group.h): groups and
 * members, the rebalance protocol with its timers, committed offsets, and
 * their __consumer_offsets records (written on commit, SyncGroup, emptying
 * and deletion; replayed on load).
 *
 * Semantics follow Kafka 2.8's GroupCoordinator / GroupMetadata /
 * GroupMetadataManager. Timers are deadlines checked by sm_gc_tick(), so a
 * fake clock drives the whole state machine in unit tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "group/sm_group.h"
#include "proto/sm_group_records.h"

#define LOGGER "samsa.coordinator.group"

enum { PART_NOT_OWNED = 0, PART_LOADING, PART_ACTIVE };

typedef struct {
    char *name;
    uint8_t *meta;
    int32_t meta_len;
} proto_t;

typedef struct member_s {
    char *id, *instance_id, *client_id, *client_host;
    int32_t session_timeout, rebalance_timeout;
    int32_t nprotos;
    proto_t *protos;
    uint8_t *assignment;
    int32_t assignment_len;
    void *join_waiter, *sync_waiter;
    int64_t deadline;                /* session expiry unless awaiting join/sync */
    struct member_s *next;           /* join order */
} member_t;

typedef struct pending_s {
    char *id;
    int64_t deadline;
    struct pending_s *next;
} pending_t;

typedef struct goff_s {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts, expire_ts;
    struct goff_s *next;
} goff_t;

typedef struct group_s {
    char *id;
    int32_t partition;
    sm_gc_state_t state;
    int64_t state_ts;
    char *protocol_type, *protocol, *leader;
    int32_t generation;
    member_t *members;
    int nmembers;
    pending_t *pending;
    int npending;
    int64_t join_deadline;
    int join_timer;                  /* join_deadline is armed */
    int initial_join, new_member_added;
    int64_t initial_remaining;
    goff_t **obuckets;
    uint32_t onb, noffsets;
    int pending_commits;
    uint64_t incarnation;            /* unique per group object (see token_t) */
    struct group_s *next;
} group_t;

struct sm_gc_s {
    sm_gc_config_t cfg;
    sm_gc_ops_t ops;
    group_t **buckets;
    uint32_t nb, ngroups;
    uint8_t *pstate;
    uint64_t incarnations;           /* last group_t.incarnation handed out */
    int64_t next_expiry_check;
    uint64_t rng;
    sm_wbuf_t scratch;               /* record encoding */
    sm_arena_t arena;                /* per-call temporaries */
};

enum { TOK_COMMIT, TOK_SYNC, TOK_STATIC_JOIN };

typedef struct {
    int kind;
    char *group;
    /* The group object the append was for: a completion arriving after the
     * group was unloaded and reloaded (leadership moved away and back) or
     * deleted and re-created must not touch the new object. */
    uint64_t incarnation;
    int32_t generation;
    void *waiter;
    char *member_id;
    char *leader;                    /* TOK_STATIC_JOIN: leader id to report */
    int32_t n;
    sm_gc_offset_t *offs;            /* TOK_COMMIT: heap copies */
    int16_t *errors;
    uint8_t *included;
} token_t;

static const char *state_names[] = { "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead" };

const char *
sm_gc_state_name(sm_gc_state_t s)
{
    return (unsigned)s < SM_ARRAY_SIZE(state_names) ? state_names[s] : "Unknown";
}

void
sm_gc_config_defaults(sm_gc_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->num_partitions = 50;
    c->min_session_timeout_ms = 6000;
    c->max_session_timeout_ms = 1800000;
    c->max_size = INT32_MAX;
    c->initial_rebalance_delay_ms = 3000;
    c->offsets_retention_ms = 10080LL * 60000;
    c->offsets_retention_check_interval_ms = 600000;
    c->offset_metadata_max_bytes = 4096;
    c->commit_timeout_ms = 5000;
    c->commit_required_acks = -1;
}

/* ---- small helpers ---- */

static char *
bdup(sm_bytes_t b)
{
    return b.len < 0 ? NULL : sm_strndup(b.ptr ? (const char *)b.ptr : "", (size_t)b.len);
}

static uint8_t *
bdup_raw(sm_bytes_t b, int32_t *len)
{
    *len = b.len < 0 ? 0 : b.len;
    uint8_t *p = sm_malloc((size_t)*len + 1);
    if (*len) memcpy(p, b.ptr, (size_t)*len);
    return p;
}

static int
beq(sm_bytes_t b, const char *s)
{
    if (!s) return b.len < 0;
    return b.len >= 0 && strlen(s) == (size_t)b.len && (b.len == 0 || !memcmp(b.ptr, s, (size_t)b.len));
}

static sm_bytes_t
cb(const char *s)
{
    return s ? SM_BYTES_STR(s) : SM_BYTES_NULL;
}

static uint32_t
hash_bytes(const void *p, size_t n, uint32_t h)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 16777619u; }
    return h;
}

static uint64_t
rng_next(sm_gc_t *gc)
{
    uint64_t x = gc->rng;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    gc->rng = x;
    return x * 2685821657736338717ULL;
}

/* prefix + "-" + a random UUID in Java's text form (generateMemberId). */
static char *
new_member_id(sm_gc_t *gc, sm_bytes_t prefix)
{
    uint8_t u[16];
    uint64_t a = rng_next(gc), b = rng_next(gc);
    memcpy(u, &a, 8);
    memcpy(u + 8, &b, 8);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    char hex[37];
    snprintf(hex, sizeof(hex), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
             u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return sm_asprintf("%.*s-%s", prefix.len > 0 ? prefix.len : 0, prefix.len > 0 ? (const char *)prefix.ptr : "", hex);
}

int32_t
sm_gc_partition_for_n(sm_bytes_t group, int32_t n)
{
    int32_t h = sm_java_string_hash(group.len > 0 ? (const char *)group.ptr : "", group.len > 0 ? (size_t)group.len : 0);
    /* Utils.abs: Integer.MIN_VALUE maps to 0. */
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return n > 0 ? a % n : 0;
}

int32_t
sm_gc_partition_for(const sm_gc_t *gc, sm_bytes_t group)
{
    return sm_gc_partition_for_n(group, gc->cfg.num_partitions);
}

/* Map an append failure to what a client should see (storeOffsets). */
static sm_err_t
map_append_error(sm_err_t err)
{
    switch ((int)err) {
    case SM_ERR_NONE: return SM_ERR_NONE;
    case SM_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case SM_ERR_NOT_ENOUGH_REPLICAS:
    case SM_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case SM_ERR_REQUEST_TIMED_OUT: return SM_ERR_COORDINATOR_NOT_AVAILABLE;
    case SM_ERR_NOT_LEADER_OR_FOLLOWER:
    case SM_ERR_KAFKA_STORAGE_ERROR: return SM_ERR_NOT_COORDINATOR;
    case SM_ERR_MESSAGE_TOO_LARGE:
    case SM_ERR_RECORD_LIST_TOO_LARGE:
    case SM_ERR_INVALID_FETCH_SIZE: return SM_ERR_INVALID_COMMIT_OFFSET_SIZE;
    default: return err < 0 ? SM_ERR_UNKNOWN_SERVER_ERROR : err;
    }
}

/* ---- groups table ---- */

static group_t **
group_slot(sm_gc_t *gc, const char *id, size_t len)
{
    group_t **pp = &gc->buckets[hash_bytes(id, len, 2166136261u) & (gc->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if (strlen((*pp)->id) == len && !memcmp((*pp)->id, id, len)) break;
    return pp;
}

static group_t *
group_get(sm_gc_t *gc, sm_bytes_t id)
{
    if (id.len < 0) return NULL;
    return *group_slot(gc, id.ptr ? (const char *)id.ptr : "", (size_t)id.len);
}

static void
groups_grow(sm_gc_t *gc)
{
    uint32_t nb = gc->nb * 2;
    group_t **nbk = sm_calloc(nb, sizeof(*nbk));
    for (uint32_t i = 0; i < gc->nb; i++) {
        group_t *g = gc->buckets[i];
        while (g) {
            group_t *next = g->next;
            uint32_t b = hash_bytes(g->id, strlen(g->id), 2166136261u) & (nb - 1);
            g->next = nbk[b];
            nbk[b] = g;
            g = next;
        }
    }
    free(gc->buckets);
    gc->buckets = nbk;
    gc->nb = nb;
}

static group_t *
group_create(sm_gc_t *gc, sm_bytes_t id, int64_t now)
{
    if (gc->ngroups >= gc->nb * 2) groups_grow(gc);
    group_t *g = sm_calloc(1, sizeof(*g));
    g->id = bdup(id);
    g->partition = sm_gc_partition_for(gc, id);
    g->state = SM_GC_EMPTY;
    g->state_ts = now;
    g->incarnation = ++gc->incarnations;
    g->onb = 16;
    g->obuckets = sm_calloc(g->onb, sizeof(*g->obuckets));
    group_t **slot = group_slot(gc, g->id, (size_t)id.len);
    *slot = g;
    gc->ngroups++;
    return g;
}

static void
protos_free(member_t *m)
{
    for (int32_t i = 0; i < m->nprotos; i++) { free(m->protos[i].name); free(m->protos[i].meta); }
    free(m->protos);
    m->protos = NULL;
    m->nprotos = 0;
}

static void
protos_set(member_t *m, int32_t n, const sm_joingroup_protocol_t *p)
{
    protos_free(m);
    m->nprotos = n;
    m->protos = sm_calloc((size_t)(n ? n : 1), sizeof(proto_t));
    for (int32_t i = 0; i < n; i++) {
        m->protos[i].name = bdup(p[i].name);
        if (!m->protos[i].name) m->protos[i].name = sm_strdup("");
        m->protos[i].meta = bdup_raw(p[i].metadata, &m->protos[i].meta_len);
    }
}

static void
member_free(member_t *m)
{
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    protos_free(m);
    free(m->assignment);
    free(m);
}

static member_t *
member_find(group_t *g, sm_bytes_t id)
{
    for (member_t *m = g->members; m; m = m->next)
        if (beq(id, m->id)) return m;
    return NULL;
}

static member_t *
member_find_static(group_t *g, sm_bytes_t instance)
{
    if (instance.len < 0) return NULL;
    for (member_t *m = g->members; m; m = m->next)
        if (m->instance_id && beq(instance, m->instance_id)) return m;
    return NULL;
}

/* Kafka's isStaticMemberFenced: the instance id belongs to another member. */
static int
is_fenced(group_t *g, sm_bytes_t member_id, sm_bytes_t instance)
{
    member_t *s = member_find_static(g, instance);
    return s && !beq(member_id, s->id);
}

static pending_t **
pending_find(group_t *g, sm_bytes_t id)
{
    pending_t **pp = &g->pending;
    for (; *pp; pp = &(*pp)->next)
        if (beq(id, (*pp)->id)) break;
    return pp;
}

static void
set_str(char **dst, const char *src)
{
    char *c = src ? sm_strdup(src) : NULL;
    free(*dst);
    *dst = c;
}

/* ---- offsets table of a group ---- */

static uint32_t
off_hash(const char *topic, size_t len, int32_t partition)
{
    return hash_bytes(&partition, sizeof(partition), hash_bytes(topic, len, 2166136261u));
}

static goff_t **
off_slot(group_t *g, const char *topic, size_t len, int32_t partition)
{
    goff_t **pp = &g->obuckets[off_hash(topic, len, partition) & (g->onb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->partition == partition && strlen((*pp)->topic) == len && !memcmp((*pp)->topic, topic, len)) break;
    return pp;
}

static void
off_grow(group_t *g)
{
    uint32_t nb = g->onb * 2;
    goff_t **nbk = sm_calloc(nb, sizeof(*nbk));
    for (uint32_t i = 0; i < g->onb; i++) {
        goff_t *o = g->obuckets[i];
        while (o) {
            goff_t *next = o->next;
            uint32_t b = off_hash(o->topic, strlen(o->topic), o->partition) & (nb - 1);
            o->next = nbk[b];
            nbk[b] = o;
            o = next;
        }
    }
    free(g->obuckets);
    g->obuckets = nbk;
    g->onb = nb;
}

static void
off_free(goff_t *o)
{
    free(o->topic);
    free(o->metadata);
    free(o);
}

static void
off_put(group_t *g, sm_bytes_t topic, int32_t partition, int64_t offset, int32_t epoch, sm_bytes_t metadata,
        int64_t commit_ts, int64_t expire_ts)
{
    const char *t = topic.len > 0 ? (const char *)topic.ptr : "";
    size_t tl = topic.len > 0 ? (size_t)topic.len : 0;
    goff_t **pp = off_slot(g, t, tl, partition);
    goff_t *o = *pp;
    if (!o) {
        if (g->noffsets >= g->onb * 2) { off_grow(g); pp = off_slot(g, t, tl, partition); }
        o = sm_calloc(1, sizeof(*o));
        o->topic = sm_strndup(t, tl);
        o->partition = partition;
        *pp = o;
        g->noffsets++;
    }
    o->offset = offset;
    o->leader_epoch = epoch;
    free(o->metadata);
    o->metadata = metadata.len > 0 ? bdup(metadata) : sm_strdup("");
    o->commit_ts = commit_ts;
    o->expire_ts = expire_ts;
}

/* Remove one offset; 1 if it existed. */
static int
off_del(group_t *g, sm_bytes_t topic, int32_t partition)
{
    goff_t **pp = off_slot(g, topic.len > 0 ? (const char *)topic.ptr : "", topic.len > 0 ? (size_t)topic.len : 0, partition);
    goff_t *o = *pp;
    if (!o) return 0;
    *pp = o->next;
    off_free(o);
    g->noffsets--;
    return 1;
}

static void
off_fill(const goff_t *o, sm_gc_offset_t *out)
{
    out->topic = SM_BYTES_STR(o->topic);
    out->partition = o->partition;
    out->offset = o->offset;
    out->leader_epoch = o->leader_epoch;
    out->metadata = SM_BYTES_STR(o->metadata);
    out->commit_timestamp = o->commit_ts;
    out->expire_timestamp = o->expire_ts;
}

/* ---- records ---- */

typedef struct {
    size_t key_at, key_len;
    size_t val_at;
    int32_t val_len;                 /* -1 = tombstone */
} rec_pos_t;

typedef struct {
    sm_gc_t *gc;
    rec_pos_t *pos;
    int n, cap;
} recs_t;

static void
recs_begin(sm_gc_t *gc, recs_t *rs)
{
    sm_wbuf_reset(&gc->scratch);
    rs->gc = gc;
    rs->n = 0;
    rs->cap = 8;
    rs->pos = sm_malloc(sizeof(rec_pos_t) * (size_t)rs->cap);
}

static rec_pos_t *
recs_add(recs_t *rs)
{
    if (rs->n == rs->cap) {
        rs->cap *= 2;
        rs->pos = sm_realloc(rs->pos, sizeof(rec_pos_t) * (size_t)rs->cap);
    }
    return &rs->pos[rs->n++];
}

static void
recs_offset(recs_t *rs, sm_bytes_t group, const sm_gc_offset_t *o, int tombstone)
{
    sm_wbuf_t *w = &rs->gc->scratch;
    rec_pos_t *p = recs_add(rs);
    p->key_at = w->len;
    sm_group_encode_OffsetCommitKey(w, 1, group, o->topic, o->partition);
    p->key_len = w->len - p->key_at;
    p->val_at = w->len;
    if (tombstone) { p->val_len = -1; return; }
    sm_offset_commit_value_t v = { 0 };
    v.offset = o->offset;
    v.leader_epoch = o->leader_epoch;
    v.metadata = o->metadata.len < 0 ? SM_BYTES_STR("") : o->metadata;
    v.commit_timestamp = o->commit_timestamp;
    v.expire_timestamp = o->expire_timestamp;
    sm_group_encode_OffsetCommitValue(w, sm_group_offset_value_version(&v), &v);
    p->val_len = (int32_t)(w->len - p->val_at);
}

static sm_bytes_t
member_meta(const member_t *m, const char *protocol)
{
    for (int32_t i = 0; i < m->nprotos; i++)
        if (protocol && !strcmp(m->protos[i].name, protocol))
            return (sm_bytes_t){ m->protos[i].meta_len, m->protos[i].meta };
    return (sm_bytes_t){ 0, (const uint8_t *)"" };
}

static void
recs_group(recs_t *rs, group_t *g, int tombstone)
{
    sm_gc_t *gc = rs->gc;
    sm_wbuf_t *w = &gc->scratch;
    rec_pos_t *p = recs_add(rs);
    p->key_at = w->len;
    sm_group_encode_GroupMetadataKey(w, SM_BYTES_STR(g->id));
    p->key_len = w->len - p->key_at;
    p->val_at = w->len;
    if (tombstone) { p->val_len = -1; return; }
    sm_group_metadata_value_t v = { 0 };
    v.protocol_type = g->protocol_type ? SM_BYTES_STR(g->protocol_type) : SM_BYTES_STR("");
    v.generation = g->generation;
    v.protocol = cb(g->protocol);
    v.leader = cb(g->leader);
    v.current_state_timestamp = g->state_ts;
    v.n_members = g->nmembers;
    v.members = sm_arena_calloc(&gc->arena, (size_t)(g->nmembers ? g->nmembers : 1), sizeof(*v.members));
    int i = 0;
    for (member_t *m = g->members; m; m = m->next, i++) {
        sm_group_member_md_t *mm = &v.members[i];
        mm->member_id = SM_BYTES_STR(m->id);
        mm->group_instance_id = cb(m->instance_id);
        mm->client_id = SM_BYTES_STR(m->client_id);
        mm->client_host = SM_BYTES_STR(m->client_host);
        mm->rebalance_timeout = m->rebalance_timeout;
        mm->session_timeout = m->session_timeout;
        mm->subscription = member_meta(m, g->protocol);
        mm->assignment = (sm_bytes_t){ m->assignment_len, m->assignment ? m->assignment : (const uint8_t *)"" };
    }
    sm_group_encode_GroupMetadataValue(w, SM_GROUP_METADATA_VALUE_VERSION, &v);
    p->val_len = (int32_t)(w->len - p->val_at);
}

/* Hand the collected records to the runtime. */
static void
recs_flush(recs_t *rs, int32_t partition, int64_t now, void *token)
{
    sm_gc_t *gc = rs->gc;
    sm_record_spec_t *specs = sm_calloc((size_t)(rs->n ? rs->n : 1), sizeof(*specs));
    for (int i = 0; i < rs->n; i++) {
        specs[i].timestamp = now;
        specs[i].key = (sm_bytes_t){ (int32_t)rs->pos[i].key_len, gc->scratch.data + rs->pos[i].key_at };
        specs[i].value = rs->pos[i].val_len < 0 ? SM_BYTES_NULL
                                                : (sm_bytes_t){ rs->pos[i].val_len, gc->scratch.data + rs->pos[i].val_at };
    }
    if (rs->n > 0) gc->ops.append(gc->ops.arg, partition, specs, rs->n, token);
    free(specs);
    free(rs->pos);
    rs->pos = NULL;
    sm_arena_reset(&gc->arena);
}

static token_t *
token_new(int kind, group_t *g)
{
    token_t *t = sm_calloc(1, sizeof(*t));
    t->kind = kind;
    t->group = sm_strdup(g->id);
    t->incarnation = g->incarnation;
    t->generation = g->generation;
    return t;
}

static void
token_free(token_t *t)
{
    free(t->group);
    free(t->member_id);
    free(t->leader);
    for (int32_t i = 0; t->offs && i < t->n; i++) {
        free((void *)t->offs[i].topic.ptr);
        free((void *)t->offs[i].metadata.ptr);
    }
    free(t->offs);
    free(t->errors);
    free(t->included);
    free(t);
}

/* Persist the group's metadata; token may be NULL (fire-and-forget). */
static void
store_group(sm_gc_t *gc, group_t *g, int64_t now, token_t *tok)
{
    recs_t rs;
    recs_begin(gc, &rs);
    recs_group(&rs, g, 0);
    recs_flush(&rs, g->partition, now, tok);
}

/* ---- answering waiters ---- */

static void
join_error(sm_gc_t *gc, void *waiter, sm_err_t err, sm_bytes_t member_id)
{
    sm_gc_join_result_t r = { 0 };
    r.error = err;
    r.generation = -1;
    r.protocol_type = SM_BYTES_NULL;
    r.protocol_name = SM_BYTES_NULL;
    r.leader_id = SM_BYTES_STR("");
    r.member_id = member_id.len < 0 ? SM_BYTES_STR("") : member_id;
    gc->ops.join_done(gc->ops.arg, waiter, &r);
}

static void
sync_answer(sm_gc_t *gc, void *waiter, sm_err_t err, sm_bytes_t assignment)
{
    gc->ops.sync_done(gc->ops.arg, waiter, err, err == SM_ERR_NONE ? assignment : (sm_bytes_t){ 0, (const uint8_t *)"" });
}

/* Answer and clear whatever a member is waiting for. */
static void
member_fail_waiters(sm_gc_t *gc, member_t *m, sm_err_t err)
{
    if (m->join_waiter) {
        void *w = m->join_waiter;
        m->join_waiter = NULL;
        join_error(gc, w, err, SM_BYTES_STR(m->id));
    }
    if (m->sync_waiter) {
        void *w = m->sync_waiter;
        m->sync_waiter = NULL;
        sync_answer(gc, w, err, SM_BYTES_NULL);
    }
}

/* Answer one member's join with the current generation. */
static void
join_answer_current(sm_gc_t *gc, group_t *g, member_t *m, void *waiter, int with_members, const char *leader)
{
    sm_gc_join_result_t r = { 0 };
    r.error = SM_ERR_NONE;
    r.generation = g->generation;
    r.protocol_type = cb(g->protocol_type);
    r.protocol_name = cb(g->protocol);
    r.leader_id = SM_BYTES_STR(leader ? leader : "");
    r.member_id = SM_BYTES_STR(m->id);
    sm_joingroup_member_t *ms = NULL;
    if (with_members) {
        ms = sm_calloc((size_t)(g->nmembers ? g->nmembers : 1), sizeof(*ms));
        int i = 0;
        for (member_t *x = g->members; x; x = x->next, i++) {
            ms[i].member_id = SM_BYTES_STR(x->id);
            ms[i].group_instance_id = cb(x->instance_id);
            ms[i].metadata = member_meta(x, g->protocol);
        }
        r.n_members = g->nmembers;
        r.members = ms;
    }
    gc->ops.join_done(gc->ops.arg, waiter, &r);
    free(ms);
}

/* ---- the rebalance protocol ---- */

static void group_remove(sm_gc_t *gc, group_t *g, sm_err_t waiter_err);

static int32_t
group_rebalance_timeout(group_t *g)
{
    int32_t t = 0;
    for (member_t *m = g->members; m; m = m->next) t = SM_MAX(t, m->rebalance_timeout);
    return t;
}

static int
member_supports(const member_t *m, const char *name)
{
    for (int32_t i = 0; i < m->nprotos; i++)
        if (!strcmp(m->protos[i].name, name)) return 1;
    return 0;
}

static int
all_support(group_t *g, const char *name)
{
    for (member_t *m = g->members; m; m = m->next)
        if (!member_supports(m, name)) return 0;
    return 1;
}

/* Kafka's supportsProtocols. */
static int
supports_protocols(group_t *g, sm_bytes_t type, int32_t n, const sm_joingroup_protocol_t *p)
{
    if (g->nmembers == 0) return type.len > 0 && n > 0;
    if (!beq(type, g->protocol_type)) return 0;
    for (int32_t i = 0; i < n; i++) {
        char *name = bdup(p[i].name);
        int ok = name && all_support(g, name);
        free(name);
        if (ok) return 1;
    }
    return 0;
}

/* Candidates are the protocols every member supports; each member votes for
 * its most preferred candidate; the most votes wins (ties: the first
 * member's preference order). */
static const char *
select_protocol(group_t *g)
{
    if (!g->members) return NULL;
    const char *best = NULL;
    int best_votes = -1;
    for (int32_t i = 0; i < g->members->nprotos; i++) {
        const char *cand = g->members->protos[i].name;
        if (!all_support(g, cand)) continue;
        int votes = 0;
        for (member_t *m = g->members; m; m = m->next)
            for (int32_t j = 0; j < m->nprotos; j++)
                if (all_support(g, m->protos[j].name)) {
                    if (!strcmp(m->protos[j].name, cand)) votes++;
                    break;
                }
        if (votes > best_votes) { best = cand; best_votes = votes; }
    }
    return best;
}

static int
protos_match(const member_t *m, int32_t n, const sm_joingroup_protocol_t *p)
{
    if (m->nprotos != n) return 0;
    for (int32_t i = 0; i < n; i++) {
        if (!beq(p[i].name, m->protos[i].name)) return 0;
        int32_t len = p[i].metadata.len < 0 ? 0 : p[i].metadata.len;
        if (len != m->protos[i].meta_len || (len && memcmp(p[i].metadata.ptr, m->protos[i].meta, (size_t)len))) return 0;
    }
    return 1;
}

static void
reset_assignment_error(sm_gc_t *gc, group_t *g, sm_err_t err)
{
    for (member_t *m = g->members; m; m = m->next) {
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        if (m->sync_waiter) {
            void *w = m->sync_waiter;
            m->sync_waiter = NULL;
            sync_answer(gc, w, err, SM_BYTES_NULL);
        }
    }
}

static void
prepare_rebalance(sm_gc_t *gc, group_t *g, const char *reason, int64_t now)
{
    if (g->state == SM_GC_COMPLETING_REBALANCE) reset_assignment_error(gc, g, SM_ERR_REBALANCE_IN_PROGRESS);
    if (g->state == SM_GC_EMPTY) {
        int32_t delay = gc->cfg.initial_rebalance_delay_ms;
        g->initial_join = 1;
        g->new_member_added = 0;
        g->initial_remaining = SM_MAX((int64_t)group_rebalance_timeout(g) - delay, 0);
        g->join_deadline = now + delay;
    } else {
        g->initial_join = 0;
        g->join_deadline = now + group_rebalance_timeout(g);
    }
    g->join_timer = 1;
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Preparing to rebalance group %s in state PreparingRebalance with old generation %d (%s-%d) (reason: %s)",
                gc->cfg.broker_id, g->id, g->generation, SM_GC_OFFSETS_TOPIC, g->partition, reason);
    g->state = SM_GC_PREPARING_REBALANCE;
    g->state_ts = now;
}

static void
maybe_prepare_rebalance(sm_gc_t *gc, group_t *g, const char *reason, int64_t now)
{
    if (g->state == SM_GC_STABLE || g->state == SM_GC_COMPLETING_REBALANCE || g->state == SM_GC_EMPTY)
        prepare_rebalance(gc, g, reason, now);
}

static void
complete_join(sm_gc_t *gc, group_t *g, int64_t now)
{
    /* Dynamic members that did not rejoin in time leave the group; static
     * ones stay until their session expires. */
    for (member_t **pp = &g->members; *pp;) {
        member_t *m = *pp;
        if (!m->join_waiter && !m->instance_id) {
            *pp = m->next;
            g->nmembers--;
            sm_log_info(LOGGER, "[GroupCoordinator %d]: Member %s in group %s has failed to rejoin, removing it from the group",
                        gc->cfg.broker_id, m->id, g->id);
            member_fail_waiters(gc, m, SM_ERR_UNKNOWN_MEMBER_ID);
            member_free(m);
        } else {
            pp = &m->next;
        }
    }
    g->join_timer = 0;
    g->initial_join = 0;
    if (g->nmembers == 0) {
        g->generation++;
        set_str(&g->protocol, NULL);
        set_str(&g->leader, NULL);
        g->state = SM_GC_EMPTY;
        g->state_ts = now;
        sm_log_info(LOGGER, "[GroupCoordinator %d]: Group %s with generation %d is now empty (%s-%d)", gc->cfg.broker_id,
                    g->id, g->generation, SM_GC_OFFSETS_TOPIC, g->partition);
        store_group(gc, g, now, NULL);
        return;
    }
    member_t *leader = NULL;
    for (member_t *m = g->members; m; m = m->next)
        if (g->leader && !strcmp(m->id, g->leader) && m->join_waiter) leader = m;
    if (!leader)
        for (member_t *m = g->members; m && !leader; m = m->next)
            if (m->join_waiter) leader = m;
    if (!leader) {
        /* Only absent static members: wait for them (or their expiry). */
        g->join_deadline = now + SM_MAX(group_rebalance_timeout(g), 1);
        g->join_timer = 1;
        return;
    }
    set_str(&g->leader, leader->id);
    g->generation++;
    set_str(&g->protocol, select_protocol(g));
    g->state = SM_GC_COMPLETING_REBALANCE;
    g->state_ts = now;
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Stabilized group %s generation %d (%s-%d) with %d members",
                gc->cfg.broker_id, g->id, g->generation, SM_GC_OFFSETS_TOPIC, g->partition, g->nmembers);
    for (member_t *m = g->members; m; m = m->next) {
        if (!m->join_waiter) continue;
        void *w = m->join_waiter;
        m->join_waiter = NULL;
        m->deadline = now + m->session_timeout;
        join_answer_current(gc, g, m, w, m == leader, g->leader);
    }
}

static int
all_joined(group_t *g)
{
    if (g->npending) return 0;
    for (member_t *m = g->members; m; m = m->next)
        if (!m->join_waiter) return 0;
    return 1;
}

static void
try_complete_join(sm_gc_t *gc, group_t *g, int64_t now)
{
    if (g->state == SM_GC_PREPARING_REBALANCE && !g->initial_join && all_joined(g)) complete_join(gc, g, now);
}

static void
remove_member(sm_gc_t *gc, group_t *g, member_t *m, const char *reason, int64_t now)
{
    for (member_t **pp = &g->members; *pp; pp = &(*pp)->next)
        if (*pp == m) { *pp = m->next; break; }
    g->nmembers--;
    member_fail_waiters(gc, m, SM_ERR_UNKNOWN_MEMBER_ID);
    if (g->leader && !strcmp(g->leader, m->id)) set_str(&g->leader, g->members ? g->members->id : NULL);
    char *id = m->id;
    m->id = NULL;
    member_free(m);
    char why[512];
    snprintf(why, sizeof(why), "%s %s", reason, id);
    free(id);
    switch (g->state) {
    case SM_GC_STABLE:
    case SM_GC_COMPLETING_REBALANCE: maybe_prepare_rebalance(gc, g, why, now); try_complete_join(gc, g, now); break;
    case SM_GC_PREPARING_REBALANCE: try_complete_join(gc, g, now); break;
    default: break;
    }
}

static member_t *
add_member(sm_gc_t *gc, group_t *g, const sm_gc_join_t *req, char *id, void *waiter, int64_t now)
{
    member_t *m = sm_calloc(1, sizeof(*m));
    m->id = id;
    m->instance_id = bdup(req->group_instance_id);
    m->client_id = req->client_id.len >= 0 ? bdup(req->client_id) : sm_strdup("");
    m->client_host = req->client_host.len >= 0 ? bdup(req->client_host) : sm_strdup("");
    m->session_timeout = req->session_timeout_ms;
    m->rebalance_timeout = req->rebalance_timeout_ms >= 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
    protos_set(m, req->n_protocols, req->protocols);
    m->deadline = now + m->session_timeout;
    m->join_waiter = waiter;
    if (g->nmembers == 0) {
        free(g->protocol_type);
        g->protocol_type = bdup(req->protocol_type);
    }
    member_t **pp = &g->members;
    while (*pp) pp = &(*pp)->next;
    *pp = m;
    g->nmembers++;
    if (!g->leader) g->leader = sm_strdup(m->id);
    if (g->state == SM_GC_PREPARING_REBALANCE && g->initial_join) g->new_member_added = 1;
    return m;
}

static void
add_member_and_rebalance(sm_gc_t *gc, group_t *g, const sm_gc_join_t *req, char *id, void *waiter, int64_t now)
{
    member_t *m = add_member(gc, g, req, id, waiter, now);
    char why[512];
    snprintf(why, sizeof(why), "Adding new member %s with group instance id %s", m->id,
             m->instance_id ? m->instance_id : "None");
    maybe_prepare_rebalance(gc, g, why, now);
    try_complete_join(gc, g, now);
}

static void
set_join_waiter(sm_gc_t *gc, member_t *m, void *waiter)
{
    /* A duplicate join (client retry on a new connection) replaces the old
     * request, which must still be answered. */
    if (m->join_waiter && m->join_waiter != waiter) join_error(gc, m->join_waiter, SM_ERR_REBALANCE_IN_PROGRESS, SM_BYTES_STR(m->id));
    m->join_waiter = waiter;
}

static void
update_member_and_rebalance(sm_gc_t *gc, group_t *g, member_t *m, const sm_gc_join_t *req, void *waiter, int64_t now)
{
    protos_set(m, req->n_protocols, req->protocols);
    set_join_waiter(gc, m, waiter);
    m->deadline = now + m->session_timeout;
    char why[512];
    snprintf(why, sizeof(why), "Updating metadata for member %s", m->id);
    maybe_prepare_rebalance(gc, g, why, now);
    try_complete_join(gc, g, now);
}

static void
update_static_member(sm_gc_t *gc, group_t *g, member_t *m, const sm_gc_join_t *req, char *new_id, void *waiter,
                     int64_t now)
{
    char *current_leader = g->leader ? sm_strdup(g->leader) : NULL;
    /* The old incarnation is fenced: its outstanding requests fail. */
    member_fail_waiters(gc, m, SM_ERR_FENCED_INSTANCE_ID);
    if (g->leader && !strcmp(g->leader, m->id)) set_str(&g->leader, new_id);
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Static member %s of group %s with unknown member id rejoins, assigning new member id %s",
                gc->cfg.broker_id, m->instance_id, g->id, new_id);
    free(m->id);
    m->id = new_id;
    m->session_timeout = req->session_timeout_ms;
    m->rebalance_timeout = req->rebalance_timeout_ms >= 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
    m->deadline = now + m->session_timeout;
    protos_set(m, req->n_protocols, req->protocols);
    m->join_waiter = waiter;
    switch (g->state) {
    case SM_GC_STABLE: {
        const char *next = select_protocol(g);
        if (g->protocol && next && !strcmp(next, g->protocol)) {
            /* Same protocol: persist the new member id and hand back the
             * current generation without a rebalance (KIP-345). The old
             * leader id is returned so a rejoining leader does not assign. */
            token_t *t = token_new(TOK_STATIC_JOIN, g);
            t->waiter = waiter;
            t->member_id = sm_strdup(m->id);
            t->leader = current_leader;
            current_leader = NULL;
            store_group(gc, g, now, t);
        } else {
            char why[512];
            snprintf(why, sizeof(why), "Group's selectedProtocol will change because static member %s with instance id %s joined with change of protocol",
                     m->id, m->instance_id);
            prepare_rebalance(gc, g, why, now);
        }
        break;
    }
    case SM_GC_COMPLETING_REBALANCE: {
        char why[512];
        snprintf(why, sizeof(why), "Updating metadata for static member %s with instance id %s", m->id, m->instance_id);
        prepare_rebalance(gc, g, why, now);
        break;
    }
    default:
        try_complete_join(gc, g, now);
        break;
    }
    free(current_leader);
}

void
sm_gc_join(sm_gc_t *gc, const sm_gc_join_t *req, void *waiter, int64_t now)
{
    sm_bytes_t mid = req->member_id.len < 0 ? SM_BYTES_STR("") : req->member_id;
    if (req->group_id.len <= 0) { join_error(gc, waiter, SM_ERR_INVALID_GROUP_ID, mid); return; }
    sm_err_t err = sm_gc_check(gc, req->group_id);
    if (err != SM_ERR_NONE) { join_error(gc, waiter, err, mid); return; }
    if (req->session_timeout_ms < gc->cfg.min_session_timeout_ms || req->session_timeout_ms > gc->cfg.max_session_timeout_ms) {
        join_error(gc, waiter, SM_ERR_INVALID_SESSION_TIMEOUT, mid);
        return;
    }
    group_t *g = group_get(gc, req->group_id);
    if (mid.len == 0) {
        /* A new member (doUnknownJoinGroup). */
        if (!g) g = group_create(gc, req->group_id, now);
        if (g->state == SM_GC_DEAD) { join_error(gc, waiter, SM_ERR_COORDINATOR_NOT_AVAILABLE, mid); return; }
        if (!supports_protocols(g, req->protocol_type, req->n_protocols, req->protocols)) {
            join_error(gc, waiter, SM_ERR_INCONSISTENT_GROUP_PROTOCOL, mid);
            return;
        }
        member_t *st = member_find_static(g, req->group_instance_id);
        if (!st && g->nmembers + g->npending >= gc->cfg.max_size) {
            join_error(gc, waiter, SM_ERR_GROUP_MAX_SIZE_REACHED, mid);
            return;
        }
        char *id = new_member_id(gc, req->group_instance_id.len >= 0 ? req->group_instance_id : req->client_id);
        if (st) {
            update_static_member(gc, g, st, req, id, waiter, now);
        } else if (req->group_instance_id.len < 0 && req->require_known_member_id) {
            /* KIP-394: hand out the id, expect a rejoin with it. */
            pending_t *p = sm_calloc(1, sizeof(*p));
            p->id = id;
            p->deadline = now + req->session_timeout_ms;
            p->next = g->pending;
            g->pending = p;
            g->npending++;
            join_error(gc, waiter, SM_ERR_MEMBER_ID_REQUIRED, SM_BYTES_STR(id));
        } else {
            add_member_and_rebalance(gc, g, req, id, waiter, now);
        }
        return;
    }
    /* A known member (doCurrentMemberJoinGroup). */
    if (!g) { join_error(gc, waiter, SM_ERR_UNKNOWN_MEMBER_ID, mid); return; }
    if (g->state == SM_GC_DEAD) { join_error(gc, waiter, SM_ERR_COORDINATOR_NOT_AVAILABLE, mid); return; }
    if (!supports_protocols(g, req->protocol_type, req->n_protocols, req->protocols)) {
        join_error(gc, waiter, SM_ERR_INCONSISTENT_GROUP_PROTOCOL, mid);
        return;
    }
    pending_t **pp = pending_find(g, mid);
    if (*pp) {
        pending_t *p = *pp;
        *pp = p->next;
        g->npending--;
        char *id = p->id;
        free(p);
        add_member_and_rebalance(gc, g, req, id, waiter, now);
        return;
    }
    if (is_fenced(g, mid, req->group_instance_id)) { join_error(gc, waiter, SM_ERR_FENCED_INSTANCE_ID, mid); return; }
    member_t *m = member_find(g, mid);
    if (!m || (req->group_instance_id.len >= 0 && !member_find_static(g, req->group_instance_id))) {
        join_error(gc, waiter, SM_ERR_UNKNOWN_MEMBER_ID, mid);
        return;
    }
    switch (g->state) {
    case SM_GC_PREPARING_REBALANCE:
        update_member_and_rebalance(gc, g, m, req, waiter, now);
        break;
    case SM_GC_COMPLETING_REBALANCE:
        if (protos_match(m, req->n_protocols, req->protocols)) {
            /* A retried join of the current generation: same answer. */
            m->deadline = now + m->session_timeout;
            join_answer_current(gc, g, m, waiter, g->leader && !strcmp(g->leader, m->id), g->leader);
        } else {
            update_member_and_rebalance(gc, g, m, req, waiter, now);
        }
        break;
    case SM_GC_STABLE:
        if ((g->leader && !strcmp(g->leader, m->id)) || !protos_match(m, req->n_protocols, req->protocols)) {
            update_member_and_rebalance(gc, g, m, req, waiter, now);
        } else {
            m->deadline = now + m->session_timeout;
            join_answer_current(gc, g, m, waiter, 0, g->leader);
        }
        break;
    default:
        join_error(gc, waiter, SM_ERR_UNKNOWN_MEMBER_ID, mid);
        break;
    }
}

void
sm_gc_sync(sm_gc_t *gc, sm_bytes_t group_id, int32_t generation, sm_bytes_t member_id, sm_bytes_t instance,
           int32_t n_assignments, const sm_syncgroup_assignment_t *assignments, void *waiter, int64_t now)
{
    sm_err_t err = group_id.len <= 0 ? SM_ERR_INVALID_GROUP_ID : sm_gc_check(gc, group_id);
    if (err != SM_ERR_NONE) { sync_answer(gc, waiter, err, SM_BYTES_NULL); return; }
    group_t *g = group_get(gc, group_id);
    member_t *m = g ? member_find(g, member_id) : NULL;
    if (!g) err = SM_ERR_UNKNOWN_MEMBER_ID;
    else if (g->state == SM_GC_DEAD) err = SM_ERR_COORDINATOR_NOT_AVAILABLE;
    else if (is_fenced(g, member_id, instance)) err = SM_ERR_FENCED_INSTANCE_ID;
    else if (!m) err = SM_ERR_UNKNOWN_MEMBER_ID;
    else if (generation != g->generation) err = SM_ERR_ILLEGAL_GENERATION;
    else if (g->state == SM_GC_EMPTY) err = SM_ERR_UNKNOWN_MEMBER_ID;
    else if (g->state == SM_GC_PREPARING_REBALANCE) err = SM_ERR_REBALANCE_IN_PROGRESS;
    if (err != SM_ERR_NONE) { sync_answer(gc, waiter, err, SM_BYTES_NULL); return; }
    m->deadline = now + m->session_timeout;
    if (g->state == SM_GC_STABLE) {
        sync_answer(gc, waiter, SM_ERR_NONE, (sm_bytes_t){ m->assignment_len, m->assignment ? m->assignment : (const uint8_t *)"" });
        return;
    }
    /* CompletingRebalance: wait for the leader's assignment. */
    if (m->sync_waiter && m->sync_waiter != waiter) sync_answer(gc, m->sync_waiter, SM_ERR_REBALANCE_IN_PROGRESS, SM_BYTES_NULL);
    m->sync_waiter = waiter;
    if (!g->leader || strcmp(g->leader, m->id)) return;
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Assignment received from leader for group %s for generation %d",
                gc->cfg.broker_id, g->id, g->generation);
    for (member_t *x = g->members; x; x = x->next) {
        free(x->assignment);
        x->assignment = NULL;
        x->assignment_len = 0;
        for (int32_t i = 0; i < n_assignments; i++)
            if (beq(assignments[i].member_id, x->id)) {
                x->assignment = bdup_raw(assignments[i].assignment, &x->assignment_len);
                break;
            }
    }
    store_group(gc, g, now, token_new(TOK_SYNC, g));
}

sm_err_t
sm_gc_heartbeat(sm_gc_t *gc, sm_bytes_t group_id, int32_t generation, sm_bytes_t member_id, sm_bytes_t instance,
                int64_t now)
{
    if (group_id.len <= 0) return SM_ERR_INVALID_GROUP_ID;
    sm_err_t err = sm_gc_check(gc, group_id);
    if (err != SM_ERR_NONE) return err;
    group_t *g = group_get(gc, group_id);
    if (!g) return SM_ERR_UNKNOWN_MEMBER_ID;
    if (g->state == SM_GC_DEAD) return SM_ERR_COORDINATOR_NOT_AVAILABLE;
    if (g->state == SM_GC_EMPTY) return SM_ERR_UNKNOWN_MEMBER_ID;
    if (is_fenced(g, member_id, instance)) return SM_ERR_FENCED_INSTANCE_ID;
    member_t *m = member_find(g, member_id);
    if (!m) return SM_ERR_UNKNOWN_MEMBER_ID;
    if (generation != g->generation) return SM_ERR_ILLEGAL_GENERATION;
    m->deadline = now + m->session_timeout;
    return g->state == SM_GC_PREPARING_REBALANCE ? SM_ERR_REBALANCE_IN_PROGRESS : SM_ERR_NONE;
}

sm_err_t
sm_gc_leave(sm_gc_t *gc, sm_bytes_t group_id, int32_t n, const sm_leavegroup_member_t *members, int16_t *errs,
            int64_t now)
{
    if (group_id.len <= 0) return SM_ERR_INVALID_GROUP_ID;
    sm_err_t err = sm_gc_check(gc, group_id);
    if (err != SM_ERR_NONE) return err;
    group_t *g = group_get(gc, group_id);
    for (int32_t i = 0; i < n; i++) {
        sm_bytes_t mid = members[i].member_id.len < 0 ? SM_BYTES_STR("") : members[i].member_id;
        sm_bytes_t inst = members[i].group_instance_id;
        if (!g) { errs[i] = SM_ERR_UNKNOWN_MEMBER_ID; continue; }
        if (g->state == SM_GC_DEAD) { errs[i] = SM_ERR_COORDINATOR_NOT_AVAILABLE; continue; }
        if (mid.len > 0 && is_fenced(g, mid, inst)) { errs[i] = SM_ERR_FENCED_INSTANCE_ID; continue; }
        pending_t **pp = pending_find(g, mid);
        if (mid.len > 0 && *pp) {
            pending_t *p = *pp;
            *pp = p->next;
            g->npending--;
            free(p->id);
            free(p);
            try_complete_join(gc, g, now);
            errs[i] = SM_ERR_NONE;
            continue;
        }
        member_t *m = inst.len >= 0 ? member_find_static(g, inst) : member_find(g, mid);
        if (!m) { errs[i] = SM_ERR_UNKNOWN_MEMBER_ID; continue; }
        sm_log_info(LOGGER, "[GroupCoordinator %d]: Member %s in group %s has left, removing it from the group",
                    gc->cfg.broker_id, m->id, g->id);
        remove_member(gc, g, m, "removing member on LeaveGroup", now);
        errs[i] = SM_ERR_NONE;
    }
    return SM_ERR_NONE;
}

/* ---- offsets ---- */

void
sm_gc_commit(sm_gc_t *gc, sm_bytes_t group_id, int32_t generation, sm_bytes_t member_id, sm_bytes_t instance, int32_t n,
             const sm_gc_offset_t *offs, void *waiter, int64_t now)
{
    int16_t *errs = sm_calloc((size_t)(n ? n : 1), sizeof(int16_t));
    sm_err_t err = group_id.len < 0 ? SM_ERR_INVALID_GROUP_ID : sm_gc_check(gc, group_id);
    group_t *g = NULL;
    if (err == SM_ERR_NONE) {
        g = group_get(gc, group_id);
        if (!g) {
            /* No group management: a "simple" commit creates an Empty group. */
            if (generation < 0) g = group_create(gc, group_id, now);
            else err = SM_ERR_ILLEGAL_GENERATION;
        }
    }
    if (err == SM_ERR_NONE) {
        member_t *m = member_find(g, member_id);
        if (g->state == SM_GC_DEAD) err = SM_ERR_COORDINATOR_NOT_AVAILABLE;
        else if (is_fenced(g, member_id, instance)) err = SM_ERR_FENCED_INSTANCE_ID;
        else if (generation < 0 && g->state == SM_GC_EMPTY) err = SM_ERR_NONE;
        else if (g->state == SM_GC_COMPLETING_REBALANCE) err = SM_ERR_REBALANCE_IN_PROGRESS;
        else if (!m) err = SM_ERR_UNKNOWN_MEMBER_ID;
        else if (generation != g->generation) err = SM_ERR_ILLEGAL_GENERATION;
        else m->deadline = now + m->session_timeout;
    }
    if (err != SM_ERR_NONE) {
        for (int32_t i = 0; i < n; i++) errs[i] = (int16_t)err;
        gc->ops.commit_done(gc->ops.arg, waiter, errs, n);
        free(errs);
        return;
    }
    token_t *t = token_new(TOK_COMMIT, g);
    t->waiter = waiter;
    t->n = n;
    t->errors = errs;
    t->offs = sm_calloc((size_t)(n ? n : 1), sizeof(*t->offs));
    t->included = sm_calloc((size_t)(n ? n : 1), 1);
    recs_t rs;
    recs_begin(gc, &rs);
    int any = 0;
    for (int32_t i = 0; i < n; i++) {
        if (offs[i].metadata.len > gc->cfg.offset_metadata_max_bytes) {
            errs[i] = SM_ERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        sm_gc_offset_t *c = &t->offs[i];
        *c = offs[i];
        int32_t len;
        c->topic.ptr = bdup_raw(offs[i].topic, &len);
        c->topic.len = len;
        c->metadata.ptr = bdup_raw(offs[i].metadata, &len);
        c->metadata.len = len;
        t->included[i] = 1;
        recs_offset(&rs, group_id, c, 0);
        any = 1;
    }
    if (!any) {
        free(rs.pos);
        gc->ops.commit_done(gc->ops.arg, waiter, errs, n);
        token_free(t);
        return;
    }
    g->pending_commits++;
    recs_flush(&rs, g->partition, now, t);
}

int
sm_gc_fetch_offset(sm_gc_t *gc, sm_bytes_t group_id, sm_bytes_t topic, int32_t partition, sm_gc_offset_t *out)
{
    group_t *g = group_get(gc, group_id);
    if (!g || g->state == SM_GC_DEAD) return 0;
    goff_t *o = *off_slot(g, topic.len > 0 ? (const char *)topic.ptr : "", topic.len > 0 ? (size_t)topic.len : 0, partition);
    if (!o) return 0;
    off_fill(o, out);
    return 1;
}

void
sm_gc_foreach_offset(sm_gc_t *gc, sm_bytes_t group_id, void (*fn)(void *, const sm_gc_offset_t *), void *arg)
{
    group_t *g = group_get(gc, group_id);
    if (!g || g->state == SM_GC_DEAD) return;
    for (uint32_t b = 0; b < g->onb; b++)
        for (goff_t *o = g->obuckets[b]; o; o = o->next) {
            sm_gc_offset_t x;
            off_fill(o, &x);
            fn(arg, &x);
        }
}

/* Is topic in any member's subscription (consumer protocol)? */
static int
subscribed(sm_gc_t *gc, group_t *g, sm_bytes_t topic)
{
    int found = 0;
    for (member_t *m = g->members; m && !found; m = m->next) {
        sm_bytes_t meta = g->protocol ? member_meta(m, g->protocol)
                                      : (m->nprotos ? (sm_bytes_t){ m->protos[0].meta_len, m->protos[0].meta } : SM_BYTES_NULL);
        if (meta.len <= 0) continue;
        sm_reader_t r;
        sm_consumer_subscription_t sub;
        sm_reader_init(&r, meta.ptr, (size_t)meta.len);
        if (sm_group_decode_ConsumerProtocolSubscription(&r, &gc->arena, &sub) < 0) continue;
        for (int32_t i = 0; i < sub.n_topics && !found; i++)
            if (sub.topics[i].len == topic.len && !memcmp(sub.topics[i].ptr, topic.ptr, (size_t)topic.len)) found = 1;
    }
    sm_arena_reset(&gc->arena);
    return found;
}

sm_err_t
sm_gc_delete_offsets(sm_gc_t *gc, sm_bytes_t group_id, int32_t n, const sm_bytes_t *topics, const int32_t *parts,
                     int16_t *errs, int64_t now)
{
    sm_err_t err = sm_gc_check(gc, group_id);
    if (err != SM_ERR_NONE) return err;
    group_t *g = group_get(gc, group_id);
    if (!g || g->state == SM_GC_DEAD) return SM_ERR_GROUP_ID_NOT_FOUND;
    int consumer = g->protocol_type && !strcmp(g->protocol_type, "consumer");
    if (g->state != SM_GC_EMPTY && !consumer) return SM_ERR_NON_EMPTY_GROUP;
    recs_t rs;
    recs_begin(gc, &rs);
    for (int32_t i = 0; i < n; i++) {
        if (g->state != SM_GC_EMPTY && subscribed(gc, g, topics[i])) {
            errs[i] = SM_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
            continue;
        }
        errs[i] = SM_ERR_NONE;
        if (off_del(g, topics[i], parts[i])) {
            sm_gc_offset_t o = { 0 };
            o.topic = topics[i];
            o.partition = parts[i];
            recs_offset(&rs, SM_BYTES_STR(g->id), &o, 1);
        }
    }
    recs_flush(&rs, g->partition, now, NULL);
    return SM_ERR_NONE;
}

/* ---- administration ---- */

void
sm_gc_describe(sm_gc_t *gc, sm_bytes_t group_id, sm_arena_t *a, sm_describegroups_group_t *out)
{
    memset(out, 0, sizeof(*out));
    out->group_id = group_id;
    out->authorized_operations = INT32_MIN;
    out->protocol_type = SM_BYTES_STR("");
    out->protocol_data = SM_BYTES_STR("");
    out->group_state = SM_BYTES_STR("Dead");
    sm_err_t err = sm_gc_check(gc, group_id);
    if (err != SM_ERR_NONE) {
        out->error_code = (int16_t)err;
        out->group_state = SM_BYTES_STR("");
        return;
    }
    group_t *g = group_get(gc, group_id);
    if (!g) return;
    out->group_state = SM_BYTES_STR(sm_gc_state_name(g->state));
    if (g->protocol_type) out->protocol_type = SM_BYTES_STR(g->protocol_type);
    int stable = g->state == SM_GC_STABLE && g->protocol;
    if (stable) out->protocol_data = SM_BYTES_STR(g->protocol);
    out->n_members = g->nmembers;
    out->members = sm_arena_calloc(a, (size_t)(g->nmembers ? g->nmembers : 1), sizeof(*out->members));
    int i = 0;
    for (member_t *m = g->members; m; m = m->next, i++) {
        sm_describegroups_member_t *d = &out->members[i];
        d->member_id = SM_BYTES_STR(m->id);
        d->group_instance_id = cb(m->instance_id);
        d->client_id = SM_BYTES_STR(m->client_id);
        d->client_host = SM_BYTES_STR(m->client_host);
        d->member_metadata = stable ? member_meta(m, g->protocol) : SM_BYTES_STR("");
        d->member_assignment = stable ? (sm_bytes_t){ m->assignment_len, m->assignment ? m->assignment : (const uint8_t *)"" }
                                      : SM_BYTES_STR("");
    }
}

sm_err_t
sm_gc_list(sm_gc_t *gc, void (*fn)(void *, sm_bytes_t, sm_bytes_t), void *arg)
{
    sm_err_t err = SM_ERR_NONE;
    for (int32_t p = 0; p < gc->cfg.num_partitions; p++)
        if (gc->pstate[p] == PART_LOADING) err = SM_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    for (uint32_t b = 0; b < gc->nb; b++)
        for (group_t *g = gc->buckets[b]; g; g = g->next)
            if (gc->pstate[g->partition] == PART_ACTIVE && g->state != SM_GC_DEAD)
                fn(arg, SM_BYTES_STR(g->id), SM_BYTES_STR(g->protocol_type ? g->protocol_type : ""));
    return err;
}

/* Remove a group from the table and free it; waiters get waiter_err. */
static void
group_remove(sm_gc_t *gc, group_t *g, sm_err_t waiter_err)
{
    group_t **slot = group_slot(gc, g->id, strlen(g->id));
    if (*slot == g) *slot = g->next;
    gc->ngroups--;
    while (g->members) {
        member_t *m = g->members;
        g->members = m->next;
        member_fail_waiters(gc, m, waiter_err);
        member_free(m);
    }
    while (g->pending) {
        pending_t *p = g->pending;
        g->pending = p->next;
        free(p->id);
        free(p);
    }
    for (uint32_t b = 0; b < g->onb; b++)
        while (g->obuckets[b]) {
            goff_t *o = g->obuckets[b];
            g->obuckets[b] = o->next;
            off_free(o);
        }
    free(g->obuckets);
    free(g->id);
    free(g->protocol_type);
    free(g->protocol);
    free(g->leader);
    free(g);
}

/* Tombstones for every offset and the group itself, then forget it. */
static void
group_delete_persisted(sm_gc_t *gc, group_t *g, int64_t now)
{
    recs_t rs;
    recs_begin(gc, &rs);
    for (uint32_t b = 0; b < g->onb; b++)
        for (goff_t *o = g->obuckets[b]; o; o = o->next) {
            sm_gc_offset_t x;
            off_fill(o, &x);
            recs_offset(&rs, SM_BYTES_STR(g->id), &x, 1);
        }
    recs_group(&rs, g, 1);
    recs_flush(&rs, g->partition, now, NULL);
    g->state = SM_GC_DEAD;
    group_remove(gc, g, SM_ERR_COORDINATOR_NOT_AVAILABLE);
}

sm_err_t
sm_gc_delete_group(sm_gc_t *gc, sm_bytes_t group_id, int64_t now)
{
    if (group_id.len < 0) return SM_ERR_INVALID_GROUP_ID;
    sm_err_t err = sm_gc_check(gc, group_id);
    if (err != SM_ERR_NONE) return err;
    group_t *g = group_get(gc, group_id);
    if (!g || g->state == SM_GC_DEAD) return SM_ERR_GROUP_ID_NOT_FOUND;
    if (g->state != SM_GC_EMPTY) return SM_ERR_NON_EMPTY_GROUP;
    sm_log_info(LOGGER, "[GroupCoordinator %d]: Group %s deleted (%s-%d)", gc->cfg.broker_id, g->id,
                SM_GC_OFFSETS_TOPIC, g->partition);
    group_delete_persisted(gc, g, now);
    return SM_ERR_NONE;
}

int
sm_gc_group_state(const sm_gc_t *gc, sm_bytes_t group_id, int32_t *generation, int32_t *nmembers)
{
    group_t *g = group_get((sm_gc_t *)gc, group_id);
    if (!g) return -1;
    if (generation) *generation = g->generation;
    if (nmembers) *nmembers = g->nmembers;
    return (int)g->state;
}

/* ---- partitions ---- */

sm_err_t
sm_gc_check(const sm_gc_t *gc, sm_bytes_t group)
{
    int32_t p = sm_gc_partition_for(gc, group);
    switch (gc->pstate[p]) {
    case PART_ACTIVE: return SM_ERR_NONE;
    case PART_LOADING: return SM_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    default: return SM_ERR_NOT_COORDINATOR;
    }
}

static void
drop_partition_groups(sm_gc_t *gc, int32_t p, sm_err_t err)
{
    for (uint32_t b = 0; b < gc->nb; b++) {
        group_t *g = gc->buckets[b];
        while (g) {
            group_t *next = g->next;
            if (g->partition == p) group_remove(gc, g, err);
            g = next;
        }
    }
}

void
sm_gc_load_begin(sm_gc_t *gc, int32_t p)
{
    if (p < 0 || p >= gc->cfg.num_partitions) return;
    drop_partition_groups(gc, p, SM_ERR_NOT_COORDINATOR);
    gc->pstate[p] = PART_LOADING;
    sm_log_debug(LOGGER, "[GroupMetadataManager brokerId=%d] Scheduling loading of offsets and group metadata from %s-%d",
                gc->cfg.broker_id, SM_GC_OFFSETS_TOPIC, p);
}

int
sm_gc_load_record(sm_gc_t *gc, int32_t p, sm_bytes_t key, sm_bytes_t value, int64_t now)
{
    if (p < 0 || p >= gc->cfg.num_partitions || key.len < 0) return -1;
    sm_reader_t r;
    sm_group_key_t k;
    sm_reader_init(&r, key.ptr, (size_t)key.len);
    if (sm_group_decode_key(&r, &k) < 0 || k.group.len < 0) goto bad;
    group_t *g = group_get(gc, k.group);
    if (SM_GROUP_KEY_IS_OFFSET(&k)) {
        if (value.len < 0) {
            if (g) off_del(g, k.topic, k.partition);
            return 0;
        }
        sm_offset_commit_value_t v;
        sm_reader_init(&r, value.ptr, (size_t)value.len);
        if (sm_group_decode_OffsetCommitValue(&r, &v) < 0) goto bad;
        if (!g) g = group_create(gc, k.group, now);
        g->partition = p;
        off_put(g, k.topic, k.partition, v.offset, v.leader_epoch, v.metadata, v.commit_timestamp, v.expire_timestamp);
        return 0;
    }
    if (value.len < 0) {
        if (g) {
            if (g->noffsets == 0) {
                group_remove(gc, g, SM_ERR_NOT_COORDINATOR);
            } else {
                while (g->members) {
                    member_t *m = g->members;
                    g->members = m->next;
                    member_free(m);
                }
                g->nmembers = 0;
                set_str(&g->protocol_type, NULL);
                set_str(&g->protocol, NULL);
                set_str(&g->leader, NULL);
                g->state = SM_GC_EMPTY;
            }
        }
        return 0;
    }
    sm_group_metadata_value_t v;
    sm_reader_init(&r, value.ptr, (size_t)value.len);
    if (sm_group_decode_GroupMetadataValue(&r, &gc->arena, &v) < 0) { sm_arena_reset(&gc->arena); goto bad; }
    if (!g) g = group_create(gc, k.group, now);
    g->partition = p;
    while (g->members) {
        member_t *m = g->members;
        g->members = m->next;
        member_free(m);
    }
    g->nmembers = 0;
    free(g->protocol_type);
    g->protocol_type = v.protocol_type.len > 0 ? bdup(v.protocol_type) : NULL;
    free(g->protocol);
    g->protocol = bdup(v.protocol);
    free(g->leader);
    g->leader = bdup(v.leader);
    g->generation = v.generation;
    g->state_ts = v.current_state_timestamp >= 0 ? v.current_state_timestamp : now;
    member_t **tail = &g->members;
    for (int32_t i = 0; i < v.n_members; i++) {
        sm_group_member_md_t *mm = &v.members[i];
        member_t *m = sm_calloc(1, sizeof(*m));
        m->id = bdup(mm->member_id);
        if (!m->id) m->id = sm_strdup("");
        m->instance_id = bdup(mm->group_instance_id);
        m->client_id = mm->client_id.len >= 0 ? bdup(mm->client_id) : sm_strdup("");
        m->client_host = mm->client_host.len >= 0 ? bdup(mm->client_host) : sm_strdup("");
        m->session_timeout = mm->session_timeout;
        m->rebalance_timeout = mm->rebalance_timeout;
        sm_joingroup_protocol_t pr = { cb(g->protocol ? g->protocol : ""), mm->subscription };
        protos_set(m, 1, &pr);
        m->assignment = bdup_raw(mm->assignment, &m->assignment_len);
        *tail = m;
        tail = &m->next;
        g->nmembers++;
    }
    g->state = g->nmembers && g->protocol ? SM_GC_STABLE : SM_GC_EMPTY;
    sm_arena_reset(&gc->arena);
    return 0;
bad:
    sm_log_warn(LOGGER, "[GroupMetadataManager brokerId=%d] Skipping malformed record in %s-%d", gc->cfg.broker_id,
                SM_GC_OFFSETS_TOPIC, p);
    return -1;
}

void
sm_gc_load_end(sm_gc_t *gc, int32_t p, int64_t now)
{
    if (p < 0 || p >= gc->cfg.num_partitions) return;
    int ngroups = 0;
    for (uint32_t b = 0; b < gc->nb; b++)
        for (group_t *g = gc->buckets[b]; g; g = g->next)
            if (g->partition == p) {
                ngroups++;
                for (member_t *m = g->members; m; m = m->next) m->deadline = now + m->session_timeout;
            }
    gc->pstate[p] = PART_ACTIVE;
    sm_log_debug(LOGGER, "[GroupMetadataManager brokerId=%d] Finished loading offsets and group metadata from %s-%d (%d groups)",
                gc->cfg.broker_id, SM_GC_OFFSETS_TOPIC, p, ngroups);
}

void
sm_gc_unload(sm_gc_t *gc, int32_t p)
{
    if (p < 0 || p >= gc->cfg.num_partitions) return;
    if (gc->pstate[p] != PART_NOT_OWNED)
        sm_log_info(LOGGER, "[GroupMetadataManager brokerId=%d] Unloading group metadata for %s-%d", gc->cfg.broker_id,
                    SM_GC_OFFSETS_TOPIC, p);
    drop_partition_groups(gc, p, SM_ERR_NOT_COORDINATOR);
    gc->pstate[p] = PART_NOT_OWNED;
}

/* ---- timers ---- */

static void
expire_offsets(sm_gc_t *gc, group_t *g, int64_t now)
{
    int base_state = 0;
    if (g->state == SM_GC_EMPTY && g->protocol_type) base_state = 1;
    else if (g->state == SM_GC_EMPTY && !g->protocol_type) base_state = 0;
    else return;
    if (g->pending_commits) return;
    recs_t rs;
    recs_begin(gc, &rs);
    int removed = 0;
    for (uint32_t b = 0; b < g->onb; b++)
        for (goff_t **pp = &g->obuckets[b]; *pp;) {
            goff_t *o = *pp;
            int64_t base = base_state ? g->state_ts : o->commit_ts;
            int expired = o->expire_ts >= 0 ? now >= o->expire_ts : now - base >= gc->cfg.offsets_retention_ms;
            if (!expired) { pp = &o->next; continue; }
            sm_gc_offset_t x;
            off_fill(o, &x);
            recs_offset(&rs, SM_BYTES_STR(g->id), &x, 1);
            *pp = o->next;
            /* The tombstone's views point at o: encode before freeing (done above). */
            off_free(o);
            g->noffsets--;
            removed++;
        }
    int dead = g->state == SM_GC_EMPTY && g->noffsets == 0;
    if (dead) recs_group(&rs, g, 1);
    recs_flush(&rs, g->partition, now, NULL);
    if (removed)
        sm_log_info(LOGGER, "[GroupMetadataManager brokerId=%d] Removed %d expired offsets of group %s", gc->cfg.broker_id,
                    removed, g->id);
    if (dead) {
        g->state = SM_GC_DEAD;
        group_remove(gc, g, SM_ERR_COORDINATOR_NOT_AVAILABLE);
    }
}

static void
tick_group(sm_gc_t *gc, group_t *g, int64_t now)
{
    /* Pending (MEMBER_ID_REQUIRED) members that never came back. */
    for (pending_t **pp = &g->pending; *pp;) {
        pending_t *p = *pp;
        if (p->deadline > now) { pp = &p->next; continue; }
        *pp = p->next;
        g->npending--;
        free(p->id);
        free(p);
        try_complete_join(gc, g, now);
    }
    /* Session expiry; members waiting in a join or sync are kept alive (the
     * rebalance timeout bounds those). Restart after each removal: it may
     * complete a join and change the list. */
    for (int again = 1; again;) {
        again = 0;
        for (member_t *m = g->members; m; m = m->next)
            if (!m->join_waiter && !m->sync_waiter && m->deadline <= now) {
                sm_log_info(LOGGER, "[GroupCoordinator %d]: Member %s in group %s has failed, removing it from the group",
                            gc->cfg.broker_id, m->id, g->id);
                remove_member(gc, g, m, "removing member on heartbeat expiration", now);
                again = 1;
                break;
            }
    }
    /* A loop: an initial delay of 0 re-arms for "now" once. */
    while (g->state == SM_GC_PREPARING_REBALANCE && g->join_timer && g->join_deadline <= now) {
        if (g->initial_join && g->new_member_added && g->initial_remaining > 0) {
            /* InitialDelayedJoin: new members keep arriving; wait a bit more. */
            int64_t delay = SM_MIN((int64_t)gc->cfg.initial_rebalance_delay_ms, g->initial_remaining);
            g->new_member_added = 0;
            g->initial_remaining -= delay;
            g->join_deadline = now + delay;
        } else {
            complete_join(gc, g, now);
        }
    }
}

void
sm_gc_tick(sm_gc_t *gc, int64_t now)
{
    int expiry = now >= gc->next_expiry_check;
    if (expiry) gc->next_expiry_check = now + gc->cfg.offsets_retention_check_interval_ms;
    for (uint32_t b = 0; b < gc->nb; b++) {
        group_t *g = gc->buckets[b];
        while (g) {
            group_t *next = g->next;
            if (gc->pstate[g->partition] == PART_ACTIVE) {
                tick_group(gc, g, now);
                if (expiry) expire_offsets(gc, g, now);
            }
            g = next;
        }
    }
}

void
sm_gc_append_done(sm_gc_t *gc, void *token, sm_err_t err, int64_t now)
{
    token_t *t = token;
    if (!t) return;
    sm_bytes_t gid = SM_BYTES_STR(t->group);
    group_t *g = group_get(gc, gid);
    if (g && g->incarnation != t->incarnation) g = NULL;
    sm_err_t mapped = map_append_error(err);
    switch (t->kind) {
    case TOK_COMMIT:
        if (g && g->pending_commits > 0) g->pending_commits--;
        for (int32_t i = 0; i < t->n; i++) {
            if (!t->included[i]) continue;
            if (mapped != SM_ERR_NONE) { t->errors[i] = (int16_t)mapped; continue; }
            const sm_gc_offset_t *o = &t->offs[i];
            if (g && g->state != SM_GC_DEAD)
                off_put(g, o->topic, o->partition, o->offset, o->leader_epoch, o->metadata, o->commit_timestamp,
                        o->expire_timestamp);
        }
        gc->ops.commit_done(gc->ops.arg, t->waiter, t->errors, t->n);
        break;
    case TOK_SYNC:
        if (g && g->state == SM_GC_COMPLETING_REBALANCE && g->generation == t->generation) {
            if (mapped != SM_ERR_NONE) {
                reset_assignment_error(gc, g, mapped);
                maybe_prepare_rebalance(gc, g, "Error storing group assignment", now);
            } else {
                g->state = SM_GC_STABLE;
                g->state_ts = now;
                for (member_t *m = g->members; m; m = m->next) {
                    m->deadline = now + m->session_timeout;
                    if (!m->sync_waiter) continue;
                    void *w = m->sync_waiter;
                    m->sync_waiter = NULL;
                    sync_answer(gc, w, SM_ERR_NONE, (sm_bytes_t){ m->assignment_len, m->assignment ? m->assignment : (const uint8_t *)"" });
                }
            }
        }
        break;
    case TOK_STATIC_JOIN: {
        member_t *m = g ? member_find(g, SM_BYTES_STR(t->member_id)) : NULL;
        if (m && m->join_waiter == t->waiter) {
            m->join_waiter = NULL;
            if (mapped != SM_ERR_NONE) join_error(gc, t->waiter, mapped, SM_BYTES_STR(m->id));
            else join_answer_current(gc, g, m, t->waiter, 0, t->leader);
        }
        break;
    }
    }
    token_free(t);
}

/* ---- life cycle ---- */

sm_gc_t *
sm_gc_new(const sm_gc_config_t *cfg, const sm_gc_ops_t *ops)
{
    sm_gc_t *gc = sm_calloc(1, sizeof(*gc));
    gc->cfg = *cfg;
    if (gc->cfg.num_partitions <= 0) gc->cfg.num_partitions = 1;
    gc->ops = *ops;
    gc->nb = 256;
    gc->buckets = sm_calloc(gc->nb, sizeof(*gc->buckets));
    gc->pstate = sm_calloc((size_t)gc->cfg.num_partitions, 1);
    gc->rng = ((uint64_t)sm_now_ms() << 20) ^ ((uint64_t)getpid() << 1) ^ (uint64_t)(uintptr_t)gc ^ 0x9e3779b97f4a7c15ULL;
    if (!gc->rng) gc->rng = 1;
    gc->next_expiry_check = 0;
    sm_wbuf_init(&gc->scratch, 4096);
    sm_arena_init(&gc->arena, 0);
    return gc;
}

void
sm_gc_free(sm_gc_t *gc)
{
    if (!gc) return;
    for (uint32_t b = 0; b < gc->nb; b++)
        while (gc->buckets[b]) group_remove(gc, gc->buckets[b], SM_ERR_NOT_COORDINATOR);
    free(gc->buckets);
    free(gc->pstate);
    sm_wbuf_free(&gc->scratch);
    sm_arena_free(&gc->arena);
    free(gc);
}

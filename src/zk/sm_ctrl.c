/*
 * sm_ctrl.c - the controller (see sm_ctrl.h): election, controller context,
 * partition state creation, leader election, topic deletion, and the
 * LeaderAndIsr / UpdateMetadata / StopReplica fan-out through the channel.
 *
 * Structure. Watch events become queued controller events (ELECT, BROKERS,
 * TOPICS, PARTMOD, DELETE, ISRCHG, PREFERRED, REASSIGN, and the
 * ControlledShutdown and auto-rebalance requests), processed one at a time. Each event is a chain
 * of async ZooKeeper steps: a step issues any number of pipelined requests
 * and names the next step; the next step runs when the last completion of
 * the current one has arrived (c->pending). Completions carry the
 * controller generation, bumped on resignation, so a deposed controller's
 * late results are dropped. Every event that touched the context ends in
 * reconcile(): re-read the states it wants to change, write them fenced by
 * a check on /controller_epoch's zkVersion, then tell the brokers.
 *
 * What a partition's state should become is decided in one place, elect(),
 * which combines Kafka's strategies: offline-partition election (preferred
 * replica if in the ISR, else a live ISR member, else unclean if enabled),
 * removal of dead replicas from the ISR, controlled shutdown (move the
 * leader off the shutting-down broker and drop it from the ISR) and
 * preferred-replica election (partitions flagged by the admin znode or the
 * auto-rebalance check). Reassignments have their own planner (reass_plan)
 * following Kafka 2.4's flow with adding_replicas/removing_replicas.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/sm_err.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "zk/sm_ctrl.h"
#include "zk/sm_zk_codec.h"

#define LOGGER "samsa.controller"
#define CLOG_INFO(c, fmt, ...) sm_log_info(LOGGER, "[Controller id=%d] " fmt, (c)->id, ##__VA_ARGS__)
#define CLOG_WARN(c, fmt, ...) sm_log_warn(LOGGER, "[Controller id=%d] " fmt, (c)->id, ##__VA_ARGS__)
#define CLOG_ERROR(c, fmt, ...) sm_log_error(LOGGER, "[Controller id=%d] " fmt, (c)->id, ##__VA_ARGS__)

enum { EV_ELECT, EV_BROKERS, EV_TOPICS, EV_PARTMOD, EV_DELETE, EV_ISRCHG, EV_PREFERRED, EV_REASSIGN, EV_CSHUT,
       EV_REBALANCE };

/* ctopic_t.flag bits */
enum { FL_PREF = 1, FL_ISR = 2, FL_CSSTOP = 4 };

typedef void (*cs_done_fn)(void *arg, int16_t error, const sm_ctrl_tp_t *remaining, int n);

typedef struct {
    char *name;
    sm_topic_assignment_t a;
    int loaded;                  /* assignment read */
    sm_partition_state_t *st;    /* [a.npartitions] */
    int *has_st;
    int *changed;                /* this round: 1 updated, 2 created */
    unsigned char *flag;         /* FL_* per partition, for the current event */
    int unclean;                 /* topic-level unclean.leader.election.enable, -1 unset */
    sm_zk_reassigning_t ra;      /* adding/removing replicas of the topic znode */
    int assignment_dirty;        /* reassignment changed a/ra and must write them */
} ctopic_t;

typedef struct {
    int kind;
    char *topic;
    int32_t broker;              /* EV_CSHUT */
    int64_t broker_epoch;
    cs_done_fn done;
    void *arg;
} cev_t;

/* One entry of /admin/reassign_partitions being driven. */
typedef struct {
    char *topic;
    int32_t part;
    int32_t ntrs, *trs;          /* target replicas */
    int32_t nrm, *rm;            /* replicas to stop and delete once done */
    int done;
} reass_t;

typedef void (*step_fn)(sm_ctrl_t *c);

struct sm_ctrl_s {
    sm_zk_t *zk;
    int32_t id;
    sm_ctrl_conf_t conf;
    sm_ctrl_channel_t ch;
    int listener_id;
    int started, freed, refs;
    unsigned gen;

    int active;
    int32_t epoch, epoch_zkv, controller_id;

    /* controller context */
    sm_broker_info_t *live;
    int nlive;
    ctopic_t *topics;
    int ntopics;
    char **delq;                 /* /admin/delete_topics children */
    int ndelq;

    /* event queue */
    cev_t *q;
    int qn;
    int busy;

    /* current step */
    int pending;
    step_fn next;

    /* per-event scratch */
    sm_broker_info_t *nb;        /* broker list being loaded */
    int nnb;
    char **names;                /* topic names being loaded */
    int nnames;
    int32_t *new_brokers;
    int nnew;
    int full, um_all, retry, fenced, rounds, attempts;
    char *new_topics_log;
    char *log_new, *log_del;
    int32_t read_epoch, read_epoch_v;
    char **paths;                /* tree delete */
    int *depths;
    int npaths;
    char **deleting;
    int ndeleting;

    int32_t *bounced;            /* this event: brokers that re-registered */
    int nbounced;
    int32_t *shutting;           /* brokers in controlled shutdown (context) */
    int nshutting;
    int32_t cs_broker;           /* EV_CSHUT being processed, else -1 */
    cs_done_fn cs_done;
    void *cs_arg;
    int pref_znode;              /* delete /admin/preferred_replica_election after this event */
    char **notes;                /* /isr_change_notification children being processed */
    int nnotes;
    reass_t *reass;              /* /admin/reassign_partitions entries */
    int nreass;
    int reass_event;             /* this event plans reassignments */
    int reass_changed;           /* some entry finished: rewrite the znode */
    struct event *rebalance_ev;
};

typedef struct {
    sm_ctrl_t *c;
    unsigned gen;
    char *topic;
    int32_t part;
    int depth;
} xctx_t;

static void run_next(sm_ctrl_t *c);
static void reconcile(sm_ctrl_t *c);
static void elect_begin(sm_ctrl_t *c);

/* ---- plumbing ----------------------------------------------------------- */

static xctx_t *
xnew(sm_ctrl_t *c, const char *topic, int32_t part)
{
    xctx_t *x = sm_calloc(1, sizeof(*x));
    x->c = c;
    x->gen = c->gen;
    x->topic = topic ? sm_strdup(topic) : NULL;
    x->part = part;
    c->refs++;
    return x;
}

static void ctrl_destroy(sm_ctrl_t *c);

/* Consume x; returns c if the completion is still current, else NULL. */
static sm_ctrl_t *
xtake(xctx_t *x, char **topic, int32_t *part, int *depth)
{
    sm_ctrl_t *c = x->c;
    int live = !c->freed && x->gen == c->gen;
    if (topic) *topic = x->topic;
    else free(x->topic);
    if (part) *part = x->part;
    if (depth) *depth = x->depth;
    free(x);
    if (--c->refs == 0) {
        if (topic) { free(*topic); *topic = NULL; }
        ctrl_destroy(c);
        return NULL;
    }
    if (!live && topic) { free(*topic); *topic = NULL; }
    return live ? c : NULL;
}

static void
step(sm_ctrl_t *c, step_fn next)
{
    c->pending = 1;    /* guard until the issuing code calls arrive() */
    c->next = next;
}

static void
arrive(sm_ctrl_t *c)
{
    if (--c->pending == 0 && c->next) {
        step_fn f = c->next;
        c->next = NULL;
        f(c);
    }
}

static void
event_done(sm_ctrl_t *c)
{
    c->busy = 0;
    run_next(c);
}

static int
in_i32(const int32_t *v, int32_t n, int32_t x)
{
    for (int32_t i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static int
is_bounced(const sm_ctrl_t *c, int32_t id)
{
    return in_i32(c->bounced, c->nbounced, id);
}

static int
is_shutting(const sm_ctrl_t *c, int32_t id)
{
    return in_i32(c->shutting, c->nshutting, id);
}

/* The live broker's registration, or NULL. */
static const sm_broker_info_t *
find_live(const sm_ctrl_t *c, int32_t id)
{
    for (int i = 0; i < c->nlive; i++)
        if (c->live[i].id == id) return &c->live[i];
    return NULL;
}

static int
is_live(const sm_ctrl_t *c, int32_t id)
{
    return find_live(c, id) != NULL;
}

static ctopic_t *
find_topic(sm_ctrl_t *c, const char *name)
{
    for (int i = 0; i < c->ntopics; i++)
        if (!strcmp(c->topics[i].name, name)) return &c->topics[i];
    return NULL;
}

static void
topic_clear(ctopic_t *t)
{
    for (int32_t p = 0; t->st && p < t->a.npartitions; p++) sm_partition_state_free(&t->st[p]);
    free(t->st);
    free(t->has_st);
    free(t->changed);
    free(t->flag);
    sm_zk_reassigning_free(&t->ra);
    sm_topic_assignment_free(&t->a);
    free(t->name);
}

static void
remove_topic(sm_ctrl_t *c, const char *name)
{
    for (int i = 0; i < c->ntopics; i++) {
        if (!strcmp(c->topics[i].name, name)) {
            topic_clear(&c->topics[i]);
            c->topics[i] = c->topics[--c->ntopics];
            return;
        }
    }
}

static ctopic_t *
add_topic(sm_ctrl_t *c, const char *name)
{
    c->topics = sm_realloc(c->topics, sizeof(ctopic_t) * (size_t)(c->ntopics + 1));
    ctopic_t *t = &c->topics[c->ntopics++];
    memset(t, 0, sizeof(*t));
    t->name = sm_strdup(name);
    t->unclean = -1;
    return t;
}

static void
free_strv(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void
free_brokers(sm_broker_info_t *b, int n)
{
    for (int i = 0; i < n; i++) sm_broker_info_free(&b[i]);
    free(b);
}

static int
in_list(const char *const *v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return 1;
    return 0;
}

static void
reass_entry_free(reass_t *e)
{
    free(e->topic);
    free(e->trs);
    free(e->rm);
}

/* Drop every /admin/reassign_partitions entry being driven. */
static void
reass_clear(sm_ctrl_t *c)
{
    for (int i = 0; i < c->nreass; i++) reass_entry_free(&c->reass[i]);
    free(c->reass);
    c->reass = NULL;
    c->nreass = 0;
}

static void
clear_context(sm_ctrl_t *c)
{
    free_brokers(c->live, c->nlive);
    c->live = NULL;
    c->nlive = 0;
    for (int i = 0; i < c->ntopics; i++) topic_clear(&c->topics[i]);
    free(c->topics);
    c->topics = NULL;
    c->ntopics = 0;
    free_strv(c->delq, c->ndelq);
    c->delq = NULL;
    c->ndelq = 0;
    free(c->shutting);
    c->shutting = NULL;
    c->nshutting = 0;
    reass_clear(c);
}

static void
clear_scratch(sm_ctrl_t *c)
{
    free_brokers(c->nb, c->nnb);
    c->nb = NULL;
    c->nnb = 0;
    free_strv(c->names, c->nnames);
    c->names = NULL;
    c->nnames = 0;
    free(c->new_brokers);
    c->new_brokers = NULL;
    c->nnew = 0;
    free(c->new_topics_log);
    c->new_topics_log = NULL;
    free(c->log_new);
    free(c->log_del);
    c->log_new = c->log_del = NULL;
    free_strv(c->paths, c->npaths);
    free(c->depths);
    c->paths = NULL;
    c->depths = NULL;
    c->npaths = 0;
    free_strv(c->deleting, c->ndeleting);
    c->deleting = NULL;
    c->ndeleting = 0;
    free(c->bounced);
    c->bounced = NULL;
    c->nbounced = 0;
    free_strv(c->notes, c->nnotes);
    c->notes = NULL;
    c->nnotes = 0;
    c->full = c->um_all = c->retry = c->fenced = c->rounds = 0;
    c->pref_znode = c->reass_event = c->reass_changed = 0;
}

/* Answer a controlled shutdown in progress with an error (deposed/freed). */
static void
cs_abort(sm_ctrl_t *c)
{
    if (!c->cs_done) return;
    cs_done_fn done = c->cs_done;
    c->cs_done = NULL;
    c->cs_broker = -1;
    done(c->cs_arg, SM_ERR_NOT_CONTROLLER, NULL, 0);
}

static void
resign(sm_ctrl_t *c)
{
    if (c->active) CLOG_INFO(c, "Resigning");
    c->active = 0;
    c->gen++;            /* drop in-flight completions of this reign */
    c->pending = 0;
    c->next = NULL;
    cs_abort(c);
    clear_context(c);
    clear_scratch(c);
    /* Only elections survive a resignation; pending ControlledShutdown
     * requests are answered NOT_CONTROLLER so the broker retries elsewhere. */
    int k = 0, nq = c->qn;
    cev_t *drop = sm_calloc((size_t)nq + 1, sizeof(*drop));
    int nd = 0;
    for (int i = 0; i < nq; i++) {
        if (c->q[i].kind == EV_ELECT) c->q[k++] = c->q[i];
        else drop[nd++] = c->q[i];
    }
    c->qn = k;
    c->busy = 0;
    for (int i = 0; i < nd; i++) {
        if (drop[i].kind == EV_CSHUT && drop[i].done) drop[i].done(drop[i].arg, SM_ERR_NOT_CONTROLLER, NULL, 0);
        free(drop[i].topic);
    }
    free(drop);
}

/* Append ev (ownership of ev.topic moves to the queue) and start it if
 * the controller is idle. */
static void
queue_push(sm_ctrl_t *c, cev_t ev)
{
    c->q = sm_realloc(c->q, sizeof(cev_t) * (size_t)(c->qn + 1));
    c->q[c->qn++] = ev;
    if (!c->busy) run_next(c);
}

/* Queue a watch-driven event unless an equal one (same kind and topic) is
 * already waiting: one run sees all changes so far. */
static void
enqueue(sm_ctrl_t *c, int kind, const char *topic)
{
    for (int i = 0; i < c->qn; i++)
        if (c->q[i].kind == kind && (!topic || (c->q[i].topic && !strcmp(c->q[i].topic, topic)))) return;
    queue_push(c, (cev_t){ .kind = kind, .topic = topic ? sm_strdup(topic) : NULL });
}

static void topics_begin(sm_ctrl_t *c);
static void brokers_begin(sm_ctrl_t *c);
static void partmod_begin(sm_ctrl_t *c, const char *topic);
static void deletes_begin(sm_ctrl_t *c);
static void isrchg_begin(sm_ctrl_t *c);
static void pref_begin(sm_ctrl_t *c);
static void reass_begin(sm_ctrl_t *c);
static void cshut_begin(sm_ctrl_t *c, const cev_t *ev);
static void rebalance_begin(sm_ctrl_t *c);

static void
run_next(sm_ctrl_t *c)
{
    while (!c->busy && c->qn && !c->freed) {
        cev_t ev = c->q[0];
        memmove(&c->q[0], &c->q[1], sizeof(cev_t) * (size_t)(c->qn - 1));
        c->qn--;
        if (ev.kind != EV_ELECT && !c->active) {
            if (ev.kind == EV_CSHUT && ev.done) ev.done(ev.arg, SM_ERR_NOT_CONTROLLER, NULL, 0);
            free(ev.topic);
            continue;
        }
        c->busy = 1;
        clear_scratch(c);
        switch (ev.kind) {
        case EV_ELECT: c->attempts = 0; elect_begin(c); break;
        case EV_BROKERS: brokers_begin(c); break;
        case EV_TOPICS: topics_begin(c); break;
        case EV_PARTMOD: partmod_begin(c, ev.topic); break;
        case EV_DELETE: deletes_begin(c); break;
        case EV_ISRCHG: isrchg_begin(c); break;
        case EV_PREFERRED: pref_begin(c); break;
        case EV_REASSIGN: reass_begin(c); break;
        case EV_CSHUT: cshut_begin(c, &ev); break;
        case EV_REBALANCE: rebalance_begin(c); break;
        }
        free(ev.topic);
    }
}

/* A fenced write failed on the epoch check: someone else is controller. */
static int
multi_fenced(const sm_zk_res_t *r)
{
    return r->rc != ZOK && r->nops > 0 && r->op_rc && (r->op_rc[0] == ZBADVERSION || r->op_rc[0] == ZNONODE);
}

/* Every controller write: one multi of a check on /controller_epoch's
 * zkVersion, then the write (type CREATE/SET/DELETE of path; data NULL for
 * a null payload; version as for the op, -1 any), so that nothing is
 * written once another controller has bumped the epoch. cb(arg) gets the
 * multi's result (see multi_fenced()); data is copied before return. */
static void
fenced_write(sm_ctrl_t *c, sm_zk_op_type_t type, const char *path, const sm_wbuf_t *data, int version,
             sm_zk_cb_t cb, void *arg)
{
    sm_zk_op_t ops[2] = {
        { .type = SM_ZK_OP_CHECK, .path = "/controller_epoch", .version = c->epoch_zkv },
        { .type = type, .path = path, .version = version, .data = data ? (const char *)data->data : NULL,
          .len = data ? (int)data->len : -1 },
    };
    sm_zk_amulti(c->zk, ops, 2, cb, arg);
}

/* After a step whose fenced writes may have failed the epoch check: if
 * one did, resign, queue a fresh election and return 1 (the event ends
 * here); else 0. */
static int
deposed_if_fenced(sm_ctrl_t *c)
{
    if (!c->fenced) return 0;
    resign(c);
    enqueue(c, EV_ELECT, NULL);
    return 1;
}

/* The issuing side of a step's reads: count the request in c->pending,
 * then send it; cb must xtake(x) and arrive(). */
static void
step_get(sm_ctrl_t *c, const char *path, int watch, sm_zk_cb_t cb, xctx_t *x)
{
    c->pending++;
    sm_zk_aget(c->zk, path, watch, cb, x);
}

static void
step_children(sm_ctrl_t *c, const char *path, int watch, sm_zk_cb_t cb, xctx_t *x)
{
    c->pending++;
    sm_zk_achildren(c->zk, path, watch, cb, x);
}

/* Copy of a children list (NULL-terminated spare slot kept). */
static char **
strv_dup(char *const *v, int n)
{
    char **d = sm_calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) d[i] = sm_strdup(v[i]);
    return d;
}

/* Completion of a step's fenced write whose only interesting failure is
 * the epoch check (NODEEXISTS on a parent, NONODE on a delete are fine). */
static void
on_fenced_step(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (multi_fenced(r)) c->fenced = 1;
    arrive(c);
}

/* ---- election ----------------------------------------------------------- */

static void elect_read_epoch(sm_ctrl_t *c);
static void failover(sm_ctrl_t *c);

static void
on_elect_controller(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK) {
        int32_t id = -1;
        if (!r->data || sm_zk_decode_controller(r->data, (size_t)r->len, &id) < 0) id = -1;
        if (c->active && id != c->id) resign(c);
        c->controller_id = id;
        if (!c->active && id == c->id && r->stat.ephemeralOwner == sm_zk_session_id(c->zk)) {
            /* Our node outlived our reign (a fenced write deposed us):
             * Kafka's Reelect deletes it so that a fresh election runs;
             * the data watch brings the deletion back as EV_ELECT. */
            CLOG_INFO(c, "Deleting stale /controller of a fenced reign and re-electing");
            sm_zk_adelete(c->zk, "/controller", r->stat.version, NULL, NULL);
        }
        event_done(c);
    } else if (r->rc == ZNONODE) {
        if (c->active) resign(c);
        c->controller_id = -1;
        /* getData on a missing node sets no watch; exists does. */
        sm_zk_aexists(c->zk, "/controller", 1, NULL, NULL);
        c->busy = 1;
        elect_read_epoch(c);
    } else {
        CLOG_WARN(c, "Error reading /controller: %s", sm_zk_rc_name(r->rc));
        event_done(c);
    }
}

static void
elect_begin(sm_ctrl_t *c)
{
    sm_zk_aget(c->zk, "/controller", 1, on_elect_controller, xnew(c, NULL, 0));
}

static void
on_elect_result(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK) {
        c->active = 1;
        c->controller_id = c->id;
        c->epoch = c->read_epoch + 1;
        c->epoch_zkv = c->read_epoch_v + 1;
        CLOG_INFO(c, "%d successfully elected as the controller. Epoch incremented to %d and epoch zk version is now %d",
                  c->id, c->epoch, c->epoch_zkv);
        failover(c);
        return;
    }
    /* NODEEXISTS or BADVERSION: someone else won (or resigned at once);
     * re-read /controller to find out, a bounded number of times. */
    if (++c->attempts > 3) {
        CLOG_WARN(c, "Giving up this election round: %s", sm_zk_rc_name(r->rc));
        event_done(c);
        return;
    }
    elect_begin(c);
}

static void
elect_write(sm_ctrl_t *c)
{
    sm_wbuf_t w, e;
    sm_wbuf_init(&w, 64);
    sm_wbuf_init(&e, 16);
    sm_zk_encode_controller(&w, c->id, sm_now_ms());
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", c->read_epoch + 1);
    sm_write_raw(&e, buf, (size_t)n);
    sm_zk_op_t ops[2] = {
        { .type = SM_ZK_OP_CREATE, .path = "/controller", .data = (const char *)w.data, .len = (int)w.len,
          .flags = ZOO_EPHEMERAL },
        { .type = SM_ZK_OP_SET, .path = "/controller_epoch", .data = (const char *)e.data, .len = (int)e.len,
          .version = c->read_epoch_v },
    };
    sm_zk_amulti(c->zk, ops, 2, on_elect_result, xnew(c, NULL, 0));
    sm_wbuf_free(&w);
    sm_wbuf_free(&e);
}

static void
on_epoch_created(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK || r->rc == ZNODEEXISTS) elect_read_epoch(c);
    else {
        CLOG_WARN(c, "Error creating /controller_epoch: %s", sm_zk_rc_name(r->rc));
        event_done(c);
    }
}

static void
on_epoch(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZNONODE) {
        /* KafkaController.InitialControllerEpoch = 0 */
        sm_zk_acreate(c->zk, "/controller_epoch", "0", 1, 0, on_epoch_created, xnew(c, NULL, 0));
        return;
    }
    int64_t v;
    char buf[32];
    if (r->rc != ZOK || !r->data || r->len <= 0 || r->len >= (int)sizeof(buf)) goto bad;
    memcpy(buf, r->data, (size_t)r->len);
    buf[r->len] = '\0';
    if (sm_parse_i64(buf, &v) < 0 || v < 0 || v >= INT32_MAX) goto bad;
    c->read_epoch = (int32_t)v;
    c->read_epoch_v = r->stat.version;
    elect_write(c);
    return;
bad:
    CLOG_ERROR(c, "Cannot read /controller_epoch: %s", r->rc == ZOK ? "malformed" : sm_zk_rc_name(r->rc));
    event_done(c);
}

static void
elect_read_epoch(sm_ctrl_t *c)
{
    sm_zk_aget(c->zk, "/controller_epoch", 0, on_epoch, xnew(c, NULL, 0));
}

/* ---- loading the context ------------------------------------------------ */

static int
cmp_broker(const void *a, const void *b)
{
    const sm_broker_info_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void
on_broker_data(void *arg, const sm_zk_res_t *r)
{
    int32_t id;
    sm_ctrl_t *c = xtake(arg, NULL, &id, NULL);
    if (!c) return;
    if (r->rc == ZOK && r->data) {
        sm_broker_info_t b;
        if (sm_zk_decode_broker(r->data, (size_t)r->len, id, &b) == 0) {
            b.broker_epoch = r->stat.czxid;
            c->nb = sm_realloc(c->nb, sizeof(*c->nb) * (size_t)(c->nnb + 1));
            c->nb[c->nnb++] = b;
        } else {
            CLOG_WARN(c, "Ignoring malformed registration of broker %d", id);
        }
    }
    arrive(c);
}

static void
on_broker_ids(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    for (int i = 0; r->rc == ZOK && i < r->nchildren; i++) {
        int64_t id;
        if (sm_parse_i64(r->children[i], &id) < 0 || id < 0 || id > INT32_MAX) continue;
        char *path = sm_asprintf("/brokers/ids/%s", r->children[i]);
        step_get(c, path, 0, on_broker_data, xnew(c, NULL, (int32_t)id));
        free(path);
    }
    arrive(c);
}

static void
load_brokers(sm_ctrl_t *c)
{
    step_children(c, "/brokers/ids", 1, on_broker_ids, xnew(c, NULL, 0));
}

static void
on_state(void *arg, const sm_zk_res_t *r)
{
    char *topic;
    int32_t p;
    sm_ctrl_t *c = xtake(arg, &topic, &p, NULL);
    if (!c) return;
    ctopic_t *t = find_topic(c, topic);
    if (t && t->loaded && p < t->a.npartitions) {
        sm_partition_state_t s;
        if (r->rc == ZOK && r->data && sm_zk_decode_partition_state(r->data, (size_t)r->len, &s) == 0) {
            s.zk_version = r->stat.version;
            sm_partition_state_free(&t->st[p]);
            t->st[p] = s;
            t->has_st[p] = 1;
        } else if (r->rc == ZNONODE) {
            sm_partition_state_free(&t->st[p]);
            t->has_st[p] = 0;
        } else if (r->rc == ZOK) {
            CLOG_WARN(c, "Ignoring malformed state of partition %s-%d", topic, p);
        }
    }
    free(topic);
    arrive(c);
}

/* Step read of partition p's state into the context (on_state). A watch
 * is only set for reassignments (Kafka's
 * PartitionReassignmentIsrChangeHandler). */
static void
read_state_watch(sm_ctrl_t *c, const char *topic, int32_t p, int watch)
{
    char *path = sm_asprintf("/brokers/topics/%s/partitions/%d/state", topic, p);
    step_get(c, path, watch, on_state, xnew(c, topic, p));
    free(path);
}

static void
read_state(sm_ctrl_t *c, const char *topic, int32_t p)
{
    read_state_watch(c, topic, p, 0);
}

/* Install a freshly read assignment; keeps known states of old partitions. */
static void
set_assignment(ctopic_t *t, sm_topic_assignment_t *a)
{
    int32_t old = t->loaded ? t->a.npartitions : 0;
    int32_t n = a->npartitions;
    if (n < old) n = old;   /* partitions are never removed; ignore shrinking */
    sm_partition_state_t *st = sm_calloc((size_t)n + 1, sizeof(*st));
    int *has = sm_calloc((size_t)n + 1, sizeof(int)), *ch = sm_calloc((size_t)n + 1, sizeof(int));
    unsigned char *fl = sm_calloc((size_t)n + 1, 1);
    for (int32_t p = 0; p < old; p++) {
        st[p] = t->st[p];
        has[p] = t->has_st[p];
        fl[p] = t->flag[p];
    }
    free(t->st);
    free(t->has_st);
    free(t->changed);
    free(t->flag);
    t->st = st;
    t->has_st = has;
    t->changed = ch;
    t->flag = fl;
    if (a->npartitions >= old) {
        sm_topic_assignment_free(&t->a);
        t->a = *a;
    } else {
        sm_topic_assignment_free(a);
    }
    t->loaded = 1;
}

static void
log_append(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
log_append(char **s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *add;
    if (vasprintf(&add, fmt, ap) < 0) add = NULL;
    va_end(ap);
    if (!add) return;
    char *n = sm_asprintf("%s%s", *s ? *s : "", add);
    free(add);
    free(*s);
    *s = n;
}

static void
append_assignment_log(sm_ctrl_t *c, const ctopic_t *t, int32_t from)
{
    for (int32_t p = from; p < t->a.npartitions; p++) {
        log_append(&c->new_topics_log, "%s%s-%d -> ReplicaAssignment(replicas=", c->new_topics_log ? ", " : "",
                   t->name, p);
        for (int32_t i = 0; i < t->a.nreplicas[p]; i++)
            log_append(&c->new_topics_log, "%s%d", i ? "," : "", t->a.replicas[p][i]);
        log_append(&c->new_topics_log, ", addingReplicas=, removingReplicas=)");
    }
}

static void
on_assignment(void *arg, const sm_zk_res_t *r)
{
    char *topic;
    sm_ctrl_t *c = xtake(arg, &topic, NULL, NULL);
    if (!c) return;
    ctopic_t *t = find_topic(c, topic);
    sm_topic_assignment_t a;
    if (t && r->rc == ZOK && r->data && sm_zk_decode_assignment(r->data, (size_t)r->len, &a) == 0) {
        int32_t old = t->loaded ? t->a.npartitions : 0;
        set_assignment(t, &a);
        sm_zk_reassigning_free(&t->ra);
        if (sm_zk_decode_reassigning(r->data, (size_t)r->len, t->a.npartitions, &t->ra) < 0)
            CLOG_WARN(c, "Ignoring malformed adding/removing replicas of topic %s", topic);
        if (t->a.npartitions > old) {
            append_assignment_log(c, t, old);
            for (int32_t p = old; p < t->a.npartitions; p++) read_state(c, topic, p);
        }
    } else if (t && r->rc == ZOK) {
        CLOG_ERROR(c, "Ignoring malformed assignment of topic %s", topic);
    }
    free(topic);
    arrive(c);
}

static void
read_assignment(sm_ctrl_t *c, const char *topic)
{
    char *path = sm_asprintf("/brokers/topics/%s", topic);
    /* The data watch is Kafka's PartitionModificationsHandler. */
    step_get(c, path, 1, on_assignment, xnew(c, topic, 0));
    free(path);
}

static void
on_topic_names(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK) {
        c->names = strv_dup(r->children, r->nchildren);
        c->nnames = r->nchildren;
        char *newl = NULL, *dell = NULL;   /* kept for topics_loaded's log line */
        for (int i = 0; i < r->nchildren; i++) {
            if (find_topic(c, r->children[i])) continue;
            add_topic(c, r->children[i]);
            log_append(&newl, "%s%s", newl ? ", " : "", r->children[i]);
            read_assignment(c, r->children[i]);
        }
        for (int i = 0; i < c->ntopics;) {
            if (in_list((const char *const *)c->names, c->nnames, c->topics[i].name)) { i++; continue; }
            log_append(&dell, "%s%s", dell ? ", " : "", c->topics[i].name);
            remove_topic(c, c->topics[i].name);
        }
        free(c->log_new);
        free(c->log_del);
        c->log_new = newl;
        c->log_del = dell;
    }
    arrive(c);
}

static void
load_topics(sm_ctrl_t *c)
{
    step_children(c, "/brokers/topics", 1, on_topic_names, xnew(c, NULL, 0));
}

static void
on_delete_names(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK) {
        free_strv(c->delq, c->ndelq);
        c->delq = strv_dup(r->children, r->nchildren);
        c->ndelq = r->nchildren;
    }
    arrive(c);
}

static void
load_deletes(sm_ctrl_t *c)
{
    step_children(c, "/admin/delete_topics", 1, on_delete_names, xnew(c, NULL, 0));
}

/* Append id to the comma-separated list *s (a heap string, "" when
 * empty), for log lines. */
static void
id_join(char **s, int32_t id)
{
    char *t = sm_asprintf("%s%s%d", *s, **s ? "," : "", id);
    free(*s);
    *s = t;
}

static char *
ids_str(const int32_t *v, int32_t n)
{
    char *s = sm_strdup("");
    for (int32_t i = 0; i < n; i++) id_join(&s, v[i]);
    return s;
}

static char *
broker_ids_str(const sm_broker_info_t *b, int n)
{
    char *s = sm_strdup("");
    for (int i = 0; i < n; i++) id_join(&s, b[i].id);
    return s;
}

/* Swap in the freshly read broker list; remember who is new. */
static void
install_brokers(sm_ctrl_t *c)
{
    qsort(c->nb, (size_t)c->nnb, sizeof(*c->nb), cmp_broker);
    char *added = sm_strdup(""), *dead = sm_strdup(""), *bounced = sm_strdup("");
    for (int i = 0; i < c->nnb; i++) {
        const sm_broker_info_t *old = find_live(c, c->nb[i].id);
        if (old && old->broker_epoch == c->nb[i].broker_epoch) continue;
        if (old) {
            /* Kafka handles a bounce as failure + startup: its leaderships
             * move if anyone else can take them (see elect()). */
            c->bounced = sm_realloc(c->bounced, sizeof(int32_t) * (size_t)(c->nbounced + 1));
            c->bounced[c->nbounced++] = c->nb[i].id;
        }
        id_join(old ? &bounced : &added, c->nb[i].id);
        c->new_brokers = sm_realloc(c->new_brokers, sizeof(int32_t) * (size_t)(c->nnew + 1));
        c->new_brokers[c->nnew++] = c->nb[i].id;
    }
    for (int k = 0; k < c->nlive; k++) {
        int still = 0;
        for (int i = 0; i < c->nnb; i++)
            if (c->nb[i].id == c->live[k].id) still = 1;
        if (!still) id_join(&dead, c->live[k].id);
    }
    char *all = broker_ids_str(c->nb, c->nnb);
    if (c->full) {
        CLOG_INFO(c, "Currently active brokers in the cluster: Set(%s)", all);
        c->nnew = 0;   /* failover sends everything to everyone anyway */
    } else {
        CLOG_INFO(c, "Newly added brokers: %s, deleted brokers: %s, bounced brokers: %s, all live brokers: %s",
                  added, dead, bounced, all);
    }
    if (strcmp(added, "") || strcmp(dead, "") || strcmp(bounced, "")) c->um_all = 1;
    free(all);
    free(added);
    free(dead);
    free(bounced);
    free_brokers(c->live, c->nlive);
    c->live = c->nb;
    c->nlive = c->nnb;
    c->nb = NULL;
    c->nnb = 0;
    /* A broker leaves the shutting-down set when it deregisters or comes
     * back with a new registration. */
    int k = 0;
    for (int i = 0; i < c->nshutting; i++) {
        int32_t id = c->shutting[i];
        if (is_live(c, id) && !is_bounced(c, id)) c->shutting[k++] = id;
    }
    c->nshutting = k;
}

/* ---- events ------------------------------------------------------------- */

static void
failover_loaded(sm_ctrl_t *c)
{
    install_brokers(c);
    char *names = NULL;
    for (int i = 0; i < c->ntopics; i++) log_append(&names, "%s%s", names ? "," : "", c->topics[i].name);
    CLOG_INFO(c, "Current list of topics in the cluster: HashSet(%s)", names ? names : "");
    free(names);
    reconcile(c);
}

static void
failover(sm_ctrl_t *c)
{
    CLOG_INFO(c, "Registering handlers");
    CLOG_INFO(c, "Initializing controller context");
    clear_context(c);
    c->full = 1;
    step(c, failover_loaded);
    /* onControllerFailover: pending admin requests and notifications are
     * picked up right after the context is initialised. */
    enqueue(c, EV_ISRCHG, NULL);
    enqueue(c, EV_REASSIGN, NULL);
    enqueue(c, EV_PREFERRED, NULL);
    load_brokers(c);
    load_topics(c);
    load_deletes(c);
    arrive(c);
}

static void
brokers_loaded(sm_ctrl_t *c)
{
    install_brokers(c);
    reconcile(c);
}

static void
brokers_begin(sm_ctrl_t *c)
{
    step(c, brokers_loaded);
    load_brokers(c);
    arrive(c);
}

static void
topics_loaded(sm_ctrl_t *c)
{
    if (c->log_new || c->log_del)
        CLOG_INFO(c, "New topics: [Set(%s)], deleted topics: [Set(%s)], new partition replica assignment [Map(%s)]",
                  c->log_new ? c->log_new : "", c->log_del ? c->log_del : "",
                  c->new_topics_log ? c->new_topics_log : "");
    reconcile(c);
}

static void
topics_begin(sm_ctrl_t *c)
{
    step(c, topics_loaded);
    load_topics(c);
    arrive(c);
}

static void
partmod_loaded(sm_ctrl_t *c)
{
    if (c->new_topics_log) CLOG_INFO(c, "New partitions to be added Map(%s)", c->new_topics_log);
    reconcile(c);
}

static void
partmod_begin(sm_ctrl_t *c, const char *topic)
{
    if (!find_topic(c, topic)) {   /* not (yet) known: TOPICS handles it */
        event_done(c);
        return;
    }
    step(c, partmod_loaded);
    read_assignment(c, topic);
    arrive(c);
}

static void
deletes_begin(sm_ctrl_t *c)
{
    step(c, reconcile);
    load_deletes(c);
    arrive(c);
}

/* ---- reconcile: create states, elect leaders, notify brokers ------------ */

static int
is_deleting(const sm_ctrl_t *c, const char *topic)
{
    return c->conf.delete_topic_enable && in_list((const char *const *)c->delq, c->ndelq, topic);
}

/* May id become leader now (live, not going away, not just restarted)? */
static int
eligible(const sm_ctrl_t *c, int32_t id)
{
    return is_live(c, id) && !is_shutting(c, id) && !is_bounced(c, id);
}

static int
topic_unclean(const sm_ctrl_t *c, const ctopic_t *t)
{
    return t->unclean >= 0 ? t->unclean : c->conf.unclean_leader_election_enable;
}

/* The state that follows s with the given leader and ISR (isr: heap array
 * of nisr, ownership moves to out), written by this controller's epoch. */
static void
next_state(const sm_ctrl_t *c, const sm_partition_state_t *s, int32_t leader, int32_t *isr, int32_t nisr,
           sm_partition_state_t *out)
{
    memset(out, 0, sizeof(*out));
    out->controller_epoch = c->epoch;
    out->leader = leader;
    out->leader_epoch = s->leader_epoch + 1;
    out->isr = isr;
    out->nisr = nisr;
    out->zk_version = s->zk_version + 1;
}

/* The desired state of partition p of t given its current state s: Kafka's
 * offline-partition election (preferred replica if in the ISR, else a live
 * ISR member in assignment order, else an out-of-sync live replica when
 * unclean election is enabled), dead replicas out of the ISR, plus the
 * event modes: controlled shutdown of c->cs_broker and preferred election
 * of partitions flagged FL_PREF. Fills out and returns 1 if the state must
 * change; warn logs an unclean election (only where it is written). */
static int
elect(const sm_ctrl_t *c, const ctopic_t *t, int32_t p, const sm_partition_state_t *s, sm_partition_state_t *out,
      int warn)
{
    const int32_t *replicas = t->a.replicas[p];
    int32_t nrep = t->a.nreplicas[p];
    int32_t *isr = sm_calloc((size_t)s->nisr + (size_t)nrep + 1, sizeof(int32_t));
    int32_t nisr = 0;
    for (int32_t i = 0; i < s->nisr; i++)
        if (is_live(c, s->isr[i]) && !is_bounced(c, s->isr[i])) isr[nisr++] = s->isr[i];
    int32_t leader = -1, cs = c->cs_broker;
    int unclean = 0;

    if (cs >= 0 && s->leader == cs && in_i32(replicas, nrep, cs)) {
        /* ControlledShutdownPartitionLeaderElectionStrategy: first live ISR
         * member not shutting down; none -> the broker keeps leading. */
        for (int32_t i = 0; i < nrep && leader < 0; i++)
            if (replicas[i] != cs && eligible(c, replicas[i]) && in_i32(isr, nisr, replicas[i])) leader = replicas[i];
        if (leader < 0) leader = cs;
    } else if (t->flag && (t->flag[p] & FL_PREF) && nrep > 0 && replicas[0] != s->leader && eligible(c, replicas[0]) &&
               in_i32(isr, nisr, replicas[0])) {
        leader = replicas[0];
    } else if (s->leader >= 0 && is_live(c, s->leader) && !is_bounced(c, s->leader)) {
        leader = s->leader;
    } else {
        for (int32_t i = 0; i < nrep && leader < 0; i++)
            if (eligible(c, replicas[i]) && in_i32(isr, nisr, replicas[i])) leader = replicas[i];
        /* A restarted broker that was the only in-sync replica is still
         * the only clean choice (Kafka: failure, then online election). */
        for (int32_t i = 0; i < s->nisr && leader < 0; i++)
            if (is_live(c, s->isr[i]) && !is_shutting(c, s->isr[i]) && in_i32(replicas, nrep, s->isr[i]))
                leader = s->isr[i];
        if (leader < 0 && topic_unclean(c, t)) {
            for (int32_t i = 0; i < nrep && leader < 0; i++)
                if (is_live(c, replicas[i]) && !is_shutting(c, replicas[i])) leader = replicas[i];
            if (leader >= 0) unclean = 1;
        }
    }
    if (unclean) {
        isr[0] = leader;
        nisr = 1;
    } else if (leader >= 0 && !in_i32(isr, nisr, leader)) {
        isr[nisr++] = leader;   /* the restarted sole ISR member */
    }
    /* The shutting-down broker leaves the ISR unless it is the last one. */
    if (cs >= 0 && leader != cs && in_i32(isr, nisr, cs) && nisr > 1) {
        int32_t k = 0;
        for (int32_t i = 0; i < nisr; i++)
            if (isr[i] != cs) isr[k++] = isr[i];
        nisr = k;
    }
    if (nisr == 0) {
        /* Never leave the ISR empty: keep the last member (Kafka keeps it
         * so that a clean election is possible when it returns). */
        if (s->nisr > 0) {
            int32_t keep = s->leader >= 0 && in_i32(s->isr, s->nisr, s->leader) ? s->leader : s->isr[0];
            isr[0] = keep;
            nisr = 1;
        } else if (leader >= 0) {
            isr[0] = leader;
            nisr = 1;
        }
    }
    int change = leader != s->leader || nisr != s->nisr || memcmp(isr, s->isr, sizeof(int32_t) * (size_t)nisr);
    if (!change) {
        free(isr);
        return 0;
    }
    if (unclean && warn)
        CLOG_WARN(c, "Unclean leader election. Partition %s-%d has been assigned leader %d from deposed leader %d "
                  "and ISR not in sync: possible data loss", t->name, p, leader, s->leader);
    next_state(c, s, leader, isr, nisr, out);
    return 1;
}

static int
needs_create(const sm_ctrl_t *c, const ctopic_t *t, int32_t p)
{
    if (t->has_st[p]) return 0;
    for (int32_t i = 0; i < t->a.nreplicas[p]; i++)
        if (is_live(c, t->a.replicas[p][i])) return 1;
    return 0;
}

static int
needs_election(const sm_ctrl_t *c, const ctopic_t *t, int32_t p)
{
    if (!t->has_st[p]) return 0;
    sm_partition_state_t tmp;
    if (!elect(c, t, p, &t->st[p], &tmp, 0)) return 0;
    sm_partition_state_free(&tmp);
    return 1;
}

/* Worth a fresh read before deciding: in-memory ISRs may be stale because
 * leaders change them, so the event modes re-read all they might touch. */
static int
wants_read(const sm_ctrl_t *c, const ctopic_t *t, int32_t p)
{
    if (!t->has_st[p]) return 0;
    if (t->flag[p] & FL_PREF) return 1;
    /* Offline: a fresh state and topic config may allow an election. */
    if (t->st[p].leader < 0 || !is_live(c, t->st[p].leader)) return 1;
    if (c->cs_broker >= 0 && in_i32(t->a.replicas[p], t->a.nreplicas[p], c->cs_broker)) return 1;
    return needs_election(c, t, p);
}

typedef struct {
    char *topic;
    int32_t part;
    sm_partition_state_t s;
} pending_write_t;

static void reconcile_write(sm_ctrl_t *c);
static void reconcile_send(sm_ctrl_t *c);

static void
on_topic_config(void *arg, const sm_zk_res_t *r)
{
    char *topic;
    sm_ctrl_t *c = xtake(arg, &topic, NULL, NULL);
    if (!c) return;
    ctopic_t *t = find_topic(c, topic);
    sm_props_t props;
    if (t) t->unclean = -1;
    if (t && r->rc == ZOK && r->data && sm_zk_decode_config(r->data, (size_t)r->len, &props) == 0) {
        const char *v = sm_props_get(&props, "unclean.leader.election.enable");
        if (v && !strcasecmp(v, "true")) t->unclean = 1;
        else if (v && !strcasecmp(v, "false")) t->unclean = 0;
        sm_props_free(&props);
    }
    free(topic);
    arrive(c);
}

static void
reconcile(sm_ctrl_t *c)
{
    /* R1: re-read the states we are about to change, so the conditional
     * writes use fresh zkVersions (leaders update ISRs themselves), and
     * the topic-level unclean.leader.election.enable of those topics (read
     * at election time, as Kafka does). */
    step(c, reconcile_write);
    for (int i = 0; i < c->ntopics; i++) {
        ctopic_t *t = &c->topics[i];
        if (!t->loaded || is_deleting(c, t->name)) continue;
        int any = 0;
        for (int32_t p = 0; p < t->a.npartitions; p++) {
            if (!wants_read(c, t, p)) continue;
            read_state(c, t->name, p);
            any = 1;
        }
        if (any) {
            char *path = sm_asprintf("/config/topics/%s", t->name);
            step_get(c, path, 0, on_topic_config, xnew(c, t->name, 0));
            free(path);
        }
    }
    arrive(c);
}

static void
on_state_write(void *arg, const sm_zk_res_t *r)
{
    char *topic;
    int32_t p;
    int created;
    sm_ctrl_t *c = xtake(arg, &topic, &p, &created);
    if (!c) return;
    ctopic_t *t = find_topic(c, topic);
    if (multi_fenced(r)) {
        c->fenced = 1;
    } else if (r->rc != ZOK) {
        /* NODEEXISTS / BADVERSION: the state moved under us; re-read. */
        CLOG_WARN(c, "Failed to %s state of partition %s-%d: %s; will retry", created ? "create" : "update",
                  topic, p, sm_zk_rc_name(r->nops > 1 && r->op_rc ? r->op_rc[r->nops - 1] : r->rc));
        c->retry = 1;
        if (t && p < t->a.npartitions) read_state(c, topic, p);
    } else if (t && p < t->a.npartitions && t->changed[p] < 0) {
        /* Written: the pending state was parked in st[] with changed = -1/-2. */
        t->changed[p] = -t->changed[p];
    }
    free(topic);
    arrive(c);
}


static void
write_state(sm_ctrl_t *c, ctopic_t *t, int32_t p, sm_partition_state_t *ns, int create)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 128);
    sm_zk_encode_partition_state(&w, ns);
    char *path = sm_asprintf("/brokers/topics/%s/partitions/%d/state", t->name, p);
    xctx_t *x = xnew(c, t->name, p);
    x->depth = create;
    c->pending++;
    fenced_write(c, create ? SM_ZK_OP_CREATE : SM_ZK_OP_SET, path, &w, t->st[p].zk_version, on_state_write, x);
    free(path);
    sm_wbuf_free(&w);
    /* Optimistically install; on failure the re-read overwrites it. */
    sm_partition_state_free(&t->st[p]);
    t->st[p] = *ns;
    t->has_st[p] = 1;
    t->changed[p] = create ? -2 : -1;
}

static void
create_parent(sm_ctrl_t *c, const char *path)
{
    c->pending++;
    fenced_write(c, SM_ZK_OP_CREATE, path, NULL, 0, on_fenced_step, xnew(c, NULL, 0));
}

/* Step writes creating partition p's first state: the live replicas in
 * assignment order form the ISR, the first of them leads.
 * createTopicPartitionStatesRaw: parents (null data) first, the topic's
 * "partitions" node only once per topic (*parents_done), then the state;
 * same session, so they apply in this order. */
static void
create_state(sm_ctrl_t *c, ctopic_t *t, int32_t p, int *parents_done)
{
    char *pp;
    if (!*parents_done) {
        pp = sm_asprintf("/brokers/topics/%s/partitions", t->name);
        create_parent(c, pp);
        free(pp);
        *parents_done = 1;
    }
    pp = sm_asprintf("/brokers/topics/%s/partitions/%d", t->name, p);
    create_parent(c, pp);
    free(pp);
    sm_partition_state_t ns = { .controller_epoch = c->epoch, .leader = -1, .leader_epoch = 0 };
    ns.isr = sm_calloc((size_t)t->a.nreplicas[p] + 1, sizeof(int32_t));
    for (int32_t k = 0; k < t->a.nreplicas[p]; k++) {
        int32_t r = t->a.replicas[p][k];
        if (!is_live(c, r)) continue;
        if (ns.leader < 0) ns.leader = r;
        ns.isr[ns.nisr++] = r;
    }
    ns.zk_version = 0;
    write_state(c, t, p, &ns, 1);
}

/* Step write of elect()'s new state for existing partition p, if any;
 * flags partitions the controlled-shutdown broker only follows now. */
static void
elect_state(sm_ctrl_t *c, ctopic_t *t, int32_t p)
{
    sm_partition_state_t ns;
    if (!elect(c, t, p, &t->st[p], &ns, 1)) return;
    int32_t cs = c->cs_broker;
    if (cs >= 0 && t->st[p].leader != cs && ns.leader != cs && in_i32(t->a.replicas[p], t->a.nreplicas[p], cs))
        t->flag[p] |= FL_CSSTOP;   /* followed by cs: StopReplica(delete=false) */
    if (ns.leader >= 0 && ns.leader != t->st[p].leader)
        CLOG_INFO(c, "Elected leader %d for partition %s-%d (leader epoch %d)", ns.leader, t->name, p,
                  ns.leader_epoch);
    else if (ns.leader < 0 && t->st[p].leader >= 0)
        CLOG_WARN(c, "Partition %s-%d is offline: no live in-sync replica", t->name, p);
    write_state(c, t, p, &ns, 0);
}

static void
reconcile_write(sm_ctrl_t *c)
{
    step(c, reconcile_send);
    for (int i = 0; i < c->ntopics; i++) {
        ctopic_t *t = &c->topics[i];
        if (!t->loaded || is_deleting(c, t->name)) continue;
        int parents = 0;
        for (int32_t p = 0; p < t->a.npartitions; p++) {
            if (needs_create(c, t, p)) create_state(c, t, p, &parents);
            else if (t->has_st[p]) elect_state(c, t, p);
        }
    }
    arrive(c);
}

static void
fill_part(sm_ctrl_partition_t *o, const ctopic_t *t, int32_t p)
{
    o->topic = t->name;
    o->partition = p;
    o->controller_epoch = t->st[p].controller_epoch;
    o->leader = t->st[p].leader;
    o->leader_epoch = t->st[p].leader_epoch;
    o->nisr = t->st[p].nisr;
    o->isr = t->st[p].isr;
    o->nreplicas = t->a.nreplicas[p];
    o->replicas = t->a.replicas[p];
    o->zk_version = t->st[p].zk_version;
    o->is_new = t->changed[p] == 2;
}

static sm_ctrl_broker_t *
live_list(sm_ctrl_t *c)
{
    sm_ctrl_broker_t *v = sm_calloc((size_t)c->nlive + 1, sizeof(*v));
    for (int i = 0; i < c->nlive; i++) {
        const sm_broker_info_t *b = &c->live[i];
        v[i].id = b->id;
        v[i].rack = b->rack;
        if (b->nendpoints > 0) {
            v[i].host = b->endpoint_host[0];
            v[i].port = b->endpoint_port[0];
            v[i].listener = b->endpoint_listener[0];
        } else {
            v[i].host = b->host;
            v[i].port = b->port;
        }
    }
    return v;
}

static int
is_new_broker(const sm_ctrl_t *c, int32_t id)
{
    return in_i32(c->new_brokers, c->nnew, id);
}

/* Room for every partition of every loaded topic (caller frees). */
static sm_ctrl_partition_t *
parts_alloc(const sm_ctrl_t *c)
{
    int total = 0;
    for (int i = 0; i < c->ntopics; i++)
        if (c->topics[i].loaded) total += c->topics[i].a.npartitions;
    return sm_calloc((size_t)total + 1, sizeof(sm_ctrl_partition_t));
}

/* Fill parts (from parts_alloc()) with the partitions of loaded topics not
 * being deleted that have a state and were changed this round (or all of
 * them if everything); replica_of >= 0 keeps only partitions that broker
 * replicates. Returns the count. */
static int
collect_parts(const sm_ctrl_t *c, sm_ctrl_partition_t *parts, int32_t replica_of, int everything)
{
    int n = 0;
    for (int i = 0; i < c->ntopics; i++) {
        const ctopic_t *t = &c->topics[i];
        if (!t->loaded || is_deleting(c, t->name)) continue;
        for (int32_t p = 0; p < t->a.npartitions; p++) {
            if (!t->has_st[p]) continue;
            if (replica_of >= 0 && !in_i32(t->a.replicas[p], t->a.nreplicas[p], replica_of)) continue;
            if (everything || t->changed[p] > 0) fill_part(&parts[n++], t, p);
        }
    }
    return n;
}

/* UpdateMetadata with parts[0..n) to every live broker. */
static void
um_broadcast(sm_ctrl_t *c, const sm_ctrl_partition_t *parts, int n)
{
    sm_ctrl_broker_t *live = live_list(c);
    for (int b = 0; b < c->nlive && c->ch.update_metadata; b++)
        c->ch.update_metadata(c->ch.arg, c->live[b].id, c->id, c->epoch, live, c->nlive, parts, n);
    free(live);
}

static void process_deletions(sm_ctrl_t *c);
static void post_reconcile(sm_ctrl_t *c);

static void
reconcile_send(sm_ctrl_t *c)
{
    if (c->fenced)
        CLOG_WARN(c, "Controller moved to another broker (epoch zk version %d is stale). Aborting controller "
                  "startup procedure", c->epoch_zkv);
    if (deposed_if_fenced(c)) return;
    sm_ctrl_partition_t *parts = parts_alloc(c);
    sm_ctrl_broker_t *live = live_list(c);

    /* LeaderAndIsr to every live replica of each partition to announce. */
    for (int b = 0; b < c->nlive; b++) {
        int32_t bid = c->live[b].id;
        int n = collect_parts(c, parts, bid, c->full || is_new_broker(c, bid));
        if (n && c->ch.leader_and_isr) c->ch.leader_and_isr(c->ch.arg, bid, c->id, c->epoch, parts, n);
    }
    /* UpdateMetadata: changes to everyone, everything to new brokers. */
    for (int b = 0; b < c->nlive; b++) {
        int32_t bid = c->live[b].id;
        int everything = c->full || is_new_broker(c, bid);
        int n = collect_parts(c, parts, -1, everything);
        if ((n || everything || c->um_all) && c->ch.update_metadata)
            c->ch.update_metadata(c->ch.arg, bid, c->id, c->epoch, live, c->nlive, parts, n);
    }
    /* Controlled shutdown: partitions the broker only follows stop there. */
    for (int i = 0; c->cs_broker >= 0 && i < c->ntopics; i++) {
        ctopic_t *t = &c->topics[i];
        for (int32_t p = 0; t->loaded && p < t->a.npartitions; p++) {
            if (!(t->flag[p] & FL_CSSTOP)) continue;
            t->flag[p] &= (unsigned char)~FL_CSSTOP;
            if (t->changed[p] > 0 && c->ch.stop_replica) c->ch.stop_replica(c->ch.arg, c->cs_broker, c->epoch, t->name, p, 0);
        }
    }
    if (c->full) CLOG_INFO(c, "Ready to serve as the new controller with epoch %d", c->epoch);
    free(parts);
    free(live);
    for (int i = 0; i < c->ntopics; i++)
        for (int32_t p = 0; c->topics[i].loaded && p < c->topics[i].a.npartitions; p++) c->topics[i].changed[p] = 0;
    c->full = 0;
    c->um_all = 0;
    c->nnew = 0;
    if (c->retry && ++c->rounds < 5) {
        c->retry = 0;
        reconcile(c);
        return;
    }
    post_reconcile(c);
    process_deletions(c);
}

/* ---- topic deletion ----------------------------------------------------- */


/* Step write: fenced delete of path (any version). */
static void
delete_fenced(sm_ctrl_t *c, const char *path)
{
    c->pending++;
    fenced_write(c, SM_ZK_OP_DELETE, path, NULL, -1, on_fenced_step, xnew(c, NULL, 0));
}

/* delete_fenced() of prefix + name, e.g. "/admin/delete_topics/" + topic. */
static void
delete_fenced_under(sm_ctrl_t *c, const char *prefix, const char *name)
{
    char *path = sm_asprintf("%s%s", prefix, name);
    delete_fenced(c, path);
    free(path);
}

static void
on_tree_children(void *arg, const sm_zk_res_t *r)
{
    char *path;
    int depth;
    sm_ctrl_t *c = xtake(arg, &path, NULL, &depth);
    if (!c) return;
    if (r->rc == ZOK) {
        c->paths = sm_realloc(c->paths, sizeof(char *) * (size_t)(c->npaths + 1));
        c->depths = sm_realloc(c->depths, sizeof(int) * (size_t)(c->npaths + 1));
        c->paths[c->npaths] = path;
        c->depths[c->npaths++] = depth;
        path = NULL;
        for (int i = 0; i < r->nchildren && depth < 16; i++) {
            char *child = sm_asprintf("%s/%s", r->path, r->children[i]);
            xctx_t *x = xnew(c, child, 0);
            x->depth = depth + 1;
            step_children(c, child, 0, on_tree_children, x);
            free(child);
        }
    }
    free(path);
    arrive(c);
}

static void
deletion_done(sm_ctrl_t *c)
{
    if (deposed_if_fenced(c)) return;
    for (int i = 0; i < c->ndeleting; i++)
        sm_log_info(LOGGER, "[Topic Deletion Manager %d] Deletion of topic %s successfully completed", c->id,
                    c->deleting[i]);
    event_done(c);
}

static void
tree_collected(sm_ctrl_t *c)
{
    /* Children before parents; all requests go out back to back and the
     * server applies them in order. */
    step(c, deletion_done);
    for (int d = 16; d >= 0; d--)
        for (int i = 0; i < c->npaths; i++)
            if (c->depths[i] == d) delete_fenced(c, c->paths[i]);
    for (int i = 0; i < c->ndeleting; i++) {
        delete_fenced_under(c, "/config/topics/", c->deleting[i]);
        delete_fenced_under(c, "/admin/delete_topics/", c->deleting[i]);
    }
    arrive(c);
}

static void
markers_done(sm_ctrl_t *c)
{
    if (deposed_if_fenced(c)) return;
    event_done(c);
}

static void
process_deletions(sm_ctrl_t *c)
{
    char **drop = NULL;
    int ndrop = 0;
    for (int i = 0; i < c->ndelq; i++) {
        const char *name = c->delq[i];
        ctopic_t *t = find_topic(c, name);
        if (!c->conf.delete_topic_enable) {
            CLOG_INFO(c, "Removing Set(%s) since delete topic is disabled", name);
        } else if (!t) {
            CLOG_INFO(c, "Removing Set(%s) since these topics are not in the cluster", name);
        } else {
            int eligible = t->loaded;
            for (int32_t p = 0; eligible && p < t->a.npartitions; p++)
                for (int32_t k = 0; k < t->a.nreplicas[p]; k++)
                    if (!is_live(c, t->a.replicas[p][k])) eligible = 0;
            if (!eligible) {
                sm_log_info(LOGGER, "[Topic Deletion Manager %d] Not retrying deletion of topic %s at this time "
                            "since it is marked ineligible for deletion", c->id, name);
                continue;
            }
            c->deleting = sm_realloc(c->deleting, sizeof(char *) * (size_t)(c->ndeleting + 1));
            c->deleting[c->ndeleting++] = sm_strdup(name);
            continue;
        }
        drop = sm_realloc(drop, sizeof(char *) * (size_t)(ndrop + 1));
        drop[ndrop++] = sm_strdup(name);
    }
    if (!ndrop && !c->ndeleting) {
        event_done(c);
        return;
    }
    if (!c->ndeleting) {
        /* Only markers to drop (deletion disabled / unknown topics). */
        step(c, markers_done);
        for (int i = 0; i < ndrop; i++) delete_fenced_under(c, "/admin/delete_topics/", drop[i]);
        free_strv(drop, ndrop);
        arrive(c);
        return;
    }
    /* TopicDeletionManager: metadata says "being deleted" (leader -2),
     * replicas stop and delete, then the znodes go. */
    for (int i = 0; i < c->ndeleting; i++) {
        ctopic_t *t = find_topic(c, c->deleting[i]);
        sm_log_info(LOGGER, "[Topic Deletion Manager %d] Topic deletion callback for %s", c->id, t->name);
        sm_ctrl_partition_t *parts = sm_calloc((size_t)t->a.npartitions + 1, sizeof(*parts));
        for (int32_t p = 0; p < t->a.npartitions; p++) {
            fill_part(&parts[p], t, p);
            if (!t->has_st[p]) {
                parts[p].isr = NULL;
                parts[p].nisr = 0;
                parts[p].leader_epoch = 0;
            }
            parts[p].leader = -2;
        }
        um_broadcast(c, parts, t->a.npartitions);
        for (int32_t p = 0; p < t->a.npartitions; p++)
            for (int32_t k = 0; k < t->a.nreplicas[p] && c->ch.stop_replica; k++)
                c->ch.stop_replica(c->ch.arg, t->a.replicas[p][k], c->epoch, t->name, p, 1);
        free(parts);
    }
    /* Markers of disabled/unknown topics are deleted along with the rest. */
    step(c, tree_collected);
    for (int i = 0; i < ndrop; i++) delete_fenced_under(c, "/admin/delete_topics/", drop[i]);
    free_strv(drop, ndrop);
    for (int i = 0; i < c->ndeleting; i++) {
        char *root = sm_asprintf("/brokers/topics/%s", c->deleting[i]);
        step_children(c, root, 0, on_tree_children, xnew(c, root, 0));
        free(root);
        remove_topic(c, c->deleting[i]);
        for (int k = 0; k < c->ndelq; k++) {
            if (!strcmp(c->delq[k], c->deleting[i])) {
                free(c->delq[k]);
                c->delq[k] = c->delq[--c->ndelq];
                break;
            }
        }
    }
    arrive(c);
}

/* ---- after a reconcile: answers and admin znode clean-up ---------------- */

static void
on_fire_and_forget(void *arg, const sm_zk_res_t *r)
{
    char *path;
    sm_ctrl_t *c = xtake(arg, &path, NULL, NULL);
    if (!c) return;
    if (r->rc != ZOK && !(r->nops > 1 && r->op_rc && r->op_rc[1] == ZNONODE))
        CLOG_WARN(c, "Failed to update %s: %s", path ? path : "?", sm_zk_rc_name(r->rc));
    free(path);
}

/* A fenced delete or set whose outcome nobody waits for (the watch that
 * follows re-triggers the owning event if needed). */
static void
fenced_async(sm_ctrl_t *c, const char *path, const sm_wbuf_t *data)
{
    fenced_write(c, data ? SM_ZK_OP_SET : SM_ZK_OP_DELETE, path, data, -1, on_fire_and_forget, xnew(c, path, 0));
}

static char *
tp_join(char *s, const char *topic, int32_t p)
{
    char *n = sm_asprintf("%s%s%s-%d", s ? s : "", s ? "," : "", topic, p);
    free(s);
    return n;
}

static void
reass_finish(sm_ctrl_t *c)
{
    int k = 0;
    for (int i = 0; i < c->nreass; i++) {
        reass_t *e = &c->reass[i];
        if (!e->done) {
            c->reass[k++] = *e;
            continue;
        }
        for (int32_t j = 0; j < e->nrm; j++)
            if (is_live(c, e->rm[j]) && c->ch.stop_replica)
                c->ch.stop_replica(c->ch.arg, e->rm[j], c->epoch, e->topic, e->part, 1);
        reass_entry_free(e);
    }
    c->nreass = k;
    if (!c->reass_changed) return;
    if (k == 0) {
        CLOG_INFO(c, "Removing /admin/reassign_partitions: no reassignment left");
        fenced_async(c, "/admin/reassign_partitions", NULL);
        return;
    }
    sm_zk_tp_t *v = sm_calloc((size_t)k, sizeof(*v));
    for (int i = 0; i < k; i++)
        v[i] = (sm_zk_tp_t){ c->reass[i].topic, c->reass[i].part, c->reass[i].ntrs, c->reass[i].trs };
    sm_wbuf_t w;
    sm_wbuf_init(&w, 256);
    sm_zk_encode_tp_list(&w, v, k, 1);
    fenced_async(c, "/admin/reassign_partitions", &w);
    sm_wbuf_free(&w);
    free(v);
}

static void
post_reconcile(sm_ctrl_t *c)
{
    if (c->cs_done) {
        int n = 0;
        sm_ctrl_tp_t *v = NULL;
        char *names = NULL;
        for (int i = 0; i < c->ntopics; i++) {
            ctopic_t *t = &c->topics[i];
            for (int32_t p = 0; t->loaded && p < t->a.npartitions; p++) {
                if (!t->has_st[p] || t->st[p].leader != c->cs_broker || t->a.nreplicas[p] <= 1) continue;
                v = sm_realloc(v, sizeof(*v) * (size_t)(n + 1));
                v[n++] = (sm_ctrl_tp_t){ t->name, p };
                names = tp_join(names, t->name, p);
            }
        }
        CLOG_INFO(c, "Controlled shutdown of broker %d: %d partitions still led by it%s%s", c->cs_broker, n,
                  n ? ": " : "", names ? names : "");
        cs_done_fn done = c->cs_done;
        void *arg = c->cs_arg;
        c->cs_done = NULL;
        c->cs_broker = -1;
        done(arg, 0, v, n);
        free(v);
        free(names);
    }
    for (int i = 0; i < c->ntopics; i++)
        for (int32_t p = 0; c->topics[i].loaded && p < c->topics[i].a.npartitions; p++)
            c->topics[i].flag[p] &= (unsigned char)~FL_PREF;
    if (c->pref_znode) fenced_async(c, "/admin/preferred_replica_election", NULL);
    if (c->reass_event) reass_finish(c);
}

/* ---- controlled shutdown ------------------------------------------------ */

static void
cshut_begin(sm_ctrl_t *c, const cev_t *ev)
{
    const sm_broker_info_t *b = find_live(c, ev->broker);
    if (!b) {
        ev->done(ev->arg, SM_ERR_BROKER_NOT_AVAILABLE, NULL, 0);
        event_done(c);
        return;
    }
    if (ev->broker_epoch >= 0 && ev->broker_epoch < b->broker_epoch) {
        CLOG_INFO(c, "Ignoring controlled shutdown of broker %d: stale broker epoch %" PRId64 " (current %" PRId64 ")",
                  ev->broker, ev->broker_epoch, b->broker_epoch);
        ev->done(ev->arg, SM_ERR_STALE_BROKER_EPOCH, NULL, 0);
        event_done(c);
        return;
    }
    CLOG_INFO(c, "Shutting down broker %d", ev->broker);
    if (!is_shutting(c, ev->broker)) {
        c->shutting = sm_realloc(c->shutting, sizeof(int32_t) * (size_t)(c->nshutting + 1));
        c->shutting[c->nshutting++] = ev->broker;
    }
    c->cs_broker = ev->broker;
    c->cs_done = ev->done;
    c->cs_arg = ev->arg;
    reconcile(c);
}

void
sm_ctrl_controlled_shutdown(sm_ctrl_t *c, int32_t broker_id, int64_t broker_epoch,
                            void (*done)(void *arg, int16_t error, const sm_ctrl_tp_t *remaining, int n), void *arg)
{
    if (!c->active || c->freed) {
        done(arg, SM_ERR_NOT_CONTROLLER, NULL, 0);
        return;
    }
    /* Never merged with a queued one: each request gets its own answer. */
    queue_push(c, (cev_t){ .kind = EV_CSHUT, .broker = broker_id, .broker_epoch = broker_epoch, .done = done,
                           .arg = arg });
}

/* ---- ISR change notifications ------------------------------------------- */

static void
on_isr_note(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK && r->data) {
        sm_zk_tp_t *v;
        int n;
        if (sm_zk_decode_tp_list(r->data, (size_t)r->len, 0, &v, &n) == 0) {
            for (int i = 0; i < n; i++) {
                ctopic_t *t = find_topic(c, v[i].topic);
                if (!t || !t->loaded || v[i].partition >= t->a.npartitions || (t->flag[v[i].partition] & FL_ISR)) continue;
                t->flag[v[i].partition] |= FL_ISR;
                read_state(c, t->name, v[i].partition);
            }
        } else {
            CLOG_WARN(c, "Ignoring malformed ISR change notification %s", r->path);
        }
        sm_zk_tp_list_free(v, n);
    }
    arrive(c);
}

static void
on_isr_children(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZOK && r->nchildren > 0) {
        c->notes = sm_calloc((size_t)r->nchildren, sizeof(char *));
        for (int i = 0; i < r->nchildren; i++) {
            c->notes[c->nnotes++] = sm_asprintf("/isr_change_notification/%s", r->children[i]);
            step_get(c, c->notes[i], 0, on_isr_note, xnew(c, NULL, 0));
        }
    }
    arrive(c);
}

static void
isr_done(sm_ctrl_t *c)
{
    if (deposed_if_fenced(c)) return;
    if (c->nreass) enqueue(c, EV_REASSIGN, NULL);
    event_done(c);
}

static void
isr_loaded(sm_ctrl_t *c)
{
    sm_ctrl_partition_t *parts = parts_alloc(c);
    int n = 0;
    char *names = NULL;
    for (int i = 0; i < c->ntopics; i++) {
        ctopic_t *t = &c->topics[i];
        for (int32_t p = 0; t->loaded && p < t->a.npartitions; p++) {
            if (!(t->flag[p] & FL_ISR)) continue;
            t->flag[p] &= (unsigned char)~FL_ISR;
            if (!t->has_st[p] || is_deleting(c, t->name)) continue;
            fill_part(&parts[n++], t, p);
            names = tp_join(names, t->name, p);
        }
    }
    if (n) {
        CLOG_INFO(c, "Processing ISR change notifications for %s", names);
        um_broadcast(c, parts, n);
    }
    free(names);
    free(parts);
    step(c, isr_done);
    for (int i = 0; i < c->nnotes; i++) delete_fenced(c, c->notes[i]);
    arrive(c);
}

static void
isrchg_begin(sm_ctrl_t *c)
{
    step(c, isr_loaded);
    step_children(c, "/isr_change_notification", 1, on_isr_children, xnew(c, NULL, 0));
    arrive(c);
}

/* ---- preferred replica election ----------------------------------------- */

static void
on_pref(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    if (r->rc == ZNONODE) {
        sm_zk_aexists(c->zk, "/admin/preferred_replica_election", 1, NULL, NULL);
    } else if (r->rc == ZOK) {
        sm_zk_tp_t *v;
        int n;
        c->pref_znode = 1;   /* processed (or malformed): delete it afterwards */
        if (r->data && sm_zk_decode_tp_list(r->data, (size_t)r->len, 0, &v, &n) == 0) {
            char *names = NULL;
            for (int i = 0; i < n; i++) {
                ctopic_t *t = find_topic(c, v[i].topic);
                if (!t || !t->loaded || v[i].partition >= t->a.npartitions || is_deleting(c, t->name)) {
                    CLOG_WARN(c, "Skipping preferred replica election for unknown partition %s-%d", v[i].topic,
                              v[i].partition);
                    continue;
                }
                t->flag[v[i].partition] |= FL_PREF;
                names = tp_join(names, t->name, v[i].partition);
            }
            CLOG_INFO(c, "Starting replica leader election (PREFERRED) for partitions %s triggered by ZkTriggered",
                      names ? names : "");
            free(names);
        } else {
            CLOG_ERROR(c, "Ignoring malformed /admin/preferred_replica_election");
        }
        sm_zk_tp_list_free(v, n);
    }
    arrive(c);
}

static void
pref_loaded(sm_ctrl_t *c)
{
    if (!c->pref_znode) {
        event_done(c);
        return;
    }
    reconcile(c);
}

static void
pref_begin(sm_ctrl_t *c)
{
    step(c, pref_loaded);
    step_get(c, "/admin/preferred_replica_election", 1, on_pref, xnew(c, NULL, 0));
    arrive(c);
}

/* auto.leader.rebalance.enable: KafkaController.checkAndTriggerAutoLeaderRebalance */
static void
rebalance_begin(sm_ctrl_t *c)
{
    if (c->nreass || c->ndelq) {   /* Kafka skips while reassigning or deleting */
        event_done(c);
        return;
    }
    int any = 0, pct = c->conf.leader_imbalance_per_broker_percentage;
    char *names = NULL;
    for (int b = 0; b < c->nlive; b++) {
        int32_t id = c->live[b].id;
        int64_t total = 0, not_led = 0;
        for (int i = 0; i < c->ntopics; i++) {
            ctopic_t *t = &c->topics[i];
            for (int32_t p = 0; t->loaded && p < t->a.npartitions; p++) {
                if (!t->has_st[p] || t->a.nreplicas[p] <= 0 || t->a.replicas[p][0] != id) continue;
                total++;
                if (t->st[p].leader != id) not_led++;
            }
        }
        if (total == 0 || not_led * 100 <= (int64_t)pct * total) continue;
        CLOG_INFO(c, "Leader imbalance ratio for broker %d is %.3f", id, (double)not_led / (double)total);
        if (is_shutting(c, id)) continue;
        for (int i = 0; i < c->ntopics; i++) {
            ctopic_t *t = &c->topics[i];
            if (!t->loaded || is_deleting(c, t->name)) continue;
            for (int32_t p = 0; p < t->a.npartitions; p++) {
                const sm_partition_state_t *st = &t->st[p];
                if (!t->has_st[p] || t->a.nreplicas[p] <= 0 || t->a.replicas[p][0] != id || st->leader == id) continue;
                /* No ISR check here: the in-memory ISR may be stale; the
                 * reconcile re-reads flagged partitions and elect() checks. */
                t->flag[p] |= FL_PREF;
                names = tp_join(names, t->name, p);
                any = 1;
            }
        }
    }
    if (!any) {
        free(names);
        event_done(c);
        return;
    }
    CLOG_INFO(c, "Starting replica leader election (PREFERRED) for partitions %s triggered by AutoTriggered", names);
    free(names);
    reconcile(c);
}

static void
on_rebalance_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sm_ctrl_check_imbalance(arg);
}

void
sm_ctrl_check_imbalance(sm_ctrl_t *c)
{
    if (c->active) enqueue(c, EV_REBALANCE, NULL);
}

/* ---- partition reassignment --------------------------------------------- */

static int32_t *
i32_minus(const int32_t *a, int32_t na, const int32_t *b, int32_t nb, int32_t *n)
{
    int32_t *v = sm_calloc((size_t)na + 1, sizeof(int32_t));
    *n = 0;
    for (int32_t i = 0; i < na; i++)
        if (!in_i32(b, nb, a[i])) v[(*n)++] = a[i];
    return v;
}

static void
set_partition_replicas(ctopic_t *t, int32_t p, const int32_t *rs, int32_t nrs, const int32_t *add, int32_t nadd,
                       const int32_t *rm, int32_t nrm)
{
    sm_topic_assignment_t *ta = &t->a;
    free(ta->replicas[p]);
    ta->replicas[p] = sm_calloc((size_t)nrs + 1, sizeof(int32_t));
    memcpy(ta->replicas[p], rs, sizeof(int32_t) * (size_t)nrs);
    ta->nreplicas[p] = nrs;
    sm_zk_reassigning_t *a = &t->ra;
    if (!a->nadding || !a->nremoving || a->npartitions < ta->npartitions) {
        /* (Re)size both maps to the current partition count. */
        int32_t n = ta->npartitions, old = a->npartitions;
        int32_t *na = sm_calloc((size_t)n + 1, sizeof(int32_t)), *nr = sm_calloc((size_t)n + 1, sizeof(int32_t));
        int32_t **va = sm_calloc((size_t)n + 1, sizeof(int32_t *)), **vr = sm_calloc((size_t)n + 1, sizeof(int32_t *));
        for (int32_t i = 0; i < old && i < n; i++) {
            if (a->nadding) { na[i] = a->nadding[i]; va[i] = a->adding[i]; a->adding[i] = NULL; }
            if (a->nremoving) { nr[i] = a->nremoving[i]; vr[i] = a->removing[i]; a->removing[i] = NULL; }
        }
        sm_zk_reassigning_free(a);
        a->npartitions = n;
        a->nadding = na;
        a->adding = va;
        a->nremoving = nr;
        a->removing = vr;
    }
    free(a->adding[p]);
    free(a->removing[p]);
    a->adding[p] = sm_calloc((size_t)nadd + 1, sizeof(int32_t));
    a->removing[p] = sm_calloc((size_t)nrm + 1, sizeof(int32_t));
    if (nadd) memcpy(a->adding[p], add, sizeof(int32_t) * (size_t)nadd);
    if (nrm) memcpy(a->removing[p], rm, sizeof(int32_t) * (size_t)nrm);
    a->nadding[p] = nadd;
    a->nremoving[p] = nrm;
    t->assignment_dirty = 1;
}

static void
on_assignment_write(void *arg, const sm_zk_res_t *r)
{
    char *topic;
    sm_ctrl_t *c = xtake(arg, &topic, NULL, NULL);
    if (!c) return;
    if (multi_fenced(r)) c->fenced = 1;
    else if (r->rc != ZOK) CLOG_WARN(c, "Failed to update the assignment of topic %s: %s", topic, sm_zk_rc_name(r->rc));
    free(topic);
    arrive(c);
}

/* Kafka 2.4's onPartitionReassignment, one step per call for each entry:
 * phase A writes RS = TRS + (ORS - TRS) with adding/removing replicas and
 * bumps the leader epoch (LeaderAndIsr makes the new replicas start
 * fetching); once every target replica is in the ISR, phase B elects a
 * leader among TRS if needed, shrinks the ISR to TRS, writes the assignment
 * TRS, and reass_finish() stops and deletes the removed replicas. */
static void
reass_plan(sm_ctrl_t *c)
{
    step(c, reconcile_send);
    for (int i = 0; i < c->nreass; i++) {
        reass_t *e = &c->reass[i];
        ctopic_t *t = find_topic(c, e->topic);
        if (!t || !t->loaded || e->part >= t->a.npartitions || is_deleting(c, t->name)) {
            e->done = 1;
            c->reass_changed = 1;
            continue;
        }
        int32_t p = e->part, ncur = t->a.nreplicas[p];
        const int32_t *cur = t->a.replicas[p];
        int32_t nadd_old = t->ra.nadding && p < t->ra.npartitions ? t->ra.nadding[p] : 0;
        int in_flight = nadd_old > 0 || (t->ra.nremoving && p < t->ra.npartitions && t->ra.nremoving[p] > 0);
        if (!in_flight && ncur == e->ntrs && !memcmp(cur, e->trs, sizeof(int32_t) * (size_t)ncur)) {
            CLOG_INFO(c, "Partition %s-%d already has replicas %s: reassignment complete", t->name, p,
                      "the target set");
            e->done = 1;
            c->reass_changed = 1;
            continue;
        }
        int subset = 1;
        for (int32_t k = 0; k < e->ntrs; k++)
            if (!in_i32(cur, ncur, e->trs[k])) subset = 0;
        sm_partition_state_t *st = t->has_st[p] ? &t->st[p] : NULL;
        if (!subset || !in_flight) {
            /* Phase A. ORS excludes replicas an earlier reassignment was
             * still adding (they are not part of the original set). */
            int32_t nors, nrs = 0, nadd, nrm;
            int32_t *ors = i32_minus(cur, ncur, nadd_old ? t->ra.adding[p] : NULL, nadd_old, &nors);
            int32_t *rs = sm_calloc((size_t)(e->ntrs + nors) + 1, sizeof(int32_t));
            for (int32_t k = 0; k < e->ntrs; k++) rs[nrs++] = e->trs[k];
            for (int32_t k = 0; k < nors; k++)
                if (!in_i32(e->trs, e->ntrs, ors[k])) rs[nrs++] = ors[k];
            int32_t *add = i32_minus(e->trs, e->ntrs, ors, nors, &nadd);
            int32_t *rm = i32_minus(ors, nors, e->trs, e->ntrs, &nrm);
            char *from = ids_str(ors, nors), *to = ids_str(e->trs, e->ntrs);
            CLOG_INFO(c, "Starting reassignment of partition %s-%d from %s to %s (adding %d, removing %d replicas)",
                      t->name, p, from, to, nadd, nrm);
            free(from);
            free(to);
            set_partition_replicas(t, p, rs, nrs, add, nadd, rm, nrm);
            free(ors);
            free(rs);
            free(add);
            free(rm);
            if (st) {
                /* Same leader and ISR, new leader epoch. */
                int32_t *isr = sm_calloc((size_t)st->nisr + 1, sizeof(int32_t));
                memcpy(isr, st->isr, sizeof(int32_t) * (size_t)st->nisr);
                sm_partition_state_t ns;
                next_state(c, st, st->leader, isr, st->nisr, &ns);
                write_state(c, t, p, &ns, 0);
            }
            continue;
        }
        if (!st) continue;
        int caught_up = 1;
        for (int32_t k = 0; k < e->ntrs; k++)
            if (!in_i32(st->isr, st->nisr, e->trs[k])) caught_up = 0;
        if (!caught_up) continue;   /* the state watch brings us back */
        /* Phase B */
        int32_t leader = -1;
        if (st->leader >= 0 && in_i32(e->trs, e->ntrs, st->leader) && is_live(c, st->leader) &&
            !is_shutting(c, st->leader))
            leader = st->leader;
        for (int32_t k = 0; k < e->ntrs && leader < 0; k++)
            if (eligible(c, e->trs[k]) && in_i32(st->isr, st->nisr, e->trs[k])) leader = e->trs[k];
        if (leader < 0) continue;   /* no live target in sync: wait for brokers */
        int32_t *isr = sm_calloc((size_t)st->nisr + 1, sizeof(int32_t)), nisr = 0;
        for (int32_t k = 0; k < st->nisr; k++)
            if (in_i32(e->trs, e->ntrs, st->isr[k])) isr[nisr++] = st->isr[k];
        sm_partition_state_t ns;
        next_state(c, st, leader, isr, nisr, &ns);
        free(e->rm);
        e->rm = i32_minus(cur, ncur, e->trs, e->ntrs, &e->nrm);
        char *to = ids_str(e->trs, e->ntrs);
        CLOG_INFO(c, "Completing reassignment of partition %s-%d: replicas %s, leader %d", t->name, p, to, leader);
        free(to);
        set_partition_replicas(t, p, e->trs, e->ntrs, NULL, 0, NULL, 0);
        write_state(c, t, p, &ns, 0);
        e->done = 1;
        c->reass_changed = 1;
    }
    for (int i = 0; i < c->ntopics; i++) {
        ctopic_t *t = &c->topics[i];
        if (!t->assignment_dirty) continue;
        t->assignment_dirty = 0;
        sm_wbuf_t w;
        sm_wbuf_init(&w, 256);
        sm_zk_encode_assignment_ex(&w, &t->a, &t->ra);
        char *path = sm_asprintf("/brokers/topics/%s", t->name);
        c->pending++;
        fenced_write(c, SM_ZK_OP_SET, path, &w, -1, on_assignment_write, xnew(c, t->name, 0));
        free(path);
        sm_wbuf_free(&w);
    }
    arrive(c);
}

static void
on_reass(void *arg, const sm_zk_res_t *r)
{
    sm_ctrl_t *c = xtake(arg, NULL, NULL, NULL);
    if (!c) return;
    reass_clear(c);
    if (r->rc == ZNONODE) {
        sm_zk_aexists(c->zk, "/admin/reassign_partitions", 1, NULL, NULL);
    } else if (r->rc == ZOK) {
        sm_zk_tp_t *v = NULL;
        int n = 0;
        if (!r->data || sm_zk_decode_tp_list(r->data, (size_t)r->len, 1, &v, &n) < 0) {
            CLOG_ERROR(c, "Ignoring malformed /admin/reassign_partitions; removing it");
            c->reass_changed = 1;
        } else {
            c->reass = sm_calloc((size_t)n + 1, sizeof(reass_t));
            for (int i = 0; i < n; i++) {
                ctopic_t *t = find_topic(c, v[i].topic);
                if (!t || !t->loaded || v[i].partition >= t->a.npartitions || v[i].nreplicas <= 0 ||
                    is_deleting(c, v[i].topic)) {
                    CLOG_WARN(c, "Ignoring reassignment of partition %s-%d: %s", v[i].topic, v[i].partition,
                              v[i].nreplicas <= 0 ? "empty replica list" : "no such partition");
                    c->reass_changed = 1;
                    continue;
                }
                reass_t *e = &c->reass[c->nreass++];
                e->topic = v[i].topic;
                e->part = v[i].partition;
                e->trs = v[i].replicas;
                e->ntrs = v[i].nreplicas;
                v[i].topic = NULL;
                v[i].replicas = NULL;
                for (int32_t k = 0; k < e->ntrs; k++)
                    if (!is_live(c, e->trs[k]))
                        CLOG_WARN(c, "Reassignment of partition %s-%d names broker %d, which is not alive", e->topic,
                                  e->part, e->trs[k]);
                /* PartitionReassignmentIsrChangeHandler: a data watch on
                 * the state brings us back when the ISR grows. */
                read_state_watch(c, e->topic, e->part, 1);
            }
        }
        sm_zk_tp_list_free(v, n);
    }
    arrive(c);
}

static void
reass_loaded(sm_ctrl_t *c)
{
    c->reass_event = 1;
    if (!c->nreass && !c->reass_changed) {
        event_done(c);
        return;
    }
    reass_plan(c);
}

static void
reass_begin(sm_ctrl_t *c)
{
    step(c, reass_loaded);
    step_get(c, "/admin/reassign_partitions", 1, on_reass, xnew(c, NULL, 0));
    arrive(c);
}

int
sm_ctrl_reassignments(const sm_ctrl_t *c)
{
    return c->active ? c->nreass : 0;
}

/* ---- watch events and lifecycle ----------------------------------------- */

static void
on_zk_event(void *arg, sm_zk_event_t ev, const char *path)
{
    sm_ctrl_t *c = arg;
    if (!c->started) return;
    switch (ev) {
    case SM_ZK_EV_CREATED:
    case SM_ZK_EV_DELETED:
    case SM_ZK_EV_CHANGED:
        if (!strcmp(path, "/controller")) {
            /* Deposed (or resigned by an operator): stop acting now, not
             * after the event in progress; in-flight writes are fenced. */
            if (c->active && ev != SM_ZK_EV_CREATED) resign(c);
            enqueue(c, EV_ELECT, NULL);
        } else if (!c->active) {
            break;
        } else if (!strncmp(path, "/brokers/topics/", 16) && !strchr(path + 16, '/')) {
            enqueue(c, EV_PARTMOD, path + 16);
        } else if (!strcmp(path, "/admin/reassign_partitions")) {
            enqueue(c, EV_REASSIGN, NULL);
        } else if (!strcmp(path, "/admin/preferred_replica_election")) {
            enqueue(c, EV_PREFERRED, NULL);
        } else if (c->nreass && !strncmp(path, "/brokers/topics/", 16) && strstr(path, "/state")) {
            enqueue(c, EV_REASSIGN, NULL);
        }
        break;
    case SM_ZK_EV_CHILD:
        if (!c->active) break;
        if (!strcmp(path, "/brokers/ids")) enqueue(c, EV_BROKERS, NULL);
        else if (!strcmp(path, "/brokers/topics")) enqueue(c, EV_TOPICS, NULL);
        else if (!strcmp(path, "/admin/delete_topics")) enqueue(c, EV_DELETE, NULL);
        else if (!strcmp(path, "/isr_change_notification")) enqueue(c, EV_ISRCHG, NULL);
        break;
    case SM_ZK_EV_EXPIRED:
        /* Our /controller is gone with the session. */
        resign(c);
        c->controller_id = -1;
        break;
    case SM_ZK_EV_NEW_SESSION:
        enqueue(c, EV_ELECT, NULL);
        break;
    default:
        break;
    }
}

sm_ctrl_t *
sm_ctrl_new(sm_zk_t *zk, int32_t broker_id, const sm_ctrl_conf_t *conf, const sm_ctrl_channel_t *ch)
{
    sm_ctrl_t *c = sm_calloc(1, sizeof(*c));
    c->zk = zk;
    c->id = broker_id;
    if (conf) c->conf = *conf;
    else c->conf.delete_topic_enable = 1;
    if (ch) c->ch = *ch;
    if (c->conf.leader_imbalance_check_interval_seconds <= 0) c->conf.leader_imbalance_check_interval_seconds = 300;
    if (c->conf.leader_imbalance_per_broker_percentage < 0) c->conf.leader_imbalance_per_broker_percentage = 10;
    c->cs_broker = -1;
    c->controller_id = -1;
    c->refs = 1;
    c->listener_id = sm_zk_add_listener(zk, on_zk_event, c);
    return c;
}

void
sm_ctrl_start(sm_ctrl_t *c)
{
    c->started = 1;
    struct event_base *base = sm_zk_base(c->zk);
    if (c->conf.auto_leader_rebalance_enable && base && !c->rebalance_ev) {
        c->rebalance_ev = event_new(base, -1, EV_PERSIST, on_rebalance_timer, c);
        struct timeval tv = { c->conf.leader_imbalance_check_interval_seconds, 0 };
        event_add(c->rebalance_ev, &tv);
    }
    enqueue(c, EV_ELECT, NULL);
}

static void
ctrl_destroy(sm_ctrl_t *c)
{
    clear_context(c);
    clear_scratch(c);
    for (int i = 0; i < c->qn; i++) free(c->q[i].topic);
    free(c->q);
    free(c);
}

void
sm_ctrl_free(sm_ctrl_t *c)
{
    if (!c) return;
    sm_zk_remove_listener(c->zk, c->listener_id);
    if (c->rebalance_ev) {
        event_free(c->rebalance_ev);
        c->rebalance_ev = NULL;
    }
    if (c->active) {
        /* Resign explicitly so the others need not wait for our session
         * to close; only delete the node if it is still ours. */
        struct Stat st;
        if (sm_zk_exists(c->zk, "/controller", &st) == ZOK && st.ephemeralOwner == sm_zk_session_id(c->zk))
            sm_zk_delete(c->zk, "/controller", st.version);
        resign(c);
    }
    cs_abort(c);
    for (int i = 0; i < c->qn; i++)
        if (c->q[i].kind == EV_CSHUT && c->q[i].done) {
            c->q[i].done(c->q[i].arg, SM_ERR_NOT_CONTROLLER, NULL, 0);
            c->q[i].done = NULL;
        }
    c->freed = 1;
    if (--c->refs == 0) ctrl_destroy(c);
}

int     sm_ctrl_is_active(const sm_ctrl_t *c) { return c->active; }
int32_t sm_ctrl_controller_id(const sm_ctrl_t *c) { return c->controller_id; }
int32_t sm_ctrl_epoch(const sm_ctrl_t *c) { return c->epoch; }
int     sm_ctrl_idle(const sm_ctrl_t *c) { return !c->busy && c->qn == 0; }

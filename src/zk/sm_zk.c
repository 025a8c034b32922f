/*
 * sm_zk.c - ZooKeeper session wrapper (see sm_zk.h): handle lifecycle,
 * expiry recovery, completion/watch hand-off to the owner event_base, and
 * the blocking helpers used by tools and admin threads.
 *
 * Each zookeeper_init() gets a fresh generation number. Everything posted
 * from the ZooKeeper threads carries the generation it came from, so events
 * of a handle we have already replaced are dropped on the base thread
 * instead of confusing the owner. The sm_zk_t is reference counted: every
 * request in flight holds a reference, so a completion posted just before
 * sm_zk_close() still finds valid memory (and is then silently dropped).
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "zk/sm_zk.h"

#define LOGGER "samsa.zookeeper"

typedef struct {
    int id;
    sm_zk_listener_fn fn;
    void *arg;
} listener_t;

/* Per-handle watcher context; outlives the handle it belongs to only until
 * zookeeper_close() returns (no watcher runs after that). */
typedef struct {
    sm_zk_t *zk;
    unsigned gen;
} sess_t;

struct sm_zk_s {
    char *connect;
    int session_timeout_ms;
    struct event_base *base;

    pthread_rwlock_t lock;      /* wr: swapping zh; rd: sync calls */
    zhandle_t *zh;
    sess_t *sess;
    unsigned gen;

    pthread_mutex_t mu;         /* state below, shared with ZK threads */
    pthread_cond_t cond;
    int state;                  /* last ZOO_*_STATE seen for the current gen */
    int expired;                /* sync-only handles: re-create lazily */
    int refs;
    int closed;

    /* base thread only */
    listener_t *listeners;
    int nlisteners, next_listener_id;
    int renewing;               /* a new handle after expiry awaits CONNECTED */
};

static void zk_unref(sm_zk_t *zk);

/* ---- logging ------------------------------------------------------------ */

static void
zk_log_cb(const char *msg)
{
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) n--;
    if (strstr(msg, "ZOO_ERROR")) sm_log_error(LOGGER, "%.*s", (int)n, msg);
    else sm_log_warn(LOGGER, "%.*s", (int)n, msg);
}

const char *
sm_zk_rc_name(int rc)
{
    switch (rc) {
    case ZOK: return "OK";
    case ZNONODE: return "NoNode";
    case ZNODEEXISTS: return "NodeExists";
    case ZBADVERSION: return "BadVersion";
    case ZNOTEMPTY: return "NotEmpty";
    case ZNOCHILDRENFOREPHEMERALS: return "NoChildrenForEphemerals";
    case ZSESSIONEXPIRED: return "SessionExpired";
    case ZCONNECTIONLOSS: return "ConnectionLoss";
    case ZOPERATIONTIMEOUT: return "OperationTimeout";
    case ZINVALIDSTATE: return "InvalidState";
    case ZCLOSING: return "Closing";
    case ZNOAUTH: return "NoAuth";
    case ZBADARGUMENTS: return "BadArguments";
    case ZRUNTIMEINCONSISTENCY: return "RuntimeInconsistency";
    case ZMARSHALLINGERROR: return "MarshallingError";
    default: return zerror(rc);
    }
}

/* ---- event hand-off ----------------------------------------------------- */

typedef struct {
    sm_zk_t *zk;
    unsigned gen;
    int type, state;
    char *path;
} watch_ev_t;

static void
dispatch(sm_zk_t *zk, sm_zk_event_t ev, const char *path)
{
    /* Listeners may add/remove listeners while we iterate: use a copy. */
    int n = zk->nlisteners;
    if (!n) return;
    listener_t *copy = sm_malloc(sizeof(*copy) * (size_t)n);
    memcpy(copy, zk->listeners, sizeof(*copy) * (size_t)n);
    for (int i = 0; i < n && !zk->closed; i++) {
        int live = 0;
        for (int k = 0; k < zk->nlisteners; k++)
            if (zk->listeners[k].id == copy[i].id) live = 1;
        if (live) copy[i].fn(copy[i].arg, ev, path);
    }
    free(copy);
}

static int start_handle(sm_zk_t *zk);

static void
on_watch_ev(void *p)
{
    watch_ev_t *e = p;
    sm_zk_t *zk = e->zk;
    if (zk->closed || e->gen != zk->gen) goto out;
    if (e->type == ZOO_SESSION_EVENT) {
        if (e->state == ZOO_CONNECTED_STATE) {
            if (zk->renewing) {
                zk->renewing = 0;
                sm_log_info(LOGGER, "[ZooKeeperClient] New session established, session id 0x%llx",
                            (unsigned long long)sm_zk_session_id(zk));
                dispatch(zk, SM_ZK_EV_NEW_SESSION, NULL);
            } else {
                dispatch(zk, SM_ZK_EV_CONNECTED, NULL);
            }
        } else if (e->state == ZOO_EXPIRED_SESSION_STATE) {
            sm_log_info(LOGGER, "[ZooKeeperClient] Session expired.");
            dispatch(zk, SM_ZK_EV_EXPIRED, NULL);
            if (!zk->closed && e->gen == zk->gen) {
                zk->renewing = 1;
                if (start_handle(zk) < 0)
                    sm_log_error(LOGGER, "[ZooKeeperClient] Could not re-create the ZooKeeper handle for %s",
                                 zk->connect);
            }
        } else if (e->state == ZOO_CONNECTING_STATE) {
            dispatch(zk, SM_ZK_EV_DISCONNECTED, NULL);
        }
    } else {
        sm_zk_event_t ev = e->type == ZOO_CREATED_EVENT ? SM_ZK_EV_CREATED
                         : e->type == ZOO_DELETED_EVENT ? SM_ZK_EV_DELETED
                         : e->type == ZOO_CHANGED_EVENT ? SM_ZK_EV_CHANGED
                         : e->type == ZOO_CHILD_EVENT ? SM_ZK_EV_CHILD : 0;
        if (ev && e->path) dispatch(zk, ev, e->path);
    }
out:
    free(e->path);
    free(e);
    zk_unref(zk);
}

/* The global watcher; runs on the ZooKeeper completion thread. */
static void
global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    sess_t *s = ctx;
    sm_zk_t *zk = s->zk;
    if (type == ZOO_SESSION_EVENT) {
        pthread_mutex_lock(&zk->mu);
        if (s->gen == zk->gen) {
            zk->state = state;
            if (state == ZOO_EXPIRED_SESSION_STATE && !zk->base) zk->expired = 1;
        }
        pthread_cond_broadcast(&zk->cond);
        pthread_mutex_unlock(&zk->mu);
    }
    if (!zk->base) return;
    pthread_mutex_lock(&zk->mu);
    int closed = zk->closed;
    if (!closed) zk->refs++;
    pthread_mutex_unlock(&zk->mu);
    if (closed) return;
    watch_ev_t *e = sm_calloc(1, sizeof(*e));
    e->zk = zk;
    e->gen = s->gen;
    e->type = type;
    e->state = state;
    e->path = path && *path ? sm_strdup(path) : NULL;
    sm_loop_post(zk->base, on_watch_ev, e);
}

/* Create a new handle (and generation). Caller is the base thread or holds
 * no lock; takes the write lock for the swap. */
static int
start_handle(sm_zk_t *zk)
{
    pthread_rwlock_wrlock(&zk->lock);
    if (zk->zh) {
        zhandle_t *old = zk->zh;
        sess_t *olds = zk->sess;
        zk->zh = NULL;
        zookeeper_close(old);
        free(olds);
    }
    sess_t *s = sm_calloc(1, sizeof(*s));
    s->zk = zk;
    pthread_mutex_lock(&zk->mu);
    s->gen = ++zk->gen;
    zk->state = ZOO_CONNECTING_STATE;
    zk->expired = 0;
    pthread_mutex_unlock(&zk->mu);
    zk->sess = s;
    zk->zh = zookeeper_init2(zk->connect, global_watcher, zk->session_timeout_ms, NULL, s, 0, zk_log_cb);
    int rc = zk->zh ? 0 : -1;
    if (!zk->zh) {
        free(s);
        zk->sess = NULL;
    }
    pthread_rwlock_unlock(&zk->lock);
    return rc;
}

static const char *
state_name(int state)
{
    if (state == ZOO_CONNECTED_STATE) return "CONNECTED";
    if (state == ZOO_EXPIRED_SESSION_STATE) return "EXPIRED";
    if (state == ZOO_AUTH_FAILED_STATE) return "AUTH_FAILED";
    if (state == ZOO_ASSOCIATING_STATE) return "ASSOCIATING";
    return "CONNECTING";
}

/* Wait until connected or timeout; returns 0 or -1 with the last state. */
static int
wait_connected(sm_zk_t *zk, int timeout_ms, int *last)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&zk->mu);
    while (zk->state != ZOO_CONNECTED_STATE && zk->state != ZOO_AUTH_FAILED_STATE &&
           zk->state != ZOO_EXPIRED_SESSION_STATE) {
        if (pthread_cond_timedwait(&zk->cond, &zk->mu, &ts) == ETIMEDOUT) break;
    }
    int st = zk->state;
    pthread_mutex_unlock(&zk->mu);
    *last = st;
    return st == ZOO_CONNECTED_STATE ? 0 : -1;
}

sm_zk_t *
sm_zk_open(const char *connect, int session_timeout_ms, int conn_timeout_ms,
           struct event_base *base, char *errstr, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sm_loop_init);
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);

    sm_zk_t *zk = sm_calloc(1, sizeof(*zk));
    zk->connect = sm_strdup(connect);
    zk->session_timeout_ms = session_timeout_ms;
    zk->base = base;
    zk->refs = 1;
    pthread_rwlock_init(&zk->lock, NULL);
    pthread_mutex_init(&zk->mu, NULL);
    pthread_cond_init(&zk->cond, NULL);
    sm_log_info(LOGGER, "[ZooKeeperClient] Initializing a new session to %s.", connect);
    if (start_handle(zk) < 0) {
        snprintf(errstr, errlen, "Invalid ZooKeeper connect string '%s': %s", connect, strerror(errno));
        sm_zk_close(zk);
        return NULL;
    }
    int last;
    if (wait_connected(zk, conn_timeout_ms, &last) < 0) {
        snprintf(errstr, errlen, "Timed out waiting for connection while in state: %s", state_name(last));
        sm_zk_close(zk);
        return NULL;
    }
    sm_log_info(LOGGER, "[ZooKeeperClient] Connected.");
    return zk;
}

static void
zk_free(sm_zk_t *zk)
{
    pthread_rwlock_destroy(&zk->lock);
    pthread_mutex_destroy(&zk->mu);
    pthread_cond_destroy(&zk->cond);
    free(zk->listeners);
    free(zk->connect);
    free(zk);
}

static void
zk_unref(sm_zk_t *zk)
{
    pthread_mutex_lock(&zk->mu);
    int left = --zk->refs;
    pthread_mutex_unlock(&zk->mu);
    if (!left) zk_free(zk);
}

void
sm_zk_close(sm_zk_t *zk)
{
    if (!zk) return;
    pthread_mutex_lock(&zk->mu);
    zk->closed = 1;
    pthread_mutex_unlock(&zk->mu);
    pthread_rwlock_wrlock(&zk->lock);
    if (zk->zh) zookeeper_close(zk->zh);
    zk->zh = NULL;
    free(zk->sess);
    zk->sess = NULL;
    pthread_rwlock_unlock(&zk->lock);
    zk_unref(zk);
}

int
sm_zk_add_listener(sm_zk_t *zk, sm_zk_listener_fn fn, void *arg)
{
    zk->listeners = sm_realloc(zk->listeners, sizeof(listener_t) * (size_t)(zk->nlisteners + 1));
    int id = ++zk->next_listener_id;
    zk->listeners[zk->nlisteners++] = (listener_t){ id, fn, arg };
    return id;
}

void
sm_zk_remove_listener(sm_zk_t *zk, int id)
{
    for (int i = 0; i < zk->nlisteners; i++) {
        if (zk->listeners[i].id == id) {
            memmove(&zk->listeners[i], &zk->listeners[i + 1], sizeof(listener_t) * (size_t)(zk->nlisteners - i - 1));
            zk->nlisteners--;
            return;
        }
    }
}

struct event_base *
sm_zk_base(sm_zk_t *zk)
{
    return zk->base;
}

int64_t
sm_zk_session_id(sm_zk_t *zk)
{
    pthread_rwlock_rdlock(&zk->lock);
    const clientid_t *c = zk->zh ? zoo_client_id(zk->zh) : NULL;
    int64_t id = c ? c->client_id : 0;
    pthread_rwlock_unlock(&zk->lock);
    return id;
}

int
sm_zk_connected(sm_zk_t *zk)
{
    pthread_mutex_lock(&zk->mu);
    int c = zk->state == ZOO_CONNECTED_STATE;
    pthread_mutex_unlock(&zk->mu);
    return c;
}

zhandle_t *sm_zk_handle(sm_zk_t *zk) { return zk->zh; }

/* ---- async requests ----------------------------------------------------- */

typedef struct {
    sm_zk_t *zk;
    sm_zk_cb_t cb;
    void *arg;
    char *path;
    int rc;
    char *data;
    int len;
    int has_stat;
    struct Stat stat;
    char **children;
    int nchildren;
    char *created;
    /* multi */
    int nops;
    zoo_op_t *zops;
    zoo_op_result_t *zres;
    struct Stat *stats;
    char **bufs;             /* copied paths/data/path buffers, freed at the end */
    int nbufs;
    int *op_rc;
} req_t;

static req_t *
req_new(sm_zk_t *zk, const char *path, sm_zk_cb_t cb, void *arg)
{
    req_t *r = sm_calloc(1, sizeof(*r));
    r->zk = zk;
    r->cb = cb;
    r->arg = arg;
    r->path = sm_strdup(path ? path : "");
    r->len = -1;
    pthread_mutex_lock(&zk->mu);
    zk->refs++;
    pthread_mutex_unlock(&zk->mu);
    return r;
}

static void
deliver(void *p)
{
    req_t *r = p;
    sm_zk_t *zk = r->zk;
    if (r->cb) {
        /* After close the callback still runs (rc ZCLOSING) so the owner
         * can release its argument; it must not touch the session. */
        sm_zk_res_t res = {
            .rc = zk->closed ? ZCLOSING : r->rc, .path = r->path, .data = r->data, .len = r->data ? r->len : -1,
            .has_stat = r->has_stat, .stat = r->stat, .children = r->children, .nchildren = r->nchildren,
            .created = r->created, .nops = r->nops, .op_rc = r->op_rc,
        };
        r->cb(r->arg, &res);
    }
    free(r->path);
    free(r->data);
    for (int i = 0; i < r->nchildren; i++) free(r->children[i]);
    free(r->children);
    free(r->created);
    free(r->zops);
    free(r->zres);
    free(r->stats);
    for (int i = 0; i < r->nbufs; i++) free(r->bufs[i]);
    free(r->bufs);
    free(r->op_rc);
    free(r);
    zk_unref(zk);
}

static void
post(req_t *r)
{
    if (r->zk->base) sm_loop_post(r->zk->base, deliver, r);
    else deliver(r);    /* sync-only handle: nobody listens; just free */
}

/* Completion functions: ZooKeeper completion thread; copy and post. */
static void
data_done(int rc, const char *value, int value_len, const struct Stat *stat, const void *d)
{
    req_t *r = (req_t *)d;
    r->rc = rc;
    if (rc == ZOK && value && value_len >= 0) {
        r->data = sm_malloc((size_t)value_len + 1);
        memcpy(r->data, value, (size_t)value_len);
        r->data[value_len] = '\0';
        r->len = value_len;
    }
    if (stat) { r->stat = *stat; r->has_stat = 1; }
    post(r);
}

static void
stat_done(int rc, const struct Stat *stat, const void *d)
{
    req_t *r = (req_t *)d;
    r->rc = rc;
    if (rc == ZOK && stat) { r->stat = *stat; r->has_stat = 1; }
    post(r);
}

static void
children_done(int rc, const struct String_vector *sv, const struct Stat *stat, const void *d)
{
    req_t *r = (req_t *)d;
    r->rc = rc;
    if (rc == ZOK && sv && sv->count > 0) {
        r->children = sm_calloc((size_t)sv->count, sizeof(char *));
        for (int i = 0; i < sv->count; i++) r->children[i] = sm_strdup(sv->data[i]);
        r->nchildren = sv->count;
    }
    if (rc == ZOK && stat) { r->stat = *stat; r->has_stat = 1; }
    post(r);
}

static void
create_done(int rc, const char *value, const struct Stat *stat, const void *d)
{
    req_t *r = (req_t *)d;
    r->rc = rc;
    if (rc == ZOK && value) r->created = sm_strdup(value);
    if (rc == ZOK && stat) { r->stat = *stat; r->has_stat = 1; }
    post(r);
}

static void
void_done(int rc, const void *d)
{
    req_t *r = (req_t *)d;
    r->rc = rc;
    if (r->zops) {
        r->op_rc = sm_calloc((size_t)r->nops ? (size_t)r->nops : 1, sizeof(int));
        for (int i = 0; i < r->nops; i++) r->op_rc[i] = r->zres[i].err;
    }
    post(r);
}

/* An async call that failed before reaching the server still completes
 * through the base, so the owner has one code path. */
static void
issued(req_t *r, int rc)
{
    if (rc == ZOK) return;
    r->rc = rc;
    if (r->zops) {
        r->op_rc = sm_calloc((size_t)r->nops ? (size_t)r->nops : 1, sizeof(int));
        for (int i = 0; i < r->nops; i++) r->op_rc[i] = rc;
    }
    post(r);
}

static zhandle_t *
async_zh(sm_zk_t *zk)
{
    return zk->zh;   /* only the base thread swaps it, and we are on it */
}

void
sm_zk_aget(sm_zk_t *zk, const char *path, int watch, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, path, cb, arg);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_aget(zh, path, watch, data_done, r) : ZINVALIDSTATE);
}

void
sm_zk_aexists(sm_zk_t *zk, const char *path, int watch, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, path, cb, arg);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_aexists(zh, path, watch, stat_done, r) : ZINVALIDSTATE);
}

void
sm_zk_achildren(sm_zk_t *zk, const char *path, int watch, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, path, cb, arg);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_aget_children2(zh, path, watch, children_done, r) : ZINVALIDSTATE);
}

void
sm_zk_acreate(sm_zk_t *zk, const char *path, const char *data, int len, int flags, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, path, cb, arg);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_acreate2(zh, path, data, data ? len : -1, &ZOO_OPEN_ACL_UNSAFE, flags, create_done, r)
                 : ZINVALIDSTATE);
}

void
sm_zk_aset(sm_zk_t *zk, const char *path, const char *data, int len, int version, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, path, cb, arg);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_aset(zh, path, data, data ? len : -1, version, stat_done, r) : ZINVALIDSTATE);
}

void
sm_zk_adelete(sm_zk_t *zk, const char *path, int version, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, path, cb, arg);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_adelete(zh, path, version, void_done, r) : ZINVALIDSTATE);
}

static char *
keep(req_t *r, const char *s, int len)
{
    if (!s) return NULL;
    size_t n = len >= 0 ? (size_t)len : strlen(s);
    char *c = sm_malloc(n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    r->bufs[r->nbufs++] = c;
    return c;
}

/* Build zoo_op_t's whose strings live in r until completion. */
static void
build_ops(req_t *r, const sm_zk_op_t *ops, int nops)
{
    r->nops = nops;
    r->zops = sm_calloc((size_t)nops ? (size_t)nops : 1, sizeof(zoo_op_t));
    r->zres = sm_calloc((size_t)nops ? (size_t)nops : 1, sizeof(zoo_op_result_t));
    r->stats = sm_calloc((size_t)nops ? (size_t)nops : 1, sizeof(struct Stat));
    r->bufs = sm_calloc((size_t)nops * 3 + 1, sizeof(char *));
    for (int i = 0; i < nops; i++) {
        const sm_zk_op_t *o = &ops[i];
        char *path = keep(r, o->path, -1);
        switch (o->type) {
        case SM_ZK_OP_CREATE: {
            char *data = o->data ? keep(r, o->data, o->len) : NULL;
            size_t blen = strlen(path) + 32;
            char *pb = sm_calloc(1, blen);
            r->bufs[r->nbufs++] = pb;
            zoo_create_op_init(&r->zops[i], path, data, data ? o->len : -1, &ZOO_OPEN_ACL_UNSAFE, o->flags,
                               pb, (int)blen);
            break;
        }
        case SM_ZK_OP_DELETE:
            zoo_delete_op_init(&r->zops[i], path, o->version);
            break;
        case SM_ZK_OP_SET: {
            char *data = o->data ? keep(r, o->data, o->len) : NULL;
            zoo_set_op_init(&r->zops[i], path, data, data ? o->len : -1, o->version, &r->stats[i]);
            break;
        }
        case SM_ZK_OP_CHECK:
            zoo_check_op_init(&r->zops[i], path, o->version);
            break;
        }
    }
}

void
sm_zk_amulti(sm_zk_t *zk, const sm_zk_op_t *ops, int nops, sm_zk_cb_t cb, void *arg)
{
    req_t *r = req_new(zk, "", cb, arg);
    build_ops(r, ops, nops);
    zhandle_t *zh = async_zh(zk);
    issued(r, zh ? zoo_amulti(zh, nops, r->zops, r->zres, void_done, r) : ZINVALIDSTATE);
}

/* ---- sync helpers ------------------------------------------------------- */

/* Take the read lock on a usable handle. A sync-only handle whose session
 * expired is re-created here (there is no base thread to do it). */
static zhandle_t *
sync_begin(sm_zk_t *zk)
{
    pthread_mutex_lock(&zk->mu);
    int expired = zk->expired && !zk->base && !zk->closed;
    pthread_mutex_unlock(&zk->mu);
    if (expired) {
        start_handle(zk);
        int last;
        wait_connected(zk, zk->session_timeout_ms, &last);
    }
    pthread_rwlock_rdlock(&zk->lock);
    return zk->zh;
}

static void sync_end(sm_zk_t *zk) { pthread_rwlock_unlock(&zk->lock); }

int
sm_zk_get(sm_zk_t *zk, const char *path, char **data, int *len, struct Stat *stat)
{
    struct Stat st;
    int cap = 4096, rc;
    char *buf = sm_malloc((size_t)cap + 1);
    zhandle_t *zh = sync_begin(zk);
    for (;;) {
        int blen = cap;
        rc = zh ? zoo_get(zh, path, 0, buf, &blen, &st) : ZINVALIDSTATE;
        if (rc != ZOK) break;
        if (st.dataLength > cap) {   /* truncated: retry with the real size */
            cap = st.dataLength;
            buf = sm_realloc(buf, (size_t)cap + 1);
            continue;
        }
        if (blen < 0) {
            free(buf);
            buf = NULL;
        } else {
            buf[blen] = '\0';
        }
        if (data) *data = buf;
        else free(buf);
        buf = NULL;
        if (len) *len = blen;
        if (stat) *stat = st;
        break;
    }
    sync_end(zk);
    free(buf);
    return rc;
}

int
sm_zk_exists(sm_zk_t *zk, const char *path, struct Stat *stat)
{
    struct Stat st;
    zhandle_t *zh = sync_begin(zk);
    int rc = zh ? zoo_exists(zh, path, 0, &st) : ZINVALIDSTATE;
    sync_end(zk);
    if (rc == ZOK && stat) *stat = st;
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sm_zk_children(sm_zk_t *zk, const char *path, char ***children, int *n)
{
    struct String_vector sv = { 0, NULL };
    zhandle_t *zh = sync_begin(zk);
    int rc = zh ? zoo_get_children(zh, path, 0, &sv) : ZINVALIDSTATE;
    sync_end(zk);
    *children = NULL;
    *n = 0;
    if (rc != ZOK) return rc;
    char **c = sm_calloc((size_t)sv.count + 1, sizeof(char *));
    for (int i = 0; i < sv.count; i++) c[i] = sm_strdup(sv.data[i]);
    qsort(c, (size_t)sv.count, sizeof(char *), cmp_str);
    *children = c;
    *n = sv.count;
    deallocate_String_vector(&sv);
    return rc;
}

void
sm_zk_free_children(char **children, int n)
{
    for (int i = 0; i < n; i++) free(children[i]);
    free(children);
}

int
sm_zk_create(sm_zk_t *zk, const char *path, const char *data, int len, int flags, char **created,
             struct Stat *stat)
{
    size_t blen = strlen(path) + 32;
    char *pb = sm_calloc(1, blen);
    struct Stat st;
    zhandle_t *zh = sync_begin(zk);
    int rc = zh ? zoo_create2(zh, path, data, data ? len : -1, &ZOO_OPEN_ACL_UNSAFE, flags, pb, (int)blen, &st)
                : ZINVALIDSTATE;
    sync_end(zk);
    if (rc == ZOK && stat) *stat = st;
    if (rc == ZOK && created) *created = pb;
    else free(pb);
    return rc;
}

int
sm_zk_set(sm_zk_t *zk, const char *path, const char *data, int len, int version, struct Stat *stat)
{
    struct Stat st;
    zhandle_t *zh = sync_begin(zk);
    int rc = zh ? zoo_set2(zh, path, data, data ? len : -1, version, &st) : ZINVALIDSTATE;
    sync_end(zk);
    if (rc == ZOK && stat) *stat = st;
    return rc;
}

int
sm_zk_delete(sm_zk_t *zk, const char *path, int version)
{
    zhandle_t *zh = sync_begin(zk);
    int rc = zh ? zoo_delete(zh, path, version) : ZINVALIDSTATE;
    sync_end(zk);
    return rc;
}

int
sm_zk_multi(sm_zk_t *zk, const sm_zk_op_t *ops, int nops, int *op_rc)
{
    /* Reuse the async request's op builder for string lifetimes. */
    req_t r = { 0 };
    build_ops(&r, ops, nops);
    zhandle_t *zh = sync_begin(zk);
    int rc = zh ? zoo_multi(zh, nops, r.zops, r.zres) : ZINVALIDSTATE;
    sync_end(zk);
    for (int i = 0; op_rc && i < nops; i++) op_rc[i] = zh ? r.zres[i].err : rc;
    free(r.zops);
    free(r.zres);
    free(r.stats);
    for (int i = 0; i < r.nbufs; i++) free(r.bufs[i]);
    free(r.bufs);
    return rc;
}

int
sm_zk_create_recursive(sm_zk_t *zk, const char *path, const char *data, int len, int flags)
{
    int rc = sm_zk_create(zk, path, data, len, flags, NULL, NULL);
    if (rc != ZNONODE) return rc;
    /* Parents missing: create each prefix, tolerating races with others. */
    char *p = sm_strdup(path);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        int prc = sm_zk_create(zk, p, NULL, -1, 0, NULL, NULL);
        *s = '/';
        if (prc != ZOK && prc != ZNODEEXISTS) {
            free(p);
            return prc;
        }
    }
    free(p);
    return sm_zk_create(zk, path, data, len, flags, NULL, NULL);
}

int
sm_zk_delete_recursive(sm_zk_t *zk, const char *path)
{
    char **kids;
    int n;
    int rc = sm_zk_children(zk, path, &kids, &n);
    if (rc == ZNONODE) return ZOK;
    if (rc != ZOK) return rc;
    for (int i = 0; i < n && rc == ZOK; i++) {
        char *c = sm_asprintf("%s/%s", strcmp(path, "/") ? path : "", kids[i]);
        rc = sm_zk_delete_recursive(zk, c);
        free(c);
    }
    sm_zk_free_children(kids, n);
    if (rc != ZOK) return rc;
    rc = sm_zk_delete(zk, path, -1);
    return rc == ZNONODE ? ZOK : rc;
}

int
sm_zk_ensure_chroot(const char *connect, int session_timeout_ms, int conn_timeout_ms, char *errstr, size_t errlen)
{
    const char *slash = strchr(connect, '/');
    if (!slash || !slash[1]) return 0;
    char *hosts = strndup(connect, (size_t)(slash - connect));
    sm_zk_t *zk = sm_zk_open(hosts, session_timeout_ms, conn_timeout_ms, NULL, errstr, errlen);
    free(hosts);
    if (!zk) return -1;
    int rc = sm_zk_create_recursive(zk, slash, NULL, -1, 0);
    sm_zk_close(zk);
    if (rc != ZOK && rc != ZNODEEXISTS) {
        snprintf(errstr, errlen, "Could not create chroot path %s: %s", slash, sm_zk_rc_name(rc));
        return -1;
    }
    return 0;
}

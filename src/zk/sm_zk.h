/*
 * sm_zk.h - the ZooKeeper session wrapper: one libzookeeper-mt handle with
 * a chroot-capable connect string, a blocking connect with Kafka's
 * connection-timeout message, transparent re-creation of the handle after
 * session expiry, async operations whose completions and watch events are
 * delivered on the owner's libevent event_base, and blocking helpers for
 * tools and admin worker threads.
 *
 * Threading: libzookeeper-mt runs an I/O thread and a completion thread.
 * Our callbacks on the completion thread only copy the result and
 * sm_loop_post() it to the owner base; every sm_zk_cb_t and listener runs
 * on that base's thread. Async calls (sm_zk_a*) must be made from the base
 * thread. Sync calls (sm_zk_get() etc.) may be made from any thread that is
 * not a ZooKeeper callback; they block only the caller.
 *
 * Watches: like Kafka's ZooKeeperClient, there is one global watcher; an
 * async read with watch=1 arms a one-shot watch, and the event reaches
 * every registered listener (each filters by path). After a session expiry
 * all watches are gone: listeners get SM_ZK_EV_NEW_SESSION and must
 * re-register ephemerals and re-arm watches.
 */
#ifndef SM_ZK_H
#define SM_ZK_H

#include <stddef.h>
#include <stdint.h>
/* The sync API of libzookeeper-mt is only declared with THREADED. */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

struct event_base;
typedef struct sm_zk_s sm_zk_t;

/* Event kinds delivered to listeners. The first four are znode watch
 * events (path set); the rest are session state changes (path NULL). */
typedef enum {
    SM_ZK_EV_CREATED = 1,
    SM_ZK_EV_DELETED,
    SM_ZK_EV_CHANGED,
    SM_ZK_EV_CHILD,
    SM_ZK_EV_CONNECTED,       /* (re)connected, same session */
    SM_ZK_EV_DISCONNECTED,    /* connection lost, session may survive */
    SM_ZK_EV_EXPIRED,         /* session expired; a new handle is being created */
    SM_ZK_EV_NEW_SESSION,     /* connected with a fresh session after expiry */
} sm_zk_event_t;

typedef void (*sm_zk_listener_fn)(void *arg, sm_zk_event_t ev, const char *path);

/* Result of an async operation; valid only during the callback. */
typedef struct {
    int rc;                   /* ZOK or a ZooKeeper error (ZNONODE, ZNODEEXISTS, ...) */
    const char *path;         /* the request path ("" for multi) */
    const char *data;         /* get: node data, NULL if the node holds null */
    int len;                  /* get: data length, -1 for null */
    int has_stat;
    struct Stat stat;         /* get/exists/children/set/create: node stat */
    char **children;          /* children: names, unsorted */
    int nchildren;
    const char *created;      /* create: actual path (sequential suffix) */
    int nops;                 /* multi: per-op results */
    const int *op_rc;
} sm_zk_res_t;

typedef void (*sm_zk_cb_t)(void *arg, const sm_zk_res_t *res);

/* One operation of a multi. Strings are copied by sm_zk_amulti/sm_zk_multi. */
typedef enum { SM_ZK_OP_CREATE, SM_ZK_OP_DELETE, SM_ZK_OP_SET, SM_ZK_OP_CHECK } sm_zk_op_type_t;
typedef struct {
    sm_zk_op_type_t type;
    const char *path;
    const char *data;         /* CREATE/SET; NULL for a null payload */
    int len;                  /* -1 for null */
    int flags;                /* CREATE: ZOO_EPHEMERAL, ZOO_PERSISTENT_SEQUENTIAL, ... */
    int version;              /* DELETE/SET/CHECK: expected version, -1 any */
} sm_zk_op_t;

/* Open a session and wait up to conn_timeout_ms for CONNECTED.
 * connect: "h1:2181,h2:2181/chroot". base: owner event_base for async
 * completions and watch events (NULL for a sync-only handle, e.g. tools).
 * Returns NULL with errstr "Timed out waiting for connection while in
 * state: CONNECTING" (Kafka's wording) on timeout. Caller owns the result. */
sm_zk_t *sm_zk_open(const char *connect, int session_timeout_ms, int conn_timeout_ms,
                    struct event_base *base, char *errstr, size_t errlen);
/* Close the session (ephemerals vanish) and free. Base thread only, or any
 * thread for a handle opened with base NULL. Async requests still in flight
 * complete later on the base with rc ZCLOSING (so owners can free their
 * argument; run the base once more before freeing it); listeners are not
 * called after close. */
void sm_zk_close(sm_zk_t *zk);

/* Add a listener for watch and session events (base thread). The returned
 * id removes it with sm_zk_remove_listener(). */
int  sm_zk_add_listener(sm_zk_t *zk, sm_zk_listener_fn fn, void *arg);
void sm_zk_remove_listener(sm_zk_t *zk, int id);

/* Current session id (0 if none) and whether the handle is connected. */
int64_t sm_zk_session_id(sm_zk_t *zk);
int     sm_zk_connected(sm_zk_t *zk);
/* The owner event_base given to sm_zk_open() (NULL for sync-only handles),
 * e.g. for timers of components living on that base. */
struct event_base *sm_zk_base(sm_zk_t *zk);
/* Raw handle, for tests (the session-expiry trick) only. */
zhandle_t *sm_zk_handle(sm_zk_t *zk);
/* Error text for a ZooKeeper rc, in Kafka's KeeperException spelling
 * ("NoNode", "NodeExists", "BadVersion", ...). */
const char *sm_zk_rc_name(int rc);

/* ---- async (owner base thread only); cb always runs later on the base ---- */
void sm_zk_aget(sm_zk_t *zk, const char *path, int watch, sm_zk_cb_t cb, void *arg);
void sm_zk_aexists(sm_zk_t *zk, const char *path, int watch, sm_zk_cb_t cb, void *arg);
void sm_zk_achildren(sm_zk_t *zk, const char *path, int watch, sm_zk_cb_t cb, void *arg);
void sm_zk_acreate(sm_zk_t *zk, const char *path, const char *data, int len, int flags,
                   sm_zk_cb_t cb, void *arg);
void sm_zk_aset(sm_zk_t *zk, const char *path, const char *data, int len, int version,
                sm_zk_cb_t cb, void *arg);
void sm_zk_adelete(sm_zk_t *zk, const char *path, int version, sm_zk_cb_t cb, void *arg);
void sm_zk_amulti(sm_zk_t *zk, const sm_zk_op_t *ops, int nops, sm_zk_cb_t cb, void *arg);

/* ---- sync (any non-ZooKeeper thread); return a ZooKeeper rc ---- */
/* *data is a fresh NUL-terminated heap copy (NULL for a null node). */
int sm_zk_get(sm_zk_t *zk, const char *path, char **data, int *len, struct Stat *stat);
int sm_zk_exists(sm_zk_t *zk, const char *path, struct Stat *stat);
/* Children sorted by strcmp; free with sm_zk_free_children(). */
int sm_zk_children(sm_zk_t *zk, const char *path, char ***children, int *n);
void sm_zk_free_children(char **children, int n);
/* created (optional) receives the actual path, heap. */
int sm_zk_create(sm_zk_t *zk, const char *path, const char *data, int len, int flags, char **created,
                 struct Stat *stat);
int sm_zk_set(sm_zk_t *zk, const char *path, const char *data, int len, int version, struct Stat *stat);
int sm_zk_delete(sm_zk_t *zk, const char *path, int version);
/* op_rc (optional, nops entries) receives each op's result. */
int sm_zk_multi(sm_zk_t *zk, const sm_zk_op_t *ops, int nops, int *op_rc);
/* Create path and any missing parents (persistent, null data for parents);
 * ZNODEEXISTS for the last component is returned as such. */
int sm_zk_create_recursive(sm_zk_t *zk, const char *path, const char *data, int len, int flags);
/* Kafka's createChrootIfNecessary: if connect names a chroot
 * ("h:2181/kafka"), create that path (and parents) through a short session
 * to the bare hosts. Returns 0, or -1 with errstr. */
int sm_zk_ensure_chroot(const char *connect, int session_timeout_ms, int conn_timeout_ms, char *errstr, size_t errlen);
/* Delete path and everything under it; ZNONODE is success. */
int sm_zk_delete_recursive(sm_zk_t *zk, const char *path);

#endif

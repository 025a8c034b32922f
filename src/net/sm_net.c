/*
 * sm_net.c - the socket server: listener and acceptor thread, network
 * worker threads, connections, request framing and response sending (see
 * sm_net.h for the contract).
 *
 * Threads. sm_net_start() binds the listener and starts one acceptor thread
 * (own event_base) and num_threads workers (one event_base each, epoll).
 * The acceptor accept4()s, tunes the socket and pushes it on the next
 * worker's queue round-robin, then activates that worker's hand-off event;
 * libevent wakes the worker through its notify fd (memcached's queue +
 * wake-up). Everything about a connection then happens on its worker.
 *
 * Reading. Each connection has one read buffer, reused across requests. A
 * frame is dispatched straight from it (no copy); the buffer is grown to a
 * frame's size only after the size passed the checks, and never moved while
 * a request is in progress, because the handler holds a pointer into it.
 * While a request is in progress the connection reads ahead only into the
 * free space already allocated and at most READ_AHEAD bytes or one complete
 * frame, so a client cannot make us buffer without bound.
 *
 * Writing. Responses queue on the connection in request order. Memory
 * chunks of consecutive responses are gathered into one sendmsg(); file
 * regions go out with sendfile(2) from the segment's fd. On EAGAIN the
 * write event takes over. Responses issued synchronously from on_request are
 * flushed once after the dispatch loop, so a burst of pipelined requests
 * costs one write.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "net/sm_net.h"
#include "net/sm_net_int.h"

#define LOGGER "samsa.network"
#define LOG_PFX "[SocketServer listenerType=ZK_BROKER, nodeId=%d] "

#define MIN_FRAME      8                  /* api_key, api_version, correlation_id */
#define RBUF_INIT      (16 * 1024)
#define RBUF_SHRINK    (8 * 1024 * 1024)  /* give back buffers above this when idle */
#define READ_AHEAD     (64 * 1024)        /* buffered beyond the in-progress frame */
#define OUT_HIGH       (256 * 1024)       /* queued output that stops dispatching */
#define DISPATCH_BURST 16                 /* frames per connection per loop pass */
#define IOV_BATCH      64
#define ACCEPT_BURST   64
#define DEFAULT_MAX_REQUEST 104857600

typedef struct worker_s worker_t;

struct sm_conn_s {
    worker_t *w;
    int fd;
    int refs;                /* atomic; the open connection holds one */
    int closed;
    int busy;                /* a frame is with the handler (muted) */
    int in_process;          /* inside conn_process(): don't flush/dispatch */
    int rev_on, wev_on;
    char peer[64];
    /* cev (EV_CLOSED, i.e. EPOLLRDHUP) is armed exactly while rev is off,
     * so a peer that hangs up is noticed even when we are not reading. */
    struct event *rev, *wev, *cev, *dispatch_ev;

    /* Read buffer: live bytes are rbuf[rstart, rstart+rlen). While busy the
     * current frame (with prefix) is rbuf[rstart, rstart+cur_total). */
    uint8_t *rbuf;
    size_t rcap, rstart, rlen, cur_total;

    sm_resp_t *out_head, *out_tail;
    size_t out_bytes;        /* queued, not yet sent */

    void *data;
    void (*data_free)(void *);
    sm_conn_t *prev, *next;  /* worker's open connections */
};

typedef struct handoff_s {
    struct handoff_s *next;
    int fd;
    char peer[64];
} handoff_t;

struct worker_s {
    sm_net_t *net;
    int idx;
    pthread_t tid;
    struct event_base *base;
    struct event *handoff_ev, *stop_ev;
    pthread_mutex_t lock;             /* protects the hand-off queue */
    handoff_t *q_head, *q_tail;
    sm_conn_t *conns;
    int stopping;
};

struct sm_net_s {
    sm_net_config_t cfg;
    char *host;
    int lfd, port;
    int32_t max_req;
    struct event_base *abase;
    struct event *accept_ev, *astop_ev, *backoff_ev;
    pthread_t acceptor;
    int acceptor_started;
    worker_t *workers;
    int nworkers, started;
    unsigned rr;
};

static int net_node_id = -1;
static uint64_t sendfile_calls, sendfile_bytes;
static int64_t conns_open;               /* atomic: open connections, all threads */
static uint64_t conns_accepted;          /* atomic */
static void (*finish_hook)(sm_conn_t *c);

static void conn_process(sm_conn_t *c);
static void conn_flush(sm_conn_t *c);
static void conn_do_close(sm_conn_t *c, int level, const char *reason);

void sm_net_set_node_id(int node_id) { net_node_id = node_id; }
uint64_t sm_net_sendfile_calls(void) { return __atomic_load_n(&sendfile_calls, __ATOMIC_RELAXED); }
uint64_t sm_net_sendfile_bytes(void) { return __atomic_load_n(&sendfile_bytes, __ATOMIC_RELAXED); }
int64_t sm_net_connection_count(void) { return __atomic_load_n(&conns_open, __ATOMIC_RELAXED); }
uint64_t sm_net_connections_accepted(void) { return __atomic_load_n(&conns_accepted, __ATOMIC_RELAXED); }
void sm_net_set_finish_hook(void (*fn)(sm_conn_t *c)) { finish_hook = fn; }

static void
format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
        snprintf(out, outlen, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
        snprintf(out, outlen, "[%s]:%d", ip, port);
    } else {
        snprintf(out, outlen, "unknown");
    }
}

/* ---------------------------------------------------------------------
 * Connection lifetime
 */

sm_conn_t *
sm_conn_ref(sm_conn_t *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void
sm_conn_unref(sm_conn_t *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    /* Last reference: the connection is closed (the open state holds a
     * reference), so no event points at it any more. */
    if (c->data_free)
        c->data_free(c->data);
    free(c->rbuf);
    free(c);
}

int sm_conn_closed(const sm_conn_t *c) { return c->closed; }
struct event_base *sm_conn_base(const sm_conn_t *c) { return c->w->base; }
const char *sm_conn_peer(const sm_conn_t *c) { return c->peer; }
void *sm_conn_data(const sm_conn_t *c) { return c->data; }

void
sm_conn_set_data(sm_conn_t *c, void *data, void (*free_fn)(void *))
{
    if (c->data_free && c->data != data)
        c->data_free(c->data);
    c->data = data;
    c->data_free = free_fn;
}

static void
set_rev(sm_conn_t *c, int on)
{
    if (c->closed || c->rev_on == on)
        return;
    c->rev_on = on;
    if (on) {
        event_del(c->cev);
        event_add(c->rev, NULL);
    } else {
        event_del(c->rev);
        event_add(c->cev, NULL);
    }
}

static void
set_wev(sm_conn_t *c, int on)
{
    if (c->closed || c->wev_on == on)
        return;
    c->wev_on = on;
    if (on)
        event_add(c->wev, NULL);
    else
        event_del(c->wev);
}

static void
conn_do_close(sm_conn_t *c, int level, const char *reason)
{
    if (c->closed)
        return;
    SM_LOG(level, LOGGER, LOG_PFX "Closing connection from %s: %s", net_node_id, c->peer, reason);
    c->closed = 1;
    __atomic_sub_fetch(&conns_open, 1, __ATOMIC_RELAXED);
    event_free(c->rev);
    event_free(c->wev);
    event_free(c->cev);
    event_free(c->dispatch_ev);
    c->rev = c->wev = c->cev = c->dispatch_ev = NULL;
    close(c->fd);
    c->fd = -1;
    while (c->out_head) {
        sm_resp_t *r = c->out_head;
        c->out_head = r->next;
        sm_resp_free(r);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    /* The read buffer (and with it an in-progress frame) lives until the
     * last reference goes, so a handler that holds one may keep reading
     * its frame after the close. */
    sm_conn_unref(c);
}

/*
 * sm_conn_close - log reason at INFO and close now. Queued responses are
 * dropped. Connection thread only; a no-op on a closed connection.
 */
void
sm_conn_close(sm_conn_t *c, const char *reason)
{
    conn_do_close(c, SM_LOG_INFO, reason);
}

/* ---------------------------------------------------------------------
 * Framing
 */

/* Does p[0..n) start with a frame we can act on: complete, or with a size
 * that will close the connection? */
static int
frame_actionable(const sm_conn_t *c, const uint8_t *p, size_t n)
{
    if (n < 4)
        return 0;
    int32_t size = (int32_t)sm_be32(p);
    if (size < MIN_FRAME || size > c->w->net->max_req)
        return 1;
    return n - 4 >= (size_t)size;
}

/* Validate the size of the frame at the buffer head. 0 = ok (*size set),
 * -1 = the connection was closed. Runs before anything is allocated. */
static int
frame_check(sm_conn_t *c, int32_t *size)
{
    int32_t s = (int32_t)sm_be32(c->rbuf + c->rstart);
    char why[160];
    if (s >= MIN_FRAME && s <= c->w->net->max_req) {
        *size = s;
        return 0;
    }
    /* Answers to the frames before the bad one are still owed; give them
     * one non-blocking try before the close drops them. */
    if (c->out_head) {
        conn_flush(c);
        if (c->closed)
            return -1;
    }
    if (s < MIN_FRAME) {
        snprintf(why, sizeof(why), "request size %d is below the minimum request header size %d",
                 s, MIN_FRAME);
        conn_do_close(c, SM_LOG_WARN, why);
        return -1;
    }
    if (s > c->w->net->max_req) {
        snprintf(why, sizeof(why), "request size %d exceeds socket.request.max.bytes %d",
                 s, c->w->net->max_req);
        conn_do_close(c, SM_LOG_WARN, why);
        return -1;
    }
    *size = s;
    return 0;
}

/* Not busy: make room at the tail for the frame being received (moving the
 * partial frame to the front, growing only past the size check). Returns -1
 * if the connection was closed. */
static int
rbuf_prepare(sm_conn_t *c)
{
    size_t need = 4;
    if (c->rlen == 0)
        c->rstart = 0;
    if (c->rlen >= 4) {
        int32_t s;
        if (frame_check(c, &s) < 0)
            return -1;
        need = 4 + (size_t)s;
    }
    if (c->rstart + SM_MAX(need, c->rlen + 1) > c->rcap && c->rstart > 0) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rlen);
        c->rstart = 0;
    }
    if (need > c->rcap) {
        c->rbuf = sm_realloc(c->rbuf, need);
        c->rcap = need;
    }
    return 0;
}

/* How many bytes may be read now (0 = leave EV_READ off). */
static size_t
read_room(sm_conn_t *c)
{
    if (c->closed)
        return 0;
    if (c->busy) {
        size_t off = c->rstart + c->cur_total;
        size_t extra = c->rstart + c->rlen - off;
        if (extra >= READ_AHEAD || frame_actionable(c, c->rbuf + off, extra))
            return 0;
        return c->rcap - (c->rstart + c->rlen);
    }
    /* A complete frame waits for conn_process (dispatch burst used up or
     * too much output queued): read nothing more until it is taken. */
    if (frame_actionable(c, c->rbuf + c->rstart, c->rlen))
        return 0;
    return 1;   /* rbuf_prepare makes room when the read happens */
}

static void
update_read_interest(sm_conn_t *c)
{
    set_rev(c, read_room(c) > 0);
}

/* Current request finished: drop its frame and let the next one go. */
static void
conn_finish(sm_conn_t *c)
{
    if (!c->busy)
        return;   /* a handler bug (double finish); ignore rather than corrupt framing */
    c->busy = 0;
    if (finish_hook)
        finish_hook(c);
    c->rstart += c->cur_total;
    c->rlen -= c->cur_total;
    c->cur_total = 0;
    if (c->closed)
        return;
    if (c->rlen == 0) {
        c->rstart = 0;
        if (c->rcap > RBUF_SHRINK) {
            free(c->rbuf);
            c->rbuf = sm_malloc(RBUF_INIT);
            c->rcap = RBUF_INIT;
        }
    }
    if (c->in_process)
        return;   /* conn_process's loop continues with the next frame */
    if (frame_actionable(c, c->rbuf + c->rstart, c->rlen))
        event_active(c->dispatch_ev, EV_TIMEOUT, 0);   /* from the loop, never recursively */
    else
        update_read_interest(c);
}

/*
 * Dispatch buffered frames one at a time while the connection is not muted,
 * then flush what the handlers answered synchronously.
 */
static void
conn_process(sm_conn_t *c)
{
    sm_net_t *n = c->w->net;
    int burst = 0;

    sm_conn_ref(c);
    c->in_process++;
    while (!c->closed && !c->busy && c->out_bytes < OUT_HIGH) {
        if (c->rlen < 4)
            break;
        int32_t size;
        if (frame_check(c, &size) < 0)
            break;
        if (c->rlen - 4 < (size_t)size)
            break;
        if (burst == DISPATCH_BURST) {
            /* Let other connections on this thread run first. */
            event_active(c->dispatch_ev, EV_TIMEOUT, 0);
            break;
        }
        burst++;
        c->busy = 1;
        c->cur_total = 4 + (size_t)size;
        n->cfg.on_request(c, c->rbuf + c->rstart + 4, (size_t)size, n->cfg.opaque);
    }
    c->in_process--;
    if (!c->closed && c->out_head)
        conn_flush(c);
    /* The loop may have stopped on the output mark and the flush just
     * drained below it with no EV_WRITE left to notice: go round again. */
    if (!c->closed && !c->busy && c->out_bytes < OUT_HIGH &&
        frame_actionable(c, c->rbuf + c->rstart, c->rlen))
        event_active(c->dispatch_ev, EV_TIMEOUT, 0);
    if (!c->closed)
        update_read_interest(c);
    sm_conn_unref(c);
}

static void
on_peer_closed(evutil_socket_t fd, short what, void *arg)
{
    /* Reading is paused, so buffered frames will never be answered in a way
     * the peer can see; drop the connection now (Kafka closes on EOF too). */
    conn_do_close(arg, SM_LOG_DEBUG, "connection closed by peer");
}

static void
on_dispatch(evutil_socket_t fd, short what, void *arg)
{
    conn_process(arg);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
    sm_conn_t *c = arg;

    sm_conn_ref(c);
    for (;;) {
        size_t room = read_room(c);
        if (room == 0)
            break;
        if (!c->busy) {
            if (rbuf_prepare(c) < 0)
                goto out;
            room = c->rcap - (c->rstart + c->rlen);
        }
        ssize_t got = read(c->fd, c->rbuf + c->rstart + c->rlen, room);
        if (got > 0) {
            c->rlen += (size_t)got;
            if ((size_t)got < room)
                break;   /* drained the socket; don't spend a read on EAGAIN */
            continue;
        }
        if (got == 0) {
            conn_do_close(c, SM_LOG_DEBUG, "connection closed by peer");
            goto out;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        char why[128];
        snprintf(why, sizeof(why), "read failed: %s", strerror(errno));
        conn_do_close(c, SM_LOG_DEBUG, why);
        goto out;
    }
    conn_process(c);
out:
    sm_conn_unref(c);
}

/* ---------------------------------------------------------------------
 * Responses
 */

/* Bytes of chunk i of r (-1 = size prefix). */
static size_t
chunk_len(const sm_resp_t *r, int i)
{
    if (i < 0)
        return 4;
    const sm_chunk_t *ch = &r->chunks[i];
    return ch->file ? (size_t)ch->len : ch->mem.len;
}

/* Move the send cursor past n bytes, retiring responses that are done.
 * With n == 0 it only skips empty chunks and finished responses. */
static void
out_advance(sm_conn_t *c, size_t n)
{
    c->out_bytes -= n;
    while (c->out_head) {
        sm_resp_t *r = c->out_head;
        while (r->cur < r->nchunks) {
            size_t left = chunk_len(r, r->cur) - r->off;
            if (n < left) {
                r->off += n;
                return;
            }
            n -= left;
            r->cur++;
            r->off = 0;
            if (n == 0 && r->cur < r->nchunks && chunk_len(r, r->cur) > 0)
                return;
        }
        c->out_head = r->next;
        if (!c->out_head)
            c->out_tail = NULL;
        sm_resp_free(r);
    }
}

/* One sendfile(2) for the file region at the cursor. Returns bytes sent,
 * 0 for EAGAIN, -1 if the connection was closed. */
static ssize_t
send_file_chunk(sm_conn_t *c, sm_resp_t *r)
{
    sm_chunk_t *ch = &r->chunks[r->cur];
    off_t pos = (off_t)(ch->pos + (int64_t)r->off);
    size_t left = (size_t)ch->len - r->off;
    size_t want = SM_MIN(left, (size_t)0x7ffff000);
    for (;;) {
        ssize_t n = sendfile(c->fd, ch->file->fd, &pos, want);
        __atomic_add_fetch(&sendfile_calls, 1, __ATOMIC_RELAXED);
        if (n > 0) {
            __atomic_add_fetch(&sendfile_bytes, (uint64_t)n, __ATOMIC_RELAXED);
            return n;
        }
        if (n == 0) {
            /* The file ended before the region did (truncated underneath);
             * the promised size can no longer be met, so framing is lost. */
            conn_do_close(c, SM_LOG_WARN, "file region ended early (file truncated), response framing lost");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        char why[128];
        snprintf(why, sizeof(why), "sendfile failed: %s", strerror(errno));
        conn_do_close(c, SM_LOG_DEBUG, why);
        return -1;
    }
}

/* Write as much queued output as the socket takes. */
static void
conn_flush(sm_conn_t *c)
{
    struct iovec iov[IOV_BATCH];

    out_advance(c, 0);
    while (c->out_head) {
        sm_resp_t *r = c->out_head;
        ssize_t n;
        int partial;
        if (r->cur >= 0 && r->chunks[r->cur].file) {
            size_t want = (size_t)r->chunks[r->cur].len - r->off;
            n = send_file_chunk(c, r);
            if (n < 0)
                return;
            if (n == 0)
                break;
            partial = (size_t)n < want;
        } else {
            /* Gather memory chunks across responses up to a file region. */
            int cnt = 0, more = 0;
            size_t total = 0;
            for (sm_resp_t *q = r; q && cnt < IOV_BATCH && !more; q = q->next) {
                int i = (q == r) ? q->cur : -1;
                size_t off = (q == r) ? q->off : 0;
                for (; i < q->nchunks && cnt < IOV_BATCH; i++, off = 0) {
                    if (i >= 0 && q->chunks[i].file) {
                        more = 1;
                        break;
                    }
                    size_t len = chunk_len(q, i);
                    if (len == off)
                        continue;
                    iov[cnt].iov_base = (i < 0 ? q->prefix : q->chunks[i].mem.data) + off;
                    iov[cnt].iov_len = len - off;
                    total += len - off;
                    cnt++;
                }
            }
            struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
            /* MSG_MORE: a file region follows, let the kernel coalesce the
             * response header with the sendfile data. */
            n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                char why[128];
                snprintf(why, sizeof(why), "write failed: %s", strerror(errno));
                conn_do_close(c, SM_LOG_DEBUG, why);
                return;
            }
            partial = (size_t)n < total;
        }
        out_advance(c, (size_t)n);
        if (partial)
            break;   /* socket buffer full: EV_WRITE says when to go on */
    }
    set_wev(c, c->out_head != NULL);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
    sm_conn_t *c = arg;
    sm_conn_ref(c);
    conn_flush(c);
    /* Output below the mark again: frames held back may go now. */
    if (!c->closed && !c->busy && c->out_bytes < OUT_HIGH &&
        frame_actionable(c, c->rbuf + c->rstart, c->rlen))
        conn_process(c);
    sm_conn_unref(c);
}

/*
 * sm_conn_respond - see sm_net.h. Queues r behind earlier responses, then
 * (outside the dispatch loop) writes immediately.
 */
void
sm_conn_respond(sm_conn_t *c, sm_resp_t *r)
{
    if (c->closed) {
        sm_resp_free(r);
        conn_finish(c);
        return;
    }
    size_t len = sm_resp_len(r);
    if (len > INT32_MAX) {
        sm_resp_free(r);
        conn_do_close(c, SM_LOG_ERROR, "response larger than 2 GiB");
        conn_finish(c);
        return;
    }
    sm_put_be32(r->prefix, (uint32_t)len);
    r->cur = -1;
    r->off = 0;
    r->next = NULL;
    if (c->out_tail)
        c->out_tail->next = r;
    else
        c->out_head = r;
    c->out_tail = r;
    c->out_bytes += len + 4;
    sm_conn_ref(c);
    conn_finish(c);
    if (!c->in_process && !c->closed)
        conn_flush(c);
    sm_conn_unref(c);
}

void
sm_conn_no_response(sm_conn_t *c)
{
    conn_finish(c);
}

/* ---------------------------------------------------------------------
 * Workers
 */

static void
conn_new(worker_t *w, int fd, const char *peer)
{
    sm_conn_t *c = sm_calloc(1, sizeof(*c));
    c->w = w;
    c->fd = fd;
    c->refs = 1;
    __atomic_add_fetch(&conns_open, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&conns_accepted, 1, __ATOMIC_RELAXED);
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->rbuf = sm_malloc(RBUF_INIT);
    c->rcap = RBUF_INIT;
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->cev = event_new(w->base, fd, EV_CLOSED | EV_PERSIST, on_peer_closed, c);
    c->dispatch_ev = event_new(w->base, -1, 0, on_dispatch, c);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    set_rev(c, 1);
}

static handoff_t *
queue_take_all(worker_t *w)
{
    pthread_mutex_lock(&w->lock);
    handoff_t *h = w->q_head;
    w->q_head = w->q_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    return h;
}

static void
on_handoff(evutil_socket_t fd, short what, void *arg)
{
    worker_t *w = arg;
    handoff_t *h = queue_take_all(w);
    while (h) {
        handoff_t *next = h->next;
        if (w->stopping)
            close(h->fd);
        else
            conn_new(w, h->fd, h->peer);
        free(h);
        h = next;
    }
}

static void
on_worker_stop(evutil_socket_t fd, short what, void *arg)
{
    worker_t *w = arg;
    w->stopping = 1;
    on_handoff(-1, 0, w);
    while (w->conns)
        conn_do_close(w->conns, SM_LOG_DEBUG, "socket server shutting down");
    event_base_loopbreak(w->base);
}

static void *
worker_main(void *arg)
{
    worker_t *w = arg;
    sm_resp_thread_cache_enable();
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    sm_resp_thread_cache_drain();
    return NULL;
}

/* ---------------------------------------------------------------------
 * Acceptor
 */

static void
on_backoff(evutil_socket_t fd, short what, void *arg)
{
    sm_net_t *n = arg;
    event_add(n->accept_ev, NULL);
}

static void
tune_socket(sm_net_t *n, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (n->cfg.sndbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n->cfg.sndbuf, sizeof(n->cfg.sndbuf));
    if (n->cfg.rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n->cfg.rcvbuf, sizeof(n->cfg.rcvbuf));
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
    sm_net_t *n = arg;

    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* Out of descriptors or memory: the listener stays readable,
             * so pause accepting briefly instead of spinning. */
            sm_log_error(LOGGER, LOG_PFX "Error accepting connection: %s; pausing accepts for 100 ms",
                         net_node_id, strerror(errno));
            event_del(n->accept_ev);
            struct timeval tv = { 0, 100 * 1000 };
            event_add(n->backoff_ev, &tv);
            return;
        }
        tune_socket(n, fd);
        handoff_t *h = sm_malloc(sizeof(*h));
        h->next = NULL;
        h->fd = fd;
        format_addr((struct sockaddr *)&ss, h->peer, sizeof(h->peer));
        worker_t *w = &n->workers[n->rr++ % (unsigned)n->nworkers];
        sm_log_debug(LOGGER, LOG_PFX "Accepted connection from %s and assigned it to processor %d",
                     net_node_id, h->peer, w->idx);
        pthread_mutex_lock(&w->lock);
        if (w->q_tail)
            w->q_tail->next = h;
        else
            w->q_head = h;
        w->q_tail = h;
        pthread_mutex_unlock(&w->lock);
        event_active(w->handoff_ev, EV_READ, 0);
    }
}

static void
on_acceptor_stop(evutil_socket_t fd, short what, void *arg)
{
    sm_net_t *n = arg;
    event_base_loopbreak(n->abase);
}

static void *
acceptor_main(void *arg)
{
    sm_net_t *n = arg;
    event_base_loop(n->abase, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* ---------------------------------------------------------------------
 * Start / stop
 */

static int
net_listen(sm_net_t *n, char *errstr, size_t errlen)
{
    const char *host = (n->host && n->host[0]) ? n->host : "0.0.0.0";
    char portstr[16];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res = NULL;
    snprintf(portstr, sizeof(portstr), "%d", n->cfg.port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(errstr, errlen, "Socket server failed to bind to %s:%d: %s",
                 host, n->cfg.port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(errstr, errlen, "Socket server failed to bind to %s:%d: %s",
                 host, n->cfg.port, strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* Set before listen() so the advertised window scale covers it. */
    if (n->cfg.rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n->cfg.rcvbuf, sizeof(n->cfg.rcvbuf));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        snprintf(errstr, errlen, "Socket server failed to bind to %s:%d: %s",
                 host, n->cfg.port, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    n->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    n->lfd = fd;
    return 0;
}

static void
net_free(sm_net_t *n)
{
    for (int i = 0; i < n->nworkers; i++) {
        worker_t *w = &n->workers[i];
        /* Sockets still queued if the worker never ran its stop event. */
        for (handoff_t *h = queue_take_all(w), *next; h; h = next) {
            next = h->next;
            close(h->fd);
            free(h);
        }
        if (w->handoff_ev)
            event_free(w->handoff_ev);
        if (w->stop_ev)
            event_free(w->stop_ev);
        if (w->base)
            event_base_free(w->base);
        pthread_mutex_destroy(&w->lock);
    }
    free(n->workers);
    if (n->accept_ev)
        event_free(n->accept_ev);
    if (n->astop_ev)
        event_free(n->astop_ev);
    if (n->backoff_ev)
        event_free(n->backoff_ev);
    if (n->abase)
        event_base_free(n->abase);
    if (n->lfd >= 0)
        close(n->lfd);
    free(n->host);
    free(n);
}

sm_net_t *
sm_net_start(const sm_net_config_t *cfg, char *errstr, size_t errlen)
{
    sm_loop_init();

    /* A peer that vanishes mid-sendfile would otherwise kill the broker
     * with SIGPIPE (sendmsg has MSG_NOSIGNAL, sendfile has no such flag).
     * Respect a handler the embedding program installed. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }

    sm_net_t *n = sm_calloc(1, sizeof(*n));
    n->cfg = *cfg;
    n->host = sm_strdup(cfg->host ? cfg->host : "");
    n->cfg.host = n->host;
    n->lfd = -1;
    n->max_req = cfg->max_request_bytes > 0 ? cfg->max_request_bytes : DEFAULT_MAX_REQUEST;
    n->nworkers = cfg->num_threads > 0 ? cfg->num_threads : 1;
    n->workers = sm_calloc((size_t)n->nworkers, sizeof(*n->workers));
    for (int i = 0; i < n->nworkers; i++)
        pthread_mutex_init(&n->workers[i].lock, NULL);

    if (!cfg->on_request) {
        snprintf(errstr, errlen, "Socket server needs a request handler");
        goto err;
    }
    if (net_listen(n, errstr, errlen) < 0)
        goto err;

    for (int i = 0; i < n->nworkers; i++) {
        worker_t *w = &n->workers[i];
        w->net = n;
        w->idx = i;
        w->base = event_base_new();
        if (!w->base) {
            snprintf(errstr, errlen, "Socket server failed to create an event base");
            goto err;
        }
        w->handoff_ev = event_new(w->base, -1, 0, on_handoff, w);
        w->stop_ev = event_new(w->base, -1, 0, on_worker_stop, w);
    }
    n->abase = event_base_new();
    if (!n->abase) {
        snprintf(errstr, errlen, "Socket server failed to create an event base");
        goto err;
    }
    n->accept_ev = event_new(n->abase, n->lfd, EV_READ | EV_PERSIST, on_accept, n);
    n->astop_ev = event_new(n->abase, -1, 0, on_acceptor_stop, n);
    n->backoff_ev = event_new(n->abase, -1, 0, on_backoff, n);
    event_add(n->accept_ev, NULL);

    for (int i = 0; i < n->nworkers; i++) {
        if (pthread_create(&n->workers[i].tid, NULL, worker_main, &n->workers[i]) != 0) {
            snprintf(errstr, errlen, "Socket server failed to start a network thread");
            goto err_threads;
        }
        n->started++;
    }
    if (pthread_create(&n->acceptor, NULL, acceptor_main, n) != 0) {
        snprintf(errstr, errlen, "Socket server failed to start the acceptor thread");
        goto err_threads;
    }
    n->acceptor_started = 1;
    sm_log_info(LOGGER, LOG_PFX "Started socket server acceptor and %d processors on %s:%d",
                net_node_id, n->nworkers, n->host[0] ? n->host : "0.0.0.0", n->port);
    return n;

err_threads:
    sm_net_stop(n);
    return NULL;
err:
    net_free(n);
    return NULL;
}

/*
 * sm_net_stop - see sm_net.h. Must not be called from a network thread.
 */
void
sm_net_stop(sm_net_t *n)
{
    if (!n)
        return;
    if (n->acceptor_started) {
        event_active(n->astop_ev, EV_TIMEOUT, 0);
        pthread_join(n->acceptor, NULL);
    }
    /* No new sockets arrive now; close the listener so the port frees. */
    close(n->lfd);
    n->lfd = -1;
    for (int i = 0; i < n->started; i++)
        event_active(n->workers[i].stop_ev, EV_TIMEOUT, 0);
    for (int i = 0; i < n->started; i++)
        pthread_join(n->workers[i].tid, NULL);
    sm_log_info(LOGGER, LOG_PFX "Stopped socket server", net_node_id);
    net_free(n);
}

int sm_net_port(const sm_net_t *n) { return n->port; }

typedef struct {
    void (*fn)(struct event_base *, void *);
    void *arg;
    struct event_base *base;
} bcast_t;

static void
run_bcast(void *arg)
{
    bcast_t *b = arg;
    b->fn(b->base, b->arg);
    free(b);
}

void
sm_net_broadcast(sm_net_t *n, void (*fn)(struct event_base *base, void *arg), void *arg)
{
    for (int i = 0; i < n->nworkers; i++) {
        bcast_t *b = sm_malloc(sizeof(*b));
        b->fn = fn;
        b->arg = arg;
        b->base = n->workers[i].base;
        sm_loop_post(b->base, run_bcast, b);
    }
}

void
sm_net_post(struct event_base *base, void (*fn)(void *arg), void *arg)
{
    sm_loop_post(base, fn, arg);
}

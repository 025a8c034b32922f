/*
 * sm_ib_client.c - the inter-broker client (see sm_ib_client.h): blocking
 * connections with poll()-bounded I/O, and the per-destination send
 * threads of the queueing client.
 *
 * Why threads and blocking sockets rather than libevent: the controller
 * needs strict per-broker ordering and retry-until-answered, which is a
 * loop in a thread (as in Kafka's RequestSendThread), and the same
 * blocking connection serves the follower fetchers. Each send thread owns
 * an eventfd that remove/free signal, polled alongside the socket, so a
 * thread blocked in connect, send, receive or backoff stops promptly.
 */
#include "repl/sm_ib_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"

#define LOGGER "samsa.ib"
/* Responses of control requests are small; anything huge is a bug or an
 * attack. Fetch responses may be large: allow up to 256 MiB. */
#define MAX_RESPONSE (256 << 20)

struct sm_ib_conn_s {
    int fd;
    int cancel_fd;
    int32_t next_corr;
    char *client_id;
    int16_t api, ver;
    int32_t corr;
    size_t frame_at;
    sm_wbuf_t out;
    uint8_t *in;
    size_t in_cap;
};

/* ---- blocking connection ---- */

/* Wait for events on c->fd until deadline (monotonic ms). 1 ready, 0
 * timeout, -1 cancelled or poll error. */
static int
wait_fd(int fd, int cancel_fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - sm_mono_ms();
        if (left <= 0) return 0;
        struct pollfd p[2] = { { fd, events, 0 }, { cancel_fd, POLLIN, 0 } };
        int n = poll(p, cancel_fd >= 0 ? 2 : 1, (int)(left > 1000000 ? 1000000 : left));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) continue;
        if (cancel_fd >= 0 && (p[1].revents & POLLIN)) return -1;
        if (p[0].revents) return 1;
    }
}

sm_ib_conn_t *
sm_ib_connect(const char *host, int port, int timeout_ms, const char *client_id, char *errstr, size_t errlen)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = { 0 }, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* An empty advertised host means "this machine" (as Kafka's listeners). */
    int gai = getaddrinfo(host && host[0] ? host : "127.0.0.1", portstr, &hints, &ai);
    if (gai != 0) {
        snprintf(errstr, errlen, "cannot resolve %s: %s", host ? host : "", gai_strerror(gai));
        return NULL;
    }
    int64_t deadline = sm_mono_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    int err = 0, fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            socklen_t sl = sizeof(err);
            if (wait_fd(fd, -1, POLLOUT, deadline) <= 0) { err = ETIMEDOUT; rc = -1; }
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err != 0) rc = -1;
            else rc = 0;
        } else if (rc < 0) {
            err = errno;
        }
        if (rc < 0) { close(fd); fd = -1; }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        snprintf(errstr, errlen, "cannot connect to %s:%d: %s", host ? host : "", port,
                 strerror(err ? err : ECONNREFUSED));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sm_ib_conn_t *c = sm_calloc(1, sizeof(*c));
    c->fd = fd;
    c->cancel_fd = -1;
    c->next_corr = 1;
    c->client_id = client_id ? sm_strdup(client_id) : NULL;
    sm_wbuf_init(&c->out, 256);
    return c;
}

void
sm_ib_close(sm_ib_conn_t *c)
{
    if (!c) return;
    close(c->fd);
    sm_wbuf_free(&c->out);
    free(c->in);
    free(c->client_id);
    free(c);
}

void sm_ib_conn_set_cancel_fd(sm_ib_conn_t *c, int fd) { c->cancel_fd = fd; }

sm_wbuf_t *
sm_ib_begin(sm_ib_conn_t *c, int16_t api, int16_t ver)
{
    sm_req_hdr_t h = { 0 };
    h.api_key = api;
    h.api_version = ver;
    h.correlation_id = c->next_corr++;
    if (c->next_corr == INT32_MAX) c->next_corr = 1;
    h.client_id = c->client_id ? SM_BYTES_STR(c->client_id) : SM_BYTES_NULL;
    c->api = api;
    c->ver = ver;
    c->corr = h.correlation_id;
    sm_wbuf_reset(&c->out);
    c->frame_at = sm_proto_request_begin(&c->out, &h);
    return &c->out;
}

/* Read exactly n bytes into p before deadline. */
static int
read_full(sm_ib_conn_t *c, uint8_t *p, size_t n, int64_t deadline, char *errstr, size_t errlen)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(c->fd, p + got, n - got, 0);
        if (r > 0) { got += (size_t)r; continue; }
        if (r == 0) { snprintf(errstr, errlen, "connection closed by peer"); return -1; }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { snprintf(errstr, errlen, "recv: %s", strerror(errno)); return -1; }
        int w = wait_fd(c->fd, c->cancel_fd, POLLIN, deadline);
        if (w <= 0) { snprintf(errstr, errlen, w == 0 ? "request timed out" : "cancelled"); return -1; }
    }
    return 0;
}

int
sm_ib_finish(sm_ib_conn_t *c, int timeout_ms, sm_reader_t *body, char *errstr, size_t errlen)
{
    int64_t deadline = sm_mono_ms() + (timeout_ms > 0 ? timeout_ms : 30000);
    sm_proto_frame_end(&c->out, c->frame_at, 0);
    size_t sent = 0;
    while (sent < c->out.len) {
        ssize_t r = send(c->fd, c->out.data + sent, c->out.len - sent, MSG_NOSIGNAL);
        if (r > 0) { sent += (size_t)r; continue; }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(errstr, errlen, "send: %s", strerror(errno));
            return -1;
        }
        int w = wait_fd(c->fd, c->cancel_fd, POLLOUT, deadline);
        if (w <= 0) { snprintf(errstr, errlen, w == 0 ? "request timed out" : "cancelled"); return -1; }
    }
    uint8_t szb[4];
    if (read_full(c, szb, 4, deadline, errstr, errlen) < 0) return -1;
    int32_t size = (int32_t)sm_be32(szb);
    if (size < 4 || size > MAX_RESPONSE) {
        snprintf(errstr, errlen, "invalid response size %d", size);
        return -1;
    }
    if (c->in_cap < (size_t)size) {
        free(c->in);
        c->in = sm_malloc((size_t)size);
        c->in_cap = (size_t)size;
    }
    if (read_full(c, c->in, (size_t)size, deadline, errstr, errlen) < 0) return -1;
    sm_reader_init(body, c->in, (size_t)size);
    int32_t corr;
    if (sm_proto_decode_ResponseHeader(body, c->api, c->ver, &corr) < 0 || corr != c->corr) {
        snprintf(errstr, errlen, "correlation id mismatch (expected %d)", c->corr);
        return -1;
    }
    return 0;
}

/* ---- queueing client ---- */

typedef struct ib_req_s {
    int16_t api, ver;
    uint8_t *body;
    size_t len;
    sm_ib_done_fn done;
    void *arg;
    struct ib_req_s *next;
} ib_req_t;

typedef struct ib_dest_s {
    sm_ib_client_t *cl;
    int32_t id;
    pthread_t tid;
    pthread_cond_t cond;
    int wake_fd;                     /* eventfd: stop request */
    int stop;
    ib_req_t *head, *tail;
    int n;
    struct ib_dest_s *next;
} ib_dest_t;

struct sm_ib_client_s {
    sm_ib_client_conf_t conf;
    pthread_mutex_t lock;
    ib_dest_t *dests;
};

static void
req_drop(ib_req_t *q, int32_t id)
{
    if (q->done) q->done(q->arg, id, q->api, q->ver, NULL);
    free(q->body);
    free(q);
}

/* Sleep for ms unless the destination is being stopped. */
static void
backoff_sleep(ib_dest_t *d, int ms)
{
    struct pollfd p = { d->wake_fd, POLLIN, 0 };
    int64_t deadline = sm_mono_ms() + ms;
    for (;;) {
        int64_t left = deadline - sm_mono_ms();
        if (left <= 0) return;
        int n = poll(&p, 1, (int)left);
        if (n > 0 || (n < 0 && errno != EINTR)) return;
    }
}

static void *
dest_main(void *arg)
{
    ib_dest_t *d = arg;
    sm_ib_client_t *cl = d->cl;
    const sm_ib_client_conf_t *cf = &cl->conf;
    sm_ib_conn_t *conn = NULL;
    int backoff = cf->backoff_ms, warned = 0;
    char err[256], host[256];

    pthread_mutex_lock(&cl->lock);
    while (!d->stop) {
        if (!d->head) {
            pthread_cond_wait(&d->cond, &cl->lock);
            continue;
        }
        ib_req_t *q = d->head;   /* stays queued until answered */
        pthread_mutex_unlock(&cl->lock);

        int ok = 0;
        if (!conn) {
            int port = 0;
            if (cf->lookup(cf->lookup_arg, d->id, host, sizeof(host), &port) < 0) {
                snprintf(err, sizeof(err), "no known endpoint");
            } else {
                conn = sm_ib_connect(host, port, cf->connect_timeout_ms, cf->client_id, err, sizeof(err));
                if (conn) {
                    sm_ib_conn_set_cancel_fd(conn, d->wake_fd);
                    sm_log_info(LOGGER, "[%s, targetBrokerId=%d] Connected to %s:%d", cf->log_prefix, d->id, host, port);
                }
            }
        }
        sm_reader_t body;
        if (conn) {
            sm_wbuf_t *w = sm_ib_begin(conn, q->api, q->ver);
            sm_write_raw(w, q->body, q->len);
            if (sm_ib_finish(conn, cf->request_timeout_ms, &body, err, sizeof(err)) == 0) ok = 1;
            else { sm_ib_close(conn); conn = NULL; }
        }
        if (ok) {
            if (q->done) q->done(q->arg, d->id, q->api, q->ver, &body);
            backoff = cf->backoff_ms;
            warned = 0;
            pthread_mutex_lock(&cl->lock);
            d->head = q->next;
            if (!d->head) d->tail = NULL;
            d->n--;
            free(q->body);
            free(q);
            continue;
        }
        /* Kafka logs the first failure loudly and retries quietly. */
        pthread_mutex_lock(&cl->lock);
        int stopping = d->stop;
        pthread_mutex_unlock(&cl->lock);
        if (!stopping) {
            if (!warned++)
                sm_log_warn(LOGGER, "[%s, targetBrokerId=%d] %s request to broker %d failed (%s); retrying",
                            cf->log_prefix, d->id, sm_api_name(q->api), d->id, err);
            else
                sm_log_debug(LOGGER, "[%s, targetBrokerId=%d] retry failed: %s", cf->log_prefix, d->id, err);
            backoff_sleep(d, backoff);
            backoff = backoff * 2 > cf->backoff_max_ms ? cf->backoff_max_ms : backoff * 2;
        }
        pthread_mutex_lock(&cl->lock);
    }
    pthread_mutex_unlock(&cl->lock);
    sm_ib_close(conn);
    return NULL;
}

sm_ib_client_t *
sm_ib_client_new(const sm_ib_client_conf_t *conf)
{
    sm_ib_client_t *cl = sm_calloc(1, sizeof(*cl));
    cl->conf = *conf;
    cl->conf.client_id = conf->client_id ? sm_strdup(conf->client_id) : NULL;
    cl->conf.log_prefix = sm_strdup(conf->log_prefix ? conf->log_prefix : "InterBrokerClient");
    if (cl->conf.connect_timeout_ms <= 0) cl->conf.connect_timeout_ms = 10000;
    if (cl->conf.request_timeout_ms <= 0) cl->conf.request_timeout_ms = 30000;
    if (cl->conf.backoff_ms <= 0) cl->conf.backoff_ms = 100;
    if (cl->conf.backoff_max_ms < cl->conf.backoff_ms) cl->conf.backoff_max_ms = cl->conf.backoff_ms > 1000 ? cl->conf.backoff_ms : 1000;
    pthread_mutex_init(&cl->lock, NULL);
    return cl;
}

/* Unlink and stop d; the caller holds no lock. Drops its queue. */
static void
dest_stop(sm_ib_client_t *cl, ib_dest_t *d)
{
    pthread_mutex_lock(&cl->lock);
    d->stop = 1;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&cl->lock);
    uint64_t one = 1;
    if (write(d->wake_fd, &one, sizeof(one)) < 0) { /* the eventfd cannot overflow here */ }
    pthread_join(d->tid, NULL);
    while (d->head) {
        ib_req_t *q = d->head;
        d->head = q->next;
        req_drop(q, d->id);
    }
    close(d->wake_fd);
    pthread_cond_destroy(&d->cond);
    free(d);
}

void
sm_ib_client_free(sm_ib_client_t *cl)
{
    if (!cl) return;
    pthread_mutex_lock(&cl->lock);
    ib_dest_t *all = cl->dests;
    cl->dests = NULL;
    pthread_mutex_unlock(&cl->lock);
    while (all) {
        ib_dest_t *next = all->next;
        dest_stop(cl, all);
        all = next;
    }
    pthread_mutex_destroy(&cl->lock);
    free((char *)cl->conf.client_id);
    free((char *)cl->conf.log_prefix);
    free(cl);
}

void
sm_ib_send(sm_ib_client_t *cl, int32_t broker_id, int16_t api, int16_t ver, uint8_t *body, size_t len,
           sm_ib_done_fn done, void *arg)
{
    ib_req_t *q = sm_calloc(1, sizeof(*q));
    q->api = api;
    q->ver = ver;
    q->body = body;
    q->len = len;
    q->done = done;
    q->arg = arg;
    pthread_mutex_lock(&cl->lock);
    ib_dest_t *d = cl->dests;
    while (d && d->id != broker_id) d = d->next;
    if (!d) {
        d = sm_calloc(1, sizeof(*d));
        d->cl = cl;
        d->id = broker_id;
        d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->wake_fd < 0) { perror("samsa: eventfd"); abort(); }
        pthread_cond_init(&d->cond, NULL);
        if (pthread_create(&d->tid, NULL, dest_main, d) != 0) { perror("samsa: pthread_create"); abort(); }
        d->next = cl->dests;
        cl->dests = d;
    }
    if (d->tail) d->tail->next = q;
    else d->head = q;
    d->tail = q;
    d->n++;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&cl->lock);
}

void
sm_ib_client_remove(sm_ib_client_t *cl, int32_t broker_id)
{
    pthread_mutex_lock(&cl->lock);
    ib_dest_t **pp = &cl->dests, *d = NULL;
    while (*pp && (*pp)->id != broker_id) pp = &(*pp)->next;
    if (*pp) {
        d = *pp;
        *pp = d->next;
    }
    pthread_mutex_unlock(&cl->lock);
    if (d) dest_stop(cl, d);
}

void
sm_ib_client_retain(sm_ib_client_t *cl, const int32_t *ids, int n)
{
    ib_dest_t *gone = NULL;
    pthread_mutex_lock(&cl->lock);
    ib_dest_t **pp = &cl->dests;
    while (*pp) {
        ib_dest_t *d = *pp;
        int keep = 0;
        for (int i = 0; i < n && !keep; i++) keep = ids[i] == d->id;
        if (keep) { pp = &d->next; continue; }
        *pp = d->next;
        d->next = gone;
        gone = d;
    }
    pthread_mutex_unlock(&cl->lock);
    while (gone) {
        ib_dest_t *next = gone->next;
        dest_stop(cl, gone);
        gone = next;
    }
}

int
sm_ib_client_pending(sm_ib_client_t *cl, int32_t broker_id)
{
    int n = 0;
    pthread_mutex_lock(&cl->lock);
    for (ib_dest_t *d = cl->dests; d; d = d->next)
        if (d->id == broker_id) n = d->n;
    pthread_mutex_unlock(&cl->lock);
    return n;
}

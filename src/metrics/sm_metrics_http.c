/*
 * sm_metrics_http.c - the scrape endpoint: request-head parser, response
 * builder and the HTTP server thread (see sm_metrics_http.h).
 *
 * The server is deliberately minimal: one libevent base on one thread, a
 * fixed input buffer per connection (SM_HTTP_MAX_REQUEST bytes), one
 * request per connection, the response rendered into memory and written
 * with non-blocking send(). Each connection's event carries the timeout,
 * so a client that stalls while sending or receiving is dropped.
 */
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "metrics/sm_metrics_http.h"

#define LOGGER "samsa.metrics"
#define ACCEPT_BURST 16

/* ---------------------------------------------------------------------
 * Parser
 */

static int
more_or_too_large(size_t len)
{
    return len >= SM_HTTP_MAX_REQUEST ? 431 : 0;
}

int
sm_metrics_http_parse(const char *in, size_t len, sm_http_req_t *out)
{
    const unsigned char *buf = (const unsigned char *)in;
    size_t i = 0;
    memset(out, 0, sizeof(*out));
    if (len > SM_HTTP_MAX_REQUEST) len = SM_HTTP_MAX_REQUEST;

    /* Method: upper-case token. */
    while (i < len && i < 16 && buf[i] >= 'A' && buf[i] <= 'Z') i++;
    if (i == len) return 0;
    if (i == 0 || i >= 16 || buf[i] != ' ') return 400;
    size_t mlen = i++;

    /* Target: visible ASCII, origin form. */
    size_t ts = i;
    while (i < len && buf[i] > 0x20 && buf[i] < 0x7f) {
        if (i - ts >= SM_HTTP_MAX_TARGET) return 414;
        i++;
    }
    if (i == len) return more_or_too_large(len);
    if (buf[i] != ' ' || i == ts || buf[ts] != '/') return 400;
    size_t tlen = i++ - ts;

    /* Version and end of the request line. */
    static const char ver[] = "HTTP/1.";
    for (size_t k = 0; k < sizeof(ver) - 1; k++, i++) {
        if (i >= len) return 0;
        if (buf[i] != (unsigned char)ver[k]) return 400;
    }
    if (i >= len) return 0;
    if (buf[i] != '0' && buf[i] != '1') return 400;
    out->minor = buf[i++] - '0';
    if (i >= len) return 0;
    if (buf[i] == '\r' && ++i >= len) return 0;
    if (buf[i++] != '\n') return 400;

    /* Header lines until the empty line; their content is not needed,
     * only that it is text. */
    for (;;) {
        if (i >= len) return more_or_too_large(len);
        if (buf[i] == '\n') { i++; break; }
        if (buf[i] == '\r') {
            if (i + 1 >= len) return more_or_too_large(len);
            if (buf[i + 1] != '\n') return 400;
            i += 2;
            break;
        }
        while (i < len && buf[i] != '\n') {
            if ((buf[i] < 0x20 && buf[i] != '\t' && buf[i] != '\r') || buf[i] == 0x7f) return 400;
            i++;
        }
        if (i >= len) return more_or_too_large(len);
        i++;
    }
    out->consumed = i;

    size_t plen = 0;
    while (plen < tlen && buf[ts + plen] != '?') plen++;
    memcpy(out->path, buf + ts, plen);
    out->path[plen] = '\0';
    int get = mlen == 3 && !memcmp(buf, "GET", 3);
    out->head = mlen == 4 && !memcmp(buf, "HEAD", 4);
    if (!get && !out->head) return 405;
    return strcmp(out->path, "/metrics") == 0 ? 200 : 404;
}

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

void
sm_metrics_http_response(sm_wbuf_t *w, int status, const void *body, size_t len, int head)
{
    char hdr[320], msg[96];
    if (status != 200) {
        snprintf(msg, sizeof(msg), "%d %s%s\n", status, reason(status),
                 status == 404 ? ": metrics are served at /metrics" : "");
        body = msg;
        len = strlen(msg);
    }
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "%s"
                     "Connection: close\r\n\r\n",
                     status, reason(status),
                     status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8", len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    sm_write_raw(w, hdr, (size_t)n);
    if (!head && len) sm_write_raw(w, body, len);
}

/* ---------------------------------------------------------------------
 * Server
 */

typedef struct hconn_s {
    struct sm_metrics_http_s *h;
    int fd;
    struct event *ev;
    char in[SM_HTTP_MAX_REQUEST];
    size_t inlen;
    sm_wbuf_t out;
    size_t off;
    struct hconn_s *prev, *next;
} hconn_t;

struct sm_metrics_http_s {
    sm_metrics_http_config_t cfg;
    char *host;
    int lfd, port;
    struct event_base *base;
    struct event *accept_ev, *stop_ev, *backoff_ev;
    pthread_t tid;
    int started;
    hconn_t *conns;
    int nconns;
    struct timeval tv;
};

static void
hconn_free(hconn_t *c)
{
    sm_metrics_http_t *h = c->h;
    if (c->prev) c->prev->next = c->next; else h->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    h->nconns--;
    if (c->ev) event_free(c->ev);
    close(c->fd);
    sm_wbuf_free(&c->out);
    free(c);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
    hconn_t *c = arg;
    if (what & EV_TIMEOUT) { hconn_free(c); return; }
    while (c->off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->off, c->out.len - c->off, MSG_NOSIGNAL);
        if (n > 0) { c->off += (size_t)n; continue; }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        hconn_free(c);
        return;
    }
    /* Everything sent: half-close so the client sees EOF after the body. */
    shutdown(c->fd, SHUT_WR);
    hconn_free(c);
}

static void
respond(hconn_t *c, int status, int head)
{
    sm_metrics_http_t *h = c->h;
    if (status == 200) {
        sm_wbuf_t body;
        sm_wbuf_init(&body, 64 * 1024);
        h->cfg.render(&body, h->cfg.arg);
        sm_metrics_http_response(&c->out, 200, body.data, body.len, head);
        sm_wbuf_free(&body);
    } else {
        sm_metrics_http_response(&c->out, status, NULL, 0, head);
    }
    event_free(c->ev);
    c->ev = event_new(h->base, c->fd, EV_WRITE | EV_PERSIST, on_write, c);
    event_add(c->ev, &h->tv);
    on_write(c->fd, EV_WRITE, c);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
    hconn_t *c = arg;
    if (what & EV_TIMEOUT) { hconn_free(c); return; }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
        if (n > 0) {
            c->inlen += (size_t)n;
            if (c->inlen < sizeof(c->in)) continue;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* fall through to parse what we have */
        } else {
            hconn_free(c);             /* EOF or error before a full request */
            return;
        }
        break;
    }
    sm_http_req_t req;
    int status = sm_metrics_http_parse(c->in, c->inlen, &req);
    if (status == 0) return;           /* wait for more (the timeout bounds it) */
    if (status != 200)
        sm_log_debug(LOGGER, "[MetricsServer] Refusing request from fd %d with %d", c->fd, status);
    respond(c, status, status == 200 || status == 404 ? req.head : 0);
}

static void
on_backoff(evutil_socket_t fd, short what, void *arg)
{
    sm_metrics_http_t *h = arg;
    event_add(h->accept_ev, NULL);
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
    sm_metrics_http_t *h = arg;
    for (int k = 0; k < ACCEPT_BURST; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the pending connection would wake us
                 * in a loop. Pause accepting for a moment instead. */
                struct timeval tv = { 0, 500000 };
                event_del(h->accept_ev);
                event_add(h->backoff_ev, &tv);
            }
            return;
        }
        if (h->nconns >= h->cfg.max_conns) { close(fd); continue; }
        hconn_t *c = sm_calloc(1, sizeof(*c));
        c->h = h;
        c->fd = fd;
        sm_wbuf_init(&c->out, 0);
        c->next = h->conns;
        if (h->conns) h->conns->prev = c;
        h->conns = c;
        h->nconns++;
        c->ev = event_new(h->base, fd, EV_READ | EV_PERSIST, on_read, c);
        event_add(c->ev, &h->tv);
    }
}

/* Activated from the stopping thread; a loopbreak issued before the loop
 * runs would be forgotten, an active event is not. */
static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(((sm_metrics_http_t *)arg)->base);
}

static void *
http_main(void *arg)
{
    sm_metrics_http_t *h = arg;
    event_base_dispatch(h->base);
    return NULL;
}

static void
http_free(sm_metrics_http_t *h)
{
    while (h->conns) hconn_free(h->conns);
    if (h->accept_ev) event_free(h->accept_ev);
    if (h->stop_ev) event_free(h->stop_ev);
    if (h->backoff_ev) event_free(h->backoff_ev);
    if (h->base) event_base_free(h->base);
    if (h->lfd >= 0) close(h->lfd);
    free(h->host);
    free(h);
}

static int
http_listen(sm_metrics_http_t *h, char *errstr, size_t errlen)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    char port[16];
    const char *host = h->host[0] && strcmp(h->host, "0.0.0.0") ? h->host : NULL;
    hints.ai_family = host ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(port, sizeof(port), "%d", h->cfg.port);
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(errstr, errlen, "Metrics endpoint failed to bind to %s:%d: %s", h->host, h->cfg.port, gai_strerror(rc));
        return -1;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
            err = errno;
            close(fd);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
            h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
        h->lfd = fd;
        break;
    }
    freeaddrinfo(res);
    if (h->lfd < 0) {
        snprintf(errstr, errlen, "Metrics endpoint failed to bind to %s:%d: %s", h->host[0] ? h->host : "0.0.0.0",
                 h->cfg.port, strerror(err ? err : EADDRNOTAVAIL));
        return -1;
    }
    return 0;
}

sm_metrics_http_t *
sm_metrics_http_start(const sm_metrics_http_config_t *cfg, char *errstr, size_t errlen)
{
    sm_loop_init();
    sm_metrics_http_t *h = sm_calloc(1, sizeof(*h));
    h->cfg = *cfg;
    h->host = sm_strdup(cfg->host ? cfg->host : "");
    h->cfg.host = h->host;
    h->lfd = -1;
    if (h->cfg.timeout_ms <= 0) h->cfg.timeout_ms = 10000;
    if (h->cfg.max_conns <= 0) h->cfg.max_conns = 32;
    h->tv.tv_sec = h->cfg.timeout_ms / 1000;
    h->tv.tv_usec = (h->cfg.timeout_ms % 1000) * 1000;
    if (!cfg->render) {
        snprintf(errstr, errlen, "Metrics endpoint needs a renderer");
        goto err;
    }
    if (http_listen(h, errstr, errlen) < 0) goto err;
    h->base = event_base_new();
    if (!h->base) {
        snprintf(errstr, errlen, "Metrics endpoint failed to create an event base");
        goto err;
    }
    h->accept_ev = event_new(h->base, h->lfd, EV_READ | EV_PERSIST, on_accept, h);
    event_add(h->accept_ev, NULL);
    h->stop_ev = event_new(h->base, -1, 0, on_stop, h);
    h->backoff_ev = event_new(h->base, -1, 0, on_backoff, h);
    if (pthread_create(&h->tid, NULL, http_main, h) != 0) {
        snprintf(errstr, errlen, "Metrics endpoint failed to start its thread");
        goto err;
    }
    h->started = 1;
    sm_log_info(LOGGER, "[MetricsServer] Serving Prometheus metrics on http://%s:%d/metrics",
                h->host[0] ? h->host : "0.0.0.0", h->port);
    return h;
err:
    http_free(h);
    return NULL;
}

int sm_metrics_http_port(const sm_metrics_http_t *h) { return h->port; }

void
sm_metrics_http_stop(sm_metrics_http_t *h)
{
    if (!h) return;
    if (h->started) {
        /* Thread-safe with libevent's pthread locking (sm_loop_init). */
        event_active(h->stop_ev, EV_TIMEOUT, 0);
        pthread_join(h->tid, NULL);
    }
    http_free(h);
}

/*
 * sm_metrics_http.h - the Prometheus scrape endpoint: a tiny HTTP/1.x
 * server on its own thread and event loop, never on the Kafka port.
 *
 * One request per connection (answers carry "Connection: close"). GET or
 * HEAD /metrics (any query string ignored) is answered 200 with the text
 * exposition format 0.0.4; other paths 404, other methods 405, anything
 * that does not parse 400, a request head over SM_HTTP_MAX_REQUEST bytes
 * 431. Every connection has an idle/overall timeout and the number of
 * open connections is capped, so a slow or hostile client cannot hold
 * the endpoint or grow memory.
 */
#ifndef SM_METRICS_HTTP_H
#define SM_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"

#define SM_HTTP_MAX_REQUEST 8192     /* request line + headers */
#define SM_HTTP_MAX_TARGET 2048

typedef struct {
    int head;                        /* HEAD: headers only */
    int minor;                       /* HTTP/1.<minor> */
    char path[SM_HTTP_MAX_TARGET + 1]; /* target without the query string */
    size_t consumed;                 /* bytes of the request head */
} sm_http_req_t;

/* Parse a request head from buf[0, len) (untrusted bytes). Returns 0 when
 * more bytes are needed, else the HTTP status to answer: 200 (GET/HEAD
 * /metrics), 404, 405, 400 (malformed; detected as early as possible, so
 * a non-HTTP client is refused after its first bytes), 414 (target too
 * long) or 431 (no end of head within SM_HTTP_MAX_REQUEST bytes). *out is
 * filled when the request line parsed. Pure function, any thread. */
int sm_metrics_http_parse(const char *buf, size_t len, sm_http_req_t *out);

/* Append a complete HTTP response (status line, Content-Type, Content-Length,
 * Connection: close, body unless head) to w. For 200 the body is the
 * exposition text; for errors a one-line text reason. */
void sm_metrics_http_response(sm_wbuf_t *w, int status, const void *body, size_t len, int head);

typedef struct sm_metrics_http_s sm_metrics_http_t;

/* Renders the whole exposition into w, on the endpoint's thread. */
typedef void (*sm_metrics_render_fn)(sm_wbuf_t *w, void *arg);

typedef struct {
    const char *host;                /* bind address; "" or NULL = any */
    int port;                        /* 0 = ephemeral (see sm_metrics_http_port) */
    sm_metrics_render_fn render;
    void *arg;
    int timeout_ms;                  /* per connection; <= 0: 10000 */
    int max_conns;                   /* open at once; <= 0: 32 */
} sm_metrics_http_config_t;

/* Bind, listen and start the endpoint thread. NULL with a one-line errstr
 * ("Metrics endpoint failed to bind to 127.0.0.1:9404: Address already in
 * use") on failure. Calls sm_loop_init(). */
sm_metrics_http_t *sm_metrics_http_start(const sm_metrics_http_config_t *cfg, char *errstr, size_t errlen);
int  sm_metrics_http_port(const sm_metrics_http_t *h);
/* Stop the thread, close every connection and the listener, free. Not from
 * the endpoint's thread; NULL is a no-op. */
void sm_metrics_http_stop(sm_metrics_http_t *h);

#endif

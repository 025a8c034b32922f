/*
 * sm_net.h - network threads, connections, framing and response sending.
 *
 * num.network.threads threads each run a libevent event_base (epoll); an
 * acceptor thread hands new sockets round-robin (queue + wake-up). A
 * connection reads int32-size-prefixed frames; a size above
 * socket.request.max.bytes (or below the request header minimum) closes the
 * connection before any allocation. Kafka ordering: once a frame is handed to
 * on_request the connection is muted (no further frame is dispatched) until
 * that request is finished with sm_conn_respond()/sm_conn_no_response(), so
 * responses leave in request order. Pipelined frames wait in the buffer.
 *
 * net knows frames, not APIs: the frame is handed over without its size
 * prefix and the response is sent with one added.
 */
#ifndef SM_NET_H
#define SM_NET_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "core/sm_file.h"

struct event_base;
typedef struct sm_net_s sm_net_t;
typedef struct sm_conn_s sm_conn_t;
typedef struct sm_resp_s sm_resp_t;

/* Called on the connection's network thread with one complete frame (no size
 * prefix). frame stays valid until the request is finished. */
/*
 * Request lifetime, precisely:
 * - The handler finishes a request with exactly one sm_conn_respond() or
 *   sm_conn_no_response(), either inside on_request or later on the
 *   connection's thread. Until then no further frame of that connection is
 *   dispatched.
 * - To finish later (long-poll fetch, acks=all) the handler must take a
 *   reference with sm_conn_ref() before on_request returns and drop it with
 *   sm_conn_unref() after finishing.
 * - frame points into the connection's read buffer. It stays valid until the
 *   request is finished or, if the connection closes first (peer EOF, error,
 *   sm_conn_close, sm_net_stop), until the last reference is dropped. So a
 *   handler holding a reference may keep reading its frame after a close.
 * - Finishing a request on a closed connection is allowed and cheap (the
 *   response is freed); after sm_conn_close() finishing is optional.
 * - sm_conn_ref/sm_conn_unref/sm_conn_closed may be called from any thread;
 *   every other sm_conn_* function only on the connection's thread (use
 *   sm_net_post(sm_conn_base(c), ...) to get there).
 * - sm_net_stop() closes every connection; handlers must have no event of
 *   their own pending on a network thread's base (timers, posts) by then,
 *   because the bases are freed. References still held are then the only
 *   thing keeping each connection object; drop them to free it.
 */
typedef void (*sm_request_cb)(sm_conn_t *c, const uint8_t *frame, size_t len, void *opaque);

typedef struct {
    const char *host;                /* bind address ("0.0.0.0", "127.0.0.1", "" = any) */
    int port;                        /* 0 = ephemeral (see sm_net_port) */
    int num_threads;                 /* num.network.threads */
    int32_t max_request_bytes;       /* socket.request.max.bytes */
    int sndbuf, rcvbuf;              /* socket.send/receive.buffer.bytes; -1 = OS default */
    sm_request_cb on_request;
    void *opaque;
} sm_net_config_t;

/* Bind, listen, start threads. NULL with errstr on failure (e.g. port in use:
 * "Socket server failed to bind to 127.0.0.1:9092: Address already in use").
 * Calls sm_loop_init() and ignores SIGPIPE if its disposition is the default. */
sm_net_t *sm_net_start(const sm_net_config_t *cfg, char *errstr, size_t errlen);
/* Stop accepting, close every connection, join the threads, free. Not from a
 * network thread. */
void sm_net_stop(sm_net_t *n);
/* Broker id for the "[SocketServer listenerType=ZK_BROKER, nodeId=N]" log
 * prefix; process-wide, call before sm_net_start (default -1). */
void sm_net_set_node_id(int node_id);
int  sm_net_port(const sm_net_t *n);
/* Thread-safe: run fn(base, arg) once on every network thread. */
void sm_net_broadcast(sm_net_t *n, void (*fn)(struct event_base *base, void *arg), void *arg);
/* Thread-safe: run fn(arg) on the thread that owns base. */
void sm_net_post(struct event_base *base, void (*fn)(void *arg), void *arg);

/* A response: memory chunks and file regions, sent in order (writev for
 * memory, sendfile(2) for file regions). */
sm_resp_t *sm_resp_new(void);
/* The memory chunk at the tail; append bytes to it. */
sm_wbuf_t *sm_resp_wbuf(sm_resp_t *r);
/* Append a file region; takes its own reference on f. */
void sm_resp_add_file(sm_resp_t *r, sm_file_t *f, int64_t pos, int64_t len);
size_t sm_resp_len(const sm_resp_t *r);   /* total bytes (without size prefix) */
void sm_resp_free(sm_resp_t *r);

/* Finish the current request by sending r (ownership passes). Must run on
 * the connection's thread. Safe on a closed connection (r is freed). */
void sm_conn_respond(sm_conn_t *c, sm_resp_t *r);
/* Finish the current request without sending anything (acks=0). */
void sm_conn_no_response(sm_conn_t *c);
/* Close after logging reason (malformed request, acks=0 failure). */
void sm_conn_close(sm_conn_t *c, const char *reason);
int  sm_conn_closed(const sm_conn_t *c);
/* Keep a connection object alive across a deferred response. */
sm_conn_t *sm_conn_ref(sm_conn_t *c);
void sm_conn_unref(sm_conn_t *c);
struct event_base *sm_conn_base(const sm_conn_t *c);
const char *sm_conn_peer(const sm_conn_t *c);   /* "127.0.0.1:51234" */
/* Per-connection slot for the server (e.g. the negotiated client name). */
void  sm_conn_set_data(sm_conn_t *c, void *data, void (*free_fn)(void *));
void *sm_conn_data(const sm_conn_t *c);

/* Counters for metrics and tests: total sendfile(2) calls and bytes. */
uint64_t sm_net_sendfile_calls(void);
uint64_t sm_net_sendfile_bytes(void);
/* Connections open now, and accepted since start (all listeners, any thread). */
int64_t  sm_net_connection_count(void);
uint64_t sm_net_connections_accepted(void);
/* Process-wide hook called on the connection's thread each time a request
 * is finished (sm_conn_respond/sm_conn_no_response), before the next frame
 * is dispatched; metrics use it to time requests. Set before sm_net_start;
 * NULL removes it. */
void sm_net_set_finish_hook(void (*fn)(sm_conn_t *c));

#endif

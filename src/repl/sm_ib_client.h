/*
 * sm_ib_client.h - a small Kafka client for broker-to-broker requests.
 *
 * Two layers:
 *
 * 1. A blocking connection (sm_ib_conn_t): connect with a timeout, send one
 *    request, wait for the response with the matching correlation id. Meant
 *    for threads that may block (follower fetchers, the controlled-shutdown
 *    thread, the per-destination send threads below). Typical use:
 *
 *      sm_ib_conn_t *c = sm_ib_connect("10.0.0.2", 9092, 5000, "broker-1", err, sizeof(err));
 *      sm_offsetforleaderepoch_resp_t resp;
 *      if (SM_IB_CALL(c, OffsetForLeaderEpoch, SM_API_OFFSETFORLEADEREPOCH, 3, &req,
 *                     &arena, &resp, 30000, err, sizeof(err)) < 0)
 *          { sm_ib_close(c); reconnect later; }
 *
 *    The decoded response holds views into the connection's receive buffer:
 *    valid until the next request on that connection or sm_ib_close().
 *
 * 2. A queueing client (sm_ib_client_t), modelled on Kafka's
 *    ControllerChannelManager: one dedicated thread per destination broker
 *    with a blocking connection (RequestSendThread). Requests to one broker
 *    are sent strictly in queue order, one at a time; a request is retried
 *    (reconnecting with exponential backoff) until it gets a response or
 *    the destination is removed. Destinations are resolved to host:port
 *    through a caller-supplied lookup at every (re)connect, so a broker that
 *    re-registers on a new port is followed. Callers never block: sending
 *    only appends to the queue.
 *
 * Thread-safety: a connection is used by one thread at a time. The client's
 * functions may be called from any thread, but not from inside one of its
 * own done callbacks (remove/free join the send thread).
 */
#ifndef SM_IB_CLIENT_H
#define SM_IB_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/sm_arena.h"
#include "core/sm_buf.h"
#include "proto/sm_proto.h"

/* ---- blocking connection ---- */

typedef struct sm_ib_conn_s sm_ib_conn_t;

/* Resolve host (name or address) and connect with a non-blocking connect
 * bounded by timeout_ms (TCP_NODELAY on). client_id is copied and sent in
 * every request header (NULL = null client id). Returns the connection, or
 * NULL with a message in errstr. */
sm_ib_conn_t *sm_ib_connect(const char *host, int port, int timeout_ms, const char *client_id,
                            char *errstr, size_t errlen);
/* Close and free (NULL is ignored). */
void sm_ib_close(sm_ib_conn_t *c);
/* Make blocking waits on c return early (as an error) once fd becomes
 * readable; -1 disables. Used to stop a thread blocked in a call. */
void sm_ib_conn_set_cancel_fd(sm_ib_conn_t *c, int fd);

/* Start a request of (api, ver): resets the connection's send buffer,
 * writes the size prefix and the request header (fresh correlation id) and
 * returns the buffer for the caller to append the body to. */
sm_wbuf_t *sm_ib_begin(sm_ib_conn_t *c, int16_t api, int16_t ver);
/* Send the request built since sm_ib_begin() and wait, at most timeout_ms
 * in total, for its response. On 0, *body reads the response body (header
 * consumed). -1 on error, timeout, cancel or a correlation id mismatch,
 * with a message in errstr; the connection must then be closed. */
int sm_ib_finish(sm_ib_conn_t *c, int timeout_ms, sm_reader_t *body, char *errstr, size_t errlen);

/* Typed round trip with the proto codecs: encodes *REQ with
 * sm_proto_encode_<NAME>Request and decodes into *RESP with
 * sm_proto_decode_<NAME>Response (arrays from ARENA). Evaluates to 0 or -1
 * (I/O failure, or a malformed response: errstr says which). */
#define SM_IB_CALL(CONN, NAME, API, VER, REQ, ARENA, RESP, TIMEOUT_MS, ERRSTR, ERRLEN)              \
    ({                                                                                              \
        sm_ib_conn_t *c_ = (CONN);                                                                  \
        int16_t v_ = (int16_t)(VER);                                                                \
        sm_proto_encode_##NAME##Request(sm_ib_begin(c_, (API), v_), v_, (REQ));                     \
        sm_reader_t r_;                                                                             \
        int rc_ = sm_ib_finish(c_, (TIMEOUT_MS), &r_, (ERRSTR), (ERRLEN));                          \
        if (rc_ == 0 && sm_proto_decode_##NAME##Response(&r_, v_, (ARENA), (RESP)) < 0) {          \
            snprintf((ERRSTR), (ERRLEN), "malformed %s v%d response", sm_api_name(API), v_);        \
            rc_ = -1;                                                                               \
        }                                                                                           \
        rc_;                                                                                        \
    })

/* ---- queueing client: one send thread per destination broker ---- */

typedef struct sm_ib_client_s sm_ib_client_t;

/* Where broker_id listens: fill host (NUL-terminated) and *port, return 0,
 * or -1 if unknown right now. Called on send threads. */
typedef int (*sm_ib_lookup_fn)(void *arg, int32_t broker_id, char *host, size_t hostlen, int *port);
/* Completion of one queued request, on the destination's send thread:
 * body reads the response body, or is NULL if the request was dropped
 * (destination removed, client freed; then it runs on the thread calling
 * sm_ib_client_remove/free). */
typedef void (*sm_ib_done_fn)(void *arg, int32_t broker_id, int16_t api, int16_t ver, sm_reader_t *body);

typedef struct {
    const char *client_id;           /* request header client id */
    const char *log_prefix;          /* e.g. "Controller id=1"; logs read "[<prefix>, targetBrokerId=2] ..." */
    sm_ib_lookup_fn lookup;
    void *lookup_arg;
    int connect_timeout_ms;          /* default 10000 */
    int request_timeout_ms;          /* default 30000 (request.timeout.ms) */
    int backoff_ms;                  /* first reconnect backoff, default 100 */
    int backoff_max_ms;              /* cap, default 1000 */
} sm_ib_client_conf_t;

/* conf is copied (strings too). Starts no thread until the first send. */
sm_ib_client_t *sm_ib_client_new(const sm_ib_client_conf_t *conf);
/* Stop every send thread (interrupting blocked I/O), drop queued requests
 * (done with NULL) and free. */
void sm_ib_client_free(sm_ib_client_t *cl);
/* Queue a request for broker_id; body/len is the encoded body (no header)
 * and its ownership passes to the client (it must come from malloc, e.g.
 * sm_wbuf_steal). done may be NULL. Never blocks. */
void sm_ib_send(sm_ib_client_t *cl, int32_t broker_id, int16_t api, int16_t ver, uint8_t *body, size_t len,
                sm_ib_done_fn done, void *arg);
/* Forget broker_id: stop its thread and drop its queue (done with NULL).
 * A later send starts a fresh thread. Blocks until the thread exits. */
void sm_ib_client_remove(sm_ib_client_t *cl, int32_t broker_id);
/* Forget every destination whose id is not among ids[0..n) (brokers that
 * died): as sm_ib_client_remove for each. Cheap when there is none. */
void sm_ib_client_retain(sm_ib_client_t *cl, const int32_t *ids, int n);
/* Requests queued or in flight for broker_id (tests, logs). */
int sm_ib_client_pending(sm_ib_client_t *cl, int32_t broker_id);

#endif

/*
 * sm_metrics_broker.h - the broker's side of metrics: starting and
 * stopping the scrape endpoint from samsa-server's configuration, timing
 * requests through the net finish hook, and rendering the broker's gauges
 * (replica manager, controller, logs, network, process) next to the
 * counters of sm_metrics.h.
 *
 * Unlike the rest of src/metrics this file reads the broker context
 * (sm_srv): it is the one place that knows both.
 */
#ifndef SM_METRICS_BROKER_H
#define SM_METRICS_BROKER_H

#include <stddef.h>
#include "core/sm_buf.h"
#include "net/sm_net.h"

/* Install the request-finish hook and, if samsa.metrics.listener is set,
 * start the endpoint. Call on the main thread after the log and replica
 * managers exist and before the network threads start. Returns 0, or -1
 * with a one-line errstr (e.g. the port is taken). */
int  sm_metrics_broker_start(char *errstr, size_t errlen);
/* Stop the endpoint (first thing at shutdown, before anything it reads is
 * freed). Safe when never started. Main thread. */
void sm_metrics_broker_stop(void);
/* Bound port of the endpoint, or -1 when disabled. */
int  sm_metrics_broker_port(void);
/* The whole exposition for this broker (the endpoint's renderer). Any
 * thread, while the broker's managers exist. */
void sm_metrics_broker_render(sm_wbuf_t *w, void *arg);
/* Net finish hook: records the finished request's total time. */
void sm_metrics_broker_request_done(sm_conn_t *c);

#endif

/*
 * sm_tool_rdk.h - the librdkafka plumbing the operator tools share: the
 * Admin-API client handle (--bootstrap-server + --command-config), admin
 * calls as begin / wait / end, and the console tools' property setter.
 * Compiled into the tool binaries only (libsamsa.a stays librdkafka-free);
 * the librdkafka-free helpers live in sm_tool.h.
 */
#ifndef SM_TOOL_RDK_H
#define SM_TOOL_RDK_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Log callback that drops everything: admin failures reach the tools
 * through result events, so librdkafka's own lines would only be noise. */
void sm_tool_rdk_log_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/* The admin tools' client: properties of the --command-config file (NULL =
 * none; with map_keys the keys go through sm_tool_map_producer_prop so old
 * Java-client names work, unmappable ones are skipped), then
 * bootstrap.servers, client.id and the quiet log callback. A property
 * librdkafka rejects prints "WARN The configuration '<key>' was supplied but
 * isn't a known config." on stderr and is skipped. Returns the handle
 * (rd_kafka_destroy it), or NULL with a one-line errstr (unreadable file,
 * invalid mapped value, bad bootstrap list, client creation failure).
 * Touches no network itself. Thread: any. */
rd_kafka_t *sm_tool_rdk_admin_new(const char *bootstrap, const char *command_config, int map_keys,
                                  const char *client_id, char *errstr, size_t errlen);

/* One admin request in flight: its result queue, options and result. */
typedef struct {
    rd_kafka_queue_t *q;
    rd_kafka_AdminOptions_t *o;
    rd_kafka_event_t *ev;           /* set by sm_tool_rdk_call_wait */
} sm_tool_rdk_call_t;

/* Create c's queue and options for `op` with request_timeout_ms (and the
 * operation timeout too when op_timeout_ms > 0). Issue the request with
 * c->o and c->q, then sm_tool_rdk_call_wait. Thread: any. */
void sm_tool_rdk_call_begin(sm_tool_rdk_call_t *c, rd_kafka_t *rk, rd_kafka_admin_op_t op,
                            int request_timeout_ms, int op_timeout_ms);
/* Wait up to wait_ms for the result event; NULL on timeout. The event stays
 * owned by c (take it by clearing c->ev to keep it past _end). */
rd_kafka_event_t *sm_tool_rdk_call_wait(sm_tool_rdk_call_t *c, int wait_ms);
/* Destroy c's event (if still owned), options and queue. */
void sm_tool_rdk_call_end(sm_tool_rdk_call_t *c);

/* Console tools: set one user-supplied property on conf, mapped to its
 * librdkafka name by sm_tool_map_producer_prop (producer != 0; *sync is
 * updated for producer.type) or sm_tool_map_consumer_prop. Unmappable or
 * unknown keys print the "WARN The configuration ..." line; an invalid
 * value exits through sm_tool_error_die. Thread: main only (may exit). */
void sm_tool_rdk_conf_put(rd_kafka_conf_t *conf, int producer, const char *key, const char *value, int *sync);

#endif

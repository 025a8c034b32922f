/*
 * sm_ib_api.h - the broker side of the inter-broker protocol: applying
 * LeaderAndIsr / UpdateMetadata / StopReplica (whether they arrived over
 * the wire or from this broker's own controller), the directory of broker
 * endpoints learned from the controller, and the shutting-down broker's
 * ControlledShutdown loop. The request handlers are declared in
 * sm_server.h.
 */
#ifndef SM_IB_API_H
#define SM_IB_API_H

#include <stdint.h>
#include "proto/sm_proto_interbroker.h"

/* Apply a controller request to this broker. All three first fence the
 * request: a controller epoch below the highest one accepted so far gives
 * STALE_CONTROLLER_EPOCH, a broker epoch (when not -1) below this broker's
 * registration gives STALE_BROKER_EPOCH (as Kafka's isBrokerEpochStale: a
 * newer one only means our own re-registration is not processed yet); the
 * error is then returned and copied to every partition. Otherwise the
 * highest accepted epoch is raised and the request applied:
 * LeaderAndIsr through sm_replica_leader_and_isr, UpdateMetadata into the
 * metadata cache (leader -2 drops the partition) and the endpoint
 * directory, StopReplica through sm_replica_stop. errs must hold one entry
 * per partition of the request (in request order); topic views in errs
 * point into req. Returns the top-level error code. Main thread only. */
int16_t sm_ib_apply_LeaderAndIsr(const sm_leaderandisr_req_t *req, sm_ib_part_error_t *errs);
int16_t sm_ib_apply_UpdateMetadata(const sm_updatemetadata_req_t *req);
int16_t sm_ib_apply_StopReplica(const sm_stopreplica_req_t *req, sm_ib_part_error_t *errs);

/* Where broker_id listens, from the controller's UpdateMetadata and
 * LeaderAndIsr live leaders (this broker's own listener for itself):
 * fills host and *port and returns 0, or -1 if unknown. Matches
 * sm_ib_lookup_fn and sm_broker_resolve_fn (arg unused). Any thread. */
int sm_ib_resolve_broker(void *arg, int32_t broker_id, char *host, size_t hostlen, int *port);

/* Controlled shutdown of this broker (Kafka KafkaServer.controlledShutdown):
 * when controlled.shutdown.enable is set, ask the controller with
 * ControlledShutdown v2 to move leadership away, retrying up to
 * controlled.shutdown.max.retries times, controlled.shutdown.retry.backoff.ms
 * apart, until no partition remains. When this broker is the active
 * controller it runs the same election on itself (no request) before
 * sm_ctrl_free() resigns.
 * Runs the main event loop meanwhile so controller requests keep being
 * applied. Returns 1 if it succeeded, 0 if skipped or given up. Main
 * thread, with the loop stopped (called first thing in shutdown). */
int sm_ib_controlled_shutdown(void);

/* Free the directory (shutdown). */
void sm_ib_api_cleanup(void);

#endif

/*
 * sm_ctrl.h - the controller, with Kafka 2.x KafkaController semantics:
 * election through the ephemeral /controller and /controller_epoch, the
 * controller context (live brokers, topics, assignments, leader/ISR),
 * partition state creation, leader election on broker failure and arrival,
 * and topic deletion. All controller writes are fenced with a check on
 * /controller_epoch's version.
 *
 * The controller talks to brokers only through sm_ctrl_channel_t, which the
 * owner implements (today: the local broker; later: real LeaderAndIsr,
 * UpdateMetadata and StopReplica requests).
 *
 * Threading: everything, including channel calls, runs on the event_base
 * of the sm_zk_t given to sm_ctrl_new(). ZooKeeper access is async only;
 * events are queued and processed one at a time, like Kafka's
 * ControllerEventManager.
 */
#ifndef SM_CTRL_H
#define SM_CTRL_H

#include <stdint.h>
#include "zk/sm_zk.h"

typedef struct { int32_t id; char *host; int32_t port; char *rack; char *listener; } sm_ctrl_broker_t;
typedef struct {
    char *topic; int32_t partition;
    int32_t controller_epoch, leader, leader_epoch;   /* leader -2 in update_metadata = topic being deleted: drop it */
    int32_t nisr; int32_t *isr;
    int32_t nreplicas; int32_t *replicas;
    int32_t zk_version; int is_new;
} sm_ctrl_partition_t;
typedef struct {
    /* all called on the controller's event_base thread */
    void (*leader_and_isr)(void *arg, int32_t broker_id, int32_t controller_id, int32_t controller_epoch,
                           const sm_ctrl_partition_t *parts, int nparts);
    void (*update_metadata)(void *arg, int32_t broker_id, int32_t controller_id, int32_t controller_epoch,
                            const sm_ctrl_broker_t *live, int nlive, const sm_ctrl_partition_t *parts, int nparts);
    void (*stop_replica)(void *arg, int32_t broker_id, int32_t controller_epoch, const char *topic,
                         int32_t partition, int delete_partition);
    void *arg;
} sm_ctrl_channel_t;

typedef struct {
    int delete_topic_enable;               /* delete.topic.enable (Kafka default true) */
    int unclean_leader_election_enable;    /* unclean.leader.election.enable (default false) */
} sm_ctrl_conf_t;

typedef struct sm_ctrl_s sm_ctrl_t;

/* Create the controller for broker broker_id. zk must have an event_base;
 * conf and ch are copied. Does nothing until sm_ctrl_start(). */
sm_ctrl_t *sm_ctrl_new(sm_zk_t *zk, int32_t broker_id, const sm_ctrl_conf_t *conf, const sm_ctrl_channel_t *ch);
/* Start taking part in elections (call after the broker registered). */
void sm_ctrl_start(sm_ctrl_t *c);
/* Stop; if active, resign by deleting /controller (if it is still ours).
 * Safe with requests in flight: their completions are dropped. */
void sm_ctrl_free(sm_ctrl_t *c);

/* 1 if this broker is the active controller. */
int     sm_ctrl_is_active(const sm_ctrl_t *c);
/* Last known controller id (-1 if none). */
int32_t sm_ctrl_controller_id(const sm_ctrl_t *c);
/* Controller epoch while active (else the last one seen, or 0). */
int32_t sm_ctrl_epoch(const sm_ctrl_t *c);
/* 1 when no controller event is queued or being processed (for tests). */
int     sm_ctrl_idle(const sm_ctrl_t *c);

#endif

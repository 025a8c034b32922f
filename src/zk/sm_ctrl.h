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
    int unclean_leader_election_enable;    /* unclean.leader.election.enable (default false); a
                                              topic-level override in /config/topics wins */
    int auto_leader_rebalance_enable;      /* auto.leader.rebalance.enable (Kafka default true) */
    int leader_imbalance_check_interval_seconds;   /* default 300; <= 0 means 300 */
    int leader_imbalance_per_broker_percentage;    /* default 10 */
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
/* Number of partition reassignments the controller is driving (0 when
 * idle or not active; for tests and metrics). */
int     sm_ctrl_reassignments(const sm_ctrl_t *c);
/* Queue an automatic preferred-leader rebalance check now, as the
 * leader.imbalance.check.interval.seconds timer does (no-op unless
 * active; for tests). */
void    sm_ctrl_check_imbalance(sm_ctrl_t *c);

/* A topic partition named in a controlled-shutdown answer. */
typedef struct { const char *topic; int32_t partition; } sm_ctrl_tp_t;

/* ControlledShutdown (Kafka KafkaController.controlledShutdown): move
 * leadership away from broker_id for every partition it leads that has
 * another live in-sync replica (leader_epoch+1, broker_id removed from the
 * ISR), send LeaderAndIsr to the new leaders/followers, then call
 * done(arg, error, remaining, n) with the partitions broker_id still leads.
 * error: 0, NOT_CONTROLLER (41) if this broker is not the active controller,
 * STALE_BROKER_EPOCH (77) if broker_epoch (>= 0) is older than the
 * registration the controller knows, BROKER_NOT_AVAILABLE (8) if the broker
 * is not registered. remaining and its strings are valid only during the
 * call. done is called exactly once, possibly before this returns; if the
 * controller is deposed meanwhile it answers NOT_CONTROLLER; if it is freed
 * first, done is called from sm_ctrl_free() with NOT_CONTROLLER.
 * Thread: the controller's event_base thread. */
void sm_ctrl_controlled_shutdown(sm_ctrl_t *c, int32_t broker_id, int64_t broker_epoch,
                                 void (*done)(void *arg, int16_t error, const sm_ctrl_tp_t *remaining, int n),
                                 void *arg);

#endif

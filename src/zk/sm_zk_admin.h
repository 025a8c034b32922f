/*
 * sm_zk_admin.h - synchronous topic administration over ZooKeeper, as
 * kafka-topics.sh --zookeeper and Kafka's AdminZkClient do it. Used by the
 * samsa-topics tool and, from a broker worker thread, by the CreateTopics /
 * DeleteTopics / CreatePartitions handlers. Calls block the calling thread
 * only; safe from any thread except a ZooKeeper callback.
 */
#ifndef SM_ZK_ADMIN_H
#define SM_ZK_ADMIN_H

#include <stdint.h>
#include "core/sm_conf.h"
#include "core/sm_err.h"
#include "zk/sm_zk_codec.h"

typedef struct sm_zk_s sm_zk_t;

/* Open a session for a tool: connect string "h1:2181,h2:2181/chroot".
 * NULL with errstr if not connected within timeout_ms. */
sm_zk_t *sm_zk_admin_connect(const char *connect, int timeout_ms, char *errstr, size_t errlen);
void     sm_zk_admin_close(sm_zk_t *zk);

/* Topic names under /brokers/topics, sorted. Returns 0 or -1. */
int  sm_zk_admin_list_topics(sm_zk_t *zk, char ***topics, int *ntopics);
void sm_zk_admin_free_list(char **list, int n);
/* 0 = found, 1 = no such topic, -1 = ZooKeeper error. */
int  sm_zk_admin_get_assignment(sm_zk_t *zk, const char *topic, sm_topic_assignment_t *out);
int  sm_zk_admin_get_partition_state(sm_zk_t *zk, const char *topic, int32_t partition, sm_partition_state_t *out);
int  sm_zk_admin_get_topic_config(sm_zk_t *zk, const char *topic, sm_props_t *out);
/* Registered brokers, sorted by id. */
int  sm_zk_admin_list_brokers(sm_zk_t *zk, sm_broker_info_t **brokers, int *nbrokers);
/* 1 if /admin/delete_topics/<topic> exists. */
int  sm_zk_admin_marked_for_deletion(sm_zk_t *zk, const char *topic);
/* Controller broker id, or -1. */
int32_t sm_zk_admin_controller_id(sm_zk_t *zk);

/* Write /config/topics/<t> then /brokers/topics/<t> (AdminZkClient order).
 * Returns NONE, TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION (also for a
 * name colliding after '.'/'_' normalisation), INVALID_CONFIG, or
 * UNKNOWN_SERVER_ERROR; errstr gets Kafka's message. */
sm_err_t sm_zk_admin_create_topic(sm_zk_t *zk, const char *topic, const sm_topic_assignment_t *a,
                                  const sm_props_t *configs, char *errstr, size_t errlen);
/* Create /admin/delete_topics/<topic>. UNKNOWN_TOPIC_OR_PARTITION if absent. */
sm_err_t sm_zk_admin_delete_topic(sm_zk_t *zk, const char *topic, char *errstr, size_t errlen);
/* Replace the assignment with `a`, which must extend the existing one. */
sm_err_t sm_zk_admin_add_partitions(sm_zk_t *zk, const char *topic, const sm_topic_assignment_t *a,
                                    char *errstr, size_t errlen);
/* Replace /config/topics/<t> with `config` and create a config_change node. */
sm_err_t sm_zk_admin_set_topic_config(sm_zk_t *zk, const char *topic, const sm_props_t *config,
                                      char *errstr, size_t errlen);

/* Any entity's config at /config/<type>/<name> (e.g. "brokers", "0" or
 * "<default>"): 0 found, 1 absent (out empty), -1 error. */
int  sm_zk_admin_get_entity_config(sm_zk_t *zk, const char *type, const char *name, sm_props_t *out);
/* Names under /config/<type> (unsorted; free with sm_zk_admin_free_list). 0 or -1. */
int  sm_zk_admin_list_entity_configs(sm_zk_t *zk, const char *type, char ***names, int *n);
/* Replace /config/brokers/<broker> (an id or "<default>"; no key checks)
 * and notify with entity path "brokers/<broker>". */
sm_err_t sm_zk_admin_set_broker_config(sm_zk_t *zk, const char *broker, const sm_props_t *config,
                                       char *errstr, size_t errlen);

/* Kafka's topic name rules: [a-zA-Z0-9._-], 1..249 chars, not "." or "..".
 * Returns 1 if valid, else 0 with errstr. */
int sm_topic_name_valid(const char *topic, char *errstr, size_t errlen);

/* Kafka's AdminUtils.assignReplicasToBrokers without racks: round robin from
 * a random start (or fixed_start >= 0), followers shifted. brokers sorted.
 * start_partition is the first new partition id (for adding partitions).
 * Returns NONE or INVALID_REPLICATION_FACTOR / INVALID_PARTITIONS. */
sm_err_t sm_assign_replicas(const int32_t *brokers, int nbrokers, int32_t npartitions, int32_t rf,
                            int32_t fixed_start, int32_t start_partition, sm_topic_assignment_t *out);

/* Kafka's assignReplicasToBrokers with racks: racks[i] is broker i's
 * broker.rack or NULL. All NULL: the rack-unaware assignment above. All set:
 * the rack-aware one (brokers alternated by rack, each partition's replicas
 * on distinct racks while racks remain). Some set: INVALID_REPLICA_ASSIGNMENT
 * with Kafka's message in errstr. */
sm_err_t sm_assign_replicas_rack(const int32_t *brokers, const char *const *racks, int nbrokers, int32_t npartitions,
                                 int32_t rf, int32_t fixed_start, int32_t start_partition, sm_topic_assignment_t *out,
                                 char *errstr, size_t errlen);

/* Assign replicas over the registered brokers as Kafka's AdminZkClient does
 * (getBrokerMetadatas + assignReplicasToBrokers, rack-aware when brokers
 * have broker.rack). fixed_start_broker >= 0 starts at the first broker with
 * an id >= it (adding partitions), else random. Errors carry Kafka's message
 * ("Replication factor: 3 larger than available brokers: 1."). */
sm_err_t sm_zk_admin_assign(sm_zk_t *zk, int32_t npartitions, int32_t rf, int32_t fixed_start_broker,
                            int32_t start_partition, sm_topic_assignment_t *out, char *errstr, size_t errlen);

#endif

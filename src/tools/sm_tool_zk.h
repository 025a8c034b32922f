/*
 * sm_tool_zk.h - how the ZooKeeper-backed admin tools (samsa-reassign-
 * partitions, samsa-leader-election) reach ZooKeeper: directly with
 * --zookeeper, or with --bootstrap-server by asking a broker for its
 * zookeeper.connect through DescribeConfigs (BROKER resource) and then
 * connecting there. Samsa has no AlterPartitionReassignments/ElectLeaders
 * APIs yet, so both modes end up writing the same admin znodes Kafka's
 * ZooKeeper mode writes. Part of libsamsa_tools.a, which only the tool
 * binaries link (librdkafka).
 */
#ifndef SM_TOOL_ZK_H
#define SM_TOOL_ZK_H

#include <stddef.h>
#include "zk/sm_zk.h"

/* Exactly one of zookeeper / bootstrap is non-NULL. Returns a sync-only
 * session (close with sm_zk_admin_close), or NULL with a one-line errstr.
 * Blocks up to timeout_ms per step. Thread: any. */
sm_zk_t *sm_tool_zk_connect(const char *zookeeper, const char *bootstrap, int timeout_ms, char *errstr,
                            size_t errlen);

/* Read-modify-write /config/brokers/<id> (set[i] = value, or remove key
 * when value is NULL) and publish a config change notification, like
 * AdminZkClient.changeBrokerConfig. Returns a ZooKeeper rc. */
int sm_tool_zk_broker_config(sm_zk_t *zk, int32_t id, const char *const *keys, const char *const *values, int n);

#endif

/*
 * sm_logdirs_client.h - replica sizes over DescribeLogDirs, for
 * samsa-reassign-partitions --verify: how many bytes the replicas being
 * added to a partition still have to copy.
 *
 * Blocking (one short connection per broker asked); for tools and other
 * threads that may block. Brokers are found through their ZooKeeper
 * registration (/brokers/ids/<id>).
 */
#ifndef SM_LOGDIRS_CLIENT_H
#define SM_LOGDIRS_CLIENT_H

#include <stdint.h>
#include "zk/sm_zk.h"

/* Size in bytes of topic-partition's log on broker_id (sum over its log
 * dirs), 0 if the broker does not host it, or -1 if the broker could not
 * be reached or answered with an error. */
int64_t sm_logdirs_partition_size(sm_zk_t *zk, int32_t broker_id, const char *topic, int32_t partition,
                                  int timeout_ms);

/* Bytes left for a reassignment of topic-partition: with L the largest
 * size over replicas[0..nreplicas) (the current replica set, whose leader
 * holds the most data), the sum over target[0..ntarget) of L - size there.
 * -1 if any broker could not be asked. */
int64_t sm_logdirs_bytes_left(sm_zk_t *zk, const char *topic, int32_t partition, const int32_t *replicas,
                              int nreplicas, const int32_t *target, int ntarget, int timeout_ms);

#endif

/*
 * sm_logdirs_client.c - DescribeLogDirs queries for replica sizes (see
 * sm_logdirs_client.h), over the blocking inter-broker connection.
 */
#include <stdlib.h>
#include <string.h>
#include "core/sm_arena.h"
#include "core/sm_util.h"
#include "proto/sm_proto_logdirs.h"
#include "repl/sm_ib_client.h"
#include "repl/sm_logdirs_client.h"
#include "zk/sm_zk_codec.h"

#define LOGDIRS_VERSION 1

int64_t
sm_logdirs_partition_size(sm_zk_t *zk, int32_t broker_id, const char *topic, int32_t partition, int timeout_ms)
{
    char path[64], *data = NULL, err[256];
    int len = 0;
    snprintf(path, sizeof(path), "/brokers/ids/%d", broker_id);
    if (sm_zk_get(zk, path, &data, &len, NULL) != ZOK || !data) {
        free(data);
        return -1;
    }
    sm_broker_info_t bi;
    int ok = sm_zk_decode_broker(data, (size_t)len, broker_id, &bi) == 0;
    free(data);
    if (!ok) return -1;
    sm_ib_conn_t *c = bi.host && bi.port > 0 ? sm_ib_connect(bi.host, bi.port, timeout_ms, "samsa-reassign", err, sizeof(err)) : NULL;
    sm_broker_info_free(&bi);
    if (!c) return -1;
    sm_describelogdirs_req_topic_t t = { SM_BYTES_STR(topic), 1, &partition };
    sm_describelogdirs_req_t req = { 1, &t };
    sm_describelogdirs_resp_t resp;
    sm_arena_t a;
    sm_arena_init(&a, 1024);
    int64_t size = -1;
    if (SM_IB_CALL(c, DescribeLogDirs, SM_API_DESCRIBELOGDIRS, LOGDIRS_VERSION, &req, &a, &resp, timeout_ms, err,
                   sizeof(err)) == 0) {
        size = 0;
        size_t tl = strlen(topic);
        for (int32_t i = 0; i < resp.n_results && size >= 0; i++) {
            const sm_describelogdirs_result_t *res = &resp.results[i];
            if (res->error_code != 0) { size = -1; break; }
            for (int32_t j = 0; j < res->n_topics; j++) {
                const sm_describelogdirs_topic_t *rt = &res->topics[j];
                if ((size_t)rt->name.len != tl || memcmp(rt->name.ptr, topic, tl)) continue;
                for (int32_t k = 0; k < rt->n_partitions; k++)
                    if (rt->partitions[k].partition_index == partition && !rt->partitions[k].is_future_key &&
                        rt->partitions[k].partition_size > 0)
                        size += rt->partitions[k].partition_size;
            }
        }
    }
    sm_arena_free(&a);
    sm_ib_close(c);
    return size;
}

int64_t
sm_logdirs_bytes_left(sm_zk_t *zk, const char *topic, int32_t partition, const int32_t *replicas, int nreplicas,
                      const int32_t *target, int ntarget, int timeout_ms)
{
    int64_t *sz = sm_calloc((size_t)(nreplicas + ntarget) + 1, sizeof(int64_t)), largest = 0, left = 0;
    for (int i = 0; i < nreplicas + ntarget && left >= 0; i++) {
        int32_t id = i < nreplicas ? replicas[i] : target[i - nreplicas];
        sz[i] = -2;
        for (int j = 0; j < i; j++)          /* ask each broker once */
            if ((j < nreplicas ? replicas[j] : target[j - nreplicas]) == id) sz[i] = sz[j];
        if (sz[i] == -2) sz[i] = sm_logdirs_partition_size(zk, id, topic, partition, timeout_ms);
        if (sz[i] < 0) left = -1;
        else if (sz[i] > largest) largest = sz[i];
    }
    for (int i = nreplicas; i < nreplicas + ntarget && left >= 0; i++)
        if (sz[i] < largest) left += largest - sz[i];
    free(sz);
    return left;
}

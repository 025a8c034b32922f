/*
 * sm_proto_logdirs.h - wire codec of DescribeLogDirs (35), versions 0-1
 * (neither is flexible; v1 only changes the throttle semantics). The broker
 * answers it with the size of every hosted partition per log directory;
 * samsa-reassign-partitions --verify uses it to report the bytes a moving
 * replica still has to copy.
 *
 * Conventions are exactly those of sm_proto.h: four functions, arena
 * arrays, sm_bytes_t views into the reader's buffer, -1 on malformed input
 * or a version outside 0-1. Thread-safe.
 */
#ifndef SM_PROTO_LOGDIRS_H
#define SM_PROTO_LOGDIRS_H

#include <stdint.h>
#include "proto/sm_proto.h"

typedef struct {
    sm_bytes_t topic;
    int32_t n_partitions;
    int32_t *partitions;
} sm_describelogdirs_req_topic_t;

typedef struct {
    int32_t n_topics;                    /* -1 = null: every topic */
    sm_describelogdirs_req_topic_t *topics;
} sm_describelogdirs_req_t;

typedef struct {
    int32_t partition_index;
    int64_t partition_size;              /* bytes of all segments */
    int64_t offset_lag;                  /* max(HW - LEO, 0) for a current log */
    int8_t is_future_key;
} sm_describelogdirs_part_t;

typedef struct {
    sm_bytes_t name;
    int32_t n_partitions;
    sm_describelogdirs_part_t *partitions;
} sm_describelogdirs_topic_t;

typedef struct {
    int16_t error_code;
    sm_bytes_t log_dir;
    int32_t n_topics;
    sm_describelogdirs_topic_t *topics;
} sm_describelogdirs_result_t;

typedef struct {
    int32_t throttle_time_ms;
    int32_t n_results;
    sm_describelogdirs_result_t *results;
} sm_describelogdirs_resp_t;

int  sm_proto_decode_DescribeLogDirsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describelogdirs_req_t *out);
void sm_proto_encode_DescribeLogDirsRequest(sm_wbuf_t *w, int16_t ver, const sm_describelogdirs_req_t *in);
void sm_proto_encode_DescribeLogDirsResponse(sm_wbuf_t *w, int16_t ver, const sm_describelogdirs_resp_t *in);
int  sm_proto_decode_DescribeLogDirsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_describelogdirs_resp_t *out);

#endif

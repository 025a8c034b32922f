/*
 * sm_zk_codec.h - JSON codecs for every znode Samsa reads or writes, in
 * Kafka 2.x's exact layout (see zkschema/ and shared/reference/zkschema.md).
 * Decoders take untrusted bytes and fail cleanly; encoders append to a wbuf.
 */
#ifndef SM_ZK_CODEC_H
#define SM_ZK_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "core/sm_conf.h"

/* /brokers/ids/<id> */
typedef struct {
    int32_t id;
    char *host;                      /* first PLAINTEXT endpoint's host, or NULL */
    int32_t port;                    /* its port, or -1 */
    char *rack;                      /* NULL if unset */
    int nendpoints;
    char **endpoints;                /* "PLAINTEXT://host:port" */
    char **endpoint_listener;        /* listener name of each endpoint */
    char **endpoint_host;
    int32_t *endpoint_port;
    int64_t timestamp;
    int32_t jmx_port;
    int64_t broker_epoch;            /* czxid of the znode (not in JSON) */
} sm_broker_info_t;

/* /brokers/topics/<t> */
typedef struct {
    int32_t npartitions;
    int32_t *nreplicas;              /* [npartitions] */
    int32_t **replicas;              /* [npartitions][nreplicas[p]] */
    char *topic_id;                  /* v3 only, else NULL */
} sm_topic_assignment_t;

/* The v2+ in-flight reassignment maps of the same znode (KIP-455), kept
 * apart so that sm_topic_assignment_t stays a plain value type. Arrays are
 * [npartitions] or NULL when the znode has none; nadding[p] == 0 for
 * partitions not being reassigned. */
typedef struct {
    int32_t npartitions;
    int32_t *nadding, **adding;
    int32_t *nremoving, **removing;
} sm_zk_reassigning_t;

/* /brokers/topics/<t>/partitions/<p>/state */
typedef struct {
    int32_t controller_epoch;
    int32_t leader;                  /* -1 none */
    int32_t leader_epoch;
    int32_t nisr;
    int32_t *isr;
    int32_t zk_version;              /* dataVersion of the znode (not in JSON) */
} sm_partition_state_t;

int  sm_zk_decode_broker(const char *json, size_t len, int32_t id, sm_broker_info_t *out);
void sm_zk_encode_broker(sm_wbuf_t *w, const sm_broker_info_t *b, int version); /* 4 or 5 */
void sm_broker_info_free(sm_broker_info_t *b);

int  sm_zk_decode_assignment(const char *json, size_t len, sm_topic_assignment_t *out);
void sm_zk_encode_assignment(sm_wbuf_t *w, const sm_topic_assignment_t *a);   /* version 2 */
void sm_topic_assignment_free(sm_topic_assignment_t *a);
/* adding_replicas / removing_replicas of a topic znode with npartitions
 * partitions (absent maps give NULL arrays). 0 or -1 if malformed. */
int  sm_zk_decode_reassigning(const char *json, size_t len, int32_t npartitions, sm_zk_reassigning_t *out);
/* Version 2 with the reassignment maps (r may be NULL: empty maps). */
void sm_zk_encode_assignment_ex(sm_wbuf_t *w, const sm_topic_assignment_t *a, const sm_zk_reassigning_t *r);
void sm_zk_reassigning_free(sm_zk_reassigning_t *r);

int  sm_zk_decode_partition_state(const char *json, size_t len, sm_partition_state_t *out);
void sm_zk_encode_partition_state(sm_wbuf_t *w, const sm_partition_state_t *s);
void sm_partition_state_free(sm_partition_state_t *s);

/* {"version":1,"config":{...}} <-> props (values are strings). */
int  sm_zk_decode_config(const char *json, size_t len, sm_props_t *out);
void sm_zk_encode_config(sm_wbuf_t *w, const sm_props_t *config);

/* {"version":1,"brokerid":N,"timestamp":"ms"} */
int  sm_zk_decode_controller(const char *json, size_t len, int32_t *broker_id);
void sm_zk_encode_controller(sm_wbuf_t *w, int32_t broker_id, int64_t timestamp_ms);

/* {"version":"1","id":"..."} */
int  sm_zk_decode_cluster_id(const char *json, size_t len, char **id);
void sm_zk_encode_cluster_id(sm_wbuf_t *w, const char *id);

/* {"version":2,"entity_path":"topics/t"} (also reads version 1) */
int  sm_zk_decode_config_change(const char *json, size_t len, char **entity_type, char **entity_name);
void sm_zk_encode_config_change(sm_wbuf_t *w, const char *entity_type, const char *entity_name);

/* A partition named in an admin / notification znode; replicas only for
 * reassignments (NULL / 0 otherwise). */
typedef struct {
    char *topic;
    int32_t partition;
    int32_t nreplicas;
    int32_t *replicas;
} sm_zk_tp_t;

/* {"version":1,"partitions":[{"topic":"t","partition":0[,"replicas":[1,2]
 * [,"log_dirs":[...]]]},...]}: /admin/reassign_partitions (with_replicas=1:
 * replicas required, log_dirs ignored), /admin/preferred_replica_election
 * and /isr_change_notification/isr_change_N (with_replicas=0). A missing
 * "version" is accepted (the tools' input files may omit it). Duplicate
 * partitions are an error, as in Kafka. 0, or -1 on anything malformed;
 * the caller frees *out with sm_zk_tp_list_free even on error (n set). */
int  sm_zk_decode_tp_list(const char *json, size_t len, int with_replicas, sm_zk_tp_t **out, int *n);
/* Encode the same shape; replicas written when with_replicas. */
void sm_zk_encode_tp_list(sm_wbuf_t *w, const sm_zk_tp_t *v, int n, int with_replicas);
void sm_zk_tp_list_free(sm_zk_tp_t *v, int n);

#endif

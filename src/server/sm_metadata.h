/*
 * sm_metadata.h - the broker's metadata cache: live brokers, topics and
 * partition leadership, as the controller last told this broker through
 * UpdateMetadata. Client Metadata requests are answered from here only.
 * Readers take a shared lock; updates an exclusive one. Thread-safe.
 */
#ifndef SM_METADATA_H
#define SM_METADATA_H

#include <pthread.h>
#include <stdint.h>

typedef struct {
    int32_t id;
    char *host;
    int32_t port;
    char *rack;
} sm_md_broker_t;

typedef struct {
    int32_t leader;                  /* -1 = offline */
    int32_t leader_epoch;
    int32_t nreplicas, *replicas;
    int32_t nisr, *isr;
    int present;                     /* 0 = hole (not yet known) */
} sm_md_partition_t;

typedef struct sm_md_topic_s {
    char *name;
    int internal;
    int32_t npartitions;             /* highest partition id + 1 */
    sm_md_partition_t *partitions;
    struct sm_md_topic_s *next;      /* hash chain */
} sm_md_topic_t;

typedef struct sm_metadata_s {
    pthread_rwlock_t lock;
    char *cluster_id;
    int32_t controller_id;
    int nbrokers;
    sm_md_broker_t *brokers;
    sm_md_topic_t *buckets[1024];
    int ntopics;
} sm_metadata_t;

sm_metadata_t *sm_metadata_new(void);
void sm_metadata_free(sm_metadata_t *md);

/* Writers (controller channel thread). */
void sm_metadata_set_cluster_id(sm_metadata_t *md, const char *id);
void sm_metadata_set_brokers(sm_metadata_t *md, int32_t controller_id, const sm_md_broker_t *b, int n);
/* leader == -2: the topic is being deleted; drop the partition (and the
 * topic when it has none left). */
void sm_metadata_update_partition(sm_metadata_t *md, const char *topic, int32_t partition, int32_t leader,
                                  int32_t leader_epoch, const int32_t *replicas, int32_t nreplicas,
                                  const int32_t *isr, int32_t nisr);

/* Readers: call with md->lock held for reading (sm_metadata_rdlock). */
static inline void sm_metadata_rdlock(sm_metadata_t *md) { pthread_rwlock_rdlock(&md->lock); }
static inline void sm_metadata_unlock(sm_metadata_t *md) { pthread_rwlock_unlock(&md->lock); }
sm_md_topic_t *sm_metadata_topic(sm_metadata_t *md, const char *name, size_t len);
const sm_md_broker_t *sm_metadata_broker(sm_metadata_t *md, int32_t id);
/* Iterate topics: pass NULL to start; returns NULL at the end. */
sm_md_topic_t *sm_metadata_next_topic(sm_metadata_t *md, sm_md_topic_t *prev);

#endif

/*
 * sm_metadata.c - metadata cache (see sm_metadata.h).
 */
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "server/sm_metadata.h"

#define NB 1024

static uint32_t
hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) { h ^= (uint8_t)s[i]; h *= 16777619u; }
    return h % NB;
}

sm_metadata_t *
sm_metadata_new(void)
{
    sm_metadata_t *md = sm_calloc(1, sizeof(*md));
    pthread_rwlock_init(&md->lock, NULL);
    md->controller_id = -1;
    return md;
}

static void
free_brokers(sm_md_broker_t *b, int n)
{
    for (int i = 0; i < n; i++) { free(b[i].host); free(b[i].rack); }
    free(b);
}

static void
free_topic(sm_md_topic_t *t)
{
    for (int32_t i = 0; i < t->npartitions; i++) { free(t->partitions[i].replicas); free(t->partitions[i].isr); }
    free(t->partitions);
    free(t->name);
    free(t);
}

void
sm_metadata_free(sm_metadata_t *md)
{
    if (!md) return;
    for (int b = 0; b < NB; b++) {
        sm_md_topic_t *t = md->buckets[b];
        while (t) { sm_md_topic_t *n = t->next; free_topic(t); t = n; }
    }
    free_brokers(md->brokers, md->nbrokers);
    free(md->cluster_id);
    pthread_rwlock_destroy(&md->lock);
    free(md);
}

void
sm_metadata_set_cluster_id(sm_metadata_t *md, const char *id)
{
    pthread_rwlock_wrlock(&md->lock);
    free(md->cluster_id);
    md->cluster_id = id ? sm_strdup(id) : NULL;
    pthread_rwlock_unlock(&md->lock);
}

void
sm_metadata_set_brokers(sm_metadata_t *md, int32_t controller_id, const sm_md_broker_t *b, int n)
{
    sm_md_broker_t *copy = sm_calloc((size_t)(n ? n : 1), sizeof(*copy));
    for (int i = 0; i < n; i++) {
        copy[i].id = b[i].id;
        copy[i].host = sm_strdup(b[i].host ? b[i].host : "");
        copy[i].port = b[i].port;
        copy[i].rack = b[i].rack ? sm_strdup(b[i].rack) : NULL;
    }
    pthread_rwlock_wrlock(&md->lock);
    free_brokers(md->brokers, md->nbrokers);
    md->brokers = copy;
    md->nbrokers = n;
    md->controller_id = controller_id;
    pthread_rwlock_unlock(&md->lock);
}

sm_md_topic_t *
sm_metadata_topic(sm_metadata_t *md, const char *name, size_t len)
{
    for (sm_md_topic_t *t = md->buckets[hash_name(name, len)]; t; t = t->next)
        if (strlen(t->name) == len && !memcmp(t->name, name, len)) return t;
    return NULL;
}

const sm_md_broker_t *
sm_metadata_broker(sm_metadata_t *md, int32_t id)
{
    for (int i = 0; i < md->nbrokers; i++)
        if (md->brokers[i].id == id) return &md->brokers[i];
    return NULL;
}

sm_md_topic_t *
sm_metadata_next_topic(sm_metadata_t *md, sm_md_topic_t *prev)
{
    int b = 0;
    if (prev) {
        if (prev->next) return prev->next;
        b = (int)hash_name(prev->name, strlen(prev->name)) + 1;
    }
    for (; b < NB; b++)
        if (md->buckets[b]) return md->buckets[b];
    return NULL;
}

static int32_t *
dup_ids(const int32_t *src, int32_t n)
{
    int32_t *d = sm_malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (n) memcpy(d, src, sizeof(int32_t) * (size_t)n);
    return d;
}

void
sm_metadata_update_partition(sm_metadata_t *md, const char *topic, int32_t partition, int32_t leader,
                             int32_t leader_epoch, const int32_t *replicas, int32_t nreplicas, const int32_t *isr,
                             int32_t nisr)
{
    size_t len = strlen(topic);
    uint32_t b = hash_name(topic, len);
    pthread_rwlock_wrlock(&md->lock);
    sm_md_topic_t *t = sm_metadata_topic(md, topic, len);
    if (leader == -2) {
        if (t && partition < t->npartitions) t->partitions[partition].present = 0;
        int any = 0;
        for (int32_t i = 0; t && i < t->npartitions; i++) any |= t->partitions[i].present;
        if (t && !any) {
            sm_md_topic_t **pp = &md->buckets[b];
            while (*pp != t) pp = &(*pp)->next;
            *pp = t->next;
            free_topic(t);
            md->ntopics--;
        }
        pthread_rwlock_unlock(&md->lock);
        return;
    }
    if (!t) {
        t = sm_calloc(1, sizeof(*t));
        t->name = sm_strdup(topic);
        t->internal = !strcmp(topic, "__consumer_offsets") || !strcmp(topic, "__transaction_state");
        t->next = md->buckets[b];
        md->buckets[b] = t;
        md->ntopics++;
    }
    if (partition >= t->npartitions) {
        t->partitions = sm_realloc(t->partitions, sizeof(*t->partitions) * (size_t)(partition + 1));
        memset(t->partitions + t->npartitions, 0, sizeof(*t->partitions) * (size_t)(partition + 1 - t->npartitions));
        t->npartitions = partition + 1;
    }
    sm_md_partition_t *p = &t->partitions[partition];
    free(p->replicas);
    free(p->isr);
    p->leader = leader;
    p->leader_epoch = leader_epoch;
    p->replicas = dup_ids(replicas, nreplicas);
    p->nreplicas = nreplicas;
    p->isr = dup_ids(isr, nisr);
    p->nisr = nisr;
    p->present = 1;
    pthread_rwlock_unlock(&md->lock);
}

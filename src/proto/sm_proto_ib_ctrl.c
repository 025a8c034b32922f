/*
 * sm_proto_ib_ctrl.c - codecs of the controller-to-broker requests and the
 * broker-to-controller ControlledShutdown: LeaderAndIsr (4) v0-4,
 * StopReplica (5) v0-3, UpdateMetadata (6) v0-6, ControlledShutdown (7)
 * v0-3. See sm_proto_interbroker.h for the grouped-by-topic presentation of
 * the old "ungrouped" layouts.
 */
#include "proto/sm_proto_interbroker.h"

#include <stdint.h>

/* ---- shared ---- */

/* LeaderAndIsr and StopReplica responses share one layout: a top-level
 * error code, then one (topic, partition, error) entry per partition. */
static void
write_errors_response(sm_wbuf_t *w, int16_t api_key, int16_t ver, int16_t error_code, int32_t n,
                      const sm_ib_part_error_t *v)
{
    int flex = sm_api_is_flexible(api_key, ver);
    sm_write_i16(w, error_code);
    sm_proto_write_array_len(w, flex, 0, n);
    for (int32_t i = 0; i < n; i++) {
        sm_write_string(w, v[i].topic, flex);
        sm_write_i32(w, v[i].partition);
        sm_write_i16(w, v[i].error_code);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

/* Decoder of that layout into fields the caller has zeroed; returns as
 * sm_proto_check. */
static int
read_errors_response(sm_reader_t *r, int16_t api_key, int16_t ver, sm_arena_t *a, int16_t *error_code, int32_t *n,
                     sm_ib_part_error_t **errors)
{
    if (!sm_proto_codec_supports(api_key, ver)) return -1;
    int flex = sm_api_is_flexible(api_key, ver);
    *error_code = sm_read_i16(r);
    sm_ib_part_error_t *v = sm_proto_read_array(r, a, flex, 0, 8, sizeof(*v), n);
    for (int32_t i = 0; i < *n && !r->err; i++) {
        v[i].topic = sm_read_string(r, flex);
        v[i].partition = sm_read_i32(r);
        v[i].error_code = sm_read_i16(r);
        sm_proto_read_tags(r, flex);
    }
    *errors = v;
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, api_key, ver);
}

/* ---- topic lists ----
 *
 * The three controller requests carry their partition states as a list of
 * topics, each a name, an array of partitions and (if flexible) tags. The
 * old "ungrouped" layouts (LeaderAndIsr v0-1, UpdateMetadata v0-4,
 * StopReplica v0) carry one flat array instead, each partition preceded by
 * its topic name; they are presented as one topic per wire partition (see
 * sm_proto_interbroker.h). The topic structs of the three APIs differ only
 * in their partition type, so one reader and one writer serve all three
 * through a table of the partition codec and typed topic accessors. */
typedef struct {
    size_t topic_size;
    size_t part_size;
    /* One partition state, after the topic name in the ungrouped layout. */
    void (*read_part)(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, void *part);
    void (*write_part)(sm_wbuf_t *w, int16_t ver, int flex, const void *part);
    /* Entry i of a topic array: fill it in / look at it. */
    void (*set_topic)(void *topics, int32_t i, sm_bytes_t name, int32_t n_parts, void *parts);
    sm_bytes_t (*get_topic)(const void *topics, int32_t i, int32_t *n_parts, const void **parts);
} topic_list_t;

/* Defines PFX_topics, the topic_list_t of TOPIC_T whose partitions are
 * PART_T, from PFX_read_part and PFX_write_part. */
#define TOPIC_LIST(PFX, TOPIC_T, PART_T)                                                       \
    static void PFX##_set_topic(void *topics, int32_t i, sm_bytes_t name, int32_t n_parts,    \
                                void *parts)                                                  \
    {                                                                                         \
        TOPIC_T *t = (TOPIC_T *)topics + i;                                                   \
        t->topic = name;                                                                      \
        t->n_partitions = n_parts;                                                            \
        t->partitions = parts;                                                                \
    }                                                                                         \
    static sm_bytes_t PFX##_get_topic(const void *topics, int32_t i, int32_t *n_parts,        \
                                      const void **parts)                                     \
    {                                                                                         \
        const TOPIC_T *t = (const TOPIC_T *)topics + i;                                       \
        *n_parts = t->n_partitions;                                                           \
        *parts = t->partitions;                                                               \
        return t->topic;                                                                      \
    }                                                                                         \
    static const topic_list_t PFX##_topics = { sizeof(TOPIC_T), sizeof(PART_T), PFX##_read_part, \
                                               PFX##_write_part, PFX##_set_topic, PFX##_get_topic }

/* Read a topic list into an arena array of tl's topic type and set
 * *n_topics. part_min is the smallest wire partition (topic name included
 * when ungrouped), checked against the remaining bytes before allocating.
 * Stops at the reader's first error; the caller's sm_proto_check reports it. */
static void *
read_topics(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, const topic_list_t *tl, int ungrouped,
            size_t part_min, int32_t *n_topics)
{
    int32_t n;
    if (ungrouped) {
        char *parts = sm_proto_read_array(r, a, flex, 0, part_min, tl->part_size, &n);
        void *topics = n > 0 ? sm_arena_calloc(a, (size_t)n, tl->topic_size) : NULL;
        *n_topics = n;
        for (int32_t i = 0; i < n && !r->err; i++) {
            char *p = parts + (size_t)i * tl->part_size;
            tl->set_topic(topics, i, sm_read_string(r, flex), 1, p);
            tl->read_part(r, a, ver, flex, p);
        }
        return topics;
    }
    void *topics = sm_proto_read_array(r, a, flex, 0, flex ? 2 : 6, tl->topic_size, n_topics);
    for (int32_t i = 0; i < *n_topics && !r->err; i++) {
        sm_bytes_t name = sm_read_string(r, flex);
        char *parts = sm_proto_read_array(r, a, flex, 0, part_min, tl->part_size, &n);
        tl->set_topic(topics, i, name, n, parts);
        for (int32_t j = 0; j < n && !r->err; j++) tl->read_part(r, a, ver, flex, parts + (size_t)j * tl->part_size);
        sm_proto_read_tags(r, flex);
    }
    return topics;
}

/* Write a topic list; the ungrouped layout repeats each topic's name before
 * every one of its partitions. */
static void
write_topics(sm_wbuf_t *w, int16_t ver, int flex, const topic_list_t *tl, int ungrouped, const void *topics,
             int32_t n_topics)
{
    int32_t n;
    const void *parts;
    if (ungrouped) {
        int32_t total = 0;
        for (int32_t i = 0; i < n_topics; i++) {
            tl->get_topic(topics, i, &n, &parts);
            if (n > 0) total += n;
        }
        sm_proto_write_array_len(w, flex, 0, total);
        for (int32_t i = 0; i < n_topics; i++) {
            sm_bytes_t name = tl->get_topic(topics, i, &n, &parts);
            for (int32_t j = 0; j < n; j++) {
                sm_write_string(w, name, flex);
                tl->write_part(w, ver, flex, (const char *)parts + (size_t)j * tl->part_size);
            }
        }
        return;
    }
    sm_proto_write_array_len(w, flex, 0, n_topics);
    for (int32_t i = 0; i < n_topics; i++) {
        sm_write_string(w, tl->get_topic(topics, i, &n, &parts), flex);
        sm_proto_write_array_len(w, flex, 0, n);
        for (int32_t j = 0; j < n; j++) tl->write_part(w, ver, flex, (const char *)parts + (size_t)j * tl->part_size);
        sm_proto_write_tags(w, flex);
    }
}

/* ---- request fields ---- */

/* Decoder prologue of the controller requests: the fields they all start
 * with, the broker epoch only from version epoch_since on (else -1).
 * Returns the version's flexibility, or -1 if the codec lacks ver. */
static int
read_ctrl_fields(sm_reader_t *r, int16_t api_key, int16_t ver, int16_t epoch_since, int32_t *controller_id,
                 int32_t *controller_epoch, int64_t *broker_epoch)
{
    *broker_epoch = -1;
    if (!sm_proto_codec_supports(api_key, ver)) return -1;
    *controller_id = sm_read_i32(r);
    *controller_epoch = sm_read_i32(r);
    if (ver >= epoch_since) *broker_epoch = sm_read_i64(r);
    return sm_api_is_flexible(api_key, ver);
}

static void
write_ctrl_fields(sm_wbuf_t *w, int has_broker_epoch, int32_t controller_id, int32_t controller_epoch,
                  int64_t broker_epoch)
{
    sm_write_i32(w, controller_id);
    sm_write_i32(w, controller_epoch);
    if (has_broker_epoch) sm_write_i64(w, broker_epoch);
}

/* LeaderAndIsr and UpdateMetadata partition states start with the same
 * fields under the same names in the same wire order; these expand for a
 * pointer p to either struct. */
#define READ_STATE_HEAD(r, a, flex, p)                                        \
    do {                                                                      \
        (p)->partition_index = sm_read_i32(r);                                \
        (p)->controller_epoch = sm_read_i32(r);                               \
        (p)->leader = sm_read_i32(r);                                         \
        (p)->leader_epoch = sm_read_i32(r);                                   \
        (p)->isr = sm_proto_read_i32_array(r, a, flex, 0, &(p)->n_isr);       \
        (p)->zk_version = sm_read_i32(r);                                     \
        (p)->replicas = sm_proto_read_i32_array(r, a, flex, 0, &(p)->n_replicas); \
    } while (0)

#define WRITE_STATE_HEAD(w, flex, p)                                          \
    do {                                                                      \
        sm_write_i32(w, (p)->partition_index);                                \
        sm_write_i32(w, (p)->controller_epoch);                               \
        sm_write_i32(w, (p)->leader);                                         \
        sm_write_i32(w, (p)->leader_epoch);                                   \
        sm_proto_write_i32_array(w, flex, 0, (p)->n_isr, (p)->isr);           \
        sm_write_i32(w, (p)->zk_version);                                     \
        sm_proto_write_i32_array(w, flex, 0, (p)->n_replicas, (p)->replicas); \
    } while (0)

/* ---------------------------------------------------------------------- */
/* LeaderAndIsr                                                           */

static void
lai_read_part(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, void *part)
{
    sm_lai_part_t *p = part;
    READ_STATE_HEAD(r, a, flex, p);
    if (ver >= 3) {
        p->adding_replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_adding_replicas);
        p->removing_replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_removing_replicas);
    }
    if (ver >= 1) p->is_new = sm_proto_read_bool(r);
    sm_proto_read_tags(r, flex);
}

static void
lai_write_part(sm_wbuf_t *w, int16_t ver, int flex, const void *part)
{
    const sm_lai_part_t *p = part;
    WRITE_STATE_HEAD(w, flex, p);
    if (ver >= 3) {
        sm_proto_write_i32_array(w, flex, 0, p->n_adding_replicas, p->adding_replicas);
        sm_proto_write_i32_array(w, flex, 0, p->n_removing_replicas, p->removing_replicas);
    }
    if (ver >= 1) sm_write_i8(w, p->is_new ? 1 : 0);
    sm_proto_write_tags(w, flex);
}

TOPIC_LIST(lai, sm_lai_topic_t, sm_lai_part_t);

int
sm_proto_decode_LeaderAndIsrRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leaderandisr_req_t *out)
{
    *out = (sm_leaderandisr_req_t){ 0 };
    int flex = read_ctrl_fields(r, SM_API_LEADERANDISR, ver, 2, &out->controller_id, &out->controller_epoch, &out->broker_epoch);
    if (flex < 0) return -1;
    /* Ungrouped: name(2) + 4 int32 + isr(4) + zk(4) + replicas(4). */
    out->topics = read_topics(r, a, ver, flex, &lai_topics, ver <= 1, ver <= 1 ? 30 : flex ? 20 : 28, &out->n_topics);
    out->live_leaders = sm_proto_read_array(r, a, flex, 0, flex ? 9 : 10, sizeof(*out->live_leaders),
                                            &out->n_live_leaders);
    for (int32_t i = 0; i < out->n_live_leaders && !r->err; i++) {
        out->live_leaders[i].broker_id = sm_read_i32(r);
        out->live_leaders[i].host = sm_read_string(r, flex);
        out->live_leaders[i].port = sm_read_i32(r);
        sm_proto_read_tags(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_LEADERANDISR, ver);
}

void
sm_proto_encode_LeaderAndIsrRequest(sm_wbuf_t *w, int16_t ver, const sm_leaderandisr_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_LEADERANDISR, ver);
    write_ctrl_fields(w, ver >= 2, in->controller_id, in->controller_epoch, in->broker_epoch);
    write_topics(w, ver, flex, &lai_topics, ver <= 1, in->topics, in->n_topics);
    sm_proto_write_array_len(w, flex, 0, in->n_live_leaders);
    for (int32_t i = 0; i < in->n_live_leaders; i++) {
        sm_write_i32(w, in->live_leaders[i].broker_id);
        sm_write_string(w, in->live_leaders[i].host, flex);
        sm_write_i32(w, in->live_leaders[i].port);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_LeaderAndIsrResponse(sm_wbuf_t *w, int16_t ver, const sm_leaderandisr_resp_t *in)
{
    write_errors_response(w, SM_API_LEADERANDISR, ver, in->error_code, in->n_partition_errors, in->partition_errors);
}

int
sm_proto_decode_LeaderAndIsrResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_leaderandisr_resp_t *out)
{
    *out = (sm_leaderandisr_resp_t){ 0 };
    return read_errors_response(r, SM_API_LEADERANDISR, ver, a, &out->error_code, &out->n_partition_errors, &out->partition_errors);
}

/* ---------------------------------------------------------------------- */
/* UpdateMetadata                                                         */

static void
um_read_part(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, void *part)
{
    sm_um_part_t *p = part;
    READ_STATE_HEAD(r, a, flex, p);
    if (ver >= 4) p->offline_replicas = sm_proto_read_i32_array(r, a, flex, 0, &p->n_offline_replicas);
    sm_proto_read_tags(r, flex);
}

static void
um_write_part(sm_wbuf_t *w, int16_t ver, int flex, const void *part)
{
    const sm_um_part_t *p = part;
    WRITE_STATE_HEAD(w, flex, p);
    if (ver >= 4) sm_proto_write_i32_array(w, flex, 0, p->n_offline_replicas, p->offline_replicas);
    sm_proto_write_tags(w, flex);
}

TOPIC_LIST(um, sm_um_topic_t, sm_um_part_t);

int
sm_proto_decode_UpdateMetadataRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_updatemetadata_req_t *out)
{
    *out = (sm_updatemetadata_req_t){ 0 };
    int flex = read_ctrl_fields(r, SM_API_UPDATEMETADATA, ver, 5, &out->controller_id, &out->controller_epoch, &out->broker_epoch);
    if (flex < 0) return -1;
    out->topics = read_topics(r, a, ver, flex, &um_topics, ver <= 4, ver <= 4 ? 30 : flex ? 20 : 28, &out->n_topics);
    out->live_brokers = sm_proto_read_array(r, a, flex, 0, flex ? 6 : 8, sizeof(*out->live_brokers),
                                            &out->n_live_brokers);
    for (int32_t i = 0; i < out->n_live_brokers && !r->err; i++) {
        sm_um_broker_t *b = &out->live_brokers[i];
        b->id = sm_read_i32(r);
        b->rack = SM_BYTES_NULL;
        if (ver == 0) {
            b->n_endpoints = 1;
            b->endpoints = sm_arena_calloc(a, 1, sizeof(*b->endpoints));
            b->endpoints[0].host = sm_read_string(r, flex);
            b->endpoints[0].port = sm_read_i32(r);
            b->endpoints[0].listener = (sm_bytes_t){ 0, (const uint8_t *)"" };
        } else {
            b->endpoints = sm_proto_read_array(r, a, flex, 0, flex ? 8 : 8, sizeof(*b->endpoints), &b->n_endpoints);
            for (int32_t j = 0; j < b->n_endpoints && !r->err; j++) {
                sm_um_endpoint_t *e = &b->endpoints[j];
                e->port = sm_read_i32(r);
                e->host = sm_read_string(r, flex);
                e->listener = ver >= 3 ? sm_read_string(r, flex) : (sm_bytes_t){ 0, (const uint8_t *)"" };
                e->security_protocol = sm_read_i16(r);
                sm_proto_read_tags(r, flex);
            }
        }
        if (ver >= 2) b->rack = sm_read_nullable_string(r, flex);
        sm_proto_read_tags(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_UPDATEMETADATA, ver);
}

void
sm_proto_encode_UpdateMetadataRequest(sm_wbuf_t *w, int16_t ver, const sm_updatemetadata_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    write_ctrl_fields(w, ver >= 5, in->controller_id, in->controller_epoch, in->broker_epoch);
    write_topics(w, ver, flex, &um_topics, ver <= 4, in->topics, in->n_topics);
    sm_proto_write_array_len(w, flex, 0, in->n_live_brokers);
    for (int32_t i = 0; i < in->n_live_brokers; i++) {
        const sm_um_broker_t *b = &in->live_brokers[i];
        sm_write_i32(w, b->id);
        if (ver == 0) {
            if (b->n_endpoints > 0) {
                sm_write_string(w, b->endpoints[0].host, flex);
                sm_write_i32(w, b->endpoints[0].port);
            } else {
                sm_write_string(w, (sm_bytes_t){ 0, (const uint8_t *)"" }, flex);
                sm_write_i32(w, -1);
            }
        } else {
            sm_proto_write_array_len(w, flex, 0, b->n_endpoints);
            for (int32_t j = 0; j < b->n_endpoints; j++) {
                const sm_um_endpoint_t *e = &b->endpoints[j];
                sm_write_i32(w, e->port);
                sm_write_string(w, e->host, flex);
                if (ver >= 3) sm_write_string(w, e->listener.len < 0 ? (sm_bytes_t){ 0, (const uint8_t *)"" } : e->listener, flex);
                sm_write_i16(w, e->security_protocol);
                sm_proto_write_tags(w, flex);
            }
        }
        if (ver >= 2) sm_write_string(w, b->rack, flex);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_UpdateMetadataResponse(sm_wbuf_t *w, int16_t ver, const sm_updatemetadata_resp_t *in)
{
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    sm_write_i16(w, in->error_code);
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_UpdateMetadataResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_updatemetadata_resp_t *out)
{
    (void)a;
    out->error_code = 0;
    if (!sm_proto_codec_supports(SM_API_UPDATEMETADATA, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_UPDATEMETADATA, ver);
    out->error_code = sm_read_i16(r);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_UPDATEMETADATA, ver);
}

/* ---------------------------------------------------------------------- */
/* StopReplica                                                            */

/* v0: just the index after the name; v1-2: an element of a plain index
 * array (no tags); v3: index, epoch, delete flag, tags. */
static void
sr_read_part(sm_reader_t *r, sm_arena_t *a, int16_t ver, int flex, void *part)
{
    sm_sr_part_t *p = part;
    (void)a;
    p->partition_index = sm_read_i32(r);
    p->leader_epoch = -1;
    if (ver >= 3) {
        p->leader_epoch = sm_read_i32(r);
        p->delete_partition = sm_proto_read_bool(r);
        sm_proto_read_tags(r, flex);
    }
}

static void
sr_write_part(sm_wbuf_t *w, int16_t ver, int flex, const void *part)
{
    const sm_sr_part_t *p = part;
    sm_write_i32(w, p->partition_index);
    if (ver >= 3) {
        sm_write_i32(w, p->leader_epoch);
        sm_write_i8(w, p->delete_partition ? 1 : 0);
        sm_proto_write_tags(w, flex);
    }
}

TOPIC_LIST(sr, sm_sr_topic_t, sm_sr_part_t);

int
sm_proto_decode_StopReplicaRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_stopreplica_req_t *out)
{
    *out = (sm_stopreplica_req_t){ 0 };
    int flex = read_ctrl_fields(r, SM_API_STOPREPLICA, ver, 1, &out->controller_id, &out->controller_epoch, &out->broker_epoch);
    if (flex < 0) return -1;
    if (ver <= 2) out->delete_partitions = sm_proto_read_bool(r);
    /* Smallest partition: v0 name(2) + index(4), v1-2 index(4), v3 10. */
    out->topics = read_topics(r, a, ver, flex, &sr_topics, ver == 0, ver == 0 ? 6 : ver <= 2 ? 4 : 10, &out->n_topics);
    if (ver <= 2)
        for (int32_t i = 0; i < out->n_topics; i++)
            for (int32_t j = 0; j < out->topics[i].n_partitions; j++)
                out->topics[i].partitions[j].delete_partition = out->delete_partitions;
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_STOPREPLICA, ver);
}

void
sm_proto_encode_StopReplicaRequest(sm_wbuf_t *w, int16_t ver, const sm_stopreplica_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_STOPREPLICA, ver);
    write_ctrl_fields(w, ver >= 1, in->controller_id, in->controller_epoch, in->broker_epoch);
    if (ver <= 2) sm_write_i8(w, in->delete_partitions ? 1 : 0);
    write_topics(w, ver, flex, &sr_topics, ver == 0, in->topics, in->n_topics);
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_StopReplicaResponse(sm_wbuf_t *w, int16_t ver, const sm_stopreplica_resp_t *in)
{
    write_errors_response(w, SM_API_STOPREPLICA, ver, in->error_code, in->n_partition_errors, in->partition_errors);
}

int
sm_proto_decode_StopReplicaResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a, sm_stopreplica_resp_t *out)
{
    *out = (sm_stopreplica_resp_t){ 0 };
    return read_errors_response(r, SM_API_STOPREPLICA, ver, a, &out->error_code, &out->n_partition_errors, &out->partition_errors);
}

/* ---------------------------------------------------------------------- */
/* ControlledShutdown                                                     */

int
sm_proto_decode_ControlledShutdownRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                          sm_controlledshutdown_req_t *out)
{
    (void)a;
    out->broker_id = -1;
    out->broker_epoch = -1;
    if (!sm_proto_codec_supports(SM_API_CONTROLLEDSHUTDOWN, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    out->broker_id = sm_read_i32(r);
    if (ver >= 2) out->broker_epoch = sm_read_i64(r);
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_CONTROLLEDSHUTDOWN, ver);
}

void
sm_proto_encode_ControlledShutdownRequest(sm_wbuf_t *w, int16_t ver, const sm_controlledshutdown_req_t *in)
{
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    sm_write_i32(w, in->broker_id);
    if (ver >= 2) sm_write_i64(w, in->broker_epoch);
    sm_proto_write_tags(w, flex);
}

void
sm_proto_encode_ControlledShutdownResponse(sm_wbuf_t *w, int16_t ver, const sm_controlledshutdown_resp_t *in)
{
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    sm_write_i16(w, in->error_code);
    sm_proto_write_array_len(w, flex, 0, in->n_remaining);
    for (int32_t i = 0; i < in->n_remaining; i++) {
        sm_write_string(w, in->remaining[i].topic, flex);
        sm_write_i32(w, in->remaining[i].partition);
        sm_proto_write_tags(w, flex);
    }
    sm_proto_write_tags(w, flex);
}

int
sm_proto_decode_ControlledShutdownResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                           sm_controlledshutdown_resp_t *out)
{
    *out = (sm_controlledshutdown_resp_t){ 0 };
    if (!sm_proto_codec_supports(SM_API_CONTROLLEDSHUTDOWN, ver)) return -1;
    int flex = sm_api_is_flexible(SM_API_CONTROLLEDSHUTDOWN, ver);
    out->error_code = sm_read_i16(r);
    out->remaining = sm_proto_read_array(r, a, flex, 0, flex ? 6 : 6, sizeof(*out->remaining), &out->n_remaining);
    for (int32_t i = 0; i < out->n_remaining && !r->err; i++) {
        out->remaining[i].topic = sm_read_string(r, flex);
        out->remaining[i].partition = sm_read_i32(r);
        sm_proto_read_tags(r, flex);
    }
    sm_proto_read_tags(r, flex);
    return sm_proto_check(r, SM_API_CONTROLLEDSHUTDOWN, ver);
}

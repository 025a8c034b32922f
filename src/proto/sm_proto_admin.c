/*
 * sm_proto_admin.c - topic administration and configs: CreateTopics (19)
 * v0-4, DeleteTopics (20) v0-3, CreatePartitions (37) v0-1 and
 * DescribeConfigs (32) v0-2. None of these versions is flexible.
 */
#include "proto/sm_proto.h"

#include <stdint.h>

/* ---- shared: per-topic {name, error_code[, error_message]} results ---- */

static void
write_results(sm_wbuf_t *w, int32_t n, const sm_topic_result_t *v, int with_msg)
{
    sm_proto_write_array_len(w, 0, 0, n);
    for (int32_t i = 0; i < n; i++) {
        sm_write_string(w, v[i].name, 0);
        sm_write_i16(w, v[i].error_code);
        if (with_msg) sm_write_string(w, v[i].error_message, 0);
    }
}

static sm_topic_result_t *
read_results(sm_reader_t *r, sm_arena_t *a, int with_msg, int32_t *n)
{
    sm_topic_result_t *v = sm_proto_read_array(r, a, 0, 0, with_msg ? 6 : 4, sizeof(*v), n);
    for (int32_t i = 0; i < *n && !r->err; i++) {
        v[i].name = sm_read_string(r, 0);
        v[i].error_code = sm_read_i16(r);
        v[i].error_message = with_msg ? sm_read_nullable_string(r, 0) : SM_BYTES_NULL;
    }
    return v;
}

/* ---- CreateTopics ---- */

int
sm_proto_decode_CreateTopicsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_createtopics_req_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    out->validate_only = 0;
    if (!sm_proto_codec_supports(SM_API_CREATETOPICS, ver)) return -1;
    /* name + partitions + rf + assignments + configs */
    out->topics = sm_proto_read_array(r, a, 0, 0, 16, sizeof(sm_createtopics_topic_t), &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_createtopics_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->num_partitions = sm_read_i32(r);
        t->replication_factor = sm_read_i16(r);
        t->assignments = sm_proto_read_array(r, a, 0, 0, 8, sizeof(sm_createtopics_assignment_t),
                                             &t->n_assignments);
        for (int32_t j = 0; j < t->n_assignments && !r->err; j++) {
            t->assignments[j].partition_index = sm_read_i32(r);
            t->assignments[j].broker_ids =
                sm_proto_read_i32_array(r, a, 0, 0, &t->assignments[j].n_broker_ids);
        }
        t->configs = sm_proto_read_array(r, a, 0, 0, 4, sizeof(sm_config_kv_t), &t->n_configs);
        for (int32_t j = 0; j < t->n_configs && !r->err; j++) {
            t->configs[j].name = sm_read_string(r, 0);
            t->configs[j].value = sm_read_nullable_string(r, 0);
        }
    }
    out->timeout_ms = sm_read_i32(r);
    if (ver >= 1) out->validate_only = sm_proto_read_bool(r);
    return sm_proto_check(r, SM_API_CREATETOPICS, ver);
}

void
sm_proto_encode_CreateTopicsRequest(sm_wbuf_t *w, int16_t ver, const sm_createtopics_req_t *in)
{
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_createtopics_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_write_i32(w, t->num_partitions);
        sm_write_i16(w, t->replication_factor);
        sm_proto_write_array_len(w, 0, 0, t->n_assignments);
        for (int32_t j = 0; j < t->n_assignments; j++) {
            sm_write_i32(w, t->assignments[j].partition_index);
            sm_proto_write_i32_array(w, 0, 0, t->assignments[j].n_broker_ids,
                                     t->assignments[j].broker_ids);
        }
        sm_proto_write_array_len(w, 0, 0, t->n_configs);
        for (int32_t j = 0; j < t->n_configs; j++) {
            sm_write_string(w, t->configs[j].name, 0);
            sm_write_string(w, t->configs[j].value, 0);
        }
    }
    sm_write_i32(w, in->timeout_ms);
    if (ver >= 1) sm_write_i8(w, in->validate_only);
}

void
sm_proto_encode_CreateTopicsResponse(sm_wbuf_t *w, int16_t ver, const sm_createtopics_resp_t *in)
{
    if (ver >= 2) sm_write_i32(w, in->throttle_time_ms);
    write_results(w, in->n_topics, in->topics, ver >= 1);
}

int
sm_proto_decode_CreateTopicsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                     sm_createtopics_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_CREATETOPICS, ver)) return -1;
    if (ver >= 2) out->throttle_time_ms = sm_read_i32(r);
    out->topics = read_results(r, a, ver >= 1, &out->n_topics);
    return sm_proto_check(r, SM_API_CREATETOPICS, ver);
}

/* ---- DeleteTopics ---- */

int
sm_proto_decode_DeleteTopicsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                    sm_deletetopics_req_t *out)
{
    out->n_topic_names = 0;
    out->topic_names = NULL;
    if (!sm_proto_codec_supports(SM_API_DELETETOPICS, ver)) return -1;
    out->topic_names = sm_proto_read_str_array(r, a, 0, 0, &out->n_topic_names);
    out->timeout_ms = sm_read_i32(r);
    return sm_proto_check(r, SM_API_DELETETOPICS, ver);
}

void
sm_proto_encode_DeleteTopicsRequest(sm_wbuf_t *w, int16_t ver, const sm_deletetopics_req_t *in)
{
    sm_proto_write_str_array(w, 0, 0, in->n_topic_names, in->topic_names);
    sm_write_i32(w, in->timeout_ms);
}

void
sm_proto_encode_DeleteTopicsResponse(sm_wbuf_t *w, int16_t ver, const sm_deletetopics_resp_t *in)
{
    if (ver >= 1) sm_write_i32(w, in->throttle_time_ms);
    write_results(w, in->n_responses, in->responses, 0);
}

int
sm_proto_decode_DeleteTopicsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                     sm_deletetopics_resp_t *out)
{
    out->throttle_time_ms = 0;
    out->n_responses = 0;
    out->responses = NULL;
    if (!sm_proto_codec_supports(SM_API_DELETETOPICS, ver)) return -1;
    if (ver >= 1) out->throttle_time_ms = sm_read_i32(r);
    out->responses = read_results(r, a, 0, &out->n_responses);
    return sm_proto_check(r, SM_API_DELETETOPICS, ver);
}

/* ---- CreatePartitions ---- */

int
sm_proto_decode_CreatePartitionsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                        sm_createpartitions_req_t *out)
{
    out->n_topics = 0;
    out->topics = NULL;
    if (!sm_proto_codec_supports(SM_API_CREATEPARTITIONS, ver)) return -1;
    /* name + count + assignments */
    out->topics = sm_proto_read_array(r, a, 0, 0, 10, sizeof(sm_createpartitions_topic_t),
                                      &out->n_topics);
    for (int32_t i = 0; i < out->n_topics && !r->err; i++) {
        sm_createpartitions_topic_t *t = &out->topics[i];
        t->name = sm_read_string(r, 0);
        t->count = sm_read_i32(r);
        t->assignments = sm_proto_read_array(r, a, 0, 1, 4, sizeof(sm_createpartitions_assignment_t),
                                             &t->n_assignments);
        for (int32_t j = 0; j < t->n_assignments && !r->err; j++)
            t->assignments[j].broker_ids =
                sm_proto_read_i32_array(r, a, 0, 0, &t->assignments[j].n_broker_ids);
    }
    out->timeout_ms = sm_read_i32(r);
    out->validate_only = sm_proto_read_bool(r);
    return sm_proto_check(r, SM_API_CREATEPARTITIONS, ver);
}

void
sm_proto_encode_CreatePartitionsRequest(sm_wbuf_t *w, int16_t ver,
                                        const sm_createpartitions_req_t *in)
{
    sm_proto_write_array_len(w, 0, 0, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const sm_createpartitions_topic_t *t = &in->topics[i];
        sm_write_string(w, t->name, 0);
        sm_write_i32(w, t->count);
        sm_proto_write_array_len(w, 0, 1, t->n_assignments);
        for (int32_t j = 0; j < t->n_assignments; j++)
            sm_proto_write_i32_array(w, 0, 0, t->assignments[j].n_broker_ids,
                                     t->assignments[j].broker_ids);
    }
    sm_write_i32(w, in->timeout_ms);
    sm_write_i8(w, in->validate_only);
}

void
sm_proto_encode_CreatePartitionsResponse(sm_wbuf_t *w, int16_t ver,
                                         const sm_createpartitions_resp_t *in)
{
    sm_write_i32(w, in->throttle_time_ms);
    write_results(w, in->n_results, in->results, 1);
}

int
sm_proto_decode_CreatePartitionsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                         sm_createpartitions_resp_t *out)
{
    out->n_results = 0;
    out->results = NULL;
    if (!sm_proto_codec_supports(SM_API_CREATEPARTITIONS, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    out->results = read_results(r, a, 1, &out->n_results);
    return sm_proto_check(r, SM_API_CREATEPARTITIONS, ver);
}

/* ---- DescribeConfigs ---- */

int
sm_proto_decode_DescribeConfigsRequest(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                       sm_describeconfigs_req_t *out)
{
    out->n_resources = 0;
    out->resources = NULL;
    out->include_synonyms = 0;
    if (!sm_proto_codec_supports(SM_API_DESCRIBECONFIGS, ver)) return -1;
    /* type + name + keys */
    out->resources = sm_proto_read_array(r, a, 0, 0, 7, sizeof(sm_describeconfigs_resource_t),
                                         &out->n_resources);
    for (int32_t i = 0; i < out->n_resources && !r->err; i++) {
        sm_describeconfigs_resource_t *res = &out->resources[i];
        res->resource_type = sm_read_i8(r);
        res->resource_name = sm_read_string(r, 0);
        res->configuration_keys = sm_proto_read_str_array(r, a, 0, 1, &res->n_configuration_keys);
    }
    if (ver >= 1) out->include_synonyms = sm_proto_read_bool(r);
    return sm_proto_check(r, SM_API_DESCRIBECONFIGS, ver);
}

void
sm_proto_encode_DescribeConfigsRequest(sm_wbuf_t *w, int16_t ver,
                                       const sm_describeconfigs_req_t *in)
{
    sm_proto_write_array_len(w, 0, 0, in->n_resources);
    for (int32_t i = 0; i < in->n_resources; i++) {
        const sm_describeconfigs_resource_t *res = &in->resources[i];
        sm_write_i8(w, res->resource_type);
        sm_write_string(w, res->resource_name, 0);
        sm_proto_write_str_array(w, 0, 1, res->n_configuration_keys, res->configuration_keys);
    }
    if (ver >= 1) sm_write_i8(w, in->include_synonyms);
}

void
sm_proto_encode_DescribeConfigsResponse(sm_wbuf_t *w, int16_t ver,
                                        const sm_describeconfigs_resp_t *in)
{
    sm_write_i32(w, in->throttle_time_ms);
    sm_proto_write_array_len(w, 0, 0, in->n_results);
    for (int32_t i = 0; i < in->n_results; i++) {
        const sm_describeconfigs_result_t *res = &in->results[i];
        sm_write_i16(w, res->error_code);
        sm_write_string(w, res->error_message, 0);
        sm_write_i8(w, res->resource_type);
        sm_write_string(w, res->resource_name, 0);
        sm_proto_write_array_len(w, 0, 0, res->n_configs);
        for (int32_t j = 0; j < res->n_configs; j++) {
            const sm_describeconfigs_config_t *c = &res->configs[j];
            sm_write_string(w, c->name, 0);
            sm_write_string(w, c->value, 0);
            sm_write_i8(w, c->read_only);
            if (ver == 0) sm_write_i8(w, c->is_default);
            else sm_write_i8(w, c->config_source);
            sm_write_i8(w, c->is_sensitive);
            if (ver >= 1) {
                sm_proto_write_array_len(w, 0, 0, c->n_synonyms);
                for (int32_t k = 0; k < c->n_synonyms; k++) {
                    sm_write_string(w, c->synonyms[k].name, 0);
                    sm_write_string(w, c->synonyms[k].value, 0);
                    sm_write_i8(w, c->synonyms[k].source);
                }
            }
        }
    }
}

int
sm_proto_decode_DescribeConfigsResponse(sm_reader_t *r, int16_t ver, sm_arena_t *a,
                                        sm_describeconfigs_resp_t *out)
{
    out->n_results = 0;
    out->results = NULL;
    if (!sm_proto_codec_supports(SM_API_DESCRIBECONFIGS, ver)) return -1;
    out->throttle_time_ms = sm_read_i32(r);
    /* error + message + type + name + configs */
    out->results = sm_proto_read_array(r, a, 0, 0, 11, sizeof(sm_describeconfigs_result_t),
                                       &out->n_results);
    for (int32_t i = 0; i < out->n_results && !r->err; i++) {
        sm_describeconfigs_result_t *res = &out->results[i];
        res->error_code = sm_read_i16(r);
        res->error_message = sm_read_nullable_string(r, 0);
        res->resource_type = sm_read_i8(r);
        res->resource_name = sm_read_string(r, 0);
        /* name + value + 3 flags */
        res->configs = sm_proto_read_array(r, a, 0, 0, ver >= 1 ? 11 : 7,
                                           sizeof(sm_describeconfigs_config_t), &res->n_configs);
        for (int32_t j = 0; j < res->n_configs && !r->err; j++) {
            sm_describeconfigs_config_t *c = &res->configs[j];
            c->name = sm_read_string(r, 0);
            c->value = sm_read_nullable_string(r, 0);
            c->read_only = sm_proto_read_bool(r);
            c->is_default = 0;
            c->config_source = -1;
            if (ver == 0) c->is_default = sm_proto_read_bool(r);
            else c->config_source = sm_read_i8(r);
            c->is_sensitive = sm_proto_read_bool(r);
            c->n_synonyms = 0;
            c->synonyms = NULL;
            if (ver >= 1) {
                c->synonyms = sm_proto_read_array(r, a, 0, 0, 5, sizeof(sm_describeconfigs_synonym_t),
                                                  &c->n_synonyms);
                for (int32_t k = 0; k < c->n_synonyms && !r->err; k++) {
                    c->synonyms[k].name = sm_read_string(r, 0);
                    c->synonyms[k].value = sm_read_nullable_string(r, 0);
                    c->synonyms[k].source = sm_read_i8(r);
                }
            }
        }
    }
    return sm_proto_check(r, SM_API_DESCRIBECONFIGS, ver);
}

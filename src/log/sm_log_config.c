/*
 * sm_log_config.c - per-log settings: Kafka's topic-level log configs
 * (LogConfig) with their defaults and validation bounds, including the
 * compaction keys read by the log cleaner (sm_cleaner.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sm_util.h"
#include "log/sm_plog.h"

void
sm_log_config_defaults(sm_log_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->segment_bytes = 1073741824;
    c->segment_ms = 7LL * 24 * 3600 * 1000;
    c->segment_jitter_ms = 0;
    c->retention_ms = 7LL * 24 * 3600 * 1000;
    c->retention_bytes = -1;
    c->index_interval_bytes = 4096;
    c->segment_index_bytes = 10 * 1024 * 1024;
    c->flush_messages = INT64_MAX;
    c->flush_ms = INT64_MAX;
    c->max_message_bytes = 1048588;
    c->message_timestamp_log_append = 0;
    c->cleanup_compact = 0;
    c->cleanup_delete = 1;
    c->file_delete_delay_ms = 60000;
    c->compression_type = -1;
    c->message_timestamp_difference_max_ms = INT64_MAX;
    c->delete_retention_ms = 86400000;
    c->min_cleanable_dirty_ratio = 0.5;
    c->min_compaction_lag_ms = 0;
    c->max_compaction_lag_ms = INT64_MAX;
}

/* Trimmed copy of value into buf (ConfigDef trims before parsing). */
static const char *
trim(const char *v, char *buf, size_t cap)
{
    while (*v && isspace((unsigned char)*v)) v++;
    size_t n = strlen(v);
    while (n > 0 && isspace((unsigned char)v[n - 1])) n--;
    if (n >= cap) n = cap - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static int
parse_num(const char *key, const char *value, int is_int, int64_t min, int64_t max, int64_t *out,
          char *errstr, size_t errlen)
{
    char buf[64];
    int64_t v;
    const char *t = trim(value, buf, sizeof(buf));
    if (sm_parse_i64(t, &v) < 0 || (is_int && (v < INT32_MIN || v > INT32_MAX))) {
        snprintf(errstr, errlen, "Invalid value %s for configuration %s: Not a number of type %s",
                 value, key, is_int ? "INT" : "LONG");
        return -1;
    }
    if (v < min) {
        snprintf(errstr, errlen, "Invalid value %s for configuration %s: Value must be at least %lld",
                 value, key, (long long)min);
        return -1;
    }
    if (v > max) {
        snprintf(errstr, errlen, "Invalid value %s for configuration %s: Value must be no more than %lld",
                 value, key, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int
check_bool(const char *key, const char *value, char *errstr, size_t errlen)
{
    char buf[16];
    const char *t = trim(value, buf, sizeof(buf));
    if (strcasecmp(t, "true") == 0 || strcasecmp(t, "false") == 0) return 1;
    snprintf(errstr, errlen, "Invalid value %s for configuration %s: Expected value to be either true or false",
             value, key);
    return -1;
}

static int
check_one_of(const char *key, const char *value, const char *const *opts, size_t n, const char *list,
             char *errstr, size_t errlen)
{
    char buf[64];
    const char *t = trim(value, buf, sizeof(buf));
    for (size_t i = 0; i < n; i++)
        if (strcmp(t, opts[i]) == 0) return (int)i;
    snprintf(errstr, errlen, "Invalid value %s for configuration %s: String must be one of: %s", value, key, list);
    return -1;
}

/* cleanup.policy: a comma-separated list of "delete" and "compact". */
static int
parse_policy(sm_log_config_t *c, const char *value, char *errstr, size_t errlen)
{
    int compact = 0, del = 0;
    char buf[128];
    const char *t = trim(value, buf, sizeof(buf));
    char *copy = sm_strdup(t), *save = NULL;
    int ok = 1, any = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char one[64];
        const char *w = trim(tok, one, sizeof(one));
        if (strcmp(w, "compact") == 0) compact = 1;
        else if (strcmp(w, "delete") == 0) del = 1;
        else { ok = 0; break; }
        any = 1;
    }
    free(copy);
    if (!ok || !any) {
        snprintf(errstr, errlen, "Invalid value %s for configuration cleanup.policy: String must be one of: compact, delete",
                 value);
        return -1;
    }
    c->cleanup_compact = compact;
    c->cleanup_delete = del;
    return 1;
}

int
sm_log_config_set(sm_log_config_t *c, const char *key, const char *value, char *errstr, size_t errlen)
{
    int64_t v;
#define NUM(name, is_int, min, max, field)                                                   \
    if (strcmp(key, name) == 0) {                                                            \
        if (parse_num(key, value, is_int, min, max, &v, errstr, errlen) < 0) return -1;      \
        c->field = v;                                                                        \
        return 1;                                                                            \
    }
    /* Bounds follow Kafka's LogConfig (segment.bytes >= the v0 record overhead). */
    NUM("segment.bytes", 1, 14, INT32_MAX, segment_bytes)
    NUM("segment.ms", 0, 1, INT64_MAX, segment_ms)
    NUM("segment.jitter.ms", 0, 0, INT64_MAX, segment_jitter_ms)
    NUM("retention.ms", 0, -1, INT64_MAX, retention_ms)
    NUM("retention.bytes", 0, INT64_MIN, INT64_MAX, retention_bytes)
    NUM("index.interval.bytes", 1, 0, INT32_MAX, index_interval_bytes)
    NUM("segment.index.bytes", 1, 4, INT32_MAX, segment_index_bytes)
    NUM("flush.messages", 0, 0, INT64_MAX, flush_messages)
    NUM("flush.ms", 0, 0, INT64_MAX, flush_ms)
    NUM("max.message.bytes", 1, 0, INT32_MAX, max_message_bytes)
    NUM("file.delete.delay.ms", 0, 0, INT64_MAX, file_delete_delay_ms)
    NUM("message.timestamp.difference.max.ms", 0, 0, INT64_MAX, message_timestamp_difference_max_ms)
    NUM("delete.retention.ms", 0, 0, INT64_MAX, delete_retention_ms)
    NUM("min.compaction.lag.ms", 0, 0, INT64_MAX, min_compaction_lag_ms)
    NUM("max.compaction.lag.ms", 0, 1, INT64_MAX, max_compaction_lag_ms)
#undef NUM
    if (strcmp(key, "message.timestamp.type") == 0) {
        static const char *const o[] = { "CreateTime", "LogAppendTime" };
        int i = check_one_of(key, value, o, 2, "CreateTime, LogAppendTime", errstr, errlen);
        if (i < 0) return -1;
        c->message_timestamp_log_append = i == 1;
        return 1;
    }
    if (strcmp(key, "cleanup.policy") == 0) return parse_policy(c, value, errstr, errlen);

    /* Valid Kafka topic keys that have no effect on the log itself: they are
     * validated and accepted so topic creation with them succeeds. */
    if (strcmp(key, "min.insync.replicas") == 0)
        return parse_num(key, value, 1, 1, INT32_MAX, &v, errstr, errlen) < 0 ? -1 : 1;
    if (strcmp(key, "unclean.leader.election.enable") == 0 || strcmp(key, "preallocate") == 0 ||
        strcmp(key, "message.downconversion.enable") == 0)
        return check_bool(key, value, errstr, errlen);
    if (strcmp(key, "compression.type") == 0) {
        static const char *const o[] = { "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer" };
        static const int codec[] = { 0, 4, 3, 2, 1, -1 };   /* sm_codec_t ids; -1 keeps the producer's */
        int i = check_one_of(key, value, o, SM_ARRAY_SIZE(o), "uncompressed, zstd, lz4, snappy, gzip, producer",
                             errstr, errlen);
        if (i < 0) return -1;
        c->compression_type = codec[i];
        return 1;
    }
    if (strcmp(key, "min.cleanable.dirty.ratio") == 0) {
        char buf[64], *end;
        const char *t = trim(value, buf, sizeof(buf));
        double d = strtod(t, &end);
        if (!*t || *end) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Not a number of type DOUBLE", value, key);
            return -1;
        }
        if (d != d || d < 0 || d > 1) {   /* d != d: NaN */
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Value must be %s", value, key,
                     d < 0 ? "at least 0.0" : "no more than 1.0");
            return -1;
        }
        c->min_cleanable_dirty_ratio = d;
        return 1;
    }
    if (strcmp(key, "message.format.version") == 0) {
        /* ApiVersion strings: 0.8.0 .. 2.8-IV1; accept the shape "N.N[...]". */
        char buf[64];
        const char *t = trim(value, buf, sizeof(buf));
        if (!isdigit((unsigned char)t[0]) || !strchr(t, '.')) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Version `%s` is not a valid version",
                     value, key, t);
            return -1;
        }
        return 1;
    }
    if (strcmp(key, "leader.replication.throttled.replicas") == 0 ||
        strcmp(key, "follower.replication.throttled.replicas") == 0) {
        /* "*" or a list of partition:broker pairs. */
        char buf[4096];
        const char *t = trim(value, buf, sizeof(buf));
        if (*t == '\0' || strcmp(t, "*") == 0) return 1;
        for (const char *p = t; *p; p++) {
            if (!isdigit((unsigned char)*p) && *p != ':' && *p != ',' && !isspace((unsigned char)*p)) {
                snprintf(errstr, errlen,
                         "Invalid value %s for configuration %s: Must be a list of replicas as "
                         "partitionId:brokerId or the wildcard '*'", value, key);
                return -1;
            }
        }
        return 1;
    }
    return 0;
}

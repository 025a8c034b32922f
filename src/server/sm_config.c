/*
 * sm_config.c - server.properties: the key table, loading, validation and
 * the derived values (listeners, log dirs, log defaults).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "server/sm_config.h"

#define O(f) offsetof(sm_broker_config_t, f)
#define I32MAX INT32_MAX
#define I64MAX INT64_MAX

const sm_conf_def_t sm_broker_config_table[] = {
    { "broker.id", SM_CONF_INT, O(broker_id), "-1", -1, I32MAX, 0, "Broker id; unique in the cluster" },
    { "listeners", SM_CONF_STRING, O(listeners), NULL, 0, 0, 0, "Listener URIs, e.g. PLAINTEXT://:9092" },
    { "advertised.listeners", SM_CONF_STRING, O(advertised_listeners), NULL, 0, 0, 0, "Listeners published in ZooKeeper" },
    { "port", SM_CONF_INT, O(port), "9092", 0, 65535, 0, "Legacy port, used when listeners is unset" },
    { "host.name", SM_CONF_STRING, O(host_name), "", 0, 0, 0, "Legacy bind host, used when listeners is unset" },
    { "advertised.host.name", SM_CONF_STRING, O(advertised_host_name), NULL, 0, 0, 0, "Legacy advertised host" },
    { "advertised.port", SM_CONF_INT, O(advertised_port), "-1", -1, 65535, 0, "Legacy advertised port" },
    { "broker.rack", SM_CONF_STRING, O(broker_rack), NULL, 0, 0, 0, "Rack of the broker" },
    { "log.dirs", SM_CONF_STRING, O(log_dirs), NULL, 0, 0, 0, "Comma-separated data directories" },
    { "log.dir", SM_CONF_STRING, O(log_dir), "/tmp/kafka-logs", 0, 0, 0, "Data directory when log.dirs is unset" },
    { "zookeeper.connect", SM_CONF_STRING, O(zookeeper_connect), NULL, 0, 0, 0, "host:port[,host:port][/chroot]" },
    { "zookeeper.session.timeout.ms", SM_CONF_INT, O(zookeeper_session_timeout_ms), "18000", 1, I32MAX, 0, "ZooKeeper session timeout" },
    { "zookeeper.connection.timeout.ms", SM_CONF_INT, O(zookeeper_connection_timeout_ms), "-1", -1, I32MAX, 0, "Max wait to connect to ZooKeeper" },
    { "num.network.threads", SM_CONF_INT, O(num_network_threads), "3", 1, 256, 0, "Network threads" },
    { "num.io.threads", SM_CONF_INT, O(num_io_threads), "8", 1, 256, 0, "Accepted; requests run on the network threads" },
    { "socket.request.max.bytes", SM_CONF_INT, O(socket_request_max_bytes), "104857600", 1, I32MAX, 0, "Largest request frame" },
    { "socket.send.buffer.bytes", SM_CONF_INT, O(socket_send_buffer_bytes), "102400", -1, I32MAX, 0, "SO_SNDBUF; -1 = OS default" },
    { "socket.receive.buffer.bytes", SM_CONF_INT, O(socket_receive_buffer_bytes), "102400", -1, I32MAX, 0, "SO_RCVBUF; -1 = OS default" },
    { "num.partitions", SM_CONF_INT, O(num_partitions), "1", 1, I32MAX, 0, "Partitions of auto-created topics" },
    { "default.replication.factor", SM_CONF_INT, O(default_replication_factor), "1", 1, I32MAX, 0, "Replication factor of auto-created topics" },
    { "auto.create.topics.enable", SM_CONF_BOOL, O(auto_create_topics_enable), "true", 0, 0, 0, "Create topics on metadata requests" },
    { "delete.topic.enable", SM_CONF_BOOL, O(delete_topic_enable), "true", 0, 0, 0, "Allow topic deletion" },
    { "message.max.bytes", SM_CONF_INT, O(message_max_bytes), "1048588", 0, I32MAX, 0, "Largest record batch" },
    { "log.segment.bytes", SM_CONF_INT, O(log_segment_bytes), "1073741824", 14, I32MAX, 0, "Segment size" },
    { "log.roll.ms", SM_CONF_LONG, O(log_roll_ms), "-1", -1, I64MAX, 0, "Roll segments after this time" },
    { "log.roll.hours", SM_CONF_INT, O(log_roll_hours), "168", 1, I32MAX, 0, "Roll segments after this time" },
    { "log.roll.jitter.ms", SM_CONF_LONG, O(log_roll_jitter_ms), "-1", -1, I64MAX, 0, "Roll jitter" },
    { "log.roll.jitter.hours", SM_CONF_INT, O(log_roll_jitter_hours), "0", 0, I32MAX, 0, "Roll jitter" },
    { "log.retention.ms", SM_CONF_LONG, O(log_retention_ms), "-2", -2, I64MAX, 0, "Retention time; -1 = forever" },
    { "log.retention.minutes", SM_CONF_INT, O(log_retention_minutes), "-2", -2, I32MAX, 0, "Retention time" },
    { "log.retention.hours", SM_CONF_INT, O(log_retention_hours), "168", -1, I32MAX, 0, "Retention time" },
    { "log.retention.bytes", SM_CONF_LONG, O(log_retention_bytes), "-1", -1, I64MAX, 0, "Retention size per partition" },
    { "log.retention.check.interval.ms", SM_CONF_LONG, O(log_retention_check_interval_ms), "300000", 1, I64MAX, 0, "Retention check period" },
    { "log.index.interval.bytes", SM_CONF_INT, O(log_index_interval_bytes), "4096", 0, I32MAX, 0, "Bytes between index entries" },
    { "log.index.size.max.bytes", SM_CONF_INT, O(log_index_size_max_bytes), "10485760", 4, I32MAX, 0, "Index file size" },
    { "log.flush.interval.messages", SM_CONF_LONG, O(log_flush_interval_messages), "9223372036854775807", 1, I64MAX, 0, "fsync after this many messages" },
    { "log.flush.interval.ms", SM_CONF_LONG, O(log_flush_interval_ms), "-1", -1, I64MAX, 0, "fsync after this time" },
    { "log.flush.scheduler.interval.ms", SM_CONF_LONG, O(log_flush_scheduler_interval_ms), "9223372036854775807", 0, I64MAX, 0, "Flush check period" },
    { "log.flush.offset.checkpoint.interval.ms", SM_CONF_LONG, O(log_flush_offset_checkpoint_interval_ms), "60000", 0, I64MAX, 0, "Checkpoint period" },
    { "log.message.timestamp.type", SM_CONF_STRING, O(log_message_timestamp_type), "CreateTime", 0, 0, 0, "CreateTime or LogAppendTime" },
    { "log.cleanup.policy", SM_CONF_STRING, O(log_cleanup_policy), "delete", 0, 0, 0, "delete and/or compact" },
    { "compression.type", SM_CONF_STRING, O(compression_type), "producer", 0, 0, 0, "Default compression.type of topics" },
    { "log.segment.delete.delay.ms", SM_CONF_LONG, O(log_segment_delete_delay_ms), "60000", 0, I64MAX, 0, "Default file.delete.delay.ms" },
    { "log.message.timestamp.difference.max.ms", SM_CONF_LONG, O(log_message_timestamp_difference_max_ms), "9223372036854775807", 0, I64MAX, 0, "Default message.timestamp.difference.max.ms" },
    { "log.cleaner.enable", SM_CONF_BOOL, O(log_cleaner_enable), "true", 0, 0, 0, "Log cleaner (compaction)" },
    { "log.cleaner.threads", SM_CONF_INT, O(log_cleaner_threads), "1", 1, 64, 0, "Log cleaner threads" },
    { "log.cleaner.backoff.ms", SM_CONF_LONG, O(log_cleaner_backoff_ms), "15000", 0, I64MAX, 0, "Cleaner sleep when no log is dirty enough" },
    { "log.cleaner.dedupe.buffer.size", SM_CONF_LONG, O(log_cleaner_dedupe_buffer_size), "134217728", 0, I64MAX, 0, "Offset map memory, all cleaner threads" },
    { "log.cleaner.io.buffer.size", SM_CONF_INT, O(log_cleaner_io_buffer_size), "524288", 0, I32MAX, 0, "Cleaner read+write buffers, all threads" },
    { "log.cleaner.min.cleanable.ratio", SM_CONF_DOUBLE, O(log_cleaner_min_cleanable_ratio), "0.5", 0, 0, 0, "Default min.cleanable.dirty.ratio" },
    { "log.cleaner.delete.retention.ms", SM_CONF_LONG, O(log_cleaner_delete_retention_ms), "86400000", 0, I64MAX, 0, "Default delete.retention.ms" },
    { "log.cleaner.min.compaction.lag.ms", SM_CONF_LONG, O(log_cleaner_min_compaction_lag_ms), "0", 0, I64MAX, 0, "Default min.compaction.lag.ms" },
    { "log.cleaner.max.compaction.lag.ms", SM_CONF_LONG, O(log_cleaner_max_compaction_lag_ms), "9223372036854775807", 1, I64MAX, 0, "Default max.compaction.lag.ms" },
    { "num.recovery.threads.per.data.dir", SM_CONF_INT, O(num_recovery_threads_per_data_dir), "1", 1, 256, 0, "Recovery threads per dir" },
    { "min.insync.replicas", SM_CONF_INT, O(min_insync_replicas), "1", 1, I32MAX, 0, "Min ISR for acks=all" },
    { "unclean.leader.election.enable", SM_CONF_BOOL, O(unclean_leader_election_enable), "false", 0, 0, 0, "Allow out-of-sync leaders" },
    { "replica.lag.time.max.ms", SM_CONF_LONG, O(replica_lag_time_max_ms), "30000", 1, I64MAX, 0, "ISR lag limit" },
    { "replica.fetch.max.bytes", SM_CONF_INT, O(replica_fetch_max_bytes), "1048576", 0, I32MAX, 0, "Follower fetch size per partition" },
    { "replica.fetch.response.max.bytes", SM_CONF_INT, O(replica_fetch_response_max_bytes), "10485760", 0, I32MAX, 0, "Follower fetch response size" },
    { "replica.fetch.wait.max.ms", SM_CONF_INT, O(replica_fetch_wait_max_ms), "500", 0, I32MAX, 0, "Follower fetch long-poll wait" },
    { "replica.fetch.min.bytes", SM_CONF_INT, O(replica_fetch_min_bytes), "1", 0, I32MAX, 0, "Follower fetch minimum bytes" },
    { "replica.fetch.backoff.ms", SM_CONF_INT, O(replica_fetch_backoff_ms), "1000", 0, I32MAX, 0, "Follower fetch error backoff" },
    { "replica.socket.timeout.ms", SM_CONF_INT, O(replica_socket_timeout_ms), "30000", 1, I32MAX, 0, "Follower socket timeout" },
    { "replica.high.watermark.checkpoint.interval.ms", SM_CONF_LONG, O(replica_high_watermark_checkpoint_interval_ms), "5000", 1, I64MAX, 0, "HW checkpoint period" },
    { "offsets.topic.replication.factor", SM_CONF_INT, O(offsets_topic_replication_factor), "3", 1, 32767, 0, "RF of __consumer_offsets" },
    { "offsets.topic.num.partitions", SM_CONF_INT, O(offsets_topic_num_partitions), "50", 1, I32MAX, 0, "Partitions of __consumer_offsets" },
    { "group.initial.rebalance.delay.ms", SM_CONF_INT, O(group_initial_rebalance_delay_ms), "3000", 0, I32MAX, 0, "Initial rebalance delay" },
    { "group.min.session.timeout.ms", SM_CONF_INT, O(group_min_session_timeout_ms), "6000", 0, I32MAX, 0, "Smallest session timeout a member may ask for" },
    { "group.max.session.timeout.ms", SM_CONF_INT, O(group_max_session_timeout_ms), "1800000", 0, I32MAX, 0, "Largest session timeout a member may ask for" },
    { "group.max.size", SM_CONF_INT, O(group_max_size), "2147483647", 1, I32MAX, 0, "Largest number of members in a group" },
    { "offsets.retention.minutes", SM_CONF_INT, O(offsets_retention_minutes), "10080", 1, I32MAX, 0, "Offsets of empty groups are kept this long" },
    { "offsets.retention.check.interval.ms", SM_CONF_LONG, O(offsets_retention_check_interval_ms), "600000", 1, I64MAX, 0, "Period of the expired-offsets check" },
    { "offsets.topic.segment.bytes", SM_CONF_INT, O(offsets_topic_segment_bytes), "104857600", 1, I32MAX, 0, "segment.bytes of __consumer_offsets" },
    { "offsets.commit.timeout.ms", SM_CONF_INT, O(offsets_commit_timeout_ms), "5000", 1, I32MAX, 0, "Wait for the ISR on a commit at most this long" },
    { "offsets.commit.required.acks", SM_CONF_INT, O(offsets_commit_required_acks), "-1", -1, 1, 0, "Acks an offset commit waits for (-1: the whole ISR)" },
    { "offset.metadata.max.bytes", SM_CONF_INT, O(offset_metadata_max_bytes), "4096", 0, I32MAX, 0, "Largest metadata string of a committed offset" },
    { "controlled.shutdown.enable", SM_CONF_BOOL, O(controlled_shutdown_enable), "true", 0, 0, 0, "Controlled shutdown" },
    { "controlled.shutdown.max.retries", SM_CONF_INT, O(controlled_shutdown_max_retries), "3", 0, I32MAX, 0, "Controlled shutdown attempts" },
    { "controlled.shutdown.retry.backoff.ms", SM_CONF_LONG, O(controlled_shutdown_retry_backoff_ms), "5000", 0, I64MAX, 0, "Wait between controlled shutdown attempts" },
    { "auto.leader.rebalance.enable", SM_CONF_BOOL, O(auto_leader_rebalance_enable), "true", 0, 0, 0, "Preferred leader rebalancing" },
    { "leader.imbalance.check.interval.seconds", SM_CONF_LONG, O(leader_imbalance_check_interval_seconds), "300", 1, I32MAX, 0, "Leader imbalance check period" },
    { "leader.imbalance.per.broker.percentage", SM_CONF_INT, O(leader_imbalance_per_broker_percentage), "10", 0, 100, 0, "Allowed leader imbalance per broker" },
    { "samsa.log.level", SM_CONF_STRING, O(log_level), "INFO", 0, 0, 0, "Log level (TRACE..ERROR)" },
    { "samsa.log.file", SM_CONF_STRING, O(log_file), NULL, 0, 0, 0, "Log file; default stderr" },
    { "samsa.pid.file", SM_CONF_STRING, O(pid_file), NULL, 0, 0, 0, "Pid file written with --daemon" },
    { "samsa.metrics.listener", SM_CONF_STRING, O(metrics_listener), "", 0, 0, 0, "Prometheus endpoint http://host:port; empty = off" },
    { "samsa.metrics.per.partition.enable", SM_CONF_BOOL, O(metrics_per_partition), "false", 0, 0, 0, "Export per-partition log series" },
    { NULL, 0, 0, NULL, 0, 0, 0, NULL },
};

/* Kafka keys accepted without effect (yet): no "unknown key" warning. */
static const char *known_ignored[] = {
    "num.replica.fetchers", "replica.socket.receive.buffer.bytes",
    "transaction.state.log.replication.factor", "transaction.state.log.min.isr", "transaction.state.log.num.partitions",
    "log.preallocate",
    "queued.max.requests", "num.replica.alter.log.dirs.threads", "inter.broker.protocol.version",
    "log.message.format.version", "zookeeper.set.acl", "zookeeper.max.in.flight.requests", "broker.id.generation.enable",
    "reserved.broker.max.id", "connections.max.idle.ms", "max.connections.per.ip", "request.timeout.ms",
    "listener.security.protocol.map", "inter.broker.listener.name", "security.inter.broker.protocol",
    "background.threads", "fetch.purgatory.purge.interval.requests",
    "producer.purgatory.purge.interval.requests", "metric.reporters", "auto.create.topics.enable",
    "log.message.downconversion.enable", "message.downconversion.enable", "kafka.metrics.polling.interval.secs",
    "kafka.metrics.reporters", "log.cleaner.io.max.bytes.per.second", "num.replica.fetchers",
    "delete.records.purgatory.purge.interval.requests", "zookeeper.sync.time.ms", "log.flush.start.offset.checkpoint.interval.ms",
    NULL,
};

static int
is_known_ignored(const char *k)
{
    for (const char **p = known_ignored; *p; p++)
        if (!strcmp(*p, k)) return 1;
    return 0;
}

/* Parse "NAME://host:port,..." into listeners. */
static int
parse_listeners(const char *spec, sm_listener_t **out, int *n, const char *key, char *errstr, size_t errlen)
{
    char *copy = sm_strdup(spec), *save = NULL;
    *out = NULL;
    *n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        char *sep = strstr(tok, "://");
        char *colon = sep ? strrchr(sep + 3, ':') : NULL;
        int64_t port;
        if (!sep || !colon || sm_parse_i64(colon + 1, &port) < 0 || port < 0 || port > 65535) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: Unable to parse %s to a broker endpoint",
                     spec, key, tok);
            free(copy);
            return -1;
        }
        *out = sm_realloc(*out, (size_t)(*n + 1) * sizeof(**out));
        sm_listener_t *l = &(*out)[(*n)++];
        l->name = sm_strndup(tok, (size_t)(sep - tok));
        char *host = sep + 3;
        size_t hlen = (size_t)(colon - host);
        if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') { host++; hlen -= 2; }
        l->host = sm_strndup(host, hlen);
        l->port = (int)port;
        if (strcmp(l->name, "PLAINTEXT") != 0) {
            snprintf(errstr, errlen, "Invalid value %s for configuration %s: listener %s: only PLAINTEXT is supported so far",
                     spec, key, l->name);
            free(copy);
            return -1;
        }
    }
    free(copy);
    if (*n == 0) {
        snprintf(errstr, errlen, "Invalid value %s for configuration %s: no endpoint", spec, key);
        return -1;
    }
    return 0;
}

static void
free_listeners(sm_listener_t *l, int n)
{
    for (int i = 0; i < n; i++) { free(l[i].name); free(l[i].host); }
    free(l);
}

void
sm_broker_topic_log_config(const sm_broker_config_t *c, const sm_props_t *overrides, sm_log_config_t *out)
{
    *out = c->log_defaults;
    if (!overrides) return;
    for (size_t i = 0; i < overrides->n; i++) {
        char err[256];
        if (sm_log_config_set(out, overrides->items[i].key, overrides->items[i].value, err, sizeof(err)) < 0)
            sm_log_warn("samsa.server", "Ignoring invalid topic config: %s", err);
    }
}

/* samsa.metrics.listener: "http://host:port" or "host:port" ("" = off;
 * an empty host binds every interface; IPv6 hosts in brackets). */
static int
parse_metrics_listener(sm_broker_config_t *c, char *errstr, size_t errlen)
{
    const char *spec = c->metrics_listener ? c->metrics_listener : "";
    while (*spec == ' ') spec++;
    if (!*spec) return 0;
    const char *hp = strncmp(spec, "http://", 7) == 0 ? spec + 7 : spec;
    const char *colon = strrchr(hp, ':');
    int64_t port;
    char *host = colon ? sm_strndup(hp, (size_t)(colon - hp)) : NULL;
    size_t hlen = host ? strlen(host) : 0;
    int bad_host = host && (strpbrk(host, "/ ") != NULL || (hlen && host[0] == '[') != (hlen && host[hlen - 1] == ']'));
    if (!colon || strstr(spec, "://") != (hp == spec ? NULL : spec + 4) || bad_host ||
        sm_parse_i64(colon + 1, &port) < 0 || port < 0 || port > 65535) {
        snprintf(errstr, errlen, "Invalid value %s for configuration samsa.metrics.listener: expected http://host:port",
                 c->metrics_listener);
        free(host);
        return -1;
    }
    if (hlen >= 2 && host[0] == '[') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    c->metrics_host = host;
    c->metrics_port = (int)port;
    return 0;
}

void
sm_broker_config_derive_log_defaults(sm_broker_config_t *c)
{
    sm_log_config_t *d = &c->log_defaults;
    sm_log_config_defaults(d);
    d->segment_bytes = c->log_segment_bytes;
    d->segment_ms = c->log_roll_ms >= 0 ? c->log_roll_ms : (int64_t)c->log_roll_hours * 3600000;
    d->segment_jitter_ms = c->log_roll_jitter_ms >= 0 ? c->log_roll_jitter_ms : (int64_t)c->log_roll_jitter_hours * 3600000;
    if (c->log_retention_ms != -2) d->retention_ms = c->log_retention_ms;
    else if (c->log_retention_minutes != -2) d->retention_ms = c->log_retention_minutes < 0 ? -1 : (int64_t)c->log_retention_minutes * 60000;
    else d->retention_ms = c->log_retention_hours < 0 ? -1 : (int64_t)c->log_retention_hours * 3600000;
    d->retention_bytes = c->log_retention_bytes;
    d->index_interval_bytes = c->log_index_interval_bytes;
    d->segment_index_bytes = c->log_index_size_max_bytes;
    d->flush_messages = c->log_flush_interval_messages;
    d->flush_ms = c->log_flush_interval_ms >= 0 ? c->log_flush_interval_ms : INT64_MAX;
    d->max_message_bytes = c->message_max_bytes;
    d->message_timestamp_log_append = !strcmp(c->log_message_timestamp_type, "LogAppendTime");
    d->cleanup_compact = strstr(c->log_cleanup_policy, "compact") != NULL;
    d->cleanup_delete = strstr(c->log_cleanup_policy, "delete") != NULL;
    d->delete_retention_ms = c->log_cleaner_delete_retention_ms;
    d->min_cleanable_dirty_ratio = c->log_cleaner_min_cleanable_ratio;
    d->min_compaction_lag_ms = c->log_cleaner_min_compaction_lag_ms;
    d->max_compaction_lag_ms = c->log_cleaner_max_compaction_lag_ms;
    d->file_delete_delay_ms = c->log_segment_delete_delay_ms;
    d->message_timestamp_difference_max_ms = c->log_message_timestamp_difference_max_ms;
    char err[256];
    if (sm_log_config_set(d, "compression.type", c->compression_type, err, sizeof(err)) < 0) d->compression_type = -1;
}

void
sm_broker_cleaner_config(const sm_broker_config_t *c, sm_cleaner_config_t *out)
{
    sm_cleaner_config_defaults(out);
    out->enable = c->log_cleaner_enable;
    out->threads = c->log_cleaner_threads;
    out->backoff_ms = c->log_cleaner_backoff_ms;
    out->dedupe_buffer_size = c->log_cleaner_dedupe_buffer_size;
    out->io_buffer_size = c->log_cleaner_io_buffer_size;
}

int
sm_broker_config_load(sm_broker_config_t *c, const char *path, const sm_props_t *overrides, char *errstr, size_t errlen)
{
    sm_props_t props;
    memset(c, 0, sizeof(*c));
    sm_conf_defaults(sm_broker_config_table, c);
    sm_props_init(&props);
    if (path && sm_props_load(&props, path, errstr, errlen) < 0) goto err;
    for (size_t i = 0; overrides && i < overrides->n; i++)
        sm_props_set(&props, overrides->items[i].key, overrides->items[i].value);
    for (size_t i = 0; i < props.n; i++) {
        int rc = sm_conf_set(sm_broker_config_table, c, props.items[i].key, props.items[i].value, errstr, errlen);
        if (rc < 0) goto err;
        if (rc == 0 && !is_known_ignored(props.items[i].key))
            sm_log_warn("samsa.server", "The configuration '%s' was supplied but isn't a known config.", props.items[i].key);
    }
    if (!c->zookeeper_connect || !*c->zookeeper_connect) {
        snprintf(errstr, errlen, "Missing required configuration \"zookeeper.connect\" which has no default value.");
        goto err;
    }
    if (c->broker_id < 0) {
        snprintf(errstr, errlen, "Missing required configuration \"broker.id\": set broker.id to a non-negative integer");
        goto err;
    }
    if (strcmp(c->log_message_timestamp_type, "CreateTime") && strcmp(c->log_message_timestamp_type, "LogAppendTime")) {
        snprintf(errstr, errlen, "Invalid value %s for configuration log.message.timestamp.type: String must be one of: CreateTime, LogAppendTime",
                 c->log_message_timestamp_type);
        goto err;
    }
    if (!strstr(c->log_cleanup_policy, "delete") && !strstr(c->log_cleanup_policy, "compact")) {
        snprintf(errstr, errlen, "Invalid value %s for configuration log.cleanup.policy: must be delete and/or compact",
                 c->log_cleanup_policy);
        goto err;
    }
    if (!(c->log_cleaner_min_cleanable_ratio >= 0 && c->log_cleaner_min_cleanable_ratio <= 1)) {
        snprintf(errstr, errlen, "Invalid value %g for configuration log.cleaner.min.cleanable.ratio: Value must be between 0 and 1",
                 c->log_cleaner_min_cleanable_ratio);
        goto err;
    }
    if (c->zookeeper_connection_timeout_ms < 0) c->zookeeper_connection_timeout_ms = c->zookeeper_session_timeout_ms;

    /* Listeners: explicit, else the legacy host.name/port pair. */
    if (c->listeners && *c->listeners) {
        if (parse_listeners(c->listeners, &c->listener, &c->nlisteners, "listeners", errstr, errlen) < 0) goto err;
    } else {
        char *spec = sm_asprintf("PLAINTEXT://%s:%d", c->host_name ? c->host_name : "", c->port);
        int rc = parse_listeners(spec, &c->listener, &c->nlisteners, "listeners", errstr, errlen);
        free(spec);
        if (rc < 0) goto err;
    }
    if (c->advertised_listeners && *c->advertised_listeners) {
        if (parse_listeners(c->advertised_listeners, &c->advertised, &c->nadvertised, "advertised.listeners", errstr, errlen) < 0)
            goto err;
    } else if (c->advertised_host_name || c->advertised_port >= 0) {
        char *spec = sm_asprintf("PLAINTEXT://%s:%d",
                                 c->advertised_host_name ? c->advertised_host_name : c->listener[0].host,
                                 c->advertised_port >= 0 ? c->advertised_port : c->listener[0].port);
        int rc = parse_listeners(spec, &c->advertised, &c->nadvertised, "advertised.host.name", errstr, errlen);
        free(spec);
        if (rc < 0) goto err;
    } else {
        c->nadvertised = c->nlisteners;
        c->advertised = sm_calloc((size_t)c->nlisteners, sizeof(sm_listener_t));
        for (int i = 0; i < c->nlisteners; i++) {
            c->advertised[i].name = sm_strdup(c->listener[i].name);
            /* Kafka advertises the canonical host name for a wildcard bind. */
            const char *h = c->listener[i].host;
            char hn[256] = "localhost";
            if (!*h || !strcmp(h, "0.0.0.0")) { gethostname(hn, sizeof(hn)); h = hn; }
            c->advertised[i].host = sm_strdup(h);
            c->advertised[i].port = c->listener[i].port;
        }
    }

    /* Data directories. */
    const char *dirs = c->log_dirs && *c->log_dirs ? c->log_dirs : c->log_dir;
    char *copy = sm_strdup(dirs), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        c->dirs = sm_realloc(c->dirs, (size_t)(c->ndirs + 1) * sizeof(char *));
        c->dirs[c->ndirs++] = sm_strdup(tok);
    }
    free(copy);
    if (c->ndirs == 0) {
        snprintf(errstr, errlen, "Invalid value %s for configuration log.dirs: no directory", dirs);
        goto err;
    }
    if (parse_metrics_listener(c, errstr, errlen) < 0) goto err;
    sm_log_config_t probe;
    sm_log_config_defaults(&probe);
    if (sm_log_config_set(&probe, "compression.type", c->compression_type, errstr, errlen) < 0) {
        snprintf(errstr, errlen, "Invalid value %s for configuration compression.type: String must be one of: "
                 "uncompressed, zstd, lz4, snappy, gzip, producer", c->compression_type);
        goto err;
    }
    sm_broker_config_derive_log_defaults(c);
    c->props = props;                /* kept for DescribeConfigs sources */
    return 0;
err:
    sm_props_free(&props);
    return -1;
}

void
sm_broker_config_free(sm_broker_config_t *c)
{
    free_listeners(c->listener, c->nlisteners);
    free_listeners(c->advertised, c->nadvertised);
    for (int i = 0; i < c->ndirs; i++) free(c->dirs[i]);
    free(c->dirs);
    free(c->metrics_host);
    sm_props_free(&c->props);
    sm_conf_free(sm_broker_config_table, c);
    memset(c, 0, sizeof(*c));
}

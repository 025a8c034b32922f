/*
 * sm_config.h - the broker configuration (server.properties keys with
 * Kafka 2.x names, defaults and meanings), loaded from a file plus
 * --override key=value, and validated once at start-up.
 */
#ifndef SM_CONFIG_H
#define SM_CONFIG_H

#include <stdint.h>
#include "core/sm_conf.h"
#include "log/sm_cleaner.h"
#include "log/sm_plog.h"

typedef struct {
    char *name;                      /* listener name, e.g. "PLAINTEXT" */
    char *host;                      /* "" = all interfaces */
    int port;
} sm_listener_t;

typedef struct {
    int32_t broker_id;
    char *listeners;
    char *advertised_listeners;
    int32_t port;                    /* legacy, used when listeners is unset */
    char *host_name;                 /* legacy */
    char *advertised_host_name;      /* legacy */
    int32_t advertised_port;         /* legacy */
    char *broker_rack;
    char *log_dirs;
    char *log_dir;
    char *zookeeper_connect;
    int32_t zookeeper_session_timeout_ms;
    int32_t zookeeper_connection_timeout_ms;  /* -1 = session timeout */
    int32_t num_network_threads;
    int32_t num_io_threads;
    int32_t socket_request_max_bytes;
    int32_t socket_send_buffer_bytes;
    int32_t socket_receive_buffer_bytes;
    int32_t num_partitions;
    int32_t default_replication_factor;
    int auto_create_topics_enable;
    int delete_topic_enable;
    int32_t message_max_bytes;
    int32_t log_segment_bytes;
    int64_t log_roll_ms;             /* -1 = use hours */
    int32_t log_roll_hours;
    int64_t log_roll_jitter_ms;
    int32_t log_roll_jitter_hours;
    int64_t log_retention_ms;        /* -2 = unset */
    int32_t log_retention_minutes;   /* -2 = unset */
    int32_t log_retention_hours;
    int64_t log_retention_bytes;
    int64_t log_retention_check_interval_ms;
    int32_t log_index_interval_bytes;
    int32_t log_index_size_max_bytes;
    int64_t log_flush_interval_messages;
    int64_t log_flush_interval_ms;   /* -1 = use scheduler default (never) */
    int64_t log_flush_scheduler_interval_ms;
    int64_t log_flush_offset_checkpoint_interval_ms;
    char *log_message_timestamp_type;
    char *log_cleanup_policy;
    char *compression_type;          /* broker-wide compression.type ("producer") */
    int64_t log_segment_delete_delay_ms;
    int64_t log_message_timestamp_difference_max_ms;
    int log_cleaner_enable;
    int32_t log_cleaner_threads;
    int64_t log_cleaner_backoff_ms;
    int64_t log_cleaner_dedupe_buffer_size;
    int32_t log_cleaner_io_buffer_size;
    double log_cleaner_min_cleanable_ratio;
    int64_t log_cleaner_delete_retention_ms;
    int64_t log_cleaner_min_compaction_lag_ms;
    int64_t log_cleaner_max_compaction_lag_ms;
    int32_t num_recovery_threads_per_data_dir;
    int32_t min_insync_replicas;
    int unclean_leader_election_enable;
    int64_t replica_lag_time_max_ms;
    int32_t replica_fetch_max_bytes;
    int32_t replica_fetch_response_max_bytes;
    int32_t replica_fetch_wait_max_ms;
    int32_t replica_fetch_min_bytes;
    int32_t replica_fetch_backoff_ms;
    int32_t replica_socket_timeout_ms;
    int64_t replica_high_watermark_checkpoint_interval_ms;
    int32_t offsets_topic_replication_factor;
    int32_t offsets_topic_num_partitions;
    int32_t group_initial_rebalance_delay_ms;
    int32_t group_min_session_timeout_ms;
    int32_t group_max_session_timeout_ms;
    int32_t group_max_size;
    int32_t offsets_retention_minutes;
    int64_t offsets_retention_check_interval_ms;
    int32_t offsets_topic_segment_bytes;
    int32_t offsets_commit_timeout_ms;
    int32_t offsets_commit_required_acks;
    int32_t offset_metadata_max_bytes;
    int controlled_shutdown_enable;
    int32_t controlled_shutdown_max_retries;
    int64_t controlled_shutdown_retry_backoff_ms;
    int auto_leader_rebalance_enable;
    int64_t leader_imbalance_check_interval_seconds;
    int32_t leader_imbalance_per_broker_percentage;
    char *log_level;                 /* samsa extension: log4j root level */
    char *log_file;                  /* samsa extension: log file (default stderr) */
    char *pid_file;                  /* samsa extension: with --daemon */
    char *metrics_listener;          /* samsa extension: Prometheus endpoint, "" = off */
    int metrics_per_partition;       /* samsa extension: kafka_log_log_* series */

    /* Derived at validation. */
    sm_listener_t *listener;         /* parsed listeners */
    int nlisteners;
    sm_listener_t *advertised;       /* parsed advertised listeners */
    int nadvertised;
    char **dirs;                     /* parsed log.dirs */
    int ndirs;
    sm_log_config_t log_defaults;    /* broker-level defaults for topic logs */
    sm_props_t props;                /* keys as given (file, then --override): the
                                        STATIC_BROKER_CONFIG layer of sm_dyncfg */
    char *metrics_host;              /* parsed samsa.metrics.listener; NULL = off */
    int metrics_port;
} sm_broker_config_t;

extern const sm_conf_def_t sm_broker_config_table[];

/* Load file + overrides. Unknown keys are logged as warnings; invalid values
 * or missing required keys fail with one line in errstr. */
int  sm_broker_config_load(sm_broker_config_t *c, const char *path, const sm_props_t *overrides,
                           char *errstr, size_t errlen);
void sm_broker_config_free(sm_broker_config_t *c);
/* Recompute the derived log_defaults from the log.* / message.max.bytes /
 * compression.type members (after sm_dyncfg changed them). Caller
 * serialises against readers of c (sm_dyncfg's lock for sm_srv.cfg). */
void sm_broker_config_derive_log_defaults(sm_broker_config_t *c);
/* The log manager's cleaner settings from log.cleaner.*. */
void sm_broker_cleaner_config(const sm_broker_config_t *c, sm_cleaner_config_t *out);
/* Topic log config = broker defaults + topic overrides (invalid ones logged). */
void sm_broker_topic_log_config(const sm_broker_config_t *c, const sm_props_t *topic_overrides,
                                sm_log_config_t *out);

#endif

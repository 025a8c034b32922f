/*
 * sm_tool_admin.h - the pure, librdkafka-free parts of samsa-configs
 * (kafka-configs.sh) and samsa-consumer-groups (kafka-consumer-groups.sh):
 * --add-config / --delete-config parsing, ConfigCommand's entity names and
 * ZooKeeper-mode describe line, ConsumerGroupCommand's column-aligned
 * tables, --topic t:0,1 scopes, and the --to-datetime / --by-duration
 * parsers.
 *
 * Deterministic and allocation-checked, so tests/unit/check_tool_admin.c
 * can cover it; the binaries add the I/O. Thread: any.
 */
#ifndef SM_TOOL_ADMIN_H
#define SM_TOOL_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"
#include "core/sm_conf.h"

/* ---- kafka-configs.sh -------------------------------------------------- */

/* ConfigCommand.parseConfigsToBeAdded: split at commas outside [...], each
 * item "key=value" (spaces around '=' dropped, exactly one '=' outside
 * brackets), brackets removed from the value ("k=[a,b]" -> "a,b"), key and
 * value trimmed. Later duplicates win. Returns 0, or -1 with Kafka's
 * message ("Invalid entity config: all configs to be added must be in the
 * format \"key=val\"."). */
int sm_tool_parse_add_config(const char *s, sm_props_t *out, char *errstr, size_t errlen);

/* Split a comma list, trimming items and dropping empty ones. Returns the
 * count; *out is a heap array of heap strings (free with sm_tool_strv_free). */
int  sm_tool_split_list(const char *s, char ***out);
void sm_tool_strv_free(char **v, int n);

/* ConfigCommand.ConfigEntity.toString for type "topics"/"brokers"/...:
 * "topic 'x'", "brokers '0'", "default brokers" (name "<default>"). */
void sm_tool_config_entity_desc(char *buf, size_t len, const char *type, const char *name);

/* ZooKeeper-mode describe line: "Configs for <desc> are k=v,k=v\n". */
void sm_tool_fmt_zk_configs(sm_wbuf_t *w, const char *desc, const sm_props_t *configs);

/* ---- kafka-consumer-groups.sh ------------------------------------------- */

/* One row of the --describe --offsets view. NULL strings and negative
 * numbers print as "-"; lag is computed (leo - current) when both known. */
typedef struct {
    const char *group, *topic;
    int32_t partition;
    int64_t current, log_end;
    const char *consumer_id, *host, *client_id;
} sm_tool_offset_row_t;

/* Kafka 2.3+'s table: "\n"-prefixed header and rows, widths of GROUP,
 * TOPIC, CONSUMER-ID and HOST = longest value, at least 15; then "\n". */
void sm_tool_fmt_offsets_table(sm_wbuf_t *w, const sm_tool_offset_row_t *rows, int n);

/* One row of --describe --members. assignment is the --verbose text
 * ("t(0,1), u(2)" or "-"), ignored unless verbose. */
typedef struct {
    const char *group, *consumer_id, *group_instance_id, *host, *client_id;
    int32_t npartitions;
    const char *assignment;
} sm_tool_member_row_t;

void sm_tool_fmt_members_table(sm_wbuf_t *w, const sm_tool_member_row_t *rows, int n, int verbose);

/* --describe --state: one group's table (header + row + "\n"). */
void sm_tool_fmt_state_table(sm_wbuf_t *w, const char *group, const char *coordinator, const char *assignor,
                             const char *state, int nmembers);

/* --list --state: "GROUP STATE" table, group column at least 15 wide. */
void sm_tool_fmt_list_states(sm_wbuf_t *w, const char *const *groups, const char *const *states, int n);

/* --reset-offsets result table (header only if n > 0). */
typedef struct { const char *group, *topic; int32_t partition; int64_t offset; } sm_tool_reset_row_t;
void sm_tool_fmt_reset_table(sm_wbuf_t *w, const sm_tool_reset_row_t *rows, int n);

/* Sorted "topic(p,p), topic2(p)" for --members --verbose into a heap
 * string ("-" when n == 0). topics[i]/parts[i] are one partition each. */
char *sm_tool_fmt_assignment(const char *const *topics, const int32_t *parts, int n);

/* "--topic t" or "t:0,1,2": *topic heap; *parts heap (NULL, *n = 0 when
 * no list is given). 0, or -1 with a message for a bad partition number. */
int sm_tool_parse_topic_scope(const char *s, char **topic, int32_t **parts, int *n, char *errstr, size_t errlen);

/* java.time.Duration.parse subset used by --by-duration: "PnDTnHnMn.nS"
 * (upper or lower case, optional leading '-' / '+', each part optional
 * but at least one present, "T" required before H/M/S). Milliseconds out.
 * 0 or -1. */
int sm_tool_parse_duration(const char *s, int64_t *ms);

/* Kafka's Utils.getDateTime for --to-datetime: "YYYY-MM-DDTHH:mm:SS.sss"
 * with optional timezone "Z", "+hh:mm", "+hhmm" or "+hh" (no timezone =
 * local time). Epoch milliseconds out. 0 or -1. */
int sm_tool_parse_datetime(const char *s, int64_t *ms);

/* checkOffsetRange: clamp into [earliest, latest]; *clamped = -1 below,
 * 1 above, 0 unchanged. Negative bounds mean unknown (no clamp). */
int64_t sm_tool_clamp_offset(int64_t off, int64_t earliest, int64_t latest, int *clamped);

#endif

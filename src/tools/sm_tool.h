/*
 * sm_tool.h - the pure, librdkafka-free parts shared by the operator tools
 * (all seven samsa-* CLIs): a small jopt-simple-like option parser and
 * usage printer, the common front end (no-argument / --help / --version
 * handling, usage and failure exits, stop signals), small ZooKeeper
 * conveniences, kafka-topics.sh output formatting, --replica-assignment /
 * --config parsing, topic regex filters, old-style (Kafka 0.8 / Java
 * client) property-key mapping to librdkafka names, and the console
 * consumer's DefaultMessageFormatter.
 *
 * Nothing here touches librdkafka (that is sm_tool_rdk.h, linked into the
 * binaries only), so this file can live in libsamsa.a and be unit-tested in
 * tests/unit/check_tools.c. The helpers documented as exiting are meant for
 * the tools' main paths only.
 */
#ifndef SM_TOOL_H
#define SM_TOOL_H

#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/sm_buf.h"
#include "core/sm_conf.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_codec.h"

/* ---- option parsing (jopt-simple semantics) ---------------------------- */

typedef enum {
    SM_TOOL_ARG_NONE = 0,      /* flag */
    SM_TOOL_ARG_REQUIRED = 1,  /* --opt value / --opt=value */
    SM_TOOL_ARG_OPTIONAL = 2,  /* value only if the next word does not start with '-' */
} sm_tool_argkind_t;

typedef struct {
    const char *name;          /* without the leading "--" */
    sm_tool_argkind_t arg;
    const char *argname;       /* shown in usage as <argname> */
    const char *doc;
} sm_tool_opt_t;

typedef struct {
    const sm_tool_opt_t *table;    /* terminated by name == NULL */
    int nopts;
    int *count;                    /* [nopts] times each option was seen */
    char ***values;                /* [nopts][count] (NULL entries for flags / absent optional values) */
} sm_tool_args_t;

/* Parse argv[1..argc-1] against table. Accepts "--name", "--name value",
 * "--name=value", a single leading '-' too, and unambiguous prefixes of long
 * names (as jopt-simple does); an exact name always wins over a prefix.
 * Returns 0, or -1 with a one-line message in errstr (unknown/ambiguous
 * option, missing argument, stray positional word). `a` is always
 * initialised and must be released with sm_tool_args_free. Thread: any. */
int  sm_tool_args_parse(sm_tool_args_t *a, const sm_tool_opt_t *table, int argc, char **argv,
                        char *errstr, size_t errlen);
void sm_tool_args_free(sm_tool_args_t *a);
/* 1 if the option named `name` was given. Aborts on a name not in the table
 * (a programming error). */
int  sm_tool_has(const sm_tool_args_t *a, const char *name);
/* Last value of `name`, or NULL if absent or given without a value. */
const char *sm_tool_get(const sm_tool_args_t *a, const char *name);
/* All values of a repeatable option; *n gets the count. Borrowed pointers. */
char **sm_tool_get_all(const sm_tool_args_t *a, const char *name, int *n);
/* Write jopt-style "Option / Description" table to f. */
void sm_tool_print_usage(FILE *f, const sm_tool_opt_t *table);
/* Parse a whole-string int32 option; 0 or -1. */
int  sm_tool_parse_int(const char *s, int32_t *out);

/* ---- common front end --------------------------------------------------- */

/* What a tool's main shares with every other tool's main. */
typedef struct {
    const sm_tool_opt_t *opts;
    const char *no_args_msg;     /* stderr line (then the usage) when run without arguments */
    const char *help_header;     /* stdout line before the usage for --help; NULL: usage only */
    const char *version_tag;     /* --version prints "<PACKAGE_VERSION> (<tag>)" */
    int usage_on_bad_args;       /* bad argv: 1 = message + usage; 0 = message + "Try '<argv0> --help' ..." */
} sm_tool_cli_t;

/* Parse argv into `a` (release with sm_tool_args_free) against cli->opts,
 * which must contain "help" and "version", and deal with what needs no tool
 * logic: a bad command line or no arguments at all exit 1
 * with one message line first on stderr; --help (exit 0, usage on stdout)
 * and --version (exit 0). Returns only when the tool should run. Touches no
 * network and never sleeps. Thread: main only (may exit). */
void sm_tool_cli_parse(const sm_tool_cli_t *cli, sm_tool_args_t *a, int argc, char **argv);

/* Misuse: msg, then the usage of `opts`, on stderr; exit 1. */
void sm_tool_usage_die(const sm_tool_opt_t *opts, const char *msg) __attribute__((noreturn));
/* CommandLineUtils.checkRequiredArgs: usage_die "Missing required argument
 * \"[opt]\"" unless `opt` was given. */
void sm_tool_check_required(const sm_tool_args_t *a, const char *opt);
/* CommandLineUtils.checkInvalidArgs: when `opt` was given, usage_die on the
 * first option of the NULL-terminated `bad` list that was given too. */
void sm_tool_check_invalid(const sm_tool_args_t *a, const char *opt, const char *const *bad);

/* Execution failure, Kafka-tool style: "<prefix><formatted message>\n" on
 * f (flushed), exit 1. */
void sm_tool_vdie(FILE *f, const char *prefix, const char *fmt, va_list ap) __attribute__((noreturn));
/* sm_tool_vdie on stdout, where Kafka's tools print execution errors. */
void sm_tool_fail(const char *prefix, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* Console-tool failure: "ERROR <msg>\n" on stderr, exit 1. */
void sm_tool_error_die(const char *msg) __attribute__((noreturn));

/* Set by SIGINT/SIGTERM once sm_tool_catch_stop_signals has run; the
 * console tools poll it to finish cleanly. */
extern volatile sig_atomic_t sm_tool_stop;
void sm_tool_catch_stop_signals(void);

/* Append the "k=v" words kvs[0..n-1] (repeated --property style values) to
 * p. 0, or -1 at the first NULL word or word without '='. */
int sm_tool_props_add_kvs(sm_props_t *p, char *const *kvs, int n);
/* Remove every entry named key from p, keeping the order of the rest.
 * Returns how many were removed. */
int sm_tool_props_remove(sm_props_t *p, const char *key);
/* Kafka's stdout warning when --config/--add-config sets
 * message.format.version (nothing otherwise). */
void sm_tool_warn_message_format(const sm_props_t *configs);

/* printf appended to w (no NUL kept, no truncation). */
void sm_tool_wprintf(sm_wbuf_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* qsort comparator for an array of char *. */
int  sm_tool_cmp_str(const void *a, const void *b);
/* Order of (topic, partition) pairs: by topic name, then partition. */
int  sm_tool_cmp_tp(const char *t1, int32_t p1, const char *t2, int32_t p2);

/* ---- ZooKeeper ----------------------------------------------------------- */

/* Synchronous admin session on `connect`, or NULL with errstr always set
 * (Kafka's "Timed out waiting for connection while in state: CONNECTING"
 * when ZooKeeper gave no reason). Blocks up to timeout_ms. */
sm_zk_t *sm_tool_zk_open(const char *connect, int timeout_ms, char *errstr, size_t errlen);
/* Ids of the registered brokers (/brokers/ids) in a heap array (*ids,
 * free()). 0, or -1 when ZooKeeper cannot be read. */
int sm_tool_zk_broker_ids(sm_zk_t *zk, int32_t **ids, int *n);

/* ---- kafka-topics.sh -------------------------------------------------- */

/* Output format of --describe: 2.0-2.3, 2.4-2.7 or 2.8 (default). */
typedef enum { SM_TOOL_FMT_20 = 20, SM_TOOL_FMT_24 = 24, SM_TOOL_FMT_28 = 28 } sm_tool_fmt_t;
/* From $SAMSA_KAFKA_VERSION ("2.0".."2.8", default 2.8). */
sm_tool_fmt_t sm_tool_fmt_from_env(void);

/* Summary line, newline-terminated, appended to w. topic_id may be NULL
 * (only printed in the 2.8 format when non-NULL). configs is the already
 * joined "k=v,k=v" text. */
void sm_tool_fmt_topic_line(sm_wbuf_t *w, sm_tool_fmt_t fmt, const char *topic, const char *topic_id,
                            int32_t npartitions, int32_t rf, const char *configs, int marked_for_deletion);
/* Per-partition line, newline-terminated; leader < 0 prints "none". */
void sm_tool_fmt_partition_line(sm_wbuf_t *w, const char *topic, int32_t partition, int32_t leader,
                                const int32_t *replicas, int nreplicas, const int32_t *isr, int nisr,
                                int marked_for_deletion);
/* Join props as "k=v,k=v" into a fresh heap string. */
char *sm_tool_join_configs(const sm_props_t *p);

/* Parse "1:2,2:3" into out (heap arrays; free with sm_tool_assignment_free).
 * Returns 0, or -1 with Kafka's message in errstr (bad number, duplicate
 * broker in a list, different replication factor). */
int  sm_tool_parse_replica_assignment(const char *s, sm_topic_assignment_t *out, char *errstr, size_t errlen);
void sm_tool_assignment_free(sm_topic_assignment_t *a);

/* Parse repeated --config "k=v" values into props (whitespace around '='
 * trimmed, exactly one '=' as Kafka requires) and check the names against
 * Kafka 2.8's topic-level config names. 0, or -1 with Kafka's message. */
int  sm_tool_parse_topic_configs(char **kvs, int n, sm_props_t *out, char *errstr, size_t errlen);
/* 1 if name is a topic-level config Kafka 2.8 knows. */
int  sm_tool_topic_config_known(const char *name);
/* 1 for __consumer_offsets / __transaction_state. */
int  sm_tool_topic_is_internal(const char *topic);
/* 1 if the name contains '.' or '_' (Kafka's metric-collision warning). */
int  sm_tool_topic_has_collision_chars(const char *topic);

/* Topic filter like Kafka's IncludeList: commas mean '|', spaces and
 * surrounding quotes are dropped, and the whole name must match. */
typedef struct { regex_t re; int ok; } sm_tool_filter_t;
int  sm_tool_filter_init(sm_tool_filter_t *f, const char *pattern, char *errstr, size_t errlen);
int  sm_tool_filter_match(const sm_tool_filter_t *f, const char *topic);
void sm_tool_filter_free(sm_tool_filter_t *f);

/* ---- client property mapping ----------------------------------------- */

typedef enum {
    SM_TOOL_MAP_SET = 0,       /* set *out_key = out_val */
    SM_TOOL_MAP_IGNORE = 1,    /* drop silently (handled elsewhere / meaningless here) */
    SM_TOOL_MAP_WARN = 2,      /* drop with a warning: no librdkafka equivalent */
    SM_TOOL_MAP_BAD = 3,       /* invalid value (errstr-worthy), out_val holds the reason */
} sm_tool_map_t;

/* Map one producer property (old Scala producer names, Java producer names,
 * or librdkafka names) to a librdkafka key/value. out_val is a caller buffer.
 * *sync is set to 1 for producer.type=sync (left alone otherwise). */
sm_tool_map_t sm_tool_map_producer_prop(const char *key, const char *value, const char **out_key,
                                        char *out_val, size_t out_len, int *sync);
/* Same for consumer properties (auto.offset.reset smallest/largest etc.). */
sm_tool_map_t sm_tool_map_consumer_prop(const char *key, const char *value, const char **out_key,
                                        char *out_val, size_t out_len);
/* Map a --compression-codec / compression.codec value (names or 0..4) to a
 * librdkafka compression.type; NULL if unknown. */
const char *sm_tool_compression_name(const char *codec);

/* ---- console producer line reader ------------------------------------ */

/* Split line (len bytes) at the first occurrence of sep. Returns 1 with
 * key/value spans, or 0 if sep does not occur. */
int sm_tool_split_key(const char *line, size_t len, const char *sep, size_t *keylen,
                      const char **value, size_t *vallen);

/* ---- console consumer formatter (DefaultMessageFormatter) ------------- */

typedef struct {
    int print_timestamp, print_partition, print_offset, print_headers, print_key, print_value;
    char *key_separator;       /* default "\t" */
    char *line_separator;      /* default "\n" */
    char *headers_separator;   /* default "," */
    char *null_literal;        /* default "null" */
} sm_tool_fmtopts_t;

/* Defaults, then apply props (print.key, key.separator, ...). Unknown keys
 * are ignored like Kafka does. Free with sm_tool_fmtopts_free. */
void sm_tool_fmtopts_init(sm_tool_fmtopts_t *o, const sm_props_t *props);
void sm_tool_fmtopts_free(sm_tool_fmtopts_t *o);

/* Timestamp types as librdkafka reports them. */
enum { SM_TOOL_TS_NONE = 0, SM_TOOL_TS_CREATE = 1, SM_TOOL_TS_LOGAPPEND = 2 };

typedef struct {
    const char *key; size_t keylen;   /* key == NULL: null */
    const void *value; size_t vallen; /* value == NULL: null */
} sm_tool_header_t;

/* Append one formatted record to w, in Kafka 2.8's field order. */
void sm_tool_format_record(sm_wbuf_t *w, const sm_tool_fmtopts_t *o, int ts_type, int64_t ts,
                           int32_t partition, int64_t offset, const sm_tool_header_t *headers, int nheaders,
                           const void *key, size_t keylen, const void *value, size_t vallen);

/* Parse --offset: "earliest" -> -2, "latest" -> -1, N >= 0. 0 or -1. */
int sm_tool_parse_offset(const char *s, int64_t *out);

#endif

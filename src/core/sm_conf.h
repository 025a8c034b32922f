/*
 * sm_conf.h - Java .properties parsing and a table-driven typed config.
 *
 * sm_props_t is an ordered key/value list parsed from .properties syntax
 * (key=value, key: value, key value; # and ! comments; backslash line
 * continuation; \t \n \uXXXX escapes). Later keys override earlier ones.
 *
 * sm_conf_def_t tables describe a config struct (name, type, offsetof,
 * default, bounds), Redis standardConfig style; sm_conf_apply() fills a struct
 * from defaults and then props, refusing invalid values with Kafka's message.
 */
#ifndef SM_CONF_H
#define SM_CONF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *key;
    char *value;
    int line;             /* 0 for --override / programmatic values */
} sm_prop_t;

typedef struct {
    sm_prop_t *items;
    size_t n, cap;
} sm_props_t;

void sm_props_init(sm_props_t *p);
void sm_props_free(sm_props_t *p);
/* Parse text; returns 0, or -1 with errstr (a line that cannot be parsed). */
int  sm_props_parse(sm_props_t *p, const char *text, size_t len, char *errstr, size_t errlen);
/* Load a file; returns 0, or -1 with errstr naming the file. */
int  sm_props_load(sm_props_t *p, const char *path, char *errstr, size_t errlen);
/* Set (replace or append) key=value. */
void sm_props_set(sm_props_t *p, const char *key, const char *value);
/* Parse "key=value" (for --override); returns 0 or -1. */
int  sm_props_set_kv(sm_props_t *p, const char *kv);
/* Last value for key, or NULL. */
const char *sm_props_get(const sm_props_t *p, const char *key);

typedef enum {
    SM_CONF_INT,      /* int32_t */
    SM_CONF_LONG,     /* int64_t */
    SM_CONF_BOOL,     /* int: "true"/"false" */
    SM_CONF_STRING,   /* char * (heap; NULL allowed when default is NULL) */
    SM_CONF_DOUBLE,   /* double */
} sm_conf_type_t;

#define SM_CONF_F_IGNORED 0x1   /* accepted for compatibility, no effect */

typedef struct {
    const char *name;
    sm_conf_type_t type;
    size_t offset;        /* offsetof into the config struct */
    const char *def;      /* default as text; NULL = unset (strings only) */
    int64_t min, max;     /* inclusive bounds for INT/LONG */
    int flags;
    const char *doc;      /* one line, Kafka's meaning */
} sm_conf_def_t;

/* Set every entry of table (terminated by name == NULL) to its default. */
void sm_conf_defaults(const sm_conf_def_t *table, void *obj);
/* Set one key; returns 1 if applied, 0 if the key is not in the table,
 * -1 (errstr set) if the value is invalid. */
int  sm_conf_set(const sm_conf_def_t *table, void *obj, const char *key, const char *value,
                 char *errstr, size_t errlen);
/* Free string members allocated by the table. */
void sm_conf_free(const sm_conf_def_t *table, void *obj);
const sm_conf_def_t *sm_conf_find(const sm_conf_def_t *table, const char *key);
/* Render the current value of an entry as text into buf. */
void sm_conf_format(const sm_conf_def_t *d, const void *obj, char *buf, size_t len);

#endif

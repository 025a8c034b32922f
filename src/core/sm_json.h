/*
 * sm_json.h - a small JSON DOM for znode payloads and tool input files.
 *
 * sm_json_parse() builds a tree from untrusted text with a nesting limit;
 * lookups return NULL for missing keys or wrong types, so callers chain
 * them and check once. Writing JSON is done with sm_wbuf_t and
 * sm_json_write_string() (escaping).
 */
#ifndef SM_JSON_H
#define SM_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "core/sm_buf.h"

typedef enum { SM_JSON_NULL, SM_JSON_BOOL, SM_JSON_NUMBER, SM_JSON_STRING, SM_JSON_ARRAY, SM_JSON_OBJECT } sm_json_type_t;

typedef struct sm_json_s sm_json_t;
struct sm_json_s {
    sm_json_type_t type;
    char *key;            /* member name when inside an object */
    char *str;            /* STRING value (NUL-terminated, unescaped) */
    double num;           /* NUMBER value */
    int64_t inum;         /* NUMBER value as integer (exact for integers) */
    int boolean;
    sm_json_t *child;     /* first element/member (ARRAY/OBJECT) */
    sm_json_t *next;      /* next sibling */
    size_t count;         /* number of children */
};

/* Parse len bytes. Returns NULL with errstr on malformed input. */
sm_json_t *sm_json_parse(const char *text, size_t len, char *errstr, size_t errlen);
void sm_json_free(sm_json_t *j);

sm_json_t *sm_json_get(const sm_json_t *obj, const char *key);   /* member or NULL */
sm_json_t *sm_json_at(const sm_json_t *arr, size_t i);           /* element or NULL */
/* Typed getters: return 0 and set *out on success, -1 on missing/wrong type. */
int sm_json_get_int(const sm_json_t *obj, const char *key, int64_t *out);
const char *sm_json_get_str(const sm_json_t *obj, const char *key); /* NULL if absent */
/* Integer value of a NUMBER node, or of a STRING holding a decimal integer. */
int sm_json_int(const sm_json_t *j, int64_t *out);

/* Write s as a quoted, escaped JSON string. */
void sm_json_write_string(sm_wbuf_t *w, const char *s);

#endif

/*
 * fuzz_props.c - libFuzzer entry point for the Java .properties parser
 * (core/sm_conf.h: sm_props_parse) and the typed config setters it feeds.
 *
 * The input is a properties file. Every parsed key/value is also pushed
 * through a small config table (int, long, bool, double, string), and the
 * input as one line through sm_props_set_kv (the --override path).
 * Invariant: parsed keys are non-empty, and a key read back with
 * sm_props_get() returns the value stored last for it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sm_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int32_t i;
    int64_t l;
    int b;
    double d;
    char *s;
} fz_conf_t;

static const sm_conf_def_t table[] = {
    { "i", SM_CONF_INT, offsetof(fz_conf_t, i), "1", 0, 1000, 0, "int" },
    { "l", SM_CONF_LONG, offsetof(fz_conf_t, l), "-1", INT64_MIN, INT64_MAX, 0, "long" },
    { "b", SM_CONF_BOOL, offsetof(fz_conf_t, b), "false", 0, 0, 0, "bool" },
    { "d", SM_CONF_DOUBLE, offsetof(fz_conf_t, d), "0.5", 0, 0, 0, "double" },
    { "s", SM_CONF_STRING, offsetof(fz_conf_t, s), NULL, 0, 0, 0, "string" },
    { NULL, 0, 0, NULL, 0, 0, 0, NULL },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_props_t p;
    char err[256];
    sm_props_init(&p);
    if (sm_props_parse(&p, (const char *)data, size, err, sizeof(err)) == 0) {
        fz_conf_t c;
        sm_conf_defaults(table, &c);
        for (size_t i = 0; i < p.n; i++) {
            const sm_prop_t *it = &p.items[i];
            if (it->key[0] == '\0') { fprintf(stderr, "empty key accepted\n"); abort(); }
            if (sm_props_get(&p, it->key) != it->value) {
                fprintf(stderr, "duplicate key survived parsing: %s\n", it->key);
                abort();
            }
            const char *names[] = { "i", "l", "b", "d", "s" };
            for (size_t k = 0; k < 5; k++)
                (void)sm_conf_set(table, &c, names[k], it->value, err, sizeof(err));
        }
        char buf[64];
        for (const sm_conf_def_t *d = table; d->name; d++) sm_conf_format(d, &c, buf, sizeof(buf));
        sm_conf_free(table, &c);
    }
    sm_props_free(&p);

    /* --override key=value path takes a C string. */
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    sm_props_init(&p);
    (void)sm_props_set_kv(&p, s);
    sm_props_free(&p);
    free(s);
    return 0;
}

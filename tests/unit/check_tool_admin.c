/*
 * tests/unit/check_tool_admin.c - unit tests of the pure helpers behind
 * samsa-configs and samsa-consumer-groups (src/tools/sm_tool_admin.c):
 * --add-config / --delete-config parsing, entity names and the ZooKeeper
 * describe line, the consumer-group tables' exact layout, --topic scopes,
 * --by-duration / --to-datetime parsing and offset clamping.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "core/sm_util.h"
#include "tools/sm_tool_admin.h"
#include "sm_test.h"

START_TEST(t_add_config)
{
    sm_props_t p;
    char err[256];
    sm_props_init(&p);
    ck_assert_int_eq(sm_tool_parse_add_config("k1=v1, k2 = [a,b,c] ,k3=", &p, err, sizeof err), 0);
    ck_assert_int_eq((int)p.n, 3);
    ck_assert_str_eq(sm_props_get(&p, "k1"), "v1");
    ck_assert_str_eq(sm_props_get(&p, "k2"), "a,b,c");
    ck_assert_str_eq(sm_props_get(&p, "k3"), "");
    /* Later duplicates win. */
    ck_assert_int_eq(sm_tool_parse_add_config("k1=x", &p, err, sizeof err), 0);
    ck_assert_str_eq(sm_props_get(&p, "k1"), "x");
    sm_props_free(&p);
    sm_props_init(&p);
    ck_assert_int_eq(sm_tool_parse_add_config("a=b=c", &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "Invalid entity config: all configs to be added must be in the format \"key=val\".");
    ck_assert_int_eq(sm_tool_parse_add_config("novalue", &p, err, sizeof err), -1);
    /* '=' inside brackets does not count. */
    ck_assert_int_eq(sm_tool_parse_add_config("s=[x=1,y=2]", &p, err, sizeof err), 0);
    ck_assert_str_eq(sm_props_get(&p, "s"), "x=1,y=2");
    sm_props_free(&p);
}
END_TEST

START_TEST(t_lists_and_entities)
{
    char **v;
    int n = sm_tool_split_list(" a, b ,,c ", &v);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(v[0], "a");
    ck_assert_str_eq(v[1], "b");
    ck_assert_str_eq(v[2], "c");
    sm_tool_strv_free(v, n);
    n = sm_tool_split_list("", &v);
    ck_assert_int_eq(n, 0);
    sm_tool_strv_free(v, n);

    char d[64];
    sm_tool_config_entity_desc(d, sizeof d, "topics", "t1");
    ck_assert_str_eq(d, "topic 't1'");
    sm_tool_config_entity_desc(d, sizeof d, "brokers", "0");
    ck_assert_str_eq(d, "brokers '0'");
    sm_tool_config_entity_desc(d, sizeof d, "brokers", "<default>");
    ck_assert_str_eq(d, "default brokers");

    sm_wbuf_t w;
    sm_wbuf_init(&w, 16);
    sm_props_t p;
    sm_props_init(&p);
    sm_tool_fmt_zk_configs(&w, "topic 'x'", &p);
    char *s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "Configs for topic 'x' are \n");
    free(s);
    sm_props_set(&p, "retention.ms", "1000");
    sm_props_set(&p, "segment.bytes", "1024");
    sm_tool_fmt_zk_configs(&w, "topic 'x'", &p);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "Configs for topic 'x' are retention.ms=1000,segment.bytes=1024\n");
    free(s);
    sm_props_free(&p);
    sm_wbuf_free(&w);
}
END_TEST

START_TEST(t_offsets_table)
{
    sm_wbuf_t w;
    sm_wbuf_init(&w, 64);
    sm_tool_offset_row_t rows[] = {
        { "g", "t", 0, 4, 10, "consumer-1-with-a-long-id", "/127.0.0.1", "c1" },
        { "g", "t", 1, -1, 10, NULL, NULL, NULL },
    };
    sm_tool_fmt_offsets_table(&w, rows, 2);
    char *s = sm_test_wbuf_take_str(&w);
    const char *want =
        "\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID               HOST            CLIENT-ID"
        "\ng               t               0          4               10              6               consumer-1-with-a-long-id /127.0.0.1      c1"
        "\ng               t               1          -               10              -               -                         -               -"
        "\n";
    ck_assert_str_eq(s, want);
    free(s);

    sm_tool_member_row_t m[] = { { "g", "m1", NULL, "/h", "c", 2, "t(0,1)" } };
    sm_tool_fmt_members_table(&w, m, 1, 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     ASSIGNMENT\n"
                        "g               m1              /h              c               2               t(0,1)\n");
    free(s);
    sm_tool_member_row_t mi[] = { { "g", "m1", "inst-1", "/h", "c", 0, NULL } };
    sm_tool_fmt_members_table(&w, mi, 1, 0);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "\nGROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     \n"
                        "g               m1              inst-1            /h              c               0               \n");
    free(s);

    sm_tool_fmt_state_table(&w, "g", "h:9092 (0)", "range", "Stable", 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "\nGROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY       STATE                #MEMBERS"
                        "\ng               h:9092 (0)                range                     Stable               1\n");
    free(s);

    const char *gs[] = { "a-group-with-long-name", "b" }, *st[] = { "Stable", "Empty" };
    sm_tool_fmt_list_states(&w, gs, st, 2);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "GROUP                  STATE\na-group-with-long-name Stable\nb                      Empty\n");
    free(s);

    sm_tool_reset_row_t rr[] = { { "g", "t", 3, 42 } };
    sm_tool_fmt_reset_table(&w, rr, 0);
    ck_assert_uint_eq(w.len, 0);
    sm_tool_fmt_reset_table(&w, rr, 1);
    s = sm_test_wbuf_take_str(&w);
    ck_assert_str_eq(s, "\nGROUP                          TOPIC                          PARTITION  NEW-OFFSET     \n"
                        "g                              t                              3          42             \n");
    free(s);
    sm_wbuf_free(&w);

    const char *tp[] = { "u", "t", "t", "u" };
    int32_t pp[] = { 2, 1, 0, 0 };
    s = sm_tool_fmt_assignment(tp, pp, 4);
    ck_assert_str_eq(s, "t(0,1), u(0,2)");
    free(s);
    s = sm_tool_fmt_assignment(NULL, NULL, 0);
    ck_assert_str_eq(s, "-");
    free(s);
}
END_TEST

START_TEST(t_scope_duration_datetime)
{
    char *t, err[128];
    int32_t *p;
    int n;
    ck_assert_int_eq(sm_tool_parse_topic_scope("orders", &t, &p, &n, err, sizeof err), 0);
    ck_assert_str_eq(t, "orders");
    ck_assert_int_eq(n, 0);
    free(t);
    free(p);
    ck_assert_int_eq(sm_tool_parse_topic_scope("orders:0, 2,5", &t, &p, &n, err, sizeof err), 0);
    ck_assert_str_eq(t, "orders");
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(p[0], 0);
    ck_assert_int_eq(p[1], 2);
    ck_assert_int_eq(p[2], 5);
    free(t);
    free(p);
    ck_assert_int_eq(sm_tool_parse_topic_scope("orders:x", &t, &p, &n, err, sizeof err), -1);
    ck_assert_str_eq(err, "For input string: \"x\"");

    int64_t ms;
    ck_assert_int_eq(sm_tool_parse_duration("PT1H", &ms), 0);
    ck_assert_int_eq(ms, 3600000);
    ck_assert_int_eq(sm_tool_parse_duration("P1DT2H3M4.5S", &ms), 0);
    ck_assert_int_eq(ms, 86400000LL + 2 * 3600000LL + 3 * 60000LL + 4500);
    ck_assert_int_eq(sm_tool_parse_duration("pt10m", &ms), 0);
    ck_assert_int_eq(ms, 600000);
    ck_assert_int_eq(sm_tool_parse_duration("-PT1S", &ms), 0);
    ck_assert_int_eq(ms, -1000);
    ck_assert_int_eq(sm_tool_parse_duration("P", &ms), -1);
    ck_assert_int_eq(sm_tool_parse_duration("PT", &ms), -1);
    ck_assert_int_eq(sm_tool_parse_duration("P1H", &ms), -1);     /* H needs T */
    ck_assert_int_eq(sm_tool_parse_duration("1D", &ms), -1);
    ck_assert_int_eq(sm_tool_parse_duration("PT1.5H", &ms), -1);

    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02T03:04:05.678Z", &ms), 0);
    ck_assert_int_eq(ms, 1577934245678LL);
    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02T05:04:05.678+02:00", &ms), 0);
    ck_assert_int_eq(ms, 1577934245678LL);
    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02T01:04:05.678-0200", &ms), 0);
    ck_assert_int_eq(ms, 1577934245678LL);
    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02T03:04:05.678", &ms), 0);   /* local time */
    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02 03:04:05.678", &ms), -1);
    ck_assert_int_eq(sm_tool_parse_datetime("2020-13-02T03:04:05.678", &ms), -1);
    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02T03:04:05", &ms), -1);
    ck_assert_int_eq(sm_tool_parse_datetime("2020-01-02T03:04:05.678X", &ms), -1);

    int cl;
    ck_assert_int_eq(sm_tool_clamp_offset(5, 0, 10, &cl), 5);
    ck_assert_int_eq(cl, 0);
    ck_assert_int_eq(sm_tool_clamp_offset(99, 0, 10, &cl), 10);
    ck_assert_int_eq(cl, 1);
    ck_assert_int_eq(sm_tool_clamp_offset(-3, 2, 10, &cl), 2);
    ck_assert_int_eq(cl, -1);
    ck_assert_int_eq(sm_tool_clamp_offset(99, -1, -1, &cl), 99);
    ck_assert_int_eq(cl, 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("tool_admin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, t_add_config);
    tcase_add_test(tc, t_lists_and_entities);
    tcase_add_test(tc, t_offsets_table);
    tcase_add_test(tc, t_scope_duration_datetime);
    suite_add_tcase(s, tc);
    return sm_test_run(s);
}

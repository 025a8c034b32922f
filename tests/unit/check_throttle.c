/*
 * check_throttle.c - unit tests for src/repl/sm_throttle.c: the token
 * bucket (burst, refill, debt, waits, rate changes, unlimited, overflow
 * safety), the throttled-replicas list matcher, and the registry (lists
 * filtered to this broker, "*", rate gating, loader on miss and after the
 * refresh interval, forget). A fake clock makes everything deterministic.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repl/sm_throttle.h"
#include "sm_test.h"

static int64_t fake_now;
static int64_t fake_clock(void) { return fake_now; }

START_TEST(test_bucket_basic)
{
    sm_tbucket_t b;
    sm_tbucket_init(&b, 1000, 0);               /* 1000 B/s, burst 1000 */
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 0), 0);
    ck_assert_int_eq(sm_tbucket_wait_ms(&b, 0), 0);
    sm_tbucket_consume(&b, 600, 0);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 0), 0);
    sm_tbucket_consume(&b, 400, 0);             /* exactly empty: spent */
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 0), 1);
    ck_assert_int_eq(sm_tbucket_wait_ms(&b, 0), 1);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 1), 0);   /* 1 ms = 1 byte back */
    /* Overdraw: 3000 bytes of debt take 3 s to repay. */
    sm_tbucket_consume(&b, 3001, 1);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 1), 1);
    ck_assert_int_eq(sm_tbucket_wait_ms(&b, 1), 3001);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 3001), 1);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 3002), 0);
    /* Refill is capped at one second's worth. */
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 100000), 0);
    sm_tbucket_consume(&b, 1000, 100000);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 100000), 1);
    /* A clock going backwards adds nothing. */
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 50000), 1);
}
END_TEST

START_TEST(test_bucket_long_run_rate)
{
    /* Greedy consumer taking 4096-byte chunks whenever allowed, for 10 s at
     * 100 kB/s: total = burst + 10 s of rate, within one chunk. */
    sm_tbucket_t b;
    sm_tbucket_init(&b, 100000, 0);
    int64_t total = 0;
    for (int64_t t = 0; t <= 10000; t++)
        while (!sm_tbucket_exhausted(&b, t)) {
            sm_tbucket_consume(&b, 4096, t);
            total += 4096;
        }
    ck_assert_int_ge(total, 100000 + 1000000);
    ck_assert_int_le(total, 100000 + 1000000 + 4096);
}
END_TEST

START_TEST(test_bucket_unlimited_and_rate_change)
{
    sm_tbucket_t b;
    sm_tbucket_init(&b, 0, 0);
    sm_tbucket_consume(&b, INT64_MAX, 0);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 0), 0);
    ck_assert_int_eq(sm_tbucket_wait_ms(&b, 0), 0);
    sm_tbucket_init(&b, INT64_MAX, 0);          /* Long.MaxValue = unlimited */
    ck_assert_int_eq(b.rate, 0);
    /* Becoming limited starts full. */
    sm_tbucket_set_rate(&b, 500, 10);
    ck_assert_int_eq(b.rate, 500);
    sm_tbucket_consume(&b, 499, 10);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 10), 0);
    sm_tbucket_consume(&b, 1, 10);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 10), 1);
    /* Raising the rate keeps the debt but repays faster. */
    sm_tbucket_consume(&b, 1000, 10);           /* 1000 bytes of debt */
    sm_tbucket_set_rate(&b, 10000, 10);
    ck_assert_int_eq(sm_tbucket_wait_ms(&b, 10), 101);
    /* Lowering caps the tokens at the new burst. */
    sm_tbucket_exhausted(&b, 5000);             /* full: 10000 */
    sm_tbucket_set_rate(&b, 100, 5000);
    sm_tbucket_consume(&b, 100, 5000);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 5000), 1);
    /* Removing the limit lifts it at once. */
    sm_tbucket_set_rate(&b, -1, 5000);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 5000), 0);
    /* Huge gaps and charges do not overflow. */
    sm_tbucket_init(&b, 1000000000000LL, 0);
    sm_tbucket_consume(&b, INT64_MAX, 0);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, 0), 1);
    ck_assert_int_eq(sm_tbucket_exhausted(&b, INT64_MAX / 2), 0);
}
END_TEST

START_TEST(test_list_match)
{
    ck_assert_int_eq(sm_throttle_list_match("*", 5, 9), 1);
    ck_assert_int_eq(sm_throttle_list_match(" * ", 5, 9), 1);
    ck_assert_int_eq(sm_throttle_list_match("0:1,1:2,2:0", 1, 2), 1);
    ck_assert_int_eq(sm_throttle_list_match("0:1,1:2,2:0", 2, 0), 1);
    ck_assert_int_eq(sm_throttle_list_match("0:1,1:2,2:0", 1, 1), 0);
    ck_assert_int_eq(sm_throttle_list_match("0 : 1 , 1:2", 0, 1), 1);
    ck_assert_int_eq(sm_throttle_list_match("10:1", 1, 1), 0);
    ck_assert_int_eq(sm_throttle_list_match("1:10", 1, 1), 0);
    ck_assert_int_eq(sm_throttle_list_match("", 0, 0), 0);
    ck_assert_int_eq(sm_throttle_list_match(NULL, 0, 0), 0);
    ck_assert_int_eq(sm_throttle_list_match("garbage,,:,1:,:1,x:y,0:0", 0, 0), 1);
    ck_assert_int_eq(sm_throttle_list_match("garbage,,:,1:,:1,x:y", 0, 0), 0);
    char longitem[200];
    memset(longitem, '1', sizeof(longitem) - 1);
    longitem[sizeof(longitem) - 1] = 0;
    ck_assert_int_eq(sm_throttle_list_match(longitem, 1, 1), 0);
}
END_TEST

static char loaded[8][64];
static int nloaded;

static void
fake_load(void *arg, const char *topic)
{
    ck_assert_ptr_eq(arg, &nloaded);
    if (nloaded < 8) strncpy(loaded[nloaded], topic, 63);
    nloaded++;
}

START_TEST(test_registry)
{
    fake_now = 1000;
    nloaded = 0;
    sm_throttle_t *t = sm_throttle_new(2, fake_clock, fake_load, &nloaded, 10000);
    /* Unknown topic: not throttled, loaded once. */
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 0), 0);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 0), 0);
    ck_assert_int_eq(nloaded, 1);
    ck_assert_str_eq(loaded[0], "orders");
    /* Lists name broker 2 for leader partition 1 and follower partitions 0, 3. */
    sm_throttle_set_topic(t, "orders", "0:0,1:2,2:1", "3:2,0:2,0:1");
    /* No rate yet: nothing is throttled. */
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 0), 0);
    sm_throttle_set_rates(t, 1000, 500);
    ck_assert_int_eq(sm_throttle_rate(t, SM_THROTTLE_LEADER), 1000);
    ck_assert_int_eq(sm_throttle_rate(t, SM_THROTTLE_FOLLOWER), 500);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 0), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 3), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 1), 0);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "orders", 6, 1), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "orders", 6, 0), 0);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "orders", 6, 2), 0);
    /* Name compared by length, not as a prefix. */
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "ordersX", 6, 0), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "order", 5, 0), 0);
    ck_assert_int_eq(nloaded, 2);
    /* Budgets per side. */
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER), 0);
    sm_throttle_record(t, SM_THROTTLE_FOLLOWER, 700);
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER), 1);
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_LEADER), 0);
    ck_assert_int_eq(sm_throttle_wait_ms(t, SM_THROTTLE_FOLLOWER), 401);
    fake_now += 401;
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER), 0);
    /* Wildcard. */
    sm_throttle_set_topic(t, "all", "*", NULL);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "all", 3, 77), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "all", 3, 77), 0);
    /* Refresh after the interval: one reload request, entry still used. */
    int before = nloaded;
    fake_now += 10001;
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "all", 3, 1), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "all", 3, 1), 1);
    ck_assert_int_eq(nloaded, before + 1);
    ck_assert_str_eq(loaded[before], "all");
    /* Removing the lists (throttle cleared) and the rates. */
    sm_throttle_set_topic(t, "orders", NULL, NULL);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "orders", 6, 0), 0);
    sm_throttle_set_rates(t, -1, 0);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "all", 3, 1), 0);
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER), 0);
    /* Forget: the next lookup asks again. */
    sm_throttle_forget_topic(t, "all");
    before = nloaded;
    sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "all", 3, 1);
    ck_assert_int_eq(nloaded, before + 1);
    sm_throttle_free(t);
    /* NULL registry: nothing throttled, never exceeded. */
    ck_assert_int_eq(sm_throttle_is_throttled(NULL, SM_THROTTLE_LEADER, "x", 1, 0), 0);
    ck_assert_int_eq(sm_throttle_exceeded(NULL, SM_THROTTLE_LEADER), 0);
}
END_TEST

static int64_t src_leader, src_follower;
static void
fake_rates(void *arg, int64_t *l, int64_t *f)
{
    *l = src_leader;
    *f = src_follower;
}

START_TEST(test_rates_source)
{
    fake_now = 0;
    sm_throttle_t *t = sm_throttle_new(0, fake_clock, NULL, NULL, 0);
    sm_throttle_set_topic(t, "x", "*", "*");
    sm_throttle_set_rates_fn(t, fake_rates, NULL);
    src_leader = src_follower = INT64_MAX;            /* unset: unlimited */
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "x", 1, 0), 0);
    /* A change at the source applies on the next check, no setter needed. */
    src_follower = 2000;
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_FOLLOWER, "x", 1, 0), 1);
    ck_assert_int_eq(sm_throttle_is_throttled(t, SM_THROTTLE_LEADER, "x", 1, 0), 0);
    sm_throttle_record(t, SM_THROTTLE_FOLLOWER, 2000);
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER), 1);
    ck_assert_int_eq(sm_throttle_wait_ms(t, SM_THROTTLE_FOLLOWER), 1);
    src_follower = 0;
    ck_assert_int_eq(sm_throttle_exceeded(t, SM_THROTTLE_FOLLOWER), 0);
    sm_throttle_free(t);
}
END_TEST

static Suite *
throttle_suite(void)
{
    Suite *s = suite_create("throttle");
    TCase *tc = tcase_create("bucket");
    tcase_add_test(tc, test_bucket_basic);
    tcase_add_test(tc, test_bucket_long_run_rate);
    tcase_add_test(tc, test_bucket_unlimited_and_rate_change);
    tcase_add_test(tc, test_list_match);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_rates_source);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return sm_test_run(throttle_suite());
}

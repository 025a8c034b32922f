#include <check.h>
#include <stdlib.h>
START_TEST(t_dummy) { ck_assert_int_eq(1, 1); }
END_TEST
int main(void) {
    Suite *s = suite_create("log"); TCase *tc = tcase_create("log"); tcase_add_test(tc, t_dummy); suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s); srunner_run_all(sr, CK_NORMAL); int f = srunner_ntests_failed(sr); srunner_free(sr); return f ? 1 : 0;
}

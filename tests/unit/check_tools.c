/* tests/unit/check_tools.c - unit tests of src/tools/sm_tool.c (placeholder, filled below). */
#include <check.h>
#include <stdlib.h>
START_TEST(t_dummy) { ck_assert_int_eq(1, 1); }
END_TEST
int main(void) {
    Suite *s = suite_create("tools"); TCase *tc = tcase_create("tools"); tcase_add_test(tc, t_dummy); suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s); srunner_run_all(sr, CK_NORMAL); int f = srunner_ntests_failed(sr); srunner_free(sr); return f ? 1 : 0;
}

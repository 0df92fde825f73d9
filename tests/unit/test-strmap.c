/* SPDX-License-Identifier: MIT */
#include "strmap.h"
#include "unit.h"

START_TEST(test_put_get_grow) {
        static char keys[5000][16];
        struct strmap *m = NULL;
        void *prev = NULL;

        ck_assert_int_eq(strmap_new(4, &m), 0); /* grows far past what it was sized for */
        for (int i = 0; i < 5000; i++) {
                snprintf(keys[i], sizeof(keys[i]), "/c/%d.crt", i);
                ck_assert_int_eq(strmap_put(m, keys[i], keys[i], NULL), 0);
        }
        for (int i = 0; i < 5000; i++)
                ck_assert_ptr_eq(strmap_get(m, keys[i]), keys[i]);
        ck_assert_ptr_null(strmap_get(m, "/c/5000.crt"));
        /* A second put of a key adds nothing and names the first. */
        ck_assert_int_eq(strmap_put(m, "/c/7.crt", "other", &prev), 1);
        ck_assert_ptr_eq(prev, keys[7]);
        ck_assert_ptr_eq(strmap_get(m, "/c/7.crt"), keys[7]);
        strmap_free(m);
}
END_TEST

static Suite *strmap_suite(void) {
        Suite *s = suite_create("strmap");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_put_get_grow);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(strmap_suite)

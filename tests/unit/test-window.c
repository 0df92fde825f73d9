/* SPDX-License-Identifier: MIT */
/* common/window.c: maintenance windows, in UTC here so the days are the test's. */
#include "unit.h"
#include "window.h"

/* 2026-12-07 is a Monday. */
static time_t at(int mday, int hour, int min) {
        struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = mday, .tm_hour = hour, .tm_min = min, .tm_isdst = -1 };

        return mktime(&tm);
}

static struct window w_(const char *s) {
        struct window w = {};

        ck_assert_msg(window_parse(s, &w) == 0, "'%s' refused", s);
        return w;
}

static void setup(void) {
        setenv("TZ", "UTC", 1);
        tzset();
}

START_TEST(test_parse) {
        struct window w;

        w = w_("daily 03:00-03:30");
        ck_assert_uint_eq(w.days, 0x7f);
        ck_assert_uint_eq(w.start, 180);
        ck_assert_uint_eq(w.end, 210);
        ck_assert_uint_eq(w_("Sat 02:00-04:00").days, 1u << 6);
        ck_assert_uint_eq(w_("Mon-Fri 22:00-02:00").days, 0x3e);
        ck_assert_uint_eq(w_("Sat,Sun 01:00-24:00").days, 0x41);
        ck_assert_uint_eq(w_("Fri-Mon 01:00-02:00").days, 0x63); /* wraps past Sunday */
        ck_assert_uint_eq(w_("sat 01:00-02:00").days, 1u << 6);
        static const char *const bad[] = { "", "daily", "Sat", "Sat 2:00-04:00", "Sat 02:00-04:60",
                                           "Sat 02:00-25:00", "Sat 02:00-02:00", "Sat 24:00-01:00",
                                           "Someday 02:00-04:00", "Sat  02:00-04:00", "Sat 02:00-04:00 ",
                                           "Sat, 02:00-04:00", "Sat 02:00 04:00", "Sat -2:00-04:00" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(window_parse(bad[i], &w) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_contain) {
        struct window v[] = { w_("Sat 02:00-04:00") };
        struct window night[] = { w_("Mon-Fri 22:00-02:00") };

        ck_assert(windows_contain(v, 1, at(12, 2, 0)));   /* Saturday 12th, 02:00: inside */
        ck_assert(windows_contain(v, 1, at(12, 3, 59)));
        ck_assert(!windows_contain(v, 1, at(12, 4, 0)));  /* the end is outside */
        ck_assert(!windows_contain(v, 1, at(11, 3, 0)));  /* a Friday */
        ck_assert(windows_contain(night, 1, at(11, 23, 0))); /* Friday night */
        ck_assert(windows_contain(night, 1, at(12, 1, 0)));  /* Saturday small hours, after Friday's start */
        ck_assert(!windows_contain(night, 1, at(13, 1, 0))); /* Sunday small hours: Saturday named none */
        ck_assert(!windows_contain(v, 0, at(12, 3, 0)));     /* no windows: never inside */
}
END_TEST

START_TEST(test_next_open) {
        struct window v[] = { w_("Sat 02:00-04:00"), w_("daily 03:00-03:30") };
        time_t t;

        ck_assert_int_eq(windows_next_open(v, 2, at(7, 10, 0), &t), 0); /* Monday 10:00 → Tuesday 03:00 */
        ck_assert_int_eq(t, at(8, 3, 0));
        ck_assert_int_eq(windows_next_open(v, 2, at(8, 3, 10), &t), 0); /* inside: now */
        ck_assert_int_eq(t, at(8, 3, 10));
        ck_assert_int_eq(windows_next_open(v, 1, at(12, 4, 0), &t), 0); /* just after: a week later */
        ck_assert_int_eq(t, at(19, 2, 0));
        ck_assert_int_eq(windows_next_open(v, 1, at(11, 23, 0), &t), 0); /* Friday night → Saturday 02:00 */
        ck_assert_int_eq(t, at(12, 2, 0));
        ck_assert_int_eq(windows_next_open(v, 0, at(7, 0, 0), &t), -ENOENT);
}
END_TEST

static Suite *window_suite(void) {
        Suite *s = suite_create("window");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, test_parse);
        tcase_add_test(tc, test_contain);
        tcase_add_test(tc, test_next_open);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(window_suite)

/* SPDX-License-Identifier: MIT */
#include "fileio.h"
#include "metrics.h"
#include "unit.h"

START_TEST(test_text_format) {
        _cleanup_free_ char *dir = unit_tmpdir(), *path = NULL, *text = NULL;
        struct metrics_ctr ctrs[] = {
                { .container = "ctr-a", .jobs = { 3, 1, 0 }, .restarts = 4, .verify_failures = 1 },
                { .container = "~^we\"b$", .jobs = { 0, 0, 2 } },
        };
        struct metrics_cert certs[] = { { "web-a", 1000 + 86400 }, { "missing", -1 } };

        ck_assert_int_ge(asprintf(&path, "%s/ctrcert.prom", dir), 0);
        ck_assert_int_eq(metrics_write(path, ctrs, 2, certs, 2, 1000), 0);
        ck_assert_int_eq(read_file_full(path, 65536, &text, NULL), 0);
        ck_assert_ptr_nonnull(strstr(text, "# TYPE ctrcert_jobs_total counter\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs_total{container=\"ctr-a\",result=\"ok\"} 3\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs_total{container=\"ctr-a\",result=\"failed\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs_total{container=\"~^we\\\"b$\",result=\"held\"} 2\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_restarts_total{container=\"ctr-a\"} 4\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_verify_failures_total{container=\"ctr-a\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_certificate_expiry_seconds{id=\"web-a\"} 86400\n"));
        ck_assert_ptr_null(strstr(text, "id=\"missing\""));
        rm_rf(dir);
}
END_TEST

static Suite *metrics_suite(void) {
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_text_format);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(metrics_suite)

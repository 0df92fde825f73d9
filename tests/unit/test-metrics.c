/* SPDX-License-Identifier: MIT */
#include "fileio.h"
#include "metrics.h"
#include "unit.h"

START_TEST(test_text_format) {
        _cleanup_free_ char *dir = unit_tmpdir(), *path = NULL, *text = NULL;
        struct metrics_ctr ctrs[] = {
                { .container = "ctr-a", .jobs = { 3, 1, 0 }, .restarts = 4, .restart_attempts = 5, .verify_failures = 1,
                  .last_success = 1796083200 },
                { .container = "~^we\"b$", .jobs = { 0, 0, 2 } },
        };
        struct metrics_cert certs[] = { { "web-a", 1000 + 86400, "CA_UNREACHABLE", true }, { "missing", -1, "", false } };
        struct metrics m = { .ctrs = ctrs, .n_ctrs = 2, .certs = certs, .n_certs = 2, .version = "1.2.3",
                             .jobs_by_state = { [MJ_WINDOW] = 2, [MJ_HELD] = 1 } };

        ck_assert_int_ge(asprintf(&path, "%s/ctrcert.prom", dir), 0);
        ck_assert_int_eq(metrics_write(path, &m), 0);
        ck_assert_int_eq(read_file_full(path, 65536, &text, NULL), 0);
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_build_info{version=\"1.2.3\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "# TYPE ctrcert_jobs_total counter\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs_total{container=\"ctr-a\",result=\"ok\"} 3\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs_total{container=\"ctr-a\",result=\"failed\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs_total{container=\"~^we\\\"b$\",result=\"held\"} 2\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs{state=\"window\"} 2\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs{state=\"held\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_jobs{state=\"paused\"} 0\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_restarts_total{container=\"ctr-a\"} 4\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_restart_attempts_total{container=\"ctr-a\"} 5\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_verify_failures_total{container=\"ctr-a\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_last_success_timestamp_seconds{container=\"ctr-a\"} 1796083200\n"));
        ck_assert_ptr_null(strstr(text, "ctrcert_last_success_timestamp_seconds{container=\"~")); /* none yet */
        /* absolute, so a stale file cannot hide an expiry */
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_certificate_not_after_timestamp_seconds{id=\"web-a\"} 87400\n"));
        ck_assert_ptr_null(strstr(text, "id=\"missing\""));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_certmonger_request_info{id=\"web-a\",status=\"CA_UNREACHABLE\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(text, "ctrcert_certmonger_request_stuck{id=\"web-a\"} 1\n"));
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

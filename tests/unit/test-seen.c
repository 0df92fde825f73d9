/* SPDX-License-Identifier: MIT */
#include "fileio.h"
#include "seen.h"
#include "unit.h"

/* note S PATH: seen_note's verdict (1 changed, 0 not), asserting it did not fail. */
static int note(struct seen *s, const char *path) {
        bool changed = true;

        ck_assert_int_eq(seen_note(s, path, &changed), 0);
        return changed;
}

START_TEST(test_first_look_is_baseline_then_changes_count) {
        _cleanup_free_ char *dir = unit_tmpdir(), *crt = NULL;
        _cleanup_(seen_freep) struct seen *s = NULL;

        ck_assert_int_ge(asprintf(&crt, "%s/a.crt", dir), 0);
        ck_assert_int_eq(write_file_atomic(crt, "one", 3, 0644), 0);
        ck_assert_int_eq(seen_open(dir, &s), 0);
        ck_assert_int_eq(note(s, crt), 0); /* never seen: only recorded */
        ck_assert_int_eq(note(s, crt), 0);
        /* certmonger replaces the file by rename: a new inode even with the same size */
        ck_assert_int_eq(write_file_atomic(crt, "two", 3, 0644), 0);
        ck_assert_int_eq(note(s, crt), 1);
        ck_assert_int_eq(note(s, crt), 0);
        rm_rf(dir);
}
END_TEST

START_TEST(test_survives_a_restart) {
        _cleanup_free_ char *dir = unit_tmpdir(), *crt = NULL, *other = NULL;
        struct seen *s = NULL;

        ck_assert_int_ge(asprintf(&crt, "%s/a.crt", dir), 0);
        ck_assert_int_ge(asprintf(&other, "%s/b.crt", dir), 0);
        ck_assert_int_eq(write_file_atomic(crt, "one", 3, 0644), 0);
        ck_assert_int_eq(write_file_atomic(other, "b", 1, 0644), 0);
        ck_assert_int_eq(seen_open(dir, &s), 0);
        note(s, crt);
        note(s, other);
        ck_assert_int_eq(seen_save(s), 0);
        seen_free(s);

        /* Saved while no agent ran: the next one sees it; the untouched file stays quiet. */
        ck_assert_int_eq(write_file_atomic(crt, "renewed", 7, 0644), 0);
        ck_assert_int_eq(seen_open(dir, &s), 0);
        ck_assert_int_eq(note(s, crt), 1);
        ck_assert_int_eq(note(s, other), 0);
        ck_assert_int_eq(seen_save(s), 0);
        seen_free(s);
        ck_assert_int_eq(seen_open(dir, &s), 0);
        ck_assert_int_eq(note(s, crt), 0);
        seen_free(s);
        rm_rf(dir);
}
END_TEST

START_TEST(test_missing_and_malformed) {
        _cleanup_free_ char *dir = unit_tmpdir(), *crt = NULL, *file = NULL, *text = NULL;
        _cleanup_(seen_freep) struct seen *s = NULL;

        ck_assert_int_ge(asprintf(&crt, "%s/later.crt", dir), 0);
        ck_assert_int_ge(asprintf(&file, "%s/seen", dir), 0);
        ck_assert_int_ge(asprintf(&text, "ctrcert-seen 1\nnot a record\n1 2 3 4 %s\n", crt), 0);
        ck_assert_int_eq(write_file_atomic(file, text, strlen(text), 0600), 0);
        ck_assert_int_eq(seen_open(dir, &s), 0); /* the bad line is skipped, the good one kept */
        ck_assert_int_eq(note(s, crt), 0);        /* not there: nothing to act on */
        ck_assert_int_eq(write_file_atomic(crt, "x", 1, 0644), 0);
        ck_assert_int_eq(note(s, crt), 1); /* differs from the record kept */
        rm_rf(dir);
}
END_TEST

static Suite *seen_suite(void) {
        Suite *s = suite_create("seen");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_first_look_is_baseline_then_changes_count);
        tcase_add_test(tc, test_survives_a_restart);
        tcase_add_test(tc, test_missing_and_malformed);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(seen_suite)

/* SPDX-License-Identifier: MIT */
/* common/log.c: priorities for the journal, timestamps elsewhere, CTRCERT_LOG_LEVEL. */
#include <fcntl.h>
#include <regex.h>
#include <sys/stat.h>

#include "log.h"
#include "unit.h"

/* Runs what log_setup and one log_error print with stderr sent to a file; returns the text. */
static char *logged(const char *journal_stream_of_file, bool timestamps, int level) {
        _cleanup_free_ char *dir = unit_tmpdir(), *path = NULL;
        char *text = calloc(1, 4096);
        int saved = dup(STDERR_FILENO), fd;
        struct stat st;
        char env[64];

        ck_assert_ptr_nonnull(text);
        ck_assert_int_ge(asprintf(&path, "%s/err", dir), 0);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fstat(fd, &st), 0);
        if (journal_stream_of_file) {
                snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
                setenv("JOURNAL_STREAM", env, 1);
        } else
                unsetenv("JOURNAL_STREAM");
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        log_setup("test-log");
        log_set_timestamps(timestamps);
        log_set_max_level(LOG_LEVEL_INFO);
        log_full_errno(level, -ENOENT, "something: %m");
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        ck_assert_int_ge(pread(fd, text, 4095, 0), 0);
        close(fd);
        rm_rf(dir);
        return text;
}

START_TEST(test_journal_lines_carry_their_priority) {
        _cleanup_free_ char *err = logged("yes", true, LOG_LEVEL_ERR), *warn = logged("yes", true, LOG_LEVEL_WARNING);

        ck_assert_str_eq(err, "<3>something: No such file or directory\n"); /* no timestamp, no name: journald adds them */
        ck_assert_str_eq(warn, "<4>something: No such file or directory\n");
}
END_TEST

START_TEST(test_elsewhere_name_and_timestamp) {
        _cleanup_free_ char *plain = logged(NULL, false, LOG_LEVEL_ERR), *stamped = logged(NULL, true, LOG_LEVEL_NOTICE);
        regex_t re;

        ck_assert_str_eq(plain, "test-log: something: No such file or directory\n");
        ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{4} "
                                      "test-log: something: No such file or directory\n$", REG_EXTENDED | REG_NOSUB), 0);
        ck_assert_msg(regexec(&re, stamped, 0, NULL, 0) == 0, "no timestamp in '%s'", stamped);
        regfree(&re);
}
END_TEST

START_TEST(test_a_stream_that_is_not_stderr_is_not_the_journal) {
        _cleanup_free_ char *text = NULL;

        setenv("JOURNAL_STREAM", "1:1", 1); /* inherited by a child whose stderr goes elsewhere */
        text = logged(NULL, false, LOG_LEVEL_ERR);
        ck_assert_str_eq(text, "test-log: something: No such file or directory\n");
}
END_TEST

START_TEST(test_level_names) {
        ck_assert_int_eq(log_level_from_string("err"), LOG_LEVEL_ERR);
        ck_assert_int_eq(log_level_from_string("error"), LOG_LEVEL_ERR);
        ck_assert_int_eq(log_level_from_string("warning"), LOG_LEVEL_WARNING);
        ck_assert_int_eq(log_level_from_string("notice"), LOG_LEVEL_NOTICE);
        ck_assert_int_eq(log_level_from_string("info"), LOG_LEVEL_INFO);
        ck_assert_int_eq(log_level_from_string("debug"), LOG_LEVEL_DEBUG);
        ck_assert_int_eq(log_level_from_string("7"), LOG_LEVEL_DEBUG);
        ck_assert_int_eq(log_level_from_string("8"), -EINVAL);
        ck_assert_int_eq(log_level_from_string("verbose"), -EINVAL);
        ck_assert_int_eq(log_level_from_string(""), -EINVAL);

        setenv("CTRCERT_LOG_LEVEL", "warning", 1);
        log_setup("test-log");
        ck_assert_int_eq(log_get_max_level(), LOG_LEVEL_WARNING);
        unsetenv("CTRCERT_LOG_LEVEL");
}
END_TEST

static Suite *log_suite(void) {
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_journal_lines_carry_their_priority);
        tcase_add_test(tc, test_elsewhere_name_and_timestamp);
        tcase_add_test(tc, test_a_stream_that_is_not_stderr_is_not_the_journal);
        tcase_add_test(tc, test_level_names);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(log_suite)

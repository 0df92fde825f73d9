/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "fileio.h"
#include "unit.h"

#include <dirent.h>

static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

START_TEST(test_atomic_write_mode_and_content) {
        _cleanup_free_ char *dir = unit_tmpdir(), *p = path_join(dir, "key.pem"), *buf = NULL;
        struct stat st;
        size_t len;

        ck_assert_int_eq(write_file_atomic(p, "secret\n", 7, 0600), 0);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        ck_assert_int_eq(read_file_full(p, 1024, &buf, &len), 0);
        ck_assert_str_eq(buf, "secret\n");
        ck_assert_uint_eq(len, 7);
        free(TAKE_PTR(buf));

        /* A replacement takes the new mode and content, and leaves no temp file behind. */
        ck_assert_int_eq(write_file_atomic(p, "new", 3, 0644), 0);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0644);
        ck_assert_int_eq(read_file_full(p, 1024, &buf, NULL), 0);
        ck_assert_str_eq(buf, "new");
        ck_assert_int_eq(count_entries(dir), 1);
        rm_rf(dir);
}
END_TEST

START_TEST(test_read_bounded) {
        _cleanup_free_ char *dir = unit_tmpdir(), *p = path_join(dir, "big"), *buf = NULL;
        char data[10000];

        memset(data, 'x', sizeof(data));
        ck_assert_int_eq(write_file_atomic(p, data, sizeof(data), 0644), 0);
        ck_assert_int_eq(read_file_full(p, 4096, &buf, NULL), -EFBIG);
        ck_assert_ptr_null(buf);
        ck_assert_int_eq(read_file_full(p, 10000, &buf, NULL), 0);
        ck_assert_int_eq(read_file_full("/nonexistent/x", 10, &buf, NULL), -ENOENT);
        rm_rf(dir);
}
END_TEST

START_TEST(test_private_file) {
        _cleanup_free_ char *dir = unit_tmpdir(), *p = path_join(dir, "k");

        ck_assert_int_eq(write_file_atomic(p, "k", 1, 0600), 0);
        ck_assert_int_eq(check_private_file(p), 0);
        ck_assert_int_eq(chmod(p, 0640), 0);
        ck_assert_int_eq(check_private_file(p), -EPERM);
        ck_assert_int_eq(chmod(p, 0604), 0);
        ck_assert_int_eq(check_private_file(p), -EPERM);
        rm_rf(dir);
}
END_TEST

START_TEST(test_mkdir_parents_and_join) {
        _cleanup_free_ char *dir = unit_tmpdir(), *p = path_join(dir, "a/b/c"), *j = path_join("/x/", "y");
        struct stat st;

        ck_assert_int_eq(mkdir_parents(p, 0700), 0);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(mkdir_parents(p, 0700), 0); /* existing is fine */
        ck_assert_str_eq(j, "/x/y");
        rm_rf(dir);
}
END_TEST

static Suite *fileio_suite(void) {
        Suite *s = suite_create("fileio");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_atomic_write_mode_and_content);
        tcase_add_test(tc, test_read_bounded);
        tcase_add_test(tc, test_private_file);
        tcase_add_test(tc, test_mkdir_parents_and_join);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(fileio_suite)

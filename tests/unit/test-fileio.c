/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "fileio.h"
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

/* Expects path_check_trusted() to refuse path, naming culprit and saying what. */
static void untrusted(const char *path, mode_t type, const char *culprit, const char *what) {
        _cleanup_free_ char *why = NULL, *expect = NULL;

        ck_assert_int_eq(path_check_trusted(path, type, &why), -EPERM);
        ck_assert_ptr_nonnull(why);
        ck_assert_int_ge(asprintf(&expect, "%s is %s", culprit, what), 0);
        ck_assert_msg(strstr(why, expect), "'%s' does not say '%s'", why, expect);
}

static void trusted(const char *path, mode_t type) {
        _cleanup_free_ char *why = NULL;

        ck_assert_msg(path_check_trusted(path, type, &why) == 0, "%s: %s", path, why ? why : "?");
}

/* A FIFO where a file is expected is refused at once: opening it used to wait for a writer forever. */
START_TEST(test_read_refuses_non_regular) {
        _cleanup_free_ char *dir = unit_tmpdir(), *fifo = path_join(dir, "fifo"), *buf = NULL;

        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_int_eq(read_file_full(fifo, 1024, &buf, NULL), -EBADFD);
        ck_assert_ptr_null(buf);
        ck_assert_int_eq(read_file_full(dir, 1024, &buf, NULL), -EISDIR);
        ck_assert_int_eq(read_file_full("/dev/null", 1024, &buf, NULL), -EBADFD);
        ck_assert_str_eq(read_error_str(-EBADFD), "not a regular file (a FIFO, device or socket)");
        rm_rf(dir);
}
END_TEST

/* Tests run as root (chown); the tree lives in mkdtemp's 0700 directory under the sticky /tmp. */
START_TEST(test_trusted_paths) {
        _cleanup_free_ char *dir = unit_tmpdir(), *sub = path_join(dir, "etc"), *f = path_join(sub, "c.yaml"),
                            *link = path_join(sub, "l.yaml"), *pub = path_join(dir, "pub"),
                            *pubf = path_join(pub, "x.yaml"), *fifo = path_join(sub, "fifo"),
                            *sticky = path_join(dir, "sticky"), *in_sticky = path_join(sticky, "c.yaml"),
                            *nobody_link = path_join(sub, "n.yaml");

        if (getuid() != 0)
                return;
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        ck_assert_int_eq(write_file_atomic(f, "a: 1\n", 5, 0644), 0);
        trusted(f, S_IFREG);
        trusted(sub, S_IFDIR);
        untrusted(f, S_IFDIR, f, "not a directory");

        /* the file, then a directory above it, group- or other-writable */
        ck_assert_int_eq(chmod(f, 0664), 0);
        untrusted(f, S_IFREG, f, "writable by group or others");
        ck_assert_int_eq(chmod(f, 0644), 0);
        ck_assert_int_eq(chmod(sub, 0757), 0);
        untrusted(f, S_IFREG, sub, "writable by group or others");
        untrusted(sub, S_IFDIR, sub, "writable by group or others");
        ck_assert_int_eq(chmod(sub, 0755), 0);
        ck_assert_int_eq(chown(f, 65534, 65534), 0);
        untrusted(f, S_IFREG, f, "owned by uid 65534");
        ck_assert_int_eq(chown(f, 0, 0), 0);

        /* a link is followed: the target and the directories above it count too */
        ck_assert_int_eq(mkdir(pub, 0777), 0);
        ck_assert_int_eq(chmod(pub, 0777), 0);
        ck_assert_int_eq(write_file_atomic(pubf, "a: 1\n", 5, 0644), 0);
        ck_assert_int_eq(symlink(pubf, link), 0);
        untrusted(link, S_IFREG, pub, "writable by group or others");
        ck_assert_int_eq(chmod(pub, 0755), 0);
        trusted(link, S_IFREG);
        ck_assert_int_eq(symlink("c.yaml", nobody_link), 0);
        trusted(nobody_link, S_IFREG);
        ck_assert_int_eq(lchown(nobody_link, 65534, 65534), 0);
        untrusted(nobody_link, S_IFREG, nobody_link, "owned by uid 65534");

        /* a FIFO where a file is expected */
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        untrusted(fifo, S_IFREG, fifo, "not a regular file");

        /* a sticky root directory may be writable by all above the file (/tmp), never as the file's own */
        ck_assert_int_eq(mkdir(sticky, 0755), 0);
        ck_assert_int_eq(chmod(sticky, 01777), 0);
        ck_assert_int_eq(write_file_atomic(in_sticky, "a: 1\n", 5, 0644), 0);
        trusted(in_sticky, S_IFREG);
        untrusted(sticky, S_IFDIR, sticky, "writable by group or others");
        ck_assert_int_eq(chown(sticky, 65534, 65534), 0);
        untrusted(in_sticky, S_IFREG, sticky, "owned by uid 65534");
        ck_assert_int_eq(path_check_trusted("/nonexistent/x", S_IFREG, &(char *) { NULL }), -ENOENT);
        rm_rf(dir);
}
END_TEST

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
        tcase_add_test(tc, test_trusted_paths);
        tcase_add_test(tc, test_read_refuses_non_regular);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(fileio_suite)

/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "safedir.h"
#include "unit.h"

/*
 * Directories under /tmp (world-writable) are "not root's alone", as a
 * service account's directory is: no symlink below them is followed.
 */

static void join(char *buf, size_t size, const char *a, const char *b) {
        snprintf(buf, size, "%s/%s", a, b);
}

/* Writing text to p leaves a regular file there, whatever stood at p before. */
static void write_replaces(const char *p, const char *text, mode_t mode) {
        struct stat st;

        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), mode), 0);
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
}

START_TEST(test_planted_dir_link_is_not_followed) {
        _cleanup_free_ char *dir = unit_tmpdir(), *buf = NULL;
        char victim[512], link[512], through[512];

        join(victim, sizeof(victim), dir, "victim");
        join(link, sizeof(link), dir, "sub");
        join(through, sizeof(through), dir, "sub/file");
        ck_assert_int_eq(mkdir(victim, 0755), 0);
        ck_assert_int_eq(symlink(victim, link), 0);

        ck_assert_int_eq(write_file_atomic(through, "x", 1, 0644), -ELOOP);
        ck_assert_int_eq(access(victim, F_OK), 0);
        join(victim, sizeof(victim), dir, "victim/file");
        ck_assert_int_eq(access(victim, F_OK), -1);
        ck_assert_int_eq(read_file_safe(through, 1024, &buf, NULL), -ELOOP);
        join(through, sizeof(through), dir, "sub/new/dir");
        ck_assert_int_eq(mkdir_parents(through, 0700), -ELOOP);
        rm_rf(dir);
}
END_TEST

/* What a directory's owner may plant at the path: reading refuses it without opening it, writing replaces it. */
static int plant_fifo(const char *p, const char *target) {
        return mkfifo(p, 0644);
}

static int plant_link(const char *p, const char *target) {
        return symlink(target, p);
}

static const struct {
        int (*plant)(const char *p, const char *target);
        int read_error;
} planted[] = {
        { plant_fifo, -EBADFD }, /* opened without a writer, it would block for good */
        { plant_link, -ELOOP },
};

START_TEST(test_planted_file_is_replaced_not_opened) {
        _cleanup_free_ char *dir = unit_tmpdir(), *buf = NULL;
        char target[512], p[512];

        join(target, sizeof(target), dir, "target");
        join(p, sizeof(p), dir, "crl.pem");
        write_text(target, "root's\n");
        ck_assert_int_eq(planted[_i].plant(p, target), 0);
        ck_assert_int_eq(read_file_safe(p, 1024, &buf, NULL), planted[_i].read_error);
        write_replaces(p, "new", 0644);
        ck_assert_int_eq(read_file_safe(p, 1024, &buf, NULL), 0);
        ck_assert_str_eq(buf, "new");
        free(TAKE_PTR(buf));
        ck_assert_int_eq(read_file_full(target, 1024, &buf, NULL), 0);
        ck_assert_str_eq(buf, "root's\n");
        rm_rf(dir);
}
END_TEST

START_TEST(test_directory_at_path_fails) {
        _cleanup_free_ char *dir = unit_tmpdir(), *buf = NULL;
        char p[512];

        join(p, sizeof(p), dir, "d");
        ck_assert_int_eq(mkdir(p, 0755), 0);
        ck_assert_int_eq(read_file_safe(p, 1024, &buf, NULL), -EISDIR);
        ck_assert_int_lt(write_file_atomic(p, "x", 1, 0644), 0);
        ck_assert_int_eq(write_file_atomic("relative/x", "x", 1, 0644), -EINVAL);
        ck_assert_int_eq(write_file_atomic("/", "x", 1, 0644), -EISDIR);
        rm_rf(dir);
}
END_TEST

/* A link only root could have made (in a chain of root-owned, root-only directories) is followed. */
START_TEST(test_root_link_is_followed) {
        char base[300], real[400], link[400], p[480];
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;

        /*
         * A chain of directories only root can write: /run (root's, 0755) rather than the build
         * tree, which may lie below a sticky /tmp (a CI clone does) where links are refused.
         */
        snprintf(base, sizeof(base), "/run/ctrcert-safedir-test.XXXXXX");
        if (!mkdtemp(base))
                return; /* no /run to write: nothing to show */
        if (geteuid() != 0 || safedir_open(base, false, 0, &fd) < 0 || chmod(base, 0755) < 0) {
                rm_rf(base);
                return; /* not a root-only chain of directories here: nothing to show */
        }
        join(real, sizeof(real), base, "real");
        join(link, sizeof(link), base, "link");
        ck_assert_int_eq(mkdir(real, 0755), 0);
        ck_assert_int_eq(symlink("real", link), 0);
        join(p, sizeof(p), base, "link/f");
        ck_assert_int_eq(write_file_atomic(p, "ok", 2, 0644), 0);
        ck_assert_int_eq(read_file_safe(p, 1024, &buf, NULL), 0);
        ck_assert_str_eq(buf, "ok");
        join(p, sizeof(p), base, "link/a/b");
        ck_assert_int_eq(mkdir_parents(p, 0700), 0);
        join(p, sizeof(p), base, "real/a/b");
        ck_assert_int_eq(access(p, F_OK), 0);

        /* Once root's directory is writable by others, the same link is no longer followed. */
        ck_assert_int_eq(chmod(base, 0777), 0);
        join(p, sizeof(p), base, "link/g");
        ck_assert_int_eq(write_file_atomic(p, "no", 2, 0644), -ELOOP);
        rm_rf(base);
}
END_TEST

static Suite *safedir_suite(void) {
        Suite *s = suite_create("safedir");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_planted_dir_link_is_not_followed);
        tcase_add_loop_test(tc, test_planted_file_is_replaced_not_opened, 0, (int) ELEMENTSOF(planted));
        tcase_add_test(tc, test_directory_at_path_fails);
        tcase_add_test(tc, test_root_link_is_followed);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(safedir_suite)

/* SPDX-License-Identifier: MIT */
#include "tar.h"
#include "unit.h"

/* The archive is checked by GNU tar, not by the code that wrote it. */
static char *dir;

static void setup(void) {
        dir = unit_tmpdir();
}

static void teardown(void) {
        rm_rf(dir);
        free(dir);
}

static void write_archive(const struct tar *t, const char *path) {
        FILE *f = fopen(path, "w");

        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(t->data, 1, t->len, f), t->len);
        ck_assert_int_eq(fclose(f), 0);
}

static int sh(const char *fmt, ...) {
        char cmd[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        return system(cmd);
}

START_TEST(test_extracts_with_mode_and_owner) {
        struct tar t = {};
        char archive[512];
        const char *pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

        ck_assert_int_eq(tar_add_file(&t, "/etc/pki/web.crt", pem, strlen(pem), 0644, 42, 43, "", ""), 0);
        ck_assert_int_eq(tar_add_file(&t, "/etc/pki/private/web.key", "KEY\n", 4, 0600, 0, 0, "", ""), 0);
        ck_assert_int_eq(tar_finish(&t), 0);
        ck_assert_uint_eq(t.len % 512, 0);
        snprintf(archive, sizeof(archive), "%s/a.tar", dir);
        write_archive(&t, archive);
        tar_done(&t);
        /* tar -t lists what it reads (and fails on a bad checksum). */
        ck_assert_int_eq(sh("tar -tvf %s | grep -q '^-rw-r--r-- 42/43 .* etc/pki/web.crt$'", archive), 0);
        ck_assert_int_eq(sh("tar -tvf %s | grep -q '^-rw------- 0/0 .* etc/pki/private/web.key$'", archive), 0);
        ck_assert_int_eq(sh("mkdir -p %s/x/etc/pki/private && tar -xpf %s -C %s/x --same-owner", dir, archive, dir), 0);
        ck_assert_int_eq(sh("cmp -s %s/x/etc/pki/private/web.key - <<'E'\nKEY\nE", dir), 0);
        ck_assert_int_eq(sh("test \"$(stat -c '%%a %%u:%%g' %s/x/etc/pki/web.crt)\" = '644 42:43'", dir), 0);
}
END_TEST

START_TEST(test_names_and_long_paths) {
        struct tar t = {};
        char archive[512], longpath[400];

        /* Longer than the 100-byte name field: split into prefix/name. */
        snprintf(longpath, sizeof(longpath), "/%0120d/cert.pem", 0);
        ck_assert_int_eq(tar_add_file(&t, longpath, "x", 1, 0640, 0, 0, "root", "root"), 0);
        ck_assert_int_eq(tar_add_file(&t, "/", "x", 1, 0640, 0, 0, "", ""), -EINVAL);
        snprintf(longpath, sizeof(longpath), "/%0300d", 0); /* one component, too long */
        ck_assert_int_eq(tar_add_file(&t, longpath, "x", 1, 0640, 0, 0, "", ""), -ENAMETOOLONG);
        ck_assert_int_eq(tar_finish(&t), 0);
        snprintf(archive, sizeof(archive), "%s/b.tar", dir);
        write_archive(&t, archive);
        tar_done(&t);
        ck_assert_int_eq(sh("tar -tvf %s | grep -q 'root/root .*/cert.pem$'", archive), 0);
        ck_assert_int_eq(sh("test \"$(tar -tf %s | wc -l)\" = 1", archive), 0);
}
END_TEST

/* Names as the container's passwd and group have them; GNU tar reads the ids back (--numeric-owner). */
START_TEST(test_owner_names_mapped) {
        const char *passwd = "root:x:0:0::/root:/bin/sh\nsvc:x:4321:4321::/:/bin/sh\nsvc2:x:77:77::/:/bin/sh\n";
        const char *group = "root:x:0:\nsvcg:x:4322:\n";
        struct tar t = {};
        char archive[512];

        ck_assert_int_eq(tar_add_file(&t, "/a", "x", 1, 0640, 0, 0, "", ""), 0);
        ck_assert(!tar_has_names(&t));
        ck_assert_int_eq(tar_add_file(&t, "/b", "x", 1, 0640, 0, 0, "svc", "svcg"), 0);
        ck_assert_int_eq(tar_add_file(&t, "/c", "x", 1, 0640, 9, 9, "nobody-here", ""), 0);
        ck_assert_int_eq(tar_add_file(&t, "/d", "x", 1, 0640, 0, 5, "svc", ""), 0);
        ck_assert_int_eq(tar_finish(&t), 0);
        ck_assert(tar_has_names(&t));
        ck_assert_int_eq(tar_map_owners(&t, passwd, group), 0);
        snprintf(archive, sizeof(archive), "%s/m.tar", dir);
        write_archive(&t, archive);
        tar_done(&t);
        ck_assert_int_eq(sh("tar --numeric-owner -tvf %s | grep -q ' 0/0 .* a$'", archive), 0);
        ck_assert_int_eq(sh("tar --numeric-owner -tvf %s | grep -q ' 4321/4322 .* b$'", archive), 0);
        ck_assert_int_eq(sh("tar --numeric-owner -tvf %s | grep -q ' 9/9 .* c$'", archive), 0);
        /* "svc2" must not be taken for "svc", nor "svc" for a prefix of it */
        ck_assert_int_eq(sh("tar --numeric-owner -tvf %s | grep -q ' 4321/5 .* d$'", archive), 0);
}
END_TEST

/* The container writes its passwd and group: malformed lines are skipped, an id too large is refused. */
START_TEST(test_owner_names_hostile) {
        struct tar t = {};
        char archive[512];

        ck_assert_int_eq(tar_add_file(&t, "/a", "x", 1, 0640, 7, 7, "svc", "grp"), 0);
        ck_assert_int_eq(tar_finish(&t), 0);
        ck_assert_int_eq(tar_map_owners(&t, "svc\nsvc:x\nsvc:x:abc:1\n\n:x:5:5\n", "grp:x:-1:\ngrp"), 0);
        snprintf(archive, sizeof(archive), "%s/h.tar", dir);
        write_archive(&t, archive);
        ck_assert_int_eq(sh("tar --numeric-owner -tvf %s | grep -q ' 7/7 .* a$'", archive), 0);
        ck_assert_int_eq(tar_map_owners(&t, "svc:x:99999999999:1\n", ""), -ERANGE);
        tar_done(&t);
}
END_TEST

START_TEST(test_first_file) {
        struct tar t = {};
        const char *got;
        size_t n;

        ck_assert_int_eq(tar_first_file("", 0, &got, &n), -EBADMSG);
        ck_assert_int_eq(tar_add_file(&t, "/etc/passwd", "root:x:0:0\n", 11, 0644, 0, 0, "", ""), 0);
        ck_assert_int_eq(tar_finish(&t), 0);
        ck_assert_int_eq(tar_first_file(t.data, t.len, &got, &n), 0);
        ck_assert_uint_eq(n, 11);
        ck_assert_int_eq(memcmp(got, "root:x:0:0\n", 11), 0);
        /* a size past the end of what arrived is refused, not read */
        ck_assert_int_eq(tar_first_file(t.data, 600, &got, &n), 0);
        memcpy(t.data + 124, "77777777777", 11);
        ck_assert_int_eq(tar_first_file(t.data, t.len, &got, &n), -EBADMSG);
        tar_done(&t);
}
END_TEST

static Suite *tar_suite(void) {
        Suite *s = suite_create("tar");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_extracts_with_mode_and_owner);
        tcase_add_test(tc, test_names_and_long_paths);
        tcase_add_test(tc, test_owner_names_mapped);
        tcase_add_test(tc, test_first_file);
        tcase_add_test(tc, test_owner_names_hostile);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(tar_suite)

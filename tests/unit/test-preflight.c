/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "crypto.h"
#include "preflight.h"
#include "unit.h"

/* Material made with the openssl tool, independent of the code under test. */
static char *dir;
static char crt[256], key[256], other_key[256], other_crt[256];
static struct manifest *m;

/* Makes a self-signed EC leaf NAME.crt/NAME.key for dns NAME.example in dir. */
static void make_leaf(const char *name, const char *dns) {
        _cleanup_free_ char *cmd = NULL;

        ck_assert_int_ge(asprintf(&cmd,
                                  "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
                                  "-subj /CN=%s -addext subjectAltName=DNS:%s -keyout %s.key -out %s.crt 2>/dev/null",
                                  dir, dns, dns, name, name), 0);
        ck_assert_int_eq(system(cmd), 0);
}

static void copy(const char *from, const char *to) {
        _cleanup_free_ char *cmd = NULL;

        ck_assert_int_ge(asprintf(&cmd, "cp '%s' '%s'", from, to), 0);
        ck_assert_int_eq(system(cmd), 0);
}

static void setup(void) {
        char text[1024];
        struct diag_list d = {};

        dir = unit_tmpdir();
        make_leaf("a", "a.example");
        make_leaf("b", "evil.example");
        snprintf(crt, sizeof(crt), "%s/a.crt", dir);
        snprintf(key, sizeof(key), "%s/a.key", dir);
        snprintf(other_crt, sizeof(other_crt), "%s/b.crt", dir);
        snprintf(other_key, sizeof(other_key), "%s/b.key", dir);
        snprintf(text, sizeof(text), "version: 1\ncertificates:\n  - {id: a, cert: %s, key: %s, names: {dns: [a.example]}}\n",
                 crt, key);
        ck_assert_int_eq(manifest_load_buffer("m.yaml", text, strlen(text), &m, &d), 0);
        diag_list_clear(&d);
}

static void teardown(void) {
        manifest_free(m);
        rm_rf(dir);
        free(dir);
}

static int check(const struct mf_cert *c, const char *bundle, time_t now, char *reason) {
        return preflight_check(c, bundle, now, reason, 512);
}

START_TEST(test_fit) {
        char reason[512] = "";

        ck_assert_int_eq(check(&m->certs[0], "", time(NULL), reason), 0);
        ck_assert_int_eq(check(&m->certs[0], crt, time(NULL), reason), 0); /* it is its own anchor here */
}
END_TEST

START_TEST(test_key_mismatch) {
        char reason[512] = "";

        copy(other_key, key);
        ck_assert_int_eq(check(&m->certs[0], "", time(NULL), reason), -EKEYREJECTED);
        ck_assert(strstr(reason, "does not match its key"));
}
END_TEST

START_TEST(test_not_valid_now) {
        char reason[512] = "";

        ck_assert_int_eq(check(&m->certs[0], "", time(NULL) + 60 * 86400, reason), -EKEYEXPIRED);
        ck_assert(strstr(reason, "expired"));
        ck_assert_int_eq(check(&m->certs[0], "", time(NULL) - 86400, reason), -EKEYEXPIRED);
        ck_assert(strstr(reason, "not yet valid"));
}
END_TEST

START_TEST(test_wrong_chain) {
        char reason[512] = "";

        ck_assert_int_eq(check(&m->certs[0], other_crt, time(NULL), reason), -EBADMSG);
        ck_assert(strstr(reason, "does not chain to"));
}
END_TEST

START_TEST(test_undeclared_names) {
        char reason[512] = "";

        copy(other_crt, crt);
        copy(other_key, key);
        ck_assert_int_eq(check(&m->certs[0], "", time(NULL), reason), -EPERM);
        ck_assert(strstr(reason, "names not declared for id 'a'"));
}
END_TEST

START_TEST(test_unreadable) {
        char reason[512] = "";

        write_text(crt, "garbage\n");
        ck_assert_int_eq(check(&m->certs[0], "", time(NULL), reason), -EBADMSG);
        ck_assert(strstr(reason, "not a PEM certificate"));
        ck_assert_int_eq(unlink(crt), 0);
        ck_assert_int_eq(check(&m->certs[0], "", time(NULL), reason), -ENOENT);
}
END_TEST

static Suite *preflight_suite(void) {
        Suite *s = suite_create("preflight");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_fit);
        tcase_add_test(tc, test_key_mismatch);
        tcase_add_test(tc, test_not_valid_now);
        tcase_add_test(tc, test_wrong_chain);
        tcase_add_test(tc, test_undeclared_names);
        tcase_add_test(tc, test_unreadable);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(preflight_suite)

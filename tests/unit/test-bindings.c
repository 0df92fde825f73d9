/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bindings.h"
#include "unit.h"

static struct bindings *make(const char *text) {
        struct diag_list d = {};
        struct manifest *m = NULL;
        struct bindings *b = NULL;

        ck_assert_int_eq(manifest_load_buffer("m.yaml", text, strlen(text), &m, &d), 0);
        ck_assert_int_eq(bindings_new(m, &b), 0);
        diag_list_clear(&d);
        return b;
}

START_TEST(test_lookup) {
        _cleanup_(bindings_unrefp) struct bindings *b = make(
                "version: 1\ncertificates:\n"
                "  - {id: a, cert: /etc/pki/a.crt, key: /etc/pki/a.key, names: {dns: [a.example]}, containers: [{name: x}, {name: y}]}\n"
                "  - {id: b, cert: /etc/pki/b.crt, key: /etc/pki/b.key, names: {dns: [b.example]}, containers: [{name: z}]}\n");

        ck_assert_str_eq(bindings_lookup(b, "/etc/pki/a.crt")->id, "a");
        ck_assert_str_eq(bindings_lookup(b, "/etc/pki/b.crt")->id, "b");
        ck_assert_ptr_null(bindings_lookup(b, "/etc/pki/a.key")); /* keys are not what certmonger reports */
        ck_assert_ptr_null(bindings_lookup(b, "/etc/pki/c.crt"));
        ck_assert_uint_eq(bindings_count(b), 3);
}
END_TEST

/* certmonger may report the path another way than the manifest spells it: links and dots resolve. */
START_TEST(test_resolved_paths) {
        _cleanup_free_ char *dir = unit_tmpdir(), *real = NULL, *link = NULL, *text = NULL, *dotted = NULL;
        _cleanup_(bindings_unrefp) struct bindings *b = NULL;

        ck_assert_int_ge(asprintf(&real, "%s/real.crt", dir), 0);
        ck_assert_int_ge(asprintf(&link, "%s/link.crt", dir), 0);
        ck_assert_int_ge(asprintf(&dotted, "%s/./sub/../real.crt", dir), 0);
        write_text(real, "x");
        ck_assert_int_eq(symlink(real, link), 0);
        ck_assert_int_ge(asprintf(&text, "version: 1\ncertificates:\n  - {id: l, cert: %s, key: /k, names: {dns: [l.example]}}\n",
                                  link), 0);
        b = make(text);
        ck_assert_str_eq(bindings_lookup(b, link)->id, "l");
        ck_assert_str_eq(bindings_lookup(b, real)->id, "l"); /* the manifest names the link, certmonger the target */
        {
                _cleanup_free_ char *sub = NULL;
                ck_assert_int_ge(asprintf(&sub, "%s/sub", dir), 0);
                ck_assert_int_eq(mkdir(sub, 0700), 0);
        }
        ck_assert_str_eq(bindings_lookup(b, dotted)->id, "l");
        rm_rf(dir);
}
END_TEST

/* 10,000 certificates: built and looked up without a linear scan (a generous bound, not a benchmark). */
START_TEST(test_many) {
        size_t n = 10000, len = 0, cap = n * 128;
        _cleanup_free_ char *text = malloc(cap);
        _cleanup_(bindings_unrefp) struct bindings *b = NULL;
        char path[64];

        len += (size_t) snprintf(text + len, cap - len, "version: 1\ncertificates:\n");
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(text + len, cap - len,
                                         "  - {id: c%zu, cert: /c/%zu.crt, key: /k/%zu.key, names: {dns: [h%zu.example]}, containers: [{name: n%zu}]}\n",
                                         i, i, i, i, i);
        b = make(text);
        ck_assert_uint_eq(bindings_count(b), n);
        for (size_t i = 0; i < n; i += 97) {
                snprintf(path, sizeof(path), "/c/%zu.crt", i);
                ck_assert_ptr_nonnull(bindings_lookup(b, path));
        }
}
END_TEST

START_TEST(test_refcount) {
        struct bindings *b = make("version: 1\ncertificates: []\n");

        ck_assert_ptr_eq(bindings_ref(b), b);
        ck_assert_ptr_null(bindings_unref(b)); /* still referenced: not freed */
        ck_assert_ptr_null(bindings_lookup(b, "/x"));
        bindings_unref(b);
}
END_TEST

static Suite *bindings_suite(void) {
        Suite *s = suite_create("bindings");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_lookup);
        tcase_add_test(tc, test_resolved_paths);
        tcase_add_test(tc, test_many);
        tcase_add_test(tc, test_refcount);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(bindings_suite)

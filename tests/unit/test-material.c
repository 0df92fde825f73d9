/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "fileio.h"
#include "material.h"
#include "unit.h"

/* A root → intermediate → leaf chain made with the openssl tool, independent of the code under test. */
static char *dir;
static struct manifest *m;

static void sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *name) {
        _cleanup_free_ char *path = NULL;
        char *text = NULL;

        ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
        ck_assert_int_eq(read_file_full(path, 1 << 20, &text, NULL), 0);
        return text;
}

static void load_manifest(const char *bundle_extra) {
        char text[2048];
        struct diag_list d = {};

        snprintf(text, sizeof(text),
                 "version: 1\ncertificates:\n  - id: web\n    cert: %s/leaf.crt\n    key: %s/leaf.key\n"
                 "    names: {dns: [web.example]}\n    bundle: {path: %s/out/web.pem, parts: [cert, chain, key, root]%s}\n",
                 dir, dir, dir, bundle_extra);
        manifest_free(m);
        m = NULL;
        ck_assert_int_eq(manifest_load_buffer("m.yaml", text, strlen(text), &m, &d), 0);
        diag_list_clear(&d);
}

static void setup(void) {
        dir = unit_tmpdir();
        sh("cd %s && mkdir out && "
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=Root "
           "-addext basicConstraints=critical,CA:TRUE -keyout root.key -out root.crt 2>/dev/null && "
           "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=Issuing -keyout int.key "
           "-out int.csr 2>/dev/null && "
           "printf 'basicConstraints=critical,CA:TRUE\\n' > ext && "
           "openssl x509 -req -in int.csr -CA root.crt -CAkey root.key -days 30 -extfile ext -out int.crt 2>/dev/null && "
           "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=web.example "
           "-keyout leaf.key -out leaf.csr 2>/dev/null && "
           "openssl x509 -req -in leaf.csr -CA int.crt -CAkey int.key -days 30 -out leaf.crt 2>/dev/null && "
           "cat int.crt root.crt > chain.pem",
           dir);
}

static void teardown(void) {
        manifest_free(m);
        m = NULL;
        rm_rf(dir);
        free(dir);
}

START_TEST(test_bundle_parts_owner_mode) {
        _cleanup_free_ char *out = NULL, *leaf = slurp("leaf.crt"), *inter = slurp("int.crt"), *key = slurp("leaf.key"),
                            *root = slurp("root.crt"), *expect = NULL, *bundle = NULL, *chain = NULL;
        char err[512] = "";
        struct stat st;

        load_manifest(", owner: \"4242:4343\", mode: \"0640\"");
        ck_assert_int_ge(asprintf(&chain, "%s/chain.pem", dir), 0);
        ck_assert_int_eq(material_write_bundle(&m->certs[0], chain, err, sizeof(err)), 0);
        ck_assert_int_ge(asprintf(&expect, "%s%s%s%s", leaf, inter, key, root), 0);
        out = slurp("out/web.pem");
        ck_assert_str_eq(out, expect);
        ck_assert_int_ge(asprintf(&bundle, "%s/out/web.pem", dir), 0);
        ck_assert_int_eq(stat(bundle, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
        ck_assert_int_eq(st.st_uid, 4242);
        ck_assert_int_eq(st.st_gid, 4343);
}
END_TEST

START_TEST(test_bundle_default_mode_and_errors) {
        _cleanup_free_ char *chain = NULL, *bundle = NULL;
        char err[512] = "";
        struct stat st;

        load_manifest("");
        ck_assert_int_ge(asprintf(&chain, "%s/chain.pem", dir), 0);
        ck_assert_int_ge(asprintf(&bundle, "%s/out/web.pem", dir), 0);
        /* chain/root need a CA bundle: a clear error, no file written. */
        ck_assert_int_eq(material_write_bundle(&m->certs[0], "", err, sizeof(err)), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "agent.ca_bundle"));
        ck_assert_int_ne(access(bundle, F_OK), 0);
        /* It holds a key: private by default. */
        ck_assert_int_eq(material_write_bundle(&m->certs[0], chain, err, sizeof(err)), 0);
        ck_assert_int_eq(stat(bundle, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        /* An owner the host does not know. */
        load_manifest(", owner: no-such-user-here");
        ck_assert_int_eq(material_write_bundle(&m->certs[0], chain, err, sizeof(err)), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err, "no-such-user-here"));
}
END_TEST

START_TEST(test_owner_parse) {
        struct owner o;

        ck_assert_int_eq(owner_parse("root", true, &o), 0);
        ck_assert_int_eq(o.uid, 0);
        ck_assert_int_eq(o.gid, 0);
        ck_assert_int_eq(owner_parse("12:34", false, &o), 0);
        ck_assert_int_eq(o.uid, 12);
        ck_assert_int_eq(o.gid, 34);
        ck_assert_str_eq(o.user, "");
        /* In a container the names are its tar's business. */
        ck_assert_int_eq(owner_parse("rabbitmq:ssl", false, &o), 0);
        ck_assert_str_eq(o.user, "rabbitmq");
        ck_assert_str_eq(o.group, "ssl");
        ck_assert_int_eq(owner_parse("no-such-user-here", true, &o), -ENOENT);
}
END_TEST

START_TEST(test_chain_and_root_parts) {
        _cleanup_free_ char *chain = NULL, *got = NULL, *inter = slurp("int.crt"), *root = slurp("root.crt");
        char err[512] = "";
        size_t len = 0;

        load_manifest("");
        ck_assert_int_ge(asprintf(&chain, "%s/chain.pem", dir), 0);
        ck_assert_int_eq(material_read(&m->certs[0], COPY_CHAIN, chain, &got, &len, err, sizeof(err)), 0);
        ck_assert_str_eq(got, inter);
        free(got);
        got = NULL;
        ck_assert_int_eq(material_read(&m->certs[0], COPY_ROOT, chain, &got, &len, err, sizeof(err)), 0);
        ck_assert_str_eq(got, root);
        free(got);
        got = NULL;
        /* A bundle that did not issue the leaf. */
        free(chain);
        ck_assert_int_ge(asprintf(&chain, "%s/root.crt", dir), 0);
        ck_assert_int_eq(material_read(&m->certs[0], COPY_CHAIN, chain, &got, &len, err, sizeof(err)), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err, "no issuer"));
}
END_TEST

/* During a CA rollover agent.ca_bundle holds both generations: the root part trusts both, the leaf's own first. */
START_TEST(test_root_part_both_generations) {
        _cleanup_free_ char *bundle = NULL, *got = NULL, *root = NULL, *other = NULL, *want = NULL;
        char err[512] = "";
        size_t len = 0;

        sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=Other "
           "-keyout other.key -out other.crt 2>/dev/null && cat other.crt chain.pem >both.pem",
           dir);
        root = slurp("root.crt");
        other = slurp("other.crt");
        load_manifest("");
        ck_assert_int_ge(asprintf(&bundle, "%s/both.pem", dir), 0);
        ck_assert_int_ge(asprintf(&want, "%s%s", root, other), 0);
        ck_assert_int_eq(material_read(&m->certs[0], COPY_ROOT, bundle, &got, &len, err, sizeof(err)), 0);
        ck_assert_str_eq(got, want);
}
END_TEST

static Suite *material_suite(void) {
        Suite *s = suite_create("material");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_bundle_parts_owner_mode);
        tcase_add_test(tc, test_bundle_default_mode_and_errors);
        tcase_add_test(tc, test_owner_parse);
        tcase_add_test(tc, test_chain_and_root_parts);
        tcase_add_test(tc, test_root_part_both_generations);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(material_suite)

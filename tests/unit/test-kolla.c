/* SPDX-License-Identifier: MIT */
#include "kolla.h"
#include "yamltree.h"
#include "unit.h"

/* TripleO's shape: the host's certificates mounted under src-tls, the whole tree copied to / at start. */
static const char tripleo[] =
        "{\n\t\"command\": \"/usr/sbin/httpd -DFOREGROUND\",\n"
        "\t\"config_files\": [\n"
        "\t\t{\"source\": \"/var/lib/kolla/config_files/src/*\", \"dest\": \"/\", \"merge\": true, \"preserve_properties\": true},\n"
        "\t\t{\"source\": \"/var/lib/kolla/config_files/src-tls/*\", \"dest\": \"/\", \"merge\": true, \"optional\": true},\n"
        "\t\t{\"source\": \"/var/lib/kolla/config_files/src-ca/ca.pem\", \"dest\": \"/etc/ipa/ca.crt\", \"owner\": \"root\"},\n"
        "\t\t{\"source\": \"/var/lib/kolla/config_files/keys\", \"dest\": \"/etc/keys\"},\n"
        "\t\t{\"source\": \"/var/lib/kolla/config_files/one/*.pem\", \"dest\": \"/etc/pems/\"},\n"
        "\t\t{\"dest\": \"/nowhere\"}\n"
        "\t],\n\t\"permissions\": [{\"path\": \"/etc/pki\", \"owner\": \"apache:apache\", \"recurse\": true}]\n}\n";

static void dest_is(const struct kolla_rule *v, size_t n, const char *path, const char *want) {
        _cleanup_free_ char *got = NULL;
        int r = kolla_dest_for(v, n, path, &got);

        if (!want) {
                ck_assert_int_eq(r, 0);
                return;
        }
        ck_assert_int_eq(r, 1);
        ck_assert_str_eq(got, want);
}

START_TEST(test_tripleo_rules) {
        struct kolla_rule *v = NULL;
        size_t n = 0;

        ck_assert_int_eq(kolla_parse(tripleo, strlen(tripleo), &v, &n), 0);
        ck_assert_uint_eq(n, 5); /* the rule without a source is not one */
        dest_is(v, n, "/var/lib/kolla/config_files/src-tls/etc/pki/tls/certs/httpd/api.crt",
                "/etc/pki/tls/certs/httpd/api.crt");
        dest_is(v, n, "/var/lib/kolla/config_files/src-ca/ca.pem", "/etc/ipa/ca.crt");
        dest_is(v, n, "/var/lib/kolla/config_files/keys/a/b.key", "/etc/keys/a/b.key");
        dest_is(v, n, "/var/lib/kolla/config_files/one/x.pem", "/etc/pems/x.pem");
        dest_is(v, n, "/var/lib/kolla/config_files/one/x.crt", NULL);
        dest_is(v, n, "/etc/pki/tls/certs/api.crt", NULL);            /* mounted at its live path: no copy */
        dest_is(v, n, "/var/lib/kolla/config_files/src-tls", NULL);   /* the directory itself */
        kolla_rules_free(v, n);
}
END_TEST

START_TEST(test_not_kolla) {
        struct kolla_rule *v = NULL;
        size_t n = 7;

        ck_assert_int_eq(kolla_parse("[1, 2]", 6, &v, &n), -EBADMSG);
        ck_assert_int_eq(kolla_parse("{\"config_files\": 3}", 19, &v, &n), -EBADMSG);
        ck_assert_int_eq(kolla_parse("{\"command\": \"x\"}", 16, &v, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(kolla_parse("{ not json", 10, &v, &n) < 0, 1);
}
END_TEST

START_TEST(test_mount_path) {
        const char mounts[] = "/etc/pki/tls/certs\t/var/lib/kolla/config_files/src-tls/etc/pki/tls/certs\n"
                              "/etc/pki/tls/certs/httpd\t/certs/\n"
                              "/srv/one.crt\t/one.crt\n"
                              "/\t/host\n";
        char *p;

        p = mounts_container_path(mounts, "/etc/pki/tls/certs/api.crt");
        ck_assert_str_eq(p, "/var/lib/kolla/config_files/src-tls/etc/pki/tls/certs/api.crt");
        free(p);
        p = mounts_container_path(mounts, "/etc/pki/tls/certs/httpd/api.crt"); /* the innermost mount wins */
        ck_assert_str_eq(p, "/certs/api.crt");
        free(p);
        p = mounts_container_path(mounts, "/srv/one.crt");
        ck_assert_str_eq(p, "/one.crt");
        free(p);
        p = mounts_container_path(mounts, "/etc/other/x.crt"); /* only through / */
        ck_assert_str_eq(p, "/host/etc/other/x.crt");
        free(p);
        ck_assert_ptr_null(mounts_container_path("/etc/pki/tls/certs2\t/x\n", "/etc/pki/tls/certs/a.crt"));
}
END_TEST

/* podman's compact JSON (no blank after ':') is read by the same parser. */
START_TEST(test_compact_json) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        const char *text = "[{\"Names\":[\"web-1\"],\"Mounts\":[{\"Source\":\"/etc/pki\",\"Destination\":\"/c\"}],"
                           "\"ExitCode\":3,\"Running\":false,\"Labels\":null,\"x\":\"a\\tb\\u00e9\\/\"}]";
        const struct ynode *first;

        ck_assert_int_eq(ydoc_parse_json("t", text, strlen(text), &doc), 0);
        ck_assert_int_eq(doc->root->kind, YNODE_SEQUENCE);
        first = doc->root->items[0];
        ck_assert_str_eq(ynode_text(ynode_get(first, "Names")->items[0]), "web-1");
        ck_assert_str_eq(ynode_text(ynode_get(ynode_get(first, "Mounts")->items[0], "Destination")), "/c");
        ck_assert_str_eq(ynode_text(ynode_get(first, "ExitCode")), "3");
        ck_assert_str_eq(ynode_text(ynode_get(first, "x")), "a\tb\xc3\xa9/");
        ck_assert_ptr_null(ynode_get(first, "nope"));
        ydoc_free(TAKE_PTR(doc));
        ck_assert_int_eq(ydoc_parse_json("t", "{\"a\":", 5, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", "", 0, &doc), -EBADMSG);
}
END_TEST

/* What an image's labels may carry, which libyaml refused: the whole list must still read. */
START_TEST(test_json_hostile_strings) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        _cleanup_free_ char *text = NULL, *key = malloc(1501), *deep = malloc(200);

        memset(key, 'k', 1500);
        key[1500] = '\0';
        ck_assert_int_ge(asprintf(&text,
                                  "[{\"Labels\":{\"a\":\"del\x7f c1\xc2\x80 nonchar\xef\xbf\xbe\",\"%s\":\"long key\","
                                  "\"z\":\"nul\\u0000 pair\\ud83d\\ude00 lone\\ud800\"},\"Names\":[\"web-1\"]}]",
                                  key),
                         0);
        ck_assert_int_eq(ydoc_parse_json("t", text, strlen(text), &doc), 0);
        ck_assert_str_eq(ynode_text(ynode_get(doc->root->items[0], "Names")->items[0]), "web-1");
        ck_assert_str_eq(ynode_text(ynode_get(ynode_get(doc->root->items[0], "Labels"), key)), "long key");
        ck_assert_str_eq(ynode_text(ynode_get(ynode_get(doc->root->items[0], "Labels"), "z")),
                         "nul\xef\xbf\xbd pair\xf0\x9f\x98\x80 lone\xef\xbf\xbd");
        ydoc_free(TAKE_PTR(doc));
        /* not JSON: a raw control character in a string, an open string, garbage after, a trailing comma, too deep */
        ck_assert_int_eq(ydoc_parse_json("t", "[\"a\nb\"]", 7, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", "[\"ab", 4, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", "{} x", 4, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", "[1,]", 4, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", "{\"a\" 1}", 7, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", "[\"\\q\"]", 6, &doc), -EBADMSG);
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        ck_assert_int_eq(ydoc_parse_json("t", deep, 200, &doc), -EBADMSG);
        ck_assert_int_eq(ydoc_parse_json("t", deep + 40, 120, &doc), 0); /* 60 deep is fine */
}
END_TEST

static Suite *kolla_suite(void) {
        Suite *s = suite_create("kolla");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_tripleo_rules);
        tcase_add_test(tc, test_not_kolla);
        tcase_add_test(tc, test_mount_path);
        tcase_add_test(tc, test_compact_json);
        tcase_add_test(tc, test_json_hostile_strings);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(kolla_suite)

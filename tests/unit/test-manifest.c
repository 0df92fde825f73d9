/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <sys/stat.h>

#include "manifest.h"
#include "strv.h"
#include "unit.h"

static const char full[] =
        "version: 1\n"
        "certificates:\n"
        "  - id: rabbitmq\n"
        "    cert: /etc/pki/tls/certs/rabbitmq.crt\n"
        "    key: /etc/pki/tls/private/rabbitmq.key\n"
        "    names: {dns: [ctrl-0.internalapi.example], ip: [172.17.1.10]}\n"
        "    usage: [server, client]\n"
        "    bundle: {path: /etc/pki/tls/private/rabbitmq.pem, parts: [cert, chain, key], owner: \"42439:42439\", mode: \"0640\"}\n"
        "    containers:\n"
        "      - name: rabbitmq-bundle-podman-0\n"
        "        runtime: podman\n"
        "        copy: [{from: cert, to: /etc/pki/tls/certs/rabbitmq.crt, owner: rabbitmq, mode: \"0644\"}]\n"
        "        action: exec\n"
        "        exec: [rabbitmqctl, eval, \"ssl:clear_pem_cache().\"]\n"
        "        verify: {tls: \"127.0.0.1:5671\", sni: ctrl-0.internalapi.example, timeout: 30s}\n"
        "  - id: haproxy\n"
        "    cert: /etc/pki/tls/certs/haproxy.crt\n"
        "    key: /etc/pki/tls/private/haproxy.key\n"
        "    names: {dns: [overcloud.example]}\n"
        "    containers:\n"
        "      - match: '^haproxy-bundle-podman-[0-9]+$'\n"
        "        action: reload\n"
        "        after: [rabbitmq-bundle-podman-0]\n"
        "      - name: httpd.service\n"
        "        runtime: systemd\n"
        "        action: reload\n"
        "        signal: USR1\n";

static int load(const char *text, struct manifest **m, struct diag_list *d) {
        return manifest_load_buffer("m.yaml", text, strlen(text), m, d);
}

START_TEST(test_full_schema) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        const struct mf_cert *c;

        ck_assert_int_eq(load(full, &m, &d), 0);
        ck_assert_uint_eq(m->n_certs, 2);
        c = manifest_find(m, "rabbitmq");
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(c->cert, "/etc/pki/tls/certs/rabbitmq.crt");
        ck_assert_str_eq(c->dns[0], "ctrl-0.internalapi.example");
        ck_assert_str_eq(c->ip[0], "172.17.1.10");
        ck_assert_uint_eq(c->usage, USAGE_SERVER | USAGE_CLIENT);
        ck_assert_ptr_nonnull(c->bundle);
        ck_assert_uint_eq(c->bundle->n_parts, 3);
        ck_assert_int_eq(c->bundle->parts[2], PART_KEY);
        ck_assert_int_eq(c->bundle->mode, 0640);
        ck_assert_str_eq(c->bundle->owner, "42439:42439");
        ck_assert_uint_eq(c->n_containers, 1);
        ck_assert_int_eq(c->containers[0].action, ACTION_EXEC);
        ck_assert_uint_eq(strv_length(c->containers[0].exec), 3);
        ck_assert_uint_eq(c->containers[0].n_copies, 1);
        ck_assert_int_eq(c->containers[0].copies[0].from, COPY_CERT);
        ck_assert_int_eq(c->containers[0].copies[0].mode, 0644);
        ck_assert_str_eq(c->containers[0].verify->tls, "127.0.0.1:5671");
        ck_assert_uint_eq(c->containers[0].verify->timeout_usec, 30000000ULL);
        ck_assert_uint_eq(c->containers[0].pos.line, 10);

        c = manifest_find(m, "haproxy");
        ck_assert_uint_eq(c->usage, USAGE_SERVER); /* the default */
        ck_assert_int_eq(c->containers[0].runtime, RUNTIME_PODMAN);
        ck_assert_int_eq(c->containers[0].signal, SIGHUP); /* reload's default */
        ck_assert_int_eq(c->containers[1].runtime, RUNTIME_SYSTEMD);
        ck_assert_int_eq(c->containers[1].signal, SIGUSR1);
        /* Two containers on one certificate: allowed, reported. */
        ck_assert(diag_has(&d, DIAG_WARNING, "m.yaml:16:5", "shared by 2 containers"));
        ck_assert_uint_eq(d.n_errors, 0);
        ck_assert_ptr_null(manifest_find(m, "nope"));
}
END_TEST

/* Each bad manifest: the error must name file:line:column, the field, and the problem. */
static const struct {
        const char *text, *where, *what;
} bad[] = {
        { "version: 2\ncertificates: []\n", "m.yaml:1:10: error: version", "unknown version 2" },
        { "certificates: []\n", "m.yaml:1:1: error: (top level)", "missing required key 'version'" },
        { "version: 1\ncertificates: []\nextra: 1\n", "m.yaml:3:1: error: extra", "unknown key 'extra'" },
        { "version: 1\ncertificates: {}\n", "m.yaml:2:15: error: certificates", "expected a sequence, got a mapping" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: relative.crt\n    key: /k\n    names: {dns: [a.example]}\n",
          "m.yaml:4:11: error: certificates[0].cert", "not an absolute path" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "  - id: a\n    cert: /c2\n    key: /k2\n    names: {dns: [b.example]}\n",
          "m.yaml:7:5: error: a", "duplicate id 'a' (first at m.yaml:3:5)" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "  - id: b\n    cert: /c\n    key: /k2\n    names: {dns: [b.example]}\n",
          "m.yaml:7:5: error: b", "cert file already used" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [bad..name]}\n",
          "m.yaml:6:19: error: certificates[0].names.dns[0]", "not a valid DNS name" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {ip: [300.1.1.1]}\n",
          "m.yaml:6:18: error: certificates[0].names.ip[0]", "not a valid IP address" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {}\n",
          "m.yaml:6:12: error: certificates[0].names", "declares no names" },
        { "version: 1\ncertificates:\n  - id: 'a b'\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n",
          "m.yaml:3:9: error: certificates[0].id", "not a valid id" },
        { "version: 1\ncertificates:\n  - cert: /c\n    key: /k\n    names: {dns: [a.example]}\n",
          "m.yaml:3:5: error: certificates[0]", "missing required key 'id'" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n    usage: [sever]\n",
          "m.yaml:7:13: error: certificates[0].usage[0]", "'sever' is not one of server|client" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        action: restrat\n",
          "m.yaml:9:17: error: certificates[0].containers[0].action", "not one of restart|reload|exec|none" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        match: y\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "exactly one of name and match" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - match: '(unclosed'\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "not a valid regular expression" },
        /* glibc's regcomp took minutes over this one (a million copies of 'a') */
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - match: '((a{100}){100}){100}'\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "match repeats too much" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - match: '(a*)*b\\1'\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "match has a back-reference" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - match: '((((((((((((((((((a))))))))))))))))))'\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "match nests groups deeper than 16" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        action: exec\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "action exec needs exec" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        signal: HUP\n",
          "m.yaml:8:9: error: certificates[0].containers[0]", "signal only applies to action reload" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        action: reload\n        signal: KILLME\n",
          "m.yaml:10:17: error: certificates[0].containers[0].signal", "not a signal" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        verify: {tls: 'localhost'}\n",
          "m.yaml:9:23: error: certificates[0].containers[0].verify.tls", "not HOST:PORT" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        verify: {timeout: 5s}\n",
          "m.yaml:9:17: error: certificates[0].containers[0].verify", "exactly one of tls and exec" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        verify: {tls: 'h:1', timeout: soon}\n",
          "certificates[0].containers[0].verify.timeout", "not a duration" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        copy: [{from: cert, to: /x, mode: '0999'}]\n",
          "certificates[0].containers[0].copy[0].mode", "not an octal file mode" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        copy: [{from: secret, to: /x}]\n",
          "certificates[0].containers[0].copy[0].from", "not one of cert|key|chain|root|bundle" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        runtime: systemd\n        copy: [{from: cert, to: /x}]\n",
          "certificates[0].containers[0]", "runtime systemd manages units" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    containers:\n      - name: x\n        after: [nobody]\n",
          "m.yaml:8:9: error: a", "after: 'nobody' is not a container" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    bundle: {path: /b, parts: [cert, cert]}\n",
          "certificates[0].bundle.parts[1]", "listed twice" },
        { "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n    names: {dns: [a.example]}\n"
          "    bundle: {path: /b, parts: [cert], owner: 'root;rm'}\n",
          "certificates[0].bundle.owner", "not an owner" },
        { "version: 1\nversion: 1\ncertificates: []\n", "m.yaml:2:1: error: version", "duplicate key (first at line 1)" },
        { "version: 1\ncertificates: [\n", "m.yaml:3:1: error", "YAML syntax" },
        { "version: &v 1\ncertificates: *v\n", "m.yaml:2:15: error", "aliases are not supported" },
        { "", "m.yaml: error", "empty manifest" },
};

START_TEST(test_errors) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct manifest *m = NULL;

        ck_assert_int_lt(load(bad[_i].text, &m, &d), 0);
        ck_assert_ptr_null(m);
        if (!diag_has(&d, DIAG_ERROR, bad[_i].where, bad[_i].what)) {
                diag_dump(&d);
                ck_abort_msg("case %d: no error '%s' at '%s'", _i, bad[_i].what, bad[_i].where);
        }
}
END_TEST

START_TEST(test_all_errors_reported) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct manifest *m = NULL;
        const char *text = "version: 1\ncertificates:\n  - id: a\n    cert: rel\n    key: rel2\n    names: {dns: [a.example]}\n    bogus: 1\n";

        ck_assert_int_lt(load(text, &m, &d), 0);
        ck_assert_uint_eq(d.n_errors, 3); /* not just the first */
}
END_TEST

/* manifest.yaml and manifest.d/ merge; ids must be unique across files. */
/* A manifest whose one container matches pattern. */
static int load_match(const char *pattern, struct diag_list *d) {
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_free_ char *text = NULL;

        ck_assert_int_ge(asprintf(&text, "version: 1\ncertificates:\n  - {id: a, cert: /c, key: /k, names: {dns: [a.x]}, "
                                         "containers: [{match: '%s'}]}\n", pattern), 0);
        return load(text, &m, d);
}

/* Realistic patterns pass the cost bound; a long one does not. */
START_TEST(test_match_bounds) {
        static const char *const fine[] = {
                "^haproxy-bundle-podman-[0-9]+$", "^(web|api)-[a-z]{1,8}-[0-9]{1,3}$", "[]a{}]{2}x", "(a{50}){50}",
                "^[[:alnum:]_.-]+$", "(a+)+b", "^(x*)?y$", "a\\++", "[+*]+", "^haproxy(-[0-9]+)?$", "((((((a+)+)+)+)+)+)",
        };
        /* stacked repetitions: glibc doubles its automaton with each (found by fuzz-manifest) */
        static const char *const stacked[] = { "^ha++proxy$", "a*{2}", "a?*", "x{2}+", "^ha+++++++++++++++++++++++++++proxy$" };
        _cleanup_(diag_list_clear) struct diag_list d = {};
        char long_one[300];

        for (size_t i = 0; i < ELEMENTSOF(fine); i++)
                if (load_match(fine[i], &d) != 0) {
                        diag_dump(&d);
                        ck_abort_msg("'%s' refused", fine[i]);
                }
        for (size_t i = 0; i < ELEMENTSOF(stacked); i++) {
                diag_list_clear(&d);
                if (load_match(stacked[i], &d) >= 0)
                        ck_abort_msg("'%s' accepted", stacked[i]);
                ck_assert(diag_has(&d, DIAG_ERROR, NULL, "match repeats a repetition"));
        }
        diag_list_clear(&d);
        ck_assert_int_lt(load_match("(((((((a+)+)+)+)+)+)+)", &d), 0);
        ck_assert(diag_has(&d, DIAG_ERROR, NULL, "match nests repetitions more than 6 deep"));
        memset(long_one, 'a', sizeof(long_one) - 1);
        long_one[sizeof(long_one) - 1] = '\0';
        ck_assert_int_lt(load_match(long_one, &d), 0);
        ck_assert(diag_has(&d, DIAG_ERROR, NULL, "match is longer than 256 characters"));
}
END_TEST

/* The helper loads the policy only: match: patterns are bounded, not compiled (the agent's business). */
START_TEST(test_policy_only_skips_regcomp) {
        _cleanup_free_ char *dir = unit_tmpdir(), *path = NULL;
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct manifest *m = NULL;
        char *paths[2] = {};

        ck_assert_int_ge(asprintf(&path, "%s/manifest.yaml", dir), 0);
        paths[0] = path;
        write_text(path, "version: 1\ncertificates:\n  - {id: a, cert: /c, key: /k, names: {dns: [a.x]}, "
                         "containers: [{match: '(unclosed'}]}\n");
        ck_assert_int_lt(manifest_load_files(paths, &m, &d), 0);
        ck_assert(diag_has(&d, DIAG_ERROR, NULL, "not a valid regular expression"));
        ck_assert_int_eq(manifest_load_files_flags(paths, MANIFEST_POLICY_ONLY, &m, &d), 0);
        ck_assert_ptr_nonnull(manifest_find(m, "a"));
        manifest_free(m);
        write_text(path, "version: 1\ncertificates:\n  - {id: a, cert: /c, key: /k, names: {dns: [a.x]}, "
                         "containers: [{match: '((a{100}){100}){100}'}]}\n");
        ck_assert_int_lt(manifest_load_files_flags(paths, MANIFEST_POLICY_ONLY, &m, &d), 0);
        rm_rf(dir);
}
END_TEST

/* One fragment past the limit fails the whole load: dropping the last ones silently changed the policy. */
START_TEST(test_too_many_fragments) {
        _cleanup_free_ char *dir = unit_tmpdir(), *main_path = NULL, *d_dir = NULL;
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct manifest *m = NULL;

        ck_assert_int_ge(asprintf(&main_path, "%s/manifest.yaml", dir), 0);
        ck_assert_int_ge(asprintf(&d_dir, "%s/manifest.d", dir), 0);
        ck_assert_int_eq(mkdir(d_dir, 0755), 0);
        for (int i = 0; i < 1025; i++) {
                _cleanup_free_ char *f = NULL, *text = NULL;

                ck_assert_int_ge(asprintf(&f, "%s/%04d.yaml", d_dir, i), 0);
                ck_assert_int_ge(asprintf(&text, "version: 1\ncertificates:\n  - {id: c%d, cert: /c%d.crt, key: /c%d.key, "
                                                 "names: {dns: [c%d.example]}}\n", i, i, i, i), 0);
                write_text(f, text);
                if (i == 1023) { /* exactly the limit loads */
                        ck_assert_int_eq(manifest_load(main_path, &m, &d), 0);
                        ck_assert_uint_eq(m->n_certs, 1024);
                        manifest_free(TAKE_PTR(m));
                }
        }
        ck_assert_int_eq(manifest_load(main_path, &m, &d), -E2BIG);
        ck_assert_ptr_null(m);
        ck_assert(diag_has(&d, DIAG_ERROR, "manifest.d", "1025 fragments, more than the 1024 allowed"));
        rm_rf(dir);
}
END_TEST

START_TEST(test_fragments_merge) {
        _cleanup_free_ char *dir = unit_tmpdir(), *main_path = NULL, *frag = NULL, *frag2 = NULL, *d_dir = NULL;
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct manifest *m = NULL;

        ck_assert_int_ge(asprintf(&main_path, "%s/manifest.yaml", dir), 0);
        ck_assert_int_ge(asprintf(&d_dir, "%s/manifest.d", dir), 0);
        ck_assert_int_ge(asprintf(&frag, "%s/manifest.d/10-web.yaml", dir), 0);
        ck_assert_int_ge(asprintf(&frag2, "%s/manifest.d/20-dup.yaml", dir), 0);
        ck_assert_int_eq(mkdir(d_dir, 0755), 0);
        write_text(main_path, "version: 1\ncertificates:\n  - {id: a, cert: /a.crt, key: /a.key, names: {dns: [a.example]}}\n");
        write_text(frag, "version: 1\ncertificates:\n  - {id: web, cert: /w.crt, key: /w.key, names: {dns: [w.example]}}\n");

        ck_assert_int_eq(manifest_load(main_path, &m, &d), 0);
        ck_assert_uint_eq(m->n_certs, 2);
        ck_assert_ptr_nonnull(manifest_find(m, "web"));
        manifest_free(TAKE_PTR(m));

        /* Fragments alone are enough (the Ansible role writes only those). */
        ck_assert_int_eq(unlink(main_path), 0);
        ck_assert_int_eq(manifest_load(main_path, &m, &d), 0);
        ck_assert_uint_eq(m->n_certs, 1);
        manifest_free(TAKE_PTR(m));

        write_text(frag2, "version: 1\ncertificates:\n  - {id: web, cert: /x.crt, key: /x.key, names: {dns: [x.example]}}\n");
        ck_assert_int_lt(manifest_load(main_path, &m, &d), 0);
        ck_assert(diag_has(&d, DIAG_ERROR, "20-dup.yaml:3:5", "duplicate id 'web' (first at"));
        ck_assert(diag_has(&d, DIAG_ERROR, NULL, "10-web.yaml:3:5)"));
        rm_rf(dir);

        ck_assert_int_eq(manifest_load("/nonexistent/manifest.yaml", &m, &d), -ENOENT);
}
END_TEST

/* Names go to a runtime's command line or to systemd: never an option, never a control character. */
static const struct {
        const char *name, *runtime;
        bool valid;
} runtime_names_cases[] = {
        { "--all", "podman", false },
        { "-l", "podman", false },
        { "", "podman", false },
        { "a\\tb", "podman", false },
        { "a\\nb", "docker", false },
        { "a/b", "podman", false },
        { "a b", "docker", false },
        { ".hidden", "podman", false },
        { "ctr-1.web_x", "podman", true },
        { "0abc", "docker", true },
        { "httpd", "systemd", false },
        { "--all.service", "systemd", true }, /* systemd's own rule; it goes over D-Bus, never a command line */
        { "foo@.service", "systemd", false },
        { "a b.service", "systemd", false },
        { "httpd.service", "systemd", true },
        { "getty@tty1.service", "systemd", true },
        { "system-x\\x2dy.slice", "systemd", true },
};

START_TEST(test_runtime_names) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_free_ char *text = NULL;
        struct manifest *m = NULL;
        int r;

        ck_assert_int_ge(asprintf(&text,
                                  "version: 1\ncertificates:\n  - id: a\n    cert: /c\n    key: /k\n"
                                  "    names: {dns: [a.example]}\n    containers:\n      - runtime: %s\n"
                                  "        name: \"%s\"\n",
                                  runtime_names_cases[_i].runtime, runtime_names_cases[_i].name),
                         0);
        r = load(text, &m, &d);
        if (runtime_names_cases[_i].valid) {
                ck_assert_int_eq(r, 0);
                manifest_free(m);
                return;
        }
        ck_assert_int_lt(r, 0);
        if (!diag_has(&d, DIAG_ERROR, "m.yaml:9:15: error: certificates[0].containers[0].name", "is not a valid")) {
                diag_dump(&d);
                ck_abort_msg("'%s' (%s) was not refused at its position", runtime_names_cases[_i].name,
                             runtime_names_cases[_i].runtime);
        }
}
END_TEST

static Suite *manifest_suite(void) {
        Suite *s = suite_create("manifest");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_full_schema);
        tcase_add_loop_test(tc, test_errors, 0, (int) ELEMENTSOF(bad));
        tcase_add_test(tc, test_all_errors_reported);
        tcase_add_test(tc, test_fragments_merge);
        tcase_add_test(tc, test_too_many_fragments);
        tcase_add_test(tc, test_match_bounds);
        tcase_add_test(tc, test_policy_only_skips_regcomp);
        tcase_add_loop_test(tc, test_runtime_names, 0, (int) ELEMENTSOF(runtime_names_cases));
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(manifest_suite)

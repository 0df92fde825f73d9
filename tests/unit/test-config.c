/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "strv.h"
#include "unit.h"

static int load(const char *text, struct config **c, struct diag_list *d) {
        return config_load_buffer("c.yaml", text, strlen(text), c, d);
}

START_TEST(test_defaults) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(config_freep) struct config *c = NULL;

        ck_assert_int_eq(load("", &c, &d), 0);
        ck_assert_str_eq(c->ca.dir, "/etc/ctrcert/ca");
        ck_assert_uint_eq(c->ca.validity_days, 365);
        ck_assert_int_eq(c->ca.policy, POLICY_STRICT);
        ck_assert_str_eq(c->state_dir, "/var/lib/ctrcert");
        ck_assert_str_eq(c->manifest, "/etc/ctrcert/manifest.yaml");
        ck_assert_uint_eq(c->agent.debounce_usec, 2000000ULL);
        ck_assert_uint_eq(c->agent.max_parallel, 4);
        ck_assert_uint_eq(c->ca.lock_timeout_usec, 10000000ULL);
        ck_assert_uint_eq(c->agent.debounce_max_usec, 60000000ULL);
        ck_assert_uint_eq(c->agent.retry_attempts, 5);
        ck_assert_uint_eq(c->agent.retry_initial_usec, 1000000ULL);
        ck_assert_uint_eq(c->agent.retry_max_usec, 60000000ULL);
        ck_assert_uint_eq(c->agent.restart_budget, 5);
        ck_assert_uint_eq(c->agent.restart_window_usec, 600000000ULL);
        ck_assert_str_eq(c->agent.metrics, "");
        ck_assert_str_eq(c->agent.podman_socket, "/run/podman/podman.sock");
        ck_assert_uint_eq(c->ca.crl_days, 7);
}
END_TEST

START_TEST(test_full) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(config_freep) struct config *c = NULL;
        const char *text = "ca:\n  dir: /srv/ca\n  validity_days: 90\n  validity_jitter: 10%\n  policy: open\n"
                           "  permitted_dns: [.example.com]\n"
                           "  permitted_ip: [172.17.0.0/16]\n  crl_url: http://ca.example.com/crl.pem\n"
                           "  default_template: web\n  lock_timeout: 1s\n"
                           "state_dir: /srv/state\nmanifest: /srv/manifest.yaml\nagent:\n  debounce: 500ms\n  max_parallel: 8\n"
                           "  ca_bundle: /srv/ca/chain.pem\n  step_timeout: 90s\n  podman: /opt/bin/podman\n  debounce_max: 30s\n"
                           "  retry_attempts: 3\n  retry_initial: 200ms\n  retry_max: 5s\n  restart_budget: 0\n"
                           "  restart_window: 1h\n  metrics: /var/lib/node_exporter/ctrcert.prom\n  podman_socket: \"\"\n"
                           "  crl_publish: [/var/www/pki/ctrcert.crl, /etc/pki/tls/crl/ctrcert.crl]\n"
                           "  windows: [\"Sat 02:00-04:00\", \"daily 03:00-03:30\"]\n  windows_for: restart\n  expiry_margin: 3d\n";

        ck_assert_int_eq(load(text, &c, &d), 0);
        ck_assert_uint_eq(c->ca.validity_jitter, 10);
        ck_assert_uint_eq(c->agent.windows.n, 2);
        ck_assert_uint_eq(c->agent.windows.v[0].start, 120);
        ck_assert_int_eq(c->agent.windows_for, WINDOWS_FOR_RESTART);
        ck_assert_uint_eq(c->agent.expiry_margin_usec, 3 * 86400 * 1000000ULL);
        ck_assert_str_eq(c->ca.dir, "/srv/ca");
        ck_assert_uint_eq(c->ca.validity_days, 90);
        ck_assert_int_eq(c->ca.policy, POLICY_OPEN);
        ck_assert_str_eq(c->ca.permitted_dns[0], ".example.com");
        ck_assert_str_eq(c->ca.permitted_ip[0], "172.17.0.0/16");
        ck_assert_str_eq(c->ca.crl_url, "http://ca.example.com/crl.pem");
        ck_assert_str_eq(c->ca.default_template, "web");
        ck_assert_uint_eq(c->ca.lock_timeout_usec, 1000000ULL);
        ck_assert_str_eq(c->state_dir, "/srv/state");
        ck_assert_uint_eq(c->agent.debounce_usec, 500000ULL);
        ck_assert_uint_eq(c->agent.max_parallel, 8);
        ck_assert_str_eq(c->agent.ca_bundle, "/srv/ca/chain.pem");
        ck_assert_uint_eq(c->agent.step_timeout_usec, 90000000ULL);
        ck_assert_str_eq(c->agent.podman, "/opt/bin/podman");
        ck_assert_str_eq(c->agent.docker, "docker");
        ck_assert_uint_eq(c->agent.debounce_max_usec, 30000000ULL);
        ck_assert_uint_eq(c->agent.retry_attempts, 3);
        ck_assert_uint_eq(c->agent.retry_initial_usec, 200000ULL);
        ck_assert_uint_eq(c->agent.retry_max_usec, 5000000ULL);
        ck_assert_uint_eq(c->agent.restart_budget, 0);
        ck_assert_uint_eq(c->agent.restart_window_usec, 3600000000ULL);
        ck_assert_str_eq(c->agent.metrics, "/var/lib/node_exporter/ctrcert.prom");
        ck_assert_str_eq(c->agent.podman_socket, "");
        ck_assert_uint_eq(strv_length(c->agent.crl_publish), 2);
        ck_assert_str_eq(c->agent.crl_publish[1], "/etc/pki/tls/crl/ctrcert.crl");
}
END_TEST

static const struct {
        const char *text, *where, *what;
} bad[] = {
        { "ca:\n  dri: /x\n", "c.yaml:2:3: error: ca.dri", "unknown key 'dri'" },
        { "ca:\n  crl_days: 0\n", "c.yaml:2:13: error: ca.crl_days", "out of range" },
        { "agent:\n  retry_attempts: 0\n", "c.yaml:2:19: error: agent.retry_attempts", "out of range" },
        { "agent:\n  retry_initial: 10s\n  retry_max: 1s\n", "error: agent.retry_max", "must not be shorter" },
        { "agent:\n  metrics: relative.prom\n", "c.yaml:2:12: error: agent.metrics", "absolute" },
        { "agent:\n  crl_publish: [/ok.crl, rel.crl]\n", "c.yaml:2:26: error: agent.crl_publish", "'rel.crl' is not an absolute path" },
        { "ca:\n  policy: lax\n", "c.yaml:2:11: error: ca.policy", "'lax' is not one of strict|open" },
        { "ca:\n  validity_days: 0\n", "c.yaml:2:18: error: ca.validity_days", "out of range" },
        { "ca:\n  validity_days: soon\n", "c.yaml:2:18: error: ca.validity_days", "not a whole number" },
        { "ca:\n  dir: ca\n", "c.yaml:2:8: error: ca.dir", "not an absolute path" },
        { "state_dir: [a]\n", "c.yaml:1:12: error: state_dir", "expected a string, got a sequence" },
        { "ca:\n  permitted_ip: [10.0.0.0/40]\n", "c.yaml:2:18: error: ca.permitted_ip", "not an address range" },
        { "ca:\n  permitted_dns: ['*.x']\n", "c.yaml:2:19: error: ca.permitted_dns", "not a DNS suffix" },
        { "ca:\n  crl_url: ftp://x\n", "c.yaml:2:12: error: ca.crl_url", "not an http" },
        { "agent:\n  debounce: 2 s\n", "c.yaml:2:13: error: agent.debounce", "not a duration" },
        { "agent:\n  max_parallel: 0\n", "c.yaml:2:17: error: agent.max_parallel", "out of range" },
        { "- a\n", "c.yaml:1:1: error", "expected a mapping, got a sequence" },
        { "agent:\n  debounce: 10s\n  debounce_max: 5s\n", "c.yaml: error: agent.debounce_max", "must not be shorter than agent.debounce" },
        { "agent:\n  ca_bundle: chain.pem\n", "c.yaml:2:14: error: agent.ca_bundle", "not an absolute path" },
};

START_TEST(test_errors) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct config *c = NULL;

        ck_assert_int_lt(load(bad[_i].text, &c, &d), 0);
        ck_assert_ptr_null(c);
        if (!diag_has(&d, DIAG_ERROR, bad[_i].where, bad[_i].what)) {
                diag_dump(&d);
                ck_abort_msg("case %d: no error '%s' at '%s'", _i, bad[_i].what, bad[_i].where);
        }
}
END_TEST

START_TEST(test_missing_file) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct config *c = NULL;

        ck_assert_int_eq(config_load("/nonexistent/ctrcert.yaml", &c, &d), -ENOENT);
        ck_assert_ptr_null(c);
}
END_TEST

/*
 * A mapping of 100,000 keys (a hostile or broken file) is checked in linear
 * time: the duplicate-key scan used to compare each key with every earlier
 * one, 5e9 comparisons here (past Check's timeout). Duplicates are still found.
 */
START_TEST(test_many_keys) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_free_ char *text = NULL;
        struct config *c = NULL;
        size_t n = 100000, len = 0;
        FILE *f = open_memstream(&text, &len);

        ck_assert_ptr_nonnull(f);
        fputs("agent:\n", f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "  k%zu: 1\n", i);
        fputs("  k17: 2\n  debounce: 1s\n", f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_lt(config_load_buffer("c.yaml", text, len, &c, &d), 0);
        ck_assert_ptr_null(c);
        ck_assert(diag_has(&d, DIAG_ERROR, "agent.k0", "unknown key 'k0'"));
        ck_assert_uint_eq(d.n_errors, n + 1);
        /* the duplicate of k17 comes after 100,000 unknown keys: counted, though no longer kept */
}
END_TEST

START_TEST(test_windows_and_jitter_errors) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(config_freep) struct config *c = NULL;

        ck_assert_int_lt(load("ca:\n  validity_jitter: 60%\nagent:\n  windows: [\"Sat 2:00-04:00\"]\n"
                              "  windows_for: sometimes\n", &c, &d), 0);
        ck_assert(diag_has(&d, DIAG_ERROR, ":2:20", "ca.validity_jitter: '60%' is not a share of the validity"));
        ck_assert(diag_has(&d, DIAG_ERROR, ":4:13", "agent.windows: 'Sat 2:00-04:00' is not a window"));
        ck_assert(diag_has(&d, DIAG_ERROR, ":5:16", "agent.windows_for"));
}
END_TEST

START_TEST(test_duplicate_key_large_mapping) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_free_ char *text = NULL;
        struct config *c = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        /* 20 known-or-not keys make a mapping large enough for the hash map; the duplicate is reported */
        ck_assert_ptr_nonnull(f);
        fputs("agent:\n  debounce: 1s\n", f);
        for (int i = 0; i < 20; i++)
                fprintf(f, "  x%d: 1\n", i);
        fputs("  debounce: 2s\n", f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_lt(config_load_buffer("c.yaml", text, len, &c, &d), 0);
        ck_assert(diag_has(&d, DIAG_ERROR, "c.yaml:23:3: error: agent.debounce", "duplicate key (first at line 2)"));
}
END_TEST

/* libyaml's reader errors carry a byte offset only: they used to be reported at 1:1. */
START_TEST(test_reader_error_position) {
        static const char nul[] = "ca:\n  dir: /x\nstate_dir: /a\0b\n";
        _cleanup_(diag_list_clear) struct diag_list d = {};
        struct config *c = NULL;

        ck_assert_int_lt(load("ca:\n  dir: /x\nstate_dir: /\xc3\xa9t\xff\n", &c, &d), 0);
        if (!diag_has(&d, DIAG_ERROR, "c.yaml:3:15: error", "invalid leading UTF-8 octet (0xff at byte 29)")) {
                diag_dump(&d);
                ck_abort_msg("bad UTF-8 not reported at 3:15");
        }
        ck_assert_int_lt(config_load_buffer("c.yaml", nul, sizeof(nul) - 1, &c, &d), 0);
        if (!diag_has(&d, DIAG_ERROR, "c.yaml:3:14: error", "control characters are not allowed")) {
                diag_dump(&d);
                ck_abort_msg("NUL not reported at 3:14");
        }
}
END_TEST

static Suite *config_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_full);
        tcase_add_test(tc, test_windows_and_jitter_errors);
        tcase_add_loop_test(tc, test_errors, 0, (int) ELEMENTSOF(bad));
        tcase_add_test(tc, test_missing_file);
        tcase_add_test(tc, test_many_keys);
        tcase_add_test(tc, test_reader_error_position);
        tcase_add_test(tc, test_duplicate_key_large_mapping);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(config_suite)

/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "strv.h"
#include "yamltree.h"
#include "ywalk.h"

static const char *const policy_names[] = { "strict", "open" };

void config_free(struct config *c) {
        if (!c)
                return;
        free(c->file);
        free(c->ca.dir);
        strv_free(c->ca.permitted_dns);
        strv_free(c->ca.permitted_ip);
        free(c->ca.crl_url);
        free(c->ca.default_template);
        free(c->state_dir);
        free(c->manifest);
        free(c->agent.ca_bundle);
        free(c->agent.podman);
        free(c->agent.docker);
        free(c->agent.metrics);
        strv_free(c->agent.crl_publish);
        free(c->agent.podman_socket);
        window_set_done(&c->agent.windows);
        free(c);
}

int config_new_default(struct config **ret) {
        _cleanup_(config_freep) struct config *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->file = strdup(CTRCERT_CONFIG_PATH);
        c->ca.dir = strdup("/etc/ctrcert/ca");
        c->ca.crl_url = strdup("");
        c->ca.default_template = strdup("");
        c->state_dir = strdup("/var/lib/ctrcert");
        c->manifest = strdup("/etc/ctrcert/manifest.yaml");
        c->ca.permitted_dns = strv_new_empty();
        c->ca.permitted_ip = strv_new_empty();
        c->agent.ca_bundle = strdup("");
        c->agent.podman = strdup("podman");
        c->agent.docker = strdup("docker");
        c->agent.metrics = strdup("");
        c->agent.crl_publish = strv_new_empty();
        c->agent.podman_socket = strdup("/run/podman/podman.sock");
        if (!c->file || !c->ca.dir || !c->ca.crl_url || !c->ca.default_template || !c->state_dir || !c->manifest ||
            !c->ca.permitted_dns || !c->ca.permitted_ip || !c->agent.ca_bundle || !c->agent.podman || !c->agent.docker ||
            !c->agent.metrics || !c->agent.podman_socket || !c->agent.crl_publish)
                return -ENOMEM;
        c->ca.validity_days = 365;
        c->ca.policy = POLICY_STRICT;
        c->ca.lock_timeout_usec = 10 * 1000000ULL;
        c->ca.crl_days = 7;
        c->agent.debounce_usec = 2 * 1000000ULL;
        c->agent.debounce_max_usec = 60 * 1000000ULL;
        c->agent.max_parallel = 4;
        c->agent.step_timeout_usec = 60 * 1000000ULL;
        c->agent.retry_attempts = 5;
        c->agent.retry_initial_usec = 1 * 1000000ULL;
        c->agent.retry_max_usec = 60 * 1000000ULL;
        c->agent.restart_budget = 5;
        c->agent.restart_window_usec = 10 * 60 * 1000000ULL;
        c->agent.windows_for = WINDOWS_FOR_ALL;
        c->agent.expiry_margin_usec = 2 * 24 * 3600 * 1000000ULL;
        *ret = TAKE_PTR(c);
        return 0;
}

static int parse_validity(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_uint(w, n, field, 1, 36500, target);
}

/* "10%" (or 10): how much of the validity a certificate's notAfter may come early, 0 to 50. */
static int parse_jitter(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        unsigned *ret = target;
        unsigned v;
        int len = 0;

        if (n->kind != YNODE_SCALAR || sscanf(n->value, "%u%n", &v, &len) != 1 ||
            !(n->value[len] == '\0' || streq(n->value + len, "%")) || !isdigit((unsigned char) n->value[0]) || v > 50)
                return ywalk_error(w, n, field, "'%s' is not a share of the validity from 0%% to 50%% (e.g. 10%%)",
                                   n->kind == YNODE_SCALAR ? n->value : "");
        *ret = v;
        return 0;
}

static int parse_policy(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_enum(w, n, field, policy_names, ELEMENTSOF(policy_names), target);
}

static int parse_permitted_dns(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_strv(w, n, field, target), ret = 0;

        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++) {
                const char *v = n->items[i]->value;

                if (!dns_name_valid(v[0] == '.' ? v + 1 : v) || strchr(v, '*'))
                        ret = ywalk_error(w, n->items[i], field, "'%s' is not a DNS suffix (e.g. .example.com)", v);
        }
        return ret;
}

static int parse_permitted_ip(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_strv(w, n, field, target), ret = 0;

        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++) {
                struct ip_cidr c;

                if (ip_cidr_parse(n->items[i]->value, &c) < 0)
                        ret = ywalk_error(w, n->items[i], field, "'%s' is not an address range (e.g. 172.17.0.0/16)",
                                          n->items[i]->value);
        }
        return ret;
}

static int parse_crl_url(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_string_opt(w, n, field, target);
        const char *v = *(char **) target;

        if (r < 0)
                return r;
        if (v[0] && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0 && strncmp(v, "ldap://", 7) != 0)
                return ywalk_error(w, n, field, "'%s' is not an http://, https:// or ldap:// URL", v);
        return 0;
}

static int parse_crl_days(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_uint(w, n, field, 1, 3650, target);
}

static int parse_ca(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const struct yfield fields[] = {
                { "dir", yparse_abs_path, offsetof(struct config, ca.dir), false },
                { "validity_days", parse_validity, offsetof(struct config, ca.validity_days), false },
                { "validity_jitter", parse_jitter, offsetof(struct config, ca.validity_jitter), false },
                { "policy", parse_policy, offsetof(struct config, ca.policy), false },
                { "permitted_dns", parse_permitted_dns, offsetof(struct config, ca.permitted_dns), false },
                { "permitted_ip", parse_permitted_ip, offsetof(struct config, ca.permitted_ip), false },
                { "crl_url", parse_crl_url, offsetof(struct config, ca.crl_url), false },
                { "default_template", yparse_string_opt, offsetof(struct config, ca.default_template), false },
                { "lock_timeout", yparse_duration, offsetof(struct config, ca.lock_timeout_usec), false },
                { "crl_days", parse_crl_days, offsetof(struct config, ca.crl_days), false },
        };
        return ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), target);
}

static int parse_max_parallel(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_uint(w, n, field, 1, 256, target);
}

static int parse_retry_attempts(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_uint(w, n, field, 1, 100, target);
}

static int parse_restart_budget(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        return ywalk_uint(w, n, field, 0, 10000, target);
}

static int parse_crl_publish(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = yparse_strv(w, n, field, target), ret = 0;

        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++)
                if (n->items[i]->value[0] != '/')
                        ret = ywalk_error(w, n->items[i], field, "'%s' is not an absolute path", n->items[i]->value);
        return ret;
}

static int parse_windows_for(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const char *const names[] = { [WINDOWS_FOR_ALL] = "all", [WINDOWS_FOR_RESTART] = "restart" };

        return ywalk_enum(w, n, field, names, ELEMENTSOF(names), target);
}

static int parse_abs_path_opt(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        if (ynode_is_null(n) || (n->kind == YNODE_SCALAR && n->value[0] == '\0'))
                return yparse_string_opt(w, n, field, target);
        return yparse_abs_path(w, n, field, target);
}

static int parse_agent(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        static const struct yfield fields[] = {
                { "debounce", yparse_duration, offsetof(struct config, agent.debounce_usec), false },
                { "debounce_max", yparse_duration, offsetof(struct config, agent.debounce_max_usec), false },
                { "max_parallel", parse_max_parallel, offsetof(struct config, agent.max_parallel), false },
                { "ca_bundle", parse_abs_path_opt, offsetof(struct config, agent.ca_bundle), false },
                { "step_timeout", yparse_duration, offsetof(struct config, agent.step_timeout_usec), false },
                { "podman", yparse_string, offsetof(struct config, agent.podman), false },
                { "docker", yparse_string, offsetof(struct config, agent.docker), false },
                { "retry_attempts", parse_retry_attempts, offsetof(struct config, agent.retry_attempts), false },
                { "retry_initial", yparse_duration, offsetof(struct config, agent.retry_initial_usec), false },
                { "retry_max", yparse_duration, offsetof(struct config, agent.retry_max_usec), false },
                { "restart_budget", parse_restart_budget, offsetof(struct config, agent.restart_budget), false },
                { "restart_window", yparse_duration, offsetof(struct config, agent.restart_window_usec), false },
                { "metrics", parse_abs_path_opt, offsetof(struct config, agent.metrics), false },
                { "podman_socket", parse_abs_path_opt, offsetof(struct config, agent.podman_socket), false },
                { "crl_publish", parse_crl_publish, offsetof(struct config, agent.crl_publish), false },
                { "windows", yparse_windows, offsetof(struct config, agent.windows), false },
                { "windows_for", parse_windows_for, offsetof(struct config, agent.windows_for), false },
                { "expiry_margin", yparse_duration, offsetof(struct config, agent.expiry_margin_usec), false },
        };
        return ywalk_mapping(w, n, field, fields, ELEMENTSOF(fields), target);
}

static int config_parse_doc(struct ywalk *w, const struct ydoc *doc, struct config *c) {
        static const struct yfield fields[] = {
                { "ca", parse_ca, 0, false },
                { "state_dir", yparse_abs_path, offsetof(struct config, state_dir), false },
                { "manifest", yparse_abs_path, offsetof(struct config, manifest), false },
                { "agent", parse_agent, 0, false },
        };

        if (!doc->root) /* an empty file means every default */
                return 0;
        return ywalk_mapping(w, doc->root, "", fields, ELEMENTSOF(fields), c);
}

int config_load_buffer(const char *name, const char *buf, size_t len, struct config **ret, struct diag_list *diags) {
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        struct ywalk w = { .file = name, .diags = diags };
        size_t errors_before = diags->n_errors;
        int r;

        r = config_new_default(&c);
        if (r < 0)
                return r;
        free(c->file);
        c->file = strdup(name);
        if (!c->file)
                return -ENOMEM;
        r = ydoc_parse(name, buf, len, &doc, diags);
        if (r >= 0)
                r = config_parse_doc(&w, doc, c);
        if (r >= 0 && c->agent.debounce_max_usec < c->agent.debounce_usec)
                diag_add(diags, DIAG_ERROR, name, 0, 0, "agent.debounce_max", "must not be shorter than agent.debounce");
        if (r >= 0 && c->agent.retry_max_usec < c->agent.retry_initial_usec)
                diag_add(diags, DIAG_ERROR, name, 0, 0, "agent.retry_max", "must not be shorter than agent.retry_initial");
        if (r == -ENOMEM)
                return r;
        if (diags->n_errors > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, struct config **ret, struct diag_list *diags) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot read: %s", read_error_str(r));
                return r;
        }
        return config_load_buffer(path, buf, len, ret, diags);
}

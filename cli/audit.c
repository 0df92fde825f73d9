/* SPDX-License-Identifier: MIT */
/*
 * ctrcertctl audit: for each running container, the managed certificate
 * files it can see through its mounts (from the runtime's inspect data),
 * against the manifest's bindings. A container that mounts a managed file
 * but is not bound to it is never restarted on renewal; a binding whose
 * container mounts nothing of its certificate (and copies nothing in) acts
 * on a container that never sees the renewal.
 *
 * kolla-shaped containers (TripleO) mount the host's certificate under
 * /var/lib/kolla/config_files/src-tls/ and their start script copies it to
 * the live path (config.json, read through the runtime). A binding of such a
 * container that does not copy the renewed file to that path (and does not
 * restart, which copies again) leaves the server on the old one; a copy to
 * another path misses the file the server reads.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "json.h"
#include "kolla.h"
#include "process.h"
#include "log.h"
#include "manifest.h"
#include "runtime-cli.h"
#include "strv.h"

#define CAPTURE_MAX (16u * 1024u * 1024u)


/* Runs argv (no shell) and returns its stdout, at most CAPTURE_MAX bytes; stderr to /dev/null when quiet (a probe whose failure is an answer). */
static int capture(char *const argv[], bool quiet, char **ret) {
        return process_capture(argv, CAPTURE_MAX, quiet, ret);
}

/*
 * Where findings go: each a line "KIND: message" on stdout, or with --json an
 * entry {"kind", "message"} of one document printed at the end. One audit
 * per process: the sink is the file's.
 */
static struct {
        bool json;
        FILE *entries; /* --json: the findings so far, comma-separated */
        char *buf;
        size_t size;
        unsigned n;
        unsigned checked[_RUNTIME_MAX]; /* running containers looked at, by runtime */
} out;

static void finding(const char *kind, const char *fmt, ...) _printf_(2, 3);
static void finding(const char *kind, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        out.n++;
        if (r < 0)
                message = NULL;
        if (!out.json) {
                _cleanup_free_ char *safe = message ? escape_control(message) : NULL;

                /* names and paths come from containers' inspect data and certmonger */
                printf("%s: %s\n", kind, safe ? safe : "(out of memory)");
                return;
        }
        if (out.entries) {
                int first = 1;

                fputs(out.n > 1 ? ",{" : "{", out.entries);
                json_member_string(out.entries, "kind", kind, &first);
                json_member_string(out.entries, "message", message, &first);
                fputc('}', out.entries);
        }
}

/* One running container, the host paths it mounts and where (same order). */
struct seen {
        char *name;
        char **sources, **dests;
};

/* Parses inspect's "name<TAB>source<TAB>destination<TAB>source…" lines. */
static int parse_mounts(char *text, struct seen **ret, size_t *ret_n) {
        struct seen *v = NULL;
        size_t n = 0;
        char *save = NULL;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *tab = strchr(line, '\t'), *field_save = NULL;
                struct seen *p = realloc(v, (n + 1) * sizeof(*v));

                if (!p)
                        return -ENOMEM;
                v = p;
                if (tab)
                        *tab = '\0';
                v[n] = (struct seen) { .name = strdup(line[0] == '/' ? line + 1 : line) }; /* docker: "/name" */
                for (char *s = tab ? strtok_r(tab + 1, "\t", &field_save) : NULL; s; s = strtok_r(NULL, "\t", &field_save)) {
                        char *d = strtok_r(NULL, "\t", &field_save);

                        if (strv_push(&v[n].sources, s) < 0 || strv_push(&v[n].dests, d ? d : "") < 0)
                                return -ENOMEM;
                }
                if (!v[n++].name)
                        return -ENOMEM;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void seen_free(struct seen *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                strv_free(v[i].sources);
                strv_free(v[i].dests);
        }
        free(v);
}

/* The running containers of one runtime CLI with their mount sources. */
static int list_mounts(const struct config *cfg, int runtime, struct seen **ret, size_t *ret_n) {
        _cleanup_free_ char *names = NULL, *mounts = NULL;
        _cleanup_(strv_freep) char **argv = NULL, **ps = NULL;
        char *save = NULL;
        int r;

        r = runtime_list_argv(cfg, runtime, &ps);
        if (r >= 0)
                r = capture(ps, false, &names);
        if (r < 0)
                return r;
        r = strv_push(&argv, runtime_cli(cfg, runtime));
        if (r >= 0)
                r = strv_push(&argv, "inspect");
        if (r >= 0)
                r = strv_push(&argv, "--format");
        if (r >= 0)
                r = strv_push(&argv, "{{.Name}}{{range .Mounts}}\t{{.Source}}\t{{.Destination}}{{end}}");
        if (r >= 0)
                r = strv_push(&argv, "--"); /* names are never options */
        for (char *s = strtok_r(names, "\n", &save); s && r >= 0; s = strtok_r(NULL, "\n", &save))
                r = strv_push(&argv, s);
        if (r < 0)
                return r;
        if (strv_length(argv) == 5) { /* nothing runs */
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        r = capture(argv, false, &mounts);
        return r < 0 ? r : parse_mounts(mounts, ret, ret_n);
}

/* The source that makes path visible in the container (the file itself or a directory above it), or NULL. */
static const char *mount_covering(const struct seen *s, const char *path) {
        STRV_FOREACH(src, s->sources) {
                size_t n = strlen(*src);

                while (n > 1 && (*src)[n - 1] == '/')
                        n--;
                if (strncmp(path, *src, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1))
                        return *src;
        }
        return NULL;
}

static bool binding_names(const struct mf_container *b, const char *name) {
        _cleanup_(strv_freep) char **hit = NULL;

        if (b->name)
                return streq(b->name, name);
        return runtime_match(b->match, name, &hit) >= 0 && hit;
}

static bool cert_binds(const struct mf_cert *c, int runtime, const char *name) {
        for (size_t i = 0; i < c->n_containers; i++)
                if (c->containers[i].runtime == runtime && binding_names(&c->containers[i], name))
                        return true;
        return false;
}

/* The managed files of c a container can see: cert, key, bundle. */
static const char *cert_file(const struct mf_cert *c, size_t k) {
        return k == 0 ? c->cert : k == 1 ? c->key : c->bundle ? c->bundle->path : NULL;
}

static void audit_unbound(const struct manifest *m, int runtime, const struct seen *v, size_t n) {

        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < m->n_certs; c++)
                        for (size_t k = 0; k < 3; k++) {
                                const char *f = cert_file(&m->certs[c], k), *src = f ? mount_covering(&v[i], f) : NULL;

                                if (!src || cert_binds(&m->certs[c], runtime, v[i].name))
                                        continue;
                                finding("unbound",
                                        "%s %s mounts %s (certificate %s, via %s) but is not bound to it: a renewal "
                                        "would never reach it",
                                        runtime_names[runtime], v[i].name, f, m->certs[c].id, src);
                                break;
                        }
}

static bool sees_cert(const struct mf_cert *c, const struct seen *s) {
        for (size_t k = 0; k < 3; k++)
                if (cert_file(c, k) && mount_covering(s, cert_file(c, k)))
                        return true;
        return false;
}

static void audit_bindings(const struct manifest *m, int runtime, const struct seen *v, size_t n) {

        for (size_t c = 0; c < m->n_certs; c++)
                for (size_t b = 0; b < m->certs[c].n_containers; b++) {
                        const struct mf_container *bd = &m->certs[c].containers[b];

                        if (bd->runtime != runtime || bd->n_copies > 0) /* copied in: no mount needed */
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (binding_names(bd, v[i].name) && !sees_cert(&m->certs[c], &v[i])) {
                                        finding("unmounted",
                                                "%s %s is bound to %s but mounts neither %s nor a directory above it, "
                                                "and copies nothing in",
                                                runtime_names[runtime], v[i].name, m->certs[c].id, m->certs[c].cert);
                                }
                }
}

/* ---- kolla ---- */

/* The container's kolla copy rules through the runtime; 0 with none when it has no config.json. */
static int kolla_rules(const struct config *cfg, int runtime, const char *name, struct kolla_rule **ret, size_t *ret_n) {
        _cleanup_(strv_freep) char **argv = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = runtime_exec_argv(cfg, runtime, name, (char *const[]) { "cat", "--", KOLLA_CONFIG_JSON, NULL }, &argv);
        if (r >= 0)
                r = capture(argv, true, &text);
        if (r == -EIO)
                return 0; /* not there: not a kolla container */
        return r < 0 ? r : kolla_parse(text, strlen(text), ret, ret_n);
}

/* "SOURCE<TAB>DESTINATION" lines, as mounts_container_path() takes them. */
static char *mounts_text(const struct seen *s) {
        _cleanup_free_ char *t = strdup("");

        for (size_t i = 0; t && s->sources && s->sources[i]; i++) {
                char *n = NULL;

                if (asprintf(&n, "%s%s\t%s\n", t, s->sources[i], s->dests[i]) < 0)
                        return NULL;
                free(t);
                t = n;
        }
        return TAKE_PTR(t);
}

static const int file_sources[3] = { COPY_CERT, COPY_KEY, COPY_BUNDLE };
static const char *const file_source_names[3] = { "cert", "key", "bundle" };

static bool copies_to(const struct mf_container *b, int from, const char *to) {
        for (size_t k = 0; k < b->n_copies; k++)
                if (b->copies[k].from == from && streq(b->copies[k].to, to))
                        return true;
        return false;
}

/* Where kolla puts managed file k of c in container s at start, or NULL. */
static char *kolla_live_path(const struct kolla_rule *rules, size_t n_rules, const char *mounts, const struct mf_cert *c,
                             size_t k) {
        _cleanup_free_ char *inside = cert_file(c, k) ? mounts_container_path(mounts, cert_file(c, k)) : NULL;
        char *live = NULL;

        if (inside && kolla_dest_for(rules, n_rules, inside, &live) <= 0)
                return NULL;
        return live;
}

/* One bound kolla container against one binding: every start-time copy needs the binding's copy too. */
static void audit_kolla_binding(int runtime, const struct seen *s, const struct mf_cert *c, const struct mf_container *b,
                                const struct kolla_rule *rules, size_t n_rules, const char *mounts) {

        for (size_t k = 0; k < 3; k++) {
                _cleanup_free_ char *live = kolla_live_path(rules, n_rules, mounts, c, k);

                if (live && b->action != ACTION_RESTART && !copies_to(b, file_sources[k], live)) {
                        finding("kolla",
                                "%s %s copies %s (certificate %s) to %s at start, but its binding has no copy to %s and "
                                "does not restart: a renewal leaves the old file there",
                                runtime_names[runtime], s->name, cert_file(c, k), c->id, live, live);
                }
                for (size_t i = 0; live && i < b->n_copies; i++)
                        if (b->copies[i].from == file_sources[k] && !streq(b->copies[i].to, live)) {
                                finding("kolla", "%s %s: the binding of %s copies %s to %s, but the server reads it at %s "
                                                 "(config.json)",
                                        runtime_names[runtime], s->name, c->id, file_source_names[k], b->copies[i].to,
                                        live);
                        }
        }
}

static void audit_kolla(const struct config *cfg, const struct manifest *m, int runtime, const struct seen *v, size_t n) {

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *mounts = NULL;
                struct kolla_rule *rules = NULL;
                size_t n_rules = 0;
                bool bound = false;

                for (size_t c = 0; c < m->n_certs && !bound; c++)
                        bound = cert_binds(&m->certs[c], runtime, v[i].name) && sees_cert(&m->certs[c], &v[i]);
                /* only containers that mount a certificate they are bound to are worth an exec */
                if (!bound || kolla_rules(cfg, runtime, v[i].name, &rules, &n_rules) < 0 || n_rules == 0 ||
                    !(mounts = mounts_text(&v[i]))) {
                        kolla_rules_free(rules, n_rules);
                        continue;
                }
                for (size_t c = 0; c < m->n_certs; c++)
                        for (size_t b = 0; b < m->certs[c].n_containers; b++)
                                if (m->certs[c].containers[b].runtime == runtime &&
                                    binding_names(&m->certs[c].containers[b], v[i].name))
                                        audit_kolla_binding(runtime, &v[i], &m->certs[c],
                                                            &m->certs[c].containers[b], rules, n_rules, mounts);
                kolla_rules_free(rules, n_rules);
        }
}

static bool manifest_uses(const struct manifest *m, int runtime) {
        for (size_t c = 0; c < m->n_certs; c++)
                for (size_t b = 0; b < m->certs[c].n_containers; b++)
                        if (m->certs[c].containers[b].runtime == runtime)
                                return true;
        return false;
}

static int audit_runtime(const struct config *cfg, const struct manifest *m, int runtime) {
        const char *cli = runtime_cli(cfg, runtime);
        struct seen *v = NULL;
        size_t n = 0;
        int r = list_mounts(cfg, runtime, &v, &n);

        if (r < 0) {
                log_error_errno(r, "cannot list the running %s containers with %s: %s", runtime_names[runtime], cli,
                                r == -EIO     ? "the command failed"
                                : r == -EFBIG ? "its output passed 16 MiB"
                                              : strerror(-r));
                return r;
        }
        audit_unbound(m, runtime, v, n);
        audit_bindings(m, runtime, v, n);
        audit_kolla(cfg, m, runtime, v, n);
        out.checked[runtime] = (unsigned) n;
        if (!out.json)
                printf("%s: %zu running container%s checked\n", runtime_names[runtime], n, n == 1 ? "" : "s");
        seen_free(v, n);
        return 0;
}

/* 0, CLI_FINDINGS when it found anything (each printed), <0 when it cannot tell (logged). */
static int audit_request(const char *nickname, const char *cert_file, void *userdata) {
        const struct manifest *m = userdata;

        for (size_t i = 0; i < m->n_certs; i++)
                if (streq(m->certs[i].cert, cert_file))
                        return 0;
        finding("untracked",
                "certmonger request %s saves %s, which no binding of the manifest names: its renewals reach no "
                "container",
                nickname, cert_file);
        return 0;
}

/* Nothing renews unseen: every file certmonger saves is a certificate of the manifest (a typo in getcert -f is not). */
static int audit_certmonger(const struct cli_ctx *ctx, const struct manifest *m) {
        int r = cli_certmonger_requests(ctx, audit_request, (void *) m);

        if (r == -EIO) /* no bus or no certmonger here: the containers' side still holds */
                log_warning("certmonger's requests not compared with the manifest (see above)");
        return r == -EIO ? 0 : r;
}

/* {"findings": [{"kind": "unbound|unmounted|kolla|untracked", "message": S}], "checked": {"podman": N, …}} */
static void print_json(void) {
        int first = 1;

        fclose(TAKE_PTR(out.entries));
        printf("{\"findings\":[%s],\"checked\":{", out.buf ? out.buf : "");
        free(TAKE_PTR(out.buf));
        for (int rt = 0; rt < _RUNTIME_MAX; rt++)
                if (rt != RUNTIME_SYSTEMD)
                        json_member_int(stdout, runtime_names[rt], out.checked[rt], &first);
        fputs("}}\n", stdout);
}

static const struct cli_option audit_options[] = {
        { "json", 0, NULL, "one JSON document (ctrcertctl(8), JSON OUTPUT)", NULL },
        {},
};

static int run_audit(const struct cli_ctx *ctx, const struct cli_args *args) {
        _cleanup_(config_freep) struct config *cfg = NULL;
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_(diag_list_clear) struct diag_list d = {};
        int r;

        out.json = cli_flag(args, 0);
        if (out.json && !(out.entries = open_memstream(&out.buf, &out.size)))
                return log_error_errno(-ENOMEM, "audit: %m");
        r = cli_load_config(ctx, &cfg);
        if (r < 0)
                return r;
        r = manifest_load(cfg->manifest, &m, &d);
        if (r < 0) {
                diag_list_print(&d, stderr);
                return r;
        }
        /* podman always (the default runtime); docker when the manifest names it. */
        r = audit_runtime(cfg, m, RUNTIME_PODMAN);
        if (r >= 0 && manifest_uses(m, RUNTIME_DOCKER))
                r = audit_runtime(cfg, m, RUNTIME_DOCKER);
        if (r >= 0)
                r = audit_certmonger(ctx, m);
        if (r < 0)
                return r;
        if (out.json)
                print_json();
        else
                printf("%u finding%s\n", out.n, out.n == 1 ? "" : "s");
        return out.n > 0 ? CLI_FINDINGS : 0;
}

const struct cli_command cli_audit = {
        .name = "audit",
        .usage = "[--json]",
        .options = audit_options,
        .summary = "running containers that mount managed certificates vs. the manifest",
        .run = run_audit,
};

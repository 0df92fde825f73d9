/* SPDX-License-Identifier: MIT */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "strv.h"

/* The name in spec ("user", "user:group", "uid:gid") that this host's databases do not know, or NULL. */
static const char *owner_unknown(const char *spec, char buf[static 64]) {
        const char *colon = strchr(spec, ':');
        size_t ulen = colon ? (size_t) (colon - spec) : strlen(spec);

        snprintf(buf, 64, "%.*s", (int) ulen, spec);
        if (strspn(buf, "0123456789") != ulen && !getpwnam(buf))
                return buf;
        if (colon && strspn(colon + 1, "0123456789") != strlen(colon + 1) && !getgrnam(colon + 1)) {
                snprintf(buf, 64, "%s", colon + 1);
                return buf;
        }
        return NULL;
}

/*
 * Owners are host-dependent, so the loader does not look them up; this does.
 * A bundle's owner is resolved on this host when the agent writes it: an
 * unknown name is an error now rather than a failed job later. A copy's owner
 * goes into the tar stream by name and the container's own tar resolves it:
 * a name this host does not know is only a warning (uid:gid is exact).
 */
static void check_owners(const struct manifest *m, struct diag_list *d) {
        char buf[64];
        const char *u;

        for (size_t i = 0; i < m->n_certs; i++) {
                const struct mf_cert *c = &m->certs[i];

                if (c->bundle && c->bundle->owner && (u = owner_unknown(c->bundle->owner, buf)))
                        diag_add(d, DIAG_ERROR, c->pos.file, c->pos.line, c->pos.column, c->id,
                                 "bundle owner '%s': no user or group '%s' on this host", c->bundle->owner, u);
                for (size_t j = 0; j < c->n_containers; j++) {
                        const struct mf_container *k = &c->containers[j];

                        for (size_t l = 0; l < k->n_copies; l++)
                                if (k->copies[l].owner && (u = owner_unknown(k->copies[l].owner, buf)))
                                        diag_add(d, DIAG_WARNING, k->pos.file, k->pos.line, k->pos.column, c->id,
                                                 "copy owner '%s': '%s' is not known on this host; the container's "
                                                 "tar resolves it (give uid:gid to be exact)",
                                                 k->copies[l].owner, u);
                }
        }
}


/*
 * A job is ok only with evidence (ctrcert-agent(8)); without verify the agent
 * can prove at most that the container's files hold the new certificate. That
 * is enough after a restart, not after a reload, an exec or nothing (the
 * service may keep the old one loaded), and there is no file to look at in a
 * systemd unit: say so where it is written.
 */
static void warn_unverified(const struct manifest *m, struct diag_list *d) {
        for (size_t i = 0; i < m->n_certs; i++)
                for (size_t k = 0; k < m->certs[i].n_containers; k++) {
                        const struct mf_container *b = &m->certs[i].containers[k];

                        if (b->verify || (b->action == ACTION_RESTART && b->runtime != RUNTIME_SYSTEMD))
                                continue;
                        diag_add(d, DIAG_WARNING, b->pos.file, b->pos.line, b->pos.column, "verify",
                                 "%s (container %s): no verify: nothing proves the service loaded the new certificate "
                                 "after action %s; the agent can only check the file the container reads%s",
                                 m->certs[i].id, b->name ? b->name : b->match, action_names[b->action],
                                 b->runtime == RUNTIME_SYSTEMD ? ", and a systemd unit has none" : "");
                }
}

/* {"valid": B, "certificates": N, "errors": [D…], "warnings": [D…]}, D = {"file", "line", "column", "field", "message"}. */
static void print_json(const struct manifest *m, const struct diag_list *d) {
        int first = 1;

        fputc('{', stdout);
        json_key(stdout, "valid", &first);
        fputs(m && d->n_errors == 0 ? "true" : "false", stdout);
        json_member_int(stdout, "certificates", m ? (int64_t) m->n_certs : 0, &first);
        for (int sev = DIAG_ERROR; sev <= DIAG_WARNING; sev++) {
                int any = 1;

                json_key(stdout, sev == DIAG_ERROR ? "errors" : "warnings", &first);
                fputc('[', stdout);
                for (size_t i = 0; i < d->n; i++) {
                        const struct diag *g = &d->items[i];
                        int f = 1;

                        if ((int) g->severity != sev)
                                continue;
                        fputs(any ? "{" : ",{", stdout);
                        any = 0;
                        json_member_string(stdout, "file", g->file, &f);
                        json_member_int(stdout, "line", g->line, &f);
                        json_member_int(stdout, "column", g->column, &f);
                        json_member_string(stdout, "field", g->field, &f);
                        json_member_string(stdout, "message", g->message, &f);
                        fputc('}', stdout);
                }
                fputc(']', stdout);
        }
        fputs("}\n", stdout);
}

/* Prints every diagnostic and a summary: 0, CLI_FINDINGS when the manifest has errors, <0 when it cannot tell. */
static int manifest_check(const struct cli_ctx *ctx, char **files, bool json) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_(config_freep) struct config *cfg = NULL;
        int r;

        if (files[0])
                r = manifest_load_files(files, &m, &d);
        else {
                r = cli_load_config(ctx, &cfg);
                if (r < 0)
                        return r;
                r = manifest_load(cfg->manifest, &m, &d);
        }
        if (r == -ENOMEM)
                return log_error_errno(r, "out of memory");
        if (m) {
                check_owners(m, &d);
                warn_unverified(m, &d);
                if (d.n_errors > 0)
                        r = -EINVAL;
        }
        if (json) {
                print_json(m, &d);
                return r < 0 ? CLI_FINDINGS : 0;
        }
        diag_list_print(&d, stdout);
        if (m)
                printf("%zu certificate%s, ", m->n_certs, m->n_certs == 1 ? "" : "s");
        else
                printf("invalid: ");
        printf("%zu error%s, %zu warning%s\n", d.n_errors, d.n_errors == 1 ? "" : "s", d.n_warnings,
               d.n_warnings == 1 ? "" : "s");
        return r < 0 ? CLI_FINDINGS : 0;
}

static const struct cli_option check_options[] = {
        { "json", 0, NULL, "one JSON document (ctrcertctl(8), JSON OUTPUT)", NULL },
        {},
};

static int run_check(const struct cli_ctx *ctx, const struct cli_args *a) {
        return manifest_check(ctx, a->argv, cli_flag(a, 0));
}

const struct cli_command cli_manifest_check = {
        .name = "manifest check",
        .usage = "[FILE…] [--json]",
        .options = check_options,
        .summary = "validate the manifest (default: the configured one and manifest.d/)",
        .max_args = CLI_ARGS_ANY,
        .complete_args = "@file",
        .run = run_check,
};

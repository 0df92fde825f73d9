/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "manifest.h"
#include "strv.h"

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

/* Prints every diagnostic and a summary; exit 1 on errors, 0 with warnings only. */
static int manifest_check(const struct cli_ctx *ctx, char **files) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_(config_freep) struct config *cfg = NULL;
        int r;

        if (files[0])
                r = manifest_load_files(files, &m, &d);
        else {
                r = cli_load_config(ctx, &cfg);
                if (r < 0)
                        return CLI_FAILED;
                r = manifest_load(cfg->manifest, &m, &d);
        }
        if (r == -ENOMEM)
                return log_error_errno(r, "out of memory"), CLI_FAILED;
        if (m)
                warn_unverified(m, &d);
        diag_list_print(&d, stdout);
        if (m)
                printf("%zu certificate%s, ", m->n_certs, m->n_certs == 1 ? "" : "s");
        else
                printf("invalid: ");
        printf("%zu error%s, %zu warning%s\n", d.n_errors, d.n_errors == 1 ? "" : "s", d.n_warnings,
               d.n_warnings == 1 ? "" : "s");
        return r < 0 ? CLI_FAILED : CLI_OK;
}

int cli_manifest(const struct cli_ctx *ctx, int argc, char **argv) {
        if (argc < 2 || !streq(argv[1], "check")) {
                log_error("usage: ctrcertctl manifest check [FILE…]");
                return CLI_USAGE;
        }
        return manifest_check(ctx, argv + 2);
}

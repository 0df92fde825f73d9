/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "manifest.h"
#include "strv.h"

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

/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "cadir.h"
#include "helper.h"

/* A root's certmonger nickname and PEM. */
static int root_describe(const char *path, char **ret_nick, char **ret_pem, char **ret_fp) {
        _cleanup_(cert_freep) struct cert *root = NULL;
        int r;

        r = cert_load_file(path, &root);
        if (r >= 0)
                r = cert_nickname(root, ret_nick);
        if (r >= 0)
                r = cert_to_pem(root, ret_pem);
        if (r >= 0)
                r = cert_fingerprint_sha256(root, ret_fp);
        return r;
}

/*
 * certmonger's format: root nickname line and PEM, a blank line, other trusted
 * roots, a blank line, other (chain) certificates. certmonger collapses
 * consecutive blank lines, so with no other roots a chain section would be
 * misread as trusted roots (measured with certmonger 0.79.17). We therefore
 * return the root, and during a CA rollover the previous generation's root as
 * the other trusted root; the issuing CA reaches certmonger with every issued
 * certificate (the request's cert-chain). Needs no key.
 */
int op_fetch_roots(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_free_ char *path = NULL, *prev_dir = NULL, *prev_path = NULL, *nick = NULL, *pem = NULL, *fp = NULL, *prev_nick = NULL,
                            *prev_pem = NULL, *prev_fp = NULL;
        int r;

        r = helper_load_config(ctx, st);
        if (r < 0)
                return r;
        path = cadir_path(ctx->config->ca.dir, CA_ROOT);
        prev_dir = cadir_previous(ctx->config->ca.dir);
        prev_path = prev_dir ? cadir_path(prev_dir, CA_ROOT) : NULL;
        if (!path || !prev_path)
                return -ENOMEM;
        r = root_describe(path, &nick, &pem, &fp);
        if (r == -ENOENT || r == -EBADMSG)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s: %s; create the CA once with: ctrcertctl ca init %s",
                                   path, r == -EBADMSG ? "not a PEM certificate" : strerror(-r), ctx->config->ca.dir);
        if (r < 0)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "cannot print the root %s: %s", path, strerror(-r));
        printf("%s\n%s", nick, pem);
        /* A rollover in progress: trust the root the certificates not yet renewed chain to. */
        r = root_describe(prev_path, &prev_nick, &prev_pem, &prev_fp);
        if (r >= 0 && !streq(fp, prev_fp))
                printf("\n%s%s\n%s", prev_nick, streq(nick, prev_nick) ? " (previous)" : "", prev_pem);
        else if (r < 0 && r != -ENOENT)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s: %s", prev_path,
                                   r == -EBADMSG ? "not a PEM certificate" : strerror(-r));
        return fflush(stdout) == 0 ? 0 : -EIO;
}

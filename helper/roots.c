/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "helper.h"

/*
 * certmonger's format: root nickname line and PEM, a blank line, other trusted
 * roots, a blank line, other (chain) certificates. certmonger collapses
 * consecutive blank lines, so with no other roots a chain section would be
 * misread as trusted roots (measured with certmonger 0.79.17). We therefore
 * return the root alone: the issuing CA reaches certmonger with every issued
 * certificate (the request's cert-chain). Needs no key.
 */
int op_fetch_roots(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_(cert_freep) struct cert *root = NULL;
        _cleanup_free_ char *path = NULL, *nick = NULL, *pem = NULL;
        int r;

        r = helper_load_config(ctx, st);
        if (r < 0)
                return r;
        path = path_join(ctx->config->ca.dir, "root.crt");
        if (!path)
                return -ENOMEM;
        r = cert_load_file(path, &root);
        if (r < 0)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s: %s; create the CA once with: ctrcertctl ca init %s",
                                   path, r == -EBADMSG ? "not a PEM certificate" : strerror(-r), ctx->config->ca.dir);
        r = cert_nickname(root, &nick);
        if (r >= 0)
                r = cert_to_pem(root, &pem);
        if (r < 0)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "cannot print the root %s: %s", path, strerror(-r));
        printf("%s\n%s", nick, pem);
        return fflush(stdout) == 0 ? 0 : -EIO;
}

/* SPDX-License-Identifier: MIT */
/*
 * --upstream HELPER [ARGS…]: ctrcert's policy in front of another certmonger
 * CA helper (FreeIPA's ipa-submit, local-submit, …). A SUBMIT (or a POLL that
 * carries a CSR) must pass the manifest's policy first; then, and for every
 * other operation, the upstream helper replaces this process with
 * certmonger's environment unchanged, so its output and exit code are
 * certmonger's answer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"
#include "policy.h"

int upstream_check(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_(csr_freep) struct csr *csr = NULL;
        struct policy_decision d = {};
        int r;

        r = helper_load_config(ctx, st);
        if (r >= 0)
                r = helper_load_manifest(ctx, &m, st);
        if (r >= 0)
                r = helper_read_csr(&csr, st);
        if (r >= 0)
                r = helper_check_policy(ctx, m, csr, getenv("CERTMONGER_CA_PROFILE"), &d, st);
        policy_decision_done(&d);
        return r;
}

int upstream_exec(struct helper_ctx *ctx, struct helper_status *st) {
        extern char **environ;

        execve(ctx->upstream[0], ctx->upstream, environ);
        return helper_fail(st, FAIL_UNREACHABLE, negative_errno(), "cannot run the upstream helper %s: %s",
                           ctx->upstream[0], strerror(errno));
}

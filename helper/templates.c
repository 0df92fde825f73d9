/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "helper.h"

int op_identify(struct helper_ctx *ctx, struct helper_status *st) {
        (void) ctx;
        (void) st;
        printf("ctrcert-submit %s\n", PACKAGE_VERSION);
        return 0;
}

/* The manifest's ids are what `getcert request -T` may name. */
int op_supported_templates(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        int r;

        r = helper_load_config(ctx, st);
        if (r >= 0)
                r = helper_load_manifest(ctx, &m, st);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_certs; i++)
                printf("%s\n", m->certs[i].id);
        return 0;
}

int op_default_template(struct helper_ctx *ctx, struct helper_status *st) {
        int r = helper_load_config(ctx, st);

        if (r < 0)
                return r;
        if (ctx->config->ca.default_template[0])
                printf("%s\n", ctx->config->ca.default_template);
        return 0;
}

/* Under the strict policy a request must name its id, so certmonger should ask for a profile. */
int op_request_requirements(struct helper_ctx *ctx, struct helper_status *st) {
        int r = helper_load_config(ctx, st);

        if (r < 0)
                return r;
        if (ctx->config->ca.policy == POLICY_STRICT)
                printf("CERTMONGER_CA_PROFILE\n");
        return 0;
}

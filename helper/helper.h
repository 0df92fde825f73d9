/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "crypto.h"
#include "manifest.h"

/*
 * What went wrong in an operation, said once in certmonger's terms by main.c
 * (exit code + one line on stdout). Operations fill it and return < 0.
 */
enum helper_failure {
        FAIL_REJECTED,     /* exit 2: the request is refused; certmonger marks it CA_REJECTED */
        FAIL_UNREACHABLE,  /* exit 3: try again later */
        FAIL_UNCONFIGURED, /* exit 4: the operator must fix the CA, config or state */
        FAIL_BUSY,         /* exit 5: poll again after retry_seconds */
};

struct helper_status {
        enum helper_failure failure;
        char reason[1024];
        unsigned retry_seconds;
};

struct helper_ctx {
        const char *config_path;
        struct config *config;
        char **upstream; /* --upstream HELPER [ARGS…]: signing is that helper's, the policy ours */
};

int helper_fail(struct helper_status *st, enum helper_failure f, int error, const char *fmt, ...) _printf_(4, 5);

/* setup.c: load what an operation needs, translating failures into st. */
int helper_load_config(struct helper_ctx *ctx, struct helper_status *st);
int helper_load_manifest(const struct helper_ctx *ctx, struct manifest **ret, struct helper_status *st);
int helper_load_ca(const struct helper_ctx *ctx, struct ca **ret, struct helper_status *st);

/* submit.c: the request and the policy's verdict on it (also for upstream mode). */
struct policy_decision;
int helper_read_csr(struct csr **ret, struct helper_status *st);
int helper_check_policy(const struct helper_ctx *ctx, const struct manifest *m, const struct csr *csr,
                        const char *profile, struct policy_decision *ret, struct helper_status *st);

/* The operations (certmonger's CERTMONGER_OPERATION). They print the answer on stdout. */
int op_submit(struct helper_ctx *ctx, struct helper_status *st);
int op_identify(struct helper_ctx *ctx, struct helper_status *st);
int op_fetch_roots(struct helper_ctx *ctx, struct helper_status *st);
int op_supported_templates(struct helper_ctx *ctx, struct helper_status *st);
int op_default_template(struct helper_ctx *ctx, struct helper_status *st);
int op_request_requirements(struct helper_ctx *ctx, struct helper_status *st);

/* upstream.c: the policy check alone (0 allowed), then exec of ctx->upstream (returns only on failure). */
int upstream_check(struct helper_ctx *ctx, struct helper_status *st);
int upstream_exec(struct helper_ctx *ctx, struct helper_status *st);

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
};

int helper_fail(struct helper_status *st, enum helper_failure f, int error, const char *fmt, ...) _printf_(4, 5);

/* setup.c: load what an operation needs, translating failures into st. */
int helper_load_config(struct helper_ctx *ctx, struct helper_status *st);
int helper_load_manifest(const struct helper_ctx *ctx, struct manifest **ret, struct helper_status *st);
int helper_load_ca(const struct helper_ctx *ctx, struct ca **ret, struct helper_status *st);

/* The operations (certmonger's CERTMONGER_OPERATION). They print the answer on stdout. */
int op_submit(struct helper_ctx *ctx, struct helper_status *st);
int op_identify(struct helper_ctx *ctx, struct helper_status *st);
int op_fetch_roots(struct helper_ctx *ctx, struct helper_status *st);
int op_supported_templates(struct helper_ctx *ctx, struct helper_status *st);
int op_default_template(struct helper_ctx *ctx, struct helper_status *st);
int op_request_requirements(struct helper_ctx *ctx, struct helper_status *st);

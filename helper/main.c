/* SPDX-License-Identifier: MIT */
/*
 * ctrcert-submit: certmonger's external CA helper. certmonger runs it with
 * CERTMONGER_OPERATION and friends in the environment; the answer is stdout
 * plus the exit code. This file is the one boundary where failures become
 * certmonger's exit codes.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "crypto.h"
#include "helper.h"
#include "log.h"

enum {
        EXIT_ISSUED = 0,
        EXIT_REJECTED = 2,
        EXIT_UNREACHABLE = 3,
        EXIT_UNCONFIGURED = 4,
        EXIT_BUSY = 5,
        EXIT_UNSUPPORTED = 6,
};

static const struct {
        const char *name;
        int (*run)(struct helper_ctx *ctx, struct helper_status *st);
} operations[] = {
        { "SUBMIT", op_submit },
        { "POLL", op_submit }, /* we never answer "in progress", so a poll is a fresh submit */
        { "IDENTIFY", op_identify },
        { "FETCH-ROOTS", op_fetch_roots },
        { "GET-SUPPORTED-TEMPLATES", op_supported_templates },
        { "GET-DEFAULT-TEMPLATE", op_default_template },
        { "GET-NEW-REQUEST-REQUIREMENTS", op_request_requirements },
        { "GET-RENEW-REQUEST-REQUIREMENTS", op_request_requirements },
};

static int exit_code_for(const struct helper_status *st) {
        switch (st->failure) {
        case FAIL_REJECTED:
                return EXIT_REJECTED;
        case FAIL_UNREACHABLE:
                return EXIT_UNREACHABLE;
        case FAIL_BUSY:
                return EXIT_BUSY;
        default:
                return EXIT_UNCONFIGURED;
        }
}

/* certmonger reads the reason from stdout (ca-error); for 5, the delay and a cookie. */
static int report_failure(const struct helper_status *st) {
        int code = exit_code_for(st);

        if (code == EXIT_BUSY)
                printf("%u\nctrcert-retry\n", st->retry_seconds);
        else
                printf("%s\n", st->reason);
        if (code == EXIT_REJECTED)
                audit_rejected(getenv("CERTMONGER_CA_PROFILE"), st->reason);
        fflush(stdout);
        log_error("%s", st->reason);
        return code;
}

/*
 * Upstream mode: a request (SUBMIT, or a POLL that carries its CSR) passes our
 * policy first; every operation is then the upstream helper's to answer.
 */
static int run_upstream(struct helper_ctx *ctx, const char *op) {
        struct helper_status st = {};
        const char *csr = getenv("CERTMONGER_CSR");
        bool request = streq(op, "SUBMIT") || (streq(op, "POLL") && csr && csr[0]);
        int r = 0;

        if (request) {
                r = crypto_init();
                if (r >= 0)
                        r = upstream_check(ctx, &st);
                else
                        helper_fail(&st, FAIL_UNCONFIGURED, r, "OpenSSL cannot start");
        }
        config_free(ctx->config);
        ctx->config = NULL;
        if (r >= 0)
                upstream_exec(ctx, &st);
        return report_failure(&st);
}

static void help(void) {
        printf("Usage: ctrcert-submit [--config PATH] [--upstream HELPER [ARGS…]]\n"
               "certmonger external CA helper: signs per-container certificates under the manifest's policy.\n"
               "Register it with: getcert add-ca -c ctrcert -e '%s --config %s'\n"
               "Operation from CERTMONGER_OPERATION (SUBMIT when unset). See ctrcert-submit(8).\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "  --upstream HELPER [ARGS…]  apply the policy, then let HELPER (e.g. ipa-submit) sign;\n"
               "                     everything after HELPER is its own arguments\n"
               "  -h, --help         this text\n"
               "  -V, --version      the version\n",
               HELPER_PATH, CTRCERT_CONFIG_PATH, CTRCERT_CONFIG_PATH);
}

/* Everything after "--upstream HELPER" belongs to HELPER: our options end there. */
static int split_upstream(int *argc, char **argv, char ***ret_upstream) {
        for (int i = 1; i < *argc; i++) {
                if (!streq(argv[i], "--upstream"))
                        continue;
                if (i + 1 >= *argc || argv[i + 1][0] != '/') {
                        fprintf(stderr, "ctrcert-submit: --upstream needs the helper's absolute path\n");
                        return -EINVAL;
                }
                *ret_upstream = argv + i + 1; /* argv[argc] is NULL: a ready argument vector */
                *argc = i;
                return 0;
        }
        return 0;
}

static int parse_args(int argc, char **argv, const char **ret_config) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        *ret_config = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("ctrcert-submit %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "ctrcert-submit: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char **argv) {
        struct helper_ctx ctx = { .config_path = CTRCERT_CONFIG_PATH };
        struct helper_status st = {};
        const char *op = getenv("CERTMONGER_OPERATION");
        int r, code = EXIT_UNSUPPORTED;

        log_setup("ctrcert-submit");
        r = split_upstream(&argc, argv, &ctx.upstream);
        if (r >= 0)
                r = parse_args(argc, argv, &ctx.config_path);
        if (r <= 0)
                return r < 0 ? EXIT_UNCONFIGURED : EXIT_ISSUED;
        if (!op || !op[0])
                op = "SUBMIT";
        if (ctx.upstream)
                return run_upstream(&ctx, op);

        for (size_t i = 0; i < ELEMENTSOF(operations); i++) {
                if (!streq(op, operations[i].name))
                        continue;
                r = crypto_init();
                if (r >= 0)
                        r = operations[i].run(&ctx, &st);
                else
                        helper_fail(&st, FAIL_UNCONFIGURED, r, "OpenSSL cannot start");
                code = r < 0 ? report_failure(&st) : EXIT_ISSUED;
                break;
        }
        config_free(ctx.config);
        return code;
}

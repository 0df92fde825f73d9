/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * What a command's run returns: 0 when it did its job; a negative errno when
 * it failed, after logging why (once); or one of these documented conditions.
 * cli/main.c alone turns them into exit statuses (ctrcertctl(8), EXIT STATUS):
 * 0, 1 for a failure or CLI_FINDINGS, 2 for CLI_MISUSE.
 */
enum {
        CLI_FINDINGS = 1, /* it ran and found what its page says exits 1: manifest errors, audit findings, damage… */
        CLI_MISUSE = 2,   /* its command line is wrong and it said what; main adds the usage line */
        CLI_EXPIRING = 3, /* status: a certificate expired, is missing or expires within --warn-days (exit 2) */
};

/* Exit statuses: main.c's alone. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

struct cli_ctx {
        const char *config_path;
        bool config_explicit;
        const char *bus; /* the agent's bus: "system" (default), "session" or an address */
};

/* One option of a command: --name, and -short when set. */
struct cli_option {
        const char *name;
        char short_name;
        const char *arg;    /* the argument's name in --help ("DIR"); NULL: a flag */
        const char *help;
        const char *values; /* what completes the argument: words, "@file" or "@dir"; NULL: nothing */
};

#define CLI_OPTIONS_MAX 16
#define CLI_ARGS_ANY ((unsigned) -1)

/* A command line parsed against a command's table. */
struct cli_args {
        char **argv; /* the positional arguments, NULL-terminated */
        size_t argc;
        char **values[CLI_OPTIONS_MAX]; /* by option index: each argument given ("" for a flag), NULL: not given */
};

/*
 * One command of ctrcertctl, in the table of cli/main.c, which parses its
 * options, checks the number of its arguments, prints its --help and turns
 * what run returns into the exit status.
 */
struct cli_command {
        const char *name;    /* "status", or "ca init" for a command of a group */
        const char *usage;   /* what follows the name in the usage line: "[DIR] [--force]" */
        const char *summary; /* one line for ctrcertctl --help */
        const struct cli_option *options; /* ends with {}; an option's index is its place in cli_args.values */
        unsigned min_args, max_args;      /* positional arguments; CLI_ARGS_ANY: no limit */
        const char *complete_args;        /* what completes them: "@file", "@dir" or NULL */
        int (*run)(const struct cli_ctx *ctx, const struct cli_args *args);
};

/* The last argument given to option i ("" for a flag), NULL when it was not given. */
const char *cli_arg(const struct cli_args *a, size_t i);
static inline bool cli_flag(const struct cli_args *a, size_t i) {
        return a->values[i];
}

/*
 * A security-relevant change ctrcertctl made (ctrcertctl(8), EVENTS): one
 * journal entry with CTRCERT_EVENT=event and the fields, pairs of name and
 * value ending with NULL. Without a journal nothing more: stdout said it.
 */
void cli_event(const char *event, const char *message, ...);

/* The config, or the defaults when no file exists and none was asked for. */
int cli_load_config(const struct cli_ctx *ctx, struct config **ret);

/* ca.c */
extern const struct cli_command cli_ca_init, cli_ca_show, cli_ca_issue_node, cli_ca_rollover, cli_ca_install;
/* manifest-check.c */
extern const struct cli_command cli_manifest_check;
/* agent-client.c: talk to ctrcert-agent. */
extern const struct cli_command cli_status, cli_jobs, cli_release, cli_pause, cli_resume, cli_plan, cli_notify,
        cli_reload;
/* agent-client.c: each of certmonger's requests that saves its certificate to a file (nickname, cert-file). */
typedef int (*cli_request_t)(const char *nickname, const char *cert_file, void *userdata);
int cli_certmonger_requests(const struct cli_ctx *ctx, cli_request_t cb, void *userdata);
/* audit.c: what running containers mount against the manifest's bindings. */
extern const struct cli_command cli_audit;
/* revoke.c */
extern const struct cli_command cli_revoke, cli_crl;
/* index-check.c: the issuance index against the CA. */
extern const struct cli_command cli_index_check;

/* Readers of the index pass this: a damaged line is a warning with its number, and reading goes on. */
void cli_index_bad_line(const char *path, unsigned line, const char *why, void *userdata);

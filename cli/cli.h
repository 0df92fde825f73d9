/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "config.h"

/* Exit statuses of ctrcertctl: the CLI's boundary. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

struct cli_ctx {
        const char *config_path;
        bool config_explicit;
        const char *bus; /* the agent's bus: "system" (default), "session" or an address */
};

/* The config, or the defaults when no file exists and none was asked for. */
int cli_load_config(const struct cli_ctx *ctx, struct config **ret);

int cli_ca(const struct cli_ctx *ctx, int argc, char **argv);
int cli_manifest(const struct cli_ctx *ctx, int argc, char **argv);
/* status, jobs, release NAME, reload, plan PATH, notify PATH: talk to ctrcert-agent. */
int cli_agent(const struct cli_ctx *ctx, int argc, char **argv);
/* audit: what running containers mount against the manifest's bindings. */
int cli_audit(const struct cli_ctx *ctx, int argc, char **argv);
/* index check: the issuance index against the CA; exit 1 on damage. */
int cli_index(const struct cli_ctx *ctx, int argc, char **argv);
/* Readers of the index pass this: a damaged line is a warning with its number, and reading goes on. */
void cli_index_bad_line(const char *path, unsigned line, const char *why, void *userdata);
/* revoke SERIAL…|--id ID [--reason R], crl [--out PATH]. */
int cli_revoke(const struct cli_ctx *ctx, int argc, char **argv);

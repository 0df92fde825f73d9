/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "cadir.h"

/* The `ctrcertctl ca` subcommands, across cli/ca*.c; the directory itself is cadir's. */

/* ca.c: root and issuing CA of a generation (1 for `ca init`), in memory; errors logged. -EINVAL: subject is not a DN without CN. */
int ca_make(int key_type, const char *subject, unsigned generation, struct ca_material *m);

/* ca-rollover.c. Whether dir may roll over (root: it holds the root key; else a node's CA without one):
 * 0 yes, 1 an interrupted rollover was completed instead, <0 no (logged). */
int ca_rollover_begin(const char *dir, bool root);
int ca_rollover(const char *dir, int key_type, const char *subject);
struct cli_ctx;
/* ca-install.c: `ctrcertctl ca install SRC DIR`; a CLI_* status. */
int ca_install_dir(const char *src, const char *dir);
int ca_rollover_finish(const struct cli_ctx *ctx, const char *dir, bool force);

/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "manifest.h"

/*
 * The runtimes' command-line tools (podman, docker): what the agent runs when
 * podman's API does not answer, and what ctrcertctl audit runs. Every name
 * comes after "--", so no name is ever taken for an option. Pure: nothing
 * here runs anything.
 */

/* agent.podman or agent.docker. */
const char *runtime_cli(const struct config *cfg, int runtime);
/* The command for binding b's action on container name; *ret = NULL for action none. */
int runtime_action_argv(const struct config *cfg, const struct mf_container *b, const char *name, char ***ret);
/* cmd run inside container name (for runtime systemd: on the host). */
int runtime_exec_argv(const struct config *cfg, int runtime, const char *name, char *const *cmd, char ***ret);
/* Extracts a tar stream from stdin at / inside container name (the container's own tar). */
int runtime_copy_argv(const struct config *cfg, int runtime, const char *name, char ***ret);
/* The command that lists running container names, one per line. */
int runtime_list_argv(const struct config *cfg, int runtime, char ***ret);
/* The command that prints container name's mounts, "SOURCE\tDESTINATION" per line. */
int runtime_mounts_argv(const struct config *cfg, int runtime, const char *name, char ***ret);
/* "restart", "reload(SIGHUP)", "exec", "none" */
int runtime_action_describe(const struct mf_container *b, char **ret);
/* The names (one per line) a binding's match: pattern selects, appended to *ret. */
int runtime_match(const char *pattern, const char *names, char ***ret);

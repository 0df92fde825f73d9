/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>

#include "config.h"
#include "manifest.h"

/*
 * What an action means for each runtime: the podman/docker command line
 * (run through spawn.c), or the systemd Manager call on D-Bus.
 */

/* The command for binding b's action on container name; *ret = NULL for action none. */
int runtime_action_argv(const struct config *cfg, const struct mf_container *b, const char *name, char ***ret);
/* cmd run inside container name (for runtime systemd: on the host). */
int runtime_exec_argv(const struct config *cfg, int runtime, const char *name, char *const *cmd, char ***ret);
/* Extracts a tar stream from stdin at / inside container name. */
int runtime_copy_argv(const struct config *cfg, int runtime, const char *name, char ***ret);
/* The command that lists running container names, one per line. */
int runtime_list_argv(const struct config *cfg, int runtime, char ***ret);
/* "restart", "reload(SIGHUP)", "exec", "none" */
int runtime_action_describe(const struct mf_container *b, char **ret);

typedef void (*runtime_done_t)(int r, const char *message, void *userdata);
/* RestartUnit, ReloadUnit or KillUnit (reload with a signal given) on unit; done gets the reply. */
int runtime_systemd_call(DBusConnection *conn, const struct mf_container *b, const char *unit, runtime_done_t done,
                         void *userdata);

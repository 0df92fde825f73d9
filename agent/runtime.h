/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"
#include "manifest.h"
#include "tar.h"

/*
 * Everything the agent does to a container or a unit, in one place, made once
 * by main: podman through its REST API (podman-api.c), falling back to the
 * podman CLI when the socket does not answer; docker through its CLI; systemd
 * units through the Manager on the bus. Each operation ends in done, always
 * from the event loop, never inside the call that started it.
 */

struct runtime;
struct runtime_op;

/*
 * status: 0 done, > 0 a command's exit status, -ETIME timed out, -EINTR
 * killed, another -errno; output: what it printed, or why it failed.
 */
typedef void (*runtime_done_t)(int status, const char *output, void *userdata);

/* podman's API on cfg->agent.podman_socket (none when it is ""); step timeouts from cfg. */
int runtime_new(sd_event *event, const struct config *cfg, struct runtime **ret);
void runtime_free(struct runtime *rt);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct runtime *, runtime_free);
/* The bus for systemd units, NULL while disconnected (the runtime takes a reference). */
void runtime_set_bus(struct runtime *rt, DBusConnection *conn);

/* Binding b's action on name. *ret = NULL and done never called: nothing to do (action none). */
int runtime_act(struct runtime *rt, const struct mf_container *b, const char *name, runtime_done_t done, void *userdata,
                struct runtime_op **ret);
/* cmd in container name (runtime systemd: on the host), for at most timeout_usec. */
int runtime_exec(struct runtime *rt, int runtime, const char *name, char *const *cmd, uint64_t timeout_usec,
                 runtime_done_t done, void *userdata, struct runtime_op **ret);
/* The archive t extracted at / in container name (not for runtime systemd). */
int runtime_copy(struct runtime *rt, int runtime, const char *name, const struct tar *t, runtime_done_t done,
                 void *userdata, struct runtime_op **ret);
/* The running containers' names, one per line. */
int runtime_list(struct runtime *rt, int runtime, runtime_done_t done, void *userdata, struct runtime_op **ret);
/* Container name's mounts, "SOURCE\tDESTINATION" per line. */
int runtime_mounts(struct runtime *rt, int runtime, const char *name, runtime_done_t done, void *userdata,
                   struct runtime_op **ret);
/* Stops the operation (kills its process); done is not called. */
void runtime_op_cancel(struct runtime_op *op);

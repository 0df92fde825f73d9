/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

/*
 * podman's REST API (libpod v4) on its unix socket, one connection per call
 * driven by sd-event (http.c speaks the HTTP): restart and kill without
 * starting a podman process per call. When the socket does not
 * answer, the caller falls back to the command-line tool.
 */

struct podman_api;
struct podman_call;

/* r: 0 done; -EHOSTUNREACH when nothing answers on the socket (use the CLI); else -errno with podman's message. */
typedef void (*podman_api_done_t)(int r, const char *message, void *userdata);

int podman_api_new(sd_event *event, const char *socket_path, struct podman_api **ret);
void podman_api_free(struct podman_api *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct podman_api *, podman_api_free);

/* POST /libpod/containers/NAME/restart */
int podman_api_restart(struct podman_api *a, const char *name, uint64_t timeout_usec, podman_api_done_t done,
                       void *userdata, struct podman_call **ret);
/* POST /libpod/containers/NAME/kill?signal=SIG */
int podman_api_kill(struct podman_api *a, const char *name, int sig, uint64_t timeout_usec, podman_api_done_t done,
                    void *userdata, struct podman_call **ret);
/* Stops the call; done is not called. */
void podman_call_cancel(struct podman_call *c);

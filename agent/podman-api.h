/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "tar.h"

/*
 * podman's REST API (libpod v4) on its unix socket, one connection per
 * request, driven by sd-event (http.c speaks the HTTP). Every runtime action
 * the agent takes on a podman container goes through it, so no podman, conmon
 * or runc process is ever the agent's child: the agent's sandbox does not
 * reach them and a restarted container's conmon belongs to podman's service.
 * When nothing answers on the socket the caller falls back to the CLI.
 */

struct podman_api;
struct podman_op;

/*
 * r: 0 done, output the answer (an exec's output, names, mounts); > 0 an
 * exec's exit status, output its output; -EHOSTUNREACH nothing answers on the
 * socket (use the CLI); -ENOENT no such container; -ETIME no answer in time;
 * another -errno. On failure output says why, in podman's words when it gave any.
 */
typedef void (*podman_api_done_t)(int r, const char *output, void *userdata);

int podman_api_new(sd_event *event, const char *socket_path, struct podman_api **ret);
void podman_api_free(struct podman_api *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct podman_api *, podman_api_free);

/* POST …/NAME/restart */
int podman_api_restart(struct podman_api *a, const char *name, uint64_t timeout_usec, podman_api_done_t done,
                       void *userdata, struct podman_op **ret);
/* POST …/NAME/kill?signal=SIG */
int podman_api_kill(struct podman_api *a, const char *name, int sig, uint64_t timeout_usec, podman_api_done_t done,
                    void *userdata, struct podman_op **ret);
/* cmd in the container (exec create, start, inspect): its stdout and stderr, and its exit status. */
int podman_api_exec(struct podman_api *a, const char *name, char *const *cmd, uint64_t timeout_usec,
                    podman_api_done_t done, void *userdata, struct podman_op **ret);
/*
 * The archive t extracted at / in the running container (PUT …/archive,
 * without pausing it), owners as t has them: names mapped (in t) through the
 * container's own /etc/passwd and /etc/group first. t stays the caller's and
 * must live until done is called or the operation is cancelled.
 */
int podman_api_copy(struct podman_api *a, const char *name, struct tar *t, uint64_t timeout_usec,
                    podman_api_done_t done, void *userdata, struct podman_op **ret);
/* The names of the running containers, one per line. */
int podman_api_list(struct podman_api *a, uint64_t timeout_usec, podman_api_done_t done, void *userdata,
                    struct podman_op **ret);
/* The container's mounts, "SOURCE\tDESTINATION\n" each (kolla.h's mounts_container_path reads them). */
int podman_api_mounts(struct podman_api *a, const char *name, uint64_t timeout_usec, podman_api_done_t done,
                      void *userdata, struct podman_op **ret);
/* Stops the operation; done is not called. */
void podman_op_cancel(struct podman_op *op);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/*
 * The agent's children on its event loop: started by process_spawn()
 * (common/process.c, never a shell, no notify socket), reaped through
 * sd-event, their output (stdout and stderr, bounded) kept for the report,
 * and killed after a timeout. SIGCHLD must be blocked (main does it).
 */

#define SPAWN_OUTPUT_MAX 16384

struct spawn;

/* status: the exit code (>= 0), -ETIME on timeout, -EINTR when killed by a signal, -errno when it could not start. */
typedef void (*spawn_done_t)(int status, const char *output, void *userdata);

/* in_fd: the child's stdin (the caller keeps and closes it), or -1 for /dev/null. */
int spawn_start(sd_event *event, char *const argv[], int in_fd, uint64_t timeout_usec, spawn_done_t done,
                void *userdata, struct spawn **ret);
/* Kills the child (if still running) and frees; done is not called. */
void spawn_cancel(struct spawn *s);

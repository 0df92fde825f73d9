/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The one way ctrcert starts a program: posix_spawnp (never a shell), the
 * signal mask and handlers reset, and an environment without what a service
 * manager gave the parent alone (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*): a
 * child that saw them would speak for the agent to systemd. The agent wraps
 * it in its event loop (agent/spawn.c); the CLI runs and reads a child
 * synchronously with process_capture().
 */

/* The child's stdin, stdout and stderr: an fd to dup, or -1 (stdin: /dev/null; stdout, stderr: ours). */
struct process_fds {
        int in, out, err;
};

/* Starts argv[0] (looked up in PATH) with fds; -errno when it could not start. */
int process_spawn(char *const argv[], const struct process_fds *fds, pid_t *ret_pid);

/*
 * Runs argv with stdout to a pipe (stderr stays ours, or goes to /dev/null
 * when quiet: a probe whose failure is an answer) and returns what it
 * printed, NUL-terminated. -EIO when it exits non-zero or by a signal;
 * -EFBIG when the output passes max (the child is killed: a runtime must not
 * make us hold unbounded memory).
 */
int process_capture(char *const argv[], size_t max, bool quiet, char **ret_out);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/*
 * One agent per state directory: two would resume the same job queue and
 * act twice on every container. The first holds an exclusive flock on
 * STATE_DIR/agent/lock for its whole life (the kernel drops it when the
 * process ends, however it ends) and writes its pid into it for the message
 * a second one gives.
 */

/* Takes the lock (creating dir and lock as needed): its fd, to keep open. -EBUSY with the holder's pid (0 unknown) when held. */
int statelock_take(const char *dir, int *ret_fd, pid_t *ret_holder);

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "process.h"

extern char **environ;

/* Our environment without what systemd gave us alone. */
static char **child_environ(void) {
        static const char *const parent_only[] = { "NOTIFY_SOCKET=", "WATCHDOG_PID=", "WATCHDOG_USEC=",
                                                   "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=" };
        size_t n = 0, k = 0;
        char **env;

        while (environ[n])
                n++;
        env = calloc(n + 1, sizeof(*env));
        if (!env)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                bool keep = true;

                for (size_t j = 0; j < ELEMENTSOF(parent_only) && keep; j++)
                        keep = strncmp(environ[i], parent_only[j], strlen(parent_only[j])) != 0;
                if (keep)
                        env[k++] = environ[i];
        }
        return env;
}

int process_spawn(char *const argv[], const struct process_fds *fds, pid_t *ret_pid) {
        _cleanup_free_ char **env = child_environ();
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, defaults;
        int r;

        if (!env)
                return -ENOMEM;
        sigemptyset(&none);
        sigfillset(&defaults);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        if (fds->in >= 0)
                posix_spawn_file_actions_adddup2(&fa, fds->in, 0);
        else
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (fds->out >= 0)
                posix_spawn_file_actions_adddup2(&fa, fds->out, 1);
        if (fds->err >= 0)
                posix_spawn_file_actions_adddup2(&fa, fds->err, 2);
        /* Our blocked signals (the agent's SIGCHLD, SIGTERM, …) and handlers are ours, not the child's. */
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        r = posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return -r;
}

int process_capture(char *const argv[], size_t max, bool quiet, char **ret_out) {
        _cleanup_free_ char *out = NULL;
        _cleanup_close_ int null_fd = -1;
        int fds[2], status = 0, r;
        pid_t pid;

        if (quiet && (null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
                return negative_errno();
        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        r = process_spawn(argv, &(struct process_fds) { .in = -1, .out = fds[1], .err = null_fd }, &pid);
        close(fds[1]);
        if (r < 0) {
                close(fds[0]);
                return r;
        }
        r = read_fd_full(fds[0], max, &out, NULL);
        close(fds[0]);
        if (r < 0)
                (void) kill(pid, SIGKILL); /* it would block on a full pipe, or run on unread */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        *ret_out = TAKE_PTR(out);
        return 0;
}

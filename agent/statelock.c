/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "safedir.h"
#include "statelock.h"

static pid_t holder_pid(int fd) {
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        long pid;

        if (n <= 0)
                return 0;
        buf[n] = '\0';
        pid = strtol(buf, NULL, 10);
        return pid > 0 ? (pid_t) pid : 0;
}

int statelock_take(const char *dir, int *ret_fd, pid_t *ret_holder) {
        _cleanup_close_ int dfd = -1, fd = -1;
        char pid[32];
        struct stat st;
        int r, n;

        *ret_holder = 0;
        r = safedir_open(dir, true, 0700, &dfd);
        if (r < 0)
                return r;
        fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return negative_errno();
                *ret_holder = holder_pid(fd);
                return -EBUSY;
        }
        /* Ours now: a pid left by an agent that ended is overwritten. */
        n = snprintf(pid, sizeof(pid), "%ld\n", (long) getpid());
        if (ftruncate(fd, 0) < 0)
                return negative_errno();
        if (pwrite(fd, pid, (size_t) n, 0) != n)
                return -EIO;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

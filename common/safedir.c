/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "safedir.h"

#define SAFEDIR_MAX_LINKS 32
/* O_PATH: walking needs search permission only, as the kernel's own walk does (SELinux: no read on every directory). */
#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Only root can add, remove or rename entries in it. */
static bool dir_trusted(int fd) {
        struct stat st;

        return fstat(fd, &st) == 0 && st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static int open_root(int *ret_fd, bool *ret_trusted) {
        int fd = open("/", DIR_FLAGS);

        if (fd < 0)
                return negative_errno();
        *ret_trusted = dir_trusted(fd);
        *ret_fd = fd;
        return 0;
}

static int read_link(int dfd, const char *name, char **ret) {
        char buf[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);

        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* From dfd into its entry name: 0 with the directory in *ret_fd, or 1 for a symlink with its target in *ret_target. */
static int step(int dfd, const char *name, bool create, mode_t mode, int *ret_fd, char **ret_target) {
        struct stat st;
        int fd = openat(dfd, name, DIR_FLAGS);

        if (fd < 0 && errno == ENOENT && create) {
                if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                fd = openat(dfd, name, DIR_FLAGS);
        }
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        /* O_NOFOLLOW|O_DIRECTORY on a symlink: ELOOP or ENOTDIR, depending on the kernel. */
        if (errno != ELOOP && errno != ENOTDIR)
                return negative_errno();
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISLNK(st.st_mode))
                return -ENOTDIR;
        return read_link(dfd, name, ret_target) < 0 ? -ENOMEM : 1;
}

/* The next component of *p (empty at the end); *p moves past it. */
static char *next_component(char **p) {
        char *name = *p + strspn(*p, "/");
        size_t n = strcspn(name, "/");

        *p = name + n + (name[n] == '/');
        name[n] = '\0';
        return name;
}

int safedir_open(const char *path, bool create, mode_t mode, int *ret_fd) {
        _cleanup_free_ char *todo = NULL;
        _cleanup_close_ int dfd = -1;
        unsigned links = 0;
        bool trusted;
        char *p, *name;
        int r;

        if (path[0] != '/')
                return -EINVAL;
        todo = strdup(path);
        if (!todo)
                return -ENOMEM;
        r = open_root(&dfd, &trusted);
        if (r < 0)
                return r;
        for (p = todo; *(name = next_component(&p));) {
                _cleanup_free_ char *target = NULL;
                char *rest;
                int fd = -1;

                if (streq(name, "."))
                        continue;
                r = step(dfd, name, create, mode, &fd, &target);
                if (r < 0)
                        return r;
                if (r == 0) {
                        close(dfd);
                        dfd = fd;
                        trusted = trusted && dir_trusted(dfd);
                        continue;
                }
                /* A symlink: followed only where no one but root could have put it. */
                if (!trusted || ++links > SAFEDIR_MAX_LINKS)
                        return -ELOOP;
                if (asprintf(&rest, "%s/%s", target, p) < 0)
                        return -ENOMEM;
                free(todo);
                p = todo = rest;
                if (target[0] == '/') {
                        close(TAKE_FD(dfd));
                        r = open_root(&dfd, &trusted);
                        if (r < 0)
                                return r;
                }
        }
        *ret_fd = TAKE_FD(dfd);
        return 0;
}

int safedir_open_parent(const char *path, int *ret_dfd, const char **ret_name) {
        const char *name = strrchr(path, '/');
        _cleanup_free_ char *dir = NULL;
        int r;

        if (!name)
                return -EINVAL;
        name++;
        if (!name[0] || streq(name, ".") || streq(name, ".."))
                return -EISDIR;
        dir = strndup(path, (size_t) (name - path));
        if (!dir)
                return -ENOMEM;
        r = safedir_open(dir, false, 0, ret_dfd);
        if (r < 0)
                return r;
        *ret_name = name;
        return 0;
}

int safedir_open_regular(int dfd, const char *name, int *ret_fd) {
        int fd = open_regular_at(dfd, name, O_NOFOLLOW);

        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

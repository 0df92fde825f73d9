/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

/*
 * Opens path for reading if it is a regular file. O_NONBLOCK: opening a FIFO
 * someone planted where a file is expected must not hang us (it would until
 * a writer came); the fstat then refuses it, and a device, a socket or a
 * directory alike.
 */
static int open_regular(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        /* a regular file never blocks; clear the flag anyway so reads mean what they say */
        if (fcntl(fd, F_SETFL, 0) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

const char *read_error_str(int error) {
        return error == -EBADFD ? "not a regular file (a FIFO, device or socket)" : strerror(-error);
}

int read_file_full(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open_regular(path);

        if (fd < 0)
                return fd;
        return read_fd_full(fd, max, ret, ret_len);
}

int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        /* Read up to max + 1 bytes: one byte past the limit tells "too big" from "exactly max". */
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        size_t want = cap == 0 ? 4096 : cap * 2;
                        char *p;

                        if (cap > max)
                                return -EFBIG;
                        if (want > max + 1)
                                want = max + 1;
                        p = realloc(buf, want + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        cap = want;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (len > max)
                return -EFBIG;

        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int write_all(int fd, const void *data, size_t len) {
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int fsync_parent_dir(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -1;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        if (fsync(dfd) < 0)
                return negative_errno();
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_atomic_owned(path, data, len, mode, (uid_t) -1, (gid_t) -1);
}

int write_file_atomic_owned(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        /* Owner and mode are set before any byte is written: a key is never readable by others. */
        if ((uid != (uid_t) -1 || gid != (gid_t) -1) && fchown(fd, uid, gid) < 0)
                r = negative_errno();
        else if (fchmod(fd, mode) < 0)
                r = negative_errno();
        else if ((r = write_all(fd, data, len)) >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return fsync_parent_dir(path);
}

int lock_dir(const char *path, int operation) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        while (flock(fd, operation) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return TAKE_FD(fd);
}

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

int check_private_file(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        if (st.st_mode & (S_IRWXG | S_IRWXO))
                return -EPERM;
        return 0;
}

/*
 * 0 when st (of path) may be trusted; else -EPERM and why in *ret_why.
 * final: path itself rather than a directory above it.
 */
static int trust_verdict(const char *path, const struct stat *st, bool final, mode_t type, char **ret_why) {
        bool sticky_dir = !final && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
        int r = 0;

        if (st->st_uid != 0)
                r = asprintf(ret_why, "%s is owned by uid %u, not root (fix: chown root %s)", path,
                             (unsigned) st->st_uid, path);
        else if (S_ISLNK(st->st_mode))
                return 0; /* a link's own mode means nothing */
        else if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir)
                r = asprintf(ret_why, "%s is writable by group or others (mode %04o; fix: chmod go-w %s)", path,
                             (unsigned) (st->st_mode & 07777), path);
        else if (!final && !S_ISDIR(st->st_mode))
                return -ENOTDIR;
        else if (final && type && (st->st_mode & S_IFMT) != type)
                r = asprintf(ret_why, "%s is not a %s", path, type == S_IFDIR ? "directory" : "regular file");
        else
                return 0;
        return r < 0 ? -ENOMEM : -EPERM;
}

/* Where the link at link_path points, followed by rest (what came after it): the path to walk next. */
static int link_next(const char *link_path, const char *rest, char **ret) {
        _cleanup_free_ char *copy = strdup(link_path);
        char target[PATH_MAX];
        ssize_t n = readlink(link_path, target, sizeof(target) - 1);

        if (!copy)
                return -ENOMEM;
        if (n < 0)
                return negative_errno();
        target[n] = '\0';
        if (asprintf(ret, "%s%s%s%s", target[0] == '/' ? "" : dirname(copy), target[0] == '/' ? "" : "/", target,
                     rest) < 0)
                return -ENOMEM;
        return 0;
}

static int trust_walk(const char *path, mode_t type, unsigned depth, char **ret_why) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;
        size_t len;
        int r;

        if (!p)
                return -ENOMEM;
        if (p[0] != '/')
                return -EINVAL;
        if (depth > 40)
                return -ELOOP;
        len = strlen(p);
        while (len > 1 && p[len - 1] == '/')
                p[--len] = '\0';
        if (lstat("/", &st) < 0)
                return negative_errno();
        r = trust_verdict("/", &st, len == 1, type, ret_why);
        /* Each prefix ending before a '/' or at the end, from the top down. */
        for (size_t e = 1; r >= 0 && e <= len; e++) {
                char c = p[e];

                if ((c != '/' && c != '\0') || p[e - 1] == '/')
                        continue;
                p[e] = '\0';
                if (lstat(p, &st) < 0)
                        r = negative_errno();
                else
                        r = trust_verdict(p, &st, e == len, type, ret_why);
                if (r >= 0 && S_ISLNK(st.st_mode)) {
                        _cleanup_free_ char *next = NULL;

                        r = link_next(p, path + e, &next);
                        return r < 0 ? r : trust_walk(next, type, depth + 1, ret_why);
                }
                p[e] = c;
        }
        return r;
}

int path_check_trusted(const char *path, mode_t type, char **ret_why) {
        _cleanup_free_ char *cwd = NULL, *abs = NULL;

        *ret_why = NULL;
        if (path[0] == '/')
                return trust_walk(path, type, 0, ret_why);
        /* relative to the working directory, which is then checked too */
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return negative_errno();
        abs = path_join(cwd, path);
        return abs ? trust_walk(abs, type, 0, ret_why) : -ENOMEM;
}

char *path_join(const char *dir, const char *name) {
        char *p;
        size_t l = strlen(dir);

        if (asprintf(&p, "%s%s%s", dir, l > 0 && dir[l - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return p;
}

/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "safedir.h"

/*
 * Opens path (relative to dfd) for reading if it is a regular file, with
 * extra open flags (O_NOFOLLOW for safedir). O_NONBLOCK: opening a FIFO
 * someone planted where a file is expected must not hang us (it would until
 * a writer came); the fstat then refuses it, and a device, a socket or a
 * directory alike. The fd, or a negative errno.
 */
int open_regular_at(int dfd, const char *path, int flags) {
        _cleanup_close_ int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
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
        _cleanup_close_ int fd = open_regular_at(AT_FDCWD, path, 0);

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

#define TMP_SUFFIX_LEN 6

/* Six characters of [A-Za-z0-9]: random, or (early at boot, no entropy yet) from the clock, as mkostemp does. */
static void tmp_suffix(char ret[TMP_SUFFIX_LEN + 1], unsigned attempt) {
        static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char rnd[TMP_SUFFIX_LEN];

        if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t) sizeof(rnd)) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                for (size_t i = 0; i < sizeof(rnd); i++)
                        rnd[i] = (unsigned char) ((uint64_t) ts.tv_nsec >> (i * 5)) ^ (unsigned char) (getpid() >> i) ^
                                 (unsigned char) (attempt * 7u + i);
        }
        for (size_t i = 0; i < sizeof(rnd); i++)
                ret[i] = chars[rnd[i] % (sizeof(chars) - 1)];
        ret[TMP_SUFFIX_LEN] = '\0';
}

/* An empty file name.tmpXXXXXX beside name in dfd, opened for writing; never an existing entry (O_EXCL keeps even a guessed name safe). */
static int tmp_create(int dfd, const char *name, char **ret_tmp, int *ret_fd) {
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                _cleanup_free_ char *tmp = NULL;
                char suffix[TMP_SUFFIX_LEN + 1];
                int fd;

                tmp_suffix(suffix, attempt);
                if (asprintf(&tmp, "%s.tmp%s", name, suffix) < 0)
                        return -ENOMEM;
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        *ret_tmp = TAKE_PTR(tmp);
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}

/* dfd is an O_PATH fd (safedir.h): fsync needs the directory opened for reading. */
static int fsync_dir(int dfd) {
        _cleanup_close_ int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_atomic_owned(path, data, len, mode, (uid_t) -1, (gid_t) -1);
}

int write_file_atomic_owned(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int dfd = -1, fd = -1;
        const char *name;
        int r;

        /* Everything from here on is relative to this directory: swapping it for a link later changes nothing. */
        r = safedir_open_parent(path, &dfd, &name);
        if (r >= 0)
                r = tmp_create(dfd, name, &tmp, &fd);
        if (r < 0)
                return r;

        /* Owner and mode are set before any byte is written: a key is never readable by others. */
        if ((uid != (uid_t) -1 || gid != (gid_t) -1) && fchown(fd, uid, gid) < 0)
                r = negative_errno();
        else if (fchmod(fd, mode) < 0)
                r = negative_errno();
        else if ((r = write_all(fd, data, len)) >= 0 && fsync(fd) < 0)
                r = negative_errno();
        /* rename replaces whatever is at name (a FIFO, a link) without opening it. */
        if (r >= 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                unlinkat(dfd, tmp, 0);
                return r;
        }
        return fsync_dir(dfd);
}

int read_file_safe(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int dfd = -1, fd = -1;
        const char *name;
        int r;

        r = safedir_open_parent(path, &dfd, &name);
        if (r >= 0)
                r = safedir_open_regular(dfd, name, &fd);
        if (r < 0)
                return r;
        return read_fd_full(fd, max, ret, ret_len);
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
        _cleanup_close_ int fd = -1;

        return safedir_open(path, true, mode, &fd);
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

int path_dir_read_only(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        struct statvfs sv;

        if (!dir)
                return -ENOMEM;
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        if (statvfs(slash ? dir : ".", &sv) < 0)
                return 0;
        return sv.f_flag & ST_RDONLY ? -EROFS : 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Every file ctrcert reads is bounded: a manifest, a PEM file, a CSR. */
#define FILEIO_MAX_SIZE (4u * 1024u * 1024u)

/*
 * Reads a whole file, NUL-terminated. -EFBIG past max bytes; -EBADFD for a
 * FIFO, device or socket and -EISDIR for a directory, without blocking.
 */
int read_file_full(const char *path, size_t max, char **ret, size_t *ret_len);
/* Reads fd to its end (a pipe too), NUL-terminated; the caller closes it. -EFBIG past max bytes: the
 * caller stops a writer. */
int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len);
/* A regular file opened for reading (relative to dfd, AT_FDCWD), never blocking on a FIFO: the fd, or
 * -EISDIR, -EBADFD (not a regular file) or another negative errno. flags: extra open flags (O_NOFOLLOW). */
int open_regular_at(int dfd, const char *path, int flags);
/* What a read_file_full() failure means, for a message. */
const char *read_error_str(int error);
/*
 * Reads a file in a directory others than root may own (see safedir.h):
 * no symlink they planted is followed, the file itself is never a symlink
 * (-ELOOP), and a FIFO, device or socket is refused without waiting on it
 * (-EBADFD).
 */
int read_file_safe(const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * Replaces path atomically: temp file in the same directory, fchmod, write,
 * fsync, rename, fsync of the directory. Readers see the old or the new file,
 * never a half-written one. The directory is resolved as safedir.h says (no
 * symlink a non-root owner planted is followed), and whatever was at path (a
 * FIFO, a symlink) is replaced, never opened.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same, owned by uid:gid ((uid_t) -1 / (gid_t) -1 leave one unchanged). */
int write_file_atomic_owned(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid);

/* Creates a directory and its parents (missing ones get mode), resolved as safedir.h says. */
int mkdir_parents(const char *path, mode_t mode);

/* -EPERM when the file is readable by group or others (a private key must not be). */
int check_private_file(const char *path);

/*
 * sshd's StrictModes for what only root may control (config, manifest, CA,
 * state): path, every directory above it and every symbolic link on the way
 * (and its target, likewise) must be owned by root, and path and the
 * directories above it must not be writable by group or others; a directory
 * above it may be when it is root's and sticky (/tmp). type is S_IFREG,
 * S_IFDIR or 0 (any). 0 when trusted; -EPERM with *ret_why set (the path at
 * fault, what is wrong and the fix, one line) when not; -ENOENT, -ELOOP, ….
 */
int path_check_trusted(const char *path, mode_t type, char **ret_why);

/*
 * flock(2) on a directory (LOCK_SH or LOCK_EX, blocking): readers of a set of
 * files take it shared, whoever replaces the set takes it exclusive. Returns
 * the fd that holds the lock (close it to release) or a negative errno.
 */
int lock_dir(const char *path, int operation);

/* Joins a directory and a file name into a new string. */
char *path_join(const char *dir, const char *name);

/*
 * -EROFS when the directory path is in sits on a read-only mount (as the
 * agent's unit, ProtectSystem=strict, makes everything it is not given), else
 * 0: a directory that is missing is another error, reported where it is used.
 */
int path_dir_read_only(const char *path);

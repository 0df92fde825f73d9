/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Every file ctrcert reads is bounded: a manifest, a PEM file, a CSR. */
#define FILEIO_MAX_SIZE (4u * 1024u * 1024u)

/* Reads a whole file, NUL-terminated. -EFBIG past max bytes. */
int read_file_full(const char *path, size_t max, char **ret, size_t *ret_len);
/* The same from an open file descriptor (the caller closes it). */
int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len);
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
 * flock(2) on a directory (LOCK_SH or LOCK_EX, blocking): readers of a set of
 * files take it shared, whoever replaces the set takes it exclusive. Returns
 * the fd that holds the lock (close it to release) or a negative errno.
 */
int lock_dir(const char *path, int operation);

/* Joins a directory and a file name into a new string. */
char *path_join(const char *dir, const char *name);

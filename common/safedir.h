/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * Directories that others than root may own: a bundle in haproxy's
 * certificate directory, a CRL in a web root. Paths are resolved one
 * component at a time from / with O_NOFOLLOW, and a symlink is followed
 * only while every directory so far, the one holding the link included, is
 * owned by root and writable by no one else: only root could have put it
 * there. Below the first directory that fails that test a symlink is an
 * error (-ELOOP), whoever made it. The caller then works relative to the
 * directory fd it got, so a directory swapped for a link afterwards changes
 * nothing.
 */

/*
 * Opens directory path as an O_PATH fd (for *at() calls and fstat; reopen "." to read or fsync it):
 * walking needs only search permission, as the kernel's own walk does. Missing components are
 * created with mode when create is set.
 */
int safedir_open(const char *path, bool create, mode_t mode, int *ret_fd);

/*
 * Opens the directory holding path; *ret_name points at path's last
 * component (never empty, "." or ".."). The directory must exist.
 */
int safedir_open_parent(const char *path, int *ret_dfd, const char **ret_name);

/*
 * Opens name in dfd for reading without following a symlink and without
 * blocking on a FIFO: -ELOOP for a symlink, -EISDIR for a directory,
 * -EBADFD for anything else that is not a regular file.
 */
int safedir_open_regular(int dfd, const char *name, int *ret_fd);

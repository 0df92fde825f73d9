/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/*
 * A POSIX ustar archive in memory: how files reach a running container
 * (podman's archive endpoint, or `exec -i NAME tar -xpf - -C /` for the
 * command-line tools). Neither pauses the container.
 */

struct tar {
        char *data;
        size_t len, alloc;
};

/* Regular file at path (absolute; stored relative to /). user/group: names for the container's tar ("" none). */
int tar_add_file(struct tar *t, const char *path, const void *content, size_t len, mode_t mode, uid_t uid, gid_t gid,
                 const char *user, const char *group);
/* The two zero blocks that end an archive. */
int tar_finish(struct tar *t);
void tar_done(struct tar *t);
/* *dst (empty) becomes a copy of src. */
int tar_copy(struct tar *dst, const struct tar *src);

/* Whether an entry names its owner or group (tar_map_owners has work). */
bool tar_has_names(const struct tar *t);
/*
 * Sets each entry's uid and gid from its user and group names as the
 * container's passwd and group texts have them, as the container's own tar
 * would: a name they do not have keeps the numeric id.
 */
int tar_map_owners(struct tar *t, const char *passwd, const char *group);
/* The first regular file of an archive (podman's answer to GET …/archive); -EBADMSG when there is none. */
int tar_first_file(const char *data, size_t len, const char **ret, size_t *ret_len);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/*
 * A POSIX ustar archive in memory: how files reach a running container
 * (`podman exec -i NAME tar -xpf - -C /`). `podman cp` pauses the container
 * while it copies; a tar stream through exec does not.
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

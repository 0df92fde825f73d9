/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/*
 * The agent's durable job queue: one small text file per container under
 * state_dir/agent/, written atomically (fsync'd) before any step of its job
 * runs and removed only when the job has finished. A record holds the
 * container's key (runtime/name or runtime/~pattern), the certificate ids it
 * waits for, whether it is held by the restart budget, and (when known) when
 * the certificate the container still uses expires, which lets a job that
 * waits for a maintenance window run earlier (optional line):
 *
 *     ctrcert-job 1
 *     key podman/ctr-a
 *     held 0
 *     expires 1796083200
 *     cert web-a
 */

struct jobstore;

struct job_record {
        const char *key;
        bool held;
        int64_t expires; /* seconds since the epoch; 0: unknown */
        char *const *ids;
};

typedef void (*jobstore_load_t)(const struct job_record *rec, void *userdata);

/* Creates dir (0700) when missing. */
int jobstore_open(const char *dir, struct jobstore **ret);
void jobstore_free(struct jobstore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct jobstore *, jobstore_free);

int jobstore_save(struct jobstore *s, const struct job_record *rec);
/* Missing is fine. */
int jobstore_remove(struct jobstore *s, const char *key);
/*
 * Calls cb for every well-formed record; a malformed one is logged (file:line)
 * and left in place. A record under another name than its key's is removed
 * after cb (which saves what it keeps).
 */
int jobstore_load_all(struct jobstore *s, jobstore_load_t cb, void *userdata);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "macro.h"

/*
 * What each certificate file looked like when the agent last took notice of
 * it (device, inode, mtime, size: certmonger replaces a file by rename, an
 * operator may rewrite it in place), kept in state_dir/agent/seen. At start
 * the agent compares every bound certificate with it: one that changed while
 * no agent was running (stopped, crashed, upgraded, not yet started at boot)
 * gets its job as if certmonger's signal had arrived. Saving may lag the
 * events (seen_save after a burst): a lost update costs one extra job, never
 * a missed one.
 *
 *     ctrcert-seen 1
 *     DEV INO MTIME_NS SIZE PATH
 */

struct seen;

/* Reads dir/seen (missing: nothing seen yet). A malformed line is logged and skipped. */
int seen_open(const char *dir, struct seen **ret);
void seen_free(struct seen *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct seen *, seen_free);

/*
 * Takes notice of path as it is now. *ret_changed: it differs from what was
 * seen before (false when it was never seen: the first look is the baseline,
 * or when it cannot be read now).
 */
int seen_note(struct seen *s, const char *path, bool *ret_changed);
/* Writes dir/seen atomically when something was noted since the last save. */
int seen_save(struct seen *s);

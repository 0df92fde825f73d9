/* SPDX-License-Identifier: MIT */
#pragma once

#include "manifest.h"

/*
 * One manifest snapshot and its index by certificate path, for O(1) lookup of
 * a saved certificate. Reference-counted: a reload makes a new snapshot while
 * jobs scheduled under the old one keep it alive until they finish.
 */

struct bindings;

/* Takes ownership of m. */
int bindings_new(struct manifest *m, struct bindings **ret);
struct bindings *bindings_ref(struct bindings *b);
struct bindings *bindings_unref(struct bindings *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bindings *, bindings_unref);

const struct manifest *bindings_manifest(const struct bindings *b);
/* The certificate whose cert file is path (as written, or after resolving links and dots), or NULL. */
const struct mf_cert *bindings_lookup(const struct bindings *b, const char *path);
size_t bindings_count(const struct bindings *b); /* certificate × container pairs */

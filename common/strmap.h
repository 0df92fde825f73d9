/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * A string → pointer map (open addressing, FNV-1a) for lookups that must
 * stay O(1) with tens of thousands of entries: the agent's certificate
 * paths, the manifest's duplicate checks. Keys are not copied: they must
 * outlive the map.
 */

struct strmap;

int strmap_new(size_t expected, struct strmap **ret);
void strmap_free(struct strmap *m);
/* Adds key → value; when key is there already, returns 1 and sets *ret_existing, adding nothing. */
int strmap_put(struct strmap *m, const char *key, void *value, void **ret_existing);
void *strmap_get(const struct strmap *m, const char *key);
/* The map's hash (FNV-1a, 64 bits), for others that need a stable one (the job store's file names). */
uint64_t strmap_hash(const char *s);

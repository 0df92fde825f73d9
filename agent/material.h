/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "manifest.h"

/*
 * What a job puts where: the PEM parts of a saved certificate (its cert and
 * key files as certmonger wrote them; chain and root found in agent.ca_bundle
 * above the certificate), the bundle file assembled from them, and owners.
 * Errors come with a message naming the file at fault in errbuf.
 */

/* The text of one source (enum copy_source) of cert c. */
int material_read(const struct mf_cert *c, int source, const char *ca_bundle, char **ret, size_t *ret_len,
                  char *errbuf, size_t errlen);

/* Writes c's bundle (atomically, with its owner and mode); 0 when c has none. */
int material_write_bundle(const struct mf_cert *c, const char *ca_bundle, char *errbuf, size_t errlen);

/* The mode a file gets when the manifest gives none: private for a key or a bundle holding one. */
mode_t material_default_mode(const struct mf_cert *c, int source);

/*
 * "user", "user:group" or "uid:gid" → ids. Names are looked up with lookup
 * true (on the host); otherwise only numbers resolve and names are returned
 * as they are, for the container's own tar to look up. (uid_t) -1 /
 * (gid_t) -1 for a part not given.
 */
struct owner {
        uid_t uid;
        gid_t gid;
        char user[33], group[33]; /* names as written, "" for numbers */
};
int owner_parse(const char *spec, bool lookup, struct owner *ret);

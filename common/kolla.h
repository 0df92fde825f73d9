/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * kolla's /var/lib/kolla/config_files/config.json, as TripleO writes it: the
 * container's start script copies each "config_files" rule's source (a file,
 * a directory, or a glob such as ".../src-tls/ *", without the blank) to its dest before the
 * service starts. A certificate mounted under the source tree is therefore
 * read from its copy, and a renewal reaches the service only through a new
 * copy or a restart. Pure: text in, paths out (the caller reads the file
 * through the runtime).
 */

#define KOLLA_CONFIG_JSON "/var/lib/kolla/config_files/config.json"
#define KOLLA_CONFIG_MAX (1024u * 1024u)

struct kolla_rule {
        char *source;
        char *dest;
};

/* The copy rules of a config.json text; -EBADMSG when it is not such a document. */
int kolla_parse(const char *buf, size_t len, struct kolla_rule **ret, size_t *ret_n);
void kolla_rules_free(struct kolla_rule *v, size_t n);

/*
 * Where the start script puts the file that the container sees at path:
 * 1 and *ret (caller frees) when a rule copies it, 0 when none does.
 */
int kolla_dest_for(const struct kolla_rule *v, size_t n, const char *path, char **ret);

/*
 * mounts: "SOURCE<TAB>DESTINATION" lines (the runtime's inspect). The path at
 * which the container sees host_path through the innermost mount covering
 * it, or NULL when none does (or out of memory).
 */
char *mounts_container_path(const char *mounts, const char *host_path);

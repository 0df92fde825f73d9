/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "strmap.h"

struct bindings {
        unsigned ref;
        struct manifest *m;
        struct strmap *by_path; /* certificate path (as written and resolved) → struct mf_cert */
        char **owned;           /* resolved paths that differ from the manifest's */
        size_t n_owned;
        size_t n_pairs;
};

/* The manifest's path, and its resolved form when the file exists and they differ. */
static int index_cert(struct bindings *b, const struct mf_cert *c) {
        char resolved[PATH_MAX];

        if (strmap_put(b->by_path, c->cert, (void *) c, NULL) < 0)
                return -ENOMEM;
        if (!realpath(c->cert, resolved) || streq(resolved, c->cert))
                return 0;
        b->owned[b->n_owned] = strdup(resolved);
        if (!b->owned[b->n_owned])
                return -ENOMEM;
        return strmap_put(b->by_path, b->owned[b->n_owned++], (void *) c, NULL) < 0 ? -ENOMEM : 0;
}

int bindings_new(struct manifest *m, struct bindings **ret) {
        struct bindings *b = calloc(1, sizeof(*b));
        int r;

        if (!b) {
                manifest_free(m);
                return -ENOMEM;
        }
        b->ref = 1;
        b->m = m;
        r = strmap_new(m->n_certs * 2, &b->by_path); /* two paths per certificate at most */
        b->owned = calloc(m->n_certs + 1, sizeof(char *));
        if (r >= 0 && !b->owned)
                r = -ENOMEM;
        for (size_t i = 0; i < m->n_certs && r >= 0; i++) {
                r = index_cert(b, &m->certs[i]);
                b->n_pairs += m->certs[i].n_containers;
        }
        if (r < 0) {
                bindings_unref(b);
                return r;
        }
        *ret = b;
        return 0;
}

struct bindings *bindings_ref(struct bindings *b) {
        b->ref++;
        return b;
}

struct bindings *bindings_unref(struct bindings *b) {
        if (!b || --b->ref > 0)
                return NULL;
        for (size_t i = 0; i < b->n_owned; i++)
                free(b->owned[i]);
        free(b->owned);
        strmap_free(b->by_path);
        manifest_free(b->m);
        free(b);
        return NULL;
}

const struct manifest *bindings_manifest(const struct bindings *b) {
        return b->m;
}

size_t bindings_count(const struct bindings *b) {
        return b->n_pairs;
}

const struct mf_cert *bindings_lookup(const struct bindings *b, const char *path) {
        char resolved[PATH_MAX];
        const struct mf_cert *c = strmap_get(b->by_path, path);

        if (c || !realpath(path, resolved))
                return c;
        return strmap_get(b->by_path, resolved);
}

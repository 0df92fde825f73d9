/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"

struct slot {
        const char *path; /* points into the manifest or into owned */
        const struct mf_cert *cert;
};

struct bindings {
        unsigned ref;
        struct manifest *m;
        struct slot *slots;
        size_t n_slots; /* a power of two */
        char **owned;   /* resolved paths that differ from the manifest's */
        size_t n_owned;
        size_t n_pairs;
};

static uint64_t hash(const char *s) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

static struct slot *slot_for(const struct bindings *b, const char *path) {
        size_t mask = b->n_slots - 1, i = hash(path) & mask;

        while (b->slots[i].path && !streq(b->slots[i].path, path))
                i = (i + 1) & mask;
        return &b->slots[i];
}

static void insert(struct bindings *b, const char *path, const struct mf_cert *c) {
        struct slot *s = slot_for(b, path);

        s->path = path;
        s->cert = c;
}

/* The manifest's path, and its resolved form when the file exists and they differ. */
static int index_cert(struct bindings *b, const struct mf_cert *c) {
        char resolved[PATH_MAX];

        insert(b, c->cert, c);
        if (!realpath(c->cert, resolved) || streq(resolved, c->cert))
                return 0;
        b->owned[b->n_owned] = strdup(resolved);
        if (!b->owned[b->n_owned])
                return -ENOMEM;
        insert(b, b->owned[b->n_owned++], c);
        return 0;
}

int bindings_new(struct manifest *m, struct bindings **ret) {
        struct bindings *b = calloc(1, sizeof(*b));
        size_t want = 16;
        int r = 0;

        if (!b) {
                manifest_free(m);
                return -ENOMEM;
        }
        b->ref = 1;
        b->m = m;
        while (want < m->n_certs * 4) /* two paths per certificate at most, kept under half full */
                want *= 2;
        b->n_slots = want;
        b->slots = calloc(want, sizeof(*b->slots));
        b->owned = calloc(m->n_certs + 1, sizeof(char *));
        if (!b->slots || !b->owned)
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
        free(b->slots);
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
        const struct slot *s = slot_for(b, path);

        if (s->path)
                return s->cert;
        if (!realpath(path, resolved))
                return NULL;
        s = slot_for(b, resolved);
        return s->path ? s->cert : NULL;
}

/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "macro.h"
#include "strmap.h"

struct slot {
        const char *key;
        void *value;
};

struct strmap {
        struct slot *slots;
        size_t n_slots; /* a power of two, at least twice the entries */
        size_t n;
};

uint64_t strmap_hash(const char *s) {
        uint64_t h = 1469598103934665603ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

static struct slot *slot_for(struct slot *slots, size_t n_slots, const char *key) {
        size_t mask = n_slots - 1, i = strmap_hash(key) & mask;

        while (slots[i].key && !streq(slots[i].key, key))
                i = (i + 1) & mask;
        return &slots[i];
}

int strmap_new(size_t expected, struct strmap **ret) {
        struct strmap *m = calloc(1, sizeof(*m));
        size_t n = 16;

        if (!m)
                return -ENOMEM;
        while (n < expected * 2)
                n *= 2;
        m->slots = calloc(n, sizeof(*m->slots));
        if (!m->slots) {
                free(m);
                return -ENOMEM;
        }
        m->n_slots = n;
        *ret = m;
        return 0;
}

void strmap_free(struct strmap *m) {
        if (!m)
                return;
        free(m->slots);
        free(m);
}

static int grow(struct strmap *m) {
        size_t n = m->n_slots * 2;
        struct slot *slots = calloc(n, sizeof(*slots));

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].key)
                        *slot_for(slots, n, m->slots[i].key) = m->slots[i];
        free(m->slots);
        m->slots = slots;
        m->n_slots = n;
        return 0;
}

int strmap_put(struct strmap *m, const char *key, void *value, void **ret_existing) {
        struct slot *s;

        if ((m->n + 1) * 2 > m->n_slots && grow(m) < 0)
                return -ENOMEM;
        s = slot_for(m->slots, m->n_slots, key);
        if (s->key) {
                if (ret_existing)
                        *ret_existing = s->value;
                return 1;
        }
        s->key = key;
        s->value = value;
        m->n++;
        return 0;
}

void *strmap_get(const struct strmap *m, const char *key) {
        const struct slot *s = slot_for(m->slots, m->n_slots, key);

        return s->key ? s->value : NULL;
}

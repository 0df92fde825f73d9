/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/*
 * A YAML document as a small tree with a position on every node. This is the
 * only place libyaml is spoken; schema checks walk the tree (see ywalk.h).
 */

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 1000000 /* 10,000 certificates take ~200,000 */

enum ynode_kind { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

struct ynode {
        enum ynode_kind kind;
        unsigned line, column; /* 1-based */
        char *value;           /* scalar text */
        bool plain;            /* an unquoted scalar: "null", "~" and "" mean nothing */
        struct ynode **items;  /* sequence items; for a mapping key, value, key, value, … */
        size_t n_items;
};

struct arena_chunk;

struct ydoc {
        char *file;
        struct ynode *root;         /* NULL for an empty document */
        struct arena_chunk *chunks; /* every node, string and item array lives here: freed at once */
};

/* Parses buf; syntax errors go to diags (file:line:col) and give -EBADMSG. */
int ydoc_parse(const char *file, const char *buf, size_t len, struct ydoc **ret, struct diag_list *diags);
/*
 * A JSON text (RFC 8259) as the same tree (jsontree.c, not libyaml: JSON
 * allows in strings what YAML refuses, and podman's answers carry strings
 * from container images): -EBADMSG when it is not one. Literals (numbers,
 * true, false, null) are plain scalars; a \u0000 becomes U+FFFD.
 */
int ydoc_parse_json(const char *file, const char *buf, size_t len, struct ydoc **ret);
void ydoc_free(struct ydoc *doc);
/* For tree builders: memory that lives as long as doc, and an item added to a sequence or mapping. */
void *ydoc_alloc(struct ydoc *doc, size_t size);
int ydoc_append(struct ydoc *doc, struct ynode *parent, struct ynode *child);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ydoc *, ydoc_free);

static inline size_t ynode_map_size(const struct ynode *n) {
        return n->n_items / 2;
}

const char *ynode_kind_name(const struct ynode *n);
/* The value of key in a mapping; NULL when map is no mapping or has no such key. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* A scalar's text; NULL for a missing or empty node or one that is no scalar. */
const char *ynode_text(const struct ynode *n);

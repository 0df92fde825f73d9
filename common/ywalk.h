/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "yamltree.h"

/*
 * Schema checks over a YAML tree. A mapping is described by a table of
 * fields; each field's parser reports its own error (file:line:col and the
 * dotted field path) and the walk goes on, so one run shows every mistake.
 * Parsers return 0 or -EINVAL (reported) / -ENOMEM.
 */

struct ywalk {
        const char *file;
        struct diag_list *diags;
};

typedef int (*yfield_parse_t)(struct ywalk *w, const struct ynode *value, const char *field, void *target);

struct yfield {
        const char *key;
        yfield_parse_t parse;
        size_t offset; /* of the target inside the struct given to ywalk_mapping() */
        bool required;
};

int ywalk_error(struct ywalk *w, const struct ynode *n, const char *field, const char *fmt, ...) _printf_(4, 5);
void ywalk_warning(struct ywalk *w, const struct ynode *n, const char *field, const char *fmt, ...) _printf_(4, 5);

/* "parent.key" or "key" when parent is empty; "parent[i]" for an index. */
char *yfield_path(const char *parent, const char *key);
char *yfield_index(const char *parent, size_t i);

int ywalk_mapping(struct ywalk *w, const struct ynode *map, const char *field, const struct yfield *fields,
                  size_t n_fields, void *target);
/* Calls parse on each item of a sequence with its index path; target advances by item_size. */
int ywalk_expect(struct ywalk *w, const struct ynode *n, const char *field, enum ynode_kind kind);

bool ynode_is_null(const struct ynode *n);

/* Field parsers usable in tables. */
int yparse_string(struct ywalk *w, const struct ynode *n, const char *field, void *target);      /* char ** */
int yparse_string_opt(struct ywalk *w, const struct ynode *n, const char *field, void *target);  /* char **, may be empty */
int yparse_abs_path(struct ywalk *w, const struct ynode *n, const char *field, void *target);    /* char ** */
int yparse_strv(struct ywalk *w, const struct ynode *n, const char *field, void *target);        /* char *** */
int yparse_duration(struct ywalk *w, const struct ynode *n, const char *field, void *target);    /* uint64_t * (µs) */
int yparse_mode(struct ywalk *w, const struct ynode *n, const char *field, void *target);        /* mode_t * */
int yparse_owner(struct ywalk *w, const struct ynode *n, const char *field, void *target);       /* char ** */

/* Range-checked unsigned integer. */
int ywalk_uint(struct ywalk *w, const struct ynode *n, const char *field, unsigned long min, unsigned long max,
               unsigned *ret);
/* One of names[] → its index. */
int ywalk_enum(struct ywalk *w, const struct ynode *n, const char *field, const char *const *names, size_t n_names,
               int *ret);

/* Plain helpers, also used outside YAML (CLI flags). */
int parse_duration_usec(const char *s, uint64_t *ret);
int parse_mode(const char *s, mode_t *ret);

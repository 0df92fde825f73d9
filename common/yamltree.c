/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "yamltree.h"

/*
 * The tree is built once and freed once: its nodes, strings and item arrays
 * come from an arena of large chunks instead of one malloc each (a manifest
 * of 10,000 certificates has ~200,000 nodes; freeing them one by one cost as
 * much as 9 % of loading it, measured with callgrind).
 */
#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
        struct arena_chunk *next;
        size_t used, size;
        max_align_t data[];
};

struct builder {
        yaml_parser_t parser;
        const char *file;
        const char *buf; /* the input, for the position of a reader error */
        size_t len;
        struct diag_list *diags;
        size_t n_nodes;
        struct arena_chunk **chunks;
};

static void *arena_alloc(struct arena_chunk **chunks, size_t size) {
        struct arena_chunk *c = *chunks;
        void *p;

        size = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
        if (!c || c->size - c->used < size) {
                size_t want = size > ARENA_CHUNK ? size : ARENA_CHUNK;

                c = malloc(sizeof(*c) + want);
                if (!c)
                        return NULL;
                c->next = *chunks;
                c->used = 0;
                c->size = want;
                *chunks = c;
        }
        p = (char *) c->data + c->used;
        c->used += size;
        return p;
}

void ydoc_free(struct ydoc *doc) {
        if (!doc)
                return;
        while (doc->chunks) {
                struct arena_chunk *c = doc->chunks;

                doc->chunks = c->next;
                free(c);
        }
        free(doc->file);
        free(doc);
}

const char *ynode_kind_name(const struct ynode *n) {
        switch (n->kind) {
        case YNODE_SCALAR:
                return "a scalar";
        case YNODE_SEQUENCE:
                return "a sequence";
        default:
                return "a mapping";
        }
}

static struct ynode *ynode_new(struct builder *b, enum ynode_kind kind, const yaml_mark_t *mark) {
        struct ynode *n;

        if (++b->n_nodes > YAML_MAX_NODES)
                return NULL;
        n = arena_alloc(b->chunks, sizeof(*n));
        if (!n)
                return NULL;
        *n = (struct ynode) {};
        n->kind = kind;
        n->line = (unsigned) mark->line + 1;
        n->column = (unsigned) mark->column + 1;
        return n;
}

void *ydoc_alloc(struct ydoc *doc, size_t size) {
        return arena_alloc(&doc->chunks, size);
}

/* Item arrays double inside the arena; the old copy stays there until the whole tree goes. */
static int items_append(struct arena_chunk **chunks, struct ynode *parent, struct ynode *child) {
        size_t n = parent->n_items;

        if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
                struct ynode **p = arena_alloc(chunks, (n == 0 ? 4 : n * 2) * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                if (n > 0)
                        memcpy(p, parent->items, n * sizeof(*p));
                parent->items = p;
        }
        parent->items[parent->n_items++] = child;
        return 0;
}

int ydoc_append(struct ydoc *doc, struct ynode *parent, struct ynode *child) {
        return items_append(&doc->chunks, parent, child);
}

static int ynode_append(struct builder *b, struct ynode *parent, struct ynode *child) {
        return items_append(b->chunks, parent, child);
}

/*
 * libyaml's reader (bad UTF-8, a NUL or other control character) reports a
 * byte offset and leaves problem_mark at 0:0: the line and column (in
 * characters, as in every other mark) come from the input itself.
 */
static int reader_error(struct builder *b) {
        size_t offset = b->parser.problem_offset < b->len ? b->parser.problem_offset : b->len;
        unsigned line = 1, column = 1;

        for (size_t i = 0; i < offset; i++) {
                unsigned char c = (unsigned char) b->buf[i];

                if (c == '\n') {
                        line++;
                        column = 1;
                } else if ((c & 0xc0) != 0x80) /* not a UTF-8 continuation byte */
                        column++;
        }
        diag_add(b->diags, DIAG_ERROR, b->file, line, column, NULL, "YAML: %s (0x%02x at byte %zu)",
                 b->parser.problem ? b->parser.problem : "unreadable input", (unsigned) b->parser.problem_value, offset);
        return -EBADMSG;
}

static int syntax_error(struct builder *b) {
        const yaml_mark_t *m = &b->parser.problem_mark;

        if (b->parser.error == YAML_READER_ERROR)
                return reader_error(b);
        diag_add(b->diags, DIAG_ERROR, b->file, (unsigned) m->line + 1, (unsigned) m->column + 1, NULL,
                 "YAML syntax: %s%s%s", b->parser.problem ? b->parser.problem : "parse error",
                 b->parser.context ? " " : "", b->parser.context ? b->parser.context : "");
        return -EBADMSG;
}

static int error_at(struct builder *b, const yaml_mark_t *m, const char *msg) {
        diag_add(b->diags, DIAG_ERROR, b->file, (unsigned) m->line + 1, (unsigned) m->column + 1, NULL, "%s", msg);
        return -EBADMSG;
}

static int parse_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct ynode **ret);

/* Reads the children of a collection until its end event. */
static int parse_children(struct builder *b, struct ynode *n, yaml_event_type_t end, unsigned depth) {
        for (;;) {
                yaml_event_t ev;
                struct ynode *child = NULL;
                int r;

                if (!yaml_parser_parse(&b->parser, &ev))
                        return syntax_error(b);
                if (ev.type == end) {
                        yaml_event_delete(&ev);
                        return 0;
                }
                r = parse_node(b, &ev, depth + 1, &child);
                yaml_event_delete(&ev);
                if (r < 0)
                        return r;
                r = ynode_append(b, n, child);
                if (r < 0)
                        return r;
        }
}

static int parse_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct ynode **ret) {
        struct ynode *n;
        int r;

        if (depth > YAML_MAX_DEPTH)
                return error_at(b, &ev->start_mark, "nesting too deep");

        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                /* Aliases would let a small file expand without bound; the schema never needs them. */
                return error_at(b, &ev->start_mark, "YAML aliases are not supported");
        case YAML_SCALAR_EVENT:
                n = ynode_new(b, YNODE_SCALAR, &ev->start_mark);
                if (!n)
                        return error_at(b, &ev->start_mark, "document too large");
                n->value = arena_alloc(b->chunks, ev->data.scalar.length + 1);
                if (!n->value)
                        return -ENOMEM;
                memcpy(n->value, ev->data.scalar.value, ev->data.scalar.length);
                n->value[ev->data.scalar.length] = '\0';
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                *ret = n;
                return 0;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                bool seq = ev->type == YAML_SEQUENCE_START_EVENT;

                n = ynode_new(b, seq ? YNODE_SEQUENCE : YNODE_MAPPING, &ev->start_mark);
                if (!n)
                        return error_at(b, &ev->start_mark, "document too large");
                r = parse_children(b, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, depth);
                if (r < 0)
                        return r;
                *ret = n;
                return 0;
        }
        default:
                return error_at(b, &ev->start_mark, "unexpected YAML event");
        }
}

/* Expects the event stream to be at a given event type. */
static int expect_event(struct builder *b, yaml_event_type_t type, yaml_event_t *ret) {
        if (!yaml_parser_parse(&b->parser, ret))
                return syntax_error(b);
        if (ret->type != type) {
                int r = error_at(b, &ret->start_mark, "only one YAML document per file is supported");
                yaml_event_delete(ret);
                return r;
        }
        return 0;
}

static int parse_stream(struct builder *b, struct ynode **ret_root) {
        yaml_event_t ev;
        struct ynode *root = NULL;
        int r;

        r = expect_event(b, YAML_STREAM_START_EVENT, &ev);
        if (r < 0)
                return r;
        yaml_event_delete(&ev);

        if (!yaml_parser_parse(&b->parser, &ev))
                return syntax_error(b);
        if (ev.type == YAML_STREAM_END_EVENT) {
                yaml_event_delete(&ev);
                *ret_root = NULL;
                return 0;
        }
        yaml_event_delete(&ev); /* DOCUMENT-START */

        if (!yaml_parser_parse(&b->parser, &ev))
                return syntax_error(b);
        r = parse_node(b, &ev, 0, &root);
        yaml_event_delete(&ev);
        if (r < 0)
                return r;

        r = expect_event(b, YAML_DOCUMENT_END_EVENT, &ev);
        if (r >= 0) {
                yaml_event_delete(&ev);
                r = expect_event(b, YAML_STREAM_END_EVENT, &ev);
        }
        if (r < 0)
                return r;
        yaml_event_delete(&ev);
        *ret_root = root;
        return 0;
}

int ydoc_parse(const char *file, const char *buf, size_t len, struct ydoc **ret, struct diag_list *diags) {
        struct builder b = { .file = file, .buf = buf, .len = len, .diags = diags };
        struct ydoc *doc;
        int r;

        doc = calloc(1, sizeof(*doc));
        if (!doc)
                return -ENOMEM;
        b.chunks = &doc->chunks;
        doc->file = strdup(file);
        if (!doc->file || !yaml_parser_initialize(&b.parser)) {
                ydoc_free(doc);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&b.parser, (const unsigned char *) buf, len);
        r = parse_stream(&b, &doc->root);
        yaml_parser_delete(&b.parser);
        if (r < 0) {
                ydoc_free(doc);
                return r;
        }
        *ret = doc;
        return 0;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key) {
        if (!map || map->kind != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < map->n_items; i += 2)
                if (map->items[i]->kind == YNODE_SCALAR && strcmp(map->items[i]->value, key) == 0)
                        return map->items[i + 1];
        return NULL;
}

const char *ynode_text(const struct ynode *n) {
        return n && n->kind == YNODE_SCALAR && n->value[0] ? n->value : NULL;
}

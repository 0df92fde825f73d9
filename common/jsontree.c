/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "yamltree.h"

/*
 * A JSON reader by recursive descent into ydoc's tree. libyaml read JSON as
 * YAML's flow style until a container image's label with a DEL byte, a C1
 * control or a 1,025-character key made it refuse podman's whole container
 * list: every strictly valid JSON text must read here.
 */

struct reader {
        struct ydoc *doc;
        const char *s;
        size_t len, pos;
        unsigned line;
        size_t line_start;
        size_t n_nodes;
};

static void blank(struct reader *r) {
        for (; r->pos < r->len; r->pos++) {
                char c = r->s[r->pos];

                if (c == '\n') {
                        r->line++;
                        r->line_start = r->pos + 1;
                } else if (c != ' ' && c != '\t' && c != '\r')
                        return;
        }
}

static struct ynode *node_new(struct reader *r, enum ynode_kind kind) {
        struct ynode *n;

        if (++r->n_nodes > YAML_MAX_NODES)
                return NULL;
        n = ydoc_alloc(r->doc, sizeof(*n));
        if (!n)
                return NULL;
        *n = (struct ynode) { .kind = kind, .line = r->line, .column = (unsigned) (r->pos - r->line_start + 1) };
        return n;
}

static int hex4(const char *p, unsigned *ret) {
        unsigned v = 0;

        for (int i = 0; i < 4; i++) {
                char c = p[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static size_t utf8_put(char *out, unsigned cp) {
        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                cp = 0xfffd; /* C strings end at NUL; a lone surrogate is no character */
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | cp >> 6);
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | cp >> 12);
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | cp >> 18);
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* \uXXXX at p (after the backslash and u), with its low surrogate when it is a high one; *used: bytes read. */
static int unicode_escape(const char *p, size_t avail, unsigned *ret, size_t *used) {
        unsigned hi, lo;

        if (avail < 4 || hex4(p, &hi) < 0)
                return -EBADMSG;
        *used = 4;
        *ret = hi;
        if (hi >= 0xd800 && hi <= 0xdbff && avail >= 10 && p[4] == '\\' && p[5] == 'u' && hex4(p + 6, &lo) >= 0 &&
            lo >= 0xdc00 && lo <= 0xdfff) {
                *ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                *used = 10;
        }
        return 0;
}

static int escape(struct reader *r, char *out, size_t *o) {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k;
        unsigned cp;
        size_t used;

        if (r->pos >= r->len)
                return -EBADMSG;
        if (r->s[r->pos] == 'u') {
                r->pos++;
                if (unicode_escape(r->s + r->pos, r->len - r->pos, &cp, &used) < 0)
                        return -EBADMSG;
                r->pos += used;
                *o += utf8_put(out + *o, cp);
                return 0;
        }
        k = memchr(from, r->s[r->pos], sizeof(from) - 1);
        if (!k)
                return -EBADMSG;
        out[(*o)++] = to[k - from];
        r->pos++;
        return 0;
}

/* A string at r->pos (its opening quote): decoded, NUL-terminated, in the document's memory. */
static int string(struct reader *r, char **ret) {
        size_t o = 0, end;
        char *out;

        r->pos++;
        for (end = r->pos; end < r->len && r->s[end] != '"'; end += r->s[end] == '\\' ? 2 : 1)
                ;
        if (end >= r->len)
                return -EBADMSG;
        /* Decoded, a string is never longer than it is written. */
        out = ydoc_alloc(r->doc, end - r->pos + 1);
        if (!out)
                return -ENOMEM;
        while (r->pos < r->len) {
                unsigned char c = (unsigned char) r->s[r->pos];

                if (c == '"') {
                        r->pos++;
                        out[o] = '\0';
                        *ret = out;
                        return 0;
                }
                if (c < 0x20)
                        return -EBADMSG;
                if (c == '\\') {
                        r->pos++;
                        if (escape(r, out, &o) < 0)
                                return -EBADMSG;
                        continue;
                }
                out[o++] = (char) c;
                r->pos++;
        }
        return -EBADMSG;
}

static int value(struct reader *r, unsigned depth, struct ynode **ret);

static int scalar(struct reader *r, struct ynode **ret) {
        struct ynode *n = node_new(r, YNODE_SCALAR);
        size_t start = r->pos, k;
        char *v;

        if (!n)
                return -ENOMEM;
        if (r->s[r->pos] == '"') {
                int e = string(r, &n->value);

                if (e < 0)
                        return e;
                *ret = n;
                return 0;
        }
        /* true, false, null or a number: checked for their characters only (the tree keeps text) */
        while (r->pos < r->len && strchr("0123456789+-.eEtruefalsn", r->s[r->pos]) && r->s[r->pos])
                r->pos++;
        k = r->pos - start;
        if (k == 0)
                return -EBADMSG;
        v = ydoc_alloc(r->doc, k + 1);
        if (!v)
                return -ENOMEM;
        memcpy(v, r->s + start, k);
        v[k] = '\0';
        n->value = v;
        n->plain = true;
        *ret = n;
        return 0;
}

/* [ … ] or { … }: items separated by commas; a mapping's keys are strings. */
static int container(struct reader *r, unsigned depth, struct ynode **ret) {
        bool map = r->s[r->pos] == '{';
        char close = map ? '}' : ']';
        struct ynode *n = node_new(r, map ? YNODE_MAPPING : YNODE_SEQUENCE), *item;
        int e;

        if (!n)
                return -ENOMEM;
        r->pos++;
        blank(r);
        if (r->pos < r->len && r->s[r->pos] == close) {
                r->pos++;
                *ret = n;
                return 0;
        }
        for (;;) {
                blank(r);
                if (map) {
                        if (r->pos >= r->len || r->s[r->pos] != '"')
                                return -EBADMSG;
                        e = scalar(r, &item);
                        if (e >= 0)
                                e = ydoc_append(r->doc, n, item);
                        blank(r);
                        if (e < 0 || r->pos >= r->len || r->s[r->pos++] != ':')
                                return e < 0 ? e : -EBADMSG;
                }
                e = value(r, depth + 1, &item);
                if (e >= 0)
                        e = ydoc_append(r->doc, n, item);
                if (e < 0)
                        return e;
                blank(r);
                if (r->pos >= r->len)
                        return -EBADMSG;
                if (r->s[r->pos] == close) {
                        r->pos++;
                        *ret = n;
                        return 0;
                }
                if (r->s[r->pos++] != ',')
                        return -EBADMSG;
        }
}

static int value(struct reader *r, unsigned depth, struct ynode **ret) {
        if (depth > YAML_MAX_DEPTH)
                return -EBADMSG;
        blank(r);
        if (r->pos >= r->len)
                return -EBADMSG;
        if (r->s[r->pos] == '{' || r->s[r->pos] == '[')
                return container(r, depth, ret);
        return scalar(r, ret);
}

int ydoc_parse_json(const char *file, const char *buf, size_t len, struct ydoc **ret) {
        _cleanup_(ydoc_freep) struct ydoc *doc = calloc(1, sizeof(*doc));
        struct reader r = { .doc = doc, .s = buf, .len = len, .line = 1 };
        int e;

        if (!doc || !(doc->file = strdup(file)))
                return -ENOMEM;
        e = value(&r, 0, &doc->root);
        if (e < 0)
                return e;
        blank(&r);
        if (r.pos != r.len)
                return -EBADMSG; /* something after the value */
        *ret = TAKE_PTR(doc);
        return 0;
}

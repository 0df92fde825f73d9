/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "strv.h"
#include "ywalk.h"

static void ywalk_vadd(struct ywalk *w, enum diag_severity sev, const struct ynode *n, const char *field,
                       const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0) {
                w->diags->truncated = true;
                w->diags->n_errors += sev == DIAG_ERROR;
                return;
        }
        diag_add(w->diags, sev, w->file, n ? n->line : 0, n ? n->column : 0, field, "%s", msg);
}

int ywalk_error(struct ywalk *w, const struct ynode *n, const char *field, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        ywalk_vadd(w, DIAG_ERROR, n, field, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

void ywalk_warning(struct ywalk *w, const struct ynode *n, const char *field, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        ywalk_vadd(w, DIAG_WARNING, n, field, fmt, ap);
        va_end(ap);
}

char *yfield_path(const char *parent, const char *key) {
        char *p;

        if (asprintf(&p, "%s%s%s", parent ? parent : "", parent && parent[0] ? "." : "", key) < 0)
                return NULL;
        return p;
}

char *yfield_index(const char *parent, size_t i) {
        char *p;

        if (asprintf(&p, "%s[%zu]", parent, i) < 0)
                return NULL;
        return p;
}

bool ynode_is_null(const struct ynode *n) {
        return n->kind == YNODE_SCALAR && n->plain &&
               (n->value[0] == '\0' || streq(n->value, "~") || streq(n->value, "null") || streq(n->value, "Null") ||
                streq(n->value, "NULL"));
}

int ywalk_expect(struct ywalk *w, const struct ynode *n, const char *field, enum ynode_kind kind) {
        static const char *const names[] = { "a scalar", "a sequence", "a mapping" };

        if (n->kind == kind)
                return 0;
        return ywalk_error(w, n, field, "expected %s, got %s", names[kind],
                           ynode_is_null(n) ? "nothing" : ynode_kind_name(n));
}

static const struct yfield *yfield_find(const struct yfield *fields, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(fields[i].key, key))
                        return &fields[i];
        return NULL;
}

static int unknown_key(struct ywalk *w, const struct ynode *key, const char *field, const struct yfield *fields,
                       size_t n_fields) {
        char known[512] = "";

        for (size_t i = 0; i < n_fields; i++) {
                strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
                strncat(known, fields[i].key, sizeof(known) - strlen(known) - 1);
        }
        return ywalk_error(w, key, field, "unknown key '%s' (expected one of: %s)", key->value, known);
}

/*
 * The keys seen so far in one mapping. A schema mapping has a handful: a
 * linear scan is cheapest. A hostile file can have a million, and a scan per
 * key would be quadratic: past a few, a hash map.
 */
#define KEYS_SCAN_MAX 16

struct keys_seen {
        const struct ynode *map;
        struct strmap *by_name; /* name → key node, for large mappings */
};

/* The earlier key node with the same name as map->items[i] (NULL: none), recording this one. */
static int keys_seen_add(struct keys_seen *k, size_t i, const struct ynode **ret_earlier) {
        const struct ynode *key = k->map->items[i];
        void *earlier = NULL;

        *ret_earlier = NULL;
        if (!k->by_name) {
                for (size_t j = 0; j < i; j += 2)
                        if (k->map->items[j]->kind == YNODE_SCALAR && streq(k->map->items[j]->value, key->value)) {
                                *ret_earlier = k->map->items[j];
                                break;
                        }
                return 0;
        }
        if (strmap_put(k->by_name, key->value, (void *) key, &earlier) < 0)
                return -ENOMEM;
        *ret_earlier = earlier;
        return 0;
}

static bool keys_seen_has(const struct keys_seen *k, const char *name) {
        if (k->by_name)
                return strmap_get(k->by_name, name);
        for (size_t i = 0; i + 1 < k->map->n_items; i += 2)
                if (k->map->items[i]->kind == YNODE_SCALAR && streq(k->map->items[i]->value, name))
                        return true;
        return false;
}

static int ywalk_key(struct ywalk *w, const struct ynode *map, size_t i, const char *field,
                     const struct yfield *fields, size_t n_fields, void *target, struct keys_seen *seen) {
        const struct ynode *key = map->items[i], *value = map->items[i + 1], *prev;
        const struct yfield *f;
        _cleanup_free_ char *path = NULL;
        int r;

        if (key->kind != YNODE_SCALAR)
                return ywalk_error(w, key, field, "mapping keys must be scalars");
        path = yfield_path(field, key->value);
        if (!path)
                return -ENOMEM;
        r = keys_seen_add(seen, i, &prev);
        if (r < 0)
                return r;
        if (prev)
                return ywalk_error(w, key, path, "duplicate key (first at line %u)", prev->line);
        f = yfield_find(fields, n_fields, key->value);
        if (!f)
                return unknown_key(w, key, path, fields, n_fields);
        return f->parse(w, value, path, (char *) target + f->offset);
}

int ywalk_mapping(struct ywalk *w, const struct ynode *map, const char *field, const struct yfield *fields,
                  size_t n_fields, void *target) {
        struct keys_seen seen = { .map = map };
        int r, ret = 0;

        r = ywalk_expect(w, map, field, YNODE_MAPPING);
        if (r < 0)
                return r;
        if (ynode_map_size(map) > KEYS_SCAN_MAX && strmap_new(ynode_map_size(map), &seen.by_name) < 0)
                return -ENOMEM;

        for (size_t i = 0; i + 1 < map->n_items; i += 2) {
                r = ywalk_key(w, map, i, field, fields, n_fields, target, &seen);
                if (r == -ENOMEM) {
                        ret = r;
                        break;
                }
                if (r < 0)
                        ret = r;
        }

        for (size_t k = 0; k < n_fields && ret != -ENOMEM; k++)
                if (fields[k].required && !keys_seen_has(&seen, fields[k].key))
                        ret = ywalk_error(w, map, field[0] ? field : "(top level)", "missing required key '%s'",
                                          fields[k].key);
        strmap_free(seen.by_name);
        return ret;
}

static int expect_scalar(struct ywalk *w, const struct ynode *n, const char *field) {
        if (n->kind != YNODE_SCALAR || ynode_is_null(n))
                return ywalk_error(w, n, field, "expected a string, got %s",
                                   n->kind == YNODE_SCALAR ? "nothing" : ynode_kind_name(n));
        return 0;
}

static int set_string(char **target, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*target);
        *target = s;
        return 0;
}

int yparse_string(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = expect_scalar(w, n, field);

        return r < 0 ? r : set_string(target, n->value);
}

int yparse_string_opt(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        if (ynode_is_null(n))
                return set_string(target, "");
        return yparse_string(w, n, field, target);
}

int yparse_abs_path(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = expect_scalar(w, n, field);

        if (r < 0)
                return r;
        if (n->value[0] != '/')
                return ywalk_error(w, n, field, "'%s' is not an absolute path", n->value);
        if (strlen(n->value) >= PATH_MAX)
                return ywalk_error(w, n, field, "path too long");
        return set_string(target, n->value);
}

int yparse_strv(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        char ***ret = target;
        _cleanup_(strv_freep) char **v = NULL;
        int r, ret_r = 0;

        r = ywalk_expect(w, n, field, YNODE_SEQUENCE);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++) {
                _cleanup_free_ char *path = yfield_index(field, i);

                if (!path)
                        return -ENOMEM;
                r = expect_scalar(w, n->items[i], path);
                if (r < 0) {
                        ret_r = r;
                        continue;
                }
                r = strv_push(&v, n->items[i]->value);
                if (r < 0)
                        return r;
        }
        if (ret_r < 0)
                return ret_r;
        if (!v && !(v = strv_new_empty()))
                return -ENOMEM;
        strv_free(*ret);
        *ret = TAKE_PTR(v);
        return 0;
}

int parse_duration_usec(const char *s, uint64_t *ret) {
        static const struct { const char *suffix; uint64_t usec; } units[] = {
                { "ms", 1000ULL }, { "s", 1000000ULL }, { "", 1000000ULL },
                { "m", 60000000ULL }, { "h", 3600000000ULL }, { "d", 86400000000ULL },
        };
        char *end;
        unsigned long long v;

        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || v > 1000000000ULL)
                return -ERANGE;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(end, units[i].suffix)) {
                        if (v > UINT64_MAX / units[i].usec)
                                return -ERANGE;
                        *ret = v * units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

int yparse_duration(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = expect_scalar(w, n, field);

        if (r < 0)
                return r;
        if (parse_duration_usec(n->value, target) < 0)
                return ywalk_error(w, n, field, "'%s' is not a duration (e.g. 500ms, 2s, 5m, 1h, 7d)", n->value);
        return 0;
}

int parse_mode(const char *s, mode_t *ret) {
        char *end;
        unsigned long v;

        if (!s[0] || strspn(s, "01234567") != strlen(s))
                return -EINVAL;
        v = strtoul(s, &end, 8);
        if (v > 07777)
                return -ERANGE;
        *ret = (mode_t) v;
        return 0;
}

int yparse_mode(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        int r = expect_scalar(w, n, field);

        if (r < 0)
                return r;
        if (parse_mode(n->value, target) < 0)
                return ywalk_error(w, n, field, "'%s' is not an octal file mode (e.g. \"0640\")", n->value);
        return 0;
}

/* user, user:group, uid:gid — names as the passwd/group databases allow them. */
static bool owner_part_valid(const char *s, size_t len) {
        if (len == 0 || len > 32)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("._-", s[i]))
                        return false;
        return s[0] != '-';
}

int yparse_owner(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        const char *colon;
        int r = expect_scalar(w, n, field);

        if (r < 0)
                return r;
        colon = strchr(n->value, ':');
        if (colon ? !owner_part_valid(n->value, (size_t) (colon - n->value)) || !owner_part_valid(colon + 1, strlen(colon + 1))
                  : !owner_part_valid(n->value, strlen(n->value)))
                return ywalk_error(w, n, field, "'%s' is not an owner (user, user:group or uid:gid)", n->value);
        return set_string(target, n->value);
}

int ywalk_uint(struct ywalk *w, const struct ynode *n, const char *field, unsigned long min, unsigned long max,
               unsigned *ret) {
        char *end;
        unsigned long v;
        int r = expect_scalar(w, n, field);

        if (r < 0)
                return r;
        errno = 0;
        v = strtoul(n->value, &end, 10);
        if (!isdigit((unsigned char) n->value[0]) || *end || errno != 0)
                return ywalk_error(w, n, field, "'%s' is not a whole number", n->value);
        if (v < min || v > max)
                return ywalk_error(w, n, field, "%lu is out of range (%lu to %lu)", v, min, max);
        *ret = (unsigned) v;
        return 0;
}

int ywalk_enum(struct ywalk *w, const struct ynode *n, const char *field, const char *const *names, size_t n_names,
               int *ret) {
        char known[256] = "";
        int r = expect_scalar(w, n, field);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n_names; i++) {
                if (streq(n->value, names[i])) {
                        *ret = (int) i;
                        return 0;
                }
                strncat(known, i ? "|" : "", sizeof(known) - strlen(known) - 1);
                strncat(known, names[i], sizeof(known) - strlen(known) - 1);
        }
        return ywalk_error(w, n, field, "'%s' is not one of %s", n->value, known);
}

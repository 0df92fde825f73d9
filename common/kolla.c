/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kolla.h"
#include "macro.h"
#include "yamltree.h"

void kolla_rules_free(struct kolla_rule *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].source);
                free(v[i].dest);
        }
        free(v);
}

static int rules_from(const struct ynode *files, struct kolla_rule **ret, size_t *ret_n) {
        struct kolla_rule *v = calloc(files->n_items + 1, sizeof(*v));
        size_t n = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < files->n_items; i++) {
                const char *src = ynode_text(ynode_get(files->items[i], "source")), *dst = ynode_text(ynode_get(files->items[i], "dest"));

                if (!src || !dst)
                        continue; /* a rule kolla itself would refuse */
                v[n].source = strdup(src);
                v[n].dest = strdup(dst);
                if (!v[n].source || !v[n++].dest) {
                        kolla_rules_free(v, n);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int kolla_parse(const char *buf, size_t len, struct kolla_rule **ret, size_t *ret_n) {
        _cleanup_(ydoc_freep) struct ydoc *doc = NULL;
        const struct ynode *files;
        int r;

        if (len > KOLLA_CONFIG_MAX)
                return -EFBIG;
        r = ydoc_parse_json(KOLLA_CONFIG_JSON, buf, len, &doc);
        if (r < 0)
                return r;
        if (doc->root->kind != YNODE_MAPPING)
                return -EBADMSG;
        files = ynode_get(doc->root, "config_files");
        if (!files) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (files->kind != YNODE_SEQUENCE)
                return -EBADMSG;
        return rules_from(files, ret, ret_n);
}

/* dir + "/" + rest, with one slash between them. */
static int join(const char *dir, const char *rest, char **ret) {
        size_t n = strlen(dir);

        while (n > 0 && dir[n - 1] == '/')
                n--;
        while (*rest == '/')
                rest++;
        return asprintf(ret, "%.*s/%s", (int) n, dir, rest) < 0 ? -ENOMEM : 1;
}

/* path below directory dir: the part after it, or NULL. */
static const char *below(const char *dir, const char *path) {
        size_t n = strlen(dir);

        while (n > 0 && dir[n - 1] == '/')
                n--;
        return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] ? path + n + 1 : NULL;
}

static int rule_dest(const struct kolla_rule *k, const char *path, char **ret) {
        size_t sl = strlen(k->source);
        const char *rest, *base = strrchr(path, '/');

        /* "dir/ *" (no blank): each entry of dir lands in dest, directories merged. */
        if (sl >= 2 && strcmp(k->source + sl - 2, "/*") == 0) {
                _cleanup_free_ char *dir = strndup(k->source, sl - 2);

                if (!dir)
                        return -ENOMEM;
                rest = below(dir, path);
                return rest ? join(k->dest, rest, ret) : 0;
        }
        if (strcmp(k->source, path) == 0) {
                if (k->dest[strlen(k->dest) - 1] == '/')
                        return join(k->dest, base ? base + 1 : path, ret);
                *ret = strdup(k->dest);
                return *ret ? 1 : -ENOMEM;
        }
        /* a directory: copied as a whole to dest. */
        rest = below(k->source, path);
        if (rest)
                return join(k->dest, rest, ret);
        /* another glob: the match goes into dest (a directory) or becomes it. */
        if (strpbrk(k->source, "*?[") && fnmatch(k->source, path, FNM_PATHNAME) == 0) {
                if (k->dest[strlen(k->dest) - 1] == '/')
                        return join(k->dest, base ? base + 1 : path, ret);
                *ret = strdup(k->dest);
                return *ret ? 1 : -ENOMEM;
        }
        return 0;
}

int kolla_dest_for(const struct kolla_rule *v, size_t n, const char *path, char **ret) {
        /* kolla applies the rules in order: a later copy of the same file wins. */
        for (size_t i = n; i-- > 0;) {
                int r = rule_dest(&v[i], path, ret);

                if (r != 0)
                        return r;
        }
        return 0;
}

char *mounts_container_path(const char *mounts, const char *host_path) {
        _cleanup_free_ char *text = strdup(mounts);
        char *save = NULL, *best = NULL;
        size_t best_len = 0;

        if (!text)
                return NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *tab = strchr(line, '\t'), *dst;
                size_t n, m;

                if (!tab)
                        continue;
                *tab = '\0';
                dst = tab + 1;
                n = strlen(line);
                while (n > 0 && line[n - 1] == '/')
                        n--; /* "/" becomes "": every absolute path is below it */
                /* the longest source that covers the file: a nested mount shadows its parent's view. */
                if (n <= best_len && best)
                        continue;
                if (strncmp(host_path, line, n) != 0 || (host_path[n] != '\0' && host_path[n] != '/'))
                        continue;
                free(best);
                best = NULL;
                m = strlen(dst);
                while (m > 0 && dst[m - 1] == '/')
                        m--;
                /* host_path + n is "" or "/rest": the same rest below the destination. */
                if (asprintf(&best, "%.*s%s", (int) m, dst, host_path + n) < 0)
                        return NULL;
                best_len = n;
        }
        return best;
}

/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fileio.h"
#include "material.h"

static const char *const source_names[_COPY_MAX] = { "cert", "key", "chain", "root", "bundle" };

static int chain_part(const struct mf_cert *c, int source, const char *ca_bundle, char **ret, char *errbuf,
                      size_t errlen) {
        _cleanup_(cert_freep) struct cert *leaf = NULL;
        _cleanup_free_ char *chain = NULL, *root = NULL;
        int r;

        if (!ca_bundle[0]) {
                snprintf(errbuf, errlen, "%s: the %s part needs agent.ca_bundle in the configuration", c->id,
                         source_names[source]);
                return -EINVAL;
        }
        r = cert_load_file(c->cert, &leaf);
        if (r < 0) {
                snprintf(errbuf, errlen, "%s: %s", c->cert, strerror(-r));
                return r;
        }
        r = cert_chain_from_bundle(leaf, ca_bundle, &chain, &root);
        if (r < 0) {
                snprintf(errbuf, errlen, "%s: no issuer of %s in it (%s)", ca_bundle, c->cert, strerror(-r));
                return r;
        }
        *ret = source == COPY_CHAIN ? TAKE_PTR(chain) : TAKE_PTR(root);
        return 0;
}

int material_read(const struct mf_cert *c, int source, const char *ca_bundle, char **ret, size_t *ret_len,
                  char *errbuf, size_t errlen) {
        const char *path = source == COPY_CERT ? c->cert : source == COPY_KEY ? c->key : c->bundle ? c->bundle->path : NULL;
        int r;

        if (source == COPY_CHAIN || source == COPY_ROOT) {
                r = chain_part(c, source, ca_bundle, ret, errbuf, errlen);
                if (r >= 0)
                        *ret_len = strlen(*ret);
                return r;
        }
        if (!path) {
                snprintf(errbuf, errlen, "%s has no bundle to copy", c->id);
                return -EINVAL;
        }
        /* The bundle's directory may be a service account's: no FIFO or symlink it planted is read. */
        r = source == COPY_BUNDLE ? read_file_safe(path, FILEIO_MAX_SIZE, ret, ret_len)
                                  : read_file_full(path, FILEIO_MAX_SIZE, ret, ret_len);
        if (r < 0)
                snprintf(errbuf, errlen, "%s: %s", path, strerror(-r));
        return r;
}

mode_t material_default_mode(const struct mf_cert *c, int source) {
        if (source == COPY_KEY)
                return 0600;
        if (source == COPY_BUNDLE)
                for (size_t i = 0; c->bundle && i < c->bundle->n_parts; i++)
                        if (c->bundle->parts[i] == PART_KEY)
                                return 0600;
        return 0644;
}

/* enum bundle_part → enum copy_source */
static int part_source(int part) {
        static const int map[_PART_MAX] = { [PART_CERT] = COPY_CERT, [PART_CHAIN] = COPY_CHAIN, [PART_KEY] = COPY_KEY,
                                            [PART_ROOT] = COPY_ROOT };
        return map[part];
}

/* PEM blocks end in a newline; a part without one would glue two blocks together. */
static int append_part(FILE *f, const char *text, size_t len) {
        if (len == 0)
                return 0;
        fwrite(text, 1, len, f);
        if (text[len - 1] != '\n')
                fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

int material_write_bundle(const struct mf_cert *c, const char *ca_bundle, char *errbuf, size_t errlen) {
        _cleanup_free_ char *text = NULL;
        struct owner o = { (uid_t) -1, (gid_t) -1, "", "" };
        size_t len = 0;
        FILE *f;
        int r = 0;

        if (!c->bundle)
                return 0;
        if (c->bundle->owner && (r = owner_parse(c->bundle->owner, true, &o)) < 0) {
                snprintf(errbuf, errlen, "%s: owner '%s' does not exist on this host", c->bundle->path, c->bundle->owner);
                return r;
        }
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < c->bundle->n_parts && r >= 0; i++) {
                _cleanup_free_ char *part = NULL;
                size_t n = 0;

                r = material_read(c, part_source(c->bundle->parts[i]), ca_bundle, &part, &n, errbuf, errlen);
                if (r >= 0)
                        r = append_part(f, part, n);
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        r = write_file_atomic_owned(c->bundle->path, text, len,
                                    c->bundle->has_mode ? c->bundle->mode : material_default_mode(c, COPY_BUNDLE), o.uid,
                                    o.gid);
        if (r < 0)
                snprintf(errbuf, errlen, "cannot write %s: %s%s", c->bundle->path, strerror(-r),
                         r == -EROFS ? " (the agent's sandbox: give ctrcert-agent.service ReadWritePaths= for its "
                                       "directory in a drop-in, see ctrcert-agent(8))"
                                     : "");
        return r;
}

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

static int owner_user(const char *name, bool lookup, struct owner *o) {
        struct passwd *pw;

        if (all_digits(name)) {
                o->uid = (uid_t) strtoul(name, NULL, 10);
                return 0;
        }
        snprintf(o->user, sizeof(o->user), "%s", name);
        if (!lookup)
                return 0;
        pw = getpwnam(name);
        if (!pw)
                return -ENOENT;
        o->uid = pw->pw_uid;
        o->gid = pw->pw_gid; /* "user" alone: the user's own group */
        return 0;
}

static int owner_group(const char *name, bool lookup, struct owner *o) {
        struct group *gr;

        if (all_digits(name)) {
                o->gid = (gid_t) strtoul(name, NULL, 10);
                return 0;
        }
        snprintf(o->group, sizeof(o->group), "%s", name);
        if (!lookup)
                return 0;
        gr = getgrnam(name);
        if (!gr)
                return -ENOENT;
        o->gid = gr->gr_gid;
        return 0;
}

int owner_parse(const char *spec, bool lookup, struct owner *ret) {
        _cleanup_free_ char *copy = strdup(spec);
        struct owner o = { (uid_t) -1, (gid_t) -1, "", "" };
        char *colon;
        int r;

        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon)
                *colon = '\0';
        r = owner_user(copy, lookup, &o);
        if (r >= 0 && colon)
                r = owner_group(colon + 1, lookup, &o);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

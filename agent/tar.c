/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tar.h"

#define BLOCK 512

/* The ustar header (POSIX.1-1988), 512 bytes. */
struct header {
        char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8], typeflag, linkname[100];
        char magic[6], version[2], uname[32], gname[32], devmajor[8], devminor[8], prefix[155], pad[12];
};
_Static_assert(sizeof(struct header) == BLOCK, "a ustar header is one block");

static int grow(struct tar *t, size_t more) {
        size_t want = t->len + more;
        char *p;

        if (want <= t->alloc)
                return 0;
        want = want < 2 * t->alloc ? 2 * t->alloc : want;
        p = realloc(t->data, want);
        if (!p)
                return -ENOMEM;
        t->data = p;
        t->alloc = want;
        return 0;
}

static void set_checksum(struct header *h) {
        unsigned sum = 0;

        /* The checksum is computed with its own field read as spaces. */
        memset(h->chksum, ' ', sizeof(h->chksum));
        for (size_t i = 0; i < BLOCK; i++)
                sum += ((unsigned char *) h)[i];
        snprintf(h->chksum, sizeof(h->chksum), "%06o", sum);
}

/* Octal, zero-padded, NUL-terminated in a field of n bytes; -ERANGE when it does not fit. */
static int octal(char *field, size_t n, unsigned long long v) {
        char buf[32];
        int k = snprintf(buf, sizeof(buf), "%0*llo", (int) n - 1, v);

        if (k < 0 || (size_t) k >= n)
                return -ERANGE;
        memcpy(field, buf, (size_t) k + 1);
        return 0;
}

/* name up to 100 bytes, or prefix '/' name with prefix up to 155. */
static int set_name(struct header *h, const char *rel) {
        size_t n = strlen(rel);
        const char *slash;

        if (n <= sizeof(h->name)) {
                memcpy(h->name, rel, n);
                return 0;
        }
        for (slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
                size_t pre = (size_t) (slash - rel), rest = n - pre - 1;

                if (pre <= sizeof(h->prefix) && rest <= sizeof(h->name) && rest > 0) {
                        memcpy(h->prefix, rel, pre);
                        memcpy(h->name, slash + 1, rest);
                        return 0;
                }
        }
        return -ENAMETOOLONG;
}

static int fill_header(struct header *h, const char *path, size_t len, mode_t mode, uid_t uid, gid_t gid,
                       const char *user, const char *group) {
        int r;

        memset(h, 0, sizeof(*h));
        while (*path == '/')
                path++;
        if (!*path || strlen(user) >= sizeof(h->uname) || strlen(group) >= sizeof(h->gname))
                return -EINVAL;
        r = set_name(h, path);
        if (r >= 0)
                r = octal(h->mode, sizeof(h->mode), mode & 07777);
        if (r >= 0)
                r = octal(h->uid, sizeof(h->uid), uid == (uid_t) -1 ? 0 : uid);
        if (r >= 0)
                r = octal(h->gid, sizeof(h->gid), gid == (gid_t) -1 ? 0 : gid);
        if (r >= 0)
                r = octal(h->size, sizeof(h->size), len);
        if (r >= 0)
                r = octal(h->mtime, sizeof(h->mtime), (unsigned long long) time(NULL));
        if (r < 0)
                return r;
        h->typeflag = '0';
        memcpy(h->magic, "ustar", 6);
        memcpy(h->version, "00", 2);
        memcpy(h->uname, user, strlen(user));
        memcpy(h->gname, group, strlen(group));
        set_checksum(h);
        return 0;
}

int tar_add_file(struct tar *t, const char *path, const void *content, size_t len, mode_t mode, uid_t uid, gid_t gid,
                 const char *user, const char *group) {
        size_t padded = (len + BLOCK - 1) / BLOCK * BLOCK;
        struct header h;
        int r = fill_header(&h, path, len, mode, uid, gid, user, group);

        if (r < 0)
                return r;
        r = grow(t, BLOCK + padded);
        if (r < 0)
                return r;
        memcpy(t->data + t->len, &h, BLOCK);
        if (len > 0)
                memcpy(t->data + t->len + BLOCK, content, len);
        memset(t->data + t->len + BLOCK + len, 0, padded - len);
        t->len += BLOCK + padded;
        return 0;
}

int tar_finish(struct tar *t) {
        int r = grow(t, 2 * BLOCK);

        if (r < 0)
                return r;
        memset(t->data + t->len, 0, 2 * BLOCK);
        t->len += 2 * BLOCK;
        return 0;
}

void tar_done(struct tar *t) {
        free(t->data);
        *t = (struct tar) {};
}

int tar_copy(struct tar *dst, const struct tar *src) {
        dst->data = malloc(src->len ? src->len : 1);
        if (!dst->data)
                return -ENOMEM;
        memcpy(dst->data, src->data, src->len);
        dst->len = dst->alloc = src->len;
        return 0;
}

/* The size field of a header; -EBADMSG when it is not octal. */
static int entry_size(const struct header *h, size_t *ret) {
        char field[sizeof(h->size) + 1] = "";
        char *end;
        unsigned long long v;

        memcpy(field, h->size, sizeof(h->size));
        v = strtoull(field, &end, 8);
        if (end == field || v > SIZE_MAX / 2)
                return -EBADMSG;
        *ret = (size_t) v;
        return 0;
}

/* Calls fn on each entry's header; stops at the end blocks or a malformed entry. */
static int each_header(const char *data, size_t len, int (*fn)(struct header *h, const char *content, size_t n, void *u),
                       void *u) {
        for (size_t pos = 0; pos + BLOCK <= len;) {
                struct header *h = (struct header *) (data + pos);
                size_t n;
                int r;

                if (h->name[0] == '\0')
                        return 0;
                if (entry_size(h, &n) < 0 || n > len - pos - BLOCK)
                        return -EBADMSG;
                r = fn(h, data + pos + BLOCK, n, u);
                if (r != 0)
                        return r;
                pos += BLOCK + (n + BLOCK - 1) / BLOCK * BLOCK;
        }
        return 0;
}

static int has_name(struct header *h, const char *content, size_t n, void *u) {
        return h->uname[0] || h->gname[0];
}

bool tar_has_names(const struct tar *t) {
        return each_header(t->data, t->len, has_name, NULL) > 0;
}

/*
 * The id of name in a passwd or group text ("name:x:id:…" lines), or -1.
 * name is a header field of at most 32 bytes, not always NUL-terminated.
 */
static long long id_of(const char *db, const char *name, size_t name_max) {
        size_t n = strnlen(name, name_max);

        for (const char *line = db; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *id;

                if (strncmp(line, name, n) != 0 || line[n] != ':')
                        continue;
                id = strchr(line + n + 1, ':');
                if (!id || id[1] < '0' || id[1] > '9')
                        return -1;
                return strtoll(id + 1, NULL, 10);
        }
        return -1;
}

struct dbs {
        const char *passwd, *group;
};

static int map_owner(struct header *h, const char *content, size_t n, void *u) {
        const struct dbs *d = u;
        long long uid = h->uname[0] ? id_of(d->passwd, h->uname, sizeof(h->uname)) : -1;
        long long gid = h->gname[0] ? id_of(d->group, h->gname, sizeof(h->gname)) : -1;
        int r = 0;

        if (uid >= 0)
                r = octal(h->uid, sizeof(h->uid), (unsigned long long) uid);
        if (r >= 0 && gid >= 0)
                r = octal(h->gid, sizeof(h->gid), (unsigned long long) gid);
        if (r >= 0)
                set_checksum(h);
        return r < 0 ? r : 0;
}

int tar_map_owners(struct tar *t, const char *passwd, const char *group) {
        struct dbs d = { passwd, group };

        return each_header(t->data, t->len, map_owner, &d);
}

struct found {
        const char *content;
        size_t len;
};

static int first_regular(struct header *h, const char *content, size_t n, void *u) {
        struct found *f = u;

        if (h->typeflag != '0' && h->typeflag != '\0')
                return 0;
        *f = (struct found) { content, n };
        return 1;
}

int tar_first_file(const char *data, size_t len, const char **ret, size_t *ret_len) {
        struct found f = {};
        int r = each_header(data, len, first_regular, &f);

        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        *ret = f.content;
        *ret_len = f.len;
        return 0;
}

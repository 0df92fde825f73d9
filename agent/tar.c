/* SPDX-License-Identifier: MIT */
#include <errno.h>
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
        unsigned sum = 0;
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
        /* The checksum is computed with its own field read as spaces. */
        memset(h->chksum, ' ', sizeof(h->chksum));
        for (size_t i = 0; i < BLOCK; i++)
                sum += ((unsigned char *) h)[i];
        snprintf(h->chksum, sizeof(h->chksum), "%06o", sum);
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

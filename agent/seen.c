/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "seen.h"
#include "strmap.h"

#define SEEN_HEADER "ctrcert-seen 1\n"

struct seen_entry {
        uint64_t dev, ino, mtime_ns, size;
        char *path;
        struct seen_entry *next;
};

struct seen {
        char *file;
        struct strmap *by_path; /* entry.path → entry */
        struct seen_entry *entries;
        bool dirty;
};

static struct seen_entry *entry_add(struct seen *s, const char *path) {
        struct seen_entry *e = calloc(1, sizeof(*e));

        if (!e || !(e->path = strdup(path)) || strmap_put(s->by_path, e->path, e, NULL) < 0) {
                if (e)
                        free(e->path);
                free(e);
                return NULL;
        }
        e->next = s->entries;
        s->entries = e;
        return e;
}

static int parse_line(struct seen *s, const char *line, size_t lineno) {
        struct seen_entry v = {}, *e;
        int n = 0;

        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %n", &v.dev, &v.ino, &v.mtime_ns, &v.size,
                   &n) != 4 ||
            line[n] != '/') {
                log_warning("%s:%zu: not a record of the form DEV INO MTIME_NS SIZE PATH; ignored", s->file, lineno);
                return 0;
        }
        e = strmap_get(s->by_path, line + n);
        if (!e && !(e = entry_add(s, line + n)))
                return -ENOMEM;
        *e = (struct seen_entry) { v.dev, v.ino, v.mtime_ns, v.size, e->path, e->next };
        return 0;
}

static int load(struct seen *s) {
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        size_t lineno = 1;
        int r = read_file_safe(s->file, FILEIO_MAX_SIZE, &text, NULL);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (strncmp(text, SEEN_HEADER, strlen(SEEN_HEADER)) != 0) {
                log_warning("%s: not a ctrcert-seen 1 file; every certificate is looked at afresh", s->file);
                return 0;
        }
        for (line = strtok_r(text + strlen(SEEN_HEADER), "\n", &save); line && r >= 0;
             line = strtok_r(NULL, "\n", &save))
                r = parse_line(s, line, ++lineno);
        return r;
}

int seen_open(const char *dir, struct seen **ret) {
        struct seen *s = calloc(1, sizeof(*s));
        int r;

        if (!s || !(s->file = path_join(dir, "seen")) || strmap_new(256, &s->by_path) < 0) {
                seen_free(s);
                return -ENOMEM;
        }
        r = load(s);
        if (r < 0) {
                seen_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void seen_free(struct seen *s) {
        if (!s)
                return;
        while (s->entries) {
                struct seen_entry *e = s->entries;

                s->entries = e->next;
                free(e->path);
                free(e);
        }
        strmap_free(s->by_path);
        free(s->file);
        free(s);
}

int seen_note(struct seen *s, const char *path, bool *ret_changed) {
        struct seen_entry *e = strmap_get(s->by_path, path);
        struct stat st;
        uint64_t mtime_ns;
        bool known = e;

        *ret_changed = false;
        if (strchr(path, '\n')) /* one record per line: such a path is looked at only through signals */
                return 0;
        if (stat(path, &st) < 0)
                return 0; /* not there (yet): nothing to compare, nothing to act on */
        mtime_ns = (uint64_t) st.st_mtim.tv_sec * 1000000000ULL + (uint64_t) st.st_mtim.tv_nsec;
        if (e && e->dev == (uint64_t) st.st_dev && e->ino == (uint64_t) st.st_ino && e->mtime_ns == mtime_ns &&
            e->size == (uint64_t) st.st_size)
                return 0;
        if (!e && !(e = entry_add(s, path)))
                return -ENOMEM;
        e->dev = (uint64_t) st.st_dev;
        e->ino = (uint64_t) st.st_ino;
        e->mtime_ns = mtime_ns;
        e->size = (uint64_t) st.st_size;
        s->dirty = true;
        *ret_changed = known;
        return 0;
}

int seen_save(struct seen *s) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (!s->dirty)
                return 0;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fputs(SEEN_HEADER, f);
        for (struct seen_entry *e = s->entries; e; e = e->next)
                fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", e->dev, e->ino, e->mtime_ns, e->size,
                        e->path);
        if (fclose(f) != 0)
                return -ENOMEM;
        r = write_file_atomic(s->file, text, len, 0600);
        if (r >= 0)
                s->dirty = false;
        return r;
}

/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "jobstore.h"
#include "log.h"
#include "strmap.h"
#include "strv.h"

#define JOB_MAGIC "ctrcert-job 1"
#define JOB_SUFFIX ".job"
#define JOB_MAX_SIZE (256u * 1024u)

struct jobstore {
        char *dir;
};

int jobstore_open(const char *dir, struct jobstore **ret) {
        struct jobstore *s;
        int r = mkdir_parents(dir, 0700);

        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s || !(s->dir = strdup(dir))) {
                free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

void jobstore_free(struct jobstore *s) {
        if (!s)
                return;
        free(s->dir);
        free(s);
}

/*
 * A key may be a long regular expression with any character in it: the file
 * is named by a hash of the key (FNV-1a, 64 bits), and the key itself is in
 * the file, so loading never depends on the name.
 */
static char *record_path(const struct jobstore *s, const char *key) {
        char name[32];

        snprintf(name, sizeof(name), "%016llx" JOB_SUFFIX, (unsigned long long) strmap_hash(key));
        return path_join(s->dir, name);
}

static bool line_ok(const char *v) {
        return v[0] && !strchr(v, '\n');
}

int jobstore_save(struct jobstore *s, const struct job_record *rec) {
        _cleanup_free_ char *path = record_path(s, rec->key), *text = NULL;
        size_t len = 0;
        FILE *f;

        if (!path)
                return -ENOMEM;
        if (!line_ok(rec->key))
                return -EINVAL;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, JOB_MAGIC "\nkey %s\nheld %d\n", rec->key, rec->held ? 1 : 0);
        if (rec->expires > 0)
                fprintf(f, "expires %" PRId64 "\n", rec->expires);
        STRV_FOREACH(id, rec->ids)
                if (line_ok(*id))
                        fprintf(f, "cert %s\n", *id);
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_atomic(path, text, len, 0600);
}

int jobstore_remove(struct jobstore *s, const char *key) {
        _cleanup_free_ char *path = record_path(s, key);

        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

/*
 * Parses one record in place into *rec (its strings point into text, its ids
 * into *ret_ids); *ret_line names the first bad line (0: the record is incomplete).
 */
static int record_parse(char *text, struct job_record *rec, char ***ret_ids, unsigned *ret_line) {
        char *save = NULL, *key = NULL;
        unsigned n = 0;
        int held = -1;
        int64_t expires = 0;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                *ret_line = ++n;
                if (n == 1 && streq(line, JOB_MAGIC))
                        continue;
                if (n == 1)
                        return -EBADMSG;
                if (strncmp(line, "key ", 4) == 0 && !key && line[4])
                        key = line + 4;
                else if ((streq(line, "held 0") || streq(line, "held 1")) && held < 0)
                        held = line[5] == '1';
                else if (sscanf(line, "expires %" SCNd64, &expires) == 1 && expires > 0)
                        continue;
                else if (strncmp(line, "cert ", 5) == 0 && line[5]) {
                        if (strv_push(ret_ids, line + 5) < 0)
                                return -ENOMEM;
                } else
                        return -EBADMSG;
        }
        *ret_line = 0;
        if (!key || held < 0)
                return -EBADMSG;
        *rec = (struct job_record) { .key = key, .held = held, .expires = expires, .ids = *ret_ids };
        return 0;
}

static void load_one(struct jobstore *s, const char *path, jobstore_load_t cb, void *userdata) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(strv_freep) char **ids = NULL;
        struct job_record rec = {};
        unsigned line = 0;
        int r;

        r = read_file_safe(path, JOB_MAX_SIZE, &text, NULL);
        if (r >= 0)
                r = record_parse(text, &rec, &ids, &line);
        if (r == -EBADMSG) {
                log_error("%s:%u: not a job record of this agent; left in place", path, line);
                return;
        }
        if (r < 0) {
                log_error_errno(r, "%s: cannot read the job record: %m", path);
                return;
        }
        cb(&rec, userdata);
        /* Placed by hand or by another version under another name: the callback saved it under its own. */
        _cleanup_free_ char *canonical = record_path(s, rec.key);
        if (canonical && !streq(canonical, path))
                unlink(path);
}

static int name_is_record(const char *name) {
        size_t n = strlen(name), k = strlen(JOB_SUFFIX);

        /* write_file_atomic's temporary files end in .tmpXXXXXX: a crash may leave one. */
        return name[0] != '.' && n > k && streq(name + n - k, JOB_SUFFIX);
}

int jobstore_load_all(struct jobstore *s, jobstore_load_t cb, void *userdata) {
        struct dirent **names = NULL;
        int n = scandir(s->dir, &names, NULL, alphasort);

        if (n < 0)
                return negative_errno();
        for (int i = 0; i < n; i++) {
                if (name_is_record(names[i]->d_name)) {
                        _cleanup_free_ char *path = path_join(s->dir, names[i]->d_name);

                        if (path)
                                load_one(s, path, cb, userdata);
                }
                free(names[i]);
        }
        free(names);
        return 0;
}

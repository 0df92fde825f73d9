/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "index.h"
#include "macro.h"

char *index_path(const char *state_dir) {
        return path_join(state_dir, "ca/index");
}

static int lock_with_timeout(int fd, uint64_t timeout_usec) {
        uint64_t waited = 0, step = 1000;

        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) >= 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return negative_errno();
                if (waited >= timeout_usec)
                        return -EWOULDBLOCK;
                usleep((useconds_t) step);
                waited += step;
                step = step < 50000 ? step * 2 : 50000;
        }
}

/* Tabs and newlines would break the record's shape: the subject is user-chosen. */
static void sanitize(char *s) {
        for (; *s; s++)
                if (*s == '\t' || *s == '\n' || *s == '\r')
                        *s = ' ';
}

static void format_time(time_t t, char buf[static 32]) {
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int append_line(int fd, const char *line, size_t len);

static int write_record(int fd, const struct index_record *rec) {
        _cleanup_free_ char *line = NULL, *subject = strdup(rec->subject);
        char issued[32], not_after[32];
        int len;

        if (!subject)
                return -ENOMEM;
        sanitize(subject);
        format_time(rec->issued, issued);
        format_time(rec->not_after, not_after);
        len = asprintf(&line, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", issued, rec->serial, not_after, rec->id ? rec->id : "-",
                       subject, rec->sha256, rec->issuer && rec->issuer[0] ? rec->issuer : "-");
        if (len < 0)
                return -ENOMEM;
        return append_line(fd, line, (size_t) len); /* records never interleave */
}

/* Opens state_dir/ca/name for appending, holding the index's lock (returned in *ret_lock). */
static int open_locked(const char *state_dir, const char *name, uint64_t timeout_usec, int *ret_lock) {
        _cleanup_free_ char *dir = path_join(state_dir, "ca"), *path = NULL, *lock_path = index_path(state_dir);
        _cleanup_close_ int lock = -1;
        int fd, r;

        if (!dir || !lock_path || !(path = path_join(dir, name)))
                return -ENOMEM;
        r = mkdir_parents(dir, 0700);
        if (r < 0)
                return r;
        lock = open(lock_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0)
                return negative_errno();
        r = lock_with_timeout(lock, timeout_usec);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        *ret_lock = TAKE_FD(lock);
        return fd;
}

/* One write() of the whole line with O_APPEND, under the lock, then fsync. */
static int append_line(int fd, const char *line, size_t len) {
        ssize_t n = write(fd, line, len);

        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;
        return fsync(fd) < 0 ? negative_errno() : 0;
}

int index_append(const char *state_dir, const struct index_record *rec, uint64_t timeout_usec) {
        _cleanup_close_ int lock = -1, fd = open_locked(state_dir, "index", timeout_usec, &lock);

        if (fd < 0)
                return fd;
        return write_record(fd, rec); /* the lock goes with the descriptor */
}

int index_revoke(const char *state_dir, const struct revocation *rev, uint64_t timeout_usec) {
        _cleanup_close_ int lock = -1, fd = open_locked(state_dir, "revoked", timeout_usec, &lock);
        _cleanup_free_ char *line = NULL;
        char when[32];
        int len;

        if (fd < 0)
                return fd;
        format_time(rev->when, when);
        len = asprintf(&line, "%s\t%s\t%d\n", rev->serial, when, rev->reason);
        if (len < 0)
                return -ENOMEM;
        return append_line(fd, line, (size_t) len);
}

static time_t parse_time(const char *s) {
        struct tm tm = {};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

        return end && !*end ? timegm(&tm) : (time_t) -1;
}

/* Calls cb with the tab-separated fields of each line of state_dir/ca/name that has min_fields to max_fields. */
static int read_lines(const char *state_dir, const char *name, size_t min_fields, size_t max_fields,
                      int (*cb)(char **fields, void *userdata), void *userdata) {
        _cleanup_free_ char *dir = path_join(state_dir, "ca"), *path = NULL, *text = NULL;
        char *save = NULL;
        int r;

        if (!dir || !(path = path_join(dir, name)))
                return -ENOMEM;
        r = read_file_full(path, 256u * 1024u * 1024u, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *fields[8] = {}, *fs = NULL;
                size_t k = 0;

                for (char *f = strtok_r(line, "\t", &fs); f && k < ELEMENTSOF(fields); f = strtok_r(NULL, "\t", &fs))
                        fields[k++] = f;
                if (k < min_fields || k > max_fields)
                        continue; /* a line cut short by a crash before its fsync */
                r = cb(fields, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct read_ctx {
        index_record_t rec_cb;
        index_revocation_t rev_cb;
        void *userdata;
};

static int record_fields(char **f, void *userdata) {
        struct read_ctx *c = userdata;
        struct index_record rec = {
                .issued = parse_time(f[0]), .serial = f[1], .not_after = parse_time(f[2]),
                .id = f[3], .subject = f[4], .sha256 = f[5], .issuer = f[6] && !streq(f[6], "-") ? f[6] : "",
        };

        return c->rec_cb(&rec, c->userdata);
}

static int revocation_fields(char **f, void *userdata) {
        struct read_ctx *c = userdata;
        struct revocation rev = { .serial = f[0], .when = parse_time(f[1]), .reason = atoi(f[2]) };

        return c->rev_cb(&rev, c->userdata);
}

int index_read(const char *state_dir, index_record_t cb, void *userdata) {
        struct read_ctx c = { .rec_cb = cb, .userdata = userdata };

        /* Records before CA rollover existed have no issuer field. */
        return read_lines(state_dir, "index", 6, 7, record_fields, &c);
}

int index_read_revoked(const char *state_dir, index_revocation_t cb, void *userdata) {
        struct read_ctx c = { .rev_cb = cb, .userdata = userdata };

        return read_lines(state_dir, "revoked", 3, 3, revocation_fields, &c);
}

/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/*
 * Opens state_dir/ca/name for appending, holding the index's lock (returned in
 * *ret_lock). The files are opened relative to the ca/ directory and never
 * through a symbolic link: whoever planted one would choose what we write to.
 */
static int open_locked(const char *state_dir, const char *name, uint64_t timeout_usec, int *ret_lock) {
        _cleanup_free_ char *dir = path_join(state_dir, "ca");
        _cleanup_close_ int dfd = -1, lock = -1;
        int fd, r;

        if (!dir)
                return -ENOMEM;
        r = mkdir_parents(dir, 0700);
        if (r < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        lock = openat(dfd, "index", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0)
                return negative_errno();
        r = lock_with_timeout(lock, timeout_usec);
        if (r < 0)
                return r;
        /* read too: append_line() looks at the last byte */
        fd = openat(dfd, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        *ret_lock = TAKE_FD(lock);
        return fd;
}

/* Whether the file ends in a newline (or is empty): a record appended now starts on a line of its own. */
static int ends_with_newline(int fd, off_t size) {
        char last;

        if (size == 0)
                return 1;
        if (pread(fd, &last, 1, size - 1) != 1)
                return negative_errno();
        return last == '\n';
}

/*
 * One write() of the whole line with O_APPEND, under the lock, then fsync. A
 * write that fails half-way (a full file system) is cut off again, so the
 * partial line cannot swallow the record after it; a line left unfinished by
 * a crash is closed with a newline first.
 */
static int append_line(int fd, const char *line, size_t len) {
        struct stat st;
        ssize_t n;
        int r;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        r = ends_with_newline(fd, st.st_size);
        if (r < 0)
                return r;
        n = r == 0 ? write(fd, "\n", 1) : 1;
        if (n == 1)
                n = write(fd, line, len);
        r = n < 0 ? negative_errno() : (size_t) n != len ? -ENOSPC : 0;
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r < 0 && ftruncate(fd, st.st_size) >= 0)
                (void) fsync(fd);
        return r;
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

static bool is_hex(const char *s, size_t min, size_t max) {
        size_t l = strlen(s);

        return l >= min && l <= max && strspn(s, "0123456789abcdefABCDEF") == l;
}

/*
 * Splits a line at tabs into at most max fields, keeping empty ones (two tabs
 * in a row are a damaged line, not one separator). Returns the number of
 * fields, or max + 1 when there are more.
 */
static size_t split_fields(char *line, char **fields, size_t max) {
        size_t k = 0;

        for (char *f = line; f; k++) {
                if (k == max)
                        return max + 1;
                fields[k] = strsep(&f, "\t");
        }
        return k;
}

struct line_reader {
        const char *path;
        size_t min_fields, max_fields;
        /* NULL when the fields make a good line, else why not */
        const char *(*check)(char **fields, size_t n);
        int (*cb)(char **fields, unsigned line, void *userdata);
        void *userdata;
        index_bad_line_t bad;
        void *bad_userdata;
};

static int read_line(const struct line_reader *lr, char *line, size_t len, unsigned number) {
        char *fields[8] = {};
        const char *why = NULL;
        size_t k;

        if (memchr(line, '\0', len))
                why = "contains a NUL byte";
        else if (len == 0)
                why = "is empty";
        else if ((k = split_fields(line, fields, lr->max_fields)) < lr->min_fields || k > lr->max_fields)
                why = "has the wrong number of fields";
        else
                why = lr->check(fields, k);
        if (why) {
                if (lr->bad)
                        lr->bad(lr->path, number, why, lr->bad_userdata);
                return 0;
        }
        return lr->cb(fields, number, lr->userdata);
}

/* Calls cb with the fields of each good line of state_dir/ca/name; reports the others to lr->bad and goes on. */
static int read_lines(const char *state_dir, const char *name, struct line_reader *lr) {
        _cleanup_free_ char *dir = path_join(state_dir, "ca"), *path = NULL, *text = NULL;
        unsigned number = 0;
        size_t len;
        int r;

        if (!dir || !(path = path_join(dir, name)))
                return -ENOMEM;
        r = read_file_full(path, 256u * 1024u * 1024u, &text, &len);
        if (r < 0)
                return r;
        lr->path = path;
        /* By length, not as a C string: a NUL byte must not hide the lines after it. */
        for (char *p = text, *end = text + len; p < end;) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = nl ? (size_t) (nl - p) : (size_t) (end - p);

                p[l] = '\0';
                r = read_line(lr, p, l, ++number);
                if (r < 0)
                        return r;
                p += l + 1;
        }
        return 0;
}

static const char *record_check(char **f, size_t n) {
        if (parse_time(f[0]) == (time_t) -1)
                return "has no valid issue time";
        if (!is_hex(f[1], 1, 64))
                return "has no valid serial";
        if (parse_time(f[2]) == (time_t) -1)
                return "has no valid notAfter";
        if (!f[3][0])
                return "has no id";
        if (!is_hex(f[5], 64, 64))
                return "has no valid SHA-256 fingerprint";
        if (n > 6 && !streq(f[6], "-") && !is_hex(f[6], 64, 64))
                return "has no valid issuer fingerprint";
        return NULL;
}

static const char *revocation_check(char **f, size_t n) {
        char *end;
        long reason;

        (void) n;
        if (!is_hex(f[0], 1, 64))
                return "has no valid serial";
        if (parse_time(f[1]) == (time_t) -1)
                return "has no valid time";
        errno = 0;
        reason = strtol(f[2], &end, 10);
        if (!f[2][0] || *end || errno || reason < 0 || reason > 10 || reason == 7)
                return "has no valid reason code";
        return NULL;
}

struct read_ctx {
        index_record_t rec_cb;
        index_revocation_t rev_cb;
        void *userdata;
};

static int record_fields(char **f, unsigned line, void *userdata) {
        struct read_ctx *c = userdata;
        struct index_record rec = {
                .line = line, .issued = parse_time(f[0]), .serial = f[1], .not_after = parse_time(f[2]),
                .id = f[3], .subject = f[4], .sha256 = f[5], .issuer = f[6] && !streq(f[6], "-") ? f[6] : "",
        };

        return c->rec_cb(&rec, c->userdata);
}

static int revocation_fields(char **f, unsigned line, void *userdata) {
        struct read_ctx *c = userdata;
        struct revocation rev = { .line = line, .serial = f[0], .when = parse_time(f[1]), .reason = atoi(f[2]) };

        return c->rev_cb(&rev, c->userdata);
}

int index_read(const char *state_dir, index_record_t cb, index_bad_line_t bad, void *userdata) {
        struct read_ctx c = { .rec_cb = cb, .userdata = userdata };
        /* Records before CA rollover existed have no issuer field. */
        struct line_reader lr = { .min_fields = 6, .max_fields = 7, .check = record_check, .cb = record_fields,
                                  .userdata = &c, .bad = bad, .bad_userdata = userdata };

        return read_lines(state_dir, "index", &lr);
}

int index_read_revoked(const char *state_dir, index_revocation_t cb, index_bad_line_t bad, void *userdata) {
        struct read_ctx c = { .rev_cb = cb, .userdata = userdata };
        struct line_reader lr = { .min_fields = 3, .max_fields = 3, .check = revocation_check, .cb = revocation_fields,
                                  .userdata = &c, .bad = bad, .bad_userdata = userdata };

        return read_lines(state_dir, "revoked", &lr);
}

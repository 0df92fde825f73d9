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

static int write_record(int fd, const struct index_record *rec) {
        _cleanup_free_ char *line = NULL, *subject = strdup(rec->subject);
        char issued[32], not_after[32];
        int len;
        ssize_t n;

        if (!subject)
                return -ENOMEM;
        sanitize(subject);
        format_time(rec->issued, issued);
        format_time(rec->not_after, not_after);
        len = asprintf(&line, "%s\t%s\t%s\t%s\t%s\t%s\n", issued, rec->serial, not_after, rec->id ? rec->id : "-",
                       subject, rec->sha256);
        if (len < 0)
                return -ENOMEM;
        /* One write() of the whole line with O_APPEND, under the lock: records never interleave. */
        n = write(fd, line, (size_t) len);
        if (n < 0)
                return negative_errno();
        if (n != len)
                return -EIO;
        return fsync(fd) < 0 ? negative_errno() : 0;
}

int index_append(const char *state_dir, const struct index_record *rec, uint64_t timeout_usec) {
        _cleanup_free_ char *dir = path_join(state_dir, "ca"), *path = index_path(state_dir);
        _cleanup_close_ int fd = -1;
        int r;

        if (!dir || !path)
                return -ENOMEM;
        r = mkdir_parents(dir, 0700);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        r = lock_with_timeout(fd, timeout_usec);
        if (r < 0)
                return r;
        return write_record(fd, rec); /* the lock goes with the descriptor */
}

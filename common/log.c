/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static const char *log_program = "ctrcert";
static int log_max_level = LOG_LEVEL_INFO;
static bool log_to_journal;   /* stderr is a journald stream: "<N>" prefixes carry each line's priority */
static bool log_timestamps;   /* a daemon's lines elsewhere (a file, a terminal) carry the time */

/*
 * Whether stderr is the journal stream systemd gave us: JOURNAL_STREAM names
 * its device and inode. Checked against stderr itself, since a child whose
 * stderr was redirected inherits the variable too.
 */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = { [LOG_LEVEL_ERR] = "err",   [LOG_LEVEL_WARNING] = "warning",
                                             [LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
                                             [LOG_LEVEL_DEBUG] = "debug" };

        for (int l = LOG_LEVEL_ERR; l <= LOG_LEVEL_DEBUG; l++)
                if (streq(s, names[l]) || (s[0] == '0' + l && s[1] == '\0'))
                        return l;
        if (streq(s, "error"))
                return LOG_LEVEL_ERR;
        return -EINVAL;
}

void log_setup(const char *program) {
        const char *e = getenv("CTRCERT_LOG_LEVEL");
        int level = e ? log_level_from_string(e) : -EINVAL;

        log_program = program;
        log_to_journal = stderr_is_journal();
        if (level >= 0)
                log_max_level = level;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

bool log_is_journal(void) {
        return log_to_journal;
}

void log_set_timestamps(bool on) {
        log_timestamps = on;
}

/* "2026-12-07T10:18:49.123+0000 ", local time as podman events prints it, to line the two up. */
static void print_timestamp(FILE *f) {
        struct timeval tv;
        struct tm tm;
        char buf[64];

        gettimeofday(&tv, NULL);
        if (!localtime_r(&tv.tv_sec, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return;
        fprintf(f, "%s.%03ld", buf, (long) tv.tv_usec / 1000);
        if (strftime(buf, sizeof(buf), "%z", &tm) > 0)
                fputs(buf, f);
        fputc(' ', f);
}

int log_full_errno(int level, int error, const char *fmt, ...) {
        va_list ap;
        int saved = errno;

        if (level > log_max_level)
                return error;

        /* %m in the format must print the error we were given, not a stale errno. */
        errno = error < 0 ? -error : error;
        if (log_to_journal)
                fprintf(stderr, "<%d>", level); /* journald names the program itself */
        else {
                if (log_timestamps)
                        print_timestamp(stderr);
                fprintf(stderr, "%s: ", log_program);
        }
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved;
        return error;
}

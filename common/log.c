/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static const char *log_program = "ctrcert";
static int log_max_level = LOG_LEVEL_INFO;

void log_setup(const char *program) {
        const char *e = getenv("CTRCERT_LOG_LEVEL");

        log_program = program;
        if (e && streq(e, "debug"))
                log_max_level = LOG_LEVEL_DEBUG;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_full_errno(int level, int error, const char *fmt, ...) {
        va_list ap;
        int saved = errno;

        if (level > log_max_level)
                return error;

        /* %m in the format must print the error we were given, not a stale errno. */
        errno = error < 0 ? -error : error;
        fprintf(stderr, "%s: ", log_program);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved;
        return error;
}

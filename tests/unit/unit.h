/* SPDX-License-Identifier: MIT */
#pragma once

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "macro.h"

#define UNIT_MAIN(suite_fn)                                              \
        int main(void) {                                                 \
                SRunner *sr = srunner_create(suite_fn());                \
                int failed;                                              \
                srunner_run_all(sr, CK_NORMAL);                          \
                failed = srunner_ntests_failed(sr);                      \
                srunner_free(sr);                                        \
                return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;        \
        }

/* True when some diagnostic of this severity contains every one of the given texts. */
static inline int diag_has(const struct diag_list *d, enum diag_severity sev, const char *pos, const char *text) {
        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *s = NULL;

                if (d->items[i].severity != sev || diag_format(&d->items[i], &s) < 0)
                        continue;
                if ((!pos || strstr(s, pos)) && (!text || strstr(s, text)))
                        return 1;
        }
        return 0;
}

static inline void diag_dump(const struct diag_list *d) {
        diag_list_print(d, stderr);
}

/* A fresh temporary directory; removed by the caller with rm_rf(). */
static inline char *unit_tmpdir(void) {
        char *t = strdup("/tmp/ctrcert-unit.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t));
        return t;
}

static inline void rm_rf(const char *dir) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static inline void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

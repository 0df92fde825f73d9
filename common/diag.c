/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"

void diag_add(struct diag_list *l, enum diag_severity sev, const char *file, unsigned line, unsigned column,
              const char *field, const char *fmt, ...) {
        struct diag *d;
        va_list ap;
        int r;

        if (sev == DIAG_ERROR)
                l->n_errors++;
        else
                l->n_warnings++;

        /* Counted above even when not kept: a truncated list still fails the load. */
        if (l->n >= DIAG_MAX) {
                l->truncated = true;
                return;
        }
        if (l->n % 16 == 0) {
                struct diag *p = realloc(l->items, (l->n + 16) * sizeof(*p));
                if (!p) {
                        l->truncated = true;
                        return;
                }
                l->items = p;
        }

        d = &l->items[l->n];
        *d = (struct diag) { .severity = sev, .line = line, .column = column };
        d->file = strdup(file ? file : "-");
        d->field = strdup(field ? field : "");
        va_start(ap, fmt);
        r = vasprintf(&d->message, fmt, ap);
        va_end(ap);
        if (r < 0 || !d->file || !d->field) {
                free(d->file);
                free(d->field);
                if (r >= 0)
                        free(d->message);
                l->truncated = true;
                return;
        }
        l->n++;
}

int diag_format(const struct diag *d, char **ret) {
        const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";
        int r;

        if (d->line > 0)
                r = asprintf(ret, "%s:%u:%u: %s: %s%s%s", d->file, d->line, d->column, sev, d->field,
                             d->field[0] ? ": " : "", d->message);
        else
                r = asprintf(ret, "%s: %s: %s%s%s", d->file, sev, d->field, d->field[0] ? ": " : "", d->message);
        return r < 0 ? -ENOMEM : 0;
}

void diag_list_print(const struct diag_list *l, FILE *f) {
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *s = NULL;

                if (diag_format(&l->items[i], &s) >= 0)
                        fprintf(f, "%s\n", s);
        }
        if (l->truncated)
                fprintf(f, "(further diagnostics omitted)\n");
}

void diag_list_clear(struct diag_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].file);
                free(l->items[i].field);
                free(l->items[i].message);
        }
        free(l->items);
        *l = (struct diag_list) {};
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

/*
 * Diagnostics about a user's file: each names file:line:column and the field,
 * so an operator can jump straight to the mistake. Loaders collect all of them
 * (bounded) instead of stopping at the first.
 */

#define DIAG_MAX 200

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
        enum diag_severity severity;
        char *file;
        unsigned line, column;
        char *field;
        char *message;
};

struct diag_list {
        struct diag *items;
        size_t n, n_errors, n_warnings;
        bool truncated;
};

void diag_add(struct diag_list *l, enum diag_severity sev, const char *file, unsigned line, unsigned column,
              const char *field, const char *fmt, ...) _printf_(7, 8);

/* "file:line:col: error: field: message" */
int diag_format(const struct diag *d, char **ret);
void diag_list_print(const struct diag_list *l, FILE *f);
void diag_list_clear(struct diag_list *l);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated string vectors. */
char **strv_new_empty(void);
void strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
size_t strv_length(char *const *v);
/* Appends a copy of s. */
int strv_push(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
bool strv_contains_case(char *const *v, const char *s);
/* Joins with sep into a new string ("" for NULL/empty). */
char *strv_join(char *const *v, const char *sep);

#define STRV_FOREACH(s, v) for (char *const *s = (v); s && *s; s++)

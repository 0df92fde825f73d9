/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stdio.h>

/*
 * The little JSON ctrcertctl writes for --json (schemas in ctrcertctl(8),
 * JSON OUTPUT): strings escaped as RFC 8259 wants, and made valid UTF-8 first
 * (common/escape.c), so a hostile container name or error text can neither
 * break the document nor a consumer's decoder.
 */

/* "s", escaped; NULL prints null. */
void json_string(FILE *f, const char *s);
/*
 * "s" with exactly its bytes, for a program that will use them (an exec's
 * argv): only quote, backslash and control characters escaped (\uXXXX).
 */
void json_string_exact(FILE *f, const char *s);
/* "key": — a member's name, with the comma before it unless it is the first (*first, then cleared). */
void json_key(FILE *f, const char *key, int *first);
void json_member_string(FILE *f, const char *key, const char *value, int *first);
void json_member_int(FILE *f, const char *key, int64_t value, int *first);

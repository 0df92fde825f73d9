/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "escape.h"
#include "json.h"
#include "macro.h"

void json_string(FILE *f, const char *s) {
        _cleanup_free_ char *safe = s ? escape_control(s) : NULL;

        if (!s || !safe) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const char *p = safe; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fputc('\\', f);
                fputc(*p, f); /* escape_control left no control character */
        }
        fputc('"', f);
}

void json_string_exact(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

void json_key(FILE *f, const char *key, int *first) {
        if (!*first)
                fputc(',', f);
        *first = 0;
        json_string(f, key);
        fputc(':', f);
}

void json_member_string(FILE *f, const char *key, const char *value, int *first) {
        json_key(f, key, first);
        json_string(f, value);
}

void json_member_int(FILE *f, const char *key, int64_t value, int *first) {
        json_key(f, key, first);
        fprintf(f, "%lld", (long long) value);
}

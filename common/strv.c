/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strv.h"

char **strv_new_empty(void) {
        return calloc(1, sizeof(char *));
}

void strv_free(char **v) {
        STRV_FOREACH(s, v)
                free(*s);
        free(v);
}

size_t strv_length(char *const *v) {
        size_t n = 0;

        STRV_FOREACH(s, v)
                n++;
        return n;
}

int strv_push(char ***v, const char *s) {
        size_t n = strv_length(*v);
        char *copy = strdup(s);
        char **p;

        if (!copy)
                return -ENOMEM;
        p = realloc(*v, (n + 2) * sizeof(char *));
        if (!p) {
                free(copy);
                return -ENOMEM;
        }
        p[n] = copy;
        p[n + 1] = NULL;
        *v = p;
        return 0;
}

bool strv_contains(char *const *v, const char *s) {
        STRV_FOREACH(i, v)
                if (streq(*i, s))
                        return true;
        return false;
}

bool strv_contains_case(char *const *v, const char *s) {
        STRV_FOREACH(i, v)
                if (strcasecmp(*i, s) == 0)
                        return true;
        return false;
}

char *strv_join(char *const *v, const char *sep) {
        size_t len = 1, seplen = strlen(sep);
        char *r, *p;

        STRV_FOREACH(s, v)
                len += strlen(*s) + seplen;
        r = p = malloc(len);
        if (!r)
                return NULL;
        *p = '\0';
        STRV_FOREACH(s, v) {
                if (s != v)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *s);
        }
        return r;
}

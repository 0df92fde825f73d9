/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

void escape_control_buf(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                size_t need = is_control(*p) ? 4 : 1;

                if (n + need >= size)
                        break;
                if (need == 4)
                        snprintf(buf + n, 5, "\\x%02x", *p);
                else
                        buf[n] = (char) *p;
                n += need;
        }
        buf[n] = '\0';
}

char *escape_control(const char *s) {
        size_t size = 1;
        char *buf;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                size += is_control(*p) ? 4 : 1;
        buf = malloc(size);
        if (buf)
                escape_control_buf(s, buf, size);
        return buf;
}

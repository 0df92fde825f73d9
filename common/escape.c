/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/*
 * How many bytes at p form one character that may pass as it is: 1 for
 * printable ASCII, 2-4 for a well-formed UTF-8 sequence (no overlong form, no
 * surrogate, at most U+10FFFF) that is not a C1 control (U+0080-U+009F, which
 * terminals act on as they do on ESC sequences); 0 when the byte at p must be
 * escaped.
 */
static size_t passable(const unsigned char *p) {
        unsigned cp;
        size_t len;

        if (p[0] < 0x80)
                return p[0] >= 0x20 && p[0] != 0x7f;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4, cp = p[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp <= 0x9f)
                return 0;
        return len;
}

void escape_control_buf(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t ok = passable(p), need = ok ? ok : 4;

                if (n + need >= size)
                        break;
                if (ok)
                        memcpy(buf + n, p, ok);
                else
                        snprintf(buf + n, 5, "\\x%02x", *p);
                n += need;
                p += ok ? ok : 1;
        }
        buf[n] = '\0';
}

char *escape_control(const char *s) {
        size_t size = 1;
        char *buf;

        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t ok = passable(p);

                size += ok ? ok : 4;
                p += ok ? ok : 1;
        }
        buf = malloc(size);
        if (buf)
                escape_control_buf(s, buf, size);
        return buf;
}

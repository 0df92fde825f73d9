/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "macro.h"

int http_format_request(const char *method, const char *path, const char *content_type, size_t body_len, char **ret) {
        /* Host is required by HTTP/1.1 and ignored on a unix socket; podman's own clients send "d". */
        if (asprintf(ret, "%s %s HTTP/1.1\r\nHost: d\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n", method,
                     path, content_type ? "Content-Type: " : "", content_type ? content_type : "", content_type ? "\r\n" : "",
                     body_len) < 0)
                return -ENOMEM;
        return 0;
}

static bool unreserved(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
}

int http_escape(const char *s, char **ret) {
        char *out = malloc(strlen(s) * 3 + 1), *p = out;

        if (!out)
                return -ENOMEM;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (unreserved(c))
                        *p++ = (char) c;
                else
                        p += sprintf(p, "%%%02X", c);
        }
        *p = '\0';
        *ret = out;
        return 0;
}

/* The line starting at *pos, without its CRLF; *pos moves past it. NULL when no CRLF is left. */
static const char *next_line(const char *buf, size_t len, size_t *pos, size_t *ret_len) {
        const char *start = buf + *pos, *end = memmem(start, len - *pos, "\r\n", 2);

        if (!end)
                return NULL;
        *ret_len = (size_t) (end - start);
        *pos += *ret_len + 2;
        return start;
}

/* "Name: value" → value when the header is name (case-insensitive), else NULL. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *ret_len) {
        size_t k = strlen(name);

        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return NULL;
        line += k + 1;
        n -= k + 1;
        while (n > 0 && (*line == ' ' || *line == '\t'))
                line++, n--;
        *ret_len = n;
        return line;
}

static void append(char *body, size_t size, size_t *used, const char *data, size_t n) {
        size_t room = size - 1 - *used, k = n < room ? n : room;

        memcpy(body + *used, data, k);
        *used += k;
}

/* Chunks from pos to the end: "HEX[;ext]\r\nDATA\r\n", up to the empty chunk. What arrived is kept. */
static void dechunk(const char *buf, size_t len, size_t pos, char *body, size_t size, size_t *used) {
        for (;;) {
                size_t n;
                const char *line = next_line(buf, len, &pos, &n);
                char hex[17] = "";
                unsigned long chunk;

                if (!line || n == 0 || n >= sizeof(hex))
                        return;
                memcpy(hex, line, n);
                chunk = strtoul(hex, NULL, 16);
                if (chunk == 0)
                        return;
                if (chunk > len - pos)
                        chunk = len - pos;
                append(body, size, used, buf + pos, chunk);
                pos += chunk;
                if (len - pos < 2)
                        return;
                pos += 2;
        }
}

int http_parse_response(const char *buf, size_t len, int *ret_status, char *body, size_t size, size_t *ret_len) {
        size_t pos = 0, n, used = 0, content_length = SIZE_MAX;
        const char *line = next_line(buf, len, &pos, &n);
        bool chunked = false;
        int status;

        if (!line || n < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
            sscanf(line + 9, "%3d", &status) != 1 || status < 100)
                return -EBADMSG;
        /* Headers, up to the empty line. */
        while ((line = next_line(buf, len, &pos, &n)) && n > 0) {
                size_t vn;
                const char *v;

                if ((v = header_value(line, n, "Transfer-Encoding", &vn)))
                        chunked = vn >= 7 && strncasecmp(v + vn - 7, "chunked", 7) == 0;
                else if ((v = header_value(line, n, "Content-Length", &vn)) && vn > 0 && vn < 20)
                        content_length = strtoul(v, NULL, 10);
        }
        if (!line)
                return -EBADMSG;
        if (chunked)
                dechunk(buf, len, pos, body, size, &used);
        else
                append(body, size, &used, buf + pos, content_length < len - pos ? content_length : len - pos);
        body[used] = '\0';
        *ret_status = status;
        *ret_len = used;
        return 0;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "escape.h"
#include "event.h"
#include "macro.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct field_buf {
        char data[8192];
        size_t len;
        bool overflow;
};

/* Appends "NAME=value\n", control characters escaped (a newline would need the journal's binary form). */
static void field(struct field_buf *b, const char *name, const char *value) {
        _cleanup_free_ char *safe = escape_control(value ? value : "");
        int n = safe ? snprintf(b->data + b->len, sizeof(b->data) - b->len, "%s=%s\n", name, safe) : -1;

        if (n < 0 || (size_t) n >= sizeof(b->data) - b->len) {
                b->overflow = true;
                return;
        }
        b->len += (size_t) n;
}

static int journal_send(const struct field_buf *b) {
        const char *path = getenv("CTRCERT_JOURNAL_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (b->overflow)
                return -E2BIG;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path && path[0] ? path : JOURNAL_SOCKET);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (sendto(fd, b->data, b->len, MSG_NOSIGNAL, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        return 0;
}

int event_send(const char *identifier, int priority, const char *event, const char *message,
               const struct event_field *fields, size_t n_fields) {
        struct field_buf b = {};
        char prio[4];

        snprintf(prio, sizeof(prio), "%d", priority);
        field(&b, "MESSAGE", message);
        field(&b, "PRIORITY", prio);
        field(&b, "SYSLOG_IDENTIFIER", identifier);
        field(&b, "CTRCERT_EVENT", event);
        for (size_t i = 0; i < n_fields; i++)
                field(&b, fields[i].name, fields[i].value);
        return journal_send(&b);
}

/* SPDX-License-Identifier: MIT */
/*
 * The audit event of an issuance. The helper is a short-lived process run
 * once per certificate; linking libsystemd for sd_journal_send() would load
 * six more libraries (0.8 ms of a 3 ms budget, see bench/RESULTS.md), so the
 * event is sent in the journal's native protocol directly: one datagram of
 * FIELD=value lines to the journal socket. Without a journal: one stderr line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit.h"
#include "escape.h"
#include "macro.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct field_buf {
        char data[4096];
        size_t len;
        bool overflow;
};

/*
 * Appends "NAME=value\n". Values quote the CSR's subject and certmonger's
 * profile: control characters are escaped (a newline would also need the
 * journal's binary form).
 */
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
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        _cleanup_close_ int fd = -1;

        if (b->overflow)
                return -E2BIG;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (sendto(fd, b->data, b->len, MSG_NOSIGNAL, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        return 0;
}

void audit_issued(const struct index_record *rec, const char *profile) {
        struct field_buf b = {};
        _cleanup_free_ char *subject = NULL;
        char message[1024], not_after[32];

        snprintf(message, sizeof(message), "issued certificate serial %s for id %s (%s)", rec->serial,
                 rec->id ? rec->id : "-", rec->subject);
        snprintf(not_after, sizeof(not_after), "%lld", (long long) rec->not_after);
        field(&b, "MESSAGE", message);
        field(&b, "PRIORITY", "6");
        field(&b, "SYSLOG_IDENTIFIER", "ctrcert-submit");
        field(&b, "CTRCERT_EVENT", "issued");
        field(&b, "CTRCERT_SERIAL", rec->serial);
        field(&b, "CTRCERT_ID", rec->id);
        field(&b, "CTRCERT_PROFILE", profile);
        field(&b, "CTRCERT_SUBJECT", rec->subject);
        field(&b, "CTRCERT_SHA256", rec->sha256);
        field(&b, "CTRCERT_NOT_AFTER", not_after);
        if (journal_send(&b) >= 0)
                return;
        subject = escape_control(rec->subject);
        fprintf(stderr, "ctrcert-submit: audit: issued serial=%s id=%s subject=%s sha256=%s not_after=%s\n", rec->serial,
                rec->id ? rec->id : "-", subject ? subject : "?", rec->sha256, not_after);
}

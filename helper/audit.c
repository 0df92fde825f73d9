/* SPDX-License-Identifier: MIT */
/*
 * The helper's audit events: each issuance and each rejection, to the journal
 * with structured fields (common/event.c). Without a journal: one stderr line.
 */
#include <stdio.h>

#include "audit.h"
#include "escape.h"
#include "event.h"
#include "macro.h"

void audit_issued(const struct index_record *rec, const char *profile) {
        _cleanup_free_ char *subject = NULL;
        char message[1024], not_after[32];

        snprintf(message, sizeof(message), "issued certificate serial %s for id %s (%s)", rec->serial,
                 rec->id ? rec->id : "-", rec->subject);
        snprintf(not_after, sizeof(not_after), "%lld", (long long) rec->not_after);
        if (event_send("ctrcert-submit", 6, "issued", message,
                       (const struct event_field[]) { { "CTRCERT_SERIAL", rec->serial }, { "CTRCERT_ID", rec->id },
                                                      { "CTRCERT_PROFILE", profile }, { "CTRCERT_SUBJECT", rec->subject },
                                                      { "CTRCERT_SHA256", rec->sha256 },
                                                      { "CTRCERT_NOT_AFTER", not_after } },
                       6) >= 0)
                return;
        subject = escape_control(rec->subject);
        fprintf(stderr, "ctrcert-submit: audit: issued serial=%s id=%s subject=%s sha256=%s not_after=%s\n", rec->serial,
                rec->id ? rec->id : "-", subject ? subject : "?", rec->sha256, not_after);
}

void audit_rejected(const char *profile, const char *reason) {
        char message[1024];

        snprintf(message, sizeof(message), "refused a request for %s: %s", profile ? profile : "(no template)", reason);
        /* Without a journal the reason is on stderr already (the helper's log line). */
        (void) event_send("ctrcert-submit", 4, "rejected", message,
                          (const struct event_field[]) { { "CTRCERT_PROFILE", profile }, { "CTRCERT_REASON", reason } }, 2);
}

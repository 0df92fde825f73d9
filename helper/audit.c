/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "audit.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

void audit_issued(const struct index_record *rec, const char *profile) {
        if (access(JOURNAL_SOCKET, W_OK) >= 0 &&
            sd_journal_send("MESSAGE=issued certificate serial %s for id %s (%s)", rec->serial, rec->id ? rec->id : "-",
                            rec->subject, "PRIORITY=6", "SYSLOG_IDENTIFIER=ctrcert-submit", "CTRCERT_EVENT=issued",
                            "CTRCERT_SERIAL=%s", rec->serial, "CTRCERT_ID=%s", rec->id ? rec->id : "",
                            "CTRCERT_PROFILE=%s", profile ? profile : "", "CTRCERT_SUBJECT=%s", rec->subject,
                            "CTRCERT_SHA256=%s", rec->sha256, "CTRCERT_NOT_AFTER=%lld", (long long) rec->not_after,
                            NULL) >= 0)
                return;
        fprintf(stderr, "ctrcert-submit: audit: issued serial=%s id=%s subject=%s sha256=%s not_after=%lld\n",
                rec->serial, rec->id ? rec->id : "-", rec->subject, rec->sha256, (long long) rec->not_after);
}

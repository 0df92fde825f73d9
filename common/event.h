/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Security-relevant events (issuance and rejection, CA init, rollover and
 * install, revocation and CRL, manifest reloads: the list with their fields
 * is in ctrcertctl(8) and ctrcert-agent(8), EVENTS) as one journal entry each
 * with structured fields: CTRCERT_EVENT=NAME, then CTRCERT_* fields, so
 * `journalctl CTRCERT_EVENT=revoked` finds them. Sent in the journal's native
 * protocol (one datagram of FIELD=value lines), without libsystemd: the
 * helper is a short-lived process. Values quote outside text: control
 * characters are escaped. CTRCERT_JOURNAL_SOCKET names another socket (tests).
 */

struct event_field {
        const char *name; /* "CTRCERT_SERIAL" */
        const char *value;
};

/*
 * Sends the event; 0, or a negative errno when no journal took it (the
 * caller decides whether a line elsewhere is needed).
 */
int event_send(const char *identifier, int priority, const char *event, const char *message,
               const struct event_field *fields, size_t n_fields);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <time.h>

/*
 * The issuance index: one line per certificate issued, appended under an
 * exclusive lock and fsync'd before the certificate is handed out, so no
 * certificate exists that the index does not know.
 */

struct index_record {
        time_t issued;
        const char *serial;
        time_t not_after;
        const char *id;
        const char *subject;
        const char *sha256;
        const char *issuer; /* SHA-256 of the issuing CA's certificate; "" in records older than rollover */
        unsigned line;      /* where index_read() found it (from 1) */
};

/* -EWOULDBLOCK when another issuer held the lock for longer than timeout_usec. */
int index_append(const char *state_dir, const struct index_record *rec, uint64_t timeout_usec);
/* "<state_dir>/ca/index" */
char *index_path(const char *state_dir);

/*
 * A line that is not a record (a NUL byte, a field missing or malformed): the
 * file, its line number (from 1) and why. Readers report it (bad may be NULL)
 * and go on with the next line.
 */
typedef void (*index_bad_line_t)(const char *path, unsigned line, const char *why, void *userdata);

/* Every record of the index, in order (the strings live until cb returns). -ENOENT: none issued yet. */
typedef int (*index_record_t)(const struct index_record *rec, void *userdata);
int index_read(const char *state_dir, index_record_t cb, index_bad_line_t bad, void *userdata);

/*
 * Revocations: <state_dir>/ca/revoked, one "SERIAL<TAB>TIME<TAB>REASON" line
 * each, appended under the index's lock (so a revocation and an issuance
 * never interleave) and fsync'd. reason is RFC 5280's CRLReason code.
 */
struct revocation {
        const char *serial;
        time_t when;
        int reason;
        unsigned line; /* where index_read_revoked() found it (from 1) */
};
int index_revoke(const char *state_dir, const struct revocation *rev, uint64_t timeout_usec);
typedef int (*index_revocation_t)(const struct revocation *rev, void *userdata);
/* -ENOENT: nothing revoked yet. */
int index_read_revoked(const char *state_dir, index_revocation_t cb, index_bad_line_t bad, void *userdata);

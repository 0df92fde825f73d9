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
};

/* -EWOULDBLOCK when another issuer held the lock for longer than timeout_usec. */
int index_append(const char *state_dir, const struct index_record *rec, uint64_t timeout_usec);
/* "<state_dir>/ca/index" */
char *index_path(const char *state_dir);

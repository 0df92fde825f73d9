/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "crypto.h"
#include "manifest.h"

/*
 * The issuance policy: a CSR's plain facts, the config and the manifest in,
 * a decision out. No keys, files or buses: every rule is unit-testable.
 */

#define POLICY_REJECTED 1

struct policy_decision {
        char reason[512];   /* why, when rejected: one line for certmonger's ca-error */
        const char *id;     /* the manifest id the certificate is issued for, or NULL */
        unsigned usage;     /* USAGE_* bits for the extendedKeyUsage */
        char **san_dns, **san_ip, **san_email;
};

/*
 * Returns 0 when the CSR may be signed (ret filled), POLICY_REJECTED with
 * ret->reason set, or a negative errno.
 */
int policy_check(const struct config *cfg, const struct manifest *m, const char *profile, const struct csr_info *ci,
                 struct policy_decision *ret);
void policy_decision_done(struct policy_decision *d);

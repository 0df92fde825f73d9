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
        char **cn;          /* the subject's CNs: nothing else of the CSR's subject is issued */
        char **san_dns, **san_ip, **san_email;
};

/*
 * Returns 0 when the CSR may be signed (ret filled), POLICY_REJECTED with
 * ret->reason set, or a negative errno.
 */
int policy_check(const struct config *cfg, const struct manifest *m, const char *profile, const struct csr_info *ci,
                 struct policy_decision *ret);
void policy_decision_done(struct policy_decision *d);

/*
 * Upstream mode (ctrcert-submit --upstream): the CSR goes to another CA as it
 * is, and such CAs copy what it asks for. After policy_check() allowed it (its
 * decision in allowed), the CSR may carry nothing but the CN in its subject,
 * and as extensions only SAN, basicConstraints CA:FALSE, an end-entity key
 * usage, extended key usages within the id's usage and certmonger's own
 * (subjectKeyIdentifier, template name). 0 or POLICY_REJECTED with reason set.
 */
int policy_check_upstream(const struct csr_info *ci, const struct policy_decision *allowed, char *reason, size_t size);

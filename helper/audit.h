/* SPDX-License-Identifier: MIT */
#pragma once

#include "index.h"

/* One audit event per issuance: to the journal with structured fields, or to stderr without one. */
void audit_issued(const struct index_record *rec, const char *profile);
/* A request refused (a policy violation or a bad CSR): to the journal only. */
void audit_rejected(const char *profile, const char *reason);

/* SPDX-License-Identifier: MIT */
#pragma once

#include "engine.h"

/* A finished job to the journal, with structured fields (CTRCERT_CONTAINER, CTRCERT_RESULT, …). */
void report_job(const struct job_report *r);

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"
#include "macro.h"
#include "metrics.h"

static const char *const result_names[] = { "ok", "failed", "held" };
static const char *const state_names[] = {
        [MJ_WAITING] = "waiting", [MJ_QUEUED] = "queued", [MJ_WINDOW] = "window",
        [MJ_PAUSED] = "paused",   [MJ_RUNNING] = "running", [MJ_HELD] = "held",
};

/* A label value with \, " and newline escaped, as the text format wants. */
static void put_label(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
        fputc('"', f);
}

static void put_header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_jobs(FILE *f, const struct metrics_ctr *ctrs, size_t n) {
        put_header(f, "ctrcert_jobs_total", "counter", "Jobs the agent finished, by container and result.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ELEMENTSOF(result_names); k++) {
                        fputs("ctrcert_jobs_total{container=", f);
                        put_label(f, ctrs[i].container);
                        fprintf(f, ",result=\"%s\"} %llu\n", result_names[k], (unsigned long long) ctrs[i].jobs[k]);
                }
}

/* One sample per container of the uint64_t or int64_t at offset; int64_t samples of 0 are left out (none yet). */
static void put_per_ctr(FILE *f, const char *name, const char *type, const char *help, const struct metrics_ctr *ctrs,
                        size_t n, size_t offset, bool is_time) {
        put_header(f, name, type, help);
        for (size_t i = 0; i < n; i++) {
                const char *p = (const char *) &ctrs[i] + offset;
                long long v = is_time ? (long long) *(const int64_t *) p : (long long) *(const uint64_t *) p;

                if (is_time && v == 0)
                        continue;
                fprintf(f, "%s{container=", name);
                put_label(f, ctrs[i].container);
                fprintf(f, "} %lld\n", v);
        }
}

static void put_not_after(FILE *f, const struct metrics_cert *certs, size_t n) {
        put_header(f, "ctrcert_certificate_not_after_timestamp_seconds", "gauge",
                   "The notAfter of each certificate of the manifest, as now on disk (alert on it minus time()).");
        for (size_t i = 0; i < n; i++) {
                if (certs[i].not_after < 0)
                        continue; /* not issued yet: no sample rather than a false one */
                fputs("ctrcert_certificate_not_after_timestamp_seconds{id=", f);
                put_label(f, certs[i].id);
                fprintf(f, "} %lld\n", (long long) certs[i].not_after);
        }
}

/* certmonger's side: a request CA_UNREACHABLE, CA_REJECTED or stuck is the usual cause of an expiry. */
static void put_requests(FILE *f, const struct metrics_cert *certs, size_t n) {
        put_header(f, "ctrcert_certmonger_request_info", "gauge",
                   "1 for each certificate's certmonger request with its status (MONITORING when all is well).");
        for (size_t i = 0; i < n; i++)
                if (certs[i].cm_status && certs[i].cm_status[0]) {
                        fputs("ctrcert_certmonger_request_info{id=", f);
                        put_label(f, certs[i].id);
                        fputs(",status=", f);
                        put_label(f, certs[i].cm_status);
                        fputs("} 1\n", f);
                }
        put_header(f, "ctrcert_certmonger_request_stuck", "gauge",
                   "1 when certmonger gave up on the certificate's request until someone resubmits it.");
        for (size_t i = 0; i < n; i++)
                if (certs[i].cm_status && certs[i].cm_status[0]) {
                        fputs("ctrcert_certmonger_request_stuck{id=", f);
                        put_label(f, certs[i].id);
                        fprintf(f, "} %d\n", certs[i].cm_stuck ? 1 : 0);
                }
}

static void put_states(FILE *f, const unsigned *by_state) {
        put_header(f, "ctrcert_jobs", "gauge",
                   "Containers with work now, by state (window: waiting for a maintenance window; paused: held by a "
                   "pause; held: by the restart budget).");
        for (size_t s = 0; s < _MJ_MAX; s++)
                fprintf(f, "ctrcert_jobs{state=\"%s\"} %u\n", state_names[s], by_state[s]);
}

int metrics_write(const char *path, const struct metrics *m) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        put_header(f, "ctrcert_build_info", "gauge", "The agent's version.");
        fputs("ctrcert_build_info{version=", f);
        put_label(f, m->version);
        fputs("} 1\n", f);
        put_jobs(f, m->ctrs, m->n_ctrs);
        put_states(f, m->jobs_by_state);
        put_per_ctr(f, "ctrcert_restarts_total", "counter", "Restarts the agent ran that succeeded, by container.",
                    m->ctrs, m->n_ctrs, offsetof(struct metrics_ctr, restarts), false);
        put_per_ctr(f, "ctrcert_restart_attempts_total", "counter",
                    "Restarts the agent tried, by container (more than ctrcert_restarts_total: some failed).", m->ctrs,
                    m->n_ctrs, offsetof(struct metrics_ctr, restart_attempts), false);
        put_per_ctr(f, "ctrcert_verify_failures_total", "counter", "Verifications that did not see the new certificate.",
                    m->ctrs, m->n_ctrs, offsetof(struct metrics_ctr, verify_failures), false);
        put_per_ctr(f, "ctrcert_last_success_timestamp_seconds", "gauge",
                    "When the container's last job succeeded (since the agent started).", m->ctrs, m->n_ctrs,
                    offsetof(struct metrics_ctr, last_success), true);
        put_not_after(f, m->certs, m->n_certs);
        put_requests(f, m->certs, m->n_certs);
        if (m->crl_next_update > 0) {
                put_header(f, "ctrcert_crl_next_update_timestamp_seconds", "gauge",
                           "When the CRL ctrcertctl crl wrote goes stale (its earliest nextUpdate): renew it before.");
                fprintf(f, "ctrcert_crl_next_update_timestamp_seconds %lld\n", (long long) m->crl_next_update);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_atomic(path, text, len, 0644);
}

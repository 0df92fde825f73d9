/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fileio.h"
#include "macro.h"
#include "metrics.h"

static const char *const result_names[] = { "ok", "failed", "held" };

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

static void put_jobs(FILE *f, const struct metrics_ctr *ctrs, size_t n) {
        fputs("# HELP ctrcert_jobs_total Jobs the agent finished, by container and result.\n"
              "# TYPE ctrcert_jobs_total counter\n", f);
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ELEMENTSOF(result_names); k++) {
                        fputs("ctrcert_jobs_total{container=", f);
                        put_label(f, ctrs[i].container);
                        fprintf(f, ",result=\"%s\"} %llu\n", result_names[k], (unsigned long long) ctrs[i].jobs[k]);
                }
}

/* One counter per container. */
static void put_counter(FILE *f, const char *name, const char *help, const struct metrics_ctr *ctrs, size_t n,
                        size_t offset) {
        fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s{container=", name);
                put_label(f, ctrs[i].container);
                fprintf(f, "} %llu\n", (unsigned long long) *(const uint64_t *) ((const char *) &ctrs[i] + offset));
        }
}

static void put_expiry(FILE *f, const struct metrics_cert *certs, size_t n, time_t now) {
        fputs("# HELP ctrcert_certificate_expiry_seconds Seconds until the certificate's notAfter (negative: expired).\n"
              "# TYPE ctrcert_certificate_expiry_seconds gauge\n", f);
        for (size_t i = 0; i < n; i++) {
                if (certs[i].not_after < 0)
                        continue; /* not issued yet: no sample rather than a false one */
                fputs("ctrcert_certificate_expiry_seconds{id=", f);
                put_label(f, certs[i].id);
                fprintf(f, "} %lld\n", (long long) (certs[i].not_after - (int64_t) now));
        }
}

int metrics_write(const char *path, const struct metrics_ctr *ctrs, size_t n_ctrs, const struct metrics_cert *certs,
                  size_t n_certs, time_t now) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        put_jobs(f, ctrs, n_ctrs);
        put_counter(f, "ctrcert_restarts_total", "Restarts the agent ran, by container.", ctrs, n_ctrs,
                    offsetof(struct metrics_ctr, restarts));
        put_counter(f, "ctrcert_verify_failures_total", "Verifications that did not see the new certificate.", ctrs,
                    n_ctrs, offsetof(struct metrics_ctr, verify_failures));
        put_expiry(f, certs, n_certs, now);
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_file_atomic(path, text, len, 0644);
}

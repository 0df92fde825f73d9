/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <systemd/sd-journal.h>

#include "escape.h"
#include "log.h"
#include "report.h"
#include "strv.h"

void report_job(const struct job_report *r) {
        _cleanup_free_ char *ids = strv_join(r->cert_ids, ","), *escaped = escape_control(r->message);
        const char *message = escaped ? escaped : "?";
        bool ok = streq(r->result, "ok");

        /* stderr reaches the journal too under systemd; the fields make it searchable. The message
         * quotes the runtime's error text: escaped, it cannot forge a log line. */
        if (ok)
                log_info("%s: %s for %s: ok (%s)", r->container, r->action, ids ? ids : "?", message);
        else
                log_error("%s: %s for %s: FAILED: %s", r->container, r->action, ids ? ids : "?", message);
        sd_journal_send("MESSAGE=%s: %s %s: %s", r->container, r->action, r->result, message, "PRIORITY=%d",
                        ok ? 6 : 3, "SYSLOG_IDENTIFIER=ctrcert-agent", "CTRCERT_EVENT=job-finished",
                        "CTRCERT_CONTAINER=%s", r->container, "CTRCERT_IDS=%s", ids ? ids : "", "CTRCERT_ACTION=%s",
                        r->action, "CTRCERT_RESULT=%s", r->result, NULL);
}

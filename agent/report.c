/* SPDX-License-Identifier: MIT */
#include <stdbool.h>

#include "escape.h"
#include "event.h"
#include "log.h"
#include "report.h"
#include "strv.h"

/*
 * Each job's result once: under systemd one journal entry with its fields
 * (CTRCERT_EVENT=job-finished, common/event.c), which also carries the
 * priority journalctl -p filters on; elsewhere one line on stderr. The
 * message quotes the runtime's error text: escaped, it cannot forge a line.
 */
void report_job(const struct job_report *r) {
        _cleanup_free_ char *ids = strv_join(r->cert_ids, ","), *escaped = escape_control(r->message), *line = NULL;
        const char *message = escaped ? escaped : "?";
        bool ok = streq(r->result, "ok");

        if (asprintf(&line, "%s: %s for %s: %s%s%s", r->container, r->action, ids ? ids : "?", ok ? "ok (" : "FAILED: ",
                     message, ok ? ")" : "") < 0)
                line = NULL;
        if (log_is_journal() &&
            event_send("ctrcert-agent", ok ? 6 : 3, "job-finished", line ? line : message,
                       (const struct event_field[]) { { "CTRCERT_CONTAINER", r->container },
                                                      { "CTRCERT_IDS", ids ? ids : "" }, { "CTRCERT_ACTION", r->action },
                                                      { "CTRCERT_RESULT", r->result } },
                       4) >= 0)
                return;
        log_full_errno(ok ? LOG_LEVEL_INFO : LOG_LEVEL_ERR, 0, "%s", line ? line : message);
}

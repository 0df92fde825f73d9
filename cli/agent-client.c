/* SPDX-License-Identifier: MIT */
/* ctrcertctl's side of org.ctrcert.Agent1 (doc/dbus-api.txt): the CLI's one libdbus user. */
#include <dbus/dbus.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "busopen.h"
#include "escape.h"
#include "json.h"
#include "cli.h"
#include "log.h"
#include "ywalk.h"

#define AGENT_NAME "org.ctrcert.Agent1"
#define AGENT_PATH "/org/ctrcert/Agent1"
#define AGENT_IFACE "org.ctrcert.Agent1"
#define CALL_TIMEOUT_MS 30000

/*
 * Calls method with the arguments that follow (libdbus's type, value pointer
 * pairs ending with DBUS_TYPE_INVALID); the reply, or NULL after printing why.
 */
static DBusMessage *call_args(const struct cli_ctx *ctx, const char *method, int first_type, ...) {
        DBusConnection *conn;
        DBusMessage *m, *reply = NULL;
        DBusError e;
        va_list ap;
        bool ok;

        dbus_error_init(&e);
        conn = bus_open_spec(ctx->bus, &e);
        if (!conn) {
                log_error("cannot reach the %s bus: %s", ctx->bus ? ctx->bus : "system", e.message);
                dbus_error_free(&e);
                return NULL;
        }
        m = dbus_message_new_method_call(AGENT_NAME, AGENT_PATH, AGENT_IFACE, method);
        va_start(ap, first_type);
        ok = m && dbus_message_append_args_valist(m, first_type, ap);
        va_end(ap);
        if (ok)
                reply = dbus_connection_send_with_reply_and_block(conn, m, CALL_TIMEOUT_MS, &e);
        if (m)
                dbus_message_unref(m);
        if (!reply) {
                char why[1024];

                escape_control_buf(dbus_error_has_name(&e, DBUS_ERROR_SERVICE_UNKNOWN) ||
                                                   dbus_error_has_name(&e, DBUS_ERROR_NAME_HAS_NO_OWNER)
                                           ? "ctrcert-agent is not running"
                                   : e.message ? e.message
                                               : "out of memory",
                                   why, sizeof(why));
                log_error("%s: %s", method, why);
        }
        dbus_error_free(&e);
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
        return reply;
}

/* Calls method with one string argument when arg is set. */
static DBusMessage *call(const struct cli_ctx *ctx, const char *method, const char *arg) {
        return arg ? call_args(ctx, method, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID)
                   : call_args(ctx, method, DBUS_TYPE_INVALID);
}

/*
 * One row of an array reply, as read: each string field with control
 * characters escaped (the agent's replies carry container names and
 * runtimes' error text, which must not drive the terminal), each int64 as
 * it is. A row is read and printed at once: a reply may hold 10,000.
 */
#define ROW_FIELD 4200
#define ROW_FIELDS_MAX 5
struct row {
        char s[ROW_FIELDS_MAX][ROW_FIELD];
        int64_t x[ROW_FIELDS_MAX];
};

/* How a column shows in --json: a string, a comma-separated list as an array, an integer, a time in µs as seconds. */
enum col_kind { COL_STR, COL_LIST, COL_INT, COL_USEC };
struct column {
        const char *name;
        enum col_kind kind;
};

/* What is wrong, for status's exit status: 1 a held or failed job, 2 a certificate expired or expiring. */
struct health {
        time_t expiring_before;
        bool job_trouble, cert_trouble;
};

/* One of the agent's array replies: its method, its columns, and how a row reads as text. */
struct table {
        const char *method, *json_key;
        const struct column *cols;
        size_t n_cols;
        const char *header;
        const char *noun; /* "binding": "N bindings" after the rows; NULL: no count */
        void (*text)(const struct row *r);
        void (*judge)(const struct row *r, struct health *h); /* NULL: nothing to judge */
};

static void format_utc(time_t t, char buf[static 32]) {
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

static void read_row(DBusMessageIter *st, const struct table *t, struct row *r) {
        for (size_t i = 0; i < t->n_cols; i++, dbus_message_iter_next(st)) {
                const char *v = "";
                dbus_int64_t x = 0;

                if (dbus_message_iter_get_arg_type(st) == DBUS_TYPE_STRING)
                        dbus_message_iter_get_basic(st, &v);
                else if (dbus_message_iter_get_arg_type(st) == DBUS_TYPE_INT64)
                        dbus_message_iter_get_basic(st, &x);
                escape_control_buf(v, r->s[i], ROW_FIELD);
                r->x[i] = x;
        }
}

static void json_row(const struct row *r, const struct table *t) {
        int first = 1;

        fputc('{', stdout);
        for (size_t i = 0; i < t->n_cols; i++) {
                const struct column *c = &t->cols[i];

                if (c->kind == COL_STR)
                        json_member_string(stdout, c->name, r->s[i], &first);
                else if (c->kind == COL_INT)
                        json_member_int(stdout, c->name, r->x[i], &first);
                else if (c->kind == COL_USEC)
                        json_member_int(stdout, c->name, r->x[i] / 1000000, &first);
                else {
                        char copy[ROW_FIELD], *save = NULL;
                        int any = 1;

                        json_key(stdout, c->name, &first);
                        fputc('[', stdout);
                        snprintf(copy, sizeof(copy), "%s", r->s[i]);
                        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                                if (!any)
                                        fputc(',', stdout);
                                any = 0;
                                json_string(stdout, w);
                        }
                        fputc(']', stdout);
                }
        }
        fputc('}', stdout);
}

/* Prints the reply's rows as text or as a JSON array; the number of rows, or -EBADMSG (logged). */
static ssize_t print_table(DBusMessage *reply, const struct table *t, bool json, struct health *h) {
        DBusMessageIter it, arr, st;
        ssize_t n = 0;
        struct row *r = malloc(sizeof(*r));

        if (!r)
                return log_error_errno(-ENOMEM, "%s: %m", t->method);
        if (!dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY) {
                free(r);
                return log_error_errno(-EBADMSG, "the agent's reply to %s is not the array it should be", t->method);
        }
        fputs(json ? "[" : t->header, stdout);
        for (dbus_message_iter_recurse(&it, &arr); dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRUCT;
             dbus_message_iter_next(&arr), n++) {
                dbus_message_iter_recurse(&arr, &st);
                read_row(&st, t, r);
                if (json && n > 0)
                        fputc(',', stdout);
                if (json)
                        json_row(r, t);
                else
                        t->text(r);
                if (t->judge && h)
                        t->judge(r, h);
        }
        free(r);
        if (json)
                fputc(']', stdout);
        else if (t->noun)
                printf("%zd %s%s\n", n, t->noun, n == 1 ? "" : "s");
        return n;
}

/* (cert_path, id, container, runtime, action) */
static void binding_text(const struct row *r) {
        printf("%-24s %-28s %-8s %-16s %s\n", r->s[1], r->s[2], r->s[3], r->s[4], r->s[0]);
}

/* (container, state, ids, detail) */
static void job_text(const struct row *r) {
        printf("%-28s %-8s %-28s %s\n", r->s[0], r->s[1], r->s[2], r->s[3]);
}

static void job_judge(const struct row *r, struct health *h) {
        h->job_trouble = h->job_trouble || streq(r->s[1], "held");
}

/* (container, state, last result, message, usec) */
static void status_text(const struct row *r) {
        char when[32] = "-";

        if (r->x[4] > 0)
                format_utc((time_t) (r->x[4] / 1000000), when);
        printf("%-28s %-8s %-7s %-20s %s\n", r->s[0], r->s[1], r->s[2][0] ? r->s[2] : "-", when, r->s[3]);
}

static void status_judge(const struct row *r, struct health *h) {
        h->job_trouble = h->job_trouble || streq(r->s[2], "failed") || streq(r->s[2], "held");
}

/* (id, cert_path, notAfter) */
static void certificate_text(const struct row *r) {
        char when[32] = "-", left[24] = "-";

        if (r->x[2] >= 0) {
                format_utc((time_t) r->x[2], when);
                snprintf(left, sizeof(left), "%lld", (long long) ((r->x[2] - (int64_t) time(NULL)) / 86400));
        }
        printf("%-24s %-20s %-9s %s\n", r->s[0], when, left, r->x[2] >= 0 ? r->s[1] : "(missing or unreadable)");
}

static void certificate_judge(const struct row *r, struct health *h) {
        h->cert_trouble = h->cert_trouble || r->x[2] < (int64_t) h->expiring_before; /* -1: missing */
}

static const struct column binding_cols[] = {
        { "certificate", COL_STR }, { "id", COL_STR }, { "container", COL_STR }, { "runtime", COL_STR }, { "action", COL_STR },
};
static const struct column job_cols[] = {
        { "container", COL_STR }, { "state", COL_STR }, { "certificates", COL_LIST }, { "detail", COL_STR },
};
static const struct column status_cols[] = {
        { "container", COL_STR }, { "state", COL_STR }, { "last_result", COL_STR }, { "last_message", COL_STR },
        { "last_time", COL_USEC },
};
static const struct column certificate_cols[] = { { "id", COL_STR }, { "path", COL_STR }, { "not_after", COL_INT } };

static const struct table bindings_table = {
        "ListBindings", "bindings", binding_cols, ELEMENTSOF(binding_cols),
        "ID                       CONTAINER                    RUNTIME  ACTION           CERTIFICATE\n", "binding",
        binding_text, NULL,
};
static const struct table plan_table = {
        "Plan", "bindings", binding_cols, ELEMENTSOF(binding_cols),
        "ID                       CONTAINER                    RUNTIME  ACTION           CERTIFICATE\n", "binding",
        binding_text, NULL,
};
static const struct table jobs_table = {
        "ListJobs", "jobs", job_cols, ELEMENTSOF(job_cols),
        "CONTAINER                    JOB      CERTIFICATES                 DETAIL\n", "job", job_text, job_judge,
};
static const struct table status_table = {
        "GetStatus", "containers", status_cols, ELEMENTSOF(status_cols),
        "CONTAINER                    STATE    LAST    WHEN                 MESSAGE\n", NULL, status_text, status_judge,
};
static const struct table certificates_table = {
        "ListCertificates", "certificates", certificate_cols, ELEMENTSOF(certificate_cols),
        "ID                       EXPIRES              DAYS LEFT CERTIFICATE\n", NULL, certificate_text, certificate_judge,
};

/* Calls t's method (with arg when set) and prints its rows; -EIO when the call failed (logged). */
static int show(const struct cli_ctx *ctx, const struct table *t, const char *arg, bool json, struct health *h) {
        DBusMessage *reply = call(ctx, t->method, arg);
        ssize_t n;

        if (!reply)
                return -EIO;
        n = print_table(reply, t, json, h);
        dbus_message_unref(reply);
        return n < 0 ? (int) n : 0;
}

/* The pause: "PAUSED: REASON (until …)" first in status's text, or {"reason","until"}/null in its JSON. */
static int print_pause(const struct cli_ctx *ctx, bool json) {
        DBusMessage *reply = call(ctx, "GetPause", NULL);
        const char *reason = "";
        dbus_int64_t until = 0;
        char when[32];

        if (!reply)
                return -EIO;
        (void) dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &reason, DBUS_TYPE_INT64, &until, DBUS_TYPE_INVALID);
        if (json && reason[0]) {
                int first = 1;

                fputc('{', stdout);
                json_member_string(stdout, "reason", reason, &first);
                json_member_int(stdout, "until", until, &first);
                fputc('}', stdout);
        } else if (json)
                fputs("null", stdout);
        else if (reason[0]) {
                char why[ROW_FIELD];

                escape_control_buf(reason, why, sizeof(why));
                format_utc((time_t) until, when);
                printf("PAUSED: %s (%s%s); jobs wait unless a certificate in use expires soon\n\n", why,
                       until > 0 ? "until " : "until ctrcertctl resume", until > 0 ? when : "");
        }
        dbus_message_unref(reply);
        return 0;
}

/* Calls a method whose reply says nothing more than that it was done; then prints done. */
static int call_and_say(const struct cli_ctx *ctx, const char *method, const char *arg, const char *done) {
        DBusMessage *reply = call(ctx, method, arg);

        if (!reply)
                return -EIO;
        dbus_message_unref(reply);
        printf("%s\n", done);
        return 0;
}

enum { STATUS_JSON, STATUS_WARN_DAYS };
static const struct cli_option status_options[] = {
        [STATUS_JSON] = { "json", 0, NULL, "one JSON document (ctrcertctl(8), JSON OUTPUT)", NULL },
        [STATUS_WARN_DAYS] = { "warn-days", 0, "DAYS", "exit 2 when a certificate expires within DAYS (default 14)", NULL },
        {},
};

/*
 * Everything the agent knows, as text or one JSON object; the exit status
 * fits a monitoring check: 0 all is well, 1 (CLI_FINDINGS) a job held or
 * failed, 2 (CLI_EXPIRING) a certificate expired, missing or expiring soon.
 */
static int run_status(const struct cli_ctx *ctx, const struct cli_args *a) {
        static const struct table *const parts[] = { &bindings_table, &jobs_table, &status_table, &certificates_table };
        const char *days_arg = cli_arg(a, STATUS_WARN_DAYS);
        bool json = cli_flag(a, STATUS_JSON);
        struct health h = {};
        char *end = NULL;
        long days = days_arg ? strtol(days_arg, &end, 10) : 14;
        int r;

        if (days_arg && (end == days_arg || *end || days < 0 || days > 3650)) {
                log_error("status --warn-days '%s': expected a number of days, 0 to 3650", days_arg);
                return CLI_MISUSE;
        }
        h.expiring_before = time(NULL) + (time_t) days * 86400;
        if (json)
                fputs("{\"paused\":", stdout);
        r = print_pause(ctx, json);
        for (size_t i = 0; i < ELEMENTSOF(parts) && r >= 0; i++) {
                if (json)
                        printf(",\"%s\":", parts[i]->json_key);
                else if (i > 0)
                        printf("\n");
                r = show(ctx, parts[i], NULL, json, &h);
        }
        if (json && r >= 0)
                fputs("}\n", stdout);
        if (r < 0)
                return r;
        return h.cert_trouble ? CLI_EXPIRING : h.job_trouble ? CLI_FINDINGS : 0;
}

const struct cli_command cli_status = {
        .name = "status",
        .usage = "[--json] [--warn-days DAYS]",
        .summary = "bindings, jobs, the last result per container, certificate expiry",
        .options = status_options,
        .run = run_status,
};

/* --json alone: the commands that print one table. */
static const struct cli_option json_options[] = {
        { "json", 0, NULL, "one JSON document (ctrcertctl(8), JSON OUTPUT)", NULL },
        {},
};

/* t's rows, as text or as {"KEY": [...]}. */
static int show_one(const struct cli_ctx *ctx, const struct table *t, const char *arg, bool json) {
        int r;

        if (json)
                printf("{\"%s\":", t->json_key);
        r = show(ctx, t, arg, json, NULL);
        if (json && r >= 0)
                fputs("}\n", stdout);
        return r;
}

static int run_jobs(const struct cli_ctx *ctx, const struct cli_args *a) {
        return show_one(ctx, &jobs_table, NULL, cli_flag(a, 0));
}

const struct cli_command cli_jobs = {
        .name = "jobs",
        .usage = "[--json]",
        .options = json_options,
        .summary = "the agent's waiting, queued, running and held jobs",
        .run = run_jobs,
};

static int run_release(const struct cli_ctx *ctx, const struct cli_args *a) {
        char done[ROW_FIELD + 32];

        snprintf(done, sizeof(done), "%s released: its job runs now", a->argv[0]);
        return call_and_say(ctx, "Release", a->argv[0], done);
}

const struct cli_command cli_release = {
        .name = "release",
        .usage = "CONTAINER",
        .summary = "run a job held by the restart budget",
        .min_args = 1,
        .max_args = 1,
        .run = run_release,
};

/* "2h", "30m" (from now), "2026-12-08 06:00" or "2026-12-08T06:00[:SS]" (local time) → seconds since the epoch. */
static int parse_until(const char *s, int64_t *ret) {
        static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                                               "%Y-%m-%dT%H:%M" };
        uint64_t usec;

        if (parse_duration_usec(s, &usec) >= 0 && usec > 0) {
                *ret = (int64_t) time(NULL) + (int64_t) (usec / 1000000);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                struct tm tm = { .tm_isdst = -1 };
                const char *end = strptime(s, formats[i], &tm);
                time_t t;

                if (end && *end == '\0' && (t = mktime(&tm)) != (time_t) -1 && t > time(NULL)) {
                        *ret = t;
                        return 0;
                }
        }
        return -EINVAL;
}

enum { PAUSE_REASON, PAUSE_UNTIL };
static const struct cli_option pause_options[] = {
        [PAUSE_REASON] = { "reason", 0, "TEXT", "why, for status and jobs to show", NULL },
        [PAUSE_UNTIL] = { "until", 0, "TIME", "end by itself: 2h, 30m or 'YYYY-MM-DD HH:MM' (local time, future)", NULL },
        {},
};

static int run_pause(const struct cli_ctx *ctx, const struct cli_args *a) {
        const char *reason = cli_arg(a, PAUSE_REASON) ? cli_arg(a, PAUSE_REASON) : "", *until_arg = cli_arg(a, PAUSE_UNTIL);
        dbus_int64_t until = 0;
        DBusMessage *reply;
        int64_t t;

        if (until_arg && parse_until(until_arg, &t) < 0) {
                log_error("pause --until '%s': expected a duration (2h, 30m) or a time in the future "
                          "('YYYY-MM-DD HH:MM')", until_arg);
                return CLI_MISUSE;
        }
        if (until_arg)
                until = t;
        reply = call_args(ctx, "Pause", DBUS_TYPE_STRING, &reason, DBUS_TYPE_INT64, &until, DBUS_TYPE_INVALID);
        if (!reply)
                return -EIO;
        dbus_message_unref(reply);
        printf("paused: jobs wait until `ctrcertctl resume`%s\n", until > 0 ? " or the --until time" : "");
        return 0;
}

const struct cli_command cli_pause = {
        .name = "pause",
        .usage = "[--reason TEXT] [--until TIME]",
        .summary = "hold every job back (they gather) until resume or TIME",
        .options = pause_options,
        .run = run_pause,
};

static int run_resume(const struct cli_ctx *ctx, const struct cli_args *a) {
        (void) a;
        return call_and_say(ctx, "Resume", NULL, "resumed: queued jobs run");
}

const struct cli_command cli_resume = {
        .name = "resume",
        .usage = "",
        .summary = "end a pause: the jobs that gathered run",
        .run = run_resume,
};

static int run_plan(const struct cli_ctx *ctx, const struct cli_args *a) {
        return show_one(ctx, &plan_table, a->argv[0], cli_flag(a, 0));
}

const struct cli_command cli_plan = {
        .name = "plan",
        .usage = "CERT_PATH [--json]",
        .options = json_options,
        .summary = "what the agent would do if CERT_PATH were saved (nothing is done)",
        .min_args = 1,
        .max_args = 1,
        .complete_args = "@file",
        .run = run_plan,
};

/* The agent refuses a path that is not a certificate of the manifest (Error.NotInManifest). */
static int run_notify(const struct cli_ctx *ctx, const struct cli_args *a) {
        DBusMessage *reply = call(ctx, "Notify", a->argv[0]);
        dbus_uint32_t n = 0;
        bool ok;

        if (!reply)
                return -EIO;
        ok = dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID);
        dbus_message_unref(reply);
        if (!ok)
                return log_error_errno(-EBADMSG, "the agent's reply to Notify is not the number it should be");
        printf("%u container binding%s scheduled\n", n, n == 1 ? "" : "s");
        return 0;
}

const struct cli_command cli_notify = {
        .name = "notify",
        .usage = "CERT_PATH",
        .summary = "tell the agent CERT_PATH was saved (certificates certmonger does not manage)",
        .min_args = 1,
        .max_args = 1,
        .complete_args = "@file",
        .run = run_notify,
};

static int run_reload(const struct cli_ctx *ctx, const struct cli_args *a) {
        (void) a;
        return call_and_say(ctx, "Reload", NULL, "manifest reloaded");
}

const struct cli_command cli_reload = {
        .name = "reload",
        .usage = "",
        .summary = "make the agent re-read the manifest",
        .run = run_reload,
};

/* ---- certmonger's requests, for audit ---- */

#define CM_NAME "org.fedorahosted.certmonger"
#define CM_PATH "/org/fedorahosted/certmonger"
#define CM_REQUEST_IFACE "org.fedorahosted.certmonger.request"

/* The string properties of one request that audit needs (GetAll omits unset ones). */
static void request_props(DBusConnection *conn, const char *path, char *nick, char *file, char *storage, size_t size) {
        static const char *const iface = CM_REQUEST_IFACE;
        DBusMessage *m = dbus_message_new_method_call(CM_NAME, path, DBUS_INTERFACE_PROPERTIES, "GetAll"), *reply = NULL;
        DBusMessageIter it, dict, entry, var;

        nick[0] = file[0] = storage[0] = '\0';
        if (m && dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID))
                reply = dbus_connection_send_with_reply_and_block(conn, m, CALL_TIMEOUT_MS, NULL);
        if (m)
                dbus_message_unref(m);
        if (!reply || !dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY) {
                if (reply)
                        dbus_message_unref(reply);
                return;
        }
        for (dbus_message_iter_recurse(&it, &dict); dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                const char *key, *value;

                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &var);
                if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_STRING)
                        continue;
                dbus_message_iter_get_basic(&var, &value);
                if (streq(key, "nickname"))
                        escape_control_buf(value, nick, size);
                else if (streq(key, "cert-file"))
                        snprintf(file, size, "%s", value);
                else if (streq(key, "cert-storage"))
                        snprintf(storage, size, "%s", value);
        }
        dbus_message_unref(reply);
}

int cli_certmonger_requests(const struct cli_ctx *ctx, cli_request_t cb, void *userdata) {
        DBusConnection *conn;
        DBusMessage *m, *reply = NULL;
        DBusError e;
        char **paths = NULL;
        int n = 0, r = 0;

        dbus_error_init(&e);
        conn = bus_open_spec(ctx->bus, &e);
        if (!conn) {
                log_error("cannot reach the %s bus for certmonger: %s", ctx->bus ? ctx->bus : "system", e.message);
                dbus_error_free(&e);
                return -EIO;
        }
        m = dbus_message_new_method_call(CM_NAME, CM_PATH, CM_NAME, "get_requests");
        if (m)
                reply = dbus_connection_send_with_reply_and_block(conn, m, CALL_TIMEOUT_MS, &e);
        if (m)
                dbus_message_unref(m);
        if (!reply || !dbus_message_get_args(reply, &e, DBUS_TYPE_ARRAY, DBUS_TYPE_OBJECT_PATH, &paths, &n,
                                             DBUS_TYPE_INVALID)) {
                r = log_error_errno(-EIO, "cannot list certmonger's requests: %s",
                                    e.message ? e.message : "certmonger did not answer");
                n = 0;
        }
        for (int i = 0; i < n && r >= 0; i++) {
                char nick[256], file[4096], storage[32];

                request_props(conn, paths[i], nick, file, storage, sizeof(nick));
                if (file[0] && (!storage[0] || streq(storage, "FILE")))
                        r = cb(nick[0] ? nick : paths[i], file, userdata);
        }
        dbus_free_string_array(paths);
        if (reply)
                dbus_message_unref(reply);
        dbus_error_free(&e);
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
        return r;
}

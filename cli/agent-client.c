/* SPDX-License-Identifier: MIT */
/* ctrcertctl's side of org.ctrcert.Agent1 (doc/dbus-api.txt): the CLI's one libdbus user. */
#include <dbus/dbus.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "busopen.h"
#include "escape.h"
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
 * The next string of a struct ("" past the end), control characters escaped:
 * the agent's replies carry container names and runtimes' error text, which
 * must not drive the terminal. Fits in a row's buffer of ROW_FIELD bytes.
 */
#define ROW_FIELD 4200
static const char *next_string(DBusMessageIter *st, char buf[static ROW_FIELD]) {
        const char *s = "";

        if (dbus_message_iter_get_arg_type(st) == DBUS_TYPE_STRING)
                dbus_message_iter_get_basic(st, &s);
        dbus_message_iter_next(st);
        escape_control_buf(s, buf, ROW_FIELD);
        return buf;
}

/* The next int64 of a struct; fallback when there is none. */
static int64_t next_int64(DBusMessageIter *st, int64_t fallback) {
        dbus_int64_t v = fallback;

        if (dbus_message_iter_get_arg_type(st) == DBUS_TYPE_INT64)
                dbus_message_iter_get_basic(st, &v);
        dbus_message_iter_next(st);
        return v;
}

static void format_utc(time_t t, char buf[static 32]) {
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

/* Prints header, then calls row for each struct of the reply's array; the number of rows, or -EBADMSG (logged). */
static ssize_t print_rows(DBusMessage *reply, const char *header, void (*row)(DBusMessageIter *st)) {
        DBusMessageIter it, arr, st;
        ssize_t n = 0;

        if (!dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
                return log_error_errno(-EBADMSG, "the agent's reply to %s is not the array it should be",
                                       dbus_message_get_member(reply) ? dbus_message_get_member(reply) : "a call");
        fputs(header, stdout);
        for (dbus_message_iter_recurse(&it, &arr); dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRUCT;
             dbus_message_iter_next(&arr), n++) {
                dbus_message_iter_recurse(&arr, &st);
                row(&st);
        }
        return n;
}

/* (cert_path, id, container, runtime, action) */
static void binding_row(DBusMessageIter *st) {
        char b[5][ROW_FIELD];
        const char *path = next_string(st, b[0]), *id = next_string(st, b[1]), *container = next_string(st, b[2]);
        const char *runtime = next_string(st, b[3]), *action = next_string(st, b[4]);

        printf("%-24s %-28s %-8s %-16s %s\n", id, container, runtime, action, path);
}

static int print_bindings(DBusMessage *reply) {
        ssize_t n = print_rows(reply, "ID                       CONTAINER                    RUNTIME  ACTION           CERTIFICATE\n",
                               binding_row);

        if (n < 0)
                return (int) n;
        printf("%zd binding%s\n", n, n == 1 ? "" : "s");
        return 0;
}

/* (container, state, last result, message, usec) */
static void status_row(DBusMessageIter *st) {
        char b[4][ROW_FIELD];
        const char *container = next_string(st, b[0]), *state = next_string(st, b[1]), *result = next_string(st, b[2]);
        const char *message = next_string(st, b[3]);
        int64_t usec = next_int64(st, 0);
        char when[32] = "-";

        if (usec > 0)
                format_utc((time_t) (usec / 1000000), when);
        printf("%-28s %-8s %-7s %-20s %s\n", container, state, result[0] ? result : "-", when, message);
}

static int print_status(DBusMessage *reply) {
        ssize_t n = print_rows(reply, "CONTAINER                    STATE    LAST    WHEN                 MESSAGE\n", status_row);

        return n < 0 ? (int) n : 0;
}

/* (container, state, ids, detail) */
static void job_row(DBusMessageIter *st) {
        char b[4][ROW_FIELD];
        const char *container = next_string(st, b[0]), *state = next_string(st, b[1]), *ids = next_string(st, b[2]);
        const char *detail = next_string(st, b[3]);

        printf("%-28s %-8s %-28s %s\n", container, state, ids, detail);
}

static int print_jobs(DBusMessage *reply) {
        ssize_t n = print_rows(reply, "CONTAINER                    JOB      CERTIFICATES                 DETAIL\n", job_row);

        if (n < 0)
                return (int) n;
        printf("%zd job%s\n", n, n == 1 ? "" : "s");
        return 0;
}

/* (id, cert_path, notAfter) */
static void certificate_row(DBusMessageIter *st) {
        char b[2][ROW_FIELD];
        const char *id = next_string(st, b[0]), *path = next_string(st, b[1]);
        int64_t not_after = next_int64(st, -1);
        char when[32] = "-", left[24] = "-";

        if (not_after >= 0) {
                format_utc((time_t) not_after, when);
                snprintf(left, sizeof(left), "%lld", (long long) ((not_after - (int64_t) time(NULL)) / 86400));
        }
        printf("%-24s %-20s %-9s %s\n", id, when, left, not_after >= 0 ? path : "(missing or unreadable)");
}

static int print_certificates(DBusMessage *reply) {
        ssize_t n = print_rows(reply, "ID                       EXPIRES              DAYS LEFT CERTIFICATE\n", certificate_row);

        return n < 0 ? (int) n : 0;
}

/* Calls a method without arguments and prints its array reply. */
static int show(const struct cli_ctx *ctx, const char *method, int (*print)(DBusMessage *)) {
        DBusMessage *reply = call(ctx, method, NULL);
        int r;

        if (!reply)
                return -EIO;
        r = print(reply);
        dbus_message_unref(reply);
        return r;
}

/* "paused: REASON (until …)" when the agent is paused; nothing otherwise. */
static int print_pause(const struct cli_ctx *ctx) {
        DBusMessage *reply = call(ctx, "GetPause", NULL);
        const char *reason = "";
        dbus_int64_t until = 0;
        char when[32];

        if (!reply)
                return -EIO;
        if (dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &reason, DBUS_TYPE_INT64, &until, DBUS_TYPE_INVALID) &&
            reason[0]) {
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

static int run_status(const struct cli_ctx *ctx, const struct cli_args *a) {
        static const struct {
                const char *method;
                int (*print)(DBusMessage *);
        } parts[] = {
                { "ListBindings", print_bindings },
                { "ListJobs", print_jobs },
                { "GetStatus", print_status },
                { "ListCertificates", print_certificates },
        };
        int r;

        (void) a;
        r = print_pause(ctx);
        for (size_t i = 0; i < ELEMENTSOF(parts) && r >= 0; i++) {
                if (i > 0)
                        printf("\n");
                r = show(ctx, parts[i].method, parts[i].print);
        }
        return r;
}

const struct cli_command cli_status = {
        .name = "status",
        .usage = "",
        .summary = "bindings, jobs, the last result per container, certificate expiry",
        .run = run_status,
};

static int run_jobs(const struct cli_ctx *ctx, const struct cli_args *a) {
        (void) a;
        return show(ctx, "ListJobs", print_jobs);
}

const struct cli_command cli_jobs = {
        .name = "jobs",
        .usage = "",
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
        DBusMessage *reply = call(ctx, "Plan", a->argv[0]);
        int r;

        if (!reply)
                return -EIO;
        r = print_bindings(reply);
        dbus_message_unref(reply);
        return r;
}

const struct cli_command cli_plan = {
        .name = "plan",
        .usage = "CERT_PATH",
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

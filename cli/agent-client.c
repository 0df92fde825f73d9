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

/* Prints header, then calls row for each struct of the reply's array; the number of rows, or -1 when it is no array. */
static ssize_t print_rows(DBusMessage *reply, const char *header, void (*row)(DBusMessageIter *st)) {
        DBusMessageIter it, arr, st;
        ssize_t n = 0;

        if (!dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
                return -1;
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
                return CLI_FAILED;
        printf("%zd binding%s\n", n, n == 1 ? "" : "s");
        return CLI_OK;
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
        return print_rows(reply, "CONTAINER                    STATE    LAST    WHEN                 MESSAGE\n", status_row) < 0
                       ? CLI_FAILED
                       : CLI_OK;
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
                return CLI_FAILED;
        printf("%zd job%s\n", n, n == 1 ? "" : "s");
        return CLI_OK;
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
        return print_rows(reply, "ID                       EXPIRES              DAYS LEFT CERTIFICATE\n", certificate_row) < 0
                       ? CLI_FAILED
                       : CLI_OK;
}

/* Calls a method without arguments and prints its array reply. */
static int show(const struct cli_ctx *ctx, const char *method, int (*print)(DBusMessage *)) {
        DBusMessage *reply = call(ctx, method, NULL);
        int r;

        if (!reply)
                return CLI_FAILED;
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
                return CLI_FAILED;
        if (dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &reason, DBUS_TYPE_INT64, &until, DBUS_TYPE_INVALID) &&
            reason[0]) {
                char why[ROW_FIELD];

                escape_control_buf(reason, why, sizeof(why));
                format_utc((time_t) until, when);
                printf("PAUSED: %s (%s%s); jobs wait unless a certificate in use expires soon\n\n", why,
                       until > 0 ? "until " : "until ctrcertctl resume", until > 0 ? when : "");
        }
        dbus_message_unref(reply);
        return CLI_OK;
}

static int cmd_status(const struct cli_ctx *ctx) {
        static const struct {
                const char *method;
                int (*print)(DBusMessage *);
        } parts[] = {
                { "ListBindings", print_bindings },
                { "ListJobs", print_jobs },
                { "GetStatus", print_status },
                { "ListCertificates", print_certificates },
        };

        if (print_pause(ctx) != CLI_OK)
                return CLI_FAILED;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (i > 0)
                        printf("\n");
                if (show(ctx, parts[i].method, parts[i].print) != CLI_OK)
                        return CLI_FAILED;
        }
        return CLI_OK;
}

static int cmd_with_path(const struct cli_ctx *ctx, const char *method, const char *path) {
        DBusMessage *reply = call(ctx, method, path);
        dbus_uint32_t n = 0;
        int r = CLI_OK;

        if (!reply)
                return CLI_FAILED;
        if (streq(method, "Plan"))
                r = print_bindings(reply);
        else if (dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID))
                printf("%u container binding%s scheduled\n", n, n == 1 ? "" : "s");
        dbus_message_unref(reply);
        return r;
}

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

/* pause [--reason TEXT] [--until TIME] */
static int cmd_pause(const struct cli_ctx *ctx, int argc, char **argv) {
        const char *reason = "";
        dbus_int64_t until = 0;
        DBusMessage *reply;

        for (int i = 1; i < argc; i++) {
                int64_t t;

                if (streq(argv[i], "--reason") && i + 1 < argc)
                        reason = argv[++i];
                else if (streq(argv[i], "--until") && i + 1 < argc && parse_until(argv[i + 1], &t) >= 0) {
                        until = t;
                        i++;
                } else {
                        log_error("usage: ctrcertctl pause [--reason TEXT] [--until 2h|'YYYY-MM-DD HH:MM'] "
                                  "(a time in the future; '%s' is not understood)", argv[i]);
                        return CLI_USAGE;
                }
        }
        reply = call_args(ctx, "Pause", DBUS_TYPE_STRING, &reason, DBUS_TYPE_INT64, &until, DBUS_TYPE_INVALID);
        if (!reply)
                return CLI_FAILED;
        dbus_message_unref(reply);
        printf("paused: jobs wait until `ctrcertctl resume`%s\n", until > 0 ? " or the --until time" : "");
        return CLI_OK;
}

int cli_agent(const struct cli_ctx *ctx, int argc, char **argv) {
        const char *cmd = argv[0];

        if (streq(cmd, "pause"))
                return cmd_pause(ctx, argc, argv);
        if (streq(cmd, "resume") && argc == 1) {
                DBusMessage *reply = call(ctx, "Resume", NULL);

                if (!reply)
                        return CLI_FAILED;
                dbus_message_unref(reply);
                printf("resumed: queued jobs run\n");
                return CLI_OK;
        }

        if (streq(cmd, "status") && argc == 1)
                return cmd_status(ctx);
        if (streq(cmd, "reload") && argc == 1) {
                DBusMessage *reply = call(ctx, "Reload", NULL);

                if (!reply)
                        return CLI_FAILED;
                dbus_message_unref(reply);
                printf("manifest reloaded\n");
                return CLI_OK;
        }
        if (streq(cmd, "jobs") && argc == 1)
                return show(ctx, "ListJobs", print_jobs);
        if (streq(cmd, "release") && argc == 2) {
                DBusMessage *reply = call(ctx, "Release", argv[1]);

                if (!reply)
                        return CLI_FAILED;
                dbus_message_unref(reply);
                printf("%s released: its job runs now\n", argv[1]);
                return CLI_OK;
        }
        if ((streq(cmd, "plan") || streq(cmd, "notify")) && argc == 2)
                return cmd_with_path(ctx, streq(cmd, "plan") ? "Plan" : "Notify", argv[1]);
        log_error("usage: ctrcertctl status | jobs | release CONTAINER | reload | plan CERT_PATH | notify CERT_PATH | "
                  "pause [--reason TEXT] [--until TIME] | resume");
        return CLI_USAGE;
}

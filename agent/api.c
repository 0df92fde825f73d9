/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bindings.h"
#include "bus.h"
#include "escape.h"
#include "log.h"
#include "strv.h"

struct api {
        DBusConnection *conn;
        struct engine *engine;
        api_reload_t reload;
        void *userdata;
};

struct api_method {
        const char *name;
        const char *in, *in_name;   /* the arguments' signature ("" none) and their names, space-separated */
        const char *out, *out_name; /* the reply's */
        DBusMessage *(*handler)(struct api *api, DBusMessage *m, const char *arg);
};

/* ---- replies ---- */

static DBusMessage *error_reply(DBusMessage *m, int r, const char *fmt, ...) _printf_(3, 4);
/* The one place an errno becomes a D-Bus error name. */
static DBusMessage *error_reply(DBusMessage *m, int r, const char *fmt, ...) {
        const char *name = r == -EACCES || r == -EPERM ? DBUS_ERROR_ACCESS_DENIED
                         : r == -ENOENT               ? "org.ctrcert.Agent1.Error.NotInManifest"
                         : r == -ESRCH                ? "org.ctrcert.Agent1.Error.NotHeld"
                         : r == -EINVAL               ? DBUS_ERROR_INVALID_ARGS
                         : r == -ENOMEM               ? DBUS_ERROR_NO_MEMORY
                                                      : DBUS_ERROR_FAILED;
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return dbus_message_new_error(m, name, msg);
}

/*
 * Appends a string as a D-Bus string: escaped (common/escape.c) first, since
 * what the agent reports carries text from containers and runtimes, and
 * libdbus aborts the whole process on a string that is not valid UTF-8.
 */
static bool append_text(DBusMessageIter *it, const char *s) {
        _cleanup_free_ char *safe = escape_control(s ? s : "");

        return safe && dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &safe);
}

struct array_builder {
        DBusMessageIter array;
        bool failed;
};

/* Appends one struct to the array: types is its signature, "s" (const char *) and "x" (int64_t) only. */
static int append_struct(struct array_builder *b, const char *types, ...) {
        DBusMessageIter st = DBUS_MESSAGE_ITER_INIT_CLOSED;
        bool ok;
        va_list ap;

        ok = dbus_message_iter_open_container(&b->array, DBUS_TYPE_STRUCT, NULL, &st);
        va_start(ap, types);
        for (const char *t = types; *t && ok; t++) {
                if (*t == 's')
                        ok = append_text(&st, va_arg(ap, const char *));
                else {
                        dbus_int64_t v = va_arg(ap, int64_t);
                        ok = dbus_message_iter_append_basic(&st, DBUS_TYPE_INT64, &v);
                }
        }
        va_end(ap);
        if (ok && dbus_message_iter_close_container(&b->array, &st))
                return 0;
        dbus_message_iter_abandon_container_if_open(&b->array, &st);
        return -ENOMEM;
}

static int append_binding(const char *cert_path, const char *id, const char *container, const char *runtime,
                          const char *action, void *userdata) {
        return append_struct(userdata, "sssss", cert_path, id, container, runtime, action);
}

static int append_status(const char *container, const char *state, const char *result, const char *message,
                         uint64_t usec, void *userdata) {
        return append_struct(userdata, "ssssx", container, state, result, message, (int64_t) usec);
}

static int append_job(const char *container, const char *state, const char *ids, const char *detail, void *userdata) {
        return append_struct(userdata, "ssss", container, state, ids, detail);
}

static int append_cert(const char *id, const char *path, int64_t not_after, void *userdata) {
        return append_struct(userdata, "ssx", id, path, not_after);
}

/* Builds a reply holding one array of signature sig, filled by fill. */
static DBusMessage *array_reply(DBusMessage *m, const char *sig, int (*fill)(struct api *, const char *, void *),
                                struct api *api, const char *arg) {
        DBusMessage *reply = dbus_message_new_method_return(m);
        struct array_builder b = {};
        DBusMessageIter it;
        int r;

        if (!reply)
                return NULL;
        dbus_message_iter_init_append(reply, &it);
        if (!dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, sig, &b.array)) {
                dbus_message_unref(reply);
                return NULL;
        }
        r = fill(api, arg, &b);
        if (!dbus_message_iter_close_container(&it, &b.array) || r < 0) {
                dbus_message_unref(reply);
                return r == -ENOENT ? error_reply(m, r, "%s is not a certificate of the manifest", arg)
                                    : error_reply(m, r, "%s", strerror(-r));
        }
        return reply;
}

/* ---- methods ---- */

static DBusMessage *method_notify(struct api *api, DBusMessage *m, const char *path) {
        dbus_uint32_t n = 0;
        unsigned scheduled;
        DBusMessage *reply;
        int r;

        if (path[0] != '/')
                return error_reply(m, -EINVAL, "'%s' is not an absolute path", path);
        /* engine_notify ignores other certificates (certmonger saves them too); asked by name, it is a mistake */
        if (!bindings_lookup(engine_bindings(api->engine), path))
                return error_reply(m, -ENOENT, "%s is not a certificate of the manifest", path);
        r = engine_notify(api->engine, path, &scheduled);
        if (r < 0)
                return error_reply(m, r, "cannot schedule %s: %s", path, strerror(-r));
        n = scheduled;
        reply = dbus_message_new_method_return(m);
        if (reply && !dbus_message_append_args(reply, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                return NULL;
        }
        return reply;
}

static int fill_plan(struct api *api, const char *path, void *b) {
        return engine_plan(api->engine, path, append_binding, b);
}

static int fill_bindings(struct api *api, const char *unused, void *b) {
        return engine_list_bindings(api->engine, append_binding, b);
}

static int fill_status(struct api *api, const char *unused, void *b) {
        return engine_list_status(api->engine, append_status, b);
}

static int fill_jobs(struct api *api, const char *unused, void *b) {
        return engine_list_jobs(api->engine, append_job, b);
}

static int fill_certs(struct api *api, const char *unused, void *b) {
        return engine_list_certificates(api->engine, append_cert, b);
}

static DBusMessage *method_list_jobs(struct api *api, DBusMessage *m, const char *unused) {
        return array_reply(m, "(ssss)", fill_jobs, api, NULL);
}

static DBusMessage *method_list_certificates(struct api *api, DBusMessage *m, const char *unused) {
        return array_reply(m, "(ssx)", fill_certs, api, NULL);
}

static DBusMessage *method_release(struct api *api, DBusMessage *m, const char *container) {
        int r = engine_release(api->engine, container);

        if (r == -ESRCH)
                return error_reply(m, r, "no held job for '%s' (see ctrcertctl jobs)", container);
        if (r < 0)
                return error_reply(m, r, "cannot release %s: %s", container, strerror(-r));
        return dbus_message_new_method_return(m);
}

static DBusMessage *method_plan(struct api *api, DBusMessage *m, const char *path) {
        return array_reply(m, "(sssss)", fill_plan, api, path);
}

static DBusMessage *method_list_bindings(struct api *api, DBusMessage *m, const char *unused) {
        return array_reply(m, "(sssss)", fill_bindings, api, NULL);
}

static DBusMessage *method_get_status(struct api *api, DBusMessage *m, const char *unused) {
        return array_reply(m, "(ssssx)", fill_status, api, NULL);
}

static DBusMessage *method_reload(struct api *api, DBusMessage *m, const char *unused) {
        char err[1024] = "";
        int r = api->reload(err, sizeof(err), api->userdata);

        if (r < 0)
                return error_reply(m, r, "manifest not reloaded, the previous one stays in force: %s", err);
        return dbus_message_new_method_return(m);
}

static DBusMessage *method_pause(struct api *api, DBusMessage *m, const char *unused) {
        const char *reason = NULL;
        dbus_int64_t until = 0;
        int r;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &reason, DBUS_TYPE_INT64, &until, DBUS_TYPE_INVALID))
                return error_reply(m, -EINVAL, "Pause: bad arguments");
        if (until < 0 || strchr(reason, '\n'))
                return error_reply(m, -EINVAL, "Pause: the reason is one line and until is 0 or a time");
        r = engine_pause(api->engine, reason[0] ? reason : "paused by an operator", until);
        if (r < 0)
                return error_reply(m, r, "cannot record the pause: %s", strerror(-r));
        return dbus_message_new_method_return(m);
}

static DBusMessage *method_resume(struct api *api, DBusMessage *m, const char *unused) {
        int r = engine_unpause(api->engine);

        if (r < 0)
                return error_reply(m, r, "cannot end the pause: %s", strerror(-r));
        return dbus_message_new_method_return(m);
}

static DBusMessage *method_get_pause(struct api *api, DBusMessage *m, const char *unused) {
        int64_t until_v = 0;
        const char *reason = engine_get_pause(api->engine, &until_v);
        dbus_int64_t until = until_v;
        DBusMessage *reply = dbus_message_new_method_return(m);
        DBusMessageIter it;

        if (!reply)
                return NULL;
        dbus_message_iter_init_append(reply, &it);
        if (!(append_text(&it, reason) && dbus_message_iter_append_basic(&it, DBUS_TYPE_INT64, &until))) {
                dbus_message_unref(reply);
                return NULL;
        }
        return reply;
}

/* The interface: dispatch and the introspection XML both come from this table. */
static const struct api_method methods[] = {
        { "Notify", "s", "cert_path", "u", "scheduled", method_notify },
        { "Plan", "s", "cert_path", "a(sssss)", "bindings", method_plan },
        { "Reload", "", NULL, "", NULL, method_reload },
        { "ListBindings", "", NULL, "a(sssss)", "bindings", method_list_bindings },
        { "GetStatus", "", NULL, "a(ssssx)", "containers", method_get_status },
        { "ListJobs", "", NULL, "a(ssss)", "jobs", method_list_jobs },
        { "ListCertificates", "", NULL, "a(ssx)", "certificates", method_list_certificates },
        { "Release", "s", "container", "", NULL, method_release },
        { "Pause", "sx", "reason until", "", NULL, method_pause },
        { "Resume", "", NULL, "", NULL, method_resume },
        { "GetPause", "", NULL, "sx", "reason until", method_get_pause },
};
static const size_t n_methods = ELEMENTSOF(methods);

/* JobFinished's arguments, as api_emit_job_finished appends them. */
static const char job_finished_xml[] =
        "  <signal name=\"JobFinished\"><arg name=\"container\" type=\"s\"/><arg name=\"cert_ids\" type=\"as\"/>"
        "<arg name=\"action\" type=\"s\"/><arg name=\"result\" type=\"s\"/><arg name=\"message\" type=\"s\"/></signal>\n";

/* One <arg/> per name; types is the signature, one complete type per name ("sx": two, "a(ss)": one). */
static int xml_args(FILE *f, const char *names, const char *types, const char *direction) {
        DBusSignatureIter it;
        int r = 0;

        if (!names)
                return 0;
        dbus_signature_iter_init(&it, types);
        for (const char *n = names; *n && r >= 0;) {
                size_t len = strcspn(n, " ");
                char *type = dbus_signature_iter_get_signature(&it);

                r = type ? fprintf(f, "<arg name=\"%.*s\" type=\"%s\" direction=\"%s\"/>", (int) len, n, type,
                                   direction)
                         : -1;
                dbus_free(type);
                n += len + (n[len] == ' ');
                if (!dbus_signature_iter_next(&it))
                        break;
        }
        return r;
}

/* The Introspect reply, written from the method table so the two cannot disagree. */
static int introspection_xml(char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        bool ok;

        if (!f)
                return -ENOMEM;
        ok = fputs(DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n <interface name=\"" API_IFACE "\">\n", f) >= 0;
        for (size_t i = 0; i < n_methods && ok; i++)
                ok = fprintf(f, "  <method name=\"%s\">", methods[i].name) >= 0 &&
                     xml_args(f, methods[i].in_name, methods[i].in, "in") >= 0 &&
                     xml_args(f, methods[i].out_name, methods[i].out, "out") >= 0 && fputs("</method>\n", f) >= 0;
        ok = ok && fputs(job_finished_xml, f) >= 0 &&
             fputs(" </interface>\n <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
                   "  <method name=\"Introspect\"><arg name=\"xml\" type=\"s\" direction=\"out\"/></method>\n"
                   " </interface>\n</node>\n", f) >= 0;
        if (fclose(f) != 0 || !ok)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Root only: the bus policy says so too, but the agent does not rely on it. */
static int check_caller(struct api *api, DBusMessage *m) {
        DBusError e;
        unsigned long uid;

        dbus_error_init(&e);
        uid = dbus_bus_get_unix_user(api->conn, dbus_message_get_sender(m), &e);
        if (dbus_error_is_set(&e)) {
                dbus_error_free(&e);
                return -EACCES;
        }
        return uid == 0 ? 0 : -EPERM;
}

/* The caller first: a non-root peer learns nothing about a method, not even its signature. */
static DBusMessage *dispatch(struct api *api, DBusMessage *m) {
        const char *member = dbus_message_get_member(m), *arg = NULL;

        for (size_t i = 0; i < n_methods; i++) {
                if (!streq(member, methods[i].name))
                        continue;
                if (check_caller(api, m) < 0)
                        return error_reply(m, -EACCES, "%s: only root may call the agent", member);
                if (!dbus_message_has_signature(m, methods[i].in))
                        return error_reply(m, -EINVAL, "%s takes (%s)", member, methods[i].in);
                if (streq(methods[i].in, "s") && !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID))
                        return error_reply(m, -EINVAL, "%s: bad arguments", member);
                return methods[i].handler(api, m, arg);
        }
        return dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_METHOD, member ? member : "?");
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *m, void *data) {
        struct api *api = data;
        DBusMessage *reply;

        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (dbus_message_is_method_call(m, DBUS_INTERFACE_INTROSPECTABLE, "Introspect")) {
                _cleanup_free_ char *xml = NULL;

                reply = introspection_xml(&xml) >= 0 ? dbus_message_new_method_return(m) : NULL;
                if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID)) {
                        dbus_message_unref(reply);
                        reply = NULL;
                }
        } else if (!dbus_message_has_interface(m, API_IFACE) && dbus_message_get_interface(m))
                reply = dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_INTERFACE, dbus_message_get_interface(m));
        else
                reply = dispatch(api, m);
        if (!reply)
                return DBUS_HANDLER_RESULT_NEED_MEMORY;
        dbus_connection_send(conn, reply, NULL);
        dbus_message_unref(reply);
        return DBUS_HANDLER_RESULT_HANDLED;
}

void api_emit_job_finished(struct api *api, const struct job_report *r) {
        DBusMessage *m;
        DBusMessageIter it, ids;
        bool ok;

        if (!api || !api->conn)
                return;
        m = dbus_message_new_signal(API_PATH, API_IFACE, "JobFinished");
        if (!m)
                return;
        dbus_message_iter_init_append(m, &it);
        ok = append_text(&it, r->container) && dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &ids);
        STRV_FOREACH(id, r->cert_ids)
                ok = ok && append_text(&ids, *id);
        ok = ok && dbus_message_iter_close_container(&it, &ids) && append_text(&it, r->action) &&
             append_text(&it, r->result) && append_text(&it, r->message);
        if (ok)
                dbus_connection_send(api->conn, m, NULL);
        dbus_message_unref(m);
}

int api_attach(DBusConnection *conn, struct engine *engine, api_reload_t reload, void *userdata, struct api **ret) {
        static const DBusObjectPathVTable vtable = { .message_function = on_message };
        struct api *api = calloc(1, sizeof(*api));

        if (!api)
                return -ENOMEM;
        *api = (struct api) { .conn = conn, .engine = engine, .reload = reload, .userdata = userdata };
        if (!dbus_connection_register_object_path(conn, API_PATH, &vtable, api)) {
                free(api);
                return -ENOMEM;
        }
        *ret = api;
        return 0;
}

void api_detach(struct api *api) {
        if (!api)
                return;
        dbus_connection_unregister_object_path(api->conn, API_PATH);
        free(api);
}

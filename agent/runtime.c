/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "runtime.h"
#include "strv.h"

#define SYSTEMD_TIMEOUT_MS 30000

static const char *runtime_cli(const struct config *cfg, int runtime) {
        return runtime == RUNTIME_DOCKER ? cfg->agent.docker : cfg->agent.podman;
}

static int argv_build(char ***ret, const char *first, ...) {
        _cleanup_(strv_freep) char **v = NULL;
        va_list ap;
        int r = 0;

        va_start(ap, first);
        for (const char *s = first; s && r >= 0; s = va_arg(ap, const char *))
                r = strv_push(&v, s);
        va_end(ap);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

/* "--" before every name: whatever a name looks like, podman and docker never take it for an option. */
int runtime_action_argv(const struct config *cfg, const struct mf_container *b, const char *name, char ***ret) {
        const char *cli = runtime_cli(cfg, b->runtime);
        char sig[16];

        switch (b->action) {
        case ACTION_RESTART:
                return argv_build(ret, cli, "restart", "--", name, NULL);
        case ACTION_RELOAD:
                snprintf(sig, sizeof(sig), "%d", b->signal);
                return argv_build(ret, cli, "kill", "--signal", sig, "--", name, NULL);
        case ACTION_EXEC:
                return runtime_exec_argv(cfg, b->runtime, name, b->exec, ret);
        default:
                *ret = NULL;
                return 0;
        }
}

int runtime_exec_argv(const struct config *cfg, int runtime, const char *name, char *const *cmd, char ***ret) {
        int r;

        /* On the host for a systemd unit; never through a shell: the manifest's argv goes to exec as it is. */
        r = runtime == RUNTIME_SYSTEMD ? 0 : argv_build(ret, runtime_cli(cfg, runtime), "exec", "--", name, NULL);
        STRV_FOREACH(a, cmd)
                if (r >= 0)
                        r = strv_push(ret, *a);
        return r;
}

int runtime_copy_argv(const struct config *cfg, int runtime, const char *name, char ***ret) {
        return argv_build(ret, runtime_cli(cfg, runtime), "exec", "-i", "--", name, "tar", "-x", "-p", "-f", "-", "-C", "/",
                          NULL);
}

int runtime_list_argv(const struct config *cfg, int runtime, char ***ret) {
        return argv_build(ret, runtime_cli(cfg, runtime), "ps", "--format", "{{.Names}}", NULL);
}

int runtime_action_describe(const struct mf_container *b, char **ret) {
        if (b->action == ACTION_RELOAD)
                return asprintf(ret, "reload(SIG%s)", sigabbrev_np(b->signal) ? sigabbrev_np(b->signal) : "?") < 0
                               ? -ENOMEM
                               : 0;
        *ret = strdup(action_names[b->action]);
        return *ret ? 0 : -ENOMEM;
}

struct systemd_call {
        runtime_done_t done;
        void *userdata;
};

static void on_systemd_reply(DBusPendingCall *pending, void *data) {
        struct systemd_call *call = data;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        DBusError e;

        dbus_error_init(&e);
        if (!reply)
                call->done(-ETIMEDOUT, "systemd did not answer", call->userdata);
        else if (dbus_set_error_from_message(&e, reply))
                call->done(bus_error_to_errno(&e), e.message, call->userdata);
        else
                call->done(0, "", call->userdata);
        dbus_error_free(&e);
        if (reply)
                dbus_message_unref(reply);
        dbus_pending_call_unref(pending);
}

static DBusMessage *systemd_message(const struct mf_container *b, const char *unit) {
        const char *mode = "replace", *whom = "main";
        const char *method = b->action == ACTION_RESTART ? "RestartUnit"
                           : b->signal_set             ? "KillUnit"
                                                       : "ReloadUnit";
        DBusMessage *m = dbus_message_new_method_call("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                      "org.freedesktop.systemd1.Manager", method);
        dbus_int32_t sig = b->signal;
        bool ok;

        if (!m)
                return NULL;
        if (streq(method, "KillUnit"))
                ok = dbus_message_append_args(m, DBUS_TYPE_STRING, &unit, DBUS_TYPE_STRING, &whom, DBUS_TYPE_INT32, &sig,
                                              DBUS_TYPE_INVALID);
        else
                ok = dbus_message_append_args(m, DBUS_TYPE_STRING, &unit, DBUS_TYPE_STRING, &mode, DBUS_TYPE_INVALID);
        if (!ok) {
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

int runtime_systemd_call(DBusConnection *conn, const struct mf_container *b, const char *unit, runtime_done_t done,
                         void *userdata) {
        struct systemd_call *call;
        DBusPendingCall *pending = NULL;
        DBusMessage *m;
        bool ok;

        if (b->action != ACTION_RESTART && b->action != ACTION_RELOAD) {
                done(0, "", userdata);
                return 0;
        }
        if (!conn)
                return -ENOTCONN;
        m = systemd_message(b, unit);
        call = calloc(1, sizeof(*call));
        if (!m || !call) {
                if (m)
                        dbus_message_unref(m);
                free(call);
                return -ENOMEM;
        }
        call->done = done;
        call->userdata = userdata;
        ok = dbus_connection_send_with_reply(conn, m, &pending, SYSTEMD_TIMEOUT_MS) && pending &&
             dbus_pending_call_set_notify(pending, on_systemd_reply, call, free);
        dbus_message_unref(m);
        if (!ok) {
                free(call);
                return -ENOTCONN;
        }
        return 0;
}

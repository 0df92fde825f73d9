/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "podman-api.h"
#include "runtime-cli.h"
#include "runtime.h"
#include "spawn.h"
#include "strv.h"

#define SYSTEMD_TIMEOUT_MS 30000

struct runtime {
        sd_event *event;
        const struct config *cfg;
        struct podman_api *api; /* NULL when agent.podman_socket is "" */
        DBusConnection *bus;    /* for systemd units; NULL while disconnected */
};

enum op_kind { OP_ACT, OP_EXEC, OP_COPY, OP_LIST, OP_MOUNTS };

struct runtime_op {
        struct runtime *rt;
        enum op_kind kind;
        int runtime;
        const struct mf_container *b; /* OP_ACT: the caller keeps it for the operation's life */
        char *name;
        char **cmd;
        struct tar tar;
        uint64_t timeout_usec;
        struct spawn *spawn;
        struct podman_op *api;
        DBusPendingCall *pending;
        runtime_done_t done;
        void *userdata;
};

static void op_free(struct runtime_op *op) {
        spawn_cancel(op->spawn);
        podman_op_cancel(op->api);
        if (op->pending) {
                dbus_pending_call_cancel(op->pending);
                dbus_pending_call_unref(op->pending);
        }
        free(op->name);
        strv_free(op->cmd);
        tar_done(&op->tar);
        free(op);
}

void runtime_op_cancel(struct runtime_op *op) {
        if (op)
                op_free(op);
}

/* Freed first, so done may start the next operation. */
static void op_end(struct runtime_op *op, int status, const char *output) {
        runtime_done_t done = op->done;
        void *userdata = op->userdata;

        op_free(op);
        done(status, output, userdata);
}

/* ---- the command-line tools ---- */

static void on_spawned(int status, const char *output, void *userdata) {
        struct runtime_op *op = userdata;

        op->spawn = NULL;
        op_end(op, status, output);
}

static int memfd_with(const void *data, size_t len) {
        int fd = memfd_create("ctrcert-copy", MFD_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (write(fd, data, len) != (ssize_t) len || lseek(fd, 0, SEEK_SET) < 0) {
                int r = errno ? negative_errno() : -EIO;

                close(fd);
                return r;
        }
        return fd;
}

static int cli_argv(const struct runtime_op *op, char ***ret) {
        const struct config *cfg = op->rt->cfg;

        switch (op->kind) {
        case OP_ACT:
                return runtime_action_argv(cfg, op->b, op->name, ret);
        case OP_EXEC:
                return runtime_exec_argv(cfg, op->runtime, op->name, op->cmd, ret);
        case OP_COPY:
                return runtime_copy_argv(cfg, op->runtime, op->name, ret);
        case OP_LIST:
                return runtime_list_argv(cfg, op->runtime, ret);
        default:
                return runtime_mounts_argv(cfg, op->runtime, op->name, ret);
        }
}

static int start_cli(struct runtime_op *op) {
        _cleanup_(strv_freep) char **argv = NULL;
        _cleanup_close_ int fd = -1;
        int r = cli_argv(op, &argv);

        if (r >= 0 && op->kind == OP_COPY)
                r = fd = memfd_with(op->tar.data, op->tar.len);
        if (r < 0)
                return r;
        return spawn_start(op->rt->event, argv, fd, op->timeout_usec, on_spawned, op, &op->spawn);
}

/* ---- podman's API ---- */

static void on_api(int r, const char *output, void *userdata) {
        struct runtime_op *op = userdata;

        op->api = NULL;
        if (r != -EHOSTUNREACH) {
                op_end(op, r, output);
                return;
        }
        /* Said at notice: under the hardened unit the CLI needs podman-cli-fallback.conf (ctrcert-agent(8)). */
        log_notice("%s; using %s", output, op->rt->cfg->agent.podman);
        r = start_cli(op);
        if (r < 0)
                op_end(op, r, strerror(-r));
}

static int start_api(struct runtime_op *op) {
        struct podman_api *a = op->rt->api;
        uint64_t t = op->timeout_usec;

        switch (op->kind) {
        case OP_ACT:
                if (op->b->action == ACTION_RESTART)
                        return podman_api_restart(a, op->name, t, on_api, op, &op->api);
                if (op->b->action == ACTION_RELOAD)
                        return podman_api_kill(a, op->name, op->b->signal, t, on_api, op, &op->api);
                return podman_api_exec(a, op->name, op->b->exec, t, on_api, op, &op->api);
        case OP_EXEC:
                return podman_api_exec(a, op->name, op->cmd, t, on_api, op, &op->api);
        case OP_COPY:
                return podman_api_copy(a, op->name, &op->tar, t, on_api, op, &op->api);
        case OP_LIST:
                return podman_api_list(a, t, on_api, op, &op->api);
        default:
                return podman_api_mounts(a, op->name, t, on_api, op, &op->api);
        }
}

/* ---- systemd's Manager ---- */

static void on_systemd_reply(DBusPendingCall *pending, void *data) {
        struct runtime_op *op = data;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        DBusError e;

        dbus_error_init(&e);
        dbus_pending_call_unref(op->pending);
        op->pending = NULL;
        if (!reply)
                op_end(op, -ETIMEDOUT, "systemd did not answer");
        else if (dbus_set_error_from_message(&e, reply))
                op_end(op, bus_error_to_errno(&e), e.message);
        else
                op_end(op, 0, "");
        dbus_error_free(&e);
        if (reply)
                dbus_message_unref(reply);
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

/* RestartUnit, ReloadUnit or KillUnit (reload with a signal given) of the unit op->name. */
static int start_systemd(struct runtime_op *op) {
        DBusMessage *m;
        bool ok;

        if (!op->rt->bus)
                return -ENOTCONN;
        m = systemd_message(op->b, op->name);
        if (!m)
                return -ENOMEM;
        ok = dbus_connection_send_with_reply(op->rt->bus, m, &op->pending, SYSTEMD_TIMEOUT_MS) && op->pending &&
             dbus_pending_call_set_notify(op->pending, on_systemd_reply, op, NULL);
        dbus_message_unref(m);
        return ok ? 0 : -ENOTCONN;
}

/* ---- operations ---- */

static int op_new(struct runtime *rt, enum op_kind kind, int runtime, const char *name, runtime_done_t done,
                  void *userdata, struct runtime_op **ret) {
        struct runtime_op *op = calloc(1, sizeof(*op));

        if (!op)
                return -ENOMEM;
        *op = (struct runtime_op) { .rt = rt, .kind = kind, .runtime = runtime, .done = done, .userdata = userdata,
                                    .timeout_usec = rt->cfg->agent.step_timeout_usec };
        if (name && !(op->name = strdup(name))) {
                free(op);
                return -ENOMEM;
        }
        *ret = op;
        return 0;
}

/* podman: the API first when there is one; systemd units: the Manager for actions; else the CLI. */
static int op_start(struct runtime_op *op, struct runtime_op **ret) {
        int r;

        if (op->runtime == RUNTIME_PODMAN && op->rt->api)
                r = start_api(op);
        else if (op->runtime == RUNTIME_SYSTEMD && op->kind == OP_ACT && op->b->action != ACTION_EXEC)
                r = start_systemd(op);
        else
                r = start_cli(op);
        if (r < 0) {
                op_free(op);
                return r;
        }
        *ret = op;
        return 0;
}

int runtime_act(struct runtime *rt, const struct mf_container *b, const char *name, runtime_done_t done, void *userdata,
                struct runtime_op **ret) {
        struct runtime_op *op;
        int r;

        *ret = NULL;
        if (b->action == ACTION_NONE)
                return 0;
        r = op_new(rt, OP_ACT, b->runtime, name, done, userdata, &op);
        if (r < 0)
                return r;
        op->b = b;
        return op_start(op, ret);
}

int runtime_exec(struct runtime *rt, int runtime, const char *name, char *const *cmd, uint64_t timeout_usec,
                 runtime_done_t done, void *userdata, struct runtime_op **ret) {
        struct runtime_op *op;
        int r = op_new(rt, OP_EXEC, runtime, name, done, userdata, &op);

        if (r < 0)
                return r;
        op->timeout_usec = timeout_usec;
        STRV_FOREACH(a, cmd)
                if (r >= 0)
                        r = strv_push(&op->cmd, *a);
        if (r < 0) {
                op_free(op);
                return r;
        }
        return op_start(op, ret);
}

int runtime_copy(struct runtime *rt, int runtime, const char *name, const struct tar *t, runtime_done_t done,
                 void *userdata, struct runtime_op **ret) {
        struct runtime_op *op;
        int r;

        if (runtime == RUNTIME_SYSTEMD)
                return -EOPNOTSUPP;
        r = op_new(rt, OP_COPY, runtime, name, done, userdata, &op);
        if (r < 0)
                return r;
        r = tar_copy(&op->tar, t);
        if (r < 0) {
                op_free(op);
                return r;
        }
        return op_start(op, ret);
}

int runtime_list(struct runtime *rt, int runtime, runtime_done_t done, void *userdata, struct runtime_op **ret) {
        struct runtime_op *op;
        int r = op_new(rt, OP_LIST, runtime, NULL, done, userdata, &op);

        return r < 0 ? r : op_start(op, ret);
}

int runtime_mounts(struct runtime *rt, int runtime, const char *name, runtime_done_t done, void *userdata,
                   struct runtime_op **ret) {
        struct runtime_op *op;
        int r = op_new(rt, OP_MOUNTS, runtime, name, done, userdata, &op);

        return r < 0 ? r : op_start(op, ret);
}

int runtime_new(sd_event *event, const struct config *cfg, struct runtime **ret) {
        _cleanup_(runtime_freep) struct runtime *rt = calloc(1, sizeof(*rt));
        int r;

        if (!rt)
                return -ENOMEM;
        rt->event = sd_event_ref(event);
        rt->cfg = cfg;
        if (cfg->agent.podman_socket && cfg->agent.podman_socket[0]) {
                r = podman_api_new(event, cfg->agent.podman_socket, &rt->api);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(rt);
        return 0;
}

void runtime_free(struct runtime *rt) {
        if (!rt)
                return;
        runtime_set_bus(rt, NULL);
        podman_api_free(rt->api);
        sd_event_unref(rt->event);
        free(rt);
}

void runtime_set_bus(struct runtime *rt, DBusConnection *conn) {
        if (rt->bus)
                dbus_connection_unref(rt->bus);
        rt->bus = conn ? dbus_connection_ref(conn) : NULL;
}

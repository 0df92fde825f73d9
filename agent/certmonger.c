/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "certmonger.h"
#include "log.h"

#define CM_NAME "org.fedorahosted.certmonger"
#define CM_REQUEST_IFACE "org.fedorahosted.certmonger.request"
#define GETALL_TIMEOUT_MS 10000

static const char match_saved[] = "type='signal',interface='" CM_REQUEST_IFACE "',member='SavedCertificate'";
static const char match_owner[] = "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS
                                  "',member='NameOwnerChanged',arg0='" CM_NAME "'";

struct certmonger {
        DBusConnection *conn;
        char *owner;
        certmonger_saved_t on_saved;
        void *userdata;
};

const char *certmonger_owner(const struct certmonger *cm) {
        return cm->owner;
}

static void set_owner(struct certmonger *cm, const char *owner) {
        free(cm->owner);
        cm->owner = owner && owner[0] ? strdup(owner) : NULL;
        log_info("certmonger is %s%s", cm->owner ? "at " : "not running", cm->owner ? cm->owner : "");
}

/* The request's properties, as certmonger lists them (unset ones are omitted). */
struct request_props {
        const char *cert_file, *key_file, *nickname, *cert_storage;
};

static void read_string_prop(DBusMessageIter *entry, struct request_props *p) {
        DBusMessageIter var;
        const char *key, *value;

        dbus_message_iter_get_basic(entry, &key);
        dbus_message_iter_next(entry);
        dbus_message_iter_recurse(entry, &var);
        if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_STRING)
                return;
        dbus_message_iter_get_basic(&var, &value);
        if (streq(key, "cert-file"))
                p->cert_file = value;
        else if (streq(key, "key-file"))
                p->key_file = value;
        else if (streq(key, "nickname"))
                p->nickname = value;
        else if (streq(key, "cert-storage"))
                p->cert_storage = value;
}

static int parse_getall(DBusMessage *reply, struct request_props *p) {
        DBusMessageIter it, dict;

        if (!dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
                return -EBADMSG;
        for (dbus_message_iter_recurse(&it, &dict); dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                DBusMessageIter entry;

                dbus_message_iter_recurse(&dict, &entry);
                read_string_prop(&entry, p);
        }
        return 0;
}

struct getall_call {
        struct certmonger *cm;
        char *path;
};

static void getall_call_free(void *p) {
        struct getall_call *c = p;

        free(c->path);
        free(c);
}

static void on_getall(DBusPendingCall *pending, void *data) {
        struct getall_call *call = data;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        struct request_props p = {};

        if (!reply || dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR || parse_getall(reply, &p) < 0)
                log_warning("certmonger request %s: cannot read its properties%s%s", call->path,
                            reply && dbus_message_get_error_name(reply) ? ": " : "",
                            reply && dbus_message_get_error_name(reply) ? dbus_message_get_error_name(reply) : "");
        else if (p.cert_storage && !streq(p.cert_storage, "FILE"))
                log_info("certmonger request %s (%s) is stored in %s, not a file: skipped", call->path,
                         p.nickname ? p.nickname : "?", p.cert_storage);
        else if (!p.cert_file)
                log_info("certmonger request %s (%s) has no cert-file: skipped", call->path, p.nickname ? p.nickname : "?");
        else
                call->cm->on_saved(p.cert_file, p.key_file, p.nickname, call->cm->userdata);
        if (reply)
                dbus_message_unref(reply);
        dbus_pending_call_unref(pending);
}

static int request_getall(struct certmonger *cm, const char *path) {
        DBusMessage *m;
        DBusPendingCall *pending = NULL;
        struct getall_call *call;
        const char *iface = CM_REQUEST_IFACE;
        bool ok;

        m = dbus_message_new_method_call(cm->owner, path, DBUS_INTERFACE_PROPERTIES, "GetAll");
        call = calloc(1, sizeof(*call));
        if (!m || !call || !(call->path = strdup(path)) ||
            !dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                if (call)
                        getall_call_free(call);
                return -ENOMEM;
        }
        call->cm = cm;
        ok = dbus_connection_send_with_reply(cm->conn, m, &pending, GETALL_TIMEOUT_MS) && pending &&
             dbus_pending_call_set_notify(pending, on_getall, call, getall_call_free);
        dbus_message_unref(m);
        if (!ok) {
                getall_call_free(call);
                return -ENOTCONN;
        }
        return 0;
}

static void on_saved_signal(struct certmonger *cm, DBusMessage *m) {
        const char *sender = dbus_message_get_sender(m), *path = dbus_message_get_path(m);

        /* Anyone on the bus can emit a signal with certmonger's interface: only its owner counts. */
        if (!cm->owner || !sender || !streq(sender, cm->owner)) {
                log_warning("ignored SavedCertificate for %s from %s: not certmonger (%s)", path ? path : "?",
                            sender ? sender : "?", cm->owner ? cm->owner : "not running");
                return;
        }
        log_debug("certmonger saved %s", path);
        if (request_getall(cm, path) < 0)
                log_warning("certmonger request %s: cannot ask for its properties", path);
}

static void on_owner_changed(struct certmonger *cm, DBusMessage *m) {
        const char *name, *old_owner, *new_owner;

        if (!streq(dbus_message_get_sender(m) ? dbus_message_get_sender(m) : "", DBUS_SERVICE_DBUS) ||
            !dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old_owner, DBUS_TYPE_STRING,
                                   &new_owner, DBUS_TYPE_INVALID) ||
            !streq(name, CM_NAME))
                return;
        set_owner(cm, new_owner);
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *m, void *data) {
        struct certmonger *cm = data;

        if (dbus_message_is_signal(m, CM_REQUEST_IFACE, "SavedCertificate"))
                on_saved_signal(cm, m);
        else if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged"))
                on_owner_changed(cm, m);
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* Blocking, once per connection: the owner at the time we start listening. */
static void query_owner(struct certmonger *cm) {
        DBusMessage *m, *reply;
        const char *name = CM_NAME, *owner = NULL;
        DBusError e;

        dbus_error_init(&e);
        m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS, "GetNameOwner");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
                if (m)
                        dbus_message_unref(m);
                return;
        }
        reply = dbus_connection_send_with_reply_and_block(cm->conn, m, 5000, &e);
        dbus_message_unref(m);
        if (reply && dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID))
                set_owner(cm, owner);
        else
                set_owner(cm, NULL);
        if (reply)
                dbus_message_unref(reply);
        dbus_error_free(&e);
}

int certmonger_attach(DBusConnection *conn, certmonger_saved_t on_saved, void *userdata, struct certmonger **ret) {
        struct certmonger *cm = calloc(1, sizeof(*cm));
        DBusError e;
        int r = 0;

        if (!cm)
                return -ENOMEM;
        cm->conn = conn;
        cm->on_saved = on_saved;
        cm->userdata = userdata;
        dbus_error_init(&e);
        /* Listen first, then ask: an owner change in between is not missed. */
        dbus_bus_add_match(conn, match_owner, &e);
        if (!dbus_error_is_set(&e))
                dbus_bus_add_match(conn, match_saved, &e);
        if (dbus_error_is_set(&e) || !dbus_connection_add_filter(conn, on_message, cm, NULL)) {
                r = dbus_error_is_set(&e) ? bus_error_to_errno(&e) : -ENOMEM;
                log_debug("certmonger: cannot subscribe: %s", e.message ? e.message : "out of memory");
                dbus_error_free(&e);
                free(cm);
                return r;
        }
        query_owner(cm);
        *ret = cm;
        return 0;
}

void certmonger_detach(struct certmonger *cm) {
        if (!cm)
                return;
        /* The connection may already be gone; removing the filter is enough then. */
        if (cm->conn && dbus_connection_get_is_connected(cm->conn)) {
                dbus_bus_remove_match(cm->conn, match_saved, NULL);
                dbus_bus_remove_match(cm->conn, match_owner, NULL);
        }
        if (cm->conn)
                dbus_connection_remove_filter(cm->conn, on_message, cm);
        free(cm->owner);
        free(cm);
}

/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "certmonger.h"
#include "log.h"
#include "strmap.h"

#define CM_NAME "org.fedorahosted.certmonger"
#define CM_REQUEST_IFACE "org.fedorahosted.certmonger.request"
#define CM_PATH "/org/fedorahosted/certmonger"
#define CALL_TIMEOUT_MS 10000

static const char match_saved[] = "type='signal',interface='" CM_REQUEST_IFACE "',member='SavedCertificate'";
static const char match_props[] = "type='signal',interface='" DBUS_INTERFACE_PROPERTIES
                                  "',member='PropertiesChanged',arg0='" CM_REQUEST_IFACE "'";
static const char match_owner[] = "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='" DBUS_INTERFACE_DBUS
                                  "',member='NameOwnerChanged',arg0='" CM_NAME "'";

/* A certmonger request seen changing status. */
struct request {
        char *path;
        char *cert_file; /* NULL until GetAll has told it (or not stored in a file) */
        bool renewing;   /* what its status last said */
        bool reported;   /* what hooks->renewing was last told */
        char status[32]; /* its status ("" unknown) and stuck flag, and what hooks->state was last told */
        bool stuck;
        char reported_status[32];
        bool reported_stuck;
        bool asked;      /* a GetAll for its cert-file was sent */
        struct request *next;
};

struct certmonger {
        DBusConnection *conn;
        char *owner;
        bool owner_checked; /* the bus told the owner's uid */
        bool owner_root;    /* … and it is 0: only then does anything it says count */
        const struct certmonger_hooks *hooks;
        void *userdata;
        struct strmap *by_path; /* request.path → request */
        struct request *requests;
        DBusPendingCall **calls; /* under way; cancelled at detach, so no reply finds cm freed */
        size_t n_calls;
};

/*
 * The states between a resubmit (or a new request) and the notification that
 * the certificate was saved. Waiting states that need a person or a retry
 * much later (CA_UNREACHABLE, CA_WORKING, NEED_GUIDANCE, the PIN/token/
 * permission states) are not in it: nothing will be saved soon.
 */
static const char *const renewing_states[] = {
        "NEED_KEY_PAIR", "GENERATING_KEY_PAIR", "HAVE_KEY_PAIR", "NEED_KEYINFO", "READING_KEYINFO", "HAVE_KEYINFO",
        "NEED_CSR", "GENERATING_CSR", "HAVE_CSR", "NEED_TO_SUBMIT", "SUBMITTING", "NEED_TO_SAVE_CERT",
        "PRE_SAVE_CERT", "START_SAVING_CERT", "SAVING_CERT", "NEED_TO_SAVE_CA_CERTS", "START_SAVING_CA_CERTS",
        "SAVING_CA_CERTS", "NEED_TO_READ_CERT", "READING_CERT", "SAVED_CERT", "POST_SAVED_CERT",
        "NEED_TO_NOTIFY_ISSUED_SAVED", "NOTIFYING_ISSUED_SAVED",
};

static bool status_is_renewing(const char *status) {
        for (size_t i = 0; i < ELEMENTSOF(renewing_states); i++)
                if (streq(status, renewing_states[i]))
                        return true;
        return false;
}

const char *certmonger_owner(const struct certmonger *cm) {
        return cm->owner;
}

/* Tells the hook when a request's renewing flips (once its cert-file is known). */
static void request_report_state(struct certmonger *cm, struct request *req) {
        if (!req->cert_file || !cm->hooks->state ||
            (streq(req->status, req->reported_status) && req->stuck == req->reported_stuck))
                return;
        memcpy(req->reported_status, req->status, sizeof(req->status));
        req->reported_stuck = req->stuck;
        cm->hooks->state(req->cert_file, req->status, req->stuck, cm->userdata);
}

static void request_report(struct certmonger *cm, struct request *req) {
        request_report_state(cm, req);
        if (!req->cert_file || req->renewing == req->reported)
                return;
        req->reported = req->renewing;
        log_debug("certmonger request %s (%s): %s", req->path, req->cert_file, req->renewing ? "renewing" : "settled");
        cm->hooks->renewing(req->cert_file, req->renewing, cm->userdata);
}

static struct request *request_get(struct certmonger *cm, const char *path) {
        struct request *req = cm->by_path ? strmap_get(cm->by_path, path) : NULL;

        if (req || !cm->by_path)
                return req;
        req = calloc(1, sizeof(*req));
        if (!req || !(req->path = strdup(path)) || strmap_put(cm->by_path, req->path, req, NULL) < 0) {
                if (req)
                        free(req->path);
                free(req);
                return NULL;
        }
        req->next = cm->requests;
        cm->requests = req;
        return req;
}

/* Forgets every request: certmonger went away or another took its name; whatever it was renewing has settled. */
static void requests_reset(struct certmonger *cm) {
        while (cm->requests) {
                struct request *req = cm->requests;

                cm->requests = req->next;
                req->renewing = false;
                req->status[0] = '\0';
                req->stuck = false;
                request_report(cm, req);
                free(req->path);
                free(req->cert_file);
                free(req);
        }
        strmap_free(cm->by_path);
        cm->by_path = NULL;
        if (strmap_new(64, &cm->by_path) < 0)
                log_warning("out of memory: certmonger's request statuses are not followed");
}

/* Drops every call under way: its reply would speak of a certmonger that is gone, or arrive after cm. */
static void calls_cancel(struct certmonger *cm) {
        for (size_t i = 0; i < cm->n_calls; i++) {
                dbus_pending_call_cancel(cm->calls[i]);
                dbus_pending_call_unref(cm->calls[i]);
        }
        free(cm->calls);
        cm->calls = NULL;
        cm->n_calls = 0;
}

/* A method call to certmonger whose reply goes to notify(pending, data); data is freed with free_data. */
static int call_send(struct certmonger *cm, DBusMessage *m, DBusPendingCallNotifyFunction notify, void *data,
                     DBusFreeFunction free_data) {
        DBusPendingCall *pending = NULL, **v = realloc(cm->calls, (cm->n_calls + 1) * sizeof(*v));

        if (!v) {
                if (free_data)
                        free_data(data);
                return -ENOMEM;
        }
        cm->calls = v;
        if (!dbus_connection_send_with_reply(cm->conn, m, &pending, CALL_TIMEOUT_MS) || !pending) {
                if (free_data)
                        free_data(data);
                return -ENOTCONN;
        }
        if (!dbus_pending_call_set_notify(pending, notify, data, free_data)) {
                dbus_pending_call_cancel(pending);
                dbus_pending_call_unref(pending);
                if (free_data)
                        free_data(data);
                return -ENOMEM;
        }
        cm->calls[cm->n_calls++] = pending;
        return 0;
}

/* The reply arrived: the call is no longer ours to cancel. */
static void call_done(struct certmonger *cm, DBusPendingCall *pending) {
        for (size_t i = 0; i < cm->n_calls; i++)
                if (cm->calls[i] == pending) {
                        cm->calls[i] = cm->calls[--cm->n_calls];
                        break;
                }
        dbus_pending_call_unref(pending);
}

static void list_requests(struct certmonger *cm);

/*
 * The bus policy should let only root own certmonger's name, but it is not
 * the only guard: the owner's uid is asked once per owner. The bus answers
 * before any reply certmonger sends to a call made after the question, so
 * every GetAll reply finds the answer there.
 */
static void on_owner_uid(DBusPendingCall *pending, void *data) {
        struct certmonger *cm = data;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        dbus_uint32_t uid = 0;

        cm->owner_checked = true;
        cm->owner_root = reply && !dbus_message_get_error_name(reply) &&
                         dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &uid, DBUS_TYPE_INVALID) && uid == 0;
        if (!cm->owner_root)
                log_warning("org.fedorahosted.certmonger is owned by %s, %s: everything it sends is ignored", cm->owner,
                            reply && !dbus_message_get_error_name(reply) ? "not a root process" : "whose uid the bus did not tell");
        if (reply)
                dbus_message_unref(reply);
        call_done(cm, pending);
}

static void ask_owner_uid(struct certmonger *cm) {
        DBusMessage *m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                      "GetConnectionUnixUser");
        const char *owner = cm->owner;

        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID) ||
            call_send(cm, m, on_owner_uid, cm, NULL) < 0)
                log_warning("cannot ask the bus for certmonger's uid: its signals are ignored");
        if (m)
                dbus_message_unref(m);
}

static void set_owner(struct certmonger *cm, const char *owner) {
        free(cm->owner);
        cm->owner = owner && owner[0] ? strdup(owner) : NULL;
        cm->owner_checked = cm->owner_root = false;
        calls_cancel(cm);
        requests_reset(cm);
        log_info("certmonger is %s%s", cm->owner ? "at " : "not running", cm->owner ? cm->owner : "");
        if (!cm->owner)
                return;
        ask_owner_uid(cm);
        list_requests(cm);
}

static bool from_certmonger(const struct certmonger *cm, DBusMessage *m) {
        const char *sender = dbus_message_get_sender(m);

        return cm->owner && sender && streq(sender, cm->owner);
}

/* The request's properties, as certmonger lists them (unset ones are omitted). */
struct request_props {
        const char *cert_file, *key_file, *nickname, *cert_storage, *status;
        int stuck; /* -1: not told */
};

static void read_string_prop(DBusMessageIter *entry, struct request_props *p) {
        DBusMessageIter var;
        const char *key, *value;

        dbus_message_iter_get_basic(entry, &key);
        dbus_message_iter_next(entry);
        dbus_message_iter_recurse(entry, &var);
        if (streq(key, "stuck") && dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_BOOLEAN) {
                dbus_bool_t b;

                dbus_message_iter_get_basic(&var, &b);
                p->stuck = b;
                return;
        }
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
        else if (streq(key, "status"))
                p->status = value;
}

/* it is at an a{sv} of request properties. */
static int parse_props(DBusMessageIter *it, struct request_props *p) {
        DBusMessageIter dict;

        if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_ARRAY)
                return -EBADMSG;
        for (dbus_message_iter_recurse(it, &dict); dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                DBusMessageIter entry;

                dbus_message_iter_recurse(&dict, &entry);
                read_string_prop(&entry, p);
        }
        return 0;
}

static int parse_getall(DBusMessage *reply, struct request_props *p) {
        DBusMessageIter it;

        if (!dbus_message_iter_init(reply, &it))
                return -EBADMSG;
        return parse_props(&it, p);
}

struct getall_call {
        struct certmonger *cm;
        char *path;
        bool saved; /* asked for because of SavedCertificate (else only for the cert-file) */
};

static void getall_call_free(void *p) {
        struct getall_call *c = p;

        free(c->path);
        free(c);
}

/* Takes what p says of the request's status: renewing or not, and the status itself (certmonger's own names). */
static void request_set_status(struct request *req, const struct request_props *p) {
        if (p->stuck >= 0)
                req->stuck = p->stuck;
        if (!p->status)
                return;
        req->renewing = status_is_renewing(p->status);
        snprintf(req->status, sizeof(req->status), "%s", p->status);
        for (char *c = req->status; *c; c++) /* certmonger's are A-Z and _; anything else is not shown raw */
                if (!((*c >= 'A' && *c <= 'Z') || *c == '_'))
                        *c = '?';
}

/* What GetAll says of a request's file and status; its reply is newer than any status signal before it. */
static void request_learn(struct certmonger *cm, const char *path, const struct request_props *p) {
        struct request *req = request_get(cm, path);

        if (!req)
                return;
        if (!req->cert_file && p->cert_file && (!p->cert_storage || streq(p->cert_storage, "FILE")))
                req->cert_file = strdup(p->cert_file);
        request_set_status(req, p);
        request_report(cm, req);
}

/* A saved certificate's request, as GetAll told it: on to the hook, or why not. */
static void report_saved(struct certmonger *cm, const char *path, const struct request_props *p) {
        if (p->cert_storage && !streq(p->cert_storage, "FILE"))
                log_info("certmonger request %s (%s) is stored in %s, not a file: skipped", path,
                         p->nickname ? p->nickname : "?", p->cert_storage);
        else if (!p->cert_file)
                log_info("certmonger request %s (%s) has no cert-file: skipped", path, p->nickname ? p->nickname : "?");
        else
                cm->hooks->saved(p->cert_file, p->key_file, p->nickname, cm->userdata);
}

static void on_getall(DBusPendingCall *pending, void *data) {
        struct getall_call *call = data;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        const char *error = reply ? dbus_message_get_error_name(reply) : NULL;
        struct request_props p = { .stuck = -1 };

        if (!call->cm->owner_root) {
                if (call->saved)
                        log_warning("ignored SavedCertificate for %s: certmonger's name is not owned by root", call->path);
        } else if (reply && !error && parse_getall(reply, &p) >= 0) {
                request_learn(call->cm, call->path, &p);
                if (call->saved)
                        report_saved(call->cm, call->path, &p);
        } else
                log_warning("certmonger request %s: cannot read its properties%s%s", call->path, error ? ": " : "",
                            error ? error : "");
        if (reply)
                dbus_message_unref(reply);
        call_done(call->cm, pending);
}

static int request_getall(struct certmonger *cm, const char *path, bool saved) {
        DBusMessage *m;
        struct getall_call *call;
        const char *iface = CM_REQUEST_IFACE;
        int r;

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
        call->saved = saved;
        r = call_send(cm, m, on_getall, call, getall_call_free);
        dbus_message_unref(m);
        return r;
}

/* certmonger's requests when we start listening: which are being renewed already (an agent started mid-burst)? */
static void on_requests(DBusPendingCall *pending, void *data) {
        struct certmonger *cm = data;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        char **paths = NULL;
        int n = 0;

        if (reply && !dbus_message_get_error_name(reply) &&
            dbus_message_get_args(reply, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_OBJECT_PATH, &paths, &n, DBUS_TYPE_INVALID)) {
                for (int i = 0; i < n; i++)
                        if (request_getall(cm, paths[i], false) < 0)
                                log_warning("certmonger request %s: cannot ask for its properties", paths[i]);
                dbus_free_string_array(paths);
        } else
                log_warning("cannot list certmonger's requests%s%s: renewals already under way are seen at their next step",
                            reply && dbus_message_get_error_name(reply) ? ": " : "",
                            reply && dbus_message_get_error_name(reply) ? dbus_message_get_error_name(reply) : "");
        if (reply)
                dbus_message_unref(reply);
        call_done(cm, pending);
}

static void list_requests(struct certmonger *cm) {
        DBusMessage *m = dbus_message_new_method_call(cm->owner, CM_PATH, CM_NAME, "get_requests");

        if (!m || call_send(cm, m, on_requests, cm, NULL) < 0)
                log_warning("cannot ask certmonger for its requests");
        if (m)
                dbus_message_unref(m);
}

static void on_saved_signal(struct certmonger *cm, DBusMessage *m) {
        const char *sender = dbus_message_get_sender(m), *path = dbus_message_get_path(m);

        /* Anyone on the bus can emit a signal with certmonger's interface: only its owner counts. */
        if (!from_certmonger(cm, m)) {
                log_warning("ignored SavedCertificate for %s from %s: not certmonger (%s)", path ? path : "?",
                            sender ? sender : "?", cm->owner ? cm->owner : "not running");
                return;
        }
        if (cm->owner_checked && !cm->owner_root) {
                log_warning("ignored SavedCertificate for %s from %s: certmonger's name is not owned by root", path ? path : "?",
                            sender ? sender : "?");
                return;
        }
        log_debug("certmonger saved %s", path);
        /* The owner's uid may still be on its way: on_getall looks at it. */
        if (request_getall(cm, path, true) < 0)
                log_warning("certmonger request %s: cannot ask for its properties", path);
}

/* A request's status changed (PropertiesChanged: s interface, a{sv} changed, as invalidated). */
static void on_props_signal(struct certmonger *cm, DBusMessage *m) {
        const char *path = dbus_message_get_path(m), *iface = NULL;
        struct request_props p = { .stuck = -1 };
        struct request *req;
        DBusMessageIter it;

        if (!path || !from_certmonger(cm, m) || !cm->owner_root || !dbus_message_iter_init(m, &it) ||
            dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_STRING)
                return;
        dbus_message_iter_get_basic(&it, &iface);
        if (!streq(iface, CM_REQUEST_IFACE) || !dbus_message_iter_next(&it) || parse_props(&it, &p) < 0 || !p.status)
                return;
        req = request_get(cm, path);
        if (!req)
                return;
        request_set_status(req, &p);
        if (req->cert_file || req->asked)
                request_report(cm, req);
        else if (req->renewing) {
                /* First time we hear of it: which file is it? Asked once; the reply also brings the newest status. */
                req->asked = true;
                if (request_getall(cm, path, false) < 0)
                        log_warning("certmonger request %s: cannot ask for its properties", path);
        }
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
        else if (dbus_message_is_signal(m, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"))
                on_props_signal(cm, m);
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

int certmonger_attach(DBusConnection *conn, const struct certmonger_hooks *hooks, void *userdata,
                      struct certmonger **ret) {
        struct certmonger *cm = calloc(1, sizeof(*cm));
        DBusError e;
        int r = 0;

        if (!cm || strmap_new(64, &cm->by_path) < 0) {
                free(cm);
                return -ENOMEM;
        }
        cm->conn = conn;
        cm->hooks = hooks;
        cm->userdata = userdata;
        dbus_error_init(&e);
        /* Listen first, then ask: an owner change in between is not missed. */
        dbus_bus_add_match(conn, match_owner, &e);
        if (!dbus_error_is_set(&e))
                dbus_bus_add_match(conn, match_saved, &e);
        if (!dbus_error_is_set(&e))
                dbus_bus_add_match(conn, match_props, &e);
        if (dbus_error_is_set(&e) || !dbus_connection_add_filter(conn, on_message, cm, NULL)) {
                r = dbus_error_is_set(&e) ? bus_error_to_errno(&e) : -ENOMEM;
                log_debug("certmonger: cannot subscribe: %s", e.message ? e.message : "out of memory");
                dbus_error_free(&e);
                strmap_free(cm->by_path);
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
                dbus_bus_remove_match(cm->conn, match_props, NULL);
                dbus_bus_remove_match(cm->conn, match_owner, NULL);
        }
        if (cm->conn)
                dbus_connection_remove_filter(cm->conn, on_message, cm);
        calls_cancel(cm);
        requests_reset(cm);
        strmap_free(cm->by_path);
        free(cm->owner);
        free(cm);
}

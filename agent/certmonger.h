/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>

#include <stdbool.h>

/*
 * certmonger on D-Bus: SavedCertificate signals, accepted only from the
 * connection that currently owns org.fedorahosted.certmonger (tracked through
 * NameOwnerChanged, so certmonger may restart), turned into the request's
 * cert-file/key-file through an asynchronous GetAll. Also each request's
 * status (PropertiesChanged): whether certmonger is renewing its certificate
 * right now, between a resubmit and the save, so that a container waits for
 * all of its certificates of one burst.
 */

struct certmonger;

struct certmonger_hooks {
        void (*saved)(const char *cert_file, const char *key_file, const char *nickname, void *userdata);
        /* renewing flips; every true is followed by a false, at the latest when certmonger goes away. */
        void (*renewing)(const char *cert_file, bool renewing, void *userdata);
        /* The request's status (MONITORING, CA_UNREACHABLE, CA_REJECTED, …) and stuck flag as they
         * change; status "" when certmonger went away (unknown). */
        void (*state)(const char *cert_file, const char *status, bool stuck, void *userdata);
};

/* Subscribes on conn; call again for every new connection. hooks must outlive cm. */
int certmonger_attach(DBusConnection *conn, const struct certmonger_hooks *hooks, void *userdata,
                      struct certmonger **ret);
void certmonger_detach(struct certmonger *cm);
/* The unique name of certmonger's connection, or NULL when it is not running. */
const char *certmonger_owner(const struct certmonger *cm);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>

/*
 * certmonger on D-Bus: SavedCertificate signals, accepted only from the
 * connection that currently owns org.fedorahosted.certmonger (tracked through
 * NameOwnerChanged, so certmonger may restart), turned into the request's
 * cert-file/key-file through an asynchronous GetAll.
 */

struct certmonger;

typedef void (*certmonger_saved_t)(const char *cert_file, const char *key_file, const char *nickname, void *userdata);

/* Subscribes on conn; call again for every new connection. */
int certmonger_attach(DBusConnection *conn, certmonger_saved_t on_saved, void *userdata, struct certmonger **ret);
void certmonger_detach(struct certmonger *cm);
/* The unique name of certmonger's connection, or NULL when it is not running. */
const char *certmonger_owner(const struct certmonger *cm);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>
#include <systemd/sd-event.h>

#include "macro.h"

/*
 * A libdbus connection driven by an sd-event loop: watches grouped per fd
 * into one io source, timeouts as re-armed timer sources, dispatch from a
 * defer source (never from libdbus's dispatch-status callback). When the
 * bus goes away the connection is dropped and made again every second;
 * on_connected runs for each new connection so users can register anew.
 */

struct bus;

typedef int (*bus_connected_t)(struct bus *bus, DBusConnection *conn, void *userdata);
typedef void (*bus_disconnected_t)(struct bus *bus, void *userdata);

/* spec: "system", "session" or a D-Bus address. */
int bus_new(sd_event *event, const char *spec, bus_connected_t on_connected, bus_disconnected_t on_disconnected,
            void *userdata, struct bus **ret);
/* Connects now (failures are returned, not retried). */
int bus_start(struct bus *bus);
DBusConnection *bus_connection(const struct bus *bus); /* NULL while disconnected */
sd_event *bus_event(const struct bus *bus);
void bus_free(struct bus *bus);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bus *, bus_free);

/* Translates a D-Bus error into a negative errno (the agent's one convention inside). */
int bus_error_to_errno(const DBusError *e);

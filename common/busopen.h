/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>

/*
 * A private connection to the bus named the way ctrcert's --bus options
 * name it: "system", "session", or a D-Bus address (registered with Hello).
 * NULL with e set on failure. Shared by the agent and ctrcertctl.
 */
DBusConnection *bus_open_spec(const char *spec, DBusError *e);

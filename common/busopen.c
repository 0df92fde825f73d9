/* SPDX-License-Identifier: MIT */
#include "busopen.h"
#include "macro.h"

DBusConnection *bus_open_spec(const char *spec, DBusError *e) {
        DBusConnection *c;

        if (!spec || streq(spec, "system"))
                return dbus_bus_get_private(DBUS_BUS_SYSTEM, e);
        if (streq(spec, "session"))
                return dbus_bus_get_private(DBUS_BUS_SESSION, e);
        c = dbus_connection_open_private(spec, e);
        if (c && !dbus_bus_register(c, e)) {
                dbus_connection_close(c);
                dbus_connection_unref(c);
                return NULL;
        }
        return c;
}

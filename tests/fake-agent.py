#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in for ctrcert-agent on the test's bus whose replies carry control characters, as a
container runtime's error text or a hostile container name can: ctrcertctl must print them
escaped. GetStatus and ListJobs return one hostile row, GetPause a hostile reason, Release fails
with a hostile message."""
import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

HOSTILE = "runtime said \x1b[2J\x1b[31mOK\r\nforged: line\x07"
IFACE = "org.ctrcert.Agent1"


class Agent(dbus.service.Object):
    @dbus.service.method(IFACE, out_signature="a(sssss)")
    def ListBindings(self):
        return dbus.Array([], signature="(sssss)")

    @dbus.service.method(IFACE, out_signature="a(ssss)")
    def ListJobs(self):
        return dbus.Array([("ctr\x1b]0;title\x07", "failed", "web", HOSTILE)], signature="(ssss)")

    @dbus.service.method(IFACE, out_signature="a(ssssx)")
    def GetStatus(self):
        return dbus.Array([("ctr-x", "failed", "error", HOSTILE, 0)], signature="(ssssx)")

    @dbus.service.method(IFACE, out_signature="a(ssx)")
    def ListCertificates(self):
        return dbus.Array([], signature="(ssx)")

    @dbus.service.method(IFACE, out_signature="sx")
    def GetPause(self):
        return ("deploy \x1b[2Jnow", 0)

    @dbus.service.method(IFACE, in_signature="s")
    def Release(self, container):
        raise dbus.exceptions.DBusException(HOSTILE, name="org.ctrcert.Agent1.Error.Failed")


dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
name = dbus.service.BusName(IFACE, bus)
Agent(bus, "/org/ctrcert/Agent1")
GLib.MainLoop().run()

#!/usr/bin/python3
# A real session bus service for the bus tests, on the test's own dbus-daemon:
#   bus-service.py notifications LOG   owns org.freedesktop.Notifications and
#                                      appends "SUMMARY|BODY|APP|SENDER|DESKTOP-ENTRY"
#                                      per Notify call (xdg-desktop-portal-gtk puts
#                                      the caller's app id in the desktop-entry hint)
#   bus-service.py secret LOG          owns org.sandbox.Test.Secret (a name no
#                                      profile allows) and logs every call it gets
#   bus-service.py export FILE APP_ID  exports FILE to the document store for
#                                      APP_ID (read-only) and prints its doc id
# Prints "ready" when the name is owned.
import os
import sys
from gi.repository import Gio, GLib

kind, log = sys.argv[1], sys.argv[2]

if kind == "export":
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    fds = Gio.UnixFDList.new()
    fds.append(os.open(sys.argv[2], os.O_PATH | os.O_CLOEXEC))
    reply, _ = bus.call_with_unix_fd_list_sync(
        "org.freedesktop.portal.Documents", "/org/freedesktop/portal/documents", "org.freedesktop.portal.Documents",
        "AddFull", GLib.Variant("(ahusas)", ([0], 0, sys.argv[3], ["read"])), GLib.VariantType("(asa{sv})"),
        Gio.DBusCallFlags.NONE, -1, fds, None)
    print(reply.unpack()[0][0])
    sys.exit(0)

NOTIFY_XML = """<node><interface name="org.freedesktop.Notifications">
  <method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
    <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
    <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/></method>
  <method name="GetCapabilities"><arg type="as" direction="out"/></method>
  <method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
    <arg type="s" direction="out"/><arg type="s" direction="out"/></method>
  <method name="CloseNotification"><arg type="u" direction="in"/></method>
</interface></node>"""
SECRET_XML = """<node><interface name="org.sandbox.Test.Secret">
  <method name="Get"><arg type="s" direction="out"/></method></interface></node>"""

counter = [0]

def record(line):
    with open(log, "a") as f:
        f.write(line + "\n")

def on_call(conn, sender, path, iface, method, params, invocation):
    if method == "Notify":
        counter[0] += 1
        p = params.unpack()
        app, summary, body, hints = p[0], p[3], p[4], p[6]
        record("%s|%s|%s|%s|%s" % (summary, body, app, sender, hints.get("desktop-entry", "")))
        invocation.return_value(GLib.Variant("(u)", (counter[0],)))
    elif method == "GetCapabilities":
        invocation.return_value(GLib.Variant("(as)", (["body"],)))
    elif method == "GetServerInformation":
        invocation.return_value(GLib.Variant("(ssss)", ("it", "sandbox", "1", "1.2")))
    elif method == "Get":
        record("Get|%s" % sender)
        invocation.return_value(GLib.Variant("(s)", ("the secret",)))
    else:
        invocation.return_value(None)

name, xml, path = {
    "notifications": ("org.freedesktop.Notifications", NOTIFY_XML, "/org/freedesktop/Notifications"),
    "secret": ("org.sandbox.Test.Secret", SECRET_XML, "/org/sandbox/Test/Secret"),
}[kind]
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
info = Gio.DBusNodeInfo.new_for_xml(xml)
bus.register_object(path, info.interfaces[0], on_call, None, None)

def acquired(*_):
    print("ready", flush=True)

def lost(*_):
    print("name lost", flush=True)
    sys.exit(1)

Gio.bus_own_name_on_connection(bus, name, Gio.BusNameOwnerFlags.NONE, acquired, lost)
GLib.MainLoop().run()

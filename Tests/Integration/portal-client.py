#!/usr/bin/python3
# An app's side of the FileChooser portal, run inside a container:
#   portal-client.py open TITLE          OpenFile; prints the URIs, then reads each file
#   portal-client.py save TITLE TEXT     SaveFile; writes TEXT to the chosen file
# Prints "asked" once the dialog was requested, then "response CODE [URIS]".
import os
import sys
from gi.repository import Gio, GLib

mode, title = sys.argv[1], sys.argv[2]
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
token = "sbx%d" % os.getpid()
handle = "/org/freedesktop/portal/desktop/request/%s/%s" % (bus.get_unique_name()[1:].replace(".", "_"), token)
loop = GLib.MainLoop()
result = {}


def on_response(conn, sender, path, iface, signal, params):
    code, results = params.unpack()
    result["code"], result["uris"] = code, results.get("uris", [])
    loop.quit()


bus.signal_subscribe("org.freedesktop.portal.Desktop", "org.freedesktop.portal.Request", "Response", handle, None,
                     Gio.DBusSignalFlags.NO_MATCH_RULE, on_response)
bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
              GLib.Variant("(s)", ("type='signal',sender='org.freedesktop.portal.Desktop',path='%s'" % handle,)),
              None, 0, -1, None)
options = {"handle_token": GLib.Variant("s", token)}
if mode == "save":
    options["current_name"] = GLib.Variant("s", "saved.txt")
bus.call_sync("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop", "org.freedesktop.portal.FileChooser",
              "OpenFile" if mode == "open" else "SaveFile", GLib.Variant("(ssa{sv})", ("", title, options)),
              GLib.VariantType("(o)"), 0, -1, None)
print("asked", flush=True)
GLib.timeout_add_seconds(60, loop.quit)
loop.run()
print("response", result.get("code"), result.get("uris"), flush=True)
for uri in result.get("uris", []):
    path = Gio.File.new_for_uri(uri).get_path()
    print("path", path, flush=True)
    if mode == "open":
        print("content", open(path).read().strip(), flush=True)
    else:
        with open(path, "w") as f:
            f.write(sys.argv[3] + "\n")
        print("written", flush=True)

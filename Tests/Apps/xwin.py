#!/usr/bin/python3
"""The app windows on the test desktop, as Tests/Apps/run.sh needs them.

  xwin.py wait  --since NS --match REGEX --timeout S [--pid PID]
      Waits for a viewable top-level window whose "INSTANCE.CLASS TITLE"
      (WM_CLASS, WM_NAME) matches REGEX (case-insensitive) and prints
      "MS WID INSTANCE.CLASS TITLE",
      MS counted from NS (CLOCK_REALTIME nanoseconds, as `date +%s%N`).
      Exit 1 on time-out, 2 when PID exits first (the launch failed).
  xwin.py close --match REGEX
      Asks every matching window to close as a window manager would
      (WM_DELETE_WINDOW, ICCCM 4.2.8.1); a window that does not take part in
      that protocol gets XKillClient. Prints one line per window.
  xwin.py list [--match REGEX]
      Prints "WID INSTANCE.CLASS TITLE" for each viewable top-level window.
  xwin.py hold
      Stays connected until killed, as a desktop's window manager does: a bare
      Xvfb resets when its last client goes (between two apps), dropping the
      connections being made at that moment.

A top-level window is a child of the root (no window manager) or the first
descendant of one that has WM_CLASS (under a reparenting window manager);
override-redirect windows (menus, tooltips) are skipped.
"""
import argparse, os, re, sys, time
from Xlib import X, Xatom, display, error, protocol


def client_of(d, w):
    """w, or its first descendant with WM_CLASS (a reparenting WM's frame)."""
    try:
        if w.get_wm_class() is not None:
            return w
        for c in w.query_tree().children:
            found = client_of(d, c)
            if found is not None:
                return found
    except error.XError:
        pass
    return None


def windows(d, pattern):
    out = []
    for top in d.screen().root.query_tree().children:
        try:
            attrs = top.get_attributes()
            if attrs.map_state != X.IsViewable or attrs.override_redirect:
                continue
            w = client_of(d, top)
            if w is None:
                continue
            inst, cls = w.get_wm_class()
            name = f"{inst}.{cls}"
            title = w.get_wm_name() or ""
            if isinstance(title, bytes):
                title = title.decode("utf-8", "replace")
            if pattern is not None and not pattern.search(f"{name} {title}"):
                continue
            out.append((w, name, title))
        except error.XError:
            continue  # the window went away while we looked
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait(d, args, pattern):
    deadline = time.monotonic() + args.timeout
    while True:
        found = windows(d, pattern)
        if found:
            ms = (time.time_ns() - args.since) // 1_000_000
            w, name, title = found[0]
            print(f"{ms} {w.id:#x} {name} {title}")
            return 0
        if args.pid and not alive(args.pid):
            return 2
        if time.monotonic() > deadline:
            return 1
        time.sleep(0.02)


def close(d, pattern):
    wm_protocols = d.intern_atom("WM_PROTOCOLS")
    wm_delete = d.intern_atom("WM_DELETE_WINDOW")
    for w, name, title in windows(d, pattern):
        try:
            protocols = w.get_wm_protocols() or []
            if wm_delete in protocols:
                ev = protocol.event.ClientMessage(window=w, client_type=wm_protocols,
                                                  data=(32, [wm_delete, X.CurrentTime, 0, 0, 0]))
                w.send_event(ev, event_mask=X.NoEventMask)
                print(f"{w.id:#x} {name}: WM_DELETE_WINDOW")
            else:
                w.kill_client()
                print(f"{w.id:#x} {name}: XKillClient (no WM_DELETE_WINDOW)")
        except error.XError as e:
            print(f"{w.id:#x} {name}: gone ({e.__class__.__name__})")
    d.sync()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["wait", "close", "list", "hold"])
    ap.add_argument("--match", default=None)
    ap.add_argument("--since", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--pid", type=int, default=0)
    args = ap.parse_args()
    pattern = re.compile(args.match, re.I) if args.match else None
    d = display.Display()
    if args.command == "wait":
        return wait(d, args, pattern)
    if args.command == "close":
        return close(d, pattern)
    if args.command == "hold":
        while True:
            d.next_event()
    for w, name, title in windows(d, pattern):
        print(f"{w.id:#x} {name} {title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

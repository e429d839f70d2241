# The session bus (issue 11 #1) and the portals (#2), against a real
# dbus-daemon started here for the test user, real services on it (a
# notification service, a name no profile allows, xdg-desktop-portal with
# xdg-desktop-portal-gtk and xdg-document-portal), and the real xdg-dbus-proxy
# the supervisor runs.

db_rt() { it_runtime; }

# The test's own session bus (it_start_session_bus), with the desktop's
# environment for activated services (DISPLAY for the gtk portal backend,
# XDG_CURRENT_DESKTOP so xdg-desktop-portal picks it). Stopped, with the
# db_service services, when the test's subshell exits.
db_start_bus() {
  db_stop_bus
  cp "$IT_DIR/bus-service.py" "$IT_STATE/bus-service.py" && chmod 755 "$IT_STATE/bus-service.py"
  it_start_session_bus XDG_CURRENT_DESKTOP=GNOME GTK_USE_PORTAL=0 || fail "no session bus for the test user"
  # Only the test's own shell stops the bus: a background job (`sbx … &`) is a
  # subshell that would run an inherited EXIT trap when it ends.
  DB_OWNER=$BASHPID
  trap '[ "$BASHPID" = "$DB_OWNER" ] && db_stop_bus' EXIT
}

db_stop_bus() {
  local pid
  for pid in $(cat "$IT_LOGS"/dbus-service.*.pid 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  rm -f "$IT_LOGS"/dbus-service.*.pid
  it_stop_session_bus
}

# A bus service (bus-service.py KIND) as the test user; its log is $IT_LOGS/KIND.log.
db_service() {
  local kind=$1
  rm -f "$IT_LOGS/$kind.log" "$IT_LOGS/$kind.out"
  it_as_user sh -c "python3 '$IT_STATE/bus-service.py' $kind '$IT_LOGS/$kind.log' >'$IT_LOGS/$kind.out' 2>&1 & echo \$! >'$IT_LOGS/dbus-service.$kind.pid'"
  local i
  for i in $(seq 1 50); do grep -q ready "$IT_LOGS/$kind.out" 2>/dev/null && return 0; sleep 0.1; done
  fail "bus service $kind did not start: $(cat "$IT_LOGS/$kind.out")"
}

# A profile whose command runs the arguments of `sandbox run NAME -- …`.
db_profile() {
  local name=$1; shift
  it_profile "$name" <<EOF
command = ["sh", "-c", "exec \"\$@\"", "sh"]
[home]
mode = "tmpfs"
$(cat)
EOF
}

db_gone_within() {   # NAME MILLISECONDS: the container's state is removed in time
  local name=$1 ms=$2 start; start=$(date +%s%N)
  while [ -e "$(db_rt)/sandbox/$name/state" ]; do
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt "$ms" ] || return 1
    sleep 0.02
  done
}

# Live (not zombie) processes of the test user named NAME (their pids).
db_live() { ps -u "$IT_USER" -o pid=,stat=,comm= | awk -v n="$1" '$2 !~ /^Z/ && $3 == n {print $1}'; }
# Whether none of the test user's live processes has one of these names.
db_none_live() { local n; for n in "$@"; do [ -z "$(db_live "$n")" ] || return 1; done; }

# The bus proxy of container NAME (its socket path is in its arguments).
db_proxy_of() { pgrep -u "$IT_USER" -f "xdg-dbus-proxy .*/sandbox/$1/dbus/bus " | head -n1 || true; }

db_wait_stopped() { db_gone_within "$1" 10000 || fail "container $1 still running"; }

test_a_notification_from_inside_reaches_the_host_service() {
  db_start_bus
  db_service notifications
  db_profile notes <<'EOF'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.Notifications"]
EOF
  local out
  out=$(sbx run notes -- sh -c 'echo "address=$DBUS_SESSION_BUS_ADDRESS"; notify-send "hello from inside" "sent by notify-send"') \
    || fail "notify-send inside failed: $out"
  assert_contains "$out" "address=unix:path=$(db_rt)/bus"
  assert_contains "$(cat "$IT_LOGS/notifications.log")" "hello from inside|sent by notify-send|notify-send|"
  # The host bus saw the proxy's connection as the user's (EXTERNAL auth with our uid).
  out=$(sbx run notes -- gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications \
        --method org.freedesktop.Notifications.GetServerInformation)
  assert_contains "$out" "('it', 'sandbox', '1', '1.2')"
  # The app's exit stops the container at once: the proxy is outside it.
  sbx run notes -- true
  db_gone_within notes 1000 || fail "the container was still there 1 s after the app quit"
  # The proxy lives and dies with the container.
  [ -z "$(db_proxy_of notes)" ] || fail "a proxy outlived its container: $(db_proxy_of notes)"
}

test_names_the_profile_does_not_grant_are_refused() {
  db_start_bus
  db_service notifications
  db_service secret
  # The host can reach the secret service (so a refusal below is the proxy's).
  assert_contains "$(it_as_user gdbus call --session --dest org.sandbox.Test.Secret --object-path /org/sandbox/Test/Secret --method org.sandbox.Test.Secret.Get)" "the secret"
  rm -f "$IT_LOGS/secret.log"
  db_profile refused <<'EOF'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.Notifications"]
see = ["org.sandbox.Test.Secret"]
EOF
  local out
  # A name listed only under `see`: visible, and a call is AccessDenied.
  out=$(sbx run refused -- gdbus call --session --dest org.sandbox.Test.Secret --object-path /org/sandbox/Test/Secret \
        --method org.sandbox.Test.Secret.Get 2>&1) && fail "the call went through: $out"
  assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied"
  # A name not listed at all (systemd, the bus's own activatable names): as if it did not exist.
  out=$(sbx run refused -- gdbus call --session --dest org.freedesktop.systemd1 --object-path /org/freedesktop/systemd1 \
        --method org.freedesktop.DBus.Peer.Ping 2>&1) && fail "systemd1 answered: $out"
  assert_contains "$out" "org.freedesktop.DBus.Error.ServiceUnknown"
  # Owning another app's name (taking over the notification service) is refused; the app's own id is not.
  out=$(sbx run refused -- gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.RequestName org.freedesktop.Notifications 4 2>&1) && fail "took a name: $out"
  assert_contains "$out" "AccessDenied"
  out=$(sbx run refused -- gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.RequestName org.sandbox.Profile.refused.Sub 4 2>&1) || fail "its own name was refused: $out"
  assert_contains "$out" "(uint32 1,)"
  # ListNames shows the granted and seen names, nothing else of the host bus.
  out=$(sbx run refused -- gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.ListNames)
  assert_contains "$out" "'org.freedesktop.Notifications'"
  assert_contains "$out" "'org.sandbox.Test.Secret'"
  assert_not_contains "$out" "org.freedesktop.portal"
  [ ! -e "$IT_LOGS/secret.log" ] || fail "the secret service was called: $(cat "$IT_LOGS/secret.log")"
  # A `call` rule: only that method of that name.
  db_profile ruled <<'EOF'
[dbus]
mode = "filtered"
call = ["org.freedesktop.Notifications=org.freedesktop.Notifications.GetServerInformation@/org/freedesktop/Notifications"]
EOF
  out=$(sbx run ruled -- gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications \
        --method org.freedesktop.Notifications.GetServerInformation) || fail "the allowed method failed: $out"
  out=$(sbx run ruled -- notify-send "not allowed" 2>&1) && fail "Notify went through a GetServerInformation-only rule: $out"
  assert_not_contains "$(cat "$IT_LOGS/notifications.log" 2>/dev/null)" "not allowed"
}

test_log_dbus_shows_what_was_asked_and_refused() {
  db_start_bus
  db_service notifications
  db_profile logged <<'EOF'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.Notifications"]
EOF
  local err="$IT_LOGS/log-dbus.err"
  rm -f "$err"
  it_as_user "$IT_PREFIX/bin/sandbox" run --log-dbus logged -- sh -c \
    'notify-send "logged"; gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets --method org.freedesktop.DBus.Peer.Ping; true' \
    2>"$err" >/dev/null || true
  db_wait_stopped logged
  local text; text=$(cat "$err")
  assert_contains "$text" "sandbox: notice: logged: dbus: C"
  assert_contains "$text" "call org.freedesktop.Notifications.Notify at /org/freedesktop/Notifications"
  assert_contains "$text" "org.freedesktop.secrets call org.freedesktop.DBus.Peer.Ping"
  assert_contains "$text" "*HIDDEN*"
  # Without --log-dbus, nothing of it.
  rm -f "$err"
  it_as_user "$IT_PREFIX/bin/sandbox" run logged -- notify-send quiet 2>"$err" >/dev/null
  db_wait_stopped logged
  assert_not_contains "$(cat "$err")" "dbus: C"
  # -l debug -o FILE: the same lines in the log file.
  local logf="$IT_LOGS/log-dbus.file"
  rm -f "$logf"
  it_as_user "$IT_PREFIX/bin/sandbox" run -l debug -o "$logf" logged -- notify-send "to the file" >/dev/null 2>&1
  db_wait_stopped logged
  assert_contains "$(cat "$logf")" "logged: dbus: C"
  assert_contains "$(cat "$logf")" "org.freedesktop.Notifications.Notify"
}

test_mode_none_fails_at_once_and_autolaunches_nothing() {
  # No bus anywhere in this test. First the control: on this machine (dbus-x11
  # installed) a libdbus program without an address autolaunches a bus on the X display.
  # (A bus an earlier test's program activated and left, e.g. the accessibility bus, is not this test's.)
  local stray; for stray in $(db_live dbus-daemon); do kill "$stray" 2>/dev/null || true; done
  it_wait_until 5000 "earlier tests' dbus-daemons to exit" db_none_live dbus-daemon
  it_as_user env -u DBUS_SESSION_BUS_ADDRESS dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId \
    >/dev/null 2>&1 || true
  [ -n "$(db_live dbus-daemon)" ] || fail "the control failed: no autolaunched dbus-daemon"
  local p
  for p in $(db_live dbus-daemon) $(db_live dbus-launch); do kill "$p" 2>/dev/null || true; done
  it_wait_until 5000 "the control's dbus-daemon and dbus-launch to exit" db_none_live dbus-daemon dbus-launch
  # The same programs inside a dbus.mode = "none" container (the default), with a display.
  it_profile nobus <<'EOF'
command = ["sh", "-c", "echo \"address=$DBUS_SESSION_BUS_ADDRESS\"; dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId; echo dbus-send=$?; gdbus call --session --dest org.freedesktop.DBus --object-path / --method org.freedesktop.DBus.GetId; echo gdbus=$?; notify-send x; echo notify-send=$?; ps -eo comm"]
[home]
mode = "tmpfs"
[x11]
mode = "trusted"
[session]
stop_timeout = 5
EOF
  local out start ms
  start=$(date +%s%N)
  out=$(sbx run nobus 2>&1)
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  assert_contains "$out" "address=disabled:"
  assert_contains "$out" "dbus-send=1"
  assert_contains "$out" "gdbus=1"
  assert_contains "$out" "notify-send=1"
  assert_not_contains "$out" "dbus-daemon"
  assert_not_contains "$out" "dbus-launch"
  [ "$ms" -lt 3000 ] || fail "the bus-less app took $ms ms (waiting for a bus?)"
  db_gone_within nobus 1000 || fail "the container was still there 1 s after the app quit"
  [ -z "$(db_live dbus-daemon)" ] || fail "a bus was autolaunched: $(db_live dbus-daemon)"
  echo "bus-less app and its container gone in $ms ms + <1 s"
}

test_the_proxy_killed_mid_session_is_logged() {
  db_start_bus
  db_profile victim <<'EOF'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.Notifications"]
EOF
  local logf="$IT_LOGS/proxy-death.log" err="$IT_LOGS/proxy-death.err"
  rm -f "$logf" "$err"
  it_as_user "$IT_PREFIX/bin/sandbox" run victim -- sleep 30 2>"$err" >/dev/null &
  local i pid=
  for i in $(seq 1 50); do pid=$(db_proxy_of victim) && [ -n "$pid" ] && break; sleep 0.1; done
  [ -n "$pid" ] || fail "no proxy runs"
  # It is the user's, in its own user and mount namespaces, with the app id at its root.
  assert_eq "$(stat -c %U /proc/"$pid")" "$IT_USER" "the proxy's owner"
  [ "$(readlink /proc/"$pid"/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || fail "the proxy shares the host's mount namespace"
  assert_contains "$(it_as_user cat /proc/"$pid"/root/.flatpak-info)" "name=org.sandbox.Profile.victim"
  kill -KILL "$pid"
  for i in $(seq 1 50); do grep -q "bus proxy" "$err" 2>/dev/null && break; sleep 0.1; done
  assert_contains "$(cat "$err")" "sandbox: warning: victim: dbus: the bus proxy (pid $pid) exited (killed by signal 9)"
  # The app is still there; a new bus client fails at once instead of hanging.
  local out
  out=$(sbx exec victim -- gdbus call --session --dest org.freedesktop.DBus --object-path / --method org.freedesktop.DBus.GetId 2>&1) \
    && fail "a dead proxy answered: $out"
  sbx stop victim >/dev/null
  wait || true
  # With -o, the same goes to the log file.
  it_as_user "$IT_PREFIX/bin/sandbox" -o "$logf" run victim -- sleep 30 >/dev/null 2>&1 &
  for i in $(seq 1 50); do pid=$(db_proxy_of victim) && [ -n "$pid" ] && break; sleep 0.1; done
  kill -KILL "$pid"
  for i in $(seq 1 50); do grep -q "bus proxy" "$logf" 2>/dev/null && break; sleep 0.1; done
  assert_contains "$(cat "$logf")" "victim: dbus: the bus proxy (pid $pid) exited (killed by signal 9)"
  sbx stop victim >/dev/null
  wait || true
}

test_the_proxy_dies_with_a_killed_supervisor() {
  db_start_bus
  db_profile orphan <<'EOF'
[dbus]
mode = "filtered"
EOF
  it_as_user "$IT_PREFIX/bin/sandbox" run orphan -- sleep 30 >/dev/null 2>&1 &
  local i pid= sup
  for i in $(seq 1 50); do pid=$(db_proxy_of orphan) && [ -n "$pid" ] && break; sleep 0.1; done
  [ -n "$pid" ] || fail "no proxy runs"
  sup=$(ps -o ppid= -p "$pid" | tr -d ' ')
  assert_contains "$(cat /proc/"$sup"/cmdline | tr '\0' ' ')" "sandbox-supervisor" "the proxy's parent"
  # A mediating supervisor stays the Swift program: it never becomes the monitor.
  assert_eq "$(readlink /proc/"$sup"/exe)" "$IT_PREFIX/libexec/sandbox/sandbox-supervisor" "the mediating supervisor's binary"
  kill -KILL "$sup"
  for i in $(seq 1 50); do it_alive "$pid" || break; sleep 0.1; done
  ! it_alive "$pid" || fail "the proxy outlived its supervisor"
  wait || true
  # The killed supervisor's state is stale; leave no container name behind for later tests.
  rm -rf "$(db_rt)/sandbox/orphan"
}

test_an_unreachable_bus_or_missing_parts_are_notices() {
  # No bus at the address the user has: the app starts without one, and says why.
  db_profile nohostbus <<'EOF'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.Notifications"]
EOF
  local out
  out=$(sbx run nohostbus -- sh -c 'echo "address=$DBUS_SESSION_BUS_ADDRESS"' 2>&1) || fail "the app did not start: $out"
  assert_contains "$out" "dbus: the session bus socket /nonexistent/sandbox-it-no-session-bus does not exist"
  assert_contains "$out" "address=disabled:"
  # An abstract address cannot be reached from a container.
  out=$(IT_EXTRA_ENV="DBUS_SESSION_BUS_ADDRESS=unix:abstract=/tmp/dbus-it" sbx run nohostbus -- sh -c 'echo "address=$DBUS_SESSION_BUS_ADDRESS"' 2>&1)
  assert_contains "$out" "is not a unix:path= socket"
  assert_contains "$out" "address=disabled:"
}

test_a_malformed_bus_name_is_a_profile_error() {
  it_profile badbus <<'EOF'
command = ["true"]
[dbus]
mode = "filtered"
talk = [
  "org.freedesktop.Notifications",
  "org.freedesktop.portal*",
]
call = ["org.x.Y=org.x.Y.Method@not/a/path"]
EOF
  local out
  out=$(sbx run badbus 2>&1) && fail "a malformed name was accepted: $out"
  assert_contains "$out" "badbus.toml:6: key 'dbus.talk[1]': \"org.freedesktop.portal*\" in [dbus] talk is not a valid bus name"
  assert_contains "$out" "badbus.toml:8: key 'dbus.call[0]'"
  assert_contains "$out" "(a well-known bus name such as"
}

# xdg-document-portal mounts its FUSE file system as the test user; desktops
# ship /dev/fuse 0666 (udev), this machine 0600.
db_fuse() {
  [ "$(stat -c %a /dev/fuse)" = 666 ] || chmod 666 /dev/fuse
}

# xdg-desktop-portal (with the gtk backend on the test display) and
# xdg-document-portal, activated on the test bus.
db_start_portals() {
  db_fuse
  it_as_user gdbus call --session --dest org.freedesktop.portal.Documents --object-path /org/freedesktop/portal/documents \
    --method org.freedesktop.portal.Documents.GetMountPoint >/dev/null || fail "no document portal: $(tail -n 20 "$IT_LOGS/dbus-daemon.log")"
  it_as_user test -d "$(db_rt)/doc/by-app" || fail "the document store is not mounted at $(db_rt)/doc"
  it_as_user gdbus introspect --session --dest org.freedesktop.portal.Desktop --object-path /org/freedesktop/portal/desktop \
    | grep -q org.freedesktop.portal.FileChooser || fail "xdg-desktop-portal has no FileChooser: $(tail -n 20 "$IT_LOGS/dbus-daemon.log")"
}

test_portals_see_the_app_id_and_its_document_store() {
  db_start_bus
  db_service notifications
  db_start_portals
  db_profile portals <<'EOF2'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.portal.*"]
EOF2
  # The notification portal: xdg-desktop-portal identifies the caller, and
  # xdg-desktop-portal-gtk passes its app id on to the notification service.
  sbx run portals -- gdbus call --session --dest org.freedesktop.portal.Desktop --object-path /org/freedesktop/portal/desktop \
    --method org.freedesktop.portal.Notification.AddNotification itest "{'title': <'via the portal'>, 'body': <'sandboxed'>}" >/dev/null
  local i
  for i in $(seq 1 30); do grep -q "via the portal" "$IT_LOGS/notifications.log" 2>/dev/null && break; sleep 0.1; done
  assert_contains "$(cat "$IT_LOGS/notifications.log")" "via the portal|sandboxed||"
  assert_contains "$(grep "via the portal" "$IT_LOGS/notifications.log")" "|org.sandbox.Profile.portals"
  # The control: the same call from the host is an unsandboxed app (no id).
  it_as_user gdbus call --session --dest org.freedesktop.portal.Desktop --object-path /org/freedesktop/portal/desktop \
    --method org.freedesktop.portal.Notification.AddNotification itest "{'title': <'from the host'>, 'body': <'b'>}" >/dev/null
  for i in $(seq 1 30); do grep -q "from the host" "$IT_LOGS/notifications.log" 2>/dev/null && break; sleep 0.1; done
  assert_eq "$(grep "from the host" "$IT_LOGS/notifications.log" | cut -d'|' -f5)" "" "the host app's id"
  # The document store: a file outside every bind, exported for this app id, is
  # readable inside at $XDG_RUNTIME_DIR/doc/ID/NAME; another app's documents are not there.
  local dir; dir=$(it_home)/outside-the-binds
  it_as_user mkdir -p "$dir"
  it_as_user sh -c "echo 'a file the app was handed' >'$dir/handed.txt'; echo 'not handed' >'$dir/other.txt'"
  local doc other
  doc=$(it_as_user python3 "$IT_STATE/bus-service.py" export "$dir/handed.txt" org.sandbox.Profile.portals)
  other=$(it_as_user python3 "$IT_STATE/bus-service.py" export "$dir/other.txt" org.sandbox.Profile.someoneelse)
  [ -n "$doc" ] && [ -n "$other" ] || fail "the document portal exported nothing"
  local out
  out=$(sbx run portals -- sh -c "cat $(db_rt)/doc/$doc/handed.txt; ls $(db_rt)/doc; cat $(db_rt)/doc/$other/other.txt; echo rc=\$?; cat $dir/handed.txt; echo rc=\$?" 2>&1)
  assert_contains "$out" "a file the app was handed"
  assert_contains "$out" "rc=1"
  assert_not_contains "$out" "not handed"
  assert_not_contains "$(echo "$out" | sed -n 2p)" "$other"
  echo "$out"
}

db_viewable() { it_as_user xwininfo -id "$1" | grep -q 'Map State: IsViewable'; }
db_focused() { [ "$(it_as_user xdotool getwindowfocus)" = "$1" ]; }

# Drives the file chooser dialog titled TITLE on the test display as a user
# would: focus it, open the location field, type PATH, press Return.
db_choose() {
  local title=$1 path=$2 i w=
  for i in $(seq 1 100); do
    w=$(it_as_user xdotool search --name "^$title\$" 2>/dev/null | head -n1) || true   # none yet: status 1 (pipefail)
    [ -n "$w" ] && break
    sleep 0.1
  done
  [ -n "$w" ] || fail "no dialog '$title' on the display: $(tail -n 20 "$IT_LOGS/dbus-daemon.log")"
  # GTK takes keys once the window is mapped.
  it_wait_until 5000 "the dialog '$title' to be mapped" db_viewable "$w"
  # No window manager on the test display: focus it directly (XSetInputFocus).
  it_as_user xdotool windowfocus "$w" || echo "xdotool windowfocus $w failed"
  it_wait_until 5000 "the dialog '$title' to have the input focus" db_focused "$w"
  # Keystroke pacing, not a wait for a condition: GTK opens its location field
  # and completes what was typed inside the client, where X shows nothing to poll.
  it_as_user xdotool key --clearmodifiers ctrl+l || fail "xdotool key failed"
  sleep 0.2
  it_as_user xdotool key --clearmodifiers ctrl+a || fail "xdotool key failed"
  it_as_user xdotool type --delay 15 "$path" || fail "xdotool type failed"
  sleep 0.3
  it_as_user xdotool key Return || fail "xdotool key failed"
}

test_the_file_chooser_hands_over_a_file_outside_the_binds() {
  db_start_bus
  db_start_portals
  local client=$IT_STATE/portal-client
  mkdir -p "$client" && cp "$IT_DIR/portal-client.py" "$client/" && chmod -R a+rX "$client"
  db_profile chooser <<EOF2
[dbus]
mode = "filtered"
talk = ["org.freedesktop.portal.*"]
[[mount]]
source = "$client"
target = "/tmp/client"
EOF2
  local dir; dir=$(it_home)/outside-the-binds
  it_as_user mkdir -p "$dir"
  it_as_user sh -c "echo 'picked through the portal' >'$dir/picked.txt'; rm -f '$dir/saved.txt'"
  # Open: the app gets a document-store path and reads the file it could not see.
  local out="$IT_LOGS/chooser-open.out"
  sbx run chooser -- python3 /tmp/client/portal-client.py open "Open with sandbox" >"$out" 2>&1 &
  db_choose "Open with sandbox" "$dir/picked.txt"
  wait $! || fail "the app failed: $(cat "$out")"
  assert_contains "$(cat "$out")" "response 0 ['file://$(db_rt)/doc/"
  assert_contains "$(cat "$out")" "content picked through the portal"
  # Save: the app writes the file the user chose.
  out="$IT_LOGS/chooser-save.out"
  sbx run chooser -- python3 /tmp/client/portal-client.py save "Save with sandbox" "written inside" >"$out" 2>&1 &
  db_choose "Save with sandbox" "$dir/saved.txt"
  wait $! || fail "the app failed: $(cat "$out")"
  assert_contains "$(cat "$out")" "written"
  assert_eq "$(it_as_user cat "$dir/saved.txt")" "written inside" "the saved file on the host"
}

test_doctor_reports_the_session_bus() {
  local out line
  out=$(sbx doctor 2>&1) || true
  line=$(printf '%s\n' "$out" | grep -E '^(ok|WARN|FAIL) +session-bus: ' || true)
  assert_contains "$line" "WARN  session-bus: the session bus socket /nonexistent/sandbox-it-no-session-bus does not exist"
  db_start_bus
  out=$(sbx doctor 2>&1) || true
  line=$(printf '%s\n' "$out" | grep -E '^(ok|WARN|FAIL) +session-bus: ' || true)
  assert_contains "$line" "ok    session-bus: $(db_rt)/bus, filtered through /usr/bin/xdg-dbus-proxy"
}

test_open_uri_opens_the_link_in_the_hosts_default_browser() {
  db_start_bus
  db_start_portals
  # The user's default browser on the host: a .desktop entry whose program logs the URL it got.
  local home; home=$(it_home)
  printf '#!/bin/sh\necho "opened $*" >>"%s"\n' "$IT_LOGS/browser.log" >"$IT_STATE/itbrowser.sh"
  chmod 755 "$IT_STATE/itbrowser.sh"
  rm -f "$IT_LOGS/browser.log"
  it_as_user mkdir -p "$home/.local/share/applications" "$home/.config"
  it_as_user sh -c "printf '[Desktop Entry]\nType=Application\nName=IT Browser\nExec=$IT_STATE/itbrowser.sh %%u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n' >'$home/.local/share/applications/itbrowser.desktop'"
  it_as_user sh -c "printf '[Default Applications]\nx-scheme-handler/https=itbrowser.desktop\nx-scheme-handler/http=itbrowser.desktop\n' >'$home/.config/mimeapps.list'"
  db_profile links <<'EOF2'
[dbus]
mode = "filtered"
talk = ["org.freedesktop.portal.*"]
EOF2
  sbx run links -- gdbus call --session --dest org.freedesktop.portal.Desktop --object-path /org/freedesktop/portal/desktop \
    --method org.freedesktop.portal.OpenURI.OpenURI "" "https://example.invalid/from-the-sandbox" "{}" >/dev/null
  local i
  for i in $(seq 1 50); do [ -s "$IT_LOGS/browser.log" ] && break; sleep 0.1; done
  assert_contains "$(cat "$IT_LOGS/browser.log" 2>/dev/null)" "opened https://example.invalid/from-the-sandbox"
  it_as_user rm -f "$home/.local/share/applications/itbrowser.desktop" "$home/.config/mimeapps.list"
}

test_log_dbus_on_a_running_container_says_it_applies_at_the_next_start() {
  db_start_bus
  db_profile quiet <<'EOF2'
[dbus]
mode = "filtered"
EOF2
  it_as_user "$IT_PREFIX/bin/sandbox" run quiet -- sleep 20 >/dev/null 2>&1 &
  local i
  for i in $(seq 1 50); do [ -e "$(db_rt)/sandbox/quiet/state" ] && break; sleep 0.1; done
  local out
  out=$(sbx run --log-dbus quiet -- true 2>&1)
  assert_contains "$out" "sandbox: notice: --log-dbus: quiet runs already without it; it applies when the container starts"
  sbx stop quiet >/dev/null
  wait || true
  it_profile nobus2 <<'EOF2'
command = ["true"]
EOF2
  out=$(sbx run --log-dbus nobus2 2>&1)
  assert_contains "$out" "--log-dbus: nobus2 has no bus proxy"
}

test_the_gui_fragment_grants_notifications_tray_and_its_own_mpris_name() {
  db_start_bus
  db_service notifications
  it_profile guiapp <<'EOF2'
include = ["gui"]
command = ["sh", "-c", "exec \"$@\"", "sh"]
[home]
mode = "tmpfs"
EOF2
  local out
  out=$(sbx run guiapp -- sh -c '
    notify-send "from a gui app"; echo notify=$?
    own() { gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
              --method org.freedesktop.DBus.RequestName "$1" 4 2>&1 | tr -d "\n"; echo; }
    echo "mpris: $(own org.mpris.MediaPlayer2.guiapp.instance_1_2)"
    echo "tray: $(own org.kde.StatusNotifierItem-2-1)"
    echo "other-mpris: $(own org.mpris.MediaPlayer2.firefox)"
    echo "other-name: $(own org.freedesktop.Notifications)"' 2>&1)
  assert_contains "$out" "notify=0"
  assert_contains "$(cat "$IT_LOGS/notifications.log")" "from a gui app"
  assert_contains "$out" "mpris: (uint32 1,)"
  assert_contains "$out" "tray: (uint32 1,)"
  # Another app's name: refused (a name the app may not even see answers as if there were no bus service).
  assert_contains "$(echo "$out" | grep other-mpris)" "Error: GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown"
  assert_contains "$(echo "$out" | grep other-name)" "AccessDenied"
}

# Item 3: files a launcher passes (%U) or the command line names, outside the
# container's view, handed over through the document store and rewritten.
# The app prints each argument, reads it, and tries to append to it.
fh_profile() {  # fh_profile NAME [TOML]
  it_profile "$1" <<EOF2
command = ["python3", "-c", "import sys, urllib.parse\nfor a in sys.argv[1:]:\n    p = urllib.parse.unquote(a[7:]) if a.startswith('file://') else a\n    print('arg=' + repr(a))\n    try:\n        print('read=' + open(p).read().strip())\n    except OSError as e:\n        print('readerr=%d' % e.errno)\n    try:\n        open(p, 'a').write('written inside\\\\n'); print('write=ok')\n    except OSError as e:\n        print('writeerr=%d' % e.errno)\n"]
[home]
mode = "tmpfs"
[dbus]
mode = "filtered"
talk = ["org.freedesktop.portal.*"]
[desktop]
mime_types = ["text/plain"]
${2:-}
EOF2
}

fh_files() {  # files outside every bind, some with hostile names; prints the directory
  local d; d=$(it_home)/fh-outside
  rm -rf "$d"; it_as_user mkdir -p "$d/dir" "$(it_home)/fh-private"
  it_as_user sh -c "echo plain >'$d/plain.txt'; echo hostile >'$d/-rf \"q\" 100% \$(x)'; echo secret >'$(it_home)/fh-private/secret.txt'
                    echo indir >'$d/dir/in.txt'; ln -s '$(it_home)/fh-private/secret.txt' '$d/dir/link-to-secret'"
  echo "$d"
}

test_a_launchers_file_outside_the_binds_is_handed_over_read_only() {
  db_start_bus
  db_start_portals
  fh_profile fhro
  local d; d=$(fh_files)
  trap 'sbx stop fhro >/dev/null 2>&1 || true; sbx stop fhdir >/dev/null 2>&1 || true; sbx desktop remove fhro >/dev/null 2>&1 || true; [ "$BASHPID" = "$DB_OWNER" ] && db_stop_bus' EXIT
  # The generated launcher, started by gtk-launch with a file in /tmp (the
  # container has its own /tmp), as a file manager's "Open with" does.
  sbx desktop install fhro >/dev/null
  local page; page=$(it_as_user mktemp /tmp/fh-page.XXXXXX)
  it_as_user sh -c "echo plain >'$page'"
  local out; out=$(it_as_user gtk-launch sandbox-fhro "$page" 2>&1)
  rm -f "$page"
  echo "$out"
  # (GLib passes a local file as a path, also for %U.)
  assert_contains "$out" "arg='$(db_rt)/doc/"
  assert_contains "$out" "/$(basename "$page")'"
  assert_contains "$out" "read=plain"
  assert_contains "$out" "writeerr="          # read-only by default
  # Read-only: the host file is unchanged.
  out=$(sbx run fhro -- "file://$d/plain.txt" 2>&1)
  assert_contains "$out" "arg='file://$(db_rt)/doc/"
  assert_contains "$out" "read=plain"
  assert_contains "$out" "writeerr="
  assert_eq "$(cat "$d/plain.txt")" "plain" "the host file after a read-only hand-over"
  # Hostile names: an absolute document path, never an option; as URL and as path.
  out=$(sbx run fhro -- "$d/-rf \"q\" 100% \$(x)" "file://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$d/-rf \"q\" 100% \$(x)")" 2>&1)
  echo "$out"
  [ "$(echo "$out" | grep -c 'read=hostile')" -eq 2 ] || fail "the hostile name was not handed over both ways: $out"
  assert_contains "$out" "arg='$(db_rt)/doc/"
  # A directory handed over: its files are readable; a link inside to a private
  # file the user did not pass leads nowhere (the target is not in the container).
  it_profile fhdir <<EOF2
command = ["sh", "-c", "echo \"dir=\$1\"; cat \"\$1/in.txt\"; cat \"\$1/link-to-secret\"; echo linkrc=\$?; cat $(it_home)/fh-private/secret.txt; echo privrc=\$?", "sh"]
[home]
mode = "tmpfs"
[dbus]
mode = "filtered"
talk = ["org.freedesktop.portal.*"]
EOF2
  out=$(sbx run fhdir -- "$d/dir" 2>&1)
  echo "$out"
  assert_contains "$out" "dir=$(db_rt)/doc/"
  assert_contains "$out" "indir"
  assert_contains "$out" "linkrc=1"
  assert_contains "$out" "privrc=1"
  ! echo "$out" | grep -qx secret || fail "the private file was read through the link: $out"
  # Arguments that are no host file stay as written; a file the container sees keeps its path.
  out=$(sbx run fhro -- --not-a-file "https://example.org/x" "$d/no-such-file" 2>&1)
  assert_contains "$out" "arg='--not-a-file'"
  assert_contains "$out" "arg='https://example.org/x'"
  assert_contains "$out" "arg='$d/no-such-file'"
  out=$(sbx run fhro -- /usr/share/common-licenses/GPL-3 2>&1)
  assert_contains "$out" "arg='/usr/share/common-licenses/GPL-3'"
}

test_hand_over_writable_when_allowed_on_a_join_and_off_when_none() {
  db_start_bus
  # The document portal is not running yet (as on a fresh login): the start activates it.
  db_fuse
  ! it_as_user test -d "$(db_rt)/doc/by-app" || fail "the document store is already mounted"
  local d; d=$(fh_files)
  fh_profile fhrw '[files]
hand_over = "read-write"'
  fh_profile fhnone '[files]
hand_over = "none"'
  trap 'sbx stop fhrw >/dev/null 2>&1 || true; [ "$BASHPID" = "$DB_OWNER" ] && db_stop_bus' EXIT
  # Joining a running container hands the file over too (the recorded plan says how).
  sbx start fhrw >/dev/null || fail "start failed"
  assert_contains "$(sbx list)" "fhrw"
  local out; out=$(sbx run fhrw -- "$d/plain.txt" 2>&1)
  echo "$out"
  assert_contains "$out" "arg='$(db_rt)/doc/"
  assert_contains "$out" "write=ok"
  assert_eq "$(cat "$d/plain.txt")" "plain
written inside" "the host file after a writable hand-over"
  # A relative path from the command line, resolved against the caller's directory.
  out=$(cd "$d" && sbx run fhrw -- plain.txt 2>&1)
  assert_contains "$out" "arg='$(db_rt)/doc/"
  assert_contains "$out" "read=plain"
  # hand_over = "none": the argument stays as written, and the user is told why.
  out=$(sbx run fhnone -- "$d/plain.txt" 2>&1)
  echo "$out"
  assert_contains "$out" "arg='$d/plain.txt'"
  assert_contains "$out" "readerr=2"
  assert_contains "$out" "sandbox: notice: $d/plain.txt is outside what fhnone sees, and [files] hand_over = \"none\""
}

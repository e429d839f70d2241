# Shared set-up and helpers for the integration tests. Sourced by run.sh (as
# root) and by every *.test.sh. Nothing here mocks the kernel, X or PulseAudio:
# it starts the real ones, as the test user.

IT_USER=${IT_USER:-sbtest}          # the ordinary user who runs the sandbox
IT_OTHER=${IT_OTHER:-sbother}       # a second user, for cross-user abuse tests
IT_USER_SUBID=${IT_USER_SUBID:-400000}    # subuid/subgid bases given when useradd gave none
IT_OTHER_SUBID=${IT_OTHER_SUBID:-500000}
IT_STATE=${IT_STATE:-/tmp/sandbox-it}
IT_PREFIX=$IT_STATE/prefix           # `make install PREFIX=` target, readable by the test user
IT_LOGS=$IT_STATE/logs
IT_DISPLAY_NUM=${IT_DISPLAY_NUM:-77}
# No session bus for anything the tests start. Without DBUS_SESSION_BUS_ADDRESS a
# libdbus program autolaunches a bus on the X display when dbus-x11 is installed
# (as on every Debian desktop): the harness's PulseAudio and a second one a test
# starts then share that bus, and the second exits with "D-Bus name
# org.PulseAudio1 already taken". An address that cannot be reached stops the
# autolaunch and leaves each server bus-less, as on a machine without dbus-x11.
# A test that wants a bus of its own passes one in IT_EXTRA_ENV.
IT_NO_SESSION_BUS=unix:path=/nonexistent/sandbox-it-no-session-bus
export IT_USER IT_OTHER IT_STATE IT_PREFIX IT_LOGS

it_uid() { id -u "${1:-$IT_USER}"; }
it_home() { getent passwd "${1:-$IT_USER}" | cut -d: -f6; }
it_runtime() { echo "/run/user/$(it_uid "${1:-$IT_USER}")"; }

# Creates USER with a home and a 65536-id subuid/subgid range (idempotent).
it_make_user() {
  local u=$1 base=$2
  id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$u" || return 1
  # useradd may have given a range already; make sure exactly one is present.
  grep -q "^$u:" /etc/subuid 2>/dev/null || echo "$u:$base:65536" >>/etc/subuid
  grep -q "^$u:" /etc/subgid 2>/dev/null || echo "$u:$base:65536" >>/etc/subgid
  local rt; rt=$(it_runtime "$u")
  mkdir -p "$rt" && chown "$u:" "$rt" && chmod 700 "$rt"
  # Every run starts from a clean sandbox state: an earlier run's attack test that
  # succeeded against an older build (a renamed ~/.config, a planted config.toml)
  # must not poison this one.
  local home; home=$(getent passwd "$u" | cut -d: -f6)
  pkill -KILL -u "$u" 2>/dev/null || true
  rm -rf "$home/.config/sandbox" "$home/.config-moved" "$home/.local-moved" "$rt/sandbox"
  if [ -d "$home/.local/share/sandbox" ]; then
    # Image trees hold files of subordinate ids: remove them as root.
    rm -rf "$home/.local/share/sandbox"
  fi
}

it_setup() {
  mkdir -p "$IT_STATE" "$IT_LOGS" && chmod 755 "$IT_STATE"
  # Xvfb and pulseaudio run as the test user and log here.
  chmod 1777 "$IT_LOGS"
  it_make_user "$IT_USER" "$IT_USER_SUBID" || return 1
  it_make_user "$IT_OTHER" "$IT_OTHER_SUBID" || return 1
  # Install the release build where the test users can read it.
  rm -rf "$IT_PREFIX"
  make -C "$IT_ROOT" --no-print-directory install PREFIX="$IT_PREFIX" >"$IT_LOGS/install.log" 2>&1 \
    || { cat "$IT_LOGS/install.log"; return 1; }
  chmod -R a+rX "$IT_PREFIX"
  it_start_x || return 1
  it_start_pulse || return 1
  return 0
}

it_teardown() {
  it_stop_pulse
  it_stop_x
  # Containers a failed test left behind must not outlive the run.
  pkill -KILL -u "$IT_USER" 2>/dev/null || true
  pkill -KILL -u "$IT_OTHER" 2>/dev/null || true
}

# A real Xvfb on :$IT_DISPLAY_NUM owned by the test user, with a cookie in the user's ~/.Xauthority.
it_start_x() {
  local home; home=$(it_home)
  it_stop_x
  local cookie; cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  runuser -u "$IT_USER" -- sh -c "rm -f '$home/.Xauthority'; xauth -f '$home/.Xauthority' add :$IT_DISPLAY_NUM MIT-MAGIC-COOKIE-1 $cookie" || return 1
  runuser -u "$IT_USER" -- sh -c "exec Xvfb :$IT_DISPLAY_NUM -screen 0 1024x768x24 -auth '$home/.Xauthority' -nolisten tcp >'$IT_LOGS/Xvfb.log' 2>&1 &"
  local i
  for i in $(seq 1 100); do
    [ -S /tmp/.X11-unix/X$IT_DISPLAY_NUM ] && it_as_user xdpyinfo >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "Xvfb did not come up:"; cat "$IT_LOGS/Xvfb.log"; return 1
}

it_stop_x() {
  pkill -f "Xvfb :$IT_DISPLAY_NUM( |$)" 2>/dev/null || true
  rm -f "/tmp/.X11-unix/X$IT_DISPLAY_NUM" "/tmp/.X$IT_DISPLAY_NUM-lock"
}

# A real PulseAudio as the test user, with a null sink so recordings can be checked.
it_start_pulse() {
  it_stop_pulse
  it_as_user sh -c "exec pulseaudio --daemonize=no --exit-idle-time=-1 --disallow-exit=yes -n \
      --load=module-native-protocol-unix --load='module-null-sink sink_name=itnull' \
      --load=module-always-sink >'$IT_LOGS/pulseaudio.log' 2>&1 &"
  local i
  for i in $(seq 1 100); do
    it_as_user pactl info >/dev/null 2>&1 && it_as_user pactl set-default-sink itnull >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "pulseaudio did not come up:"; cat "$IT_LOGS/pulseaudio.log"; return 1
}

it_stop_pulse() {
  pkill -u "$IT_USER" -x pulseaudio 2>/dev/null || true
  local i; for i in $(seq 1 30); do pgrep -u "$IT_USER" -x pulseaudio >/dev/null || break; sleep 0.1; done
}

# Runs a command as the test user with a desktop session's environment.
# Override or add variables with it_as_user_env VAR=VALUE... -- CMD...
it_as_user() { it_as "$IT_USER" "$@"; }
it_as() {
  local u=$1; shift
  local home; home=$(it_home "$u")
  runuser -u "$u" -- env -i \
    HOME="$home" USER="$u" LOGNAME="$u" SHELL=/bin/bash LANG=C.UTF-8 \
    PATH="$IT_PREFIX/bin:/usr/local/bin:/usr/bin:/bin" \
    XDG_RUNTIME_DIR="$(it_runtime "$u")" \
    DISPLAY=":$IT_DISPLAY_NUM" XAUTHORITY="$home/.Xauthority" \
    DBUS_SESSION_BUS_ADDRESS="$IT_NO_SESSION_BUS" \
    ${IT_EXTRA_ENV:-} "$@"
}

# sandbox as the test user.
sbx() { it_as_user "$IT_PREFIX/bin/sandbox" "$@"; }

# Whether PID runs (a zombie nobody reaps yet does not).
it_alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }

# The test user's session bus, as a desktop has one: a dbus-daemon at
# $XDG_RUNTIME_DIR/bus, where systemd's user bus would be. VAR=VALUE arguments
# are the daemon's environment, so the services it activates see them (a
# desktop's XDG_CURRENT_DESKTOP). Commands run with it_as_user get its address;
# its log is $IT_LOGS/dbus-daemon.log. Says why and returns 1 when it does not
# come up.
it_start_session_bus() {
  local rt; rt=$(it_runtime)
  it_stop_session_bus
  rm -f "$rt/bus"
  it_as_user env "$@" sh -c \
    "dbus-daemon --session --address=unix:path=$rt/bus --nofork --nopidfile --print-pid=1 >'$IT_LOGS/dbus.pid' 2>'$IT_LOGS/dbus-daemon.log' &"
  local i
  for i in $(seq 1 50); do [ -S "$rt/bus" ] && [ -s "$IT_LOGS/dbus.pid" ] && break; sleep 0.1; done
  [ -S "$rt/bus" ] || { echo "the test user's session bus did not come up: $(cat "$IT_LOGS/dbus-daemon.log")" >&2; return 1; }
  export IT_EXTRA_ENV="DBUS_SESSION_BUS_ADDRESS=unix:path=$rt/bus"
}

# Ends the bus and what it activated for the test user (the portals, the
# accessibility bus a GTK program starts), so nothing outlives the test for the
# next ones. Never fails: it runs in EXIT traps.
it_stop_session_bus() {
  local rt pid i; rt=$(it_runtime)
  for pid in $(cat "$IT_LOGS/dbus.pid" 2>/dev/null); do
    kill "$pid" 2>/dev/null || continue
    # A dying dbus-daemon unlinks its socket path: let it, before a new one binds there.
    for i in $(seq 1 40); do it_alive "$pid" || break; sleep 0.05; done
  done
  rm -f "$IT_LOGS/dbus.pid"
  # Its services are the test user's; an earlier run's bus may have lost its pid file.
  local activated="^dbus-daemon --session --address=unix:path=$rt/bus |^/usr/libexec/(xdg-(desktop|document|permission)-portal|at-spi)|dbus-daemon --config-file=/usr/share/defaults/at-spi2/"
  pkill -u "$IT_USER" -f "$activated" 2>/dev/null || true
  for i in $(seq 1 30); do pgrep -u "$IT_USER" -f "$activated" >/dev/null || break; sleep 0.1; done
  if mountpoint -q "$rt/doc" 2>/dev/null; then umount -l "$rt/doc" 2>/dev/null || true; fi
  return 0
}

# Writes a user profile for the test user: it_profile NAME <<'EOF' … EOF
it_profile() {
  local home; home=$(it_home)
  local dir="$home/.config/sandbox/profiles"
  runuser -u "$IT_USER" -- mkdir -p "$dir"
  runuser -u "$IT_USER" -- tee "$dir/$1.toml" >/dev/null
}

# Installs /etc/sandbox/usernet from stdin, root-owned 0644 as sandbox-net
# requires. Callers save and restore the machine's own file.
it_usernet() {
  cat >/etc/sandbox/usernet
  chown root:root /etc/sandbox/usernet
  chmod 0644 /etc/sandbox/usernet
}

# Assertions: print what differed and fail.
fail() { echo "FAIL: $*" >&2; return 1; }

# it_wait_until TIMEOUT_MS DESCRIPTION CMD...: runs CMD every 0.1 s until it
# succeeds; after TIMEOUT_MS fails with "timed out after N ms waiting for
# DESCRIPTION". Waits for a condition instead of sleeping a guessed time.
it_wait_until() {
  local timeout_ms=$1 what=$2; shift 2
  local deadline=$(( $(date +%s%N) / 1000000 + timeout_ms ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ] || break
    sleep 0.1
  done
  fail "timed out after $timeout_ms ms waiting for $what"
}
assert_eq() { [ "$1" == "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain [$2]: [$1]";; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "${3:-output} contains [$2]: [$1]";; esac; }

# The argv a generated launcher runs (a click on it), per the Desktop Entry spec's Exec rules, with %U expanded to $2.
it_launcher_argv() {
  python3 - "$1" "$2" <<'PY'
import sys
path, url = sys.argv[1], sys.argv[2]
exec_value = None
group = None
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("["):
        group = line
    elif group == "[Desktop Entry]" and line.startswith("Exec="):
        exec_value = line[5:]
# String-value unescaping first, then the Exec quoting rules.
s, i, out = exec_value, 0, ""
while i < len(s):
    if s[i] == "\\" and i + 1 < len(s):
        out += {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(s[i + 1], "\\" + s[i + 1]); i += 2
    else:
        out += s[i]; i += 1
args, cur, quoted, i, have = [], "", False, 0, False
while i < len(out):
    c = out[i]
    if quoted:
        if c == "\\" and i + 1 < len(out) and out[i + 1] in '"`$\\':
            cur += out[i + 1]; i += 2; continue
        if c == '"':
            quoted = False
        else:
            cur += c
    elif c == '"':
        quoted, have = True, True
    elif c == " ":
        if cur or have: args.append(cur)
        cur, have = "", False
    else:
        cur += c
    i += 1
if cur or have: args.append(cur)
final = []
for a in args:
    if a == "%U":
        final.append(url)
    else:
        final.append(a.replace("%%", "%"))
print("\n".join(final))
PY
}

# `sandbox create`'s set-up directories of the test user in /tmp, one per line.
# (A run killed mid-create leaves its own behind: tests compare before and after.)
it_create_setup_dirs() { find /tmp -maxdepth 1 -name 'sandbox-create.*' -user "$IT_USER" | sort; }

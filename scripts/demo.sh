#!/usr/bin/env bash
# make demo: the shipped `demo` profile end to end, through the CLI only —
#   sandbox run demo                  (xeyes in its own container, X11 + sound)
#   sandbox exec demo -- paplay …     (a sound played inside the same container)
#   a screenshot of the display       (xwd | convert → PNG, path printed)
#   sandbox stop demo
# It installs nothing (the Makefile does). It uses your display and sound server
# when there are ones, and otherwise starts a private Xvfb (and a PulseAudio with a
# null sink, whose monitor is recorded to show the sound really arrived).
# Run as root (a fresh machine's `make demo`), it runs the app as the ordinary user
# `sandbox-demo`, created with a subordinate id range if missing: the product is for
# ordinary users, and root needs no sandbox helper.
#
# Environment: PREFIX (where sandbox is installed, default /usr/local),
# DEMO_SCREENSHOT (default /tmp/sandbox-demo.png), DEMO_SECONDS (default 3).
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
SANDBOX="$PREFIX/bin/sandbox"
SCREENSHOT=${DEMO_SCREENSHOT:-/tmp/sandbox-demo.png}
SECONDS_SHOWN=${DEMO_SECONDS:-3}
DEMO_USER=sandbox-demo

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

[ -x "$SANDBOX" ] || die "$SANDBOX not found; run 'make demo' (or 'make install PREFIX=…' and set PREFIX)"
for tool in xwd convert xdotool paplay pactl; do
  command -v "$tool" >/dev/null || die "$tool is missing; 'make demo' installs it (scripts/install-deps.sh --test)"
done

WORK=$(mktemp -d /tmp/sandbox-demo.XXXXXX)
chmod 755 "$WORK"
started_pids=()
run_pid=""

# ---------------------------------------------------------------- who runs it

if [ "$(id -u)" -eq 0 ]; then
  # An ordinary user with a subordinate id range that overlaps nobody's.
  if ! id "$DEMO_USER" >/dev/null 2>&1; then
    say "creating user $DEMO_USER"
    useradd --create-home --shell /bin/bash "$DEMO_USER"
  fi
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if ! grep -q "^$DEMO_USER:" "$f"; then
      start=$(awk -F: 'BEGIN {m = 100000} { e = $2 + $3; if (e > m) m = e } END { print m }' "$f")
      echo "$DEMO_USER:$start:65536" >>"$f"
    fi
  done
  RUN_UID=$(id -u "$DEMO_USER")
  RUN_HOME=$(getent passwd "$DEMO_USER" | cut -d: -f6)
  RUN_RUNTIME=/run/user/$RUN_UID
  mkdir -p "$RUN_RUNTIME" && chown "$DEMO_USER:" "$RUN_RUNTIME" && chmod 700 "$RUN_RUNTIME"
  chown "$DEMO_USER:" "$WORK"
  # The display and sound server below belong to the demo user, not to root's session.
  unset DISPLAY XAUTHORITY PULSE_SERVER
  as_user() {
    runuser -u "$DEMO_USER" -- env -i HOME="$RUN_HOME" USER="$DEMO_USER" LOGNAME="$DEMO_USER" SHELL=/bin/bash \
      LANG="${LANG:-C.UTF-8}" PATH="$PREFIX/bin:/usr/local/bin:/usr/bin:/bin" XDG_RUNTIME_DIR="$RUN_RUNTIME" \
      ${DISPLAY:+DISPLAY=$DISPLAY} ${XAUTHORITY:+XAUTHORITY=$XAUTHORITY} "$@"
  }
else
  RUN_UID=$(id -u)
  RUN_RUNTIME=${XDG_RUNTIME_DIR:-}
  [ -n "$RUN_RUNTIME" ] || die "XDG_RUNTIME_DIR is not set; log in through a desktop session (or run as root)"
  as_user() { env "$@"; }
fi

# Starts a service as the user in the background and remembers its own pid (not
# runuser's, which would not pass a SIGTERM on), so clean-up stops exactly it.
start_bg() {
  local log=$WORK/$1.log; shift
  as_user sh -c 'echo $$ >"$0"; exec "$@"' "$WORK/pid" "$@" >"$log" 2>&1 &
  for _ in $(seq 1 50); do [ -s "$WORK/pid" ] && break; sleep 0.05; done
  started_pids+=("$(cat "$WORK/pid")")
  rm -f "$WORK/pid"
}

cleanup() {
  local rc=$?
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    as_user "$SANDBOX" stop demo >/dev/null 2>&1 || true
    wait "$run_pid" 2>/dev/null || true
  fi
  for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- display

own_display=false
if [ -n "${DISPLAY:-}" ] && as_user xdpyinfo >/dev/null 2>&1; then
  say "using your display $DISPLAY"
else
  command -v Xvfb >/dev/null || die "no usable display and no Xvfb to start one"
  n=90
  while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
  export DISPLAY=":$n" XAUTHORITY="$WORK/Xauthority"
  as_user xauth -f "$XAUTHORITY" add "$DISPLAY" MIT-MAGIC-COOKIE-1 "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"  2>/dev/null
  # -noreset: the server must outlive the moments when no client is connected.
  start_bg Xvfb Xvfb "$DISPLAY" -screen 0 800x600x24 -auth "$XAUTHORITY" -nolisten tcp -noreset
  for _ in $(seq 1 100); do as_user xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
  as_user xdpyinfo >/dev/null 2>&1 || { cat "$WORK/Xvfb.log" >&2; die "Xvfb $DISPLAY did not start"; }
  own_display=true
  say "started Xvfb on $DISPLAY"
fi

# ---------------------------------------------------------------- sound

monitor=""
if as_user pactl info >/dev/null 2>&1; then
  say "using your sound server ($(as_user pactl info | sed -n 's/^Server Name: //p'))"
  sink=$(as_user pactl get-default-sink 2>/dev/null || true)
  [ -n "$sink" ] && monitor="$sink.monitor"
elif command -v pulseaudio >/dev/null; then
  start_bg pulseaudio pulseaudio --daemonize=no --exit-idle-time=-1 --disallow-exit=yes -n \
    --load=module-native-protocol-unix --load="module-null-sink sink_name=sandboxdemo" \
    --load=module-always-sink
  for _ in $(seq 1 100); do as_user pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  as_user pactl info >/dev/null 2>&1 || { cat "$WORK/pulseaudio.log" >&2; die "PulseAudio did not start"; }
  as_user pactl set-default-sink sandboxdemo
  monitor=sandboxdemo.monitor
  say "started PulseAudio with a null sink (no sound card needed)"
else
  say "no sound server and no pulseaudio to start: the demo runs silent"
fi

# ---------------------------------------------------------------- the app

say "sandbox run demo"
as_user "$SANDBOX" run demo -- -geometry 300x200+250+200 >"$WORK/run.log" 2>&1 &
run_pid=$!

wid=""
for _ in $(seq 1 100); do
  wid=$(as_user xdotool search --class xeyes 2>/dev/null | head -n1 || true)
  [ -n "$wid" ] && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$wid" ]; then
  cat "$WORK/run.log" >&2
  die "the sandboxed app did not open a window"
fi
say "the app's window $wid is on $DISPLAY"
sed 's/^/  sandbox: /' "$WORK/run.log"

# A sound played inside the same container, recorded on the host side: the
# recorder must be running before the sound starts, and stops after it ends.
if [ -n "$monitor" ]; then
  start_bg parec parec -d "$monitor" --latency-msec=50 --format=s16le --rate=44100 --channels=2 --file-format=raw "$WORK/heard.raw"
  rec_pid=${started_pids[-1]}
  for _ in $(seq 1 50); do
    [ -n "$(as_user pactl list short source-outputs 2>/dev/null)" ] && break
    sleep 0.1
  done
  if [ -r /usr/share/sounds/alsa/Front_Center.wav ]; then
    say "sandbox exec demo -- paplay /usr/share/sounds/alsa/Front_Center.wav"
    as_user "$SANDBOX" exec demo -- paplay /usr/share/sounds/alsa/Front_Center.wav
  else
    say "sandbox exec demo -- sh -c 'sox -n -t wav - synth 1.5 sine 440 | paplay'"
    as_user "$SANDBOX" exec demo -- sh -c 'sox -q -n -r 44100 -c 2 -b 16 -t wav - synth 1.5 sine 440 gain -6 2>/dev/null | paplay'
  fi
  sleep 1   # what is still in flight reaches the monitor
  kill "$rec_pid" 2>/dev/null || true
  sleep 0.2
  rms=$(sox -t raw -r 44100 -e signed -b 16 -c 2 "$WORK/heard.raw" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
  if awk -v r="${rms:-0}" 'BEGIN { exit !(r > 0.01) }'; then
    say "heard it: RMS amplitude ${rms} on $monitor"
  else
    die "the sound played inside did not reach $monitor (RMS ${rms:-none})"
  fi
fi

sleep "$SECONDS_SHOWN"

# The screenshot: the whole private screen, or only the app's window on yours.
if $own_display; then target=(-root); else target=(-id "$wid"); fi
as_user xwd -silent "${target[@]}" >"$WORK/shot.xwd"
convert "xwd:$WORK/shot.xwd" "png:$SCREENSHOT"
chmod 644 "$SCREENSHOT"
say "screenshot: $SCREENSHOT"

say "sandbox stop demo"
as_user "$SANDBOX" stop demo
wait "$run_pid" 2>/dev/null || true
run_pid=""
# Nothing was loaded into the sound server (the sound mediator lives in the
# container's supervisor): no module of ours may be there, and the mediator is gone.
if as_user pactl list short modules 2>/dev/null | grep -q "sandbox/demo/pulse/native"; then
  die "a module of the container is loaded in the sound server"
fi
pgrep -u "$RUN_UID" -f "sandbox-(supervisor|monitor) demo$" >/dev/null && die "the container's supervisor is still running after stop"
say "done: the container and its supervisor (with the sound mediator) are stopped"

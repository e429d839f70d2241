#!/usr/bin/env bash
# make bench: launch latency, join latency, teardown and supervisor memory of
# `sandbox`, side by side with bwrap, firejail and unshare in the same run, on
# the same machine, as the same ordinary user. Medians from hyperfine.
# Must start as root (it creates the test user, installs the release build into
# a temporary PREFIX that user can read, and starts Xvfb/PulseAudio as that user).
#
#   make bench [IT_USER=sbbench IT_STATE=/tmp/sandbox-bench IT_DISPLAY_NUM=78] [RUNS=30]
#   BASELINE=/path/to/older/sandbox scripts/bench.sh   # also time another build, same run
#
# Results: a Markdown table on stdout and in out/bench.md. Timings are measured
# here only, never asserted in tests (the machine is shared; numbers are noisy).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export IT_ROOT=$ROOT IT_STATE=${IT_STATE:-/tmp/sandbox-bench} IT_DISPLAY_NUM=${IT_DISPLAY_NUM:-78}
. "$ROOT/Tests/Integration/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: run as root (it creates/uses the test user)"; exit 1; }
RUNS=${RUNS:-30}
BASELINE=${BASELINE:-}
mkdir -p "$ROOT/out" "$IT_STATE" "$IT_LOGS"
chmod 755 "$IT_STATE"; chmod 1777 "$IT_LOGS"
it_make_user "$IT_USER" 400000
# As on a desktop, where systemd-logind mounts a tmpfs at /run/user/UID: sandbox
# keeps its state, plan, sockets and locks there. (This machine's /run is on the
# root disk, where writing and unlinking them costs milliseconds a desktop never pays.)
RUNTIME_TMPFS=
if ! mountpoint -q "$(it_runtime)"; then
  mount -t tmpfs -o "mode=0700,uid=$(it_uid),gid=$(id -g "$IT_USER"),size=64m" tmpfs "$(it_runtime)"
  RUNTIME_TMPFS=$(it_runtime)
fi
rm -rf "$IT_PREFIX"
if [ "${BENCH_SKIP_INSTALL:-}" != 1 ]; then
  make -C "$ROOT" --no-print-directory install PREFIX="$IT_PREFIX" >"$IT_LOGS/install.log" 2>&1 || { cat "$IT_LOGS/install.log"; exit 1; }
else  # the already built release binary (iterating on this script)
  install -D -m 0755 "$ROOT/.build/release/sandbox" "$IT_PREFIX/bin/sandbox"
  install -D -m 0755 "$ROOT/.build/release/sandbox-supervisor" "$IT_PREFIX/libexec/sandbox/sandbox-supervisor"
  install -D -m 0755 "$ROOT/.build/release/sandbox-monitor" "$IT_PREFIX/libexec/sandbox/sandbox-monitor"
  install -D -m 0755 "$ROOT/.build/release/sandbox-session" "$IT_PREFIX/libexec/sandbox/sandbox-session"
fi
if [ -n "$BASELINE" ]; then
  install -D -m 0755 "$BASELINE" "$IT_STATE/baseline/bin/sandbox"
  # Builds since the lean supervisor have a second binary; the launcher finds it beside itself.
  # Builds since the monitor have more, beside the supervisor.
  for b in sandbox-supervisor sandbox-monitor sandbox-session; do
    [ ! -x "$(dirname "$BASELINE")/$b" ] || install -D -m 0755 "$(dirname "$BASELINE")/$b" "$IT_STATE/baseline/bin/$b"
  done
  chmod -R a+rX "$IT_STATE/baseline"
fi
chmod -R a+rX "$IT_PREFIX"
# The desktop rows need the user's X server and sound server, as on a desktop.
it_start_x
it_start_pulse
# A desktop's X server always has clients (the window manager, a panel). An X
# server whose last client disconnects resets itself: Xvfb spent several ms of
# CPU on that after every start's connection, on the 2 cores the next start
# shares (bench-gui 19.8 ms without this client, as fast as `bench` with it).
# One client stays connected for the whole run, as in a session.
it_as_user sh -c "xprop -root -spy >/dev/null 2>&1 & echo \$! >'$IT_LOGS/bench-xclient.pid'"
# A session bus of the user's own for the bus proxy's row (the others have none: dbus.mode = "none").
rm -f "$(it_runtime)/bus"
it_as_user sh -c "exec dbus-daemon --session --address=unix:path=$(it_runtime)/bus --nofork --nopidfile --print-pid=1 >'$IT_LOGS/bench-dbus.pid' 2>'$IT_LOGS/bench-dbus.log' &"
for _ in $(seq 1 50); do [ -S "$(it_runtime)/bus" ] && break; sleep 0.1; done
BUS_ENV="DBUS_SESSION_BUS_ADDRESS=unix:path=$(it_runtime)/bus"
cleanup() {
  kill "$(cat "$IT_LOGS/bench-dbus.pid" 2>/dev/null)" 2>/dev/null || true
  kill "$(cat "$IT_LOGS/bench-xclient.pid" 2>/dev/null)" 2>/dev/null || true
  it_teardown >/dev/null 2>&1 || true
  [ -z "$RUNTIME_TMPFS" ] || umount -l "$RUNTIME_TMPFS" 2>/dev/null || true
}
trap cleanup EXIT

# A minimal profile: host rootfs, tmpfs home, no X/sound/network — the cost of the container itself.
it_profile bench <<'TOML'
description = "benchmark: the container alone"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
TOML
# The same with the desktop parts a GUI app gets: trusted X11 cookie, a private
# sound mediator socket (no devices: the machine has none, and they are binds).
it_profile bench-gui <<'TOML'
description = "benchmark: the container with X11 and PulseAudio set up"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
[x11]
mode = "trusted"
[pulse]
mode = "module"
TOML

# The sound mediator alone: pulse.mode = "module" is mediated (a per-container
# filtering proxy in the supervisor).
it_profile bench-sound <<'TOML'
description = "benchmark: the sound mediator"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
[pulse]
mode = "module"
TOML
# The session bus through the supervisor's xdg-dbus-proxy (the gui fragment's mode).
it_profile bench-dbus <<'TOML'
description = "benchmark: the container with the session bus proxy"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
[dbus]
mode = "filtered"
talk = ["org.freedesktop.Notifications", "org.freedesktop.portal.*"]
TOML
# X11 only, each mode: untrusted goes through the supervisor's X11 proxy.
for mode in trusted untrusted; do
  it_profile "bench-x11-$mode" <<TOML
description = "benchmark: X11 $mode only"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
[x11]
mode = "$mode"
TOML
done

json=$IT_STATE/json; rm -rf "$json"; mkdir -p "$json"; chmod 777 "$json"
gone() { echo "sh -c 'while [ -e $(it_runtime)/sandbox/$1 ]; do sleep 0.002; done'"; }
hf() { # name, description, hyperfine args...
  local name=$1 what=$2; shift 2
  if ! it_as_user hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$json/$name.json" "$@" >/dev/null 2>"$IT_LOGS/$name.err"; then
    echo "| $what | failed: $(tail -1 "$IT_LOGS/$name.err") | | |"; return 0
  fi
  python3 - "$json/$name.json" "$what" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"| {sys.argv[2]} | {r['median']*1000:.1f} ms | {r['min']*1000:.1f} ms | {r['max']*1000:.1f} ms |")
PY
}

# Memory of the bench container's supervisor, its init (the supervisor's child,
# running as the container's uid 0) and the launcher while one session (sleep)
# runs: RSS, and PSS (shared pages divided among the processes sharing them).
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
kb_of() { awk -v k="^$2:" '$0 ~ k {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
mb() { echo "$(($1 / 1024)).$(($1 % 1024 * 10 / 1024)) MB"; }
mem_of() {   # RSS / PSS of a process; nothing when it is gone
  [ -r "/proc/$1/status" ] || return 0
  echo "$(mb "$(rss_kb "$1")") / $(mb "$(kb_of "$1" Pss)")"
}
measure_rss() { # label, sandbox binary
  local label=$1 sbx=$2 sup init launcher total
  it_as_user sh -c "exec '$sbx' exec bench -- /bin/sleep 3 >/dev/null 2>&1 &"
  sleep 1
  # The supervisor: `sandbox-supervisor bench`, or the `sandbox-monitor bench` it
  # becomes when nothing is mediated (a `sandbox _supervise …/bench.toml` before both).
  sup=$(pgrep -u "$IT_USER" -f -- "(sandbox-(supervisor|monitor) bench\$|_supervise .*/bench.toml)" | head -1 || true)
  launcher=$(pgrep -u "$IT_USER" -f -- "$sbx exec bench" | head -1 || true)
  init=${sup:+$(pgrep -P "$sup" | head -1 || true)}
  # Every per-container host process of this minimal profile: supervisor + init (no helpers).
  total=$(( ${sup:+$(rss_kb "$sup")}+0 + ${init:+$(rss_kb "$init")}+0 ))
  echo "| $label | ${sup:+$(mem_of "$sup")} | ${init:+$(mem_of "$init")} | $(mb "$total") | ${launcher:+$(mem_of "$launcher")} |"
  sleep 2.5
}

# What one more container costs: five minimal containers at once, each one's
# supervisor + init. Their binaries' pages are shared through the page cache, so
# RSS counts them in every process; PSS divides them, and the private part (USS:
# Private_Clean + Private_Dirty) is what each container adds on its own.
measure_many() { # label, sandbox binary
  local label=$1 sbx=$2 n=5 i p q rss=0 pss=0 uss=0
  for i in $(seq 1 $n); do
    it_profile "bench-many-$i" < "$(it_home)/.config/sandbox/profiles/bench.toml"
    it_as_user "$sbx" start "bench-many-$i" >/dev/null
  done
  # Steady state: a supervisor with nothing to mediate becomes the monitor once
  # its container has run for half a second (Docs/architecture.md).
  sleep 1
  for p in $(pgrep -u "$IT_USER" -f -- "sandbox-(supervisor|monitor) bench-many-[0-9]\$"); do
    for q in "$p" $(pgrep -P "$p"); do
      rss=$((rss + $(rss_kb "$q"))); pss=$((pss + $(kb_of "$q" Pss)))
      uss=$((uss + $(kb_of "$q" Private_Clean) + $(kb_of "$q" Private_Dirty)))
    done
  done
  echo "| $label | $(mb $((rss / n))) | $(mb $((pss / n))) | $(mb $((uss / n))) |"
  for i in $(seq 1 $n); do it_as_user "$sbx" stop "bench-many-$i" >/dev/null 2>&1 || true; done
}

# A sandbox row, then (with BASELINE) the same row for the baseline build right
# after it, so both see the same load on a shared machine.
sbx_row() { # name, description, hyperfine args with $SBX spelled @SBX@
  local name=$1 what=$2 a args=(); shift 2
  for a in "$@"; do args+=("${a//@SBX@/$SBX}"); done
  hf "$name" "$what" "${args[@]}"
  [ -n "$BASELINE" ] || return 0
  args=(); for a in "$@"; do args+=("${a//@SBX@/$BASE}"); done
  hf "base-$name" "baseline: $what" "${args[@]}"
}

# CPU time (ms) a process has used, all its threads: the scheduler's
# nanosecond count (/proc/PID/task/*/schedstat), not the 10 ms ticks of stat.
cpu_ms() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.1f", ns / 1e6}'; }

# The sound mediator: the round trip of one protocol message direct and through
# the mediator (scripts/pulse-rtt.py: GET_SERVER_INFO, one at a time), and the
# CPU the supervisor (which runs the mediator) and the sound server use while
# paplay plays SOUND_SECONDS of 44.1 kHz stereo through the mediator, and
# while the same paplay plays direct.
SOUND_SECONDS=${SOUND_SECONDS:-20}
sound_rows() {
  local rtt direct mediated sup srv a b c d t0 t1 wav
  rtt=$(cat "$ROOT/scripts/pulse-rtt.py")
  direct=$(it_as_user env PULSE_SERVER="unix:$(it_runtime)/pulse/native" python3 -c "$rtt" 3000)
  it_as_user "$SBX" start bench-sound >/dev/null 2>&1
  mediated=$(it_as_user "$SBX" exec bench-sound -- python3 -c "$rtt" 3000)
  echo "| protocol round trip (GET_SERVER_INFO), median / p90 | ${direct//_us=/ = } | ${mediated//_us=/ = } |"
  wav=$IT_STATE/bench-tone.wav
  sox -q -n -r 44100 -c 2 -b 16 "$wav" synth "$SOUND_SECONDS" sine 440 gain -30; chmod a+r "$wav"
  it_as_user "$SBX" exec bench-sound -- sox -q -n -r 44100 -c 2 -b 16 /tmp/bench-tone.wav synth "$SOUND_SECONDS" sine 440 gain -30
  sup=$(pgrep -u "$IT_USER" -f -- "sandbox-supervisor bench-sound$" | head -1)
  srv=$(pgrep -u "$IT_USER" -x pulseaudio | head -1)
  local latency
  for latency in default 20; do
    local opt=""; [ "$latency" = default ] || opt="--latency-msec=$latency"
    a=$(cpu_ms "$sup"); c=$(cpu_ms "$srv"); t0=$(date +%s%N)
    it_as_user "$SBX" exec bench-sound -- paplay $opt /tmp/bench-tone.wav
    t1=$(date +%s%N); b=$(cpu_ms "$sup"); d=$(cpu_ms "$srv")
    local med_sup med_srv med_wall
    med_sup=$(awk -v x="$a" -v y="$b" 'BEGIN{printf "%.1f", y - x}'); med_srv=$(awk -v x="$c" -v y="$d" 'BEGIN{printf "%.1f", y - x}')
    med_wall=$(( (t1 - t0) / 1000000 ))
    c=$(cpu_ms "$srv"); t0=$(date +%s%N)
    it_as_user paplay $opt "$wav"
    t1=$(date +%s%N); d=$(cpu_ms "$srv")
    echo "| paplay ${opt:-(default buffer, 2 s)} of ${SOUND_SECONDS} s: wall time | $(( (t1 - t0) / 1000000 )) ms | ${med_wall} ms |"
    echo "| … CPU of the sound server (pulseaudio) | $(awk -v x="$c" -v y="$d" 'BEGIN{printf "%.1f", y - x}') ms | ${med_srv} ms |"
    echo "| … CPU of the supervisor (the mediator) | — | ${med_sup} ms ($(awk -v m="$med_sup" -v s="$SOUND_SECONDS" 'BEGIN{printf "%.3f", m / (s * 10)}') % of a core) |"
  done
  it_as_user "$SBX" stop bench-sound >/dev/null 2>&1 || true
}

ROOTFS="--ro-bind /usr /usr --symlink usr/lib64 /lib64 --symlink usr/lib /lib --symlink usr/bin /bin --proc /proc --dev /dev"
SBX=$IT_PREFIX/bin/sandbox
BASE=$IT_STATE/baseline/bin/sandbox
bus_rows() {
  IT_EXTRA_ENV=$BUS_ENV sbx_row sandbox-launch-dbus "sandbox run bench-dbus (+ session bus proxy: xdg-dbus-proxy in its own namespaces)" \
    --prepare "$(gone bench-dbus)" "@SBX@ run bench-dbus"
}
if [ "${BENCH_ONLY:-}" = dbus ]; then  # iterating on the bus row: it and the bare container, same run
  { echo "| what | median | min | max |"; echo "| --- | --- | --- | --- |"
    sbx_row sandbox-launch "sandbox run bench: start → /bin/true → stop" --prepare "$(gone bench)" "@SBX@ run bench"
    bus_rows; } | tee "$ROOT/out/bench-dbus.md"
  exit 0
fi
if [ "${BENCH_ONLY:-}" = sound ]; then  # iterating on the sound rows
  { echo "| sound | direct | through the mediator |"; echo "| --- | --- | --- |"; sound_rows; } | tee "$ROOT/out/bench-sound.md"
  exit 0
fi
{
echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")."
echo "Date: $(date -u '+%F %H:%M UTC'); load before the run: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each after 3 warm-ups (hyperfine -N); \$XDG_RUNTIME_DIR: $(stat -f -c %T "$(it_runtime)")."
echo
echo "| what | median | min | max |"
echo "| --- | --- | --- | --- |"
hf true "/bin/true" /bin/true
hf unshare-Ur "unshare -Ur /bin/true" "unshare -Ur /bin/true"
hf bwrap-single "bwrap --unshare-all, single-uid map" "bwrap --unshare-all $ROOTFS /bin/true"
# bwrap cannot call newuidmap itself: util-linux unshare writes the multi-range
# map (the user's own uid passthrough + the subuid range, through the setuid
# newuidmap/newgidmap, as sandbox does), then bwrap sandboxes inside it.
hf bwrap-multi "unshare --map-auto --map-current-user + bwrap --unshare-all (newuidmap/newgidmap multi-range map)" \
  "unshare --map-auto --map-current-user bwrap --unshare-all $ROOTFS /bin/true"
hf firejail-noprofile "firejail --noprofile" "firejail --quiet --noprofile /bin/true"
hf firejail-default "firejail default profile" "firejail --quiet /bin/true"
sbx_row sandbox-version "sandbox --version (binary start)" "@SBX@ --version"
# `run` returns when the app exits; the supervisor tears down after that. The next
# run would join a container that is still stopping, so wait until it is gone:
# every timed run is a cold start.
sbx_row sandbox-launch "sandbox run bench: start → /bin/true → stop" --prepare "$(gone bench)" "@SBX@ run bench"
sbx_row sandbox-launch-gui "sandbox run bench-gui (+ X11 cookie, sound mediator)" --prepare "$(gone bench-gui)" "@SBX@ run bench-gui"
bus_rows
sbx_row sandbox-launch-x11u "sandbox run bench-x11-untrusted (+ X11 proxy: cookie minted over the raw protocol)" \
  --prepare "$(gone bench-x11-untrusted)" "@SBX@ run bench-x11-untrusted"
# The X11 proxy's cost to a client: xdpyinfo (connection set-up + ~30 round
# trips) in a started container, the server's socket bound vs. through the proxy.
# A host client keeps Xvfb from resetting after each xdpyinfo (a desktop always
# has one; the proxy's own connection would otherwise favour untrusted mode).
keepalive=$(it_as_user sh -c 'xlogo -geometry 10x10 >/dev/null 2>&1 & echo $!')
sbx_row sandbox-xdpyinfo-trusted "sandbox exec bench-x11-trusted -- xdpyinfo (the X server's socket)" \
  --setup "@SBX@ start bench-x11-trusted" --cleanup "@SBX@ stop bench-x11-trusted" "@SBX@ exec bench-x11-trusted -- xdpyinfo"
sbx_row sandbox-xdpyinfo-untrusted "sandbox exec bench-x11-untrusted -- xdpyinfo (through the X11 proxy)" \
  --setup "@SBX@ start bench-x11-untrusted" --cleanup "@SBX@ stop bench-x11-untrusted" "@SBX@ exec bench-x11-untrusted -- xdpyinfo"
kill "$keepalive" 2>/dev/null || true
# Join: one session after another in a started container (started by the same build).
sbx_row sandbox-join "sandbox exec bench -- /bin/true (join a started container)" \
  --setup "@SBX@ start bench" --cleanup "@SBX@ stop bench" "@SBX@ exec bench -- /bin/true"
# Teardown: stop of a started container (start is the prepare step, not timed).
sbx_row sandbox-teardown "sandbox stop bench (teardown of a started container)" --prepare "@SBX@ start bench" "@SBX@ stop bench"
# The same after the container ran for a while: the monitor runs the supervisor
# again for the teardown (a container that lived < 0.5 s never handed over).
sbx_row sandbox-teardown-late "sandbox stop bench, 0.7 s after its start (the monitor's teardown)" \
  --prepare "sh -c '@SBX@ start bench && sleep 0.7'" "@SBX@ stop bench"
sbx_row sandbox-start "sandbox start bench (persistent start; the stop before it is not timed)" \
  --prepare "sh -c '@SBX@ stop bench >/dev/null 2>&1; true'" --cleanup "@SBX@ stop bench" "@SBX@ start bench"
echo
echo "X11 round trip (\`x11perf -repeat 3 -time 2 -prop\`: GetProperty, one request and its reply), per request:"
echo
echo "| x11.mode | time per round trip |"
echo "| --- | --- |"
for mode in trusted untrusted; do
  # x11perf needs a client that keeps the server from resetting between its runs.
  it_as_user "$SBX" start "bench-x11-$mode" >/dev/null
  rt=$(it_as_user "$SBX" exec "bench-x11-$mode" -- x11perf -repeat 3 -time 2 -prop 2>/dev/null | awk '/trep/ {print $4 " ms"}')
  it_as_user "$SBX" stop "bench-x11-$mode" >/dev/null
  echo "| $mode | ${rt:-failed} |"
done
echo
echo "Memory while one session (\`sandbox exec bench -- sleep 3\`) runs, RSS / PSS:"
echo
echo "| build | supervisor | container init | per-container total (RSS) | launcher (exec) |"
echo "| --- | --- | --- | --- | --- |"
measure_rss "this build" "$SBX"
[ -z "$BASELINE" ] || measure_rss "baseline" "$BASE"
echo
echo "Five minimal containers started at once, per container (its supervisor + init):"
echo
echo "| build | RSS | PSS | private (USS) |"
echo "| --- | --- | --- | --- |"
measure_many "this build" "$SBX"
[ -z "$BASELINE" ] || measure_many "baseline" "$BASE"
echo
echo "The sound mediator (this build; CPU time from /proc/PID/task/*/schedstat):"
echo
echo "| sound | direct | through the mediator |"
echo "| --- | --- | --- |"
sound_rows
} | tee "$ROOT/out/bench.md"

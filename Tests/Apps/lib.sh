# One app of the catalog on the test desktop: launched with `sandbox run`, its
# first window awaited, a screenshot, a sound check for media apps, closed as a
# window manager would close it, the container checked gone; then the same
# program bare (no sandbox) for the time to its first window. Sourced after
# Tests/Integration/lib.sh (the test users, Xvfb and PulseAudio come from
# there) by Tests/Apps/run.sh (`make apps`) and Tests/Integration/apps.test.sh
# (the make-check subset).

APPS_DIR=${APPS_DIR:-$IT_ROOT/Tests/Apps}
APPS_OUT=${APPS_OUT:-$IT_STATE/apps}     # screenshots and per-app logs
APPS_WINDOW_TIMEOUT=${APPS_WINDOW_TIMEOUT:-90}   # s to the first window (LibreOffice, GIMP: first start on 2 cores)
APPS_GONE_TIMEOUT=${APPS_GONE_TIMEOUT:-30}       # s from closing the windows to the container gone (D-Bus calls time out after 25 s)
APPS_SETTLE=${APPS_SETTLE:-3}                    # s the window is left to draw before the screenshot
APPS_COMPARE=${APPS_COMPARE:-1}                  # 0: no second start and no bare run (make check)

apps_out() {
  mkdir -p "$APPS_OUT" && chown "$IT_USER:" "$APPS_OUT" && chmod 755 "$APPS_OUT"
  # The test user may not reach the checkout (CI's clone): run a copy.
  [ "$APPS_DIR/xwin.py" -nt "$APPS_OUT/xwin.py" ] && install -m 0644 "$APPS_DIR/xwin.py" "$APPS_OUT/xwin.py"
  echo "$APPS_OUT"
}

# The files apps are given: a PDF, a text file, a picture, a 30 s tone, in the
# XDG folders the profiles bind. Idempotent.
apps_prepare_files() {
  local home; home=$(it_home)
  local d
  for d in Documents Downloads Pictures Music Videos; do
    runuser -u "$IT_USER" -- mkdir -p "$home/$d"
  done
  [ -s "$home/Documents/sample.txt" ] || printf 'A text file opened by a sandboxed editor.\nsandbox apps catalog\n' \
    | runuser -u "$IT_USER" -- tee "$home/Documents/sample.txt" >/dev/null
  [ -s "$home/Documents/sample.pdf" ] || runuser -u "$IT_USER" -- /usr/bin/python3 - "$home/Documents/sample.pdf" <<'PY'
# A one-page PDF with a line of text in a standard font (no fonts embedded).
import sys
text = b"BT /F1 28 Tf 72 700 Td (sandbox apps catalog: a PDF) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out, offsets = bytearray(b"%PDF-1.4\n"), []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for off in offsets:
    out += b"%010d 00000 n \n" % off
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open(sys.argv[1], "wb").write(out)
PY
  [ -s "$home/Pictures/sample.png" ] || runuser -u "$IT_USER" -- \
    convert -size 640x400 gradient:steelblue-gold "$home/Pictures/sample.png"
  [ -s "$home/Music/tone.wav" ] || runuser -u "$IT_USER" -- \
    sox -q -n -r 44100 -c 2 -b 16 "$home/Music/tone.wav" synth 30 sine 440 gain -6
}

# ~ at the start of a catalog argument, and ~/ anywhere in it (file://~/…), is
# the test user's home (the same path inside).
apps_expand_args() {
  local home; home=$(it_home)
  local a out=()
  for a in "$@"; do a=${a/#\~/$home}; out+=("${a//\~\//$home/}"); done
  [ ${#out[@]} -eq 0 ] || printf '%s\n' "${out[@]}"
}

# The profile's command, from the shipped file (Python's tomllib), one word a line.
apps_profile_command() {
  /usr/bin/python3 -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["command"]))' \
    "$IT_ROOT/Profiles/$1.toml"
}

apps_running() { sbx list 2>/dev/null | awk -v n="$1" '$1 == n { found = 1 } END { exit !found }'; }

# RMS amplitude of the null sink's monitor over SECONDS (0 = silence).
apps_monitor_rms() {
  local raw; raw="$(apps_out)/monitor.raw"
  it_as_user sh -c "exec timeout $1 parec -d itnull.monitor --latency-msec=50 --format=s16le --rate=44100 --channels=2 >'$raw'" || true
  sox -t raw -r 44100 -e signed -b 16 -c 2 "$raw" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}'
}

xwin() { it_as_user /usr/bin/python3 "$APPS_OUT/xwin.py" "$@"; }

# One X client connected from now until apps_release_display, as a desktop's
# window manager is: without it the bare Xvfb resets each time an app's last
# connection closes, and drops a connection made in that instant.
apps_hold_display() {
  apps_out >/dev/null
  xwin hold >/dev/null 2>&1 &
  APPS_HOLD_PID=$!
}
apps_release_display() {
  if [ -n "${APPS_HOLD_PID:-}" ]; then
    kill "$APPS_HOLD_PID" 2>/dev/null || true
    wait "$APPS_HOLD_PID" 2>/dev/null || true
  fi
  APPS_HOLD_PID=""
}

# apps_try NAME MATCH CHECK [ARG…]
#   MATCH: regex on a window's "instance.class title"; CHECK: window, sound
#   (the app plays the file it was given) or "sound via CMD…" (CMD, run in the
#   container with `sandbox exec` once the window is up, starts the playing).
# Sets A_RESULT (ok|fail), A_REASON, A_MS (sandboxed first window, first start on
# a new private home), A_AGAIN_MS (the second start), A_BARE_MS,
# A_GONE_MS (windows closed → container gone), A_WINDOW (instance.class), A_TITLE,
# A_SHOT (screenshot path), A_CLOSE (how the windows were closed), A_RMS,
# A_LINGER (the container's processes 1 s after its windows were closed).
# Returns 0 when the sandboxed run passed every check.
apps_try() {
  local name=$1 match=$2 check=$3; shift 3
  local out log runpid start line rc i args=() play=()
  mapfile -t args < <(apps_expand_args "$@")
  case "$check" in
    "sound via "*)
      # shellcheck disable=SC2086
      mapfile -t play < <(apps_expand_args ${check#sound via })
      check=sound ;;
  esac
  out=$(apps_out)
  log=$out/$name.log
  A_RESULT=fail A_REASON="" A_MS="" A_AGAIN_MS="" A_BARE_MS="" A_GONE_MS="" A_WINDOW="" A_TITLE="" A_SHOT="" A_CLOSE="" A_RMS="" A_LINGER=""
  : >"$log"; chmod 644 "$log"
  if apps_running "$name"; then sbx stop "$name" >/dev/null 2>&1 || true; fi

  # 1. sandbox run, timed to the first window.
  start=$(date +%s%N)
  sbx run "$name" -- "${args[@]}" >>"$log" 2>&1 &
  runpid=$!
  rc=0; line=$(xwin wait --since "$start" --match "$match" --timeout "$APPS_WINDOW_TIMEOUT" --pid "$runpid") || rc=$?
  if [ $rc -ne 0 ]; then
    if [ $rc -eq 2 ]; then A_REASON="sandbox run exited before a window appeared"
    else A_REASON="no window matching /$match/ within ${APPS_WINDOW_TIMEOUT}s (windows: $(xwin list | cut -d' ' -f2 | tr '\n' ' '))"; fi
    apps_abort "$name" "$runpid"
    return 1
  fi
  read -r A_MS _ A_WINDOW A_TITLE <<<"$line"
  echo "first window: $line" >>"$log"

  # 2. Let it draw, check it is still there, take the screenshot.
  sleep "$APPS_SETTLE"
  if ! kill -0 "$runpid" 2>/dev/null || ! apps_running "$name"; then
    A_REASON="exited ${APPS_SETTLE}s after its first window"; apps_abort "$name" "$runpid"; return 1
  fi
  # The title now (apps name the file they opened once it is loaded).
  A_TITLE=$(xwin list --match "$match" | head -n 1 | cut -d' ' -f3-)
  A_SHOT=$out/$name.png
  it_as_user import -window root "$A_SHOT" 2>>"$log" || { A_REASON="screenshot failed"; apps_abort "$name" "$runpid"; return 1; }

  # 3. Media apps: the tone they were given reaches the sound server.
  if [ "$check" = sound ]; then
    if [ ${#play[@]} -gt 0 ]; then
      echo "exec: ${play[*]}" >>"$log"
      sbx exec "$name" -- timeout 20 "${play[@]}" >>"$log" 2>&1 || echo "exec failed: $?" >>"$log"
      sleep 1
    fi
    A_RMS=$(apps_monitor_rms 3)
    echo "monitor RMS: $A_RMS" >>"$log"
    if ! awk -v r="${A_RMS:-0}" 'BEGIN { exit !(r > 0.02) }'; then
      A_REASON="no sound reached the sound server (monitor RMS ${A_RMS:-none})"; apps_abort "$name" "$runpid"; return 1
    fi
  fi

  # 4. Close every window of the app as a window manager would; the app exits,
  #    and the container with it.
  local closed_at; closed_at=$(date +%s%N)
  apps_close "$match" >>"$log"
  A_CLOSE=$APPS_CLOSE_HOW
  for i in $(seq 1 $((APPS_GONE_TIMEOUT * 10))); do
    if ! kill -0 "$runpid" 2>/dev/null && ! apps_running "$name"; then break; fi
    [ "$i" -eq 10 ] && A_LINGER=$(apps_container_processes "$name")
    # An app that asks before quitting (or opens a second window) is asked again.
    [ $((i % 30)) -eq 0 ] && apps_close "$match" >>"$log"
    sleep 0.1
  done
  if kill -0 "$runpid" 2>/dev/null || apps_running "$name"; then
    A_REASON="still running ${APPS_GONE_TIMEOUT}s after its windows were closed (windows: $(xwin list | cut -d' ' -f2 | tr '\n' ' '))"
    apps_abort "$name" "$runpid"
    return 1
  fi
  wait "$runpid" 2>/dev/null || true
  A_GONE_MS=$(( ($(date +%s%N) - closed_at) / 1000000 ))
  [ -e "$(it_runtime)/sandbox/$name" ] && { A_REASON="state left in $(it_runtime)/sandbox/$name after the container went"; return 1; }

  A_RESULT=ok
  [ "${APPS_COMPARE:-1}" = 1 ] || return 0
  # 5. Again, now that its private home holds what a first start makes (settings,
  #    caches): the time a user sees from the second start on.
  apps_again "$name" "$match" "${args[@]}"
  # 6. The same program bare, for comparison (its failure is noted, not fatal).
  apps_bare "$name" "$match" "${args[@]}"
  return 0
}

# A second sandboxed start, timed to its first window and closed. Sets A_AGAIN_MS.
apps_again() {
  local name=$1 match=$2; shift 2
  local start line runpid log=$APPS_OUT/$name.again.log
  A_AGAIN_MS=""
  : >"$log"; chmod 644 "$log"
  start=$(date +%s%N)
  sbx run "$name" -- "$@" >>"$log" 2>&1 &
  runpid=$!
  if line=$(xwin wait --since "$start" --match "$match" --timeout "$APPS_WINDOW_TIMEOUT" --pid "$runpid"); then
    read -r A_AGAIN_MS _ <<<"$line"
    sleep 1
    apps_close "$match" >>"$log"
  fi
  for i in $(seq 1 $((APPS_GONE_TIMEOUT * 10))); do
    kill -0 "$runpid" 2>/dev/null || apps_running "$name" || break
    [ $((i % 30)) -eq 0 ] && apps_close "$match" >>"$log"
    sleep 0.1
  done
  apps_running "$name" && sbx stop "$name" >>"$log" 2>&1
  wait "$runpid" 2>/dev/null || true
  return 0
}

# The names of the processes in NAME's container (children of its init), sorted, once each.
apps_container_processes() {
  local init
  init=$(sbx list 2>/dev/null | awk -v n="$1" '$1 == n { print $3 }')
  [ -n "$init" ] || return 0
  ps -o args= --ppid "$init" 2>/dev/null | awk '{ n = $1; sub(".*/", "", n); print n }' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# Sends WM_DELETE_WINDOW (or XKillClient) to the app's windows: those matching
# the catalog's WINDOW up to its first space (the WM_CLASS part; "^gimp\..* GNU
# Image" closes every GIMP window). Sets APPS_CLOSE_HOW.
apps_close() {
  local said; said=$(xwin close --match "${1%% *}")
  echo "$said"
  case "$said" in
    *XKillClient*) APPS_CLOSE_HOW="XKillClient" ;;
    *WM_DELETE_WINDOW*) APPS_CLOSE_HOW="WM_DELETE_WINDOW" ;;
    *) APPS_CLOSE_HOW="${APPS_CLOSE_HOW:-nothing to close}" ;;
  esac
}

# After a failure: the log's tail goes into the reason, the container is stopped.
apps_abort() {
  local name=$1 runpid=$2 tail
  sbx stop "$name" >>"$APPS_OUT/$name.log" 2>&1 || true
  for _ in $(seq 1 50); do kill -0 "$runpid" 2>/dev/null || break; sleep 0.1; done
  kill "$runpid" 2>/dev/null || true
  wait "$runpid" 2>/dev/null || true
  tail=$(grep -v '^first window\|^monitor RMS\|WM_DELETE_WINDOW\|XKillClient' "$APPS_OUT/$name.log" | tail -n 3 | tr '\n' ' ' | cut -c1-300)
  [ -n "$tail" ] && A_REASON="$A_REASON; stderr: $tail"
  echo "FAILED: $A_REASON" >>"$APPS_OUT/$name.log"
}

# The profile's command run bare as the test user (its real home, no sandbox),
# in a session of its own so that everything it started can be ended. Sets A_BARE_MS.
apps_bare() {
  local name=$1 match=$2; shift 2
  local cmd start line rc pidfile pgid runpid log=$APPS_OUT/$name.bare.log
  mapfile -t cmd < <(apps_profile_command "$name")
  pidfile=$APPS_OUT/$name.bare.pid
  rm -f "$pidfile"; : >"$log"; chmod 644 "$log"
  start=$(date +%s%N)
  it_as_user setsid -w sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "${cmd[@]}" "$@" >"$log" 2>&1 &
  runpid=$!
  rc=0; line=$(xwin wait --since "$start" --match "$match" --timeout "$APPS_WINDOW_TIMEOUT" --pid "$runpid") || rc=$?
  if [ $rc -eq 0 ]; then
    read -r A_BARE_MS _ <<<"$line"
    sleep 1
    apps_close "$match" >>"$log"
    for _ in $(seq 1 100); do kill -0 "$runpid" 2>/dev/null || break; sleep 0.1; done
  else
    A_BARE_MS="" ; echo "bare: no window (rc $rc)" >>"$log"
  fi
  pgid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pgid" ]; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    sleep 0.5
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  wait "$runpid" 2>/dev/null || true
  rm -f "$pidfile"
}

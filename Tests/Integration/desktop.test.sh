# Desktop plumbing (issue 4) against a real Xvfb and a real PulseAudio, as the
# test user. Two layers:
#  - test_plumbing_*: the X11/PulseAudio set-up and teardown through the hidden
#    `sandbox _desktop start|stop NAME` (the same code `sandbox run` calls),
#    checked with real X and sound clients on the host side.
#  - test_run_*: the acceptance tests through `sandbox run`: a real app inside a
#    container talks to the host's X server and sound server, or cannot.

DT_N=$IT_DISPLAY_NUM

dt_state() { echo "$(it_runtime)/sandbox/$1"; }

# A scratch directory the test user owns (recordings, authority files, sockets).
dt_scratch() {
  local d=$IT_STATE/dt-scratch
  mkdir -p "$d" && chown "$IT_USER:" "$d" && chmod 755 "$d"
  echo "$d"
}

# A window owned by a trusted host client; prints "PID WID".
dt_host_window() {
  local title=$1 pid wid i
  pid=$(it_as_user sh -c "xlogo -title '$title' -geometry 120x120+20+20 >/dev/null 2>&1 & echo \$!")
  for i in $(seq 1 50); do
    wid=$(it_as_user xdotool search --name "^$title\$" 2>/dev/null | head -n1) || true
    [ -n "$wid" ] && { echo "$pid $wid"; return 0; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  fail "host window '$title' did not appear"
}

# Records the null sink's monitor for SECONDS into FILE (raw s16le stereo 44.1 kHz), in the background.
dt_record() {
  it_as_user sh -c "exec timeout $1 parec -d itnull.monitor --latency-msec=50 --format=s16le --rate=44100 --channels=2 >'$2'" &
  it_wait_until 5000 "parec's record stream on itnull.monitor" dt_recording || return 1
}

# Whether a record stream (parec's) is connected to the sound server.
dt_recording() { [ -n "$(it_as_user pactl list short source-outputs)" ]; }

# RMS amplitude of a raw recording (0 = silence, 1 = full scale).
dt_rms() {
  sox -t raw -r 44100 -e signed -b 16 -c 2 "$1" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}'
}

# A tone file the test user can read.
dt_tone() {
  local f; f="$(dt_scratch)/tone.wav"
  [ -s "$f" ] || sox -q -n -r 44100 -c 2 -b 16 "$f" synth 2 sine 440 gain -6
  chmod a+r "$f"
  echo "$f"
}

# ---------------------------------------------------------------- plumbing

test_plumbing_untrusted_plans_the_proxy_without_minting() {
  # Untrusted mode is the supervisor's X11 proxy (desktopx11.test.sh tests it
  # running): the plumbing only plans it — no cookie, no X connection, no file.
  local name=dt-untrusted state out
  state=$(dt_state $name)
  trap "set +e; sbx _desktop stop $name >/dev/null 2>&1; true" EXIT
  out=$(sbx _desktop start $name --x11 untrusted)
  assert_contains "$out" "env DISPLAY=:$DT_N"
  assert_contains "$out" "env XAUTHORITY=$(it_runtime)/Xauthority"
  assert_contains "$out" "bind(source: \"$state/x11.sock\", target: \"/tmp/.X11-unix/X$DT_N\", readonly: true"
  assert_contains "$out" "x11-proxy display=$DT_N server=/tmp/.X11-unix/X$DT_N socket=$state/x11.sock"
  assert_not_contains "$out" "source: \"/tmp/.X11-unix/X$DT_N\""
  [ ! -e "$state/Xauthority" ] || fail "the desktop set-up wrote a cookie (the proxy mints it)"
}

test_plumbing_trusted_cookie_is_only_this_display_and_wild() {
  local name=dt-trusted state home xa multi out cookie
  state=$(dt_state $name)
  home=$(it_home)
  # The user's authority file with extra cookies for another display and another host.
  multi=$(dt_scratch)/dt-multi.xauth
  cp "$home/.Xauthority" "$multi" && chown "$IT_USER:" "$multi"
  it_as_user xauth -f "$multi" add ":$((DT_N + 1))" MIT-MAGIC-COOKIE-1 00112233445566778899aabbccddeeff
  it_as_user xauth -f "$multi" add "otherhost/unix:$DT_N" MIT-MAGIC-COOKIE-1 ffeeddccbbaa99887766554433221100
  cookie=$(it_as_user xauth -f "$home/.Xauthority" list ":$DT_N" | awk '{print $3; exit}')
  trap "set +e; sbx _desktop stop $name >/dev/null 2>&1; rm -f $multi; true" EXIT

  IT_EXTRA_ENV="XAUTHORITY=$multi" sbx _desktop start $name --x11 trusted >/dev/null
  xa=$state/Xauthority
  out=$(it_as_user xauth -f "$xa" list)
  assert_eq "$(echo "$out" | wc -l)" 1 "entries in the container's Xauthority"
  assert_eq "$out" "#ffff##:$DT_N  MIT-MAGIC-COOKIE-1  $cookie" "the container's cookie"
  it_as_user env XAUTHORITY="$xa" xwininfo -root >/dev/null || fail "the FamilyWild cookie does not open the display"
}

test_plumbing_unreachable_display_is_a_clear_error() {
  local out rc=0
  out=$(IT_EXTRA_ENV="DISPLAY=:$((DT_N + 40))" sbx _desktop start dt-nodisplay --x11 trusted 2>&1) || rc=$?
  [ $rc -ne 0 ] || fail "started with a display that does not exist"
  assert_contains "$out" "cannot open display :$((DT_N + 40))"
  assert_contains "$out" "is X running? is DISPLAY right?"
  assert_contains "$out" 'x11.mode = "none"'
  out=$(IT_EXTRA_ENV="DISPLAY=localhost:10.0" sbx _desktop start dt-nodisplay --x11 trusted 2>&1) && fail "accepted a TCP display"
  assert_contains "$out" "network display"
}

test_plumbing_hung_x_server_times_out() {
  # A display socket that accepts connections and never answers, like a stopped X server.
  local n=$((DT_N + 50)) sock out rc=0 start ms pypid
  sock=/tmp/.X11-unix/X$n
  [ ! -e "$sock" ] || fail "$sock exists already (pick another IT_DISPLAY_NUM)"
  # (Run as root so that $! is the listener itself; the socket is made connectable for all.)
  python3 -c "
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
" "$sock" &
  pypid=$!
  trap "set +e; kill $pypid 2>/dev/null; rm -f $sock; true" EXIT
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
  start=$(date +%s%N)
  out=$(IT_EXTRA_ENV="DISPLAY=:$n" sbx _desktop start dt-hungx --x11 trusted 2>&1) || rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ $rc -ne 0 ] || fail "a hung X server did not fail the start"
  [ $ms -lt 15000 ] || fail "gave up only after $ms ms"
  assert_contains "$out" "cannot open display :$n"
  assert_contains "$out" "did not answer"
}

test_plumbing_pulse_module_mode_is_mediated_and_loads_nothing() {
  local name=dt-pulse state out mods_before
  state=$(dt_state $name)
  trap "set +e; sbx _desktop stop $name >/dev/null 2>&1; true" EXIT
  mods_before=$(it_as_user pactl list short modules)
  out=$(sbx _desktop start $name --pulse module)
  assert_contains "$out" "env PULSE_SERVER=unix:$(it_runtime)/pulse/native"
  assert_contains "$out" "env PULSE_CLIENTCONFIG=$(it_runtime)/pulse/client.conf"
  # The container's directory, bound read-only; the mediator's socket appears in it later.
  assert_contains "$out" "bind(source: \"$state/pulse\", target: \"$(it_runtime)/pulse\", readonly: true"
  assert_contains "$out" "sound socket=$state/pulse/native upstream=$(it_runtime)/pulse/native microphone=false"
  assert_eq "$(echo "$out" | grep -c '^notice')" 1 "notices"
  assert_contains "$out" "notice pulse: the microphone is off for this app"
  assert_contains "$(cat "$state/pulse/client.conf")" "enable-shm = no"
  assert_eq "$(it_as_user pactl list short modules)" "$mods_before" "the sound server's modules"
  out=$(sbx _desktop stop $name)
  [ ! -e "$state/pulse" ] || fail "the pulse directory is left behind after stop: $(ls -la "$state/pulse")"
}

test_plumbing_pulse_socket_mode_is_mediated_too() {
  local out state
  state=$(dt_state dt-socket)
  out=$(sbx _desktop start dt-socket --pulse socket)
  assert_contains "$out" "sound socket=$state/pulse/native upstream=$(it_runtime)/pulse/native"
  assert_not_contains "$out" "target: \"$(it_runtime)/pulse/native\""
  sbx _desktop stop dt-socket >/dev/null
}

test_plumbing_pulse_unfiltered_host_socket_is_loud() {
  local out
  out=$(sbx _desktop start dt-unfiltered --pulse unfiltered-host-socket)
  assert_contains "$out" "source: \"$(it_runtime)/pulse/native\", target: \"$(it_runtime)/pulse/native\""
  assert_contains "$out" "notice pulse: pulse.mode = \"unfiltered-host-socket\": the app talks to your sound server"
  assert_not_contains "$out" "sound socket="
  sbx _desktop stop dt-unfiltered >/dev/null
}

test_plumbing_absent_sound_server_is_a_clear_error() {
  local sock out rc=0
  sock=$(dt_scratch)/dt-nobody.sock
  rm -f "$sock"
  out=$(IT_EXTRA_ENV="PULSE_SERVER=unix:$sock" sbx _desktop start dt-nosound --pulse module --required 2>&1) || rc=$?
  [ $rc -ne 0 ] || fail "an absent sound server did not fail a required start"
  assert_contains "$out" "no sound server answers at $sock"
  # Not required: starts silent with a notice instead.
  out=$(IT_EXTRA_ENV="PULSE_SERVER=unix:$sock" sbx _desktop start dt-nosound --pulse module 2>&1)
  assert_contains "$out" "starting without sound"
  assert_not_contains "$out" "env PULSE_SERVER"
  sbx _desktop stop dt-nosound >/dev/null
}

test_plumbing_none_modes_add_nothing() {
  local out
  out=$(sbx _desktop start dt-none --x11 none --pulse none)
  assert_not_contains "$out" "mount "
  assert_not_contains "$out" "env "
  sbx _desktop stop dt-none >/dev/null
}

test_plumbing_wayland_binds_the_compositor_socket() {
  local sock out
  sock=$(it_runtime)/wayland-dt
  rm -f "$sock"
  python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(30)" "$sock" &
  local pypid=$!
  trap "set +e; kill $pypid 2>/dev/null; rm -f $sock; sbx _desktop stop dt-wayland >/dev/null 2>&1; true" EXIT
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
  out=$(IT_EXTRA_ENV="WAYLAND_DISPLAY=wayland-dt" sbx _desktop start dt-wayland --wayland)
  assert_contains "$out" "bind(source: \"$sock\", target: \"$(it_runtime)/wayland-dt\", readonly: true"
  assert_contains "$out" "env WAYLAND_DISPLAY=wayland-dt"
  out=$(IT_EXTRA_ENV="WAYLAND_DISPLAY=wayland-none" sbx _desktop start dt-wayland --wayland)
  assert_contains "$out" "notice wayland: no compositor socket"
  assert_not_contains "$out" "env WAYLAND_DISPLAY"
}

test_plumbing_devices_present_bound_absent_noticed_or_refused() {
  local out rc=0
  out=$(sbx _desktop start dt-dev --device /dev/null --device snd --device /dev/dt-no-such-device)
  assert_contains "$out" 'device(source: "/dev/null", target: "/dev/null", optional: true)'
  assert_contains "$out" "notice devices.extra: /dev/dt-no-such-device is not present"
  if [ -d /dev/snd ]; then
    assert_contains "$out" 'target: "/dev/snd/'
  else
    assert_contains "$out" "notice devices.snd: /dev/snd is not present on this machine"
  fi
  out=$(sbx _desktop start dt-dev --required --device /dev/dt-no-such-device 2>&1) || rc=$?
  [ $rc -ne 0 ] || fail "a required absent device did not fail the start"
  assert_contains "$out" "devices.extra: /dev/dt-no-such-device is not present"
  assert_contains "$out" "devices.required = false"
  sbx _desktop stop dt-dev >/dev/null
}

# ------------------------------------------------------------- sandbox run

test_run_x11_app_maps_a_window_the_host_sees() {
  it_profile dt-run-x11 <<'EOF2'
command = ["xlogo", "-title", "dt-run-x11"]
[x11]
mode = "trusted"
EOF2
  sbx run dt-run-x11 >"$IT_LOGS/dt-run-x11.out" 2>&1 &
  local runpid=$! wid="" i
  trap "set +e; sbx stop dt-run-x11 >/dev/null 2>&1; wait $runpid 2>/dev/null; true" EXIT
  for i in $(seq 1 100); do
    wid=$(it_as_user xdotool search --name '^dt-run-x11$' 2>/dev/null | head -n1) || true
    [ -n "$wid" ] && break
    kill -0 $runpid 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$wid" ] || fail "no window from the sandboxed app: $(cat "$IT_LOGS/dt-run-x11.out")"
  assert_contains "$(it_as_user xwininfo -id "$wid")" "Map State: IsViewable"
}

test_run_app_sees_only_its_display_socket_and_cookie() {
  local home multi out
  home=$(it_home)
  multi=$(dt_scratch)/dt-run-multi.xauth
  cp "$home/.Xauthority" "$multi" && chown "$IT_USER:" "$multi"
  it_as_user xauth -f "$multi" add ":$((DT_N + 1))" MIT-MAGIC-COOKIE-1 00112233445566778899aabbccddeeff
  it_profile dt-run-cookie <<'EOF2'
command = ["sh", "-c", "xauth list; echo sockets: $(ls -A /tmp/.X11-unix); echo display=$DISPLAY; xdpyinfo >/dev/null && echo x-ok"]
[x11]
mode = "trusted"
EOF2
  out=$(IT_EXTRA_ENV="XAUTHORITY=$multi" sbx run dt-run-cookie 2>&1) || fail "sandbox run failed: $out"
  rm -f "$multi"
  assert_eq "$(echo "$out" | grep -c MIT-MAGIC-COOKIE-1)" 1 "cookies visible inside"
  assert_contains "$out" "#ffff##:$DT_N  MIT-MAGIC-COOKIE-1"
  assert_contains "$out" "sockets: X$DT_N"$'\n'
  assert_contains "$out" "display=:$DT_N"
  assert_contains "$out" "x-ok"
}

test_run_untrusted_app_cannot_read_host_windows() {
  local win pid wid out
  win=$(dt_host_window dt-run-victim) || return 1
  read -r pid wid <<<"$win"
  trap "set +e; kill $pid 2>/dev/null; true" EXIT
  it_profile dt-run-untrusted <<'EOF2'
command = ["sh", "-c", "xdpyinfo >/dev/null; echo dpy=$?; echo id=$(xwd -silent -id $1 2>/dev/null | wc -c); echo root=$(xwd -silent -root 2>/dev/null | wc -c)", "sh"]
[x11]
mode = "untrusted"
EOF2
  out=$(sbx run dt-run-untrusted -- "$wid" 2>&1) || fail "sandbox run failed: $out"
  assert_contains "$out" "dpy=0"
  assert_contains "$out" "id=0"
  assert_contains "$out" "root=0"
}

test_run_pulse_app_plays_through_the_mediator_then_its_socket_goes_away() {
  local rec rms state inputs mods_before
  state=$(dt_state dt-run-pulse)
  it_profile dt-run-pulse <<'EOF2'
command = ["sh", "-c", "sox -q -n -r 44100 -c 2 -b 16 -t wav - synth 2 sine 440 gain -6 | paplay; echo played=$?"]
[pulse]
mode = "module"
EOF2
  mods_before=$(it_as_user pactl list short modules)
  rec=$(dt_scratch)/dt-run-pulse.raw
  dt_record 4 "$rec"
  sbx run dt-run-pulse >"$IT_LOGS/dt-run-pulse.out" 2>&1 &
  local runpid=$! i
  inputs=""
  for i in $(seq 1 30); do
    inputs=$(it_as_user pactl list short sink-inputs) || true
    [ -n "$inputs" ] && break
    sleep 0.1
  done
  [ -n "$inputs" ] || fail "no sink input from the sandboxed app"
  [ -S "$state/pulse/native" ] || fail "no mediator socket while the container plays"
  assert_eq "$(it_as_user pactl list short modules)" "$mods_before" "the sound server's modules while playing"
  wait $runpid || fail "sandbox run failed: $(cat "$IT_LOGS/dt-run-pulse.out")"
  assert_contains "$(cat "$IT_LOGS/dt-run-pulse.out")" "played=0"
  assert_contains "$(cat "$IT_LOGS/dt-run-pulse.out")" "the microphone is off"
  wait
  rms=$(dt_rms "$rec")
  awk -v r="$rms" 'BEGIN { exit !(r > 0.05) }' || fail "the monitor recorded silence (RMS $rms)"
  for i in $(seq 1 30); do [ -e "$state/pulse/native" ] || break; sleep 0.1; done
  [ ! -e "$state/pulse/native" ] || fail "the mediator's socket outlived the container"
}

test_run_none_modes_cannot_reach_x_or_sound() {
  local uid out
  uid=$(it_uid)
  # The app is told where the host's display and sound server usually are.
  it_profile dt-run-none <<EOF2
command = ["sh", "-c", "xdpyinfo >/dev/null 2>&1; echo x=\$?; pactl info >/dev/null 2>&1; echo p=\$?; ls -A /tmp/.X11-unix 2>/dev/null | wc -l; ls /run/user/$uid/pulse 2>/dev/null | wc -l"]
[x11]
mode = "none"
[pulse]
mode = "none"
[env]
DISPLAY = ":$DT_N"
PULSE_SERVER = "unix:/run/user/$uid/pulse/native"
EOF2
  out=$(sbx run dt-run-none 2>&1) || fail "sandbox run failed: $out"
  assert_contains "$out" "x=1"
  assert_not_contains "$out" "p=0"
  assert_eq "$(echo "$out" | tail -n 2 | tr '\n' ' ')" "0 0 " "X sockets and pulse files visible inside"
}

test_run_unreachable_display_fails_before_the_app_starts() {
  local out rc=0 marker
  # The app's private home (Paths.homeDir) is where a run would leave its mark on the host.
  marker=$(it_home)/.local/share/sandbox/dt-run-nodisplay/home/ran
  rm -f "$marker"
  it_profile dt-run-nodisplay <<'EOF2'
command = ["sh", "-c", "touch \"$HOME/ran\""]
[x11]
mode = "trusted"
EOF2
  out=$(IT_EXTRA_ENV="DISPLAY=:$((DT_N + 40))" sbx run dt-run-nodisplay 2>&1) || rc=$?
  [ $rc -ne 0 ] || fail "sandbox run succeeded without a display"
  assert_contains "$out" "cannot open display :$((DT_N + 40))"
  assert_contains "$out" 'x11.mode = "none"'
  [ ! -e "$marker" ] || fail "the app ran although its display is unreachable"
  # A failed start leaves nothing behind: no stale entry in `sandbox list` (issue 10 #5).
  assert_not_contains "$(sbx list)" "dt-run-nodisplay" "sandbox list after a failed start"
  [ ! -e "$(it_runtime)/sandbox/dt-run-nodisplay" ] || fail "state left by a failed start: $(ls -la "$(it_runtime)/sandbox/dt-run-nodisplay")"
  # The supervisor, started before the plan so its start-up overlaps planning, got
  # an empty plan and is gone (the launcher reaped it before it exited).
  [ -z "$(pgrep -u "$IT_USER" -f 'sandbox-(supervisor|monitor) dt-run-nodisplay')" ] || fail "a supervisor outlived the failed start"
}

test_run_devices_present_are_bound_absent_are_noticed() {
  local out
  [ -c /dev/net/tun ] || fail "/dev/net/tun missing on this machine (test set-up)"
  it_profile dt-run-devices <<'EOF2'
command = ["sh", "-c", "test -c /dev/net/tun && echo tun=char; ls /dev/dri 2>/dev/null | wc -l"]
[devices]
dri = true
extra = ["/dev/net/tun", "/dev/dt-no-such-device"]
EOF2
  out=$(sbx run dt-run-devices 2>&1) || fail "sandbox run failed: $out"
  assert_contains "$out" "tun=char"
  assert_contains "$out" "devices.extra: /dev/dt-no-such-device is not present"
  if [ -d /dev/dri ]; then
    assert_not_contains "$out" "devices.dri:"
  else
    assert_contains "$out" "devices.dri: /dev/dri is not present"
  fi
}

# sandbox doctor against the real machine: user namespaces, newuidmap, the test
# user's subuid range, the harness's Xvfb and PulseAudio; then with each of them
# broken in turn (restored afterwards, also when the test fails).

doctor_line() {  # doctor_line OUTPUT CHECK -> the line for CHECK
  printf '%s\n' "$1" | grep -E "^(ok|WARN|FAIL) +$2: " || true
}

test_doctor_reports_a_working_machine() {
  local out rc=0
  out=$(sbx doctor) || rc=$?
  echo "$out"
  assert_eq "$rc" 0 "exit status"
  assert_contains "$(doctor_line "$out" user-namespaces)" "ok    user-namespaces: available"
  assert_contains "$(doctor_line "$out" newuidmap)" "ok    newuidmap: /usr/bin/newuidmap is setuid root"
  assert_contains "$(doctor_line "$out" newgidmap)" "ok    newgidmap: /usr/bin/newgidmap is setuid root"
  local start; start=$(grep "^$IT_USER:" /etc/subuid | head -1 | cut -d: -f2)
  assert_contains "$(doctor_line "$out" subuid)" "ok    subuid: $IT_USER has 65536 ids ($start-$((start + 65535)))"
  assert_contains "$(doctor_line "$out" subgid)" "ok    subgid: $IT_USER has 65536 ids"
  assert_contains "$(doctor_line "$out" id-mapping)" "ok    id-mapping:"
  # Read from the set-up reply in Swift (no libX11): the same vendor and release xdpyinfo (libX11) prints.
  local vendor release
  vendor=$(it_as_user xdpyinfo | sed -n 's/^vendor string: *//p')
  release=$(it_as_user xdpyinfo | sed -n 's/^vendor release number: *//p')
  [ -n "$vendor" ] && [ -n "$release" ] || fail "xdpyinfo gave no vendor/release"
  assert_contains "$(doctor_line "$out" x11)" "ok    x11: display :$IT_DISPLAY_NUM reachable: screen 1024x768, $vendor (release $release)"
  # One native-protocol exchange in Swift (no libpulse): the same name and version pactl (libpulse) prints.
  local pulse name version
  name=$(it_as_user pactl info | sed -n 's/^Server Name: *//p')
  version=$(it_as_user pactl info | sed -n 's/^Server Version: *//p')
  pulse=$(doctor_line "$out" pulseaudio)
  assert_eq "$name" "pulseaudio" "the harness's server"
  assert_contains "$pulse" "ok    pulseaudio: $name $version at $(it_runtime)/pulse/native"
  # The harness installs sandbox-net setuid root (make install as root).
  assert_contains "$(doctor_line "$out" sandbox-net)" "ok    sandbox-net: $IT_PREFIX/libexec/sandbox/sandbox-net is setuid root"
  # /dev/net/tun: the finding must match what the kernel lets the user do.
  if it_as_user test -r /dev/net/tun -a -w /dev/net/tun; then
    assert_contains "$(doctor_line "$out" /dev/net/tun)" "ok    /dev/net/tun: read-write for you"
  else
    assert_contains "$(doctor_line "$out" /dev/net/tun)" "WARN  /dev/net/tun: not accessible to you"
  fi
  assert_contains "$(doctor_line "$out" mmdebstrap)" "ok    mmdebstrap: /usr/bin/mmdebstrap present"
  assert_contains "$out" "sandbox run can work here."
}

test_doctor_json_has_every_check() {
  local out
  out=$(sbx doctor --json)
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["ok"] is True, r
by = {c["name"]: c for c in r["checks"]}
for name in ["user-namespaces", "newuidmap", "newgidmap", "subuid", "subgid", "id-mapping", "x11", "pulseaudio", "sandbox-net", "pasta", "mmdebstrap"]:
    assert by[name]["status"] == "ok", (name, by.get(name))
for c in r["checks"]:
    assert c["status"] in ("ok", "warn", "fail"), c
    assert c["status"] == "ok" or c["hint"], c
'
}

test_doctor_dead_display_fails_with_a_hint() {
  local free=$((IT_DISPLAY_NUM + 4000))
  [ ! -e "/tmp/.X11-unix/X$free" ] || fail "display :$free is in use; pick another"
  local out rc=0
  out=$(IT_EXTRA_ENV="DISPLAY=:$free" sbx doctor) || rc=$?
  echo "$out"
  assert_eq "$rc" 1 "exit status with a dead display"
  assert_contains "$out" "FAIL  x11: cannot open display :$free: no X server (no socket /tmp/.X11-unix/X$free)"
  assert_contains "$out" "      hint: start your X session"
  assert_contains "$out" "sandbox run cannot work until the FAIL lines are fixed."
}

test_doctor_display_refusing_the_cookie_says_why() {
  # A cookie the server does not know: the server's own reason is the finding.
  local bad; bad=$IT_STATE/doctor-bad.xauth
  rm -f "$bad"
  xauth -f "$bad" add ":$IT_DISPLAY_NUM" MIT-MAGIC-COOKIE-1 00000000000000000000000000000000
  chown "$IT_USER:" "$bad"
  local out rc=0
  out=$(IT_EXTRA_ENV="XAUTHORITY=$bad" sbx doctor) || rc=$?
  rm -f "$bad"
  echo "$out"
  assert_eq "$rc" 1 "exit status with a refused cookie"
  assert_contains "$out" "FAIL  x11: cannot open display :$IT_DISPLAY_NUM: the X server refused the connection: Invalid MIT-MAGIC-COOKIE-1 key"
  assert_contains "$out" "      hint: check XAUTHORITY names your cookie file (xauth list :$IT_DISPLAY_NUM)"
}

test_doctor_hung_display_fails_within_the_deadline() {
  # A display socket that accepts connections and never answers, like a stopped X server.
  local n=$((IT_DISPLAY_NUM + 4050)) sock out rc=0 start ms pypid
  sock=/tmp/.X11-unix/X$n
  [ ! -e "$sock" ] || fail "$sock exists already (pick another IT_DISPLAY_NUM)"
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
  out=$(IT_EXTRA_ENV="DISPLAY=:$n" sbx doctor) || rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$out"
  assert_eq "$rc" 1 "exit status with a hung display"
  assert_contains "$out" "FAIL  x11: cannot open display :$n: the X server accepted the connection but did not answer in time"
  [ $ms -lt 12000 ] || fail "doctor took $ms ms with a hung display"
}

test_doctor_network_display_is_unusable() {
  local out rc=0
  out=$(IT_EXTRA_ENV="DISPLAY=localhost:10.0" sbx doctor) || rc=$?
  echo "$out"
  assert_eq "$rc" 1 "exit status with a TCP display"
  assert_contains "$out" "FAIL  x11: cannot use display localhost:10.0: DISPLAY=localhost:10.0 is a network display"
}

test_doctor_sound_server_refusing_the_user_says_why() {
  # The harness's PulseAudio on a second socket the other user can reach: that
  # user's credentials are not the server's uid and its cookie is not the
  # server's, so AUTH is refused (PA_ERR_ACCESS), as libpulse would be.
  local dir=$IT_STATE/doctor-pulse module out
  rm -rf "$dir"; mkdir -p "$dir"; chown "$IT_USER:" "$dir"; chmod 755 "$dir"
  module=$(it_as_user pactl load-module module-native-protocol-unix socket="$dir/native")
  trap "set +e; it_as_user pactl unload-module $module; rm -rf $dir; true" EXIT
  chmod 666 "$dir/native"
  out=$(it_as "$IT_OTHER" env -u DISPLAY PULSE_SERVER="unix:$dir/native" "$IT_PREFIX/bin/sandbox" doctor) || true
  echo "$out"
  assert_contains "$out" "WARN  pulseaudio: server unreachable (the server refused AUTH: Access denied)"
  # The owner is let in by its credentials alone, even without the cookie file.
  out=$(it_as_user env PULSE_SERVER="unix:$dir/native" PULSE_COOKIE=/nonexistent XDG_CONFIG_HOME=/nonexistent "$IT_PREFIX/bin/sandbox" doctor) || true
  assert_contains "$(doctor_line "$out" pulseaudio)" "ok    pulseaudio: pulseaudio "
}

test_doctor_sound_server_that_never_answers_times_out() {
  local dir=$IT_STATE/doctor-hungpulse out t0 ms pypid
  rm -rf "$dir"; mkdir -p "$dir"; chmod 755 "$dir"
  python3 -c "
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
" "$dir/native" &
  pypid=$!
  trap "set +e; kill $pypid 2>/dev/null; rm -rf $dir; true" EXIT
  for _ in $(seq 1 50); do [ -S "$dir/native" ] && break; sleep 0.1; done
  t0=$(date +%s%N)
  out=$(IT_EXTRA_ENV="PULSE_SERVER=unix:$dir/native" sbx doctor)
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "$out"
  assert_contains "$out" "WARN  pulseaudio: server unreachable (no answer to AUTH in time)"
  [ $ms -lt 8000 ] || fail "doctor took $ms ms with a hung sound server"
}

test_doctor_without_display_warns() {
  local out rc=0
  out=$(it_as_user env -u DISPLAY "$IT_PREFIX/bin/sandbox" doctor) || rc=$?
  echo "$out"
  assert_eq "$rc" 0 "exit status without DISPLAY (a warning only)"
  assert_contains "$out" "WARN  x11: DISPLAY is not set"
  assert_contains "$out" "      hint: run sandbox from your desktop session"
}

test_doctor_pulseaudio_stopped() {
  trap 'it_start_pulse >/dev/null' EXIT
  it_stop_pulse
  ! pgrep -u "$IT_USER" -x pulseaudio >/dev/null || fail "pulseaudio still running"
  local out rc=0 t0 t1
  t0=$(date +%s%N)
  out=$(sbx doctor) || rc=$?
  t1=$(date +%s%N)
  echo "$out"
  assert_eq "$rc" 0 "exit status without sound (a warning only)"
  assert_contains "$out" "WARN  pulseaudio: server unreachable"
  assert_contains "$out" "      hint: start it"
  [ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || fail "doctor took $(( (t1 - t0) / 1000000 )) ms without a sound server"
  it_start_pulse
  trap - EXIT
  out=$(sbx doctor)
  assert_contains "$(doctor_line "$out" pulseaudio)" "ok    pulseaudio:"
}

test_doctor_user_without_subuid_range() {
  local backup="$IT_STATE/subuid.doctor-test"
  cp -p /etc/subuid "$backup"
  trap 'cp -p "'"$backup"'" /etc/subuid' EXIT
  sed -i "/^$IT_OTHER:/d" /etc/subuid
  local out rc=0
  out=$(it_as "$IT_OTHER" env -u DISPLAY "$IT_PREFIX/bin/sandbox" doctor) || rc=$?
  cp -p "$backup" /etc/subuid     # restore at once: other tests use this user's range
  trap - EXIT
  echo "$out"
  grep -q "^$IT_OTHER:" /etc/subuid || fail "/etc/subuid was not restored"
  assert_contains "$out" "WARN  subuid: no range for $IT_OTHER in /etc/subuid; only your own id can be mapped"
  assert_contains "$out" "      hint: as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $IT_OTHER"
  assert_contains "$out" "ok    subgid: $IT_OTHER has 65536 ids"
  assert_contains "$out" "WARN  id-mapping:"
  assert_eq "$rc" 0 "exit status (a missing range is a warning: run maps the user's own id)"
}

test_doctor_reads_the_users_usernet_quota() {
  local f=/etc/sandbox/usernet backup="$IT_STATE/usernet.doctor-test" had=0
  [ -e "$f" ] && { had=1; cp -p "$f" "$backup"; }
  restore_usernet() { if [ "$had" = 1 ]; then cp -p "$backup" "$f"; else rm -f "$f"; fi; }
  trap restore_usernet EXIT
  mkdir -p /etc/sandbox
  local group; group=$(id -gn "$IT_USER")
  printf '# doctor test\n%s veth itdocbr0 1\n@%s veth itdocbr0 2\n%s veth itdocbr1 5\nbroken\n' \
    "$IT_USER" "$group" "$IT_OTHER" >"$f"
  chmod 644 "$f"
  local out; out=$(it_as_user env -u DISPLAY "$IT_PREFIX/bin/sandbox" doctor)
  restore_usernet     # at once: the network tests own this file
  trap - EXIT
  echo "$out"
  # Lines for the user and their group add up; the other user's line does not count.
  assert_contains "$out" "WARN  usernet: $IT_USER may create 3 on itdocbr0; unreadable lines: $f:5: expected 'USER|@GROUP veth BRIDGE COUNT', got 1 fields"
  # The bridge is not there on the host (tests make bridges only in their own netns).
  assert_contains "$out" "WARN  bridge itdocbr0: no bridge named itdocbr0"
  assert_contains "$out" "      hint: as root: ip link add itdocbr0 type bridge"
  assert_not_contains "$out" "itdocbr1"
}

test_doctor_finds_a_missing_or_unprivileged_net_helper() {
  local alt="$IT_STATE/doctor-altprefix"
  rm -rf "$alt"; mkdir -p "$alt/bin" "$alt/libexec/sandbox"
  cp "$IT_PREFIX/bin/sandbox" "$alt/bin/"
  chmod -R a+rX "$alt"
  local out; out=$(it_as_user env -u DISPLAY "$alt/bin/sandbox" doctor)
  assert_contains "$out" "WARN  sandbox-net: $alt/libexec/sandbox/sandbox-net is not installed"
  # Installed without the setuid bit (an unprivileged `make install`): inert, and doctor says so.
  cp "$IT_PREFIX/libexec/sandbox/sandbox-net" "$alt/libexec/sandbox/"
  chmod 0755 "$alt/libexec/sandbox/sandbox-net"
  out=$(it_as_user env -u DISPLAY "$alt/bin/sandbox" doctor)
  assert_contains "$out" "WARN  sandbox-net: $alt/libexec/sandbox/sandbox-net is not setuid root (owner uid 0, mode 755)"
  assert_contains "$out" "      hint: as root: chown root:root $alt/libexec/sandbox/sandbox-net && chmod 4755 $alt/libexec/sandbox/sandbox-net"
  rm -rf "$alt"
}

# Overlapping delegations (Debian 12: useradd assigned one range, then `usermod
# --add-subuids` added an overlapping one): a second range of $IT_OTHER that
# overlaps its own and $IT_USER's. Both users are this run's own; the lines are
# removed again at once (also on failure), leaving the files as they were.
test_doctor_warns_about_overlapping_subordinate_ranges() {
  local ustart ostart
  ustart=$(grep "^$IT_USER:" /etc/subuid | head -1 | cut -d: -f2)
  ostart=$(grep "^$IT_OTHER:" /etc/subuid | head -1 | cut -d: -f2)
  [ -n "$ustart" ] && [ -n "$ostart" ] || fail "test users have no ranges"
  # One line overlapping $IT_OTHER's own first range, one overlapping $IT_USER's.
  local own="$IT_OTHER:$((ostart + 1000)):65536" theirs="$IT_OTHER:$((ustart + 100)):10"
  local f
  for f in /etc/subuid /etc/subgid; do cp -p "$f" "$IT_STATE/$(basename "$f").overlap-test"; done
  restore_subids() {
    local f b
    for f in /etc/subuid /etc/subgid; do
      b="$IT_STATE/$(basename "$f").overlap-test"
      [ -e "$b" ] || continue
      # Remove exactly our two lines (in place: owner and mode stay), so a line another
      # run appended meanwhile survives; without such a line the file is the backup again.
      grep -vxF -e "$own" -e "$theirs" "$f" >"$b.new" || true
      cat "$b.new" >"$f" && rm -f "$b.new"
      cmp -s "$f" "$b" || echo "note: $f differs from before the test (another run changed it meanwhile)"
      rm -f "$b"
    done
  }
  trap restore_subids EXIT
  for f in /etc/subuid /etc/subgid; do printf '%s\n%s\n' "$own" "$theirs" >>"$f"; done
  local out json rc=0
  out=$(it_as "$IT_OTHER" env -u DISPLAY "$IT_PREFIX/bin/sandbox" doctor) || rc=$?
  json=$(it_as "$IT_OTHER" env -u DISPLAY "$IT_PREFIX/bin/sandbox" doctor --json) || true
  restore_subids
  trap - EXIT
  echo "$out"
  ! grep -qxF "$own" /etc/subuid || fail "/etc/subuid was not restored"
  ! grep -qxF "$theirs" /etc/subgid || fail "/etc/subgid was not restored"
  local line; line=$(doctor_line "$out" subuid-map)
  assert_contains "$line" "WARN  subuid-map: overlapping ranges in /etc/subuid: "
  assert_contains "$line" "overlaps your own line"
  assert_contains "$line" "($((ostart + 1000))–$((ostart + 1000 + 65535)))"
  assert_contains "$line" "overlaps $IT_USER's line"
  assert_contains "$line" "in $((ustart + 100))–$((ustart + 109))"
  assert_contains "$line" "the id map uses host uids $ostart–"
  assert_contains "$out" "hint: as root, keep one range per user that no other user has: usermod --del-subuids"
  assert_contains "$(doctor_line "$out" subgid-map)" "WARN  subgid-map: overlapping ranges in /etc/subgid: "
  printf '%s' "$json" | python3 -c '
import json, sys
by = {c["name"]: c for c in json.load(sys.stdin)["checks"]}
for n in ("subuid-map", "subgid-map"):
    assert by[n]["status"] == "warn", by[n]
    assert "overlaps" in by[n]["finding"] and by[n]["hint"], by[n]
' || fail "doctor --json does not warn about the overlap"
  assert_eq "$rc" 0 "exit status (an overlap is a warning)"
  # Without the extra lines the same user is fine again.
  out=$(it_as "$IT_OTHER" env -u DISPLAY "$IT_PREFIX/bin/sandbox" doctor) || true
  assert_contains "$(doctor_line "$out" subuid-map)" "ok    subuid-map: the id map uses host uids $ostart–$((ostart + 65535)) for container uids 0–65535"
}

# The X11 mediator (x11.mode = "untrusted", issue 9 escape 2) against a real
# Xvfb, as the test user. The supervisor's proxy rewrites every app connection's
# set-up to present an untrusted SECURITY cookie, so:
#  - host-based access (Debian's `xhost +si:localuser:$USER`) no longer makes a
#    cookie-less connection trusted, and neither does a stolen trusted cookie;
#  - the cookie survives a bare Xvfb's reset-on-last-disconnect;
#  - `sandbox stop` revokes it;
#  - malformed set-ups and descriptor passing close that connection only.

X_N=$IT_DISPLAY_NUM

# A host window owned by a trusted client, which also keeps Xvfb from resetting; prints "PID WID".
x_host_window() {
  local title=$1 pid wid i
  pid=$(it_as_user sh -c "xlogo -title '$title' -geometry 200x200+20+20 >/dev/null 2>&1 & echo \$!")
  for i in $(seq 1 50); do
    wid=$(it_as_user xdotool search --name "^$title\$" 2>/dev/null | head -n1) || true
    [ -n "$wid" ] && { echo "$pid $wid"; return 0; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  fail "host window '$title' did not appear"
}

x_scratch() {
  local d=$IT_STATE/x11-scratch
  mkdir -p "$d" && chown "$IT_USER:" "$d" && chmod 755 "$d"
  echo "$d"
}

# Waits until container NAME is running (sandbox start returns when it is, but be safe).
x_wait_running() {
  local i
  for i in $(seq 1 50); do
    sbx status "$1" 2>/dev/null | grep -q running && return 0
    sleep 0.1
  done
  fail "container $1 is not running: $(sbx status "$1" 2>&1)"
}

# How many sockets process $1 holds open (an X server: its listeners and clients).
x_socket_fds() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | grep -c . || true; }
x_at_most_socket_fds() { [ "$(x_socket_fds "$1")" -le "$2" ]; }

test_untrusted_app_is_untrusted_whatever_xhost_says() {
  local win pid wid out cookie before after
  win=$(x_host_window x-victim) || return 1
  read -r pid wid <<<"$win"
  # Debian's X session does this at every login: the user's own uid is trusted without a cookie.
  it_as_user xhost +si:localuser:"$IT_USER" >/dev/null
  trap "set +e; kill $pid 2>/dev/null; it_as_user xhost -si:localuser:$IT_USER >/dev/null 2>&1; sbx stop x-untrusted >/dev/null 2>&1; true" EXIT
  # The set-up itself must be real: host access makes a cookie-less host client trusted.
  [ "$(it_as_user env XAUTHORITY=/dev/null xwd -silent -root | wc -c)" -gt 10000 ] \
    || fail "test set-up: a cookie-less host client cannot read the screen, so xhost is not in effect"
  cookie=$(it_as_user xauth -f "$(it_home)/.Xauthority" list ":$X_N" | awk '{print $3; exit}')
  [ -n "$cookie" ] || fail "test set-up: no trusted cookie for :$X_N"
  # Control: the escape this closes. In trusted mode (the real socket bound)
  # a cookie-less client inside is let in by xhost as a trusted client.
  it_profile x-trusted-control <<'EOF2'
command = ["sh", "-c", "XAUTHORITY=/dev/null xwd -silent -root | wc -c"]
[x11]
mode = "trusted"
EOF2
  out=$(sbx run x-trusted-control 2>&1)
  [ "$(echo "$out" | tail -n1)" -gt 10000 ] || fail "control: a cookie-less trusted-mode app could not read the screen ($out)"

  it_profile x-untrusted <<'EOF2'
command = ["sh", "-c", "sleep 600"]
[x11]
mode = "untrusted"
EOF2
  sbx start x-untrusted
  x_wait_running x-untrusted
  it_as_user xdotool mousemove 300 200
  before=$(it_as_user xdotool getmouselocation)

  # No cookie at all (XAUTHORITY=/dev/null), the container's own cookie, and the
  # user's TRUSTED cookie stolen into the container: all three are untrusted clients.
  out=$(sbx exec x-untrusted -- sh -c '
    xauth -f /tmp/stolen add :'"$X_N"' MIT-MAGIC-COOKIE-1 '"$cookie"' 2>/dev/null
    for xa in /dev/null "$XAUTHORITY" /tmp/stolen; do
      echo "auth=$xa"
      echo "security=$(XAUTHORITY=$xa xdpyinfo -queryExtensions 2>&1 | grep -c "SECURITY  (opcode")"
      echo "root=$(XAUTHORITY=$xa xwd -silent -root 2>/dev/null | wc -c)"
      echo "window=$(XAUTHORITY=$xa xwd -silent -id '"$wid"' 2>/dev/null | wc -c)"
      XAUTHORITY=$xa xdotool mousemove 5 5 >/dev/null 2>&1
      XAUTHORITY=$xa xwd -silent -root 2>&1 >/dev/null | head -n 1
    done' 2>&1) || true
  echo "$out"
  # An untrusted client does not even see the SECURITY extension; a trusted one does.
  assert_eq "$(grep -c '^security=0$' <<<"$out")" 3 "connections that could not see SECURITY (untrusted)"
  assert_eq "$(grep -c '^root=0$' <<<"$out")" 3 "connections that could not read the root window"
  assert_eq "$(grep -c '^window=0$' <<<"$out")" 3 "connections that could not read another client's window"
  assert_contains "$out" "unable to get image"
  # Input injection (XTEST) did not move the host's pointer.
  after=$(it_as_user xdotool getmouselocation)
  assert_eq "$after" "$before" "the host pointer after the app's xdotool mousemove"
  # The host's own trusted client still reads the screen (the check above is not a broken server).
  [ "$(it_as_user xwd -silent -root | wc -c)" -gt 10000 ] || fail "the trusted host client cannot read the screen"

  # And the app still shows windows: one appears on the host.
  sbx exec x-untrusted -- sh -c 'xlogo -title x-untrusted-win >/dev/null 2>&1 &'
  local i w=""
  for i in $(seq 1 50); do
    w=$(it_as_user xdotool search --name '^x-untrusted-win$' 2>/dev/null | head -n1) || true
    [ -n "$w" ] && break
    sleep 0.1
  done
  [ -n "$w" ] || fail "the untrusted app's window did not appear on the host"
  assert_contains "$(it_as_user xwininfo -id "$w")" "Map State: IsViewable"
}

test_untrusted_cookie_survives_a_bare_xvfb_reset() {
  # A second, bare Xvfb (no -noreset, no window manager, no other client): it
  # resets when its last client disconnects and forgets SECURITY cookies then.
  local n dir auth cookie out xpid
  # A free display number far from the ones test runs use (IT_DISPLAY_NUM, +1, +40, +50:
  # the machine is shared, and harnesses pkill their Xvfb by display number).
  for n in $(seq $((X_N + 100)) $((X_N + 120))); do
    [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break
  done
  dir=$(x_scratch)/bare
  rm -rf "$dir" && mkdir -p "$dir" && chown "$IT_USER:" "$dir"
  auth=$dir/Xauthority
  cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  it_as_user xauth -f "$auth" add ":$n" MIT-MAGIC-COOKIE-1 "$cookie" 2>/dev/null
  xpid=$(it_as_user sh -c "Xvfb :$n -screen 0 640x480x24 -auth '$auth' -nolisten tcp >'$dir/Xvfb.log' 2>&1 & echo \$!")
  trap "set +e; IT_EXTRA_ENV='DISPLAY=:$n XAUTHORITY=$auth' sbx stop x-bare >/dev/null 2>&1; kill $xpid 2>/dev/null; rm -f /tmp/.X11-unix/X$n /tmp/.X$n-lock; true" EXIT
  for _ in $(seq 1 100); do [ -S "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
  [ -S "/tmp/.X11-unix/X$n" ] || fail "the bare Xvfb did not start: $(cat "$dir/Xvfb.log")"
  # Control: this server does forget a cookie minted by a client that then
  # disconnects (what the launcher used to do).
  it_as_user env DISPLAY=":$n" XAUTHORITY="$auth" xauth -f "$dir/generated" generate ":$n" . untrusted timeout 0 \
    || fail "control: xauth generate failed"
  [ -s "$dir/generated" ] || fail "control: xauth generate wrote no cookie"
  it_as_user env DISPLAY=":$n" XAUTHORITY="$dir/generated" xdpyinfo >/dev/null 2>&1 \
    && fail "control: the bare Xvfb kept a cookie across its reset (the test would prove nothing)"

  it_profile x-bare <<'EOF2'
command = ["sleep", "600"]
[x11]
mode = "untrusted"
EOF2
  export IT_EXTRA_ENV="DISPLAY=:$n XAUTHORITY=$auth"
  sbx -l debug -o "$dir/sandbox.log" start x-bare
  x_wait_running x-bare
  # Connect, disconnect, wait, connect again: the second would fail if the
  # server had reset (it then forgets the cookie).
  local conns; conns=$(x_socket_fds "$xpid")
  out=$(sbx exec x-bare -- xdpyinfo 2>&1) || fail "first connection failed: $out"
  assert_contains "$out" "dimensions:    640x480"
  # The server has seen the disconnect (and would have reset) once it holds no
  # more sockets than before the connection.
  it_wait_until 5000 "the bare Xvfb to drop the first client's connection" x_at_most_socket_fds "$xpid" "$conns"
  out=$(sbx exec x-bare -- xdpyinfo 2>&1) || fail "second connection after a disconnect failed: $out; $(cat "$dir/sandbox.log")"
  assert_contains "$out" "dimensions:    640x480"
  sbx stop x-bare >/dev/null
  unset IT_EXTRA_ENV
}

test_stop_revokes_the_untrusted_cookie() {
  local win pid wid state saved out log
  win=$(x_host_window x-keepalive) || return 1   # a client keeps Xvfb from resetting
  read -r pid wid <<<"$win"
  # Without host access, so a refused cookie is refused, not let in by xhost.
  it_as_user xhost -si:localuser:"$IT_USER" >/dev/null 2>&1 || true
  saved=$(x_scratch)/x-saved.xauth
  log=$(x_scratch)/x-revoke.log
  rm -f "$log"
  trap "set +e; kill $pid 2>/dev/null; sbx stop x-revoke >/dev/null 2>&1; rm -f $saved; true" EXIT
  it_profile x-revoke <<'EOF2'
command = ["sleep", "600"]
[x11]
mode = "untrusted"
EOF2
  sbx -l debug -o "$log" start x-revoke
  x_wait_running x-revoke
  state=$(it_runtime)/sandbox/x-revoke
  out=$(it_as_user xauth -f "$state/Xauthority" list)
  assert_eq "$(echo "$out" | wc -l)" 1 "entries in the container's Xauthority"
  assert_contains "$out" "#ffff##:$X_N  MIT-MAGIC-COOKIE-1"
  cp "$state/Xauthority" "$saved" && chown "$IT_USER:" "$saved"
  # The cookie works straight at the server (as an untrusted client)…
  out=$(it_as_user env XAUTHORITY="$saved" xdpyinfo -queryExtensions 2>&1) || fail "the minted cookie does not open the display: $out"
  assert_not_contains "$out" "SECURITY  (opcode" "extensions an untrusted client sees"
  # …and not after stop, right away (the revocation, not the 10 s expiry).
  sbx stop x-revoke >/dev/null
  if out=$(it_as_user env XAUTHORITY="$saved" xdpyinfo 2>&1); then
    fail "the untrusted cookie still opens the display after stop"
  fi
  assert_contains "$(cat "$log")" "revoked untrusted cookie"
  [ ! -e "$state/x11.sock" ] || fail "proxy socket left behind after stop"
}

test_malformed_setups_and_passed_descriptors_close_only_that_connection() {
  local win pid wid out
  win=$(x_host_window x-keepalive2) || return 1
  read -r pid wid <<<"$win"
  trap "set +e; kill $pid 2>/dev/null; sbx stop x-hostile >/dev/null 2>&1; true" EXIT
  it_profile x-hostile <<'EOF2'
command = ["sleep", "600"]
[x11]
mode = "untrusted"
EOF2
  sbx start x-hostile
  x_wait_running x-hostile
  # A raw client inside the container: each case on its own connection; "eof"
  # means the proxy closed it, "status=N" is the first byte of the server's
  # answer (1 = accepted).
  out=$(sbx exec x-hostile -- python3 -c '
import socket, struct, array, sys
path = "/tmp/.X11-unix/X" + sys.argv[1]
def setup(order=b"l", name=b"", data=b""):
    f = "<" if order == b"l" else ">"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return order + b"\0" + struct.pack(f + "HHHHH", 11, 0, len(name), len(data), 0) + pad(name) + pad(data)
def answer(s):
    s.settimeout(5)
    try:
        b = s.recv(1)
    except socket.timeout:
        return "hang"
    return "status=%d" % b[0] if b else "eof"
def case(label, payload, fds=None, close_write=False):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    if fds is None:
        s.sendall(payload)
    else:
        s.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    if close_write:
        s.shutdown(socket.SHUT_WR)
    print(label, answer(s)); s.close()
case("garbage-byte-order", b"\x00" + b"x" * 11)
case("oversized", b"l\0" + struct.pack("<HHHHH", 11, 0, 65535, 65535, 0))
case("truncated-then-closed", setup(name=b"MIT-MAGIC-COOKIE-1")[:13], close_write=True)
case("fd-passing", setup(), fds=[0])
case("no-auth", setup())
case("garbage-cookie", setup(name=b"MIT-MAGIC-COOKIE-1", data=b"\xff" * 16))
case("big-endian", setup(order=b"B", name=b"XDM-AUTHORIZATION-1", data=b"\x01" * 24))
' "$X_N" 2>&1) || fail "raw client failed: $out"
  echo "$out"
  assert_contains "$out" "garbage-byte-order eof"
  assert_contains "$out" "oversized eof"
  assert_contains "$out" "truncated-then-closed eof"
  assert_contains "$out" "fd-passing eof"
  # Whatever the client presented, the server saw the untrusted cookie and accepted it.
  assert_contains "$out" "no-auth status=1"
  assert_contains "$out" "garbage-cookie status=1"
  assert_contains "$out" "big-endian status=1"
  # The proxy still serves ordinary clients afterwards.
  sbx exec x-hostile -- xdpyinfo >/dev/null || fail "the proxy stopped serving after hostile connections"
}

test_cookie_of_a_killed_supervisor_expires() {
  # No record on disk: the proxy's anchor connection keeps the cookie in use;
  # when the supervisor dies (SIGKILL: no clean-up runs) the server drops the
  # cookie X11Proxy.cookieTimeout (10 s) after its last user disconnected.
  local win pid wid state saved sup i
  win=$(x_host_window x-keepalive3) || return 1
  read -r pid wid <<<"$win"
  it_as_user xhost -si:localuser:"$IT_USER" >/dev/null 2>&1 || true
  saved=$(x_scratch)/x-crash.xauth
  trap "set +e; kill $pid 2>/dev/null; sbx stop x-crash >/dev/null 2>&1; rm -f $saved; true" EXIT
  it_profile x-crash <<'EOF2'
command = ["sleep", "600"]
[x11]
mode = "untrusted"
EOF2
  sbx start x-crash
  x_wait_running x-crash
  state=$(it_runtime)/sandbox/x-crash
  cp "$state/Xauthority" "$saved" && chown "$IT_USER:" "$saved"
  sup=$(awk -F= '$1 == "supervisor_pid" {print $2}' "$state/state")
  [ -n "$sup" ] || fail "no supervisor pid in $state/state"
  kill -KILL "$sup"
  # Still valid right after the crash (the timeout runs from the last disconnect)…
  it_as_user env XAUTHORITY="$saved" xdpyinfo >/dev/null 2>&1 || fail "the cookie died at once (the test would not show the expiry)"
  # …and refused once the timeout ran out. (Each probe uses the cookie and so
  # restarts its timeout: wait it out without probing, then probe once.)
  sleep 11
  if it_as_user env XAUTHORITY="$saved" xdpyinfo >/dev/null 2>&1; then
    fail "the cookie of a killed supervisor still opens the display 11 s after its last use"
  fi
}

test_bulk_transfers_pass_through_the_proxy() {
  # Megabyte requests and replies in both directions exercise the proxy's
  # queues and backpressure: an untrusted client may read its OWN window.
  local win pid wid out
  win=$(x_host_window x-keepalive4) || return 1
  read -r pid wid <<<"$win"
  trap "set +e; kill $pid 2>/dev/null; sbx stop x-bulk >/dev/null 2>&1; true" EXIT
  it_profile x-bulk <<'EOF2'
command = ["sleep", "600"]
[x11]
mode = "untrusted"
EOF2
  sbx start x-bulk
  x_wait_running x-bulk
  out=$(sbx exec x-bulk -- sh -c '
    xlogo -title x-bulk-own -geometry 800x600 >/dev/null 2>&1 & p=$!
    for i in $(seq 1 50); do xwininfo -name x-bulk-own >/dev/null 2>&1 && break; sleep 0.1; done
    echo "own=$(xwd -silent -name x-bulk-own | wc -c)"
    kill $p
    x11perf -repeat 1 -time 1 -putimage500 -getimage500 2>&1 | grep -c "reps @"' 2>&1) || fail "bulk transfer failed: $out"
  echo "$out"
  # 800x600 at 32 bits per pixel is 1,920,000 bytes of image after xwd's header.
  [ "$(sed -n 's/^own=//p' <<<"$out")" -gt 1920000 ] || fail "the app could not read its own window in full: $out"
  assert_eq "$(tail -n1 <<<"$out")" 2 "x11perf PutImage/GetImage 500x500 results"
}

test_unreachable_display_with_required_false_starts_without_x() {
  # A display whose socket file exists but nobody listens (a crashed server):
  # the desktop set-up sees the socket, the supervisor's proxy cannot connect.
  local n sock out
  for n in $(seq $((X_N + 121)) $((X_N + 140))); do
    [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break
  done
  sock=/tmp/.X11-unix/X$n
  python3 -c "import socket, sys, os; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)" "$sock"
  trap "set +e; rm -f $sock; true" EXIT
  it_profile x-optional <<'EOF2'
command = ["sh", "-c", "echo ran; ls -A /tmp/.X11-unix | wc -l; test -e \"$XAUTHORITY\" && echo xauthority-present; true"]
[x11]
mode = "untrusted"
required = false
EOF2
  out=$(IT_EXTRA_ENV="DISPLAY=:$n" sbx run x-optional 2>&1) || fail "run failed: $out"
  assert_contains "$out" "cannot open display :$n"
  assert_contains "$out" "starting without X"
  assert_contains "$out" "ran"
  assert_eq "$(grep -x '[0-9]*' <<<"$out")" 0 "X sockets inside"
  assert_not_contains "$out" "xauthority-present"
  # With x11.required (the default) the same display fails the start.
  it_profile x-required <<'EOF2'
command = ["sh", "-c", "echo ran"]
[x11]
mode = "untrusted"
EOF2
  if out=$(IT_EXTRA_ENV="DISPLAY=:$n" sbx run x-required 2>&1); then fail "started without its required display: $out"; fi
  assert_contains "$out" "cannot open display :$n"
  assert_not_contains "$out" "ran"
}

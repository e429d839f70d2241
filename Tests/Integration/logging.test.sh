# Logging on the launch path: `-l LEVEL -o FILE` reaches the detached
# supervisor too, so one file tells the whole start → session → teardown story;
# at the default level nothing but notices reaches stderr.

# host rootfs, tmpfs home, no network, the user's X display and sound server,
# and an optional mount whose source is missing (one notice).
log_profile() {
  it_profile itlog <<'EOF'
description = "logging integration test"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
[x11]
mode = "trusted"
[pulse]
mode = "module"
[session]
stop_timeout = 2
[[mount]]
source = "~/does-not-exist"
target = "/data"
optional = true
EOF
}

log_file() { echo "$(it_home)/itlog.log"; }

# Waits until FILE contains TEXT (the supervisor tears down after `run` returned).
log_wait_for() {
  local file=$1 text=$2 i
  for i in $(seq 1 50); do grep -qF -- "$text" "$file" 2>/dev/null && return 0; sleep 0.1; done
  fail "$file has no line with [$text]: $(cat "$file" 2>&1)"
}

test_debug_log_file_has_the_launcher_and_supervisor_stages() {
  log_profile
  local file; file=$(log_file)
  rm -f "$file"
  sbx run -l debug -o "$file" itlog
  log_wait_for "$file" "teardown took"
  cat "$file"
  local text; text=$(cat "$file")
  # launcher
  assert_contains "$text" "profile itlog loaded from $(it_home)/.config/sandbox/profiles/itlog.toml"
  assert_contains "$text" "itlog: planned in"
  assert_contains "$text" "namespaces [user mount pid ipc uts net cgroup]"
  assert_contains "$text" "itlog: supervisor reported ready after"
  assert_contains "$text" "itlog: session /bin/true exited with status 0"
  # supervisor: spawn stages, desktop, teardown
  assert_contains "$text" "itlog: clone3: init pid"
  assert_contains "$text" "itlog: id maps written by newuidmap/newgidmap in"
  assert_contains "$text" "mount steps, pivot_root and the init ready in"
  assert_contains "$text" "x11: display :$IT_DISPLAY_NUM: 1 cookie(s) from $(it_home)/.Xauthority"
  assert_contains "$text" "pulse: the sound mediator will listen at"
  assert_contains "$text" "sound: mediator listening at"
  assert_contains "$text" "itlog: desktop set up in"
  assert_contains "$text" "itlog: container started in"
  assert_contains "$text" "exited (exit status 0); tearing down"
  # Two processes wrote it: the launcher and the supervisor (its own pid).
  local launcher supervisor
  launcher=$(grep -F "supervisor reported ready" "$file" | sed -n 's/.* sandbox\[\([0-9]*\)\].*/\1/p')
  supervisor=$(grep -F "container spawned in" "$file" | sed -n 's/.* sandbox\[\([0-9]*\)\].*/\1/p')
  [ -n "$launcher" ] && [ -n "$supervisor" ] || fail "no pids in the log lines"
  [ "$launcher" != "$supervisor" ] || fail "the supervisor's lines carry the launcher's pid $launcher"
  # Every line is "DATE TIME sandbox[PID] LEVEL label: message" at debug or above.
  local bad; bad=$(grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} sandbox\[[0-9]+\] (debug|info|notice|warning|error|critical) sandbox[a-z.]*: ' "$file" || true)
  [ -z "$bad" ] || fail "malformed log lines: $bad"
}

test_info_level_leaves_out_debug_lines() {
  log_profile
  local file; file=$(log_file)
  rm -f "$file"
  sbx -l info -o "$file" run itlog   # LXC style: the log options before the command
  log_wait_for "$file" "tearing down"
  cat "$file"
  local text; text=$(cat "$file")
  assert_contains "$text" "itlog: container started in"
  assert_contains "$text" "itlog: session /bin/true exited with status 0"
  assert_not_contains "$text" " debug " "an info-level log"
}

test_default_level_prints_only_notices_on_stderr() {
  log_profile
  local err
  err=$(sbx run itlog 2>&1 >/dev/null)
  echo "$err"
  assert_contains "$err" "sandbox: notice:" "stderr"
  local other; other=$(printf '%s\n' "$err" | grep -v '^sandbox: notice: ' || true)
  [ -z "$other" ] || fail "stderr at the default level has more than notices: $other"
}

test_debug_log_on_stderr_when_no_file() {
  log_profile
  local err
  err=$(sbx run -l debug itlog 2>&1 >/dev/null)
  echo "$err"
  assert_contains "$err" "itlog: planned in"
  # The supervisor writes to the same stderr until the container is ready.
  assert_contains "$err" "itlog: clone3: init pid"
}

test_unwritable_log_file_is_a_clear_error() {
  log_profile
  local err rc
  set +e; err=$(sbx run -o /proc/no-such-dir/sandbox.log itlog 2>&1); rc=$?; set -e
  echo "$err"
  [ "$rc" -ne 0 ] || fail "sandbox ran with an unwritable log file"
  assert_contains "$err" "cannot open log file /proc/no-such-dir/sandbox.log"
  assert_contains "$err" "writable"
  set +e; err=$(sbx run -o /etc/sandbox-test.log itlog 2>&1); rc=$?; set -e
  echo "$err"
  [ "$rc" -ne 0 ] || fail "sandbox ran with a log file in /etc"
  assert_contains "$err" "cannot open log file /etc/sandbox-test.log: permission denied"
  [ ! -e /etc/sandbox-test.log ] || fail "the log file was created"
}

# The installed CLI answers as the test user.
test_version_and_help() {
  out=$(sbx --version)
  assert_contains "$out" "0."
  out=$(sbx --help)
  assert_contains "$out" "run"
  assert_contains "$out" "doctor"
}

# A mistyped command is named as a command, with the list of the real ones.
test_unknown_command_lists_the_commands() {
  local out rc=0
  out=$(sbx bogus 2>&1) || rc=$?
  assert_eq "$rc" 64 "exit status of an unknown command"
  assert_contains "$out" "sandbox: error: unknown command 'bogus'"
  assert_contains "$out" "sandbox: hint: commands: run, exec, start, stop, list, status, create"
  assert_not_contains "$out" "_desktop" "hidden commands in the list"
  # Log options in front are not taken for the command.
  rc=0; out=$(sbx -l debug bogus 2>&1) || rc=$?
  assert_eq "$rc" 64 "exit status with -l in front"
  assert_contains "$out" "unknown command 'bogus'"
  # Real commands and the parser's own `help` still work.
  sbx help status >/dev/null || fail "sandbox help status failed"
  sbx -l debug list >/dev/null || fail "sandbox -l debug list failed"
}

# status: a stopped container of a known profile is "stopped" (exit 1); a name
# that is neither a container nor a profile is an error that says so.
test_status_of_an_unknown_name_says_so() {
  it_profile statusknown <<'EOF2'
command = ["/bin/true"]
EOF2
  local out rc=0
  out=$(sbx status statusknown 2>&1) || rc=$?
  assert_eq "$rc" 1 "exit status for a stopped container"
  assert_eq "$out" "statusknown: stopped" "status of a known, stopped profile"
  rc=0; out=$(sbx status no-such-profile-xyz 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "status of an unknown name exited 0"
  assert_contains "$out" "no container and no profile named 'no-such-profile-xyz'"
  assert_contains "$out" "sandbox profile list"
  assert_not_contains "$out" "stopped"
  rc=0; out=$(sbx status --json no-such-profile-xyz 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "status --json of an unknown name exited 0"
  assert_contains "$out" "no container and no profile named"
  # `sandbox NAME` for `sandbox run NAME`: the unknown command is named, and the profile.
  rc=0; out=$(sbx statusknown 2>&1) || rc=$?
  assert_eq "$rc" 64 "exit status of a profile name as the command"
  assert_contains "$out" "unknown command 'statusknown'"
  assert_contains "$out" "sandbox: hint: to run the profile 'statusknown': sandbox run statusknown"
  rc=0; out=$(sbx bogus 2>&1) || rc=$?
  assert_not_contains "$out" "to run the profile"
}

# One message style: every line a failing command writes to standard error is
# "sandbox: KIND: …" (the parser's own complaints included), then its usage.
test_every_error_has_the_one_prefix_style() {
  it_profile styled <<'EOF2'
[x11]
mode = 3
EOF2
  local out line
  for cmd in "bogus" "run" "run no-such-profile-xyz" "stop no-such-profile-xyz" "status no-such-profile-xyz" \
             "run styled" "profile check styled" "-l loud list" "destroy no-such-profile-xyz"; do
    # shellcheck disable=SC2086
    out=$(sbx $cmd 2>&1 >/dev/null) && fail "sandbox $cmd succeeded"
    line=$(echo "$out" | head -n1)
    case "$line" in
      "sandbox: error: "*) ;;
      *) fail "sandbox $cmd: the first line is not 'sandbox: error: …': $out" ;;
    esac
    assert_not_contains "$out" "Error: " "sandbox $cmd"
    # Beyond the parser's usage text, every line carries the prefix.
    echo "$out" | grep -v '^sandbox: \(error\|hint\|notice\|warning\): ' \
      | grep -v '^\(Help:\|Usage:\|  \)' | grep . && fail "sandbox $cmd: a line without the prefix: $out"
  done
  out=$(sbx run styled 2>&1 >/dev/null) || true
  assert_contains "$out" "sandbox: error: $(it_home)/.config/sandbox/profiles/styled.toml:2: key 'x11.mode'"
  out=$(it_as_user "$IT_PREFIX/libexec/sandbox/sandbox-supervisor" 2>&1) && fail "the supervisor ran by hand"
  assert_contains "$out" "sandbox-supervisor: error: started by"
  return 0
}

# The app's confinement inside a real container (issue 3 item 5): seccomp filter,
# no capabilities, no_new_privs. Every attack runs twice: on the host as the test
# user (the baseline: it succeeds, or fails differently) and inside the container
# through `sandbox exec` (it must fail with the documented errno).
# The probe is Tests/Policy/probe.py, passed to python3 -c so nothing has to be
# bound into the container. Docs/security.md maps each claim to these tests.

POL_PROBE=$(cat "$IT_DIR/../Policy/probe.py")

# pol_profile NAME [SECCOMP-LINE…]: a minimal host-rootfs profile.
pol_profile() {
  local name=$1; shift
  {
    cat <<'EOF'
description = "policy integration test"
command = ["sleep", "infinity"]
[rootfs]
mode = "host"
[home]
mode = "tmpfs"
[network]
mode = "none"
[seccomp]
EOF
    printf '%s\n' "$@"
  } | it_profile "$name"
}

# Stops the container when the test's subshell ends, passed or failed.
pol_cleanup_on_exit() { trap "sbx stop '$1' >/dev/null 2>&1 || true" EXIT; }

# pol_probe NAME PROBE…: the probe's output inside container NAME.
pol_probe() { local name=$1; shift; sbx exec "$name" -- python3 -c "$POL_PROBE" "$@"; }
# pol_host_probe PROBE…: the same probe on the host, as the test user, unconfined.
pol_host_probe() { it_as_user python3 -c "$POL_PROBE" "$@"; }

# pol_result OUTPUT PROBE → "ok" or "errno N"
pol_result() {
  printf '%s\n' "$1" | awk -v n="$2" '$1 == n { if ($2 == "ok") print "ok"; else print $2, $3; found = 1; exit }
                                      END { if (!found) print "missing" }'
}
# pol_status OUTPUT KEY → the /proc/self/status value the probe printed
pol_status() { printf '%s\n' "$1" | awk -v k="$2" '$1 == "status" && $2 == k { print $3 }'; }

assert_probe() { # OUTPUT PROBE EXPECTED("ok" | "errno N")
  local got; got=$(pol_result "$1" "$2")
  [ "$got" = "$3" ] || fail "$2: expected [$3], got [$got]"
}

# Attack → errno the default filter returns (EPERM 1, ENOSYS 38, EAFNOSUPPORT 97).
POL_ATTACKS=(
  "tiocsti 1" "tiocsti-high 1" "tioclinux 1"
  "keyctl 1" "add_key 1" "bpf 1" "perf_event_open 1" "userfaultfd 1" "io_uring_setup 38"
  "fsopen 38" "open_tree 38" "mount 1" "init_module 1" "kexec_load 1" "ptrace 1"
  "personality-read-implies-exec 1" "clone-newuser 1" "clone3-newuser 38" "unshare-newuser 1"
  "socket-vsock 97" "socket-vsock-high 97" "int80-getpid 38" "int80-keyctl 38"
)
# Attacks that must SUCCEED unconfined on the host, so the test can tell.
POL_HOST_SUCCEEDS=(tiocsti tiocsti-high keyctl add_key open_tree ptrace personality-read-implies-exec
                   clone-newuser clone3-newuser unshare-newuser socket-vsock socket-vsock-high int80-getpid int80-keyctl)

test_policy_app_has_filter_no_caps_and_no_new_privs() {
  pol_profile polstat 'profile = "default"'
  pol_cleanup_on_exit polstat
  local out; out=$(pol_probe polstat getpid)
  assert_eq "$(pol_status "$out" Seccomp)" 2 "Seccomp mode in /proc/self/status"
  local filters; filters=$(pol_status "$out" Seccomp_filters)
  [ "${filters:-0}" -ge 1 ] || fail "Seccomp_filters is [$filters], expected >= 1"
  assert_eq "$(pol_status "$out" NoNewPrivs)" 1 "NoNewPrivs"
  local set
  for set in CapInh CapPrm CapEff CapBnd CapAmb; do
    assert_eq "$(pol_status "$out" $set)" 0000000000000000 "$set"
  done
  assert_probe "$out" getpid ok
  # The host baseline is not confined, so these checks can fail.
  local host; host=$(pol_host_probe getpid)
  assert_eq "$(pol_status "$host" Seccomp)" 0 "host Seccomp mode"
}

test_policy_default_filter_stops_each_attack() {
  pol_profile polattack 'profile = "default"'
  pol_cleanup_on_exit polattack
  local names=() entry
  for entry in "${POL_ATTACKS[@]}"; do names+=("${entry%% *}"); done
  local inside host
  inside=$(pol_probe polattack "${names[@]}")
  host=$(pol_host_probe "${names[@]}")
  echo "inside:"; echo "$inside"; echo "host:"; echo "$host"
  local name
  for name in "${POL_HOST_SUCCEEDS[@]}"; do assert_probe "$host" "$name" ok; done
  for entry in "${POL_ATTACKS[@]}"; do
    name=${entry%% *}
    assert_probe "$inside" "$name" "errno ${entry#* }"
    [ "$(pol_result "$host" "$name")" != "$(pol_result "$inside" "$name")" ] \
      || fail "$name: same result on the unconfined host, the test proves nothing"
  done
}

test_policy_ordinary_calls_still_work() {
  pol_profile polctl 'profile = "default"'
  pol_cleanup_on_exit polctl
  local out; out=$(pol_probe polctl getpid tcgets personality-linux fork socket-unix socket-inet kcmp)
  local name
  for name in getpid tcgets personality-linux fork socket-unix socket-inet kcmp; do assert_probe "$out" "$name" ok; done
  # glibc's posix_spawn and pthread_create try clone3 first; ENOSYS makes them use clone.
  out=$(sbx exec polctl -- python3 -c 'import subprocess, threading
t = threading.Thread(target=lambda: None); t.start(); t.join()
print("spawned", subprocess.run(["/bin/true"]).returncode)')
  assert_contains "$out" "spawned 0"
  out=$(sbx exec polctl -- sh -c 'echo piped | cat')
  assert_eq "$out" piped
}

test_policy_allow_userns_lets_nested_sandboxes_work() {
  pol_profile poluserns 'profile = "default"' 'allow_userns = true'
  pol_cleanup_on_exit poluserns
  local out; out=$(pol_probe poluserns clone-newuser clone3-newuser unshare-newuser open_tree tiocsti keyctl)
  assert_probe "$out" clone-newuser ok
  assert_probe "$out" clone3-newuser ok
  assert_probe "$out" unshare-newuser ok
  # Still denied: the new mount API (CVE-2021-41133), tty injection, the keyring.
  assert_probe "$out" open_tree "errno 38"
  assert_probe "$out" tiocsti "errno 1"
  assert_probe "$out" keyctl "errno 1"
  assert_eq "$(pol_status "$out" CapBnd)" 0000000000000000 "CapBnd"
}

test_policy_multiarch_allows_i386_with_the_same_rules() {
  pol_profile polmulti 'profile = "default"' 'multiarch = true'
  pol_cleanup_on_exit polmulti
  local out; out=$(pol_probe polmulti int80-getpid int80-keyctl keyctl)
  assert_probe "$out" int80-getpid ok
  assert_probe "$out" int80-keyctl "errno 1"
  assert_probe "$out" keyctl "errno 1"
}

test_policy_profile_allow_and_deny() {
  pol_profile polallow 'profile = "default"' 'allow = ["ptrace"]' 'deny = ["kcmp"]'
  pol_cleanup_on_exit polallow
  local out; out=$(pol_probe polallow ptrace kcmp keyctl)
  assert_probe "$out" ptrace ok
  assert_probe "$out" kcmp "errno 1"
  assert_probe "$out" keyctl "errno 1"
}

test_policy_profile_none_runs_unfiltered_with_a_warning() {
  pol_profile polnone 'profile = "none"'
  pol_cleanup_on_exit polnone
  local out; out=$(sbx exec polnone -- python3 -c "$POL_PROBE" keyctl 2>&1)
  assert_contains "$out" 'seccomp.profile = "none"'
  assert_eq "$(pol_status "$out" Seccomp)" 0 "Seccomp mode"
  assert_probe "$out" keyctl ok
  # Capabilities and no_new_privs do not depend on the filter.
  assert_eq "$(pol_status "$out" NoNewPrivs)" 1 "NoNewPrivs"
  assert_eq "$(pol_status "$out" CapBnd)" 0000000000000000 "CapBnd"
}

test_policy_unknown_syscall_name_is_a_clear_error() {
  pol_profile poltypo 'profile = "default"' 'deny = ["ptrac"]'
  pol_cleanup_on_exit poltypo
  local out rc=0
  out=$(sbx exec poltypo -- true 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "sandbox exec accepted an unknown system call name"
  assert_contains "$out" "poltypo.toml"
  assert_contains "$out" "seccomp.deny"
  assert_contains "$out" "unknown system call 'ptrac'"
  assert_contains "$out" "did you mean 'ptrace'"
}

test_policy_run_session_is_confined_too() {
  # The app started by `sandbox run` (not only `exec`): the probe is the profile's command.
  {
    cat <<'EOF2'
description = "policy integration test: the probe as the app"
command = ["python3", "-c", '''
EOF2
    printf '%s\n' "$POL_PROBE"
    cat <<'EOF2'
''']
[rootfs]
mode = "host"
[home]
mode = "tmpfs"
[seccomp]
profile = "default"
EOF2
  } | it_profile polrun
  pol_cleanup_on_exit polrun
  local out; out=$(sbx run polrun -- tiocsti keyctl clone-newuser getpid)
  assert_eq "$(pol_status "$out" Seccomp)" 2 "Seccomp mode"
  assert_eq "$(pol_status "$out" NoNewPrivs)" 1 "NoNewPrivs"
  assert_eq "$(pol_status "$out" CapBnd)" 0000000000000000 "CapBnd"
  assert_probe "$out" tiocsti "errno 1"
  assert_probe "$out" keyctl "errno 1"
  assert_probe "$out" clone-newuser "errno 1"
  assert_probe "$out" getpid ok
}

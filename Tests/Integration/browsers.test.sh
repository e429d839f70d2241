# The browsers' own sandboxes inside the shipped profiles: Firefox's content
# processes and Chromium's renderers each get user (and pid or network)
# namespaces of their own and a seccomp filter of their own, stacked on the
# container's. Checked from the host in /proc, not from what the browser prints.

# br_profile NAME BASE [TOML]: the shipped BASE profile without a network (the
# check needs none), plus TOML.
br_profile() {
  it_profile "$1" <<EOF2
include = ["$2"]
[network]
mode = "none"
${3:-}
EOF2
}

# The test user's processes whose command line matches $1, one per line: PID USERNS PIDNS NETNS FILTERS ARGS
br_procs() {
  local p
  for p in $(pgrep -u "$IT_USER" -f "$1"); do
    [ -r "/proc/$p/status" ] || continue
    echo "$p $(readlink "/proc/$p/ns/user") $(readlink "/proc/$p/ns/pid") $(readlink "/proc/$p/ns/net")" \
         "$(awk '/^Seccomp_filters:/ { print $2 }' "/proc/$p/status")" "$(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-100)"
  done
}

# br_start NAME PATTERN: starts the browser headless and waits until processes
# matching PATTERN (its sandboxed children) exist; prints the table.
br_start() {
  sbx run "$1" -- --headless about:blank >"$IT_LOGS/$1.out" 2>&1 &
  local i table=""
  for i in $(seq 1 300); do
    table=$(br_procs "$2")
    [ "$(echo "$table" | grep -c .)" -ge 2 ] && break
    sleep 0.1
  done
  # The newest child may still be setting up its sandbox: wait for a table in which
  # each has a filter of its own, and give back that table (a fresh one could
  # hold a process the browser started a moment later, still setting up). Not
  # fatal here: br_assert_own_sandbox says what is missing (and the controls
  # expect it missing), from the last table read.
  for i in $(seq 1 100); do
    echo "$table" | awk '$5 < 2 { bad = 1 } END { exit bad }' && break
    sleep 0.1
    table=$(br_procs "$2")
  done
  echo "$table"
}

# Every process of $2 (the table) is sandboxed by the browser itself: a user
# namespace that is not the container's ($3), and a filter beside the container's.
br_assert_own_sandbox() {
  local what=$1 table=$2 container_userns=$3
  [ -n "$table" ] || fail "no $what processes"
  echo "$table" | awk -v ns="$container_userns" -v what="$what" '
    $2 == ns { print "FAIL: " what " " $1 " shares the container'"'"'s user namespace: " $0; bad = 1 }
    $5 < 2   { print "FAIL: " what " " $1 " has no seccomp filter of its own (" $5 "): " $0; bad = 1 }
    END { exit bad }' >&2
}

test_firefox_content_processes_run_in_firefoxs_own_sandbox() {
  command -v firefox-esr >/dev/null || fail "firefox-esr is not installed (scripts/install-deps.sh --test installs it)"
  trap 'sbx stop brff >/dev/null 2>&1 || true; sbx stop brffno >/dev/null 2>&1 || true' EXIT
  br_profile brff firefox
  local table; table=$(br_start brff 'firefox-esr -contentproc -isForBrowser')
  echo "$table"
  local main; main=$(pgrep -u "$IT_USER" -xf 'firefox-esr --headless about:blank' | head -n1)
  [ -n "$main" ] || fail "no Firefox main process: $(cat "$IT_LOGS/brff.out")"
  local ns; ns=$(readlink "/proc/$main/ns/user")
  br_assert_own_sandbox "Firefox content process" "$table" "$ns"
  # Each content process also has a network namespace of its own (no sockets).
  echo "$table" | awk -v net="$(readlink "/proc/$main/ns/net")" '$4 == net { exit 1 }' || fail "a content process shares the container's network namespace"
  assert_not_contains "$(cat "$IT_LOGS/brff.out")" "CanCreateUserNamespace() clone() failure"
  sbx stop brff >/dev/null
  # The control: without seccomp.allow_userns Firefox cannot make its namespaces
  # (and says so), which is what the shipped profile avoids.
  br_profile brffno firefox $'[seccomp]\nallow_userns = false'
  table=$(br_start brffno 'firefox-esr -contentproc -isForBrowser')
  main=$(pgrep -u "$IT_USER" -xf 'firefox-esr --headless about:blank' | head -n1)
  ns=$(readlink "/proc/$main/ns/user")
  ! br_assert_own_sandbox "Firefox content process" "$table" "$ns" 2>/dev/null || fail "the check passed without user namespaces: $table"
  assert_contains "$(cat "$IT_LOGS/brffno.out")" "CanCreateUserNamespace() clone() failure: EPERM"
}

test_chromium_renderers_run_in_chromiums_own_sandbox() {
  command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps.sh --test installs it)"
  trap 'sbx stop brcr >/dev/null 2>&1 || true' EXIT
  br_profile brcr chromium
  local table; table=$(br_start brcr 'chromium --type=renderer')
  echo "$table"
  local main; main=$(pgrep -u "$IT_USER" -f '^/usr/lib/chromium/chromium ' | while read -r p; do
                       grep -q -- '--type=' "/proc/$p/cmdline" || { echo "$p"; break; }; done)
  [ -n "$main" ] || fail "no Chromium browser process: $(cat "$IT_LOGS/brcr.out")"
  br_assert_own_sandbox "Chromium renderer" "$table" "$(readlink "/proc/$main/ns/user")"
  # Renderers also get pid namespaces of their own (the namespace sandbox).
  echo "$table" | awk -v pid="$(readlink "/proc/$main/ns/pid")" '$3 == pid { exit 1 }' || fail "a renderer shares the container's pid namespace"
  assert_not_contains "$(cat "$IT_LOGS/brcr.out")" "No usable sandbox"
}

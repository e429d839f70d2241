# The process model: the launcher plans once and hands the plan to a small
# `sandbox-supervisor`; joins and stop read the recorded plan, not the profile;
# each container has its own lock. Real containers, as the test user.

sup_profile() { # name [command-line] [env value]
  it_profile "$1" <<EOF
description = "supervisor integration test"
command = ["/bin/sh", "-c", "${2:-echo app; sleep 1000}"]
[home]
mode = "tmpfs"
[env]
ITMARK = "${3:-first}"
[session]
stop_timeout = 1
EOF
}
sup_wait() { it_wait_until $(( ${2:-50} * 150 )) "$1" eval "$1"; }
sup_pid() { pgrep -u "$IT_USER" -f "sandbox-(supervisor|monitor) $1\$" | head -n1; }
sup_bin() { echo "$IT_PREFIX/libexec/sandbox/sandbox-supervisor"; }

# Whether someone holds the flock on FILE (a non-blocking attempt fails).
sup_lock_held() { [ -e "$1" ] && ! it_as_user flock -n "$1" true; }

test_the_supervisor_links_no_cli_toml_sound_or_x_library() {
  local bin needed
  bin=$(sup_bin)
  [ -x "$bin" ] || fail "no supervisor installed at $bin"
  needed=$(readelf -d "$bin" | awk '/NEEDED/ {print $NF}' | tr -d '[]' | sort | tr '\n' ' ')
  echo "NEEDED: $needed"
  for lib in libpulse libX11 libxcb libseccomp libcap libFoundation libicu libdispatch; do
    assert_not_contains "$needed" "$lib" "the supervisor's libraries"
  done
  # Statically linked Swift modules leave their names in the symbols: no CLI
  # parser, TOML reader (and its Foundation, whose ICU data is 38 MB) or subprocess library.
  for module in ArgumentParser TOMLParser Subprocess icudt; do
    assert_eq "$(grep -a -c "$module" "$bin" || true)" "0" "$module in the supervisor"
  done
  # Both binaries are static-pie, so libraries show as their functions (make install
  # does not strip): no libseccomp or libcap in the supervisor.
  local defined; defined=$(nm --defined-only "$bin" | awk '{print $NF}')
  for fn in seccomp_init seccomp_export_bpf cap_get_proc cap_set_proc; do
    ! grep -qx "$fn" <<<"$defined" || fail "the supervisor carries $fn"
  done
  # The launcher has them (so the checks above are not vacuous).
  defined=$(nm --defined-only "$IT_PREFIX/bin/sandbox" | awk '{print $NF}')
  grep -qx seccomp_init <<<"$defined" || fail "the launcher shows no seccomp_init: the check cannot fail"
  [ "$(grep -a -c ArgumentParser "$IT_PREFIX/bin/sandbox")" -gt 0 ] || fail "the launcher shows no ArgumentParser: the check cannot fail"
}

test_the_launcher_carries_no_icu_data() {
  # The launcher reads TOML with its own parser (no TOMLKit, whose `import
  # Foundation` linked Foundation's internationalization and its 38 MB ICU data
  # segment, icudt*_dat, into every start). FoundationEssentials (through
  # ArgumentParser and Subprocess) has no ICU.
  local bin=$IT_PREFIX/bin/sandbox
  assert_eq "$(grep -a -c -e icudt -e TOMLKit -e FoundationInternationalization "$bin" || true)" "0" "ICU, TOMLKit or FoundationInternationalization in the launcher"
}

test_the_launcher_links_no_sound_or_x_library() {
  # X11 and PulseAudio are spoken in Swift (SandboxMediators) by the launcher
  # too: none of the ~25 libraries libpulse and libX11 pull in is loaded by
  # every exec, stop, list and join.
  local bin=$IT_PREFIX/bin/sandbox needed loaded
  needed=$(readelf -d "$bin" | awk '/NEEDED/ {print $NF}' | tr -d '[]' | sort | tr '\n' ' ')
  loaded=$(ldd "$bin" | awk '{print $1}' | tr '\n' ' ')
  echo "NEEDED: $needed"; echo "ldd: $loaded"
  for lib in libpulse libX11 libXau libxcb libsndfile libdbus libsystemd; do
    assert_not_contains "$needed $loaded" "$lib" "the launcher's libraries"
  done
  # It is static-pie: no library is loaded at all, and none was linked in either.
  assert_eq "$needed" "" "the launcher's NEEDED libraries"
  local defined; defined=$(nm --defined-only "$bin" | awk '{print $NF}')
  for fn in XOpenDisplay xcb_connect XauReadAuth pa_context_new pa_mainloop_new dbus_bus_get; do
    ! grep -qx "$fn" <<<"$defined" || fail "the launcher carries $fn"
  done
  # …while what it does link statically is there: the check is not vacuous.
  grep -qx seccomp_init <<<"$defined" || fail "the launcher shows no seccomp_init: the check cannot fail"
}

test_the_supervisor_runs_one_thread_and_records_the_plan() {
  sup_profile itsup
  sbx run itsup >/dev/null 2>&1 &
  sup_wait '[ -n "$(sup_pid itsup)" ] && [ -e "$(it_runtime)/sandbox/itsup/state" ]' 80 || fail "no supervisor"
  local pid; pid=$(sup_pid itsup)
  # One thread: the container is never cloned from a multithreaded process.
  assert_eq "$(awk '/^Threads:/ {print $2}' /proc/"$pid"/status)" "1" "supervisor threads"
  [ -s "$(it_runtime)/sandbox/itsup/plan" ] || fail "no recorded plan"
  assert_eq "$(stat -c %a "$(it_runtime)/sandbox/itsup/plan")" "600" "plan mode"
  assert_eq "$(head -c 7 "$(it_runtime)/sandbox/itsup/plan")" "SBXPLAN" "plan magic"
  sbx stop itsup
  sup_wait '[ ! -e "$(it_runtime)/sandbox/itsup" ]' 50 || fail "state left after stop"
}

test_a_join_runs_what_the_container_was_started_with_not_the_edited_profile() {
  # The app prints its first argument ($0 of sh -c) and, started without one, stays.
  local app='echo \"app $ITMARK $0\"; [ \"$0\" = joined ] || exec sleep 1000'
  sup_profile itjoin "$app" first
  sbx run itjoin >/dev/null 2>&1 &
  sup_wait '[ -e "$(it_runtime)/sandbox/itjoin/state" ]' 80 || fail "did not start"
  # The profile changes while the container runs: the join still gets the
  # environment the container runs with, and says the change waits for a restart.
  sup_profile itjoin "$app" second
  out=$(sbx exec itjoin -- sh -c 'echo "mark=$ITMARK"' 2>&1)
  assert_contains "$out" "mark=first" "joined session's environment"
  assert_contains "$out" "changes apply at the next start"
  # A join needs no profile at all: a broken or deleted one does not stop it.
  echo 'this is [not toml' | runuser -u "$IT_USER" -- tee "$(it_home)/.config/sandbox/profiles/itjoin.toml" >/dev/null
  out=$(sbx exec itjoin -- sh -c 'echo "mark=$ITMARK"' 2>&1)
  assert_contains "$out" "mark=first" "join with a broken profile"
  rm -f "$(it_home)/.config/sandbox/profiles/itjoin.toml"
  out=$(sbx run itjoin -- joined 2>&1)
  assert_contains "$out" "app first joined" "run of a running container, profile deleted"
  sbx stop itjoin
  sup_wait '[ ! -e "$(it_runtime)/sandbox/itjoin" ]' 50 || fail "state left after stop"
  # Once stopped, the missing profile is an error again (a start needs it).
  set +e; out=$(sbx run itjoin 2>&1); rc=$?; set -e
  [ "$rc" -ne 0 ] || fail "a start without a profile succeeded"
  assert_contains "$out" "no profile named 'itjoin'"
}

test_a_container_holding_its_lock_does_not_block_another() {
  sup_profile itlocka "true"
  sup_profile itlockb "echo b-ran"
  local rt holder; rt=$(it_runtime)/sandbox
  it_as_user mkdir -p "$rt"
  # Someone holds A's lock (as a slow start does, waiting on a sound server).
  it_as_user flock "$rt/itlocka.lock" sleep 7.5 >/dev/null 2>&1 &
  holder=$!
  it_wait_until 3000 "flock to hold $rt/itlocka.lock" sup_lock_held "$rt/itlocka.lock"
  out=$(it_as_user timeout 10 "$IT_PREFIX/bin/sandbox" run itlockb 2>&1) || fail "B did not run while A's lock was held: $out"
  assert_contains "$out" "b-ran"
  # A itself waits for its lock.
  set +e; it_as_user timeout 1 "$IT_PREFIX/bin/sandbox" run itlocka >/dev/null 2>&1; rc=$?; set -e
  assert_eq "$rc" "124" "A's start while its lock was held"
  pkill -u "$IT_USER" -f "^sleep 7.5$" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
}

test_the_supervisor_refuses_to_run_by_hand_or_with_a_damaged_plan() {
  local bin; bin=$(sup_bin)
  set +e; out=$(it_as_user "$bin" 2>&1 </dev/null); rc=$?; set -e
  assert_eq "$rc" "2" "exit status without the launcher's descriptors"
  assert_contains "$out" "not run by hand"
  # A damaged plan on fd 3: a failure record on fd 4, exit 1, nothing started.
  out=$(it_as_user bash -c "exec 3< <(printf 'SBXPLAN\\001\\377\\377\\377\\377') 4>&1; exec '$bin' x" 2>/dev/null | tr -c '[:print:]' ' ' || true)
  assert_contains "$out" "damaged plan" "the failure record"
  [ -z "$(pgrep -u "$IT_USER" -f 'sandbox-init')" ] || fail "something started"
  # An empty plan: the launcher started it before planning and then gave up (a
  # profile error). It exits 0 at once, says nothing and starts nothing.
  set +e; out=$(it_as_user bash -c "exec 3</dev/null 4>&1; exec '$bin' x" 2>&1); rc=$?; set -e
  assert_eq "$rc" "0" "exit status with an empty plan"
  assert_eq "$out" "" "what it says with an empty plan"
  [ -z "$(pgrep -u "$IT_USER" -f 'sandbox-init')" ] || fail "something started"
  # The monitor and the supervisor's teardown are not for hands either.
  local monitor=$IT_PREFIX/libexec/sandbox/sandbox-monitor
  set +e; out=$(it_as_user "$monitor" x 2>&1); rc=$?; set -e
  assert_eq "$rc" "2" "the monitor's exit status without its descriptors"
  assert_contains "$out" "not run by hand"
  set +e; out=$(it_as_user env SANDBOX_MONITOR_FDS="3 4 5 6 7 8" "$monitor" x 2>&1 3</dev/null); rc=$?; set -e
  assert_eq "$rc" "2" "the monitor's exit status with descriptors that are not open"
  set +e; out=$(it_as_user "$bin" --finish x 2>&1 3<&-); rc=$?; set -e
  assert_eq "$rc" "1" "--finish without a record"
  assert_contains "$out" "not run by hand"
  # A damaged record: an error, and nothing removed.
  it_as_user mkdir -p "$(it_runtime)/sandbox/x"
  set +e; out=$(it_as_user bash -c "exec 3< <(printf 'SBXHAND\\001\\377'); exec '$bin' --finish x" 2>&1); rc=$?; set -e
  assert_eq "$rc" "1" "--finish with a damaged record"
  assert_contains "$out" "damaged teardown record"
  [ -d "$(it_runtime)/sandbox/x" ] || fail "a damaged record removed a state directory"
  it_as_user rmdir "$(it_runtime)/sandbox/x"
}

# A container with nothing to mediate (no sound, X11 or bus proxy): once it runs,
# its supervisor becomes sandbox-monitor (C) by execve — the same pid, still the
# init's parent and the pid in the state file — which admits launchers, holds the
# lifeline, and at the init's exit executes the supervisor again to tear down.
# (dbus.test.sh shows a mediating supervisor staying the Swift program; engine.test.sh
# SIGKILLs the monitor and the container stops.)
test_a_container_with_nothing_to_mediate_waits_in_the_monitor() {
  sup_profile itmon
  local log rt; log=$(it_home)/itmon.log rt=$(it_runtime)/sandbox/itmon
  rm -f "$log"
  sbx -l debug -o "$log" start itmon
  sup_wait '[ "$(readlink /proc/"$(sup_pid itmon)"/exe 2>/dev/null)" = "$IT_PREFIX/libexec/sandbox/sandbox-monitor" ]' 50 \
    || fail "the supervisor did not become the monitor: $(readlink /proc/"$(sup_pid itmon)"/exe)"
  local pid init; pid=$(sup_pid itmon)
  assert_eq "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "sandbox-monitor itmon " "what ps shows"
  assert_eq "$(sed -n 's/^supervisor_pid=//p' "$rt/state")" "$pid" "the state file's supervisor pid"
  init=$(sed -n 's/^init_pid=//p' "$rt/state")
  assert_eq "$(awk '/^PPid:/ {print $2}' /proc/"$init"/status)" "$pid" "the init's parent"
  assert_eq "$(awk '/^Threads:/ {print $2}' /proc/"$pid"/status)" "1" "monitor threads"
  # Only what it needs: stdio, the init's pidfd, the listening socket, the handoff
  # pair's end, the lifeline, the supervisor's binary and the teardown record.
  assert_eq "$(ls /proc/"$pid"/fd | wc -l)" "9" "the monitor's descriptors"
  ls -l /proc/"$pid"/fd | grep -q -- "-> $IT_PREFIX/libexec/sandbox/sandbox-supervisor" || fail "the monitor does not hold the supervisor's binary"
  # It serves joins through the same gate, and refuses a process of another pid
  # namespace (a container's) by the same rule, logged in the same file.
  assert_contains "$(sbx exec itmon -- sh -c 'echo "joined $ITMARK"')" "joined first"
  it_as_user unshare --user --map-current-user --pid --fork python3 -c "
import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect('$rt/control.sock')
s.send(b'x' * 40); s.settimeout(5)
try: print('reply', s.recv(16))
except OSError as e: print('closed', e)" || true
  sup_wait 'grep -q "sandbox\[$pid\] info sandbox.engine: itmon: control: refused a connection: peer pid [0-9]* is not a process of the user.s own pid namespace" "$log"' 20 \
    || { cat "$log"; fail "the monitor did not log the refusal"; }
  assert_contains "$(sbx exec itmon -- echo still-served)" "still-served"
  # Stop: the teardown is the supervisor's again (same pid), and removes the state.
  sbx stop itmon
  [ ! -e "$rt" ] || fail "state left after stop"
  [ -z "$(sup_pid itmon)" ] || fail "the monitor outlived the container"
  grep -q "sandbox\[$pid\] info sandbox.engine: itmon: init $init exited (exit status 0); tearing down" "$log" || { cat "$log"; fail "no teardown by the supervisor"; }
  grep -q "sandbox\[$pid\] debug sandbox.engine: itmon: state removed" "$log" || { cat "$log"; fail "no state removal logged"; }
}

# The monitor holds the lifeline as the supervisor did: killed (even by SIGKILL),
# the init sees EOF and the container stops; the next start finds the state stale.
test_a_killed_monitor_stops_its_container() {
  sup_profile itmonkill
  sbx start itmonkill
  sup_wait '[ "$(readlink /proc/"$(sup_pid itmonkill)"/exe 2>/dev/null)" = "$IT_PREFIX/libexec/sandbox/sandbox-monitor" ]' 50 \
    || fail "the supervisor did not become the monitor"
  local pid init; pid=$(sup_pid itmonkill)
  init=$(sed -n 's/^init_pid=//p' "$(it_runtime)/sandbox/itmonkill/state")
  kill -KILL "$pid"
  sup_wait '! kill -0 '"$init"' 2>/dev/null' 50 || fail "the container's init $init outlived its monitor"
  [ -z "$(pgrep -u "$IT_USER" -f 'sleep 1000')" ] || fail "the app outlived the monitor"
  assert_contains "$(sbx status itmonkill 2>&1 || true)" "stale"
  assert_contains "$(sbx exec itmonkill -- echo fresh 2>&1)" "fresh"
  sbx stop itmonkill >/dev/null 2>&1 || true
}

# Issue 9 #8: a fork bomb inside stops at the container's own process limit,
# while the same user can still start programs on the host.
test_a_fork_bomb_stops_at_the_containers_process_limit() {
  it_profile itbomb <<'EOF'
description = "bounded fork bomb"
command = ["/bin/sh"]
[home]
mode = "tmpfs"
[limits]
processes = 40
[session]
stop_timeout = 1
EOF
  # Fork up to 120 sleepers (bounded: each sleeps 30 s), count those that started,
  # then stay (python: dash gives up the whole script at the first failed fork).
  local bomb='import os, time
n = 0
for i in range(120):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print("started=%d" % n, flush=True)
time.sleep(30)'
  sbx run itbomb -- -c "exec python3 -c '$bomb'" >"$IT_STATE/bomb.out" 2>&1 &
  local runner=$!
  sup_wait 'grep -q started= "$IT_STATE/bomb.out" 2>/dev/null' 150 || fail "the bomb did not report: $(cat "$IT_STATE/bomb.out")"
  local started; started=$(sed -n 's/.*started=\([0-9]*\).*/\1/p' "$IT_STATE/bomb.out")
  echo "children started inside: $started"
  [ "$started" -lt 40 ] || fail "$started processes started past a limit of 40"
  [ "$started" -ge 20 ] || fail "only $started started: the limit is not what stopped it"
  # The host is unaffected: the same user starts processes at once.
  it_as_user sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true || exit 1; done; echo host-ok' | grep -q host-ok || fail "the user cannot start processes on the host"
  # status shows the count and the limit.
  out=$(sbx status itbomb)
  echo "$out"
  assert_contains "$out" "(limit 40 per user)"
  sbx stop itbomb --timeout 0 >/dev/null 2>&1 || true
  wait "$runner" 2>/dev/null || true
}

# Issue 9 #3 (a): the runtime creates mount points inside the app's private home
# on the host; a directory the app turned into a symlink is not followed.
test_a_symlink_planted_in_the_private_home_does_not_steer_the_launchers_mkdir() {
  local h; h=$(it_home)
  runuser -u "$IT_USER" -- mkdir -p "$h/itmedia-src"
  it_profile itdir <<'EOF'
description = "plants a link in its home"
command = ["/bin/sh"]
[session]
stop_timeout = 1
EOF
  # The app, in its private home: ~/media now leads to the user's sandbox profiles.
  sbx run itdir -- -c 'rm -rf "$HOME/media"; ln -s "$HOME/.config/sandbox/profiles" "$HOME/media"'
  [ -L "$h/.local/share/sandbox/itdir/home/media" ] || fail "the link was not planted"
  it_profile itdir <<'EOF'
description = "plants a link in its home"
command = ["/bin/sh"]
[session]
stop_timeout = 1
[[mount]]
source = "~/itmedia-src"
target = "~/media/music"
EOF
  set +e; out=$(sbx run itdir -- -c 'echo started' 2>&1); rc=$?; set -e
  echo "$out"
  [ ! -e "$h/.config/sandbox/profiles/music" ] || fail "the launcher created a directory in ~/.config/sandbox/profiles through the app's link"
  [ "$rc" -ne 0 ] || fail "the start went ahead through the link"
  assert_contains "$out" "is a symlink or not a directory"
  assert_not_contains "$out" "started"
  # Once the user removes it, the start works again.
  rm -f "$h/.local/share/sandbox/itdir/home/media"
  assert_contains "$(sbx run itdir -- -c 'echo started')" "started"
}

# Issue 10: quieter starts. A missing optional device is said at the profile's
# first start, not at every click; the log has it every time.
test_machine_facts_are_said_once_and_logged_always() {
  [ ! -e /dev/dri ] || { echo "this machine has /dev/dri; using video instead"; }
  local dev=dri; [ ! -e /dev/dri ] || dev=video
  [ -z "$(ls /dev/video* 2>/dev/null)" ] || [ "$dev" = dri ] || { echo "no absent device to test with"; return 0; }
  it_profile itquiet <<EOF
description = "an optional device this machine lacks"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[devices]
$dev = true
EOF
  rm -rf "$(it_home)/.local/share/sandbox/itquiet"
  local log="$IT_STATE/quiet.log"; rm -f "$log"; touch "$log"; chmod 666 "$log"
  out=$(sbx -l info -o "$log" run itquiet 2>&1)
  assert_contains "$out" "devices.$dev:"
  out=$(sbx -l info -o "$log" run itquiet 2>&1)
  assert_not_contains "$out" "devices.$dev:" "the second start's output"
  assert_eq "$(grep -c "itquiet: devices.$dev:" "$log")" "2" "log lines about the device"
  # A change of the facts is said again (here: the profile no longer asks for it,
  # then asks again).
  sed -i "s/^$dev = true/$dev = false/" "$(it_home)/.config/sandbox/profiles/itquiet.toml"
  sbx run itquiet >/dev/null 2>&1
  sed -i "s/^$dev = false/$dev = true/" "$(it_home)/.config/sandbox/profiles/itquiet.toml"
  assert_contains "$(sbx run itquiet 2>&1)" "devices.$dev:" "after the facts changed"
}

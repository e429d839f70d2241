#!/usr/bin/env bash
# The Debian package end to end, as root, on this machine (.ci/run runs it after
# `make check`):
#   1. builds it with `make deb` in a clean clone of HEAD, and runs lintian (no E:)
#   2. installs it with `apt-get install ./sandbox_*.deb`; checks sandbox-net is
#      4755 root:root, the completion files, the bridge unit not enabled, the
#      AppArmor profile put in /etc/apparmor.d only where AppArmor 4 is
#      (abi/4.0, through the package's trigger); a decoy /usr/local install
#      must not be used by /usr/bin/sandbox
#   3. as a test user: `sandbox doctor`, a `sandbox run`, then `sandbox start` of
#      a container that stays
#   4. upgrades to a second build (version +upgradetest) with a
#      dpkg-statoverride on sandbox-net: the running container's supervisor
#      survives (its binary now deleted), joins work, a new start runs the new
#      supervisor, and the override's mode wins
#   5. purges it: no path the package installed (or its scripts made) is left,
#      dpkg forgets it, and the user's ~/.local/share/sandbox is unchanged.
# Prints each step's time. Needs the Swift toolchain (SWIFT=, else PATH, else
# /opt/swift/usr/bin/swift) and the Debian mirror (install-deps --deb).
#   Tests/Package/deb.sh     DEB_TEST_USER (sbdeb), DEB_TEST_SUBID (800000),
#                            DEB_TEST_WORK (default: a mktemp dir, removed at the end),
#                            DEB_TEST_REUSE=1 (reuse DEB_TEST_WORK's clone and build)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "deb.sh installs and purges a package: run it as root" >&2
  exit 1
fi
if dpkg-query -W -f='${Status}' sandbox 2>/dev/null | grep -q 'installed\|config-files'; then
  echo "deb.sh: a sandbox package is already on this machine ($(dpkg-query -W -f='${Version}' sandbox)); remove it first (apt-get purge sandbox): this test installs and purges its own" >&2
  exit 1
fi

DEB_TEST_USER=${DEB_TEST_USER:-sbdeb}
DEB_TEST_SUBID=${DEB_TEST_SUBID:-800000}
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
work=${DEB_TEST_WORK:-$(mktemp -d /tmp/sandbox-deb.XXXXXX)}
mkdir -p "$work" && chmod 755 "$work"

# lib.sh: it_make_user, it_as, fail and the assertions. Nothing of the
# integration harness is started (no X, no sound): the package's own paths only.
IT_USER=$DEB_TEST_USER IT_PREFIX=/nonexistent-prefix IT_STATE=$work/it
# shellcheck source=../Integration/lib.sh
. "$ROOT/Tests/Integration/lib.sh"
IT_USER=$DEB_TEST_USER
# The installed launcher by its path (a /usr/local one may come first on PATH), in
# a login-like environment without a desktop (no DISPLAY: doctor's x11 line WARNs).
sb() {
  runuser -u "$DEB_TEST_USER" -- env -i HOME="$(it_home)" USER="$DEB_TEST_USER" LOGNAME="$DEB_TEST_USER" \
    LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$(it_runtime)" /usr/bin/sandbox "$@"
}

step_start=0
step() { step_start=$(date +%s); printf '\n== %s\n' "$*"; }
step_done() { printf -- '-- %s: %d s\n' "$1" $(( $(date +%s) - step_start )); timings+=("$1 $(( $(date +%s) - step_start )) s"); }
timings=()
die() { echo "FAIL: $*" >&2; exit 1; }

# Whatever happens, the machine is left as found: no package, no decoys, no
# fake AppArmor 4 marker, no statoverride, no container of the test user.
made_decoy=0 made_abi4=0 made_override=0 made_usernet=0
cleanup() {
  pkill -KILL -u "$DEB_TEST_USER" 2>/dev/null || true
  if dpkg-query -W -f='${Status}' sandbox 2>/dev/null | grep -q 'installed\|config-files'; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sandbox >/dev/null 2>&1 || true
  fi
  [ "$made_override" = 1 ] && dpkg-statoverride --remove /usr/libexec/sandbox/sandbox-net >/dev/null 2>&1
  [ "$made_abi4" = 1 ] && rm -f /etc/apparmor.d/abi/4.0
  [ "$made_decoy" = 1 ] && rm -rf /usr/local/libexec/sandbox
  [ "$made_usernet" = 1 ] && rm -f /etc/sandbox/usernet
  if [ -z "${DEB_TEST_KEEP:-}" ] && [ -z "${DEB_TEST_WORK:-}" ]; then
    rm -rf "$work"
    # SwiftPM's lock files for the clone's build directory, named after its path.
    rm -f /tmp/"$(echo "$work" | tr / _)"_src_.build*.lock
  fi
  true
}
trap cleanup EXIT

# --- 1. build in a clean clone, lintian -------------------------------------
step "build: make deb in a clean clone of $(git -C "$ROOT" rev-parse --short HEAD)"
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo "note: $ROOT has uncommitted changes; the package is built from HEAD without them"
# DEB_TEST_REUSE=1 with DEB_TEST_WORK of an earlier run: rebuild in that clone (incremental).
if [ -z "${DEB_TEST_REUSE:-}" ] || [ ! -d "$work/src/.git" ]; then
  rm -rf "$work/src"
  git clone -q "$ROOT" "$work/src" || die "git clone of $ROOT failed"
fi
make -C "$work/src" --no-print-directory deb SWIFT="$SWIFT" >"$work/build-a.log" 2>&1 \
  || { tail -n 40 "$work/build-a.log"; die "make deb failed (log: $work/build-a.log)"; }
deb_dir=$work/src/.build/deb
version_a=$(cd "$work/src" && scripts/version.sh)
deb_a=$(ls "$deb_dir"/sandbox_"$version_a"_*.deb 2>/dev/null) || die "make deb made no sandbox_${version_a}_*.deb in $deb_dir"
cp "$deb_a" "$work/"
echo "built $(basename "$deb_a") ($(du -h "$deb_a" | cut -f1))"
# The static-pie binaries name the sources they carry.
static_using=$(dpkg-deb -f "$deb_a" Built-Using)
echo "Built-Using: $static_using"
for src in glibc 'gcc-[0-9]*' libseccomp libcap2; do
  # shellcheck disable=SC2254
  case ", $static_using" in *", "$src" (= "*) ;; *) die "Built-Using does not name $src: [$static_using]" ;; esac
done
step_done "make deb (clean clone)"

step "lintian"
lintian --pedantic "$deb_dir"/sandbox_"$version_a"_*.changes >"$work/lintian.log" 2>&1
grep -v '^running with root privileges' "$work/lintian.log" || true
errors=$(grep -c '^E:' "$work/lintian.log" || true)
warnings=$(grep -c '^W:' "$work/lintian.log" || true)
echo "lintian: $errors errors, $warnings warnings (every remaining tag is overridden with a reason in debian/sandbox.lintian-overrides)"
[ "$errors" = 0 ] || die "lintian reports errors"
[ "$warnings" = 0 ] || die "lintian reports warnings (fix them, or override them with a reason in debian/sandbox.lintian-overrides)"
step_done "lintian"

# --- 2. install ------------------------------------------------------------
step "install with apt-get install ./$(basename "$deb_a")"
rm -f /tmp/sandbox-deb-decoy-ran
# A decoy source install in /usr/local: /usr/bin/sandbox must use its own
# supervisor, never one found elsewhere.
if [ ! -e /usr/local/libexec/sandbox ]; then
  mkdir -p /usr/local/libexec/sandbox
  printf '#!/bin/sh\ntouch /tmp/sandbox-deb-decoy-ran; echo "decoy /usr/local supervisor ran" >&2; exit 1\n' >/usr/local/libexec/sandbox/sandbox-supervisor
  cp /usr/local/libexec/sandbox/sandbox-supervisor /usr/local/libexec/sandbox/sandbox-net
  chmod 755 /usr/local/libexec/sandbox/*
  made_decoy=1
fi
# Which of the package's paths exist before it: shared directories (/usr/bin…) stay after a purge.
dpkg-deb -c "$deb_a" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$work/paths"
while read -r p; do [ -e "$p" ] && echo "$p"; done <"$work/paths" >"$work/existed-before"
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "./$(basename "$deb_a")") >"$work/install-a.log" 2>&1 \
  || { tail -n 30 "$work/install-a.log"; die "apt-get install ./$(basename "$deb_a") failed"; }
assert_eq "$(dpkg-query -W -f='${Status} ${Version}' sandbox)" "install ok installed $version_a" "dpkg's record" || exit 1
assert_eq "$(stat -c '%a %U:%G' /usr/libexec/sandbox/sandbox-net)" "4755 root:root" "sandbox-net's mode and owner" || exit 1
for f in /usr/share/bash-completion/completions/sandbox /usr/share/zsh/vendor-completions/_sandbox \
         /usr/share/fish/vendor_completions.d/sandbox.fish; do
  [ -s "$f" ] || die "no completion file $f"
  grep -q -- '---completion run' "$f" || die "$f does not complete profile names (no '---completion run' hook)"
done
echo "completions: bash, zsh and fish files present"
[ -e /etc/systemd/system/multi-user.target.wants/sandbox-net.service ] && die "the package enabled sandbox-net.service"
[ -f /lib/systemd/system/sandbox-net.service ] || die "no /lib/systemd/system/sandbox-net.service"
grep -q '^ExecStart=/usr/libexec/sandbox/sandbox-net-setup ' /lib/systemd/system/sandbox-net.service || die "the unit does not run /usr/libexec/sandbox/sandbox-net-setup"
# Never started or restarted by the package: no maintainer script starts the bridge unit.
dpkg-deb -e "$deb_a" "$work/control-a"
grep -nE 'deb-systemd-invoke +(start|restart|try-restart|reload)|systemctl +(start|restart|try-restart)' "$work"/control-a/{preinst,postinst,prerm,postrm} 2>/dev/null \
  && die "a maintainer script starts or restarts sandbox-net.service"
[ -f /etc/sandbox/usernet.example ] || die "no /etc/sandbox/usernet.example"
dpkg-query -W -f='${Conffiles}\n' sandbox | grep -q /etc/sandbox/usernet.example || die "usernet.example is not a conffile"
step_done "install"

step "AppArmor profile: only where AppArmor 4 is, through the trigger on /etc/apparmor.d/abi"
if [ -e /etc/apparmor.d/abi/4.0 ]; then
  echo "this host has AppArmor 4"
  [ -f /etc/apparmor.d/sandbox ] || die "AppArmor 4 is here but the package installed no /etc/apparmor.d/sandbox"
elif [ -d /etc/apparmor.d/abi ]; then
  [ -e /etc/apparmor.d/sandbox ] && die "AppArmor 3 host: /etc/apparmor.d/sandbox would make apparmor.service fail"
  echo "AppArmor 3 (Debian 12): no /etc/apparmor.d/sandbox, as it must be"
  # AppArmor 4 arrives: a package adds abi/4.0, dpkg runs our trigger. Stand in
  # for the apparmor package with a marker file and an explicit trigger.
  cp /etc/apparmor.d/abi/3.0 /etc/apparmor.d/abi/4.0 && made_abi4=1
  dpkg-trigger --no-await /etc/apparmor.d/abi && dpkg --triggers-only --pending >"$work/trigger.log" 2>&1 \
    || { cat "$work/trigger.log"; die "the trigger did not run"; }
  [ -f /etc/apparmor.d/sandbox ] || die "the trigger did not install /etc/apparmor.d/sandbox"
  grep -q '^profile sandbox /usr/bin/sandbox flags=(unconfined) {' /etc/apparmor.d/sandbox || die "/etc/apparmor.d/sandbox does not name /usr/bin/sandbox"
  grep -q '^profile sandbox-supervisor /usr/libexec/sandbox/sandbox-supervisor ' /etc/apparmor.d/sandbox || die "/etc/apparmor.d/sandbox does not name the supervisor"
  echo "with abi/4.0: /etc/apparmor.d/sandbox installed by the trigger"
  rm -f /etc/apparmor.d/abi/4.0
  dpkg-trigger --no-await /etc/apparmor.d/abi && dpkg --triggers-only --pending >/dev/null 2>&1
  [ -e /etc/apparmor.d/sandbox ] && die "abi/4.0 went away but /etc/apparmor.d/sandbox stayed"
  echo "without abi/4.0 again: removed"
  # Back with AppArmor 4 for the rest: the purge must remove the profile too.
  cp /etc/apparmor.d/abi/3.0 /etc/apparmor.d/abi/4.0
  dpkg-trigger --no-await /etc/apparmor.d/abi && dpkg --triggers-only --pending >/dev/null 2>&1
  [ -f /etc/apparmor.d/sandbox ] || die "the trigger did not reinstall /etc/apparmor.d/sandbox"
else
  echo "no AppArmor userspace here (install-deps --deb installs apparmor): profile placement not checked"
fi
step_done "apparmor"

# --- 3. as a user --------------------------------------------------------------
step "as $DEB_TEST_USER: doctor, run, start"
it_make_user "$DEB_TEST_USER" "$DEB_TEST_SUBID" || die "cannot create the test user $DEB_TEST_USER"
out=$(sb doctor 2>&1) || { echo "$out"; die "sandbox doctor says run cannot work"; }
echo "$out"
assert_contains "$out" "ok    sandbox-net: /usr/libexec/sandbox/sandbox-net is setuid root" "doctor" || exit 1
for name in debtest debtest2; do
  printf 'description = "package test"\ncommand = ["/bin/sh", "-c", "echo ran-from-package; id -un"]\n[home]\nmode = "private"\n[session]\nstop_timeout = 2\n' | it_profile "$name"
done
out=$(sb run debtest 2>&1) || { echo "$out"; die "sandbox run debtest failed"; }
echo "$out"
assert_contains "$out" "ran-from-package"$'\n'"$DEB_TEST_USER" "sandbox run's output" || exit 1
[ -e /tmp/sandbox-deb-decoy-ran ] && die "the /usr/local decoy supervisor ran"
sb start debtest >"$work/start.log" 2>&1 || { cat "$work/start.log"; die "sandbox start debtest failed"; }
# Nothing to mediate in this profile: the supervisor has become the monitor (same pid).
sup_pid() { pgrep -u "$DEB_TEST_USER" -f "sandbox-(supervisor|monitor) $1\$" | head -n1; }
# (It becomes the monitor once the container has run for half a second.)
sup_waiting() { [ "$(readlink /proc/"$(sup_pid "$1")"/exe 2>/dev/null)" = /usr/libexec/sandbox/sandbox-monitor ]; }
it_wait_until 5000 "debtest's supervisor to become the monitor" sup_waiting debtest || exit 1
pid_a=$(sup_pid debtest)
[ -n "$pid_a" ] || die "no supervisor for the started container"
assert_eq "$(readlink /proc/"$pid_a"/exe)" "/usr/libexec/sandbox/sandbox-monitor" "the running supervisor's binary (its waiting form)" || exit 1
data=$(it_home "$DEB_TEST_USER")/.local/share/sandbox
runuser -u "$DEB_TEST_USER" -- sh -c "echo keep-me >'$data/debtest/home/user-file'" || die "cannot write in the private home"
step_done "doctor, run, start"

# --- 4. upgrade while the container runs --------------------------------------
step "upgrade to a second build while debtest runs"
version_b="$version_a+upgradetest"
make -C "$work/src" --no-print-directory deb SWIFT="$SWIFT" DEB_VERSION="$version_b" >"$work/build-b.log" 2>&1 \
  || { tail -n 40 "$work/build-b.log"; die "make deb DEB_VERSION=$version_b failed"; }
deb_b=$(ls "$deb_dir"/sandbox_"$version_b"_*.deb) || die "no package for $version_b"
cp "$deb_b" "$work/"
# An administrator's override: sandbox-net not setuid. dpkg must apply it when it unpacks the new version.
dpkg-statoverride --add root root 0755 /usr/libexec/sandbox/sandbox-net && made_override=1
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "./$(basename "$deb_b")") >"$work/install-b.log" 2>&1 \
  || { tail -n 30 "$work/install-b.log"; die "the upgrade failed"; }
assert_eq "$(dpkg-query -W -f='${Version}' sandbox)" "$version_b" "version after the upgrade" || exit 1
assert_eq "$(stat -c '%a %U:%G' /usr/libexec/sandbox/sandbox-net)" "755 root:root" "sandbox-net under the administrator's dpkg-statoverride" || exit 1
kill -0 "$pid_a" 2>/dev/null || die "the upgrade killed the running container's supervisor (pid $pid_a)"
assert_eq "$(readlink /proc/"$pid_a"/exe)" "/usr/libexec/sandbox/sandbox-monitor (deleted)" "the old monitor runs the replaced binary" || exit 1
# …and holds the old supervisor open, for its teardown at stop (below).
ls -l /proc/"$pid_a"/fd | grep -q '/usr/libexec/sandbox/sandbox-supervisor (deleted)' || die "the old monitor does not hold the old supervisor"
out=$(sb status debtest 2>&1) || { echo "$out"; die "sandbox status debtest: not running after the upgrade"; }
out=$(sb exec debtest -- /bin/sh -c 'echo joined-after-upgrade' 2>&1) || { echo "$out"; die "joining the running container after the upgrade failed"; }
assert_contains "$out" "joined-after-upgrade" "exec after the upgrade" || exit 1
sb start debtest2 >"$work/start2.log" 2>&1 || { cat "$work/start2.log"; die "a new start after the upgrade failed"; }
it_wait_until 5000 "debtest2's supervisor to become the monitor" sup_waiting debtest2 || exit 1
pid_b=$(sup_pid debtest2)
[ -n "$pid_b" ] || die "no supervisor for the container started after the upgrade"
assert_eq "$(readlink /proc/"$pid_b"/exe)" "/usr/libexec/sandbox/sandbox-monitor" "a new start's monitor (the new binary)" || exit 1
echo "supervisor $pid_a (started before) survived; $pid_b (started after) runs the new binary"
sb stop debtest >/dev/null 2>&1 || die "sandbox stop debtest failed"
# The old build's teardown ran (from the deleted binary the monitor held): no state left.
[ ! -e "$(it_runtime "$DEB_TEST_USER")/sandbox/debtest" ] || die "the state of the container started before the upgrade was left after stop"
sb stop debtest2 >/dev/null 2>&1 || die "sandbox stop debtest2 failed"
dpkg-statoverride --remove /usr/libexec/sandbox/sandbox-net && made_override=0
step_done "upgrade"

# --- 5. purge ------------------------------------------------------------------
step "purge"
# The administrator's own /etc/sandbox/usernet is no file of the package: it stays.
made_usernet=0
[ -e /etc/sandbox/usernet ] || { printf '# deb.sh: an administrator'"'"'s file\n' >/etc/sandbox/usernet && made_usernet=1; }
usernet_before=$(sha256sum /etc/sandbox/usernet)
# The administrator's AppArmor additions go with the package's profile on purge.
if [ -d /etc/apparmor.d/local ]; then
  echo '# deb.sh: a local addition' >/etc/apparmor.d/local/sandbox
  echo '# deb.sh: a local addition' >/etc/apparmor.d/local/sandbox-supervisor
fi
(cd "$data" && find . -printf '%p %y %s %m %T@\n' | sort) >"$work/userdata-before"
{ dpkg -L sandbox | grep -vx '/\.'; ls -d /etc/apparmor.d/sandbox /etc/apparmor.d/local/sandbox* 2>/dev/null; } | sort -u >"$work/installed"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sandbox >"$work/purge.log" 2>&1 || { tail -n 30 "$work/purge.log"; die "apt-get purge sandbox failed"; }
assert_eq "$(sha256sum /etc/sandbox/usernet 2>&1)" "$usernet_before" "/etc/sandbox/usernet after the purge" || exit 1
if [ "$made_usernet" = 1 ]; then
  rm -f /etc/sandbox/usernet && made_usernet=0
  # dpkg kept /etc/sandbox only for that file.
  grep -qx /etc/sandbox "$work/existed-before" || rmdir /etc/sandbox
fi
left=$(sort -u "$work/installed" "$work/paths" | grep -vxF -f "$work/existed-before" | while read -r p; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done)
[ -z "$left" ] || die "left after the purge: $left"
dpkg-query -W -f='${Status}' sandbox 2>/dev/null | grep -q 'installed\|config-files' && die "dpkg still knows sandbox: $(dpkg-query -W -f='${Status}' sandbox)"
ls /var/lib/dpkg/info/sandbox.* >/dev/null 2>&1 && die "dpkg's scripts for sandbox are still in /var/lib/dpkg/info"
(cd "$data" && find . -printf '%p %y %s %m %T@\n' | sort) >"$work/userdata-after"
diff -u "$work/userdata-before" "$work/userdata-after" || die "the purge changed $data"

echo "nothing of the package is left ($(wc -l <"$work/installed") paths checked); $data unchanged ($(wc -l <"$work/userdata-after") entries)"
step_done "purge"

printf '\npackage test passed:\n'; printf '  %s\n' "${timings[@]}"

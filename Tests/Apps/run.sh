#!/usr/bin/env bash
# make apps: every app of Tests/Apps/catalog installed from Debian and run for
# real on the integration tests' desktop (Xvfb and PulseAudio as the test user,
# the installed release build; Tests/Integration/lib.sh):
#   apt-get install (as root, outside the sandbox), `sandbox profile check`,
#   `sandbox run` timed to the first window, a screenshot, the tone heard for
#   media apps, the windows closed, the container gone; then the program bare.
# Writes Docs/apps.md (APPS_DOC) from the run when the whole catalog ran; the
# screenshots and logs stay in $IT_STATE/apps. A failed app is recorded with the
# reason and the run goes on; the exit status is 1 when any app failed.
#
#   Tests/Apps/run.sh [PROFILE-GLOB]     (as root; IT_* variables as for run.sh)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export IT_ROOT=$ROOT IT_DIR=$ROOT/Tests/Integration APPS_DIR=$HERE

if [ "$(id -u)" -ne 0 ]; then
  echo "make apps must start as root (it installs Debian packages and creates the test users)" >&2
  exit 1
fi
filter=${1:-*}
run_start=$(date +%s%N)

# shellcheck source=../Integration/lib.sh
. "$IT_DIR/lib.sh"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

/usr/bin/python3 -c 'import Xlib' 2>/dev/null || { echo "python3-xlib is missing (scripts/install-deps.sh --test installs it)" >&2; exit 1; }
# Desktops ship /dev/net/tun 0666 (udev); this machine kind has 0600, and the
# profiles with network.mode = "pasta" need it.
[ -c /dev/net/tun ] && chmod 666 /dev/net/tun

it_setup || { echo "apps: set-up failed" >&2; exit 1; }
trap 'it_stop_session_bus; apps_release_display; it_teardown' EXIT
apps_prepare_files
apps_hold_display
it_start_session_bus || exit 1
out=$(apps_out)
results=$out/results.tsv
printf 'profile\tpackages\tresult\treason\tms\tbare_ms\tgone_ms\twindow\tclose\trms\tinstall_ms\tinstalled_before\tnotes\tlinger\tagain_ms\n' >"$results"

trim() { local s=$1; s=${s#"${s%%[! ]*}"}; echo "${s%"${s##*[! ]}"}"; }

export DEBIAN_FRONTEND=noninteractive
failed=0 passed=0 install_total=0
while IFS='|' read -r name pkgs match check args notes; do
  case "$name" in ''|'#'*) continue ;; esac
  name=$(trim "$name"); pkgs=$(trim "$pkgs"); match=$(trim "$match")
  check=$(trim "$check"); args=$(trim "$args"); notes=$(trim "$notes")
  # shellcheck disable=SC2053
  [[ $name == $filter ]] || continue

  before=yes
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || before=no
  done
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  if ! apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 $pkgs >"$out/$name.apt.log" 2>&1; then
    install_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    reason="apt-get install $pkgs failed: $(tail -n 2 "$out/$name.apt.log" | tr '\n' ' ')"
    printf '%s\t%s\tfail\t%s\t\t\t\t\t\t\t%s\t%s\t%s\t\t\n' "$name" "$pkgs" "$reason" "$install_ms" "$before" "$notes" >>"$results"
    printf 'FAIL %-20s %s\n' "$name" "$reason"; failed=$((failed + 1)); continue
  fi
  install_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  install_total=$((install_total + install_ms))

  if ! chk=$(sbx profile check "$name" 2>&1); then
    printf '%s\t%s\tfail\t%s\t\t\t\t\t\t\t%s\t%s\t%s\t\t\n' "$name" "$pkgs" "profile check: $(echo "$chk" | tr '\n' ' ')" "$install_ms" "$before" "$notes" >>"$results"
    printf 'FAIL %-20s profile check: %s\n' "$name" "$chk"; failed=$((failed + 1)); continue
  fi

  # shellcheck disable=SC2086
  if apps_try "$name" "$match" "$check" $args; then
    passed=$((passed + 1))
    printf 'ok   %-20s window %6s ms (again %6s, bare %6s ms)  gone %5s ms after %s%s\n' "$name" "$A_MS" "${A_AGAIN_MS:--}" "${A_BARE_MS:--}" "$A_GONE_MS" "$A_CLOSE" "${A_RMS:+, sound RMS $A_RMS}"
  else
    failed=$((failed + 1))
    printf 'FAIL %-20s %s\n' "$name" "$A_REASON"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$pkgs" "$A_RESULT" "$(echo "$A_REASON" | tr '\t\n' '  ')" \
    "$A_MS" "$A_BARE_MS" "$A_GONE_MS" "$A_WINDOW" "$A_CLOSE" "$A_RMS" "$install_ms" "$before" "$notes" "$A_LINGER" "$A_AGAIN_MS" >>"$results"
done <"$HERE/catalog"

total_ms=$(( ($(date +%s%N) - run_start) / 1000000 ))
echo
echo "apps: $passed passed, $failed failed (install ${install_total} ms, whole run ${total_ms} ms; screenshots in $out)"

doc=$out/apps.md
/usr/bin/python3 "$HERE/report.py" --results "$results" --profiles "$ROOT/Profiles" --screenshots "$out" \
  --install-ms "$install_total" --total-ms "$total_ms" --filter "$filter" --gone-timeout "$APPS_GONE_TIMEOUT" >"$doc"
if [ "$filter" = '*' ]; then
  cp "$doc" "${APPS_DOC:-$ROOT/Docs/apps.md}"
  echo "apps: wrote ${APPS_DOC:-$ROOT/Docs/apps.md}"
else
  echo "apps: wrote $doc (Docs/apps.md is only written by a run of the whole catalog)"
fi
[ "$failed" -eq 0 ]

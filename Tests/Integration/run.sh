#!/usr/bin/env bash
# Integration tests: the installed release build, run as an ordinary user with a
# real user namespace, the setuid newuidmap/newgidmap, a real Xvfb and a real
# PulseAudio. Must start as root: it creates the test users and their subuid
# ranges, installs the build into a temporary PREFIX they can read (CI's clone
# may not be reachable for them), and starts the services as the test user.
#
#   Tests/Integration/run.sh [FILE-GLOB [TEST-NAME-GLOB]]
# Every Tests/Integration/*.test.sh defines functions named test_*; each runs in
# its own subshell. The last line is "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export IT_ROOT=$ROOT IT_DIR=$HERE

if [ "$(id -u)" -ne 0 ]; then
  echo "integration tests must start as root (they create test users); run: sudo make check" >&2
  exit 1
fi

# shellcheck source=lib.sh
. "$HERE/lib.sh"
it_setup || { echo "integration set-up failed" >&2; exit 1; }
trap it_teardown EXIT

file_glob=${1:-*}
name_glob=${2:-*}
passed=0 failed=0 failed_names=()
for f in "$HERE"/$file_glob.test.sh; do
  [ -e "$f" ] || continue
  for t in $(bash -c ". '$HERE/lib.sh'; . '$f'; declare -F" | awk '{print $3}' | grep '^test_'); do
    # shellcheck disable=SC2053
    [[ $t == $name_glob ]] || continue
    log="$IT_LOGS/$(basename "$f" .test.sh).$t.log"
    start=$(date +%s%N)
    ( . "$HERE/lib.sh"; . "$f"; set -e; "$t" ) >"$log" 2>&1
    rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ $rc -eq 0 ]; then
      passed=$((passed + 1)); printf 'ok   %-55s %6d ms\n' "$(basename "$f" .test.sh)::$t" "$ms"
    else
      failed=$((failed + 1)); failed_names+=("$t")
      printf 'FAIL %-55s %6d ms\n' "$(basename "$f" .test.sh)::$t" "$ms"
      sed 's/^/     | /' "$log" | tail -n 40
    fi
  done
done
echo
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

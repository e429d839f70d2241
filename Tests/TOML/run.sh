#!/bin/sh
# Runs the public toml-test suite (BurntSushi/toml-test, as Debian's
# golang-github-burntsushi-toml-dev ships it) against the project's TOML parser
# through the toml-decode tool: every valid case must decode to the expected
# tagged JSON, every invalid case must be rejected with exit status 1 (a crash,
# a signal or a hang counts as a failure). Prints pass/fail counts; exit 1 when
# anything failed.
#   Tests/TOML/run.sh [DECODER]      default: .build/debug/toml-decode
#   TOML_TEST_DIR=…/tests            another copy of the suite
#   TOML_TEST_VERBOSE=1              print every failure's details
set -eu
here=$(cd "$(dirname "$0")" && pwd)
decoder=${1:-.build/debug/toml-decode}
suite=${TOML_TEST_DIR:-/usr/share/gocode/src/github.com/BurntSushi/toml/internal/toml-test/tests}
if [ ! -d "$suite/valid" ]; then
  echo "toml-test suite not found at $suite (apt-get install golang-github-burntsushi-toml-dev)" >&2
  exit 2
fi
[ -x "$decoder" ] || { echo "decoder $decoder not built (swift build --product toml-decode)" >&2; exit 2; }
exec python3 "$here/compare.py" "$decoder" "$suite" "$here/skip.txt"

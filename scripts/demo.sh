#!/usr/bin/env bash
# make demo: run the shipped `demo` profile end to end. Placeholder until the
# engine and desktop plumbing land (issues 3 and 4).
set -euo pipefail
PREFIX=${PREFIX:-/usr/local}
"$PREFIX/bin/sandbox" profile check demo
"$PREFIX/bin/sandbox" run demo

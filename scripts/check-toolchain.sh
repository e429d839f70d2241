#!/usr/bin/env bash
# Stops `make demo`, `make check` and `make build` at once, with what to do, when
# the Swift toolchain is missing or too old. Debian 12 packages no Swift, so on a
# fresh machine this is the first thing a user meets. Bash only (no sed/grep):
# it must work on a bare system.
#   SWIFT=/path/to/swift scripts/check-toolchain.sh
set -u
swift=${SWIFT:-swift}
need_major=6 need_minor=2

how_to_get_it() {
  printf '%s\n' \
    "  sandbox needs Swift 6.2 or newer, and Debian 12 has no Swift package. Get the" \
    "  toolchain for Debian 12 from https://www.swift.org/install/linux/ (the tarball," \
    "  or swiftly), unpack it, e.g. to /opt/swift, and put it on PATH:" \
    '      export PATH=/opt/swift/usr/bin:$PATH' \
    "  (the same page lists the few Debian packages the toolchain itself needs)." \
    '  sudo resets PATH: run `sudo env "PATH=$PATH" make check`, or name the' \
    "  compiler: make check SWIFT=/opt/swift/usr/bin/swift" >&2
}

if ! command -v "$swift" >/dev/null 2>&1; then
  echo "make: '$swift' not found on PATH ($PATH)." >&2
  how_to_get_it
  exit 1
fi
version=$("$swift" --version 2>&1)
if [[ $version =~ Swift\ version\ ([0-9]+)\.([0-9]+)(\.[0-9]+)? ]]; then
  major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
  if (( major < need_major || (major == need_major && minor < need_minor) )); then
    echo "make: $(command -v "$swift") is Swift ${BASH_REMATCH[1]}.${BASH_REMATCH[2]}${BASH_REMATCH[3]}, too old." >&2
    how_to_get_it
    exit 1
  fi
else
  echo "make: $(command -v "$swift") --version did not name a Swift version: ${version%%$'\n'*}" >&2
  how_to_get_it
  exit 1
fi

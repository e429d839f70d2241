#!/usr/bin/env bash
# Prints the path of a command that runs AppArmor 4's parser here. The profile
# sandbox ships (helper/apparmor.in) uses `abi <abi/4.0>` and the `userns` rule,
# which only AppArmor 4 knows; Debian 12's apparmor_parser is 3.0. When the host
# has AppArmor 4 (Ubuntu 23.10+, Debian 13) its parser is used; otherwise
# Debian 13's apparmor and libc6 packages are fetched from the Debian mirror
# with apt (a private package list under CACHE, nothing installed), unpacked, and
# run with their own dynamic loader. Cached in CACHE. Needs root (apt-get update).
#   Tests/Package/apparmor4-parser.sh CACHE
set -euo pipefail
cache=${1:?usage: apparmor4-parser.sh CACHE-DIR}

if command -v apparmor_parser >/dev/null 2>&1 && [ -e /etc/apparmor.d/abi/4.0 ] \
   && [[ $(apparmor_parser --version 2>/dev/null | head -n1) =~ version\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 4 ]; then
  command -v apparmor_parser
  exit 0
fi

wrapper=$cache/apparmor_parser4
if [ -x "$wrapper" ] && "$wrapper" --version >/dev/null 2>&1; then
  echo "$wrapper"
  exit 0
fi

mirror=${APPARMOR4_MIRROR:-http://deb.debian.org/debian}
suite=${APPARMOR4_SUITE:-trixie}
rm -rf "$cache"
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/root"
echo "deb $mirror $suite main" >"$cache/sources.list"
apt_opts=(-q -o "Dir::Etc::SourceList=$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update >"$cache/apt.log" 2>&1 \
  || { cat "$cache/apt.log" >&2; echo "apparmor4-parser: cannot read $suite's package list from $mirror" >&2; exit 1; }
(cd "$cache" && apt-get "${apt_opts[@]}" download "apparmor/$suite" "libc6/$suite") >>"$cache/apt.log" 2>&1 \
  || { cat "$cache/apt.log" >&2; echo "apparmor4-parser: cannot download apparmor and libc6 from $suite" >&2; exit 1; }
for deb in "$cache"/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
loader=$(ls "$cache/root/usr/lib/$multiarch"/ld-linux*.so.* 2>/dev/null | head -n1)
[ -n "$loader" ] && [ -x "$cache/root/usr/sbin/apparmor_parser" ] \
  || { echo "apparmor4-parser: $suite's packages did not hold a loader and apparmor_parser" >&2; exit 1; }
cat >"$wrapper" <<WRAP
#!/bin/sh
# AppArmor 4's parser from Debian $suite, with its own libc; --base: its abi/ and tunables/.
exec "$loader" --library-path "$cache/root/usr/lib/$multiarch" "$cache/root/usr/sbin/apparmor_parser" --base "$cache/root/etc/apparmor.d" "\$@"
WRAP
chmod 755 "$wrapper"
"$wrapper" --version >/dev/null || { echo "apparmor4-parser: $wrapper does not run" >&2; exit 1; }
echo "$wrapper"

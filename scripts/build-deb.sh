#!/usr/bin/env bash
# `make deb`: writes debian/changelog for VERSION, runs dpkg-buildpackage -us -uc -b
# (debian/rules builds with the Makefile, reusing .build), and moves the results
# out of the parent directory into OUTDIR.
#   scripts/build-deb.sh VERSION OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: build-deb.sh VERSION OUTDIR} out=${2:?usage: build-deb.sh VERSION OUTDIR}
case $version in
  [0-9]*) ;;
  *) echo "build-deb: '$version' is no Debian version (it must start with a digit)" >&2; exit 1 ;;
esac

# The changelog is generated (git is the history): one entry for this build.
maintainer=$(sed -n 's/^Maintainer: //p' debian/control)
{
  echo "sandbox ($version) unstable; urgency=medium"
  echo
  echo "  * Built from git $(git rev-parse --short=12 HEAD 2>/dev/null || echo '(no git)')$(git diff --quiet HEAD 2>/dev/null || echo ' with local changes')."
  echo
  # The commit's date, so the same commit gives the same package (reproducible builds).
  echo " -- $maintainer  $(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} >debian/changelog

# dpkg-buildpackage writes into the parent directory; start from none of ours there.
arch=$(dpkg --print-architecture)
rm -f ../sandbox_"$version"_"$arch".{deb,buildinfo,changes} ../sandbox-dbgsym_"$version"_"$arch".{deb,ddeb}
dpkg-buildpackage -us -uc -b

mkdir -p "$out"
rm -f "$out"/sandbox_* "$out"/sandbox-dbgsym_*
for f in ../sandbox_"$version"_"$arch".{deb,buildinfo,changes} ../sandbox-dbgsym_"$version"_"$arch".{deb,ddeb}; do
  [ -e "$f" ] && mv "$f" "$out"/
done
echo "build-deb: $(ls "$out"/sandbox_*.deb)"

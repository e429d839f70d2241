#!/bin/sh
# Prints the package version, from git:
#   HEAD tagged vX.Y.Z           -> X.Y.Z
#   N commits after tag vX.Y.Z   -> X.Y.Z+gitN.HASH   (after the release)
#   no tag                       -> V~gitN.HASH       (before release V, the version
#                                   `sandbox --version` prints, Sources/SandboxPlan/Version.swift;
#                                   N counts every commit, so later builds sort higher)
# A tag that disagrees with Version.swift stops the build: the package and
# `sandbox --version` must name the same release.
set -eu
cd "$(dirname "$0")/.."
source_version=$(sed -n 's/.*static let string = "\([^"]*\)".*/\1/p' Sources/SandboxPlan/Version.swift)
[ -n "$source_version" ] || { echo "version.sh: no version string in Sources/SandboxPlan/Version.swift" >&2; exit 1; }
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "version.sh: not a git checkout; name the version: make deb DEB_VERSION=$source_version" >&2
  exit 1
fi
hash=$(git rev-parse --short=7 HEAD)
if described=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
  # vX.Y.Z-N-gHASH
  tag=${described%-*-g*}
  rest=${described#"$tag"-}
  count=${rest%%-*}
  release=${tag#v}
  if [ "$release" != "$source_version" ] && [ "$count" = 0 ]; then
    echo "version.sh: tag $tag names $release but Version.swift says $source_version; make them agree" >&2
    exit 1
  fi
  if [ "$count" = 0 ]; then echo "$release"; else echo "$release+git$count.$hash"; fi
else
  echo "$source_version~git$(git rev-list --count HEAD).$hash"
fi

# sandbox create: a real Debian rootfs built by mmdebstrap --mode=unshare as the
# test user, from the Debian mirror apt uses on this machine.

img_data() { echo "$(it_home)/.local/share/sandbox/$1"; }
subuid_start() { grep "^$IT_USER:" /etc/subuid | head -1 | cut -d: -f2; }

img_profile() {  # img_profile NAME [extra TOML]
  it_profile "$1" <<EOF2
description = "image test"
command = ["/bin/true"]

[rootfs]
mode = "image"

[image]
release = "bookworm"
variant = "minbase"
${2:-}
EOF2
}

test_create_builds_a_minbase_rootfs() {
  trap 'rm -rf "$(img_data imgmin)"' EXIT
  rm -rf "$(img_data imgmin)"
  img_profile imgmin
  # Leftovers of an interrupted create whose process is gone are cleaned up.
  local dead=4194303
  ! kill -0 "$dead" 2>/dev/null || fail "pid $dead exists"
  runuser -u "$IT_USER" -- mkdir -p "$(img_data imgmin)/.rootfs.partial-$dead/usr"
  local out; out=$(sbx create imgmin 2>&1) || fail "create failed: $out"
  local root; root="$(img_data imgmin)/rootfs"
  assert_contains "$out" "created $root"
  [ -x "$root/usr/bin/apt" ] || fail "no /usr/bin/apt in $root"
  # Root of the image is the first id of the user's range on the host…
  assert_eq "$(stat -c %u "$root/usr/bin/apt")" "$(subuid_start)" "host owner of usr/bin/apt"
  # …and uid 0 in the user's own namespace that maps that range.
  assert_eq "$(it_as_user unshare --user --map-auto stat -c %u "$root/usr/bin/apt")" 0 "owner in the user's namespace"
  assert_eq "$(stat -c %U "$(img_data imgmin)")" "$IT_USER" "owner of the profile's data directory"
  # Nothing half-built is left next to it.
  assert_eq "$(ls -A "$(img_data imgmin)")" "rootfs" "data directory contents"

  # A second create does not touch the existing rootfs.
  local rc=0; out=$(sbx create imgmin 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create over an existing rootfs succeeded"
  assert_contains "$out" "$root already exists; not replacing it"
  assert_contains "$out" "--force"
  [ -x "$root/usr/bin/apt" ] || fail "existing rootfs damaged"
}

test_create_force_with_sources_and_keys() {
  trap 'rm -rf "$(img_data imgsrc)"' EXIT
  rm -rf "$(img_data imgsrc)"
  # A "third-party" repository: Debian's backports, signed-by a key file the profile lists.
  local keydir="$IT_STATE/create-keys"
  mkdir -p "$keydir" && cp /usr/share/keyrings/debian-archive-keyring.gpg "$keydir/vendor.gpg" && chmod -R a+rX "$keydir"
  local line="deb [signed-by=/etc/apt/keyrings/vendor.gpg] http://deb.debian.org/debian bookworm-backports main"
  # Without the key, apt refuses the repository: the key in image.keys is what makes it work.
  img_profile imgsrc "sources = [\"$line\"]"
  local rc=0 out; out=$(sbx create imgsrc 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create with an unsigned third-party source succeeded"
  assert_contains "$out" "bookworm-backports InRelease' is not signed"
  assert_contains "$out" "mmdebstrap failed"
  img_profile imgsrc "sources = [\"$line\"]
keys = [\"$keydir/vendor.gpg\"]"
  local root; root="$(img_data imgsrc)/rootfs"
  # An old rootfs to replace.
  runuser -u "$IT_USER" -- mkdir -p "$root/old-marker"
  out=$(sbx create --force imgsrc 2>&1) || fail "create --force failed: $out"
  echo "$out" | tail -5
  [ ! -e "$root/old-marker" ] || fail "the old rootfs is still there"
  [ -x "$root/usr/bin/apt" ] || fail "no apt in the new rootfs"
  assert_eq "$(cat "$root/etc/apt/sources.list.d/sandbox-image.list" | grep -v '^#')" \
    "deb [signed-by=/etc/apt/keyrings/vendor.gpg] http://deb.debian.org/debian bookworm-backports main" "sources in the image"
  cmp "$root/etc/apt/keyrings/vendor.gpg" "$keydir/vendor.gpg" || fail "key not copied into the image"
  assert_eq "$(ls -A "$(img_data imgsrc)")" "rootfs" "data directory contents"
  # Only the test user's: other users' builds may be running on the machine at the same time.
  left=$(find /tmp -maxdepth 1 -name 'sandbox-create.*' -user "$IT_USER")
  [ -z "$left" ] || fail "setup files left in /tmp: $left"
  return 0
}

test_create_refuses_host_profiles_and_bad_releases() {
  it_profile hostapp <<'EOF2'
command = ["/bin/true"]
EOF2
  local rc=0 out; out=$(sbx create hostapp 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create of a host profile succeeded"
  assert_contains "$out" "only image profiles have a rootfs to create"

  trap 'rm -rf "$(img_data imgbad)"' EXIT
  img_profile imgbad
  sed -i 's/^release = .*/release = "no-such-release"/' "$(it_home)/.config/sandbox/profiles/imgbad.toml"
  rc=0; out=$(sbx create imgbad 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create of a nonexistent release succeeded"
  assert_contains "$out" "mmdebstrap failed"
  [ ! -e "$(img_data imgbad)/rootfs" ] || fail "a rootfs was left for a failed build"
  assert_eq "$(ls -A "$(img_data imgbad)" 2>/dev/null)" "" "leftovers of the failed build"
}

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

# A minbase rootfs for tests that use an image rather than test `create`: built
# once per IT_STATE by `sandbox create`, then copied by root (owners kept) for
# each test, so a test may damage its copy. NAME's profile must exist.
img_cached() {  # img_cached NAME
  local cache="$IT_STATE/minbase-cache" data; data=$(img_data "$1")
  rm -rf "$data"
  if [ ! -x "$cache/rootfs/bin/sh" ]; then
    rm -rf "$cache"
    sbx create "$1" >/dev/null || return 1
    mkdir -p "$cache" && cp -a "$data/rootfs" "$cache/rootfs" || return 1
  else
    runuser -u "$IT_USER" -- mkdir -p "$data" && cp -a "$cache/rootfs" "$data/rootfs" || return 1
  fi
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

# Issue 9 #3b (bubblewrap's and flatpak's CVE-2024-42472 class): root inside an
# image (`exec --root`, any package's maintainer script) plants symlinks where
# the next start makes mount points. The image profiles bind the user's fonts
# at /usr/local/share/fonts/sandbox-user-fonts (mkdir 0755 + bind); the child
# does that with every capability of the container's user namespace before
# pivot_root, where the host tree is reachable under /oldroot, and the user's
# uid is mapped 1:1. It must follow such links inside the image only: the
# user's private host directory keeps its mode and contents, and the start works.
test_image_symlinks_do_not_lead_the_start_out_of_the_image() {
  local home; home=$(it_home)
  trap "set +e; sbx stop imgesc --timeout 1 >/dev/null 2>&1; rm -rf '$(img_data imgesc)' '$home/private' '$home/.fonts' '$home/.fonts.away'; true" EXIT
  img_profile imgesc '[session]
stop_timeout = 1'
  img_cached imgesc
  runuser -u "$IT_USER" -- sh -c "mkdir -p ~/private ~/.fonts && echo secret > ~/private/secret && chmod 700 ~/private && echo font > ~/.fonts/marker.ttf"
  # A directory holding a symlink into the host tree (the reported case: the old
  # child's chmod made ~/private 0755), the mount point itself climbing out with
  # "..", and an absolute link to the user's home as the host names it.
  local plant
  for plant in \
    "mkdir -p /usr/local/share/fonts && ln -s /oldroot$home/private /usr/local/share/fonts/sandbox-user-fonts" \
    "ln -s ../../../../../oldroot$home/private /usr/local/share/fonts" \
    "ln -s $home/private /usr/local/share/fonts"; do
    # Planted while the fonts are not bound (without ~/.fonts, nothing is mounted there).
    mv "$home/.fonts" "$home/.fonts.away"
    sbx start imgesc
    sbx exec --root imgesc -- sh -c "rm -rf /usr/local/share/fonts; $plant"
    sbx stop imgesc --timeout 1
    mv "$home/.fonts.away" "$home/.fonts"
    local out rc=0
    out=$(sbx start imgesc 2>&1) || rc=$?
    assert_eq "$(stat -c %a "$home/private")" "700" "mode of ~/private after planting [$plant]"
    assert_eq "$(ls -A "$home/private")" "secret" "contents of ~/private after planting [$plant]"
    [ "$rc" -eq 0 ] || fail "start after planting [$plant] failed: $out"
    # The link was followed inside the image: the user's fonts are where it leads there.
    assert_eq "$(sbx exec imgesc -- cat /usr/local/share/fonts/sandbox-user-fonts/marker.ttf)" "font" "fonts inside after [$plant]"
    sbx stop imgesc --timeout 1
  done
}

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
img_cached() {  # img_cached NAME: a minbase image from the shared cached tarball
  local tarball; tarball=$(img_minbase_tarball) || return 1
  rm -rf "$(img_data "$1")"
  sbx create --yes --from-tarball "$tarball" "$1" >/dev/null
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
  # Progress: our steps, with mmdebstrap's own lines in between.
  assert_contains "$out" "sandbox create: building debian bookworm (minbase) with mmdebstrap"
  assert_contains "$out" "I: "
  assert_contains "$out" "sandbox create: moving the finished image into place: $root"
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
  local setup_before; setup_before=$(it_create_setup_dirs)
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
  left=$(comm -13 <(echo "$setup_before") <(it_create_setup_dirs))
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

# --- create --from-tarball and destroy, with a tarball the test makes itself ---

# A tiny root filesystem: stat, id and sh with their libraries, the mount targets,
# a file owned by uid 0 and one by uid $TB_ID, and a symlink to an absolute host
# path of the test user (as images hold links to /etc/alternatives/…).
TB_ID=1000
tb_make() {  # tb_make TARBALL
  local tree; tree=$(mktemp -d "$IT_STATE/tbtree.XXXXXX") && chmod 755 "$tree"
  [ "$(it_uid)" != "$TB_ID" ] || TB_ID=1234
  mkdir -p "$tree"/usr/bin "$tree"/usr/lib/x86_64-linux-gnu "$tree"/usr/lib64 "$tree"/etc "$tree"/proc "$tree"/dev \
    "$tree"/tmp "$tree"/run "$tree"/home "$tree"/root "$tree"/srv "$tree$(it_home)"
  ln -s usr/bin "$tree/bin"; ln -s usr/lib "$tree/lib"; ln -s usr/lib64 "$tree/lib64"
  local b l
  for b in /usr/bin/stat /usr/bin/id /bin/sh /usr/bin/cat; do
    cp -L "$b" "$tree/usr/bin/"
    for l in $(ldd "$b" | grep -o '/[^ ]*'); do
      case $l in */ld-linux*) cp -L "$l" "$tree/usr/lib64/";; *) cp -L "$l" "$tree/usr/lib/x86_64-linux-gnu/";; esac
    done
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tree/etc/passwd"
  printf 'root:x:0:\n' >"$tree/etc/group"
  echo zero >"$tree/srv/by-root"; echo user >"$tree/srv/by-$TB_ID"
  # /dev's contents are skipped (the container makes its own); a dev/ elsewhere is not.
  echo gone >"$tree/dev/not-extracted"; mkdir "$tree/srv/dev" && echo kept >"$tree/srv/dev/kept"
  chown 0:0 "$tree/srv/by-root"; chown "$TB_ID:$TB_ID" "$tree/srv/by-$TB_ID"
  ln -s "$(it_home)/precious" "$tree/srv/to-host-dir"
  ln -s "$(it_home)/precious/file" "$tree/srv/to-host-file"
  tar --numeric-owner -C "$tree" -cJf "$1" . && chmod 644 "$1"
  rm -rf "$tree"
}

tb_profile() {  # tb_profile NAME
  it_profile "$1" <<EOF2
description = "tarball image test"
command = ["/bin/sh"]
[rootfs]
mode = "image"
[home]
mode = "private"
EOF2
}

# Files of the test user outside the data directory, which links inside point at.
tb_precious() {
  runuser -u "$IT_USER" -- sh -c "mkdir -p '$(it_home)/precious' && echo keep >'$(it_home)/precious/file'"
}

test_create_from_tarball_shifts_ids_and_never_shows_a_partial_image() {
  trap 'sbx destroy --yes tbimg >/dev/null 2>&1 || true; rm -rf "$(img_data tbimg)"' EXIT
  rm -rf "$(img_data tbimg)"
  local tarball="$IT_STATE/tb.tar.xz"
  tb_make "$tarball"
  tb_profile tbimg
  local out root; root="$(img_data tbimg)/rootfs"
  out=$(sbx create --from-tarball "$tarball" tbimg 2>&1) || fail "create --from-tarball failed: $out"
  echo "$out"
  assert_contains "$out" "sandbox create: unpacking $tarball"
  assert_contains "$out" "sandbox create: moving the finished image into place: $root"
  assert_contains "$out" "created $root"
  # On the host: shifted into the user's range…
  local sub; sub=$(subuid_start)
  assert_eq "$(stat -c %u:%g "$root/srv/by-root")" "$sub:$sub" "host owner of the uid-0 file"
  assert_eq "$(stat -c %u "$root/srv/by-$TB_ID")" "$((sub + TB_ID))" "host owner of the uid-$TB_ID file"
  assert_eq "$(ls -A "$(img_data tbimg)")" "rootfs" "data directory contents"
  [ -e "$root/srv/dev/kept" ] || fail "srv/dev/kept was not unpacked"
  [ ! -e "$root/dev/not-extracted" ] || fail "the tarball's /dev contents were unpacked"
  # …and as the tarball said, seen by root inside the container.
  out=$(sbx exec --root tbimg -- /usr/bin/stat -c '%u:%g %n' /srv/by-root "/srv/by-$TB_ID" 2>&1) || fail "exec --root stat failed: $out"
  assert_contains "$out" "0:0 /srv/by-root"
  assert_contains "$out" "$TB_ID:$TB_ID /srv/by-$TB_ID"

  # An existing rootfs is not replaced without a yes: no terminal, no --yes → refused, untouched.
  local rc=0; out=$(sbx create --from-tarball "$tarball" tbimg 2>&1 </dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "create over an existing rootfs succeeded without --yes"
  assert_contains "$out" "already exists; not replacing it without confirmation"
  [ -e "$root/srv/by-root" ] || fail "the existing rootfs was touched"
  # On a terminal the answer "n" keeps it too.
  out=$(printf 'n\n' | it_as_user script -qec "$IT_PREFIX/bin/sandbox create --from-tarball $tarball tbimg" /dev/null 2>&1) || true
  assert_contains "$out" "already exists. Replace it"
  assert_contains "$out" "nothing changed"
  [ -e "$root/srv/by-root" ] || fail "the rootfs was touched after answering n"
  # --yes replaces it; a marker of the old one is gone.
  sbx exec --root tbimg -- sh -c ': >/old-marker' || fail "cannot mark the old rootfs"
  out=$(sbx create --yes --from-tarball "$tarball" tbimg 2>&1) || fail "create --yes failed: $out"
  [ ! -e "$root/old-marker" ] || fail "the old rootfs is still there"
  [ -e "$root/srv/by-root" ] || fail "no new rootfs"
  # (exec made the private home meanwhile; no partial or old tree is left.)
  assert_eq "$(ls -A "$(img_data tbimg)" | tr '\n' ' ')" "home rootfs " "data directory after the swap"

  # A broken tarball leaves nothing behind and the good image in place.
  head -c 20000 "$tarball" >"$IT_STATE/tb-broken.tar.xz"; chmod 644 "$IT_STATE/tb-broken.tar.xz"
  rc=0; out=$(sbx create --yes --from-tarball "$IT_STATE/tb-broken.tar.xz" tbimg 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create from a truncated tarball succeeded"
  assert_contains "$out" "unpacking $IT_STATE/tb-broken.tar.xz failed"
  assert_eq "$(ls -A "$(img_data tbimg)" | tr '\n' ' ')" "home rootfs " "data directory after a failed unpack"
  [ -e "$root/srv/by-root" ] || fail "a failed create damaged the existing image"
}

test_destroy_deletes_without_following_links() {
  trap 'rm -rf "$(img_data tbdel)" "$(it_home)/precious"' EXIT
  rm -rf "$(img_data tbdel)"
  tb_precious
  local tarball="$IT_STATE/tb.tar.xz"
  [ -e "$tarball" ] || tb_make "$tarball"
  tb_profile tbdel
  sbx create --from-tarball "$tarball" tbdel >/dev/null 2>&1 || fail "create failed"
  local data; data=$(img_data tbdel)
  # The private home, with links the app planted to the same host files.
  local h; h=$(it_home)
  runuser -u "$IT_USER" -- sh -c "mkdir -p '$data/home/sub' && echo mine >'$data/home/notes' \
     && ln -s '$h/precious' '$data/home/sub/escape' && ln -s '$h/precious/file' '$data/home/escape-file'"
  [ -L "$data/rootfs/srv/to-host-dir" ] || fail "no planted link in the image"

  # No terminal and no --yes: refused, nothing deleted.
  local out rc=0
  out=$(sbx destroy tbdel 2>&1 </dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "destroy without a terminal and without --yes succeeded"
  assert_contains "$out" "without confirmation: standard input is not a terminal"
  assert_contains "$out" "sandbox destroy --yes tbdel"
  [ -e "$data/rootfs/srv/by-root" ] || fail "destroy deleted without confirmation"
  # On a terminal, "n" keeps everything.
  out=$(printf 'n\n' | it_as_user script -qec "$IT_PREFIX/bin/sandbox destroy tbdel" /dev/null 2>&1) || true
  assert_contains "$out" "Delete $data (its image rootfs and private home)?"
  assert_contains "$out" "nothing deleted"
  [ -e "$data/rootfs/srv/by-root" ] || fail "destroy deleted after answering n"

  # --keep-home: the rootfs goes, the home stays with its contents (links as links).
  out=$(sbx destroy --yes --keep-home tbdel 2>&1) || fail "destroy --keep-home failed: $out"
  assert_contains "$out" "destroyed tbdel: deleted $data except $data/home"
  assert_eq "$(ls -A "$data")" "home" "data directory after --keep-home"
  assert_eq "$(cat "$data/home/notes")" "mine" "home contents"
  [ -L "$data/home/sub/escape" ] || fail "the home's link is gone"
  assert_eq "$(cat "$(it_home)/precious/file")" "keep" "host file after --keep-home"

  # A second create, then the whole thing, as it would be on a terminal: answer y.
  sbx create --from-tarball "$tarball" tbdel >/dev/null 2>&1 || fail "second create failed"
  out=$(printf 'y\n' | it_as_user script -qec "$IT_PREFIX/bin/sandbox destroy tbdel" /dev/null 2>&1) || fail "destroy (y) failed: $out"
  assert_contains "$out" "destroyed tbdel: deleted $data"
  [ ! -e "$data" ] && [ ! -L "$data" ] || fail "$data still exists"
  # Nothing outside the data directory was followed.
  assert_eq "$(cat "$(it_home)/precious/file")" "keep" "host file the links pointed at"
  [ -d "$(it_home)/precious" ] || fail "the host directory the links pointed at is gone"
  assert_eq "$(ls -A "$(it_home)/precious")" "file" "host directory contents"
  rc=0; out=$(sbx destroy --yes tbdel 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "destroy of nothing succeeded"
  assert_contains "$out" "nothing to destroy"
}

test_destroy_refuses_a_running_container() {
  trap 'sbx stop tbrun >/dev/null 2>&1 || true; sbx destroy --yes tbrun >/dev/null 2>&1 || true; rm -rf "$(img_data tbrun)"' EXIT
  rm -rf "$(img_data tbrun)"
  local tarball="$IT_STATE/tb.tar.xz"
  [ -e "$tarball" ] || tb_make "$tarball"
  tb_profile tbrun
  sbx create --from-tarball "$tarball" tbrun >/dev/null 2>&1 || fail "create failed"
  local out rc=0
  out=$(sbx start tbrun 2>&1) || fail "start failed: $out"
  rc=0; out=$(sbx destroy --yes tbrun 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "destroy of a running container succeeded"
  assert_contains "$out" "tbrun is running (init pid"
  assert_contains "$out" "sandbox stop tbrun"
  [ -e "$(img_data tbrun)/rootfs/srv/by-root" ] || fail "the running container's rootfs was touched"
  sbx stop tbrun >/dev/null 2>&1 || fail "stop failed"
  out=$(sbx destroy --yes tbrun 2>&1) || fail "destroy after stop failed: $out"
  [ ! -e "$(img_data tbrun)" ] || fail "data directory left after destroy"
}

# Without a subordinate range (no namespace to delete in), destroy deletes as the
# user: the home the app wrote, a 0500 directory in it, links not followed.
test_destroy_without_a_subordinate_range() {
  # A user of this run's own, created without a range (the -K settings keep useradd
  # from assigning one, so /etc/subuid and /etc/subgid are not touched).
  local u=${IT_USER}nr
  id "$u" >/dev/null 2>&1 || useradd -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 --create-home --shell /bin/bash "$u"
  ! grep -q "^$u:" /etc/subuid /etc/subgid || fail "$u has a subordinate range; this test needs a user without one"
  mkdir -p "/run/user/$(id -u "$u")" && chown "$u:" "/run/user/$(id -u "$u")" && chmod 700 "/run/user/$(id -u "$u")"
  local home; home=$(getent passwd "$u" | cut -d: -f6)
  local data="$home/.local/share/sandbox/nr"
  runuser -u "$u" -- sh -c "mkdir -p '$home/precious' && echo keep >'$home/precious/file' \
    && mkdir -p '$data/home/locked' && echo x >'$data/home/locked/f' && chmod 500 '$data/home/locked' \
    && ln -s '$home/precious' '$data/home/escape' && ln -s '$home/precious/file' '$data/home/escape-file'"
  local out
  out=$(it_as "$u" "$IT_PREFIX/bin/sandbox" destroy --yes nr 2>&1) || fail "destroy failed: $out"
  assert_contains "$out" "destroyed nr: deleted $data"
  [ ! -e "$data" ] || fail "$data still exists"
  assert_eq "$(cat "$home/precious/file")" "keep" "host file the links pointed at"
}

# --- container root installs software (issue 10 #1) ---

# A minbase bookworm tarball, built once by mmdebstrap as root and cached outside
# the checkout (it is what `create --from-tarball` takes, like an LXC image).
img_minbase_tarball() {
  local cache=/var/cache/sandbox-it/bookworm-minbase.tar
  if [ ! -s "$cache" ]; then
    mkdir -p /var/cache/sandbox-it
    # (mmdebstrap picks the output format from the name's ending: keep .tar last.)
    mmdebstrap --quiet --mode=unshare --variant=minbase --include=passwd bookworm "${cache%.tar}.partial.tar" >/dev/null 2>&1 \
      || { rm -rf "${cache%.tar}.partial.tar"; return 1; }
    mv "${cache%.tar}.partial.tar" "$cache"
  fi
  chmod 755 /var/cache/sandbox-it; chmod 644 "$cache"
  echo "$cache"
}

# A .deb whose maintainer script adds a system user and chowns a directory to it.
img_build_deb() { # name dir
  local name=$1 dir=$2 root="$2/$1-root"
  rm -rf "$root"; mkdir -p "$root/DEBIAN" "$root/usr/bin"
  cat >"$root/DEBIAN/control" <<EOF
Package: $name
Version: 1.0
Architecture: all
Maintainer: sandbox tests <tests@sandbox.invalid>
Description: integration test package
EOF
  cat >"$root/DEBIAN/postinst" <<EOF
#!/bin/sh
set -e
getent passwd ${name}svc >/dev/null || useradd --system --no-create-home ${name}svc
install -d /var/lib/$name
chown ${name}svc: /var/lib/$name
EOF
  printf '#!/bin/sh\necho "hello from %s as $(id -u)"\n' "$name" >"$root/usr/bin/$name"
  chmod 755 "$root/DEBIAN/postinst" "$root/usr/bin/$name"
  dpkg-deb --root-owner-group --build "$root" "$dir/${name}_1.0_all.deb" >/dev/null
  rm -rf "$root"
}

test_container_root_installs_local_debs_with_dpkg_and_apt() {
  local tarball debs out
  tarball=$(img_minbase_tarball) || fail "could not build the minbase tarball (mmdebstrap)"
  debs=$IT_STATE/debs; rm -rf "$debs"; mkdir -p "$debs"
  img_build_deb sbxone "$debs"
  img_build_deb sbxtwo "$debs"
  chmod -R a+rX "$debs"
  it_profile itapt <<EOF
description = "installs software as container root"
command = ["/bin/sh"]
[rootfs]
mode = "image"
[[mount]]
source = "$debs"
target = "/debs"
EOF
  trap 'sbx stop itapt >/dev/null 2>&1 || true; sbx destroy --yes itapt >/dev/null 2>&1 || true' EXIT
  out=$(sbx create --yes --from-tarball "$tarball" itapt 2>&1) || fail "create failed: $out"
  # dpkg -i: files owned by root, a maintainer script that adds a user and chowns.
  out=$(sbx exec --root itapt -- dpkg -i /debs/sbxone_1.0_all.deb 2>&1) || fail "dpkg -i failed: $out"
  # apt-get install of a local .deb: apt drops to _apt (setgroups, seteuid) to read it.
  out=$(sbx exec --root itapt -- apt-get install -y /debs/sbxtwo_1.0_all.deb 2>&1) || fail "apt-get install failed: $out"
  echo "$out" | tail -3
  assert_not_contains "$out" "setgroups"
  assert_not_contains "$out" "seteuid"
  # The installed programs run as the passthrough uid, and the ownership the scripts set holds.
  out=$(sbx run itapt -- -c 'sbxone; sbxtwo; stat -c "%U %n" /var/lib/sbxone /var/lib/sbxtwo' 2>&1)
  echo "$out"
  assert_contains "$out" "hello from sbxone as $(it_uid)"
  assert_contains "$out" "hello from sbxtwo as $(it_uid)"
  assert_contains "$out" "sbxonesvc /var/lib/sbxone"
  assert_contains "$out" "sbxtwosvc /var/lib/sbxtwo"
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

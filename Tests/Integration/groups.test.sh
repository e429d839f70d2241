# Supplementary groups inside the container (issue 4 item 3), as the test user
# with the real setuid newgidmap: a group the user belongs to on the host owns a
# real character device (a clone of /dev/null, 1:3) in a directory bound through
# devices.extra. With `USER:GID:1` in /etc/subgid the gid is mapped 1:1 and the
# sessions keep it (id -G, read/write by group); without it the group is gone
# inside, the device refuses the app (EACCES), and the launcher prints the exact
# line an administrator would add. Also: the read-only sysfs that devices.dri
# brings, and doctor's device-groups check.
#
# The harness's runuser goes through PAM and initgroups(3), so the test user's
# processes really carry the group (grp_setup checks it). /etc/subgid and the
# group memberships are shared machine state: each test removes exactly what it
# added (not a copy restored over the file, which would drop lines another run
# appended meanwhile), also when it fails.

GRP_GID=4044
GRP_NAME=sbxvideo
grp_dir() { echo "/dev/sbxgrp-$IT_USER"; }
grp_line() { echo "$IT_USER:$GRP_GID:1"; }

# Removes exactly one line from /etc/subgid (atomically: a temporary file renamed over it).
grp_remove_subgid_line() {
  local line=$1 tmp
  tmp=$(mktemp /etc/subgid.XXXXXX)
  grep -vxF -- "$line" /etc/subgid >"$tmp" || true
  chmod 644 "$tmp" && mv "$tmp" /etc/subgid
}

grp_cleanup() {
  set +e
  sbx stop grp-dev >/dev/null 2>&1
  sbx stop grp-join >/dev/null 2>&1
  grp_remove_subgid_line "$(grp_line)"
  rm -rf "$(grp_dir)"
  gpasswd -d "$IT_USER" "$GRP_NAME" >/dev/null 2>&1
  true
}

# The group, the user's membership, and a device node only the group may use.
grp_setup() {
  trap grp_cleanup EXIT
  cp /etc/subgid "$IT_STATE/subgid.before-groups-test"   # for a human, if anything goes wrong
  if getent group "$GRP_NAME" >/dev/null; then
    assert_eq "$(getent group "$GRP_NAME" | cut -d: -f3)" "$GRP_GID" "gid of the existing $GRP_NAME group"
  else
    getent group "$GRP_GID" >/dev/null && fail "gid $GRP_GID is taken by $(getent group "$GRP_GID")"
    groupadd -g "$GRP_GID" "$GRP_NAME"
  fi
  usermod -aG "$GRP_NAME" "$IT_USER"
  grp_remove_subgid_line "$(grp_line)"
  local dir; dir=$(grp_dir)
  rm -rf "$dir" && mkdir -m 755 "$dir"
  mknod -m 660 "$dir/null0" c 1 3
  chown "root:$GRP_NAME" "$dir/null0"
  # The user's session really has the group (runuser → PAM → initgroups) and it grants access.
  assert_contains " $(it_as_user id -G) " " $GRP_GID " "id -G of the test user's session"
  it_as_user sh -c "echo x >'$dir/null0'" || fail "the host user cannot write $dir/null0 through the group"
  # …and nothing else does: other users are refused.
  if it_as "$IT_OTHER" sh -c "echo x >'$dir/null0'" 2>/dev/null; then fail "$IT_OTHER can write $dir/null0"; fi
}

grp_profile() {
  local name=$1 extra=${2:-}
  it_profile "$name" <<EOF
description = "supplementary groups integration test"
command = ["/bin/sh"]
[devices]
extra = ["$(grp_dir)"]
[session]
stop_timeout = 2
$extra
EOF
}

# A shell script for the app: its groups, its gid map line for the group, the
# group's name, and whether it can write and read the device.
grp_probe() {
  local dev; dev="$(grp_dir)/null0"
  cat <<EOF
echo "groups: \$(id -G)"
awk '\$1 == $GRP_GID {print "gidmap: " \$1, \$2, \$3}' /proc/self/gid_map
grep '^$GRP_NAME:' /etc/group | sed 's/^/group: /'
if echo x >$dev; then echo write=ok; else echo write=denied; fi
if cat $dev; then echo read=ok; else echo read=denied; fi
EOF
}

test_delegated_group_is_kept_and_grants_the_device() {
  grp_setup
  echo "$(grp_line)" >>/etc/subgid
  grp_profile grp-dev
  local out
  out=$(sbx run grp-dev -- -c "$(grp_probe)" 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_contains " $(echo "$out" | sed -n 's/^groups: //p') " " $GRP_GID " "id -G inside"
  assert_contains "$out" "gidmap: $GRP_GID $GRP_GID 1"
  assert_contains "$out" "group: $GRP_NAME:x:$GRP_GID:$IT_USER"
  assert_contains "$out" "write=ok"
  assert_contains "$out" "read=ok"
  assert_not_contains "$out" "not delegated"
  # The whole map: the user's gid and the group carved out of the offset layout.
  local subg gid; subg=$(awk -F: -v u="$IT_USER" '$1==u && $3==65536 {print $2; exit}' /etc/subgid)
  gid=$(id -g "$IT_USER")
  [ "$gid" -lt "$GRP_GID" ] || fail "test assumes the user's gid $gid is below $GRP_GID"
  out=$(sbx run grp-dev -- -c 'cat /proc/self/gid_map' | tr -s ' ' | sed 's/^ //')
  assert_eq "$out" "0 $subg $gid
$gid $gid 1
$((gid + 1)) $((subg + gid + 1)) $((GRP_GID - gid - 1))
$GRP_GID $GRP_GID 1
$((GRP_GID + 1)) $((subg + GRP_GID + 1)) $((65536 - GRP_GID - 1))" "gid_map"
}

test_undelegated_group_is_dropped_and_the_notice_names_the_line() {
  grp_setup
  grp_profile grp-dev
  local out
  out=$(sbx run grp-dev -- -c "$(grp_probe)" 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_not_contains " $(echo "$out" | sed -n 's/^groups: //p') " " $GRP_GID " "id -G inside"
  assert_not_contains " $(echo "$out" | sed -n 's/^groups: //p') " " 65534 " "id -G inside (no unmapped leftovers)"
  assert_not_contains "$out" "gidmap:"
  assert_contains "$out" "write=denied"
  assert_contains "$out" "read=denied"
  assert_contains "$out" "Permission denied"
  assert_contains "$out" "your group $GRP_NAME ($GRP_GID), which owns $(grp_dir)/null0, is not delegated to you in /etc/subgid"
  assert_contains "$out" "an administrator adds this line to /etc/subgid: $(grp_line)"
}

test_app_cannot_take_back_a_dropped_group() {
  # The attack: the app asks the kernel for the group (or any group) itself.
  grp_setup
  grp_profile grp-dev
  local out
  local py="import os
for g in ([$GRP_GID], [0], []):
    try:
        os.setgroups(g); print('setgroups', g, 'ok')
    except OSError as e:
        print('setgroups', g, e.strerror)
try:
    os.setgid($GRP_GID); print('setgid ok')
except OSError as e:
    print('setgid', e.strerror)"
  out=$(sbx run grp-dev -- -c 'exec python3 -c "$0"' "$py" 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_contains "$out" "setgroups [$GRP_GID] Operation not permitted"
  assert_contains "$out" "setgroups [0] Operation not permitted"
  assert_contains "$out" "setgroups [] Operation not permitted"
  assert_contains "$out" "setgid Operation not permitted"
}

test_joined_sessions_keep_the_group_too() {
  # lxc-attach drops supplementary groups; every session here comes from the init with the plan's list.
  grp_setup
  echo "$(grp_line)" >>/etc/subgid
  grp_profile grp-join
  sbx start grp-join >/dev/null 2>&1 || fail "sandbox start failed"
  local out
  out=$(sbx exec grp-join -- sh -c 'id -G; echo x >'"$(grp_dir)"'/null0 && echo write=ok' 2>&1) || fail "exec failed: $out"
  echo "$out"
  assert_contains " $(echo "$out" | head -n 1) " " $GRP_GID "
  assert_contains "$out" "write=ok"
  sbx stop grp-join >/dev/null 2>&1
}

test_without_any_subgid_range_sessions_keep_the_launchers_groups() {
  # No subordinate gids at all: the gid map is the user's own gid, newgidmap (or the
  # direct write) denies setgroups, and the sessions simply keep the launcher's groups
  # — unmapped, so they read as nogroup (65534) — instead of failing at setgroups.
  grp_setup
  local own; own=$(grep -m1 "^$IT_USER:[0-9]*:65536\$" /etc/subgid) || fail "no 65536 subgid range for $IT_USER"
  trap 'grp_cleanup; grep -qxF "'"$own"'" /etc/subgid || echo "'"$own"'" >>/etc/subgid' EXIT
  grp_remove_subgid_line "$own"
  grp_profile grp-dev
  local out
  out=$(sbx run grp-dev -- -c "cat /proc/self/setgroups; $(grp_probe)" 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_contains "$out" "deny"
  assert_contains " $(echo "$out" | sed -n 's/^groups: //p') " " 65534 "
  assert_contains "$out" "write=ok"
  assert_not_contains "$out" "not delegated"
}

test_dri_brings_a_read_only_sysfs_and_no_dri_brings_none() {
  it_profile grp-sys <<'EOF'
command = ["/bin/sh"]
[devices]
dri = true
EOF
  local out
  out=$(sbx run grp-sys -- -c '
    test -d /sys/dev/char && echo sysdevchar=yes
    test -d /sys/class && test -d /sys/devices && test -d /sys/bus && echo sysdirs=yes
    test -e /sys/kernel && echo kernel=visible
    test -e /sys/fs/cgroup && echo cgroup=visible
    awk "\$5 == \"/sys/dev\" {print \"sysdev-mount: \" \$6}" /proc/self/mountinfo
    awk "\$5 == \"/sys\" {print \"sys-mount: \" \$6}" /proc/self/mountinfo
    mkdir /sys/dev/char/x 2>&1; mkdir /sys/x 2>&1; true' 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_contains "$out" "sysdevchar=yes"
  assert_contains "$out" "sysdirs=yes"
  assert_not_contains "$out" "kernel=visible"
  assert_not_contains "$out" "cgroup=visible"
  assert_contains "$(echo "$out" | grep '^sysdev-mount: ')" "ro,"
  assert_contains "$(echo "$out" | grep '^sys-mount: ')" "ro,"
  assert_contains "$(echo "$out" | grep '/sys/dev/char/x')" "Read-only file system"
  assert_contains "$(echo "$out" | grep '/sys/x')" "Read-only file system"
  if [ -d /dev/dri ]; then
    assert_not_contains "$out" "devices.dri:"
  else
    # No GPU on this machine: still only a notice, and the sysfs view anyway (tied to the request).
    assert_contains "$out" "devices.dri: /dev/dri is not present on this machine"
  fi

  it_profile grp-nosys <<'EOF'
command = ["/bin/sh"]
[devices]
dri = false
snd = true
EOF
  out=$(sbx run grp-nosys -- -c 'test -e /sys/dev/char && echo sysdevchar=visible; ls -A /sys 2>&1 | wc -l' 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_not_contains "$out" "sysdevchar=visible"
}

doctor_groups_line() { printf '%s\n' "$1" | grep -E "^(ok|WARN|FAIL) +device-groups: " || true; }

test_doctor_says_which_device_groups_are_delegated() {
  # `video` is one of the well-known device groups; the test user joins it for the test only.
  local video; video=$(getent group video | cut -d: -f3) || fail "no video group on this machine"
  trap 'set +e; gpasswd -d "$IT_USER" video >/dev/null 2>&1; grp_remove_subgid_line "$IT_USER:'"$video"':1"; true' EXIT
  grp_remove_subgid_line "$IT_USER:$video:1"
  local out
  out=$(sbx doctor 2>&1) || true
  echo "$out"
  assert_contains "$(doctor_groups_line "$out")" "ok    device-groups: you are in no device group"
  usermod -aG video "$IT_USER"
  out=$(sbx doctor 2>&1) || true
  echo "$out"
  assert_contains "$(doctor_groups_line "$out")" "WARN  device-groups: video ($video) not delegated to $IT_USER in /etc/subgid"
  assert_contains "$out" "hint: as root, delegate each group to $IT_USER 1:1"
  assert_contains "$out" "echo '$IT_USER:$video:1' >> /etc/subgid"
  echo "$IT_USER:$video:1" >>/etc/subgid
  out=$(sbx doctor 2>&1) || true
  echo "$out"
  assert_contains "$(doctor_groups_line "$out")" "ok    device-groups: video ($video) delegated to $IT_USER in /etc/subgid: sandboxed apps keep them"
}

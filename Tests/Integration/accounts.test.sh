# An account only a directory service knows (LDAP, sssd, systemd-homed on real
# desktops; here libnss-extrausers, a real NSS module, listed after Debian's
# default libnss_systemd). The launcher is linked static-pie, and a static glibc's
# getpwuid/getgrgid dlopen those modules into the static binary: libnss_systemd
# crashes it (SIGSEGV; this test fails that way when the launcher calls getpwuid).
# So the launcher reads /etc/passwd and /etc/group itself and asks getent(1) for
# ids they do not name: the user's name (which /etc/subuid and the container's
# /etc/passwd are keyed on), home and shell, and group names in messages.
#
# Everything runs in a private mount namespace whose nsswitch.conf, /etc/subuid,
# /etc/subgid and extrausers files are the test's own: no file of the machine is
# edited, and newuidmap/newgidmap (dynamic, setuid) see the same accounts.

ACC_NAME=sbdirectory
ACC_GROUP=sbdirgroup
ACC_SUBID=2100000

# Free ids: the test's accounts must be unknown to the machine's own databases.
acc_free_id() {
  local db=$1 id=$2
  while getent "$db" "$id" >/dev/null; do id=$((id + 1)); done
  echo "$id"
}

# The accounts, the namespace's files and a home; prints nothing. Runs inside the namespace.
acc_setup() {
  ACC_UID=$(acc_free_id passwd 61200)
  ACC_GID=$(acc_free_id group "$ACC_UID")
  ACC_GRP=$(acc_free_id group $((ACC_GID + 1)))
  ACC_DIR=$(mktemp -d /tmp/sandbox-accounts.XXXXXX)
  chmod 755 "$ACC_DIR"
  ACC_HOME=$ACC_DIR/home
  ACC_RUNTIME=$ACC_DIR/run
  # Our names must not be in the files either, or files would answer.
  ! grep -q "^$ACC_NAME:" /etc/passwd || fail "$ACC_NAME is in /etc/passwd"
  # As Debian's own nsswitch.conf, with a directory service after systemd (as
  # sssd's or libnss-ldap's set-up adds it): glibc asks libnss_systemd before the
  # directory. Loaded into a static binary, that module crashes it.
  printf 'passwd: files systemd extrausers\ngroup: files systemd extrausers\nshadow: files\nhosts: files\n' >"$ACC_DIR/nsswitch.conf"
  mount --bind "$ACC_DIR/nsswitch.conf" /etc/nsswitch.conf
  mount -t tmpfs -o mode=755 tmpfs /var/lib/extrausers
  echo "$ACC_NAME:x:$ACC_UID:$ACC_GID:directory user:$ACC_HOME:/bin/bash" >/var/lib/extrausers/passwd
  printf '%s:x:%s:\n%s:x:%s:%s\n' "$ACC_NAME" "$ACC_GID" "$ACC_GROUP" "$ACC_GRP" "$ACC_NAME" >/var/lib/extrausers/group
  : >/var/lib/extrausers/shadow
  for f in subuid subgid; do
    { cat /etc/$f; echo "$ACC_NAME:$ACC_SUBID:65536"; } >"$ACC_DIR/$f"
    chmod 644 "$ACC_DIR/$f"
    mount --bind "$ACC_DIR/$f" /etc/$f
  done
  # The setup is real: the dynamic tools resolve the accounts through the module.
  assert_eq "$(getent passwd "$ACC_UID" | cut -d: -f1)" "$ACC_NAME" "getent passwd $ACC_UID"
  assert_eq "$(getent group "$ACC_GRP" | cut -d: -f1)" "$ACC_GROUP" "getent group $ACC_GRP"
  install -d -m 755 -o "$ACC_UID" -g "$ACC_GID" "$ACC_HOME" "$ACC_HOME/.config" "$ACC_HOME/.config/sandbox" \
    "$ACC_HOME/.config/sandbox/profiles"
  install -d -m 700 -o "$ACC_UID" -g "$ACC_GID" "$ACC_RUNTIME"
  acc_profile acc <<'EOF'
description = "an account from a directory service"
command = ["/bin/sh"]
[home]
mode = "tmpfs"
[network]
mode = "none"
[session]
stop_timeout = 2
EOF
}

acc_profile() {
  local f="$ACC_HOME/.config/sandbox/profiles/$1.toml"
  cat >"$f"
  chown "$ACC_UID:$ACC_GID" "$f"
}

acc_cleanup() {
  pkill -KILL -u "$ACC_UID" 2>/dev/null || true
  rm -rf "$ACC_DIR"
}

# sandbox as the directory user, with neither HOME nor USER set: name, home and
# shell can only come from the account database.
acc_sbx() {
  setpriv --reuid="$ACC_UID" --regid="$ACC_GID" --groups="$ACC_GRP" -- env -i \
    PATH="$IT_PREFIX/bin:/usr/bin:/bin" LANG=C.UTF-8 XDG_RUNTIME_DIR="$ACC_RUNTIME" \
    DBUS_SESSION_BUS_ADDRESS="$IT_NO_SESSION_BUS" "$IT_PREFIX/bin/sandbox" "$@"
}

acc_body() {
  trap acc_cleanup EXIT
  acc_setup
  local out rc
  # A run: the name keys /etc/subuid (else "no subordinate ids") and the container's passwd.
  rc=0; out=$(acc_sbx run acc -- -c 'id -un; id -u; grep "^'"$ACC_NAME"':" /etc/passwd' 2>&1) || rc=$?
  [ "$rc" -eq 0 ] || fail "sandbox run ended with status $rc (139: SIGSEGV, an NSS module loaded into the static launcher): $out"
  echo "$out"
  assert_eq "$(echo "$out" | sed -n 1p)" "$ACC_NAME" "id -un inside"
  assert_eq "$(echo "$out" | sed -n 2p)" "$ACC_UID" "id -u inside"
  assert_contains "$out" "$ACC_NAME:x:$ACC_UID:$ACC_GID:"
  assert_contains "$out" ":/bin/bash" "the shell from the directory"
  # The profile was found in the directory's home, so the home came from getent too;
  # start, list, a join and stop work the same.
  acc_sbx start acc >/dev/null 2>&1 || fail "sandbox start failed"
  out=$(acc_sbx list 2>&1) || fail "sandbox list failed: $out"
  assert_contains "$out" "acc"
  out=$(acc_sbx exec acc -- id -un 2>&1) || fail "sandbox exec failed: $out"
  assert_eq "$out" "$ACC_NAME" "id -un in a join"
  acc_sbx stop acc || fail "sandbox stop failed"
  # A group name in a message: a profile another group could change is refused, by name.
  echo 'command = ["/bin/true"]' | acc_profile accg
  chgrp "$ACC_GRP" "$ACC_HOME/.config/sandbox/profiles/accg.toml"
  chmod 664 "$ACC_HOME/.config/sandbox/profiles/accg.toml"
  rc=0; out=$(acc_sbx run accg 2>&1) || rc=$?
  echo "$out"
  assert_eq "$rc" 125 "exit status of a refused profile (run: sandbox's own failure)"
  assert_contains "$out" "is writable by group $ACC_GRP ($ACC_GROUP)"
  # doctor reads the user's groups and subordinate ranges; it may find problems
  # (this account has no X session) but must finish and name the account.
  rc=0; out=$(acc_sbx doctor 2>&1) || rc=$?
  echo "$out"
  [ "$rc" -le 1 ] || fail "sandbox doctor ended with $rc"
  assert_contains "$out" "$ACC_NAME"
}

test_directory_service_account_runs_with_the_static_launcher() {
  command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
  [ -n "$(find /lib /usr/lib -name libnss_systemd.so.2 -print -quit)" ] || fail "libnss-systemd is missing (make test-deps installs it)"
  [ -e /usr/lib/libnss_extrausers.so.2 ] || [ -e /usr/lib/x86_64-linux-gnu/libnss_extrausers.so.2 ] \
    || fail "libnss-extrausers is missing (make test-deps installs it)"
  unshare --mount --propagation private -- bash -c ". '$IT_DIR/lib.sh'; . '$IT_DIR/accounts.test.sh'; set -e; acc_body"
}

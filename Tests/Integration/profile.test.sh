# Profiles: `sandbox profile check|show|list` of the installed build, as the test
# user. Each test uses its own XDG_CONFIG_HOME so user profiles written here never
# shadow the shipped ones for other tests.

# A fresh config home owned by the test user; prints its path.
pf_config_home() {
  runuser -u "$IT_USER" -- mktemp -d /tmp/sandbox-it-profile.XXXXXX
}

# sandbox as the test user with XDG_CONFIG_HOME=$1.
pf_sbx() {
  local cfg=$1; shift
  IT_EXTRA_ENV="XDG_CONFIG_HOME=$cfg" sbx "$@"
}

# Writes a file as the test user: pf_write PATH <<'EOF' … EOF
pf_write() {
  runuser -u "$IT_USER" -- mkdir -p "$(dirname "$1")"
  runuser -u "$IT_USER" -- tee "$1" >/dev/null
}

test_every_shipped_profile_checks_clean() {
  local cfg; cfg=$(pf_config_home)
  local shipped="$IT_PREFIX/share/sandbox/profiles" n=0 f name out
  for f in "$shipped"/*.toml; do
    name=$(basename "$f" .toml)
    out=$(pf_sbx "$cfg" profile check "$name" 2>&1) || fail "profile check $name exited $?: $out"
    assert_contains "$out" "ok: $name ($shipped/$name.toml)"
    n=$((n + 1))
  done
  [ "$n" -ge 43 ] || fail "expected at least 43 shipped profiles (the first 7 and the app catalog), found $n"
  # No argument: every profile found, and exit 0.
  out=$(pf_sbx "$cfg" profile check 2>&1) || fail "profile check (all) exited $?: $out"
  for name in gui demo firefox chromium google-chrome steam skype; do
    assert_contains "$out" "ok: $name ($shipped/$name.toml)"
  done
  rm -rf "$cfg"
}

test_broken_profile_reports_each_problem_with_file_line_and_key() {
  local cfg; cfg=$(pf_config_home)
  local file="$cfg/sandbox/profiles/broken.toml"
  pf_write "$file" <<'EOF'
description = "several problems, one per line below"
include = ["gui", "no-such-fragment"]
comand = ["xeyes"]
[x11]
mode = "yes"
[idmap]
uid = ["0 100000", "0 4000000000 10"]
[[mount]]
source = "~/Downloads"
target = "../../etc"
[session]
stop_timeout = "ten"
[env]
"1BAD" = "x"
[devices]
extra = ["/etc/shadow"]
EOF
  local out rc=0
  out=$(pf_sbx "$cfg" profile check broken 2>&1) || rc=$?
  echo "$out"
  assert_eq "$rc" "1" "exit status"
  assert_contains "$out" "$file:2: key 'include[1]': included profile 'no-such-fragment' not found"
  assert_contains "$out" "$file:3: key 'comand': unknown key \"comand\" (did you mean \"command\"?"
  assert_contains "$out" "$file:5: key 'x11.mode': \"yes\" is not a valid x11 mode (valid: \"none\", \"trusted\", \"untrusted\")"
  assert_contains "$out" "$file:7: key 'idmap.uid[0]': '0 100000' is not an id-map line"
  assert_contains "$out" "$file:7: key 'idmap.uid[1]': host uids 4000000000–4000000009 of '0 4000000000 10' are not delegated to $IT_USER in /etc/subuid"
  assert_contains "$out" "$file:10: key 'mount[0].target': mount target \"../../etc\""
  assert_contains "$out" "$file:12: key 'session.stop_timeout': stop_timeout must be an integer"
  assert_contains "$out" "$file:14: key 'env.1BAD': \"1BAD\" is not a valid environment variable name"
  assert_contains "$out" "$file:16: key 'devices.extra[0]': device \"/etc/shadow\" is not under /dev/"
  assert_contains "$out" "9 problems in 1 file"
  # The same problems stop `show`, and a run would be refused the same way.
  rc=0; out=$(pf_sbx "$cfg" profile show broken 2>&1) || rc=$?
  assert_eq "$rc" "1" "show exit status"
  assert_contains "$out" "$file:5: key 'x11.mode'"
  # One broken profile makes the whole check fail, while the good ones still say ok.
  rc=0; out=$(pf_sbx "$cfg" profile check 2>&1) || rc=$?
  assert_eq "$rc" "1" "check-all exit status"
  assert_contains "$out" "ok: demo ("
  assert_contains "$out" "$file:3: key 'comand'"
  rm -rf "$cfg"
}

test_broken_user_config_is_reported() {
  local cfg; cfg=$(pf_config_home)
  pf_write "$cfg/sandbox/config.toml" <<'EOF'
brige = "br0"
stop_timeout = 99999
EOF
  local out rc=0
  out=$(pf_sbx "$cfg" profile check 2>&1) || rc=$?
  assert_eq "$rc" "1" "exit status"
  assert_contains "$out" "$cfg/sandbox/config.toml:1: key 'brige': unknown key \"brige\" in config.toml (did you mean \"bridge\"?"
  assert_contains "$out" "$cfg/sandbox/config.toml:2: key 'stop_timeout': stop_timeout 99999 is out of range"
  # Every profile load sees the broken settings, but each problem is printed once.
  assert_eq "$(echo "$out" | grep -c "config.toml:1: key 'brige'")" "1" "times the problem is printed"
  assert_contains "$out" "2 problems in 1 file"
  # A profile load fails on them too, naming config.toml.
  rc=0; out=$(pf_sbx "$cfg" profile show demo 2>&1) || rc=$?
  assert_eq "$rc" "1" "show exit status"
  assert_contains "$out" "$cfg/sandbox/config.toml:1: key 'brige'"
  rm -rf "$cfg"
}

test_show_prints_the_merged_profile_including_fragments() {
  local cfg; cfg=$(pf_config_home)
  pf_write "$cfg/sandbox/profiles/media.toml" <<'EOF'
[[mount]]
source = "~/Music"
target = "~/Music"
optional = true
[env]
FROM_FRAGMENT = "media"
EOF
  pf_write "$cfg/sandbox/profiles/player.toml" <<'EOF'
description = "merged"
include = ["gui", "media"]
command = ["xeyes"]
[x11]
required = false
[[mount]]
source = "/usr/share/doc"
target = "/srv/doc"
EOF
  local out
  out=$(pf_sbx "$cfg" profile show player 2>&1) || fail "profile show exited $?: $out"
  echo "$out"
  assert_contains "$out" "# Includes already applied: gui, media"
  # From the shipped gui fragment, with this profile's override merged key by key.
  assert_contains "$out" $'[x11]\nmode = "trusted"\nrequired = false'
  assert_contains "$out" $'[devices]\ndri = true\nsnd = true\nvideo = true'
  assert_contains "$out" 'QT_X11_NO_MITSHM = "1"'
  assert_contains "$out" 'FROM_FRAGMENT = "media"'
  # Mounts accumulate: the fragment's first.
  assert_contains "$out" $'[[mount]]\nsource = "~/Music"\ntarget = "~/Music"\nreadonly = true\noptional = true\n\n[[mount]]\nsource = "/usr/share/doc"'
  assert_contains "$out" 'stop_timeout = 10'
  # The output is itself a valid, standalone profile.
  echo "$out" | pf_write "$cfg/shown.toml"
  out=$(pf_sbx "$cfg" profile check "$cfg/shown.toml" 2>&1) || fail "shown profile does not check: $out"
  local again; again=$(pf_sbx "$cfg" profile show "$cfg/shown.toml" | grep -v '^#')
  assert_eq "$again" "$(pf_sbx "$cfg" profile show player | grep -v '^#')" "show of show"
  rm -rf "$cfg"
}

test_list_shows_a_user_profile_shadowing_a_shipped_one() {
  local cfg; cfg=$(pf_config_home)
  pf_write "$cfg/sandbox/profiles/demo.toml" <<'EOF'
description = "my own demo"
include = ["gui"]
command = ["xlogo"]
EOF
  local out
  out=$(pf_sbx "$cfg" profile list 2>&1) || fail "profile list exited $?: $out"
  echo "$out"
  local line; line=$(echo "$out" | grep -E '^demo ')
  assert_contains "$line" "$cfg/sandbox/profiles/demo.toml"
  assert_contains "$line" "my own demo"
  assert_contains "$out" "(shadows $IT_PREFIX/share/sandbox/profiles/demo.toml)"
  assert_contains "$out" "firefox "
  # Loading by name now gets the user's file.
  out=$(pf_sbx "$cfg" profile show demo)
  assert_contains "$out" 'command = ["xlogo"]'
  rm -rf "$cfg"
}

test_invalid_profile_names_are_refused() {
  local cfg; cfg=$(pf_config_home)
  local out rc=0
  out=$(pf_sbx "$cfg" profile check -- -rf 2>&1) || rc=$?
  assert_eq "$rc" "1" "exit status"
  assert_contains "$out" "'-rf' is not a valid profile name"
  rc=0; out=$(pf_sbx "$cfg" profile show 'bad name' 2>&1) || rc=$?
  assert_eq "$rc" "1" "exit status"
  assert_contains "$out" "'bad name' is not a valid profile name"
  rm -rf "$cfg"
}

# Attack: another user plants a profile where the test user's sandbox looks for
# one (a world-writable profile directory). The planted command would run as the
# test user; sandbox must refuse the file, not run or even parse it.
test_profiles_other_users_can_change_are_refused() {
  local cfg; cfg=$(pf_config_home)
  local dir="$cfg/sandbox/profiles"
  runuser -u "$IT_USER" -- mkdir -p "$dir"
  chmod 755 "$cfg" "$cfg/sandbox"
  chmod 1777 "$dir"
  runuser -u "$IT_OTHER" -- sh -c "printf 'command = [\"sh\", \"-c\", \"touch /tmp/pwned-by-$IT_OTHER\"]\n' >'$dir/demo.toml'"
  local out rc=0
  out=$(pf_sbx "$cfg" profile show demo 2>&1) || rc=$?
  echo "$out"
  assert_eq "$rc" "1" "exit status"
  assert_contains "$out" "$dir/demo.toml: refusing to use it: its file $dir/demo.toml is owned by uid $(it_uid "$IT_OTHER") ($IT_OTHER), not by you ($(it_uid)) or root"
  assert_not_contains "$out" "pwned"
  # Even the user's own file is refused while the directory is world-writable:
  # the other user could replace it at any time.
  rm -f "$dir/demo.toml"
  echo 'command = ["xeyes"]' | pf_write "$dir/mine.toml"
  rc=0; out=$(pf_sbx "$cfg" profile check mine 2>&1) || rc=$?
  assert_eq "$rc" "1" "exit status (world-writable directory)"
  assert_contains "$out" "its directory $dir is writable by every user (mode 1777, owner uid $(it_uid) ($IT_USER))"
  # And a world-writable file in a safe directory.
  chmod 755 "$dir"
  chmod 666 "$dir/mine.toml"
  rc=0; out=$(pf_sbx "$cfg" profile check mine 2>&1) || rc=$?
  assert_eq "$rc" "1" "exit status (world-writable file)"
  assert_contains "$out" "its file $dir/mine.toml is writable by every user (mode 666, owner uid $(it_uid) ($IT_USER))"
  assert_contains "$out" "run: chmod o-w '$dir/mine.toml'"
  chmod 644 "$dir/mine.toml"
  pf_sbx "$cfg" profile check mine >/dev/null || fail "the repaired profile should check clean"
  rm -rf "$cfg"
}

# Issue 9 #6: trust used to stop at the file's own directory. Here the profile,
# its directory and the file are the user's, but the grandparent directory
# belongs to the second test user, who could rename it away and put a tree of
# their own (and a profile that runs anything as the user) in its place.
test_a_grandparent_directory_of_another_user_is_refused() {
  local cfg; cfg=$(pf_config_home)
  local dir="$cfg/sandbox/profiles" seen; seen=$(runuser -u "$IT_USER" -- mktemp -d /tmp/sandbox-it-trust.XXXXXX)
  local marker="$seen/ran"
  runuser -u "$IT_USER" -- mkdir -p "$dir"
  printf 'command = ["sh", "-c", "touch %s"]\n[[mount]]\nsource = "%s"\ntarget = "%s"\nreadonly = false\n' \
    "$marker" "$seen" "$seen" | pf_write "$dir/mine.toml"
  echo 'stop_timeout = 3' | pf_write "$cfg/sandbox/config.toml"
  # Before: the profile runs (the marker shows on the host).
  pf_sbx "$cfg" run mine || fail "the profile should run before the chown"
  [ -e "$marker" ] || fail "the marker did not appear: the check below would prove nothing"
  rm -f "$marker"
  chown "$IT_OTHER:" "$cfg/sandbox"                    # the grandparent of mine.toml
  local out rc=0
  out=$(pf_sbx "$cfg" run mine 2>&1) || rc=$?
  echo "$out"
  [ "$rc" -ne 0 ] || fail "run accepted a profile below another user's directory"
  [ ! -e "$marker" ] || fail "the profile's command ran"
  assert_contains "$out" "$dir/mine.toml: refusing to use it: its directory $cfg/sandbox is owned by uid $(it_uid "$IT_OTHER") ($IT_OTHER), not by you ($(it_uid)) or root (mode 755)"
  assert_contains "$out" "as root: chown $IT_USER '$cfg/sandbox'"
  # config.toml sits below the same directory: refused too.
  assert_contains "$out" "$cfg/sandbox/config.toml: refusing to use it: its directory $cfg/sandbox is owned by uid $(it_uid "$IT_OTHER")"
  chown "$IT_USER:" "$cfg/sandbox"
  # An include whose grandparent belongs to the other user.
  local shared; shared=$(mktemp -d /tmp/sandbox-it-shared.XXXXXX)
  chmod 755 "$shared"; chown "$IT_OTHER:" "$shared"
  mkdir -p "$shared/fragments/gui"
  echo '[env]' >"$shared/fragments/gui/extra.toml"
  chown "$IT_USER:" "$shared/fragments" "$shared/fragments/gui" "$shared/fragments/gui/extra.toml"
  printf 'include = ["%s"]\ncommand = ["true"]\n' "$shared/fragments/gui/extra.toml" | pf_write "$dir/inc.toml"
  rc=0; out=$(pf_sbx "$cfg" profile check inc 2>&1) || rc=$?
  echo "$out"
  assert_eq "$rc" "1" "exit status (include)"
  assert_contains "$out" "$shared/fragments/gui/extra.toml: refusing to use it: its directory $shared is owned by uid $(it_uid "$IT_OTHER") ($IT_OTHER)"
  # Repaired (root takes the directory back), both are fine again.
  chown root: "$shared"
  pf_sbx "$cfg" profile check inc >/dev/null || fail "include below a root-owned directory refused"
  pf_sbx "$cfg" profile check mine >/dev/null || fail "the repaired profile should check clean"
  rm -rf "$cfg" "$shared" "$seen"
}

# Syntax errors name the line; input that made the toml++ of TOMLKit (the reader before TOMLParser) assert
# (`[}`, `v = 1979-05-27T:`) is an error message and exit 1, never an abort.
test_syntax_errors_are_messages_not_crashes() {
  local cfg; cfg=$(pf_config_home)
  local dir="$cfg/sandbox/profiles" out rc text n=0
  printf 'description = "x"\n[x11]\nmode = trusted\n' | pf_write "$dir/unquoted.toml"
  rc=0; out=$(pf_sbx "$cfg" profile check unquoted 2>&1) || rc=$?
  assert_eq "$rc" "1" "exit status"
  assert_contains "$out" "$dir/unquoted.toml:3: TOML syntax error at column 8: trusted is not a valid value (strings need double quotes"
  for text in '[}' 'a = 1\n[.x]' 'a = [}' 'v = 1979-05-27T:' 'x = {b = [}]}' '[x11\nmode = "none"' 'description = "\xff"'; do
    n=$((n + 1))
    printf "$text\n" | pf_write "$dir/bad$n.toml"
    rc=0; out=$(pf_sbx "$cfg" profile check "bad$n" 2>&1) || rc=$?
    assert_eq "$rc" "1" "exit status for $text"
    assert_contains "$out" "$dir/bad$n.toml:"
    assert_contains "$out" "TOML syntax error"
  done
  rm -rf "$cfg"
}

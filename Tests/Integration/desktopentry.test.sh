# sandbox desktop install/remove: the generated launcher passes
# desktop-file-validate, its Exec line names the installed binary with the right
# arguments, and remove deletes only files sandbox wrote.

desk_profile() {
  it_profile deskapp <<'EOF2'
description = "A test app"
command = ["/bin/echo", "launched"]

[desktop]
name = "Desk App"
comment = "Opens things; 100% sandboxed"
icon = "utilities-terminal"
categories = ["Utility"]
mime_types = ["text/plain"]
EOF2
}

apps_dir() { echo "$(it_home)/.local/share/applications"; }

test_install_validates_and_names_the_installed_binary() {
  desk_profile
  local out; out=$(sbx desktop install deskapp)
  local file; file="$(apps_dir)/sandbox-deskapp.desktop"
  assert_eq "$out" "installed $file"
  [ -f "$file" ] || fail "$file missing"
  assert_eq "$(stat -c %U "$file")" "$IT_USER" "owner"
  cat "$file"
  local v; v=$(desktop-file-validate "$file" 2>&1) || fail "desktop-file-validate: $v"
  assert_eq "$v" "" "desktop-file-validate output"
  assert_eq "$(grep '^Name=' "$file")" "Name=Desk App" "Name (desktop.name as written)"
  assert_contains "$(cat "$file")" "TryExec=$IT_PREFIX/bin/sandbox"
  assert_contains "$(cat "$file")" "X-Sandbox-Profile=deskapp"
  local argv; argv=$(it_launcher_argv "$file" "file:///tmp/a b.txt")
  assert_eq "$argv" "$IT_PREFIX/bin/sandbox
run
deskapp
--
file:///tmp/a b.txt" "Exec argv"
  [ -x "$(echo "$argv" | head -1)" ] || fail "Exec program is not executable"
}

test_exec_line_launches_the_app() {
  desk_profile
  sbx desktop install deskapp >/dev/null
  local file; file="$(apps_dir)/sandbox-deskapp.desktop"
  local -a argv
  mapfile -t argv < <(it_launcher_argv "$file" "file:///tmp/x.txt")
  local out rc=0; out=$(it_as_user "${argv[@]}" 2>&1) || rc=$?
  [ "$rc" -eq 0 ] || fail "the launcher's command failed ($rc): $out"
  assert_contains "$out" "launched file:///tmp/x.txt"
}

# Issue 10 #4: the shipped profiles write "(sandboxed)" in desktop.name and the
# launcher appended it again; a profile without desktop.name gets "NAME (sandboxed)".
test_launcher_name_is_the_profiles_not_doubled() {
  local file
  sbx desktop install firefox >/dev/null
  file="$(apps_dir)/sandbox-firefox.desktop"
  assert_eq "$(grep '^Name=' "$file")" "Name=Firefox ESR (sandboxed)" "shipped firefox launcher"
  sbx desktop remove firefox >/dev/null
  it_profile nonameapp <<'EOF2'
description = "An app whose profile has no desktop.name"
command = ["/bin/true"]
EOF2
  sbx desktop install nonameapp >/dev/null
  file="$(apps_dir)/sandbox-nonameapp.desktop"
  assert_eq "$(grep '^Name=' "$file")" "Name=nonameapp (sandboxed)" "launcher without desktop.name"
  local v; v=$(desktop-file-validate "$file" 2>&1) || fail "desktop-file-validate: $v"
  sbx desktop remove nonameapp >/dev/null
}

test_xdg_data_home_is_honoured() {
  desk_profile
  local xdg; xdg="$(it_home)/xdg-data-test"
  rm -rf "$xdg"
  local out; out=$(IT_EXTRA_ENV="XDG_DATA_HOME=$xdg" sbx desktop install deskapp)
  assert_eq "$out" "installed $xdg/applications/sandbox-deskapp.desktop"
  [ -f "$xdg/applications/sandbox-deskapp.desktop" ] || fail "not written under XDG_DATA_HOME"
  IT_EXTRA_ENV="XDG_DATA_HOME=$xdg" sbx desktop remove deskapp >/dev/null
  [ ! -e "$xdg/applications/sandbox-deskapp.desktop" ] || fail "not removed"
  rm -rf "$xdg"
}

test_remove_deletes_only_our_launchers() {
  desk_profile
  sbx desktop install deskapp >/dev/null
  local file; file="$(apps_dir)/sandbox-deskapp.desktop"
  local out; out=$(sbx desktop remove deskapp)
  assert_eq "$out" "removed $file"
  [ ! -e "$file" ] || fail "$file still there"
  # A file with our name that sandbox did not write stays, for remove and install alike.
  local foreign; foreign="$(apps_dir)/sandbox-other.desktop"
  printf '[Desktop Entry]\nType=Application\nName=Other\nExec=/bin/true\n' | runuser -u "$IT_USER" -- tee "$foreign" >/dev/null
  local rc=0; out=$(sbx desktop remove other 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "remove of a foreign file succeeded"
  assert_contains "$out" "was not written by \`sandbox desktop install other\`"
  [ -f "$foreign" ] || fail "foreign file deleted"
  # Path tricks in the name do not reach other files.
  rc=0; out=$(sbx desktop remove ../../.bashrc 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "remove ../../.bashrc succeeded"
  assert_contains "$out" "is not a profile name"
  rm -f "$foreign"
}

# Every shipped app profile (the catalog of Tests/Apps/catalog included) gets a
# launcher that desktop-file-validate accepts, named as its profile says.
test_every_shipped_profile_gets_a_valid_launcher() {
  local shipped="$IT_PREFIX/share/sandbox/profiles" f name file v n=0 bad=""
  for f in "$shipped"/*.toml; do
    name=$(basename "$f" .toml)
    [ "$name" = gui ] && continue
    sbx desktop install "$name" >/dev/null || { bad="$bad $name(install)"; continue; }
    file="$(apps_dir)/sandbox-$name.desktop"
    v=$(desktop-file-validate "$file" 2>&1) || bad="$bad $name"
    [ -z "$v" ] || { echo "$name: $v"; bad="$bad $name"; }
    grep -q "^Name=.*(sandboxed" "$file" || bad="$bad $name(Name: $(grep '^Name=' "$file"))"
    grep -q "^Icon=." "$file" || bad="$bad $name(no Icon)"
    sbx desktop remove "$name" >/dev/null
    n=$((n + 1))
  done
  [ -z "$bad" ] || fail "launchers that do not validate:$bad"
  [ "$n" -ge 40 ] || fail "expected at least 40 shipped app profiles, found $n"
}

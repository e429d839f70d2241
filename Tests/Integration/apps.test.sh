# The make-check subset of the app catalog (Tests/Apps/catalog; `make apps` runs
# all of it): three programs scripts/install-deps.sh --test installs, each
# through its shipped profile and the same procedure as `make apps`
# (Tests/Apps/lib.sh): `sandbox run` to a window on the test desktop, a
# screenshot, the windows closed as a window manager would, the container gone.

. "$IT_ROOT/Tests/Apps/lib.sh"
# The timings against a second start and a bare run are `make apps`'s business.
APPS_COMPARE=0

# The catalog's line for PROFILE, as "MATCH|CHECK|ARGS".
ap_catalog() {
  awk -F'|' -v n="$1" '{ gsub(/ +/, "", $1) } $1 == n { print $3 "|" $4 "|" $5 }' "$IT_ROOT/Tests/Apps/catalog" \
    | sed 's/ *| */|/g; s/^ *//; s/ *$//'
}

# Runs PROFILE as the catalog says; fails with the reason.
ap_run() {
  local name=$1 line match check args
  command -v "$(apps_profile_command "$name" | head -n1)" >/dev/null || fail "$name is not installed (scripts/install-deps.sh --test)"
  line=$(ap_catalog "$name")
  [ -n "$line" ] || fail "$name is not in Tests/Apps/catalog"
  IFS='|' read -r match check args <<<"$line"
  apps_prepare_files
  apps_hold_display
  # With the user's session bus, as on a desktop: the app goes through its proxy
  # (a GApplication program such as mousepad must own its id to start).
  it_start_session_bus || fail "no session bus for the test user"
  trap 'it_stop_session_bus; apps_release_display' EXIT
  # shellcheck disable=SC2086
  apps_try "$name" "$match" "$check" $args || fail "$name: $A_REASON (log: $APPS_OUT/$name.log)"
  echo "$name: window $A_WINDOW \"$A_TITLE\" after $A_MS ms (bare ${A_BARE_MS:-none} ms), gone $A_GONE_MS ms after $A_CLOSE"
  # Something was drawn: the screenshot is not the empty black root.
  local mean; mean=$(convert "$A_SHOT" -format '%[fx:mean]' info:)
  awk -v m="$mean" 'BEGIN { exit !(m > 0.02) }' || fail "$name: the screenshot is blank (mean $mean): $A_SHOT"
  assert_eq "$A_CLOSE" "WM_DELETE_WINDOW" "how $name's windows were closed"
  ! apps_running "$name" || fail "$name is still in sandbox list"
}

test_xterm_runs_and_its_container_goes_with_its_window() {
  ap_run xterm
  assert_contains "$A_WINDOW" "XTerm"
}

test_zathura_shows_a_pdf_from_the_readonly_documents_bind() {
  ap_run zathura
  # The title names the file it opened: the PDF came through the ~/Documents bind.
  assert_contains "$A_TITLE" "sample.pdf"
}

test_mousepad_opens_a_text_file_from_documents() {
  ap_run mousepad
  assert_contains "$A_TITLE" "sample.txt"
}

test_catalog_profiles_deny_what_they_do_not_need() {
  # The viewers cannot write the folder they read, and apps without a network
  # grant have only loopback: checked inside the real containers.
  local out home; home=$(it_home)
  apps_prepare_files
  out=$(sbx exec zathura -- sh -c "touch ~/Documents/w 2>&1; echo rc=\$?; awk 'NR > 2 { print \$1 }' /proc/net/dev" 2>&1) || true
  assert_contains "$out" "Read-only file system"
  assert_contains "$out" "rc=1"
  assert_eq "$(echo "$out" | tail -n 1)" "lo:" "network interfaces of zathura"
  [ ! -e "$home/Documents/w" ] || fail "zathura wrote into ~/Documents"
  # The editor writes its documents, and nothing else of the home is there.
  out=$(sbx exec mousepad -- sh -c "echo edited >~/Documents/w && echo wrote; ls -A ~ | tr '\n' ' '" 2>&1) || fail "exec mousepad: $out"
  assert_contains "$out" "wrote"
  assert_eq "$(cat "$home/Documents/w")" "edited" "the file mousepad wrote"
  rm -f "$home/Documents/w"
  assert_not_contains "$out" "Pictures"
  assert_not_contains "$out" ".Xauthority"
}

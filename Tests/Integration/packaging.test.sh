# Installation pieces outside the binary: `make install`/`make uninstall`, the
# shell completions, the AppArmor profile. (The Debian package is built,
# installed, upgraded and purged by Tests/Package/deb.sh, which .ci/run runs
# after `make check`.)

# `make uninstall` removes exactly what `make install` wrote: every file, and
# the directories that are sandbox's own; shared ones (bin, man1…) may stay.
test_uninstall_removes_every_file_install_wrote() {
  local dest; dest=$(mktemp -d /tmp/sandbox-it-destdir.XXXXXX)
  make -C "$IT_ROOT" --no-print-directory install DESTDIR="$dest" PREFIX=/usr/local >"$IT_LOGS/destdir-install.log" 2>&1 \
    || { tail -n 20 "$IT_LOGS/destdir-install.log"; rm -rf "$dest"; fail "make install DESTDIR=$dest failed"; }
  local f
  for f in usr/local/bin/sandbox usr/local/libexec/sandbox/sandbox-supervisor usr/local/libexec/sandbox/sandbox-monitor usr/local/libexec/sandbox/sandbox-session \
           usr/local/libexec/sandbox/sandbox-net \
           usr/local/share/sandbox/profiles/demo.toml usr/local/share/sandbox/apparmor/sandbox \
           usr/local/share/man/man1/sandbox.1 usr/local/lib/systemd/system/sandbox-net.service etc/sandbox/usernet.example \
           usr/local/share/bash-completion/completions/sandbox usr/local/share/zsh/site-functions/_sandbox \
           usr/local/share/fish/vendor_completions.d/sandbox.fish; do
    [ -f "$dest/$f" ] || { rm -rf "$dest"; fail "make install did not write $f"; }
  done
  local written; written=$(find "$dest" -type f | wc -l)
  make -C "$IT_ROOT" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr/local >"$IT_LOGS/destdir-uninstall.log" 2>&1 \
    || { cat "$IT_LOGS/destdir-uninstall.log"; rm -rf "$dest"; fail "make uninstall failed"; }
  local left; left=$(cd "$dest" && find . ! -type d | sort)
  local own; own=$(cd "$dest" && find . -type d \( -path '*/sandbox' -o -path '*/sandbox/*' \) | sort)
  rm -rf "$dest"
  echo "make install wrote $written files; left after uninstall: [${left}]"
  assert_eq "$left" "" "files make uninstall left (add them to INSTALLED_FILES in the Makefile)"
  assert_eq "$own" "" "sandbox's own directories make uninstall left"
}

# Types LINE and a TAB into an interactive shell (SHELL-COMMAND: zsh or fish, in
# a pseudo-terminal from zsh/zpty) as the test user, after SETUP; prints the
# screen with the terminal escapes removed once WANT shows (or after 5 s).
it_complete_interactively() {
  local script; script=$(mktemp /tmp/sandbox-it-complete.XXXXXX)
  cat >"$script" <<'ZSH'
zmodload zsh/zpty
zpty -b sh "$1"
zpty -w sh "$2"
zpty -w -n sh "$3"$'\t'
out=
for i in {1..50}; do
  sleep 0.1
  zpty -r -t sh chunk && out+=$chunk
  [[ $out == *"$4"* ]] && break
done
print -r -- ${out//$'\e'\[[0-9;?]#[a-zA-Z]/}
zpty -d sh
ZSH
  chmod 644 "$script"
  # The user's own environment: XDG_CONFIG_HOME elsewhere would hide their profiles from sandbox too.
  it_as_user timeout 30 zsh -f "$script" "$@" 2>&1
  rm -f "$script"
}

# `sandbox run <TAB>` offers profile names (the user's own included) in bash,
# zsh and fish, from the installed completion files, run as the user runs them.
test_completions_offer_profile_names_in_bash_zsh_fish() {
  echo 'command = ["true"]' | it_profile completeme
  local share=$IT_PREFIX/share
  # bash: bash-completion's loader, then the function the file registers, called as <TAB> calls it.
  local bash_out
  bash_out=$(it_as_user bash -c ". /usr/share/bash-completion/bash_completion; . '$share/bash-completion/completions/sandbox'
    complete_line() { COMP_LINE=\$1; COMP_POINT=\${#COMP_LINE}; read -ra COMP_WORDS <<<\"\$COMP_LINE\"
      [[ \$COMP_LINE == *' ' ]] && COMP_WORDS+=('')
      COMP_CWORD=\$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _sandbox sandbox \"\${COMP_WORDS[COMP_CWORD]}\"; printf '%s\n' \"\${COMPREPLY[@]}\"; }
    echo '# run compl'; complete_line 'sandbox run compl'
    echo '# run'; complete_line 'sandbox run '
    echo '# st'; complete_line 'sandbox st'")
  echo "$bash_out"
  assert_contains "$bash_out" $'# run compl\ncompleteme\n# run' "bash: sandbox run compl<TAB>"
  assert_contains "$bash_out" $'demo\n' "bash: sandbox run <TAB> (shipped profiles)"
  assert_contains "$bash_out" $'# st\nstart\nstop\nstatus' "bash: sandbox st<TAB> (start, stop, status in the order of sandbox --help)"

  local zsh_out
  zsh_out=$(it_complete_interactively "zsh -f -i" \
    "PS1='> '; fpath=($share/zsh/site-functions \$fpath); autoload -Uz compinit; compinit -u -D" \
    "sandbox run complet" "completeme")
  echo "zsh: $zsh_out"
  assert_contains "$zsh_out" "sandbox run completeme" "zsh: sandbox run complet<TAB>"

  # fish 3 completes custom words only interactively (`complete -C` has no command line).
  local fish_out
  fish_out=$(it_complete_interactively "fish --no-config -i" \
    "source $share/fish/vendor_completions.d/sandbox.fish" \
    "sandbox run complet" "completeme")
  echo "fish: $fish_out"
  assert_contains "$fish_out" "sandbox run completeme" "fish: sandbox run complet<TAB>"
}

# The hidden hook the scripts call on <TAB>, directly (word index, cursor
# offset in the word, the words): names that start with the word's prefix.
test_completion_hook_answers_with_names() {
  local out
  # (Other tests leave user profiles behind: match names only this test and the shipped set have.)
  echo 'command = ["/bin/true"]' | it_profile cmpl-only-here
  out=$(sbx ---completion run -- positional@0 2 2 sandbox run cmpl-o)
  assert_eq "$out" "cmpl-only-here" "---completion for 'sandbox run cmpl-o' (a user profile)"
  out=$(sbx ---completion run -- positional@0 2 3 sandbox run dem)
  assert_eq "$out" "demo" "---completion for 'sandbox run dem' (a shipped profile)"
  # stop also offers containers whose profile is gone (a state directory in $XDG_RUNTIME_DIR/sandbox).
  local state; state="$(it_runtime)/sandbox"
  runuser -u "$IT_USER" -- mkdir -p "$state/cmpl-gone"
  out=$(sbx ---completion stop -- positional@0 2 0 sandbox stop '')
  runuser -u "$IT_USER" -- rmdir "$state/cmpl-gone"
  local name
  for name in chromium demo firefox cmpl-only-here; do
    echo "$out" | grep -qx "$name" || fail "---completion for 'sandbox stop <TAB>' lacks $name: $out"
  done
  assert_contains "$out" "cmpl-gone" "---completion for 'sandbox stop <TAB>'"
  # destroy offers what has data (~/.local/share/sandbox/NAME), not every profile.
  local data; data="$(it_home)/.local/share/sandbox"
  runuser -u "$IT_USER" -- mkdir -p "$data/leftover"
  out=$(sbx ---completion destroy -- positional@0 2 0 sandbox destroy '')
  runuser -u "$IT_USER" -- rmdir "$data/leftover"
  assert_contains "$out" "leftover" "---completion for 'sandbox destroy <TAB>'"
  assert_not_contains "$out" "chromium" "---completion for 'sandbox destroy <TAB>'"
}

# The AppArmor profile names the installed launcher and supervisor, allows
# them user namespaces, and AppArmor 4's parser accepts it (Debian 12's 3.0
# cannot parse abi 4.0 or `userns`: Tests/Package/apparmor4-parser.sh fetches
# Debian 13's). A profile with a typo in the rule must fail the same check.
test_apparmor_profile_parses_with_apparmor_4_and_names_the_binaries() {
  local profile=$IT_PREFIX/share/sandbox/apparmor/sandbox text
  text=$(cat "$profile")
  assert_contains "$text" "profile sandbox $IT_PREFIX/bin/sandbox flags=(unconfined) {" "the launcher's profile"
  assert_contains "$text" "profile sandbox-supervisor $IT_PREFIX/libexec/sandbox/sandbox-supervisor flags=(unconfined) {" "the supervisor's profile"
  [ "$(grep -c '^  userns,$' "$profile")" = 2 ] || fail "both profiles need the userns rule"
  local parser; parser=$("$IT_ROOT/Tests/Package/apparmor4-parser.sh" "$IT_STATE/apparmor4") || fail "no AppArmor 4 parser"
  "$parser" --version | head -n1
  "$parser" -Q -K "$profile" || fail "AppArmor 4's parser rejects $profile"
  local broken; broken=$(mktemp /tmp/sandbox-it-aa.XXXXXX)
  sed 's/^  userns,$/  usernz,/' "$profile" >"$broken"
  if "$parser" -Q -K "$broken" 2>/dev/null; then rm -f "$broken"; fail "the parser check accepts a misspelt rule: it proves nothing"; fi
  rm -f "$broken"
  # Debian 12's own parser: everything but the two AppArmor 4 lines.
  if command -v apparmor_parser >/dev/null && [[ $(apparmor_parser --version | head -n1) == *"version 3."* ]]; then
    local v3; v3=$(mktemp /tmp/sandbox-it-aa3.XXXXXX)
    sed -e 's|^abi <abi/4.0>,|abi <abi/3.0>,|' -e '/^  userns,$/d' "$profile" >"$v3"
    apparmor_parser -Q -K "$v3" || { rm -f "$v3"; fail "AppArmor 3's parser rejects the profile's other rules"; }
    rm -f "$v3"
  fi
}

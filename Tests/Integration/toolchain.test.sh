# `make demo` and `make check` on a machine without Swift (Debian 12 has none):
# they stop at once, before installing anything, with where to get it. Runs make
# in the checkout as root with a PATH that holds only make and bash (and a fake
# `swift` where a test needs one), so it holds wherever the real swift lives.

tc_bin() {
  local bin; bin=$(mktemp -d /tmp/sandbox-it-toolchain.XXXXXX)
  ln -s "$(command -v make)" "$bin/make"
  ln -s "$(command -v bash)" "$bin/bash"
  echo "$bin"
}

# A `swift` that only answers --version with $2.
tc_fake_swift() {
  printf '#!/bin/sh\necho "%s"\necho "Target: x86_64-unknown-linux-gnu"\n' "$2" >"$1"
  chmod 755 "$1"
}

tc_make() {
  local bin=$1; shift
  env -i PATH="$bin" HOME=/root make -C "$IT_ROOT" --no-print-directory "$@" 2>&1
}

test_make_demo_and_check_without_swift_stop_with_the_instruction() {
  local bin out rc target start ms
  bin=$(tc_bin)
  for target in demo check; do
    rc=0; start=$(date +%s%N)
    out=$(tc_make "$bin" "$target") || rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "$target: rc=$rc ${ms}ms"; echo "$out"
    [ "$rc" -ne 0 ] || fail "make $target succeeded without swift"
    assert_contains "$out" "'swift' not found on PATH ($bin)"
    assert_contains "$out" "Swift 6.2 or newer, and Debian 12 has no Swift package"
    assert_contains "$out" "https://www.swift.org/install/linux/"
    assert_contains "$out" "export PATH=/opt/swift/usr/bin:\$PATH"
    assert_contains "$out" "make check SWIFT=/opt/swift/usr/bin/swift"
    # At once: nothing installed or built first.
    assert_not_contains "$out" "install-deps"
    assert_not_contains "$out" "Compiling"
    [ "$ms" -lt 5000 ] || fail "make $target took $ms ms to give up"
  done
  rm -rf "$bin"
}

test_make_demo_with_an_old_swift_stops_and_a_new_one_passes_the_check() {
  local bin out rc=0
  bin=$(tc_bin)
  tc_fake_swift "$bin/swift" "Swift version 5.9.2 (swift-5.9.2-RELEASE)"
  out=$(tc_make "$bin" demo) || rc=$?
  echo "$out"
  [ "$rc" -ne 0 ] || fail "make demo succeeded with Swift 5.9.2"
  assert_contains "$out" "$bin/swift is Swift 5.9.2, too old."
  assert_contains "$out" "Swift 6.2 or newer"
  assert_not_contains "$out" "install-deps"
  # 6.2 and newer pass the check, from PATH or named with SWIFT=.
  tc_fake_swift "$bin/swift" "Swift version 6.2 (swift-6.2-RELEASE)"
  out=$(tc_make "$bin" toolchain) || fail "Swift 6.2 refused: $out"
  rm "$bin/swift"
  tc_fake_swift "$bin/newer-swift" "Swift version 6.3.1 (swift-6.3.1-RELEASE)"
  out=$(tc_make "$bin" toolchain SWIFT="$bin/newer-swift") || fail "SWIFT= not honoured: $out"
  rc=0; out=$(tc_make "$bin" toolchain) || rc=$?
  [ "$rc" -ne 0 ] || fail "passed with no swift on PATH and no SWIFT="
  rm -rf "$bin"
}

# The C libraries the unit tests exercise (CSandboxSpawn, CSandboxNet) are compiled
# with the installed setuid helper's flags: the Makefile's NET_CFLAGS and
# Package.swift's hardenedC (with the package's C standard) name the same flags, as
# make and SwiftPM evaluate them. Only -g and -fPIE are the Makefile's alone: SwiftPM
# chooses debug info and position independence itself.
tc_flags_of_make() {
  make -C "$IT_ROOT" --no-print-directory -s --eval 'print-%: ; @echo $($*)' print-NET_CFLAGS \
    | tr ' ' '\n' | grep -v -x -e '' -e -g -e -fPIE | sort
}

tc_flags_of_package() {
  jq -r --arg t "$2" '(.cLanguageStandard // empty | "-std=" + .),
    (.targets[] | select(.name == $t) | .settings[] | select(.tool == "c") | .kind
     | (.define._0 // empty | "-D" + .), (.unsafeFlags._0 // empty | .[]))' <<<"$1" | sort
}

test_the_c_libraries_under_test_get_the_setuid_helpers_compiler_flags() {
  local manifest make_flags target package_flags
  make_flags=$(tc_flags_of_make)
  echo "NET_CFLAGS (less -g -fPIE):"; echo "$make_flags"
  assert_contains "$make_flags" "-D_FORTIFY_SOURCE=2" "NET_CFLAGS"
  manifest=$(cd "$IT_ROOT" && "${SWIFT:-swift}" package dump-package) || fail "swift package dump-package failed"
  for target in CSandboxSpawn CSandboxNet; do
    package_flags=$(tc_flags_of_package "$manifest" "$target")
    [ "$package_flags" == "$make_flags" ] \
      || fail "$target's flags in Package.swift differ from the Makefile's NET_CFLAGS (< Package.swift, > Makefile):
$(diff <(echo "$package_flags") <(echo "$make_flags"))"
  done
}

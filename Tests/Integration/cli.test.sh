# The installed CLI answers as the test user.
test_version_and_help() {
  out=$(sbx --version)
  assert_contains "$out" "0."
  out=$(sbx --help)
  assert_contains "$out" "run"
  assert_contains "$out" "doctor"
}

# Shared helpers of the CLI tests (tests/cli/test_*.sh; sourced, not a test itself).
#   source "$(dirname "$0")/lib.sh" NAME [PATH/TO/physgen]
# sets PG (the binary, default ./build/physgen), T (a fresh temporary folder /tmp/NAME_XXXXXX,
# removed on exit), C (common flags) and fail=0, and defines:
#   ok MSG / bad MSG                 report one check (bad sets fail=1)
#   run CMD...                       CMD must exit 0 (stdout -> $T/out, stderr -> $T/err)
#   expect_error CODE PATTERN CMD... CMD must exit CODE with PATTERN in its stderr
#   has FILE PATTERN DESCRIPTION     FILE must match the extended regex PATTERN
#   finish                           print ALL PASSED / SOME FAILED and exit with $fail
set -u
PG=${2:-./build/physgen}
T=$(mktemp -d "/tmp/${1:?test name}_XXXXXX")
trap 'rm -rf "$T"' EXIT
C="--threads 1"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
run() {
  if "$@" >"$T/out" 2>"$T/err"; then ok "$*"; else bad "$* (exit $?): $(tail -3 "$T/err")"; fi
}
expect_error() {
  local code=$1 pat=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" = "$code" ] && grep -q -- "$pat" "$T/err"; then ok "error $code '$pat': $*"
  else bad "expected exit $code and '$pat' from: $* (got $rc: $(tail -2 "$T/err"))"; fi
}
has() {
  if grep -Eq -- "$2" "$1"; then ok "$3"; else bad "$3: $(head -c 600 "$1")"; fi
}
finish() {
  if [ "$fail" = 0 ]; then echo "ALL PASSED"; else echo "SOME FAILED"; fi
  exit "$fail"
}

# Shared helpers of the CLI tests (tests/cli/test_*.sh; sourced, not a test itself).
#   source "$(dirname "$0")/lib.sh" NAME [PATH/TO/physgen]
# sets PG (the binary, default ./build/physgen), T (a fresh temporary folder /tmp/NAME_XXXXXX,
# removed on exit), C (common flags) and fail=0, and defines:
#   ok MSG / bad MSG                 report one check (bad sets fail=1)
#   run CMD...                       CMD must exit 0 (stdout -> $T/out, stderr -> $T/err)
#   expect_error CODE PATTERN CMD... CMD must exit CODE with PATTERN in its stderr
#   has FILE PATTERN DESCRIPTION     FILE must match the extended regex PATTERN
#   exact_resume NAME K TRAIN...     TRAIN (a `train` command with --steps N, no --seed) run whole
#                                    with seed 4, and run with --stop-at K then --resume (seed 5),
#                                    must give models whose seeded samples are byte-identical; a
#                                    fresh seed-5 run must not (what ignoring the checkpoint gives)
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
exact_resume() {
  local name=$1 stop=$2; shift 2
  local steps; steps=$(echo "$*" | sed -n 's/.*--steps \([0-9]*\).*/\1/p')
  "$@" --seed 4 --out "$T/$name.full.pt" >/dev/null 2>"$T/err" || { bad "$name: full run failed: $(tail -2 "$T/err")"; return; }
  "$@" --seed 4 --out "$T/$name.part.pt" --stop-at "$stop" >"$T/out" 2>"$T/err" || { bad "$name: --stop-at failed"; return; }
  grep -q ": $stop steps in" "$T/out" || { bad "$name: --stop-at $stop did not stop there: $(cat "$T/out")"; return; }
  # Resumed with another --seed: the checkpoint's RNG state, not the seed, must drive the rest.
  "$@" --seed 5 --out "$T/$name.part.pt" --resume >/dev/null 2>"$T/err" || { bad "$name: --resume failed: $(tail -2 "$T/err")"; return; }
  "$@" --seed 5 --out "$T/$name.seed5.pt" >/dev/null 2>&1
  for v in full part seed5; do
    $PG sample --model "$T/$name.$v.pt" --n 64 --seed 3 --out "$T/$name.$v.npy" $C >/dev/null 2>&1 ||
      { bad "$name: sampling the $v model failed"; return; }
  done
  if cmp -s "$T/$name.full.npy" "$T/$name.part.npy"; then ok "$name: stopped at $stop of $steps and resumed = uninterrupted (bit-identical samples)"
  else bad "$name: the resumed run differs from the uninterrupted one"; fi
  # Control: a run from scratch with seed 5 (what a resume that ignored the checkpoint, or
  # reseeded, would give) is told apart.
  if cmp -s "$T/$name.full.npy" "$T/$name.seed5.npy"; then bad "$name: seeds 4 and 5 give the same model (the check has no power)"
  else ok "$name: control: a run from scratch with seed 5 differs"; fi
}
finish() {
  if [ "$fail" = 0 ]; then echo "ALL PASSED"; else echo "SOME FAILED"; fi
  exit "$fail"
}

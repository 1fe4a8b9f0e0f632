#!/usr/bin/env bash
# CLI test of `physgen simulate`: ensembles stream to disk and survive interruption.
# A run killed with SIGKILL keeps FILE.npy.partial up to its last snapshot and `--resume`
# finishes it with the same bytes as a run never interrupted; SIGINT stops it with exit 130
# after a snapshot; the errors that protect an interrupted run (exit 2, naming the argument).
# Usage: tests/cli/test_simulate_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_simulate_cli "$@"

PHI="simulate phi4 --L 8 --chains 3 --therm 50 --seed 7 --snapshot-seconds 0"
run $PG $PHI --samples 6000 --out "$T/ref.npy" $C
has "$T/out" "shape \[18000, 8, 8\]" "phi4 reference run wrote 3 x 6000 fields"

# Started in the background and killed with SIGKILL once it has snapshotted some samples.
wait_for_snapshot() {  # FILE: waits (up to 60 s) until FILE.resume exists
  for _ in $(seq 600); do [ -f "$1.resume" ] && return 0; sleep 0.1; done; return 1
}
$PG $PHI --samples 6000 --out "$T/run.npy" $C >/dev/null 2>&1 &
pid=$!
wait_for_snapshot "$T/run.npy" && sleep 0.5
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
if [ -f "$T/run.npy.partial" ] && [ -f "$T/run.npy.resume" ] && [ ! -f "$T/run.npy" ]; then
  ok "a killed run keeps run.npy.partial and run.npy.resume"
else bad "after SIGKILL: $(ls "$T")"; fi
expect_error 2 "partial exists" $PG $PHI --samples 6000 --out "$T/run.npy" $C
expect_error 2 "argument seed = '8'" $PG ${PHI/--seed 7/--seed 8} --samples 6000 --out "$T/run.npy" --resume $C
run $PG $PHI --samples 6000 --out "$T/run.npy" --resume $C
has "$T/out" "resumed at sample [1-9][0-9]* of 6000" "the resumed run says where it resumed"
if cmp -s "$T/run.npy" "$T/ref.npy"; then ok "killed + resumed phi4 ensemble is bit-identical"
else bad "killed + resumed phi4 ensemble differs from the uninterrupted one"; fi
[ ! -f "$T/run.npy.partial" ] && [ ! -f "$T/run.npy.resume" ] && ok "no partial or resume file left" \
  || bad "partial/resume files left: $(ls "$T")"
run $PG measure "$T/run.npy" --json
has "$T/out" '"chi"' "the resumed ensemble measures"

# SIGINT: a clean stop (exit 130) with a snapshot; Ising multispin, resumed with more samples.
ISI="simulate ising --L 16 --algo heatbath --chains 70 --therm 20 --seed 3"
$PG $ISI --samples 40000 --out "$T/is.npy" $C >/dev/null 2>"$T/err" &
pid=$!
for _ in $(seq 600); do [ -f "$T/is.npy.resume" ] && break; sleep 0.1; done
sleep 0.5
kill -INT $pid; wait $pid; rc=$?
[ "$rc" = 130 ] && grep -q "resume" "$T/err" && ok "SIGINT stops with exit 130 and says how to resume" \
  || bad "SIGINT: exit $rc, $(cat "$T/err")"
run $PG $ISI --samples 40 --out "$T/is.npy" --resume $C
run $PG $ISI --samples 40 --out "$T/is_ref.npy" $C
if cmp -s "$T/is.npy" "$T/is_ref.npy"; then ok "interrupted Ising run cut to 40 samples equals a 40-sample run"
else bad "interrupted + cut Ising ensemble differs"; fi
has "$T/is.npy.json" '"samples_per_chain": 40' "the cut ensemble's sidecar says 40 samples per chain"

expect_error 2 "no .*partial" $PG $ISI --samples 40 --out "$T/none.npy" --resume $C
# A production-size request that cannot fit the disk fails before it runs.
expect_error 2 "argument samples = '1000000000'.*disk" $PG simulate phi4 --L 512 --samples 1000000000 --out "$T/huge.npy" $C
[ ! -f "$T/huge.npy.partial" ] && ok "nothing written for the refused run" || bad "huge.npy.partial written"
finish

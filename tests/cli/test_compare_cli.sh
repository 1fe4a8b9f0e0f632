#!/usr/bin/env bash
# CLI test of `physgen compare` (docs/leaderboard.md): the leaderboard's plumbing on a small
# phi^4 ensemble (L = 8, a 3-second budget: not a measurement). The budget really stops each run
# (the families' defaults ask for thousands of steps); every family appears with its seeds and
# the spread over them; the per-run numbers are there (z of |m|, chi, U4, G(1), scattering
# fraction, memorised fraction, acceptance and ESS for the flow, speed, parameters); a second run
# reuses the finished rows; --models judges given checkpoints without training; bad input is
# refused before any training.
# Usage: tests/cli/test_compare_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_compare_cli "$@"
PY=/usr/bin/python3

run $PG simulate phi4 --L 8 --m2 -4 --lambda 8 --algo hmc --samples 500 --chains 2 --every 2 --seed 3 --out "$T/phi.npy" $C
L="--data $T/phi.npy --budget-minutes 0.05 --samples 256 --memorization-samples 32"

run $PG compare $L --families flow,vae --seeds 2 --out "$T/lb" --json $C
cp "$T/out" "$T/first.json"
$PY - "$T/first.json" "$T/lb" <<'EOF' && ok "report: families x seeds, spreads, per-run numbers, budget stops, files" || bad "report: $(head -c 900 "$T/first.json")"
import json, os, sys
r = json.load(open(sys.argv[1])); d = sys.argv[2]
assert [f["family"] for f in r["families"]] == ["flow", "vae"] and r["seeds"] == 2
for f in r["families"]:
    assert f["seeds"] == 2 and f["diverged"] == 0
    for k in ("z_abs_m", "z_chi", "z_binder", "z_G1", "scattering_within_2sigma", "memorized", "train_seconds", "samples_per_second", "params"):
        assert f[k]["n"] == 2 and f[k]["spread"] >= 0, (f["family"], k)
flow = [x for x in r["runs"] if x["family"] == "flow"]
assert all("acceptance" in x and 0 <= x["acceptance"] <= 1 and "ess" in x for x in flow)  # likelihood family
assert all("acceptance" not in x for x in r["runs"] if x["family"] == "vae")
for x in r["runs"]:
    # 3 s budget: stopped long before the thousands of default steps, within a second of it
    assert x["status"] == "interrupted" and x["steps"] < 2500 and x["train_seconds"] < 4.0, x
    assert 0 <= x["scattering_within_2sigma"] <= 1 and 0 <= x["memorized"] <= 1
    assert os.path.exists(f"{d}/{x['family']}_s{x['seed']}.pt")
for f in ("leaderboard.json", "leaderboard.md"):
    assert os.path.exists(f"{d}/{f}"), f
EOF
has "$T/lb/leaderboard.md" "^\| flow \| 2 \|" "markdown table has the flow row"

run $PG compare $L --families flow,vae --seeds 2 --out "$T/lb" --json $C
has "$T/err" "finished earlier, reused" "second run reuses the rows"
$PY -c "
import json; a = json.load(open('$T/first.json')); b = json.load(open('$T/out'))
assert a['families'] == b['families']" && ok "second run: identical summary" || bad "second run differs"

run $PG compare $L --families flow --models "$T/lb/flow_s1.pt" --out "$T/given" --json $C
$PY -c "
import json; r = json.load(open('$T/out'))
assert r['runs'][0]['status'] == 'given' and r['seeds'] == 1" && ok "--models: judged without training" || bad "--models: $(head -c 400 "$T/out")"

expect_error 2 "argument families = 'nosuch'" $PG compare $L --families flow,nosuch --out "$T/x" $C
expect_error 2 "argument models" $PG compare $L --families flow,vae --models "$T/lb/flow_s1.pt" --out "$T/x" $C
expect_error 2 "argument budget-minutes" $PG compare --data "$T/phi.npy" --families flow --budget-minutes 0 --out "$T/x" $C
[ ! -e "$T/x/flow_s1.pt" ] && ok "nothing trained before the refusals" || bad "a refused run trained"
finish

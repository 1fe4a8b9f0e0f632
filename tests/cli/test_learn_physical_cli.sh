#!/usr/bin/env bash
# CLI test of `physgen learn-physical` (docs/physical_learning.md): each network and rule runs,
# reports its JSON keys and writes the curve as CSV (and PNG when gnuplot is present); coupled
# learning on a small flow network reduces an allosteric error and the re-solved error agrees;
# bad input fails with exit 2 naming the argument.
# Usage: tests/cli/test_learn_physical_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_learn_physical_cli "$@"
PY=/usr/bin/python3

for net in flow elastic; do
  for rule in coupled eqprop gradient; do
    run $PG learn-physical --network $net --nodes 48 --rule $rule --steps 60 --alpha 30 --lr 30 \
      --csv "$T/$net-$rule.csv" --json $C
    $PY - "$T/out" "$T/$net-$rule.csv" <<'EOF' && ok "$net/$rule: keys, CSV, re-solved error" || bad "$net/$rule: $(head -c 400 "$T/out")"
import csv, json, sys
r = json.load(open(sys.argv[1]))
for k in ("start_error", "final_error", "resolved_error", "reduction", "steps", "edges_at_k_min", "steps_to_100x"):
    assert k in r, k
assert r["steps"] == 60
assert abs(r["resolved_error"] - r["final_error"]) <= 1e-9 * max(r["final_error"], 1e-300) + 1e-15, r
assert r["final_error"] < r["start_error"], r
rows = list(csv.DictReader(open(sys.argv[2])))
assert rows[0]["step"] == "0" and rows[-1]["step"] == "60", rows[-1]
assert abs(float(rows[-1]["error"]) - r["final_error"]) <= 1e-9 * r["final_error"] + 1e-15
EOF
  done
done

run $PG learn-physical --network hopfield --task classify --rule eqprop --hidden 16 --steps 100 --train 30 --test 90 \
  --csv "$T/h.csv" --json $C
$PY - "$T/out" "$T/h.csv" <<'EOF' && ok "hopfield/eqprop: accuracy columns and held-out accuracy" || bad "hopfield: $(head -c 400 "$T/out")"
import csv, json, sys
r = json.load(open(sys.argv[1]))
assert 0.0 <= r["final_test_accuracy"] <= 1.0 and r["final_error"] < r["start_error"], r
rows = list(csv.DictReader(open(sys.argv[2])))
assert set(rows[0]) == {"step", "error", "test_error", "accuracy", "test_accuracy"}, rows[0]
EOF

run $PG learn-physical --network flow --task classify --nodes 64 --rule coupled --steps 40 --alpha 10 --json $C
has "$T/out" '"final_test_accuracy"' "flow network classification reports held-out accuracy"

if command -v gnuplot >/dev/null; then
  run $PG learn-physical --network flow --nodes 40 --steps 20 --png "$T/curve.png" $C
  [ -s "$T/curve.png" ] && ok "PNG of the curve written" || bad "no PNG"
fi

# bad input
expect_error 2 "argument --network = 'magnetic'" $PG learn-physical --network magnetic $C
expect_error 2 "argument --rule = 'backprop'" $PG learn-physical --rule backprop $C
expect_error 2 "argument --task = 'allostery'" $PG learn-physical --network hopfield --task allostery $C
expect_error 2 "argument nodes = 4" $PG learn-physical --nodes 4 $C
finish

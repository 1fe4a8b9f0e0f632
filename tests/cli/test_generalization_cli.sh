#!/usr/bin/env bash
# CLI test of `physgen generalization` (docs/generalization.md): the disjoint-set experiment end
# to end on a small phi^4 ensemble (L = 8, a few training steps: the plumbing, not the physics):
# the report's keys and files; a second run reuses every model and reproduces the report
# exactly; measuring model A's memorised fraction at intermediate steps (stop, sample, resume)
# leaves its training unchanged (its samples equal those of a run without tracking); two draws
# of one model with DDIM eta = 0 and one seed are the same fields (similarity 1); bad sizes and a
# stochastic sampler are refused before any training.
# Usage: tests/cli/test_generalization_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_generalization_cli "$@"
PY=/usr/bin/python3

run $PG simulate phi4 --L 8 --kappa 0.27 --lambda-hop 0.022 --algo hmc --samples 100 --chains 2 --every 2 \
  --seed 3 --out "$T/phi.npy" $C
G="--data $T/phi.npy --sizes 1,2,4 --steps 20 --samples 8"

run $PG generalization $G --track 10 --out "$T/g" --json $C
cp "$T/out" "$T/first.json"
$PY - "$T/first.json" "$T/g" <<'EOF' && ok "report: rows, similarity, memorised (null at N = 1), tracking, files" || bad "report: $(head -c 800 "$T/first.json")"
import json, os, sys
r = json.load(open(sys.argv[1])); d = sys.argv[2]
assert r["family"] == "ddpm" and r["sizes"] == [1, 2, 4] and r["sampler"]["sampler"] == "ddim" and r["sampler"]["eta"] == 0
assert r["symmetries"]["z2"] is True  # phi^4 data
rows = {row["N"]: row for row in r["rows"]}
assert set(rows) == {1, 2, 4}
for n, row in rows.items():
    s = row["similarity"]
    assert -1 <= s["mean"] <= 1 and s["error"] >= 0
    assert (row["memorized_A"] is None) == (n == 1)
    assert len(row["tracking"]) == (0 if n == 1 else 1) and all(t["step"] == 10 for t in row["tracking"])
    for side in "AB":
        assert os.path.exists(f"{d}/N{n}_{side}.pt") and os.path.exists(f"{d}/N{n}_{side}.json")
for f in ("generalization.json", "generalization.md"):
    assert os.path.exists(f"{d}/{f}"), f
EOF

# a second run finds every model finished and gives the same report
run $PG generalization $G --track 10 --out "$T/g" --json $C
has "$T/err" "finished earlier" "second run reuses the trained models"
$PY -c "
import json; a = json.load(open('$T/first.json')); b = json.load(open('$T/out'))
assert a['rows'] == b['rows'], 'reports differ'" && ok "second run: identical rows" || bad "second run: rows differ"

# tracking (stop at step 10, sample, resume) must not change what model A learns
run $PG generalization --data "$T/phi.npy" --sizes 2 --steps 20 --samples 8 --out "$T/g_notrack" $C
for d in g g_notrack; do
  run $PG sample --model "$T/$d/N2_A.pt" --n 16 --sampler ddim --eta 0 --seed 9 --out "$T/$d.npy" $C
done
cmp -s "$T/g.npy" "$T/g_notrack.npy" && ok "tracked training = untracked training (bit-identical samples)" \
  || bad "tracking changed model A"
# control: model B (another training seed) differs, so the comparison above has power
run $PG sample --model "$T/g/N2_B.pt" --n 16 --sampler ddim --eta 0 --seed 9 --out "$T/gB.npy" $C
cmp -s "$T/g.npy" "$T/gB.npy" && bad "models A and B gave identical samples (no power)" || ok "control: model B differs"

# two draws of one deterministic model from one seed: the same fields, similarity 1
run $PG sample --model "$T/g/N2_A.pt" --n 16 --sampler ddim --eta 0 --seed 9 --out "$T/again.npy" $C
$PY -c "
import numpy as np
a = np.load('$T/g.npy').reshape(16, -1); b = np.load('$T/again.npy').reshape(16, -1)
a = a - a.mean(1, keepdims=True); b = b - b.mean(1, keepdims=True)
s = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
assert np.allclose(s, 1.0, atol=1e-6), s" && ok "one model, one seed, DDIM eta 0: similarity 1" || bad "DDIM eta 0 not deterministic"

expect_error 2 "argument sizes = 300" $PG generalization --data "$T/phi.npy" --sizes 4,300 --out "$T/x" $C
expect_error 2 "argument sampler = 'ddpm'" $PG generalization --data "$T/phi.npy" --sizes 2 --sampler ddpm --out "$T/x" $C
[ ! -e "$T/x/N2_A.pt" ] && ok "nothing trained before the refusals" || bad "a refused run trained a model"
finish

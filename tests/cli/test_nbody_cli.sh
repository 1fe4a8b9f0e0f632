#!/usr/bin/env bash
# CLI test of `physgen simulate nbody` and `physgen train pm-correction` (docs/nbody.md): a small
# 2-D run writes an .npz numpy reads (shapes, units in the sidecar), the power spectrum grows
# between snapshots, the correction trains, applies (--correction, --pgd) and resumes exactly
# (--stop-at then --resume = an uninterrupted run, bit for bit); bad input fails with exit 2
# naming the argument.
# Usage: tests/cli/test_nbody_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_nbody_cli "$@"
PY=/usr/bin/python3
SIM="--dim 2 --particles 16 --mesh 32 --box 200 --a-init 0.1"

run $PG simulate nbody $SIM --snapshots 0.5,1 --out "$T/run.npz" --json $C
$PY - "$T/run.npz" "$T/out" <<'PYEOF' && ok "npz arrays, sidecar and JSON" || bad "npz: $(head -c 400 "$T/out")"
import json, sys
import numpy as np
z = np.load(sys.argv[1])
assert z["positions"].shape == (2, 256, 2), z["positions"].shape
assert z["momenta"].shape == (2, 256, 2) and z["density"].shape == (2, 32, 32) and z["a"].tolist() == [0.5, 1.0]
assert z["k"].shape == (16,) and z["power"].shape == (2, 16) and z["linear_density"].shape == (16, 16)
assert 0 <= z["positions"].min() and z["positions"].max() < 200
assert abs(z["density"].mean()) < 1e-5            # a density contrast
assert (z["power"][1, :4] > 2 * z["power"][0, :4]).all()   # structure grows from a = 0.5 to 1
meta = json.load(open(sys.argv[1] + ".json"))
assert meta["mesh"] == 32 and meta["cosmology"]["omega_m"] == 0.3 and "units" in meta
r = json.load(open(sys.argv[2]))
assert r["nfe"] > 0 and len(r["power_final"]) == 16
PYEOF

TR="$SIM --ref-mesh 64 --snapshots 0.5,1 --pgd-steps 20 --log-every 1"
run $PG train pm-correction $TR --train-steps 4 --out "$T/full.pt" --json $C
$PY - "$T/out" <<'PYEOF' && ok "pm-correction report: comparisons at both cosmologies, PGD parameters" || bad "report: $(head -c 600 "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
for c in ("training_cosmology", "other_cosmology"):
    cmp = r["comparison"][c]
    n = len(cmp["k"])
    assert n == 16 and all(len(cmp[key]) == n for key in ("ratio_pm", "ratio_pgd", "ratio_nn", "r_pm", "r_pgd", "r_nn"))
    assert all(0 < x < 1.0000001 for x in cmp["r_pm"])
assert r["train"]["steps"] == 4 and r["pgd"]["alpha"] > 0
PYEOF
run $PG train pm-correction $TR --train-steps 4 --out "$T/part.pt" --stop-at 2 $C
run $PG train pm-correction $TR --train-steps 4 --out "$T/part.pt" --resume $C
run $PG simulate nbody $SIM --correction "$T/full.pt" --pgd --out "$T/full.npz" $C
run $PG simulate nbody $SIM --correction "$T/part.pt" --pgd --out "$T/part.npz" $C
if cmp -s "$T/full.npz" "$T/part.npz"; then ok "stopped at 2 of 4 and resumed = uninterrupted (identical corrected runs)"
else bad "the resumed correction differs from the uninterrupted one"; fi
run $PG simulate nbody $SIM --out "$T/plain.npz" $C
if cmp -s "$T/full.npz" "$T/plain.npz"; then bad "the correction changed nothing (the check has no power)"
else ok "control: the corrected run differs from plain PM"; fi

if command -v gnuplot >/dev/null; then
  run $PG simulate nbody $SIM --out "$T/p.npz" --png "$T/pk.png" $C
  [ -s "$T/pk.png" ] && ok "PNG of P(k)" || bad "no PNG"
fi

# bad input
expect_error 2 "argument mesh = 24" $PG simulate nbody --dim 2 --particles 16 --mesh 24 --out "$T/x.npz" $C
expect_error 2 "argument omega_m = 1.5" $PG simulate nbody $SIM --omega-m 1.5 --out "$T/x.npz" $C
expect_error 2 "argument --snapshots = '0.5,x'" $PG simulate nbody $SIM --snapshots 0.5,x --out "$T/x.npz" $C
expect_error 2 "argument snapshots = 0.05" $PG simulate nbody $SIM --snapshots 0.05 --out "$T/x.npz" $C
expect_error 2 "argument --ref-mesh = 48" $PG train pm-correction $SIM --ref-mesh 48 --out "$T/c.pt" $C
expect_error 2 "argument --pgd" $PG simulate nbody $SIM --pgd --out "$T/x.npz" $C
[ ! -e "$T/x.npz" ] && ok "no output file after refused input" || bad "a refused run left $T/x.npz"
finish

#!/usr/bin/env bash
# End-to-end checks of the autoregressive families (van, han, transformer) through the CLI:
# reverse KL on the Ising target, forward KL on an Ising ensemble, `sample --json` with the
# free energies and the exact value, `sample --mcmc`, the errors for targets a model cannot
# train on, and an exact resume through beta annealing.
#   bash tests/cli/test_autoregressive_cli.sh [PATH/TO/physgen]
source "$(dirname "$0")/lib.sh" physgen_ar_cli "${1:-}"
J() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

# Help and configuration document the flags and every option.
run $PG train van --help
has "$T/out" "--target" "train van --help lists --target"
has "$T/out" "--anneal-steps" "train van --help lists --anneal-steps"
has "$T/out" "--beta" "train van --help lists --beta"
run $PG train van --print-config --L 8
has "$T/out" "half_kernel" "van --print-config shows the model options"
has "$T/out" "anneal_steps" "van --print-config shows the annealing of [train]"
run $PG train transformer --print-config --L 8
has "$T/out" 'head = .auto.' "transformer --print-config: the head follows the system"

# Reverse KL on the 4 x 4 Ising model at beta_c.
run $PG train van --target ising --L 4 --beta 0.4406868 --steps 150 --batch 128 --lr 3e-3 --anneal-steps 50 \
    --out "$T/van.pt" --json $C
cp "$T/out" "$T/train.json"
[ "$(J "$T/train.json" "d['status']")" = finished ] && ok "van reverse KL finished" || bad "van reverse KL: $(cat "$T/train.json")"
has "$T/van.pt.csv" "anneal" "the history records the annealing scale"

run $PG sample --model "$T/van.pt" --n 20000 --out "$T/van.npy" --json $C
cp "$T/out" "$T/s.json"
for k in free_energy free_energy_variational free_energy_exact ess; do
  [ "$(J "$T/s.json" "'$k' in d")" = True ] && ok "sample --json has $k" || bad "sample --json lacks $k: $(cat "$T/s.json")"
done
# The importance-sampled F is consistent with Kaufman's exact value (4 standard errors), and
# the variational F_q lies above it (Gibbs inequality), beyond noise.
[ "$(J "$T/s.json" "abs(d['free_energy']['mean'] - d['free_energy_exact']) < 4 * d['free_energy']['error']")" = True ] &&
  ok "importance-sampled F within 4 sigma of the exact F" || bad "F vs exact: $(cat "$T/s.json")"
[ "$(J "$T/s.json" "d['free_energy_variational']['mean'] > d['free_energy_exact'] - 4 * d['free_energy_variational']['error']")" = True ] &&
  ok "F_q >= F" || bad "F_q below the exact F: $(cat "$T/s.json")"
[ "$(J "$T/van.npy.json" "d['system']")" = ising ] && ok "samples carry the ising sidecar" || bad "sidecar system"

run $PG sample --model "$T/van.pt" --n 5000 --mcmc --out "$T/van_mcmc.npy" --json $C
cp "$T/out" "$T/m.json"
[ "$(J "$T/m.json" "0 < d['acceptance'] <= 1 and 'free_energy' in d")" = True ] &&
  ok "sample --mcmc reports acceptance and the free energy" || bad "sample --mcmc: $(cat "$T/m.json")"

# The transformer picks the spin head on Ising and trains by reverse KL.
run $PG train transformer --target ising --L 4 --beta 0.3 --steps 3 --batch 16 --out "$T/tr.pt" --json $C
run $PG sample --model "$T/tr.pt" --n 64 --out "$T/tr.npy" --json $C
has "$T/out" '"free_energy"' "the transformer on Ising reports free energies"

# HAN: reverse KL on the 8 x 8 lattice reaches F within 4 sigma of Kaufman's exact value;
# a lattice side that is not a power of 2 is refused by name.
run $PG train han --target ising --L 8 --beta 0.4406868 --steps 300 --batch 128 --anneal-steps 90 \
    --out "$T/han.pt" --json $C
run $PG sample --model "$T/han.pt" --n 4000 --out "$T/han.npy" --json $C
cp "$T/out" "$T/h.json"
[ "$(J "$T/h.json" "abs(d['free_energy']['mean'] - d['free_energy_exact']) < 4 * d['free_energy']['error']")" = True ] &&
  ok "han: importance-sampled F within 4 sigma of the exact F" || bad "han F vs exact: $(cat "$T/h.json")"
expect_error 2 "event_shape" $PG train han --target ising --L 6 --beta 0.4 --steps 2 --out "$T/x.pt" $C

# Forward KL on an Ising ensemble.
run $PG simulate ising --L 4 --beta 0.3 --samples 200 --therm 100 --out "$T/ising.npy" $C
run $PG train van --data "$T/ising.npy" --steps 5 --batch 32 --out "$T/van_fkl.pt" --json $C
has "$T/out" '"objective": "forward-kl"' "van trains by forward KL on --data"

# Errors name the argument: a continuous model on spins, spins on a continuous target, no beta.
expect_error 2 "target" $PG train flow --target ising --L 4 --beta 0.4 --steps 2 --out "$T/x.pt" $C
expect_error 2 "target" $PG train van --target phi4 --L 4 --steps 2 --out "$T/x.pt" $C
expect_error 2 "\-\-beta" $PG train van --target ising --L 4 --steps 2 --out "$T/x.pt" $C

# Annealing is a function of the global step: a run stopped inside the ramp and resumed equals
# the uninterrupted one.
exact_resume van 7 $PG train van --target ising --L 4 --beta 0.44 --steps 12 --batch 16 --anneal-steps 10 $C

finish

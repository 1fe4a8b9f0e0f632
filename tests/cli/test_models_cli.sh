#!/usr/bin/env bash
# CLI integration test of the likelihood and diffusion families end to end on tiny problems:
# train (target or data; --print-config, --resume) -> sample (--mcmc, samplers, --json keys and
# sidecars) -> inpaint/denoise, and error paths (exit code 2 naming the argument, 3 for files).
# Usage: tests/cli/test_models_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_models_cli "$@"

run $PG simulate phi4 --L 4 --m2 -4 --lambda 8 --chains 4 --samples 200 --therm 200 --out "$T/phi4.npy" $C
run $PG simulate toy --name 8gaussians --samples 2000 --out "$T/toy.npy" $C

# Flows: defaults as TOML, reverse KL from the action, interrupted and resumed, exact sampling.
run $PG train flow --L 4 --print-config $C
has "$T/out" "z2_method = 'odd'" "flow print-config shows the Z2 default"
has "$T/out" "^\[train\]" "flow print-config has a [train] table"
printf '[model]\nn_layers = 4\n' >"$T/flow.toml"
run $PG train flow --target phi4 --L 4 --config "$T/flow.toml" --steps 40 --out "$T/flow.pt" --json $C
has "$T/out" '"status": "finished"' "flow training finished"
has "$T/out" '"ess_batch64"' "flow training reports the batch ESS"
# A likelihood family interrupted at step 20 of 40 and resumed = the uninterrupted run.
exact_resume flow 20 $PG train flow --target phi4 --L 4 --config "$T/flow.toml" --steps 40 $C
run $PG sample --model "$T/flow.pt" --n 500 --mcmc --out "$T/chain.npy" --json $C
has "$T/out" '"acceptance"' "sample --mcmc reports acceptance"
has "$T/out" '"ess"' "sample --mcmc reports ess"
has "$T/chain.npy.json" '"metropolis_corrected": true' "the corrected chain's sidecar says so"
run $PG measure "$T/chain.npy"
printf '[model]\nn_layer = 4\n' >"$T/typo.toml"
expect_error 2 "n_layer" $PG train flow --target phi4 --L 4 --config "$T/typo.toml" --out "$T/x.pt" $C
expect_error 2 "condition" $PG train flow --data "$T/phi4.npy" "$T/phi4.npy" --condition label --out "$T/x.pt" $C
expect_error 2 "\-\-target" $PG train flow --target ising --out "$T/x.pt" $C
expect_error 3 "no_such.pt" $PG sample --model "$T/no_such.pt" --n 5 --out "$T/x.npy" $C

# A killed run keeps its last periodic checkpoint whether checkpoint_every came from the flag or
# from the [train] table of --config (the flag's default must not override the file's value).
printf '[train]\ncheckpoint_every = 50\n' >"$T/every.toml"
for how in flag config; do
  if [ "$how" = flag ]; then extra=(--checkpoint-every 50); else extra=(--config "$T/every.toml"); fi
  timeout -s KILL 8 $PG train flow --data "$T/toy.npy" --steps 100000000 --out "$T/killed_$how.pt" "${extra[@]}" $C \
      >/dev/null 2>&1
  if [ -f "$T/killed_$how.pt" ]; then ok "a killed run keeps its periodic checkpoint ($how)"
  else bad "a killed run left no checkpoint (checkpoint_every by $how)"; fi
  run $PG sample --model "$T/killed_$how.pt" --n 16 --out "$T/killed_$how.npy" $C
done

# Forward KL on data.
run $PG train flow --data "$T/toy.npy" --steps 30 --out "$T/toyflow.pt" --json $C
has "$T/out" '"objective": "forward-kl"' "flow on data trains by forward KL"

# Diffusion: DDPM with DDIM sampling (NFE = steps), score SDE with EM, denoising.
printf '[train]\nsteps = 10\nbatch_size = 32\n' >"$T/short.toml"
run $PG train ddpm --data "$T/toy.npy" --config "$T/short.toml" --out "$T/ddpm.pt" --json $C
has "$T/out" '"objective": "native"' "ddpm trains by its own loss"
run $PG sample --model "$T/ddpm.pt" --n 64 --sampler ddim --steps 10 --out "$T/ddim.npy" --json $C
has "$T/out" '"nfe": 10' "DDIM with 10 steps costs 10 function evaluations"
expect_error 2 "sampler" $PG sample --model "$T/ddpm.pt" --n 8 --sampler bogus --out "$T/x.npy" $C
# A native-loss family interrupted at step 6 of 12 and resumed = the uninterrupted run.
exact_resume ddpm 6 $PG train ddpm --data "$T/toy.npy" --config "$T/short.toml" --steps 12 $C
run $PG train score-sde --data "$T/toy.npy" --config "$T/short.toml" --out "$T/sde.pt" $C
run $PG sample --model "$T/sde.pt" --n 64 --sampler em --steps 20 --out "$T/em.npy" --json $C
run $PG train ddpm --data "$T/phi4.npy" --config "$T/short.toml" --out "$T/ddpm_phi4.pt" $C
run $PG inpaint --model "$T/ddpm_phi4.pt" --in "$T/phi4.npy" --denoise 0.3 --add-noise --truth "$T/phi4.npy" \
    --out "$T/den.npy" --json $C
has "$T/out" '"rmse"' "denoising reports the error against the truth"

# ODE families: flow matching and a CNF, sampled with a chosen solver (NFE = 4 per RK4 step).
run $PG train flow-matching --data "$T/toy.npy" --config "$T/short.toml" --out "$T/fm.pt" --json $C
run $PG sample --model "$T/fm.pt" --n 64 --solver rk4 --steps 4 --out "$T/fm.npy" --json $C
has "$T/out" '"nfe": 16' "flow matching with 4 RK4 steps costs 16 function evaluations"
expect_error 2 "solver" $PG sample --model "$T/fm.pt" --n 8 --solver bogus --out "$T/x.npy" $C
expect_error 2 "argument mcmc" $PG sample --model "$T/fm.pt" --n 8 --mcmc --out "$T/x.npy" $C
run $PG train cnf --data "$T/toy.npy" --config "$T/short.toml" --out "$T/cnf.pt" $C
run $PG sample --model "$T/cnf.pt" --n 64 --solver midpoint --steps 3 --out "$T/cnf.npy" --json $C
has "$T/out" '"nfe": 6' "a CNF with 3 midpoint steps costs 6 function evaluations"

finish

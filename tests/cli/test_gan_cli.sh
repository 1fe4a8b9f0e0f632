#!/usr/bin/env bash
# CLI integration test of issue 6 (GAN/VAE/EBM families and their commands), end to end on tiny
# problems (~1 min on one thread): simulate -> train (print-config, config file, resume) ->
# sample (conditions) -> interpolate -> translate -> fit-couplings, and the error paths (exit
# code 2 with a message naming the argument).
# Usage: tests/cli/test_gan_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_gan_cli "$@"

run $PG simulate phi4 --L 4 --m2 -4 --lambda 8 --chains 4 --samples 100 --therm 200 --out "$T/phi4.npy" $C
run $PG simulate phi4 --L 4 --m2 -2 --lambda 8 --chains 4 --samples 100 --therm 200 --out "$T/phi4b.npy" $C
run $PG simulate ising --L 4 --chains 4 --samples 200 --therm 100 --algo wolff --out "$T/ising.npy" $C

# --print-config shows the family's options and the trainer table.
run $PG train wgan-gp --data "$T/phi4.npy" --print-config $C
grep -Eq "constraint = ['\"]gp" "$T/out" && grep -Eq "network = ['\"]dcgan" "$T/out" && grep -q '^\[train\]' "$T/out" \
  && ok "print-config content" || bad "print-config content: $(cat "$T/out")"

# A config file overrides the defaults; an unknown key is rejected naming it.
printf '[model]\nchannels = 8\nlatent_dim = 4\n[train]\nsteps = 20\nbatch_size = 16\n' >"$T/small.toml"
for fam in gan wgan wgan-gp; do
  run $PG train $fam --data "$T/phi4.npy" --config "$T/small.toml" --out "$T/$fam.pt" --json $C
  run $PG sample --model "$T/$fam.pt" --n 64 --out "$T/$fam.s.npy" --json $C
done
printf '[model]\nchanels = 8\n' >"$T/typo.toml"
expect_error 2 "chanels" $PG train gan --data "$T/phi4.npy" --config "$T/typo.toml" --out "$T/x.pt" $C

# An adversarial family interrupted at step 10 of 20 and resumed ends exactly where the
# uninterrupted run does (two optimisers, both schedules, the RNG).
exact_resume gan 10 $PG train gan --data "$T/phi4.npy" --config "$T/small.toml" --steps 20 $C

# Conditional GAN on two couplings; sampling needs a valid label.
run $PG train cgan --data "$T/phi4.npy" "$T/phi4b.npy" --condition label --config "$T/small.toml" --out "$T/cgan.pt" $C
run $PG sample --model "$T/cgan.pt" --n 32 --condition 1 --out "$T/cgan.s.npy" $C
expect_error 2 "condition" $PG sample --model "$T/cgan.pt" --n 32 --out "$T/cgan.s.npy" $C
expect_error 2 "condition" $PG sample --model "$T/cgan.pt" --n 32 --condition 2 --out "$T/cgan.s.npy" $C
expect_error 2 "condition" $PG train cgan --data "$T/phi4.npy" --config "$T/small.toml" --out "$T/x.pt" $C
run $PG train cgan --data "$T/phi4.npy" "$T/phi4b.npy" --condition m2 --config "$T/small.toml" --out "$T/cgan2.pt" $C
run $PG sample --model "$T/cgan2.pt" --n 32 --condition -3 --out "$T/cgan2.s.npy" $C

# VAE, EBM, Ising GAN.
printf '[model]\nlatent_dim = 2\nhidden = [16]\n[train]\nsteps = 20\n' >"$T/vae.toml"
run $PG train vae --data "$T/phi4.npy" --config "$T/vae.toml" --out "$T/vae.pt" $C
run $PG sample --model "$T/vae.pt" --n 16 --out "$T/vae.s.npy" $C
printf '[model]\nchannels = 4\nbuffer_size = 64\nsample_steps = 10\n[train]\nsteps = 10\n' >"$T/ebm.toml"
run $PG train ebm --data "$T/phi4.npy" --config "$T/ebm.toml" --out "$T/ebm.pt" $C
run $PG sample --model "$T/ebm.pt" --n 16 --steps 5 --sampler mala --out "$T/ebm.s.npy" $C
expect_error 2 "sampler" $PG sample --model "$T/ebm.pt" --n 16 --sampler ddim --out "$T/ebm.s.npy" $C
# The Ising exponential-family EBM: heat-bath negatives; its lr default follows the network.
printf '[model]\nnetwork = "ising"\ninit = "spins"\nsample_steps = 20\n[model.sampler]\nmethod = "heatbath"\nn_steps = 2\n[train]\nsteps = 20\n' >"$T/ebm_ising.toml"
run $PG train ebm --data "$T/ising.npy" --config "$T/ebm_ising.toml" --print-config $C
grep -q '^lr = 0.02' "$T/out" && grep -q "network = 'ising'" "$T/out" && ok "print-config merges --config (lr follows the energy)" \
  || bad "print-config with --config: $(grep -E '^lr|network' "$T/out")"
run $PG train ebm --data "$T/ising.npy" --config "$T/ebm_ising.toml" --out "$T/ebm_ising.pt" $C
run $PG sample --model "$T/ebm_ising.pt" --n 16 --out "$T/ebm_ising.s.npy" $C
run $PG measure "$T/ebm_ising.s.npy"
printf '[model]\nnetwork = "ising"\ninit = "spins"\n' >"$T/ebm_ising_bad.toml"
expect_error 2 "sampler.method" $PG train ebm --data "$T/ising.npy" --config "$T/ebm_ising_bad.toml" --out "$T/x.pt" $C
run $PG train gan --data "$T/ising.npy" --config "$T/small.toml" --out "$T/ising.pt" $C
run $PG sample --model "$T/ising.pt" --n 16 --out "$T/ising.s.npy" $C
run $PG measure "$T/ising.s.npy"

# Latent interpolation (GAN, VAE) and latent arithmetic through the same latent view (VAE:
# posterior means; GAN: generator inversion).
run $PG interpolate --model "$T/gan.pt" --n-steps 5 --n-paths 3 --out "$T/interp.npy" --json $C
grep -q '"n_paths": 3' "$T/out" && ok "interpolate json" || bad "interpolate json: $(cat "$T/out")"
run $PG interpolate --model "$T/cgan.pt" --n-steps 4 --condition 0 --method linear --out "$T/interp_c.npy" $C
run $PG interpolate --model "$T/vae.pt" --n-steps 4 --arithmetic "$T/phi4.npy,$T/phi4b.npy,$T/phi4.npy" --out "$T/arith.npy" $C
expect_error 2 "n-steps" $PG interpolate --model "$T/gan.pt" --n-steps 1 --out "$T/i.npy" $C
run $PG interpolate --model "$T/gan.pt" --n-steps 3 --arithmetic "$T/phi4.npy,$T/phi4b.npy,$T/phi4.npy" --out "$T/arith_gan.npy" --json $C
has "$T/out" '"encoder": "inversion"' "GAN arithmetic encodes by inversion"
expect_error 2 "three ensembles" $PG interpolate --model "$T/gan.pt" --arithmetic "$T/phi4.npy,$T/phi4.npy" --out "$T/i.npy" $C
expect_error 2 "latent code" $PG interpolate --model "$T/ebm.pt" --out "$T/i.npy" $C

# CycleGAN between the two couplings; translate both ways.
printf '[model]\nchannels = 4\ndepth = 2\ndiscriminator_channels = 4\n[train]\nsteps = 10\n' >"$T/cg.toml"
run $PG train cyclegan --data "$T/phi4.npy" --data-b "$T/phi4b.npy" --config "$T/cg.toml" --out "$T/cg.pt" $C
run $PG translate --model "$T/cg.pt" --in "$T/phi4.npy" --out "$T/ab.npy" $C
run $PG translate --model "$T/cg.pt" --in "$T/phi4b.npy" --out "$T/ba.npy" --reverse $C
expect_error 2 "data-b\|x_b\|two ensembles" $PG train cyclegan --data "$T/phi4.npy" --config "$T/cg.toml" --out "$T/x.pt" $C
expect_error 2 "cyclegan" $PG translate --model "$T/gan.pt" --in "$T/phi4.npy" --out "$T/x.npy" $C
expect_error 2 "translate" $PG sample --model "$T/cg.pt" --n 4 --out "$T/x.npy" $C
expect_error 2 "\-\-in" $PG translate --model "$T/cg.pt" --in "$T/ising.npy" --out "$T/x.npy" $C

# Coupling fit: agrees with the sidecar; the wrong --system is named.
run $PG fit-couplings --data "$T/phi4.npy" --system phi4 --json $C
/usr/bin/python3 - "$T/out" <<'EOF' && ok "fit-couplings phi4 within 5 sigma" || bad "fit-couplings phi4: $(cat "$T/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["converged"]
assert all(abs(a["pull"]) < 5 for a in j["agreement"].values()), j["agreement"]
assert set(j["agreement"]) == {"m2", "lambda"}
EOF
# Ising: the fitted beta agrees with the sidecar's within 5 sigma; an ensemble simulated at
# beta = 0.3 whose sidecar claims beta_c (a plausible wrong input) must not.
run $PG fit-couplings --data "$T/ising.npy" --system ising --json $C
/usr/bin/python3 - "$T/out" <<'EOF' && ok "fit-couplings ising within 5 sigma" || bad "fit-couplings ising: $(cat "$T/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert set(j["agreement"]) == {"beta"}, j["agreement"]
assert abs(j["agreement"]["beta"]["pull"]) < 5, j["agreement"]
EOF
run $PG simulate ising --L 4 --beta 0.3 --chains 4 --samples 200 --therm 100 --algo wolff --out "$T/ising_hot.npy" $C
/usr/bin/python3 - "$T/ising_hot.npy.json" <<'EOF' && ok "control: sidecar relabelled beta_c" || bad "control sidecar"
import json, sys
p = sys.argv[1]; j = json.load(open(p)); j["params"]["beta"] = 0.44068679350977147; json.dump(j, open(p, "w"))
EOF
run $PG fit-couplings --data "$T/ising_hot.npy" --system ising --json $C
/usr/bin/python3 - "$T/out" <<'EOF' && ok "control: a beta = 0.3 ensemble labelled beta_c is caught (|pull| > 5)" || bad "control not caught: $(cat "$T/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert abs(j["agreement"]["beta"]["pull"]) > 5, j["agreement"]
EOF
expect_error 2 "\-\-system" $PG fit-couplings --data "$T/ising.npy" --system phi4 $C
expect_error 2 "\-\-blocks" $PG fit-couplings --data "$T/ising.npy" --system ising --blocks 1 $C

finish

#!/usr/bin/env bash
# Sample quality of the diffusion families on lattice ensembles (issue 5), end to end
# through the CLI: simulate -> train -> sample (each sampler) -> measure -> compare.
# Not part of CI: each stage is one CPU run of at most ~8 min on 1 thread.
#
#   bench/diffusion_quality.sh STAGE [WORKDIR]     (STAGE: phi4-ddpm | phi4-sde | ising-ddpm)
#
#   phi4-ddpm   phi^4 L = 8, m2 = -4, lambda = 8 (HMC, 20000 training configurations; a
#               separate 80000-configuration reference); DDPM (U-Net base 16, T = 1000), then
#               DDPM 1000 steps, DDIM 10/20/50/100 steps and the probability-flow ODE (dopri5).
#   phi4-sde    the same data; score SDE (VP, conv score field), Euler-Maruyama and probability-
#               flow samples and the Metropolis-corrected chain (`sample --mcmc`: probability-flow
#               likelihood, exact trace; ~40 min on 1 thread for 8192 proposals).
#   ising-ddpm  2D Ising L = 16 at T_c (Wolff); DDPM, signs taken at the end.
# Tables: bench/diffusion_quality_compare.py (relative deviation and z per observable).
set -euo pipefail
STAGE=${1:?stage}
WORK=${2:-/tmp/physgen_diffusion_quality}
HERE=$(cd "$(dirname "$0")" && pwd)
P=${PHYSGEN:-$HERE/../build/physgen}
STEPS=${STEPS:-4000}
N_FAST=${N_FAST:-2048}   # samples of the few-step samplers (DDIM, EM)
N_SLOW=${N_SLOW:-1024}   # samples of DDPM 1000 steps, the ODE and the MCMC chain
mkdir -p "$WORK" && cd "$WORK"
run() { echo "+ $*" >&2; /usr/bin/time -f "  [%e s wall]" nice -n 10 "$@"; }
measure() { nice -n 10 "$P" measure "$1" --json --threads 1 > "${1%.npy}.json"; }

cat > lattice.toml <<'TOML'
[model.network.unet]
base_channels = 16
groups = 4
[train]
batch_size = 64
lr = 2e-3
TOML

phi4_data() {
  [ -f phi4_train.npy ] || run "$P" simulate phi4 --L 8 --m2 -4 --lambda 8 --samples 2500 --chains 8 \
      --every 2 --therm 500 --seed 1 --out phi4_train.npy --threads 1 > /dev/null
  [ -f phi4_ref.npy ] || run "$P" simulate phi4 --L 8 --m2 -4 --lambda 8 --samples 10000 --chains 8 \
      --every 2 --therm 500 --seed 2 --out phi4_ref.npy --threads 1 > /dev/null
  measure phi4_ref.npy
}

case "$STAGE" in
  phi4-ddpm)
    phi4_data
    [ -f phi4_ddpm.pt ] || run "$P" train ddpm --data phi4_train.npy --config lattice.toml --steps "$STEPS" \
        --out phi4_ddpm.pt --threads 1 --json | grep -E '"(final_loss|seconds|steps)"'
    args=()
    for s in 10 20 50 100; do
      run "$P" sample --model phi4_ddpm.pt --n $N_FAST --sampler ddim --steps $s --out ddim$s.npy --json \
          --threads 1 | grep -E '"(nfe|seconds)"'
      measure ddim$s.npy; args+=("ddim-$s=ddim$s.json")
    done
    run "$P" sample --model phi4_ddpm.pt --n $N_SLOW --sampler ode --rtol 1e-4 --atol 1e-4 --out ode.npy \
        --json --threads 1 | grep -E '"(nfe|seconds|failed_solves)"'
    measure ode.npy; args+=("ode-dopri5=ode.json")
    run "$P" sample --model phi4_ddpm.pt --n $N_SLOW --sampler ddpm --out ddpm.npy --json --threads 1 \
        | grep -E '"(nfe|seconds)"'
    measure ddpm.npy; args+=("ddpm-1000=ddpm.json")
    python3 "$HERE/diffusion_quality_compare.py" phi4_ref.json "${args[@]}"
    ;;
  phi4-sde)
    phi4_data
    # The exact trace costs 64 backward passes per ODE evaluation. The score network is the
    # time-conditioned periodic conv field (network.type "conv", ~20k parameters): small and
    # smooth enough for the Metropolis-corrected chain on a CPU (a U-Net would take hours; the
    # MLP used before gave acceptance 0.005). The chain integrates the probability-flow ODE
    # with rk4 and 5 steps (20 NFE, each with the exact trace).
    cat > sde.toml <<'TOML'
[model.network]
type = "conv"
[model.network.conv]
hidden = [32, 32, 32]
[train]
batch_size = 128
TOML
    [ -f phi4_sde.pt ] || run "$P" train score-sde --data phi4_train.npy --config sde.toml --steps "$STEPS" \
        --out phi4_sde.pt --threads 1 --json | grep -E '"(final_loss|seconds|steps)"'
    run "$P" sample --model phi4_sde.pt --n $N_FAST --sampler em --steps 500 --out sde_em.npy --json \
        --threads 1 | grep -E '"(nfe|seconds)"'
    measure sde_em.npy
    run "$P" sample --model phi4_sde.pt --n $N_FAST --sampler ode --solver rk4 --steps 20 --out sde_ode.npy --json \
        --threads 1 | grep -E '"(nfe|seconds)"'
    measure sde_ode.npy
    run "$P" sample --model phi4_sde.pt --n "${N_MCMC:-8192}" --mcmc --solver rk4 --steps 5 --batch 512 \
        --out sde_mcmc.npy --json --threads 1 | grep -E '"(acceptance|ess|ess_batch64|seconds)"'
    measure sde_mcmc.npy
    python3 "$HERE/diffusion_quality_compare.py" phi4_ref.json sde-em-500=sde_em.json sde-ode-rk4-20=sde_ode.json \
        sde-mcmc=sde_mcmc.json
    ;;
  ising-ddpm)
    [ -f ising_train.npy ] || run "$P" simulate ising --L 16 --algo wolff --samples 2500 --chains 8 \
        --every 2 --therm 500 --seed 1 --out ising_train.npy --threads 1 > /dev/null
    [ -f ising_ref.npy ] || run "$P" simulate ising --L 16 --algo wolff --samples 10000 --chains 8 \
        --every 2 --therm 500 --seed 2 --out ising_ref.npy --threads 1 > /dev/null
    measure ising_ref.npy
    [ -f ising_ddpm.pt ] || run "$P" train ddpm --data ising_train.npy --config lattice.toml \
        --steps "${ISING_STEPS:-10000}" --out ising_ddpm.pt --threads 1 --json | grep -E '"(final_loss|seconds|steps)"'
    run "$P" sample --model ising_ddpm.pt --n $N_FAST --sampler ddim --steps 50 --out ising_ddim50.npy --json \
        --threads 1 | grep -E '"(nfe|seconds)"'
    measure ising_ddim50.npy
    run "$P" sample --model ising_ddpm.pt --n $N_SLOW --sampler ode --rtol 1e-4 --atol 1e-4 --out ising_ode.npy \
        --json --threads 1 | grep -E '"(nfe|seconds|failed_solves)"'
    measure ising_ode.npy
    python3 "$HERE/diffusion_quality_compare.py" ising_ref.json ddim-50=ising_ddim50.json ode-dopri5=ising_ode.json
    ;;
  *) echo "unknown stage $STAGE" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The physics table of docs/autoregressive.md: autoregressive models trained by reverse KL on
# the 2D Ising model, their free energies against Kaufman's exact value, the Metropolis-
# corrected chain against Wolff and single-spin Metropolis at equal wall-clock time.
#
#   [THREADS=T] bash bench/autoregressive_table.sh PHYSGEN OUTDIR "FAMILY L BETA STEPS BATCH N_MCMC" ...
#
# For each case: `train FAMILY --target ising` (anneal over the first 30% of the steps), then
# `sample --mcmc --n N_MCMC --json` (acceptance, ESS, the free energies), `measure` of the
# corrected chain (E, |m|, chi, U4 with errors and tau_int), then Wolff and Metropolis chains
# of the same lattice run for the same wall-clock time as the corrected chain (a pilot of
# 2000 samples gives each one's rate) and measured alike. Writes OUTDIR/CASE.*.json and
# prints one markdown row per case (bench/autoregressive_table.py).
set -euo pipefail
PG=$1 OUT=$2
shift 2
TH="--threads ${THREADS:-2}"
mkdir -p "$OUT"
here=$(cd "$(dirname "$0")" && pwd)
now() { date +%s.%N; }
calc() { /usr/bin/python3 -c "print($1)"; }
for case in "$@"; do
  read -r fam L beta steps batch n <<<"$case"
  name="${fam}_L${L}_b${beta}"
  anneal=$(( steps * 3 / 10 ))
  if [ ! -f "$OUT/$name.train.json" ]; then
    "$PG" train "$fam" --target ising --L "$L" --beta "$beta" --steps "$steps" --batch "$batch" \
      --anneal-steps "$anneal" --out "$OUT/$name.pt" --json $TH > "$OUT/$name.train.json"
  fi
  t0=$(now)
  "$PG" sample --model "$OUT/$name.pt" --n "$n" --mcmc --out "$OUT/$name.mcmc.npy" --json $TH > "$OUT/$name.sample.json"
  t_model=$(calc "$(now) - $t0")
  "$PG" measure "$OUT/$name.mcmc.npy" --json $TH > "$OUT/$name.measure.json"
  for algo in wolff metropolis; do
    t0=$(now)
    "$PG" simulate ising --L "$L" --beta "$beta" --algo "$algo" --chains 1 --samples 2000 --therm 500 \
      --out "$OUT/$name.$algo.pilot.npy" $TH > /dev/null
    t_pilot=$(calc "$(now) - $t0")
    m=$(calc "int(2000 * $t_model / $t_pilot)")
    [ "${m:-0}" -ge 100 ] || m=100
    t0=$(now)
    "$PG" simulate ising --L "$L" --beta "$beta" --algo "$algo" --chains 1 --samples "$m" --therm 500 \
      --out "$OUT/$name.$algo.npy" $TH > /dev/null
    echo "{\"seconds\": $(calc "$(now) - $t0"), \"samples\": $m}" > "$OUT/$name.$algo.time.json"
    "$PG" measure "$OUT/$name.$algo.npy" --json $TH > "$OUT/$name.$algo.measure.json"
  done
  echo "{\"seconds\": $t_model}" > "$OUT/$name.sample.time.json"
  /usr/bin/python3 "$here/autoregressive_table.py" "$OUT" "$name"
done

#!/usr/bin/env bash
# End-to-end checks of the scattering statistics through the CLI: `measure --scattering`
# (JSON key "scattering" with every statistic and its error), `compare-ensembles` of two
# independent phi^4 ensembles (they agree) and of phi^4 against Ising spins (they do not),
# the PNG, and the errors naming the argument.
#   bash tests/cli/test_scattering_cli.sh [PATH/TO/physgen]
source "$(dirname "$0")/lib.sh" physgen_scattering_cli "${1:-}"
J() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

run $PG simulate phi4 --L 16 --kappa 0.27 --lambda-hop 0.022 --chains 16 --samples 64 --every 5 --therm 500 \
    --seed 1 --out "$T/a.npy" $C
run $PG simulate phi4 --L 16 --kappa 0.27 --lambda-hop 0.022 --chains 16 --samples 64 --every 5 --therm 500 \
    --seed 2 --out "$T/b.npy" $C
run $PG simulate ising --L 16 --beta 0.4406868 --algo wolff --chains 4 --samples 256 --therm 200 --out "$T/s.npy" $C

run $PG measure "$T/a.npy" --scattering --json $C
cp "$T/out" "$T/m.json"
[ "$(J "$T/m.json" "d['scattering']['J'] == 2 and len(d['scattering']['statistics']) > 10")" = True ] &&
  ok "measure --scattering: J = log2(16) - 2 and the statistics" || bad "measure --scattering: $(head -c 400 "$T/m.json")"
[ "$(J "$T/m.json" "all(s['error'] > 0 for s in d['scattering']['statistics'] if s['group'] != 'S3')")" = True ] &&
  ok "every statistic has a jackknife error" || bad "errors missing"
[ "$(J "$T/m.json" "d['scattering']['blocks']")" = 64 ] && ok "blocks aligned to the 16 chains (64)" ||
  bad "blocks: $(J "$T/m.json" "d['scattering']['blocks']")"
run $PG measure "$T/a.npy" --scattering --J 3 $C
has "$T/out" "sparsity\[j=2\]" "the text table lists the statistics"

run $PG compare-ensembles "$T/a.npy" "$T/b.npy" --json --png "$T/cmp.png" $C
cp "$T/out" "$T/c.json"
for k in fraction_within_2sigma chi2_per_dof n_statistics groups statistics; do
  [ "$(J "$T/c.json" "'$k' in d")" = True ] && ok "compare-ensembles --json has $k" || bad "compare-ensembles lacks $k"
done
# Two independent ensembles of one theory: chi2/dof within 3 standard deviations of 1 for K
# z-scores (correlated statistics widen this; a failure here is worth a look, not a retry).
[ "$(J "$T/c.json" "d['chi2_per_dof'] < 1 + 3 * (2 / d['n_statistics']) ** 0.5")" = True ] &&
  ok "two phi^4 ensembles agree (chi2/dof $(J "$T/c.json" "round(d['chi2_per_dof'], 2)"))" ||
  bad "two phi^4 ensembles disagree: chi2/dof $(J "$T/c.json" "d['chi2_per_dof']")"
if command -v gnuplot > /dev/null; then
  [ -s "$T/cmp.png" ] && ok "the PNG is written" || bad "no PNG"
fi

# Control: phi^4 against Ising spins at T_c differ far beyond the errors (chi2/dof; the
# fraction within 2 sigma stays near 1/2: S3, half the statistics, vanishes for both).
run $PG compare-ensembles "$T/a.npy" "$T/s.npy" --json $C
[ "$(J "$T/out" "d['chi2_per_dof'] > 10")" = True ] &&
  ok "phi^4 vs Ising told apart (chi2/dof $(J "$T/out" "round(d['chi2_per_dof'], 1)"))" || bad "phi^4 vs Ising not told apart"

# Memorisation: copies of training fields (a shifted one included) are memorised, fresh
# fields of the same chain's later samples are not.
/usr/bin/python3 - "$T" <<'PY'
import json, sys, numpy as np
T = sys.argv[1]
a = np.load(f"{T}/a.npy")
copies = np.concatenate([a[:20], np.roll(a[20:40], (3, 5), axis=(1, 2)), -a[40:60, ::-1, :]])
np.save(f"{T}/copies.npy", copies)
meta = json.load(open(f"{T}/a.npy.json"))
meta.update(chains=1, samples_per_chain=len(copies))
json.dump(meta, open(f"{T}/copies.npy.json", "w"))
PY
run $PG memorization "$T/copies.npy" --train "$T/a.npy" --json $C
[ "$(J "$T/out" "d['memorized_fraction']['mean'] == 1.0 and d['symmetries']['z2']")" = True ] &&
  ok "memorization: shifted, reflected and flipped copies are memorised (z2 auto on for phi4)" ||
  bad "memorization of copies: $(head -c 300 "$T/out")"
run $PG memorization "$T/b.npy" --train "$T/a.npy" --json $C
[ "$(J "$T/out" "d['memorized_fraction']['mean'] == 0.0")" = True ] &&
  ok "memorization: an independent chain is not memorised" || bad "memorization of fresh fields: $(head -c 300 "$T/out")"

# Errors name the argument.
expect_error 2 "J" $PG measure "$T/a.npy" --scattering --J 4 $C
run $PG simulate ising --L 8 --beta 0.3 --samples 20 --therm 10 --out "$T/s8.npy" $C
expect_error 2 "files" $PG compare-ensembles "$T/a.npy" "$T/s8.npy" $C

finish

#!/usr/bin/env python3
"""One markdown row per case of bench/autoregressive_table.sh, from its JSON files.

  autoregressive_table.py OUTDIR NAME [NAME ...]

Columns: the case, training steps and minutes, the relative error of the variational free
energy |F_q - F| / |F| against Kaufman's exact F, the importance-sampled F in standard
errors from F (z), the pooled ESS fraction and the acceptance of the corrected chain; then for
the corrected chain (model), Wolff and Metropolis at equal wall-clock time: tau_int of |m|
and of E (in chain steps / recorded samples), and the z-scores of E against the exact energy
and of |m|, chi, U4 against Wolff.
"""
import json
import math
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def z(a, b):
    d = math.hypot(a["error"], b["error"])
    return (a["mean"] - b["mean"]) / d if d > 0 else float("nan")


def row(out, name):
    tr = load(f"{out}/{name}.train.json")
    s = load(f"{out}/{name}.sample.json")
    m = load(f"{out}/{name}.measure.json")["observables"]
    w = load(f"{out}/{name}.wolff.measure.json")["observables"]
    mp = load(f"{out}/{name}.metropolis.measure.json")["observables"]
    t_model = load(f"{out}/{name}.sample.time.json")["seconds"]
    tw = load(f"{out}/{name}.wolff.time.json")
    tm = load(f"{out}/{name}.metropolis.time.json")
    F = s["free_energy_exact"]
    rel = abs(s["free_energy_variational"]["mean"] - F) / abs(F)
    zF = (s["free_energy"]["mean"] - F) / s["free_energy"]["error"]
    e_exact = {"mean": s["energy_per_site_exact"], "error": 0.0}
    cells = [
        name,
        f"{tr['steps']} / {tr['seconds'] / 60:.1f}",
        f"{rel:.2e}",
        f"{zF:+.1f}",
        f"{s['ess']:.3f}",
        f"{s['acceptance']:.3f}",
        f"{m['abs_m']['tau_int']:.2f} / {w['abs_m']['tau_int']:.2f} / {mp['abs_m']['tau_int']:.1f}",
        f"{m['energy_per_site']['tau_int']:.2f} / {w['energy_per_site']['tau_int']:.2f} / {mp['energy_per_site']['tau_int']:.1f}",
        f"{s['n']} / {tw['samples']} / {tm['samples']} in {t_model:.0f} s",
        f"{z(m['energy_per_site'], e_exact):+.1f} / {z(w['energy_per_site'], e_exact):+.1f} / {z(mp['energy_per_site'], e_exact):+.1f}",
        f"{z(m['abs_m'], w['abs_m']):+.1f} / {z(m['chi'], w['chi']):+.1f} / {z(m['binder'], w['binder']):+.1f}",
        f"{m['abs_m']['error']:.4f} / {w['abs_m']['error']:.4f} / {mp['abs_m']['error']:.4f}",
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| case | steps / train min | abs(F_q-F)/abs(F) | z(F_IS) | ESS | acc. | tau_int abs(m) model/Wolff/Metro | "
    "tau_int E model/Wolff/Metro | samples model/Wolff/Metro | z(E vs exact) model/Wolff/Metro | "
    "z model vs Wolff: abs(m) / chi / U4 | error of abs(m) model/Wolff/Metro |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)

if __name__ == "__main__":
    out = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--header":
        print(HEADER)
        sys.exit(0)
    for name in sys.argv[2:]:
        print(row(out, name))

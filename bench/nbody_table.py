#!/usr/bin/env python3
"""The P(k)/P_ref and r(k) tables of docs/nbody.md from `physgen train pm-correction --json`.

    /usr/bin/python3 bench/nbody_table.py train.json

For each comparison (training cosmology with new initial conditions; the second cosmology):
one row per shell up to the coarse mesh's Nyquist wavenumber, then the criterion of docs/nbody.md:
mean over shells of |P/P_ref - 1| for PM, PGD and the learned filter, their ratio to PM's, and
the largest drop of r(k) below plain PM's.
"""
import json
import sys


def main(path):
    rep = json.load(open(path))
    s = rep["settings"]
    print(f"settings: dim {s['dim']}, {s['particles']}^d particles, mesh {s['mesh']}, reference mesh "
          f"{s['ref_mesh']}, box {s['box']} Mpc/h, loss snapshots {s['snapshots']}, "
          f"train steps {rep['train']['steps']} in {rep['train']['seconds']:.0f} s, "
          f"loss {rep['train'].get('first_loss', float('nan')):.4g} -> {rep['train'].get('final_loss', float('nan')):.4g}; "
          f"PGD alpha {rep['pgd']['alpha']:.3g}, k_l {rep['pgd']['k_l']:.3g}, k_s {rep['pgd']['k_s']:.3g} (rad/cell)\n")
    verdicts = []
    for name, title in (("training_cosmology", "training cosmology, new initial conditions"),
                        ("other_cosmology", "Omega_m = %g, sigma_8 = %g" % (
                            s["eval_cosmology"]["omega_m"], s["eval_cosmology"]["sigma8"]))):
        c = rep["comparison"][name]
        print(f"**{title}** (a = {s['snapshots'][-1]})\n")
        print("| k [h/Mpc] | P/P_ref PM | PM + PGD | PM + filter | r PM | r PGD | r filter |")
        print("|---|---|---|---|---|---|---|")
        for i, k in enumerate(c["k"]):
            print(f"| {k:.3f} | {c['ratio_pm'][i]:.3f} | {c['ratio_pgd'][i]:.3f} | {c['ratio_nn'][i]:.3f} | "
                  f"{c['r_pm'][i]:.4f} | {c['r_pgd'][i]:.4f} | {c['r_nn'][i]:.4f} |")
        dev = {m: sum(abs(x - 1) for x in c["ratio_" + m]) / len(c["k"]) for m in ("pm", "pgd", "nn")}
        drop = max(c["r_pm"][i] - c["r_nn"][i] for i in range(len(c["k"])))
        ok = dev["nn"] <= 0.5 * dev["pm"] and drop <= 0.01
        verdicts.append(ok)
        print(f"\nmean |P/P_ref - 1|: PM {dev['pm']:.4f}, PGD {dev['pgd']:.4f} ({dev['pgd'] / dev['pm']:.2f} of PM), "
              f"filter {dev['nn']:.4f} ({dev['nn'] / dev['pm']:.2f} of PM); largest drop of r below PM: "
              f"{drop:+.4f}; criterion {'met' if ok else 'MISSED'}\n")
    print("criterion (both cosmologies):", "met" if all(verdicts) else "MISSED")


if __name__ == "__main__":
    main(sys.argv[1])

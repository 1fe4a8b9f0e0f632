#!/usr/bin/env python3
"""The training curve of a reverse-KL run on the Ising model: the relative error of the
variational free energy against steps, from the history CSV of `physgen train` (its loss is
the batch mean of log q + S = beta V F_q once the annealing scale has reached 1).

  autoregressive_curve.py HISTORY.csv SAMPLE.json [BIN]

SAMPLE.json is `physgen sample --json` of the same model (for free_energy_exact); beta and L
come from the `train --json` output saved beside the CSV as HISTORY.train.json (the layout of
bench/autoregressive_table.sh); BIN (default 200) steps per row. Prints a markdown table:
step range, rows, mean F_q of the batches, |F_q - F| / |F|.
"""
import csv
import json
import sys

hist, sample = sys.argv[1], sys.argv[2]
bin_ = int(sys.argv[3]) if len(sys.argv) > 3 else 200
s = json.load(open(sample))
F = s["free_energy_exact"]
params = json.load(open(hist.replace(".pt.csv", ".train.json")))["params"]
beta, V = params["beta"], params["L"] ** 2
rows = list(csv.DictReader(open(hist)))
print("| steps | batches | F_q (batch means) | abs(F_q - F)/abs(F) |\n|---|---|---|---|")
last = int(rows[-1]["step"])
for lo in range(0, last + 1, bin_):
    sel = [r for r in rows if lo <= int(r["step"]) < lo + bin_ and float(r.get("anneal", 1.0)) == 1.0]
    if not sel:
        continue
    fq = sum(float(r["loss"]) for r in sel) / len(sel) / (beta * V)
    print(f"| {lo}-{min(lo + bin_, last + 1) - 1} | {len(sel)} | {fq:.5f} | {abs(fq - F) / abs(F):.2e} |")

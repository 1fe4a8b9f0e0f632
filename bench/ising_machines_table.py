#!/usr/bin/env python3
"""The Max-Cut comparison table of docs/ising_machines.md: the four solvers of `physgen anneal`
on generated instances of the G-set kinds, each with the same number of replicas and sweeps.

For every instance the reference cut is the best cut any solver found in this run (these are
generated instances, not the G-set files, so no best-known value exists); each solver's
success probability is the fraction of its replicas reaching that cut, and TTS(99%) follows
from it (amortised time per replica, docs/ising_machines.md).

    /usr/bin/python3 bench/ising_machines_table.py [--cli build/physgen] [--replicas 16]
        [--sweeps 2000] [--threads 2]
"""
import argparse
import json
import math
import os
import subprocess
import tempfile

INSTANCES = [
    ("G1 kind: random, n 800, p 0.06, w 1", ["maxcut-random", "--n", "800", "--density", "0.06", "--seed", "1"]),
    ("G22 kind: random, n 2000, p 0.01, w 1", ["maxcut-random", "--n", "2000", "--density", "0.01", "--seed", "1"]),
    ("toroidal 50 x 40, w +-1", ["toroidal", "--rows", "50", "--cols", "40", "--pm-one", "--seed", "1"]),
]
SOLVERS = ["sa", "pt", "sb-ballistic", "sb-discrete"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/physgen")
    ap.add_argument("--replicas", type=int, default=16)
    ap.add_argument("--sweeps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="physgen-anneal-")
    print(f"replicas {a.replicas}, sweeps {a.sweeps}, threads {a.threads}\n")
    print("| instance | W | solver | best cut | success p (best of run) | wall s | TTS99 s |")
    print("|---|---|---|---|---|---|---|")
    for name, gen in INSTANCES:
        path = os.path.join(tmp, gen[0] + ".txt")
        subprocess.run([a.cli, "problem", *gen, "--out", path], check=True, capture_output=True)
        runs = {}
        for s in SOLVERS:
            r = subprocess.run([a.cli, "anneal", "--problem", path, "--solver", s, "--replicas", str(a.replicas),
                                "--sweeps", str(a.sweeps), "--threads", str(a.threads), "--json", "--quiet"],
                               check=True, capture_output=True, text=True)
            runs[s] = json.loads(r.stdout)
        best_e = min(r["best_energy"] for r in runs.values())
        for s in SOLVERS:
            j = runs[s]
            tol = 1e-9 * (1 + abs(best_e))
            p = sum(e <= best_e + tol for e in j["replica_best_energies"]) / j["replicas"]
            t = j["seconds"] / j["replicas"]
            tts = float("inf") if p == 0 else t if p >= 0.99 else t * math.log(0.01) / math.log(1 - p)
            W = j["best_cut"] * 2 + j["best_energy"]  # cut = (W - E) / 2
            print(f"| {name} | {W:.0f} | {s} | {j['best_cut']:.0f} | {p:.3f} | {j['seconds']:.2f} | "
                  f"{'inf' if math.isinf(tts) else f'{tts:.3f}'} |", flush=True)

if __name__ == "__main__":
    main()

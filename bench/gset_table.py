#!/usr/bin/env python3
"""The G-set table of docs/ising_machines.md: the four solvers of `physgen anneal` on G-set
Max-Cut instances (bench/data/gset/, see its README for where the files come from) under a
wall-clock budget of 1 s and 10 s, against the best-known cuts.

Protocol (fixed before the first measurement):
  * replicas: sa 8, pt 2 ladders of 16 rungs, sb-ballistic and sb-discrete 16 (SB is one
    batched GEMM over the replicas, SA / PT run the replicas on the threads);
  * for each solver, instance and budget T the number of sweeps (SB: iterations) is calibrated
    from a short run (100 sweeps, PT 20) on the same instance: S = floor(0.9 T / t_sweep), and
    the run is capped with --time-limit T (a run cut short by the cap keeps what it found: the
    `cut` column then says "(capped)");
  * `--target` is the best-known cut, so success p is the fraction of replicas that reach it and
    TTS99 = t log(0.01) / log(1 - p) with t the batch wall time over the replicas
    (docs/ising_machines.md); reading the file is not in the budget (`seconds` is the solver's);
  * one seed (1) per cell: single runs, no error bars.

    /usr/bin/python3 bench/gset_table.py [--cli build/physgen] [--threads 2] [--budgets 1,10]
"""
import argparse
import json
import math
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
# name, kind, best-known cut (Benlic & Hao 2013 and later; the values every G-set table quotes)
INSTANCES = [
    ("G1", "random, n 800, 6%", 11624),
    ("G14", "planar, n 800", 3064),
    ("G22", "random, n 2000, 1%", 13359),
    ("G50", "toroidal, n 3000", 5880),
]
REPLICAS = {"sa": 8, "pt": 2, "sb-ballistic": 16, "sb-discrete": 16}
CALIBRATION_SWEEPS = {"sa": 100, "pt": 20, "sb-ballistic": 100, "sb-discrete": 100}


def anneal(cli, path, solver, sweeps, threads, target=None, time_limit=None):
    cmd = [cli, "anneal", "--problem", path, "--solver", solver, "--replicas", str(REPLICAS[solver]),
           "--sweeps", str(sweeps), "--threads", str(threads), "--seed", "1", "--json", "--quiet"]
    if target is not None:
        cmd += ["--target", str(target)]
    if time_limit is not None:
        cmd += ["--time-limit", str(time_limit)]
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/physgen")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--budgets", default="1,10")
    a = ap.parse_args()
    budgets = [float(b) for b in a.budgets.split(",")]
    print(f"threads {a.threads}, replicas {REPLICAS}\n")
    print("| instance | best known | budget s | solver | sweeps | best cut | fraction of best known | "
          "success p | TTS99 s | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, kind, best in INSTANCES:
        path = os.path.join(HERE, "data", "gset", name + ".txt")
        for T in budgets:
            for s in REPLICAS:
                cal = anneal(a.cli, path, s, CALIBRATION_SWEEPS[s], a.threads)
                per_sweep = cal["seconds"] / CALIBRATION_SWEEPS[s]
                sweeps = max(1, int(0.9 * T / per_sweep))
                j = anneal(a.cli, path, s, sweeps, a.threads, target=best, time_limit=T)
                capped = " (capped)" if j["sweeps"] < sweeps else ""
                tts = j.get("tts99_s")
                print(f"| {name} ({kind}) | {best} | {T:g} | {s} | {j['sweeps']} | {j['best_cut']:.0f}{capped} | "
                      f"{j['best_cut'] / best:.4f} | {j['success_probability']:.3f} | "
                      f"{'-' if tts is None else f'{tts:.3g}'} | {j['seconds']:.2f} |", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Python PyTorch references of bench/bench_ising_machines.cpp: simulated annealing (Metropolis,
replicas vectorised, a Python loop over the sites, the local fields kept up to date as physgen
does) and discrete simulated bifurcation (a dense or sparse J x product per iteration, as in
physgen), on one problem file in physgen's edge-list format. Prints one JSON object with the
spin updates per ns of each (one thread).

    /usr/bin/python3 bench/python/ising_machines_reference.py --problem FILE --replicas R \
        --sa-sweeps S --sb-iterations I --threads 1
"""
import argparse
import json
import math
import time

import torch


def read_problem(path):
    rows, cols, vals, n, maxcut = [], [], [], 0, True
    with open(path) as f:
        header = None
        for line in f:
            t = line.split()
            if not t:
                continue
            if t[0].startswith("#"):
                if len(t) >= 3 and t[1] == "kind" and t[2] != "maxcut":
                    maxcut = False
                continue
            if header is None:
                header = t
                n = int(t[0])
                continue
            i, j, w = int(t[0]) - 1, int(t[1]) - 1, float(t[2])
            J = -w if maxcut else w
            rows += [i, j]; cols += [j, i]; vals += [J, J]
    return n, torch.sparse_coo_tensor(torch.tensor([rows, cols]), torch.tensor(vals, dtype=torch.float64),
                                      (n, n)).coalesce()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problem", required=True)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--sa-sweeps", type=int, default=3)
    ap.add_argument("--sb-iterations", type=int, default=200)
    ap.add_argument("--sb-replicas", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n, Jsp = read_problem(a.problem)
    density = Jsp._nnz() / (n * n)
    Jd = Jsp.to_dense()

    # --- SA: replicas vectorised, sites in a Python loop, local fields updated per flip
    R = a.replicas
    s = torch.where(torch.rand(R, n) < 0.5, 1.0, -1.0).double()
    f = s @ Jd  # (R, n) local fields (J symmetric)
    t0 = time.perf_counter()
    for k in range(a.sa_sweeps):
        beta = 0.1 * (30.0 ** (k / max(1, a.sa_sweeps - 1)))
        for i in torch.randperm(n).tolist():
            dE = 2.0 * s[:, i] * f[:, i]
            flip = (dE <= 0) | (torch.rand(R, dtype=torch.float64) < torch.exp(-beta * dE))
            delta = torch.where(flip, -2.0 * s[:, i], torch.zeros_like(dE))  # new - old
            s[:, i] += delta
            f += delta[:, None] * Jd[i][None, :]
    sa_t = time.perf_counter() - t0
    sa_rate = R * a.sa_sweeps * n / (sa_t * 1e9)

    # --- discrete SB: dense below 5% filling, as physgen
    Jm = (Jd if density > 0.05 or n <= 256 else Jsp).float()
    RB = a.sb_replicas
    sigma = math.sqrt((Jd ** 2).sum().item() / (n * (n - 1)))
    c0 = 0.5 / (math.sqrt(n) * sigma)
    v = torch.randn(n, 1, dtype=torch.float64)
    for _ in range(100):
        v = Jd @ (v / v.norm())
    dt = min(1.25, 1.6 / math.sqrt(1 + c0 * v.norm().item()))
    x = torch.rand(n, RB) * 0.2 - 0.1
    y = torch.rand(n, RB) * 0.2 - 0.1
    I = a.sb_iterations
    t0 = time.perf_counter()
    for t in range(I):
        a_t = t / I
        z = torch.where(x >= 0, 1.0, -1.0)
        y += (-(1.0 - a_t) * x + c0 * (Jm @ z)) * dt
        x += y * dt
        wall = x.abs() > 1
        x = torch.where(wall, torch.sign(x), x)
        y = torch.where(wall, torch.zeros_like(y), y)
    sb_t = time.perf_counter() - t0
    print(json.dumps({"n": n, "sa_spin_updates_per_ns": sa_rate, "sa_seconds": sa_t,
                      "sb_iterations_per_second": I / sb_t, "sb_spin_updates_per_ns": n * RB * I / (sb_t * 1e9)}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Python PyTorch references of bench/bench_ising_machines.cpp: simulated annealing (Metropolis,
replicas vectorised, a Python loop over the sites, the local fields kept up to date as physgen
does), parallel tempering (the same sweep for 2 ladders x 8 rungs at once, each chain at its
rung's beta, then the exchanges of neighbouring rungs), and discrete and ballistic simulated
bifurcation (a dense or sparse J x product per iteration, as in physgen), on one problem file
in physgen's edge-list format. Prints one JSON object with the spin updates per ns of each and
the SB iterations per second (one thread).

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

    # --- PT: 2 ladders x 8 rungs (geometric 0.1 .. 3), one sweep of every chain, then exchanges
    ladders, M = 2, 8
    betas = torch.tensor([0.1 * 30.0 ** (k / (M - 1)) for k in range(M)], dtype=torch.float64)
    B = ladders * M
    rung = torch.arange(M).repeat(ladders)  # rung of each chain
    s = torch.where(torch.rand(B, n) < 0.5, 1.0, -1.0).double()
    f = s @ Jd
    E = -0.5 * (s * f).sum(1)
    t0 = time.perf_counter()
    for k in range(a.sa_sweeps):
        beta = betas[rung]
        for i in torch.randperm(n).tolist():
            dE = 2.0 * s[:, i] * f[:, i]
            flip = (dE <= 0) | (torch.rand(B, dtype=torch.float64) < torch.exp(-beta * dE))
            delta = torch.where(flip, -2.0 * s[:, i], torch.zeros_like(dE))
            s[:, i] += delta
            f += delta[:, None] * Jd[i][None, :]
            E += torch.where(flip, dE, torch.zeros_like(dE))
        for l in range(ladders):
            chains = [l * M + int(torch.nonzero(rung[l * M:(l + 1) * M] == q)[0]) for q in range(M)]
            for q in range(k % 2, M - 1, 2):
                a_, c_ = chains[q], chains[q + 1]
                d = (betas[q] - betas[q + 1]) * (E[a_] - E[c_])
                if d >= 0 or torch.rand(1).item() < math.exp(d):
                    rung[a_], rung[c_] = q + 1, q
                    chains[q], chains[q + 1] = c_, a_
    pt_t = time.perf_counter() - t0
    pt_rate = B * a.sa_sweeps * n / (pt_t * 1e9)

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
    x0, y0 = x.clone(), y.clone()
    seconds = {}
    for variant in ("discrete", "ballistic"):
        x, y = x0.clone(), y0.clone()
        t0 = time.perf_counter()
        for t in range(I):
            a_t = t / I
            z = torch.where(x >= 0, 1.0, -1.0) if variant == "discrete" else x
            y += (-(1.0 - a_t) * x + c0 * (Jm @ z)) * dt
            x += y * dt
            wall = x.abs() > 1
            x = torch.where(wall, torch.sign(x), x)
            y = torch.where(wall, torch.zeros_like(y), y)
        seconds[variant] = time.perf_counter() - t0
    sb_t = seconds["discrete"]
    print(json.dumps({"n": n, "sa_spin_updates_per_ns": sa_rate, "sa_seconds": sa_t,
                      "pt_spin_updates_per_ns": pt_rate, "pt_seconds": pt_t,
                      "sb_iterations_per_second": I / sb_t, "sb_spin_updates_per_ns": n * RB * I / (sb_t * 1e9),
                      "bsb_iterations_per_second": I / seconds["ballistic"]}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Weighted least-squares fit e0(N) = e_inf + A N^(-2/3) to rows "N mean stderr" (one per line,
e.g. the N, mean E0/N and std. error columns of bench_sk_ground_state's tables from several runs),
with bench_sk_ground_state's conventions: errors from the covariance, scaled by sqrt(chi2/dof)
when that exceeds 1; z against Parisi's -0.7633 (docs/ising_machines.md).

Usage: /usr/bin/python3 bench/sk_fit.py ROWS.txt
"""
import math
import sys


def fit(rows):
    S = Sx = Sxx = Sy = Sxy = 0.0
    for n, m, se in rows:
        w, x = 1 / se**2, n ** (-2 / 3)
        S, Sx, Sxx, Sy, Sxy = S + w, Sx + w * x, Sxx + w * x * x, Sy + w * m, Sxy + w * x * m
    D = S * Sxx - Sx * Sx
    e_inf, A = (Sxx * Sy - Sx * Sxy) / D, (S * Sxy - Sx * Sy) / D
    chi2 = sum(((m - e_inf - A * n ** (-2 / 3)) / se) ** 2 for n, m, se in rows)
    dof = len(rows) - 2
    scale = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
    return e_inf, math.sqrt(Sxx / D) * scale, A, math.sqrt(S / D) * scale, chi2, dof


if __name__ == "__main__":
    rows = [tuple(float(v) for v in line.split()) for line in open(sys.argv[1]) if line.strip() and not line.startswith("#")]
    e_inf, err, A, errA, chi2, dof = fit(rows)
    z = (e_inf + 0.7633) / err
    print(f"e_inf = {e_inf:.4f} +- {err:.4f}, A = {A:.3f} +- {errA:.3f}, chi2/dof = {chi2:.2f}/{dof}; "
          f"Parisi -0.7633: z = {z:+.2f} -> criterion |z| < 2 {'met' if abs(z) < 2 else 'NOT met'}")

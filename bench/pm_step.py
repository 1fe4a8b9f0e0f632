#!/usr/bin/env python3
"""Reference for bench_pm: one particle-mesh (PM) kick-drift-kick step of the cosmological
N-body equations in Python PyTorch (Debian's python3-torch, the same LibTorch 1.13 as physgen),
written from the equations with the same math as physgen's PmMesh / NbodyDynamics
(particles/pm.h, particles/nbody.h) and its defaults: CIC paint and readout, exact Green's
function, 4-point finite-difference gradient, no CIC compensation, float32.

    /usr/bin/python3 bench/pm_step.py [--particles 64] [--mesh 64] [--dim 3] [--steps 5]
                                      [--threads 1] [--seed 1] [--json]

Units of pm.h: positions in mesh cells (periodic, not wrapped: the CIC corners are taken modulo
n), time the scale factor a, H0 = 1, Omega_m = 0.3 (flat Lambda-CDM). One force evaluation:
  rho = CIC paint of the particles (mass n^d / N each, so the mean density is 1),
  phi_k = -delta_k / k^2 (delta = rho - 1, k = 2 pi fftfreq per axis, rfftfreq on the last;
          the k = 0 mode set to 0),
  F_i = irfftn(-i D_i phi_k), D_i = (8 sin k_i - sin 2 k_i) / 6, read back to the particles by CIC.
KDK step from a to a + da (the force at the end of a step starts the next):
  p += K(a, a + da/2) F,   x += D(a, a + da) p,   F = F(x),   p += K(a + da/2, a + da) F,
  K(a0, a1) = int 3/2 Omega_m / (a^2 E) da,   D(a0, a1) = int da / (a^3 E),
  E(a) = sqrt(Omega_m a^-3 + 1 - Omega_m),
both by 16-point Gauss-Legendre (numpy leggauss), computed once before timing.

Setup: an N^d lattice (spacing n / N cells, "ij" order) displaced by 0.3 cells rms per component
(torch.manual_seed(seed), torch.randn), zero momenta, steps uniform in a over [0.5, 0.6]: one
warm-up step, then `steps` timed steps (steps + 1 in all).

Prints steps per second of the timed steps; with --json one JSON line
{"steps_per_second", "seconds", "particles", "mesh", "dim", "steps", "threads", "momentum_rms"}
(momentum_rms: sqrt(mean p^2) after the last step, to check against the C++ run).
"""
import argparse
import json
import math
import time

import numpy as np
import torch

OMEGA_M = 0.3
A_START, A_END = 0.5, 0.6
DISPLACEMENT_RMS = 0.3  # cells, per component
GL_NODES = 16


def hubble_e(a):
    return np.sqrt(OMEGA_M / a**3 + 1.0 - OMEGA_M)


def gauss_legendre(f, lo, hi):
    """int_lo^hi f by the GL_NODES-point Gauss-Legendre rule."""
    x, w = np.polynomial.legendre.leggauss(GL_NODES)
    half, mid = 0.5 * (hi - lo), 0.5 * (hi + lo)
    return float(half * np.sum(w * f(half * x + mid)))


def kick(a0, a1):
    return gauss_legendre(lambda a: 1.5 * OMEGA_M / (a * a * hubble_e(a)), a0, a1)


def drift(a0, a1):
    return gauss_legendre(lambda a: 1.0 / (a**3 * hubble_e(a)), a0, a1)


class PM:
    """Periodic mesh of n cells per side in d dimensions: the Green's function and the fd4
    gradient symbols on the rfft grid, CIC paint and readout."""

    def __init__(self, n, d, dtype=torch.float32):
        self.n, self.d = n, d
        self.shape = (n,) * d
        self.dims = tuple(range(d))
        k2 = torch.zeros((), dtype=torch.float64)
        self.grad = []
        for i in range(d):
            last = i == d - 1
            m = torch.fft.rfftfreq(n, dtype=torch.float64) if last else torch.fft.fftfreq(n, dtype=torch.float64)
            ki = (2.0 * math.pi * m).view([len(m) if j == i else 1 for j in range(d)])
            k2 = k2 + ki * ki
            # the 4-point difference (-f(x+2) + 8 f(x+1) - 8 f(x-1) + f(x-2)) / 12 has symbol i D
            self.grad.append(((8.0 * torch.sin(ki) - torch.sin(2.0 * ki)) / 6.0).to(dtype))
        safe = torch.where(k2 > 0, k2, torch.ones_like(k2))
        self.green = torch.where(k2 > 0, -1.0 / safe, torch.zeros_like(k2)).to(dtype)

    def corners(self, pos):
        """Flat indices (2^d, N) and weights (2^d, N) of the CIC corners of pos (N, d)."""
        n, d = self.n, self.d
        base = torch.floor(pos)
        frac = pos - base
        ib = base.long()
        idx, w = [], []
        for c in range(2**d):
            flat = torch.zeros(pos.shape[0], dtype=torch.long)
            weight = None
            for j in range(d):
                bit = (c >> (d - 1 - j)) & 1
                flat = flat * n + torch.remainder(ib[:, j] + bit, n)
                wj = frac[:, j] if bit else 1.0 - frac[:, j]
                weight = wj if weight is None else weight * wj
            idx.append(flat)
            w.append(weight)
        return torch.stack(idx), torch.stack(w)

    def paint(self, pos, mass):
        idx, w = self.corners(pos)
        rho = torch.zeros(self.n**self.d, dtype=pos.dtype)
        rho = rho.scatter_add(0, idx.flatten(), (w * mass).flatten())
        return rho.view(self.shape)

    def readout(self, field, pos):
        """field (C, (n,)*d) at pos (N, d): (N, C)."""
        idx, w = self.corners(pos)
        flat = field.reshape(field.shape[0], -1)
        v = flat.index_select(1, idx.flatten()).view(flat.shape[0], idx.shape[0], idx.shape[1])
        return (v * w.unsqueeze(0)).sum(1).t()

    def forces(self, pos, mass):
        delta = self.paint(pos, mass) - 1.0
        phik = torch.fft.rfftn(delta, dim=self.dims) * self.green
        field = torch.stack([torch.fft.irfftn(phik * g * (-1j), s=self.shape, dim=self.dims) for g in self.grad])
        return self.readout(field, pos)


def lattice(n_particles, d, n):
    spacing = n / n_particles
    axes = [torch.arange(n_particles, dtype=torch.float64) * spacing] * d
    grids = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([g.flatten() for g in grids], 1).to(torch.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--particles", type=int, default=64, help="particles per side")
    ap.add_argument("--mesh", type=int, default=64, help="mesh cells per side (even, >= 4)")
    ap.add_argument("--dim", type=int, default=3, choices=(2, 3))
    ap.add_argument("--steps", type=int, default=5, help="timed KDK steps (after one warm-up step)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.particles < 2:
        ap.error("--particles: expected >= 2 particles per side")
    if args.mesh < 4 or args.mesh % 2:
        ap.error("--mesh: expected an even number of cells >= 4")
    if args.steps < 1 or args.threads < 1:
        ap.error("--steps and --threads: expected >= 1")
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)

    n, d = args.mesh, args.dim
    pm = PM(n, d)
    count = args.particles**d
    mass = float(n) ** d / count
    torch.manual_seed(args.seed)
    x = lattice(args.particles, d, n) + DISPLACEMENT_RMS * torch.randn(count, d)
    p = torch.zeros_like(x)

    # Kick and drift factors of the steps + 1 steps (the first is the warm-up).
    total = args.steps + 1
    da = (A_END - A_START) / total
    factors = []
    for i in range(total):
        a0 = A_START + i * da
        a1, am = a0 + da, a0 + 0.5 * da
        factors.append((kick(a0, am), drift(a0, a1), kick(am, a1)))

    def step(x, p, f, k1, dr, k2):
        p = p + k1 * f
        x = x + dr * p
        f = pm.forces(x, mass)
        p = p + k2 * f
        return x, p, f

    f = pm.forces(x, mass)
    x, p, f = step(x, p, f, *factors[0])
    t0 = time.perf_counter()
    for fac in factors[1:]:
        x, p, f = step(x, p, f, *fac)
    seconds = time.perf_counter() - t0
    out = {
        "steps_per_second": args.steps / seconds,
        "seconds": seconds,
        "particles": args.particles,
        "mesh": n,
        "dim": d,
        "steps": args.steps,
        "threads": args.threads,
        "momentum_rms": p.double().pow(2).mean().sqrt().item(),
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"PM KDK step, {args.particles}^{d} particles, {n}^{d} mesh, {args.threads} thread(s): "
              f"{out['steps_per_second']:.3f} steps/s ({args.steps} steps in {seconds:.3f} s), "
              f"rms momentum {out['momentum_rms']:.6g}")


if __name__ == "__main__":
    main()

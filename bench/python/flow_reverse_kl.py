#!/usr/bin/env python3
"""Reference for bench_flow_vs_python: the same RealNVP and reverse-KL training
loop as physgen's C++ (models/flows, train/model_task), in Python PyTorch
(Debian's python3-torch, the same LibTorch 1.13 underneath).

Model: phi^4 on an L x L lattice (S = sum_x [sum_mu (phi_{x+mu}-phi_x)^2 + m2 phi^2
+ lambda phi^4]), n_layers affine couplings with checkerboard masks (parity
alternating per layer), periodic conv conditioners 1 -> h -> h -> 2 channels
with LeakyReLU, log-scale soft-clamped s = 3 tanh(s_raw / 3), zero-initialised
last layer, standard-normal base, Adam, batch 64.

Prints one JSON line: {"steps_per_second": ..., "steps": ..., "threads": ...}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn


def checkerboard(L, parity):
    i = torch.arange(L).view(L, 1)
    j = torch.arange(L).view(1, L)
    return (((i + j) % 2) == parity).float()


class Coupling(nn.Module):
    def __init__(self, L, parity, hidden, kernel):
        super().__init__()
        self.register_buffer("mask", checkerboard(L, parity))
        layers, cin = [], 1
        for h in hidden:
            layers += [nn.Conv2d(cin, h, kernel, padding=kernel // 2, padding_mode="circular"),
                       nn.LeakyReLU()]
            cin = h
        last = nn.Conv2d(cin, 2, kernel, padding=kernel // 2, padding_mode="circular")
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        layers.append(last)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        active = 1 - self.mask
        out = self.net((x * self.mask).unsqueeze(1))
        s = 3.0 * torch.tanh(out[:, 0] / 3.0) * active
        t = out[:, 1] * active
        return x * torch.exp(s) + t, s.flatten(1).sum(1)


class RealNVP(nn.Module):
    def __init__(self, L, n_layers, hidden, kernel):
        super().__init__()
        self.L = L
        self.layers = nn.ModuleList(Coupling(L, k % 2, hidden, kernel) for k in range(n_layers))

    def sample_and_log_prob(self, n):
        z = torch.randn(n, self.L, self.L)
        log_q = -0.5 * (z * z).flatten(1).sum(1) - 0.5 * self.L * self.L * math.log(2 * math.pi)
        x = z
        for layer in self.layers:
            x, log_det = layer(x)
            log_q = log_q - log_det
        return x, log_q


def phi4_action(x, m2, lam):
    d0 = torch.roll(x, -1, 1) - x
    d1 = torch.roll(x, -1, 2) - x
    x2 = x * x
    return (d0 * d0 + d1 * d1 + m2 * x2 + lam * x2 * x2).flatten(1).sum(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--hidden", type=int, nargs="+", default=[8, 8])
    ap.add_argument("--kernel", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--m2", type=float, default=-4.0)
    ap.add_argument("--lam", type=float, default=8.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = RealNVP(a.L, a.layers, a.hidden, a.kernel)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        x, log_q = model.sample_and_log_prob(a.batch)
        loss = (log_q + phi4_action(x, a.m2, a.lam)).mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    print(json.dumps({"steps_per_second": a.steps / dt, "steps": a.steps, "threads": a.threads}))


if __name__ == "__main__":
    main()

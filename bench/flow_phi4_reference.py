#!/usr/bin/python3
"""Reference for bench/bench_flows.cpp: the same phi^4 reverse-KL training step in Python
PyTorch (Debian's python3-torch, same LibTorch 1.13), written the usual way: 16 affine
couplings with checkerboard masks, conditioners Conv2d(padding_mode='circular') 1 -> 8 -> 8 -> 2
with LeakyReLU, batch 64, Adam lr 1e-3, one intra-op thread.

Usage: /usr/bin/python3 bench/flow_phi4_reference.py [steps]   (prints steps/s, wall and CPU)
"""
import math
import sys
import time

import torch

L, BATCH, LAYERS, M2, LAM = 8, 64, 16, -4.0, 8.0


def checkerboard(parity):
    i = torch.arange(L)
    return (((i[:, None] + i[None, :]) % 2) == parity).float()


class Coupling(torch.nn.Module):
    def __init__(self, parity):
        super().__init__()
        self.register_buffer("mask", checkerboard(parity))
        chans = [1, 8, 8, 2]
        mods = []
        for a, b in zip(chans[:-1], chans[1:]):
            mods += [torch.nn.Conv2d(a, b, 3, padding=1, padding_mode="circular"), torch.nn.LeakyReLU()]
        self.net = torch.nn.Sequential(*mods[:-1])

    def forward(self, x):
        active = 1 - self.mask
        out = self.net((x * self.mask).unsqueeze(1))
        s = torch.tanh(out[:, 0]) * active
        t = out[:, 1] * active
        return x * torch.exp(s) + t, s.sum(dim=(1, 2))


def action(x):
    kin = sum((torch.roll(x, 1, d) - x) ** 2 for d in (1, 2))
    return (kin + M2 * x ** 2 + LAM * x ** 4).sum(dim=(1, 2))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = torch.nn.ModuleList([Coupling(i % 2) for i in range(LAYERS)])
    opt = torch.optim.Adam(layers.parameters(), lr=1e-3)

    def step():
        z = torch.randn(BATCH, L, L)
        logq = -0.5 * (z ** 2).sum(dim=(1, 2)) - 0.5 * L * L * math.log(2 * math.pi)
        x = z
        for layer in layers:
            x, ld = layer(x)
            logq = logq - ld
        loss = (logq + action(x)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for _ in range(20):
        step()
    c0, t0 = time.process_time(), time.time()
    for _ in range(n):
        step()
    cpu, wall = time.process_time() - c0, time.time() - t0
    print(f"python reference: {n / wall:.1f} steps/s wall, {n / cpu:.1f} steps per CPU s ({n} steps)")


if __name__ == "__main__":
    main()

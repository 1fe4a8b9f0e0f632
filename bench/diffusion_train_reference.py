#!/usr/bin/env python3
"""Reference for bench_diffusion: the DDPM training step of physgen in Python PyTorch.

Same model and loop as the C++ side: eps-prediction loss, linear schedule (T = 1000,
beta 1e-4..0.02), MLP with sinusoidal time features (32 = 2 x 16 frequencies, geometric
from 1 to 200) concatenated to the input of each of 3 hidden SiLU layers of 128 and of the
output layer, Adam (lr 1e-3), batch 256 drawn with replacement from 20000 points in R^2,
one intra-op thread. Prints "steps_per_second <rate>".

  python3 bench/diffusion_train_reference.py [steps]
"""
import math
import sys
import time

import torch


class TimeMLP(torch.nn.Module):
    def __init__(self, dim=2, hidden=(128, 128, 128), tdim=32, wmin=1.0, wmax=200.0):
        super().__init__()
        half = tdim // 2
        k = torch.arange(half, dtype=torch.float64)
        w = torch.exp(k * math.log(wmax / wmin) / (half - 1)) * wmin
        self.register_buffer("freq", w.float())
        layers, d = [], dim
        for h in hidden:
            layers.append(torch.nn.Linear(d + tdim, h))
            d = h
        layers.append(torch.nn.Linear(d + tdim, dim))
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, t, x):
        phase = t.reshape(-1, 1) * self.freq.unsqueeze(0)
        tau = torch.cat([torch.sin(phase), torch.cos(phase)], 1)
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(torch.cat([h, tau], 1))
            if i + 1 < len(self.layers):
                h = torch.nn.functional.silu(h)
        return h


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    torch.set_num_threads(1)
    torch.manual_seed(0)
    T = 1000
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    data = torch.randn(20000, 2)
    net = TimeMLP()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        idx = torch.randint(0, data.shape[0], (256,))
        x0 = data[idx]
        i = torch.randint(0, T, (256,))
        noise = torch.randn_like(x0)
        ab = abar[i].float().unsqueeze(1)
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        t = (i.float() + 1) / T
        loss = (net(t, xt) - noise).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    print(f"steps_per_second {steps / elapsed:.3f}")


if __name__ == "__main__":
    main()

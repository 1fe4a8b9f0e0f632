#!/usr/bin/python3
"""An independent Python PyTorch replica of physgen's Hopfield network trained by backpropagation
through the unrolled relaxation (physical/hopfield.h, rule "gradient"), on the same kind of data
(3 Gaussian blobs, 60 examples, one-hot targets), to see why that baseline plateaus
(docs/physical_learning.md). Prints, per initialisation seed, the final error and accuracy and
which output units are saturated at a bound (0 or 1) for every example: such a unit passes no
gradient through the hard sigmoid, so backpropagation cannot bring it back.

Usage: /usr/bin/python3 bench/hopfield_bptt_replica.py [--seeds 5] [--lr 0.1] [--steps 300]
"""
import argparse

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=16)
    a = ap.parse_args()
    g = np.random.default_rng(1)
    m = 60
    c = np.arange(m) % 3
    phi = 2 * np.pi * c / 3
    x = torch.tensor(np.stack([np.cos(phi) + 0.35 * g.standard_normal(m), np.sin(phi) + 0.35 * g.standard_normal(m)], 1))
    t = torch.nn.functional.one_hot(torch.tensor(c), 3).double()
    labels = torch.tensor(c)
    H = a.hidden

    def relax(W1, W2, b1, b2, steps=100, dt=0.5):  # projected gradient descent on E, as hopfield_relax
        h, y = torch.zeros(m, H), torch.zeros(m, 3)
        xin = x @ W1 + b1
        for _ in range(steps):
            gh, gy = xin + y @ W2.T - h, h @ W2 + b2 - y
            h, y = (h + dt * gh).clamp(0, 1), (y + dt * gy).clamp(0, 1)
        return h, y

    for seed in range(1, a.seeds + 1):
        torch.manual_seed(seed)
        lim1, lim2 = (6 / (2 + H)) ** 0.5, (6 / (H + 3)) ** 0.5  # Glorot uniform, zero biases
        P = [((torch.rand(2, H) * 2 - 1) * lim1).requires_grad_(True), ((torch.rand(H, 3) * 2 - 1) * lim2).requires_grad_(True),
             torch.zeros(H, requires_grad=True), torch.zeros(3, requires_grad=True)]
        for _ in range(a.steps):
            _, y = relax(*P)
            grads = torch.autograd.grad(0.5 * ((y - t) ** 2).sum() / m, P)
            with torch.no_grad():
                for p, gr in zip(P, grads):
                    p -= a.lr * gr
        with torch.no_grad():
            _, y = relax(*P)
            err = (((y - t) ** 2).sum() / (t**2).sum()).item()
            acc = (y.argmax(1) == labels).double().mean().item()
            stuck = [bool((y[:, j] <= 0).all() or (y[:, j] >= 1).all()) for j in range(3)]
        print(f"seed {seed}: error {err:.3f}, accuracy {acc:.3f}, output units saturated for every example: {stuck}")


if __name__ == "__main__":
    main()

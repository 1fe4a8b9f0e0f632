"""The GAN training step of bench_gan.cpp in Python PyTorch (Debian's python3-torch): the reference
for the steps-per-second ratio that bench_gan prints.

Same work per step as physgen::GanTask::train_step on one thread: a minibatch drawn with
randint, a critic step (fake samples without autograd, loss, optional gradient penalty on
per-sample interpolates, Adam step) and, every n_critic-th step, a generator step.
Networks: Linear + LeakyReLU(0.2) MLPs (physgen::VectorMLP), or for "dcgan" the periodic
DCGAN generator / discriminator of physgen/nn/dcgan.h (transposed convolutions folded onto the
torus, batch norm in the generator, circular strided convolutions, mean pooling).

    python3 bench/gan_reference.py --variant gan|wgan-gp|dcgan --steps 300
prints one line: "<variant> steps_per_second <value>" (steps per second of process CPU time).
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class Upsample(nn.Module):
    """Kernel-4, stride-2 transposed convolution folded onto the torus, bias after the fold."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=0, bias=False)
        self.bias = nn.Parameter(torch.zeros(cout))

    @staticmethod
    def fold(y, dim):
        m = y.size(dim) - 2
        out = y.narrow(dim, 1, m).clone()
        out.narrow(dim, m - 1, 1).add_(y.narrow(dim, 0, 1))
        out.narrow(dim, 0, 1).add_(y.narrow(dim, m + 1, 1))
        return out

    def forward(self, x):
        return self.fold(self.fold(self.conv(x), 2), 3) + self.bias.view(1, -1, 1, 1)


class LatticeGenerator(nn.Module):
    def __init__(self, L, latent, channels=64, ups=2):
        super().__init__()
        self.base, self.c0 = L >> ups, channels
        self.project = nn.Linear(latent, channels * self.base * self.base)
        c, ups_l, norms = channels, [], []
        for _ in range(ups):
            nxt = max(min(8, c), c // 2)
            ups_l.append(Upsample(c, nxt))
            norms.append(nn.BatchNorm2d(nxt))
            c = nxt
        self.ups, self.norms = nn.ModuleList(ups_l), nn.ModuleList(norms)
        self.head = nn.Conv2d(c, 1, 3, padding=1, padding_mode="circular")

    def forward(self, z):
        h = F.relu(self.project(z).view(z.size(0), self.c0, self.base, self.base))
        for up, bn in zip(self.ups, self.norms):
            h = F.relu(bn(up(h)))
        return self.head(h).squeeze(1)


class LatticeDiscriminator(nn.Module):
    def __init__(self, channels=32, downs=2):
        super().__init__()
        convs, c = [nn.Conv2d(1, channels, 3, padding=1, padding_mode="circular")], channels
        for _ in range(downs):
            convs.append(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, padding_mode="circular"))
            c *= 2
        self.convs, self.head = nn.ModuleList(convs), nn.Linear(c, 1)

    def forward(self, x):
        h = x.unsqueeze(1)
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
        return self.head(h.mean((2, 3))).squeeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="gan", choices=["gan", "wgan-gp", "dcgan"])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    if args.variant == "dcgan":
        latent, batch, data = 16, 64, torch.randn(4096, 8, 8)
        G, D = LatticeGenerator(8, latent), LatticeDiscriminator()
    else:
        latent, batch, data = 4, 256, torch.randn(20000, 2)
        G, D = mlp([latent, 128, 128, 2]), mlp([2, 128, 128, 1])
    gp = args.variant == "wgan-gp"
    n_critic = 5 if gp else 1
    betas = (0.5, 0.9) if gp else (0.5, 0.999)
    opt_g = torch.optim.Adam(G.parameters(), 1e-4, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), 1e-4, betas=betas)

    def step(s):
        x = data.index_select(0, torch.randint(data.size(0), (batch,)))
        opt_d.zero_grad()
        with torch.no_grad():
            fake = G(torch.randn(batch, latent))
        r, f = D(x), D(fake)
        if gp:
            loss = f.mean() - r.mean()
            eps = torch.rand([batch] + [1] * (x.dim() - 1))
            xh = (eps * x + (1 - eps) * fake).requires_grad_(True)
            g = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)[0]
            loss = loss + 10.0 * ((g.flatten(1).norm(2, 1) - 1) ** 2).mean()
        else:
            loss = F.softplus(-r).mean() + F.softplus(f).mean()
        loss.backward()
        opt_d.step()
        if (s + 1) % n_critic == 0:
            opt_g.zero_grad()
            out = D(G(torch.randn(batch, latent)))
            gl = -out.mean() if gp else F.softplus(-out).mean()
            gl.backward()
            opt_g.step()
        return loss.item()

    for s in range(args.warmup):
        step(s)
    t0 = time.process_time()
    for s in range(args.steps):
        step(s)
    print(f"{args.variant} steps_per_second {args.steps / (time.process_time() - t0):.3f}")


if __name__ == "__main__":
    main()

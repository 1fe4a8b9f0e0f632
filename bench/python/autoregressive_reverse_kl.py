#!/usr/bin/env python3
"""Reference for the autoregressive C++ vs Python benchmark: physgen's VAN and autoregressive
transformer (models/autoregressive/{van,transformer,heads}.cpp) and its reverse-KL loop for
discrete models (models/objectives.cpp, train/trainer.cpp), in Python PyTorch (Debian's
python3-torch, the same LibTorch 1.13 underneath), operation for operation.

Target: the Ising model on a periodic L x L lattice, S(s) = beta H(s),
H = -J sum_<ij> s_i s_j - h sum_i s_i (J = 1, h = 0; lattice/ising.cpp), in float64.

Models (spins s_i = +-1 in raster order, q(s) = prod_i sigmoid(s_i z_i(s_<i)), Z2-symmetrised
q_s(s) = (q(s) + q(-s)) / 2):
  van          masked convolutions with (k+1) x (2k+1) kernels (the first exclusive), PReLU per
               layer, a 1 x 1 head; optional residual / dilated layers. log q: one full pass on
               cat([s, -s]). Sampling: per site, layer l evaluated only on its
               (q_l+1) x (2 q_l+1) cone block of a zero-padded state array (as van.cpp).
  transformer  pre-LN causal transformer, learned row + column embeddings, start token, value
               embedding Linear(1, d), spin head (one logit); sampling with a KV cache.

Training step (reverse KL, score function with the leave-one-out baseline): sample B
configurations (no grad), log q with grad, f = log q (detached) + S in float64,
advantage = (f - mean f) B / (B - 1), loss = surrogate - surrogate.detach() + mean f,
zero_grad, backward, Adam step (lr 1e-3, constant), as physgen's Trainer with ModelTask.

Prints one JSON line: {"model": ..., "steps_per_second": ..., "samples_per_second": ...,
"steps": ..., "threads": ...}. With --check: exactness self-checks on a 3 x 3 lattice in
float64 (sum_s q(s) = 1 for both models; cone / KV-cache samplers reproduce full-pass
site-by-site sampling with the same random numbers), printing {"check": "ok"}.
"""
import argparse
import itertools
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- heads (heads.cpp)

def spin_site_log_prob(outputs, x):
    """log sigmoid(x z) = -softplus(-x z), exact for x = +-1; outputs (..., 1)."""
    return -F.softplus(-x * outputs.select(-1, 0))


def spin_site_sample(outputs):
    with torch.no_grad():
        p = torch.sigmoid(outputs.select(-1, 0))
        return torch.where(torch.rand_like(p) < p, torch.ones_like(p), -torch.ones_like(p))


def z2_symmetrised_log_prob(log_q, log_q_flipped):
    return torch.logaddexp(log_q, log_q_flipped) - math.log(2.0)


def z2_flip(x):
    return x * (1.0 - 2.0 * (torch.rand(x.size(0), 1, 1, dtype=x.dtype) < 0.5).to(x.dtype))


# ---------------------------------------------------------------- VAN (van.cpp)

class Van(nn.Module):
    def __init__(self, H, W, width=32, depth=3, half_kernel=2, residual=False, dilated=False, z2=True,
                 first_half_kernel=0):
        super().__init__()
        self.H, self.W, self.width, self.depth, self.k = H, W, width, depth, half_kernel
        self.k0 = first_half_kernel if first_half_kernel > 0 else half_kernel
        self.residual, self.dilated, self.z2 = residual, dilated, z2
        k, k0 = half_kernel, self.k0
        # (k+1) x (2k+1) masks, last row the site's own row: inclusive (b, layers 2..) and
        # exclusive (a, the first layer, of half size k0).
        mask_b = torch.ones(k + 1, 2 * k + 1)
        mask_b[k, k + 1:] = 0.0
        mask_a = torch.ones(k0 + 1, 2 * k0 + 1)
        mask_a[k0, k0:] = 0.0
        self.register_buffer("mask_a", mask_a)
        self.register_buffer("mask_b", mask_b)
        self.acts = nn.ModuleList()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        # Same initialisation, in the same order of random draws, as VanImpl::reset.
        for l in range(depth):
            cin = 1 if l == 0 else width
            kl = self.half(l)
            fan_in = float(cin) * (mask_a if l == 0 else mask_b).sum().item()
            bound = 1.0 / math.sqrt(fan_in)
            self.weights.append(nn.Parameter(torch.empty(width, cin, kl + 1, 2 * kl + 1).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(width).uniform_(-bound, bound)))
            self.acts.append(nn.PReLU(num_parameters=width))
        bound = 1.0 / math.sqrt(float(width))
        self.head_weight = nn.Parameter(torch.empty(1, width, 1, 1).uniform_(-bound, bound))
        self.head_bias = nn.Parameter(torch.zeros(1))

    def dilation(self, l):
        return (1 << l) if self.dilated else 1

    def half(self, l):
        return self.k0 if l == 0 else self.k

    def reach(self):
        return sum(self.half(l) * self.dilation(l) for l in range(self.depth))

    def net(self, x):
        """Logits (n, 1, H, W) of spins (n, 1, H, W): the full pass."""
        h = x
        for l in range(self.depth):
            d = self.dilation(l)
            k = self.half(l)
            mask = self.mask_a if l == 0 else self.mask_b
            padded = F.pad(h, (k * d, k * d, k * d, 0))
            y = F.conv2d(padded, self.weights[l] * mask, self.biases[l], dilation=d)
            y = self.acts[l](y)
            h = h + y if (self.residual and l > 0) else y
        return F.conv2d(h, self.head_weight, self.head_bias)

    def logits(self, s):
        return self.net(s.to(self.head_weight.dtype).unsqueeze(1)).squeeze(1)

    def site_outputs(self, s):
        return self.logits(s).flatten(1).unsqueeze(-1)

    def log_prob(self, s_in):
        s = s_in.to(self.head_weight.dtype)

        def lq(x):
            return spin_site_log_prob(self.site_outputs(x), x.flatten(1)).sum(1)

        if not self.z2:
            return lq(s)
        n = s.size(0)
        both = lq(torch.cat([s, -s], 0))  # one pass for s and -s
        return z2_symmetrised_log_prob(both.narrow(0, 0, n), both.narrow(0, n, n))

    def sample(self, n, record=None):
        """n exact samples by the cone method (V network calls); `record`, if a list, receives
        each site's logits (n) (for --check only)."""
        with torch.no_grad():
            H, W, R, depth, k = self.H, self.W, self.reach(), self.depth, self.k
            dtype = self.head_weight.dtype
            xp = torch.zeros(n, 1, H + R, W + 2 * R, dtype=dtype)
            inside = torch.zeros(1, 1, H + R, W + 2 * R, dtype=dtype)
            inside[:, :, R:, R:R + W] = 1.0
            q = [0] * depth
            for l in range(depth - 2, -1, -1):
                q[l] = q[l + 1] + self.half(l + 1) * self.dilation(l + 1)
            # the masked kernels, once per call (as van.cpp)
            masked = [self.weights[l] * (self.mask_a if l == 0 else self.mask_b) for l in range(depth)]
            for r in range(H):
                for c in range(W):
                    h = xp[:, :, r:r + R + 1, c:c + 2 * R + 1]
                    for l in range(depth):
                        d = self.dilation(l)
                        shrink = self.half(l) * d
                        y = F.conv2d(h, masked[l], self.biases[l], dilation=d)
                        y = self.acts[l](y)
                        if self.residual and l > 0:
                            y = y + h[:, :, shrink:, shrink:-shrink]
                        off = R - q[l]
                        h = y * inside[:, :, r + off:r + R + 1, c + off:c + off + 2 * q[l] + 1]
                    z = F.conv2d(h, self.head_weight, self.head_bias).flatten()  # (n)
                    if record is not None:
                        record.append(z.clone())
                    xp[:, 0, r + R, c + R] = spin_site_sample(z.unsqueeze(-1))
            x = xp[:, 0, R:, R:R + W].contiguous()
            if self.z2:
                x = z2_flip(x)
            return x

    def sample_and_log_prob(self, n):
        x = self.sample(n)
        return x, self.log_prob(x)


# ---------------------------------------------------------------- transformer (transformer.cpp)

class ArBlock(nn.Module):
    def __init__(self, d_model, heads, ff):
        super().__init__()
        self.d_model, self.heads, self.ff = d_model, heads, ff
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, ff)
        self.fc2 = nn.Linear(ff, d_model)

    def split_heads(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.d_model // self.heads).transpose(1, 2)

    def mlp(self, a):
        return self.fc2(F.gelu(self.fc1(self.ln2(a))))

    def forward(self, h):
        n, T = h.size(0), h.size(1)
        parts = self.qkv(self.ln1(h)).chunk(3, -1)
        # 1/sqrt(d_h) folded into q, as transformer.cpp
        q = self.split_heads(parts[0] * (1.0 / math.sqrt(float(self.d_model // self.heads))))
        k, v = self.split_heads(parts[1]), self.split_heads(parts[2])
        scores = torch.matmul(q, k.transpose(-2, -1))
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, -math.inf)
        att = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(n, T, self.d_model)
        a = h + self.proj(att)
        return a + self.mlp(a)

    def step(self, h, k_cache, v_cache, t):
        n = h.size(0)
        parts = self.qkv(self.ln1(h)).chunk(3, -1)
        q = self.split_heads(parts[0] * (1.0 / math.sqrt(float(self.d_model // self.heads))))
        k_cache.narrow(2, t, 1).copy_(self.split_heads(parts[1]))
        v_cache.narrow(2, t, 1).copy_(self.split_heads(parts[2]))
        k, v = k_cache.narrow(2, 0, t + 1), v_cache.narrow(2, 0, t + 1)
        scores = torch.matmul(q, k.transpose(-2, -1))
        att = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(n, 1, self.d_model)
        a = h + self.proj(att)
        return a + self.mlp(a)


class ArTransformer(nn.Module):
    def __init__(self, H, W, d_model=32, heads=4, layers=2, ff=128, z2=True):
        super().__init__()
        self.H, self.W, self.d, self.nh, self.n_layers, self.z2 = H, W, d_model, heads, layers, z2
        d = d_model
        # Same modules, in the same order of random draws, as ArTransformerImpl::reset.
        self.value_embed = nn.Linear(1, d)
        self.start = nn.Parameter(0.02 * torch.randn(d))
        self.row_embed = nn.Parameter(0.02 * torch.randn(H, d))
        self.col_embed = nn.Parameter(0.02 * torch.randn(W, d))
        self.blocks = nn.ModuleList(ArBlock(d, heads, ff) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.out = nn.Linear(d, 1)  # spin head: one logit
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.zero_()

    def positions(self):
        return (self.row_embed.unsqueeze(1) + self.col_embed.unsqueeze(0)).reshape(self.H * self.W, self.d)

    def site_outputs(self, x_in):
        x = x_in.to(self.start.dtype).flatten(1)  # (n, V)
        n, V = x.size(0), x.size(1)
        prev = self.value_embed(x.narrow(1, 0, V - 1).unsqueeze(-1))  # (n, V-1, d)
        tokens = torch.cat([self.start.view(1, 1, -1).expand(n, 1, self.d), prev], 1)
        h = tokens + self.positions().unsqueeze(0)
        for b in self.blocks:
            h = b(h)
        return self.out(self.ln_f(h))

    def unsymmetrised_log_prob(self, x):
        return spin_site_log_prob(self.site_outputs(x), x.flatten(1)).sum(1)

    def log_prob(self, x_in):
        x = x_in.to(self.start.dtype)
        if not self.z2:
            return self.unsymmetrised_log_prob(x)
        n = x.size(0)
        both = self.unsymmetrised_log_prob(torch.cat([x, -x], 0))
        return z2_symmetrised_log_prob(both.narrow(0, 0, n), both.narrow(0, n, n))

    def sample(self, n, record=None):
        with torch.no_grad():
            H, W, d, nh = self.H, self.W, self.d, self.nh
            V = H * W
            dtype = self.start.dtype
            pos = self.positions()
            kc = [torch.empty(n, nh, V, d // nh, dtype=dtype) for _ in range(self.n_layers)]
            vc = [torch.empty(n, nh, V, d // nh, dtype=dtype) for _ in range(self.n_layers)]
            x = torch.empty(n, V, dtype=dtype)
            token = self.start.view(1, 1, d).expand(n, 1, d)
            for i in range(V):
                h = token + pos[i].view(1, 1, d)
                for l in range(self.n_layers):
                    h = self.blocks[l].step(h, kc[l], vc[l], i)
                outputs = self.out(self.ln_f(h)).squeeze(1)  # (n, 1)
                if record is not None:
                    record.append(outputs.select(-1, 0).clone())
                xi = spin_site_sample(outputs)
                x.select(1, i).copy_(xi)
                token = self.value_embed(xi.view(n, 1, 1))
            x = x.view(n, H, W)
            if self.z2:
                x = z2_flip(x)
            return x

    def sample_and_log_prob(self, n):
        x = self.sample(n)
        return x, self.log_prob(x)


# ---------------------------------------------------------------- target and objective

def ising_action(s, beta, J=1.0, h=0.0):
    """beta H(s) in float64 (lattice/ising.cpp): each periodic bond once."""
    x = s.to(torch.float64)
    bonds = x * (torch.roll(x, 1, 1) + torch.roll(x, 1, 2))
    e = -J * bonds.sum((1, 2))
    if h != 0.0:
        e = e - h * x.sum((1, 2))
    return beta * e


def reverse_kl_loss(model, batch, beta):
    """models/objectives.cpp reverse_kl for a discrete model (action_scale 1)."""
    x, log_q = model.sample_and_log_prob(batch)
    action = ising_action(x, beta)
    f = log_q.detach().to(torch.float64) + action.detach().to(torch.float64)
    B = float(batch)
    advantage = ((f - f.mean()) * (B / (B - 1.0))).to(log_q.dtype)
    surrogate = (advantage * log_q).mean()
    loss = surrogate - surrogate.detach() + f.mean().to(log_q.dtype)
    with torch.no_grad():  # the diagnostics reverse_kl and ModelTask compute every step
        log_weights = (-action - log_q).detach().to(torch.float64)
        kl = -log_weights.mean().item()
        w = torch.exp(log_weights - log_weights.max().item())
        ess = w.sum().item() ** 2 / (w.numel() * (w * w).sum().item())
        log_z = torch.logsumexp(log_weights, 0).item() - math.log(log_weights.numel())
    return loss, kl, ess, log_z


def build(name, L):
    if name == "van":
        return Van(L, L, width=32, depth=3, half_kernel=2, residual=False, dilated=False, z2=True,
                   first_half_kernel=L - 1)
    return ArTransformer(L, L, d_model=32, heads=4, layers=2, ff=128, z2=True)


# ---------------------------------------------------------------- --check

def all_configs(H, W, dtype):
    V = H * W
    bits = torch.tensor(list(itertools.product([0, 1], repeat=V)), dtype=dtype)
    return (2.0 * bits - 1.0).view(-1, H, W)


def full_pass_sample(model, n, record):
    """Site by site from full-pass logits (no cone, no KV cache), the same random numbers."""
    with torch.no_grad():
        H, W = model.H, model.W
        dtype = next(model.parameters()).dtype
        x = torch.zeros(n, H, W, dtype=dtype)
        for r in range(H):
            for c in range(W):
                z = model.site_outputs(x)[:, r * W + c, 0]
                record.append(z.clone())
                x[:, r, c] = spin_site_sample(z.unsqueeze(-1))
        if model.z2:
            x = z2_flip(x)
        return x


def check():
    L, n = 3, 64
    variants = [
        ("van", lambda z2: Van(L, L, z2=z2)),
        ("van residual dilated", lambda z2: Van(L, L, residual=True, dilated=True, z2=z2)),
        ("van k=1 depth=4", lambda z2: Van(L, L, width=8, depth=4, half_kernel=1, z2=z2)),
        ("van k0=L-1", lambda z2: Van(L, L, width=8, depth=3, half_kernel=1, z2=z2, first_half_kernel=L - 1)),
        ("transformer", lambda z2: ArTransformer(L, L, z2=z2)),
    ]
    s = all_configs(L, L, torch.float64)
    for name, make in variants:
        for z2 in (True, False):
            torch.manual_seed(1)
            model = make(z2).double()
            with torch.no_grad():
                # Perturb the near-zero initial head so the conditionals are far from uniform.
                for p in model.parameters():
                    p.add_(0.3 * torch.randn_like(p))
                total = torch.logsumexp(model.log_prob(s), 0).exp().item()
            if abs(total - 1.0) > 1e-10:
                raise AssertionError(f"{name} z2={z2}: sum_s q(s) = {total!r}, not 1")
            # Fast sampler (cone / KV cache) against full-pass site-by-site sampling.
            rec_fast, rec_full = [], []
            torch.manual_seed(7)
            x_fast = model.sample(n, record=rec_fast)
            torch.manual_seed(7)
            x_full = full_pass_sample(model, n, rec_full)
            if not torch.equal(x_fast, x_full):
                raise AssertionError(f"{name} z2={z2}: fast sampler differs from full-pass sampling")
            dz = max((a - b).abs().max().item() for a, b in zip(rec_fast, rec_full))
            if dz > 1e-10:
                raise AssertionError(f"{name} z2={z2}: sampler logits differ from the full pass by {dz}")
            if not bool(((x_fast == 1) | (x_fast == -1)).all()):
                raise AssertionError(f"{name} z2={z2}: samples are not +-1")
    print(json.dumps({"check": "ok"}))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["van", "transformer"], default="van")
    ap.add_argument("--L", type=int, default=16)
    ap.add_argument("--beta", type=float, default=0.4406868)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sample-n", type=int, default=1024)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.check:
        check()
        return
    torch.manual_seed(1)
    model = build(a.model, a.L)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss, _, _, _ = reverse_kl_loss(model, a.batch, a.beta)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0

    model.sample(min(a.sample_n, 8))  # warm-up call, small n
    t1 = time.perf_counter()
    model.sample(a.sample_n)
    ds = time.perf_counter() - t1
    print(json.dumps({"model": a.model, "steps_per_second": a.steps / dt, "samples_per_second": a.sample_n / ds,
                      "steps": a.steps, "threads": a.threads}))


if __name__ == "__main__":
    main()

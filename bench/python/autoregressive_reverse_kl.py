#!/usr/bin/env python3
"""Reference for the autoregressive C++ vs Python benchmark: physgen's VAN, autoregressive
transformer and HAN (models/autoregressive/{van,transformer,han,heads}.cpp, nn/made.cpp) and
its reverse-KL loop for discrete models (models/objectives.cpp, train/trainer.cpp), in Python
PyTorch (Debian's python3-torch, the same LibTorch 1.13 underneath), operation for operation.

Target: the Ising model on a periodic L x L lattice, S(s) = beta H(s),
H = -J sum_<ij> s_i s_j - h sum_i s_i (J = 1, h = 0; lattice/ising.cpp), in float64.

Models (spins s_i = +-1 in raster order, han in its own site order,
q(s) = prod_i sigmoid(s_i z_i(s_<i)), Z2-symmetrised q_s(s) = (q(s) + q(-s)) / 2):
  van          masked convolutions with (k+1) x (2k+1) kernels (the first exclusive), PReLU per
               layer, a 1 x 1 head; optional residual / dilated layers. log q: one full pass on
               cat([s, -s]). Sampling: per site, layer l evaluated only on its
               (q_l+1) x (2 q_l+1) cone block of a zero-padded state array (as van.cpp).
  transformer  pre-LN causal transformer, learned row + column embeddings, start token, value
               embedding Linear(1, d), spin head (one logit); sampling with a KV cache.
  han          hierarchical autoregressive network (han.cpp; L a power of 2), sites in its
               hierarchical order instead of raster order: level 0 the frame (row 0, then
               column 0 rows 1..L-1), then for S = L, L/2, ..., 2 the blocks of side S in
               row-major block order, each drawing its cross (middle row, then middle column
               without the centre) given its 4S frame sites (listed clockwise from the block's
               corner). One MADE per level (nn/made.cpp: 2 hidden ReLU layers of
               max(64, 2 (cross + frame)) units, the frame entering the first hidden layer
               through a bias-free Linear), shared by the blocks of the level. log q: one MADE
               pass per level on the teacher-forced crosses, on cat([s, -s]). Sampling: per
               level the frame's context term once, then per cross position d the hidden layers
               and output row d only (MADEImpl::forward_feature), all blocks of the level in one
               batch; 6L - 5 - 3 log2 L calls per sample.

Training step (reverse KL, score function with the leave-one-out baseline): sample B
configurations (no grad), log q with grad, f = log q (detached) + S in float64,
advantage = (f - mean f) B / (B - 1), loss = surrogate - surrogate.detach() + mean f,
zero_grad, backward, Adam step (lr 1e-3, constant), as physgen's Trainer with ModelTask.

Prints one JSON line: {"model": ..., "steps_per_second": ..., "samples_per_second": ...,
"steps": ..., "threads": ...}. With --check: exactness self-checks in float64, van and
transformer on a 3 x 3 lattice, han on 2 x 2 and 4 x 4 (sum_s q(s) = 1 over all states) and
8 x 8 (sampler only): the cone / KV-cache / per-feature MADE samplers reproduce full-pass
site-by-site sampling (in the model's site order) with the same random numbers; prints
{"check": "ok"}.
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


# ---------------------------------------------------------------- MADE (nn/made.cpp)

class Made(nn.Module):
    """MADEImpl with outputs_per_feature K, the natural ordering (input degrees 1..D) and an
    optional context (C features) entering the first hidden layer through a bias-free Linear."""

    def __init__(self, features, hidden, outputs_per_feature=1, context_features=0, activation="relu"):
        super().__init__()
        D, K = features, outputs_per_feature
        self.D, self.K, self.activation = D, K, activation
        ctx = context_features > 0
        lo = 0 if ctx else 1
        rng = D if ctx else max(1, D - 1)
        prev = [i + 1 for i in range(D)]
        # Same modules, in the same order of random draws, as MADEImpl::reset.
        self.hidden = nn.ModuleList()
        self.n_hidden = len(hidden)
        fan = D
        for l, n in enumerate(hidden):
            deg = [lo + h % rng for h in range(n)]
            m = torch.zeros(n, fan)
            for h in range(n):
                for i in range(fan):
                    m[h, i] = 1.0 if deg[h] >= prev[i] else 0.0
            self.hidden.append(nn.Linear(fan, n))
            self.register_buffer("mask%d" % l, m)
            prev = deg
            fan = n
        self.context = nn.Linear(context_features, hidden[0], bias=False) if ctx else None
        m = torch.zeros(K * D, fan)
        for j in range(K):
            for i in range(D):
                for h in range(fan):
                    m[j * D + i, h] = 1.0 if (i + 1) > prev[h] else 0.0
        self.output = nn.Linear(fan, K * D)
        self.register_buffer("output_mask", m)

    def act(self, h):
        if self.activation == "relu":
            return torch.relu(h)
        if self.activation == "gelu":
            return torch.nn.functional.gelu(h)  # exact (erf) GELU, as torch::gelu in nn/activation.cpp
        raise ValueError(self.activation)

    def context_term(self, context):
        if context is None or self.context is None:
            return None
        return self.context(context)

    def hidden_output(self, x, ctx_term):
        h = x
        for l in range(self.n_hidden):
            lin = self.hidden[l]
            h = torch.addmm(lin.bias, h, (lin.weight * getattr(self, "mask%d" % l)).t())
            if l == 0 and ctx_term is not None:
                h = h + ctx_term
            h = self.act(h)
        return h

    def forward(self, x, context=None):
        h = self.hidden_output(x, self.context_term(context))
        y = torch.addmm(self.output.bias, h, (self.output.weight * self.output_mask).t())
        return y.view(x.size(0), self.K, self.D)

    def forward_feature(self, x, ctx_term, i):
        """Outputs (B, K) of feature i alone (MADEImpl::forward_feature)."""
        h = self.hidden_output(x, ctx_term)
        rows = torch.arange(self.K, dtype=torch.int64) * self.D + i
        w = self.output.weight.index_select(0, rows) * self.output_mask.index_select(0, rows)
        return torch.addmm(self.output.bias.index_select(0, rows), h, w.t())


# ---------------------------------------------------------------- HAN (han.cpp)

class HanLevel:
    def __init__(self, side, blocks, frame, cross, frame_index, cross_index):
        self.side, self.blocks, self.frame, self.cross = side, blocks, frame, cross
        self.frame_index, self.cross_index = frame_index, cross_index


def han_levels(L):
    """build_levels(L) of han.cpp: the frame level, then S = L, L/2, ..., 2."""
    def idx(r, c):
        return ((r % L + L) % L) * L + ((c % L + L) % L)

    levels = []
    cross = [idx(0, c) for c in range(L)] + [idx(r, 0) for r in range(1, L)]
    levels.append(HanLevel(L, 1, 0, 2 * L - 1, None, torch.tensor(cross, dtype=torch.int64)))
    S = L
    while S >= 2:
        h = S // 2
        frame, cross = [], []
        for R in range(0, L, S):
            for C in range(0, L, S):
                # the frame clockwise from the block's corner
                frame += [idx(R, C + j) for j in range(S)]
                frame += [idx(R + j, C + S) for j in range(S)]
                frame += [idx(R + S, C + S - j) for j in range(S)]
                frame += [idx(R + S - j, C) for j in range(S)]
                # the cross: middle row left to right, then middle column top to bottom
                cross += [idx(R + h, C + j) for j in range(1, S)]
                cross += [idx(R + j, C + h) for j in range(1, S) if j != h]
        levels.append(HanLevel(S, (L // S) * (L // S), 4 * S, 2 * S - 3, torch.tensor(frame, dtype=torch.int64),
                               torch.tensor(cross, dtype=torch.int64)))
        S //= 2
    return levels


class Han(nn.Module):
    def __init__(self, L, hidden_layers=2, hidden_factor=2, min_hidden=64, activation="gelu", z2=True):
        super().__init__()
        if L < 2 or (L & (L - 1)) != 0:
            raise ValueError("han: L must be a power of 2 >= 2")
        self.L, self.H, self.W, self.z2 = L, L, L, z2
        V = L * L
        self.lv = han_levels(L)
        self.order = []
        for lv in self.lv:
            self.order += lv.cross_index.tolist()
        # Every site drawn exactly once, and each block's frame before its cross (as HanImpl::reset).
        position = [-1] * V
        for i, site in enumerate(self.order):
            if position[site] >= 0:
                raise AssertionError(f"HAN hierarchy draws site {site} twice")
            position[site] = i
        if len(self.order) != V:
            raise AssertionError(f"HAN hierarchy covers {len(self.order)} of {V} sites")
        for lv in self.lv:
            if lv.frame == 0:
                continue
            first_cross = position[int(lv.cross_index[0])]
            if any(position[f] >= first_cross for f in lv.frame_index.tolist()):
                raise AssertionError(f"HAN level of side {lv.side} conditions on a later site")
        self.inverse_order = torch.tensor(position, dtype=torch.int64)
        self.levels = nn.ModuleList()
        for lv in self.lv:
            width = max(min_hidden, hidden_factor * (lv.cross + lv.frame))
            self.levels.append(Made(lv.cross, [width] * hidden_layers, 1, context_features=lv.frame,
                                    activation=activation))

    def site_order(self):
        return list(self.order)

    def draw_groups(self):
        """The sites drawn together by sample(), in order: per level and cross position d the
        blocks' d-th cross sites (for --check)."""
        groups = []
        for lv in self.lv:
            ci = lv.cross_index.view(lv.blocks, lv.cross)
            for d in range(lv.cross):
                groups.append(ci[:, d].contiguous())
        return groups

    def param_dtype(self):
        return next(self.parameters()).dtype

    def level_logits(self, k, s_flat):
        lv = self.lv[k]
        n = s_flat.size(0)
        x = s_flat.index_select(1, lv.cross_index).view(n * lv.blocks, lv.cross)
        ctx = None
        if lv.frame > 0:
            ctx = s_flat.index_select(1, lv.frame_index).view(n * lv.blocks, lv.frame)
        return self.levels[k](x, ctx).view(n, lv.blocks * lv.cross)

    def logits(self, s_in):
        L = self.L
        s = s_in.to(self.param_dtype()).flatten(1)
        parts = [self.level_logits(k, s) for k in range(len(self.lv))]
        # concatenated in the drawing order; back to raster positions
        return torch.cat(parts, 1).index_select(1, self.inverse_order).view(s.size(0), L, L)

    def site_outputs(self, s):
        return self.logits(s).flatten(1).unsqueeze(-1)

    def log_prob(self, s_in):
        s = s_in.to(self.param_dtype())

        def lq(x):
            return spin_site_log_prob(self.site_outputs(x), x.flatten(1)).sum(1)

        if not self.z2:
            return lq(s)
        n = s.size(0)
        both = lq(torch.cat([s, -s], 0))
        return z2_symmetrised_log_prob(both.narrow(0, 0, n), both.narrow(0, n, n))

    def sample(self, n, record=None):
        """n exact samples: per level the context term once, then one forward_feature call per
        cross position; `record`, if a list, receives each call's logits (n blocks) (--check)."""
        with torch.no_grad():
            L = self.L
            dtype = self.param_dtype()
            s = torch.zeros(n, L * L, dtype=dtype)
            for k, lv in enumerate(self.lv):
                made = self.levels[k]
                ctx = None
                if lv.frame > 0:
                    ctx = s.index_select(1, lv.frame_index).view(n * lv.blocks, lv.frame)
                ctx_term = made.context_term(ctx)
                x = torch.zeros(n * lv.blocks, lv.cross, dtype=dtype)
                for d in range(lv.cross):
                    z = made.forward_feature(x, ctx_term, d)  # (n blocks, 1)
                    if record is not None:
                        record.append(z.select(-1, 0).clone())
                    x.select(1, d).copy_(spin_site_sample(z))
                s.index_copy_(1, lv.cross_index, x.view(n, lv.blocks * lv.cross))
            x = s.view(n, L, L)
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
    if name == "han":
        return Han(L, hidden_layers=2, hidden_factor=2, min_hidden=64, activation="gelu", z2=True)
    return ArTransformer(L, L, d_model=32, heads=4, layers=2, ff=128, z2=True)


# ---------------------------------------------------------------- --check

def all_configs(H, W, dtype):
    V = H * W
    bits = torch.tensor(list(itertools.product([0, 1], repeat=V)), dtype=dtype)
    return (2.0 * bits - 1.0).view(-1, H, W)


def full_pass_sample(model, n, record):
    """Site by site from full-pass logits (no cone, no KV cache, no per-feature MADE), the same
    random numbers: in raster order, or for han in its drawing order, the sites one sample()
    call draws together (a level's blocks) drawn together (n, blocks), sample-major as there."""
    with torch.no_grad():
        H, W = model.H, model.W
        dtype = next(model.parameters()).dtype
        x = torch.zeros(n, H, W, dtype=dtype)
        if hasattr(model, "draw_groups"):
            flat = x.view(n, H * W)
            for sites in model.draw_groups():
                z = model.site_outputs(x).index_select(1, sites)[:, :, 0]  # (n, blocks)
                record.append(z.flatten().clone())
                flat[:, sites] = spin_site_sample(z.unsqueeze(-1))
        else:
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
        # han: (name, make, L, normalisation checked over all 2^(L^2) states)
        ("han L=2", lambda z2: Han(2, z2=z2), 2, True),
        ("han L=4", lambda z2: Han(4, z2=z2), 4, True),
        ("han L=4 3 layers min_hidden 8", lambda z2: Han(4, hidden_layers=3, min_hidden=8, z2=z2), 4, True),
        ("han L=8", lambda z2: Han(8, z2=z2), 8, False),
    ]
    variants = [v if len(v) == 4 else (v[0], v[1], L, True) for v in variants]
    states = {}
    for name, make, Lv, normalisation in variants:
        if normalisation and Lv not in states:
            states[Lv] = all_configs(Lv, Lv, torch.float64)
        for z2 in (True, False):
            torch.manual_seed(1)
            model = make(z2).double()
            with torch.no_grad():
                # Perturb the near-zero initial head so the conditionals are far from uniform.
                for p in model.parameters():
                    p.add_(0.3 * torch.randn_like(p))
                if normalisation:
                    total = torch.logsumexp(model.log_prob(states[Lv]), 0).exp().item()
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
            if len(rec_fast) != len(rec_full) or any(a.shape != b.shape for a, b in zip(rec_fast, rec_full)):
                raise AssertionError(f"{name} z2={z2}: sampler calls differ from the full-pass draws")
            dz = max((a - b).abs().max().item() for a, b in zip(rec_fast, rec_full))
            if dz > 1e-10:
                raise AssertionError(f"{name} z2={z2}: sampler logits differ from the full pass by {dz}")
            if not bool(((x_fast == 1) | (x_fast == -1)).all()):
                raise AssertionError(f"{name} z2={z2}: samples are not +-1")
    print(json.dumps({"check": "ok"}))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["van", "transformer", "han"], default="van")
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

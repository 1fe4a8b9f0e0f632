# %% [markdown]
# # physgen from Python: a notebook in cells
#
# Run it as a script (`/usr/bin/python3 examples/notebook.py [--quick] [--out DIR]`) or open it
# in an editor that understands `# %%` cells (VS Code, Jupytext, Spyder). It needs the module on
# the path: `bash scripts/test.sh` (or `scripts/install-python.sh` after a build) puts it there;
# otherwise `PYTHONPATH=build/python`.
#
# 1. Sweep beta for the 2-D Ising model at L = 16 (Wolff), measure the Binder cumulant U4 and
#    the susceptibility chi with their errors, and plot both against beta with beta_c marked.
# 2. Train a normalizing flow on phi^4 (L = 8, m2 = -4, lambda = 8) by reverse KL, and compare
#    the histogram of its magnetization, raw and Metropolis-corrected, with HMC's.
#
# `--quick` shrinks every run (a smoke test: ctest runs it so the example cannot rot).

# %%
import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import physgen  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="tiny runs (smoke test)")
parser.add_argument("--out", default="physgen-notebook", help="folder for the PNGs and files")
args, _ = parser.parse_known_args()
os.makedirs(args.out, exist_ok=True)
Q = args.quick

# %% [markdown]
# ## 1. Ising: U4 and chi across the transition
#
# U4 = 1 - <m^4> / (3 <m^2>^2) goes from 0 (disordered, Gaussian m) to 2/3 (ordered); its
# finite-size value at beta_c is ~0.61 (for L -> infinity, 0.6107: Salas and Sokal 2000).
# chi = V <m^2> (the |m| form chi_connected peaks near beta_c).

# %%
L = 16
betas = np.linspace(0.36, 0.52, 3 if Q else 9)
rows = []
t0 = time.time()
for beta in betas:
    ens = physgen.simulate_ising(L, beta=float(beta), samples=200 if Q else 4000, chains=4,
                                 therm=100 if Q else 1000, seed=1)
    obs = physgen.measure(ens)
    rows.append((beta, obs["binder"], obs["chi"], obs["chi_connected"]))
    print(f"beta {beta:.3f}  U4 {obs['binder'].mean:.4f} +- {obs['binder'].error:.4f}  "
          f"chi {obs['chi'].mean:.2f} +- {obs['chi'].error:.2f}  "
          f"(tau_int of U4 {obs['binder'].tau_int:.2f})")
print(f"sweep: {time.time() - t0:.1f} s")

fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
b = np.array([r[0] for r in rows])
for k, (name, label) in enumerate([(1, "Binder cumulant $U_4$"), (3, r"$\chi_{conn} = V(\langle m^2\rangle - \langle|m|\rangle^2)$")]):
    ax[k].errorbar(b, [r[name].mean for r in rows], yerr=[r[name].error for r in rows], fmt="o-", capsize=3)
    ax[k].axvline(physgen.BETA_C, color="gray", ls="--", label=r"$\beta_c$")
    ax[k].set_xlabel(r"$\beta$")
    ax[k].set_title(label)
    ax[k].legend()
fig.suptitle(f"2-D Ising, L = {L}, Wolff")
fig.tight_layout()
fig.savefig(os.path.join(args.out, "ising_sweep.png"), dpi=120)
print("wrote", os.path.join(args.out, "ising_sweep.png"))

# %% [markdown]
# ## 2. A flow for phi^4, against HMC
#
# The flow q is trained by reverse KL on the action alone (no data); its samples are biased
# unless corrected. `sample_mcmc` runs independence Metropolis with q as proposal, which is exact
# for p = exp(-S)/Z; its acceptance and the ESS say how good q is.

# %%
target = physgen.Phi4(8, m2=-4.0, lam=8.0)
t0 = time.time()
flow = physgen.train("flow", target=target, steps=100 if Q else 2500, out=os.path.join(args.out, "flow.pt"),
                     progress=not Q)
print(f"trained in {time.time() - t0:.1f} s; ESS {flow.report.get('ess', float('nan')):.3f}")
n = 2000 if Q else 50000
raw = flow.sample(n, seed=2)
chain = flow.sample_mcmc(n, seed=3)
hmc = physgen.simulate_phi4(8, m2=-4.0, lam=8.0, samples=n // 4, chains=4, therm=200 if Q else 1000, seed=4)
print(f"flow MCMC acceptance {chain.report['acceptance']:.3f}, ESS {chain.report['ess']:.3f}")
for name, e in [("HMC", hmc), ("flow MCMC", chain), ("flow (raw)", raw)]:
    o = physgen.measure(e)
    print(f"{name:11s} <|m|> {o['abs_m'].mean:.4f} +- {o['abs_m'].error:.4f}   "
          f"chi_conn {o['chi_connected'].mean:.3f} +- {o['chi_connected'].error:.3f}")

fig, ax = plt.subplots(figsize=(5.5, 3.8))
r = 1.1 * float(hmc.fields.double().mean((1, 2)).abs().max())
bins = np.linspace(-r, r, 41)
for name, e, style in [("HMC", hmc, dict(color="k", lw=2)), ("flow MCMC", chain, dict(color="C1")),
                       ("flow (raw)", raw, dict(color="C0", ls="--"))]:
    m = e.fields.double().mean((1, 2)).numpy()
    ax.hist(m, bins=bins, density=True, histtype="step", label=name, **style)
ax.set_xlabel("magnetization $m = V^{-1}\\sum_x \\phi_x$")
ax.set_ylabel("density")
ax.set_title(r"$\phi^4$, L = 8, $m^2 = -4$, $\lambda = 8$")
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(args.out, "phi4_flow_vs_hmc.png"), dpi=120)
print("wrote", os.path.join(args.out, "phi4_flow_vs_hmc.png"))

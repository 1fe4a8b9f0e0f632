"""physgen: learn and sample the probability distributions of physical systems.

The Python face of the C++ library (LibTorch). Every function here calls the same library
functions as the ``physgen`` command-line tool (include/physgen/api/), so a Python session and
the CLI give the same ensembles, observables and checkpoints for the same seeds, and each can
read what the other writes. Tensors cross the boundary without copies: an ``Ensemble``'s
``fields`` is the tensor the C++ code produced or received.

Ensembles::

    ens = physgen.simulate_ising(16, beta=0.44, samples=2000)   # Wolff, 4 chains
    obs = physgen.measure(ens)            # {"binder": Estimate(mean, error, tau_int), ...}
    ens.save("ising.npy")                 # NPY + JSON sidecar (or "ising.h5": HDF5)
    ens = physgen.load("ising.npy")
    physgen.compare_ensembles(ens, "model_samples.npy")["chi2_per_dof"]   # scattering statistics
    physgen.memorization("model_samples.npy", ens)["memorized_fraction"]   # copies of training fields?

Models::

    model = physgen.train("flow", target=physgen.Phi4(8, m2=-4.0, lam=8.0), steps=2500,
                          out="flow.pt")
    x = model.sample(10000)               # an Ensemble
    chain = model.sample_mcmc(10000)      # Metropolis-corrected; chain.report["acceptance"]
    logq = model.log_prob(x.fields)

Conventions (signs, normalisations, exact results) are those of docs/conventions.md; what
crosses the boundary and what does not is in docs/python.md. Errors raise ValueError (invalid
arguments), OSError (unreadable or malformed files) and KeyboardInterrupt (Ctrl-C during
training; the checkpoint written at the interruption resumes with ``resume=True``).
"""

import math
import os
import tempfile
from collections import namedtuple

import torch  # noqa: F401  (loads libtorch_python before the extension)

from . import _physgen as _C

__all__ = [
    "BETA_C", "Estimate", "Observables", "Ensemble", "Phi4", "Ising", "Model",
    "simulate_ising", "simulate_phi4", "toy", "load", "measure",
    "scattering", "compare_ensembles", "memorization",
    "families", "default_config", "train", "load_model", "set_threads", "version",
]

#: Critical inverse temperature of the 2-D square-lattice Ising model, ln(1 + sqrt 2) / 2
#: (Onsager 1944).
BETA_C = 0.5 * math.log(1.0 + math.sqrt(2.0))

version = _C.version
set_threads = _C.set_threads

Estimate = namedtuple("Estimate", ["mean", "error", "tau_int"])
Estimate.__doc__ = """An observable's estimate: the mean, its statistical error (Gamma method with
autocorrelations, U. Wolff, hep-lat/0306017) and the integrated autocorrelation time tau_int
(0.5 for independent samples)."""


# ---------------------------------------------------------------------------------------------
# Ensembles
# ---------------------------------------------------------------------------------------------

class Ensemble:
    """Samples of a system and what they are.

    ``fields``: a CPU tensor (N, L, L) for lattice systems (Ising int8 spins +-1, phi^4 float)
    or (N, d) for point clouds. ``meta``: the sidecar's metadata (system, params, generator,
    algorithm, seed, chains, samples_per_chain, layout, extra). ``report``: what the producer
    measured on the way (acceptance, ESS, free energies, ...; empty for simulations).

    Constructing one validates ``fields`` against ``meta`` in C++ (shape against params["L"],
    Ising values +-1, finiteness, N = chains * samples_per_chain) and keeps the very tensor
    passed in (no copy).
    """

    def __init__(self, fields, meta, report=None, _validated=False):
        if not isinstance(fields, torch.Tensor):
            raise ValueError(f"argument fields = {type(fields).__name__}: expected a torch.Tensor")
        meta = dict(meta)
        self.fields = fields if _validated else _C.validate_ensemble(fields, meta)
        self.meta = meta
        self.report = dict(report or {})

    @classmethod
    def from_tensor(cls, fields, system, params=None, **meta):
        """An ensemble of independent samples from a tensor of your own: ``system`` ("ising",
        "phi4", or any name for point clouds), ``params`` (lattice systems need "L" and their
        couplings), further sidecar keys as keywords (generator, algorithm, seed, chains,
        samples_per_chain)."""
        n = int(fields.shape[0])
        full = {"system": system, "params": dict(params or {}), "generator": "python",
                "algorithm": "external", "seed": 0, "chains": 1, "samples_per_chain": n}
        full.update(meta)
        return cls(fields, full)

    @property
    def system(self):
        return self.meta["system"]

    @property
    def params(self):
        return self.meta["params"]

    @property
    def chains(self):
        return self.meta["chains"]

    def __len__(self):
        return int(self.fields.shape[0])

    def __repr__(self):
        return (f"Ensemble({self.system}, shape={tuple(self.fields.shape)}, dtype={self.fields.dtype}, "
                f"chains={self.chains}, algorithm={self.meta.get('algorithm')!r})")

    def numpy(self):
        """The fields as a numpy array sharing the tensor's memory."""
        return self.fields.numpy()

    def save(self, path):
        """Writes ``path``: ``.npy`` with its ``.npy.json`` sidecar, or ``.h5`` / ``.hdf5`` (one
        chunked, compressed dataset ``/fields``, the metadata as attributes), atomically; the
        CLI reads either (``physgen measure PATH``)."""
        _C.save_ensemble(os.fspath(path), self.fields, self.meta)
        return path


def load(path):
    """Reads an ensemble written by physgen (``.npy`` + sidecar, or ``.h5``); OSError naming the
    file for a missing, malformed or inconsistent one."""
    fields, meta = _C.load_ensemble(os.fspath(path))
    return Ensemble(fields, meta, _validated=True)


def simulate_ising(L, beta=BETA_C, h=0.0, J=1.0, algo="wolff", samples=1000, chains=4, therm=1000,
                   every=1, seed=1, progress=False):
    """Markov-chain ensemble of the 2-D Ising model on the periodic L x L lattice,
    H = -J sum_<ij> s_i s_j - h sum_i s_i, weight exp(-beta H); ``algo`` "wolff" (Wolff 1989),
    "metropolis" or "heatbath" (multispin kernels). ``chains`` independent chains, ``therm``
    updates discarded, then ``samples`` per chain every ``every`` updates; rows chain-major.
    Same seed, same ensemble as ``physgen simulate ising``. Returns an int8 Ensemble."""
    fields, meta = _C.simulate_ising(L, beta, h, J, algo, samples, chains, therm, every, seed, progress)
    return Ensemble(fields, meta, _validated=True)


def simulate_phi4(L=8, m2=-4.0, lam=8.0, kappa=None, lambda_hop=None, algo="hmc", step_size=0.1,
                  n_steps=10, integrator="omelyan", delta=1.0, hits=1, dtype="float32", samples=1000,
                  chains=4, therm=1000, every=1, seed=1, device="cpu", progress=False):
    """Markov-chain ensemble of 2-D phi^4,
    S = sum_x [sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi_x^2 + lam phi_x^4] (docs/conventions.md),
    or its hopping form with ``kappa`` and ``lambda_hop``. ``algo`` "hmc" (Duane et al. 1987;
    ``step_size``, ``n_steps``, ``integrator`` leapfrog | omelyan) or "metropolis" (``delta``,
    ``hits``). Chains run in float64; stored as ``dtype``. Same seed, same ensemble as
    ``physgen simulate phi4``."""
    fields, meta = _C.simulate_phi4(L, m2, lam, kappa, lambda_hop, algo, step_size, n_steps, integrator,
                                    delta, hits, dtype, samples, chains, therm, every, seed, device, progress)
    return Ensemble(fields, meta, _validated=True)


def toy(name="two-moons", samples=10000, seed=1):
    """Exact samples (samples, 2) of a toy 2-D density: two-moons, 8gaussians, checkerboard,
    rings (data/toy2d.h)."""
    fields, meta = _C.toy(name, samples, seed)
    return Ensemble(fields, meta, _validated=True)


class Observables(dict):
    """``measure``'s result: a dict name -> Estimate, plus ``correlators`` (G(r), C(t),
    m_eff(t) with errors, lattice systems) and ``raw`` (the JSON ``physgen measure --json``
    prints, without the "file" key)."""

    def __init__(self, raw):
        super().__init__({k: Estimate(v["mean"], v["error"], v["tau_int"])
                          for k, v in raw["observables"].items()})
        self.raw = raw
        self.correlators = raw.get("correlator", {})

    def table(self):
        """The table ``physgen measure`` prints."""
        return _C.format_measurement(self.raw)


def measure(ensemble):
    """Observables of an ensemble (or of a file path) with errors and tau_int.

    Lattice systems: m, |m|, m^2, chi = V <m^2>, chi_connected = V (<m^2> - <|m|>^2), the
    Binder cumulant U4 = 1 - <m^4> / (3 <m^2>^2), energy per site (Ising: specific heat),
    with the Gamma method's errors (U. Wolff, hep-lat/0306017) over the ensemble's chains.
    Point clouds: per-coordinate mean and standard deviation of independent samples.
    The same numbers as ``physgen measure FILE --json``."""
    if not isinstance(ensemble, Ensemble):
        ensemble = load(ensemble)
    return Observables(_C.measure(ensemble.fields, ensemble.meta))


def scattering(ensemble, J=0, orientations=4, blocks=0, second_order=True):
    """Wavelet and scattering statistics of an ensemble of 2-D fields (or a file path), each with
    its jackknife error: the wavelet power spectrum, first- and second-order scattering, the
    sparsity S1/sqrt(power) and the scattering-spectra covariances S3, S4 (docs/scattering.md).
    J = 0: log2(L) - 2; blocks = 0: 50, aligned to the ensemble's chains. Returns the dict of
    ``physgen measure --scattering --json``'s ``scattering`` key."""
    if not isinstance(ensemble, Ensemble):
        ensemble = load(ensemble)
    return _C.scattering(ensemble.fields, ensemble.meta, J, orientations, blocks, second_order)


def compare_ensembles(a, b, **options):
    """Statistic-by-statistic comparison of two ensembles (or paths, or results of
    ``scattering``): z-scores, the fraction with |z| < 2 and chi^2/dof, overall and per group;
    the dict of ``physgen compare-ensembles --json``. ``options`` go to ``scattering``."""
    sa = a if isinstance(a, dict) else scattering(a, **options)
    sb = b if isinstance(b, dict) else scattering(b, **options)
    return _C.compare_scattering(sa, sb)


def memorization(generated, train, translations=True, point_group=True, z2=None, threshold=1.0 / 3.0):
    """Are generated fields copies of training fields? For each generated field, the exact
    distance to its nearest and second-nearest training field minimised over the lattice
    translations, rotations / reflections and (z2) the sign flip; memorised when d1/d2 <
    threshold (docs/generalization.md). Ensembles, paths or tensors; z2 = None: on for Ising and
    phi^4 training data. Returns memorized_fraction {mean, error}, ratio_d1_d2 quantiles and the
    tensors d1, d2, index1, index2."""
    def fields(e):
        if isinstance(e, torch.Tensor):
            return e, None
        if not isinstance(e, Ensemble):
            e = load(e)
        return e.fields, e.meta.get("system")
    g, _ = fields(generated)
    t, system = fields(train)
    if z2 is None:
        z2 = _C.has_z2_symmetry(system or "")
    return _C.memorization(g, t, translations, point_group, bool(z2), threshold)


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

class _TargetBase:
    def __init__(self, target):
        self._t = target

    def action(self, x):
        """The action S(x) of a batch (N, L, L), shape (N,); log p(x) = -S(x) - log Z. Built from
        LibTorch operations, so autograd flows through it."""
        return self._t.action(x)

    def force(self, x):
        """dS/dx of a batch (N, L, L), the gradient HMC's momentum update uses (physgen's
        Target::force names the gradient of the action, not its negative); closed form for the
        lattice actions, equal to autograd of ``action``."""
        return self._t.force(x)

    @property
    def params(self):
        return self._t.params

    @property
    def event_shape(self):
        return tuple(self._t.event_shape)

    @property
    def name(self):
        return self._t.name

    def __repr__(self):
        return f"{type(self).__name__}({self.params})"


class Phi4(_TargetBase):
    """The 2-D lattice phi^4 action on the periodic L x L lattice,
    S = sum_x [sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi_x^2 + lam phi_x^4]
    (docs/conventions.md), or the hopping form
    S = sum_x [-2 kappa sum_mu phi_x phi_{x+mu} + (1 - 2 lambda_hop) phi_x^2 + lambda_hop phi_x^4]
    when ``kappa`` and ``lambda_hop`` are given."""

    def __init__(self, L, m2=-4.0, lam=8.0, kappa=None, lambda_hop=None):
        if (kappa is None) != (lambda_hop is None):
            raise ValueError("argument kappa/lambda_hop: expected both (the hopping form) or neither")
        t = (_C.Target.phi4(L, m2, lam) if kappa is None else _C.Target.phi4_hopping(L, kappa, lambda_hop))
        super().__init__(t)


class Ising(_TargetBase):
    """The 2-D Ising model as a target: S(s) = beta H(s), H = -J sum_<ij> s_i s_j - h sum_i s_i on
    the periodic L x L lattice (spins +-1 as floats)."""

    def __init__(self, L, beta=BETA_C, h=0.0, J=1.0):
        super().__init__(_C.Target.ising(L, beta, h, J))

    @property
    def beta(self):
        return self._t.beta


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

def families():
    """The trainable model families (zoo registrations), e.g. flow, cnf, ddpm, van."""
    return list(_C.families())


def default_config(family, shape, config=None):
    """The configuration ``train`` uses for ``family`` on events of ``shape`` (e.g. (8, 8)):
    {"model": {...}, "train": {...}}, the family's defaults deep-merged with ``config``
    (as ``physgen train FAMILY --print-config --config FILE.toml``)."""
    return _C.default_config(family, list(shape), config)


class Model:
    """A trained model: its checkpoint path, its spec (family, options, system) and the samplers.
    ``report`` holds the training report when it came from ``train``."""

    def __init__(self, cpp, path, report=None):
        self._m = cpp
        self.path = path
        self.report = dict(report or {})

    family = property(lambda self: self._m.family)
    system = property(lambda self: self._m.system)
    spec = property(lambda self: self._m.spec)
    event_shape = property(lambda self: tuple(self._m.event_shape))
    has_likelihood = property(lambda self: self._m.has_likelihood)

    def __repr__(self):
        return f"Model({self.family}, system={self.system!r}, path={self.path!r})"

    def sample(self, n, batch=1024, seed=1, **sampler_settings):
        """n independent samples as an Ensemble (``physgen sample``): the family's sampler with
        ``sampler_settings`` (sampler, solver, steps, rtol, atol, eta, condition, guidance).
        For a likelihood model of a known action the report has the importance-sampling ESS and
        free energies per site (Ising at h = 0: against Kaufman's exact value)."""
        x, meta, report = self._m.sample(n, batch, seed, False, sampler_settings, self.path or "")
        return Ensemble(x, meta, report, _validated=True)

    def sample_mcmc(self, n, batch=1024, seed=1, **sampler_settings):
        """A Metropolis-corrected chain of length n (``physgen sample --mcmc``): independence
        Metropolis-Hastings with the model as proposal, exact for the target's distribution.
        ``report`` has "acceptance", "ess" (the proposal's importance-sampling ESS fraction)
        and the free energies."""
        x, meta, report = self._m.sample(n, batch, seed, True, sampler_settings, self.path or "")
        return Ensemble(x, meta, report, _validated=True)

    def log_prob(self, x):
        """log q(x) of a batch (N, *event_shape) under the model (likelihood families only;
        ValueError otherwise)."""
        return self._m.log_prob(x)


def load_model(path, device="cpu"):
    """Loads a checkpoint written by ``train`` or ``physgen train``."""
    path = os.fspath(path)
    return Model(_C.Model.load(path, device), path)


def _as_ensemble(d, what):
    if isinstance(d, Ensemble):
        return d, what
    if isinstance(d, (str, os.PathLike)):
        return load(d), os.fspath(d)
    raise ValueError(f"argument {what} = {type(d).__name__}: expected an Ensemble or a file path")


def _deep_merge(base, extra):
    out = dict(base)
    for k, v in extra.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def train(family, data=None, target=None, config=None, steps=None, batch=None, lr=None, out=None,
          objective="", condition="", data_b=None, resume=False, stop_at=None, seed=1, progress=True,
          device="cpu", csv=None):
    """Trains a model of the zoo (``physgen train FAMILY``) and returns it as a Model.

    Exactly one of ``target`` (a Phi4 or Ising: reverse KL, KL(q || p) - log Z, by
    reparameterisation or the score-function estimator for discrete models) or ``data`` (an
    Ensemble, a path, or a list of them with ``condition``: forward KL / the family's native
    loss). ``config``: {"model": {...}, "train": {...}} deep-merged over the defaults (unknown
    keys are rejected by name); ``steps``, ``batch``, ``lr`` override [train]. ``out``: the
    checkpoint (written atomically; default: a new temporary directory), with its history
    ``out + ".csv"``. ``resume=True`` continues the run whose checkpoint is at ``out``.
    Ctrl-C stops after the current step, writes the checkpoint and raises KeyboardInterrupt.
    ``progress``: the progress bar on a terminal, else (a notebook) a line through sys.stderr
    every 5 seconds and at the end.
    """
    overrides = {k: v for k, v in (("steps", steps), ("batch_size", batch), ("lr", lr)) if v is not None}
    user = _deep_merge(dict(config or {}), {"train": overrides} if overrides else {})
    if out is None:
        out = os.path.join(tempfile.mkdtemp(prefix="physgen-"), f"{family}.pt")
    out = os.fspath(out)
    datasets, names = [], []
    if data is not None:
        items = data if isinstance(data, (list, tuple)) else [data]
        for i, d in enumerate(items):
            e, name = _as_ensemble(d, f"data[{i}]")
            datasets.append((e.fields, e.meta))
            names.append(name)
    if target is not None and not isinstance(target, _TargetBase):
        raise ValueError(f"argument target = {type(target).__name__}: expected physgen.Phi4 or physgen.Ising")
    b = None
    if data_b is not None:
        eb, _ = _as_ensemble(data_b, "data_b")
        b = (eb.fields, eb.meta)
    report = _C.train(family, target._t if target is not None else None, datasets, names, condition, b,
                      user or None, objective, out, csv or "", resume, -1 if stop_at is None else stop_at,
                      seed, progress, device)
    if report["status"] != "finished":
        raise RuntimeError(report.get("message", "training did not finish"))
    return Model(_C.Model.load(out, device), out, report)

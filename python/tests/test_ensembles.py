"""Ensembles and observables: round trips against numpy, the CLI's numbers, zero copies."""
import json
import threading

import numpy as np
import pytest
import torch

import physgen


def test_round_trip_against_numpy(tmp_path):
    ens = physgen.simulate_ising(8, beta=0.4, samples=50, chains=2, therm=20, seed=3)
    assert ens.fields.dtype == torch.int8 and tuple(ens.fields.shape) == (100, 8, 8)
    path = tmp_path / "ising.npy"
    ens.save(path)
    # numpy reads what physgen wrote, element for element; the sidecar is the metadata.
    np.testing.assert_array_equal(np.load(path), ens.numpy())
    side = json.loads((tmp_path / "ising.npy.json").read_text())
    for key in ("system", "params", "algorithm", "seed", "chains", "samples_per_chain"):
        assert side[key] == ens.meta[key]
    back = physgen.load(path)
    assert torch.equal(back.fields, ens.fields) and back.meta["params"] == ens.meta["params"]

    # ... and physgen reads what numpy wrote (a phi^4-like float64 array with our sidecar).
    arr = np.random.default_rng(0).normal(size=(6, 4, 4))
    theirs = physgen.Ensemble.from_tensor(torch.from_numpy(arr), "phi4", {"L": 4, "m2": -4.0, "lambda": 8.0})
    np.save(tmp_path / "np.npy", arr)
    (tmp_path / "np.npy.json").write_text(json.dumps(theirs.meta))
    np.testing.assert_array_equal(physgen.load(tmp_path / "np.npy").numpy(), arr)


def test_zero_copy_both_ways():
    x = (torch.randint(0, 2, (5, 4, 4), dtype=torch.int8) * 2 - 1)
    ens = physgen.Ensemble.from_tensor(x, "ising", {"L": 4, "beta": 0.4, "h": 0.0, "J": 1.0})
    # The tensor went through C++ validation and came back as the same storage.
    assert ens.fields.data_ptr() == x.data_ptr()
    x[0, 0, 0] = -x[0, 0, 0]
    assert ens.fields[0, 0, 0] == x[0, 0, 0]
    assert np.shares_memory(ens.numpy(), x.numpy())


def test_simulate_equals_cli(tmp_path, cli):
    """One library call behind both: same seed, same bytes."""
    out = tmp_path / "cli.npy"
    cli("simulate", "ising", "--L", 8, "--beta", 0.35, "--algo", "metropolis", "--samples", 40, "--chains", 3,
        "--therm", 10, "--every", 2, "--seed", 11, "--out", out)
    py = physgen.simulate_ising(8, beta=0.35, algo="metropolis", samples=40, chains=3, therm=10, every=2, seed=11)
    np.testing.assert_array_equal(np.load(out), py.numpy())
    out = tmp_path / "phi4.npy"
    cli("simulate", "phi4", "--L", 4, "--samples", 30, "--chains", 2, "--therm", 10, "--seed", 5, "--out", out)
    py = physgen.simulate_phi4(4, samples=30, chains=2, therm=10, seed=5)
    np.testing.assert_array_equal(np.load(out), py.numpy())
    # Control: another seed differs (the comparison above can fail).
    other = physgen.simulate_phi4(4, samples=30, chains=2, therm=10, seed=6)
    assert not np.array_equal(np.load(out), other.numpy())


def test_measure_equals_cli(tmp_path, cli):
    path = tmp_path / "ising.npy"
    physgen.simulate_ising(8, samples=400, chains=2, therm=50, seed=2).save(path)
    want = cli("measure", path, "--json", as_json=True)
    got = physgen.measure(physgen.load(path))
    assert set(got) == set(want["observables"])
    for name, est in got.items():
        w = want["observables"][name]
        assert (est.mean, est.error, est.tau_int) == (w["mean"], w["error"], w["tau_int"]), name
    assert got.correlators == want["correlator"]
    # The path form and the table.
    assert physgen.measure(str(path))["binder"] == got["binder"]
    assert "binder" in got.table()
    # Point clouds.
    toy = physgen.toy("8gaussians", samples=2000, seed=4)
    toy.save(tmp_path / "toy.npy")
    want = cli("measure", tmp_path / "toy.npy", "--json", as_json=True)["observables"]
    got = physgen.measure(toy)
    assert got["std_x0"].mean == pytest.approx(want["std_x0"]["mean"], rel=1e-6)


def test_observables_are_right_for_independent_spins():
    """beta = 0 heat-bath spins are independent +-1: <|m|> and chi are known exactly."""
    L = 4
    ens = physgen.simulate_ising(L, beta=0.0, algo="heatbath", samples=4000, chains=2, therm=10, seed=9)
    obs = physgen.measure(ens)
    # chi = V <m^2> = 1 exactly for independent spins.
    assert abs(obs["chi"].mean - 1.0) < 4 * obs["chi"].error


def test_gil_is_released_during_simulation():
    """While C++ simulates in a worker thread, the main thread keeps running Python."""
    done = threading.Event()

    def work():
        physgen.simulate_ising(32, algo="metropolis", samples=600, chains=4, therm=0, seed=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = 0
    while not done.is_set():
        ticks += 1
    t.join()
    # With the GIL held for the whole simulation this loop would get no time slices while the
    # worker runs (a few ticks at most before the worker enters C++).
    assert ticks > 10000


def test_targets_action_and_force():
    L = 4
    x = torch.randn(3, L, L, dtype=torch.float64, requires_grad=True)
    t = physgen.Phi4(L, m2=-4.0, lam=8.0)
    # The action written out independently (docs/conventions.md).
    kin = sum(((torch.roll(x, -1, d) - x) ** 2).sum((1, 2)) for d in (1, 2))
    want = kin + (-4.0 * x**2 + 8.0 * x**4).sum((1, 2))
    got = t.action(x)
    torch.testing.assert_close(got, want)
    (g,) = torch.autograd.grad(got.sum(), x)  # autograd through the C++ action
    torch.testing.assert_close(t.force(x.detach()), g)
    # Control: a wrong coupling does not match.
    assert not torch.allclose(physgen.Phi4(L, m2=-3.0, lam=8.0).action(x), want)

    s = (torch.randint(0, 2, (5, L, L)) * 2 - 1).double()
    ising = physgen.Ising(L, beta=0.3, h=0.1)
    H = -(s * torch.roll(s, 1, 1) + s * torch.roll(s, 1, 2)).sum((1, 2)) - 0.1 * s.sum((1, 2))
    torch.testing.assert_close(ising.action(s), 0.3 * H)
    assert ising.beta == 0.3 and ising.event_shape == (L, L)


def test_errors_are_python_exceptions(tmp_path):
    with pytest.raises(ValueError, match="L"):
        physgen.simulate_ising(1)
    with pytest.raises(ValueError, match="algo"):
        physgen.simulate_ising(8, algo="swendsen")
    with pytest.raises(OSError, match="missing.npy"):
        physgen.load(tmp_path / "missing.npy")
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not an npy file at all")
    (tmp_path / "bad.npy.json").write_text("{}")
    with pytest.raises(OSError, match="bad.npy"):
        physgen.load(bad)
    with pytest.raises(ValueError, match=r"\+-1|1"):
        physgen.Ensemble.from_tensor(torch.zeros(3, 4, 4), "ising", {"L": 4, "beta": 0.4, "h": 0.0, "J": 1.0})
    with pytest.raises(ValueError, match="x"):
        physgen.Phi4(4).action(torch.zeros(2, 5, 5))
    with pytest.raises(ValueError):
        physgen.Ensemble(np.zeros((2, 2)), {})

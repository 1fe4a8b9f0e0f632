"""Scattering statistics and memorization from Python: the same numbers as the CLI, and the
checks the C++ tests make (copies are memorised, fresh fields are not)."""
import pytest
import torch

import physgen


def test_scattering_matches_the_cli(tmp_path, cli):
    ens = physgen.simulate_phi4(L=16, kappa=0.27, lambda_hop=0.022, samples=64, chains=8, therm=200, seed=5)
    path = tmp_path / "a.npy"
    ens.save(path)
    py = physgen.scattering(ens, J=2)
    out = cli("measure", path, "--scattering", "--J", 2, "--json", as_json=True)
    assert py["blocks"] == out["scattering"]["blocks"] == 56  # a multiple of the 8 chains
    for a, b in zip(py["statistics"], out["scattering"]["statistics"]):
        assert a["name"] == b["name"]
        assert a["mean"] == pytest.approx(b["mean"], rel=1e-5, abs=1e-12)
    same = physgen.compare_ensembles(py, py)
    assert same["chi2_per_dof"] == 0.0 and same["fraction_within_2sigma"] == 1.0


def test_memorization_catches_copies_not_fresh_fields():
    train = physgen.simulate_phi4(L=8, samples=100, chains=2, therm=200, seed=1)
    fresh = physgen.simulate_phi4(L=8, samples=20, chains=1, therm=200, seed=2)
    copies = torch.roll(train.fields[:10], shifts=(2, 3), dims=(1, 2)).flip(1)
    r = physgen.memorization(copies, train)
    assert r["memorized_fraction"]["mean"] == 1.0
    # float32 fields: d^2 = |g|^2 + |t|^2 - 2c cancels, so an exact copy's d1 is resolved to
    # ~sqrt(8 eps_32) |g| ~ 1e-3 |g| (float64 inputs give ~1e-8 |g|).
    norm = float(copies.double().flatten(1).norm(dim=1).max())
    assert r["d1"].shape == (10,) and float(r["d1"].max()) < 1e-3 * norm
    assert physgen.memorization(fresh, train)["memorized_fraction"]["mean"] == 0.0
    with pytest.raises(ValueError, match="generated.sizes"):
        physgen.memorization(torch.zeros(3, 4, 4), train)

"""Training and sampling through Python, cross-checked with the CLI in both directions."""
import _thread
import re
import threading

import numpy as np
import pytest
import torch

import physgen

TARGET = dict(L=4, m2=-4.0, lam=8.0)
SMALL_FLOW = {"model": {"n_layers": 2, "hidden": 16}}


def test_families_and_config():
    fams = physgen.families()
    assert {"flow", "ddpm", "van", "vae"} <= set(fams)
    cfg = physgen.default_config("flow", (4, 4))
    assert set(cfg) == {"model", "train"} and cfg["train"]["steps"] > 0
    merged = physgen.default_config("flow", (4, 4), {"train": {"lr": 0.01}})
    assert merged["train"]["lr"] == 0.01 and merged["model"] == cfg["model"]


def test_python_trains_cli_samples(tmp_path, cli):
    out = tmp_path / "flow.pt"
    model = physgen.train("flow", target=physgen.Phi4(**TARGET), steps=30, batch=64, out=out, seed=2,
                          progress=False)
    assert model.report["status"] == "finished" and model.report["steps"] == 30
    assert model.family == "flow" and model.event_shape == (4, 4) and model.has_likelihood
    # The CLI samples the checkpoint Python wrote: the same draws as Python's for the same seed.
    cli("sample", "--model", out, "--n", 300, "--seed", 7, "--out", tmp_path / "cli.npy")
    py = model.sample(300, seed=7)
    np.testing.assert_array_equal(np.load(tmp_path / "cli.npy"), py.numpy())
    assert not np.array_equal(np.load(tmp_path / "cli.npy"), model.sample(300, seed=8).numpy())
    assert 0 < py.report["ess"] <= 1 and "free_energy" in py.report
    # log q of the samples: finite, one per sample; and the corrected chain.
    lq = model.log_prob(py.fields)
    assert lq.shape == (300,) and torch.isfinite(lq).all()
    chain = model.sample_mcmc(500, seed=1)
    assert len(chain) == 500 and 0 < chain.report["acceptance"] <= 1
    want = cli("sample", "--model", out, "--n", 500, "--seed", 1, "--mcmc", "--out", tmp_path / "m.npy", "--json",
               as_json=True)
    assert want["acceptance"] == chain.report["acceptance"]


def test_cli_trains_python_samples(tmp_path, cli):
    data = tmp_path / "toy.npy"
    cli("simulate", "toy", "--name", "8gaussians", "--samples", 2000, "--out", data)
    out = tmp_path / "vae.pt"
    cli("train", "vae", "--data", data, "--steps", 20, "--out", out, "--json")
    model = physgen.load_model(out)
    assert model.family == "vae" and not model.has_likelihood
    cli("sample", "--model", out, "--n", 100, "--seed", 4, "--out", tmp_path / "s.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), model.sample(100, seed=4).numpy())
    with pytest.raises(ValueError, match="log_prob"):
        model.log_prob(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="mcmc"):
        model.sample_mcmc(10)


def test_train_from_python_data_equals_cli(tmp_path, cli):
    """--data from a file and data= an in-memory Ensemble train the same model."""
    ens = physgen.toy("two-moons", samples=1000, seed=3)
    ens.save(tmp_path / "d.npy")
    cli("train", "flow", "--data", tmp_path / "d.npy", "--steps", 15, "--seed", 4, "--out", tmp_path / "c.pt")
    m = physgen.train("flow", data=ens, steps=15, seed=4, out=tmp_path / "p.pt", progress=False)
    x = m.sample(50, seed=1).fields
    y = physgen.load_model(tmp_path / "c.pt").sample(50, seed=1).fields
    assert torch.equal(x, y)


def test_bad_training_requests():
    with pytest.raises(ValueError, match="nope"):
        physgen.train("nope", target=physgen.Phi4(**TARGET), steps=1)
    with pytest.raises(ValueError, match="bogus"):
        physgen.train("flow", target=physgen.Phi4(**TARGET), config={"model": {"bogus": 1}}, steps=1)
    with pytest.raises(ValueError, match="target"):
        physgen.train("flow", steps=1)
    with pytest.raises(ValueError, match="discrete|spins|ising"):
        physgen.train("van", target=physgen.Phi4(**TARGET), steps=1)


def test_ctrl_c_stops_training_cleanly_and_resumes(tmp_path):
    out = tmp_path / "flow.pt"
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt) as info:
        physgen.train("flow", target=physgen.Phi4(**TARGET), steps=10**7, out=out, progress=False)
    timer.cancel()
    step = int(re.search(r"after step (\d+)", str(info.value)).group(1))
    assert step >= 1
    # The checkpoint is valid: it loads, samples, and the run resumes from it.
    assert len(physgen.load_model(out).sample(10)) == 10
    m = physgen.train("flow", target=physgen.Phi4(**TARGET), steps=10**7, stop_at=step + 3, out=out,
                      resume=True, progress=False)
    assert m.report["steps"] == step + 3


def test_progress_lines_without_a_terminal(tmp_path, capsys):
    """In a notebook stderr is no terminal: progress comes as lines through sys.stderr."""
    physgen.train("flow", target=physgen.Phi4(**TARGET), steps=20, out=tmp_path / "f.pt", progress=True)
    assert "train flow: step 20 / 20" in capsys.readouterr().err
    physgen.train("flow", target=physgen.Phi4(**TARGET), steps=20, out=tmp_path / "g.pt", progress=False)
    assert "step" not in capsys.readouterr().err

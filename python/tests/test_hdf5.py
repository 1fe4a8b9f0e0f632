"""HDF5 ensembles from Python: physgen writes, h5py reads, and the other way round."""
import json

import h5py
import numpy as np
import pytest
import torch

import physgen


def test_h5_round_trip_and_h5py(tmp_path):
    ens = physgen.simulate_phi4(4, samples=25, chains=2, therm=10, seed=8)
    h5 = tmp_path / "phi4.h5"
    ens.save(h5)
    assert not (tmp_path / "phi4.h5.json").exists()  # metadata live in the file
    with h5py.File(h5, "r") as f:
        ds = f["fields"]
        assert ds.shape == (50, 4, 4) and ds.dtype == np.float32
        assert ds.chunks is not None and ds.compression == "gzip"
        np.testing.assert_array_equal(ds[...], ens.numpy())
        assert ds.attrs["system"] == "phi4" and ds.attrs["params.L"] == 4
        assert json.loads(ds.attrs["physgen_meta"])["params"] == ens.params
    back = physgen.load(h5)
    assert torch.equal(back.fields, ens.fields) and back.meta["params"] == ens.params
    # Same observables from .h5 and .npy of the same samples.
    ens.save(tmp_path / "phi4.npy")
    a, b = physgen.measure(h5), physgen.measure(tmp_path / "phi4.npy")
    assert a == b


def test_file_written_by_h5py_is_read(tmp_path):
    x = (np.random.default_rng(1).integers(0, 2, size=(6, 4, 4)) * 2 - 1).astype(np.int8)
    path = tmp_path / "theirs.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("fields", data=x)
        for k, v in {"system": "ising", "generator": "h5py", "algorithm": "external", "seed": 0, "chains": 1,
                     "samples_per_chain": 6, "params.L": 4, "params.beta": 0.4, "params.h": 0.0,
                     "params.J": 1.0}.items():
            ds.attrs[k] = v
    ens = physgen.load(path)
    np.testing.assert_array_equal(ens.numpy(), x)
    assert ens.params["beta"] == 0.4
    # Control: without a required key the file is refused, naming the key and the file.
    with h5py.File(path, "a") as f:
        del f["fields"].attrs["seed"]
    with pytest.raises(OSError, match="seed"):
        physgen.load(path)

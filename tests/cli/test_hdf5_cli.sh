#!/usr/bin/env bash
# CLI test of HDF5 ensembles (docs/io.md): `simulate --out FILE.h5` writes the same samples as
# `--out FILE.npy` (same seed), `measure` gives the same result on both, h5py reads the file
# (shape, dtype, attributes, chunking, compression, data equal to the .npy's), a killed
# `simulate --out FILE.h5` resumes to the same data, and malformed .h5 files fail with exit 3.
# Usage: tests/cli/test_hdf5_cli.sh [PATH/TO/physgen]   (default ./build/physgen)
source "$(dirname "$0")/lib.sh" physgen_hdf5_cli "$@"
PY=/usr/bin/python3  # Debian's python3 with h5py and numpy (another python3 may come first on PATH)

ISI="simulate ising --L 16 --algo metropolis --chains 3 --therm 20 --samples 300 --seed 11"
run $PG $ISI --out "$T/is.h5" $C
has "$T/out" "shape \[900, 16, 16\]" "ising to .h5 wrote 3 x 300 configurations"
run $PG $ISI --out "$T/is.npy" $C
run $PG ${ISI/--seed 11/--seed 12} --out "$T/is12.npy" $C
[ -f "$T/is.h5" ] && [ ! -f "$T/is.h5.json" ] && [ ! -f "$T/is.h5.partial" ] && [ ! -f "$T/is.h5.resume" ] \
  && ok "only is.h5 written (no sidecar, partial or resume file)" || bad "files after the .h5 run: $(ls "$T")"

# measure: the .h5 and the .npy of the same run give the same numbers.
run $PG measure "$T/is.h5" --json
cp "$T/out" "$T/m_h5.json"
run $PG measure "$T/is.npy" --json
cp "$T/out" "$T/m_npy.json"
run $PG measure "$T/is12.npy" --json
cp "$T/out" "$T/m_12.json"
same_measure() {  # A B: the --json outputs agree except for the "file" key
  $PY - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for j in (a, b): j.pop("file", None)
sys.exit(0 if a == b else 1)
EOF
}
same_measure "$T/m_h5.json" "$T/m_npy.json" && ok "measure of the .h5 equals measure of the .npy" \
  || bad "measure differs: $(head -c 300 "$T/m_h5.json") vs $(head -c 300 "$T/m_npy.json")"
same_measure "$T/m_12.json" "$T/m_npy.json" && bad "control: seeds 11 and 12 measure the same (no power)" \
  || ok "control: another seed measures differently"

# h5py reads what physgen wrote: layout, attributes, and the very bytes of the .npy.
h5py_check() {  # FILE.h5 FILE.npy: exit 0 if every check passes
  $PY - "$1" "$2" <<'EOF'
import json, sys
import h5py, numpy as np
h5, npy = sys.argv[1:3]
with h5py.File(h5, "r") as f:
    assert list(f.keys()) == ["fields"], list(f.keys())
    d = f["fields"]
    assert d.shape == (900, 16, 16), d.shape
    assert d.dtype == np.int8, d.dtype
    assert d.chunks is not None and d.chunks[1:] == (16, 16), d.chunks
    assert d.compression == "gzip" and d.compression_opts == 4 and d.shuffle, (d.compression, d.shuffle)
    a = d.attrs
    assert a["system"] == "ising" and isinstance(a["system"], str), a["system"]
    assert a["generator"] == "physgen simulate ising", a["generator"]
    assert a["algorithm"] == "metropolis", a["algorithm"]
    assert a["params.L"] == 16 and a["params.L"].dtype == np.int64, a["params.L"]
    assert abs(a["params.beta"] - 0.4406867935097715) < 1e-12, a["params.beta"]
    assert a["seed"] == 11 and a["chains"] == 3 and a["samples_per_chain"] == 300
    assert a["layout"] == "chain-major"
    extra = json.loads(a["extra"])
    assert extra["therm"] == 20, extra
    meta = json.loads(a["physgen_meta"])
    assert meta["params"]["L"] == 16 and meta["chains"] == 3 and "created" in meta, meta
    x = d[...]
ref = np.load(npy)
assert x.dtype == ref.dtype and x.shape == ref.shape, (x.dtype, ref.dtype)
assert x.tobytes() == ref.tobytes(), "the data differ from the .npy"
sidecar = json.load(open(npy + ".json"))
for k in ("system", "params", "generator", "algorithm", "seed", "chains", "samples_per_chain", "layout", "extra"):
    assert meta[k] == sidecar[k], (k, meta[k], sidecar[k])
EOF
}
if h5py_check "$T/is.h5" "$T/is.npy" 2>"$T/err"; then ok "h5py reads is.h5: layout, attributes and data equal to is.npy"
else bad "h5py check: $(tail -3 "$T/err")"; fi
if h5py_check "$T/is.h5" "$T/is12.npy" 2>/dev/null; then bad "control: h5py check passes against another seed's .npy"
else ok "control: the h5py check fails against another seed's .npy"; fi

# A killed `simulate --out FILE.h5` resumes to the same data as an uninterrupted run.
PHI="simulate phi4 --L 8 --chains 3 --therm 50 --seed 7 --snapshot-seconds 0 --samples 6000"
run $PG $PHI --out "$T/ref.npy" $C
$PG $PHI --out "$T/run.h5" $C >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do [ -f "$T/run.h5.resume" ] && break; sleep 0.1; done
sleep 0.5
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
if [ -f "$T/run.h5.partial" ] && [ -f "$T/run.h5.resume" ] && [ ! -f "$T/run.h5" ]; then
  ok "a killed .h5 run keeps run.h5.partial and run.h5.resume"
else bad "after SIGKILL: $(ls "$T")"; fi
expect_error 2 "partial exists" $PG $PHI --out "$T/run.h5" $C
run $PG $PHI --out "$T/run.h5" --resume $C
has "$T/out" "resumed at sample [1-9][0-9]* of 6000" "the resumed .h5 run says where it resumed"
[ ! -f "$T/run.h5.partial" ] && [ ! -f "$T/run.h5.resume" ] && ok "no partial or resume file left" \
  || bad "partial/resume files left: $(ls "$T")"
if $PY -c "
import sys, h5py, numpy as np
x = h5py.File(sys.argv[1], 'r')['fields'][...]
r = np.load(sys.argv[2])
sys.exit(0 if x.dtype == r.dtype and x.tobytes() == r.tobytes() else 1)" "$T/run.h5" "$T/ref.npy" 2>"$T/err"
then ok "killed + resumed phi4 .h5 holds the bytes of the uninterrupted .npy run"
else bad "killed + resumed .h5 differs from the uninterrupted run: $(tail -2 "$T/err")"; fi
run $PG measure "$T/run.h5" --json
has "$T/out" '"chi"' "the resumed .h5 ensemble measures"

# Other writers: a toy point cloud through save_ensemble.
run $PG simulate toy --name two-moons --samples 500 --seed 2 --out "$T/toy.h5" $C
run $PG measure "$T/toy.h5" --json

# Malformed files: exit 3 naming the file.
echo "not hdf5" >"$T/text.h5"
expect_error 3 "text.h5: not an HDF5 file" $PG measure "$T/text.h5"
expect_error 3 "cannot read .*missing.h5: no such file" $PG measure "$T/missing.h5"
$PY -c "
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w') as f:
    d = f.create_dataset('fields', data=np.ones((4, 3, 3), np.int8))
    d.attrs['system'] = 'ising'; d.attrs['params.L'] = 3; d.attrs['generator'] = 'h5py'
    d.attrs['algorithm'] = 'none'; d.attrs['chains'] = 2; d.attrs['samples_per_chain'] = 2
with h5py.File(sys.argv[2], 'w') as f:
    f.create_dataset('samples', data=np.ones((4, 3, 3), np.int8))" "$T/noseed.h5" "$T/nofields.h5"
expect_error 3 "noseed.h5: missing required key 'seed'" $PG measure "$T/noseed.h5"
expect_error 3 "nofields.h5: no dataset '/fields'" $PG measure "$T/nofields.h5"
finish

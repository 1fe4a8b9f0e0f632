#!/usr/bin/env bash
# Installs every Debian 12 package physgen needs to build, test, benchmark and
# run its demo. Idempotent: packages already present are left alone.
# Usage (as root, or with sudo available): scripts/install-deps.sh
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev              # LibTorch 1.13 (CPU): tensors, autograd, nn, optim
  libopenblas0-pthread      # fast BLAS for LibTorch (reference BLAS is ~15x slower)
  libopenblas-dev
  googletest libgtest-dev   # unit / statistical tests (ctest drives gtest)
  libbenchmark-dev          # bench/ micro-benchmarks
  libcli11-dev              # CLI parsing
  libtomlplusplus-dev       # TOML model configs
  nlohmann-json3-dev        # JSON sidecars, --json output, reports
  libstb-dev                # stb_image_write: PNG of field configurations
  gnuplot-nox               # plots (pngcairo terminal)
  python3-torch python3-numpy  # reference loops for benchmarks; numpy-compatibility checks
  libhdf5-dev               # HDF5 ensembles (.h5): one chunked, compressed dataset + attributes
  python3-h5py              # tests: h5py reads the .h5 files physgen writes
  pybind11-dev python3-pybind11  # the Python module (PHYSGEN_BUILD_PYTHON)
  python3-pytest            # python/tests (run by ctest)
  python3-matplotlib        # examples/notebook.py plots
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

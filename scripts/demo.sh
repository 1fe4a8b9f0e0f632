#!/usr/bin/env bash
# Builds the physgen CLI and runs the main job, `physgen demo`, on its defaults.
# Installs its Debian dependencies first (needs root or sudo). Output: ./physgen-demo/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target physgen_cli
./build/physgen demo "$@"

#!/usr/bin/env bash
# Builds physgen (library, CLI, Python module, tests) and runs the default test suite
# (everything but the `long` label; python/tests with pytest is the ctest test python_tests).
# Installs its Debian dependencies first (needs root or sudo).
#   Long statistical runs:  ctest --test-dir build -L long --output-on-failure
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
scripts/install-python.sh build   # `import physgen` for /usr/bin/python3 (a .pth file)
ctest --test-dir build -LE long --output-on-failure -j"$(nproc)"

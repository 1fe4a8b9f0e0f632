#!/usr/bin/env bash
# Builds the unit and contract suites with AddressSanitizer and UndefinedBehaviorSanitizer
# (build-sanitize/, Debug with -O1) and runs them; any sanitizer report fails the run.
# Not part of the default CI (a full sanitized build takes longer than the regular one):
#   bash scripts/sanitize.sh            # unit + contracts
#   bash scripts/sanitize.sh -R Fuzz    # extra ctest arguments, e.g. one group of tests
# LibTorch itself is not instrumented; its own allocations are still checked by ASan's
# interposed malloc, and the leak checker is off (LibTorch keeps global caches alive).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1 -g"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DPHYSGEN_BUILD_BENCH=OFF -DPHYSGEN_BUILD_EXAMPLES=OFF -DPHYSGEN_BUILD_APPS=OFF
cmake --build build-sanitize -j"$(nproc)" --target physgen_unit_tests physgen_contract_tests
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-sanitize -L 'unit|contracts' --output-on-failure -j"$(nproc)" "$@"

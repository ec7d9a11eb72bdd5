#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs every test.
#   bash scripts/test.sh
# Installs the Debian packages (scripts/setup.sh), configures with CMake + ninja into build/,
# builds, and runs all tests with ctest. In CI (CI=true) warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
extra=()
if [[ "${CI:-}" == "true" ]]; then extra+=(-DCMAKE_COMPILE_WARNING_AS_ERROR=ON); fi
cmake -S . -B build -G Ninja "${extra[@]}"
cmake --build build
ctest --test-dir build --output-on-failure -j "$(nproc)"

#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs racksmith's main job on the lab.
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target racksmith
rs=./build/racksmith
echo "== racksmith validate inventory/lab.yaml"
$rs validate inventory/lab.yaml
echo "== racksmith -i inventory/lab.yaml inventory list"
$rs -i inventory/lab.yaml inventory list

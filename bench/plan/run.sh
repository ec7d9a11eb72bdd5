#!/usr/bin/env bash
# Plans a 10,000-node inventory against a matching 10,000-node state store with some drift
# (1 % older drivers, nodes in maintenance and failed, BMC facts with missing GPUs), several
# times, with `racksmith plan --json` from a Release build, and writes bench/results/plan.md.
# Target (DESIGN.md): well under 1 s, peak RSS < 200 MB.
# Usage: bench/plan/run.sh [BUILD_DIR] [RUNS]     (BUILD_DIR default: build-bench-plan)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/lib.sh"
build=${1:-$root/build-bench-plan}
runs=${2:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bench_configure "$build"
# seed_state writes records through the Store API (not a racksmith command).
ninja -C "$build" -j"${JOBS:-2}" racksmith seed_state >/dev/null
cp "$build/bench/seed_state" "$work/seed_state"

# 250 racks x 40 nodes, three profiles, two partitions per A100/H100 node.
python3 - "$work/inventory.yaml" <<'PY'
import sys
out = ["site: bench", "defaults:",
       "  bmc: {driver: redfish, username: admin, password: {env: BMC_PASSWORD}}",
       "  ssh: {user: root, key: ~/.ssh/racksmith_ed25519}",
       "  image: ubuntu-22.04-gpu",
       '  firmware: {bios: "2.19.1", bmc: "7.10.30.00"}',
       '  software: {nvidia_driver: "550.127.05", cuda: "12.4", slurm: "23.11.4", nccl: "2.21.5"}',
       "  mounts: [home, scratch]", "  burnin: standard",
       "profiles:",
       "  base: {hardware: {cpus: 128, drives: [{type: nvme, count: 2, size_gb: 3840}]}, slurm: {partitions: [gpu]}}",
       '  a100: {extends: base, hardware: {gpus: {model: "NVIDIA A100-SXM4-80GB", count: 8}, nvswitch: true, memory_gib: 1024}, slurm: {partitions: [gpu, a100], features: [a100, nvlink]}}',
       '  h100: {extends: base, hardware: {gpus: {model: "NVIDIA H100 80GB HBM3", count: 8}, nvswitch: true, memory_gib: 2048}, slurm: {partitions: [gpu, h100], features: [h100]}}',
       '  l40s: {extends: base, hardware: {gpus: {model: "NVIDIA L40S", count: 4}, memory_gib: 512}, slurm: {features: [l40s]}}',
       "mounts:",
       '  home: {type: nfs, source: "nfs1:/export/home", target: /home, options: [rw, hard]}',
       '  scratch: {type: local, source: /dev/nvme1n1, target: /scratch, options: [noatime]}',
       "racks:"]
profiles = ["a100", "h100", "l40s"]
for r in range(250):
    a, b = 10 + r // 200, r % 200
    out.append("  - name: r%03d" % r)
    out.append("    nodes:")
    out.append('      - {name: "gpu-r%03d-n[01-40]", profile: %s, bmc: "10.%d.%d.[1-40]", ip: "10.%d.%d.[101-140]"}'
               % (r, profiles[r % 3], a, b, a + 100, b))
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
"$work/seed_state" "$work/inventory.yaml" "$work/state.db" >/dev/null

"$build/racksmith" -i "$work/inventory.yaml" --state "$work/state.db" plan --json > "$work/plan.json"
summary=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(", ".join("%s %s" % (k, v) for k, v in s.items()))' "$work/plan.json")
# Two runs of the same plan must be byte-identical.
"$build/racksmith" -i "$work/inventory.yaml" --state "$work/state.db" plan --json > "$work/plan2.json"
cmp -s "$work/plan.json" "$work/plan2.json" && same=yes || same=NO

measure() {  # name, command...
  local name=$1; shift
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M %x" -o "$work/t" "$@" > /dev/null
    tail -1 "$work/t" >> "$work/times.$name"
  done
}
measure plan_json "$build/racksmith" -i "$work/inventory.yaml" --state "$work/state.db" plan --json
measure plan_text "$build/racksmith" -i "$work/inventory.yaml" --state "$work/state.db" plan
measure validate "$build/racksmith" validate "$work/inventory.yaml"
# Peak RSS in detail (/usr/bin/time -v) for the main measurement.
/usr/bin/time -v "$build/racksmith" -i "$work/inventory.yaml" --state "$work/state.db" plan --json \
  2> "$work/verbose" > /dev/null
peak=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/verbose")

btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
stats() { bench_stats "$@"; }  # median | min | max | cpu median | peak RSS MiB
mkdir -p "$root/bench/results"
{
  echo "# Plan: 10,000-node inventory against a 10,000-node state store"
  echo
  echo "$(date -u +%F) on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)),"\
       "$(free -g | awk '/Mem:/{print $2}') GiB, $(g++ --version | head -1), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?')."
  echo "$btype build ($(basename "$build")). $runs runs each; wall time includes process start, loading the"
  echo "inventory YAML, reading the store and printing. The machine is shared: absolute times are hints."
  echo
  echo "Workload: 250 racks x 40 nodes (3 profiles), state store with every component recorded;"
  echo "drift: 100 older drivers, 20 nodes in maintenance, 10 failed, 500 BMC reports (10 missing a GPU),"
  echo "5 nodes only in the store. Plan: $summary. Same plan twice byte-identical: $same."
  echo "JSON plan: $(wc -c < "$work/plan.json") bytes."
  echo
  echo "| command | median s | min s | max s | CPU s (median) | peak RSS MiB |"
  echo "|---|---|---|---|---|---|"
  echo "| racksmith plan --json | $(stats "$work/times.plan_json") |"
  echo "| racksmith plan (text) | $(stats "$work/times.plan_text") |"
  echo "| racksmith validate (inventory load only, for reference) | $(stats "$work/times.validate") |"
  echo
  echo "Peak RSS of \`plan --json\` from /usr/bin/time -v: $((peak / 1024)) MiB."
  echo "Target: well under 1 s and under 200 MB."
} > "$root/bench/results/plan.md"
cat "$root/bench/results/plan.md"

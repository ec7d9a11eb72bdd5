#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs racksmith's main job on the lab:
# a simulated rack of 16 GPU nodes on 127.0.x.y (real sshd per node, simulated Redfish BMCs
# and GPU tools). Validates the inventory, brings the lab up, checks power and hardware
# over Redfish, runs a command on every node over SSH, prints the plan that would take the
# rack to the inventory, and dry-runs a playbook. The lab is stopped at the end.
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target racksmith
rs=./build/racksmith
inv=inventory/lab.yaml
# The lab BMCs accept this password; the inventory only names the variable.
export RACKSMITH_LAB_BMC_PASSWORD=${RACKSMITH_LAB_BMC_PASSWORD:-lab-$RANDOM$RANDOM}
export RACKSMITH_STATE=${RACKSMITH_STATE:-lab-run/state.db}
step() { printf '\n== %s\n' "$*"; }

step "racksmith validate $inv"
$rs validate "$inv"
step "racksmith -i $inv inventory list"
$rs -i "$inv" inventory list
step "racksmith -i $inv lab up   (16 nodes, BMCs on 127.0.1.x, SSH on 127.0.2.x)"
$rs -i "$inv" lab up --speed 20
trap '$rs lab down >/dev/null 2>&1 || true' EXIT
step "racksmith bmc power status all   (Redfish, one libcurl loop for every BMC)"
$rs -i "$inv" bmc power status all
step "racksmith bmc inventory lab-n09   (hardware found vs the profile)"
$rs -i "$inv" bmc inventory lab-n09
step "racksmith exec all -- nvidia-smi --query-gpu=name --format=csv,noheader   (SSH; identical output grouped)"
$rs -i "$inv" exec all -- nvidia-smi --query-gpu=name --format=csv,noheader
step "racksmith plan   (what apply would do, and why)"
$rs -i "$inv" plan
step "racksmith playbook run playbooks/mounts.yaml @rack:lab-r01 --check   (dry run, diffs)"
$rs -i "$inv" playbook run playbooks/mounts.yaml @rack:lab-r01 --check
step "racksmith status"
$rs -i "$inv" status
step "racksmith lab down"
$rs lab down
trap - EXIT

#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs racksmith's main job on the lab:
# a simulated rack of 16 GPU nodes on 127.0.x.y (real sshd per node, simulated Redfish BMCs
# and GPU tools, a real slurmctld with a slurmd per node). Validates the inventory, brings
# the lab up, checks power and hardware over Redfish, runs a command over SSH, gives one
# node a faulty GPU, then plans and applies: every node goes through discovery, firmware,
# imaging through its BMC, driver, CUDA, Slurm and mounts playbooks, burn-in and admission
# into Slurm; the faulty node ends in `failed` with its reason. Then a driver upgrade in the
# inventory is planned and applied in rolling waves, and a hand edit on one node is found
# by `plan --refresh` and put right. The lab is stopped at the end.
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
export RACKSMITH_STATE=lab-run/state.db
step() { printf '\n== %s\n' "$*"; }

# The demo starts from a fresh lab and state each time (its own folder, ./lab-run).
if [[ -d lab-run ]]; then
  $rs lab down >/dev/null 2>&1 || true
  rm -rf lab-run
fi

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
step "racksmith lab fault lab-n05 gpu-missing   (one node loses a GPU: burn-in must catch it)"
$rs lab fault lab-n05 gpu-missing
step "racksmith plan all   (what apply would do, and why)"
$rs -i "$inv" plan all
export RACKSMITH_SLURM_CONF=$PWD/lab-run/slurm/slurm.conf
step "racksmith apply all --yes   (the whole lifecycle; lab-n05 must end in failed)"
rc=0
$rs -i "$inv" apply all --yes || rc=$?
[[ $rc -eq 1 ]] || { echo "expected exit 1 (one node failed), got $rc" >&2; exit 1; }
step "racksmith status"
$rs -i "$inv" status
step "racksmith history lab-n05"
$rs -i "$inv" history lab-n05
step "sinfo -N   (the real slurmctld: 14 nodes admitted; lab-n05 failed and lab-n16, in maintenance, stay drained)"
SLURM_CONF=$RACKSMITH_SLURM_CONF sinfo -N -o '%N %t %E' | head -20
step "racksmith plan all   (converged: nothing to do, lab-n05 held as failed)"
$rs -i "$inv" plan all
upgraded=lab-run/inventory-upgrade.yaml
sed 's/nvidia_driver: "550.127.05"/nvidia_driver: "550.144.03"/' "$inv" > "$upgraded"
step "nvidia_driver 550.127.05 -> 550.144.03: racksmith plan all   (rolling: drain, driver, burn-in, admit)"
$rs -i "$upgraded" plan all --max-unavailable-partition 50%
step "racksmith apply all --yes   (only the driver and what depends on it, in waves)"
$rs -i "$upgraded" apply all --yes --max-unavailable-partition 50%
step "drift: a hand edit of lab-n03's slurm.conf; racksmith plan all --refresh   (reads every BMC and node)"
$rs -i "$upgraded" exec lab-n03 -- "echo '# hand edit' >> /etc/slurm/slurm.conf"
$rs -i "$upgraded" plan all --refresh --max-unavailable-partition 50%
step "racksmith apply all --refresh --yes   (writes the file back, drain to admit)"
$rs -i "$upgraded" apply all --refresh --yes --max-unavailable-partition 50%
step "racksmith plan all --refresh   (nothing left to do, nothing drifted)"
$rs -i "$upgraded" plan all --refresh --max-unavailable-partition 50%
step "racksmith lab down"
$rs lab down
trap - EXIT

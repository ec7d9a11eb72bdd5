#!/usr/bin/env bash
# Generates a 10,000-node inventory (100 racks x 100 nodes, 6 profiles, one entry per node with
# its own ip, bmc and mac) and the equivalent Ansible YAML inventory (groups per rack and per
# profile, profile settings as group vars, per-node host vars), then times in the same run:
#   racksmith validate, racksmith inventory list --json, ansible-inventory -i ... --list
# and writes bench/results/inventory.md. Needs `bash scripts/setup.sh --bench` (ansible-core).
# Usage: bench/inventory/run.sh [BUILD_DIR] [RUNS]
#   BUILD_DIR defaults to build-bench-inv, configured and built here in Release.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench-inv}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -x "$build/racksmith" || -z "${1:-}" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DRACKSMITH_BUILD_TESTS=OFF >/dev/null
  ninja -C "$build" racksmith >/dev/null
fi

python3 - "$work" <<'PY'
import sys, json
w = sys.argv[1]
profiles = {
  "a100x8":   {"model": "NVIDIA A100-SXM4-80GB", "count": 8, "mem": 1024, "cpus": 128, "cuda": "12.4", "part": "a100", "feat": ["a100", "nvlink"]},
  "h100x8":   {"model": "NVIDIA H100 80GB HBM3", "count": 8, "mem": 2048, "cpus": 192, "cuda": "12.6", "part": "h100", "feat": ["h100", "nvlink"]},
  "v100x8":   {"model": "Tesla V100-SXM2-32GB", "count": 8, "mem": 512, "cpus": 80, "cuda": "12.2", "part": "v100", "feat": ["v100"]},
  "rtx3090x4": {"model": "NVIDIA GeForce RTX 3090", "count": 4, "mem": 256, "cpus": 64, "cuda": "12.4", "part": "rtx", "feat": ["rtx3090"]},
  "l40sx4":   {"model": "NVIDIA L40S", "count": 4, "mem": 512, "cpus": 96, "cuda": "12.4", "part": "l40s", "feat": ["l40s"]},
}
names = list(profiles)

# --- racksmith ---
r = ["site: bench", "defaults:",
     "  bmc: {driver: redfish, username: admin, password: {env: BMC_PASSWORD}}",
     "  ssh: {user: root, key: ~/.ssh/racksmith_ed25519}",
     "  image: ubuntu-22.04-gpu",
     "  firmware: {bios: \"2.19.1\", bmc: \"7.10.30.00\"}",
     "  software: {nvidia_driver: \"550.127.05\", slurm: \"23.11.4\"}",
     "  mounts: [home, scratch]",
     "  burnin: standard",
     "  vars: {monitoring: {prometheus: true, node_exporter_port: 9100}}",
     "profiles:",
     "  gpu-base:",
     "    slurm: {partitions: [gpu]}",
     "    hardware: {nvswitch: false, drives: [{type: nvme, count: 2, size_gb: 3840}]}"]
for p, v in profiles.items():
    r += [f"  {p}:", "    extends: gpu-base",
          f"    hardware: {{gpus: {{model: \"{v['model']}\", count: {v['count']}}}, memory_gib: {v['mem']}, cpus: {v['cpus']}}}",
          f"    software: {{cuda: \"{v['cuda']}\"}}",
          f"    slurm: {{partitions: [gpu, {v['part']}], features: [{', '.join(v['feat'])}]}}"]
r += ["mounts:",
      "  home: {type: nfs, source: \"10.0.0.2:/export/home\", target: /home, options: [rw, hard]}",
      "  scratch: {type: local, source: /dev/nvme0n1, target: /scratch, options: [noatime]}",
      "racks:"]
a = {"all": {"vars": {"ansible_user": "root", "ansible_ssh_private_key_file": "~/.ssh/racksmith_ed25519",
                      "bmc_driver": "redfish", "bmc_username": "admin", "bmc_password_env": "BMC_PASSWORD",
                      "image": "ubuntu-22.04-gpu", "firmware": {"bios": "2.19.1", "bmc": "7.10.30.00"},
                      "software": {"nvidia_driver": "550.127.05", "slurm": "23.11.4"},
                      "mounts": [{"name": "home", "type": "nfs", "source": "10.0.0.2:/export/home", "target": "/home", "options": ["rw", "hard"]},
                                 {"name": "scratch", "type": "local", "source": "/dev/nvme0n1", "target": "/scratch", "options": ["noatime"]}],
                      "burnin": "standard", "monitoring": {"prometheus": True, "node_exporter_port": 9100}},
             "children": {}}}
groups = a["all"]["children"]
for p, v in profiles.items():
    groups["profile_" + p.replace("-", "_")] = {"hosts": {}, "vars": {
        "hardware": {"gpus": {"model": v["model"], "count": v["count"]}, "memory_gib": v["mem"], "cpus": v["cpus"],
                     "nvswitch": False, "drives": [{"type": "nvme", "count": 2, "size_gb": 3840}]},
        "cuda": v["cuda"], "slurm": {"partitions": ["gpu", v["part"]], "features": v["feat"]}}}
for rack in range(100):
    rn = f"r{rack:03d}"
    r += [f"  - name: {rn}", f"    location: hall {rack // 20 + 1}", f"    position: {rack % 20 + 1}", "    height: 100", "    nodes:"]
    rg = groups.setdefault("rack_" + rn, {"hosts": {}})
    for i in range(100):
        n = rack * 100 + i
        name = f"gpu-{rn}-n{i:03d}"
        p = names[n % len(names)] if n % 17 else "h100x8"
        ip = f"10.{10 + rack // 50}.{rack % 50 * 5 + i // 50}.{i % 50 + 1}"
        bmc = f"10.{20 + rack // 50}.{rack % 50 * 5 + i // 50}.{i % 50 + 1}"
        mac = "02:00:%02x:%02x:%02x:%02x" % (rack >> 8, rack & 255, i >> 8, i & 255)
        extra = ", state: maintenance, reason: GPU replaced" if n % 97 == 0 else ""
        r.append(f"      - {{name: {name}, profile: {p}, unit: {i + 1}, ip: {ip}, bmc: {bmc}, mac: \"{mac}\"{extra}}}")
        hv = {"ansible_host": ip, "bmc_address": bmc, "mac": mac, "rack": rn, "unit": i + 1}
        if extra: hv.update({"state": "maintenance", "reason": "GPU replaced"})
        rg["hosts"][name] = hv
        groups["profile_" + p]["hosts"][name] = None
open(w + "/racksmith.yaml", "w").write("\n".join(r) + "\n")
import yaml
yaml.safe_dump(a, open(w + "/ansible.yaml", "w"), default_flow_style=False, sort_keys=False)
PY

measure() {  # name, command...
  local name=$1; shift
  for i in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" > "$work/out.$name" 2> "$work/err.$name" || {
      echo "$name failed:"; cat "$work/err.$name"; exit 1; }
    cat "$work/t" >> "$work/times.$name"
  done
}
measure validate "$build/racksmith" validate "$work/racksmith.yaml"
measure list "$build/racksmith" -i "$work/racksmith.yaml" inventory list --json
measure ansible ansible-inventory -i "$work/ansible.yaml" --list

nodes_rs=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/out.list")
nodes_an=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['_meta']['hostvars']))" "$work/out.ansible")

median() { sort -n "$1" | awk '{t[NR]=$1} END{print t[int((NR+1)/2)]}'; }
cpu_median() { awk '{print $2 + $3}' "$1" | sort -n | awk '{c[NR]=$1} END{print c[int((NR+1)/2)]}'; }
stats() {  # median | min | max | median CPU (user+sys) | peak RSS MiB
  local cpu
  cpu=$(awk '{print $2 + $3}' "$1" | sort -n | awk '{c[NR]=$1} END{printf "%.3f", c[int((NR+1)/2)]}')
  sort -n -k1 "$1" | awk -v cpu="$cpu" '{t[NR]=$1; m=($4>m?$4:m)}
    END {printf "%.3f | %.3f | %.3f | %s | %.1f", t[int((NR+1)/2)], t[1], t[NR], cpu, m/1024}'
}
mkdir -p "$root/bench/results"
v=$(median "$work/times.validate"); l=$(median "$work/times.list"); a=$(median "$work/times.ansible")
cv=$(cpu_median "$work/times.validate"); cl=$(cpu_median "$work/times.list"); ca=$(cpu_median "$work/times.ansible")
rss=$(sort -n -k4 "$work/times.list" | tail -1 | awk '{printf "%.1f", $4/1024}')
{
  echo "# Inventory: 10,000 nodes, validated and resolved"
  echo
  echo "$(date -u +%F) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"\
       "$(free -g | awk '/Mem:/{print $2}') GiB; $(g++ --version | head -1); binary ${build#$root/}/racksmith;"\
       "$("$build/racksmith" --version); $(ansible-inventory --version | head -1), Python"\
       "$(python3 -c 'import sys;print(sys.version.split()[0])'). $runs runs each, all in the same run of"\
       "this script; wall time includes process start. The machine is shared: absolute times"\
       "are hints, the ratio is the measurement."
  echo
  echo "Workload: 100 racks x 100 nodes, 6 profiles (5 extending a base), one entry per node"
  echo "with its own ip, bmc and mac (no hostlist shortcuts), 2 mounts, 104 nodes in maintenance."
  echo "racksmith YAML $(wc -c < "$work/racksmith.yaml") bytes; Ansible YAML $(wc -c < "$work/ansible.yaml") bytes"\
       "(groups per rack and per profile, profile settings as group vars)."
  echo "Nodes resolved: racksmith $nodes_rs, ansible-inventory $nodes_an."
  echo
  echo "| command | median s | min s | max s | CPU s (median) | peak RSS MiB |"
  echo "|---|---|---|---|---|---|"
  echo "| racksmith validate | $(stats "$work/times.validate") |"
  echo "| racksmith inventory list --json | $(stats "$work/times.list") |"
  echo "| ansible-inventory --list | $(stats "$work/times.ansible") |"
  echo
  echo "Targets: validated and resolved < 0.3 s (inventory list --json median: $l s);"\
       ">= 20x faster than ansible-inventory ($(python3 -c "print('%.1fx' % ($a / max($l, 1e-3)))") for list --json,"\
       "$(python3 -c "print('%.1fx' % ($a / max($v, 1e-3)))") for validate); peak RSS < 150 MB ($rss MiB)."
  echo
  echo "CPU time (user+sys, median), less sensitive to other load on a shared machine:"\
       "validate $cv s, list --json $cl s, ansible-inventory $ca s"\
       "($(python3 -c "print('%.1fx' % ($ca / max($cl, 1e-3)))") for list --json)."
} > "$root/bench/results/inventory.md"
cat "$root/bench/results/inventory.md"

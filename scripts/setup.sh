#!/usr/bin/env bash
# Installs every Debian 12 package racksmith needs to build, test and run its lab.
# Idempotent: packages already present are skipped by apt-get; safe to run again.
# Usage: scripts/setup.sh [--bench]   (--bench also installs the peers the benchmarks run)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  libssh-dev libcurl4-openssl-dev libvirt-dev libyaml-cpp-dev libyaml-dev libsqlite3-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libssl-dev
  libcpp-httplib-dev catch2 python3 python3-jinja2 python3-yaml
)
lab_pkgs=(openssh-server openssh-client bubblewrap slurm-client slurm-wlm munge sqlite3 openssl)
bench_pkgs=(pdsh clustershell ansible-core python3-sushy redfishtool hyperfine time
            clang libfuzzer-14-dev)

want=("${build_pkgs[@]}" "${lab_pkgs[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Services from these packages (munge, slurmctld, sshd) are started by the lab itself,
# never by the package scripts: policy-rc.d keeps apt from starting them.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Fan-out over SSH: racksmith exec against pdsh, clush and ansible (ad-hoc, pipelining on),
# in the same run, on 10, 50 and 200 lab nodes (real OpenSSH sshd per node on 127.0.2.x),
# running `true` and a command printing ~1 MB; then 10 commands per node in sequence
# (racksmith playbook over one pooled connection against ansible-playbook).
# Writes bench/results/fanout.md from bench/results/fanout.rows, in which a run replaces the
# rows of the sizes it measured and keeps the others (so 200 nodes can be run on its own).
# Usage: bench/fanout/run.sh [BUILD_DIR] [RUNS] [SIZES]   e.g. build-release 3 "10 50 200"
# Needs: bash scripts/setup.sh --bench (pdsh, clustershell, ansible-core, time).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/lib.sh"
build=${1:-$root/build}
runs=${2:-3}
sizes=${3:-"10 50 200"}
rs=$build/racksmith
port=2480
fanout=64
work=$(mktemp -d /tmp/racksmith-fanout.XXXXXX)
lab="$work/lab"
cleanup() { "$rs" lab --dir "$lab" down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

for tool in pdsh clush ansible ansible-playbook; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh --bench" >&2; exit 2; }
done

max=$(tr ' ' '\n' <<<"$sizes" | sort -n | tail -1)
"$rs" lab --dir "$lab" up --nodes "$max" --port "$port" >/dev/null
key="$lab/keys/client_ed25519"
ssh_opts="-p $port -i $key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
export PDSH_SSH_ARGS_APPEND="$ssh_opts"
export ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_STDOUT_CALLBACK=minimal \
       ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=$work/cp-%%h"
big='seq 1 150000'  # 1,038,894 bytes

# The 10-step sequence, for racksmith's playbook engine and for ansible-playbook.
{
  echo "- name: ten steps"
  echo "  hosts: all"
  echo "  gather_facts: false"
  echo "  tasks:"
  for i in $(seq 10); do echo "    - {name: step $i, command: \"echo step $i\"}"; done
} > "$work/ten.ansible.yaml"
{
  echo "tasks:"
  for i in $(seq 10); do echo "  - {name: step $i, command: \"echo step $i\"}"; done
} > "$work/ten.racksmith.yaml"

results="$work/rows"
: > "$results"
for n in $sizes; do
  hosts="127.0.2.[1-$n]"
  seq -f "127.0.2.%g" 1 "$n" > "$work/hosts.$n"
  {
    for i in $(seq "$n"); do
      echo "lab-n$i ansible_host=127.0.2.$i ansible_port=$port ansible_user=root ansible_ssh_private_key_file=$key"
    done
  } > "$work/inv.$n"
  state="$work/state.$n.db"
  # Record the host keys once (trust on first use), outside the timed runs.
  "$rs" --state "$state" exec --hosts "$hosts" --port "$port" --key "$key" -- true >/dev/null
  for what in true big; do
    cmd=true; [[ $what == big ]] && cmd=$big
    for r in $(seq "$runs"); do
      bench_time "$work/t.$n.$what.racksmith" "$rs" --state "$state" exec --hosts "$hosts" \
        --port "$port" --key "$key" -f "$fanout" -- $cmd
      bench_time "$work/t.$n.$what.pdsh" pdsh -R ssh -l root -f "$fanout" -w "^$work/hosts.$n" $cmd
      bench_time "$work/t.$n.$what.clush" clush -l root -f "$fanout" -o "$ssh_opts" \
        -w "$(paste -sd, "$work/hosts.$n")" $cmd
      bench_time "$work/t.$n.$what.ansible" ansible all -i "$work/inv.$n" -f "$fanout" \
        -m command -a "$cmd"
    done
    for tool in racksmith pdsh clush ansible; do
      echo "$n|$what|$tool|$(bench_stats "$work/t.$n.$what.$tool" | tr -d " ")|$(bench_failures "$work/t.$n.$what.$tool")" >> "$results"
    done
  done
  for r in $(seq "$runs"); do
    bench_time "$work/t.$n.ten.racksmith" "$rs" --state "$state" playbook run \
      "$work/ten.racksmith.yaml" --hosts "$hosts" --port "$port" --key "$key" -f "$fanout"
    bench_time "$work/t.$n.ten.ansible" ansible-playbook -i "$work/inv.$n" -f "$fanout" \
      "$work/ten.ansible.yaml"
  done
  for tool in racksmith ansible; do
    echo "$n|10 steps|$tool|$(bench_stats "$work/t.$n.ten.$tool" | tr -d " ")|$(bench_failures "$work/t.$n.ten.$tool")" >> "$results"
  done
done

ratio() {  # n what tool column(1 wall, 4 cpu): peer / racksmith
  local r p
  r=$(awk -F'|' -v n="$1" -v w="$2" -v c="$4" '$1==n && $2==w && $3=="racksmith" {print $(3+c)}' "$results")
  p=$(awk -F'|' -v n="$1" -v w="$2" -v t="$3" -v c="$4" '$1==n && $2==w && $3==t {print $(3+c)}' "$results")
  python3 -c "print('%.1fx' % (float('$p') / max(float('$r'), 1e-3)))"
}

mkdir -p "$root/bench/results"
rows="$root/bench/results/fanout.rows"
touch "$rows"
# Keep the rows of sizes this run did not measure; this run's rows replace the rest.
awk -F'|' -v s=" $sizes " 'index(s, " " $1 " ") == 0' "$rows" > "$work/kept"
cat "$work/kept" "$results" | sort -t'|' -k1,1n -s > "$rows"
results=$rows
sizes=$(cut -d'|' -f1 "$rows" | sort -nu | paste -sd' ')
{
  echo "# Fan-out over SSH: racksmith exec vs pdsh, clush, ansible"
  echo
  echo "$(bench_facts); $(pdsh -V 2>&1 | head -1), clush $(clush --version 2>&1 | awk '{print $2}'),"\
       "$(ansible --version | head -1), $(ssh -V 2>&1). Fan-out $fanout for every tool; $runs runs per cell in the latest run (sizes $(cut -d'|' -f1 "$work/rows" | sort -nu | paste -sd' ')); rows of other sizes are from earlier runs."
  echo "Nodes are lab nodes (one OpenSSH sshd per node on 127.0.2.x, commands in a bubblewrap"
  echo "sandbox) on the same machine, so the nodes' own CPU competes with the client's: the"
  echo "client's CPU (its whole process tree: pdsh's and clush's ssh children included) is the"
  echo "fairer comparison. Peak RSS is the largest single process of the client's tree."
  echo "'big' prints $(eval "$big" | wc -c) bytes per node. '10 steps' runs 10 commands per node in"
  echo "sequence: a racksmith playbook over one pooled connection per node vs ansible-playbook"
  echo "(pipelining and ControlPersist on)."
  echo
  echo "| nodes | command | client | median s | min s | max s | client CPU s | peak RSS MiB | failed runs |"
  echo "|---|---|---|---|---|---|---|---|---|"
  tr '|' '\t' < "$results" | while IFS=$'\t' read -r n w t a b c d e f; do
    echo "| $n | $w | $t | $a | $b | $c | $d | $e | $f |"
  done
  echo
  echo "Ratios (peer / racksmith, median; above 1.0x racksmith is faster or cheaper):"
  echo
  echo "| nodes | command | pdsh wall | clush wall | ansible wall | pdsh CPU | clush CPU | ansible CPU |"
  echo "|---|---|---|---|---|---|---|---|"
  for n in $sizes; do
    for w in true big; do
      echo "| $n | $w | $(ratio "$n" "$w" pdsh 1) | $(ratio "$n" "$w" clush 1) | $(ratio "$n" "$w" ansible 1) |"\
           "$(ratio "$n" "$w" pdsh 4) | $(ratio "$n" "$w" clush 4) | $(ratio "$n" "$w" ansible 4) |"
    done
    echo "| $n | 10 steps | | | $(ratio "$n" "10 steps" ansible 1) | | | $(ratio "$n" "10 steps" ansible 4) |"
  done
} > "$root/bench/results/fanout.md"
cat "$root/bench/results/fanout.md"

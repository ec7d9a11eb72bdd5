#!/usr/bin/env bash
# Apply: the executor carrying out the lifecycle plan of N new nodes (and then a rolling
# driver upgrade of them) with fixed simulated step times, journaling every step to an
# on-disk state store; against the lower bound any scheduler has (the slowest node's own
# critical path, or the queueing the concurrency limit forces). Peer: ansible-playbook
# (strategy free, the same forks) running each node's same steps as `sleep`s on local
# connections. Writes bench/results/apply.md.
# Targets (issue 7): wall within 1.15x of the lower bound; executor overhead per step < 1 ms.
# Usage: bench/apply/run.sh [BUILD_DIR] [RUNS] [NODES]   (defaults: build-bench-apply 3 200)
# Env: SCALE (0.02: simulated seconds per real second), CONCURRENCY (32), ANSIBLE=0 skips the peer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/lib.sh"
build=${1:-$root/build-bench-apply}
runs=${2:-3}
nodes=${3:-200}
scale=${SCALE:-0.02}
conc=${CONCURRENCY:-32}
work=$(mktemp -d /tmp/racksmith-apply-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

bench_configure "$build"
ninja -C "$build" -j"${JOBS:-2}" apply_bench >/dev/null
bench=$build/bench/apply_bench

# fsync latency of the disk the store is on, for reading the journal figures.
fsync_ms=$(python3 - "$work" <<'PY'
import os, sys, time
p = os.path.join(sys.argv[1], "fsync-probe")
f = os.open(p, os.O_WRONLY | os.O_CREAT)
t = time.perf_counter()
for _ in range(100):
    os.write(f, b"x" * 512); os.fsync(f)
print("%.2f" % ((time.perf_counter() - t) * 10))
PY
)

# Queue-bound: N nodes at --concurrency; then path-bound: concurrency above what the plan
# can use, where only each node's own critical path limits the run.
for i in $(seq "$runs"); do
  mkdir -p "$work/q$i" "$work/p$i"
  peer=()
  [[ $i == 1 ]] && peer=(--ansible-out "$work/ansible")
  "$bench" --dir "$work/q$i" --nodes "$nodes" --concurrency "$conc" --scale "$scale" \
    "${peer[@]}" >> "$work/queue.jsonl"
  "$bench" --dir "$work/p$i" --nodes "$nodes" --concurrency 1000 --scale "$scale" \
    --scenario new >> "$work/path.jsonl"
done

ansible_row="| ansible-playbook (strategy free, forks $conc) | not run (ANSIBLE=0) | | | | | | | | | | |"
if [[ "${ANSIBLE:-1}" != 0 ]] && command -v ansible-playbook >/dev/null; then
  export ANSIBLE_STDOUT_CALLBACK=minimal ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" \
         ANSIBLE_REMOTE_TEMP="$work/ansible-remote-tmp" ANSIBLE_FORKS="$conc"
  bench_time "$work/ansible.times" ansible-playbook -i "$work/ansible/hosts.ini" \
    "$work/ansible/playbook.yml"
  # Ansible runs each node's steps one after another (no DAG): its own lower bound.
  read -r a_wall a_cpu a_rss a_exit < <(awk '{print $1, $2+$3, int($4/1024), $5}' "$work/ansible.times")
  a_bound=$(python3 - "$work/ansible" "$conc" <<'PY'
import glob, re, sys
chains = []
for f in glob.glob(sys.argv[1] + "/host_vars/*.yml"):
    chains.append(sum(float(x) for x in re.findall(r"seconds: ([0-9.]+)", open(f).read())))
print("%.2f" % max(max(chains), sum(chains) / int(sys.argv[2])))
PY
)
  steps=$(head -1 "$work/queue.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"])')
  ansible_row=$(python3 - "$a_wall" "$a_bound" "$a_cpu" "$a_rss" "$a_exit" "$steps" "$conc" <<'PY'
import sys
wall, bound, cpu, rss, code, steps, conc = sys.argv[1:]
wall, bound, cpu, steps = float(wall), float(bound), float(cpu), int(steps)
note = "" if code == "0" else " (exit %s)" % code
print("| ansible-playbook (strategy free, forks %s)%s | %.1f | %.1f | %.2fx | | | | | | | %.0f | %s |"
      % (conc, note, wall, bound, wall / bound, cpu * 1e6 / steps, rss))
PY
)
fi

table() {  # jsonl file, scenario -> "| median wall | bound | median ratio (min-max) | overhead | cpu/step | rss |"
  python3 - "$1" "$2" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["scenario"] == sys.argv[2]]
med = lambda k: statistics.median(r[k] for r in rows)
ratios = [r["ratio"] for r in rows]
over = [r["overhead_us_per_step"] for r in rows]
print("| %d nodes, %d steps, %d wave(s), concurrency %d | %.1f | %.1f | %.3fx (%.3f-%.3f) | %.1f | %.3fx | %.0f (%.0f-%.0f) | %.0f | %.0f | %.0f | %.0f | %d |"
      % (rows[0]["nodes"], rows[0]["steps"], rows[0]["waves"], rows[0]["concurrency"],
         med("wall_s"), med("lower_bound_s"), statistics.median(ratios), min(ratios),
         max(ratios), med("zero_overhead_s"), med("ratio_zero_overhead"),
         statistics.median(over), min(over), max(over), med("journal_us_per_step"),
         med("overhead_us_per_other_step"), med("overhead_us_per_destructive_step"),
         statistics.median(r["cpu_s"] * 1e6 / r["steps"] for r in rows),
         max(r["max_rss_kib"] for r in rows) // 1024))
PY
}

mkdir -p "$root/bench/results"
{
  echo "# Apply: the executor against the lower bound, and ansible-playbook"
  echo
  echo "$(bench_facts), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?'),"
  echo "$(ansible --version 2>/dev/null | head -1 || echo 'ansible: not installed'). fsync on the store's disk: $fsync_ms ms."
  echo "Release build ($(basename "$build")). $runs runs of each racksmith row (median; ratio min-max), one ansible run."
  echo
  echo "Workload: the real planner's lifecycle plan for $nodes new nodes in racks of 20 (discover,"
  echo "firmware x2, image, driver/CUDA/NCCL/Slurm, mounts, burn-in, admit: a DAG per node), then"
  echo "a driver upgrade of the same nodes under the default policy (25 % of a partition, 50 % of"
  echo "a rack out at once: a rolling change, kept as a sliding window). Steps take fixed simulated"
  echo "times: real-world seconds x $scale (image 120 s,"
  echo "firmware 60 s, burn-in 60 s, driver 45 s, ... see apply_bench.cc). Every step is journaled"
  echo "to an on-disk SQLite store before and after, as in \`racksmith apply\`: fsynced for"
  echo "destructive steps (image), written to the OS without an fsync for the others (docs/state.md)."
  echo
  echo "Lower bound: the largest of the slowest node's critical path, the total step time /"
  echo "concurrency, and for the rolling run max_unavailable's own queueing: per partition and"
  echo "rack, the rolled nodes' time out of service (each at least its critical path) summed /"
  echo "the group's budget (fractional: no list scheduler reaches it exactly). Zero-overhead run:"
  echo "the executor's own policy (steps in the order they became ready, rolled nodes in wave"
  echo "order as soon as their partitions and rack have room) simulated with no scheduling or"
  echo "journal cost; wall / that is what the executor itself adds. Overhead per step: for each"
  echo "step attempt, the time from the start of the executor's round that started it to the"
  echo "driver's call (its intent's commit, shared by the steps of the round, or for a step"
  echo "journaled ahead only queueing \"running\"; a worker taking it) plus the time from the"
  echo "driver's return until its completion is taken (its result queued for the next commit),"
  echo "averaged over attempts (median of the runs, min-max); of it, journal writes including"
  echo "any wait for an fsync; and the same overhead for non-destructive steps and for"
  echo "destructive ones (their intent waits for an fsync of the journal)."
  echo "CPU per step: the executor's CPU time / steps (the simulated driver burns none)."
  echo
  echo "| run | wall s | lower bound s | wall / bound | zero-overhead run s | wall / zero-overhead | overhead µs/step | of it journal µs/step | non-destructive steps µs | destructive steps µs | CPU µs/step | RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  echo "$(table "$work/queue.jsonl" new)"
  echo "$(table "$work/path.jsonl" new)"
  echo "$(table "$work/queue.jsonl" upgrade)"
  echo "$ansible_row"
  echo
  echo "Targets: wall within 1.15x of the lower bound; executor overhead per step under 1 ms."
} > "$root/bench/results/apply.md"
cat "$root/bench/results/apply.md"

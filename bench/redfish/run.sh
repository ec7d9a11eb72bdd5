#!/usr/bin/env bash
# Redfish at fleet scale: racksmith `bmc power status` and `bmc inventory` against 1,000
# simulated BMCs (the lab's RedfishSim over HTTPS, one loopback address each, in a separate
# process), with the peers in the same run: python3-sushy with a pool of 50 threads
# (bench/redfish/sushy_pool.py) and redfishtool (one process per BMC, 50 at a time).
# Reports wall time, the client's CPU (user+sys of its process tree), peak RSS and the
# requests the BMCs served, hence client CPU per request. Writes bench/results/redfish.md.
# Targets (issue 4): >= 10x faster than the sushy pool; client CPU < 100 us per request;
# peak RSS < 100 MB at 1,000 BMCs.
# Usage: bench/redfish/run.sh [BUILD_DIR] [RUNS] [BMCS]   (defaults: build-bench-inv 3 1000)
# Env: REDFISHTOOL=0 skips redfishtool (it takes minutes: a Python start per BMC).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/lib.sh"
build=${1:-$root/build-bench-inv}
runs=${2:-3}
bmcs=${3:-1000}
work=$(mktemp -d /tmp/racksmith-redfish-bench.XXXXXX)
sim_pid=
cleanup() {
  [[ -n $sim_pid ]] && { exec 7>&-; wait "$sim_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 -c 'import sushy' 2>/dev/null || { echo "missing python3-sushy: run scripts/setup.sh --bench" >&2; exit 2; }
command -v redfishtool >/dev/null || { echo "missing redfishtool: run scripts/setup.sh --bench" >&2; exit 2; }

bench_configure "$build"
ninja -C "$build" -j"${JOBS:-2}" racksmith sim_fleet >/dev/null
rs=$build/racksmith

BENCH_BMC_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
export BENCH_BMC_PASSWORD

# The fleet runs apart from the clients; its stdin is fd 7 ("count" asks for requests served).
mkfifo "$work/sim.in"
"$build/bench/sim_fleet" "$bmcs" "$work" \
  < "$work/sim.in" > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
exec 7> "$work/sim.in"
for _ in $(seq 600); do grep -q ready "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/sim.out" || { cat "$work/sim.err" >&2; echo "the BMC fleet did not start" >&2; exit 1; }
served() {
  local before
  before=$(grep -c '^requests' "$work/sim.out" || true)
  echo count >&7
  for _ in $(seq 100); do
    [[ $(grep -c '^requests' "$work/sim.out" || true) -gt $before ]] && break
    sleep 0.05
  done
  grep '^requests' "$work/sim.out" | tail -1 | awk '{print $2}'
}

sel="bench-n[0001-$(printf %04d "$bmcs")]"
export REQUESTS_CA_BUNDLE="$work/ca.pem"

rows="$work/rows"
: > "$rows"
sim_cpu() {  # CPU seconds the BMC fleet has used so far (user + system)
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$sim_pid/stat"
}
measure() {  # measure LABEL OP CMD...: one timed run; appends
             # "label op wall user sys rss exit requests sim_cpu"
  local label=$1 op=$2; shift 2
  local t=$work/t.$$ before after cpu_before
  before=$(served)
  cpu_before=$(sim_cpu)
  : > "$t"
  bench_time "$t" "$@"
  after=$(served)
  echo "$label $op $(cat "$t") $((after - before)) $(python3 -c "print(round($(sim_cpu) - $cpu_before, 2))")" >> "$rows"
}

# The floor under client CPU per request: one full TLS handshake per BMC (a fresh process
# cannot resume a session), measured with openssl s_time against BMC 1 (client user CPU).
handshake_us=$(timeout 60 openssl s_time -connect "$(head -1 "$work/bmcs.txt" | sed 's|https://||')" \
  -new -time 5 -CAfile "$work/ca.pem" 2>/dev/null |
  awk '{for (i = 2; i <= NF; i++) if ($i == "connections/user") v = $(i - 1)}
       END {if (v > 0) printf "%.0f", 1e6 / v}')

for op in power inventory; do
  for r in $(seq "$runs"); do
    if [[ $op == power ]]; then
      measure racksmith "$op" "$rs" -i "$work/inventory.yaml" bmc power status "$sel" --system 1
      measure sushy "$op" /usr/bin/python3 "$root/bench/redfish/sushy_pool.py" power \
        "$work/bmcs.txt" "$work/ca.pem" 50
    else
      measure racksmith "$op" "$rs" -i "$work/inventory.yaml" bmc inventory "$sel" --json \
        --system 1
      measure sushy "$op" /usr/bin/python3 "$root/bench/redfish/sushy_pool.py" inventory \
        "$work/bmcs.txt" "$work/ca.pem" 50
    fi
  done
done
if [[ ${REDFISHTOOL:-1} != 0 ]]; then
  # One redfishtool process per BMC, 50 at a time (it has no fleet mode); one run. It does
  # not verify certificates.
  sed 's|https://||' "$work/bmcs.txt" > "$work/hosts.txt"
  measure redfishtool power xargs -P 50 -I{} redfishtool -r {} -S Always -u admin \
    -p "$BENCH_BMC_PASSWORD" -q Systems -I 1 get -P PowerState < "$work/hosts.txt"
fi

# Verify, outside the timed runs, that every tool got every BMC right.
"$rs" -i "$work/inventory.yaml" bmc inventory "$sel" --json --system 1 > "$work/inv.json" || true
check=$(python3 - "$work/inv.json" "$bmcs" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
ok = [r for r in rows if r["ok"] and len(r["result"]["gpus"]) == 8 and len(r["result"]["drives"]) == 2]
print(f"{len(ok)}/{sys.argv[2]} BMCs with 8 GPUs and 2 drives")
PY
)

summary() {  # summary LABEL OP -> "median wall | cpu | rss MiB | requests | us/request | failed"
  awk -v l="$1" -v o="$2" '$1==l && $2==o' "$rows" | sort -n -k3 |
    awk '{w[NR]=$3; c[NR]=$4+$5; r[NR]=$8; s[NR]=$9; m=($6>m?$6:m); f+=($7!=0)}
         END {i=int((NR+1)/2); printf "%.2f | %.2f | %d | %d | %.0f | %.2f | %d", w[i], c[i], m/1024, r[i], c[i]*1e6/(r[i]>0?r[i]:1), s[i], f}'
}
median_wall() { awk -v l="$1" -v o="$2" '$1==l && $2==o {print $3}' "$rows" | sort -n |
  awk '{t[NR]=$1} END{print t[int((NR+1)/2)]}'; }
ratio() { python3 -c "print('%.1fx' % (float('$(median_wall "$3" "$1")') / float('$(median_wall racksmith "$1")')))"; }

mkdir -p "$root/bench/results"
{
  echo "# Redfish: $bmcs BMCs, racksmith vs python3-sushy (50 threads) and redfishtool"
  echo
  echo "$(bench_facts); sushy $(/usr/bin/python3 -c 'import pkg_resources as p; print(p.get_distribution("sushy").version)'),"\
       "redfishtool $(redfishtool -V 2>/dev/null | awk '{print $NF}'). $runs runs each (median shown)."
  echo "The BMCs are the lab's simulator (HTTPS, each BMC its own P-256 certificate signed by a bench CA, sessions required), one"
  echo "process serving all $bmcs on 127.0.20-23.x:8443, 8 GPUs and 2 NVMe drives each, on the same"
  echo "machine: its CPU competes with the client's. 'requests' is what the BMCs served during"
  echo "the run (logins and logouts included); 'us/request' is the client's CPU divided by it."
  echo "racksmith uses its defaults (64 BMCs at once, one libcurl multi loop; one connection per BMC"
  echo "while many BMCs have work). 'BMC fleet CPU s' is what the simulated BMCs used during the run."
  echo "Every client is told the system's id, as the peers need it (sushy: get_system of"
  echo "/redfish/v1/Systems/1, redfishtool: -I 1, racksmith: --system 1, read at Systems/1 directly);"
  echo "without it racksmith lists the Systems collection first, one request more per BMC."
  echo "One full TLS handshake (ECDHE + the BMC's P-256 certificate checked against the CA) costs the"
  echo "client ${handshake_us:-?} us of user CPU on this machine (openssl s_time); every BMC needs one."
  echo "Check after the runs: $check."
  echo
  echo "| operation | client | median wall s | client CPU s | peak RSS MiB | requests | CPU us/request | BMC fleet CPU s | failed runs |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for op in power inventory; do
    for l in racksmith sushy redfishtool; do
      grep -q "^$l $op " "$rows" && echo "| $op | $l | $(summary "$l" "$op") |"
    done
  done
  echo
  echo "Speed-up of racksmith (peer wall / racksmith wall): power status $(ratio power x sushy) vs"\
       "sushy; inventory crawl $(ratio inventory x sushy) vs sushy$(grep -q '^redfishtool power' "$rows" &&
       echo "; power status $(ratio power x redfishtool) vs redfishtool")."
} > "$root/bench/results/redfish.md"
cat "$root/bench/results/redfish.md"

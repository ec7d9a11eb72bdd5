#!/usr/bin/env bash
# Renders a slurm.conf for a 10,000-node context with racksmith and with Python Jinja2
# (same template, same settings), several times each, and writes bench/results/template.md.
# Usage: bench/template/run.sh [BUILD_DIR] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
nodes = [{"name": "gpu-r%02d-n%03d" % (i // 100, i % 100), "gpus": 8 if i % 3 else 4,
          "mem": 1024 * (2 + i % 2), "rack": "r%02d" % (i // 100),
          "features": ["a100", "ib"] if i % 2 else ["h100"]} for i in range(10000)]
json.dump({"cluster": "bench", "nodes": nodes}, open(w + "/vars.json", "w"))
open(w + "/slurm.conf.j2", "w").write("""ClusterName={{ cluster }}
SlurmctldHost=head
{% for n in nodes %}
NodeName={{ n.name }} CPUs=128 RealMemory={{ n.mem * 1024 }} Gres=gpu:{{ n.gpus }} Feature={{ n.features|join(',') }}{% if n.gpus > 4 %} Weight=10{% endif %}

{% endfor %}
{% for rack in nodes|map(attribute='rack')|unique %}
PartitionName={{ rack }} Nodes={{ nodes|selectattr('rack', 'eq', rack)|map(attribute='name')|list|hostlist }}
{% endfor %}
""")
PY
cat > "$work/render.py" <<'PY'
import json, sys, jinja2
sys.path.insert(0, sys.argv[3])
from jinja2_reference import hostlist
env = jinja2.Environment(loader=jinja2.FileSystemLoader(sys.argv[1]), trim_blocks=True,
                         keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
env.filters["hostlist"] = hostlist
sys.stdout.write(env.get_template("slurm.conf.j2").render(json.load(open(sys.argv[2]))))
PY

measure() {  # name, command...
  local name=$1; shift
  for i in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" > "$work/out.$name"
    cat "$work/t" >> "$work/times.$name"
  done
}
measure racksmith "$build/racksmith" template render "$work/slurm.conf.j2" --vars "$work/vars.json"
measure jinja2 python3 "$work/render.py" "$work" "$work/vars.json" "$root/tests/template"
cmp "$work/out.racksmith" "$work/out.jinja2" && same=yes || same=NO

stats() { sort -n -k1 "$1" | awk '{t[NR]=$1; m=($2>m?$2:m)} END {printf "%.3f | %.3f | %.3f | %d", t[int((NR+1)/2)], t[1], t[NR], m/1024}'; }
mkdir -p "$root/bench/results"
{
  echo "# Template rendering: 10,000-node slurm.conf"
  echo
  echo "$(date -u +%F) on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,"\
       "$(g++ --version | head -1), Python $(python3 -c 'import sys;print(sys.version.split()[0])'),"\
       "Jinja2 $(python3 -c 'import jinja2;print(jinja2.__version__)'). $runs runs each;"\
       "wall time includes process start and loading the 10,000-node JSON."
  echo "Outputs byte-identical: $same ($(wc -c < "$work/out.racksmith") bytes)."
  echo
  echo "| renderer | median s | min s | max s | peak RSS MiB |"
  echo "|---|---|---|---|---|"
  echo "| racksmith template render | $(stats "$work/times.racksmith") |"
  echo "| Python Jinja2 | $(stats "$work/times.jinja2") |"
  r=$(sort -n "$work/times.racksmith" | awk '{t[NR]=$1} END{print t[int((NR+1)/2)]}')
  p=$(sort -n "$work/times.jinja2" | awk '{t[NR]=$1} END{print t[int((NR+1)/2)]}')
  echo
  echo "Speed-up (median): $(python3 -c "print('%.1fx' % ($p / max($r, 1e-3)))")"
} > "$root/bench/results/template.md"
cat "$root/bench/results/template.md"

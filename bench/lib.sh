# Shared by the bench/*/run.sh scripts (sourced, not run).

# One line with the machine's facts: date, cores, memory, compiler.
bench_facts() {
  echo "$(date -u +%F) on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)),"\
       "$(free -g | awk '/Mem:/{print $2}') GiB, $(g++ --version | head -1)"
}

# bench_time OUTFILE CMD...: runs CMD once with stdout to /dev/null and appends
# "wall_s user_s sys_s maxrss_kib exit" to OUTFILE. /usr/bin/time counts the CPU of the
# whole process tree the command waited for (ssh children of pdsh included); max RSS is
# the largest single process of that tree.
bench_time() {
  local out=$1; shift
  local t
  t=$(mktemp)
  /usr/bin/time -f "%e %U %S %M %x" -o "$t" "$@" > /dev/null 2>"$t.err" || true
  tail -1 "$t" >> "$out"
  # A failed run keeps the end of what the client said on stderr beside the timings.
  if [[ $(tail -1 "$t" | awk '{print $NF}') != 0 ]]; then
    { echo "== $(date -u +%H:%M:%S) $*"; tail -5 "$t.err"; } >> "$out.failures"
  fi
  rm -f "$t" "$t.err"
}

# bench_stats FILE: "median | min | max | cpu_median | rss_max_mib" over the lines of FILE
# written by bench_time (or "wall rss" lines from older scripts).
bench_stats() {
  local wall cpu
  wall=$(sort -n -k1 "$1" | awk '{t[NR]=$1; m=($4>m?$4:m)}
    END {printf "%.3f | %.3f | %.3f", t[int((NR+1)/2)], t[1], t[NR]}')
  cpu=$(awk '{print $2+$3}' "$1" | sort -n | awk '{t[NR]=$1} END{printf "%.3f", t[int((NR+1)/2)]}')
  echo "$wall | $cpu | $(awk '{m=($4>m?$4:m)} END{printf "%d", m/1024}' "$1")"
}

# bench_median FILE [COLUMN]: the median of one column (default 1, wall time).
bench_median() {
  sort -n -k"${2:-1}" "$1" | awk -v k="${2:-1}" '{t[NR]=$k} END{print t[int((NR+1)/2)]}'
}

# bench_failures FILE: how many runs exited non-zero.
bench_failures() { awk '$5 != 0' "$1" | wc -l; }

# bench_configure BUILD_DIR: a Release build directory with the bench programs, created on
# first use (or again with REBUILD=1); an existing one only gets the bench option turned on.
bench_configure() {
  local build=$1
  if [[ ! -f "$build/CMakeCache.txt" || -n "${REBUILD:-}" ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRACKSMITH_BUILD_TESTS=OFF \
      -DRACKSMITH_BUILD_BENCH=ON \
      ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
  else
    cmake -DRACKSMITH_BUILD_BENCH=ON "$build" >/dev/null
  fi
}

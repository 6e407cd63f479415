#!/bin/bash
# Speed-up and memory per rank of `mpirun -np P attnflow` at P = 1 and 2
# against the serial run with 1 and 2 threads, for a field-dominated density
# run (S^2, refinement 4, no tokens, the direct sum), a token run (n = 2e4 on
# S^2, the direct sum) and a density run through the spherical harmonics
# (S^2, k = 2, refinement 5, whose ranks share the moments), with the time
# of rank 0 in the density's field. Prints one table with the CPU and its
# measured FMA peak; see benchmarks/README.md, "MPI".
#   benchmarks/mpi_scaling.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
binary=$build/attnflow
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/run.prm" # every setting comes from --set
mpiexec=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && mpiexec+=(--allow-run-as-root)

density=(--set "Model/geometry=sphere" --set "Model/dimension=3"
  --set "Model/beta=4" --set "Initial condition/type=function"
  --set "Initial condition/density function=1 + 0.5*x*y + 0.4*z"
  --set "Tokens/number of tokens=0" --set "Density/enabled=true"
  --set "Density/degree=1" --set "Density/refinements=4"
  --set "Density/time integrator=ssp rk3" --set "Density/time step=0.002"
  --set "Field/method=direct"
  --set "Time/end time=0.02" --set "Time/output interval=0.02"
  --set "Output/write vtu=false")
# The density case at k = 2, refinement 5 through the harmonics (a later
# --set of an entry overrides an earlier one).
harmonics=("${density[@]}" --set "Density/degree=2"
  --set "Density/refinements=5" --set "Field/method=auto"
  --set "Time/end time=0.04" --set "Time/output interval=0.04")
tokens=(--set "Model/geometry=sphere" --set "Model/dimension=3"
  --set "Model/beta=4" --set "Initial condition/type=uniform"
  --set "Tokens/number of tokens=20000" --set "Density/enabled=false"
  --set "Field/method=direct" --set "Time/integrator=rk4"
  --set "Time/time step=0.01" --set "Time/end time=0.05"
  --set "Time/output interval=0.05" --set "Output/write vtu=false")

# One run: its wall time (s) and the largest resident set of a rank (MB).
measure() {
  local ranks=$1 threads=$2 name=$3
  shift 3
  local launcher=()
  [ "$ranks" -gt 1 ] && launcher=("${mpiexec[@]}" -np "$ranks")
  local start end
  start=$(date +%s.%N)
  # Each rank under /usr/bin/time, its peak memory in NAME.rss.RANK.
  "${launcher[@]}" bash -c 'exec /usr/bin/time -f "rss %M" \
    -o "$0.rss.${OMPI_COMM_WORLD_RANK:-0}" "$@"' "$work/$name" \
    "$binary" "$work/run.prm" "$@" --set "Parallel/number of threads=$threads" \
    --set "Output/directory=$work/$name" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log" >&2; exit 1; }
  end=$(date +%s.%N)
  local rss field
  rss=$(cat "$work/$name".rss.* | awk '/rss/ {m = $2 > m ? $2 : m} END {print m / 1024}')
  # Rank 0's wall time in the density's field (its timing summary), or -.
  field=$(awk -F'|' '/\| density field/ {gsub(/[ s]/, "", $4); print $4}' \
    "$work/$name.log")
  echo "$(echo "$end - $start" | bc) $rss ${field:--}"
}

"$build/benchmarks/attnflow_machine_peak" 2>/dev/null | head -1 || true
printf "| run | P | threads per rank | wall s | speed-up against P = 1, 1 thread | field s (rank 0) | largest RSS per rank MB | metrics.csv = serial |\n"
printf "|-----|--:|--:|--:|--:|--:|--:|:--|\n"
for case in density tokens harmonics; do
  declare -n settings=$case
  read -r t11 m11 f11 < <(measure 1 1 "${case}_p1t1" "${settings[@]}")
  for config in "1 1" "1 2" "2 1"; do
    read -r P threads <<<"$config"
    name="${case}_p${P}t${threads}"
    if [ "$config" = "1 1" ]; then
      t=$t11 m=$m11 f=$f11
    else
      read -r t m f < <(measure "$P" "$threads" "$name" "${settings[@]}")
    fi
    # Tokens: byte for byte; the density's sums over the ranks' cells run in
    # another order: within 1e-12 (tests/mpi/compare_metrics.cc).
    same=bytes
    if ! cmp -s "$work/${case}_p1t1/metrics.csv" "$work/$name/metrics.csv"; then
      same=no
      "$build/tests/compare_metrics" "$work/${case}_p1t1/metrics.csv" \
        "$work/$name/metrics.csv" >/dev/null && same="within 1e-12"
    fi
    printf "| %s | %d | %d | %.2f | %.2f | %s | %.0f | %s |\n" "$case" "$P" \
      "$threads" "$t" "$(echo "$t11 / $t" | bc -l)" "$f" "$m" "$same"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/bin/bash
# check_mpi_study.sh BINARY COMPARE PRM WORK RANKS MPIEXEC...
#
# `attnflow --convergence PRM` in serial and under `mpirun -np RANKS`: the
# same convergence.csv (errors and rates within 1e-12, compare_metrics),
# the study's files written once, by rank 0 (doc/theory.md section 10).
set -u
binary=$1 compare=$2 prm=$3 work=$4 ranks=$5
shift 5
mpiexec=("$@")
fail() {
  echo "check_mpi_study: $*" >&2
  exit 1
}
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"
"$binary" --convergence "$prm" --set "Output/directory=$work/serial" \
  > "$work/serial.log" 2>&1 || fail "the serial study failed: $(tail -5 "$work/serial.log")"
"${mpiexec[0]}" "${mpiexec[1]}" "$ranks" "${mpiexec[@]:2}" "$binary" \
  --convergence "$prm" --set "Output/directory=$work/ranks" \
  > "$work/ranks.log" 2>&1 || fail "the study on $ranks ranks failed: $(tail -5 "$work/ranks.log")"
n=$(grep -c "attnflow convergence study" "$work/ranks.log")
[ "$n" = 1 ] || fail "the study's header is printed $n times"
"$compare" "$work/serial/convergence.csv" "$work/ranks/convergence.csv" ||
  fail "convergence.csv differs from the serial study's"
echo "the study on $ranks ranks: convergence.csv within round-off of the serial one"

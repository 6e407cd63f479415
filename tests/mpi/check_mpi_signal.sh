#!/bin/bash
# check_mpi_signal.sh BINARY COMPARE PRM WORK MPIEXEC...
#
# SIGTERM to every rank of `mpirun -np 2` (as a batch system sends it): the
# ranks stop together at the next output time with a checkpoint, the stop
# and how to resume are printed once, mpirun exits with 143 (128 + SIGTERM);
# `--resume` on 3 ranks then ends as the serial run (doc/theory.md
# sections 10 and 11).
set -u
binary=$1 compare=$2 prm=$3 work=$4
shift 4
mpiexec=("$@") # mpiexec, its -n flag and its other flags
fail() {
  echo "check_mpi_signal: $*" >&2
  exit 1
}
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"
"$binary" "$prm" --set "Output/directory=$work/serial" > "$work/serial.log" 2>&1 ||
  fail "the serial run failed: $(tail -5 "$work/serial.log")"

"${mpiexec[0]}" "${mpiexec[1]}" 2 "${mpiexec[@]:2}" "$binary" "$prm" \
  --set "Output/directory=$work/ranks" > "$work/stopped.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2> /dev/null &&
  [ "$(cat "$work/ranks/metrics.csv" 2> /dev/null | wc -l)" -lt 3 ]; do
  sleep 0.01
done
kill -0 "$pid" 2> /dev/null || fail "the run ended before the signal"
# The ranks, not mpirun: their command lines start with the binary.
pkill -TERM -f "^$binary $prm --set Output/directory=$work/ranks"
wait "$pid"
code=$?
[ "$code" = 143 ] || fail "mpirun exited with $code, not 143: $(tail -5 "$work/stopped.log")"
n=$(grep -c "stopped by SIGTERM" "$work/stopped.log")
[ "$n" = 1 ] || fail "the stop is printed $n times"
grep -q "attnflow --resume $work/ranks" "$work/stopped.log" || fail "no resume command"
[ -e "$work/ranks/checkpoint/summary.txt" ] || fail "no checkpoint"
echo "stopped by SIGTERM on 2 ranks: exit 143, one message, a checkpoint"

"${mpiexec[0]}" "${mpiexec[1]}" 3 "${mpiexec[@]:2}" "$binary" \
  --resume "$work/ranks" > "$work/resumed.log" 2>&1 ||
  fail "--resume on 3 ranks failed: $(tail -5 "$work/resumed.log")"
"$compare" "$work/serial/metrics.csv" "$work/ranks/metrics.csv" ||
  fail "metrics.csv differs from the serial run's"
for file in "$work"/serial/tokens_*.csv; do
  cmp -s "$file" "$work/ranks/$(basename "$file")" ||
    fail "$(basename "$file") differs from the serial run's"
done
echo "resumed on 3 ranks: metrics within round-off, the tokens files equal"

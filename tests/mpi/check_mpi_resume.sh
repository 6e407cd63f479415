#!/bin/bash
# check_mpi_resume.sh BINARY COMPARE PRM WORK RANKS RESUME_RANKS MPIEXEC...
#
# A distributed run with checkpoints, killed by SIGKILL (all its ranks) as
# soon as its first checkpoint is complete, resumed with `attnflow --resume`
# on RESUME_RANKS ranks (1: without mpirun) and killed again after its next
# checkpoint, then resumed to its end on RANKS ranks, ends as the
# uninterrupted serial run: metrics.csv within round-off (compare_metrics),
# every tokens_NNNN.csv byte for byte. Resuming it again, now finished,
# changes nothing (doc/theory.md sections 10 and 11).
set -u
binary=$1 compare=$2 prm=$3 work=$4 ranks=$5 resume_ranks=$6
shift 6
mpiexec=("$@") # mpiexec, its -n flag and its other flags
fail() {
  echo "check_mpi_resume: $*" >&2
  exit 1
}
launch() { # RANKS ARGUMENTS...
  local n=$1
  shift
  if [ "$n" = 1 ]; then "$binary" "$@"; else
    "${mpiexec[0]}" "${mpiexec[1]}" "$n" "${mpiexec[@]:2}" "$binary" "$@"
  fi
}
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"

"$binary" "$prm" --set "Output/directory=$work/serial" > "$work/serial.log" 2>&1 ||
  fail "the serial run failed: $(tail -5 "$work/serial.log")"

# Starts `launch RANKS ARGUMENTS...` and kills it, mpirun and every rank (all
# processes whose command line names the run folder), by SIGKILL as soon as
# checkpoint/summary.txt exists and differs from $1 (the one before).
kill_after_checkpoint() {
  local before=$1 log=$2
  shift 2
  launch "$@" > "$log" 2>&1 &
  local pid=$!
  local summary="$work/ranks/checkpoint/summary.txt"
  while kill -0 "$pid" 2> /dev/null &&
    { [ ! -e "$summary" ] || [ "$(cat "$summary")" = "$before" ]; }; do
    sleep 0.01
  done
  kill -0 "$pid" 2> /dev/null || fail "the run ended before it was killed: $(tail -3 "$log")"
  while pkill -KILL -f -- "$work/ranks"; do sleep 0.05; done
  wait "$pid" 2> /dev/null
}
rows_serial=$(wc -l < "$work/serial/metrics.csv")
kill_after_checkpoint "" "$work/killed.log" "$ranks" "$prm" \
  --set "Output/directory=$work/ranks"
rows_killed=$(wc -l < "$work/ranks/metrics.csv")
[ "$rows_killed" -lt "$rows_serial" ] ||
  fail "the killed run wrote all $rows_serial rows"
echo "killed on $ranks ranks after a checkpoint, $rows_killed of $rows_serial rows"
kill_after_checkpoint "$(cat "$work/ranks/checkpoint/summary.txt")" \
  "$work/killed_again.log" "$resume_ranks" --resume "$work/ranks"
grep -q "resumed from" "$work/killed_again.log" || fail "no 'resumed from' line"
rows_again=$(wc -l < "$work/ranks/metrics.csv")
[ "$rows_again" -gt "$rows_killed" ] && [ "$rows_again" -lt "$rows_serial" ] ||
  fail "resumed and killed again: $rows_again rows"
echo "resumed on $resume_ranks ranks and killed again, $rows_again rows"

launch "$ranks" --resume "$work/ranks" > "$work/resumed.log" 2>&1 ||
  fail "--resume on $ranks ranks failed: $(tail -5 "$work/resumed.log")"
grep -q "resumed from" "$work/resumed.log" || fail "no 'resumed from' line"
"$compare" "$work/serial/metrics.csv" "$work/ranks/metrics.csv" ||
  fail "metrics.csv differs from the serial run's"
n_tokens=0
for file in "$work"/serial/tokens_*.csv; do
  cmp -s "$file" "$work/ranks/$(basename "$file")" ||
    fail "$(basename "$file") differs from the serial run's"
  n_tokens=$((n_tokens + 1))
done
[ "$n_tokens" -ge 2 ] || fail "too few token files: $n_tokens"
echo "resumed on $ranks ranks to the end: metrics within round-off, $n_tokens token files equal"

before=$(cd "$work/ranks" && find . -type f -exec md5sum {} + | sort)
launch "$resume_ranks" --resume "$work/ranks" > "$work/finished.log" 2>&1 ||
  fail "--resume of the finished run failed"
grep -q "nothing to resume" "$work/finished.log" || fail "no 'nothing to resume'"
after=$(cd "$work/ranks" && find . -type f -exec md5sum {} + | sort)
[ "$before" = "$after" ] || fail "resuming the finished run changed its files"
echo "the finished run resumed again: unchanged"

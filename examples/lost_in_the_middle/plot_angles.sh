#!/usr/bin/env bash
# The angles theta_i(t) of the tokens of a run on S^1 against time, each
# token coloured by its position i in the sequence (the order that the
# causal mask follows). Needs "Output/write tokens csv = true" and gnuplot
# (Debian: gnuplot-nox).
#   examples/lost_in_the_middle/plot_angles.sh RUN_FOLDER [OUTPUT.png]
set -euo pipefail
run=${1:?usage: $0 RUN_FOLDER [OUTPUT.png]}
png=${2:-$run/token_angles.png}
[ -f "$run/metrics.csv" ] || { echo "$run/metrics.csv not found" >&2; exit 1; }
ls "$run"/tokens_*.csv > /dev/null 2>&1 ||
  { echo "no tokens_*.csv in $run: set Output/write tokens csv = true" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# Column 1 of metrics.csv is t, one row per output file in order; in each
# tokens file, line i (from 1, '#' lines skipped) is token i.
tail -n +2 "$run/metrics.csv" | cut -d, -f1 | {
  index=0
  while read -r t; do
    file=$(printf "%s/tokens_%04d.csv" "$run" "$index")
    awk -F, -v t="$t" '!/^#/ { i++; print t, atan2($2, $1), i }' "$file"
    index=$((index + 1))
  done
} > "$data"

gnuplot <<GP
set terminal pngcairo size 900,500 font ",11"
set output "$png"
set xlabel "t"
set ylabel "token angle {/Symbol q}"
set ytics ("-{/Symbol p}" -pi, "-{/Symbol p}/2" -pi/2, "0" 0, "{/Symbol p}/2" pi/2, "{/Symbol p}" pi)
set yrange [-pi:pi]
set cbrange [1:*]
set cblabel "token position i"
set palette defined (0 "#1f4e99", 1 "#2ca02c", 2 "#ff7f0e", 3 "#d62728")
set key off
set title "Causal attention with ALiBi on S^1: tokens by position (attnflow)"
plot "$data" using 1:2:3 with points pt 7 ps 0.25 lc palette
GP
echo "wrote $png"

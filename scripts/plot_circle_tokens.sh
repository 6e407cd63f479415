#!/usr/bin/env bash
# Plots the angles theta_i(t) of the tokens of an S^1 run (with
# "Output/write tokens csv = true") against time: the picture of clusters
# forming. Needs gnuplot (Debian: gnuplot-nox).
#   scripts/plot_circle_tokens.sh RUN_FOLDER [OUTPUT.png]
set -euo pipefail
run=${1:?usage: $0 RUN_FOLDER [OUTPUT.png]}
png=${2:-$run/tokens_angles.png}
[ -f "$run/metrics.csv" ] || { echo "$run/metrics.csv not found" >&2; exit 1; }
ls "$run"/tokens_*.csv > /dev/null 2>&1 ||
  { echo "no tokens_*.csv in $run: set Output/write tokens csv = true" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# Column 1 of metrics.csv is t, one row per output file in order.
tail -n +2 "$run/metrics.csv" | cut -d, -f1 | {
  index=0
  while read -r t; do
    file=$(printf "%s/tokens_%04d.csv" "$run" "$index")
    awk -F, -v t="$t" '{ print t, atan2($2, $1) }' "$file"
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
set key off
set title "Tokens on the circle S^1: clusters emerging (attnflow)"
plot "$data" using 1:2 with points pt 7 ps 0.15 lc rgb "#1f4e99"
GP
echo "wrote $png"

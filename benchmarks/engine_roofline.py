#!/usr/bin/env python3
"""The direct kernel engine against its roofline P / (2d + 20)
(doc/theory.md section 4.1), two builds side by side.

Each round measures the FMA peak P (attnflow_machine_peak of the "after"
build) and then, for every d, one run of
`attnflow_benchmark --benchmark_filter=^rhs/n:N/d:D/threads:1/` of each
build, the builds alternated, so that both see the same load. The best of
the rounds is kept for every number, the peak included: on a shared machine
the best run is the one least disturbed. Rates are n^2 pairs per second of
wall-clock time and per second of CPU time (the second is the one a
time-shared core does not distort).

    /usr/bin/python3 benchmarks/engine_roofline.py --before OLD/attnflow_benchmark \\
        --after build --d 2 3 --rounds 10
"""

import argparse
import json
import os
import subprocess

import machine


def rates(program, n, d):
    """(wall, cpu): pairs per second of one run of the rhs benchmark."""
    out = subprocess.run(
        [program, f"--benchmark_filter=^rhs/n:{n}/d:{d}/threads:1/",
         "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    run = json.loads(out)["benchmarks"][0]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.}[run["time_unit"]]
    pairs = float(n) * n
    return (pairs / (run["real_time"] * scale),
            pairs / (run["cpu_time"] * scale))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True,
                        help="the attnflow_benchmark program to compare with")
    parser.add_argument("--after", default="build",
                        help="build directory of the engine measured")
    parser.add_argument("--d", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    programs = {"before": args.before,
                "after": os.path.join(args.after, "benchmarks",
                                      "attnflow_benchmark")}
    best = {}
    line, peak = None, 0.
    for _ in range(args.rounds):
        line_now, peak_now = machine.machine_peak([args.after])
        if peak_now is not None and peak_now > peak:
            line, peak = line_now, peak_now
        for d in args.d:
            for name, program in programs.items():
                for kind, rate in zip(("wall", "cpu"),
                                      rates(program, args.n, d)):
                    key = (name, d, kind)
                    best[key] = max(best.get(key, 0.), rate)

    print(line or machine.machine_peak([args.after])[0])
    print(f"best of {args.rounds} rounds, n = {args.n}, one thread; "
          "% of the roofline P / (2d + 20) with the best P")
    print(f"{'d':>4} {'time':>5} {'before':>10} {'after':>10} "
          f"{'ratio':>6} {'% before':>9} {'% after':>8}")
    for d in args.d:
        for kind in ("wall", "cpu"):
            before = best[("before", d, kind)]
            after = best[("after", d, kind)]
            roofline = machine.engine_roofline(peak, d) if peak else None
            percent = (lambda r: f"{100 * r / roofline:.0f}") if roofline \
                else (lambda r: "-")
            print(f"{d:>4} {kind:>5} {before:10.3e} {after:10.3e} "
                  f"{after / before:6.2f} {percent(before):>9} "
                  f"{percent(after):>8}")


if __name__ == "__main__":
    main()

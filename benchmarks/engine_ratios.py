#!/usr/bin/env python3
"""Runs attnflow_engine_benchmark and prints the ratios its options cost.

Every case runs --repetitions times in random interleaved order (Google
Benchmark's --benchmark_enable_random_interleaving), so that load from other
jobs hits all cases alike; the table gives the median wall and CPU time per call
and their ratios to the reference case of the same size:

  causal_rhs  mask 1 (causal) and 2 (causal + ALiBi) against mask 0 (none)
  heads       d_k = 64 against d_k = d = 768 (12 heads)
  model_heads the same through the Model and AttentionField

Usage: engine_ratios.py [BUILD_DIR] [--repetitions R] [--filter REGEX]
"""
import argparse
import json
import os
import re
import subprocess
import sys

import machine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--filter", default=".")
    args = parser.parse_args()

    program = os.path.join(args.build, "benchmarks", "attnflow_engine_benchmark")
    command = [program,
               "--benchmark_filter=" + args.filter,
               "--benchmark_repetitions=%d" % args.repetitions,
               "--benchmark_enable_random_interleaving=true",
               "--benchmark_format=json"]
    print(machine.machine_peak([args.build])[0], "| cores:", os.cpu_count(),
          "| load:", " ".join("%.2f" % x for x in os.getloadavg()))
    result = json.loads(subprocess.run(command, check=True,
                                       stdout=subprocess.PIPE).stdout)

    # Median wall and CPU times (ms) per case. With one thread the CPU time
    # of the calling thread is all the work, and load from other jobs
    # disturbs it much less than the wall time.
    median = {}
    for run in result["benchmarks"]:
        if run.get("aggregate_name") == "median":
            name = re.sub(r"/(min_time|real_time)[^/]*", "", run["run_name"])
            median[name] = (run["real_time"], run["cpu_time"])

    def reference(name):
        if name.startswith("causal_rhs/"):
            return re.sub(r"/mask:\d+", "/mask:0", name)
        d = re.search(r"/d:(\d+)", name).group(1)
        return re.sub(r"/d_k:\d+", "/d_k:" + d, name)

    print("| case | wall ms | cpu ms | reference | wall ratio | cpu ratio |")
    print("|------|--------:|-------:|-----------|-----------:|----------:|")
    for name, (wall, cpu) in median.items():
        ref = reference(name)
        if ref != name and ref in median:
            print("| %s | %.2f | %.2f | %s | %.3f | %.3f |"
                  % (name, wall, cpu, ref, wall / median[ref][0],
                     cpu / median[ref][1]))
        else:
            print("| %s | %.2f | %.2f | (reference) | 1 | 1 |"
                  % (name, wall, cpu))
    print("load at the end:", " ".join("%.2f" % x for x in os.getloadavg()))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""attnflow against NumPy, side by side in one run: the token right-hand side
in pairs per second for every (n, d, threads), and the ratio.

    /usr/bin/python3 benchmarks/compare_numpy.py [BUILD_DIR]   (default: build)

BUILD_DIR is the CMake build directory holding
benchmarks/attnflow_benchmark. For each (n, d) in turn, this runs
attnflow_benchmark (1 and 2 KernelEngine threads, --benchmark_repetitions,
median aggregate) and then benchmarks/numpy_rhs.py (median of at least 3
calls) with OPENBLAS_NUM_THREADS=1 and with OpenBLAS's default threads (every
core), so that both sides see the same machine load. Before timing, both
compute the right-hand side of the same 512 tokens and must agree to 1e-12.

Threads: attnflow's 1 and 2 are KernelEngine threads; NumPy's are OpenBLAS
threads of the two GEMMs (NumPy's exp and reductions are single-threaded).
The NumPy runs go through Debian's /usr/bin/python3 (python3-numpy on
libopenblas0-pthread) with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from
their environment, so that OpenBLAS picks its own
kernels for this CPU as a user's would; the attnflow runs keep the
environment as it is.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import machine

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
NUMPY_SCRIPT = os.path.join(HERE, "numpy_rhs.py")


# --numpy-core: OpenBLAS's kernels for the NumPy runs (None: its own choice).
NUMPY_CORE = None


def numpy_environment(threads):
    """The environment of a NumPy run: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
    removed (or OPENBLAS_CORETYPE=--numpy-core); OPENBLAS_NUM_THREADS=threads,
    or OpenBLAS's default (every core) for threads=None."""
    env = dict(os.environ)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    if NUMPY_CORE:
        env["OPENBLAS_CORETYPE"] = NUMPY_CORE
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(name, None)
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = str(threads)
    return env


def run_attnflow(binary, n, d, repetitions):
    """{threads: (median pairs/s, median pairs per CPU second)} of
    attnflow_benchmark for this (n, d). The CPU-time rate leaves out the
    time the process waited for a core: with one thread, the rate of the
    core while it ran."""
    command = [binary,
               f"--benchmark_filter=^rhs/n:{n}/d:{d}/threads:[0-9]+/",
               "--benchmark_format=json"]
    if repetitions > 1:
        command += [f"--benchmark_repetitions={repetitions}",
                    "--benchmark_report_aggregates_only=true"]
    output = subprocess.run(command, check=True, capture_output=True,
                            text=True).stdout
    rates = {}
    for entry in json.loads(output)["benchmarks"]:
        if "error_occurred" in entry and entry["error_occurred"]:
            raise RuntimeError(f"{entry['name']}: {entry['error_message']}")
        if repetitions > 1 and entry.get("aggregate_name") != "median":
            continue
        threads = int(re.search(r"/threads:(\d+)/", entry["run_name"]).group(1))
        seconds = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.}[
            entry["time_unit"]]
        rates[threads] = (entry["pairs_per_second"],
                          n * n / (entry["cpu_time"] * seconds))
    return rates


def run_numpy(n, d, threads):
    """(pairs/s, OpenBLAS info) of numpy_rhs.py for this (n, d)."""
    output = subprocess.run([PYTHON, NUMPY_SCRIPT, "--json", "--n", str(n),
                             "--d", str(d)],
                            check=True, capture_output=True, text=True,
                            env=numpy_environment(threads)).stdout
    result = json.loads(output)
    return result["results"][0]["pairs_per_second"], result


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser(
        description="attnflow vs NumPy, token right-hand side in pairs/s")
    parser.add_argument("build_dir", nargs="?", default="build",
                        help="CMake build directory (default: build)")
    parser.add_argument("--n", type=int, nargs="+",
                        default=[1024, 2048, 4096, 8192, 16384])
    parser.add_argument("--d", type=int, nargs="+", default=[2, 3, 16, 128])
    parser.add_argument("--repetitions", type=int, default=3,
                        help="attnflow_benchmark repetitions (median)")
    parser.add_argument("--numpy-core", metavar="CORE",
                        help="OPENBLAS_CORETYPE for the NumPy runs, e.g. "
                             "SkylakeX or Haswell: OpenBLAS 0.3.21 falls back "
                             "to its SSE kernels (Prescott) on CPUs newer than "
                             "itself (default: OpenBLAS's own choice)")
    parser.add_argument("--json-out", metavar="FILE",
                        help="also write every result to FILE as JSON")
    args = parser.parse_args()
    global NUMPY_CORE
    NUMPY_CORE = args.numpy_core

    binary = os.path.join(args.build_dir, "benchmarks", "attnflow_benchmark")
    if not os.access(binary, os.X_OK):
        sys.exit(f"compare_numpy.py: no {binary}; build the target "
                 "attnflow_benchmark (ATTNFLOW_BUILD_BENCHMARKS=ON) first")

    # Same right-hand side on both sides, on the same tokens.
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([binary, f"--write_check={directory}"], check=True)
        check = subprocess.run([PYTHON, NUMPY_SCRIPT, "--check", directory],
                               capture_output=True, text=True,
                               env=numpy_environment(1))
        print(check.stdout, end="")
        if check.returncode != 0:
            sys.exit("compare_numpy.py: attnflow and NumPy disagree\n" +
                     check.stderr)

    _, info = run_numpy(256, 3, None)
    blas = info.get("openblas", {})
    if blas.get("core") == "Prescott" and not NUMPY_CORE:
        print("note: OpenBLAS chose its generic Prescott (SSE) kernels; on an "
              "AVX-512 or AVX2 CPU a fair peer is --numpy-core SkylakeX or "
              "Haswell")
    print(f"NumPy {info['numpy']}; OpenBLAS core {blas.get('core', '?')}, "
          f"default threads {blas.get('threads', '?')} "
          f"({blas.get('config', 'OpenBLAS not found')})")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '')!r} "
          "(removed for the NumPy runs only" +
          (f"; OPENBLAS_CORETYPE={NUMPY_CORE} for them, --numpy-core)"
           if NUMPY_CORE else ")"))
    machine_line, peak = machine.machine_peak([args.build_dir])
    print(machine_line)
    print(f"load average at start: {load_average()}")
    print()
    header = (f"{'n':>6} {'d':>4} {'threads':>7} {'attnflow pairs/s':>17} "
              f"{'numpy pairs/s':>14} {'blas thr':>8} {'ratio':>7} "
              f"{'pairs/CPU-s':>12} {'% roofline':>10}")
    print(header)
    print("-" * len(header), flush=True)

    rows = []
    for d in args.d:
        for n in args.n:
            attnflow = run_attnflow(binary, n, d, args.repetitions)
            for threads in sorted(attnflow):
                rate, cpu_rate = attnflow[threads]
                # attnflow's 1 thread against single-threaded OpenBLAS; 2
                # threads against OpenBLAS's default (every core).
                numpy_rate, numpy_info = run_numpy(
                    n, d, 1 if threads == 1 else None)
                blas_threads = numpy_info.get("openblas", {}).get("threads",
                                                                  "?")
                row = {"n": n, "d": d, "threads": threads,
                       "attnflow_pairs_per_second": rate,
                       "attnflow_pairs_per_cpu_second": cpu_rate,
                       "numpy_pairs_per_second": numpy_rate,
                       "numpy_blas_threads": blas_threads,
                       "ratio": rate / numpy_rate}
                # One thread's CPU-time rate against the per-core roofline
                # (V = I: d_v = d).
                cpu_column, roofline = "-", "-"
                if threads == 1:
                    cpu_column = f"{cpu_rate:.3e}"
                    if peak is not None:
                        row["roofline_fraction"] = (
                            cpu_rate / machine.engine_roofline(peak, d))
                        roofline = f"{100 * row['roofline_fraction']:.0f}"
                rows.append(row)
                print(f"{n:6d} {d:4d} {threads:7d} {rate:17.3e} "
                      f"{numpy_rate:14.3e} {str(blas_threads):>8} "
                      f"{row['ratio']:7.2f} {cpu_column:>12} {roofline:>10}",
                      flush=True)
    print()
    print(f"load average at end: {load_average()}")
    if peak is not None:
        print("pairs/CPU-s: one thread's pairs per second of CPU time (the "
              "core's rate while the process ran); % roofline: that over "
              "the measured FMA peak / (2 d + 20) (doc/theory.md section "
              "4.1)")

    # The targets of the issue: at n = 8192, >= 5x NumPy at d = 3 and >= 1x
    # at d = 128.
    for row in rows:
        target = {3: 5.0, 128: 1.0}.get(row["d"]) if row["n"] == 8192 else None
        if target is not None:
            verdict = "met" if row["ratio"] >= target else "NOT met"
            print(f"target n = 8192, d = {row['d']}, threads = "
                  f"{row['threads']}: ratio {row['ratio']:.2f} >= {target:g}"
                  f" {verdict}")

    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump({"numpy": info, "machine": machine_line,
                   "fma_peak": peak, "rows": rows}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

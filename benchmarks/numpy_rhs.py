#!/usr/bin/python3
"""The token right-hand side of attnflow in vectorised NumPy: the reference
that benchmarks/compare_numpy.py measures attnflow against.

The same right-hand side as benchmarks/rhs_benchmark.cc (doc/theory.md section 1):
n tokens x_i uniform on S^{d-1}, weights 1/n, softmax attention with
beta = 4 and Q = K = V = I,

    X[mu_n](x_i) = sum_j exp(beta <x_i, x_j>) x_j / sum_j exp(beta <x_i, x_j>),
    then projected on the tangent space: v_i -= <v_i, x_i> x_i,

written as a NumPy user would write it: a GEMM for the exponents, the row
maximum subtracted (log-sum-exp), exp, a GEMM for the values. The weights
1/n cancel in the softmax and are left out. One evaluation is n^2 pairs.

Run it with Debian's /usr/bin/python3 (python3-numpy on OpenBLAS, package
libopenblas0-pthread: the BLAS a user would have). OPENBLAS_NUM_THREADS
sets the threads of the two GEMMs (default: every core); exp, max, sum and
the division are NumPy ufuncs and run on one thread whatever it says.

    /usr/bin/python3 numpy_rhs.py --n 1024 8192 --d 3 128 [--json]
    /usr/bin/python3 numpy_rhs.py --check DIR   (see rhs_benchmark.cc)
"""

import argparse
import ctypes
import json
import statistics
import sys
import time

import numpy as np

BETA = 4.0

# Targets are processed in row blocks of at most this many rows, so that the
# n_block x n exponent matrix stays at 2048 x 16384 doubles (256 MiB) for
# n = 16384 instead of 2 GiB for the full n x n matrix; the GEMMs stay large
# enough for OpenBLAS to run at full speed.
BLOCK_ROWS = 2048


def rhs(X, beta=BETA):
    """The tangential softmax attention field at every token of X (n x d)."""
    n = X.shape[0]
    V = np.empty_like(X)
    for start in range(0, n, BLOCK_ROWS):
        Xb = X[start:start + BLOCK_ROWS]
        E = beta * Xb @ X.T                     # exponents, block x n (GEMM)
        E -= E.max(axis=1, keepdims=True)       # log-sum-exp shift
        P = np.exp(E, out=E)                    # kernel, in place
        V[start:start + BLOCK_ROWS] = (P @ X) / P.sum(axis=1)[:, None]
    V -= np.einsum("ij,ij->i", V, X)[:, None] * X   # v -= <v, x> x
    return V


def uniform_tokens(n, d, seed=2024):
    """n points uniform on S^{d-1}: normal vectors, normalised."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X


def time_rhs(n, d, min_repeats=3, min_total=0.5, max_repeats=15):
    """The median wall-clock time of one rhs() call (seconds), and the number
    of timed calls. A first, untimed call warms caches and the allocator
    unless it takes over a second, in which case it counts as a sample."""
    X = uniform_tokens(n, d)
    times = []
    start = time.perf_counter()
    rhs(X)
    first = time.perf_counter() - start
    if first > 1.0:
        times.append(first)
    total = sum(times)
    while len(times) < max_repeats and (len(times) < min_repeats or
                                        total < min_total):
        start = time.perf_counter()
        rhs(X)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
    return statistics.median(times), len(times)


def openblas_info():
    """OpenBLAS's core, configuration and threads, read from the library
    NumPy loaded (empty where that fails, e.g. another BLAS)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps
                     if "libopenblas" in line.split()[-1]}
        if not paths:
            return {}
        lib = ctypes.CDLL(sorted(paths)[0])
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return {"library": sorted(paths)[0],
                "core": lib.openblas_get_corename().decode(),
                "config": lib.openblas_get_config().decode(),
                "threads": int(lib.openblas_get_num_threads())}
    except (OSError, AttributeError, IndexError):
        return {}


def check(directory):
    """Compares rhs() with what attnflow computed for the same tokens
    (attnflow_benchmark --write_check=DIR); returns 0 when they agree."""
    status = 0
    for d in (2, 3, 16, 128):
        X = np.loadtxt(f"{directory}/check_tokens_d{d}.csv", delimiter=",",
                       ndmin=2)
        V_attnflow = np.loadtxt(f"{directory}/check_velocity_d{d}.csv",
                                delimiter=",", ndmin=2)
        V = rhs(X)
        error = np.abs(V - V_attnflow).max() / np.abs(V).max()
        ok = error < 1e-12
        status |= not ok
        print(f"check d = {d:3d}, n = {X.shape[0]}: max relative difference "
              f"attnflow - numpy = {error:.2e} {'ok' if ok else 'FAILED'}")
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+",
                        default=[1024, 2048, 4096, 8192, 16384])
    parser.add_argument("--d", type=int, nargs="+", default=[2, 3, 16, 128])
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of a table")
    parser.add_argument("--check", metavar="DIR",
                        help="compare with attnflow's --write_check=DIR output")
    args = parser.parse_args()

    if args.check:
        return check(args.check)

    info = openblas_info()
    results = []
    for d in args.d:
        for n in args.n:
            seconds, repeats = time_rhs(n, d)
            results.append({"n": n, "d": d, "seconds": seconds,
                            "repeats": repeats,
                            "pairs_per_second": n * n / seconds})
            if not args.json:
                print(f"n = {n:6d}  d = {d:4d}  {seconds * 1e3:10.2f} ms  "
                      f"{n * n / seconds:10.3e} pairs/s  (median of "
                      f"{repeats})", flush=True)
    if args.json:
        json.dump({"numpy": np.__version__, "openblas": info,
                   "results": results}, sys.stdout)
        print()
    elif info:
        print(f"NumPy {np.__version__}, OpenBLAS core {info['core']}, "
              f"{info['threads']} BLAS threads ({info['config']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Cost per time step of the finite-element density solver, split into the
field evaluation and the transport, for FE_DGQ(k), k = 1, 2, on a 2-D box and
on S^2 at three refinement levels.

    /usr/bin/python3 benchmarks/density_benchmark.py [BUILD_DIR]  (default: build)

BUILD_DIR is the CMake build directory holding the `attnflow` program. Each
case is one `attnflow` run with only the density solver (Tokens/number of
tokens = 0, Density/enabled = true, no VTU output), for a fixed number of
SSP-RK3 steps of a fixed Density/time step below the CFL step:

- box: R^2, beta = 1, softmax, Gaussian mu0 = N(0, 0.1 I), domain [-2, 2]^2
  of 4 x 4 coarse cells, refinements 2, 3, 4;
- sphere: S^2, beta = 4, softmax, density 1 + 0.5 x y + 0.4 z, deal.II's
  6-cell hyper_sphere, refinements 2, 3, 4.

The numbers come from the run's TimerOutput summary ("density field": the
three evaluations of X[rho] per step; "density transport": the DG operator
and the positivity limiter of the three stages) and from metrics.csv
(steps_density, dt_density); the DoFs from the first progress line.

The number of steps per run is at most --max-steps (default 20). For the
finer levels the script predicts the cost of a step from the level below
(field x ratio of kernel pairs, transport x ratio of DoFs) and takes fewer
steps (at least --min-steps) so that a run's stepping stays within --budget
seconds. The table reports per-step costs, so the rows stay comparable.
Each case runs --repetitions times (default 1); the row is the repetition with
the median total cost per step. --methods auto direct runs every case with
each Field/method in turn and prints how many times faster the first one's
field is per step.
"""

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import machine

METHOD_USED = re.compile(r"field of the density: layer 1, head 1: ([a-z ]+)")
TIME_STEP = 0.002  # below the CFL step of every case (checked per run)

CASES = {
    "box": {
        "label": "box R^2",
        "settings": {
            "Model/geometry": "euclidean",
            "Model/dimension": "2",
            "Model/beta": "1",
            "Model/normalization": "softmax",
            "Initial condition/type": "gaussian",
            "Initial condition/means": "0",
            "Initial condition/covariances": "0.1*identity",
            "Density/lower corner": "-2",
            "Density/upper corner": "2",
            "Density/subdivisions": "4",
        },
    },
    "sphere": {
        "label": "sphere S^2",
        "settings": {
            "Model/geometry": "sphere",
            "Model/dimension": "3",
            "Model/beta": "4",
            "Model/normalization": "softmax",
            "Initial condition/type": "function",
            "Initial condition/density function": "1 + 0.5*x*y + 0.4*z",
        },
    },
}


def mesh_counts(geometry, refinements, degree):
    """(cells, DoFs, kernel pairs per field evaluation) of the uniform mesh.

    Sources are the QGauss(k + 2) points of the cells, targets the sources
    and the QGauss(k + 2) points of every face (listed once)."""
    q = degree + 2
    if geometry == "box":
        n = 4 * 2 ** refinements
        cells, faces = n * n, 2 * n * (n + 1)
    else:
        cells = 6 * 4 ** refinements
        faces = 2 * cells
    sources = cells * q * q
    targets = sources + faces * q
    return cells, cells * (degree + 1) ** 2, targets * sources


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


TIMER_ROW = re.compile(
    r"^\|\s*(density field|density transport|metrics and output)\s*\|"
    r"\s*(\d+)\s*\|\s*([0-9.eE+-]+)s\s*\|", re.MULTILINE)
TIMER_TOTAL = re.compile(
    r"Total wallclock time elapsed since start\s*\|\s*([0-9.eE+-]+)s")
DOFS = re.compile(r"density: FE_DGQ\((\d+)\), (\d+) DoFs")


def run_case(binary, geometry, degree, refinements, steps, threads, method):
    """One attnflow run with Field/method = method; a dict of what it
    measured."""
    end_time = steps * TIME_STEP
    settings = dict(CASES[geometry]["settings"])
    settings.update({
        "Tokens/number of tokens": "0",
        "Density/enabled": "true",
        "Density/degree": str(degree),
        "Density/refinements": str(refinements),
        "Density/time integrator": "ssp rk3",
        "Density/time step": repr(TIME_STEP),
        "Time/end time": repr(end_time),
        "Time/output interval": repr(end_time),
        "Output/write vtu": "false",
        "Parallel/number of threads": str(threads),
        "Field/method": method,
    })
    with tempfile.TemporaryDirectory(prefix="attnflow-fe-") as directory:
        prm = os.path.join(directory, "run.prm")
        open(prm, "w").close()
        settings["Output/directory"] = os.path.join(directory, "out")
        command = [binary, prm]
        for name, value in settings.items():
            command += ["--set", f"{name}={value}"]
        start = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.monotonic() - start
        if result.returncode != 0:
            raise RuntimeError(f"attnflow failed ({geometry}, k = {degree}, "
                               f"refinements = {refinements}):\n"
                               f"{result.stdout}\n{result.stderr}")
        output = result.stdout + result.stderr
        with open(os.path.join(settings["Output/directory"],
                               "metrics.csv")) as f:
            last = list(csv.DictReader(f))[-1]

    timers = {name: (int(calls), float(seconds))
              for name, calls, seconds in TIMER_ROW.findall(output)}
    dofs = DOFS.search(output)
    used = METHOD_USED.search(output)
    total = TIMER_TOTAL.search(output)
    if not dofs or "density field" not in timers or \
       "density transport" not in timers:
        raise RuntimeError("cannot parse the attnflow output:\n" + output)
    n_steps = int(float(last["steps_density"]))
    if n_steps <= 0:
        raise RuntimeError(f"no density steps taken:\n{output}")
    field_calls, field = timers["density field"]
    transport_calls, transport = timers["density transport"]
    cells, expected_dofs, pairs = mesh_counts(geometry, refinements, degree)
    return {
        "geometry": geometry, "degree": degree, "refinements": refinements,
        "method": method,
        "method_used": used.group(1).strip() if used else method,
        "cells": cells, "dofs": int(dofs.group(2)),
        "expected_dofs": expected_dofs, "pairs_per_evaluation": pairs,
        "steps": n_steps, "dt": float(last["dt_density"]),
        "requested_dt": TIME_STEP,
        "field_seconds": field, "field_calls": field_calls,
        "transport_seconds": transport, "transport_calls": transport_calls,
        "metrics_seconds": timers.get("metrics and output", (0, 0.))[1],
        "timer_total_seconds": float(total.group(1)) if total else None,
        "process_wall_seconds": wall,
        "field_per_step": field / n_steps,
        "transport_per_step": transport / n_steps,
        "total_per_step": (field + transport) / n_steps,
        "dofs_per_second": int(dofs.group(2)) * n_steps / (field + transport),
        "field_share": 100. * field / (field + transport),
        "field_pairs_per_second":
            field_calls * pairs / field if field > 0 else float("nan"),
    }


def plan_steps(previous, geometry, degree, refinements, args):
    """Steps for this case: --max-steps, or fewer when the prediction from
    the level below says a run would exceed --budget seconds."""
    if previous is None:
        return args.max_steps
    _, dofs, pairs = mesh_counts(geometry, refinements, degree)
    predicted = (previous["field_per_step"] *
                 pairs / previous["pairs_per_evaluation"] +
                 previous["transport_per_step"] * dofs / previous["dofs"])
    steps = math.floor(args.budget / predicted) if predicted > 0 else \
        args.max_steps
    return max(args.min_steps, min(args.max_steps, steps))


def measure(binary, geometry, degree, refinements, method, previous, args):
    """The median of --repetitions runs of one case, printed as a row."""
    steps = plan_steps(previous, geometry, degree, refinements, args)
    results = [run_case(binary, geometry, degree, refinements, steps,
                        args.threads, method)
               for _ in range(args.repetitions)]
    results.sort(key=lambda r: r["total_per_step"])
    row = results[len(results) // 2]
    row["repetitions_total_per_step"] = [r["total_per_step"] for r in results]
    print(f"{CASES[geometry]['label']:<10} {degree:>1} {refinements:>3} "
          f"{row['method_used']:<14} "
          f"{row['dofs']:>7} {row['steps']:>5} "
          f"{row['field_per_step']:>12.4e} "
          f"{row['transport_per_step']:>13.4e} "
          f"{row['total_per_step']:>12.4e} "
          f"{row['dofs_per_second']:>9.3e} "
          f"{row['field_share']:>7.1f} "
          f"{row['field_pairs_per_second']:>13.3e}", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(
        description="FE density solver: cost per step, field vs transport")
    parser.add_argument("build_dir", nargs="?", default="build",
                        help="CMake build directory (default: build)")
    parser.add_argument("--geometries", nargs="+", default=["box", "sphere"],
                        choices=sorted(CASES))
    parser.add_argument("--degrees", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--refinements", type=int, nargs="+",
                        default=[2, 3, 4])
    parser.add_argument("--max-steps", type=int, default=20,
                        help="steps per run (default 20)")
    parser.add_argument("--min-steps", type=int, default=3,
                        help="fewest steps of a run cut by --budget "
                             "(default 3)")
    parser.add_argument("--budget", type=float, default=25.,
                        help="seconds of stepping a run should take at most "
                             "(predicted from the level below; default 25)")
    parser.add_argument("--threads", type=int, default=0,
                        help="Parallel/number of threads (default 0: every "
                             "core)")
    parser.add_argument("--methods", nargs="+", default=["auto"],
                        help="Field/method values run side by side per case "
                             "(default: auto); the first is compared with "
                             "each other one")
    parser.add_argument("--repetitions", type=int, default=1,
                        help="runs per case; the row is the median "
                             "(default 1)")
    parser.add_argument("--json-out", metavar="FILE",
                        help="also write every result to FILE as JSON")
    args = parser.parse_args()

    binary = os.path.join(args.build_dir, "attnflow")
    if not os.access(binary, os.X_OK):
        sys.exit(f"density_benchmark.py: no {binary}; build the target "
                 "attnflow first")

    print(f"attnflow: {os.path.abspath(binary)}; Density/time step = "
          f"{TIME_STEP}, SSP-RK3, Parallel/number of threads = "
          f"{args.threads} ({os.cpu_count()} cores)")
    # The peak program is built with the benchmarks; look next to the
    # program first, then in the repository's default build directory.
    print(machine.machine_peak([
        args.build_dir,
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                     "build")])[0])
    print(f"load average at start: {load_average()}")
    print()
    header = (f"{'geometry':<10} {'k':>1} {'ref':>3} {'method':<14} "
              f"{'DoFs':>7} "
              f"{'steps':>5} {'field s/step':>12} {'transp s/step':>13} "
              f"{'total s/step':>12} {'DoFs/s':>9} {'field %':>7} "
              f"{'field pairs/s':>13}")
    print(header)
    print("-" * len(header), flush=True)

    rows, notes = [], []
    for geometry in args.geometries:
        for degree in args.degrees:
            previous = {method: None for method in args.methods}
            for refinements in sorted(args.refinements):
                case_rows = []
                for method in args.methods:
                    row = measure(binary, geometry, degree, refinements,
                                  method, previous[method], args)
                    rows.append(row)
                    case_rows.append(row)
                    previous[method] = row
                for other in case_rows[1:]:
                    print(f"  field {case_rows[0]['method_used']} against "
                          f"{other['method_used']}: "
                          f"{other['field_per_step'] / case_rows[0]['field_per_step']:.1f}x "
                          "faster per step", flush=True)
    for row in rows:
        case = (f"{row['geometry']} k={row['degree']} "
                f"ref={row['refinements']} {row['method']}")
        if row["dofs"] != row["expected_dofs"]:
            notes.append(f"{case}: {row['dofs']} DoFs, expected "
                         f"{row['expected_dofs']} (field pairs/s assumes a "
                         "uniform mesh)")
        if row["field_calls"] != 3 * row["steps"]:
            notes.append(f"{case}: {row['field_calls']} field evaluations "
                         f"for {row['steps']} steps (expected 3 per step)")
        if abs(row["dt"] - TIME_STEP) > 1e-9 * TIME_STEP:
            notes.append(f"{case}: last dt = {row['dt']:.3e}, not the "
                         f"requested {TIME_STEP} (CFL-limited); costs are "
                         "still per step taken")
    print()
    print(f"load average at end: {load_average()}")
    print("s/step: wall seconds per SSP-RK3 step (3 field evaluations, 3 "
          "operator applications and 3 limiter passes); DoFs/s = DoFs x "
          "steps / (field + transport); field pairs/s = kernel (target, "
          "source) pairs per second in the field evaluations (for a fast "
          "method: the pairs of the direct sum it replaces); method: the "
          "one the run's log names for the density's field.")
    for note in notes:
        print("note:", note)

    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump({"time_step": TIME_STEP, "threads": args.threads,
                       "rows": rows}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Fig. 3 of arXiv:2312.10794 (the phase diagram of examples/phase_diagram/):
attnflow's ensemble against a PyTorch implementation of the published scheme,
side by side on this machine.

    /usr/bin/python3 benchmarks/phase_diagram_benchmark.py [BUILD_DIR]
        [--betas 1,4,8] [--systems 2048] [--threads 2] [--full]

The setting is the figure's: d = 2, n = 32 tokens uniform on the circle,
M systems per beta, T = 30, softmax attention with Q = K = V = I, the
statistic P(<x_1, x_2> >= 1 - 1e-3) at t = 0, 0.5, ..., 30. Three programs
run on the same betas (a subset of the 90 values 0.1, ..., 9; each is timed
alone and the times are scaled to all 90 betas, which the script says):

- torch: the published scheme in PyTorch, float64, one (M, n, n) batch per
  step: x <- normalise(x + dt P_x(softmax(beta x x^T) x)), explicit Euler
  with dt = 0.1 (P_x the tangent projection, as attnflow's field);
- attnflow euler: `attnflow --ensemble` with Time/integrator = euler,
  time step 0.1 (the same scheme);
- attnflow dopri5: the default accurate integrator (tolerances 1e-8/1e-10).

It prints the CPU, the seconds per beta of each, the ratios torch / attnflow
euler and the full-diagram estimates, and the differences of the diagrams:
max and mean |p_torch - p_euler| (different random tokens: expect sampling
noise, at most about 3 sqrt(p(1-p)/M)), and |p_euler - p_dopri5| (the error
of Euler at dt = 0.1). With --full the attnflow dopri5 run takes all 90
betas (the example as it is) and its time is measured, not scaled.
"""

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time

import machine

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "examples", "phase_diagram",
                       "phase_diagram.prm")
ALL_BETAS = [round(0.1 * k, 1) for k in range(1, 91)]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def torch_diagram(torch, beta, systems, n=32, d=2, end=30.0, dt=0.1,
                  every=5, delta=1e-3, seed=0):
    """p(t) = P(<x_1, x_2> >= 1 - delta) at t = 0, every * dt, ..., end."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(systems, n, d, dtype=torch.float64, generator=g)
    x = x / x.norm(dim=-1, keepdim=True)
    steps = int(round(end / dt))
    p = []

    def record():
        p.append(float(((x[:, 0, :] * x[:, 1, :]).sum(-1) >= 1 - delta)
                       .double().mean()))

    record()
    for step in range(1, steps + 1):
        a = torch.softmax(beta * x @ x.transpose(1, 2), dim=-1)
        v = a @ x
        v = v - (v * x).sum(-1, keepdim=True) * x
        x = x + dt * v
        x = x / x.norm(dim=-1, keepdim=True)
        if step % every == 0:
            record()
    return p


def attnflow_diagram(binary, betas, systems, threads, scheme, folder):
    """Runs the example on @p betas; returns (seconds, {beta: p(t)})."""
    arguments = [binary, "--ensemble", EXAMPLE,
                 "--set", "Ensemble/values=" + ", ".join(map(str, betas)),
                 "--set", "Ensemble/number of systems=%d" % systems,
                 "--set", "Ensemble/plot=false",
                 "--set", "Parallel/number of threads=%d" % threads,
                 "--set", "Output/directory=" + folder]
    if scheme == "euler":
        arguments += ["--set", "Time/integrator=euler",
                      "--set", "Time/time step=0.1"]
    start = time.perf_counter()
    subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    p = {}
    with open(os.path.join(folder, "ensemble.csv")) as f:
        for row in csv.DictReader(f):
            if row["statistic"] == "first_pair":
                p.setdefault(float(row["value"]), []).append(float(row["mean"]))
    return seconds, p


def differences(a, b):
    d = [abs(x - y) for x, y in zip(a, b)]
    return max(d), sum(d) / len(d)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--betas", default="1,4,8")
    parser.add_argument("--systems", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    binary = os.path.join(args.build, "attnflow")
    betas = [float(b) for b in args.betas.split(",")]
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is missing: apt-get install python3-torch")
    torch.set_num_threads(args.threads)

    print(machine.machine_peak([args.build])[0])
    print("CPU: %s, %d threads; PyTorch %s (float64); %d systems per beta, "
          "betas %s" % (cpu_model(), args.threads, torch.__version__,
                        args.systems, betas), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        torch_seconds, torch_p = 0.0, {}
        for beta in betas:
            start = time.perf_counter()
            torch_p[beta] = torch_diagram(torch, beta, args.systems)
            torch_seconds += time.perf_counter() - start
            print("torch, beta = %g: %.1f s" % (beta, time.perf_counter() - start),
                  flush=True)
        euler_seconds, euler_p = attnflow_diagram(
            binary, betas, args.systems, args.threads, "euler",
            os.path.join(scratch, "euler"))
        print("attnflow euler: %.1f s" % euler_seconds, flush=True)
        dopri_betas = ALL_BETAS if args.full else betas
        dopri_seconds, dopri_p = attnflow_diagram(
            binary, dopri_betas, args.systems, args.threads, "dopri5",
            os.path.join(scratch, "dopri5"))

    per_beta = {"torch euler": torch_seconds / len(betas),
                "attnflow euler": euler_seconds / len(betas),
                "attnflow dopri5": dopri_seconds / len(dopri_betas)}
    print("\n%-16s %12s %22s" % ("program", "s per beta",
                                 "90 betas (s)"))
    for name, seconds in per_beta.items():
        measured = args.full and name == "attnflow dopri5"
        print("%-16s %12.2f %15.0f %s" % (name, seconds, 90 * seconds,
                                          "measured" if measured else
                                          "scaled"))
    print("\nratio torch / attnflow euler (same scheme): %.1f"
          % (per_beta["torch euler"] / per_beta["attnflow euler"]))
    print("ratio torch / attnflow dopri5 (accurate):   %.1f"
          % (per_beta["torch euler"] / per_beta["attnflow dopri5"]))
    print("\n%6s %28s %28s" % ("beta", "|torch - euler| max, mean",
                               "|euler - dopri5| max, mean"))
    for beta in betas:
        a = differences(torch_p[beta], euler_p[beta])
        b = differences(euler_p[beta], dopri_p[beta])
        print("%6.1f %14.4f %12.4f %15.4f %12.4f" % (beta, *a, *b))


if __name__ == "__main__":
    main()

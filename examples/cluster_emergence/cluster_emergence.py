#!/usr/bin/env python3
"""Clusters emerging from the uniform measure on S^1 and S^2.

For each sphere and temperature beta, runs attnflow on
cluster_emergence.prm (tokens only, softmax, Q = K = V = I) and reads
metrics.csv: the first clusters are the largest number of clusters
(clusters_tokens: linked groups with at least 2 % of the tokens) seen before
any merging, and the time they first all exist (for a single cluster, which
is linked from the start, the time the order parameter |mean| reaches 1/2). Linear theory around the
uniform measure (doc/theory.md sections 3.3 and 3.4) predicts the mode that grows
fastest: on S^1 the Fourier mode k with rate k^2 I_k(beta) / (beta I_0(beta))
- k clusters - and on S^2 the spherical harmonic degree l with rate
l (l + 1) i_l(beta) / (beta i_0(beta)); fluctuations of size n^(-1/2) reach
order one at about t* = log(sqrt(n)) / lambda.

Usage: examples/cluster_emergence/cluster_emergence.py [--binary build/attnflow]
       [--betas 1,4,9,16] [--tokens 1000] [--seeds 4]
       [--output output/cluster_emergence]
"""
import argparse
import csv
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def bessel_i(order, x, terms=200):
    """The modified Bessel function I_nu(x) of real order nu >= 0 (series)."""
    total = 0.0
    for m in range(terms):
        log_term = ((2 * m + order) * math.log(x / 2) - math.lgamma(m + 1)
                    - math.lgamma(m + order + 1))
        total += math.exp(log_term)
    return total


def growth_rates(sphere_dimension, beta, modes=30):
    """Linear growth rates (mode, lambda) around the uniform measure."""
    if sphere_dimension == 1:
        return [(k, k * k * bessel_i(k, beta) / (beta * bessel_i(0, beta)))
                for k in range(1, modes)]
    # i_l(b) = sqrt(pi / (2 b)) I_{l + 1/2}(b): the prefactor cancels.
    return [(l, l * (l + 1) * bessel_i(l + 0.5, beta)
             / (beta * bessel_i(0.5, beta))) for l in range(1, modes)]


def run(binary, sphere_dimension, beta, tokens, seed, directory):
    """Runs attnflow; returns the rows (t, clusters, order) of metrics.csv."""
    radius = 0.1 if sphere_dimension == 1 else 0.25
    command = [binary, os.path.join(HERE, "cluster_emergence.prm"),
               "--set", f"Model/dimension={sphere_dimension + 1}",
               "--set", f"Model/beta={beta}",
               "--set", f"Tokens/number of tokens={tokens}",
               "--set", f"Initial condition/seed={seed}",
               "--set", f"Tokens/cluster radius={radius}",
               "--set", f"Output/directory={directory}"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(directory, "metrics.csv"), newline="") as f:
        return [(float(row["t"]), int(float(row["clusters_tokens"])),
                 float(row["order_tokens"])) for row in csv.DictReader(f)]


def first_clusters(rows):
    """(count, time): the most clusters seen before the count first drops
    from its maximum, and the first time that many existed (one cluster:
    the first time |mean| >= 1/2; None if never)."""
    best, when = 0, None
    for t, count, _ in rows:
        if count > best:
            best, when = count, t
        elif count < best and best >= 2:
            break
    if best == 1:
        when = next((t for t, _, order in rows if order >= 0.5), None)
    return best, when


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="build/attnflow")
    parser.add_argument("--betas", default="1,4,9,16")
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=4,
                        help="runs per case, seeds 1 .. SEEDS")
    parser.add_argument("--output", default="output/cluster_emergence")
    arguments = parser.parse_args()
    if not os.access(arguments.binary, os.X_OK):
        sys.exit(f"cluster_emergence.py: no attnflow program at "
                 f"'{arguments.binary}' (build it with scripts/setup.sh, or "
                 f"give --binary)")
    betas = [float(b) for b in arguments.betas.split(",")]

    print(f"{'sphere':>6} {'beta':>5} | {'fastest mode':>12} {'lambda':>7} "
          f"{'t*':>6} {'next':>12} | first clusters, at t (per seed) | "
          f"at t_end")
    for sphere_dimension in (1, 2):
        for beta in betas:
            ranked = sorted(growth_rates(sphere_dimension, beta),
                            key=lambda pair: -pair[1])
            (mode, rate), (runner_up, runner_up_rate) = ranked[0], ranked[1]
            firsts, lasts = [], []
            for seed in range(1, arguments.seeds + 1):
                directory = os.path.join(
                    arguments.output,
                    f"S{sphere_dimension}_beta_{beta:g}_seed_{seed}")
                rows = run(arguments.binary, sphere_dimension, beta,
                           arguments.tokens, seed, directory)
                count, when = first_clusters(rows)
                when_text = "never" if when is None else f"{when:.2f}"
                firsts.append(f"{count} at {when_text}")
                lasts.append(str(rows[-1][1]))
            name = "k" if sphere_dimension == 1 else "l"
            predicted = math.log(math.sqrt(arguments.tokens)) / rate
            print(f"   S^{sphere_dimension} {beta:5g} | {name} = {mode:<8d} "
                  f"{rate:7.3f} {predicted:6.2f} {runner_up:>3d}: "
                  f"{runner_up_rate:7.3f} | {', '.join(firsts)} | "
                  f"{', '.join(lasts)}", flush=True)


if __name__ == "__main__":
    main()

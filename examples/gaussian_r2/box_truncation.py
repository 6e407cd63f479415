#!/usr/bin/env python3
"""How much the box of gaussian_r2_exact.prm changes the field of case E2.

The field of softmax attention at x is V times the mean of the sources
tilted by exp(beta <Qx, Ky>). For the Gaussian N(m, S) of t = 0 this prints
the largest change of the field when the sources are cut to the box
[-L, L]^2 (against the whole plane, [-12, 12]^2, where the Gaussian's tail
is below 1e-50), where rho > 1e-3, and t |div(rho dX)|_L1, the size of
the L1 error it makes by t (doc/theory.md section 3.2 for the exact
solution; the sums are Gauss-Legendre rules, exact to round-off here).

    /usr/bin/python3 examples/gaussian_r2/box_truncation.py [L ...]
"""

import sys

import numpy as np

Q = np.array([[1., 0.5], [0., 1.]])
K = np.eye(2)
V = np.array([[-1., 0.3], [0., -0.5]])
BETA = 1.
MEAN = np.array([0.5, -0.2])
COVARIANCE = np.array([[0.5, 0.1], [0.1, 0.3]])
T = 0.5


def density(points):
    """The Gaussian N(MEAN, COVARIANCE) at the rows of points."""
    d = points - MEAN
    inverse = np.linalg.inv(COVARIANCE)
    return (np.exp(-0.5 * np.einsum("ij,jk,ik->i", d, inverse, d)) /
            (2 * np.pi * np.sqrt(np.linalg.det(COVARIANCE))))


def sources(half_width, n):
    """Gauss-Legendre points of [-half_width, half_width]^2, weights rho w."""
    x, w = np.polynomial.legendre.leggauss(n)
    x, w = x * half_width, w * half_width
    grid = np.stack([a.ravel() for a in np.meshgrid(x, x, indexing="ij")], 1)
    return grid, np.outer(w, w).ravel() * density(grid)


def field(targets, points, weights):
    """V times the tilted mean of the sources at each target."""
    out = np.empty_like(targets)
    for i in range(0, len(targets), 500):
        e = BETA * (targets[i:i + 500] @ Q.T) @ (points @ K.T).T
        k = np.exp(e - e.max(axis=1, keepdims=True)) * weights
        out[i:i + 500] = (k @ points) / k.sum(axis=1, keepdims=True)
    return out @ V.T


def main():
    whole = sources(12., 400)
    for half_width in [float(a) for a in sys.argv[1:]] or [4., 5.]:
        n = 161
        g = np.linspace(-half_width, half_width, n)
        h = g[1] - g[0]
        targets = np.stack(
            [a.ravel() for a in np.meshgrid(g, g, indexing="ij")], 1)
        change = (field(targets, *sources(half_width, 160)) -
                  field(targets, *whole))
        rho = density(targets)
        flux = (rho[:, None] * change).reshape(n, n, 2)
        divergence = (np.gradient(flux[:, :, 0], h, axis=0) +
                      np.gradient(flux[:, :, 1], h, axis=1))
        print(f"box [-{half_width:g}, {half_width:g}]^2: largest change of "
              f"the field where rho > 1e-3: "
              f"{np.abs(change[rho > 1e-3]).max():.2e}; "
              f"t |div(rho dX)|_L1 at t = {T}: "
              f"{T * np.abs(divergence).sum() * h * h:.1e}")


if __name__ == "__main__":
    main()

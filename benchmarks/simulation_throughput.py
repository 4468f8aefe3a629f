"""Simulation throughput: weight updates per second, thermoinfer against a plain NumPy loop.

Both integrate the same batch Langevin dynamics (Euler-Maruyama, Perceptron rule, float64,
Stratonovich heat and work accumulated every step) with the same parameters, in the same
process. The NumPy reference is the straightforward step loop a physicist would write, with its
replicas vectorised (matrix-matrix products) and NumPy's default PCG64 Gaussian generator.
Prints the throughput of each and their ratio; compile time of the JAX version is reported
separately (first call) and excluded from the timed runs.

    .venv/bin/python benchmarks/simulation_throughput.py [--N 200 --alpha 1 --replicas 64 --steps 1000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np


def numpy_reference(rng, xi, labels, w0, *, k, nu, T, dt, n_steps):
    """Plain NumPy Euler-Maruyama with trapezoidal heat and work (the reference)."""
    R, P, N = xi.shape
    sq = math.sqrt(N)

    def force(w):
        a = np.einsum("rpn,rn->rp", xi, w) / sq
        err = np.where(labels > 0, a < 0, a >= 0)
        return nu * np.einsum("rp,rpn->rn", labels * err, xi) / sq

    w = w0.copy()
    f = force(w)
    q = np.zeros(R)
    work = np.zeros(R)
    noise = math.sqrt(2 * T * dt)
    for _ in range(n_steps):
        F = -k * w + f
        w1 = w + dt * F + noise * rng.standard_normal(w.shape)
        f1 = force(w1)
        F1 = -k * w1 + f1
        dw = w1 - w
        q += 0.5 * np.sum((F + F1) * dw, axis=1)
        work += 0.5 * np.sum((f + f1) * dw, axis=1)
        w, f = w1, f1
    return w, q, work


def main(args):
    import jax

    import thermoinfer as ti

    N, R, n_steps = args.N, args.replicas, args.steps
    k, nu, T, dt = 1.0, 1.0, 1.0, 0.01
    data = ti.memorization_data(jax.random.key(0), N, args.alpha, n_replicas=R)
    params = ti.NeuronParams(k, nu, T)
    t = n_steps * dt
    updates = R * N * n_steps

    t0 = time.perf_counter()
    ti.simulate(jax.random.key(1), data, "perceptron", params, t=t, dt=dt)  # compile + run
    first = time.perf_counter() - t0
    best_jax = math.inf
    for rep in range(args.repeats):
        t0 = time.perf_counter()
        r = ti.simulate(jax.random.key(2 + rep), data, "perceptron", params, t=t, dt=dt)
        np.asarray(r.heat)
        best_jax = min(best_jax, time.perf_counter() - t0)

    xi = np.asarray(data.inputs)
    labels = np.asarray(data.labels)
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((R, N)) * math.sqrt(T / k)
    best_np = math.inf
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        numpy_reference(rng, xi, labels, w0, k=k, nu=nu, T=T, dt=dt, n_steps=n_steps)
        best_np = min(best_np, time.perf_counter() - t0)

    print(f"N={N} P={data.n_patterns} replicas={R} steps={n_steps} (Perceptron, Euler-Maruyama, float64)")
    print(f"thermoinfer: {updates / best_jax:.3e} weight updates/s  (best of {args.repeats}; "
          f"first call incl. compile {first:.2f} s)")
    print(f"numpy loop : {updates / best_np:.3e} weight updates/s  (best of {args.repeats})")
    print(f"ratio thermoinfer / numpy = {best_np / best_jax:.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=200)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--replicas", type=int, default=64)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    main(p.parse_args())

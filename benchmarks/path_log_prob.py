"""Path log-probability and entropy production throughput: thermoinfer.paths against NumPy.

Workload: 64 replicas x 10^4 steps x N = 1000 weights, float64, Hebbian (exact OU)
paths, processed in chunks over time so that memory stays bounded. For every transition both
the forward and the reversed exact OU log-densities are evaluated; their difference summed over
the path is the medium entropy q/T, and with the boundary terms the total entropy production.
Each implementation runs in its own process, which reports its wall time for the log-prob/EP
part only (path generation is timed separately and excluded) and its peak resident memory.

    .venv/bin/python benchmarks/path_log_prob.py [--replicas 64 --steps 10000 --N 1000 --chunk 250]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np

K_STIFF, TEMP, DT = 1.0, 1.5, 1e-3


def _numpy_chunks(args):
    rng = np.random.default_rng(1)
    R, N = args.replicas, args.N
    f = rng.standard_normal(N) * 0.5
    a = math.exp(-K_STIFF * DT)
    b = -math.expm1(-K_STIFF * DT) / K_STIFF
    s = math.sqrt(-TEMP * math.expm1(-2 * K_STIFF * DT) / K_STIFF)
    w = rng.standard_normal((R, N)) * math.sqrt(TEMP / K_STIFF)
    for start in range(0, args.steps, args.chunk):
        n = min(args.chunk, args.steps - start)
        path = np.empty((R, n + 1, N))
        path[:, 0] = w
        z = rng.standard_normal((R, n, N))
        for i in range(n):
            path[:, i + 1] = a * path[:, i] + b * f + s * z[:, i]
        w = path[:, -1]
        yield path, f, s, a, b


def run_numpy(args):
    gen = 0.0
    work = 0.0
    total_fwd = np.zeros(args.replicas)
    total_ep = np.zeros(args.replicas)
    it = _numpy_chunks(args)
    while True:
        t0 = time.perf_counter()
        try:
            path, f, s, a, b = next(it)
        except StopIteration:
            break
        gen += time.perf_counter() - t0
        t0 = time.perf_counter()
        prev, nxt = path[:, :-1], path[:, 1:]
        N = path.shape[-1]
        norm = -0.5 * N * math.log(2 * math.pi * s * s)
        fwd = norm - np.sum((nxt - a * prev - b * f) ** 2, axis=-1) / (2 * s * s)
        rev = norm - np.sum((prev - a * nxt - b * f) ** 2, axis=-1) / (2 * s * s)
        total_fwd += fwd.sum(-1)
        total_ep += (fwd - rev).sum(-1)
        work += time.perf_counter() - t0
    return gen, work, total_fwd, total_ep


def run_thermoinfer(args):
    import jax
    import jax.numpy as jnp

    from thermoinfer.paths import ou_transition_log_prob

    R, N = args.replicas, args.N
    with jax.enable_x64(True):
        rng = np.random.default_rng(1)
        f = jnp.asarray(rng.standard_normal(N) * 0.5)
        a = math.exp(-K_STIFF * DT)
        b = -math.expm1(-K_STIFF * DT) / K_STIFF
        s = math.sqrt(-TEMP * math.expm1(-2 * K_STIFF * DT) / K_STIFF)

        @jax.jit
        def chunk(key, w):
            def step(w, z):
                w1 = a * w + b * f + s * z
                return w1, w1

            z = jax.random.normal(key, (args.chunk, R, N))
            w_end, ws = jax.lax.scan(step, w, z)
            prev = jnp.concatenate([w[None], ws[:-1]], axis=0)
            return w_end, prev, ws

        @jax.jit
        def log_prob_and_ep(prev, nxt):
            # pairs (time, replica, N); scalar dt/k/T broadcast, so every pair is one transition
            fwd = ou_transition_log_prob(prev, nxt, DT, K_STIFF, f, TEMP)
            rev = ou_transition_log_prob(nxt, prev, DT, K_STIFF, f, TEMP)
            return fwd.sum(0), (fwd - rev).sum(0)

        w = jnp.asarray(rng.standard_normal((R, N)) * math.sqrt(TEMP / K_STIFF))
        gen = work = 0.0
        total_fwd = np.zeros(R)
        total_ep = np.zeros(R)
        key = jax.random.key(2)
        for c in range(0, args.steps, args.chunk):
            t0 = time.perf_counter()
            w, prev, nxt = chunk(jax.random.fold_in(key, c), w)
            prev.block_until_ready()
            gen += time.perf_counter() - t0
            t0 = time.perf_counter()
            fwd, ep = log_prob_and_ep(prev, nxt)
            total_fwd += np.asarray(fwd)
            total_ep += np.asarray(ep)
            work += time.perf_counter() - t0
    return gen, work, total_fwd, total_ep


def child(impl, args):
    t0 = time.perf_counter()
    gen, work, fwd, ep = (run_numpy if impl == "numpy" else run_thermoinfer)(args)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": impl, "generation_s": gen, "logprob_ep_s": work,
                      "total_s": time.perf_counter() - t0, "peak_rss_mib": peak_mib,
                      "mean_log_prob": float(np.mean(fwd)), "mean_ep": float(np.mean(ep))}))


def main(args):
    res = {}
    for impl in ("numpy", "thermoinfer"):
        cmd = [sys.executable, __file__, "--child", impl, "--replicas", str(args.replicas),
               "--steps", str(args.steps), "--N", str(args.N), "--chunk", str(args.chunk)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        res[impl] = json.loads(out.stdout.strip().splitlines()[-1])
    transitions = args.replicas * args.steps
    print(f"{args.replicas} replicas x {args.steps} steps x N={args.N}, float64, chunk {args.chunk} steps")
    for impl, r in res.items():
        print(f"{impl:12s} log-prob+EP: {transitions * args.N / r['logprob_ep_s']:.3e} weight-transitions/s "
              f"({r['logprob_ep_s']:.2f} s); generation {r['generation_s']:.2f} s; "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB; mean EP/path {r['mean_ep']:.3f} nat")
    ratio = res["numpy"]["logprob_ep_s"] / res["thermoinfer"]["logprob_ep_s"]
    print(f"throughput ratio thermoinfer / numpy = {ratio:.2f}")
    print(f"peak memory ratio thermoinfer / numpy = "
          f"{res['thermoinfer']['peak_rss_mib'] / res['numpy']['peak_rss_mib']:.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=64)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--N", type=int, default=1000)
    p.add_argument("--chunk", type=int, default=250)
    p.add_argument("--child", choices=("numpy", "thermoinfer"))
    a = p.parse_args()
    if a.child:
        child(a.child, a)
    else:
        main(a)

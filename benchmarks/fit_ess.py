"""Effective samples per second: exact-transition likelihood vs a latent-path Euler–Maruyama model.

Both fit the same data — a Hebbian learning neuron observed every ``dt`` (simulated exactly,
docs/theory/paths-and-entropy-production.md, eq. (72)) — for k, nu and D = mu T with the same priors, by NUTS compiled once
(:class:`thermoinfer.inference.calibration.CompiledNUTS`, numpyro's NUTS kernel), in the same
process:

* **exact**: the ``neuron`` model program — the exact OU transition density between the
  observations (:func:`thermoinfer.paths.ou_transition_log_prob`), no latent variables;
* **latent EM**: the usual alternative for a model without an exact kernel — ``substeps - 1``
  latent points between consecutive observations, and the Euler–Maruyama (Itô pre-point) kernel
  of :func:`thermoinfer.paths.em_transition_log_prob` on the fine grid for every sub-step
  (``R K (substeps - 1) N`` latent variables).

Printed: median wall time of ``--repeats`` timed runs (compilation excluded: each sampler runs
once before), the
minimum bulk ESS over k, nu, D, ESS per second of each and their ratio, and the posterior means
(the latent model also carries the O(dt/substeps) bias of the EM kernel). Not part of CI.

    .venv/bin/python benchmarks/fit_ess.py [--N 4 --replicas 2 --steps 100 --dt 0.1 --substeps 4
                                            --warmup 500 --draws 1000 --repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def latent_em_model(times, observations=None, *, inputs, labels, substeps, initial=None,
                    stiffness_prior=(0.0, 1.0), learning_rate_scale=2.0,
                    diffusion_prior=(3.0, 2.0)):
    """Neuron with latent sub-step points and Euler–Maruyama kernels on the fine grid."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    from thermoinfer.dynamics import NeuronParams, total_force
    from thermoinfer.paths import em_transition_log_prob
    from thermoinfer.rules import get_rule

    rule = get_rule("hebbian")
    k = numpyro.sample("stiffness", dist.LogNormal(*stiffness_prior))
    nu = numpyro.sample("learning_rate", dist.HalfNormal(learning_rate_scale))
    D = numpyro.sample("diffusion", dist.InverseGamma(*diffusion_prior))
    obs = jnp.asarray(observations)
    R, K1, N = obs.shape
    K = K1 - 1
    h = (times[1] - times[0]) / substeps
    latent = numpyro.sample("latent", dist.ImproperUniform(
        constraints.real, (), event_shape=(R, K, substeps - 1, N)))
    # fine path per interval: obs_i, latent_i1 .. latent_i(M-1), obs_{i+1}
    fine = jnp.concatenate([obs[:, :-1, None, :], latent, obs[:, 1:, None, :]], axis=2)
    prev, nxt = fine[:, :, :-1, :], fine[:, :, 1:, :]
    drift = total_force(prev, jnp.asarray(inputs), jnp.asarray(labels), rule,
                        NeuronParams(k, nu, D))
    numpyro.factor("path", jnp.sum(em_transition_log_prob(prev, nxt, drift, h, D)))


def _min_ess(samples, names):
    from arviz_stats.base import array_stats

    return min(float(array_stats.ess(np.asarray(samples[n])[None] if np.ndim(samples[n]) == 1
                                     else np.asarray(samples[n]), method="bulk",
                                     chain_axis=0, draw_axis=1)) for n in names)


def _time_run(sampler, keys, **data):
    """Median wall time over runs with different keys; the output of the median run."""
    runs = []
    for key in keys:
        t0 = time.perf_counter()
        out = sampler.run(key, **data)  # returns NumPy arrays: the work is done
        runs.append((time.perf_counter() - t0, out))
    runs.sort(key=lambda r: r[0])
    wall, out = runs[len(runs) // 2]
    return out, wall


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--N", type=int, default=4, help="weights")
    p.add_argument("--alpha", type=float, default=1.0, help="load P/N")
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--steps", type=int, default=100, help="observed transitions per replica")
    p.add_argument("--dt", type=float, default=0.1, help="observation interval")
    p.add_argument("--substeps", type=int, default=4, help="EM sub-steps per observation interval")
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="timed runs (median reported)")
    args = p.parse_args(argv)

    import jax

    from thermoinfer.data.observations import simulate_neuron
    from thermoinfer.inference.calibration import CompiledNUTS
    from thermoinfer.inference.registry import load_model

    data = simulate_neuron(args.seed, args.N, args.alpha, t=args.steps * args.dt, dt=args.dt,
                           n_replicas=args.replicas)
    obs = np.asarray(data["observations"].values)
    x = np.asarray(data["inputs"].values)
    y = np.asarray(data["labels"].values)
    times = np.asarray(data["time"].values)
    names = ("stiffness", "learning_rate", "diffusion")
    neuron = load_model("neuron")
    common = dict(warmup=args.warmup, draws=args.draws, seed=args.seed)
    rows = {}
    for label, model, kw in (
        ("exact", neuron.model, dict(rule="hebbian", method="auto", temperature=None)),
        ("latent EM", latent_em_model, dict(substeps=args.substeps)),
    ):
        t0 = time.perf_counter()
        sampler = CompiledNUTS(model, times, dict(observations=obs, inputs=x, labels=y, **kw),
                               **common)
        sampler.run(jax.random.key(0), observations=obs, inputs=x, labels=y)  # compile
        compile_s = time.perf_counter() - t0
        keys = [jax.random.key(i) for i in range(1, 1 + args.repeats)]
        out, wall = _time_run(sampler, keys, observations=obs, inputs=x, labels=y)
        ess = _min_ess(out.samples, names)
        means = {n: float(np.mean(out.samples[n])) for n in names}
        rows[label] = (wall, ess, ess / wall, compile_s, int(out.diverging.sum()), means)
    print(f"Hebbian neuron: N={args.N}, P={round(args.alpha * args.N)}, replicas={args.replicas}, "
          f"{args.steps} transitions at dt={args.dt}; latent EM with {args.substeps} sub-steps "
          f"({args.replicas * args.steps * (args.substeps - 1) * args.N} latent variables); "
          f"NUTS {args.warmup} warmup + {args.draws} draws, 1 chain")
    print(f"{'model':<11}{'wall s':>9}{'min ESS':>9}{'ESS/s':>10}{'compile s':>11}{'div':>5}   "
          "posterior means (k, nu, D; truth 1, 1, 1)")
    for label, (wall, ess, rate, comp, div, means) in rows.items():
        m = ", ".join(f"{means[n]:.3f}" for n in names)
        print(f"{label:<11}{wall:>9.2f}{ess:>9.0f}{rate:>10.1f}{comp:>11.1f}{div:>5}   {m}")
    ratio = rows["exact"][2] / rows["latent EM"][2]
    print(f"ESS per second, exact / latent EM: {ratio:.1f}")
    return ratio


if __name__ == "__main__":
    main()

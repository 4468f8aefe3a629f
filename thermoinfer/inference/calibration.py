r"""Calibration of a model and its sampler: NUTS compiled once for many data sets, SBC, coverage.

Simulation-based calibration (Talts et al., arXiv:1804.06788) draws parameters from the prior,
simulates a data set from the model program, fits it, and records the rank of the true value
among the posterior draws; for a correct model, likelihood and sampler the ranks are uniform.
Repeating this for a hundred data sets needs a sampler that is **compiled once** and reused for
data of fixed shapes.

:class:`CompiledNUTS` is numpyro's NUTS kernel (``numpyro.infer.hmc.hmc``, the kernel of
``numpyro.infer.NUTS`` with the same adaptation: step size by dual averaging, diagonal mass
matrix) driven by one jitted program ``(key, data) -> draws``; the data enter as arguments, so
a new data set of the same shapes runs without recompiling. (``numpyro.infer.MCMC.run``
recompiles its sampling loop on every call in numpyro 0.22 — about 1.5 s each on a CPU — which
is why calibration does not use it.) Chains run one after another inside the program.

Helpers: :func:`prior_simulator` (parameters and data drawn by the model program itself),
:func:`sbc_ranks`, :func:`rank_uniformity` (χ² test), :func:`interval_coverage`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["CompiledNUTS", "NUTSDraws", "prior_simulator", "sbc_ranks", "rank_uniformity",
           "interval_coverage", "split_kwargs"]


def _is_array(v) -> bool:
    """A numeric array, or a tuple (e.g. sufficient statistics) of numeric arrays."""
    from .chains import _is_dynamic

    return _is_dynamic(v)


def _shapes(data: dict) -> dict:
    import jax

    return {k: jax.tree.map(np.shape, v) for k, v in data.items()}


def split_kwargs(kwargs: dict) -> tuple[dict, dict]:
    """``(dynamic, static)``: numeric arrays (and tuples of them) become traced arguments, the
    rest is fixed."""
    dynamic = {k: v for k, v in kwargs.items() if _is_array(v)}
    static = {k: v for k, v in kwargs.items() if k not in dynamic}
    return dynamic, static


class NUTSDraws(NamedTuple):
    """Output of :meth:`CompiledNUTS.run` (NumPy arrays with leading ``(chain, draw)`` axes)."""

    samples: dict
    """constrained draws of every site (deterministic sites included)"""
    diverging: np.ndarray
    num_steps: np.ndarray


class CompiledNUTS:
    """NUTS for many data sets of one shape, compiled once.

    Parameters
    ----------
    model : callable
        numpyro program ``model(times, observations=None, **kwargs)``.
    times : array_like
        Observation times (fixed: part of the compiled program).
    example_kwargs : dict
        Model keyword arguments of one data set, ``observations`` included. Numeric arrays are
        the data of each run (their shapes are fixed); everything else (strings, numbers,
        tuples) is fixed at construction.
    warmup, draws : int
        Warmup (adaptation) and kept steps per chain.
    chains : int
        Chains per run (sequential inside the program).
    thin : int
        Keep every ``thin``-th draw (``draws`` counts kept draws).
    target_accept, max_tree_depth
        NUTS settings, as in ``numpyro.infer.NUTS``.
    seed : int
        Seed of the initialisation (prior median, as ``init_to_median``).

    Examples
    --------
    >>> sampler = CompiledNUTS(model, times, dict(observations=y0, inputs=x, labels=s),
    ...                        warmup=300, draws=400)                       # doctest: +SKIP
    >>> out = sampler.run(jax.random.key(0), observations=y1, inputs=x, labels=s)  # doctest: +SKIP
    """

    def __init__(self, model, times, example_kwargs: dict, *, warmup: int, draws: int,
                 chains: int = 1, thin: int = 1, target_accept: float = 0.8,
                 max_tree_depth: int = 10, seed: int = 0):
        import jax
        import jax.numpy as jnp
        from numpyro.infer import init_to_median
        from numpyro.infer.hmc import hmc
        from numpyro.infer.util import initialize_model

        self.times = np.asarray(times, dtype=float)
        dynamic, static = split_kwargs(dict(example_kwargs))
        self.static = static
        self.dynamic_shapes = _shapes(dynamic)
        times_ = self.times

        def wrapped(**dyn):
            return model(times_, **static, **dyn)

        with jax.enable_x64(True):
            info = initialize_model(jax.random.key(seed), wrapped, model_kwargs=dynamic,
                                    dynamic_args=True, init_strategy=init_to_median(num_samples=31))
        self._z0 = info.param_info.z
        init_kernel, sample_kernel = hmc(potential_fn_gen=info.potential_fn, algo="NUTS")
        postprocess = info.postprocess_fn
        n_keep = int(draws) * int(thin)

        def one_chain(key, dyn):
            state = init_kernel(self._z0, int(warmup), target_accept_prob=float(target_accept),
                                max_tree_depth=int(max_tree_depth), model_kwargs=dyn,
                                rng_key=key)
            state = jax.lax.fori_loop(0, int(warmup),
                                      lambda i, s: sample_kernel(s, model_kwargs=dyn), state)

            def body(s, _):
                s = sample_kernel(s, model_kwargs=dyn)
                return s, (s.z, s.diverging, s.num_steps)

            _, (zs, div, steps) = jax.lax.scan(body, state, None, length=n_keep)
            zs, div, steps = jax.tree.map(lambda a: a[thin - 1::thin], (zs, div, steps))
            samples = jax.vmap(postprocess(**dyn))(zs)
            return samples, div, steps

        def run(keys, dyn):
            return jax.lax.map(lambda k: one_chain(k, dyn), keys)

        self._run = jax.jit(run)
        self.chains = int(chains)
        self.warmup, self.draws, self.thin = int(warmup), int(draws), int(thin)
        self._jnp = jnp

    def run(self, key, **data) -> NUTSDraws:
        """Sample the posterior of one data set (same shapes as the example)."""
        import jax

        shapes = _shapes(data)
        if shapes != self.dynamic_shapes:
            raise ValueError(f"CompiledNUTS.run needs data of the compiled shapes "
                             f"{self.dynamic_shapes}, got {shapes}.")
        with jax.enable_x64(True):
            keys = jax.random.split(key, self.chains)
            dyn = {k: jax.tree.map(self._jnp.asarray, v) for k, v in data.items()}
            samples, div, steps = self._run(keys, dyn)
            samples = {k: np.asarray(v) for k, v in samples.items()}
        return NUTSDraws(samples, np.asarray(div), np.asarray(steps))


def prior_simulator(model, times, static_kwargs: dict, *, observed_sites=("initial", "obs")):
    """A jitted ``(key, **data) -> {site: value}`` drawing parameters and data from ``model``.

    The model runs without observations (``observations=None``), so every site — parameters,
    the first points (``initial``) and the path (``obs``) — is drawn by the program itself, with
    the model's own simulator. ``static_kwargs`` are fixed (e.g. ``n_replicas``, ``rule``);
    array data (inputs, labels) are arguments.
    """
    import jax
    from numpyro import handlers

    times = np.asarray(times, dtype=float)

    def draw(key, **dyn):
        tr = handlers.trace(handlers.seed(model, key)).get_trace(times, observations=None,
                                                                  **static_kwargs, **dyn)
        return {name: site["value"] for name, site in tr.items()
                if site["type"] in ("sample", "deterministic")}

    jitted = jax.jit(draw)

    def call(key, **dyn):
        with jax.enable_x64(True):
            return {k: np.asarray(v) for k, v in jitted(key, **dyn).items()}

    return call


def sbc_ranks(draws, truth) -> np.ndarray:
    """Rank of each true value among its posterior draws: ``#{draws < truth}`` per data set.

    ``draws`` has shape ``(n_sets, L)`` (independent, e.g. thinned, draws), ``truth``
    ``(n_sets,)``; ranks lie in ``0..L``.
    """
    draws = np.asarray(draws, dtype=float)
    truth = np.asarray(truth, dtype=float)
    return np.sum(draws < truth[:, None], axis=1)


def rank_uniformity(ranks, n_draws: int, bins: int = 10):
    """χ² test of uniform SBC ranks on ``0..n_draws``; returns ``(counts, chi2, p_value)``.

    ``n_draws + 1`` must be divisible by ``bins`` (equal expected counts).
    """
    from scipy import stats

    ranks = np.asarray(ranks)
    if (n_draws + 1) % bins:
        raise ValueError(f"n_draws + 1 = {n_draws + 1} is not divisible by bins = {bins}.")
    counts = np.bincount(ranks * bins // (n_draws + 1), minlength=bins)
    expected = ranks.shape[0] / bins
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    return counts, chi2, float(stats.chi2.sf(chi2, bins - 1))


def interval_coverage(draws, truth, prob: float = 0.9):
    """Equal-tailed ``prob`` intervals from draws ``(n_sets, L)``: ``(covered (n_sets,), width)``."""
    draws = np.asarray(draws, dtype=float)
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=1)
    truth = np.asarray(truth, dtype=float)
    return (lo <= truth) & (truth <= hi), hi - lo

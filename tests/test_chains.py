"""The compiled NUTS programs of :mod:`thermoinfer.inference.chains`: reused, and honest about
models without a finite density."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from _stats import seed

from thermoinfer.inference.chains import NoStartingPoint, run_chains

TRACES = {"n": 0}


def counted(times, y=None):
    """A normal mean model that counts how often it is traced (run as Python)."""
    TRACES["n"] += 1
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    numpyro.factor("obs", jnp.sum(dist.Normal(mu, 1.0).log_prob(y)))


def test_equal_shapes_reuse_the_compiled_program_and_new_shapes_compile():
    y = np.random.default_rng(seed(11)).normal(1.5, 1.0, 200)
    kw = dict(chains=2, warmup=50, draws=50, chain_method="sequential")
    first = run_chains(counted, None, {"y": y}, key=jax.random.key(seed(1)), **kw)
    n = TRACES["n"]
    assert n > 0
    # new data of the same shape: nothing is traced again, and the draws follow the new data
    second = run_chains(counted, None, {"y": y + 100.0}, key=jax.random.key(seed(1)), **kw)
    assert TRACES["n"] == n
    assert abs(second.samples["mu"].mean() - first.samples["mu"].mean() - 100.0) < 1.0
    # a different shape is a different program (negative control: the counter can move)
    run_chains(counted, None, {"y": y[:100]}, key=jax.random.key(seed(1)), **kw)
    assert TRACES["n"] > n


def nowhere(times, y=None):
    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
    numpyro.factor("obs", jnp.where(jnp.abs(mu) < 1e6, -jnp.inf, 0.0) + 0.0 * jnp.sum(y))


def test_a_density_that_is_never_finite_is_refused_with_the_fix():
    y = np.zeros(3)
    with pytest.raises(NoStartingPoint, match="Rescale the data or widen the priors"):
        run_chains(nowhere, None, {"y": y}, key=jax.random.key(seed(2)), chains=2, warmup=5,
                   draws=5, chain_method="sequential")

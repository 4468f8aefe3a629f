"""The compiled NUTS programs of :mod:`thermoinfer.inference.chains`: reused, and honest about
models without a finite density."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from _stats import seed

from thermoinfer.inference import chains, program_store
from thermoinfer.inference.chains import NoStartingPoint, run_chains

TRACES = {"n": 0}


def counted(times, y=None):
    """A normal mean model that counts how often it is traced (run as Python)."""
    TRACES["n"] += 1
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    numpyro.factor("obs", jnp.sum(dist.Normal(mu, 1.0).log_prob(y)))


def test_equal_shapes_reuse_the_compiled_program_and_new_shapes_compile(monkeypatch):
    monkeypatch.setattr(program_store, "store_folder", lambda: None)  # in-process reuse only
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


MODEL_FILE = """
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

TRACES = {"n": 0}


def model(times, y=None):
    TRACES["n"] += 1
    mu = numpyro.sample("mu", dist.Normal(0.0, SCALE))
    numpyro.factor("obs", jnp.sum(dist.Normal(mu, 1.0).log_prob(y)))
"""


def _model_from_file(path, scale):
    import importlib.util
    import sys

    path.write_text(MODEL_FILE.replace("SCALE", repr(scale)))
    name = f"thermoinfer_test_store_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_a_second_process_loads_the_stored_program_and_draws_the_same(tmp_path, monkeypatch):
    """A model file's programs are exported to the store; a fresh program cache (as in a new
    process) loads them, traces nothing, and gives bit-identical draws. Editing the model file
    is a new key (negative control: the store is not blind to the source); a corrupt file is
    ignored and rewritten."""
    store = tmp_path / "programs"
    monkeypatch.setattr(program_store, "store_folder", lambda: store)
    y = np.random.default_rng(seed(12)).normal(0.5, 1.0, 50)
    kw = dict(chains=2, warmup=40, draws=40, chain_method="sequential")

    def fresh_run(module):
        chains._PROGRAMS.clear()
        module.TRACES["n"] = 0
        out = run_chains(module.model, None, {"y": y}, key=jax.random.key(seed(3)), **kw)
        return out, module.TRACES["n"]

    module = _model_from_file(tmp_path / "m.py", 10.0)
    first, traced = fresh_run(module)
    files = sorted(store.glob("*.npz"))
    assert traced > 0 and len(files) == 1
    second, traced = fresh_run(module)
    assert traced == 0
    for name in first.samples:
        np.testing.assert_array_equal(first.samples[name], second.samples[name])
    for name in first.stats:
        np.testing.assert_array_equal(first.stats[name], second.stats[name])
    # the same file with another prior: another key, traced again, different draws
    edited = _model_from_file(tmp_path / "m.py", 11.0)
    third, traced = fresh_run(edited)
    assert traced > 0 and len(list(store.glob("*.npz"))) == 2
    assert not np.array_equal(third.samples["mu"], first.samples["mu"])
    # a truncated file is ignored, recomputed and replaced
    files[0].write_bytes(files[0].read_bytes()[:100])
    module = _model_from_file(tmp_path / "m.py", 10.0)
    fourth, traced = fresh_run(module)
    assert traced > 0
    np.testing.assert_array_equal(fourth.samples["mu"], first.samples["mu"])
    assert files[0].stat().st_size > 100


def test_functions_without_a_source_file_are_not_stored(tmp_path, monkeypatch):
    store = tmp_path / "programs"
    monkeypatch.setattr(program_store, "store_folder", lambda: store)
    scale = 3.0

    def closure(times, y=None):  # a closure over a Python value: no source can key it
        mu = numpyro.sample("mu", dist.Normal(0.0, scale))
        numpyro.factor("obs", jnp.sum(dist.Normal(mu, 1.0).log_prob(y)))

    assert program_store.code_digest(closure) is None
    assert program_store.code_digest(counted) is not None  # negative control: a file's function
    run_chains(closure, None, {"y": np.zeros(5)}, key=jax.random.key(seed(4)), chains=1,
               warmup=5, draws=5, chain_method="sequential")
    assert not store.exists()


def test_a_process_without_x64_fits_in_float64_with_the_same_draws(tmp_path):
    """The pieces are compiled in worker threads, where JAX's x64 setting is thread-local: a
    script that never enables x64 must still get float64 programs, and the draws of this
    (x64) process for the same seed."""
    import os
    import subprocess
    import sys
    import warnings
    from pathlib import Path

    from thermoinfer.data.observations import simulate_linear_ou, write_observations
    from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
    from thermoinfer.inference.fit import fit

    ds = simulate_linear_ou([[-1.0, -0.5], [0.5, -1.0]], 1.0, np.linspace(0, 20, 201),
                            seed=seed(21))
    data = write_observations(ds, tmp_path / "trap.nc")
    settings = dict(chains=2, draws=30, warmup=30, seed=seed(22), posterior_predictive=False)
    script = (
        "import sys, numpy as np, jax\n"
        "from thermoinfer.inference.fit import fit\n"
        "assert not jax.config.jax_enable_x64\n"
        f"t = fit(sys.argv[1], 'linear-ou', **{settings!r})\n"
        "d = t['posterior']['drift'].values\n"
        "assert d.dtype == np.float64, d.dtype\n"
        "np.save(sys.argv[2], d)\n")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root), THERMOINFER_COMPILATION_CACHE=str(tmp_path / "c"))
    env.pop("JAX_ENABLE_X64", None)
    out = tmp_path / "drift.npy"
    res = subprocess.run([sys.executable, "-c", script, str(data), str(out)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    with warnings.catch_warnings():  # short chains: poor diagnostics are reported, not tested
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        here = fit(str(data), "linear-ou", **settings)["posterior"]["drift"].values
    np.testing.assert_array_equal(np.load(out), here)

"""Model programs of models/ and their registry: contract, likelihood shapes, derived quantities."""

import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from _stats import seed
from numpyro.infer import Predictive, log_likelihood
from numpyro.infer.util import log_density

import thermoinfer
from thermoinfer.errors import InputError
from thermoinfer.inference import list_models, load_model, model_paths
from thermoinfer.paths import ou_path_log_prob, ou_path_log_prob_reversed
from thermoinfer.tasks import MemorizationData
from thermoinfer.thermo import entropy_production_rate

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = ("neuron", "neuron-readout", "linear-ou", "polynomial-drift")

rng = np.random.default_rng(seed(3))
N, P, R, K = 5, 3, 3, 8
INPUTS = rng.choice([-1.0, 1.0], size=(P, N))
LABELS = np.array([1.0, -1.0, -1.0])
PROBES = rng.normal(size=(2, N))
TIMES = np.concatenate([[0.0], np.cumsum(rng.uniform(0.05, 0.3, size=K))])


def _run_python(code, args=(), **kw):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(kw.pop("env", {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=300, env=env, **kw)


def _load_in(site, name, cwd):
    """Load a model in a fresh interpreter whose thermoinfer is the copy under ``site``."""
    return _run_python("""
        import os, sys
        import thermoinfer
        from thermoinfer.inference import list_models, load_model
        assert thermoinfer.__file__.startswith(os.environ["SITE"]), thermoinfer.__file__
        assert sorted(list_models()) == ["linear-ou", "neuron", "neuron-readout",
                                        "polynomial-drift"]
        print(load_model(sys.argv[1]).__file__)
    """, args=[name], cwd=cwd, env={"PYTHONPATH": str(site), "SITE": str(site)})


# ---------------------------------------------------------------------------------------------
# imports and registry


def test_import_thermoinfer_does_not_import_numpyro():
    out = _run_python("""
        import sys
        import thermoinfer
        import thermoinfer.inference as inf
        assert "numpyro" not in sys.modules, "numpyro imported by import thermoinfer(.inference)"
        assert callable(inf.list_models) and "numpyro" not in sys.modules
        inf.LearningNeuronTransitions
        assert "numpyro" in sys.modules
        print("ok")
    """)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_list_models_and_module_contract():
    models = list_models()
    assert sorted(models) == sorted(BUILTIN)
    for name in BUILTIN:
        m = load_model(name)
        assert m.NAME == name and m.DESCRIPTION == models[name] and "\n" not in m.DESCRIPTION
        assert model_paths()[name].stem == name.replace("-", "_")
        for site, (units, text) in m.PARAMETERS.items():
            assert isinstance(units, str) and units and isinstance(text, str) and text, site
        assert load_model(name) is m  # cached
    assert load_model("neuron_readout") is load_model("neuron-readout")


def test_unknown_name_and_missing_file_are_clear():
    with pytest.raises(InputError, match="unknown model 'trap'.*linear-ou"):
        load_model("trap")
    with pytest.raises(InputError, match="does not exist"):
        load_model("./no_such_model.py")


GOOD = """
    import numpyro, numpyro.distributions as dist
    NAME = "my-trap"
    DESCRIPTION = "a user's model"
    def model(times, observations=None):
        numpyro.sample("obs", dist.Normal(0.0, 1.0))
    def data_from_dataset(ds, **options):
        return {}
    def derived_quantities(samples, data):
        return {}
"""


def test_user_model_loads_by_path_and_bad_files_are_refused(tmp_path):
    good = tmp_path / "trap.py"
    good.write_text(textwrap.dedent(GOOD))
    assert load_model(good).NAME == "my-trap"
    assert load_model(str(good)).DESCRIPTION == "a user's model"

    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent(GOOD).replace("def derived_quantities", "def other")
                   .replace('DESCRIPTION = "a user\'s model"', "DESCRIPTION = 3"))
    with pytest.raises(InputError) as err:
        load_model(bad)
    msg = str(err.value)
    assert "not a thermoinfer model file" in msg and "derived_quantities" in msg
    assert "DESCRIPTION must be a non-empty string" in msg and "docs/models.md" in msg

    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_package_xyz\n")
    with pytest.raises(InputError, match="failed to import: ModuleNotFoundError"):
        load_model(broken)


def test_models_load_from_an_installed_layout(tmp_path):
    """Non-editable layout: thermoinfer/_models inside the package, no models/ beside it."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "thermoinfer", site / "thermoinfer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "models", site / "thermoinfer" / "_models",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = _load_in(site, "neuron", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("thermoinfer/_models/neuron.py")


@pytest.mark.slow
def test_models_ship_in_the_wheel(tmp_path):
    """Build the wheel, install it without dependencies into a folder, load every model there."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels),
         str(ROOT)], capture_output=True, text=True, timeout=600)
    if build.returncode != 0 and "hatchling" in build.stderr and "No matching distribution" in build.stderr:
        pytest.skip("hatchling is not available to build the wheel (offline)")
    assert build.returncode == 0, build.stderr
    target = tmp_path / "site"
    wheel = next(wheels.glob("thermoinfer-*.whl"))
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                           "--target", str(target), str(wheel)], capture_output=True, text=True,
                          timeout=600)
    assert inst.returncode == 0, inst.stderr
    assert (target / "thermoinfer" / "_models" / "neuron.py").is_file(), (
        "models/ is not in the wheel: pyproject needs [tool.hatch.build.targets.wheel.force-include] "
        '"models" = "thermoinfer/_models"')
    out = _load_in(target, "linear-ou", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "_models" in out.stdout


# ---------------------------------------------------------------------------------------------
# every model: prior predictive, a dataset of its own draw, finite density, per-transition terms

CASES = {
    "neuron-hebbian": ("neuron", dict(inputs=INPUTS, labels=LABELS), {}),
    "neuron-perceptron-T": ("neuron", dict(inputs=INPUTS, labels=LABELS, rule="perceptron",
                                           temperature=0.7), {"rule": "perceptron"}),
    "readout-kalman": ("neuron-readout", dict(inputs=INPUTS, labels=LABELS, probes=PROBES), {}),
    "readout-latent": ("neuron-readout", dict(inputs=INPUTS, labels=LABELS, probes=PROBES,
                                              rule="adatron", readout_noise=0.2),
                       {"rule": "adatron"}),
    "linear-ou": ("linear-ou", dict(n_components=2, center=True), {"center": True}),
}


def _dataset(name, times, path, kw):
    component = "weight" if name == "neuron" else "component"
    ds = xr.Dataset({"observations": (("replica", "time", component), path, {"units": "nm"})},
                    coords={"time": ("time", times, {"units": "ms"})})
    if name.startswith("neuron"):
        ds["inputs"] = (("pattern", "weight"), kw["inputs"])
        ds["labels"] = (("pattern",), kw["labels"])
    if name == "neuron-readout":
        ds["probes"] = (("component", "weight"), kw["probes"])
        if kw.get("readout_noise") is not None:
            ds.attrs["readout_noise"] = kw["readout_noise"]
    if kw.get("temperature") is not None:
        ds.attrs["temperature"] = kw["temperature"]
    return ds


_SLOW = ("linear-ou", "readout-kalman", "readout-latent")  # > 5 s: Van Loan / latent compiles


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in _SLOW else c
                                  for c in sorted(CASES)])
def test_prior_predictive_dataset_and_log_density(case):
    name, kw, options = CASES[case]
    m = load_model(name)
    with jax.enable_x64(True):
        prior = Predictive(m.model, num_samples=2)(jax.random.key(seed(11)), TIMES, n_replicas=R, **kw)
    obs = np.asarray(prior["obs"])
    assert obs.shape[:3] == (2, R, K)
    params = {k: np.asarray(v)[1] for k, v in prior.items() if k not in ("obs", "initial")}
    path = np.concatenate([np.asarray(prior["initial"])[1][:, None], obs[1]], axis=1)
    assert np.all(np.isfinite(path))

    data = m.data_from_dataset(_dataset(name, TIMES, path, kw), **options)
    assert data["time_units"] == "ms"
    draws = {k: np.asarray(v) for k, v in prior.items() if k not in ("obs", "initial")}
    per_transition = {**data, "statistics": None} if "statistics" in data else data
    with jax.enable_x64(True):
        lp, _ = log_density(m.model, (), per_transition, params)
        ll = log_likelihood(m.model, draws, **per_transition)
    assert np.isfinite(float(lp))
    assert set(ll) == {"obs"} and ll["obs"].shape == (2, R, K)  # (draw, replica, time)
    assert np.all(np.isfinite(np.asarray(ll["obs"])))
    if data.get("statistics") is not None:
        # the sampler's likelihood (sufficient statistics) is the sum of the pointwise terms
        with jax.enable_x64(True):
            lp_stat, _ = log_density(m.model, (), data, params)
            ll_stat = log_likelihood(m.model, draws, **data)
        assert set(ll_stat) == {"obs_statistics"}
        np.testing.assert_allclose(np.asarray(ll_stat["obs_statistics"]),
                                   np.asarray(ll["obs"]).sum(axis=(-2, -1)), rtol=1e-11)
        np.testing.assert_allclose(float(lp_stat), float(lp), rtol=1e-11)
    conv = m.conventions(data)
    thermoinfer.data.schema.conventions_attrs(**conv)  # valid vocabulary
    assert conv["temperature"] == ("inferred" if kw.get("temperature") is None
                                   else kw["temperature"])


def test_data_from_dataset_refuses_incomplete_data():
    path = np.zeros((R, K + 1, N))
    ds = _dataset("neuron", TIMES, path, dict(inputs=INPUTS, labels=LABELS))
    with pytest.raises(InputError, match="inputs.*labels.*missing"):
        load_model("neuron").data_from_dataset(ds.drop_vars("inputs"))
    with pytest.raises(InputError, match="unknown option"):
        load_model("neuron").data_from_dataset(ds, rule_name="hebbian")
    readouts = _dataset("neuron-readout", TIMES, path[..., :2],
                        dict(inputs=INPUTS, labels=LABELS, probes=PROBES))
    with pytest.raises(InputError, match="needs the variable 'probes'"):
        load_model("neuron-readout").data_from_dataset(readouts.drop_vars("probes"))
    with pytest.raises(InputError, match="strictly increasing"):
        load_model("linear-ou").data_from_dataset(
            _dataset("linear-ou", TIMES[::-1], path[..., :2], {}))


# ---------------------------------------------------------------------------------------------
# derived quantities


def test_linear_ou_derived_entropy_production_rate():
    k, D0 = 1.5, 0.4
    eps = np.array([0.0, 0.5, 2.0])
    A = np.stack([[[-k, -e], [e, -k]] for e in eps])
    D = np.broadcast_to(D0 * np.eye(2), (3, 2, 2))
    data = dict(times=np.linspace(0.0, 1.0, 11), time_units="s")
    out = load_model("linear-ou").derived_quantities({"drift": A, "diffusion": D}, data)
    dims, sigma, units, _ = out["thermodynamics"]["entropy_production_rate"]
    assert dims == () and units == "nat s-1"
    np.testing.assert_allclose(sigma, 2 * eps**2 / k, rtol=1e-12, atol=1e-14)  # rotational trap
    for a, dd, s in zip(A, D, sigma):
        assert s == pytest.approx(float(entropy_production_rate(a, dd)), rel=1e-13, abs=1e-15)
    kl = out["thermodynamics"]["kl_rate_at_dt"][1]
    assert np.all(kl <= sigma + 1e-12) and kl[2] > 0.5 * sigma[2]


def _hebbian_paths(R_, t, n_steps, key):
    data = MemorizationData(jnp.asarray(INPUTS), jnp.asarray(LABELS))
    params = thermoinfer.NeuronParams(1.3, 0.9, 0.6)
    res = thermoinfer.simulate(key, data, "hebbian", params, t=t, dt=t / n_steps,
                               record_every=1, n_replicas=R_)
    return res, params


def test_neuron_window_heat_and_entropy_production_on_the_observed_path(key):
    res, p = _hebbian_paths(4, 1.2, 6, key)
    times, paths = np.asarray(res.times), np.asarray(res.paths)
    m = load_model("neuron")
    data = dict(times=times, observations=paths, inputs=INPUTS, labels=LABELS, rule="hebbian",
                temperature=p.temperature)
    samples = {"stiffness": np.full(2, p.stiffness), "learning_rate": np.full(2, p.learning_rate)}
    out = m.derived_quantities(samples, data)
    th = out["thermodynamics"]
    dims, heat, units, _ = th["heat"]
    assert dims == ("replica",) and heat.shape == (2, 4) and units == "k_B T_unit"
    np.testing.assert_allclose(heat[0], res.heat_exact, rtol=0, atol=1e-12)  # -Delta U_tot
    np.testing.assert_allclose(heat[0], res.heat, rtol=0, atol=1e-10)  # Stratonovich sum
    np.testing.assert_allclose(th["medium_entropy_change"][1], heat / p.temperature, rtol=1e-14)

    # Delta s_tot = ln P / P~ of the paths layer with p_0 and p_t boundaries (physics.md 8.1)
    k, T, t = p.stiffness, p.temperature, times[-1] - times[0]
    f = np.asarray(thermoinfer.dynamics.learning_force(
        jnp.zeros(N), jnp.asarray(INPUTS), jnp.asarray(LABELS), thermoinfer.get_rule("hebbian"),
        p.learning_rate))
    m_t = -np.expm1(-k * t) / k * f

    def log_gauss(mean):
        return lambda v: -0.5 * k / T * jnp.sum((v - mean) ** 2) - 0.5 * N * jnp.log(2 * jnp.pi * T / k)

    fwd = ou_path_log_prob(paths, times, k, f, T, initial_log_prob=log_gauss(0.0))
    rev = ou_path_log_prob_reversed(paths, times, k, f, T, final_log_prob=log_gauss(m_t))
    np.testing.assert_allclose(th["total_entropy_production"][1][0],
                               np.sum(fwd - rev, axis=-1), rtol=0, atol=1e-10)
    np.testing.assert_allclose(th["system_entropy_change"][1][0], (fwd - rev)[:, 0], atol=1e-10)
    mean_q = f @ f * -np.expm1(-2 * k * t) / (2 * k)
    assert th["mean_heat"][1] == pytest.approx([mean_q, mean_q], rel=1e-12)
    assert th["mean_entropy_production"][0] == ()

    info = out["information"]
    eta = info["efficiency"][1]
    assert np.all((eta > 0) & (eta < 1))
    np.testing.assert_allclose(
        info["margin"][1],
        info["entropy_change"][1] + info["medium_entropy_change"][1] - info["mutual_information"][1],
        rtol=1e-12)


def test_neuron_mean_entropy_production_matches_the_sampled_paths(key):
    """<Delta s_tot> over replicas = |f|^2 (1 - e^{-2kt}) / (2kT) within 4.5 SE (FAP 7.1e-6, t_2999);
    its variance 2 <Delta s_tot> (Gaussian) within 6 relative SE of a sample variance (FAP 2e-9)."""
    res, p = _hebbian_paths(3000, 1.0, 1, key)
    m = load_model("neuron")
    data = dict(times=np.asarray(res.times), observations=np.asarray(res.paths), inputs=INPUTS,
                labels=LABELS, rule="hebbian", temperature=None)
    samples = {"stiffness": np.array([p.stiffness]), "learning_rate": np.array([p.learning_rate]),
               "diffusion": np.array([p.temperature])}
    th = m.derived_quantities(samples, data)["thermodynamics"]
    assert "heat" not in th and "mean_heat" not in th  # T unknown: no energy units
    assert "q/D" in th["medium_entropy_change"][3]
    ds = th["total_entropy_production"][1][0]
    mean = th["mean_entropy_production"][1][0]
    assert abs(ds.mean() - mean) < 4.5 * ds.std(ddof=1) / math.sqrt(ds.size)
    assert ds.var(ddof=1) == pytest.approx(2 * mean, rel=4 * math.sqrt(2 / ds.size) * 1.5)


def test_nonlinear_rules_report_no_unavailable_quantities(key):
    m = load_model("neuron")
    paths = np.asarray(jax.random.normal(key, (2, K + 1, N)))
    data = dict(times=TIMES, observations=paths, inputs=INPUTS, labels=LABELS,
                rule="perceptron", temperature=1.0)
    out = m.derived_quantities({"stiffness": np.ones(3), "learning_rate": np.ones(3)}, data)
    assert set(out) == {"thermodynamics"}
    assert set(out["thermodynamics"]) == {"heat", "medium_entropy_change"}


def test_readout_derived_quantities_kalman_and_latent(key):
    m = load_model("neuron-readout")
    data = dict(times=TIMES, observations=np.zeros((R, K + 1, 2)), inputs=INPUTS, labels=LABELS,
                probes=PROBES, rule="hebbian", temperature=None)
    samples = {"stiffness": np.array([1.0, 2.0]), "learning_rate": np.array([0.5, 0.6]),
               "diffusion": np.array([0.7, 0.8])}
    th = m.derived_quantities(samples, data)["thermodynamics"]
    assert set(th) == {"mean_entropy_production"}
    w0 = np.asarray(jax.random.normal(key, (2, R, N)))
    w = np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (2, R, K, N)))
    th = m.derived_quantities({**samples, "initial_weights": w0, "weights": w}, data)["thermodynamics"]
    assert th["total_entropy_production"][1].shape == (2, R)
    direct = load_model("neuron").window_quantities(
        samples["stiffness"][1:], samples["learning_rate"][1:], samples["diffusion"][1:],
        w0[1], w[1, :, -1], inputs=INPUTS, labels=LABELS, rule="hebbian",
        window=TIMES[-1] - TIMES[0], temperature_known=False)
    np.testing.assert_allclose(th["total_entropy_production"][1][1],
                               direct["total_entropy_production"][1][0], rtol=1e-13)

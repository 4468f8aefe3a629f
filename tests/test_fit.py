"""The fitting layer: DataTree groups, units, conventions, netCDF round trip, ArviZ on derived
groups, diagnostics and their warning, SVI, LOO, the CLI."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pytest
import xarray as xr
from _stats import seed

from thermoinfer.cli import main
from thermoinfer.data.observations import simulate_neuron, write_observations
from thermoinfer.errors import InputError
from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
from thermoinfer.inference.fit import (
    FIT_DIMS,
    compare_rules,
    fit,
    loo,
    read_fit,
    validate_fit,
    write_fit,
)

pytestmark = pytest.mark.xdist_group("fit")  # one worker: the fitted fixture is shared

ROOT = Path(__file__).resolve().parent.parent
R, K = 2, 40  # replicas, transitions: tiny, the fast tests check structure, not statistics


def _neuron_data(**kw):
    return simulate_neuron(seed(7), 3, 1.0, t=K * 0.05, dt=0.05, n_replicas=R, **kw)


def _units(var):
    """The units as written (reduced units where the data give no real unit)."""
    return var.attrs.get("reduced_units", var.attrs["units"])


def _quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        return fit(*args, **kwargs)


@pytest.fixture(scope="module")
def neuron_fit():
    return _quiet_fit(_neuron_data(), "neuron", chains=2, draws=120, warmup=120, seed=seed(1),
                      ci_prob=0.9, log_likelihood=True, posterior_predictive=True)


def test_groups_dims_units_and_conventions(neuron_fit):
    tree = neuron_fit
    for group in ("posterior", "sample_stats", "log_likelihood", "observed_data",
                  "posterior_predictive", "constant_data", "thermodynamics", "information",
                  "diagnostics"):
        assert group in tree.children, group
    assert set(tree["posterior"].data_vars) == {"stiffness", "learning_rate", "diffusion"}
    assert tree["log_likelihood"]["obs"].dims == ("chain", "draw", "replica", "time")
    assert tree["log_likelihood"]["obs"].shape == (2, 120, R, K)
    np.testing.assert_allclose(tree["log_likelihood"]["time"].values,
                               tree["observed_data"]["time"].values)
    assert tree["posterior_predictive"]["obs"].shape == (2, 120, R, K, 3)
    assert tree["sample_stats"]["diverging"].dims == ("chain", "draw")
    thermo = tree["thermodynamics"]
    assert thermo["total_entropy_production"].dims == ("chain", "draw", "replica")
    assert _units(thermo["mean_entropy_production"]) == "nat"
    assert thermo["mean_entropy_production"].attrs["units"] == "1"  # CF: nat is dimensionless
    assert "heat" not in thermo  # T unknown: heat in energy units is not identifiable
    assert tree["information"]["efficiency"].dims == ("chain", "draw")
    assert tree.attrs["temperature"] == "inferred"
    assert "only the diffusion constant" in tree.attrs["identifiability"]
    assert tree.attrs["path_weights"] == "exact_ou" and tree.attrs["model"] == "neuron"
    assert tree.attrs["entropy_convention"] == "annealed"
    assert _units(tree["posterior"]["stiffness"]) == "time_unit-1"
    for node in tree.subtree:
        for name, var in node.data_vars.items():
            assert "units" in var.attrs, f"{node.path}/{name}"
        for dim in node.dims:
            assert dim in FIT_DIMS
    validate_fit(tree)


def test_netcdf_round_trip_identical(neuron_fit, tmp_path):
    path = write_fit(neuron_fit, tmp_path / "fit.nc")
    back = read_fit(path)
    xr.testing.assert_identical(back, neuron_fit)
    with xr.open_datatree(path, engine="netcdf4") as raw:
        xr.testing.assert_identical(raw.load(), neuron_fit)


def test_arviz_summaries_on_derived_groups(neuron_fit):
    for group in ("thermodynamics", "information"):
        table = azs.summary(neuron_fit, group=group, ci_prob=0.9, ci_kind="eti")
        assert {"mean", "sd", "eti90_lb", "eti90_ub", "ess_bulk", "r_hat"} <= set(table.columns)
        assert len(table) >= len(neuron_fit[group].data_vars)
        ess = azs.ess(neuron_fit, group=group)
        assert set(ess.data_vars) == set(neuron_fit[group].data_vars)
    diag = neuron_fit["diagnostics"]
    assert diag.attrs["ci_prob"] == 0.9 and diag.attrs["method"] == "nuts"
    post = diag["posterior"]
    for stat in ("mean", "sd", "ci_lower", "ci_upper", "ess_bulk", "ess_tail", "r_hat"):
        assert f"stiffness_{stat}" in post
    mep = neuron_fit["thermodynamics"]["mean_entropy_production"].values
    assert np.isclose(diag["thermodynamics"]["mean_entropy_production_ci_lower"],
                      np.quantile(mep, 0.05), rtol=1e-6)


def test_loo_has_one_point_per_transition(neuron_fit):
    res = loo(neuron_fit)
    assert res.n_data_points == R * K
    assert np.isfinite(res.elpd)


def test_known_temperature_heat_and_poor_diagnostics_warning():
    data = _neuron_data(known_temperature=True, temperature=0.5)
    with pytest.warns(PoorDiagnosticsWarning, match="ess"):
        tree = fit(data, "neuron", chains=1, draws=20, warmup=30, seed=seed(0),
                   posterior_predictive=False)
    assert tree.attrs["temperature"] == 0.5
    assert "diffusion" not in tree["posterior"]
    assert _units(tree["thermodynamics"]["heat"]) == "k_B T_unit"
    assert "posterior_predictive" not in tree.children
    assert tree.attrs["diagnostics_ok"] == 0
    assert tree["diagnostics"].attrs["n_problems"] > 0


def test_svi_guide_pareto_k_and_elbo_trace():
    tree = _quiet_fit(_neuron_data(), "neuron", method="svi", draws=200, svi_steps=300, seed=seed(2),
                      log_likelihood=True)
    d = tree["diagnostics"].attrs
    assert np.isfinite(d["pareto_k"]) and d["guide"] == "multivariate_normal"
    assert d["elbo_loss_trace"].shape == (300,)
    assert tree["posterior"].sizes["chain"] == 1 and tree["posterior"].sizes["draw"] == 200
    assert "log_importance_weight" in tree["sample_stats"]
    assert tree["thermodynamics"]["mean_entropy_production"].shape == (1, 200)
    assert tree["log_likelihood"]["obs"].shape == (1, 200, R, K)
    assert tree.attrs["inference_method"] == "svi"


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(model="neuron", options={"length_scale": 2.0}), "unknown option"),
    (dict(model="nonexistent"), "unknown model"),
    (dict(model="neuron", method="hmc"), "method must be one of"),
    (dict(model="neuron", chains=0), "chains must be an integer >= 1"),
    (dict(model="neuron", ci_prob=1.5), "ci_prob must be in"),
    (dict(model="neuron", temperature=-1.0), "temperature must be a number > 0"),
    (dict(model="linear-ou"), "needs observations with dims .replica, time, component."),
])
def test_bad_options_fail_before_sampling(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        fit(_neuron_data(), **kwargs)


def test_cli_fit_json_and_list_models(tmp_path, capsys):
    data = write_observations(_neuron_data(), tmp_path / "neuron.nc")
    out = tmp_path / "fit.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        rc = main(["fit", str(data), "--model", "neuron", "--chains", "1", "--draws", "40",
                   "--warmup", "40", "--json", "--ci-prob", "0.8", "-o", str(out)])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["temperature"] == "inferred" and res["conventions"]["path_weights"] == "exact_ou"
    assert set(res["summary"]["posterior"]) == {"stiffness", "learning_rate", "diffusion"}
    assert "mean_entropy_production" in res["summary"]["thermodynamics"]
    tree = read_fit(out)
    assert tree.attrs["ci_prob"] == 0.8
    assert main(["fit", "--list-models"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["linear-ou", "neuron", "neuron-readout",
                                                      "polynomial-drift"]


@pytest.mark.slow
def test_cli_parallel_chains_in_a_fresh_process(tmp_path):
    """The CLI runs its chains in parallel threads on the one CPU device."""
    nc = write_observations(_neuron_data(), tmp_path / "neuron.nc")
    out = tmp_path / "fit.nc"
    res = subprocess.run([sys.executable, "-m", "thermoinfer", "fit", str(nc), "--model",
                          "neuron", "--chains", "2", "--draws", "50", "--warmup", "50",
                          "--no-predictive", "-o", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    tree = read_fit(out)
    assert tree.attrs["chain_method"] == "parallel"
    assert "R-hat" in res.stdout or "r_hat" in res.stdout


@pytest.mark.slow
def test_compare_rules_prefers_the_generating_rule():
    data = simulate_neuron(seed(11), 4, 1.0, t=6.0, dt=0.02, n_replicas=4, rule="hebbian",
                           learning_rate=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        # the misspecified rule may have influential transitions (Pareto k > 0.7): ArviZ warns,
        # the comparison table flags it in its ``warning`` column; the ranking is what is tested
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto",
                                category=UserWarning)
        res = compare_rules(data, ("hebbian", "perceptron"), chains=1, draws=200, warmup=200,
                            posterior_predictive=False)
    assert list(res.table.index)[0] == "hebbian"
    assert set(res.loo) == {"hebbian", "perceptron"}


def _tutorial_blocks():
    import re

    text = (ROOT / "docs" / "tutorial-fit.md").read_text()
    return re.findall(r"```(bash|python|py|text)\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_tutorial_runs_as_written(tmp_path, monkeypatch):
    """Every block of docs/tutorial-fit.md, in order, in a fresh folder: the shell blocks with
    the installed `thermoinfer` command on the PATH (what `source .venv/bin/activate` does; the
    install block itself, `make venv`, is what created this environment), the Python blocks in
    one namespace. The documented error line must be what the command prints."""
    import os

    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg"}
    ns, outputs, ran = {}, [], 0
    blocks = _tutorial_blocks()
    assert any("make venv" in code for lang, code in blocks if lang == "bash")
    for lang, code in blocks:
        if lang == "text":
            continue
        if lang == "bash":
            if "make venv" in code:
                continue
            res = subprocess.run(["bash", "-e", "-c", code], capture_output=True, text=True,
                                 env=env, timeout=900)
            assert res.returncode == 0, f"{code}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
            outputs.append(res.stdout + res.stderr)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PoorDiagnosticsWarning)
                exec(compile(code, "tutorial-fit.md", "exec"), ns)
        ran += 1
    assert ran >= 9
    log = "\n".join(outputs)
    documented = [c for lang, c in blocks if lang == "text" and "error:" in c][0]
    assert documented.strip().splitlines()[0] in log
    assert "exit status 2" in log
    # the shell fit is healthy, as the page shows (a few hundred frames were not: R-hat and ESS
    # of a posterior that is mostly prior)
    assert "diagnostics: all within thresholds" in log and "POOR" not in log
    import re

    divergent = int(re.search(r"divergent transitions: (\d+);", log).group(1))
    assert divergent < 10  # < 0.5% of the 2000 kept draws
    assert (tmp_path / "trap_fit.nc").is_file() and (tmp_path / "sigma.png").is_file()
    tree = read_fit(tmp_path / "trap_fit_api.nc")
    sigma = tree["thermodynamics"]["entropy_production_rate"].values
    # the exact value within 4.5 posterior SDs of the posterior mean of ln sigma: FAP 6.8e-6 in
    # the normal approximation of the posterior (the 99% interval used before: ~1e-2). The
    # tutorial's seeds are written in the page, so this gate does not move with the offset.
    z = (np.log(0.5) - np.log(sigma).mean()) / np.log(sigma).std(ddof=1)
    assert abs(z) < 4.5, z
    assert np.std(sigma) < 0.1  # the data, not the prior, set the width (about 0.05)


def test_linear_ou_posterior_has_no_constant_entries_and_named_pairs():
    """Correlation Cholesky factors are reported as their coefficients: no NaN R-hat rows."""
    from thermoinfer.data.observations import simulate_linear_ou

    ds = simulate_linear_ou([[-1.0, -0.5], [0.5, -1.0]], 1.0, np.linspace(0, 20, 401), seed=seed(4),
                            time_units="s", units="um")
    tree = _quiet_fit(ds, "linear-ou", chains=1, draws=60, warmup=60, seed=seed(5),
                      posterior_predictive=False)
    post = tree["posterior"]
    # the data's units on every posterior variable (not only on the thermodynamics)
    want = {"drift": "s-1", "diffusion": "um2 s-1", "steady_covariance": "um2",
            "covariance_scale": "um", "diffusion_scale": "um s-1/2", "circulation": "1",
            "covariance_corr": "1", "diffusion_corr": "1"}
    assert {n: post[n].attrs["units"] for n in post.data_vars} == want
    assert tree["thermodynamics"]["entropy_production_rate"].attrs["units"] == "s-1"
    for name in ("circulation", "covariance_corr", "diffusion_corr"):
        assert post[name].dims == ("chain", "draw", "component_pair")
    assert post["component_pair"].values.tolist() == ["x1:x0"]
    rho = post["diffusion_corr"].values
    assert np.all(np.abs(rho) < 1) and np.std(rho) > 0
    table = azs.summary(tree, group="posterior", ci_prob=0.9, ci_kind="eti")
    assert not table["mcse_sd"].isna().any(), table[table["mcse_sd"].isna()]
    assert "log_likelihood" not in tree.children  # opt-in


# ------------------------------------------------------------------------- sampler="conjugate"


def _trajectories(frames=200, seed_=8):
    """A 2-D random walk (one replica): any model of component data accepts it."""
    from thermoinfer.data.observations import make_observations

    rng = np.random.default_rng(seed(seed_))
    x = np.cumsum(rng.normal(size=(1, frames, 2)) * 0.1, axis=1)
    return make_observations(x, np.arange(frames) * 0.01, components=["x", "y"])


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(model="polynomial-drift", sampler="gibbs"),
     r"sampler must be one of \['conjugate', 'nuts'\], got 'gibbs'"),
    (dict(model="polynomial-drift", sampler="conjugate", method="svi",
          options={"prior": "conjugate"}),
     r"sampler 'conjugate' replaces NUTS.*got method 'svi'.*method='nuts'"),
    (dict(model="linear-ou", sampler="conjugate"),
     r"sampler 'conjugate' needs a model with an exact conjugate posterior.*'linear-ou' has "
     r"none: use sampler='nuts'"),
    (dict(model="polynomial-drift", sampler="conjugate"),
     r"only with prior='conjugate', got prior='normal': give options=\{'prior': 'conjugate'\} "
     r"\(CLI --option prior=conjugate\)"),
])
def test_sampler_conjugate_refuses_bad_use(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        fit(_trajectories(), **kwargs)


def test_cli_sampler_conjugate(tmp_path, capsys):
    """--sampler conjugate: exact draws of polynomial-drift written as a fit; every bad use is
    one line on stderr and exit status 2."""
    from thermoinfer.data.observations import write_trajectories_csv

    csv = write_trajectories_csv(_trajectories(), tmp_path / "walk.csv")
    base = ["fit", str(csv), "--model", "polynomial-drift", "--option", "degree=1"]
    for args, fragment in (
            ([*base, "--sampler", "gibbs"], "invalid choice: 'gibbs'"),
            ([*base, "--sampler", "conjugate"], "--option prior=conjugate"),
            ([*base, "--sampler", "conjugate", "--option", "prior=conjugate", "--method", "svi"],
             "--sampler conjugate replaces NUTS"),
            (["fit", str(csv), "--model", "linear-ou", "--sampler", "conjugate"],
             "has none: use sampler='nuts'")):
        rc = main(args)
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and fragment in err[0], (args, rc, err)
    out = tmp_path / "fit.nc"
    rc = main([*base, "--option", "prior=conjugate", "--sampler", "conjugate", "--chains", "2",
               "--draws", "200", "--json", "-o", str(out)])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["sampler"] == "conjugate" and res["diagnostics"]["ok"]
    tree = read_fit(out)
    assert tree.attrs["sampler"] == tree.attrs["inference_method"] == "conjugate"
    assert tree["posterior"]["coefficients"].shape == (2, 200, 2, 3)
    assert set(tree["sample_stats"].data_vars) == {"lp"}
    assert json.loads(tree.attrs["config_json"])["sampler"] == "conjugate"


# ---------------------------------------------------------------- thinned posterior predictive


@pytest.mark.parametrize("chains", [1, 2, 4, 8, 11, 16])
def test_ppc_draws_give_every_chain_more_draws_than_chains(chains):
    """Whatever the request and the data size, each chain gets min(draws, chains + 1) draws or
    more (ArviZ reads a draw dim shorter than the chain dim as mislabelled), distinct and within
    the chain, and never more than asked where the request allows chains + 1 per chain."""
    from thermoinfer.inference.fit import PPC_AUTO_DRAWS, _ppc_draws

    for draws in (4, 5, 20, 1000):
        for spec in ("auto", True, 1, 7, 1000):
            for values in (10, 10**5, 6 * 10**5, 10**6, 10**8):
                idx = _ppc_draws(spec, chains, draws, values)
                assert idx.size >= min(draws, chains + 1), (spec, chains, draws, values, idx)
                assert idx.size <= draws and np.all(np.diff(idx) > 0)
                assert idx[0] >= 0 and idx[-1] <= draws - 1
                if spec == "auto" and values == 10:
                    assert idx.size == min(draws, max(chains + 1,
                                                      min(chains * draws, PPC_AUTO_DRAWS) // chains))
    assert _ppc_draws(False, chains, 100, 10) is None and _ppc_draws(0, chains, 100, 10) is None


@pytest.mark.slow
def test_auto_predictive_at_scale_has_no_chain_longer_than_draw_warning():
    """At 312 502 frames of 2-D data (625 002 numbers per draw) the automatic thinning left
    10^7 // 625 002 = 15 draws, 3 per chain for 4 chains, and ArviZ warned "Found chain
    dimension to be longer than draw dimension" (the smallest size where it did: at 312 501
    frames 16 draws, 4 per chain, passed). Now each chain keeps chains + 1 = 5 draws, with no
    warning. Exact conjugate draws keep it fast."""
    ds = _trajectories(312_502)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*longer than .* dimension", category=UserWarning)
        tree = fit(ds, "polynomial-drift", sampler="conjugate", chains=4, draws=25,
                   options={"prior": "conjugate", "degree": 1}, seed=seed(9))
    ppc = tree["posterior_predictive"]
    assert ppc["obs"].shape == (4, 5, 1, 312_501, 2)
    assert ppc.attrs["draws_simulated"] == 20

"""The memorisation pipeline: DataTree layout, netCDF round trip, estimators against closed forms."""

import math

import numpy as np
import pytest
import xarray as xr
from _stats import seed

import thermoinfer as ti
from thermoinfer.data.io import read_netcdf, write_netcdf
from thermoinfer.data.schema import CONVENTIONS, REQUIRED_ROOT_ATTRS


@pytest.fixture(scope="module")
def hebb_tree():
    return ti.simulate_memorization(seed(7), n_weights=200, alpha=0.5, nu=1.0, k=1.0, temperature=2.0,
                                    t=1.0, n_replicas=400)


@pytest.fixture(scope="module")
def perc_tree():
    return ti.simulate_memorization(seed(8), n_weights=60, alpha=0.5, rule="perceptron", nu=1.0,
                                    t=2.0, dt=0.01, n_replicas=64, record_every=50)


def test_layout_units_conventions(hebb_tree, perc_tree):
    for tree in (hebb_tree, perc_tree):
        for a in REQUIRED_ROOT_ATTRS:
            assert a in tree.attrs
        for name, allowed in CONVENTIONS.items():
            assert tree.attrs[name] in allowed
        for node in tree.subtree:
            for name, var in node.to_dataset(inherit=False).data_vars.items():
                assert "units" in var.attrs and "long_name" in var.attrs, (node.path, name)
    assert set(hebb_tree.children) == {"parameters", "thermodynamics", "information", "summary"}
    assert "trajectories" in perc_tree.children
    assert perc_tree["trajectories"]["weights"].dims == ("replica", "time", "weight")
    assert hebb_tree.attrs["path_weights"] == "exact_ou"
    assert perc_tree.attrs["path_weights"] == "euler_maruyama"
    assert perc_tree["information"]["entropy_change"].attrs["method"].startswith("isotropic_gaussian")
    assert hebb_tree["information"]["entropy_change"].attrs["method"] == "closed_form_gaussian"
    assert hebb_tree.attrs["temperature"] == 2.0
    th = hebb_tree["thermodynamics"]
    assert th["heat"].attrs["reduced_units"] == "k_B T_unit"
    assert th["medium_entropy_change"].attrs["reduced_units"] == "nat"
    assert th["heat"].attrs["units"] == "1"  # CF: a number in reduced units
    np.testing.assert_allclose(th["medium_entropy_change"], th["heat"] / 2.0)


def test_netcdf_round_trip_identical(hebb_tree, perc_tree, tmp_path):
    for i, tree in enumerate((hebb_tree, perc_tree)):
        path = write_netcdf(tree, tmp_path / f"r{i}.nc")
        back = read_netcdf(path)
        xr.testing.assert_identical(tree, back)
        with xr.open_datatree(path, engine="netcdf4") as raw:
            assert raw["summary"]["heat_per_weight"].attrs["reduced_units"] == "k_B T_unit"


def test_t_inf_round_trip(tmp_path):
    """t = inf (one exact step, dt = inf) is stored and read back."""
    tree = ti.simulate_memorization(seed(0), n_weights=20, alpha=0.5, n_replicas=4)
    assert math.isinf(float(tree["parameters"]["dt"])) and math.isinf(float(tree["parameters"]["time"]))
    back = read_netcdf(write_netcdf(tree, tmp_path / "inf.nc"))
    xr.testing.assert_identical(tree, back)


def test_atomic_write_keeps_previous_file(hebb_tree, tmp_path, monkeypatch):
    path = tmp_path / "keep.nc"
    write_netcdf(hebb_tree, path)
    before = path.read_bytes()

    def broken(self, target, *a, **k):
        with open(target, "wb") as fh:
            fh.write(b"partial garbage")
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_netcdf(hebb_tree, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.nc"]  # no temporary left behind


def test_read_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(ti.InputError, match="cannot read"):
        read_netcdf(bad)
    with pytest.raises(ti.InputError, match="no such file"):
        read_netcdf(tmp_path / "missing.nc")
    plain = xr.DataTree(xr.Dataset({"x": ("replica", [1.0, 2.0])}))
    plain.to_netcdf(tmp_path / "plain.nc", engine="netcdf4")
    with pytest.raises(ti.InputError, match="missing root attribute"):
        read_netcdf(tmp_path / "plain.nc")
    with pytest.raises(ti.InputError, match="does not exist"):
        write_netcdf(plain, tmp_path / "nofolder" / "x.nc")


def test_hebbian_simulation_matches_closed_forms(hebb_tree):
    """Heat, annealed entropy and training error against the finite-N closed forms, each within
    4.5 SE of 400 replicas (FAP 4 x 8.9e-6, Student t_399)."""
    s = hebb_tree["summary"]
    N, P, k, nu, T, t = 200, 100, 1.0, 1.0, 2.0, 1.0
    heat = P * nu**2 * -math.expm1(-2 * k * t) / (2 * k) / N
    assert abs(float(s["heat_per_weight"]) - heat) < 4.5 * float(s["heat_per_weight_se"])
    c = nu / k * -math.expm1(-k * t)
    x = k * c**2 / T
    np.testing.assert_allclose(float(s["entropy_change_per_weight"]), 0.5 * math.log1p(P / N * x), rtol=1e-12)
    from scipy.stats import norm

    eps = norm.sf(c / math.sqrt(T / k + (P - 1) * c**2 / N))
    assert abs(float(s["training_error"]) - eps) < 4.5 * float(s["training_error_se"])
    # information per pattern: binary channel of the finite-N error, within its SE
    info = math.log(2) + eps * math.log(eps) + (1 - eps) * math.log(1 - eps)
    assert abs(float(s["mutual_information_per_pattern"]) - info) < 4.5 * float(s["mutual_information_per_pattern_se"])
    assert bool(s["bound_satisfied"]) and str(s["efficiency_status"].values) == "ok"
    eta = float(s["efficiency"])
    assert 0 < eta < 1 / math.pi
    # conditional total entropy production: mean |f|^2 (1 - e^{-2kt}) / (2kT), E|f|^2 = nu^2 P
    tot = hebb_tree["thermodynamics"]["total_entropy_production"].values
    truth = nu**2 * P * -math.expm1(-2 * k * t) / (2 * k * T)
    assert abs(tot.mean() - truth) < 4.5 * tot.std(ddof=1) / math.sqrt(tot.size)


def test_perceptron_heat_control_variate_and_sign(perc_tree):
    th = perc_tree["thermodynamics"]
    q = th["heat"].values
    qcv = q + th["reference_energy_change"].values
    # the control variate removes most thermal noise: the SD ratio is 0.41 +- 0.05 over 40 seed
    # offsets (one of them above 0.5: that gate failed with probability ~3%); 0.65 is 5 SD away
    assert qcv.std() < 0.65 * q.std()
    s = perc_tree["summary"]
    assert float(s["heat_per_weight"]) > 0
    assert float(s["energy_change_per_weight"]) < 0  # Perceptron shrinks |w|^2 (physics.md §3.6)
    assert float(s["first_law_residual_max"]) < 1e-10


def test_efficiency_not_reported_at_t0():
    tree = ti.simulate_memorization(seed(1), n_weights=20, alpha=0.5, t=0.0, n_replicas=8)
    s = tree["summary"]
    assert math.isnan(float(s["efficiency"]))
    assert str(s["efficiency_status"].values) in {"no_cost", "bound_violated"}


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(rule="perceptron", entropy="quenched_gaussian", dt=0.01, t=1.0), "data_protocol='shared'"),
        (dict(rule="perceptron", entropy="exact_mixture", dt=0.01, t=1.0), "exact_mixture"),
        (dict(entropy="exact_mixture", alpha=1.0), "P <= 20"),
        (dict(entropy="bogus"), "entropy"),
        (dict(n_replicas=1), "n_replicas"),
        (dict(alpha=-1.0), "alpha"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(n_weights=40, alpha=0.5, n_replicas=4)
    args.update(kwargs)
    with pytest.raises(ti.InputError, match=match):
        ti.simulate_memorization(seed(0), **args)


def test_conventions_differ_and_order_on_same_data():
    """Same seed, same data: exact_mixture <= quenched_gaussian <= annealed (finite N, Hebbian)."""
    vals = {}
    for conv in ("annealed", "quenched_gaussian", "exact_mixture"):
        tree = ti.simulate_memorization(seed(3), n_weights=24, alpha=0.5, nu=2.0, t=math.inf,
                                        n_replicas=8, entropy=conv, mixture_samples=512)
        info = tree["information"]
        vals[conv] = (float(info["entropy_change"]), float(info["entropy_change_se"]))
        assert tree.attrs["entropy_convention"] == conv
    (a, _), (b, bse), (c, cse) = vals["annealed"], vals["quenched_gaussian"], vals["exact_mixture"]
    # one-sided 4.5-SE gate on a strict inequality (FAP < 3.4e-6); b - c is 15-28 SE here
    assert c < b - 4.5 * math.hypot(bse, cse) and b < a


def test_written_file_has_the_usual_mode_and_dir_target_is_refused(hebb_tree, tmp_path):
    import os

    path = write_netcdf(hebb_tree, tmp_path / "mode.nc")
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)
    (tmp_path / "adir").mkdir()
    with pytest.raises(ti.InputError, match="is a directory"):
        write_netcdf(hebb_tree, tmp_path / "adir")


def test_annealed_closed_form_against_simulated_weights():
    """The annealed Delta S used for Hebbian runs is the Gaussian entropy of the simulated
    weights: the isotropic moment estimator on the final weights agrees within 4.5 SE (T != 1;
    FAP 6.8e-6), and a wrong signal (c_t from t = inf instead of t, ~100 SE away) is rejected."""
    import jax

    from thermoinfer.dynamics import NeuronParams, simulate
    from thermoinfer.information.entropy import (
        annealed_entropy_change,
        isotropic_gaussian_entropy_change,
    )
    from thermoinfer.tasks import memorization_data

    N, alpha, R, k, nu, T, t = 100, 0.5, 2000, 1.3, 1.1, 0.6, 0.7
    d = memorization_data(jax.random.key(seed(5)), N, alpha, n_replicas=R)
    r = simulate(jax.random.key(seed(6)), d, "hebbian", NeuronParams(k, nu, T), t=t)
    est = isotropic_gaussian_entropy_change(r.final_weights, stiffness=k, temperature=T)
    c_t = nu / k * -math.expm1(-k * t)
    truth = float(annealed_entropy_change(N, d.n_patterns, c_t, stiffness=k, temperature=T))
    assert abs(float(est.estimate) - truth) < 4.5 * float(est.standard_error), (est, truth)
    wrong = float(annealed_entropy_change(N, d.n_patterns, nu / k, stiffness=k, temperature=T))
    assert abs(float(est.estimate) - wrong) > 4.5 * float(est.standard_error)

"""Hostile and malformed input: one line and exit 2 on the CLI, one ``InputError`` in the API,
and correct numbers (or a clear refusal) at the edges of the float64 range.

Classes (each with tests below): tracebacks instead of one line (huge seeds, fit options, a CSV
of 1e300 values, oversized simulations); silently wrong numbers (``theory memorization`` at
nu = 1e160 or k = 1e-160 against the closed-form limit H(1/sqrt(alpha)); ``ep linear`` at
extreme dt or drift against the scaling law of the rates; empty time units); CSV files accepted
silently (duplicate columns, an extra field on every row, boolean cells) and CF date/time axes;
Python API values of the wrong type (booleans, strings, lists) refused with ``InputError``;
grids of swept parameters that ``.sel`` can index; CF-parsable units and int32 indices.
"""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _stats import seed

import thermoinfer as ti
from thermoinfer.cli import main
from thermoinfer.data.observations import (
    make_observations,
    read_observations,
    read_trajectories_csv,
    write_observations,
)
from thermoinfer.data.schema import units_attrs
from thermoinfer.errors import SEED_MAX, check_seed
from thermoinfer.theory import memorization_theory


def run_err(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def one_line(capsys, argv, fragment=""):
    code, lines = run_err(capsys, argv)
    assert code == 2, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert fragment in lines[0], lines[0]
    return lines[0]


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _csv(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("argv", [
    ["simulate", "memorization", "--N", "10", "--replicas", "2"],
    ["simulate", "teacher-student", "--N", "10", "--replicas", "2"],
    ["theory", "memorization", "--entropy", "exact_mixture", "--N", "10"],
])
@pytest.mark.parametrize("bad", ["2e64", str(2**64), "-1", "1.5", "abc"])
def test_huge_or_bad_seed_is_one_line(capsys, argv, bad):
    one_line(capsys, [*argv, "--seed", bad], "seed")


def test_seed_range_in_the_api():
    assert check_seed("seed", SEED_MAX) == 2**63 - 1 and check_seed("seed", 1e6) == 10**6
    for bad in (2**63, 2**64, -1, 1.5, True, "3", None):
        with pytest.raises(ti.InputError, match="seed"):
            ti.simulate_memorization(bad, n_weights=10, n_replicas=2)
    with pytest.raises(ti.InputError, match="seed"):
        ti.simulate_teacher_student(2**64, n_weights=10, n_replicas=2)
    from thermoinfer.data.observations import simulate_linear_ou

    with pytest.raises(ti.InputError, match="seed"):
        simulate_linear_ou([[-1.0]], 1.0, [0.0, 1.0, 2.0], seed=2**64)


def test_cli_accepts_integral_seed_notation(capsys):
    a = run_json(capsys, ["simulate", "memorization", "--N", "10", "--replicas", "2", "--seed",
                          "1e3", "--json"])
    b = run_json(capsys, ["simulate", "memorization", "--N", "10", "--replicas", "2", "--seed",
                          "1000", "--json"])
    assert a["heat_per_weight"] == b["heat_per_weight"]


# ------------------------------------------------------------------------- fit (cli/fit.py)
# The fit command is the lead's (cli/fit.py, inference/): these tests pin the one-line answers.


@pytest.fixture
def trap_csv(tmp_path):
    return _csv(tmp_path, "time,x\n0,1\n1,2\n2,3\n3,4\n")


def test_fit_option_not_a_number_is_one_line(capsys, trap_csv):
    one_line(capsys, ["fit", str(trap_csv), "--model", "linear-ou", "--option",
                      "length_scale=abc"], "length_scale")


def test_fit_svi_too_few_draws_is_one_line(capsys, trap_csv):
    one_line(capsys, ["fit", str(trap_csv), "--model", "linear-ou", "--method", "svi",
                      "--draws", "20"], "--draws")


def test_fit_empty_time_units_refused(capsys, trap_csv):
    one_line(capsys, ["fit", str(trap_csv), "--model", "linear-ou", "--time-units", ""],
             "time-units")
    with pytest.raises(ti.InputError, match="time_units"):
        read_observations(trap_csv, "linear-ou", time_units="")
    with pytest.raises(ti.InputError, match="time_units"):
        make_observations(np.zeros((3, 1)), [0.0, 1.0, 2.0], time_units="  ")


@pytest.mark.parametrize("value", ["1e300", "-1e200", "1e-300"])
def test_csv_of_extreme_values_refused_at_validation(capsys, tmp_path, value):
    path = _csv(tmp_path, f"time,x\n0,{value}\n1,{value}\n2,{value}\n3,{value}\n")
    with pytest.raises(ti.InputError, match="float64"):
        read_observations(path, "linear-ou")
    one_line(capsys, ["fit", str(path), "--model", "linear-ou"], "Rescale")
    # the same data in other units are fine (negative control)
    ok = _csv(tmp_path, "time,x\n0,1\n1,1.5\n2,0.5\n3,2\n", "ok.csv")
    assert read_observations(ok, "linear-ou")["observations"].shape == (1, 4, 1)


def test_extreme_times_refused(tmp_path):
    path = _csv(tmp_path, "time,x\n0,1\n1e200,2\n2e200,3\n")
    with pytest.raises(ti.InputError, match="time"):
        read_observations(path, "linear-ou")


# ------------------------------------------------------------------------- silently wrong: theory


def _limit_error(alpha):
    """The nu -> inf (or k -> 0) limit of the training error, H(1/sqrt(alpha))."""
    return 0.5 * math.erfc(1.0 / math.sqrt(2.0 * alpha))


@pytest.mark.parametrize("kw", [{"nu": 1e160}, {"k": 1e-160}, {"nu": 1e300, "k": 1e-300},
                                {"temperature": 1e-300, "nu": 1e10}])
@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_memorization_theory_at_extreme_values_has_the_closed_form_limit(kw, alpha):
    th = memorization_theory(alpha, kw.get("nu", 1.0), k=kw.get("k", 1.0),
                             temperature=kw.get("temperature", 1.0))
    assert float(th.training_error) == pytest.approx(_limit_error(alpha), rel=1e-12)
    assert _limit_error(0.5) == pytest.approx(0.0786496, abs=1e-7)
    # Delta S_a/N = ln sqrt(x) + ln(alpha)/2 exactly in the limit, x = nu^2/(k T)
    ln_sqrt_x = (math.log(kw.get("nu", 1.0)) - 0.5 * math.log(kw.get("k", 1.0))
                 - 0.5 * math.log(kw.get("temperature", 1.0)))
    assert float(th.entropy_change_per_weight) == pytest.approx(
        ln_sqrt_x + 0.5 * math.log(alpha), rel=1e-13)
    assert int(th.status) == 0 and bool(th.bound_satisfied)


def test_naive_formula_is_the_negative_control():
    """c/sqrt(T/k + alpha c^2) overflows at nu = 1e160 and gives the wrong 0.5 the test rejects."""
    nu, alpha = 1e160, 0.5
    with np.errstate(over="ignore"):
        c = np.float64(nu)
        naive = 0.5 * math.erfc(float(c / np.sqrt(1.0 + alpha * c * c)) / math.sqrt(2.0))
    assert naive == 0.5 and naive != pytest.approx(_limit_error(alpha), rel=1e-3)


def test_efficiency_at_small_k_follows_the_fast_learning_coefficient():
    """eta -> coefficient / x with x = nu^2/(kT): at k = 1e-160 eta = 2 k T I_inf / nu^2."""
    from thermoinfer.theory.memorization import efficiency_fast_learning_coefficient

    th = memorization_theory(0.5, 1.0, k=1e-160)
    coeff = float(efficiency_fast_learning_coefficient(0.5, 1e-160))
    assert float(th.efficiency) == pytest.approx(coeff, rel=1e-9)
    assert float(th.heat_per_weight) == pytest.approx(0.25e160, rel=1e-14)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_quenched_entropy_grows_like_rank_over_two_ln_x(alpha):
    """Delta S_b/N ~ min(alpha, 1)/2 ln x for x -> inf, finite where x overflows."""
    d = [float(memorization_theory(alpha, 10.0**e, entropy="quenched_gaussian")
               .entropy_change_per_weight) for e in (50, 100, 160)]
    assert all(np.isfinite(d))
    slope = (d[1] - d[0]) / (100 * math.log(10.0))
    assert slope == pytest.approx(min(alpha, 1.0) / 2, rel=1e-9)
    assert (d[2] - d[1]) / (120 * math.log(10.0)) == pytest.approx(min(alpha, 1.0) / 2, rel=1e-9)


@pytest.mark.parametrize("nu", [0.3, 0.999999, 1.0, 1.000001, 2.0, 50.0])
def test_stable_form_agrees_with_the_direct_formula_at_moderate_values(nu):
    alpha = 0.7
    th = memorization_theory(alpha, nu)
    x = nu * nu
    assert float(th.training_error) == pytest.approx(
        0.5 * math.erfc(math.sqrt(x / (1 + alpha * x)) / math.sqrt(2)), rel=1e-13)
    assert float(th.entropy_change_per_weight) == pytest.approx(0.5 * math.log1p(alpha * x),
                                                                rel=1e-13)


def test_cli_theory_at_nu_1e160(capsys):
    d = run_json(capsys, ["theory", "memorization", "--nu", "1e160", "--json"])
    assert d["training_error"] == pytest.approx(_limit_error(0.5), rel=1e-12)
    # the heat per weight (2.5e319) is beyond float64: printed as null with its sign
    assert d["heat_per_weight"] is None and d["heat_per_weight_infinite"] == "+inf"
    d = run_json(capsys, ["theory", "memorization", "--k", "1e-160", "--json"])
    assert d["training_error"] == pytest.approx(_limit_error(0.5), rel=1e-12)
    assert d["efficiency"] > 0 and d["efficiency_status"] == "ok"


# ------------------------------------------------------------------------- silently wrong: ep


def test_ep_linear_extreme_dt_is_zero_not_null(capsys):
    """Sampled 1e300 relaxation times apart the process is decorrelated: KL rate 0 exactly."""
    d = run_json(capsys, ["ep", "linear", "--drift", "[[-1, -0.5], [0.5, -1]]", "--diffusion",
                          "1", "--dt", "1e300", "--json"])
    assert d["kl_rate_at_dt"] == 0.0 and d["kl_rate_status"] == "ok"
    assert d["entropy_production_rate"] == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("scale", [1e10, 1e100, 1e300])
def test_ep_rates_obey_the_time_rescaling_law(scale):
    """A -> cA, D -> cD, dt -> dt/c: sigma and the KL rate scale by c (closed form sigma = 2 eps^2/k)."""
    from thermoinfer.thermo.linear_system import linear_system_ep

    A = np.array([[-1.0, -0.5], [0.5, -1.0]])
    ref = linear_system_ep(A, 1.0, 0.1)
    r = linear_system_ep(scale * A, scale, 0.1 / scale)
    assert float(r.entropy_production_rate) / scale == pytest.approx(0.5, rel=1e-12)
    assert float(r.kl_rate_at_dt) / scale == pytest.approx(float(ref.kl_rate_at_dt), rel=1e-10)
    np.testing.assert_allclose(r.steady_covariance, ref.steady_covariance, rtol=1e-12, atol=1e-15)


def test_ep_linear_drift_1e300_is_finite_or_refused(capsys):
    d = run_json(capsys, ["ep", "linear", "--drift", "[[-1e300]]", "--diffusion", "1", "--dt",
                          "0.1", "--json"])
    assert d["kl_rate_at_dt"] == 0.0 and d["steady_covariance"] == [[1e-300]]
    # a covariance beyond the float64 range: refused, never status ok with null
    one_line(capsys, ["ep", "linear", "--drift", "[[-1e-300]]", "--diffusion", "1e300", "--dt",
                      "1", "--json"], "float64")


@pytest.mark.parametrize("text", ["[[true]]", '[["1"]]', "[[null]]", '"1"'])
def test_ep_non_numbers_refused(capsys, text):
    one_line(capsys, ["ep", "linear", "--drift", "[[-1]]", "--diffusion", text], "numbers")


# ------------------------------------------------------------------------- CSV accepted silently


@pytest.mark.parametrize("text,fragment", [
    ("time,x,x\n0,1,2\n1,2,3\n2,3,4\n", "duplicate column name 'x'"),
    ("time,x,time\n0,1,0\n1,2,1\n2,3,2\n", "duplicate column name 'time'"),
    ("time,x\n0,1,9\n1,2,9\n2,3,9\n", "has 3 fields, more than the 2 columns"),
    ("time,x\n0,1,\n1,2,\n2,3,\n", "has 3 fields"),
    ("time,x\n0,1\n1\n2,3\n", "fewer than the 2 columns"),
    ("time,x\n0,True\n1,False\n2,True\n", "boolean"),
    ("time,x\n0,1\n1,true\n2,3\n", "boolean"),
    ("time,x,\n0,1,2\n1,2,3\n2,3,4\n", "has no name"),
])
def test_malformed_csv_refused_naming_the_place(capsys, tmp_path, text, fragment):
    path = _csv(tmp_path, text)
    with pytest.raises(ti.InputError) as err:
        read_trajectories_csv(path)
    assert fragment in str(err.value)
    one_line(capsys, ["fit", str(path), "--model", "linear-ou"], fragment)


def test_well_formed_csv_still_reads(tmp_path):
    """Negative control: comments, blank lines, spaces, tabs for .tsv, replica labels."""
    ds = read_trajectories_csv(_csv(tmp_path, "# c\ntime, x, y\n\n0, 1, 2\n1, 2, 3\n2, 4, 5\n"))
    assert ds["observations"].shape == (1, 3, 2)
    tsv = read_trajectories_csv(_csv(tmp_path, "replica\ttime\tx\n1\t0\t1\n1\t1\t2\n2\t0\t3\n"
                                     "2\t1\t4\n", "d.tsv"))
    assert tsv["replica"].values.tolist() == [1, 2] and tsv["replica"].dtype == np.int32


def test_cf_datetime_time_axis_becomes_seconds_since_the_first_frame(tmp_path):
    ds = make_observations(np.arange(10.0).reshape(5, 2), [0.0, 1.0, 2.0, 4.0, 5.0])
    ds["time"] = ("time", np.array([0.0, 10.0, 20.0, 40.0, 50.0]),
                  {"units": "seconds since 2020-03-01 12:00:00"})
    path = tmp_path / "dates.nc"
    ds.to_netcdf(path, engine="netcdf4")
    with xr.open_dataset(path, engine="netcdf4") as raw:
        assert raw["time"].dtype.kind == "M"  # xarray decodes it to datetime64 (nanoseconds)
    back = read_observations(path, "linear-ou")
    np.testing.assert_array_equal(back["time"].values, [0.0, 10.0, 20.0, 40.0, 50.0])
    assert back["time"].attrs["units"] == "s"
    assert back["time"].attrs["time_origin"].startswith("2020-03-01T12")


# ------------------------------------------------------------------------- outputs of observations


def test_observations_writer_writes_csv_or_refuses(tmp_path):
    ds = make_observations(np.arange(8.0).reshape(4, 2), [0.0, 1.0, 2.0, 3.0],
                           components=["a", "b"])
    csv = write_observations(ds, tmp_path / "x.csv")
    assert csv.read_text().startswith("replica,time,a,b\n")  # text, not HDF5
    assert not csv.read_bytes().startswith(b"\x89HDF")
    back = read_trajectories_csv(csv)
    np.testing.assert_array_equal(back["observations"].values, ds["observations"].values)
    tsv = write_observations(ds, tmp_path / "x.tsv")
    assert tsv.read_text().startswith("replica\ttime\ta\tb\n")
    np.testing.assert_array_equal(read_trajectories_csv(tsv)["observations"].values,
                                  ds["observations"].values)
    with pytest.raises(ti.InputError, match="netCDF or CSV"):
        write_observations(ds, tmp_path / "x.xyz")
    with pytest.raises(ti.InputError, match="CSV suffix"):
        ti.write_netcdf(xr.DataTree(ds), tmp_path / "y.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.tsv"]


# ------------------------------------------------------------------------- Python API types


@pytest.mark.parametrize("call", [
    lambda v: ti.simulate_memorization(seed(0), n_weights=10, n_replicas=2, temperature=v),
    lambda v: ti.simulate_memorization(seed(0), n_weights=10, n_replicas=2, alpha=v),
    lambda v: ti.simulate_memorization(seed(0), n_weights=10, n_replicas=2, t=v),
    lambda v: ti.simulate_memorization(seed(0), n_weights=v, n_replicas=2),
    lambda v: ti.simulate_teacher_student(seed(0), n_weights=10, n_replicas=2, temperature=v),
    lambda v: ti.simulate_teacher_student(seed(0), n_weights=10, n_replicas=v),
    lambda v: ti.theory_memorization(temperature=v),
    lambda v: memorization_theory(0.5, 1.0, temperature=v),
    lambda v: ti.theory_teacher_student(1.0, temperature=v),
    lambda v: ti.theory_teacher_student(1.0, mode="batch", nu=v),
    lambda v: ti.theory.marchenko_pastur_entropy(0.5, v),
    lambda v: make_observations(np.zeros((3, 1)), [0.0, 1.0, 2.0],
                                temperature="none" if v is None else v),  # None: unknown T
])
@pytest.mark.parametrize("bad", [True, False, "1", "abc", None, {"a": 1}, 1j])
def test_api_refuses_non_numbers_with_input_error(call, bad):
    with pytest.raises(ti.InputError):
        call(bad)


@pytest.mark.parametrize("bad", [[[True]], [["1"]], "1", None])
def test_linear_system_refuses_non_numbers(bad):
    from thermoinfer.thermo.linear_system import entropy_production_rate, linear_system_ep

    with pytest.raises(ti.InputError, match="A"):
        linear_system_ep(bad, 1.0)
    with pytest.raises(ti.InputError):
        entropy_production_rate([[-1.0]], bad)
    with pytest.raises(ti.InputError, match="dt"):
        linear_system_ep([[-1.0]], 1.0, dt=bad if bad is not None else "x")


def test_scalar_arguments_refuse_lists():
    with pytest.raises(ti.InputError, match="alpha"):
        ti.simulate_memorization(seed(0), n_weights=10, n_replicas=2, alpha=[0.5, 1.0])
    with pytest.raises(ti.InputError, match="alpha"):
        ti.simulate_teacher_student(seed(0), n_weights=10, n_replicas=2, alpha=[0.5, 1.0])


def test_valid_numbers_of_every_numeric_type_are_accepted():
    """Negative control: NumPy scalars, 0-d arrays and integers are numbers."""
    a = ti.theory_memorization(alpha=np.float32(0.5), nu=np.int64(1), temperature=np.array(1.0))
    assert float(a["summary"]["efficiency"]) == pytest.approx(0.202158, abs=1e-6)


# ------------------------------------------------------------------------- grids and attributes


def test_memorization_comma_lists_make_a_full_grid(capsys, tmp_path):
    out = tmp_path / "grid.nc"
    d = run_json(capsys, ["theory", "memorization", "--alpha", "0.5,1", "--nu", "0.3,1,3",
                          "--json", "-o", str(out)])
    assert d["grid"] == {"alpha": [0.5, 1.0], "nu": [0.3, 1.0, 3.0]}
    assert np.shape(d["efficiency"]) == (2, 3)
    single = run_json(capsys, ["theory", "memorization", "--alpha", "0.5", "--nu", "1", "--json"])
    with xr.open_datatree(out, engine="netcdf4") as tree:
        point = tree["summary"].sel(alpha=0.5, nu=1)
        assert float(point["efficiency"]) == pytest.approx(single["efficiency"], rel=1e-15)
        assert tree["summary"]["efficiency"].dims == ("alpha", "nu")
        assert "status" not in tree["summary"]["efficiency"].attrs  # no per-point attribute
        assert float(tree["parameters"]["learning_rate"].sel(nu=3)) == 3.0
    ti.read_netcdf(out)  # validates


def test_teacher_student_comma_lists_make_a_full_grid(capsys, tmp_path):
    out = tmp_path / "ts.nc"
    run_json(capsys, ["theory", "teacher-student", "--alpha", "0.5,1,2", "--nu", "0.5,1",
                      "--T", "0.5,1", "--json", "-o", str(out)])
    single = run_json(capsys, ["theory", "teacher-student", "--alpha", "1", "--nu", "0.5",
                               "--T", "1", "--json"])
    with xr.open_datatree(out, engine="netcdf4") as tree:
        s = tree["summary"]
        assert dict(s.sizes) == {"alpha": 3, "nu": 2, "temperature": 2}
        assert float(s["R"].sel(alpha=1, nu=0.5, temperature=1)) == pytest.approx(single["R"],
                                                                                  rel=1e-13)
        assert "status" not in s["efficiency"].attrs
    batch = run_json(capsys, ["theory", "teacher-student", "--mode", "batch", "--alpha", "1",
                              "--t", "1,inf", "--json"])
    assert batch["grid"] == {"t": [1.0, None]} and len(batch["R"]) == 2


@pytest.mark.parametrize("argv", [["--alpha", "0.5,0.5"], ["--nu", "1,,2"], ["--k", "a,b"],
                                  ["--alpha", "nan"]])
def test_bad_comma_lists_one_line(capsys, argv):
    one_line(capsys, ["theory", "memorization", *argv])


def test_concatenated_runs_carry_no_per_point_status_attribute():
    runs = [ti.simulate_memorization(seed(i), n_weights=10, n_replicas=2, nu=nu)
            for i, nu in enumerate((0.0, 1.0))]  # nu = 0: no_cost; nu = 1: ok
    ds = xr.concat([r["summary"].to_dataset() for r in runs], dim="point")
    assert ds["efficiency_status"].values.tolist() == ["no_cost", "ok"]
    assert "status" not in ds["efficiency"].attrs


def test_broken_pipe_exits_quietly():
    exe = Path(sys.executable).with_name("thermoinfer")
    cmd = f"'{exe}' theory teacher-student --alpha 0.5,1,2 --json | head -c1"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert p.stdout == "{" and p.stderr == "", p.stderr


# ------------------------------------------------------------------------- CF units and types

#: unit strings UDUNITS-2 parses that these outputs may contain (placeholders become "1")
_UDUNITS_FORM = re.compile(r"1|(?:(?:s|ms|us|ns|min|h|m|mm|um|nm|J|K)(?:-?\d+)?)"
                           r"(?: (?:s|ms|us|ns|min|h|m|mm|um|nm|J|K)(?:-?\d+)?)*")


def _outputs(tmp_path):
    ep = tmp_path / "ep.nc"
    main(["ep", "linear", "--drift", "[[-1, -0.5], [0.5, -1]]", "--diffusion", "1", "--dt",
          "0.1", "-o", str(ep)])
    yield ti.read_netcdf(ep)
    yield ti.theory_memorization(alpha=[0.5, 1.0], nu=1.0, t=[1.0, math.inf])
    yield ti.theory_teacher_student([0.5, 1.0], nu=[0.5, 1.0])
    yield ti.theory_teacher_student([0.5, 1.0], mode="batch")
    yield ti.simulate_memorization(seed(5), n_weights=10, n_replicas=3, rule="perceptron", t=0.2,
                                   dt=0.01, record_every=5)
    yield ti.simulate_teacher_student(seed(6), n_weights=20, n_replicas=2, record_alphas=[0.5])
    yield ti.simulate_teacher_student(seed(7), mode="batch", n_weights=10, n_replicas=2,
                                      alpha=0.5, t=1.0, dt=0.1, record_every=2)


def test_every_units_attribute_parses_and_integers_are_int32(tmp_path, capsys):
    try:
        import cf_units
    except ImportError:
        cf_units = None
    seen = 0
    for tree in _outputs(tmp_path):
        path = ti.write_netcdf(tree, tmp_path / f"t{seen}.nc")
        with xr.open_datatree(path, engine="netcdf4", decode_cf=False) as raw:
            for node in raw.subtree:
                for name, var in node.to_dataset(inherit=False).variables.items():
                    assert var.dtype != np.int64, f"{node.path}/{name} is int64"
                    if "units" not in var.attrs:
                        continue
                    u = var.attrs["units"]
                    assert _UDUNITS_FORM.fullmatch(u), f"{node.path}/{name}: units {u!r}"
                    if cf_units is not None:
                        cf_units.Unit(u)
                    if "reduced_units" in var.attrs:
                        assert var.attrs["units_note"]
                    seen += 1
        xr.testing.assert_identical(ti.read_netcdf(path), tree)  # read validates the new form
    capsys.readouterr()
    assert seen > 100


@pytest.mark.parametrize("reduced,cf", [
    ("k_B T_unit", "1"), ("nat", "1"), ("time_unit-1", "1"), ("nat time_unit-1", "1"),
    ("length_unit2 time_unit-1", "1"), ("nat s-1", "s-1"), ("um2 s-1", "um2 s-1"), ("1", "1"),
])
def test_units_convention(reduced, cf):
    attrs = units_attrs(reduced)
    assert attrs["units"] == cf
    assert ("reduced_units" in attrs) == (reduced != cf)
    assert _UDUNITS_FORM.fullmatch(attrs["units"])
    with pytest.raises(ti.InputError):
        units_attrs("  ")

"""The command line: JSON schema, netCDF output, one-line errors with exit status 2."""

import json
import math
import shutil
import subprocess
import sys

import pytest
import xarray as xr
from _stats import seed

from thermoinfer.cli import main

REQUIRED = ("training_error", "mutual_information_per_pattern", "mutual_information_per_weight",
            "heat_per_weight", "entropy_change_per_weight", "efficiency", "bound_satisfied",
            "conventions")


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_theory_json_checkpoint(capsys):
    d = run_json(capsys, ["theory", "memorization", "--alpha", "0.5", "--nu", "1", "--k", "1",
                          "--T", "1", "--t", "inf", "--json"])
    for key in REQUIRED:
        assert key in d
    assert round(d["training_error"], 6) == 0.207108
    assert round(d["mutual_information_per_pattern"], 6) == 0.183047
    assert round(d["efficiency"], 6) == 0.202158
    assert d["heat_per_weight"] == pytest.approx(0.25, abs=1e-12)
    assert d["bound_satisfied"] is True
    assert d["conventions"]["entropy_convention"] == "annealed"
    assert d["time"] is None and d["time_is_infinite"] is True


def test_theory_t_scaling_via_cli(capsys):
    """(nu, T) -> (sqrt(c) nu, c T) leaves the entropy-unit quantities unchanged."""
    a = run_json(capsys, ["theory", "memorization", "--nu", "1", "--T", "1", "--t", "2", "--json"])
    b = run_json(capsys, ["theory", "memorization", "--nu", str(math.sqrt(2)), "--temperature", "2",
                          "--time", "2", "--json", "--entropy", "quenched_gaussian"])
    c = run_json(capsys, ["theory", "memorization", "--nu", "1", "--T", "1", "--t", "2", "--json",
                          "--entropy", "quenched_gaussian"])
    assert b["efficiency"] == pytest.approx(c["efficiency"], rel=1e-12)
    assert b["medium_entropy_change_per_weight"] == pytest.approx(c["medium_entropy_change_per_weight"], rel=1e-12)
    assert a["efficiency"] != pytest.approx(c["efficiency"], rel=1e-3)  # conventions differ at nu = 1


def test_simulate_json_and_netcdf(capsys, tmp_path):
    out = tmp_path / "x.nc"
    d = run_json(capsys, ["simulate", "memorization", "--rule", "perceptron", "--alpha", "0.5",
                          "--nu", "1", "--N", "40", "--t", "1", "--dt", "0.01", "--replicas", "16",
                          "--seed", str(seed(3)), "--json", "-o", str(out)])
    for key in REQUIRED:
        assert key in d
    for key in ("training_error_se", "heat_per_weight_se", "entropy_change_per_weight_se",
                "mutual_information_per_weight_se"):
        assert key in d and d[key] is not None
    assert d["conventions"]["path_weights"] == "euler_maruyama"
    with xr.open_datatree(out, engine="netcdf4") as tree:
        assert {"parameters", "thermodynamics", "information", "summary"} <= set(tree.children)
        heat = tree["summary"]["heat_per_weight"].attrs  # CF units "1", reduced units named
        assert heat["units"] == "1" and heat["reduced_units"] == "k_B T_unit"
        assert tree.attrs["seed"] == seed(3)


def test_simulate_same_seed_same_json(capsys):
    argv = ["simulate", "memorization", "--N", "30", "--replicas", "8", "--t", "1", "--json"]
    assert run_json(capsys, argv) == run_json(capsys, argv)


def test_rule_file(capsys, tmp_path):
    f = tmp_path / "myrule.py"
    f.write_text(
        "import jax.numpy as jnp\nimport thermoinfer as ti\n"
        "ti.register_rule('soft_perceptron', lambda a, s: 1.0 / (1.0 + jnp.exp(4.0 * s * a)), overwrite=True)\n"
    )
    try:
        d = run_json(capsys, ["simulate", "memorization", "--rule-file", str(f), "--rule",
                              "soft_perceptron", "--N", "20", "--replicas", "8", "--t", "0.5",
                              "--dt", "0.01", "--json"])
    finally:
        import thermoinfer as ti

        ti.unregister_rule("soft_perceptron")
    assert d["heat_per_weight"] is not None


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["theory", "memorization", "--k", "0"], "k"),
        (["theory", "memorization", "--T", "-1"], "temperature"),
        (["theory", "memorization", "--nu", "-1"], "nu"),
        (["theory", "memorization", "--alpha", "0"], "alpha"),
        (["theory", "memorization", "--t", "nan"], "--t/--time"),
        (["theory", "memorization", "--alpha", "abc"], "--alpha"),
        (["theory", "memorization", "--rule", "perceptron"], "simulate"),
        (["theory", "memorization", "--entropy", "exact_mixture"], "simulate"),
        (["simulate", "memorization", "--N", "0"], "N"),
        (["simulate", "memorization", "--rule", "hopfield"], "unknown learning rule"),
        (["simulate", "memorization", "--rule", "adatron", "--nu", "5", "--t", "1", "--dt", "0.5"],
         "too large"),
        (["simulate", "memorization", "--rule", "perceptron"], "t=inf"),
        (["simulate", "memorization", "--rule-file", "/nonexistent.py"], "--rule-file"),
        (["simulate", "memorization", "--k", "inf"], "k"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    code = main(argv + ["--json"])
    out = capsys.readouterr()
    assert code == 2
    lines = [ln for ln in out.err.splitlines() if ln.strip()]
    assert len(lines) == 1, out.err
    assert needle in lines[0]
    assert "Traceback" not in out.err
    assert out.out == ""


def test_help_states_units(capsys):
    assert main(["simulate", "memorization", "--help"]) == 0
    text = capsys.readouterr().out
    assert "nats" in text and "k_B = 1" in text and "--temperature" in text and "--time" in text


def test_console_script_entry_point():
    exe = shutil.which("thermoinfer") or str(__import__("pathlib").Path(sys.executable).with_name("thermoinfer"))
    res = subprocess.run([exe, "theory", "memorization", "--nu", "0.5", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["bound_satisfied"] is True
    res = subprocess.run([exe, "theory", "memorization", "--k", "-2"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1


def test_infinite_values_keep_their_sign(capsys):
    d = run_json(capsys, ["theory", "teacher-student", "--rule", "perceptron", "--alpha", "inf",
                          "--json"])
    assert d["heat_per_weight"] is None and d["heat_per_weight_infinite"] in {"+inf", "-inf"}
    d = run_json(capsys, ["theory", "memorization", "--json"])
    assert d["time"] is None and d["time_infinite"] == "+inf" and d["time_is_infinite"] is True


def test_empty_output_path_and_stray_n_are_refused(capsys):
    assert main(["theory", "memorization", "-o", ""]) == 2
    assert main(["theory", "memorization", "--N", "100"]) == 2
    err = capsys.readouterr().err
    assert "needs a file name" in err and "--N is used only with" in err

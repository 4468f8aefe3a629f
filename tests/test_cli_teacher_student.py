"""``thermoinfer theory|simulate teacher-student``: JSON schema, checkpoints, flags, netCDF, user
rules, one-line errors with exit status 2."""

import json
import math
import subprocess
import sys

import pytest
from _stats import seed

from thermoinfer.cli import main
from thermoinfer.data.io import read_netcdf

REQUIRED = ("R", "Q", "rho", "generalization_error", "mutual_information_per_weight",
            "entropy_change_per_weight", "heat_per_weight", "efficiency", "bound_satisfied",
            "feedback_uncorrected", "conventions", "status")

CLONES = '''
import jax.numpy as jnp
import thermoinfer as ti
ti.register_rule("hebb_cli_clone", lambda a, s: jnp.ones_like(a * s), depends_on_activation=False,
                 overwrite=True)
ti.register_rule("perc_cli_clone", lambda a, s: jnp.where(s * a < 0, 1.0, 0.0), overwrite=True)
ti.register_rule("ada_cli_clone", lambda a, s: jnp.where(s * a < 0, jnp.abs(a), 0.0), overwrite=True)
'''


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def run_error(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    return lines[0]


@pytest.fixture(scope="module")
def rule_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "clones.py"
    path.write_text(CLONES)
    return str(path)


# ------------------------------------------------------------------------------ theory


def test_theory_online_hebbian_checkpoint(capsys):
    """Physics.md §10.5 at alpha = 1 and the steady state (heat there is infinite -> null)."""
    d = run_json(capsys, ["theory", "teacher-student", "--mode", "online", "--alpha", "1",
                          "--nu", "1", "--k", "1", "--T", "1", "--json"])
    for key in REQUIRED:
        assert key in d
    assert round(d["R"], 5) == 0.50436 and round(d["Q"], 5) == 1.68671
    assert round(d["heat_per_weight"], 5) == 0.39084 and round(d["efficiency"], 5) == 0.12532
    assert d["bound_satisfied"] is True and d["feedback_uncorrected"] is False and d["status"] == "ok"
    assert d["conventions"]["heat_convention"] == "kick_relaxation"
    s = run_json(capsys, ["theory", "teacher-student", "--alpha", "inf", "--json"])
    assert round(s["R"], 4) == 0.7979 and round(s["Q"], 4) == 2.1366
    assert round(s["rho"], 4) == 0.5459 and round(s["generalization_error"], 4) == 0.3162
    assert round(s["mutual_information_per_weight"], 4) == 0.1769
    assert s["heat_per_weight"] is None


def test_theory_batch_hebbian_checkpoint(capsys):
    """Physics.md §10.4."""
    d = run_json(capsys, ["theory", "teacher-student", "--mode", "batch", "--alpha", "1",
                          "--t", "inf", "--json"])
    assert round(d["Q"], 4) == 2.6366 and round(d["rho"], 4) == 0.4914
    assert round(d["heat_per_weight"], 5) == 0.81831 and round(d["efficiency"], 5) == 0.10604
    assert d["feedback_uncorrected"] is False
    assert d["conventions"]["heat_convention"] == "not_applicable"


def test_theory_flags_adatron_reflection_and_feedback(capsys):
    d = run_json(capsys, ["theory", "teacher-student", "--rule", "adatron", "--nu", "2",
                          "--alpha", "2", "--T", "0.5", "--json"])
    assert d["Q"] == pytest.approx(0.5, abs=1e-12)
    assert d["efficiency"] is None and d["status"] == "bound_violated"
    assert d["bound_satisfied"] is False and d["feedback_uncorrected"] is True
    assert d["margin_per_weight"] == pytest.approx(-d["mutual_information_per_weight"], abs=1e-12)
    assert d["conventions"]["temperature"] == 0.5
    p = run_json(capsys, ["theory", "teacher-student", "--rule", "perceptron", "--nu", "3",
                          "--alpha", "0.5,1", "--json"])
    assert p["alpha"] == [0.5, 1.0]
    assert all(m > 0 for m in p["margin_per_weight"]) and p["bound_satisfied"] == [True, True]
    assert p["feedback_uncorrected"] == [True, True] and p["efficiency"] == [None, None]
    assert p["status"] == ["feedback_uncorrected"] * 2


def test_theory_refuses_continuous_force(capsys):
    line = run_error(capsys, ["theory", "teacher-student", "--heat", "continuous_force", "--json"])
    assert "kick_relaxation" in line


def test_theory_netcdf_and_user_clones(capsys, tmp_path, rule_file):
    out = tmp_path / "th.nc"
    run_json(capsys, ["theory", "teacher-student", "--alpha", "0.5,1,inf", "--json", "-o", str(out)])
    tree = read_netcdf(out)
    assert tree.attrs["heat_convention"] == "kick_relaxation" and tree.attrs["simulation"] == 0
    assert tree["summary"].sizes["alpha"] == 3  # one grid dimension per swept parameter
    for builtin, clone in (("hebbian", "hebb_cli_clone"), ("perceptron", "perc_cli_clone"),
                           ("adatron", "ada_cli_clone")):
        a = run_json(capsys, ["theory", "teacher-student", "--rule", builtin, "--alpha", "0.5,2",
                              "--json"])
        b = run_json(capsys, ["theory", "teacher-student", "--rule-file", rule_file, "--rule", clone,
                              "--alpha", "0.5,2", "--json"])
        for key in ("R", "Q", "heat_per_weight", "mutual_information_per_weight"):
            assert b[key] == pytest.approx(a[key], abs=1e-6), (builtin, key)
        assert b["feedback_uncorrected"] == a["feedback_uncorrected"]


# ------------------------------------------------------------------------------ simulate


def test_simulate_json_netcdf_and_help_units(capsys, tmp_path):
    out = tmp_path / "sim.nc"
    d = run_json(capsys, ["simulate", "teacher-student", "--rule", "adatron", "--nu", "2",
                          "--alpha", "1", "--record-alphas", "0.5", "--N", "120", "--replicas", "6",
                          "--T", "0.5", "--seed", str(seed(4)), "--json", "-o", str(out)])
    for key in REQUIRED:
        assert key in d
    for key in ("R_se", "Q_se", "generalization_error_se", "heat_per_weight_se",
                "mutual_information_per_weight_se", "entropy_change_per_weight_se"):
        assert key in d and len(d[key]) == 2
    assert d["alpha"] == [0.5, 1.0]
    assert d["efficiency"] == [None, None] and d["feedback_uncorrected"] == [True, True]
    assert d["conventions"]["heat_convention"] == "kick_relaxation"
    assert d["conventions"]["temperature"] == 0.5
    tree = read_netcdf(out)
    assert tree.attrs["heat_convention"] == "kick_relaxation" and tree.attrs["seed"] == seed(4)
    assert tree.attrs["command"].startswith("thermoinfer")
    b = run_json(capsys, ["simulate", "teacher-student", "--mode", "batch", "--alpha", "0.5",
                          "--N", "40", "--replicas", "4", "--json"])
    assert b["t"] is None and b["conventions"]["heat_convention"] == "not_applicable"
    assert main(["simulate", "teacher-student", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "Units:" in help_text and "nats" in help_text and "per weight" in help_text


@pytest.mark.slow
def test_simulate_user_clones_same_numbers(capsys, rule_file):
    for builtin, clone in (("hebbian", "hebb_cli_clone"), ("perceptron", "perc_cli_clone"),
                           ("adatron", "ada_cli_clone")):
        argv = ["simulate", "teacher-student", "--alpha", "0.5", "--N", "50", "--replicas", "3",
                "--nu", "1.5", "--seed", str(seed(9)), "--json"]
        a = run_json(capsys, argv + ["--rule", builtin])
        b = run_json(capsys, argv + ["--rule-file", rule_file, "--rule", clone])
        assert b.pop("rule") == clone and a.pop("rule") == builtin
        assert a == b


BAD = [
    (["--k", "0"], "k"), (["--k", "-1"], "k"), (["--T", "0"], "T"), (["--temperature", "-1"], "T"),
    (["--nu", "-1"], "nu"), (["--alpha", "0"], "alpha"), (["--N", "0"], "N"),
    (["--mode", "sideways"], "mode"), (["--heat", "adiabatic"], "heat"),
    (["--rule", "no_such_rule"], "no_such_rule"), (["--inputs", "ternary"], "inputs"),
    (["--t", "1"], "batch"), (["--rule-file", "/no/such/file.py"], "rule-file"),
    (["--alpha", "x"], "alpha"),
]


@pytest.mark.parametrize("extra,word", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_simulate_bad_input_one_line_exit_2(capsys, extra, word):
    line = run_error(capsys, ["simulate", "teacher-student", "--N", "20", "--replicas", "2",
                              "--json", *extra])
    assert word in line


@pytest.mark.parametrize("extra", [["--k", "0"], ["--T", "-1"], ["--nu", "-2"], ["--alpha", "-1"],
                                   ["--mode", "x"], ["--heat", "y"], ["--rule", "nope"],
                                   ["--mode", "batch", "--rule", "perceptron"]])
def test_theory_bad_input_one_line_exit_2(capsys, extra):
    run_error(capsys, ["theory", "teacher-student", "--json", *extra])


@pytest.mark.slow
def test_entry_point_subprocess_float64_and_error():
    """The real entry point, without the test suite's x64 configuration."""
    cmd = [sys.executable, "-m", "thermoinfer", "simulate", "teacher-student", "--N", "100",
           "--replicas", "3", "--alpha", "1", "--rule", "perceptron", "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["first_law_residual_max"] < 1e-10  # float32 would leave ~1e-4
    assert math.isnan(float("nan" if d["efficiency"] is None else d["efficiency"]))
    p = subprocess.run(cmd + ["--k", "0"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1

"""``thermoinfer ep linear``: JSON and human output, --help with units, bad input -> exit 2."""

import json

import pytest

from thermoinfer.cli import main

ROTATIONAL = ["ep", "linear", "--drift", "[[-1, -0.5], [0.5, -1]]", "--diffusion", "1"]


def _run_json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


def test_json_output_rotational_trap(capsys):
    res = _run_json(capsys, ROTATIONAL + ["--dt", "0.1"])
    for key in ("entropy_production_rate", "kl_rate_at_dt", "steady_covariance", "dt", "units",
                "conventions"):
        assert key in res
    assert res["entropy_production_rate"] == pytest.approx(2 * 0.5**2 / 1.0, rel=1e-12)
    assert 0 < res["kl_rate_at_dt"] < res["entropy_production_rate"]
    assert res["dt"] == 0.1
    assert res["steady_covariance"] == [[1.0, 0.0], [0.0, 1.0]]
    assert res["units"]["entropy_production_rate"] == "nat/time"
    assert res["units"]["kl_rate_at_dt"] == "nat/time"
    assert res["conventions"]["information_unit"] == "nat"
    assert res["conventions"]["path_weights"] == "exact_ou"


def test_json_two_bead_chain_with_diagonal_diffusion(capsys):
    k, gamma, T1, T2 = 1.0, 1.0, 2.0, 0.5
    res = _run_json(capsys, ["ep", "linear", "--drift", "[[-2, 1], [1, -2]]",
                             "--diffusion", f"[{T1}, {T2}]"])
    assert res["entropy_production_rate"] == pytest.approx(
        k * (T1 - T2) ** 2 / (4 * gamma * T1 * T2), rel=1e-12)
    assert res["kl_rate_at_dt"] is None and res["dt"] is None
    assert res["kl_rate_status"] != "ok"


def test_human_readable_output(capsys):
    assert main(ROTATIONAL + ["--dt", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "entropy production rate" in out and "0.5" in out
    assert "nats per unit time" in out
    assert "steady covariance" in out


def _exit_code(argv):
    """main() returns the status; older frames let argparse's SystemExit through."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_help_states_units(capsys):
    assert _exit_code(["ep", "linear", "--help"]) == 0
    out = capsys.readouterr().out
    assert "nats per unit time" in out and "1/time" in out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--drift", "[[-1, 0], [0, -1]", "--diffusion", "1"], "--drift"),
        (["--drift", "[[-1, 0], [0, -1]]", "--diffusion", "abc"], "--diffusion"),
        (["--drift", "[[1, 0], [0, -1]]", "--diffusion", "1"], "no steady state"),
        (["--drift", "[[-1, 0], [0, -1]]", "--diffusion", "[[1, 2], [2, 1]]"], "positive definite"),
        (["--drift", "[[-1, 0], [0, -1]]", "--diffusion", "1", "--dt", "0"], "--dt"),
        (["--drift", "[[-1, 0], [0, -1]]", "--diffusion", "1", "--dt", "-0.5"], "--dt"),
        (["--drift", "[[-1, 0], [0, -1]]", "--diffusion", "[1, 2, 3]"], "--diffusion"),
        (["--drift", "[[-1, 0, 0], [0, -1, 0]]", "--diffusion", "1"], "--drift"),
        (["--drift", "[[-1, NaN], [0, -1]]", "--diffusion", "1"], "--drift"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, argv, match):
    assert main(["ep", "linear"] + argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], captured.err
    assert lines[0].startswith("thermoinfer ep: error:")


def test_missing_required_option_exits_2(capsys):
    assert _exit_code(["ep", "linear", "--diffusion", "1"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

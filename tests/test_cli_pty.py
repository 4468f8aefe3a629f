"""Every command of the CLI once under a pseudo-terminal, so that terminal-only paths (progress
bars with parallel chains, rich tables and colours) run in CI.

Under a pty, stdout and stderr are terminals: progress bars are on by default. The fit with two
parallel chains is the case that once died with a JAX callback dtype error (numpyro's progress
bar under a thread-local float64 switch); it must exit 0 and draw a bar per chain.
"""

import re

import numpy as np
import pytest
from _pty import run_in_pty
from _stats import seed

pytestmark = [pytest.mark.xdist_group("pty")]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r", "\n")


def _assert_clean(rc, out, expect_rc=0):
    assert "Traceback" not in out, out[-3000:]
    assert rc == expect_rc, out[-3000:]


@pytest.fixture(scope="module")
def trap_csv(tmp_path_factory):
    from thermoinfer.data.observations import simulate_linear_ou, write_trajectories_csv

    path = tmp_path_factory.mktemp("pty") / "trap.csv"
    ds = simulate_linear_ou([[-1.0, -0.5], [0.5, -1.0]], 1.0, np.linspace(0, 20, 101),
                            n_replicas=2, seed=seed(1))
    write_trajectories_csv(ds, path)
    return path


@pytest.mark.parametrize("args, needle", [
    (["--help"], "COMMAND"),
    (["--version"], "thermoinfer"),
    (["theory", "memorization", "--alpha", "0.5", "--nu", "1"], "efficiency"),
    (["theory", "teacher-student", "--mode", "online", "--rule", "adatron", "--alpha", "1",
      "--nu", "2"], "generalization"),
    (["ep", "linear", "--drift", "[[-1,-0.5],[0.5,-1]]", "--diffusion", "[[1,0],[0,1]]",
      "--dt", "0.1"], "entropy"),
    (["fit", "--list-models"], "linear-ou"),
    (["run", "--list"], "memorization_efficiency"),
], ids=["help", "version", "theory-memorization", "theory-teacher-student", "ep-linear",
        "fit-list-models", "run-list"])
def test_command_in_pty(args, needle):
    rc, out = run_in_pty(args, timeout=300)
    _assert_clean(rc, out)
    assert needle in _plain(out)


def test_simulate_memorization_in_pty(tmp_path):
    out_nc = tmp_path / "sim.nc"
    rc, out = run_in_pty(["simulate", "memorization", "--rule", "perceptron", "--alpha", "0.5",
                          "--N", "40", "--t", "2", "--dt", "0.01", "--replicas", "8", "-o",
                          str(out_nc)], timeout=300)
    _assert_clean(rc, out)
    assert out_nc.is_file()
    assert "efficiency" in _plain(out)


def test_simulate_teacher_student_in_pty(tmp_path):
    rc, out = run_in_pty(["simulate", "teacher-student", "--mode", "online", "--rule",
                          "perceptron", "--alpha", "1", "--N", "100", "--replicas", "4"],
                         timeout=300)
    _assert_clean(rc, out)
    assert "generalization" in _plain(out)


def test_bad_input_in_pty_is_one_line():
    rc, out = run_in_pty(["theory", "memorization", "--alpha", "-1"], timeout=120)
    _assert_clean(rc, out, expect_rc=2)
    lines = [ln for ln in _plain(out).splitlines() if ln.strip()]
    assert len(lines) == 1 and "error" in lines[0], out


@pytest.mark.slow
def test_fit_two_chains_with_progress_bar(trap_csv, tmp_path):
    """The tutorial fit in a terminal: parallel chains, progress bar on, exit 0."""
    out_nc = tmp_path / "fit.nc"
    rc, out = run_in_pty(["fit", str(trap_csv), "--model", "linear-ou", "--chains", "2",
                          "--draws", "100", "--warmup", "100", "--no-predictive", "-o",
                          str(out_nc)], timeout=900)
    _assert_clean(rc, out)
    text = _plain(out)
    assert "chain 0" in text and "chain 1" in text, text[-2000:]   # one bar per chain
    assert "eta" in text                                            # with an ETA
    assert out_nc.is_file()
    import xarray as xr

    tree = xr.open_datatree(out_nc, engine="netcdf4")
    assert tree.attrs["chain_method"] == "parallel" and int(tree.attrs["devices"]) == 1


@pytest.mark.slow
def test_run_quick_in_pty(tmp_path):
    rc, out = run_in_pty(["run", "memorization_efficiency", "--quick", "--out", str(tmp_path)],
                         timeout=900)
    _assert_clean(rc, out)
    text = _plain(out)
    assert "simulating" in text                       # the progress bar
    for name in ("memorization_theory.nc", "memorization_simulation.nc",
                 "memorization_efficiency.png"):
        assert f"wrote {tmp_path / name}" in text.replace("\n", "") or name in text
        assert (tmp_path / name).is_file()

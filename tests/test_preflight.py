"""Check before working: output paths and job sizes are validated before any computation.

Output paths (``check_output_path``, the atomic writer): a missing folder, a directory, a device
or FIFO, a read-only file and a wrong ending are refused in one line, exit 2, and nothing is
replaced; temporaries carry a recognisable name and stale ones of dead processes are removed on
the next write. Job sizes: a simulation beyond ``--max-steps`` (default 1e7) or the available
memory is refused with the estimate, fast (before JAX is imported in the CLI); the step count
of the estimate is the one the simulator takes (checked against ``dynamics.simulate``).
"""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _stats import seed

import thermoinfer as ti
from thermoinfer._jobsize import DEFAULT_MAX_STEPS, check_max_steps, simulation_steps
from thermoinfer.cli import main
from thermoinfer.data.io import (
    check_output_path,
    remove_stale_temporaries,
    write_netcdf,
)

THEORY = ["theory", "memorization", "--json"]


def run_err(capsys, argv):
    """Run the CLI in-process; return (exit status, stderr lines)."""
    code = main(argv)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def assert_one_line(code, lines, fragment=""):
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert fragment in lines[0], lines[0]


def small_tree():
    return ti.theory_memorization(alpha=0.5, nu=1.0)


# ----------------------------------------------------------------------------------- outputs


def test_missing_folder_directory_and_wrong_ending_refused(capsys, tmp_path):
    code, lines = run_err(capsys, [*THEORY, "-o", str(tmp_path / "missing" / "x.nc")])
    assert_one_line(code, lines, "does not exist")
    (tmp_path / "adir").mkdir()
    code, lines = run_err(capsys, [*THEORY, "-o", str(tmp_path / "adir")])
    assert_one_line(code, lines, "is a directory")
    code, lines = run_err(capsys, [*THEORY, "-o", str(tmp_path / "x.csv")])
    assert_one_line(code, lines, "netCDF")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("argv", [
    ["theory", "memorization"],
    ["theory", "teacher-student"],
    ["simulate", "memorization", "--N", "20", "--replicas", "4"],
    ["simulate", "teacher-student", "--N", "20", "--replicas", "4"],
    ["ep", "linear", "--drift", "[[-1]]", "--diffusion", "1"],
])
def test_every_command_checks_its_output_before_working(capsys, tmp_path, argv):
    """The check comes first: a bad -o fails in well under a second of work."""
    t0 = time.perf_counter()
    code, lines = run_err(capsys, [*argv, "-o", str(tmp_path / "nofolder" / "r.nc")])
    assert_one_line(code, lines, "does not exist")
    assert time.perf_counter() - t0 < 3.0


def test_read_only_file_is_refused_and_kept(capsys, tmp_path):
    target = tmp_path / "ro.nc"
    target.write_bytes(b"precious")
    target.chmod(0o444)
    code, lines = run_err(capsys, [*THEORY, "-o", str(target)])
    assert_one_line(code, lines, "read-only")
    assert target.read_bytes() == b"precious"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444  # not made writable
    with pytest.raises(ti.InputError, match="read-only"):
        write_netcdf(small_tree(), target)
    assert target.read_bytes() == b"precious"


def test_device_and_fifo_are_never_replaced(capsys, tmp_path):
    before = os.stat("/dev/null")
    code, lines = run_err(capsys, [*THEORY, "-o", "/dev/null"])
    assert_one_line(code, lines, "character device")
    with pytest.raises(ti.InputError, match="character device"):
        write_netcdf(small_tree(), "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    fifo = tmp_path / "pipe.nc"
    os.mkfifo(fifo)
    with pytest.raises(ti.InputError, match="FIFO"):
        check_output_path(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_symlink_to_a_file_writes_the_file(tmp_path):
    real = tmp_path / "real.nc"
    real.write_bytes(b"old")
    link = tmp_path / "link.nc"
    link.symlink_to(real)
    write_netcdf(small_tree(), link)
    assert link.is_symlink()  # the link stays a link
    xr.testing.assert_identical(ti.read_netcdf(real)["summary"].to_dataset(),
                                small_tree()["summary"].to_dataset())


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "r.nc"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".r.nc.thermoinfer-tmp-{dead.pid}-0"
    stale.write_bytes(b"half")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".r.nc.thermoinfer-tmp-{alive.pid}-0"
        live.write_bytes(b"in progress")
        other = tmp_path / f".q.nc.thermoinfer-tmp-{dead.pid}-0"  # another target: untouched
        other.write_bytes(b"x")
        write_netcdf(small_tree(), target)
        assert not stale.exists() and live.exists() and other.exists()
        assert remove_stale_temporaries(target) == []
    finally:
        alive.kill()
        alive.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".q.nc.thermoinfer-tmp-{dead.pid}-0", f".r.nc.thermoinfer-tmp-{alive.pid}-0",
         "r.nc"])


_KILLED_WRITER = """
import os, sys, time
from thermoinfer.data.io import atomic_write
def write(tmp):
    with open(tmp, "wb") as fh:
        fh.write(b"partial")
        fh.flush()
    print("writing", flush=True)
    time.sleep(60)
atomic_write(sys.argv[1], write)
"""


def test_kill_during_the_write_keeps_the_old_file_and_names_the_temporary(tmp_path):
    target = tmp_path / "r.nc"
    write_netcdf(small_tree(), target)
    old = target.read_bytes()
    p = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target)],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "writing"
        p.kill()  # SIGKILL: no cleanup handler runs
        p.wait()
    finally:
        p.stdout.close()
    assert target.read_bytes() == old
    tmps = [q.name for q in tmp_path.iterdir() if q.name != "r.nc"]
    assert tmps == [f".r.nc.thermoinfer-tmp-{p.pid}-0"]  # a user can tell what it is
    write_netcdf(small_tree(), target)  # the next write of the same target cleans it
    assert [q.name for q in tmp_path.iterdir()] == ["r.nc"]


def test_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "r.nc"
    bad = xr.DataTree(xr.Dataset({"x": ((), object())}))
    with pytest.raises(Exception):  # noqa: B017 - whatever netCDF says about an object
        write_netcdf(bad, target)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------- job size


def test_oversized_simulation_exits_2_fast_in_a_subprocess():
    exe = Path(sys.executable).with_name("thermoinfer")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "thermoinfer"]
    t0 = time.perf_counter()
    p = subprocess.run([*cmd, "simulate", "memorization", "--t", "1e6", "--dt", "0.01"],
                       capture_output=True, text=True, timeout=60)
    wall = time.perf_counter() - t0
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert "1e+08 time steps" in lines[0] and "--max-steps" in lines[0]
    assert wall < 3.0, wall


@pytest.mark.parametrize("argv,fragment", [
    (["--t", "1e6", "--dt", "0.01"], "1e+08 time steps"),
    (["--t", "1e10", "--dt", "0.01"], "time steps"),
    (["--t", "1e300", "--dt", "0.1"], "time steps"),
    (["--t", "1", "--dt", "0.1", "--record-every", "1e12"], "record_every"),
    (["--rule", "perceptron", "--t", "1e10", "--dt", "0.001"], "time steps"),
    (["--N", "100000", "--replicas", "1000", "--alpha", "2", "--t", "1", "--dt", "0.1",
      "--max-steps", "inf"], "memory"),
])
def test_simulate_memorization_estimate_refuses(capsys, argv, fragment):
    code, lines = run_err(capsys, ["simulate", "memorization", *argv])
    assert_one_line(code, lines, fragment)


@pytest.mark.parametrize("argv,fragment", [
    (["--alpha", "1e10"], "samples"),
    (["--mode", "batch", "--rule", "perceptron", "--t", "1e6", "--dt", "0.01"], "time steps"),
])
def test_simulate_teacher_student_estimate_refuses(capsys, argv, fragment):
    code, lines = run_err(capsys, ["simulate", "teacher-student", *argv])
    assert_one_line(code, lines, fragment)


def test_max_steps_override_and_api_keyword():
    with pytest.raises(ti.InputError, match="max_steps"):
        ti.simulate_memorization(seed(1), n_weights=10, n_replicas=2, rule="perceptron",
                                 t=1.0, dt=0.01, max_steps=50)
    with pytest.raises(ti.InputError, match="max_steps"):
        ti.simulate_teacher_student(seed(1), n_weights=10, n_replicas=2, alpha=100.0,
                                    max_steps=500)
    # exactly at the limit runs (100 steps of 0.01)
    tree = ti.simulate_memorization(seed(1), n_weights=10, n_replicas=2, rule="perceptron",
                                    t=1.0, dt=0.01, max_steps=100)
    assert int(tree["parameters"]["n_steps"]) == 100
    assert DEFAULT_MAX_STEPS == 10**7
    assert check_max_steps(None) == float("inf")
    for bad in (0, -1, 1.5, True, "100"):
        with pytest.raises(ti.InputError, match="max_steps"):
            check_max_steps(bad)


def test_cli_max_steps_lifts_the_limit(capsys):
    code, lines = run_err(capsys, ["simulate", "memorization", "--rule", "perceptron", "--N",
                                   "10", "--replicas", "2", "--t", "0.5", "--dt", "0.01",
                                   "--max-steps", "10"])
    assert_one_line(code, lines, "50 time steps")
    code = main(["simulate", "memorization", "--rule", "perceptron", "--N", "10", "--replicas",
                 "2", "--t", "0.5", "--dt", "0.01", "--max-steps", "50", "--json"])
    capsys.readouterr()
    assert code == 0


@pytest.mark.parametrize("t,dt,record_every,exact", [
    (1.0, 0.01, None, False), (1.0, 0.03, None, False), (1.0, 0.01, 7, False),
    (0.5, None, None, True), (1.0, 0.1, 3, True), (0.0, 0.1, None, False),
])
def test_step_estimate_is_the_simulators_step_count(t, dt, record_every, exact):
    """The estimate counts what dynamics.simulate then does (negative control: t/dt alone
    would be wrong for the rounded-up record grids)."""
    import jax

    from thermoinfer.dynamics import NeuronParams, simulate
    from thermoinfer.tasks import memorization_data

    data = memorization_data(jax.random.key(seed(3)), 10, 0.5, data_protocol="shared")
    rule = "hebbian" if exact else "perceptron"
    res = simulate(jax.random.key(seed(4)), data, rule, NeuronParams(1.0, 1.0, 1.0), t=t, dt=dt,
                   record_every=record_every, n_replicas=2)
    steps, _ = simulation_steps(exact=exact, t=t, dt=dt, record_every=record_every)
    assert steps == res.n_steps
    if record_every == 7:
        assert steps != round(t / dt)  # 100 steps rounded up to 105


def test_estimate_never_overflows():
    for t, dt in ((1e300, 1e-300), (1e308, 5e-324), (float("inf"), 0.1)):
        steps, records = simulation_steps(exact=False, t=t, dt=dt, record_every=None)
        assert steps == float("inf") and records == float("inf")
    assert np.isfinite(simulation_steps(exact=True, t=1e300, dt=None, record_every=None)[0])

"""Same seed, same numbers, whichever door: the CLI and the Python API (parallel threads on one
CPU device), a script with two CPU devices (one chain per device) and a sequential run give
identical posterior draws.

Each chain is the same compiled per-chain program with the same key in both schedules
(thermoinfer.inference.chains), so the draws agree bit for bit; a different seed must not
(negative control).
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest
import xarray as xr
from _stats import seed as offset_seed  # _cli below takes a 'seed' argument

from thermoinfer.data.observations import simulate_linear_ou, write_trajectories_csv
from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
from thermoinfer.inference.fit import fit, read_fit, write_fit

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fit_doors")]

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = dict(chains=2, draws=60, warmup=60)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("doors") / "trap.csv"
    ds = simulate_linear_ou([[-1.0, -0.5], [0.5, -1.0]], 1.3, np.linspace(0, 15, 76),
                            n_replicas=2, seed=offset_seed(4))
    write_trajectories_csv(ds, path)
    return path


def _cli(data, out, seed):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "thermoinfer", "fit", str(data), "--model", "linear-ou",
           "--chains", str(SETTINGS["chains"]), "--draws", str(SETTINGS["draws"]), "--warmup",
           str(SETTINGS["warmup"]), "--seed", str(seed), "--no-predictive", "--no-progress",
           "--json", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_fit(out)


def _two_devices(data, out, seed):
    """A script that gives JAX two CPU devices before it starts: one chain per device."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = ("import sys, numpyro\n"
              "numpyro.set_host_device_count(2)\n"
              "from thermoinfer.inference.fit import fit, write_fit\n"
              f"t = fit(sys.argv[1], 'linear-ou', seed={int(seed)}, posterior_predictive=False, "
              f"**{SETTINGS!r})\n"
              "write_fit(t, sys.argv[2])\n")
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", script, str(data), str(out)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_fit(out)


def test_cli_parallel_equals_api_threads_and_sequential(data, tmp_path):
    assert jax.local_device_count() == 1        # this process: the chains run one after another
    cli = _cli(data, tmp_path / "cli.nc", seed=offset_seed(7))
    assert cli.attrs["chain_method"] == "parallel" and int(cli.attrs["devices"]) == 1
    two = _two_devices(data, tmp_path / "two.nc", seed=offset_seed(7))
    assert two.attrs["chain_method"] == "parallel" and int(two.attrs["devices"]) == 2
    with warnings.catch_warnings():  # short chains: poor diagnostics are reported, not tested
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        api = fit(str(data), "linear-ou", seed=offset_seed(7), posterior_predictive=False, **SETTINGS)
        seq = fit(str(data), "linear-ou", seed=offset_seed(7), posterior_predictive=False,
                  chain_method="sequential", **SETTINGS)
    # threads on the one device where there are two cores, else one chain after the other
    cores = len(os.sched_getaffinity(0))
    assert api.attrs["chain_method"] == ("parallel" if cores > 1 else "sequential")
    assert int(api.attrs["devices"]) == 1
    assert seq.attrs["chain_method"] == "sequential"
    for group in ("posterior", "sample_stats", "thermodynamics"):
        xr.testing.assert_identical(api[group].to_dataset(), seq[group].to_dataset())
    write_fit(api, tmp_path / "api.nc")
    api = read_fit(tmp_path / "api.nc")
    xr.testing.assert_identical(api["posterior"].to_dataset(), cli["posterior"].to_dataset())
    xr.testing.assert_identical(api["sample_stats"].to_dataset(),
                                cli["sample_stats"].to_dataset())
    xr.testing.assert_identical(api["thermodynamics"].to_dataset(),
                                cli["thermodynamics"].to_dataset())
    for group in ("posterior", "sample_stats", "thermodynamics"):
        xr.testing.assert_identical(two[group].to_dataset(), cli[group].to_dataset())
    # negative control: another seed gives other draws
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        other = fit(str(data), "linear-ou", seed=offset_seed(8), posterior_predictive=False, **SETTINGS)
    assert not np.array_equal(other["posterior"]["drift"].values,
                              api["posterior"]["drift"].values)

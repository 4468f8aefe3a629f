"""Observation schema: CSV and netCDF readers, validation before sampling, example-data writers."""

import numpy as np
import pytest
import xarray as xr
from _stats import seed

from thermoinfer.cli import main
from thermoinfer.data.observations import (
    make_observations,
    read_observations,
    read_trajectories_csv,
    simulate_linear_ou,
    simulate_neuron,
    validate_observations,
    write_observations,
)
from thermoinfer.errors import InputError

TRAP = [[-1.0, -0.5], [0.5, -1.0]]


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_round_trip_irregular_grid_and_replica_labels(tmp_path):
    times = np.cumsum(np.r_[0.0, np.linspace(0.05, 0.2, 30)])  # irregular steps
    ds = simulate_linear_ou(TRAP, 0.7, times, n_replicas=3, seed=seed(4), components=["x", "y"])
    path = write_observations(ds, tmp_path / "trap.csv")
    back = read_observations(path, "linear-ou")
    np.testing.assert_array_equal(back["observations"].values, ds["observations"].values)
    np.testing.assert_array_equal(back["time"].values, times)
    assert back["observations"].dims == ("replica", "time", "component")
    assert list(back["component"].values) == ["x", "y"]
    text = "# a comment line\nreplica,time,x\n" + "".join(
        f"{r},{t},{v}\n" for r in ("left", "right") for t, v in ((0, 1.0), (0.5, 2.0), (2.0, 0.5)))
    lab = read_observations(_write(tmp_path, text), "linear-ou", time_units="s")
    assert list(lab["replica"].values) == ["left", "right"]
    assert lab["time"].attrs["units"] == "s"
    assert lab["observations"].shape == (2, 3, 1)


def test_csv_without_replica_column_is_one_replica(tmp_path):
    ds = read_trajectories_csv(_write(tmp_path, "time,a,b\n0,1,2\n1,2,3\n3,4,5\n"))
    assert ds["observations"].shape == (1, 3, 2)


BAD_CSV = {
    "nan": ("time,x\n0,1\n1,nan\n2,3\n", "NaN/inf value(s), the first at replica 0, time 1.0"),
    "empty_cell": ("time,x\n0,1\n1,\n2,3\n", "NaN/inf"),
    "inf": ("time,x\n0,1\n1,inf\n2,3\n", "NaN/inf"),
    "decreasing": ("time,x\n0,1\n2,1\n1,3\n", "strictly increasing, but it is decreasing at index 2"),
    "repeated": ("time,x\n0,1\n0,1\n1,3\n", "repeated at index 1"),
    "too_few": ("time,x\n0,1\n1,2\n", "too few points: 2 observation time(s)"),
    "header_only": ("time,x\n", "too few points"),
    "not_a_number": ("time,x\n0,1\n1,abc\n2,3\n", "column 'x', data row 2: 'abc' is not a number"),
    "no_time": ("t,x\n0,1\n1,2\n2,3\n", "no 'time' column"),
    "no_components": ("time\n0\n1\n2\n", "no trajectory columns"),
    "empty": ("", "the file is empty"),
    "grids_differ": ("replica,time,x\na,0,1\na,1,1\na,2,1\nb,0,1\nb,1,1\nb,3,1\n",
                     "replica 'b' is observed at other times than replica 'a'"),
    "nan_time": ("time,x\n0,1\nnan,2\n2,3\n", "'time' contains NaN or inf"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_one_clear_error(tmp_path, case):
    text, fragment = BAD_CSV[case]
    with pytest.raises(InputError, match=None) as err:
        read_observations(_write(tmp_path, text), "linear-ou")
    msg = str(err.value)
    assert fragment in msg
    assert "\n" not in msg and str(tmp_path) in msg  # one line, names the file


def _neuron_ds(**over):
    x = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    kw = dict(dim="weight", inputs=x, labels=np.array([1.0, -1.0]))
    kw.update(over)
    return make_observations(np.zeros((2, 5, 3)), np.linspace(0, 1, 5), **kw)


def test_neuron_requirements():
    assert validate_observations(_neuron_ds(), "neuron")["observations"].dims == (
        "replica", "time", "weight")
    no_inputs = _neuron_ds().drop_vars(["inputs", "labels"])
    with pytest.raises(InputError, match="needs the variable.*inputs.*labels"):
        validate_observations(no_inputs, "neuron")
    comp = _neuron_ds().rename({"weight": "component"}).drop_vars("inputs")
    with pytest.raises(InputError, match="needs observations with dims .replica, time, weight."):
        validate_observations(comp, "neuron")


@pytest.mark.parametrize("change, fragment", [
    (lambda ds: ds.assign(labels=("pattern", [1.0, 0.5])), "labels must be \\+1 or -1"),
    (lambda ds: ds.assign(inputs=(("pattern", "n"), np.ones((2, 2)))),
     "inputs must have dims \\(pattern, weight\\)"),
    (lambda ds: ds.assign(inputs=(("pattern", "weight"), np.full((2, 3), np.nan))),
     "inputs contains 6 NaN/inf"),
    (lambda ds: ds.assign(labels=("label", [1.0, -1.0, 1.0])), "labels must have dims"),
    (lambda ds: ds.assign(temperature=-1.0), "temperature must be a finite number > 0"),
    (lambda ds: ds.assign_attrs(temperature="hot"), "temperature must be a number > 0 or"),
    (lambda ds: ds.assign(observations=ds["observations"].expand_dims(extra=1)),
     "observations must have dims"),
    (lambda ds: ds.rename_vars(observations="weights"), "no variable 'observations'"),
])
def test_bad_dataset_one_clear_error(change, fragment):
    with pytest.raises(InputError, match=fragment):
        validate_observations(change(_neuron_ds()), "neuron")


def test_readout_requirements():
    x = np.array([[1.0, -1.0, 1.0]])
    ok = make_observations(np.zeros((1, 4, 2)), np.arange(4.0), inputs=x, labels=[1.0],
                           probes=np.ones((2, 3)), readout_noise=0.1)
    validate_observations(ok, "neuron-readout")
    with pytest.raises(InputError, match="probes must have dims"):
        validate_observations(ok.drop_vars("probes").assign(
            probes=(("probe", "weight"), np.ones((3, 3)))), "neuron-readout")
    with pytest.raises(InputError, match="readout_noise must be a finite number > 0"):
        validate_observations(ok.assign(readout_noise=0.0), "neuron-readout")


def test_netcdf_round_trip_and_groups(tmp_path):
    ds = simulate_neuron(seed(3), 3, 1.0, t=1.0, dt=0.1, n_replicas=2, known_temperature=True,
                         temperature=0.5)
    path = write_observations(ds, tmp_path / "neuron.nc")
    back = read_observations(path, "neuron")
    xr.testing.assert_identical(back, validate_observations(ds, "neuron"))
    assert float(back["temperature"]) == 0.5
    assert back.attrs["true_learning_rate"] == 1.0
    with pytest.raises(InputError, match="unknown file type"):
        read_observations(_write(tmp_path, "x", "data.json"))
    with pytest.raises(InputError, match="no such file"):
        read_observations(tmp_path / "missing.nc")


def test_simulated_trap_has_the_stationary_variance():
    ds = simulate_linear_ou(TRAP, 1.0, np.linspace(0, 400, 2001), n_replicas=4,
                            seed=seed(0))
    x = ds["observations"].values
    # steady covariance of the rotational trap: C = (D/k) 1 = 1; 4 x 2001 correlated points.
    # (x^2 + y^2)/2 has autocovariance e^{-2k|t|}, so the SE of the variance over 4 replicas of
    # 400 time units is sqrt(1 / (4 * 400)) = 0.025: 0.15 is 6 SE (FAP 2e-9)
    assert abs(x.var() - 1.0) < 0.15


def test_cli_bad_data_exit_2_one_line(tmp_path, capsys):
    path = _write(tmp_path, "time,x\n0,1\n1,nan\n2,3\n")
    assert main(["fit", str(path), "--model", "linear-ou"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "NaN/inf" in err and err.startswith("thermoinfer fit: error:")
    nc = write_observations(_neuron_ds(), tmp_path / "n.nc")
    assert main(["fit", str(nc), "--model", "linear-ou"]) == 2
    assert "needs observations with dims (replica, time, component)" in capsys.readouterr().err
    assert main(["fit", str(nc), "--model", "neuron", "--rule", "nonsense"]) == 2
    assert capsys.readouterr().err.count("\n") == 1

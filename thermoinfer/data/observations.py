r"""Measured trajectories in: the documented observation schema, CSV and netCDF readers, validation.

An **observation dataset** is an ``xarray.Dataset``:

======================  ==============================  ============================================
variable / coordinate    dims                            meaning
======================  ==============================  ============================================
``time`` (coordinate)    ``(time,)``                     observation times, strictly increasing,
                                                         any (irregular) grid; attr ``units``
``observations``         ``(replica, time, weight)``     the measured trajectories: weights of a
                         or ``(replica, time,            neuron (``weight``) or the coordinates of
                         component)``                    any system / read-outs (``component``);
                                                         attr ``units`` (optional)
``inputs``               ``(pattern, weight)``           neuron models: the training patterns
``labels``               ``(pattern,)``                  neuron models: the labels, $\pm1$
``probes``               ``(component, weight)``         ``neuron-readout``: probe inputs whose
                                                         activations are the read-outs
``readout_noise``        scalar (optional)               ``neuron-readout``: known read-out noise sd
``temperature``          scalar or root attr (optional)  a known bath temperature $T$ (energy units,
                                                         $k_B = 1$); absent or ``"inferred"``: only
                                                         $D = \mu T$ is identifiable (docs/theory/units.md)
======================  ==============================  ============================================

All replicas share one time grid. A ``(time, weight|component)`` array is read as one replica.

**CSV trajectories** (``read_trajectories_csv``): a header line, a ``time`` column, one column
per component (its name becomes the ``component`` coordinate) and an optional ``replica`` column
(any labels; rows of a replica in time order, every replica on the same times). Lines starting
with ``#`` are comments. CSV carries trajectories only: neuron models need the netCDF form (they
need ``inputs`` and ``labels``).

:func:`validate_observations` checks everything **before any sampling** — NaN/inf, a time grid
that is not strictly increasing, too few points, wrong dims or shapes, labels that are not
$\pm1$, missing inputs for a neuron model — and answers with one
:class:`~thermoinfer.errors.InputError` whose message names the variable, the place and the fix
(the CLI prints it as one line and exits with status 2).

Writers (:func:`make_observations`, :func:`write_observations`, :func:`simulate_linear_ou`
(exact samples of a linear OU process), :func:`simulate_langevin` (Euler–Maruyama paths of
$d\boldsymbol x = \boldsymbol F(\boldsymbol x)\,dt + \sqrt{2D}\,d\boldsymbol W$ for any force, on a
fine internal step, recorded on the given grid), :func:`simulate_neuron`) make example data in
the same schema.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, check_choice, check_int, check_numeric, check_positive, check_seed
from .io import CSV_SUFFIXES, NETCDF_SUFFIXES, atomic_write, check_output_path, write_netcdf
from .schema import check_units

__all__ = [
    "MIN_TIME_POINTS",
    "MODEL_REQUIREMENTS",
    "read_observations",
    "read_trajectories_csv",
    "validate_observations",
    "make_observations",
    "write_observations",
    "write_trajectories_csv",
    "simulate_linear_ou",
    "simulate_langevin",
    "simulate_neuron",
]

#: fewest observation times of a trajectory (two transitions)
MIN_TIME_POINTS = 3

#: what each built-in model needs: the trajectory dim and the extra variables
MODEL_REQUIREMENTS: dict[str, dict] = {
    "neuron": {"dim": "weight", "variables": ("inputs", "labels")},
    "neuron-readout": {"dim": "component", "variables": ("inputs", "labels", "probes")},
    "linear-ou": {"dim": "component", "variables": ()},
}

_TRAJECTORY_DIMS = ("weight", "component")
_CSV_SUFFIXES = CSV_SUFFIXES
_NC_SUFFIXES = NETCDF_SUFFIXES

#: largest accepted magnitude of observed values and times: beyond it the squared increments,
#: variances and drift products a model evaluates overflow float64 (|x|^2 ~ 1e200 summed over
#: many points still fits; 1e300 does not), and below its inverse (for nonzero data) they
#: underflow. Rescale such data into other units.
MAX_MAGNITUDE = 1e100


# ---------------------------------------------------------------------------------------------
# requirements


def _requirements(model) -> tuple[str | None, tuple[str, ...], str]:
    """``(trajectory dim or None, required variables, model label)`` of a model name/module."""
    if model is None:
        return None, (), "the model"
    if isinstance(model, str):
        name = model
        module = None
    else:
        module = model
        name = str(getattr(module, "NAME", "the model"))
    req = MODEL_REQUIREMENTS.get(name)
    dim = getattr(module, "OBSERVATION_DIM", None) if module is not None else None
    variables = getattr(module, "REQUIRED_VARIABLES", None) if module is not None else None
    if req is not None:
        dim = dim or req["dim"]
        variables = req["variables"] if variables is None else variables
    return dim, tuple(variables or ()), f"model {name!r}"


# ---------------------------------------------------------------------------------------------
# validation


def _first_bad(values: np.ndarray) -> tuple[int, tuple[int, ...]]:
    bad = ~np.isfinite(values)
    return int(bad.sum()), tuple(int(i) for i in np.argwhere(bad)[0])


def _numeric(name: str, da: xr.DataArray, source: str) -> np.ndarray:
    try:
        values = np.asarray(da.values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{source}: variable {name!r} must be numeric, got dtype {da.dtype}.") from None
    return values


def _check_finite(name: str, da: xr.DataArray, values: np.ndarray, source: str, fix: str) -> None:
    if np.all(np.isfinite(values)):
        return
    n_bad, idx = _first_bad(values)
    where = []
    for dim, i in zip(da.dims, idx, strict=True):
        label = da[dim].values[i] if dim in da.coords else i
        if isinstance(label, np.generic):
            label = label.item()
        where.append(f"{dim} {label!r}" + (f" (index {i})" if dim == "time" else ""))
    raise InputError(
        f"{source}: {name} contains {n_bad} NaN/inf value(s), the first at "
        f"{', '.join(where) or 'the scalar'}; {fix}"
    )


def _check_time(ds: xr.Dataset, source: str) -> np.ndarray:
    if "time" not in ds.coords and "time" not in ds.variables:
        raise InputError(f"{source}: no 'time' coordinate; give the observation times as the "
                         "coordinate 'time' (dims (time,), attr 'units').")
    t = ds["time"]
    if t.ndim != 1 or t.dims != ("time",):
        raise InputError(f"{source}: 'time' must be one-dimensional along dim 'time', got dims "
                         f"{t.dims}.")
    if t.dtype.kind in "Mm":
        raise InputError(f"{source}: 'time' is a date/time axis ({t.dtype}); convert it first "
                         "with thermoinfer.data.observations.elapsed_seconds(ds) (seconds since "
                         "the first frame).")
    try:
        times = np.asarray(t.values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{source}: 'time' must be numeric (times in units of attr 'units'), "
                         f"got dtype {t.dtype}.") from None
    if times.shape[0] < MIN_TIME_POINTS:
        raise InputError(f"{source}: too few points: {times.shape[0]} observation time(s), at "
                         f"least {MIN_TIME_POINTS} are needed ({MIN_TIME_POINTS - 1} transitions).")
    if not np.all(np.isfinite(times)):
        i = int(np.argmin(np.isfinite(times)))
        raise InputError(f"{source}: 'time' contains NaN or inf (first at index {i}); every "
                         "observation needs a finite time.")
    steps = np.diff(times)
    if not np.all(steps > 0):
        i = int(np.argmax(steps <= 0))
        what = "repeated" if steps[i] == 0 else "decreasing"
        raise InputError(f"{source}: time must be strictly increasing, but it is {what} at index "
                         f"{i + 1}: time[{i}] = {float(times[i])!r}, time[{i + 1}] = {float(times[i + 1])!r}. "
                         "Sort the rows by time and drop duplicate times.")
    return times


def elapsed_seconds(ds: xr.Dataset) -> xr.Dataset:
    """Replace a CF date/time ``time`` axis (decoded by xarray as ``datetime64``, e.g. from
    ``units = "seconds since 2020-01-01"``, or ``timedelta64``) by the seconds elapsed since the
    first frame, float64 with ``units = "s"`` and the first frame's date as attr
    ``time_origin``. Other datasets are returned unchanged."""
    if "time" not in ds.variables or ds["time"].dtype.kind not in "Mm":
        return ds
    t = ds["time"]
    vals = t.values
    if vals.size == 0:
        return ds
    if t.dtype.kind == "M":
        if np.isnat(vals).any():
            raise InputError("observations: 'time' has missing dates (NaT); every frame needs a "
                             "time.")
        sec = (vals - vals[0]) / np.timedelta64(1, "ns") * 1e-9
        attrs = {"units": "s", "long_name": "time since the first frame",
                 "time_origin": str(np.datetime_as_string(vals[0], unit="auto"))}
    else:
        sec = vals / np.timedelta64(1, "ns") * 1e-9
        attrs = {"units": "s", "long_name": "observation time"}
    return ds.assign_coords(time=("time", np.asarray(sec, dtype=float), attrs))


def _check_magnitude(name: str, values: np.ndarray, source: str, fix: str) -> None:
    """Refuse finite values whose scale makes the model's arithmetic overflow or underflow."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return
    big = float(finite.max())
    nonzero = finite[finite > 0]
    if big > MAX_MAGNITUDE:
        raise InputError(f"{source}: {name} reaches {big:.3g} in magnitude; above "
                         f"{MAX_MAGNITUDE:.0e} the squared increments and variances of the "
                         f"model overflow float64 (so no initial parameters can be found). {fix}")
    if nonzero.size and float(nonzero.max()) < 1.0 / MAX_MAGNITUDE:
        raise InputError(f"{source}: {name} are all below {1.0 / MAX_MAGNITUDE:.0e} in "
                         f"magnitude ({float(nonzero.max()):.3g} at most); their squares "
                         f"underflow float64. {fix}")


def validate_observations(ds, model=None, *, source: str = "observations") -> xr.Dataset:
    """Validate an observation dataset for ``model`` and return it normalised.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataTree
        The observations in the schema of this module (a DataTree is read from its root).
    model : str or module, optional
        Registry name (``"neuron"``, ``"neuron-readout"``, ``"linear-ou"``) or model module; sets
        the required trajectory dim and variables (a module may declare ``OBSERVATION_DIM`` and
        ``REQUIRED_VARIABLES``). ``None``: generic checks only.
    source : str
        How to name the data in error messages (e.g. the file name).

    Returns
    -------
    xarray.Dataset
        ``observations`` as float64 with dims ``(replica, time, weight|component)`` (a replica dim
        of length 1 added where missing), the other variables unchanged.

    Raises
    ------
    InputError
        One message naming the first problem found: missing or misshaped variables, NaN/inf,
        non-increasing or too few times, labels not $\\pm1$, a non-positive temperature or
        read-out noise.

    Examples
    --------
    >>> import numpy as np
    >>> ds = make_observations(np.zeros((2, 5, 3)), np.linspace(0.0, 1.0, 5))
    >>> validate_observations(ds, "linear-ou")["observations"].dims
    ('replica', 'time', 'component')
    >>> bad = make_observations(np.zeros((5, 3)), [0.0, 0.1, 0.1, 0.2, 0.3])
    Traceback (most recent call last):
    ...
    thermoinfer.errors.InputError: make_observations: time must be strictly increasing, but it is repeated at index 2: time[1] = 0.1, time[2] = 0.1. Sort the rows by time and drop duplicate times.
    """
    if isinstance(ds, xr.DataTree):
        ds = ds.to_dataset(inherit=True)
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"{source} must be an xarray.Dataset (or a file path), got "
                         f"{type(ds).__name__}.")
    want_dim, required, label = _requirements(model)
    ds = elapsed_seconds(ds)
    if "observations" not in ds.data_vars:
        raise InputError(f"{source}: no variable 'observations'; the trajectories must be the "
                         "variable 'observations' with dims (replica, time, weight|component).")
    obs = ds["observations"]
    traj = [d for d in obs.dims if d in _TRAJECTORY_DIMS]
    unknown = [d for d in obs.dims if d not in ("replica", "time", *_TRAJECTORY_DIMS)]
    if unknown or "time" not in obs.dims or len(traj) != 1 or obs.ndim not in (2, 3) or (
            obs.ndim == 3 and "replica" not in obs.dims):
        raise InputError(f"{source}: observations must have dims (replica, time, weight) or "
                         f"(replica, time, component), got {obs.dims}.")
    dim = traj[0]
    if want_dim is not None and dim != want_dim:
        raise InputError(f"{source}: {label} needs observations with dims (replica, time, "
                         f"{want_dim}), got {obs.dims}; rename the dimension "
                         f"(ds.rename({{'{dim}': '{want_dim}'}})) if that is what it holds.")
    times = _check_time(ds, source)
    if "replica" not in obs.dims:
        obs = obs.expand_dims("replica")
    obs = obs.transpose("replica", "time", dim)
    values = _numeric("observations", obs, source)
    if values.shape[2] < 1 or values.shape[0] < 1:
        raise InputError(f"{source}: observations are empty (shape {values.shape}).")
    _check_finite("observations", obs, values, source,
                  "remove those points or replicas (all replicas share one time grid) before "
                  "fitting.")
    _check_magnitude("the observed values", values, source,
                     "Rescale the data (express them in other units, e.g. divide by 1e100, and "
                     "give those units).")
    _check_magnitude("the observation times", times, source,
                     "Express the times in other units (e.g. --time-units ms for times in ms).")
    out = ds.copy()
    out["observations"] = obs.copy(data=values)
    out = out.assign_coords(time=("time", times, dict(ds["time"].attrs)))
    missing = [v for v in required if v not in ds.data_vars]
    if missing:
        need = {"inputs": "inputs (pattern, weight)", "labels": "labels (pattern)",
                "probes": "probes (component, weight)"}
        raise InputError(f"{source}: {label} needs the variable(s) "
                         f"{', '.join(need.get(v, v) for v in missing)}, missing from the data. "
                         "CSV files carry trajectories only: write a netCDF file with "
                         "thermoinfer.data.observations.make_observations(..., inputs=, labels=).")
    n_weights = values.shape[2] if dim == "weight" else None
    if "inputs" in ds.data_vars:
        n_weights = _check_inputs(ds, n_weights, source)
    if "labels" in ds.data_vars:
        _check_labels(ds, source)
    if "probes" in ds.data_vars:
        _check_probes(ds, values.shape[2] if dim == "component" else None, n_weights, source)
    if "readout_noise" in ds.data_vars:
        _check_positive_scalar(ds["readout_noise"], "readout_noise", source,
                               "the standard deviation of the read-out noise (read-out units)")
    _check_temperature(ds, source)
    return out


def _check_inputs(ds, n_weights, source):
    x = ds["inputs"]
    if x.dims != ("pattern", "weight"):
        if set(x.dims) == {"pattern", "weight"}:
            x = x.transpose("pattern", "weight")
        else:
            raise InputError(f"{source}: inputs must have dims (pattern, weight), got {x.dims}.")
    v = _numeric("inputs", x, source)
    if n_weights is not None and v.shape[1] != n_weights:
        raise InputError(f"{source}: inputs have {v.shape[1]} weights but observations have "
                         f"{n_weights}; the weight dims must match.")
    if v.shape[0] < 1:
        raise InputError(f"{source}: inputs have no patterns.")
    _check_finite("inputs", x, v, source, "patterns must be finite.")
    return v.shape[1]


def _check_labels(ds, source):
    y = ds["labels"]
    if y.dims != ("pattern",):
        raise InputError(f"{source}: labels must have dims (pattern,), got {y.dims}.")
    v = _numeric("labels", y, source)
    if "inputs" in ds.data_vars and v.shape[0] != ds["inputs"].sizes.get("pattern", -1):
        raise InputError(f"{source}: {v.shape[0]} labels for {ds['inputs'].sizes['pattern']} "
                         "patterns; give one label per pattern.")
    bad = ~np.isin(v, (-1.0, 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{source}: labels must be +1 or -1, got {float(v[i])!r} for pattern {i}.")


def _check_probes(ds, n_components, n_weights, source):
    p = ds["probes"]
    if set(p.dims) != {"component", "weight"}:
        raise InputError(f"{source}: probes must have dims (component, weight), got {p.dims}.")
    p = p.transpose("component", "weight")
    v = _numeric("probes", p, source)
    if n_components is not None and v.shape[0] != n_components:
        raise InputError(f"{source}: {v.shape[0]} probes for {n_components} read-out components; "
                         "give one probe per observed component.")
    if n_weights is not None and v.shape[1] != n_weights:
        raise InputError(f"{source}: probes have {v.shape[1]} weights but inputs have {n_weights}.")
    _check_finite("probes", p, v, source, "probe inputs must be finite.")


def _check_positive_scalar(da, name, source, what):
    if da.ndim != 0:
        raise InputError(f"{source}: {name} must be a scalar ({what}), got dims {da.dims}.")
    try:
        v = float(da.values)
    except (TypeError, ValueError):
        raise InputError(f"{source}: {name} must be a number > 0 ({what}), got {da.values!r}.") from None
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{source}: {name} must be a finite number > 0 ({what}), got {v!r}.")


def _check_temperature(ds, source):
    if "temperature" in ds.data_vars:
        _check_positive_scalar(ds["temperature"], "temperature", source,
                               "the known bath temperature, energy units, k_B = 1")
    elif "temperature" in ds.attrs:
        v = ds.attrs["temperature"]
        if isinstance(v, str):
            if v != "inferred":
                try:
                    v = float(v)
                except ValueError:
                    raise InputError(f"{source}: attribute temperature must be a number > 0 or "
                                     f"'inferred', got {v!r}.") from None
            else:
                return
        _check_positive_scalar(xr.DataArray(v), "temperature", source,
                               "the known bath temperature, energy units, k_B = 1")


# ---------------------------------------------------------------------------------------------
# readers


_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)",
                     re.IGNORECASE)
_BOOLEAN = {"true", "false", "t", "f", "yes", "no"}


def _csv_rows(path: Path, sep: str, source: str):
    """``(header, data rows, line numbers)`` of a CSV file; ``#`` lines and blank lines skipped."""
    import csv

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: cannot parse as CSV: not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start}).") from None
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{source}: the file is empty; expected a header line with a 'time' "
                         "column and one column per component.")
    try:
        parsed = list(csv.reader([line for _, line in lines], delimiter=sep,
                                 skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise InputError(f"{source}: cannot parse as CSV: {exc}") from None
    return parsed[0], parsed[1:], [n for n, _ in lines[1:]]


def _cell(text: str, col: str, r: int, line: int, source: str) -> float:
    """One numeric cell: a decimal number, inf or nan (an empty cell is NaN, reported later
    with its place); booleans and anything else are refused."""
    t = text.strip()
    if not t:
        return math.nan
    if t.lower() in _BOOLEAN:
        raise InputError(f"{source}: column {col!r}, data row {r + 1}: {t!r} is a boolean, not "
                         f"a number (line {line}); give numeric values (e.g. 0 and 1) if that "
                         "is what it measures.")
    if not _NUMBER.fullmatch(t):
        raise InputError(f"{source}: column {col!r}, data row {r + 1}: {t!r} is not a number "
                         f"(line {line}).")
    return float(t)


def read_trajectories_csv(path, *, time_units: str = "time_unit", units: str | None = None,
                          dim: str = "component") -> xr.Dataset:
    """Read trajectories from a CSV file into an observation dataset (not yet validated).

    The file has a header line, a ``time`` column, one numeric column per component and an
    optional ``replica`` column; lines starting with ``#`` are comments. Time steps may be
    irregular; every replica must be observed at the same times.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (comma separated; ``.tsv``: tab separated).
    time_units : str
        Units of the ``time`` column (stored as the coordinate's ``units`` attr).
    units : str, optional
        Units of the trajectory values.
    dim : {"component", "weight"}
        Name of the trajectory dim.

    Returns
    -------
    xarray.Dataset
        ``observations (replica, time, component)`` with the column names as ``component``
        labels and the replica labels as ``replica`` coordinate.
    """
    path = Path(path)
    source = str(path)
    time_units = check_units("time_units", time_units)
    if units is not None:
        units = check_units("units", units)
    if not path.is_file():
        raise InputError(f"no such file: {source!r}.")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    header, rows_text, line_numbers = _csv_rows(path, sep, source)
    names = [c.strip() for c in header]
    if any(not n for n in names):
        i = names.index("")
        raise InputError(f"{source}: column {i + 1} of the header has no name; every column needs "
                         "one (a 'time' column and one column per component).")
    seen = {}
    for i, n in enumerate(names):
        if n in seen:
            raise InputError(f"{source}: duplicate column name {n!r} (columns {seen[n] + 1} and "
                             f"{i + 1}); every column needs its own name.")
        seen[n] = i
    if "time" not in names:
        raise InputError(f"{source}: no 'time' column; the header must name a 'time' column and "
                         f"one column per component, got columns {names}.")
    components = [c for c in names if c not in ("time", "replica")]
    if not components:
        raise InputError(f"{source}: no trajectory columns; besides 'time' (and 'replica') give "
                         "one numeric column per component.")
    if not rows_text:
        raise InputError(f"{source}: too few points: the file has a header but no data rows.")
    for r, (row, line) in enumerate(zip(rows_text, line_numbers, strict=True)):
        if len(row) != len(names):
            extra = "more" if len(row) > len(names) else "fewer"
            raise InputError(f"{source}: line {line} (data row {r + 1}) has {len(row)} fields, "
                             f"{extra} than the {len(names)} columns of the header {names}; "
                             "every row needs exactly one value per column (a trailing "
                             "separator adds an empty field).")
    numeric = {}
    for col in ["time", *components]:
        j = names.index(col)
        numeric[col] = np.array([_cell(row[j], col, r, line, source)
                                 for r, (row, line) in enumerate(zip(rows_text, line_numbers,
                                                                      strict=True))])
    if "replica" in names:
        j = names.index("replica")
        labels = [row[j].strip() for row in rows_text]
        if any(not lab for lab in labels):
            i = labels.index("")
            raise InputError(f"{source}: column 'replica', data row {i + 1} is empty; give every "
                             "row its replica label.")
        keys = list(dict.fromkeys(labels))
        lab = np.asarray(labels)
        rows = [np.flatnonzero(lab == key) for key in keys]
        try:  # integer labels stay integers
            keys = [int(k) for k in keys]
        except ValueError:
            pass
    else:
        keys = [0]
        rows = [np.arange(len(rows_text))]
    times = numeric["time"][rows[0]]
    for key, r in zip(keys, rows, strict=True):
        t = numeric["time"][r]
        if t.shape != times.shape or not np.array_equal(t, times, equal_nan=True):
            rows_note = (f" ({t.shape[0]} vs {times.shape[0]} rows)" if t.shape != times.shape
                         else "")
            raise InputError(
                f"{source}: replica {key!r} is observed at other times than replica "
                f"{keys[0]!r}{rows_note}; all replicas must share one time grid (irregular steps "
                "are allowed)."
            )
    values = np.stack([np.stack([numeric[c][r] for c in components], axis=-1) for r in rows])
    replica = np.asarray(keys)
    if replica.dtype.kind not in "iu":
        replica = np.asarray([str(k) for k in keys])
    elif replica.min() >= -(2**31) and replica.max() < 2**31:
        replica = replica.astype(np.int32)  # CF 1.8 has no 64-bit integers
    obs_attrs = {"long_name": "observed trajectories"}
    if units is not None:
        obs_attrs["units"] = units
    return xr.Dataset(
        {"observations": (("replica", "time", dim), values, obs_attrs)},
        coords={"replica": replica,
                "time": ("time", times, {"units": time_units, "long_name": "observation time"}),
                dim: np.asarray(components)},
        attrs={"source": os.fspath(path.name)},
    )


def read_observations(path, model=None, *, time_units: str = "time_unit",
                      units: str | None = None) -> xr.Dataset:
    """Read and validate observations from a netCDF (``.nc``) or CSV (``.csv``, ``.tsv``) file.

    Parameters
    ----------
    path : str or os.PathLike
        The data file; the suffix selects the reader.
    model : str or module, optional
        The model the data are for (see :func:`validate_observations`). For CSV files read for a
        ``weight`` model the trajectory dim is named ``weight``.
    time_units, units : str
        CSV only: units of the time column and of the values (netCDF files carry their own).

    Returns
    -------
    xarray.Dataset
        The validated, normalised observation dataset.
    """
    time_units = check_units("time_units", time_units)
    if units is not None:
        units = check_units("units", units)
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path must be a file path, got {type(path).__name__}.")
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError(f"no such file: {source!r}.")
    suffix = path.suffix.lower()
    want_dim, _, _ = _requirements(model)
    if suffix in _CSV_SUFFIXES:
        ds = read_trajectories_csv(path, time_units=time_units, units=units,
                                   dim=want_dim or "component")
    elif suffix in _NC_SUFFIXES:
        try:
            with xr.open_dataset(path, engine="netcdf4") as f:
                ds = f.load()
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {source!r} as netCDF4: {exc}") from None
        if "observations" not in ds.data_vars:
            # observations may sit in a group of a DataTree file
            try:
                with xr.open_datatree(path, engine="netcdf4") as tree:
                    for node in tree.subtree:
                        if "observations" in node.data_vars:
                            ds = node.to_dataset(inherit=True).load()
                            break
            except (OSError, ValueError):
                pass
    else:
        raise InputError(f"{source}: unknown file type {suffix!r}; use netCDF ('.nc') or CSV "
                         "('.csv', '.tsv').")
    return validate_observations(ds, model, source=source)


# ---------------------------------------------------------------------------------------------
# writers and example data


def make_observations(observations, times, *, dim: str = "component", components=None,
                      inputs=None, labels=None, probes=None, readout_noise=None, temperature=None,
                      time_units: str = "time_unit", units: str | None = None,
                      attrs: dict | None = None) -> xr.Dataset:
    """Build an observation dataset from arrays (the schema of this module), validated.

    Parameters
    ----------
    observations : array_like, shape ``(replica, time, d)`` or ``(time, d)``
        Trajectories.
    times : array_like, shape ``(time,)``
        Observation times.
    dim : {"component", "weight"}
        Trajectory dim (``"weight"`` for the ``neuron`` model).
    components : sequence, optional
        Labels of the trajectory dim.
    inputs, labels, probes, readout_noise, temperature : optional
        Neuron training data ``(pattern, weight)``, ``(pattern,)``; read-out probes
        ``(component, weight)`` and noise sd; a known temperature (stored as a scalar variable).
    time_units, units : str
        Units of time and of the values.
    attrs : dict, optional
        Extra root attributes.

    Examples
    --------
    >>> import numpy as np
    >>> ds = make_observations(np.zeros((4, 2)), [0.0, 0.1, 0.3, 0.4], components=["x", "y"])
    >>> dict(ds.sizes)
    {'replica': 1, 'time': 4, 'component': 2}
    """
    check_choice("dim", dim, _TRAJECTORY_DIMS)
    time_units = check_units("time_units", time_units)
    if units is not None:
        units = check_units("units", units)
    check_numeric("observations", observations)
    check_numeric("times", times)
    values = np.asarray(observations, dtype=float)
    if values.ndim == 2:
        values = values[None]
    if values.ndim != 3:
        raise InputError(f"observations must have shape (replica, time, d) or (time, d), got "
                         f"{values.shape}.")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.shape[0] != values.shape[1]:
        raise InputError(f"times must have shape ({values.shape[1]},) to match the observations, "
                         f"got {times.shape}.")
    obs_attrs = {"long_name": "observed trajectories"}
    if units is not None:
        obs_attrs["units"] = units
    coords = {"replica": np.arange(values.shape[0], dtype=np.int32),
              "time": ("time", times, {"units": time_units, "long_name": "observation time"})}
    if components is not None:
        coords[dim] = np.asarray(components)
    data = {"observations": (("replica", "time", dim), values, obs_attrs)}
    if inputs is not None:
        data["inputs"] = (("pattern", "weight"), np.asarray(inputs, dtype=float),
                          {"units": "1", "long_name": "training patterns xi"})
    if labels is not None:
        data["labels"] = (("pattern",), np.asarray(labels, dtype=float),
                          {"units": "1", "long_name": "true labels sigma_T = +-1"})
    if probes is not None:
        data["probes"] = (("component", "weight"), np.asarray(probes, dtype=float),
                          {"units": "1", "long_name": "probe inputs of the read-outs"})
    if readout_noise is not None:
        data["readout_noise"] = ((), check_positive("readout_noise", readout_noise),
                                 {"units": units or "1", "long_name": "read-out noise sd"})
    if temperature is not None:
        data["temperature"] = ((), check_positive("temperature", temperature,
                                                  "The known bath temperature, energy units."),
                               {"units": "k_B T_unit", "long_name": "known bath temperature T"})
    ds = xr.Dataset(data, coords=coords, attrs=dict(attrs or {}))
    return validate_observations(ds, source="make_observations")


def write_trajectories_csv(ds: xr.Dataset, path) -> Path:
    """Write the trajectories of an observation dataset as CSV (``replica``, ``time``, components).

    Only ``observations`` and ``time`` are written (CSV carries no inputs, labels or units).
    """
    ds = validate_observations(ds, source="write_trajectories_csv")
    obs = ds["observations"]
    dim = obs.dims[2]
    names = [str(c) for c in (obs[dim].values if dim in obs.coords else range(obs.shape[2]))]
    if any(n in ("time", "replica") for n in names):
        raise InputError(f"component labels {names} clash with the columns 'time'/'replica'.")
    replicas = obs["replica"].values if "replica" in obs.coords else range(obs.shape[0])
    times = ds["time"].values
    path = check_output_path(path, suffixes=CSV_SUFFIXES, option="path", what="CSV")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    bad = [n for n in [*names, *(str(r) for r in replicas)] if sep in n or '"' in n or "\n" in n]
    if bad:
        raise InputError(f"labels {bad} contain the separator {sep!r}, a quote or a newline; "
                         "rename them before writing CSV.")
    lines = [sep.join(["replica", "time", *names])]
    for r, label in enumerate(replicas):
        for i, t in enumerate(times):
            row = [str(label.item() if isinstance(label, np.generic) else label), repr(float(t))]
            row += [repr(float(v)) for v in obs.values[r, i]]
            lines.append(sep.join(row))
    text = "\n".join(lines) + "\n"

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    return atomic_write(path, write, option="path", suffixes=CSV_SUFFIXES, what="CSV")


def write_observations(ds: xr.Dataset, path) -> Path:
    """Write an observation dataset: netCDF (atomic, netcdf4 engine) for a name ending in
    ``.nc`` (``.nc4``, ``.netcdf``, ``.cdf``, ``.h5``), CSV for ``.csv``/``.txt`` (``.tsv``: tab
    separated); any other ending is refused (never netCDF under a CSV name or the reverse)."""
    path = Path(path) if isinstance(path, (str, os.PathLike)) else path
    suffix = path.suffix.lower() if isinstance(path, Path) else ""
    if suffix in _CSV_SUFFIXES:
        return write_trajectories_csv(ds, path)
    check_output_path(path, suffixes=_NC_SUFFIXES + _CSV_SUFFIXES, option="path",
                      what="netCDF or CSV")
    ds = validate_observations(ds, source="write_observations")
    return write_netcdf(xr.DataTree(ds), path)


def simulate_linear_ou(drift, diffusion, times, *, n_replicas: int = 1, seed: int = 0,
                       initial=None, components=None, time_units: str = "time_unit",
                       units: str = "length_unit") -> xr.Dataset:
    r"""Example data: exact samples of $d\boldsymbol x = A\boldsymbol x\,dt + \sqrt{2D}\,d\boldsymbol W$ at ``times``.

    Transitions use the exact Gaussian kernel of
    :func:`thermoinfer.paths.affine_transition` (any grid); the first point is drawn from the
    steady state $\mathcal N(0, C)$ unless ``initial`` is given.

    Parameters
    ----------
    drift : array_like, shape ``(d, d)``
        Stable drift matrix $A$ (1/time).
    diffusion : float or array_like
        $D$: a number (isotropic) or a ``(d, d)`` positive-definite matrix (length²/time).
    times : array_like, shape ``(K+1,)``
        Observation times (strictly increasing, irregular allowed).
    n_replicas : int
        Number of independent trajectories.
    seed : int
        NumPy seed.
    initial : array_like, shape ``(d,)`` or ``(replica, d)``, optional
        Starting points (default: the steady state).

    Returns
    -------
    xarray.Dataset
        An observation dataset (dims ``replica, time, component``).

    Examples
    --------
    >>> ds = simulate_linear_ou([[-1.0, -0.5], [0.5, -1.0]], 1.0, [0.0, 0.1, 0.2, 0.4], n_replicas=2)
    >>> ds["observations"].shape
    (2, 4, 2)
    """
    import jax

    from ..paths import affine_transition
    from ..thermo.linear_system import steady_covariance

    seed = check_seed("seed", seed)
    n_replicas = check_int("n_replicas", n_replicas, minimum=1)
    check_numeric("drift", drift)
    check_numeric("diffusion", diffusion)
    check_numeric("times", times)
    A = np.asarray(drift, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise InputError(f"drift must be a square (d, d) matrix, got shape {A.shape}.")
    d = A.shape[0]
    D = np.asarray(diffusion, dtype=float)
    D = D * np.eye(d) if D.ndim == 0 else D
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.shape[0] < 2 or not np.all(np.diff(times) > 0):
        raise InputError("times must be a strictly increasing 1-d array of at least 2 times.")
    from .._jobsize import check_job

    check_job(what="simulate_linear_ou", steps=float(times.shape[0]), replicas=n_replicas,
              n_weights=d, memory=8.0 * 3 * n_replicas * times.shape[0] * d, max_steps=None,
              steps_text="observation times")
    rng = np.random.default_rng(seed)
    with jax.enable_x64(True):
        if initial is None:
            C = np.asarray(steady_covariance(A, D))
            x = rng.multivariate_normal(np.zeros(d), C, size=n_replicas)
        else:
            x = np.broadcast_to(np.asarray(initial, dtype=float), (n_replicas, d)).copy()
        steps = np.diff(times)
        uniq, inverse = np.unique(np.round(steps, 14), return_inverse=True)
        kernels = [affine_transition(A, np.zeros(d), D, float(h)) for h in uniq]
    # one Cholesky factor per distinct step, the noise in one draw (the same stream as one
    # (replica, d) draw per step), then the recursion
    phis = [np.asarray(k[0]) for k in kernels]
    chols = [np.linalg.cholesky(np.asarray(k[2])) for k in kernels]
    K = steps.shape[0]
    noise = rng.standard_normal((K, n_replicas, d))
    values = np.empty((K + 1, n_replicas, d))
    values[0] = x
    for g in range(len(kernels)):
        sel = inverse == g
        noise[sel] = noise[sel] @ chols[g].T
    phis_t = [P.T for P in phis]
    for i in range(K):
        x = x @ phis_t[inverse[i]] + noise[i]
        values[i + 1] = x
    values = values.swapaxes(0, 1)
    comps = components if components is not None else [f"x{i}" for i in range(d)]
    return make_observations(values, times, components=comps, time_units=time_units, units=units,
                             attrs={"source": "thermoinfer.data.observations.simulate_linear_ou",
                                    "seed": int(seed)})


def simulate_langevin(force, diffusion, times, *, n_replicas: int = 1, seed: int = 0,
                      substeps: int = 10, initial=None, burn_in: float = 0.0, components=None,
                      time_units: str = "time_unit", units: str = "length_unit") -> xr.Dataset:
    r"""Example data: Euler–Maruyama paths of $d\boldsymbol x = \boldsymbol F(\boldsymbol x)\,dt + \sqrt{2D}\,d\boldsymbol W$, any force.

    Every observation interval $[t_i, t_{i+1}]$ is integrated with ``substeps`` equal Itô
    Euler–Maruyama steps $h = (t_{i+1} - t_i)/\text{substeps}$,
    $\boldsymbol x\leftarrow\boldsymbol x + h\boldsymbol F(\boldsymbol x) + \sqrt{2h}\,L\boldsymbol\xi$
    ($LL^\top = D$, $\boldsymbol\xi$ standard normal), and only the points at ``times`` are kept:
    data recorded at a coarse step from a fine simulation. The integration error is that of EM
    at the substep (weak order one): make ``substeps`` large enough that $k h\ll 1$ for the
    fastest relaxation rate $k$ of the force.

    Parameters
    ----------
    force : callable
        $\boldsymbol F$: a JAX-traceable function mapping one point ``(d,)`` to ``(d,)``
        (length/time); it is ``vmap``-ed over the replicas.
    diffusion : float or array_like
        $D$: a number (isotropic; then ``initial`` must give $d$) or a ``(d, d)``
        positive-definite matrix (length²/time).
    times : array_like, shape ``(K+1,)``
        Observation times (strictly increasing, irregular allowed).
    n_replicas : int
        Number of independent trajectories.
    seed : int
        Seed of the JAX key ``jax.random.key(seed)``; the burn-in and the recorded path use the
        two halves of ``jax.random.split`` of it, each block ``j`` of 256 intervals (burn-in:
        steps) the key ``fold_in(., j)``.
    substeps : int
        EM steps per observation interval.
    initial : array_like, shape ``(d,)`` or ``(replica, d)``, optional
        Starting points (default: the origin). Nothing is drawn from a steady state: use
        ``burn_in`` to forget the start.
    burn_in : float
        Time simulated before ``times[0]`` and discarded (steps of the first interval's substep).
    components : sequence, optional
        Component labels (default ``x0, x1, ...``).
    time_units, units : str
        Units of time and of the coordinates.

    Returns
    -------
    xarray.Dataset
        An observation dataset (dims ``replica, time, component``), as
        :func:`simulate_linear_ou`; root attributes ``source``, ``seed``, ``substeps``,
        ``burn_in``.

    Raises
    ------
    InputError
        Bad arguments, or a path that diverged (non-finite values: the substep is too coarse for
        the force).

    Examples
    --------
    >>> ds = simulate_langevin(lambda x: -x, 0.5, [0.0, 0.1, 0.2], n_replicas=2,
    ...                        initial=[0.0, 0.0], substeps=4)
    >>> ds["observations"].shape
    (2, 3, 2)
    """
    import jax
    import jax.numpy as jnp

    if not callable(force):
        raise InputError(f"force must be a function mapping a point (d,) to a force (d,), got "
                         f"{force!r}.")
    seed = check_seed("seed", seed)
    n_replicas = check_int("n_replicas", n_replicas, minimum=1)
    substeps = check_int("substeps", substeps, "EM steps per observation interval, e.g. 10.",
                         minimum=1)
    burn = float(check_numeric("burn_in", burn_in))
    if not (math.isfinite(burn) and burn >= 0):
        raise InputError(f"burn_in must be a finite time >= 0, got {burn_in!r}.")
    check_numeric("diffusion", diffusion)
    check_numeric("times", times)
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.shape[0] < 2 or not np.all(np.isfinite(times)) or \
            not np.all(np.diff(times) > 0):
        raise InputError("times must be a strictly increasing 1-d array of at least 2 finite "
                         "times.")
    D = np.asarray(diffusion, dtype=float)
    x0 = None
    if initial is not None:
        check_numeric("initial", initial)
        x0 = np.asarray(initial, dtype=float)
        if x0.ndim not in (1, 2) or x0.shape[-1] == 0 or (x0.ndim == 2 and
                                                          x0.shape[0] not in (1, n_replicas)):
            raise InputError(f"initial must have shape (d,) or ({n_replicas}, d), got "
                             f"{x0.shape}.")
        if not np.all(np.isfinite(x0)):
            raise InputError("initial contains NaN or inf; pass finite starting points.")
    if D.ndim == 2 and D.shape[0] == D.shape[1] and D.shape[0] > 0:
        d = D.shape[0]
    elif D.ndim == 0 and x0 is not None:
        d = x0.shape[-1]
        D = D * np.eye(d)
    else:
        raise InputError(f"diffusion must be a (d, d) matrix, or a number together with initial "
                         f"points of shape (d,), got diffusion of shape {D.shape} and "
                         f"initial {None if x0 is None else x0.shape}.")
    if not np.all(np.isfinite(D)) or not np.allclose(D, D.T, rtol=1e-12, atol=0.0) or \
            np.any(np.linalg.eigvalsh(0.5 * (D + D.T)) <= 0):
        raise InputError(f"diffusion must be symmetric positive definite (D = mobility x "
                         f"temperature), got {D.tolist()!r}.")
    if x0 is not None and x0.shape[-1] != d:
        raise InputError(f"initial must have {d} components to match diffusion, got "
                         f"{x0.shape[-1]}.")
    x0 = np.zeros((n_replicas, d)) if x0 is None else np.broadcast_to(x0, (n_replicas, d)).copy()
    from .._jobsize import check_job

    h = np.diff(times) / substeps
    n_burn = int(math.ceil(burn / h[0] - 1e-9)) if burn > 0 else 0
    steps = float(substeps) * (times.shape[0] - 1) + n_burn
    check_job(what="simulate_langevin", steps=steps, replicas=n_replicas, n_weights=d,
              memory=8.0 * 3 * n_replicas * times.shape[0] * d, max_steps=None,
              steps_text="substeps x observation intervals + burn-in steps")
    with jax.enable_x64(True):
        L = jnp.asarray(np.linalg.cholesky(0.5 * (D + D.T)))
        try:
            out = jax.eval_shape(force, jax.ShapeDtypeStruct((d,), jnp.float64))
        except Exception as err:  # a user's function may fail in any way: say so in one line
            raise InputError(f"force failed on a point of shape ({d},): "
                             f"{type(err).__name__}: {err}") from err
        if getattr(out, "shape", None) != (d,):
            raise InputError(f"force must map a point of shape ({d},) to a force of shape "
                             f"({d},), got {getattr(out, 'shape', out)!r}.")
        values = _langevin_paths(force, L, jnp.asarray(x0), jnp.asarray(h), n_burn, substeps,
                                 jax.random.key(seed))
    values = np.asarray(values).swapaxes(0, 1)
    if not np.all(np.isfinite(values)):
        raise InputError("simulate_langevin: the path diverged (non-finite values); use more "
                         "substeps (a smaller EM step) or a force that confines the motion.")
    comps = components if components is not None else [f"x{i}" for i in range(d)]
    return make_observations(values, times, components=comps, time_units=time_units, units=units,
                             attrs={"source": "thermoinfer.data.observations.simulate_langevin",
                                    "seed": int(seed), "substeps": int(substeps),
                                    "burn_in": burn})


def _langevin_paths(force, L, x0, h, n_burn, substeps, key, block=256):
    """The EM recursion of :func:`simulate_langevin`: points ``(K+1, replica, d)``.

    The noise of intervals ``[j*block, (j+1)*block)`` is one draw with the key
    ``fold_in(k_path, j)`` (burn-in: steps ``[j*block, ...)`` with ``fold_in(k_burn, j)``),
    ``k_burn, k_path = split(key)``; the grid is padded with zero steps (which leave the point
    unchanged) to whole blocks.
    """
    import jax.numpy as jnp

    R, d = x0.shape
    K = h.shape[0]
    nb = -(-K // block)
    hp = jnp.concatenate([h, jnp.zeros(nb * block - K)]).reshape(nb, block)
    n_bb = -(-n_burn // block)
    hb = jnp.where(jnp.arange(n_bb * block) < n_burn, h[0], 0.0).reshape(n_bb, block)
    run = _langevin_program(force, R, d, substeps, block)
    return run(x0, hp, hb, L, key)[:K + 1]


#: compiled recursions of :func:`simulate_langevin`, by (force, replicas, d, substeps, block)
_LANGEVIN_PROGRAMS: dict = {}


def _langevin_program(force, R, d, substeps, block):
    """The compiled recursion for one force and shape (reused by calls that differ only in the
    seed, the starting points, the steps or the diffusion; the last 8 are kept)."""
    import jax
    import jax.numpy as jnp

    cache_key = (force, R, d, substeps, block)
    if cache_key in _LANGEVIN_PROGRAMS:
        return _LANGEVIN_PROGRAMS[cache_key]

    f = jax.vmap(force)

    def em(x, hs, xi, L):
        return x + hs * f(x) + jnp.sqrt(2.0 * hs) * (xi @ L.T)

    @jax.jit
    def run(x0, hp, hb, L, key):
        k_burn, k_path = jax.random.split(key)

        def burn_block(x, args):
            j, hs = args
            xi = jax.random.normal(jax.random.fold_in(k_burn, j), (block, R, d))
            x, _ = jax.lax.scan(lambda y, a: (em(y, a[0], a[1], L), None), x, (hs, xi))
            return x, None

        x, _ = jax.lax.scan(burn_block, x0, (jnp.arange(hb.shape[0]), hb))

        def path_block(x, args):
            j, hs = args
            xi = jax.random.normal(jax.random.fold_in(k_path, j), (block, substeps, R, d))

            def interval(y, a):
                hi, e = a
                y, _ = jax.lax.scan(lambda z, ek: (em(z, hi, ek, L), None), y, e)
                return y, y

            return jax.lax.scan(interval, x, (hs, xi))

        _, path = jax.lax.scan(path_block, x, (jnp.arange(hp.shape[0]), hp))
        return jnp.concatenate([x[None], path.reshape(-1, R, d)], axis=0)

    if len(_LANGEVIN_PROGRAMS) >= 8:
        _LANGEVIN_PROGRAMS.pop(next(iter(_LANGEVIN_PROGRAMS)))
    _LANGEVIN_PROGRAMS[cache_key] = run
    return run


def simulate_neuron(seed: int, n_weights: int, alpha: float, *, stiffness: float = 1.0,
                    learning_rate: float = 1.0, temperature: float = 1.0, t: float = 5.0,
                    dt: float = 0.05, n_replicas: int = 1, rule: str = "hebbian",
                    record_every: int = 1, known_temperature: bool = False) -> xr.Dataset:
    r"""Example data: a learning neuron simulated with :func:`thermoinfer.dynamics.simulate`.

    Draws $P = \mathrm{round}(\alpha N)$ patterns with random labels (shared by all replicas), runs
    batch learning from the bare equilibrium for a time ``t`` (exact OU steps for Hebbian
    learning, Euler–Maruyama otherwise) and records the weights every ``record_every`` steps.

    Parameters
    ----------
    seed : int
        PRNG seed (data and noise).
    n_weights, alpha : int, float
        $N$ and the load $\alpha$.
    stiffness, learning_rate, temperature : float
        $k$, $\nu$, $T$ (the truth, stored as root attrs ``true_*``).
    t, dt : float
        Learning window and time step.
    n_replicas : int
        Independent replicas on the same data.
    rule : str
        Learning rule.
    record_every : int
        Record the weights every this many steps.
    known_temperature : bool
        Store ``temperature`` in the dataset (a fit then treats $T$ as known).

    Returns
    -------
    xarray.Dataset
        Observation dataset with dims ``replica, time, weight`` and ``inputs``, ``labels``.
    """
    import jax

    from ..dynamics import NeuronParams, simulate
    from ..tasks import memorization_data

    seed = check_seed("seed", seed)
    key = jax.random.key(seed)
    k_data, k_sim = jax.random.split(key)
    data = memorization_data(k_data, n_weights, alpha, data_protocol="shared")
    params = NeuronParams(stiffness, learning_rate, temperature)
    res = simulate(k_sim, data, rule, params, t=t, dt=dt, record_every=record_every,
                   n_replicas=n_replicas)
    attrs = {"source": "thermoinfer.data.observations.simulate_neuron", "seed": int(seed),
             "rule": str(rule), "true_stiffness": float(stiffness),
             "true_learning_rate": float(learning_rate),
             "true_temperature": float(temperature), "simulation_method": res.method}
    return make_observations(
        np.asarray(res.paths), np.asarray(res.times), dim="weight",
        inputs=np.asarray(data.inputs), labels=np.asarray(data.labels),
        temperature=temperature if known_temperature else None, units="weight_unit",
        attrs=attrs)

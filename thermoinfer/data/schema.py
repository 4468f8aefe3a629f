"""DataTree schema: dimension names, units, convention vocabularies, provenance (docs/data.md).

Every variable carries ``units`` (CF style, dimensionless = ``"1"``) and ``long_name``.
Entropies and informations are in nats; heat and work in energy units ($k_B = 1$, the units
of $T$), with the entropy counterpart ``medium_entropy_change`` = q/T in nats beside them.
Root attributes: package version, creation time, command or call, seed, the full configuration
as a JSON string, and the conventions used, from the fixed vocabularies in :data:`CONVENTIONS`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import sys

import numpy as np

from ..errors import InputError, check_array

__all__ = ["DIMS", "GRID_DIMS", "CONVENTIONS", "REQUIRED_ROOT_ATTRS", "REDUCED_UNITS",
           "provenance", "conventions_attrs", "variable", "coordinate", "index", "units_attrs",
           "per_time", "check_units", "grid_axes", "json_default"]

#: fixed dimension names (``component_j``/``weight_j``: the second axis of a matrix site such as
#: a drift matrix; ``step``: optimisation steps of SVI)
DIMS = ("replica", "time", "weight", "component", "pattern", "chain", "draw", "point",
        "component_j", "weight_j", "step", "alpha", "nu", "k", "temperature", "t")

#: dimensions of a parameter grid (theory with comma lists, sweeps): one per swept parameter,
#: named like the CLI option (``temperature`` for ``--T``, ``t`` for the learning time ``--t``),
#: with the swept values as the coordinate, so that ``.sel(alpha=0.5, nu=1)`` works
GRID_DIMS = ("alpha", "nu", "k", "temperature", "t")

#: placeholder (reduced) units: the arbitrary unit each stands for. UDUNITS cannot parse them, so
#: a variable in such units is written with ``units = "1"`` (a number in reduced units, CF's
#: dimensionless) plus ``reduced_units`` (the placeholder string) and ``units_note`` (what the
#: placeholders mean); real units given by the user (``s``, ``um``) stay in ``units``.
REDUCED_UNITS = {
    "k_B T_unit": "the energy unit in which the temperature T is given (k_B = 1)",
    "time_unit": "the time unit of the inputs (1/k, dt, t and the time axis are in it)",
    "length_unit": "the length unit of the data",
    "weight_unit": "the unit of the weights",
    "nat": "the natural unit of information and entropy (k_B = 1; 1 nat = 1/ln 2 bit)",
}

#: allowed values of each convention attribute (``temperature`` is a number or "inferred")
CONVENTIONS: dict[str, tuple[str, ...]] = {
    "entropy_convention": ("annealed", "quenched_gaussian", "exact_mixture", "not_applicable"),
    "heat_convention": ("not_applicable", "kick_relaxation", "continuous_force"),
    "stochastic_calculus": ("stratonovich",),
    "path_weights": ("exact_ou", "euler_maruyama", "not_applicable"),
    "work": ("exclusive", "inclusive"),
    "information_unit": ("nat", "bit"),
    "data_protocol": ("per_replica", "shared", "not_applicable"),
}

REQUIRED_ROOT_ATTRS = ("thermoinfer_version", "created_at", "command", "config_json",
                       *CONVENTIONS, "temperature")


def json_default(obj):
    """JSON encoder hook for numpy scalars/arrays; non-finite floats become strings."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {obj!r}")


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def conventions_attrs(*, entropy_convention="not_applicable", heat_convention="not_applicable",
                      path_weights="not_applicable", work="exclusive", information_unit="nat",
                      data_protocol="not_applicable", temperature=1.0,
                      stochastic_calculus="stratonovich") -> dict:
    """Root attributes naming every convention, validated against :data:`CONVENTIONS`."""
    attrs = dict(entropy_convention=entropy_convention, heat_convention=heat_convention,
                 stochastic_calculus=stochastic_calculus, path_weights=path_weights, work=work,
                 information_unit=information_unit, data_protocol=data_protocol)
    for name, value in attrs.items():
        if value not in CONVENTIONS[name]:
            raise InputError(f"{name} must be one of {list(CONVENTIONS[name])}, got {value!r}.")
    if isinstance(temperature, str):
        if temperature != "inferred":
            raise InputError(f"temperature attr must be a number or 'inferred', got {temperature!r}.")
        attrs["temperature"] = temperature
    else:
        attrs["temperature"] = float(temperature)
    return attrs


def provenance(*, config: dict, seed: int | None = None, command: str | None = None) -> dict:
    """Root provenance attributes: version, creation time (UTC ISO 8601), command, seed, config.

    ``config`` is stored as a JSON string (``config_json``); non-finite numbers are written as
    the strings ``"inf"``/``"nan"``.
    """
    from .. import __version__

    attrs = {
        "thermoinfer_version": __version__,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command if command is not None else " ".join(["python", *sys.argv]),
        "config_json": json.dumps(_clean(config), sort_keys=True, default=json_default),
        "Conventions": "CF-1.8",
        "history": "",
        "references": ("S. Goldt and U. Seifert, PRL 118, 010601 (2017), "
                       "doi:10.1103/PhysRevLett.118.010601; NJP 19, 113001 (2017), "
                       "doi:10.1088/1367-2630/aa89ff"),
    }
    attrs["history"] = f"{attrs['created_at']}: {attrs['command']}"
    if seed is not None:
        attrs["seed"] = int(seed)
    return attrs


_FACTOR = re.compile(r"(?P<name>[^\s\d\-+/^*.()][^\s\-+/^*()]*?)(?P<exp>\^?-?\d+(?:/\d+)?)?")


def units_attrs(units: str) -> dict:
    """CF attributes for a units string that may contain placeholders of :data:`REDUCED_UNITS`.

    ``"k_B T_unit"`` -> ``{"units": "1", "reduced_units": "k_B T_unit", "units_note": ...}``;
    ``"nat s-1"`` (a rate with a real time unit) -> ``{"units": "s-1", "reduced_units": ..., ...}``;
    ``"1"``, ``"s"``, ``"um2 s-1"`` stay as they are. Every returned ``units`` parses with UDUNITS
    when the real factors do (``"nat"`` is never written as a CF unit: UDUNITS would read it as
    nano-atmospheres).

    Examples
    --------
    >>> units_attrs("nat time_unit-1")["units"], units_attrs("nat s-1")["units"]
    ('1', 's-1')
    >>> units_attrs("1")
    {'units': '1'}
    """
    text = str(units).strip()
    if not text:
        raise InputError("units must be a non-empty string (dimensionless: '1').")
    rest = text.replace("k_B T_unit", "k_B_T_unit")
    if not any(p.replace(" ", "_") in rest for p in REDUCED_UNITS):
        return {"units": text}
    real, used = [], []
    for token in rest.split():
        m = _FACTOR.fullmatch(token)
        name = m.group("name") if m else token
        key = "k_B T_unit" if name == "k_B_T_unit" else name
        if key in REDUCED_UNITS:
            if key not in used:
                used.append(key)
        elif token != "1":
            real.append(token)
    if not used:
        return {"units": text}
    note = "; ".join(f"{key}: {REDUCED_UNITS[key]}" for key in used)
    return {"units": " ".join(real) or "1", "reduced_units": text,
            "units_note": f"in reduced units {text!r} ({note})"}


def per_time(units: str, time_units: str = "time_unit") -> str:
    """The units of ``units`` per ``time_units`` (e.g. a rate: ``per_time("nat", "s")`` ->
    ``"nat s-1"``; ``per_time("1", "min")`` -> ``"min-1"``). Pass the result to
    :func:`units_attrs` (or :func:`variable`) for the CF attributes."""
    tu = check_units("time_units", time_units)
    inv = f"{tu}-1" if re.fullmatch(r"[A-Za-z_]+", tu) else f"({tu})-1"
    return inv if str(units).strip() == "1" else f"{units} {inv}"


_UNITS_OK = re.compile(r"[A-Za-z0-9_ .*/^()+\-%\u00b5\u00b0]+")


def check_units(name: str, value) -> str:
    """Return ``value`` stripped if it is a usable units string; else :class:`InputError`.

    Refused: non-strings, empty or blank strings, and characters UDUNITS never accepts (quotes,
    commas, semicolons, brackets, control characters). Dimensionless is ``"1"``; placeholders
    of :data:`REDUCED_UNITS` are allowed."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be a units string such as 's' or '1', got "
                         f"{type(value).__name__} {value!r:.40}.")
    text = value.strip()
    if not text:
        raise InputError(f"{name} must not be empty; give the units, e.g. 's', 'ms' or '1' "
                         "for dimensionless (default: the placeholder 'time_unit').")
    if not _UNITS_OK.fullmatch(text):
        raise InputError(f"{name} {value!r} is not a units string UDUNITS can parse; use e.g. "
                         "'s', 'ms', 'um', 'um2 s-1' or '1'.")
    return text


def grid_axes(values: dict) -> tuple[dict, dict]:
    """Split parameters into swept ones (1-D sequences or arrays: one grid dimension each, named
    like the key) and scalars; returns ``(axes, scalars)`` with the axes as float arrays.

    Refuses arrays of two or more dimensions and repeated values in a swept list (a grid
    coordinate must be unique so that ``.sel`` finds one point)."""
    axes, scalars = {}, {}
    for name, v in values.items():
        if isinstance(v, (str, bytes, bool, np.bool_)) or v is None:
            scalars[name] = v  # the checks of the callee name it
            continue
        nd = np.ndim(v) if not isinstance(v, (list, tuple)) or v else 1
        if nd == 0:
            scalars[name] = v
            continue
        if nd > 1:
            raise InputError(f"{name} must be a number or a 1-D list of numbers (one grid "
                             f"dimension per swept parameter), got shape {np.shape(v)}.")
        arr = check_array(name, v, minimum=-math.inf, strict=False, allow_inf=True,
                          what="swept values", fix="")
        if arr.size == 0:
            raise InputError(f"{name} is an empty list; give at least one value.")
        uniq, counts = np.unique(arr, return_counts=True)
        if (counts > 1).any():
            raise InputError(f"{name} lists {float(uniq[counts > 1][0])!r} more than once; every "
                             "value of a swept parameter must be distinct.")
        axes[name] = arr
    return axes, scalars



def _int32(values: np.ndarray) -> np.ndarray:
    """int64 -> int32 where the values fit (CF 1.8 has no 64-bit integers)."""
    if values.dtype.kind in "iu" and values.dtype.itemsize > 4:
        if values.size == 0 or (values.min() >= np.iinfo(np.int32).min
                                and values.max() <= np.iinfo(np.int32).max):
            return values.astype(np.int32)
    return values


def variable(dims, values, units: str, long_name: str, **attrs):
    """An ``(dims, values, attrs)`` tuple for ``xarray.Dataset`` with units and long_name.

    Placeholder units become CF attributes through :func:`units_attrs`; 64-bit integers that
    fit are stored as int32 (CF 1.8)."""
    values = _int32(np.asarray(values))
    return (dims, values, {**units_attrs(units), "long_name": long_name, **attrs})


def coordinate(dim: str, values, units: str, long_name: str, **attrs):
    """A 1-D coordinate ``(dim, values, attrs)`` with CF units, long_name and int32 integers."""
    return variable((dim,), values, units, long_name, **attrs)


def index(dim: str, n: int, long_name: str | None = None):
    """An int32 index coordinate ``0 .. n-1`` along ``dim`` (e.g. ``replica``, ``pattern``)."""
    return ((dim,), np.arange(int(n), dtype=np.int32),
            {"units": "1", "long_name": long_name or f"{dim} index"})

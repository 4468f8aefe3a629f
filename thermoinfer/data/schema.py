"""DataTree schema: dimension names, units, convention vocabularies, provenance (design.md).

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
import sys

import numpy as np

from ..errors import InputError

__all__ = ["DIMS", "CONVENTIONS", "REQUIRED_ROOT_ATTRS", "provenance", "conventions_attrs",
           "variable", "json_default"]

#: fixed dimension names (``component_j``/``weight_j``: the second axis of a matrix site such as
#: a drift matrix; ``step``: optimisation steps of SVI)
DIMS = ("replica", "time", "weight", "component", "pattern", "chain", "draw", "point",
        "component_j", "weight_j", "step")

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
        "references": ("S. Goldt and U. Seifert, PRL 118, 010601 (2017), "
                       "doi:10.1103/PhysRevLett.118.010601; NJP 19, 113001 (2017), "
                       "doi:10.1088/1367-2630/aa89ff"),
    }
    if seed is not None:
        attrs["seed"] = int(seed)
    return attrs


def variable(dims, values, units: str, long_name: str, **attrs):
    """An ``(dims, values, attrs)`` tuple for ``xarray.Dataset`` with units and long_name."""
    values = np.asarray(values)
    return (dims, values, {"units": units, "long_name": long_name, **attrs})

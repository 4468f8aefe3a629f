"""``thermoinfer ep``: entropy production of a system.

``thermoinfer ep linear --drift '[[-1, -0.5], [0.5, -1]]' --diffusion 1 --dt 0.1 [--json]``
prints the steady covariance, the steady entropy-production rate and the exact KL rate of the
sampled process of the linear OU system dx = A x dt + sqrt(2 D) dW (docs/theory/linear-ou.md).
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from ..errors import InputError
from ._common import add_output_options, check_output, print_json

__all__ = ["register", "run", "run_linear"]

_UNITS_TEXT = (
    "Units: k_B = 1; time in the units of 1/A; the drift matrix A in 1/time, the diffusion "
    "matrix D in length^2/time (D = mobility x temperature), the steady covariance in length^2; "
    "entropy-production and KL rates in nats per unit time."
)

_CONVENTIONS = {
    "stochastic_calculus": "stratonovich",
    "path_weights": "exact_ou",
    "information_unit": "nat",
    "time_reversal": "all variables even (overdamped)",
}


def register(subparsers) -> None:
    """Add the ``ep`` subcommand and its ``linear`` sub-subcommand."""
    p = subparsers.add_parser(
        "ep",
        help="entropy production of a linear system",
        description="Entropy production of a system. " + _UNITS_TEXT,
    )
    sub = p.add_subparsers(dest="ep_command", metavar="SYSTEM")
    lin = sub.add_parser(
        "linear",
        help="linear OU system dx = A x dt + sqrt(2D) dW",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Steady covariance C (A C + C A^T + 2 D = 0), steady entropy-production rate\n"
            "sigma = tr(A^T D^-1 A C) - tr(C^-1 D), and the exact KL rate between the forward and\n"
            "time-reversed stationary process sampled at interval dt (<= sigma, -> sigma as\n"
            "dt -> 0) of dx = A x dt + sqrt(2 D) dW (docs/theory/linear-ou.md, eq. (85)-(90)).\n\n"
            + _UNITS_TEXT
        ),
        epilog=(
            "example: thermoinfer ep linear --drift '[[-1, -0.5], [0.5, -1]]' --diffusion 1 "
            "--dt 0.1 --json\n(rotational trap: sigma = 2 eps^2 / k = 0.5 nats per unit time)"
        ),
    )
    lin.add_argument("--drift", required=True, metavar="JSON",
                     help="drift matrix A as a JSON list of rows, e.g. '[[-1, 0], [1, -1]]' "
                          "(1/time); every eigenvalue must have a negative real part")
    lin.add_argument("--diffusion", required=True, metavar="JSON",
                     help="diffusion D (length^2/time): a number (isotropic D0*1), a JSON list "
                          "(diagonal) or a JSON matrix; symmetric positive definite")
    lin.add_argument("--dt", default=None, metavar="DT",
                     help="sampling interval (time units) for the KL rate; omitted: kl_rate_at_dt "
                          "is null")
    add_output_options(lin)
    lin.set_defaults(func=run_linear)
    p.set_defaults(func=run, _ep_parser=p)


def run(args) -> int:
    """``thermoinfer ep`` without a system: print the help and fail."""
    args._ep_parser.print_help()
    return 2


def _parse_matrix(option: str, text: str, *, allow_vector: bool):
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise InputError(
            f"{option} must be a JSON number or list, e.g. '[[-1, 0], [1, -1]]', got {text!r}."
        ) from None
    if _has_non_number(value):
        raise InputError(f"{option} must contain numbers only (no true/false, strings or null), "
                         f"got {text!r}.")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InputError(
            f"{option} must be a rectangular JSON array of numbers, got {text!r}."
        ) from None
    ok_ndim = (0, 1, 2) if allow_vector else (2,)
    if arr.ndim not in ok_ndim or (arr.ndim == 2 and arr.shape[0] != arr.shape[1]) or arr.size == 0:
        want = "a number, a list (diagonal) or a square matrix" if allow_vector else "a square matrix"
        raise InputError(f"{option} must be {want} as JSON, got shape {arr.shape} from {text!r}.")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{option} must contain finite numbers only, got {text!r}.")
    return arr


def _has_non_number(value) -> bool:
    if isinstance(value, list):
        return any(_has_non_number(v) for v in value)
    return isinstance(value, bool) or not isinstance(value, (int, float))


def _parse_dt(text):
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"--dt must be a number > 0, got {text!r}.") from None
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"--dt must be a finite number > 0 (sampling interval), got {text!r}.")
    return v


def run_linear(args) -> int:
    """Compute and print the entropy production of a linear OU system."""
    check_output(args)
    from ..thermo.linear_system import linear_system_ep

    A = _parse_matrix("--drift", args.drift, allow_vector=False)
    Dm = _parse_matrix("--diffusion", args.diffusion, allow_vector=True)
    d = A.shape[0]
    if Dm.ndim == 0:
        Dm = Dm * np.eye(d)
    elif Dm.ndim == 1:
        if Dm.shape[0] != d:
            raise InputError(
                f"--diffusion as a list is the diagonal and needs {d} entries to match --drift, "
                f"got {Dm.shape[0]}."
            )
        Dm = np.diag(Dm)
    elif Dm.shape != (d, d):
        raise InputError(f"--diffusion must be {d}x{d} to match --drift, got {Dm.shape[0]}x{Dm.shape[1]}.")
    dt = _parse_dt(args.dt)
    try:
        res = linear_system_ep(A, np.asarray(Dm), dt)
    except InputError as exc:  # name the CLI options instead of the library arguments
        msg = str(exc).replace("A (drift matrix)", "--drift").replace("D must", "--diffusion must")
        raise InputError(msg) from None
    sigma = float(res.entropy_production_rate)
    kl = float(res.kl_rate_at_dt) if dt is not None else None
    out = {
        "system": "linear_ou",
        "dimension": d,
        "drift": A,
        "diffusion": Dm,
        "dt": dt,
        "steady_covariance": np.asarray(res.steady_covariance) + 0.0,  # no -0.0
        "entropy_production_rate": sigma,
        "kl_rate_at_dt": kl,
        "kl_rate_status": "ok" if dt is not None else "no --dt given",
        "units": {
            "drift": "1/time",
            "diffusion": "length^2/time",
            "dt": "time",
            "steady_covariance": "length^2",
            "entropy_production_rate": "nat/time",
            "kl_rate_at_dt": "nat/time",
        },
        "conventions": _CONVENTIONS,
    }
    if args.output:
        from ..data.io import write_netcdf

        write_netcdf(_tree(A, Dm, dt, res, sigma, kl), args.output)
    if args.json:
        print_json(out)
        return 0
    if args.output:
        print(f"wrote {args.output}")
    with np.printoptions(precision=6, suppress=False):
        print(f"linear OU system dx = A x dt + sqrt(2D) dW, d = {d}")
        print(f"entropy production rate sigma = {sigma:.10g} nats per unit time")
        if kl is None:
            print("KL rate at dt: not computed (pass --dt)")
        else:
            print(f"KL rate of the process sampled at dt = {dt:g}: {kl:.10g} nats per unit time "
                  f"(ratio to sigma {kl / sigma:.6g})" if sigma > 0 else
                  f"KL rate of the process sampled at dt = {dt:g}: {kl:.10g} nats per unit time")
        print("steady covariance C (length^2):")
        for row in np.asarray(res.steady_covariance):
            print("  " + "  ".join(f"{v: .8g}" for v in row))
        print("conventions: " + ", ".join(f"{k}={v}" for k, v in _CONVENTIONS.items()))
    return 0


def _tree(A, D, dt, res, sigma, kl):
    """The result as a DataTree: group ``linear_system`` (drift, diffusion, steady covariance,
    rates), provenance and conventions on the root."""
    import shlex
    import sys

    import xarray as xr

    from ..data.schema import conventions_attrs, index, provenance, variable

    d = A.shape[0]
    config = {"system": "linear_ou", "drift": A.tolist(), "diffusion": D.tolist(), "dt": dt}
    root = {**provenance(config=config, command=shlex.join(["thermoinfer", *sys.argv[1:]])),
            **conventions_attrs(path_weights="exact_ou"),
            "time_reversal": _CONVENTIONS["time_reversal"],
            "title": "thermoinfer entropy production of a linear OU system"}
    mat = ("component", "component_j")
    ds = xr.Dataset(
        {
            "drift": variable(mat, A, "time_unit-1", "drift matrix A of dx = A x dt + sqrt(2D) dW"),
            "diffusion": variable(mat, D, "length_unit2 time_unit-1",
                                  "diffusion matrix D (mobility x temperature)"),
            "steady_covariance": variable(mat, np.asarray(res.steady_covariance) + 0.0,
                                          "length_unit2", "steady covariance C, A C + C A^T + 2 D = 0"),
            "entropy_production_rate": variable((), sigma, "nat time_unit-1",
                                                "steady entropy-production rate sigma"),
            "kl_rate_at_dt": variable((), np.nan if kl is None else kl, "nat time_unit-1",
                                      "KL rate of forward vs time-reversed paths sampled at dt "
                                      "(NaN: no dt given)"),
            "dt": variable((), np.nan if dt is None else dt, "time_unit",
                           "sampling interval of the KL rate (NaN: none given)"),
        },
        coords={"component": index("component", d, "component of x"),
                "component_j": index("component_j", d, "second matrix index")},
    )
    tree = xr.DataTree(xr.Dataset(attrs=root))
    tree["linear_system"] = ds
    return tree

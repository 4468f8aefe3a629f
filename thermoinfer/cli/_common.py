"""Helpers shared by the subcommands: number parsing, JSON output, conventions."""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

__all__ = ["parse_time", "parse_seed", "parse_count", "parse_max_steps", "parse_list",
           "to_jsonable", "print_json", "add_output_options", "check_output", "SEED_HELP",
           "MAX_STEPS_HELP"]

#: largest accepted seed (2**63 - 1, the 64-bit signed range JAX and NumPy accept)
_SEED_MAX = 2**63 - 1
SEED_HELP = "PRNG seed, an integer in [0, 2^63 - 1] (default 0)"
#: default of --max-steps (thermoinfer._jobsize.DEFAULT_MAX_STEPS, repeated to keep the CLI
#: free of heavy imports until a job runs)
DEFAULT_MAX_STEPS = 10**7
MAX_STEPS_HELP = ("refuse a run of more than this many time steps t/dt (online: samples "
                  "alpha*N) before it starts; 'inf' lifts the limit (default 1e7). A run whose "
                  "estimated memory exceeds the available memory is refused as well")


def parse_time(text: str) -> float:
    """Parse a time argument: a number >= 0 or 'inf'."""
    msg = f"must be a number >= 0 or 'inf', got {text!r}"
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(msg) from None
    if math.isnan(v) or v < 0:
        raise argparse.ArgumentTypeError(msg)
    return v


def _integer(text: str, what: str) -> int:
    """An integer from ``'12'``, ``'1e6'`` or ``'1_000'``-free integral notation."""
    t = str(text).strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        v = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if not math.isfinite(v) or v != math.floor(v):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return int(v)


def parse_seed(text: str) -> int:
    """Parse ``--seed``: an integer in [0, 2**63 - 1] (``1e6`` allowed); larger seeds are
    refused, never reduced."""
    what = f"an integer seed in [0, {_SEED_MAX}]"
    v = _integer(text, what)
    if not 0 <= v <= _SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return v


def parse_count(text: str) -> int:
    """Parse a count (``--N``, ``--replicas``, ``--record-every``): an integer >= 1; ``1e3``
    is accepted as 1000."""
    v = _integer(text, "an integer >= 1")
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return v


def parse_max_steps(text: str):
    """Parse ``--max-steps``: an integer >= 1, or ``inf``/``none`` for no limit."""
    if str(text).strip().lower() in ("inf", "none", "infinity"):
        return None
    return parse_count(text)


def parse_list(text: str, *, allow_inf: bool = False):
    """Parse a number or a comma-separated list of numbers (``0.5,1,2``): a float or a list.

    NaN is refused here; ranges and signs are checked by the library (one line naming the
    option)."""
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise argparse.ArgumentTypeError(f"needs at least one number, got {text!r}")
    if any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"has an empty entry in {text!r}; write e.g. 0.5,1,2")
    vals = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a number or a comma-separated list such as 0.5,1,2, got {text!r}"
            ) from None
        if math.isnan(v) or (math.isinf(v) and not allow_inf):
            raise argparse.ArgumentTypeError(f"must be finite{' (or inf)' if allow_inf else ''}, "
                                             f"got {p!r} in {text!r}")
        vals.append(v)
    if len(set(vals)) != len(vals):
        raise argparse.ArgumentTypeError(f"lists a value twice in {text!r}; every swept value "
                                         "must be distinct")
    return vals[0] if len(vals) == 1 else vals


def check_output(args, *, suffixes=None, what: str = "netCDF") -> None:
    """Validate ``args.output`` (``-o``) before any computation (one line, exit 2 if bad)."""
    if getattr(args, "output", None):
        from ..data.io import NETCDF_SUFFIXES, check_output_path

        check_output_path(args.output, suffixes=suffixes or NETCDF_SUFFIXES, option="-o",
                          what=what)


def to_jsonable(obj):
    """Convert numpy scalars/arrays to JSON types; NaN and +-inf become null."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def annotate_infinities(obj):
    """Beside every top-level key whose value is +-inf, add ``<key>_infinite`` = "+inf"/"-inf"
    (the value itself is printed as null, so the sign would otherwise be lost)."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    for key, value in obj.items():
        if isinstance(value, (float, np.floating)) and math.isinf(float(value)):
            flag = f"{key}_infinite"
            if flag not in out:
                out[flag] = "+inf" if value > 0 else "-inf"
    return out


def print_json(obj) -> None:
    """Print one JSON object on stdout: strict JSON, NaN and +-inf as null (with
    ``<key>_infinite`` naming the sign of an infinite value)."""
    json.dump(to_jsonable(annotate_infinities(obj)), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


def _output_path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a file name such as result.nc")
    return text


def add_progress_option(p) -> None:
    """Add ``--progress/--no-progress`` (default: a bar when stderr is a terminal)."""
    import argparse

    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar with an ETA on stderr (default: when stderr is a terminal)")


def add_output_options(p) -> None:
    """Add ``--json`` and ``-o/--output``."""
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("-o", "--output", metavar="FILE.nc", type=_output_path,
                   help="write the result DataTree to this netCDF file (netcdf4 engine, atomic; "
                        "checked before the computation starts: the folder must exist, the name "
                        "end in .nc, an existing file be a writable regular file)")


def task_group(sub, name: str, help: str, description: str):
    """Add a command with task sub-commands (``theory``/``simulate``); return (parser, tasks)."""
    p = sub.add_parser(name, help=help, description=description)
    tasks = p.add_subparsers(dest="task", metavar="TASK", parser_class=type(p))
    p.set_defaults(func=lambda a: _no_task(p))
    return p, tasks


def _no_task(p) -> int:
    p.print_usage(sys.stderr)
    print(f"{p.prog}: error: choose a task (see {p.prog} --help)", file=sys.stderr)
    return 2


def register_teacher_student(tasks, which: str) -> None:
    """Let the teacher-student task (NJP 2017) add itself to ``theory`` or ``simulate``."""
    import importlib

    name = f"{__package__}._teacher_student"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return
    getattr(mod, f"register_{which}")(tasks)

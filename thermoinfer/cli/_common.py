"""Helpers shared by the subcommands: number parsing, JSON output, conventions."""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

__all__ = ["parse_time", "to_jsonable", "print_json", "add_output_options"]


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


def add_output_options(p) -> None:
    """Add ``--json`` and ``-o/--output``."""
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("-o", "--output", metavar="FILE.nc", type=_output_path,
                   help="write the result DataTree to this netCDF file (netcdf4 engine, atomic)")


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

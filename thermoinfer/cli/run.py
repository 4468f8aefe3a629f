"""``thermoinfer run``: run an analysis of ``analyses/`` (the default is the flagship, ``make run``).

Every script in the analyses folder is an analysis: ``thermoinfer run --list`` lists them with
the first line of their docstring, ``thermoinfer run NAME`` runs one. Each writes its netCDF
files and its figure into ``--out`` and says where they went.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from ..errors import InputError
from ._common import parse_seed, print_json

DEFAULT = "memorization_efficiency"


def _folders() -> list[Path]:
    pkg = Path(__file__).resolve().parent.parent
    return [f for f in (pkg / "_analyses", pkg.parent / "analyses") if f.is_dir()]


def analyses() -> dict[str, Path]:
    """``{name: path}`` of every analysis script (first folder wins)."""
    found: dict[str, Path] = {}
    for folder in _folders():
        for f in sorted(folder.glob("*.py")):
            if not f.name.startswith("_"):
                found.setdefault(f.stem, f)
    return found


def _summary(path: Path) -> str:
    """The first line of a script's docstring, read without running it."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, ValueError):
        doc = None
    return (doc or "").strip().splitlines()[0] if doc else ""


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run an analysis (default: the flagship, as make run; --list lists them)",
        description="Run an analysis script of the analyses folder; it writes its netCDF files "
                    "and figure into --out and prints where they went. Default: "
                    f"{DEFAULT} (the same as 'make run'). See --list for every analysis.",
        allow_abbrev=False)
    p.add_argument("analysis", nargs="?", default=DEFAULT, metavar="NAME",
                   help=f"analysis to run (default {DEFAULT}); see --list")
    p.add_argument("--list", action="store_true", help="list the analyses and exit")
    p.add_argument("--json", action="store_true", help="with --list: print one JSON object")
    p.add_argument("--out", default="results", metavar="FOLDER",
                   help="output folder, created if missing (default results/)")
    p.add_argument("--quick", action="store_true", help="small grid (smoke test)")
    p.add_argument("--seed", type=parse_seed, default=2017, help="PRNG seed (default 2017)")
    p.add_argument("--progress", action="store_true", default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.set_defaults(func=run)


def _check_out(folder: str) -> Path:
    """Create the output folder if needed and check that files can be written into it."""
    import tempfile

    if not str(folder).strip():
        raise InputError("--out needs a folder name such as results.")
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {folder!r} exists and is not a folder; give a folder name.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".thermoinfer-write-check-"):
            pass
    except OSError as err:
        raise InputError(f"--out {folder!r}: cannot write there ({err.strerror or err}); "
                         "choose a folder you can write to.") from None
    return path


def run(args) -> int:
    found = analyses()
    if args.list:
        rows = {name: _summary(path) for name, path in found.items()}
        if args.json:
            print_json({"analyses": [{"name": k, "description": v, "default": k == DEFAULT}
                                     for k, v in rows.items()]})
        else:
            width = max(len(k) for k in rows)
            for name, desc in rows.items():
                mark = " (default)" if name == DEFAULT else ""
                print(f"{name:<{width}}  {desc}{mark}")
        return 0
    if args.analysis not in found:
        raise InputError(f"unknown analysis {args.analysis!r}; choose one of "
                         f"{', '.join(found) or 'none found'} (thermoinfer run --list).")
    _check_out(args.out)
    path = found[args.analysis]
    spec = importlib.util.spec_from_file_location(f"thermoinfer_analysis_{args.analysis}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    devices = int(getattr(mod, "HOST_DEVICES", 1))
    if devices > 1:  # before JAX starts (the CLI imports it only when a job runs)
        import numpyro

        numpyro.set_host_device_count(devices)
    argv = ["--out", args.out, "--seed", str(args.seed)] + (["--quick"] if args.quick else [])
    if args.progress is not None:
        argv.append("--progress" if args.progress else "--no-progress")
    mod.main(mod.parse_args(argv))
    return 0

"""``thermoinfer run``: the flagship analysis (the same as ``make run``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import InputError

ANALYSES = {
    "memorization_efficiency": "eta versus nu and alpha: theory and finite-N simulations (PRL)",
    "teacher_student": "eps_g, R, Q and eta versus alpha for three rules: ODEs against N >= 1000 simulations (NJP)",
}


def _find(name: str) -> Path:
    pkg = Path(__file__).resolve().parent.parent
    for folder in (pkg / "_analyses", pkg.parent / "analyses"):
        f = folder / f"{name}.py"
        if f.is_file():
            return f
    raise InputError(f"analysis {name!r} not found next to the package; reinstall thermoinfer.")


def register(sub) -> None:
    p = sub.add_parser("run", help="run the flagship analysis (writes results/*.nc and a PNG)",
                       description="Run an analysis script: " + "; ".join(
                           f"{k}: {v}" for k, v in ANALYSES.items()),
                       allow_abbrev=False)
    p.add_argument("analysis", nargs="?", default="memorization_efficiency", choices=sorted(ANALYSES))
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--quick", action="store_true", help="small grid (smoke test)")
    p.add_argument("--seed", type=int, default=2017, help="PRNG seed (default 2017)")
    p.set_defaults(func=run)


def run(args) -> int:
    path = _find(args.analysis)
    spec = importlib.util.spec_from_file_location(f"thermoinfer_analysis_{args.analysis}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    argv = ["--out", args.out, "--seed", str(args.seed)] + (["--quick"] if args.quick else [])
    mod.main(mod.parse_args(argv))
    return 0

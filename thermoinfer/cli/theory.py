"""``thermoinfer theory``: thermodynamic-limit theory (memorisation of [PRL])."""

from __future__ import annotations

import math
import shlex
import sys

from ..errors import InputError
from ._common import (
    add_output_options,
    check_output,
    print_json,
    register_teacher_student,
    task_group,
)
from ._memorization_args import UNITS_EPILOG, add_physics_args, load_rule_file


def register(sub) -> None:
    p, tsub = task_group(sub, "theory", help="evaluate the thermodynamic-limit theory",
                         description="Evaluate the thermodynamic-limit theory.")
    m = tsub.add_parser(
        "memorization", help="Hebbian memorisation of random labels (PRL 2017)",
        description="Thermodynamic-limit Hebbian memorisation "
                    "(docs/theory/hebbian-memorisation.md): training "
                    "error, information, heat, entropy change and efficiency per weight.",
        epilog=UNITS_EPILOG, allow_abbrev=False)
    add_physics_args(m, simulate=False)
    add_output_options(m)
    m.set_defaults(func=run)
    register_teacher_student(tsub, "theory")


def run(args) -> int:
    check_output(args)
    from ..data.io import write_netcdf
    from ..memorization import summary_dict, theory_memorization

    load_rule_file(args.rule_file)
    if args.n_weights is not None and args.entropy != "exact_mixture":
        raise InputError("--N is used only with --entropy exact_mixture (the other conventions "
                         "are thermodynamic-limit closed forms); drop --N or add --entropy "
                         "exact_mixture.")
    key = None
    if args.n_weights is not None:
        import jax

        key = jax.random.key(args.seed)
        if any(isinstance(v, list) for v in (args.alpha, args.nu, args.k, args.temperature,
                                             args.time)):
            raise InputError("--entropy exact_mixture with --N is a Monte Carlo estimate at one "
                             "parameter point; give single values instead of comma lists.")
    tree = theory_memorization(alpha=args.alpha, nu=args.nu, k=args.k,
                               temperature=args.temperature, t=args.time,
                               entropy=args.entropy, rule=args.rule, n_weights=args.n_weights,
                               key=key, command=shlex.join(["thermoinfer", *sys.argv[1:]]))
    if args.output:
        write_netcdf(tree, args.output)
    out = summary_dict(tree)
    if args.json:
        print_json(out)
    else:
        _print_table("theory memorization", out, tree)
        if args.output:
            print(f"wrote {args.output}")
    return 0


def units_of(var) -> str:
    """The units to show a user: the reduced units (``k_B T_unit``, ``nat``) where the CF
    ``units`` attribute is ``"1"`` for them, else ``units``."""
    return str(var.attrs.get("reduced_units", var.attrs.get("units", "")))


#: columns of the grid table (one row per grid point)
GRID_COLUMNS = ("training_error", "mutual_information_per_weight", "heat_per_weight",
                "entropy_change_per_weight", "efficiency", "efficiency_status")


def print_grid_table(title, ds, columns=GRID_COLUMNS) -> None:
    """One row per point of a parameter grid (the swept parameters first)."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    dims = list(ds[columns[0]].dims)
    table = Table(title=title)
    for d in dims:
        table.add_column(d, justify="right")
    cols = [c for c in columns if c in ds]
    for c in cols:
        table.add_column(f"{c} [{units_of(ds[c])}]" if units_of(ds[c]) not in ("", "1") else c,
                         justify="right")
    for idx in np.ndindex(*(ds.sizes[d] for d in dims)):
        point = ds.isel(dict(zip(dims, idx, strict=True)))
        row = [f"{float(point[d]):g}" for d in dims]
        for c in cols:
            v = point[c].values.item()
            row.append(f"{v:.6g}" if isinstance(v, float) else str(v))
        table.add_row(*row)
    Console(width=150).print(table)


def _print_table(title, out, tree) -> None:
    from rich.console import Console
    from rich.table import Table

    ds = tree["summary"].to_dataset()
    if ds.dims:
        print_grid_table(f"thermoinfer {title} ({tree.attrs['entropy_convention']} entropy, "
                         "one row per grid point)", ds)
        return
    table = Table(title=f"thermoinfer {title} ({tree.attrs['entropy_convention']} entropy)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("± SE", justify="right")
    table.add_column("units")
    for name, var in ds.data_vars.items():
        if name.endswith("_se"):
            continue
        v = var.values.item() if var.ndim == 0 else var.values
        se = ds[f"{name}_se"].values.item() if f"{name}_se" in ds else None
        if isinstance(v, float):
            vs = "nan" if math.isnan(v) else f"{v:.6g}"
        else:
            vs = str(v)
        ses = "" if se is None or (isinstance(se, float) and math.isnan(se)) else f"{se:.2g}"
        table.add_row(name, vs, ses, units_of(var))
    Console(width=150).print(table)


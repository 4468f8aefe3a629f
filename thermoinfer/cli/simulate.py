"""``thermoinfer simulate``: finite-N simulation (memorisation of [PRL])."""

from __future__ import annotations

import importlib
import shlex
import sys

from ._common import add_output_options, print_json
from ._memorization_args import UNITS_EPILOG, add_physics_args, load_rule_file


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate learning at finite N",
                       description="Simulate learning neurons at finite N.")
    tsub = p.add_subparsers(dest="task", metavar="TASK", parser_class=type(p))
    m = tsub.add_parser(
        "memorization", help="batch Langevin learning of random labels (PRL 2017)",
        description="Batch Langevin learning of P = round(alpha N) random labels from the "
                    "equilibrium state: heat, work, entropy change, information and efficiency, "
                    "with standard errors over replicas.",
        epilog=UNITS_EPILOG, allow_abbrev=False)
    add_physics_args(m, simulate=True)
    add_output_options(m)
    m.set_defaults(func=run)
    try:  # the teacher-student task (NJP 2017) registers itself
        _teacher_student = importlib.import_module(f"{__package__}._teacher_student")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}._teacher_student":
            raise
    else:
        _teacher_student.register_simulate(tsub)
    p.set_defaults(func=lambda a: _no_task(p))


def run(args) -> int:
    from rich.console import Console

    from ..data.io import write_netcdf
    from ..memorization import simulate_memorization, summary_dict
    from .theory import _print_table

    load_rule_file(args.rule_file)
    console = Console(stderr=True)
    with console.status("simulating ...", spinner="dots"):
        tree = simulate_memorization(
            args.seed, n_weights=args.n_weights, alpha=args.alpha, rule=args.rule, k=args.k,
            nu=args.nu, temperature=args.temperature, t=args.time, dt=args.dt,
            n_replicas=args.replicas, inputs=args.inputs, data_protocol=args.data_protocol,
            entropy=args.entropy, method=args.method, record_every=args.record_every,
            command=shlex.join(["thermoinfer", *sys.argv[1:]]))
    if args.output:
        write_netcdf(tree, args.output)
    out = summary_dict(tree)
    if args.json:
        print_json(out)
    else:
        _print_table("simulate memorization", out, tree)
        if args.output:
            print(f"wrote {args.output}")
    return 0


def _no_task(p) -> int:
    import sys

    p.print_usage(sys.stderr)
    print(f"{p.prog}: error: choose a task (see {p.prog} --help)", file=sys.stderr)
    return 2

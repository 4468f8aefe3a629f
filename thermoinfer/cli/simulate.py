"""``thermoinfer simulate``: finite-N simulation (memorisation of [PRL])."""

from __future__ import annotations

import shlex
import sys

from ._common import (
    add_output_options,
    check_output,
    print_json,
    register_teacher_student,
    task_group,
)
from ._memorization_args import UNITS_EPILOG, add_physics_args, load_rule_file


def register(sub) -> None:
    p, tsub = task_group(sub, "simulate", help="simulate learning at finite N",
                         description="Simulate learning neurons at finite N.")
    m = tsub.add_parser(
        "memorization", help="batch Langevin learning of random labels (PRL 2017)",
        description="Batch Langevin learning of P = round(alpha N) random labels from the "
                    "equilibrium state: heat, work, entropy change, information and efficiency, "
                    "with standard errors over replicas.",
        epilog=UNITS_EPILOG, allow_abbrev=False)
    add_physics_args(m, simulate=True)
    add_output_options(m)
    m.set_defaults(func=run)
    register_teacher_student(tsub, "simulate")


def _precheck_job(args) -> None:
    """The job-size check of the library, before JAX is imported (fast refusal); the library
    repeats it with the resolved rule."""
    import math

    from .._jobsize import check_batch_job

    builtin = {"hebbian": False, "perceptron": True, "adatron": True}
    if args.rule not in builtin or args.rule_file:
        return
    a, t, dt = args.alpha, args.time, args.dt
    if not (math.isfinite(a) and a > 0 and t >= 0 and (dt is None or (math.isfinite(dt) and dt > 0))):
        return  # the library names the bad value
    exact = args.method == "exact_ou" or (args.method == "auto" and not builtin[args.rule])
    check_batch_job(what="simulate memorization", exact=exact, t=t, dt=dt,
                    record_every=args.record_every, N=args.n_weights,
                    P=max(1, round(a * args.n_weights)), R=args.replicas,
                    shared=args.data_protocol == "shared", max_steps=args.max_steps)


def run(args) -> int:
    check_output(args)
    _precheck_job(args)
    from ..data.io import write_netcdf
    from ..memorization import simulate_memorization, summary_dict
    from ..progress import wants_progress
    from .theory import _print_table

    load_rule_file(args.rule_file)
    tree = simulate_memorization(
        args.seed, n_weights=args.n_weights, alpha=args.alpha, rule=args.rule, k=args.k,
        nu=args.nu, temperature=args.temperature, t=args.time, dt=args.dt,
        n_replicas=args.replicas, inputs=args.inputs, data_protocol=args.data_protocol,
        entropy=args.entropy, method=args.method, record_every=args.record_every,
        command=shlex.join(["thermoinfer", *sys.argv[1:]]), max_steps=args.max_steps,
        progress=wants_progress(args.progress))
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


"""``thermoinfer theory teacher-student`` and ``thermoinfer simulate teacher-student`` (NJP 2017).

:mod:`thermoinfer.cli.theory` and :mod:`thermoinfer.cli.simulate` import this module if it exists
and call :func:`register_theory` / :func:`register_simulate` with their task sub-parsers.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys

from ..errors import InputError
from ._common import (
    MAX_STEPS_HELP,
    SEED_HELP,
    add_output_options,
    add_progress_option,
    check_output,
    parse_count,
    parse_list,
    parse_max_steps,
    parse_seed,
    parse_time,
    print_json,
)
from ._memorization_args import load_rule_file

__all__ = ["register_theory", "register_simulate", "parse_alphas"]

UNITS_EPILOG = (
    "Units: k_B = 1 and mobility 1; T (bath temperature) sets the energy unit of heat and work; "
    "k is a rate (1/time); online time alpha = samples seen / N (samples per weight; one sample "
    "lasts 1/N, so alpha is also the Langevin time), batch alpha = load P/N and t the Langevin "
    "time in the units in which the rate k is given; entropies and informations in nats; 'per weight' = divided "
    "by N; R = w.T/N, Q = w.w/N, rho = R/sqrt(Q) (dimensionless). Heat conventions: "
    "kick_relaxation (default; kicks are work, heat is the energy released in the thermal "
    "relaxation) or continuous_force (simulation only; the kick is a force over 1/N, heat grows "
    "like N per weight); batch results record heat_convention = not_applicable. Flags: "
    "bound_satisfied (Delta S + Delta Q/T >= I) and feedback_uncorrected (online Perceptron/AdaTron "
    "under kick_relaxation); efficiency is null with a status when either makes it meaningless. "
    "JSON: NaN/undefined/infinite -> null."
)


def parse_alphas(text: str):
    """Parse ``--alpha``: one number or a comma-separated list (``inf`` allowed for the theory)."""
    try:
        vals = [float(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--alpha must be a number or a comma-separated list such as 0.5,1,2, got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError(f"--alpha needs at least one number, got {text!r}")
    return vals[0] if len(vals) == 1 else vals


def _add_common(p, *, simulate: bool) -> None:
    p.add_argument("--mode", default="online",
                   help="online (a fresh sample per update, time alpha) or batch (P = alpha N fixed "
                        "samples, Langevin time t) (default online)")
    p.add_argument("--rule", default="hebbian",
                   help="learning rule: hebbian, perceptron, adatron, or a user rule from --rule-file "
                        "(default hebbian)")
    p.add_argument("--rule-file", metavar="FILE.py",
                   help="Python file that registers user rules with thermoinfer.register_rule(...)")
    if simulate:
        p.add_argument("--alpha", type=float, default=1.0,
                       help="online: final online time (samples per weight); batch: load P/N "
                            "(default 1)")
    else:
        p.add_argument("--alpha", type=parse_alphas, default=1.0,
                       help="online time(s) (online; 'inf' = steady state) or load(s) P/N (batch); "
                            "one number or a comma list, e.g. 0.5,1,2 (default 1)")
    num = float if simulate else parse_list
    lst = "" if simulate else "; a comma list sweeps it (one grid dimension)"
    p.add_argument("--nu", type=num, default=1.0, help=f"learning rate nu (default 1){lst}")
    p.add_argument("--k", type=num, default=1.0, help=f"weight decay k, 1/time (default 1){lst}")
    p.add_argument("--T", "--temperature", dest="temperature", type=num, default=1.0,
                   help=f"bath temperature T, energy units with k_B = 1 (default 1){lst}")
    p.add_argument("--t", "--time", dest="time",
                   type=parse_time if simulate else (lambda x: parse_list(x, allow_inf=True)),
                   default=None,
                   help="batch only: learning time t in units of 1/k; 'inf' = fully relaxed "
                        f"(default inf){lst}")
    p.add_argument("--heat", default="kick_relaxation",
                   help="online heat convention: kick_relaxation (default) or continuous_force "
                        "(simulation only)")


def register_theory(tsub) -> None:
    """Add ``theory teacher-student`` to the ``theory`` task sub-parsers."""
    p = tsub.add_parser(
        "teacher-student", help="teacher-student learning, online and batch (NJP 2017)",
        description="Thermodynamic-limit teacher-student learning "
                    "(docs/theory/teacher-student-and-online.md): "
                    "order parameters R, Q, rho, generalisation error, information I(T:w), entropy "
                    "change, heat and efficiency per weight; online from the order-parameter ODEs "
                    "(Hebbian: closed form), batch Hebbian in closed form.",
        epilog=UNITS_EPILOG, allow_abbrev=False)
    _add_common(p, simulate=False)
    add_output_options(p)
    p.set_defaults(func=run_theory)


def register_simulate(tsub) -> None:
    """Add ``simulate teacher-student`` to the ``simulate`` task sub-parsers."""
    p = tsub.add_parser(
        "teacher-student", help="teacher-student learning at finite N, online and batch (NJP 2017)",
        description="Simulate teacher-student learning at finite N from the equilibrium state: "
                    "R, Q, rho, generalisation error, information, entropy change, heat (from the "
                    "weights: energy drops of the relaxation sub-steps under kick_relaxation), "
                    "efficiency and the bound flags, with standard errors over replicas (<name>_se).",
        epilog=UNITS_EPILOG, allow_abbrev=False)
    _add_common(p, simulate=True)
    p.add_argument("--N", dest="n_weights", type=parse_count, default=1000,
                   help="number of weights N (default 1000)")
    p.add_argument("--replicas", type=parse_count, default=32,
                   help="independent students, each with its own teacher (default 32)")
    p.add_argument("--seed", type=parse_seed, default=0, help=SEED_HELP)
    p.add_argument("--inputs", default="binary", help="binary (+-1, default) or gaussian inputs")
    p.add_argument("--teacher-prior", default="sphere",
                   help="sphere (|T|^2 = N, default) or gaussian teacher")
    p.add_argument("--record-alphas", type=parse_alphas, default=None,
                   help="online only: further online times to record, e.g. 0.5,1 (<= --alpha)")
    p.add_argument("--dt", type=float, default=None,
                   help="batch only: Euler-Maruyama time step (required for perceptron/adatron)")
    p.add_argument("--record-every", type=parse_count, default=None,
                   help="batch only: record every this many time steps (default: final time)")
    p.add_argument("--max-steps", type=parse_max_steps, default=10**7, help=MAX_STEPS_HELP)
    add_progress_option(p)
    add_output_options(p)
    p.set_defaults(func=run_simulate)


def _command() -> str:
    return shlex.join(["thermoinfer", *sys.argv[1:]])


def run_theory(args) -> int:
    check_output(args)
    from ..data.io import write_netcdf
    from ..teacher_student import summary_dict, theory_teacher_student

    load_rule_file(args.rule_file)
    tree = theory_teacher_student(args.alpha, mode=args.mode, rule=args.rule, nu=args.nu, k=args.k,
                                  temperature=args.temperature, t=args.time, heat=args.heat,
                                  command=_command())
    return _finish(args, tree, summary_dict(tree), "theory teacher-student", write_netcdf)


def run_simulate(args) -> int:
    check_output(args)
    _precheck_job(args)
    from ..data.io import write_netcdf
    from ..progress import wants_progress
    from ..teacher_student import simulate_teacher_student, summary_dict

    load_rule_file(args.rule_file)
    rec = args.record_alphas
    if rec is not None and not isinstance(rec, list):
        rec = [rec]
    if args.mode == "online" and args.time is not None:
        raise InputError("--t/--time is the batch learning time; online time is --alpha "
                         "(samples per weight). Drop --t or pass --mode batch.")
    tree = simulate_teacher_student(
        args.seed, mode=args.mode, n_weights=args.n_weights, alpha=args.alpha, rule=args.rule,
        nu=args.nu, k=args.k, temperature=args.temperature,
        t=(math.inf if args.time is None else args.time) if args.mode == "batch" else None,
        dt=args.dt, heat=args.heat, n_replicas=args.replicas, inputs=args.inputs,
        teacher_prior=args.teacher_prior, record_alphas=rec, record_every=args.record_every,
        command=_command(), max_steps=args.max_steps, progress=wants_progress(args.progress))
    return _finish(args, tree, summary_dict(tree), "simulate teacher-student", write_netcdf)


def _precheck_job(args) -> None:
    """The library's job-size check before JAX is imported (fast refusal of oversized runs)."""
    from .._jobsize import check_batch_job, check_job

    a, n, r = args.alpha, args.n_weights, args.replicas
    if not (math.isfinite(a) and a > 0):
        return  # the library names the bad value
    if args.mode == "online":
        check_job(what="simulate teacher-student (online)", steps=a * n, replicas=r,
                  n_weights=n, memory=8.0 * 16 * r * n, max_steps=args.max_steps,
                  steps_text=f"alpha*N = {a:g}*{n} samples, one update each")
    elif args.mode == "batch" and args.rule in ("hebbian", "perceptron", "adatron") \
            and not args.rule_file:
        t = math.inf if args.time is None else args.time
        dt = args.dt
        if dt is not None and not (math.isfinite(dt) and dt > 0):
            return
        check_batch_job(what="simulate teacher-student (batch)", exact=args.rule == "hebbian",
                        t=t, dt=dt, record_every=args.record_every, N=n, P=max(1, round(a * n)),
                        R=r, shared=False, max_steps=args.max_steps)


def _finish(args, tree, out, title, write_netcdf) -> int:
    if args.output:
        write_netcdf(tree, args.output)
    if args.json:
        print_json(out)
    else:
        _print_table(title, out, tree)
        if args.output:
            print(f"wrote {args.output}")
    return 0


def _fmt(v) -> str:
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.6g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def _print_table(title, out, tree) -> None:
    from rich.console import Console
    from rich.table import Table

    from .theory import print_grid_table, units_of

    ds = tree["summary"].to_dataset()
    if tree.attrs.get("simulation") != 1 and ds.dims:
        print_grid_table(f"thermoinfer {title} ({tree.attrs['mode']}, rule {tree.attrs['rule']}, "
                         f"heat {tree.attrs['heat_convention']}; one row per grid point)", ds,
                         ("R", "Q", "generalization_error", "mutual_information_per_weight",
                          "heat_per_weight", "efficiency", "efficiency_status"))
        return

    table = Table(title=f"thermoinfer {title} ({tree.attrs['mode']}, rule {tree.attrs['rule']}, "
                        f"heat {tree.attrs['heat_convention']})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("± SE", justify="right")
    table.add_column("units")
    for name in ("alpha", "t"):
        if name in out:
            table.add_row(name, _fmt(out[name]), "", units_of(ds[name]) if name in ds else "")
    for name, var in ds.data_vars.items():
        if name.endswith("_se"):
            continue
        se = out.get(f"{name}_se")
        table.add_row(name, _fmt(out[name]), "" if se is None else _fmt(se), units_of(var))
    Console().print(table)

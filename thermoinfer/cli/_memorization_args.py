"""Arguments shared by ``theory memorization`` and ``simulate memorization``."""

from __future__ import annotations

import runpy
from pathlib import Path

from ..errors import InputError
from ._common import (
    MAX_STEPS_HELP,
    SEED_HELP,
    add_progress_option,
    parse_count,
    parse_list,
    parse_max_steps,
    parse_seed,
    parse_time,
)

UNITS_EPILOG = (
    "Units: k_B = 1 and mobility 1; T (bath temperature) sets the energy unit of heat and work; "
    "time t and dt in the units in which the rate k is given (k in 1/time); entropies and "
    "informations in nats; quantities 'per weight' are divided by N. JSON: NaN/undefined -> null "
    "with a status; t = inf is printed as null with time_is_infinite = true."
)


def add_physics_args(p, *, simulate: bool) -> None:
    p.add_argument("--rule", default="hebbian",
                   help="learning rule: hebbian, perceptron, adatron, or a user rule from --rule-file "
                        "(default hebbian)")
    p.add_argument("--rule-file", metavar="FILE.py",
                   help="Python file that registers user rules with thermoinfer.register_rule(...)")
    if simulate:
        num, times, lst = float, parse_time, ""
    else:  # the theory takes comma lists: one grid dimension per swept parameter
        num = parse_list
        times = _parse_times
        lst = "; a comma list such as 0.5,1,2 sweeps it (one grid dimension)"
    p.add_argument("--alpha", type=num, default=0.5, help=f"load alpha = P/N (default 0.5){lst}")
    p.add_argument("--nu", type=num, default=1.0, help=f"learning rate nu (default 1){lst}")
    p.add_argument("--k", type=num, default=1.0,
                   help=f"restoring constant k, 1/time (default 1){lst}")
    p.add_argument("--T", "--temperature", dest="temperature", type=num, default=1.0,
                   help=f"bath temperature T, energy units with k_B = 1 (default 1){lst}")
    p.add_argument("--t", "--time", dest="time", type=times, default=float("inf"),
                   help=f"learning time t in units of 1/k; 'inf' = fully relaxed (default inf){lst}")
    p.add_argument("--entropy", choices=("annealed", "quenched_gaussian", "exact_mixture"),
                   default="annealed", help="convention for Delta S(w) (default annealed)")
    p.add_argument("--seed", type=parse_seed, default=0, help=SEED_HELP)
    if simulate:
        p.add_argument("--N", dest="n_weights", type=parse_count, default=200,
                       help="number of weights N (default 200)")
        p.add_argument("--dt", type=float, default=None,
                       help="time step (required for perceptron/adatron; e.g. 0.01)")
        p.add_argument("--replicas", type=parse_count, default=64,
                       help="number of replicas (default 64)")
        p.add_argument("--inputs", choices=("binary", "gaussian"), default="binary",
                       help="+-1 or Gaussian inputs (default binary)")
        p.add_argument("--data-protocol", choices=("per_replica", "shared"), default="per_replica",
                       help="one data set per replica or one shared (default per_replica)")
        p.add_argument("--method", choices=("auto", "exact_ou", "euler_maruyama"), default="auto",
                       help="integrator (default auto: exact OU for Hebbian)")
        p.add_argument("--record-every", type=parse_count, default=None,
                       help="store weight paths every this many steps (default: no paths)")
        p.add_argument("--max-steps", type=parse_max_steps, default=10**7, help=MAX_STEPS_HELP)
        add_progress_option(p)
    else:
        p.add_argument("--N", dest="n_weights", type=parse_count, default=None,
                       help="finite N, only for --entropy exact_mixture (Monte Carlo)")


def _parse_times(text: str):
    """``--t`` of the theory: a time >= 0, 'inf', or a comma list of them."""
    return parse_list(text, allow_inf=True)


def load_rule_file(path: str | None) -> None:
    if not path:
        return
    f = Path(path)
    if not f.is_file():
        raise InputError(f"--rule-file {path!r} does not exist; give the path of a Python file "
                         "that calls thermoinfer.register_rule(...).")
    try:
        runpy.run_path(str(f), run_name="thermoinfer_user_rules")
    except InputError:
        raise
    except Exception as exc:  # the user's file failed: one line
        raise InputError(f"--rule-file {path!r} failed: {type(exc).__name__}: {exc}") from None

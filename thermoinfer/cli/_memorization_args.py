"""Arguments shared by ``theory memorization`` and ``simulate memorization``."""

from __future__ import annotations

import runpy
from pathlib import Path

from ..errors import InputError
from ._common import parse_time

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
    p.add_argument("--alpha", type=float, default=0.5, help="load alpha = P/N (default 0.5)")
    p.add_argument("--nu", type=float, default=1.0, help="learning rate nu (default 1)")
    p.add_argument("--k", type=float, default=1.0, help="restoring constant k, 1/time (default 1)")
    p.add_argument("--T", "--temperature", dest="temperature", type=float, default=1.0,
                   help="bath temperature T, energy units with k_B = 1 (default 1)")
    p.add_argument("--t", "--time", dest="time", type=parse_time, default=float("inf"),
                   help="learning time t in units of 1/k; 'inf' = fully relaxed (default inf)")
    p.add_argument("--entropy", choices=("annealed", "quenched_gaussian", "exact_mixture"),
                   default="annealed", help="convention for Delta S(w) (default annealed)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    if simulate:
        p.add_argument("--N", dest="n_weights", type=int, default=200, help="number of weights N (default 200)")
        p.add_argument("--dt", type=float, default=None,
                       help="time step (required for perceptron/adatron; e.g. 0.01)")
        p.add_argument("--replicas", type=int, default=64, help="number of replicas (default 64)")
        p.add_argument("--inputs", choices=("binary", "gaussian"), default="binary",
                       help="+-1 or Gaussian inputs (default binary)")
        p.add_argument("--data-protocol", choices=("per_replica", "shared"), default="per_replica",
                       help="one data set per replica or one shared (default per_replica)")
        p.add_argument("--method", choices=("auto", "exact_ou", "euler_maruyama"), default="auto",
                       help="integrator (default auto: exact OU for Hebbian)")
        p.add_argument("--record-every", type=int, default=None,
                       help="store weight paths every this many steps (default: no paths)")
    else:
        p.add_argument("--N", dest="n_weights", type=int, default=None,
                       help="finite N, only for --entropy exact_mixture (Monte Carlo)")


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

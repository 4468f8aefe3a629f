"""``thermoinfer fit``: fit a model to measured trajectories (NUTS or SVI) and write the posterior.

``thermoinfer fit DATA --model NAME [--method nuts|svi] [--sampler nuts|conjugate]
[--chains --draws --warmup --seed] [--temperature T] [--rule RULE] -o FIT.nc`` reads observations (netCDF or CSV, schema of
:mod:`thermoinfer.data.observations`), validates them before any sampling (bad data: one line on
stderr, exit status 2), fits, prints the ArviZ summary with R-hat, ESS and divergences, and
writes the DataTree (posterior, sample_stats, log_likelihood, observed_data,
posterior_predictive, thermodynamics, information, diagnostics) to netCDF.
``thermoinfer fit --list-models`` lists the model programs. ``--sampler conjugate`` replaces
NUTS by independent draws of the exact posterior, for a model that has one in closed form
(``polynomial-drift`` with ``--option prior=conjugate``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import warnings

from ..errors import InputError
from ..progress import wants_progress
from ._common import parse_seed, print_json

#: fewest SVI guide draws (the inference layer's limit, repeated here so --help needs no JAX)
SVI_MIN_DRAWS = 100

__all__ = ["register", "run"]

_EPILOG = (
    "Data: netCDF with 'observations' (replica, time, weight|component), 'time' coordinate "
    "(attr units), for neuron models 'inputs' (pattern, weight) and 'labels' (pattern); or CSV "
    "with a 'time' column, one column per component and an optional 'replica' column. Units: "
    "k_B = 1; time in the data's units; the temperature T in energy units. Without a known T "
    "only the diffusion constant D = mu T is identifiable (the fit reports temperature = "
    "'inferred'). Chains run in parallel on as many CPU devices as --chains. "
    "Example: thermoinfer fit trap.csv --model linear-ou --chains 4 -o trap_fit.nc"
)


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return v


def _predictive_draws(text):
    if text == "all":
        return True
    if text == "auto":
        return "auto"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or 'all', got {text!r}") from None


def _nonneg_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return v


def _temperature(text):
    if text == "inferred":
        return text
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0 or 'inferred', got {text!r}") \
            from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0 or 'inferred', got {text!r}")
    return v


def _option(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"must be KEY=VALUE (VALUE as JSON), got {text!r}")
    key, value = text.split("=", 1)
    try:
        value = json.loads(value)
    except json.JSONDecodeError:
        pass  # a plain string
    if isinstance(value, list):
        value = tuple(value)
    return key.strip(), value


def register(subparsers) -> None:
    """Add the ``fit`` subcommand."""
    p = subparsers.add_parser(
        "fit", help="fit a model to measured trajectories (NUTS or SVI)",
        description="Fit a Langevin model to observed trajectories with numpyro and write the "
                    "posterior of the parameters and of the thermodynamic quantities (ArviZ "
                    "DataTree, netCDF).",
        epilog=_EPILOG)
    p.add_argument("data", nargs="?", metavar="DATA",
                   help="observations: netCDF (.nc) or CSV (.csv, .tsv) file")
    p.add_argument("--model", default="linear-ou",
                   help="model name (see --list-models) or path of a model file "
                        "(default linear-ou)")
    p.add_argument("--list-models", action="store_true",
                   help="list the model programs with a one-line description and exit")
    p.add_argument("--method", choices=("nuts", "svi"), default="nuts",
                   help="NUTS sampling or stochastic variational inference (default nuts)")
    p.add_argument("--sampler", choices=("nuts", "conjugate"), default="nuts",
                   help="with --method nuts: NUTS, or 'conjugate': chains x draws independent "
                        "draws of the exact posterior, no warmup (only models with a closed-form "
                        "posterior: polynomial-drift with --option prior=conjugate; default nuts)")
    p.add_argument("--chains", type=_positive_int, default=4, help="NUTS chains (default 4)")
    p.add_argument("--draws", type=_positive_int, default=1000,
                   help="draws per chain kept after warmup, or SVI guide draws (default 1000)")
    p.add_argument("--warmup", type=_nonneg_int, default=1000,
                   help="NUTS warmup steps per chain (default 1000)")
    p.add_argument("--seed", type=parse_seed, default=0,
                   help="PRNG seed, an integer in [0, 2**63 - 1] (default 0)")
    p.add_argument("--ci-prob", type=float, default=0.94,
                   help="probability of the equal-tailed credible intervals (default 0.94)")
    p.add_argument("--T", "--temperature", dest="temperature", type=_temperature, default=None,
                   help="known bath temperature T (energy units, k_B = 1), or 'inferred'; "
                        "default: the data's, else inferred (then only D = mu T is identifiable)")
    p.add_argument("--rule", default=None,
                   help="learning rule of a neuron model: hebbian (exact OU likelihood), "
                        "perceptron, adatron (Euler-Maruyama) or a user rule (--rule-file)")
    p.add_argument("--rule-file", metavar="FILE.py",
                   help="Python file that registers user rules with thermoinfer.register_rule")
    p.add_argument("--option", type=_option, action="append", default=[], metavar="KEY=VALUE",
                   help="further model option, e.g. prior hyperparameters: --option "
                        "length_scale=2 (VALUE as JSON); repeatable")
    p.add_argument("--time-units", default="time_unit",
                   help="CSV only: units of the time column (default time_unit)")
    p.add_argument("--svi-steps", type=_positive_int, default=5000,
                   help="SVI optimisation steps (default 5000)")
    p.add_argument("--guide", choices=("multivariate_normal", "diagonal_normal", "laplace"),
                   default="multivariate_normal", help="SVI guide (default multivariate_normal)")
    p.add_argument("--no-predictive", action="store_true",
                   help="skip the posterior_predictive group")
    p.add_argument("--predictive-draws", type=_predictive_draws, default="auto", metavar="N|all",
                   help="draws given a simulated posterior predictive (default: at most 100, "
                        "and at most 10^7 numbers; always at least chains + 1 per chain)")
    p.add_argument("--log-likelihood", action="store_true",
                   help="store the pointwise log-likelihood (chains x draws x frames numbers; "
                        "needed for LOO model comparison)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (summary, diagnostics, conventions) on stdout")
    p.add_argument("-o", "--output", metavar="FIT.nc",
                   help="write the fit DataTree to this netCDF file (netcdf4 engine, atomic)")
    p.set_defaults(func=run)


def _list_models(args) -> int:
    from ..inference.registry import list_models

    models = list_models()
    if args.json:
        print_json({"models": [{"name": k, "description": v} for k, v in sorted(models.items())]})
    else:
        width = max(len(k) for k in models)
        for name, desc in sorted(models.items()):
            print(f"{name:<{width}}  {desc}")
    return 0


def _summary_json(tree) -> dict:
    out = {}
    for group in ("posterior", "thermodynamics", "information"):
        if group not in tree.children or group not in tree["diagnostics"].children:
            continue
        ds = tree[f"diagnostics/{group}"].to_dataset()
        entries = {}
        for name in tree[group].data_vars:
            fields = {}
            for stat in ("mean", "sd", "ci_lower", "ci_upper", "ess_bulk", "ess_tail", "r_hat"):
                var = f"{name}_{stat}"
                if var in ds:
                    fields[stat] = ds[var].values
            fields["units"] = tree[group][name].attrs.get("units", "1")
            entries[name] = fields
        out[group] = entries
    return out


def run(args) -> int:
    """Fit and report; returns the exit status."""
    if args.list_models:
        return _list_models(args)
    if not args.data:
        raise InputError("give the DATA file to fit (netCDF or CSV), or --list-models.")
    if not 0 < args.ci_prob < 1:
        raise InputError(f"--ci-prob must be in (0, 1), got {args.ci_prob!r}.")
    if args.method == "svi" and args.draws < SVI_MIN_DRAWS:
        raise InputError(f"--draws must be >= {SVI_MIN_DRAWS} with --method svi, got "
                         f"{args.draws}: the Pareto k-hat check of the guide needs that many "
                         "importance draws (default 1000).")
    if not args.time_units.strip():
        raise InputError("--time-units must name the units of the time column (e.g. s, ms, or "
                         "the default time_unit), got ''.")
    if args.output:  # before any work: a result is never computed only to be lost
        from ..data.io import check_output_path

        check_output_path(args.output, option="-o")
    if args.sampler == "conjugate" and args.method != "nuts":
        raise InputError(f"--sampler conjugate replaces NUTS, so it goes with --method nuts, got "
                         f"--method {args.method}; drop --sampler conjugate or use --method nuts.")
    if args.rule_file:
        from ._memorization_args import load_rule_file

        load_rule_file(args.rule_file)
    from ..data.observations import read_observations
    from ..inference.diagnostics import PoorDiagnosticsWarning
    from ..inference.fit import fit, write_fit
    from ..inference.registry import load_model

    module = load_model(args.model)
    data = read_observations(args.data, module, time_units=args.time_units)  # exit 2 if bad
    progress = wants_progress(args.progress)
    command = shlex.join(["thermoinfer", *sys.argv[1:]]) if sys.argv[1:2] == ["fit"] else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PoorDiagnosticsWarning)
        tree = fit(data, args.model, method=args.method, sampler=args.sampler,
                   chains=args.chains, draws=args.draws,
                   warmup=args.warmup, seed=args.seed, ci_prob=args.ci_prob,
                   temperature=args.temperature, rule=args.rule, options=dict(args.option),
                   svi_steps=args.svi_steps, guide=args.guide,
                   posterior_predictive=False if args.no_predictive else args.predictive_draws,
                   log_likelihood=args.log_likelihood, progress_bar=progress,
                   show=not args.json, command=command)
    poor = [w for w in caught if issubclass(w.category, PoorDiagnosticsWarning)]
    for w in caught:
        if not issubclass(w.category, PoorDiagnosticsWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if args.output:
        write_fit(tree, args.output)
    if args.json:
        d = tree["diagnostics"].attrs
        print_json({
            "model": tree.attrs["model"],
            "method": args.method,
            "sampler": tree.attrs["sampler"],
            "output": args.output,
            "temperature": tree.attrs["temperature"],
            "identifiability": tree.attrs["identifiability"],
            "ci_prob": args.ci_prob,
            "summary": _summary_json(tree),
            "diagnostics": {"ok": not poor, "problems": [] if not poor else
                            str(d.get("problems", "")).split("; "),
                            "n_divergent": d.get("n_divergent"), "pareto_k": d.get("pareto_k")},
            "conventions": {k: tree.attrs[k] for k in (
                "entropy_convention", "heat_convention", "stochastic_calculus", "path_weights",
                "information_unit", "data_protocol", "temperature")},
        })
    else:
        print(f"temperature: {tree.attrs['temperature']} ({tree.attrs['identifiability']})")
        if args.output:
            print(f"wrote {args.output}")
    if poor:
        n = tree["diagnostics"].attrs.get("n_problems", "some")
        print(f"thermoinfer fit: warning: poor diagnostics ({n} problem(s), listed above and in "
              "the diagnostics group's 'problems' attribute); run longer chains before trusting "
              "the numbers.", file=sys.stderr)
    return 0

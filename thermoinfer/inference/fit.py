r"""Fit a model program to measured trajectories: NUTS, SVI or exact conjugate draws → an ArviZ ``DataTree``.

:func:`fit` validates the observations (before any sampling), loads the model program by name
or path (:mod:`thermoinfer.inference.registry`), samples its posterior with numpyro (or, with
``sampler="conjugate"``, draws it exactly from the model's closed form) and returns an
``xarray.DataTree`` with the ArviZ groups

* ``posterior`` (``chain, draw, ...``; units and meaning of every site from the model's
  ``PARAMETERS``), ``sample_stats`` (NUTS: divergences, energy, tree depth, step size; SVI: the
  importance log-weights of the guide's draws; conjugate: the log density ``lp`` of each
  draw), ``log_likelihood`` (only with
  ``log_likelihood=True``: ``obs``, **one term per transition**, dims
  ``chain, draw, replica, time``, the transition $t_i\to t_{i+1}$ labelled by $t_{i+1}$; computed
  after sampling, in chunks of draws), ``observed_data``, ``posterior_predictive`` (paths
  simulated from the observed first points, for a thinned subset of the draws unless asked for
  all), ``constant_data`` (inputs, labels, probes, the conditioned-on first points);
* ``thermodynamics`` and ``information``: derived quantities **per draw** (dims
  ``chain, draw, ...``), computed by the model's ``derived_quantities`` with the same library
  functions as the simulator — the steady entropy-production rate of a ``linear-ou`` system; the
  heat, system-entropy change and entropy production **over the observed window** of a learning
  neuron (batch learning relaxes to equilibrium, so it has no steady rate), its information and
  efficiency $\eta$ under the named entropy convention;
* ``diagnostics``: the ArviZ summary of each of these groups as variables ``<var>_<statistic>``
  (``mean, sd, ci_lower, ci_upper, ess_bulk, ess_tail, r_hat, mcse_mean, mcse_sd``; interval
  probability ``ci_prob`` in the attrs), the number of divergences, E-BFMI, the Pareto $\hat k$ of
  an SVI guide, and the list of problems.

Root attributes: provenance (version, time, command, seed, configuration), the conventions
(``path_weights``, ``entropy_convention``, ...), and ``temperature`` — the number given, or
``"inferred"``: then only $D = \mu T$ is identifiable from trajectories (docs/theory/units.md, eq. (4)–(6)) and the
fitted "temperature" is the diffusion constant.

Parallel chains
---------------
NUTS runs its chains in parallel threads (:mod:`thermoinfer.inference.chains`): one per JAX
device when there are several, else one per CPU core on the single device (a CPU device runs
programs dispatched from several threads at the same time). With one core, or
``chain_method="sequential"``, they run one after another. **The draws are the same either
way**: every chain runs the same compiled program with the same key, whatever the schedule
(recorded as the root attributes ``chain_method`` and ``devices``, outside the configuration).

Memory and cost at scale
------------------------
The samplers of ``linear-ou`` and of the Hebbian ``neuron`` evaluate the exact likelihood from
the data's sufficient statistics (:mod:`thermoinfer.paths.statistics`), so the cost of a
gradient does not grow with the number of frames, and the compiled sampler does not depend on
it either (it is reused in a process for data of any length). Nothing of size
chains × draws × frames is built unless asked: the pointwise log-likelihood is opt-in
(``log_likelihood=True``), the posterior predictive is thinned by default to at most
:data:`PPC_AUTO_DRAWS` draws and :data:`PPC_AUTO_VALUES` numbers.

Exact conjugate draws
---------------------
A model file that defines ``conjugate_posterior(data, key, n_draws)`` (the exact posterior
of a conjugate prior, as independent draws; ``polynomial-drift``) can be fitted with
``sampler="conjugate"``: the ``chains`` × ``draws`` draws are i.i.d. from the exact posterior
(reshaped to ``(chain, draw)``, no warmup, no Markov chain), and the tree is built as for NUTS —
same posterior sites, derived groups, predictive, log-likelihood and diagnostics summary — with
``sample_stats`` holding only ``lp`` (the model's log density at each draw in the sampler's
unconstrained coordinates, NUTS's ``lp``) and the root attributes ``inference_method`` and
``sampler`` set to ``"conjugate"``. It is allowed only when the model's options are those under
which the closed form is exact (the model's ``CONJUGATE_OPTIONS``, e.g. ``prior="conjugate"``).
R-hat and ESS of independent draws need no checking: the diagnostics report them without
gating on them.

Model comparison
----------------
:func:`loo` and :func:`compare_rules` compare models by PSIS-LOO over the pointwise
log-likelihood, one point per transition. For a Markov time series the transitions are
conditionally independent given the previous point, so leaving out one transition estimates
how well a model predicts a **new transition from the observed state** (one step ahead), not
how it forecasts a future stretch of trajectory; neighbouring transitions share their point, so
the estimate of the standard error is optimistic. For forecasting, use leave-future-out
cross-validation (``arviz_stats.lfo_cv``).
"""

from __future__ import annotations

import inspect
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xarray as xr

from ..data.io import read_netcdf, write_netcdf
from ..data.observations import read_observations, validate_observations
from ..data.schema import DIMS, REQUIRED_ROOT_ATTRS, conventions_attrs, provenance, units_attrs
from ..errors import InputError, check_choice, check_finite, check_int, check_positive, check_seed
from .chains import NoStartingPoint
from .diagnostics import PoorDiagnosticsWarning, diagnose, pareto_khat
from .registry import load_model

__all__ = ["fit", "loo", "compare_rules", "RuleComparison", "read_fit", "validate_fit",
           "write_fit", "FIT_DIMS", "METHODS", "GUIDES", "EXTRA_FIELDS", "PoorDiagnosticsWarning",
           "prepare", "Prepared", "SVI_MIN_DRAWS", "PPC_AUTO_DRAWS", "PPC_AUTO_VALUES",
           "SAMPLERS"]

METHODS = ("nuts", "svi")
#: samplers of ``method="nuts"``: NUTS, or independent draws of a model's exact conjugate posterior
SAMPLERS = ("nuts", "conjugate")
#: variational families for ``method="svi"`` (numpyro autoguides)
GUIDES = ("multivariate_normal", "diagonal_normal", "laplace")
#: per-draw NUTS fields collected for ``sample_stats``
EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "adapt_state.step_size",
                "potential_energy")
#: dims allowed in a fit result: the data model's, plus the columns of matrix sites
#: (``component_j``) and ArviZ's ``<site>_dim_<i>`` for dims a model does not name
FIT_DIMS = (*DIMS, "component_j", "weight_j", "component_pair")

_STAT_UNITS = {"lp": "nat", "energy": "nat"}
#: fewest guide draws of an SVI fit (its Pareto k-hat needs them)
SVI_MIN_DRAWS = 100
#: most draws (all chains) of the default, thinned posterior predictive
PPC_AUTO_DRAWS = 100
#: most numbers in the default, thinned posterior predictive (80 MB of float64)
PPC_AUTO_VALUES = 10_000_000
#: numbers per chunk of draws when the pointwise log-likelihood is computed
_LOGLIK_CHUNK_VALUES = 1 << 22


# ---------------------------------------------------------------------------------------------
# data and model


class Prepared(NamedTuple):
    """Everything a sampler needs, from :func:`prepare`."""

    module: object
    dataset: xr.Dataset
    times: np.ndarray
    observations: np.ndarray
    kwargs: dict
    """model keyword arguments (without ``times`` and ``observations``)"""


def prepare(data, model="linear-ou", *, temperature=None, rule=None, options=None) -> Prepared:
    """Load the model, read and validate the data, and build the model's keyword arguments.

    Parameters
    ----------
    data : str, os.PathLike, xarray.Dataset or xarray.DataTree
        Observations: a netCDF or CSV file, or a dataset in the schema of
        :mod:`thermoinfer.data.observations`.
    model : str or os.PathLike
        Built-in model name or the path of a model file.
    temperature : float or "inferred", optional
        A known temperature (overrides the dataset's), or ``"inferred"``.
    rule : str, optional
        Learning rule of a neuron model.
    options : dict, optional
        Further options of the model's ``data_from_dataset`` (prior hyperparameters, ...).

    Raises
    ------
    InputError
        Bad data or options, before any sampling.
    """
    module = load_model(model)
    if isinstance(data, (str, os.PathLike)):
        ds = read_observations(data, module)
    else:
        ds = validate_observations(data, module, source="data")
    opts = dict(options or {})
    if temperature is not None:
        if not (isinstance(temperature, str) and temperature == "inferred"):
            temperature = check_positive("temperature", temperature,
                                         "Give the known bath temperature (energy units, k_B = 1) "
                                         "or 'inferred'.")
        opts["temperature"] = temperature
    if rule is not None:
        opts["rule"] = rule
    try:
        kwargs = dict(module.data_from_dataset(ds, **opts))
    except (TypeError, ValueError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(f"model {module.NAME!r} could not use the data or the options "
                         f"{sorted(opts)}: {type(err).__name__}: {err}") from err
    times = np.asarray(kwargs.pop("times", ds["time"].values), dtype=float)
    observations = np.asarray(kwargs.pop("observations", ds["observations"].values), dtype=float)
    return Prepared(module, ds, times, observations, kwargs)


def _trace_shapes(module, times, observations, kwargs, draw):
    """Shapes of every site of one draw, and of the observed site ``obs``."""
    import jax
    from numpyro import handlers

    model = handlers.substitute(handlers.seed(module.model, jax.random.key(0)), data=draw)
    observed = []

    def values():
        # shapes only (jax.eval_shape): the per-transition density is not evaluated
        tr = handlers.trace(model).get_trace(times, observations=observations,
                                             **_per_transition(kwargs))
        observed.append("obs" in tr and tr["obs"]["is_observed"])
        return {name: site["value"] for name, site in tr.items()
                if site["type"] in ("sample", "deterministic")}

    shapes = jax.eval_shape(values)
    if not observed[0]:
        raise InputError(f"model {module.NAME!r} has no observed site 'obs'; a model program "
                         "must observe the trajectories as numpyro.sample('obs', ..., obs=...).")
    return {name: tuple(v.shape) for name, v in shapes.items()}


def _site_dims(module, shapes, obs_dim, sizes):
    """Dims of every site: the model's ``DIMS`` (``{site: dims}``) if it declares them, else by
    shape — ``(replica, time, X)``, ``(replica, X)``, ``(X,)`` and square ``(X, X_j)`` with ``X``
    the observed or the weight dim; other dims keep ArviZ's ``<site>_dim_<i>`` names."""
    declared = dict(getattr(module, "DIMS", {}) or {})
    n_rep, n_time, n_obs = sizes["replica"], sizes["obs_time"], sizes[obs_dim]
    n_weight = sizes.get("weight")

    def name_of(n):
        if n == n_obs:
            return obs_dim
        if n_weight is not None and n == n_weight:
            return "weight"
        return None

    dims = {}
    for site, shape in shapes.items():
        if site == "obs":
            dims[site] = ["replica", "time", obs_dim][: len(shape)]
            continue
        if site in declared:
            dims[site] = list(declared[site])
            continue
        guess = None
        if len(shape) == 3 and shape[0] == n_rep and shape[1] == n_time:
            inner = name_of(shape[2])
            guess = ["replica", "time", inner] if inner else None
        elif len(shape) == 2 and shape[0] == n_rep and name_of(shape[1]) and shape[0] != shape[1]:
            guess = ["replica", name_of(shape[1])]
        elif len(shape) == 2 and shape[0] == shape[1] and name_of(shape[0]):
            guess = [name_of(shape[0]), f"{name_of(shape[0])}_j"]
        elif len(shape) == 1 and name_of(shape[0]):
            guess = [name_of(shape[0])]
        if guess is not None:
            dims[site] = guess
    return dims


# ---------------------------------------------------------------------------------------------
# the fit


def _prefetch_diagnostics() -> None:
    """Import ArviZ's statistics (seconds of imports) in a thread while the sampler compiles and
    runs: the diagnostics after sampling then start at once."""
    if "arviz_stats" in sys.modules:
        return
    import importlib
    import threading

    threading.Thread(target=importlib.import_module, args=("arviz_stats",), daemon=True,
                     name="thermoinfer-prefetch").start()


def fit(data, model="linear-ou", *, method: str = "nuts", sampler: str = "nuts", chains: int = 4,
        draws: int = 1000, warmup: int = 1000, seed: int = 0, ci_prob: float = 0.94,
        temperature=None, rule=None,
        options: dict | None = None, chain_method: str | None = None,
        target_accept: float = 0.8, max_tree_depth: int = 10, svi_steps: int = 5000,
        svi_step_size: float = 0.01, guide: str = "multivariate_normal",
        posterior_predictive: bool | int | str = "auto", log_likelihood: bool = False,
        progress_bar: bool = False, show: bool = False,
        command: str | None = None) -> xr.DataTree:
    r"""Fit a model to observed trajectories; posterior of the parameters and of the thermodynamics.

    Parameters
    ----------
    data : str, os.PathLike, xarray.Dataset or xarray.DataTree
        Observations (netCDF or CSV file, or dataset), schema of
        :mod:`thermoinfer.data.observations`; validated before any sampling.
    model : str or os.PathLike
        ``"linear-ou"``, ``"neuron"``, ``"neuron-readout"`` (see
        :func:`thermoinfer.inference.registry.list_models`) or the path of a model file.
    method : {"nuts", "svi"}
        NUTS (``chains`` × ``draws`` after ``warmup``) or stochastic variational inference
        (``svi_steps`` of Adam on the ELBO, then ``draws`` independent draws of the guide).
    sampler : {"nuts", "conjugate"}
        With ``method="nuts"``: NUTS, or ``"conjugate"``: ``chains`` × ``draws`` independent
        draws of the exact posterior from the model's ``conjugate_posterior`` (module
        docstring; only for a model that defines it, with the options of its
        ``CONJUGATE_OPTIONS``, e.g. ``options={"prior": "conjugate"}`` for
        ``polynomial-drift``). ``warmup``, ``chain_method``, ``target_accept`` and
        ``max_tree_depth`` are then unused.
    chains, draws, warmup : int
        NUTS chains, kept draws per chain, warmup (adaptation) steps per chain.
    seed : int
        PRNG seed (same seed, same numbers).
    ci_prob : float
        Probability of the equal-tailed credible intervals of the stored and printed summaries.
    temperature : float or "inferred", optional
        Known bath temperature $T$ (energy units, $k_B = 1$), overriding the data's; ``None``:
        the data's, else inferred (only $D = \mu T$ is then identifiable).
    rule : str, optional
        Learning rule of a neuron model (``"hebbian"``, ``"perceptron"``, ``"adatron"``, a user
        rule).
    options : dict, optional
        Further model options (prior hyperparameters; see the model's ``data_from_dataset``).
    chain_method : {"parallel", "sequential"}, optional
        Default: parallel (threads) when there is more than one device or CPU core (module
        docstring), else sequential. The draws do not depend on it.
    target_accept, max_tree_depth : float, int
        NUTS settings.
    svi_steps, svi_step_size, guide
        SVI settings; ``guide`` one of :data:`GUIDES`.
    posterior_predictive : bool, int or "auto"
        Simulate the ``posterior_predictive`` group: ``True`` one path set per draw, an integer
        that many draws (evenly thinned, all chains together), ``"auto"`` at most
        :data:`PPC_AUTO_DRAWS` draws and :data:`PPC_AUTO_VALUES` numbers, ``False`` none. Every
        chain gets at least ``chains + 1`` draws (when it has them), so that ArviZ can tell
        the ``draw`` dim from the ``chain`` dim: at very large data this exceeds the
        :data:`PPC_AUTO_VALUES` budget, up to ``chains`` × (``chains`` + 1) path sets.
    log_likelihood : bool
        Store the pointwise log-likelihood (one term per transition and draw: chains × draws ×
        frames numbers), needed by :func:`loo`; computed after sampling, in chunks.
    progress_bar : bool
        numpyro's progress bar.
    show : bool
        Print the diagnostics summary.
    command : str, optional
        Recorded as the ``command`` root attribute (default: the Python call).

    Returns
    -------
    xarray.DataTree
        Groups ``posterior``, ``sample_stats``, ``log_likelihood`` (if asked),
        ``observed_data``, ``posterior_predictive`` (unless ``False``), ``constant_data``, ``thermodynamics``, ``information`` (when the
        model reports it) and ``diagnostics`` (module docstring).

    Raises
    ------
    InputError
        Bad data or options (before any sampling); ``sampler="conjugate"`` with ``method="svi"``,
        with a model without ``conjugate_posterior`` or with options other than its
        ``CONJUGATE_OPTIONS``.

    Warns
    -----
    PoorDiagnosticsWarning
        R-hat, ESS, divergences, E-BFMI or the Pareto $\hat k$ of the guide beyond
        :data:`thermoinfer.inference.diagnostics.THRESHOLDS`.

    Examples
    --------
    >>> import numpy as np
    >>> from thermoinfer.data.observations import simulate_linear_ou
    >>> ds = simulate_linear_ou([[-1.0, -0.5], [0.5, -1.0]], 1.0, np.linspace(0, 20, 201),
    ...                         n_replicas=2, seed=1)
    >>> tree = fit(ds, "linear-ou", chains=2, draws=300, warmup=300)  # doctest: +SKIP
    >>> tree["thermodynamics"]["entropy_production_rate"].mean().item()  # doctest: +SKIP
    0.5...
    """
    check_choice("method", method, METHODS)
    check_choice("sampler", sampler, SAMPLERS)
    if sampler == "conjugate" and method != "nuts":
        raise InputError(f"sampler 'conjugate' replaces NUTS, so it goes with method 'nuts', got "
                         f"method {method!r}; drop sampler='conjugate' (CLI --sampler) or use "
                         "method='nuts'.")
    check_choice("guide", guide, GUIDES)
    chains, draws, warmup, svi_steps, max_tree_depth = (
        check_int(name, value, minimum=low) for name, value, low in (
            ("chains", chains, 1), ("draws", draws, 4), ("warmup", warmup, 0),
            ("svi_steps", svi_steps, 1), ("max_tree_depth", max_tree_depth, 1)))
    seed = check_seed("seed", seed)
    ci_prob = check_finite("ci_prob", ci_prob)
    target_accept = check_finite("target_accept", target_accept)
    if method == "svi" and draws < SVI_MIN_DRAWS:
        raise InputError(f"draws must be >= {SVI_MIN_DRAWS} with method 'svi', got {draws!r}: the "
                         "Pareto k-hat check of the guide needs that many importance draws "
                         "(default 1000).")
    if not 0 < float(ci_prob) < 1:
        raise InputError(f"ci_prob must be in (0, 1), got {ci_prob!r}.")
    if not 0 < float(target_accept) < 1:
        raise InputError(f"target_accept must be in (0, 1), got {target_accept!r}.")
    check_positive("svi_step_size", svi_step_size)
    if chain_method is not None:
        check_choice("chain_method", chain_method, ("parallel", "sequential"))
    posterior_predictive = _check_ppc(posterior_predictive)
    log_likelihood = bool(log_likelihood)
    prep = prepare(data, model, temperature=temperature, rule=rule, options=options)
    if sampler == "conjugate":
        _check_conjugate(prep)

    import jax

    from ..compilation_cache import enable_compilation_cache

    enable_compilation_cache()
    _prefetch_diagnostics()

    config = dict(model=prep.module.NAME, method=method, seed=int(seed), ci_prob=float(ci_prob),
                  temperature=temperature, rule=rule, options=options or {},
                  source=str(data) if isinstance(data, (str, os.PathLike)) else "dataset")
    with jax.enable_x64(True):
        if sampler == "conjugate":
            config.update(sampler="conjugate", chains=int(chains), draws=int(draws))
            tree, extra = _run_conjugate(prep, chains=int(chains), draws=int(draws),
                                         seed=int(seed),
                                         posterior_predictive=posterior_predictive,
                                         log_likelihood=log_likelihood)
        elif method == "nuts":
            # the schedule is not part of the configuration: it does not change the draws
            config.update(chains=int(chains), draws=int(draws), warmup=int(warmup),
                          target_accept=float(target_accept),
                          max_tree_depth=int(max_tree_depth))
            tree, extra = _run_nuts(prep, chains=int(chains), draws=int(draws),
                                    warmup=int(warmup), seed=int(seed), chain_method=chain_method,
                                    target_accept=float(target_accept),
                                    max_tree_depth=int(max_tree_depth),
                                    posterior_predictive=posterior_predictive,
                                    log_likelihood=log_likelihood,
                                    progress_bar=progress_bar)
        else:
            config.update(draws=int(draws), svi_steps=int(svi_steps),
                          svi_step_size=float(svi_step_size), guide=guide)
            try:
                tree, extra = _run_svi(prep, draws=int(draws), seed=int(seed),
                                       steps=int(svi_steps), step_size=float(svi_step_size),
                                       guide=guide, posterior_predictive=posterior_predictive,
                                       log_likelihood=log_likelihood,
                                       progress_bar=progress_bar)
            except RuntimeError as err:
                if "valid initial parameters" not in str(err):
                    raise
                raise NoStartingPoint() from None
        tree = _to_numpy(tree)
        _add_derived(tree, prep)
    _finish_attrs(tree, prep, config, seed=int(seed), command=command, extra=extra)
    kind = "conjugate" if sampler == "conjugate" else method
    diag = diagnose(tree, ci_prob=float(ci_prob), method=kind,
                    max_tree_depth=int(max_tree_depth) if kind == "nuts" else None,
                    pareto_k=extra.get("pareto_k"))
    dnode = diag.tree
    if method == "svi":
        dnode.attrs.update(extra["svi_attrs"])
    tree["diagnostics"] = dnode
    tree.attrs["diagnostics_ok"] = int(not diag.problems)
    if show:
        print(diag.text)
    if diag.problems:
        warnings.warn(PoorDiagnosticsWarning(
            f"fit of model {prep.module.NAME!r} ({kind}): " + "; ".join(diag.problems)),
            stacklevel=2)
    return tree


def _coords(prep, shapes):
    ds = prep.dataset
    obs_dim = ds["observations"].dims[2]
    n_obs = shapes["obs"]
    times = prep.times
    obs_times = times[1:] if len(n_obs) >= 2 and n_obs[1] == times.shape[0] - 1 else times
    labels = ds[obs_dim].values if obs_dim in ds.coords else np.arange(ds.sizes[obs_dim])
    coords = {"replica": ds["replica"].values if "replica" in ds.coords
              else np.arange(ds.sizes["replica"]),
              "time": obs_times, obs_dim: labels, f"{obs_dim}_j": labels}
    sizes = {"replica": ds.sizes["replica"], "obs_time": obs_times.shape[0],
             obs_dim: ds.sizes[obs_dim]}
    inputs = prep.kwargs.get("inputs")
    if inputs is not None and np.ndim(inputs) == 2:
        sizes["weight"] = int(np.shape(inputs)[-1])
        coords.setdefault("weight", np.arange(sizes["weight"]))
        coords.setdefault("weight_j", np.arange(sizes["weight"]))
    return obs_dim, coords, sizes


def _per_transition(kwargs):
    """Model keyword arguments that observe the transitions one by one (site ``obs``), not
    through sufficient statistics."""
    kw = dict(kwargs)
    if kw.get("statistics") is not None:
        kw["statistics"] = None
    return kw


def _sampling_inputs(prep):
    """``(times, kwargs)`` of the sampler: with sufficient statistics the data themselves stay
    out of the compiled program (which then does not depend on their length)."""
    if prep.kwargs.get("statistics") is not None:
        return None, dict(prep.kwargs, observations=None)
    return prep.times, dict(observations=prep.observations, **prep.kwargs)


def _check_ppc(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "auto":
        return value
    if isinstance(value, (int, np.integer)) and value >= 0:
        return int(value)
    raise InputError(f"posterior_predictive must be True, False, 'auto' or a number of draws "
                     f">= 0, got {value!r}.")


def _ppc_draws(spec, chains, draws, values_per_draw):
    """Indices (within each chain) of the draws given a posterior predictive, or ``None``.

    ``n`` draws in all (``True``: every draw; ``"auto"``: at most :data:`PPC_AUTO_DRAWS` and
    :data:`PPC_AUTO_VALUES` numbers, at least one per chain; an integer: that many), evenly
    spaced in each chain, ``min(draws, max(chains + 1, n // chains))`` per chain.
    """
    if spec is False or spec == 0:
        return None
    if spec is True:
        n = chains * draws
    elif spec == "auto":
        n = min(chains * draws, PPC_AUTO_DRAWS,
                max(chains, PPC_AUTO_VALUES // max(int(values_per_draw), 1)))
    else:
        n = int(spec)
    # at least chains + 1 per chain: ArviZ takes a draw dim shorter than the chain dim for a
    # mislabelled array (and warns)
    per_chain = min(draws, max(chains + 1, n // chains))
    return np.unique(np.linspace(0, draws - 1, per_chain).round().astype(int))


def _pointwise_log_likelihood(prep, flat, n_total):
    """The ``obs`` log-likelihood of every draw and transition, computed in chunks of draws."""
    from numpyro.infer import log_likelihood

    kw = _per_transition(prep.kwargs)
    per_draw = max(1, int(np.prod(prep.observations.shape[:2])))
    step = max(1, _LOGLIK_CHUNK_VALUES // per_draw)
    out = None
    for a in range(0, n_total, step):
        part = {k: v[a:a + step] for k, v in flat.items()}
        ll = np.asarray(log_likelihood(prep.module.model, part, prep.times,
                                       observations=prep.observations, **kw)["obs"])
        if out is None:
            out = np.empty((n_total,) + ll.shape[1:])
        out[a:a + ll.shape[0]] = ll
    return out


def _ppc_group(prep, samples, idx, key, chains, dims, coords):
    """The ``posterior_predictive`` node for draws ``idx`` of every chain."""
    import arviz_base as azb

    sub = {k: np.asarray(v)[:, idx].reshape((chains * idx.shape[0],) + np.shape(v)[2:])
           for k, v in samples.items()}
    ppc = _predict(prep, sub, key, chains * idx.shape[0])["obs"]
    arr = ppc.reshape((chains, idx.shape[0]) + ppc.shape[1:])
    node = azb.from_dict({"posterior_predictive": {"obs": arr}}, dims={"obs": dims["obs"]},
                         coords={**_used_coords(coords, {"obs": dims["obs"]}), "draw": idx})
    node = node["posterior_predictive"]
    node.attrs["draws_simulated"] = int(chains * idx.shape[0])
    return node


def _model_kwargs_with_initial(prep):
    """Keyword arguments for prediction: condition on the observed first points if possible."""
    params = inspect.signature(prep.module.model).parameters
    accepts = "initial" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
    kw = _per_transition(prep.kwargs)
    if accepts and "initial" not in kw:
        kw["initial"] = prep.observations[:, 0]
    return kw


def _predict(prep, samples, key, n_total):
    from numpyro.infer import Predictive

    kw = _model_kwargs_with_initial(prep)
    pred = Predictive(prep.module.model, posterior_samples=samples, return_sites=["obs"],
                      batch_ndims=1)
    out = pred(key, prep.times, observations=None, **kw)
    return {"obs": np.asarray(out["obs"]).reshape((n_total,) + np.shape(out["obs"])[1:])}


def _run_nuts(prep, *, chains, draws, warmup, seed, chain_method, target_accept, max_tree_depth,
              posterior_predictive, log_likelihood, progress_bar):
    import arviz_base as azb
    import jax

    from .chains import run_chains

    key_run, key_pred = jax.random.split(jax.random.key(seed))
    times, kwargs = _sampling_inputs(prep)
    t0 = time.perf_counter()
    with _chain_progress(progress_bar, chains, warmup, draws) as advance:
        res = run_chains(prep.module.model, times, kwargs, key=key_run, chains=chains,
                         warmup=warmup, draws=draws, target_accept=target_accept,
                         max_tree_depth=max_tree_depth, chain_method=chain_method,
                         progress=advance,
                         static_names=getattr(prep.module, "STATIC_KWARGS", ()),
                         init_values=_initial_values(prep.module, kwargs))
    elapsed = time.perf_counter() - t0
    flat = {k: v.reshape((chains * draws,) + v.shape[2:]) for k, v in res.samples.items()}
    first = {k: v[0] for k, v in flat.items()}
    shapes = _trace_shapes(prep.module, prep.times, prep.observations, prep.kwargs, first)
    obs_dim, coords, sizes = _coords(prep, shapes)
    dims = _site_dims(prep.module, shapes, obs_dim, sizes)
    st = res.stats
    n_steps = st["num_steps"]
    tree_depth = np.log2(np.maximum(n_steps, 1)).astype(int) + 1
    obs_value = prep.observations[:, 1:] if shapes["obs"][1] == prep.times.shape[0] - 1 \
        else prep.observations
    post, dims = _summarisable(prep, res.samples, dims, coords)
    groups = {
        "posterior": post,
        "sample_stats": {"diverging": st["diverging"], "energy": st["energy"],
                         "n_steps": n_steps, "tree_depth": tree_depth,
                         "reached_max_tree_depth": tree_depth >= max_tree_depth,
                         "acceptance_rate": st["accept_prob"], "step_size": st["step_size"],
                         "lp": -st["potential_energy"]},
        "observed_data": {"obs": obs_value},
    }
    if log_likelihood:
        loglik = _pointwise_log_likelihood(prep, flat, chains * draws)
        groups["log_likelihood"] = {"obs": loglik.reshape((chains, draws) + loglik.shape[1:])}
    tree = azb.from_dict(groups, dims=dims, coords=_used_coords(coords, dims))
    idx = _ppc_draws(posterior_predictive, chains, draws, obs_value.size)
    if idx is not None:
        tree["posterior_predictive"] = _ppc_group(prep, res.samples, idx, key_pred, chains, dims,
                                                  coords)
    extra = {"sampling_time_s": elapsed, "chain_method": res.chain_method,
             "devices": res.devices}
    return tree, extra


def _initial_values(module, kwargs) -> dict | None:
    """A model module's data-based starting point (``initial_values(**kwargs)``), if it has one."""
    fn = getattr(module, "initial_values", None)
    return None if fn is None else fn(**kwargs)


def _check_conjugate(prep) -> None:
    """``sampler="conjugate"`` needs the model's ``conjugate_posterior`` and the options under
    which it is exact (``CONJUGATE_OPTIONS``)."""
    module = prep.module
    if not callable(getattr(module, "conjugate_posterior", None)):
        raise InputError(f"sampler 'conjugate' needs a model with an exact conjugate posterior (a "
                         f"function conjugate_posterior in its model file); model "
                         f"{module.NAME!r} has none: use sampler='nuts' (CLI --sampler nuts).")
    for key, want in dict(getattr(module, "CONJUGATE_OPTIONS", {}) or {}).items():
        got = prep.kwargs.get(key)
        if got != want:
            raise InputError(f"sampler 'conjugate' draws the exact posterior of model "
                             f"{module.NAME!r} only with {key}={want!r}, got {key}={got!r}: give "
                             f"options={{{key!r}: {want!r}}} (CLI --option {key}={want}), or "
                             "use sampler='nuts'.")


def _posterior_site_names(prep, draw):
    """``(latent, deterministic)`` site names of the model program (as the sampler runs it)."""
    import jax
    from numpyro import handlers

    times, kwargs = _sampling_inputs(prep)
    tr = handlers.trace(handlers.substitute(handlers.seed(prep.module.model, jax.random.key(0)),
                                            data=draw)).get_trace(times, **kwargs)
    latent = [n for n, site in tr.items() if site["type"] == "sample" and not site["is_observed"]]
    return latent, [n for n, site in tr.items() if site["type"] == "deterministic"]


def _conjugate_log_density(prep, samples, latent, n_total):
    """NUTS's ``lp`` of each draw: minus the potential energy (log joint density in the
    unconstrained coordinates of the sampled sites, Jacobians included)."""
    import jax
    from numpyro.infer.util import potential_energy, unconstrain_fn

    times, kwargs = _sampling_inputs(prep)
    model = prep.module.model
    args = (times,)

    def lp(params):
        u = unconstrain_fn(model, args, kwargs, params)
        return -potential_energy(model, args, kwargs, u)

    fn = jax.jit(jax.vmap(lp))
    out = np.empty(n_total)
    step = 1000
    for a in range(0, n_total, step):
        out[a:a + step] = np.asarray(fn({k: samples[k][a:a + step] for k in latent}))
    return out


def _run_conjugate(prep, *, chains, draws, seed, posterior_predictive, log_likelihood):
    """Independent draws of the model's exact posterior (``conjugate_posterior``), laid out and
    completed as :func:`_run_nuts` does."""
    import arviz_base as azb
    import jax

    key_run, key_pred = jax.random.split(jax.random.key(seed))
    n_total = chains * draws
    data = dict(times=prep.times, observations=prep.observations, **prep.kwargs)
    t0 = time.perf_counter()
    drawn = prep.module.conjugate_posterior(data, key_run, n_total)
    elapsed = time.perf_counter() - t0
    flat = {k: np.asarray(v) for k, v in drawn.items()}
    first = {k: v[0] for k, v in flat.items()}
    shapes = _trace_shapes(prep.module, prep.times, prep.observations, prep.kwargs, first)
    latent, determ = _posterior_site_names(prep, first)
    missing = sorted(n for n in (*latent, *determ) if n not in flat)
    if missing:
        raise RuntimeError(f"model {prep.module.NAME!r}: conjugate_posterior returned no draws "
                           f"of the site(s) {missing}.")
    flat = {k: v for k, v in flat.items() if k in latent or k in determ}
    bad = sorted(k for k, v in flat.items() if v.shape != (n_total, *shapes[k]))
    if bad:
        raise RuntimeError(f"model {prep.module.NAME!r}: conjugate_posterior returned draws of "
                           f"the wrong shape for {bad}.")
    samples = {k: v.reshape((chains, draws) + v.shape[1:]) for k, v in flat.items()}
    lp = _conjugate_log_density(prep, flat, latent, n_total)
    obs_dim, coords, sizes = _coords(prep, shapes)
    dims = _site_dims(prep.module, shapes, obs_dim, sizes)
    obs_value = prep.observations[:, 1:] if shapes["obs"][1] == prep.times.shape[0] - 1 \
        else prep.observations
    post, dims = _summarisable(prep, samples, dims, coords)
    groups = {
        "posterior": post,
        "sample_stats": {"lp": lp.reshape(chains, draws)},
        "observed_data": {"obs": obs_value},
    }
    if log_likelihood:
        loglik = _pointwise_log_likelihood(prep, flat, n_total)
        groups["log_likelihood"] = {"obs": loglik.reshape((chains, draws) + loglik.shape[1:])}
    tree = azb.from_dict(groups, dims=dims, coords=_used_coords(coords, dims))
    idx = _ppc_draws(posterior_predictive, chains, draws, obs_value.size)
    if idx is not None:
        tree["posterior_predictive"] = _ppc_group(prep, samples, idx, key_pred, chains, dims,
                                                  coords)
    return tree, {"sampling_time_s": elapsed}


class _chain_progress:
    """A progress bar per chain (rich, on stderr, with an ETA), or nothing; yields
    ``advance(chain, steps)`` or ``None``."""

    def __init__(self, enabled, chains, warmup, draws):
        self.enabled, self.chains, self.total = bool(enabled), int(chains), warmup + draws
        self.warmup = int(warmup)
        self._progress = None

    def __enter__(self):
        if not self.enabled:
            return None
        from ..progress import make_progress

        self._progress = make_progress()
        self._progress.start()
        tasks = [self._progress.add_task(f"chain {c} (compiling, warmup)", total=self.total)
                 for c in range(self.chains)]
        done = [0] * self.chains

        def advance(chain, steps):
            done[chain] += steps
            phase = "warmup" if done[chain] < self.warmup else "sampling"
            self._progress.update(tasks[chain], advance=steps,
                                  description=f"chain {chain} ({phase})")

        return advance

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False


def _to_numpy(tree: xr.DataTree) -> xr.DataTree:
    """Every variable as a NumPy array (numpyro hands over JAX arrays; compared later outside
    x64 they would be truncated to float32). The groups' ``created_at`` stamps are dropped: the
    root's provenance records the creation time, and a group depends only on the seed and the
    configuration."""
    out = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        ds = ds.copy(data={k: np.asarray(v.values) for k, v in ds.data_vars.items()})
        ds.attrs.pop("created_at", None)
        # CF: index coordinates and integer statistics as int32 (values are small counts)
        for name in list(ds.variables):
            v = ds[name]
            if v.dtype == np.int64 and (v.size == 0 or np.abs(v.values).max() < 2**31 - 1):
                if name in ds.indexes:
                    ds = ds.assign_coords({name: (v.dims, v.values.astype(np.int32), v.attrs)})
                else:
                    ds[name] = v.astype(np.int32)
        for name in list(ds.coords):
            if name in ds.indexes:
                continue
            ds = ds.assign_coords({name: (ds[name].dims, np.asarray(ds[name].values),
                                          ds[name].attrs)})
        out[node.path] = ds
    return xr.DataTree.from_dict(out)


def _summarisable(prep, samples, dims, coords):
    """Posterior variables a summary can read: a model's correlation Cholesky factors
    (``CORRELATION_SITES``: constant zeros above and a 1 on the first diagonal entry, NaN R-hat)
    become the correlation coefficients $\rho_{ij}$, $i > j$, and every strictly-lower-triangle
    vector (``PAIR_SITES`` and those) gets the dim ``component_pair`` with labels ``"xi:xj"``."""
    module = prep.module
    corr = tuple(getattr(module, "CORRELATION_SITES", ()))
    pairs = tuple(getattr(module, "PAIR_SITES", ()))
    if not corr and not pairs:
        return samples, dims
    obs_dim = prep.dataset["observations"].dims[2]
    labels = [str(v) for v in coords.get(obs_dim, [])]
    d = len(labels)
    rows, cols = np.tril_indices(d, -1)
    out, dims = dict(samples), dict(dims)
    for name in corr:
        if name in out:
            L = np.asarray(out[name])
            R = np.einsum("...ik,...jk->...ij", L, L)
            out[name] = R[..., rows, cols]
    for name in (*corr, *pairs):
        if name in out:
            dims[name] = ["component_pair"]
    coords["component_pair"] = np.array([f"{labels[i]}:{labels[j]}"
                                         for i, j in zip(rows, cols, strict=True)])
    return out, dims


def _used_coords(coords, dims):
    used = {d for ds in dims.values() for d in ds}
    return {k: v for k, v in coords.items() if k in used}


_GUIDE_CLASSES = {"multivariate_normal": "AutoMultivariateNormal",
                  "diagonal_normal": "AutoDiagonalNormal", "laplace": "AutoLaplaceApproximation"}


def _run_svi(prep, *, draws, seed, steps, step_size, guide, posterior_predictive, log_likelihood,
             progress_bar):
    import arviz_base as azb
    import jax
    import numpyro.infer.autoguide as autoguide
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.util import initialize_model
    from numpyro.optim import Adam

    key_fit, key_draw, key_pred, key_init = jax.random.split(jax.random.key(seed), 4)
    model = prep.module.model
    g = getattr(autoguide, _GUIDE_CLASSES[guide])(model)
    svi = SVI(model, g, Adam(step_size), Trace_ELBO())
    t0 = time.perf_counter()
    res = svi.run(key_fit, steps, prep.times, observations=prep.observations,
                  progress_bar=progress_bar, stable_update=True, **prep.kwargs)
    losses = np.asarray(res.losses, dtype=float)
    posterior = g.get_posterior(res.params)
    z = posterior.sample(key_draw, (draws,))
    log_q = np.asarray(posterior.log_prob(z), dtype=float)
    info = initialize_model(key_init, model, model_args=(prep.times,),
                            model_kwargs=dict(observations=prep.observations, **prep.kwargs))
    unpacked = jax.vmap(g._unpack_latent)(z)
    log_p = -np.asarray(jax.vmap(info.potential_fn)(unpacked), dtype=float)
    samples = jax.vmap(info.postprocess_fn)(unpacked)
    jax.block_until_ready(samples)
    elapsed = time.perf_counter() - t0
    log_w = np.where(np.isfinite(log_p), log_p - log_q, -np.inf)
    khat = pareto_khat(log_w)
    samples = {k: np.asarray(v) for k, v in samples.items()}
    first = {k: v[0] for k, v in samples.items()}
    shapes = _trace_shapes(prep.module, prep.times, prep.observations, prep.kwargs, first)
    obs_dim, coords, sizes = _coords(prep, shapes)
    dims = _site_dims(prep.module, shapes, obs_dim, sizes)
    lw_norm = log_w - _logsumexp(log_w)

    def chain(x):
        return np.asarray(x)[None]

    obs_value = prep.observations[:, 1:] if shapes["obs"][1] == prep.times.shape[0] - 1 \
        else prep.observations
    post, dims = _summarisable(prep, {k: chain(v) for k, v in samples.items()}, dims, coords)
    groups = {
        "posterior": post,
        "sample_stats": {"lp": chain(log_p), "log_importance_weight": chain(lw_norm),
                         "guide_log_prob": chain(log_q)},
        "observed_data": {"obs": obs_value},
    }
    if log_likelihood:
        groups["log_likelihood"] = {"obs": chain(_pointwise_log_likelihood(prep, samples, draws))}
    tree = azb.from_dict(groups, dims=dims, coords=_used_coords(coords, dims))
    idx = _ppc_draws(posterior_predictive, 1, draws, obs_value.size)
    if idx is not None:
        tree["posterior_predictive"] = _ppc_group(
            prep, {k: v[None] for k, v in samples.items()}, idx, key_pred, 1, dims, coords)
    stride = max(1, losses.shape[0] // 2000)
    svi_attrs = {"elbo_loss_trace": losses[::stride], "elbo_loss_trace_stride": int(stride),
                 "elbo_final": float(-np.mean(losses[-max(1, losses.shape[0] // 20):])),
                 "guide": guide, "svi_steps": int(steps), "pareto_k": khat}
    extra = {"sampling_time_s": elapsed, "pareto_k": khat, "svi_attrs": svi_attrs}
    return tree, extra


def _logsumexp(x):
    m = np.max(x)
    return m + math.log(np.sum(np.exp(x - m))) if np.isfinite(m) else m


# ---------------------------------------------------------------------------------------------
# groups and attributes


def _add_derived(tree, prep):
    """``thermodynamics`` and ``information`` per draw, units on every variable, constant data."""
    post = tree["posterior"].to_dataset()
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    flat = {name: np.asarray(post[name].values).reshape((n_chain * n_draw,)
                                                        + post[name].shape[2:])
            for name in post.data_vars}
    data = dict(times=prep.times, observations=prep.observations, **prep.kwargs)
    derived = prep.module.derived_quantities(flat, data) or {}
    ds = prep.dataset
    coord_src = {"replica": ds["replica"].values if "replica" in ds.coords
                 else np.arange(ds.sizes["replica"])}
    base = {"chain": post["chain"].values, "draw": post["draw"].values}
    for group, variables in derived.items():
        if not variables:
            continue
        out = {}
        coords = dict(base)
        for name, (dims, values, units, long_name) in variables.items():
            values = np.asarray(values)
            dims = tuple(dims)
            out[name] = (("chain", "draw", *dims),
                         values.reshape((n_chain, n_draw) + values.shape[1:]),
                         {**units_attrs(units), "long_name": str(long_name)})
            for d in dims:
                if d in coord_src:
                    coords[d] = coord_src[d]
        tree[group] = xr.Dataset(out, coords=coords)
    # units and long names
    params = dict(getattr(prep.module, "PARAMETERS", {}) or {})
    time_units = str(ds["time"].attrs.get("units", "time_unit"))
    obs_units = str(ds["observations"].attrs.get("units", "1"))

    def real(n):
        units, long_name = params.get(n, ("1", f"{n} (the model declares no units)"))
        return _real_units(units, time_units, obs_units), long_name

    _units(tree, "posterior", real)
    _units(tree, "sample_stats", lambda n: (_STAT_UNITS.get(n, "1"), n.replace("_", " ")))
    _units(tree, "log_likelihood", lambda n: ("nat", "log-likelihood of each transition"))
    _units(tree, "observed_data", lambda n: (obs_units, "observed trajectories after the first "
                                                        "point"))
    _units(tree, "posterior_predictive",
           lambda n: (obs_units, "trajectories simulated from the observed first points"))
    const = {"initial_observations": (("replica", ds["observations"].dims[2]),
                                      prep.observations[:, 0],
                                      {**units_attrs(obs_units),
                                       "long_name": "first observed points (conditioned on)"})}
    for name in ("inputs", "labels", "probes", "readout_noise", "temperature"):
        if name in ds.data_vars:
            var = ds[name]
            const[name] = (var.dims, var.values,
                           {**units_attrs(str(var.attrs.get("units", "1"))),
                            "long_name": str(var.attrs.get("long_name", name))})
    cds = xr.Dataset(const)
    for d in cds.dims:
        if d in ds.coords:
            cds = cds.assign_coords({d: ds[d].values})
    tree["constant_data"] = cds
    time_attrs = {**units_attrs(time_units),
                  "long_name": "observation time (end of each transition)"}
    for node in tree.subtree:
        if "time" in node.coords and node.path != "/":
            node.coords["time"].attrs.update(time_attrs)
        if node.path == "/":
            continue
        for name in node.to_dataset(inherit=False).coords:
            if name == "time":
                continue
            attrs = node.coords[name].attrs
            default = _COORD_NAMES.get(name) or str(name).replace("_dim_", " axis ")
            attrs.setdefault("long_name", default)
            attrs.setdefault("units", "1")


_COORD_NAMES = {"chain": "MCMC chain", "draw": "draw of a chain", "replica": "replica",
                "component": "component", "component_j": "component (column)",
                "weight": "weight", "weight_j": "weight (column)", "pattern": "pattern"}
_PLACEHOLDERS = {"time_unit": 0, "length_unit": 1, "weight_unit": 1}


def _real_units(units: str, time_units: str, obs_units: str) -> str:
    """A model's units string with the placeholders ``time_unit`` and ``length_unit`` /
    ``weight_unit`` replaced by the data's units where those are plain unit names
    (``"s"``, ``"um"``); otherwise the placeholder stays (and is marked by :func:`units_attrs`)."""
    out = []
    for token in str(units).split():
        for placeholder, which in _PLACEHOLDERS.items():
            real = (time_units, obs_units)[which]
            if token.startswith(placeholder) and re.fullmatch(r"[A-Za-z]+", real) and \
                    real not in _PLACEHOLDERS:
                token = real + token[len(placeholder):]
                break
        out.append(token)
    return " ".join(out)


def _units(tree, group, spec):
    if group not in tree.children:
        return
    node = tree[group]
    for name in node.data_vars:
        units, long_name = spec(name)
        node[name].attrs.update({**units_attrs(units), "long_name": str(long_name)})


def _finish_attrs(tree, prep, config, *, seed, command, extra):
    import arviz_base
    import numpyro

    module = prep.module
    data = dict(times=prep.times, observations=prep.observations, **prep.kwargs)
    conv_fn = getattr(module, "conventions", None)
    conv = dict(conv_fn(data)) if callable(conv_fn) else {}
    if "temperature" not in conv:
        T = prep.kwargs.get("temperature")
        conv["temperature"] = "inferred" if T is None else float(T)
    attrs = provenance(config=config, seed=seed, command=command)
    attrs.update(conventions_attrs(**conv))
    kind = config.get("sampler", config["method"])
    attrs.update({
        "title": f"thermoinfer fit of model {module.NAME!r} ("
                 + ("exact conjugate posterior draws" if kind == "conjugate" else kind) + ")",
        "model": str(module.NAME),
        "model_description": str(module.DESCRIPTION),
        "inference_method": kind,
        "sampler": kind,
        "ci_prob": float(config["ci_prob"]),
        "ci_kind": "eti",
        "sampling_time_s": float(extra["sampling_time_s"]),
        **({"chain_method": extra["chain_method"], "devices": int(extra["devices"])}
           if "chain_method" in extra else {}),
        "numpyro_version": numpyro.__version__,
        "arviz_base_version": arviz_base.__version__,
        "n_replicas": int(prep.observations.shape[0]),
        "n_transitions": int(prep.observations.shape[1] - 1),
    })
    if conv["temperature"] == "inferred":
        attrs["identifiability"] = (
            "temperature not given: trajectories identify only the diffusion constant D = mu T "
            "and mu F (docs/theory/units.md, eq. (5)); fitted rates are mu-scaled, heat in energy units is not "
            "reported, entropies and information (units of k_B) are.")
    else:
        attrs["identifiability"] = "temperature given: T known, mobility mu = 1 (docs/theory/units.md, eq. (5))"
    tree.attrs = attrs


# ---------------------------------------------------------------------------------------------
# netCDF


def write_fit(tree: xr.DataTree, path) -> Path:
    """Write a fit to netCDF (netcdf4 engine, atomic); see :func:`read_fit`."""
    return write_netcdf(tree, path)


def validate_fit(tree: xr.DataTree, source: str = "fit") -> None:
    """Check a fit: root attributes, the ArviZ groups, known dims, units, no inf values."""
    missing = [a for a in REQUIRED_ROOT_ATTRS if a not in tree.attrs]
    if missing:
        raise InputError(f"{source} is not a thermoinfer result: missing root attribute(s) "
                         f"{missing}.")
    for group in ("posterior", "observed_data"):
        if group not in tree.children:
            raise InputError(f"{source} is not a fit: no group {group!r}.")
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        for dim in ds.dims:
            if dim not in FIT_DIMS and "_dim_" not in str(dim):
                raise InputError(f"{source}: group {node.path!r} has unknown dimension {dim!r}; "
                                 f"expected names from {list(FIT_DIMS)}.")
        for name, var in ds.data_vars.items():
            if "units" not in var.attrs:
                raise InputError(f"{source}: variable {node.path}/{name} has no 'units' "
                                 "attribute.")
            if np.issubdtype(var.dtype, np.floating) and np.isinf(var.values).any() and \
                    node.path != "/sample_stats":
                raise InputError(f"{source}: variable {node.path}/{name} contains inf values.")


def read_fit(path) -> xr.DataTree:
    """Read a fit written by :func:`write_fit` (or ``thermoinfer fit -o``) and validate it."""
    tree = read_netcdf(path, validate=False)
    validate_fit(tree, source=repr(str(path)))
    return tree


# ---------------------------------------------------------------------------------------------
# model comparison


def loo(tree: xr.DataTree, *, var_name: str = "obs"):
    """PSIS-LOO of a fit over its pointwise log-likelihood, one point per transition.

    See the module docstring for what leaving out one transition of a time series means.
    Returns :class:`arviz_stats.ELPDData` (``elpd``, ``se``, ``p``, pointwise ``pareto_k``).
    """
    import arviz_stats as azs

    if "log_likelihood" not in tree.children:
        raise InputError("the fit has no pointwise log-likelihood (group 'log_likelihood'); fit "
                         "with log_likelihood=True (CLI: --log-likelihood) to compare models "
                         "by LOO.")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return azs.loo(tree, pointwise=True, var_name=var_name)


class RuleComparison(NamedTuple):
    """Result of :func:`compare_rules`."""

    table: object
    """:func:`arviz_stats.compare` table (pandas), best rule first"""
    fits: dict
    """``{rule: DataTree}``"""
    loo: dict
    """``{rule: ELPDData}``"""


def compare_rules(data, rules=("hebbian", "perceptron", "adatron"), *, model="neuron",
                  **fit_kwargs) -> RuleComparison:
    """Fit a neuron model once per learning rule and compare the fits by PSIS-LOO.

    Every transition is one LOO point (module docstring: one-step-ahead predictive accuracy,
    optimistic standard errors for time series). The Hebbian fit uses the exact OU likelihood,
    the others the Euler–Maruyama likelihood on the observation grid, which is biased when
    $k\\Delta t$ is not small: compare rules on finely sampled data.

    Parameters
    ----------
    data
        As in :func:`fit`.
    rules : sequence of str
        Learning rules to compare.
    model : str
        ``"neuron"`` or ``"neuron-readout"``.
    **fit_kwargs
        Passed to :func:`fit` (``chains``, ``draws``, ``seed``, ...).
    """
    import arviz_stats as azs

    rules = list(rules)
    if len(rules) < 2:
        raise InputError(f"rules must name at least two learning rules to compare, got {rules}.")
    fit_kwargs.setdefault("log_likelihood", True)
    fits = {r: fit(data, model, rule=r, **fit_kwargs) for r in rules}
    loos = {r: loo(t) for r, t in fits.items()}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        table = azs.compare(fits, var_name="obs")
    return RuleComparison(table, fits, loos)

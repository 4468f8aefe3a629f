r"""The memorisation experiment of [PRL], end to end: data → Langevin learning → thermodynamics →
information and efficiency → DataTree (docs/theory/model.md, docs/theory/hebbian-memorisation.md;
data model: docs/data.md).

:func:`simulate_memorization` draws $P = \mathrm{round}(\alpha N)$ random patterns with random
labels, runs batch Langevin learning from the equilibrium state for a time $t$, and returns an
``xarray.DataTree`` with the groups ``parameters``, ``thermodynamics`` (per replica),
``information``, ``summary`` (ensemble means with standard errors) and, on request,
``trajectories``. :func:`theory_memorization` returns the thermodynamic-limit theory in the same
layout. Both record every convention on the root attributes.

Estimators (named on the output):

* heat: exact per trajectory, $q = U_{tot}(\boldsymbol\omega_0) - U_{tot}(\boldsymbol\omega_t)$
  (docs/theory/thermodynamics-and-bound.md, eq. (31)); its ensemble mean uses the zero-mean control variate
  $V(\boldsymbol\omega^{ref}_t) - V(\boldsymbol\omega_0)$ of a force-free reference path driven by
  the same noise (``heat_estimator = "exact_with_control_variate"``), which removes the
  $O(\sqrt N)$ thermal fluctuations of $q$;
* information per pattern: bias-corrected binary-channel estimate from the training errors, the
  replicas being the independent units, with an interval that does not collapse at
  $\epsilon = \tfrac12$;
* $\Delta S(\boldsymbol\omega)$: closed forms for Hebbian learning (the weights are Gaussian given
  the data), evaluated on the simulated data sets; for weight-dependent rules a maximum-entropy
  Gaussian estimate from the replicas (an upper bound on the true entropy change, so $\eta$ is
  then a lower bound).
"""

from __future__ import annotations

import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ._jobsize import DEFAULT_MAX_STEPS, check_batch_job
from ._util import mean_se, resolve_key
from ._x64 import float64
from .data.schema import conventions_attrs, coordinate, grid_axes, index, provenance, variable
from .dynamics import NeuronParams, simulate
from .errors import (
    InputError,
    check_choice,
    check_finite,
    check_int,
    check_nonnegative,
    check_positive,
)
from .information.efficiency import EFFICIENCY_STATUS, efficiency
from .rules import RULES, LearningRule, get_rule
from .tasks import DATA_PROTOCOLS, INPUT_KINDS, memorization_data, number_of_patterns
from .thermo.entropy_production import system_entropy_change

__all__ = ["ENTROPY_CONVENTIONS", "simulate_memorization", "theory_memorization",
           "summary_dict", "SUMMARY_FIELDS"]

ENTROPY_CONVENTIONS = ("annealed", "quenched_gaussian", "exact_mixture")
_HEBBIAN = RULES["hebbian"]

#: JSON/summary fields with their units and long names
SUMMARY_FIELDS = {
    "training_error": ("1", "training error per pattern, P(sigma != sigma_T)"),
    "mutual_information_per_pattern": ("nat", "I(sigma_T^mu; sigma^mu) per pattern"),
    "mutual_information_per_weight": ("nat", "sum_mu I(sigma_T^mu; sigma^mu) / N"),
    "heat_per_weight": ("k_B T_unit", "mean heat dissipated into the bath per weight (energy units)"),
    "medium_entropy_change_per_weight": ("nat", "Delta Q / (N T)"),
    "work_per_weight": ("k_B T_unit", "mean exclusive work per weight (energy units)"),
    "energy_change_per_weight": ("k_B T_unit", "mean change of V = k|w|^2/2 per weight"),
    "entropy_change_per_weight": ("nat", "Delta S(w) per weight under the entropy convention"),
    "margin_per_weight": ("nat", "bound margin (Delta S + Delta Q/T - sum I) / N"),
    "efficiency": ("1", "learning efficiency eta = sum I / (Delta S + Delta Q / T)"),
}


def _is_hebbian_like(rule: LearningRule) -> bool:
    """Force factor identically 1 (Hebbian or a registered clone): Gaussian weights given data."""
    if rule.depends_on_activation:
        a = jnp.linspace(-10.0, 10.0, 2001)
        vals = jnp.stack([rule.force(a, s) for s in (-1.0, 1.0)])
        return bool(jnp.all(vals == 1.0))
    vals = jnp.stack([jnp.asarray(rule.force(0.0, s)) for s in (-1.0, 1.0)])
    return bool(jnp.all(vals == 1.0))


def _errors(activations, labels):
    return jnp.where(labels > 0, activations < 0, activations >= 0)


@float64
def simulate_memorization(
    key, *, n_weights: int = 200, alpha: float = 0.5, rule: str | LearningRule = "hebbian",
    k: float = 1.0, nu: float = 1.0, temperature: float = 1.0, t: float = math.inf,
    dt: float | None = None, n_replicas: int = 64, inputs: str = "binary",
    data_protocol: str = "per_replica", entropy: str = "annealed", method: str = "auto",
    record_every: int | None = None, ci_prob: float = 0.95, mixture_samples: int = 2048,
    command: str | None = None, max_steps: int | None = DEFAULT_MAX_STEPS,
    progress: bool = False,
) -> xr.DataTree:
    r"""Simulate memorisation learning at finite $N$ and measure heat, information and $\eta$.

    Parameters
    ----------
    key : int or jax.random key
        Seed or PRNG key (explicit; same key, same numbers).
    n_weights : int
        $N$.
    alpha : float
        Load; $P = \mathrm{round}(\alpha N)\ge1$ (the realised $P/N$ is reported as ``alpha_realised``).
    rule : str or LearningRule
        Learning rule from the registry (user rules too).
    k, nu, temperature : float
        Restoring constant (1/time), learning rate, bath temperature (energy, $k_B = 1$).
    t : float
        Learning time (units of 1/k for k = 1); ``inf`` for Hebbian (exact sampling).
    dt : float, optional
        Euler–Maruyama time step (required for weight-dependent rules).
    n_replicas : int
        Independent replicas (trajectories).
    inputs : {"binary", "gaussian"}
    data_protocol : {"per_replica", "shared"}
    entropy : {"annealed", "quenched_gaussian", "exact_mixture"}
        Convention for $\Delta S(\boldsymbol\omega)$ (docs/theory/hebbian-memorisation.md,
        eq. (45)–(49)).
    method : {"auto", "exact_ou", "euler_maruyama"}
    record_every : int, optional
        Store weight paths every this many steps (group ``trajectories``).
    ci_prob : float
        Probability of the information interval.
    mixture_samples : int
        Monte Carlo samples per data set for ``exact_mixture``.
    command : str, optional
        Command line to record in the provenance (the CLI passes it).
    max_steps : int or None
        Refuse (before any work) a run of more than this many time steps ``t/dt`` (default
        :data:`thermoinfer._jobsize.DEFAULT_MAX_STEPS` = 10**7; ``None``: no limit). A run whose
        estimated memory (recorded paths ``replicas x records x N x 8`` bytes, per-replica data
        ``replicas x P x N x 8`` bytes) exceeds the available memory is refused too.
    progress : bool
        Show a progress bar with an ETA on stderr while the dynamics run (the numbers do not
        change).

    Returns
    -------
    xarray.DataTree
        Groups ``parameters``, ``thermodynamics``, ``information``, ``summary`` (and
        ``trajectories`` when requested); conventions and provenance on the root.

    Raises
    ------
    InputError
        For any bad argument (booleans and strings are not numbers), naming it; for a job
        beyond ``max_steps`` or the available memory, with the estimate.

    Examples
    --------
    >>> tree = simulate_memorization(0, n_weights=50, alpha=0.5, nu=1.0, t=2.0, n_replicas=16)
    >>> sorted(tree.children)
    ['information', 'parameters', 'summary', 'thermodynamics']
    >>> tree.attrs["entropy_convention"], tree["summary"]["heat_per_weight"].attrs["reduced_units"]
    ('annealed', 'k_B T_unit')
    """
    key, seed = resolve_key(key)
    rule = get_rule(rule)
    check_choice("entropy", entropy, ENTROPY_CONVENTIONS)
    check_choice("inputs", inputs, INPUT_KINDS)
    check_choice("data_protocol", data_protocol, DATA_PROTOCOLS)
    check_choice("method", method, ("auto", "exact_ou", "euler_maruyama"))
    N = check_int("n_weights", n_weights, "Pass the number of weights N, e.g. 200.", minimum=1)
    R = check_int("n_replicas", n_replicas, "Standard errors need two replicas.", minimum=2)
    alpha = check_positive("alpha", alpha, "Pass a load P/N > 0, e.g. alpha=0.5.")
    k = check_positive("k", k, "Pass a restoring constant k > 0 (1/time), e.g. k=1.")
    nu = check_nonnegative("nu", nu, "Pass a learning rate nu >= 0, e.g. nu=1.")
    temperature = check_positive("temperature", temperature,
                                 "Pass a bath temperature T > 0 (energy units, k_B = 1).")
    t = check_nonnegative("t", t, "Pass a learning time t >= 0 (inf: fully relaxed).",
                          allow_inf=True)
    if dt is not None:
        dt = check_positive("dt", dt, "Pass a time step dt > 0, e.g. dt=0.01.")
    if record_every is not None:
        record_every = check_int("record_every", record_every,
                                 "Pass the number of steps between stored weights, e.g. 10.",
                                 minimum=1)
    ci_prob = check_finite("ci_prob", ci_prob)
    if not 0 < ci_prob < 1:
        raise InputError(f"ci_prob must be in (0, 1), got {ci_prob!r}.")
    mixture_samples = check_int("mixture_samples", mixture_samples, minimum=2)
    if command is not None and not isinstance(command, str):
        raise InputError(f"command must be a string or None, got {type(command).__name__}.")
    params = NeuronParams(k, nu, temperature)
    P = number_of_patterns(alpha, N)
    hebb = _is_hebbian_like(rule)
    _check_entropy_feasible(entropy, hebb, rule, data_protocol, P, N, R)
    _check_job_size(rule=rule, method=method, t=t, dt=dt, record_every=record_every, N=N, P=P,
                    R=R, shared=data_protocol == "shared", max_steps=max_steps,
                    what="simulate memorization")

    key_data, key_sim, key_mix = jax.random.split(key, 3)
    data = memorization_data(key_data, N, alpha, n_replicas=R, inputs=inputs,
                             data_protocol=data_protocol)
    res = simulate(key_sim, data, rule, params, t=t, dt=dt, method=method,
                   record_every=record_every, n_replicas=R, progress=bool(progress))
    k, nu, T = float(params.stiffness), float(params.learning_rate), float(params.temperature)
    sig = jnp.asarray(data.labels)
    shared = data_protocol == "shared"

    # ----------------------------------------------------------------- thermodynamics
    heat = np.asarray(res.heat_exact)
    heat_cv = heat + np.asarray(res.reference_energy_change)
    dV = np.asarray(res.energy_change)
    dV_cv = dV - np.asarray(res.reference_energy_change)
    work_cv = heat_cv + dV_cv
    decay = -math.expm1(-k * t) if math.isfinite(t) else 1.0  # 1 - e^{-kt}
    # conditional on the data; exact for Hebbian (Gaussian p_t), NaN ("unavailable") otherwise
    sys_ent = system_entropy_change(res.initial_weights, res.final_weights, data,
                                    rule if not hebb else _HEBBIAN, params, t=t)
    ds_sys = np.asarray(sys_ent.value)
    sys_method = str(sys_ent.method)
    ds_tot = ds_sys + heat / T

    # ----------------------------------------------------------------- information
    err = np.asarray(_errors(res.activations, sig if not shared else sig[None]))
    err_rep = err.mean(axis=-1)
    info = _information(err, err_rep, shared, ci_prob)
    I_total, I_total_se = P * info["per_pattern"], P * info["per_pattern_se"]

    # ----------------------------------------------------------------- entropy change
    dS, dS_se, dS_method = _entropy_change(entropy, hebb, data, res, k, nu, T, t, decay,
                                           key_mix, mixture_samples)

    # ----------------------------------------------------------------- efficiency
    q_mean, q_se = mean_se(heat_cv)
    eff = efficiency(I_total, dS, q_mean / T)
    margin_se = math.sqrt(dS_se**2 + (q_se / T) ** 2 + I_total_se**2)
    cost = dS + q_mean / T
    eta = float(eff.efficiency)
    eta_se = (abs(eta) * math.sqrt((I_total_se / I_total) ** 2 + (math.hypot(dS_se, q_se / T) / cost) ** 2)
              if np.isfinite(eta) and I_total > 0 and cost > 0 else math.nan)
    status = EFFICIENCY_STATUS[int(eff.status)]

    # ----------------------------------------------------------------- tree
    config = dict(task="memorization", n_weights=N, alpha=float(alpha), n_patterns=P,
                  rule=rule.name, k=k, nu=nu, temperature=T, t=t, dt=dt, n_replicas=R,
                  inputs=inputs, data_protocol=data_protocol, entropy=entropy,
                  method=res.method, record_every=record_every, ci_prob=ci_prob, seed=seed,
                  mixture_samples=mixture_samples)
    root = {**provenance(config=config, seed=seed, command=command),
            **conventions_attrs(entropy_convention=entropy, path_weights=res.method,
                                data_protocol=data_protocol, temperature=T),
            "task": "memorization", "rule": rule.name, "simulation": 1,
            "title": "thermoinfer memorisation simulation"}
    parameters = _parameters_ds(N=N, P=P, alpha=alpha, k=k, nu=nu, T=T, t=t,
                                extra={"dt": (res.dt, "time_unit", "time step (0: no step; inf: one exact step to t = inf)"),
                                       "n_steps": (res.n_steps, "1", "number of time steps"),
                                       "n_replicas": (R, "1", "number of replicas")})
    rep = index("replica", R, "replica (independent trajectory)")
    thermo = xr.Dataset(
        {
            "heat": variable("replica", heat, "k_B T_unit",
                             "heat dissipated into the bath, exact U_tot(w_0) - U_tot(w_t)"),
            "heat_integrated": variable("replica", np.asarray(res.heat), "k_B T_unit",
                                        "heat as a Stratonovich (trapezoidal) sum on the sampled path"),
            "work": variable("replica", np.asarray(res.work), "k_B T_unit",
                             "exclusive work of the learning force, Stratonovich sum"),
            "energy_change": variable("replica", dV, "k_B T_unit", "V(w_t) - V(w_0), V = k|w|^2/2"),
            "medium_entropy_change": variable("replica", heat / T, "nat", "heat / T"),
            "system_entropy_change": variable(
                "replica", ds_sys, "nat",
                "ln p_0(w_0) - ln p_t(w_t | labels, inputs) (conditional on the data)",
                method=sys_method),
            "total_entropy_production": variable(
                "replica", ds_tot, "nat", "system_entropy_change + heat / T (conditional)",
                method=sys_method),
            "first_law_residual": variable("replica", np.asarray(res.first_law_residual),
                                           "k_B T_unit", "work - energy_change_integrated - heat_integrated"),
            "reference_energy_change": variable(
                "replica", np.asarray(res.reference_energy_change), "k_B T_unit",
                "V(w_ref_t) - V(w_0) of the force-free reference path (zero-mean control variate)"),
        },
        coords={"replica": rep},
        attrs={"heat_estimator": "exact_with_control_variate",
               "description": "per-trajectory energetics; batch learning: heat exact as -Delta U_tot"},
    )
    information = xr.Dataset(
        {
            "training_error": variable("replica", err_rep, "1",
                                       "fraction of misclassified patterns at time t"),
            "stability": variable(("replica", "pattern"),
                                  np.asarray(res.activations) * np.asarray(sig if not shared else sig[None]),
                                  "1", "stability sigma_T A at time t"),
            "mutual_information_per_pattern": variable((), info["per_pattern"], "nat",
                                                       "I(sigma_T^mu; sigma^mu), bias corrected",
                                                       estimator=info["method"]),
            "mutual_information_per_pattern_lower": variable((), info["lower"], "nat",
                                                             f"lower end of the {ci_prob:g} interval"),
            "mutual_information_per_pattern_upper": variable((), info["upper"], "nat",
                                                             f"upper end of the {ci_prob:g} interval"),
            "mutual_information": variable((), I_total, "nat", "sum over patterns of I(sigma_T^mu; sigma^mu)"),
            "entropy_change": variable((), dS, "nat", "Delta S(w)", convention=entropy,
                                       method=dS_method),
            "entropy_change_se": variable((), dS_se, "nat", "standard error of Delta S(w)"),
            "efficiency": variable((), eta, "1", "learning efficiency (NaN when not meaningful; "
                                   "see efficiency_status)"),
            "efficiency_status": variable((), status, "1", "why the efficiency is or is not reported"),
            "margin": variable((), float(eff.margin), "nat", "Delta S + Delta Q/T - sum I"),
            "bound_satisfied": variable((), bool(eff.bound_satisfied), "1",
                                        "sum I <= Delta S(w) + Delta Q / T"),
            "feedback_uncorrected": variable((), False, "1",
                                             "batch learning: no feedback kicks (always false)"),
        },
        coords={"replica": rep, "pattern": index("pattern", P, "pattern index mu")},
        attrs={"information_estimator": info["method"], "ci_prob": ci_prob},
    )
    tr_se = float(np.asarray(mean_se(err_rep)[1]))
    summary_values = {
        "training_error": (float(np.mean(err_rep)), tr_se),
        "mutual_information_per_pattern": (info["per_pattern"], info["per_pattern_se"]),
        "mutual_information_per_weight": (I_total / N, I_total_se / N),
        "heat_per_weight": (q_mean / N, q_se / N),
        "medium_entropy_change_per_weight": (q_mean / (N * T), q_se / (N * T)),
        "work_per_weight": tuple(v / N for v in mean_se(work_cv)),
        "energy_change_per_weight": tuple(v / N for v in mean_se(dV_cv)),
        "entropy_change_per_weight": (dS / N, dS_se / N),
        "margin_per_weight": (float(eff.margin) / N, margin_se / N),
        "efficiency": (eta, eta_se),
    }
    summary = _summary_ds(summary_values, bound=bool(eff.bound_satisfied), status=status,
                          extra={
                              "first_law_residual_max": (float(np.max(np.abs(res.first_law_residual))),
                                                         "k_B T_unit", "max |w - dV - q| over replicas"),
                              "heat_integration_error_rms": (
                                  float(np.sqrt(np.mean((np.asarray(res.heat) - heat) ** 2))),
                                  "k_B T_unit", "rms of integrated minus exact heat per trajectory"),
                              "alpha_realised": (P / N, "1", "realised load P/N"),
                          })
    tree = xr.DataTree(xr.Dataset(attrs=root))
    tree["parameters"] = parameters
    if res.paths is not None:
        tree["trajectories"] = xr.Dataset(
            {"weights": variable(("replica", "time", "weight"), np.asarray(res.paths), "1",
                                 "synaptic weights")},
            coords={"replica": rep, "time": coordinate("time", np.asarray(res.times), "time_unit",
                                                       "time since the start of learning")},
        )
    tree["thermodynamics"] = thermo
    tree["information"] = information
    tree["summary"] = summary
    return tree


def _check_job_size(*, rule, method, t, dt, record_every, N, P, R, shared, max_steps, what):
    exact = method == "exact_ou" or (method == "auto" and not rule.depends_on_activation)
    check_batch_job(what=what, exact=exact, t=t, dt=dt, record_every=record_every, N=N, P=P,
                    R=R, shared=shared, max_steps=max_steps)


def _check_entropy_feasible(entropy, hebb, rule, protocol, P, N, R):
    if entropy == "exact_mixture":
        if not hebb:
            raise InputError(
                f"entropy='exact_mixture' needs Gaussian weights given the labels (Hebbian); rule "
                f"{rule.name!r} has no such form: use entropy='annealed' (per-replica data) or "
                "'quenched_gaussian' (shared data)."
            )
        if P > 20:
            raise InputError(
                f"entropy='exact_mixture' enumerates 2^P label vectors and needs P <= 20, got "
                f"P = {P}; lower alpha*N or use entropy='quenched_gaussian'."
            )
    if not hebb:
        if entropy == "annealed" and protocol != "per_replica":
            raise InputError(
                f"entropy='annealed' for rule {rule.name!r} is estimated from replicas with their "
                "own data sets: use data_protocol='per_replica'."
            )
        if entropy == "quenched_gaussian":
            if protocol != "shared":
                raise InputError(
                    f"entropy='quenched_gaussian' for rule {rule.name!r} is estimated from the "
                    "covariance of replicas that share one data set: use data_protocol='shared'."
                )
            if R <= N + 1:
                raise InputError(
                    f"entropy='quenched_gaussian' for rule {rule.name!r} needs n_replicas > N + 1 "
                    f"= {N + 1} for a sample covariance, got {R}; raise n_replicas or use "
                    "entropy='annealed'."
                )


def _information(err, err_rep, shared, ci_prob):
    from .information.estimators import information_from_errors

    if not shared:
        est = information_from_errors(err_rep, ci_prob=ci_prob, n_patterns=err.shape[-1])
        return dict(per_pattern=float(est.information), per_pattern_se=float(est.information_se),
                    lower=float(est.information_lower), upper=float(est.information_upper),
                    method="pooled_errors_bias_corrected_" + str(est.method))
    # shared data: patterns differ; estimate each pattern's error over the replicas
    per = [information_from_errors(err[:, mu].astype(float), ci_prob=ci_prob)
           for mu in range(err.shape[1])]
    vals = np.array([float(e.information) for e in per])
    lo = np.array([float(e.information_lower) for e in per])
    hi = np.array([float(e.information_upper) for e in per])
    # the patterns of one replica share its weights: the SE of the pattern average comes from a
    # jackknife over replicas (the independent units), not from the per-pattern SEs
    from .information.channels import binary_channel_information

    R = err.shape[0]
    tot = err.sum(axis=0)
    loo = (tot[None, :] - err) / (R - 1)  # leave-one-replica-out error of every pattern
    jack = np.asarray(binary_channel_information(loo)).mean(axis=1)
    se = float(np.sqrt((R - 1) / R * np.sum((jack - jack.mean()) ** 2)))
    return dict(per_pattern=float(vals.mean()), per_pattern_se=se,
                lower=float(lo.mean()), upper=float(hi.mean()),
                method="per_pattern_errors_bias_corrected_" + str(per[0].method)
                + "_jackknife_se")


def _entropy_change(entropy, hebb, data, res, k, nu, T, t, decay, key, mixture_samples):
    from .information import entropy as ent

    N = data.n_weights
    P = data.n_patterns
    c_t = nu / k * decay
    if hebb:
        if entropy == "annealed":
            v = float(ent.annealed_entropy_change(N, P, c_t, stiffness=k, temperature=T))
            return v, 0.0, "closed_form_gaussian"
        xs = np.asarray(data.inputs)
        sets = xs[None] if xs.ndim == 2 else xs
        if entropy == "quenched_gaussian":
            vals = np.array([float(ent.quenched_gaussian_entropy_change(s, c_t, stiffness=k, temperature=T))
                             for s in sets])
            m, se = (vals.mean(), vals.std(ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else (vals[0], 0.0)
            return float(m), float(se), "closed_form_gaussian_per_data_set"
        n_sets = min(len(sets), 16)
        ests, ses = [], []
        for i in range(n_sets):
            e, s = ent.exact_mixture_entropy_change(jax.random.fold_in(key, i), sets[i], c_t,
                                                    stiffness=k, temperature=T,
                                                    n_samples=mixture_samples)
            ests.append(float(e))
            ses.append(float(s))
        ests, ses = np.array(ests), np.array(ses)
        m = ests.mean()
        se = math.sqrt(np.sum(ses**2)) / n_sets
        if n_sets > 1:
            se = math.sqrt(se**2 + ests.var(ddof=1) / n_sets)
        return float(m), float(se), f"monte_carlo_enumeration_over_{n_sets}_data_sets"
    w = np.asarray(res.final_weights)
    if entropy == "annealed":
        # isotropic covariance by symmetry; the reference path (same noise, law p_0, E|w|^2 = NT/k)
        # is a control variate for E|w_t|^2
        n2 = np.sum(w**2, -1) - np.sum(np.asarray(res.reference_weights) ** 2, -1)
        m, se = mean_se(n2)
        v = (m / N + T / k)
        if v <= 0:
            return math.nan, math.nan, "isotropic_gaussian_moment_control_variate"
        dS = N / 2 * math.log(v * k / T)
        return float(dS), float(N / 2 * se / N / v), "isotropic_gaussian_moment_control_variate"
    est = ent.gaussian_logdet_entropy_change(w, stiffness=k, temperature=T)
    return float(est.estimate), float(est.standard_error), str(est.method)


def _parameters_ds(*, N, P, alpha, k, nu, T, t, extra=None):
    vals = {
        "n_weights": (N, "1", "number of weights N"),
        "n_patterns": (P, "1", "number of patterns P = round(alpha N)"),
        "alpha": (float(alpha), "1", "requested load alpha"),
        "alpha_realised": (P / N, "1", "realised load P/N"),
        "stiffness": (k, "time_unit-1", "restoring constant k"),
        "learning_rate": (nu, "1", "learning rate nu"),
        "temperature": (T, "k_B T_unit", "bath temperature T (k_B = 1)"),
        "time": (t, "time_unit", "learning time t (inf: fully relaxed)"),
    }
    vals.update(extra or {})
    ds = xr.Dataset({name: variable((), v, u, ln) for name, (v, u, ln) in vals.items()})
    for name in ("time", "dt"):
        if name in ds:
            ds[name].attrs["allow_inf"] = 1
    return ds


def _summary_ds(values, *, bound, status, extra=None):
    data = {}
    for name, (m, se) in values.items():
        units, ln = SUMMARY_FIELDS[name]
        data[name] = variable((), float(m), units, ln)
        data[f"{name}_se"] = variable((), float(se), units, f"standard error of {name}")
    # the status is the variable efficiency_status, never an attribute: concatenated runs (a
    # sweep) would carry one run's status on every point
    data["bound_satisfied"] = variable((), bool(bound), "1", "sum I <= Delta S(w) + Delta Q/T")
    data["feedback_uncorrected"] = variable((), False, "1", "feedback kicks not accounted for")
    data["efficiency_status"] = variable((), status, "1", "ok, bound_violated, feedback_uncorrected, no_cost or undefined")
    for name, (v, u, ln) in (extra or {}).items():
        data[name] = variable((), v, u, ln)
    return xr.Dataset(data)


def _grid_shape(axes: dict, name: str, dims: tuple):
    """``axes[name]`` reshaped to broadcast along its own position in ``dims``."""
    shape = [1] * len(dims)
    shape[dims.index(name)] = -1
    return np.asarray(axes[name], dtype=float).reshape(shape)


@float64
def theory_memorization(*, alpha=0.5, nu=1.0, k=1.0, temperature=1.0, t=math.inf,
                        entropy="annealed", rule="hebbian", n_weights=None, key=None,
                        command=None) -> xr.DataTree:
    r"""Thermodynamic-limit theory of Hebbian memorisation (docs/theory/hebbian-memorisation.md) as a DataTree.

    Every argument among ``alpha, nu, k, temperature, t`` given as a 1-D list or array is a
    swept parameter: the result is the full grid, with one dimension per swept parameter named
    ``alpha``, ``nu``, ``k``, ``temperature``, ``t`` (in that order) and the swept values as its
    coordinate, so that ``tree["summary"].sel(alpha=0.5, nu=1.0)`` picks one point; numbers stay
    scalars. Quantities per weight; entropies in nats; heat and work in energy units. See
    :func:`thermoinfer.theory.memorization_theory` for the formulas.

    Examples
    --------
    >>> tree = theory_memorization(alpha=0.5, nu=1.0)
    >>> round(float(tree["summary"]["efficiency"]), 6)
    0.202158
    >>> grid = theory_memorization(alpha=[0.5, 1.0], nu=[0.3, 1.0, 3.0])
    >>> dict(grid["summary"].sizes)
    {'alpha': 2, 'nu': 3}
    >>> round(float(grid["summary"]["efficiency"].sel(alpha=0.5, nu=1.0)), 6)
    0.202158
    """
    from .theory import memorization_theory

    given = {"alpha": alpha, "nu": nu, "k": k, "temperature": temperature, "t": t}
    axes, _ = grid_axes(given)
    dims = tuple(name for name in given if name in axes)
    args = {name: (_grid_shape(axes, name, dims) if name in axes else v)
            for name, v in given.items()}
    th = memorization_theory(args["alpha"], args["nu"], k=args["k"],
                             temperature=args["temperature"], t=args["t"], entropy=entropy,
                             rule=rule, n_weights=n_weights, key=key)
    shape = tuple(axes[d].size for d in dims)

    def put(value):
        return np.broadcast_to(np.asarray(value, dtype=float), shape)

    status_codes = np.broadcast_to(np.asarray(th.status), shape)
    status = (np.vectorize(lambda c: EFFICIENCY_STATUS[int(c)], otypes=[str])(status_codes)
              if shape else EFFICIENCY_STATUS[int(status_codes)])
    fields = {
        "training_error": th.training_error,
        "mutual_information_per_pattern": th.mutual_information_per_pattern,
        "mutual_information_per_weight": th.mutual_information_per_weight,
        "heat_per_weight": th.heat_per_weight,
        "medium_entropy_change_per_weight": th.medium_entropy_per_weight,
        "work_per_weight": th.work_per_weight,
        "energy_change_per_weight": th.energy_change_per_weight,
        "entropy_change_per_weight": th.entropy_change_per_weight,
        "margin_per_weight": th.margin,
        "efficiency": th.efficiency,
    }
    data = {}
    for name, val in fields.items():
        units, ln = SUMMARY_FIELDS[name]
        arr = put(val)
        # a value beyond the float64 range (e.g. the heat at nu = 1e160) is inf, stated as such
        extra = {"allow_inf": 1} if np.isinf(arr).any() else {}
        data[name] = variable(dims, arr, units, ln, **extra)
    data["bound_satisfied"] = variable(dims, np.broadcast_to(np.asarray(th.bound_satisfied, bool), shape),
                                       "1", "sum I <= Delta S(w) + Delta Q/T")
    data["feedback_uncorrected"] = variable(dims, np.zeros(shape, bool), "1",
                                            "feedback kicks not accounted for (batch: false)")
    data["efficiency_status"] = variable(dims, status, "1", "ok, bound_violated, feedback_uncorrected, no_cost or undefined")
    data["entropy_change_per_weight"][2]["convention"] = entropy
    coords = {name: coordinate(name, axes[name], *_GRID_UNITS[name], allow_inf=1)
              for name in dims}
    summary = xr.Dataset(data, coords=coords)
    param_spec = {"alpha": ("alpha", "1", "load alpha = P/N"),
                  "nu": ("learning_rate", "1", "learning rate nu"),
                  "k": ("stiffness", "time_unit-1", "restoring constant k"),
                  "temperature": ("temperature", "k_B T_unit", "bath temperature T"),
                  "t": ("time", "time_unit", "learning time t (inf: fully relaxed)")}
    pvars = {}
    for name, (var, units, ln) in param_spec.items():
        if name in axes:
            if var != name:  # the coordinate carries the values; the named variable repeats them
                pvars[var] = variable((name,), axes[name], units, ln,
                                      **({"allow_inf": 1} if name == "t" else {}))
        else:
            pvars[var] = variable((), float(np.asarray(given[name], dtype=float)), units, ln,
                                  **({"allow_inf": 1} if name == "t" else {}))
    params = xr.Dataset(pvars, coords=coords)
    config = dict(task="memorization", kind="theory", alpha=_tolist(alpha), nu=_tolist(nu),
                  k=_tolist(k), temperature=_tolist(temperature), t=_tolist(t), entropy=entropy,
                  rule=get_rule(rule).name, n_weights=n_weights, grid=list(dims))
    root = {**provenance(config=config, command=command if command is not None else " ".join(sys.argv)),
            **conventions_attrs(entropy_convention=entropy,
                                temperature=float(np.asarray(temperature, dtype=float))
                                if "temperature" not in axes else float("nan")),
            "task": "memorization", "rule": get_rule(rule).name, "simulation": 0,
            "title": "thermoinfer memorisation theory (thermodynamic limit)"}
    tree = xr.DataTree(xr.Dataset(attrs=root))
    tree["parameters"] = params
    tree["summary"] = summary
    return tree


#: units and long names of the grid coordinates
_GRID_UNITS = {
    "alpha": ("1", "load alpha = P/N"),
    "nu": ("1", "learning rate nu"),
    "k": ("time_unit-1", "restoring constant k"),
    "temperature": ("k_B T_unit", "bath temperature T (k_B = 1)"),
    "t": ("time_unit", "learning time t (inf: fully relaxed)"),
}


def _tolist(x):
    a = np.asarray(x, dtype=float)
    return a.tolist()


def summary_dict(tree: xr.DataTree) -> dict:
    """The ``summary`` group as a flat dict, plus ``conventions`` and ``status`` (JSON schema of
    the CLI). A grid (theory with swept parameters) gives nested lists in the order of ``grid``,
    which maps each swept parameter to its values. Non-finite numbers stay NaN/inf here; the CLI
    prints them as null."""
    out = {}
    ds = tree["summary"].to_dataset()
    if ds.dims:
        out["grid"] = {str(d): ds[d].values.tolist() for d in ds["efficiency"].dims}
    for name, var in ds.data_vars.items():
        v = var.values
        out[name] = v.item() if v.ndim == 0 else v.tolist()
    out["efficiency_status"] = str(ds["efficiency_status"].values.item()) if ds["efficiency_status"].ndim == 0 \
        else ds["efficiency_status"].values.tolist()
    out["conventions"] = {name: tree.attrs[name] for name in
                          ("entropy_convention", "heat_convention", "stochastic_calculus",
                           "path_weights", "work", "information_unit", "data_protocol", "temperature")}
    p = tree["parameters"].to_dataset()
    t = p["time"].values
    out["time"] = t.item() if t.ndim == 0 else t.tolist()
    out["time_is_infinite"] = bool(np.all(np.isinf(t)))
    return out

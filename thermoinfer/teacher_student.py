r"""Teacher–student learning of [NJP], end to end: teacher → batch or online learning at finite $N$ →
order parameters, information, heat, efficiency and the two bound flags → DataTree
(docs/theory/teacher-student-and-online.md; data model: docs/data.md).

:func:`simulate_teacher_student` runs ``n_replicas`` independent students, each with its own
teacher (prior ``"sphere"``, $|\boldsymbol T|^2=N$, or ``"gaussian"``) and data, and measures along
the run, from the weights themselves:

* order parameters $R=\boldsymbol\omega\cdot\boldsymbol T/N$, $Q=|\boldsymbol\omega|^2/N$ and
  $\rho=\boldsymbol\omega\cdot\boldsymbol T/(|\boldsymbol\omega||\boldsymbol T|)$ ($=R/\sqrt Q$ on the sphere),
  $\epsilon_g=\arccos(\rho)/\pi$;
* information and entropies per weight (docs/theory/teacher-student-and-online.md, eq. (60),
  $Q_0=T/k$), per replica:
  $I/N=-\tfrac12\ln(1-\rho^2)$, $\Delta S(\boldsymbol\omega)/N=\tfrac12\ln(Q/Q_0)$,
  $\Delta S(\boldsymbol\omega|\boldsymbol T)/N=\Delta S/N-I/N=\tfrac12\ln(Q(1-\rho^2)/Q_0)$ (the Gaussian,
  order-parameter estimates; exact as $N\to\infty$ for online learning);
* heat per weight: online, the accumulated heat of :func:`thermoinfer.online.simulate_online` under
  the named convention (``kick_relaxation``: the sum of the $V$ drops of the relaxation sub-steps);
  batch, the exact $q=U_{tot}(\boldsymbol\omega_0)-U_{tot}(\boldsymbol\omega_t)$ of
  :func:`thermoinfer.dynamics.simulate` (docs/theory/thermodynamics-and-bound.md, eq. (31));
* the bound margin $(\Delta S(\boldsymbol\omega|\boldsymbol T)+\Delta Q/T)/N$, the efficiency
  $\eta=I/(\Delta S+\Delta Q/T)$ from the replica means, and two separate flags,
  ``bound_satisfied`` (margin $\ge0$) and ``feedback_uncorrected`` (online, ``kick_relaxation``, a
  rule whose $F$ depends on $h$: Perceptron, AdaTron, undeclared user rules; see "Why feedback
  rules carry a flag" in docs/theory/thermodynamics-and-bound.md).
  $\eta$ is NaN with ``efficiency_status`` naming the reason whenever either flag makes it
  meaningless.

Every quantity is reported along the dimension ``time``: online, its coordinate ``alpha`` is the
online time (samples per weight; a sample lasts $1/N$, so $\alpha$ is also the Langevin time); batch,
its coordinate ``t`` is the Langevin time and $\alpha=P/N$ is a parameter. The ``summary`` group holds
replica means and standard errors (``<name>_se``). The heat convention is the root attribute
``heat_convention`` (``not_applicable`` for batch learning, which has no kicks).
:func:`theory_teacher_student` puts the thermodynamic-limit theory of
:func:`thermoinfer.theory.teacher_student.teacher_student_theory` in the same layout.
"""

from __future__ import annotations

import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ._jobsize import DEFAULT_MAX_STEPS, check_batch_job, check_job
from ._util import mean_se, resolve_key
from ._x64 import float64
from .data.schema import conventions_attrs, coordinate, grid_axes, index, provenance, variable
from .dynamics import NeuronParams, bare_potential, simulate, total_potential
from .errors import (
    InputError,
    check_choice,
    check_int,
    check_nonnegative,
    check_numeric,
    check_positive,
)
from .information.efficiency import EFFICIENCY_STATUS, efficiency
from .online import ONLINE_HEAT_CONVENTIONS, simulate_online
from .rules import LearningRule, get_rule
from .tasks import INPUT_KINDS
from .teacher import TEACHER_PRIORS, teacher_student_data

__all__ = ["MODES", "HEAT_CONVENTIONS", "SUMMARY_FIELDS", "simulate_teacher_student",
           "theory_teacher_student", "summary_dict"]

#: learning modes (docs/theory/model.md)
MODES = ("online", "batch")
#: heat conventions accepted by the simulation (batch results record ``not_applicable``)
HEAT_CONVENTIONS = ONLINE_HEAT_CONVENTIONS

#: summary fields: units and long names (JSON keys of the CLI)
SUMMARY_FIELDS = {
    "R": ("1", "teacher-student overlap R = w.T/N"),
    "Q": ("1", "student norm Q = w.w/N"),
    "rho": ("1", "normalised overlap rho = w.T/(|w||T|) (= R/sqrt(Q) for |T|^2 = N)"),
    "generalization_error": ("1", "generalisation error arccos(rho)/pi"),
    "mutual_information_per_weight": ("nat", "I(T:w)/N = -ln(1 - rho^2)/2"),
    "entropy_change_per_weight": ("nat", "Delta S(w)/N = ln(Q/Q0)/2, Q0 = T/k"),
    "conditional_entropy_change_per_weight": ("nat", "Delta S(w|T)/N = ln(Q(1-rho^2)/Q0)/2"),
    "heat_per_weight": ("k_B T_unit", "mean heat dissipated into the bath per weight (energy units)"),
    "medium_entropy_change_per_weight": ("nat", "Delta Q/(N T)"),
    "work_per_weight": ("k_B T_unit", "mean work per weight (energy units)"),
    "energy_change_per_weight": ("k_B T_unit", "mean change of V = k|w|^2/2 per weight"),
    "margin_per_weight": ("nat", "bound margin (Delta S(w|T) + Delta Q/T)/N = (Delta S + Delta Q/T - I)/N"),
    "efficiency": ("1", "learning efficiency eta = I/(Delta S + Delta Q/T); NaN when not meaningful"),
}

_FLAG_DOC = {
    "bound_satisfied": "naive bound Delta S(w) + Delta Q/T >= I(T:w) holds (margin >= 0)",
    "feedback_uncorrected": ("online kicks depend on the weights under kick_relaxation: the bound "
                             "lacks a measurement-information term (docs/theory/"
                             "thermodynamics-and-bound.md, eq. (36))"),
    "efficiency_status": "ok, bound_violated, feedback_uncorrected, no_cost or undefined",
}


# --------------------------------------------------------------------------------- checks


def _check_common(mode, heat, rule, inputs, teacher_prior, n_weights, n_replicas, k, nu,
                  temperature):
    check_choice("mode", mode, MODES)
    check_choice("heat", heat, (*HEAT_CONVENTIONS, "not_applicable"))
    if mode == "online" and heat == "not_applicable":
        raise InputError("heat='not_applicable' is for batch mode; online learning needs a heat "
                         f"convention, one of {list(HEAT_CONVENTIONS)}.")
    check_choice("inputs", inputs, INPUT_KINDS)
    check_choice("teacher_prior", teacher_prior, TEACHER_PRIORS)
    rule = get_rule(rule)
    check_int("N (n_weights)", n_weights, "Pass the number of weights, e.g. 1000.", minimum=1)
    check_int("n_replicas", n_replicas, "Standard errors need two replicas.", minimum=2)
    k = check_positive("k", k, "Pass a weight decay k > 0 (1/time), e.g. k=1.")
    nu = check_nonnegative("nu", nu, "Pass a learning rate nu >= 0, e.g. nu=1.")
    temperature = check_positive("temperature", temperature,
                                 "Pass a bath temperature T > 0 (energy units, k_B = 1).")
    return rule, NeuronParams(k, nu, temperature)


def _is_int(x) -> bool:
    try:
        return int(x) == x
    except (TypeError, ValueError):
        return False


def _final_alpha(alpha) -> float:
    if isinstance(alpha, (bool, np.bool_, str)) or np.ndim(alpha) != 0:
        raise InputError(f"alpha must be one number > 0, got {alpha!r}; pass intermediate online "
                         "times as record_alphas.")
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"alpha must be a number > 0, got {alpha!r}.") from None
    if not math.isfinite(a) or a <= 0:
        raise InputError(f"alpha must be finite and > 0 (samples per weight), got {alpha!r}.")
    return a


# --------------------------------------------------------------------------------- observables


def _observables(overlap, norm, teacher_norm, q0):
    """Per-replica order-parameter observables (arrays (replica, time))."""
    rho = overlap / np.sqrt(norm * teacher_norm[:, None])
    rho_c = np.clip(rho, -1.0, 1.0)
    info = -0.5 * np.log1p(-rho_c * rho_c)
    ds = 0.5 * np.log(norm / q0)
    return {
        "R": overlap, "Q": norm, "rho": rho, "generalization_error": np.arccos(rho_c) / np.pi,
        "mutual_information_per_weight": info, "entropy_change_per_weight": ds,
        "conditional_entropy_change_per_weight": ds - info,
    }


def _summary(per_rep: dict, *, T: float, feedback: bool):
    """Replica means and SEs along time; efficiency and flags from the means."""
    values = {name: mean_se(v) for name, v in per_rep.items()}
    info, info_se = values["mutual_information_per_weight"]
    ds, ds_se = values["entropy_change_per_weight"]
    qm, q_se = values["heat_per_weight"]
    n_time = np.shape(info)[0]
    eff = efficiency(info, ds, qm / T, feedback_uncorrected=np.full(n_time, feedback))
    eta = np.asarray(eff.efficiency, dtype=float)
    cost = ds + qm / T
    with np.errstate(divide="ignore", invalid="ignore"):
        eta_se = np.abs(eta) * np.sqrt((info_se / info) ** 2 + (np.hypot(ds_se, q_se / T) / cost) ** 2)
    eta_se = np.where(np.isfinite(eta), eta_se, np.nan)
    values["efficiency"] = (eta, eta_se)
    status = np.array([EFFICIENCY_STATUS[int(c)] for c in np.asarray(eff.status)])
    return values, np.asarray(eff.bound_satisfied, bool), np.asarray(eff.feedback_uncorrected, bool), status


def _summary_ds(values, bound, feedback, status, dim, extra=None):
    data = {}
    for name, (m, se) in values.items():
        units, ln = SUMMARY_FIELDS[name]
        data[name] = variable(dim, np.asarray(m, float), units, ln)
        data[f"{name}_se"] = variable(dim, np.asarray(se, float), units, f"standard error of {name}")
    data["bound_satisfied"] = variable(dim, bound, "1", _FLAG_DOC["bound_satisfied"])
    data["feedback_uncorrected"] = variable(dim, feedback, "1", _FLAG_DOC["feedback_uncorrected"])
    data["efficiency_status"] = variable(dim, status, "1", _FLAG_DOC["efficiency_status"])
    for name, (v, u, ln) in (extra or {}).items():
        data[name] = variable((), v, u, ln)
    return data


# --------------------------------------------------------------------------------- simulation


@float64
def simulate_teacher_student(
    key, *, mode: str = "online", n_weights: int = 1000, alpha: float = 1.0,
    rule: str | LearningRule = "hebbian", nu: float = 1.0, k: float = 1.0,
    temperature: float = 1.0, t: float | None = None, dt: float | None = None,
    heat: str = "kick_relaxation", n_replicas: int = 32, inputs: str = "binary",
    teacher_prior: str = "sphere", record_alphas=None, record_every: int | None = None,
    command: str | None = None, max_steps: int | None = DEFAULT_MAX_STEPS,
    progress: bool = False,
) -> xr.DataTree:
    r"""Simulate teacher–student learning at finite $N$ and measure $R$, $Q$, $\epsilon_g$, $I$, $\Delta S$, heat, $\eta$.

    Parameters
    ----------
    key : int or jax.random key
        Seed or PRNG key (explicit; same key, same numbers).
    mode : {"online", "batch"}
        Online: one fresh sample per update (docs/theory/model.md, eq. (13)), time $\alpha$.
        Batch: Langevin learning of $P=\mathrm{round}(\alpha N)$ fixed samples for a time $t$
        (docs/theory/model.md, eq. (8)–(9)).
    n_weights : int
        $N\ge1$ (online needs $N>k$).
    alpha : float
        Online: the final online time $\alpha>0$. Batch: the load $P/N>0$.
    rule : str or LearningRule
        Any registered rule (user rules too).
    nu, k, temperature : float
        Learning rate $\nu\ge0$, weight decay $k>0$ (1/time), bath temperature $T>0$ ($k_B=1$).
    t : float, optional
        Batch only: learning time (default ``inf``, exact sampling for Hebbian learning; other rules
        need a finite $t$ and ``dt``).
    dt : float, optional
        Batch only: Euler–Maruyama time step.
    heat : {"kick_relaxation", "continuous_force"}
        Online heat convention (docs/theory/teacher-student-and-online.md, eq. (70); see
        :mod:`thermoinfer.online`). Batch learning has
        no kicks: its heat is the ordinary Langevin heat and the result records ``not_applicable``.
    n_replicas : int
        Independent students ($\ge2$), each with its own teacher and data.
    inputs : {"binary", "gaussian"}
    teacher_prior : {"sphere", "gaussian"}
    record_alphas : sequence of float, optional
        Online only: further online times $0\le\alpha_j\le\alpha$ to record (``alpha`` is always
        recorded).
    record_every : int, optional
        Batch only: record every this many time steps (default: the final time only).
    command : str, optional
        Command line for the provenance (the CLI passes it).
    max_steps : int or None
        Refuse (before any work) a run of more than this many steps: online, the samples
        ``round(alpha N)``; batch, ``t/dt`` (default
        :data:`thermoinfer._jobsize.DEFAULT_MAX_STEPS` = 10**7; ``None``: no limit). A run whose
        estimated memory exceeds the available memory is refused too.
    progress : bool
        Show a progress bar with an ETA on stderr while the dynamics run (the numbers do not
        change).

    Returns
    -------
    xarray.DataTree
        Groups ``parameters``, ``thermodynamics`` (per replica and time), ``information`` (order
        parameters and information per replica and time), ``summary`` (means, ``<name>_se``, flags,
        ``efficiency_status`` along ``time``); provenance and conventions on the root.

    Raises
    ------
    InputError
        For bad values ($k\le0$, $T\le0$, $\nu<0$, $\alpha\le0$, $N<1$, $k\ge N$ online), unknown
        ``mode``, ``heat``, rule, ``inputs`` or ``teacher_prior``, and options of the other mode.

    Examples
    --------
    >>> tree = simulate_teacher_student(0, n_weights=200, alpha=1.0, rule="perceptron", nu=3.0,
    ...                                 n_replicas=8, record_alphas=[0.5])
    >>> tree["summary"]["alpha"].values.tolist(), tree.attrs["heat_convention"]
    ([0.5, 1.0], 'kick_relaxation')
    >>> bool(tree["summary"]["feedback_uncorrected"][-1]), str(tree["summary"]["efficiency_status"][-1].values)
    (True, 'feedback_uncorrected')
    """
    key, seed = resolve_key(key)
    rule, params = _check_common(mode, heat, rule, inputs, teacher_prior, n_weights, n_replicas,
                                 k, nu, temperature)
    a_final = _final_alpha(alpha)
    N, R = int(n_weights), int(n_replicas)
    if command is not None and not isinstance(command, str):
        raise InputError(f"command must be a string or None, got {type(command).__name__}.")
    if mode == "online":
        for name, val in (("t", t), ("dt", dt), ("record_every", record_every)):
            if val is not None:
                raise InputError(f"{name} is a batch-mode option, got {name}={val!r} in online mode; "
                                 "online time is alpha (samples per weight). Drop it or pass mode='batch'.")
        if record_alphas is not None:
            check_numeric("record_alphas", record_alphas)
        samples = a_final * N
        check_job(what="simulate teacher-student (online)", steps=samples, replicas=R,
                  n_weights=N, memory=8.0 * 16 * R * N, max_steps=max_steps,
                  steps_text=f"alpha*N = {a_final:g}*{N} samples, one update each")
        return _simulate_online(key, seed, rule, params, N, R, a_final, record_alphas, heat,
                                inputs, teacher_prior, command, progress=bool(progress))
    if record_alphas is not None:
        raise InputError("record_alphas is an online-mode option; in batch mode alpha is the fixed "
                         "load P/N and the run records times t (record_every).")
    t = check_nonnegative("t", math.inf if t is None else t,
                          "Pass a batch learning time t >= 0 (inf: fully relaxed).", allow_inf=True)
    if dt is not None:
        dt = check_positive("dt", dt, "Pass a time step dt > 0, e.g. dt=0.01.")
    if record_every is not None:
        record_every = check_int("record_every", record_every, minimum=1)
    P = max(1, round(a_final * N))
    check_batch_job(what="simulate teacher-student (batch)",
                    exact=not rule.depends_on_activation, t=t, dt=dt, record_every=record_every,
                    N=N, P=P, R=R, shared=False, max_steps=max_steps)
    return _simulate_batch(key, seed, rule, params, N, R, a_final, t, dt, record_every, inputs,
                           teacher_prior, command, progress=bool(progress))


def _simulate_online(key, seed, rule, params, N, R, a_final, record_alphas, heat, inputs,
                     teacher_prior, command, *, progress=False):
    extra = [] if record_alphas is None else list(np.atleast_1d(np.asarray(record_alphas, float)))
    if any(not math.isfinite(a) or a < 0 or a > a_final for a in extra):
        raise InputError(f"record_alphas must lie in [0, alpha] = [0, {a_final:g}], got {extra!r}.")
    if round(a_final * N) < 1:
        raise InputError(f"alpha*N = {a_final:g}*{N} rounds to 0 samples; increase alpha or N so "
                         "that round(alpha*N) >= 1.")
    res = simulate_online(key, rule, n_weights=N, record_alphas=[*extra, a_final],
                          nu=params.learning_rate, k=params.stiffness,
                          temperature=params.temperature, n_replicas=R, inputs=inputs,
                          teacher_prior=teacher_prior, heat=heat, progress=progress)
    k, nu, T = float(params.stiffness), float(params.learning_rate), float(params.temperature)
    feedback = heat == "kick_relaxation" and bool(rule.depends_on_activation)
    per_rep = _observables(np.asarray(res.overlap), np.asarray(res.norm),
                           np.asarray(res.teacher_norm), T / k)
    heat_pw = np.asarray(res.heat) / N
    per_rep.update(
        heat_per_weight=heat_pw, medium_entropy_change_per_weight=heat_pw / T,
        work_per_weight=np.asarray(res.work) / N,
        energy_change_per_weight=np.asarray(res.energy_change) / N,
        margin_per_weight=per_rep["conditional_entropy_change_per_weight"] + heat_pw / T,
    )
    alphas = np.asarray(res.alphas, float)
    config = dict(task="teacher_student", mode="online", n_weights=N, alpha=a_final,
                  record_alphas=alphas.tolist(), rule=rule.name, k=k, nu=nu, temperature=T,
                  heat=heat, n_replicas=R, inputs=inputs, teacher_prior=teacher_prior, seed=seed)
    coords = {"alpha": coordinate("time", alphas, "1", (
        "online time alpha = samples seen / N (a sample lasts 1/N: also the Langevin time)")),
              "time": coordinate("time", alphas, "time_unit",
                                 "Langevin time (online: = alpha, a sample lasts 1/N)")}
    thermo_vars = {
        "heat": variable(("replica", "time"), np.asarray(res.heat), "k_B T_unit",
                         f"cumulative heat into the bath ({heat})", heat_convention=heat),
        "work": variable(("replica", "time"), np.asarray(res.work), "k_B T_unit",
                         f"cumulative work ({heat})", heat_convention=heat),
        "energy_change": variable(("replica", "time"), np.asarray(res.energy_change), "k_B T_unit",
                                  "V(w) - V(w_0), V = k|w|^2/2"),
        "medium_entropy_change": variable(("replica", "time"), np.asarray(res.heat) / T, "nat",
                                          "heat / T"),
        "first_law_residual": variable(("replica", "time"), np.asarray(res.first_law_residual),
                                       "k_B T_unit", "work - energy_change - heat (rounding only)"),
    }
    heat_desc = {"kick_relaxation": "sum over samples of V(w) - V(w_r), the energy drop of the "
                                    "relaxation sub-step; kick energy changes count as work",
                 "continuous_force": "Stratonovich heat of the force N*Delta acting for 1/N per "
                                     "sample: f.(w'-w) - [V(w') - V(w)] (super-extensive)"}[heat]
    parameters = {
        "n_samples": (int(res.n_samples[-1]), "1", "samples presented (= round(alpha N))"),
        "n_replicas": (R, "1", "number of replicas"),
    }
    return _tree(mode="online", rule=rule, N=N, alpha=a_final, k=k, nu=nu, T=T, per_rep=per_rep,
                 feedback=feedback, coords=coords, thermo_vars=thermo_vars,
                 thermo_attrs={"heat_estimator": heat_desc}, parameters=parameters,
                 teacher_norm=np.asarray(res.teacher_norm), config=config, seed=seed,
                 command=command, heat_convention=heat, path_weights="euler_maruyama",
                 residual=np.asarray(res.first_law_residual))


def _simulate_batch(key, seed, rule, params, N, R, alpha, t, dt, record_every, inputs,
                    teacher_prior, command, *, progress=False):
    t = math.inf if t is None else float(t)
    if math.isnan(t) or t < 0:
        raise InputError(f"t (batch learning time) must be >= 0 or inf, got {t!r}.")
    key_data, key_sim = jax.random.split(key)
    data = teacher_student_data(key_data, N, alpha, n_replicas=R, inputs=inputs,
                                teacher_prior=teacher_prior)
    res = simulate(key_sim, data, rule, params, t=t, dt=dt, record_every=record_every,
                   progress=progress)
    k, nu, T = float(params.stiffness), float(params.learning_rate), float(params.temperature)
    xi, sig, teacher = (jnp.asarray(a) for a in (data.inputs, data.labels, data.teacher))
    w0 = jnp.asarray(res.initial_weights)
    if res.paths is not None:
        W = jnp.asarray(res.paths)                                  # (replica, time, weight)
        times = np.asarray(res.times, float)
        u0 = total_potential(w0, xi, sig, rule, params)
        ut = total_potential(W, xi[:, None], sig[:, None], rule, params)
        heat = np.asarray(u0[:, None] - ut)
    else:
        W = jnp.asarray(res.final_weights)[:, None, :]
        times = np.array([t])
        heat = np.asarray(res.heat_exact)[:, None]
    dV = np.asarray(bare_potential(W, k) - bare_potential(w0, k)[:, None])
    overlap = np.asarray(jnp.einsum("rtn,rn->rt", W, teacher)) / N
    norm = np.asarray(jnp.sum(W * W, -1)) / N
    per_rep = _observables(overlap, norm, np.asarray(jnp.sum(teacher**2, -1)) / N, T / k)
    heat_pw = heat / N
    per_rep.update(
        heat_per_weight=heat_pw, medium_entropy_change_per_weight=heat_pw / T,
        work_per_weight=(heat + dV) / N, energy_change_per_weight=dV / N,
        margin_per_weight=per_rep["conditional_entropy_change_per_weight"] + heat_pw / T,
    )
    P = data.n_patterns
    config = dict(task="teacher_student", mode="batch", n_weights=N, alpha=alpha, n_patterns=P,
                  rule=rule.name, k=k, nu=nu, temperature=T, t=t, dt=dt, record_every=record_every,
                  method=res.method, n_replicas=R, inputs=inputs, teacher_prior=teacher_prior,
                  seed=seed)
    coords = {"t": coordinate("time", times, "time_unit", "Langevin time t", allow_inf=1),
              "time": coordinate("time", times, "time_unit", "Langevin time t", allow_inf=1)}
    thermo_vars = {
        "heat": variable(("replica", "time"), heat, "k_B T_unit",
                         "heat into the bath, exact U_tot(w_0) - U_tot(w_t)"),
        "work": variable(("replica", "time"), heat + dV, "k_B T_unit",
                         "exclusive work = heat + energy_change"),
        "energy_change": variable(("replica", "time"), dV, "k_B T_unit",
                                  "V(w_t) - V(w_0), V = k|w|^2/2"),
        "medium_entropy_change": variable(("replica", "time"), heat / T, "nat", "heat / T"),
        "heat_integrated": variable("replica", np.asarray(res.heat), "k_B T_unit",
                                    "Stratonovich sum of the heat on the sampled path, final time"),
        "first_law_residual": variable("replica", np.asarray(res.first_law_residual), "k_B T_unit",
                                       "work - energy change - heat of the integrated sums, final time"),
    }
    parameters = {
        "n_patterns": (P, "1", "number of samples P = round(alpha N)"),
        "alpha_realised": (P / N, "1", "realised load P/N"),
        "time": (t, "time_unit", "learning time t (inf: fully relaxed)"),
        "dt": (res.dt, "time_unit", "time step (0: no step)"),
        "n_steps": (res.n_steps, "1", "number of time steps"),
        "n_replicas": (R, "1", "number of replicas"),
    }
    return _tree(mode="batch", rule=rule, N=N, alpha=alpha, k=k, nu=nu, T=T, per_rep=per_rep,
                 feedback=False, coords=coords, thermo_vars=thermo_vars,
                 thermo_attrs={"heat_estimator": "exact_minus_delta_U_tot"},
                 parameters=parameters, teacher_norm=np.asarray(jnp.sum(teacher**2, -1)) / N,
                 config=config, seed=seed, command=command, heat_convention="not_applicable",
                 path_weights=res.method, residual=np.asarray(res.first_law_residual))


def _tree(*, mode, rule, N, alpha, k, nu, T, per_rep, feedback, coords, thermo_vars,
          thermo_attrs, parameters, teacher_norm, config, seed, command, heat_convention,
          path_weights, residual):
    values, bound, fb, status = _summary(per_rep, T=T, feedback=feedback)
    root = {**provenance(config=config, seed=seed, command=command),
            **conventions_attrs(entropy_convention="annealed", heat_convention=heat_convention,
                                path_weights=path_weights, data_protocol="per_replica",
                                temperature=T),
            "task": "teacher_student", "mode": mode, "rule": rule.name, "simulation": 1,
            "entropy_estimator": "gaussian_order_parameters",
            "title": f"thermoinfer teacher-student simulation ({mode})"}
    params = {
        "n_weights": (N, "1", "number of weights N"),
        "alpha": (float(alpha), "1", "online: final online time; batch: load P/N requested"),
        "stiffness": (k, "time_unit-1", "weight decay k"),
        "learning_rate": (nu, "1", "learning rate nu"),
        "temperature": (T, "k_B T_unit", "bath temperature T (k_B = 1)"),
        **parameters,
    }
    pds = xr.Dataset({name: variable((), v, u, ln) for name, (v, u, ln) in params.items()})
    for name in ("time", "dt"):
        if name in pds:
            pds[name].attrs["allow_inf"] = 1
    rep = index("replica", per_rep["R"].shape[0], "replica (student with its own teacher)")
    info_names = ("R", "Q", "rho", "generalization_error", "mutual_information_per_weight",
                  "entropy_change_per_weight", "conditional_entropy_change_per_weight")
    info = xr.Dataset(
        {name: variable(("replica", "time"), per_rep[name], *SUMMARY_FIELDS[name]) for name in info_names}
        | {"teacher_norm": variable("replica", teacher_norm, "1", "|T|^2 / N")},
        coords={"replica": rep, **coords},
        attrs={"estimator": "per replica from the order parameters (Gaussian, docs/theory/teacher-student-and-online.md, eq. (60))"},
    )
    thermo = xr.Dataset(
        thermo_vars | {"margin": variable(("replica", "time"), per_rep["margin_per_weight"], "nat",
                                          "per-replica bound margin (Delta S(w|T) + q/T)/N")},
        coords={"replica": rep, **coords}, attrs={**thermo_attrs, "heat_convention": heat_convention},
    )
    extra = {"first_law_residual_max": (float(np.max(np.abs(residual))), "k_B T_unit",
                                        "max |work - energy change - heat| over replicas")}
    summary = xr.Dataset(_summary_ds(values, bound, fb, status, "time", extra), coords=coords)
    tree = xr.DataTree(xr.Dataset(attrs=root))
    tree["parameters"] = pds
    tree["thermodynamics"] = thermo
    tree["information"] = info
    tree["summary"] = summary
    return tree


# --------------------------------------------------------------------------------- theory


#: units and long names of the grid coordinates of the theory
_GRID_UNITS = {
    "nu": ("1", "learning rate nu"),
    "k": ("time_unit-1", "weight decay k"),
    "temperature": ("k_B T_unit", "bath temperature T (k_B = 1)"),
    "t": ("time_unit", "batch learning time t (inf: fully relaxed)"),
}


@float64
def theory_teacher_student(alpha, *, mode: str = "online", rule="hebbian", nu: float = 1.0,
                           k: float = 1.0, temperature: float = 1.0, t=None,
                           heat: str = "kick_relaxation", command: str | None = None) -> xr.DataTree:
    r"""The thermodynamic-limit theory (:func:`thermoinfer.theory.teacher_student.teacher_student_theory`) as a DataTree.

    Every argument among ``alpha, nu, k, temperature`` (and ``t`` in batch mode) given as a 1-D
    list or array is swept: the result is the full grid, one dimension per swept parameter,
    named ``alpha``, ``nu``, ``k``, ``temperature``, ``t`` (in that order) with the values as its
    coordinate, so that ``tree["summary"].sel(alpha=1.0, nu=0.5)`` picks one point. ``alpha`` is
    the online time (online; ``inf`` = steady state) or the load P/N (batch). ``summary`` holds
    the fields of :data:`SUMMARY_FIELDS` (no ``_se``: exact), the two flags and
    ``efficiency_status``. Infinite heat (a steady state that keeps dissipating) is stored as
    ``inf`` with ``allow_inf``.

    Examples
    --------
    >>> tree = theory_teacher_student(1.0)
    >>> round(float(tree["summary"]["heat_per_weight"]), 5), tree.attrs["heat_convention"]
    (0.39084, 'kick_relaxation')
    >>> grid = theory_teacher_student([0.5, 1.0, 2.0], nu=[0.5, 1.0])
    >>> dict(grid["summary"].sizes)
    {'alpha': 3, 'nu': 2}
    >>> round(float(grid["summary"]["heat_per_weight"].sel(alpha=1.0, nu=1.0)), 5)
    0.39084
    """
    import itertools

    from .theory.teacher_student import teacher_student_theory

    given = {"alpha": alpha, "nu": nu, "k": k, "temperature": temperature}
    if t is not None:
        given["t"] = t
    axes, _ = grid_axes(given)
    dims = tuple(name for name in given if name in axes)
    others = [d for d in dims if d != "alpha"]
    shape = tuple(axes[d].size for d in dims)
    names = ("R", "Q", "rho", "generalization_error", "mutual_information_per_weight",
             "entropy_change_per_weight", "conditional_entropy_change_per_weight",
             "heat_per_weight", "medium_entropy_change_per_weight", "work_per_weight",
             "energy_change_per_weight", "margin", "efficiency")
    out = {name: np.empty(shape) for name in names}
    codes = np.empty(shape, dtype=int)
    bound = np.empty(shape, dtype=bool)
    feedback = np.empty(shape, dtype=bool)
    conv = None
    lead = (slice(None),) if "alpha" in axes else ()
    for combo in itertools.product(*(range(axes[d].size) for d in others)):
        point = dict(given)
        point.update({d: float(axes[d][i]) for d, i in zip(others, combo, strict=True)})
        if "alpha" in axes:
            point["alpha"] = axes["alpha"]
        th = teacher_student_theory(point["alpha"], mode=mode, rule=rule, nu=point["nu"],
                                    k=point["k"], temperature=point["temperature"],
                                    t=point.get("t"), heat=heat)
        conv = conv or dict(th.conventions)
        at = lead + combo
        for name in names:
            out[name][at] = np.asarray(getattr(th, name), dtype=float)
        codes[at] = np.asarray(th.status)
        bound[at] = np.asarray(th.bound_satisfied, bool)
        feedback[at] = np.asarray(th.feedback_uncorrected, bool)
    fields = dict(out)
    fields["margin_per_weight"] = fields.pop("margin")
    data = {}
    for name in SUMMARY_FIELDS:
        units, ln = SUMMARY_FIELDS[name]
        arr = fields[name]
        data[name] = variable(dims, arr, units, ln, **({"allow_inf": 1} if np.isinf(arr).any() else {}))
    status = (np.vectorize(lambda c: EFFICIENCY_STATUS[int(c)], otypes=[str])(codes) if shape
              else EFFICIENCY_STATUS[int(codes)])
    # the status is the variable efficiency_status, never a per-point attribute
    data["bound_satisfied"] = variable(dims, bound, "1", _FLAG_DOC["bound_satisfied"])
    data["feedback_uncorrected"] = variable(dims, feedback, "1", _FLAG_DOC["feedback_uncorrected"])
    data["efficiency_status"] = variable(dims, status, "1", _FLAG_DOC["efficiency_status"])
    alpha_ln = "online time (samples per weight)" if mode == "online" else "load P/N"
    coords = {d: coordinate(d, axes[d], *(("1", alpha_ln) if d == "alpha" else _GRID_UNITS[d]),
                            allow_inf=1) for d in dims}
    if "alpha" not in axes:  # a single point still names its alpha
        coords["alpha"] = variable((), float(np.asarray(alpha, dtype=float)), "1", alpha_ln,
                                   allow_inf=1)
    summary = xr.Dataset(data, coords=coords)
    param_spec = {"nu": ("learning_rate", "1", "learning rate nu"),
                  "k": ("stiffness", "time_unit-1", "weight decay k"),
                  "temperature": ("temperature", "k_B T_unit", "bath temperature T (k_B = 1)"),
                  "t": ("time", "time_unit",
                        "batch learning time t (inf: fully relaxed; online: not used)")}
    pvars = {}
    for name, (var, units, ln) in param_spec.items():
        extra = {"allow_inf": 1} if name == "t" else {}
        if name in axes:
            if var != name:
                pvars[var] = variable((name,), axes[name], units, ln, **extra)
        else:
            value = math.inf if (name == "t" and t is None) else float(np.asarray(given[name], dtype=float))
            pvars[var] = variable((), value, units, ln, **extra)
    params = xr.Dataset(pvars, coords={d: coords[d] for d in dims if d != "alpha"})
    heat_conv = conv.get("heat_convention", "kick_relaxation" if mode == "online" else "not_applicable")
    alphas = np.atleast_1d(np.asarray(axes.get("alpha", alpha), dtype=float))
    config = dict(task="teacher_student", kind="theory", mode=mode, alpha=alphas.tolist(),
                  rule=get_rule(rule).name, nu=_as_list(nu), k=_as_list(k),
                  temperature=_as_list(temperature), t=None if t is None else _as_list(t),
                  heat=heat, grid=list(dims))
    T0 = float("nan") if "temperature" in axes else float(np.asarray(temperature, dtype=float))
    root = {**provenance(config=config, command=command if command is not None else " ".join(sys.argv)),
            **conventions_attrs(entropy_convention="annealed", heat_convention=heat_conv,
                                temperature=T0),
            "task": "teacher_student", "mode": mode, "rule": get_rule(rule).name, "simulation": 0,
            "solver": str(conv.get("solver", "")), "averages": str(conv.get("averages", "")),
            "title": f"thermoinfer teacher-student theory ({mode}, thermodynamic limit)"}
    tree = xr.DataTree(xr.Dataset(attrs=root))
    tree["parameters"] = params
    tree["summary"] = summary
    return tree


def _as_list(x):
    return np.asarray(x, dtype=float).tolist()


# --------------------------------------------------------------------------------- JSON


def summary_dict(tree: xr.DataTree) -> dict:
    """The ``summary`` group as a flat dict (JSON schema of the CLI).

    Length-1 dimensions become scalars, longer ones lists (nested, in the order of ``grid``, for
    a theory grid of several swept parameters: ``grid`` maps each to its values); ``alpha`` (and ``t``
    for batch simulations) are included; ``status`` is the efficiency status (``efficiency_status``
    too); ``conventions`` names every convention. NaN stays NaN here (the CLI prints null).
    """
    ds = tree["summary"].to_dataset()
    squeeze = all(ds.sizes[d] == 1 for d in ds.dims)

    def val(v):
        a = np.asarray(v)
        if a.ndim == 0:
            return a.item()
        if squeeze:
            return a.reshape(-1)[0].item()
        return a.tolist()

    out = {"mode": tree.attrs["mode"], "rule": tree.attrs["rule"]}
    if tree.attrs.get("simulation") != 1 and ds.dims and not squeeze:
        out["grid"] = {str(d): ds[d].values.tolist() for d in ds["efficiency"].dims}
    for name in ("alpha", "t"):
        if name in ds.coords:
            out[name] = val(ds[name].values)
    if "t" in out:
        out["time_is_infinite"] = bool(np.all(np.isinf(ds["t"].values)))
    for name, var in ds.data_vars.items():
        out[name] = val(var.values)
    out["status"] = out["efficiency_status"]
    out["conventions"] = {name: tree.attrs[name] for name in
                          ("entropy_convention", "heat_convention", "stochastic_calculus",
                           "path_weights", "work", "information_unit", "data_protocol",
                           "temperature")}
    out["conventions"]["overlap"] = "R = w.T/N and rho = R/sqrt(Q) both reported"
    if tree.attrs.get("simulation") == 1:
        out["conventions"]["entropy_estimator"] = tree.attrs["entropy_estimator"]
    else:
        out["conventions"]["limit"] = "thermodynamic"
        out["conventions"]["solver"] = tree.attrs.get("solver", "")
    return out

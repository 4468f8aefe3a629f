r"""Teacher–student learning in the thermodynamic limit (docs/theory/teacher-student-and-online.md; Goldt & Seifert,
NJP 2017).

A student perceptron $\boldsymbol\omega$ learns the rule $\sigma_T=\mathrm{sgn}(\boldsymbol T\cdot\boldsymbol\xi/\sqrt N)$
of a teacher $|\boldsymbol T|^2=N$ in the Langevin dynamics of docs/theory/model.md, eq. (8) (weight decay $k$, learning rate
$\nu$, temperature $T$, $k_B=\mu=1$), starting in equilibrium, $\boldsymbol\omega(0)\sim\mathcal N(0,(T/k)\mathbb 1)$.
Everything is expressed through the order parameters $R=\boldsymbol\omega\cdot\boldsymbol T/N$ and
$Q=|\boldsymbol\omega|^2/N$, with $\rho=R/\sqrt Q$, $Q_0=T/k$, per weight (docs/theory/teacher-student-and-online.md, eq. (60)):

$$\epsilon_g=\frac{\arccos\rho}\pi,\qquad\frac IN=-\tfrac12\ln(1-\rho^2),\qquad
\frac{\Delta S(\boldsymbol\omega)}N=\tfrac12\ln\frac Q{Q_0},\qquad
\frac{\Delta S(\boldsymbol\omega|\boldsymbol T)}N=\tfrac12\ln\frac{Q-R^2}{Q_0}.$$

**Online** (one fresh sample per update, time $\alpha$; docs/theory/teacher-student-and-online.md, eq. (64)): the ODEs

$$\frac{dR}{d\alpha}=-kR+\nu\langle F\sigma_Tu\rangle,\qquad
\frac{dQ}{d\alpha}=-2kQ+2\nu\langle F\sigma_Th\rangle+\nu^2\langle F^2\rangle+2T,\qquad
\frac{d}{d\alpha}\frac{\Delta Q}N=k(kQ-T)\ \ (\texttt{kick\_relaxation}),$$

with $R(0)=0$, $Q(0)=T/k$, are integrated by :func:`scipy.integrate.solve_ivp` (DOP853, tight
tolerances) in the excess variable $D=Q-T/k$, $dD/d\alpha=-2kD+2\nu\langle F\sigma_Th\rangle+\nu^2\langle F^2\rangle$,
so that the thermal terms cancel exactly (the AdaTron at $\nu=2$ keeps $Q\equiv T/k$ to the last bit).
Online Hebbian learning has a closed form (eq. (67)–(69) there), used by default.

**Batch** (fixed $P=\alpha N$ samples, Langevin time $t$): only Hebbian learning has a closed form
(eq. (61)–(63) there).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import root

from .._x64 import float64
from ..errors import InputError, _show, check_array, check_choice
from ..information.efficiency import efficiency as _efficiency
from ..rules import RULES, get_rule
from .gaussian_averages import N_ANGLE, N_RADIUS, _resolve, _scalar_averages
from .memorization import Conventions

__all__ = [
    "MODES",
    "HEAT_CONVENTIONS",
    "SOLVERS",
    "OrderParameterSolution",
    "TeacherStudentTheory",
    "order_parameter_ode",
    "teacher_student_theory",
]

#: learning modes (docs/theory/model.md)
MODES: tuple[str, ...] = ("online", "batch")
#: heat conventions by name (docs/theory/teacher-student-and-online.md); theory supports ``kick_relaxation`` only online
HEAT_CONVENTIONS: tuple[str, ...] = ("kick_relaxation", "continuous_force", "not_applicable")
#: how the online order parameters are obtained
SOLVERS: tuple[str, ...] = ("auto", "closed_form", "ode")

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_RTOL = 1e-11
_ATOL = 1e-13


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


class OrderParameterSolution(NamedTuple):
    r"""Solution of the online order-parameter ODEs on the requested $\alpha$ grid (1-D arrays)."""

    alpha: object
    r"""Online time $\alpha$ (samples per weight), as requested; ``inf`` is the steady state."""
    R: object
    r"""$R=\boldsymbol\omega\cdot\boldsymbol T/N$ (activation units)."""
    Q: object
    r"""$Q=|\boldsymbol\omega|^2/N$ (activation units squared)."""
    excess_Q: object
    r"""$D=Q-T/k$, integrated directly (activation units squared)."""
    heat_per_weight: object
    r"""$\Delta Q/N=\int_0^\alpha k(kQ-T)\,d\alpha'$ under ``kick_relaxation`` (energy units)."""
    heat_rate_per_weight: object
    r"""$k(kQ-T)$, energy units per unit $\alpha$."""


class TeacherStudentTheory(NamedTuple):
    r"""Teacher–student learning in the thermodynamic limit, per weight
    (docs/theory/teacher-student-and-online.md).

    Online: 1-D (or 0-D for scalar ``alpha``) arrays over the $\alpha$ grid. Batch: arrays of the
    broadcast shape of ``alpha, t, nu, k, temperature``. Informations and entropies in nats, heat,
    work and energy in energy units ($k_B=1$).
    """

    alpha: object
    r"""Load / online time $\alpha$ (samples per weight)."""
    R: object
    r"""Overlap $R=\boldsymbol\omega\cdot\boldsymbol T/N$ (activation units)."""
    Q: object
    r"""Student norm $Q=|\boldsymbol\omega|^2/N$ (activation units squared)."""
    rho: object
    r"""Normalised overlap $\rho=R/\sqrt Q$ (dimensionless; [NJP] may call this "$R$")."""
    generalization_error: object
    r"""$\epsilon_g=\arccos(\rho)/\pi$ (dimensionless)."""
    mutual_information_per_weight: object
    r"""$I(\boldsymbol T:\boldsymbol\omega)/N=-\tfrac12\ln(1-\rho^2)$, nats."""
    entropy_change_per_weight: object
    r"""$\Delta S(\boldsymbol\omega)/N=\tfrac12\ln(Q/Q_0)$, $Q_0=T/k$, nats."""
    conditional_entropy_change_per_weight: object
    r"""$\Delta S(\boldsymbol\omega|\boldsymbol T)/N=\tfrac12\ln((Q-R^2)/Q_0)$, nats."""
    heat_per_weight: object
    r"""$\Delta Q/N$, energy units, positive into the bath (online: ``kick_relaxation``)."""
    heat_rate_per_weight: object
    r"""$d(\Delta Q/N)/d\alpha=k(kQ-T)$ online; $d(\Delta Q/N)/dt$ in batch mode (energy units)."""
    medium_entropy_change_per_weight: object
    r"""$\Delta Q/(NT)$, nats."""
    energy_change_per_weight: object
    r"""$\Delta V/N=\tfrac k2(Q-Q_0)$, energy units."""
    work_per_weight: object
    r"""$W/N=\Delta Q/N+\Delta V/N$ (online: the energy put in by the kicks), energy units."""
    efficiency: object
    r"""$\eta=I/(\Delta S+\Delta Q/T)$, NaN where not meaningful (see ``status``)."""
    margin: object
    r"""Bound margin $(\Delta S+\Delta Q/T-I)/N=(\Delta S(\boldsymbol\omega|\boldsymbol T)+\Delta Q/T)/N$, nats."""
    bound_satisfied: object
    """``margin >= 0`` (bool)."""
    feedback_uncorrected: object
    """bool: online kicks depend on the weights under ``kick_relaxation`` (Perceptron, AdaTron)."""
    status: object
    """int code into :data:`thermoinfer.information.EFFICIENCY_STATUS` (0 = ``"ok"``)."""
    conventions: Conventions
    """Conventions: ``mode``, ``rule``, ``heat_convention``, ``temperature``, units, solver."""


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _scalar(name, value, *, minimum, strict, what, fix) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise InputError(f"{name} ({what}) must be a number, got {_show(value)}. {fix}")
    if np.ndim(value) != 0:
        raise InputError(f"{name} ({what}) must be a scalar in online mode, got shape "
                         f"{np.shape(value)}. {fix} (Batch mode broadcasts arrays.)")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} ({what}) must be a number, got {_show(value)}. {fix}") from None
    if not math.isfinite(v) or (v <= minimum if strict else v < minimum):
        rel = ">" if strict else ">="
        raise InputError(f"{name} ({what}) must be finite and {rel} {minimum:g}, got {_show(value)}. {fix}")
    return v


def _array(name, value, *, minimum, strict, allow_inf, what, fix) -> np.ndarray:
    return check_array(name, value, minimum=minimum, strict=strict, allow_inf=allow_inf,
                       what=what, fix=fix)


_FIX = {
    "nu": ("learning rate", "Pass a learning rate >= 0, e.g. nu=1.0."),
    "k": ("stiffness of the weight decay, 1/time", "Pass a positive stiffness, e.g. k=1.0."),
    "temperature": ("bath temperature, energy units with k_B = 1",
                    "Pass a positive temperature, e.g. temperature=1.0."),
}


def _check_heat(mode, heat) -> str:
    check_choice("heat", heat, HEAT_CONVENTIONS)
    if mode == "batch":
        # no kicks: the batch heat is the ordinary Langevin heat under either name
        return "not_applicable"
    if heat == "continuous_force":
        raise InputError(
            "heat='continuous_force' has no thermodynamic-limit theory: the update acts as a force "
            "over the sample duration 1/N and the heat per weight grows like N "
            "(docs/theory/teacher-student-and-online.md, 'Online heat: two conventions'). "
            "The theory supports heat='kick_relaxation' (kicks are work, heat is released in the "
            "thermal relaxation); for continuous_force simulate at finite N instead "
            "(`thermoinfer simulate teacher-student --heat continuous_force ...`)."
        )
    if heat == "not_applicable":
        raise InputError("heat='not_applicable' is for batch mode; online learning needs a heat "
                         "convention: pass heat='kick_relaxation'.")
    return heat


def _check_solver(solver, rule) -> str:
    check_choice("solver", solver, SOLVERS)
    if solver == "closed_form" and rule is not RULES["hebbian"]:
        raise InputError(
            f"solver='closed_form' exists only for online Hebbian learning, got rule {rule.name!r}. "
            "Pass solver='auto' or solver='ode'."
        )
    if solver == "auto":
        return "closed_form" if rule is RULES["hebbian"] else "ode"
    return solver


def _check_tolerances(rtol, atol) -> tuple[float, float]:
    rt = _scalar("rtol", rtol, minimum=0.0, strict=True, what="relative ODE tolerance",
                 fix="Pass e.g. rtol=1e-11.")
    at = _scalar("atol", atol, minimum=0.0, strict=True, what="absolute ODE tolerance",
                 fix="Pass e.g. atol=1e-13.")
    return rt, at


def _online_grid(alpha) -> np.ndarray:
    fix = "Pass the online time (samples per weight) as alpha >= 0, e.g. alpha=[0.5, 1, 2], or inf for the steady state."
    if np.ndim(alpha) > 1:
        raise InputError(f"alpha must be a scalar or a 1-D array in online mode, got shape "
                         f"{np.shape(alpha)}. {fix}")
    return _array("alpha", alpha, minimum=0.0, strict=False, allow_inf=True,
                  what="online time, samples per weight", fix=fix)


# --------------------------------------------------------------------------------------------
# stable elementary functions
# --------------------------------------------------------------------------------------------

_SMALL = 0.1
# h(u) = u + expm1(-u) = sum_{n>=2} (-1)^n u^n / n!
_H_COEFFS = [0.0, 0.0] + [(-1.0) ** n / math.factorial(n) for n in range(2, 18)]
# g(u) = int_0^u (1 - e^{-s})^2 ds = sum_{n>=2} (-1)^n (2^n - 2) u^{n+1} / (n+1)!
_G_COEFFS = [0.0, 0.0, 0.0] + [(-1.0) ** n * (2.0**n - 2.0) / math.factorial(n + 1)
                               for n in range(2, 18)]


def _poly(u, coeffs):
    acc = jnp.zeros_like(u) + coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * u + c
    return acc


def _h(u):
    r"""$u+\mathrm{expm1}(-u)=\int_0^u(1-e^{-s})ds$, $u\ge0$ (``inf`` at ``inf``)."""
    us = jnp.where(u < _SMALL, _SMALL, u)
    return jnp.where(u < _SMALL, _poly(u, _H_COEFFS), us + jnp.expm1(-us))


def _g(u):
    r"""$\int_0^u(1-e^{-s})^2ds$, $u\ge0$ (``inf`` at ``inf``)."""
    us = jnp.where(u < _SMALL, _SMALL, u)
    closed = us + 2.0 * jnp.expm1(-us) - 0.5 * jnp.expm1(-2.0 * us)
    return jnp.where(u < _SMALL, _poly(u, _G_COEFFS), closed)


def _times_inf_safe(coef, x):
    """``coef * x`` with ``0 * inf = 0`` (no learning -> no heat, even at alpha = inf)."""
    return jnp.where(coef == 0, 0.0, coef * jnp.where(coef == 0, 0.0, x))


# --------------------------------------------------------------------------------------------
# observables from the order parameters (shared by every mode and solver)
# --------------------------------------------------------------------------------------------


def _observables(alpha, R, Q0, excess_Q, excess_V, heat, heat_rate, k, temperature, feedback):
    Q = Q0 + excess_Q
    rho = R / jnp.sqrt(Q)
    rho_c = jnp.clip(rho, -1.0, 1.0)
    info = -0.5 * jnp.log1p(-rho_c * rho_c)
    ds = 0.5 * jnp.log1p(excess_Q / Q0)
    ds_cond = 0.5 * jnp.log1p(excess_V / Q0)
    medium = heat / temperature
    energy = 0.5 * k * excess_Q
    eff = _efficiency(info, ds, medium, feedback_uncorrected=feedback)
    fields = dict(
        alpha=alpha, R=R, Q=Q, rho=rho, generalization_error=jnp.arccos(rho_c) / jnp.pi,
        mutual_information_per_weight=info, entropy_change_per_weight=ds,
        conditional_entropy_change_per_weight=ds_cond, heat_per_weight=heat,
        heat_rate_per_weight=heat_rate, medium_entropy_change_per_weight=medium,
        energy_change_per_weight=energy, work_per_weight=heat + energy,
        efficiency=eff.efficiency, margin=eff.margin, bound_satisfied=eff.bound_satisfied,
        feedback_uncorrected=eff.feedback_uncorrected, status=eff.status,
    )
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in fields.values()))
    return {name: jnp.broadcast_to(jnp.asarray(v), shape) for name, v in fields.items()}


# --------------------------------------------------------------------------------------------
# online: closed form (Hebbian) and ODE (every rule)
# --------------------------------------------------------------------------------------------


def _online_hebbian_closed_form(alpha, nu, k, temperature):
    """R, D = Q - T/k, V - T/k, heat, heat rate of online Hebbian learning.

    docs/theory/teacher-student-and-online.md, eq. (67)–(71)."""
    a = jnp.asarray(alpha, dtype=float)
    b = nu * _SQRT_2_OVER_PI
    one_minus = -jnp.expm1(-k * a)                      # 1 - e^{-k alpha}
    R = b / k * one_minus
    excess_V = nu * nu / (2.0 * k) * (-jnp.expm1(-2.0 * k * a))
    excess_Q = R * R + excess_V
    # Delta Q / N = k^2 int_0^alpha (Q - T/k) = (b^2/k) g(k alpha) + (nu^2/4) h(2 k alpha)
    heat = _times_inf_safe(b * b / k, _g(k * a)) + _times_inf_safe(nu * nu / 4.0, _h(2.0 * k * a))
    return R, excess_Q, excess_V, heat, k * k * excess_Q


def _rates(averages, nu, k, temperature):
    q0 = temperature / k

    def rates(R, D):
        fu, fh, f2 = averages(R, q0 + D)
        return -k * R + nu * fu, -2.0 * k * D + 2.0 * nu * fh + nu * nu * f2

    return rates


def _integrate(rates, k, span, y0, t_eval, rtol, atol):
    def rhs(_a, y):
        dR, dD = rates(y[0], y[1])
        return np.array([dR, dD, k * k * y[1]])

    sol = solve_ivp(rhs, span, y0, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - DOP853 on a smooth, bounded right-hand side
        raise InputError(f"the order-parameter ODE failed: {sol.message}. Try looser rtol/atol.")
    return sol.y


def _steady_state(rates, k, q0, y, rtol, atol, max_chunks=60):
    """Integrate on from ``y`` until (R, D) stop moving, then polish the fixed point with a root solve."""
    a = 0.0
    span = 10.0 / k
    for _ in range(max_chunks):
        y = _integrate(rates, k, (a, a + span), y, None, rtol, atol)[:, -1]
        a += span
        dR, dD = rates(y[0], y[1])
        scale = k * max(1.0, abs(y[0]), q0 + abs(y[1]))
        if max(abs(dR), abs(dD)) <= 1e-10 * scale:
            break
        span *= 1.5
    else:  # pragma: no cover - k > 0 makes every built-in rule relax
        raise InputError(
            "the online order parameters did not reach a steady state (alpha = inf) after "
            f"alpha = {a:g}; pass a finite alpha grid instead."
        )
    sol = root(lambda x: np.asarray(rates(x[0], x[1])), y[:2], method="hybr", tol=1e-15)
    if sol.success and np.all(np.abs(sol.x - y[:2]) <= 1e-6 * max(1.0, q0)):
        y = np.array([sol.x[0], sol.x[1], y[2]])
    R, D, heat_transient = y
    rate = k * k * D
    # the heat grows like rate * alpha; it stays finite only if the steady rate vanishes
    # (Q* = T/k, e.g. the AdaTron at nu = 2), and is then the integrated transient heat
    if abs(D) <= 1e-10 * q0:
        heat = heat_transient
    else:
        heat = math.copysign(math.inf, rate)
    return R, D, heat, rate


@float64
def order_parameter_ode(alpha, *, rule="hebbian", nu=1.0, k=1.0, temperature=1.0,
                        averages: str = "auto", rtol: float = _RTOL, atol: float = _ATOL,
                        n_angle: int = N_ANGLE, n_radius: int = N_RADIUS) -> OrderParameterSolution:
    r"""Solve the online order-parameter ODEs for any registered rule.

    The ODEs are eq. (64) of docs/theory/teacher-student-and-online.md.

    $$\frac{dR}{d\alpha}=-kR+\nu\langle F\sigma_Tu\rangle,\quad
    \frac{dD}{d\alpha}=-2kD+2\nu\langle F\sigma_Th\rangle+\nu^2\langle F^2\rangle,\quad
    \frac{d}{d\alpha}\frac{\Delta Q}N=k^2D,$$

    with $D=Q-T/k$ (equivalent to $dQ/d\alpha=\dots+2T$ and $d(\Delta Q/N)/d\alpha=k(kQ-T)$, but the
    thermal terms cancel exactly), $R(0)=D(0)=0$, $\Delta Q(0)=0$. Integrated by
    :func:`scipy.integrate.solve_ivp` (DOP853) with the averages of :func:`gaussian_averages`
    (closed forms for the built-in rules, sector quadrature otherwise). ``alpha = inf`` is the
    steady state: the ODEs are integrated until $(R, D)$ stop moving (rates below $10^{-10}k$), and
    the fixed point is polished by :func:`scipy.optimize.root`. Its heat is $\pm\infty$ (the sign of
    the steady rate $k(kQ^*-T)$), or the finite integrated heat when $Q^*=T/k$ (to $10^{-10}$).

    Parameters
    ----------
    alpha : float or 1-D array_like
        Online time $\alpha\ge0$ (samples per weight), any order, ``inf`` allowed.
    rule : str or LearningRule
        Any registered rule.
    nu : float
        Learning rate $\nu\ge0$.
    k : float
        Weight-decay stiffness $k>0$ (1/time).
    temperature : float
        Bath temperature $T>0$ (energy units).
    averages : {"auto", "closed_form", "quadrature"}
        How the Gaussian averages are evaluated (see :func:`gaussian_averages`).
    rtol, atol : float
        Tolerances of ``solve_ivp``.
    n_angle, n_radius : int
        Quadrature nodes per sector (user rules).

    Returns
    -------
    OrderParameterSolution
        Arrays of the shape of ``alpha``.

    Examples
    --------
    >>> sol = order_parameter_ode([1.0, float("inf")], rule="hebbian")
    >>> [round(float(v), 5) for v in sol.Q]
    [1.68671, 2.13662]
    """
    rule, method = _resolve(rule, averages, "averages")
    grid = _online_grid(alpha)
    nu_, k_, temp_ = (_scalar(n, v, minimum=0.0, strict=(n != "nu"), what=_FIX[n][0], fix=_FIX[n][1])
                      for n, v in (("nu", nu), ("k", k), ("temperature", temperature)))
    rtol, atol = _check_tolerances(rtol, atol)
    R, D, heat, rate = _solve_online_ode(grid.ravel(), rule, method, nu_, k_, temp_, rtol, atol,
                                         n_angle, n_radius)
    shape = grid.shape
    q0 = temp_ / k_
    return OrderParameterSolution(alpha=grid, R=R.reshape(shape), Q=(q0 + D).reshape(shape),
                                  excess_Q=D.reshape(shape), heat_per_weight=heat.reshape(shape),
                                  heat_rate_per_weight=rate.reshape(shape))


def _solve_online_ode(grid, rule, method, nu, k, temperature, rtol, atol, n_angle, n_radius):
    averages = _scalar_averages(rule, method, int(n_angle), int(n_radius))
    rates = _rates(averages, nu, k, temperature)
    q0 = temperature / k
    R = np.zeros(grid.shape)
    D = np.zeros(grid.shape)
    heat = np.zeros(grid.shape)
    finite = np.isfinite(grid) & (grid > 0)
    if finite.any():
        pts = np.unique(grid[finite])
        y = _integrate(rates, k, (0.0, float(pts[-1])), np.zeros(3), pts, rtol, atol)
        idx = np.searchsorted(pts, grid[finite])
        R[finite], D[finite], heat[finite] = y[0, idx], y[1, idx], y[2, idx]
    inf = np.isinf(grid)
    if inf.any():
        R_s, D_s, heat_s, _ = _steady_state(rates, k, q0, np.zeros(3), rtol, atol)
        R[inf], D[inf], heat[inf] = R_s, D_s, heat_s
    return R, D, heat, k * k * D


# --------------------------------------------------------------------------------------------
# batch Hebbian closed form
# --------------------------------------------------------------------------------------------


def _batch_hebbian(alpha, t, nu, k, temperature):
    """Batch Hebbian closed form with T: R, D = Q - T/k, V - T/k, heat and heat rate (per unit time).

    docs/theory/teacher-student-and-online.md, eq. (61)–(62)."""
    c = nu / k * (-jnp.expm1(-k * t))                     # c_t
    a2 = alpha + 2.0 * alpha * alpha / jnp.pi             # alpha + 2 alpha^2 / pi
    R = c * alpha * _SQRT_2_OVER_PI
    excess_Q = c * c * a2
    excess_V = c * c * alpha
    heat = nu * nu / (2.0 * k) * a2 * (-jnp.expm1(-2.0 * k * t))
    rate = nu * nu * a2 * jnp.exp(-2.0 * k * t)
    return R, excess_Q, excess_V, heat, rate


# --------------------------------------------------------------------------------------------
# the public entry point
# --------------------------------------------------------------------------------------------


@float64
def teacher_student_theory(alpha, *, mode: str = "online", rule="hebbian", nu=1.0, k=1.0,
                           temperature=1.0, t=None, heat: str = "kick_relaxation",
                           solver: str = "auto", averages: str = "auto", rtol: float = _RTOL,
                           atol: float = _ATOL) -> TeacherStudentTheory:
    r"""Teacher–student learning in the thermodynamic limit: order parameters, information, heat, η.

    **Online** (``mode="online"``; equations of docs/theory/teacher-student-and-online.md):
    $R(\alpha)$, $Q(\alpha)$ from the ODEs (64) for any
    registered rule (:func:`order_parameter_ode`), or from the online Hebbian closed form (67)–(69)
    (default for ``rule="hebbian"``),

    $$R=\frac bk(1-e^{-k\alpha}),\quad Q-R^2=\frac Tk+\frac{\nu^2}{2k}(1-e^{-2k\alpha}),\quad
    \frac{\Delta Q}N=\frac{b^2}k\,g(k\alpha)+\frac{\nu^2}4\,h(2k\alpha),\quad b=\nu\sqrt{2/\pi},$$

    with $g(u)=\int_0^u(1-e^{-s})^2ds$ and $h(u)=u-1+e^{-u}$. The heat is the ``kick_relaxation`` heat of
    eq. (70), $d(\Delta Q/N)/d\alpha=k(kQ-T)$: the kicks count as work, the heat is released in the thermal
    relaxation. ``alpha=inf`` is the steady state ($\Delta Q=\pm\infty$ unless $Q^*=T/k$).
    ``feedback_uncorrected`` is ``rule.depends_on_activation`` (Perceptron, AdaTron, user rules not
    declared independent of $h$): their kicks are feedback and $\eta$ is NaN whatever the margin.

    **Batch** (``mode="batch"``, eq. (61)–(63), Hebbian only): with $c_t=\frac\nu k(1-e^{-kt})$,

    $$R=c_t\alpha\sqrt{2/\pi},\quad Q=\frac Tk+c_t^2\Big(\alpha+\frac{2\alpha^2}\pi\Big),\quad
    \frac{\Delta Q}N=\frac{\nu^2}{2k}\Big(\alpha+\frac{2\alpha^2}\pi\Big)(1-e^{-2kt}),$$

    arrays broadcast over ``alpha, t, nu, k, temperature``; ``feedback_uncorrected`` is False.

    Observables for both (eq. (60), $Q_0=T/k$): $\rho=R/\sqrt Q$, $\epsilon_g=\arccos(\rho)/\pi$,
    $I/N=-\frac12\ln(1-\rho^2)$, $\Delta S/N=\frac12\ln(Q/Q_0)$, $\Delta S(\boldsymbol\omega|\boldsymbol T)/N=\frac12\ln((Q-R^2)/Q_0)$,
    $\eta=I/(\Delta S+\Delta Q/T)$ with the bound flags of :func:`thermoinfer.information.efficiency`.

    Temperature (docs/theory/units.md, "How the temperature enters"): for a rule homogeneous of degree $p$ in $h$ ($p=0$ Hebbian and
    Perceptron, $p=1$ AdaTron), the results at $(\nu,T)$ equal those at $(\nu T^{(p-1)/2},1)$ with
    $R\to\sqrt T R$, $Q\to TQ$ and the energies $\to T\times$; every entropy-unit quantity is unchanged.

    Parameters
    ----------
    alpha : float or array_like
        Online: online time $\alpha\ge0$ (scalar or 1-D, any order, ``inf`` = steady state). Batch:
        load $P/N\ge0$ (finite; broadcasts).
    mode : {"online", "batch"}
    rule : str or LearningRule
        Online: any registered rule. Batch: ``"hebbian"`` only (other rules: simulate).
    nu : float or array_like
        Learning rate $\nu\ge0$ (scalar online).
    k : float or array_like
        Weight-decay stiffness $k>0$, 1/time (scalar online).
    temperature : float or array_like
        Bath temperature $T>0$, energy units with $k_B=1$ (scalar online).
    t : float or array_like, optional
        Batch learning time $t\ge0$ (units of $1/k$), default ``inf``; not used online.
    heat : {"kick_relaxation", "continuous_force", "not_applicable"}
        Online heat convention; only ``kick_relaxation`` has a theory (``continuous_force`` is refused:
        its heat per weight grows like $N$). In batch mode there are no kicks and the result records
        ``heat_convention="not_applicable"``.
    solver : {"auto", "closed_form", "ode"}
        Online only: ``"auto"`` is the closed form for Hebbian learning and the ODE otherwise.
    averages : {"auto", "closed_form", "quadrature"}
        Online ODE only: how the Gaussian averages are computed.
    rtol, atol : float
        ODE tolerances (online ODE only).

    Returns
    -------
    TeacherStudentTheory
        NumPy float64 arrays (bool for the flags, int32 for ``status``) and ``conventions``.

    Raises
    ------
    InputError
        For bad values ($k\le0$, $T\le0$, $\nu<0$, $\alpha<0$ or NaN, $t<0$), unknown ``mode``,
        ``heat``, ``solver`` or rule, online ``heat="continuous_force"``, batch mode with a
        non-Hebbian rule or with ``alpha=inf``, and ``t`` given in online mode.

    Examples
    --------
    Online Hebbian learning at $\nu=k=T=1$ (checkpoint 5, docs/theory/checkpoints.md):

    >>> th = teacher_student_theory([1.0, float("inf")])
    >>> [round(float(v), 5) for v in th.R], [round(float(v), 5) for v in th.Q]
    ([0.50436, 0.79788], [1.68671, 2.13662])
    >>> round(float(th.heat_per_weight[0]), 5), round(float(th.efficiency[0]), 5)
    (0.39084, 0.12532)

    The AdaTron at $\nu=2$ reflects the error half-space: $Q\equiv T/k$, no entropy change and no heat,
    yet information is gained; the margin is $-I$ and $\eta$ is flagged:

    >>> th = teacher_student_theory(2.0, rule="adatron", nu=2.0)
    >>> float(th.Q), bool(th.bound_satisfied), bool(th.feedback_uncorrected)
    (1.0, False, True)
    >>> bool(np.isnan(th.efficiency)), float(th.margin) == -float(th.mutual_information_per_weight)
    (True, True)

    Batch Hebbian learning at $\alpha=1$, $t\to\infty$ (checkpoint 4, docs/theory/checkpoints.md):

    >>> th = teacher_student_theory(1.0, mode="batch")
    >>> round(float(th.Q), 4), round(float(th.efficiency), 5)
    (2.6366, 0.10604)

    References
    ----------
    .. [1] S. Goldt and U. Seifert, New J. Phys. 19, 113001 (2017).
       https://doi.org/10.1088/1367-2630/aa89ff
    """
    check_choice("mode", mode, MODES)
    rule = get_rule(rule)
    heat_convention = _check_heat(mode, heat)
    if mode == "batch":
        return _batch(alpha, rule, nu, k, temperature, t, heat_convention, solver, averages)

    if t is not None:
        raise InputError(f"t (the batch learning time) is not used in online mode, got t={t!r}; "
                         "online time is alpha (samples per weight). Drop t or pass mode='batch'.")
    grid = _online_grid(alpha)
    nu_, k_, temp_ = (_scalar(n, v, minimum=0.0, strict=(n != "nu"), what=_FIX[n][0], fix=_FIX[n][1])
                      for n, v in (("nu", nu), ("k", k), ("temperature", temperature)))
    solver_ = _check_solver(solver, rule)
    rule, method = _resolve(rule, averages, "averages")
    rtol, atol = _check_tolerances(rtol, atol)
    q0 = temp_ / k_
    if solver_ == "closed_form":
        R, D, V, heat_, rate = _online_hebbian_closed_form(grid, nu_, k_, temp_)
        method = "not_applicable"
    else:
        R, D, heat_, rate = _solve_online_ode(grid.ravel(), rule, method, nu_, k_, temp_, rtol, atol,
                                              N_ANGLE, N_RADIUS)
        R, D, heat_, rate = (jnp.asarray(v.reshape(grid.shape)) for v in (R, D, heat_, rate))
        V = D - R * R
    fields = _observables(jnp.asarray(grid), R, q0, D, V, heat_, rate, k_, temp_,
                          bool(rule.depends_on_activation))
    conv = _conventions(mode="online", rule=rule, heat=heat_convention, temperature=temp_,
                        solver="closed_form" if solver_ == "closed_form" else "solve_ivp:DOP853",
                        averages=method)
    return TeacherStudentTheory(**fields, conventions=conv)


def _batch(alpha, rule, nu, k, temperature, t, heat_convention, solver, averages):
    if rule is not RULES["hebbian"]:
        raise InputError(
            f"batch teacher-student theory exists only for Hebbian learning (a closed form, "
            f"docs/theory/teacher-student-and-online.md, eq. (61)); rule {rule.name!r} has no closed form in batch mode. Simulate "
            f"instead: `thermoinfer simulate teacher-student --mode batch --rule {rule.name} ...`, "
            "or use mode='online' for the order-parameter ODEs."
        )
    if solver not in ("auto", "closed_form"):
        raise InputError(f"solver must be 'auto' or 'closed_form' in batch mode (batch Hebbian "
                         f"learning is a closed form, no ODE), got {solver!r}.")
    if averages not in ("auto", "closed_form"):
        raise InputError(f"averages must be 'auto' in batch mode (no Gaussian averages are "
                         f"needed), got {averages!r}.")
    traced = any(isinstance(v, jax.core.Tracer) for v in (alpha, nu, k, temperature, t))
    if not traced:
        _array("alpha", alpha, minimum=0.0, strict=False, allow_inf=False,
               what="load P/N, samples per weight", fix="Pass a finite load >= 0, e.g. alpha=1.0.")
        for name in ("nu", "k", "temperature"):
            value = {"nu": nu, "k": k, "temperature": temperature}[name]
            _array(name, value, minimum=0.0, strict=(name != "nu"), allow_inf=False,
                   what=_FIX[name][0], fix=_FIX[name][1])
        if t is not None:
            _array("t", t, minimum=0.0, strict=False, allow_inf=True,
                   what="batch learning time, units of 1/k",
                   fix="Pass t >= 0, or t=float('inf') (default) for the fully relaxed state.")
    f = lambda v: jnp.asarray(v, dtype=float)  # noqa: E731
    alpha_, nu_, k_, temp_ = f(alpha), f(nu), f(k), f(temperature)
    t_ = f(math.inf if t is None else t)
    R, D, V, heat_, rate = _batch_hebbian(alpha_, t_, nu_, k_, temp_)
    fields = _observables(alpha_, R, temp_ / k_, D, V, heat_, rate, k_, temp_, False)
    conv = _conventions(mode="batch", rule=rule, heat=heat_convention, temperature=temperature,
                        solver="closed_form", averages="not_applicable")
    return TeacherStudentTheory(**fields, conventions=conv)


def _conventions(*, mode, rule, heat, temperature, solver, averages) -> Conventions:
    if isinstance(temperature, jax.core.Tracer):
        temp = "traced"
    elif np.ndim(temperature) == 0:
        temp = float(temperature)
    else:
        temp = "array"
    return Conventions(
        task="teacher_student",
        mode=mode,
        rule=rule.name,
        heat_convention=heat,
        entropy_convention="annealed",
        temperature=temp,
        information_unit="nat",
        energy_unit="energy (k_B = 1)",
        overlap="R = omega.T/N and rho = R/sqrt(Q) both reported",
        limit="thermodynamic",
        solver=solver,
        averages=averages,
    )

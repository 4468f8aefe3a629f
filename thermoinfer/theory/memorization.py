r"""Hebbian memorisation in the thermodynamic limit (docs/theory/hebbian-memorisation.md; Goldt & Seifert,
PRL 2017).

A single neuron with $N$ weights stores $P=\alpha N$ random labels by Hebbian learning in an
overdamped Langevin dynamics with weight decay $k$, learning rate $\nu$ and temperature $T$
($k_B = \mu = 1$). With $c_t=\frac\nu k(1-e^{-kt})$ (sudden switch-on at $t=0$) the stability of a
pattern is Gaussian, $\lambda\sim\mathcal N(c_t,\,T/k+\alpha c_t^2)$, and per weight

$$x_t=\frac{k c_t^2}{T}=\frac{\nu^2}{kT}\,\mathrm{expm1}(-kt)^2,\qquad
\epsilon_t=H\Big(\sqrt{\tfrac{x_t}{1+\alpha x_t}}\Big),\qquad
\frac IN=\alpha\,[\ln2-h_2(\epsilon_t)],$$

$$\frac{\Delta Q}{N}=\frac{\alpha\nu^2}{2k}\big(1-e^{-2kt}\big)\ \text{(energy)},\qquad
\frac{\Delta S_a}{N}=\tfrac12\,\mathrm{log1p}(\alpha x_t),\qquad
\eta=\frac{I/N}{\Delta S/N+\Delta Q/(NT)} .$$

The temperature enters as in docs/theory/units.md ("How the temperature enters"): $\nu^2\to\nu^2/T$ in every entropy-unit quantity,
while heat, work and energy keep their $T=1$ form in energy units. Everything here is pure JAX
(``jit``/``grad``/``vmap``-able) except the ``exact_mixture`` Monte Carlo estimate; input checks
run with NumPy on concrete values only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf, erfc

from .._x64 import float64
from ..errors import InputError, check_array, check_choice
from ..information.channels import information_from_u
from ..information.efficiency import efficiency as _efficiency
from ..rules import RULES, get_rule

__all__ = [
    "ENTROPY_CONVENTIONS",
    "PROTOCOLS",
    "Conventions",
    "MemorizationTheory",
    "memorization_theory",
    "marchenko_pastur_entropy",
    "efficiency_slow_learning_limit",
    "efficiency_fast_learning_coefficient",
]

#: entropy conventions of docs/theory/hebbian-memorisation.md, eq. (45)–(48) (``annealed`` is the default)
ENTROPY_CONVENTIONS: tuple[str, ...] = ("annealed", "quenched_gaussian", "exact_mixture")
#: switch-on protocols (docs/theory/model.md; docs/theory/thermodynamics-and-bound.md, eq. (24))
PROTOCOLS: tuple[str, ...] = ("sudden", "linear_ramp")

_SQRT2 = math.sqrt(2.0)


# --------------------------------------------------------------------------------------------
# metadata carried on every result
# --------------------------------------------------------------------------------------------


class Conventions(dict):
    """Read-only mapping of the conventions a result depends on (strings and numbers).

    Keys: ``entropy_convention``, ``protocol``, ``rule``, ``temperature`` (a number, or
    ``"array"`` / ``"traced"`` when it varies or is traced), ``information_unit`` (``"nat"``),
    ``energy_unit``, ``limit`` (``"thermodynamic"`` or the finite ``n_weights`` of an
    ``exact_mixture`` estimate). It is a static JAX pytree node, so a whole
    :class:`MemorizationTheory` can be returned from ``jax.jit``.
    """

    def __hash__(self):  # static pytree nodes must be hashable
        return hash(tuple(sorted((k, str(v)) for k, v in self.items())))

    def _readonly(self, *args, **kwargs):
        raise TypeError("Conventions is read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _readonly  # type: ignore[assignment]


jax.tree_util.register_static(Conventions)


class MemorizationTheory(NamedTuple):
    r"""Thermodynamic-limit Hebbian memorisation (docs/theory/hebbian-memorisation.md), per weight unless stated.

    Every array field has the broadcast shape of the array inputs ``alpha, nu, k, temperature,
    t`` (and ``ramp_time``). Entropies and informations are in nats, heat/work/energy in energy
    units ($k_B=1$).
    """

    training_error: object
    r"""$\epsilon_t=H(c_t/\sqrt{T/k+\alpha c_t^2})$, dimensionless."""
    stability_mean: object
    r"""$c_t=\langle\lambda\rangle$, the mean stability (activation units, $\sqrt{\text{energy}}$ scale: $\propto\nu/k$)."""
    stability_variance: object
    r"""$\mathrm{Var}\,\lambda=T/k+\alpha c_t^2$ (activation units squared)."""
    signal_to_noise: object
    r"""$x_t=k c_t^2/T$ (dimensionless, entropy units)."""
    mutual_information_per_pattern: object
    r"""$I_\mu=\ln2-h_2(\epsilon_t)$, nats per pattern."""
    mutual_information_per_weight: object
    r"""$\sum_\mu I_\mu/N=\alpha I_\mu$, nats per weight."""
    heat_per_weight: object
    r"""$\Delta Q/N$, energy units per weight (positive into the bath)."""
    medium_entropy_per_weight: object
    r"""$\Delta Q/(NT)$, nats per weight."""
    work_per_weight: object
    r"""$W/N=\Delta Q/N+\Delta V/N$ (exclusive work), energy units per weight."""
    energy_change_per_weight: object
    r"""$\Delta V/N=\alpha k c_t^2/2$, energy units per weight."""
    entropy_change_per_weight: object
    r"""$\Delta S(\boldsymbol\omega)/N$ under ``conventions['entropy_convention']``, nats per weight."""
    entropy_change_per_weight_se: object
    r"""Monte Carlo standard error of the above (0 for the closed forms), nats per weight."""
    entropy_change_conditional_per_weight: object
    r"""$\Delta S(\boldsymbol\omega|\sigma_T,\boldsymbol\xi)/N=0$ for Hebbian learning, nats per weight."""
    efficiency: object
    r"""$\eta=I/(\Delta S+\Delta Q/T)$, dimensionless; NaN where not meaningful (see ``status``)."""
    margin: object
    r"""$(\Delta S+\Delta Q/T-I)/N$, nats per weight."""
    bound_satisfied: object
    """``margin >= 0`` (bool)."""
    status: object
    """int code into :data:`thermoinfer.information.EFFICIENCY_STATUS` (0 = ``"ok"``)."""
    conventions: Conventions
    """Conventions used (entropy convention, protocol, rule, temperature, units)."""


# --------------------------------------------------------------------------------------------
# input checks (NumPy, concrete values only)
# --------------------------------------------------------------------------------------------


def _is_traced(value) -> bool:
    return isinstance(value, jax.core.Tracer)


def _check_array(name: str, value, *, minimum: float, strict: bool, allow_inf: bool,
                 what: str, fix: str) -> None:
    """Raise :class:`InputError` naming ``name``, the first bad value and ``fix``."""
    check_array(name, value, minimum=minimum, strict=strict, allow_inf=allow_inf, what=what,
                fix=fix)


def _check_physical(alpha, nu, k, temperature, t) -> None:
    _check_array("alpha", alpha, minimum=0.0, strict=True, allow_inf=False,
                 what="load P/N, samples per weight", fix="Pass a positive load, e.g. alpha=0.5.")
    _check_array("nu", nu, minimum=0.0, strict=False, allow_inf=False,
                 what="learning rate", fix="Pass a learning rate >= 0, e.g. nu=1.0.")
    _check_array("k", k, minimum=0.0, strict=True, allow_inf=False,
                 what="stiffness of the weight decay, 1/time",
                 fix="Pass a positive stiffness, e.g. k=1.0.")
    _check_array("temperature", temperature, minimum=0.0, strict=True, allow_inf=False,
                 what="bath temperature, energy units with k_B = 1",
                 fix="Pass a positive temperature, e.g. temperature=1.0.")
    _check_array("t", t, minimum=0.0, strict=False, allow_inf=True,
                 what="final time, time units",
                 fix="Pass t >= 0, or t=float('inf') for the fully relaxed state.")


def _check_protocol(protocol, ramp_time):
    check_choice("protocol", protocol, PROTOCOLS)
    if protocol == "sudden":
        if ramp_time is not None:
            raise InputError(
                f"ramp_time is only used with protocol='linear_ramp', got ramp_time={ramp_time!r} "
                "with protocol='sudden'. Pass protocol='linear_ramp' or drop ramp_time."
            )
    elif ramp_time is None:
        raise InputError(
            "ramp_time (duration tau of the linear ramp, time units) is required with "
            "protocol='linear_ramp', got None. Pass e.g. ramp_time=10.0."
        )
    else:
        _check_array("ramp_time", ramp_time, minimum=0.0, strict=True, allow_inf=False,
                     what="duration tau of the linear ramp, time units",
                     fix="Pass a positive ramp time, e.g. ramp_time=10.0 (protocol='sudden' is "
                         "the limit tau -> 0).")


def _check_rule(rule) -> None:
    r = get_rule(rule)  # unknown names raise InputError with the list of rules
    if r is not RULES["hebbian"]:
        raise InputError(
            f"no closed form exists for rule {r.name!r} in the thermodynamic limit: only Hebbian "
            "learning is an Ornstein-Uhlenbeck process (docs/theory/hebbian-memorisation.md, 'Perceptron and "
            "AdaTron in batch mode'). Simulate instead: "
            f"`thermoinfer simulate memorization --rule {r.name} ...`."
        )


# --------------------------------------------------------------------------------------------
# stable elementary functions
# --------------------------------------------------------------------------------------------

_SMALL = 0.1  # below this argument the series are used (closed forms lose up to ~2 digits there)


def _series(u, coeffs):
    """sum_j coeffs[j] * u**j by Horner (coeffs from the lowest power)."""
    acc = jnp.zeros_like(u) + coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * u + c
    return acc


# Series (from the lowest power) of three ratios that vanish or stay finite as u -> 0; written as
# ratios so that no u**2 can underflow and XLA cannot rewrite (x/u)/u into x/(u*u).
# (1 - e^{-u})/u = sum_{n>=1} (-1)^{n+1} u^{n-1}/n!
_A_COEFFS = [(-1.0) ** (n + 1) / math.factorial(n) for n in range(1, 16)]
# h(u)/u with h(u) = u - (1 - e^{-u}) = sum_{n>=2} (-1)^n u^n/n!   (h/u ~ u/2)
_H_COEFFS = [0.0] + [(-1.0) ** n / math.factorial(n) for n in range(2, 17)]
# g(u)/u^2 with g(u) = int_0^u (1 - e^{-s})^2 ds = sum_{n>=2} (-1)^n (2^n - 2) u^{n+1}/(n+1)!
_G_COEFFS = [0.0] + [(-1.0) ** n * (2.0**n - 2.0) / math.factorial(n + 1) for n in range(2, 17)]


def _ratio(u, coeffs, closed):
    us = jnp.where(u < _SMALL, _SMALL, u)
    return jnp.where(u < _SMALL, _series(u, coeffs), closed(us))


def _a_over(u):
    r"""$(1-e^{-u})/u$ for $u\ge0$."""
    return _ratio(u, _A_COEFFS, lambda v: -jnp.expm1(-v) / v)


def _h_over(u):
    r"""$[u-(1-e^{-u})]/u$ for $u\ge0$."""
    return _ratio(u, _H_COEFFS, lambda v: (v + jnp.expm1(-v)) / v)


def _g_over2(u):
    r"""$u^{-2}\int_0^u(1-e^{-s})^2ds = [u+2\,\mathrm{expm1}(-u)-\tfrac12\mathrm{expm1}(-2u)]/u^2$."""
    return _ratio(u, _G_COEFFS,
                  lambda v: (v + 2.0 * jnp.expm1(-v) - 0.5 * jnp.expm1(-2.0 * v)) / (v * v))


def _profiles(k, t, tau, protocol):
    r"""Dimensionless time profiles $\varphi_t=kc_t/\nu$ and $\hat Q_t=k\,\Delta Q/(N\alpha\nu^2)$."""
    if protocol == "sudden":
        phi = -jnp.expm1(-k * t)
        qhat = -0.5 * jnp.expm1(-2.0 * k * t)
        return phi, qhat
    u = k * tau
    before = t < tau
    t_in = jnp.minimum(t, tau)                 # time spent in the ramp
    r = t_in / tau                             # fraction of the ramp done
    d = jnp.where(before, 0.0, t - tau)        # time after the ramp (inf at t = inf)
    # mean: m' = -k m + f s/tau, m(0) = 0  =>  c_t = (nu/k) phi_t
    phi_ramp = _h_over(k * t_in) * r
    phi_after = -jnp.expm1(-k * d) + jnp.exp(-k * d) * _h_over(u)
    phi = jnp.where(before, phi_ramp, phi_after)
    # heat rate |f(s) - k m(s)|^2: ramp part g(k t_in)/u^2, relaxation part
    # (1 - e^{-u})^2 (1 - e^{-2kd}) / (2 u^2)
    qhat = _g_over2(k * t_in) * r * r - 0.5 * _a_over(u) ** 2 * jnp.expm1(-2.0 * k * d)
    return phi, qhat


# --------------------------------------------------------------------------------------------
# Marchenko-Pastur entropy (quenched_gaussian)
# --------------------------------------------------------------------------------------------

# Substituting lambda = lambda_- + (lambda_+ - lambda_-)(1 - cos theta)/2 turns
#   (alpha/2) int rho_MP(lambda) ln(1 + x lambda) d lambda
# into (alpha/pi) int_0^pi sin^2(theta) L(lambda(theta)) d theta with L(l) = log1p(x l)/l, an
# even, 2pi-periodic integrand that is analytic in theta (the 1/lambda of rho_MP cancels against
# L's removable point lambda = 0, even at alpha = 1). The trapezoid rule is then spectrally
# accurate, limited only by the log branch point lambda = -1/x, which approaches theta = 0 like
# i/sqrt(x) when alpha ~ 1 and x >> 1. Composing twice with the periodic map
# w(phi) = phi - sin(phi) (w(0) = 0, w(pi) = pi, w ~ phi^3/6) keeps the integrand even and
# periodic and pushes that singularity out to Im(phi) ~ x^{-1/18}. With 256 panels the relative
# error against mpmath is < 1e-15 for x <= 1e8 and < 1e-11 up to x = 1e14, for all alpha
# (checked at alpha in [1e-3, 1e3], including 0.99, 1, 1.0001, 1.01).
_MP_PANELS = 256


def _mp_nodes(n: int):
    h = np.pi / n
    phi = h * np.arange(1, n)       # the endpoints carry zero weight (sin^2 = 0 there)
    theta = phi.copy()
    jac = np.ones_like(phi)
    for _ in range(2):
        jac = jac * (1.0 - np.cos(theta))
        theta = theta - np.sin(theta)
    one_minus_cos = 2.0 * np.sin(0.5 * theta) ** 2
    weights = h * jac * np.sin(theta) ** 2 / np.pi
    return one_minus_cos, weights


_MP_ONE_MINUS_COS, _MP_WEIGHTS = _mp_nodes(_MP_PANELS)


def _log1p_over(lam, x):
    r"""$\mathrm{log1p}(x\lambda)/\lambda$, with its limit $x$ at $\lambda=0$ (grad-safe)."""
    y = x * lam
    small = y < 1e-4
    y_s = jnp.where(small, 1.0, y)
    lam_s = jnp.where(small, 1.0, lam)
    series = x * (1.0 + y * (-0.5 + y * (1.0 / 3.0 - 0.25 * y)))
    return jnp.where(small, series, jnp.log1p(y_s) / lam_s)


def _mp_entropy_log(alpha, lx):
    r""":func:`_mp_entropy` from $\ln x$ for large $x$: $\ln(1+x\lambda)/\lambda =
    [\ln x+\ln(e^{-\ln x}+\lambda)]/\lambda$, finite where $x$ itself overflows."""
    alpha = jnp.asarray(alpha)
    lx = jnp.asarray(lx)[..., None]
    sa = jnp.sqrt(alpha)[..., None]
    lam = (1.0 - sa) ** 2 + 2.0 * sa * jnp.asarray(_MP_ONE_MINUS_COS)
    lam_s = jnp.where(lam > 0, lam, 1.0)
    log_y = lx + jnp.log(lam_s)                      # ln(x lambda)
    small = log_y < math.log(1e-4)
    y = jnp.exp(jnp.where(small, log_y, 0.0))
    series = jnp.exp(lx) * (1.0 + y * (-0.5 + y * (1.0 / 3.0 - 0.25 * y)))
    vals = jnp.where(small, series, (lx + jnp.log(jnp.exp(-lx) + lam_s)) / lam_s)
    return alpha * jnp.sum(jnp.asarray(_MP_WEIGHTS) * vals, axis=-1)


def _mp_entropy(alpha, x):
    alpha = jnp.asarray(alpha)
    x = jnp.asarray(x)
    sa = jnp.sqrt(alpha)[..., None]
    lam = (1.0 - sa) ** 2 + 2.0 * sa * jnp.asarray(_MP_ONE_MINUS_COS)
    vals = _log1p_over(lam, x[..., None])
    return alpha * jnp.sum(jnp.asarray(_MP_WEIGHTS) * vals, axis=-1)


@float64
def marchenko_pastur_entropy(alpha, x):
    r"""Quenched-Gaussian entropy change per weight, $\frac\alpha2\int\rho_{MP}(\lambda)\ln(1+x\lambda)d\lambda$.

    $\rho_{MP}(\lambda)=\sqrt{(\lambda_+-\lambda)(\lambda-\lambda_-)}/(2\pi\alpha\lambda)$ on
    $[\lambda_-,\lambda_+]$, $\lambda_\pm=(1\pm\sqrt\alpha)^2$, with mass 1 for $\alpha\le1$ and
    $1/\alpha$ for $\alpha>1$ (the zero eigenvalues contribute $\ln1=0$), docs/theory/hebbian-memorisation.md, eq. (47).
    Fixed-node trapezoid rule in $\theta$ after
    $\lambda=\lambda_-+(\lambda_+-\lambda_-)(1-\cos\theta)/2$, with a periodic node-clustering
    map at $\theta=0$; relative error $<10^{-11}$ for $x\le10^{14}$, all $\alpha$. Pure JAX.

    Parameters
    ----------
    alpha : array_like
        Load $\alpha=P/N>0$.
    x : array_like
        Signal-to-noise ratio $x_t\ge0$ (dimensionless).

    Returns
    -------
    Array
        $\Delta S_b/N$ in nats per weight; $\simeq\alpha x/2$ for small $x$.

    Examples
    --------
    >>> round(float(marchenko_pastur_entropy(0.5, 1.0)), 6)
    0.158384
    """
    _check_array("alpha", alpha, minimum=0.0, strict=True, allow_inf=False,
                 what="load P/N", fix="Pass e.g. alpha=0.5.")
    _check_array("x", x, minimum=0.0, strict=False, allow_inf=False,
                 what="signal-to-noise ratio", fix="Pass x >= 0, e.g. x=1.0.")
    return _mp_entropy(jnp.asarray(alpha, dtype=float), jnp.asarray(x, dtype=float))


# --------------------------------------------------------------------------------------------
# the theory
# --------------------------------------------------------------------------------------------


def _snr(nu, phi, k, temperature):
    r"""$\sqrt{x_t}=\nu\varphi_t/\sqrt{kT}$ split for extreme values: ``(big, ls, s_small)``.

    ``big``: $\sqrt{x_t}>1$; ``ls`` $=\ln\sqrt{x_t}$ computed from the logarithms of the inputs
    (finite even where $x_t$ itself overflows, e.g. $\nu=10^{160}$ or $k=10^{-300}$), valid where
    ``big``; ``s_small`` $=\sqrt{x_t}$ where not ``big`` (else 0). Grad-safe (no branch sees an
    inf or a log of 0)."""
    pos = (nu > 0) & (phi > 0)
    nu_p = jnp.where(pos, nu, 1.0)
    phi_p = jnp.where(pos, phi, 1.0)
    ls = jnp.log(nu_p) + jnp.log(phi_p) - 0.5 * (jnp.log(k) + jnp.log(temperature))
    big = pos & (ls > 0.0)
    ls = jnp.where(big, ls, 0.0)
    nu_s = jnp.where(big, 0.0, nu)
    s_small = nu_s * phi / (jnp.sqrt(k) * jnp.sqrt(temperature))
    return big, ls, s_small


def _core(alpha, nu, k, temperature, t, tau, protocol="sudden"):
    r"""All closed-form fields (pure JAX); the entropy is added by the caller.

    Written so that no intermediate overflows where the result does not:
    $y=\sqrt{x/(1+\alpha x)}$ is evaluated as $1/\sqrt{\alpha+e^{-2\ln\sqrt x}}$ once
    $x>1$, so that $\nu\to\infty$ or $k\to0$ give the correct limit
    $\epsilon\to H(1/\sqrt\alpha)$ (0.0786 at $\alpha=1/2$); heat and energy are products of
    squares of $\nu/\sqrt k$ and $\nu\varphi/\sqrt k$, which overflow to inf only where
    the true value exceeds the float64 range."""
    phi, qhat = _profiles(k, t, tau, protocol)
    big, ls, s_small = _snr(nu, phi, k, temperature)
    c = nu / k * phi
    var = temperature / k + alpha * c * c
    x = jnp.where(big, jnp.exp(2.0 * ls), s_small * s_small)
    # y = c / sqrt(var) = sqrt(x / (1 + alpha x)), smooth at nu = 0, exact limit as x -> inf
    y = jnp.where(big, 1.0 / jnp.sqrt(alpha + jnp.exp(-2.0 * ls)),
                  s_small / jnp.sqrt(1.0 + alpha * s_small * s_small))
    eps = 0.5 * erfc(y / _SQRT2)
    i_pattern = information_from_u(erf(y / _SQRT2))
    r = nu / jnp.sqrt(k)
    rt = r / jnp.sqrt(temperature)
    m = r * phi
    heat = alpha * r * r * qhat
    energy = 0.5 * alpha * m * m
    return dict(
        training_error=eps,
        stability_mean=c,
        stability_variance=var,
        signal_to_noise=x,
        mutual_information_per_pattern=i_pattern,
        mutual_information_per_weight=alpha * i_pattern,
        heat_per_weight=heat,
        medium_entropy_per_weight=alpha * rt * rt * qhat,
        work_per_weight=heat + energy,
        energy_change_per_weight=energy,
    )


def _exact_mixture(alpha, c, k, temperature, *, n_weights, key, n_samples, n_input_draws):
    """Monte Carlo ``exact_mixture`` entropy per weight at finite ``n_weights`` (concrete only)."""
    try:
        from ..information.entropy import exact_mixture_entropy_change
    except ImportError as err:  # pragma: no cover - depends on the installed tree
        raise InputError(
            "entropy='exact_mixture' needs thermoinfer.information.entropy."
            f"exact_mixture_entropy_change, which is not available ({err}). Use "
            "`thermoinfer simulate memorization --entropy exact_mixture` instead."
        ) from None
    a, cc, kk, tt = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                           for v in (alpha, c, k, temperature)))
    est = np.empty(a.shape)
    se = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        n_patterns = int(round(float(a[idx]) * n_weights))
        if n_patterns < 1:
            raise InputError(
                f"alpha * n_weights = {a[idx] * n_weights:g} rounds to 0 patterns; pass a larger "
                "alpha or n_weights for entropy='exact_mixture'."
            )
        point_key = jax.random.fold_in(key, int(np.ravel_multi_index(idx, a.shape)) if a.ndim else 0)
        values, errors = [], []
        for draw in range(n_input_draws):
            k_in, k_mc = jax.random.split(jax.random.fold_in(point_key, draw))
            inputs = jax.random.rademacher(k_in, (n_patterns, n_weights), dtype=jnp.float64)
            total, total_se = exact_mixture_entropy_change(
                k_mc, inputs, float(cc[idx]), stiffness=float(kk[idx]),
                temperature=float(tt[idx]), n_samples=n_samples,
            )
            values.append(float(total) / n_weights)
            errors.append(float(total_se) / n_weights)
        values = np.asarray(values)
        mc_se = math.sqrt(float(np.sum(np.square(errors)))) / n_input_draws
        between = float(np.std(values, ddof=1)) / math.sqrt(n_input_draws) if n_input_draws > 1 else 0.0
        est[idx] = float(np.mean(values))
        se[idx] = max(mc_se, between)
    return est, se


@float64
def memorization_theory(alpha, nu, *, k=1.0, temperature=1.0, t=float("inf"),
                        entropy="annealed", rule="hebbian", protocol="sudden", ramp_time=None,
                        n_weights=None, key=None, n_samples=4096,
                        n_input_draws=4) -> MemorizationTheory:
    r"""Hebbian memorisation of random labels in the thermodynamic limit (docs/theory/hebbian-memorisation.md).

    With the time profile $\varphi_t=1-e^{-kt}$ (sudden switch-on) the mean stability is
    $c_t=\nu\varphi_t/k$, its variance $T/k+\alpha c_t^2$, and

    $$x_t=\frac{\nu^2}{kT}\varphi_t^2,\quad \epsilon_t=H\Big(\frac{c_t}{\sqrt{T/k+\alpha c_t^2}}\Big),\quad
    \frac IN=\alpha[\ln2-h_2(\epsilon_t)],\quad \frac{\Delta Q}{N}=\frac{\alpha\nu^2}{2k}(1-e^{-2kt}),$$

    $$\frac{\Delta V}{N}=\frac{\alpha k c_t^2}2,\quad \frac WN=\frac{\Delta Q+\Delta V}N,\quad
    \eta=\frac{I/N}{\Delta S/N+\Delta Q/(NT)},\quad \Delta S(\boldsymbol\omega|\sigma_T,\boldsymbol\xi)=0 .$$

    Entropy conventions (docs/theory/hebbian-memorisation.md, eq. (45)–(49)): ``"annealed"`` $\Delta S/N=\tfrac12\mathrm{log1p}(\alpha x_t)$;
    ``"quenched_gaussian"`` the Marchenko–Pastur integral (:func:`marchenko_pastur_entropy`);
    ``"exact_mixture"`` only as a finite-$N$ Monte Carlo estimate (``n_weights`` and ``key``
    required; the other fields stay thermodynamic-limit values). They are ordered
    $\Delta S_c\le\Delta S_b\le\Delta S_a$.

    ``protocol="linear_ramp"`` ramps the force as $\boldsymbol f s/\tau$ for $s\le\tau$ and holds
    it afterwards (docs/theory/thermodynamics-and-bound.md, eq. (24)–(26)); the mean obeys $\dot m=-km+fs/\tau$, solved exactly for every
    $t$ (before, at and after $\tau$), and the heat is the integral of $|f(s)-km(s)|^2$. At
    $t=\infty$ the final state is that of the sudden protocol while the heat tends to
    $|f|^2/(k^2\tau)$ for $k\tau\gg1$, so the slow-learning efficiency tends to $2/\pi$.

    Parameters
    ----------
    alpha : array_like
        Load $\alpha=P/N>0$ (patterns per weight).
    nu : array_like
        Learning rate $\nu\ge0$ (force units).
    k : array_like
        Stiffness of the weight decay $k>0$ (1/time; mobility $\mu=1$).
    temperature : array_like
        Bath temperature $T>0$ (energy units, $k_B=1$).
    t : array_like
        Final time $t\ge0$, ``inf`` for the fully relaxed state.
    entropy : {"annealed", "quenched_gaussian", "exact_mixture"}
        Convention for $\Delta S(\boldsymbol\omega)$.
    rule : str or LearningRule
        Only ``"hebbian"`` has a closed form; other rules are refused with a pointer to the
        simulator.
    protocol : {"sudden", "linear_ramp"}
        Switch-on protocol of the learning force.
    ramp_time : array_like, optional
        Ramp duration $\tau>0$ (time units), required with ``protocol="linear_ramp"``.
    n_weights : int, optional
        Finite $N$ for the ``exact_mixture`` Monte Carlo estimate ($P=\mathrm{round}(\alpha N)$).
    key : jax.random key, optional
        Required with ``exact_mixture``: draws the $\pm1$ inputs and the Monte Carlo samples.
    n_samples : int
        Monte Carlo samples per input draw (``exact_mixture`` only).
    n_input_draws : int
        Number of independent input matrices averaged over (``exact_mixture`` only); the
        standard error is the larger of the between-draw and the within-draw estimate.

    Returns
    -------
    MemorizationTheory
        NumPy float64 arrays broadcast over the array inputs, plus ``conventions``.

    Raises
    ------
    InputError
        For $\alpha\le0$, $\nu<0$, $k\le0$, $T\le0$, $t<0$ or NaN, unknown convention or
        protocol names, non-Hebbian rules, ``exact_mixture`` without ``n_weights``/``key``.

    Examples
    --------
    Checkpoint 1 of docs/theory/checkpoints.md ($\alpha=0.5$, $\nu=k=T=1$, $t=\infty$):

    >>> th = memorization_theory(0.5, 1.0)
    >>> [round(float(v), 6) for v in (th.training_error, th.mutual_information_per_pattern,
    ...                               th.heat_per_weight, th.entropy_change_per_weight,
    ...                               th.efficiency)]
    [0.207108, 0.183047, 0.25, 0.202733, 0.202158]
    >>> round(float(memorization_theory(0.5, 1.0, entropy="quenched_gaussian").efficiency), 6)
    0.224112
    >>> th.conventions["entropy_convention"], th.conventions["temperature"]
    ('annealed', 1.0)

    Arrays broadcast; at $t=0$ nothing has been learned and $\eta$ is NaN with status ``no_cost``:

    >>> th = memorization_theory(0.5, [0.1, 1.0, 10.0], t=[[0.0], [float("inf")]])
    >>> th.efficiency.shape
    (2, 3)
    >>> from thermoinfer.information import EFFICIENCY_STATUS
    >>> [EFFICIENCY_STATUS[s] for s in th.status[0]]
    ['no_cost', 'no_cost', 'no_cost']

    References
    ----------
    .. [1] S. Goldt and U. Seifert, Phys. Rev. Lett. 118, 010601 (2017).
       https://doi.org/10.1103/PhysRevLett.118.010601
    """
    check_choice("entropy", entropy, ENTROPY_CONVENTIONS)
    _check_protocol(protocol, ramp_time)
    _check_rule(rule)
    _check_physical(alpha, nu, k, temperature, t)
    if entropy == "exact_mixture":
        if n_weights is None:
            raise InputError(
                "entropy='exact_mixture' has no closed form in the thermodynamic limit; pass "
                "n_weights (a finite N, with a key) for a Monte Carlo estimate, or simulate "
                "instead: `thermoinfer simulate memorization --entropy exact_mixture`."
            )
        if isinstance(n_weights, bool) or not isinstance(n_weights, (int, np.integer)) or n_weights < 1:
            raise InputError(f"n_weights must be a positive integer, got {n_weights!r}. "
                             "Pass e.g. n_weights=20.")
        if key is None:
            raise InputError("entropy='exact_mixture' with n_weights needs a PRNG key for the "
                             "Monte Carlo estimate; pass key=jax.random.key(0).")
        if any(_is_traced(v) for v in (alpha, nu, k, temperature, t, ramp_time)):
            raise InputError("entropy='exact_mixture' is a Monte Carlo estimate and cannot be "
                             "traced (jit/grad/vmap); call it on concrete values.")
        for name, v in (("n_samples", n_samples), ("n_input_draws", n_input_draws)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"{name} must be a positive integer, got {v!r}.")

    f = lambda v: jnp.asarray(v, dtype=float)  # noqa: E731
    args = (f(alpha), f(nu), f(k), f(temperature), f(t),
            f(ramp_time) if protocol == "linear_ramp" else None)
    if entropy == "exact_mixture":
        out = _core_jit(*args, protocol=protocol)
        est, se = _exact_mixture(args[0], out["stability_mean"], args[2], args[3],
                                 n_weights=int(n_weights), key=key, n_samples=int(n_samples),
                                 n_input_draws=int(n_input_draws))
        fields = _finish(out, jnp.asarray(est), jnp.asarray(se))
    else:
        fields = _closed_form_jit(*args, protocol=protocol, entropy=entropy)
    return MemorizationTheory(**fields, conventions=_conventions(entropy, protocol, temperature,
                                                                   n_weights))


def _finish(out, ds, ds_se):
    """Add the entropy, the efficiency and its flags; broadcast every field to one shape."""
    eff = _efficiency(out["mutual_information_per_weight"], ds, out["medium_entropy_per_weight"])
    fields = dict(
        out,
        entropy_change_per_weight=ds,
        entropy_change_per_weight_se=ds_se,
        entropy_change_conditional_per_weight=jnp.zeros_like(ds),
        efficiency=eff.efficiency,
        margin=eff.margin,
        bound_satisfied=eff.bound_satisfied,
        status=eff.status,
    )
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in fields.values()))
    return {name: jnp.broadcast_to(jnp.asarray(v), shape) for name, v in fields.items()}


_MP_LOG_FORM = 0.5 * math.log(1e8)  # above x = 1e8 the quenched entropy uses ln x (no overflow)


def _closed_form(alpha, nu, k, temperature, t, tau, *, protocol, entropy):
    out = _core(alpha, nu, k, temperature, t, tau, protocol)
    phi, _ = _profiles(k, t, tau, protocol)
    big, ls, s_small = _snr(nu, phi, k, temperature)
    if entropy == "annealed":
        # 0.5 log1p(alpha x) = ln sqrt(x) + 0.5 ln(alpha + 1/x) for x > 1 (finite as x overflows)
        ds = jnp.where(big, ls + 0.5 * jnp.log(alpha + jnp.exp(-2.0 * ls)),
                       0.5 * jnp.log1p(alpha * s_small * s_small))
    else:
        huge = big & (ls > _MP_LOG_FORM)
        x_mod = jnp.where(huge, 1.0, out["signal_to_noise"])
        lx = jnp.where(huge, 2.0 * ls, 0.0)
        ds = jnp.where(huge, _mp_entropy_log(*jnp.broadcast_arrays(alpha, lx)),
                       _mp_entropy(*jnp.broadcast_arrays(alpha, x_mod)))
    return _finish(out, ds, jnp.zeros_like(ds))


# one compiled graph per (shapes, protocol, entropy) instead of op-by-op dispatch
_closed_form_jit = jax.jit(_closed_form, static_argnames=("protocol", "entropy"))
_core_jit = jax.jit(_core, static_argnames=("protocol",))


def _conventions(entropy, protocol, temperature, n_weights) -> Conventions:
    if _is_traced(temperature):
        temp = "traced"
    elif np.ndim(temperature) == 0:
        temp = float(temperature)
    else:
        temp = "array"
    return Conventions(
        entropy_convention=entropy,
        protocol=protocol,
        rule="hebbian",
        temperature=temp,
        information_unit="nat",
        energy_unit="energy (k_B = 1)",
        limit="thermodynamic" if entropy != "exact_mixture" else f"n_weights={int(n_weights)}",
    )


# --------------------------------------------------------------------------------------------
# limits (docs/theory/hebbian-memorisation.md, eq. (55)–(56); checkpoint 2)
# --------------------------------------------------------------------------------------------


@float64
def efficiency_slow_learning_limit(k, t, protocol="sudden", *, ramp_time=None):
    r"""Slow-learning ($\nu\to0$) limit of the Hebbian efficiency (docs/theory/hebbian-memorisation.md, eq. (55)).

    For small $x_t$: $I/N\simeq\alpha x_t/\pi$, $\Delta S/N\simeq\alpha x_t/2$ in every entropy
    convention, and $\Delta Q/(NT)=\alpha\nu^2\hat Q_t/(kT)$ with $x_t=\nu^2\varphi_t^2/(kT)$, so

    $$\eta\to\frac{2\varphi_t^2}{\pi(\varphi_t^2+2\hat Q_t)},$$

    independent of $\alpha$, $\nu$ and $T$. Sudden switch-on: $\varphi_t=1-e^{-kt}$,
    $\hat Q_t=(1-e^{-2kt})/2$, hence $\eta\to(1-e^{-kt})/\pi$ ($1/\pi$ at $t=\infty$).
    Linear ramp without ``ramp_time``: the quasistatic limit $\tau\to\infty$, $t\ge\tau$, $t-\tau\to\infty$,
    $\eta\to2/\pi$ (broadcast to the shape of ``k, t``). With ``ramp_time`` the exact ramp
    profiles at $(t,\tau)$ are used.

    Parameters
    ----------
    k : array_like
        Stiffness $k>0$ (1/time).
    t : array_like
        Final time $t\ge0$ (``inf`` allowed).
    protocol : {"sudden", "linear_ramp"}
    ramp_time : array_like, optional
        Ramp duration $\tau>0$ for ``linear_ramp``.

    Returns
    -------
    Array
        Dimensionless limit of $\eta$; NaN at $t=0$ (no cost, no information).

    Examples
    --------
    >>> round(float(efficiency_slow_learning_limit(1.0, float("inf"))), 6)
    0.31831
    >>> round(float(efficiency_slow_learning_limit(1.0, float("inf"), "linear_ramp")), 6)
    0.63662
    """
    check_choice("protocol", protocol, PROTOCOLS)
    _check_array("k", k, minimum=0.0, strict=True, allow_inf=False,
                 what="stiffness of the weight decay, 1/time", fix="Pass e.g. k=1.0.")
    _check_array("t", t, minimum=0.0, strict=False, allow_inf=True,
                 what="final time, time units", fix="Pass t >= 0 or t=float('inf').")
    k_ = jnp.asarray(k, dtype=float)
    t_ = jnp.asarray(t, dtype=float)
    if protocol == "linear_ramp" and ramp_time is None:
        return jnp.broadcast_to(2.0 / jnp.pi, jnp.broadcast_shapes(k_.shape, t_.shape))
    if protocol == "linear_ramp":
        _check_protocol(protocol, ramp_time)
        phi, qhat = _profiles(k_, t_, jnp.asarray(ramp_time, dtype=float), protocol)
    else:
        if ramp_time is not None:
            _check_protocol(protocol, ramp_time)
        phi, qhat = _profiles(k_, t_, None, protocol)
    den = phi * phi + 2.0 * qhat
    return jnp.where(den > 0, 2.0 * phi * phi / (jnp.pi * jnp.where(den > 0, den, 1.0)), jnp.nan)


@float64
def efficiency_fast_learning_coefficient(alpha, k, *, temperature=1.0):
    r"""Fast-learning ($\nu\to\infty$, $t=\infty$) coefficient $\lim\eta\,\nu^2$ (docs/theory/hebbian-memorisation.md, eq. (56)).

    $I/N\to\alpha[\ln2-h_2(H(1/\sqrt\alpha))]$ while $\Delta Q/(NT)=\alpha\nu^2/(2kT)$ dominates
    the cost, so

    $$\eta\,\nu^2\to2kT\,[\ln2-h_2(H(1/\sqrt\alpha))]$$

    (units of $\nu^2$). The approach is slow: the relative error is
    $-[\ln(1+\alpha x)+\tfrac{y_\infty I'(y_\infty)}{2I_\infty}]/(\alpha x)+O(\ln^2x/x^2)$
    with $x=\nu^2/(kT)$, $y_\infty=1/\sqrt\alpha$, because the entropy term grows like
    $\tfrac12\ln(\alpha x)$ and the error $\epsilon$ approaches $H(1/\sqrt\alpha)$ like $1/x$.

    Parameters
    ----------
    alpha : array_like
        Load $\alpha>0$.
    k : array_like
        Stiffness $k>0$.
    temperature : array_like
        Temperature $T>0$.

    Examples
    --------
    >>> round(float(efficiency_fast_learning_coefficient(0.5, 1.0)), 6)
    0.835377
    """
    _check_array("alpha", alpha, minimum=0.0, strict=True, allow_inf=False,
                 what="load P/N", fix="Pass e.g. alpha=0.5.")
    _check_array("k", k, minimum=0.0, strict=True, allow_inf=False,
                 what="stiffness of the weight decay, 1/time", fix="Pass e.g. k=1.0.")
    _check_array("temperature", temperature, minimum=0.0, strict=True, allow_inf=False,
                 what="bath temperature, energy units", fix="Pass e.g. temperature=1.0.")
    alpha = jnp.asarray(alpha, dtype=float)
    y_inf = 1.0 / jnp.sqrt(alpha)
    i_inf = information_from_u(erf(y_inf / _SQRT2))
    return 2.0 * jnp.asarray(k, dtype=float) * jnp.asarray(temperature, dtype=float) * i_inf


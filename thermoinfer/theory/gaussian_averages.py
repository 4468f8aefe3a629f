r"""Gaussian averages of the online order-parameter ODEs (docs/theory/teacher-student-and-online.md,
eq. (64)–(66); Goldt & Seifert, NJP 2017).

For a fresh input the student field $h=\boldsymbol\omega\cdot\boldsymbol\xi/\sqrt N$ and the teacher field
$u=\boldsymbol T\cdot\boldsymbol\xi/\sqrt N$ are, as $N\to\infty$, jointly Gaussian with

$$\langle u^2\rangle=1,\qquad\langle h^2\rangle=Q,\qquad\langle hu\rangle=R,\qquad\sigma_T=\mathrm{sgn}(u),$$

and the ODEs need three averages of the rule $F(h,\sigma_T)$:
$\langle F\sigma_Tu\rangle$, $\langle F\sigma_Th\rangle$ and $\langle F^2\rangle$. With $\rho=R/\sqrt Q$ and
$g(\rho)=(\arccos\rho-\rho\sqrt{1-\rho^2})/\pi$ the built-in rules have closed forms:

==========  ===================================================  ===================================  ========================
rule        $\langle F\sigma_Tu\rangle$                          $\langle F\sigma_Th\rangle$          $\langle F^2\rangle$
==========  ===================================================  ===================================  ========================
hebbian     $\sqrt{2/\pi}$                                       $R\sqrt{2/\pi}$                      $1$
perceptron  $(1-\rho)/\sqrt{2\pi}$                               $-\sqrt Q(1-\rho)/\sqrt{2\pi}$       $\arccos(\rho)/\pi$
adatron     $\sqrt Q(\sqrt{1-\rho^2}-\rho\arccos\rho)/\pi$       $-Q\,g(\rho)$                        $Q\,g(\rho)$
==========  ===================================================  ===================================  ========================

Every other rule (user rules, including clones of the built-ins) is averaged by a two-dimensional
quadrature that is exact up to rounding for rules that are piecewise polynomial in $h$ with their
only breaks where $u$ or $h$ change sign (Perceptron, AdaTron and their relatives), and
spectrally accurate for rules that are smooth on each side of those breaks.

**Quadrature.** In the whitened coordinates $(z_1,z_2)=r(\cos\theta,\sin\theta)$, standard normal,
$u=r\cos\theta$ and $h=\sqrt Q\,r\cos(\theta-\varphi)$ with $\varphi=\arccos\rho\in[0,\pi]$. The sign
boundaries $u=0$ and $h=0$ are then the four rays $\theta=\pm\pi/2$ and $\theta=\varphi\pm\pi/2$, which cut
the plane into four sectors of widths $\varphi,\pi-\varphi,\varphi,\pi-\varphi$ on which $\sigma_T$ and
$\mathrm{sgn}\,h$ are constant (assigned per sector, never from a rounded $\cos$). Each sector is
integrated with Gauss–Legendre in $\theta$ (default 24 nodes) times Gauss–Legendre in $r\in[0,10]$ (default
48 nodes) against the weight $r\,e^{-r^2/2}/2\pi$; the radial tail beyond $r=10$ is below $10^{-18}$ for
integrands growing like $r^4$. Against the closed forms the error is $\lesssim10^{-14}$ for all $(R,Q)$
(tested), far below the $10^{-6}$ the ODEs need. A user $F$ with jumps elsewhere (e.g. a Perceptron with
margin $\kappa$, jump at $\sigma_Th=\kappa$) converges only algebraically: raise ``n_angle`` and
``n_radius``, and check the result against a Monte Carlo estimate.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import float64
from ..errors import InputError, check_choice
from ..rules import RULES, LearningRule, get_rule

__all__ = [
    "AVERAGE_METHODS",
    "GaussianAverages",
    "gaussian_averages",
    "has_closed_form_averages",
]

#: ``method`` choices of :func:`gaussian_averages`
AVERAGE_METHODS: tuple[str, ...] = ("auto", "closed_form", "quadrature")

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_R_MAX = 10.0  # radial cut-off of the quadrature (whitened units); tail < 1e-18 for r^4 growth
N_ANGLE = 24
N_RADIUS = 48


class GaussianAverages(NamedTuple):
    r"""The three averages over $(h,u)$ of the online ODEs (64), broadcast to the shape of ``R, Q``."""

    force_teacher_field: object
    r"""$\langle F\sigma_Tu\rangle$ (units of $F$; drives $dR/d\alpha$)."""
    force_student_field: object
    r"""$\langle F\sigma_Th\rangle$ (units of $F\sqrt Q$; drives $dQ/d\alpha$)."""
    force_squared: object
    r"""$\langle F^2\rangle$ (units of $F^2$; the kick's own contribution to $dQ/d\alpha$)."""


# --------------------------------------------------------------------------------------------
# closed forms (array module ``xp`` = numpy for the ODE right-hand side, jax.numpy otherwise)
# --------------------------------------------------------------------------------------------


def _rho(R, Q, xp):
    return xp.clip(R / xp.sqrt(Q), -1.0, 1.0)


def _hebbian(R, Q, xp):
    one = xp.ones_like(R * Q)
    return _SQRT_2_OVER_PI * one, _SQRT_2_OVER_PI * R * xp.ones_like(Q), one


def _perceptron(R, Q, xp):
    sq = xp.sqrt(Q)
    rho = _rho(R, Q, xp)
    a = (1.0 - rho) * _INV_SQRT_2PI
    return a, -sq * a, xp.arccos(rho) / math.pi


def _adatron(R, Q, xp):
    sq = xp.sqrt(Q)
    rho = _rho(R, Q, xp)
    s = xp.sqrt(xp.clip(1.0 - rho * rho, 0.0, None))
    ac = xp.arccos(rho)
    g = (ac - rho * s) / math.pi
    return sq * (s - rho * ac) / math.pi, -Q * g, Q * g


# keyed by the built-in rule objects themselves (identity): a user clone is not a built-in
_CLOSED_FORMS = {RULES["hebbian"]: _hebbian, RULES["perceptron"]: _perceptron,
                 RULES["adatron"]: _adatron}


def has_closed_form_averages(rule: str | LearningRule) -> bool:
    """True for the three built-in rule objects, False for every other rule (user clones too)."""
    return get_rule(rule) in _CLOSED_FORMS


# --------------------------------------------------------------------------------------------
# sector quadrature (pure JAX, jitted per rule and node counts)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _nodes(n_angle: int, n_radius: int):
    xa, wa = np.polynomial.legendre.leggauss(n_angle)
    xr, wr = np.polynomial.legendre.leggauss(n_radius)
    r = 0.5 * _R_MAX * (xr + 1.0)
    wrad = 0.5 * _R_MAX * wr * r * np.exp(-0.5 * r * r) / (2.0 * np.pi)
    return 0.5 * (xa + 1.0), 0.5 * wa, r, wrad


# sectors in theta: [-pi/2, phi-pi/2], [phi-pi/2, pi/2], [pi/2, phi+pi/2], [phi+pi/2, 3pi/2]
_SIGN_U = np.array([1.0, 1.0, -1.0, -1.0])
_SIGN_H = np.array([-1.0, 1.0, 1.0, -1.0])


@functools.partial(jax.jit, static_argnames=("rule", "n_angle", "n_radius"))
def _quadrature(R, Q, *, rule: LearningRule, n_angle: int, n_radius: int):
    s01, wa, r, wrad = (jnp.asarray(v) for v in _nodes(n_angle, n_radius))
    R, Q = jnp.broadcast_arrays(jnp.asarray(R, dtype=float), jnp.asarray(Q, dtype=float))
    sq = jnp.sqrt(Q)[..., None, None, None]
    phi = jnp.arccos(_rho(R, Q, jnp))[..., None, None, None]         # (..., 1, 1, 1)
    half = 0.5 * jnp.pi
    lo = jnp.concatenate([jnp.broadcast_to(-half, phi.shape), phi - half,
                          jnp.broadcast_to(half, phi.shape), phi + half], axis=-3)
    width = jnp.concatenate([phi, jnp.pi - phi, phi, jnp.pi - phi], axis=-3)  # (..., 4, 1, 1)
    theta = lo + width * s01[:, None]                                # (..., 4, na, 1)
    w = width * wa[:, None] * wrad                                   # (..., 4, na, nr)
    su = jnp.asarray(_SIGN_U)[:, None, None]
    sh = jnp.asarray(_SIGN_H)[:, None, None]
    u = su * r * jnp.abs(jnp.cos(theta))                             # (..., 4, na, nr)
    h = sh * sq * r * jnp.abs(jnp.cos(theta - phi))
    label = jnp.broadcast_to(su, h.shape)
    f = jnp.broadcast_to(jnp.asarray(rule.force(h, label), dtype=float), h.shape)
    axes = (-3, -2, -1)
    return (jnp.sum(w * f * label * u, axis=axes), jnp.sum(w * f * label * h, axis=axes),
            jnp.sum(w * f * f, axis=axes))


def _check_nodes(n_angle, n_radius) -> None:
    for name, v in (("n_angle", n_angle), ("n_radius", n_radius)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise InputError(f"{name} must be an integer >= 2 (Gauss-Legendre nodes), got {v!r}. "
                             f"The default ({N_ANGLE if name == 'n_angle' else N_RADIUS}) gives "
                             "~1e-14 for piecewise-polynomial rules.")


def _resolve(rule, method, name: str = "method") -> tuple[LearningRule, str]:
    rule = get_rule(rule)
    check_choice(name, method, AVERAGE_METHODS)
    if method == "auto":
        method = "closed_form" if rule in _CLOSED_FORMS else "quadrature"
    elif method == "closed_form" and rule not in _CLOSED_FORMS:
        raise InputError(
            f"{name}='closed_form' exists only for the built-in rules {sorted(RULES)}, got rule "
            f"{rule.name!r} (a user rule, even a clone of a built-in, is averaged by quadrature). "
            f"Pass {name}='auto' or {name}='quadrature'."
        )
    return rule, method


def _check_order_parameters(R, Q) -> None:
    if isinstance(R, jax.core.Tracer) or isinstance(Q, jax.core.Tracer):
        return
    try:
        r = np.asarray(R, dtype=float)
        q = np.asarray(Q, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"R and Q must be numbers or arrays of numbers, got R={R!r}, Q={Q!r}.") from None
    if not np.all(np.isfinite(r)):
        raise InputError(f"R (teacher-student overlap omega.T/N) must be finite, got {R!r}.")
    if not np.all(np.isfinite(q) & (q > 0)):
        raise InputError(f"Q (student norm omega.omega/N) must be finite and > 0, got {Q!r}. "
                         "Q >= T/k > 0 at the start of learning.")
    try:
        r, q = np.broadcast_arrays(r, q)
    except ValueError:
        raise InputError(f"R and Q must broadcast to a common shape, got shapes {r.shape} and "
                         f"{q.shape}.") from None
    bad = r * r > q * (1.0 + 1e-12)
    if bad.any():
        raise InputError(f"R^2 <= Q is required (|rho| = |R|/sqrt(Q) <= 1, Cauchy-Schwarz), got "
                         f"R={r[bad].flat[0]!r}, Q={q[bad].flat[0]!r}.")


@float64
def gaussian_averages(rule, R, Q, *, method: str = "auto", n_angle: int = N_ANGLE,
                      n_radius: int = N_RADIUS) -> GaussianAverages:
    r"""Gaussian averages $\langle F\sigma_Tu\rangle$, $\langle F\sigma_Th\rangle$, $\langle F^2\rangle$.

    $(h,u)$ jointly Gaussian with $\langle u^2\rangle=1$, $\langle h^2\rangle=Q$, $\langle hu\rangle=R$,
    and $\sigma_T=\mathrm{sgn}(u)$ (docs/theory/model.md, eq. (11);
    docs/theory/teacher-student-and-online.md, eq. (64)). Closed forms for the three built-in rule
    objects (table in the module docstring), sector quadrature for every other rule.

    Parameters
    ----------
    rule : str or LearningRule
        Registry name or rule object. A user clone of a built-in is *not* recognised as the
        built-in and is averaged by quadrature.
    R : array_like
        Overlap $R=\boldsymbol\omega\cdot\boldsymbol T/N$ (activation units).
    Q : array_like
        Student norm $Q=|\boldsymbol\omega|^2/N>0$ (activation units squared), $R^2\le Q$.
    method : {"auto", "closed_form", "quadrature"}
        ``"auto"``: closed form for built-ins, quadrature otherwise. ``"quadrature"`` is allowed
        for built-ins too (a cross-check).
    n_angle, n_radius : int
        Gauss–Legendre nodes per sector in angle and in radius (quadrature only).

    Returns
    -------
    GaussianAverages
        NumPy float64 arrays of the broadcast shape of ``R, Q``. Pure JAX inside (traceable).

    Examples
    --------
    Checkpoint 6 of docs/theory/checkpoints.md:

    >>> a = gaussian_averages("perceptron", 0.5, 1.3)
    >>> [round(float(v), 5) for v in a]
    [0.22399, -0.25539, 0.3555]
    >>> b = gaussian_averages("adatron", 0.5, 1.3, method="quadrature")
    >>> [round(float(v), 5) for v in b]
    [0.14842, -0.29906, 0.29906]
    """
    rule, method = _resolve(rule, method)
    _check_order_parameters(R, Q)
    R = jnp.asarray(R, dtype=float)
    Q = jnp.asarray(Q, dtype=float)
    if method == "closed_form":
        out = _CLOSED_FORMS[rule](R, Q, jnp)
    else:
        _check_nodes(n_angle, n_radius)
        out = _quadrature(R, Q, rule=rule, n_angle=int(n_angle), n_radius=int(n_radius))
    shape = jnp.broadcast_shapes(R.shape, Q.shape)
    return GaussianAverages(*(jnp.broadcast_to(v, shape) for v in out))


def _scalar_averages(rule: LearningRule, method: str, n_angle: int = N_ANGLE,
                     n_radius: int = N_RADIUS):
    """A fast ``(R, Q) -> (3 floats)`` for the ODE right-hand side (call under x64)."""
    if method == "closed_form":
        cf = _CLOSED_FORMS[rule]

        def averages(R, Q):
            return tuple(float(v) for v in cf(np.float64(R), np.float64(Q), np))

        return averages

    def averages(R, Q):
        out = _quadrature(np.float64(R), np.float64(Q), rule=rule, n_angle=n_angle,
                          n_radius=n_radius)
        vals = tuple(float(v) for v in out)
        if not all(math.isfinite(v) for v in vals):
            raise InputError(
                f"the Gaussian averages of rule {rule.name!r} are not finite at R={R!r}, Q={Q!r} "
                f"(got {vals}); its force F(activation, label) must be finite for all activations."
            )
        return vals

    return averages

r"""Euler–Maruyama (Itô pre-point) path weights for nonlinear drifts, forward and reversed.

For $d\boldsymbol x = \boldsymbol F(\boldsymbol x)\,dt + \sqrt{2D}\,d\boldsymbol W$ the discretised transition over a
step $h$ is the Gaussian pre-point kernel (docs/theory/paths-and-entropy-production.md, eq. (82))

$$p_{EM}(\boldsymbol x'\mid\boldsymbol x;h) = \mathcal N\big(\boldsymbol x';\ \boldsymbol x + h\boldsymbol F(\boldsymbol x),\ 2hD\big).$$

The reversed path applies **the same kernel** to the reversed sequence, so its pre-point is the
later point of each forward step. Per step the log ratio is exactly

$$\ln\frac{p_{EM}(\boldsymbol x_{i+1}\mid\boldsymbol x_i)}{p_{EM}(\boldsymbol x_i\mid\boldsymbol x_{i+1})}
  = \underbrace{\Delta\boldsymbol x_i^\top D^{-1}\frac{\boldsymbol F_i+\boldsymbol F_{i+1}}2}_{\text{Stratonovich (trapezoid)}}
  + \frac{h_i}{4}\big(\boldsymbol F_{i+1}^\top D^{-1}\boldsymbol F_{i+1} - \boldsymbol F_i^\top D^{-1}\boldsymbol F_i\big),$$

(the normalisations and Jacobians cancel). On a uniform grid the second sum telescopes to the
boundary term $\frac{\Delta t}{4}(|\boldsymbol F_K|_{D}^2 - |\boldsymbol F_0|_{D}^2)$, which vanishes as
$\Delta t\to0$; the first sum tends to the Stratonovich integral
$\int\boldsymbol F\circ D^{-1}d\boldsymbol x$, which is $q/T$ for $D = T\mathbb 1$ (mobility 1).

``drift_fn`` maps one point ``(d,) -> (d,)`` (any JAX function, e.g. $\boldsymbol F_{tot}$ of a
learning rule); it is evaluated once per time point and shared by the forward and reversed
weights. Array conventions (``x`` of shape ``(..., K+1, d)``, ``times``, per-step indexing of the
reversed weights, boundary terms) are those of :mod:`thermoinfer.paths.linear`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve

from .._x64 import float64
from ..errors import InputError
from .linear import (
    _as_float_array,
    _boundary,
    _check_path,
    _check_positive_definite,
    _is_concrete,
    _time_steps,
    _with_boundary,
)

__all__ = [
    "EMLogRatio",
    "em_transition_log_prob",
    "em_path_log_prob",
    "em_path_log_prob_reversed",
    "em_log_ratio",
]


# The diffusion is carried as one array whose rank says its form: a scalar D0 (rank 0), the
# diagonal of D (rank 1) or the lower Cholesky factor of a full D (rank 2). The form is thus
# static under jit.


def _dsolve(Dv, v):
    r"""$D^{-1}v$ over the last axis of ``v``."""
    if Dv.ndim == 2:
        return jnp.vectorize(lambda u: cho_solve((Dv, True), u), signature="(d)->(d)")(v)
    return v / Dv


def _dlogdet(Dv, d: int):
    if Dv.ndim == 0:
        return d * jnp.log(Dv)
    if Dv.ndim == 1:
        return jnp.sum(jnp.log(Dv))
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(Dv)))


def _diffusion(diffusion, d: int):
    D = _as_float_array("diffusion", diffusion)
    if D.ndim == 0:
        if _is_concrete(D) and not float(D) > 0:
            raise InputError(f"diffusion must be > 0 (D = mobility x temperature), got {float(D)!r}.")
        return D
    if D.ndim == 1 and D.shape[0] == d:
        if _is_concrete(D) and not np.all(np.asarray(D) > 0):
            raise InputError(
                f"diffusion (diagonal) must be > 0 in every component, got {np.asarray(D).tolist()!r}."
            )
        return D
    if D.shape == (d, d):
        _check_positive_definite("diffusion", D)
        return jnp.linalg.cholesky(0.5 * (D + D.T))
    raise InputError(
        f"diffusion must be a scalar, a ({d},) diagonal or a ({d}, {d}) matrix, got shape "
        f"{tuple(D.shape)}."
    )


def _check_drift_fn(drift_fn):
    if not callable(drift_fn):
        raise InputError(f"drift_fn must be a function (d,) -> (d,), got {drift_fn!r}.")


def _drift_values(drift_fn, x):
    F = jnp.vectorize(drift_fn, signature="(d)->(e)")(x)
    if F.shape != x.shape:
        raise InputError(
            f"drift_fn must map a point of shape ({x.shape[-1]},) to a drift of the same shape; "
            f"got drift values of shape {tuple(F.shape)} for points of shape {tuple(x.shape)}."
        )
    return F


def _em_log_prob(x_prev, x_next, F_prev, h, Dv):
    d = x_prev.shape[-1]
    r = x_next - x_prev - h * F_prev
    quad = jnp.sum(r * _dsolve(Dv, r), axis=-1)
    hs = h[..., 0] if h.ndim else h
    return -quad / (4.0 * hs) - 0.5 * d * jnp.log(4.0 * math.pi * hs) - 0.5 * _dlogdet(Dv, d)


def _steps_column(dt):
    return dt[:, None] if dt.ndim == 1 else dt


@float64
def em_transition_log_prob(x_prev, x_next, drift_prev, dt, diffusion):
    r"""Euler–Maruyama (pre-point) transition log-density, for pairs.

    $$\ln p_{EM} = -\frac{(\boldsymbol r)^\top D^{-1}\boldsymbol r}{4h} - \frac d2\ln(4\pi h) - \frac12\ln\det D,
      \qquad \boldsymbol r = \boldsymbol x_{next}-\boldsymbol x_{prev}-h\boldsymbol F(\boldsymbol x_{prev}).$$

    Parameters
    ----------
    x_prev, x_next : array_like, shape ``(..., K, d)`` or ``(..., d)``
        Points before and after each step.
    drift_prev : array_like, same shape
        The drift $\boldsymbol F$ evaluated at ``x_prev`` (the caller often holds it already).
    dt : float or array_like of shape ``(K,)``
        Step sizes $h$.
    diffusion : float or array_like
        $D$: scalar, ``(d,)`` diagonal or ``(d, d)`` positive-definite matrix.

    Returns
    -------
    Array, shape ``(..., K)`` (or ``(...)``), nats.
    """
    x_prev = _as_float_array("x_prev", x_prev)
    x_next = _as_float_array("x_next", x_next)
    F = _as_float_array("drift_prev", drift_prev)
    if x_prev.ndim == 0 or x_next.shape[-1:] != x_prev.shape[-1:] or F.shape[-1:] != x_prev.shape[-1:]:
        raise InputError(
            "x_prev, x_next and drift_prev must have shape (..., d) with the same d, got "
            f"{tuple(x_prev.shape)}, {tuple(x_next.shape)}, {tuple(F.shape)}."
        )
    h = _as_float_array("dt", dt)
    if _is_concrete(h) and not np.all(np.asarray(h) > 0):
        raise InputError(f"dt must be > 0, got {np.asarray(h).tolist()!r}.")
    Dv = _diffusion(diffusion, x_prev.shape[-1])
    return jax.jit(_em_log_prob)(x_prev, x_next, F, _steps_column(h), Dv)


def _prepare(x, times, drift_fn, diffusion):
    x = _check_path("x", x)
    K, d = x.shape[-2] - 1, x.shape[-1]
    h = _steps_column(_time_steps(times, K))
    Dv = _diffusion(diffusion, d)
    _check_drift_fn(drift_fn)
    return x, h, Dv


def _maybe_jit(fn, drift_fn):
    """jit ``fn`` with ``drift_fn`` static when it is hashable (it is compiled into the kernel)."""
    try:
        hash(drift_fn)
    except TypeError:
        return functools.partial(fn, drift_fn=drift_fn)
    return functools.partial(_JITTED[fn], drift_fn=drift_fn)


def _path_core(x, h, Dv, *, drift_fn, reverse):
    F = _drift_values(drift_fn, x)
    if reverse:
        return _em_log_prob(x[..., 1:, :], x[..., :-1, :], F[..., 1:, :], h, Dv)
    return _em_log_prob(x[..., :-1, :], x[..., 1:, :], F[..., :-1, :], h, Dv)


def _ratio_core(x, h, Dv, *, drift_fn):
    F = _drift_values(drift_fn, x)
    dx = x[..., 1:, :] - x[..., :-1, :]
    DinvF = _dsolve(Dv, F)
    strat = jnp.sum(dx * 0.5 * (DinvF[..., :-1, :] + DinvF[..., 1:, :]), axis=-1)
    g = jnp.sum(F * DinvF, axis=-1)
    hs = h[..., 0] if h.ndim else h
    bnd = 0.25 * hs * (g[..., 1:] - g[..., :-1])
    return strat, bnd


_JITTED = {
    _path_core: jax.jit(_path_core, static_argnames=("drift_fn", "reverse")),
    _ratio_core: jax.jit(_ratio_core, static_argnames=("drift_fn",)),
}


@float64
def em_path_log_prob(x, times, drift_fn, diffusion, *, initial_log_prob=None):
    r"""Forward Euler–Maruyama path log-probability, per transition (Itô pre-point kernel).

    Element ``i`` is $\ln\mathcal N(\boldsymbol x_{i+1};\ \boldsymbol x_i + h_i\boldsymbol F(\boldsymbol x_i),\ 2h_iD)$.
    All transitions are evaluated in parallel; this is the discretised path weight of
    docs/theory/paths-and-entropy-production.md, eq. (82) (exact for the discrete EM chain, an $O(h)$ approximation of the
    continuous process; for linear drifts use the exact kernels of
    :func:`~thermoinfer.paths.linear_path_log_prob`).

    Parameters
    ----------
    x : array_like, shape ``(..., K+1, d)``
        Path(s).
    times : float or array_like of shape ``(K+1,)``
        Uniform step, or observation times.
    drift_fn : callable
        $\boldsymbol F$: one point ``(d,) -> (d,)``, any JAX function (mobility times force).
    diffusion : float or array_like
        $D$ ($=T$ at mobility 1): scalar, ``(d,)`` diagonal or ``(d, d)``.
    initial_log_prob : callable or array_like, optional
        $\ln p_0$, prepended as element ``0``.

    Returns
    -------
    Array, shape ``(..., K)`` or ``(..., K+1)``, nats.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [0.05]])
    >>> em_path_log_prob(x, 0.01, lambda v: -v**3, 1.0).shape
    (2,)
    """
    x, h, Dv = _prepare(x, times, drift_fn, diffusion)
    lp = _maybe_jit(_path_core, drift_fn)(x, h, Dv, reverse=False)
    if initial_log_prob is None:
        return lp
    return _with_boundary(lp, _boundary(initial_log_prob, x[..., 0, :]))


@float64
def em_path_log_prob_reversed(x, times, drift_fn, diffusion, *, final_log_prob=None):
    r"""Reversed Euler–Maruyama path log-probability: the same kernel on the reversed sequence.

    Element ``i`` is $\ln\mathcal N(\boldsymbol x_i;\ \boldsymbol x_{i+1} + h_i\boldsymbol F(\boldsymbol x_{i+1}),\ 2h_iD)$:
    the pre-point of the reversed step is the later point of forward step ``i``
    (docs/theory/paths-and-entropy-production.md, eq. (83)). For a time-dependent drift (online learning) the reversed protocol presents the
    samples in reverse order; evaluate such a drift yourself and use
    :func:`em_transition_log_prob` with the pairs swapped.

    Parameters
    ----------
    x, times, drift_fn, diffusion
        As in :func:`em_path_log_prob`.
    final_log_prob : callable or array_like, optional
        $\ln\tilde p$ at ``x[..., -1, :]``, prepended as element ``0``.

    Returns
    -------
    Array, shape ``(..., K)`` or ``(..., K+1)``, nats.
    """
    x, h, Dv = _prepare(x, times, drift_fn, diffusion)
    lp = _maybe_jit(_path_core, drift_fn)(x, h, Dv, reverse=True)
    if final_log_prob is None:
        return lp
    return _with_boundary(lp, _boundary(final_log_prob, x[..., -1, :]))


class EMLogRatio(NamedTuple):
    r"""Forward-minus-reversed Euler–Maruyama log ratio and its decomposition (nats).

    ``total == stratonovich + boundary`` and ``total == per_step.sum(-1)``.
    """

    total: jax.Array
    r"""$\ln\mathcal P/\tilde{\mathcal P}|_{dyn}$ over the path, shape ``(...)``."""
    per_step: jax.Array
    r"""Per-step log ratios, shape ``(..., K)``."""
    stratonovich: jax.Array
    r"""$\sum_i\Delta\boldsymbol x_i^\top D^{-1}(\boldsymbol F_i+\boldsymbol F_{i+1})/2$ (trapezoid; $q/T$ for $D=T\mathbb 1$)."""
    boundary: jax.Array
    r"""$\sum_i\frac{h_i}4(|\boldsymbol F_{i+1}|_D^2-|\boldsymbol F_i|_D^2)$; $\frac{\Delta t}4(|\boldsymbol F_K|_D^2-|\boldsymbol F_0|_D^2)$ on a uniform grid."""


@float64
def em_log_ratio(x, times, drift_fn, diffusion) -> EMLogRatio:
    r"""Log ratio of forward and reversed Euler–Maruyama path weights, with its decomposition.

    $$\ln\frac{\mathcal P}{\tilde{\mathcal P}}\Big|_{dyn}
      = \sum_i\Delta\boldsymbol x_i^\top D^{-1}\frac{\boldsymbol F_i+\boldsymbol F_{i+1}}{2}
      + \sum_i\frac{h_i}{4}\big(|\boldsymbol F_{i+1}|_D^2-|\boldsymbol F_i|_D^2\big),\qquad
      |\boldsymbol F|_D^2 = \boldsymbol F^\top D^{-1}\boldsymbol F .$$

    Computed in this closed form (no large normalisations cancel), it equals
    ``em_path_log_prob(...) - em_path_log_prob_reversed(...)`` step by step. The
    Stratonovich part tends to the medium entropy $q/T$ as $\Delta t\to0$ (docs/theory/paths-and-entropy-production.md, eq. (83)); the
    boundary part is the $O(\Delta t)$ difference between the EM-kernel ratio (for which the IFT
    of the discrete chain is exact) and the Stratonovich heat.

    Parameters
    ----------
    x, times, drift_fn, diffusion
        As in :func:`em_path_log_prob`.

    Returns
    -------
    EMLogRatio

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0], [0.9], [0.85]])
    >>> r = em_log_ratio(x, 0.1, lambda v: -v, 1.0)
    >>> bool(np.isclose(r.total, r.stratonovich + r.boundary))
    True
    """
    x, h, Dv = _prepare(x, times, drift_fn, diffusion)
    strat, bnd = _maybe_jit(_ratio_core, drift_fn)(x, h, Dv)
    per_step = strat + bnd
    return EMLogRatio(
        total=jnp.sum(per_step, axis=-1),
        per_step=per_step,
        stratonovich=jnp.sum(strat, axis=-1),
        boundary=jnp.sum(bnd, axis=-1),
    )

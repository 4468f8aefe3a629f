r"""Entropy production of a general linear Ornstein–Uhlenbeck system (docs/theory/linear-ou.md).

For $d\boldsymbol x = A\boldsymbol x\,dt + \sqrt{2D}\,d\boldsymbol W$ with a stable drift matrix $A$ (not
necessarily symmetric) and a positive-definite diffusion matrix $D$ (e.g. several baths,
$D_i = T_i/\gamma_i$):

* steady covariance $C$: $AC + CA^\top + 2D = 0$;
* steady entropy-production rate (nats per unit time, $k_B = 1$)

  $$\sigma = \mathrm{tr}(A^\top D^{-1}AC) - \mathrm{tr}(C^{-1}D)
           = \mathrm{tr}\big(\Omega^\top D^{-1}\Omega\,C^{-1}\big)\ \ge 0,\qquad
           \Omega = \tfrac12(AC - CA^\top),$$

  where the second form (from $\boldsymbol v = (A + DC^{-1})\boldsymbol x = \Omega C^{-1}\boldsymbol x$, the mean local
  velocity) is used: it is a sum of squares, exactly $\ge 0$, and has no cancellation near
  equilibrium ($\Omega = 0$ there);
* exact KL rate between the forward and the time-reversed stationary process sampled at
  $\Delta t$ (docs/theory/linear-ou.md, eq. (90)), $\dot D_{KL}(\Delta t)\le\sigma$, $\to\sigma$ as
  $\Delta t\to0$.

All variables are assumed even under time reversal (overdamped dynamics). ``steady_covariance``,
``entropy_production_rate`` and ``kl_rate`` are pure JAX (``jit``/``grad``-able); the Lyapunov
equation is solved as a Kronecker (vec) system of size $d^2$, fine for $d\lesssim 30$.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from .._x64 import float64
from ..errors import InputError, check_numeric
from ..paths.linear import (
    _affine_kernel,
    _as_float_array,
    _as_matrix,
    _check_positive_definite,
    _cholesky,
    _is_concrete,
    _kernel_log_prob,
    _van_loan,
)

__all__ = [
    "LinearSystemEP",
    "TrajectoryEP",
    "steady_covariance",
    "entropy_production_rate",
    "kl_rate",
    "linear_system_ep",
    "entropy_production_from_trajectories",
]


class LinearSystemEP(NamedTuple):
    """Entropy production of a linear OU system (:func:`linear_system_ep`)."""

    steady_covariance: jax.Array
    r"""$C$, shape ``(d, d)``, length²."""
    entropy_production_rate: jax.Array
    r"""$\sigma$, nats per unit time."""
    kl_rate_at_dt: jax.Array
    r"""$\dot D_{KL}(\Delta t)$, nats per unit time (NaN when no ``dt`` was given)."""
    dt: float
    r"""The sampling interval $\Delta t$ (NaN when none was given)."""


class TrajectoryEP(NamedTuple):
    """Sampled irreversibility of stationary trajectories (:func:`entropy_production_from_trajectories`)."""

    rate: jax.Array
    """Estimated entropy-production (KL) rate, nats per unit time."""
    rate_se: jax.Array
    """Its standard error, nats per unit time."""
    n_batches: int
    """Number of independent batch means behind the standard error."""
    dt: float
    """Sampling interval."""
    kernel: str
    """``"given"`` (exact kernel of the given A, D) or ``"fitted"`` (least-squares affine kernel)."""


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def _system(A, D, *, need_stable: bool = True):
    check_numeric("A (drift matrix)", A)
    check_numeric("D (diffusion)", D)
    A = _as_float_array("A", A)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise InputError(f"A (drift matrix) must be a square (d, d) matrix, got shape {tuple(A.shape)}.")
    d = A.shape[0]
    D = _as_matrix("D", D, d)
    _check_positive_definite("D", D)
    if need_stable and _is_concrete(A):
        lam = np.linalg.eigvals(np.asarray(A))
        worst = lam[np.argmax(lam.real)]
        if not worst.real < 0:
            raise InputError(
                f"A (drift matrix) has an eigenvalue {complex(worst)!r} with real part >= 0: the "
                "process has no steady state. Every eigenvalue of A must have a negative real part."
            )
    return A, D


# ---------------------------------------------------------------------------------------------
# pure-JAX kernels
# ---------------------------------------------------------------------------------------------


@jax.jit
def _lyapunov(A, D):
    d = A.shape[0]
    eye = jnp.eye(d, dtype=A.dtype)
    # row-major vec: vec(A C) = (A ⊗ 1) vec C, vec(C A^T) = (1 ⊗ A) vec C
    M = jnp.kron(A, eye) + jnp.kron(eye, A)
    C = jnp.linalg.solve(M, -2.0 * D.reshape(-1)).reshape(d, d)
    return 0.5 * (C + C.T)


@jax.jit
def _sigma(A, D, C):
    Omega = 0.5 * (A @ C - (A @ C).T)
    LD = _cholesky(D)
    LC = _cholesky(C)
    # sigma = || L_D^{-1} Omega L_C^{-T} ||_F^2
    Y = solve_triangular(LD, Omega, lower=True)
    Z = solve_triangular(LC, Y.T, lower=True).T
    return jnp.sum(Z * Z)


@jax.jit
def _kl_rate_single(A, D, C, dt):
    # forward kernel x' | x ~ N(Phi x, S); the stationary reversed process is OU with drift
    # A_r = C A^T C^-1 = -A - 2 D C^-1 and the same D, so its kernel N(Phi_r x, S_r) comes from
    # the same Van Loan exponential (no C - Phi C Phi^T anywhere)
    A_r = -A - 2.0 * jnp.linalg.solve(C, D).T
    _, E2, _, S2 = _affine_kernel(jnp.stack([A, A_r]), jnp.zeros(A.shape[0]), D, dt)
    S, S_r = S2[0], S2[1]
    dPhi = E2[0] - E2[1]  # Phi - Phi_r
    L_r = _cholesky(S_r)
    # KL of the pair laws = E_x KL(N(Phi x, S) || N(Phi_r x, S_r))
    #   = [tr(S_r^-1 S) - d - ln det(S_r^-1 S) + tr(dPhi^T S_r^-1 dPhi C)] / 2,
    # the first bracket as sum(mu - log1p(mu)) over the eigenvalues mu of L_r^-1 (S - S_r) L_r^-T:
    # both parts are sums of non-negative terms, second order in rounding errors at equilibrium
    Y = solve_triangular(L_r, S - S_r, lower=True)
    N = solve_triangular(L_r, Y.T, lower=True)
    mu = jnp.linalg.eigvalsh(0.5 * (N + N.T))
    cov_part = jnp.sum(mu - jnp.log1p(mu))
    Z = solve_triangular(L_r, dPhi, lower=True)
    mean_part = jnp.sum(Z * (Z @ C))
    return 0.5 * (cov_part + mean_part) / dt


def _scales(A, D):
    """``(s, dm)``: the largest |entry| of A (1/time) and of D. The rates are computed for the
    dimensionless system ``A/s``, ``D/dm`` (time in units of 1/s, lengths in sqrt(dm/s)) and
    scaled back: sigma and the KL rate scale like s, C like dm/s, the KL rate at dt is that of
    the scaled system at ``s dt``. This keeps every intermediate in range for drifts or
    intervals as large as 1e300."""
    s = jnp.max(jnp.abs(A))
    dm = jnp.max(jnp.abs(D))
    return s, dm


@jax.jit
def _scaled_covariance(A, D):
    s, dm = _scales(A, D)
    return _lyapunov(A / s, D / dm), s, dm


def _negligible_kl(A, dt) -> bool:
    """True when the sampled process at ``dt`` has decorrelated beyond float64: then
    |Phi|^2 ~ t^(2(d-1)) e^(-2 rho dt) < 1e-340 (rho the slowest decay rate) and the exact KL
    rate is 0 to working precision (concrete input only)."""
    a = np.asarray(A, dtype=float)
    s = float(np.max(np.abs(a)))
    with np.errstate(over="ignore"):
        dts = float(np.float64(dt) * np.float64(s))
    rho = float(np.min(-np.linalg.eigvals(a / s).real))
    if not math.isfinite(dts):
        return rho > 0
    d = a.shape[0]
    return rho * dts > 400.0 + 2.0 * (d - 1) * math.log1p(dts)


def _check_result(name: str, value, fix: str) -> None:
    """Refuse a non-finite result of finite, valid input (never 'ok' with a null)."""
    v = np.asarray(value)
    if not np.all(np.isfinite(v)):
        raise InputError(f"{name} cannot be computed in float64 for these inputs (the result "
                         f"over- or underflows); {fix}")


_RESCALE = ("rescale the problem: give the drift in other time units (A*c, D*c and dt/c "
            "describe the same process; the rates scale by c) or the lengths in other units "
            "(D*c^2)")


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------


@float64
def steady_covariance(A, D):
    r"""Steady covariance $C$ of $d\boldsymbol x = A\boldsymbol x\,dt + \sqrt{2D}\,d\boldsymbol W$: $AC + CA^\top + 2D = 0$.

    Solved as the Kronecker system $(A\otimes\mathbb 1 + \mathbb 1\otimes A)\,\mathrm{vec}\,C = -2\,\mathrm{vec}\,D$
    (pure JAX, ``jit``/``grad``-able; $O(d^6)$, fine for $d\lesssim30$).

    Parameters
    ----------
    A : array_like, shape ``(d, d)``
        Stable drift matrix (every eigenvalue with negative real part), 1/time.
    D : array_like
        Diffusion: scalar, ``(d,)`` diagonal or ``(d, d)`` positive definite, length²/time.

    Returns
    -------
    Array, shape ``(d, d)``, length².

    Examples
    --------
    >>> steady_covariance([[-2.0]], [[3.0]]).tolist()
    [[1.5]]
    """
    A, D = _system(A, D)
    Cn, s, dm = _scaled_covariance(A, D)
    return Cn * (dm / s)


@float64
def entropy_production_rate(A, D):
    r"""Steady entropy-production rate $\sigma = \mathrm{tr}(A^\top D^{-1}AC) - \mathrm{tr}(C^{-1}D)$ (nats/time).

    Evaluated as $\mathrm{tr}(\Omega^\top D^{-1}\Omega C^{-1})$ with $\Omega = \frac12(AC - CA^\top)$,
    which is identical (use $AC + CA^\top = -2D$), manifestly $\ge 0$ and exactly $0$ at
    equilibrium. For isotropic $D$ it does not depend on the noise amplitude.

    Parameters
    ----------
    A, D
        As in :func:`steady_covariance`.

    Returns
    -------
    Array, scalar, nats per unit time ($k_B = 1$).

    Examples
    --------
    >>> k, eps = 1.0, 0.5     # rotational trap: sigma = 2 eps^2 / k
    >>> round(float(entropy_production_rate([[-k, -eps], [eps, -k]], 1.0)), 12)
    0.5
    """
    A, D = _system(A, D)
    Cn, s, dm = _scaled_covariance(A, D)
    sigma = s * _sigma(A / s, D / dm, Cn)
    if _is_concrete(A, D):
        _check_result("the entropy-production rate", sigma, _RESCALE + ".")
    return sigma


@float64
def kl_rate(A, D, dt):
    r"""Exact KL rate between forward and time-reversed stationary paths sampled at $\Delta t$.

    $$\dot D_{KL}(\Delta t) = \frac{\tfrac12\big[\mathrm{tr}(\Sigma_r^{-1}\Sigma) - 2d\big]}{\Delta t},\qquad
      \Sigma = \begin{pmatrix}C&C\Phi^\top\\\Phi C&C\end{pmatrix}$$

    (docs/theory/linear-ou.md, eq. (90)). Evaluated in the equivalent conditional form
    $\mathbb E[\ln p(\boldsymbol x'|\boldsymbol x) - \ln p(\boldsymbol x|\boldsymbol x')]$ with the exact kernel
    $\mathcal N(\Phi\boldsymbol x, S)$, $S = \Sigma_{\Delta t}$ by Van Loan (never $C - \Phi C\Phi^\top$):

    $$\dot D_{KL} = \frac{\mathrm{tr}(S^{-1}ESE^\top) + 2\,\mathrm{tr}E + \mathrm{tr}(S^{-1}GCG^\top)}{2\Delta t},\quad
      E = \Phi - \mathbb 1 = A\!\int_0^{\Delta t}\!e^{As}ds,\ \ G = \mathbb 1 - \Phi^2 = -E(2 + E),$$

    which keeps full precision for small $\Delta t$. $\dot D_{KL}\le\sigma$ and
    $\sigma - \dot D_{KL} = O(\Delta t)$.

    Parameters
    ----------
    A, D
        As in :func:`steady_covariance`.
    dt : float or array_like
        Sampling interval(s) $\Delta t > 0$; an array gives one rate per entry.

    Returns
    -------
    Array, shape of ``dt``, nats per unit time.
    """
    A, D = _system(A, D)
    check_numeric("dt", dt)
    dt = _as_float_array("dt", dt)
    if _is_concrete(dt) and not np.all(np.asarray(dt) > 0):
        raise InputError(f"dt must be > 0 (sampling interval), got {np.asarray(dt).tolist()!r}.")
    Cn, s, dm = _scaled_covariance(A, D)
    An, Dn = A / s, D / dm
    if _is_concrete(A, D, dt):
        dts = np.asarray(dt, dtype=float)
        out = np.empty(dts.shape)
        for i in np.ndindex(dts.shape):
            out[i] = 0.0 if _negligible_kl(A, dts[i]) else float(
                s * _kl_rate_single(An, Dn, Cn, s * dts[i]))
        _check_result("the KL rate at dt", out, _RESCALE + ".")
        return jnp.asarray(out)
    return jnp.vectorize(lambda t: s * _kl_rate_single(An, Dn, Cn, s * t))(dt)


@float64
def linear_system_ep(A, D, dt=None) -> LinearSystemEP:
    r"""Steady covariance, entropy-production rate and KL rate at $\Delta t$ in one call.

    Parameters
    ----------
    A, D
        As in :func:`steady_covariance`.
    dt : float, optional
        Sampling interval for ``kl_rate_at_dt``; omitted: NaN.

    Returns
    -------
    LinearSystemEP

    Examples
    --------
    >>> r = linear_system_ep([[-1.0, 0.0], [1.0, -1.0]], 1.0, dt=0.01)   # sigma = b^2/(2a)
    >>> round(float(r.entropy_production_rate), 12), bool(r.kl_rate_at_dt < 0.5)
    (0.5, True)
    """
    A, D = _system(A, D)
    Cn, s, dm = _scaled_covariance(A, D)
    C = Cn * (dm / s)
    sigma = s * _sigma(A / s, D / dm, Cn)
    concrete = _is_concrete(A, D)
    if concrete:
        _check_result("the steady covariance", C,
                      "the drift and diffusion differ by more than the float64 range; " + _RESCALE
                      + ".")
        _check_result("the entropy-production rate", sigma, _RESCALE + ".")
    if dt is None:
        return LinearSystemEP(C, sigma, jnp.asarray(jnp.nan), float("nan"))
    check_numeric("dt", dt)
    dt_val = _as_float_array("dt", dt)
    if dt_val.ndim != 0:
        raise InputError(f"dt must be a scalar, got shape {tuple(dt_val.shape)}.")
    if _is_concrete(dt_val) and not float(dt_val) > 0:
        raise InputError(f"dt must be > 0 (sampling interval), got {float(dt_val)!r}.")
    if concrete and _is_concrete(dt_val):
        if _negligible_kl(A, float(dt_val)):
            kl = jnp.asarray(0.0)
        else:
            kl = s * _kl_rate_single(A / s, D / dm, Cn, s * dt_val)
            _check_result("the KL rate at dt", kl,
                          "dt is too many relaxation times of the fastest mode for the "
                          "exact kernel; " + _RESCALE + ".")
        return LinearSystemEP(C, sigma, kl, dt)
    return LinearSystemEP(C, sigma, s * _kl_rate_single(A / s, D / dm, Cn, s * dt_val), dt)


def _fit_affine_kernel(x):
    """Least-squares affine kernel x' = Phi x + c + N(0, S) and stationary N(mu, C) from all pairs."""
    d = x.shape[-1]
    X0 = x[..., :-1, :].reshape(-1, d)
    X1 = x[..., 1:, :].reshape(-1, d)
    n = X0.shape[0]
    if n <= 2 * d + 2:
        raise InputError(
            f"x has only {n} transitions; fitting the kernel of a {d}-dimensional system needs "
            f"more than {2 * d + 2}. Pass A and D, or longer trajectories."
        )
    design = jnp.concatenate([X0, jnp.ones((n, 1))], axis=1)
    coef, *_ = jnp.linalg.lstsq(design, X1)
    Phi, c = coef[:d].T, coef[d]
    resid = X1 - design @ coef
    S = resid.T @ resid / (n - d - 1)
    pts = x.reshape(-1, d)
    mu = pts.mean(axis=0)
    C = jnp.cov(pts.T).reshape(d, d)
    return Phi, c, S, mu, C


@jax.jit
def _stationary_entropy_production(x, Phi, c, S, mu, C):
    """Per-step ln[rho(x_i) p(x_{i+1}|x_i)] - ln[rho(x_{i+1}) p(x_i|x_{i+1})], shape (R, K)."""
    LS, LC = _cholesky(S), _cholesky(C)
    x0, x1 = x[:, :-1, :], x[:, 1:, :]
    fwd = _kernel_log_prob(x0, x1, Phi, c, LS)
    rev = _kernel_log_prob(x1, x0, Phi, c, LS)
    # ln rho(x) up to its constant, which cancels: -|L_C^-1 (x - mu)|^2 / 2
    z = solve_triangular(LC, (x - mu).reshape(-1, x.shape[-1]).T, lower=True).T
    log_rho = -0.5 * jnp.sum(z * z, axis=-1).reshape(x.shape[:-1])
    return (fwd - rev) + (log_rho[:, :-1] - log_rho[:, 1:])


@float64
def entropy_production_from_trajectories(x, dt, A=None, D=None, *, n_batches: int = 20) -> TrajectoryEP:
    r"""Sampled irreversibility rate of stationary trajectories, with its standard error.

    Each step contributes the stationary total entropy production

    $$s_i = \ln\frac{\rho(\boldsymbol x_i)\,p(\boldsymbol x_{i+1}\mid\boldsymbol x_i)}{\rho(\boldsymbol x_{i+1})\,p(\boldsymbol x_i\mid\boldsymbol x_{i+1})},$$

    with the exact kernel $p = \mathcal N(\Phi\boldsymbol x, \Sigma_{\Delta t})$ of the given $A, D$ and their
    steady density $\rho = \mathcal N(0, C)$. In the stationary state $\mathbb E[s_i]$ equals the KL
    divergence per step exactly, so the estimate ``mean(s) / dt`` is unbiased for
    :func:`kl_rate` at this $\Delta t$ (which tends to $\sigma$ as $\Delta t\to0$). The $\rho$ terms
    telescope and have zero mean; they only remove the boundary fluctuations (at equilibrium
    $s_i = 0$ identically).

    Standard error: the $s_i$ are correlated in time, so the SE comes from independent batch
    means. With several trajectories (``x`` of shape ``(R, K+1, d)``, ``R >= 2``) each
    trajectory is one batch; a single trajectory is cut into ``n_batches`` contiguous batches,
    which is valid when a batch is much longer than the relaxation time $1/|\mathrm{Re}\,\lambda|$.

    Without ``A`` and ``D`` the affine kernel $\boldsymbol x' = \hat\Phi\boldsymbol x + \hat{\boldsymbol c} + \mathcal N(0,\hat S)$
    and $\rho = \mathcal N(\hat{\boldsymbol\mu}, \hat C)$ are fitted by least squares on all pairs
    (``kernel="fitted"``); this plug-in estimate is biased upwards by $O(d^2/n)$ and its SE does
    not include the uncertainty of the fit.

    Parameters
    ----------
    x : array_like, shape ``(K+1, d)`` or ``(R, K+1, d)``
        Stationary trajectories sampled at interval ``dt``.
    dt : float
        Sampling interval, time units.
    A, D : array_like, optional
        Drift and diffusion of the model (both or neither).
    n_batches : int
        Batches for a single trajectory (default 20).

    Returns
    -------
    TrajectoryEP
    """
    x = _as_float_array("x", x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1] < 2:
        raise InputError(
            f"x must have shape (K+1, d) or (R, K+1, d) with K >= 1, got {tuple(x.shape)}."
        )
    R, K1, d = x.shape
    dt_val = _as_float_array("dt", dt)
    if dt_val.ndim != 0 or not float(dt_val) > 0:
        raise InputError(f"dt must be a scalar > 0 (sampling interval), got {dt!r}.")
    if (A is None) != (D is None):
        raise InputError("pass both A and D (the model), or neither (fit the kernel from x).")
    if A is not None:
        A, D = _system(A, D)
        if A.shape[0] != d:
            raise InputError(f"A has dimension {A.shape[0]} but the trajectories have d = {d}.")
        Phi, c, S = _van_loan(A, jnp.zeros(d), D, dt_val)
        mu, C = jnp.zeros(d), _lyapunov(A, D)
        kernel = "given"
    else:
        Phi, c, S, mu, C = _fit_affine_kernel(x)
        kernel = "fitted"
    s = _stationary_entropy_production(x, Phi, c, S, mu, C)  # (R, K)
    if R >= 2:
        means = jnp.mean(s, axis=1)
        nb = R
    else:
        nb = int(n_batches)
        if nb < 2 or nb > s.shape[1]:
            raise InputError(
                f"n_batches must be between 2 and the number of steps {s.shape[1]}, got {n_batches!r}."
            )
        L = s.shape[1] // nb
        means = jnp.mean(s[0, : nb * L].reshape(nb, L), axis=1)
    per_step = jnp.mean(s)
    se = jnp.std(means, ddof=1) / jnp.sqrt(nb)
    return TrajectoryEP(per_step / dt_val, se / dt_val, nb, float(dt_val), kernel)

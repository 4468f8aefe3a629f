r"""Exact transition densities of linear (affine) Langevin dynamics and their path log-probabilities.

The model is the affine Itô SDE in $d$ dimensions

$$d\boldsymbol x = (A\boldsymbol x + \boldsymbol b)\,dt + \sqrt{2D}\,d\boldsymbol W,$$

with any drift matrix $A$ (stable, singular or unstable), constant force $\boldsymbol b$ and
positive-definite diffusion matrix $D$ (energy/friction units: $D = \mu T$, docs/theory/units.md, eq. (1)).
Over a step $\Delta$ the transition is exactly Gaussian (docs/theory/numerics.md, eq. (96);
docs/theory/paths-and-entropy-production.md, eq. (72); docs/theory/linear-ou.md, eq. (91)),

$$p(\boldsymbol x'\mid\boldsymbol x;\Delta) = \mathcal N\big(\boldsymbol x';\ \Phi\boldsymbol x + \boldsymbol c,\ \Sigma_\Delta\big),
\qquad \Phi = e^{A\Delta},\quad \boldsymbol c = \int_0^\Delta e^{As}ds\,\boldsymbol b,\quad
\Sigma_\Delta = \int_0^\Delta e^{As}\,2D\,e^{A^\top s}ds,$$

and $\Phi$, $\boldsymbol c$, $\Sigma_\Delta$ come from one Van Loan block exponential, which needs neither
$A^{-1}$ nor a stationary covariance and keeps full relative precision for tiny steps. For long
steps the exponential is taken at $h = \Delta/2^m$ with $\lVert A\rVert_1h\le\tfrac12$ and the kernel is
doubled $m$ times ($\Sigma_{2h} = \Sigma_h + \Phi_h\Sigma_h\Phi_h^\top$, ...), so that the growing block
$e^{-A^\top\Delta}$ of the plain construction never overflows or costs digits.

The isotropic case $A = -k\mathbb 1$, $D = T\mathbb 1$, $\boldsymbol b = \boldsymbol f$ (the Hebbian learning
neuron, docs/theory/paths-and-entropy-production.md, eq. (72)) has a fast path without $d\times d$ matrices
(:func:`ou_path_log_prob`), written with $h(x) = (1-e^{-x})/x = -\mathrm{expm1}(-x)/x$:

$$\boldsymbol\omega' - \boldsymbol\omega - \Delta\,h(k\Delta)\,(\boldsymbol f - k\boldsymbol\omega)\ \sim\ \mathcal N\big(0,\ 2T\Delta\,h(2k\Delta)\,\mathbb 1\big).$$

Conventions shared by every path function of :mod:`thermoinfer.paths`:

* ``x`` has shape ``(..., K+1, d)``: optional leading batch axes (replicas), then ``K+1`` time
  points, then the components. ``times`` is either a scalar (uniform step $\Delta t$) or the
  ``K+1`` observation times (any irregular, increasing grid).
* The result has shape ``(..., K)``: element ``i`` is the log-density of transition ``i``. For
  the forward path it is $\ln p(\boldsymbol x_{i+1}\mid\boldsymbol x_i;\Delta_i)$; for the reversed path
  (the same kernel applied to the reversed sequence $\tilde{\boldsymbol x}_j=\boldsymbol x_{K-j}$) it is
  $\ln p(\boldsymbol x_i\mid\boldsymbol x_{i+1};\Delta_i)$, **stored at the same index** ``i`` as the
  forward step it reverses, so that ``forward - reversed`` is the per-step log ratio.
* With ``initial_log_prob`` (forward) or ``final_log_prob`` (reversed) the result has shape
  ``(..., K+1)`` and element ``0`` is the log-density of that path's starting point
  ($\ln p_0(\boldsymbol x_0)$, resp. $\ln\tilde p(\boldsymbol x_K)$); the transitions follow. Then
  ``.sum(-1)`` is the full path log-probability and ``(forward - reversed)[..., 0]`` is
  $\Delta s_{sys}$.
* Parameters may be piecewise constant in time (a protocol): a leading step axis of length ``K``
  (``A`` of shape ``(K, d, d)``, ``b`` ``(K, d)``, ``D`` ``(K, d, d)``; for the OU fast path
  ``stiffness``/``temperature`` ``(K,)``, ``force`` ``(K, N)``). The reversed path then runs
  under the **reversed protocol** $\tilde\lambda(s) = \lambda(t_K - s)$: the reversed step
  $\boldsymbol x_{i+1}\to\boldsymbol x_i$ uses the parameters of forward step ``i``, which is exactly what
  storing it at index ``i`` does.
* Everything is vectorised over time (no scan) and is ``jit``/``vmap``/``grad``-able. Callers
  that already hold the pre- and post-step points as separate arrays should use the
  ``*_transition_log_prob(x_prev, x_next, ...)`` forms: XLA reduces over shifted slices
  ``x[1:] - x[:-1]`` of large arrays much more slowly than over separately held arrays.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from .._x64 import float64
from ..errors import InputError

__all__ = [
    "affine_transition",
    "linear_transition_log_prob",
    "linear_path_log_prob",
    "linear_path_log_prob_reversed",
    "ou_transition_log_prob",
    "ou_path_log_prob",
    "ou_path_log_prob_reversed",
]

_LOG_2PI = math.log(2.0 * math.pi)
# below |x| = 1e-5 the series 1 - x/2 + x^2/6 of (1 - e^{-x})/x is exact to ~x^3/24 < 1e-16
_H_SERIES_CUTOFF = 1e-5


# ---------------------------------------------------------------------------------------------
# small shared helpers (also used by euler_maruyama.py and thermo/linear_system.py)
# ---------------------------------------------------------------------------------------------


def _is_concrete(*xs) -> bool:
    """True when none of ``xs`` is a tracer, so values can be checked eagerly."""
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(xs))


def _as_float_array(name: str, value):
    """``value`` as a float64 array, checked for NaN/inf when concrete.

    Concrete non-JAX input stays a NumPy array (validated without dispatching JAX ops, which
    would compile one kernel per new shape); JAX arrays and tracers stay JAX arrays.
    """
    try:
        if isinstance(value, jax.Array):
            arr = jnp.asarray(value, dtype=float)
        else:
            arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric array, got {value!r}.") from None
    if isinstance(arr, np.ndarray):
        finite = bool(np.all(np.isfinite(arr)))
    elif _is_concrete(arr):
        with jax.ensure_compile_time_eval():  # a concrete array inside someone's trace
            finite = bool(jnp.all(jnp.isfinite(arr)))
    else:
        finite = True
    if not finite:
        raise InputError(f"{name} contains NaN or inf; pass finite values.")
    return arr


def _time_steps(times, n_steps: int, name: str = "times"):
    """Scalar ``dt`` (uniform grid) or the ``K`` steps of a ``(K+1,)`` grid of times."""
    t = _as_float_array(name, times)
    if t.ndim == 0:
        steps = t
    elif t.ndim == 1 and t.shape[0] == n_steps + 1:
        steps = t[1:] - t[:-1]
    else:
        raise InputError(
            f"{name} must be a scalar time step or an array of the {n_steps + 1} observation "
            f"times (one per point of the path), got shape {tuple(t.shape)}. For an array of "
            "K step sizes pass jnp.concatenate([0, jnp.cumsum(steps)])."
        )
    if _is_concrete(steps):
        s = np.asarray(steps)
        if not np.all(s > 0):
            raise InputError(
                f"{name} must give time steps > 0 (strictly increasing times), got "
                f"min step {float(s.min())!r}."
            )
        if s.ndim == 1 and np.all(np.abs(s - s.mean()) <= 1e-13 * s.mean()):
            # a uniform grid passed as times: one transition instead of K identical ones
            steps = np.asarray((float(t[-1]) - float(t[0])) / n_steps)
    return steps


def _check_path(name: str, x, min_ndim: int = 2) -> jax.Array:
    x = _as_float_array(name, x)
    if x.ndim < min_ndim or x.shape[-2] < 2:
        raise InputError(
            f"{name} must have shape (..., K+1, d) with at least two time points, got shape "
            f"{tuple(x.shape)}."
        )
    return x


def _as_matrix(name: str, value, d: int, *, allow_steps: bool = False) -> jax.Array:
    """``value`` as a ``(d, d)`` (or ``(K, d, d)``) matrix; scalars and ``(d,)`` diagonals too."""
    m = _as_float_array(name, value)
    xp = np if isinstance(m, np.ndarray) else jnp
    if m.ndim == 0:
        return m * xp.eye(d)
    if m.ndim == 1 and m.shape[0] == d:
        return xp.diag(m)
    if m.ndim == 2 and m.shape == (d, d):
        return m
    if allow_steps and m.ndim == 3 and m.shape[-2:] == (d, d):
        return m
    raise InputError(
        f"{name} must be a scalar, a ({d},) diagonal or a ({d}, {d}) matrix"
        + (f" (or ({d}, {d}) per step, shape (K, {d}, {d}))" if allow_steps else "")
        + f", got shape {tuple(m.shape)}."
    )


def _check_positive_definite(name: str, m, *, semi: bool = False) -> None:
    """Eager check (skipped under tracing) that ``m`` is symmetric positive (semi-)definite."""
    if not _is_concrete(m):
        return
    a = np.asarray(m, dtype=float)
    scale = max(float(np.max(np.abs(a))), np.finfo(float).tiny)
    if not np.allclose(a, np.swapaxes(a, -1, -2), rtol=0.0, atol=1e-12 * scale):
        raise InputError(
            f"{name} must be symmetric, got {a.tolist()!r}; pass (D + D.T) / 2 if the "
            "asymmetry is rounding."
        )
    lam = np.linalg.eigvalsh(0.5 * (a + np.swapaxes(a, -1, -2)))
    low = float(lam.min())
    if (low < 0) if semi else (low <= 0):
        what = "positive semi-definite" if semi else "positive definite"
        raise InputError(
            f"{name} must be {what} (diffusion matrix D = mobility x temperature), got "
            f"smallest eigenvalue {low!r}."
        )


def _h(x):
    r"""$h(x) = (1 - e^{-x})/x$ with $h(0) = 1$, stable for small $|x|$ and safe under ``grad``."""
    small = jnp.abs(x) < _H_SERIES_CUTOFF
    xs = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - x / 2.0 + x * x / 6.0, -jnp.expm1(-xs) / xs)


def _cholesky(S):
    return jnp.linalg.cholesky(0.5 * (S + jnp.swapaxes(S, -1, -2)))


def _kernel_log_prob(x_prev, x_next, Phi, shift, chol):
    r"""$\ln\mathcal N(x_{next}; \Phi x_{prev} + c, LL^\top)$, broadcasting over leading axes."""
    d = x_prev.shape[-1]
    mean = jnp.einsum("...ij,...j->...i", Phi, x_prev) + shift
    r = x_next - mean
    z = jnp.vectorize(lambda L, v: solve_triangular(L, v, lower=True), signature="(d,d),(d)->(d)")(
        chol, r
    )
    logdet = jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * jnp.sum(z * z, axis=-1) - logdet - 0.5 * d * _LOG_2PI


def _boundary(fn_or_value, point) -> jax.Array:
    """Log-density of a path's starting point: a callable of one point, or given values."""
    if callable(fn_or_value):
        return jnp.vectorize(fn_or_value, signature="(d)->()")(point)
    return jnp.broadcast_to(jnp.asarray(fn_or_value, dtype=float), point.shape[:-1])


def _with_boundary(transitions, boundary):
    return jnp.concatenate([boundary[..., None], transitions], axis=-1)


# ---------------------------------------------------------------------------------------------
# affine transitions (Van Loan)
# ---------------------------------------------------------------------------------------------


# The Van Loan block M = [[A, 2D, 1], [0, -A^T, 0], [0, 0, 0]] is exponentiated at a base step
# h = dt / 2^m with |M h|_1 <= _THETA, where a Taylor polynomial of degree _TAYLOR_DEGREE is exact
# to rounding (remainder <= 0.5^15 / 15! * e^0.5 ~ 4e-17 relative), and where the growing block
# e^{-A^T h} stays O(1) and costs no precision. The full step then follows by m exact doublings,
# each a sum of non-negative terms:
#   Phi(2h) = Phi(h)^2,  E(2h) = E(h) (2 + E(h))  [E = Phi - 1],  c(2h) = (1 + Phi(h)) c(h),
#   Sigma(2h) = Sigma(h) + Phi(h) Sigma(h) Phi(h)^T.
# (Plain scaling-and-squaring of the whole block, as in expm, would square the growing block too.)
_THETA = 0.5
_TAYLOR_DEGREE = 14
_MAX_DOUBLINGS = 64
_FEW_DOUBLINGS = 8


def _expm_taylor(X):
    """$e^X$ by Horner's rule for $\\lVert X\\rVert_1\\le$ ``_THETA``."""
    eye = jnp.eye(X.shape[-1], dtype=X.dtype)
    R = eye
    for j in range(_TAYLOR_DEGREE, 0, -1):
        R = eye + (X @ R) / j
    return R


def _affine_kernel_single(A, b, D, dt):
    d = A.shape[-1]
    eye = jnp.eye(d, dtype=A.dtype)
    z = jnp.zeros((d, d), dtype=A.dtype)
    # expm([[A, 2D, 1], [0, -A^T, 0], [0, 0, 0]] h) = [[Phi, X, Psi], [0, e^{-A^T h}, 0], [0, 0, 1]]
    # with Psi = int_0^h e^{As} ds and Sigma = X Phi^T (Van Loan 1978)
    M = jnp.block([[A, 2.0 * D, eye], [z, -A.T, z], [z, z, z]])
    norm = jnp.max(jnp.sum(jnp.abs(M), axis=0))
    m = jnp.ceil(jnp.log2(jnp.maximum(norm * dt / _THETA, 1.0)))
    m = jax.lax.stop_gradient(jnp.clip(m, 0, _MAX_DOUBLINGS))
    ex = _expm_taylor(M * (dt / 2.0**m))
    Phi, X, Psi = ex[:d, :d], ex[:d, d:2 * d], ex[:d, 2 * d:]
    E = A @ Psi
    shift = Psi @ b
    Sigma = X @ Phi.T

    def double(carry, i):
        Phi, E, shift, Sigma = carry
        new = (Phi @ Phi, E @ (2.0 * eye + E), shift + Phi @ shift, Sigma + Phi @ Sigma @ Phi.T)
        keep = i < m
        return tuple(jnp.where(keep, n, o) for n, o in zip(new, carry, strict=True)), None

    def doublings(n):
        def run(carry):
            return jax.lax.scan(double, carry, jnp.arange(n))[0]
        return run

    # the common case of a short step needs no doubling, a moderate one a few: run only a scan
    # of the length needed (a real branch under jit and grad; under vmap all branches run)
    branch = jnp.where(m == 0, 0, jnp.where(m <= _FEW_DOUBLINGS, 1, 2))
    Phi, E, shift, Sigma = jax.lax.switch(
        branch, [lambda c: c, doublings(_FEW_DOUBLINGS), doublings(_MAX_DOUBLINGS)],
        (Phi, E, shift, Sigma))
    return Phi, E, shift, 0.5 * (Sigma + Sigma.T)


_affine_kernel = jnp.vectorize(
    jax.jit(_affine_kernel_single), signature="(d,d),(d),(d,d),()->(d,d),(d,d),(d),(d,d)"
)


def _van_loan(A, b, D, dt):
    """``(Phi, shift, Sigma)`` of the exact affine transition, broadcasting over leading axes."""
    Phi, _, shift, Sigma = _affine_kernel(A, b, D, dt)
    return Phi, shift, Sigma


def _van_loan_steps(A, b, D, dt):
    """:func:`_van_loan` for a path's steps; eager per-step grids are padded to a power of two
    so that grids of different lengths share one compiled kernel."""
    if isinstance(dt, np.ndarray) and dt.ndim == 1 and A.ndim == 2 and b.ndim == 1 and D.ndim == 2:
        K = dt.shape[0]
        n = 1 << max(K - 1, 0).bit_length()
        padded = np.concatenate([dt, np.full(n - K, dt[-1])])
        Phi, shift, Sigma = _van_loan(A, b, D, padded)
        return Phi[:K], shift[:K], Sigma[:K]
    return _van_loan(A, b, D, dt)


def _check_b(b, d):
    b = np.zeros(d) if b is None else _as_float_array("b", b)
    if b.ndim == 0:
        b = b * np.ones(d)
    if b.shape[-1] != d or b.ndim > 2:
        raise InputError(f"b (constant force) must have shape ({d},) or (K, {d}), got {tuple(b.shape)}.")
    return b


def _affine_transition(A, b, D, dt):
    A = _as_float_array("A", A)
    if A.ndim not in (2, 3) or A.shape[-1] != A.shape[-2]:
        raise InputError(
            f"A (drift matrix) must have shape (d, d) or (K, d, d), got shape {tuple(A.shape)}."
        )
    d = A.shape[-1]
    b = _check_b(b, d)
    D = _as_matrix("D", D, d, allow_steps=True)
    dt = _as_float_array("dt", dt)
    if dt.ndim > 1:
        raise InputError(f"dt must be a scalar or a (K,) array of steps, got shape {tuple(dt.shape)}.")
    return _van_loan(A, b, D, dt)


@float64
def affine_transition(A, b, D, dt):
    r"""Exact transition of $d\boldsymbol x = (A\boldsymbol x+\boldsymbol b)dt + \sqrt{2D}\,d\boldsymbol W$ over a step.

    $$\exp\!\Big[\begin{pmatrix}A&\boldsymbol b\\0&0\end{pmatrix}\Delta\Big]=\begin{pmatrix}\Phi&\boldsymbol c\\0&1\end{pmatrix},\qquad
    \exp\!\Big[\begin{pmatrix}A&2D\\0&-A^\top\end{pmatrix}\Delta\Big]=\begin{pmatrix}\Phi&X\\0&e^{-A^\top\Delta}\end{pmatrix},\qquad
    \Sigma_\Delta = X\Phi^\top$$

    (Van Loan 1978; docs/theory/numerics.md, eq. (96)), evaluated in one $3d\times3d$ exponential
    $\exp[(\begin{smallmatrix}A&2D&1\\0&-A^\top&0\\0&0&0\end{smallmatrix})h]$ whose top block row holds
    $\Phi_h$, $X_h$ and $\Psi_h=\int_0^he^{As}ds$ ($\boldsymbol c_h = \Psi_h\boldsymbol b$), at
    $h = \Delta/2^m$ with $\lVert A\rVert_1h\le\frac12$, followed by $m$ exact doublings
    $\Phi_{2h}=\Phi_h^2$, $\boldsymbol c_{2h}=(1+\Phi_h)\boldsymbol c_h$,
    $\Sigma_{2h}=\Sigma_h+\Phi_h\Sigma_h\Phi_h^\top$. Valid for singular $A$ (e.g. $A=0$ gives
    $\Sigma=2D\Delta$, $\boldsymbol c=\boldsymbol b\Delta$) and unstable $A$; accurate to full relative
    precision for tiny steps, where $C - \Phi C\Phi^\top$ would lose $|\log_{10}\Delta|$ digits, and
    for long steps of stiff drifts, where the plain block exponential would overflow.

    Parameters
    ----------
    A : array_like, shape ``(d, d)`` or ``(K, d, d)``
        Drift matrix, 1/time.
    b : array_like or None, shape ``(d,)`` or ``(K, d)``
        Constant force (drift offset), length/time; ``None`` for zero.
    D : array_like
        Diffusion matrix, length²/time: scalar ($D_0\mathbb 1$), ``(d,)`` diagonal, ``(d, d)``
        or ``(K, d, d)``; symmetric positive semi-definite.
    dt : float or array_like of shape ``(K,)``
        Time step(s) $\Delta$.

    Returns
    -------
    Phi : Array, ``(..., d, d)``
        $e^{A\Delta}$ (dimensionless).
    shift : Array, ``(..., d)``
        $\boldsymbol c = \int_0^\Delta e^{As}ds\,\boldsymbol b$.
    Sigma : Array, ``(..., d, d)``
        $\Sigma_\Delta$, symmetric.

    Examples
    --------
    >>> Phi, shift, Sigma = affine_transition([[0.0]], [2.0], [[0.5]], 1e-3)
    >>> float(shift[0]), float(Sigma[0, 0])
    (0.002, 0.001)

    References
    ----------
    .. [1] C. F. Van Loan, IEEE Trans. Autom. Control 23, 395 (1978).
       https://doi.org/10.1109/TAC.1978.1101743
    """
    return _affine_transition(A, b, D, dt)


# ---------------------------------------------------------------------------------------------
# general linear paths
# ---------------------------------------------------------------------------------------------


@jax.jit
def _linear_pairs_core(x_prev, x_next, Phi, shift, Sigma):
    return _kernel_log_prob(x_prev, x_next, Phi, shift, _cholesky(Sigma))


@functools.partial(jax.jit, static_argnames="reverse")
def _linear_path_core(x, Phi, shift, Sigma, reverse):
    lead, trail = x[..., :-1, :], x[..., 1:, :]
    if reverse:
        lead, trail = trail, lead
    return _kernel_log_prob(lead, trail, Phi, shift, _cholesky(Sigma))


def _check_linear_args(x_shape_d, A, D):
    A = _as_float_array("A", A)
    if A.ndim not in (2, 3) or A.shape[-2:] != (x_shape_d, x_shape_d):
        raise InputError(
            f"A (drift matrix) must have shape ({x_shape_d}, {x_shape_d}) to match the "
            f"{x_shape_d} components of the path (or (K, {x_shape_d}, {x_shape_d}) per step), "
            f"got shape {tuple(A.shape)}."
        )
    D = _as_matrix("D", D, x_shape_d, allow_steps=True)
    _check_positive_definite("D", D)
    return A, D


@float64
def linear_transition_log_prob(x_prev, x_next, dt, A, b, D):
    r"""Exact log-density $\ln p(\boldsymbol x_{next}\mid\boldsymbol x_{prev};\Delta)$ of affine dynamics, for pairs.

    The pair form of :func:`linear_path_log_prob`, for callers that hold pre- and post-step
    points as separate arrays (faster than slicing one large path array).

    Parameters
    ----------
    x_prev, x_next : array_like, shape ``(..., d)``
        Pre- and post-step points; leading axes broadcast against ``dt`` and per-step
        parameters.
    dt : float or array_like of shape ``(K,)``
        Time step(s).
    A, b, D
        As in :func:`affine_transition`.

    Returns
    -------
    Array, shape ``(...)``, nats.
    """
    x_prev = _as_float_array("x_prev", x_prev)
    x_next = _as_float_array("x_next", x_next)
    d = x_prev.shape[-1] if x_prev.ndim else 0
    if x_prev.ndim == 0 or x_next.shape[-1:] != (d,):
        raise InputError(
            f"x_prev and x_next must have shape (..., d) with the same d, got "
            f"{tuple(x_prev.shape)} and {tuple(x_next.shape)}."
        )
    A, D = _check_linear_args(d, A, D)
    dt = _as_float_array("dt", dt)
    if dt.ndim > 1:
        raise InputError(f"dt must be a scalar or a (K,) array of steps, got shape {tuple(dt.shape)}.")
    if _is_concrete(dt) and not np.all(np.asarray(dt) > 0):
        raise InputError(f"dt must be > 0, got {np.asarray(dt).tolist()!r}.")
    # the kernel is computed outside the jitted log-density: its (expensive) compilation is
    # then cached per shape of dt, not per shape of the path
    kernel = _van_loan_steps(A, _check_b(b, d), D, dt)
    return _linear_pairs_core(x_prev, x_next, *kernel)


def _linear_path(x, times, A, b, D, reverse: bool):
    x = _check_path("x", x)
    K, d = x.shape[-2] - 1, x.shape[-1]
    dt = _time_steps(times, K)
    A, D = _check_linear_args(d, A, D)
    kernel = _van_loan_steps(A, _check_b(b, d), D, dt)
    return x, _linear_path_core(x, *kernel, reverse=reverse)


@float64
def linear_path_log_prob(x, times, A, b, D, *, initial_log_prob=None):
    r"""Forward path log-probability of affine dynamics, per transition (exact on any grid).

    $$\ln\mathcal P[\boldsymbol x_0,\dots,\boldsymbol x_K] = \ln p_0(\boldsymbol x_0)
      + \sum_{i=0}^{K-1}\ln\mathcal N\big(\boldsymbol x_{i+1};\ \Phi_i\boldsymbol x_i+\boldsymbol c_i,\ \Sigma_{\Delta_i}\big)$$

    with $\Phi_i$, $\boldsymbol c_i$, $\Sigma_{\Delta_i}$ from :func:`affine_transition`. All $K$
    transitions are evaluated in parallel.

    Parameters
    ----------
    x : array_like, shape ``(..., K+1, d)``
        Path(s), length units.
    times : float or array_like of shape ``(K+1,)``
        Uniform time step, or the observation times (any increasing grid).
    A : array_like, shape ``(d, d)`` or ``(K, d, d)``
        Drift matrix, 1/time.
    b : array_like or None
        Constant force, ``(d,)`` or ``(K, d)``; ``None`` for zero.
    D : array_like
        Diffusion: scalar, ``(d,)`` diagonal, ``(d, d)`` or ``(K, d, d)``; positive definite.
    initial_log_prob : callable or array_like, optional
        $\ln p_0$: a function of one point ``(d,) -> ()``, or its value(s) at ``x[..., 0, :]``.

    Returns
    -------
    Array
        Shape ``(..., K)`` (nats): $\ln p(\boldsymbol x_{i+1}\mid\boldsymbol x_i;\Delta_i)$; with
        ``initial_log_prob``, shape ``(..., K+1)`` with $\ln p_0(\boldsymbol x_0)$ first.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [0.1, -0.2], [0.3, 0.1]])
    >>> lp = linear_path_log_prob(x, 0.1, [[-1.0, 0.5], [-0.5, -1.0]], None, 1.0)
    >>> lp.shape
    (2,)
    """
    x, lp = _linear_path(x, times, A, b, D, reverse=False)
    if initial_log_prob is None:
        return lp
    return _with_boundary(lp, _boundary(initial_log_prob, x[..., 0, :]))


@float64
def linear_path_log_prob_reversed(x, times, A, b, D, *, final_log_prob=None):
    r"""Log-probability of the time-reversed path under the same (reversed-protocol) kernel.

    The reversed path $\tilde{\boldsymbol x}_j = \boldsymbol x_{K-j}$ is weighed with the same exact
    kernel (docs/theory/paths-and-entropy-production.md, eq. (74)), started from $\tilde p$:

    $$\ln\tilde{\mathcal P} = \ln\tilde p(\boldsymbol x_K) + \sum_{i=0}^{K-1}\ln p(\boldsymbol x_i\mid\boldsymbol x_{i+1};\Delta_i).$$

    Element ``i`` reverses forward step ``i`` (same index, same step size, same per-step
    parameters: the reversed protocol), so ``linear_path_log_prob(...) - this`` is the
    per-step log ratio. For constant parameters the reversed protocol is the forward one.

    Parameters
    ----------
    x, times, A, b, D
        As in :func:`linear_path_log_prob`.
    final_log_prob : callable or array_like, optional
        $\ln\tilde p$, the density the reversed process starts from (e.g. $\ln p_t$), evaluated
        at the last point ``x[..., -1, :]``.

    Returns
    -------
    Array
        Shape ``(..., K)`` (nats); with ``final_log_prob``, ``(..., K+1)`` with
        $\ln\tilde p(\boldsymbol x_K)$ first.
    """
    x, lp = _linear_path(x, times, A, b, D, reverse=True)
    if final_log_prob is None:
        return lp
    return _with_boundary(lp, _boundary(final_log_prob, x[..., -1, :]))


# ---------------------------------------------------------------------------------------------
# isotropic OU fast path (learning neuron, d = N large)
# ---------------------------------------------------------------------------------------------


def _per_step_scalar(name: str, value, n_steps: int | None):
    v = _as_float_array(name, value)
    if v.ndim == 0:
        return v
    if v.ndim == 1 and (n_steps is None or v.shape[0] == n_steps):
        return v[:, None]  # broadcast against (..., K, N)
    raise InputError(
        f"{name} must be a scalar or one value per step, shape ({n_steps},), got shape "
        f"{tuple(v.shape)}."
    )


@jax.jit
def _ou_log_prob(w_prev, w_next, dt, k, f, T):
    """Broadcasting core: w_* (..., N); dt, k, T broadcastable to (..., 1); f to (..., N)."""
    n = w_prev.shape[-1]
    h = dt * _h(k * dt)  # effective step (1 - e^{-k dt}) / k
    s2 = 2.0 * T * dt * _h(2.0 * k * dt)  # T (1 - e^{-2 k dt}) / k
    r = (w_next - w_prev) - h * (f - k * w_prev)
    s2 = jnp.broadcast_to(s2, r.shape[:-1] + (1,))[..., 0]
    return -0.5 * jnp.sum(r * r, axis=-1) / s2 - 0.5 * n * (jnp.log(s2) + _LOG_2PI)


def _ou_args(w_shape, dt, stiffness, force, temperature, n_steps):
    n = w_shape[-1]
    k = _per_step_scalar("stiffness", stiffness, n_steps)
    T = _per_step_scalar("temperature", temperature, n_steps)
    if _is_concrete(T) and not np.all(np.asarray(T) > 0):
        raise InputError(f"temperature must be > 0 (energy units, k_B = 1), got {np.asarray(T)!r}.")
    f = _as_float_array("force", force)
    if f.ndim > 2 or (f.ndim >= 1 and f.shape[-1] != n) or (
        f.ndim == 2 and n_steps is not None and f.shape[0] != n_steps
    ):
        raise InputError(
            f"force must be a scalar, a ({n},) vector or ({n_steps}, {n}) per step, got shape "
            f"{tuple(f.shape)}."
        )
    if dt.ndim == 1:
        dt = dt[:, None]
    return dt, k, f, T


@float64
def ou_transition_log_prob(w_prev, w_next, dt, stiffness, force, temperature=1.0):
    r"""Exact isotropic OU transition log-density, for (pre, post) pairs, without $N\times N$ matrices.

    For $d\boldsymbol\omega = (\boldsymbol f - k\boldsymbol\omega)dt + \sqrt{2T}\,d\boldsymbol W$ (docs/theory/paths-and-entropy-production.md, eq. (72)),

    $$\ln p(\boldsymbol\omega'\mid\boldsymbol\omega;\Delta) = -\frac{|\boldsymbol\omega'-\boldsymbol\omega-\Delta h(k\Delta)(\boldsymbol f-k\boldsymbol\omega)|^2}{2s^2}
      - \frac N2\ln(2\pi s^2),\qquad s^2 = 2T\Delta\,h(2k\Delta) = \frac{T(1-e^{-2k\Delta})}{k},$$

    with $h(x) = -\mathrm{expm1}(-x)/x$ (exact for any real $k$, including $k = 0$).

    Parameters
    ----------
    w_prev, w_next : array_like, shape ``(..., K, N)`` or ``(..., N)``
        Weights before and after each step.
    dt : float or array_like of shape ``(K,)``
        Step sizes, time units (1/k).
    stiffness : float or array_like of shape ``(K,)``
        $k$, 1/time.
    force : float or array_like of shape ``(N,)`` or ``(K, N)``
        Constant learning force $\boldsymbol f$ (same units as $k\boldsymbol\omega$).
    temperature : float or array_like of shape ``(K,)``
        $T$ (energy units, $k_B = 1$, mobility 1, so $D = T$).

    Returns
    -------
    Array, shape ``(..., K)`` (or ``(...)``), nats.
    """
    w_prev = _as_float_array("w_prev", w_prev)
    w_next = _as_float_array("w_next", w_next)
    if w_prev.ndim == 0 or w_prev.shape[-1] != w_next.shape[-1]:
        raise InputError(
            f"w_prev and w_next must have shape (..., N) with the same N, got "
            f"{tuple(w_prev.shape)} and {tuple(w_next.shape)}."
        )
    dt = _as_float_array("dt", dt)
    n_steps = w_prev.shape[-2] if w_prev.ndim >= 2 else None
    dt, k, f, T = _ou_args(w_prev.shape, dt, stiffness, force, temperature, n_steps)
    return _ou_log_prob(w_prev, w_next, dt, k, f, T)


def _ou_path(w, times, stiffness, force, temperature, reverse):
    w = _check_path("w", w)
    K = w.shape[-2] - 1
    dt = _time_steps(times, K)
    dt, k, f, T = _ou_args(w.shape, dt, stiffness, force, temperature, K)
    return w, _ou_path_core(w, dt, k, f, T, reverse=reverse)


@functools.partial(jax.jit, static_argnames="reverse")
def _ou_path_core(w, dt, k, f, T, reverse):
    lead, trail = w[..., :-1, :], w[..., 1:, :]
    if reverse:
        lead, trail = trail, lead
    return _ou_log_prob(lead, trail, dt, k, f, T)


@float64
def ou_path_log_prob(w, times, stiffness, force, temperature=1.0, *, initial_log_prob=None):
    r"""Forward path log-probability of the isotropic OU process (Hebbian learning neuron), per step.

    Exact on any grid (docs/theory/paths-and-entropy-production.md, eq. (73)): element ``i`` is
    $\ln p(\boldsymbol\omega_{i+1}\mid\boldsymbol\omega_i;\Delta_i)$ of :func:`ou_transition_log_prob`. Cost
    $O(KN)$; ``vmap`` over replicas or pass ``w`` with leading replica axes.

    Parameters
    ----------
    w : array_like, shape ``(..., K+1, N)``
        Weight path(s).
    times : float or array_like of shape ``(K+1,)``
        Uniform time step, or the observation times.
    stiffness, force, temperature
        As in :func:`ou_transition_log_prob` (constant, or per step: a protocol).
    initial_log_prob : callable or array_like, optional
        $\ln p_0$ of one point ``(N,) -> ()`` or its value(s) at ``w[..., 0, :]``.

    Returns
    -------
    Array
        Shape ``(..., K)``, nats; ``(..., K+1)`` with $\ln p_0(\boldsymbol\omega_0)$ first when
        ``initial_log_prob`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.zeros((3, 4))
    >>> ou_path_log_prob(w, 0.1, 1.0, 0.0, 2.0).shape
    (2,)
    """
    w, lp = _ou_path(w, times, stiffness, force, temperature, reverse=False)
    if initial_log_prob is None:
        return lp
    return _with_boundary(lp, _boundary(initial_log_prob, w[..., 0, :]))


@float64
def ou_path_log_prob_reversed(w, times, stiffness, force, temperature=1.0, *, final_log_prob=None):
    r"""Log-probability of the reversed weight path under the same exact OU kernel, per step.

    Element ``i`` is $\ln p(\boldsymbol\omega_i\mid\boldsymbol\omega_{i+1};\Delta_i)$ with the parameters of
    step ``i`` (reversed protocol). By detailed balance (docs/theory/paths-and-entropy-production.md, eq. (75)), for every step

    $$\ln\frac{p(\boldsymbol\omega_{i+1}\mid\boldsymbol\omega_i)}{p(\boldsymbol\omega_i\mid\boldsymbol\omega_{i+1})}
      = \frac{U(\boldsymbol\omega_i) - U(\boldsymbol\omega_{i+1})}{T},\qquad
      U = \tfrac k2|\boldsymbol\omega|^2 - \boldsymbol f\cdot\boldsymbol\omega,$$

    so with ``initial_log_prob`` $=\ln p_0$ and ``final_log_prob`` $=\ln p_t$ the difference of the
    sums is $\Delta s_{tot}$.

    Parameters
    ----------
    w, times, stiffness, force, temperature
        As in :func:`ou_path_log_prob`.
    final_log_prob : callable or array_like, optional
        $\ln\tilde p$ (e.g. $\ln p_t$) of one point, evaluated at ``w[..., -1, :]``.

    Returns
    -------
    Array
        Shape ``(..., K)`` or ``(..., K+1)``, nats.
    """
    w, lp = _ou_path(w, times, stiffness, force, temperature, reverse=True)
    if final_log_prob is None:
        return lp
    return _with_boundary(lp, _boundary(final_log_prob, w[..., -1, :]))

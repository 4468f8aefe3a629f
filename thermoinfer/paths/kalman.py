r"""Linear OU paths seen through localization noise: exact Kalman marginal likelihoods.

Model
-----
The latent state follows the affine OU process of :mod:`thermoinfer.paths.linear`,
$d\boldsymbol x = (A\boldsymbol x + \boldsymbol b)dt + \sqrt{2D}\,d\boldsymbol W$ with fixed point
$\boldsymbol x^* = -A^{-1}\boldsymbol b$, and is observed with independent Gaussian localization
(measurement) noise of standard deviation $s_i$ per component,

$$\boldsymbol y_i = \boldsymbol x(t_i) + \boldsymbol e_i,\qquad \boldsymbol e_i\sim\mathcal N(0, R),\quad
R = \mathrm{diag}(s_1^2,\dots,s_d^2),\qquad \boldsymbol x(t_0)\sim\mathcal N(\boldsymbol\mu_0, C_0)$$

($C_0$ = the steady covariance and $\boldsymbol\mu_0 = \boldsymbol x^*$ by default). The log-likelihood is
the marginal $\ln p(\boldsymbol y_0,\dots,\boldsymbol y_{N-1})$ of every replica, the latent path
integrated out.

Sequential filter (any grid)
----------------------------
:func:`kalman_log_prob` runs the Kalman filter with the exact transition
$(\Phi = \mathbb 1 + E, \boldsymbol c, \Sigma_\Delta)$ of
:class:`~thermoinfer.paths.kernels.AffineKernel` per step: with the predicted state
$\mathcal N(\boldsymbol m_i, P_i)$ ($\boldsymbol m_0 = \boldsymbol\mu_0$, $P_0 = C_0$),

$$\boldsymbol v_i = \boldsymbol y_i - \boldsymbol m_i,\quad S_i = P_i + R,\quad K_i = P_iS_i^{-1},\quad
\ell_i = \ln\mathcal N(\boldsymbol v_i; 0, S_i),$$

$$\boldsymbol m_{i+1} = \Phi_i(\boldsymbol m_i + K_i\boldsymbol v_i) + \boldsymbol c_i,\qquad
P_{i+1} = \Phi_i\big[(\mathbb 1 - K_i)P_i(\mathbb 1 - K_i)^\top + K_iRK_i^\top\big]\Phi_i^\top + \Sigma_{\Delta_i}$$

(Joseph form); $\sum_i\ell_i = \ln p(\boldsymbol y_0,\dots,\boldsymbol y_{N-1})$. The covariances do not
depend on the data and are shared by the replicas; the cost is $N$ sequential steps.

Steady-state form (regular grid)
--------------------------------
On a regular grid the Riccati map of $P_i$ has a fixed point $\bar P$ (the discrete algebraic
Riccati equation, solved by the structure-preserving doubling algorithm). With
$\boldsymbol u_i = \boldsymbol y_i - \boldsymbol x^*$, $S = \bar P + R$, $K = \bar PS^{-1}$, the closed loop
$M = \Phi(\mathbb 1 - K)$ (spectral radius $\rho < 1$), $G = \Phi K$ and $X = \sum_{j\ge0}(M^j)^\top S^{-1}M^j$
(the Stein equation $X = S^{-1} + M^\top XM$, solved by doubling), two exact rewritings remove the
sequential pass:

1. **Start at the fixed point.** Write $C_0 = \bar P + \Delta$. Given the mean $\boldsymbol z$ of a
   first state $\mathcal N(\boldsymbol z, \bar P)$ the filter is time-invariant from the first frame,
   $\boldsymbol m_{i+1} = M\boldsymbol m_i + G\boldsymbol u_i$, with innovations
   $\boldsymbol v_i(\boldsymbol z) = \boldsymbol v_i(0) - M^i\boldsymbol z$ of covariance $S$. Integrating
   $\boldsymbol z\sim\mathcal N(\boldsymbol\mu, \Delta)$, $\boldsymbol\mu = \boldsymbol\mu_0 - \boldsymbol x^*$, in closed form,
   for $R_{rep}$ replicas of $N$ frames:

   $$\ln p = -\tfrac{R_{rep}N}2\big(d\ln2\pi + \ln\det S\big) - \tfrac12Q_0
     + \sum_r\Big[\tfrac12\boldsymbol\beta_r^\top W\boldsymbol\beta_r + \boldsymbol\mu^\top\boldsymbol b_r\Big]
     - \tfrac{R_{rep}}2\big(\boldsymbol\mu^\top\Omega\boldsymbol\mu + \ln\det(\mathbb 1 + \Delta\Omega)\big),$$

   $Q_0 = \sum_{r,i}\boldsymbol v_i(0)^\top S^{-1}\boldsymbol v_i(0)$,
   $\boldsymbol b_r = \sum_i(M^i)^\top S^{-1}\boldsymbol v_{r,i}(0) = \sum_s(M^s)^\top\big[S^{-1} - M^\top X_{N-1-s}G\big]\boldsymbol u_{r,s}$,
   $X_n = \sum_{j<n}(M^j)^\top S^{-1}M^j = X - (M^n)^\top XM^n$, $\Omega = X_N$,
   $W = \Delta(\mathbb 1 + \Omega\Delta)^{-1}$, $\boldsymbol\beta_r = \boldsymbol b_r - \Omega\boldsymbol\mu$.
2. **Telescoping.** With $V_i = \boldsymbol m_i^\top X\boldsymbol m_i$ and $M^\top XM = X - S^{-1}$,

   $$Q_0 = \mathrm{tr}\big[(S^{-1} + G^\top XG)\Gamma_0\big]
     + 2\sum_{j=1}^{N-1}\mathrm{tr}\big[B\,M^{j-1}G\,\Gamma_j\big] - \sum_r V_{N,r},\qquad
     B = G^\top XM - S^{-1},\quad \Gamma_j = \sum_r\sum_{i=j}^{N-1}\boldsymbol u_{r,i-j}\boldsymbol u_{r,i}^\top,$$

   $\boldsymbol m_{N,r} = \sum_{j=1}^{N}M^{j-1}G\boldsymbol u_{r,N-j}$.

The lagged second moments $\Gamma_j$, and the first moments that move them to any centre
$\boldsymbol x^*$, are computed **once** from the data centred on their mean
(:func:`localization_statistics`, blocked FFT correlations); an evaluation needs the powers
$M^j$ (log₂ of their number of batched products) and contractions with the lagged moments and
the first and last frames: no pass over the data.

**Levels.** Kept to all $N$ lags the form is exact (the *complete* level, $O(N)$ vectorised
work per evaluation, for series of up to :data:`COMPLETE_MAX` frames). The *fast* level stops
the sums at $L$ = :data:`MAX_LAGS` lags ($L\le N/2$) and drops the terms of order
$\lVert M^{N-L}\rVert$; its cost does not depend on $N$. With
$T = \sum_{j<L}\lVert M^j\rVert$, $\tau = \lVert M^{L-1}\rVert T/(1 - \lVert M^L\rVert)$ (Frobenius norms)
and $U = \mathrm{tr}\,\Gamma_0$, the neglected terms are bounded by
$\varepsilon_L = \lVert B\rVert\lVert G\rVert U\tau + {}$ (the last state, $\boldsymbol b_r$ and $\Omega$; see
:func:`steady_state_error_bound`). :func:`localization_log_likelihood` uses the fast level
where $\varepsilon_L\le$ :data:`FAST_ATOL`, else the complete level, else (irregular grids,
longer series with $\rho^L$ not small) the sequential filter; under ``jit``/``grad`` only the
chosen branch runs, and the gradient is formed inside it.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from .._x64 import float64
from ..errors import InputError
from .kernels import AffineKernel
from .statistics import _check_data, group_steps

__all__ = ["LocalizationStatistics", "SteadyStateFilter", "localization_statistics",
           "kalman_log_prob", "localization_log_likelihood", "steady_state_filter",
           "steady_state_error_bound", "condition_on_observation", "moment_columns", "METHODS",
           "MAX_LAGS", "COMPLETE_MAX", "FAST_ATOL"]

_LOG_2PI = math.log(2.0 * math.pi)

#: lags $L$ of the fast level, and the block of the complete level (a power of two)
MAX_LAGS = 2048
#: longest series (frames per replica) with the complete, exact steady-state level; longer
#: series fall back from the fast level to the sequential filter
COMPLETE_MAX = 1 << 20
#: largest error bound (nats) at which the fast level replaces the exact value
FAST_ATOL = 1e-6
#: doubling iterations of the Riccati and Stein solutions (error of order rho^(2^n))
DOUBLINGS = 32
#: frames per FFT block of the lagged moments
FFT_BLOCK = 1 << 16
#: ``method`` of :func:`localization_log_likelihood`
METHODS = ("auto", "sequential", "fast", "complete")


class LocalizationStatistics(NamedTuple):
    r"""Data of the localization-noise likelihood (module docstring); a JAX pytree of arrays.

    With the frames $\boldsymbol y'_{r,i} = \boldsymbol y_{r,i} - $ ``ref`` centred on their mean, ``N``
    frames per replica, ``R`` replicas:

    * ``ref`` ``(d,)`` (length); ``labels`` ``(N,)`` the kernel of each frame's incoming
      transition (0 for the first frame, ``1 + g`` for step group ``g``); ``group_dt`` ``(G,)``
      the groups' steps (time);
    * ``y`` ``(N, R, d)`` the frames, time-major, for the sequential filter (``(0, R, d)`` when
      the complete level makes it unnecessary);
    * ``lag0`` ``(d, d)`` $\Gamma'_0 = \sum_{r,i}\boldsymbol y'_{r,i}\boldsymbol y_{r,i}'^\top$ and ``total`` ``(d,)``
      $\sum_{r,i}\boldsymbol y'_{r,i}$;
    * ``moments`` ``(B, Lb, C)``: per lag $j$ (regular grid; ``B = 0`` blocks otherwise), in
      ``B`` blocks of ``Lb`` lags, zero beyond the data, the columns (:func:`moment_columns`)
      ``lag`` ($d^2$: $\Gamma'_{j+1} = \sum_r\sum_{i>j}\boldsymbol y'_{r,i-j-1}\boldsymbol y_{r,i}'^\top$, row-major),
      ``s_early`` and ``s_late`` ($d$ each: the sums of its first and second factors,
      $\sum_r\sum_{i\le N-2-j}\boldsymbol y'_{r,i}$ and $\sum_r\sum_{i\ge j+1}\boldsymbol y'_{r,i}$), ``count``
      (its number of pairs $R(N-1-j)$), ``inside`` (1 for $j < N$), ``head`` ($Rd$: frame $j$ of
      every replica) and ``tail`` ($Rd$: frame $N-1-j$). Every lagged sum of an evaluation is
      one matrix product of the powers $M^j$ with this array.

    ``B Lb >= N``: the complete level (every lag); ``N > Lb``: the fast level is block 0.
    """

    ref: np.ndarray
    labels: np.ndarray
    group_dt: np.ndarray
    y: np.ndarray
    lag0: np.ndarray
    total: np.ndarray
    moments: np.ndarray

    @property
    def n_frames(self) -> int:
        """Frames per replica $N$."""
        return int(np.shape(self.labels)[0])

    @property
    def n_replicas(self) -> int:
        """Replicas $R$."""
        return int(np.shape(self.y)[1])

    @property
    def block(self) -> int:
        """Lags per block ``Lb`` (the fast level's lags; 0: sequential filter only)."""
        return int(np.shape(self.moments)[1])

    @property
    def n_blocks(self) -> int:
        """Blocks of lags kept."""
        return int(np.shape(self.moments)[0])

    @property
    def complete(self) -> bool:
        """Whether the steady-state form keeps every lag (exact)."""
        return self.n_blocks > 0 and self.n_blocks * self.block >= self.n_frames

    @property
    def has_fast_level(self) -> bool:
        """Whether block 0 alone is a truncation (``N > Lb``) worth trying first."""
        return self.n_blocks > 0 and self.n_frames > self.block


# ---------------------------------------------------------------------------------------------
# statistics


def _lagged_products(y, L):
    r"""$\sum_r\sum_{i=j}^{N-1}\boldsymbol y_{r,i-j}\boldsymbol y_{r,i}^\top$ for $j < L$, ``(L, d, d)``, by
    blocked FFT correlation (blocks of at least :data:`FFT_BLOCK` frames)."""
    R, N, d = y.shape
    out = np.zeros((L, d, d))
    block = max(FFT_BLOCK, 4 * L)
    for r in range(R):
        for a in range(0, N, block):
            b = min(a + block, N)
            lo = max(a - (L - 1), 0)
            seg, blk = y[r, lo:b], y[r, a:b]
            n = 1 << (seg.shape[0] + blk.shape[0] - 1).bit_length()
            fs = np.fft.rfft(seg, n, axis=0)
            fb = np.fft.rfft(blk, n, axis=0)
            # c[k, p, q] = sum_i seg[i + k, p] blk[i, q]; negative k wrap around to n + k
            c = np.fft.irfft(fs[:, :, None] * np.conj(fb[:, None, :]), n, axis=0)
            out += c[((a - lo) - np.arange(L)) % n]
    return out


def moment_columns(d: int, n_replicas: int) -> dict:
    """Column slices of :attr:`LocalizationStatistics.moments` (and ``"width"``, their number)."""
    out, start = {}, 0
    for name, n in (("lag", d * d), ("s_early", d), ("s_late", d), ("count", 1), ("inside", 1),
                    ("head", n_replicas * d), ("tail", n_replicas * d)):
        out[name] = slice(start, start + n)
        start += n
    out["width"] = start
    return out


def localization_statistics(y, times, *, max_lags: int = MAX_LAGS,
                            complete_max: int = COMPLETE_MAX) -> LocalizationStatistics:
    r"""Everything the localization-noise likelihood needs from the data, computed once.

    Parameters
    ----------
    y : array_like, shape ``(replica, N, d)`` or ``(N, d)``
        Observed (noisy) positions, length units, all replicas on the same grid.
    times : float or array_like of shape ``(N,)``
        Uniform step, or the observation times.
    max_lags : int
        Lags of the fast level and of each block of the complete level (rounded down to a
        power of two, at least 1).
    complete_max : int
        Longest series (frames per replica) kept with every lag (the complete, exact level);
        a longer one keeps the fast level's lags and the frames for the sequential filter.

    Returns
    -------
    LocalizationStatistics
        NumPy arrays; $O(N\log N)$ work (FFT), $O(N)$ memory.

    Examples
    --------
    >>> import numpy as np
    >>> st = localization_statistics(np.random.default_rng(0).normal(size=(2, 10000, 2)), 0.1)
    >>> st.n_frames, st.block, st.n_blocks, st.complete, st.has_fast_level
    (10000, 2048, 5, True, True)
    """
    x, steps = _check_data(y, times)
    R, N, d = x.shape
    limits = {}
    for name, value, low in (("max_lags", max_lags, 1), ("complete_max", complete_max, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}.")
        limits[name] = int(value)
    labels, group_dt, _ = group_steps(steps, rtol=1e-9)
    ref = x.reshape(-1, d).mean(axis=0)
    yc = x - ref
    total = yc.sum(axis=(0, 1))
    flat = yc.reshape(-1, d)
    lag0 = flat.T @ flat
    Lb = nb = 0
    if group_dt.shape[0] == 1:
        Lb = min(1 << (limits["max_lags"].bit_length() - 1), N)
        nb = -(-N // Lb) if N <= limits["complete_max"] else 1
    if nb:
        n_lags = min(nb * Lb, N - 1)
        lag = _lagged_products(yc, n_lags + 1)[1:]
        first = np.cumsum(yc[:, :n_lags].sum(axis=0), axis=0)          # frames 0..j
        last = np.cumsum(yc[:, ::-1][:, :n_lags].sum(axis=0), axis=0)  # frames N-1-j..N-1
        j = np.arange(nb * Lb)
        cols = dict(lag=lag.reshape(n_lags, d * d), s_early=total - last, s_late=total - first,
                    count=(R * np.maximum(N - 1 - j, 0.0))[:, None],
                    inside=(j < N).astype(float)[:, None],
                    head=np.swapaxes(yc[:, :nb * Lb], 0, 1).reshape(-1, R * d),
                    tail=np.swapaxes(yc[:, ::-1][:, :nb * Lb], 0, 1).reshape(-1, R * d))
        width = moment_columns(d, R)
        moments = np.zeros((nb * Lb, width["width"]))
        for name, v in cols.items():
            moments[:v.shape[0], width[name]] = v
        moments = moments.reshape(nb, Lb, -1)
    else:
        moments = np.zeros((0, 0, moment_columns(d, R)["width"]))
    complete = nb > 0 and nb * Lb >= N
    frames = np.zeros((0, R, d)) if complete else np.ascontiguousarray(np.swapaxes(yc, 0, 1))
    return LocalizationStatistics(ref, _frame_labels(labels), np.asarray(group_dt, float),
                                  frames, lag0, total, moments)


def _frames(stats):
    """The centred frames, time-major ``(N, R, d)``, from ``y`` or (complete level) ``head``."""
    if stats.complete:
        R, d = stats.n_replicas, stats.ref.shape[-1]
        head = jnp.asarray(stats.moments)[..., moment_columns(d, R)["head"]]
        return head.reshape(-1, R, d)[:stats.n_frames]
    return jnp.asarray(stats.y)


# ---------------------------------------------------------------------------------------------
# sequential filter


def _chol(S):
    return jnp.linalg.cholesky(0.5 * (S + jnp.swapaxes(S, -1, -2)))


def _update(m, P, y, r2):
    r"""Condition $\mathcal N(\boldsymbol m, P)$ on $\boldsymbol y = \boldsymbol x + \boldsymbol e$,
    $\boldsymbol e\sim\mathcal N(0, \mathrm{diag}\,r^2)$: posterior and $\ln\mathcal N(\boldsymbol y; \boldsymbol m, P + R)$.
    ``m``, ``y`` ``(..., d)``; ``P`` ``(d, d)`` shared."""
    d = P.shape[-1]
    S = P + jnp.diag(r2)
    L = _chol(S)
    v = y - m
    z = solve_triangular(L, v.reshape(-1, d).T, lower=True)
    logp = (-0.5 * jnp.sum(z * z, axis=0).reshape(v.shape[:-1])
            - jnp.sum(jnp.log(jnp.diagonal(L))) - 0.5 * d * _LOG_2PI)
    K = cho_solve((L, True), P).T  # P S^-1
    m_new = m + v @ K.T
    IK = jnp.eye(d, dtype=P.dtype) - K
    P_new = IK @ P @ IK.T + (K * r2) @ K.T
    return m_new, 0.5 * (P_new + P_new.T), logp


def condition_on_observation(mean, cov, y, noise_sd):
    r"""State posterior given one noisy observation, and its log-evidence.

    Conditions $\boldsymbol x\sim\mathcal N(\boldsymbol m, P)$ on $\boldsymbol y = \boldsymbol x + \boldsymbol e$,
    $\boldsymbol e\sim\mathcal N(0, \mathrm{diag}\,s^2)$:
    $\boldsymbol m' = \boldsymbol m + K(\boldsymbol y - \boldsymbol m)$, $P' = (\mathbb 1 - K)P(\mathbb 1 - K)^\top + KRK^\top$,
    $K = P(P + R)^{-1}$; returns ``(m', P', ln N(y; m, P + R))``. ``mean``, ``y`` ``(..., d)``,
    ``cov`` ``(d, d)``, ``noise_sd`` ``(d,)`` or scalar (length). Traceable.
    """
    cov = jnp.asarray(cov)
    d = cov.shape[-1]
    r2 = _noise_var(noise_sd, d, cov.dtype)
    y = jnp.asarray(y, cov.dtype)
    mean = jnp.broadcast_to(jnp.asarray(mean, cov.dtype), jnp.broadcast_shapes(jnp.shape(mean),
                                                                               y.shape))
    return _update(mean, cov, y, r2)


def _with_identity(kernel):
    """The kernel table with the identity step (no transition) prepended as entry 0."""
    def pad(a):
        return jnp.concatenate([jnp.zeros((1,) + a.shape[1:], a.dtype), a])

    return jax.tree.map(pad, kernel)


def _frame_labels(labels):
    """Kernel index of every frame: 0 (no transition) for the first, ``1 + group`` after."""
    return np.concatenate([[0], np.asarray(labels) + 1]).astype(np.int32)


def _sequential_terms(y, frame_labels, kernel, r2, m0, P0):
    """Per-frame predictive log-densities ``(N, R)`` of centred, time-major frames ``y``
    ``(N, R, d)``; ``kernel`` from :func:`_with_identity` (shifts and ``m0`` in the same centred
    coordinates). One scan over the frames: predict with the frame's kernel, then update."""
    Phi = kernel.E + jnp.eye(kernel.E.shape[-1], dtype=kernel.E.dtype)
    m0 = jnp.broadcast_to(m0, y.shape[1:])

    # checkpointed: reverse mode keeps the carries of the scan, not every intermediate of a step
    @functools.partial(jax.checkpoint, prevent_cse=False)
    def step(carry, xs):
        m, P = carry
        g, yi = xs
        m = m + m @ kernel.E[g].T + kernel.shift[g]
        P = Phi[g] @ P @ Phi[g].T + kernel.Sigma[g]
        m, P, lp = _update(m, P, yi, r2)
        return (m, P), lp

    _, lp = jax.lax.scan(step, (m0, P0), (frame_labels, y))
    return lp


def _noise_var(noise_sd, d, dtype):
    s = jnp.asarray(noise_sd, dtype)
    if s.ndim > 1 or (s.ndim == 1 and s.shape[0] != d):
        raise InputError(f"noise_sd must be a scalar or a ({d},) vector of standard deviations "
                         f"(length), got shape {tuple(s.shape)}.")
    s = jnp.broadcast_to(s, (d,))
    return s * s


def _lyapunov(A, D):
    d = A.shape[0]
    eye = jnp.eye(d, dtype=A.dtype)
    C = jnp.linalg.solve(jnp.kron(A, eye) + jnp.kron(eye, A), -2.0 * D.reshape(-1)).reshape(d, d)
    return 0.5 * (C + C.T)


def _initial(A, b, D, initial_mean, initial_cov):
    x_star = jnp.linalg.solve(A, -b)
    mu0 = x_star if initial_mean is None else jnp.asarray(initial_mean, A.dtype)
    C0 = _lyapunov(A, D) if initial_cov is None else jnp.asarray(initial_cov, A.dtype)
    return x_star, mu0, C0


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(xs))


def _grid(times, n_frames):
    """``(frame_labels (N,), steps (G,))``: the kernel of every frame and the distinct steps
    (concrete times: grouped as in :func:`~thermoinfer.paths.statistics.group_steps`; traced
    times: one kernel per step)."""
    if _traced(times):
        t = jnp.asarray(times)
        if t.ndim == 0:
            return np.zeros(n_frames, np.int32), t[None]
        return jnp.arange(n_frames, dtype=jnp.int32), t[1:] - t[:-1]
    _, steps = _check_data(np.zeros((1, n_frames, 1)), times)
    labels, group_dt, _ = group_steps(steps)
    return _frame_labels(labels), np.asarray(group_dt, float)


@float64
def kalman_log_prob(y, times, A, b, D, noise_sd, *, initial_mean=None, initial_cov=None):
    r"""Per-frame log predictive densities $\ln p(\boldsymbol y_i\mid\boldsymbol y_0,\dots,\boldsymbol y_{i-1})$, nats.

    The sequential filter of the module docstring, on any grid (the reference of the
    steady-state form). Traceable: ``y``, ``times`` and the parameters may be traced (traced
    times give one kernel per step).

    Parameters
    ----------
    y : array_like, shape ``(..., N, d)``
        Noisy positions (length), $N\ge2$ frames per path; leading axes are independent paths
        (replicas).
    times : float or array_like of shape ``(N,)``
        Uniform step, or the observation times.
    A, b, D
        Drift ``(d, d)`` (1/time), force ``(d,)`` (length/time), diffusion ``(d, d)``
        (length²/time) of the latent process.
    noise_sd : float or array_like, shape ``(d,)``
        Localization noise SD $s_i$ (length).
    initial_mean, initial_cov : array_like, optional
        $\boldsymbol\mu_0$, $C_0$ of the state at ``times[0]`` (default: the steady state
        $\boldsymbol x^* = -A^{-1}\boldsymbol b$ and the steady covariance; $A$ must then be stable).

    Returns
    -------
    Array, shape ``(..., N)``; the sum over frames is the marginal log-likelihood of a path.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).normal(size=(3, 50, 2))
    >>> lp = kalman_log_prob(y, 0.1, -np.eye(2), np.zeros(2), np.eye(2), 0.3)
    >>> lp.shape
    (3, 50)
    """
    if _traced(y):
        x = jnp.asarray(y, float)
        if x.ndim < 2 or x.shape[-2] < 2:
            raise InputError(f"y must have shape (..., N, d) with N >= 2, got {x.shape}.")
    else:
        x = np.asarray(y, dtype=float)
        if x.ndim < 2:
            raise InputError(f"y must have shape (..., N, d) with N >= 2, got {x.shape}.")
        _check_data(x.reshape((-1,) + x.shape[-2:]), times)
    lead, (N, d) = x.shape[:-2], x.shape[-2:]
    frame_labels, steps = _grid(times, N)
    A = jnp.asarray(A, float)
    b = jnp.asarray(b, float)
    D = jnp.asarray(D, float)
    kernel = AffineKernel.from_drift(A, b, D, jnp.asarray(steps, float))
    flat = jnp.asarray(x).reshape((-1, N, d))
    ref = jnp.mean(flat, axis=(0, 1))
    kernel = kernel._replace(shift=kernel.shift + kernel.E @ ref)
    _, mu0, C0 = _initial(A, b, D, initial_mean, initial_cov)
    out = _sequential_terms(jnp.swapaxes(flat - ref, 0, 1), frame_labels, _with_identity(kernel),
                            _noise_var(noise_sd, d, float), mu0 - ref, C0)
    return out.T.reshape(lead + (N,))


# ---------------------------------------------------------------------------------------------
# steady state


def _dare(Phi, Sigma, s):
    r"""Fixed point $\bar P = \Phi\bar P(\mathbb 1 + R^{-1}\bar P)^{-1}\Phi^\top + \Sigma$ by the
    structure-preserving doubling algorithm, in coordinates scaled by $R^{-1/2}$ (well
    conditioned as $s\to0$)."""
    d = Phi.shape[-1]
    eye = jnp.eye(d, dtype=Phi.dtype)
    At = (Phi * s[None, :] / s[:, None]).T
    H = Sigma / (s[:, None] * s[None, :])

    def body(_, carry):
        A, G, H = carry
        WAG = jnp.linalg.solve(eye + G @ H, jnp.concatenate([A, G], axis=1))
        WA, WG = WAG[:, :d], WAG[:, d:]
        G_new = G + A @ WG @ A.T
        H_new = H + A.T @ H @ WA
        return A @ WA, 0.5 * (G_new + G_new.T), 0.5 * (H_new + H_new.T)

    _, _, H = jax.lax.fori_loop(0, DOUBLINGS, body, (At, eye, H))
    return H * (s[:, None] * s[None, :])


def _stein(M, Q):
    r"""$X = \sum_{j\ge0}(M^j)^\top QM^j$ ($X = Q + M^\top XM$) by doubling."""
    def body(_, carry):
        X, Mk = carry
        return X + Mk.T @ X @ Mk, Mk @ Mk

    X, _ = jax.lax.fori_loop(0, DOUBLINGS, body, (Q, M))
    return 0.5 * (X + X.T)


def _powers(M, n):
    r"""``(n, d, d)``: $M^0,\dots,M^{n-1}$ (a scan of products: cheaper to compile and to run
    than batched doublings for small $d$)."""
    def body(P, _):
        return P @ M, P

    return jax.lax.scan(body, jnp.eye(M.shape[-1], dtype=M.dtype), None, length=n)[1]


class SteadyStateFilter(NamedTuple):
    r"""Steady-state Kalman filter: $\bar P$, $S = \bar P + R$, $K = \bar PS^{-1}$, $M = \Phi(\mathbb 1 - K)$, $G = \Phi K$."""

    P: jax.Array
    S: jax.Array
    K: jax.Array
    M: jax.Array
    G: jax.Array


def steady_state_filter(Phi, Sigma, noise_sd) -> SteadyStateFilter:
    r"""The steady-state (predictor-form) Kalman filter of one step ``(Phi, Sigma)``.

    $\bar P$ solves $\bar P = \Phi(\bar P^{-1} + R^{-1})^{-1}\Phi^\top + \Sigma$; the innovations are
    $\boldsymbol v_i = \boldsymbol u_i - \boldsymbol m_i$, $\boldsymbol m_{i+1} = M\boldsymbol m_i + G\boldsymbol u_i$,
    of covariance $S$. Traceable; ``noise_sd`` ``(d,)`` or scalar (length), positive.
    """
    Phi = jnp.asarray(Phi)
    d = Phi.shape[-1]
    r2 = _noise_var(noise_sd, d, Phi.dtype)
    P = _dare(Phi, jnp.asarray(Sigma, Phi.dtype), jnp.sqrt(r2))
    S = P + jnp.diag(r2)
    K = cho_solve((_chol(S), True), P).T
    M = Phi @ (jnp.eye(d, dtype=Phi.dtype) - K)
    return SteadyStateFilter(P, S, K, M, Phi @ K)


def _fro(X):
    return jnp.sqrt(jnp.sum(X * X, axis=(-2, -1)))


def _matrix_power(M, n: int):
    """$M^n$ for a static ``n`` by binary powering."""
    out = jnp.eye(M.shape[-1], dtype=M.dtype)
    base = M
    while n:
        if n & 1:
            out = out @ base
        n >>= 1
        if n:
            base = base @ base
    return out


def _steady(stats, mode, Phi, Sigma, r2, x_star, mu0, C0):
    """Steady-state log-likelihood and the error bound of its fast level.

    ``mode``: ``"fast"`` block 0 of the lags only; ``"all"`` every block kept (exact when the
    statistics are complete); ``"auto"`` block 0, plus the other blocks where the fast level's
    bound exceeds :data:`FAST_ATOL` (a ``cond`` around their one matrix product). Returns
    ``(value, bound)``: the bound of block 0 (0 when block 0 holds every lag).
    """
    N, R, Lb, nb = stats.n_frames, stats.n_replicas, stats.block, stats.n_blocks
    d = Phi.shape[-1]
    dtype = Phi.dtype
    eye = jnp.eye(d, dtype=dtype)
    f = steady_state_filter(Phi, Sigma, jnp.sqrt(r2))
    Ls = _chol(f.S)
    Sinv = cho_solve((Ls, True), eye)
    Sinv = 0.5 * (Sinv + Sinv.T)
    M, G = f.M, f.G
    X = _stein(M, Sinv)
    A0 = Sinv + G.T @ X @ G
    B = G.T @ X @ M - Sinv
    E = Sinv - M.T @ X @ G
    delta = x_star - jnp.asarray(stats.ref, dtype)
    MN = _matrix_power(M, N)
    Omega = X - MN.T @ X @ MN
    lam0 = stats.lag0 - jnp.outer(stats.total, delta) - jnp.outer(delta, stats.total) \
        + R * N * jnp.outer(delta, delta)
    Delta = C0 - f.P
    mu = mu0 - x_star
    IDO = eye + Delta @ Omega
    Wt = jnp.linalg.solve(IDO, Delta)  # (1 + Delta Omega)^-1 Delta = W^T
    W = 0.5 * (Wt + Wt.T)
    col = moment_columns(d, R)

    def sums(Z):
        """Lag term, b_r and m_N from Z[b, c, :] = sum_j (M^j)[b, c] moments[j, :]."""
        T = Z[:, :, col["lag"]].reshape(d, d, d, d)
        Z_in = Z[:, :, col["inside"]][..., 0]
        # sum_j tr(B M^j G Gamma_{j+1}(x*)), Gamma moved from the data's mean to ref + delta
        lagsum = (jnp.einsum("ab,cd,bcda->", B, G, T)
                  - jnp.einsum("ab,cd,bcd,a->", B, G, Z[:, :, col["s_early"]], delta)
                  - jnp.einsum("ab,cd,d,bca->", B, G, delta, Z[:, :, col["s_late"]])
                  + jnp.einsum("ab,cd,bc,d,a->", B, G, Z[:, :, col["count"]][..., 0], delta,
                               delta))
        Zh = Z[:, :, col["head"]].reshape(d, d, R, d)
        Zt = Z[:, :, col["tail"]].reshape(d, d, R, d)
        mN = jnp.einsum("bc,abrc->ra", G, Zt) - jnp.einsum("bc,ab,c->a", G, Z_in, delta)[None]
        b = (jnp.einsum("bc,barc->ra", E, Zh) - jnp.einsum("bc,ba,c->a", E, Z_in, delta)[None]
             + mN @ (X @ MN))          # (M^N)^T X m_N: the finite-N part of b_r
        return lagsum, b, mN

    Pw = _powers(M, Lb)
    flat = Pw.reshape(Lb, d * d)
    moments = jnp.asarray(stats.moments, dtype)
    Z = (flat.T @ moments[0]).reshape(d, d, -1)
    if N > Lb:
        _, b0, _ = sums(Z)
        beta0 = b0 - (Omega @ mu)[None]
        bound = _bound(*jax.lax.stop_gradient((Pw, M, G, B, E, X, W, MN, lam0, beta0, mu)), R)
    else:
        bound = jnp.zeros((), dtype)

    def rest():
        # blocks k >= 1: M^(k Lb + j) = M^(k Lb) M^j, one batched product over the data (all
        # blocks, block 0 weighed by zero: no slice of the data, which reverse mode would keep)
        Zb = jnp.einsum("jx,kjy->kxy", flat, moments).reshape(nb, d, d, -1)
        Pk = _powers(Pw[-1] @ M, nb).at[0].set(0.0)
        return jnp.einsum("kbe,kecy->bcy", Pk, Zb)

    if nb > 1 and mode == "all":
        Z = Z + rest()
    elif nb > 1 and mode == "auto":
        Z = Z + jax.lax.cond(bound <= FAST_ATOL, lambda: jnp.zeros_like(Z), rest)
    lagsum, b, mN = sums(Z)
    Q0 = (jnp.sum(A0 * lam0.T) + 2.0 * lagsum - jnp.einsum("ra,ab,rb->", mN, X, mN))
    beta = b - (Omega @ mu)[None]
    zterm = (0.5 * jnp.einsum("ra,ab,rb->", beta, W, beta) + jnp.sum(b @ mu)
             - 0.5 * R * mu @ Omega @ mu)
    logdet_S = 2.0 * jnp.sum(jnp.log(jnp.diagonal(Ls)))
    logdet_w = jnp.linalg.slogdet(IDO)[1]
    value = (-0.5 * R * N * (d * _LOG_2PI + logdet_S) - 0.5 * Q0 + zterm
             - 0.5 * R * logdet_w)
    return value, bound


def _bound(Pw, M, G, B, E, X, W, MN, lam0, beta, mu, R):
    """Error bound of stopping at the lags of block 0 (:func:`steady_state_error_bound`)."""
    pn = _fro(Pw)
    T = jnp.sum(pn)
    mL = _fro(Pw[-1] @ M)
    tau = jnp.where(mL < 1.0, mL * T / jnp.maximum(1.0 - mL, 1e-300), jnp.inf)
    U = jnp.maximum(jnp.trace(lam0), 0.0)
    sqU = jnp.sqrt(U)
    nG, nX, nW = _fro(G), _fro(X), _fro(W)
    lag_err = _fro(B) * nG * U * tau                          # lags beyond the block
    dm = nG * tau * sqU                                       # last state m_N, per replica
    v_err = 0.5 * R * nX * dm * (2.0 * nG * T * sqU + dm)
    db = _fro(E) * tau * sqU + _fro(MN) * nX * dm             # b_r, per replica
    b_max = jnp.max(jnp.sqrt(jnp.sum(beta * beta, axis=-1)))
    b_err = R * (nW * db * (b_max + 0.5 * db) + jnp.sqrt(jnp.sum(mu * mu)) * db)
    return lag_err + v_err + b_err


def _prepare(stats, A, b, D, noise_sd, initial_mean, initial_cov):
    A = jnp.asarray(A)
    if not jnp.issubdtype(A.dtype, jnp.floating):
        A = A.astype(float)
    b = jnp.asarray(b, A.dtype)
    D = jnp.asarray(D, A.dtype)
    d = A.shape[-1]
    r2 = _noise_var(noise_sd, d, A.dtype)
    kernel = AffineKernel.from_drift(A, b, D, jnp.asarray(stats.group_dt, A.dtype))
    x_star, mu0, C0 = _initial(A, b, D, initial_mean, initial_cov)
    return kernel, r2, x_star, mu0, C0


@float64
def steady_state_error_bound(stats: LocalizationStatistics, A, b, D, noise_sd, *,
                             initial_mean=None, initial_cov=None):
    r"""Bound (nats) on $|$fast level $-$ exact value$|$: the terms beyond the first ``Lb`` lags.

    With $T = \sum_{j<L}\lVert M^j\rVert$, $\tau = \lVert M^L\rVert T/(1 - \lVert M^L\rVert)$ (Frobenius
    norms, $L$ = ``stats.block``), $U = \mathrm{tr}\,\Gamma_0$ and $B = G^\top XM - S^{-1}$: the lag
    sums $\lVert B\rVert\lVert G\rVert U\tau$, the last filter state
    ($\lVert\delta\boldsymbol m_N\rVert\le\lVert G\rVert\tau\sqrt U$, through $V_N$) and the initial-state
    terms $\boldsymbol b_r$ (through $W$ and $\boldsymbol\mu$); ``inf`` when $\lVert M^L\rVert\ge1$, 0
    when the block holds every lag.
    """
    if not stats.n_blocks:
        raise InputError("these statistics have no steady-state form (irregular grid).")
    kernel, r2, x_star, mu0, C0 = _prepare(stats, A, b, D, noise_sd, initial_mean, initial_cov)
    return _steady(stats, "fast", kernel.Phi[0], kernel.Sigma[0], r2, x_star, mu0, C0)[1]


@float64
def localization_log_likelihood(stats: LocalizationStatistics, A, b, D, noise_sd, *,
                                initial_mean=None, initial_cov=None, method: str = "auto"):
    r"""$\ln p(\boldsymbol y_0,\dots,\boldsymbol y_{N-1})$ of all replicas under localization noise, nats.

    Parameters
    ----------
    stats : LocalizationStatistics
        From :func:`localization_statistics` (may be traced).
    A, b, D
        Drift ``(d, d)`` (1/time), force ``(d,)`` (length/time), diffusion ``(d, d)``
        (length²/time); $A$ stable.
    noise_sd : float or array_like, shape ``(d,)``
        Localization noise SD per component (length), positive.
    initial_mean, initial_cov : array_like, optional
        State at the first frame (default: the steady state).
    method : {"auto", "sequential", "fast", "complete"}
        ``"auto"``: the fast level where it exists and its error bound is at most
        :data:`FAST_ATOL`, else the complete level (exact), else the sequential filter (module
        docstring; one branch runs under ``jit`` and ``grad``); ``"sequential"``: the
        sequential filter; ``"fast"``: block 0 alone whatever its bound; ``"complete"``: every
        block the statistics keep (exact when ``stats.complete``).

    Returns
    -------
    Array, scalar. Traceable (``jit``, ``grad``, ``vmap``); no derivative with respect to the
    data.
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {list(METHODS)}, got {method!r}.")
    params = _prepare(stats, A, b, D, noise_sd, initial_mean, initial_cov)
    if method == "sequential" or not stats.n_blocks:
        if method in ("fast", "complete"):
            raise InputError("these statistics have no steady-state form (irregular grid); use "
                             "method='sequential' or 'auto'.")
        return _sequential_value(params, stats)
    if method == "fast":
        return _steady_value(params, stats, "fast")[0]
    if method == "complete" or not stats.has_fast_level:
        return _steady_value(params, stats, "all")[0]
    if stats.complete:
        return _steady_value(params, stats, "auto")[0]
    return _auto_value(params, stats)


def _sequential_value(params, stats):
    kernel, r2, _, mu0, C0 = params
    ref = jnp.asarray(stats.ref, r2.dtype)
    centred = _with_identity(kernel._replace(shift=kernel.shift + kernel.E @ ref))
    return jnp.sum(_sequential_terms(_frames(stats), stats.labels, centred, r2, mu0 - ref, C0))


def _steady_value(params, stats, mode):
    kernel, r2, x_star, mu0, C0 = params
    return _steady(stats, mode, kernel.Phi[0], kernel.Sigma[0], r2, x_star, mu0, C0)


@jax.custom_jvp
def _auto_value(params, stats):
    """The fast level's value where its bound allows, else the sequential filter's (one branch
    runs); for statistics without the complete level."""
    return _auto_value_and_grad(params, stats, grad=False)[0]


def _auto_value_and_grad(params, stats, *, grad):
    if grad:
        (value, bound), vjp = jax.vjp(lambda p: _steady_value(p, stats, "fast"), params)
        g = vjp((jnp.ones_like(value), jnp.zeros_like(bound)))[0]
    else:
        (value, bound), g = _steady_value(params, stats, "fast"), None

    def fallback():
        if grad:
            return jax.value_and_grad(_sequential_value)(params, stats)
        return _sequential_value(params, stats), None

    usable = jnp.isfinite(value) & (bound <= FAST_ATOL)
    return jax.lax.cond(usable, lambda: (value, g), fallback)


@_auto_value.defjvp
def _auto_value_jvp(primals, tangents):
    # The gradient is formed inside the branch that runs: a plain ``cond`` under reverse mode
    # carries the residuals of both branches (as zeros) out of it, on every call. The data
    # (``stats``) get no tangent.
    params, stats = primals
    value, grad = _auto_value_and_grad(params, stats, grad=True)
    tangent = sum(jnp.sum(g * t) for g, t in zip(jax.tree.leaves(grad),
                                                 jax.tree.leaves(tangents[0]), strict=True))
    return value, tangent

r"""Sufficient statistics of observed transitions: exact likelihoods at a cost independent of the data.

The exact transition kernel of a linear OU process depends on the step $\Delta$ only, so the
log-likelihood of all transitions with the same step is a function of a few second moments of
the data. One $O(n d^2)$ pass over the data before sampling
(:func:`transition_statistics`, :func:`isotropic_statistics`) leaves $O(d^3)$ work per
likelihood evaluation (:func:`affine_log_likelihood`, :func:`isotropic_log_likelihood`),
whatever the number $n$ of frames.

Statistics per step group $g$ (transitions $i$ of all replicas with $\Delta_i = \Delta_g$),
with $\boldsymbol u_i = \boldsymbol x_i - \boldsymbol m$ centred on the data's mean $\boldsymbol m$ and
the increments $\boldsymbol\delta_i = \boldsymbol x_{i+1} - \boldsymbol x_i$:

$$n_g,\quad \boldsymbol s_u = \sum_i\boldsymbol u_i,\quad \boldsymbol s_\delta = \sum_i\boldsymbol\delta_i,\quad
S_{uu} = \sum_i\boldsymbol u_i\boldsymbol u_i^\top,\quad S_{\delta u} = \sum_i\boldsymbol\delta_i\boldsymbol u_i^\top,\quad
S_{\delta\delta} = \sum_i\boldsymbol\delta_i\boldsymbol\delta_i^\top.$$

Why increments and centring
---------------------------
The textbook form $\sum_i(\boldsymbol x_{i+1} - \Phi\boldsymbol x_i)(\cdot)^\top$ expanded in the
moments $\sum\boldsymbol x_{i+1}\boldsymbol x_{i+1}^\top$, $\sum\boldsymbol x_{i+1}\boldsymbol x_i^\top$, ... cancels
terms of size $nC$ (the steady covariance) down to a result of size $n\Sigma_\Delta\approx 2nkC\Delta$:
about $|\log_{10}(2k\Delta)|$ digits are lost, three at $k\Delta = 10^{-3}$. In the increment form
every term is already of size $n\Sigma_\Delta$ or smaller ($E = e^{A\Delta} - \mathbb 1 = O(k\Delta)$
comes from the Van Loan construction without cancellation), and centring removes the
$|\boldsymbol m|^2/C$ amplification of an offset trap. The remaining error is that of the sums
themselves: the data are summed in blocks of 2¹⁶ transitions (BLAS within a block, then a sum
over blocks), relative error about $10^{-16}\sqrt{n}$.

Tolerance reached (measured in the tests): the statistic form equals the per-transition sum of
:func:`thermoinfer.paths.linear_transition_log_prob` to $10^{-12}$ of $\sum_i|\ell_i|$, on regular
and irregular grids, including $10^6$ transitions at $k\Delta = 10^{-3}$.

Irregular grids
---------------
Steps equal to a relative $10^{-9}$ (``rtol``: timestamps written with rounding) form one group,
weighed at the group's mean step. At most ``max_groups`` groups of at least ``min_group``
transitions are kept (the most populous); the rest are **scattered** transitions, kept as
pre/post points with their own step and weighed one by one in fixed-size chunks (memory
bounded by the chunk, cost $O(n)$ per evaluation: a truly irregular grid has no shortcut).
Group and chunk counts are padded to powers of two so that data sets of similar size share one
compiled program.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import float64
from ..errors import InputError
from .kernels import AffineKernel, IsotropicOUKernel

__all__ = ["TransitionStatistics", "ScatteredTransitions", "IsotropicStatistics",
           "transition_statistics", "isotropic_statistics", "affine_log_likelihood",
           "isotropic_log_likelihood", "group_steps"]

#: transitions per block when summing the data (bounds the memory of the pass)
BLOCK = 1 << 16
#: transitions per chunk of scattered (ungrouped) transitions
SCATTER_CHUNK = 1024


class ScatteredTransitions(NamedTuple):
    """Transitions outside every step group, in chunks: ``(chunks, SCATTER_CHUNK, ...)``."""

    x_prev: np.ndarray
    x_next: np.ndarray
    dt: np.ndarray
    weight: np.ndarray
    """1 for a transition, 0 for padding"""


class TransitionStatistics(NamedTuple):
    r"""Sufficient statistics of affine transitions (module docstring), ``G`` step groups.

    Fields: ``dt`` ``(G,)`` steps (time), ``count`` ``(G,)`` transitions (all replicas),
    ``ref`` ``(d,)`` the centre $\boldsymbol m$ (length), ``s_prev`` ``(G, d)`` $\boldsymbol s_u$,
    ``s_inc`` ``(G, d)`` $\boldsymbol s_\delta$, ``prev_prev`` ``(G, d, d)`` $S_{uu}$, ``inc_prev``
    ``(G, d, d)`` $S_{\delta u}$, ``inc_inc`` ``(G, d, d)`` $S_{\delta\delta}$, and ``scattered``
    (:class:`ScatteredTransitions`, possibly with zero chunks). A JAX pytree of arrays.
    """

    dt: np.ndarray
    count: np.ndarray
    ref: np.ndarray
    s_prev: np.ndarray
    s_inc: np.ndarray
    prev_prev: np.ndarray
    inc_prev: np.ndarray
    inc_inc: np.ndarray
    scattered: ScatteredTransitions

    @property
    def n_transitions(self) -> int:
        """Number of transitions summarised (grouped and scattered)."""
        return int(np.sum(self.count) + np.sum(self.scattered.weight))


class IsotropicStatistics(NamedTuple):
    r"""Scalar statistics of isotropic transitions with a fixed force direction $\boldsymbol g$.

    Per step group: ``dt``, ``count`` ($n$, transitions of all replicas), ``inc_inc``
    $\sum|\boldsymbol\delta_i|^2$, ``inc_prev`` $\sum\boldsymbol\delta_i\cdot\boldsymbol\omega_i$,
    ``prev_prev`` $\sum|\boldsymbol\omega_i|^2$, ``g_inc`` $\sum\boldsymbol g\cdot\boldsymbol\delta_i$,
    ``g_prev`` $\sum\boldsymbol g\cdot\boldsymbol\omega_i$, ``g_g`` $|\boldsymbol g|^2$; ``n_weights`` $N$.
    """

    dt: np.ndarray
    count: np.ndarray
    inc_inc: np.ndarray
    inc_prev: np.ndarray
    prev_prev: np.ndarray
    g_inc: np.ndarray
    g_prev: np.ndarray
    g_g: np.ndarray
    n_weights: np.ndarray


def _pow2(n: int) -> int:
    return 1 << max(int(n) - 1, 0).bit_length()


def group_steps(steps, *, rtol: float = 1e-9):
    """Cluster equal steps: ``(labels (K,), group_dt (G,), counts (G,))``.

    Sorted steps whose relative gap is at most ``rtol`` form one group; ``group_dt`` is the
    group's mean step.
    """
    steps = np.asarray(steps, dtype=float)
    order = np.argsort(steps, kind="stable")
    s = steps[order]
    new = np.empty(s.shape, dtype=bool)
    new[:1] = True
    new[1:] = np.diff(s) > rtol * s[1:]
    ids_sorted = np.cumsum(new) - 1
    labels = np.empty_like(ids_sorted)
    labels[order] = ids_sorted
    counts = np.bincount(labels)
    sums = np.bincount(labels, weights=steps)
    return labels, sums / counts, counts


def _check_data(x, times):
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1] < 2:
        raise InputError(f"x must have shape (replica, K+1, d) with K >= 1, got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise InputError("x contains NaN or inf; pass finite observations.")
    t = np.asarray(times, dtype=float)
    K = x.shape[1] - 1
    if t.ndim == 0:
        steps = np.full(K, float(t))
    elif t.shape == (K + 1,):
        steps = np.diff(t)
    else:
        raise InputError(f"times must be a scalar step or the {K + 1} observation times, got "
                         f"shape {t.shape}.")
    if not np.all(steps > 0) or not np.all(np.isfinite(steps)):
        raise InputError("times must be finite and strictly increasing.")
    return x, steps


def _selected_groups(counts, min_group, max_groups):
    """Group ids kept as statistics (most populous first), the rest scattered."""
    order = np.argsort(-counts, kind="stable")
    total = int(np.sum(counts))
    # a regular grid is one group however short it is
    return [int(g) for g in order[:max_groups] if counts[g] >= min(min_group, total)]


def transition_statistics(x, times, *, rtol: float = 1e-9, min_group: int = 16,
                          max_groups: int = 64) -> TransitionStatistics:
    r"""Sufficient statistics of the transitions of observed paths (module docstring).

    Parameters
    ----------
    x : array_like, shape ``(replica, K+1, d)`` or ``(K+1, d)``
        Observed paths (length units), all on the same time grid.
    times : float or array_like of shape ``(K+1,)``
        Uniform step, or the observation times.
    rtol : float
        Relative tolerance under which two steps are the same group.
    min_group, max_groups : int
        Smallest group kept as statistics, and most groups kept; the other transitions are
        scattered (weighed one by one).

    Returns
    -------
    TransitionStatistics
        NumPy arrays, float64.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.cumsum(np.ones((1, 5, 2)), axis=1)
    >>> st = transition_statistics(x, 0.1)
    >>> st.dt.tolist(), st.count.tolist(), st.inc_inc[0].tolist()
    ([0.1], [4.0], [[4.0, 4.0], [4.0, 4.0]])
    """
    x, steps = _check_data(x, times)
    R, K1, d = x.shape
    K = K1 - 1
    labels, group_dt, counts = group_steps(steps, rtol=rtol)
    keep = _selected_groups(counts, min_group, max_groups)
    slot = np.full(group_dt.shape[0], -1)
    slot[keep] = np.arange(len(keep))
    tslot = slot[labels]  # per transition: its group slot or -1 (scattered)
    G = max(len(keep), 1)
    Gp = _pow2(G)
    ref = x.reshape(-1, d).mean(axis=0)
    acc = {name: [np.zeros((Gp, d, d)) for _ in range(1)] for name in ("uu", "du", "dd")}
    s_u, s_d, cnt = np.zeros((Gp, d)), np.zeros((Gp, d)), np.zeros(Gp)
    blocks = {"uu": [], "du": [], "dd": []}
    for a in range(0, K, BLOCK):
        b = min(a + BLOCK, K)
        u = x[:, a:b] - ref
        dlt = x[:, a + 1:b + 1] - x[:, a:b]
        ts = tslot[a:b]
        part = {n: np.zeros((Gp, d, d)) for n in blocks}
        for g in np.unique(ts):
            if g < 0:
                continue
            if ts.shape[0] and np.all(ts == g):
                ug, dg = u.reshape(-1, d), dlt.reshape(-1, d)
            else:
                m = ts == g
                ug, dg = u[:, m].reshape(-1, d), dlt[:, m].reshape(-1, d)
            part["uu"][g] = ug.T @ ug
            part["du"][g] = dg.T @ ug
            part["dd"][g] = dg.T @ dg
            s_u[g] += ug.sum(axis=0)
            s_d[g] += dg.sum(axis=0)
            cnt[g] += ug.shape[0]
        for n in blocks:
            blocks[n].append(part[n])
    for n in blocks:
        acc[n] = np.sum(np.stack(blocks[n]), axis=0) if blocks[n] else np.zeros((Gp, d, d))
    dts = np.ones(Gp)
    if keep:
        dts[:len(keep)] = group_dt[keep]
        dts[len(keep):] = group_dt[keep[-1]]
    else:
        dts[:] = float(np.median(steps))
    scattered = _scattered(x, steps, tslot < 0)
    return TransitionStatistics(dts, cnt, ref, s_u, s_d, acc["uu"], acc["du"], acc["dd"],
                                scattered)


def _scattered(x, steps, mask) -> ScatteredTransitions:
    d = x.shape[-1]
    idx = np.flatnonzero(mask)
    m = idx.shape[0] * x.shape[0]
    if m == 0:
        z = np.zeros((0, SCATTER_CHUNK, d))
        return ScatteredTransitions(z, z.copy(), np.ones((0, SCATTER_CHUNK)),
                                    np.zeros((0, SCATTER_CHUNK)))
    prev = x[:, idx].reshape(-1, d)
    nxt = x[:, idx + 1].reshape(-1, d)
    dt = np.broadcast_to(steps[idx], (x.shape[0], idx.shape[0])).reshape(-1)
    chunks = _pow2(-(-m // SCATTER_CHUNK))
    total = chunks * SCATTER_CHUNK
    pad = total - m

    def padded(a, fill):
        return np.concatenate([a, np.full((pad,) + a.shape[1:], fill)]).reshape(
            (chunks, SCATTER_CHUNK) + a.shape[1:])

    return ScatteredTransitions(padded(prev, 0.0), padded(nxt, 0.0), padded(dt, float(dt[0])),
                                padded(np.ones(m), 0.0))


@float64
def affine_log_likelihood(stats: TransitionStatistics, A, b, D):
    r"""$\sum_i\ln p(\boldsymbol x_{i+1}\mid\boldsymbol x_i;\Delta_i)$ of affine dynamics from statistics, nats.

    Exact (no discretisation): the kernel of every step group is the Van Loan kernel of
    :class:`~thermoinfer.paths.kernels.AffineKernel`; scattered transitions are weighed one by
    one in chunks under ``jax.checkpoint`` (gradient memory bounded by one chunk). ``A``
    ``(d, d)``, ``b`` ``(d,)``, ``D`` ``(d, d)``; traceable (``jit``/``grad``/``vmap``).
    Compiled once per shape: inside a sampler's programs the same traced function is reused,
    so a model that calls it several times is traced once.
    """
    A = jnp.asarray(A)
    return _affine_log_likelihood(stats, A, jnp.asarray(b, A.dtype), jnp.asarray(D, A.dtype))


@jax.jit
def _affine_log_likelihood(stats, A, b, D):
    kernel = AffineKernel.from_drift(A, b, D, jnp.asarray(stats.dt, A.dtype))
    total = kernel.log_prob_statistics(stats)
    sc = stats.scattered
    if sc.dt.shape[0]:
        @jax.checkpoint
        def chunk(args):
            xp, xn, dt, w = args
            k = AffineKernel.from_drift(A, b, D, dt)
            return jnp.sum(w * k.log_prob(xp, xn))

        total = total + jnp.sum(jax.lax.map(chunk, (sc.x_prev, sc.x_next, sc.dt, sc.weight)))
    return total


def isotropic_statistics(w, times, force_direction, *, rtol: float = 1e-9) -> IsotropicStatistics:
    r"""Scalar statistics of isotropic OU transitions whose force is $\nu\boldsymbol g$.

    Parameters
    ----------
    w : array_like, shape ``(replica, K+1, N)`` or ``(K+1, N)``
        Observed weight paths.
    times : float or array_like of shape ``(K+1,)``
        Uniform step, or the observation times.
    force_direction : array_like, shape ``(N,)``
        $\boldsymbol g$ with force $\boldsymbol f = \nu\boldsymbol g$ (the Hebbian
        $\boldsymbol g = N^{-1/2}\sum_\mu\sigma_T^\mu\boldsymbol\xi^\mu$).
    rtol : float
        Steps equal to this relative tolerance are one group (every distinct step is a group:
        a group costs a few scalars).

    Returns
    -------
    IsotropicStatistics
    """
    w, steps = _check_data(w, times)
    R, K1, n = w.shape
    g = np.asarray(force_direction, dtype=float)
    if g.shape != (n,):
        raise InputError(f"force_direction must have shape ({n},), got {g.shape}.")
    labels, group_dt, _ = group_steps(steps, rtol=rtol)
    G = group_dt.shape[0]
    Gp = _pow2(G)
    out = {k: np.zeros(Gp) for k in ("count", "dd", "dw", "ww", "gd", "gw")}
    for a in range(0, K1 - 1, BLOCK):
        b = min(a + BLOCK, K1 - 1)
        prev = w[:, a:b]
        dlt = w[:, a + 1:b + 1] - prev
        lab = np.broadcast_to(labels[a:b], prev.shape[:2]).reshape(-1)
        for key, val in (("dd", np.einsum("rkn,rkn->rk", dlt, dlt)),
                         ("dw", np.einsum("rkn,rkn->rk", dlt, prev)),
                         ("ww", np.einsum("rkn,rkn->rk", prev, prev)),
                         ("gd", dlt @ g), ("gw", prev @ g)):
            out[key][:G] += np.bincount(lab, weights=val.reshape(-1), minlength=G)
        out["count"][:G] += np.bincount(lab, minlength=G)
    dts = np.full(Gp, group_dt[-1])
    dts[:G] = group_dt
    return IsotropicStatistics(dts, out["count"], out["dd"], out["dw"], out["ww"], out["gd"],
                               out["gw"], np.asarray(float(g @ g)), np.asarray(float(n)))


def isotropic_log_likelihood(stats: IsotropicStatistics, stiffness, learning_rate, temperature):
    r"""Exact log-likelihood of isotropic OU transitions with force $\nu\boldsymbol g$, from statistics (nats).

    :meth:`~thermoinfer.paths.kernels.IsotropicOUKernel.log_prob_statistics` summed over the
    step groups; traceable, compiled once per shape.
    """
    return _isotropic_log_likelihood(stats, jnp.asarray(stiffness), learning_rate, temperature)


@jax.jit
def _isotropic_log_likelihood(stats, k, learning_rate, temperature):
    kernel = IsotropicOUKernel.from_parameters(k, temperature, jnp.asarray(stats.dt, k.dtype))
    return kernel.log_prob_statistics(stats, learning_rate)

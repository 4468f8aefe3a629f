r"""Online teacher–student learning at finite $N$ (docs/theory/model.md, eq. (13);
docs/theory/teacher-student-and-online.md, eq. (70); docs/theory/numerics.md).

Each sample is used once. Time is $\alpha$ = (samples seen)$/N$, so one sample lasts $\delta=1/N$.
For sample $n$ with a fresh input $\boldsymbol\xi$ and label $\sigma_T=\mathrm{sgn}(u)$,
$u=\boldsymbol T\cdot\boldsymbol\xi/\sqrt N$ ($\mathrm{sgn}(0)\to+1$), the update is split as
(docs/theory/model.md, "The online rule"; a fixed convention):

1. field and force from the pre-update weights, $h=\boldsymbol\omega\cdot\boldsymbol\xi/\sqrt N$, $F(h,\sigma_T)$;
2. relaxation, one Euler–Maruyama step of the thermal OU process of duration $1/N$,
   $\boldsymbol\omega_r=\boldsymbol\omega(1-k/N)+\sqrt{2T/N}\,\boldsymbol z$;
3. kick, $\boldsymbol\omega'=\boldsymbol\omega_r+\boldsymbol\Delta$,
   $\boldsymbol\Delta=\frac{\nu}{\sqrt N}F(h,\sigma_T)\,\sigma_T\,\boldsymbol\xi$.

The combined step is exactly one Euler–Maruyama step of duration $\delta=1/N$ of the Langevin
equation with the piecewise-constant force $\boldsymbol f=\boldsymbol\Delta/\delta=N\boldsymbol\Delta$,
which is what the ``continuous_force`` convention takes literally.

**Heat conventions** (docs/theory/teacher-student-and-online.md, "Online heat: two conventions"), $V=\tfrac k2|\boldsymbol\omega|^2$, energies in units of $T$:

* ``kick_relaxation`` (default): the kick is an instantaneous imposed displacement. Its energy change
  is work, $w_n=V(\boldsymbol\omega')-V(\boldsymbol\omega_r)$, and the heat is the energy released in the
  relaxation sub-step, $q_n=V(\boldsymbol\omega)-V(\boldsymbol\omega_r)$, measured on the weights
  themselves (no formula in $Q$). Mean rate per weight $\to k(kQ-T)$ as $N\to\infty$.
* ``continuous_force``: the kick is the mechanical force $\boldsymbol f=N\boldsymbol\Delta$ acting through the
  bath mobility for the duration $1/N$. Stochastic energetics of that step (Stratonovich; exact
  because $\boldsymbol f$ is constant over the step and $V$ is quadratic):
  $w_n=\boldsymbol f\cdot(\boldsymbol\omega'-\boldsymbol\omega)$, $q_n=w_n-[V(\boldsymbol\omega')-V(\boldsymbol\omega)]$.
  Decomposed,
  $$q_n=\underbrace{N|\boldsymbol\Delta|^2}_{|\Delta\boldsymbol\omega|^2/\delta}+\underbrace{V(\boldsymbol\omega)-V(\boldsymbol\omega_r)}_{\text{relaxation}}
  -k(\boldsymbol\omega+\boldsymbol\omega_r)\cdot\boldsymbol\Delta-\tfrac k2|\boldsymbol\Delta|^2+\sqrt{2TN}\,\boldsymbol\Delta\cdot\boldsymbol z,$$
  with $N|\boldsymbol\Delta|^2=\nu^2F^2|\boldsymbol\xi|^2$: the heat per weight grows like
  $N\nu^2\langle F^2\rangle\alpha$ (super-extensive); the cross terms are $O(1)$ per weight.

Both satisfy the first law $w-\Delta V-q=0$ per trajectory to rounding, which is recorded.

**Randomness.** Per replica $r$: a teacher (prior ``"sphere"`` $|\boldsymbol T|^2=N$, or ``"gaussian"``),
$\boldsymbol\omega_0\sim\mathcal N(0,(T/k)\mathbb 1)$, and for sample $n$ the key
``fold_in(key_r, n)`` split into the input key and the thermal-noise key. Inputs are generated inside
the loop (no $P\times N$ storage); the same key gives the same numbers whatever the record grid.
Replicas run under ``vmap``. The simulation shares no code with the order-parameter ODEs of
:mod:`thermoinfer.theory.teacher_student`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._x64 import float64
from .errors import InputError, check_choice, check_positive
from .rules import LearningRule, get_rule
from .tasks import INPUT_KINDS
from .teacher import TEACHER_PRIORS, draw_inputs, teacher_vector

__all__ = ["ONLINE_HEAT_CONVENTIONS", "OnlineResult", "online_record_grid", "simulate_online"]

#: heat conventions of online learning (docs/theory/teacher-student-and-online.md)
ONLINE_HEAT_CONVENTIONS = ("kick_relaxation", "continuous_force")


class OnlineResult(NamedTuple):
    r"""Output of :func:`simulate_online`; per-replica arrays have a leading ``replica`` axis and
    recorded quantities a trailing ``time`` axis (the record grid). Energies in units of $T$."""

    alphas: np.ndarray
    r"""realised online times $\alpha=n/N$ of the records, shape (time,)"""
    n_samples: np.ndarray
    """samples seen at the records, shape (time,)"""
    overlap: np.ndarray
    r"""$R=\boldsymbol\omega\cdot\boldsymbol T/N$, (replica, time)"""
    norm: np.ndarray
    r"""$Q=|\boldsymbol\omega|^2/N$, (replica, time)"""
    heat: np.ndarray
    """cumulative heat into the bath under ``heat_convention``, (replica, time)"""
    work: np.ndarray
    """cumulative work under ``heat_convention``, (replica, time)"""
    energy_change: np.ndarray
    r"""$V(\boldsymbol\omega_n)-V(\boldsymbol\omega_0)$ evaluated directly, (replica, time)"""
    first_law_residual: np.ndarray
    """work - energy_change - heat, (replica, time): rounding only"""
    teacher_norm: np.ndarray
    r"""$|\boldsymbol T|^2/N$ per replica (1 for the sphere prior)"""
    teacher: np.ndarray
    """teacher vectors, (replica, weight)"""
    initial_weights: np.ndarray
    """(replica, weight)"""
    final_weights: np.ndarray
    """(replica, weight), after the last record"""
    n_nonfinite: np.ndarray
    """number of non-finite final weights per replica"""
    heat_convention: str


def _check_int(name, value, minimum) -> int:
    if isinstance(value, bool):
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    try:
        ok = int(value) == value and value >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def online_record_grid(record_alphas, n_weights: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Sample counts $n_j=\mathrm{round}(\alpha_jN)$ of a record grid, sorted and unique.

    Returns ``(n_samples, alphas)`` with ``alphas = n_samples / N`` (the realised online times).

    Raises
    ------
    InputError
        If an $\alpha$ is negative, not finite, or the grid is empty.
    """
    n = _check_int("N (n_weights)", n_weights, 1)
    try:
        a = np.atleast_1d(np.asarray(record_alphas, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"record alphas must be numbers >= 0, got {record_alphas!r}.") from None
    if a.ndim != 1 or a.size == 0:
        raise InputError(f"record alphas must be a non-empty 1-D list of online times, got {record_alphas!r}.")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InputError(f"online times alpha must be finite and >= 0 (samples per weight), got "
                         f"{a.tolist()!r}; the steady state alpha = inf needs the theory "
                         "(thermoinfer theory teacher-student).")
    counts = np.unique(np.rint(a * n).astype(np.int64))
    return counts, counts / n


def _make_run(rule: LearningRule, heat: str, inputs: str):
    """The jitted online simulation for one static configuration."""

    def one_sample(n, w, key, T, k, nu, temp):
        N = w.shape[-1]
        sqrt_n = jnp.sqrt(jnp.asarray(N, dtype=w.dtype))
        key_x, key_z = jax.random.split(jax.random.fold_in(key, n))
        xi = draw_inputs(key_x, (N,), inputs)
        z = jax.random.normal(key_z, (N,), dtype=w.dtype)
        h = jnp.dot(w, xi) / sqrt_n                    # student field, pre-update
        u = jnp.dot(T, xi) / sqrt_n                    # teacher field
        sigma = jnp.where(u >= 0, 1.0, -1.0)           # sgn(0) -> +1
        c = rule.force(h, sigma) * sigma               # F(h, sigma_T) sigma_T
        w_r = w * (1.0 - k / N) + jnp.sqrt(2.0 * temp / N) * z   # relaxation, duration 1/N
        kick = (nu / sqrt_n) * c * xi
        w1 = w_r + kick
        if heat == "kick_relaxation":
            dq = 0.5 * k * jnp.dot(w - w_r, w + w_r)        # V(w) - V(w_r)
            dw = 0.5 * k * jnp.dot(kick, w1 + w_r)          # V(w') - V(w_r)
        else:  # continuous_force: f = N * kick acting for 1/N
            dw = N * jnp.dot(kick, w1 - w)                 # f . (w' - w)
            dq = dw - 0.5 * k * jnp.dot(w1 - w, w1 + w)     # w - [V(w') - V(w)]
        return w1, dq, dw

    batched = jax.vmap(one_sample, in_axes=(None, 0, 0, 0, None, None, None))

    def advance(carry, keys, T, start, stop, k, nu, temp):
        def body(n, carry):
            w, q, wk = carry
            w1, dq, dw = batched(n, w, keys, T, k, nu, temp)
            return w1, q + dq, wk + dw

        return jax.lax.fori_loop(start, stop, body, carry)

    def record(carry, w0, T, k):
        w, q, wk = carry
        N = w0.shape[-1]
        return (jnp.sum(w * T, -1) / N, jnp.sum(w * w, -1) / N, q, wk,
                0.5 * k * jnp.sum((w - w0) * (w + w0), -1))

    def run(keys, T, w0, starts, stops, k, nu, temp):
        def segment(carry, bounds):
            carry = advance(carry, keys, T, bounds[0], bounds[1], k, nu, temp)
            return carry, record(carry, w0, T, k)

        zeros = jnp.zeros(w0.shape[:-1], dtype=w0.dtype)
        (w_end, _, _), recs = jax.lax.scan(segment, (w0, zeros, zeros), (starts, stops))
        return w_end, recs

    return jax.jit(run), jax.jit(advance), jax.jit(record)


#: pieces of a run shown with a progress bar (about this many updates per run)
PROGRESS_UPDATES = 50


def _run_with_progress(advance, record, keys, T, w0, starts, stops, k, nu, temp, bar):
    """The run of :func:`_make_run` in pieces of about 1/50 of the samples, ``bar(n)`` after
    each (the same samples in the same order: the same numbers)."""
    total = int(stops[-1]) if len(stops) else 0
    size = max(1, math.ceil(total / PROGRESS_UPDATES))
    zeros = jnp.zeros(w0.shape[:-1], dtype=w0.dtype)
    carry = (w0, zeros, zeros)
    recs = []
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        for lo in range(a, b, size):
            hi = min(lo + size, b)
            carry = advance(carry, keys, T, np.int32(lo), np.int32(hi), k, nu, temp)
            jax.block_until_ready(carry)
            bar(hi - lo)
        recs.append(record(carry, w0, T, k))
    stacked = tuple(jnp.stack([r[i] for r in recs]) for i in range(5))
    return carry[0], stacked


_RUN_CACHE: dict = {}


@float64
def simulate_online(key, rule: str | LearningRule, *, n_weights: int, record_alphas,
                    nu: float = 1.0, k: float = 1.0, temperature: float = 1.0,
                    n_replicas: int = 1, inputs: str = "binary", teacher_prior: str = "sphere",
                    heat: str = "kick_relaxation", teacher=None, throw: bool = True,
                    progress: bool = False) -> OnlineResult:
    r"""Simulate online teacher–student learning and its energetics (docs/theory/model.md, eq. (13)).

    Parameters
    ----------
    key : jax.random key
        Explicit PRNG key; same key, same numbers (independent of the record grid).
    rule : str or LearningRule
        Any registered rule (user rules too), $F(h,\sigma_T)$.
    n_weights : int
        $N\ge1$; needs $k<N$ (the relaxation factor $1-k/N$ must be positive).
    record_alphas : float or sequence of float
        Online times $\alpha\ge0$ at which $R$, $Q$, heat, work and energy are recorded (rounded
        to whole samples, sorted, unique); the run stops at the largest.
    nu : float
        Learning rate $\nu\ge0$.
    k : float
        Weight decay $k>0$ (rate per unit $\alpha$).
    temperature : float
        Bath temperature $T>0$ (energy units, $k_B=1$).
    n_replicas : int
        Independent replicas (own teacher, initial weights and data stream each).
    inputs : {"binary", "gaussian"}
        $\pm1$ (default) or standard Gaussian inputs.
    teacher_prior : {"sphere", "gaussian"}
        Teacher prior (ignored when ``teacher`` is given).
    heat : {"kick_relaxation", "continuous_force"}
        Heat convention (see the module docstring).
    teacher : array_like, optional
        Teacher vectors ``(n_replicas, N)`` or ``(N,)`` for all replicas.
    throw : bool
        Raise if a replica's weights became non-finite.
    progress : bool
        Show a progress bar with an ETA on stderr (the run goes in pieces; same numbers).

    Returns
    -------
    OnlineResult

    Examples
    --------
    >>> import jax
    >>> r = simulate_online(jax.random.key(0), "perceptron", n_weights=100, record_alphas=[0.5, 1.0],
    ...                     n_replicas=4)
    >>> r.overlap.shape, r.alphas.tolist(), bool(abs(r.first_law_residual).max() < 1e-9)
    ((4, 2), [0.5, 1.0], True)
    """
    rule = get_rule(rule)
    check_choice("heat", heat, ONLINE_HEAT_CONVENTIONS)
    check_choice("inputs", inputs, INPUT_KINDS)
    check_choice("teacher_prior", teacher_prior, TEACHER_PRIORS)
    N = _check_int("N (n_weights)", n_weights, 1)
    R = _check_int("n_replicas", n_replicas, 1)
    k = check_positive("k (stiffness)", k, "Use a weight decay k > 0.")
    T = check_positive("T (temperature)", temperature, "Use a temperature T > 0 (k_B = 1).")
    nu_f = float(nu) if not isinstance(nu, bool) else math.nan
    if not math.isfinite(nu_f) or nu_f < 0:
        raise InputError(f"nu (learning rate) must be a finite number >= 0, got {nu!r}.")
    if k >= N:
        raise InputError(
            f"online learning relaxes by the factor 1 - k/N per sample, which needs k < N; got "
            f"k={k:g}, N={N}. Raise N (online theory is the limit N -> infinity) or lower k."
        )
    counts, alphas = online_record_grid(record_alphas, N)
    if counts.size and int(np.max(counts)) >= 2**31 - 1:
        raise InputError(
            f"alpha*N = {int(np.max(counts))} samples exceeds the 2^31 - 1 sample counter; lower "
            "alpha (the final online time) or N."
        )
    starts = np.concatenate([[0], counts[:-1]]).astype(np.int32)
    stops = counts.astype(np.int32)

    key_teacher, key_init, key_stream = jax.random.split(key, 3)
    if teacher is None:
        Tvec = teacher_vector(key_teacher, N, n_replicas=R, prior=teacher_prior)
    else:
        Tvec = jnp.asarray(teacher, dtype=jnp.float64)
        if Tvec.ndim == 1:
            Tvec = jnp.broadcast_to(Tvec, (R, Tvec.shape[0]))
        if Tvec.shape != (R, N) or not bool(jnp.all(jnp.isfinite(Tvec))):
            raise InputError(f"teacher must be finite with shape ({R}, {N}) or ({N},), got shape "
                             f"{tuple(np.shape(teacher))}.")
        if not bool(jnp.all(jnp.sum(Tvec**2, axis=-1) > 0)):
            raise InputError("teacher must be a non-zero vector (|T|^2 > 0); the labels sgn(T.xi) "
                             "and the overlap rho are undefined for T = 0.")
    Tvec = jnp.asarray(Tvec, dtype=jnp.float64)
    w0 = math.sqrt(T / k) * jax.vmap(lambda kk: jax.random.normal(kk, (N,), dtype=jnp.float64))(
        jax.random.split(key_init, R))
    keys = jax.random.split(key_stream, R)

    cache_key = (rule, heat, inputs)
    fns = _RUN_CACHE.get(cache_key)
    if fns is None:
        fns = _RUN_CACHE[cache_key] = _make_run(rule, heat, inputs)
    run, advance, record = fns
    if progress and stops.size and int(stops[-1]) > 1:
        from .progress import progress_bar

        with progress_bar(int(stops[-1]), f"online {rule.name} (samples)", enabled=True) as bar:
            w_end, (Rr, Qr, q, wk, dV) = _run_with_progress(advance, record, keys, Tvec, w0,
                                                            starts, stops, k, nu_f, T, bar)
    else:
        w_end, (Rr, Qr, q, wk, dV) = run(keys, Tvec, w0, jnp.asarray(starts),
                                         jnp.asarray(stops), k, nu_f, T)
    n_bad = jnp.sum(~jnp.isfinite(w_end), axis=-1)
    if throw and bool(jnp.any(n_bad > 0)):
        raise FloatingPointError(f"{int(jnp.sum(n_bad > 0))} replica(s) produced non-finite "
                                 f"weights; lower nu (nu={nu_f:g}) or check the user rule.")
    swap = lambda x: jnp.swapaxes(x, 0, 1)  # noqa: E731  (time, replica) -> (replica, time)
    q, wk, dV = swap(q), swap(wk), swap(dV)
    return OnlineResult(
        alphas=alphas, n_samples=counts, overlap=swap(Rr), norm=swap(Qr), heat=q, work=wk,
        energy_change=dV, first_law_residual=wk - dV - q,
        teacher_norm=jnp.sum(Tvec * Tvec, -1) / N, teacher=Tvec, initial_weights=w0,
        final_weights=w_end, n_nonfinite=n_bad, heat_convention=heat,
    )

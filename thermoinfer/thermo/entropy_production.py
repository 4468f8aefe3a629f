r"""Stochastic entropy production per trajectory of the batch learning neuron (docs/theory/thermodynamics-and-bound.md,
docs/theory/paths-and-entropy-production.md).

For a trajectory $\boldsymbol\omega(\cdot)$ on $[0, t]$, started in $p_0 = \mathcal N(0, (T/k)\mathbb 1)$ and
with the data switched on at $t = 0$:

$$\Delta s_{sys} = \ln p_0(\boldsymbol\omega_0) - \ln p_t(\boldsymbol\omega_t),\qquad
\Delta s_m = q/T,\qquad \Delta s_{tot} = \Delta s_{sys} + \Delta s_m,$$

with the heat $q = U_{tot}(\boldsymbol\omega_0) - U_{tot}(\boldsymbol\omega_t)$ (exact for every batch rule,
docs/theory/thermodynamics-and-bound.md, eq. (31)) or its Stratonovich sum, and $U_{tot} = \frac k2|\boldsymbol\omega|^2 - \nu\sum_\mu G_\mu(A^\mu)$.

Where the final density is known, the system term is exact; everywhere its **method** is named
(``system_method``):

* ``exact_ou`` — $p_t = \mathcal N(\boldsymbol m_t, (T/k)\mathbb 1)$ with
  $\boldsymbol m_t = \frac{1-e^{-kt}}k\boldsymbol f$ (Hebbian, any $t$); exact.
* ``exact_ou_marginal`` — the label-marginal $2^{-P}\sum_\sigma\mathcal N(\boldsymbol m_{\sigma,t}, (T/k)\mathbb 1)$,
  enumerated exactly for $P\le 20$; exact.
* ``stationary`` — $p_\infty = e^{-U_{tot}/T}/Z$ at $t=\infty$ (any batch rule); exact up to the
  error of $\ln Z$.
* ``stationary_approximation`` — $p_\infty$ used at finite $t$; an approximation.
* ``gaussian_fit_estimate`` — a Gaussian fitted to the final replicas (shared data); an estimate.
* ``unavailable`` — NaN (weight-dependent rule at finite $t$, the default there).

The integral fluctuation theorem holds for **any** normalised reverse-start density $\tilde p$
(docs/theory/paths-and-entropy-production.md, eq. (81)), so :func:`entropy_production` also offers $\tilde p = p_0$ (the exponent is then $w/T$,
Bochkov–Kuzovlev) and $\tilde p = p_\infty$ (any batch rule; with the exact heat the exponent
depends on $\boldsymbol\omega_0$ only and equals $(w_J - \Delta F)/T$). $\ln Z$ comes from
:func:`log_partition_function`: exact for weight-independent forces, thermodynamic integration
(docs/theory/thermodynamics-and-bound.md, eq. (33); Metropolis-adjusted Langevin sampling of $p_\infty$ whose proposal density is the
paths-layer Euler–Maruyama kernel), or importance sampling from $p_0$ (an independent small-$N$
estimator).

The path-based log ratio $\ln\mathcal P/\tilde{\mathcal P}$ (:func:`path_log_ratio`) goes through the
single path density of :mod:`thermoinfer.paths`: exact OU kernels (Hebbian; then it equals
$\Delta s_{tot}$ on every path and any grid, docs/theory/paths-and-entropy-production.md, eq. (76))
or Euler–Maruyama kernels (any rule; exact IFT
of the discrete chain at any $\Delta t$, while the Stratonovich heat differs from it by the
$O(\Delta t)$ boundary term of eq. (83) there).

Units: nats for entropies and log ratios; energies in the units of $T$ ($k_B = 1$).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import float64
from ..dynamics import (
    NeuronParams,
    SimulationResult,
    activations,
    bare_potential,
    check_params,
    em_stiffness,
    learning_force,
    total_force,
    total_potential,
)
from ..errors import InputError, check_choice, check_positive
from ..paths import (
    em_log_ratio,
    em_transition_log_prob,
    ou_path_log_prob,
    ou_path_log_prob_reversed,
)
from ..rules import LearningRule, get_rule
from ..tasks import MemorizationData
from .fluctuation import DEFAULT_MIN_ESS, exponential_average

__all__ = [
    "SYSTEM_ENTROPY_METHODS",
    "REVERSE_STARTS",
    "HEAT_SOURCES",
    "LOG_PARTITION_METHODS",
    "MAX_MIXTURE_PATTERNS",
    "LogPartition",
    "SystemEntropyChange",
    "EntropyProduction",
    "PathLogRatio",
    "initial_log_prob",
    "conditional_log_prob",
    "marginal_log_prob",
    "stationary_log_prob",
    "stochastic_mutual_information",
    "log_partition_function",
    "inclusive_work",
    "exclusive_work",
    "medium_entropy_change",
    "system_entropy_change",
    "entropy_production",
    "path_log_ratio",
]

SYSTEM_ENTROPY_METHODS = ("auto", "exact_ou", "stationary", "gaussian_fit", "unavailable")
REVERSE_STARTS = ("p_t", "p_0", "p_inf")
HEAT_SOURCES = ("exact", "integrated", "path_kernel")
LOG_PARTITION_METHODS = ("auto", "exact", "thermodynamic_integration", "importance_sampling")
#: Largest number of patterns for the label-marginal (all $2^P$ label vectors are enumerated).
MAX_MIXTURE_PATTERNS = 20

_LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# result types


class LogPartition(NamedTuple):
    r"""$\ln Z$ of $p_\infty = e^{-U_{tot}/T}/Z$ for one data set (or one per data set), nats."""

    value: np.ndarray
    r"""$\ln Z$, shape ``()`` (shared data) or ``(replica,)`` (one per data set)."""
    se: np.ndarray
    """Standard error of ``value`` (0 when exact; quadrature error of the thermodynamic
    integration not included)."""
    log_z0: float
    r"""$\ln Z_0 = \frac N2\ln(2\pi T/k)$, the bare-potential normalisation."""
    temperature: float
    method: str
    """``"exact"``, ``"thermodynamic_integration"`` or ``"importance_sampling"``."""
    ess: np.ndarray
    """Effective sample size of the importance weights (NaN for the other methods)."""
    acceptance_rate: np.ndarray
    """Metropolis acceptance rate of the thermodynamic-integration sampler (NaN otherwise)."""
    status: str
    """``"ok"`` or ``"unreliable_ess"`` (importance sampling with too few effective samples)."""

    @property
    def log_ratio(self):
        r"""$\ln(Z/Z_0) = -\Delta F/T$."""
        return self.value - self.log_z0

    @property
    def free_energy_change(self):
        r"""$\Delta F = -T\ln(Z/Z_0)$, energy units."""
        return -self.temperature * (self.value - self.log_z0)


class SystemEntropyChange(NamedTuple):
    r"""$\Delta s_{sys} = \ln p_0(\boldsymbol\omega_0) - \ln p_t(\boldsymbol\omega_t)$ per replica, nats."""

    value: np.ndarray
    """Shape ``(replica,)``; NaN when ``method == "unavailable"``."""
    method: str
    """One of the ``system_method`` labels of the module table."""
    form: str
    """``"conditional"`` (given inputs and labels) or ``"marginal"`` (labels marginalised)."""
    exact: bool


class EntropyProduction(NamedTuple):
    r"""Per-trajectory entropy production and its decomposition (nats), with its labels.

    ``system`` is $\ln p_0(\boldsymbol\omega_0) - \ln\tilde p(\boldsymbol\omega_t)$ with the reverse-start
    density $\tilde p$ named by ``reverse_start``: the system entropy change when $\tilde p = p_t$.
    ``total = system + medium`` is the exponent of the IFT $\langle e^{-\mathrm{total}}\rangle = 1$.
    """

    system: np.ndarray
    medium: np.ndarray
    r"""$q/T$ (or the path-kernel log ratio, ``heat == "path_kernel"``)."""
    total: np.ndarray
    information: np.ndarray | None
    r"""Stochastic mutual information $\Delta i = i_t = \ln p_t(\boldsymbol\omega_t\mid\sigma_T) - \ln p_t(\boldsymbol\omega_t)$
    (``form == "marginal"``), else None."""
    reverse_start: str
    """``"p_t"``, ``"p_0"`` or ``"p_inf"``."""
    form: str
    """``"conditional"`` or ``"marginal"``."""
    system_method: str
    heat: str
    """``"exact"`` ($-\\Delta U_{tot}$), ``"integrated"`` (Stratonovich sum) or
    ``"path_kernel"`` ($T\\ln$ of the forward/reversed kernel ratio: ``exact_ou`` or
    ``euler_maruyama``)."""
    dynamics: str
    """The simulator's method, ``"exact_ou"`` or ``"euler_maruyama"``."""
    rule: str
    temperature: float
    exact: bool
    """True when $\\langle e^{-\\mathrm{total}}\\rangle = 1$ holds exactly for the simulated
    process (no discretisation error in the exponent)."""
    label: str

    @property
    def detailed_ft_applies(self) -> bool:
        """Whether the detailed fluctuation theorem is guaranteed for these numbers.

        See consequence 5 in docs/theory/thermodynamics-and-bound.md, "Batch learning forces are
        conservative"."""
        return (self.system_method == "exact_ou" and self.form == "conditional"
                and self.reverse_start == "p_t" and self.dynamics == "exact_ou")


class PathLogRatio(NamedTuple):
    r"""$\ln\mathcal P/\tilde{\mathcal P}$ per path from the paths layer, with its parts (nats)."""

    total: np.ndarray
    r"""``boundary + dynamical``."""
    dynamical: np.ndarray
    r"""$\sum_i\ln p(\boldsymbol\omega_{i+1}\mid\boldsymbol\omega_i) - \ln p(\boldsymbol\omega_i\mid\boldsymbol\omega_{i+1})$."""
    boundary: np.ndarray
    r"""$\ln p_0(\boldsymbol\omega_0) - \ln\tilde p(\boldsymbol\omega_K)$ (0 when ``reverse_start`` is None)."""
    medium: np.ndarray
    r"""$q/T$ on the path: the Stratonovich (trapezoidal) part for Euler–Maruyama kernels, the
    whole ``dynamical`` part for exact OU kernels (detailed balance, exact on any grid)."""
    discretisation: np.ndarray
    r"""``dynamical - medium``: the EM boundary term $\frac{\Delta t}{4T}(|\boldsymbol F_K|^2 - |\boldsymbol F_0|^2)$,
    $O(\Delta t)$; 0 for exact OU kernels."""
    kernel: str
    """``"exact_ou"`` or ``"euler_maruyama"``."""
    reverse_start: str
    label: str


# ---------------------------------------------------------------------------------------------
# validation helpers


def _params(params) -> NeuronParams:
    if not isinstance(params, NeuronParams):
        try:
            params = NeuronParams(*params)
        except TypeError:
            raise InputError(
                f"params must be NeuronParams(stiffness, learning_rate, temperature), got {params!r}."
            ) from None
    return check_params(params)


def _data(data):
    if not isinstance(data, MemorizationData):
        try:
            data = MemorizationData(*data)
        except TypeError:
            raise InputError(
                f"data must be MemorizationData(inputs, labels), got {type(data).__name__}."
            ) from None
    x = jnp.asarray(data.inputs, dtype=jnp.float64)
    y = jnp.asarray(data.labels, dtype=jnp.float64)
    if x.ndim not in (2, 3) or y.shape != x.shape[:-1]:
        raise InputError(
            "data must have inputs (pattern, weight) or (replica, pattern, weight) with labels "
            f"(pattern,) or (replica, pattern); got shapes {tuple(x.shape)} and {tuple(y.shape)}."
        )
    return MemorizationData(x, y)


def _weights(name, w, data: MemorizationData):
    w = jnp.asarray(w, dtype=jnp.float64)
    n = data.inputs.shape[-1]
    if w.ndim != 2 or w.shape[-1] != n:
        raise InputError(f"{name} must have shape (replica, {n}), got {tuple(w.shape)}.")
    if not data.shared and data.inputs.shape[0] != w.shape[0]:
        raise InputError(
            f"{name} has {w.shape[0]} replicas but the per-replica data have "
            f"{data.inputs.shape[0]} data sets; they must match."
        )
    return w


def _time(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise InputError(f"t (final time) must be a number >= 0 or inf, got {t!r}.") from None
    if math.isnan(t) or t < 0:
        raise InputError(f"t (final time) must be >= 0 or inf, got {t!r}.")
    return t


def _weight_independent(rule: LearningRule) -> bool:
    return not rule.depends_on_activation


def _constant_force(data: MemorizationData, rule: LearningRule, params: NeuronParams):
    """The (weight-independent) learning force f, shape (N,) or (replica, N)."""
    n = data.inputs.shape[-1]
    zeros = jnp.zeros(data.inputs.shape[:-2] + (n,))
    return learning_force(zeros, data.inputs, data.labels, rule, params.learning_rate)


def _decay(k: float, t: float) -> float:
    """$1 - e^{-kt}$ (expm1 form; 1 at t = inf)."""
    return 1.0 if math.isinf(t) else -math.expm1(-k * t)


def _log_z0(n: int, params: NeuronParams) -> float:
    return 0.5 * n * math.log(2.0 * math.pi * params.temperature / params.stiffness)


# ---------------------------------------------------------------------------------------------
# log densities


@float64
def initial_log_prob(weights, params: NeuronParams):
    r"""$\ln p_0(\boldsymbol\omega) = -\frac{k|\boldsymbol\omega|^2}{2T} - \frac N2\ln\frac{2\pi T}k$ (bare equilibrium), nats.

    Parameters
    ----------
    weights : array_like, shape ``(..., N)``
    params : NeuronParams
        $k$ (1/time) and $T$ (energy units).

    Returns
    -------
    Array, shape ``(...)``.

    Examples
    --------
    >>> from thermoinfer.dynamics import NeuronParams
    >>> round(float(initial_log_prob([0.0, 0.0], NeuronParams(1.0, 1.0, 1.0))), 6)
    -1.837877
    """
    p = _params(params)
    w = jnp.asarray(weights, dtype=jnp.float64)
    n = w.shape[-1]
    return -bare_potential(w, p.stiffness) / p.temperature - _log_z0(n, p)


@float64
def conditional_log_prob(weights, data, rule, params: NeuronParams, *, t):
    r"""Exact $\ln p_t(\boldsymbol\omega\mid\sigma_T,\boldsymbol\xi)$ for a weight-independent force (Hebbian), nats.

    $$p_t = \mathcal N\Big(\boldsymbol m_t,\ \frac Tk\mathbb 1\Big),\qquad
    \boldsymbol m_t = \frac{1-e^{-kt}}{k}\boldsymbol f$$

    (docs/theory/hebbian-memorisation.md, eq. (37); the covariance stays $T/k$ because the start
    is in equilibrium).

    Parameters
    ----------
    weights : array_like, shape ``(replica, N)``
    data : MemorizationData
        Shared ``(pattern, weight)`` or per-replica ``(replica, pattern, weight)``.
    rule : str or LearningRule
        Must not depend on the activation (Hebbian or a user rule declared so).
    params : NeuronParams
    t : float
        Time since the switch-on (``inf`` allowed).

    Returns
    -------
    Array, shape ``(replica,)``.
    """
    rule, data, p, t = get_rule(rule), _data(data), _params(params), _time(t)
    w = _weights("weights", weights, data)
    if not _weight_independent(rule):
        raise InputError(
            f"the exact p_t is known only for weight-independent forces (Hebbian); rule "
            f"{rule.name!r} depends on the activation. Use system_entropy_change with "
            "method='stationary' (t = inf), 'gaussian_fit' (estimate) or reverse_start='p_0'/'p_inf'."
        )
    f = _constant_force(data, rule, p)
    m = _decay(p.stiffness, t) / p.stiffness * f
    return -bare_potential(w - m, p.stiffness) / p.temperature - _log_z0(w.shape[-1], p)


def _label_values(rule: LearningRule):
    r"""$g(\sigma) = \sigma F(\cdot,\sigma)$ for $\sigma = +1, -1$ (weight-independent F)."""
    gp = float(rule.force(jnp.asarray(0.0), jnp.asarray(1.0)))
    gm = -float(rule.force(jnp.asarray(0.0), jnp.asarray(-1.0)))
    return gp, gm


def _linear_forms(v, gp, gm):
    r"""$\sum_\mu g(\sigma_\mu)v_\mu$ for all $2^P$ label vectors, last axis; O(2^P) by doubling.

    Bit $j$ of the enumeration index set means $\sigma_j = -1$ (the same order everywhere).
    """
    out = jnp.zeros(v.shape[:-1] + (1,))
    for j in range(v.shape[-1]):
        vj = v[..., j:j + 1]
        out = jnp.concatenate([out + gp * vj, out + gm * vj], axis=-1)
    return out


def _quadratic_forms(G, gp, gm):
    r"""$\sum_{\mu\nu}g(\sigma_\mu)g(\sigma_\nu)G_{\mu\nu}$ for all $2^P$ label vectors, ``G`` ``(..., P, P)``."""
    P = G.shape[-1]
    quad = jnp.zeros(G.shape[:-2] + (1,))
    for j in range(P):
        cross = _linear_forms(G[..., :j, j], gp, gm)  # sum_{i<j} g_i G_ij
        gjj = G[..., j, j][..., None]
        quad = jnp.concatenate([quad + 2.0 * gp * cross + gp * gp * gjj,
                                quad + 2.0 * gm * cross + gm * gm * gjj], axis=-1)
    return quad


@functools.partial(jax.jit, static_argnames=("gp", "gm", "block"))
def _log_mixture_excess(A, G, scale_lin, scale_quad, *, gp, gm, block):
    r"""$\ln 2^{-P}\sum_\sigma\exp(a\,L_\sigma - b\,Q_\sigma)$ per replica, in blocks of replicas.

    ``A`` ``(R, P)``; ``G`` ``(P, P)`` (shared data: the $2^P$ quadratic forms are computed once)
    or ``(R, P, P)``.
    """
    R, P = A.shape
    nb = -(-R // block)
    pad = nb * block - R
    Ab = jnp.concatenate([A, jnp.zeros((pad, P))]).reshape(nb, block, P)
    if G.ndim == 2:
        quad = _quadratic_forms(G, gp, gm)

        def one_block(a):
            z = scale_lin * _linear_forms(a, gp, gm) - scale_quad * quad
            return jax.scipy.special.logsumexp(z, axis=-1)

        out = jax.lax.map(one_block, Ab)
    else:
        Gb = jnp.concatenate([G, jnp.broadcast_to(G[:1], (pad, P, P))]).reshape(nb, block, P, P)

        def one_block(args):
            a, g = args
            z = scale_lin * _linear_forms(a, gp, gm) - scale_quad * _quadratic_forms(g, gp, gm)
            return jax.scipy.special.logsumexp(z, axis=-1)

        out = jax.lax.map(one_block, (Ab, Gb))
    return out.reshape(-1)[:R] - P * math.log(2.0)


@float64
def marginal_log_prob(weights, data, rule, params: NeuronParams, *, t):
    r"""Exact label-marginal $\ln p_t(\boldsymbol\omega\mid\boldsymbol\xi) = \ln 2^{-P}\sum_{\sigma}p_t(\boldsymbol\omega\mid\sigma,\boldsymbol\xi)$, nats.

    The mixture of $2^P$ Gaussians $\mathcal N(\boldsymbol m_{\sigma,t}, (T/k)\mathbb 1)$
    (docs/theory/hebbian-memorisation.md, eq. (48)) is evaluated exactly by enumerating all label vectors in the $P$-dimensional projected
    space, with log-sum-exp:

    $$\ln p_t(\boldsymbol\omega\mid\boldsymbol\xi) = \ln p_0(\boldsymbol\omega) - P\ln2
      + \ln\sum_\sigma\exp\Big[\frac kT\Big(c\sum_\mu g(\sigma_\mu)A^\mu - \frac{c^2}2\sum_{\mu\nu}g(\sigma_\mu)g(\sigma_\nu)G_{\mu\nu}\Big)\Big],$$

    $c = \nu(1-e^{-kt})/k$, $G = \Xi\Xi^\top/N$, $g(\sigma) = \sigma F(\cdot,\sigma)$ ($=\sigma$ for Hebbian).
    Cost $O(R\,2^P)$ per call plus $O(2^P P)$ per data set; $P\le$ ``MAX_MIXTURE_PATTERNS``.

    Parameters
    ----------
    weights, data, rule, params, t
        As in :func:`conditional_log_prob`.

    Returns
    -------
    Array, shape ``(replica,)``.
    """
    rule, data, p, t = get_rule(rule), _data(data), _params(params), _time(t)
    w = _weights("weights", weights, data)
    if not _weight_independent(rule):
        raise InputError(
            f"the label-marginal p_t is a Gaussian mixture only for weight-independent forces "
            f"(Hebbian); rule {rule.name!r} depends on the activation."
        )
    P = data.inputs.shape[-2]
    if P > MAX_MIXTURE_PATTERNS:
        raise InputError(
            f"the label-marginal enumerates 2^P label vectors and needs P <= "
            f"{MAX_MIXTURE_PATTERNS}, got P = {P}; use fewer patterns or form='conditional'."
        )
    n = w.shape[-1]
    k, T = p.stiffness, p.temperature
    c = p.learning_rate * _decay(k, t) / k
    A = activations(w, data.inputs)
    G = jnp.einsum("...pn,...qn->...pq", data.inputs, data.inputs) / n
    gp, gm = _label_values(rule)
    block = max(1, min(w.shape[0], (1 << 22) >> P))
    excess = _log_mixture_excess(A, G, k / T * c, 0.5 * k / T * c * c, gp=gp, gm=gm, block=block)
    return -bare_potential(w, k) / T - _log_z0(n, p) + excess


@float64
def stochastic_mutual_information(weights, data, rule, params: NeuronParams, *, t):
    r"""$i_t = \ln p_t(\boldsymbol\omega\mid\sigma_T,\boldsymbol\xi) - \ln p_t(\boldsymbol\omega\mid\boldsymbol\xi)$ per replica, nats.

    Its mean over trajectories and labels is $I(\boldsymbol\omega:\sigma_T\mid\boldsymbol\xi)$; $i_0 = 0$
    because $p_0$ does not depend on the labels (docs/theory/paths-and-entropy-production.md, eq. (80);
    Hebbian only).
    """
    return (conditional_log_prob(weights, data, rule, params, t=t)
            - marginal_log_prob(weights, data, rule, params, t=t))


@float64
def stationary_log_prob(weights, data, rule, params: NeuronParams, *, log_partition):
    r"""$\ln p_\infty(\boldsymbol\omega) = -U_{tot}(\boldsymbol\omega)/T - \ln Z$ (any batch rule, docs/theory/thermodynamics-and-bound.md, eq. (29)), nats.

    Parameters
    ----------
    weights, data, rule, params
        As in :func:`conditional_log_prob`.
    log_partition : LogPartition or array_like
        $\ln Z$ (from :func:`log_partition_function`), scalar or one per data set.

    Returns
    -------
    Array, shape ``(replica,)``.
    """
    rule, data, p = get_rule(rule), _data(data), _params(params)
    w = _weights("weights", weights, data)
    lz = log_partition.value if isinstance(log_partition, LogPartition) else log_partition
    lz = jnp.asarray(lz, dtype=jnp.float64)
    return -total_potential(w, data.inputs, data.labels, rule, p) / p.temperature - lz


# ---------------------------------------------------------------------------------------------
# ln Z: exact, thermodynamic integration, importance sampling


def _mala_mean_sum_g(key, inputs, labels, rule, k, nu, T, h, n_chains, n_burn, n_keep):
    r"""Time-averaged $\sum_\mu G_\mu$ per chain under $p_\infty$ at learning rate ``nu`` (MALA).

    Proposal: one Euler–Maruyama step, whose density is the paths-layer kernel
    :func:`~thermoinfer.paths.em_transition_log_prob`; Metropolis–Hastings acceptance makes
    $e^{-U_{tot}/T}$ exactly invariant (no $\Delta t$ bias).
    """
    n = inputs.shape[-1]
    prm = NeuronParams(k, nu, T)

    def U(w):
        return total_potential(w, inputs, labels, rule, prm)

    def F(w):
        return total_force(w, inputs, labels, rule, prm)

    def sum_g(w):
        return jnp.sum(rule.potential(activations(w, inputs), labels), axis=-1)

    k0, kz, ku = jax.random.split(key, 3)
    w = jnp.sqrt(T / k) * jax.random.normal(k0, (n_chains, n))
    carry0 = (w, U(w), F(w), jnp.zeros(n_chains), jnp.zeros(n_chains))

    def step(carry, i):
        w, u, Fw, acc, gsum = carry
        z = jax.random.normal(jax.random.fold_in(kz, i), w.shape)
        y = w + h * Fw + jnp.sqrt(2.0 * T * h) * z
        uy, Fy = U(y), F(y)
        log_fwd = em_transition_log_prob(w, y, Fw, h, T)
        log_bwd = em_transition_log_prob(y, w, Fy, h, T)
        log_alpha = -(uy - u) / T + log_bwd - log_fwd
        log_v = jnp.log(jax.random.uniform(jax.random.fold_in(ku, i), (n_chains,)))
        accept = log_v < log_alpha
        w = jnp.where(accept[:, None], y, w)
        u = jnp.where(accept, uy, u)
        Fw = jnp.where(accept[:, None], Fy, Fw)
        keep = i >= n_burn
        acc = acc + jnp.where(keep, accept, 0.0)
        gsum = gsum + jnp.where(keep, sum_g(w), 0.0)
        return (w, u, Fw, acc, gsum), None

    (_, _, _, acc, gsum), _ = jax.lax.scan(step, carry0, jnp.arange(n_burn + n_keep))
    return gsum / n_keep, jnp.mean(acc) / n_keep


@functools.partial(jax.jit, static_argnames=("rule", "n_chains", "n_burn", "n_keep"))
def _thermodynamic_integration(key, inputs, labels, nodes, weights, k, T, h, *, rule, n_chains,
                               n_burn, n_keep):
    keys = jax.random.split(key, nodes.shape[0])

    def at_node(kk, nu):
        g, acc = _mala_mean_sum_g(kk, inputs, labels, rule, k, nu, T, h, n_chains, n_burn, n_keep)
        return jnp.mean(g), jnp.std(g, ddof=1) / jnp.sqrt(n_chains), acc

    means, ses, accs = jax.vmap(at_node)(keys, nodes)
    value = jnp.sum(weights * means) / T
    se = jnp.sqrt(jnp.sum((weights * ses) ** 2)) / T
    return value, se, jnp.mean(accs)


def _importance_log_weights(key, inputs, labels, rule, params, n_samples):
    n = inputs.shape[-1]
    w = jnp.sqrt(params.temperature / params.stiffness) * jax.random.normal(key, (n_samples, n))
    g = jnp.sum(rule.potential(activations(w, inputs), labels), axis=-1)
    return params.learning_rate * g / params.temperature


@float64
def log_partition_function(key, data, rule, params: NeuronParams, *, method: str = "auto",
                           n_nodes: int = 8, n_chains: int = 256, dt: float | None = None,
                           relaxation_time: float = 10.0, sampling_time: float = 20.0,
                           n_samples: int = 20000,
                           min_ess: float = DEFAULT_MIN_ESS) -> LogPartition:
    r"""$\ln Z = \ln\int e^{-U_{tot}(\boldsymbol\omega)/T}d\boldsymbol\omega$ for each data set, with a standard error.

    Methods (the one used is named on the result):

    * ``"exact"`` — weight-independent force (Hebbian): $\ln Z = \ln Z_0 + |\boldsymbol f|^2/(2kT)$.
    * ``"thermodynamic_integration"`` (docs/theory/thermodynamics-and-bound.md, eq. (33)) —
      $\ln Z(\nu) = \ln Z_0 + \frac1T\int_0^\nu\langle\sum_\mu G_\mu\rangle_{\nu'}d\nu'$ with
      ``n_nodes``-point Gauss–Legendre quadrature in $\nu'$ (the integrand is smooth in $\nu'$).
      Each average is over ``n_chains`` independent Metropolis-adjusted Langevin (MALA) chains
      started in $p_0$: Euler–Maruyama proposals of step ``dt`` (default $0.25/L$ with $L$ the
      stiffest curvature of $U_{tot}$), whose proposal density is the paths-layer EM kernel, so
      the chains sample $p_\infty$ exactly. Each chain is run for ``relaxation_time``/$k$
      (discarded) and then averaged over ``sampling_time``/$k$; the standard error is over chains.
    * ``"importance_sampling"`` — an independent small-$N$ estimator from $p_0$,
      $Z/Z_0 = \langle e^{\nu\sum_\mu G_\mu(A^\mu)/T}\rangle_{p_0}$ (``n_samples`` draws; ESS-gated).
      This is the same average as the Jarzynski equality, so use thermodynamic integration when
      testing Jarzynski.
    * ``"auto"`` — ``exact`` when possible, else ``thermodynamic_integration``.

    Parameters
    ----------
    key : jax.random key
    data : MemorizationData
        Shared data give one $\ln Z$; per-replica data give one per data set (cost × replicas).
    rule : str or LearningRule
    params : NeuronParams
        $k$, $\nu$, $T$.
    method : str
        See above.
    n_nodes, n_chains, dt, relaxation_time, sampling_time
        Thermodynamic-integration settings.
    n_samples, min_ess
        Importance-sampling settings.

    Returns
    -------
    LogPartition

    Examples
    --------
    >>> import jax
    >>> from thermoinfer.tasks import memorization_data
    >>> from thermoinfer.dynamics import NeuronParams
    >>> d = memorization_data(jax.random.key(0), 6, 0.5, data_protocol="shared")
    >>> lz = log_partition_function(jax.random.key(1), d, "hebbian", NeuronParams(1.0, 0.5, 1.0))
    >>> lz.method, float(lz.se)
    ('exact', 0.0)
    """
    rule, data, p = get_rule(rule), _data(data), _params(params)
    check_choice("method", method, LOG_PARTITION_METHODS)
    n = data.inputs.shape[-1]
    log_z0 = _log_z0(n, p)
    batch = () if data.shared else (data.inputs.shape[0],)
    nan_b = np.full(batch, math.nan)
    if method == "auto":
        method = "exact" if _weight_independent(rule) else "thermodynamic_integration"
    if method == "exact":
        if not _weight_independent(rule):
            raise InputError(
                f"method='exact' needs a weight-independent force (Hebbian); rule {rule.name!r} "
                "depends on the activation: use 'thermodynamic_integration' or "
                "'importance_sampling'."
            )
        f = _constant_force(data, rule, p)
        val = log_z0 + jnp.sum(f * f, axis=-1) / (2.0 * p.stiffness * p.temperature)
        return LogPartition(val, jnp.zeros(batch), log_z0, p.temperature, "exact", nan_b, nan_b,
                            "ok")
    if p.learning_rate == 0.0:
        return LogPartition(jnp.full(batch, log_z0), jnp.zeros(batch), log_z0, p.temperature,
                            method, nan_b, nan_b, "ok")
    if method == "importance_sampling":
        if int(n_samples) != n_samples or n_samples < 2:
            raise InputError(f"n_samples must be an integer >= 2, got {n_samples!r}.")
        if data.shared:
            lw = np.asarray(_importance_log_weights(key, data.inputs, data.labels, rule, p,
                                                    int(n_samples)))[None]
        else:
            keys = jax.random.split(key, batch[0])
            lw = np.asarray(jax.vmap(lambda kk, x, y: _importance_log_weights(
                kk, x, y, rule, p, int(n_samples)))(keys, data.inputs, data.labels))
        vals, ses, esss, status = [], [], [], "ok"
        for row in lw:
            # <e^{lw}> = <e^{-X}> with X = -lw
            avg = exponential_average(-row, min_ess=min_ess,
                                      label="importance-sampling estimate of ln Z")
            vals.append(log_z0 + avg.log_value)
            ses.append(avg.log_se)
            esss.append(avg.ess)
            if avg.status != "ok":
                status = avg.status
        shape = batch
        return LogPartition(np.asarray(vals).reshape(shape), np.asarray(ses).reshape(shape),
                            log_z0, p.temperature, "importance_sampling",
                            np.asarray(esss).reshape(shape), nan_b, status)
    # thermodynamic integration
    if int(n_nodes) != n_nodes or n_nodes < 1:
        raise InputError(f"n_nodes must be an integer >= 1, got {n_nodes!r}.")
    if int(n_chains) != n_chains or n_chains < 2:
        raise InputError(f"n_chains must be an integer >= 2, got {n_chains!r}.")
    relaxation_time = check_positive("relaxation_time", relaxation_time,
                                     "It is in units of 1/k, e.g. 10.")
    sampling_time = check_positive("sampling_time", sampling_time, "It is in units of 1/k, e.g. 20.")
    L = em_stiffness(data, rule, p)
    h = 0.25 / L if dt is None else check_positive("dt", dt, "Use a MALA step dt > 0.")
    n_burn = max(1, math.ceil(relaxation_time / (p.stiffness * h)))
    n_keep = max(1, math.ceil(sampling_time / (p.stiffness * h)))
    x, wq = np.polynomial.legendre.leggauss(int(n_nodes))
    nodes = jnp.asarray(0.5 * p.learning_rate * (x + 1.0))
    wts = jnp.asarray(0.5 * p.learning_rate * wq)
    run = functools.partial(_thermodynamic_integration, nodes=nodes, weights=wts,
                            k=p.stiffness, T=p.temperature, h=h, rule=rule,
                            n_chains=int(n_chains), n_burn=n_burn, n_keep=n_keep)
    if data.shared:
        val, se, acc = run(key, data.inputs, data.labels)
    else:
        keys = jax.random.split(key, batch[0])
        val, se, acc = jax.vmap(lambda kk, xx, yy: run(kk, xx, yy))(keys, data.inputs, data.labels)
    return LogPartition(log_z0 + val, se, log_z0, p.temperature, "thermodynamic_integration",
                        nan_b, acc, "ok")


# ---------------------------------------------------------------------------------------------
# work and heat


@float64
def inclusive_work(initial_weights, data, rule, params: NeuronParams):
    r"""Inclusive (Jarzynski) work of the sudden switch-on, $w_J = -\nu\sum_\mu G_\mu(A^\mu(\boldsymbol\omega_0))$, energy units.

    $= U_{tot}(\boldsymbol\omega_0) - V(\boldsymbol\omega_0)$: with the full $U_{tot}$ as the energy, all work
    is done at $t = 0$ (docs/theory/paths-and-entropy-production.md, eq. (79) and "General IFT
    statement"). Independent of $t$.
    """
    rule, data, p = get_rule(rule), _data(data), _params(params)
    w0 = _weights("initial_weights", initial_weights, data)
    g = rule.potential(activations(w0, data.inputs), data.labels)
    return -p.learning_rate * jnp.sum(g, axis=-1)


@float64
def exclusive_work(initial_weights, final_weights, data, rule, params: NeuronParams):
    r"""Exclusive work $w = \int\boldsymbol f\circ d\boldsymbol\omega = \nu\big[\sum_\mu G_\mu(A^\mu_t) - \sum_\mu G_\mu(A^\mu_0)\big]$, energy units.

    Exact and path-independent for every batch rule (Stratonovich chain rule, docs/theory/thermodynamics-and-bound.md, eq. (31));
    equals $q + \Delta V$ with the exact heat. The Bochkov–Kuzovlev identity uses it.
    """
    rule, data, p = get_rule(rule), _data(data), _params(params)
    w0 = _weights("initial_weights", initial_weights, data)
    wt = _weights("final_weights", final_weights, data)
    g0 = jnp.sum(rule.potential(activations(w0, data.inputs), data.labels), axis=-1)
    gt = jnp.sum(rule.potential(activations(wt, data.inputs), data.labels), axis=-1)
    return p.learning_rate * (gt - g0)


@float64
def medium_entropy_change(heat, temperature):
    r"""$\Delta s_m = q/T$ (heat positive into the bath), nats."""
    T = check_positive("temperature", temperature, "Use T > 0 (energy units, k_B = 1).")
    return jnp.asarray(heat, dtype=jnp.float64) / T


# ---------------------------------------------------------------------------------------------
# system entropy


def _gaussian_fit_log_prob(w):
    R, n = w.shape
    if R <= n + 1:
        raise InputError(
            f"method='gaussian_fit' needs more replicas than weights + 1 (n_replicas > {n + 1}) "
            f"for a sample covariance, got {R}; simulate more replicas."
        )
    mu = jnp.mean(w, axis=0)
    c = w - mu
    cov = c.T @ c / (R - 1)
    L = jnp.linalg.cholesky(cov)
    z = jax.scipy.linalg.solve_triangular(L, c.T, lower=True)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(L)))
    return -0.5 * jnp.sum(z * z, axis=0) - 0.5 * logdet - 0.5 * n * _LOG_2PI


def _system(w0, wt, data, rule, p, t, method, form, log_partition):
    lp0 = initial_log_prob(w0, p)
    if form == "marginal":
        if method not in ("auto", "exact_ou") or not _weight_independent(rule):
            raise InputError(
                "form='marginal' (labels marginalised) needs the exact Gaussian-mixture p_t of a "
                f"weight-independent force (Hebbian); got rule {rule.name!r}, method {method!r}."
            )
        return lp0 - marginal_log_prob(wt, data, rule, p, t=t), "exact_ou_marginal", True
    if method == "auto":
        if _weight_independent(rule):
            method = "exact_ou"
        elif math.isinf(t):
            method = "stationary"
        else:
            method = "unavailable"
    if method == "exact_ou":
        return lp0 - conditional_log_prob(wt, data, rule, p, t=t), "exact_ou", True
    if method == "stationary":
        if log_partition is None:
            raise InputError(
                "method='stationary' needs log_partition (ln Z of p_inf): compute it with "
                "log_partition_function(key, data, rule, params)."
            )
        lpt = stationary_log_prob(wt, data, rule, p, log_partition=log_partition)
        if math.isinf(t):
            return lp0 - lpt, "stationary", True
        return lp0 - lpt, "stationary_approximation", False
    if method == "gaussian_fit":
        if not data.shared:
            raise InputError(
                "method='gaussian_fit' fits p_t(w | data) to the replicas and needs one data set "
                "shared by all replicas (data_protocol='shared')."
            )
        return lp0 - _gaussian_fit_log_prob(wt), "gaussian_fit_estimate", False
    return jnp.full(w0.shape[:1], jnp.nan), "unavailable", False


@float64
def system_entropy_change(initial_weights, final_weights, data, rule, params: NeuronParams, *, t,
                          method: str = "auto", form: str = "conditional",
                          log_partition=None) -> SystemEntropyChange:
    r"""System entropy change $\Delta s_{sys} = \ln p_0(\boldsymbol\omega_0) - \ln p_t(\boldsymbol\omega_t)$ per replica, nats.

    Parameters
    ----------
    initial_weights, final_weights : array_like, shape ``(replica, N)``
    data : MemorizationData
    rule : str or LearningRule
    params : NeuronParams
    t : float
        Time since the switch-on (``inf`` allowed).
    method : {"auto", "exact_ou", "stationary", "gaussian_fit", "unavailable"}
        ``auto``: ``exact_ou`` for a weight-independent force (Hebbian); ``stationary``
        ($p_\infty$, needs ``log_partition``) at ``t = inf``; otherwise ``unavailable`` (NaN):
        no estimate is made silently. ``gaussian_fit`` (shared data, ``replica > N + 1``) uses
        the Gaussian fitted to the final replicas, an estimate (labelled
        ``gaussian_fit_estimate``; biased because the same replicas fit and evaluate it, and not
        the true $p_t$ of a nonlinear rule). ``stationary`` at finite ``t`` is labelled
        ``stationary_approximation``.
    form : {"conditional", "marginal"}
        Given inputs and labels, or with the labels marginalised (exact mixture over $2^P$
        label vectors; Hebbian only).
    log_partition : LogPartition or array_like, optional
        $\ln Z$ for ``method="stationary"``.

    Returns
    -------
    SystemEntropyChange

    Examples
    --------
    >>> import jax
    >>> from thermoinfer.tasks import memorization_data
    >>> from thermoinfer.dynamics import NeuronParams, simulate
    >>> d = memorization_data(jax.random.key(0), 8, 0.5, data_protocol="shared")
    >>> p = NeuronParams(1.0, 0.5, 2.0)
    >>> r = simulate(jax.random.key(1), d, "hebbian", p, t=1.0, n_replicas=5)
    >>> s = system_entropy_change(r.initial_weights, r.final_weights, d, "hebbian", p, t=1.0)
    >>> s.method, s.value.shape
    ('exact_ou', (5,))
    """
    rule, data, p, t = get_rule(rule), _data(data), _params(params), _time(t)
    check_choice("method", method, SYSTEM_ENTROPY_METHODS)
    check_choice("form", form, ("conditional", "marginal"))
    w0 = _weights("initial_weights", initial_weights, data)
    wt = _weights("final_weights", final_weights, data)
    if w0.shape != wt.shape:
        raise InputError(f"initial_weights {tuple(w0.shape)} and final_weights "
                         f"{tuple(wt.shape)} must have the same shape.")
    value, label, exact = _system(w0, wt, data, rule, p, t, method, form, log_partition)
    return SystemEntropyChange(value, label, form, exact)


# ---------------------------------------------------------------------------------------------
# entropy production of a simulation


@float64
def entropy_production(result: SimulationResult, data, rule, params: NeuronParams, *,
                       reverse_start: str = "p_t", form: str = "conditional",
                       heat: str = "exact", system_method: str = "auto",
                       log_partition=None) -> EntropyProduction:
    r"""Stochastic entropy production of every simulated trajectory, with its labels (nats).

    $$\mathrm{total} = \underbrace{\ln p_0(\boldsymbol\omega_0) - \ln\tilde p(\boldsymbol\omega_t)}_{\texttt{system}}
      + \underbrace{q/T}_{\texttt{medium}},\qquad \langle e^{-\mathrm{total}}\rangle = 1\ \text{for any normalised }\tilde p.$$

    * ``reverse_start="p_t"``: $\tilde p = p_t$, so ``system`` is $\Delta s_{sys}$ and ``total`` is
      $\Delta s_{tot}$ (see :func:`system_entropy_change` for the methods; NaN with
      ``system_method == "unavailable"`` for a nonlinear rule at finite $t$). With
      ``form="marginal"`` the labels are marginalised and ``information`` holds
      $\Delta i = i_t$; then $\langle e^{-\mathrm{total}+\Delta i}\rangle = 1$ too, and the mean of
      ``total`` bounds $I(\boldsymbol\omega:\sigma_T)$ (docs/theory/thermodynamics-and-bound.md,
      eq. (20); docs/theory/paths-and-entropy-production.md, eq. (80)).
    * ``reverse_start="p_0"``: ``total`` $= w/T$ (exclusive work): Bochkov–Kuzovlev.
    * ``reverse_start="p_inf"``: $\tilde p = p_\infty = e^{-U_{tot}/T}/Z$, any batch rule; needs
      ``log_partition``. With exact heat ``total`` $= (w_J - \Delta F)/T$ depends on
      $\boldsymbol\omega_0$ only; with the integrated or path-kernel heat it tests the heat.

    Heat: ``"exact"`` $q = U_{tot}(\boldsymbol\omega_0) - U_{tot}(\boldsymbol\omega_t)$; ``"integrated"``,
    the simulator's Stratonovich sum (rule-dependent $O(\Delta t^{\gamma})$ per-path error,
    docs/theory/numerics.md); ``"path_kernel"``, $T$ times the forward/reversed kernel log ratio of the
    recorded path through :func:`path_log_ratio` (exact OU kernels for ``exact_ou`` dynamics,
    Euler–Maruyama kernels otherwise — then the IFT is exact for the discrete chain at any
    $\Delta t$; needs ``simulate(..., record_every=1)``).

    Parameters
    ----------
    result : SimulationResult
        From :func:`thermoinfer.dynamics.simulate` with the same ``data``, ``rule``, ``params``.
    data : MemorizationData
    rule : str or LearningRule
    params : NeuronParams
        Parameters used in the entropy-production formulas (pass the simulation's; a different
        $T$ is a negative control).
    reverse_start : {"p_t", "p_0", "p_inf"}
    form : {"conditional", "marginal"}
    heat : {"exact", "integrated", "path_kernel"}
    system_method : str
        For ``reverse_start="p_t"``: see :func:`system_entropy_change`.
    log_partition : LogPartition or array_like, optional
        $\ln Z$ for $p_\infty$.

    Returns
    -------
    EntropyProduction

    Examples
    --------
    >>> import jax
    >>> from thermoinfer.tasks import memorization_data
    >>> from thermoinfer.dynamics import NeuronParams, simulate
    >>> d = memorization_data(jax.random.key(0), 8, 0.5, data_protocol="shared")
    >>> p = NeuronParams(1.0, 0.5, 2.0)
    >>> r = simulate(jax.random.key(1), d, "hebbian", p, t=1.0, n_replicas=5)
    >>> ep = entropy_production(r, d, "hebbian", p)
    >>> ep.label
    'entropy_production[reverse_start=p_t,form=conditional,system=exact_ou,heat=exact,dynamics=exact_ou]'
    """
    rule, data, p = get_rule(rule), _data(data), _params(params)
    check_choice("reverse_start", reverse_start, REVERSE_STARTS)
    check_choice("form", form, ("conditional", "marginal"))
    check_choice("heat", heat, HEAT_SOURCES)
    check_choice("system_method", system_method, SYSTEM_ENTROPY_METHODS)
    if not isinstance(result, SimulationResult):
        raise InputError(f"result must be a SimulationResult from simulate(), got "
                         f"{type(result).__name__}.")
    w0 = _weights("result.initial_weights", result.initial_weights, data)
    wt = _weights("result.final_weights", result.final_weights, data)
    t = _time(np.asarray(result.times)[-1])
    T = p.temperature
    if form == "marginal" and reverse_start != "p_t":
        raise InputError("form='marginal' applies to reverse_start='p_t' (the label-marginal p_t).")
    # reverse start
    if reverse_start == "p_t":
        system, sys_method, sys_exact = _system(w0, wt, data, rule, p, t, system_method, form,
                                                log_partition)
    elif reverse_start == "p_0":
        system = initial_log_prob(w0, p) - initial_log_prob(wt, p)
        sys_method, sys_exact = "bare_equilibrium_p_0", True
    else:
        if log_partition is None:
            raise InputError(
                "reverse_start='p_inf' needs log_partition (ln Z of p_inf = exp(-U_tot/T)/Z): "
                "compute it with log_partition_function(key, data, rule, params)."
            )
        system = initial_log_prob(w0, p) - stationary_log_prob(wt, data, rule, p,
                                                               log_partition=log_partition)
        sys_method, sys_exact = "stationary_p_inf", True
    # heat
    heat_label = heat
    if heat == "exact":
        medium = jnp.asarray(result.heat_exact) / T
    elif heat == "integrated":
        medium = jnp.asarray(result.heat) / T
    else:
        if result.paths is None:
            raise InputError(
                "heat='path_kernel' needs the recorded path: simulate(..., record_every=1)."
            )
        times = np.asarray(result.times)
        if result.method == "euler_maruyama" and not np.allclose(
                np.diff(times), result.dt, rtol=1e-9, atol=0.0):
            raise InputError(
                "heat='path_kernel' with Euler-Maruyama dynamics needs every step recorded "
                "(simulate(..., record_every=1)): the EM kernel is exact only on the simulation grid."
            )
        plr = path_log_ratio(result.paths, times, data, rule, p, kernel=result.method,
                             reverse_start=None)
        medium = jnp.asarray(plr.dynamical)
        heat_label = f"path_kernel_{result.method}"
    total = system + medium
    information = None
    if form == "marginal":
        information = stochastic_mutual_information(wt, data, rule, p, t=t)
    # is <exp(-total)> = 1 exact for the simulated process?
    if reverse_start == "p_t":
        # p_t is the law of the continuous process: exact only with exact OU sampling
        exact = sys_exact and result.method == "exact_ou"
    elif reverse_start == "p_0":
        # exponent w/T: O(dt) weak error on an EM chain unless its own kernels are used
        exact = result.method == "exact_ou" or heat == "path_kernel"
    else:
        # exact heat: the exponent depends on omega_0 ~ p_0 only (= Jarzynski)
        exact = heat != "integrated" or _weight_independent(rule)
    label = (f"entropy_production[reverse_start={reverse_start},form={form},system={sys_method},"
             f"heat={heat_label},dynamics={result.method}]")
    return EntropyProduction(system, medium, total, information, reverse_start, form, sys_method,
                             heat_label, result.method, rule.name, T, exact, label)


# ---------------------------------------------------------------------------------------------
# path-based log ratio through the paths layer


class _TotalDrift:
    r"""Hashable $\boldsymbol F_{tot}(\boldsymbol\omega)$ of one shared data set, for the EM kernels.

    Hashing by value lets the paths layer reuse its compiled kernel across calls with the same
    data, rule and parameters.
    """

    def __init__(self, inputs, labels, rule, params):
        self.inputs = np.asarray(inputs)
        self.labels = np.asarray(labels)
        self.rule = rule
        self.params = params
        self._key = (rule, params, self.inputs.shape, self.inputs.tobytes(), self.labels.tobytes())

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, _TotalDrift) and self._key == other._key

    def __call__(self, w):
        return total_force(w, jnp.asarray(self.inputs), jnp.asarray(self.labels), self.rule,
                           self.params)


def _boundary_terms(w0, wK, data, rule, p, t, reverse_start, log_partition):
    lp0 = initial_log_prob(w0, p)
    if reverse_start == "p_t":
        return lp0 - conditional_log_prob(wK, data, rule, p, t=t)
    if reverse_start == "p_0":
        return lp0 - initial_log_prob(wK, p)
    return lp0 - stationary_log_prob(wK, data, rule, p, log_partition=log_partition)


@float64
def path_log_ratio(paths, times, data, rule, params: NeuronParams, *, kernel: str = "auto",
                   reverse_start: str | None = "p_t", log_partition=None) -> PathLogRatio:
    r"""$\ln\mathcal P[\boldsymbol\omega]/\tilde{\mathcal P}[\tilde{\boldsymbol\omega}]$ per path, from the paths layer (nats).

    $$\ln\frac{\mathcal P}{\tilde{\mathcal P}} = \underbrace{\ln p_0(\boldsymbol\omega_0) - \ln\tilde p(\boldsymbol\omega_K)}_{\texttt{boundary}}
      + \underbrace{\sum_i\ln\frac{p(\boldsymbol\omega_{i+1}\mid\boldsymbol\omega_i)}{p(\boldsymbol\omega_i\mid\boldsymbol\omega_{i+1})}}_{\texttt{dynamical}}.$$

    * ``kernel="exact_ou"`` (weight-independent force): forward and reversed exact OU kernels,
      :func:`~thermoinfer.paths.ou_path_log_prob` and
      :func:`~thermoinfer.paths.ou_path_log_prob_reversed`, on any (irregular) grid. By detailed
      balance ``dynamical`` $= q/T$ exactly, and with ``reverse_start="p_t"`` ``total`` equals
      $\Delta s_{tot}$ on every path (docs/theory/paths-and-entropy-production.md, eq. (76)).
    * ``kernel="euler_maruyama"``: the Itô pre-point kernels
      (:func:`~thermoinfer.paths.em_log_ratio`); ``dynamical`` is exact for the discrete EM chain
      (IFT exact at any $\Delta t$), ``medium`` is its Stratonovich part (the integrated $q/T$)
      and ``discretisation`` the $O(\Delta t)$ boundary term between them (docs/theory/paths-and-entropy-production.md,
      eq. (83)).

    Parameters
    ----------
    paths : array_like, shape ``(replica, K+1, N)``
        Weight paths (e.g. ``simulate(..., record_every=1).paths``).
    times : float or array_like of shape ``(K+1,)``
        Uniform step or observation times; the elapsed time $t_K - t_0$ is the $t$ of $p_t$.
    data, rule, params
        As in :func:`entropy_production`.
    kernel : {"auto", "exact_ou", "euler_maruyama"}
        ``auto``: exact OU for a weight-independent force, Euler–Maruyama otherwise.
    reverse_start : {"p_t", "p_0", "p_inf"} or None
        $\tilde p$ (``p_t`` needs the exact OU case); None for the dynamical part alone.
    log_partition : LogPartition or array_like, optional
        $\ln Z$ for ``"p_inf"``.

    Returns
    -------
    PathLogRatio
    """
    rule, data, p = get_rule(rule), _data(data), _params(params)
    check_choice("kernel", kernel, ("auto", "exact_ou", "euler_maruyama"))
    if reverse_start is not None:
        check_choice("reverse_start", reverse_start, REVERSE_STARTS)
    w = jnp.asarray(paths, dtype=jnp.float64)
    n = data.inputs.shape[-1]
    if w.ndim != 3 or w.shape[-1] != n or w.shape[1] < 2:
        raise InputError(f"paths must have shape (replica, K+1, {n}) with K >= 1, got "
                         f"{tuple(w.shape)}.")
    if not data.shared and data.inputs.shape[0] != w.shape[0]:
        raise InputError(f"paths have {w.shape[0]} replicas but the per-replica data have "
                         f"{data.inputs.shape[0]} data sets.")
    K = w.shape[1] - 1
    tt = np.asarray(times, dtype=np.float64)
    if tt.ndim == 0:
        elapsed = K * float(tt)
    elif tt.shape == (K + 1,):
        elapsed = float(tt[-1] - tt[0])
    else:
        raise InputError(f"times must be a scalar step or the {K + 1} observation times, got "
                         f"shape {tuple(tt.shape)}.")
    if kernel == "auto":
        kernel = "exact_ou" if _weight_independent(rule) else "euler_maruyama"
    if kernel == "exact_ou" and not _weight_independent(rule):
        raise InputError(f"kernel='exact_ou' needs a weight-independent force; rule "
                         f"{rule.name!r} depends on the activation: use 'euler_maruyama'.")
    if reverse_start == "p_t" and kernel != "exact_ou":
        raise InputError("reverse_start='p_t' needs the exact p_t, known only for the exact OU "
                         "case (Hebbian); use 'p_0' or 'p_inf' for Euler-Maruyama kernels.")
    if reverse_start == "p_inf" and log_partition is None:
        raise InputError("reverse_start='p_inf' needs log_partition: "
                         "log_partition_function(key, data, rule, params).")
    k, T = p.stiffness, p.temperature
    if kernel == "exact_ou":
        f = _constant_force(data, rule, p)
        if data.shared:
            fwd = ou_path_log_prob(w, tt, k, f, T)
            rev = ou_path_log_prob_reversed(w, tt, k, f, T)
        else:
            fwd = jax.vmap(lambda ww, ff: ou_path_log_prob(ww, tt, k, ff, T))(w, f)
            rev = jax.vmap(lambda ww, ff: ou_path_log_prob_reversed(ww, tt, k, ff, T))(w, f)
        dyn = jnp.sum(jnp.asarray(fwd) - jnp.asarray(rev), axis=-1)
        medium, disc = dyn, jnp.zeros_like(dyn)
    else:
        if data.shared:
            r = em_log_ratio(w, tt, _TotalDrift(data.inputs, data.labels, rule, p), T)
        else:
            def one(ww, xx, yy):
                return em_log_ratio(ww, tt, lambda v: total_force(v, xx, yy, rule, p), T)

            r = jax.vmap(one)(w, data.inputs, data.labels)
        dyn = jnp.asarray(r.total)
        medium = jnp.asarray(r.stratonovich)
        disc = jnp.asarray(r.boundary)
    if reverse_start is None:
        boundary = jnp.zeros_like(dyn)
        rs = "none"
    else:
        boundary = _boundary_terms(w[:, 0], w[:, -1], data, rule, p, elapsed, reverse_start,
                                   log_partition)
        rs = reverse_start
    label = f"path_log_ratio[kernel={kernel},reverse_start={rs}]"
    return PathLogRatio(boundary + dyn, dyn, boundary, medium, disc, kernel, rs, label)

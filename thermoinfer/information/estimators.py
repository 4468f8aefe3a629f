r"""Per-pattern information from sampled training errors, with bias correction and intervals.

The per-pattern information is the information of a binary symmetric channel,
$I(\epsilon) = \ln2 - h_2(\epsilon)$ (docs/theory/thermodynamics-and-bound.md, eq. (18)).
Estimated from samples (docs/theory/numerics.md, eq. (98), "Estimators from samples"):

* **Independent units.** The $P$ outcomes of one replica share the weights and the data and are
  correlated, so the replicas are the independent units. From the per-replica error fractions
  $\hat\epsilon_r$: $\hat\epsilon = \overline{\hat\epsilon_r}$, $\mathrm{se} = \mathrm{SD}/\sqrt R$
  and the effective number of independent outcomes
  $n_\mathrm{eff} = \hat\epsilon(1-\hat\epsilon)/\mathrm{se}^2$ (clipped to $[1, RP]$).
* **Bias.** $I''(\epsilon) = 1/[\epsilon(1-\epsilon)]$, so the plug-in $I(\hat\epsilon)$ is biased
  upwards by $\mathrm{Var}(\hat\epsilon)/[2\epsilon(1-\epsilon)]\approx 1/(2n_\mathrm{eff})$ nats;
  the corrected estimate subtracts it (floored at 0).
* **Interval.** A Wilson or Clopper–Pearson interval for $\epsilon$ with $n_\mathrm{eff}$
  outcomes is mapped through the monotone map $|\epsilon - \tfrac12|\mapsto I$; the lower end
  is 0 when the interval contains $\tfrac12$. The delta method is not used: its derivative
  $I'(\epsilon) = \ln[(1-\epsilon)/\epsilon]$ vanishes at $\epsilon = \tfrac12$ and its interval
  collapses there.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc
from scipy.special import ndtri

from .._x64 import float64
from ..errors import InputError, check_choice
from .channels import information_from_u

__all__ = [
    "INTERVAL_METHODS",
    "InformationEstimate",
    "information_from_errors",
    "information_from_counts",
]

#: Interval methods for the error probability.
INTERVAL_METHODS: tuple[str, ...] = ("wilson", "clopper_pearson")

_BISECTION_STEPS = 64  # interval [0, 1] halved 64 times: 5e-20 < float64 resolution near 0.5


class InformationEstimate(NamedTuple):
    """Per-pattern information estimated from training errors. Arrays broadcast to one shape."""

    error: object
    """$\\hat\\epsilon$, the mean error fraction (dimensionless)."""
    error_se: object
    """Standard error of $\\hat\\epsilon$."""
    n_effective: object
    """Effective number of independent outcomes, $\\hat\\epsilon(1-\\hat\\epsilon)/\\mathrm{se}^2$."""
    information_plugin: object
    """Plug-in $\\ln2 - h_2(\\hat\\epsilon)$, nats (biased upwards by about $1/(2n_\\mathrm{eff})$)."""
    information: object
    """Bias-corrected $\\max(0, I(\\hat\\epsilon) - 1/(2n_\\mathrm{eff}))$, nats."""
    information_se: object
    """Half-width of the information interval divided by $z$, nats (does not vanish at $\\hat\\epsilon=\\frac12$)."""
    information_lower: object
    """Lower end of the interval for $I$, nats (0 when the error interval contains $\\frac12$)."""
    information_upper: object
    """Upper end of the interval for $I$, nats."""
    ci_prob: float
    """Coverage probability of the interval."""
    method: str
    """Interval method for $\\epsilon$, one of :data:`INTERVAL_METHODS`."""
    error_lower: object
    """Lower end of the interval for $\\epsilon$."""
    error_upper: object
    """Upper end of the interval for $\\epsilon$."""


# ---------------------------------------------------------------------------------------------
# intervals for a binomial proportion with a (possibly non-integer) number of outcomes


def _wilson(p_hat, n, z):
    z2n = z * z / n
    centre = (p_hat + 0.5 * z2n) / (1.0 + z2n)
    half = z / (1.0 + z2n) * jnp.sqrt(p_hat * (1.0 - p_hat) / n + 0.25 * z2n / n)
    lo = jnp.where(p_hat <= 0.0, 0.0, jnp.clip(centre - half, 0.0, 1.0))  # exact ends at 0 and 1
    hi = jnp.where(p_hat >= 1.0, 1.0, jnp.clip(centre + half, 0.0, 1.0))
    return lo, hi


def _beta_ppf(q, a, b):
    """Quantile of Beta(a, b) by bisection on the regularised incomplete beta function."""
    q, a, b = jnp.broadcast_arrays(q, a, b)

    def step(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        below = betainc(a, b, mid) < q
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _BISECTION_STEPS, step, (jnp.zeros_like(q), jnp.ones_like(q)))
    return 0.5 * (lo + hi)


def _clopper_pearson(p_hat, n, alpha):
    k = p_hat * n
    a_lo = jnp.where(k > 0, k, 1.0)
    b_hi = jnp.where(n - k > 0, n - k, 1.0)
    lo = jnp.where(k > 0, _beta_ppf(0.5 * alpha, a_lo, n - k + 1.0), 0.0)
    hi = jnp.where(n - k > 0, _beta_ppf(1.0 - 0.5 * alpha, k + 1.0, b_hi), 1.0)
    return lo, hi


def _information(eps):
    return information_from_u(1.0 - 2.0 * eps)


def _estimate(eps_hat, error_se, n_eff, ci_prob, method) -> InformationEstimate:
    z = float(ndtri(0.5 + 0.5 * ci_prob))
    if method == "wilson":
        lo, hi = _wilson(eps_hat, n_eff, z)
    else:
        lo, hi = _clopper_pearson(eps_hat, n_eff, 1.0 - ci_prob)
    i_lo_end, i_hi_end = _information(lo), _information(hi)
    contains_half = (lo <= 0.5) & (hi >= 0.5)
    upper = jnp.maximum(i_lo_end, i_hi_end)
    lower = jnp.where(contains_half, 0.0, jnp.minimum(i_lo_end, i_hi_end))
    plugin = _information(eps_hat)
    corrected = jnp.maximum(plugin - 0.5 / n_eff, 0.0)
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in (eps_hat, error_se, n_eff)))
    b = lambda v: jnp.broadcast_to(v, shape)  # noqa: E731
    return InformationEstimate(
        error=b(eps_hat), error_se=b(error_se), n_effective=b(n_eff),
        information_plugin=b(plugin), information=b(corrected),
        information_se=b((upper - lower) / (2.0 * z)),
        information_lower=b(lower), information_upper=b(upper),
        ci_prob=float(ci_prob), method=method, error_lower=b(lo), error_upper=b(hi),
    )


# ---------------------------------------------------------------------------------------------
# checks


def _check_ci(ci_prob, method):
    check_choice("method", method, INTERVAL_METHODS)
    try:
        c = float(ci_prob)
    except (TypeError, ValueError):
        raise InputError(f"ci_prob must be a number in (0, 1), got {ci_prob!r}.") from None
    if not 0.0 < c < 1.0:
        raise InputError(f"ci_prob must be in (0, 1) (e.g. 0.95), got {ci_prob!r}.")
    return c


def _concrete(x):
    return None if isinstance(x, jax.core.Tracer) else np.asarray(x, dtype=float)


# ---------------------------------------------------------------------------------------------
# public


@float64
def information_from_errors(error_fraction_per_replica, *, ci_prob=0.95, method="wilson",
                            n_patterns=None) -> InformationEstimate:
    r"""Per-pattern information $\ln2 - h_2(\epsilon)$ from per-replica training-error fractions.

    Each replica's $P$ outcomes are correlated, so the replicas are the independent units:

    $$\hat\epsilon = \frac1R\sum_r\hat\epsilon_r,\qquad \mathrm{se} = \frac{\mathrm{SD}(\hat\epsilon_r)}{\sqrt R},
    \qquad n_\mathrm{eff} = \frac{\hat\epsilon(1-\hat\epsilon)}{\mathrm{se}^2}\in[1, RP].$$

    For $P$ independent outcomes per replica $n_\mathrm{eff}\approx RP$; for fully correlated
    ones $n_\mathrm{eff}\approx R$. The information is the plug-in value minus the bias
    $\mathrm{se}^2/[2\hat\epsilon(1-\hat\epsilon)] = 1/(2n_\mathrm{eff})$, floored at 0; the interval
    maps a Wilson (default) or Clopper–Pearson interval for $\epsilon$ with $n_\mathrm{eff}$
    outcomes through $|\epsilon-\tfrac12|\mapsto I$ (docs/theory/numerics.md, "Estimators from
    samples").

    Parameters
    ----------
    error_fraction_per_replica : array_like, shape ``(..., n_replicas)``
        Training-error fraction of each replica, in $[0, 1]$; ``n_replicas >= 2``. Leading axes
        are batched (e.g. patterns groups or time points).
    ci_prob : float
        Coverage probability of the interval, in $(0, 1)$.
    method : {"wilson", "clopper_pearson"}
        Interval for $\epsilon$ (Clopper–Pearson with a non-integer $n_\mathrm{eff}$ uses the
        beta-quantile form).
    n_patterns : int, optional
        $P$, the number of outcomes behind each fraction: caps $n_\mathrm{eff}$ at $RP$. When the
        fractions do not vary (se = 0) $n_\mathrm{eff}$ is this cap, or $R$ if $P$ is not given.

    Returns
    -------
    InformationEstimate
        Errors dimensionless, informations in nats.

    Examples
    --------
    >>> r = information_from_errors([0.30, 0.26, 0.34, 0.28, 0.32], n_patterns=50)
    >>> round(float(r.error), 3), round(float(r.information_plugin), 4)
    (0.3, 0.0823)
    >>> bool(r.information_lower < r.information < r.information_upper)
    True
    """
    ci_prob = _check_ci(ci_prob, method)
    shape = np.shape(error_fraction_per_replica)
    if len(shape) == 0 or shape[-1] == 0:
        raise InputError(
            f"error_fraction_per_replica must be an array of shape (..., n_replicas) with "
            f"n_replicas >= 2, got shape {shape}."
        )
    n_rep = shape[-1]
    if n_rep < 2:
        raise InputError(
            f"n_replicas must be >= 2 to estimate the standard error across replicas, got "
            f"n_replicas = {n_rep}. Simulate more replicas, or use information_from_counts for "
            "independent outcomes."
        )
    conc = _concrete(error_fraction_per_replica)
    if conc is not None:
        if np.any(np.isnan(conc)):
            raise InputError("error_fraction_per_replica contains NaN. Drop the failed replicas first.")
        if np.any((conc < 0) | (conc > 1)):
            bad = conc[(conc < 0) | (conc > 1)].ravel()[:3]
            raise InputError(
                f"error_fraction_per_replica must lie in [0, 1], got {bad!r}. Pass error "
                "fractions (errors / patterns), not counts."
            )
    if n_patterns is not None:
        if isinstance(n_patterns, bool) or not isinstance(n_patterns, (int, np.integer)) or n_patterns < 1:
            raise InputError(f"n_patterns must be a positive integer or None, got {n_patterns!r}.")
    x = jnp.asarray(error_fraction_per_replica, dtype=float)
    eps_hat = jnp.mean(x, axis=-1)
    error_se = jnp.std(x, axis=-1, ddof=1) / math.sqrt(n_rep)
    cap = float(n_rep * n_patterns) if n_patterns is not None else math.inf
    var_one = eps_hat * (1.0 - eps_hat)
    raw = var_one / jnp.where(error_se > 0, error_se**2, 1.0)
    fallback = cap if n_patterns is not None else float(n_rep)
    n_eff = jnp.clip(jnp.where(error_se > 0, raw, fallback), 1.0, cap)
    return _estimate(eps_hat, error_se, n_eff, ci_prob, method)


@float64
def information_from_counts(n_errors, n_trials, *, ci_prob=0.95, method="wilson") -> InformationEstimate:
    r"""Per-pattern information $\ln2 - h_2(\epsilon)$ from counts of independent outcomes.

    For ``n_errors`` errors in ``n_trials`` **independent** outcomes, $\hat\epsilon = k/n$,
    $\mathrm{se} = \sqrt{\hat\epsilon(1-\hat\epsilon)/n}$ and $n_\mathrm{eff} = n$; otherwise as
    :func:`information_from_errors` (the exact Clopper–Pearson interval for integer counts).
    Do not pool the correlated outcomes of one replica here.

    Parameters
    ----------
    n_errors : array_like of int
        Number of errors $k$, $0\le k\le n$.
    n_trials : array_like of int
        Number of independent outcomes $n\ge1$. Broadcasts with ``n_errors``.
    ci_prob : float
        Coverage probability in $(0, 1)$.
    method : {"wilson", "clopper_pearson"}
        Interval for $\epsilon$.

    Returns
    -------
    InformationEstimate

    Examples
    --------
    >>> r = information_from_counts(50, 100)             # eps_hat = 1/2: I = 0, interval not empty
    >>> float(r.information), float(r.information_lower), bool(r.information_upper > 0.01)
    (0.0, 0.0, True)
    """
    ci_prob = _check_ci(ci_prob, method)
    for name, v in (("n_errors", n_errors), ("n_trials", n_trials)):
        if np.size(v) == 0:
            raise InputError(f"{name} must not be empty, got shape {np.shape(v)}.")
    k_c, n_c = _concrete(n_errors), _concrete(n_trials)
    if k_c is not None and n_c is not None:
        if np.any(~np.isfinite(k_c)) or np.any(~np.isfinite(n_c)):
            raise InputError("n_errors and n_trials must be finite integers (got NaN or inf).")
        if np.any(k_c != np.round(k_c)) or np.any(n_c != np.round(n_c)):
            raise InputError(
                "n_errors and n_trials must be whole numbers. For fractions per replica use "
                "information_from_errors."
            )
        if np.any(n_c < 1):
            raise InputError(f"n_trials must be >= 1, got {n_c[n_c < 1].ravel()[:3]!r}.")
        kb, nb = np.broadcast_arrays(k_c, n_c)
        if np.any((kb < 0) | (kb > nb)):
            raise InputError("n_errors must satisfy 0 <= n_errors <= n_trials.")
    k = jnp.asarray(n_errors, dtype=float)
    n = jnp.asarray(n_trials, dtype=float)
    eps_hat = k / n
    error_se = jnp.sqrt(eps_hat * (1.0 - eps_hat) / n)
    return _estimate(eps_hat, error_se, n, ci_prob, method)

"""Seeds and false-alarm probabilities of the statistical tests (see tests/README.md).

``THERMOINFER_TEST_SEED`` (an integer, default 0) offsets every seed of the suite: tests write
``seed(2017)`` instead of ``2017`` and ``seed(0)`` instead of ``0``, and the ``key`` fixture of
conftest.py is ``jax.random.key(seed(20170101))``. At offset 0 every seed is the literal one; at
offset ``k`` it is ``s + 1_000_003 k``, far from the small literal seeds of neighbouring tests
(fixtures fold indices 0..10 000 into their keys), so the offsets 1, 2, 3, ... draw fresh,
well-separated random streams.

Tests import it as ``from _stats import seed``: pytest puts tests/ (it has no ``__init__.py``) on
``sys.path`` before it imports conftest.py or a test module, in plain and in xdist runs alike.

The ``fap_*`` helpers give the false-alarm probability (FAP) of a gate: the probability that a
gate fails although the code is right. The table of tests/README.md lists every gate of the suite
with its FAP; their sum (a union bound, valid for correlated gates too) is the family-wise FAP of
one run and must stay below :data:`FAMILY_WISE_BUDGET`.
"""

from __future__ import annotations

import math
import os

__all__ = ["SEED_OFFSET", "SEED_STRIDE", "FAMILY_WISE_BUDGET", "seed", "fap_z", "fap_t",
           "binomial_test_accepts", "fap_binomial_two_sided", "fap_binomial_below", "fap_chi2", "fap_chi2_counts", "fap_outside"]

SEED_STRIDE = 1_000_003
"""Distance between the seeds of two consecutive offsets (a prime above 10^6)."""

FAMILY_WISE_BUDGET = 0.01
"""The suite's family-wise false-alarm probability per run must stay below this (1%)."""


def _offset() -> int:
    raw = os.environ.get("THERMOINFER_TEST_SEED", "0").strip() or "0"
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"THERMOINFER_TEST_SEED must be an integer, got {raw!r}") from None
    if not 0 <= value < 1000:
        raise ValueError(f"THERMOINFER_TEST_SEED must be in 0..999, got {value}")
    return value


SEED_OFFSET = _offset()
"""The offset of this run, read once from ``THERMOINFER_TEST_SEED``."""


def seed(s: int) -> int:
    """The seed ``s`` of a test, offset by ``THERMOINFER_TEST_SEED``: ``s + 1_000_003 * offset``."""
    if isinstance(s, bool) or not isinstance(s, int) or s < 0:
        raise TypeError(f"seed() takes a non-negative integer literal, got {s!r}")
    return s + SEED_STRIDE * SEED_OFFSET


# ------------------------------------------------------------------------------------------
# false-alarm probabilities


def fap_z(threshold: float, m: int = 1, two_sided: bool = True) -> float:
    """``m`` Gaussian z gates ``|z| < threshold`` (or ``z < threshold``): ``m * P(|Z| > t)``."""
    tail = 0.5 * math.erfc(threshold / math.sqrt(2.0))
    return m * (2 * tail if two_sided else tail)


def fap_t(threshold: float, dof: int, m: int = 1, two_sided: bool = True) -> float:
    """As :func:`fap_z` with a Student-t tail of ``dof`` degrees of freedom (SE estimated from
    ``dof + 1`` independent values)."""
    from scipy import stats

    tail = float(stats.t.sf(threshold, dof))
    return m * (2 * tail if two_sided else tail)


def fap_binomial_below(lo: int, n: int, p: float, m: int = 1) -> float:
    """``m`` gates ``count >= lo`` on Binomial(n, p) counts: ``m * P(X < lo)``."""
    from scipy import stats

    return m * float(stats.binom.cdf(lo - 1, n, p))


def binomial_test_accepts(k: int, n: int, p: float, level: float) -> bool:
    """The exact two-sided binomial test (``scipy.stats.binomtest``) does not reject ``k`` of ``n``
    at ``level`` against success probability ``p``."""
    from scipy import stats

    return float(stats.binomtest(int(k), int(n), p).pvalue) > level


def fap_binomial_two_sided(n: int, p: float, level: float, m: int = 1) -> float:
    """``m`` two-sided binomial tests at ``level`` (:func:`binomial_test_accepts`) of Binomial(n, p)
    counts: ``m * P(rejected)``, summed exactly over the counts (at most ``level``)."""
    from scipy import stats

    return m * float(sum(stats.binom.pmf(k, n, p) for k in range(n + 1)
                         if not binomial_test_accepts(k, n, p, level)))


def fap_chi2(p_min: float, m: int = 1) -> float:
    """``m`` gates ``p > p_min`` on (asymptotically) χ² p-values: ``m * p_min``."""
    return m * p_min


def fap_chi2_counts(p_min: float, n: int, bins: int, m: int = 1) -> float:
    """``m`` gates ``p > p_min`` on the asymptotic χ² p-value of ``n`` counts in ``bins`` equally
    likely bins (e.g. SBC ranks), exactly: the multinomial law of the counts is enumerated.

    At small ``p_min`` the χ² tail is not the multinomial one (100 counts in 10 bins: the exact
    FAP of ``p > 1e-5`` is 1.8e-5), so :func:`fap_chi2` would understate it.
    """
    import numpy as np
    from scipy import stats

    if n % bins:
        raise ValueError(f"n = {n} is not divisible by bins = {bins}")
    e = n // bins
    # the gate fails iff S = sum (n_i - e)^2 >= cap; S only grows bin by bin, so every S >= cap
    # is kept in one absorbing column
    cap = int(math.ceil(e * stats.chi2.isf(p_min, bins - 1)))
    while cap > 0 and stats.chi2.sf((cap - 1) / e, bins - 1) <= p_min:
        cap -= 1
    while stats.chi2.sf(cap / e, bins - 1) > p_min:
        cap += 1
    # dp[c, s]: sum over the bins so far of prod 1/n_i! with sum n_i = c and S = s (s < cap)
    dp = np.zeros((n + 1, cap + 1))
    dp[0, 0] = 1.0
    for _ in range(bins):
        new = np.zeros_like(dp)
        for i in range(n + 1):
            w = math.exp(-math.lgamma(i + 1))
            sq = (i - e) ** 2
            src = dp[: n + 1 - i]
            if sq < cap:
                new[i:, sq:cap] += w * src[:, : cap - sq]
                new[i:, cap] += w * (src[:, cap - sq:cap].sum(axis=1) + src[:, cap])
            else:
                new[i:, cap] += w * src.sum(axis=1)
        dp = new
    return m * float(dp[n, cap] * math.exp(math.lgamma(n + 1) - n * math.log(bins)))


def fap_outside(lo: float, hi: float, mean: float, sd: float, m: int = 1) -> float:
    """``m`` gates ``lo < x < hi`` on a statistic measured as ``mean ± sd`` over many seed
    offsets (a slope, a ratio): ``m * P(N(mean, sd) outside (lo, hi))``. ``lo = -inf`` or
    ``hi = inf`` for one-sided gates."""
    def tail(z):
        return 0.5 * math.erfc(z / math.sqrt(2.0))

    return m * (tail((hi - mean) / sd) + tail((mean - lo) / sd))

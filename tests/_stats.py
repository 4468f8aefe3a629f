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
           "fap_binomial_below", "fap_chi2"]

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


def fap_chi2(p_min: float, m: int = 1) -> float:
    """``m`` gates ``p > p_min`` on (asymptotically) χ² p-values: ``m * p_min``."""
    return m * p_min

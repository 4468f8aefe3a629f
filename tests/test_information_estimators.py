"""Per-pattern information from sampled errors: bias correction, intervals, coverage, bad input.

Exact answers first (binomial enumeration of every possible count), then Monte Carlo with
correlated replicas, gated by binomial standard errors.
"""

import jax
import numpy as np
import pytest
from scipy import stats

from thermoinfer.errors import InputError
from thermoinfer.information import (
    INTERVAL_METHODS,
    InformationEstimate,
    binary_channel_information,
    information_from_counts,
    information_from_errors,
)


def _info(eps):
    return np.asarray(binary_channel_information(eps))


def _exact_over_counts(ns, eps, method):
    """Every possible count k = 0..n for each n in ns (one call), with binomial probabilities."""
    k = np.concatenate([np.arange(n + 1) for n in ns])
    n = np.concatenate([np.full(n + 1, n) for n in ns])
    out = information_from_counts(k, n, method=method)
    return out, stats.binom.pmf(k, n, eps), n


# --------------------------------------------------------------------------------------------
# known answers


def test_counts_fields_and_intervals_match_scipy():
    k, n = np.array([0, 3, 37, 50, 97, 100]), 100
    r = information_from_counts(k, n, method="clopper_pearson")
    lo = np.where(k > 0, stats.beta.ppf(0.025, k, n - k + 1), 0.0)
    hi = np.where(k < n, stats.beta.ppf(0.975, k + 1, n - k), 1.0)
    np.testing.assert_allclose(r.error_lower, lo, atol=1e-13)
    np.testing.assert_allclose(r.error_upper, hi, atol=1e-13)
    r = information_from_counts(k, n, method="wilson", ci_prob=0.9)
    z = stats.norm.ppf(0.95)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    np.testing.assert_allclose(r.error_lower, np.clip(centre - half, 0, 1), atol=1e-15)
    np.testing.assert_allclose(r.error_upper, np.clip(centre + half, 0, 1), atol=1e-15)
    assert isinstance(r, InformationEstimate) and r.ci_prob == 0.9 and r.method == "wilson"
    np.testing.assert_allclose(r.error, p)
    np.testing.assert_allclose(r.error_se, np.sqrt(p * (1 - p) / n))
    np.testing.assert_allclose(r.n_effective, n)
    np.testing.assert_allclose(r.information_plugin, _info(p), rtol=1e-15)
    np.testing.assert_allclose(r.information, np.maximum(_info(p) - 1 / (2 * n), 0), rtol=1e-15)
    # the interval for I is the image of the interval for eps under |eps - 1/2| -> I
    ends = np.stack([_info(r.error_lower), _info(r.error_upper)])
    contains = (r.error_lower <= 0.5) & (r.error_upper >= 0.5)
    np.testing.assert_allclose(r.information_upper, ends.max(0), rtol=1e-15)
    np.testing.assert_allclose(r.information_lower, np.where(contains, 0, ends.min(0)), rtol=1e-15)
    np.testing.assert_allclose(r.information_se, (r.information_upper - r.information_lower) / (2 * z))


def test_independent_replicas_reduce_to_counts(key):
    # P independent outcomes per replica: n_eff ~ R P on average, and the estimates agree
    r_, p_, eps = 400, 25, 0.3
    errors = np.asarray(jax.random.binomial(key, p_, eps, shape=(r_,)), dtype=float)
    a = information_from_errors(errors / p_, n_patterns=p_)
    b = information_from_counts(errors.sum(), r_ * p_)
    assert float(a.error) == pytest.approx(float(b.error), rel=1e-14)
    # n_eff = eps(1 - eps) / se^2 is R P times (R - 1)/chi2_{R-1} (capped at R P): it falls below
    # 0.7 R P with probability chi2.sf(399 / 0.7, 399) = 3.7e-8 (below 0.8 R P: 4.9e-4)
    assert float(a.n_effective) == pytest.approx(r_ * p_, rel=0.3)
    assert float(a.information) == pytest.approx(float(b.information), abs=2e-3)


def test_n_effective_clipping():
    same = np.full(5, 0.2)               # no spread: n_eff is the cap R P, or R without P
    assert float(information_from_errors(same, n_patterns=10).n_effective) == 50
    assert float(information_from_errors(same).n_effective) == 5
    zero = np.zeros(4)                   # perfect learning in every replica
    r = information_from_errors(zero, n_patterns=20)
    assert float(r.n_effective) == 80 and float(r.error_lower) == 0.0
    assert float(r.information_plugin) == pytest.approx(np.log(2))
    # fully polarised replicas: the smallest possible n_eff for fractions in [0, 1] is R - 1
    wild = np.array([0.0, 1.0, 0.0, 1.0])
    assert float(information_from_errors(wild, n_patterns=20).n_effective) == pytest.approx(3.0)


def test_batched_replicas():
    x = np.array([[0.2, 0.25, 0.3], [0.5, 0.45, 0.55]])
    r = information_from_errors(x, n_patterns=40)
    assert r.information.shape == (2,)
    one = information_from_errors(x[1], n_patterns=40)
    assert float(r.information_upper[1]) == pytest.approx(float(one.information_upper), rel=1e-15)


# --------------------------------------------------------------------------------------------
# bias correction


@pytest.mark.parametrize("eps", [0.2, 0.3])
def test_bias_correction_exact_enumeration(eps):
    ns = (50, 100, 200)
    r, pmf, n_of = _exact_over_counts(ns, eps, "wilson")
    truth = float(_info(eps))
    for n in ns:
        m = n_of == n
        bias_plugin = np.sum(pmf[m] * r.information_plugin[m]) - truth
        bias_corrected = np.sum(pmf[m] * r.information[m]) - truth
        assert bias_plugin == pytest.approx(1 / (2 * n), rel=0.05)   # the +1/(2n) of physics.md §7
        assert abs(bias_corrected) < bias_plugin / 3


def test_bias_at_half_is_limited_by_the_floor():
    # at eps = 1/2 the floor at 0 keeps E[(z^2 - 1)_+]/(2n) = 0.484/(2n) of the 1/(2n) bias
    n = 200
    r, pmf, _ = _exact_over_counts([n], 0.5, "wilson")
    assert np.sum(pmf * r.information) == pytest.approx(0.484 / (2 * n), rel=0.05)
    assert np.all(r.information >= 0)


def test_bias_correction_with_correlated_replicas(key):
    # R replicas of P outcomes sharing a replica-level error rate: the bias is ~1/(2 n_eff) with
    # n_eff << R P; the correction removes it. Control variate I'(eps)(eps_hat - eps) (mean 0).
    reps, r_, p_, eps, spread = 4000, 30, 40, 0.3, 0.1
    k1, k2 = jax.random.split(key)
    # mean rate eps up to the clipping at 0 (3 sd away: shifts the mean by 4e-5, negligible)
    rate = np.clip(eps + spread * np.asarray(jax.random.normal(k1, (reps, r_))), 0, 1)
    errors = np.asarray(jax.random.binomial(k2, p_, rate), dtype=float) / p_
    out = information_from_errors(errors, n_patterns=p_)
    truth = float(_info(eps))
    slope = -np.log((1 - eps) / eps)
    centred = out.error - eps
    plug = out.information_plugin - slope * centred - truth
    corr = out.information - slope * centred - truth
    bias_p, se_p = plug.mean(), plug.std(ddof=1) / np.sqrt(reps)
    bias_c, se_c = corr.mean(), corr.std(ddof=1) / np.sqrt(reps)
    assert bias_p > 10 * se_p and bias_p > 2 / (2 * r_ * p_)     # well above the naive 1/(2RP)
    assert abs(bias_c) + 2 * se_c < bias_p / 3


# --------------------------------------------------------------------------------------------
# intervals: coverage, and no collapse at eps = 1/2


@pytest.mark.parametrize("method", INTERVAL_METHODS)
def test_coverage_exact_enumeration(method):
    ns = (50, 100, 200)
    for eps in (0.5, 0.45, 0.2):
        truth = float(_info(eps))
        r, pmf, n_of = _exact_over_counts(ns, eps, method)
        hit = (r.information_lower <= truth) & (truth <= r.information_upper)
        for n in ns:
            cov = np.sum(pmf[n_of == n] * hit[n_of == n])
            if method == "wilson":
                assert 0.93 < cov < 0.985, (eps, n, cov)
            else:
                assert cov >= 0.95, (eps, n, cov)       # Clopper-Pearson is conservative


@pytest.mark.parametrize("method", INTERVAL_METHODS)
@pytest.mark.parametrize("eps", [0.5, 0.45, 0.2])
def test_coverage_simulated_correlated_replicas(key, eps, method):
    # 400 repetitions of 40 replicas x 50 correlated outcomes (replica-level random error rate)
    reps, r_, p_, spread, ci = 400, 40, 50, 0.04, 0.9
    k1, k2 = jax.random.split(jax.random.fold_in(key, int(1000 * eps)))
    rate = eps + spread * np.asarray(jax.random.normal(k1, (reps, r_)))
    rate = np.clip(rate - (rate.mean() - eps), 0, 1)
    errors = np.asarray(jax.random.binomial(k2, p_, rate), dtype=float) / p_
    out = information_from_errors(errors, ci_prob=ci, method=method, n_patterns=p_)
    truth = float(_info(eps))
    cov = np.mean((out.information_lower <= truth) & (truth <= out.information_upper))
    se = np.sqrt(ci * (1 - ci) / reps)
    # FAP: the true coverage (0.894-0.898 Wilson, 0.901-0.904 Clopper-Pearson, measured with
    # 40 000 repetitions) falls below 0.83 in 400 with binomial probability <= 3.9e-5
    assert cov > ci - 4 * se - 0.01
    assert cov < ci + 4 * se + (0.04 if eps == 0.45 else 0.01)   # folding at 1/2 over-covers


def test_interval_does_not_collapse_at_half():
    r = information_from_counts(100, 200)
    assert float(r.error) == 0.5 and float(r.information_plugin) == 0.0
    assert float(r.information_lower) == 0.0
    assert float(r.information_upper) > 0.005 and float(r.information_se) > 0.001
    r = information_from_errors(np.array([0.48, 0.52, 0.5, 0.46, 0.54]), n_patterns=50)
    assert float(r.error) == pytest.approx(0.5)
    assert float(r.information_upper) - float(r.information_lower) > 0.005


def test_delta_method_would_collapse_at_half():
    # negative control: the delta-method SE |I'(eps_hat)| se(eps_hat) vanishes at eps_hat = 1/2
    slope = jax.grad(lambda e: binary_channel_information(e))
    assert float(slope(0.5)) == 0.0
    assert float(slope(0.3)) == pytest.approx(-np.log(0.7 / 0.3))
    r = information_from_counts(100, 200)
    delta_se = abs(float(slope(float(r.error)))) * float(r.error_se)
    assert delta_se == 0.0 < float(r.information_se)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("ci", [0.0, 1.0, -0.1, 1.5, float("nan"), "high"])
def test_bad_ci_prob(ci):
    with pytest.raises(InputError, match="ci_prob"):
        information_from_errors([0.2, 0.3], ci_prob=ci)
    with pytest.raises(InputError, match="ci_prob"):
        information_from_counts(3, 10, ci_prob=ci)


def test_bad_errors_input():
    with pytest.raises(InputError, match="error_fraction_per_replica"):
        information_from_errors([])
    with pytest.raises(InputError, match="error_fraction_per_replica"):
        information_from_errors(0.3)
    with pytest.raises(InputError, match="n_replicas"):
        information_from_errors([0.3])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        information_from_errors([0.2, 1.2])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        information_from_errors([3.0, 4.0])        # counts instead of fractions
    with pytest.raises(InputError, match="NaN"):
        information_from_errors([0.2, float("nan")])
    with pytest.raises(InputError, match="method"):
        information_from_errors([0.2, 0.3], method="delta")
    with pytest.raises(InputError, match="n_patterns"):
        information_from_errors([0.2, 0.3], n_patterns=0)


def test_bad_counts_input():
    with pytest.raises(InputError, match="n_errors"):
        information_from_counts([], 10)
    with pytest.raises(InputError, match="n_errors"):
        information_from_counts(11, 10)
    with pytest.raises(InputError, match="n_errors"):
        information_from_counts(-1, 10)
    with pytest.raises(InputError, match="n_trials"):
        information_from_counts(0, 0)
    with pytest.raises(InputError, match="whole"):
        information_from_counts(2.5, 10)
    with pytest.raises(InputError, match="NaN"):
        information_from_counts(float("nan"), 10)

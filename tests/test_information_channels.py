"""Channel informations (binary symmetric, BIAWGN, Gaussian) and the efficiency flags.

Known answers first: high-precision references (mpmath, 50 digits), scipy quadrature, the
slow-learning limit I = y^2/pi, the hard/soft/Gaussian chain, then the efficiency status codes.
"""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from thermoinfer.information import (
    EFFICIENCY_STATUS,
    LN2,
    biawgn_information,
    binary_channel_information,
    binary_channel_information_from_snr,
    binary_entropy,
    efficiency,
    gaussian_channel_information,
    gaussian_tail,
    status_name,
)

mp.mp.dps = 50


def _mp_bsc(eps):
    e = mp.mpf(eps)
    if e == 0 or e == 1:
        return mp.log(2)
    return mp.log(2) + e * mp.log(e) + (1 - e) * mp.log(1 - e)


def _rel_err(got, ref):
    return float(abs((mp.mpf(float(got)) - ref) / ref))


# --------------------------------------------------------------------------------------------
# binary symmetric channel


EPS_GRID = np.concatenate([
    np.geomspace(1e-12, 0.45, 40),
    0.5 - np.geomspace(1e-9, 0.05, 30),      # the slow-learning limit eps -> 1/2
    [0.4995, 0.499, 0.4990000001, 0.25, 0.1],
])


def test_binary_channel_information_matches_mpmath():
    got = np.asarray(binary_channel_information(EPS_GRID))
    for eps, g in zip(EPS_GRID, got):
        assert _rel_err(g, _mp_bsc(eps)) <= 1e-12, eps


def test_binary_channel_information_endpoints_and_symmetry():
    assert float(binary_channel_information(0.5)) == 0.0
    assert float(binary_channel_information(0.0)) == LN2
    assert float(binary_channel_information(1.0)) == LN2
    eps = np.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(binary_channel_information(eps), binary_channel_information(1 - eps),
                               rtol=1e-13, atol=0)
    # agrees with ln 2 - h2 where that subtraction is harmless
    mid = np.linspace(0.01, 0.3, 20)
    np.testing.assert_allclose(binary_channel_information(mid), LN2 - binary_entropy(mid), rtol=1e-13)


def test_binary_channel_information_jit_grad():
    f = jax.jit(binary_channel_information)
    np.testing.assert_allclose(f(0.2), binary_channel_information(0.2), rtol=1e-15)
    # I'(eps) = -ln((1 - eps)/eps)
    for eps in (0.1, 0.3, 0.45):
        assert float(jax.grad(binary_channel_information)(eps)) == pytest.approx(
            -np.log((1 - eps) / eps), rel=1e-10)


def test_from_snr_matches_mpmath_and_slow_limit():
    ys = np.geomspace(1e-8, 6.0, 60)
    got = np.asarray(binary_channel_information_from_snr(ys))
    for y, g in zip(ys, got):
        u = mp.erf(mp.mpf(float(y)) / mp.sqrt(2))
        ref = ((1 + u) * mp.log1p(u) + (1 - u) * mp.log1p(-u)) / 2
        assert _rel_err(g, ref) <= 1e-12, y
    # slow learning: I = y^2/pi [1 - (1/3 - 1/(3 pi)) y^2 + O(y^4)], to full relative accuracy
    small = np.array([1e-8, 1e-6, 1e-4, 1e-3])
    ratio = np.asarray(binary_channel_information_from_snr(small)) / (small**2 / np.pi)
    assert np.all(np.abs(ratio - 1 + (1 / 3 - 1 / (3 * np.pi)) * small**2) < 1e-14 + small**4)
    # consistent with the eps route where eps = H(y) is representable accurately
    y = np.linspace(0.05, 3.0, 15)
    np.testing.assert_allclose(binary_channel_information_from_snr(y),
                               binary_channel_information(gaussian_tail(y)), rtol=1e-12)


# --------------------------------------------------------------------------------------------
# BIAWGN and Gaussian channel


def _quad_biawgn(s):
    """s^2 - int Dz ln cosh(s^2 + s z) by adaptive quadrature (no cancellation against ln 2)."""

    def f(z):
        y = abs(s * s + s * z)
        lncosh = np.log1p(2 * np.sinh(y / 2) ** 2) if y < 20 else y - np.log(2) + np.log1p(np.exp(-2 * y))
        return lncosh * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)

    val, _ = integrate.quad(f, -40, 40, points=[-s], epsabs=0, epsrel=1e-12, limit=500)
    return s * s - val


def _mp_biawgn(s):
    s = mp.mpf(float(s))
    return mp.quad(lambda z: -mp.log1p(mp.expm1(-2 * s * s - 2 * s * z) / 2) * mp.npdf(z),
                   [-mp.inf, -s, 0, mp.inf])


S_GRID = np.array([1e-6, 1e-3, 0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0])


def test_biawgn_matches_quad():
    got = np.asarray(biawgn_information(S_GRID))
    ref = np.array([_quad_biawgn(s) for s in S_GRID])
    np.testing.assert_allclose(got, ref, rtol=1e-9)


@pytest.mark.parametrize("s", [1e-4, 1e-3, 0.3, 1.0, 4.0])
def test_biawgn_matches_mpmath(s):
    # s = 1e-3 was the old switch-over point, where a rounded grid spacing cost 1.5e-7 relative
    assert _rel_err(biawgn_information(s), _mp_biawgn(s)) <= 1e-13


def test_biawgn_limits_and_symmetry():
    s = np.array([1e-5, 1e-3])
    np.testing.assert_allclose(biawgn_information(s), s**2 / 2 - s**4 / 4, rtol=1e-12)
    assert float(biawgn_information(0.0)) == 0.0
    np.testing.assert_allclose(biawgn_information(-S_GRID), biawgn_information(S_GRID), rtol=0)
    assert float(biawgn_information(10.0)) == pytest.approx(LN2, rel=1e-15)


def test_hard_soft_gaussian_chain():
    # ln2 - h2(H(s)) <= C_BIAWGN(s) <= 1/2 ln(1 + s^2); soft and Gaussian differ first at
    # order s^8 (snr^4: -5/24 vs -1/8), below float64 resolution for s < 0.05
    s = np.geomspace(1e-3, 6.0, 50)
    hard = np.asarray(binary_channel_information_from_snr(s))
    soft = np.asarray(biawgn_information(s))
    gauss = np.asarray(gaussian_channel_information(s**2))
    assert np.all(hard < soft)
    assert np.all(soft <= gauss * (1 + 1e-14))
    assert np.all(soft[s > 0.05] < gauss[s > 0.05])
    # weak-signal ratios: hard/soft -> 2/pi, soft/gauss -> 1
    np.testing.assert_allclose(hard[0] / soft[0], 2 / np.pi, rtol=1e-5)
    np.testing.assert_allclose(soft[0] / gauss[0], 1.0, rtol=1e-5)


def test_gaussian_channel_log1p():
    assert float(gaussian_channel_information(1e-20)) == pytest.approx(5e-21, rel=1e-12)
    assert float(gaussian_channel_information(1.0)) == pytest.approx(0.5 * np.log(2.0), rel=1e-15)


def test_outputs_are_float64_numpy():
    for f, arg in ((binary_channel_information, 0.2), (biawgn_information, 1.0),
                   (binary_channel_information_from_snr, 1.0)):
        out = f(arg)
        assert isinstance(out, np.ndarray) and out.dtype == np.float64


# --------------------------------------------------------------------------------------------
# efficiency flags


def test_efficiency_ok():
    r = efficiency(0.5, 0.3, 0.4)
    assert float(r.efficiency) == pytest.approx(0.5 / 0.7, rel=1e-15)
    assert float(r.margin) == pytest.approx(0.2, rel=1e-14)
    assert bool(r.bound_satisfied) and not bool(r.feedback_uncorrected)
    assert status_name(r.status) == "ok"


def test_efficiency_bound_violated_is_nan_with_status():
    r = efficiency(1.0, 0.3, 0.4)
    assert np.isnan(r.efficiency)
    assert not bool(r.bound_satisfied)
    assert float(r.margin) == pytest.approx(-0.3, rel=1e-14)
    assert status_name(r.status) == "bound_violated"
    # a tolerance lets a margin within atol pass
    r = efficiency(0.7 + 1e-12, 0.3, 0.4, atol=1e-10)
    assert status_name(r.status) == "ok" and np.isfinite(r.efficiency)


def test_efficiency_feedback_is_nan():
    r = efficiency(0.5, 0.3, 0.4, feedback_uncorrected=True)
    assert np.isnan(r.efficiency)
    assert bool(r.bound_satisfied) and bool(r.feedback_uncorrected)
    assert status_name(r.status) == "feedback_uncorrected"


def test_efficiency_no_cost():
    r = efficiency(0.0, 0.0, 0.0)                # t = 0: nothing learnt, nothing paid
    assert np.isnan(r.efficiency)
    assert status_name(r.status) == "no_cost"


def test_efficiency_vectorised_statuses():
    info = np.array([0.5, 1.0, 0.5, 0.0])
    ds = np.array([0.3, 0.3, 0.3, 0.0])
    dq = np.array([0.4, 0.4, 0.4, 0.0])
    fb = np.array([False, False, True, False])
    r = efficiency(info, ds, dq, feedback_uncorrected=fb)
    assert [EFFICIENCY_STATUS[int(c)] for c in r.status] == [
        "ok", "bound_violated", "feedback_uncorrected", "no_cost"]
    assert np.isfinite(r.efficiency[0]) and np.all(np.isnan(r.efficiency[1:]))
    # a scalar flag broadcasts against array inputs
    r = efficiency(info, ds, dq, feedback_uncorrected=True)
    assert r.feedback_uncorrected.shape == (4,) and np.all(np.isnan(r.efficiency))


def test_efficiency_under_jit():
    r = jax.jit(lambda i: efficiency(i, 0.3, 0.4))(jnp.asarray(0.5))
    assert float(r.efficiency) == pytest.approx(0.5 / 0.7)

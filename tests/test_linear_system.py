"""Entropy production of general linear OU systems (physics.md §9): closed forms, references, sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl
from _stats import seed as offset_seed  # the helpers below take a 'seed' argument

from thermoinfer.errors import InputError
from thermoinfer.thermo.linear_system import (
    LinearSystemEP,
    entropy_production_from_trajectories,
    entropy_production_rate,
    kl_rate,
    linear_system_ep,
    steady_covariance,
)


def _random_stable_system(seed, d):
    rng = np.random.default_rng(offset_seed(seed))
    A = rng.normal(size=(d, d))
    A -= (np.max(np.linalg.eigvals(A).real) + 0.4) * np.eye(d)
    M = rng.normal(size=(d, d))
    return A, M @ M.T + 0.3 * np.eye(d)


def _reference(A, D, dt):
    """scipy Lyapunov solve, the trace formula of §9, and the boxed Σ/Σ_r KL formula."""
    d = A.shape[0]
    C = sl.solve_continuous_lyapunov(A, -2 * D)
    sigma = np.trace(A.T @ np.linalg.solve(D, A @ C)) - np.trace(np.linalg.solve(C, D))
    Phi = sl.expm(A * dt)
    S = np.block([[C, C @ Phi.T], [Phi @ C, C]])
    Sr = np.block([[C, Phi @ C], [C @ Phi.T, C]])
    kl = 0.5 * (np.trace(np.linalg.solve(Sr, S)) - 2 * d) / dt
    return C, sigma, kl


def _sample_stationary(A, D, dt, R, K, seed):
    """Exact stationary sampling, independent of thermoinfer (scipy expm and Lyapunov)."""
    rng = np.random.default_rng(offset_seed(seed))
    d = A.shape[0]
    C = sl.solve_continuous_lyapunov(A, -2 * D)
    Phi = sl.expm(A * dt)
    L = np.linalg.cholesky(C - Phi @ C @ Phi.T)  # fine at this moderate dt
    x = np.empty((R, K + 1, d))
    x[:, 0] = rng.normal(size=(R, d)) @ np.linalg.cholesky(C).T
    for i in range(K):
        x[:, i + 1] = x[:, i] @ Phi.T + rng.normal(size=(R, d)) @ L.T
    return x


# --------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k, eps, D0", [(1.0, 0.5, 1.0), (2.3, 1.7, 0.2), (0.4, 0.05, 3.0)])
def test_rotational_trap(k, eps, D0):
    # A + A^T = -2k 1 gives C = (D0/k) 1; Omega = (AC - CA^T)/2 = (D0/k) eps J, so
    # sigma = tr(Omega^T D^-1 Omega C^-1) = (D0/k)^2 2 eps^2 / (D0 * D0/k) = 2 eps^2 / k
    A = np.array([[-k, -eps], [eps, -k]])
    r = linear_system_ep(A, D0, dt=0.1)
    np.testing.assert_allclose(r.steady_covariance, D0 / k * np.eye(2), rtol=1e-13, atol=1e-15)
    assert r.entropy_production_rate == pytest.approx(2 * eps**2 / k, rel=1e-12)
    assert 0 < r.kl_rate_at_dt < r.entropy_production_rate


@pytest.mark.parametrize("k, gamma, T1, T2", [(1.3, 0.7, 2.0, 0.5), (0.5, 2.0, 1.0, 1.1)])
def test_two_bead_chain_between_two_baths(k, gamma, T1, T2):
    A = (k / gamma) * np.array([[-2.0, 1.0], [1.0, -2.0]])
    D = np.diag([T1, T2]) / gamma
    expected = k * (T1 - T2) ** 2 / (4 * gamma * T1 * T2)
    assert entropy_production_rate(A, D) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("a, b, D0", [(0.8, 1.7, 0.3), (2.0, 0.1, 5.0)])
def test_triangular_drift(a, b, D0):
    A = np.array([[-a, 0.0], [b, -a]])
    assert entropy_production_rate(A, D0) == pytest.approx(b**2 / (2 * a), rel=1e-12)


def test_equilibrium_systems_have_zero_entropy_production():
    rng = np.random.default_rng(offset_seed(1))
    for d in (2, 4):
        M = rng.normal(size=(d, d))
        D = M @ M.T + 0.5 * np.eye(d)
        N = rng.normal(size=(d, d))
        Kmat = N @ N.T + 0.5 * np.eye(d)  # A = -D K: detailed balance w.r.t. exp(-x^T K x / 2)
        A = -D @ Kmat
        r = linear_system_ep(A, D, dt=0.3)
        assert abs(r.entropy_production_rate) < 1e-12
        assert abs(r.kl_rate_at_dt) < 1e-12
        np.testing.assert_allclose(r.steady_covariance, np.linalg.inv(Kmat), rtol=1e-10)
    # the Hebbian neuron of §8.1 after shifting by its mean: A = -k 1, D = T 1
    assert abs(entropy_production_rate(-1.7 * np.eye(4), 2.5)) < 1e-14


# --------------------------------------------------------------------------------------------
# random systems against independent references
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d, seed", [(3, 10), (4, 11), (5, 12)])
def test_random_system_against_scipy_reference(d, seed):
    A, D = _random_stable_system(seed, d)
    for dt in (0.05, 0.7):
        C_ref, sigma_ref, kl_ref = _reference(A, D, dt)
        r = linear_system_ep(A, D, dt)
        assert isinstance(r, LinearSystemEP) and r.dt == dt
        np.testing.assert_allclose(r.steady_covariance, C_ref, rtol=1e-10, atol=1e-13)
        assert r.entropy_production_rate == pytest.approx(sigma_ref, rel=1e-9)
        assert r.kl_rate_at_dt == pytest.approx(kl_ref, rel=1e-8)
        assert r.kl_rate_at_dt <= r.entropy_production_rate
    np.testing.assert_allclose(steady_covariance(A, D), C_ref, rtol=1e-10, atol=1e-13)


def test_kl_rate_below_sigma_and_converges_with_order_one():
    A, D = _random_stable_system(20, 3)
    sigma = float(entropy_production_rate(A, D))
    # steps well inside the order-one regime of every random system: at 0.02 the pre-asymptotic
    # dt^2 term of a strongly non-normal draw (sigma ~ 230) bends the slope to 1.18; from 1e-3
    # down the slope is within 0.012 of 1 for 60 seed offsets (the tolerance is 0.05)
    dts = 1e-3 * 2.0 ** -np.arange(5)
    kl_all = kl_rate(A, D, np.concatenate([dts, [0.5, 2.0, 10.0, 1e-7]]))
    kl = kl_all[:5]
    assert np.all(kl_all <= sigma)
    gap = sigma - kl
    slope = np.polyfit(np.log(dts), np.log(gap), 1)[0]
    assert abs(slope - 1.0) < 0.05, slope
    # small steps keep their precision (no C - Phi C Phi^T cancellation)
    assert kl_all[-1] == pytest.approx(sigma, rel=1e-5)


def test_kl_rate_against_high_precision_reference_from_tiny_to_huge_steps():
    """Rotational trap (C = D0/k 1): the boxed Σ/Σ_r formula evaluated with 50-digit mpmath."""
    mp = pytest.importorskip("mpmath")
    k, eps, D0 = 1.0, 0.5, 1.0
    A = [[-k, -eps], [eps, -k]]
    dts = [1e-8, 1e-3, 0.1, 1.0, 10.0, 30.0]
    with mp.workdps(50):
        ref = []
        for dt in dts:
            P = mp.expm(mp.matrix(A) * dt)
            C = mp.eye(2) * (D0 / k)
            S = mp.matrix(4, 4)
            Sr = mp.matrix(4, 4)
            for i in range(2):
                for j in range(2):
                    S[i, j] = S[i + 2, j + 2] = Sr[i, j] = Sr[i + 2, j + 2] = C[i, j]
                    S[i, j + 2] = Sr[i + 2, j] = (C * P.T)[i, j]
                    S[i + 2, j] = Sr[i, j + 2] = (P * C)[i, j]
            M = Sr**-1 * S
            ref.append(float((sum(M[i, i] for i in range(4)) - 4) / 2 / dt))
    np.testing.assert_allclose(kl_rate(A, D0, dts), ref, rtol=1e-9, atol=0)


def test_trajectory_estimate_within_five_standard_errors():
    """Batch-mean SEs of 48 and 24 batches: 5 SE is FAP 8.4e-6 (t_47) and 4.7e-5 (t_23). The
    plug-in rate with a fitted kernel has z = N(-0.14, 1.28) over 40 seed offsets (its SE ignores
    the fitted kernel's error): 5.5 SE, FAP 1.9e-5 from that fit (4 SE gave 1.9e-3)."""
    A, D = _random_stable_system(30, 3)
    dt = 0.2
    target = float(kl_rate(A, D, dt))
    x = _sample_stationary(A, D, dt, R=48, K=300, seed=31)
    est = entropy_production_from_trajectories(x, dt, A, D)
    assert est.kernel == "given" and est.n_batches == 48
    assert est.rate_se > 0
    assert abs(est.rate - target) < 5 * est.rate_se, (est, target)
    # single long trajectory, batch means
    long = _sample_stationary(A, D, dt, R=1, K=12000, seed=32)[0]
    one = entropy_production_from_trajectories(long, dt, A, D, n_batches=24)
    assert one.n_batches == 24
    assert abs(one.rate - target) < 5 * one.rate_se, (one, target)
    # the kernel fitted from the data alone (plug-in)
    fit = entropy_production_from_trajectories(x, dt)
    assert fit.kernel == "fitted"
    assert abs(fit.rate - target) < 5.5 * fit.rate_se, (fit, target)


def test_trajectory_estimate_of_an_equilibrium_system_is_zero_per_path():
    D = np.array([[1.0, 0.2], [0.2, 0.5]])
    A = -D @ np.array([[2.0, 0.3], [0.3, 1.0]])
    x = _sample_stationary(A, D, 0.1, R=3, K=50, seed=40)
    est = entropy_production_from_trajectories(x, 0.1, A, D)
    assert abs(est.rate) < 1e-10 and est.rate_se < 1e-10


# --------------------------------------------------------------------------------------------
# jit and grad
# --------------------------------------------------------------------------------------------


def test_gradients():
    k, eps = 1.3, 0.6

    def sigma(p):
        return entropy_production_rate(jnp.array([[-p[0], -p[1]], [p[1], -p[0]]]), 0.7)

    g = jax.grad(sigma)(jnp.array([k, eps]))
    np.testing.assert_allclose(g, [-2 * eps**2 / k**2, 4 * eps / k], rtol=1e-10)
    A, D = _random_stable_system(50, 2)

    def f(A_):  # eager: the finite differences reuse the compiled kernel
        return kl_rate(A_, D, 0.3)

    gA = jax.grad(f)(jnp.asarray(A))
    h = 1e-6
    for i in range(2):
        for j in range(2):
            E = np.zeros((2, 2))
            E[i, j] = h
            fd = (float(f(A + E)) - float(f(A - E))) / (2 * h)
            assert gA[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: entropy_production_rate([[0.5, 0.0], [0.0, -1.0]], 1.0), "no steady state"),
        (lambda: entropy_production_rate([[0.0, 1.0], [-1.0, 0.0]], 1.0), "no steady state"),
        (lambda: steady_covariance(np.zeros((2, 2)), 1.0), "no steady state"),
        (lambda: entropy_production_rate(-np.eye(2), [[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
        (lambda: entropy_production_rate(-np.eye(2), [[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        (lambda: entropy_production_rate(-np.eye(2), np.eye(3)), "D"),
        (lambda: entropy_production_rate(-np.ones(3), 1.0), "square"),
        (lambda: entropy_production_rate([[np.nan, 0.0], [0.0, -1.0]], 1.0), "NaN"),
        (lambda: kl_rate(-np.eye(2), 1.0, 0.0), "dt"),
        (lambda: linear_system_ep(-np.eye(2), 1.0, dt=-1.0), "dt"),
        (lambda: entropy_production_from_trajectories(np.zeros((10, 2)), 0.1, A=-np.eye(2)),
         "both"),
        (lambda: entropy_production_from_trajectories(np.zeros((10, 2)), 0.1, -np.eye(3), 1.0),
         "dimension"),
    ],
)
def test_bad_input_raises_input_error(call, match):
    with pytest.raises(InputError, match=match):
        call()

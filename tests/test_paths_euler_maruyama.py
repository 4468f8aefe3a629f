"""Euler–Maruyama path weights, the reversed kernel and the log-ratio decomposition (physics.md §8.3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stats import seed
from scipy.stats import multivariate_normal

from thermoinfer.errors import InputError
from thermoinfer.paths import (
    em_log_ratio,
    em_path_log_prob,
    em_path_log_prob_reversed,
    em_transition_log_prob,
)


def _quartic_drift(v):
    """F = -grad U for the double well U = |x|^4/4 - |x|^2/2 + 0.3 x_1 x_2 (smooth, nonlinear)."""
    r2 = jnp.sum(v * v)
    coupling = 0.3 * jnp.array([v[1], v[0]])
    return -(r2 - 1.0) * v - coupling


def _quartic_potential(x):
    r2 = np.sum(x * x, axis=-1)
    return 0.25 * r2**2 - 0.5 * r2 + 0.3 * x[..., 0] * x[..., 1]


_DIFFUSIONS = {
    "scalar": 0.7,
    "diagonal": np.array([0.5, 1.2]),
    "full": np.array([[1.0, 0.3], [0.3, 0.6]]),
}


def _as_matrix(D):
    D = np.asarray(D, dtype=float)
    return D * np.eye(2) if D.ndim == 0 else (np.diag(D) if D.ndim == 1 else D)


@pytest.mark.parametrize("kind", sorted(_DIFFUSIONS))
def test_em_kernels_match_scipy_forward_and_reversed(kind):
    rng = np.random.default_rng(seed(1))
    D = _DIFFUSIONS[kind]
    Dm = _as_matrix(D)
    K = 6
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 0.1, size=K))])
    x = rng.normal(size=(K + 1, 2))
    F = np.array([np.asarray(_quartic_drift(jnp.asarray(v))) for v in x])
    fwd = em_path_log_prob(x, times, _quartic_drift, D)
    rev = em_path_log_prob_reversed(x, times, _quartic_drift, D)
    for i in range(K):
        h = times[i + 1] - times[i]
        ref_f = multivariate_normal(x[i] + h * F[i], 2 * h * Dm).logpdf(x[i + 1])
        ref_r = multivariate_normal(x[i + 1] + h * F[i + 1], 2 * h * Dm).logpdf(x[i])
        assert fwd[i] == pytest.approx(ref_f, rel=1e-11)
        assert rev[i] == pytest.approx(ref_r, rel=1e-11)
    pairs = em_transition_log_prob(x[:-1], x[1:], F[:-1], np.diff(times), D)
    np.testing.assert_allclose(pairs, fwd, rtol=1e-13)


def test_reversed_is_the_same_kernel_on_the_reversed_sequence():
    rng = np.random.default_rng(seed(2))
    K = 7
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 0.1, size=K))])
    x = rng.normal(size=(K + 1, 2))
    rev = em_path_log_prob_reversed(x, times, _quartic_drift, 0.8)
    fwd_of_reversed = em_path_log_prob(x[::-1], times[-1] - times[::-1], _quartic_drift, 0.8)
    np.testing.assert_allclose(rev, fwd_of_reversed[::-1], rtol=1e-13)


@pytest.mark.parametrize("kind", sorted(_DIFFUSIONS))
def test_log_ratio_decomposition_is_exact(kind):
    rng = np.random.default_rng(seed(3))
    D = _DIFFUSIONS[kind]
    Dinv = np.linalg.inv(_as_matrix(D))
    K, dt = 20, 0.05
    x = np.cumsum(rng.normal(size=(3, K + 1, 2)) * 0.2, axis=1)
    r = em_log_ratio(x, dt, _quartic_drift, D)
    fwd = em_path_log_prob(x, dt, _quartic_drift, D, initial_log_prob=0.0)
    rev = em_path_log_prob_reversed(x, dt, _quartic_drift, D, final_log_prob=0.0)
    np.testing.assert_allclose(r.per_step, (fwd - rev)[:, 1:], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.total, r.per_step.sum(-1), rtol=1e-13)
    np.testing.assert_allclose(r.total, r.stratonovich + r.boundary, rtol=1e-13)
    # the boundary term of §8.3, exact on a uniform grid
    F = np.asarray(jax.vmap(jax.vmap(_quartic_drift))(jnp.asarray(x)))
    g = np.einsum("...i,ij,...j->...", F, Dinv, F)
    np.testing.assert_allclose(r.boundary, dt / 4 * (g[:, -1] - g[:, 0]), rtol=1e-12)
    # and the Stratonovich (trapezoid) sum, written out independently
    dx = np.diff(x, axis=1)
    strat = np.einsum("rki,ij,rkj->r", dx, Dinv, 0.5 * (F[:, 1:] + F[:, :-1]))
    np.testing.assert_allclose(r.stratonovich, strat, rtol=1e-12)


def test_log_ratio_tends_to_stratonovich_heat_with_order_one():
    """On the same continuous path sampled ever finer, ln P/P~ -> q/T = -ΔU/T, error O(Δt).

    200 paths: the RMS error is dominated by a few paths, and with 24 the slope over 60 seed
    offsets was 0.96 +- 0.09 (below 0.8 at one of them: FAP 4%) and err[0] reached 0.028. With 200
    it is 0.988 +- 0.024 and err[0] <= 0.011 (log-normal fit: P(err[0] > 0.02) = 2e-8): FAP < 1e-6.
    """
    rng = np.random.default_rng(seed(4))
    T, R, n_fine, t_end = 0.8, 200, 2**12, 1.0
    dt0 = t_end / n_fine
    x = np.empty((R, n_fine + 1, 2))
    x[:, 0] = rng.normal(size=(R, 2)) * 0.7
    drift = jax.jit(jax.vmap(_quartic_drift))
    for i in range(n_fine):
        x[:, i + 1] = x[:, i] + dt0 * np.asarray(drift(x[:, i])) \
            + np.sqrt(2 * T * dt0) * rng.normal(size=(R, 2))
    q_over_T = (_quartic_potential(x[:, 0]) - _quartic_potential(x[:, -1])) / T
    strides = [4, 8, 16, 32, 64]
    err = []
    for s in strides:
        r = em_log_ratio(x[:, ::s], dt0 * s, _quartic_drift, T)
        err.append(np.sqrt(np.mean((r.total - q_over_T) ** 2)))
    slope = np.polyfit(np.log(dt0 * np.array(strides)), np.log(err), 1)[0]
    assert 0.8 < slope < 1.25, (slope, err)
    assert err[0] < 0.02


def test_discrete_em_chain_ift_is_exact_at_large_step():
    """For the EM chain itself, ds = ln p0(x0) - ln pK(xK) + ln P/P~ is the exact log ratio of the
    forward path density p and the reversed one p~ at any Δt (§8.3), so <exp(-ds)>_p = 1.

    exp(-ds) is far too heavy-tailed here (mean ds = 2.3) for a standard-error gate: the plain
    4-SE check of <exp(-ds)> = 1 failed for 15% of seed offsets. The same exactness is tested
    with finite variances: <exp(-ds/2)>_p = <exp(+ds/2)>_p~ (both are ∫ sqrt(p p~); the second
    moments are <exp(-ds)>_p = <exp(ds)>_p~ = 1), with p~ sampled by running the same EM kernel
    from p_K and reversing the paths. Over 400 seed offsets z ~ N(0.04, 0.98), max |z| 3.4.
    """
    rng = np.random.default_rng(seed(5))
    k, eps, D0, h, K, R = 1.0, 0.8, 0.6, 0.2, 8, 40000
    A = np.array([[-k, -eps], [eps, -k]])
    M = np.eye(2) + h * A
    C0 = np.array([[0.5, 0.1], [0.1, 0.3]])
    C = C0.copy()
    for _ in range(K):
        C = M @ C @ M.T + 2 * h * D0 * np.eye(2)
    p0, pK = multivariate_normal(np.zeros(2), C0), multivariate_normal(np.zeros(2), C)

    def chain(start_cov):
        x = np.empty((R, K + 1, 2))
        x[:, 0] = rng.multivariate_normal(np.zeros(2), start_cov, size=R)
        for i in range(K):
            x[:, i + 1] = x[:, i] @ M.T + np.sqrt(2 * h * D0) * rng.normal(size=(R, 2))
        return x

    def log_ratio(x, diffusion=D0):
        r = em_log_ratio(x, h, lambda v: jnp.asarray(A) @ v, diffusion)
        return p0.logpdf(x[:, 0]) - pK.logpdf(x[:, -1]) + np.asarray(r.total)

    fwd = chain(C0)              # p: the EM chain from p0
    rev = chain(C)[:, ::-1]      # p~: the same kernel run from p_K, time-reversed

    def z_score(diffusion=D0):
        a, b = np.exp(-log_ratio(fwd, diffusion) / 2), np.exp(log_ratio(rev, diffusion) / 2)
        return (a.mean() - b.mean()) / np.hypot(a.std(ddof=1), b.std(ddof=1)) * np.sqrt(R)

    z = z_score()
    assert abs(z) < 5, z  # FAP 5.7e-7: two-sided 5 SE Gaussian (finite variances)
    assert log_ratio(fwd).mean() > 0.1  # genuinely irreversible, so the identity is not trivial
    # negative control: the log ratio with the diffusion off by 50% fails by ~11 SE
    assert abs(z_score(1.5 * D0)) > 5


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(seed(6))
    x = np.cumsum(rng.normal(size=(9, 2)) * 0.2, axis=0)
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.02, 0.08, size=8))])

    @jax.jit
    def total(p):
        a, D = p[0], p[1]
        return jnp.sum(em_path_log_prob(x, times, lambda v: -a * v**3 + 0.2, D))

    p0 = np.array([1.3, 0.6])
    g = jax.grad(total)(jnp.asarray(p0))
    for j in range(2):
        e = np.zeros(2)
        e[j] = 1e-6
        fd = (float(total(p0 + e)) - float(total(p0 - e))) / 2e-6
        assert g[j] == pytest.approx(fd, rel=1e-6)


def test_vmap_over_replicas_and_batch_axes_agree():
    rng = np.random.default_rng(seed(7))
    x = rng.normal(size=(4, 6, 2))
    batched = em_path_log_prob(x, 0.1, _quartic_drift, 0.5)
    vm = jax.vmap(lambda xx: em_path_log_prob(xx, 0.1, _quartic_drift, 0.5))(jnp.asarray(x))
    np.testing.assert_allclose(vm, batched, rtol=1e-13)
    assert batched.shape == (4, 5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: em_path_log_prob(np.zeros((4, 2)), 0.1, lambda v: v, np.eye(3)), "diffusion"),
        (lambda: em_path_log_prob(np.zeros((4, 2)), 0.1, lambda v: v, [[1, 2], [2, 1]]),
         "positive definite"),
        (lambda: em_path_log_prob(np.zeros((4, 2)), 0.1, lambda v: v, -1.0), "diffusion"),
        (lambda: em_path_log_prob(np.zeros((4, 2)), 0.1, lambda v: v[:1], 1.0), "drift_fn"),
        (lambda: em_path_log_prob(np.zeros((4, 2)), 0.1, "perceptron", 1.0), "drift_fn"),
        (lambda: em_path_log_prob(np.zeros((4, 2)), -0.1, lambda v: v, 1.0), "> 0"),
        (lambda: em_log_ratio(np.zeros((4, 2)), [0.0, 0.1], lambda v: v, 1.0), "times"),
    ],
)
def test_bad_input_raises_input_error(call, match):
    with pytest.raises(InputError, match=match):
        call()

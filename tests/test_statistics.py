"""Sufficient-statistic likelihoods against the per-transition sums they replace.

Deterministic checks (no false-alarm budget): the statistic form of the exact affine and
isotropic OU log-likelihoods equals the sum of the per-transition log-densities of
:mod:`thermoinfer.paths.linear` to 1e-11 of sum |l_i|, on regular and irregular grids, for
replicas, an offset centre, 10^6 transitions at k dt = 1e-3, and in the gradient. Negative
controls: a drift 1e-5 off, steps 1e-6 off, and the textbook (uncentred, non-increment)
moment form miss that tolerance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stats import seed

from thermoinfer.errors import InputError
from thermoinfer.paths import (
    AffineKernel,
    affine_log_likelihood,
    isotropic_log_likelihood,
    isotropic_statistics,
    linear_transition_log_prob,
    ou_transition_log_prob,
    transition_statistics,
)
from thermoinfer.paths.statistics import SCATTER_CHUNK, group_steps

TOL = 1e-11
A = np.array([[-1.0, -0.7, 0.0], [0.7, -1.0, 0.2], [0.1, -0.3, -2.0]])
D = np.array([[0.5, 0.1, 0.0], [0.1, 0.3, 0.05], [0.0, 0.05, 0.8]])


def _simulate(key, A, b, D, steps, x0):
    """Exact affine paths on a grid (AffineKernel per distinct step): (R, K+1, d)."""
    labels, gdt, _ = group_steps(steps)
    ker = AffineKernel.from_drift(A, b, D, gdt)
    z = jax.random.normal(key, (steps.shape[0],) + x0.shape)

    def step(x, xs):
        i, zi = xs
        x = jax.tree.map(lambda a: a[i], ker).step(x, zi)
        return x, x

    _, path = jax.lax.scan(step, x0, (jnp.asarray(labels), z))
    return np.asarray(jnp.concatenate([x0[None], path]).swapaxes(0, 1))


def _reference(x, steps, A, b, D):
    lp = np.asarray(linear_transition_log_prob(x[:, :-1], x[:, 1:], steps, A, b, D))
    return float(np.sum(lp)), float(np.sum(np.abs(lp)))


def _textbook(x, dt, A, b, D):
    """The moment form without increments or centring (the cancelling one), with plain running
    sums in frame order (what a loop accumulates; ``np.cumsum`` is sequential, so its rounding
    does not depend on the machine's BLAS or SIMD width)."""
    ker = AffineKernel.from_drift(A, b, D, dt)
    Phi, c, S = (np.asarray(a) for a in (ker.Phi, ker.shift, ker.Sigma))
    X, Y = x[:, :-1].reshape(-1, x.shape[-1]), x[:, 1:].reshape(-1, x.shape[-1])
    n = X.shape[0]

    def running(P, Q):
        return np.cumsum(P[:, :, None] * Q[:, None, :], axis=0)[-1]

    Syy, Syx, Sxx = running(Y, Y), running(Y, X), running(X, X)
    r_sum = np.cumsum(Y, axis=0)[-1] - Phi @ np.cumsum(X, axis=0)[-1]
    R = (Syy - Syx @ Phi.T - Phi @ Syx.T + Phi @ Sxx @ Phi.T - np.outer(r_sum, c)
         - np.outer(c, r_sum) + n * np.outer(c, c))
    d = x.shape[-1]
    return float(-0.5 * np.trace(np.linalg.solve(S, R))
                 - 0.5 * n * (np.linalg.slogdet(S)[1] + d * np.log(2 * np.pi)))


def _grids(rng, K):
    return {
        "regular": np.full(K, 0.01),
        "three steps": rng.choice([0.01, 0.02, 0.05], K),
        "random steps": rng.uniform(0.005, 0.02, K),
        "mixed": np.where(rng.random(K) < 0.9, 0.01, rng.uniform(0.005, 0.02, K)),
    }


@pytest.mark.parametrize("grid", ["regular", "three steps", "random steps", "mixed"])
def test_affine_statistics_equal_per_transition_sum(grid):
    with jax.enable_x64(True):
        rng = np.random.default_rng(seed(41))
        steps = _grids(rng, 3000)[grid]
        b = np.array([0.3, -0.2, 0.5])
        x0 = jnp.asarray(rng.normal(size=(3, 3)) + 4.0)  # 3 replicas, off-centre start
        x = _simulate(jax.random.key(seed(42)), A, b, D, steps, x0)
        times = np.concatenate([[0.0], np.cumsum(steps)])
        st = transition_statistics(x, times)
        ref, scale = _reference(x, steps, A, b, D)
        got = float(affine_log_likelihood(st, A, b, D))
    assert st.n_transitions == 3 * 3000
    assert abs(got - ref) <= TOL * scale, (got, ref)
    if grid == "random steps":
        assert st.scattered.dt.shape[0] >= 1 and np.sum(st.count) == 0
        assert st.scattered.dt.shape[1] == SCATTER_CHUNK
    if grid == "three steps":
        assert int(np.sum(st.count > 0)) == 3 and st.scattered.dt.shape[0] == 0


def test_long_series_at_small_k_dt_and_offset_centre():
    """10^6 transitions at k dt = 1e-3 around a centre 50 stationary SDs away: the increment
    form keeps full precision where the textbook moment form loses ~3 digits."""
    with jax.enable_x64(True):
        A2 = np.array([[-1.0, -0.5], [0.5, -1.0]])
        D2 = np.eye(2) * 0.5
        centre = np.array([25.0, -25.0])
        b = -A2 @ centre
        K = 1_000_000
        steps = np.full(K, 1e-3)
        x = _simulate(jax.random.key(seed(5)), A2, b, D2, steps, jnp.asarray(centre)[None])
        st = transition_statistics(x, np.arange(K + 1) * 1e-3)
        ref, scale = _reference(x, 1e-3, A2, b, D2)
        got = float(affine_log_likelihood(st, A2, b, D2))
        assert abs(got - ref) <= TOL * scale, (got - ref) / scale
        # negative controls: a drift 1e-5 off, and the textbook moment form (raw second moments
        # of x_i and x_{i+1}, Phi instead of E), both miss the tolerance
        off = float(affine_log_likelihood(st, A2 * (1 + 1e-5), b, D2))
        assert abs(off - ref) > 100 * TOL * scale
        assert abs(_textbook(x, 1e-3, A2, b, D2) - ref) > 10 * TOL * scale


def test_gradients_agree_and_negative_control_step():
    with jax.enable_x64(True):
        rng = np.random.default_rng(seed(7))
        steps = _grids(rng, 2000)["mixed"]
        b = np.array([0.3, -0.2, 0.5])
        x = _simulate(jax.random.key(seed(8)), A, b, D, steps, jnp.zeros((2, 3)))
        times = np.concatenate([[0.0], np.cumsum(steps)])
        st = transition_statistics(x, times)

        def ref_fn(a):
            return jnp.sum(linear_transition_log_prob(x[:, :-1], x[:, 1:], steps, a, b, D))

        g_ref = np.asarray(jax.grad(ref_fn)(jnp.asarray(A)))
        g = np.asarray(jax.grad(lambda a: affine_log_likelihood(st, a, b, D))(jnp.asarray(A)))
        np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-9 * np.abs(g_ref).max())
        # negative control: steps 1e-6 off (1000 x the grouping tolerance) show
        ref, scale = _reference(x, steps, A, b, D)
        st_bad = transition_statistics(x, np.concatenate([[0.0], np.cumsum(steps * (1 + 1e-6))]))
        bad = float(affine_log_likelihood(st_bad, A, b, D))
        assert abs(bad - ref) > 100 * TOL * scale


def test_statistics_shape_does_not_depend_on_the_length():
    """Sampling programs compiled for one data length serve another (padded group counts)."""
    rng = np.random.default_rng(seed(9))
    shapes = []
    for K in (500, 5000):
        x = rng.normal(size=(2, K + 1, 2))
        st = transition_statistics(x, 0.1)
        shapes.append(jax.tree.map(np.shape, st))
    assert shapes[0] == shapes[1]


def test_group_steps_and_bad_input():
    labels, gdt, counts = group_steps([0.1, 0.2, 0.1 * (1 + 1e-12), 0.2, 0.3])
    assert counts.tolist() == [2, 2, 1] and labels.tolist() == [0, 1, 0, 1, 2]
    np.testing.assert_allclose(gdt, [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="strictly increasing"):
        transition_statistics(np.zeros((1, 3, 2)), [0.0, 0.1, 0.1])
    with pytest.raises(InputError, match="NaN or inf"):
        transition_statistics(np.full((1, 3, 2), np.nan), 0.1)


@pytest.mark.parametrize("regular", [True, False])
def test_isotropic_statistics_equal_per_transition_sum(regular):
    with jax.enable_x64(True):
        rng = np.random.default_rng(seed(13))
        R, K, N = 4, 2000, 30
        k, nu, T = 1.3, 0.7, 0.45
        g = rng.normal(size=N)
        steps = np.full(K, 0.02) if regular else rng.choice([0.01, 0.03], K)
        # exact OU paths
        w = np.empty((R, K + 1, N))
        w[:, 0] = rng.normal(size=(R, N))
        a = np.exp(-k * steps)
        s = np.sqrt(T * (1 - np.exp(-2 * k * steps)) / k)
        for i in range(K):
            w[:, i + 1] = a[i] * w[:, i] + (1 - a[i]) * nu * g / k + s[i] * rng.normal(size=(R, N))
        times = np.concatenate([[0.0], np.cumsum(steps)])
        st = isotropic_statistics(w, times, g)
        lp = np.asarray(ou_transition_log_prob(w[:, :-1], w[:, 1:], steps, k, nu * g, T))
        ref, scale = float(lp.sum()), float(np.abs(lp).sum())
        got = float(isotropic_log_likelihood(st, k, nu, T))
        assert abs(got - ref) <= TOL * scale, (got, ref)
        gk = jax.grad(lambda kk: isotropic_log_likelihood(st, kk, nu, T))(k)
        gk_ref = jax.grad(lambda kk: jnp.sum(ou_transition_log_prob(
            w[:, :-1], w[:, 1:], steps, kk, nu * g, T)))(k)
        np.testing.assert_allclose(float(gk), float(gk_ref), rtol=1e-9)
        # negative control: the learning rate 1e-4 off
        off = float(isotropic_log_likelihood(st, k, nu * (1 + 1e-4), T))
        assert abs(off - ref) > 100 * TOL * scale

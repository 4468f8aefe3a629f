"""Exact affine/OU transitions and path log-probabilities (thermoinfer.paths.linear).

References are computed independently of the Van Loan code: scipy.linalg.expm for Phi,
scipy.integrate.quad_vec for the covariance and shift integrals, scipy.stats for densities.
"""

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl
from _stats import seed as offset_seed  # _rng below takes a 'seed' argument
from scipy.integrate import quad_vec
from scipy.stats import multivariate_normal, norm

from thermoinfer.errors import InputError
from thermoinfer.paths import (
    affine_transition,
    linear_path_log_prob,
    linear_path_log_prob_reversed,
    linear_transition_log_prob,
    ou_path_log_prob,
    ou_path_log_prob_reversed,
    ou_transition_log_prob,
)


def _rng(seed):
    return np.random.default_rng(offset_seed(seed))


def _random_system(rng, d, shift=0.3):
    A = rng.normal(size=(d, d))
    A -= (np.max(np.linalg.eigvals(A).real) + shift) * np.eye(d)
    M = rng.normal(size=(d, d))
    D = M @ M.T + 0.5 * np.eye(d)
    b = rng.normal(size=d)
    return A, b, D


def _reference_transition(A, b, D, dt):
    """Phi by scipy expm, shift and Sigma by adaptive quadrature of their integrals."""
    Phi = sl.expm(A * dt)
    shift = quad_vec(lambda s: sl.expm(A * s) @ b, 0.0, dt, epsabs=0, epsrel=1e-13)[0]
    Sigma = quad_vec(lambda s: sl.expm(A * s) @ (2 * D) @ sl.expm(A * s).T, 0.0, dt,
                     epsabs=0, epsrel=1e-13)[0]
    return Phi, shift, Sigma


# --------------------------------------------------------------------------------------------
# Van Loan transitions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["stable", "unstable", "singular"])
@pytest.mark.parametrize("dt", [1e-3, 0.1, 1.3])
def test_affine_transition_matches_quadrature(kind, dt):
    rng = _rng({"stable": 1, "unstable": 2, "singular": 3}[kind])
    A, b, D = _random_system(rng, 3)
    if kind == "unstable":
        A = A + (np.max(np.abs(np.linalg.eigvals(A).real)) + 0.7) * np.eye(3)
        assert np.max(np.linalg.eigvals(A).real) > 0
    elif kind == "singular":
        A = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])  # nilpotent
    Phi, shift, Sigma = affine_transition(A, b, D, dt)
    Phi_r, shift_r, Sigma_r = _reference_transition(A, b, D, dt)
    # entries that cancel (here one of 1.26 in a matrix of norm 47) carry the rounding of the
    # whole matrix: the tolerance is relative to max|Phi| (it depends on the random system)
    np.testing.assert_allclose(Phi, Phi_r, rtol=1e-12, atol=1e-12 * np.abs(Phi_r).max())
    np.testing.assert_allclose(shift, shift_r, rtol=1e-11, atol=1e-14 * dt)
    np.testing.assert_allclose(Sigma, Sigma_r, rtol=1e-11, atol=1e-13 * np.abs(Sigma_r).max())


def test_zero_drift_is_free_diffusion_exactly():
    D = np.array([[1.0, 0.3], [0.3, 0.4]])
    b = np.array([2.0, -1.0])
    for dt in (1e-8, 0.37, 5.0):
        Phi, shift, Sigma = affine_transition(np.zeros((2, 2)), b, D, dt)
        np.testing.assert_allclose(Phi, np.eye(2), rtol=0, atol=1e-15)
        np.testing.assert_allclose(shift, b * dt, rtol=1e-15)
        np.testing.assert_allclose(Sigma, 2 * D * dt, rtol=1e-15)


def test_van_loan_keeps_precision_at_tiny_steps_where_stationary_shortcut_fails():
    rng = _rng(4)
    A, _, D = _random_system(rng, 3, shift=1.0)
    dt = 1e-8
    _, _, Sigma = affine_transition(A, None, D, dt)
    # the target of the acceptance criterion: 2 D dt to relative 1e-7
    np.testing.assert_allclose(Sigma, 2 * D * dt, rtol=1e-7)
    # sharper: the Taylor series of the integral to third order (remainder ~ (|A| dt)^3)
    AD = A @ D + D @ A.T
    series = 2 * D * dt + AD * dt**2 + (A @ AD + AD @ A.T) * dt**3 / 3
    err_vl = np.abs(Sigma - series).max() / np.abs(series).max()
    assert err_vl < 1e-13
    # negative control: C - Phi C Phi^T cancels catastrophically (~8 of 16 digits lost)
    C = sl.solve_continuous_lyapunov(A, -2 * D)
    Phi = sl.expm(A * dt)
    shortcut = C - Phi @ C @ Phi.T
    err_sc = np.abs(shortcut - series).max() / np.abs(series).max()
    assert err_sc > 1e3 * err_vl and err_sc > 1e-11


def test_large_steps_of_a_stiff_drift_keep_precision():
    """|λ|Δ up to ~400: the doubling of the scaled Van Loan kernel neither overflows nor loses Φ."""
    rng = _rng(41)
    A, b, D = _random_system(rng, 3, shift=1.0)
    A = A - 20.0 * np.diag([1.0, 0.0, 0.0])  # one fast mode
    C = sl.solve_continuous_lyapunov(A, -2 * D)
    shift_inf = -np.linalg.solve(A, b)
    for dt in (2.5, 20.0):
        Phi, shift, Sigma = affine_transition(A, b, D, dt)
        Phi_r = sl.expm(A * dt)
        np.testing.assert_allclose(Phi, Phi_r, rtol=1e-11, atol=1e-300)
        # at large steps the stationary forms are accurate references (no cancellation)
        np.testing.assert_allclose(Sigma, C - Phi_r @ C @ Phi_r.T, rtol=1e-12)
        np.testing.assert_allclose(shift, shift_inf - Phi_r @ shift_inf, rtol=1e-12)


def test_affine_transition_vectorises_over_steps():
    rng = _rng(5)
    A, b, D = _random_system(rng, 2)
    dts = np.array([0.01, 0.2, 1.0])
    Phi, shift, Sigma = affine_transition(A, b, D, dts)
    assert Phi.shape == (3, 2, 2) and shift.shape == (3, 2) and Sigma.shape == (3, 2, 2)
    for i, dt in enumerate(dts):
        P1, s1, S1 = affine_transition(A, b, D, dt)
        np.testing.assert_allclose(Phi[i], P1, rtol=1e-14)
        np.testing.assert_allclose(shift[i], s1, rtol=1e-14)
        np.testing.assert_allclose(Sigma[i], S1, rtol=1e-14)


# --------------------------------------------------------------------------------------------
# general linear paths against scipy.stats
# --------------------------------------------------------------------------------------------


def _irregular_times(rng, K, t0=0.0):
    return t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 0.4, size=K))])


def test_linear_path_log_prob_matches_scipy_on_irregular_grid():
    rng = _rng(6)
    d, K = 3, 6
    A, b, D = _random_system(rng, d)
    times = _irregular_times(rng, K, t0=1.5)
    x = rng.normal(size=(K + 1, d))
    ref = []
    ref_rev = []
    for i in range(K):
        Phi, shift, Sigma = _reference_transition(A, b, D, times[i + 1] - times[i])
        ref.append(multivariate_normal(Phi @ x[i] + shift, Sigma).logpdf(x[i + 1]))
        ref_rev.append(multivariate_normal(Phi @ x[i + 1] + shift, Sigma).logpdf(x[i]))
    p0 = multivariate_normal(np.zeros(d), np.eye(d) * 2.0)
    lp = linear_path_log_prob(x, times, A, b, D, initial_log_prob=p0.logpdf(x[0]))
    assert lp.shape == (K + 1,)
    np.testing.assert_allclose(lp[1:], ref, rtol=1e-10)
    assert lp[0] == pytest.approx(p0.logpdf(x[0]), rel=1e-14)
    lr = linear_path_log_prob_reversed(x, times, A, b, D)
    np.testing.assert_allclose(lr, ref_rev, rtol=1e-10)
    # a callable boundary density gives the same as its value
    lp_c = linear_path_log_prob(x, times, A, b, D,
                                initial_log_prob=lambda v: -0.5 * v @ v / 2.0 - 1.5 * np.log(4 * np.pi))
    np.testing.assert_allclose(lp_c, lp, rtol=1e-13)


def test_reversed_is_forward_kernel_on_the_reversed_sequence():
    rng = _rng(7)
    A, b, D = _random_system(rng, 2)
    K = 5
    times = _irregular_times(rng, K)
    x = rng.normal(size=(K + 1, 2))
    rev = linear_path_log_prob_reversed(x, times, A, b, D)
    fwd_of_reversed = linear_path_log_prob(x[::-1], times[-1] - times[::-1], A, b, D)
    np.testing.assert_allclose(rev, fwd_of_reversed[::-1], rtol=1e-13)


def test_pairs_batches_and_per_step_protocol():
    rng = _rng(8)
    d, K, R = 2, 3, 3
    A, b, D = _random_system(rng, d)
    times = _irregular_times(rng, K)
    x = rng.normal(size=(R, K + 1, d))
    batched = linear_path_log_prob(x, times, A, b, D)
    assert batched.shape == (R, K)
    single = np.stack([linear_path_log_prob(x[r], times, A, b, D) for r in range(R)])
    np.testing.assert_allclose(batched, single, rtol=1e-13)
    vm = jax.vmap(lambda xx: linear_path_log_prob(xx, times, A, b, D))(jnp.asarray(x))
    np.testing.assert_allclose(vm, single, rtol=1e-13)
    pairs = linear_transition_log_prob(x[:, :-1], x[:, 1:], np.diff(times), A, b, D)
    np.testing.assert_allclose(pairs, single, rtol=1e-13)
    # a piecewise-constant protocol: per-step force; each step equals the constant-force kernel
    b_steps = rng.normal(size=(K, d))
    lp = linear_path_log_prob(x[0], times, A, b_steps, D)
    lr = linear_path_log_prob_reversed(x[0], times, A, b_steps, D)
    for i in range(K):
        dt = times[i + 1] - times[i]
        one = linear_path_log_prob(x[0, i:i + 2], dt, A, b_steps[i], D)
        one_r = linear_path_log_prob_reversed(x[0, i:i + 2], dt, A, b_steps[i], D)
        assert lp[i] == pytest.approx(one[0], rel=1e-13)
        assert lr[i] == pytest.approx(one_r[0], rel=1e-13)


def test_uniform_grid_as_times_equals_scalar_step():
    rng = _rng(9)
    A, b, D = _random_system(rng, 2)
    x = rng.normal(size=(7, 2))
    times = 0.25 * np.arange(7)
    np.testing.assert_allclose(linear_path_log_prob(x, times, A, b, D),
                               linear_path_log_prob(x, 0.25, A, b, D), rtol=1e-13)


# --------------------------------------------------------------------------------------------
# isotropic OU fast path
# --------------------------------------------------------------------------------------------


def _potential(w, k, f):
    return 0.5 * k * np.sum(w * w, axis=-1) - w @ f


@pytest.mark.parametrize("grid", ["dt=0.1", "dt=1e-6", "irregular"])
def test_ou_detailed_balance_identity(grid):
    rng = _rng(10)
    N, K, k, T = 7, 12, 1.7, 2.5
    f = rng.normal(size=N)
    if grid == "irregular":
        times = _irregular_times(rng, K)
        steps = np.diff(times)
    else:
        times = float(grid.split("=")[1])
        steps = np.full(K, times)
    # a path sampled with the exact kernel, so the step sizes and displacements are realistic
    w = np.empty((K + 1, N))
    w[0] = rng.normal(size=N) * np.sqrt(T / k)
    for i, h in enumerate(steps):
        m = np.exp(-k * h) * w[i] + (1 - np.exp(-k * h)) * f / k
        w[i + 1] = m + np.sqrt(-T * np.expm1(-2 * k * h) / k) * rng.normal(size=N)
    fwd = ou_path_log_prob(w, times, k, f, T)
    rev = ou_path_log_prob_reversed(w, times, k, f, T)
    U = _potential(w, k, f)
    np.testing.assert_allclose(fwd - rev, (U[:-1] - U[1:]) / T, rtol=0, atol=1e-10)


def test_ou_matches_scipy_and_general_linear_kernel():
    rng = _rng(11)
    N, K, k, T = 4, 5, 0.8, 1.6
    f = rng.normal(size=N)
    times = _irregular_times(rng, K)
    w = rng.normal(size=(K + 1, N))
    lp = ou_path_log_prob(w, times, k, f, T)
    ref = []
    for i in range(K):
        h = times[i + 1] - times[i]
        mean = np.exp(-k * h) * w[i] + (1 - np.exp(-k * h)) * f / k
        sd = np.sqrt(T * (1 - np.exp(-2 * k * h)) / k)
        ref.append(norm.logpdf(w[i + 1], mean, sd).sum())
    np.testing.assert_allclose(lp, ref, rtol=1e-11)
    general = linear_path_log_prob(w, times, -k * np.eye(N), f, T * np.eye(N))
    np.testing.assert_allclose(lp, general, rtol=1e-11)
    pairs = ou_transition_log_prob(w[:-1], w[1:], np.diff(times), k, f, T)
    np.testing.assert_allclose(pairs, lp, rtol=1e-14)


def test_ou_zero_and_negative_stiffness_are_exact():
    w = np.array([[0.0, 1.0], [0.3, 0.7], [0.2, 0.9]])
    f = np.array([1.0, -2.0])
    # k = 0: free diffusion with drift f
    lp0 = ou_path_log_prob(w, 0.2, 0.0, f, 1.5)
    ref0 = [norm.logpdf(w[i + 1], w[i] + 0.2 * f, np.sqrt(2 * 1.5 * 0.2)).sum() for i in range(2)]
    np.testing.assert_allclose(lp0, ref0, rtol=1e-13)
    # k < 0 (unstable) agrees with the Van Loan kernel
    lpn = ou_path_log_prob(w, 0.2, -0.9, f, 1.5)
    np.testing.assert_allclose(lpn, linear_path_log_prob(w, 0.2, 0.9 * np.eye(2), f, 1.5), rtol=1e-12)


@pytest.mark.parametrize("T", [1.0, 0.4])
def test_hebbian_log_ratio_equals_total_entropy_production_on_every_path(T):
    """ln P/P~ with p0 = N(0, T/k) and p_t = N(m_t, T/k) is Δs_tot of physics.md §8.1 (§10.7)."""
    rng = _rng(12)
    N, K, R, k = 20, 8, 400, 1.3
    f = rng.normal(size=N) * 0.4
    times = _irregular_times(rng, K)
    t = times[-1] - times[0]
    w = np.empty((R, K + 1, N))
    w[:, 0] = rng.normal(size=(R, N)) * np.sqrt(T / k)
    for i, h in enumerate(np.diff(times)):
        m = np.exp(-k * h) * w[:, i] + (1 - np.exp(-k * h)) * f / k
        w[:, i + 1] = m + np.sqrt(-T * np.expm1(-2 * k * h) / k) * rng.normal(size=(R, N))
    m_t = -np.expm1(-k * t) * f / k

    def log_gauss(mean):
        return lambda v: -0.5 * k / T * jnp.sum((v - mean) ** 2) - 0.5 * N * np.log(2 * np.pi * T / k)

    fwd = ou_path_log_prob(w, times, k, f, T, initial_log_prob=log_gauss(0.0))
    rev = ou_path_log_prob_reversed(w, times, k, f, T, final_log_prob=log_gauss(m_t))
    log_ratio = (fwd - rev).sum(-1)
    ds_tot = (0.5 * k * m_t @ m_t + np.exp(-k * t) * w[:, -1] @ f - w[:, 0] @ f) / T
    np.testing.assert_allclose(log_ratio, ds_tot, rtol=0, atol=1e-9)
    # and its distribution: N(ΔQ/T, 2ΔQ/T) exactly (a loose 4.5-SE check of the mean with the
    # exact SE: FAP 6.8e-6)
    dq = f @ f * (-np.expm1(-2 * k * t)) / (2 * k * T)
    assert abs(log_ratio.mean() - dq) < 4.5 * np.sqrt(2 * dq / R)


def test_ou_per_step_protocol_and_reversed_protocol():
    rng = _rng(13)
    N, K = 3, 6
    times = _irregular_times(rng, K)
    k = rng.uniform(0.5, 2.0, size=K)
    T = rng.uniform(0.5, 2.0, size=K)
    f = rng.normal(size=(K, N))
    w = rng.normal(size=(2, K + 1, N))
    fwd = ou_path_log_prob(w, times, k, f, T)
    rev = ou_path_log_prob_reversed(w, times, k, f, T)
    for i in range(K):
        h = times[i + 1] - times[i]
        one = ou_path_log_prob(w[:, i:i + 2], h, k[i], f[i], T[i])
        np.testing.assert_allclose(fwd[:, i], one[:, 0], rtol=1e-13)
        # step-wise detailed balance with the potential of that step
        U0, U1 = _potential(w[:, i], k[i], f[i]), _potential(w[:, i + 1], k[i], f[i])
        np.testing.assert_allclose(fwd[:, i] - rev[:, i], (U0 - U1) / T[i], atol=1e-11)


def test_ou_vmap_jit_and_batch_axes_agree():
    rng = _rng(14)
    w = rng.normal(size=(5, 9, 6))
    f = rng.normal(size=6)
    batched = ou_path_log_prob(w, 0.05, 1.1, f, 0.7)
    fn = jax.jit(jax.vmap(lambda ww, k: ou_path_log_prob(ww, 0.05, k, f, 0.7), in_axes=(0, None)))
    np.testing.assert_allclose(fn(jnp.asarray(w), 1.1), batched, rtol=1e-13)


# --------------------------------------------------------------------------------------------
# gradients against central finite differences
# --------------------------------------------------------------------------------------------


def _central_fd(fn, x0, h):
    return (fn(x0 + h) - fn(x0 - h)) / (2 * h)


def test_ou_gradients_match_finite_differences():
    rng = _rng(15)
    N, K = 5, 10
    times = _irregular_times(rng, K)
    w = rng.normal(size=(K + 1, N))
    direction = rng.normal(size=N)
    params = np.array([1.3, 0.7, 1.8])  # k, nu, T

    @jax.jit
    def total(p):
        k, nu, T = p[0], p[1], p[2]
        return jnp.sum(ou_path_log_prob(w, times, k, nu * direction, T))

    g = jax.grad(total)(jnp.asarray(params))
    for j in range(3):
        e = np.zeros(3)
        e[j] = 1.0
        fd = _central_fd(lambda s: float(total(jnp.asarray(params + s * e))), 0.0, 1e-5)
        assert g[j] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_linear_gradients_wrt_matrix_entries_match_finite_differences():
    rng = _rng(16)
    d, K = 2, 6
    A, b, D = _random_system(rng, d)
    times = _irregular_times(rng, K)
    x = rng.normal(size=(K + 1, d))

    def total(A_, D_):  # eager: the finite differences reuse the compiled kernel
        return jnp.sum(linear_path_log_prob(x, times, A_, b, D_))

    gA, gD = jax.grad(total, argnums=(0, 1))(jnp.asarray(A), jnp.asarray(D))
    h = 1e-6
    for i in range(d):
        for j in range(d):
            E = np.zeros((d, d))
            E[i, j] = h
            fdA = (float(total(A + E, D)) - float(total(A - E, D))) / (2 * h)
            assert gA[i, j] == pytest.approx(fdA, rel=1e-6, abs=1e-7)
    # D enters symmetrised; perturb symmetric pairs and compare with the directional derivative
    for i in range(d):
        for j in range(i, d):
            E = np.zeros((d, d))
            E[i, j] = E[j, i] = h
            fdD = (float(total(A, D + E)) - float(total(A, D - E))) / (2 * h)
            assert float(jnp.sum(gD * E / h)) == pytest.approx(fdD, rel=1e-6, abs=1e-7)


# --------------------------------------------------------------------------------------------
# bad input, float64 guarantee
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: linear_path_log_prob(np.zeros((4, 2)), 0.1, np.eye(3), None, 1.0), "A"),
        (lambda: linear_path_log_prob(np.zeros((4, 2)), 0.1, -np.eye(2), None, [[1, 2], [2, 1]]),
         "positive definite"),
        (lambda: linear_path_log_prob(np.zeros((4, 2)), [0, 1, 2], -np.eye(2), None, 1.0), "times"),
        (lambda: linear_path_log_prob(np.zeros((4, 2)), [0, 1, 1, 2], -np.eye(2), None, 1.0),
         "> 0"),
        (lambda: linear_path_log_prob(np.zeros((1, 2)), 0.1, -np.eye(2), None, 1.0), "two time"),
        (lambda: linear_path_log_prob(np.full((3, 2), np.nan), 0.1, -np.eye(2), None, 1.0), "NaN"),
        (lambda: ou_path_log_prob(np.zeros((3, 2)), 0.1, 1.0, [1.0, 2.0, 3.0], 1.0), "force"),
        (lambda: ou_path_log_prob(np.zeros((3, 2)), 0.1, 1.0, 0.0, -1.0), "temperature"),
        (lambda: ou_path_log_prob(np.zeros((3, 2)), 0.1, [1.0, 2.0, 3.0], 0.0, 1.0), "stiffness"),
    ],
)
def test_bad_input_raises_input_error(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_float64_without_global_x64_in_a_fresh_process():
    code = textwrap.dedent(
        f"""
        import numpy as np, jax
        assert not jax.config.jax_enable_x64
        from thermoinfer.paths import ou_path_log_prob, ou_path_log_prob_reversed
        rng = np.random.default_rng({offset_seed(0)})
        w = np.cumsum(rng.normal(size=(6, 3)) * 1e-3, axis=0) + 0.3
        f = np.array([0.2, -0.1, 0.4])
        fwd = ou_path_log_prob(w, 1e-6, 1.2, f, 2.0)
        rev = ou_path_log_prob_reversed(w, 1e-6, 1.2, f, 2.0)
        U = 0.6 * (w * w).sum(-1) - w @ f
        assert fwd.dtype == np.float64, fwd.dtype
        assert np.max(np.abs(fwd - rev - (U[:-1] - U[1:]) / 2.0)) < 1e-10
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

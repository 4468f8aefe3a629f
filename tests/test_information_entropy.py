"""Entropy change of the weights at finite N: the three Hebbian conventions and replica estimators.

Known answers first (orthogonal Hadamard inputs, physics.md §3.3 and §10.1), then the theorems
(ordering, leading order), then Monte Carlo checks gated by their own standard errors.
"""

import itertools
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stats import seed
from scipy import integrate
from scipy import special as sps
from scipy.linalg import hadamard
from scipy.stats import chi2, norm

from thermoinfer.errors import InputError
from thermoinfer.information import (
    LN2,
    EntropyEstimate,
    annealed_entropy_change,
    biawgn_information,
    binary_channel_information,
    exact_mixture_entropy_change,
    gaussian_logdet_entropy_change,
    hebbian_pattern_errors,
    isotropic_gaussian_entropy_change,
    quenched_gaussian_entropy_change,
)
from thermoinfer.information import entropy as entropy_module


def _pm1(key, shape):
    return np.asarray(jax.random.rademacher(key, shape, dtype=jnp.float64))


# --------------------------------------------------------------------------------------------
# closed forms


def test_annealed_reference_value():
    # physics.md §10.1: alpha = 0.5, nu = k = T = 1, t -> inf (c = 1): Delta S_a / N = 0.202733
    assert float(annealed_entropy_change(100, 50, 1.0)) / 100 == pytest.approx(0.202733, abs=5e-7)
    # per weight it depends on P/N only, and on c, k, T only through x = k c^2 / T
    a = annealed_entropy_change(1000, 500, 0.5, stiffness=2.0, temperature=0.5)
    b = annealed_entropy_change(1000, 500, 1.0)
    np.testing.assert_allclose(a, b, rtol=1e-15)


def test_annealed_small_signal_and_broadcasting():
    c = np.array([1e-9, 1e-6, 1e-3])
    out = annealed_entropy_change(100, 30, c)
    np.testing.assert_allclose(out, 30 * c**2 / 2, rtol=2e-3)           # P x / 2 (1 + O(x))
    assert out.shape == (3,) and out.dtype == np.float64
    np.testing.assert_allclose(out[0], 30 * 1e-18 / 2, rtol=1e-12)      # log1p keeps digits


def test_quenched_orthogonal_inputs_exact():
    xi = hadamard(32)[:12]
    for c, k, t in [(0.1, 1.0, 1.0), (1.0, 1.0, 1.0), (3.0, 2.0, 0.5)]:
        x = k * c * c / t
        got = float(quenched_gaussian_entropy_change(xi, c, stiffness=k, temperature=t))
        assert got == pytest.approx(12 / 2 * np.log1p(x), rel=1e-12)


@pytest.mark.parametrize("shape", [(6, 20), (20, 6)])
def test_quenched_equals_gaussian_logdet(key, shape):
    # 1/2 log det(1 + x Xi^T Xi / N) computed directly in N dimensions, for P < N and P > N
    xi = _pm1(jax.random.fold_in(key, shape[0]), shape)
    p, n = shape
    c, k, t = 0.7, 1.3, 0.8
    x = k * c * c / t
    ref = 0.5 * np.linalg.slogdet(np.eye(n) + x * xi.T @ xi / n)[1]
    assert float(quenched_gaussian_entropy_change(xi, c, stiffness=k, temperature=t)) == pytest.approx(ref, rel=1e-12)


def test_quenched_batched_jit_vmap(key):
    xs = _pm1(key, (5, 8, 16))
    c = 0.9
    one_by_one = np.array([quenched_gaussian_entropy_change(x, c) for x in xs])
    np.testing.assert_allclose(quenched_gaussian_entropy_change(xs, c), one_by_one, rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(lambda x: quenched_gaussian_entropy_change(x, c))(xs),
                               one_by_one, rtol=1e-13)
    np.testing.assert_allclose(jax.jit(quenched_gaussian_entropy_change)(xs, c), one_by_one, rtol=1e-13)
    # signal broadcasts against the batch: (3, 1) x (5,) -> (3, 5)
    cs = np.array([[0.1], [1.0], [2.0]])
    assert quenched_gaussian_entropy_change(xs, cs).shape == (3, 5)


# --------------------------------------------------------------------------------------------
# exact mixture


@pytest.mark.parametrize("c", [0.2, 1.0, 2.5])
def test_exact_mixture_orthogonal_inputs(key, c):
    # physics.md §3.3 anchor: Delta S_c = P C_BIAWGN(sqrt x) for P orthogonal inputs
    p = 8
    xi = hadamard(16)[:p]
    est, se = exact_mixture_entropy_change(jax.random.fold_in(key, int(100 * c)), xi, c, n_samples=2048)
    exact = p * float(biawgn_information(c))
    assert 0 < float(se) < 0.02 * exact
    assert abs(float(est) - exact) < 4.5 * float(se)  # FAP 6.8e-6 (2048 samples, 4.5 SE)


def test_exact_mixture_temperature_enters_through_x(key):
    xi = hadamard(8)[:5]
    a = exact_mixture_entropy_change(key, xi, 0.6, stiffness=2.0, temperature=3.0, n_samples=1024)
    b = exact_mixture_entropy_change(key, xi, 0.6 * np.sqrt(2.0 / 3.0), n_samples=1024)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    est, se = exact_mixture_entropy_change(key, xi, 0.0, n_samples=1024)
    assert float(est) == 0.0 and float(se) == 0.0


def test_exact_mixture_standard_error_is_honest(key):
    # 60 independent estimates around a known answer: sum of z^2 ~ chi^2_60
    p, c = 4, 0.8
    xi = jnp.asarray(hadamard(8)[:p], dtype=float)
    exact = p * float(biawgn_information(c))
    keys = jax.random.split(jax.random.fold_in(key, 7), 60)
    est, se = jax.vmap(lambda k: exact_mixture_entropy_change(k, xi, c, n_samples=1024))(keys)
    z = (np.asarray(est) - exact) / np.asarray(se)
    assert chi2.ppf(1e-5, 60) < np.sum(z**2) < chi2.ppf(1 - 1e-5, 60)  # FAP 2 x 1e-5


def test_exact_mixture_control_variates_reduce_error(key):
    xi = jnp.asarray(_pm1(key, (6, 12)))
    for c in (0.3, 1.0):
        s = c  # k = T = 1
        _, se_cv = entropy_module._exact_mixture(key, xi, s, n_samples=2048, control_variates=True)
        _, se_plain = entropy_module._exact_mixture(key, xi, s, n_samples=2048, control_variates=False)
        assert float(se_cv) < 0.7 * float(se_plain)


def test_exact_mixture_signature_and_limits(key):
    xi = _pm1(key, (21, 30))
    with pytest.raises(InputError, match="n_patterns.*21.*quenched_gaussian"):
        exact_mixture_entropy_change(key, xi, 1.0)
    with pytest.raises(InputError, match="n_samples"):
        exact_mixture_entropy_change(key, xi[:3], 1.0, n_samples=2)
    with pytest.raises(InputError, match="signal"):
        exact_mixture_entropy_change(key, xi[:3], np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="stiffness"):
        exact_mixture_entropy_change(key, xi[:3], 1.0, stiffness=0.0)
    with pytest.raises(InputError, match="inputs"):
        exact_mixture_entropy_change(key, xi[0], 1.0)
    with pytest.raises(InputError, match="inputs"):
        exact_mixture_entropy_change(key, np.full((3, 4), np.nan), 1.0)
    est, se = exact_mixture_entropy_change(key, xi[:3], 1.0, n_samples=64)   # a 2-tuple
    assert isinstance(est, np.ndarray) and est.dtype == np.float64 and est.shape == ()


def test_exact_mixture_rank_deficient_gram(key):
    # P = 2N: a Hadamard matrix stacked twice, G = [[1, 1], [1, 1]]. Each direction carries
    # X = sigma_a + sigma_b in {-2, 0, 2} w.p. (1/4, 1/2, 1/4): Delta S_c = N I(sX + Z; X)
    n, c = 4, 0.9
    xi = np.vstack([hadamard(n), hadamard(n)])

    def mix(y):
        return (0.25 * norm.pdf(y - 2 * c) + 0.5 * norm.pdf(y) + 0.25 * norm.pdf(y + 2 * c))

    h_y, _ = integrate.quad(lambda y: -mix(y) * np.log(mix(y)), -30, 30, epsabs=1e-13, limit=200)
    exact = n * (h_y - 0.5 * np.log(2 * np.pi * np.e))
    est, se = exact_mixture_entropy_change(jax.random.fold_in(key, 9), xi, c, n_samples=2048)
    assert abs(float(est) - exact) < 4.5 * float(se)  # FAP 6.8e-6
    assert float(est) < float(quenched_gaussian_entropy_change(xi, c))


# --------------------------------------------------------------------------------------------
# per-pattern errors and the ordering of the conventions


def test_pattern_errors_orthogonal_and_brute_force(key):
    # orthogonal inputs: eps = H(sqrt x); sum I_mu = P [ln 2 - h2(H(sqrt x))]
    xi = hadamard(16)[:6]
    c = 0.8
    eps = hebbian_pattern_errors(xi, c)
    np.testing.assert_allclose(eps, norm.sf(c), rtol=1e-13)
    info = float(np.sum(binary_channel_information(eps)))
    e0 = norm.sf(c)
    assert info == pytest.approx(6 * (LN2 - sps.entr(e0) - sps.entr(1 - e0)), rel=1e-12)
    # random inputs: direct average over all 2^P label vectors
    p, n, k, t = 5, 7, 1.5, 0.7
    xi = _pm1(key, (p, n))
    g = xi @ xi.T / n
    ref = np.zeros(p)
    for sig in itertools.product([-1.0, 1.0], repeat=p):
        sig = np.array(sig)
        mean = c * sig * (g @ sig)                       # sigma_mu <A_mu>
        ref += norm.sf(mean / np.sqrt(t / k * np.diag(g)))
    ref /= 2**p
    np.testing.assert_allclose(hebbian_pattern_errors(xi, c, stiffness=k, temperature=t), ref, rtol=1e-12)


def test_pattern_errors_match_simulation(key):
    # sample omega ~ N(c Xi^T sigma / sqrt N, T/k) in N dimensions and count sign errors
    p, n, c, reps = 6, 10, 0.9, 20000
    xi = _pm1(jax.random.fold_in(key, 1), (p, n))
    ks, kw = jax.random.split(jax.random.fold_in(key, 2))
    sig = np.asarray(jax.random.rademacher(ks, (reps, p), dtype=jnp.float64))
    w = c * sig @ xi / np.sqrt(n) + np.asarray(jax.random.normal(kw, (reps, n)))
    err = (np.sign(w @ xi.T / np.sqrt(n)) != sig).mean(axis=0)
    eps = hebbian_pattern_errors(xi, c)
    se = np.sqrt(eps * (1 - eps) / reps)
    assert np.all(np.abs(err - eps) < 4.5 * se)  # FAP 6 x 6.8e-6 (binomial counts of 20 000)


def test_conventions_ordering_and_where_they_differ(key):
    p, n = 10, 20
    xi = _pm1(jax.random.fold_in(key, 3), (p, n))
    for c in (0.3, 1.0, 3.0):
        est, se = exact_mixture_entropy_change(jax.random.fold_in(key, int(10 * c)), xi, c, n_samples=2048)
        est, se = float(est), float(se)
        quenched = float(quenched_gaussian_entropy_change(xi, c))
        annealed = float(annealed_entropy_change(n, p, c))
        info = float(np.sum(binary_channel_information(hebbian_pattern_errors(xi, c))))
        # theorems: sum I_mu <= Delta S_c <= Delta S_b <= Delta S_a, and Delta S_c <= P ln 2;
        # one-sided 4.5-SE gates on a strict inequality: FAP < 3.4e-6 each
        assert info < est + 4.5 * se
        assert est - 4.5 * se < quenched <= annealed
        assert est < p * LN2
        if c == 3.0:  # large nu: the three conventions differ by far more than the error
            assert quenched - est > 50 * se and annealed - quenched > 1.0
            assert est > info + 50 * se


def test_conventions_agree_at_small_signal(key):
    # leading order P x / 2 for all three, with O(x) relative differences
    p, n, c = 8, 16, 0.05
    x = c * c
    xi = _pm1(jax.random.fold_in(key, 4), (p, n))
    est, se = exact_mixture_entropy_change(key, xi, c, n_samples=2048)
    lead = p * x / 2
    for val in (float(est), float(quenched_gaussian_entropy_change(xi, c)),
                float(annealed_entropy_change(n, p, c))):
        assert abs(val / lead - 1) < 3 * p * x
    assert float(se) < 1e-3 * lead
    # the per-pattern information is smaller by the binarisation factor 2/pi
    info = float(np.sum(binary_channel_information(hebbian_pattern_errors(xi, c))))
    assert info / lead == pytest.approx(2 / np.pi, rel=0.05)


# --------------------------------------------------------------------------------------------
# replica estimators


def test_isotropic_estimator_on_gaussian_samples(key):
    n_rep, n_w, v, k, t = 3000, 40, 2.5, 2.0, 0.5
    w = np.sqrt(v) * np.asarray(jax.random.normal(key, (n_rep, n_w)))
    r = isotropic_gaussian_entropy_change(w, stiffness=k, temperature=t)
    assert isinstance(r, EntropyEstimate) and r.method == "isotropic_gaussian"
    truth = n_w / 2 * np.log(v * k / t)
    assert abs(float(r.estimate) - truth) < 4.5 * float(r.standard_error)  # FAP 6.8e-6
    # batched: 200 independent sets, z-scores standard normal
    ws = np.sqrt(v) * np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (200, 50, n_w)))
    rb = isotropic_gaussian_entropy_change(ws, stiffness=k, temperature=t)
    z = (rb.estimate - truth) / rb.standard_error
    assert rb.estimate.shape == (200,)
    assert abs(np.mean(z)) < 4.5 / np.sqrt(200)  # FAP 6.8e-6
    assert chi2.ppf(1e-5, 200) < np.sum(z**2) < chi2.ppf(1 - 1e-5, 200)  # FAP 2 x 1e-5


def test_logdet_bias_formula_by_simulation(key):
    # E[ln det S_hat] - ln det Sigma = sum psi((n-i)/2) + N ln(2/(n-1)); Var = sum psi'((n-i)/2)
    reps, n_rep, n_w = 2000, 14, 6
    x = np.asarray(jax.random.normal(key, (reps, n_rep, n_w)))
    xc = x - x.mean(axis=1, keepdims=True)
    s = np.einsum("rni,rnj->rij", xc, xc) / (n_rep - 1)
    logdet = np.linalg.slogdet(s)[1]
    bias, var = entropy_module._logdet_bias_and_variance(n_rep, n_w)
    assert abs(np.mean(logdet) - bias) < 4.5 * np.sqrt(var / reps)  # FAP 6.8e-6
    # the sample variance of 2000 values with excess kurtosis 0.079 has relative SD 0.0322: 0.15
    # is 4.65 SD (FAP 3.3e-6; at 0.12, 3.7 SD, it was 2e-4)
    assert np.var(logdet, ddof=1) == pytest.approx(var, rel=0.15)


def test_logdet_estimator_on_gaussian_samples(key):
    n_rep, n_w = 60, 40                  # bias of the naive estimate: 12.5 standard errors
    a = np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (n_w, n_w))) / np.sqrt(n_w)
    sigma = 0.5 * np.eye(n_w) + a @ a.T
    chol = np.linalg.cholesky(sigma)
    k, t = 1.5, 0.8
    truth = 0.5 * (np.linalg.slogdet(sigma)[1] + n_w * np.log(k / t))
    w = 1.0 + np.asarray(jax.random.normal(jax.random.fold_in(key, 2), (n_rep, n_w))) @ chol.T
    r = gaussian_logdet_entropy_change(w, stiffness=k, temperature=t)
    assert r.method == "gaussian_logdet"
    assert abs(float(r.estimate) - truth) < 4.5 * float(r.standard_error)  # FAP 6.8e-6
    # without the bias correction the same samples are far off: the correction matters
    wc = w - w.mean(axis=0)
    naive = 0.5 * (np.linalg.slogdet(wc.T @ wc / (n_rep - 1))[1] + n_w * np.log(k / t))
    assert abs(naive - truth) > 6 * float(r.standard_error)
    # batched z-scores over 200 independent sets: sum z^2 ~ chi^2_200
    ws = np.asarray(jax.random.normal(jax.random.fold_in(key, 3), (200, n_rep, n_w))) @ chol.T
    rb = gaussian_logdet_entropy_change(ws, stiffness=k, temperature=t)
    z = (rb.estimate - truth) / rb.standard_error
    assert abs(np.mean(z)) < 4.5 / np.sqrt(200)  # FAP 6.8e-6
    assert chi2.ppf(1e-5, 200) < np.sum(z**2) < chi2.ppf(1 - 1e-5, 200)  # FAP 2 x 1e-5


def test_replica_estimators_bad_input(key):
    w = np.asarray(jax.random.normal(key, (10, 10)))
    with pytest.raises(InputError, match="n_replicas.*11"):
        gaussian_logdet_entropy_change(w)
    with pytest.raises(InputError, match="n_replicas"):
        gaussian_logdet_entropy_change(np.ones((11, 10)))
    with pytest.raises(InputError, match="n_replicas"):
        isotropic_gaussian_entropy_change(w[:1])
    with pytest.raises(InputError, match="weights"):
        isotropic_gaussian_entropy_change(w[0])
    bad = w.copy()
    bad[3, 3] = np.nan
    with pytest.raises(InputError, match="weights"):
        isotropic_gaussian_entropy_change(bad)
    with pytest.raises(InputError, match="temperature"):
        isotropic_gaussian_entropy_change(w, temperature=-1.0)


def test_float64_without_global_x64():
    # the public entry points compute in float64 even when the caller runs JAX in 32-bit mode
    code = f"""
import jax, numpy as np
from scipy.linalg import hadamard
import thermoinfer.information as ti
assert not jax.config.jax_enable_x64
xi = hadamard(8)[:4]
r = ti.exact_mixture_entropy_change(jax.random.key({seed(0)}), xi, 0.7, n_samples=1024)
out = [*r, ti.quenched_gaussian_entropy_change(xi, 0.7), ti.annealed_entropy_change(8, 4, 0.7),
       ti.hebbian_pattern_errors(xi, 0.7), ti.information_from_counts(3, 10).information,
       ti.gaussian_logdet_entropy_change(np.random.default_rng({seed(0)}).normal(size=(30, 5))).estimate]
assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in out)
print(repr(float(r[0])))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    xi = hadamard(8)[:4]
    est, _ = exact_mixture_entropy_change(jax.random.key(seed(0)), xi, 0.7, n_samples=1024)
    assert float(res.stdout.strip()) == float(est)

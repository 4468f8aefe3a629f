"""numpyro distributions of the dynamics: log_prob is the paths-layer density, sample has its law.

Truth first (identity with the single path density, a brute-force joint Gaussian for the Kalman
filter), then Monte Carlo laws gated at 5 standard errors (false-alarm probabilities in tests/README.md).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
import scipy.linalg as sla
from _stats import seed
from numpyro.infer import Predictive, log_likelihood
from scipy.stats import multivariate_normal

import thermoinfer.paths
from thermoinfer.dynamics import NeuronParams, learning_force, total_force
from thermoinfer.errors import InputError
from thermoinfer.inference.distributions import (
    LearningNeuronTransitions,
    LinearOUReadouts,
    LinearOUTransitions,
    time_steps,
)
from thermoinfer.paths import (
    em_path_log_prob,
    linear_path_log_prob,
    ou_path_log_prob,
    ou_transition_log_prob,
)

N, P = 4, 3
K_, NU, T = 1.3, 0.7, 0.8  # stiffness, learning rate, temperature


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(seed(7))
    inputs = rng.choice([-1.0, 1.0], size=(P, N))
    labels = np.array([1.0, -1.0, 1.0])
    times = np.array([0.0, 0.1, 0.25, 0.3, 0.7, 1.0])  # irregular
    return inputs, labels, times


def _path(key, inputs, labels, times, rule, R=3):
    w0 = math.sqrt(T / K_) * jax.random.normal(jax.random.fold_in(key, 99), (R, N))
    d = LearningNeuronTransitions(w0, times, inputs, labels, rule, K_, NU, T)
    return w0, d, d.sample(key)


def test_time_steps_validates_and_detects_uniform_grids():
    assert time_steps(np.linspace(0.0, 1.0, 11)) == (pytest.approx(0.1, rel=1e-15), 10)
    with pytest.raises(InputError, match="strictly increasing"):
        time_steps([0.0, 0.2, 0.2])
    with pytest.raises(InputError, match="at least two"):
        time_steps([0.0])
    with pytest.raises(InputError, match="NaN or inf"):
        time_steps([0.0, np.nan])


def test_hebbian_log_prob_is_the_exact_ou_path_density(key, data):
    inputs, labels, times = data
    w0, d, w = _path(key, inputs, labels, times, "hebbian")
    assert d.calculus == "exact" and d.path_weights == "exact_ou"
    assert d.batch_shape == (3, 5) and d.event_shape == (N,) and w.shape == (3, 5, N)
    lp = d.log_prob(w)
    path = jnp.concatenate([w0[:, None], w], axis=1)
    f = learning_force(jnp.zeros(N), jnp.asarray(inputs), jnp.asarray(labels),
                       thermoinfer.get_rule("hebbian"), NU)
    ref = ou_path_log_prob(path, times, K_, f, T)  # the path form, another code path
    assert lp.shape == (3, 5)
    np.testing.assert_allclose(lp, ref, rtol=0, atol=1e-12)


def test_euler_maruyama_log_prob_is_the_em_path_density(key, data):
    inputs, labels, times = data
    w0, d, w = _path(key, inputs, labels, times, "perceptron")
    assert d.calculus == "ito_pre_point" and d.path_weights == "euler_maruyama"
    path = jnp.concatenate([w0[:, None], w], axis=1)
    rule = thermoinfer.get_rule("perceptron")

    def drift(v):
        return total_force(v, jnp.asarray(inputs), jnp.asarray(labels), rule,
                           NeuronParams(K_, NU, T))

    ref = em_path_log_prob(path, times, drift, T)
    np.testing.assert_allclose(d.log_prob(w), ref, rtol=0, atol=1e-12)


def test_changing_the_path_density_changes_the_likelihood(key, data, monkeypatch):
    inputs, labels, times = data
    w0, d, w = _path(key, inputs, labels, times, "hebbian")
    lp = np.asarray(d.log_prob(w))
    wrong_T = LearningNeuronTransitions(w0, times, inputs, labels, "hebbian", K_, NU, 1.5 * T)
    # max, not min: one of the 15 terms crosses zero by chance (|diff| < 1e-3 with ~1% chance)
    assert np.max(np.abs(np.asarray(wrong_T.log_prob(w)) - lp)) > 1e-3
    # the likelihood goes through thermoinfer.paths at call time: one source of truth
    monkeypatch.setattr(thermoinfer.paths, "ou_transition_log_prob",
                        lambda *a, **k: 0.5 * ou_transition_log_prob(*a, **k))
    np.testing.assert_allclose(d.log_prob(w), 0.5 * lp, rtol=1e-12)


def test_method_choice_and_bad_input(data):
    inputs, labels, times = data
    w0 = np.zeros((2, N))
    d = LearningNeuronTransitions(w0, times, inputs, labels, "hebbian", K_, NU, T,
                                  method="euler_maruyama")
    assert d.calculus == "ito_pre_point"
    with pytest.raises(InputError, match="depends on the activation"):
        LearningNeuronTransitions(w0, times, inputs, labels, "adatron", K_, NU, T,
                                  method="exact_ou")
    with pytest.raises(InputError, match="inputs must have shape"):
        LearningNeuronTransitions(w0, times, inputs[:, :2], labels, "hebbian", K_, NU, T)
    with pytest.raises(InputError, match="method must be one of"):
        LearningNeuronTransitions(w0, times, inputs, labels, "hebbian", K_, NU, T, method="rk4")


def test_predictive_hebbian_final_weights_have_the_exact_law(key, data):
    """From p_0 = N(0, T/k), the weights at t are N(m_t, T/k), m_t = (1 - e^{-kt}) f / k."""
    inputs, labels, times = data
    R = 4000

    def model():
        w0 = numpyro.sample("w0", dist.Normal(0.0, math.sqrt(T / K_)).expand((R, N)).to_event(2))
        numpyro.sample("obs", LearningNeuronTransitions(w0, times, inputs, labels, "hebbian",
                                                        K_, NU, T))

    draws = Predictive(model, num_samples=1)(key)
    w_t = np.asarray(draws["obs"][0, :, -1])
    f = np.asarray(learning_force(jnp.zeros(N), jnp.asarray(inputs), jnp.asarray(labels),
                                  thermoinfer.get_rule("hebbian"), NU))
    m_t = -np.expm1(-K_ * times[-1]) / K_ * f
    var = T / K_
    z_mean = (w_t.mean(0) - m_t) / math.sqrt(var / R)
    z_var = (w_t.var(0, ddof=1) - var) / (var * math.sqrt(2.0 / (R - 1)))
    assert np.all(np.abs(z_mean) < 5), z_mean  # FAP 4 x 5.7e-7: exact Gaussian, 5 SE
    assert np.all(np.abs(z_var) < 5), z_var  # FAP 4 x 1.1e-6: chi2_3999, 5 SE
    # negative control: the same draws reject a law with T/k off by 20% (z ~ -7.5 each)
    z_wrong = (w_t.var(0, ddof=1) - 1.2 * var) / (1.2 * var * math.sqrt(2.0 / (R - 1)))
    assert np.any(np.abs(z_wrong) > 5), z_wrong


def test_euler_maruyama_sample_is_the_kernel_it_weighs(key, data):
    """One EM step from a fixed point: N(w + h F_tot(w), 2 T h), h = the observation step."""
    inputs, labels, _ = data
    R, h = 4000, 0.05
    # pattern 0 is misclassified whatever the random data (sigma_0 a_0 <= 1.4 - 3 < 0): the
    # AdaTron force is on (a fixed w alone classified every pattern at some seed offsets)
    w = np.array([0.9, -0.4, 1.2, 0.3]) - 1.5 * labels[0] * inputs[0]
    d = LearningNeuronTransitions(np.tile(w, (R, 1)), [0.0, h], inputs, labels, "adatron",
                                  K_, NU, T)
    x = np.asarray(d.sample(key))[:, 0]
    F = np.asarray(total_force(jnp.asarray(w), jnp.asarray(inputs), jnp.asarray(labels),
                               thermoinfer.get_rule("adatron"), NeuronParams(K_, NU, T)))
    var = 2 * T * h
    assert np.any(np.abs(F + K_ * w) > 0.1)  # the learning force matters
    z_mean = (x.mean(0) - (w + h * F)) / math.sqrt(var / R)
    z_var = (x.var(0, ddof=1) - var) / (var * math.sqrt(2.0 / (R - 1)))
    assert np.all(np.abs(z_mean) < 5), z_mean  # FAP 4 x 5.7e-7: exact Gaussian, 5 SE
    assert np.all(np.abs(z_var) < 5), z_var  # FAP 4 x 1.1e-6: chi2_3999, 5 SE
    # negative control: a kernel with variance T h (the factor 2 of 2 T h dropped) is rejected
    z_wrong = (x.var(0, ddof=1) - var / 2) / (var / 2 * math.sqrt(2.0 / (R - 1)))
    assert np.any(np.abs(z_wrong) > 5), z_wrong


def test_likelihood_in_a_model_has_one_term_per_transition(key, data):
    inputs, labels, times = data
    w0, d, w = _path(key, inputs, labels, times, "hebbian", R=2)
    path = np.concatenate([np.asarray(w0)[:, None], np.asarray(w)], axis=1)

    def model(obs=None):
        k = numpyro.sample("k", dist.LogNormal(0.0, 1.0))
        numpyro.sample("obs", LearningNeuronTransitions(obs[:, 0], times, inputs, labels,
                                                        "hebbian", k, NU, T), obs=obs[:, 1:])

    ks = jnp.array([0.5, 1.3, 2.0])
    ll = log_likelihood(model, {"k": ks}, obs=path)["obs"]
    assert ll.shape == (3, 2, 5)  # (draw, replica, time)
    np.testing.assert_allclose(ll[1], d.log_prob(w), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# linear OU

A2 = np.array([[-1.0, -0.6], [0.4, -0.8]])
D2 = np.array([[0.5, 0.1], [0.1, 0.3]])
B2 = np.array([0.2, -0.1])


def test_linear_ou_log_prob_is_the_affine_path_density(key):
    times = np.array([0.0, 0.05, 0.3, 0.35, 1.0])
    x0 = np.array([[0.3, -0.2], [1.0, 0.5]])
    d = LinearOUTransitions(x0, times, A2, D2, force=B2)
    x = d.sample(key)
    assert x.shape == (2, 4, 2) and d.calculus == "exact"
    ref = linear_path_log_prob(jnp.concatenate([x0[:, None], x], axis=1), times, A2, B2, D2)
    np.testing.assert_allclose(d.log_prob(x), ref, rtol=0, atol=1e-12)


def test_linear_ou_sample_has_the_exact_one_step_law(key):
    R, h = 6000, 0.4
    x0 = np.array([0.5, -1.0])
    d = LinearOUTransitions(np.tile(x0, (R, 1)), [0.0, h], A2, D2, force=B2)
    x = np.asarray(d.sample(key))[:, 0]
    Phi = sla.expm(A2 * h)
    mean = Phi @ x0 + np.linalg.solve(A2, (Phi - np.eye(2)) @ B2)
    C = sla.solve_continuous_lyapunov(A2, -2 * D2)
    Sigma = C - Phi @ C @ Phi.T
    se = np.sqrt(np.diag(Sigma) / R)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se)  # FAP 2 x 5.7e-7: exact Gaussian, 5 SE
    cov = np.cov(x.T)
    se_cov = np.sqrt((Sigma**2 + np.outer(np.diag(Sigma), np.diag(Sigma))) / R)
    assert np.all(np.abs(cov - Sigma) < 5 * se_cov)  # FAP 3 x 1.1e-6: 3 distinct entries, 5 SE
    # negative control: the stationary covariance C is not the one-step covariance
    assert np.max(np.abs(cov - C) / se_cov) > 5


# ---------------------------------------------------------------------------------------------
# Kalman read-outs


def _joint_readout_log_prob(y, times, A, D, b, C, r, m0, P0):
    """Brute force: y_0..y_K jointly Gaussian; kernel by expm and the stationary Lyapunov form."""
    K = len(times) - 1
    d = A.shape[0]
    Cinf = sla.solve_continuous_lyapunov(A, -2 * D)
    Phis, means, covs = [], [m0], [P0]
    for h in np.diff(times):
        Phi = sla.expm(A * h)
        Phis.append(Phi)
        means.append(Phi @ means[-1] + np.linalg.solve(A, (Phi - np.eye(d)) @ b))
        covs.append(Phi @ covs[-1] @ Phi.T + Cinf - Phi @ Cinf @ Phi.T)
    big = np.zeros(((K + 1) * d, (K + 1) * d))
    for i in range(K + 1):
        prop = covs[i]
        for j in range(i, K + 1):
            if j > i:
                prop = Phis[j - 1] @ prop
            big[j * d:(j + 1) * d, i * d:(i + 1) * d] = prop
            big[i * d:(i + 1) * d, j * d:(j + 1) * d] = prop.T
    H = np.kron(np.eye(K + 1), C)
    M = C.shape[0]
    mu = H @ np.concatenate(means)
    S = H @ big @ H.T + r**2 * np.eye((K + 1) * M)
    flat = y.reshape(-1)
    cum = [multivariate_normal(mu[:(j + 1) * M], S[:(j + 1) * M, :(j + 1) * M]).logpdf(flat[:(j + 1) * M])
           for j in range(K + 1)]
    return np.diff(cum)  # ln p(y_{j} | y_{<j}), j = 1..K


def test_kalman_terms_are_the_one_step_predictive_densities(key):
    times = np.array([0.0, 0.2, 0.25, 0.9, 1.0, 1.6])
    C = np.array([[1.0, 0.5], [-0.3, 0.8], [0.2, 0.1]])
    r, m0, P0 = 0.3, np.array([0.1, -0.2]), np.array([[0.6, 0.1], [0.1, 0.4]])
    y0 = np.array([[0.2, -0.1, 0.4], [0.0, 0.3, -0.2]])
    d = LinearOUReadouts(y0, times, A2, D2, C, r, force=B2, state_mean=m0, state_cov=P0)
    y = np.asarray(d.sample(key))
    assert y.shape == (2, 5, 3) and d.calculus == "exact"
    lp = np.asarray(d.log_prob(y))
    for rep in range(2):
        full = np.concatenate([y0[rep][None], y[rep]])
        ref = _joint_readout_log_prob(full, times, A2, D2, B2, C, r, m0, P0)
        np.testing.assert_allclose(lp[rep], ref, rtol=0, atol=1e-9)


def test_kalman_with_exact_readouts_reduces_to_the_ou_transition_density(key, data):
    inputs, labels, times = data
    f = np.asarray(learning_force(jnp.zeros(N), jnp.asarray(inputs), jnp.asarray(labels),
                                  thermoinfer.get_rule("hebbian"), NU))
    w0, d, w = _path(key, inputs, labels, times, "hebbian")
    kal = LinearOUReadouts(w0, times, -K_ * np.eye(N), T * np.eye(N), np.eye(N), 1e-7,
                           force=f, state_cov=(T / K_) * np.eye(N))
    np.testing.assert_allclose(kal.log_prob(w), d.log_prob(w), rtol=0, atol=1e-8)

r"""Localization noise in ``linear-ou``: the Kalman marginal likelihood and the fit that uses it.

Observation model: $\boldsymbol y_i = \boldsymbol x(t_i) + \boldsymbol\xi_i$,
$\boldsymbol\xi_i\sim\mathcal N(0, \mathrm{diag}\,s^2)$, the latent path $\boldsymbol x$ integrated out
(:mod:`thermoinfer.paths.kalman`).

* **Likelihood.** As $s\to0$ the Kalman marginal tends to the noise-free exact OU likelihood
  (steady first point and exact Van Loan transitions); the steady-state forms (fast, complete,
  auto) agree with the sequential filter, the fast level within its stated error bound; the
  steady-state covariance is the fixed point of the sequential Riccati recursion; the model's
  factor from statistics equals its frame-by-frame sites. Deterministic (tolerances of rounding).
* **Acceptance.** The rotational trap $A = -\begin{pmatrix}k & -\varepsilon\\ \varepsilon & k\end{pmatrix}$,
  $k = 1$, $\varepsilon = 0.5$, $D = 1$, observed every $\Delta t = 0.1$ for $10^5$ frames
  through noise of SD $s = 0.35$ per component (0.35 of the stationary SD; the step displacement
  $\sqrt{2D\Delta t}$ is 0.447). Fitted by :func:`thermoinfer.inference.fit.fit` without the noise
  option the entropy-production rate is biased low, far outside its interval; with
  ``localization_noise=True`` the posterior covers the true $\sigma$ and $s$.

The exact EP rate of the rotational trap (:func:`thermoinfer.thermo.linear_system.entropy_production_rate`
against a closed form): with $A = -(k\mathbb 1 + \varepsilon J_0)$, $J_0 = \begin{pmatrix}0&-1\\1&0\end{pmatrix}$
(a rotation of rate $\varepsilon$ about a trap of stiffness $k$) and $D\mathbb 1$, the Lyapunov
equation $AC + CA^\top = -2D\mathbb 1$ is solved by $C = (D/k)\mathbb 1$
($J_0 + J_0^\top = 0$), so the stationary SD is $\sqrt{D/k}$, and since
$A^\top A = k^2\mathbb 1 + k\varepsilon(J_0 + J_0^\top) + \varepsilon^2J_0^\top J_0 = (k^2 + \varepsilon^2)\mathbb 1$,

$$\sigma = \mathrm{tr}(A^\top D^{-1}AC) - \mathrm{tr}(C^{-1}D) = \frac{2(k^2 + \varepsilon^2)}{k} - 2k
= \frac{2\varepsilon^2}{k} = 0.5\ \text{nats per unit time.}$$

The FAP of each gate is in tests/README.md.
"""

import warnings

import jax
import numpy as np
import pytest
from _stats import seed
from numpyro.infer.util import log_density
from scipy.stats import multivariate_normal

from thermoinfer.data.observations import make_observations, simulate_linear_ou
from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
from thermoinfer.inference.fit import fit
from thermoinfer.inference.registry import load_model
from thermoinfer.paths import (
    affine_transition,
    kalman_log_prob,
    linear_path_log_prob,
    localization_log_likelihood,
    localization_statistics,
)
from thermoinfer.paths.kalman import FAST_ATOL, steady_state_error_bound, steady_state_filter
from thermoinfer.thermo.linear_system import entropy_production_rate, steady_covariance

K_TRAP, EPS, D_TRAP, DT = 1.0, 0.5, 1.0, 0.1
A_TRAP = -np.array([[K_TRAP, -EPS], [EPS, K_TRAP]])
B0 = np.zeros(2)
D_MAT = D_TRAP * np.eye(2)
NOISE_SD = 0.35 * np.sqrt(D_TRAP / K_TRAP)   # 0.35 of the stationary SD, per component
FRAMES = 100_000
Z_MAX = 4.5                      # |z| gates of the acceptance fit, FAP fap_z(4.5) each
DIVERGENCE_RATE_MAX = 0.005      # sampler health: divergent transitions per kept draw


def _noisy_paths(n_frames, n_replicas, sd, data_seed):
    """Exact rotational-trap paths and the same paths plus N(0, sd²) noise per component."""
    times = np.arange(n_frames) * DT
    x = simulate_linear_ou(A_TRAP, D_TRAP, times, n_replicas=n_replicas,
                           seed=seed(data_seed))["observations"].values
    y = x + sd * np.random.default_rng(seed(data_seed + 1)).standard_normal(x.shape)
    return times, x, y


def _noise_free_log_likelihood(x, times):
    """ln N(x_0; 0, C) + Σ ln p(x_{i+1} | x_i): the steady, noise-free exact OU likelihood."""
    C = np.asarray(steady_covariance(A_TRAP, D_MAT))
    first = multivariate_normal(np.zeros(2), C).logpdf(x[:, 0])
    return float(np.sum(first) + np.sum(linear_path_log_prob(x, times, A_TRAP, B0, D_MAT)))


# ------------------------------------------------------------------------------- likelihood


def test_true_ep_rate_is_the_closed_form():
    """σ = 2ε²/k and C = (D/k)·1 (module docstring), to rounding."""
    assert float(entropy_production_rate(A_TRAP, D_TRAP)) == pytest.approx(
        2 * EPS**2 / K_TRAP, rel=1e-12)
    np.testing.assert_allclose(steady_covariance(A_TRAP, D_MAT), D_TRAP / K_TRAP * np.eye(2),
                               rtol=1e-12, atol=1e-14)


def test_kalman_likelihood_tends_to_the_noise_free_ou_likelihood():
    """With s = 1e-6 the Kalman marginal (sequential filter per frame, and every method from the
    statistics) equals the noise-free exact likelihood to 1e-6 nats (the difference is
    O(N s² / (2DΔt)) ≈ 1e-9 here); the per-frame terms after the first equal the exact transition
    log-densities to 1e-8. Control: s = 1e-3 moves the value by more than 1e-5 nats (the O(s²)
shift is about 2e-4 here), so the 1e-6 tolerance separates the two."""
    times, x, _ = _noisy_paths(400, 2, 0.0, 11)
    exact = _noise_free_log_likelihood(x, times)
    terms = np.asarray(kalman_log_prob(x, times, A_TRAP, B0, D_MAT, 1e-6))
    np.testing.assert_allclose(terms[:, 1:], linear_path_log_prob(x, times, A_TRAP, B0, D_MAT),
                               rtol=0, atol=1e-8)
    assert abs(terms.sum() - exact) < 1e-6
    stats = localization_statistics(x, times)
    for method in ("sequential", "complete", "auto"):
        value = float(localization_log_likelihood(stats, A_TRAP, B0, D_MAT, 1e-6, method=method))
        assert abs(value - exact) < 1e-6, (method, value - exact)
    noisy = float(np.sum(kalman_log_prob(x, times, A_TRAP, B0, D_MAT, 1e-3)))
    assert abs(noisy - exact) > 1e-5


def test_steady_state_covariance_is_the_fixed_point_of_the_sequential_filter():
    """The predicted covariance of the sequential (Riccati) recursion, started at the steady
    covariance C, converges to the steady-state filter's P̄ (to 1e-12 relative after 200 steps;
    the recursion contracts by about ρ(M)² per step), and S, K, M, G follow from it."""
    Phi, _, Sigma = (np.asarray(a) for a in affine_transition(A_TRAP, B0, D_MAT, DT))
    s = np.array([NOISE_SD, 0.6 * NOISE_SD])
    R = np.diag(s * s)
    P = np.asarray(steady_covariance(A_TRAP, D_MAT))
    for _ in range(200):
        K = P @ np.linalg.inv(P + R)
        P = Phi @ ((np.eye(2) - K) @ P) @ Phi.T + Sigma
    f = steady_state_filter(Phi, Sigma, s)
    np.testing.assert_allclose(f.P, P, rtol=1e-12)
    np.testing.assert_allclose(f.S, P + R, rtol=1e-12)
    K = P @ np.linalg.inv(P + R)
    np.testing.assert_allclose(f.K, K, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(f.M, Phi @ (np.eye(2) - K), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(f.G, Phi @ K, rtol=1e-10, atol=1e-14)


def test_steady_state_likelihood_agrees_with_the_sequential_filter():
    """3000 noisy frames × 2 replicas (s = 0.35, 0.21): the fast, complete and auto levels equal
    the sequential filter to 1e-7 nats (of about 1.1e4; rounding is ~1e-11); with few lags kept
    (complete level off) the fast level's error stays within steady_state_error_bound, and
    ``auto`` falls back to the sequential value where the bound exceeds FAST_ATOL."""
    times, _, y = _noisy_paths(3000, 2, NOISE_SD, 12)
    s = np.array([NOISE_SD, 0.6 * NOISE_SD])
    stats = localization_statistics(y, times)
    assert stats.complete and stats.has_fast_level
    seq = float(localization_log_likelihood(stats, A_TRAP, B0, D_MAT, s, method="sequential"))
    assert seq == pytest.approx(float(np.sum(kalman_log_prob(y, times, A_TRAP, B0, D_MAT, s))),
                                abs=1e-7)
    for method in ("fast", "complete", "auto"):
        value = float(localization_log_likelihood(stats, A_TRAP, B0, D_MAT, s, method=method))
        assert abs(value - seq) < 1e-7, (method, value - seq)
    for lags in (8, 16):
        short = localization_statistics(y, times, max_lags=lags, complete_max=0)
        assert short.has_fast_level and not short.complete
        fast = float(localization_log_likelihood(short, A_TRAP, B0, D_MAT, s, method="fast"))
        bound = float(steady_state_error_bound(short, A_TRAP, B0, D_MAT, s))
        assert bound > FAST_ATOL  # the truncation is real: the check below has teeth
        assert abs(fast - seq) <= bound + 1e-7, (lags, fast - seq, bound)
        auto = float(localization_log_likelihood(short, A_TRAP, B0, D_MAT, s, method="auto"))
        assert abs(auto - seq) < 1e-7, (lags, auto - seq)


def test_model_factor_from_statistics_equals_the_frame_by_frame_sites():
    """linear-ou with localization_noise: the joint log density with ``obs_kalman``
    (statistics) equals the one with ``obs`` + ``obs_initial`` (observations), to 1e-7 nats, at
    a parameter point away from the truth (the priors are the same in both)."""
    module = load_model("linear-ou")
    times, _, y = _noisy_paths(600, 2, NOISE_SD, 13)
    point = {"covariance_scale": np.array([0.9, 1.2]), "diffusion_scale": np.array([1.1, 0.8]),
             "covariance_corr": np.array([[1.0, 0.0], [0.3, np.sqrt(1 - 0.09)]]),
             "diffusion_corr": np.array([[1.0, 0.0], [-0.2, np.sqrt(1 - 0.04)]]),
             "circulation": np.array([0.4]), "localization_sd": np.array([0.3, 0.4])}

    with jax.enable_x64(True):
        from_stats = log_density(module.model, (times,), dict(
            statistics=localization_statistics(y, times), localization_noise=True), point)[0]
        from_frames = log_density(module.model, (times, y), dict(localization_noise=True),
                                  point)[0]
    assert float(from_stats) == pytest.approx(float(from_frames), abs=1e-7)


# ------------------------------------------------------------------------------- acceptance


@pytest.fixture(scope="module")
def noisy_fits():
    """The noisy rotational trap (10⁵ frames) fitted without and with the noise option, 2
    sequential chains each. The misspecified noise-free fit gets 1000 warmup steps (cheap
    without the Kalman factor): after 300, one chain of offset 2 was still stuck at σ ≈ 2 with
    20% divergences; the noise fit gets 400."""
    times, _, y = _noisy_paths(FRAMES, 1, NOISE_SD, 41)
    obs = make_observations(y, times)
    out = {}
    for name, options, warmup, draws in (("plain", {}, 1000, 200),
                                          ("noise", {"localization_noise": True}, 400, 300)):
        with warnings.catch_warnings():
            # R-hat just above 1.01 at a few hundred draws is possible; health is checked below
            warnings.simplefilter("ignore", PoorDiagnosticsWarning)
            out[name] = fit(obs, "linear-ou", chains=2, draws=draws, warmup=warmup,
                            seed=seed(0), options=options, posterior_predictive=False)
    return out


def _z_log(draws, truth):
    """(mean ln draw − ln truth) / sd ln draw: the truth's z in the posterior (normal approx.)."""
    ln = np.log(np.asarray(draws, dtype=float))
    return float((ln.mean() - np.log(truth)) / ln.std(ddof=1))


def _health(tree):
    div = tree["sample_stats"]["diverging"].values
    assert div.mean() < DIVERGENCE_RATE_MAX, f"{int(div.sum())} divergent of {div.size} draws"


@pytest.mark.slow
def test_noise_free_fit_of_noisy_data_excludes_the_true_ep_rate(noisy_fits):
    """Negative control: ignoring noise of 0.35 stationary SD biases σ low (to about 0.24 of
    0.5: the noise decorrelates consecutive frames, read as a stiffer trap). The 90% interval
    excludes the truth and its z on the log scale is below -4.5; z measured -11.28 ± 0.87 at
    offsets 0-4. FAP fap_outside(-inf, -4.5, -11.28, 0.87) + fap_outside(-inf, -1.645, -11.28,
    0.87) = 3.3e-15."""
    tree = noisy_fits["plain"]
    _health(tree)
    sigma = 2 * EPS**2 / K_TRAP
    draws = tree["thermodynamics"]["entropy_production_rate"].values.ravel()
    lo, hi = np.quantile(draws, [0.05, 0.95])
    z = _z_log(draws, sigma)
    assert not lo <= sigma <= hi, f"90% interval [{lo:.3g}, {hi:.3g}] covers sigma = {sigma}"
    assert z < -Z_MAX, f"z = {z:.2f}: the noise-free fit is not decisively biased"


@pytest.mark.slow
def test_localization_noise_fit_covers_the_true_ep_rate_and_noise_sd(noisy_fits):
    """With ``localization_noise=True``: |z| < 4.5 for ln σ and for ln s of each component
    (normal approximation of the posterior, log scale). The 15 z-scores of offsets 0-4 are
    0.35 ± 1.08 (a calibrated posterior gives 0 ± 1, FAP fap_z(4.5, m=3) = 2.0e-5); with the
    measured law the FAP is fap_outside(-4.5, 4.5, 0.35, 1.08, m=3) = 1.9e-4."""
    tree = noisy_fits["noise"]
    _health(tree)
    sigma = float(entropy_production_rate(A_TRAP, D_TRAP))
    z = {"sigma": _z_log(tree["thermodynamics"]["entropy_production_rate"].values.ravel(),
                         sigma)}
    sd = tree["posterior"]["localization_sd"].values.reshape(-1, 2)
    for i in range(2):
        z[f"s_{i}"] = _z_log(sd[:, i], NOISE_SD)
    assert all(abs(v) < Z_MAX for v in z.values()), z

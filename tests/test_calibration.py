r"""Calibration of the ``neuron`` model with the exact (Hebbian OU) likelihood under NUTS.

* Simulation-based calibration: 100 data sets drawn from the model program itself (prior →
  first points → exact OU path, N = 3 weights, 2 replicas × 150 transitions); the ranks of k, ν,
  D = μT and of the window entropy production among 99 thinned posterior draws are uniform
  (χ², p > 1e-5). A negative control (the D draws scaled by 1.1) fails the same test.
* Coverage on the first 50 data sets: the 90% intervals contain the truth in 34–50 cases and are
  on average at most half as wide as the prior's, for each parameter and the derived quantity.
  (The equal-tailed 90% interval of 99 draws covers an exchangeable truth with probability
  0.8819, not 0.9: linear interpolation between order statistics.)
* Exact conditional posteriors: with exact OU transitions r_i = ω_{i+1} − e^{−kΔ}ω_i is Gaussian
  with mean b_i ν g (b_i = (1 − e^{−kΔ})/k, g = Σ_μ σ_μ ξ_μ/√N) and covariance D c_i 𝟙
  (c_i = (1 − e^{−2kΔ})/k). Hence, conditioned on the first points,

      ν | k, D, data  ~  N(m, 1/λ) truncated to ν > 0 (HalfNormal(s) prior):
          λ = |g|² Σ b_i²/(D c_i) + 1/s²,   m = Σ b_i g·r_i/(D c_i) / λ;
      D | k, ν, data  ~  InverseGamma(α + n/2, β + SS/2) (InverseGamma(α, β) prior):
          n = R K N,  SS = Σ |r_i − b_i ν g|²/c_i.

  NUTS on the model program with the other parameters fixed (numpyro ``condition``) matches
  the quantiles and the 90% width of these within 4.5 Monte Carlo standard errors; negative
  controls (D likelihood off by 10%, ν precision off by 20%) fail by more (32 000 ν draws, so
  that the 20% precision error is ~10 standard errors away, not ~5).

False-alarm probabilities (tests/README.md): SBC 4 × 1.8e-5 (exact multinomial law of the rank
counts), coverage 4 × 3.5e-5 (binomial, p = 0.8819), conditional quantiles 36 × 6.8e-6.

One sampler per case is compiled once (:class:`~thermoinfer.inference.calibration.CompiledNUTS`)
and reused for every data set (fixed shapes).
"""

import jax
import numpy as np
import pytest
from _stats import seed
from numpyro import handlers
from scipy import stats

from thermoinfer.inference.calibration import (
    CompiledNUTS,
    interval_coverage,
    prior_simulator,
    rank_uniformity,
    sbc_ranks,
)
from thermoinfer.inference.registry import load_model

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("calibration")]

N, P, R, K, DT = 3, 3, 2, 150, 0.05
TIMES = np.arange(K + 1) * DT
STATIC = dict(rule="hebbian", method="auto", temperature=None)
PARAMS = ("stiffness", "learning_rate", "diffusion")
DERIVED = "mean_entropy_production"
N_SETS, L, THIN = 100, 99, 4
QS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
DIVERGENCE_RATE_MAX = 0.005  # sampler health: divergent transitions per kept draw
P_MIN = 1e-5  # SBC χ² gate; FAP 1.8e-5 per quantity (exact: fap_chi2_counts(1e-5, 100, 10))
COVERED_MIN = 34  # of 50; FAP 3.5e-5 per quantity (fap_binomial_below(34, 50, 0.8819))
Z_MAX = 4.5  # conditional quantile/width z-scores; FAP 6.8e-6 each (fap_z(4.5)), 36 per run


@pytest.fixture(scope="module")
def neuron():
    return load_model("neuron")


def _window_ep(module, draws, obs, inputs, labels):
    data = dict(times=TIMES, observations=obs, inputs=inputs, labels=labels, **STATIC)
    out = module.derived_quantities({k: np.atleast_1d(draws[k]) for k in PARAMS}, data)
    return np.asarray(out["thermodynamics"][DERIVED][1])


@pytest.fixture(scope="module")
def sbc(neuron):
    rng = np.random.default_rng(seed(2017))
    X = rng.choice([-1.0, 1.0], size=(N_SETS, P, N))
    Y = rng.choice([-1.0, 1.0], size=(N_SETS, P))
    simulate = prior_simulator(neuron.model, TIMES, dict(STATIC, n_replicas=R))
    sampler = None
    post = {p: [] for p in (*PARAMS, DERIVED)}
    truth = {p: [] for p in post}
    n_div = 0
    for i in range(N_SETS):
        d = simulate(jax.random.key(seed(10_000 + i)), inputs=X[i], labels=Y[i])
        obs = np.concatenate([d["initial"][:, None], d["obs"]], axis=1)
        kw = dict(observations=obs, inputs=X[i], labels=Y[i])
        if sampler is None:
            sampler = CompiledNUTS(neuron.model, TIMES, dict(kw, **STATIC), warmup=300,
                                   draws=L, thin=THIN, seed=seed(0))
        out = sampler.run(jax.random.key(seed(i)), **kw)
        n_div += int(out.diverging.sum())
        draws = {p: out.samples[p].reshape(-1) for p in PARAMS}
        for p in PARAMS:
            post[p].append(draws[p])
            truth[p].append(float(d[p]))
        post[DERIVED].append(_window_ep(neuron, draws, obs, X[i], Y[i]))
        truth[DERIVED].append(float(_window_ep(neuron, d, obs, X[i], Y[i])[0]))
    return dict(post={k: np.array(v) for k, v in post.items()},
                truth={k: np.array(v) for k, v in truth.items()}, X=X, Y=Y, n_div=n_div)


@pytest.mark.parametrize("name", [*PARAMS, DERIVED])
def test_sbc_ranks_uniform(sbc, name):
    ranks = sbc_ranks(sbc["post"][name], sbc["truth"][name])
    counts, chi2, p = rank_uniformity(ranks, L, bins=10)
    assert p > P_MIN, f"{name}: rank counts {counts.tolist()}, chi2 {chi2:.1f}, p {p:.2g}"


def test_sbc_sampler_health(sbc):
    """Divergent transitions are a rate, not an event: < 0.5% of the kept draws of all sets
    (a rare divergence in a funnel-shaped corner of the prior is not a defect)."""
    rate = sbc["n_div"] / (N_SETS * L)
    assert rate < DIVERGENCE_RATE_MAX, f"{sbc['n_div']} divergent of {N_SETS * L} draws"


def test_sbc_detects_a_miscalibrated_posterior(sbc):
    """Negative control: a 10% bias in D is far outside the uniform-rank band (p ~ 1e-110 at
    offset 0, against the gate's 1e-5)."""
    ranks = sbc_ranks(1.1 * sbc["post"]["diffusion"], sbc["truth"]["diffusion"])
    assert rank_uniformity(ranks, L)[2] < P_MIN


def _prior_widths(neuron, sbc, n=20_000):
    """90% equal-tailed widths of the model's own priors and of the derived quantity's prior."""
    dummy = np.zeros((R, K + 1, N))
    tr = handlers.trace(handlers.seed(neuron.model, seed(0))).get_trace(
        TIMES, observations=dummy, inputs=sbc["X"][0], labels=sbc["Y"][0], **STATIC)
    with jax.enable_x64(True):
        draws = {p: np.asarray(tr[p]["fn"].sample(jax.random.key(seed(i)), (n,)))
                 for i, p in enumerate(PARAMS)}
    widths = {p: np.diff(np.quantile(draws[p], [0.05, 0.95]))[0] for p in PARAMS}
    w = [np.diff(np.quantile(_window_ep(neuron, draws, dummy, sbc["X"][i], sbc["Y"][i]),
                             [0.05, 0.95]))[0] for i in range(50)]
    widths[DERIVED] = np.array(w)
    return widths


def test_coverage_and_width_on_50_data_sets(neuron, sbc):
    prior = _prior_widths(neuron, sbc)
    for name in (*PARAMS, DERIVED):
        covered, width = interval_coverage(sbc["post"][name][:50], sbc["truth"][name][:50], 0.9)
        assert COVERED_MIN <= covered.sum() <= 50, f"{name}: {covered.sum()}/50 covered"
        ratio = np.mean(width / prior[name])
        assert ratio <= 0.5, f"{name}: intervals {ratio:.2f} of the prior's width"


# -------------------------------------------------------------------------------- conditionals


def _model_nu(times, observations=None, *, k, D, **kw):
    return handlers.condition(load_model("neuron").model, {"stiffness": k, "diffusion": D})(
        times, observations=observations, **kw)


def _model_D(times, observations=None, *, k, nu, **kw):
    return handlers.condition(load_model("neuron").model, {"stiffness": k, "learning_rate": nu})(
        times, observations=observations, **kw)


def _residuals(obs, inputs, labels, k):
    g = labels @ inputs / np.sqrt(N)
    h = np.diff(TIMES)
    a, b, c = np.exp(-k * h), -np.expm1(-k * h) / k, -np.expm1(-2 * k * h) / k
    r = obs[:, 1:] - a[None, :, None] * obs[:, :-1]
    return g, b, c, r


def _exact_nu(obs, inputs, labels, k, D, *, s=2.0, precision_scale=1.0):
    g, b, c, r = _residuals(obs, inputs, labels, k)
    lam = precision_scale * R * (g @ g) * np.sum(b**2 / c) / D + 1 / s**2
    m = precision_scale * np.sum((r @ g) * (b / c)[None]) / D / lam
    sd = lam**-0.5
    return stats.truncnorm(-m / sd, np.inf, loc=m, scale=sd)


def _exact_D(obs, inputs, labels, k, nu, *, alpha=3.0, beta=2.0, ss_scale=1.0):
    g, b, c, r = _residuals(obs, inputs, labels, k)
    res = r - b[None, :, None] * nu * g
    ss = ss_scale * np.sum(np.sum(res**2, -1) / c[None])
    return stats.invgamma(alpha + R * K * N / 2, scale=beta + ss / 2)


def _z_scores(x, exact):
    """(quantiles, 90% width) of draws x minus the exact ones, in Monte Carlo standard errors."""
    from arviz_stats.base import array_stats

    x = np.asarray(x)[None]  # (chain, draw)
    mcse = np.array([array_stats.mcse(x, method="quantile", prob=q, chain_axis=0, draw_axis=1)
                     for q in QS])
    nq = np.quantile(x, QS)
    z = (nq - exact.ppf(QS)) / mcse
    width_z = ((nq[-1] - nq[0]) - (exact.ppf(0.95) - exact.ppf(0.05))) / np.hypot(mcse[0],
                                                                                  mcse[-1])
    return np.append(z, width_z)


TRUTHS = [(1.0, 1.0, 1.0), (2.5, 0.5, 0.6), (0.6, 1.8, 1.5)]


@pytest.fixture(scope="module")
def conditional_runs(neuron):
    rng = np.random.default_rng(seed(8))
    sets = []
    for i, (k, nu, D) in enumerate(TRUTHS):
        x = rng.choice([-1.0, 1.0], size=(P, N))
        y = rng.choice([-1.0, 1.0], size=P)
        sim = prior_simulator(handlers.condition(neuron.model, {
            "stiffness": k, "learning_rate": nu, "diffusion": D}), TIMES,
            dict(STATIC, n_replicas=R))
        d = sim(jax.random.key(seed(77 + i)), inputs=x, labels=y)
        sets.append((k, nu, D, x, y, np.concatenate([d["initial"][:, None], d["obs"]], axis=1)))
    scalar = np.asarray
    k, nu, D, x, y, obs = sets[0]
    s_nu = CompiledNUTS(_model_nu, TIMES, dict(observations=obs, inputs=x, labels=y,
                                               k=scalar(k), D=scalar(D), **STATIC),
                        warmup=500, draws=32000, seed=seed(0))
    s_D = CompiledNUTS(_model_D, TIMES, dict(observations=obs, inputs=x, labels=y,
                                             k=scalar(k), nu=scalar(nu), **STATIC),
                       warmup=500, draws=8000, seed=seed(0))
    runs = []
    for i, (k, nu, D, x, y, obs) in enumerate(sets):
        a = s_nu.run(jax.random.key(seed(i)), observations=obs, inputs=x, labels=y, k=scalar(k),
                     D=scalar(D))
        b = s_D.run(jax.random.key(seed(100 + i)), observations=obs, inputs=x, labels=y, k=scalar(k),
                    nu=scalar(nu))
        runs.append(dict(k=k, nu=nu, D=D, x=x, y=y, obs=obs,
                         nu_draws=a.samples["learning_rate"].reshape(-1),
                         D_draws=b.samples["diffusion"].reshape(-1),
                         n_div=int(a.diverging.sum() + b.diverging.sum()),
                         n_draws=int(a.diverging.size + b.diverging.size)))
    return runs


@pytest.mark.parametrize("i", range(len(TRUTHS)))
def test_nuts_matches_exact_conditional_posteriors(conditional_runs, i):
    run = conditional_runs[i]
    assert run["n_div"] / run["n_draws"] < DIVERGENCE_RATE_MAX, f"{run['n_div']} divergent"
    z_nu = _z_scores(run["nu_draws"], _exact_nu(run["obs"], run["x"], run["y"], run["k"],
                                                run["D"]))
    z_D = _z_scores(run["D_draws"], _exact_D(run["obs"], run["x"], run["y"], run["k"],
                                             run["nu"]))
    assert np.all(np.abs(z_nu) < Z_MAX), f"nu | k, D: quantile and width z-scores {z_nu.round(2)}"
    assert np.all(np.abs(z_D) < Z_MAX), f"D | k, nu: quantile and width z-scores {z_D.round(2)}"


def test_conditional_check_detects_10_to_20_percent_miscalibration(conditional_runs):
    """Negative controls: the same draws against slightly wrong exact posteriors fail at the
    gate's Z_MAX. max |z| over 6 runs (offsets 0, 1): D ±10% 104-138, ν precision -20% 10.6-15.8,
    +20% 7.9-11.1 (mean 9.7, sd 1.2: FAP of this control 3 × 8e-6)."""
    for run in conditional_runs:
        args = (run["obs"], run["x"], run["y"], run["k"])
        for scale in (0.9, 1.1):
            z = _z_scores(run["D_draws"], _exact_D(*args, run["nu"], ss_scale=scale))
            assert np.max(np.abs(z)) > Z_MAX
        for scale in (0.8, 1.2):
            z = _z_scores(run["nu_draws"], _exact_nu(*args, run["D"], precision_scale=scale))
            assert np.max(np.abs(z)) > Z_MAX

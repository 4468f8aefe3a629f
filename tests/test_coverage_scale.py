r"""Calibration of ``linear-ou`` at experimental sizes: coverage over replicate data sets, and SBC.

* **Coverage at scale.** A fixed truth — the rotational trap $A = [[-k, -\varepsilon],
  [\varepsilon, -k]]$, $k = 1$, $\varepsilon = 0.5$, $D = 1$, recorded every $\Delta t = 0.1$
  ($\sigma = 2\varepsilon^2/k = 0.5$) — and replicate data sets of 2·10³, 2·10⁴ and 2·10⁵
  frames, each fitted from its sufficient statistics (2 chains × 500 draws after 500 warmup).
  The number of 90% intervals of the entropy-production rate that contain the truth is judged
  by the exact two-sided binomial test at level 10⁻³ against 0.9. ``REPLICATES`` data sets per
  size (environment variable ``THERMOINFER_COVERAGE_REPLICATES``; 30 in ``make test``, 200 in
  ``make validate``). Negative control: the same posteriors with a 25% error of the time unit
  (σ draws ÷ 1.25) are rejected at 2·10⁴ and 2·10⁵ frames.
* **Coverage at scale, ``polynomial-drift``.** The quartic radial trap with a rotation of
  tests/test_polynomial_drift.py ($a = b = \varepsilon = 1$, $T = 0.7$, $D = T\mathbb 1$; exact
  $\sigma = \varepsilon^2\langle r^2\rangle/T = 0.942$ by quadrature), one trajectory of 2·10⁵
  frames recorded every $\Delta t = 0.01$ from Euler–Maruyama at $h = 0.001$, fitted (degree 3,
  ``prior="conjugate"``) by 1000 exact posterior draws — what ``fit(..., sampler="conjugate")``
  draws, without the tree around them. The 90% intervals of the primary rate
  ``entropy_production_rate`` (the projected rate) are judged by the same binomial test
  (measured over 400 data sets: coverage 0.897 ± 0.015, z-scores −0.09 ± 1.02). At 2·10⁴
  frames ($\tau = 200$) the same intervals cover only 0.838 ± 0.018 (400 data sets): the
  finite-data bias $4m/\tau$ of docs/polynomial-drift.md is half a posterior sd there, so that
  size is not gated (a binomial gate would fail 1.6% of the runs at 30 replicates and 27% at
  200). Negative control: the σ draws ÷ 1.25 (a 25% time-unit error, 3 posterior sds) are
  rejected. The Stratonovich rate's intervals cover 0.54 (400 data sets), reported, not gated
  (30 replicates would miss that 6% of the time).
* **SBC.** 100 data sets drawn from the model program itself (prior → steady-state first point
  → exact OU path of 400 transitions at Δt = 0.1), fitted by NUTS; the ranks of the covariance
  and diffusion scales, the circulation and the entropy-production rate among 99 thinned draws
  are uniform (χ², p > 1e-5). Negative control: diffusion draws scaled by 1.1 fail.

The FAP of each gate is in tests/README.md.
"""

import os

import jax
import numpy as np
import pytest
from _stats import binomial_test_accepts, seed

from thermoinfer.data.observations import simulate_linear_ou
from thermoinfer.inference.calibration import (
    CompiledNUTS,
    interval_coverage,
    prior_simulator,
    rank_uniformity,
    sbc_ranks,
)
from thermoinfer.inference.registry import load_model
from thermoinfer.paths.statistics import transition_statistics

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("coverage_scale")]

K_TRAP, EPS, D_TRAP, DT = 1.0, 0.5, 1.0, 0.1
A_TRAP = [[-K_TRAP, -EPS], [EPS, -K_TRAP]]
SIGMA = 2 * EPS**2 / K_TRAP
FRAMES = (2_000, 20_000, 200_000)
REPLICATES = int(os.environ.get("THERMOINFER_COVERAGE_REPLICATES", "30"))
LEVEL = 1e-3  # two-sided binomial test; FAP fap_binomial_two_sided(REPLICATES, 0.9, 1e-3) each
DIVERGENCE_RATE_MAX = 0.005  # sampler health: divergent transitions per kept draw


@pytest.fixture(scope="module")
def linear_ou():
    return load_model("linear-ou")


def _sigma(module, samples, times):
    out = module.derived_quantities({k: samples[k].reshape(-1, 2, 2)
                                     for k in ("drift", "diffusion")}, {"times": times})
    return np.asarray(out["thermodynamics"]["entropy_production_rate"][1])


def _coverage_run(module, frames, samplers):
    times = np.arange(frames) * DT
    draws, n_div = [], 0
    for i in range(REPLICATES):
        ds = simulate_linear_ou(A_TRAP, D_TRAP, times,
                                seed=seed(100_000 * (1 + FRAMES.index(frames)) + i))
        stats = transition_statistics(ds["observations"].values, times)
        if not samplers:  # one regular grid: the statistics of every size have the same shapes
            samplers.append(CompiledNUTS(module.model, times[:2], dict(statistics=stats),
                                         warmup=500, draws=500, chains=2, seed=seed(0)))
        out = samplers[0].run(jax.random.key(seed(i)), statistics=stats)
        n_div += int(out.diverging.sum())
        draws.append(_sigma(module, out.samples, times))
    return np.array(draws), n_div


@pytest.fixture(scope="module")
def coverage(linear_ou):
    samplers = []
    return {frames: _coverage_run(linear_ou, frames, samplers) for frames in FRAMES}


@pytest.mark.parametrize("frames", FRAMES)
def test_ep_rate_intervals_cover_at_the_nominal_rate(coverage, frames):
    draws, n_div = coverage[frames]
    covered, width = interval_coverage(draws, np.full(len(draws), SIGMA), 0.9)
    k = int(covered.sum())
    print(f"coverage: linear-ou, {frames} frames: {k}/{len(draws)} 90% intervals cover "
          f"sigma = {SIGMA}; mean width {width.mean():.3g}")
    assert binomial_test_accepts(k, len(draws), 0.9, LEVEL), (
        f"{frames} frames: {k}/{len(draws)} 90% intervals cover sigma = {SIGMA}; mean width "
        f"{width.mean():.3g}")
    assert n_div / draws.size < DIVERGENCE_RATE_MAX, f"{n_div} divergent of {draws.size} draws"


@pytest.mark.parametrize("frames", FRAMES[1:])
def test_coverage_test_rejects_a_time_unit_error(coverage, frames):
    """Negative control: σ draws ÷ 1.25 (a 25% error of the time unit) are 2 (2·10⁴ frames) and
    7 (2·10⁵) posterior SDs off: coverage about 0.36 and 0, rejected with power > 0.999 at 30
    replicates."""
    draws, _ = coverage[frames]
    covered, _ = interval_coverage(draws / 1.25, np.full(len(draws), SIGMA), 0.9)
    assert not binomial_test_accepts(int(covered.sum()), len(draws), 0.9, LEVEL)


# ------------------------------------------------------------------- coverage, polynomial-drift

POLY_FRAMES, POLY_DT, POLY_SUBSTEPS, POLY_T = 200_000, 0.01, 10, 0.7
POLY_CHUNK = 25  # replicas simulated per call (memory: 25 x 2e5 x 2 float64 = 80 MB)


def _quartic_sigma(a=1.0, b=1.0, eps=1.0, temperature=POLY_T):
    """eps^2 <r^2> / T with <r^2> of p ~ exp(-U/T), U = a r^4/4 + b r^2/2, by quadrature (the
    derivation is in tests/test_polynomial_drift.py)."""
    import math

    from scipy.integrate import quad

    def w(r):
        return math.exp(-(a * r**4 / 4 + b * r**2 / 2) / temperature)

    r2 = quad(lambda r: r**3 * w(r), 0, np.inf)[0] / quad(lambda r: r * w(r), 0, np.inf)[0]
    return eps**2 * r2 / temperature


def _quartic_force(x):
    import jax.numpy as jnp

    return -(x @ x + 1.0) * x + jnp.array([-x[1], x[0]])


@pytest.fixture(scope="module")
def polynomial_coverage():
    """``{estimator: (REPLICATES, 1000) draws}`` of the two EP rates, one data set per row."""
    from thermoinfer.data.observations import simulate_langevin

    module = load_model("polynomial-drift")
    times = np.arange(POLY_FRAMES) * POLY_DT
    out = {"entropy_production_rate": [], "entropy_production_rate_stratonovich": []}
    for start in range(0, REPLICATES, POLY_CHUNK):
        n = min(POLY_CHUNK, REPLICATES - start)
        ds = simulate_langevin(_quartic_force, POLY_T * np.eye(2), times, n_replicas=n,
                               seed=seed(400_000 + start), substeps=POLY_SUBSTEPS, burn_in=5.0,
                               components=["x", "y"])
        for r in range(n):
            data = module.data_from_dataset(ds.isel(replica=[r]), degree=3, prior="conjugate")
            draws = module.conjugate_posterior(data, jax.random.key(seed(410_000 + start + r)),
                                               1000)
            thermo = module.derived_quantities(draws, data)["thermodynamics"]
            for name in out:
                out[name].append(np.asarray(thermo[name][1]))
    return {k: np.array(v) for k, v in out.items()}


def test_polynomial_ep_rate_intervals_cover_at_the_nominal_rate(polynomial_coverage):
    """FAP: fap_binomial_two_sided(REPLICATES, 0.9, 1e-3) = 4.5e-4 at 30 replicates (8.7e-4 at
    200); at the measured coverage 0.897 the rejection probability is 5.8e-4 (9.8e-4 at 200)."""
    sigma = _quartic_sigma()
    draws = polynomial_coverage["entropy_production_rate"]
    covered, width = interval_coverage(draws, np.full(len(draws), sigma), 0.9)
    k = int(covered.sum())
    print(f"coverage: polynomial-drift, {POLY_FRAMES} frames: {k}/{len(draws)} 90% intervals "
          f"cover sigma = {sigma:.4f}; mean width {width.mean():.3g}")
    assert binomial_test_accepts(k, len(draws), 0.9, LEVEL), (
        f"polynomial-drift, {POLY_FRAMES} frames: {k}/{len(draws)} 90% intervals cover sigma = "
        f"{sigma:.4f}; mean width {width.mean():.3g}; Stratonovich rate: "
        f"{int(interval_coverage(polynomial_coverage['entropy_production_rate_stratonovich'], np.full(len(draws), sigma), 0.9)[0].sum())}")


def test_polynomial_coverage_test_rejects_a_time_unit_error(polynomial_coverage):
    """Negative control: σ draws ÷ 1.25 are 3.1 posterior sds off (sd 0.061 at 2·10⁵ frames):
    coverage about 0.07, accepted with probability 1e-17 at 30 replicates."""
    sigma = _quartic_sigma()
    draws = polynomial_coverage["entropy_production_rate"]
    covered, _ = interval_coverage(draws / 1.25, np.full(len(draws), sigma), 0.9)
    assert not binomial_test_accepts(int(covered.sum()), len(draws), 0.9, LEVEL)


# ------------------------------------------------------------------------------------- SBC

N_SETS, L, THIN, K_SBC = 100, 99, 4, 400
SBC_TIMES = np.arange(K_SBC + 1) * DT
SBC_SITES = ("covariance_scale", "diffusion_scale", "circulation")
P_MIN = 1e-5  # SBC χ² gate; FAP fap_chi2_counts(1e-5, 100, 10) per quantity


@pytest.fixture(scope="module")
def sbc(linear_ou):
    simulate = prior_simulator(linear_ou.model, SBC_TIMES, dict(n_replicas=1, n_components=2))
    sampler, n_div = None, 0
    post = {p: [] for p in (*SBC_SITES, "sigma")}
    truth = {p: [] for p in post}
    for i in range(N_SETS):
        d = simulate(jax.random.key(seed(50_000 + i)))
        obs = np.concatenate([d["initial"][:, None], d["obs"]], axis=1)
        stats = transition_statistics(obs, SBC_TIMES)
        if sampler is None:
            sampler = CompiledNUTS(linear_ou.model, SBC_TIMES[:2], dict(statistics=stats),
                                   warmup=300, draws=L, thin=THIN, seed=seed(0))
        out = sampler.run(jax.random.key(seed(60_000 + i)), statistics=stats)
        n_div += int(out.diverging.sum())
        # one component of each vector site (the model is exchangeable in the components)
        post["covariance_scale"].append(out.samples["covariance_scale"].reshape(-1, 2)[:, 0])
        post["diffusion_scale"].append(out.samples["diffusion_scale"].reshape(-1, 2)[:, 0])
        post["circulation"].append(out.samples["circulation"].reshape(-1))
        post["sigma"].append(_sigma(linear_ou, out.samples, SBC_TIMES))
        truth["covariance_scale"].append(float(d["covariance_scale"][0]))
        truth["diffusion_scale"].append(float(d["diffusion_scale"][0]))
        truth["circulation"].append(float(d["circulation"][0]))
        truth["sigma"].append(float(_sigma(linear_ou, {k: d[k][None] for k in
                                                       ("drift", "diffusion")}, SBC_TIMES)[0]))
    return dict(post={k: np.array(v) for k, v in post.items()},
                truth={k: np.array(v) for k, v in truth.items()}, n_div=n_div)


@pytest.mark.parametrize("name", [*SBC_SITES, "sigma"])
def test_linear_ou_sbc_ranks_uniform(sbc, name):
    ranks = sbc_ranks(sbc["post"][name], sbc["truth"][name])
    counts, chi2, p = rank_uniformity(ranks, L, bins=10)
    assert p > P_MIN, f"{name}: rank counts {counts.tolist()}, chi2 {chi2:.1f}, p {p:.2g}"


def test_linear_ou_sbc_sampler_health(sbc):
    rate = sbc["n_div"] / (N_SETS * L)
    assert rate < DIVERGENCE_RATE_MAX, f"{sbc['n_div']} divergent of {N_SETS * L} draws"


def test_linear_ou_sbc_detects_a_miscalibrated_posterior(sbc):
    """Negative control: diffusion scales × 1.1 leave the uniform-rank band."""
    ranks = sbc_ranks(1.1 * sbc["post"]["diffusion_scale"], sbc["truth"]["diffusion_scale"])
    assert rank_uniformity(ranks, L)[2] < P_MIN

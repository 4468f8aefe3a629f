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

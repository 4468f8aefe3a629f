r"""The ``polynomial-drift`` model: basis, sufficient statistics, entropy production, posteriors.

Exact nonlinear check: the radial quartic trap with a rotation,
$\boldsymbol F = -\nabla U + \varepsilon(-y, x)$, $U(r) = ar^4/4 + br^2/2$, mobility 1, $D = T\mathbb 1$.
Its steady density is still $p\propto e^{-U/T}$: with $\boldsymbol f_{rot} = \varepsilon(-y, x)$,
$\nabla\cdot(\boldsymbol f_{rot}p) = p\,\nabla\cdot\boldsymbol f_{rot} + \boldsymbol f_{rot}\cdot\nabla p = 0$
(the rotation is divergence-free and tangential to the level sets of the radial $U$), and the
gradient part $-\nabla U p - T\nabla p$ vanishes identically, so the Fokker–Planck operator
annihilates $e^{-U/T}$. The current is $\boldsymbol j = \boldsymbol f_{rot}\,p$ and the steady entropy
production rate $\sigma = \int\boldsymbol j^\top D^{-1}\boldsymbol j/p = \varepsilon^2\langle r^2\rangle/T$, with
$\langle r^2\rangle = \int_0^\infty r^3e^{-U/T}dr\big/\int_0^\infty re^{-U/T}dr$ by quadrature. The
formula is also checked against a simulation (:func:`test_quartic_formula_against_simulation`)
and, exactly, against the population moments of $e^{-U/T}$
(:func:`test_projected_rate_is_exact_on_population_moments`).

The data are simulated at a fine EM step (h = 0.001, $k_{eff}h = 0.002$) and recorded at
$\Delta t = 0.01$: $k_{eff}\Delta t = 0.023$, $k_{eff} = b + 2a\langle r^2\rangle$ (the mean curvature
$\nabla^2U/d$), $T = 0.7$. Gates and their false-alarm probabilities: tests/README.md; the
distributions of the statistical gates were measured over 96 independent data sets of the same
design (four replicas of 200 time units each; the numbers are in the docstrings).
"""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from _stats import seed
from scipy.integrate import quad

from thermoinfer.data.observations import make_observations, simulate_langevin
from thermoinfer.errors import InputError
from thermoinfer.inference.registry import load_model
from thermoinfer.paths import em_transition_log_prob
from thermoinfer.paths.polynomial import (
    PolynomialStatistics,
    monomial_coefficients,
    monomial_exponents,
    monomial_labels,
    n_monomials,
    polynomial_basis,
    polynomial_force,
    polynomial_log_likelihood,
    polynomial_statistics,
    projected_entropy_rate,
    standardised_coefficients,
    stratonovich_entropy_rate,
)

MODEL = load_model("polynomial-drift")
A_QUARTIC, B_QUARTIC, EPS, T = 1.0, 1.0, 1.0, 0.7
DT, SUBSTEPS, FRAMES, REPLICAS = 0.01, 10, 20001, 4
#: raw-monomial coefficients of the quartic force, (component, monomial index) for d = 2, N = 3
#: (order 1, x, y, x^2, xy, y^2, x^3, x^2 y, x y^2, y^3)
RAW = {(0, 1): -B_QUARTIC, (0, 2): -EPS, (0, 6): -A_QUARTIC, (0, 8): -A_QUARTIC,
       (1, 1): EPS, (1, 2): -B_QUARTIC, (1, 7): -A_QUARTIC, (1, 9): -A_QUARTIC}


def quartic_force(a, b, eps):
    def force(x):
        return -(a * (x @ x) + b) * x + eps * jnp.array([-x[1], x[0]])

    return force


def mean_r2(a, b, temperature):
    def w(r):
        return math.exp(-(a * r**4 / 4 + b * r**2 / 2) / temperature)

    return quad(lambda r: r**3 * w(r), 0, np.inf)[0] / quad(lambda r: r * w(r), 0, np.inf)[0]


def sigma_exact(a, b, eps, temperature):
    return eps**2 * mean_r2(a, b, temperature) / temperature


def raw_theta(a, b, eps):
    """The quartic force in the raw monomials (the basis with centre 0, scale 1)."""
    theta = np.zeros((2, 10))
    theta[0, 1], theta[0, 2], theta[0, 6], theta[0, 8] = -b, -eps, -a, -a
    theta[1, 1], theta[1, 2], theta[1, 7], theta[1, 9] = eps, -b, -a, -a
    return theta


@pytest.fixture(scope="module")
def quartic():
    """Four replicas of 200 time units, recorded at dt = 0.01 from EM at 0.001 (T = 0.7)."""
    ds = simulate_langevin(quartic_force(A_QUARTIC, B_QUARTIC, EPS), T * np.eye(2),
                           np.arange(FRAMES) * DT, n_replicas=REPLICAS, seed=seed(31),
                           substeps=SUBSTEPS, burn_in=5.0, components=["x", "y"])
    data = MODEL.data_from_dataset(ds, degree=3)
    draws = MODEL.conjugate_posterior(data, jax.random.key(seed(32)), 4000)
    return ds, data, draws


# ---------------------------------------------------------------------------------------------
# basis and statistics (deterministic)


def test_basis_order_labels_and_raw_coefficients():
    assert monomial_exponents(2, 3).tolist()[:6] == [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    assert n_monomials(3, 2) == 10 == monomial_exponents(3, 2).shape[0]
    assert monomial_labels(["x", "y"], 3)[6:] == ["z(x)^3", "z(x)^2 z(y)", "z(x) z(y)^2", "z(y)^3"]
    z = np.array([[0.3, -1.2], [2.0, 0.5]])
    e = monomial_exponents(2, 3)
    np.testing.assert_allclose(polynomial_basis(z, 3), np.prod(z[:, None, :] ** e, axis=-1),
                               rtol=1e-15)
    rng = np.random.default_rng(seed(1))
    theta = rng.normal(size=(2, 10))
    center, scale = np.array([3.0, -1.0]), np.array([0.5, 2.0])
    raw = monomial_coefficients(theta, center, scale)
    x = rng.normal(size=(7, 2)) * scale + center
    np.testing.assert_allclose(raw @ polynomial_basis(x, 3).T,
                               polynomial_force(x, theta, center, scale).T, rtol=1e-11)
    np.testing.assert_allclose(standardised_coefficients(raw, center, scale), theta, rtol=1e-10)
    # negative control: the raw coefficients are not the standardised ones
    assert not np.allclose(raw, theta, rtol=0.1)


def _per_transition(x, times, theta, D, stats):
    F = polynomial_force(x[:, :-1], theta, stats.center, stats.scale)
    return np.asarray(em_transition_log_prob(x[:, :-1], x[:, 1:], F, np.diff(times), D))


@pytest.mark.parametrize("d, degree, irregular", [(2, 3, False), (2, 3, True), (3, 2, True),
                                                  (1, 4, False)])
def test_statistics_likelihood_equals_per_transition_sum(d, degree, irregular):
    """The EM log-likelihood from statistics equals the sum of em_transition_log_prob over the
    transitions to 1e-11 of sum |l_i| (measured: below 1e-14), on regular and irregular grids,
    with data far from the origin; the midpoint statistic gives the Stratonovich sum. Negative
    control: statistics of the same path on a grid stretched by 1% differ by far more."""
    rng = np.random.default_rng(seed(2))
    K, R = 400, 3
    steps = rng.uniform(0.005, 0.03, K) if irregular else np.full(K, 0.01)
    times = np.concatenate([[0.0], np.cumsum(steps)])
    x = 40.0 + np.cumsum(rng.normal(size=(R, K + 1, d)) * 0.1, axis=1)
    stats = polynomial_statistics(x, times, degree)
    p = n_monomials(d, degree)
    theta = rng.normal(size=(d, p))
    L = rng.normal(size=(d, d)) * 0.3 + np.eye(d)
    D = L @ L.T
    per = _per_transition(x, times, theta, D, stats)
    total = float(polynomial_log_likelihood(stats, theta, D))
    assert abs(total - per.sum()) < 1e-11 * np.abs(per).sum()
    xbar = 0.5 * (x[:, 1:] + x[:, :-1])
    Fm = polynomial_force(xbar, theta, stats.center, stats.scale)
    strat = np.sum(np.diff(x, axis=1) * np.linalg.solve(D, Fm[..., None])[..., 0])
    assert stratonovich_entropy_rate(stats, theta, D) == pytest.approx(
        strat / (R * times[-1]), rel=1e-11)
    wrong = polynomial_statistics(x, times * 1.01, degree)
    assert abs(float(polynomial_log_likelihood(wrong, theta, D)) - per.sum()) > \
        1e-3 * np.abs(per).sum()


def test_model_factor_equals_the_pointwise_terms():
    """The sampler's factor (statistics) and the per-transition site obs give the same log
    density for both priors; the posterior sites recorded are those of conjugate_posterior."""
    rng = np.random.default_rng(seed(3))
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 0.02, 60))])
    x = np.cumsum(rng.normal(size=(2, 61, 2)) * 0.1, axis=1)
    ds = make_observations(x, times, time_units="ms", units="nm")
    for prior in ("normal", "conjugate"):
        data = MODEL.data_from_dataset(ds, degree=2, prior=prior)
        assert data["time_units"] == "ms" and data["length_units"] == "nm"
        draws = MODEL.conjugate_posterior(data, jax.random.key(seed(4)), 3)
        latent = {k: draws[k][1] for k in ("log_diffusion_ratio", "diffusion_corr",
                                            "coefficients_whitened")}
        kw = {k: v for k, v in data.items() if k not in ("times", "observations")}
        lp_stat, values = _density(kw, data["times"], latent)
        lp_obs, _ = _density(dict(kw, statistics=None, observations=x), data["times"], latent)
        assert float(lp_stat) == pytest.approx(float(lp_obs), rel=1e-11)
        for site in ("coefficients", "diffusion", "drift_coefficients", "diffusion_scale"):
            np.testing.assert_allclose(values[site], draws[site][1], rtol=1e-9, atol=1e-12)


def _density(kw, times, latent):
    """``(log density, deterministic sites)`` of the model, compiled once."""
    from numpyro.infer.util import log_density

    sites = ("coefficients", "diffusion", "drift_coefficients", "diffusion_scale")

    @jax.jit
    def f(latent):
        lp, tr = log_density(MODEL.model, (times,), kw, latent)
        assert ("obs_statistics" in tr) == (kw.get("statistics") is not None)
        return lp, {k: tr[k]["value"] for k in sites}

    return f(latent)


def test_projected_rate_is_exact_on_population_moments():
    """With the exact stationary moments in place of the data, the projected rate is the exact
    steady entropy production: a linear OU process (degree 1; thermoinfer.thermo) and the
    quartic trap with rotation (degree 3, moments of e^{-U/T} by quadrature). It ignores any
    added gradient field. Negative control: twice the rotation gives four times the rate."""
    from thermoinfer.thermo.linear_system import entropy_production_rate, steady_covariance

    A = np.array([[-1.0, -0.7], [0.4, -1.5]])
    D = np.array([[0.8, 0.2], [0.2, 0.5]])
    with jax.enable_x64(True):
        C = np.asarray(steady_covariance(A, D))
        sigma = float(entropy_production_rate(A, D))
    tau = 3.0
    gram = tau * np.block([[np.ones((1, 1)), np.zeros((1, 2))], [np.zeros((2, 1)), C]])
    st = PolynomialStatistics(np.zeros(2), np.ones(2), np.asarray(1.0), np.asarray(0.0),
                              np.asarray(tau), np.eye(2), np.zeros((2, 3)), gram,
                              np.zeros((3, 2)))
    theta = np.concatenate([np.zeros((2, 1)), A], axis=1)
    assert projected_entropy_rate(st, theta, D) == pytest.approx(sigma, rel=1e-12)

    a, b, eps, temperature = 1.0, 0.5, 0.8, 0.7
    U = lambda r: a * r**4 / 4 + b * r**2 / 2  # noqa: E731
    Z = quad(lambda r: r * math.exp(-U(r) / temperature), 0, np.inf)[0]

    def moment(i, j):
        radial = quad(lambda r: r ** (i + j + 1) * math.exp(-U(r) / temperature), 0, np.inf)[0]
        angular = quad(lambda t: math.cos(t) ** i * math.sin(t) ** j, 0, 2 * math.pi)[0]
        return radial / Z * angular / (2 * math.pi)

    e = monomial_exponents(2, 3)
    gram = tau * np.array([[moment(*(ea + eb)) for eb in e] for ea in e])
    st = st._replace(basis_basis=gram, inc_basis=np.zeros((2, 10)),
                     stratonovich=np.zeros((10, 2)))
    th = raw_theta(a, b, eps)
    De = temperature * np.eye(2)
    exact = sigma_exact(a, b, eps, temperature)
    assert projected_entropy_rate(st, th, De) == pytest.approx(exact, rel=1e-9)
    grad_field = np.zeros((2, 10))  # D grad psi for psi = 0.2 x^3 + 0.5 x y + 0.1 y
    grad_field[0, 3], grad_field[0, 2], grad_field[1, 1], grad_field[1, 0] = 0.6, 0.5, 0.5, 0.1
    assert projected_entropy_rate(st, th + temperature * grad_field, De) == \
        pytest.approx(exact, rel=1e-9)
    assert projected_entropy_rate(st, raw_theta(a, b, 2 * eps), De) == \
        pytest.approx(4 * exact, rel=1e-9)
    # the Stratonovich statistic needs paths: these population statistics have none
    assert stratonovich_entropy_rate(st, th, De) == 0.0


# ---------------------------------------------------------------------------------------------
# the quartic trap


@pytest.mark.slow
def test_quartic_formula_against_simulation(quartic):
    r"""The simulated trap has $\langle r^2\rangle$ of the quadrature and entropy production
    $\varepsilon^2\langle r^2\rangle/T$ (the Stratonovich functional of the true force along the
    paths, recorded at dt = 0.01), each within 4.5 SE of 80 batch means (t_79). Biases: EM at
    h = 0.001 below 0.3% of <r^2> (0.1 SE: bounded by a 4.4-SE gate, FAP 3.3e-5); the midpoint
    functional at k_eff dt = 0.023 -2.2% ± 0.3% of sigma (measured on 64 x 200 time units,
    0.45 SE: one-sided 4.05 and 4.95 SE, FAP 6.1e-5). Negative controls, beyond 4.5 SE: <r^2>
    at T = 1 (0.83, 16 SE away) and of the harmonic trap (a = 0: 2T/b, 70 SE); sigma of the
    harmonic trap (2 eps^2/b, 23 SE)."""
    ds, _, _ = quartic
    x = ds["observations"].values
    r2 = np.sum(x**2, axis=-1)[:, 1:]
    dx = np.diff(x, axis=1)
    xbar = 0.5 * (x[:, 1:] + x[:, :-1])
    F = np.asarray(jax.vmap(jax.vmap(quartic_force(A_QUARTIC, B_QUARTIC, EPS)))(xbar))
    ep = np.sum(dx * F, axis=-1) / T / DT
    batches = 20
    br2 = r2.reshape(REPLICAS, batches, -1).mean(axis=-1).ravel()
    bep = ep.reshape(REPLICAS, batches, -1).mean(axis=-1).ravel()
    n = br2.shape[0]
    truth_r2 = mean_r2(A_QUARTIC, B_QUARTIC, T)
    truth_ep = sigma_exact(A_QUARTIC, B_QUARTIC, EPS, T)
    for values, truth, controls in (
            (br2, truth_r2, (mean_r2(A_QUARTIC, B_QUARTIC, 1.0), 2 * T / B_QUARTIC)),
            (bep, truth_ep, (2 * EPS**2 / B_QUARTIC,))):
        se = values.std(ddof=1) / math.sqrt(n)
        assert abs(values.mean() - truth) < 4.5 * se, (values.mean(), truth, se)  # FAP: docstring
        for wrong in controls:
            assert abs(values.mean() - wrong) > 4.5 * se, (values.mean(), wrong, se)


@pytest.mark.slow
def test_quartic_posterior_covers_the_truth(quartic):
    r"""Conjugate posterior (degree 3) of the quartic trap at $T = 0.7$, $k_{eff}\Delta t = 0.023$.

    Gates (z = (posterior mean - truth)/posterior sd; measured over 96 data sets):

    * ``entropy_production_rate`` (the projected rate): |z| < 4.5, z = 0.17 ± 1.13;
    * ``entropy_production_rate_stratonovich``: |z|/2 < 4.5 (its sampling spread is twice its
      posterior sd: docs/polynomial-drift.md), z/2 = 0.01 ± 1.14;
    * five raw-monomial force coefficients (x, y, x^3 of F_x; x, y^3 of F_y): |z| < 5,
      z = -0.06 ± 1.07, -0.03 ± 1.03, 0.20 ± 1.10, 0.09 ± 1.11, 0.19 ± 1.13;
    * D_xx and D_yy within 6% of T (EM bias at this step: -2.0% ± 0.5%).

    Negative controls at the same gates: no rotation (sigma = 0: z = 9.8 ± 0.6 and 9.7 ± 0.6),
    1.5 times the rotation (z = -11.9 ± 1.8, -12.1 ± 1.9), a linear (degree-1) fit whose
    coefficient of x in F_x misses -b by far, and D at T = 1 (30%). FAP: tests/README.md.
    """
    _, data, draws = quartic
    th = MODEL.derived_quantities(draws, data)["thermodynamics"]
    truth = sigma_exact(A_QUARTIC, B_QUARTIC, EPS, T)
    for name, width in (("entropy_production_rate", 1.0),
                        ("entropy_production_rate_stratonovich", 2.0)):
        v = th[name][1]
        sd = width * v.std()
        assert abs(v.mean() - truth) < 4.5 * sd, (name, v.mean(), truth, sd)  # FAP 8e-5 each
        for wrong in (0.0, 2.25 * truth):  # eps = 0 and eps = 1.5: excluded
            assert abs(v.mean() - wrong) > 4.5 * sd, (name, wrong)
    raw = draws["drift_coefficients"]
    for (i, j) in ((0, 1), (0, 2), (0, 6), (1, 1), (1, 9)):
        v = raw[:, i, j]
        assert abs(v.mean() - RAW[(i, j)]) < 5 * v.std(), ((i, j), v.mean(), v.std())  # FAP 1e-5
    D = draws["diffusion"].mean(axis=0)
    assert abs(D[0, 0] / T - 1) < 0.06 and abs(D[1, 1] / T - 1) < 0.06, D  # FAP < 1e-10
    assert abs(D[0, 0] - 1.0) > 0.06  # T = 1 excluded
    # degree 1 cannot represent the cubic force: its linear coefficient absorbs it
    lin = MODEL.conjugate_posterior(MODEL.data_from_dataset(quartic[0], degree=1),
                                    jax.random.key(seed(33)), 2000)["drift_coefficients"][:, 0, 1]
    assert abs(lin.mean() - RAW[(0, 1)]) > 5 * lin.std(), (lin.mean(), lin.std())


@pytest.mark.slow
def test_conjugate_posterior_matches_nuts_on_a_small_case():
    r"""NUTS of the model with ``prior="conjugate"`` targets the closed-form MNIW posterior of
    :func:`conjugate_posterior`: on 80 transitions (degree 2, d = 2: the prior matters) the
    NUTS means of the 12 coefficients, the 3 entries of D and the two entropy-production rates
    agree with 40 000 exact draws within 5 SE (NUTS SE from 80 batch means, t_79): FAP
    17 x 3.4e-6. Negative control: the same NUTS draws against the law without the Jacobian
    term of the Inverse-Wishart correction (exact draws reweighted by prod_i D_z,ii^-3/2) miss
    the D entries by more than 5 SE (measured: 20 and 23 SE)."""
    from numpyro.infer import MCMC, NUTS

    ds = simulate_langevin(quartic_force(1.0, 1.0, 1.0), T * np.eye(2), np.arange(81) * 0.05,
                           seed=seed(41), substeps=20, burn_in=5.0, initial=[0.0, 0.0])
    data = MODEL.data_from_dataset(ds, degree=2, prior="conjugate")
    exact = MODEL.conjugate_posterior(data, jax.random.key(seed(42)), 40000)
    exact.update({k: v[1] for k, v in MODEL.derived_quantities(exact, data)["thermodynamics"]
                  .items()})
    kw = {k: v for k, v in data.items() if k not in ("times", "observations")}
    chains, draws = 4, 1000
    mcmc = MCMC(NUTS(MODEL.model), num_warmup=400, num_samples=draws, num_chains=chains,
                chain_method="vectorized", progress_bar=False)
    mcmc.run(jax.random.key(seed(43)), None, **kw)
    s = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    flat = {k: v.reshape((-1,) + v.shape[2:]) for k, v in s.items()}
    for name, (_, vals, _, _) in MODEL.derived_quantities(flat, data)["thermodynamics"].items():
        s[name] = vals.reshape(chains, draws)

    def quantities(q):
        out = {f"coef{i}{j}": q["coefficients"][..., i, j] for i in range(2) for j in range(6)}
        out.update({f"D{i}{j}": q["diffusion"][..., i, j] for i, j in ((0, 0), (1, 0), (1, 1))})
        out.update({k: q[k] for k in ("entropy_production_rate",
                                       "entropy_production_rate_stratonovich")})
        return out

    def z_scores(weights):
        w = weights / weights.sum()
        ess = 1.0 / np.sum(w**2)
        z = {}
        for k, v in quantities(s).items():
            ref = quantities(exact)[k]
            mean = np.sum(w * ref)
            batch = v.reshape(chains, 20, -1).mean(axis=-1).ravel()
            se = math.sqrt(batch.var(ddof=1) / batch.size + np.sum(w * (ref - mean)**2) / ess)
            z[k] = (v.mean() - mean) / se
        return z

    z = z_scores(np.ones(40000))
    assert max(abs(v) for v in z.values()) < 5, z  # FAP 17 x 3.4e-6
    s_ = np.asarray(data["conditioning"].scale)
    Dz_diag = np.diagonal(exact["diffusion"], axis1=-2, axis2=-1) / s_**2
    z_bad = z_scores(np.prod(Dz_diag, axis=-1) ** -1.5)
    assert max(abs(z_bad[k]) for k in ("D00", "D11")) > 5, z_bad


def _small_conjugate_case():
    """80 transitions of the quartic trap (d = 2, degree 2): a posterior the prior still shapes."""
    return simulate_langevin(quartic_force(1.0, 1.0, 1.0), T * np.eye(2), np.arange(81) * 0.05,
                             seed=seed(41), substeps=20, burn_in=5.0, initial=[0.0, 0.0])


def _fit_moments(tree):
    """``{quantity: (mean, sd, mcse_mean, mcse_sd)}`` of a fit: 12 coefficients, 3 entries of D,
    both entropy-production rates and the log density ``lp``; Monte Carlo errors from ArviZ
    (ESS-based)."""
    import arviz_stats as azs

    out = {}
    for group, name, index in (
            *[("posterior", "coefficients", (i, j)) for i in range(2) for j in range(6)],
            *[("posterior", "diffusion", ij) for ij in ((0, 0), (1, 0), (1, 1))],
            ("thermodynamics", "entropy_production_rate", ()),
            ("thermodynamics", "entropy_production_rate_stratonovich", ()),
            ("sample_stats", "lp", ())):
        da = tree[group][name]
        v = da.values[(slice(None), slice(None), *index)]
        sub = xr.Dataset({"v": (("chain", "draw"), v)})
        mc_mean = float(azs.mcse(sub, method="mean")["v"])
        mc_sd = float(azs.mcse(sub, method="sd")["v"])
        out[f"{name}{''.join(map(str, index))}"] = (v.mean(), v.std(ddof=1), mc_mean, mc_sd)
    return out


@pytest.mark.slow
def test_fit_sampler_conjugate_matches_nuts():
    r"""``fit(..., sampler="conjugate")`` and a NUTS fit of the same data (``prior="conjugate"``,
    80 transitions, degree 2: the prior matters) have the same posterior: the means and sds of
    the 12 coefficients, the 3 entries of D, both entropy-production rates and the log density
    ``lp`` agree within 5 Monte Carlo SE (the ESS-based MCSE of ArviZ of both fits combined;
    4 x 1000 NUTS draws, 4 x 10 000 exact draws): 36 gates, FAP 36 x 5.7e-7 = 2.1e-5 (normal
    approximation; the MCSE rest on ESS in the thousands). Measured: largest |z| 3.9 at seed
    offset 0 (D_xx: the exact draws of that seed are themselves 4.3 SE above the mean of 40
    other keys), 1.8 and 2.6 at offsets 1 and 2; a NUTS run of 20 000 draws matches D_xx of
    200 000 exact draws to 0.002 SE. The conjugate tree is laid out as NUTS's (same posterior sites and dims, the
    thermodynamics group) with ``sample_stats`` = ``lp`` only and the sampler in the attrs.
    Negative control: a conjugate fit with ``coefficient_scale=1`` (a prior ten times narrower)
    misses the NUTS moments by far more than 5 SE (measured: 97 SE on a coefficient; its ``lp``
    is left out of the control, being the density of another prior)."""
    from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
    from thermoinfer.inference.fit import fit, validate_fit

    ds = _small_conjugate_case()
    opts = {"degree": 2, "prior": "conjugate"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        nuts = fit(ds, "polynomial-drift", options=opts, chains=4, draws=1000, warmup=500,
                   seed=seed(44), posterior_predictive=False)
    conj = fit(ds, "polynomial-drift", sampler="conjugate", options=opts, chains=4, draws=10000,
               seed=seed(45), posterior_predictive=False)
    validate_fit(conj)
    assert set(conj["posterior"].data_vars) == set(nuts["posterior"].data_vars)
    for name in conj["posterior"].data_vars:
        assert conj["posterior"][name].dims == nuts["posterior"][name].dims, name
    assert set(conj["thermodynamics"].data_vars) == set(nuts["thermodynamics"].data_vars)
    assert set(conj["sample_stats"].data_vars) == {"lp"}
    assert conj.attrs["inference_method"] == conj.attrs["sampler"] == "conjugate"
    assert nuts.attrs["sampler"] == "nuts"
    assert conj["diagnostics"].attrs["method"] == "conjugate"
    assert conj.attrs["diagnostics_ok"] == 1

    def z_scores(a, b):
        z = {}
        for k, (m1, s1, e1, f1) in a.items():
            m2, s2, e2, f2 = b[k]
            z[f"{k} mean"] = (m1 - m2) / math.hypot(e1, e2)
            z[f"{k} sd"] = (s1 - s2) / math.hypot(f1, f2)
        return z

    ref = _fit_moments(nuts)
    z = z_scores(_fit_moments(conj), ref)
    assert max(abs(v) for v in z.values()) < 5, z  # FAP 36 x 5.7e-7
    narrow = fit(ds, "polynomial-drift", sampler="conjugate",
                 options=dict(opts, coefficient_scale=1.0), chains=4, draws=2500,
                 seed=seed(46), posterior_predictive=False)
    z_bad = {k: v for k, v in z_scores(_fit_moments(narrow), ref).items()
             if not k.startswith("lp")}  # lp of another prior differs trivially
    assert max(abs(v) for v in z_bad.values()) > 5, z_bad


# ---------------------------------------------------------------------------------------------
# the fit pipeline and the command line


@pytest.mark.slow
def test_fit_and_cli_end_to_end(quartic, tmp_path):
    """thermoinfer.inference.fit.fit and ``thermoinfer fit --model polynomial-drift`` give a
    valid DataTree: posterior coefficients on (component, monomial), correlations on pairs, the
    thermodynamics group with both rates, the diagnostics summary; CSV in, netCDF out."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from thermoinfer.data.observations import write_trajectories_csv
    from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
    from thermoinfer.inference.fit import fit, read_fit, validate_fit

    ds = quartic[0].isel(replica=[0], time=slice(0, 4001))
    with warnings.catch_warnings():  # short chains: diagnostics are reported, not tested here
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        tree = fit(ds, "polynomial-drift", chains=2, draws=100, warmup=100, seed=seed(5),
                   options={"degree": 3}, posterior_predictive=4)
    validate_fit(tree)
    post = tree["posterior"]
    assert post["coefficients"].dims == ("chain", "draw", "component", "monomial_dim_0")
    assert post["drift_coefficients"].shape == (2, 100, 2, 10)
    assert post["diffusion_corr"].dims == ("chain", "draw", "component_pair")
    thermo = tree["thermodynamics"]
    assert set(thermo.data_vars) == {"entropy_production_rate",
                                     "entropy_production_rate_stratonovich"}
    assert "twice too narrow" in thermo["entropy_production_rate_stratonovich"].attrs["long_name"]
    assert np.all(np.isfinite(thermo["entropy_production_rate"].values))
    assert "entropy_production_rate_mean" in tree["diagnostics/thermodynamics"].data_vars
    assert tree.attrs["path_weights"] == "euler_maruyama"
    assert tree["posterior_predictive"]["obs"].shape[-2:] == (4000, 2)

    csv = tmp_path / "quartic.csv"
    write_trajectories_csv(ds, csv)
    out = tmp_path / "fit.nc"
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.run(
        [sys.executable, "-m", "thermoinfer", "fit", str(csv), "--model", "polynomial-drift",
         "--option", "degree=2", "--chains", "2", "--draws", "60", "--warmup", "60",
         "--seed", str(seed(6)), "--no-predictive", "--no-progress", "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cli = read_fit(out)
    assert cli["posterior"]["coefficients"].shape == (2, 60, 2, 6)
    assert "entropy_production_rate" in cli["thermodynamics"].data_vars
    assert "entropy_production_rate" in proc.stdout


# ---------------------------------------------------------------------------------------------
# input errors and the simulator


def test_bad_options_and_data_are_refused():
    rng = np.random.default_rng(seed(7))
    x = np.cumsum(rng.normal(size=(1, 30, 2)), axis=1)
    ds = make_observations(x, np.arange(30) * 0.1)
    with pytest.raises(InputError, match="option degree must be an integer"):
        MODEL.data_from_dataset(ds, degree=2.5)
    with pytest.raises(InputError, match="option prior"):
        MODEL.data_from_dataset(ds, prior="flat")
    with pytest.raises(InputError, match="unknown option"):
        MODEL.data_from_dataset(ds, length_scale=2.0)
    with pytest.raises(InputError, match="option coefficient_scale must be a number > 0"):
        MODEL.data_from_dataset(ds, coefficient_scale=-1.0)
    with pytest.raises(InputError, match="monomials, more than"):
        MODEL.data_from_dataset(ds, degree=40)
    flat = x.copy()
    flat[..., 1] = 3.0
    with pytest.raises(InputError, match=r"component\(s\) \[1\].*constant"):
        MODEL.data_from_dataset(make_observations(flat, np.arange(30) * 0.1))
    assert MODEL.data_from_dataset(ds, degree=0)["statistics"].basis_basis.shape == (1, 1)


def test_simulate_langevin_reproducible_and_refuses_bad_input():
    force = quartic_force(1.0, 1.0, 0.5)
    times = np.linspace(0.0, 1.0, 11)
    a = simulate_langevin(force, 0.5 * np.eye(2), times, n_replicas=3, seed=seed(8), substeps=5)
    b = simulate_langevin(force, 0.5 * np.eye(2), times, n_replicas=3, seed=seed(8), substeps=5)
    c = simulate_langevin(force, 0.5 * np.eye(2), times, n_replicas=3, seed=seed(9), substeps=5)
    assert a["observations"].dims == ("replica", "time", "component")
    np.testing.assert_array_equal(a["observations"].values, b["observations"].values)
    assert not np.array_equal(a["observations"].values, c["observations"].values)
    assert a.attrs["source"].endswith("simulate_langevin") and a.attrs["substeps"] == 5
    np.testing.assert_array_equal(a["observations"].values[:, 0], 0.0)
    with pytest.raises(InputError, match="force must be a function"):
        simulate_langevin(3.0, 0.5 * np.eye(2), times)
    with pytest.raises(InputError, match="diffusion must be a \\(d, d\\) matrix"):
        simulate_langevin(force, 0.5, times)
    with pytest.raises(InputError, match="positive definite"):
        simulate_langevin(force, -np.eye(2), times)
    with pytest.raises(InputError, match="force must map a point of shape \\(2,\\)"):
        simulate_langevin(lambda x: x.sum(), np.eye(2), times)
    with pytest.raises(InputError, match="force failed on a point of shape \\(3,\\)"):
        simulate_langevin(force, np.eye(3), times)
    with pytest.raises(InputError, match="strictly increasing"):
        simulate_langevin(force, np.eye(2), times[::-1])
    with pytest.raises(InputError, match="diverged"):
        simulate_langevin(lambda x: x**3, np.eye(2), np.linspace(0, 50, 11), substeps=1,
                          initial=[3.0, 3.0])

"""Fluctuation theorems on small systems, with negative controls and ESS gates.

Every positive check must agree within 4.5 standard errors (FAP 6.8e-6 each, 18 per run; the
binned detailed FT, whose z is N(-0.72, 1.13) over 25 offsets, within 5: FAP 7.6e-5), and every
negative control (a wrong temperature in the functional) must miss by more than 4.5 standard
errors with a reliable ESS (they miss by 12 SE or more at offsets 0-3). Parameters are chosen so that the mean entropy
production of each identity lies in [0.5, 1.5], where exponential averages can be sampled
directly. The small systems use orthogonal (Hadamard) inputs with random signs and labels, so
that this holds whatever the seed offset: with random +-1 inputs the mean exponent of the
Hebbian IFT varied with the data set and left [0.5, 1.5] at two of three offsets.
"""

import math
import warnings

import jax
import numpy as np
import pytest
from _stats import seed
from scipy.linalg import hadamard

from thermoinfer.dynamics import NeuronParams, simulate
from thermoinfer.errors import InputError
from thermoinfer.tasks import MemorizationData, memorization_data
from thermoinfer.thermo.entropy_production import (
    entropy_production,
    exclusive_work,
    inclusive_work,
    log_partition_function,
)
from thermoinfer.thermo.fluctuation import (
    UnreliableEstimateWarning,
    bochkov_kuzovlev,
    detailed_fluctuation_theorem,
    exponential_average,
    integral_fluctuation_theorem,
    jarzynski,
)

N_SE = 4.5
# (rule, nu, T) at N = P = 8, k = 1, t = 1: the mean entropy production of every identity below is
# in [0.5, 1.5] (offsets 0-4: Hebbian 1.08-1.14 and 1.41-1.43, Perceptron 0.70-0.73 and 0.99-1.01,
# AdaTron 0.59-0.62 and 0.88-0.92). For the AdaTron nu < k keeps the variance of exp(-w/T) finite
# (its weights grow like exp(nu A^2 / 2T) on errors, against a density exp(-(k + nu) A^2 / 2T)).
SMALL_SYSTEMS = [("hebbian", 0.75, 2.0), ("perceptron", 0.8, 1.0), ("adatron", 0.9, 1.0)]
DFT_N_SE = 5.0


def _orthogonal_data(key, n=8, p=8):
    """Shared data: p rows of an n x n Hadamard matrix with random column signs, random labels.

    The Hebbian force then has |f|^2 = nu^2 p exactly, so the entropy production the parameters
    were chosen for does not depend on the draw (with random +-1 inputs it does, by +-40%)."""
    k1, k2 = jax.random.split(key)
    signs = np.asarray(jax.random.rademacher(k1, (n,), dtype=np.float64))
    labels = jax.random.rademacher(k2, (p,), dtype=np.float64)
    return MemorizationData(jax.numpy.asarray(hadamard(n)[:p] * signs, dtype=np.float64), labels)


def _fails(check):
    """A negative control: reliable estimate, off by more than N_SE standard errors."""
    return check.status == "ok" and abs(check.z_score) > N_SE


@pytest.mark.slow
@pytest.mark.parametrize("rule,nu,T", SMALL_SYSTEMS)
def test_ift_jarzynski_bochkov_kuzovlev_small_systems(rule, nu, T, key):
    d = _orthogonal_data(jax.random.fold_in(key, 100))
    p = NeuronParams(1.0, nu, T)
    r = simulate(jax.random.fold_in(key, 101), d, rule, p, t=1.0, dt=0.01, record_every=1,
                 n_replicas=8000)
    lz = log_partition_function(jax.random.fold_in(key, 102), d, rule, p, n_chains=128)
    assert lz.method == ("exact" if rule == "hebbian" else "thermodynamic_integration")

    # integral FT, reverse start p_inf, with the path-kernel heat (exact OU kernels for Hebbian,
    # Euler-Maruyama kernels otherwise: exact for the simulated chain)
    ep = entropy_production(r, d, rule, p, reverse_start="p_inf", heat="path_kernel",
                            log_partition=lz)
    assert ep.exact
    ift = integral_fluctuation_theorem(ep)
    assert ift.reverse_start == "p_inf" and "reverse_start=p_inf" in ift.label
    assert 0.5 < ift.mean_exponent < 1.5
    assert ift.holds(N_SE), ift

    # Jarzynski: inclusive work, Delta F = -T ln(Z/Z_0) from an independent estimate of ln Z
    wj = inclusive_work(r.initial_weights, d, rule, p)
    je = jarzynski(wj, T, lz)
    assert je.identity == "jarzynski" and "work=inclusive" in je.label
    assert je.holds(N_SE), je

    # Bochkov-Kuzovlev: exclusive work, <exp(-w/T)> = 1
    w = exclusive_work(r.initial_weights, r.final_weights, d, rule, p)
    bk = bochkov_kuzovlev(w, T)
    assert bk.identity == "bochkov_kuzovlev" and "work=exclusive" in bk.label
    assert 0.5 < bk.mean_exponent < 1.5
    assert bk.holds(N_SE), bk
    # the same identity as an IFT with reverse start p_0 and the EM/OU kernels of the paths layer
    ep0 = entropy_production(r, d, rule, p, reverse_start="p_0", heat="path_kernel")
    assert ep0.exact and integral_fluctuation_theorem(ep0).holds(N_SE)

    # negative control: the analyst's temperature is wrong by 50 %
    pw = p._replace(temperature=1.5 * T)
    lzw = log_partition_function(jax.random.fold_in(key, 103), d, rule, pw, n_chains=128)
    bad_ift = integral_fluctuation_theorem(
        entropy_production(r, d, rule, pw, reverse_start="p_inf", heat="path_kernel",
                           log_partition=lzw))
    assert _fails(bad_ift), bad_ift
    assert _fails(jarzynski(inclusive_work(r.initial_weights, d, rule, pw), pw.temperature, lzw))
    assert _fails(bochkov_kuzovlev(w, pw.temperature))
    # confusing the two works is caught too (Z/Z_0 != 1 here)
    assert _fails(bochkov_kuzovlev(wj, T))

    if rule == "hebbian":
        # conditional Delta s_tot with the exact p_t
        ept = entropy_production(r, d, rule, p)
        c = integral_fluctuation_theorem(ept)
        assert c.reverse_start == "p_t" and 0.5 < c.mean_exponent < 1.5 and c.holds(N_SE), c
        assert _fails(integral_fluctuation_theorem(entropy_production(r, d, rule, pw)))
        # leaving the system-entropy term out: exp(-q/T) is too heavy-tailed to be estimated
        # at all here (the ESS gate refuses), and it would not be 1 anyway
        with pytest.warns(UnreliableEstimateWarning):
            c = integral_fluctuation_theorem(ept.medium, reverse_start="p_t")
        assert c.status == "unreliable_ess" and math.isnan(c.value) and not c.holds(N_SE)


def test_discrete_ift_exact_at_coarse_dt_but_not_with_stratonovich_heat(key):
    """EM kernels: the IFT of the discrete chain is exact at any dt; the heat version is not.

    80 000 replicas: the Stratonovich-heat version then misses by 14.4 +- 1.2 SE (30 offsets); with
    20 000 it missed by 6-8 SE, too close to the 4.5-SE gate of the negative control."""
    d = memorization_data(jax.random.fold_in(key, 110), 4, 0.5, data_protocol="shared")
    p = NeuronParams(1.0, 1.0, 1.0)
    r = simulate(jax.random.fold_in(key, 111), d, "perceptron", p, t=1.2, dt=0.2,
                 record_every=1, n_replicas=80000)
    kern = integral_fluctuation_theorem(
        entropy_production(r, d, "perceptron", p, reverse_start="p_0", heat="path_kernel"))
    assert "heat=path_kernel_euler_maruyama" in kern.label
    assert kern.holds(N_SE), kern
    strat = entropy_production(r, d, "perceptron", p, reverse_start="p_0", heat="integrated")
    assert not strat.exact
    assert _fails(integral_fluctuation_theorem(strat))


def test_hebbian_marginal_ift_with_information(key):
    """<e^{-(ds+q/T)}> = 1 and <e^{-(ds+q/T)+di}> = 1 with the label-marginal p_t (§8.1)."""
    d = _orthogonal_data(jax.random.fold_in(key, 120), 8, 4)
    p = NeuronParams(1.0, 0.9, 2.0)
    r = simulate(jax.random.fold_in(key, 121), d, "hebbian", p, t=1.0, n_replicas=8000)
    ep = entropy_production(r, d, "hebbian", p, form="marginal")
    assert ep.system_method == "exact_ou_marginal" and ep.information is not None
    a = integral_fluctuation_theorem(ep)
    b = integral_fluctuation_theorem(ep, include_information=True)
    assert "information=included" in b.label
    assert a.holds(N_SE) and b.holds(N_SE), (a, b)
    # Jensen: <ds + q/T> >= <di>, i.e. the bound of §2.3 per data set
    assert np.mean(ep.total) > np.mean(ep.information)
    # with the information term, the exponent is the conditional Delta s_tot on every path
    cond = entropy_production(r, d, "hebbian", p)
    np.testing.assert_allclose(ep.total - ep.information, cond.total, rtol=0, atol=1e-10)


def test_detailed_ft_only_where_it_holds(key):
    d = _orthogonal_data(jax.random.fold_in(key, 130), 8, 4)
    p = NeuronParams(1.0, 0.9, 2.0)
    r = simulate(jax.random.fold_in(key, 131), d, "hebbian", p, t=1.0, n_replicas=20000)
    ep = entropy_production(r, d, "hebbian", p)
    assert ep.detailed_ft_applies
    dft = detailed_fluctuation_theorem(ep)
    # the histogram slope is biased by the binning: z = -0.72 +- 1.13 over 25 offsets, so 5 SE
    # (FAP 7.6e-5; 4.1e-4 at 4.5); the negative control is 20.2 +- 0.9 SE away
    assert dft.identity == "detailed_ft" and dft.holds(DFT_N_SE), dft
    # negative control: wrong temperature breaks p(s)/p(-s) = e^s
    bad = detailed_fluctuation_theorem(entropy_production(r, d, "hebbian",
                                                          p._replace(temperature=3.0)))
    assert _fails(bad), bad
    for other in (entropy_production(r, d, "hebbian", p, reverse_start="p_0"),
                  entropy_production(r, d, "hebbian", p, form="marginal")):
        with pytest.raises(InputError, match="only for Hebbian"):
            detailed_fluctuation_theorem(other)
    with pytest.raises(InputError, match="EntropyProduction"):
        detailed_fluctuation_theorem(np.asarray(ep.total))
    rp = simulate(jax.random.fold_in(key, 132), d, "perceptron", p, t=0.2, dt=0.01, n_replicas=8)
    with pytest.raises(InputError, match="integral FT holds"):
        detailed_fluctuation_theorem(entropy_production(rp, d, "perceptron", p,
                                                        reverse_start="p_0"))


def test_ess_warning_large_but_not_small_entropy_production(key):
    # orthogonal data: mean entropy production 17.6 and 0.49 whatever the offset (with random
    # inputs the first fell below 8, or the second above 1, at 9% of the offsets)
    d = _orthogonal_data(jax.random.fold_in(key, 140), 8, 4)
    big = NeuronParams(1.0, 3.0, 1.0)
    small = NeuronParams(1.0, 0.5, 1.0)
    r_big = simulate(jax.random.fold_in(key, 141), d, "hebbian", big, t=2.0, n_replicas=4000)
    r_small = simulate(jax.random.fold_in(key, 142), d, "hebbian", small, t=2.0, n_replicas=4000)
    ep_big = entropy_production(r_big, d, "hebbian", big)
    assert np.mean(ep_big.total) > 8  # >> 2
    with pytest.warns(UnreliableEstimateWarning, match="effective sample size"):
        c = integral_fluctuation_theorem(ep_big)
    assert c.status == "unreliable_ess" and c.ess < 100
    assert math.isnan(c.value) and math.isnan(c.se) and not c.holds()
    ep_small = entropy_production(r_small, d, "hebbian", small)
    assert np.mean(ep_small.total) < 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreliableEstimateWarning)
        c = integral_fluctuation_theorem(ep_small)
    assert c.status == "ok" and c.ess > 1000 and c.holds(N_SE)


def test_exponential_average_log_scale_and_errors():
    rng = np.random.default_rng(seed(3))
    mu = 0.7
    x = rng.normal(mu, math.sqrt(2 * mu), 20000)  # <e^-X> = 1 exactly
    a = exponential_average(x)
    assert a.status == "ok" and abs(a.value - 1) < N_SE * a.se
    # huge exponents: value underflows, the log scale does not
    b = exponential_average(x + 1000.0)
    assert b.value == 0.0 and abs(b.log_value - (a.log_value - 1000.0)) < 1e-9
    assert abs(b.ess - a.ess) < 1e-6 * a.ess and b.log_se == pytest.approx(a.log_se, rel=1e-9)
    c = exponential_average(x - 800.0)
    assert c.value == math.inf and abs(c.log_value - (a.log_value + 800.0)) < 1e-9
    # the standard error is SD/sqrt(n) of the exponentials
    assert a.se == pytest.approx(np.std(np.exp(-x), ddof=1) / math.sqrt(x.size), rel=1e-12)
    with pytest.warns(UnreliableEstimateWarning, match="not finite"):
        assert exponential_average([0.0, np.nan, 1.0]).status == "nonfinite"
    with pytest.raises(InputError, match="at least 2"):
        exponential_average([1.0])
    with pytest.raises(InputError, match="reverse_start must name"):
        integral_fluctuation_theorem(x)
    with pytest.raises(InputError, match="temperature"):
        bochkov_kuzovlev(x, 0.0)

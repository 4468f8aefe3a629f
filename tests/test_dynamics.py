"""Batch Langevin simulator: closed forms first, then convergence, then SE-gated Monte Carlo."""

import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stats import seed

import thermoinfer as ti
from thermoinfer.dynamics import NeuronParams, simulate, total_potential
from thermoinfer.tasks import memorization_data


def _hebb_heat(P, nu, k, t):
    return P * nu**2 * -math.expm1(-2 * k * t) / (2 * k)


@pytest.fixture
def hebb_clone():
    rule = ti.register_rule("hebb_clone_test", lambda a, s: jnp.ones_like(a * s), overwrite=True)
    yield rule
    ti.unregister_rule("hebb_clone_test")


@pytest.mark.parametrize("name", sorted(ti.RULES))
def test_first_law_to_machine_precision(name, key):
    d = memorization_data(jax.random.fold_in(key, 1), 30, 0.7, n_replicas=8)
    r = simulate(jax.random.fold_in(key, 2), d, name, NeuronParams(1.5, 0.8, 0.7), t=0.5, dt=0.005)
    scale = np.abs(r.work).max() + np.abs(r.heat).max()
    assert np.abs(r.first_law_residual).max() < 1e-12 * scale
    # the accumulated energy change equals V(w_t) - V(w_0) (Stratonovich sum exact for quadratic V)
    np.testing.assert_allclose(r.energy_change_integrated, r.energy_change, rtol=1e-11, atol=1e-10)


def test_hebbian_exact_heat_equals_integrated_and_minus_delta_u(key):
    d = memorization_data(jax.random.fold_in(key, 3), 40, 0.5, n_replicas=6)
    p = NeuronParams(0.7, 1.3, 2.0)
    for dt in (None, 0.05):
        r = simulate(jax.random.fold_in(key, 4), d, "hebbian", p, t=1.2, dt=dt)
        np.testing.assert_allclose(r.heat, r.heat_exact, atol=1e-12 * np.abs(r.heat).max())
        with jax.enable_x64(True):
            u0 = total_potential(jnp.asarray(r.initial_weights), jnp.asarray(d.inputs),
                                 jnp.asarray(d.labels), ti.RULES["hebbian"], p)
            ut = total_potential(jnp.asarray(r.final_weights), jnp.asarray(d.inputs),
                                 jnp.asarray(d.labels), ti.RULES["hebbian"], p)
        np.testing.assert_allclose(r.heat_exact, np.asarray(u0 - ut), rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("T", [0.5, 2.0])
def test_hebbian_mean_heat_exact_ou(T, key):
    """Mean heat alpha N nu^2 (1 - e^{-2kt}) / (2k) within 4.5 SE at N = 500 (energy units: no T).

    FAP 2 x 9.7e-6 per temperature (t_299); the negative control is 55-63 SE away (offsets 0-2).
    """
    N, alpha, R, k, nu, t = 500, 0.4, 300, 1.3, 0.9, 0.8
    d = memorization_data(jax.random.fold_in(key, 5), N, alpha, n_replicas=R)
    r = simulate(jax.random.fold_in(key, 6), d, "hebbian", NeuronParams(k, nu, T), t=t)
    truth = _hebb_heat(d.n_patterns, nu, k, t)
    for q in (r.heat_exact, r.heat_exact + r.reference_energy_change):  # plain and control variate
        se = q.std(ddof=1) / math.sqrt(R)
        assert abs(q.mean() - truth) < 4.5 * se, (q.mean(), truth, se)
    # negative control: the heat of the T = 1 formula with T inside the exponent must fail
    q = r.heat_exact + r.reference_energy_change
    wrong = truth * T
    assert abs(q.mean() - wrong) > 4.5 * q.std(ddof=1) / math.sqrt(R)


def test_hebbian_mean_heat_euler_maruyama_user_rule(hebb_clone, key):
    """Same closed form through the generic Euler-Maruyama path with F = 1 as a user rule."""
    N, alpha, R, k, nu, t, T = 500, 0.2, 100, 1.0, 1.0, 0.5, 1.5
    d = memorization_data(jax.random.fold_in(key, 7), N, alpha, n_replicas=R)
    r = simulate(jax.random.fold_in(key, 8), d, hebb_clone, NeuronParams(k, nu, T), t=t, dt=0.002)
    assert r.method == "euler_maruyama"
    q = r.heat_exact + r.reference_energy_change
    truth = _hebb_heat(d.n_patterns, nu, k, t)
    se = q.std(ddof=1) / math.sqrt(R)
    # EM bias is O(k dt) relative; bounded well below the SE here (checked: < 0.3 SE)
    # FAP < 5.8e-5: 4.5 SE of 100 replicas (t_99) shifted by at most 0.3 SE, i.e. below a 4.2-SE gate
    assert abs(q.mean() - truth) < 4.5 * se, (q.mean(), truth, se)
    # and the exact OU path with the same clone (auto picks EM because the clone declares
    # a dependence on A; exact_ou is refused for it)
    with pytest.raises(ti.InputError, match="exact_ou"):
        simulate(key, d, hebb_clone, NeuronParams(k, nu, T), t=t, method="exact_ou")


def test_finite_n_checkpoint_10_3(key):
    """physics.md §10.3: N=100, alpha=0.5, k=nu=1, t=2, per-replica data."""
    N, R = 100, 3000
    d = memorization_data(jax.random.fold_in(key, 9), N, 0.5, n_replicas=R)
    r = simulate(jax.random.fold_in(key, 10), d, "hebbian", NeuronParams(1.0, 1.0, 1.0), t=2.0)
    lam = r.activations * np.asarray(d.labels)
    # replicas are the independent units
    lam_rep = lam.mean(axis=1)
    err_rep = (lam < 0).mean(axis=1)
    var_rep = lam.var(axis=1, ddof=0)
    P = d.n_patterns
    c = 1 - math.exp(-2.0)
    var_true = 1 + (P - 1) * c**2 / N
    from scipy.stats import norm

    eps_true = norm.sf(c / math.sqrt(var_true))
    assert abs(c - 0.8647) < 1e-4 and abs(var_true - 1.36635) < 1e-5 and abs(eps_true - 0.22973) < 1e-5
    for est, truth in ((lam_rep, c), (err_rep, eps_true), (r.heat_exact, _hebb_heat(P, 1, 1, 2))):
        se = est.std(ddof=1) / math.sqrt(R)
        assert abs(est.mean() - truth) < 4.5 * se, (est.mean(), truth, se)  # FAP 3 x 7.1e-6
    assert abs(_hebb_heat(P, 1, 1, 2) - 24.542) < 1e-3
    assert var_rep.mean() < var_true  # within-replica variance misses the spread of the mean


@pytest.mark.slow
def test_finite_n_variance_is_resolved_from_the_thermodynamic_limit(key):
    """§10.3: Var(lambda) = 1/k + (P-1)c^2/N = 1.36635 at N = 100, not the N -> inf 1.3738.

    Replica-level estimator (c_t known): the per-replica mean of (lambda - c_t)^2, whose SE over
    200 000 independent replicas (~0.00075) resolves the 0.0075 difference (10 SE); the finite-N
    row is accepted within 4.5 SE (FAP 6.8e-6) and the N -> inf row rejected by more than 4.5 SE
    (negative control; it fails only if the estimate lands 5.5 SE above the truth: 1.9e-8). With
    60 000 replicas (5.5 SE apart) the negative control alone failed with probability ~1%.
    """
    N, c = 100, 1 - math.exp(-2.0)
    vals = []
    for i in range(20):  # 20 x 10 000 replicas, 400 MB of inputs at a time
        d = memorization_data(jax.random.fold_in(key, 1000 + i), N, 0.5, n_replicas=10_000)
        r = simulate(jax.random.fold_in(key, 2000 + i), d, "hebbian", NeuronParams(1.0, 1.0, 1.0),
                     t=2.0)
        lam = r.activations * np.asarray(d.labels)
        vals.append(((lam - c) ** 2).mean(axis=1))
    v = np.concatenate(vals)
    m, se = v.mean(), v.std(ddof=1) / math.sqrt(v.size)
    assert abs(m - 1.36635) < 4.5 * se, (m, se)
    assert abs(m - 1.3738) > 4.5 * se, (m, se)


@pytest.mark.parametrize("rule,order", [("adatron", 0.75), ("perceptron", 0.25)])
def test_integrated_heat_converges_to_exact(rule, order, key):
    """Per-path error of the trapezoidal heat against -Delta U_tot shrinks with dt.

    128 replicas: over 60 seed offsets (64 replicas) the slope was 0.790 +- 0.043 (AdaTron) and
    0.270 +- 0.047 (Perceptron), 3.7 SD inside the 0.2 tolerance (FAP 8.9e-5 and 6.9e-5); twice
    the replicas give about 0.03, FAP < 1e-6 (tests/README.md).
    """
    d = memorization_data(jax.random.fold_in(key, 11), 40, 0.5, n_replicas=128)
    p = NeuronParams(1.0, 1.0, 1.0)
    dts = [0.02, 0.005, 0.00125]
    errs = []
    for i, dt in enumerate(dts):
        r = simulate(jax.random.fold_in(key, 12 + i), d, rule, p, t=1.0, dt=dt)
        errs.append(math.sqrt(np.mean((r.heat - r.heat_exact) ** 2)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert errs[0] > errs[1] > errs[2]
    assert abs(slope - order) < 0.2, (slope, errs)


def test_same_key_same_numbers_and_recording_is_transparent(key):
    d = memorization_data(jax.random.fold_in(key, 20), 25, 0.4, n_replicas=3)
    p = NeuronParams(1.0, 0.5, 1.0)
    a = simulate(key, d, "perceptron", p, t=0.4, dt=0.01)
    b = simulate(key, d, "perceptron", p, t=0.4, dt=0.01, record_every=5)
    np.testing.assert_array_equal(a.final_weights, b.final_weights)
    np.testing.assert_array_equal(a.heat, b.heat)
    assert b.paths.shape == (3, 9, 25)
    np.testing.assert_array_equal(b.paths[:, 0], a.initial_weights)
    np.testing.assert_array_equal(b.paths[:, -1], a.final_weights)
    np.testing.assert_allclose(b.times, np.linspace(0, 0.4, 9))
    c = simulate(jax.random.fold_in(key, 1), d, "perceptron", p, t=0.4, dt=0.01)
    assert not np.array_equal(a.final_weights, c.final_weights)


def test_shared_data_uses_n_replicas(key):
    d = memorization_data(key, 20, 0.5, n_replicas=1, data_protocol="shared")
    assert d.inputs.shape == (10, 20)
    r = simulate(key, d, "hebbian", NeuronParams(1.0, 1.0, 1.0), t=math.inf, n_replicas=7)
    assert r.final_weights.shape == (7, 20)


def test_t_inf_hebbian_stationary(key):
    """At t = inf the weights are N(f/k, T/k) whatever w_0."""
    N, R, k, T = 50, 4000, 2.0, 0.5
    d = memorization_data(key, N, 0.5, n_replicas=1, data_protocol="shared")
    r = simulate(jax.random.fold_in(key, 1), d, "hebbian", NeuronParams(k, 1.0, T), t=math.inf,
                 n_replicas=R)
    f = np.asarray(ti.dynamics.learning_force(jnp.zeros(N), jnp.asarray(d.inputs),
                                              jnp.asarray(d.labels), ti.RULES["hebbian"], 1.0))
    dev = r.final_weights - f / k
    # FAP 3 x 6.8e-6: exact SEs (Gaussian weights, 200 000 of them), 4.5 SE
    assert abs(dev.mean()) < 4.5 * math.sqrt(T / k / (N * R))
    v = dev.var()
    assert abs(v - T / k) < 4.5 * (T / k) * math.sqrt(2 / (N * R))
    assert abs(np.corrcoef(r.initial_weights.ravel(), r.final_weights.ravel())[0, 1]) < 4.5 / math.sqrt(N * R)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(params=NeuronParams(0.0, 1.0, 1.0)), "k \\(stiffness\\)"),
        (dict(params=NeuronParams(-1.0, 1.0, 1.0)), "k \\(stiffness\\)"),
        (dict(params=NeuronParams(1.0, -1.0, 1.0)), "nu"),
        (dict(params=NeuronParams(1.0, 1.0, 0.0)), "T \\(temperature\\)"),
        (dict(params=NeuronParams(1.0, float("nan"), 1.0)), "nu"),
        (dict(rule="hopfield"), "unknown learning rule"),
        (dict(t=-1.0), "t \\(final time\\)"),
        (dict(dt=0.9), "too large for a stable Euler-Maruyama step"),
        (dict(t=math.inf), "t=inf needs exact sampling"),
        (dict(dt=None), "dt is required"),
    ],
)
def test_bad_input(kwargs, match, key):
    d = memorization_data(key, 20, 1.0, n_replicas=2)
    args = dict(params=NeuronParams(1.0, 5.0, 1.0), rule="adatron", t=1.0, dt=0.01)
    args.update(kwargs)
    with pytest.raises(ti.InputError, match=match):
        simulate(key, d, args.pop("rule"), args.pop("params"), **args)


def test_bad_data(key):
    with pytest.raises(ti.InputError, match="alpha"):
        memorization_data(key, 10, 0.0)
    with pytest.raises(ti.InputError, match="rounds to 0 patterns"):
        memorization_data(key, 10, 0.01)
    with pytest.raises(ti.InputError, match="n_weights"):
        memorization_data(key, 0, 0.5)
    with pytest.raises(ti.InputError, match="inputs"):
        memorization_data(key, 10, 0.5, inputs="ternary")
    d = memorization_data(key, 10, 0.5, n_replicas=2)
    bad = ti.MemorizationData(np.where(np.arange(10) == 3, np.nan, d.inputs), d.labels)
    with pytest.raises(ti.InputError, match="non-finite"):
        simulate(key, bad, "hebbian", NeuronParams(1, 1, 1), t=1.0)


def test_gaussian_inputs_and_realised_alpha(key):
    d = memorization_data(key, 30, 0.25, inputs="gaussian", n_replicas=2)
    assert d.n_patterns == round(0.25 * 30) == 8  # 7.5 rounds to 8 (banker's rounding: even)
    assert not np.allclose(np.abs(d.inputs), 1.0)


def test_float64_without_global_config():
    """A fresh interpreter without the test-suite config still gets float64 from the API."""
    code = (
        "import jax, math, thermoinfer as ti\n"
        "assert not jax.config.jax_enable_x64\n"
        f"d = ti.memorization_data(jax.random.key({seed(0)}), 10, 0.5, n_replicas=2)\n"
        f"r = ti.simulate(jax.random.key({seed(1)}), d, 'perceptron', ti.NeuronParams(1., 1., 1.), t=0.1, dt=0.01)\n"
        "assert str(r.heat.dtype) == 'float64' and str(r.final_weights.dtype) == 'float64', r.heat.dtype\n"
        "tree = ti.theory_memorization(alpha=0.5, nu=1.0)\n"
        "assert str(tree['summary']['efficiency'].dtype) == 'float64'\n"
        "assert not jax.config.jax_enable_x64\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_discontinuous_force_needs_a_resolving_step(key):
    """Perceptron at large nu: the drift per step must stay below the noise per step."""
    d = memorization_data(key, 50, 0.5, n_replicas=2)
    with pytest.raises(ti.InputError, match="kinks of F are not resolved"):
        simulate(key, d, "perceptron", NeuronParams(1.0, 100.0, 1.0), t=1.0, dt=0.01)
    simulate(key, d, "perceptron", NeuronParams(1.0, 1.0, 1.0), t=0.1, dt=0.01)  # fine
    assert ti.dynamics.force_jump(ti.RULES["perceptron"]) == 1.0
    assert ti.dynamics.force_jump(ti.RULES["adatron"]) == 0.0  # continuous: curvature bound


@pytest.mark.parametrize(
    "force,match",
    [
        (lambda a, s: a.nonexistent, "failed when called"),
        (lambda a, s: jnp.log(a), "non-finite"),
        (lambda a, s: jnp.ones(3), "shape"),
    ],
)
def test_broken_user_rule_is_one_clear_error(force, match, key):
    rule = ti.register_rule("broken_rule_test", force, overwrite=True)
    try:
        d = memorization_data(key, 10, 0.5, n_replicas=2)
        with pytest.raises(ti.InputError, match=match):
            simulate(key, d, rule, NeuronParams(1.0, 1.0, 1.0), t=0.1, dt=0.01)
    finally:
        ti.unregister_rule("broken_rule_test")


def test_data_too_large_is_refused(key):
    with pytest.raises(ti.InputError, match="GiB"):
        memorization_data(key, 20, 1e9, n_replicas=4)


def test_rule_declarations_are_checked():
    """A false 'independent of A' or a wrong potential would silently change dynamics or heat."""
    with pytest.raises(ti.InputError, match="depends_on_activation=False"):
        ti.register_rule("bad_decl", lambda a, s: jnp.abs(a), depends_on_activation=False)
    perc = ti.RULES["perceptron"]
    with pytest.raises(ti.InputError, match="not the integral"):
        ti.register_rule("bad_pot", perc.force, potential=lambda a, s: -perc.potential(a, s))
    with pytest.raises(ti.InputError, match="G\\(0\\)"):
        ti.register_rule("bad_g0", perc.force, potential=lambda a, s: perc.potential(a, s) + 1.0)
    assert "bad_decl" not in ti.available_rules() and "bad_pot" not in ti.available_rules()
    ok = ti.register_rule("good_pot", perc.force, potential=perc.potential, overwrite=True)
    assert ok.potential is perc.potential
    ti.unregister_rule("good_pot")


def test_hebbian_exact_heat_against_an_independent_formula(key):
    """q = f.(w_t - w_0) - k/2 (|w_t|^2 - |w_0|^2) with f summed by hand (physics.md §8.1)."""
    N, k, nu, T = 30, 0.8, 1.2, 1.7
    d = memorization_data(jax.random.fold_in(key, 30), N, 0.5, n_replicas=5)
    r = simulate(jax.random.fold_in(key, 31), d, "hebbian", NeuronParams(k, nu, T), t=0.9)
    xi, sig = np.asarray(d.inputs), np.asarray(d.labels)
    f = nu / math.sqrt(N) * np.einsum("rp,rpn->rn", sig, xi)
    w0, wt = r.initial_weights, r.final_weights
    q = np.sum(f * (wt - w0), -1) - 0.5 * k * (np.sum(wt**2, -1) - np.sum(w0**2, -1))
    np.testing.assert_allclose(r.heat_exact, q, rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(r.heat, q, rtol=1e-12, atol=1e-11)
    # and the exclusive work from the force (trapezoid) equals f.(w_t - w_0) exactly
    np.testing.assert_allclose(r.work, np.sum(f * (wt - w0), -1), rtol=1e-12, atol=1e-11)

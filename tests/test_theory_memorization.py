"""Thermodynamic-limit Hebbian memorisation theory (physics.md §3, §10.1–10.2).

Order: closed-form checkpoints against independent references (scipy.special, scipy.integrate,
mpmath), then the temperature scaling with a negative control, then limits tested as convergence
(fitted log-log slopes against the derived orders), then the ramp protocol against an ODE
integration, then refusals and bad input.
"""

from __future__ import annotations

import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import scipy.integrate as si
import scipy.special as sp
import scipy.stats as st
from _stats import seed

from thermoinfer.errors import InputError
from thermoinfer.information import EFFICIENCY_STATUS, efficiency
from thermoinfer.theory import (
    efficiency_fast_learning_coefficient,
    efficiency_slow_learning_limit,
    marchenko_pastur_entropy,
    memorization_theory,
)

INF = float("inf")

# --------------------------------------------------------------------------------------------
# independent references (mpmath / scipy, written from physics.md, not from the library)
# --------------------------------------------------------------------------------------------


def ref_closed(alpha, nu, k=1.0, temperature=1.0, t=INF):
    """Sudden switch-on closed forms of physics.md §3.1–3.4 in mpmath (30 digits)."""
    with mp.workdps(30):
        a, nu, k, T = (mp.mpf(v) for v in (alpha, nu, k, temperature))
        e1 = mp.mpf(1) if t == INF else 1 - mp.exp(-k * mp.mpf(t))
        e2 = mp.mpf(1) if t == INF else 1 - mp.exp(-2 * k * mp.mpf(t))
        c = nu / k * e1
        var = T / k + a * c**2
        x = k * c**2 / T
        eps = mp.erfc(c / mp.sqrt(var) / mp.sqrt(2)) / 2
        info = mp.log(2) + eps * mp.log(eps) + (1 - eps) * mp.log(1 - eps)
        heat = a * nu**2 / (2 * k) * e2
        return dict(eps=float(eps), c=float(c), var=float(var), x=float(x), I_P=float(info),
                    I_N=float(a * info), heat=float(heat), medium=float(heat / T),
                    work=float(a * nu**2 / k * e1), energy=float(a * nu**2 / (2 * k) * e1**2),
                    S_a=float(mp.log(1 + a * x) / 2))


def ref_mp_entropy(alpha, x):
    """(alpha/2) int rho_MP ln(1 + x lambda) by scipy quad with the algebraic endpoint weight."""
    lm, lp = (1 - np.sqrt(alpha)) ** 2, (1 + np.sqrt(alpha)) ** 2
    # rho_MP = sqrt((lp - l)(l - lm)) / (2 pi alpha l); the sqrt is quad's weight 'alg' (1/2, 1/2)
    f = lambda l: (np.log1p(x * l) / l if l > 0 else x) / (2 * np.pi * alpha)  # noqa: E731
    val, err = si.quad(f, lm, lp, weight="alg", wvar=(0.5, 0.5), epsabs=0.0, epsrel=1e-13,
                       limit=200)
    return 0.5 * alpha * val


def slope(xs, ys):
    """Least-squares slope of log|y| against log x."""
    return np.polyfit(np.log(xs), np.log(np.abs(ys)), 1)[0]


# --------------------------------------------------------------------------------------------
# §10.1 checkpoints
# --------------------------------------------------------------------------------------------

CHECKPOINT = dict(eps=0.207108, I_P=0.183047, I_N=0.091524, heat=0.25, S_a=0.202733,
                  S_q=0.158384, eta_a=0.202158, eta_q=0.224112)


def _checkpoint_values(th_a, th_q):
    return dict(eps=th_a.training_error, I_P=th_a.mutual_information_per_pattern,
                I_N=th_a.mutual_information_per_weight, heat=th_a.heat_per_weight,
                S_a=th_a.entropy_change_per_weight, S_q=th_q.entropy_change_per_weight,
                eta_a=th_a.efficiency, eta_q=th_q.efficiency)


def test_checkpoint_10_1_at_printed_precision_and_against_references():
    th_a = memorization_theory(0.5, 1.0)
    th_q = memorization_theory(0.5, 1.0, entropy="quenched_gaussian")
    got = _checkpoint_values(th_a, th_q)
    r = ref_closed(0.5, 1.0)
    s_q = ref_mp_entropy(0.5, 1.0)
    ref = dict(eps=r["eps"], I_P=r["I_P"], I_N=r["I_N"], heat=r["heat"], S_a=r["S_a"], S_q=s_q,
               eta_a=r["I_N"] / (r["S_a"] + r["medium"]), eta_q=r["I_N"] / (s_q + r["medium"]))
    for name, printed in CHECKPOINT.items():
        assert round(float(got[name]), 6) == printed, name          # printed precision
        assert round(ref[name], 6) == printed, name                 # the references agree
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-12, atol=0, err_msg=name)
    assert th_a.conventions["entropy_convention"] == "annealed"
    assert th_q.conventions["entropy_convention"] == "quenched_gaussian"
    assert th_a.conventions["protocol"] == "sudden" and th_a.conventions["temperature"] == 1.0


def test_checkpoint_10_3_thermodynamic_limit_row():
    th = memorization_theory(0.5, 1.0, t=2.0)
    assert round(float(th.training_error), 4) == 0.2303
    assert round(float(th.stability_mean), 4) == 0.8647
    assert round(float(th.stability_variance), 4) == 1.3738
    assert round(float(th.heat_per_weight) * 100, 3) == 24.542


@pytest.mark.parametrize("t", [0.3, 2.0, INF])
@pytest.mark.parametrize("alpha,nu,k", [(0.1, 0.05, 1.0), (2.0, 3.0, 0.5), (1.0, 10.0, 2.0)])
def test_all_fields_against_references(alpha, nu, k, t):
    th = memorization_theory(alpha, nu, k=k, t=t)
    r = ref_closed(alpha, nu, k=k, t=t)
    pairs = dict(training_error="eps", stability_mean="c", stability_variance="var",
                 signal_to_noise="x", mutual_information_per_pattern="I_P",
                 mutual_information_per_weight="I_N", heat_per_weight="heat",
                 medium_entropy_per_weight="medium", work_per_weight="work",
                 energy_change_per_weight="energy", entropy_change_per_weight="S_a")
    for field, key in pairs.items():
        np.testing.assert_allclose(getattr(th, field), r[key], rtol=1e-12, err_msg=field)
    # first law W = Q + dV, and the conditional entropy change of Hebbian learning is zero
    np.testing.assert_allclose(th.work_per_weight, th.heat_per_weight + th.energy_change_per_weight,
                               rtol=1e-14)
    assert th.entropy_change_conditional_per_weight == 0.0
    assert th.entropy_change_per_weight_se == 0.0


# --------------------------------------------------------------------------------------------
# temperature
# --------------------------------------------------------------------------------------------

ENTROPY_UNIT = ("training_error", "signal_to_noise", "mutual_information_per_pattern",
                "mutual_information_per_weight", "medium_entropy_per_weight",
                "entropy_change_per_weight", "efficiency", "margin")
ENERGY_UNIT = ("heat_per_weight", "work_per_weight", "energy_change_per_weight",
               "stability_variance")


@pytest.mark.parametrize("entropy", ["annealed", "quenched_gaussian"])
@pytest.mark.parametrize("c", [0.5, 2.0])
def test_temperature_scaling(entropy, c):
    """(nu, T) -> (sqrt(c) nu, c T): entropy-unit quantities invariant, energies scale by c."""
    nu = np.array([0.1, 1.0, 4.0])
    t = np.array([[0.5], [INF]])
    base = memorization_theory(0.7, nu, t=t, entropy=entropy)
    hot = memorization_theory(0.7, np.sqrt(c) * nu, t=t, temperature=c, entropy=entropy)
    for f in ENTROPY_UNIT:
        np.testing.assert_allclose(getattr(hot, f), getattr(base, f), rtol=1e-12, err_msg=f)
    for f in ENERGY_UNIT:
        np.testing.assert_allclose(getattr(hot, f), c * getattr(base, f), rtol=1e-12, err_msg=f)
    np.testing.assert_allclose(hot.stability_mean, np.sqrt(c) * base.stability_mean, rtol=1e-12)
    assert hot.conventions["temperature"] == c
    # the checkpoint reproduced at T = c with nu = sqrt(c)
    th = memorization_theory(0.5, np.sqrt(c), temperature=c, entropy=entropy)
    key = "eta_a" if entropy == "annealed" else "eta_q"
    assert round(float(th.efficiency), 6) == CHECKPOINT[key]
    np.testing.assert_allclose(th.heat_per_weight, c * 0.25, rtol=1e-14)


@pytest.mark.parametrize("c", [0.5, 2.0])
def test_negative_control_heat_without_temperature_breaks_invariance(c):
    """Dropping the 1/T of the heat term moves eta by far more than the invariance tolerance."""
    base = memorization_theory(0.5, 1.0)
    hot = memorization_theory(0.5, np.sqrt(c), temperature=c)
    tol = 1e-12
    assert abs(hot.efficiency - base.efficiency) <= tol * base.efficiency
    wrong = efficiency(hot.mutual_information_per_weight, hot.entropy_change_per_weight,
                       hot.heat_per_weight)  # heat in energy units instead of heat / T
    assert abs(wrong.efficiency - base.efficiency) > 1e6 * tol * base.efficiency
    assert abs(wrong.efficiency / base.efficiency - 1) > 0.05


# --------------------------------------------------------------------------------------------
# limits as convergence
# --------------------------------------------------------------------------------------------

NU_SMALL = np.geomspace(1e-3, 3e-2, 6)


@pytest.mark.parametrize("entropy", ["annealed", "quenched_gaussian"])
@pytest.mark.parametrize("k,t", [(1.0, INF), (1.5, 0.7), (0.5, 3.0)])
def test_slow_learning_limit_converges_like_nu_squared(entropy, k, t):
    limit = (1 - np.exp(-k * t)) / np.pi
    np.testing.assert_allclose(efficiency_slow_learning_limit(k, t), limit, rtol=1e-14)
    eta = memorization_theory(0.5, NU_SMALL, k=k, t=t, entropy=entropy).efficiency
    err = eta - limit
    assert np.all(err < 0)                                  # approached from below
    assert abs(slope(NU_SMALL, err) - 2.0) < 0.01           # error ∝ nu^2 (x_t ∝ nu^2)
    assert abs(err[0]) < 1e-6


def test_slow_learning_limit_values():
    assert efficiency_slow_learning_limit(1.0, INF) == pytest.approx(1 / np.pi, rel=1e-15)
    assert efficiency_slow_learning_limit(3.0, INF, "linear_ramp") == pytest.approx(2 / np.pi,
                                                                                    rel=1e-15)
    assert np.isnan(efficiency_slow_learning_limit(1.0, 0.0))
    # short-time expansion of the limit: (1 - e^{-kt})/pi
    np.testing.assert_allclose(efficiency_slow_learning_limit(2.0, 1e-9), 2e-9 / np.pi, rtol=1e-8)


def test_fast_learning_coefficient_and_rate():
    """eta nu^2 -> 2kT [ln2 - h2(H(1/sqrt(alpha)))], relative error -(ln(1+ax) + kappa)/(ax).

    With x = nu^2/(kT): eta nu^2 = 2kT I(x) / (1 + ln(1+ax)/(ax)), and
    y = sqrt(x/(1+ax)) = y_inf (1 - 1/(2ax) + ...) so I = I_inf - y_inf I'(y_inf)/(2ax) + ...,
    where I'(y) = phi(y) ln((1-eps)/eps). Hence the relative error
    delta = -(ln(1+ax) + kappa)/(ax) + O(ln^2 x / x^2), kappa = y_inf I'(y_inf)/(2 I_inf):
    a log-corrected nu^{-2} law, local log-log slope -2 + 2/ln(ax).
    """
    alpha, k = 0.5, 1.0
    coef = efficiency_fast_learning_coefficient(alpha, k)
    with mp.workdps(30):
        eps = mp.erfc(1 / mp.sqrt(2 * alpha)) / 2
        i_inf = mp.log(2) + eps * mp.log(eps) + (1 - eps) * mp.log(1 - eps)
    assert round(float(coef), 6) == 0.835377
    np.testing.assert_allclose(coef, 2 * k * float(i_inf), rtol=1e-13)
    np.testing.assert_allclose(efficiency_fast_learning_coefficient(alpha, 2.0, temperature=3.0),
                               6 * coef, rtol=1e-14)

    nu = np.geomspace(30.0, 3000.0, 7)
    x = nu**2 / k
    delta = memorization_theory(alpha, nu, k=k).efficiency * nu**2 / coef - 1
    y = 1 / np.sqrt(alpha)
    e = sp.ndtr(-y)
    kappa = y * st.norm.pdf(y) * np.log((1 - e) / e) / (2 * float(i_inf))
    predicted = -(np.log1p(alpha * x) + kappa) / (alpha * x)
    assert np.all(delta < 0)
    ratio = delta / predicted - 1
    assert np.all(np.abs(ratio) < 3 * np.log1p(alpha * x) / (alpha * x))   # next order
    assert abs(slope(nu, delta) - slope(nu, predicted)) < 0.01
    assert -2.0 < slope(nu, delta) < -1.7                       # log-corrected nu^-2
    assert abs(delta[-1]) < 1e-5


def test_short_times_eta_over_kt_pi():
    """eta = (kt/pi)(1 - kt/2 + O(t^2)) at fixed nu: relative error linear in t, coefficient -k/2."""
    k = 1.3
    t = np.geomspace(1e-4, 1e-2, 5)
    eta = memorization_theory(0.5, 1.0, k=k, t=t).efficiency
    rel = eta / (k * t / np.pi) - 1
    assert abs(slope(t, rel) - 1.0) < 0.01
    np.testing.assert_allclose(rel[:2] / (-k * t[:2] / 2), 1.0, rtol=2e-3)


def test_eta_decreases_with_nu_and_stays_below_one_over_pi():
    nu = np.geomspace(0.01, 10, 40)
    for entropy in ("annealed", "quenched_gaussian"):
        eta = memorization_theory(np.array([[0.1], [0.5], [1.0], [2.0]]), nu,
                                  entropy=entropy).efficiency
        assert np.all(np.diff(eta, axis=-1) < 0)
        assert np.all(eta < 1 / np.pi)
        assert np.all(np.diff(eta, axis=0) < 0)   # decreasing in alpha on the recommended grid


# --------------------------------------------------------------------------------------------
# quenched Gaussian (Marchenko–Pastur) entropy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 0.5, 0.99, 1.0, 1.01, 2.0, 10.0, 1e3])
def test_marchenko_pastur_against_quad(alpha):
    x = np.array([1e-6, 1e-2, 1.0, 100.0, 1e4])
    got = marchenko_pastur_entropy(alpha, x)
    ref = np.array([ref_mp_entropy(alpha, xi) for xi in x])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0)


def test_marchenko_pastur_small_signal_and_mass():
    alpha = np.array([0.3, 1.0, 3.0])
    # leading order alpha x / 2 in every convention
    np.testing.assert_allclose(marchenko_pastur_entropy(alpha, 1e-10), alpha * 0.5e-10, rtol=1e-9)
    # large x: (alpha/2) * mass * ln x + const + o(1); mass = min(1, 1/alpha). The o(1) is
    # O(1/x) away from alpha = 1 but O(x^{-1/2}) at alpha = 1, where rho_MP ~ lambda^{-1/2}.
    x1, x2 = 1e8, 1e10
    d = (marchenko_pastur_entropy(alpha, x2) - marchenko_pastur_entropy(alpha, x1)) / np.log(100)
    expected = 0.5 * alpha * np.minimum(1, 1 / alpha)
    assert np.all(np.abs(d / expected - 1) < np.array([1e-6, 1e-4, 1e-6]))


def test_ordering_quenched_below_annealed_and_bound():
    alpha = np.array([[0.05], [0.5], [1.0], [4.0]])
    nu = np.geomspace(0.01, 30, 25)
    for t in (0.2, INF):
        a = memorization_theory(alpha, nu, t=t)
        q = memorization_theory(alpha, nu, t=t, entropy="quenched_gaussian")
        assert np.all(q.entropy_change_per_weight <= a.entropy_change_per_weight)
        assert np.all(q.efficiency >= a.efficiency)
        for th in (a, q):
            assert np.all(th.bound_satisfied) and np.all(th.margin > 0)
            assert np.all(th.status == 0) and np.all(th.efficiency <= 1)


# --------------------------------------------------------------------------------------------
# t = 0, protocol ramp
# --------------------------------------------------------------------------------------------


def test_t_zero_efficiency_is_nan_with_status():
    th = memorization_theory([0.5, 2.0], 1.0, t=0.0)
    assert np.all(np.isnan(th.efficiency))
    assert [EFFICIENCY_STATUS[s] for s in th.status] == ["no_cost", "no_cost"]
    assert np.all(th.mutual_information_per_weight == 0) and np.all(th.heat_per_weight == 0)
    assert np.all(th.training_error == 0.5)
    th = memorization_theory(0.5, 0.0)                     # nu = 0: no learning either
    assert np.isnan(th.efficiency) and EFFICIENCY_STATUS[int(th.status)] == "no_cost"


def _ramp_ode(k, tau, t):
    """Mean m (per unit force) and heat integral of |f(s) - k m|^2 by solve_ivp."""
    rhs = lambda s, y: [-k * y[0] + min(s, tau) / tau, (min(s, tau) / tau - k * y[0]) ** 2]  # noqa: E731
    sol = si.solve_ivp(rhs, [0, t], [0.0, 0.0], method="DOP853", rtol=1e-12, atol=1e-15,
                       t_eval=[t], first_step=1e-4, max_step=0.05)
    return sol.y[0, -1], sol.y[1, -1]


@pytest.mark.parametrize("t", [0.4, 1.999, 2.0, 2.5, 7.0])
def test_linear_ramp_against_ode(t):
    alpha, nu, k, tau, temp = 0.5, 0.7, 1.3, 2.0, 0.8
    th = memorization_theory(alpha, nu, k=k, t=t, temperature=temp, protocol="linear_ramp",
                             ramp_time=tau)
    m, q = _ramp_ode(k, tau, t)
    np.testing.assert_allclose(th.stability_mean, nu * m, rtol=1e-9)
    np.testing.assert_allclose(th.heat_per_weight, alpha * nu**2 * q, rtol=1e-8)
    np.testing.assert_allclose(th.stability_variance, temp / k + alpha * (nu * m) ** 2, rtol=1e-9)
    np.testing.assert_allclose(th.work_per_weight,
                               th.heat_per_weight + th.energy_change_per_weight, rtol=1e-14)


def test_linear_ramp_spec_formula_and_final_state():
    alpha, nu, k = 0.5, 1.0, 1.0
    tau = np.array([0.01, 0.5, 3.0, 50.0])
    th = memorization_theory(alpha, nu, k=k, protocol="linear_ramp", ramp_time=tau)
    f2 = alpha * nu**2
    with mp.workdps(30):
        ref = [float(f2 / (k**2 * mp.mpf(T) ** 2) * (T - 2 * (1 - mp.exp(-k * T)) / k
                                                      + (1 - mp.exp(-2 * k * T)) / (2 * k))
                     + f2 * (1 - mp.exp(-k * T)) ** 2 / (2 * k**3 * mp.mpf(T) ** 2))
               for T in tau]
    np.testing.assert_allclose(th.heat_per_weight, ref, rtol=1e-12)
    sudden = memorization_theory(alpha, nu, k=k)
    for f in ("training_error", "mutual_information_per_weight", "entropy_change_per_weight",
              "energy_change_per_weight", "stability_mean"):
        np.testing.assert_allclose(getattr(th, f), getattr(sudden, f), rtol=1e-14, err_msg=f)
    assert np.all(th.heat_per_weight < sudden.heat_per_weight)
    assert th.conventions["protocol"] == "linear_ramp"


def test_linear_ramp_heat_limits():
    alpha, nu, k = 0.5, 1.0, 2.0
    f2 = alpha * nu**2
    # k tau >> 1: Q ~ |f|^2/(k^2 tau) with relative error -1/(k tau) (exactly 1 - 1/u + O(e^-u))
    tau = np.geomspace(10.0, 1e4, 5)
    q = memorization_theory(alpha, nu, k=k, protocol="linear_ramp", ramp_time=tau).heat_per_weight
    rel = q * k**2 * tau / f2 - 1
    assert abs(slope(tau, rel) + 1.0) < 1e-3
    np.testing.assert_allclose(rel, -1 / (k * tau), rtol=1e-6)
    # tau -> 0: the sudden value |f|^2/(2k), relative error -k tau/3
    tau = np.geomspace(1e-5, 1e-3, 5)
    q = memorization_theory(alpha, nu, k=k, protocol="linear_ramp", ramp_time=tau).heat_per_weight
    rel = q / (f2 / (2 * k)) - 1
    assert abs(slope(tau, rel) - 1.0) < 1e-3
    np.testing.assert_allclose(rel, -k * tau / 3, rtol=1e-3)


def test_quasistatic_ramp_efficiency_tends_to_two_over_pi():
    """nu -> 0 then tau -> infinity: eta -> 2/pi, the error ∝ 1/tau (heat ~ 1/(k tau))."""
    # slow limit 2/(pi (1 + 2 Qhat)) with Qhat = (u - 1)/u^2 + O(e^-u), u = k tau, so
    # 2/pi - eta = (4/pi)/u * (1 - 3/u + O(u^-2))
    tau = np.geomspace(10.0, 1e5, 6)
    th = memorization_theory(0.5, 1e-6, protocol="linear_ramp", ramp_time=tau)
    err = 2 / np.pi - th.efficiency
    assert np.all(err > 0)
    assert abs(slope(tau[2:], err[2:]) + 1.0) < 0.01
    rel = err / (4 / (np.pi * tau)) - 1
    np.testing.assert_allclose(rel[2:] * tau[2:], -3.0, rtol=0.02)
    assert err[-1] < 2e-5
    np.testing.assert_allclose(th.efficiency,
                               efficiency_slow_learning_limit(1.0, INF, "linear_ramp",
                                                              ramp_time=tau), rtol=1e-9)
    # and for tau fixed, nu -> 0 converges like nu^2 to the ramp's slow-learning limit
    lim = efficiency_slow_learning_limit(1.0, 5.0, "linear_ramp", ramp_time=3.0)
    eta = memorization_theory(0.5, NU_SMALL, t=5.0, protocol="linear_ramp", ramp_time=3.0).efficiency
    assert abs(slope(NU_SMALL, eta - lim) - 2.0) < 0.01


# --------------------------------------------------------------------------------------------
# JAX transformations and float64
# --------------------------------------------------------------------------------------------


def test_jit_grad_vmap():
    f = lambda nu: memorization_theory(0.5, nu, t=2.0, entropy="quenched_gaussian").efficiency  # noqa: E731
    g = jax.grad(f)(1.0)
    h = 1e-6
    fd = (f(1.0 + h) - f(1.0 - h)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-7)
    whole = jax.jit(lambda nu: memorization_theory(0.5, nu))(1.0)
    assert round(float(whole.efficiency), 6) == CHECKPOINT["eta_a"]
    assert whole.conventions["entropy_convention"] == "annealed"
    v = jax.vmap(lambda tau: memorization_theory(0.5, 1.0, protocol="linear_ramp",
                                                 ramp_time=tau).heat_per_weight)(jnp.array([1.0, 2.0]))
    assert v.shape == (2,)
    ga = jax.grad(lambda a: memorization_theory(a, 1.0, entropy="quenched_gaussian")
                  .entropy_change_per_weight)(1.0)
    fd = (marchenko_pastur_entropy(1.0 + h, 1.0) - marchenko_pastur_entropy(1.0 - h, 1.0)) / (2 * h)
    np.testing.assert_allclose(ga, fd, rtol=1e-7)


def test_float64_without_global_x64():
    code = ("import jax; assert not jax.config.jax_enable_x64\n"
            "from thermoinfer.theory import memorization_theory as m\n"
            "th = m(0.5, 1.0, entropy='quenched_gaussian')\n"
            "assert th.efficiency.dtype.name == 'float64', th.efficiency.dtype\n"
            "assert abs(float(th.efficiency) - 0.224111936413670213) < 1e-14\n"
            "assert not jax.config.jax_enable_x64\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --------------------------------------------------------------------------------------------
# exact_mixture
# --------------------------------------------------------------------------------------------


def test_exact_mixture_plumbing_with_stub(monkeypatch, key):
    calls = []

    def stub(k_mc, inputs, signal, *, stiffness=1.0, temperature=1.0, n_samples=4096):
        inputs = np.asarray(inputs)
        calls.append((inputs, signal, stiffness, temperature, n_samples))
        value = 0.1 * inputs.shape[0] + 0.01 * float(jax.random.uniform(k_mc))
        return value, 0.002

    mod = types.ModuleType("thermoinfer.information.entropy")
    mod.exact_mixture_entropy_change = stub
    monkeypatch.setitem(sys.modules, "thermoinfer.information.entropy", mod)
    th = memorization_theory([0.25, 0.5], 1.0, t=1.0, k=2.0, temperature=0.5,
                             entropy="exact_mixture", n_weights=8, key=key, n_samples=64,
                             n_input_draws=3)
    assert len(calls) == 6
    inputs, signal, stiffness, temperature, n_samples = calls[0]
    assert inputs.shape == (2, 8) and set(np.unique(inputs)) == {-1.0, 1.0}
    assert calls[3][0].shape == (4, 8)
    np.testing.assert_allclose(signal, 0.5 * (1 - np.exp(-2.0)), rtol=1e-14)
    assert (stiffness, temperature, n_samples) == (2.0, 0.5, 64)
    np.testing.assert_allclose(th.entropy_change_per_weight, [0.2 / 8, 0.4 / 8], atol=0.01 / 8)
    assert np.all(th.entropy_change_per_weight_se >= np.sqrt(3) * 0.002 / 3 / 8 - 1e-15)
    assert th.conventions["limit"] == "n_weights=8"
    # same key, same numbers
    th2 = memorization_theory([0.25, 0.5], 1.0, t=1.0, k=2.0, temperature=0.5,
                              entropy="exact_mixture", n_weights=8, key=key, n_samples=64,
                              n_input_draws=3)
    np.testing.assert_array_equal(th.entropy_change_per_weight, th2.entropy_change_per_weight)


def test_exact_mixture_real_estimator(key):
    pytest.importorskip("thermoinfer.information.entropy")
    alpha, nu, n = 0.5, 0.3, 16
    th = memorization_theory(alpha, nu, entropy="exact_mixture", n_weights=n, key=key,
                             n_samples=2048, n_input_draws=2)
    ann = memorization_theory(alpha, nu)
    ds, se = float(th.entropy_change_per_weight), float(th.entropy_change_per_weight_se)
    assert se > 0
    # one-sided 4.5-SE gates on strict inequalities: FAP < 3 x 3.4e-6
    assert ds <= float(ann.entropy_change_per_weight) + 4.5 * se     # S_c <= S_b <= S_a
    assert ds <= alpha * np.log(2) + 4.5 * se
    assert ds >= 0.8 * float(ann.entropy_change_per_weight) - 4.5 * se  # agree to leading order


# --------------------------------------------------------------------------------------------
# refusals and bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,words", [
    (dict(alpha=0.0), ["alpha", "0.0"]),
    (dict(alpha=-1.0), ["alpha", "-1.0"]),
    (dict(alpha=INF), ["alpha", "inf"]),
    (dict(nu=-0.1), ["nu", "-0.1"]),
    (dict(nu=float("nan")), ["nu", "nan"]),
    (dict(k=0.0), ["k", "stiffness"]),
    (dict(temperature=-2.0), ["temperature", "-2.0"]),
    (dict(temperature=0.0), ["temperature"]),
    (dict(t=-1.0), ["t ", "-1.0", "inf"]),
    (dict(t=float("nan")), ["t ", "nan"]),
    (dict(t=[1.0, -3.0]), ["t ", "-3.0", "index (1,)"]),
    (dict(alpha="many"), ["alpha", "'many'"]),
    (dict(entropy="quenched"), ["entropy", "quenched_gaussian"]),
    (dict(protocol="ramp"), ["protocol", "linear_ramp"]),
    (dict(protocol="linear_ramp"), ["ramp_time", "required"]),
    (dict(protocol="linear_ramp", ramp_time=0.0), ["ramp_time", "0.0"]),
    (dict(ramp_time=3.0), ["ramp_time", "linear_ramp"]),
    (dict(rule="perceptron"), ["no closed form", "perceptron",
                               "thermoinfer simulate memorization --rule perceptron"]),
    (dict(rule="adatron"), ["no closed form", "adatron"]),
    (dict(rule="nonsense"), ["unknown learning rule", "nonsense"]),
    (dict(entropy="exact_mixture"), ["no closed form in the thermodynamic limit", "n_weights",
                                     "thermoinfer simulate memorization --entropy exact_mixture"]),
    (dict(entropy="exact_mixture", n_weights=10), ["key"]),
    (dict(entropy="exact_mixture", n_weights=0, key=jax.random.key(seed(0))), ["n_weights", "0"]),
])
def test_bad_input(kwargs, words):
    args = dict(alpha=0.5, nu=1.0)
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        memorization_theory(args.pop("alpha"), args.pop("nu"), **args)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_user_rule_refused():
    from thermoinfer import register_rule, unregister_rule

    register_rule("hebb_like_user", lambda a, s: jnp.ones_like(a * s), overwrite=True)
    try:
        with pytest.raises(InputError, match="simulate memorization --rule hebb_like_user"):
            memorization_theory(0.5, 1.0, rule="hebb_like_user")
    finally:
        unregister_rule("hebb_like_user")


def test_limit_helpers_bad_input():
    with pytest.raises(InputError, match="k"):
        efficiency_slow_learning_limit(0.0, 1.0)
    with pytest.raises(InputError, match="protocol"):
        efficiency_slow_learning_limit(1.0, 1.0, "quasistatic")
    with pytest.raises(InputError, match="alpha"):
        efficiency_fast_learning_coefficient(-0.5, 1.0)

"""Teacher-student theory (physics.md §4-5, §10.4-10.6): averages, ODEs, closed forms, flags."""

import doctest
import importlib
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from thermoinfer.errors import InputError
from thermoinfer.information import EFFICIENCY_STATUS
from thermoinfer.rules import RULES, register_rule, unregister_rule
from thermoinfer.theory.gaussian_averages import gaussian_averages, has_closed_form_averages
from thermoinfer.theory.teacher_student import order_parameter_ode, teacher_student_theory

BUILTINS = ("hebbian", "perceptron", "adatron")
INF = float("inf")
# degree of homogeneity of F in h: F(c h) = c^p F(h) for c > 0
DEGREE = {"hebbian": 0, "perceptron": 0, "adatron": 1}


def printed(value, text):
    """``value`` agrees with the printed number ``text`` at its printed precision."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(value) - float(text)) <= 0.5 * 10.0 ** (-decimals) + 1e-12


def status(code):
    return EFFICIENCY_STATUS[int(code)]


@pytest.fixture(scope="module")
def clones():
    """User-registered clones of the three built-in rules (same F, not the built-in objects)."""
    made = {}
    for name in BUILTINS:
        r = RULES[name]
        made[name] = register_rule(f"ts_theory_clone_{name}", r.force, potential=r.potential,
                                   depends_on_activation=r.depends_on_activation, overwrite=True)
    yield made
    for name in BUILTINS:
        unregister_rule(f"ts_theory_clone_{name}")


# ------------------------------------------------------------------------------------------
# Gaussian averages
# ------------------------------------------------------------------------------------------

POINTS = [(0.5, 1.3), (0.0, 1.0), (-0.4, 0.8), (1.2, 2.0), (0.9, 0.82), (0.3, 4.0)]


@pytest.mark.parametrize("name", BUILTINS)
def test_closed_forms_against_monte_carlo(name, key):
    n = 400_000
    rule = RULES[name]
    for i, (R, Q) in enumerate(POINTS):
        z = jax.random.normal(jax.random.fold_in(jax.random.fold_in(key, i), len(name)), (2, n))
        u = z[0]
        h = R * u + math.sqrt(Q - R * R) * z[1]
        sigma = jnp.where(u >= 0, 1.0, -1.0)
        f = rule.force(h, sigma)
        samples = np.stack([np.asarray(f * sigma * u), np.asarray(f * sigma * h), np.asarray(f * f)])
        mean = samples.mean(axis=1)
        se = samples.std(axis=1, ddof=1) / math.sqrt(n)
        closed = np.array(gaussian_averages(name, R, Q))
        # FAP 18 x 5.7e-7 per rule (5 SE of 400 000 samples; +1e-12 for the exact Hebbian F^2 = 1)
        assert np.all(np.abs(mean - closed) <= 5.0 * se + 1e-12), (name, R, Q, mean, closed, se)


def test_checkpoint_10_6():
    table = {"hebbian": ("0.79788", "0.39894", "1"),
             "perceptron": ("0.22399", "-0.25539", "0.35550"),
             "adatron": ("0.14842", "-0.29906", "0.29906")}
    for name, values in table.items():
        for method in ("closed_form", "quadrature"):
            got = gaussian_averages(name, 0.5, 1.3, method=method)
            assert all(printed(g, v) for g, v in zip(got, values, strict=True)), (name, method, got)


def test_quadrature_of_clones_reproduces_closed_forms(clones):
    R = np.array([0.0, 0.5, -0.7, 0.999, 2.9, -1.0])
    Q = np.array([1.0, 1.3, 0.6, 1.0, 9.0, 1.0])  # includes rho = 1 - 1e-3 and rho = -1
    for name, clone in clones.items():
        assert not has_closed_form_averages(clone) and has_closed_form_averages(name)
        quad = np.array(gaussian_averages(clone, R, Q))
        closed = np.array(gaussian_averages(name, R, Q))
        assert np.max(np.abs(quad - closed)) < 1e-9, name


def test_quadrature_of_discontinuous_user_rule_against_monte_carlo(key):
    # jumps from 1 + h^2 (errors) to 0.3 + 0.2 sigma (correct) where sigma_T h changes sign
    def force(h, s):
        return jnp.where(s * h < 0, 1.0 + h * h, 0.3 + 0.2 * s)

    rule = register_rule("ts_theory_jumpy", force, overwrite=True)
    try:
        R, Q, n = 0.6, 1.5, 400_000
        z = jax.random.normal(jax.random.fold_in(key, 99), (2, n))
        u, h = z[0], R * z[0] + math.sqrt(Q - R * R) * z[1]
        sigma = jnp.where(u >= 0, 1.0, -1.0)
        f = force(h, sigma)
        samples = np.stack([np.asarray(f * sigma * u), np.asarray(f * sigma * h), np.asarray(f * f)])
        mean, se = samples.mean(axis=1), samples.std(axis=1, ddof=1) / math.sqrt(n)
        quad = np.array(gaussian_averages(rule, R, Q))
        assert np.all(np.abs(mean - quad) <= 5.0 * se), (mean, quad, se)  # FAP 3 x 5.7e-7
        fine = np.array(gaussian_averages(rule, R, Q, n_angle=48, n_radius=96))
        assert np.max(np.abs(fine - quad)) < 1e-12
    finally:
        unregister_rule("ts_theory_jumpy")


@pytest.mark.parametrize("name", BUILTINS)
def test_averages_scale_with_temperature(name):
    # (R, Q) -> (sqrt(c) R, c Q): <F s u> ~ c^{p/2}, <F s h> ~ c^{(p+1)/2}, <F^2> ~ c^p
    p, c = DEGREE[name], 2.5
    base = np.array(gaussian_averages(name, 0.5, 1.3))
    scaled = np.array(gaussian_averages(name, math.sqrt(c) * 0.5, c * 1.3))
    expect = base * np.array([c ** (p / 2), c ** ((p + 1) / 2), c**p])
    np.testing.assert_allclose(scaled, expect, rtol=1e-13)


# ------------------------------------------------------------------------------------------
# checkpoints of physics.md §10.4 and §10.5, at T = 1 and T != 1
# ------------------------------------------------------------------------------------------

BATCH_10_4 = {"R": "0.7979", "Q": "2.6366", "rho": "0.4914", "generalization_error": "0.3365",
              "mutual_information_per_weight": "0.13818", "entropy_change_per_weight": "0.48475",
              "heat_per_weight": "0.81831", "efficiency": "0.10604"}
ONLINE_STEADY_10_5 = {"R": "0.7979", "Q": "2.1366", "rho": "0.5459", "generalization_error": "0.3162",
                      "mutual_information_per_weight": "0.1769"}
ONLINE_ALPHA1_10_5 = {"R": "0.50436", "Q": "1.68671", "heat_per_weight": "0.39084",
                      "efficiency": "0.12532"}


def to_unit_temperature(th, temperature):
    """Undo the T-scaling of physics.md §0.4: R/sqrt(T), Q/T, energies/T; entropy units unchanged."""
    scale = {"R": math.sqrt(temperature), "Q": temperature, "heat_per_weight": temperature,
             "energy_change_per_weight": temperature, "work_per_weight": temperature}
    return {f: np.asarray(getattr(th, f)) / scale.get(f, 1.0) for f in th._fields if f != "conventions"}


@pytest.mark.parametrize("temperature", [1.0, 2.5, 0.4])
def test_checkpoint_10_4_batch_hebbian(temperature):
    # Hebbian: F is homogeneous of degree 0, so (nu, T) ~ (nu / sqrt(T), 1)
    th = teacher_student_theory(1.0, mode="batch", nu=math.sqrt(temperature), k=1.0,
                                temperature=temperature)
    got = to_unit_temperature(th, temperature)
    for field, value in BATCH_10_4.items():
        assert printed(got[field], value), (field, got[field], value)
    assert printed(th.medium_entropy_change_per_weight, "0.81831")  # entropy units: invariant
    assert bool(th.bound_satisfied) and not bool(th.feedback_uncorrected)
    assert status(th.status) == "ok"
    assert th.conventions["heat_convention"] == "not_applicable"


@pytest.mark.parametrize("solver", ["closed_form", "ode"])
@pytest.mark.parametrize("temperature", [1.0, 2.5, 0.4])
def test_checkpoint_10_5_online_hebbian(solver, temperature):
    th = teacher_student_theory([1.0, INF], rule="hebbian", nu=math.sqrt(temperature),
                                temperature=temperature, solver=solver)
    got = to_unit_temperature(th, temperature)
    for field, value in ONLINE_ALPHA1_10_5.items():
        assert printed(got[field][0], value), (field, got[field][0], value)
    for field, value in ONLINE_STEADY_10_5.items():
        assert printed(got[field][1], value), (field, got[field][1], value)
    assert printed(th.medium_entropy_change_per_weight[0], "0.39084")
    assert np.isinf(th.heat_per_weight[1]) and th.heat_per_weight[1] > 0
    # the steady dissipation rate 2 nu^2/pi + k nu^2/2 (physics.md §5.5), in energy units
    assert th.heat_rate_per_weight[1] == pytest.approx(temperature * (2 / math.pi + 0.5), rel=1e-9)
    assert th.conventions["heat_convention"] == "kick_relaxation"


def test_temperature_scaling_of_the_odes_for_every_rule():
    """(nu, T) gives the T = 1 result at nu T^{(p-1)/2}, scaled by R ~ sqrt(T), Q, heat ~ T."""
    grid = [0.5, 2.0, 6.0]
    temperature = 2.5
    for name in BUILTINS:
        nu1 = 1.3
        nu_t = nu1 * temperature ** ((1 - DEGREE[name]) / 2)
        hot = teacher_student_theory(grid, rule=name, nu=nu_t, k=0.8, temperature=temperature,
                                     solver="ode")
        cold = teacher_student_theory(grid, rule=name, nu=nu1, k=0.8, temperature=1.0, solver="ode")
        got = to_unit_temperature(hot, temperature)
        for field in ("R", "Q", "heat_per_weight", "mutual_information_per_weight",
                      "entropy_change_per_weight", "conditional_entropy_change_per_weight",
                      "medium_entropy_change_per_weight", "margin", "generalization_error"):
            np.testing.assert_allclose(got[field], getattr(cold, field), rtol=1e-8, atol=1e-10,
                                       err_msg=f"{name} {field}")
        # the naive map (same nu) is wrong for the degree-0 rules: the scaling is not trivial
        if DEGREE[name] == 0:
            same_nu = teacher_student_theory(grid, rule=name, nu=nu1, k=0.8,
                                             temperature=temperature, solver="ode")
            assert not np.allclose(same_nu.rho, cold.rho, rtol=1e-3)


# ------------------------------------------------------------------------------------------
# online ODE: against the Hebbian closed form, clones, steady states
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nu, k, temperature", [(1.0, 1.0, 1.0), (0.3, 2.0, 0.5), (3.0, 0.5, 2.0)])
def test_online_hebbian_ode_matches_closed_form(nu, k, temperature):
    grid = [0.0, 0.01, 0.3, 1.0, 2.5, 7.0, 20.0, INF]
    cf = teacher_student_theory(grid, nu=nu, k=k, temperature=temperature, solver="closed_form")
    ode = teacher_student_theory(grid, nu=nu, k=k, temperature=temperature, solver="ode")
    for field in ("R", "Q", "heat_per_weight", "rho", "mutual_information_per_weight",
                  "entropy_change_per_weight", "conditional_entropy_change_per_weight"):
        a, b = np.asarray(getattr(cf, field)), np.asarray(getattr(ode, field))
        finite = np.isfinite(a)
        assert np.array_equal(finite, np.isfinite(b)), field
        assert np.max(np.abs(a[finite] - b[finite])) <= 1e-8, (field, a, b)
    assert cf.conventions["solver"] == "closed_form"
    assert ode.conventions["solver"].startswith("solve_ivp")


def test_ode_heat_is_the_integral_of_the_kick_relaxation_rate():
    # d(Delta Q/N)/d alpha = k (k Q - T): check with a spline-free central difference
    a = np.array([1.0 - 1e-4, 1.0, 1.0 + 1e-4])
    th = teacher_student_theory(a, rule="perceptron", nu=1.5, k=0.7, temperature=1.8)
    slope = (th.heat_per_weight[2] - th.heat_per_weight[0]) / 2e-4
    assert slope == pytest.approx(0.7 * (0.7 * th.Q[1] - 1.8), rel=1e-6)
    np.testing.assert_allclose(th.heat_rate_per_weight, 0.7 * (0.7 * th.Q - 1.8), rtol=1e-12)


@pytest.mark.parametrize("nu", [0.7, 2.0])
def test_user_clones_reproduce_builtins_in_the_ode(clones, nu):
    grid = [0.5, 1.0, 3.0, INF]
    for name, clone in clones.items():
        a = teacher_student_theory(grid, rule=clone, nu=nu, k=1.0)
        b = teacher_student_theory(grid, rule=name, nu=nu, k=1.0, solver="ode")
        assert a.conventions["averages"] == "quadrature"
        assert b.conventions["averages"] == "closed_form"
        for field in ("R", "Q", "heat_per_weight", "efficiency", "margin"):
            x, y = np.asarray(getattr(a, field)), np.asarray(getattr(b, field))
            finite = np.isfinite(x) & np.isfinite(y)
            np.testing.assert_array_equal(x[~finite], y[~finite])  # same inf / NaN entries
            assert np.all(np.abs(x[finite] - y[finite]) <= 1e-6), (name, field, x, y)
        np.testing.assert_array_equal(a.feedback_uncorrected, b.feedback_uncorrected)
        np.testing.assert_array_equal(a.status, b.status)


def test_grid_order_duplicates_and_zero():
    th = teacher_student_theory([2.0, 0.0, 1.0, 2.0, INF], rule="perceptron", nu=1.0)
    ref = teacher_student_theory([1.0, 2.0], rule="perceptron", nu=1.0)
    assert th.R[1] == 0.0 and th.Q[1] == 1.0 and th.heat_per_weight[1] == 0.0
    assert th.R[0] == th.R[3] == ref.R[1] and th.R[2] == ref.R[0]
    assert status(th.status[1]) == "feedback_uncorrected"  # alpha = 0: no cost, but flagged first
    scalar = teacher_student_theory(1.0, rule="perceptron", nu=1.0)
    assert np.shape(scalar.R) == () and float(scalar.R) == pytest.approx(ref.R[0], abs=1e-10)


@pytest.mark.parametrize("name, nu, k, temperature",
                         [("adatron", 1.0, 1.0, 1.0), ("perceptron", 0.5, 1.0, 1.0),
                          ("adatron", 1.5, 0.5, 2.0), ("perceptron", 0.4, 2.0, 0.5)])
def test_steady_state_below_thermal_norm(name, nu, k, temperature):
    """§5.4: error-driven kicks cool the weights, Q* < T/k; the naive bound then fails."""
    th = teacher_student_theory([80.0, INF], rule=name, nu=nu, k=k, temperature=temperature)
    q0 = temperature / k
    assert th.Q[1] < q0 and th.Q[0] < q0
    assert abs(th.Q[1] - th.Q[0]) < 1e-9 and abs(th.R[1] - th.R[0]) < 1e-9
    # it is a fixed point of the ODEs, checked with the averages directly
    fu, fh, f2 = gaussian_averages(name, th.R[1], th.Q[1])
    assert abs(-k * th.R[1] + nu * fu) < 1e-12
    assert abs(-2 * k * th.Q[1] + 2 * nu * fh + nu * nu * f2 + 2 * temperature) < 1e-12
    assert th.entropy_change_per_weight[1] < 0 and th.heat_per_weight[1] == -INF
    assert th.heat_per_weight[0] < 0 and th.heat_rate_per_weight[1] < 0
    assert not th.bound_satisfied.any() and th.feedback_uncorrected.all()
    assert np.isnan(th.efficiency).all()
    assert [status(s) for s in th.status] == ["bound_violated", "bound_violated"]


# ------------------------------------------------------------------------------------------
# the bound, the two flags, and the AdaTron reflection at nu = 2
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k, temperature", [(1.0, 1.0), (3.0, 0.7)])
def test_adatron_at_nu_2_is_flagged_with_margin_minus_information(k, temperature, clones):
    grid = [0.5, 1.0, 4.0, INF]
    th = teacher_student_theory(grid, rule="adatron", nu=2.0, k=k, temperature=temperature)
    q0 = temperature / k
    assert np.all(th.Q == q0)                                    # exactly, to the last bit
    assert np.all(th.entropy_change_per_weight == 0.0) and np.all(th.heat_per_weight == 0.0)
    info = th.mutual_information_per_weight
    assert np.all(info > 0.005) and np.all(np.diff(th.R) > 0)
    np.testing.assert_array_equal(th.margin, -info)
    assert not th.bound_satisfied.any() and th.feedback_uncorrected.all()
    assert np.isnan(th.efficiency).all()
    assert all(status(s) == "bound_violated" for s in th.status)
    # the same through the quadrature of a user clone (not exact, but to 1e-12)
    clone = teacher_student_theory(grid, rule=clones["adatron"], nu=2.0, k=k, temperature=temperature)
    np.testing.assert_allclose(clone.Q, q0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(clone.margin, -clone.mutual_information_per_weight, atol=1e-12)
    assert not clone.bound_satisfied.any() and clone.feedback_uncorrected.all()


@pytest.mark.parametrize("name", ["perceptron", "adatron"])
def test_feedback_rules_are_flagged_even_with_positive_margin(name):
    th = teacher_student_theory([0.5, 1.0, 2.0, 5.0], rule=name, nu=3.0)
    assert np.all(th.margin > 0) and th.bound_satisfied.all()
    assert th.feedback_uncorrected.all()
    assert np.isnan(th.efficiency).all()
    assert all(status(s) == "feedback_uncorrected" for s in th.status)
    # the raw quantities are still reported
    assert np.all(np.isfinite(th.mutual_information_per_weight)) and np.all(th.heat_per_weight > 0)


def test_hebbian_carries_neither_flag():
    for th in (teacher_student_theory([0.5, 1.0, 5.0, 50.0], nu=2.0),
               teacher_student_theory([0.5, 1.0, 5.0], mode="batch", nu=2.0, t=[0.3, 1.0, INF])):
        assert th.bound_satisfied.all() and not th.feedback_uncorrected.any()
        assert np.all(np.isfinite(th.efficiency)) and np.all(th.efficiency > 0)
        assert np.all(th.efficiency <= 1)
        assert all(status(s) == "ok" for s in th.status)
        np.testing.assert_allclose(th.margin, th.conditional_entropy_change_per_weight
                                   + th.medium_entropy_change_per_weight, rtol=1e-12)


def test_online_user_rule_declared_independent_of_h_is_not_feedback():
    rule = register_rule("ts_theory_label_only", lambda h, s: 1.0 + 0.5 * s + 0.0 * h,
                         depends_on_activation=False, overwrite=True)
    try:
        th = teacher_student_theory([1.0, 3.0], rule=rule, nu=0.5)
        assert not th.feedback_uncorrected.any() and th.bound_satisfied.all()
        assert np.all(np.isfinite(th.efficiency))
    finally:
        unregister_rule("ts_theory_label_only")


# ------------------------------------------------------------------------------------------
# batch Hebbian: slow-learning limit and its convergence rate
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, k, temperature", [(1.0, 1.0, 1.0), (0.5, 2.0, 1.0), (3.0, 1.0, 0.5)])
def test_batch_slow_learning_limit_and_rate(alpha, k, temperature):
    nu = np.logspace(-3.0, -1.5, 7)
    eta = teacher_student_theory(alpha, mode="batch", nu=nu, k=k, temperature=temperature).efficiency
    eta0 = alpha / (math.pi + 2 * alpha)
    err = eta - eta0
    slope, _ = np.polyfit(np.log(nu), np.log(np.abs(err)), 1)
    assert slope == pytest.approx(2.0, abs=0.01)
    # derived: eta = eta0 [1 + x (alpha^2/pi - 3a/4)] + O(x^2), x = nu^2/(kT), a = alpha + 2 alpha^2/pi
    a = alpha + 2 * alpha**2 / math.pi
    coefficient = eta0 * (alpha**2 / math.pi - 0.75 * a) / (k * temperature)
    assert err[0] / nu[0] ** 2 == pytest.approx(coefficient, rel=1e-4)
    # alpha -> inf: the limit tends to 1/2
    assert teacher_student_theory(1e6, mode="batch", nu=1e-9).efficiency == pytest.approx(0.5, abs=1e-5)


def test_batch_time_dependence_and_jax_traceability():
    t = np.array([0.0, 0.5, 2.0, INF])
    th = teacher_student_theory(1.0, mode="batch", t=t, nu=1.0)
    assert th.R.shape == (4,) and th.R[0] == 0.0 and status(th.status[0]) == "no_cost"
    assert np.all(np.diff(th.R) > 0) and np.all(np.diff(th.heat_per_weight) > 0)
    # heat rate is d(Delta Q/N)/dt
    h = 1e-5
    fd = teacher_student_theory(1.0, mode="batch", t=[0.5 - h, 0.5 + h]).heat_per_weight
    assert (fd[1] - fd[0]) / (2 * h) == pytest.approx(th.heat_rate_per_weight[1], rel=1e-7)
    grad = jax.grad(lambda nu: teacher_student_theory(1.0, mode="batch", nu=nu).efficiency)(1.0)
    assert float(grad) < 0  # efficiency falls with the learning rate


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


def test_continuous_force_is_refused_with_a_pointer_to_kick_relaxation():
    with pytest.raises(InputError, match="kick_relaxation") as err:
        teacher_student_theory(1.0, heat="continuous_force")
    assert "continuous_force" in str(err.value) and "simulate" in str(err.value)


def test_batch_non_hebbian_is_refused_with_a_pointer_to_simulation():
    for name in ("perceptron", "adatron"):
        with pytest.raises(InputError, match="simulate"):
            teacher_student_theory(1.0, mode="batch", rule=name)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(k=0.0), r"^k \("), (dict(k=-1.0), r"^k \("), (dict(temperature=0.0), r"^temperature \("),
    (dict(temperature=-2.0), r"^temperature \("), (dict(nu=-0.1), r"^nu \("),
    (dict(alpha=-1.0), r"^alpha \("), (dict(alpha=float("nan")), r"^alpha \("),
    (dict(alpha=[1.0, float("nan")]), r"^alpha \(.*index \(1,\)"),
    (dict(mode="offline"), r"^mode must be one of"), (dict(heat="adiabatic"), r"^heat must be one of"),
    (dict(t=1.0), r"^t \(the batch learning time\)"),
    (dict(solver="closed_form", rule="perceptron"), r"^solver='closed_form'"),
    (dict(solver="rk4"), r"^solver must be one of"), (dict(rule="no_such_rule"), r"learning rule"),
    (dict(nu=[1.0, 2.0]), r"^nu \(.*scalar in online mode"),
    (dict(mode="batch", alpha=INF), r"^alpha \("), (dict(mode="batch", t=-1.0), r"^t \("),
    (dict(mode="batch", k=[1.0, 0.0]), r"^k \(.*index \(1,\)"),
    (dict(mode="batch", solver="ode"), r"^solver"),
    (dict(averages="closed_form", rule="ts_theory_clone_adatron"), r"^averages='closed_form'"),
    (dict(averages="exact"), r"^averages must be one of"),
    (dict(heat="not_applicable"), r"kick_relaxation"),
])
def test_bad_input_names_the_parameter(kwargs, pattern, clones):
    kwargs = dict(kwargs)
    alpha = kwargs.pop("alpha", 1.0)
    with pytest.raises(InputError, match=pattern):
        teacher_student_theory(alpha, **kwargs)


def test_bad_input_to_the_averages():
    with pytest.raises(InputError, match="Q"):
        gaussian_averages("perceptron", 0.0, 0.0)
    with pytest.raises(InputError, match="rho"):
        gaussian_averages("perceptron", 2.0, 1.0)
    with pytest.raises(InputError, match="closed_form"):
        rule = register_rule("ts_theory_tmp", lambda h, s: 0.0 * h + 1.0, overwrite=True)
        try:
            gaussian_averages(rule, 0.1, 1.0, method="closed_form")
        finally:
            unregister_rule("ts_theory_tmp")
    with pytest.raises(InputError, match="n_angle"):
        gaussian_averages("adatron", 0.1, 1.0, method="quadrature", n_angle=1)


def test_docstring_examples():
    # the package re-exports the function gaussian_averages, which shadows the submodule name
    for name in ("thermoinfer.theory.gaussian_averages", "thermoinfer.theory.teacher_student"):
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, name


def test_order_parameter_ode_public_api():
    sol = order_parameter_ode([1.0, 0.0], rule="adatron", nu=1.0, k=1.0, temperature=2.0)
    assert sol.Q[1] == 2.0 and sol.R[1] == 0.0
    np.testing.assert_allclose(sol.Q, 2.0 + sol.excess_Q, rtol=0, atol=0)
    quad = order_parameter_ode([1.0], rule="adatron", nu=1.0, temperature=2.0, averages="quadrature")
    assert abs(quad.R[0] - sol.R[0]) < 1e-9


def test_float64_without_the_global_x64_flag():
    """Public entry points compute in float64 even when the caller runs JAX in 32-bit mode."""
    import subprocess
    import sys

    code = ("import jax\n"
            "from thermoinfer.theory import teacher_student_theory, gaussian_averages\n"
            "th = teacher_student_theory([1.0, float('inf')], rule='adatron', nu=1.0)\n"
            "g = gaussian_averages('perceptron', 0.5, 1.3, method='quadrature')\n"
            "assert not jax.config.jax_enable_x64\n"
            "print(repr(float(th.R[0])), repr(float(th.Q[1])), repr(float(g[0])), th.R.dtype)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r, q, g, dtype = out.stdout.split()
    th = teacher_student_theory([1.0, INF], rule="adatron", nu=1.0)
    assert dtype == "float64"
    assert float(r) == pytest.approx(th.R[0], rel=1e-13) and float(q) == pytest.approx(th.Q[1], rel=1e-13)
    assert float(g) == pytest.approx((1 - 0.5 / math.sqrt(1.3)) / math.sqrt(2 * math.pi), rel=1e-13)

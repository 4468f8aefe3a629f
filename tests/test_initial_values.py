"""Data-based starting points of the sampler (``linear-ou``'s ``initial_values``).

The estimate is checked against exact moments (closed form: the drift is recovered exactly,
the diffusion to first order in the step), and its purpose on data where NUTS from numpyro's
default box stays lost: a 5-bead chain between two baths (40 parameters).
"""

import importlib
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg as sla
from _stats import seed

from thermoinfer.data.observations import simulate_linear_ou
from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
from thermoinfer.inference.fit import fit
from thermoinfer.inference.registry import load_model
from thermoinfer.thermo.linear_system import entropy_production_rate

ROOT = Path(__file__).resolve().parent.parent
LINEAR_OU = load_model(ROOT / "models" / "linear_ou.py")
FIT = importlib.import_module("thermoinfer.inference.fit")


def _exact_statistics(A, D, dt, n, ref):
    """Statistics whose moments are the exact stationary expectations (n transitions)."""
    d = A.shape[0]
    C = sla.solve_continuous_lyapunov(A, -2.0 * D)
    E = sla.expm(A * dt) - np.eye(d)
    # u = x - ref with x ~ N(0, C); delta = E x + noise, noise ~ N(0, Sigma)
    Sigma = C - (E + np.eye(d)) @ C @ (E + np.eye(d)).T
    m = -np.asarray(ref, float)  # mean of u
    s_prev, s_inc = n * m, np.zeros(d)  # E[delta] = E E[x] = 0
    prev_prev = n * (C + np.outer(m, m))
    inc_prev = n * (E @ C)       # E[delta u^T] = E C (E[delta] = 0)
    inc_inc = n * (E @ C @ E.T + Sigma)
    return types.SimpleNamespace(
        dt=np.array([dt]), count=np.array([float(n)]), ref=np.asarray(ref, float),
        s_prev=s_prev[None], s_inc=s_inc[None], prev_prev=prev_prev[None],
        inc_prev=inc_prev[None], inc_inc=inc_inc[None]), C


def _rebuild(values, d):
    def mat(scale, corr):
        L = np.asarray(scale)[:, None] * np.asarray(corr)
        return L @ L.T

    C = mat(values["covariance_scale"], values["covariance_corr"])
    D = mat(values["diffusion_scale"], values["diffusion_corr"])
    rows, cols = np.tril_indices(d, -1)
    lower = np.zeros((d, d))
    sd = np.sqrt(np.diag(D))
    lower[rows, cols] = values["circulation"] * sd[rows] * sd[cols]
    J = lower - lower.T
    return (J - D) @ np.linalg.inv(C), D, C


@pytest.mark.parametrize("dt", [0.01, 0.1])
def test_drift_exact_and_diffusion_first_order_from_exact_moments(dt):
    """At T != 1 and with an anisotropic, correlated D and a reference point away from 0: the
    drift comes back to 1e-9 (the Lyapunov C and the circulation are built from the same D,
    so A = (J - D) C^-1 is exact whatever D's error), D to first order in k dt."""
    A = np.array([[-1.3, 0.6, 0.0], [-0.4, -0.9, 0.3], [0.2, -0.5, -2.0]])
    D = 2.5 * np.array([[1.0, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 1.5]])
    stats, C = _exact_statistics(A, D, dt, 10_000, ref=[0.3, -0.2, 0.5])
    values = LINEAR_OU.initial_values(stats)
    A_hat, D_hat, _ = _rebuild(values, 3)
    np.testing.assert_allclose(A_hat, A, rtol=0, atol=1e-9)
    k = np.max(np.abs(np.linalg.eigvals(A)))
    rel = np.linalg.norm(D_hat - D) / np.linalg.norm(D)
    assert rel < 2.0 * k * dt, rel                # first order in the step
    assert rel > 0.01 * k * dt                    # and not exact: the first-order formula is used
    with_centre = LINEAR_OU.initial_values(stats, center=True)
    np.testing.assert_allclose(with_centre["center"], 0.0, atol=1e-12)  # the stationary mean


def test_no_estimate_where_it_is_not_a_stable_process():
    """An unstable regression (growing data), noisy positions and missing statistics give
    None: the chains then start as numpyro's default."""
    A = np.array([[-1.0, 0.5], [-0.5, -1.0]])
    stats, _ = _exact_statistics(A, np.eye(2), 0.05, 1000, ref=[0.0, 0.0])
    grow = types.SimpleNamespace(**{**vars(stats), "inc_prev": -stats.inc_prev})  # E -> -E
    assert LINEAR_OU.initial_values(grow) is None
    assert LINEAR_OU.initial_values(stats, localization_noise=True) is None
    assert LINEAR_OU.initial_values(None) is None
    assert LINEAR_OU.initial_values(stats) is not None  # positive control


def _chain():
    n = 5
    L = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    return -L, np.diag(np.linspace(5.0, 1.0, n))


@pytest.mark.slow
def test_bead_chain_converges_from_the_estimate_and_not_from_the_default_box(monkeypatch):
    """5 beads between baths at T = 5 and 1, 2e4 frames, dt = 0.02 (40 parameters): started
    near the least-squares estimate, NUTS converges and its EP rate is within 4.5 posterior
    SD of the truth (FAP 6.8e-6, normal approximation of a calibrated posterior); negative
    control: from numpyro's default box (radius 2) the chains stay lost (most draws at the
    maximum tree depth, the EP rate far off; deterministic for the fixed seed used here)."""
    A, D = _chain()
    times = np.arange(20_000) * 0.02
    ds = simulate_linear_ou(A, D, times, seed=seed(31))
    truth = float(entropy_production_rate(A, D))
    settings = dict(chains=2, draws=500, warmup=500, posterior_predictive=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorDiagnosticsWarning)
        good = fit(ds, "linear-ou", seed=seed(32), **settings)
        stats = good["sample_stats"]
        assert float(stats["reached_max_tree_depth"].mean()) < 0.05
        ep = good["thermodynamics"]["entropy_production_rate"].values.reshape(-1)
        assert abs(ep.mean() - truth) < 4.5 * ep.std(ddof=1), (ep.mean(), ep.std(), truth)
        monkeypatch.setattr(FIT, "_initial_values", lambda module, kwargs: None)
        lost = fit(ds, "linear-ou", seed=1, chains=2, warmup=150, draws=50, max_tree_depth=8,
                   posterior_predictive=False)  # short: lost chains cost 2^depth steps a draw
    at_max = float(lost["sample_stats"]["reached_max_tree_depth"].mean())
    lost_ep = lost["thermodynamics"]["entropy_production_rate"].values.reshape(-1)
    print(f"lost: {at_max:.2f} at max depth, EP {lost_ep.mean():.3g} (truth {truth:.3g})")
    assert at_max > 0.5
    assert abs(lost_ep.mean() - truth) > 10 * ep.std(ddof=1)

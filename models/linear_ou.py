r"""``linear-ou``: a generic linear Ornstein–Uhlenbeck process, any dimension (docs/theory/linear-ou.md).

Model
-----
$$d\boldsymbol x = A(\boldsymbol x - \boldsymbol x^*)\,dt + \sqrt{2D}\,d\boldsymbol W,\qquad \boldsymbol x\in\mathbb R^d,$$

observed at ``times`` (any grid) for every replica; the likelihood is the exact affine transition
density of :mod:`thermoinfer.paths` (Van Loan), conditioned on the first observation, one term
per transition. The centre $\boldsymbol x^*$ is $0$ unless ``center=True``.

For sampling, the same likelihood is evaluated from the data's sufficient statistics
(``statistics``, :func:`thermoinfer.paths.statistics.transition_statistics`: second moments per
distinct step, one pass over the data) as the factor ``obs_statistics``; its cost per gradient
does not grow with the number of frames. Without ``statistics`` the program observes the
transitions one by one as the site ``obs`` (pointwise log-likelihood, predictive draws).

Parameterisation (stable by construction)
-----------------------------------------
Every stable $A$ with positive-definite $D$ is uniquely

$$A = (J - D)\,C^{-1},\qquad C = C^\top\succ0,\quad J = -J^\top,$$

where $C$ is the steady covariance ($AC + CA^\top + 2D = 0$ holds identically) and
$J = \tfrac12(AC - CA^\top)$ the circulation; conversely every such triple gives a stable $A$
($C^{-1/2}AC^{1/2}$ has negative-definite symmetric part). This is the $A = (J - R)M$ form with
$R = D$ and $M = C^{-1}$, without redundant parameters. The steady entropy-production rate is
$\sigma = \mathrm{tr}(J^\top D^{-1}JC^{-1})$: zero iff $J = 0$ (detailed balance).

Sites (length = the unit of the observations, time = that of ``time``):

* ``covariance_scale`` $\sqrt{C_{ii}}\sim\mathrm{LogNormal}(\ln\ell, 1)$, length;
  ``covariance_corr`` $\sim\mathrm{LKJCholesky}(d, 2)$ (if $d > 1$);
* ``diffusion_scale`` $\sqrt{D_{ii}}\sim\mathrm{LogNormal}(\ln(\ell/\sqrt\tau), 1.5)$,
  length/√time; ``diffusion_corr`` $\sim\mathrm{LKJCholesky}(d, 2)$ (if $d > 1$);
* ``circulation`` $z_{ij}\sim\mathcal N(0, 1)$, $i > j$, dimensionless, with
  $J_{ij} = z_{ij}\sqrt{D_{ii}D_{jj}}$ (for the rotational trap $A = [[-k, -\varepsilon], [\varepsilon, -k]]$
  with isotropic $D$, $z_{21} = \varepsilon/k$);
* ``center`` $\boldsymbol x^*\sim\mathcal N(0, 10\ell)$ per component, length (only with ``center=True``);
* deterministic ``drift`` $A$ (1/time), ``diffusion`` $D$ (length²/time), ``steady_covariance``
  $C$ (length²).

$\ell$ = ``length_scale`` and $\tau$ = ``time_scale`` (defaults 1, in the data's units) set where
the priors sit: rescale them for data far from unit scales.
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.linalg import cho_solve

from thermoinfer.errors import InputError
from thermoinfer.inference.distributions import LinearOUTransitions
from thermoinfer.inference.registry import load_model
from thermoinfer.paths.statistics import affine_log_likelihood, transition_statistics
from thermoinfer.thermo.linear_system import entropy_production_rate, kl_rate

_neuron = load_model(Path(__file__).with_name("neuron.py"))

NAME = "linear-ou"
DESCRIPTION = ("linear Ornstein-Uhlenbeck process in any dimension (a particle in a trap, a bead "
               "chain): stable drift A = (J - D) C^-1, diffusion D; exact transitions")

PARAMETERS = {
    "drift": ("time_unit-1", "drift matrix A (deterministic: (J - D) C^-1)"),
    "diffusion": ("length_unit2 time_unit-1", "diffusion matrix D = mu T (deterministic)"),
    "steady_covariance": ("length_unit2", "steady covariance C (deterministic)"),
    "covariance_scale": ("length_unit", "sqrt of the diagonal of C"),
    "covariance_corr": ("1", "correlation coefficients of C, rho_ij for i > j (d > 1; sampled as an "
                        "LKJ Cholesky factor)"),
    "diffusion_scale": ("length_unit time_unit-1/2", "sqrt of the diagonal of D"),
    "diffusion_corr": ("1", "correlation coefficients of D, rho_ij for i > j (d > 1; sampled as an "
                       "LKJ Cholesky factor)"),
    "circulation": ("1", "J_ij / sqrt(D_ii D_jj), i > j: the non-equilibrium part of the drift"),
    "center": ("length_unit", "centre x* of the trap (only with center=True)"),
}

#: LKJ Cholesky sites reported as their correlation coefficients (i > j) in a fit's posterior
CORRELATION_SITES = ("covariance_corr", "diffusion_corr")
#: vector sites over the pairs i > j of components
PAIR_SITES = ("circulation",)

PRIORS = {"length_scale": 1.0, "time_scale": 1.0, "circulation_scale": 1.0,
          "lkj_concentration": 2.0, "center_scale": 10.0}
_OPTIONS = ("center", "temperature", *PRIORS)


def _antisymmetric(z, d):
    rows, cols = np.tril_indices(d, -1)
    lower = jnp.zeros((d, d)).at[rows, cols].set(z)
    return lower - lower.T


def _cholesky_factor(name, scale, d, concentration):
    if d == 1:
        return scale[:, None]
    corr = numpyro.sample(name, dist.LKJCholesky(d, concentration))
    return scale[:, None] * corr


def model(times, observations=None, *, statistics=None, initial=None, n_replicas=None,
          n_components=None, center=False, temperature=None, length_scale=1.0, time_scale=1.0,
          circulation_scale=1.0, lkj_concentration=2.0, center_scale=10.0,
          time_units="time_unit", length_units="length_unit"):
    r"""numpyro program of a linear OU process.

    Parameters
    ----------
    times : array_like, shape ``(K+1,)``
        Observation times.
    observations : array_like, shape ``(replica, K+1, d)``, optional
        Observed trajectories; ``None`` to sample them.
    statistics : TransitionStatistics, optional
        Sufficient statistics of the observed transitions; when given, the likelihood is the
        factor ``obs_statistics`` computed from them (equal to the sum of the ``obs`` terms) and
        ``observations`` and ``times`` are not used.
    initial : array_like, shape ``(replica, d)``, optional
        Points at ``times[0]`` to condition on (default ``observations[:, 0]``; if both are
        ``None`` they are drawn from the steady state $\mathcal N(\boldsymbol x^*, C)$, site ``initial``).
    n_replicas, n_components : int, optional
        Shape of the draws when neither ``observations`` nor ``initial`` is given.
    center : bool
        Infer the centre $\boldsymbol x^*$ (otherwise $0$).
    temperature : float, optional
        Metadata only (the process is parameterised by $D$).
    length_scale, time_scale, circulation_scale, lkj_concentration, center_scale
        Prior hyperparameters (module docstring).
    time_units, length_units : str
        Units metadata (unused by the program).
    """
    if observations is not None:
        d = int(np.shape(observations)[-1])
    elif statistics is not None:
        d = int(np.shape(statistics.ref)[-1])
    elif initial is not None:
        d = int(np.shape(initial)[-1])
    elif n_components is not None:
        d = int(n_components)
    else:
        raise InputError("linear-ou needs observations, initial points or n_components to know "
                         "the dimension d.")
    log_l = math.log(length_scale)
    cov_scale = numpyro.sample("covariance_scale",
                               dist.LogNormal(log_l, 1.0).expand((d,)).to_event(1))
    diff_scale = numpyro.sample(
        "diffusion_scale",
        dist.LogNormal(log_l - 0.5 * math.log(time_scale), 1.5).expand((d,)).to_event(1))
    Lc = _cholesky_factor("covariance_corr", cov_scale, d, lkj_concentration)
    Ld = _cholesky_factor("diffusion_corr", diff_scale, d, lkj_concentration)
    C = Lc @ Lc.T
    D = Ld @ Ld.T
    if d > 1:
        z = numpyro.sample("circulation", dist.Normal(0.0, circulation_scale)
                           .expand((d * (d - 1) // 2,)).to_event(1))
        sd = jnp.sqrt(jnp.diagonal(D))
        J = _antisymmetric(z, d) * sd[:, None] * sd[None, :]
    else:
        J = jnp.zeros((1, 1))
    A = cho_solve((Lc, True), (J - D).T).T  # (J - D) C^{-1}
    numpyro.deterministic("drift", A)
    numpyro.deterministic("diffusion", D)
    numpyro.deterministic("steady_covariance", C)
    if center:
        x_star = numpyro.sample("center", dist.Normal(0.0, center_scale * length_scale)
                                .expand((d,)).to_event(1))
        force = -A @ x_star
    else:
        x_star = jnp.zeros(d)
        force = None
    if statistics is not None:
        b = jnp.zeros(d) if force is None else force
        numpyro.factor("obs_statistics", affine_log_likelihood(statistics, A, b, D))
        return
    if initial is None and observations is not None:
        initial = jnp.asarray(observations)[..., 0, :]
    if initial is None:
        initial = numpyro.sample("initial", dist.MultivariateNormal(x_star, scale_tril=Lc)
                                 .expand((n_replicas or 1,)).to_event(1))
    obs = None if observations is None else jnp.asarray(observations)[..., 1:, :]
    numpyro.sample("obs", LinearOUTransitions(initial, times, A, D, force=force), obs=obs)


def data_from_dataset(ds, **options):
    """Model keyword arguments from a validated trajectory dataset (dims ``replica, time, component``).

    Options: ``center`` (bool), ``temperature`` (metadata) and the prior hyperparameters of
    :data:`PRIORS`. The sufficient statistics of the transitions (``statistics``) are computed
    here, once.
    """
    _neuron.check_options(options, _OPTIONS, NAME)
    times, obs, time_units, length_units = _neuron.trajectories(ds, "component")
    temperature = options.pop("temperature", _neuron.dataset_temperature(ds))
    if temperature == "inferred":
        temperature = None
    priors = _neuron.prior_options(options, PRIORS, NAME)
    return dict(times=times, observations=obs, statistics=transition_statistics(obs, times),
                center=bool(options.get("center", False)),
                temperature=None if temperature is None else float(temperature),
                time_units=time_units,
                length_units="length_unit" if length_units == "1" else length_units, **priors)


def conventions(data) -> dict:
    """Convention attributes of a fit (see ``neuron.conventions``)."""
    T = data.get("temperature")
    return dict(entropy_convention="not_applicable", heat_convention="not_applicable",
                path_weights="exact_ou", data_protocol="not_applicable",
                temperature="inferred" if T is None else float(T))


def _per_time(units):
    from thermoinfer.data.schema import per_time

    return per_time("nat", units)


def derived_quantities(samples, data):
    r"""Per-draw steady entropy-production rate and KL rate at the median sampling interval.

    ``thermodynamics``: ``entropy_production_rate`` $\sigma(A, D)$ and ``kl_rate_at_dt``
    $\dot D_{KL}(\Delta t)$ of :mod:`thermoinfer.thermo.linear_system`, ``vmap``-ed over the draws of
    the deterministic sites ``drift`` and ``diffusion``.
    """
    times = np.asarray(data["times"], dtype=float)
    dt = float(np.median(np.diff(times)))
    units = _per_time(data.get("time_units", "time_unit"))
    with jax.enable_x64(True):
        A = jnp.asarray(samples["drift"], dtype=float)
        D = jnp.asarray(samples["diffusion"], dtype=float)
        sigma = np.asarray(jax.vmap(entropy_production_rate)(A, D))
        kl = np.asarray(jax.vmap(lambda a, b: kl_rate(a, b, dt))(A, D))
    return {"thermodynamics": {
        "entropy_production_rate": ((), sigma, units,
                                    "steady entropy production rate sigma (k_B per unit time)"),
        "kl_rate_at_dt": ((), kl, units,
                          f"exact KL rate between forward and reversed paths sampled at "
                          f"dt = {dt:g} (<= sigma)"),
    }}

r"""``polynomial-drift``: overdamped Langevin dynamics with a polynomial force, any dimension (docs/polynomial-drift.md).

Model
-----
$$d\boldsymbol x = \Theta\,\boldsymbol\phi(\boldsymbol z)\,dt + \sqrt{2D}\,d\boldsymbol W,\qquad
  z_j = (x_j - m_j)/s_j,\qquad \boldsymbol x\in\mathbb R^d,$$

$\boldsymbol\phi$ the $p = \binom{d+N}{N}$ monomials of the standardised coordinates up to total
degree $N$ = ``degree`` (default 3, degree 0 included; order of :mod:`thermoinfer.paths.polynomial`),
$\boldsymbol m$, $\boldsymbol s$ the data's mean and standard deviation per component, $D$ constant
and positive definite. The likelihood is the Euler–Maruyama (Itô pre-point) transition density
at the observation steps, conditioned on the first observation, one term per transition
(``obs``); for sampling it is evaluated from sufficient statistics computed once
(``statistics``, :func:`thermoinfer.paths.polynomial.polynomial_statistics`, exact on any grid)
as the factor ``obs_statistics``.

The EM likelihood is an approximation of the true transition density: it is accurate when the
recording step $\Delta t$ is small against the relaxation times of the force ($k\Delta t\ll 1$);
its bias is first order in $k\Delta t$ (measured in docs/polynomial-drift.md).

Sites (length = the unit of the observations, time = that of ``time``)
--------------------------------------------------------------------
The data set the scales of the priors: $\hat Q = \sum_i\boldsymbol\delta_i\boldsymbol\delta_i^\top/(2nh_i)$
(quadratic variation of $\boldsymbol z$: an estimate of $D_z = S^{-1}DS^{-1}$) and the rate
$\hat r = \mathrm{tr}\hat Q/d$ (1/time). With ``prior="normal"`` (default):

* ``log_diffusion_ratio`` $u_i = \ln(\sqrt{D_{z,ii}}/\sqrt{\hat Q_{ii}})\sim\mathcal N(0, 1.5^2)$
  (``diffusion_log_sd``), i.e. ``diffusion_scale`` $\sqrt{D_{ii}}\sim\mathrm{LogNormal}(\ln(s_i\sqrt{\hat Q_{ii}}), 1.5)$;
  ``diffusion_corr`` $\sim\mathrm{LKJCholesky}(d, 2)$ (``lkj_concentration``; if $d > 1$);
* ``coefficients`` $\Theta_{ia} = s_iG_{ia}$ with $G_{ia}\sim\mathcal N(0, (c\hat r)^2)$ independent,
  $c$ = ``coefficient_scale`` (default 10): forces up to about $c$ times the natural rate of
  the data. Sampled as ``coefficients_whitened`` $\eta = (G - \hat G)L/\rho$, a fixed linear map
  ($LL^\top = S_{\phi\phi} + 2/(c^2\hat r)\mathbb 1$, $\hat G$ the ridge estimate,
  $\rho = \sqrt{2\hat r}$) under which the likelihood is close to isotropic (cheap NUTS
  trajectories); the prior on $G$ is exactly the one stated.

With ``prior="conjugate"``: the Matrix-Normal–Inverse-Wishart prior of
:mod:`thermoinfer.paths.polynomial` on $(G, \Sigma = 2D_z)$ ($\nu_0 = d + 2$,
$\Psi_0 = 2\,\mathrm{diag}\hat Q$, $v_0 = c^2\hat r/2$), on the same sites (a density correction
``conjugate_prior`` turns the scale and LKJ sites into the Inverse-Wishart law); its posterior
is also available in closed form, as independent draws, from :func:`conjugate_posterior`.

Deterministic sites: ``coefficients`` (length/time, standardised basis), ``drift_coefficients``
(the same force in the monomials of the raw coordinates $\boldsymbol x$: column $\boldsymbol x^{\boldsymbol\beta}$
in length$^{1-|\boldsymbol\beta|}$/time), ``diffusion`` $D$ (length²/time), ``diffusion_scale``
$\sqrt{D_{ii}}$ (length/√time).

Derived quantities (:func:`derived_quantities`, group ``thermodynamics``, nat/time):
``entropy_production_rate``, the projected steady rate (calibrated posterior), and
``entropy_production_rate_stratonovich``, the Stratonovich functional along the observed path
(its posterior is about twice too narrow).

Exact sampling: with ``prior="conjugate"``, ``thermoinfer.inference.fit.fit(...,
sampler="conjugate")`` (CLI ``--sampler conjugate``) fills the posterior with independent draws
of :func:`conjugate_posterior` instead of running NUTS (:data:`CONJUGATE_OPTIONS`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.linalg import solve_triangular
from jax.scipy.special import multigammaln
from numpyro.distributions import constraints

from thermoinfer.errors import InputError, check_choice, check_int
from thermoinfer.inference.distributions import time_steps
from thermoinfer.inference.registry import load_model
from thermoinfer.paths import em_transition_log_prob
from thermoinfer.paths.polynomial import (
    conjugate_hyperparameters,
    conjugate_parameters,
    expansion_matrix,
    n_monomials,
    polynomial_force,
    polynomial_log_likelihood,
    polynomial_statistics,
    prior_scales,
    projected_entropy_rate,
    sample_conjugate,
    stratonovich_entropy_rate,
)

_neuron = load_model(Path(__file__).with_name("neuron.py"))

NAME = "polynomial-drift"
DESCRIPTION = ("overdamped Langevin dynamics in any dimension with a polynomial force (monomials "
               "up to --option degree=N, default 3) and constant diffusion D; Euler-Maruyama "
               "likelihood, steady entropy production (projected), exact conjugate posterior "
               "(--sampler conjugate)")

PARAMETERS = {
    "coefficients": ("length_unit time_unit-1",
                     "force coefficients Theta in the monomials of the standardised coordinates "
                     "z = (x - mean)/sd (graded lexicographic order, docs/polynomial-drift.md)"),
    "drift_coefficients": ("1", "the same force in the monomials of the raw coordinates x; the "
                           "column of x^beta is in length_unit^(1-|beta|) time_unit^-1 (mixed "
                           "units, reported as numbers in the data's units)"),
    "coefficients_whitened": ("1", "sampled coordinates of the coefficients (a fixed linear map "
                              "of Theta that whitens the likelihood)"),
    "diffusion": ("length_unit2 time_unit-1", "diffusion matrix D = mu T (deterministic)"),
    "diffusion_scale": ("length_unit time_unit-1/2", "sqrt of the diagonal of D (deterministic)"),
    "log_diffusion_ratio": ("1", "ln of diffusion_scale over its data-derived reference "
                            "s_i sqrt(Q_ii) (the sampled coordinate)"),
    "diffusion_corr": ("1", "correlation coefficients of D, rho_ij for i > j (d > 1; sampled as "
                       "an LKJ Cholesky factor)"),
}

#: LKJ Cholesky sites reported as their correlation coefficients (i > j) in a fit's posterior
CORRELATION_SITES = ("diffusion_corr",)
#: dims of the coefficient sites (component x monomial)
DIMS = {name: ("component", "monomial_dim_0")
        for name in ("coefficients", "drift_coefficients", "coefficients_whitened")}
#: the trajectories are coordinates
OBSERVATION_DIM = "component"

PRIORS = {"coefficient_scale": 10.0, "diffusion_log_sd": 1.5, "lkj_concentration": 2.0}
PRIOR_KINDS = ("normal", "conjugate")
#: default total degree of the basis
DEGREE = 3
#: model keyword values under which :func:`conjugate_posterior` is the exact posterior of
#: :func:`model` (the fit's ``sampler="conjugate"`` requires them)
CONJUGATE_OPTIONS = {"prior": "conjugate"}
_OPTIONS = ("degree", "prior", "temperature", *PRIORS)


class Conditioning(NamedTuple):
    r"""Data-derived constants of the model (fixed before sampling).

    ``center``, ``scale`` ``(d,)``: $\boldsymbol m$, $\boldsymbol s$; ``diffusion_ref`` ``(d,)``
    $\sqrt{\hat Q_{ii}}$; ``rate`` $\hat r$; ``reference`` ``(d, p)`` $\hat G$; ``whitening``
    ``(p, p)`` $L$; ``column_tril`` ``(p, p)`` the Cholesky factor of $L^\top L$; ``expansion``
    ``(p, p)`` $M$ with $\boldsymbol\phi(\boldsymbol z) = M\boldsymbol\phi(\boldsymbol x)$.
    """

    center: np.ndarray
    scale: np.ndarray
    diffusion_ref: np.ndarray
    rate: np.ndarray
    reference: np.ndarray
    whitening: np.ndarray
    column_tril: np.ndarray
    expansion: np.ndarray


def default_conditioning(d: int, degree: int) -> Conditioning:
    """Unit scales (no data: prior predictive draws)."""
    p = n_monomials(d, degree)
    eye = np.eye(p)
    return Conditioning(np.zeros(d), np.ones(d), np.ones(d), np.asarray(1.0), np.zeros((d, p)),
                        eye, eye.copy(), eye.copy())


def conditioning_from_statistics(stats, coefficient_scale: float = 10.0) -> Conditioning:
    """The constants of :class:`Conditioning` from the data's statistics."""
    ref, rate = prior_scales(stats)
    C = np.asarray(stats.basis_basis, dtype=float)
    p = C.shape[0]
    creg = C + 2.0 / (coefficient_scale**2 * rate) * np.eye(p)
    L = np.linalg.cholesky(0.5 * (creg + creg.T))
    Gref = np.linalg.solve(creg, np.asarray(stats.inc_basis, dtype=float).T).T
    T = np.linalg.cholesky(L.T @ L)
    M = expansion_matrix(stats.center, stats.scale, stats.degree)
    return Conditioning(np.asarray(stats.center, float), np.asarray(stats.scale, float), ref,
                        np.asarray(rate), Gref, L, T, M)


class MatrixNormal(dist.Distribution):
    r"""$\eta = \mathrm{loc} + R\,Z\,C^\top$, $Z$ standard normal ``(d, p)``: row covariance $RR^\top$, column covariance $CC^\top$."""

    arg_constraints = {"loc": constraints.real_matrix, "row_tril": constraints.lower_cholesky,
                       "col_tril": constraints.lower_cholesky}
    support = constraints.real_matrix
    reparametrized_params = ["loc", "row_tril", "col_tril"]

    def __init__(self, loc, row_tril, col_tril, *, validate_args=None):
        self.loc = jnp.asarray(loc)
        self.row_tril = jnp.asarray(row_tril)
        self.col_tril = jnp.asarray(col_tril)
        if self.loc.ndim != 2:
            raise InputError(f"MatrixNormal takes one (d, p) matrix, got loc of shape "
                             f"{self.loc.shape}.")
        super().__init__(batch_shape=(), event_shape=self.loc.shape, validate_args=validate_args)

    def sample(self, key, sample_shape=()):
        z = jax.random.normal(key, tuple(sample_shape) + self.event_shape)
        return self.loc + self.row_tril @ z @ self.col_tril.T

    def log_prob(self, value):
        r = jnp.asarray(value) - self.loc
        d, p = self.event_shape
        a = solve_triangular(self.row_tril, r, lower=True)                       # R^-1 r
        b = solve_triangular(self.col_tril, jnp.swapaxes(a, -1, -2), lower=True)  # C^-1 (.)^T
        quad = jnp.sum(b**2, axis=(-2, -1))
        return (-0.5 * quad - p * jnp.sum(jnp.log(jnp.diagonal(self.row_tril)))
                - d * jnp.sum(jnp.log(jnp.diagonal(self.col_tril)))
                - 0.5 * d * p * math.log(2.0 * math.pi))


class PolynomialEMTransitions(dist.Distribution):
    r"""Path of $d\boldsymbol x = \Theta\boldsymbol\phi(\boldsymbol z)dt + \sqrt{2D}d\boldsymbol W$ on the observation grid, Euler–Maruyama kernel.

    :meth:`log_prob` is :func:`thermoinfer.paths.em_transition_log_prob` per transition
    (shape ``(..., K)``); :meth:`sample` draws from the same kernel, one EM step per
    observation interval.
    """

    arg_constraints = {"initial": constraints.real_vector,
                       "coefficients": constraints.real_matrix,
                       "diffusion": constraints.positive_definite}
    support = constraints.real_vector

    def __init__(self, initial, times, coefficients, diffusion, center, scale, *,
                 validate_args=None):
        self.initial = jnp.asarray(initial, dtype=float)
        self.coefficients = jnp.asarray(coefficients, dtype=float)
        self.diffusion = jnp.asarray(diffusion, dtype=float)
        self.center = jnp.asarray(center, dtype=float)
        self.scale = jnp.asarray(scale, dtype=float)
        self.dt, self.n_steps = time_steps(times)
        d = self.initial.shape[-1]
        super().__init__(batch_shape=tuple(self.initial.shape[:-1]) + (self.n_steps,),
                         event_shape=(d,), validate_args=validate_args)

    def _force(self, x):
        return polynomial_force(x, self.coefficients, self.center, self.scale)

    def log_prob(self, value):
        value = jnp.asarray(value)
        lead = jnp.broadcast_to(self.initial[..., None, :],
                                value.shape[:-2] + (1, value.shape[-1]))
        prev = jnp.concatenate([lead, value[..., :-1, :]], axis=-2)
        return em_transition_log_prob(prev, value, self._force(prev), self.dt, self.diffusion)

    def _sample_one(self, key):
        x0 = self.initial
        d = x0.shape[-1]
        h = jnp.broadcast_to(jnp.asarray(self.dt, dtype=float), (self.n_steps,))
        L = jnp.linalg.cholesky(0.5 * (self.diffusion + self.diffusion.T))
        z = jax.random.normal(key, (self.n_steps,) + x0.shape)

        def step(x, args):
            hi, zi = args
            x = x + hi * self._force(x) + jnp.sqrt(2.0 * hi) * (zi @ L.T)
            return x, x

        _, path = jax.lax.scan(step, x0, (h, z))
        return jnp.moveaxis(path, 0, -2).reshape(x0.shape[:-1] + (self.n_steps, d))

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape)
        n = int(np.prod(shape)) if shape else 1
        out = jax.vmap(self._sample_one)(jax.random.split(key, n))
        return out.reshape(shape + self.batch_shape + self.event_shape)


def _dimension(observations, statistics, initial, n_components, conditioning):
    for value in (observations, initial):
        if value is not None:
            return int(np.shape(value)[-1])
    if statistics is not None:
        return int(np.shape(statistics.center)[-1])
    if conditioning is not None:
        return int(np.shape(conditioning.center)[-1])
    if n_components is not None:
        return int(n_components)
    raise InputError("polynomial-drift needs observations, initial points or n_components to "
                     "know the dimension d.")


def model(times, observations=None, *, statistics=None, conditioning=None, initial=None,
          n_replicas=None, n_components=None, degree=DEGREE, prior="normal",
          coefficient_scale=10.0, diffusion_log_sd=1.5, lkj_concentration=2.0,
          temperature=None, time_units="time_unit", length_units="length_unit"):
    r"""numpyro program of overdamped dynamics with a polynomial force (module docstring).

    Parameters
    ----------
    times : array_like, shape ``(K+1,)``
        Observation times (unused with ``statistics``).
    observations : array_like, shape ``(replica, K+1, d)``, optional
        Observed trajectories; ``None`` to sample them.
    statistics : PolynomialStatistics, optional
        Sufficient statistics of the observed transitions; the likelihood is then the factor
        ``obs_statistics`` (equal to the sum of the ``obs`` terms).
    conditioning : Conditioning, optional
        Data-derived constants (:func:`conditioning_from_statistics`); default unit scales.
    initial : array_like, shape ``(replica, d)``, optional
        Points at ``times[0]`` to condition on (default ``observations[:, 0]``, else zeros).
    n_replicas, n_components : int, optional
        Shape of the draws when neither ``observations`` nor ``initial`` is given.
    degree : int
        Total degree $N$ of the monomial basis (static).
    prior : {"normal", "conjugate"}
        Independent normal coefficients with scale + LKJ diffusion, or the MNIW prior.
    coefficient_scale, diffusion_log_sd, lkj_concentration : float
        Prior hyperparameters (module docstring).
    temperature : float, optional
        Metadata only (the process is parameterised by $D$).
    time_units, length_units : str
        Units metadata (unused by the program).
    """
    d = _dimension(observations, statistics, initial, n_components, conditioning)
    degree = int(degree)
    p = n_monomials(d, degree)
    cond = conditioning if conditioning is not None else default_conditioning(d, degree)
    s = jnp.asarray(cond.scale, dtype=float)
    ref = jnp.asarray(cond.diffusion_ref, dtype=float)
    rate = jnp.asarray(cond.rate, dtype=float)
    if tuple(np.shape(cond.reference)) != (d, p):
        raise InputError(f"conditioning is for coefficients of shape {np.shape(cond.reference)}, "
                         f"the model has ({d}, {p}) (degree {degree}); rebuild it with the same "
                         "degree.")
    u = numpyro.sample("log_diffusion_ratio",
                       dist.Normal(0.0, diffusion_log_sd).expand((d,)).to_event(1))
    sig = ref * jnp.exp(u)                                   # sqrt(D_z,ii)
    if d > 1:
        Lr = numpyro.sample("diffusion_corr", dist.LKJCholesky(d, lkj_concentration))
    else:
        Lr = jnp.ones((1, 1))
    Ldz = sig[:, None] * Lr
    Dz = Ldz @ Ldz.T
    D = Dz * (s[:, None] * s[None, :])
    numpyro.deterministic("diffusion", D)
    numpyro.deterministic("diffusion_scale", s * sig)
    rho = jnp.sqrt(2.0 * rate)
    if prior == "normal":
        row = (coefficient_scale * rate / rho) * jnp.eye(d)
    elif prior == "conjugate":
        v0 = coefficient_scale**2 * rate / 2.0
        row = jnp.sqrt(2.0 * v0) / rho * Ldz                 # sqrt(v0) chol(Sigma) / rho
    else:
        raise InputError(f"prior must be one of {list(PRIOR_KINDS)}, got {prior!r}.")
    Gref = jnp.asarray(cond.reference, dtype=float)
    W = jnp.asarray(cond.whitening, dtype=float)
    eta = numpyro.sample("coefficients_whitened",
                         MatrixNormal(-(Gref @ W) / rho, row,
                                      jnp.asarray(cond.column_tril, dtype=float)))
    G = Gref + rho * solve_triangular(W, eta.T, lower=True, trans=1).T   # G = Gref + rho eta W^-1
    theta = s[:, None] * G
    numpyro.deterministic("coefficients", theta)
    numpyro.deterministic("drift_coefficients", theta @ jnp.asarray(cond.expansion, dtype=float))
    if prior == "conjugate":
        numpyro.factor("conjugate_prior", _conjugate_correction(
            u, sig, Lr, Dz, ref, diffusion_log_sd, lkj_concentration))
    if statistics is not None:
        numpyro.factor("obs_statistics", polynomial_log_likelihood(statistics, theta, D))
        return
    if initial is None and observations is not None:
        initial = jnp.asarray(observations)[..., 0, :]
    if initial is None:
        initial = jnp.zeros((n_replicas or 1, d))
    obs = None if observations is None else jnp.asarray(observations)[..., 1:, :]
    numpyro.sample("obs", PolynomialEMTransitions(initial, times, theta, D, cond.center, s),
                   obs=obs)


def _conjugate_correction(u, sig, Lr, Dz, ref, diffusion_log_sd, lkj_concentration):
    r"""$\ln\mathcal W^{-1}(\Sigma;\nu_0,\Psi_0) + \ln|\partial\Sigma/\partial(u, L)| - \ln q(u) - \ln q(L)$ (up to a constant).

    With the sampled sites $u\sim\mathcal N(0, \cdot)$ and $L\sim\mathrm{LKJCholesky}$ this makes the
    density of $\Sigma = 2D_z$ the Inverse-Wishart one: $\Sigma = 2\,\mathrm{diag}(\boldsymbol\sigma)LL^\top
    \mathrm{diag}(\boldsymbol\sigma)$ has $|\partial\Sigma/\partial(\boldsymbol\sigma, R)|\propto\prod\sigma_i^d$,
    $d\sigma_i/du_i = \sigma_i$, and the LKJ Cholesky density is the LKJ density of $R = LL^\top$
    times $|\partial R/\partial L|$, so the correction divides by $\det R^{\eta-1}$ only.
    """
    d = sig.shape[0]
    nu0 = d + 2.0
    psi0 = 2.0 * (nu0 - d - 1.0) * jnp.diag(ref**2)
    Sigma = 2.0 * Dz
    Ls = jnp.linalg.cholesky(Sigma)
    logdet_s = 2.0 * jnp.sum(jnp.log(jnp.diagonal(Ls)))
    X = solve_triangular(Ls, psi0, lower=True)
    tr = jnp.trace(solve_triangular(Ls, X.T, lower=True))        # tr(Psi0 Sigma^-1)
    log_iw = (0.5 * nu0 * jnp.sum(jnp.log(jnp.diagonal(psi0))) - 0.5 * nu0 * d * math.log(2.0)
              - multigammaln(0.5 * nu0, d) - 0.5 * (nu0 + d + 1.0) * logdet_s - 0.5 * tr)
    log_jac = (d + 1.0) * jnp.sum(jnp.log(sig))
    log_qu = jnp.sum(dist.Normal(0.0, diffusion_log_sd).log_prob(u))
    log_lkj_r = 2.0 * (lkj_concentration - 1.0) * jnp.sum(jnp.log(jnp.diagonal(Lr)))
    return log_iw + log_jac - log_qu - log_lkj_r


def data_from_dataset(ds, **options):
    """Model keyword arguments from a validated trajectory dataset (dims ``replica, time, component``).

    Options: ``degree`` (int >= 0, default 3), ``prior`` (``"normal"`` or ``"conjugate"``),
    ``temperature`` (metadata) and the prior hyperparameters of :data:`PRIORS`. The sufficient
    statistics (``statistics``) and the data-derived constants (``conditioning``) are computed
    here, once.
    """
    _neuron.check_options(options, _OPTIONS, NAME)
    times, obs, time_units, length_units = _neuron.trajectories(ds, "component")
    degree = check_int("option degree", options.get("degree", DEGREE),
                       "Give the total degree of the polynomial, e.g. --option degree=3.",
                       minimum=0)
    prior = check_choice("option prior", options.get("prior", "normal"), PRIOR_KINDS)
    temperature = options.pop("temperature", _neuron.dataset_temperature(ds))
    if temperature == "inferred":
        temperature = None
    priors = _neuron.prior_options(options, PRIORS, NAME)
    stats = polynomial_statistics(obs, times, degree)
    cond = conditioning_from_statistics(stats, priors["coefficient_scale"])
    return dict(times=times, observations=obs, statistics=stats, conditioning=cond,
                degree=degree, prior=prior,
                temperature=None if temperature is None else float(temperature),
                time_units=time_units,
                length_units="length_unit" if length_units == "1" else length_units, **priors)


def conventions(data) -> dict:
    """Convention attributes of a fit (see ``neuron.conventions``)."""
    T = data.get("temperature")
    return dict(entropy_convention="not_applicable", heat_convention="not_applicable",
                path_weights="euler_maruyama", data_protocol="not_applicable",
                temperature="inferred" if T is None else float(T))


def _statistics(data):
    stats = data.get("statistics")
    if stats is None:
        cond = data["conditioning"]
        stats = polynomial_statistics(data["observations"], data["times"],
                                      int(data.get("degree", DEGREE)), center=cond.center,
                                      scale=cond.scale)
    return stats


def derived_quantities(samples, data):
    r"""Per-draw entropy-production rates of the fitted force (nat/time).

    ``thermodynamics``:

    * ``entropy_production_rate`` (the primary estimate): the variational steady rate on the
      observed points,
      $\hat\sigma_\perp = \min_\psi\tau^{-1}\sum_ih_i|\boldsymbol F_\Theta - D\nabla\psi|^2_{D^{-1}}$
      over polynomial potentials $\psi$ of degree $\le N + 1$
      (:func:`thermoinfer.paths.polynomial.projected_entropy_rate`); its posterior spread matches
      its sampling spread over replicate data sets (calibrated intervals);
    * ``entropy_production_rate_stratonovich``: the Stratonovich functional along the observed
      path, $\hat\sigma = \tau^{-1}\sum_i\Delta\boldsymbol x_i^\top D^{-1}\boldsymbol F_\Theta(\bar{\boldsymbol x}_i)$
      (:func:`thermoinfer.paths.polynomial.stratonovich_entropy_rate`, $O(pd)$ per draw from the
      precomputed midpoint statistic). Its posterior is **about twice too narrow**: the path
      noise in it is fixed by the data, so its posterior sd is about half of its sampling sd;
      do not read its credible intervals as uncertainties.

    For a stationary process both estimate the steady entropy-production rate $\sigma$ of the
    fitted force; docs/polynomial-drift.md compares them and gives their finite-data bias and
    their bias at a coarse recording step.
    """
    from thermoinfer.data.schema import per_time

    stats = _statistics(data)
    theta, D = samples["coefficients"], samples["diffusion"]
    units = per_time("nat", data.get("time_units", "time_unit"))
    return {"thermodynamics": {
        "entropy_production_rate": (
            (), np.asarray(projected_entropy_rate(stats, theta, D)), units,
            "steady entropy production rate of the fitted force, min over polynomial potentials "
            "psi of the time average of (F - D grad psi) . D^-1 (F - D grad psi) (k_B per unit "
            "time; calibrated posterior)"),
        "entropy_production_rate_stratonovich": (
            (), np.asarray(stratonovich_entropy_rate(stats, theta, D)), units,
            "Stratonovich entropy production rate along the observed path, tau^-1 sum dx . "
            "D^-1 F(midpoint) (k_B per unit time); caveat: its posterior is about twice too "
            "narrow (the path noise is fixed by the data), use entropy_production_rate for "
            "intervals"),
    }}


def _sites(theta, D, cond):
    """All posterior sites from draws of ``(coefficients (n, d, p), diffusion (n, d, d))``."""
    theta = np.asarray(theta, dtype=float)
    D = np.asarray(D, dtype=float)
    s = np.asarray(cond.scale, dtype=float)
    d = s.shape[0]
    Dz = D / (s[:, None] * s[None, :])
    sig = np.sqrt(np.diagonal(Dz, axis1=-2, axis2=-1))
    out = {"coefficients": theta, "diffusion": D, "diffusion_scale": s * sig,
           "log_diffusion_ratio": np.log(sig / np.asarray(cond.diffusion_ref)),
           "drift_coefficients": theta @ np.asarray(cond.expansion)}
    if d > 1:
        R = Dz / (sig[..., :, None] * sig[..., None, :])
        out["diffusion_corr"] = np.linalg.cholesky(R)
    rate = float(cond.rate)
    G = theta / s[:, None]
    out["coefficients_whitened"] = ((G - np.asarray(cond.reference)) @ np.asarray(cond.whitening)
                                    / math.sqrt(2.0 * rate))
    return out


def conjugate_posterior(data, key, n_draws: int) -> dict:
    r"""Independent draws of the exact posterior under the Matrix-Normal–Inverse-Wishart prior.

    The prior is that of ``prior="conjugate"`` (module docstring; $\nu_0 = d + 2$,
    $\Psi_0 = 2\,\mathrm{diag}\hat Q$, $v_0 = c^2\hat r/2$ with $c$ = ``coefficient_scale``), the
    likelihood the EM one of any grid (:mod:`thermoinfer.paths.polynomial`): no MCMC, no
    warmup, no autocorrelation.

    Parameters
    ----------
    data : dict or xarray.Dataset
        The model keyword arguments of :func:`data_from_dataset` (or an observation dataset,
        passed through it with the default options).
    key : jax.random key
    n_draws : int

    Returns
    -------
    dict
        ``{site: array (n_draws, ...)}`` of every posterior site of :func:`model` (``coefficients``,
        ``drift_coefficients``, ``coefficients_whitened``, ``diffusion``, ``diffusion_scale``,
        ``log_diffusion_ratio``, ``diffusion_corr``), NumPy float64; pass them to
        :func:`derived_quantities` for the entropy production.
    """
    if not isinstance(data, dict):
        data = data_from_dataset(data)
    stats = _statistics(data)
    c = float(data.get("coefficient_scale", PRIORS["coefficient_scale"]))
    nu0, _, _ = conjugate_hyperparameters(stats, coefficient_scale=c)
    post = conjugate_parameters(stats, coefficient_scale=c, dof=nu0)
    theta, D = sample_conjugate(post, key, n_draws)
    cond = data.get("conditioning") or conditioning_from_statistics(stats, c)
    return _sites(theta, D, cond)

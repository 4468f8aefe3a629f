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

Localization noise (``localization_noise=True``)
------------------------------------------------
The positions are then observed through Gaussian measurement noise,
$\boldsymbol y_i = \boldsymbol x(t_i) + \boldsymbol e_i$, $\boldsymbol e_i\sim\mathcal N(0, \mathrm{diag}\,s^2)$,
independent between frames and components, with the first state drawn from the steady state
$\mathcal N(\boldsymbol x^*, C)$. The likelihood is the marginal $\ln p(\boldsymbol y_0,\dots,\boldsymbol y_K)$ of
every replica, the latent path integrated out by the Kalman filter
(:mod:`thermoinfer.paths.kalman`): for sampling the factor ``obs_kalman``, from lagged moments
of the data computed once (``statistics`` is then a
:class:`~thermoinfer.paths.kalman.LocalizationStatistics`); its cost per gradient does not grow
with the number of frames on a regular grid. Without ``statistics`` the site ``obs`` holds the
one-step predictive densities $\ln p(\boldsymbol y_{i+1}\mid\boldsymbol y_0..\boldsymbol y_i)$ and the factor
``obs_initial`` the first frame's $\ln\mathcal N(\boldsymbol y_0; \boldsymbol x^*, C + \mathrm{diag}\,s^2)$; predictive
draws are noisy positions that continue from the latent state given the first observed frame.

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
* ``localization_sd`` $s_i\sim\mathrm{LogNormal}(\ln(\lambda\ell), 1.5)$ per component, length, with
  $\lambda$ = ``localization_scale`` (default 0.1: a prior median of a tenth of $\ell$; only with
  ``localization_noise=True``);
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
from numpyro.distributions import constraints

from thermoinfer.errors import InputError
from thermoinfer.inference.distributions import LinearOUTransitions, time_steps
from thermoinfer.inference.registry import load_model
from thermoinfer.paths.kalman import (
    LocalizationStatistics,
    condition_on_observation,
    kalman_log_prob,
    localization_log_likelihood,
    localization_statistics,
)
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
    "localization_sd": ("length_unit", "SD of the localization (measurement) noise per component "
                        "(only with localization_noise=True)"),
}

#: LKJ Cholesky sites reported as their correlation coefficients (i > j) in a fit's posterior
CORRELATION_SITES = ("covariance_corr", "diffusion_corr")
#: vector sites over the pairs i > j of components
PAIR_SITES = ("circulation",)

PRIORS = {"length_scale": 1.0, "time_scale": 1.0, "circulation_scale": 1.0,
          "lkj_concentration": 2.0, "center_scale": 10.0, "localization_scale": 0.1}
#: options that are switches (true/false)
SWITCHES = ("center", "localization_noise")
_OPTIONS = (*SWITCHES, "temperature", *PRIORS)


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
          n_components=None, center=False, localization_noise=False, temperature=None,
          length_scale=1.0, time_scale=1.0, circulation_scale=1.0, lkj_concentration=2.0,
          center_scale=10.0, localization_scale=0.1, time_units="time_unit",
          length_units="length_unit"):
    r"""numpyro program of a linear OU process.

    Parameters
    ----------
    times : array_like, shape ``(K+1,)``
        Observation times.
    observations : array_like, shape ``(replica, K+1, d)``, optional
        Observed trajectories; ``None`` to sample them.
    statistics : TransitionStatistics or LocalizationStatistics, optional
        Sufficient statistics of the observed transitions; when given, the likelihood is the
        factor ``obs_statistics`` computed from them (equal to the sum of the ``obs`` terms) and
        ``observations`` and ``times`` are not used. With ``localization_noise`` they are the
        :class:`~thermoinfer.paths.kalman.LocalizationStatistics` of the noisy positions and the
        factor is ``obs_kalman`` (equal to the ``obs`` terms plus ``obs_initial``).
    initial : array_like, shape ``(replica, d)``, optional
        Points at ``times[0]`` to condition on (default ``observations[:, 0]``; if both are
        ``None`` they are drawn from the steady state $\mathcal N(\boldsymbol x^*, C)$, site ``initial``;
        with localization noise they are observed positions, drawn from
        $\mathcal N(\boldsymbol x^*, C + \mathrm{diag}\,s^2)$).
    n_replicas, n_components : int, optional
        Shape of the draws when neither ``observations`` nor ``initial`` is given.
    center : bool
        Infer the centre $\boldsymbol x^*$ (otherwise $0$).
    localization_noise : bool
        The observations are positions plus Gaussian localization noise of SD
        ``localization_sd`` per component (module docstring).
    temperature : float, optional
        Metadata only (the process is parameterised by $D$).
    length_scale, time_scale, circulation_scale, lkj_concentration, center_scale, localization_scale
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
    if localization_noise:
        _noisy_positions(times, observations, statistics, initial, n_replicas, d, A, D, C, x_star,
                         localization_scale * length_scale)
        return
    if statistics is not None:
        if isinstance(statistics, LocalizationStatistics):
            raise InputError("statistics are those of noisy positions (LocalizationStatistics); "
                             "pass localization_noise=True, or TransitionStatistics.")
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


def initial_values(statistics=None, *, center=False, localization_noise=False,
                   **_) -> dict | None:
    r"""A data-based point the sampler's chains start around: least squares on the statistics.

    From the step group with the most transitions (step $\Delta$), with
    $\boldsymbol u_i = \boldsymbol x_i - \boldsymbol m$ and increments $\boldsymbol\delta_i$: the
    regression $\boldsymbol\delta_i \approx E\boldsymbol u_i + \boldsymbol c$ gives
    $\hat E = \mathrm{Cov}(\boldsymbol\delta, \boldsymbol u)\,\mathrm{Cov}(\boldsymbol u)^{-1}$ and the residual
    covariance $\hat\Sigma$; then $\hat A = \ln(\mathbb 1 + \hat E)/\Delta$ (1/time),
    $\hat D = \hat\Sigma/(2\Delta)$ (length²/time, first order in $\Delta$), $\hat C$ from
    $\hat A\hat C + \hat C\hat A^\top + 2\hat D = 0$ (length²), $\hat J$ the antisymmetric part of
    $\hat A\hat C + \hat D$, and the centre (``center=True``) the mean position. Returned as
    the constrained values of the sites (``covariance_scale``, ``covariance_corr``,
    ``diffusion_scale``, ``diffusion_corr``, ``circulation``, ``center``); ``None`` (start
    from the prior's support at random) where the estimate is not a stable process with
    positive-definite $D$ and $C$, for noisy positions, or without statistics.

    This only sets where warmup begins: each chain starts at a random point within
    $\pm0.1$ of it in the unconstrained space. From a random point in $\pm2$ (numpyro's
    default), NUTS can stay lost on high-dimensional data (a 5-bead chain, 40 parameters,
    $2\cdot10^4$ frames: every draw at the maximum tree depth, far from the data's optimum).
    """
    import scipy.linalg as sla

    if statistics is None or localization_noise or isinstance(statistics, LocalizationStatistics):
        return None
    st = statistics
    count = np.asarray(st.count, dtype=float)
    if count.size == 0 or count.max() < 3:
        return None
    g = int(np.argmax(count))
    n, dt = count[g], float(np.asarray(st.dt)[g])
    mu, md = np.asarray(st.s_prev[g]) / n, np.asarray(st.s_inc[g]) / n
    c_uu = np.asarray(st.prev_prev[g]) / n - np.outer(mu, mu)
    c_du = np.asarray(st.inc_prev[g]) / n - np.outer(md, mu)
    c_dd = np.asarray(st.inc_inc[g]) / n - np.outer(md, md)
    d = mu.shape[0]
    try:
        E = np.linalg.solve(c_uu, c_du.T).T
        S = c_dd - E @ c_du.T
        A = sla.logm(np.eye(d) + E) / dt
        if np.iscomplexobj(A):
            if np.max(np.abs(A.imag)) > 1e-8 * max(1.0, np.max(np.abs(A.real))):
                return None
            A = A.real
        D = 0.5 * (S + S.T) / (2.0 * dt)
        if np.max(np.linalg.eigvals(A).real) >= 0 or np.min(np.linalg.eigvalsh(D)) <= 0:
            return None
        C = sla.solve_continuous_lyapunov(A, -2.0 * D)
        C = 0.5 * (C + C.T)
        if np.min(np.linalg.eigvalsh(C)) <= 0:
            return None
        J = A @ C + D
        J = 0.5 * (J - J.T)

        def scale_corr(M):
            sd = np.sqrt(np.diag(M))
            return sd, np.linalg.cholesky(M / np.outer(sd, sd))

        c_sd, c_corr = scale_corr(C)
        d_sd, d_corr = scale_corr(D)
    except (np.linalg.LinAlgError, ValueError):
        return None
    values = {"covariance_scale": c_sd, "diffusion_scale": d_sd}
    if d > 1:
        rows, cols = np.tril_indices(d, -1)
        values.update(covariance_corr=c_corr, diffusion_corr=d_corr,
                      circulation=(J / np.outer(d_sd, d_sd))[rows, cols])
    if center:
        values["center"] = np.asarray(st.ref, dtype=float) + mu
    if not all(np.all(np.isfinite(v)) for v in values.values()):
        return None
    return values


def _noisy_positions(times, observations, statistics, initial, n_replicas, d, A, D, C, x_star,
                     scale):
    """The likelihood of positions seen through localization noise (module docstring)."""
    s = numpyro.sample("localization_sd", dist.LogNormal(math.log(scale), 1.5)
                       .expand((d,)).to_event(1))
    b = -A @ x_star
    if statistics is not None:
        if not isinstance(statistics, LocalizationStatistics):
            raise InputError("localization_noise=True needs the statistics of noisy positions "
                             "(thermoinfer.paths.kalman.localization_statistics), got "
                             f"{type(statistics).__name__}.")
        numpyro.factor("obs_kalman", localization_log_likelihood(
            statistics, A, b, D, s, initial_mean=x_star, initial_cov=C))
        return
    first = dist.MultivariateNormal(x_star, C + jnp.diag(s * s))
    if initial is None and observations is not None:
        initial = jnp.asarray(observations)[..., 0, :]
        numpyro.factor("obs_initial", jnp.sum(first.log_prob(initial)))
    if initial is None:
        initial = numpyro.sample("initial", first.expand((n_replicas or 1,)).to_event(1))
    obs = None if observations is None else jnp.asarray(observations)[..., 1:, :]
    numpyro.sample("obs", LocalizedOUPositions(initial, times, A, D, s, force=b, state_mean=x_star,
                                               state_cov=C), obs=obs)


class LocalizedOUPositions(dist.Distribution):
    r"""Noisy positions of a linear OU path at ``times[1:]``, given the noisy first position.

    The latent state follows $d\boldsymbol x = (A\boldsymbol x + \boldsymbol b)dt + \sqrt{2D}\,d\boldsymbol W$ from
    $\mathcal N(\boldsymbol m_0, P_0)$ at ``times[0]``; the value is
    $\boldsymbol y_i = \boldsymbol x(t_i) + \boldsymbol e_i$, $\boldsymbol e_i\sim\mathcal N(0, \mathrm{diag}\,s^2)$, for
    $i = 1..K$, shape ``(..., K, d)``, given ``initial`` $=\boldsymbol y_0$. :meth:`log_prob` returns the
    $K$ one-step predictive log-densities $\ln p(\boldsymbol y_i\mid\boldsymbol y_0,\dots,\boldsymbol y_{i-1})$ of the
    sequential Kalman filter (:func:`thermoinfer.paths.kalman.kalman_log_prob`), nats;
    :meth:`sample` draws the first latent state given $\boldsymbol y_0$, the latent path from the exact
    kernel (:class:`~thermoinfer.inference.distributions.LinearOUTransitions`) and the noise.

    Parameters
    ----------
    initial : array_like, shape ``(..., d)``
        Noisy positions at ``times[0]``.
    times : array_like, shape ``(K+1,)``
        Observation times.
    drift, diffusion : array_like, shape ``(d, d)``
        $A$ (1/time), $D$ (length²/time).
    noise_sd : array_like, shape ``(d,)``
        $s$ (length).
    force : array_like, shape ``(d,)``, optional
        $\boldsymbol b$ (length/time).
    state_mean, state_cov : array_like
        $\boldsymbol m_0$ ``(d,)``, $P_0$ ``(d, d)``: the state at ``times[0]`` before ``initial`` is seen.
    """

    arg_constraints = {"initial": constraints.real_vector, "drift": constraints.real_matrix,
                       "diffusion": constraints.positive_definite,
                       "noise_sd": constraints.positive, "force": constraints.real_vector,
                       "state_mean": constraints.real_vector,
                       "state_cov": constraints.positive_definite}
    support = constraints.real_vector

    def __init__(self, initial, times, drift, diffusion, noise_sd, *, force=None, state_mean=None,
                 state_cov, validate_args=None):
        self.initial = jnp.asarray(initial)
        d = self.initial.shape[-1]
        self.drift = jnp.asarray(drift)
        self.diffusion = jnp.asarray(diffusion)
        self.noise_sd = jnp.broadcast_to(jnp.asarray(noise_sd), (d,))
        self.force = jnp.zeros(d) if force is None else jnp.asarray(force)
        self.state_mean = jnp.zeros(d) if state_mean is None else jnp.asarray(state_mean)
        self.state_cov = jnp.asarray(state_cov)
        self.times = times
        _, self.n_steps = time_steps(times)
        self.calculus = "exact"
        super().__init__(batch_shape=tuple(self.initial.shape[:-1]) + (self.n_steps,),
                         event_shape=(d,), validate_args=validate_args)

    def log_prob(self, value):
        """One-step predictive log-densities, shape ``(..., K)``, nats."""
        value = jnp.asarray(value)
        first = jnp.broadcast_to(self.initial, value.shape[:-2] + self.initial.shape[-1:])
        y = jnp.concatenate([first[..., None, :], value], axis=-2)
        lp = kalman_log_prob(y, self.times, self.drift, self.force, self.diffusion, self.noise_sd,
                             initial_mean=self.state_mean, initial_cov=self.state_cov)
        return lp[..., 1:]

    def _sample_one(self, key):
        k0, k1, k2 = jax.random.split(key, 3)
        lead, d = self.initial.shape[:-1], self.initial.shape[-1]
        m, P, _ = condition_on_observation(self.state_mean, self.state_cov, self.initial,
                                           self.noise_sd)
        P = 0.5 * (P + P.T)
        x0 = m + jax.random.normal(k0, lead + (d,)) @ jnp.linalg.cholesky(P).T
        path = LinearOUTransitions(x0, self.times, self.drift, self.diffusion,
                                   force=self.force).sample(k1)
        return path + self.noise_sd * jax.random.normal(k2, path.shape)

    def sample(self, key, sample_shape=()):
        """Draw the noisy positions at ``times[1:]``, shape ``sample_shape + (..., K, d)``."""
        shape = tuple(sample_shape)
        n = int(np.prod(shape)) if shape else 1
        out = jax.vmap(self._sample_one)(jax.random.split(key, n))
        return out.reshape(shape + self.batch_shape + self.event_shape)


def _switch(options, name):
    """A true/false option: ``True``/``False`` or the strings ``"true"``/``"false"`` (any case)."""
    value = options.get(name, False)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InputError(f"option {name} must be true or false, got {value!r}. Give it as --option "
                     f"{name}=true (model {NAME!r}).")


def data_from_dataset(ds, **options):
    """Model keyword arguments from a validated trajectory dataset (dims ``replica, time, component``).

    Options: the switches ``center`` and ``localization_noise`` (``true``/``false``),
    ``temperature`` (metadata) and the prior hyperparameters of :data:`PRIORS`. The sufficient
    statistics (``statistics``: of the transitions, or with localization noise the lagged
    moments of :func:`thermoinfer.paths.kalman.localization_statistics`) are computed here,
    once.
    """
    _neuron.check_options(options, _OPTIONS, NAME)
    switches = {name: _switch(options, name) for name in SWITCHES}
    times, obs, time_units, length_units = _neuron.trajectories(ds, "component")
    temperature = options.pop("temperature", _neuron.dataset_temperature(ds))
    if temperature == "inferred":
        temperature = None
    priors = _neuron.prior_options(options, PRIORS, NAME)
    statistics = (localization_statistics(obs, times) if switches["localization_noise"]
                  else transition_statistics(obs, times))
    return dict(times=times, observations=obs, statistics=statistics, **switches,
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

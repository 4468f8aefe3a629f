r"""``neuron``: a learning neuron whose weights are observed (docs/theory/model.md,
docs/theory/thermodynamics-and-bound.md, docs/theory/paths-and-entropy-production.md).

Model
-----
Batch Langevin learning of one neuron with $N$ weights on $P$ patterns $(\boldsymbol\xi^\mu, \sigma_T^\mu)$:

$$d\boldsymbol\omega = \big[-k\boldsymbol\omega + \boldsymbol f(\boldsymbol\omega)\big]dt + \sqrt{2D}\,d\boldsymbol W,\qquad
\boldsymbol f = \frac{\nu}{\sqrt N}\sum_\mu\sigma_T^\mu F(A^\mu,\sigma_T^\mu)\boldsymbol\xi^\mu,\qquad D = \mu T,$$

observed at ``times`` $t_0 < \dots < t_K$ (any grid) for every replica. The likelihood is the
path density of :mod:`thermoinfer.paths` conditioned on the first observation, one term per
transition (the ``obs`` site is ``observations[:, 1:]``):

* Hebbian (weight-independent force): the exact OU transition density (``path_weights =
  "exact_ou"``, no discretisation error on any grid);
* Perceptron, AdaTron, user rules: the Euler–Maruyama (Itô pre-point) kernel on the observation
  grid (``"euler_maruyama"``); biased when $k\Delta t$ is not small (the diffusion by about 10% at
  $k\Delta t = 0.1$).

Priors (proper; time in the units of the dataset's ``time`` coordinate)
-----------------------------------------------------------------------
* ``stiffness`` $k\sim\mathrm{LogNormal}(0, 1)$, 1/time (``stiffness_prior = (loc, scale)`` of $\ln k$);
* ``learning_rate`` $\nu\sim\mathrm{HalfNormal}(2)$, weight/time (``learning_rate_scale``);
  given $k$ and $D$ its conditional posterior under the exact likelihood is a Gaussian
  truncated at 0;
* ``diffusion`` $D\sim\mathrm{InverseGamma}(3, 2)$ (mean 1, sd 1), weight²/time, only when the
  temperature is unknown (``diffusion_prior = (concentration, rate)``); conjugate under the exact
  likelihood. With a known ``temperature`` there is no such site and $D = T$.

Identifiability (docs/theory/units.md, eq. (4)–(6)): trajectories fix only the drift and $D = \mu T$. Without a
known $T$ the site is called ``diffusion`` and the fitted $k$, $\nu$ are $\mu k$, $\mu\nu$ (under the
convention $\mu = 1$ they are $k$, $\nu$); heat in energy units is then not reported, only in
entropy units ($q/D$).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from thermoinfer.dynamics import NeuronParams, bare_potential, learning_force, total_potential
from thermoinfer.errors import InputError
from thermoinfer.inference.distributions import LearningNeuronTransitions, time_steps
from thermoinfer.paths.statistics import isotropic_log_likelihood, isotropic_statistics
from thermoinfer.rules import get_rule

NAME = "neuron"
DESCRIPTION = ("learning neuron, weights observed: exact OU likelihood (Hebbian) or "
               "Euler-Maruyama (Perceptron, AdaTron, user rules); infers k, nu and T (or D = mu T)")

#: inferred sites: units (time = the dataset's time unit) and meaning
PARAMETERS = {
    "stiffness": ("time_unit-1", "k, restoring constant of the weight decay (mu k if T is unknown)"),
    "learning_rate": ("weight_unit time_unit-1",
                      "nu, learning rate (mu nu if T is unknown)"),
    "diffusion": ("weight_unit2 time_unit-1",
                  "D = mu T, diffusion constant; a site only when the temperature is not given "
                  "(only D is identifiable from trajectories, docs/theory/units.md, eq. (5))"),
}

#: default prior hyperparameters (model keyword arguments and dataset options)
PRIORS = {
    "stiffness_prior": (0.0, 1.0),
    "learning_rate_scale": 2.0,
    "diffusion_prior": (3.0, 2.0),
}

_OPTIONS = ("rule", "method", "temperature", *PRIORS)


def model(times, observations=None, *, inputs, labels, statistics=None, rule="hebbian",
          method="auto",
          temperature=None, initial=None, n_replicas=None, stiffness_prior=(0.0, 1.0),
          learning_rate_scale=2.0, diffusion_prior=(3.0, 2.0), time_units="time_unit",
          weight_units="weight_unit"):
    r"""numpyro program of the observed learning neuron.

    Parameters
    ----------
    times : array_like, shape ``(K+1,)``
        Observation times.
    observations : array_like, shape ``(replica, K+1, N)``, optional
        Observed weights; ``None`` to sample (prior/posterior predictive).
    inputs, labels : array_like, shapes ``(P, N)``, ``(P,)``
        The training data.
    statistics : IsotropicStatistics, optional
        Sufficient statistics of the observed transitions (exact OU likelihood only, a force
        independent of the weights); when given, the likelihood is the factor
        ``obs_statistics`` computed from them (equal to the sum of the ``obs`` terms), and
        ``observations`` and ``times`` are not used.
    rule : str
        Learning rule name; ``method`` ``"auto"``, ``"exact_ou"`` or ``"euler_maruyama"``.
    temperature : float or None
        Known $T$ (energy units); ``None``: infer $D = \mu T$ (site ``diffusion``).
    initial : array_like, shape ``(replica, N)``, optional
        Weights at ``times[0]`` to condition on (default ``observations[:, 0]``; if both are
        ``None`` they are drawn from the bare equilibrium $\mathcal N(0, D/k)$ as site ``initial``).
    n_replicas : int, optional
        Number of replicas when neither ``observations`` nor ``initial`` is given (default 1).
    stiffness_prior, learning_rate_scale, diffusion_prior
        Prior hyperparameters (see the module docstring).
    time_units, weight_units : str
        Units of the data (metadata for the derived quantities; unused by the program).
    """
    inputs = jnp.asarray(inputs, dtype=float)
    k = numpyro.sample("stiffness", dist.LogNormal(*stiffness_prior))
    nu = numpyro.sample("learning_rate", dist.HalfNormal(learning_rate_scale))
    if temperature is None:
        T = numpyro.sample("diffusion", dist.InverseGamma(*diffusion_prior))
    else:
        T = temperature
    if statistics is not None:
        numpyro.factor("obs_statistics", isotropic_log_likelihood(statistics, k, nu, T))
        return
    if initial is None and observations is not None:
        initial = jnp.asarray(observations)[..., 0, :]
    if initial is None:
        shape = (n_replicas or 1, inputs.shape[-1])
        initial = numpyro.sample(
            "initial", dist.Normal(0.0, jnp.sqrt(T / k)).expand(shape).to_event(2))
    obs = None if observations is None else jnp.asarray(observations)[..., 1:, :]
    numpyro.sample("obs", LearningNeuronTransitions(initial, times, inputs, labels, rule, k, nu, T,
                                                    method=method), obs=obs)


# ---------------------------------------------------------------------------------------------
# data


def dataset_temperature(ds):
    """Known temperature of an observation dataset (root attr or scalar variable), else None."""
    if "temperature" in ds.variables:
        value = ds["temperature"].values
    elif "temperature" in ds.attrs:
        value = ds.attrs["temperature"]
    else:
        return None
    if isinstance(value, str):
        if value == "inferred":
            return None
        raise InputError(f"temperature attribute must be a number or 'inferred', got {value!r}.")
    value = float(np.asarray(value))
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"temperature must be a finite number > 0 (energy units, k_B = 1), "
                         f"got {value!r}.")
    return value


#: what each prior hyperparameter must be: "positive" or "finite", per entry of a pair
PRIOR_RULES = {"stiffness_prior": ("finite", "positive"), "learning_rate_scale": "positive",
               "diffusion_prior": ("positive", "positive"), "readout_noise_scale": "positive",
               "length_scale": "positive", "time_scale": "positive",
               "circulation_scale": "positive", "lkj_concentration": "positive",
               "center_scale": "positive"}


def prior_options(options, defaults, name):
    """The prior hyperparameters: ``defaults`` updated by ``options``, each checked (a number,
    or a pair of numbers, as in :data:`PRIOR_RULES`); bad values raise :class:`InputError`
    naming the option."""
    from thermoinfer.errors import check_finite, check_positive

    out = dict(defaults)
    for key, default in defaults.items():
        if key not in options:
            continue
        value = options[key]
        rule = PRIOR_RULES.get(key, "positive")
        pair = isinstance(default, tuple)
        example = f"{key}={list(default)}" if pair else f"{key}={default:g}"
        fix = f"Give it as --option {example} (model {name!r})."
        if pair:
            if isinstance(value, (str, bytes, bool)) or not hasattr(value, "__len__") or \
                    len(value) != len(default):
                raise InputError(f"option {key} must be a pair of numbers, got {value!r}. {fix}")
            out[key] = tuple(
                (check_positive if r == "positive" else check_finite)(f"option {key}[{i}]", v, fix)
                for i, (r, v) in enumerate(zip(rule, value, strict=True)))
        else:
            out[key] = check_positive(f"option {key}", value, fix)
    return out


def check_options(options, allowed, name):
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for model {name!r}; allowed: "
                         f"{sorted(allowed)}.")


def trajectories(ds, component_dim):
    """``(times, observations (replica, time, component), time_units, obs_units)`` of a dataset."""
    if "observations" not in ds:
        raise InputError("the dataset has no variable 'observations' (replica, time, "
                         f"{component_dim}).")
    obs = ds["observations"]
    if "replica" not in obs.dims:
        obs = obs.expand_dims("replica")
    missing = {"replica", "time", component_dim} - set(obs.dims)
    if missing or obs.ndim != 3:
        raise InputError(f"observations must have dims (replica, time, {component_dim}), got "
                         f"{obs.dims}.")
    obs = obs.transpose("replica", "time", component_dim)
    times = np.asarray(ds["time"].values, dtype=float)
    time_steps(times)  # validates the grid
    time_units = str(ds["time"].attrs.get("units", "time_unit"))
    obs_units = str(obs.attrs.get("units", "weight_unit" if component_dim == "weight" else "1"))
    return times, np.asarray(obs.values, dtype=float), time_units, obs_units


def training_data(ds, name):
    """``(inputs (pattern, weight), labels (pattern,))`` of a neuron dataset."""
    if "inputs" not in ds or "labels" not in ds:
        raise InputError(f"model {name!r} needs the training data: variables 'inputs' (pattern, "
                         "weight) and 'labels' (pattern) are missing from the dataset.")
    inputs = np.asarray(ds["inputs"].transpose("pattern", "weight").values, dtype=float)
    labels = np.asarray(ds["labels"].values, dtype=float)
    return inputs, labels


def data_from_dataset(ds, **options):
    """Model keyword arguments from a validated observation dataset.

    Options: ``rule`` (default ``"hebbian"``), ``method`` (``"auto"``), ``temperature`` (a known
    $T$, or ``"inferred"``; default: the dataset's ``temperature`` if any) and the prior
    hyperparameters of :data:`PRIORS`.
    """
    check_options(options, _OPTIONS, NAME)
    times, obs, time_units, weight_units = trajectories(ds, "weight")
    inputs, labels = training_data(ds, NAME)
    if inputs.shape[-1] != obs.shape[-1]:
        raise InputError(f"inputs have {inputs.shape[-1]} weights but observations have "
                         f"{obs.shape[-1]}; they must match.")
    temperature = options.pop("temperature", dataset_temperature(ds))
    if temperature == "inferred":
        temperature = None
    rule = options.pop("rule", "hebbian")
    get_rule(rule)
    priors = prior_options(options, PRIORS, NAME)
    method = options.get("method", "auto")
    return dict(times=times, observations=obs, inputs=inputs, labels=labels, rule=rule,
                statistics=_statistics(obs, times, inputs, labels, rule, method),
                method=method,
                temperature=None if temperature is None else float(temperature),
                time_units=time_units, weight_units=weight_units, **priors)


def _statistics(obs, times, inputs, labels, rule, method):
    """Sufficient statistics of the exact OU likelihood (a force independent of the weights,
    $\boldsymbol f = \nu\boldsymbol g$), or ``None`` for the Euler–Maruyama likelihood."""
    r = get_rule(rule)
    if method == "euler_maruyama" or r.depends_on_activation:
        return None
    with jax.enable_x64(True):
        g = np.asarray(learning_force(jnp.zeros(inputs.shape[-1]), jnp.asarray(inputs),
                                      jnp.asarray(labels), r, 1.0))
    return isotropic_statistics(obs, times, g)


def conventions(data) -> dict:
    """Convention attributes of a fit (keyword arguments of ``thermoinfer.data.schema.conventions_attrs``)."""
    rule = get_rule(data.get("rule", "hebbian"))
    method = data.get("method", "auto")
    if method == "auto":
        method = "euler_maruyama" if rule.depends_on_activation else "exact_ou"
    T = data.get("temperature")
    return dict(entropy_convention="not_applicable" if rule.depends_on_activation else "annealed",
                heat_convention="not_applicable", path_weights=method,
                data_protocol="shared", temperature="inferred" if T is None else float(T))


# ---------------------------------------------------------------------------------------------
# derived quantities (per draw, with the library's own functions)


def draws_temperature(samples, data):
    """$T$ per draw: the known temperature broadcast, or the inferred ``diffusion``."""
    k = np.asarray(samples["stiffness"], dtype=float)
    if data.get("temperature") is not None:
        return np.full(k.shape, float(data["temperature"]))
    return np.asarray(samples["diffusion"], dtype=float)


def window_quantities(stiffness, learning_rate, temperature, initial_weights, final_weights, *,
                      inputs, labels, rule, window, temperature_known):
    r"""Per-draw heat and entropy production of observed paths over the learning window.

    With $t$ = ``window`` (the learning force switched on at the first observation, weights then
    in the bare equilibrium $p_0$), for each draw and replica:

    * ``heat`` $q = U_{tot}(\boldsymbol\omega_0) - U_{tot}(\boldsymbol\omega_t)$ (exact for every batch
      rule, docs/theory/thermodynamics-and-bound.md, eq. (31); :func:`thermoinfer.dynamics.total_potential`), energy units, only
      with a known $T$;
    * ``medium_entropy_change`` $q/T$ (nats; $q/D$ when $T$ is inferred);
    * weight-independent forces (Hebbian) only: ``system_entropy_change``
      $\ln p_0(\boldsymbol\omega_0) - \ln p_t(\boldsymbol\omega_t)$ with $p_t = \mathcal N(\boldsymbol m_t, T/k)$,
      ``total_entropy_production`` $\Delta s_{tot}$ (docs/theory/paths-and-entropy-production.md,
      eq. (76)–(77)), and the expected window
      values ``mean_entropy_production`` $\langle\Delta s_{tot}\rangle = |\boldsymbol f|^2(1-e^{-2kt})/(2kT)$
      for the given data (and ``mean_heat`` with a known $T$).

    Batch learning relaxes to equilibrium: there is no steady entropy-production rate to report
    (docs/theory/thermodynamics-and-bound.md, eq. (29)). Parameters are ``(S,)`` arrays of draws; the weights ``(R, N)`` or, for
    latent paths, ``(S, R, N)``; with ``initial_weights=None`` (weights not observed) only the
    expected window values are returned.

    Returns
    -------
    dict
        ``{var: (dims, values (S, ...), units, long_name)}``.
    """
    with jax.enable_x64(True):
        return _window_quantities(stiffness, learning_rate, temperature, initial_weights,
                                  final_weights, inputs=inputs, labels=labels, rule=rule,
                                  window=window, temperature_known=temperature_known)


def _window_quantities(stiffness, learning_rate, temperature, initial_weights, final_weights, *,
                       inputs, labels, rule, window, temperature_known):
    rule = get_rule(rule)
    inputs = jnp.asarray(inputs, dtype=float)
    labels = jnp.asarray(labels, dtype=float)
    n = inputs.shape[-1]
    have_paths = initial_weights is not None
    if not have_paths:
        initial_weights = final_weights = np.zeros((1, n))
    w_axis = 0 if np.ndim(initial_weights) == 3 else None

    def one(k, nu, T, w0, wt):
        params = NeuronParams(k, nu, T)
        out = {}
        if have_paths:
            q = (total_potential(w0, inputs, labels, rule, params)
                 - total_potential(wt, inputs, labels, rule, params))
            out["heat"] = q
            out["medium_entropy_change"] = q / T
        if not rule.depends_on_activation:
            f = learning_force(jnp.zeros(n), inputs, labels, rule, nu)
            if have_paths:
                m_t = -jnp.expm1(-k * window) / k * f
                ds_sys = (bare_potential(wt - m_t, k) - bare_potential(w0, k)) / T
                out["system_entropy_change"] = ds_sys
                out["total_entropy_production"] = ds_sys + q / T
            mean_heat = jnp.sum(f * f) * -jnp.expm1(-2.0 * k * window) / (2.0 * k)
            out["mean_heat"] = mean_heat
            out["mean_entropy_production"] = mean_heat / T
        return out

    vals = jax.vmap(one, in_axes=(0, 0, 0, w_axis, w_axis))(
        jnp.asarray(stiffness, dtype=float), jnp.asarray(learning_rate, dtype=float),
        jnp.asarray(temperature, dtype=float), jnp.asarray(initial_weights, dtype=float),
        jnp.asarray(final_weights, dtype=float))
    vals = {key: np.asarray(v) for key, v in vals.items()}
    T_note = "" if temperature_known else " (T unknown: q/D with the inferred D = mu T)"
    spec = {
        "heat": (("replica",), "k_B T_unit",
                 "heat into the bath over the observed window, U_tot(w_0) - U_tot(w_t)"),
        "medium_entropy_change": (("replica",), "nat",
                                  "medium entropy change q/T over the observed window" + T_note),
        "system_entropy_change": (("replica",), "nat",
                                  "system entropy change ln p_0(w_0) - ln p_t(w_t) (exact OU)"),
        "total_entropy_production": (("replica",), "nat",
                                     "total entropy production over the observed window"),
        "mean_heat": ((), "k_B T_unit",
                      "expected heat over the window for the given data, |f|^2 (1 - e^-2kt)/(2k)"),
        "mean_entropy_production": ((), "nat",
                                    "expected total entropy production over the window for the "
                                    "given data, Delta Q / T"),
    }
    out = {}
    for key, (dims, units, long_name) in spec.items():
        if key not in vals or (not temperature_known and units == "k_B T_unit"):
            continue
        out[key] = (dims, vals[key], units, long_name)
    return out


def information_quantities(stiffness, learning_rate, temperature, *, n_weights, n_patterns, window):
    r"""Per-draw information and efficiency of Hebbian memorisation, convention ``annealed``.

    :func:`thermoinfer.theory.memorization_theory` at the observed load $\alpha = P/N$ and window
    $t$ (thermodynamic-limit formulas of docs/theory/hebbian-memorisation.md,
    eq. (41)–(45) and (53), inputs and labels averaged over,
    $\pm1$ inputs), totals for $N$ weights: training error, $\sum_\mu I_\mu$, $\Delta S_a$, the
    mean $\Delta Q/T$, the bound margin and $\eta$ (NaN where the bound check flags it). Depends on
    the identifiable combinations only ($\nu^2/(kT)$, $kt$).
    """
    with jax.enable_x64(True):
        from thermoinfer.theory import memorization_theory  # only here: a slow import

        th = memorization_theory(n_patterns / n_weights, np.asarray(learning_rate, dtype=float),
                                 k=np.asarray(stiffness, dtype=float),
                                 temperature=np.asarray(temperature, dtype=float), t=float(window),
                                 entropy="annealed")
    N = float(n_weights)
    return {
        "training_error": ((), np.asarray(th.training_error), "1",
                           "training error per pattern P(sigma != sigma_T) (annealed theory)"),
        "mutual_information": ((), N * np.asarray(th.mutual_information_per_weight), "nat",
                               "sum over patterns of I(sigma_T^mu; sigma^mu) (annealed theory)"),
        "entropy_change": ((), N * np.asarray(th.entropy_change_per_weight), "nat",
                           "entropy change of the weights Delta S(w), convention annealed"),
        "medium_entropy_change": ((), N * np.asarray(th.medium_entropy_per_weight), "nat",
                                  "mean heat in entropy units Delta Q / T (annealed theory)"),
        "margin": ((), N * np.asarray(th.margin), "nat",
                   "bound margin Delta S + Delta Q / T - sum I"),
        "efficiency": ((), np.asarray(th.efficiency), "1",
                       "learning efficiency eta = sum I / (Delta S + Delta Q / T), NaN if flagged"),
    }


def derived_quantities(samples, data):
    """Per-draw ``thermodynamics`` (observed window) and, for Hebbian learning, ``information``.

    Parameters
    ----------
    samples : dict
        Posterior draws with a leading sample axis: ``stiffness``, ``learning_rate`` and, when
        the temperature is inferred, ``diffusion``.
    data : dict
        The model keyword arguments of :func:`data_from_dataset`.
    """
    rule = get_rule(data.get("rule", "hebbian"))
    times = np.asarray(data["times"], dtype=float)
    window = float(times[-1] - times[0])
    obs = np.asarray(data["observations"], dtype=float)
    T = draws_temperature(samples, data)
    known = data.get("temperature") is not None
    out = {"thermodynamics": window_quantities(
        samples["stiffness"], samples["learning_rate"], T, obs[:, 0], obs[:, -1],
        inputs=data["inputs"], labels=data["labels"], rule=rule, window=window,
        temperature_known=known)}
    if not rule.depends_on_activation:
        P, N = np.shape(data["inputs"])
        out["information"] = information_quantities(
            samples["stiffness"], samples["learning_rate"], T, n_weights=N, n_patterns=P,
            window=window)
    return out


__all__ = ["NAME", "DESCRIPTION", "PARAMETERS", "PRIORS", "model", "data_from_dataset",
           "derived_quantities", "conventions", "window_quantities", "information_quantities"]

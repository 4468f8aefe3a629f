r"""``neuron-readout``: a learning neuron seen only through noisy linear read-outs of its weights.

Model
-----
The weights $\boldsymbol\omega\in\mathbb R^N$ follow the batch Langevin dynamics of the ``neuron``
model (docs/theory/model.md, eq. (8)–(9)) and are **latent**. What is observed at ``times`` $t_0<\dots<t_K$ are
$M$ read-outs, the activations on fixed probe inputs $\boldsymbol\xi^{(j)}$ (``probes``, dims
``(component, weight)``) with Gaussian measurement noise,

$$y_j(t_i) = \frac{\boldsymbol\xi^{(j)}\cdot\boldsymbol\omega(t_i)}{\sqrt N} + e_{ij},\qquad e_{ij}\sim\mathcal N(0, r^2),$$

i.e. $\boldsymbol y = H\boldsymbol\omega + \boldsymbol e$ with $H = $ ``probes``$/\sqrt N$. The weights
start in the bare equilibrium $p_0=\mathcal N(0, (D/k)\mathbb 1)$ at $t_0$, when learning is switched on;
the likelihood is conditioned on the first read-out $\boldsymbol y_0$ (the ``obs`` site is
``observations[:, 1:]``, one term per transition).

* ``method="kalman"`` (default for Hebbian learning, whose dynamics are linear): the exact
  marginal likelihood $\sum_i\ln p(\boldsymbol y_{i+1}\mid\boldsymbol y_{0..i})$ of the Kalman filter
  (:class:`~thermoinfer.inference.distributions.LinearOUReadouts`). Because the OU noise is
  isotropic, the projection $\boldsymbol z = V^\top\boldsymbol\omega$ on an orthonormal basis $V$ of the
  row space of $H$ is itself an OU process ($A = -k\mathbb 1$, $\boldsymbol b = V^\top\boldsymbol f$,
  $D\mathbb 1$) and $\boldsymbol y = (HV)\boldsymbol z + \boldsymbol e$ exactly: the filter runs in
  $\mathrm{rank}(H)\le\min(M, N)$ dimensions, with the exact kernel of
  :func:`thermoinfer.paths.affine_transition`.
* ``method="latent"`` (any rule; the default for Perceptron, AdaTron, user rules): the weight
  path is sampled — ``initial_weights`` $\sim p(\boldsymbol\omega_0\mid\boldsymbol y_0)$ (Gaussian), ``weights``
  $=\boldsymbol\omega(t_1..t_K)$ from
  :class:`~thermoinfer.inference.distributions.LearningNeuronTransitions` (``transition``:
  exact OU or Euler–Maruyama) — and ``obs`` $\sim\mathcal N(H\boldsymbol\omega_i, r^2)$. The same
  posterior as the Kalman form for Hebbian learning, but $R\times K\times N$ latent variables: slow
  to mix, for small problems.

Priors
------
Those of the ``neuron`` model for ``stiffness``, ``learning_rate`` and ``diffusion``, plus
``readout_noise`` $r\sim\mathrm{HalfNormal}(1)$ (read-out units; ``readout_noise_scale``), a
site only when the dataset does not give ``readout_noise``.

Identifiability: as for ``neuron`` (only $D = \mu T$ without a known $T$); in addition the
read-outs see the weights only in the row space of $H$.
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from thermoinfer.dynamics import learning_force
from thermoinfer.errors import InputError, check_choice
from thermoinfer.inference.distributions import LearningNeuronTransitions, LinearOUReadouts
from thermoinfer.inference.registry import load_model
from thermoinfer.rules import get_rule

_neuron = load_model(Path(__file__).with_name("neuron.py"))

NAME = "neuron-readout"
DESCRIPTION = ("learning neuron seen through noisy linear read-outs of its weights on probe "
               "inputs: Kalman marginal likelihood (Hebbian) or latent weight paths (any rule)")

PARAMETERS = {
    **_neuron.PARAMETERS,
    "readout_noise": ("readout_unit", "r, standard deviation of the read-out noise (a site only "
                                      "when the dataset does not give it)"),
}

PRIORS = {**_neuron.PRIORS, "readout_noise_scale": 1.0}
METHODS = ("auto", "kalman", "latent")
#: model arguments that stay concrete when the sampler compiles the model (the probe matrix is
#: factorised with NumPy when the model is traced)
STATIC_KWARGS = ("probes",)
_OPTIONS = ("rule", "method", "transition", "temperature", "readout_noise", *PRIORS)


def readout_basis(probes):
    r"""``(H, V, C)``: read-out matrix $H$ = probes$/\sqrt N$, an orthonormal basis $V$ ``(N, r)`` of
    its row space and $C = HV$ ``(M, r)``, $r = \mathrm{rank}(H)$ (NumPy, from concrete probes)."""
    probes = np.asarray(probes, dtype=float)
    if probes.ndim != 2:
        raise InputError(f"probes must have dims (component, weight), got shape {probes.shape}.")
    H = probes / np.sqrt(probes.shape[-1])
    U, s, Vt = np.linalg.svd(H, full_matrices=False)
    rank = int(np.sum(s > s.max(initial=0.0) * max(H.shape) * np.finfo(float).eps))
    if rank == 0:
        raise InputError("probes are all zero: the read-outs carry no information on the weights.")
    V = Vt[:rank].T
    return H, V, U[:, :rank] * s[:rank]


def _resolve(method, rule):
    check_choice("method", method, METHODS)
    if method == "auto":
        return "latent" if rule.depends_on_activation else "kalman"
    if method == "kalman" and rule.depends_on_activation:
        raise InputError(f"method='kalman' needs linear dynamics (a weight-independent force, "
                         f"Hebbian); rule {rule.name!r} depends on the activation: use "
                         "method='latent' (or 'auto').")
    return method


def model(times, observations=None, *, inputs, labels, probes, readout_noise=None,
          rule="hebbian", method="auto", transition="auto", temperature=None, initial=None,
          n_replicas=None, stiffness_prior=(0.0, 1.0), learning_rate_scale=2.0,
          diffusion_prior=(3.0, 2.0), readout_noise_scale=1.0, time_units="time_unit",
          readout_units="readout_unit"):
    r"""numpyro program of the partially observed learning neuron.

    Parameters
    ----------
    times : array_like, shape ``(K+1,)``
        Observation times.
    observations : array_like, shape ``(replica, K+1, M)``, optional
        Read-outs; ``None`` to sample them.
    inputs, labels : array_like
        Training data ``(P, N)``, ``(P,)``.
    probes : array_like, shape ``(M, N)``
        Probe inputs; read-out $j$ is ``probes[j] @ w / sqrt(N)`` plus noise.
    readout_noise : float, optional
        Known noise standard deviation $r$; ``None`` infers it (site ``readout_noise``).
    rule, temperature, initial, n_replicas, stiffness_prior, learning_rate_scale, diffusion_prior
        As in the ``neuron`` model (``initial`` are the first read-outs, ``(replica, M)``).
    method : {"auto", "kalman", "latent"}
        Marginal (Kalman) or latent-path likelihood.
    transition : {"auto", "exact_ou", "euler_maruyama"}
        Transition kernel of the latent path (``method="latent"``).
    readout_noise_scale : float
        Scale of the half-normal prior of $r$.
    time_units, readout_units : str
        Units metadata (unused by the program).
    """
    rule_obj = get_rule(rule)
    method = _resolve(method, rule_obj)
    inputs = jnp.asarray(inputs, dtype=float)
    H, V, C = readout_basis(probes)
    n = inputs.shape[-1]
    if H.shape[-1] != n:
        raise InputError(f"probes have {H.shape[-1]} weights but inputs have {n}.")
    k = numpyro.sample("stiffness", dist.LogNormal(*stiffness_prior))
    nu = numpyro.sample("learning_rate", dist.HalfNormal(learning_rate_scale))
    if temperature is None:
        T = numpyro.sample("diffusion", dist.InverseGamma(*diffusion_prior))
    else:
        T = temperature
    if readout_noise is None:
        r = numpyro.sample("readout_noise", dist.HalfNormal(readout_noise_scale))
    else:
        r = readout_noise
    if initial is None and observations is not None:
        initial = jnp.asarray(observations)[..., 0, :]
    obs = None if observations is None else jnp.asarray(observations)[..., 1:, :]
    w0 = None
    if initial is None:  # nothing observed: draw the start from the model
        shape = (n_replicas or 1, n)
        w0 = numpyro.sample("initial_weights",
                            dist.Normal(0.0, jnp.sqrt(T / k)).expand(shape).to_event(2))
        initial = numpyro.sample("initial", dist.Normal(w0 @ H.T, r).to_event(2))
    if method == "kalman":
        rank = V.shape[1]
        force = learning_force(jnp.zeros(n), inputs, labels, rule_obj, nu)
        numpyro.sample("obs", LinearOUReadouts(
            initial, times, -k * jnp.eye(rank), T * jnp.eye(rank), C, r,
            force=jnp.asarray(V.T) @ force, state_cov=(T / k) * jnp.eye(rank)), obs=obs)
        return
    if w0 is None:  # p(w_0 | y_0) for the prior N(0, T/k) and y_0 = H w_0 + e
        precision = (k / T) * jnp.eye(n) + jnp.asarray(H.T @ H) / r**2
        loc = jnp.linalg.solve(precision, (jnp.asarray(initial) @ H / r**2).T).T
        w0 = numpyro.sample("initial_weights",
                            dist.MultivariateNormal(loc, precision_matrix=precision).to_event(1))
    weights = numpyro.sample("weights", LearningNeuronTransitions(
        w0, times, inputs, labels, rule_obj, k, nu, T, method=transition).to_event(1))
    numpyro.sample("obs", dist.Normal(weights @ jnp.asarray(H.T), r).to_event(1), obs=obs)


def data_from_dataset(ds, **options):
    """Model keyword arguments from a validated read-out dataset.

    Needs ``observations`` (replica, time, component), ``inputs``, ``labels`` and ``probes``
    (component, weight); ``readout_noise`` (scalar variable or root attribute) is optional.
    Options: ``rule``, ``method``, ``transition``, ``temperature``, ``readout_noise`` and the
    prior hyperparameters of :data:`PRIORS`.
    """
    _neuron.check_options(options, _OPTIONS, NAME)
    times, obs, time_units, readout_units = _neuron.trajectories(ds, "component")
    inputs, labels = _neuron.training_data(ds, NAME)
    if "probes" not in ds:
        raise InputError("model 'neuron-readout' needs the variable 'probes' (component, weight): "
                         "read-out j is probes[j] . w / sqrt(N).")
    probes = np.asarray(ds["probes"].transpose("component", "weight").values, dtype=float)
    if probes.shape != (obs.shape[-1], inputs.shape[-1]):
        raise InputError(f"probes must have shape (component, weight) = ({obs.shape[-1]}, "
                         f"{inputs.shape[-1]}), got {probes.shape}.")
    noise = options.pop("readout_noise", None)
    if noise is None:
        if "readout_noise" in ds.variables:
            noise = float(np.asarray(ds["readout_noise"].values))
        elif "readout_noise" in ds.attrs:
            noise = float(ds.attrs["readout_noise"])
    if noise is not None and not (np.isfinite(noise) and noise > 0):
        raise InputError(f"readout_noise must be a finite number > 0, got {noise!r}.")
    temperature = options.pop("temperature", _neuron.dataset_temperature(ds))
    if temperature == "inferred":
        temperature = None
    rule = options.pop("rule", "hebbian")
    _resolve(options.get("method", "auto"), get_rule(rule))
    priors = _neuron.prior_options(options, PRIORS, NAME)
    return dict(times=times, observations=obs, inputs=inputs, labels=labels, probes=probes,
                readout_noise=None if noise is None else float(noise), rule=rule,
                method=options.get("method", "auto"), transition=options.get("transition", "auto"),
                temperature=None if temperature is None else float(temperature),
                time_units=time_units, readout_units=readout_units, **priors)


def conventions(data) -> dict:
    """Convention attributes of a fit (see ``neuron.conventions``)."""
    out = _neuron.conventions({**data, "method": data.get("transition", "auto")})
    if _resolve(data.get("method", "auto"), get_rule(data.get("rule", "hebbian"))) == "kalman":
        out["path_weights"] = "exact_ou"
    return out


def derived_quantities(samples, data):
    """Per-draw ``thermodynamics`` and (Hebbian) ``information``.

    With the Kalman likelihood the weights are integrated out, so only the expected window
    values (``mean_entropy_production``, ``mean_heat`` with a known $T$) and the information are
    reported; with latent paths (``samples`` holding ``initial_weights`` and ``weights``) the
    per-replica heat and entropy production of each sampled path are added.
    """
    rule = get_rule(data.get("rule", "hebbian"))
    times = np.asarray(data["times"], dtype=float)
    window = float(times[-1] - times[0])
    T = _neuron.draws_temperature(samples, data)
    known = data.get("temperature") is not None
    if "weights" in samples and "initial_weights" in samples:
        w0 = np.asarray(samples["initial_weights"], dtype=float)
        wt = np.asarray(samples["weights"], dtype=float)[..., -1, :]
    else:
        w0 = wt = None
    out = {"thermodynamics": _neuron.window_quantities(
        samples["stiffness"], samples["learning_rate"], T, w0, wt, inputs=data["inputs"],
        labels=data["labels"], rule=rule, window=window, temperature_known=known)}
    if not rule.depends_on_activation:
        P, N = np.shape(data["inputs"])
        out["information"] = _neuron.information_quantities(
            samples["stiffness"], samples["learning_rate"], T, n_weights=N, n_patterns=P,
            window=window)
    return out

r"""The learning-neuron dynamics and linear OU processes as numpyro distributions.

Each distribution is a **path conditioned on its first point**: the value is the ``K`` points
after the first, shape ``(..., K, d)``, and :meth:`log_prob` returns **one term per
transition**, shape ``(..., K)`` (``batch_shape = initial.shape[:-1] + (K,)``,
``event_shape = (d,)``). As the ``obs`` site of a numpyro model the pointwise log-likelihood
therefore has a ``time`` dimension (ArviZ sees ``(chain, draw, replica, time)``), element ``i``
belonging to the transition $t_i\to t_{i+1}$ and labelled by its end time $t_{i+1}$.

=================================  =======================================  ===================
distribution                       ``log_prob`` (the single path density)   ``sample``
=================================  =======================================  ===================
:class:`LearningNeuronTransitions`  exact OU kernel (Hebbian) or             the project simulator
                                    Euler–Maruyama kernel (any rule)         (:mod:`thermoinfer.dynamics`)
:class:`LinearOUTransitions`        exact affine kernel (Van Loan)           the same exact kernel
:class:`LinearOUReadouts`           Kalman filter: one-step predictive       latent path from the
                                    densities of noisy linear read-outs      exact kernel + noise
=================================  =======================================  ===================

Every density is evaluated by :mod:`thermoinfer.paths` (looked up at call time, so that the
path density has one source of truth); the stochastic-calculus convention is the attribute
``calculus``: ``"exact"`` (exact transition density of the continuous-time process, no
discretisation) or ``"ito_pre_point"`` (Euler–Maruyama kernel on the observation grid,
docs/theory/paths-and-entropy-production.md, eq. (82)).

!!! note "float64"
    numpyro code around these densities runs in the global JAX precision. Sample and evaluate
    them under ``jax.enable_x64(True)`` (the fitting layer wraps MCMC in it); in float32 the
    path log-probabilities of long paths lose their digits.

Importing this module imports numpyro; ``import thermoinfer`` does not.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from jax.scipy.linalg import cho_solve, solve_triangular
from numpyro.distributions import constraints

from .. import dynamics as _dynamics
from .. import paths as _paths
from ..errors import InputError, check_choice
from ..paths.statistics import group_steps
from ..rules import LearningRule, get_rule

__all__ = [
    "CALCULI",
    "LearningNeuronTransitions",
    "LinearOUTransitions",
    "LinearOUReadouts",
    "time_steps",
]

#: stochastic-calculus convention of each path-weight method
CALCULI = {"exact_ou": "exact", "euler_maruyama": "ito_pre_point"}

_LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# shared helpers


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(xs))


def time_steps(times):
    r"""Steps of an observation grid: ``(dt, K)``.

    ``dt`` is a Python float for a uniform grid (one transition kernel for all steps) and the
    ``(K,)`` array of steps otherwise. Concrete grids are validated: one-dimensional, at least
    two finite, strictly increasing times.

    Examples
    --------
    >>> time_steps([0.0, 0.5, 1.0])
    (0.5, 2)
    >>> dt, K = time_steps([0.0, 0.1, 0.3])
    >>> K, [round(float(h), 12) for h in dt]
    (2, [0.1, 0.2])
    """
    if _traced(times):
        t = jnp.asarray(times)
        return t[1:] - t[:-1], int(t.shape[0]) - 1
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"times must be an array of numbers, got {times!r}.") from None
    if t.ndim != 1 or t.shape[0] < 2:
        raise InputError(
            f"times must be a 1-d array of at least two observation times, got shape {t.shape}."
        )
    if not np.all(np.isfinite(t)):
        raise InputError("times contains NaN or inf; pass finite observation times.")
    steps = np.diff(t)
    if not np.all(steps > 0):
        i = int(np.argmin(steps))
        raise InputError(
            f"times must be strictly increasing, got times[{i}] = {t[i]!r} followed by "
            f"{t[i + 1]!r}."
        )
    K = int(steps.shape[0])
    span = float(t[-1] - t[0])
    if np.all(np.abs(steps - span / K) <= 1e-12 * span / K):
        return span / K, K
    return steps, K


def _steps_array(dt, K):
    """``(K,)`` array of steps (a uniform step broadcast)."""
    return jnp.broadcast_to(jnp.asarray(dt, dtype=float), (K,))


def _check_initial(initial, name="initial"):
    x = jnp.asarray(initial, dtype=float)
    if x.ndim < 1:
        raise InputError(
            f"{name} must have shape (..., d) (one point per replica), got a scalar {initial!r}."
        )
    return x


def _prev_points(initial, value):
    """Pre-step points of each transition: the initial point, then ``value[..., :-1, :]``."""
    lead = jnp.broadcast_to(initial[..., None, :], value.shape[:-2] + (1, value.shape[-1]))
    return jnp.concatenate([lead, value[..., :-1, :]], axis=-2)


def _sample_over(fn, key, sample_shape, batch_event_shape):
    """Draw ``prod(sample_shape)`` independent samples of ``fn(key)`` and reshape."""
    shape = tuple(sample_shape)
    n = int(np.prod(shape)) if shape else 1
    keys = jax.random.split(key, n)
    out = jax.vmap(fn)(keys)
    return out.reshape(shape + tuple(batch_event_shape))


# ---------------------------------------------------------------------------------------------
# learning neuron


def _simulator_step(rule: LearningRule, method: str):
    """The simulator's compiled one-record scan (:mod:`thermoinfer.dynamics`), one step long.

    Shares the simulator's compilation cache; the step size and the OU coefficients are traced
    arguments, so one compiled step serves every interval of an irregular grid.
    """
    return _dynamics.compiled_run(rule, method, 1, 1, False)


class LearningNeuronTransitions(dist.Distribution):
    r"""Weight path of the batch learning neuron, conditioned on its first point.

    $$\dot{\boldsymbol\omega} = -k\boldsymbol\omega + \boldsymbol f(\boldsymbol\omega) + \boldsymbol\zeta,\qquad
    \boldsymbol f = \frac{\nu}{\sqrt N}\sum_\mu\sigma_T^\mu F(A^\mu,\sigma_T^\mu)\boldsymbol\xi^\mu,\qquad
    \langle\zeta_n(t)\zeta_m(t')\rangle = 2T\delta_{nm}\delta(t-t')$$

    (docs/theory/model.md, eq. (8)–(9)). The value is the weights at ``times[1:]``, shape ``(..., K, N)``, given
    ``initial`` = the weights at ``times[0]``. :meth:`log_prob` returns the ``K`` transition
    log-densities (nats), shape ``batch_shape = initial.shape[:-1] + (K,)``:

    * ``path_weights="exact_ou"`` (``calculus="exact"``): the exact OU kernel
      :func:`thermoinfer.paths.ou_transition_log_prob`, for weight-independent forces (Hebbian);
      exact on any grid;
    * ``path_weights="euler_maruyama"`` (``calculus="ito_pre_point"``): the Euler–Maruyama kernel
      :func:`thermoinfer.paths.em_transition_log_prob` on the observation grid with
      $\boldsymbol F_{tot}$ of :func:`thermoinfer.dynamics.total_force`, any rule.

    :meth:`sample` runs the project simulator (:mod:`thermoinfer.dynamics`, one exact OU or
    Euler–Maruyama step per observation interval), so its law is the one :meth:`log_prob`
    weighs. Under $D = \mu T$ with $\mu = 1$ (docs/theory/units.md, eq. (4)–(5)) ``temperature`` is the diffusion
    constant; pass the inferred $D$ when $T$ is unknown.

    Parameters
    ----------
    initial : array_like, shape ``(..., N)``
        Weights at ``times[0]`` (one row per replica).
    times : array_like, shape ``(K+1,)``
        Observation times (any increasing grid), time units.
    inputs : array_like, shape ``(P, N)``
        Patterns $\boldsymbol\xi^\mu$ (shared by all replicas), dimensionless.
    labels : array_like, shape ``(P,)``
        True labels $\sigma_T^\mu=\pm1$.
    rule : str or LearningRule
        Learning rule (registry name or object).
    stiffness : float
        $k > 0$, 1/time.
    learning_rate : float
        $\nu$ (weight/time).
    temperature : float
        $T > 0$ (energy units, $k_B = 1$), or the diffusion constant $D = \mu T$.
    method : {"auto", "exact_ou", "euler_maruyama"}
        ``auto``: exact OU for weight-independent forces, Euler–Maruyama otherwise.

    Examples
    --------
    >>> import jax, numpy as np
    >>> x = np.array([[1.0, -1.0], [1.0, 1.0]])
    >>> with jax.enable_x64(True):
    ...     d = LearningNeuronTransitions(np.zeros((3, 2)), [0.0, 0.5, 1.0], x, np.array([1.0, -1.0]),
    ...                                   "hebbian", 1.0, 0.5, 1.0)
    ...     w = d.sample(jax.random.key(0))
    ...     lp = d.log_prob(w)
    >>> d.batch_shape, d.event_shape, w.shape, lp.shape, d.calculus
    ((3, 2), (2,), (3, 2, 2), (3, 2), 'exact')
    """

    arg_constraints = {
        "initial": constraints.real_vector,
        "stiffness": constraints.positive,
        "learning_rate": constraints.real,
        "temperature": constraints.positive,
    }
    support = constraints.real_vector
    pytree_data_fields = ("initial", "inputs", "labels", "stiffness", "learning_rate",
                          "temperature", "dt")
    pytree_aux_fields = ("rule", "path_weights", "calculus", "n_steps")

    def __init__(self, initial, times, inputs, labels, rule, stiffness, learning_rate,
                 temperature, *, method: str = "auto", validate_args=None):
        self.rule = get_rule(rule)
        check_choice("method", method, _dynamics.METHODS)
        if method == "auto":
            method = "euler_maruyama" if self.rule.depends_on_activation else "exact_ou"
        if method == "exact_ou" and self.rule.depends_on_activation:
            raise InputError(
                f"method='exact_ou' needs a force independent of the weights, but rule "
                f"{self.rule.name!r} depends on the activation; use method='euler_maruyama' "
                "(or 'auto')."
            )
        self.path_weights = method
        self.calculus = CALCULI[method]
        self.initial = _check_initial(initial)
        n = self.initial.shape[-1]
        self.inputs = jnp.asarray(inputs, dtype=float)
        self.labels = jnp.asarray(labels, dtype=float)
        if self.inputs.ndim != 2 or self.inputs.shape[-1] != n:
            raise InputError(
                f"inputs must have shape (pattern, weight) = (P, {n}) to match the {n} weights "
                f"of initial, got shape {tuple(self.inputs.shape)}."
            )
        if self.labels.shape != self.inputs.shape[:1]:
            raise InputError(
                f"labels must have shape ({self.inputs.shape[0]},) (one per pattern), got "
                f"{tuple(self.labels.shape)}."
            )
        self.dt, self.n_steps = time_steps(times)
        self.stiffness = stiffness
        self.learning_rate = learning_rate
        self.temperature = temperature
        batch_shape = tuple(self.initial.shape[:-1]) + (self.n_steps,)
        super().__init__(batch_shape=batch_shape, event_shape=(n,), validate_args=validate_args)

    # -- density ----------------------------------------------------------------------------

    def _params(self):
        return _dynamics.NeuronParams(self.stiffness, self.learning_rate, self.temperature)

    def log_prob(self, value):
        """Transition log-densities, shape ``(..., K)``, nats (see the class docstring)."""
        value = jnp.asarray(value)
        prev = _prev_points(self.initial, value)
        if self.path_weights == "exact_ou":
            n = value.shape[-1]
            force = _dynamics.learning_force(jnp.zeros(n), self.inputs, self.labels, self.rule,
                                             self.learning_rate)
            return _paths.ou_transition_log_prob(prev, value, self.dt, self.stiffness, force,
                                                 self.temperature)
        drift = _dynamics.total_force(prev, self.inputs, self.labels, self.rule, self._params())
        return _paths.em_transition_log_prob(prev, value, drift, self.dt, self.temperature)

    # -- sampling -----------------------------------------------------------------------------

    def _coefficients(self, h):
        """Exact OU step coefficients $e^{-kh}$, $(1-e^{-kh})/k$, $\\sqrt{T(1-e^{-2kh})/k}$."""
        k, T = self.stiffness, self.temperature
        a = jnp.exp(-k * h)
        b = -jnp.expm1(-k * h) / k
        s = jnp.sqrt(-T * jnp.expm1(-2.0 * k * h) / k)
        return a, b, s

    def _sample_one(self, key):
        lead = self.initial.shape[:-1]
        n = self.initial.shape[-1]
        w0 = jnp.broadcast_to(self.initial, lead + (n,)).reshape(-1, n)
        keys = jax.random.split(key, w0.shape[0])
        run = _simulator_step(self.rule, self.path_weights)
        steps = _steps_array(self.dt, self.n_steps)

        def step(w, xs):
            i, h = xs
            keys_i = jax.vmap(lambda kk: jax.random.fold_in(kk, i))(keys)
            a, b, s = self._coefficients(h)
            out = run(keys_i, w, self.inputs, self.labels, self.stiffness, self.learning_rate,
                      self.temperature, h, a, b, s, a, s)
            return out["final"], out["final"]

        _, path = jax.lax.scan(step, w0, (jnp.arange(self.n_steps), steps))
        return jnp.swapaxes(path, 0, 1).reshape(lead + (self.n_steps, n))

    def sample(self, key, sample_shape=()):
        """Simulate the weights at ``times[1:]`` from ``initial``, shape ``sample_shape + (..., K, N)``."""
        return _sample_over(self._sample_one, key, sample_shape, self.batch_shape + self.event_shape)


# ---------------------------------------------------------------------------------------------
# generic linear OU


def _check_linear(drift, diffusion, force, d):
    A = jnp.asarray(drift, dtype=float)
    if A.shape != (d, d):
        raise InputError(
            f"drift must be a ({d}, {d}) matrix to match the {d} components of initial, got "
            f"shape {tuple(A.shape)}."
        )
    D = jnp.asarray(diffusion, dtype=float)
    if D.ndim == 0:
        D = D * jnp.eye(d)
    elif D.ndim == 1 and D.shape == (d,):
        D = jnp.diag(D)
    if D.shape != (d, d):
        raise InputError(
            f"diffusion must be a scalar, a ({d},) diagonal or a ({d}, {d}) matrix, got shape "
            f"{tuple(D.shape)}."
        )
    b = jnp.zeros(d) if force is None else jnp.asarray(force, dtype=float)
    if b.shape != (d,):
        raise InputError(f"force must have shape ({d},), got {tuple(b.shape)}.")
    return A, D, b


def _kernel(A, b, D, dt, K):
    """Exact affine kernel ``(Phi, shift, chol Sigma)`` per step, each with a leading ``K`` axis."""
    Phi, shift, Sigma = _paths.affine_transition(A, b, D, dt)
    Phi = jnp.broadcast_to(Phi, (K,) + Phi.shape[-2:])
    shift = jnp.broadcast_to(shift, (K,) + shift.shape[-1:])
    Sigma = jnp.broadcast_to(Sigma, (K,) + Sigma.shape[-2:])
    return Phi, shift, Sigma


def _step_kernels(A, b, D, dt, K):
    """Kernels of a grid: one :class:`~thermoinfer.paths.AffineKernel` for a uniform step
    (``index`` ``None``), else one per distinct step and the ``(K,)`` index of each step's
    kernel (the scan then gathers a small kernel table, never a per-step stack)."""
    if np.ndim(dt) == 0:
        return _paths.AffineKernel.from_drift(A, b, D, dt), None
    if _traced(dt):
        return _paths.AffineKernel.from_drift(A, b, D, dt), jnp.arange(K)
    labels, group_dt, _ = group_steps(np.asarray(dt))
    return _paths.AffineKernel.from_drift(A, b, D, group_dt), jnp.asarray(labels)


def _chol(S):
    return jnp.linalg.cholesky(0.5 * (S + jnp.swapaxes(S, -1, -2)))


class LinearOUTransitions(dist.Distribution):
    r"""Path of a linear (affine) OU process, conditioned on its first point; exact transitions.

    $$d\boldsymbol x = (A\boldsymbol x + \boldsymbol b)\,dt + \sqrt{2D}\,d\boldsymbol W,\qquad
    p(\boldsymbol x_{i+1}\mid\boldsymbol x_i) = \mathcal N\big(\Phi_i\boldsymbol x_i + \boldsymbol c_i,\ \Sigma_{\Delta_i}\big)$$

    with $\Phi$, $\boldsymbol c$, $\Sigma_\Delta$ from :func:`thermoinfer.paths.affine_transition`
    (docs/theory/linear-ou.md, eq. (91)). :meth:`log_prob` is :func:`thermoinfer.paths.linear_transition_log_prob`,
    one term per transition (``calculus="exact"``); :meth:`sample` draws from the same exact
    kernel.

    Parameters
    ----------
    initial : array_like, shape ``(..., d)``
        Points at ``times[0]``.
    times : array_like, shape ``(K+1,)``
        Observation times.
    drift : array_like, shape ``(d, d)``
        $A$, 1/time (any matrix; the exact kernel needs no stability).
    diffusion : array_like
        $D$: scalar, ``(d,)`` diagonal or ``(d, d)`` positive definite, length²/time.
    force : array_like, shape ``(d,)``, optional
        Constant drift offset $\boldsymbol b$ (length/time); zero by default.

    Examples
    --------
    >>> import jax, numpy as np
    >>> with jax.enable_x64(True):
    ...     d = LinearOUTransitions(np.zeros((4, 2)), np.linspace(0, 1, 11),
    ...                             [[-1.0, -0.5], [0.5, -1.0]], 1.0)
    ...     lp = d.log_prob(d.sample(jax.random.key(1)))
    >>> lp.shape, d.calculus
    ((4, 10), 'exact')
    """

    arg_constraints = {
        "initial": constraints.real_vector,
        "drift": constraints.real_matrix,
        "diffusion": constraints.positive_definite,
        "force": constraints.real_vector,
    }
    support = constraints.real_vector
    pytree_data_fields = ("initial", "drift", "diffusion", "force", "dt")
    pytree_aux_fields = ("path_weights", "calculus", "n_steps")

    def __init__(self, initial, times, drift, diffusion, force=None, *, validate_args=None):
        self.initial = _check_initial(initial)
        d = self.initial.shape[-1]
        self.drift, self.diffusion, self.force = _check_linear(drift, diffusion, force, d)
        self.dt, self.n_steps = time_steps(times)
        self.path_weights = "exact_ou"
        self.calculus = "exact"
        batch_shape = tuple(self.initial.shape[:-1]) + (self.n_steps,)
        super().__init__(batch_shape=batch_shape, event_shape=(d,), validate_args=validate_args)

    def log_prob(self, value):
        """Transition log-densities, shape ``(..., K)``, nats."""
        value = jnp.asarray(value)
        prev = _prev_points(self.initial, value)
        return _paths.linear_transition_log_prob(prev, value, self.dt, self.drift, self.force,
                                                 self.diffusion)

    def _sample_one(self, key):
        lead = self.initial.shape[:-1]
        d = self.initial.shape[-1]
        x0 = jnp.broadcast_to(self.initial, lead + (d,))
        z = jax.random.normal(key, (self.n_steps,) + lead + (d,))
        kernel, index = _step_kernels(self.drift, self.force, self.diffusion, self.dt,
                                      self.n_steps)
        if index is None:
            def step(x, zi):
                x = kernel.step(x, zi)
                return x, x

            _, path = jax.lax.scan(step, x0, z)
        else:
            def step(x, xs):
                i, zi = xs
                x = jax.tree.map(lambda a: a[i], kernel).step(x, zi)
                return x, x

            _, path = jax.lax.scan(step, x0, (index, z))
        return jnp.moveaxis(path, 0, -2)

    def sample(self, key, sample_shape=()):
        """Draw the points at ``times[1:]`` from ``initial``, shape ``sample_shape + (..., K, d)``."""
        return _sample_over(self._sample_one, key, sample_shape, self.batch_shape + self.event_shape)


# ---------------------------------------------------------------------------------------------
# noisy linear read-outs of a linear OU state: Kalman filter


def _kalman_update(m, P, y, C, r2):
    r"""Condition $\mathcal N(m, P)$ on $y = Cx + e$, $e\sim\mathcal N(0, r^2\mathbb 1)$; return the
    posterior and $\ln\mathcal N(y; Cm, CPC^\top + r^2\mathbb 1)$. ``m``, ``y`` carry batch axes."""
    M = C.shape[0]
    S = C @ P @ C.T + r2 * jnp.eye(M)
    L = _chol(S)
    CP = C @ P
    gain = cho_solve((L, True), CP).T  # P C^T S^{-1}, (r, M)
    innov = y - m @ C.T
    z = jnp.vectorize(lambda v: solve_triangular(L, v, lower=True), signature="(m)->(m)")(innov)
    logp = (-0.5 * jnp.sum(z * z, axis=-1) - jnp.sum(jnp.log(jnp.diagonal(L)))
            - 0.5 * M * _LOG_2PI)
    m_new = m + innov @ gain.T
    I_GC = jnp.eye(P.shape[0]) - gain @ C
    P_new = I_GC @ P @ I_GC.T + r2 * gain @ gain.T  # Joseph form: symmetric, positive
    return m_new, 0.5 * (P_new + P_new.T), logp


class LinearOUReadouts(dist.Distribution):
    r"""Noisy linear read-outs of a latent linear OU state, conditioned on the first read-out.

    The state $\boldsymbol x\in\mathbb R^r$ follows the affine OU process of
    :class:`LinearOUTransitions`, starts in $\mathcal N(\boldsymbol m_0, P_0)$ at ``times[0]``,
    and is read out as $\boldsymbol y_i = C\boldsymbol x_i + \boldsymbol e_i$,
    $\boldsymbol e_i\sim\mathcal N(0, r^2\mathbb 1_M)$. The value is the read-outs at ``times[1:]``,
    shape ``(..., K, M)``, given ``initial`` $=\boldsymbol y_0$; :meth:`log_prob` returns the
    one-step predictive log-densities of the Kalman filter,

    $$\ell_i = \ln p(\boldsymbol y_{i+1}\mid\boldsymbol y_0,\dots,\boldsymbol y_i),\qquad
    \sum_i\ell_i = \ln p(\boldsymbol y_1,\dots,\boldsymbol y_K\mid\boldsymbol y_0),$$

    the exact marginal likelihood with the latent path integrated out (``calculus="exact"``).
    The prediction step uses the exact kernel $(\Phi, \boldsymbol c, \Sigma_\Delta)$ of
    :func:`thermoinfer.paths.affine_transition`. The covariance recursion does not depend on the
    data and is shared by all replicas; the filter is a scan over the ``K`` steps.

    Parameters
    ----------
    initial : array_like, shape ``(..., M)``
        Read-outs at ``times[0]``.
    times : array_like, shape ``(K+1,)``
        Observation times.
    drift, diffusion, force
        $A$ ``(r, r)``, $D$, $\boldsymbol b$ of the latent state, as in :class:`LinearOUTransitions`.
    readout_matrix : array_like, shape ``(M, r)``
        $C$.
    readout_noise : float
        $r > 0$, standard deviation of the read-out noise (read-out units).
    state_mean : array_like, shape ``(r,)``, optional
        $\boldsymbol m_0$ (zero by default).
    state_cov : array_like, shape ``(r, r)``
        $P_0$, covariance of the state at ``times[0]`` before ``initial`` is seen.
    """

    arg_constraints = {
        "initial": constraints.real_vector,
        "drift": constraints.real_matrix,
        "diffusion": constraints.positive_definite,
        "force": constraints.real_vector,
        "readout_matrix": constraints.real_matrix,
        "readout_noise": constraints.positive,
        "state_mean": constraints.real_vector,
        "state_cov": constraints.positive_definite,
    }
    support = constraints.real_vector
    pytree_data_fields = ("initial", "drift", "diffusion", "force", "readout_matrix",
                          "readout_noise", "state_mean", "state_cov", "dt")
    pytree_aux_fields = ("calculus", "n_steps")

    def __init__(self, initial, times, drift, diffusion, readout_matrix, readout_noise, *,
                 state_cov, force=None, state_mean=None, validate_args=None):
        self.initial = _check_initial(initial)
        M = self.initial.shape[-1]
        C = jnp.asarray(readout_matrix, dtype=float)
        if C.ndim != 2 or C.shape[0] != M:
            raise InputError(
                f"readout_matrix must have shape ({M}, r) to match the {M} read-outs of initial, "
                f"got shape {tuple(C.shape)}."
            )
        r = C.shape[1]
        self.readout_matrix = C
        self.drift, self.diffusion, self.force = _check_linear(drift, diffusion, force, r)
        self.readout_noise = readout_noise
        self.state_mean = jnp.zeros(r) if state_mean is None else jnp.asarray(state_mean, float)
        self.state_cov = jnp.asarray(state_cov, dtype=float)
        if self.state_mean.shape != (r,) or self.state_cov.shape != (r, r):
            raise InputError(
                f"state_mean must have shape ({r},) and state_cov ({r}, {r}), got "
                f"{tuple(self.state_mean.shape)} and {tuple(self.state_cov.shape)}."
            )
        self.dt, self.n_steps = time_steps(times)
        self.calculus = "exact"
        batch_shape = tuple(self.initial.shape[:-1]) + (self.n_steps,)
        super().__init__(batch_shape=batch_shape, event_shape=(M,), validate_args=validate_args)

    def _start(self, lead):
        """State posterior at ``times[0]`` given ``initial``, with means of shape ``lead + (r,)``."""
        C, r2 = self.readout_matrix, jnp.square(self.readout_noise)
        y0 = jnp.broadcast_to(self.initial, lead + self.initial.shape[-1:])
        m0 = jnp.broadcast_to(self.state_mean, lead + self.state_mean.shape)
        m, P, _ = _kalman_update(m0, self.state_cov, y0, C, r2)
        return m, P

    def log_prob(self, value):
        """One-step predictive log-densities, shape ``(..., K)``, nats."""
        value = jnp.asarray(value)
        lead = value.shape[:-2]
        C, r2 = self.readout_matrix, jnp.square(self.readout_noise)
        Phi, shift, Sigma = _kernel(self.drift, self.force, self.diffusion, self.dt, self.n_steps)
        m, P = self._start(lead)

        def step(carry, xs):
            m, P = carry
            Ph, c, S, y = xs
            m = m @ Ph.T + c
            P = Ph @ P @ Ph.T + S
            m, P, lp = _kalman_update(m, P, y, C, r2)
            return (m, P), lp

        ys = jnp.moveaxis(value, -2, 0)
        _, lp = jax.lax.scan(step, (m, P), (Phi, shift, Sigma, ys))
        return jnp.moveaxis(lp, 0, -1)

    def _sample_one(self, key):
        lead = self.initial.shape[:-1]
        C = self.readout_matrix
        r = C.shape[1]
        key0, key_path, key_noise = jax.random.split(key, 3)
        m, P = self._start(lead)
        x0 = m + jax.random.normal(key0, lead + (r,)) @ _chol(P).T
        Phi, shift, Sigma = _kernel(self.drift, self.force, self.diffusion, self.dt, self.n_steps)
        L = _chol(Sigma)
        z = jax.random.normal(key_path, (self.n_steps,) + lead + (r,))

        def step(x, xs):
            Ph, c, Lc, zi = xs
            x = x @ Ph.T + c + zi @ Lc.T
            return x, x

        _, path = jax.lax.scan(step, x0, (Phi, shift, L, z))
        y = jnp.moveaxis(path, 0, -2) @ C.T
        return y + self.readout_noise * jax.random.normal(key_noise, y.shape)

    def sample(self, key, sample_shape=()):
        """Draw the read-outs at ``times[1:]`` given ``initial``, shape ``sample_shape + (..., K, M)``."""
        return _sample_over(self._sample_one, key, sample_shape, self.batch_shape + self.event_shape)

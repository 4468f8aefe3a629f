r"""Batch Langevin dynamics of the learning neuron, in one place (docs/theory/model.md, eq. (8)–(9);
docs/theory/thermodynamics-and-bound.md, eq. (27)–(31); docs/theory/numerics.md).

$$\dot{\boldsymbol\omega} = -k\boldsymbol\omega + \boldsymbol f(\boldsymbol\omega) + \boldsymbol\zeta,\qquad
\boldsymbol f = \frac{\nu}{\sqrt N}\sum_\mu\sigma_T^\mu F(A^\mu,\sigma_T^\mu)\boldsymbol\xi^\mu,\qquad
\langle\zeta_n(t)\zeta_m(t')\rangle = 2T\delta_{nm}\delta(t-t'),$$

started in the bare equilibrium $\boldsymbol\omega_0\sim\mathcal N(0, (T/k)\mathbb 1)$ with the data
switched on at $t = 0$. Units: $k_B = 1$, mobility 1; time in units of the caller's choice (rates
$k$ in its inverse), energies in the units of $T$.

Two integrators:

* ``"exact_ou"`` — exact Ornstein–Uhlenbeck sampling, for rules whose force does not depend on the
  weights (Hebbian): $\boldsymbol\omega' = e^{-k\Delta}\boldsymbol\omega + \frac{1-e^{-k\Delta}}{k}\boldsymbol f + s\boldsymbol z$,
  $s^2 = T(1-e^{-2k\Delta})/k$ (expm1 forms). Any step, $t = \infty$ included.
* ``"euler_maruyama"`` — $\boldsymbol\omega_{i+1} = \boldsymbol\omega_i + \Delta t\,\boldsymbol F_{tot}(\boldsymbol\omega_i) + \sqrt{2T\Delta t}\,\boldsymbol z_i$, any rule.

Along the run the exclusive work $w=\int\boldsymbol f\circ d\boldsymbol\omega$, the energy change
$\Delta V = \int\nabla V\circ d\boldsymbol\omega$ and the heat $q=\int\boldsymbol F_{tot}\circ d\boldsymbol\omega$ are
accumulated as Stratonovich (trapezoidal) sums in the scan carry (memory independent of the
number of steps). Because batch forces are conservative for every rule, the exact heat
$q = U_{tot}(\boldsymbol\omega_0) - U_{tot}(\boldsymbol\omega_t)$ is reported beside the integrated one.
The noise of step $i$ of replica $r$ is drawn from ``fold_in(key_r, i)``, so results do not
depend on recording or chunking.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._x64 import float64
from .errors import InputError, check_choice, check_nonnegative, check_positive
from .rules import LearningRule, get_rule
from .tasks import MemorizationData

__all__ = [
    "NeuronParams",
    "SimulationResult",
    "METHODS",
    "activations",
    "learning_force",
    "total_force",
    "bare_potential",
    "total_potential",
    "simulate",
    "check_params",
    "em_stiffness",
    "compiled_run",
    "check_rule_callable",
    "em_kick_per_step",
    "force_jump",
]

METHODS = ("auto", "exact_ou", "euler_maruyama")


class NeuronParams(NamedTuple):
    """Parameters of the Langevin learning neuron.

    Attributes
    ----------
    stiffness : float
        Restoring constant $k$ (1/time; mobility 1).
    learning_rate : float
        $\\nu$ (force units).
    temperature : float
        Bath temperature $T$ (energy units, $k_B = 1$); the diffusion constant is $D = T$.
    """

    stiffness: float
    learning_rate: float
    temperature: float = 1.0


def check_params(params: NeuronParams) -> NeuronParams:
    """Validate parameters; return them as floats. Raises :class:`InputError` on bad values."""
    k = check_positive("k (stiffness)", params.stiffness, "Use a restoring constant k > 0.")
    nu = check_nonnegative("nu (learning_rate)", params.learning_rate,
                           "Use a learning rate nu >= 0.")
    T = check_positive("T (temperature)", params.temperature, "Use a temperature T > 0 (k_B = 1).")
    return NeuronParams(k, nu, T)


# ---------------------------------------------------------------------------------- forces


def activations(weights, inputs):
    r"""Activations $A^\mu = \boldsymbol\omega\cdot\boldsymbol\xi^\mu/\sqrt N$.

    ``weights`` ``(..., N)``; ``inputs`` ``(P, N)`` (shared) or ``(..., P, N)`` matching the
    batch of ``weights``. Returns ``(..., P)``.
    """
    n = weights.shape[-1]
    if inputs.ndim == 2:
        return weights @ inputs.T / jnp.sqrt(n)
    return jnp.einsum("...pn,...n->...p", inputs, weights) / jnp.sqrt(n)


def learning_force(weights, inputs, labels, rule: LearningRule, learning_rate):
    r"""Batch learning force $\boldsymbol f = \frac{\nu}{\sqrt N}\sum_\mu\sigma_T^\mu F(A^\mu,\sigma_T^\mu)\boldsymbol\xi^\mu$ (force units)."""
    n = weights.shape[-1]
    a = activations(weights, inputs)
    c = labels * rule.force(a, labels)
    if inputs.ndim == 2:
        return learning_rate * (c @ inputs) / jnp.sqrt(n)
    return learning_rate * jnp.einsum("...p,...pn->...n", c, inputs) / jnp.sqrt(n)


def total_force(weights, inputs, labels, rule: LearningRule, params: NeuronParams):
    r"""$\boldsymbol F_{tot} = -k\boldsymbol\omega + \boldsymbol f(\boldsymbol\omega)$ (force units)."""
    return -params.stiffness * weights + learning_force(weights, inputs, labels, rule,
                                                        params.learning_rate)


def bare_potential(weights, stiffness):
    r"""Confining potential $V = \tfrac k2|\boldsymbol\omega|^2$ (energy units)."""
    return 0.5 * stiffness * jnp.sum(weights**2, axis=-1)


def total_potential(weights, inputs, labels, rule: LearningRule, params: NeuronParams):
    r"""Batch potential $U_{tot} = \tfrac k2|\boldsymbol\omega|^2 - \nu\sum_\mu G_\mu(A^\mu)$ (energy units, docs/theory/thermodynamics-and-bound.md, eq. (28))."""
    a = activations(weights, inputs)
    g = rule.potential(a, labels)
    return bare_potential(weights, params.stiffness) - params.learning_rate * jnp.sum(g, axis=-1)


def check_rule_callable(rule: LearningRule) -> None:
    """Call the rule on a small grid; a failure, a wrong shape or a non-finite value is an
    :class:`InputError` naming the rule (so a user rule fails with one clear line)."""
    a = jnp.linspace(-3.0, 3.0, 7)
    for lab in (-1.0, 1.0):
        try:
            val = jnp.asarray(rule.force(a, jnp.full_like(a, lab)))
        except Exception as exc:  # noqa: BLE001 - the user's function failed: one line
            raise InputError(f"learning rule {rule.name!r} failed when called as F(A, sigma_T) on "
                             f"an array of activations: {type(exc).__name__}: {exc}") from None
        if val.shape != a.shape:
            raise InputError(f"learning rule {rule.name!r} returned shape {val.shape} for activations "
                             f"of shape {a.shape}; F(A, sigma_T) must broadcast elementwise.")
        if not bool(jnp.all(jnp.isfinite(val))):
            raise InputError(f"learning rule {rule.name!r} returned non-finite values on A in "
                             "[-3, 3]; F(A, sigma_T) must be finite for every activation.")


def em_kick_per_step(data: MemorizationData, rule: LearningRule, params: NeuronParams,
                     dt: float) -> float:
    r"""Drift of an activation per step from a jump of the force, $\nu\Delta t\,\lambda_{max}\Delta F$.

    A discontinuous force (Perceptron) has no curvature bound, but the step must still resolve
    the jump: this drift must stay below the noise per step $\sqrt{2T\Delta t}$. ($\Delta F$ is
    the largest jump of $F$ on $|A|\le3\sqrt{T/k}$, 0 for a continuous force, whose accuracy
    the curvature bound of :func:`em_stiffness` controls; activation units.)
    """
    jump = force_jump(rule, 3.0 * math.sqrt(params.temperature / params.stiffness))
    if jump == 0.0:
        return 0.0
    return float(params.learning_rate * dt * _lambda_max(data) * jump)


def force_jump(rule: LearningRule, scale: float = 3.0) -> float:
    r"""Largest jump of $F(A, \sigma_T)$ on $|A|\le$ ``scale`` (0 for a continuous force).

    A jump shows as a difference between neighbouring grid values that does not shrink when the
    grid is refined tenfold.
    """
    out = 0.0
    for lab in (-1.0, 1.0):
        coarse = jnp.abs(jnp.diff(rule.force(jnp.linspace(-scale, scale, 6001), lab)))
        fine = jnp.abs(jnp.diff(rule.force(jnp.linspace(-scale, scale, 60001), lab)))
        d1, d2 = float(jnp.max(coarse)), float(jnp.max(fine))
        if d1 > 1e-12 and d2 > 0.5 * d1:
            out = max(out, d2)
    return out


def _lambda_max(data: MemorizationData) -> float:
    x = np.asarray(data.inputs)
    n = x.shape[-1]
    return float(np.max(np.linalg.norm(x, ord=2, axis=(-2, -1)))) ** 2 / n


def em_stiffness(data: MemorizationData, rule: LearningRule, params: NeuronParams) -> float:
    r"""Largest curvature $L$ of $U_{tot}$: $k + \nu\,\sup|\partial_A F|\,\lambda_{max}(\Xi\Xi^\top/N)$.

    An Euler–Maruyama step is stable and accurate for $L\Delta t < 1$. The sup of $|\partial_AF|$
    is taken on a grid of activations (jumps of $F$ count as zero slope; a Perceptron's
    discontinuity limits accuracy, not stability).
    """
    grid = jnp.linspace(-20.0, 20.0, 4001)
    slope = 0.0
    for lab in (-1.0, 1.0):
        d = jax.vmap(jax.grad(lambda a, s=lab: jnp.sum(rule.force(a, s))))(grid)
        slope = max(slope, float(jnp.max(jnp.abs(jnp.where(jnp.isfinite(d), d, 0.0)))))
    if slope == 0.0:
        return float(params.stiffness)
    return float(params.stiffness + params.learning_rate * slope * _lambda_max(data))


# ---------------------------------------------------------------------------------- simulation


class SimulationResult(NamedTuple):
    """Per-replica output of :func:`simulate` (arrays with a leading ``replica`` axis).

    Energies (heat, work, energy change) in the units of $T$; weights dimensionless.
    """

    initial_weights: jax.Array
    final_weights: jax.Array
    heat: jax.Array
    """integrated Stratonovich heat $\\sum_i\\frac12[F_{tot}(\\omega_i)+F_{tot}(\\omega_{i+1})]\\cdot\\Delta\\omega_i$"""
    heat_exact: jax.Array
    """$U_{tot}(\\omega_0)-U_{tot}(\\omega_t)$, exact for every batch rule"""
    work: jax.Array
    """exclusive work, Stratonovich sum of $\\boldsymbol f\\circ d\\boldsymbol\\omega$"""
    energy_change: jax.Array
    """$V(\\omega_t) - V(\\omega_0)$"""
    energy_change_integrated: jax.Array
    first_law_residual: jax.Array
    """$w - \\Delta V - q$ on the sampled path (machine precision)"""
    activations: jax.Array
    """final activations $A^\\mu$, shape (replica, pattern)"""
    times: jax.Array
    """recorded times (time,) ; ``[0, t]`` when paths were not requested"""
    paths: jax.Array | None
    """weights at ``times``, (replica, time, weight), or None"""
    reference_weights: jax.Array
    r"""final weights of the force-free reference process driven by the same noise (exact OU
    steps from the same $\omega_0$); its law stays $p_0$, so $E[V(\omega^{ref}_t)] = NT/2$ exactly
    and $V(\omega^{ref}_t) - V(\omega_0)$ is a zero-mean control variate for heat and energy"""
    reference_energy_change: jax.Array
    r"""$V(\omega^{ref}_t) - V(\omega_0)$, mean exactly 0"""
    n_nonfinite: jax.Array
    dt: float
    n_steps: int
    method: str


def _ou_coefficients(k, T, dt):
    if math.isinf(dt):
        return 0.0, 1.0 / k, math.sqrt(T / k)
    a = math.exp(-k * dt)
    b = -math.expm1(-k * dt) / k
    s = math.sqrt(-T * math.expm1(-2.0 * k * dt) / k)
    return a, b, s


def _make_pieces(rule: LearningRule, method: str, steps_per_record: int, keep_paths: bool):
    """The three pieces of a run: ``start`` (the carry at t = 0), ``blocks`` (a scan over record
    blocks ``block_ids``, each ``steps_per_record`` steps) and ``finish`` (per-replica results).
    :func:`compiled_run` composes them in one program; a run with a progress bar calls
    ``blocks`` on consecutive pieces of the block range (the same steps, the same noise)."""

    def start(w0, inputs, labels, nu):
        f0 = learning_force(w0, inputs, labels, rule, nu)
        zeros = jnp.zeros(w0.shape[:-1])
        return (w0, f0, zeros, zeros, zeros, w0)

    def blocks(carry, block_ids, keys, inputs, labels, k, nu, T, dt, ou_a, ou_b, ou_s, ref_a,
               ref_s):
        def f_of(w):
            return learning_force(w, inputs, labels, rule, nu)

        n = carry[0].shape[-1]
        noise_scale = jnp.sqrt(2.0 * T * dt) if method == "euler_maruyama" else ou_s

        def noise(step):
            return jax.vmap(lambda kk: jax.random.normal(jax.random.fold_in(kk, step), (n,)))(keys)

        def one_step(carry, step):
            w, f, q, wk, dv, wr = carry
            z = noise(step)
            wr = ref_a * wr + ref_s * z
            F = -k * w + f
            if method == "euler_maruyama":
                w1 = w + dt * F + noise_scale * z
                f1 = f_of(w1)
            else:  # exact OU with a constant force
                w1 = ou_a * w + ou_b * f + noise_scale * z
                f1 = f
            F1 = -k * w1 + f1
            dw = w1 - w
            q = q + 0.5 * jnp.sum((F + F1) * dw, axis=-1)
            wk = wk + 0.5 * jnp.sum((f + f1) * dw, axis=-1)
            dv = dv + 0.5 * k * jnp.sum((w + w1) * dw, axis=-1)
            return (w1, f1, q, wk, dv, wr), None

        def record_block(carry, block):
            steps = block * steps_per_record + jnp.arange(steps_per_record)
            carry, _ = jax.lax.scan(one_step, carry, steps)
            return carry, (carry[0] if keep_paths else None)

        return jax.lax.scan(record_block, carry, block_ids)

    def finish(carry, w0, inputs, labels, k, nu, T):
        params = NeuronParams(k, nu, T)
        w_t, _, q, wk, dv, wr = carry
        u0 = total_potential(w0, inputs, labels, rule, params)
        ut = total_potential(w_t, inputs, labels, rule, params)
        dV = bare_potential(w_t, k) - bare_potential(w0, k)
        nonfinite = jnp.sum(~jnp.isfinite(w_t), axis=-1)
        return dict(final=w_t, heat=q, heat_exact=u0 - ut, work=wk, energy_change=dV,
                    energy_change_integrated=dv, residual=wk - dv - q,
                    activations=activations(w_t, inputs), nonfinite=nonfinite,
                    reference=wr, reference_dv=bare_potential(wr, k) - bare_potential(w0, k))

    return start, blocks, finish


def _make_run(rule: LearningRule, method: str, n_records: int, steps_per_record: int,
              keep_paths: bool):
    """Build the jitted scan for a given static configuration."""
    start, blocks, finish = _make_pieces(rule, method, steps_per_record, keep_paths)

    def run(keys, w0, inputs, labels, k, nu, T, dt, ou_a, ou_b, ou_s, ref_a, ref_s):
        carry = start(w0, inputs, labels, nu)
        carry, rec = blocks(carry, jnp.arange(n_records), keys, inputs, labels, k, nu, T, dt,
                            ou_a, ou_b, ou_s, ref_a, ref_s)
        out = finish(carry, w0, inputs, labels, k, nu, T)
        if keep_paths:
            out["paths"] = jnp.concatenate([w0[None], rec], axis=0).swapaxes(0, 1)
        return out

    return jax.jit(run)


#: pieces of a run shown with a progress bar (about this many updates per run)
PROGRESS_UPDATES = 50
_PIECES_CACHE: dict = {}


def _run_with_progress(rule, method, n_records, per, keep, args, advance):
    """The same run as :func:`compiled_run` in consecutive pieces of the block range, calling
    ``advance(steps)`` after each (the steps and their noise are the same)."""
    key = (rule, method, int(per), bool(keep))
    pieces = _PIECES_CACHE.get(key)
    if pieces is None:
        start, blocks, finish = _make_pieces(rule, method, int(per), bool(keep))
        pieces = _PIECES_CACHE[key] = (jax.jit(start), jax.jit(blocks), jax.jit(finish))
    start, blocks, finish = pieces
    keys, w0, inputs, labels, k, nu, T, dt, ou_a, ou_b, ou_s, ref_a, ref_s = args
    carry = start(w0, inputs, labels, nu)
    size = max(1, math.ceil(n_records / PROGRESS_UPDATES))
    recs = []
    for b0 in range(0, n_records, size):
        ids = jnp.arange(b0, min(b0 + size, n_records))
        carry, rec = blocks(carry, ids, keys, inputs, labels, k, nu, T, dt, ou_a, ou_b, ou_s,
                            ref_a, ref_s)
        if keep:
            recs.append(rec)
        jax.block_until_ready(carry)
        advance(int(ids.shape[0]) * int(per))
    out = finish(carry, w0, inputs, labels, k, nu, T)
    if keep:
        rec = jnp.concatenate(recs, axis=0) if recs else jnp.zeros((0, *w0.shape))
        out["paths"] = jnp.concatenate([w0[None], rec], axis=0).swapaxes(0, 1)
    return out


_RUN_CACHE: dict = {}


def compiled_run(rule: LearningRule, method: str, n_records: int = 1, steps_per_record: int = 1,
                 keep_paths: bool = False):
    """The simulator's jitted scan for a static configuration (cached; traceable).

    ``run(keys, w0, inputs, labels, k, nu, T, dt, ou_a, ou_b, ou_s, ref_a, ref_s) -> dict`` with
    ``final``, ``heat``, ``heat_exact``, ``work``, ... for ``n_records * steps_per_record``
    steps of size ``dt`` from ``w0`` (``(replica, N)``); the OU coefficients are those of
    :func:`simulate` (``exact_ou``) and of the reference path. All numeric arguments are traced,
    so one compiled run serves every step size (irregular grids) and can be called inside
    ``jit``/``vmap`` (the numpyro process distributions do).
    """
    key = (rule, method, int(n_records), int(steps_per_record), bool(keep_paths))
    run = _RUN_CACHE.get(key)
    if run is None:
        run = _RUN_CACHE[key] = _make_run(rule, method, int(n_records), int(steps_per_record),
                                          bool(keep_paths))
    return run


@float64
def simulate(key, data: MemorizationData, rule: str | LearningRule, params: NeuronParams, *,
             t: float, dt: float | None = None, method: str = "auto",
             record_every: int | None = None, n_replicas: int | None = None,
             throw: bool = True, progress: bool = False) -> SimulationResult:
    r"""Simulate batch Langevin learning from the equilibrium initial state.

    Parameters
    ----------
    key : jax.random key
        Explicit PRNG key; same key, same numbers (independent of ``record_every``).
    data : MemorizationData
        Inputs ``(replica, pattern, weight)`` or shared ``(pattern, weight)`` and labels.
    rule : str or LearningRule
        Registered rule name or rule object.
    params : NeuronParams
        $k$ (1/time), $\nu$, $T$ (energy, $k_B = 1$).
    t : float
        Final time (units of $1/k$ when $k = 1$); ``inf`` allowed with ``exact_ou``.
    dt : float, optional
        Time step. Required for Euler–Maruyama (adjusted down so that $t/\Delta t$ is an integer
        multiple of ``record_every``); for ``exact_ou`` the default is one exact step to $t$.
    method : {"auto", "exact_ou", "euler_maruyama"}
        ``auto`` picks exact OU sampling when the rule's force does not depend on the weights
        (Hebbian), Euler–Maruyama otherwise.
    record_every : int, optional
        Store the weights every this many steps (paths are not stored by default).
    n_replicas : int, optional
        Number of replicas when ``data`` is shared (ignored otherwise; default 1).
    throw : bool
        Raise if a replica's weights became non-finite (otherwise see ``n_nonfinite``).
    progress : bool
        Show a progress bar with an ETA on stderr (the run goes in pieces; same numbers).

    Returns
    -------
    SimulationResult
        Per-replica heat (integrated and exact), work, energy change, first-law residual, final
        weights and activations; paths if requested.

    Examples
    --------
    >>> import jax
    >>> from thermoinfer.tasks import memorization_data
    >>> d = memorization_data(jax.random.key(0), 20, 0.5, n_replicas=4)
    >>> r = simulate(jax.random.key(1), d, "perceptron", NeuronParams(1.0, 1.0, 1.0), t=1.0, dt=0.01)
    >>> r.heat.shape, bool(abs(r.first_law_residual).max() < 1e-10)
    ((4,), True)
    """
    rule = get_rule(rule)
    params = check_params(params)
    check_choice("method", method, METHODS)
    check_rule_callable(rule)
    t = float(t)
    if math.isnan(t) or t < 0:
        raise InputError(f"t (final time) must be >= 0 or inf, got {t!r}.")
    inputs = jnp.asarray(data.inputs, dtype=jnp.float64)
    labels = jnp.asarray(data.labels, dtype=jnp.float64)
    if inputs.ndim not in (2, 3) or labels.shape != inputs.shape[:-1]:
        raise InputError(
            f"data must have inputs (replica, pattern, weight) or (pattern, weight) and matching "
            f"labels; got shapes {inputs.shape} and {labels.shape}."
        )
    if not (bool(jnp.all(jnp.isfinite(inputs))) and bool(jnp.all(jnp.isfinite(labels)))):
        raise InputError("data contain non-finite values (NaN or inf); draw them again.")
    shared = inputs.ndim == 2
    R = (n_replicas or 1) if shared else inputs.shape[0]
    N = inputs.shape[-1]
    if method == "auto":
        method = "euler_maruyama" if rule.depends_on_activation else "exact_ou"
    if method == "exact_ou" and rule.depends_on_activation:
        raise InputError(
            f"method='exact_ou' needs a force independent of the weights, but rule {rule.name!r} "
            "depends on the activation; use method='euler_maruyama'."
        )
    if record_every is not None and (int(record_every) != record_every or record_every < 1):
        raise InputError(f"record_every must be an integer >= 1, got {record_every!r}.")
    if method == "euler_maruyama":
        if math.isinf(t):
            raise InputError(
                f"t=inf needs exact sampling, available only for weight-independent forces "
                f"(Hebbian); rule {rule.name!r} uses Euler-Maruyama: give a finite t, e.g. "
                f"t={10.0 / params.stiffness:g} (= 10/k, relaxation to e^-10)."
            )
        if dt is None:
            raise InputError("dt is required for Euler-Maruyama; e.g. dt=0.01/k.")
        dt = check_positive("dt", dt, "Use a time step dt > 0.")
        L = em_stiffness(data, rule, params)
        if dt * L >= 1.0:
            raise InputError(
                f"dt={dt:g} is too large for a stable Euler-Maruyama step: the stiffest curvature "
                f"of U_tot is L={L:.4g} (k={params.stiffness:g}, rule {rule.name!r}, "
                f"nu={params.learning_rate:g}); use dt < {1.0 / L:.3g}, e.g. dt={0.1 / L:.2g}."
            )
        kick = em_kick_per_step(data, rule, params, dt) if rule.depends_on_activation else 0.0
        noise = math.sqrt(2.0 * params.temperature * dt)
        if kick > noise:
            raise InputError(
                f"dt={dt:g} is too large for rule {rule.name!r} at nu={params.learning_rate:g}: the "
                f"learning force moves an activation by {kick:.3g} per step, more than the thermal "
                f"noise per step {noise:.3g}, so the kinks of F are not resolved; use "
                f"dt < {dt * (noise / kick) ** 2:.3g} (the drift scales like dt, the noise like sqrt(dt))."
            )
    per = int(record_every or 1)
    if t == 0:
        n_steps, step = 0, 0.0
    elif method == "exact_ou" and dt is None:
        if record_every is not None:
            raise InputError("record_every needs a time step dt (paths on a grid of step dt).")
        n_steps, step = 1, t
    else:
        if dt is None:
            dt = t
        dt = check_positive("dt", dt, "Use a time step dt > 0.")
        if math.isinf(t):
            raise InputError("t=inf cannot be recorded on a grid; give a finite t with dt.")
        n_steps = max(1, math.ceil(round(t / dt, 9)))
        n_steps = per * math.ceil(n_steps / per)
        step = t / n_steps
    n_records = n_steps // per if n_steps else 0
    key_init, key_noise = jax.random.split(key)
    w0 = jnp.sqrt(params.temperature / params.stiffness) * jax.vmap(
        lambda kk: jax.random.normal(kk, (N,)))(jax.random.split(key_init, R))
    keys = jax.random.split(key_noise, R)
    a, b, s = _ou_coefficients(params.stiffness, params.temperature, step) if step else (1.0, 0.0, 0.0)
    ref_a, ref_s = a, s
    keep = record_every is not None
    args = (keys, w0, inputs, labels, params.stiffness, params.learning_rate,
            params.temperature, step, a, b, s, ref_a, ref_s)
    if progress and n_records > 1:
        from .progress import progress_bar

        with progress_bar(n_records * per, f"simulating ({rule.name}, {method})",
                          enabled=True) as advance:
            out = _run_with_progress(rule, method, n_records, per, keep, args, advance)
    else:
        out = compiled_run(rule, method, n_records, per, keep)(*args)
    n_bad = out["nonfinite"]
    if throw and bool(jnp.any(n_bad > 0)):
        raise FloatingPointError(
            f"{int(jnp.sum(n_bad > 0))} replica(s) produced non-finite weights; reduce dt "
            f"(dt={step:g}) or nu."
        )
    times = (jnp.arange(n_records + 1) * per * step) if keep else jnp.asarray([0.0, t])
    return SimulationResult(
        initial_weights=w0, final_weights=out["final"], heat=out["heat"],
        heat_exact=out["heat_exact"], work=out["work"], energy_change=out["energy_change"],
        energy_change_integrated=out["energy_change_integrated"],
        first_law_residual=out["residual"], activations=out["activations"], times=times,
        paths=out.get("paths"), reference_weights=out["reference"],
        reference_energy_change=out["reference_dv"], n_nonfinite=n_bad, dt=float(step), n_steps=int(n_steps),
        method=method,
    )

r"""Entropy change of the weights, $\Delta S(\boldsymbol\omega)$, at finite $N$ (docs/theory/hebbian-memorisation.md,
eq. (45)–(52) and "Perceptron and AdaTron in batch mode").

All results are **total** entropy changes (not per weight), in nats.

**Hebbian learning for given data.** For labels $\sigma$ the weights are Gaussian,
$p(\boldsymbol\omega\mid\sigma,\Xi) = \mathcal N(\boldsymbol m_\sigma, (T/k)\mathbb 1)$ with
$\boldsymbol m_\sigma = c\,\Xi^\top\sigma/\sqrt N$, where $\Xi$ is the $P\times N$ input matrix
and $c = c_t = (\nu/k)(1 - e^{-kt})$ the Hebbian signal amplitude (weight units; the argument
``signal``). In entropy units everything depends on $x = kc^2/T$ (the $x_t$ of
docs/theory/hebbian-memorisation.md, eq. (41), with $\nu^2\to\nu^2/T$). With $G = \Xi\Xi^\top/N$ the three conventions are

* ``annealed``: $\Delta S_a = \frac N2\ln(1 + Px/N)$ — inputs averaged over, Gaussian with the
  same covariance (a maximum-entropy upper bound);
* ``quenched_gaussian``: $\Delta S_b = \frac12\sum_i\ln(1 + x\lambda_i(G))$ — the Gaussian with
  the covariance for the given inputs;
* ``exact_mixture``: $\Delta S_c = I(\boldsymbol\omega:\sigma_T\mid\Xi)$, the entropy change of the
  mixture of $2^P$ Gaussians, by Monte Carlo with exact enumeration of the labels.

They obey $\Delta S_c\le\Delta S_b\le\Delta S_a$, agree to leading order $Px/2$ for $x\ll1$,
and differ at large $x$ (where $\Delta S_c\to P\ln2$).

**Any rule, from replicas.** For Perceptron/AdaTron (no closed form) the entropy of the Gaussian
with the sample covariance of the final weights across replicas is a maximum-entropy upper bound
on $\Delta S(\boldsymbol\omega)$: :func:`isotropic_gaussian_entropy_change` (data drawn per
replica) and :func:`gaussian_logdet_entropy_change` (replicas sharing one data set, with a
bias-corrected log-determinant). Both name their method on the result.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special as sps

from .._x64 import float64
from ..errors import InputError
from .channels import gaussian_tail

__all__ = [
    "MAX_EXACT_PATTERNS",
    "ENTROPY_ESTIMATORS",
    "EntropyEstimate",
    "MonteCarloEstimate",
    "annealed_entropy_change",
    "quenched_gaussian_entropy_change",
    "exact_mixture_entropy_change",
    "hebbian_pattern_errors",
    "isotropic_gaussian_entropy_change",
    "gaussian_logdet_entropy_change",
]

#: Largest number of patterns for which the $2^P$ labels are enumerated exactly.
MAX_EXACT_PATTERNS = 20

#: Method names of the replica estimators, as stored on :class:`EntropyEstimate`.
ENTROPY_ESTIMATORS: tuple[str, ...] = ("isotropic_gaussian", "gaussian_logdet")

# cap on the number of floats in one (samples x 2^P) block of the enumeration (16 MiB)
_BLOCK_FLOATS = 1 << 21
# below this many samples the fitted control-variate coefficients make the standard error
# optimistic (measured: sd(estimate)/se = 1.15 at n = 256, 1.00-1.06 at n >= 1024), so the plain
# sample mean is used
_MIN_SAMPLES_CONTROL_VARIATES = 1024


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo estimate and its standard error; unpacks as ``(estimate, standard_error)``."""

    estimate: object
    """The estimate (nats)."""
    standard_error: object
    """Its standard error (nats)."""


class EntropyEstimate(NamedTuple):
    """An entropy change estimated from replicas, with the name of the estimator."""

    estimate: object
    """$\\Delta S(\\boldsymbol\\omega)$, total, nats."""
    standard_error: object
    """Standard error of ``estimate`` over the replicas (nats)."""
    method: str
    """The estimator, one of :data:`ENTROPY_ESTIMATORS`."""


# ---------------------------------------------------------------------------------------------
# input checks (skipped for tracers, so that the functions stay jit/vmap-able)


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_values(name, value, *, positive=False, nonnegative=False, fix=""):
    """Raise :class:`InputError` unless ``value`` (number or array) is finite (and > 0 / >= 0)."""
    if _is_traced(value):
        return
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number or an array of numbers, got {value!r}. {fix}".strip()) from None
    bad = ~np.isfinite(arr)
    what = "finite"
    if positive:
        bad |= ~(arr > 0)
        what = "finite and > 0"
    elif nonnegative:
        bad |= ~(arr >= 0)
        what = "finite and >= 0"
    if np.any(bad):
        shown = arr if arr.ndim == 0 else arr[bad].ravel()[:3]
        raise InputError(f"{name} must be {what}, got {shown!r}. {fix}".strip())


def _check_inputs(inputs, *, batched: bool):
    shape = jnp.shape(inputs)
    if len(shape) < 2 or (not batched and len(shape) != 2):
        want = "(..., n_patterns, n_weights)" if batched else "(n_patterns, n_weights)"
        raise InputError(
            f"inputs must have shape {want}, got shape {shape}. Pass the P x N input matrix "
            "with one pattern per row."
        )
    if shape[-1] < 1 or shape[-2] < 1:
        raise InputError(f"inputs must have at least one pattern and one weight, got shape {shape}.")
    _check_values("inputs", inputs, fix="Remove NaN/inf entries from the input matrix.")


def _check_weights(weights, *, min_replicas: int, fix: str):
    shape = jnp.shape(weights)
    if len(shape) < 2:
        raise InputError(
            f"weights must have shape (..., n_replicas, n_weights), got shape {shape}. Stack the "
            "final weights of the replicas along the second-to-last axis."
        )
    n_rep, n_w = shape[-2], shape[-1]
    if n_w < 1:
        raise InputError(f"weights must have at least one weight (last axis), got shape {shape}.")
    if n_rep < min_replicas:
        raise InputError(
            f"n_replicas must be >= {min_replicas} for this estimator, got n_replicas = {n_rep} "
            f"(weights shape {shape}). {fix}".strip()
        )
    _check_values("weights", weights, fix="Drop replicas whose weights are not finite.")


def _entropy_units(signal, stiffness, temperature):
    """$x = k c^2/T$ and $s = \\sqrt x$ after the checks."""
    _check_values("signal", signal, fix="signal is the Hebbian amplitude c_t = (nu/k)(1 - exp(-k t)).")
    _check_values("stiffness", stiffness, positive=True, fix="stiffness is k > 0 (1/time).")
    _check_values("temperature", temperature, positive=True, fix="temperature is T > 0 (k_B = 1).")
    signal = jnp.asarray(signal, dtype=float)
    ratio = jnp.asarray(stiffness, dtype=float) / jnp.asarray(temperature, dtype=float)
    return ratio * signal**2, jnp.abs(signal) * jnp.sqrt(ratio)


# ---------------------------------------------------------------------------------------------
# closed forms


@float64
def annealed_entropy_change(n_weights, n_patterns, signal, *, stiffness=1.0, temperature=1.0):
    r"""Entropy change of the weights, convention ``annealed``: $\frac N2\ln(1 + Px/N)$, nats.

    With the inputs averaged over (unit-variance entries), each weight has variance
    $T/k + c^2P/N$; the entropy change of the Gaussian with that covariance relative to the
    initial $(T/k)\mathbb 1$ is

    $$\Delta S_a = \frac N2\,\mathrm{log1p}\Big(\frac{P x}{N}\Big),\qquad x = \frac{k c^2}{T}.$$

    A maximum-entropy upper bound on the true annealed entropy change (docs/theory/hebbian-memorisation.md, eq. (45)–(46)).
    Broadcasts over all arguments; ``jit``/``vmap``/``grad``-able.

    Parameters
    ----------
    n_weights : array_like
        $N > 0$.
    n_patterns : array_like
        $P\ge0$.
    signal : array_like
        Hebbian signal amplitude $c = (\nu/k)(1 - e^{-kt})$ (weight units).
    stiffness : array_like
        $k > 0$ (1/time).
    temperature : array_like
        $T > 0$ (energy, $k_B = 1$).

    Returns
    -------
    Array
        $\Delta S_a$, total (not per weight), nats.

    Examples
    --------
    >>> round(float(annealed_entropy_change(100, 50, 1.0)) / 100, 6)   # checkpoint 1, docs/theory/checkpoints.md
    0.202733
    """
    _check_values("n_weights", n_weights, positive=True, fix="n_weights is N, the number of weights.")
    _check_values("n_patterns", n_patterns, nonnegative=True, fix="n_patterns is P >= 0.")
    x, _ = _entropy_units(signal, stiffness, temperature)
    n = jnp.asarray(n_weights, dtype=float)
    return 0.5 * n * jnp.log1p(jnp.asarray(n_patterns, dtype=float) * x / n)


def _gram_eigenvalues(inputs):
    """Eigenvalues of the smaller of $\\Xi\\Xi^\\top/N$ and $\\Xi^\\top\\Xi/N$ (clipped at 0)."""
    p, n = inputs.shape[-2], inputs.shape[-1]
    xt = jnp.swapaxes(inputs, -1, -2)
    gram = inputs @ xt if p <= n else xt @ inputs
    lam = jnp.linalg.eigvalsh(gram / n)
    return jnp.clip(lam, 0.0, None)


@float64
def quenched_gaussian_entropy_change(inputs, signal, *, stiffness=1.0, temperature=1.0):
    r"""Entropy change of the weights, convention ``quenched_gaussian``, for given inputs, nats.

    The Gaussian with the covariance of the label mixture for the given inputs,
    $(T/k)\mathbb 1 + c^2\,\Xi^\top\Xi/N$, has

    $$\Delta S_b = \frac12\sum_{i=1}^{\min(N,P)}\mathrm{log1p}(x\lambda_i),\qquad x=\frac{kc^2}{T},$$

    with $\lambda_i$ the eigenvalues of the Gram matrix $G = \Xi\Xi^\top/N$ (the smaller of the
    $P\times P$ and $N\times N$ matrices is diagonalised). Exact for any $N$, $P$ and inputs;
    $\Delta S_c\le\Delta S_b\le\Delta S_a$ (docs/theory/hebbian-memorisation.md, eq. (47), (49)).

    Parameters
    ----------
    inputs : array_like, shape ``(..., P, N)``
        Input matrix (rows $\boldsymbol\xi^\mu$); leading axes are a batch of input sets.
    signal : array_like
        $c$ (weight units); broadcasts against the batch shape.
    stiffness, temperature : array_like
        $k > 0$ (1/time), $T > 0$ (energy).

    Returns
    -------
    Array, shape ``broadcast(batch, signal)``
        $\Delta S_b$, total, nats.

    Examples
    --------
    >>> xi = np.eye(4) * 2.0          # 4 orthogonal patterns with |xi|^2 = N = 4
    >>> bool(np.isclose(quenched_gaussian_entropy_change(xi, 1.0), 2 * np.log(2.0), rtol=1e-13))
    True
    """
    _check_inputs(inputs, batched=True)
    x, _ = _entropy_units(signal, stiffness, temperature)
    lam = _gram_eigenvalues(jnp.asarray(inputs, dtype=float))
    return 0.5 * jnp.sum(jnp.log1p(x[..., None] * lam), axis=-1)


# ---------------------------------------------------------------------------------------------
# exact mixture: enumeration of the 2^P labels by doubling (bit j of the index set <=> sigma_j = -1)


def _all_linear_forms(v):
    """$\\sigma\\cdot v$ for all $2^P$ sign vectors, last axis of length $2^P$; O(2^P) work."""
    out = jnp.zeros(v.shape[:-1] + (1,), dtype=v.dtype)
    for j in range(v.shape[-1]):
        vj = v[..., j : j + 1]
        out = jnp.concatenate([out + vj, out - vj], axis=-1)
    return out


def _all_quadratic_forms(gram):
    """$\\sigma^\\top G\\sigma$ for all $2^P$ sign vectors, in the order of :func:`_all_linear_forms`."""
    q = jnp.zeros((1,), dtype=gram.dtype)
    for j in range(gram.shape[-1]):
        cross = _all_linear_forms(gram[:j, j])
        q = jnp.concatenate([q + 2.0 * cross + gram[j, j], q - 2.0 * cross + gram[j, j]])
    return q


def _posterior_divergence(u, s, quad):
    r"""$\mathrm{KL}(p(\sigma\mid u)\,\Vert\,\mathrm{uniform}) = P\ln2 - H(\sigma\mid u)$ by enumeration.

    The posterior logits are $\ell(\sigma') = s\,\sigma'\cdot u - \tfrac{s^2}2\sigma'^\top G\sigma'$.
    Shift-invariant form $\sum_{\sigma'} q\,d - \ln\langle e^{d}\rangle_{\sigma'}$ with
    $d = \ell - \max\ell$, so that no $P\ln 2$ is subtracted (no cancellation as $s\to0$).
    """
    logits = s * _all_linear_forms(u) - 0.5 * s * s * quad
    d = logits - jnp.max(logits, axis=-1, keepdims=True)
    em1 = jnp.expm1(d)  # one transcendental pass; e^d = 1 + em1 (absolute error 1e-16, d <= 0)
    mean_em1 = jnp.mean(em1, axis=-1)
    mean_d = jnp.mean((1.0 + em1) * d, axis=-1) / (1.0 + mean_em1)
    return mean_d - jnp.log1p(mean_em1)


@functools.partial(jax.jit, static_argnames=("n_samples", "control_variates"))
def _exact_mixture(key, inputs, s, *, n_samples, control_variates=True):
    p, n = inputs.shape
    gram = inputs @ inputs.T / n
    lam, vec = jnp.linalg.eigh(gram)
    root = vec * jnp.sqrt(jnp.clip(lam, 0.0, None))  # root @ root.T = G
    quad = _all_quadratic_forms(gram)
    key_label, key_noise = jax.random.split(key)
    sigma = jax.random.rademacher(key_label, (n_samples, p), dtype=gram.dtype)
    noise = jax.random.normal(key_noise, (n_samples, p), dtype=gram.dtype) @ root.T
    # u = sqrt(k/T) * Xi omega / sqrt(N) for omega ~ N(m_sigma, T/k): u ~ N(s G sigma, G)
    u = s * sigma @ gram + noise
    block = max(1, _BLOCK_FLOATS >> p)
    # Rao-Blackwellised integrand E[ln p(sigma|u) + P ln 2 | u] = P ln 2 - H(sigma|u)
    g = jax.lax.map(lambda ui: _posterior_divergence(ui, s, quad), u, batch_size=min(block, n_samples))
    if not control_variates:
        return jnp.mean(g), jnp.std(g, ddof=1) / jnp.sqrt(n_samples)
    # control variates with known mean 0: |u|^2 - (s^2 tr G^2 + tr G) (the small-signal shape of
    # g, ~ s^2 |u|^2 / 2) and s sigma . (u - s G sigma); coefficients by least squares
    cv = jnp.stack([
        jnp.sum(u * u, axis=-1) - (s * s * jnp.sum(gram * gram) + jnp.trace(gram)),
        s * jnp.sum(sigma * noise, axis=-1),
    ], axis=-1)
    design = jnp.concatenate([jnp.ones((n_samples, 1), dtype=g.dtype), cv], axis=-1)
    scale = jnp.sqrt(jnp.mean(design * design, axis=0)) + 1e-300
    coef, *_ = jnp.linalg.lstsq(design / scale, g)
    resid = g - (design / scale) @ coef
    dof = n_samples - design.shape[1]
    se = jnp.sqrt(jnp.sum(resid * resid) / dof / n_samples)
    # intercept = estimate of E[g], since the control variates have mean exactly 0
    return coef[0] / scale[0], se


@float64
def exact_mixture_entropy_change(key, inputs, signal, *, stiffness=1.0, temperature=1.0,
                                 n_samples=4096) -> MonteCarloEstimate:
    r"""Entropy change of the weights, convention ``exact_mixture``, by Monte Carlo, nats.

    For Hebbian learning $\Delta S(\boldsymbol\omega\mid\sigma_T,\Xi) = 0$, so the entropy change of
    the mixture of $2^P$ Gaussians $\mathcal N(c\,\Xi^\top\sigma/\sqrt N, (T/k)\mathbb 1)$ is

    $$\Delta S_c = I(\boldsymbol\omega:\sigma_T\mid\Xi) = P\ln2 - \mathbb E_{\boldsymbol u}\,H(\sigma\mid\boldsymbol u)\ \le P\ln 2,$$

    where $\boldsymbol u = \sqrt{k/T}\,\Xi\boldsymbol\omega/\sqrt N$ is a sufficient statistic:
    $\boldsymbol u\mid\sigma\sim\mathcal N(sG\sigma, G)$ with $G = \Xi\Xi^\top/N$ and
    $s = c\sqrt{k/T}$. The outer expectation is sampled ($\sigma$ uniform, then $\boldsymbol u$),
    the posterior entropy $H(\sigma\mid\boldsymbol u)$ is evaluated exactly by enumerating all
    $2^P$ labels with log-sum-exp, in the $P$-dimensional projected space: $O(2^P)$ per sample
    after an $O(2^P)$ precomputation of $\sigma^\top G\sigma$. This is the conditional
    expectation (Rao–Blackwellisation) of the reference estimator of docs/theory/hebbian-memorisation.md, eq. (48), with
    two control variates of known mean zero, $|\boldsymbol u|^2 - (s^2\operatorname{tr}G^2 +
    \operatorname{tr}G)$ and $s\,\sigma\cdot(\boldsymbol u - sG\sigma)$, fitted by least
    squares when ``n_samples >= 1024`` (they cut the standard error by up to 60× at small
    $s$, about 2× at $s\approx1$). The standard error is that of the regression intercept (residual variance,
    $n - 3$ degrees of freedom); below 1024 samples the plain mean and its standard error are
    returned, because fitted coefficients make the error optimistic for small samples.

    Parameters
    ----------
    key : PRNGKeyArray
        Random key.
    inputs : array_like, shape ``(P, N)``
        Input matrix, $P\le$ :data:`MAX_EXACT_PATTERNS` (= 20).
    signal : float
        Hebbian signal amplitude $c = (\nu/k)(1 - e^{-kt})$ (weight units).
    stiffness, temperature : float
        $k > 0$ (1/time), $T > 0$ (energy).
    n_samples : int
        Number of Monte Carlo samples ($\ge 8$).

    Returns
    -------
    MonteCarloEstimate
        ``(estimate, standard_error)``: $\Delta S_c$, total, nats.

    Raises
    ------
    InputError
        If $P > 20$ (enumeration of $2^P$ labels), or on bad arguments.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from scipy.linalg import hadamard
    >>> xi = hadamard(8)[:4]                    # 4 orthogonal patterns, N = 8
    >>> est, se = exact_mixture_entropy_change(jax.random.key(0), xi, 1.0, n_samples=2048)
    >>> exact = 4 * 0.3368308203                 # 4 C_BIAWGN(1)
    >>> bool(abs(float(est) - exact) < 4 * float(se))
    True
    """
    _check_inputs(inputs, batched=False)
    p = jnp.shape(inputs)[0]
    if p > MAX_EXACT_PATTERNS:
        raise InputError(
            f"n_patterns must be <= {MAX_EXACT_PATTERNS} for exact_mixture (2^P labels are "
            f"enumerated), got n_patterns = {p}. Use fewer patterns, or the quenched_gaussian "
            "convention (quenched_gaussian_entropy_change), an upper bound on exact_mixture."
        )
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 8:
        raise InputError(f"n_samples must be an integer >= 8, got {n_samples!r}.")
    if not _is_traced(signal) and np.ndim(signal) != 0:
        raise InputError(
            f"signal must be a scalar, got shape {np.shape(signal)}. Call once per signal, or "
            "jax.vmap over it."
        )
    _, s = _entropy_units(signal, stiffness, temperature)
    est, se = _exact_mixture(key, jnp.asarray(inputs, dtype=float), s, n_samples=int(n_samples),
                             control_variates=n_samples >= _MIN_SAMPLES_CONTROL_VARIATES)
    return MonteCarloEstimate(est, se)


# ---------------------------------------------------------------------------------------------
# per-pattern training errors for given data (the companion information of exact_mixture)


@jax.jit
def _pattern_errors(inputs, s):
    p, n = inputs.shape
    gram = inputs @ inputs.T / n
    diag = jnp.diagonal(gram)

    def one(mu):
        row = gram[mu].at[mu].set(0.0)  # cross-talk couplings; the own entry enumerates twice
        crosstalk = _all_linear_forms(row)
        snr = s * (diag[mu] + crosstalk) / jnp.sqrt(diag[mu])
        return jnp.mean(gaussian_tail(snr))

    return jax.lax.map(one, jnp.arange(p))


@float64
def hebbian_pattern_errors(inputs, signal, *, stiffness=1.0, temperature=1.0):
    r"""Exact per-pattern training errors $\epsilon_\mu$ of Hebbian learning for given inputs.

    Given all labels, the activation $A^\mu = \boldsymbol\omega\cdot\boldsymbol\xi^\mu/\sqrt N$ is
    Gaussian with mean $c\,(G\sigma)_\mu$ and variance $(T/k)G_{\mu\mu}$, $G = \Xi\Xi^\top/N$. The
    stability $\sigma^\mu A^\mu$ then has mean $c\,(G_{\mu\mu} + \sum_{\nu\ne\mu}\tau_\nu G_{\mu\nu})$
    with $\tau_\nu = \sigma^\mu\sigma^\nu$ uniform and independent, so

    $$\epsilon_\mu = 2^{-(P-1)}\sum_{\tau}H\!\Big(s\,\frac{G_{\mu\mu} + \sum_{\nu\ne\mu}\tau_\nu G_{\mu\nu}}{\sqrt{G_{\mu\mu}}}\Big),
    \qquad s = c\sqrt{k/T},$$

    by exact enumeration. The per-pattern information is $I_\mu = \ln2 - h_2(\epsilon_\mu)$
    (:func:`~thermoinfer.information.binary_channel_information`), and
    $\sum_\mu I_\mu\le\Delta S_c$ (docs/theory/thermodynamics-and-bound.md, eq. (21)).

    Parameters
    ----------
    inputs : array_like, shape ``(P, N)``
        Input matrix, $P\le20$.
    signal : float
        $c$ (weight units).
    stiffness, temperature : float
        $k > 0$, $T > 0$.

    Returns
    -------
    Array, shape ``(P,)``
        $\epsilon_\mu$, dimensionless.

    Examples
    --------
    >>> from scipy.linalg import hadamard
    >>> from scipy.stats import norm
    >>> eps = hebbian_pattern_errors(hadamard(4)[:3], 1.0)   # orthogonal: eps = H(sqrt(x))
    >>> bool(np.allclose(eps, norm.sf(1.0), rtol=1e-12))
    True
    """
    _check_inputs(inputs, batched=False)
    p = jnp.shape(inputs)[0]
    if p > MAX_EXACT_PATTERNS:
        raise InputError(
            f"n_patterns must be <= {MAX_EXACT_PATTERNS} for exact per-pattern errors, got "
            f"n_patterns = {p}. Use fewer patterns, or estimate the errors from simulations."
        )
    inputs = jnp.asarray(inputs, dtype=float)
    if not _is_traced(inputs) and np.any(np.sum(np.asarray(inputs) ** 2, axis=-1) == 0):
        raise InputError("inputs must not contain an all-zero pattern (its activation is always 0).")
    _, s = _entropy_units(signal, stiffness, temperature)
    return _pattern_errors(inputs, s)


# ---------------------------------------------------------------------------------------------
# estimators from replicas (any rule)


@float64
def isotropic_gaussian_entropy_change(weights, *, stiffness=1.0, temperature=1.0) -> EntropyEstimate:
    r"""$\Delta S(\boldsymbol\omega)$ from replicas with data drawn per replica (isotropic Gaussian), nats.

    When every replica has its own random data (and labels), the label symmetry makes the
    annealed mean of $\boldsymbol\omega$ zero and its covariance $v\mathbb 1$, with
    $v = \mathbb E|\boldsymbol\omega|^2/N$. The Gaussian with that covariance gives

    $$\Delta S = \frac N2\ln\frac{v k}{T},$$

    a maximum-entropy upper bound on the true annealed entropy change (the finite-$N$
    counterpart of the ``annealed`` convention, for any rule). $v$ is estimated by
    $\hat v = \overline{|\boldsymbol\omega_r|^2}/N$; the estimate includes the second-order
    correction $+\frac N4\,\widehat{\mathrm{Var}}(\hat v)/\hat v^2$ of $\mathbb E\ln\hat v$, and the
    standard error is the delta method over replicas, $\frac N2\,\mathrm{se}(\hat v)/\hat v$.
    The weights must not have been centred.

    Parameters
    ----------
    weights : array_like, shape ``(..., n_replicas, N)``
        Final weights of independent replicas ($\ge2$); leading axes are batched.
    stiffness, temperature : array_like
        $k > 0$ (1/time), $T > 0$ (energy): the initial variance is $T/k$.

    Returns
    -------
    EntropyEstimate
        ``estimate``, ``standard_error`` (total, nats) and ``method = "isotropic_gaussian"``.

    Examples
    --------
    >>> import jax
    >>> w = 2.0 * jax.random.normal(jax.random.key(1), (4000, 10))   # v = 4
    >>> r = isotropic_gaussian_entropy_change(w)
    >>> r.method, bool(abs(float(r.estimate) - 5 * np.log(4.0)) < 4 * float(r.standard_error))
    ('isotropic_gaussian', True)
    """
    _check_weights(weights, min_replicas=2, fix="Simulate at least two independent replicas.")
    _check_values("stiffness", stiffness, positive=True, fix="stiffness is k > 0 (1/time).")
    _check_values("temperature", temperature, positive=True, fix="temperature is T > 0 (k_B = 1).")
    w = jnp.asarray(weights, dtype=float)
    n_rep, n_w = w.shape[-2], w.shape[-1]
    r = jnp.sum(w * w, axis=-1) / n_w
    v = jnp.mean(r, axis=-1)
    rel_se = jnp.std(r, axis=-1, ddof=1) / jnp.sqrt(n_rep) / v
    ratio = jnp.asarray(stiffness, dtype=float) / jnp.asarray(temperature, dtype=float)
    est = 0.5 * n_w * (jnp.log(v * ratio) + 0.5 * rel_se**2)
    return EntropyEstimate(est, 0.5 * n_w * rel_se, "isotropic_gaussian")


def _logdet_bias_and_variance(n: int, dim: int) -> tuple[float, float]:
    r"""$\mathbb E[\ln\det\hat S] - \ln\det\Sigma$ and $\mathrm{Var}[\ln\det\hat S]$ for Gaussian data.

    $(n-1)\hat S\sim\mathrm{Wishart}_{d}(n-1,\Sigma)$ has
    $\mathbb E\ln\det = \ln\det\Sigma + d\ln2 + \sum_{i=1}^{d}\psi((n-i)/2)$ and
    $\mathrm{Var}\ln\det = \sum_{i=1}^{d}\psi'((n-i)/2)$.
    """
    half = (n - np.arange(1, dim + 1)) / 2.0
    bias = float(np.sum(sps.digamma(half))) + dim * math.log(2.0 / (n - 1))
    var = float(np.sum(sps.polygamma(1, half)))
    return bias, var


@float64
def gaussian_logdet_entropy_change(weights, *, stiffness=1.0, temperature=1.0) -> EntropyEstimate:
    r"""$\Delta S(\boldsymbol\omega)$ from replicas sharing one data set (Gaussian log-det), nats.

    The entropy change of the Gaussian with the covariance $\Sigma$ of the final weights,
    relative to the initial $(T/k)\mathbb 1$, is $\frac12\ln\det(\Sigma k/T)$: for Hebbian
    learning it is the ``quenched_gaussian`` convention, for any rule a maximum-entropy upper
    bound on $\Delta S(\boldsymbol\omega\mid\Xi)$ (docs/theory/hebbian-memorisation.md, "Perceptron
    and AdaTron in batch mode"). With the unbiased sample
    covariance $\hat S$ of $n$ replicas, $(n-1)\hat S$ is Wishart for Gaussian weights and

    $$\mathbb E\ln\det\hat S = \ln\det\Sigma + \sum_{i=1}^{N}\psi\Big(\frac{n-i}2\Big) + N\ln\frac2{n-1},
    \qquad\mathrm{Var}\ln\det\hat S = \sum_{i=1}^{N}\psi'\Big(\frac{n-i}2\Big).$$

    The estimate subtracts this bias (about $-N(N+1)/(2n)$ for $N\ll n$; it exceeds the
    standard error unless $n\gtrsim N^3/8$), and
    the standard error is $\tfrac12\sqrt{\sum_i\psi'((n-i)/2)}$ — exact for Gaussian weights,
    whatever $\Sigma$; for non-Gaussian weights both are approximations.

    Parameters
    ----------
    weights : array_like, shape ``(..., n_replicas, N)``
        Final weights of replicas that share inputs and labels; requires
        ``n_replicas > N + 1``. Leading axes are batched.
    stiffness, temperature : array_like
        $k > 0$ (1/time), $T > 0$ (energy).

    Returns
    -------
    EntropyEstimate
        ``estimate``, ``standard_error`` (total, nats) and ``method = "gaussian_logdet"``.

    Examples
    --------
    >>> import jax
    >>> w = 3.0 + 2.0 * jax.random.normal(jax.random.key(2), (400, 20))   # Sigma = 4 I
    >>> r = gaussian_logdet_entropy_change(w)
    >>> r.method, bool(abs(float(r.estimate) - 10 * np.log(4.0)) < 4 * float(r.standard_error))
    ('gaussian_logdet', True)
    """
    shape = jnp.shape(weights)
    n_w = shape[-1] if len(shape) >= 1 else 0
    _check_weights(
        weights, min_replicas=n_w + 2,
        fix=f"The sample covariance of N = {n_w} weights needs n_replicas > N + 1 = {n_w + 1}: "
            "simulate more replicas, or use isotropic_gaussian_entropy_change with data drawn "
            "per replica.",
    )
    _check_values("stiffness", stiffness, positive=True, fix="stiffness is k > 0 (1/time).")
    _check_values("temperature", temperature, positive=True, fix="temperature is T > 0 (k_B = 1).")
    w = jnp.asarray(weights, dtype=float)
    n_rep = w.shape[-2]
    centred = w - jnp.mean(w, axis=-2, keepdims=True)
    cov = jnp.swapaxes(centred, -1, -2) @ centred / (n_rep - 1)
    chol = jnp.linalg.cholesky(cov)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    bias, var = _logdet_bias_and_variance(n_rep, n_w)
    ratio = jnp.asarray(stiffness, dtype=float) / jnp.asarray(temperature, dtype=float)
    est = 0.5 * (logdet - bias + n_w * jnp.log(ratio))
    se = jnp.full(jnp.shape(est), 0.5 * math.sqrt(var))
    return EntropyEstimate(est, se, "gaussian_logdet")

r"""Information of binary and Gaussian channels, in numerically stable forms (nats).

The per-pattern information of the learning neuron is the information of a binary symmetric
channel (docs/theory/thermodynamics-and-bound.md, eq. (18)),

$$I_\mu = \ln 2 - h_2(\epsilon_\mu),\qquad h_2(\epsilon) = -\epsilon\ln\epsilon-(1-\epsilon)\ln(1-\epsilon).$$

Subtracting $h_2$ from $\ln 2$ loses every digit in the slow-learning limit
$\epsilon\to\tfrac12$. With $u = 1-2\epsilon$ the same quantity is

$$I = \tfrac12\big[(1+u)\,\mathrm{log1p}(u) + (1-u)\,\mathrm{log1p}(-u)\big]
    = \sum_{n\ge1}\frac{u^{2n}}{2n(2n-1)},$$

and for a Gaussian stability with signal-to-noise ratio $y$ (error $\epsilon = H(y)$) one has
$u = \mathrm{erf}(y/\sqrt2)$ directly (docs/theory/numerics.md, eq. (97)).

All functions are pure JAX, vectorised by broadcasting, and usable under ``jit``/``vmap``/``grad``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf, erfc

from .._x64 import float64

__all__ = [
    "LN2",
    "binary_entropy",
    "gaussian_tail",
    "information_from_u",
    "binary_channel_information",
    "binary_channel_information_from_snr",
    "biawgn_information",
    "gaussian_channel_information",
]

LN2 = float(np.log(2.0))

# below this |u| the closed form loses relative accuracy; the series to u^8 is exact to 1e-17 there
_SERIES_CUTOFF = 1e-3


def gaussian_tail(x):
    r"""Gaussian tail $H(x) = \int_x^\infty Dz = \tfrac12\,\mathrm{erfc}(x/\sqrt2)$ (dimensionless)."""
    x = jnp.asarray(x, dtype=float)
    return 0.5 * erfc(x / jnp.sqrt(2.0))


def binary_entropy(eps):
    r"""Binary entropy $h_2(\epsilon)$ in nats, with $h_2(0) = h_2(1) = 0$.

    Parameters
    ----------
    eps : array_like
        Probability $\epsilon\in[0, 1]$.

    Returns
    -------
    Array
        $-\epsilon\ln\epsilon - (1-\epsilon)\ln(1-\epsilon)$, nats.
    """
    eps = jnp.asarray(eps, dtype=float)
    safe = jnp.clip(eps, 1e-300, 1.0)
    safe1 = jnp.clip(1.0 - eps, 1e-300, 1.0)
    a = jnp.where(eps > 0, -eps * jnp.log(safe), 0.0)
    b = jnp.where(eps < 1, -(1.0 - eps) * jnp.log(safe1), 0.0)
    return a + b


def information_from_u(u):
    r"""$\ln2 - h_2\big((1-u)/2\big)$ as a function of the bias $u = 1 - 2\epsilon\in[-1, 1]$.

    Uses $\tfrac12[(1+u)\,\mathrm{log1p}(u)+(1-u)\,\mathrm{log1p}(-u)]$ and, for
    $|u| < 10^{-3}$, the series $u^2/2 + u^4/12 + u^6/30 + u^8/56$. Exact value $\ln 2$ at
    $|u| = 1$. Result in nats.
    """
    u = jnp.asarray(u, dtype=float)
    au = jnp.clip(jnp.abs(u), 0.0, 1.0)
    # closed form on a safe argument (|u| < 1), the endpoint handled separately
    us = jnp.where(au < 1.0, au, 0.5)
    closed = 0.5 * ((1.0 + us) * jnp.log1p(us) + (1.0 - us) * jnp.log1p(-us))
    u2 = au * au
    series = u2 * (0.5 + u2 * (1.0 / 12.0 + u2 * (1.0 / 30.0 + u2 / 56.0)))
    out = jnp.where(au < _SERIES_CUTOFF, series, closed)
    return jnp.where(au >= 1.0, LN2, out)


@float64
def binary_channel_information(eps):
    r"""Mutual information of a binary symmetric channel with error $\epsilon$, in nats.

    $$I = \ln 2 - h_2(\epsilon)$$ evaluated stably through $u = 1-2\epsilon$
    (see :func:`information_from_u`). Symmetric under $\epsilon\to1-\epsilon$.

    Parameters
    ----------
    eps : array_like
        Error probability $\epsilon\in[0,1]$ (dimensionless).

    Returns
    -------
    Array
        Information in nats, in $[0, \ln 2]$.

    Examples
    --------
    >>> round(float(binary_channel_information(0.207108)), 6)
    0.183047
    """
    eps = jnp.asarray(eps, dtype=float)
    return information_from_u(1.0 - 2.0 * eps)


@float64
def binary_channel_information_from_snr(y):
    r"""Information $\ln 2 - h_2(H(y))$ of a sign read-out of a Gaussian stability, in nats.

    The stability has mean $y\sigma$ and unit variance; the error is $\epsilon = H(y)$ and
    $u = 1 - 2\epsilon = \mathrm{erf}(y/\sqrt2)$ is computed directly, so the slow-learning
    limit $I\simeq y^2/\pi$ keeps full relative accuracy.

    Parameters
    ----------
    y : array_like
        Signal-to-noise ratio (mean over standard deviation of the stability), dimensionless.
    """
    y = jnp.asarray(y, dtype=float)
    return information_from_u(erf(y / jnp.sqrt(2.0)))


# trapezoid grid for the BIAWGN integral: the integrands softplus(-2 s^2 - 2 s z) phi(z) and
# ln cosh(s^2 + s z) phi(z) have a kink of width ~1/(2s); h = 0.004 resolves it to ~1e-15 up to
# s ~ 10, and |z| <= 12 loses < 1e-30. The spacing is the exact 24/6000: taking it as
# _Z[1] - _Z[0] (rounded, 1.1e-13 too small) made sum(_PHI_W) = 1 - 1.1e-13, an absolute error
# ln2 * 1.1e-13 that was a relative error of 1.5e-7 at s = 1e-3.
_Z_MAX = 12.0
_N_GRID = 6001
_Z = np.linspace(-_Z_MAX, _Z_MAX, _N_GRID)
_W = np.full_like(_Z, 2.0 * _Z_MAX / (_N_GRID - 1))
_W[0] *= 0.5
_W[-1] *= 0.5
_PHI_W = _W * np.exp(-0.5 * _Z**2) / np.sqrt(2.0 * np.pi)


def _log_cosh(y):
    r"""$\ln\cosh y$ with full relative accuracy at small $|y|$ and no overflow at large $|y|$."""
    ay = jnp.abs(y)
    small = jnp.log1p(2.0 * jnp.sinh(0.5 * jnp.minimum(ay, 20.0)) ** 2)
    large = ay - LN2 + jnp.log1p(jnp.exp(-2.0 * ay))
    return jnp.where(ay < 20.0, small, large)


@float64
def biawgn_information(s):
    r"""Mutual information of the binary-input additive white Gaussian noise channel, in nats.

    $X = \pm1$ equiprobable, $Y = sX + Z$, $Z\sim\mathcal N(0,1)$:

    $$C_{\rm BIAWGN}(s) = \ln 2 - \int Dz\,\ln\big(1 + e^{-2s^2 - 2sz}\big)
      = s^2 - \int Dz\,\ln\cosh(s^2 + sz).$$

    This is the per-pattern ``exact_mixture`` entropy of Hebbian learning with orthogonal
    inputs (docs/theory/hebbian-memorisation.md, eq. (50)–(51)). Evaluated by a fine trapezoid rule in $z$: the $\ln\cosh$ form
    for $|s| < 1$ (no cancellation against $\ln 2$, so full relative accuracy as $s\to0$,
    where $C\simeq s^2/2 - s^4/4$), the first form for $|s|\ge1$. Relative error below
    $10^{-14}$ for $|s|\lesssim10$.

    Parameters
    ----------
    s : array_like
        Signal-to-noise amplitude $s$ (dimensionless); $C$ is even in $s$.

    Returns
    -------
    Array
        Information in nats, in $[0, \ln 2)$.

    Examples
    --------
    >>> round(float(biawgn_information(1.0)), 10)
    0.3368308203
    """
    s = jnp.abs(jnp.asarray(s, dtype=float))
    z = jnp.asarray(_Z)
    w = jnp.asarray(_PHI_W)
    sb = s[..., None]
    soft = LN2 - jnp.sum(w * jnp.logaddexp(0.0, -2.0 * sb**2 - 2.0 * sb * z), axis=-1)
    cosh_form = s * s - jnp.sum(w * _log_cosh(sb * sb + sb * z), axis=-1)
    return jnp.where(s < 1.0, cosh_form, soft)


@float64
def gaussian_channel_information(snr2):
    r"""Information of a Gaussian channel, $\tfrac12\ln(1 + \mathrm{snr}^2)$, in nats (log1p form)."""
    snr2 = jnp.asarray(snr2, dtype=float)
    return 0.5 * jnp.log1p(snr2)

r"""One-step transition kernels as small objects: the same kernel samples and weighs.

A kernel is a ``NamedTuple`` of arrays (a JAX pytree: it passes through ``jit``, ``vmap`` and
``grad``) with three methods,

* ``log_prob(x_prev, x_next)``: $\ln p(\boldsymbol x_{next}\mid\boldsymbol x_{prev})$ per pair, nats;
* ``sample(key, x_prev)``: one draw of $\boldsymbol x_{next}$ per pre-step point;
* ``log_prob_statistics(stats)``: $\sum_i\ln p(\boldsymbol x_{i+1}\mid\boldsymbol x_i)$ over all the
  transitions summarised by the sufficient statistics of :mod:`thermoinfer.paths.statistics`,
  at a cost independent of their number.

:class:`AffineKernel` is the exact Gaussian kernel of affine dynamics
$d\boldsymbol x = (A\boldsymbol x + \boldsymbol b)dt + \sqrt{2D}\,d\boldsymbol W$ over a step $\Delta$,

$$\boldsymbol x' = \boldsymbol x + E\boldsymbol x + \boldsymbol c + L\boldsymbol z,\qquad
E = e^{A\Delta} - \mathbb 1,\quad LL^\top = \Sigma_\Delta,\quad \boldsymbol z\sim\mathcal N(0, \mathbb 1),$$

written with the **increment** $\boldsymbol x' - \boldsymbol x$ and $E$ (computed directly by the
Van Loan construction of :func:`thermoinfer.paths.affine_transition`, never as $\Phi - \mathbb 1$),
so that for small steps no digits are lost to the cancellation $\boldsymbol x' - \Phi\boldsymbol x$.
:class:`IsotropicOUKernel` is the isotropic case $A = -k\mathbb 1$, $D = T\mathbb 1$,
$\boldsymbol b = \boldsymbol f$ (the Hebbian learning neuron) without $N\times N$ matrices.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_solve, solve_triangular

from .linear import _affine_kernel, _affine_kernel_single, _h

__all__ = ["AffineKernel", "IsotropicOUKernel"]

_LOG_2PI = math.log(2.0 * math.pi)


def _sym_cholesky(S):
    return jnp.linalg.cholesky(0.5 * (S + jnp.swapaxes(S, -1, -2)))


class AffineKernel(NamedTuple):
    r"""Exact Gaussian one-step kernel $\boldsymbol x'\sim\mathcal N(\boldsymbol x + E\boldsymbol x + \boldsymbol c,\ \Sigma)$.

    Leading axes of the fields are kernels of different steps (one per step group of a
    :class:`~thermoinfer.paths.statistics.TransitionStatistics`, or one per transition).

    Attributes
    ----------
    E : Array, ``(..., d, d)``
        $e^{A\Delta} - \mathbb 1$ (dimensionless).
    shift : Array, ``(..., d)``
        $\boldsymbol c = \int_0^\Delta e^{As}ds\,\boldsymbol b$ (length).
    Sigma : Array, ``(..., d, d)``
        $\Sigma_\Delta = \int_0^\Delta e^{As}2De^{A^\top s}ds$ (length²).
    chol : Array, ``(..., d, d)``
        Lower Cholesky factor of ``Sigma``.
    """

    E: jax.Array
    shift: jax.Array
    Sigma: jax.Array
    chol: jax.Array

    @classmethod
    def from_drift(cls, A, b, D, dt) -> AffineKernel:
        r"""Kernel of $d\boldsymbol x = (A\boldsymbol x + \boldsymbol b)dt + \sqrt{2D}d\boldsymbol W$ over step(s) ``dt``.

        ``A`` ``(d, d)`` (1/time), ``b`` ``(d,)`` (length/time), ``D`` ``(d, d)`` (length²/time),
        ``dt`` a scalar or ``(G,)`` steps (time); traced arguments welcome (no checks here:
        the public path functions validate).
        """
        A = jnp.asarray(A)
        b = jnp.asarray(b, A.dtype)
        D = jnp.asarray(D, A.dtype)
        dt = jnp.asarray(dt, A.dtype)
        if A.ndim == 2 and b.ndim == 1 and D.ndim == 2 and dt.ndim == 1 and dt.shape[0] == 1:
            # one step group (a regular grid): no loop around the kernel
            _, E, shift, Sigma = (a[None] for a in _affine_kernel_single(A, b, D, dt[0]))
        elif A.ndim == 2 and b.ndim == 1 and D.ndim == 2 and dt.ndim == 1 and dt.shape[0] <= 64:
            # a few step groups: one after another, so that each kernel skips the doublings it
            # does not need (a vmap would run every branch)
            _, E, shift, Sigma = jax.lax.map(lambda h: _affine_kernel_single(A, b, D, h), dt)
        else:
            _, E, shift, Sigma = _affine_kernel(A, b, D, dt)
        return cls(E, shift, Sigma, _sym_cholesky(Sigma))

    @property
    def Phi(self):
        r"""$e^{A\Delta}$."""
        return self.E + jnp.eye(self.E.shape[-1], dtype=self.E.dtype)

    def log_prob(self, x_prev, x_next):
        r"""$\ln\mathcal N(\boldsymbol x_{next}-\boldsymbol x_{prev};\ E\boldsymbol x_{prev}+\boldsymbol c,\ \Sigma)$, broadcasting; nats."""
        d = x_prev.shape[-1]
        r = (x_next - x_prev) - jnp.einsum("...ij,...j->...i", self.E, x_prev) - self.shift
        z = jnp.vectorize(lambda L, v: solve_triangular(L, v, lower=True),
                          signature="(d,d),(d)->(d)")(self.chol, r)
        logdet = jnp.sum(jnp.log(jnp.diagonal(self.chol, axis1=-2, axis2=-1)), axis=-1)
        return -0.5 * jnp.sum(z * z, axis=-1) - logdet - 0.5 * d * _LOG_2PI

    def step(self, x_prev, z):
        r"""Post-step point for standard normal noise ``z``: $\boldsymbol x + E\boldsymbol x + \boldsymbol c + L\boldsymbol z$."""
        return (x_prev + jnp.einsum("...ij,...j->...i", self.E, x_prev) + self.shift
                + jnp.einsum("...ij,...j->...i", self.chol, z))

    def sample(self, key, x_prev):
        """One draw of the post-step point for every pre-step point ``x_prev`` ``(..., d)``."""
        z = jax.random.normal(key, jnp.shape(x_prev), dtype=jnp.result_type(x_prev, float))
        return self.step(x_prev, z)

    def log_prob_statistics(self, stats):
        r"""Sum of the transition log-densities summarised by ``stats``, nats.

        With $\boldsymbol u_i = \boldsymbol x_i - \boldsymbol m$ (the statistics' reference point),
        $\boldsymbol\delta_i = \boldsymbol x_{i+1} - \boldsymbol x_i$ and
        $\boldsymbol c' = \boldsymbol c + E\boldsymbol m$, the residual is
        $\boldsymbol r_i = \boldsymbol\delta_i - E\boldsymbol u_i - \boldsymbol c'$ and per step group

        $$\sum_i\boldsymbol r_i\boldsymbol r_i^\top = S_{\delta\delta} - S_{\delta u}E^\top - ES_{\delta u}^\top
          + ES_{uu}E^\top - \boldsymbol s\boldsymbol c'^\top - \boldsymbol c'\boldsymbol s^\top + n\boldsymbol c'\boldsymbol c'^\top,
          \qquad \boldsymbol s = \boldsymbol s_\delta - E\boldsymbol s_u,$$

        $$\sum_i\ln p = -\tfrac12\mathrm{tr}\Big(\Sigma^{-1}\sum_i\boldsymbol r_i\boldsymbol r_i^\top\Big)
          - \tfrac n2\big(\ln\det\Sigma + d\ln 2\pi\big).$$

        ``self`` holds one kernel per step group (leading axis ``G``, the steps ``stats.dt``);
        the transitions left out of the groups (``stats.scattered``) are not included here:
        :func:`thermoinfer.paths.statistics.affine_log_likelihood` adds them.
        """
        st = stats
        d = st.ref.shape[-1]
        E, L = self.E, self.chol
        c = self.shift + E @ st.ref
        ET = jnp.swapaxes(E, -1, -2)
        Sdu_ET = st.inc_prev @ ET
        R = (st.inc_inc - Sdu_ET - jnp.swapaxes(Sdu_ET, -1, -2) + E @ st.prev_prev @ ET)
        s = st.s_inc - jnp.einsum("gij,gj->gi", E, st.s_prev)
        sc = s[:, :, None] * c[:, None, :]
        R = R - sc - jnp.swapaxes(sc, -1, -2) + st.count[:, None, None] * c[:, :, None] * c[:, None, :]
        quad = jnp.trace(jax.vmap(lambda Lg, Rg: cho_solve((Lg, True), Rg))(L, R), axis1=-2,
                         axis2=-1)
        logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
        total = jnp.sum(-0.5 * quad - 0.5 * st.count * (logdet + d * _LOG_2PI))
        return total


class IsotropicOUKernel(NamedTuple):
    r"""Exact isotropic OU kernel of $d\boldsymbol\omega = (\boldsymbol f - k\boldsymbol\omega)dt + \sqrt{2T}d\boldsymbol W$.

    $$\boldsymbol\omega' - \boldsymbol\omega = h_1(\boldsymbol f - k\boldsymbol\omega) + s\,\boldsymbol z,\qquad
      h_1 = \Delta\,h(k\Delta),\quad s^2 = 2T\Delta\,h(2k\Delta),\quad h(x) = \frac{1-e^{-x}}{x}.$$

    Attributes
    ----------
    h1 : Array, ``(...)``
        Effective step $(1-e^{-k\Delta})/k$ (time).
    var : Array, ``(...)``
        $s^2 = T(1-e^{-2k\Delta})/k$ (weight²).
    stiffness : Array
        $k$ (1/time).
    """

    h1: jax.Array
    var: jax.Array
    stiffness: jax.Array

    @classmethod
    def from_parameters(cls, stiffness, temperature, dt) -> IsotropicOUKernel:
        """Kernel for stiffness $k$, temperature $T$ (mobility 1) and step(s) ``dt``."""
        k = jnp.asarray(stiffness)
        dt = jnp.asarray(dt, dtype=k.dtype)
        return cls(dt * _h(k * dt), 2.0 * temperature * dt * _h(2.0 * k * dt),
                   jnp.broadcast_to(k, jnp.shape(dt)))

    def log_prob(self, w_prev, w_next, force):
        r"""$\ln p(\boldsymbol\omega'\mid\boldsymbol\omega)$ per pair (``(..., N)`` each), nats."""
        n = w_prev.shape[-1]
        r = (w_next - w_prev) - self.h1 * (force - self.stiffness * w_prev)
        return -0.5 * jnp.sum(r * r, axis=-1) / self.var - 0.5 * n * (jnp.log(self.var)
                                                                      + _LOG_2PI)

    def sample(self, key, w_prev, force):
        """One draw of the post-step weights for every ``w_prev`` ``(..., N)``."""
        z = jax.random.normal(key, jnp.shape(w_prev), dtype=jnp.result_type(w_prev, float))
        return w_prev + self.h1 * (force - self.stiffness * w_prev) + jnp.sqrt(self.var) * z

    def log_prob_statistics(self, stats, learning_rate):
        r"""Sum of the transition log-densities of a Hebbian neuron from its statistics, nats.

        With the force $\boldsymbol f = \nu\boldsymbol g$ (``g`` fixed by the training data),
        per step group

        $$\sum_i|\boldsymbol r_i|^2 = S_{\delta\delta} + 2h_1kS_{\delta\omega} - 2h_1\nu G_\delta
          + h_1^2k^2S_{\omega\omega} - 2h_1^2k\nu G_\omega + h_1^2\nu^2 n|\boldsymbol g|^2,$$

        $\sum_i\ln p = -\sum_i|\boldsymbol r_i|^2/(2s^2) - \tfrac{nN}2\ln(2\pi s^2)$, with the
        scalars of :class:`~thermoinfer.paths.statistics.IsotropicStatistics`.
        """
        st = stats
        h, k, nu = self.h1, self.stiffness, learning_rate
        ss = (st.inc_inc + 2.0 * h * k * st.inc_prev - 2.0 * h * nu * st.g_inc
              + h * h * k * k * st.prev_prev - 2.0 * h * h * k * nu * st.g_prev
              + h * h * nu * nu * st.count * st.g_g)
        return jnp.sum(-0.5 * ss / self.var
                       - 0.5 * st.count * st.n_weights * (jnp.log(self.var) + _LOG_2PI))

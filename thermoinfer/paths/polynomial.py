r"""Polynomial drifts: monomial basis, sufficient statistics, Euler–Maruyama likelihood, conjugate posterior.

The process is the overdamped Langevin equation in $d$ dimensions

$$d\boldsymbol x = \boldsymbol F_\Theta(\boldsymbol x)\,dt + \sqrt{2D}\,d\boldsymbol W,\qquad
  \boldsymbol F_\Theta(\boldsymbol x) = \Theta\,\boldsymbol\phi(\boldsymbol z),\qquad
  z_j = \frac{x_j - m_j}{s_j},$$

with $\boldsymbol\phi$ the $p = \binom{d+N}{N}$ monomials of the **standardised** coordinates
$\boldsymbol z$ up to total degree $N$ (degree 0 included), $\boldsymbol m$ and $\boldsymbol s$ the
centre and scale (by default the data's mean and standard deviation per component), $\Theta$ a
$d\times p$ matrix of force coefficients (length/time: $\boldsymbol\phi$ is dimensionless) and
$D$ a constant positive-definite diffusion matrix (length²/time). Standardising keeps the
monomials of order one on the data, so that $\sum\boldsymbol\phi\boldsymbol\phi^\top$ is well
conditioned whatever the units and the offset of the data; :func:`monomial_coefficients` maps
$\Theta$ to the coefficients of the monomials of $\boldsymbol x$ itself.

Basis order
-----------
Graded lexicographic: degree 0, then the $d$ coordinates, then the products of two
coordinates $z_iz_j$ with $i\le j$ in lexicographic order, and so on
(:func:`monomial_exponents`, :func:`monomial_labels`); for $d = 2$, $N = 2$:
$1, z_0, z_1, z_0^2, z_0z_1, z_1^2$.

Likelihood from statistics
--------------------------
The Euler–Maruyama (Itô pre-point) kernel
$p(\boldsymbol x_{i+1}\mid\boldsymbol x_i) = \mathcal N(\boldsymbol x_i + h_i\boldsymbol F_\Theta(\boldsymbol x_i), 2Dh_i)$
is Gaussian with a mean **linear in** $\Theta$, so the log-likelihood of all transitions is a
quadratic form in $\Theta$. Written in the standardised coordinates ($S = \mathrm{diag}(\boldsymbol s)$,
$\boldsymbol\delta_i = \boldsymbol z_{i+1} - \boldsymbol z_i$, $\boldsymbol\phi_i = \boldsymbol\phi(\boldsymbol z_i)$,
$G = S^{-1}\Theta$, $D_z = S^{-1}DS^{-1}$):

$$\ell(\Theta, D) = -\frac14\mathrm{tr}\Big[D_z^{-1}\big(S_{\delta\delta} - S_{\delta\phi}G^\top - GS_{\delta\phi}^\top
  + GS_{\phi\phi}G^\top\big)\Big] - \frac n2\ln\det D_z - \frac{nd}2\ln 4\pi - \frac d2\sum_i\ln h_i
  - n\sum_j\ln s_j$$

with the statistics (all transitions of all replicas, any time grid)

$$n,\quad \sum_i\ln h_i,\quad S_{\delta\delta} = \sum_i\frac{\boldsymbol\delta_i\boldsymbol\delta_i^\top}{h_i},\quad
  S_{\delta\phi} = \sum_i\boldsymbol\delta_i\boldsymbol\phi_i^\top,\quad
  S_{\phi\phi} = \sum_i h_i\,\boldsymbol\phi_i\boldsymbol\phi_i^\top .$$

The step $h_i$ enters only as a weight of each transition, so one set of statistics is **exact
for any grid**, regular or not: no grouping of equal steps is needed (a truly irregular grid
costs the same as a regular one). The last term is the Jacobian of $\boldsymbol x\mapsto\boldsymbol z$:
$\ell$ is the density of the observed $\boldsymbol x$. One $O(n p^2)$ pass over the data
(:func:`polynomial_statistics`, summed in blocks of $2^{16}$ transitions) leaves $O(d^2p + dp^2)$
work per evaluation (:func:`polynomial_log_likelihood`). Measured in the tests: equal to the sum
of :func:`thermoinfer.paths.em_transition_log_prob` over the transitions to $10^{-11}$ of
$\sum_i|\ell_i|$, on regular and irregular grids.

Stratonovich entropy functional
-------------------------------
The same pass accumulates $S_{\phi\circ\delta} = \sum_i\boldsymbol\phi(\bar{\boldsymbol z}_i)\boldsymbol\delta_i^\top$ at the
midpoints $\bar{\boldsymbol z}_i = (\boldsymbol z_i + \boldsymbol z_{i+1})/2$ and the observed time $\tau = \sum_i h_i$, so that

$$\hat\sigma(\Theta, D) = \frac1\tau\sum_i\Delta\boldsymbol x_i^\top D^{-1}\boldsymbol F_\Theta(\bar{\boldsymbol x}_i)
  = \frac1\tau\,\mathrm{tr}\big(D_z^{-1}G\,S_{\phi\circ\delta}\big)$$

costs $O(pd)$ per parameter draw (:func:`stratonovich_entropy_rate`; docs/polynomial-drift.md).
Its noise term $\tau^{-1}\sum_i\boldsymbol F\cdot D^{-1}\sqrt{2D}\,\Delta\boldsymbol W_i$ is fixed by the
observed path, not by the parameters, so its posterior spread is about half of its sampling
spread: for intervals use :func:`projected_entropy_rate`, the variational steady rate
$\min_\psi\tau^{-1}\sum_ih_i|\boldsymbol F_\Theta - D\nabla\psi|^2_{D^{-1}}$ over polynomial
potentials, whose posterior is calibrated (the primary estimate of the model
``polynomial-drift``).

Conjugate posterior
-------------------
With $\boldsymbol y_i = \boldsymbol\delta_i/\sqrt{h_i}$ and the design rows $\sqrt{h_i}\boldsymbol\phi_i^\top$ the
EM model is the multivariate linear regression $\boldsymbol y_i = G\sqrt{h_i}\boldsymbol\phi_i + \boldsymbol e_i$,
$\boldsymbol e_i\sim\mathcal N(0, \Sigma)$, $\Sigma = 2D_z$, on any grid. The
Matrix-Normal–Inverse-Wishart prior

$$\Sigma\sim\mathcal W^{-1}(\nu_0, \Psi_0),\qquad G^\top\mid\Sigma\sim\mathcal{MN}(0, v_0\mathbb 1_p, \Sigma)$$

is conjugate: $\Sigma\mid\text{data}\sim\mathcal W^{-1}(\nu_0 + n, \Psi_n)$ and
$G^\top\mid\Sigma,\text{data}\sim\mathcal{MN}(M_n, V_n, \Sigma)$ with
$V_n = (S_{\phi\phi} + \mathbb 1/v_0)^{-1}$, $M_n = V_nS_{\delta\phi}^\top$,
$\Psi_n = \Psi_0 + S_{\delta\delta} - M_n^\top V_n^{-1}M_n$ (:func:`conjugate_parameters`,
:func:`sample_conjugate`: independent draws). The default hyperparameters are set by the data's
scales (:func:`prior_scales`): $\nu_0 = d + 2$, $\Psi_0 = 2\,\mathrm{diag}(\hat Q)$ (so that
$E[D_z] = \mathrm{diag}\,\hat Q$), $v_0 = c^2\hat r/2$ (so that $\mathrm{sd}(G_{ia})\approx c\,\hat r$),
with $\hat Q = S_{\delta\delta}/(2n)$ the quadratic-variation estimate of $D_z$, $\hat r = \mathrm{tr}\hat Q/d$
a rate and $c$ = ``coefficient_scale`` (default 10).
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve

from .._x64 import float64
from ..errors import InputError, check_int, check_positive
from .statistics import BLOCK, _check_data

__all__ = [
    "MAX_BASIS",
    "PolynomialStatistics",
    "ConjugatePosterior",
    "n_monomials",
    "monomial_exponents",
    "monomial_labels",
    "polynomial_basis",
    "polynomial_force",
    "expansion_matrix",
    "monomial_coefficients",
    "standardised_coefficients",
    "polynomial_statistics",
    "polynomial_log_likelihood",
    "stratonovich_entropy_rate",
    "projected_entropy_rate",
    "prior_scales",
    "conjugate_hyperparameters",
    "conjugate_parameters",
    "sample_conjugate",
]

#: most monomials accepted (the statistics hold p x p numbers; a larger basis is refused)
MAX_BASIS = 500


def n_monomials(d: int, degree: int) -> int:
    r"""Number of monomials of $d$ variables up to total degree $N$: $p = \binom{d+N}{N}$.

    Examples
    --------
    >>> n_monomials(2, 3), n_monomials(3, 2)
    (10, 10)
    """
    return math.comb(int(d) + int(degree), int(degree))


def _check_basis(d, degree):
    d = check_int("d", d, "The number of components of the data.", minimum=1)
    degree = check_int("degree", degree, "Give the total degree of the polynomial drift, e.g. "
                       "--option degree=3.", minimum=0)
    p = n_monomials(d, degree)
    if p > MAX_BASIS:
        raise InputError(f"degree = {degree} in d = {d} dimensions gives {p} monomials, more than "
                         f"{MAX_BASIS}; lower the degree.")
    return d, degree


@lru_cache(maxsize=64)
def _exponents(d: int, degree: int) -> np.ndarray:
    rows = []
    for k in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), k):
            e = np.zeros(d, dtype=np.int64)
            for j in combo:
                e[j] += 1
            rows.append(e)
    out = np.stack(rows)
    out.setflags(write=False)
    return out


def monomial_exponents(d: int, degree: int) -> np.ndarray:
    """Exponents ``(p, d)`` of the monomials, in the graded lexicographic order of the module.

    Examples
    --------
    >>> monomial_exponents(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    d, degree = _check_basis(d, degree)
    return _exponents(d, degree).copy()


def monomial_labels(names, degree: int, *, standardised: bool = True) -> list[str]:
    """Readable labels of the monomials: ``"1"``, ``"z(x)"``, ``"z(x)^2 z(y)"``, ...

    ``names`` are the component labels; with ``standardised=False`` the labels are the
    monomials of the raw coordinates (``"x^2 y"``), the basis of :func:`monomial_coefficients`.

    Examples
    --------
    >>> monomial_labels(["x", "y"], 2, standardised=False)
    ['1', 'x', 'y', 'x^2', 'x y', 'y^2']
    """
    names = [str(n) for n in names]
    out = []
    for e in monomial_exponents(len(names), degree):
        parts = []
        for name, k in zip(names, e, strict=True):
            if k:
                base = f"z({name})" if standardised else name
                parts.append(base if k == 1 else f"{base}^{k}")
        out.append(" ".join(parts) or "1")
    return out


def _basis(z, degree: int):
    """Monomials of ``z`` (..., d) -> (..., p), static ``degree`` (integer powers only)."""
    xp = jnp if isinstance(z, jax.Array) else np
    d = z.shape[-1]
    e = _exponents(d, degree)
    powers = [xp.ones_like(z)]
    for _ in range(degree):
        powers.append(powers[-1] * z)
    P = xp.stack(powers, axis=-1)  # (..., d, N+1)
    gathered = P[..., np.arange(d)[None, :], e]  # (..., p, d)
    return xp.prod(gathered, axis=-1)


@float64
def polynomial_basis(z, degree: int):
    r"""The monomials $\boldsymbol\phi(\boldsymbol z)$ up to total degree ``degree``.

    Parameters
    ----------
    z : array_like, shape ``(..., d)``
        Points (standardised coordinates for the basis of the module; any coordinates work).
    degree : int
        Total degree $N\ge0$ (static).

    Returns
    -------
    Array, shape ``(..., p)``, $p = \binom{d+N}{N}$; traceable (``jit``/``grad``/``vmap``).

    Examples
    --------
    >>> polynomial_basis([2.0, 3.0], 2).tolist()
    [1.0, 2.0, 3.0, 4.0, 6.0, 9.0]
    """
    z = z if isinstance(z, jax.Array) else jnp.asarray(np.asarray(z, dtype=float))
    if z.ndim == 0:
        raise InputError("z must have shape (..., d), got a scalar.")
    _check_basis(z.shape[-1], degree)
    return _basis(z, int(degree))


def _degree_of(d: int, p: int) -> int:
    k = 0
    while n_monomials(d, k) < p:
        k += 1
    if n_monomials(d, k) != p:
        raise InputError(f"{p} coefficients per component is not a full basis of monomials in "
                         f"{d} dimensions (p = (d+N)!/(d! N!)).")
    return k


@float64
def polynomial_force(x, coefficients, center, scale):
    r"""The drift $\boldsymbol F_\Theta(\boldsymbol x) = \Theta\boldsymbol\phi((\boldsymbol x - \boldsymbol m)/\boldsymbol s)$, length/time.

    Parameters
    ----------
    x : array_like, shape ``(..., d)``
        Points (length).
    coefficients : array_like, shape ``(d, p)``
        $\Theta$ in the standardised basis (length/time); the degree follows from ``p``.
    center, scale : array_like, shape ``(d,)``
        $\boldsymbol m$ (length) and $\boldsymbol s > 0$ (length) of the standardisation.

    Returns
    -------
    Array, shape ``(..., d)``; traceable.
    """
    x = jnp.asarray(x, dtype=float)
    theta = jnp.asarray(coefficients, dtype=float)
    d, p = theta.shape[-2], theta.shape[-1]
    degree = _degree_of(d, p)
    phi = _basis((x - jnp.asarray(center, float)) / jnp.asarray(scale, float), degree)
    return jnp.einsum("...ip,...p->...i", theta, phi)


def expansion_matrix(center, scale, degree: int) -> np.ndarray:
    r"""$M$ ``(p, p)`` with $\boldsymbol\phi((\boldsymbol x - \boldsymbol m)/\boldsymbol s) = M\boldsymbol\phi(\boldsymbol x)$ (binomial expansion)."""
    center = np.asarray(center, dtype=float)
    scale = np.asarray(scale, dtype=float)
    d = center.shape[0]
    e = _exponents(d, degree)
    index = {tuple(r): i for i, r in enumerate(e)}
    M = np.zeros((e.shape[0], e.shape[0]))
    for a, alpha in enumerate(e):
        # prod_j s_j^-alpha_j sum_{beta_j <= alpha_j} C(alpha_j, beta_j) x_j^beta_j (-m_j)^(alpha_j - beta_j)
        for beta in itertools.product(*[range(k + 1) for k in alpha]):
            c = 1.0
            for j in range(d):
                c *= math.comb(int(alpha[j]), beta[j]) * (-center[j]) ** (int(alpha[j]) - beta[j])
                c /= scale[j] ** int(alpha[j])
            M[a, index[tuple(beta)]] += c
    return M


def monomial_coefficients(coefficients, center, scale):
    r"""Coefficients of the monomials of the raw coordinates: $\Theta_x = \Theta M$ with $\boldsymbol F = \Theta_x\boldsymbol\phi(\boldsymbol x)$.

    $M$ expands each standardised monomial $\prod_j((x_j - m_j)/s_j)^{\alpha_j}$ binomially. The
    column of the monomial $\boldsymbol x^{\boldsymbol\beta}$ has units length$^{1-|\boldsymbol\beta|}$/time.
    For data far from the origin (large $|\boldsymbol m|/\boldsymbol s$) these coefficients are large
    and strongly correlated: the standardised $\Theta$ is the better summary.

    Parameters
    ----------
    coefficients : array_like, shape ``(..., d, p)``
        $\Theta$ in the standardised basis.
    center, scale : array_like, shape ``(d,)``

    Returns
    -------
    numpy.ndarray, shape ``(..., d, p)``.

    Examples
    --------
    >>> monomial_coefficients([[0.0, 2.0]], [1.0], [2.0]).tolist()  # 2 (x - 1)/2 = x - 1
    [[-1.0, 1.0]]
    """
    theta = np.asarray(coefficients, dtype=float)
    degree = _degree_of(theta.shape[-2], theta.shape[-1])
    return theta @ expansion_matrix(center, scale, degree)


def standardised_coefficients(raw, center, scale):
    """Inverse of :func:`monomial_coefficients`: $\\Theta = \\Theta_x M^{-1}$ (shape ``(..., d, p)``)."""
    raw = np.asarray(raw, dtype=float)
    degree = _degree_of(raw.shape[-2], raw.shape[-1])
    M = expansion_matrix(center, scale, degree)
    return np.linalg.solve(M.T, np.swapaxes(raw, -1, -2)).swapaxes(-1, -2)


class PolynomialStatistics(NamedTuple):
    r"""Sufficient statistics of EM transitions under a polynomial drift (module docstring).

    All in the standardised coordinates $\boldsymbol z$: ``center`` ``(d,)`` $\boldsymbol m$ and
    ``scale`` ``(d,)`` $\boldsymbol s$ (length), ``count`` $n$, ``log_steps`` $\sum\ln h_i$,
    ``observed_time`` $\tau = \sum h_i$ (time, all replicas), ``inc_inc`` ``(d, d)``
    $S_{\delta\delta}$ (1/time), ``inc_basis`` ``(d, p)`` $S_{\delta\phi}$, ``basis_basis`` ``(p, p)``
    $S_{\phi\phi}$ (time), ``stratonovich`` ``(p, d)`` $S_{\phi\circ\delta}$. A JAX pytree of float64
    arrays (the degree follows from $p$).
    """

    center: np.ndarray
    scale: np.ndarray
    count: np.ndarray
    log_steps: np.ndarray
    observed_time: np.ndarray
    inc_inc: np.ndarray
    inc_basis: np.ndarray
    basis_basis: np.ndarray
    stratonovich: np.ndarray

    @property
    def degree(self) -> int:
        """Total degree $N$ of the basis."""
        return _degree_of(int(np.shape(self.center)[-1]), int(np.shape(self.basis_basis)[-1]))


def polynomial_statistics(x, times, degree: int, *, center=None, scale=None) -> PolynomialStatistics:
    r"""Sufficient statistics of the EM transitions of observed paths (module docstring).

    Parameters
    ----------
    x : array_like, shape ``(replica, K+1, d)`` or ``(K+1, d)``
        Observed paths (length), all on the same time grid.
    times : float or array_like of shape ``(K+1,)``
        Uniform step, or the observation times (any strictly increasing grid).
    degree : int
        Total degree $N$ of the monomial basis.
    center, scale : array_like of shape ``(d,)``, optional
        $\boldsymbol m$ and $\boldsymbol s$ of the standardisation (default: mean and standard
        deviation of all points, per component).

    Returns
    -------
    PolynomialStatistics
        NumPy float64 arrays.

    Raises
    ------
    InputError
        Bad shapes, NaN/inf, a grid that is not increasing, a constant component (zero
        spread: no diffusion can be estimated), too large a basis.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.cumsum(np.ones((1, 5, 1)), axis=1)
    >>> st = polynomial_statistics(x, 0.25, 1, center=[0.0], scale=[1.0])
    >>> float(st.count), float(st.observed_time), st.inc_inc.tolist(), st.inc_basis.tolist()
    (4.0, 1.0, [[16.0]], [[4.0, 10.0]])
    """
    x, steps = _check_data(x, times)
    R, K1, d = x.shape
    d, degree = _check_basis(d, degree)
    flat = x.reshape(-1, d)
    m = flat.mean(axis=0) if center is None else np.asarray(center, dtype=float)
    s = flat.std(axis=0) if scale is None else np.asarray(scale, dtype=float)
    if m.shape != (d,) or not np.all(np.isfinite(m)):
        raise InputError(f"center must be {d} finite numbers (one per component), got {m!r}.")
    if s.shape != (d,) or not np.all(np.isfinite(s)) or not np.all(s > 0):
        bad = [int(j) for j in np.flatnonzero(~(s > 0))] if s.shape == (d,) else []
        what = (f"component(s) {bad} of the data are constant (zero standard deviation): no "
                "drift or diffusion can be estimated along them; drop those components."
                if center is None and scale is None and bad else
                f"scale must be {d} finite numbers > 0, got {s!r}.")
        raise InputError(what)
    p = n_monomials(d, degree)
    K = K1 - 1
    block = max(1, BLOCK // R)
    parts = {k: [] for k in ("dd", "dp", "pp", "sd")}
    for a in range(0, K, block):
        b = min(a + block, K)
        z0 = (x[:, a:b] - m) / s
        z1 = (x[:, a + 1:b + 1] - m) / s
        h = np.broadcast_to(steps[a:b], z0.shape[:2]).reshape(-1)
        dz = (z1 - z0).reshape(-1, d)
        phi = _basis(z0.reshape(-1, d), degree)
        phim = _basis((0.5 * (z0 + z1)).reshape(-1, d), degree)
        rh = np.sqrt(h)[:, None]
        y = dz / rh
        parts["dd"].append(y.T @ y)
        parts["dp"].append(dz.T @ phi)
        w = phi * rh
        parts["pp"].append(w.T @ w)
        parts["sd"].append(phim.T @ dz)
    tot = {k: np.sum(np.stack(v), axis=0) for k, v in parts.items()}
    all_h = np.broadcast_to(steps, (R, K))
    return PolynomialStatistics(
        center=m.astype(float), scale=s.astype(float), count=np.asarray(float(R * K)),
        log_steps=np.asarray(float(np.sum(np.log(all_h)))),
        observed_time=np.asarray(float(np.sum(all_h))),
        inc_inc=tot["dd"].reshape(d, d), inc_basis=tot["dp"].reshape(d, p),
        basis_basis=tot["pp"].reshape(p, p), stratonovich=tot["sd"].reshape(p, d))


def _internal(stats, coefficients, diffusion):
    """``(G, D_z)`` in the standardised coordinates from the physical ``(Theta, D)``."""
    s = jnp.asarray(stats.scale)
    G = jnp.asarray(coefficients) / s[:, None]
    Dz = jnp.asarray(diffusion) / (s[:, None] * s[None, :])
    return G, Dz


@float64
def polynomial_log_likelihood(stats: PolynomialStatistics, coefficients, diffusion):
    r"""$\sum_i\ln p_{EM}(\boldsymbol x_{i+1}\mid\boldsymbol x_i)$ from statistics, nats (module docstring).

    Parameters
    ----------
    stats : PolynomialStatistics
    coefficients : array_like, shape ``(d, p)``
        $\Theta$ in the standardised basis (length/time).
    diffusion : array_like, shape ``(d, d)``
        $D$, positive definite (length²/time).

    Returns
    -------
    Array, shape ``()``; traceable (``jit``/``grad``/``vmap``), the NUTS factor of the model
    ``polynomial-drift``.
    """
    G, Dz = _internal(stats, coefficients, diffusion)
    d = G.shape[0]
    L = jnp.linalg.cholesky(0.5 * (Dz + Dz.T))
    B = jnp.asarray(stats.inc_basis)
    GB = G @ B.T
    M = jnp.asarray(stats.inc_inc) - GB - GB.T + G @ jnp.asarray(stats.basis_basis) @ G.T
    quad = jnp.trace(cho_solve((L, True), M))
    n = jnp.asarray(stats.count)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(L)))
    return (-0.25 * quad - 0.5 * n * logdet - 0.5 * n * d * math.log(4.0 * math.pi)
            - 0.5 * d * jnp.asarray(stats.log_steps)
            - n * jnp.sum(jnp.log(jnp.asarray(stats.scale))))


def stratonovich_entropy_rate(stats: PolynomialStatistics, coefficients, diffusion):
    r"""$\hat\sigma = \tau^{-1}\sum_i\Delta\boldsymbol x_i^\top D^{-1}\boldsymbol F_\Theta(\bar{\boldsymbol x}_i)$ per parameter draw, nat/time.

    Parameters
    ----------
    stats : PolynomialStatistics
    coefficients : array_like, shape ``(..., d, p)``
        $\Theta$ in the standardised basis (length/time), any leading (draw) axes.
    diffusion : array_like, shape ``(..., d, d)``
        $D$ (length²/time).

    Returns
    -------
    numpy.ndarray, shape ``(...)``; $O(pd + d^3)$ per draw (NumPy).

    Notes
    -----
    As a posterior summary it is **too narrow by a factor of about two**: the path noise it
    contains is the same for every draw, so its posterior sd is about half of the spread of
    its posterior mean over replicate data sets (measured z-score sd 2.2 on the quartic trap of
    docs/polynomial-drift.md). :func:`projected_entropy_rate` is the calibrated estimator.
    """
    theta = np.asarray(coefficients, dtype=float)
    D = np.asarray(diffusion, dtype=float)
    s = np.asarray(stats.scale, dtype=float)
    G = theta / s[:, None]
    Dz = D / (s[:, None] * s[None, :])
    GS = G @ np.asarray(stats.stratonovich, dtype=float)          # (..., d, d)
    X = np.linalg.solve(Dz, GS)                                    # D_z^{-1} G S
    return np.trace(X, axis1=-2, axis2=-1) / float(stats.observed_time)


@lru_cache(maxsize=64)
def _gradient_basis(d: int, degree: int) -> np.ndarray:
    r"""``E (q, d, p)``: $\partial_j$ of the monomials of degree $1..N+1$ in the basis of degree $N$."""
    e = _exponents(d, degree)
    index = {tuple(r): i for i, r in enumerate(e)}
    up = _exponents(d, degree + 1)[1:]
    E = np.zeros((up.shape[0], d, e.shape[0]))
    for b, beta in enumerate(up):
        for j in range(d):
            if beta[j]:
                lower = beta.copy()
                lower[j] -= 1
                E[b, j, index[tuple(lower)]] = beta[j]
    E.setflags(write=False)
    return E


def projected_entropy_rate(stats: PolynomialStatistics, coefficients, diffusion):
    r"""Steady entropy-production rate of the force by the variational formula, on the observed points, nat/time.

    $$\hat\sigma_\perp(\Theta, D) = \min_\psi\frac1\tau\sum_i h_i\big(\boldsymbol F_\Theta - D\nabla\psi\big)^\top
      D^{-1}\big(\boldsymbol F_\Theta - D\nabla\psi\big)(\boldsymbol x_i),$$

    $\psi$ over the polynomials of degree $\le N + 1$ (all polynomial gradient fields of the
    basis). In a steady state $p$, $\sigma = \min_\psi E_p[(\boldsymbol F - D\nabla\psi)^\top D^{-1}
    (\boldsymbol F - D\nabla\psi)]$ with the minimum at $\psi = \ln p$ (the current
    $\boldsymbol j = p(\boldsymbol F - D\nabla\ln p)$ is divergence-free, so the first variation
    $-2\int\boldsymbol j\cdot\nabla\chi$ vanishes); here $E_p$ is the time average over the observed
    pre-points $\boldsymbol x_i$ (weights $h_i$). It is unchanged by adding any polynomial gradient
    field to $\boldsymbol F$ (a conservative force produces no entropy), exact when $\ln p$ is a
    polynomial of degree $\le N + 1$, an upper bound in the long-data limit otherwise. A
    quadratic form of the non-gradient part of $\Theta$: $O(q^3)$ per draw, $q = \binom{d+N+1}{d} - 1$.

    Parameters
    ----------
    stats : PolynomialStatistics
    coefficients : array_like, shape ``(..., d, p)``
        $\Theta$ in the standardised basis (length/time).
    diffusion : array_like, shape ``(..., d, d)``

    Returns
    -------
    numpy.ndarray, shape ``(...)``.
    """
    theta = np.asarray(coefficients, dtype=float)
    D = np.asarray(diffusion, dtype=float)
    s = np.asarray(stats.scale, dtype=float)
    d = s.shape[0]
    G = theta / s[:, None]
    Dz = D / (s[:, None] * s[None, :])
    C = np.asarray(stats.basis_basis, dtype=float)
    E = _gradient_basis(d, _degree_of(d, C.shape[0]))
    EC = E @ C                                                     # (q, d, p)
    P = np.einsum("bja,cka->bjck", EC, E)
    A = np.einsum("...jk,bjck->...bc", Dz, P)                      # (..., q, q)
    g = np.einsum("bja,...ja->...b", EC, G)
    full = np.einsum("...ia,ab,...jb,...ij->...", G, C, G, np.linalg.inv(Dz))
    proj = np.einsum("...b,...b->...", g, np.linalg.solve(A, g[..., None])[..., 0])
    return (full - proj) / float(stats.observed_time)


def prior_scales(stats: PolynomialStatistics):
    r"""The data's scales that set the default priors: ``(diffusion_ref (d,), rate)``.

    $\hat Q = S_{\delta\delta}/(2n)$ estimates $D_z$ from the quadratic variation;
    ``diffusion_ref`` $= \sqrt{\hat Q_{ii}}$ (1/√time, standardised units) and ``rate``
    $\hat r = \mathrm{tr}\hat Q/d$ (1/time): the relaxation rate of a process that explores its
    standard deviation, so that coefficients of order $\hat r$ are forces of order one.
    """
    Q = np.asarray(stats.inc_inc, dtype=float) / (2.0 * float(stats.count))
    ref = np.sqrt(np.diagonal(Q))
    if not np.all(ref > 0):
        raise InputError("the increments of some component are all zero: its diffusion cannot "
                         "be estimated; drop that component.")
    return ref, float(np.trace(Q) / Q.shape[0])


class ConjugatePosterior(NamedTuple):
    r"""Parameters of the Matrix-Normal–Inverse-Wishart posterior (standardised coordinates).

    ``mean`` ``(p, d)`` $M_n$, ``row_root`` ``(p, p)`` a square root $R$ of $V_n$ ($RR^\top = V_n$), ``dof``
    $\nu_n$, ``psi`` ``(d, d)`` $\Psi_n$; ``center``, ``scale`` of the standardisation. The prior
    hyperparameters used: ``prior_dof`` $\nu_0$, ``prior_psi`` $\Psi_0$, ``prior_row_variance`` $v_0$.
    """

    mean: np.ndarray
    row_root: np.ndarray
    dof: float
    psi: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    prior_dof: float
    prior_psi: np.ndarray
    prior_row_variance: float


def conjugate_hyperparameters(stats: PolynomialStatistics, *, coefficient_scale: float = 10.0,
                              dof: float | None = None):
    r"""Default MNIW prior: ``(nu0, Psi0, v0)`` $= (d + 2,\ 2(\nu_0 - d - 1)\,\mathrm{diag}\hat Q,\ c^2\hat r/2)$."""
    c = check_positive("coefficient_scale", coefficient_scale)
    d = int(np.shape(stats.center)[0])
    nu0 = float(d + 2) if dof is None else check_positive("dof", dof)
    if not nu0 > d + 1:
        raise InputError(f"dof must be > d + 1 = {d + 1} (a prior mean of D exists), got {nu0!r}.")
    ref, rate = prior_scales(stats)
    psi0 = 2.0 * (nu0 - d - 1.0) * np.diag(ref**2)
    return nu0, psi0, c * c * rate / 2.0


def conjugate_parameters(stats: PolynomialStatistics, *, coefficient_scale: float = 10.0,
                         dof: float | None = None) -> ConjugatePosterior:
    r"""The exact posterior of the EM likelihood under the MNIW prior (module docstring).

    Parameters
    ----------
    stats : PolynomialStatistics
    coefficient_scale : float
        $c$: the prior sd of the standardised coefficients $G_{ia}$ is about $c\hat r$.
    dof : float, optional
        $\nu_0 > d + 1$ (default $d + 2$).

    Returns
    -------
    ConjugatePosterior
    """
    nu0, psi0, v0 = conjugate_hyperparameters(stats, coefficient_scale=coefficient_scale, dof=dof)
    C = np.asarray(stats.basis_basis, dtype=float)
    p = C.shape[0]
    prec = C + np.eye(p) / v0
    Lp = np.linalg.cholesky(0.5 * (prec + prec.T))
    Bt = np.asarray(stats.inc_basis, dtype=float).T                 # (p, d)
    Mn = np.linalg.solve(Lp.T, np.linalg.solve(Lp, Bt))             # V_n B^T
    W = np.linalg.solve(Lp, Bt)                                     # Lp^{-1} B^T: M^T V^-1 M = W^T W
    psi = psi0 + np.asarray(stats.inc_inc, dtype=float) - W.T @ W
    psi = 0.5 * (psi + psi.T)
    row_root = np.linalg.solve(Lp.T, np.eye(p))                     # R R^T = V_n (upper R)
    return ConjugatePosterior(Mn, row_root, nu0 + float(stats.count), psi,
                              np.asarray(stats.center, float), np.asarray(stats.scale, float),
                              nu0, psi0, v0)


def sample_conjugate(post: ConjugatePosterior, key, n_draws: int):
    r"""Independent draws ``(coefficients (n, d, p), diffusion (n, d, d))`` in physical units.

    $\Sigma^{-1}\sim\mathcal W(\nu_n, \Psi_n^{-1})$ by the Bartlett decomposition, then
    $G^\top = M_n + R\,Z\,(\Sigma^{1/2})^\top$ with $RR^\top = V_n$, $Z$ standard normal;
    $\Theta = SG$, $D = S\Sigma S/2$. The numbers come from NumPy's generator seeded with the
    key's data (``jax.random.key_data``): the same key gives the same draws, and no sampler is
    compiled.

    Parameters
    ----------
    post : ConjugatePosterior
    key : jax.random key (or a NumPy ``Generator``)
    n_draws : int

    Returns
    -------
    tuple of numpy.ndarray
    """
    n_draws = check_int("n_draws", n_draws, minimum=1)
    if isinstance(key, np.random.Generator):
        rng = key
    else:
        rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())
    psi = np.asarray(post.psi, dtype=float)
    mean = np.asarray(post.mean, dtype=float)
    d, p = psi.shape[0], mean.shape[0]
    Lpi = np.linalg.cholesky(np.linalg.inv(psi))                    # chol(Psi^-1)
    chi2 = rng.chisquare(float(post.dof) - np.arange(d), size=(n_draws, d))
    A = np.tril(rng.standard_normal((n_draws, d, d)), -1)
    A[:, np.arange(d), np.arange(d)] = np.sqrt(chi2)
    F = Lpi[None] @ A                                               # precision = F F^T
    root = np.swapaxes(np.linalg.inv(F), -1, -2)                    # Sigma = root root^T
    Sigma = root @ np.swapaxes(root, -1, -2)
    Z = rng.standard_normal((n_draws, p, d))
    Wt = mean[None] + np.asarray(post.row_root)[None] @ Z @ np.swapaxes(root, -1, -2)
    s = np.asarray(post.scale, dtype=float)
    theta = np.swapaxes(Wt, -1, -2) * s[None, :, None]
    D = 0.5 * Sigma * (s[:, None] * s[None, :])[None]
    return theta, D

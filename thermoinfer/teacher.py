r"""Teacher–student data of [NJP] (docs/theory/model.md, "Teacher-student learning").

A teacher perceptron $\boldsymbol T\in\mathbb R^N$ defines the rule
$\sigma_T=\mathrm{sgn}(u)$, $u=\boldsymbol T\cdot\boldsymbol\xi/\sqrt N$, with $\mathrm{sgn}(0)\to+1$
(docs/theory/units.md). Teacher prior (a named option, docs/theory/conventions.md):

* ``"sphere"`` (default): uniform on the sphere $|\boldsymbol T|^2=N$ (a normalised Gaussian vector);
* ``"gaussian"``: $\boldsymbol T\sim\mathcal N(0,\mathbb 1)$, so $|\boldsymbol T|^2/N=1+O(N^{-1/2})$.

Inputs $\boldsymbol\xi\in\{\pm1\}^N$ (``"binary"``, default) or $\mathcal N(0,\mathbb 1)$
(``"gaussian"``), as in :mod:`thermoinfer.tasks`. Batch learning uses $P=\mathrm{round}(\alpha N)$ fixed
samples per replica (:func:`teacher_student_data`, a :class:`~thermoinfer.tasks.MemorizationData`-
compatible object that :func:`thermoinfer.dynamics.simulate` accepts); online learning draws a fresh
sample per update inside the simulator (:mod:`thermoinfer.online`), with the same helpers
:func:`teacher_vector`, :func:`draw_inputs` and :func:`teacher_labels`. All randomness comes from
explicit PRNG keys.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._x64 import float64
from .errors import InputError, check_choice
from .tasks import INPUT_KINDS, number_of_patterns

__all__ = [
    "TEACHER_PRIORS",
    "INPUT_KINDS",
    "TeacherStudentData",
    "teacher_vector",
    "draw_inputs",
    "teacher_fields",
    "teacher_labels",
    "teacher_student_data",
]

#: teacher priors (docs/theory/conventions.md)
TEACHER_PRIORS = ("sphere", "gaussian")


class TeacherStudentData(NamedTuple):
    """Batch teacher–student data, one data set and one teacher per replica.

    Compatible with :class:`~thermoinfer.tasks.MemorizationData` (``inputs``, ``labels``) so that
    :func:`thermoinfer.dynamics.simulate` runs it unchanged. Dimensionless.

    Attributes
    ----------
    inputs : Array
        $\\boldsymbol\\xi^\\mu$, shape ``(replica, pattern, weight)``.
    labels : Array
        $\\sigma_T^\\mu=\\mathrm{sgn}(\\boldsymbol T\\cdot\\boldsymbol\\xi^\\mu/\\sqrt N)\\in\\{\\pm1\\}$,
        shape ``(replica, pattern)``.
    teacher : Array
        $\\boldsymbol T$, shape ``(replica, weight)``.
    """

    inputs: jax.Array
    labels: jax.Array
    teacher: jax.Array

    @property
    def shared(self) -> bool:
        """False: teacher–student data are drawn per replica."""
        return self.inputs.ndim == 2

    @property
    def n_patterns(self) -> int:
        return int(self.inputs.shape[-2])

    @property
    def n_weights(self) -> int:
        return int(self.inputs.shape[-1])


def _check_n(name, value) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise InputError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


def _teacher_one(key, n, prior):
    g = jax.random.normal(key, (n,), dtype=jnp.float64)
    if prior == "sphere":
        return g * (jnp.sqrt(n) / jnp.linalg.norm(g))
    return g


def draw_inputs(key, shape, kind: str = "binary") -> jax.Array:
    r"""Inputs $\pm1$ (``"binary"``, $|\boldsymbol\xi|^2=N$ exactly) or standard Gaussian, float64."""
    if kind == "binary":
        return jax.random.rademacher(key, shape, dtype=jnp.float64)
    return jax.random.normal(key, shape, dtype=jnp.float64)


def teacher_fields(teacher, inputs):
    r"""Teacher fields $u=\boldsymbol T\cdot\boldsymbol\xi/\sqrt N$ (activation units).

    ``teacher`` ``(..., N)``, ``inputs`` ``(..., P, N)`` or ``(..., N)`` (one input per teacher).
    """
    n = teacher.shape[-1]
    if inputs.ndim == teacher.ndim:
        return jnp.sum(teacher * inputs, axis=-1) / jnp.sqrt(n)
    return jnp.einsum("...pn,...n->...p", inputs, teacher) / jnp.sqrt(n)


def teacher_labels(teacher, inputs):
    r"""Labels $\sigma_T=\mathrm{sgn}(\boldsymbol T\cdot\boldsymbol\xi/\sqrt N)$ with $\mathrm{sgn}(0)\to+1$."""
    u = teacher_fields(teacher, inputs)
    return jnp.where(u >= 0, 1.0, -1.0)


@float64
def teacher_vector(key, n_weights: int, *, n_replicas: int | None = None,
                   prior: str = "sphere") -> jax.Array:
    r"""Draw teacher vectors.

    Parameters
    ----------
    key : jax.random key
        Explicit PRNG key.
    n_weights : int
        $N$.
    n_replicas : int, optional
        Number of independent teachers; ``None`` returns one vector of shape ``(N,)``.
    prior : {"sphere", "gaussian"}
        Uniform on $|\boldsymbol T|^2=N$ (default) or $\mathcal N(0,\mathbb 1)$.

    Returns
    -------
    Array ``(N,)`` or ``(n_replicas, N)``, float64.

    Examples
    --------
    >>> import jax, numpy as np
    >>> T = teacher_vector(jax.random.key(0), 100, n_replicas=3)
    >>> T.shape, bool(np.allclose((T**2).sum(-1), 100.0))
    ((3, 100), True)
    """
    check_choice("teacher_prior", prior, TEACHER_PRIORS)
    n = _check_n("N (n_weights)", n_weights)
    if n_replicas is None:
        return _teacher_one(key, n, prior)
    r = _check_n("n_replicas", n_replicas)
    return jax.vmap(lambda kk: _teacher_one(kk, n, prior))(jax.random.split(key, r))


@float64
def teacher_student_data(key, n_weights: int, alpha: float, *, n_replicas: int = 1,
                         inputs: str = "binary", teacher_prior: str = "sphere",
                         teacher=None) -> TeacherStudentData:
    r"""Draw $P=\mathrm{round}(\alpha N)$ samples labelled by a teacher, per replica (batch learning).

    Parameters
    ----------
    key : jax.random key
        Explicit PRNG key (same key, same data).
    n_weights : int
        $N$.
    alpha : float
        Load $\alpha>0$; $P=\mathrm{round}(\alpha N)\ge1$ (the realised load is $P/N$).
    n_replicas : int
        Number of replicas, each with its own teacher and data set.
    inputs : {"binary", "gaussian"}
        $\pm1$ (default) or standard Gaussian inputs.
    teacher_prior : {"sphere", "gaussian"}
        Prior of the teachers (ignored when ``teacher`` is given).
    teacher : array_like, optional
        Teacher vectors ``(n_replicas, N)`` (or ``(N,)``, used for every replica).

    Returns
    -------
    TeacherStudentData

    Examples
    --------
    >>> import jax
    >>> d = teacher_student_data(jax.random.key(0), 20, 0.5, n_replicas=4)
    >>> d.inputs.shape, d.labels.shape, d.teacher.shape
    ((4, 10, 20), (4, 10), (4, 20))
    """
    check_choice("inputs", inputs, INPUT_KINDS)
    check_choice("teacher_prior", teacher_prior, TEACHER_PRIORS)
    p = number_of_patterns(alpha, n_weights)
    n = int(n_weights)
    r = _check_n("n_replicas", n_replicas)
    key_t, key_x = jax.random.split(key)
    if teacher is None:
        T = jax.vmap(lambda kk: _teacher_one(kk, n, teacher_prior))(jax.random.split(key_t, r))
    else:
        T = jnp.asarray(teacher, dtype=jnp.float64)
        if T.ndim == 1:
            T = jnp.broadcast_to(T, (r, T.shape[0]))
        if T.shape != (r, n) or not bool(jnp.all(jnp.isfinite(T))):
            raise InputError(f"teacher must be finite with shape ({r}, {n}) or ({n},), got shape "
                             f"{tuple(jnp.shape(teacher))}.")
    xi = jax.vmap(lambda kk: draw_inputs(kk, (p, n), inputs))(jax.random.split(key_x, r))
    return TeacherStudentData(xi, teacher_labels(T, xi), T)

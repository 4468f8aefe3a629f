r"""Data generators: the memorisation task of [PRL] (docs/theory/model.md, eq. (7)).

$P = \mathrm{round}(\alpha N)\ge1$ patterns $\boldsymbol\xi^\mu\in\{\pm1\}^N$ (or
$\mathcal N(0, \mathbb 1)$, a named option) with random labels $\sigma_T^\mu=\pm1$, independent of
the inputs. The data are drawn per replica (``data_protocol="per_replica"``: every replica has its
own data set, the annealed ensemble) or once for all replicas (``"shared"``: the quenched
ensemble of one data set). Randomness comes only from the explicit PRNG ``key``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._x64 import float64
from .errors import InputError, check_choice, check_int, check_positive

__all__ = [
    "INPUT_KINDS",
    "DATA_PROTOCOLS",
    "MemorizationData",
    "number_of_patterns",
    "memorization_data",
]

INPUT_KINDS = ("binary", "gaussian")
#: largest data array drawn at once (GiB); bigger requests are refused with a clear message
MAX_DATA_GIB = 4.0
DATA_PROTOCOLS = ("per_replica", "shared")


class MemorizationData(NamedTuple):
    """Inputs and labels of a memorisation task.

    ``inputs`` has shape ``(replica, pattern, weight)`` for per-replica data or
    ``(pattern, weight)`` when shared by all replicas; ``labels`` correspondingly
    ``(replica, pattern)`` or ``(pattern,)``. Dimensionless.
    """

    inputs: jax.Array
    labels: jax.Array

    @property
    def shared(self) -> bool:
        """True when one data set is shared by all replicas."""
        return self.inputs.ndim == 2

    @property
    def n_patterns(self) -> int:
        return int(self.inputs.shape[-2])

    @property
    def n_weights(self) -> int:
        return int(self.inputs.shape[-1])


def number_of_patterns(alpha: float, n_weights: int) -> int:
    """$P = \\mathrm{round}(\\alpha N)$, required to be at least 1.

    Raises
    ------
    InputError
        If ``alpha`` or ``n_weights`` is invalid or the product rounds to 0 patterns.
    """
    alpha = check_positive("alpha", alpha, "The load alpha = P/N must be > 0.")
    n_weights = check_int("N (n_weights)", n_weights, "Use an integer number of weights N >= 1.",
                          minimum=1)
    p = round(alpha * n_weights)
    if p < 1:
        raise InputError(
            f"alpha*N = {alpha}*{n_weights} rounds to 0 patterns; increase alpha or N so that "
            "round(alpha*N) >= 1."
        )
    return int(p)


def _draw_inputs(key, shape, kind):
    if kind == "binary":
        return jax.random.rademacher(key, shape, dtype=jnp.float64)
    return jax.random.normal(key, shape, dtype=jnp.float64)


@float64
def memorization_data(key, n_weights: int, alpha: float, *, n_replicas: int = 1,
                      inputs: str = "binary", data_protocol: str = "per_replica",
                      ) -> MemorizationData:
    """Draw the patterns and random labels of the memorisation task.

    Parameters
    ----------
    key : jax.random key
        PRNG key (explicit; same key, same data).
    n_weights : int
        Number of weights $N$.
    alpha : float
        Load $\\alpha$; $P = \\mathrm{round}(\\alpha N)\\ge1$ (the realised load is $P/N$).
    n_replicas : int
        Number of replicas (independent data sets for ``"per_replica"``).
    inputs : {"binary", "gaussian"}
        $\\pm1$ inputs (default; $|\\boldsymbol\\xi|^2 = N$ exactly) or standard Gaussian.
    data_protocol : {"per_replica", "shared"}
        One data set per replica, or one shared by all replicas.

    Returns
    -------
    MemorizationData

    Examples
    --------
    >>> import jax
    >>> d = memorization_data(jax.random.key(0), 10, 0.5, n_replicas=3)
    >>> d.inputs.shape, d.labels.shape
    ((3, 5, 10), (3, 5))
    """
    check_choice("inputs", inputs, INPUT_KINDS)
    check_choice("data_protocol", data_protocol, DATA_PROTOCOLS)
    p = number_of_patterns(alpha, n_weights)
    if int(n_replicas) != n_replicas or n_replicas < 1:
        raise InputError(f"n_replicas must be an integer >= 1, got {n_replicas!r}.")
    n_sets = 1 if data_protocol == "shared" else int(n_replicas)
    gib = n_sets * p * n_weights * 8 / 2**30
    if gib > MAX_DATA_GIB:
        raise InputError(
            f"the data would take {gib:.3g} GiB (replicas x P x N = {n_sets} x {p} x {n_weights} "
            f"float64); the limit is {MAX_DATA_GIB:g} GiB: lower alpha, N or the number of "
            "replicas, or use data_protocol='shared'."
        )
    key_x, key_y = jax.random.split(key)
    if data_protocol == "shared":
        xi = _draw_inputs(key_x, (p, n_weights), inputs)
        sigma = jax.random.rademacher(key_y, (p,), dtype=jnp.float64)
    else:
        kx = jax.random.split(key_x, n_replicas)
        ky = jax.random.split(key_y, n_replicas)
        xi = jax.vmap(lambda k: _draw_inputs(k, (p, n_weights), inputs))(kx)
        sigma = jax.vmap(lambda k: jax.random.rademacher(k, (p,), dtype=jnp.float64))(ky)
    return MemorizationData(xi, sigma)

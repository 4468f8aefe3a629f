"""Float64 at the public entry points, without touching the caller's global JAX config.

Every thermodynamic functional in thermoinfer runs in float64 (path-probability ratios cancel
catastrophically in float32). Importing :mod:`thermoinfer` never flips ``jax_enable_x64``;
instead each public entry point is wrapped in :func:`float64`, which enables 64-bit types for
the duration of the call only (``jax.enable_x64`` is a scoped context manager).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import jax
import numpy as np

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["float64"]


def float64(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a public entry point so that it computes in float64.

    The caller's global configuration is left as it was. Concrete JAX arrays in the result are
    returned as NumPy ``float64`` arrays, so that later arithmetic in a caller that runs JAX in
    32-bit mode cannot silently truncate them; inside a trace (``jit``, ``grad``, ``vmap``) the
    tracers pass through unchanged.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> @float64
    ... def f(x):
    ...     return jnp.asarray(x) * 1.0
    >>> str(f(1.0).dtype)
    'float64'
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with jax.enable_x64(True):
            out = fn(*args, **kwargs)
            return jax.tree.map(_to_numpy, out)

    return wrapper


def _to_numpy(x):
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        return np.asarray(x)
    return x

"""Small helpers shared by the experiment pipelines: explicit keys, replica means with SEs."""

from __future__ import annotations

import math

import jax
import numpy as np

from .errors import InputError, check_seed

__all__ = ["resolve_key", "mean_se"]


def resolve_key(key):
    """Return ``(jax key, seed or None)`` from an int seed or a JAX PRNG key (explicit PRNG)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        seed = check_seed("key (seed)", key)  # [0, 2**63 - 1]: refused outside, never reduced
        return jax.random.key(seed), seed
    if key is None:
        raise InputError("key is required: pass an int seed or a jax.random.key (explicit PRNG).")
    typed = isinstance(key, jax.Array) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    raw = isinstance(key, jax.Array) and key.dtype == np.uint32 and key.shape[-1:] == (2,)
    if not (typed or raw):
        raise InputError(f"key must be an int seed in [0, 2**63 - 1] or a jax.random.key, got "
                         f"{type(key).__name__} {key!r:.60}.")
    return key, None


def mean_se(x, axis=0):
    """Mean and standard error ``std(ddof=1)/sqrt(n)`` along ``axis`` (replicas = independent units)."""
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    m = x.mean(axis=axis)
    se = x.std(axis=axis, ddof=1) / math.sqrt(n) if n > 1 else np.full_like(m, np.nan)
    return m, se

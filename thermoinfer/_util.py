"""Small helpers shared by the experiment pipelines: explicit keys, replica means with SEs."""

from __future__ import annotations

import math

import jax
import numpy as np

from .errors import InputError

__all__ = ["resolve_key", "mean_se"]


def resolve_key(key):
    """Return ``(jax key, seed or None)`` from an int seed or a JAX PRNG key (explicit PRNG)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.key(int(key)), int(key)
    if key is None:
        raise InputError("key is required: pass an int seed or a jax.random.key (explicit PRNG).")
    return key, None


def mean_se(x, axis=0):
    """Mean and standard error ``std(ddof=1)/sqrt(n)`` along ``axis`` (replicas = independent units)."""
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    m = x.mean(axis=axis)
    se = x.std(axis=axis, ddof=1) / math.sqrt(n) if n > 1 else np.full_like(m, np.nan)
    return m, se

"""JAX's persistent compilation cache, on by default for fits and the command line.

Compiling a NUTS sampler takes seconds; the compiled programs do not depend on the data's
length (:mod:`thermoinfer.paths.statistics`), so a cache on disk makes the second run of a fit
start warm, in a new process too. :func:`enable_compilation_cache` points JAX at a folder under
the user's cache directory (``$XDG_CACHE_HOME/thermoinfer/jax``, default
``~/.cache/thermoinfer/jax``), once per process; :func:`thermoinfer.inference.fit.fit` and the
``thermoinfer`` command call it.

Opt out with the environment variable ``THERMOINFER_COMPILATION_CACHE=off`` (or ``0``,
``false``, ``no``); set it to a folder to use that folder. A cache folder the caller gave JAX
(``jax.config.update("jax_compilation_cache_dir", ...)``) is kept as it is. The cache changes
no number: a cached program is the same compiled program.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["enable_compilation_cache", "default_cache_dir", "ENV"]

#: environment variable: ``off`` to disable, or a folder
ENV = "THERMOINFER_COMPILATION_CACHE"
_OFF = {"0", "off", "false", "no"}
#: compilations shorter than this (seconds) are not written to disk (0: all; a cold CLI fit
#: compiles ~180 small programs besides the sampler)
MIN_COMPILE_TIME_S = 0.0


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/thermoinfer/jax``, or ``~/.cache/thermoinfer/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "thermoinfer" / "jax"


def enable_compilation_cache(path=None) -> Path | None:
    """Use a persistent compilation cache for JAX in this process.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The folder (default: the environment variable, else :func:`default_cache_dir`).

    Returns
    -------
    pathlib.Path or None
        The folder in use, or ``None`` when disabled (environment variable) or when the folder
        cannot be created (then nothing is cached and nothing fails).
    """
    env = os.environ.get(ENV, "").strip()
    if path is None and env.lower() in _OFF:
        return None
    import jax

    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    folder = Path(path or env or default_cache_dir()).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_S)
    return folder

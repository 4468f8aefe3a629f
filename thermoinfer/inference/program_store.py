r"""Traced sampler programs kept on disk, so that a second process neither traces nor lowers.

JAX's persistent compilation cache (:mod:`thermoinfer.compilation_cache`) skips the *compile*
step of a program seen before, but every new process still traces the model (Python) and
lowers the trace to StableHLO before it can look the program up: for a NUTS sampler that is
several seconds, more than the sampling of a few hundred frames. This module keeps the traced
and lowered programs themselves, serialised with :mod:`jax.export`, in a folder next to the
compilation cache (``<cache>/programs``); a later process deserialises them and hands them to
XLA (whose compiled binary the compilation cache then provides).

A stored program is found by a key that covers everything that could change it:

* the source of every module of the ``thermoinfer`` package and of the model's file;
* the model's static arguments and options, the sampler settings, the shapes and dtypes of the
  traced arguments (data statistics, keys);
* the versions of jax, jaxlib and numpyro, and the JAX platform.

Only programs of **model files** (a module with a ``__file__``: the built-in models and a
user's model loaded from a path) are stored: a function defined in a notebook or a closure
over Python values has no source that a key could cover. A model file that imports helper
modules of its own is keyed on its own source only: after editing such a helper, clear the
folder (or set ``THERMOINFER_COMPILATION_CACHE=off`` for the run).

The same serialised program runs whether it was just exported or loaded, so the draws of a fit
do not depend on whether the store was warm. Writes are atomic (temporary file + rename); an
unreadable or stale file is ignored and replaced.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["store_folder", "code_digest", "load", "save"]

#: file format version (bumped when the layout of a stored file changes)
FORMAT = 1


def store_folder() -> Path | None:
    """``<compilation cache>/programs``, or ``None`` when the compilation cache is off."""
    import jax

    current = jax.config.jax_compilation_cache_dir
    if not current:
        return None
    return Path(current) / "programs"


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _versions() -> str:
    import jax
    import jaxlib
    import numpyro

    return f"jax={jax.__version__};jaxlib={jaxlib.__version__};numpyro={numpyro.__version__}"


def code_digest(model) -> str | None:
    """Digest of the package's and the model file's source, or ``None`` for a model without a
    source file (then nothing is stored)."""
    module = sys.modules.get(getattr(model, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if path is None or getattr(model, "__closure__", None):
        return None
    try:
        source = Path(path).read_bytes()
    except OSError:
        return None
    h = hashlib.sha256()
    h.update(_package_digest().encode())
    h.update(source)
    h.update(getattr(model, "__qualname__", "").encode())
    h.update(_versions().encode())
    return h.hexdigest()


def _path(folder: Path, key: str) -> Path:
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.npz"


def load(folder: Path | None, key: str, names) -> dict | None:
    """The stored programs ``{name: jax.export.Exported}`` of ``key``, or ``None``."""
    if folder is None:
        return None
    path = _path(folder, key)
    if not path.is_file():
        return None
    from jax import export

    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            if str(f["key"]) != key or int(f["format"]) != FORMAT:
                return None
            return {n: export.deserialize(bytearray(f[n].tobytes())) for n in names}
    except Exception:  # a truncated or foreign file: recompute (and overwrite) it
        return None


def save(folder: Path | None, key: str, programs: dict) -> Path | None:
    """Write ``programs`` (``{name: Exported}``) atomically; ``None`` if the folder is not
    writable (then nothing is stored and nothing fails)."""
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {n: np.frombuffer(bytes(e.serialize()), dtype=np.uint8)
                  for n, e in programs.items()}
        path = _path(folder, key)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, key=np.array(key), format=np.array(FORMAT), **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
    except Exception:
        return None

"""The one exception type for bad input.

Every public function answers bad input with :class:`InputError` (a :class:`ValueError`) whose
message names the argument, the value it got, and the fix. The CLI turns it into one line on
stderr and exit status 2.
"""

from __future__ import annotations

import math

__all__ = ["InputError", "check_positive", "check_nonnegative", "check_finite", "check_choice",
           "check_array"]


class InputError(ValueError):
    """Bad input: the message names the argument, the value and the fix."""


def _show(value) -> str:
    """``repr`` without NumPy type names (``np.float64(1.0)`` -> ``1.0``)."""
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
    except ImportError:  # pragma: no cover
        pass
    return repr(value)


def check_finite(name: str, value, fix: str = "") -> float:
    """Return ``float(value)``; raise :class:`InputError` unless it is a finite number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {_show(value)}. {fix}".strip()) from None
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {_show(value)}. {fix}".strip())
    return v


def check_positive(name: str, value, fix: str = "", *, allow_inf: bool = False) -> float:
    """Return ``float(value)``; raise :class:`InputError` unless it is a number > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number > 0, got {_show(value)}. {fix}".strip()) from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or v <= 0:
        what = "a number > 0" + (" (inf allowed)" if allow_inf else "")
        raise InputError(f"{name} must be {what}, got {_show(value)}. {fix}".strip())
    return v


def check_nonnegative(name: str, value, fix: str = "", *, allow_inf: bool = False) -> float:
    """Return ``float(value)``; raise :class:`InputError` unless it is a number >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number >= 0, got {_show(value)}. {fix}".strip()) from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or v < 0:
        what = "a number >= 0" + (" (inf allowed)" if allow_inf else "")
        raise InputError(f"{name} must be {what}, got {_show(value)}. {fix}".strip())
    return v


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``; else raise :class:`InputError`."""
    if value not in choices:
        raise InputError(f"{name} must be one of {sorted(choices)}, got {_show(value)}.")
    return value


def check_array(name: str, value, *, minimum: float, strict: bool, allow_inf: bool, what: str,
                fix: str):
    """Validate a number or array against ``> minimum`` (``strict``) or ``>= minimum``.

    Returns the values as a float ``numpy`` array; a JAX tracer (inside ``jit``/``grad``) is
    returned unchanged, unchecked. The error names ``name`` (``what`` it is), the first bad value
    and its index, and ``fix``.
    """
    try:
        import jax

        if isinstance(value, jax.core.Tracer):
            return value
    except ImportError:  # pragma: no cover
        pass
    import numpy as np

    if isinstance(value, bool):
        raise InputError(f"{name} ({what}) must be a number, got {_show(value)}. {fix}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} ({what}) must be a number or an array of numbers, got "
                         f"{_show(value)}. {fix}") from None
    bad = np.isnan(arr) | (arr <= minimum if strict else arr < minimum)
    if not allow_inf:
        bad |= np.isinf(arr)
    if bad.any():
        first = float(arr[bad].flat[0])
        where = f" at index {tuple(int(i) for i in np.argwhere(bad)[0])}" if arr.ndim else ""
        rel = ">" if strict else ">="
        fin = " (inf allowed)" if allow_inf else " and finite"
        raise InputError(f"{name} ({what}) must be {rel} {minimum:g}{fin}, got {first!r}{where}. "
                         f"{fix}")
    return arr

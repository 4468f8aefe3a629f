"""The one exception type for bad input.

Every public function answers bad input with :class:`InputError` (a :class:`ValueError`) whose
message names the argument, the value it got, and the fix. The CLI turns it into one line on
stderr and exit status 2.

The ``check_*`` helpers accept real numbers only: Python ``int``/``float``, NumPy integer and
floating scalars and 0-d arrays (and, for :func:`check_array` / :func:`check_numeric`, nested
lists and arrays of them). Booleans, strings, ``None``, complex numbers and other objects are
refused with an :class:`InputError` naming the argument, never converted (``True`` is not a
temperature, ``"1.5"`` is not a number).
"""

from __future__ import annotations

import math
import numbers

__all__ = ["InputError", "check_positive", "check_nonnegative", "check_finite", "check_choice",
           "check_array", "check_number", "check_numeric", "check_int", "check_seed", "SEED_MAX"]

#: largest accepted seed: seeds are integers in ``[0, SEED_MAX]`` (64-bit signed range, the range
#: both JAX and NumPy accept); larger or negative seeds are refused, never reduced silently
SEED_MAX = 2**63 - 1


class InputError(ValueError):
    """Bad input: the message names the argument, the value and the fix."""


def _show(value) -> str:
    """``repr`` without NumPy type names (``np.float64(1.0)`` -> ``1.0``), shortened."""
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
    except ImportError:  # pragma: no cover
        pass
    text = repr(value)
    return text if len(text) <= 120 else text[:100] + " ... " + text[-10:]


def _kind(value) -> str | None:
    """``None`` if ``value`` is a real number (or a nested list/array of them, or a JAX value),
    else a word for what it is (``"a boolean"``, ``"a string"``, ...)."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, (str, bytes)):
        return "a string"
    if value is None:
        return "None"
    if isinstance(value, (numbers.Integral, numbers.Real)) and not isinstance(value, complex):
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "b":
            return "a boolean array"
        if value.dtype.kind in "iuf":
            return None
        if value.dtype.kind == "O":
            for v in value.flat:
                k = _kind(v)
                if k is not None:
                    return k
            return None
        return f"an array of dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        for v in value:
            k = _kind(v)
            if k is not None:
                return k if k.startswith("a list") else f"a list containing {k}"
        return None
    if isinstance(value, (complex, np.complexfloating)):
        return "a complex number"
    try:
        import jax

        if isinstance(value, (jax.Array, jax.core.Tracer)):
            if value.dtype == bool:
                return "a boolean array"
            return None
    except ImportError:  # pragma: no cover
        pass
    return f"a {type(value).__name__}"


def _real(name: str, value, need: str, fix: str) -> float:
    """``float(value)`` for a real scalar; InputError otherwise (``need`` says what is wanted)."""
    import numpy as np

    kind = _kind(value)
    if kind is None and np.ndim(value) != 0:
        kind = f"an array of shape {np.shape(value)}"
    if kind is not None:
        raise InputError(f"{name} must be {need}, got {kind} ({_show(value)}). {fix}".strip())
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be {need}, got {_show(value)}. {fix}".strip()) from None


def check_number(name: str, value, fix: str = "") -> float:
    """Return ``float(value)`` for a real number (inf and NaN allowed); else :class:`InputError`."""
    return _real(name, value, "a number", fix)


def check_finite(name: str, value, fix: str = "") -> float:
    """Return ``float(value)``; raise :class:`InputError` unless it is a finite number."""
    v = _real(name, value, "a number", fix)
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {_show(value)}. {fix}".strip())
    return v


def check_positive(name: str, value, fix: str = "", *, allow_inf: bool = False) -> float:
    """Return ``float(value)``; raise :class:`InputError` unless it is a number > 0."""
    v = _real(name, value, "a number > 0", fix)
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or v <= 0:
        what = "a number > 0" + (" (inf allowed)" if allow_inf else "")
        raise InputError(f"{name} must be {what}, got {_show(value)}. {fix}".strip())
    return v


def check_nonnegative(name: str, value, fix: str = "", *, allow_inf: bool = False) -> float:
    """Return ``float(value)``; raise :class:`InputError` unless it is a number >= 0."""
    v = _real(name, value, "a number >= 0", fix)
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or v < 0:
        what = "a number >= 0" + (" (inf allowed)" if allow_inf else "")
        raise InputError(f"{name} must be {what}, got {_show(value)}. {fix}".strip())
    return v


def check_int(name: str, value, fix: str = "", *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``int(value)`` for an integer (or an integral float such as ``64.0``) within
    ``[minimum, maximum]``; booleans, strings, fractions and non-finite values are refused."""
    rng = ""
    if minimum is not None and maximum is not None:
        rng = f" in [{minimum}, {maximum}]"
    elif minimum is not None:
        rng = f" >= {minimum}"
    elif maximum is not None:
        rng = f" <= {maximum}"
    need = f"an integer{rng}"
    import numpy as np

    kind = _kind(value)
    if kind is None and np.ndim(value) != 0:
        kind = f"an array of shape {np.shape(value)}"
    if kind is not None:
        raise InputError(f"{name} must be {need}, got {kind} ({_show(value)}). {fix}".strip())
    if isinstance(value, (numbers.Integral, np.integer)):
        v = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or f != math.floor(f):
            raise InputError(f"{name} must be {need}, got {_show(value)}. {fix}".strip())
        v = int(f)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise InputError(f"{name} must be {need}, got {_show(value)}. {fix}".strip())
    return v


def check_seed(name: str, value) -> int:
    """Return the seed as an ``int``; seeds are integers in ``[0, SEED_MAX]`` (2**63 - 1).

    Larger, negative, fractional or non-integer seeds are refused (never reduced modulo
    anything: a reduced seed would silently collide with another)."""
    return check_int(name, value, "Pass an integer seed such as 0 or 12345.", minimum=0,
                     maximum=SEED_MAX)


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``; else raise :class:`InputError`."""
    try:
        ok = value in choices
    except TypeError:  # unhashable
        ok = False
    if not ok:
        raise InputError(f"{name} must be one of {sorted(choices)}, got {_show(value)}.")
    return value


def check_numeric(name: str, value, fix: str = ""):
    """Refuse booleans, strings and other non-numbers (also inside lists/arrays) with
    :class:`InputError`; return ``value`` unchanged. JAX tracers pass unchecked."""
    kind = _kind(value)
    if kind is not None:
        raise InputError(f"{name} must be a number or an array of numbers, got {kind} "
                         f"({_show(value)}). {fix}".strip())
    return value


def check_array(name: str, value, *, minimum: float, strict: bool, allow_inf: bool, what: str,
                fix: str):
    """Validate a number or array against ``> minimum`` (``strict``) or ``>= minimum``.

    Returns the values as a float ``numpy`` array; a JAX tracer (inside ``jit``/``grad``) is
    returned unchanged, unchecked. The error names ``name`` (``what`` it is), the first bad value
    and its index, and ``fix``. Booleans and strings are refused.
    """
    try:
        import jax

        if isinstance(value, jax.core.Tracer):
            return value
    except ImportError:  # pragma: no cover
        pass
    import numpy as np

    kind = _kind(value)
    if kind is not None:
        raise InputError(f"{name} ({what}) must be a number or an array of numbers, got {kind} "
                         f"({_show(value)}). {fix}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
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

"""Job-size estimates: refuse a simulation before it starts when it is too long or too large.

Every simulation estimates, from its arguments alone, the number of time steps (``t/dt``, or the
number of online samples), the work (steps x replicas x N weight updates) and the memory it will
hold (recorded trajectories, per-replica data sets, the replica state). It is refused with one
:class:`~thermoinfer.errors.InputError` stating the estimate and how to override when

* the number of time steps exceeds ``max_steps`` (default :data:`DEFAULT_MAX_STEPS` = 10**7;
  CLI ``--max-steps``, API ``max_steps=``; ``None`` or ``inf`` lifts the limit), or
* the estimated memory exceeds the memory available on this machine (not overridable: lower
  ``--replicas``, ``--N`` or record less often).
"""

from __future__ import annotations

import math
import os

from .errors import InputError

__all__ = ["DEFAULT_MAX_STEPS", "available_memory", "check_job", "check_max_steps",
           "check_batch_job", "simulation_steps", "format_bytes"]

#: default limit on the number of time steps of one simulation (about a minute of work for
#: N = 200 and 64 replicas on one core); raise it with ``--max-steps`` / ``max_steps=``
DEFAULT_MAX_STEPS = 10**7

_FLOAT = 8  # bytes per float64


def available_memory() -> int | None:
    """Bytes of memory available to a new job (psutil, else /proc/meminfo); None if unknown."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - psutil missing or unsupported platform
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """``1.5e9`` -> ``'1.5 GB'``."""
    if not math.isfinite(n):
        return "inf bytes"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def check_max_steps(max_steps) -> float:
    """Validate ``max_steps`` (an integer >= 1, or None/inf for no limit); return it as a float."""
    if max_steps is None:
        return math.inf
    if isinstance(max_steps, (bool, str, bytes)):
        raise InputError(f"max_steps must be an integer >= 1 or None (no limit), got {max_steps!r}.")
    try:
        v = float(max_steps)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"max_steps must be an integer >= 1 or None (no limit), got "
                         f"{max_steps!r}.") from None
    if math.isnan(v) or v < 1 or (math.isfinite(v) and v != math.floor(v)):
        raise InputError(f"max_steps must be an integer >= 1 or None (no limit), got {max_steps!r}.")
    return v


def check_job(*, what: str, steps: float, replicas: int, n_weights: int, memory: float,
              max_steps, steps_text: str, override: str = "--max-steps N (API: max_steps=N)"):
    """Refuse a job whose ``steps`` exceed ``max_steps`` or whose ``memory`` (bytes) exceeds the
    available memory; ``steps_text`` says how the steps were counted (e.g. ``"t/dt"``)."""
    limit = check_max_steps(max_steps)
    work = steps * replicas * n_weights
    if steps > limit:
        raise InputError(
            f"{what}: {_num(steps)} time steps ({steps_text}; {_num(work)} weight updates for "
            f"{replicas} replicas x N = {n_weights}, about {format_bytes(memory)} of memory) exceed "
            f"the limit of {_num(limit)} steps; shorten the run or coarsen the step, or raise the "
            f"limit with {override}."
        )
    avail = available_memory()
    if avail is not None and memory > avail:
        raise InputError(
            f"{what}: the job needs about {format_bytes(memory)} of memory ({_num(steps)} time "
            f"steps, {replicas} replicas x N = {n_weights}), more than the "
            f"{format_bytes(avail)} available; lower the replicas or N, record less often "
            "(--record-every) or use shared data."
        )


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "inf"
    return f"{x:.3g}" if x >= 1e6 else f"{int(round(x))}"


def simulation_steps(*, exact: bool, t: float, dt, record_every) -> tuple[float, float]:
    """``(time steps, records)`` a batch simulation will take, as floats (no overflow), by the
    rules of :func:`thermoinfer.dynamics.simulate`: no step at ``t = 0``; one exact step to
    ``t`` for exact OU sampling without ``dt``; otherwise ``ceil(t/dt)`` rounded up to a
    multiple of ``record_every``."""
    per = float(record_every or 1)
    if t == 0:
        return 0.0, 0.0
    if exact and dt is None:
        return 1.0, (1.0 if record_every is None else 0.0)
    step = t if dt is None else float(dt)
    if math.isinf(t):
        return math.inf, math.inf
    try:
        n = t / step
    except (OverflowError, ZeroDivisionError):
        n = math.inf
    if not math.isfinite(n):
        return math.inf, math.inf
    n = max(1.0, float(math.ceil(round(n, 9))) if n < 1e15 else n)
    n = per * math.ceil(n / per) if n / per < 1e15 else max(n, per)
    return n, n / per


def check_batch_job(*, what: str, exact: bool, t: float, dt, record_every, N: int, P: int,
                    R: int, shared: bool, max_steps) -> None:
    """Estimate and check a batch Langevin simulation (memorisation, batch teacher-student):
    steps ``t/dt``; memory: data ``R x P x N`` floats (``P x N`` when shared), recorded paths
    ``R x (records + 1) x N`` floats, the replica state."""
    if not exact and math.isinf(t):
        return  # refused by the simulator with its own message (t = inf needs exact sampling)
    steps, records = simulation_steps(exact=exact, t=t, dt=dt, record_every=record_every)
    memory = _FLOAT * ((1 if shared else R) * float(P) * N + R * float(P)
                       + (R * (records + 1) * N if record_every is not None else 0)
                       + 12.0 * R * N)
    if dt is None:
        text = f"t = {t:g} in one exact step" if exact else f"one step of t = {t:g}"
    else:
        text = f"t/dt = {t:g}/{dt:g}"
        if record_every is not None and record_every > 1:
            text += f", rounded up to a multiple of record_every = {record_every:g}"
    check_job(what=what, steps=steps, replicas=R, n_weights=N, memory=memory,
              max_steps=max_steps, steps_text=text)

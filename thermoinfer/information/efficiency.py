r"""Learning efficiency with the bound checked, never hiding a violation (docs/theory/thermodynamics-and-bound.md,
eq. (22)–(23) and "Why feedback rules carry a flag").

$$\eta = \frac{I}{\Delta S(\boldsymbol\omega) + \Delta Q/T}\le 1,\qquad
\text{margin} = \Delta S(\boldsymbol\omega) + \Delta Q/T - I .$$

For memorisation $I = \sum_\mu I(\sigma_T^\mu:\sigma^\mu)$; for teacher–student learning
$I = I(\boldsymbol T:\boldsymbol\omega)$. The efficiency is a plain number only when it is
meaningful. It is NaN, with a status code naming the reason, when

* the margin is negative (``bound_violated``),
* the rule's kicks are feedback that the naive bound does not account for
  (``feedback_uncorrected``, online Perceptron/AdaTron under ``kick_relaxation``),
* the cost $\Delta S + \Delta Q/T$ is not positive, e.g. at $t = 0$ (``no_cost``),
* an input is NaN, e.g. an entropy estimate that failed (``undefined``; the bound is then
  neither satisfied nor violated and ``bound_satisfied`` is False).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .._x64 import float64

__all__ = ["EfficiencyResult", "EFFICIENCY_STATUS", "efficiency", "status_name"]

#: status codes of :func:`efficiency`; the data layer stores the names.
EFFICIENCY_STATUS: tuple[str, ...] = ("ok", "bound_violated", "feedback_uncorrected", "no_cost",
                                      "undefined")


class EfficiencyResult(NamedTuple):
    """Efficiency and its bound check. All fields broadcast to a common shape."""

    efficiency: object
    """$\\eta$ (dimensionless), NaN where not meaningful."""
    margin: object
    """$\\Delta S + \\Delta Q/T - I$, nats."""
    bound_satisfied: object
    """``margin >= -atol`` (bool)."""
    feedback_uncorrected: object
    """bool: the bound lacks a measurement-information term for this rule/convention."""
    status: object
    """int code into :data:`EFFICIENCY_STATUS`."""


@float64
def efficiency(information, entropy_change, medium_entropy_change, *, feedback_uncorrected=False,
               atol=0.0) -> EfficiencyResult:
    r"""Learning efficiency $\eta = I/(\Delta S + \Delta Q/T)$ with the bound flags.

    Parameters
    ----------
    information : array_like
        Information acquired, $I$ (nats).
    entropy_change : array_like
        Entropy change of the weights, $\Delta S(\boldsymbol\omega)$ (nats).
    medium_entropy_change : array_like
        Heat in entropy units, $\Delta Q/T$ (nats).
    feedback_uncorrected : bool or array_like of bool
        True when the learning kicks depend on the weights under ``kick_relaxation``
        (docs/theory/thermodynamics-and-bound.md, "Why feedback rules carry a flag"); the
        efficiency is then NaN whatever the margin.
    atol : float
        Tolerance of the bound check in nats (0 by default: the margin must be $\ge 0$).

    Returns
    -------
    EfficiencyResult

    Examples
    --------
    >>> r = efficiency(0.5, 0.3, 0.4)
    >>> float(r.efficiency), bool(r.bound_satisfied), EFFICIENCY_STATUS[int(r.status)]
    (0.7142857142857143, True, 'ok')
    >>> r = efficiency(0.5, 0.0, 0.0)   # information gained at no cost: flagged, not reported
    >>> bool(jnp.isnan(r.efficiency)), EFFICIENCY_STATUS[int(r.status)]
    (True, 'bound_violated')
    """
    information = jnp.asarray(information, dtype=float)
    cost = jnp.asarray(entropy_change, dtype=float) + jnp.asarray(medium_entropy_change, dtype=float)
    margin = cost - information
    fb = jnp.asarray(feedback_uncorrected, dtype=bool)
    ok_bound = margin >= -atol
    positive = cost > 0
    raw = information / jnp.where(positive, cost, 1.0)
    undefined = jnp.isnan(margin)
    status = jnp.where(
        undefined, 4, jnp.where(~ok_bound, 1, jnp.where(fb, 2, jnp.where(~positive, 3, 0)))
    ).astype(jnp.int32)
    eta = jnp.where(status == 0, raw, jnp.nan)
    shape = jnp.broadcast_shapes(eta.shape, fb.shape)
    return EfficiencyResult(
        efficiency=jnp.broadcast_to(eta, shape),
        margin=jnp.broadcast_to(margin, shape),
        bound_satisfied=jnp.broadcast_to(ok_bound, shape),
        feedback_uncorrected=jnp.broadcast_to(fb, shape),
        status=jnp.broadcast_to(status, shape),
    )


def status_name(code) -> str:
    """Name of an efficiency status code (see :data:`EFFICIENCY_STATUS`)."""
    return EFFICIENCY_STATUS[int(code)]

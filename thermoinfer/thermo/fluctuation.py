r"""Fluctuation-theorem diagnostics with standard errors and effective-sample-size gates.

Every identity here is an exponential average $\langle e^{-X}\rangle$ over independent trajectories
(docs/theory/paths-and-entropy-production.md): the integral fluctuation theorem (IFT) with a
**named reverse-start distribution** $\tilde p$, the Jarzynski equality (inclusive work, $\Delta F$),
the Bochkov–Kuzovlev identity (exclusive work), and, only where it is guaranteed, the detailed
fluctuation theorem (DFT).

* IFT, $\tilde p = p_t$: $X = \Delta s_{tot} = \ln p_0(\omega_0) - \ln p_t(\omega_t) + q/T$, expected $1$;
* IFT, $\tilde p = p_0$: $X = w/T$ (this is Bochkov–Kuzovlev), expected $1$;
* IFT, $\tilde p = p_\infty$: $X = \ln p_0(\omega_0) - \ln p_\infty(\omega_t) + q/T$, expected $1$;
* Jarzynski: $X = w_J/T$ with $w_J = -\nu\sum_\mu G_\mu(A^\mu(\omega_0))$, expected
  $Z/Z_0 = e^{-\Delta F/T}$;
* Bochkov–Kuzovlev: $X = w/T$ with $w = \int\boldsymbol f\circ d\boldsymbol\omega$, expected $1$.

Exponential averages are dominated by rare trajectories (docs/theory/numerics.md, eq. (99)). Each estimate is gated by
the effective sample size of its weights $e^{-X}$,

$$\mathrm{ESS} = \frac{(\sum_r e^{-X_r})^2}{\sum_r e^{-2X_r}},$$

and when $\mathrm{ESS}$ is below ``min_ess`` (default 100) the result carries no number: its value
is NaN, ``status == "unreliable_ess"``, and an :class:`UnreliableEstimateWarning` is issued. All
averages are computed with a shift by $\min X$ (log scale), so large exponents neither overflow nor
underflow, and ``log_value`` stays finite where ``value`` would not.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = [
    "DEFAULT_MIN_ESS",
    "UnreliableEstimateWarning",
    "ExponentialAverage",
    "Moments",
    "FluctuationCheck",
    "exponential_average",
    "mean_and_variance",
    "integral_fluctuation_theorem",
    "jarzynski",
    "bochkov_kuzovlev",
    "detailed_fluctuation_theorem",
]

#: Default minimum effective sample size of the weights $e^{-X}$ below which no number is given.
DEFAULT_MIN_ESS = 100.0


class UnreliableEstimateWarning(UserWarning):
    """An exponential average could not be estimated: too few effective samples (ESS)."""


class ExponentialAverage(NamedTuple):
    r"""$\langle e^{-X}\rangle$ from samples, with its standard error and ESS.

    ``value``/``se``/``log_value``/``log_se`` are NaN unless ``status == "ok"``.
    """

    value: float
    r"""$\overline{e^{-X}}$."""
    se: float
    r"""Standard error $\mathrm{SD}(e^{-X})/\sqrt n$."""
    log_value: float
    r"""$\ln\overline{e^{-X}}$ (finite even when ``value`` overflows)."""
    log_se: float
    r"""Standard error of ``log_value`` (delta method, $\mathrm{se}/\mathrm{value}$)."""
    ess: float
    r"""Effective sample size $(\sum w)^2/\sum w^2$ of the weights $w = e^{-X}$."""
    n: int
    """Number of samples."""
    status: str
    """``"ok"``, ``"unreliable_ess"`` or ``"nonfinite"``."""


class Moments(NamedTuple):
    """Sample mean and variance with their standard errors (independent samples)."""

    mean: float
    mean_se: float
    r"""$s/\sqrt n$."""
    variance: float
    """Unbiased sample variance."""
    variance_se: float
    r"""$\sqrt{(m_4 - s^4)/n}$ (no normality assumed)."""
    n: int


class FluctuationCheck(NamedTuple):
    r"""Outcome of one fluctuation identity: estimate, expectation, standard errors, ESS, status.

    ``ratio = value / expected`` should be $1$; ``z_score = (ratio - 1) / ratio_se``.
    Use :meth:`holds` for a test at a number of standard errors.
    """

    identity: str
    """``"integral_ft"``, ``"jarzynski"``, ``"bochkov_kuzovlev"`` or ``"detailed_ft"``."""
    label: str
    """Full label, e.g. ``"integral_ft[reverse_start=p_t,form=conditional,heat=exact]"``."""
    reverse_start: str
    r"""Distribution $\tilde p$ the reverse process starts from (``"p_t"``, ``"p_0"``,
    ``"p_inf"``, ...), or ``"n/a"``."""
    value: float
    r"""Estimate of $\langle e^{-X}\rangle$ (for the DFT: the fitted slope of $\ln[p(s)/p(-s)]$ vs $s$)."""
    se: float
    expected: float
    """What ``value`` should be (1, or $Z/Z_0$ for Jarzynski)."""
    expected_se: float
    """Standard error of ``expected`` (e.g. from $\\ln Z$ by thermodynamic integration)."""
    ratio: float
    ratio_se: float
    z_score: float
    log_value: float
    log_se: float
    ess: float
    n: int
    mean_exponent: float
    r"""$\langle X\rangle$, e.g. the mean entropy production (nats)."""
    mean_exponent_se: float
    status: str
    """``"ok"``, ``"unreliable_ess"``, ``"nonfinite"`` or ``"insufficient_data"``."""

    def holds(self, n_se: float = 4.0) -> bool:
        """True when the estimate is reliable and agrees with the expectation within ``n_se`` SE."""
        return self.status == "ok" and bool(abs(self.z_score) < n_se)


# ---------------------------------------------------------------------------------------------
# generic estimators


def _samples(name: str, x) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric array of samples, got {x!r}.") from None
    if a.ndim != 1:
        a = a.reshape(-1)
    if a.size < 2:
        raise InputError(f"{name} needs at least 2 samples (independent trajectories), got {a.size}.")
    return a


def _check_min_ess(min_ess) -> float:
    try:
        v = float(min_ess)
    except (TypeError, ValueError):
        raise InputError(f"min_ess must be a number >= 0, got {min_ess!r}.") from None
    if not v >= 0:
        raise InputError(f"min_ess must be a number >= 0, got {min_ess!r}.")
    return v


def exponential_average(x, *, min_ess: float = DEFAULT_MIN_ESS, label: str = "exponential average",
                        warn: bool = True) -> ExponentialAverage:
    r"""$\langle e^{-X}\rangle$ from independent samples of $X$, on a log scale, with SE and ESS.

    With $m = \min_r X_r$ and $w_r = e^{-(X_r - m)}\in(0, 1]$:

    $$\overline{e^{-X}} = e^{-m}\,\bar w,\qquad \mathrm{se} = e^{-m}\,\frac{\mathrm{SD}(w)}{\sqrt n},\qquad
    \ln\overline{e^{-X}} = -m + \ln\bar w,\qquad \mathrm{ESS} = \frac{(\sum w)^2}{\sum w^2}.$$

    Parameters
    ----------
    x : array_like
        Samples of the exponent $X$ (nats), one per independent trajectory (flattened).
    min_ess : float
        Below this effective sample size the average is not estimated: NaN, status
        ``"unreliable_ess"`` and an :class:`UnreliableEstimateWarning`. ``0`` disables the gate.
    label : str
        Names the quantity in the warning.
    warn : bool
        Issue the warning (the status is set either way).

    Returns
    -------
    ExponentialAverage

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(0.5, 1.0, 4000)     # N(mu, 2 mu): <e^-X> = 1
    >>> r = exponential_average(x)
    >>> r.status, bool(abs(r.value - 1) < 4 * r.se)
    ('ok', True)
    """
    a = _samples("x", x)
    min_ess = _check_min_ess(min_ess)
    n = a.size
    nan = math.nan
    if not np.all(np.isfinite(a)):
        if warn:
            warnings.warn(f"{label}: {int(np.sum(~np.isfinite(a)))} of {n} exponents are not "
                          "finite; no estimate.", UnreliableEstimateWarning, stacklevel=2)
        return ExponentialAverage(nan, nan, nan, nan, 0.0, n, "nonfinite")
    m = float(a.min())
    w = np.exp(-(a - m))
    sw = float(w.sum())
    ess = sw * sw / float(np.sum(w * w))
    if ess < min_ess:
        if warn:
            warnings.warn(
                f"{label}: effective sample size {ess:.3g} of the weights e^-X is below "
                f"{min_ess:g} (n = {n}, mean X = {a.mean():.3g}); the exponential average is "
                "dominated by a few rare trajectories and is not reported. Use more trajectories "
                "or parameters with a smaller mean exponent (<~ 2), or test exact moments instead.",
                UnreliableEstimateWarning, stacklevel=2)
        return ExponentialAverage(nan, nan, nan, nan, ess, n, "unreliable_ess")
    wbar = sw / n
    sd = float(np.std(w, ddof=1))
    log_value = -m + math.log(wbar)
    log_se = sd / math.sqrt(n) / wbar
    value = math.exp(log_value) if log_value < 709.0 else math.inf
    se = value * log_se if math.isfinite(value) else math.inf
    return ExponentialAverage(value, se, log_value, log_se, ess, n, "ok")


def mean_and_variance(x) -> Moments:
    r"""Sample mean and variance of independent samples, each with a standard error.

    $\mathrm{se}(\bar x) = s/\sqrt n$ and $\mathrm{se}(s^2) = \sqrt{(m_4 - s^4)/n}$ with the fourth
    central moment $m_4$ (valid for any distribution with finite fourth moment).

    Examples
    --------
    >>> import numpy as np
    >>> m = mean_and_variance(np.random.default_rng(1).normal(1.0, 2.0, 10000))
    >>> bool(abs(m.mean - 1) < 4 * m.mean_se), bool(abs(m.variance - 4) < 4 * m.variance_se)
    (True, True)
    """
    a = _samples("x", x)
    if not np.all(np.isfinite(a)):
        raise InputError("x contains NaN or inf; moments need finite samples.")
    n = a.size
    mean = float(a.mean())
    var = float(a.var(ddof=1))
    m4 = float(np.mean((a - mean) ** 4))
    return Moments(mean, math.sqrt(var / n), var, math.sqrt(max(m4 - var * var, 0.0) / n), n)


def _check(identity, label, reverse_start, exponent, expected, expected_se, *, min_ess):
    """Build a :class:`FluctuationCheck` for $\\langle e^{-X}\\rangle$ against ``expected``."""
    a = _samples("exponent", exponent)
    avg = exponential_average(a, min_ess=min_ess, label=label)
    finite = a[np.isfinite(a)]
    if finite.size >= 2:
        mx, mx_se = float(finite.mean()), float(finite.std(ddof=1) / math.sqrt(finite.size))
    else:
        mx = mx_se = math.nan
    if avg.status != "ok":
        nan = math.nan
        return FluctuationCheck(identity, label, reverse_start, nan, nan, expected, expected_se,
                                nan, nan, nan, nan, nan, avg.ess, avg.n, mx, mx_se, avg.status)
    # ratio = value / expected on a log scale (no overflow): ln ratio = log_value - ln expected
    log_ratio = avg.log_value - math.log(expected)
    ratio = math.exp(log_ratio)
    ratio_se = ratio * math.hypot(avg.log_se, expected_se / expected)
    z = (ratio - 1.0) / ratio_se if ratio_se > 0 else (0.0 if ratio == 1.0 else math.inf)
    return FluctuationCheck(identity, label, reverse_start, avg.value, avg.se, expected,
                            expected_se, ratio, ratio_se, z, avg.log_value, avg.log_se, avg.ess,
                            avg.n, mx, mx_se, "ok")


# ---------------------------------------------------------------------------------------------
# the identities


def integral_fluctuation_theorem(entropy_production, *, reverse_start: str | None = None,
                                 include_information: bool = False,
                                 min_ess: float = DEFAULT_MIN_ESS) -> FluctuationCheck:
    r"""Integral fluctuation theorem $\langle e^{-X}\rangle = 1$ with a named reverse start (docs/theory/paths-and-entropy-production.md, eq. (81)).

    $$X = \ln p_0(\boldsymbol\omega_0) - \ln\tilde p(\boldsymbol\omega_t) + q/T$$

    holds for **any** normalised $\tilde p$: $p_t$ (the standard $\langle e^{-\Delta s_{tot}}\rangle=1$),
    the label-marginal $p_t(\boldsymbol\omega\mid\boldsymbol\xi)$ (Seifert's IFT, weaker bound),
    $p_0$ (Bochkov–Kuzovlev) or $p_\infty\propto e^{-U_{tot}/T}$ (checks $\ln Z$ and the heat,
    not the dynamics). With ``include_information`` the exponent is $X - \Delta i$ with the
    stochastic mutual information $\Delta i$ (docs/theory/paths-and-entropy-production.md, eq. (80),
    $\langle e^{-(\Delta s+q/T)+\Delta i}\rangle = 1$).

    Parameters
    ----------
    entropy_production : EntropyProduction or array_like
        From :func:`~thermoinfer.thermo.entropy_production.entropy_production` (its
        ``reverse_start``, form and heat enter the label), or the exponents $X$ per trajectory
        (then ``reverse_start`` must name $\tilde p$).
    reverse_start : str, optional
        Name of $\tilde p$ for array input (``"p_t"``, ``"p_0"``, ``"p_inf"``, ...).
    include_information : bool
        Subtract the information term $\Delta i$ (needs ``form="marginal"``).
    min_ess : float
        ESS gate (see :func:`exponential_average`).

    Returns
    -------
    FluctuationCheck
    """
    from .entropy_production import EntropyProduction

    if isinstance(entropy_production, EntropyProduction):
        ep = entropy_production
        if reverse_start is not None and reverse_start != ep.reverse_start:
            raise InputError(
                f"reverse_start={reverse_start!r} contradicts the entropy production, which was "
                f"computed with reverse_start={ep.reverse_start!r}; omit reverse_start."
            )
        x = np.asarray(ep.total, dtype=np.float64)
        parts = [f"reverse_start={ep.reverse_start}", f"form={ep.form}", f"heat={ep.heat}"]
        if include_information:
            if ep.information is None:
                raise InputError(
                    "include_information=True needs the stochastic mutual information: compute "
                    "the entropy production with form='marginal' (Hebbian, exact p_t)."
                )
            x = x - np.asarray(ep.information, dtype=np.float64)
            parts.append("information=included")
        rs = ep.reverse_start
    else:
        if include_information:
            raise InputError("include_information needs an EntropyProduction with form='marginal'; "
                             "for arrays pass the exponent X - Delta i yourself.")
        if not isinstance(reverse_start, str) or not reverse_start:
            raise InputError(
                "reverse_start must name the distribution the reverse process starts from "
                "(e.g. 'p_t', 'p_0', 'p_inf') when the exponents are given as an array."
            )
        x = entropy_production
        parts = [f"reverse_start={reverse_start}"]
        rs = reverse_start
    label = "integral_ft[" + ",".join(parts) + "]"
    return _check("integral_ft", label, rs, x, 1.0, 0.0, min_ess=min_ess)


def jarzynski(inclusive_work, temperature, log_partition, *,
              min_ess: float = DEFAULT_MIN_ESS) -> FluctuationCheck:
    r"""Jarzynski equality $\langle e^{-w_J/T}\rangle = e^{-\Delta F/T} = Z/Z_0$ (inclusive work, docs/theory/paths-and-entropy-production.md, eq. (79)).

    For the sudden switch-on the inclusive work is done at $t=0$,
    $w_J = U_{tot}(\boldsymbol\omega_0) - V(\boldsymbol\omega_0) = -\nu\sum_\mu G_\mu(A^\mu_0)$
    (:func:`~thermoinfer.thermo.entropy_production.inclusive_work`), and
    $\Delta F = -T\ln(Z/Z_0)$. Not to be confused with Bochkov–Kuzovlev (exclusive work).

    Parameters
    ----------
    inclusive_work : array_like
        $w_J$ per trajectory, energy units.
    temperature : float
        $T$ (energy units, $k_B = 1$).
    log_partition : LogPartition or float
        $\ln Z$ with its standard error and method
        (:func:`~thermoinfer.thermo.entropy_production.log_partition_function`), or the number
        $\ln(Z/Z_0) = -\Delta F/T$ itself (taken as exact).
    min_ess : float
        ESS gate.

    Returns
    -------
    FluctuationCheck
        ``expected`` $= Z/Z_0$, ``expected_se`` from the error of $\ln Z$.
    """
    from .entropy_production import LogPartition

    T = float(temperature)
    if not (math.isfinite(T) and T > 0):
        raise InputError(f"temperature must be > 0 (energy units, k_B = 1), got {temperature!r}.")
    if isinstance(log_partition, LogPartition):
        if np.ndim(log_partition.value) != 0:
            raise InputError(
                "jarzynski compares one average with one Z/Z_0, but log_partition holds one ln Z "
                f"per data set (shape {np.shape(log_partition.value)}): use shared data, or the "
                "integral FT with reverse_start='p_inf' and exact heat, whose exponent "
                "(w_J - Delta F_r)/T is the Jarzynski exponent data set by data set."
            )
        lr = float(log_partition.value - log_partition.log_z0)
        lr_se = float(log_partition.se)
        method = log_partition.method
        if not math.isfinite(lr):
            raise InputError(f"log_partition is not available (status {log_partition.status!r}).")
    else:
        try:
            lr = float(log_partition)
        except (TypeError, ValueError):
            raise InputError(
                f"log_partition must be a LogPartition or the number ln(Z/Z_0), got {log_partition!r}."
            ) from None
        lr_se, method = 0.0, "given"
    w = _samples("inclusive_work", inclusive_work)
    expected = math.exp(lr)
    label = f"jarzynski[work=inclusive,delta_F={method}]"
    return _check("jarzynski", label, "n/a", w / T, expected, expected * lr_se, min_ess=min_ess)


def bochkov_kuzovlev(exclusive_work, temperature, *,
                     min_ess: float = DEFAULT_MIN_ESS) -> FluctuationCheck:
    r"""Bochkov–Kuzovlev identity $\langle e^{-w/T}\rangle = 1$ for the exclusive work (docs/theory/paths-and-entropy-production.md, eq. (78)).

    $w = \int\boldsymbol f\circ d\boldsymbol\omega$ with the bare $V$ as the energy; it is the IFT with
    the reverse process started in $p_0$. Not the Jarzynski equality.

    Parameters
    ----------
    exclusive_work : array_like
        $w$ per trajectory, energy units
        (:func:`~thermoinfer.thermo.entropy_production.exclusive_work`, or the simulator's
        Stratonovich ``work``).
    temperature : float
        $T$.
    min_ess : float
        ESS gate.

    Returns
    -------
    FluctuationCheck

    Examples
    --------
    >>> import numpy as np
    >>> W = 1.0                                         # Hebbian: w ~ N(W, 2 T W)
    >>> w = np.random.default_rng(2).normal(W, np.sqrt(2 * W), 4000)
    >>> bochkov_kuzovlev(w, 1.0).holds()
    True
    """
    T = float(temperature)
    if not (math.isfinite(T) and T > 0):
        raise InputError(f"temperature must be > 0 (energy units, k_B = 1), got {temperature!r}.")
    w = _samples("exclusive_work", exclusive_work)
    return _check("bochkov_kuzovlev", "bochkov_kuzovlev[work=exclusive]", "p_0", w / T, 1.0, 0.0,
                  min_ess=min_ess)


def detailed_fluctuation_theorem(entropy_production, *, n_bins: int = 24,
                                 min_count: int = 10) -> FluctuationCheck:
    r"""Detailed fluctuation theorem $p(\Delta s_{tot})/p(-\Delta s_{tot}) = e^{\Delta s_{tot}}$, only where it holds.

    It is guaranteed (docs/theory/thermodynamics-and-bound.md, consequence 5 of "Batch learning
    forces are conservative") only for Hebbian learning (weight-independent force),
    where the conditional $\Delta s_{tot}$ with exact $p_t$ is Gaussian with variance twice its mean,
    and for runs started in a steady state (where $\Delta s_{tot}\equiv 0$ in batch learning). For
    Perceptron, AdaTron or user rules after a sudden switch-on only the IFT holds, and this
    function refuses.

    The check histograms $\Delta s_{tot}$ in ``n_bins`` bins symmetric about 0, forms
    $y_j = \ln(n_j^+/n_j^-)$ for each pair of mirror bins with at least ``min_count`` counts on both
    sides, and fits $y = \beta s$ by weighted least squares (weights $1/(1/n^+ + 1/n^-)$).
    ``value`` is the slope $\beta$ (expected 1), ``se`` its standard error.

    Parameters
    ----------
    entropy_production : EntropyProduction
        From :func:`~thermoinfer.thermo.entropy_production.entropy_production` (its metadata say
        whether the theorem applies; plain arrays are refused for that reason).
    n_bins : int
        Number of bins on $[-a, a]$, $a = \max|\Delta s_{tot}|$ (even).
    min_count : int
        Minimum count in each of the two mirror bins.

    Returns
    -------
    FluctuationCheck
        ``identity == "detailed_ft"``; ``status == "insufficient_data"`` with fewer than two
        usable bin pairs.

    Raises
    ------
    InputError
        Where the detailed theorem is not guaranteed (any rule with a weight-dependent force,
        a reverse start other than the exact $p_t$, the label-marginal form, or non-exact
        dynamics).
    """
    from .entropy_production import EntropyProduction

    if not isinstance(entropy_production, EntropyProduction):
        raise InputError(
            "detailed_fluctuation_theorem needs an EntropyProduction from entropy_production(...), "
            "whose metadata show whether the theorem applies; got a "
            f"{type(entropy_production).__name__}."
        )
    ep = entropy_production
    if not ep.detailed_ft_applies:
        raise InputError(
            "the detailed fluctuation theorem p(s)/p(-s) = e^s is guaranteed only for Hebbian "
            "learning (weight-independent force, exact OU dynamics) with the conditional total "
            "entropy production (reverse_start='p_t', form='conditional', exact p_t) and for runs "
            f"started in a steady state (docs/theory/thermodynamics-and-bound.md); got rule {ep.rule!r}, "
            f"reverse_start={ep.reverse_start!r}, form={ep.form!r}, system entropy "
            f"{ep.system_method!r}, dynamics {ep.dynamics!r}. After a sudden switch-on only the "
            "integral FT holds: use integral_fluctuation_theorem."
        )
    if int(n_bins) != n_bins or n_bins < 4 or n_bins % 2:
        raise InputError(f"n_bins must be an even integer >= 4, got {n_bins!r}.")
    s = _samples("total entropy production", ep.total)
    if not np.all(np.isfinite(s)):
        raise InputError("the total entropy production contains NaN or inf.")
    a = float(np.max(np.abs(s)))
    edges = np.linspace(-a, a, int(n_bins) + 1)
    counts, _ = np.histogram(s, bins=edges)
    half = int(n_bins) // 2
    pos, neg = counts[half:], counts[:half][::-1]
    centres = 0.5 * (edges[half:-1] + edges[half + 1:])
    ok = (pos >= min_count) & (neg >= min_count)
    mom = mean_and_variance(s)
    label = "detailed_ft[reverse_start=p_t,form=conditional,rule=" + ep.rule + "]"
    nan = math.nan
    if int(ok.sum()) < 2:
        return FluctuationCheck("detailed_ft", label, "p_t", nan, nan, 1.0, 0.0, nan, nan, nan,
                                nan, nan, float(s.size), s.size, mom.mean, mom.mean_se,
                                "insufficient_data")
    y = np.log(pos[ok] / neg[ok])
    wts = 1.0 / (1.0 / pos[ok] + 1.0 / neg[ok])
    x = centres[ok]
    sxx = float(np.sum(wts * x * x))
    beta = float(np.sum(wts * x * y)) / sxx
    se = 1.0 / math.sqrt(sxx)
    return FluctuationCheck("detailed_ft", label, "p_t", beta, se, 1.0, 0.0, beta, se,
                            (beta - 1.0) / se, nan, nan, float(s.size), s.size, mom.mean,
                            mom.mean_se, "ok")

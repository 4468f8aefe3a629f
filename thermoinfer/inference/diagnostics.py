r"""Diagnostics of a fit, from ArviZ: R-hat, ESS, divergences, E-BFMI; Pareto $\hat k$ of an SVI guide.

:func:`diagnose` summarises the groups ``posterior``, ``thermodynamics`` and ``information`` of
a fit with :func:`arviz_stats.summary` (mean, sd, an equal-tailed interval of probability
``ci_prob`` — always explicit —, bulk and tail ESS, rank-normalised split R-hat, MCSE), counts
divergent transitions and tree-depth saturation from ``sample_stats``, computes the E-BFMI per
chain, and lists every value beyond the thresholds of :data:`THRESHOLDS`. The fit stores the
result as the ``diagnostics`` group (one child per summarised group, ArviZ's ``summary``
dimension) and issues a :class:`PoorDiagnosticsWarning` naming the problems.

Thresholds follow Vehtari et al., *Rank-normalization, folding, and localization: an improved
R-hat* (Bayesian Analysis 16, 667, 2021, doi:10.1214/20-BA1221): R-hat below 1.01, bulk and tail
ESS of at least 100 per chain; no divergent transitions; E-BFMI above 0.3. For SVI the
importance weights $p(\theta, y)/q(\theta)$ of the guide's draws give the Pareto $\hat k$ of Yao et
al., *Yes, but did it work?* (ICML 2018, arXiv:1802.02538): $\hat k > 0.7$ means the guide is not a
usable approximation of the posterior.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from typing import NamedTuple

import numpy as np
import xarray as xr

__all__ = ["PoorDiagnosticsWarning", "THRESHOLDS", "Diagnostics", "diagnose", "summary",
           "pareto_khat", "SUMMARY_GROUPS"]

#: thresholds of "good" diagnostics
THRESHOLDS = {
    "r_hat": 1.01,            # rank-normalised split R-hat, at most
    "ess_per_chain": 100.0,   # bulk and tail ESS per chain, at least
    "divergences": 0,         # divergent transitions after warmup, at most
    "tree_depth_fraction": 0.01,  # fraction of draws at the maximum tree depth, at most
    "bfmi": 0.3,              # E-BFMI per chain, at least
    "pareto_k": 0.7,          # Pareto k-hat of the SVI importance weights, at most
}

#: groups summarised after a fit (those present)
SUMMARY_GROUPS = ("posterior", "thermodynamics", "information")


class PoorDiagnosticsWarning(UserWarning):
    """Sampling or variational diagnostics beyond :data:`THRESHOLDS`: do not trust the fit yet.

    Run longer chains (``draws``, ``warmup``), more chains, a larger ``target_accept`` (for
    divergences), or for SVI more steps or a richer guide; then look at ``tree["diagnostics"]``.
    """


class Diagnostics(NamedTuple):
    """Result of :func:`diagnose`."""

    tree: xr.DataTree
    """the ``diagnostics`` group: one child per summarised group, attrs with the counts"""
    problems: list[str]
    """human-readable list of every diagnostic beyond its threshold (empty: all good)"""
    text: str
    """printable summary (tables and problems)"""


@contextlib.contextmanager
def _quiet():
    """Constant or NaN draws give RuntimeWarnings inside ArviZ; the NaNs they produce are handled."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def summary(tree: xr.DataTree, *, ci_prob: float, group: str = "posterior", fmt: str = "wide",
            round_to="auto"):
    """:func:`arviz_stats.summary` of one group with an explicit ``ci_prob`` (equal-tailed).

    Parameters
    ----------
    tree : xarray.DataTree
        A fit result.
    ci_prob : float
        Probability of the credible interval (no hidden default).
    group : str
        ``"posterior"``, ``"thermodynamics"``, ``"information"`` or any group with ``chain`` and
        ``draw`` dims.
    fmt, round_to
        As in :func:`arviz_stats.summary` (``"wide"`` pandas table, ``"xarray"`` Dataset).
    """
    import arviz_stats as azs

    with _quiet():
        return azs.summary(tree, group=group, ci_prob=float(ci_prob), ci_kind="eti", fmt=fmt,
                           round_to=round_to)


def _bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain from the Hamiltonian energy (chain, draw)."""
    with np.errstate(all="ignore"):
        num = np.mean(np.diff(energy, axis=1) ** 2, axis=1)
        den = np.var(energy, axis=1)
        return num / den


def pareto_khat(log_weights) -> float:
    r"""Pareto $\hat k$ of importance log-weights (1-d array of draws), via PSIS (arviz-stats)."""
    from arviz_stats.base import array_stats

    lw = np.asarray(log_weights, dtype=float).ravel()
    if lw.size < 25:  # PSIS needs at least 5 tail draws: not estimable
        return float("nan")
    with _quiet():
        _, khat = array_stats.psislw(lw, r_eff=1.0, axis=-1)
    return float(khat)


def _flatten(table: xr.Dataset, source: xr.DataTree, group: str, ci_prob: float) -> xr.Dataset:
    """ArviZ's summary Dataset (dim ``summary``) as variables ``<var>_<statistic>``.

    The interval ends ``eti<pp>_lb``/``_ub`` become ``<var>_ci_lower``/``<var>_ci_upper``.
    """
    out = {}
    stats = [str(s) for s in table["summary"].values]
    for name, var in table.data_vars.items():
        units = str(source[name].attrs.get("units", "1"))
        for stat in stats:
            label = stat
            if stat.startswith("eti") or stat.startswith("hdi"):
                label = "ci_lower" if stat.endswith("_lb") else "ci_upper"
            u = "1" if label in ("r_hat", "ess_bulk", "ess_tail") else units
            out[f"{name}_{label}"] = var.sel(summary=stat, drop=True).assign_attrs(
                units=u, long_name=f"{label} of {group}/{name}"
                + (f" ({100 * ci_prob:g}% equal-tailed)" if label.startswith("ci_") else ""))
    return xr.Dataset(out, attrs={"ci_prob": float(ci_prob), "ci_kind": "eti"})


def _variable_problems(table: xr.Dataset, group: str, n_chains: int) -> list[str]:
    out = []
    ess_min = THRESHOLDS["ess_per_chain"] * n_chains
    for name, var in table.data_vars.items():
        label = name if group == "posterior" else f"{group}/{name}"
        sd = var.sel(summary="sd").values
        varying = np.isfinite(sd) & (sd > 0)
        if not np.any(varying):
            continue
        if n_chains > 1:
            rhat = var.sel(summary="r_hat").values[varying]
            bad = np.isfinite(rhat) & (rhat > THRESHOLDS["r_hat"])
            if bad.any() or not np.all(np.isfinite(rhat)):
                out.append(f"R-hat of {label} is {np.nanmax(rhat):.3f} "
                           f"(> {THRESHOLDS['r_hat']})")
        for kind in ("ess_bulk", "ess_tail"):
            ess = var.sel(summary=kind).values[varying]
            if np.any(~np.isfinite(ess)) or np.any(ess < ess_min):
                out.append(f"{kind.replace('_', ' ')} of {label} is {np.nanmin(ess):.0f} "
                           f"(< {ess_min:.0f} = {THRESHOLDS['ess_per_chain']:.0f} per chain)")
    return out


def diagnose(tree: xr.DataTree, *, ci_prob: float, method: str = "nuts",
             max_tree_depth: int | None = None, pareto_k: float | None = None,
             groups=SUMMARY_GROUPS) -> Diagnostics:
    """Summaries and convergence diagnostics of a fit.

    Parameters
    ----------
    tree : xarray.DataTree
        A fit with ``posterior`` and, for NUTS, ``sample_stats`` (``diverging``, ``energy``,
        ``tree_depth``).
    ci_prob : float
        Probability of the equal-tailed credible intervals in the summaries.
    method : {"nuts", "svi", "conjugate"}
        NUTS: R-hat, ESS, divergences, tree depth, E-BFMI. SVI (independent draws from the guide):
        the Pareto $\\hat k$ of the importance weights instead. Conjugate (independent exact
        posterior draws): R-hat and ESS are reported, not gated.
    max_tree_depth : int, optional
        The sampler's maximum tree depth (saturation check).
    pareto_k : float, optional
        SVI: the guide's Pareto $\\hat k$ (from :func:`pareto_khat`).
    groups : sequence of str
        Groups to summarise (those present in ``tree``).

    Returns
    -------
    Diagnostics
    """
    n_chains = int(tree["posterior"].sizes["chain"])
    n_draws = int(tree["posterior"].sizes["draw"])
    children, problems, tables = {}, [], []
    for group in groups:
        if group not in tree.children:
            continue
        table = summary(tree, ci_prob=ci_prob, group=group, fmt="xarray", round_to="none")
        if method == "nuts":
            problems += _variable_problems(table, group, n_chains)
        children[group] = xr.DataTree(_flatten(table, tree[group], group, ci_prob))
        tables.append((group, summary(tree, ci_prob=ci_prob, group=group)))
    attrs = {"ci_prob": float(ci_prob), "ci_kind": "eti", "method": method,
             "n_chains": n_chains, "n_draws": n_draws,
             "thresholds_json": json.dumps(THRESHOLDS)}
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else xr.Dataset()
    if method == "nuts":
        n_div = int(np.asarray(stats["diverging"]).sum()) if "diverging" in stats else 0
        attrs["n_divergent"] = n_div
        if n_div > THRESHOLDS["divergences"]:
            problems.append(f"{n_div} divergent transition(s) of {n_chains * n_draws} draws "
                            "(raise target_accept or reparameterise)")
        if "tree_depth" in stats and max_tree_depth is not None:
            frac = float(np.mean(np.asarray(stats["tree_depth"]) >= max_tree_depth))
            attrs["tree_depth_saturation"] = frac
            if frac > THRESHOLDS["tree_depth_fraction"]:
                problems.append(f"{100 * frac:.1f}% of the draws hit the maximum tree depth "
                                f"{max_tree_depth}")
        if "energy" in stats and n_draws > 2:
            bfmi = _bfmi(np.asarray(stats["energy"], dtype=float))
            attrs["bfmi_min"] = float(np.nanmin(bfmi)) if np.any(np.isfinite(bfmi)) else np.nan
            if np.any(bfmi < THRESHOLDS["bfmi"]):
                problems.append(f"E-BFMI {np.nanmin(bfmi):.2f} < {THRESHOLDS['bfmi']} in "
                                f"{int(np.sum(bfmi < THRESHOLDS['bfmi']))} chain(s)")
    if pareto_k is not None:
        attrs["pareto_k"] = float(pareto_k)
        if not pareto_k <= THRESHOLDS["pareto_k"]:
            problems.append(f"Pareto k-hat of the guide is {pareto_k:.2f} (> "
                            f"{THRESHOLDS['pareto_k']}): the variational approximation is "
                            "unreliable; use NUTS or a richer guide")
    attrs["n_problems"] = len(problems)
    attrs["problems"] = "; ".join(problems) if problems else "none"
    node = xr.DataTree(xr.Dataset(attrs=attrs), children=children)
    text = _format(tables, problems, ci_prob=ci_prob, method=method, attrs=attrs)
    return Diagnostics(node, problems, text)


def _format(tables, problems, *, ci_prob, method, attrs) -> str:
    import pandas as pd

    lines = []
    with pd.option_context("display.width", 120, "display.max_columns", 20,
                           "display.max_rows", 60):
        for group, table in tables:
            lines.append(f"[{group}]  (equal-tailed {100 * ci_prob:g}% intervals)")
            lines.append(table.to_string())
            lines.append("")
    if method == "nuts":
        lines.append(f"divergent transitions: {attrs.get('n_divergent', 0)}"
                     + (f"; min E-BFMI {attrs['bfmi_min']:.2f}" if "bfmi_min" in attrs else ""))
    if "pareto_k" in attrs:
        lines.append(f"Pareto k-hat of the guide: {attrs['pareto_k']:.2f}")
    if problems:
        lines.append("DIAGNOSTICS POOR: " + "; ".join(problems))
    else:
        lines.append("diagnostics: all within thresholds")
    return "\n".join(lines)

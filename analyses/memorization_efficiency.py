"""Learning efficiency of memorisation: eta versus nu and versus alpha (Goldt & Seifert, PRL 2017).

Reproduces the claim "slow learning is more efficient" (docs/theory/hebbian-memorisation.md, eq. (53)–(55)): the
thermodynamic-limit Hebbian efficiency eta(nu) at t -> inf for alpha in {0.1, 0.5, 1, 2},
nu from 0.01 to 10 (k = T = 1), under the `annealed` and `quenched_gaussian` entropy
conventions, overlaid with finite-N simulations (Hebbian: exact OU sampling at t = inf;
Perceptron: Euler-Maruyama to t = 10/k, annealed maximum-entropy Gaussian entropy estimate),
with standard errors. Writes

* results/memorization_theory.nc      theory curves (dims point)
* results/memorization_simulation.nc  simulated points (dim point), one summary per point
* results/memorization_efficiency.png the figure

and prints a summary table. Runtime: about 1-2 minutes on 2 cores (``--quick``: ~20 s).
Plotting reads only the .nc files.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

ALPHAS = (0.1, 0.5, 1.0, 2.0)


def _theory(nus, alphas_sweep, nus_alpha):
    from thermoinfer.memorization import theory_memorization

    out = {}
    for conv in ("annealed", "quenched_gaussian"):
        for a in ALPHAS:
            tree = theory_memorization(alpha=a, nu=nus, entropy=conv)
            out[f"eta_vs_nu/{conv}/alpha={a:g}"] = tree
        for nu in nus_alpha:
            tree = theory_memorization(alpha=alphas_sweep, nu=nu, entropy=conv)
            out[f"eta_vs_alpha/{conv}/nu={nu:g}"] = tree
    return out


def _theory_dataset(curves) -> xr.DataTree:
    """One DataTree: a group per curve, each with a `point` dimension."""
    from thermoinfer.data.schema import conventions_attrs, provenance

    root = xr.DataTree(xr.Dataset(attrs={
        **provenance(config={"analysis": "memorization_efficiency", "part": "theory"}),
        **conventions_attrs(entropy_convention="annealed", temperature=1.0),
        "note": "each group holds one curve; its own entropy_convention attr names its convention",
        "title": "eta versus nu and alpha, thermodynamic-limit Hebbian theory",
    }))
    for name, tree in curves.items():
        ds = xr.merge([tree["parameters"].to_dataset(), tree["summary"].to_dataset()])
        ds.attrs = {"entropy_convention": tree.attrs["entropy_convention"]}
        root[name.replace("=", "_")] = ds
    return root


#: simulated time of the Perceptron points (Euler-Maruyama step PERCEPTRON_DT); Hebbian: t = inf
PERCEPTRON_T, PERCEPTRON_DT = 10.0, 0.01


def _simulations(points, n_weights, n_replicas, seed, advance=lambda n=1, **kw: None):
    from thermoinfer.memorization import simulate_memorization

    rows = []
    for i, (rule, alpha, nu) in enumerate(points):
        t0 = time.perf_counter()
        advance(0, description=f"simulating {rule} α={alpha:g} ν={nu:g}")
        if rule == "hebbian":
            t, reps = math.inf, 4 * n_replicas
            tree = simulate_memorization(seed + i, n_weights=n_weights, alpha=alpha, rule=rule,
                                         nu=nu, t=t, n_replicas=reps)
        else:
            t, reps = PERCEPTRON_T, n_replicas
            tree = simulate_memorization(seed + i, n_weights=n_weights, alpha=alpha, rule=rule,
                                         nu=nu, t=t, dt=PERCEPTRON_DT, n_replicas=reps)
        advance(1)
        ds = tree["summary"].to_dataset()
        ds = ds.assign(rule=((), rule), alpha=((), alpha), learning_rate=((), nu),
                       entropy_method=((), tree["information"]["entropy_change"].attrs["method"]),
                       path_weights=((), tree.attrs["path_weights"]),
                       n_weights=((), np.int32(n_weights), {"units": "1",
                                                            "long_name": "weights N"}),
                       n_replicas=((), np.int32(reps), {"units": "1", "long_name": "replicas"}),
                       simulated_time=((), np.float64(t if math.isfinite(t) else np.nan),
                             {"units": "1", "long_name": "simulated time k t (NaN: t = inf, "
                                                         "exact equilibrium sampling)"}),
                       wall_time=((), time.perf_counter() - t0, {"units": "s", "long_name": "wall time"}))
        for v in ("rule", "alpha", "learning_rate", "entropy_method", "path_weights"):
            ds[v].attrs = {"units": "1", "long_name": v}
        rows.append(ds)
    return xr.concat(rows, dim="point")


def main(args) -> xr.DataTree:
    """Compute theory and simulations, write .nc files and the PNG; return the simulation tree."""
    from thermoinfer.data.io import write_netcdf
    from thermoinfer.data.schema import conventions_attrs, provenance
    from thermoinfer.progress import progress_bar, wants_progress

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nus = np.logspace(-2, 1, 13 if args.quick else 61)
    alphas_sweep = np.logspace(math.log10(0.02), math.log10(4.0), 12 if args.quick else 50)
    nus_alpha = (0.3, 1.0, 3.0)
    theory = _theory_dataset(_theory(nus, alphas_sweep, nus_alpha))
    write_netcdf(theory, out / "memorization_theory.nc")

    sim_nus = (0.1, 1.0, 10.0) if args.quick else (0.1, 0.3, 1.0, 3.0, 10.0)
    points = [("hebbian", a, nu) for a in ALPHAS for nu in sim_nus]
    perc_nus = (0.3, 3.0) if args.quick else (0.3, 1.0, 3.0)
    points += [("perceptron", 0.5, nu) for nu in perc_nus]
    points += [("perceptron", a, 1.0) for a in ((2.0,) if args.quick else (0.1, 1.0, 2.0))]
    n_rep = 16 if args.quick else args.replicas
    with progress_bar(len(points), "simulating", wants_progress(args.progress)) as advance:
        sims = _simulations(points, args.N, n_rep, args.seed, advance)
    tree = xr.DataTree(xr.Dataset(attrs={
        **provenance(config={"analysis": "memorization_efficiency", "N": args.N,
                             "replicas": n_rep, "seed": args.seed, "quick": bool(args.quick)},
                     seed=args.seed),
        **conventions_attrs(entropy_convention="annealed", path_weights="not_applicable",
                            data_protocol="per_replica", temperature=1.0),
        "title": "finite-N memorisation simulations (Hebbian exact OU at t=inf; Perceptron EM to t=10)",
        "note": "path_weights differ by point (summary/path_weights): exact_ou for Hebbian, "
                "euler_maruyama for Perceptron; efficiency status per point in summary/efficiency_status",
    }))
    tree["summary"] = sims
    write_netcdf(tree, out / "memorization_simulation.nc")
    png = plot(out)
    print_table(sims)
    for path in (out / "memorization_theory.nc", out / "memorization_simulation.nc", png):
        print(f"wrote {path}")
    return tree


def plot(out: Path) -> Path:
    """Figure from the .nc files only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thermoinfer.data.io import read_netcdf

    theory = read_netcdf(out / "memorization_theory.nc")
    sims = read_netcdf(out / "memorization_simulation.nc")["summary"].to_dataset()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5.9))
    colors = dict(zip(ALPHAS, ("C0", "C1", "C2", "C3"), strict=True))
    for a in ALPHAS:
        for conv, ls in (("annealed", "-"), ("quenched_gaussian", ":")):
            ds = theory[f"eta_vs_nu/{conv}/alpha_{a:g}"].to_dataset()
            ax1.plot(ds["learning_rate"], ds["efficiency"], ls, color=colors[a],
                     label=f"α={a:g}" if conv == "annealed" else None)
    for rule, marker in (("hebbian", "o"), ("perceptron", "s")):
        sel = sims.where((sims["rule"] == rule), drop=True)
        for a in ALPHAS:
            s2 = sel.where(sel["alpha"] == a, drop=True)
            if s2.sizes.get("point", 0) == 0:
                continue
            ax1.errorbar(s2["learning_rate"], s2["efficiency"], yerr=s2["efficiency_se"],
                         fmt=marker, color=colors[a], mfc="none" if rule == "perceptron" else colors[a],
                         ms=5, capsize=2)
    ax1.axhline(1 / math.pi, color="gray", lw=0.8, ls="--")
    ax1.text(0.011, 1 / math.pi * 1.03, "1/π", color="gray")
    ax1.set(xscale="log", xlabel="learning rate ν", ylabel="efficiency η",
            title="η(ν), t→∞, k = T = 1")
    ax1.plot([], [], "ko", label="sim. Hebbian")
    ax1.plot([], [], "ks", mfc="none", label="sim. Perceptron")
    # legends below the axes, never over the data
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    for nu, c in zip((0.3, 1.0, 3.0), ("C4", "C5", "C6"), strict=True):
        for conv, ls in (("annealed", "-"), ("quenched_gaussian", ":")):
            ds = theory[f"eta_vs_alpha/{conv}/nu_{nu:g}"].to_dataset()
            ax2.plot(ds["alpha"], ds["efficiency"], ls, color=c,
                     label=f"ν={nu:g}" if conv == "annealed" else None)
        sel = sims.where((sims["rule"] == "hebbian") & (sims["learning_rate"] == nu), drop=True)
        if sel.sizes.get("point", 0):
            ax2.errorbar(sel["alpha"], sel["efficiency"], yerr=sel["efficiency_se"], fmt="o",
                         color=c, ms=5, capsize=2)
        sel = sims.where((sims["rule"] == "perceptron") & (sims["learning_rate"] == nu), drop=True)
        if sel.sizes.get("point", 0):
            ax2.errorbar(sel["alpha"], sel["efficiency"], yerr=sel["efficiency_se"], fmt="s",
                         color=c, mfc="none", ms=5, capsize=2)
    ax2.set(xscale="log", xlabel="load α", ylabel="efficiency η",
            title="η(α), t→∞, k = T = 1")
    ax2.plot([], [], "k-", label="theory, annealed")
    ax2.plot([], [], "k:", label="theory, quenched Gaussian")
    ax2.plot([], [], "ko", label="sim. Hebbian")
    ax2.plot([], [], "ks", mfc="none", label="sim. Perceptron (annealed max-ent ΔS)")
    ax2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.suptitle("curves: Hebbian theory, N→∞ (— annealed, ··· quenched Gaussian entropy); "
                 "markers: finite-N simulations ± SE\n" + _simulation_note(sims), fontsize=9)
    fig.tight_layout()
    path = out / "memorization_efficiency.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _simulation_note(sims: xr.Dataset) -> str:
    """'N = ..., replicas and t per rule' of the simulated points, from the file."""
    parts = []
    for rule in ("hebbian", "perceptron"):
        sel = sims.where(sims["rule"] == rule, drop=True)
        if not sel.sizes.get("point", 0):
            continue
        n = sorted({int(v) for v in np.atleast_1d(sel["n_weights"].values)})
        r = sorted({int(v) for v in np.atleast_1d(sel["n_replicas"].values)})
        t = sorted({math.inf if math.isnan(float(v)) else float(v)
                    for v in np.atleast_1d(sel["simulated_time"].values)})
        ts = ", ".join("∞ (exact sampling)" if math.isinf(v) else f"{v:g}/k (Euler–Maruyama)"
                       for v in t)
        parts.append(f"{rule}: N = {', '.join(map(str, n))}, {', '.join(map(str, r))} "
                     f"replicas, t = {ts}")
    return "\n".join(parts)


def print_table(sims: xr.Dataset) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="finite-N simulations (per weight; nats; η ± SE)")
    for col in ("rule", "α", "ν", "ε", "I/N", "ΔS/N", "ΔQ/N", "η", "bound", "status"):
        table.add_column(col, justify="right")
    for i in range(sims.sizes["point"]):
        s = sims.isel(point=i)

        def f(name, s=s):
            v = float(s[name])
            se = float(s[f"{name}_se"]) if f"{name}_se" in s else float("nan")
            return "nan" if math.isnan(v) else (f"{v:.4f}±{se:.4f}" if not math.isnan(se) else f"{v:.4f}")

        table.add_row(str(s["rule"].values), f"{float(s['alpha']):g}", f"{float(s['learning_rate']):g}",
                      f("training_error"), f("mutual_information_per_weight"),
                      f("entropy_change_per_weight"), f("heat_per_weight"), f("efficiency"),
                      str(bool(s["bound_satisfied"])), str(s["efficiency_status"].values))
    Console(width=150).print(table)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--N", type=int, default=200, help="number of weights of the simulations")
    p.add_argument("--replicas", type=int, default=64, help="replicas per Perceptron point "
                   "(Hebbian points use 4x as many: they are exact and cheap)")
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--quick", action="store_true", help="small grid for a smoke test")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    return p.parse_args(argv)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main(parse_args())
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

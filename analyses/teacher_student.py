"""Learning a rule from a teacher: theory against finite-N simulation (Goldt & Seifert, NJP 2017).

Reproduces the teacher-student curves of docs/theory/teacher-student-and-online.md for Hebbian, Perceptron and AdaTron
learning at nu = k = T = 1: the generalisation error eps_g(alpha), the order parameters R(alpha)
and Q(alpha), the heat Delta Q/N (kick_relaxation), the efficiency eta(alpha) and the bound margin
(Delta S(w|T) + Delta Q/T)/N, in online mode (order-parameter ODEs / Hebbian closed form against
the microscopic online rule at N >= 1000) and for batch Hebbian learning (closed form against
Langevin simulation at t = inf). The Perceptron and AdaTron efficiencies are reported as NaN with
status ``feedback_uncorrected`` (their online kicks are feedback; docs/theory/thermodynamics-and-bound.md), so the figure
shows their margin instead. Writes

* results/teacher_student_theory.nc      theory curves (groups online/<rule>, batch/hebbian)
* results/teacher_student_simulation.nc  simulation summaries (same groups) with z-scores
* results/teacher_student.png            the figure (made from the two .nc files only)

and prints a table of (simulation - theory)/SE for R and Q. Runtime: about 2-3 minutes on 2 CPU
cores (N = 2000, 48 replicas, alpha up to 5); ``--quick`` about 30 s (N = 1000, alpha up to 2).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

RULES = ("hebbian", "perceptron", "adatron")
COLORS = {"hebbian": "C0", "perceptron": "C1", "adatron": "C2"}


def _root(part: str, config: dict, seed=None, heat="kick_relaxation"):
    from thermoinfer.data.schema import conventions_attrs, provenance

    return xr.Dataset(attrs={
        **provenance(config={"analysis": "teacher_student", "part": part, **config}, seed=seed),
        **conventions_attrs(entropy_convention="annealed", heat_convention=heat,
                            data_protocol="per_replica" if part == "simulation" else "not_applicable",
                            temperature=1.0),
        "note": "groups online/<rule> (dim time, coordinate alpha) and batch/hebbian (batch: "
                "heat_convention not_applicable, see the group attrs)",
        "title": f"teacher-student learning, {part} (NJP 2017)",
    })


def theory(alphas_online, alphas_batch) -> xr.DataTree:
    """Thermodynamic-limit curves for the three rules online, and batch Hebbian."""
    from thermoinfer.teacher_student import theory_teacher_student

    tree = xr.DataTree(_root("theory", {"alphas_online": list(map(float, alphas_online)),
                                        "alphas_batch": list(map(float, alphas_batch))}))
    for rule in RULES:
        t = theory_teacher_student(alphas_online, rule=rule, nu=1.0, k=1.0, temperature=1.0)
        ds = t["summary"].to_dataset()
        ds.attrs = {"rule": rule, "mode": "online", "heat_convention": t.attrs["heat_convention"],
                    "solver": t.attrs["solver"]}
        tree[f"online/{rule}"] = ds
    t = theory_teacher_student(alphas_batch, mode="batch", rule="hebbian", t=math.inf)
    ds = t["summary"].to_dataset()
    ds.attrs = {"rule": "hebbian", "mode": "batch", "heat_convention": "not_applicable",
                "time": "inf"}
    tree["batch/hebbian"] = ds
    return tree


def simulations(args, record_alphas, batch_alphas,
                advance=lambda n=1, **kw: None) -> xr.DataTree:
    """Finite-N simulations: online, the three rules; batch Hebbian at t = inf, one run per alpha."""
    from thermoinfer.teacher_student import simulate_teacher_student
    from thermoinfer.theory.teacher_student import teacher_student_theory

    tree = xr.DataTree(_root("simulation", {"N": args.N, "replicas": args.replicas,
                                            "batch_N": args.batch_N,
                                            "batch_replicas": args.batch_replicas,
                                            "quick": bool(args.quick)}, seed=args.seed))
    a_final = float(record_alphas[-1])
    for i, rule in enumerate(RULES):
        t0 = time.perf_counter()
        advance(0, description=f"online {rule}")
        sim = simulate_teacher_student(args.seed + i, mode="online", n_weights=args.N,
                                       alpha=a_final, record_alphas=record_alphas[:-1], rule=rule,
                                       nu=1.0, k=1.0, temperature=1.0, n_replicas=args.replicas)
        ds = sim["summary"].to_dataset()
        th = teacher_student_theory(ds["alpha"].values, rule=rule)
        for name in ("R", "Q", "generalization_error", "heat_per_weight"):
            z = (ds[name].values - np.asarray(getattr(th, name))) / ds[f"{name}_se"].values
            ds[f"{name}_z"] = ("time", z, {"units": "1", "long_name": f"(simulation - theory) / SE of {name}"})
        ds.attrs = {"rule": rule, "mode": "online", "N": args.N, "replicas": args.replicas,
                    "heat_convention": sim.attrs["heat_convention"],
                    "wall_time_s": round(time.perf_counter() - t0, 2)}
        tree[f"online/{rule}"] = ds
        advance(1)
    rows = []
    t0 = time.perf_counter()
    for j, a in enumerate(batch_alphas):
        advance(0, description=f"batch hebbian α={float(a):g}")
        sim = simulate_teacher_student(args.seed + 100 + j, mode="batch", n_weights=args.batch_N,
                                       alpha=float(a), rule="hebbian", t=math.inf,
                                       n_replicas=args.batch_replicas)
        ds = sim["summary"].to_dataset().isel(time=0, drop=True).drop_vars("t", errors="ignore")
        ds = ds.assign_coords(alpha=a)
        rows.append(ds)
        advance(1)
    ds = xr.concat(rows, dim="point")
    ds["alpha"].attrs = {"units": "1", "long_name": "load P/N"}
    th = teacher_student_theory(np.asarray(batch_alphas, float), mode="batch")
    for name in ("R", "Q", "generalization_error", "heat_per_weight"):
        z = (ds[name].values - np.asarray(getattr(th, name))) / ds[f"{name}_se"].values
        ds[f"{name}_z"] = ("point", z, {"units": "1", "long_name": f"(simulation - theory) / SE of {name}"})
    ds.attrs = {"rule": "hebbian", "mode": "batch", "N": args.batch_N,
                "replicas": args.batch_replicas, "heat_convention": "not_applicable", "time": "inf",
                "wall_time_s": round(time.perf_counter() - t0, 2)}
    tree["batch/hebbian"] = ds
    return tree


def main(args) -> xr.DataTree:
    """Compute theory and simulations, write the .nc files and the PNG; return the simulation tree."""
    from thermoinfer.data.io import write_netcdf
    from thermoinfer.progress import progress_bar, wants_progress

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.N, args.replicas = min(args.N, 1000), min(args.replicas, 16)
        args.batch_replicas = min(args.batch_replicas, 8)
        record = np.array([0.25, 0.5, 1.0, 1.5, 2.0])
        batch = np.array([0.5, 1.0])
    else:
        record = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
        batch = np.array([0.25, 0.5, 1.0, 2.0])
    a_max = float(record[-1])
    th = theory(np.linspace(0.0, a_max, 101), np.linspace(0.0, max(2.0, float(batch[-1])), 81))
    write_netcdf(th, out / "teacher_student_theory.nc")
    with progress_bar(len(RULES) + len(batch), "simulating",
                      wants_progress(args.progress)) as advance:
        sims = simulations(args, record, batch, advance)
    write_netcdf(sims, out / "teacher_student_simulation.nc")
    png = plot(out)
    print_table(sims)
    for path in (out / "teacher_student_theory.nc", out / "teacher_student_simulation.nc", png):
        print(f"wrote {path}")
    return sims


def plot(out: Path) -> Path:
    """The figure, from the .nc files only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thermoinfer.data.io import read_netcdf

    th = read_netcdf(out / "teacher_student_theory.nc")
    sim = read_netcdf(out / "teacher_student_simulation.nc")
    panels = (("generalization_error", "generalisation error ε_g"), ("R", "overlap R = ω·T/N"),
              ("Q", "norm Q = |ω|²/N"), ("heat_per_weight", "heat ΔQ/N (online: kick_relaxation)"),
              ("efficiency", "efficiency η"), ("margin_per_weight", "margin (ΔS(ω|T)+ΔQ/T)/N"))
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    for ax, (name, label) in zip(axes.flat, panels, strict=True):
        for rule in RULES:
            t = th[f"online/{rule}"].to_dataset()
            s = sim[f"online/{rule}"].to_dataset()
            c = COLORS[rule]
            ax.plot(t["alpha"], t[name], "-", color=c, label=f"{rule} online" if name == "R" else None)
            y = s[name].values
            if np.isfinite(y).any():
                ax.errorbar(s["alpha"], y, yerr=s[f"{name}_se"], fmt="o", color=c, ms=4, capsize=2)
        tb = th["batch/hebbian"].to_dataset()
        sb = sim["batch/hebbian"].to_dataset()
        ax.plot(tb["alpha"], tb[name], "--", color="C3", label="hebbian batch (t=∞)" if name == "R" else None)
        ax.errorbar(sb["alpha"], sb[name], yerr=sb[f"{name}_se"], fmt="s", color="C3", mfc="none",
                    ms=5, capsize=2)
        ax.set(xlabel="α (online: samples/N; batch: load P/N)", title=label)
    axes.flat[1].legend(fontsize=8)
    axes.flat[4].text(0.97, 0.04, "Perceptron/AdaTron: η = NaN\n(feedback_uncorrected)",
                      transform=axes.flat[4].transAxes, fontsize=8, va="bottom", ha="right")
    axes.flat[5].axhline(0.0, color="gray", lw=0.8)
    n = sim["online/hebbian"].attrs.get("N", "?")
    fig.suptitle(f"Teacher-student learning, ν = k = T = 1: theory (lines) vs simulation "
                 f"(online N = {n}: circles; batch Hebbian: squares)")
    fig.tight_layout()
    path = out / "teacher_student.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def print_table(sims: xr.DataTree) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="simulation vs theory: (sim - theory)/SE")
    for col in ("mode", "rule", "α", "R ± SE", "z_R", "Q ± SE", "z_Q", "ε_g", "ΔQ/N", "η", "status"):
        table.add_column(col, justify="right")
    for group in ("online/hebbian", "online/perceptron", "online/adatron", "batch/hebbian"):
        ds = sims[group].to_dataset()
        dim = "time" if "time" in ds.dims else "point"
        for i in range(ds.sizes[dim]):
            s = ds.isel({dim: i})
            eta = float(s["efficiency"])
            table.add_row(ds.attrs["mode"], ds.attrs["rule"], f"{float(s['alpha']):g}",
                          f"{float(s['R']):.4f}±{float(s['R_se']):.4f}", f"{float(s['R_z']):+.2f}",
                          f"{float(s['Q']):.4f}±{float(s['Q_se']):.4f}", f"{float(s['Q_z']):+.2f}",
                          f"{float(s['generalization_error']):.4f}",
                          f"{float(s['heat_per_weight']):.4f}",
                          "nan" if math.isnan(eta) else f"{eta:.4f}", str(s["efficiency_status"].values))
    Console(width=160).print(table)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--N", type=int, default=2000, help="weights of the online simulations (default 2000)")
    p.add_argument("--replicas", type=int, default=48, help="online replicas per rule (default 48)")
    p.add_argument("--batch-N", type=int, default=1000, help="weights of the batch runs (default 1000)")
    p.add_argument("--batch-replicas", type=int, default=12,
                   help="batch replicas per load (memory ~ replicas * alpha * N^2 * 8 bytes)")
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--quick", action="store_true", help="N = 1000, alpha up to 2, fewer replicas")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    return p.parse_args(argv)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main(parse_args())
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

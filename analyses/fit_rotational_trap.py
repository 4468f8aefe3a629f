"""Posterior of the entropy-production rate of a driven (rotational) trap, fitted to trajectories.

Claim (docs/theory/linear-ou.md): from measured trajectories alone, thermoinfer returns a
calibrated posterior of the steady entropy-production rate. An overdamped particle in the
rotationally driven trap F = -k x + eps z x x (drift A = [[-k, -eps], [eps, -k]], isotropic
D) is simulated with exact transitions at sampling interval dt (known truth: k = 1, eps = 0.5,
D = 1, so sigma = 2 eps^2 / k = 0.5 nats per unit time), and fitted with the ``linear-ou`` model
(exact transition likelihood, A = (J - D) C^-1 stable by construction) by NUTS. Printed and
plotted: the posterior of sigma and of the KL rate at dt against their exact values, and the
posterior of k, eps and D.

Writes

* results/rotational_trap_ep.nc   truth, posterior draws of sigma, the KL rate, k, eps, D
  (chain, draw), and their summaries (validated schema);
* results/rotational_trap_fit.nc  the full fit DataTree (only with ``--save-fit``; read it with
  ``thermoinfer.inference.fit.read_fit``: it has the matrix dims ``component, component_j``);
* results/rotational_trap_ep.png  the figure (plotting reads the .nc only).

Runtime: about 1 minute on 2 cores (``--quick``: ~30 s).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

#: CPU devices for parallel chains (set before JAX starts, by ``thermoinfer run`` too)
HOST_DEVICES = 2

K_TRUE, EPS_TRUE, D_TRUE = 1.0, 0.5, 1.0


def _truth(dt: float) -> dict:
    from thermoinfer.thermo.linear_system import linear_system_ep

    A = np.array([[-K_TRUE, -EPS_TRUE], [EPS_TRUE, -K_TRUE]])
    res = linear_system_ep(A, D_TRUE, dt)
    return {"entropy_production_rate": float(res.entropy_production_rate),
            "kl_rate_at_dt": float(res.kl_rate_at_dt), "stiffness": K_TRUE,
            "rotation": EPS_TRUE, "diffusion": D_TRUE}


def main(args) -> xr.DataTree:
    """Simulate, fit, write the .nc files and the PNG; return the result tree."""
    from thermoinfer.data.io import write_netcdf
    from thermoinfer.data.observations import simulate_linear_ou
    from thermoinfer.data.schema import conventions_attrs, provenance
    from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning, summary
    from thermoinfer.inference.fit import fit, write_fit
    from thermoinfer.progress import wants_progress

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_steps = 200 if args.quick else args.steps
    replicas = 2 if args.quick else args.replicas
    draws = 300 if args.quick else args.draws
    times = np.arange(n_steps + 1) * args.dt
    A = [[-K_TRUE, -EPS_TRUE], [EPS_TRUE, -K_TRUE]]
    data = simulate_linear_ou(A, D_TRUE, times, n_replicas=replicas, seed=args.seed,
                              components=["x", "y"], units="length_unit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PoorDiagnosticsWarning)
        tree = fit(data, "linear-ou", chains=args.chains, draws=draws, warmup=draws,
                   seed=args.seed, ci_prob=0.9, show=False,
                   progress_bar=wants_progress(args.progress))
    poor = [str(w.message) for w in caught if issubclass(w.category, PoorDiagnosticsWarning)]
    if args.save_fit:
        write_fit(tree, out / "rotational_trap_fit.nc")
    truth = _truth(args.dt)
    A_draws = tree["posterior"]["drift"]
    D_draws = tree["posterior"]["diffusion"]
    comp, comp_j = "component", "component_j"
    a = lambda i, j: A_draws.isel({comp: i, comp_j: j}, drop=True)  # noqa: E731
    thermo = tree["thermodynamics"].to_dataset()
    post = xr.Dataset({
        "entropy_production_rate": thermo["entropy_production_rate"],
        "kl_rate_at_dt": thermo["kl_rate_at_dt"],
        "stiffness": (-(a(0, 0) + a(1, 1)) / 2).assign_attrs(
            units="time_unit-1", long_name="k = -tr(A)/2"),
        "rotation": ((a(1, 0) - a(0, 1)) / 2).assign_attrs(
            units="time_unit-1", long_name="eps = (A_yx - A_xy)/2"),
        "diffusion": ((D_draws.isel({comp: 0, comp_j: 0}, drop=True)
                       + D_draws.isel({comp: 1, comp_j: 1}, drop=True)) / 2).assign_attrs(
            units="length_unit2 time_unit-1", long_name="D = tr(D)/2"),
    })
    res = xr.DataTree(xr.Dataset(attrs={
        **provenance(config={"analysis": "fit_rotational_trap", "dt": args.dt,
                             "steps": n_steps, "replicas": replicas, "draws": draws,
                             "chains": args.chains, "quick": bool(args.quick)}, seed=args.seed),
        **conventions_attrs(path_weights="exact_ou", temperature="inferred"),
        "title": "posterior of the entropy-production rate of a rotational trap",
        "diagnostics": "; ".join(poor) if poor else "all within thresholds",
    }))
    res["posterior"] = post
    res["truth"] = xr.Dataset({k: ((), v, {"units": post[k].attrs["units"],
                                           "long_name": f"true {post[k].attrs['long_name']}"})
                               for k, v in truth.items()})
    res["summary"] = _summary_ds(res, summary)
    write_netcdf(res, out / "rotational_trap_ep.nc")
    png = plot(out)
    print_table(res)
    written = [out / "rotational_trap_ep.nc", png]
    if args.save_fit:
        written.insert(0, out / "rotational_trap_fit.nc")
    for path in written:
        print(f"wrote {path}")
    return res


def _summary_ds(res, summary):
    table = summary(res, ci_prob=0.9, group="posterior", fmt="xarray", round_to="none")
    out = {}
    for name in table.data_vars:
        for stat in ("mean", "sd", "eti90_lb", "eti90_ub", "ess_bulk", "r_hat"):
            label = {"eti90_lb": "ci_lower", "eti90_ub": "ci_upper"}.get(stat, stat)
            units = "1" if stat in ("ess_bulk", "r_hat") else res["posterior"][name].attrs["units"]
            out[f"{name}_{label}"] = ((), float(table[name].sel(summary=stat)),
                                      {"units": units, "long_name": f"{label} of {name}"})
    return xr.Dataset(out, attrs={"ci_prob": 0.9, "ci_kind": "eti"})


def print_table(res: xr.DataTree) -> None:
    s, t = res["summary"], res["truth"]
    print("rotational trap, linear-ou fit (exact transitions): posterior vs truth, 90% intervals")
    print(f"{'quantity':<26}{'truth':>10}{'mean':>10}{'sd':>9}{'90% interval':>22}{'R-hat':>7}")
    for name in ("entropy_production_rate", "kl_rate_at_dt", "stiffness", "rotation",
                 "diffusion"):
        lo, hi = float(s[f"{name}_ci_lower"]), float(s[f"{name}_ci_upper"])
        inside = "ok" if lo <= float(t[name]) <= hi else "MISS"
        print(f"{name:<26}{float(t[name]):>10.4f}{float(s[f'{name}_mean']):>10.4f}"
              f"{float(s[f'{name}_sd']):>9.4f}   [{lo:8.4f}, {hi:8.4f}] {inside:>4}"
              f"{float(s[f'{name}_r_hat']):>7.3f}")
    print(f"diagnostics: {res.attrs['diagnostics']}")


def plot(out: Path) -> Path:
    """Figure from the .nc file only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thermoinfer.data.io import read_netcdf

    res = read_netcdf(out / "rotational_trap_ep.nc")
    post, truth = res["posterior"], res["truth"]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    panels = (("entropy_production_rate", "σ (nats / time)"),
              ("kl_rate_at_dt", "KL rate at Δt (nats / time)"),
              ("rotation", "ε"), ("diffusion", "D"))
    for ax, (name, label) in zip(axes, panels, strict=True):
        x = np.asarray(post[name]).ravel()
        ax.hist(x, bins=40, density=True, color="C0", alpha=0.6)
        ax.axvline(float(truth[name]), color="k", lw=1.5, label="exact")
        lo, hi = np.quantile(x, [0.05, 0.95])
        ax.axvspan(lo, hi, color="C0", alpha=0.12, label="90% interval")
        ax.set(xlabel=label, yticks=[])
    axes[0].legend(fontsize=8)
    fig.suptitle("rotational trap (k = 1, ε = 0.5, D = 1): posterior from trajectories vs exact")
    fig.tight_layout()
    path = out / "rotational_trap_ep.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--dt", type=float, default=0.1, help="sampling interval (default 0.1)")
    p.add_argument("--steps", type=int, default=1000, help="transitions per replica")
    p.add_argument("--replicas", type=int, default=4, help="independent trajectories")
    p.add_argument("--chains", type=int, default=2, help="NUTS chains")
    p.add_argument("--draws", type=int, default=1000, help="draws (and warmup) per chain")
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--save-fit", action="store_true", help="also write the full fit DataTree")
    p.add_argument("--quick", action="store_true", help="short data and chains (smoke test)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    return p.parse_args(argv)


if __name__ == "__main__":
    import numpyro

    numpyro.set_host_device_count(HOST_DEVICES)
    t0 = time.perf_counter()
    main(parse_args())
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

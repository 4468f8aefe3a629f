"""Posterior of the entropy production and the learning efficiency of a Hebbian neuron from its weights.

Claim (docs/theory/thermodynamics-and-bound.md, docs/theory/hebbian-memorisation.md,
docs/theory/paths-and-entropy-production.md): from the observed weight trajectories of a learning
neuron, thermoinfer returns posteriors of the thermodynamics of learning **over the observed
window** — batch learning relaxes to equilibrium, so there is no steady rate to report — and of
the learning efficiency eta, each with its exact value inside the credible interval. A neuron
with N = 10 weights learns P = 10 random labels by Hebbian batch learning (exact OU simulation,
k = 1, nu = 1, T = 1, window t = 5, sampled every dt = 0.05, 4 replicas on the same data); the
``neuron`` model (exact OU likelihood; T unknown, so D = mu T is fitted) is fitted by NUTS.
Printed and plotted against the exact values at the true parameters (computed by the same
functions):

* ``mean_entropy_production``: <Delta s_tot> = |f|^2 (1 - e^{-2kt}) / (2kT) for the given data;
* ``total_entropy_production``: Delta s_tot of each observed path, ln p_0(w_0) - ln p_t(w_t) + q/T;
* ``efficiency``: eta under the ``annealed`` entropy convention (thermodynamic-limit theory at
  the observed load).

Writes results/learning_neuron_fit.nc (the full fit DataTree, with the truth in the group
``truth``) and results/learning_neuron_ep.png (plotting reads the .nc only). Runtime: about
1 minute on 2 cores (``--quick``: ~20 s).
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

TRUE = {"stiffness": 1.0, "learning_rate": 1.0, "temperature": 1.0}
SHOWN = (("thermodynamics", "mean_entropy_production", "window <Δs_tot> (nats)"),
         ("thermodynamics", "total_entropy_production", "Δs_tot of each path (nats)"),
         ("information", "efficiency", "efficiency η (annealed)"),
         ("posterior", "diffusion", "D = μT"))


def _truth(module, data_kwargs, observations):
    """Derived quantities at the true parameters, with the model's own function."""
    draws = {"stiffness": np.array([TRUE["stiffness"]]),
             "learning_rate": np.array([TRUE["learning_rate"]]),
             "diffusion": np.array([TRUE["temperature"]])}
    data = dict(data_kwargs, observations=observations)
    out = module.derived_quantities(draws, data)
    values = {}
    for group, variables in out.items():
        for name, (dims, v, units, long_name) in variables.items():
            values[f"{group}__{name}"] = (tuple(dims), np.asarray(v)[0], units,
                                          f"true {long_name}")
    values["posterior__diffusion"] = ((), TRUE["temperature"], "weight_unit2 time_unit-1",
                                      "true D = mu T")
    return values


def main(args) -> xr.DataTree:
    """Simulate, fit, write the .nc and the PNG; return the fit tree (with ``truth``)."""
    from thermoinfer.data.io import write_netcdf
    from thermoinfer.data.observations import simulate_neuron
    from thermoinfer.inference.diagnostics import PoorDiagnosticsWarning
    from thermoinfer.inference.fit import fit, prepare
    from thermoinfer.progress import wants_progress

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = 6 if args.quick else args.N
    replicas = 2 if args.quick else args.replicas
    draws = 300 if args.quick else args.draws
    data = simulate_neuron(args.seed, n, args.alpha, stiffness=TRUE["stiffness"],
                           learning_rate=TRUE["learning_rate"], temperature=TRUE["temperature"],
                           t=args.window, dt=args.dt, n_replicas=replicas)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PoorDiagnosticsWarning)
        tree = fit(data, "neuron", rule="hebbian", chains=args.chains, draws=draws,
                   warmup=draws, seed=args.seed, ci_prob=0.9,
                   progress_bar=wants_progress(args.progress))
    poor = [str(w.message) for w in caught if issubclass(w.category, PoorDiagnosticsWarning)]
    prep = prepare(data, "neuron", rule="hebbian")
    truth = _truth(prep.module, dict(prep.kwargs, times=prep.times), prep.observations)
    tds = xr.Dataset({k: (dims, v, {"units": u, "long_name": ln})
                      for k, (dims, v, u, ln) in truth.items()},
                     coords={"replica": tree["thermodynamics"]["replica"].values})
    tree["truth"] = tds
    tree.attrs["analysis"] = "fit_learning_neuron"
    tree.attrs["analysis_diagnostics"] = "; ".join(poor) if poor else "all within thresholds"
    write_netcdf(tree, out / "learning_neuron_fit.nc")
    png = plot(out)
    print_table(tree)
    for path in (out / "learning_neuron_fit.nc", png):
        print(f"wrote {path}")
    return tree


def print_table(tree: xr.DataTree) -> None:
    print("Hebbian learning neuron, neuron fit (exact OU likelihood): posterior vs truth, "
          "90% intervals")
    print(f"{'quantity':<34}{'truth':>10}{'mean':>10}{'sd':>9}{'90% interval':>22}")
    for group, name, _ in SHOWN:
        draws = tree[group][name]
        true = np.atleast_1d(tree["truth"][f"{group}__{name}"].values)
        x = np.asarray(draws).reshape(draws.sizes["chain"] * draws.sizes["draw"], -1)
        for j in range(x.shape[1]):
            lo, hi = np.quantile(x[:, j], [0.05, 0.95])
            label = name + (f"[replica {j}]" if x.shape[1] > 1 else "")
            inside = "ok" if lo <= true[j] <= hi else "MISS"
            print(f"{label:<34}{true[j]:>10.4f}{x[:, j].mean():>10.4f}{x[:, j].std():>9.4f}"
                  f"   [{lo:8.4f}, {hi:8.4f}] {inside}")
    print(f"temperature: {tree.attrs['temperature']}; diagnostics: "
          f"{tree.attrs['analysis_diagnostics']}")


def plot(out: Path) -> Path:
    """Figure from the .nc file only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thermoinfer.data.io import read_netcdf

    tree = read_netcdf(out / "learning_neuron_fit.nc")
    fig, axes = plt.subplots(1, len(SHOWN), figsize=(14, 3.4))
    for ax, (group, name, label) in zip(axes, SHOWN, strict=True):
        draws = tree[group][name]
        true = np.atleast_1d(tree["truth"][f"{group}__{name}"].values)
        x = np.asarray(draws).reshape(draws.sizes["chain"] * draws.sizes["draw"], -1)
        for j in range(x.shape[1]):
            ax.hist(x[:, j], bins=40, density=True, alpha=0.5, color=f"C{j}")
            ax.axvline(true[j], color=f"C{j}", lw=1.5, ls="-" if j == 0 else "--")
        ax.set(xlabel=label, yticks=[])
    axes[0].plot([], [], "k-", label="exact (truth)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Hebbian neuron (k = ν = T = 1): posteriors of the window thermodynamics "
                 "from the weight trajectories")
    fig.tight_layout()
    path = out / "learning_neuron_ep.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--N", type=int, default=10, help="number of weights")
    p.add_argument("--alpha", type=float, default=1.0, help="load P/N")
    p.add_argument("--window", type=float, default=5.0, help="learning window t (units of 1/k)")
    p.add_argument("--dt", type=float, default=0.05, help="sampling interval")
    p.add_argument("--replicas", type=int, default=4, help="replicas on the same data")
    p.add_argument("--chains", type=int, default=2, help="NUTS chains")
    p.add_argument("--draws", type=int, default=1000, help="draws (and warmup) per chain")
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--quick", action="store_true", help="small neuron, short chains (smoke test)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    return p.parse_args(argv)


if __name__ == "__main__":
    import numpyro

    numpyro.set_host_device_count(HOST_DEVICES)
    t0 = time.perf_counter()
    main(parse_args())
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

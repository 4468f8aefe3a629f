r"""thermoinfer's Bayesian fit against StochasticForceInference (SFI) 2.0.4, on the same data.

Both tools estimate the steady entropy-production rate $\sigma$ (nats per time unit,
$k_B = 1$) of an overdamped Langevin process $d\boldsymbol x = \boldsymbol F(\boldsymbol x)\,dt
+ \sqrt{2D}\,d\boldsymbol W$ recorded every ``dt``:

* **thermoinfer**: :func:`thermoinfer.inference.fit.fit` (NUTS, 2 chains, 1000 draws after
  1000 warmup, no predictive draws); the estimate is the posterior mean of
  ``thermodynamics/entropy_production_rate``, the interval its equal-tailed 90% credible
  interval; for ``polynomial-drift`` (the variational rate over polynomial potentials) also
  those of ``entropy_production_rate_stratonovich`` (row "... (Stratonovich)").
* **SFI**: ``OverdampedLangevinInference`` with SFI's defaults (``compute_diffusion_constant()``,
  ``infer_force_linear(basis)``, ``compute_entropy_production()``; Frishman & Ronceray,
  Phys. Rev. X 10, 021009 (2020)); the basis is vector monomials of the degrees that span the
  true drift. The estimate is SFI's bias-corrected rate ``Sdot_debiased``
  $= \hat{\dot S} - 2N_b/\tau$ and the interval ``Sdot_debiased`` $\pm 1.645$ ``Sdot_error``
  (90% if the error is Gaussian); the raw plug-in ``Sdot`` is listed too. SFI runs in float64
  (``jax_enable_x64``).

Cases (the same data file for both tools):

``trap``
    2-D rotational trap $A = [[-k, -\varepsilon], [\varepsilon, -k]]$, $k = 1$,
    $\varepsilon = 0.5$, $D = 1$, $\Delta t = 0.01$: the data and the truth
    $\sigma = 2\varepsilon^2/k = 0.5$ of ``benchmarks/fit_scale.py``; model ``linear-ou``, SFI
    basis: degree-1 monomials ($N_b = 4$, no constant: ``linear-ou`` has none either).
``chain``
    5 beads on a line, nearest-neighbour springs $k = 1$, the end beads tied to walls by the
    same springs, mobility 1, bath temperatures falling linearly from $T_h = 5$ (first bead) to
    $T_c = 1$ (last): $A = -kL$ ($L$ the tridiagonal $[-1, 2, -1]$ matrix), $D =
    \mathrm{diag}(T_i)$, $\Delta t = 0.02$ ($k\,\Delta t = 0.02$); exact OU data; truth from
    :func:`thermoinfer.thermo.linear_system.entropy_production_rate`; models ``linear-ou`` and
    ``polynomial-drift`` with ``degree=1`` (row "thermoinfer poly N=1": a linear force plus a
    constant, Euler–Maruyama likelihood); SFI basis: degree-1 monomials ($N_b = 25$).
``quartic``
    2-D quartic radial trap $U = a r^4/4 + b r^2/2$ with a rotation
    $\varepsilon(-y, x)$, $D = 1$; the steady density stays $\propto e^{-U/D}$ (the rotation is
    divergence-free and tangential), so $\sigma = \varepsilon^2\langle r^2\rangle / D$ (one
    quadrature); data by ``simulate_langevin`` (10 Euler–Maruyama substeps per recorded step,
    $\Delta t = 0.01$, 20 time units of burn-in); model ``polynomial-drift`` with ``degree=3``,
    SFI basis the same: all monomials up to degree 3 ($N_b = 20$). Skipped, with a message,
    where that model or ``thermoinfer.data.observations.simulate_langevin`` is not installed.

Measured per case and size: the estimate and 90% interval, whether it covers the truth,
**warm** wall time (a second fit in the same process: imports, data loading and compilation
already done), **cold** wall time (a fresh process, everything included: the process's wall time
by ``/usr/bin/time -v`` less the warm fit it ran afterwards) and the **peak RSS** of that
process. thermoinfer starts each process with an empty persistent compilation cache (a fresh
``THERMOINFER_COMPILATION_CACHE`` folder); SFI's persistent cache is off (its default).

A fit that runs past ``--timeout`` seconds (default 600; the first fit of a process with its
imports and compilation) is killed and reported, and not tried again in the run.

``--coverage R`` also fits R replicate data sets (seeds 1001..1000+R) of ``--coverage-frames``
frames per case with both tools, in one process per tool and case, and reports the fraction of
90% intervals that cover the truth with its exact (Clopper–Pearson) binomial 95% interval.

Setup
-----
SFI is not a dependency of thermoinfer (the optional extra ``bench`` names the pinned version).
It runs in its own process, from its own environment, so the locked ``.venv`` stays exactly the
lock; the data go to SFI as ``.npz`` files (``X``: ``(frames, d)`` positions, ``dt``) and the
results come back as JSON::

    .venv/bin/python -m venv .bench-venv          # once; .bench-venv is ignored by git
    .bench-venv/bin/pip install stochasticforceinference==2.0.4
    .venv/bin/python benchmarks/sfi_compare.py [--cases trap,chain,quartic]
        [--frames 20000,320000,1000000] [--coverage 20] [--quick]

The interpreter that runs SFI is ``--sfi-python``, else ``$SFI_PYTHON``, else
``.bench-venv/bin/python``, else this one (an environment with both packages:
``pip install -e '.[bench]'``). ``--tools thermoinfer`` runs without SFI. Data files are kept in
``--data-dir`` (default ``results/sfi-compare-data``); the table is printed and written to
``results/sfi-compare.md``. Not part of CI (tens of minutes; ``--quick``: tiny sizes and short
chains, a smoke run of the whole pipeline in a few minutes).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
SFI_VERSION = "2.0.4"
CASES = ("trap", "chain", "quartic")
TOOLS = ("thermoinfer", "sfi")
Z90 = 1.6448536269514722  # standard-normal 95% quantile: a +-Z90 sigma interval holds 90%

SETUP_HINT = (
    "create its environment once:\n"
    "    .venv/bin/python -m venv .bench-venv\n"
    f"    .bench-venv/bin/pip install stochasticforceinference=={SFI_VERSION}\n"
    "or point --sfi-python (or $SFI_PYTHON) at a Python that has it, or run without SFI with "
    "--tools thermoinfer."
)

# chain: beads, spring constant, hot and cold temperatures, recording step
CHAIN_N, CHAIN_K, CHAIN_TH, CHAIN_TC, CHAIN_DT = 5, 1.0, 5.0, 1.0, 0.02
# quartic radial trap U = a r^4/4 + b r^2/2, rotation eps, diffusion, recording step
QUARTIC_A, QUARTIC_B, QUARTIC_EPS, QUARTIC_D, QUARTIC_DT = 1.0, 1.0, 0.5, 1.0, 0.01
# Euler-Maruyama substeps per recorded step, time simulated and dropped before the record
QUARTIC_SUBSTEPS, QUARTIC_BURN_IN = 10, 20.0
# the polynomial degree of the quartic case's fitted drift (both tools: all monomials up to it)
QUARTIC_DEGREE = 3


# ----------------------------------------------------------------------------- workers
# The two workers run in separate processes; the SFI one runs in the SFI environment, which
# has NumPy but not thermoinfer: nothing below imports thermoinfer at module level.

def _sfi_basis(dim: int, degrees):
    import warnings

    from SFI.bases import monomials_degree, unit_vector_basis
    from SFI.statefunc import Basis

    scalar = Basis.stack([monomials_degree(int(g), dim=dim) for g in degrees])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*Cartesian product.*")
        return scalar * unit_vector_basis(dim)


def _sfi_fit(X, dt, degrees) -> dict:
    import SFI

    data = SFI.TrajectoryCollection.from_arrays(X=X, dt=dt)
    inf = SFI.OverdampedLangevinInference(data)
    inf.compute_diffusion_constant()
    inf.infer_force_linear(_sfi_basis(X.shape[-1], degrees))
    ep = inf.compute_entropy_production()
    err = float(ep["Sdot_error"])
    note = (f"error {_fmt(err)}, bias 2Nb/tau {_fmt(float(ep['Sdot_bias']))}, Nb {int(ep['Nb'])}, "
            f"preset {inf.metadata.get('force_preset')}")
    series = {}
    for label, key in (("sfi", "Sdot_debiased"), ("sfi (raw Sdot)", "Sdot")):
        est = float(ep[key])
        series[label] = {"estimate": est, "lo": est - Z90 * err, "hi": est + Z90 * err,
                         "note": note}
    return series


#: thermoinfer's entropy-production variables, by the suffix of their row label (a variable that
#: a model does not give is left out)
THERMOINFER_SERIES = {"": "entropy_production_rate",
                      " (Stratonovich)": "entropy_production_rate_stratonovich"}


def _thermoinfer_fit(ds, label, model, options, draws, warmup) -> dict:
    from thermoinfer.inference.fit import fit

    tree = fit(ds, model, chains=2, draws=draws, warmup=warmup, seed=0, options=options or None,
               posterior_predictive=False, progress_bar=False)
    thermo = tree["thermodynamics"]
    depth = float(np.mean(tree["sample_stats"]["tree_depth"].values))
    series = {}
    for suffix, var in THERMOINFER_SERIES.items():
        if var not in thermo:
            continue
        ep = np.asarray(thermo[var].values, dtype=float)
        flat = ep.reshape(-1)
        lo, hi = np.quantile(flat, [0.05, 0.95])
        rhat = _split_rhat(ep.reshape(ep.shape[0], -1))
        series[label + suffix] = {
            "estimate": float(flat.mean()), "lo": float(lo), "hi": float(hi),
            "note": f"sd {_fmt(float(flat.std(ddof=1)))}, R-hat {rhat:.3f}, tree depth "
                    f"{depth:.1f}"}
    return series


def _split_rhat(chains) -> float:
    """Split-$\\hat R$ (Gelman et al. 2013) of ``(chain, draw)`` samples, dimensionless."""
    n = chains.shape[1] // 2
    halves = np.concatenate([chains[:, :n], chains[:, n:2 * n]], axis=0)
    w = halves.var(axis=1, ddof=1).mean()
    b = n * halves.mean(axis=1).var(ddof=1)
    return float(np.sqrt(((n - 1) / n * w + b / n) / w)) if w > 0 else float("nan")


def worker(tool: str, job_path: Path) -> int:
    """Fit every file of a job; ``repeat`` fits of the first file when timing (cold, warm)."""
    job = json.loads(job_path.read_text())
    out = {"tool": tool, "fits": []}
    if tool == "sfi":
        import jax

        jax.config.update("jax_enable_x64", True)
        import SFI

        out["version"] = SFI.__version__
        out["jax"] = jax.__version__
    else:
        import thermoinfer

        out["version"] = getattr(thermoinfer, "__version__", "?")
    files = job["files"] * int(job.get("repeat", 1))
    for f in files:
        if tool == "sfi":
            with np.load(f) as z:
                X, dt = np.asarray(z["X"], dtype=float), float(z["dt"])
            t0 = time.perf_counter()
            res = {"series": _sfi_fit(X, dt, job["sfi_degrees"])}
        else:
            from thermoinfer.data.observations import read_observations

            ds = read_observations(str(Path(f).with_suffix(".nc")))
            t0 = time.perf_counter()
            res = {"series": _thermoinfer_fit(ds, job["label"], job["model"], job.get("options"),
                                              job["draws"], job["warmup"])}
        res["seconds"] = time.perf_counter() - t0
        res["file"] = str(f)
        out["fits"].append(res)
        # after every fit, atomically: the driver watches the count (time limit per fit)
        partial = Path(job["output"] + ".part")
        partial.write_text(json.dumps(out))
        partial.replace(job["output"])
    return 0


# ----------------------------------------------------------------------------- cases


def _save(ds, base: Path, truth: float, dt: float) -> Path:
    """Write ``base.nc`` (thermoinfer) and ``base.npz`` (SFI: ``X`` of one replica, ``dt``)."""
    from thermoinfer.data.io import write_netcdf

    write_netcdf(ds, base.with_suffix(".nc"))
    X = np.asarray(ds["observations"].values[0], dtype=float)
    np.savez(base.with_suffix(".npz"), X=X, dt=dt, truth=truth)
    return base.with_suffix(".npz")


def linear_plugin_sigma(npz: Path) -> float:
    r"""$\sigma$ of the least-squares linear fit of the data themselves: a reference for the fits.

    $\hat\Phi$ regresses $\boldsymbol x_{i+1}$ on $\boldsymbol x_i$,
    $\hat A = \ln\hat\Phi/\Delta t$,
    $\hat C$ solves $C = \hat\Phi C\hat\Phi^\top + \hat Q$ ($\hat Q$ the residual covariance) and
    $\hat D = -(\hat A\hat C + \hat C\hat A^\top)/2$; then
    :func:`thermoinfer.thermo.linear_system.entropy_production_rate` (nats/time). It shows how
    far the realisation itself lies from the truth (the data of two sizes share their first
    frames: the seeds are the same).
    """
    import jax
    from scipy.linalg import logm, solve_discrete_lyapunov

    from thermoinfer.thermo.linear_system import entropy_production_rate

    with np.load(npz) as z:
        X, dt = np.asarray(z["X"], dtype=float), float(z["dt"])
    x0, x1 = X[:-1], X[1:]
    Phi = np.linalg.lstsq(x0, x1, rcond=None)[0].T
    Q = np.cov((x1 - x0 @ Phi.T).T, bias=True)
    A = np.real(logm(Phi)) / dt
    C = solve_discrete_lyapunov(Phi, Q)
    D = -(A @ C + C @ A.T) / 2
    with jax.enable_x64(True):
        return float(entropy_production_rate(A, D))


def _trap_truth() -> float:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fit_scale import truth

    return truth()


def _trap_data(folder: Path, frames: int, seed: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import xarray as xr
    from fit_scale import DT, data_file

    nc = data_file(folder, frames, seed=seed)  # trap-{frames}-seed{seed}.nc, fit_scale's data
    npz = nc.with_suffix(".npz")
    if not npz.exists():
        with xr.open_dataset(nc) as ds:
            X = np.asarray(ds["observations"].values[0], dtype=float)
        np.savez(npz, X=X, dt=DT, truth=_trap_truth())
    return npz


def chain_system():
    """Drift $A = -kL$ (1/time) and diffusion $D = \\mathrm{diag}(T_i)$ of the bead chain."""
    n = CHAIN_N
    L = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    return -CHAIN_K * L, np.diag(np.linspace(CHAIN_TH, CHAIN_TC, n))


def _chain_truth() -> float:
    import jax

    from thermoinfer.thermo.linear_system import entropy_production_rate

    A, D = chain_system()
    with jax.enable_x64(True):
        return float(entropy_production_rate(A, D))


def _chain_data(folder: Path, frames: int, seed: int) -> Path:
    from thermoinfer.data.observations import simulate_linear_ou

    base = folder / f"chain-{frames}-seed{seed}"
    if not base.with_suffix(".npz").exists():
        A, D = chain_system()
        ds = simulate_linear_ou(A, D, np.arange(frames) * CHAIN_DT, seed=seed)
        _save(ds, base, _chain_truth(), CHAIN_DT)
    return base.with_suffix(".npz")


def _quartic_truth() -> float:
    r"""$\sigma = \varepsilon^2\langle r^2\rangle/D$ under $\rho\propto e^{-U/D}$ (quadrature)."""
    from scipy.integrate import quad

    def w(r):
        return r * math.exp(-(QUARTIC_A * r ** 4 / 4 + QUARTIC_B * r ** 2 / 2) / QUARTIC_D)

    r2 = quad(lambda r: r * r * w(r), 0, np.inf)[0] / quad(w, 0, np.inf)[0]
    return QUARTIC_EPS ** 2 * r2 / QUARTIC_D


def quartic_missing() -> str | None:
    """Why the quartic case cannot run here, or ``None`` when it can."""
    from thermoinfer.inference.registry import model_paths

    if "polynomial-drift" not in model_paths():
        return "the model 'polynomial-drift' is not installed (models/polynomial_drift.py)"
    from thermoinfer.data import observations

    if not hasattr(observations, "simulate_langevin"):
        return "thermoinfer.data.observations.simulate_langevin is not there"
    return None


def quartic_drift(x):
    r"""The force $\boldsymbol F = -(a r^2 + b)\,\boldsymbol x + \varepsilon(-y, x)$, length/time.

    At one point ``(2,)``; JAX-traceable
    (:func:`thermoinfer.data.observations.simulate_langevin` ``vmap``-s it).
    """
    import jax.numpy as jnp

    r2 = jnp.sum(x * x)
    return -(QUARTIC_A * r2 + QUARTIC_B) * x + QUARTIC_EPS * jnp.stack([-x[1], x[0]])


def _quartic_data(folder: Path, frames: int, seed: int) -> Path:
    from thermoinfer.data.observations import simulate_langevin

    base = folder / f"quartic-{frames}-seed{seed}"
    if not base.with_suffix(".npz").exists():
        ds = simulate_langevin(quartic_drift, QUARTIC_D * np.eye(2),
                               np.arange(frames) * QUARTIC_DT, seed=seed,
                               substeps=QUARTIC_SUBSTEPS, burn_in=QUARTIC_BURN_IN)
        _save(ds, base, _quartic_truth(), QUARTIC_DT)
    return base.with_suffix(".npz")


def case_setup(case: str) -> dict:
    """Data maker, truth, description and the fits of a case: ``(tool, label, job options)``."""
    if case == "trap":
        return {"data": _trap_data, "truth": _trap_truth, "linear": True,
                "about": "2-D rotational trap k = 1, eps = 0.5, D = 1, dt = 0.01",
                "fits": [("thermoinfer", "thermoinfer", {"model": "linear-ou"}),
                         ("sfi", "sfi", {"sfi_degrees": [1]})]}
    if case == "chain":
        return {"data": _chain_data, "truth": _chain_truth, "linear": True,
                "about": f"{CHAIN_N}-bead chain, springs k = {CHAIN_K:g}, T from {CHAIN_TH:g} to "
                         f"{CHAIN_TC:g}, dt = {CHAIN_DT:g}",
                "fits": [("thermoinfer", "thermoinfer", {"model": "linear-ou"}),
                         ("thermoinfer", "thermoinfer poly N=1",
                          {"model": "polynomial-drift", "options": {"degree": 1}}),
                         ("sfi", "sfi", {"sfi_degrees": [1]})]}
    return {"data": _quartic_data, "truth": _quartic_truth, "linear": False,
            "about": f"quartic radial trap a = {QUARTIC_A:g}, b = {QUARTIC_B:g}, rotation eps = "
                     f"{QUARTIC_EPS:g}, D = {QUARTIC_D:g}, dt = {QUARTIC_DT:g}; polynomial "
                     f"degree {QUARTIC_DEGREE}",
            "fits": [("thermoinfer", "thermoinfer",
                      {"model": "polynomial-drift", "options": {"degree": QUARTIC_DEGREE}}),
                     ("sfi", "sfi", {"sfi_degrees": list(range(QUARTIC_DEGREE + 1))})]}


# ----------------------------------------------------------------------------- driver


def sfi_python(arg: str | None) -> str | None:
    """The interpreter that has SFI, or ``None``."""
    cands = [arg] if arg else [os.environ.get("SFI_PYTHON") or None, str(BENCH_VENV_PYTHON),
                               sys.executable]
    for c in cands:
        if not c or not Path(c).exists():
            continue
        if c == sys.executable:
            if importlib.util.find_spec("SFI") is not None:
                return c
            continue
        probe = subprocess.run([c, "-c", "import importlib.util as u, sys; "
                                "sys.exit(0 if u.find_spec('SFI') else 1)"],
                               capture_output=True, timeout=60)
        if probe.returncode == 0:
            return c
    return None


def _time_v(stderr: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) from ``/usr/bin/time -v``."""
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    h, m, s = wall.groups()
    seconds = (int(h or 0) * 60 + int(m)) * 60 + float(s)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    return seconds, rss_kb / 1e6


class WorkerTimeout(Exception):
    """A fit ran past its time limit; its worker was killed. ``out``: the fits done before."""

    def __init__(self, message, out):
        super().__init__(message)
        self.out = out


def _fits_done(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def run_worker(tool, python, job: dict, tmp: Path, timed: bool, timeout: float) -> dict:
    """Run one worker process (with ``timed``, under ``/usr/bin/time -v``).

    Each fit may take ``timeout`` seconds (the first one, imports and compilation included);
    past that the worker's process group is killed and :class:`WorkerTimeout` raised.
    """
    tag = f"{tool}-{len(list(tmp.iterdir()))}"
    output = tmp / f"{tag}.json"
    job = dict(job, output=str(output))
    job_path = tmp / f"{tag}-job.json"
    job_path.write_text(json.dumps(job))
    env = dict(os.environ, THERMOINFER_COMPILATION_CACHE=str(tmp / f"{tag}-cache"))
    env.pop("SFI_JAX_CACHE_DIR", None)
    if tool == "sfi":
        env["PYTHONPATH"] = ""  # the SFI environment does not see this checkout's packages
    cmd = [python, str(Path(__file__).resolve()), "--worker", tool, str(job_path)]
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    log = tmp / f"{tag}.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env,
                                start_new_session=True)
        done, deadline = 0, time.monotonic() + timeout
        while proc.poll() is None:
            time.sleep(0.5)
            out = _fits_done(output)
            if out is not None and len(out["fits"]) > done:
                done, deadline = len(out["fits"]), time.monotonic() + timeout
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise WorkerTimeout(f"a fit did not finish in {timeout:.0f} s",
                                    _fits_done(output) or {"fits": []})
    stderr = log.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} worker failed (exit {proc.returncode}):\n{stderr[-4000:]}")
    out = json.loads(output.read_text())
    if timed:
        out["process_s"], out["rss_gb"] = _time_v(stderr)
    return out


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of a proportion ``k/n``."""
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def coverage_row(case, frames, label, results, truth, wall) -> str:
    """One markdown row: covering fraction, its 95% interval, spread of the estimates."""
    r = len(results)
    hits = sum(res["lo"] <= truth <= res["hi"] for res in results)
    clo, chi = clopper_pearson(hits, r)
    est = np.array([res["estimate"] for res in results])
    width = np.mean([res["hi"] - res["lo"] for res in results])
    sd = _fmt(float(est.std(ddof=1))) if r > 1 else "-"
    return (f"| {case} | {frames} | {label} | {hits}/{r} = {hits / r:.2f} | [{clo:.2f}, "
            f"{chi:.2f}] | {_fmt(float(est.mean()))} | {sd} | {_fmt(float(width))} | {wall:.0f} |")


def _fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 100 else f"{x:.4g}"


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=f"SFI runs in its own environment; {SETUP_HINT}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated, from {', '.join(CASES)} (default: all)")
    p.add_argument("--frames", default=None,
                   help="comma-separated frame counts (default 20000,320000,1000000; --quick: "
                        "2000; none: only the coverage)")
    p.add_argument("--coverage", type=int, default=0, metavar="R",
                   help="also fit R replicate data sets per case and report the coverage of the "
                        "90%% intervals (e.g. 20; slow: R thermoinfer fits per case)")
    p.add_argument("--coverage-frames", type=int, default=None,
                   help="frames of each coverage replicate (default 20000; --quick: 2000)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and short chains (200 draws, 200 warmup): a smoke run")
    p.add_argument("--tools", default=",".join(TOOLS),
                   help="comma-separated, from thermoinfer, sfi (default: both)")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="seconds one fit may take (the first fit of a process with its imports "
                        "and compilation); a fit that runs past it is reported and not tried "
                        "again in this run. Default 600")
    p.add_argument("--sfi-python", default=None,
                   help="Python interpreter with SFI (default: $SFI_PYTHON, .bench-venv, this one)")
    p.add_argument("--data-dir", default=str(ROOT / "results" / "sfi-compare-data"))
    p.add_argument("--output", default=str(ROOT / "results" / "sfi-compare.md"))
    p.add_argument("--worker", nargs=2, metavar=("TOOL", "JOB"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker[0], Path(args.worker[1]))

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for name, values, allowed in (("--cases", cases, CASES), ("--tools", tools, TOOLS)):
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            p.error(f"{name} {','.join(bad) or '(empty)'}: choose from {', '.join(allowed)}")
    spec = args.frames or ("2000" if args.quick else "20000,320000,1000000")
    try:
        frames = [] if spec == "none" else [int(float(f)) for f in spec.split(",")]
    except ValueError:
        p.error(f"--frames {args.frames!r}: comma-separated frame counts, e.g. 20000,320000")
    if any(f < 100 for f in frames):
        p.error(f"--frames {args.frames!r}: at least 100 frames each")
    if args.coverage < 0:
        p.error(f"--coverage {args.coverage}: a number of replicates >= 0, e.g. 20")
    if not args.timeout > 0:
        p.error(f"--timeout {args.timeout}: seconds > 0, e.g. 600")
    cov_frames = args.coverage_frames or (2000 if args.quick else 20000)
    draws = warmup = 200 if args.quick else 1000

    python = None
    if "sfi" in tools:
        python = sfi_python(args.sfi_python)
        if python is None:
            where = args.sfi_python or f"$SFI_PYTHON, {BENCH_VENV_PYTHON.relative_to(ROOT)} " \
                                       f"and {sys.executable}"
            print(f"error: StochasticForceInference (import SFI) was not found in {where}; "
                  f"{SETUP_HINT}", file=sys.stderr)
            return 2

    folder = Path(args.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows, cov_rows, notes, versions, truths = [], [], [], {}, {}
    header = ("| case | frames | tool | EP estimate | 90% interval | covers | warm (s) | "
              "cold (s) | peak RSS (GB) | notes |\n|---|---|---|---|---|---|---|---|---|---|")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="sfi-compare-") as tmpdir:
        tmp = Path(tmpdir)
        for case in cases:
            setup = case_setup(case)
            if case == "quartic" and (why := quartic_missing()):
                notes.append(f"case quartic skipped: {why}.")
                print(notes[-1], flush=True)
                continue
            truth = setup["truth"]()
            truths[case] = (truth, setup["about"])
            fits = [f for f in setup["fits"] if f[0] in tools]
            gave_up = {}
            for n in frames:
                t0 = time.perf_counter()
                data = setup["data"](folder, n, 1)
                sim_s = time.perf_counter() - t0
                for tool, label, opts in fits:
                    if label in gave_up:
                        rows.append(_row(case, n, label, "-", "-", "-", "-", "-", "-",
                                         f"not run: {gave_up[label]} at fewer frames"))
                        print(rows[-1], flush=True)
                        continue
                    job = dict(opts, label=label, files=[str(data)], repeat=2, draws=draws,
                               warmup=warmup)
                    py = python if tool == "sfi" else sys.executable
                    try:
                        out = run_worker(tool, py, job, tmp, timed=True, timeout=args.timeout)
                    except WorkerTimeout as err:
                        gave_up[label] = str(err)
                        cold = "-" if err.out["fits"] else f"> {args.timeout:.0f}"
                        rows.append(_row(case, n, label, "-", "-", "-", "-", cold, "-",
                                         f"{err} (killed)"))
                        print(rows[-1], flush=True)
                        continue
                    versions[tool] = out.get("version")
                    cold_fit, warm_fit = out["fits"]
                    cold = out["process_s"] - warm_fit["seconds"]
                    for series, res in warm_fit["series"].items():
                        note = res["note"]
                        if cold_fit["series"][series]["estimate"] != res["estimate"]:
                            note += "; the cold fit's estimate differs"
                        covers = "yes" if res["lo"] <= truth <= res["hi"] else "no"
                        rows.append(_row(case, n, series, _fmt(res["estimate"]),
                                         f"[{_fmt(res['lo'])}, {_fmt(res['hi'])}]", covers,
                                         f"{warm_fit['seconds']:.1f}", f"{cold:.1f}",
                                         f"{out['rss_gb']:.2f}", note))
                        print(rows[-1], flush=True)
                line = f"{case}, {n} frames: truth {_fmt(truth)}"
                if setup["linear"]:
                    line += (", least-squares plug-in of these data "
                             f"{_fmt(linear_plugin_sigma(data))}")
                notes.append(line)
                print(f"  ({line}; data {sim_s:.1f} s to simulate or load)", flush=True)
            if not args.coverage:
                continue
            t0 = time.perf_counter()
            files = [str(setup["data"](folder, cov_frames, 1000 + r))
                     for r in range(1, args.coverage + 1)]
            print(f"  (coverage data: {time.perf_counter() - t0:.1f} s)", flush=True)
            for tool, label, opts in fits:
                if label in gave_up:
                    cov_rows.append(_row(case, cov_frames, label, f"not run: {gave_up[label]}",
                                         "-", "-", "-", "-", "-"))
                    print(cov_rows[-1], flush=True)
                    continue
                job = dict(opts, label=label, files=files, draws=draws, warmup=warmup)
                py = python if tool == "sfi" else sys.executable
                t1 = time.perf_counter()
                try:
                    out = run_worker(tool, py, job, tmp, timed=False, timeout=args.timeout)
                except WorkerTimeout as err:
                    gave_up[label] = str(err)
                    notes.append(f"coverage of {case}, {label}: {err}; "
                                 f"{len(err.out['fits'])} of {args.coverage} replicates done")
                    print(f"  ({notes[-1]})", flush=True)
                    out = err.out
                    if not out["fits"]:
                        cov_rows.append(_row(case, cov_frames, label, str(err), "-", "-", "-",
                                             "-", "-"))
                        print(cov_rows[-1], flush=True)
                        continue
                wall = time.perf_counter() - t1
                for series in out["fits"][0]["series"]:
                    res = [f_["series"][series] for f_ in out["fits"]]
                    cov_rows.append(coverage_row(case, cov_frames, series, res, truth, wall))
                    print(cov_rows[-1], flush=True)

    command = " ".join(["benchmarks/sfi_compare.py",
                        *(argv if argv is not None else sys.argv[1:])])
    md = ["# thermoinfer vs SFI: entropy-production rate", "",
          f"{datetime.datetime.now().isoformat(timespec='minutes')}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at the end; thermoinfer "
          f"{versions.get('thermoinfer', '-')}, SFI {versions.get('sfi', '-')}; `{command}`", ""]
    md += [f"* **{c}**: {about}; true sigma = {_fmt(t)} nats per time unit"
           for c, (t, about) in truths.items()]
    md += ["", f"thermoinfer: NUTS, 2 chains, {draws} draws, {warmup} warmup; posterior mean and "
           "90% equal-tailed interval of `thermodynamics/entropy_production_rate` (and of "
           "`entropy_production_rate_stratonovich` where the model gives it). SFI: "
           "`Sdot_debiased` (and the raw `Sdot`) +- 1.645 `Sdot_error`. Warm: a second fit in "
           "the same process; cold: a fresh process, everything included; peak RSS of that "
           "process.", "", header, *rows]
    if cov_rows:
        md += ["", "Coverage of the 90% intervals (exact binomial 95% interval of the fraction; "
               "mean and sd of the estimates over the replicates, mean interval width, wall time "
               "of all replicates in one process):", "",
               "| case | frames | tool | covering | 95% CI | mean estimate | sd | mean width | "
               "wall (s) |", "|---|---|---|---|---|---|---|---|---|", *cov_rows]
    if notes:
        md += ["", *(f"* {n}" for n in notes)]
    out_path = Path(args.output)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text("\n".join(md) + "\n")
    print(f"written: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

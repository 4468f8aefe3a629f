"""Wall time and peak memory of ``thermoinfer fit`` against the number of frames.

A 2-D rotational trap, $A = [[-k, -\\varepsilon], [\\varepsilon, -k]]$, isotropic $D$, exact OU
data recorded every ``dt`` (simulated once per size and kept in ``--data-dir``), fitted by the
command line as a user runs it (``thermoinfer fit DATA.nc --model linear-ou --chains 2 --draws
1000 --warmup 1000``, a fresh process each time, measured with ``/usr/bin/time``: wall and peak
RSS). Each size is fitted twice: "first" with an empty compilation cache, "cached" with the
cache the first run wrote (the second run of a user). Printed per size: frames, wall, peak RSS,
posterior mean and 90% interval of the entropy-production rate, and the truth.

    .venv/bin/python benchmarks/fit_scale.py [--frames 1000,20000,320000,1000000,100x10000]

(``RxK``: R replicas of K frames each.)

Not part of CI (minutes).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

K_TRAP, EPS, D_TRAP, DT = 1.0, 0.5, 1.0, 0.01


def truth():
    import jax

    from thermoinfer.thermo.linear_system import entropy_production_rate

    with jax.enable_x64(True):
        A = np.array([[-K_TRAP, -EPS], [EPS, -K_TRAP]])
        return float(entropy_production_rate(A, D_TRAP * np.eye(2)))


def data_file(folder: Path, frames: int, seed: int = 1, replicas: int = 1) -> Path:
    from thermoinfer.data.io import write_netcdf
    from thermoinfer.data.observations import simulate_linear_ou

    tag = f"{replicas}x{frames}" if replicas > 1 else f"{frames}"
    path = folder / f"trap-{tag}-seed{seed}.nc"
    if not path.exists():
        A = [[-K_TRAP, -EPS], [EPS, -K_TRAP]]
        ds = simulate_linear_ou(A, D_TRAP, np.arange(frames) * DT, seed=seed, n_replicas=replicas)
        write_netcdf(ds, path)
    return path


def run_fit(data: Path, out: Path, cache: Path, extra=()):
    env = dict(os.environ, THERMOINFER_COMPILATION_CACHE=str(cache))
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "thermoinfer", "fit", str(data),
           "--model", "linear-ou", "--chains", "2", "--draws", "1000", "--warmup", "1000",
           "--no-progress", "--json", "-o", str(out), *extra]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", res.stderr)
    h, m, s = wall.groups()
    seconds = (int(h or 0) * 60 + int(m)) * 60 + float(s)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
    import xarray as xr

    with xr.open_datatree(out, engine="netcdf4") as tree:
        ep = tree["thermodynamics"]["entropy_production_rate"].values.ravel()
    return seconds, rss_kb / 1e6, ep


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", default="1000,20000,320000,1000000,100x10000")
    p.add_argument("--data-dir", default="results/bench-data")
    args = p.parse_args(argv)
    folder = Path(args.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sigma = truth()
    print(f"truth: entropy production rate {sigma:.4f} per time unit; dt = {DT}, k dt = "
          f"{K_TRAP * DT}")
    print("| frames | run | wall (s) | peak RSS (GB) | EP mean | 90% interval | covers |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for spec in args.frames.split(","):
            replicas, _, frames = spec.rpartition("x")
            replicas, frames = int(replicas or 1), int(frames)
            data = data_file(folder, frames, replicas=replicas)
            frames = spec
            shutil.rmtree(cache, ignore_errors=True)
            for run in ("first", "cached"):
                wall, rss, ep = run_fit(data, Path(tmp) / "fit.nc", cache)
                lo, hi = np.quantile(ep, [0.05, 0.95])
                print(f"| {frames} | {run} | {wall:.1f} | {rss:.2f} | {ep.mean():.4f} | "
                      f"[{lo:.4f}, {hi:.4f}] | {'yes' if lo <= sigma <= hi else 'no'} |",
                      flush=True)


if __name__ == "__main__":
    main()

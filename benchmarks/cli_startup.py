"""Start-up time of the command line: ``thermoinfer --help``, ``fit --list-models`` and an
argument error, against two references measured in the same run: a bare interpreter
(``python -c pass``) and ``python -c "import jax"`` (what every command paid when the CLI
imported JAX eagerly). Prints medians over repeated runs and the ratios; the target is a
median under 0.5 s for the three commands.

    python benchmarks/cli_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args(argv)
    py = sys.executable
    cases = {
        "python -c pass (reference)": [py, "-c", "pass"],
        "python -c 'import jax' (reference)": [py, "-c", "import jax"],
        "thermoinfer --help": [py, "-m", "thermoinfer", "--help"],
        "thermoinfer fit --list-models": [py, "-m", "thermoinfer", "fit", "--list-models"],
        "thermoinfer theory memorization --alpha x": [py, "-m", "thermoinfer", "theory",
                                                       "memorization", "--alpha", "x"],
    }
    res = {name: _time(cmd, args.repeat) for name, cmd in cases.items()}
    base, jax_ref = res["python -c pass (reference)"], res["python -c 'import jax' (reference)"]
    print(f"median of {args.repeat} runs each")
    print(f"{'command':<44}{'median s':>10}{'/ bare':>9}{'/ import jax':>14}  target")
    for name, t in res.items():
        target = "" if "reference" in name else ("ok (< 0.5 s)" if t < 0.5 else "SLOW (>= 0.5 s)")
        print(f"{name:<44}{t:>10.3f}{t / base:>9.2f}{t / jax_ref:>14.2f}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

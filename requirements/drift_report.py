"""Drift check: compare a scratch environment with the newest allowed versions against the lock.

Run by ``make drift`` with the scratch venv's Python. Lists the packages whose installed version
differs from ``requirements/lock.txt``, runs the test suite in that environment, and writes a
Markdown report of what differs and what breaks. Always exits 0: drift is information for the
next ``make lock``, not a failure of the locked build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path) -> dict[str, str]:
    """``{name: version}`` of every ``name==version`` line of a pip requirements lock."""
    pins = {}
    for line in lock.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def installed_versions() -> dict[str, str]:
    return {_norm(d.metadata["Name"]): d.version for d in md.distributions()
            if d.metadata["Name"]}


def run_suite(pytest_args: list[str]) -> tuple[int, float, list[tuple[str, str]], str]:
    """Run pytest here; return (exit status, seconds, [(test id, first message line)], summary)."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q",
               "-p", "no:cacheprovider", f"--junitxml={junit}", *pytest_args]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        failures = []
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                for tag in ("failure", "error"):
                    bad = case.find(tag)
                    if bad is not None:
                        msg = (bad.get("message") or "").strip().splitlines()
                        failures.append((f"{case.get('classname')}::{case.get('name')}",
                                         f"{tag}: {msg[0][:200] if msg else ''}"))
        lines = proc.stdout.strip().splitlines()
        summary = lines[-1] if lines else proc.stderr.strip()[-300:]
        return proc.returncode, elapsed, failures, summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lock", type=Path, required=True)
    ap.add_argument("--venv", default="(this interpreter)")
    ap.add_argument("--install-status", type=int, default=0)
    ap.add_argument("--report", type=Path, required=True)
    ap.add_argument("pytest_args", nargs="*")
    args = ap.parse_args(argv)

    pins = locked_versions(args.lock)
    have = installed_versions()
    changed = sorted((n, pins[n], have[n]) for n in pins if n in have and have[n] != pins[n])
    missing = sorted(n for n in pins if n not in have)
    extra = sorted(n for n in have if n not in pins and n not in ("pip", "thermoinfer"))
    out = [f"# Drift report ({dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')})", "",
           f"Python {platform.python_version()} in `{args.venv}`; newest versions that "
           f"pyproject.toml allows, against `{args.lock}`.", ""]
    if args.install_status != 0:
        out += [f"**The install of the newest allowed versions failed (pip exit "
                f"{args.install_status}).** The suite below ran on what was installed.", ""]
    out += ["## Versions that differ from the lock", ""]
    if changed:
        out += ["| package | locked | newest allowed |", "|---|---|---|"]
        out += [f"| {n} | {a} | {b} |" for n, a, b in changed]
    else:
        out.append("None: the lock is the newest allowed set.")
    if missing:
        out += ["", "Locked but not installed now: " + ", ".join(missing)]
    if extra:
        out += ["", "Installed now but not in the lock: " + ", ".join(extra)]
    rc, secs, failures, summary = run_suite(list(args.pytest_args))
    out += ["", "## Test suite in the drifted environment", "",
            f"`pytest {' '.join(args.pytest_args)}`: exit status {rc} after {secs:.0f} s; "
            f"{summary}", ""]
    if failures:
        out += ["| test | what broke |", "|---|---|"]
        out += [f"| `{t}` | {m.replace('|', '/')} |" for t, m in failures]
    elif rc == 0:
        out.append("Everything passes: a `make lock` refresh should be safe.")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.report.with_name(f".{args.report.name}.tmp")
    tmp.write_text("\n".join(out) + "\n")
    tmp.replace(args.report)
    print(f"drift: {len(changed)} package(s) differ from the lock; suite exit {rc} "
          f"({len(failures)} failing); report {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

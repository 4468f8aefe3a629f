"""Fast start: ``--help``, ``fit --list-models`` and argument errors do not import JAX (nor
numpyro, xarray or arviz), so they answer at once; JAX is imported only when a job runs.
(The time itself is measured in benchmarks/cli_startup.py, not asserted here.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("jax", "numpyro", "xarray", "arviz_base", "matplotlib")

PROBE = """
import json, sys, contextlib, io
from thermoinfer.cli import main
err, out = io.StringIO(), io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
    rc = main(json.loads(sys.argv[1]))
print(json.dumps({"rc": rc, "loaded": [m for m in HEAVY if m in sys.modules],
                  "out": out.getvalue(), "err": err.getvalue()}))
""".replace("HEAVY", repr(HEAVY))


def _probe(args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args, rc", [
    (["--help"], 0),
    (["fit", "--list-models"], 0),
    (["fit", "--help"], 0),
    (["simulate", "memorization", "--help"], 0),
    (["theory", "memorization", "--alpha", "x"], 2),
    (["simulate", "memorization", "--N", "many"], 2),
    (["fit", "data.csv", "--chains", "0"], 2),
    (["run", "--list"], 0),
    (["nonsense"], 2),
])
def test_no_heavy_imports(args, rc):
    res = _probe(args)
    assert res["rc"] == rc, res
    assert res["loaded"] == [], f"{args} imported {res['loaded']}"


def test_probe_sees_a_heavy_import():
    """Negative control: a command that runs a job does import JAX, and the probe sees it."""
    res = _probe(["theory", "memorization", "--alpha", "0.5", "--nu", "1", "--json"])
    assert res["rc"] == 0 and "jax" in res["loaded"]


def test_list_models_matches_the_imported_modules():
    """The listing read without importing the model files equals what the modules define."""
    from thermoinfer.inference.registry import list_models, load_model, model_paths

    imported = {}
    for path in model_paths().values():
        module = load_model(path)
        imported[module.NAME] = module.DESCRIPTION
    assert list_models() == imported

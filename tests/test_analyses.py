"""Every analysis script runs in --quick mode and writes its .nc files and PNG (smoke test)."""

import importlib.util
from pathlib import Path

import pytest
from _stats import seed

import thermoinfer as ti

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "analyses").glob("*.py"))


def _load(path):
    spec = importlib.util.spec_from_file_location(f"analysis_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_analysis_quick(script, tmp_path):
    mod = _load(script)
    assert mod.__doc__, "an analysis names the claim it reproduces in its docstring"
    # every script takes --seed (default 2017): the offset of tests/README.md reaches it too
    tree = mod.main(mod.parse_args(["--quick", "--out", str(tmp_path), "--seed",
                                    str(seed(2017))]))
    assert tree is not None
    ncs = sorted(tmp_path.glob("*.nc"))
    assert ncs and sorted(tmp_path.glob("*.png"))
    for nc in ncs:
        ti.read_netcdf(nc)  # validated: units, conventions, provenance

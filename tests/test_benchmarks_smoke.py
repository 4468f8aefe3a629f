"""benchmarks/sfi_compare.py answers without SFI: ``--help`` works and a missing SFI gives one
clear message (exit status 2) before any data is simulated. Nothing here needs SFI or JAX."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "sfi_compare.py"


def _load():
    spec = importlib.util.spec_from_file_location("sfi_compare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_help():
    res = _run("--help")
    assert res.returncode == 0, res.stderr
    for option in ("--frames", "--cases", "--coverage", "--quick", "--sfi-python"):
        assert option in res.stdout
    assert "stochasticforceinference==2.0.4" in res.stdout


def test_missing_sfi_is_one_clear_message(tmp_path):
    res = _run("--quick", "--sfi-python", str(tmp_path / "no-such-python"),
               "--data-dir", str(tmp_path / "data"), "--output", str(tmp_path / "out.md"))
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "StochasticForceInference (import SFI) was not found" in res.stderr
    assert "pip install stochasticforceinference==2.0.4" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "out.md").exists()


def test_sfi_probe_finds_a_package(tmp_path, monkeypatch):
    """Negative control of the message above: the probe does see an importable ``SFI``."""
    bench = _load()
    if importlib.util.find_spec("SFI") is None:  # the locked environment has no SFI
        assert bench.sfi_python(sys.executable) is None
    (tmp_path / "SFI").mkdir()
    (tmp_path / "SFI" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert bench.sfi_python(sys.executable) == sys.executable


def test_bad_case_names_the_choices():
    res = _run("--cases", "trap,nonsense", "--tools", "thermoinfer")
    assert res.returncode == 2
    assert "nonsense" in res.stderr and "trap, chain, quartic" in res.stderr

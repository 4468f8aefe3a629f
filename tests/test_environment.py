"""The locked environment: requirements/lock.txt pins every dependency with hashes and satisfies
pyproject.toml; inside the environment that ``make`` builds (``THERMOINFER_LOCKED_ENV=1``, set
by the Makefile) every installed package is exactly the locked version."""

import importlib.metadata as md
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
sys.path.insert(0, str(ROOT / "requirements"))
from drift_report import locked_versions  # noqa: E402


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def pins():
    return locked_versions(LOCK)


def _requirements():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in meta["dependencies"]]
    for extra in ("test", "docs", "dist"):
        reqs += [Requirement(r) for r in meta["optional-dependencies"][extra]]
    return reqs


def test_every_pin_has_a_hash():
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9][A-Za-z0-9._-]*==)", text)
    pinned = [b for b in blocks if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==", b)]
    assert len(pinned) > 50
    for b in pinned:
        assert "--hash=sha256:" in b, b.splitlines()[0]


def test_lock_satisfies_pyproject(pins):
    for req in _requirements():
        name = _norm(req.name)
        assert name in pins, f"{req.name} (pyproject) is not in the lock"
        assert Version(pins[name]) in req.specifier, f"lock pins {name}=={pins[name]}, " \
                                                     f"pyproject asks {req}"


def test_parser_reads_the_lock_format(tmp_path):
    """Negative control for the parser: it finds pins with markers and skips comments."""
    f = tmp_path / "lock.txt"
    f.write_text("# via x\nfoo-bar==1.2.3 ; python_version >= '3.12' \\\n"
                 "    --hash=sha256:00\nbaz==0.1 \\\n    --hash=sha256:11\n")
    assert locked_versions(f) == {"foo-bar": "1.2.3", "baz": "0.1"}


@pytest.mark.skipif(os.environ.get("THERMOINFER_LOCKED_ENV") != "1",
                    reason="only inside the environment `make` builds from the lock")
def test_installed_set_is_the_lock(pins):
    wrong = {}
    for name, version in pins.items():
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            wrong[name] = (version, "missing")
            continue
        if have != version:
            wrong[name] = (version, have)
    assert not wrong, f"installed versions differ from {LOCK.name}: {wrong}; run `make clean test`"

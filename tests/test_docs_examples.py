"""The README's API example and the docs' Python examples run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _python_blocks(path: Path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.fixture(autouse=True)
def _isolated_rule_registry():
    """Each page starts with the user-rule registry as it found it."""
    from thermoinfer import rules

    saved = dict(rules._USER_RULES)
    yield
    rules._USER_RULES.clear()
    rules._USER_RULES.update(saved)


def test_readme_example_runs(tmp_path, monkeypatch):
    blocks = _python_blocks(ROOT / "README.md")
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "perceptron.nc").is_file()


DOC_PAGES = sorted(p for p in (ROOT / "docs").glob("*.md") if _python_blocks(p))


@pytest.mark.slow
@pytest.mark.parametrize("page", DOC_PAGES, ids=[p.name for p in DOC_PAGES])
def test_doc_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = {}
    for code in _python_blocks(page):
        exec(compile(code, page.name, "exec"), ns)


@pytest.mark.slow
def test_mkdocs_builds_strict(tmp_path):
    """The docs site builds without a warning (broken links, missing pages)."""
    import os
    import subprocess
    import sys

    mkdocs = Path(sys.executable).with_name("mkdocs")
    assert mkdocs.exists(), "mkdocs is part of the docs extra installed by `make test`"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run([str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]

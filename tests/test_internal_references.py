"""The product speaks for itself: no reference to internal documents reaches a user.

Users have the docs (docs/theory/*.md with numbered equations), not the internal design and physics
notes or the issue tracker. Docstrings, --help texts, error messages, output attributes, docs and
README must therefore never cite ``physics.md``, ``design.md``, ``style.md``, ``shared/spec``, their
``§`` section numbers, or issue numbers. They cite the theory pages instead, e.g.
"docs/theory/units.md, eq. (5)".
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: what users can read: the package, the models and analyses, benchmarks, the docs and the README
SCANNED = ("README.md", "thermoinfer", "models", "analyses", "benchmarks", "docs")

#: references to internal documents (case-insensitive)
INTERNAL_REFERENCE = re.compile(
    r"physics\.md|design\.md|style\.md|shared/spec|\bissues? #?[0-9]+\b|§ ?[0-9]"
    r"|section [0-9]+(\.[0-9]+)?",
    re.IGNORECASE,
)

_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}


def _text_files(root: Path, names=SCANNED):
    for name in names:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(root).parts):
                    yield p


def find_internal_references(root: Path, names=SCANNED) -> list[str]:
    """``file:line: text`` for every line under ``names`` that cites an internal document."""
    hits = []
    for path in _text_files(root, names):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (figures, netCDF) carry no prose
        for lineno, line in enumerate(text.splitlines(), start=1):
            if INTERNAL_REFERENCE.search(line):
                hits.append(f"{path.relative_to(root)}:{lineno}: {line.strip()}")
    return hits


def test_no_internal_references_in_user_facing_files():
    hits = find_internal_references(ROOT)
    assert not hits, (
        f"{len(hits)} reference(s) to internal documents; cite docs/theory/*.md instead:\n"
        + "\n".join(hits))


@pytest.mark.parametrize("text", [
    "see physics.md §3.2",
    "issue 5",
    "Claim (issue 5; ...)",
    "Workload (issue #3)",
    "as in Physics.md 0.5",
    "(design.md pitfalls)",
    "examples in style.md",
    "/work/shared/spec/physics.md",
    "the checkpoint of §10.4",
    "§ 2.6",
    "(physics.md section 9)",
    "sections 4-5 of the spec; section 3",
])
def test_pattern_matches_internal_references(text):
    """Negative control: the pattern recognises every form in which the references appeared."""
    assert INTERNAL_REFERENCE.search(text), text


@pytest.mark.parametrize("text", [
    "docs/theory/units.md, eq. (5)",
    "docs/theory/thermodynamics-and-bound.md, eq. (22)-(23)",
    "checkpoint 1 of docs/theory/checkpoints.md",
    "and an UnreliableEstimateWarning is issued",
    "Phys. Rev. Lett. 118, 010601 (2017)",
    "the physics of learning; see the sections below",
])
def test_pattern_leaves_ordinary_text_alone(text):
    assert not INTERNAL_REFERENCE.search(text), text


def test_scanner_reports_file_and_line(tmp_path):
    """The scanner finds a planted reference and names file:line; binary files are skipped."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\nclean line\nsee physics.md §3.2\n")
    (tmp_path / "docs" / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe issue 5")
    (tmp_path / "README.md").write_text("fixed in issue 5\n")
    hits = find_internal_references(tmp_path, names=("README.md", "docs"))
    assert [h.split(": ", 1)[0] for h in hits] == ["README.md:1", "docs/page.md:4"]

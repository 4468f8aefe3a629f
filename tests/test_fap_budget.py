"""The false-alarm budget of tests/README.md: every row's FAP is recomputed from its formula, the
printed values and the total must match, the total must stay below FAMILY_WISE_BUDGET (1% per
run), every test named must exist, and every test whose code states a FAP must be in the table.

Negative controls: tables whose total is 2%, that name a missing test, or whose printed FAP
disagrees with the formula are rejected by the same checker.
"""

import ast
import math
import re
from pathlib import Path

import pytest
from _stats import (
    FAMILY_WISE_BUDGET,
    fap_binomial_below,
    fap_binomial_two_sided,
    fap_chi2,
    fap_chi2_counts,
    fap_outside,
    fap_t,
    fap_z,
)
from scipy import stats

TESTS = Path(__file__).resolve().parent
README = TESTS / "README.md"
BEGIN, END = "<!-- fap-table -->", "<!-- /fap-table -->"
NAMESPACE = {"fap_z": fap_z, "fap_t": fap_t, "fap_binomial_below": fap_binomial_below,
             "fap_binomial_two_sided": fap_binomial_two_sided,
             "fap_chi2": fap_chi2, "fap_chi2_counts": fap_chi2_counts, "fap_outside": fap_outside,
             "math": math, "stats": stats, "inf": math.inf}
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_TOTAL = re.compile(r"\*\*Total \(union bound\): ([0-9.eE+-]+)\*\*")
REL_TOL = 0.06  # printed values have two significant digits


def _evaluate(formula: str) -> float:
    return float(eval(formula, {"__builtins__": {}}, dict(NAMESPACE)))  # the table is ours


def parse_fap_table(text: str) -> tuple[list[dict], float | None]:
    """The rows (test, gate, m, formula, printed) between the markers, and the stated total."""
    if BEGIN not in text or END not in text:
        return [], None
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = []
    for line in body.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in _CELL_SPLIT.split(line.strip().strip("|"))]
        if len(cells) != 5:
            rows.append(dict(test=cells[0], error=f"{len(cells)} cells, not 5"))
            continue
        test, gate, m, formula, printed = cells
        rows.append(dict(test=test.strip("`"), gate=gate, m=m, formula=formula.strip("`"),
                         printed=printed))
    total = _TOTAL.search(body)
    return rows, (float(total.group(1)) if total else None)


def check_fap_table(text: str, tests_dir: Path = TESTS, budget: float = FAMILY_WISE_BUDGET):
    """``(total, problems)``: the union-bound total of the table in ``text`` and what is wrong."""
    rows, stated = parse_fap_table(text)
    problems, total, seen = [], 0.0, set()
    if not rows:
        problems.append("no rows between the fap-table markers")
    for row in rows:
        name = row["test"]
        if "error" in row:
            problems.append(f"{name}: {row['error']}")
            continue
        if name in seen:
            problems.append(f"{name}: listed twice (one row per test, m counts its comparisons)")
        seen.add(name)
        file, _, func = name.partition("::")
        path = tests_dir / file
        if not func or not path.is_file():
            problems.append(f"{name}: no such test file")
        elif not re.search(rf"^\s*def {re.escape(func)}\(", path.read_text(), flags=re.M):
            problems.append(f"{name}: no test function {func} in {file}")
        if not row["m"].isdigit() or int(row["m"]) < 1:
            problems.append(f"{name}: m = {row['m']!r} is not a positive integer")
        try:
            value = _evaluate(row["formula"])
        except Exception as exc:  # a broken formula is a problem of the table, reported as such
            problems.append(f"{name}: formula {row['formula']!r} fails: {exc!r}")
            continue
        if not 0.0 <= value <= 1.0:
            problems.append(f"{name}: FAP {value:.3g} is not a probability")
        try:
            printed = float(row["printed"])
        except ValueError:
            problems.append(f"{name}: printed FAP {row['printed']!r} is not a number")
        else:
            if abs(printed - value) > REL_TOL * value + 1e-300:
                problems.append(f"{name}: printed FAP {printed:.2g}, formula gives {value:.2g}")
        total += value
    if stated is None:
        problems.append("no '**Total (union bound): ...**' line in the table section")
    elif abs(stated - total) > REL_TOL * total:
        problems.append(f"stated total {stated:.2g}, the rows sum to {total:.2g}")
    if not total < budget:
        problems.append(f"family-wise FAP {total:.3g} is not below the budget {budget:g}")
    return total, problems


def fap_stating_tests(tests_dir: Path = TESTS) -> set[str]:
    """``file::test`` for every test function whose source mentions a FAP."""
    found = set()
    for path in sorted(tests_dir.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                if "FAP" in (ast.get_source_segment(source, node) or ""):
                    found.add(f"{path.name}::{node.name}")
    return found


def test_readme_table_is_within_the_budget():
    total, problems = check_fap_table(README.read_text())
    assert not problems, "\n".join(problems)
    assert 0 < total < FAMILY_WISE_BUDGET


def test_every_test_stating_a_fap_is_in_the_table():
    rows, _ = parse_fap_table(README.read_text())
    listed = {r["test"] for r in rows}
    missing = sorted(fap_stating_tests() - listed)
    assert not missing, f"tests that state a FAP but have no row in tests/README.md: {missing}"


def _table(*rows, total=None):
    lines = [BEGIN, "| test | gate | m | FAP formula | FAP |", "|---|---|---|---|---|"]
    values = []
    for test, formula in rows:
        v = _evaluate(formula)
        values.append(v)
        lines.append(f"| `{test}` | a gate | 1 | `{formula}` | {v:.1e} |")
    stated = sum(values) if total is None else total
    lines += ["", f"**Total (union bound): {stated:.1e}**", END]
    return "\n".join(lines)


REAL = "test_calibration.py::test_sbc_ranks_uniform"
OTHER = "test_dynamics.py::test_t_inf_hebbian_stationary"


def test_checker_accepts_a_small_table():
    total, problems = check_fap_table(_table((REAL, "fap_z(4.5)"), (OTHER, "fap_chi2(1e-4)")))
    assert problems == [] and total == pytest.approx(fap_z(4.5) + 1e-4)


def test_checker_rejects_a_table_over_budget():
    """Negative control: 1% + 1% is 2%, twice the budget."""
    total, problems = check_fap_table(_table((REAL, "fap_chi2(0.01)"), (OTHER, "fap_chi2(0.01)")))
    assert total == pytest.approx(0.02)
    assert any("not below the budget" in p for p in problems), problems


@pytest.mark.parametrize("rows, fragment", [
    (((REAL, "fap_z(4.5)"), ("test_calibration.py::test_no_such_test", "fap_z(4.5)")),
     "no test function"),
    (((REAL, "fap_z(4.5)"), ("test_no_such_file.py::test_x", "fap_z(4.5)")), "no such test file"),
    (((REAL, "fap_z(4.5)"), (REAL, "fap_z(5)")), "listed twice"),
    (((REAL, "fap_z(4.5) +"),), "fails"),
    (((REAL, "__import__('os')"),), "fails"),  # no builtins in the formulas
])
def test_checker_rejects_bad_rows(rows, fragment):
    text = _table(*[(t, "fap_z(4.5)") for t, _ in rows])
    for t, f in rows:  # put the intended (possibly broken) formula back into the row
        text = text.replace(f"`{t}` | a gate | 1 | `fap_z(4.5)`", f"`{t}` | a gate | 1 | `{f}`", 1)
    _, problems = check_fap_table(text)
    assert any(fragment in p for p in problems), problems


def test_checker_rejects_drifted_printed_values_and_totals():
    text = _table((REAL, "fap_z(4.5)")).replace(f"{fap_z(4.5):.1e} |", "1.0e-06 |")
    assert any("printed FAP" in p for p in check_fap_table(text)[1])
    text = _table((REAL, "fap_z(4.5)"), total=1e-3)
    assert any("stated total" in p for p in check_fap_table(text)[1])
    assert "no rows" in check_fap_table("no table here")[1][0]

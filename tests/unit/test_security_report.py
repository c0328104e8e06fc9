"""docs/SECURITY.md's table of requirements is the suite's own: every test that names an ASVS
requirement has its row, and every row names a test that exists and names that requirement."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
ROW = re.compile(r"^\| (V\d[\d., V]*) \| `([^`]+)` \|", re.MULTILINE)


def listed_requirements(report: str) -> set[tuple[str, str]]:
    """(requirement, `path::test`) for each requirement of each row of the report's table."""
    return {(requirement.strip(), test) for requirements, test in ROW.findall(report)
            for requirement in requirements.split(",")}


def named_requirements() -> set[tuple[str, str]]:
    """(requirement, `path::test`) for each `@pytest.mark.asvs(...)` in the suite."""
    found = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call)
                        and ast.unparse(decorator.func) == "pytest.mark.asvs"):
                    test = f"{path.relative_to(ROOT)}::{node.name}"
                    found |= {(argument.value, test) for argument in decorator.args
                              if isinstance(argument, ast.Constant)}
    return found


def test_the_report_lists_exactly_the_requirements_the_tests_name():
    report = listed_requirements((ROOT / "docs" / "SECURITY.md").read_text())
    named = named_requirements()
    assert named, "no test names an ASVS requirement"
    assert sorted(named - report) == [], "tests docs/SECURITY.md does not list"
    assert sorted(report - named) == [], "rows of docs/SECURITY.md no test backs"

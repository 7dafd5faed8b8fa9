"""Issue 25, "The house": the error root is the ground floor every part stands on, and no
part below the harness reaches back up into it for errors or for the run's counts.

Read from the source (ast), not by importing: `gtcheck/` imports no other part of the
repository; the emulator, checkers, results, nemesis and workloads take their errors from
`gtcheck.errors`, never `suite.errors`; and nothing in results imports `suite.core` (the
report used to reach back for `counts_text` and `rate_warning`, a circle with core,
which imports the report). `suite.errors` still names the very same classes."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("suite", "workloads", "checkers", "nemesis", "results", "emulator")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (top level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def files(part: str) -> list[Path]:
    return sorted((ROOT / part).rglob("*.py"))


def test_the_ground_floor_imports_no_room():
    for f in files("gtcheck"):
        bad = {m for m in imports_of(f) if m.split(".")[0] in PARTS}
        assert not bad, (f, bad)


def test_no_room_below_the_harness_takes_its_errors_from_it():
    for part in ("emulator", "checkers", "results", "nemesis", "workloads"):
        for f in files(part):
            assert "suite.errors" not in imports_of(f), f


def test_the_report_does_not_reach_back_into_the_run():
    for f in files("results"):
        assert "suite.core" not in imports_of(f), f


def test_suite_errors_is_the_same_hierarchy():
    import gtcheck.errors as ground
    import suite.errors as harness
    for name in ("GtcheckError", "BadInput", "SetupError", "GeneratorError"):
        assert getattr(harness, name) is getattr(ground, name)
    assert issubclass(ground.BadInput, harness.GtcheckError)

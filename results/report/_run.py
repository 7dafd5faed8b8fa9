"""Reading one run directory of the store, tolerantly.

A report must be made from whatever a run left behind: a run killed half-way has a
history but no results, an older run may lack test.json, a results.json may come from a
newer suite with checkers this code has never heard of. `load_run` reads what exists,
records what is missing or unreadable as plain sentences (`Run.problems`) for the report
to show, and raises BadInput only when the directory is not a run at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from results.history import Op, read_jsonl
from results.store import leaves
from gtcheck.errors import BadInput

RUN_FILES = ("test.json", "history.jsonl", "results.json")
LOG_SUFFIXES = (".log", ".txt", ".out", ".err")


@dataclass
class Run:
    """What one run directory holds; None for a part that is missing or unreadable."""

    path: Path
    test: dict | None = None
    ops: list[Op] | None = None
    results: dict | None = None
    problems: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    @property
    def checkers(self) -> dict[str, dict]:
        """Checker name -> its result, from either results.json shape.

        `checkers.core.compose` writes `{"valid", name: result, ...}`; CONVENTIONS.md also
        names `{"valid", "checkers": {name: result}}`. Both are read.
        """
        if not self.results:
            return {}
        nested = self.results.get("checkers")
        source = nested if isinstance(nested, dict) else self.results
        return {name: r for name, r in source.items()
                if isinstance(r, dict) and name != "checkers"}

    @property
    def valid(self) -> Any:
        """The composed verdict as recorded (True / False / "unknown"), None without results."""
        if not self.results:
            return None
        return self.results.get("valid", "unknown")

    @property
    def name(self) -> str:
        if self.test and isinstance(self.test.get("name"), str):
            return self.test["name"]
        return self.path.parent.name


def _escaping(path: Path, problems: list[str]) -> bool:
    """A run file that is a symbolic link out of its run directory is not read (so a
    report, generated on request by `gtcheck serve` too, never shows another file)."""
    if leaves(path, path.parent):
        problems.append(f"{path.name} is a symbolic link out of the run directory: "
                        "refused, not read.")
        return True
    return False


def _read_json_object(path: Path, what: str, problems: list[str]) -> dict | None:
    if _escaping(path, problems):
        return None
    if not path.exists():
        problems.append(f"{path.name} is missing: {what} cannot be shown.")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(f"{path.name} could not be read ({type(e).__name__}: {e}): "
                        f"{what} cannot be shown.")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name} does not hold a JSON object: {what} cannot be shown.")
        return None
    return data


def check_run_dir(run_dir: str | os.PathLike) -> Path:
    """The run directory as a Path; BadInput when it is not a run directory."""
    path = Path(run_dir)
    if not path.exists():
        raise BadInput(f"{path}: no such run directory")
    if not path.is_dir():
        raise BadInput(f"{path}: not a directory (expected a run directory "
                       "store/<test>/<timestamp>/)")
    if not any((path / f).is_file() for f in RUN_FILES):
        raise BadInput(f"{path}: not a run directory (it holds none of "
                       f"{', '.join(RUN_FILES)})")
    return path


def load_run(run_dir: str | os.PathLike, *, with_history: bool = True) -> Run:
    """Read a run directory; what is missing or broken goes into `Run.problems`."""
    path = check_run_dir(run_dir)
    run = Run(path=path)
    run.test = _read_json_object(path / "test.json", "the test's configuration", run.problems)
    run.results = _read_json_object(path / "results.json", "the checkers' verdicts "
                                    "(run `gtcheck analyze RUN_DIR` to check the history)",
                                    run.problems)
    if with_history:
        hist = path / "history.jsonl"
        if _escaping(hist, run.problems):
            pass
        elif not hist.exists():
            run.problems.append("history.jsonl is missing: the timeline and the plots "
                                "cannot be drawn.")
        else:
            try:
                run.ops = read_jsonl(hist)
            except BadInput as e:
                try:
                    run.ops = read_jsonl(hist, check=False)
                    run.problems.append(f"history.jsonl breaks the pairing rules ({e}); it "
                                        "is drawn as recorded.")
                except BadInput as e2:
                    run.problems.append(f"history.jsonl could not be read: {e2}")
    if run.ops == []:
        run.problems.append("history.jsonl holds no operations: the timeline and the plots "
                            "are empty.")
    run.logs = sorted(p.name for p in path.iterdir()
                      if p.is_file() and p.name.endswith(LOG_SUFFIXES) and not leaves(p, path))
    return run

"""`gtcheck check`: judge history files from anywhere (gtcheck, Jepsen, Porcupine).

Each file is read with `results.formats.load` (which validates it: a malformed file is a
`BadInput` naming the line) and, with a model, checked for linearizability by
`checkers.linearizability.check`. Without a model the file is only validated. One line per
file, `FILE<TAB>true|false|unknown<TAB>SECONDS`, or one JSON object per line with
`--json`. The exit status summarises all files: 0 all valid, 1 any invalid, 2 any unknown
and none invalid, 3 any bad input (a file that cannot be read, or a bad option).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from checkers import linearizability
from checkers.linearizability.rules import FORMAT_RULES
from results import formats
from suite.errors import BadInput, GtcheckError
from suite.verdicts import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID


@dataclass
class FileVerdict:
    file: str
    valid: Any = None  # True / False / "unknown"; None when the file was bad input
    seconds: float = 0.0
    error: str | None = None
    result: dict = field(default_factory=dict)

    def line(self) -> str:
        word = {True: "true", False: "false"}.get(self.valid, "unknown")
        return f"{self.file}\t{word}\t{self.seconds:.3f}"

    def to_json(self) -> dict:
        d = {"file": self.file, "valid": self.valid, "seconds": round(self.seconds, 6)}
        if self.error is not None:
            d["error"] = self.error
        if self.result:
            d["result"] = self.result
        return d


def parse_initial(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"--initial is not valid JSON ({e.msg} at column {e.colno})") from None


def linearizability_checker() -> Callable[..., dict]:
    """`checkers.linearizability.check`, looked up at call time (tests may replace it)."""
    return linearizability.check


def check_file(path: str, *, fmt: str, model: str | None, initial: Any,
               timeout: float | None, lin_check: Callable[..., dict] | None) -> FileVerdict:
    t0 = time.perf_counter()
    try:
        ops = formats.load(path, fmt)
    except GtcheckError as e:
        return FileVerdict(path, None, time.perf_counter() - t0, error=str(e))
    if model is None or lin_check is None:
        return FileVerdict(path, True, time.perf_counter() - t0,
                           result={"ops": len(ops), "validated": True})
    try:
        result = dict(lin_check(ops, model, initial=initial, timeout=timeout, partition=True,
                                rules=FORMAT_RULES[fmt]))
    except GtcheckError as e:  # e.g. an unknown model name
        return FileVerdict(path, None, time.perf_counter() - t0, error=str(e))
    valid = result.get("valid")
    if valid not in (True, False):
        valid = "unknown"
    return FileVerdict(path, valid, time.perf_counter() - t0, result=result)


def overall_exit(verdicts: list[FileVerdict]) -> int:
    if any(v.error is not None for v in verdicts):
        return EXIT_BAD_INPUT
    if any(v.valid is False for v in verdicts):
        return EXIT_INVALID
    if any(v.valid == "unknown" for v in verdicts):
        return EXIT_UNKNOWN
    return EXIT_VALID


def check_files(files: list[str], *, fmt: str = "jsonl", model: str | None = None,
                initial_json: str | None = None, timeout: float | None = None,
                emit: Callable[[FileVerdict], None] = lambda v: None) -> int:
    """Check every file, `emit` each verdict as it is known, return the exit status."""
    if fmt not in formats.FORMATS:
        raise BadInput(f"--format must be one of {', '.join(formats.FORMATS)}, got {fmt!r}")
    if timeout is not None and timeout <= 0:
        raise BadInput(f"--timeout must be positive, got {timeout}")
    initial = parse_initial(initial_json)
    lin_check = linearizability_checker() if model is not None else None
    verdicts = []
    for path in files:
        v = check_file(path, fmt=fmt, model=model, initial=initial, timeout=timeout,
                       lin_check=lin_check)
        verdicts.append(v)
        emit(v)
    return overall_exit(verdicts)

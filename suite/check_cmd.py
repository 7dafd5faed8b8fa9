"""`gtcheck check`: judge history files from anywhere (gtcheck, Jepsen, Porcupine).

Each file is read with `results.formats.load` (which validates it: a malformed file is a
`BadInput` naming the line; a file with no operations is bad input too, never "valid")
and then judged in one of three ways:
- with `--model`, checked for linearizability by `checkers.linearizability.check`, under
  the rules of the file's format (`checkers/linearizability/rules.py`). On a gtcheck
  history, EC reads (`"consistent": false`) are left out unless `--include-ec-reads`:
  no mode promises them linearizable (MRSC's M07), which is what `run`/`analyze` judge;
- with `--mode`, or when a `test.json` lies beside a gtcheck history, by the very
  checker set `gtcheck analyze` runs for that mode and workload (`suite.core.judge`), so
  `check` and `run`/`analyze` never disagree on one file;
- otherwise only validated, and the verdict is unknown (nothing was judged).
One line per file, `FILE<TAB>true|false|unknown<TAB>SECONDS`, or one JSON object per line
with `--json`. The exit status summarises all files: 0 all valid, 1 any invalid, 2 any
unknown and none invalid, 3 any bad input (a file that cannot be read, or a bad option).
"""

from __future__ import annotations

import contextlib
import gc
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from checkers import linearizability
from checkers.linearizability.rules import FORMAT_RULES
from results import formats
from results.history import NEMESIS, Op, ReadTimedOut
from suite.errors import BadInput, GtcheckError
from gtcheck.errors import cli_naming
from suite.verdicts import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID


@dataclass
class FileVerdict:
    file: str
    valid: Any = None  # True / False / "unknown"; None when the file was bad input
    seconds: float = 0.0
    error: str | None = None
    result: dict = field(default_factory=dict)
    note: str | None = None  # what was judged, when it is not the obvious (stderr)

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


def parse_initial(text: str | None, model: str | None = None) -> Any:
    """--initial as JSON, of a type the model can start from (BadInput otherwise)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"--initial is not valid JSON ({e.msg} at column {e.colno})") from None
    want = _INITIAL_TYPES.get(model or "")
    if value is not None and want is not None and not want[0](value):
        raise BadInput(f"--initial for --model {model} must be {want[1]}, got {text}")
    return value


_INITIAL_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "kv": (lambda v: isinstance(v, str), 'a JSON string (e.g. "")'),
    "set": (lambda v: isinstance(v, list), "a JSON list (e.g. [])"),
    "counter": (lambda v: isinstance(v, int | float) and not isinstance(v, bool),
                "a number (e.g. 0)"),
    "register": (lambda v: not isinstance(v, dict), "a JSON value other than an object"),
    "cas-register": (lambda v: not isinstance(v, dict),
                     "a JSON value other than an object"),
}


def linearizability_checker() -> Callable[..., dict]:
    """`checkers.linearizability.check`, looked up at call time (tests may replace it)."""
    return linearizability.check


def without_ec_reads(ops: Sequence[Op]) -> tuple[list[Op], int]:
    """The history without its EC reads (invocations and completions), and how many
    reads were left out. Pairing is by position per process, as everywhere."""
    drop_next: set[Any] = set()
    kept: list[Op] = []
    left_out = 0
    for op in ops:
        p = op.process
        if op.type == "invoke":
            if op.f == "read" and op.consistent is False and p != NEMESIS:
                drop_next.add(p)
                left_out += 1
                continue
        elif p in drop_next:
            drop_next.discard(p)
            continue
        kept.append(op)
    return kept, left_out


def infer_workload(ops: Sequence[Op]) -> str:
    """register / counter / set, from the operations of a history without test.json."""
    fs = {op.f for op in ops if op.process != NEMESIS}
    if fs and fs <= {"read", "write", "cas"}:
        return "register"
    if fs and fs <= {"read", "add"}:
        reads = [op.value for op in ops if op.f == "read" and op.type == "ok"
                 and op.value is not None]
        return "set" if any(isinstance(v, list) for v in reads) else "counter"
    raise BadInput("cannot tell the workload from the operations "
                   f"({', '.join(sorted(fs)) or 'none'}); put the run's test.json beside "
                   "the history")


def judge_mode(path: str, ops: list[Op], mode: str | None) -> dict:
    """The checker set `gtcheck analyze` runs, on one history: the test from test.json
    beside it (its mode replaced by `mode` when given), else a test of `mode` and the
    workload the operations show. versions.json beside it is used as analyze uses it."""
    from results.store import read_json
    from suite import core, registry
    from suite.config import Test
    here = Path(path).parent
    test_json, versions_json = here / "test.json", here / "versions.json"
    if test_json.is_file():
        test = Test.from_json(read_json(test_json))
        if mode is not None and mode != test.mode:
            test = Test.from_json({**test.to_json(), "mode": mode})
    else:
        test = Test(mode=mode or "strong", workload=infer_workload(ops))
    registry.load_plugins()
    versions = read_json(versions_json) if versions_json.is_file() else None
    result = core.judge(test, ops, {"versions": versions} if versions is not None else {})
    result["mode"], result["workload"] = test.mode, test.workload
    return result


@contextlib.contextmanager
def history_reading(*, freeze: bool = False) -> Any:
    """Read a history with the cyclic garbage collector paused, then (`freeze`) freeze
    what was read. A history is hundreds of thousands of small objects without reference
    cycles, all alive until its check ends: each collection the reading would trigger
    walks every one read so far (a fifth of the reading time on 100,000 operations), and
    each one during the check walks them again (frozen: a further 5-10%). `check_files`
    freezes only when nothing else is frozen, and unfreezes after each file
    (`gc.unfreeze`), so nothing stays out of the collector's reach beyond its check."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def has_test_json(path: str) -> bool:
    return (Path(path).parent / "test.json").is_file()


# The last file's history, kept past check_file: the `gtcheck` program ends without
# freeing it (suite.cli.program), which on a million operations saves CPU seconds.
RETAINED: list = []


def check_file(path: str, *, fmt: str, model: str | None, initial: Any,
               timeout: float | None, lin_check: Callable[..., dict] | None,
               mode: str | None = None, include_ec_reads: bool = False,
               every_counterexample: bool = False,
               freeze_history: bool = False) -> FileVerdict:
    t0 = time.perf_counter()
    # --timeout covers the whole file, reading included: its verdict comes on time
    deadline = None if timeout is None else time.monotonic() + timeout
    RETAINED.clear()  # the previous file's history is freed before this one is read
    try:
        with history_reading(freeze=freeze_history):
            ops = formats.load(path, fmt, deadline=deadline)
        RETAINED.append(ops)
        if not ops:
            raise BadInput(f"{path}: no operations (an empty history proves nothing)")
        if not any(op.process != NEMESIS for op in ops):
            return nothing_to_check(path, t0, "only nemesis operations, no client "
                                              "operation to judge")
        if model is None and fmt == "jsonl" and (mode is not None or has_test_json(path)):
            result = judge_mode(path, ops, mode)
            valid = result.get("valid")
            return FileVerdict(path, valid if valid in (True, False) else "unknown",
                               time.perf_counter() - t0, result=result,
                               note=f"{path}: judged as gtcheck analyze judges a "
                                    f"{result['mode']} {result['workload']} run")
    except GtcheckError as e:
        return FileVerdict(path, None, time.perf_counter() - t0, error=cli_naming(path, e))
    except ReadTimedOut:
        return FileVerdict(path, "unknown", time.perf_counter() - t0,
                           result={"valid": "unknown", "reason": "timeout",
                                   "detail": "--timeout passed while reading the file"})
    if model is None or lin_check is None:
        # VALID needs evidence: a well-formed file that no model judged is not valid
        reason = ("no --model: the file is well-formed (pairing and fields checked), and "
                  "nothing was judged; name --model (or --mode for a gtcheck history)")
        return FileVerdict(path, "unknown", time.perf_counter() - t0,
                           result={"valid": "unknown", "ops": len(ops), "validated": True,
                                   "reason": reason},
                           note=f"{path}: unknown: {reason}")
    left_out = 0
    if fmt == "jsonl" and not include_ec_reads:
        ops, left_out = without_ec_reads(ops)
        if not any(op.process != NEMESIS for op in ops):
            return nothing_to_check(path, t0, f"its {left_out} client operations are all "
                                              "EC reads, which no mode promises "
                                              "linearizable (--include-ec-reads judges "
                                              "them)")
    if deadline is not None:
        timeout = max(deadline - time.monotonic(), 1e-6)  # what reading left of it
    # The verdict line needs one invalid key (the search stops there, as Porcupine's
    # does); --json shows every invalid key's counterexample, so it searches on
    wanted = linearizability.COUNTEREXAMPLES_MAX if every_counterexample else 1
    try:
        result = dict(lin_check(ops, model, initial=initial, timeout=timeout, partition=True,
                                rules=FORMAT_RULES[fmt], counterexamples=wanted))
    except GtcheckError as e:  # e.g. an unknown model name
        return FileVerdict(path, None, time.perf_counter() - t0, error=cli_naming(path, e))
    if fmt == "jsonl":
        result["ec_reads"] = ("included" if include_ec_reads else
                              f"left out ({left_out}): no mode promises EC reads "
                              "linearizable; --include-ec-reads to judge them too")
    valid = result.get("valid")
    if valid not in (True, False):
        valid = "unknown"
    note = (f"{path}: {left_out} EC reads left out (no mode promises them linearizable; "
            "--include-ec-reads judges them too)" if left_out else None)
    return FileVerdict(path, valid, time.perf_counter() - t0, result=result, note=note)


def nothing_to_check(path: str, t0: float, why: str) -> FileVerdict:
    """VALID needs evidence: a history with nothing the check can judge is unknown."""
    reason = f"nothing to check: {why}"
    return FileVerdict(path, "unknown", time.perf_counter() - t0,
                       result={"valid": "unknown", "reason": reason},
                       note=f"{path}: unknown: {reason}")


def overall_exit(verdicts: list[FileVerdict]) -> int:
    if any(v.error is not None for v in verdicts):
        return EXIT_BAD_INPUT
    if any(v.valid is False for v in verdicts):
        return EXIT_INVALID
    if any(v.valid == "unknown" for v in verdicts):
        return EXIT_UNKNOWN
    return EXIT_VALID


def model_names() -> list[str]:
    """Every name `--model` accepts: the linearizability models, then the transactional
    ones and Jepsen's own checkers (checkers.elle.cli_check), aliases last."""
    from checkers.elle import cli_check
    from checkers.linearizability.models import MODELS
    names = list(MODELS) + [m for m in cli_check.MODELS if m not in MODELS]
    return names + [a for a in cli_check.ALIASES if a not in names]


def check_model_name(model: str) -> None:
    """BadInput naming every model when `model` is none of them (issue 25: the message
    listed only the linearizability models)."""
    from checkers.linearizability.models import MODELS
    if model not in MODELS:
        raise BadInput(f"unknown model {model!r} (known: {', '.join(model_names())})")


# The formats on which `counter` and `set` mean Jepsen's own checkers, not linearizability
# (checkers.elle.cli_check.JEPSEN_FORMATS; tests/suite/test_check_start_up.py holds the
# two equal).
JEPSEN_FORMATS = ("edn", "elle-json")


def judged_by_elle_cli(model: str | None, fmt: str) -> bool:
    """`checkers.elle.cli_check.handles(model, fmt)`, answered without importing Elle's
    checkers when the model is a linearizability model on a format Jepsen's checkers do
    not read, or no model: the start-up of `gtcheck check --model cas-register` is most
    of its time on a small file (issue 23 item 3), and Elle's modules are a sixth of it."""
    from checkers.linearizability.models import MODELS
    if model is None or (model in MODELS and fmt not in JEPSEN_FORMATS):
        return False
    from checkers.elle import cli_check
    return cli_check.handles(model, fmt)


def check_files(files: list[str], *, fmt: str = "jsonl", model: str | None = None,
                initial_json: str | None = None, timeout: float | None = None,
                emit: Callable[[FileVerdict], None] = lambda v: None,
                consistency_models: list[str] | None = None,
                mode: str | None = None, include_ec_reads: bool = False,
                group_size: int | None = None, every_counterexample: bool = False,
                linearizable_keys: bool = False, sequential_keys: bool = False) -> int:
    """Check every file, `emit` each verdict as it is known, return the exit status."""
    if timeout is not None and not timeout > 0:
        raise BadInput(f"--timeout must be positive, got {timeout}")
    if judged_by_elle_cli(model, fmt):
        from checkers.elle import cli_check  # transactional models, Jepsen's own checkers
        if initial_json is not None:
            raise BadInput(f"--initial applies to linearizability models, not --model "
                           f"{model} on --format {fmt}")
        return overall_exit(cli_check.check_files(
            files, fmt=fmt, model=model, consistency_models=consistency_models,
            emit=emit, verdict_cls=FileVerdict, group_size=group_size,
            linearizable_keys=linearizable_keys, sequential_keys=sequential_keys,
            timeout=timeout))
    if model is not None:
        check_model_name(model)
    if linearizable_keys or sequential_keys:
        raise BadInput("--linearizable-keys and --sequential-keys apply to --model "
                       "rw-register")
    if group_size is not None:
        raise BadInput("--group-size applies to --model long-fork")
    if consistency_models:
        raise BadInput("--consistency-model applies to --model list-append or rw-register")
    if fmt not in formats.FORMATS:
        raise BadInput(f"--format must be one of {', '.join(formats.FORMATS)}, got {fmt!r}")
    if timeout is not None and timeout <= 0:
        raise BadInput(f"--timeout must be positive, got {timeout}")
    if mode is not None and model is not None:
        raise BadInput("--mode and --model are two different checks: give one of them")
    if mode is not None and fmt != "jsonl":
        raise BadInput("--mode judges gtcheck's own histories (--format jsonl)")
    initial = parse_initial(initial_json, model)
    lin_check = linearizability_checker() if model is not None else None
    verdicts = []
    freeze = gc.get_freeze_count() == 0  # never unfreeze what another part froze
    for path in files:
        try:
            v = check_file(path, fmt=fmt, model=model, initial=initial, timeout=timeout,
                           lin_check=lin_check, mode=mode,
                           include_ec_reads=include_ec_reads,
                           every_counterexample=every_counterexample,
                           freeze_history=freeze)
        finally:
            if freeze:
                gc.unfreeze()  # what reading froze (history_reading) is collectable again
        verdicts.append(v)
        emit(v)
    return overall_exit(verdicts)

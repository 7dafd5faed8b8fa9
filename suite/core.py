"""One run, start to finish: the stages a `Test` flows through.

`run_test(test)` resolves the target, workload and nemesis packages by name (an unknown
name fails before anything starts), creates the run directory and writes `test.json`,
brings the target up and creates the table in the test's mode, sets up the nemesis and
the clients, runs the main phase (client operations and the fault schedule side by side,
for `time_limit` seconds) and the final phase (heal, wait `final_wait` seconds for
quiescence, final reads in every region), collects the target's item versions when it
offers them, tears everything down, and finally judges the history with the workload's
checkers plus `stats`, writing `results.json`; `run.log` keeps what it said. Whatever
goes wrong after the history file exists, the history is kept and judged: a run that
recorded operations always ends with results. `analyze_run(dir)` repeats only the judging, from the files.

Ctrl-C / SIGTERM (`stop_on_signals`): the first stops generating and lets the final
phase heal and read; the second abandons in-flight operations (recorded `info`) and skips
to teardown. Results are written either way. A third quits at once.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from checkers.core import compose
from checkers.stats import stats
from results.history import HistoryWriter, Op, read_jsonl
from results.store import RunDir, Store, open_run_dir
from suite import generator as gen
from suite import registry
from suite.compose import compose_packages
from suite.config import Test
from suite.errors import GtcheckError, SetupError
from suite.protocols import NemesisPackage, VersionSource
from suite.runner import Runner, describe_exception

@dataclass
class RunResult:
    run_dir: RunDir
    results: dict
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> Any:
        return self.results.get("valid")


def checker_for(test: Test) -> Any:
    """The composed checker of a test: its workload's checkers, plus stats."""
    entry = registry.workload_entry(test.workload)
    checkers = dict(entry.checkers(test))
    checkers.setdefault("stats", stats)
    return compose(checkers)


def judge(test: Test, history: Sequence[Op], opts: Mapping[str, Any]) -> dict:
    """Run the checkers; returns `{"valid", "checkers": {name: result}}`."""
    composed = checker_for(test).check(test.to_json(), list(history), opts)
    valid = composed.pop("valid")
    return {"valid": valid, "checkers": composed}


def anomaly_counts(results: Mapping[str, Any], *, expected: bool | None = None
                   ) -> dict[str, int]:
    """Anomaly counts per kind over every checker's result (CONVENTIONS.md).

    `expected=True` counts only the kinds the mode allows (reported, never failures),
    `expected=False` only violations, None both. A kind is expected when the checker's
    listed anomalies of that kind say so.
    """
    counts: dict[str, int] = {}
    for r in results.get("checkers", {}).values():
        if not isinstance(r, Mapping):
            continue
        allowed = {a.get("kind"): bool(a.get("expected"))
                   for a in (r.get("anomalies") or []) if isinstance(a, Mapping)}
        for kind, n in (r.get("anomaly_counts") or {}).items():
            if expected is None or allowed.get(kind, False) == expected:
                counts[kind] = counts.get(kind, 0) + int(n)
    return counts


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event, abort: threading.Event,
                    log: Callable[[str], None] = lambda m: None) -> Iterator[None]:
    """SIGINT/SIGTERM: the first sets `stop`, the second `abort`, a third raises
    KeyboardInterrupt (e.g. to leave a long check). Only the main thread can install
    handlers; elsewhere this does nothing (the caller sets the events)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        name = signal.Signals(signum).name
        if not stop.is_set():
            log(f"{name}: stopping; healing faults and finishing (again to abort)")
            stop.set()
        elif not abort.is_set():
            log(f"{name}: aborting in-flight operations (again to quit at once)")
            abort.set()
        else:
            raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _resolve(test: Test):
    registry.load_plugins()
    entry = registry.workload_entry(test.workload)
    target_factory = registry.target_factory(test.target)
    nemesis_factories = [registry.nemesis_factory(n) for n in test.nemesis]
    if test.hosts:  # clients on remote hosts (suite/remote): the hosts file is read now
        from suite.remote import run as remote
        hosts = remote.plan(test)
        base_factory = target_factory
        target_factory = lambda t: remote.target_for(t, hosts, base_factory)  # noqa: E731
        target_factory.hosts = hosts
    return target_factory, entry, nemesis_factories


def _setup_error(what: str, e: Exception) -> GtcheckError:
    if isinstance(e, GtcheckError):
        return e
    return SetupError(f"{what}: {describe_exception(e)}")


class RunLog:
    """The run's own log file, `run.log`: every line the run says and every record of
    gtcheck's loggers while it runs (an embedded emulator's internal errors, say), each
    stamped with UTC time. Line-buffered, so a killed run keeps what it said so far."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()
        self._handler = _LogRecords(self.write)
        self._logger = logging.getLogger("gtcheck")

    def write(self, line: str) -> None:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        with self._lock:
            if not self._fh.closed:
                self._fh.write(f"{stamp}Z {line}\n")

    def tee(self, out: Callable[[str], None] | None) -> Callable[[str], None]:
        """A line printer that writes to this log, then to `out` (if any)."""
        def say(line: str) -> None:
            self.write(line)
            if out is not None:
                out(line)
        return say

    def __enter__(self) -> "RunLog":
        self._logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self._handler)
        with self._lock:
            self._fh.close()


class _LogRecords(logging.Handler):
    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__()
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        self._write(f"{record.levelname} {record.name}: {self.format(record)}")
        # Where no other handler would take the record, Python would have printed it on
        # stderr (logging.lastResort): keep doing so, the run log is an addition.
        last = logging.lastResort
        if last is not None and record.levelno >= last.level and not self._others(record.name):
            last.handle(record)

    def _others(self, name: str) -> bool:
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            if any(h is not self for h in logger.handlers):
                return True
            logger = logger.parent if logger.propagate else None
        return False


class _Progress:
    """A throttled one-line progress report: elapsed time and outcome counts."""

    def __init__(self, out: Callable[[str], None] | None, every_s: float = 1.0):
        self.out = out
        self.every_s = every_s
        self.counts = {"invoke": 0, "ok": 0, "fail": 0, "info": 0}
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, op: Op) -> None:
        self.counts[op.type] = self.counts.get(op.type, 0) + 1
        now = time.monotonic()
        if self.out is not None and now - self.last >= self.every_s:
            self.last = now
            c = self.counts
            self.out(f"[{now - self.started:6.1f}s] ops={c['invoke']} ok={c['ok']} "
                     f"fail={c['fail']} info={c['info']}")


def run_test(test: Test, *, store: Store | None = None, stop: threading.Event | None = None,
             abort: threading.Event | None = None,
             log: Callable[[str], None] | None = None,
             progress: Callable[[str], None] | None = None) -> RunResult:
    """Run `test` end to end and store everything; see the module docstring."""
    stop = stop or threading.Event()
    abort = abort or threading.Event()
    store = store or Store()
    target_factory, entry, nemesis_factories = _resolve(test)
    run_dir = store.new_run(test.name)
    run_dir.write_test(test.to_json())
    with RunLog(run_dir.run_log) as run_log:
        log, progress = run_log.tee(log), run_log.tee(progress)
        log(f"gtcheck: running {test.name} (target={test.target} mode={test.mode} "
            f"seed={test.seed}, {test.time_limit:g}s) in {run_dir.path}")
        try:
            result = _run(test, run_dir, target_factory, entry, nemesis_factories,
                          stop=stop, abort=abort, log=log, progress=progress)
        except GtcheckError as e:
            log(f"gtcheck: {e}")
            raise
        log(f"gtcheck: done: valid={result.valid} ops={result.results['run']['ops']} "
            f"interrupted={result.interrupted} errors={len(result.errors)}")
        return result


def _run(test: Test, run_dir: RunDir, target_factory, entry, nemesis_factories, *,
         stop: threading.Event, abort: threading.Event, log: Callable[[str], None],
         progress: Callable[[str], None]) -> RunResult:
    """The stages of `run_test` once its run directory exists."""
    errors: list[str] = []
    versions: dict | None = None
    interrupted = False
    timeouts = 0

    def attempt(what: str, fn: Callable[[], Any]) -> None:
        """Teardown steps: each one runs even if an earlier one failed."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 -- recorded in results.json and logged
            errors.append(f"{what}: {describe_exception(e)}")
            log(f"{what} failed: {describe_exception(e)}")

    writer = HistoryWriter(run_dir.history)
    target = workload = None
    package = NemesisPackage(None)
    nemesis = None
    table_created = False
    fleet = history = None
    try:
        try:
            target = target_factory(test)
            target.setup(test)
        except Exception as e:  # noqa: BLE001 -- becomes a SetupError with the reason
            raise _setup_error(f"target {test.target!r} could not be set up", e) from e
        if getattr(target_factory, "hosts", None) is not None:
            from suite.remote import run as remote
            fleet = remote.open_fleet(test, target, target_factory.hosts, log=log)
            target = remote.HostsTarget(target, fleet)
        try:
            workload = entry.build(test, target)
            if workload.table is not None:
                target.create_table(test, workload.table)
                table_created = True
            package = compose_packages([f(test, target) for f in nemesis_factories])
            if package.nemesis is not None:
                nemesis = package.nemesis.setup(test)
            for region in test.regions:
                c = workload.client.open(test, region)
                try:
                    c.setup(test)
                finally:
                    c.close(test)
        except Exception as e:  # noqa: BLE001 -- becomes a SetupError with the reason
            raise _setup_error("set-up failed", e) from e

        history = writer
        if fleet is not None:  # remote operations at their clock-mapped times
            from suite.remote.fleet import MappedHistory
            history = MappedHistory(writer, fleet)
        runner = Runner(test, client=fleet.client() if fleet else workload.client,
                        nemesis=nemesis, history=history,
                        regions=test.regions, concurrency=test.concurrency,
                        op_timeout_s=test.op_timeout, stop=stop, abort=abort,
                        on_record=_Progress(progress), log=log)
        if fleet is not None:
            fleet.attach(runner.now)
        main = gen.clients_and_nemesis(workload.generator, package.generator) \
            if package.generator is not None else gen.clients(workload.generator)
        final = gen.phases(gen.nemesis(package.final_generator) if nemesis else None,
                           gen.sleep(test.final_wait) if test.final_wait > 0 else None,
                           gen.clients(workload.final_generator))
        outcome = runner.run(main, final, time_limit_s=test.time_limit)
        interrupted = outcome.interrupted or outcome.aborted
        timeouts = outcome.timeouts
        errors.extend(outcome.errors)
        if isinstance(target, VersionSource) and workload.table is not None:
            attempt("collecting item versions",
                    lambda: run_dir.write_versions(dict(target.versions(workload.table))))
            if run_dir.versions_json.exists():
                versions = run_dir.read_versions()
    except GtcheckError as e:
        errors.append(str(e))
        raise
    finally:
        if nemesis is not None:
            attempt("nemesis teardown", lambda: nemesis.teardown(test))
        if workload is not None and target is not None:
            for region in test.regions:
                def teardown_region(region=region):
                    c = workload.client.open(test, region)
                    try:
                        c.teardown(test)
                    finally:
                        c.close(test)
                attempt(f"client teardown in {region}", teardown_region)
        if history is not None and history is not writer:
            attempt("merging the hosts' operations", history.close)
        if fleet is not None:
            attempt("stopping the workers", fleet.close)
            errors.extend(fleet.warnings)
            attempt("writing hosts.json", lambda: (run_dir.path / "hosts.json").write_text(
                json.dumps(fleet.describe(), indent=1)))
        if table_created:
            attempt("deleting the table", lambda: target.delete_table(test, workload.table))
        if target is not None:
            attempt("target teardown", lambda: target.teardown(test))
        writer.close()
        # Judge whatever was recorded, even when set-up failed part-way.
        opts = {"versions": versions} if versions is not None else {}
        results = judge(test, writer.ops, opts)
        results["run"] = {"interrupted": interrupted, "errors": errors,
                          "ops": len(writer.ops), "timeouts": timeouts}
        run_dir.write_results(results)
    return RunResult(run_dir, results, interrupted=interrupted, errors=errors)


def analyze_run(path: str | Path) -> RunResult:
    """Re-judge a stored run from test.json + history.jsonl; rewrites results.json."""
    run_dir = open_run_dir(path)
    test = Test.from_json(run_dir.read_test())
    registry.load_plugins()
    history = read_jsonl(run_dir.history)
    versions = run_dir.read_versions()
    results = judge(test, history, {"versions": versions} if versions is not None else {})
    previous_run = {}
    if run_dir.results_json.exists():
        try:
            previous_run = run_dir.read_results().get("run", {})
        except GtcheckError:
            previous_run = {}
    results["run"] = {**previous_run, "ops": len(history), "analyzed": True}
    run_dir.write_results(results)
    return RunResult(run_dir, results)


def summary(result: RunResult, test: Test) -> str:
    """The end-of-run text: verdict, anomalies by kind, where to look, how to reproduce."""
    v = result.valid
    verdict = {True: "VALID", False: "INVALID", "unknown": "UNKNOWN"}.get(v, "UNKNOWN")
    lines = [f"verdict: {verdict}"]
    for name, r in result.results.get("checkers", {}).items():
        if isinstance(r, Mapping):
            extra = f" ({r['error']})" if r.get("error") else ""
            lines.append(f"  {name}: {r.get('valid')}{extra}")
    for label, expected in (("violations", False),
                            ("anomalies the mode allows (reported, not failures)", True)):
        counts = anomaly_counts(result.results, expected=expected)
        if counts:
            lines.append(f"{label}: "
                         + ", ".join(f"{k}={n}" for k, n in sorted(counts.items())))
    if result.interrupted:
        lines.append("the run was interrupted; results cover what was recorded")
    for e in result.errors:
        lines.append(_red(f"error: {e}") if _fault_left(e) else f"error: {e}")
    lines.append(f"run directory: {result.run_dir.path}")
    if result.run_dir.report.exists():
        lines.append(f"report: {result.run_dir.report}")
    if v is not True:
        lines.append(f"reproduce with seed={test.seed}: "
                     f"{' '.join(_reproduce_argv(test))}")
    return "\n".join(lines)


def _fault_left(error: str) -> bool:
    """A host fault that could not be undone (suite.remote.faults): shown in red."""
    from suite.remote.faults import NOT_UNDONE
    return NOT_UNDONE in error


def _red(text: str) -> str:
    return f"\x1b[31m{text}\x1b[0m"  # click.echo drops it when not on a terminal


def _reproduce_argv(test: Test) -> list[str]:
    argv = list(test.argv) if test.argv else ["gtcheck", "run"]
    if "--seed" not in argv:
        argv += ["--seed", str(test.seed)]
    return [Path(argv[0]).name] + argv[1:]

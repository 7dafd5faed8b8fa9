"""One run, start to finish: the stages a `Test` flows through.

`run_test(test)` first does everything that needs nothing started (`prepare`: names,
the target built but not started, the nemesis packages composed), so bad input fails
before the store is touched; then it creates the run directory and writes `test.json`,
brings the target up and creates the table in the test's mode, sets up the nemesis and
the clients, runs the main phase (client operations and the fault schedule side by side,
for `time_limit` seconds, or with `pace` until its operation budget: suite/pace.py) and
the final phase (heal, wait `final_wait` seconds for
quiescence, final reads in every region, made again in rounds while the regions disagree,
up to `final_deadline` seconds: suite/final_rounds.py), collects the target's item versions when it
offers them, tears everything down, and finally judges the history with the workload's
checkers plus `stats`, writing `results.json`; `run.log` keeps what it said. Whatever
goes wrong after the history file exists, the history is kept and judged: a run that
recorded operations always ends with results; a set-up failure leaves results marked
`setup_error` (nothing judged, nothing "held"). While it runs, `_Watch` prints progress,
logs every fault operation and notices a target that is gone (every region refusing
connections), which stops the run. `apply_run_conditions` turns the checkers' verdict
into the run's (set-up failure, target gone, interruption: unknown with the reason).
`analyze_run(dir)` repeats only the judging, from the files.

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

from checkers.core import collector_parked, compose, merge_results
from checkers.stats import stats
from results.counts import count_op, counts_text, fault_counts, rate_warning, run_counts
from results.history import (FAULT_ACTIONS, NEMESIS, HistoryWriter, Op, fault_periods,
                             read_jsonl)
from results.store import RunDir, Store, open_run_dir
from suite import generator as gen
from suite import pace, quiet, registry, schedule_file
from suite.compose import compose_packages
from suite.config import Test
from suite.errors import BadInput, GtcheckError, SetupError
from suite.final_rounds import final_rounds
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


def final_reads_in_rounds(test: Test, workload: Any) -> Any:
    """The workload's final reads, in rounds while the regions disagree when the workload
    says what a final read shows (`final_view`; suite/final_rounds.py), else once."""
    view = getattr(workload, "final_view", None)
    if view is None or workload.final_generator is None:
        return workload.final_generator
    return final_rounds(workload.final_generator, view, deadline_s=test.final_deadline,
                        regions=[r for r in test.regions if r != test.witness])


def judge(test: Test, history: Sequence[Op], opts: Mapping[str, Any]) -> dict:
    """Run the checkers; returns `{"valid", "checkers": {name: result}}`."""
    with collector_parked():  # issue 23: the collector's passes cost, freeing nothing
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
    repeated = sorted({n for n in test.nemesis if test.nemesis.count(n) > 1})
    if repeated:
        raise BadInput(f"--nemesis lists {', '.join(repeated)} more than once")
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


@dataclass
class _Prepared:
    """What can be built and checked before the run store is touched: the target (not
    yet started) and the composed nemesis package."""

    target: Any
    entry: Any
    package: NemesisPackage
    hosts: Any = None  # a remote run's hosts file (suite/remote): its packages wait for
    nemesis_factories: Sequence[Any] = ()  # the fleet, so they are built once it is up


def _check_nemesis_fits(test: Test, target: Any) -> None:
    """BadInput unless every named nemesis can run against `target`: the families say
    which target kinds they run on (nemesis/faults.py); a target may check further
    (`check_nemesis`, e.g. aws needs --fis-role-arn for FIS); otherwise a family that
    works through a fault API needs a target that has one."""
    from nemesis.faults import ALL_FAMILIES, check_targets
    check_targets(test.nemesis, test.target)
    check = getattr(target, "check_nemesis", None)
    if check is not None:
        check(test.nemesis)
        return
    via_api = [n for n in test.nemesis
               if n in ALL_FAMILIES and ALL_FAMILIES[n].via == "fault"]
    if via_api and not getattr(target, "has_faults", True):
        raise BadInput(f"--nemesis {','.join(via_api)} needs a target with a fault "
                       f"API; {test.target!r} has none (use --nemesis none, or a "
                       f"client-side fault)")


def prepare(test: Test) -> _Prepared:
    """Resolve every name and build the target and the nemesis package, without starting
    anything: a bad name, a bad endpoints file or one whose endpoints do not answer, an
    impossible region set or two nemeses that cannot be composed fail here, before a run
    directory exists (BadInput / SetupError)."""
    target_factory, entry, nemesis_factories = _resolve(test)
    try:
        target = target_factory(test)
    except Exception as e:  # noqa: BLE001 -- becomes a SetupError with the reason
        raise _setup_error(f"target {test.target!r} could not be set up", e) from e
    if nemesis_factories:
        _check_nemesis_fits(test, target)
    probe = getattr(target, "probe_before_run", None)
    if callable(probe) and not test.hosts:  # running endpoints: do they answer? (SetupError)
        probe()
    if test.nemesis_schedule and not getattr(target, "has_faults", True):
        raise BadInput(f"--nemesis-schedule needs a target with a fault API; "
                       f"{test.target!r} has none")
    hosts = getattr(target_factory, "hosts", None)
    if hosts is not None:  # host nemeses need the fleet of workers: built in _run
        return _Prepared(target, entry, NemesisPackage(None), hosts, nemesis_factories)
    try:
        if test.nemesis_schedule:
            package = schedule_file.package(test, target)
        else:
            package = compose_packages([f(test, target) for f in nemesis_factories])
    except Exception as e:  # noqa: BLE001 -- becomes a SetupError with the reason
        raise _setup_error("the nemesis could not be set up", e) from e
    return _Prepared(target, entry, package)


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


REFUSED = "connection-refused"
GONE_AFTER_S = 3.0      # every region refusing connections this long: the target is gone
GONE_MIN_REFUSALS = 3   # ... with at least this many refused operations in each region


def nemesis_turns_note(test: Test) -> str | None:
    """The warning printed before a run whose composed nemesis packages would not all act
    within its time limit at the asked interval (nemesis/packages.py turn_interval_s)."""
    from nemesis.faults import ALL_FAMILIES
    from nemesis.packages import turns_note
    names = [n for n in test.nemesis if n in ALL_FAMILIES]
    if len(names) != len(test.nemesis) or not names:
        return None
    return turns_note(names, test.nemesis_interval, test.time_limit)


def faults_text(test: Test, counts: Mapping[str, int]) -> str | None:
    """`faults: isolate 2, link (cut) 1, pause 0 (never acted)`: every requested package
    with the times its fault began, plus any other fault the history holds."""
    from nemesis.faults import ALL_FAMILIES
    parts, seen = [], set()
    for name in test.nemesis:
        family = ALL_FAMILIES.get(name)
        f = family.begin if family is not None else name
        seen.add(f)
        n = int(counts.get(f, 0))
        label = name if f == name else f"{name} ({f})"
        parts.append(f"{label} {n}" + (" (never acted)" if n == 0 else ""))
    parts += [f"{f} {n}" for f, n in sorted(counts.items()) if f not in seen]
    return "faults: " + ", ".join(parts) if parts else None


class _Watch:
    """What the run says while it runs, from each recorded operation: a throttled progress
    line (elapsed time, counts as `run_counts` defines them, the faults in force), a line
    for every nemesis operation as it completes (Jepsen logs each one), and the watch for
    a target that is gone: when every region has refused connections for `GONE_AFTER_S`
    with no other answer in between, it sets `gone` with the reason, and the runner stops
    (the system under test cannot be judged unavailable when nothing is listening)."""

    def __init__(self, regions: Sequence[str], out: Callable[[str], None],
                 log: Callable[[str], None], gone: threading.Event, every_s: float = 1.0,
                 violations: Callable[[], int] | None = None):
        self.out, self.log, self.gone, self.every_s = out, log, gone, every_s
        self.violations = violations  # found so far by the online checker (checkers/online.py)
        self.counts = run_counts([])
        self.main_ops = 0  # client operations invoked in the main phase
        self.nemesis_ops: list[Op] = []
        self.refused: dict[str, list[int]] = {r: [] for r in regions}  # refusal times (ns)
        self.gone_reason: str | None = None
        self.last = 0.0

    def active_faults(self) -> list[str]:
        return [f"{fp.f} {_fault_target(fp.value)}".strip()
                for fp in fault_periods(self.nemesis_ops, possible=True) if fp.end is None]

    def __call__(self, op: Op) -> None:
        if op.process == NEMESIS:
            self._nemesis(op)
        else:
            count_op(self.counts, op)
            self.main_ops += op.type == "invoke" and not op.extra.get("final")
            self._watch_refusals(op)
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            faults = self.active_faults()
            found = "" if self.violations is None else f" violations: {self.violations()}"
            self.out(f"[{op.time / 1e9:6.1f}s] {counts_text(self.counts)}{found} faults: "
                     + ("; ".join(faults) if faults else "none"))

    def _nemesis(self, op: Op) -> None:
        self.nemesis_ops.append(op)
        if op.type == "invoke":
            return
        what = f"{op.f} {_fault_target(op.value)}".strip()
        at = f"at {op.time / 1e9:.1f}s"
        if op.type != "ok":
            self.log(f"nemesis: {what} {op.type} {at} ({op.error or 'no reason given'})")
        elif op.f in FAULT_ACTIONS:
            self.log(f"nemesis: fault began {at}: {what}")
        else:
            self.log(f"nemesis: {what} {at}; faults in force: "
                     + ("; ".join(self.active_faults()) or "none"))

    def _watch_refusals(self, op: Op) -> None:
        if op.type == "invoke" or op.region not in self.refused or self.gone.is_set():
            return
        if op.type == "fail" and op.error == REFUSED:
            self.refused[op.region].append(op.time)
        else:
            self.refused[op.region].clear()
            return
        streaks = self.refused.values()
        if all(len(t) >= GONE_MIN_REFUSALS for t in streaks):
            since = min(t[0] for t in streaks)
            if (op.time - since) / 1e9 >= GONE_AFTER_S:
                self.gone_reason = (
                    f"the target is gone: every region ({', '.join(self.refused)}) refused "
                    f"connections from {since / 1e9:.1f}s to {op.time / 1e9:.1f}s; the run "
                    "was stopped, and availability cannot be judged")
                self.log(f"gtcheck: {self.gone_reason}")
                self.gone.set()


def _online_checker(test: Test, log: Callable[[str], None],
                    halt: threading.Event) -> Any:
    """The online checker of `test`'s workload (checkers/online.py), or None when none of
    its checkers can judge while the run goes. Its first violation is logged and, with
    `--stop-on-violation`, sets `halt`."""
    from checkers.online import OnlineChecker, online_checkers
    from workloads.base import HOT_KEY_OPS
    cheap, cold = online_checkers(test.mode, test.workload)
    if not cheap and not cold:
        if test.stop_on_violation:
            log(f"gtcheck: no checker judges {test.workload} in {test.mode} mode while the "
                "run goes: --stop-on-violation cannot stop it early; the full check "
                "judges it at the end")
        return None

    def found(v) -> None:
        log(f"gtcheck: violation found while running, at {v.at_s:.1f}s: {v.describe()}")
        if test.stop_on_violation:
            log("gtcheck: --stop-on-violation: stopping the run")
            halt.set()
    hot = test.hot_keys if 0 < test.hot_keys < test.keys else test.keys
    return OnlineChecker(test.to_json(), cheap, cold, on_violation=found,
                         cold_after_ops=max(1, hot) * HOT_KEY_OPS)


def _table_ops(test: Test, online: Callable[[Op], None]) -> Callable[[Op], None]:
    """The online checker's feed: with `--gsi-reads`, without the GSI reads (they are no
    table reads; checkers/gsi_reads.py judges them after the run)."""
    if not getattr(test, "gsi_reads", False):
        return online
    from checkers.gsi_reads import table_ops_only
    return table_ops_only(online)


def online_summary(online: Any) -> dict:
    """results.json's `run.online`: what the checking while the run went found."""
    out: dict[str, Any] = {"violations": len(online.violations),
                           "checkers": sorted({*online.cheap, *online.cold})}
    if online.violations:
        out["first"] = online.violations[0].to_json()
    if online.errors:
        out["errors"] = online.errors[:10]
    return out


def _fault_target(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(f"{v}" if k in ("region", "a", "b") else f"{k}={v}"
                        for k, v in value.items())
    return "" if value is None else str(value)


def run_test(test: Test, *, store: Store | None = None, stop: threading.Event | None = None,
             abort: threading.Event | None = None,
             log: Callable[[str], None] | None = None,
             progress: Callable[[str], None] | None = None,
             on_history: Callable[[Path], None] | None = None) -> RunResult:
    """Run `test` end to end and store everything; see the module docstring. Everything
    that can be checked without starting anything is checked before the store is touched
    (`prepare`); a set-up failure after that leaves a run marked `setup_error`.
    `on_history(run_dir)` is called once the history file is complete and closed (as
    soon as the runner is done; a remote run's once its hosts' operations are merged),
    before the item versions, the teardown and the check, unless set-up failed (`gtcheck
    run` has its plots drawn meanwhile)."""
    stop = stop or threading.Event()
    abort = abort or threading.Event()
    store = store or Store()
    prepared = prepare(test)
    run_dir = store.new_run(test.name)
    run_dir.write_test(test.to_json())
    with RunLog(run_dir.run_log) as run_log:
        log, progress = run_log.tee(log), run_log.tee(progress)
        log(f"gtcheck: running {test.name} (target={test.target} mode={test.mode} "
            f"seed={test.seed}, {test.time_limit:g}s) in {run_dir.path}")
        if test.pace:
            log(f"gtcheck: paced: {test.pace:g} client operations to a second of the "
                f"schedule, a budget of {test.pace * test.time_limit:.0f} in the main "
                f"phase, at most {pace.wall_cap_s(test):g} s of it (suite/pace.py)")
        note = nemesis_turns_note(test)
        if note is not None:
            log(f"gtcheck: warning: {note}")
        try:
            result = _run(test, run_dir, prepared, stop=stop, abort=abort, log=log,
                          progress=progress, on_history=on_history)
        except GtcheckError as e:
            run_log.write(f"gtcheck: error: {e}")  # the CLI prints it once
            _report_setup_failure(run_dir, run_log)
            raise
        c = result.results["run"]
        log(f"gtcheck: done: verdict={_VERDICT_WORDS.get(result.valid, 'UNKNOWN')} "
            f"{counts_text(c)} interrupted={result.interrupted} errors={len(result.errors)}")
        return result


def _report_setup_failure(run_dir: RunDir, run_log: RunLog) -> None:
    """A run that failed during set-up still gets its report, which says so."""
    from results.report import write_report
    try:
        write_report(run_dir.path)
    except Exception as e:  # noqa: BLE001 -- the set-up error is what the user must see
        run_log.write(f"report: not written ({describe_exception(e)})")


def _run(test: Test, run_dir: RunDir, prepared: _Prepared, *,
         stop: threading.Event, abort: threading.Event, log: Callable[[str], None],
         progress: Callable[[str], None],
         on_history: Callable[[Path], None] | None = None) -> RunResult:
    """The stages of `run_test` once its run directory exists."""
    errors: list[str] = []
    versions: dict | None = None
    interrupted = False
    setup_error: str | None = None
    main_phase_s: float | None = None

    def attempt(what: str, fn: Callable[[], Any]) -> None:
        """Teardown steps: each one runs even if an earlier one failed."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 -- recorded in results.json and logged
            errors.append(f"{what}: {describe_exception(e)}")
            log(f"{what} failed: {describe_exception(e)}")

    writer = HistoryWriter(run_dir.history, sync=run_dir.sync)
    target, entry, package = prepared.target, prepared.entry, prepared.package
    workload = None
    nemesis = None
    started = table_created = False
    gone = threading.Event()
    halt = threading.Event()  # --stop-on-violation: the online checker found one
    online = _online_checker(test, log, halt)
    if online is not None:
        # Fed by the writer, not the runner: only finished, numbered operations at their
        # history times, in file order (a remote run's operations are mapped and
        # numbered only when released: suite.remote.fleet.MappedHistory).
        writer.on_record = _table_ops(test, online)
    # Only regions with a client thread can refuse anything (thread t is in region t mod n).
    watch = _Watch(test.regions[:test.concurrency], progress, log, gone,
                   violations=(lambda: len(online.violations)) if online else None)
    fleet = history = None
    host_faults: dict[str, str] = {}
    handed_on = False

    def hand_on() -> None:
        """`on_history(run_dir)`, once."""
        nonlocal handed_on
        if on_history is not None and not handed_on:
            handed_on = True
            attempt("handing on the history", lambda: on_history(run_dir.path))
    try:
        try:
            started = True
            if hasattr(target, "on_stop_request"):  # e.g. the aws target's --max-requests
                target.on_stop_request(stop.set)
            if hasattr(target, "watch_stop"):  # e.g. the aws target: a set-up in progress stops
                target.watch_stop(stop)
            target.setup(test)
        except Exception as e:  # noqa: BLE001 -- becomes a SetupError with the reason
            raise _setup_error(f"target {test.target!r} could not be set up", e) from e
        if prepared.hosts is not None:
            from suite.remote import run as remote
            fleet = remote.open_fleet(test, target, prepared.hosts, log=log)
            target = remote.HostsTarget(target, fleet)
            try:
                package = compose_packages([f(test, target)
                                            for f in prepared.nemesis_factories])
            except Exception as e:  # noqa: BLE001 -- becomes a SetupError with the reason
                raise _setup_error("the nemesis could not be set up", e) from e
        try:
            workload = entry.build(test, target)
            if workload.table is not None:
                target.create_table(test, workload.table)
                table_created = True
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
                        op_timeout_s=test.op_timeout, stop=stop, abort=abort, give_up=gone,
                        halt=halt, halt_final=gen.nemesis(package.final_generator)
                        if nemesis else None,
                        on_record=watch, log=log)
        if fleet is not None:
            fleet.attach(runner.now)
        if test.pace:  # schedule time counted in client operations (suite/pace.py)
            main = pace.paced(workload.generator, package.generator, ops_per_s=test.pace,
                              time_limit_s=test.time_limit)
        elif package.generator is not None:
            main = gen.clients_and_nemesis(workload.generator, package.generator)
        else:
            main = gen.clients(workload.generator)
        if package.generator is not None and workload.final_generator is not None \
                and quiet.enabled(test):  # a quiet round after each heal (suite/quiet.py)
            main = quiet.quiet_reads(main, workload.final_generator,
                                     settle_s=quiet.settle_s(test), triggers=quiet.heal_fs(),
                                     time_limit_s=test.time_limit)
        final = gen.phases(gen.nemesis(package.final_generator) if nemesis else None,
                           gen.sleep(test.final_wait) if test.final_wait > 0 else None,
                           gen.clients(final_reads_in_rounds(test, workload)))
        outcome = runner.run(main, final, time_limit_s=pace.wall_cap_s(test))
        interrupted = outcome.interrupted or outcome.aborted
        main_phase_s = outcome.main_phase_s
        if test.pace and main_phase_s is not None:  # the runner says why it ended in seconds
            log(f"paced main phase: {watch.main_ops} client operations invoked in "
                f"{main_phase_s:.1f} s (budget {test.pace * test.time_limit:.0f}, at most "
                f"{pace.wall_cap_s(test):g} s)")
        errors.extend(outcome.errors)
        if history is writer:
            # The history is complete once the runner returns (it records every operation
            # itself; an abandoned worker's late answer is discarded): hand it on now, so
            # the plots are drawn while the versions, the teardown and the check go on. A
            # remote run's operations are merged only at `history.close` (below).
            writer.close()
            hand_on()
        if fleet is not None:  # before judging: no host fault may still be in force
            from suite.remote.run import faults_in_force
            attempt("checking that no host fault is in force",
                    lambda: host_faults.update(faults_in_force(fleet)))
            for host, what in sorted(host_faults.items()):
                log(f"host {host}: a fault is still in force after the final phase: {what}")
        if isinstance(target, VersionSource) and workload.table is not None and \
                not gone.is_set():
            attempt("collecting item versions",
                    lambda: run_dir.write_versions(dict(target.versions(workload.table))))
            if run_dir.versions_json.exists():
                versions = run_dir.read_versions()
    except GtcheckError as e:
        setup_error = str(e)
        raise
    finally:
        if nemesis is not None:
            attempt("nemesis teardown", lambda: nemesis.teardown(test))
        if workload is not None and not gone.is_set():
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
        if table_created and gone.is_set():
            errors.append(f"deleting the table: skipped, the target is gone (table "
                          f"{workload.table!r} may remain on it)")
        elif table_created:
            attempt("deleting the table", lambda: target.delete_table(test, workload.table))
        if started:
            attempt("target teardown", lambda: target.teardown(test))
        writer.close()
        if setup_error is None:
            hand_on()
        faults = schedule_file.schedule_of(writer.ops, main_phase_s)
        if faults:  # this run's faults, replayable with --nemesis-schedule
            attempt("writing the nemesis schedule", lambda: (
                run_dir.path / schedule_file.FILE_NAME).write_text(json.dumps(faults,
                                                                              indent=1)))
        run = {"interrupted": interrupted, "errors": errors, **run_counts(writer.ops),
               "faults": fault_counts(writer.ops)}
        if online is not None:
            online.close()
            run["online"] = online_summary(online)
            if halt.is_set() and online.violations:
                run["stopped_on_violation"] = online.violations[0].to_json()
        if setup_error is not None:
            run["setup_error"] = setup_error
        if watch.gone_reason is not None:
            run["target_gone"] = watch.gone_reason
        if host_faults:
            run["host_faults_in_force"] = dict(host_faults)
        if main_phase_s:
            run["main_phase_s"] = round(main_phase_s, 6)  # as precise as op times compare
            run["rate_target"] = test.rate
            run["rate_achieved"] = round(watch.main_ops / main_phase_s, 1)
        if setup_error is not None and not writer.ops:
            # Nothing ran: there is nothing to judge, and no promise can be said to hold.
            results = {"valid": "unknown", "checkers": {}}
        else:
            n = run["ops"]
            log(f"checking {n} operation{'s' if n != 1 else ''} "
                f"({run['records']} history records)")
            t0 = time.monotonic()
            opts = {"versions": versions} if versions is not None else {}
            results = judge(test, writer.ops, opts)
            log(f"checked in {time.monotonic() - t0:.1f}s")
        results["run"] = run
        apply_run_conditions(results)
        run_dir.write_results(results)
    return RunResult(run_dir, results, interrupted=interrupted, errors=errors)


def apply_run_conditions(results: dict) -> None:
    """The verdict as the run's conditions allow it, in place: the checkers' verdict
    (false > unknown > true, Jepsen's compose) unless the run could not decide it. A
    set-up failure decides nothing; a target that went away voids the availability
    judgement (nothing was listening, so the system was not shown unavailable) and
    leaves a valid run unknown; so does a host fault still in force after the final
    phase of a remote run (its clients' failures say nothing about the table); an interrupted run that found no violation is unknown
    (it was cut short). A violation found stays a violation. The reason goes in
    `results["reason"]`."""
    run = results.get("run") or {}
    checkers = results.get("checkers") or {}
    av = checkers.get("availability")
    if run.get("target_gone") and isinstance(av, dict) and av.get("valid") is False:
        av["valid"] = "unknown"
        av["error"] = "not judged: " + run["target_gone"]
    left = run.get("host_faults_in_force")
    left_text = ("host fault(s) still in force after the final phase: " + "; ".join(
        f"{h}: {w}" for h, w in sorted(left.items()))) if isinstance(left, dict) and left \
        else None
    if left_text and isinstance(av, dict) and av.get("valid") is not True:
        # clients cut off by a fault left in force say nothing about the table
        av["valid"] = "unknown"
        av["error"] = "not judged: " + left_text
    valid = merge_results(list(checkers.values()))
    reason = None
    if run.get("setup_error"):
        valid, reason = "unknown", f"set-up failed: {run['setup_error']}"
    elif run.get("target_gone"):
        reason = run["target_gone"] + ("; what was recorded before already breaks a promise"
                                       if valid is False else "")
        valid = False if valid is False else "unknown"
    elif run.get("stopped_on_violation"):
        first = run["stopped_on_violation"]
        found = (f"{first.get('checker')}: {first.get('kind')} on {first.get('key')} "
                 f"at {first.get('at_s')}s")
        if valid is False:
            reason = f"stopped at the first violation found while running ({found})"
        else:  # the full check must confirm what stopped the run; it did not
            valid, reason = "unknown", (f"stopped at a violation found while running "
                                        f"({found}) that the full check did not confirm")
    elif run.get("interrupted"):
        if valid is True:
            valid, reason = "unknown", ("the run was interrupted: no violation in what was "
                                        "recorded, but the test did not run its course")
        else:
            reason = ("the run was interrupted; what was recorded already breaks a promise"
                      if valid is False else "the run was interrupted")
    elif left_text:
        reason = left_text + ("; what was recorded already breaks a promise"
                              if valid is False else "")
        valid = False if valid is False else "unknown"
    results["valid"] = valid
    if reason is not None:
        results["reason"] = reason
    else:
        results.pop("reason", None)


_VERDICT_WORDS = {True: "VALID", False: "INVALID", "unknown": "UNKNOWN"}


def analyze_run(path: str | Path) -> RunResult:
    """Re-judge a stored run from test.json + history.jsonl; rewrites results.json. The
    run's own conditions (interrupted, target gone, set-up failure) still apply."""
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
    results["run"] = {**previous_run, **run_counts(history), "faults": fault_counts(history),
                      "analyzed": True}
    if previous_run.get("setup_error") and not history:
        results["checkers"] = {}
    apply_run_conditions(results)
    run_dir.write_results(results)
    return RunResult(run_dir, results, interrupted=bool(previous_run.get("interrupted")),
                     errors=list(previous_run.get("errors") or []))


def summary(result: RunResult, test: Test) -> str:
    """The end-of-run text: verdict (with the reason when the run could not decide it),
    each promise in the report's words, anomalies by kind, the run's errors and
    warnings, where to look, and what a seed repeats."""
    from results.report._view import promise_verdict
    v = result.valid
    results = result.results
    reason = results.get("reason")
    lines = [f"verdict: {_VERDICT_WORDS.get(v, 'UNKNOWN')}" + (f" ({reason})" if reason else "")]
    for name, r in results.get("checkers", {}).items():
        if isinstance(r, Mapping):
            _cls, word, counts = promise_verdict(name, r)
            detail = [x for x in (counts, r.get("error")) if x]
            lines.append(f"  {name}: {word}" + (f" ({'; '.join(detail)})" if detail else ""))
    from checkers.anomalies import EVIDENCE_KINDS
    allowed = anomaly_counts(results, expected=True)
    for label, counts in (
            ("violations", anomaly_counts(results, expected=False)),
            ("anomalies the mode allows (reported, not failures)",
             {k: n for k, n in allowed.items() if k not in EVIDENCE_KINDS}),
            ("evidence a promise held (not anomalies)",
             {k: n for k, n in allowed.items() if k in EVIDENCE_KINDS})):
        if counts:
            lines.append(f"{label}: "
                         + ", ".join(f"{k}={n}" for k, n in sorted(counts.items())))
    run = results.get("run") or {}
    if "ops" in run:
        lines.append(f"operations: {counts_text(run)} (timeouts={run.get('timeouts', 0)})")
    faults = faults_text(test, run.get("faults") or {}) if "ops" in run else None
    if faults:
        lines.append(faults)
    warning = rate_warning(run)
    if warning:
        lines.append(f"warning: {warning}")
    for e in result.errors:
        lines.append(_red(f"error: {e}") if _fault_left(e) else f"error: {e}")
    lines.append(f"run directory: {result.run_dir.path}")
    if result.run_dir.report.exists():
        lines.append(f"report: {result.run_dir.report}")
    if v is not True and not run.get("setup_error"):
        lines.append(f"reproduce with seed={test.seed}: "
                     f"{' '.join(_reproduce_argv(test))}")
        lines.append("  (the seed repeats the fault schedule and the sequence of client "
                     "operations in the order they are issued; which thread runs each, and "
                     "every outcome, depend on timing)")
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

"""`gtcheck test-all`: every workload against every nemesis package, one table of verdicts.

Jepsen's CLI has `test-all` for the user who does not know what bug they have: run the
whole battery and read one summary. Here the battery is every workload and every nemesis
package in the registries (suite.registry: so a workload or nemesis added anywhere is in
it without a change here), plus each workload with no fault, in the chosen mode(s). Each
run is an ordinary `suite.core.run_test` with its own run directory in the store; the
battery prints one progress line per run, then a table: mode, workload, nemesis, verdict,
the violations (anomalies the mode forbids) and the anomalies the mode allows, by kind.
The table and a JSON summary are written to `STORE/test-all/<timestamp>.txt|.json`, and
every run that was not valid gets its report.html so it can be opened at once.

`--quick` is a smoke battery that spends its time where bugs are found (issue 21): 1 s of
traffic per run at 300 operations/s on two rotating hot keys (enough for a loss of one
replicated record in 200 to show in a few runs, and for cas and reads to collide with
just-acknowledged writes), latency scale 0.1, a fault every 0.15 s (three fault rounds a
run instead of one; in async mode a heal's quiet round is dropped when the next fault
begins during its hold, since a round with a fault in force is never judged, so the
clients keep working through every round), final reads after the run's settle time
(`SETTLE`, below), three runs at a time in worker processes. The quick runs are paced
(suite/pace.py, `QUICK_PACE` below): their fault rounds and main phase are counted in
client operations, so a machine that makes a tenth of the rate gives each bug the same
chances, in longer runs, instead of a tenth of them. Against the emulator it leaves out
the clients' own faults (client-latency, client-partition, client-timeout): they never
reach the service's replication, which the emulator's own faults drive from the service
side, so on a bug hunt they were idle runs; the full battery keeps them, and so does
`--nemeses` naming them. The async `clock` rows end inside a clock skew, in 0.3 s rounds
with all 8 keys in play (`QUICK_ROWS`, below): the last writes of every key are stamped
under the skew. The whole quick battery ends in about two minutes per mode on a
2-core machine that keeps the rate; on a slower one its runs last longer (up to six
times their second), which is the price of keeping their chances (docs/detection.md);
without `--quick` each run has `--time-limit` seconds at latency scale 1, one at a time.

Exit status, by the README's rule applied to the battery: 1 if any run is invalid;
otherwise 3 if any run could not be set up; otherwise 2 if any run is unknown or the
battery was interrupted before every run was made; otherwise 0. Ctrl-C stops the run in
progress the way `gtcheck run` does (heal, final reads, results written), skips the runs
not yet started, and still prints and writes the table.
"""

from __future__ import annotations

import datetime as _dt
import json
import multiprocessing
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from results.store import Store
from suite import core, registry
from suite.config import MODES, Test
from suite.errors import BadInput, GtcheckError
from suite.verdicts import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID

NO_FAULT = "none"
BOTH = "both"
# A quick async run's final wait is its settle time (`SETTLE`: suite.quiet.settle_s, ten
# times the slowest replication path at the run's latency scale, at least 0.25 s, plus
# the largest delay its nemesis puts on a link), the wait its quiet rounds already trust
# to judge convergence after a heal; a fixed 0.5 s was idle time in every run (issue 21).
# A strong run keeps 0.5 s: an MRSC write whose client timed out may land after the heal,
# later than any replication lag (test-all --quick --mode strong --seed 4 at load 35,
# register x outage: with 0.25 s, a write invoked at 0.22 s landed between the final
# reads, 0.4 s after the heal, and the final reads disagreed; docs/detection.md).
SETTLE = "settle"
STRONG_FINAL_WAIT_S = 0.5
# A quick run is paced (suite/pace.py): its fault rounds and its main phase last until
# its clients have made 200 operations a second of schedule (30 a 0.15 s round, 200 a
# run), never less than the seconds below, never more than six times them. A healthy
# machine makes the 300 asked (register, counter, set: 260-300 a second at load 3-14), so
# there nothing changes but the runs whose fault slows their own clients (strong slow and
# pause, streams under faults: up to a few seconds, docs/detection.md); at load 30-43, where the runs made 3-35 a second and `relay`
# and `ec-read-goes-back` lost their chances (docs/detection.md), each run gets its
# operations back, for up to 6 s of main phase instead of 1 (issue 21).
QUICK_PACE = 200.0
# A quick run's final reads are made again while the regions disagree for 3 s at most
# (suite/final_rounds.py), not the default 10: at latency scale 0.1 with 1 s operation
# timeouts a write still to land (replicated late, or applied late after its client gave
# up) lands within an operation timeout of the heal; the pause false alarms that rounds
# remove landed 0.28 s after it (docs/detection.md). A run whose regions agree reads
# once; a run with a divergence that stays (a planted bug) waits the deadline out.
QUICK_FINAL_DEADLINE_S = 3.0
# Rows with settings of their own (`QUICK_ROWS`, "mode/nemesis" -> Test fields, applied
# by `Plan.settings` over the battery's): the async `clock` rows end inside a clock fault
# (`end-in-fault`, nemesis/packages.py) of 0.3 s rounds, with every one of their 8 keys in
# play at once (`hot_keys=0`). A06: the last writer wins by the regions' clocks, so a
# local write stamped below the item's current version (`local-stamp-below-current`)
# leaves the regions apart only until a region whose clock is not behind writes that key
# again: each key is a draw decided by its last writes. On the grid the last skew was
# healed 0.1 s before the main phase ended, and the writes of that 0.1 s redrew the two
# hot keys unskewed; ending in the fault keeps every key's last writes under the skew,
# eight keys in play make eight draws instead of two, and 0.3 s rounds hold the last
# skew 0.15-0.25 s of schedule time (median 0.15 s, seeds 1-100) where 0.15 s rounds held
# it 0.04-0.25 s (median 0.075 s): a draw needs a few writes of a key under the skew.
# Runs caught, seeds 6-25 at load 15-36 (docs/detection.md, "Clock rows that end in the
# fault"): 61 of 80 before, 73 of 80 with the end and the keys, and on seeds 16-25 (the
# grid's worst: 26 of 40) 39 of 40 with the 0.3 s rounds too (seeds 6-15: 39 of 40,
# 35 before). Two clock rounds a run instead of three, in the same 1 s: no time added.
# 8 keys make fewer concurrent writes to one key, so these rows catch
# `lww-arrival-order` less (9 of 20 runs, 14 before); the battery's other rows catch it.
# The heal still ends the skew before the final reads, and correct LWW converges then
# (A06). Strong rows keep the grid: MRSC orders its writes by the journal, not by the
# clocks.
QUICK_ROWS = {"async/clock": {"nemesis_timing": "end-in-fault", "hot_keys": 0,
                              "nemesis_interval": 0.3}}
QUICK = dict(time_limit=1.0, latency_scale=0.1, nemesis_interval=0.15, rate=300.0,
             final_wait=SETTLE, op_timeout=1.0, pace=QUICK_PACE,
             final_deadline=QUICK_FINAL_DEADLINE_S, rows=QUICK_ROWS)
QUICK_JOBS = 3
FULL = dict(time_limit=20.0, latency_scale=1.0, nemesis_interval=5.0, rate=50.0,
            final_wait=1.0, op_timeout=5.0)


@dataclass(frozen=True)
class Plan:
    """One run of the battery: a workload against a nemesis package (or none) in a mode."""

    mode: str
    workload: str
    nemesis: str

    @property
    def row(self) -> str:
        """The key of this run's settings of its own in QUICK_ROWS: "mode/nemesis"."""
        return f"{self.mode}/{self.nemesis}"

    def test(self, *, seed: int, settings: dict, target: str, argv: tuple) -> Test:
        return Test(workload=self.workload, mode=self.mode, target=target, seed=seed,
                    nemesis=() if self.nemesis == NO_FAULT else (self.nemesis,),
                    **self.settings(settings, target=target)).stamped(argv=argv)

    def settings(self, settings: dict, *, target: str) -> dict:
        """`settings` as this run's Test takes them: `rows` (e.g. QUICK_ROWS) is taken
        out, and this row's entry in it, if any, overrides the other settings; a
        `final_wait` of SETTLE becomes an async run's settle time (suite.quiet.settle_s),
        a strong run's 0.5 s."""
        settings = dict(settings)
        settings.update((settings.pop("rows", None) or {}).get(self.row, {}))
        if settings.get("final_wait") != SETTLE:
            return settings
        if self.mode == "strong":
            return {**settings, "final_wait": STRONG_FINAL_WAIT_S}
        from suite import quiet
        probe = Test(workload=self.workload, mode=self.mode, target=target,
                     nemesis=() if self.nemesis == NO_FAULT else (self.nemesis,),
                     **{**settings, "final_wait": 0.0})
        return {**settings, "final_wait": round(quiet.settle_s(probe), 3)}


@dataclass
class Row:
    """A run's line in the table."""

    mode: str
    workload: str
    nemesis: str
    verdict: str                      # valid / invalid / unknown / error / not run
    violations: dict = field(default_factory=dict)
    allowed: dict = field(default_factory=dict)
    ops: int = 0
    seconds: float = 0.0
    run_dir: str = ""
    error: str = ""


@dataclass
class Battery:
    rows: list[Row]
    seed: int
    quick: bool
    interrupted: bool
    seconds: float
    settings: dict = field(default_factory=dict)
    target: str = "emulator"

    @property
    def exit_code(self) -> int:
        verdicts = {r.verdict for r in self.rows}
        if "invalid" in verdicts:
            return EXIT_INVALID
        if "error" in verdicts:
            return EXIT_BAD_INPUT
        if "unknown" in verdicts or "not run" in verdicts or self.interrupted:
            return EXIT_UNKNOWN
        return EXIT_VALID

    def to_json(self) -> dict:
        return {"seed": self.seed, "quick": self.quick, "interrupted": self.interrupted,
                "settings": self.settings, "target": self.target,
                "seconds": round(self.seconds, 1), "exit_code": self.exit_code,
                "rows": [asdict(r) for r in self.rows]}


def plans(modes: Sequence[str], workloads: Sequence[str] | None = None,
          nemeses: Sequence[str] | None = None, *, target: str = "emulator",
          quick: bool = False) -> list[Plan]:
    """Every (mode, workload, nemesis) of the battery, from the registries by default
    (the nemeses that run against `target` on their own; `quick` on the emulator leaves
    out the clients' own faults, module paragraph); a name the registry does not know is
    BadInput listing the known ones."""
    registry.load_plugins()
    ws = list(workloads) if workloads else sorted(registry.WORKLOADS)
    ns = list(nemeses) if nemeses else [NO_FAULT] + sorted(
        n for n in registry.NEMESES if registry.nemesis_runs_on(n, target)
        and not (quick and target.split(":", 1)[0] == "emulator" and _client_side(n)))
    for w in ws:
        registry.workload_entry(w)
    for n in ns:
        if n != NO_FAULT:
            registry.nemesis_factory(n)
    for m in modes:
        if m not in MODES:
            raise BadInput(f"--mode must be one of {', '.join(MODES)} or {BOTH}, got {m!r}")
    return [Plan(m, w, n) for m in modes for w in ws for n in ns]


def _client_side(nemesis: str) -> bool:
    """A fault the clients make themselves (suite/targets/client_faults.py)."""
    from nemesis.faults import ALL_FAMILIES
    family = ALL_FAMILIES.get(nemesis)
    return family is not None and family.via == "client"


def _kinds(results: dict, expected: bool) -> dict:
    return dict(sorted(core.anomaly_counts(results, expected=expected).items()))


def _verdict(valid: Any) -> str:
    return {True: "valid", False: "invalid"}.get(valid, "unknown")


def _write_report(path: Path) -> str:
    """report.html for a run that was not valid; '' when written, else why not."""
    from results.report import write_report
    try:
        write_report(path)
        return ""
    except Exception as e:  # noqa: BLE001 -- a missing report must not hide the verdict
        return f"report not written ({type(e).__name__}: {e})"


def run_one(p: Plan, *, store: Store, seed: int, settings: dict, target: str,
            argv: tuple, stop: threading.Event, abort: threading.Event) -> Row:
    """One run of the battery as its table row; a set-up failure is an "error" row."""
    t0 = time.monotonic()
    try:
        result = core.run_test(p.test(seed=seed, settings=settings, target=target, argv=argv),
                               store=store, stop=stop, abort=abort)
    except GtcheckError as e:
        return Row(p.mode, p.workload, p.nemesis, "error",
                   seconds=round(time.monotonic() - t0, 2), error=str(e))
    row = Row(p.mode, p.workload, p.nemesis, _verdict(result.valid),
              violations=_kinds(result.results, False), allowed=_kinds(result.results, True),
              ops=int(result.results.get("run", {}).get("ops", 0)),
              seconds=round(time.monotonic() - t0, 2), run_dir=str(result.run_dir.path))
    if row.verdict != "valid":
        row.error = _write_report(result.run_dir.path)
    return row


def _worker_init() -> None:
    """A worker process ignores Ctrl-C between runs; during a run `_run_in_worker`
    handles it as `gtcheck run` does (the terminal signals every process of the group)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(p: Plan, store_root: str, seed: int, settings: dict, target: str,
                   argv: tuple) -> Row:
    stop, abort = threading.Event(), threading.Event()
    with core.stop_on_signals(stop, abort):
        return run_one(p, store=Store(store_root), seed=seed, settings=settings,
                       target=target, argv=argv, stop=stop, abort=abort)


def run_battery(plan: Sequence[Plan], *, store: Store, seed: int, settings: dict,
                target: str = "emulator", quick: bool = False,
                stop: threading.Event | None = None, abort: threading.Event | None = None,
                progress: Callable[[str], None] = lambda s: None,
                argv: tuple = (), jobs: int = 1,
                on_row: Callable[[Row], None] = lambda row: None) -> Battery:
    """Run every plan (each `core.run_test`), `jobs` at a time in worker processes (in
    this process when 1). `settings` are Test keyword arguments for every run (QUICK or
    FULL, plus anything else a Test takes). A stop event ends the battery after the runs
    in progress, whose own final phases still run; the rows keep the plan's order.
    `on_row` sees each row as it is made (`validate` sets `stop` from it at the first
    invalid run).

    With jobs > 1 the workers are spawned, so a calling script must guard its top level
    with `if __name__ == "__main__":` (as multiprocessing requires); `gtcheck` does."""
    stop = stop or threading.Event()
    abort = abort or threading.Event()
    started = time.monotonic()
    rows: list[Row | None] = [None] * len(plan)
    width = len(str(len(plan)))

    def report(i: int, row: Row) -> None:
        rows[i] = row
        on_row(row)
        label = (f"[{i + 1:>{width}}/{len(plan)}] {row.mode:<6} {row.workload:<18} "
                 f"{row.nemesis:<18}")
        if row.verdict == "error":
            progress(f"{label} ERROR   {row.error}")
            return
        found = ", ".join(f"{k}={n}" for k, n in row.violations.items())
        progress(f"{label} {row.verdict.upper():<8}{row.seconds:5.1f}s"
                 + (f"  {found}" if found else ""))

    if jobs <= 1:
        for i, p in enumerate(plan):
            if stop.is_set():
                break
            report(i, run_one(p, store=store, seed=seed, settings=settings, target=target,
                              argv=argv, stop=stop, abort=abort))
    else:
        _run_parallel(plan, report, jobs=jobs, stop=stop, store=store, seed=seed,
                      settings=settings, target=target, argv=argv)
    out = [r if r is not None else Row(p.mode, p.workload, p.nemesis, "not run")
           for p, r in zip(plan, rows)]
    return Battery(out, seed, quick, stop.is_set(), time.monotonic() - started,
                   dict(settings), target)


def _run_parallel(plan: Sequence[Plan], report: Callable[[int, Row], None], *, jobs: int,
                  stop: threading.Event, store: Store, seed: int, settings: dict,
                  target: str, argv: tuple) -> None:
    """Keep `jobs` worker processes busy with the plan, in order, until it is done or
    `stop` is set. Processes, not threads: a run is mostly waiting on timers and sockets
    but its emulator and checkers need the CPU, and the GIL would serialise them."""
    ctx = multiprocessing.get_context("spawn")   # no fork of a process holding threads
    todo = iter(enumerate(plan))
    pending: dict[Any, tuple[int, Plan]] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                             initializer=_worker_init) as pool:
        def submit_next() -> None:
            if stop.is_set():
                return
            nxt = next(todo, None)
            if nxt is not None:
                i, p = nxt
                pending[pool.submit(_run_in_worker, p, str(store.root), seed, settings,
                                    target, argv)] = (i, p)

        for _ in range(jobs):
            submit_next()
        while pending:
            done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
            for f in done:
                i, p = pending.pop(f)
                try:
                    row = f.result()
                except Exception as e:  # noqa: BLE001 -- a dead worker is this run's error row
                    row = Row(p.mode, p.workload, p.nemesis, "error",
                              error=f"worker failed: {type(e).__name__}: {e}")
                report(i, row)
                submit_next()


def _counts(d: dict) -> str:
    return ", ".join(f"{k}={n}" for k, n in d.items()) or "-"


def table(battery: Battery) -> str:
    """The battery's summary table as fixed-width text."""
    head = ("mode", "workload", "nemesis", "verdict", "violations", "allowed anomalies",
            "ops", "s")
    body = [(r.mode, r.workload, r.nemesis, r.verdict.upper(),
             _counts(r.violations) if r.verdict != "error" else r.error[:60],
             _counts(r.allowed), str(r.ops), f"{r.seconds:.1f}") for r in battery.rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*b).rstrip() for b in body]
    n = {v: sum(1 for r in battery.rows if r.verdict == v)
         for v in ("valid", "invalid", "unknown", "error", "not run")}
    lines.append("")
    lines.append(f"{len(battery.rows)} runs in {battery.seconds:.0f} s (seed {battery.seed}"
                 f"{', quick' if battery.quick else ''}): "
                 + ", ".join(f"{k} {v}" for k, v in n.items() if v))
    bad = [r for r in battery.rows if r.verdict in ("invalid", "unknown")]
    for r in bad:
        lines.append(f"  {r.verdict}: {r.mode} {r.workload} {r.nemesis}: {r.run_dir}"
                     + ("/report.html" if not r.error else f" ({r.error})"))
        lines.append(f"    reproduce: {' '.join(reproduce_argv(battery, r))}")
    if battery.interrupted:
        lines.append("interrupted: the runs marked NOT RUN were skipped")
    return "\n".join(lines)


# `gtcheck run` options for the Test fields a battery sets; any other field is passed as
# --field-name (the run command's usual spelling).
RUN_OPTIONS = {"time_limit": "--time-limit", "latency_scale": "--latency-scale",
               "nemesis_interval": "--nemesis-interval", "rate": "--rate",
               "final_wait": "--final-wait", "op_timeout": "--op-timeout"}


def reproduce_argv(battery: Battery, row: Row) -> list[str]:
    """The `gtcheck run` command line that repeats one run of the battery."""
    argv = ["gtcheck", "run", "--target", battery.target, "--mode", row.mode,
            "--workload", row.workload]
    if row.nemesis != NO_FAULT:
        argv += ["--nemesis", row.nemesis]
    argv += ["--seed", str(battery.seed)]
    settings = Plan(row.mode, row.workload, row.nemesis).settings(battery.settings,
                                                                    target=battery.target)
    for k, v in settings.items():
        flag = RUN_OPTIONS.get(k, "--" + k.replace("_", "-"))
        argv += [flag, ",".join(map(str, v)) if isinstance(v, (list, tuple)) else f"{v:g}"
                 if isinstance(v, float) else str(v)]
    return argv


def write_summary(store: Store, battery: Battery, *,
                  now: _dt.datetime | None = None) -> tuple[Path, Path]:
    """STORE/test-all/<timestamp>.json and .txt (the table)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    folder = store.root / "test-all"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"cannot create {folder}: {e.strerror}") from None
    stamp = now.strftime("%Y%m%dT%H%M%S")
    js, txt = folder / f"{stamp}.json", folder / f"{stamp}.txt"
    js.write_text(json.dumps(battery.to_json(), indent=1) + "\n", encoding="utf-8")
    txt.write_text(table(battery) + "\n", encoding="utf-8")
    return js, txt


def settings_for(*, quick: bool, time_limit: float | None) -> dict:
    s = dict(QUICK if quick else FULL)
    if time_limit is not None:
        if time_limit <= 0:
            raise BadInput(f"--time-limit must be > 0, got {time_limit}")
        s["time_limit"] = float(time_limit)
    return s


def jobs_for(jobs: int | None, *, quick: bool) -> int:
    """Runs at a time: as asked, else 3 for the quick battery (its runs mostly wait on
    timers and sockets, so three overlap well even on a busy 2-core machine) and 1
    otherwise (full runs measure latency and availability, which contention would blur)."""
    if jobs is None:
        return QUICK_JOBS if quick else 1
    if jobs < 1:
        raise BadInput(f"--jobs must be at least 1, got {jobs}")
    return jobs


def modes_for(mode: str) -> list[str]:
    return list(MODES) if mode == BOTH else [mode]


def parse_names(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()] or None


__all__ = ["Battery", "Plan", "Row", "plans", "run_battery", "table", "write_summary",
           "settings_for", "modes_for", "parse_names", "NO_FAULT", "QUICK", "QUICK_ROWS",
           "FULL"]

"""`gtcheck validate`: how many of the emulator's planted bugs does the suite catch?

A Jepsen-style suite is judged by the bugs it finds (issue 12). For every bug switch of
the emulator (emulator/bugs.py) this module knows a recipe -- the workload, nemesis,
fault schedule and load that should expose it -- and runs it once per seed with that one
bug switched on, plus the same number of runs with no bug at all (each with one of the
recipes, in turn), all against the embedded emulator (latency scale 1 unless a recipe
says otherwise, and says why). A bug counts as
detected in a run when the run's verdict is invalid (any violation of a promise the mode
makes); `relay` breaks no consistency promise (A10 is a fidelity matter: last writer wins
keeps a relayed write's stamp), so it counts as detected when the A10 probe
(checkers/relay.py) finds a write that crossed a cut link. A run without bugs must be
judged valid.

The detection matrix -- bug, the claim it breaks, seeds detected of N, median seconds to
the first anomalous operation (the earliest invocation any violation names), the anomaly
kinds found -- is printed, and written as `matrix.json` and `matrix.html` under
`STORE/validate/<timestamp>/`. The exit status is 0 when every bug was caught in every
seed and every run without bugs was valid, 1 otherwise (3 for bad input). Ctrl-C stops
after the run in progress and still writes the matrix of what ran.

With `--test-all` each bug also gets the quick battery of `gtcheck test-all`
(suite.battery, in the bug's mode, only that switch on): the column "caught by test-all
--quick" says whether a user who did not know which bug it was would have caught it, and
with which runs (issue 12, Deliver 4), for seeds 1..N as the recipes: "2/3" is caught
in two seeds of three (issue 21). Each seed's battery stops at its first invalid run (a
seed is caught once one run is; a miss costs the whole battery, about two minutes). It is
opt-in for that cost, and it does not change the exit status.

Recipes favour speed: few, hot keys at a high rate (so a stale read shows within
seconds), short fault intervals, and the fault family that drives the code path the bug
sits on (a slow journal leader for re-proposals, isolation for unknown outcomes, a link
cut for relaying, a link healed mid-run and the quiet round after it for a backlog lost
at the heal).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import statistics
import threading
import time

import click
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from suite.config import Test
from suite.errors import BadInput

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_SEEDS = 3


@dataclass(frozen=True)
class Recipe:
    """How to expose one bug: the run's shape, and what counts as catching it."""

    mode: str
    workload: str
    nemesis: tuple[str, ...] = ()
    keys: int = 2
    rate: float = 150.0
    nemesis_interval: float = 1.5
    nemesis_latency_ms: float | None = None
    nemesis_timing: str = "grid"
    latency_scale: float = 1.0
    hot_keys: int = 0        # 0: every key of `keys` in play at once
    concurrency: int = 6     # client threads, spread over the regions
    detect: str = "invalid"  # "invalid" (the verdict) | "relay" (the A10 probe)
    why: str = ""

    def test(self, *, bug: str | None, seed: int, time_limit: float) -> Test:
        return Test(workload=self.workload, target="emulator", mode=self.mode,
                    nemesis=self.nemesis, seed=seed, time_limit=time_limit,
                    concurrency=self.concurrency, rate=self.rate, keys=self.keys, hot_keys=self.hot_keys,
                    latency_scale=self.latency_scale,
                    nemesis_interval=self.nemesis_interval,
                    nemesis_latency_ms=self.nemesis_latency_ms,
                    nemesis_timing=self.nemesis_timing,
                    emulator_bugs=(bug,) if bug else (),
                    name="-".join(["validate", bug or "no-bug", self.workload, self.mode,
                                   *self.nemesis])
                    ).stamped(argv=("gtcheck", "validate"))


RECIPES: Mapping[str, Recipe] = {
    "sc-read-no-fence": Recipe(
        "strong", "register",
        why="hot keys written from every region: an unfenced SC read soon misses one"),
    "ack-before-commit": Recipe(
        "strong", "counter",
        why="increments from three regions on two keys conflict; the skipped ones were acked"),
    "conflict-check-skipped": Recipe(
        "strong", "counter",
        why="conflicting increments both applied: the counter ends below the acked ones"),
    "duplicate-entry-reexecuted": Recipe(
        "strong", "counter", ("slow",), nemesis_latency_ms=400.0,
        why="a slow journal leader makes writes outlast the re-proposal period"),
    "server-retry-unknown": Recipe(
        "strong", "counter", ("isolate",), rate=300.0, nemesis_interval=1.0,
        latency_scale=3.0, concurrency=30,
        why="isolating a region with increments in flight makes their outcome unknown; "
            "the retry's definite answer leaves an applied increment counted as failed "
            "(latency scale 3 and 10 threads per region keep several in flight)"),
    "sc-read-while-recovering": Recipe(
        "strong", "register", ("isolate",),
        why="an isolated region's SC reads miss what the majority writes meanwhile"),
    "lww-arrival-order": Recipe(
        "async", "register",
        why="concurrent writes to hot keys from several regions arrive in different orders"),
    "relay": Recipe(
        "async", "register", ("link",), detect="relay",
        why="while a link is cut, writes on its ends must not cross it (A10 probe)"),
    "replicator-drops-records": Recipe(
        "async", "set-full",
        why="set-full writes every element once, in one region: a dropped record is an "
            "element some region never shows (a register hides it under the next write)"),
    "backlog-discarded-on-heal": Recipe(
        "async", "register", ("link",), keys=8,
        why="a cut link heals in the middle of the run (grid timing, not ending in a "
            "fault): the quiet round after each heal (suite/quiet.py) sees the regions "
            "disagree on keys written during the cut"),
    "stream-record-for-dropped-write": Recipe(
        "async", "streams",
        why="writes to two keys from every region: stale replicated writes are dropped "
            "often, and each recorded one breaks the region's version chain (A07)"),
    "replicated-write-no-record": Recipe(
        "async", "streams",
        why="a replicated write applied without a record breaks the version chain of the "
            "item's next record, or leaves the final read unexplained (A07)"),
    "mrsc-stream-reorder": Recipe(
        "strong", "streams",
        why="one region publishes an item's record after the item's next one: its stream "
            "differs from the others' (M13) and its version chain breaks"),
    "transaction-two-step": Recipe(
        "async", "list-append", keys=4, rate=200.0,
        why="multi-item appends and reads in every region: a reader in the writing region "
            "that sees half a transaction closes a cycle (serializable in the writing "
            "region, A11)"),
    "delete-not-replicated": Recipe(
        "async", "set-full",
        why="set-full deletes acknowledged elements in their own region and never writes "
            "them again: an undelivered delete leaves the element in the other regions' "
            "final reads (a register would hide it under the key's next write)"),
    "ttl-delete-not-replicated": Recipe(
        "async", "set-full",
        why="set-full's expiring elements (an expiry already past, emulator only) are "
            "deleted by the TTL sweeper of the region that wrote them within its bounded "
            "delay: one that is not replicated stays in the other regions' final reads"),
    "restamp-on-ack-timeout": Recipe(
        "async", "register", ("oneway-latency",), nemesis_latency_ms=100.0,
        why="a one-way delay slows only the acknowledgements of one replicator: its "
            "records come back restamped and overwrite the destination's own later "
            "writes to the two hot keys (read-your-writes, divergence)"),
    "query-sc-unfenced": Recipe(
        "strong", "register",
        why="the register's SC reads go through Query a quarter of the time, on hot keys "
            "written from every region: an unfenced one soon misses a remote write"),
    "ec-read-goes-back": Recipe(
        "async", "register", ("copy-lag",), keys=1, rate=200.0, nemesis_interval=0.5,
        why="one hot key read eventually-consistently while written; the copy-lag fault "
            "keeps every region's lagging in-region copy 300 ms behind its leader, half "
            "of the time (latency scale 10 alone, 40 ms of lag, missed a seed of three "
            "on a loaded machine)"),
    "local-stamp-below-current": Recipe(
        "async", "counter", ("clock",), keys=8, nemesis_timing="end-in-fault",
        why="counters incremented in every region while one region's clock is 500 ms "
            "off; the run ends with a skew in force, so the last increments of a region "
            "whose clock is behind stay local and the final reads disagree (A06; with the "
            "grid timing, 1 seed of 3: later writes elsewhere hide the divergence). Each "
            "key is a draw decided by its last writes, so 8 keys, not 2 (2 keys: 1 seed "
            "of 3 at load 28-34; docs/detection.md)"),
    "ttl-delete-without-recheck": Recipe(
        "async", "set-full", latency_scale=0.5,
        why="set-full extends half of its expiring elements in their own region soon "
            "after the add; at latency scale 0.5 the sweeper finds an expired item within "
            "50 ms and deletes it up to 100 ms later, so many extensions land in between "
            "(at 0.1, 20 ms each, 1 seed of 3 at load 45): an element whose extension was "
            "acknowledged is then missing from the final reads (A12)"),
    "scan-page-skips-item": Recipe(
        "async", "set-full",
        why="every set-full read scans the table in pages of 16 items "
            "(workloads/set_full.py PAGE_ITEMS): an element skipped at a page boundary "
            "vanishes from a region that showed it (A05) or from a read in its own region "
            "after its add (A01); a register key skipped by its Scan read looks like a "
            "delete, which the register's own deletes can explain (register x 4 keys "
            "missed 3 seeds of 3)"),
    "transaction-partial-on-cancel": Recipe(
        "async", "bank", rate=200.0,
        why="bank transfers name their two accounts in account order, so the debit's "
            "balance condition fails as the last item in half of the failing transfers: "
            "the credit written before it breaks the writing region's total (A11)"),
}


@dataclass
class RunRecord:
    """One run of the matrix: what ran, what was found, how long it took."""

    bug: str | None
    seed: int
    recipe: str           # the bug whose recipe ran (a run without bugs borrows one)
    valid: Any
    detected: bool
    first_s: float | None  # first anomalous operation's invocation, s since the run began
    kinds: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    run_dir: str = ""
    error: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def parse_bug_list(spec: str | None) -> list[str]:
    """`--bugs`: comma-separated switch names; empty or "all" -> every switch."""
    from emulator.bugs import parse_bugs
    if spec is None or spec.strip() in ("", "all"):
        return list(RECIPES)
    names = list(parse_bugs(spec))
    if not names:
        raise BadInput("--bugs: name at least one bug switch, or all")
    return names


def plan(bugs: Sequence[str], seeds: int) -> list[tuple[str | None, int, str]]:
    """(bug or None, seed, recipe name) for every run: each bug for seeds 1..N, then N runs
    without bugs, each borrowing the next recipe in turn."""
    if seeds < 1:
        raise BadInput(f"--seeds must be at least 1, got {seeds}")
    runs: list[tuple[str | None, int, str]] = [(b, s, b) for b in bugs
                                               for s in range(1, seeds + 1)]
    for s in range(1, seeds + 1):
        runs.append((None, s, bugs[(s - 1) % len(bugs)]))
    return runs


def first_anomaly_s(results: Mapping[str, Any], times: Mapping[int, int]) -> float | None:
    """Seconds from the run's start to the earliest invocation a violation names."""
    indices: list[int] = []
    for r in (results.get("checkers") or {}).values():
        if not isinstance(r, Mapping) or r.get("valid") is not False:
            continue
        for a in r.get("anomalies") or []:
            if isinstance(a, Mapping) and not a.get("expected"):
                indices += [i for i in a.get("ops") or [] if isinstance(i, int)]
        ce = r.get("counterexample")
        if isinstance(ce, Mapping) and isinstance(ce.get("op"), int):
            indices.append(ce["op"])
    found = [times[i] for i in indices if i in times]
    return round(min(found) / 1e9, 3) if found else None


def violation_kinds(results: Mapping[str, Any]) -> dict[str, int]:
    from suite.core import anomaly_counts
    kinds = anomaly_counts(results, expected=False)
    for name, r in (results.get("checkers") or {}).items():
        if isinstance(r, Mapping) and r.get("valid") is False and not r.get("anomaly_counts"):
            kinds[name] = kinds.get(name, 0) + 1  # a failing checker that names no kind
    return kinds


def judge_run(bug: str | None, seed: int, recipe_name: str, result: Any,
              wall_s: float) -> RunRecord:
    """A finished run as a matrix cell (see the module docstring for "detected")."""
    from results.history import read_jsonl
    history = read_jsonl(result.run_dir.history, check=False)
    times = {op.index: op.time for op in history}
    recipe = RECIPES[recipe_name]
    kinds = violation_kinds(result.results)
    first = first_anomaly_s(result.results, times)
    detected = result.valid is False
    if recipe.detect == "relay":
        from checkers.relay import relayed_writes
        relayed = relayed_writes(history)
        if relayed:
            kinds["relayed-write"] = len(relayed)
            t = min(times[a["ops"][1]] for a in relayed) / 1e9
            first = round(t if first is None else min(first, t), 3)
        detected = detected or bool(relayed)
    return RunRecord(bug, seed, recipe_name, result.valid, detected, first, kinds,
                     round(wall_s, 1), str(result.run_dir.path))


def run_matrix(bugs: Sequence[str], seeds: int, *, time_limit: float, store_root: str,
               stop: threading.Event | None = None,
               say: Callable[[str], None] = print,
               run_test: Callable[..., Any] | None = None) -> list[RunRecord]:
    """Run the plan, one run at a time, saying one line per run; stops early on `stop`."""
    from results.store import Store
    from suite import core
    run_test = run_test or core.run_test
    stop = stop or threading.Event()
    store = Store(Path(store_root) / "validate-runs")
    runs = plan(bugs, seeds)
    records: list[RunRecord] = []
    for n, (bug, seed, recipe_name) in enumerate(runs, 1):
        if stop.is_set():
            say("validate: interrupted; the matrix covers the runs that finished")
            break
        test = RECIPES[recipe_name].test(bug=bug, seed=seed, time_limit=time_limit)
        label = f"{bug or 'no bug'} (seed {seed}, {test.workload} {test.mode}" + (
            f" {'+'.join(test.nemesis)}" if test.nemesis else "") + ")"
        say(f"[{n}/{len(runs)}] {label} ...")
        t0 = time.monotonic()
        try:
            result = run_test(test, store=store, stop=stop)
            rec = judge_run(bug, seed, recipe_name, result, time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 -- one broken run is a cell, not a crash
            rec = RunRecord(bug, seed, recipe_name, "unknown", False, None,
                            wall_s=round(time.monotonic() - t0, 1),
                            error=f"{type(e).__name__}: {e}")
        records.append(rec)
        say(f"[{n}/{len(runs)}] {label}: " + describe(rec))
    return records


def test_all_catches(bug: str, *, store_root: str, seed: int = 1,
                     workloads: Sequence[str] | None = None,
                     nemeses: Sequence[str] | None = None, jobs: int | None = None,
                     stop: threading.Event | None = None, first_only: bool = False,
                     say: Callable[[str], None] = print) -> dict:
    """Would `gtcheck test-all --quick --seed SEED` have caught `bug` without being told
    which bug it was (issue 12, Deliver 4)? Runs the quick battery (suite.battery: every
    workload against every nemesis package and no fault, or the `workloads` / `nemeses`
    given) in the bug's mode with only that switch on, and reports the runs judged
    invalid: {"seed", "caught", "by": ["workload/nemesis", ...], "runs", "not_run",
    "seconds"}. With `first_only` the battery stops at its first invalid run (the runs
    in progress finish; the rest are "not run"): the seed is caught, and a miss still
    costs the whole battery."""
    from emulator.bugs import CATALOGUE
    from results.store import Store
    from suite import battery
    mode = CATALOGUE[bug].mode
    plan_ = battery.plans([mode], workloads, nemeses, quick=True)
    stop = stop or threading.Event()
    halt = threading.Event()    # the battery's own stop: `stop`, or a catch when first_only

    def on_row(row) -> None:
        if stop.is_set() or (first_only and row.verdict == "invalid"):
            halt.set()

    b = battery.run_battery(
        plan_, store=Store(Path(store_root) / "validate-test-all" / bug / f"seed-{seed}"),
        seed=seed, settings={**battery.QUICK, "emulator_bugs": (bug,)}, quick=True,
        stop=halt, progress=lambda line: say(f"  test-all --quick ({bug}, seed {seed}) {line}"),
        argv=("gtcheck", "validate", "--test-all"),
        jobs=battery.jobs_for(jobs, quick=True), on_row=on_row)
    by = [f"{r.workload}/{r.nemesis}" for r in b.rows if r.verdict == "invalid"]
    return {"seed": seed, "caught": bool(by), "by": by, "runs": len(b.rows),
            "not_run": sum(r.verdict == "not run" for r in b.rows),
            "seconds": round(b.seconds, 1)}


def test_all_cell(row: Mapping[str, Any]) -> str:
    """The matrix's "caught by test-all --quick" cell: seeds caught of those run, then
    the battery runs that caught it (first of each seed first), or "-" when not asked."""
    t = row.get("test_all")
    if not isinstance(t, Mapping):
        return "-"
    per_seed = [s for s in t.get("seeds") or [] if isinstance(s, Mapping)]
    caught = [s for s in per_seed if s.get("caught")]
    cell = f"{len(caught)}/{len(per_seed)}"
    if any(s.get("not_run") and not s.get("caught") for s in per_seed):
        cell += " (interrupted)"
    by = list(dict.fromkeys(b for s in caught for b in (s.get("by") or [])))
    if by:
        cell += " (" + ", ".join(by[:3]) + (f", +{len(by) - 3}" if len(by) > 3 else "") + ")"
    return cell


def describe(rec: RunRecord) -> str:
    if rec.error:
        return f"ERROR {rec.error} ({rec.wall_s:g} s)"
    if rec.bug is None:
        verdict = "valid" if rec.valid is True and not rec.detected else \
            f"FALSE ALARM (valid={rec.valid}: " \
            + ", ".join(f"{k}={v}" for k, v in sorted(rec.kinds.items())) + ")"
        return f"{verdict} in {rec.wall_s:g} s"
    if not rec.detected:
        return f"MISSED (valid={rec.valid}) in {rec.wall_s:g} s"
    at = f" at {rec.first_s:g} s" if rec.first_s is not None else ""
    kinds = ", ".join(f"{k}={v}" for k, v in sorted(rec.kinds.items()))
    return f"detected{at} ({kinds}) in {rec.wall_s:g} s"


def matrix(records: Sequence[RunRecord], seeds: int) -> dict:
    """The detection matrix of `records` (rows per bug, plus the runs without bugs)."""
    from emulator.bugs import CATALOGUE
    rows = []
    bugs = list(dict.fromkeys(r.bug for r in records if r.bug is not None))
    for bug in bugs:
        mine = [r for r in records if r.bug == bug]
        hit = [r for r in mine if r.detected]
        times = [r.first_s for r in hit if r.first_s is not None]
        kinds: dict[str, int] = {}
        for r in hit:
            for k, v in r.kinds.items():
                kinds[k] = kinds.get(k, 0) + v
        recipe = RECIPES[bug]
        rows.append({
            "bug": bug, "claim": CATALOGUE[bug].claim, "mode": recipe.mode,
            "workload": recipe.workload, "nemesis": list(recipe.nemesis),
            "schedule": recipe.nemesis_timing, "detected": len(hit), "runs": len(mine),
            "seeds": seeds,
            "median_first_s": round(statistics.median(times), 3) if times else None,
            "anomalies": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
            "median_wall_s": round(statistics.median(r.wall_s for r in mine), 1)})
    clean = [r for r in records if r.bug is None]
    # a run without bugs raises a false alarm when judged anything but valid, or when a
    # recipe's probe (the A10 relay probe) finds what it looks for
    false_alarms = [r for r in clean if r.valid is not True or r.detected]
    ok = (all(row["detected"] == seeds for row in rows) and not false_alarms
          and len(clean) == seeds)
    return {"ok": ok, "seeds": seeds, "rows": rows,
            "no_bug": {"runs": len(clean), "valid": len(clean) - len(false_alarms),
                       "false_alarms": [r.to_json() for r in false_alarms]},
            "runs": [r.to_json() for r in records],
            "total_wall_s": round(sum(r.wall_s for r in records), 1)}



def table(m: Mapping[str, Any]) -> str:
    """The matrix as fixed-width text for the console."""
    with_test_all = bool(m.get("test_all"))
    head = ("bug", "claim", "detected", "median s to 1st anomaly") + (
        ("caught by test-all --quick",) if with_test_all else ()) + ("anomalies",)
    lines = []
    for row in m["rows"]:
        first = "-" if row["median_first_s"] is None else f"{row['median_first_s']:g}"
        kinds = ", ".join(f"{k}={v}" for k, v in list(row["anomalies"].items())[:4]) or "-"
        lines.append((row["bug"], row["claim"], f"{row['detected']}/{row['runs']}", first)
                     + ((test_all_cell(row),) if with_test_all else ()) + (kinds,))
    nb = m["no_bug"]
    lines.append(("(no bug)", "-", f"{nb['valid']}/{nb['runs']} valid", "-")
                 + (("-",) if with_test_all else ())
                 + (f"{len(nb['false_alarms'])} false alarms",))
    widths = [max(len(str(x[i])) for x in [head] + lines) for i in range(len(head) - 1)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    out = [fmt.format(*head)] + [fmt.format(*x) for x in lines]
    out.append(f"total run time {m['total_wall_s']:g} s; "
               + ("every bug caught in every seed, no false alarm" if m["ok"]
                  else "NOT every bug caught in every seed, or a false alarm"))
    return "\n".join(out)


def page(m: Mapping[str, Any]) -> str:
    """A self-contained HTML page of the matrix."""
    esc = html.escape
    with_test_all = bool(m.get("test_all"))
    rows = []
    for row in m["rows"]:
        good = row["detected"] == row["runs"] == m["seeds"]
        first = "-" if row["median_first_s"] is None else f"{row['median_first_s']:g}"
        kinds = ", ".join(f"{k}={v}" for k, v in row["anomalies"].items()) or "-"
        how = " + ".join(row["nemesis"]) or "no faults"
        if row["schedule"] != "grid":
            how += f" ({row['schedule']})"
        rows.append(
            f"<tr class={'good' if good else 'bad'}><td>{esc(row['bug'])}</td>"
            f"<td>{esc(row['claim'])}</td><td>{esc(row['workload'])} {esc(row['mode'])}, "
            f"{esc(how)}</td><td>{row['detected']} / {row['runs']}</td><td>{first}</td>"
            + (f"<td>{esc(test_all_cell(row))}</td>" if with_test_all else "")
            + f"<td>{esc(kinds)}</td></tr>")
    nb = m["no_bug"]
    good = not nb["false_alarms"] and nb["runs"] == m["seeds"]
    rows.append(f"<tr class={'good' if good else 'bad'}><td>(no bug)</td><td>-</td>"
                f"<td>each a recipe above, in turn</td><td>{nb['valid']} / {nb['runs']} valid"
                f"</td><td>-</td>" + ("<td>-</td>" if with_test_all else "")
                + f"<td>{len(nb['false_alarms'])} false alarms</td></tr>")
    verdict = ("every bug caught in every seed; no false alarm" if m["ok"]
               else "not every bug caught in every seed, or a false alarm")
    blob = json.dumps(m, default=str).replace("</", "<\\/")
    test_all_head = "<th>caught by test-all --quick</th>" if with_test_all else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>gtcheck validate: detection matrix</title>
<style>body{{font:14px sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
tr.good td{{background:#e8f6e8}}tr.bad td{{background:#fbe3e3}}</style></head><body>
<h1>Detection matrix</h1>
<p>{esc(verdict)}. {m['seeds']} seed(s) per bug; total run time {m['total_wall_s']:g} s.
Median seconds to the first operation a violation names, from the start of the run.</p>
<table><tr><th>bug</th><th>claim broken</th><th>recipe</th><th>seeds detected</th>
<th>median s to 1st anomaly</th>{test_all_head}<th>anomalies</th></tr>
{chr(10).join(rows)}
</table>
<script type="application/json" id="matrix">{blob}</script>
</body></html>
"""


def write_matrix(m: Mapping[str, Any], store_root: str,
                 now: _dt.datetime | None = None) -> Path:
    """`STORE/validate/<timestamp>/matrix.json` and `matrix.html`; the directory."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    out = Path(store_root) / "validate" / now.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").write_text(json.dumps(m, indent=2, default=str) + "\n")
    (out / "matrix.html").write_text(page(m))
    return out


def validate(*, bugs: str | None, seeds: int, time_limit: float, store_root: str,
             stop: threading.Event | None = None,
             say: Callable[[str], None] = print, test_all: bool = False,
             test_all_options: Mapping[str, Any] | None = None) -> tuple[dict, Path]:
    """Run the matrix and write it; (matrix, output directory). With `test_all`, each
    bug's row also says whether the quick battery caught it (`test_all_catches`, given
    `test_all_options`); that column informs and does not change the exit status."""
    if not 1 <= time_limit <= 3600:
        raise BadInput(f"--time-limit must be between 1 and 3600 s, got {time_limit:g}")
    names = parse_bug_list(bugs)
    stop = stop or threading.Event()
    records = run_matrix(names, seeds, time_limit=time_limit, store_root=store_root,
                         stop=stop, say=say)
    m = matrix(records, seeds)
    if test_all:
        m["test_all"] = True
        for row in m["rows"]:
            row["test_all"] = {"seeds": []}
            for seed in range(1, seeds + 1):
                if stop.is_set():
                    break
                say(f"validate: test-all --quick with {row['bug']} planted, seed {seed} ...")
                row["test_all"]["seeds"].append(test_all_catches(
                    row["bug"], store_root=store_root, seed=seed, stop=stop, say=say,
                    **{"first_only": True, **dict(test_all_options or {})}))
                say(f"validate: test-all --quick with {row['bug']}, seed {seed}: "
                    + ("caught by " + ", ".join(row["test_all"]["seeds"][-1]["by"])
                       if row["test_all"]["seeds"][-1]["caught"] else "missed"))
            say(f"validate: test-all --quick with {row['bug']}: {test_all_cell(row)}")
    return m, write_matrix(m, store_root)



@click.command(name="validate")
@click.option("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, show_default=True,
              help="Seconds of each run's main phase.")
@click.option("--seeds", type=int, default=DEFAULT_SEEDS, show_default=True,
              help="Runs per bug (seeds 1..N), and the number of runs without bugs.")
@click.option("--bugs", default="all", show_default=True, metavar="NAME[,NAME]|all",
              help="The bug switches to try (emulator/README.md, 'Bug switches').")
@click.option("--store", "store_root", default="store", show_default=True,
              type=click.Path(file_okay=False),
              help="Run store: runs go to STORE/validate-runs/, the matrix to "
                   "STORE/validate/<timestamp>/matrix.json and matrix.html.")
@click.option("--test-all", "test_all", is_flag=True,
              help="Also run `test-all --quick` in each bug's mode with that bug planted "
                   "(about two minutes per bug) and add the column 'caught by test-all "
                   "--quick': yes with the runs that caught it, or no.")
def validate_command(time_limit, seeds, bugs, store_root, test_all):
    """Measure detection power: run every planted emulator bug with the workload, nemesis
    and schedule that should expose it, for N seeds, plus N runs without bugs, and print
    the detection matrix (bug, claim broken, seeds detected of N, median seconds to the
    first anomalous operation, anomalies named).

    Exit status: 0 when every bug was caught in every seed and every run without bugs was
    valid; 1 otherwise; 3 for bad input.
    """
    from suite.core import stop_on_signals
    stop, abort = threading.Event(), threading.Event()
    say = lambda line: click.echo(line, err=True)  # noqa: E731 -- progress on stderr
    with stop_on_signals(stop, abort, log=say):
        m, out = validate(bugs=bugs, seeds=seeds, time_limit=time_limit,
                          store_root=store_root, stop=stop, say=say, test_all=test_all)
    click.echo(table(m))
    click.echo(f"matrix: {out / 'matrix.json'}  page: {out / 'matrix.html'}")
    return 0 if m["ok"] else 1

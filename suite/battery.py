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

`--quick` is a smoke battery: 0.6 s of traffic per run at latency scale 0.1 with faults
every 0.2 s, so the whole battery (about 1-1.5 s a run on a loaded 2-core machine) ends
in a couple of minutes; without it each run has `--time-limit` seconds at latency scale 1.

Exit status, by the README's rule applied to the battery: 1 if any run is invalid;
otherwise 3 if any run could not be set up; otherwise 2 if any run is unknown or the
battery was interrupted before every run was made; otherwise 0. Ctrl-C stops the run in
progress the way `gtcheck run` does (heal, final reads, results written), skips the runs
not yet started, and still prints and writes the table.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
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
QUICK = dict(time_limit=0.6, latency_scale=0.1, nemesis_interval=0.2, rate=100.0,
             final_wait=0.5, op_timeout=0.5)
FULL = dict(time_limit=20.0, latency_scale=1.0, nemesis_interval=5.0, rate=50.0,
            final_wait=1.0, op_timeout=5.0)


@dataclass(frozen=True)
class Plan:
    """One run of the battery: a workload against a nemesis package (or none) in a mode."""

    mode: str
    workload: str
    nemesis: str

    def test(self, *, seed: int, settings: dict, target: str, argv: tuple) -> Test:
        return Test(workload=self.workload, mode=self.mode, target=target, seed=seed,
                    nemesis=() if self.nemesis == NO_FAULT else (self.nemesis,),
                    **settings).stamped(argv=argv)


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
                "seconds": round(self.seconds, 1), "exit_code": self.exit_code,
                "rows": [asdict(r) for r in self.rows]}


def plans(modes: Sequence[str], workloads: Sequence[str] | None = None,
          nemeses: Sequence[str] | None = None) -> list[Plan]:
    """Every (mode, workload, nemesis) of the battery, from the registries by default; a
    name the registry does not know is BadInput listing the known ones."""
    registry.load_plugins()
    ws = list(workloads) if workloads else sorted(registry.WORKLOADS)
    ns = list(nemeses) if nemeses else [NO_FAULT] + sorted(registry.NEMESES)
    for w in ws:
        registry.workload_entry(w)
    for n in ns:
        if n != NO_FAULT:
            registry.nemesis_factory(n)
    for m in modes:
        if m not in MODES:
            raise BadInput(f"--mode must be one of {', '.join(MODES)} or {BOTH}, got {m!r}")
    return [Plan(m, w, n) for m in modes for w in ws for n in ns]


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


def run_battery(plan: Sequence[Plan], *, store: Store, seed: int, settings: dict,
                target: str = "emulator", quick: bool = False,
                stop: threading.Event | None = None, abort: threading.Event | None = None,
                progress: Callable[[str], None] = lambda s: None,
                argv: tuple = ()) -> Battery:
    """Run every plan in order (each `core.run_test`); a stop event ends the battery
    after the run in progress, whose own final phase still runs."""
    stop = stop or threading.Event()
    abort = abort or threading.Event()
    rows: list[Row] = []
    started = time.monotonic()
    width = len(str(len(plan)))
    for i, p in enumerate(plan, 1):
        if stop.is_set():
            rows.append(Row(p.mode, p.workload, p.nemesis, "not run"))
            continue
        label = f"[{i:>{width}}/{len(plan)}] {p.mode:<6} {p.workload:<18} {p.nemesis:<18}"
        t0 = time.monotonic()
        try:
            result = core.run_test(p.test(seed=seed, settings=settings, target=target,
                                          argv=argv),
                                   store=store, stop=stop, abort=abort)
        except GtcheckError as e:
            rows.append(Row(p.mode, p.workload, p.nemesis, "error",
                            seconds=round(time.monotonic() - t0, 2), error=str(e)))
            progress(f"{label} ERROR   {e}")
            continue
        row = Row(p.mode, p.workload, p.nemesis, _verdict(result.valid),
                  violations=_kinds(result.results, False),
                  allowed=_kinds(result.results, True),
                  ops=int(result.results.get("run", {}).get("ops", 0)),
                  seconds=round(time.monotonic() - t0, 2),
                  run_dir=str(result.run_dir.path))
        if row.verdict != "valid":
            row.error = _write_report(result.run_dir.path)
        rows.append(row)
        found = ", ".join(f"{k}={n}" for k, n in row.violations.items())
        progress(f"{label} {row.verdict.upper():<8}{row.seconds:5.1f}s"
                 + (f"  {found}" if found else ""))
    return Battery(rows, seed, quick, stop.is_set(), time.monotonic() - started)


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
    if battery.interrupted:
        lines.append("interrupted: the runs marked NOT RUN were skipped")
    return "\n".join(lines)


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


def modes_for(mode: str) -> list[str]:
    return list(MODES) if mode == BOTH else [mode]


def parse_names(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()] or None


__all__ = ["Battery", "Plan", "Row", "plans", "run_battery", "table", "write_summary",
           "settings_for", "modes_for", "parse_names", "NO_FAULT", "QUICK", "FULL"]

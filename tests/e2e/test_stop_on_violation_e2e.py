"""`gtcheck run --stop-on-violation` through the real CLI (a subprocess; boto3 over HTTP
against the embedded emulator with the planted `sc-read-no-fence` bug, M06): the online
checker (checkers/online.py) finds the first stale SC read while the run goes, the main
phase ends within seconds of it, and the verdict -- still the full offline check -- names
it. The delay is measured on the history's own clock, from the first stale read's
completion to the end of the main phase, so a loaded machine does not make it flaky."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from results.history import read_jsonl

STOP_WITHIN_S = 5.0
TIME_LIMIT_S = 60.0


def _latest_run(store: Path) -> Path:
    # the default test name carries the planted bug (register-strong-bug_sc-read-no-fence)
    runs = sorted(p for d in store.glob("register-strong*") for p in d.iterdir()
                  if p.name[0].isdigit())
    assert runs, f"no run directory under {store}"
    return runs[-1]


@pytest.mark.slow
def test_stop_on_violation_stops_within_seconds_of_the_first_stale_read(tmp_path):
    store = tmp_path / "store"
    cmd = [str(Path(sys.executable).parent / "gtcheck"), "run", "--workload", "register",
           "--mode", "strong", "--emulator-bug", "sc-read-no-fence", "--stop-on-violation",
           # every key in play all the time: no key goes cold, so the online checker
           # that stops the run is the stale-read one (not the linearizability search of
           # a key that left the hot set, which may fire first on another seed)
           "--hot-keys", "0", "--keys", "4",
           "--time-limit", str(TIME_LIMIT_S), "--seed", "7", "--store", str(store)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 1, proc.stdout + proc.stderr          # INVALID
    assert "verdict: INVALID (stopped at the first violation found while running" \
        in proc.stdout, proc.stdout
    assert "stale-read" in proc.stdout.split("verdict:", 1)[1].splitlines()[0]
    assert "violation found while running" in proc.stderr
    assert "violations: " in proc.stderr  # the progress line counts them

    run_dir = _latest_run(store)
    results = json.loads((run_dir / "results.json").read_text())
    run = results["run"]
    assert results["valid"] is False
    stopped = run["stopped_on_violation"]
    assert stopped["kind"] == "stale-read" and stopped["checker"] == "sc-reads"
    stale = [a for a in results["checkers"]["sc-reads"]["anomalies"]
             if a["kind"] == "stale-read"]
    assert stale, results["checkers"]["sc-reads"]
    # The first stale read's completion, on the history's clock (ns since the run began).
    history = read_jsonl(run_dir / "history.jsonl")
    invoke_of = {op.index: op for op in history if op.type == "invoke"}
    done_at: dict = {}
    open_: dict = {}
    for op in history:
        if op.type == "invoke":
            open_[op.process] = op.index
        elif op.process in open_:
            done_at[open_.pop(op.process)] = op.time
    first_stale_s = min(done_at[a["ops"][0]] for a in stale if a["ops"][0] in invoke_of) / 1e9
    stop_s = run["main_phase_s"]
    delay_s = stop_s - first_stale_s
    print(f"first stale read completed at {first_stale_s:.3f}s; main phase stopped at "
          f"{stop_s:.3f}s: {delay_s:.3f}s later (limit {STOP_WITHIN_S}s)")
    assert 0 <= delay_s <= STOP_WITHIN_S, (first_stale_s, stop_s)
    assert stop_s < TIME_LIMIT_S / 2  # it stopped for the violation, not the time limit
    # Nothing was invoked after the stop (the main phase ended there).
    last_invoke_s = max(op.time for op in history if op.type == "invoke"
                        and op.process != "nemesis") / 1e9
    assert last_invoke_s <= stop_s

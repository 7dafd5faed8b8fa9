"""Issue 13, finding 4: a target that dies mid-run is "gone", not "unavailable".

A real emulator in its own process (`gtcheck emulator serve`), tested over boto3 through
`--target endpoints:FILE`, is killed with SIGKILL once a 30-second run has recorded some traffic: every
region then refuses connections. The run must notice, stop well before its time limit,
and give verdict unknown with the reason -- never INVALID for availability -- and the
after-run errors must be in results.json (the report shows them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from results.store import Store
from suite import core
from suite.config import Test

ROOT = Path(__file__).resolve().parents[2]


def test_a_killed_target_is_gone_and_the_verdict_is_unknown(tmp_path):
    state = tmp_path / "emulator.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--latency-scale", "0.05",
         "--control-plane-scale", "0.02",
         "--state-file", str(state), "--mode", "strong"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    try:
        json.loads(proc.stdout.readline())  # serving
        test = Test(target=f"endpoints:{state}", mode="strong", time_limit=30, rate=100,
                    keys=3, op_timeout=1.0, final_wait=0.1, seed=4).stamped(argv=("pytest",))
        history = tmp_path / "store" / "latest" / "history.jsonl"

        def kill_once_running():
            # After set-up and some traffic (a loaded machine may take seconds to set up).
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if history.exists() and history.read_text().count("\n") >= 40:
                    break
                time.sleep(0.05)
            killed_at.append(time.monotonic())
            proc.send_signal(signal.SIGKILL)

        killed_at: list[float] = []
        killer = threading.Thread(target=kill_once_running, daemon=True)
        killer.start()
        result = core.run_test(test, store=Store(tmp_path / "store"))
        took = time.monotonic() - killed_at[0]
    finally:
        proc.kill()
        proc.wait(timeout=10)
    run = result.results["run"]
    assert result.valid == "unknown", result.results.get("reason")
    assert run["target_gone"].startswith("the target is gone: every region")
    assert result.results["reason"] == run["target_gone"]
    av = result.results["checkers"]["availability"]
    assert av["valid"] != False  # noqa: E712 -- nothing listening proves no unavailability
    assert took < 15, took  # stopped soon after the kill, not 30 s of refused requests
    # The after-run phase could not reach the target: its errors are recorded.
    assert any(e.startswith("deleting the table: skipped") for e in run["errors"]), run["errors"]
    text = core.summary(result, test)
    assert text.startswith("verdict: UNKNOWN (the target is gone")

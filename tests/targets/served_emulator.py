"""`gtcheck emulator serve` in a subprocess, with its AWS-like control plane at a small
scale (the same order of events as AWS, faster): what the tests of the AWS path meet."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def served_emulator(tmp: Path, *args: str, scale: str = "0.05",
                    seed: int = 11) -> Iterator[dict]:
    """Start `python -m emulator serve --control-plane-scale SCALE ARGS...`; yield the
    state it printed (regions, endpoint, admin); stop it on the way out."""
    state = tmp / f"emulator-{seed}.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--latency-scale", "0.02",
         "--control-plane-scale", scale, "--seed", str(seed), "--state-file", str(state),
         *args],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
        text=True)
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("gtcheck emulator serve did not start")
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

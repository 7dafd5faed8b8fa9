"""The clock fault's worker side (suite/remote/worker.py `--faketime`): the worker starts
faketime itself, with a strictly checked offset, so a host's sudo rules never need to let
faketime (which runs any command) run as root (scripts/testbed.sh)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from suite.remote import worker as worker_mod

GTCHECK = Path(sys.executable).with_name("gtcheck")


@pytest.mark.parametrize("offset", ["+1s; rm -rf /", "1.5s", "+1.5", "+abc s", "", "--help",
                                    "+1s /bin/sh"])
def test_bad_offsets_are_refused_before_anything_runs(monkeypatch, offset):
    called = []
    monkeypatch.setattr(worker_mod.os, "execvpe", lambda *a: called.append(a))
    r = CliRunner().invoke(worker_mod.worker_command, ["--host", "h1", "--faketime", offset])
    assert r.exit_code != 0
    assert "not a clock offset" in r.output
    assert called == []


def test_worker_reexecs_itself_under_faketime(monkeypatch):
    called = []

    def fake_exec(path, argv, env):
        called.append((path, argv, env))
        raise SystemExit(0)  # an exec never returns

    monkeypatch.setattr(worker_mod.os, "execvpe", fake_exec)
    monkeypatch.setattr(worker_mod.sys, "argv", ["/opt/gtcheck", "worker"])
    monkeypatch.delenv("GTCHECK_WORKER_FAKETIME", raising=False)
    CliRunner().invoke(worker_mod.worker_command,
                       ["--host", "h1", "--clock-offset-ms", "2.5", "--faketime", "-0.250s"])
    (path, argv, env), = called
    assert path == "faketime"
    assert argv == ["faketime", "-f", "-0.250s", "/opt/gtcheck", "worker", "--host", "h1",
                    "--clock-offset-ms", "2.5"]
    assert env["GTCHECK_WORKER_FAKETIME"] == "-0.250s"


def _clock_reading(*args: str) -> int:
    out = subprocess.run([str(GTCHECK), "worker", "--host", "x", *args],
                         input='{"t": "clock", "n": 1}\n', capture_output=True, text=True,
                         timeout=60).stdout
    answers = [json.loads(line) for line in out.splitlines()]
    return next(a["w"] for a in answers if a["t"] == "clock")


@pytest.mark.skipif(shutil.which("faketime") is None or not GTCHECK.exists(),
                    reason="faketime (scripts/test.sh installs it) or the gtcheck script missing")
def test_a_real_worker_under_faketime_reads_a_moved_clock():
    plain = _clock_reading()
    moved = _clock_reading("--faketime", "+3600.000s")
    assert abs(moved - plain) > 1000 * 10**9

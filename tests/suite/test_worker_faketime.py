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
    # libfaketime must leave CLOCK_MONOTONIC alone (0.9.8+ and older spellings)
    assert env["FAKETIME_DONT_FAKE_MONOTONIC"] == env["DONT_FAKE_MONOTONIC"] == "1"
    wall, mono = (int(x) for x in env["GTCHECK_WORKER_LAUNCH_CLOCKS"].split())
    assert wall > 10**18 and mono > 0  # both clocks, read just before the exec


def test_the_skew_is_the_wall_clock_moved_beyond_the_shared_monotonic_clock():
    launch = f"{5_000_000_000_000} {1_000_000_000}"
    # 3 s later on the monotonic clock the wall clock reads 3 s + 2 s later: skew +2 s
    assert worker_mod.faketime_skew_ns(launch, 5_005_000_000_000, 4_000_000_000) == \
        2_000_000_000
    assert worker_mod.faketime_skew_ns(launch, 5_002_750_000_000, 4_000_000_000) == \
        -250_000_000


@pytest.mark.parametrize("launch, mono, says", [
    ("", 1, "no launch clock readings"),
    ("12 x", 1, "no launch clock readings"),
    # libfaketime's default: CLOCK_MONOTONIC faked as the faked wall time (~56 years on)
    ("1796593665000000000 22200000000000", 1796593667000000000, "faked it"),
    ("1796593665000000000 22200000000000", 22100000000000, "faked it"),  # went back
])
def test_a_skew_that_cannot_be_measured_ends_the_worker_with_the_reason(launch, mono, says):
    import click
    with pytest.raises(click.ClickException, match=says):
        worker_mod.faketime_skew_ns(launch, 1796593667000000000, mono)


def _clock_offset_ns(*args: str) -> tuple[int, int]:
    """A real worker's clock against this process's monotonic clock, measured as the
    control node does (suite.remote.clock): (worker - midpoint, half the round trip)."""
    import time
    p = subprocess.Popen([str(GTCHECK), "worker", "--host", "x", *args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        hello = json.loads(p.stdout.readline() or "{}")
        assert hello.get("t") == "hello", p.stderr.read()
        best = None
        for n in range(8):
            t1 = time.monotonic_ns()
            p.stdin.write(json.dumps({"t": "clock", "n": n}) + "\n")
            p.stdin.flush()
            w = json.loads(p.stdout.readline())["w"]
            t2 = time.monotonic_ns()
            if best is None or t2 - t1 < best[1] * 2:
                best = (w - (t1 + t2) // 2, (t2 - t1 + 1) // 2)
        return best
    finally:
        p.stdin.close()
        p.wait(timeout=60)


@pytest.mark.skipif(shutil.which("faketime") is None or not GTCHECK.exists(),
                    reason="faketime (scripts/test.sh installs it) or the gtcheck script missing")
@pytest.mark.parametrize("offset, ms", [("+2.000s", 2000.0), ("-0.250s", -250.0)])
def test_a_real_worker_under_faketime_reads_its_clock_moved_by_the_offset(offset, ms):
    """Last session's runs saw the skewed worker's clock about 56 years off: libfaketime
    faked CLOCK_MONOTONIC as the faked wall time. The worker's clock now moves by the
    offset asked, within the measurements' error (plus 1 ms for the clocks' reads)."""
    plain, plain_err = _clock_offset_ns()
    moved, moved_err = _clock_offset_ns("--faketime", offset)
    assert abs(plain) <= plain_err + 1_000_000  # the same machine: one monotonic clock
    assert abs(moved - plain - ms * 1e6) <= plain_err + moved_err + 1_000_000, \
        (moved - plain) / 1e6

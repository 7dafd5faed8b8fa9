"""Issue 25, finding 5: scripts/test.sh and the browser tests agree. apt-get waits for a
held dpkg lock; when chromium still cannot be installed the set-up stops with one clear
line (the browser tests would fail), unless GTCHECK_NO_BROWSER=1, and then the browser
tests skip, saying why. Run with a stand-in venv python and a stand-in apt-get on a PATH
without chromium, so nothing is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fake_bed(tmp_path: Path) -> tuple[Path, dict]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id", "dirname", "env", "cat", "bash"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    calls = tmp_path / "calls"
    (bin_dir / "apt-get").write_text(f"#!/bin/bash\necho \"apt-get $*\" >> {calls}\nexit 100\n")
    (bin_dir / "apt-get").chmod(0o755)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f"#!/bin/bash\necho \"python $*\" >> {calls}\n")
    (venv / "bin" / "python").chmod(0o755)
    env = {"PATH": str(bin_dir), "VENV": str(venv), "HOME": str(tmp_path)}
    return calls, env


@pytest.mark.skipif(os.geteuid() != 0, reason="the script installs through apt only as root "
                    "or with sudo; this test plays root's path")
def test_a_failed_chromium_install_stops_the_set_up_clearly(tmp_path):
    calls, env = fake_bed(tmp_path)
    r = subprocess.run(["bash", str(ROOT / "scripts" / "test.sh")], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "test.sh: error: chromium could not be installed" in r.stderr
    assert "GTCHECK_NO_BROWSER=1" in r.stderr
    log = calls.read_text()
    assert "-o DPkg::Lock::Timeout=600 update" in log  # waits for a held dpkg lock
    assert "-m pytest" not in log  # the tests never ran against a set-up that failed


@pytest.mark.skipif(os.geteuid() != 0, reason="as above")
def test_without_the_browser_on_purpose_the_tests_run(tmp_path):
    calls, env = fake_bed(tmp_path)
    env["GTCHECK_NO_BROWSER"] = "1"
    r = subprocess.run(["bash", str(ROOT / "scripts" / "test.sh"), "-k", "x"], env=env,
                       capture_output=True, text=True, timeout=60)
    log = calls.read_text()
    assert "chromium" not in log  # not even tried
    assert "python -m pytest -q -n 2 --dist loadgroup -k x" in log, (log, r.stderr)


def test_a_missing_browser_skips_with_the_reason_only_when_asked(tmp_path, monkeypatch):
    from tests.browser import cdp
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium here
    monkeypatch.setenv(cdp.NO_BROWSER_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        cdp.require_browser()
    monkeypatch.delenv(cdp.NO_BROWSER_ENV)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        cdp.require_browser()

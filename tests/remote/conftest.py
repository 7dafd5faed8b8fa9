"""The local test bed of the remote-host tests: scripts/testbed.sh in network namespaces.

`testbed` (session-wide) runs `scripts/testbed.sh up` once -- three hosts, each with its
own sshd, on a bridge -- and `down` at the end; its value is the hosts file. The bed
needs root and Debian's openssh-server, iptables, sudo and iproute2: without them the
tests that use it skip and say which is missing, except under CI (`CI` set), where
scripts/test.sh installs them and a skip would hide a missing install step, so they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTBED = REPO / "scripts" / "testbed.sh"
WORKER = Path(sys.executable).parent / "gtcheck"


def unavailable() -> str | None:
    """Why the test bed cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "the SSH test bed needs root (network namespaces, sshd, iptables)"
    missing = [t for t in ("ip", "iptables", "sudo", "ssh-keygen") if not shutil.which(t)]
    if not os.path.exists("/usr/sbin/sshd"):
        missing.append("sshd (openssh-server)")
    if missing:
        return f"the SSH test bed needs {', '.join(missing)} (scripts/test.sh installs them)"
    if not WORKER.exists():
        return f"no gtcheck executable at {WORKER} for the workers"
    return None


def _skip_or_fail(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the SSH test bed tests: {reason}")
    pytest.skip(reason)


def testbed_env() -> dict:
    return {**os.environ, "GTCHECK_WORKER": str(WORKER)}


@pytest.fixture
def testbed(request, testbed_session) -> Path:
    """The hosts file of the test bed, for one test. Under pytest-xdist every test that uses
    the bed must run on one worker (its names, addresses and ports are fixed): the group is
    set in tests/conftest.py and xdist marks it in the node id (`...@ssh-testbed`). When it
    is missing -- plain `--dist load`, or a pytest whose node ids xdist cannot mark (pytest
    9.2 with xdist 3.8, hence the pin in pyproject.toml) -- two workers would bring the bed
    up and down under each other, so the test fails here and says so."""
    if os.environ.get("PYTEST_XDIST_WORKER") and "@ssh-testbed" not in request.node.nodeid:
        pytest.fail("the SSH test bed tests must run on one xdist worker: use "
                    "`--dist loadgroup` (scripts/test.sh does) with a pytest that xdist can "
                    "group (pyproject.toml pins it); this run would share the bed between "
                    f"workers ({request.node.nodeid})")
    return testbed_session


@pytest.fixture(scope="session")
def testbed_session() -> Path:
    reason = unavailable()
    if reason:
        _skip_or_fail(reason)
    r = subprocess.run(["bash", str(TESTBED), "up"], capture_output=True, text=True,
                       env=testbed_env(), timeout=120)
    if r.returncode != 0:
        _skip_or_fail(f"scripts/testbed.sh up failed: {r.stderr.strip()[-500:]}")
    hosts = Path(r.stdout.strip().splitlines()[-1])
    yield hosts
    subprocess.run(["bash", str(TESTBED), "down"], capture_output=True, text=True,
                   timeout=120)

"""Parallel runs (pytest-xdist, `scripts/test.sh` runs `-n 2 --dist loadgroup`): the tests
that share something outside their own temporary directory run together, one group on one
worker, in order. Today that is tests/remote: its session fixture brings up
scripts/testbed.sh's network namespaces (fixed names `gtcktb-N`, fixed addresses and
ports), which two workers must never do at once. Every other test uses its own
`tmp_path`, ports chosen by the kernel (port 0) and a fresh emulator, so it can run
beside any other. A test that needs a fixed name, path or port joins a group here."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SHARED = {HERE / "remote": "ssh-testbed"}  # directory -> xdist group


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.path)).resolve()
        for directory, group in SHARED.items():
            if directory in path.parents:
                item.add_marker(pytest.mark.xdist_group(group))
                # Known open problem: in full-suite runs two remote tests failed once
                # each (an iptables chain "incompatible" / missing while a killed run's
                # chain was being flushed) and passed on their own; until that race is
                # found, a remote test gets one rerun, which the report lists as RERUN.
                item.add_marker(pytest.mark.flaky(reruns=1))

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


# tryfirst: xdist's own hook (the worker's) reads the xdist_group marks to put the group in
# each node id, so the marks must be on the items before it runs; without this the group
# was silently ignored and two workers brought up the test bed at once.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.path)).resolve()
        for directory, group in SHARED.items():
            if directory in path.parents:
                item.add_marker(pytest.mark.xdist_group(group))

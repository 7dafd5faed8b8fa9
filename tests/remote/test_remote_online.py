"""The checking while a remote run goes (checkers/online.py) on the namespace test bed.

A remote run's operations reach the history only once their clock mapping is known
(suite.remote.fleet.MappedHistory). Last session the online checker was fed the runner's
operations before that, unnumbered (index -1), and logged a "violation found while
running" with history index -1 that the offline verdict did not confirm. Now it is fed
by the history writer: a fault-free remote run finds nothing while running, and what it
was fed is the history file itself; a planted bug (sc-read-no-fence, M06) still stops a
remote run with --stop-on-violation, naming operations the history holds.
"""

from __future__ import annotations

import pytest

from results.history import NEMESIS, read_jsonl
from results.store import Store
from suite import core
from suite.config import Test

pytestmark = pytest.mark.slow

REMOTE = dict(time_limit=4.0, concurrency=6, rate=80.0, latency_scale=0.1,
              op_timeout=1.0, final_wait=0.5, keys=4)


@pytest.fixture
def fed(monkeypatch):
    """Every op the run's online checker took, in order."""
    from checkers import online
    got: list = []
    real = online.OnlineChecker.__call__

    def spy(self, op):
        got.append(op)
        real(self, op)
    monkeypatch.setattr(online.OnlineChecker, "__call__", spy)
    return got


def test_a_fault_free_remote_run_finds_no_violation_while_running(tmp_path, testbed, fed):
    test = Test(**REMOTE, hosts=str(testbed), seed=12).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    history = read_jsonl(result.run_dir.history)
    assert result.valid is True, result.results
    # operations the workers answered (a runner-side timeout on a loaded machine has no
    # host, and that is allowed)
    answered = [op for op in history if op.process != NEMESIS and op.type == "ok"]
    assert len(answered) > 50 and all("host" in op.extra for op in answered)
    online = result.results["run"]["online"]
    assert online["checkers"] and online["violations"] == 0, online
    assert "errors" not in online, online
    assert "violation found while running" not in (result.run_dir.path / "run.log").read_text()
    assert fed == history  # numbered, at their mapped times, in the file's order


def test_a_planted_bug_still_stops_a_remote_run(tmp_path, testbed, fed):
    # at latency scale 1 (as the local e2e test): a stale SC read needs a replication lag
    test = Test(**{**REMOTE, "time_limit": 120.0, "latency_scale": 1.0, "hot_keys": 0},
                hosts=str(testbed), seed=7, emulator_bugs=("sc-read-no-fence",),
                stop_on_violation=True).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    history = read_jsonl(result.run_dir.history)
    run = result.results["run"]
    assert result.valid is False, result.results
    stopped = run["stopped_on_violation"]
    # it stopped for the violation, not at the time limit (found after 5-40 s here,
    # the longer on a loaded machine)
    assert run["main_phase_s"] < test.time_limit, run
    by_index = {op.index: op for op in history}
    assert stopped["ops"] and all(i in by_index for i in stopped["ops"]), stopped
    assert all(by_index[i].type == "invoke" and by_index[i].key == stopped["key"]
               for i in stopped["ops"]), stopped
    assert fed == history[:len(fed)]  # the online checker saw the history, as written
    log = (result.run_dir.path / "run.log").read_text()
    assert "violation found while running" in log and "--stop-on-violation" in log
    assert "(stopped on a violation)" in log

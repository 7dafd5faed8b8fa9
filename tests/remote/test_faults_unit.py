"""The host nemesis' bookkeeping, without hosts: what it undoes on heal, and how a host
whose fault could not be undone is reported (named, and red in the run summary).

The fleet and its SSH are test doubles here (this is the unit test of the nemesis that
calls them); tests/remote/test_remote_run.py runs the same nemesis on real hosts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from results.store import RunDir
from suite import core
from suite.config import Test
from suite.errors import SetupError
from suite.generator import simulate
from suite.remote.faults import HOST_FAMILIES, NOT_UNDONE, HostNemesis, HostSchedule


class FakeFleet:
    def __init__(self, broken=()):
        spec = SimpleNamespace(region="r1", sudo=True)
        self.sessions = {h: SimpleNamespace(spec=spec, lost=None, pid=100 + i, ppid=None,
                                            ssh=None, ready=True)
                         for i, h in enumerate(("h1", "h2"))}
        self.broken = set(broken)
        self.commands: list[tuple[str, tuple]] = []
        self.restarted: list[str] = []

    def endpoint_of(self, region):
        return "http://10.1.1.1:8000"

    def restart(self, host, prefix=None, worker_args=None):
        self.restarted.append(host)


@pytest.fixture()
def nemesis(monkeypatch):
    def make(broken=()):
        fleet = FakeFleet(broken)
        n = HostNemesis(fleet)

        def run(host, argv, sudo=True):
            fleet.commands.append((host, tuple(argv)))
            if host in fleet.broken and "-F" in argv:
                return 255, "ssh: connection lost"
            if argv[:4] == ["iptables", "-w", "5", "-n"]:
                return 1, "no chain"  # -L GTCHECK: not there yet
            if "-C" in argv:
                return 1, ""
            return 0, ""
        monkeypatch.setattr(n, "_run", run)
        return fleet, n
    return make


def test_heal_undoes_exactly_what_is_in_force(nemesis):
    fleet, n = nemesis()
    assert n.invoke(None, {"f": "cut-host", "value": {"host": "h1"}})["type"] == "ok"
    assert n.invoke(None, {"f": "pause-worker", "value": {"host": "h2"}})["type"] == "ok"
    assert ("h1", ("iptables", "-w", "5", "-A", "GTCHECK", "-p", "tcp", "-d", "10.1.1.1",
                   "--dport", "8000", "-j", "DROP")) in fleet.commands
    assert ("h2", ("kill", "-STOP", "101")) in fleet.commands
    fleet.commands.clear()
    assert n.invoke(None, {"f": "heal", "value": None})["type"] == "ok"
    assert ("h1", ("iptables", "-w", "5", "-F", "GTCHECK")) in fleet.commands
    assert ("h2", ("kill", "-CONT", "101")) in fleet.commands
    assert not any(h == "h2" and "-F" in c for h, c in fleet.commands)  # no cut on h2
    n.invoke(None, {"f": "kill-worker", "value": {"host": "h2"}})
    n.teardown(None)
    assert fleet.restarted == ["h2"]  # a killed worker is restarted by the heal
    assert ("h1", ("iptables", "-w", "5", "-X", "GTCHECK")) in fleet.commands


def test_a_fault_that_cannot_be_undone_names_the_host_in_red(nemesis, tmp_path):
    fleet, n = nemesis(broken={"h1"})
    n.invoke(None, {"f": "cut-host", "value": {"host": "h1"}})
    healed = n.invoke(None, {"f": "heal", "value": None})
    assert healed["type"] == "info" and "h1" in healed["message"]
    with pytest.raises(SetupError) as e:
        n.teardown(None)
    assert str(e.value).startswith(f"{NOT_UNDONE} h1 (")
    run = core.RunResult(RunDir(tmp_path), {"valid": True, "checkers": {}},
                         errors=[f"nemesis teardown: SetupError: {e.value}"])
    text = core.summary(run, Test())
    assert f"\x1b[31merror: nemesis teardown: SetupError: {NOT_UNDONE} h1" in text


def test_schedule_takes_turns_on_seeded_hosts():
    sched = HostSchedule("host-kill", {"a": "r1", "b": "r2", "c": "r1"}, 1.0, seed=5, slot=1,
                         slots=2)
    ops = [op for op in simulate(sched, concurrency=1, max_ops=8) if op["type"] == "invoke"]
    assert [op["f"] for op in ops] == ["kill-worker", "restart-worker"] * 2
    assert [op["time"] for op in ops] == [3e9, 4e9, 7e9, 8e9]
    assert ops[0]["value"] == ops[1]["value"]
    assert ops[0]["value"]["region"] == {"a": "r1", "b": "r2", "c": "r1"}[ops[0]["value"]["host"]]
    again = [op for op in simulate(sched, concurrency=1, max_ops=8) if op["type"] == "invoke"]
    assert again == ops
    assert set(HOST_FAMILIES) == {"host-cut", "host-kill", "host-pause", "host-clock",
                                  "host-latency"}


def test_client_host_faults_are_fault_periods_that_availability_does_not_judge():
    """A killed client host's region is not judged while its worker is down, and its
    lost or unsent operations say nothing about the table (checkers.availability)."""
    from checkers.availability import AvailabilityChecker
    from results.history import Op, fault_periods
    s = 1_000_000_000
    ops, t = [], 0

    def add(**kw):
        ops.append(Op(index=len(ops), **kw))

    add(time=0, type="invoke", process="nemesis", f="kill-worker",
        value={"host": "h2", "region": "r2"})
    add(time=1, type="ok", process="nemesis", f="kill-worker",
        value={"host": "h2", "region": "r2"})
    for i in range(40):  # r2's clients fail for 4 s: no live host there
        t = 2 + i * s // 10
        add(time=t, type="invoke", process=i, f="write", key="k", value=i, region="r2")
        add(time=t + 5, type="fail", process=i, f="write", key="k", value=i, region="r2",
            error="no live host in region r2")
    add(time=5 * s, type="invoke", process="nemesis", f="restart-worker",
        value={"host": "h2", "region": "r2"})
    add(time=5 * s + 1, type="ok", process="nemesis", f="restart-worker",
        value={"host": "h2", "region": "r2"})
    periods = fault_periods(ops)
    assert [(p.f, p.start, p.end) for p in periods] == [("kill-worker", 1, 5 * s)]
    res = AvailabilityChecker("strong").check({"regions": ["r1", "r2", "r3"]}, ops, {})
    assert res["valid"] is True, res
    row = next(r for r in res["regions"]["r2"] if r["fault"])
    assert row["fault"].startswith("kill-worker host=h2")
    assert row["expected_available"] is True and row["judged"] is False
    assert row["fail"] == 0  # never sent: not counted at all

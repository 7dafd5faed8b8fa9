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
    # no violation; and since r2's period is the only one with traffic, nothing was
    # judged: unknown, not held (issue 19, class 13)
    assert res["valid"] == "unknown" and res["judged_periods"] == 0, res
    row = next(r for r in res["regions"]["r2"] if r["fault"])
    assert row["fault"].startswith("kill-worker host=h2")
    assert row["expected_available"] is True and row["judged"] is False
    assert row["fail"] == 0  # never sent: not counted at all


# --- issue 19, class 14: faults a killed run left behind ----------------------------------

LEFT = "-A GTCHECK -d 10.1.1.1/32 -p tcp -m tcp --dport 8000 -j DROP"


def leftover_nemesis(monkeypatch, rules_on: dict, hooked: set):
    """A nemesis over the fake fleet whose hosts answer `iptables -S GTCHECK` with the
    rules in `rules_on` (host -> rules; absent: no chain) and `-C hook` as `hooked` says;
    the commands are recorded and change that state as iptables would."""
    fleet = FakeFleet()
    logged: list[str] = []
    n = HostNemesis(fleet, log=logged.append)

    def run(host, argv, sudo=True):
        fleet.commands.append((host, tuple(argv)))
        args = list(argv[3:])
        if args == ["-S", "GTCHECK"]:
            if host not in rules_on:
                return 1, "iptables: No chain/target/match by that name."
            return 0, "\n".join(["-N GTCHECK", *rules_on[host]])
        if args == ["-F", "GTCHECK"]:
            rules_on[host] = []
        elif args[:1] == ["-C"]:
            return (0, "") if (host, args[1]) in hooked else (1, "")
        elif args[:1] == ["-D"]:
            hooked.discard((host, args[1]))
        elif args == ["-X", "GTCHECK"]:
            rules_on.pop(host, None)
        return 0, ""
    monkeypatch.setattr(n, "_run", run)
    return fleet, n, logged


def test_a_run_starts_by_removing_a_chain_a_killed_run_left_and_says_so(monkeypatch):
    # h1 holds the DROP rule of a run killed mid-cut; h2 has no chain
    rules = {"h1": [LEFT]}
    hooked = {("h1", "INPUT"), ("h1", "OUTPUT")}
    fleet, n, logged = leftover_nemesis(monkeypatch, rules, hooked)
    removed = n.clear_left_behind()
    assert removed == {"h1": [LEFT]}
    assert rules == {} and hooked == set()  # flushed, unhooked, deleted
    assert ("h1", ("iptables", "-w", "5", "-F", "GTCHECK")) in fleet.commands
    assert not any(h == "h2" and "-F" in c for h, c in fleet.commands)
    assert logged == [f"host h1: removed iptables chain GTCHECK left by an earlier run "
                      f"(1 rule(s) flushed: {LEFT})"]


def test_before_judging_a_rule_still_in_force_is_found(monkeypatch):
    rules = {"h2": [LEFT]}
    fleet, n, _ = leftover_nemesis(monkeypatch, rules, set())
    assert n.in_force() == {"h2": f"iptables chain GTCHECK holds 1 rule(s): {LEFT}"}
    rules["h2"] = []
    assert n.in_force() == {}
    n.state["h1"].paused = True  # a fault this run made and could not undo
    assert n.in_force() == {"h1": "worker paused not undone"}


def test_a_fault_in_force_voids_availability_and_leaves_the_run_unknown():
    results = {"checkers": {"availability": {"valid": False}, "convergence": {"valid": True}},
               "run": {"host_faults_in_force": {"h1": "iptables chain GTCHECK holds 1 "
                                                      "rule(s)"}}}
    core.apply_run_conditions(results)
    assert results["valid"] == "unknown"
    assert results["checkers"]["availability"]["valid"] == "unknown"
    assert results["reason"].startswith("host fault(s) still in force after the final "
                                        "phase: h1: iptables chain GTCHECK")
    # a violation elsewhere stays one
    results = {"checkers": {"availability": {"valid": True}, "convergence": {"valid": False}},
               "run": {"host_faults_in_force": {"h1": "cut not undone"}}}
    core.apply_run_conditions(results)
    assert results["valid"] is False and "already breaks a promise" in results["reason"]


def test_iptables_nft_1_8_9_saying_incompatible_for_a_missing_chain_means_no_chain(
        monkeypatch):
    """iptables-nft 1.8.9 (this machine's) answers `-S GTCHECK` on a fresh host, where no
    chain exists, with "chain `GTCHECK' in table `filter' is incompatible"; the start of
    a run must read that as no chain (confirmed by `-C INPUT -j GTCHECK`, which says the
    chain does not exist), not log that it could not look."""
    fleet, n, logged = leftover_nemesis(monkeypatch, {}, set())
    run = n._run

    def nft_1_8_9(host, argv, sudo=True):
        args = list(argv[3:])
        if args == ["-S", "GTCHECK"]:
            fleet.commands.append((host, tuple(argv)))
            return 1, ("iptables v1.8.9 (nf_tables): chain `GTCHECK' in table `filter' is "
                       "incompatible, use 'nft' tool.")
        if args == ["-C", "INPUT", "-j", "GTCHECK"] and host == "h1":
            fleet.commands.append((host, tuple(argv)))
            return 2, "iptables v1.8.9 (nf_tables): Chain 'GTCHECK' does not exist"
        return run(host, argv, sudo)
    monkeypatch.setattr(n, "_run", nft_1_8_9)
    assert n._chain_rules("h1") is None
    with pytest.raises(SetupError, match="incompatible"):  # h2's -C does not confirm it
        n._chain_rules("h2")
    assert n.clear_left_behind() == {}
    assert [m for m in logged if "h1" in m] == []


def test_the_final_heal_waits_for_a_fault_still_in_flight(nemesis):
    """A worker restart still running when the main phase's time limit cut it (recorded
    info, its runner thread abandoned) and the final heal, from another thread: the heal
    waits for the restart, then undoes it; never two restarts of one host at once."""
    import threading
    import time

    fleet, n = nemesis()
    started, release = threading.Event(), threading.Event()
    busy: list[str] = []
    overlaps: list[str] = []

    def slow_restart(host, prefix=None, worker_args=None):
        if busy:
            overlaps.append(host)
        busy.append(host)
        started.set()
        release.wait(5)
        fleet.restarted.append((host, tuple(worker_args or ())))
        busy.remove(host)
    fleet.restart = slow_restart
    skew = threading.Thread(target=n.invoke, args=(None, {
        "f": "skew-host-clock", "value": {"host": "h2", "ms": 2000.0}}))
    n._run = lambda host, argv, sudo=True: (0, "/usr/bin/faketime")
    skew.start()
    assert started.wait(5)
    healed: list[dict] = []
    heal = threading.Thread(target=lambda: healed.append(n.invoke(None, {"f": "heal",
                                                                         "value": None})))
    heal.start()
    time.sleep(0.2)
    assert healed == []  # waiting for the skew's restart
    release.set()
    skew.join(5)
    heal.join(5)
    assert healed and healed[0]["type"] == "ok"
    assert overlaps == []
    assert fleet.restarted == [("h2", ("--faketime", "+2.000s")), ("h2", ())]
    assert n.in_force() == {}


def _skewing_fleet(moved_ns: int):
    """A fleet double whose worker restart under faketime moves the host's measured clock
    by `moved_ns` (its offset, control minus worker, drops by as much)."""
    from suite.remote.clock import ClockEstimate, ClockTrack
    fleet = FakeFleet()
    before = ClockEstimate(offset_ns=-3_000_000, bound_ns=200_000, rtt_ns=300_000,
                           samples=16, at_ns=1_000_000_000)
    for s in fleet.sessions.values():
        s.track = ClockTrack.start(before)

    def restart(host, prefix=None, worker_args=None):
        fleet.restarted.append((host, tuple(worker_args or ())))
        moved = moved_ns if worker_args else 0
        fleet.sessions[host].track = ClockTrack.start(ClockEstimate(
            offset_ns=before.offset_ns - moved, bound_ns=300_000, rtt_ns=500_000,
            samples=16, at_ns=3_000_000_000))
    fleet.restart = restart
    n = HostNemesis(fleet)
    n._run = lambda host, argv, sudo=True: (0, "/usr/bin/faketime")
    return fleet, n


def test_a_clock_skew_is_measured_and_ok_when_it_is_what_was_asked():
    fleet, n = _skewing_fleet(2_000_600_000)  # 2000.6 ms: within the error of 0.7 ms
    done = n.invoke(None, {"f": "skew-host-clock", "value": {"host": "h1", "ms": 2000.0}})
    assert fleet.restarted == [("h1", ("--faketime", "+2.000s"))]
    assert done["type"] == "ok", done
    assert done["skew_ms_measured"] == 2000.6
    assert done["skew_ms_error"] == 0.7  # bounds 0.2 + 0.3 ms, 2 s apart at 100 ppm: 0.2 ms


def test_a_clock_skew_not_as_asked_is_not_ok_and_says_how_far_it_moved():
    """What libfaketime did by default: the worker's monotonic clock faked as the faked
    wall time, about 56 years from the boot-based one, for a fault asking 2 s."""
    fleet, n = _skewing_fleet(56 * 365 * 86400 * 10**9)
    done = n.invoke(None, {"f": "skew-host-clock", "value": {"host": "h2", "ms": 2000.0}})
    assert done["type"] == "info" and done["error"] == "skew-not-as-asked", done
    assert "not +2000.000 ms" in done["message"]
    assert n.in_force() != {}  # a worker under faketime is still there: heal restarts it
    n.invoke(None, {"f": "heal", "value": None})
    assert fleet.restarted[-1] == ("h2", ())
    assert n.state["h2"].unskewed is None and not n.state["h2"].restart


def test_a_second_skew_is_measured_from_the_clock_before_any_skew():
    fleet, n = _skewing_fleet(-250_000_000)
    n.invoke(None, {"f": "skew-host-clock", "value": {"host": "h1", "ms": -250.0}})
    done = n.invoke(None, {"f": "skew-host-clock", "value": {"host": "h1", "ms": -250.0}})
    assert done["type"] == "ok" and done["skew_ms_measured"] == -250.0, done

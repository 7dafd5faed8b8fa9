"""Nemesis packages: fault schedules in the simulator, composition, the final heal, and
the nemesis performing fault operations through a target's fault API."""

import pytest

from nemesis import FAMILIES, FaultNemesis, family_package, package, parse_nemesis_names
from results.history import Op, fault_periods
from suite.errors import BadInput, SetupError
from suite.generator import invocations, nemesis, simulate, time_limit

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def fault_schedule(names, seed, seconds=10.0, interval_s=1.0, witness=None, regions=REGIONS):
    p = package(names, regions=regions, witness=witness, interval_s=interval_s, seed=seed)
    ops = invocations(simulate(nemesis(time_limit(seconds, p.generator)), concurrency=1))
    # the schedule's grid starts at the run's time 0: keep what falls in [0, seconds)
    return [(o["time"], o["f"], o["value"]) for o in ops if o["time"] < seconds * 1e9]


def test_composed_families_take_turns_one_fault_at_a_time():
    ops = fault_schedule("isolate,outage", seed=1, seconds=12.5, interval_s=1.0)
    assert [(round(t / 1e9), f) for t, f, _ in ops] == [
        (1, "isolate"), (2, "heal"), (3, "stop"), (4, "start"),
        (5, "isolate"), (6, "heal"), (7, "stop"), (8, "start"),
        (9, "isolate"), (10, "heal"), (11, "stop"), (12, "start")]


def test_each_family_begins_and_ends_its_fault_on_the_interval():
    ends = {"isolate": "heal", "link": "heal", "latency": "heal", "clock": "heal",
            "pause-replication": "resume-replication", "outage": "start", "slow": "heal",
            "pause": "resume", "oneway-latency": "heal", "oneway-link": "heal",
            "copy-lag": "unlag-copy"}
    begins = {"isolate": "isolate", "link": "cut", "latency": "delay", "clock": "skew-clock",
              "pause-replication": "pause-replication", "outage": "stop", "slow": "slow",
              "pause": "pause", "oneway-latency": "delay-oneway", "oneway-link": "cut-oneway",
              "copy-lag": "lag-copy"}
    for name in FAMILIES:
        ops = fault_schedule(name, seed=1, seconds=4.5, interval_s=1.0)
        assert [f for _, f, _ in ops] == [begins[name], ends[name]] * 2, name
        # wait 1 s, begin, wait 1 s, end, wait 1 s, ...: one op a second (+1 ms each)
        assert [round(t / 1e9) for t, _, _ in ops] == [1, 2, 3, 4], name


def test_one_way_faults_name_a_direction_and_their_size():
    # issue 21: asymmetric paths, one direction delayed or cut
    for t, f, v in fault_schedule("oneway-latency,oneway-link", seed=4, seconds=30):
        if f in ("delay-oneway", "cut-oneway"):
            assert v["a"] != v["b"] and {v["a"], v["b"]} <= set(REGIONS)
        if f == "delay-oneway":
            assert v["ms"] > 0


def test_fault_targets_come_from_the_topology():
    for t, f, v in fault_schedule("isolate,link,latency,clock,outage,pause-replication",
                                  seed=4, seconds=60):
        if f in ("isolate", "stop", "pause-replication", "skew-clock"):
            assert v["region"] in REGIONS
        if f in ("cut", "delay"):
            assert v["a"] != v["b"] and {v["a"], v["b"]} <= set(REGIONS)
        if f == "delay":
            assert v["ms"] > 0
        if f == "skew-clock":
            assert v["ms"] != 0


def test_the_witness_can_be_isolated_or_stopped_but_holds_no_data_to_skew():
    ops = fault_schedule("isolate,outage,clock,pause-replication", seed=2, seconds=200,
                         regions=REGIONS[:2], witness="us-west-2")
    hit = {(f, v["region"]) for _, f, v in ops if v and "region" in v}
    assert ("isolate", "us-west-2") in hit or ("stop", "us-west-2") in hit
    assert not any(r == "us-west-2" for f, r in hit if f in ("skew-clock", "pause-replication"))


def test_composition_draws_every_family_and_one_seed_gives_one_schedule():
    a = fault_schedule("isolate,link", seed=9, seconds=40)
    assert a == fault_schedule("isolate,link", seed=9, seconds=40)
    assert a != fault_schedule("isolate,link", seed=10, seconds=40)
    assert {f for _, f, _ in a} == {"isolate", "cut", "heal"}


def test_final_generator_heals_everything():
    p = package("outage,link", regions=REGIONS, seed=0)
    ops = invocations(simulate(nemesis(p.final_generator), concurrency=1))
    # one heal ends every fault: the two families' identical final heals run once
    assert [(o["f"], o["value"]) for o in ops] == [("heal", None)]
    assert p.nemesis.fs() == {"stop", "start", "cut", "heal"}


def test_names_and_interval_are_checked():
    assert parse_nemesis_names("none") == [] and parse_nemesis_names("") == []
    assert parse_nemesis_names("isolate, link,isolate") == ["isolate", "link"]
    assert parse_nemesis_names("all") == list(FAMILIES)
    with pytest.raises(BadInput, match="unknown nemesis partition"):
        parse_nemesis_names("isolate,partition")
    with pytest.raises(BadInput, match="interval"):
        package("isolate", regions=REGIONS, interval_s=0)
    assert package("none", regions=REGIONS).nemesis is None
    with pytest.raises(BadInput, match="unknown nemesis"):
        family_package("partition", regions=REGIONS)


class RecordingTarget:
    """A fault API test double: the nemesis is under test here, not the emulator."""

    name = "recording"
    has_faults = True

    def __init__(self, fail_with=None):
        self.calls, self.fail_with = [], fail_with

    def fault(self, action, value):
        self.calls.append((action, value))
        if self.fail_with:
            raise self.fail_with
        return {"ok": True}


def op(f, value):
    return Op(index=0, time=0, type="invoke", process="nemesis", f=f, value=value)


def test_nemesis_performs_faults_and_classifies_their_outcome():
    target = RecordingTarget()
    n = FaultNemesis({"isolate", "heal"}).setup({"target": target})
    as_dict = n.invoke({"target": target}, {"f": "isolate", "value": {"region": "us-west-2"},
                                            "process": "nemesis", "type": "invoke"})
    assert as_dict["type"] == "ok" and as_dict["value"] == {"region": "us-west-2"}
    target.calls.clear()
    done = n.invoke({"target": target}, op("isolate", {"region": "us-east-2"}))
    assert (done.type, done.value) == ("ok", {"region": "us-east-2"})
    assert n.invoke({"target": target}, op("cut", {"a": "x", "b": "y"})).type == "fail"
    assert target.calls == [("isolate", {"region": "us-east-2"})]
    broken = RecordingTarget(fail_with=SetupError("admin API unreachable"))
    unknown = n.invoke({"target": broken}, op("isolate", {"region": "us-east-2"}))
    assert (unknown.type, unknown.error) == ("info", "fault-api:SetupError")
    refused = RecordingTarget(fail_with=BadInput("no such region"))
    assert n.invoke({"target": refused}, op("isolate", {"region": "mars"})).type == "fail"
    n.teardown({"target": target})
    assert target.calls[-1] == ("heal", None)


def test_fault_periods_follow_the_recorded_nemesis_ops():
    target = RecordingTarget()
    n = FaultNemesis({"stop", "start", "heal"})
    ops = []
    for i, (f, v) in enumerate([("stop", {"region": "us-east-2"}), ("start", {"region": "us-east-2"})]):
        inv = op(f, v).replace(time=i * 10)
        ops += [inv, n.invoke({"target": target}, inv).replace(time=i * 10 + 1)]
    assert [(p.f, p.start, p.end) for p in fault_periods(ops)] == [("stop", 1, 10)]


def test_a_target_without_a_fault_api_is_refused_at_setup():
    class NoFaults:
        name = "aws"
        has_faults = False
    with pytest.raises(SetupError, match="no fault API"):
        FaultNemesis({"isolate"}).setup({"target": NoFaults()})


def _schedule(name, *, pattern, seconds, interval_s=1.0, seed=1, mode="async",
              time_limit_s=None, latency_ms=None):
    from nemesis import FaultOptions
    options = FaultOptions() if latency_ms is None else FaultOptions(slow_ms=latency_ms)
    p = family_package(name, regions=REGIONS, interval_s=interval_s, seed=seed,
                       pattern=pattern, mode=mode, time_limit_s=time_limit_s,
                       options=options)
    ops = invocations(simulate(nemesis(time_limit(seconds, p.generator)), concurrency=1))
    return [(o["time"] / 1e9, o["f"], o["value"]) for o in ops if o["time"] < seconds * 1e9]


def test_slow_hits_the_journal_leader_in_mrsc_with_the_size_asked():
    from nemesis.packages import journal_leader
    leader = journal_leader("strong", REGIONS, None)
    assert leader in REGIONS
    ops = _schedule("slow", pattern="grid", seconds=8.5, mode="strong", latency_ms=450)
    assert {(f, v["region"], v["ms"]) for _, f, v in ops if f == "slow"} == {
        ("slow", leader, 450)}
    regions = {v["region"] for _, f, v in _schedule("slow", pattern="grid", seconds=40)
               if f == "slow"}
    assert len(regions) > 1  # async: any region


def test_pause_ends_with_resume_of_the_same_region():
    ops = _schedule("pause", pattern="grid", seconds=12.5, mode="strong")
    begun = [v["region"] for _, f, v in ops if f == "pause"]
    ended = [v["region"] for _, f, v in ops if f == "resume"]
    assert begun and begun == ended
    periods = fault_periods([Op(index=i, time=int(t * 1e9), type=k, process="nemesis",
                                f=f, value=v)
                             for i, (t, f, v) in enumerate(ops) for k in ("invoke", "ok")])
    assert [p.f for p in periods] == ["pause"] * len(begun)
    assert all(p.end is not None for p in periods)


def test_random_schedule_is_seeded_and_differs_from_the_grid():
    a = _schedule("isolate", pattern="random", seconds=20, seed=5)
    b = _schedule("isolate", pattern="random", seconds=20, seed=5)
    c = _schedule("isolate", pattern="random", seconds=20, seed=6)
    assert a == b and a != c
    grid = _schedule("isolate", pattern="grid", seconds=20, seed=5)
    assert [t for t, _, _ in a] != [t for t, _, _ in grid]
    times = [t for t, _, _ in a]
    assert times == sorted(times)
    lengths = [e - s for (s, f, _), (e, g, _) in zip(a[::2], a[1::2])]
    assert all(0.45 <= x <= 1.3 for x in lengths), lengths
    assert len(set(round(x, 3) for x in lengths)) > 1


@pytest.mark.parametrize("seed", range(6))
def test_end_in_fault_leaves_a_fault_open_when_the_main_phase_ends(seed):
    for limit in (7.0, 10.0, 13.3):
        ops = _schedule("link", pattern="end-in-fault", seconds=limit, seed=seed,
                        time_limit_s=limit, interval_s=2.0)
        assert ops and ops[-1][1] == "cut", (limit, ops)   # begun and never healed
        assert limit - 4.0 <= ops[-1][0] < limit, (limit, ops)  # within one period

"""Quiet rounds after heals (suite/quiet.py): the generator, simulated; the settle time;
and the convergence judgement of a round."""

from __future__ import annotations

from checkers.async_props import Convergence
from results.history import Op
from suite import generator as g
from suite import quiet
from suite.config import Test
from workloads.generators import final_reads

NS = g.NS


def _main(heals=1):
    sched = []
    for _ in range(heals):
        sched += [g.sleep(1.0), {"f": "isolate", "value": {"region": "a"}}, g.sleep(1.0),
                  {"f": "heal", "value": None}]
    return g.time_limit(2.0 * heals + 2.0, g.clients_and_nemesis(
        g.repeat({"f": "write", "key": "k0", "value": 1}), sched))


def _sim(heals=1):
    w = quiet.quiet_reads(_main(heals), final_reads(["k0", "k1"]), settle_s=0.5,
                          triggers=quiet.heal_fs())
    return g.simulate(w, concurrency=3, complete=g.perfect(0.01))


def test_after_a_heal_clients_hold_for_the_settle_time_then_every_thread_reads_every_key():
    h = _sim()
    heal = next(o["time"] for o in h if o["f"] == "heal" and o["type"] == "ok")
    reads = [o for o in h if o.get("quiet")]
    invokes = [o for o in reads if o["type"] == "invoke"]
    assert sorted((o["process"], o["key"]) for o in invokes) == \
        [(p, k) for p in range(3) for k in ("k0", "k1")]
    assert all(o["quiet_round"] == 1 and o["consistent"] and "final" not in o for o in reads)
    assert min(o["time"] for o in invokes) == heal + NS // 2
    lo, hi = min(o["time"] for o in reads), max(o["time"] for o in reads)
    writes = [o for o in h if o["f"] == "write"]
    # no write runs between the heal and the end of the round; writes go on after it
    assert not [o for o in writes if heal < o["time"] < hi]
    assert [o for o in writes if o["time"] >= hi]
    assert [o for o in writes if o["time"] < heal]


def test_each_heal_starts_its_own_round():
    h = _sim(heals=2)
    assert {o["quiet_round"] for o in h if o.get("quiet")} == {1, 2}


def test_no_heal_means_no_quiet_round_and_the_same_operations():
    main = g.time_limit(1.0, g.clients(g.repeat({"f": "write", "key": "k0", "value": 1})))
    plain = g.simulate(main, concurrency=2)
    wrapped = g.simulate(quiet.quiet_reads(main, final_reads(["k0"]), settle_s=0.5,
                                           triggers=quiet.heal_fs()), concurrency=2)
    assert plain == wrapped


def test_settle_time_scales_with_the_emulators_replication_lag():
    one = quiet.settle_s(Test(mode="async", latency_scale=1.0))
    assert abs(one - 0.51) < 1e-9  # (33 + 8 + 10) ms x 10 on the default US regions
    assert quiet.settle_s(Test(mode="async", latency_scale=4.0)) == 4 * one
    assert quiet.settle_s(Test(mode="async", latency_scale=0.0)) == quiet.MIN_SETTLE_S
    assert quiet.enabled(Test(mode="async", nemesis=("link",)))
    assert not quiet.enabled(Test(mode="async"))
    assert not quiet.enabled(Test(mode="strong", nemesis=("isolate",)))
    assert not quiet.enabled(Test(mode="async", nemesis=("link",), quiet_reads=False))


def test_settle_time_covers_the_delay_a_message_in_flight_still_carries():
    # issue 21: a write replicated just before the heal of a 300 ms one-way delay lands
    # up to 300 ms after it; the quiet round must not read before that
    base = quiet.settle_s(Test(mode="async", latency_scale=0.1))
    slow = quiet.settle_s(Test(mode="async", latency_scale=0.1, nemesis=("oneway-latency",)))
    assert abs(slow - base - 0.3) < 1e-9
    sized = quiet.settle_s(Test(mode="async", latency_scale=0.1, nemesis=("latency", "link"),
                                nemesis_latency_ms=80.0))
    assert abs(sized - base - 0.08) < 1e-9


def _round(values, *, start=10, writes=(), nemesis=()):
    ops, i = [], 0
    for proc, (region, v) in enumerate(values.items()):
        for typ, t, val in (("invoke", start, None), ("ok", start + 1, v)):
            ops.append(Op(index=i, type=typ, process=proc, f="read", key="k", value=val,
                          time=t * NS, region=region, consistent=True,
                          extra={"quiet": True, "quiet_round": 1}))
            i += 1
    for typ, t in writes:
        ops.append(Op(index=i, type=typ, process=9, f="write", key="k", value=7,
                      time=t * NS, region="a"))
        i += 1
    for typ, f, t in nemesis:
        ops.append(Op(index=i, type=typ, process="nemesis", f=f, value=None, time=t * NS))
        i += 1
    return sorted(ops, key=lambda o: o.time)


def _check(ops):
    return Convergence().check({"regions": ["a", "b"]}, ops, {})


def test_a_quiet_round_that_disagrees_is_a_divergence_naming_the_round():
    r = _check(_round({"a": 1, "b": 2}))
    assert r["valid"] is False
    assert r["anomalies"][0]["quiet_round"] == 1
    assert "quiet round 1" in r["anomalies"][0]["explanation"]
    assert _check(_round({"a": 1, "b": 1}))["valid"] is True


def test_a_quiet_round_is_not_judged_while_a_write_may_land_or_a_fault_is_in_force():
    info_write = _round({"a": 1, "b": 2}, writes=[("invoke", 5), ("info", 6)])
    assert _check(info_write)["valid"] is not False
    assert _check(info_write)["quiet_keys_judged"] == 0
    done_write = _round({"a": 1, "b": 2}, writes=[("invoke", 5), ("ok", 6)])
    assert _check(done_write)["valid"] is False
    faulted = _round({"a": 1, "b": 2}, nemesis=[("invoke", "isolate", 1), ("ok", "isolate", 2)])
    assert _check(faulted)["quiet_rounds_judged"] == 0


def test_no_hold_after_a_heal_too_late_for_a_round_before_the_main_phase_ends():
    late = quiet.quiet_reads(_main(), final_reads(["k0"]), settle_s=0.5,
                             triggers=quiet.heal_fs(), time_limit_s=2.3)
    h = g.simulate(late, concurrency=3, complete=g.perfect(0.01))
    heal = next(o["time"] for o in h if o["f"] == "heal" and o["type"] == "ok")
    assert not [o for o in h if o.get("quiet")]
    assert [o for o in h if o["f"] == "write" and heal < o["time"] < heal + NS // 2]


def test_the_end_of_a_fault_inside_one_region_starts_no_quiet_round():
    # copy-lag leaves replication between regions alone: its end is no trigger, heal is
    fs = quiet.heal_fs()
    assert "unlag-copy" not in fs and {"heal", "resume", "start"} <= fs


def test_a_fault_that_begins_during_the_hold_drops_the_round_and_the_clients_go_on():
    # issue 21: heals every 0.3 s and a 0.25 s hold kept the quick battery's clients held
    # for rounds that a fault in force made unjudgeable; the heal after it holds again
    sched = [g.sleep(1.0), {"f": "isolate", "value": {"region": "a"}}, g.sleep(1.0),
             {"f": "heal", "value": None}, g.sleep(0.2),
             {"f": "isolate", "value": {"region": "a"}}, g.sleep(0.2),
             {"f": "heal", "value": None}]
    main = g.time_limit(4.0, g.clients_and_nemesis(
        g.repeat({"f": "write", "key": "k0", "value": 1}), sched))
    h = g.simulate(quiet.quiet_reads(main, final_reads(["k0"]), settle_s=0.5,
                                     triggers=quiet.heal_fs()),
                   concurrency=3, complete=g.perfect(0.01))
    heals = [o["time"] for o in h if o["f"] == "heal" and o["type"] == "ok"]
    fault2 = [o["time"] for o in h if o["f"] == "isolate" and o["type"] == "invoke"][1]
    writes = [o["time"] for o in h if o["f"] == "write" and o["type"] == "invoke"]
    # held from the first heal until the fault began; then writing again during it
    assert not [t for t in writes if heals[0] < t < fault2]
    assert [t for t in writes if fault2 < t < heals[1]]
    # one round, after the second heal and its settle time, none for the first
    rounds = {o["quiet_round"] for o in h if o.get("quiet")}
    quiet_invokes = [o["time"] for o in h if o.get("quiet") and o["type"] == "invoke"]
    assert len(rounds) == 1 and min(quiet_invokes) == heals[1] + NS // 2

"""Workload generators, run in the harness's simulator: exact schedules, one per seed."""

from suite.generator import clients, invocations, simulate, time_limit

from workloads import counter, demo, register
from workloads import set as set_workload
from workloads.base import WorkloadOptions
from workloads.generators import UniqueOps
from workloads.generators import (FINAL_READ_ATTEMPTS, FINAL_READ_GAP_S, Steps,
                                  final_reads)


def schedule(gen, concurrency=3):
    """The invocation sequence: (process, f, key, value, consistent, time) per op."""
    return [(o["process"], o["f"], o.get("key"), o.get("value"), o.get("consistent"), o["time"])
            for o in invocations(simulate(clients(time_limit(0.05, gen)),
                                          concurrency=concurrency, nemesis=False))]


def gen_of(module, seed):
    keys = tuple(f"k{i}" for i in range(4))
    from workloads.generators import UniqueOps
    return UniqueOps(module.choose_op(keys), seed)


def test_same_seed_same_schedule_and_another_seed_another():
    for module in (register, counter, set_workload):
        a, b, c = schedule(gen_of(module, 11)), schedule(gen_of(module, 11)), schedule(gen_of(module, 12))
        assert a == b and len(a) >= 100
        assert a != c


def test_register_written_values_are_unique_and_cas_aims_at_a_written_value():
    ops = schedule(gen_of(register, 5))
    written = [o[3] if o[1] == "write" else o[3][1] for o in ops if o[1] in ("write", "cas")]
    values = [v for v in written if v is not None]  # None: a delete (issue 21)
    assert len(values) == len(set(values)) and values == sorted(values)
    assert None in written
    seen: dict = {}
    for _, f, key, value, _, _ in ops:
        if f == "cas":
            assert value[0] == seen[key]
        if f in ("write", "cas") and (value if f == "write" else value[1]) is not None:
            seen[key] = value if f == "write" else value[1]
    kinds = {(o[1], o[4]) for o in ops}
    assert {("read", True), ("read", False), ("write", None), ("cas", None)} <= kinds


def test_register_reads_and_deletes_use_every_path_of_the_mode():
    from workloads.client import DELETE_PATHS, READ_PATHS
    gen = UniqueOps(register.choose_op(("k0", "k1"), "async"), 7)
    ops = invocations(simulate(clients(time_limit(0.2, gen)), concurrency=3, nemesis=False))
    reads = {(o["path"], o["consistent"]) for o in ops if o["f"] == "read"}
    assert {p for p, _ in reads} == set(READ_PATHS)
    assert ("TransactGetItems", False) not in reads and ("Query", False) in reads
    deletes = {o["path"] for o in ops if o["f"] == "write" and o["value"] is None}
    assert deletes == set(DELETE_PATHS)
    strong = UniqueOps(register.choose_op(("k0", "k1"), "strong"), 7)
    ops = invocations(simulate(clients(time_limit(0.2, strong)), concurrency=3, nemesis=False))
    assert not {o.get("path") for o in ops} & {"TransactGetItems", "TransactWriteItems"}


def test_set_elements_are_unique_and_counter_adds_one():
    adds = [o[3] for o in schedule(gen_of(set_workload, 3)) if o[1] == "add"]
    assert len(adds) == len(set(adds))
    assert {o[3] for o in schedule(gen_of(counter, 3)) if o[1] == "add"} == {1}


def test_final_reads_cover_every_key_on_every_thread():
    ops = invocations(simulate(final_reads(["k0", "k1"]), concurrency=3, nemesis=False))
    assert sorted((o["process"], o["key"]) for o in ops) == [
        (t, k) for t in range(3) for k in ("k0", "k1")]
    assert all(o["consistent"] is True and o["final"] is True for o in ops)


def test_final_reads_with_regions_read_every_key_once_per_region_shared_by_its_threads():
    # issue 23: thread t is in region t mod 3; the region's threads split the keys, so
    # each reads a share in turn (one operation at a time) and every region reads every
    # key exactly once
    keys = [f"k{i}" for i in range(5)]
    history = simulate(final_reads(keys, regions=3), concurrency=7, nemesis=False)
    ops = invocations(history)
    by_region: dict = {}
    for o in ops:
        by_region.setdefault(o["process"] % 3, []).append(o["key"])
        assert o["consistent"] is True and o["final"] is True and o["f"] == "read"
    assert {r: sorted(ks) for r, ks in by_region.items()} == {r: keys for r in range(3)}
    shares = {p: [o["key"] for o in ops if o["process"] == p] for p in range(7)}
    # region 0 has threads 0, 3, 6; regions 1 and 2 have two threads each
    assert shares == {0: ["k0", "k3"], 3: ["k1", "k4"], 6: ["k2"],
                      1: ["k0", "k2", "k4"], 4: ["k1", "k3"],
                      2: ["k0", "k2", "k4"], 5: ["k1", "k3"]}
    # one operation at a time per process: each invocation follows its last completion
    open_ops: set = set()
    for o in history:
        if o["type"] == "invoke":
            assert o["process"] not in open_ops
            open_ops.add(o["process"])
        else:
            open_ops.discard(o["process"])


def test_a_shared_final_read_is_retried_on_its_thread_after_a_crash():
    # an `info` retires the process; its thread goes on as a fresh process and reads the
    # key again (UntilAnswered), then the rest of its share
    first = {"k0": True}

    def complete(test, ctx, op):
        kind = "info" if first.pop(op["key"], False) and op["process"] == 0 else "ok"
        return {**op, "type": kind, "time": op["time"] + 1}

    done = [o for o in simulate(final_reads(["k0", "k1", "k2"], regions=2), concurrency=4,
                                nemesis=False, complete=complete) if o["type"] != "invoke"]
    region0 = [(o["process"], o["key"], o["type"]) for o in done if o["process"] % 2 == 0]
    assert sorted(region0) == [(0, "k0", "info"), (2, "k1", "ok"), (4, "k0", "ok"),
                               (4, "k2", "ok")]


def test_the_keyed_workloads_final_reads_cover_every_key_in_every_region_once():
    opts = WorkloadOptions(keys=8, concurrency=6)
    for module in (register, counter, set_workload):
        w = module.workload(opts)
        ops = invocations(simulate(w.final_generator, concurrency=6, nemesis=False))
        assert sorted((o["process"] % 3, o["key"]) for o in ops) == sorted(
            (r, k) for r in range(3) for k in w.keys), module.__name__
        assert max(sum(o["process"] == p for o in ops) for p in range(6)) == 4


def test_a_final_read_without_an_answer_is_retried_until_answered():
    # issue 21 item 4: a final SC read that got a 503 (a region catching up after an
    # outage) or timed out is tried again within the final phase, after a pause
    outcomes = iter(["fail", "info", "ok", "ok"])

    def complete(test, ctx, op):
        kind = next(outcomes)
        return {**op, "type": kind, "time": op["time"] + 1,
                **({"error": "ServiceUnavailable"} if kind == "fail" else {})}

    done = [o for o in simulate(final_reads(["k0", "k1"]), concurrency=1, nemesis=False,
                                complete=complete) if o["type"] != "invoke"]
    assert [(o["key"], o.get("attempt", 1), o["type"]) for o in done] == [
        ("k0", 1, "fail"), ("k0", 2, "info"), ("k0", 3, "ok"), ("k1", 1, "ok")]
    assert all(o["final"] is True for o in done)
    # the retries wait FINAL_READ_GAP_S each: the region gets time to catch up
    assert done[2]["time"] >= 2 * FINAL_READ_GAP_S * 1e9


def test_a_final_read_gives_up_after_its_last_attempt():
    done = [o for o in simulate(final_reads(["k0"]), concurrency=1, nemesis=False,
                                complete=lambda t, c, op: {**op, "type": "fail",
                                                           "time": op["time"] + 1})
            if o["type"] != "invoke"]
    assert len(done) == FINAL_READ_ATTEMPTS


def test_steps_retry_a_conflict_as_a_new_operation():
    steps = Steps(({"f": "add", "key": "c", "value": 1, "step": 1},
                   {"f": "add", "key": "c", "value": 1, "step": 2}),
                  frozenset({"ReplicatedWriteConflict"}), 3)
    conflicts = iter([True, True, False, False])

    def complete(test, ctx, op):
        if next(conflicts):
            return {**op, "type": "fail", "error": "ReplicatedWriteConflict", "time": op["time"] + 1}
        return {**op, "type": "ok", "time": op["time"] + 1}

    done = [o for o in simulate(steps, concurrency=1, nemesis=False, complete=complete)
            if o["type"] != "invoke"]
    assert [(o["step"], o["attempt"], o["type"]) for o in done] == [
        (1, 1, "fail"), (1, 2, "fail"), (1, 3, "ok"), (2, 1, "ok")]


def test_steps_give_up_after_the_last_attempt_and_never_retry_other_failures():
    steps = Steps(({"f": "add", "key": "c", "value": 1, "step": 1},
                   {"f": "add", "key": "c", "value": 1, "step": 2}),
                  frozenset({"ReplicatedWriteConflict"}), 2)

    def complete(test, ctx, op):
        error = "ReplicatedWriteConflict" if op["step"] == 1 else "ConditionalCheckFailed"
        return {**op, "type": "fail", "error": error, "time": op["time"] + 1}

    done = [o for o in simulate(steps, concurrency=1, nemesis=False, complete=complete)
            if o["type"] != "invoke"]
    assert [(o["step"], o["attempt"]) for o in done] == [(1, 1), (1, 2), (2, 1)]


def test_multi_writer_demo_is_five_increments_per_region_thread():
    w = demo.multi_writer(WorkloadOptions(mode="async", latency_scale=0.0))
    ops = invocations(simulate(w.generator, concurrency=4, nemesis=False))
    warm_up, adds = ops[:3], ops[3:]
    assert sorted((o["process"], o["f"], "step" in o) for o in warm_up) == [
        (t, "read", False) for t in range(3)]
    assert sorted((o["process"], o["step"]) for o in adds) == [
        (t, s) for t in range(3) for s in range(1, 6)]
    assert {o["f"] for o in adds} == {"add"}
    # every increment starts after every warm-up read (perfect completions take 1 ms)
    assert min(o["time"] for o in adds) >= max(o["time"] for o in warm_up) + 1_000_000


def test_single_writer_demo_writes_in_the_first_region_and_reads_in_the_others():
    w = demo.single_writer(WorkloadOptions(mode="async", latency_scale=1.0))
    ops = invocations(simulate(w.generator, concurrency=3, nemesis=False))
    writes = [o for o in ops if o["f"] == "add"]
    reads = [o for o in ops if o["f"] == "read" and "step" in o]
    assert len([o for o in ops if "step" not in o]) == 3  # one warm-up read per region
    assert {o["process"] for o in writes} == {0} and len(writes) == 5
    assert sorted({o["process"] for o in reads}) == [1, 2]
    assert len(reads) == 2 * 10 * 2  # two reader regions, ten iterations, an SC and an EC read
    # Paced: the ten iterations span well beyond one us-east-1 -> us-west-2 trip at scale 1.
    assert max(o["time"] for o in reads) >= 9 * demo.step_gap_s(1.0) * 1e9


def test_hot_keys_rotate_over_the_key_space_in_windows():
    from workloads.base import keyed_workload
    opts = WorkloadOptions(keys=6, hot_keys=2, rate=1e9, seed=3)
    w = keyed_workload("register", opts, register.choose_op)
    ops = invocations(simulate(clients(time_limit(10.0, w.generator.gen)), concurrency=3,
                               nemesis=False))[:600]
    windows = [{o["key"] for o in ops[i:i + 200]} for i in range(0, 600, 200)]
    assert windows == [{"k0", "k1"}, {"k2", "k3"}, {"k4", "k5"}]
    # the same values and op kinds as the uniform generator over the two slots
    same = keyed_workload("register", WorkloadOptions(keys=2, seed=3), register.choose_op)
    plain = invocations(simulate(clients(time_limit(10.0, same.generator.gen)), concurrency=3,
                                 nemesis=False))[:200]
    assert [(o["f"], o.get("value")) for o in ops[:200]] == \
        [(o["f"], o.get("value")) for o in plain]


def test_hot_keys_off_or_covering_every_key_leave_the_schedule_unchanged():
    from workloads.base import keyed_workload
    for hot in (0, 4, 9):
        w = keyed_workload("counter", WorkloadOptions(keys=4, hot_keys=hot, seed=5),
                           counter.choose_op)
        assert schedule(w.generator) == schedule(
            keyed_workload("counter", WorkloadOptions(keys=4, seed=5),
                           counter.choose_op).generator)


def test_set_full_extends_expiring_elements_acknowledged_in_the_same_region_once():
    from workloads import set_full as sf
    regions = ("us-east-1", "us-east-2", "us-west-2")
    gen = sf.DeleteAcked(UniqueOps(sf.chooser("async", ttl=True), 4), regions,
                         ("DeleteItem",), 6)
    ops = invocations(simulate(clients(time_limit(0.5, gen)), concurrency=3, nemesis=False))
    region_of = {o["value"]: regions[o["process"] % 3] for o in ops if o["f"] == "add"}
    expiring = {o["value"] for o in ops if o["f"] == "add" and o.get("ttl")}
    extends = [o for o in ops if o["f"] == "extend"]
    assert extends and len({o["value"] for o in extends}) == len(extends)  # once each
    for o in extends:  # A12: an element's expiry is extended where it was added
        assert o["value"] in expiring and regions[o["process"] % 3] == region_of[o["value"]]
        assert "ttl" not in o
    assert not any(o["f"] == "extend" for o in invocations(simulate(
        clients(time_limit(0.5, sf.DeleteAcked(UniqueOps(sf.chooser("async"), 4), regions,
                                               ("DeleteItem",), 6))),
        concurrency=3, nemesis=False)))

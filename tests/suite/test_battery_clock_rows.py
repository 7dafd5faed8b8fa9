"""The quick battery's async `clock` rows end inside a clock fault with every key in play
(suite/battery.py, QUICK_ROWS; issue 21): asserted from the fault schedule each row's Test
builds, as the run builds it (the registry's nemesis package, core.run_test's way), in the
simulator, not from wall time. On the grid the last clock round was healed 0.1 s before
the main phase ended, and the writes of those 0.1 s hid a write stamped below the current
version (`local-stamp-below-current`, A06). Every other row keeps the grid and its two
hot keys."""

import pytest

from suite import battery, registry
from suite.compose import compose_packages
from suite.generator import invocations, nemesis, simulate, time_limit

SEEDS = range(1, 11)


def main_phase_faults(test):
    """The fault operations of `test`'s main phase, in schedule seconds: what its nemesis
    package's generator gives before the time limit (the final heal is not in it)."""
    registry.load_plugins()
    package = compose_packages([registry.nemesis_factory(n)(test, None)
                                for n in test.nemesis])
    ops = invocations(simulate(nemesis(time_limit(test.time_limit, package.generator)),
                               concurrency=1))
    # the simulator's time limit counts from the first operation; the main phase ends at
    # schedule time `time_limit` from the run's start (suite/pace.py, Paced.end_ns)
    return [(o["time"] / 1e9, o["f"], o["value"]) for o in ops
            if o["time"] < test.time_limit * 1e9]


def quick_test(mode, workload, nemesis_name, seed):
    return battery.Plan(mode, workload, nemesis_name).test(
        seed=seed, settings=battery.QUICK, target="emulator", argv=())


@pytest.mark.parametrize("seed", SEEDS)
def test_every_async_clock_row_ends_its_main_phase_with_a_clock_skew_in_force(seed):
    registry.load_plugins()
    assert len(registry.WORKLOADS) >= 10
    for workload in sorted(registry.WORKLOADS):
        test = quick_test("async", workload, "clock", seed)
        assert test.nemesis_timing == "end-in-fault" and test.hot_keys == 0
        assert test.nemesis_interval == 0.3
        faults = main_phase_faults(test)
        assert faults, (workload, seed)
        # the last operation begins a skew and nothing heals it before the main phase
        # ends: the final generator's heal is the one that ends it, before the final reads
        last_at, last_f, last_value = faults[-1]
        assert last_f == "skew-clock" and abs(last_value["ms"]) > 0, faults
        assert last_at < test.time_limit, faults
        # in force for at least half a 0.3 s round of schedule time: 0.15 s, 30 paced
        # client operations (nemesis/packages.py turn_times holds a turn that would begin
        # after `limit - interval / 2` from that time, or a quarter round after the last
        # heal if that is later, which no turn of these seeds ends late enough to need)
        assert test.time_limit - last_at >= 0.15 - 1e-9, faults
        # and the run still has an earlier clock round, healed
        fs = [f for _, f, _ in faults]
        assert fs.count("skew-clock") >= 2 and fs.count("heal") == fs.count("skew-clock") - 1


def test_the_grid_ended_every_clock_row_healed_a_tenth_of_a_second_early():
    """What the change is against: the same rows with the grid timing (the quick battery
    before it) heal their last skew at 0.9 s of a 1 s main phase."""
    for seed in SEEDS:
        test = battery.Plan("async", "counter", "clock").test(
            seed=seed, settings={k: v for k, v in battery.QUICK.items() if k != "rows"},
            target="emulator", argv=())
        faults = main_phase_faults(test)
        assert faults[-1][1] == "heal" and faults[-1][0] == pytest.approx(0.9), faults


@pytest.mark.parametrize("mode,nemesis_name", [
    ("strong", "clock"), ("async", "none"), ("async", "isolate"), ("async", "link"),
    ("strong", "outage"), ("async", "copy-lag")])
def test_every_other_row_keeps_the_grid(mode, nemesis_name):
    test = quick_test(mode, "register", nemesis_name, 1)
    assert test.nemesis_timing == "grid" and test.hot_keys == 2
    if nemesis_name == "none":
        return
    faults = main_phase_faults(test)
    assert [round(t, 3) for t, _, _ in faults] == [0.15, 0.3, 0.45, 0.6, 0.75, 0.9]


def test_the_reproduce_line_of_a_clock_row_names_its_own_settings():
    b = battery.Battery([], 4, True, False, 0.0, dict(battery.QUICK))
    clock = battery.reproduce_argv(b, battery.Row("async", "counter", "clock", "invalid"))
    assert clock[clock.index("--nemesis-timing") + 1] == "end-in-fault"
    assert clock[clock.index("--hot-keys") + 1] == "0"
    assert clock[clock.index("--nemesis-interval") + 1] == "0.3"
    assert "--rows" not in clock
    for row in (battery.Row("async", "counter", "isolate", "invalid"),
                battery.Row("strong", "counter", "clock", "invalid")):
        other = battery.reproduce_argv(b, row)
        assert "--nemesis-timing" not in other and "--hot-keys" not in other  # defaults


def test_only_the_quick_battery_has_rows_of_their_own():
    assert battery.Plan("async", "register", "clock").test(
        seed=1, settings=battery.FULL, target="emulator", argv=()).nemesis_timing == "grid"
    # a row's own settings win over the battery's, for that row only
    settings = {**battery.QUICK, "nemesis_timing": "random", "hot_keys": 3}
    clock = battery.Plan("async", "register", "clock").test(
        seed=1, settings=settings, target="emulator", argv=())
    other = battery.Plan("async", "register", "link").test(
        seed=1, settings=settings, target="emulator", argv=())
    assert (clock.nemesis_timing, clock.hot_keys) == ("end-in-fault", 0)
    assert (other.nemesis_timing, other.hot_keys) == ("random", 3)

"""One seed, one operation schedule: the whole main phase a run would execute (workload
operations at the run's rate plus the composed fault schedule), simulated with no target.

The generator is built exactly as `suite.core.run_test` builds it, from the registries; the
simulator completes every operation, so the invocation sequence -- per process, with its
values and times -- is a pure function of the Test. Two runs of the same seed therefore
issue the same operations; a different seed issues different ones.
"""

import pytest

from suite import generator as gen
from suite import registry
from suite.compose import compose_packages
from suite.config import Test


def main_phase(test: Test):
    registry.load_plugins()
    from workloads import make_workload, options_from_test
    workload = make_workload(test.workload, options_from_test(test))
    package = compose_packages([registry.nemesis_factory(n)(test, None) for n in test.nemesis])
    main = gen.clients_and_nemesis(workload.generator, package.generator)
    return gen.time_limit(test.time_limit, main)


def schedule(test: Test, completions_seed: int = 0):
    ops = gen.simulate(main_phase(test), concurrency=test.concurrency,
                       complete=gen.random_completions(completions_seed, p_fail=0.05, p_info=0.02))
    per_process: dict = {}
    for op in gen.invocations(ops):
        per_process.setdefault(op["process"], []).append(
            (op["time"], op["f"], op.get("key"), op.get("value"), op.get("consistent")))
    return per_process


@pytest.mark.parametrize("workload", ["register", "counter", "set"])
def test_same_seed_same_schedule(workload):
    test = Test(workload=workload, mode="async", nemesis=("isolate", "link", "clock"), seed=42,
                time_limit=5.0, rate=200.0, nemesis_interval=0.5, concurrency=6, keys=3)
    a, b = schedule(test), schedule(test)
    assert a == b
    assert sum(len(v) for v in a.values()) > 500
    faults = [op for op in a["nemesis"] if op[1] != "heal"]
    assert {op[1] for op in faults} == {"isolate", "cut", "skew-clock"}
    other = schedule(Test(**{**test.to_json(), "seed": 43, "name": ""}))
    assert other != a
    assert [op[1:] for op in other["nemesis"]] != [op[1:] for op in a["nemesis"]]

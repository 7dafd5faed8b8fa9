"""The bank workload's set-up when its first region is out (issue 21: strong bank x outage
rows were "unknown", the accounts never set up, because the writing region was stopped
before the set-up was acknowledged).

- The generator, simulated: in strong mode a set-up attempt that failed or timed out is
  tried next in the next region; in async mode always in the writing region.
- `gtcheck run --mode strong --workload bank` through the CLI with us-east-1 stopped for
  the whole main phase (a fixed nemesis schedule): the set-up is acknowledged elsewhere,
  and the run is judged.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from suite.cli import main
from suite.generator import limit, simulate
from workloads.base import WorkloadOptions, region_of_thread
from workloads.bank import workload

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def _init_regions(mode: str) -> list[str]:
    w = workload(WorkloadOptions(mode=mode, regions=REGIONS, keys=4, concurrency=6))

    def complete(test, ctx, op):  # us-east-1 is down: every request there is refused
        region = region_of_thread(ctx.thread_of(op["process"]), REGIONS)
        down = region == REGIONS[0]
        return {**op, "type": "fail" if down else "ok", "time": op["time"] + 1_000_000,
                **({"error": "connection-refused"} if down else {})}
    ops = simulate(limit(40, w.generator), concurrency=6, nemesis=False, complete=complete)
    inits = [op for op in ops if op["f"] == "init" and op["type"] == "invoke"]
    return [region_of_thread(op["process"] % 6, REGIONS) for op in inits]


def test_a_strong_set_up_that_failed_is_tried_in_the_next_region():
    assert _init_regions("strong") == ["us-east-1", "us-east-2"]


def test_an_async_set_up_stays_in_the_writing_region():
    got = _init_regions("async")
    assert len(got) > 2 and set(got) == {"us-east-1"}


def test_strong_bank_is_judged_with_its_first_region_stopped_all_along(tmp_path):
    schedule = tmp_path / "schedule.json"
    schedule.write_text(json.dumps([{"at": 0, "f": "stop",
                                     "value": {"region": "us-east-1"}}]))
    result = CliRunner().invoke(main, [
        "run", "--workload", "bank", "--mode", "strong", "--nemesis-schedule",
        str(schedule), "--time-limit", "1.5", "--latency-scale", "0.1", "--rate", "100",
        "--keys", "4", "--seed", "7", "--store", str(tmp_path / "store")])
    assert "run directory:" in result.output, result.output
    run_dir = Path(result.output.split("run directory:")[1].split()[0])
    results = json.loads((run_dir / "results.json").read_text())
    bank = results["checkers"]["bank"]
    assert bank["valid"] is True, json.dumps(bank)[:2000]
    assert bank.get("set_up") != "unacknowledged" and bank["reads_judged"] > 0, bank
    history = [json.loads(line) for line in (run_dir / "history.jsonl").open()]
    inits = [op for op in history if op["f"] == "init" and op["type"] == "ok"]
    assert inits and inits[0]["region"] != "us-east-1"
    stopped = [op for op in history if op["process"] == "nemesis" and op["f"] == "stop"
               and op["type"] == "ok"]
    assert stopped and stopped[0]["time"] < inits[0]["time"]

"""A15 / M06-M07: the talk's single-writer demo, through `gtcheck run --workload
demo-single-writer` against the embedded emulator.

us-east-1 increments one counter five times while us-east-2 and us-west-2 read it with SC
and EC reads, ten iterations each. Both modes end on 5 everywhere. Async: the other
regions' SC reads lag behind the writer (reads before replication arrives see 0, and the
far region can skip values); MRSC: an SC read anywhere reflects every increment
acknowledged before it began.
"""

from pathlib import Path

import pytest
from click.testing import CliRunner

from results.history import pair, read_jsonl
from suite.cli import main

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def run_demo(tmp_path, mode):
    result = CliRunner().invoke(main, [
        "run", "--target", "emulator", "--mode", mode, "--workload", "demo-single-writer",
        "--nemesis", "none", "--time-limit", "20", "--concurrency", "3",
        "--latency-scale", "1.0", "--seed", "3", "--final-wait", "0.3",
        "--store", str(tmp_path / "store")])
    assert "run directory:" in result.output, result.output
    run_dir = Path(result.output.split("run directory:")[1].split()[0])
    return result, read_jsonl(run_dir / "history.jsonl")


def sc_reads_after_acked_writes(history):
    """(value read, increments acknowledged before the read began) for the demo's remote SC
    reads (those with a step: not the warm-up, not the final reads)."""
    pairs = [p for p in pair(op for op in history if op.process != "nemesis")]
    acked = sorted(p.end for p in pairs if p.invoke.f == "add" and p.type == "ok")
    out = []
    for p in pairs:
        if (p.invoke.f == "read" and p.invoke.consistent and p.type == "ok"
                and p.invoke.region != "us-east-1" and "step" in p.invoke.extra):
            out.append((p.complete.value, sum(1 for t in acked if t < p.start)))
    return out


def remote_sc_reads_of_a_run_ending_on_5(history):
    """The demo's 20 remote SC reads (sc_reads_after_acked_writes), after checking that the
    run, in either mode, ended on 5 in every region and made all 20 of them."""
    final = {op.region: op.value for op in history if op.extra.get("final") and op.type == "ok"}
    assert final == {r: 5 for r in REGIONS}, final
    reads = sc_reads_after_acked_writes(history)
    assert len(reads) == 20
    return reads


@pytest.mark.slow
def test_async_single_writer_ends_on_5_and_remote_sc_reads_lag(tmp_path):
    result, history = run_demo(tmp_path, "async")
    reads = remote_sc_reads_of_a_run_ending_on_5(history)
    assert any(value < acked for value, acked in reads), reads  # A03/A15: stale remote SC reads
    assert result.exit_code == 0, result.output
    assert "us-west-2 SC" in result.output and "us-east-1 write" in result.output


@pytest.mark.slow
def test_strong_single_writer_ends_on_5_and_sc_reads_see_every_acknowledged_write(tmp_path):
    result, history = run_demo(tmp_path, "strong")
    reads = remote_sc_reads_of_a_run_ending_on_5(history)
    assert all(value >= acked for value, acked in reads), reads  # M06
    assert result.exit_code == 0, result.output

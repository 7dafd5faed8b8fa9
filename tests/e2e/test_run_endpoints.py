"""`gtcheck run --target endpoints:FILE` end to end against a running DynamoDB-compatible
server (moto's, one region): state file -> target -> table -> boto3 clients -> history ->
results, through the CLI as a user runs it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from results.history import read_jsonl
from suite.cli import main
from tests.targets.conftest import moto_url  # noqa: F401 -- the fixture


@pytest.mark.parametrize("workload", ["register", "counter", "set"])
def test_run_against_running_endpoints(tmp_path, moto_url, workload):
    state = tmp_path / "emulator.json"
    state.write_text(json.dumps({"mode": "async", "regions": {"us-east-1": moto_url}}))
    store = tmp_path / "store"
    result = CliRunner().invoke(main, [
        "run", "--target", f"endpoints:{state}", "--mode", "async", "--regions", "us-east-1",
        "--workload", workload, "--nemesis", "none", "--time-limit", "1.5",
        "--concurrency", "2", "--rate", "60", "--keys", "2", "--seed", "5",
        "--final-wait", "0", "--store", str(store)])
    assert "run directory:" in result.output, result.output
    run_dir = Path(result.output.split("run directory:")[1].split()[0])
    history = read_jsonl(run_dir / "history.jsonl")
    done = [op for op in history if op.type != "invoke"]
    assert len(done) >= 10
    assert {op.region for op in history} == {"us-east-1"}
    # One region, no faults: every operation is answered; only a cas may lose its condition.
    assert all(op.type == "ok" or (op.f == "cas" and op.error == "ConditionalCheckFailed")
               for op in done), [op for op in done if op.type != "ok"][:3]
    final = [op for op in done if op.extra.get("final")]
    assert {op.key for op in final} == {"k0", "k1"} and all(op.consistent for op in final)
    test_json = json.loads((run_dir / "test.json").read_text())
    assert (test_json["workload"], test_json["seed"], test_json["target"]) == (
        workload, 5, f"endpoints:{state}")


@pytest.mark.slow
def test_run_against_a_running_emulator_injects_faults_over_its_admin_api(tmp_path):
    """An emulator someone else started (as `gtcheck emulator serve` does, with its state
    file): the run provisions its own table, injects faults over the admin HTTP API,
    collects version metadata, deletes its table, and leaves the emulator running."""
    from emulator import Deployment
    state = tmp_path / "emulator.json"
    with Deployment(latency_scale=0.2, state_file=state) as running:
        store = tmp_path / "store"
        result = CliRunner().invoke(main, [
            "run", "--target", f"endpoints:{state}", "--mode", "async", "--workload", "register",
            "--nemesis", "isolate,pause-replication", "--nemesis-interval", "0.3",
            "--time-limit", "1.5", "--rate", "100", "--keys", "2", "--seed", "9",
            "--latency-scale", "0.2", "--final-wait", "0.5", "--store", str(store)])
        assert "verdict: VALID" in result.output, result.output
        run_dir = Path(result.output.split("run directory:")[1].split()[0])
        history = read_jsonl(run_dir / "history.jsonl")
        faults = [(op.f, op.type) for op in history if op.process == "nemesis" and op.type != "invoke"]
        assert ("isolate", "ok") in faults and ("pause-replication", "ok") in faults, faults
        versions = json.loads((run_dir / "versions.json").read_text())
        assert set(versions) == {"us-east-1", "us-east-2", "us-west-2"}
        assert {v["value"] for r in versions.values() for v in r.values()} <= {
            op.value for op in history if op.f in ("write",) and op.type != "invoke"} | {
            op.value[1] for op in history if op.f == "cas" and op.type != "invoke"}
        # The emulator is still up, healed, and the run's table is gone.
        status = running.status()
        assert status["wan"]["isolated"] == [] and status["replication_paused"] == []
        assert status["tables"] == {}

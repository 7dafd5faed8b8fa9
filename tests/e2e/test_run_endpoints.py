"""`gtcheck run --target endpoints:FILE` end to end against a running DynamoDB-compatible
server (moto's, one region): state file -> target -> table -> boto3 clients -> history ->
results, through the CLI as a user runs it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from results.history import read_jsonl
from suite.cli import main


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server._server.server_address
    yield f"http://{host}:{port}"
    server.stop()


@pytest.mark.parametrize("workload", ["register", "counter", "set"])
def test_run_against_running_endpoints(tmp_path, moto_url, workload):
    state = tmp_path / "emulator.json"
    state.write_text(json.dumps({"mode": "async", "regions": {"us-east-1": moto_url}}))
    store = tmp_path / "store"
    result = CliRunner().invoke(main, [
        "run", "--target", f"endpoints:{state}", "--mode", "async", "--regions", "us-east-1",
        "--workload", workload, "--nemesis", "none", "--time-limit", "0.6",
        "--concurrency", "2", "--rate", "60", "--keys", "2", "--seed", "5",
        "--final-wait", "0", "--store", str(store)])
    assert "run directory:" in result.output, result.output
    run_dir = Path(result.output.split("run directory:")[1].split()[0])
    history = read_jsonl(run_dir / "history.jsonl")
    done = [op for op in history if op.type != "invoke"]
    assert len(done) >= 10
    assert {op.region for op in history} == {"us-east-1"}
    assert all(op.type == "ok" for op in done), [op for op in done if op.type != "ok"][:3]
    final = [op for op in done if op.extra.get("final")]
    assert {op.key for op in final} == {"k0", "k1"} and all(op.consistent for op in final)
    test_json = json.loads((run_dir / "test.json").read_text())
    assert (test_json["workload"], test_json["seed"], test_json["target"]) == (
        workload, 5, f"endpoints:{state}")

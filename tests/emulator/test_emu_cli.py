"""`gtcheck emulator serve` / `fault`: serve runs in a subprocess, fault through CliRunner."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulator.cli import emulator
from emulator.testing import client, get

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    state = tmp_path_factory.mktemp("emu") / "emulator.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--latency-scale", "0", "--state-file", str(state),
         "--regions", "us-east-1,us-east-2,us-west-2"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    try:
        line = json.loads(proc.stdout.readline())
        yield state, line
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert not state.exists()  # a clean stop removes its state file


def run(state, *args):
    return CliRunner().invoke(emulator, ["fault", "--state-file", str(state), *args])


def test_serve_prints_and_writes_endpoints(served):
    state, line = served
    written = json.loads(state.read_text())
    assert written["regions"] == line["regions"]
    assert set(line["regions"]) == {"us-east-1", "us-east-2", "us-west-2"}
    assert line["admin"].startswith("http://127.0.0.1:")
    c = client(line["regions"]["us-east-1"], "us-east-1")
    assert c.list_tables()["TableNames"] == []
    # One endpoint for every region, the region from the request's signature.
    assert written["endpoint"] == line["endpoint"]
    assert line["endpoint"] not in line["regions"].values()
    client(line["endpoint"], "us-west-2").create_table(
        TableName="cli-front", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert client(line["regions"]["us-west-2"], "us-west-2").list_tables()["TableNames"] == [
        "cli-front"]
    assert c.list_tables()["TableNames"] == []


@pytest.mark.parametrize("args", [
    ["isolate", "us-east-2"], ["cut", "us-east-1", "us-east-2"], ["cut-oneway", "us-east-1", "us-west-2"],
    ["delay", "us-east-1", "us-east-2", "50"], ["pause-replication"], ["pause-replication", "us-west-2"],
    ["resume-replication", "us-west-2"], ["resume-replication"], ["skew-clock", "us-west-2", "-250"],
    ["stop", "us-west-2"], ["start", "us-west-2"], ["status"], ["heal"],
])
def test_fault_actions_answer_one_json_line(served, args):
    state, _ = served
    r = run(state, *args)
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert answer["ok"] is True and answer["action"] == args[0]


def test_fault_state_is_visible_in_status(served):
    state, _ = served
    run(state, "cut", "us-east-1", "us-east-2")
    run(state, "skew-clock", "us-west-2", "1500")
    st = json.loads(run(state, "status").output)["status"]
    assert ["us-east-1", "us-east-2"] in st["wan"]["cut"] and ["us-east-2", "us-east-1"] in st["wan"]["cut"]
    assert st["clock_skew_ms"] == {"us-west-2": 1500.0}
    healed = json.loads(run(state, "heal").output)
    assert healed["faults_in_force"] == {}
    st = json.loads(run(state, "status").output)["status"]
    assert st["wan"]["cut"] == [] and st["clock_skew_ms"] == {}


def test_a_fault_action_answers_what_changed_not_the_whole_status(served):
    """Issue 13, finding 16: the action and the faults now in force, in a short line."""
    state, _ = served
    r = run(state, "isolate", "us-east-2")
    answer = json.loads(r.output)
    assert answer == {"ok": True, "action": "isolate", "args": ["us-east-2"],
                      "faults_in_force": {"isolated": ["us-east-2"]}}
    assert len(r.output) < 200 < len(run(state, "status").output)
    answer = json.loads(run(state, "skew-clock", "us-west-2", "300").output)
    assert answer["faults_in_force"] == {"isolated": ["us-east-2"],
                                         "clock_skew_ms": {"us-west-2": 300.0}}
    assert json.loads(run(state, "heal").output)["faults_in_force"] == {}


def test_stop_refuses_connections_start_keeps_data(served):
    state, line = served
    url = line["regions"]["us-west-2"]
    c = client(url, "us-west-2")
    c.create_table(TableName="cli-stop", BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    c.put_item(TableName="cli-stop", Item={"pk": {"S": "k"}})
    assert run(state, "stop", "us-west-2").exit_code == 0
    from botocore.exceptions import EndpointConnectionError
    with pytest.raises(EndpointConnectionError):
        c.get_item(TableName="cli-stop", Key={"pk": {"S": "k"}})
    assert run(state, "start", "us-west-2").exit_code == 0
    assert get(c, "cli-stop", "k") == {"pk": {"S": "k"}}


@pytest.mark.parametrize("args, fragment", [
    (["isolate", "mars-north-1"], "unknown region"),
    (["cut", "us-east-1"], "takes 2"),
    (["cut", "us-east-1", "us-east-1"], "two different"),
    (["delay", "us-east-1", "us-east-2", "soon"], "number"),
    (["skew-clock", "us-east-1", "1e12"], "within one day"),
    (["explode"], "unknown action"),
])
def test_bad_fault_arguments_exit_non_zero(served, args, fragment):
    state, _ = served
    r = run(state, *args)
    assert r.exit_code != 0
    assert fragment in r.output


def test_missing_state_file(tmp_path):
    r = CliRunner().invoke(emulator, ["fault", "--state-file", str(tmp_path / "none.json"), "status"])
    assert r.exit_code != 0 and "no emulator state file" in r.output


def test_admin_version_map_for_checkers(served):
    import urllib.request
    _, line = served
    c = client(line["regions"]["us-east-1"], "us-east-1")
    c.create_table(TableName="cli-vm", BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    c.put_item(TableName="cli-vm", Item={"pk": {"S": "k1"}, "v": {"N": "7"}})
    req = urllib.request.Request(line["admin"] + "/version-map", method="POST",
                                 data=json.dumps({"table": "cli-vm"}).encode(),
                                 headers={"X-Gtcheck-Admin-Token": line["admin_token"]})
    with urllib.request.urlopen(req, timeout=5) as r:
        vm = json.loads(r.read())["versions"]
    assert vm["us-east-1"]["k1"]["value"] == 7 and vm["us-east-1"]["k1"]["origin"] == "us-east-1"
    assert isinstance(vm["us-east-1"]["k1"]["timestamp"], int)

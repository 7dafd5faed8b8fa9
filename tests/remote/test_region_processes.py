"""Emulator regions as processes (emulator/region_process.py), one per test-bed host.

Three `gtcheck emulator serve --region R` processes, each inside its own network
namespace bound to that host's address, replicate asynchronously to each other over real
TCP across the bridge. A host-level iptables partition between two of them stops exactly
that pair's replication, and after the heal everything converges; faults given to one
process's admin API apply in all of them; and a whole `gtcheck run` against the three
(through a state file naming each region's own process) is judged valid."""

from __future__ import annotations

import json
import subprocess
import time

import boto3
import pytest
import yaml

from results.store import Store
from suite import core
from suite.config import Test
from suite.targets.endpoints import AdminClient
from tests.remote.conftest import WORKER

pytestmark = pytest.mark.slow

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
PORT = 8100  # on each host's own address: region, admin, peer ports


@pytest.fixture()
def region_processes(testbed, tmp_path):
    hosts = yaml.safe_load(testbed.read_text())["regions"]
    addr = {r: hosts[r][0]["address"] for r in REGIONS}
    procs, states = [], {}
    for i, r in enumerate(REGIONS, 1):
        states[r] = tmp_path / f"{r}.json"
        peers = [a for o in REGIONS if o != r for a in ("--peer", f"{o}={addr[o]}:{PORT + 2}")]
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", f"gtcktb-{i}", str(WORKER), "emulator", "serve",
             "--mode", "async", "--region", r, "--host", addr[r], "--port", str(PORT),
             "--admin-port", str(PORT + 1), "--peer-port", str(PORT + 2),
             "--latency-scale", "0.1", "--state-file", str(states[r]), *peers],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    try:
        deadline = time.monotonic() + 60
        while not all(s.exists() for s in states.values()):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
                [p.stderr.read() for p in procs if p.poll() is not None]
            time.sleep(0.1)
        time.sleep(0.3)
        combined = tmp_path / "emulator.json"
        first = json.loads(states[REGIONS[0]].read_text())
        combined.write_text(json.dumps({
            "mode": "async", "admin": first["admin"], "admin_token": first["admin_token"],
            "regions": {r: json.loads(states[r].read_text())["regions"][r] for r in REGIONS}}))
        yield combined, addr
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def _ddb(url, region):
    return boto3.client("dynamodb", endpoint_url=url, region_name=region,
                        aws_access_key_id="gtcheck", aws_secret_access_key="gtcheck")


def _keys(c) -> set:
    return {i["pk"]["S"] for i in c.scan(TableName="regional")["Items"]}


def _until(fn, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return False


def _iptables(ns: int, *args: str) -> None:
    subprocess.run(["ip", "netns", "exec", f"gtcktb-{ns}", "iptables", "-w", "5", *args],
                   check=True)


def test_replication_between_region_processes_under_a_host_partition(region_processes):
    combined, addr = region_processes
    urls = json.loads(combined.read_text())["regions"]
    c = {r: _ddb(urls[r], r) for r in REGIONS}
    c[REGIONS[0]].create_table(
        TableName="regional", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    for r in REGIONS[1:]:
        c[REGIONS[0]].update_table(TableName="regional",
                                   ReplicaUpdates=[{"Create": {"RegionName": r}}])
    # Every process knows the table (the control plane was repeated in each).
    for r in REGIONS:
        assert c[r].describe_table(TableName="regional")["Table"]["TableStatus"] == "ACTIVE"

    # Host-level partition: host 2 drops everything from and to host 1.
    rules = [("INPUT", "-s", addr[REGIONS[0]]), ("OUTPUT", "-d", addr[REGIONS[0]])]
    for chain, flag, a in rules:
        _iptables(2, "-I", chain, flag, a, "-j", "DROP")
    try:
        c[REGIONS[0]].put_item(TableName="regional", Item={"pk": {"S": "during"}})
        assert _until(lambda: "during" in _keys(c[REGIONS[2]]))
        time.sleep(1.0)  # far beyond the scaled WAN latency
        assert "during" not in _keys(c[REGIONS[1]])
    finally:
        for chain, flag, a in rules:
            _iptables(2, "-D", chain, flag, a, "-j", "DROP")
    assert _until(lambda: "during" in _keys(c[REGIONS[1]]))  # resent after the heal

    # An emulator fault given to one process applies in all: a cut us-east-1 <-> us-west-2
    # stops us-west-2's writes reaching us-east-1 (decided in us-west-2's process).
    state = json.loads(combined.read_text())
    admin = AdminClient(state["admin"], token=state["admin_token"])
    admin.fault("cut", REGIONS[0], REGIONS[2])
    c[REGIONS[2]].put_item(TableName="regional", Item={"pk": {"S": "cut"}})
    assert _until(lambda: "cut" in _keys(c[REGIONS[1]]))
    time.sleep(1.0)
    assert "cut" not in _keys(c[REGIONS[0]])
    admin.fault("heal")
    assert _until(lambda: "cut" in _keys(c[REGIONS[0]]))
    versions = admin.versions("regional", {"pk": {"S": "cut"}})
    assert set(versions) == set(REGIONS)
    assert {v["origin"] for v in versions.values()} == {REGIONS[2]}


def test_a_run_against_region_processes_is_judged_valid(region_processes, tmp_path):
    combined, _ = region_processes
    test = Test(target=f"endpoints:{combined}", mode="async", seed=6, time_limit=3.0,
                concurrency=6, rate=60.0, keys=4, latency_scale=0.1, op_timeout=1.0,
                final_wait=1.0).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    assert result.valid is True, result.results
    conv = result.results["checkers"]["convergence"]
    assert conv["valid"] is True, conv

"""Two region processes' deployments in one test process, peers over loopback TCP.

`emulator/region_process.py` runs one region per process; each process replicates its own
region's writes through its in-process WAN model and forwards what arrives to the peer
process. The model of a peer holds only this region's own writes, so a delete of an item
that the peer wrote (the model lacks it) changes nothing in the model: it must still be
forwarded, or the regions never converge (the bug tests/remote found). These tests run
two `RegionDeployment`s on 127.0.0.1 with kernel-chosen ports, through boto3, without the
SSH test bed, and check that such a delete reaches the peer, and not across a cut link
until the heal.
"""

from __future__ import annotations

import time

import pytest

from emulator.region_process import RegionDeployment
from emulator.testing import client, wait_until
from suite.targets.endpoints import AdminClient

EAST1, EAST2 = "us-east-1", "us-east-2"
UNREACHABLE = ("127.0.0.1", 1)  # replaced by the peer's real address once it listens


@pytest.fixture()
def two_processes():
    a = RegionDeployment(EAST1, {EAST2: UNREACHABLE}, peer_port=0, regions=[EAST1, EAST2],
                         host="127.0.0.1", port=0, admin_port=0, latency_scale=0.1, seed=3)
    a.start()
    b = None
    try:
        b = RegionDeployment(EAST2, {EAST1: ("127.0.0.1", a.peer_port)}, peer_port=0,
                             regions=[EAST1, EAST2], host="127.0.0.1", port=0, admin_port=0,
                             latency_scale=0.1, seed=4)
        b.start()
        # a's peer port was free before b listened: point a at b now (the link reconnects)
        a.peer_addrs[EAST2] = ("127.0.0.1", b.peer_port)
        a.links[EAST2].addr = a.peer_addrs[EAST2]
        yield a, b
    finally:
        if b is not None:
            b.stop()
        a.stop()


def _table(a: RegionDeployment, b: RegionDeployment) -> dict:
    c = {EAST1: client(a.endpoints[EAST1], EAST1), EAST2: client(b.endpoints[EAST2], EAST2)}
    c[EAST1].create_table(
        TableName="tbl", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    c[EAST1].update_table(TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": EAST2}}])
    wait_until(lambda: c[EAST2].describe_table(TableName="tbl")["Table"]["TableStatus"]
               == "ACTIVE", timeout_s=20, what="the replica in us-east-2's process")
    return c


def _holds(c, key: str) -> bool:
    return "Item" in c.get_item(TableName="tbl", Key={"pk": {"S": key}}, ConsistentRead=True)


def test_a_delete_of_an_item_the_peer_wrote_reaches_the_peer(two_processes):
    a, b = two_processes
    c = _table(a, b)
    c[EAST2].put_item(TableName="tbl", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    wait_until(lambda: _holds(c[EAST1], "k"), timeout_s=20, what="us-east-2's put in us-east-1")
    # us-east-1's model of us-east-2 never held k: the delete changes nothing there
    assert a.cluster.item_versions("tbl", {"pk": {"S": "k"}})[EAST2] is None
    old = c[EAST1].delete_item(TableName="tbl", Key={"pk": {"S": "k"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"]["v"] == {"N": "1"}
    wait_until(lambda: not _holds(c[EAST2], "k"), timeout_s=20,
               what="us-east-1's delete in us-east-2's process")
    versions = a.versions("tbl", {"pk": {"S": "k"}})
    assert versions[EAST1] == versions[EAST2]
    assert versions[EAST1]["origin"] == EAST1 and versions[EAST1]["deleted"] is True


def test_a_forwarded_delete_waits_for_a_cut_link_to_heal(two_processes):
    a, b = two_processes
    c = _table(a, b)
    c[EAST2].put_item(TableName="tbl", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    wait_until(lambda: _holds(c[EAST1], "k"), timeout_s=20, what="us-east-2's put in us-east-1")
    admin = AdminClient(a.admin_url, token=a.admin_token)
    admin.fault("cut", EAST1, EAST2)  # applies in both processes
    c[EAST1].delete_item(TableName="tbl", Key={"pk": {"S": "k"}})
    time.sleep(1.0)  # many times the scaled WAN delay: it would have arrived
    assert _holds(c[EAST2], "k")
    admin.fault("heal")
    wait_until(lambda: not _holds(c[EAST2], "k"), timeout_s=20,
               what="the delete in us-east-2's process after the heal")

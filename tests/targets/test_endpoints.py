"""The endpoints target and the workload clients through boto3 over HTTP.

These run against moto's DynamoDB server (a real DynamoDB-compatible HTTP server, one
region) so the target's provisioning and the clients' requests and outcome classes are
exercised through boto3 exactly as against the emulator; the multi-region behaviour is
covered by tests/e2e against the emulator.
"""

import json

import pytest

from results.history import Op
from suite.errors import BadInput, SetupError
from suite.targets import EndpointsTarget, make_target, read_state_file
from workloads.client import OPS, RegionClient


@pytest.fixture
def state_file(tmp_path, moto_url):
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps({"mode": "async", "regions": {"us-east-1": moto_url}}))
    return path


def invoke(client, f, key, value=None, consistent=None):
    inv = Op(index=0, time=0, type="invoke", process=0, f=f, key=key, value=value,
             consistent=consistent)
    return client.invoke({}, inv)


def test_state_file_shapes_and_errors(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"regions": {"us-east-1": {"endpoint": "http://127.0.0.1:1/"}},
                             "admin": {"url": "http://127.0.0.1:2"}, "mode": "strong"}))
    assert read_state_file(p) == {"mode": "strong", "witness": None,
                                  "regions": {"us-east-1": "http://127.0.0.1:1"},
                                  "admin": "http://127.0.0.1:2", "admin_token": None}
    p.write_text(json.dumps({"regions": {"us-east-1": "http://127.0.0.1:1"},
                             "admin": {"url": "http://127.0.0.1:2", "token": "t0k"}}))
    assert read_state_file(p)["admin_token"] == "t0k"
    for body, message in [("{", "not valid JSON"), ("[]", "expected a JSON object"),
                          ('{"regions": {}}', "expected \"regions\""),
                          ('{"regions": {"r": "ftp://x"}}', "no http")]:
        p.write_text(body)
        with pytest.raises(BadInput, match=message):
            read_state_file(p)
    with pytest.raises(BadInput, match="cannot read"):
        read_state_file(tmp_path / "missing.json")
    with pytest.raises(BadInput, match="unknown target"):
        make_target("gcp")


def test_topology_is_checked_before_anything_starts(tmp_path):
    with pytest.raises(BadInput, match="exactly three participants"):
        make_target("emulator", mode="strong", regions=["us-east-1", "us-east-2"])
    with pytest.raises(BadInput, match="witness exists only in strong"):
        make_target("emulator", mode="async", witness="eu-west-1")
    with pytest.raises(BadInput, match="no endpoint for region"):
        EndpointsTarget({"us-east-1": "http://127.0.0.1:1"}, regions=["us-east-2"])


def test_provisions_and_clients_classify_outcomes_through_boto3(state_file):
    target = make_target(f"endpoints:{state_file}")
    target.setup(None)
    target.create_table(None, "gtcheck-register")
    try:
        reg = RegionClient("gtcheck-register", OPS["register"]).open({"target": target}, "us-east-1")
        assert invoke(reg, "read", "k1", consistent=True).value is None
        assert invoke(reg, "write", "k1", 7).type == "ok"
        read = invoke(reg, "read", "k1", consistent=True)
        assert (read.type, read.value, read.region) == ("ok", 7, "us-east-1")
        assert invoke(reg, "cas", "k1", [7, 8]).type == "ok"
        lost = invoke(reg, "cas", "k1", [7, 9])
        assert (lost.type, lost.error) == ("fail", "ConditionalCheckFailed")
        assert invoke(reg, "read", "k1", consistent=False).value == 8

        cnt = RegionClient("gtcheck-register", OPS["counter"]).open({"target": target}, "us-east-1")
        assert invoke(cnt, "read", "c", consistent=True).value == 0
        add = invoke(cnt, "add", "c", 1)
        assert (add.type, add.value, add.extra["after"]) == ("ok", 1, 1)
        assert invoke(cnt, "read", "c", consistent=True).value == 1

        st = RegionClient("gtcheck-register", OPS["set"]).open({"target": target}, "us-east-1")
        for e in (3, 1, 2):
            assert invoke(st, "add", "s", e).type == "ok"
        assert invoke(st, "read", "s", consistent=True).value == [1, 2, 3]

        missing = RegionClient("no-such-table", OPS["register"]).open({"target": target}, "us-east-1")
        gone = invoke(missing, "write", "k1", 1)
        assert (gone.type, gone.error) == ("fail", "ResourceNotFound")
    finally:
        target.delete_table(None, "gtcheck-register")
    with pytest.raises(BadInput, match="did not create"):
        target.delete_table(None, "gtcheck-register")


def test_a_dead_endpoint_fails_set_up_and_a_refused_request_is_definite(tmp_path):
    import socket
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = EndpointsTarget({"us-east-1": f"http://127.0.0.1:{port}"})
    with pytest.raises(SetupError, match="does not answer"):
        target.setup(None)
    client = RegionClient("t", OPS["register"], connect_timeout_s=0.5).open({"target": target}, "us-east-1")
    refused = invoke(client, "write", "k", 1)
    assert (refused.type, refused.error) == ("fail", "connection-refused")


def test_targets_of_one_process_share_one_session_and_its_creation_lock(state_file, moto_url):
    """Issue 21: a fresh boto3 session loads the service models again (about 0.2 s a
    run); emulator targets share one session, and one lock serialises client creation
    from it. Each target's data-plane clients still carry their own hooks: a client
    fault on one target does not reach the other's requests."""
    a = make_target("endpoints:" + str(state_file), mode="async")
    b = make_target("endpoints:" + str(state_file), mode="async")
    assert a._clients.session is b._clients.session
    assert a._clients._lock is b._clients._lock
    ca, cb = a.client("us-east-1"), b.client("us-east-1")
    a.client_fault("client-partition", {"region": "us-east-1"})
    assert cb.list_tables(Limit=1)["TableNames"] is not None
    with pytest.raises(Exception, match="Could not connect"):
        ca.list_tables(Limit=1)

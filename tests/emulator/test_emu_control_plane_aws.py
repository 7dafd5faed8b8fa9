"""The AWS-like control plane (emulator/control_plane.py), through boto3 over HTTP: the
order of events a client sees (not found, absent, CREATING, ACTIVE; DELETING, gone), the
windows of ResourceInUseException, the one-replica-per-call MREC rule, MRSC only with
STRONG, FIS's experiment states, and LimitExceededException. Polls record what was seen;
assertions are on the order of states, never on wall-clock durations."""

import time

import pytest
from botocore.exceptions import ClientError

from emulator import Deployment
from emulator.control_plane import ControlPlane
from emulator.testing import client, clients
from suite.errors import BadInput

US = ["us-east-1", "us-east-2", "us-west-2"]
KS = [{"AttributeName": "pk", "KeyType": "HASH"}]
AD = [{"AttributeName": "pk", "AttributeType": "S"}]


def _create(c, name):
    return c.create_table(TableName=name, KeySchema=KS, AttributeDefinitions=AD,
                          BillingMode="PAY_PER_REQUEST")


def code(e):
    return e.value.response["Error"]["Code"]


def describe_state(c, name):
    try:
        return c.describe_table(TableName=name)["Table"]["TableStatus"]
    except ClientError as e:
        return e.response["Error"]["Code"]


def replica_state(c, name, region, key="Replicas", status="ReplicaStatus"):
    t = c.describe_table(TableName=name)["Table"]
    entry = next((e for e in t.get(key, []) if e["RegionName"] == region), None)
    return "absent" if entry is None else entry[status]


def watch(fn, until, timeout_s=60.0):
    """Poll `fn` until it returns `until`; the distinct values seen, in order."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = fn()
        if not seen or seen[-1] != v:
            seen.append(v)
        if v == until:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"never reached {until}: saw {seen}")


def wait_active(c, name):
    watch(lambda: describe_state(c, name), "ACTIVE")
    watch(lambda: all(r["ReplicaStatus"] == "ACTIVE" for r in c.describe_table(
        TableName=name)["Table"].get("Replicas", [])), True)


def start_mrsc(home, name):
    """CreateTable in us-east-1; once ACTIVE, the MRSC set-up (us-east-2, witness us-west-2)."""
    _create(home, name)
    wait_active(home, name)
    home.update_table(TableName=name, MultiRegionConsistency="STRONG",
                      ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                      GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}])


def start_pause(fis, arn):
    """An FIS pause-replication experiment on the replica `arn`, started; its id."""
    tid = fis.create_experiment_template(
        clientToken="t1", description="x", stopConditions=[{"source": "none"}],
        targets={"R": {"resourceType": "aws:dynamodb:global-table", "resourceArns": [arn],
                       "selectionMode": "ALL"}},
        actions={"P": {"actionId": "aws:dynamodb:global-table-pause-replication",
                       "parameters": {"duration": "PT10M"}, "targets": {"Tables": "R"}}},
        roleArn="arn:aws:iam::000000000000:role/x")["experimentTemplate"]["id"]
    return fis.start_experiment(clientToken="s1", experimentTemplateId=tid)["experiment"]["id"]


def test_durations_are_seeded_and_scaled():
    a, b = ControlPlane(scale=1.0, seed=5), ControlPlane(scale=0.01, seed=5)
    kinds = ["describe_lag", "unlisted_strong", "replica_create", "fis_pending"]
    draws_a = [a.seconds(k) for k in kinds]
    draws_b = [b.seconds(k) for k in kinds]
    assert draws_b == pytest.approx([x * 0.01 for x in draws_a])
    assert draws_a != [ControlPlane(scale=1.0, seed=6).seconds(k) for k in kinds]
    lo, hi = a.times_s["unlisted_strong"]
    assert (lo, hi) == (5.0, 32.0)


def test_bad_scale_or_limit_is_bad_input():
    with pytest.raises(BadInput):
        Deployment(US, control_plane_scale=-1)
    with pytest.raises(BadInput):
        Deployment(US, control_plane_limit=3)  # a limit without the AWS-like plane


def test_new_table_not_found_then_creating_then_active_and_delete_waits():
    with Deployment(US, latency_scale=0, seed=1, control_plane_scale=0.3) as d:
        c = clients(d)["us-east-1"]
        assert _create(c, "cp-new")["TableDescription"]["TableStatus"] == "CREATING"
        assert "cp-new" in c.list_tables()["TableNames"]
        seen = watch(lambda: describe_state(c, "cp-new"), "ACTIVE")
        assert seen[0] == "ResourceNotFoundException", seen
        assert seen[-2:] == ["CREATING", "ACTIVE"], seen
        c.delete_table(TableName="cp-new")
        seen = watch(lambda: describe_state(c, "cp-new"), "ResourceNotFoundException")
        assert seen[0] == "DELETING", seen


def test_delete_or_update_while_creating_is_resource_in_use():
    with Deployment(US, latency_scale=0, seed=2, control_plane_scale=0.3) as d:
        c = clients(d)["us-east-1"]
        _create(c, "cp-busy")
        with pytest.raises(ClientError) as e:
            c.delete_table(TableName="cp-busy")
        assert code(e) == "ResourceInUseException"
        assert "being created" in e.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as e:
            c.update_table(TableName="cp-busy",
                           ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
        assert code(e) in ("ResourceInUseException", "ResourceNotFoundException")


def test_async_replica_absent_then_creating_then_active_then_removed_still_listed():
    with Deployment(US, latency_scale=0, seed=3, control_plane_scale=0.1) as d:
        cs = clients(d)
        home = cs["us-east-1"]
        _create(home, "cp-rep")
        wait_active(home, "cp-rep")
        home.update_table(TableName="cp-rep",
                          ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
        assert describe_state(home, "cp-rep") == "UPDATING"
        with pytest.raises(ClientError) as e:  # one change at a time
            home.update_table(TableName="cp-rep",
                              ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
        assert code(e) == "ResourceInUseException"
        seen = watch(lambda: replica_state(home, "cp-rep", "us-east-2"), "ACTIVE")
        assert seen == ["absent", "CREATING", "ACTIVE"], seen
        own = watch(lambda: describe_state(cs["us-east-2"], "cp-rep"), "ACTIVE")
        assert own[-1] == "ACTIVE"
        wait_active(home, "cp-rep")
        home.update_table(TableName="cp-rep",
                          ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}])
        seen = watch(lambda: replica_state(home, "cp-rep", "us-east-2"), "absent")
        assert seen == ["DELETING", "absent"], seen


def test_mrec_one_replica_action_per_call_and_mrsc_only_with_strong():
    with Deployment(US, latency_scale=0, seed=4) as d:  # the rules hold without delays too
        c = clients(d)["us-east-1"]
        _create(c, "cp-rules")
        with pytest.raises(ClientError) as e:
            c.update_table(TableName="cp-rules", ReplicaUpdates=[
                {"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "us-west-2"}}])
        assert code(e) == "ValidationException"
        assert "more than one create or delete replica actions not allowed" in \
            e.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as e:  # a witness alone does not make MRSC
            c.update_table(TableName="cp-rules",
                           ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                           GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}])
        assert code(e) == "ValidationException" and "STRONG" in \
            e.value.response["Error"]["Message"]
        assert "Replicas" not in c.describe_table(TableName="cp-rules")["Table"]


def test_mrsc_replica_and_witness_absent_then_creating_then_active():
    with Deployment(US[:2], mode="strong", witness=US[2], latency_scale=0, seed=5,
                    control_plane_scale=0.05) as d:
        home = clients(d)["us-east-1"]
        start_mrsc(home, "cp-mrsc")
        first = home.describe_table(TableName="cp-mrsc")["Table"]
        assert first.get("Replicas", []) == [] and "GlobalTableWitnesses" not in first
        seen = watch(lambda: replica_state(home, "cp-mrsc", "us-west-2",
                                           "GlobalTableWitnesses", "WitnessStatus"), "ACTIVE")
        assert seen == ["absent", "CREATING", "ACTIVE"], seen
        watch(lambda: replica_state(home, "cp-mrsc", "us-east-2"), "ACTIVE")


def test_fis_experiment_goes_pending_initiating_running_then_stopping_stopped():
    # Scale 1 (FIS's own delays: pending 0.5-2 s ...): each state lasts long enough to be
    # seen by polling even on a loaded machine.
    with Deployment(US, latency_scale=0, seed=6, control_plane_scale=1.0) as d:
        home = clients(d)["us-east-1"]
        _create(home, "cp-fis")
        fis = client(d.endpoint, "us-east-1", "fis")
        eid = start_pause(fis, "arn:aws:dynamodb:us-east-2:000000000000:table/cp-fis")
        status = lambda: fis.get_experiment(id=eid)["experiment"]["state"]["status"]  # noqa: E731
        assert status() == "pending"
        assert not d.fis.pausing("us-east-2")  # nothing is paused before `running`
        seen = watch(status, "running")
        assert seen == ["pending", "initiating", "running"], seen
        assert d.fis.pausing("us-east-2")
        fis.stop_experiment(id=eid)
        seen = watch(status, "stopped")
        assert seen == ["stopping", "stopped"], seen
        assert not d.fis.pausing("us-east-2")


def test_too_many_simultaneous_table_operations_is_limit_exceeded():
    with Deployment(US, latency_scale=0, seed=7, control_plane_scale=0.5,
                    control_plane_limit=1) as d:
        c = clients(d)["us-east-1"]
        _create(c, "cp-lim-a")
        with pytest.raises(ClientError) as e:
            _create(c, "cp-lim-b")
        assert code(e) == "LimitExceededException"
        watch(lambda: describe_state(c, "cp-lim-a"), "ACTIVE")
        assert _create(c, "cp-lim-b")["TableDescription"]["TableStatus"] == "CREATING"


def test_an_mrsc_table_refuses_updates_while_fis_pauses_it():
    with Deployment(US[:2], mode="strong", witness=US[2], latency_scale=0, seed=8,
                    control_plane_scale=0.02) as d:
        home = clients(d)["us-east-1"]
        start_mrsc(home, "cp-mrsc-fis")
        wait_active(home, "cp-mrsc-fis")
        fis = client(d.endpoint, "us-east-1", "fis")
        eid = start_pause(fis, "arn:aws:dynamodb:us-east-2:000000000000:table/cp-mrsc-fis")
        status = lambda: fis.get_experiment(id=eid)["experiment"]["state"]["status"]  # noqa: E731
        watch(status, "running")
        with pytest.raises(ClientError) as e:
            home.update_table(TableName="cp-mrsc-fis",
                              ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}],
                              GlobalTableWitnessUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
        assert code(e) == "ValidationException" and "FIS" in e.value.response["Error"]["Message"]
        fis.stop_experiment(id=eid)
        watch(status, "stopped")
        home.update_table(TableName="cp-mrsc-fis",
                          ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}],
                          GlobalTableWitnessUpdates=[{"Delete": {"RegionName": "us-west-2"}}])


def test_gtcheck_run_on_the_embedded_emulator_with_the_aws_like_control_plane(tmp_path):
    from click.testing import CliRunner

    from suite.cli import main
    r = CliRunner().invoke(main, ["run", "--control-plane-scale", "0.02", "--time-limit", "2",
                                  "--rate", "30", "--latency-scale", "0.02", "--seed", "3",
                                  "--store", str(tmp_path)], standalone_mode=False)
    assert r.return_value == 0, r.output
    assert "verdict: VALID" in r.output
    bad = CliRunner().invoke(main, ["run", "--target", "aws", "--control-plane-scale", "1",
                                    "--store", str(tmp_path)], standalone_mode=False)
    assert bad.return_value == 3 and "applies only to --target emulator" in bad.output

"""The `aws` target's whole code path, run as a user would against the emulator: only
`AWS_ENDPOINT_URL` (the emulator's all-regions endpoint) and dummy credentials are set,
and `gtcheck run --target aws` provisions (waiting through CREATING), runs, deletes every
table (normal end and SIGINT), with VALID verdicts. Never real AWS: every endpoint is
127.0.0.1. Also: the provisioner stops with one line at a replica moto never creates."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator import Deployment
from suite.errors import SetupError
from suite.targets import make_target
from suite.targets.aws import AwsTarget, delete_tagged_table, tagged_tables
from tests.targets.aws_env import age_table, aws_env, client, set_aws_env, tables_everywhere

US = ["us-east-1", "us-east-2", "us-west-2"]
GTCHECK = [sys.executable, "-m", "suite.cli"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emu():
    with Deployment(US, latency_scale=0.02, seed=7, control_delay_ms=600) as d:
        yield d


@pytest.fixture(scope="module")
def emu_witness():
    with Deployment(US[:2], mode="strong", witness=US[2], latency_scale=0.02, seed=8,
                    control_delay_ms=600) as d:
        yield d


def gtcheck_run(endpoint, store, *args, timeout=120):
    cmd = GTCHECK + ["run", "--target", "aws", "--yes", "--store", str(store),
                     "--time-limit", "3", "--rate", "40", "--latency-scale", "0",
                     "--seed", "5", *args]
    return subprocess.run(cmd, env=aws_env(endpoint), cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def results_of(store) -> dict:
    return json.loads((Path(store) / "latest" / "results.json").read_text())


def nemesis_outcomes(store) -> list[tuple[str, str]]:
    """(type, f) of every completed nemesis operation of the latest run."""
    ops = [json.loads(line) for line in
           (Path(store) / "latest" / "history.jsonl").read_text().splitlines()]
    return [(op["type"], op["f"]) for op in ops
            if op["process"] == "nemesis" and op["type"] != "invoke"]


FIS_ROLE = ["--fis-role-arn", "arn:aws:iam::000000000000:role/gtcheck-fis",
            "--nemesis-interval", "0.7"]


@pytest.mark.slow
def test_run_async_through_the_aws_path_and_leave_no_table(emu, tmp_path):
    p = gtcheck_run(emu.endpoint, tmp_path, "--mode", "async",
                    "--nemesis", "fis-pause-replication,client-partition", *FIS_ROLE)
    assert p.returncode == 0, p.stdout + p.stderr
    done = nemesis_outcomes(tmp_path)
    assert ("ok", "fis-pause-replication") in done and ("ok", "client-partition") in done
    assert "FIS experiment EXP" in p.stderr and "pauses replication of" in p.stderr
    history = (tmp_path / "latest" / "history.jsonl").read_text()
    assert '"error":"connection-refused"' in history  # the clients' partition took hold
    assert "verdict: VALID" in p.stdout
    assert "plan: create table gtcheck-register-" in p.stderr
    assert "us-east-2 CREATING" in p.stderr  # it waited through the control plane
    assert results_of(tmp_path)["run"]["errors"] == []
    assert tables_everywhere(emu.endpoint, US) == {r: [] for r in US}


@pytest.mark.slow
def test_run_strong_with_a_witness_through_the_aws_path(emu_witness, tmp_path):
    p = gtcheck_run(emu_witness.endpoint, tmp_path, "--mode", "strong",
                    "--regions", "us-east-1,us-east-2", "--witness", "us-west-2",
                    "--nemesis", "fis-pause-replication,client-timeout", *FIS_ROLE)
    assert p.returncode == 0, p.stdout + p.stderr
    done = nemesis_outcomes(tmp_path)
    assert ("ok", "fis-pause-replication") in done and ("ok", "client-timeout") in done
    assert "verdict: VALID" in p.stdout
    assert "us-west-2 (witness) CREATING" in p.stderr
    assert results_of(tmp_path)["checkers"]["linearizability"]["valid"] is True
    assert tables_everywhere(emu_witness.endpoint, US[:2]) == {r: [] for r in US[:2]}


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_still_deletes_its_table(emu, tmp_path, sig):
    cmd = GTCHECK + ["run", "--target", "aws", "--yes", "--store", str(tmp_path),
                     "--mode", "async", "--time-limit", "60", "--rate", "20",
                     "--latency-scale", "0", "--seed", "6"]
    p = subprocess.Popen(cmd, env=aws_env(emu.endpoint), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the clients are running
            line = p.stderr.readline()
            if " ops=" in line and " ok=" in line and "ok=0 " not in line:
                break
        else:
            pytest.fail("the run never started its clients")
        tables = tables_everywhere(emu.endpoint, US)
        assert all(len(names) == 1 for names in tables.values()), tables
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 2, out + err  # interrupted and nothing found: unknown (issue 13)
    assert "the run was interrupted" in out
    assert "deleted" in err
    assert tables_everywhere(emu.endpoint, US) == {r: [] for r in US}


def test_without_yes_and_without_a_terminal_nothing_is_created(emu, tmp_path):
    cmd = GTCHECK + ["run", "--target", "aws", "--store", str(tmp_path), "--mode", "async",
                     "--time-limit", "1"]
    p = subprocess.run(cmd, env=aws_env(emu.endpoint), cwd=ROOT, capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 3
    assert "pass --yes" in p.stderr and "estimated cost: $" in p.stderr
    assert tables_everywhere(emu.endpoint, US) == {r: [] for r in US}


def test_a_failed_set_up_deletes_what_it_created(emu, monkeypatch):
    set_aws_env(monkeypatch, emu.endpoint)
    # eu-west-1 has no endpoint in this deployment: its replica can never be created.
    target = AwsTarget(mode="async", regions=["us-east-1", "eu-west-1"], yes=True,
                       poll_s=0.05, say=lambda line: None)
    with pytest.raises(Exception):
        target.create_table(None, "gtcheck-failed-setup")
    assert "gtcheck-failed-setup" not in client(emu.endpoint, "us-east-1").list_tables()[
        "TableNames"]


def test_cleanup_finds_and_deletes_only_tagged_tables(emu, monkeypatch):
    set_aws_env(monkeypatch, emu.endpoint)
    target = AwsTarget(mode="async", regions=US, yes=True, poll_s=0.05,
                       say=lambda line: None)
    target.create_table(None, "gtcheck-leftover")
    target._created.clear()  # as if the run had been killed: the table is left behind
    home = client(emu.endpoint, "us-east-1")
    home.create_table(TableName="not-ours", BillingMode="PAY_PER_REQUEST",
                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    try:
        found = tagged_tables(target._control_client, US)
        assert sorted(found) == [(r, "gtcheck-leftover", "gtcheck-leftover") for r in US]
        with pytest.raises(Exception, match="no gtcheck:run tag"):
            delete_tagged_table(target._control_client, "us-east-1", "not-ours",
                                poll_s=0.05, require_tag=True)
        assert delete_tagged_table(target._control_client, "us-east-1", "gtcheck-leftover",
                                   poll_s=0.05, require_tag=True)
        assert tables_everywhere(emu.endpoint, US) == {
            "us-east-1": ["not-ours"], "us-east-2": [], "us-west-2": []}
    finally:
        home.delete_table(TableName="not-ours")


def test_moto_stops_at_set_up_with_one_line(moto_url, tmp_path):
    state = tmp_path / "moto.json"
    state.write_text(json.dumps({"regions": {r: moto_url for r in US}}))
    target = make_target(f"endpoints:{state}", mode="async")
    target.setup(None)
    with pytest.raises(SetupError) as e:
        target.create_table(None, "gtcheck-moto-replicas")
    assert str(e.value) == ("replica us-east-2 does not exist after ReplicaUpdates Create "
                            "(this endpoint does not implement global-table replicas)")


def test_aws_cleanup_command_deletes_tagged_tables_only(emu, monkeypatch):
    from click.testing import CliRunner

    from suite.cli import main
    set_aws_env(monkeypatch, emu.endpoint)
    target = AwsTarget(mode="async", regions=US[:2], yes=True, poll_s=0.05,
                       say=lambda line: None)
    target.create_table(None, "gtcheck-cli-leftover")
    target._end_lease()
    target._created.clear()
    age_table(emu.endpoint, "gtcheck-cli-leftover", US[:2], 3600)  # its run died an hour ago
    home = client(emu.endpoint, "us-east-1")
    home.create_table(TableName="someone-elses", BillingMode="PAY_PER_REQUEST",
                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    try:
        runner = CliRunner()
        listed = runner.invoke(main, ["aws", "cleanup", "--dry-run"], standalone_mode=False)
        assert listed.return_value == 0, listed.output
        assert ("us-east-1\tgtcheck-cli-leftover\tgtcheck:run=gtcheck-cli-leftover\tleftover"
                in listed.output)
        assert "someone-elses" not in listed.output
        refused = runner.invoke(main, ["aws", "cleanup"], standalone_mode=False)
        assert refused.return_value == 3  # no terminal, no --yes: nothing deleted
        assert "gtcheck-cli-leftover" in home.list_tables()["TableNames"]
        done = runner.invoke(main, ["aws", "cleanup", "--yes"], standalone_mode=False)
        assert done.return_value == 0, done.output
        assert "1 table(s) deleted" in done.output
        assert tables_everywhere(emu.endpoint, US) == {
            "us-east-1": ["someone-elses"], "us-east-2": [], "us-west-2": []}
    finally:
        home.delete_table(TableName="someone-elses")


@pytest.mark.slow
def test_max_requests_is_a_hard_stop(emu, tmp_path):
    p = gtcheck_run(emu.endpoint, tmp_path, "--mode", "async", "--time-limit", "30",
                    "--rate", "50", "--max-requests", "120", "--keys", "4")
    assert p.returncode in (0, 2), p.stdout + p.stderr
    assert "request budget is spent" in p.stderr
    history = [json.loads(line) for line in
               (tmp_path / "latest" / "history.jsonl").read_text().splitlines()]
    invoked = [op for op in history if op["type"] == "invoke" and op["process"] != "nemesis"]
    sent = [op for op in history if op["type"] in ("ok", "info")
            and op["process"] != "nemesis"]
    assert len(sent) <= 120  # never more requests than the budget
    assert len(invoked) < 50 * 30 / 2  # it stopped long before the time limit
    assert tables_everywhere(emu.endpoint, US) == {r: [] for r in US}


def test_an_admin_api_nemesis_against_aws_exits_3_naming_those_that_run_there(emu, tmp_path):
    p = gtcheck_run(emu.endpoint, tmp_path, "--mode", "async", "--nemesis", "isolate")
    assert p.returncode == 3
    assert ("nemesis isolate cannot run against target aws (it needs the emulator's fault "
            "API); against aws use: fis-pause-replication, client-partition, client-latency, "
            "client-timeout") in p.stderr
    assert "Traceback" not in p.stderr
    assert tables_everywhere(emu.endpoint, US) == {r: [] for r in US}


def test_fis_pause_replication_without_a_role_exits_3(emu, tmp_path):
    p = gtcheck_run(emu.endpoint, tmp_path, "--mode", "async",
                    "--nemesis", "fis-pause-replication")
    assert p.returncode == 3 and "needs --fis-role-arn" in p.stderr


def test_the_aws_path_against_moto_stops_at_set_up_and_deletes_its_table(moto_url, tmp_path):
    p = gtcheck_run(moto_url, tmp_path, "--mode", "async", timeout=180)  # 60 s of grace
    assert p.returncode == 3, p.stdout + p.stderr
    assert ("replica us-east-2 does not exist after ReplicaUpdates Create (this endpoint "
            "does not implement global-table replicas)") in p.stderr
    assert "Traceback" not in p.stderr
    left = client(moto_url, "us-east-1").list_tables()["TableNames"]
    assert not [t for t in left if t.startswith("gtcheck-register-")], left


@pytest.mark.slow
def test_conform_through_the_aws_path_with_fis(emu, tmp_path):
    cmd = GTCHECK + ["conform", "--target", "aws", "--yes", "--out", str(tmp_path),
                     "--fis-role-arn", "arn:aws:iam::000000000000:role/gtcheck-fis"]
    p = subprocess.run(cmd, env=aws_env(emu.endpoint), cwd=ROOT, capture_output=True,
                       text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    verdicts = {c["id"]: c["verdict"] for c in json.loads(
        (tmp_path / "conform.json").read_text())["claims"]}
    assert verdicts.pop("M10") == "not observable here"  # AWS cannot isolate a region
    assert verdicts.pop("A10") == "not observable here"  # nor cut a link
    assert verdicts.pop("A07") == "not observable here"  # A07's probe isolates a region
    assert set(verdicts.values()) == {"pass"}, verdicts
    assert verdicts["A13"] == "pass"  # the pause went through FIS
    assert tables_everywhere(emu.endpoint, US) == {r: [] for r in US}

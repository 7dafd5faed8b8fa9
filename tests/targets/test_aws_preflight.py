"""`gtcheck aws preflight` against `gtcheck emulator serve` through AWS_ENDPOINT_URL: every
check answered (STS and IAM stand-ins), nothing created, a denied permission and a wrong
MRSC region set caught (exit 1)."""

import subprocess
import sys

from suite.aws_preflight import principal_arn, required_actions
from tests.targets.aws_env import aws_env, tables_everywhere
from tests.targets.served_emulator import ROOT, served_emulator

US = ["us-east-1", "us-east-2", "us-west-2"]
ROLE = "arn:aws:iam::000000000000:role/gtcheck-fis"


def preflight(endpoint, *args):
    return subprocess.run([sys.executable, "-m", "suite.cli", "aws", "preflight", *args],
                          env=aws_env(endpoint), cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_preflight_checks_everything_and_creates_nothing(tmp_path):
    with served_emulator(tmp_path, "--iam-deny", "dynamodb:CreateTableReplica",
                         scale="0.05", seed=41) as emu:
        ok = preflight(emu["endpoint"], "--mode", "strong", "--regions",
                       "us-east-1,us-east-2", "--witness", "us-west-2")
        assert ok.returncode == 1, ok.stdout + ok.stderr  # the denied action
        out = ok.stdout
        assert "ok            credentials: account 000000000000" in out
        assert "ok            topology: strong: us-east-1, us-east-2; witness us-west-2 " \
               "(one MRSC region set)" in out
        assert "ok            region us-east-2: DynamoDB answers" in out
        assert "quota in us-east-1: 0 tables of the default 2500" in out
        assert "FAIL          IAM actions: 2 denied: dynamodb:CreateTableReplica on " \
               "arn:aws:dynamodb:us-east-1:000000000000:table/gtcheck-register-preflight " \
               "(implicitDeny)" in out
        assert "plan: create table gtcheck-register-preflight" in out
        assert "nothing was created" in out
        bad = preflight(emu["endpoint"], "--mode", "strong", "--regions",
                        "us-east-1,eu-west-1,us-west-2")
        assert bad.returncode == 1
        assert "FAIL          topology: --regions: All Regions of a global table with " \
               "multi-Region strong consistency must belong to the same Region set" in bad.stdout
        assert tables_everywhere(emu["endpoint"], US) == {r: [] for r in US}


def test_preflight_with_every_permission_passes_and_checks_fis(tmp_path):
    with served_emulator(tmp_path, scale="0.05", seed=42) as emu:
        p = preflight(emu["endpoint"], "--mode", "async", "--fis-role-arn", ROLE)
        assert p.returncode == 0, p.stdout + p.stderr
        n = len(required_actions("async", None, True)) * 3
        assert f"ok            IAM actions: {n} action/resource pairs allowed" in p.stdout
        assert "FAIL" not in p.stdout
        assert tables_everywhere(emu["endpoint"], US) == {r: [] for r in US}


def test_an_assumed_role_is_simulated_as_its_role():
    assert principal_arn("arn:aws:sts::123456789012:assumed-role/Dev/alice") == \
        "arn:aws:iam::123456789012:role/Dev"
    assert principal_arn("arn:aws:iam::123456789012:user/bob") == \
        "arn:aws:iam::123456789012:user/bob"
    actions = {a for a, _ in required_actions("strong", "us-west-2", True)}
    assert not any("Transact" in a for a in actions)  # not IAM actions
    assert "dynamodb:CreateGlobalTableWitness" in actions and "iam:PassRole" in actions

"""`gtcheck conform` end to end through the CLI: against the bundled emulator every claim
passes; against moto's server (one URL for three regions) the control-plane claims it
does not implement fail, the replication claims are not observable, and it exits 1.
What moto passes is recorded in docs/aws.md."""

import json

import pytest
from click.testing import CliRunner

from suite.cli import main
from tests.targets.aws_env import set_aws_env
from tests.targets.conftest import moto_url  # noqa: F401 -- the fixture


def conform(args):
    r = CliRunner().invoke(main, ["conform", *args], standalone_mode=False)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r


@pytest.mark.slow
def test_the_bundled_emulator_passes_every_claim(tmp_path):
    r = conform(["--target", "emulator", "--out", str(tmp_path)])
    assert r.return_value == 0, r.output
    doc = json.loads((tmp_path / "conform.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in doc["claims"]}
    assert set(verdicts.values()) == {"pass"}, verdicts
    assert {"API-replicas", "API-own-region", "G1", "A01", "A06-lww", "A04/A05", "A13", "A10",
            "M01", "M01-witness", "M06", "M08", "M10", "M14"} <= set(verdicts)
    assert doc["valid"] is True
    assert "20 pass, 0 fail, 0 inconclusive, 0 not observable here" in r.output
    assert "<td>M08</td>" in (tmp_path / "conform.html").read_text()


def test_moto_fails_the_global_table_claims_it_does_not_implement(moto_url, tmp_path,
                                                                monkeypatch):
    set_aws_env(monkeypatch, "http://127.0.0.1:9")  # dummy credentials only
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    state = tmp_path / "moto.json"
    state.write_text(json.dumps({"regions": {r: moto_url for r in
                                             ("us-east-1", "us-east-2", "us-west-2")}}))
    r = conform(["--target", f"endpoints:{state}", "--out", str(tmp_path / "out")])
    assert r.return_value == 1, r.output
    verdicts = {c["id"]: (c["verdict"], c["evidence"]) for c in json.loads(
        (tmp_path / "out" / "conform.json").read_text())["claims"]}
    assert verdicts["API-replicas"] == (
        "fail", "replica us-east-2 does not exist after ReplicaUpdates Create (this endpoint "
                "does not implement global-table replicas)")
    assert verdicts["API-own-region"] == ("fail", "accepted")
    assert verdicts["A01"][0] == "pass"
    assert verdicts["M06"][0] == "not observable here"

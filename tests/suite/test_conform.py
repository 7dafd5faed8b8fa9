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
            "M01", "M01-witness", "M06", "M08", "M10", "M14", "A07", "M13"} <= set(verdicts)
    assert doc["valid"] is True
    assert "22 pass, 0 fail, 0 inconclusive, 0 not observable here" in r.output
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


@pytest.mark.parametrize("bug", [None, "stream-record-for-dropped-write"])
def test_the_a07_probe_fails_when_a_dropped_write_is_recorded(bug):
    from emulator import Deployment
    from emulator.testing import clients, create_global_table
    from suite.conform import FAIL, PASS, Conformance
    regions = ("us-east-1", "us-east-2", "us-west-2")
    with Deployment(list(regions), latency_scale=0.1, bugs=[bug] if bug else []) as d:
        create_global_table(d, "gtcheck-a07")
        data, sc = clients(d), clients(d, "dynamodbstreams")
        c = Conformance(lambda r: data[r], lambda r: data[r], regions, regions[2],
                        pause=None, resume=None, isolate=d.isolate, heal=d.heal,
                        streams=lambda r: sc[r])
        c.stream_drop_claim("gtcheck-a07", regions)
    (claim,) = c.claims
    assert claim.id == "A07" and claim.verdict == (FAIL if bug else PASS), claim


@pytest.mark.parametrize("bug", [None, "mrsc-stream-reorder"])
def test_the_m13_probe_fails_when_a_stream_is_reordered(bug):
    from emulator import Deployment
    from emulator.testing import clients, create_global_table
    from suite.conform import FAIL, PASS, Conformance
    regions = ("us-east-1", "us-east-2")
    with Deployment(list(regions) + ["us-west-2"], mode="strong", latency_scale=0.1,
                    bugs=[bug] if bug else []) as d:
        create_global_table(d, "gtcheck-m13", mode="STRONG")
        data, sc = clients(d), clients(d, "dynamodbstreams")
        c = Conformance(lambda r: data[r], lambda r: data[r], regions, "us-west-2",
                        pause=None, resume=None, streams=lambda r: sc[r])
        c.stream_order_claim("gtcheck-m13", *regions)
    (claim,) = c.claims
    assert claim.id == "M13" and claim.verdict == (FAIL if bug else PASS), claim

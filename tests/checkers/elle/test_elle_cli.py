"""`gtcheck check --model list-append|rw-register`: verdict lines, JSON, exit statuses."""

import json
from pathlib import Path

from click.testing import CliRunner

from suite.cli import main

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "peer-histories" / "elle"
DATA = CORPUS / "test" / "test-data"


def invoke(*args):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def test_lines_and_exit_status_per_verdict():
    bad = DATA / "list-append-anomaly-g-single-item.json"
    good = DATA / "list-append-valid-append-only.json"
    r = invoke("--model", "list-append", "--format", "elle-json", good)
    assert r.exit_code == 0, r.output
    name, verdict, seconds = r.output.strip().split("\t")
    assert (name, verdict) == (str(good), "true") and float(seconds) >= 0
    r = invoke("--model", "list-append", "--format", "elle-json", good, bad)
    assert r.exit_code == 1
    assert [line.split("\t")[1] for line in r.output.strip().splitlines()] == \
        ["true", "false"]
    r = invoke("--model", "list-append", "--format", "elle-json",
               DATA / "list-append-valid-read-empty.json")
    assert r.exit_code == 2 and "\tunknown\t" in r.output


def test_consistency_model_decides_the_verdict():
    paper = CORPUS / "histories" / "elle" / "paper-example.edn"  # G-single-item
    assert invoke("--model", "list-append", "--format", "edn", paper).exit_code == 1
    r = invoke("--model", "list-append", "--format", "edn",
               "--consistency-model", "read-committed", paper)
    assert r.exit_code == 0, r.output
    r = invoke("--model", "list-append", "--format", "edn",
               "--consistency-model", "snapshot-isolation", paper)
    assert r.exit_code == 1


def test_json_result_names_anomalies_and_explains_them():
    r = invoke("--model", "rw-register", "--format", "elle-json", "--json",
               DATA / "rw-register-anomaly-g-single-item.json")
    assert r.exit_code == 1
    res = json.loads(r.output)["result"]
    assert res["anomaly_types"] == ["G-single-item"]
    assert res["not"] == ["consistent-view", "repeatable-read"]
    assert res["weakest_violated"] == "snapshot-isolation"
    assert res["strongest_consistent"] == "read-committed"
    (sentence,) = res["explanations"]
    assert "rw:" in sentence and "wr:" in sentence and "key x" in sentence


def test_bad_input_is_one_line_and_exit_3(tmp_path):
    r = invoke("--model", "list-append", "--format", "elle-json",
               "--consistency-model", "bogus", DATA / "list-append-valid-append-only.json")
    assert r.exit_code == 3 and "bogus" in r.output and "Traceback" not in r.output
    broken = tmp_path / "h.json"
    broken.write_text('[{"index": 0, "process": 0, "type": "ok", "value": []}]')
    r = invoke("--model", "list-append", "--format", "elle-json", broken)
    assert r.exit_code == 3 and "without an invocation" in r.output
    r = invoke("--model", "register", "--consistency-model", "serializable",
               DATA / "list-append-valid-append-only.json")
    assert r.exit_code == 3


def _jsonl(path, txns):
    """(region, process, value-at-completion) transactions, one after another."""
    lines, i = [], 0
    for region, process, mops in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in mops]
        for typ, value in (("invoke", inv), ("ok", mops)):
            lines.append(json.dumps({"index": i, "time": i, "type": typ, "process": process,
                                     "f": "txn", "value": value, "region": region}))
            i += 1
    path.write_text("\n".join(lines) + "\n")
    return path


def test_serializable_in_writing_region_from_a_gtcheck_history(tmp_path):
    # us-east-2 reads us-east-1's two-key append half-replicated: allowed (A11); in
    # us-east-1 itself the same read would be read skew, a violation
    common = [("us-east-1", 0, [["append", "x", 1], ["append", "y", 1]]),
              ("us-east-1", 2, [["r", "x", [1]], ["r", "y", [1]]])]
    remote = _jsonl(tmp_path / "remote.jsonl",
                    common + [("us-east-2", 1, [["r", "x", [1]], ["r", "y", []]])])
    local = _jsonl(tmp_path / "local.jsonl",
                   common + [("us-east-1", 1, [["r", "x", [1]], ["r", "y", []]])])
    args = ("--model", "list-append", "--consistency-model", "serializable-in-writing-region")
    assert invoke(*args, remote).exit_code == 0
    r = invoke(*args, "--json", local)
    assert r.exit_code == 1
    res = json.loads(r.output)["result"]
    assert res["regions"]["us-east-1"]["anomaly_types"] == ["G-single-item"]
    # the whole history, though, is not serializable: that is the cross-region anomaly
    assert invoke("--model", "list-append", "--consistency-model", "serializable",
                  remote).exit_code == 1


def test_wrong_micro_ops_are_bad_input_and_repeated_appends_unknown(tmp_path):
    reg = tmp_path / "reg.json"
    reg.write_text(json.dumps([
        {"index": 0, "process": 0, "type": "invoke", "value": [["w", "x", 1]]},
        {"index": 1, "process": 0, "type": "ok", "value": [["w", "x", 1]]}]))
    r = invoke("--model", "list-append", "--format", "elle-json", reg)
    assert r.exit_code == 3 and "micro-ops w" in r.output
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps([
        {"index": i, "process": i // 2, "type": t, "value": [["append", "x", 1]]}
        for i, t in enumerate(["invoke", "ok", "invoke", "ok"])]))
    # Elle's verify-unique-appends: valid? :unknown, :duplicate-appends (not a verdict)
    r = invoke("--model", "list-append", "--format", "elle-json", dup)
    assert r.exit_code == 2 and "\tunknown\t" in r.output
    assert "appends 1 to key 'x'" in r.output and "written once per key" in r.output


def test_bank_model_on_jepsen_histories():
    ok = CORPUS / "histories" / "jepsen" / "bank.json"
    neg = CORPUS / "histories" / "jepsen" / "bank-negative-balances.json"
    r = invoke("--model", "bank", "--format", "elle-json", ok, neg)
    assert r.exit_code == 1
    assert [line.split("\t")[1] for line in r.output.strip().splitlines()] == \
        ["true", "false"]
    r = invoke("--model", "bank", "--format", "elle-json", "--json", neg)
    assert json.loads(r.output)["result"]["errors"]["negative-value"][0]["negative"] == [-1]

"""`gtcheck check` through click's CliRunner: verdict lines, exit codes, bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from suite.cli import main

GOOD = [
    {"type": "invoke", "process": 0, "f": "write", "value": 1},
    {"type": "ok", "process": 0, "f": "write", "value": 1},
    {"type": "invoke", "process": 1, "f": "read"},
    {"type": "ok", "process": 1, "f": "read", "value": 1},
]


def write_lines(path, objs):
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return str(path)


def check(*args):
    return CliRunner().invoke(main, ["check", *args])


def test_a_valid_file_without_a_model_is_validated(tmp_path):
    f = write_lines(tmp_path / "good.jsonl", GOOD)
    r = check(f)
    assert r.exit_code == 0, r.output
    name, verdict, seconds = r.output.strip().split("\t")
    assert (name, verdict) == (f, "true") and float(seconds) >= 0


@pytest.mark.parametrize("lines,line_no,words", [
    (GOOD[:1] + [{"type": "invoke", "process": 0, "f": "write", "value": 2}], 2,
     "double invoke"),
    ([{"type": "ok", "process": 3, "f": "read", "value": 1}], 1, "without an invocation"),
    (GOOD[:1] + [{"type": "ok", "process": 0, "f": "read"}], 2, "does not match"),
    ([{"type": "invoke", "process": 0, "f": "w"}, {"type": "info", "process": 0, "f": "w"},
      {"type": "invoke", "process": 0, "f": "w"}], 3, "after an info"),
    ([{"type": "invoke", "process": 0}], 1, "missing field"),
    ([{"type": "begin", "process": 0, "f": "w"}], 1, "unknown type"),
])
def test_malformed_histories_exit_3_naming_the_line(tmp_path, lines, line_no, words):
    f = write_lines(tmp_path / "bad.jsonl", lines)
    r = check(f)
    assert r.exit_code == 3
    assert f"{f}:{line_no}:" in r.output and words in r.output
    assert "Traceback" not in r.output


def test_broken_json_exits_3_naming_the_line(tmp_path):
    p = tmp_path / "broken.jsonl"
    p.write_text(json.dumps(GOOD[0]) + "\n" + '{"type": "ok", "process": 0,\n')
    r = check(str(p))
    assert r.exit_code == 3
    assert f"{p}:2: not valid JSON" in r.output


def test_a_missing_file_exits_3(tmp_path):
    r = check(str(tmp_path / "nope.jsonl"))
    assert r.exit_code == 3 and "cannot read" in r.output


def test_one_bad_file_among_good_ones_still_reports_the_good(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", GOOD)
    bad = write_lines(tmp_path / "bad.jsonl", [{"type": "ok", "process": 0, "f": "w"}])
    r = check(good, bad)
    assert r.exit_code == 3
    assert f"{good}\ttrue\t" in r.output and f"{bad}:1:" in r.output


def test_bad_options_exit_3(tmp_path):
    f = write_lines(tmp_path / "good.jsonl", GOOD)
    assert check("--format", "xml", f).exit_code == 3
    r = check("--initial", "{not json", "--model", "register", f)
    assert r.exit_code == 3 and "--initial is not valid JSON" in r.output
    assert check().exit_code == 3  # FILE is required


def test_json_output(tmp_path):
    f = write_lines(tmp_path / "good.jsonl", GOOD)
    r = check("--json", f)
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["file"] == f and d["valid"] is True and d["result"]["ops"] == 4


STALE = [
    {"type": "invoke", "process": 0, "f": "write", "value": 1},
    {"type": "ok", "process": 0, "f": "write", "value": 1},
    {"type": "invoke", "process": 0, "f": "write", "value": 2},
    {"type": "ok", "process": 0, "f": "write", "value": 2},
    {"type": "invoke", "process": 1, "f": "read"},
    {"type": "ok", "process": 1, "f": "read", "value": 1},
]


def test_the_real_model_judges_valid_and_stale_histories(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", GOOD)
    stale = write_lines(tmp_path / "stale.jsonl", STALE)
    r = check("--model", "register", good)
    assert r.exit_code == 0 and r.output.split("\t")[1] == "true", r.output
    r = check("--model", "register", good, stale)
    assert r.exit_code == 1, r.output
    assert [ln.split("\t")[1] for ln in r.output.strip().splitlines()] == ["true", "false"]


def test_an_unknown_model_is_bad_input(tmp_path):
    f = write_lines(tmp_path / "good.jsonl", GOOD)
    r = check("--model", "queue", f)
    assert r.exit_code == 3 and "Traceback" not in r.output, r.output


@pytest.mark.parametrize("verdicts,code,words", [
    ([True, True], 0, ["true", "true"]),
    ([True, False], 1, ["true", "false"]),
    ([True, "unknown"], 2, ["true", "unknown"]),
    (["unknown", False], 1, ["unknown", "false"]),
])
def test_exit_status_summarises_the_model_verdicts(tmp_path, monkeypatch, verdicts, code, words):
    """A stand-in for the checker isolates the wiring: the arguments it receives and how
    its verdicts become lines and exit codes (unknown is hard to provoke for real)."""
    calls = []
    answers = iter(verdicts)

    def fake_check(ops, model, *, initial=None, timeout=None, partition=True, rules=None):
        calls.append((len(ops), model, initial, timeout, partition, rules))
        return {"valid": next(answers)}

    from checkers import linearizability
    monkeypatch.setattr(linearizability, "check", fake_check)
    files = [write_lines(tmp_path / f"h{i}.jsonl", GOOD) for i in range(len(verdicts))]
    r = check("--model", "cas-register", "--initial", "0", "--timeout", "2.5", *files)
    assert r.exit_code == code, r.output
    assert [ln.split("\t")[1] for ln in r.output.strip().splitlines()] == words
    assert calls == [(4, "cas-register", 0, 2.5, True, "dynamodb")] * len(verdicts)


def test_indices_that_repeat_or_run_backwards_exit_3_not_a_verdict(tmp_path):
    # sorted by index, the write's completion (index 1) would pair with the read's
    # invocation: the old wrong verdict. Now: bad input naming the file and line.
    lines = [{"index": 2, "time": 0, "type": "invoke", "process": 0, "f": "write", "value": 1},
             {"index": 3, "time": 1, "type": "invoke", "process": 1, "f": "read"},
             {"index": 1, "time": 2, "type": "ok", "process": 0, "f": "write", "value": 1},
             {"index": 4, "time": 3, "type": "ok", "process": 1, "f": "read", "value": 1}]
    f = write_lines(tmp_path / "backwards.jsonl", lines)
    r = check("--model", "register", f)
    assert r.exit_code == 3 and f"{f}:3: index 1 does not rise" in r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
    edn = tmp_path / "repeat.edn"
    edn.write_text("{:process 0, :type :invoke, :f :write, :value 1, :index 0}\n"
                   "{:process 0, :type :ok, :f :write, :value 1, :index 0}\n")
    r = check("--format", "edn", "--model", "register", str(edn))
    assert r.exit_code == 3 and f"{edn}:2: index 0 does not rise" in r.output
    # the same file without indices is judged by line order
    f2 = write_lines(tmp_path / "noindex.jsonl",
                     [{k: v for k, v in o.items() if k != "index"} for o in lines])
    assert check("--model", "register", f2).exit_code == 0

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


def test_a_valid_file_without_a_model_is_validated_and_unknown(tmp_path):
    # VALID needs evidence: a well-formed file that no model judged is "unknown" (exit 2)
    f = write_lines(tmp_path / "good.jsonl", GOOD)
    r = CliRunner().invoke(main, ["check", f])
    assert r.exit_code == 2, r.output
    name, verdict, seconds = r.stdout.strip().split("\t")
    assert (name, verdict) == (f, "unknown") and float(seconds) >= 0
    assert "nothing was judged" in r.stderr


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
    r = check("--model", "register", good, bad)
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
    r = check("--json", "--model", "register", f)
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["file"] == f and d["valid"] is True and d["result"]["model"] == "register"


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

    def fake_check(ops, model, *, initial=None, timeout=None, partition=True, rules=None,
                   counterexamples=20):
        calls.append((len(ops), model, initial, timeout, partition, rules))
        assert counterexamples == 1  # the verdict line needs the first invalid key only
        return {"valid": next(answers)}

    from checkers import linearizability
    monkeypatch.setattr(linearizability, "check", fake_check)
    files = [write_lines(tmp_path / f"h{i}.jsonl", GOOD) for i in range(len(verdicts))]
    r = check("--model", "cas-register", "--initial", "0", "--timeout", "2.5", *files)
    assert r.exit_code == code, r.output
    assert [ln.split("\t")[1] for ln in r.output.strip().splitlines()] == words
    # the timeout passed on is what reading the file left of --timeout
    assert [c[:3] + c[4:] for c in calls] == \
        [(4, "cas-register", 0, True, "dynamodb")] * len(verdicts)
    assert all(2.0 < c[3] <= 2.5 for c in calls)


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


# --- issue 13's findings: wrong-type --initial, empty files ---------------------------

@pytest.mark.parametrize("model,initial,words", [
    ("kv", "5", 'must be a JSON string'),
    ("set", "5", "must be a JSON list"),
    ("counter", '"abc"', "must be a number"),
    ("counter", "true", "must be a number"),
    ("register", '{"a": 1}', "other than an object"),
])
def test_an_initial_of_the_wrong_type_exits_3_with_one_line(tmp_path, model, initial, words):
    f = write_lines(tmp_path / "good.jsonl", GOOD)
    r = check("--model", model, "--initial", initial, f)
    assert r.exit_code == 3, r.output
    assert r.output.count("\n") == 1 and words in r.output and model in r.output


@pytest.mark.parametrize("fmt,text", [("jsonl", ""), ("jsonl", "\n\n"), ("edn", ""),
                                      ("porcupine-kv", "")])
def test_an_empty_file_is_bad_input_not_valid(tmp_path, fmt, text):
    p = tmp_path / "empty"
    p.write_text(text)
    for args in ([], ["--model", "kv" if fmt == "porcupine-kv" else "register"]):
        r = check("--format", fmt, *args, str(p))
        assert r.exit_code == 3, r.output
        assert f"{p}: no operations" in r.output and "\ttrue\t" not in r.output


# --- class 8: on gtcheck's histories, check judges what the mode promises -------------

def strong_history_with_a_stale_ec_read():
    """MRSC: write 1 acknowledged, then an EC read in another region still sees nothing
    (M07 allows it), then an SC read sees 1."""
    ops = [{"type": "invoke", "process": 0, "f": "write", "key": "k", "value": 1,
            "region": "us-east-1"},
           {"type": "ok", "process": 0, "f": "write", "key": "k", "value": 1,
            "region": "us-east-1"},
           {"type": "invoke", "process": 1, "f": "read", "key": "k", "region": "us-west-2",
            "consistent": False},
           {"type": "ok", "process": 1, "f": "read", "key": "k", "region": "us-west-2",
            "consistent": False},
           {"type": "invoke", "process": 2, "f": "read", "key": "k", "region": "us-east-2",
            "consistent": True},
           {"type": "ok", "process": 2, "f": "read", "key": "k", "value": 1,
            "region": "us-east-2", "consistent": True}]
    return [{"index": i, "time": i * 10, **o} for i, o in enumerate(ops)]


def test_ec_reads_are_left_out_of_the_model_check_unless_asked(tmp_path):
    f = write_lines(tmp_path / "h.jsonl", strong_history_with_a_stale_ec_read())
    r = check("--model", "cas-register", f)
    assert r.exit_code == 0 and f"{f}\ttrue\t" in r.output
    assert "1 EC reads left out" in r.output
    r = check("--model", "cas-register", "--include-ec-reads", "--json", f)
    assert r.exit_code == 1
    assert json.loads(r.output.strip().splitlines()[-1])["result"]["ec_reads"] == "included"


def with_final_reads(ops, value=1):
    """Final reads (extra "final": true) of `value` in every region, after the rest."""
    out = list(ops)
    for p, region in enumerate(("us-east-1", "us-east-2", "us-west-2"), start=10):
        for typ in ("invoke", "ok"):
            out.append({"index": len(out), "time": len(out) * 10, "type": typ, "process": p,
                        "f": "read", "key": "k", "region": region, "consistent": True,
                        "final": True, **({"value": value} if typ == "ok" else {})})
    return out


def test_mode_runs_the_analyze_checker_set_and_infers_the_workload(tmp_path):
    f = write_lines(tmp_path / "h.jsonl", with_final_reads(strong_history_with_a_stale_ec_read()))
    r = check("--mode", "strong", "--json", f)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert out["result"]["mode"] == "strong" and out["result"]["workload"] == "register"
    assert {"linearizability", "sc-reads", "ec-reads"} <= set(out["result"]["checkers"])
    # the same SC read returning nothing instead: a stale SC read, a violation
    ops = with_final_reads(strong_history_with_a_stale_ec_read())
    del ops[5]["value"]
    f2 = write_lines(tmp_path / "stale.jsonl", ops)
    r = check("--mode", "strong", f2)
    assert r.exit_code == 1 and f"{f2}\tfalse\t" in r.output
    assert check("--mode", "strong", "--model", "register", f).exit_code == 3
    assert check("--mode", "strong", "--format", "edn", f).exit_code == 3


@pytest.mark.slow
def test_check_and_run_agree_on_a_real_strong_run_with_partitions(tmp_path):
    """A real `gtcheck run` (boto3 over HTTP against the emulator, isolate faults), then
    `check` three ways and `analyze`: the verdicts are the run's."""
    r = CliRunner().invoke(main, [
        "run", "--target", "emulator", "--mode", "strong", "--workload", "register",
        "--nemesis", "isolate", "--nemesis-interval", "1", "--time-limit", "5",
        "--rate", "60", "--keys", "1", "--latency-scale", "0.2", "--seed", "3",
        "--final-wait", "0.3", "--store", str(tmp_path / "store")])
    assert "run directory:" in r.output, r.output
    run_dir = r.output.split("run directory:")[1].split()[0]
    results = json.loads(open(f"{run_dir}/results.json").read())
    history = f"{run_dir}/history.jsonl"
    lin = results["checkers"]["linearizability"]["valid"]
    word = {True: "true", False: "false"}.get
    by_model = check("--model", "cas-register", history)
    assert f"{history}\t{word(lin, 'unknown')}\t" in by_model.output, by_model.output
    assert "EC reads left out" in by_model.output  # the run made EC reads; it says so
    verdict = word(results["valid"], "unknown")
    for args in ([], ["--mode", "strong"]):  # test.json beside it, or the mode given
        out = check(*args, history)
        assert f"{history}\t{verdict}\t" in out.output, out.output
    analyzed = CliRunner().invoke(main, ["analyze", run_dir])
    big = {True: "VALID", False: "INVALID"}.get(results["valid"], "UNKNOWN")
    assert f"verdict: {big}" in analyzed.output, analyzed.output


@pytest.mark.slow
def test_timeout_covers_reading_and_checking(tmp_path):
    """--timeout is the whole file's budget: a history too long to read and search in
    it gets "unknown" (exit 2) soon after, never a late answer. (Generous bound: the
    machine may be loaded; the benchmark measures the 0.5 s margin.)"""
    import random
    import time as _time

    from checkers.linearizability.simulate import simulate
    from results.history import write_jsonl
    ops = simulate("register", 60_000, random.Random(5), concurrency=30, keys=1,
                   crash_rate=0.01, values=5)
    path = tmp_path / "long.jsonl"
    write_jsonl(path, ops)
    t0 = _time.monotonic()
    r = check("--model", "register", "--timeout", "0.5", "--json", str(path))
    took = _time.monotonic() - t0
    assert r.exit_code == 2, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert out["valid"] == "unknown" and out["result"]["reason"] == "timeout"
    assert took < 0.5 + 5.0

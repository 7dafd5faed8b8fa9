"""Jepsen's counter, set, set-full and long-fork checkers (checkers/elle/jepsen_rules.py):
a minimal history that breaks each rule beside a near-identical one that keeps it, and the
`gtcheck check` routes (Jepsen's rule on edn / elle-json, linearizability on jsonl)."""

import json

import pytest
from click.testing import CliRunner

from checkers.elle import jepsen_rules as jr
from suite.cli import main


def op(typ, f, value, process=0, index=None, time=None):
    d = {"type": typ, "f": f, "value": value, "process": process}
    if index is not None:
        d["index"] = index
    if time is not None:
        d["time"] = time
    return d


def indexed(ops):
    return [{**o, "index": i, "time": i * 1_000_000_000} for i, o in enumerate(ops)]


# --- counter ------------------------------------------------------------------------

def counter_history(read_value, add_outcome="ok"):
    return [op("invoke", "add", 2, 0), op(add_outcome, "add", 2, 0),
            op("invoke", "add", 3, 1),                      # never completes: may count
            op("invoke", "read", None, 2), op("ok", "read", read_value, 2)]


@pytest.mark.parametrize("value,valid", [(2, True), (5, True), (1, False), (6, False)])
def test_counter_reads_lie_between_acknowledged_and_attempted_adds(value, valid):
    r = jr.counter(counter_history(value))
    assert r["valid"] is valid
    assert r["reads"] == [[2, value, 5]]
    assert r["errors"] == ([] if valid else [[2, value, 5]])


def test_counter_a_failed_add_counts_neither_way():
    # the add of 2 failed: it did not happen, so the upper bound is 3, and 5 is too much
    r = jr.counter(counter_history(5, add_outcome="fail"))
    assert r["valid"] is False and r["reads"] == [[0, 5, 3]]
    assert jr.counter(counter_history(3, add_outcome="fail"))["valid"] is True


# --- set ----------------------------------------------------------------------------

def set_history(final):
    return [op("invoke", "add", 1), op("ok", "add", 1),
            op("invoke", "add", 2, 1), op("info", "add", 2, 1),
            op("invoke", "read", None), op("ok", "read", final)]


def test_set_lost_unexpected_recovered():
    assert jr.set_check(set_history([1]))["valid"] is True
    ok = jr.set_check(set_history([1, 2]))
    assert ok["valid"] is True and ok["recovered"] == [2]
    lost = jr.set_check(set_history([2]))
    assert lost["valid"] is False and lost["lost"] == [1]
    odd = jr.set_check(set_history([1, 7]))
    assert odd["valid"] is False and odd["unexpected"] == [7]


def test_set_never_read_is_unknown():
    assert jr.set_check(set_history([1])[:4])["valid"] == "unknown"


# --- set-full -----------------------------------------------------------------------

def test_set_full_lost_element_beside_a_stable_one():
    ops = indexed([op("invoke", "add", 1), op("ok", "add", 1),
                   op("invoke", "read", None), op("ok", "read", [1]),
                   op("invoke", "read", None), op("ok", "read", [1])])
    good = jr.set_full(ops)
    assert good["valid"] is True and good["stable-count"] == 1 and good["lost"] == []
    ops[-1] = {**ops[-1], "value": []}            # the last read no longer sees 1
    bad = jr.set_full(ops)
    assert bad["valid"] is False and bad["lost"] == [1] and bad["stable-count"] == 0


def test_set_full_stale_only_fails_when_linearizable():
    # the read invoked after add 1 completed misses it; a later read sees it: stale
    ops = indexed([op("invoke", "add", 1), op("ok", "add", 1),
                   op("invoke", "read", None), op("ok", "read", []),
                   op("invoke", "read", None), op("ok", "read", [1])])
    assert jr.set_full(ops)["valid"] is True
    r = jr.set_full(ops, linearizable=True)
    assert r["valid"] is False and r["stale"] == [1]


def test_set_full_nothing_stable_is_unknown_and_duplicates_are_invalid():
    ops = indexed([op("invoke", "add", 1), op("info", "add", 1)])
    assert jr.set_full(ops)["valid"] == "unknown"
    dup = indexed([op("invoke", "add", 1), op("ok", "add", 1),
                   op("invoke", "read", None), op("ok", "read", [1, 1])])
    r = jr.set_full(dup)
    assert r["valid"] is False and r["duplicated-count"] == 1


# --- long-fork ----------------------------------------------------------------------

def long_fork_history(second_read):
    return [op("invoke", "txn", [["w", "x", 1]], 0), op("ok", "txn", [["w", "x", 1]], 0),
            op("invoke", "txn", [["w", "y", 1]], 1), op("ok", "txn", [["w", "y", 1]], 1),
            op("invoke", "txn", [["r", "x", None], ["r", "y", None]], 2),
            op("ok", "txn", [["r", "x", 1], ["r", "y", None]], 2),
            op("invoke", "txn", [["r", "y", None], ["r", "x", None]], 3),
            op("ok", "txn", second_read, 3)]


def test_long_fork_two_reads_seeing_different_writes_fork():
    bad = jr.long_fork(long_fork_history([["r", "y", 1], ["r", "x", None]]))
    assert bad["valid"] is False and len(bad["forks"]) == 1
    good = jr.long_fork(long_fork_history([["r", "y", 1], ["r", "x", 1]]))
    assert good["valid"] is True and good["late-read-count"] == 1


def test_long_fork_writing_a_key_twice_is_unknown():
    h = long_fork_history([["r", "y", 1], ["r", "x", 1]])
    h += [op("invoke", "txn", [["w", "x", 2]], 4)]
    assert jr.long_fork(h)["valid"] == "unknown"


def test_long_fork_reads_of_the_wrong_group_size_are_bad_input():
    from suite.errors import BadInput
    with pytest.raises(BadInput, match="exactly 3 keys"):
        jr.long_fork(long_fork_history([["r", "y", 1], ["r", "x", 1]]), 3)


# --- the command --------------------------------------------------------------------

def check(*args):
    return CliRunner().invoke(main, ["check", *args])


def test_check_counter_on_elle_json_is_jepsens_counter(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps(counter_history(6)))
    r = check("--model", "counter", "--format", "elle-json", "--json", str(f))
    assert r.exit_code == 1, r.output
    assert json.loads(r.output)["result"]["errors"] == [[2, 6, 5]]
    f.write_text(json.dumps(counter_history(5)))
    assert check("--model", "jepsen-counter", "--format", "elle-json", str(f)).exit_code == 0


def test_check_set_full_and_long_fork_on_edn(tmp_path):
    f = tmp_path / "s.edn"
    f.write_text("[{:type :invoke, :f :add, :value 1, :process 0, :index 0}\n"
                 "{:type :ok, :f :add, :value 1, :process 0, :index 1}\n"
                 "{:type :invoke, :f :read, :value nil, :process 0, :index 2}\n"
                 "{:type :ok, :f :read, :value [], :process 0, :index 3}]")
    r = check("--model", "set-full", "--format", "edn", str(f))
    assert r.exit_code == 1 and "\tfalse\t" in r.output
    g = tmp_path / "lf.edn"
    g.write_text("[{:type :invoke, :f :read, :value [[:r 0 nil] [:r 1 nil]]}\n"
                 " {:type :ok, :f :read, :value [[:r 0 1] [:r 1 nil]]}\n"
                 " {:type :invoke, :f :read, :value [[:r 1 nil] [:r 0 nil]]}\n"
                 " {:type :ok, :f :read, :value [[:r 1 1] [:r 0 nil]]}]")
    assert check("--model", "long-fork", "--format", "edn", str(g)).exit_code == 1
    # completions without invocations: bad input, as in every format
    h = tmp_path / "unpaired.edn"
    h.write_text("[{:type :ok, :f :read, :value [[:r 0 1] [:r 1 nil]]}]")
    r = check("--model", "long-fork", "--format", "edn", str(h))
    assert r.exit_code == 3 and "without an invocation" in r.output
    r = check("--model", "long-fork", "--group-size", "3", "--format", "edn", str(g))
    assert r.exit_code == 3 and "exactly 3 keys" in r.output
    # a set read that is no collection (a number): bad input naming the op, not a crash
    n = tmp_path / "set-number.edn"
    n.write_text("{:process 0, :type :invoke, :f :add, :value 1, :index 0}\n"
                 "{:process 0, :type :ok, :f :add, :value 1, :index 1}\n"
                 "{:process 1, :type :invoke, :f :read, :value nil, :index 2}\n"
                 "{:process 1, :type :ok, :f :read, :value 5, :index 3}\n")
    for model in ("set", "set-full"):
        r = check("--model", model, "--format", "edn", str(n))
        assert r.exit_code == 3, r.output
        assert f"{model}: ok read of 5 (index 3)" in r.output and "Traceback" not in r.output


def test_jepsen_only_models_refuse_gtcheck_jsonl_and_counter_there_stays_linearizable(
        tmp_path):
    f = tmp_path / "h.jsonl"
    lines = [{"type": "invoke", "process": 0, "f": "add", "value": 1, "time": 1, "index": 0},
             {"type": "ok", "process": 0, "f": "add", "value": 1, "time": 2, "index": 1},
             {"type": "invoke", "process": 0, "f": "read", "value": None, "time": 3,
              "index": 2},
             {"type": "ok", "process": 0, "f": "read", "value": 1, "time": 4, "index": 3}]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = check("--model", "set-full", str(f))
    assert r.exit_code == 3 and "--format edn or elle-json" in r.output
    r = check("--model", "counter", "--json", str(f))
    assert r.exit_code == 0, r.output
    assert "reads" not in json.loads(r.output)["result"]  # a linearizability result
    r = check("--model", "register", "--group-size", "2", str(f))
    assert r.exit_code == 3 and "--group-size" in r.output


def test_linearizability_only_options_are_refused_for_jepsens_rules(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps(counter_history(5)))
    r = check("--model", "counter", "--format", "elle-json", "--initial", "0", str(f))
    assert r.exit_code == 3 and "--initial" in r.output and r.output.count("\n") == 1

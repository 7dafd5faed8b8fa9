"""checkers.elle.txn.load_elle_json: the one-pass elle-json reader gives what reading
every op map first gives (`read_records` then `pair`: same transactions, same problems
named), and pauses the collector only while it reads (issue 23)."""

from __future__ import annotations

import gc
import json
import random

import pytest

from checkers.elle import cli_check, simulate, txn
from suite.errors import BadInput


def _write(path, txns) -> None:
    """Transactions as elle-cli JSON, one op a line (invocations' reads nil)."""
    events = []
    for t in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in t.mops]
        done = [[f, k, list(v) if isinstance(v, tuple) else v] for f, k, v in t.mops]
        events.append((t.invoke_time, 0, {"type": "invoke", "f": "txn", "value": inv,
                                          "process": t.process}))
        end = t.complete_time if t.complete_time is not None else 10 ** 9
        if t.complete_time is not None or t.type != "info":
            events.append((end, 1, {"type": t.type, "f": "txn", "value": done,
                                    "process": t.process}))
    events.sort(key=lambda e: (e[0], e[1]))
    ops = [{**op, "index": i, "time": t} for i, (t, _, op) in enumerate(events)]
    path.write_text("[\n" + ",\n".join(json.dumps(o) for o in ops) + "\n]\n")


def _old_way(path: str) -> list:
    records, lines = cli_check.read_records(path, "elle-json")
    return txn.pair(records, path, lines=lines)


def _fields(txns) -> list:
    return [(t.id, t.index, t.process, t.type, t.mops, t.invoke_time, t.complete_time,
             t.invoke_index) for t in txns]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("workload", ["list-append", "rw-register"])
def test_same_transactions_as_reading_every_op_first(tmp_path, seed, workload):
    rng = random.Random(seed)
    txns = simulate.serializable(rng, rng.randint(1, 300), workload=workload,
                                 keys=rng.randint(1, 6), info_rate=0.1, fail_rate=0.1)
    path = tmp_path / "h.json"
    _write(path, txns)
    new = txn.load_elle_json(str(path))
    assert new and _fields(new) == _fields(_old_way(str(path)))
    # the shared values are equal values (a read of [1 2] stays [1 2])
    assert [m for t in new for m in t.mops] == [m for t in _old_way(str(path))
                                               for m in t.mops]


def _op(i, typ, process=0, value=None, **extra):
    return {"index": i, "type": typ, "f": "txn", "process": process,
            "value": [["append", "x", i]] if value is None else value, **extra}


DEEP = [["append", "x", 1], ["r", "y", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]


@pytest.mark.parametrize("ops", [
    [_op(0, "invoke"), _op(1, "invoke")],                           # double invoke
    [_op(0, "ok")],                                                 # no invocation
    [_op(0, "invoke"), _op(1, "crash")],                            # unknown type
    [_op(0, "invoke"), {**_op(1, "ok"), "f": "read"}],              # f differs
    [{**_op(0, "invoke"), "process": [0]}],                         # process a list
    [{**_op(0, "invoke"), "time": "1"}],                            # time a string
    [_op(0, "invoke", value=DEEP), _op(1, "ok")],                   # invocation too deep
    [_op(0, "invoke"), _op(1, "ok", value=[["append", {"a": 1}, 1]])],  # key a map
    [_op(0, "invoke"), _op(1, "ok", value=[["append", "x", [[1]]]])],   # value nested
    [_op(0, "invoke"), _op(1, "ok", value=7)],                      # value not a list
    [_op(0, "invoke"), 5],                                          # not an object
    [{"index": 0, "type": "invoke", "f": "txn", "value": [["append", "x", 1]]}],  # no process
])
def test_same_problem_named(tmp_path, ops):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(ops))
    with pytest.raises(BadInput) as old:
        _old_way(str(path))
    with pytest.raises(BadInput) as new:
        txn.load_elle_json(str(path))
    assert str(new.value) == str(old.value)


def test_empty_is_no_operations_and_collector_restored(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("[]")
    assert gc.isenabled()
    with pytest.raises(BadInput, match="no operations"):
        txn.load_elle_json(str(path))
    assert gc.isenabled()
    path.write_text(json.dumps([{"index": 0, "type": "info", "f": "start",
                                 "process": "nemesis"}]))
    assert txn.load_elle_json(str(path)) == []  # operations, but no transaction
    assert gc.isenabled()

"""checkers.elle.txn.load_edn and pair_stream: the streamed readers (Jepsen EDN block by
block, elle-json element by element) give what reading every op map first gives
(`cli_check.read_records` then `txn.pair`): the same transactions, the same problem
named, whether a record takes pair_stream's inline path (the usual shape) or its general
one (nemesis ops, regions, string values, nil completions, absent times, other f's)."""

from __future__ import annotations

import json
import random

import pytest

from checkers.elle import check, cli_check, simulate, txn
from suite.errors import BadInput

KEYWORD_FIELDS = ("type", "f")


def edn(v, keyword: bool = False) -> str:
    """A plain value as EDN: strings in KEYWORD_FIELDS and micro-op names as keywords."""
    if isinstance(v, dict):
        return "{" + ", ".join(f":{k} {edn(x, k in KEYWORD_FIELDS)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + " ".join(edn(x) if not (keyword and i == 0) else edn(x, True)
                              for i, x in enumerate(v)) + "]"
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f":{v}" if keyword else json.dumps(v)
    return str(v)


def edn_op(op: dict) -> str:
    out = dict(op)
    if isinstance(out.get("value"), list):  # micro-ops: [:append k v]
        return edn({k: v for k, v in out.items() if k != "value"})[:-1] + ", :value [" + \
            " ".join(edn(m, keyword=True) if isinstance(m, list) else edn(m)
                     for m in out["value"]) + "]}"
    return edn(out)


def ops_of(txns, rng: random.Random, unusual: bool) -> list[dict]:
    """Transactions as op maps, invocations' reads nil; with `unusual`, some records in
    shapes the inline path leaves to the general one."""
    events = []
    for t in txns:
        inv = [[f, k, None if f == "r" else v] for f, k, v in t.mops]
        done = [[f, k, list(v) if isinstance(v, tuple) else v] for f, k, v in t.mops]
        events.append((t.invoke_time, 0, {"type": "invoke", "f": "txn", "value": inv,
                                          "process": t.process}))
        if t.complete_time is not None or t.type != "info":
            end = t.complete_time if t.complete_time is not None else 10 ** 9
            events.append((end, 1, {"type": t.type, "f": "txn", "value": done,
                                    "process": t.process}))
    events.sort(key=lambda e: (e[0], e[1]))
    ops = [{**op, "index": i, "time": t} for i, (t, _, op) in enumerate(events)]
    if unusual:
        for op in ops:
            roll = rng.random()
            if roll < 0.05:
                op["region"] = rng.choice(["us-east-1", "us-east-2"])
            elif roll < 0.1:
                del op["time"]
            elif roll < 0.13 and op["type"] == "fail":
                op["value"] = None  # a completion without its value: the invocation's
            elif roll < 0.16:
                op["value"] = [[f, str(k), v] for f, k, v in op["value"]]  # string keys
        for i in sorted(rng.sample(range(len(ops) + 1), 3), reverse=True):
            ops.insert(i, {"type": "info", "f": "start", "process": "nemesis",
                           "value": {"isolate": "us-east-2"}, "index": -1})
        for i, op in enumerate(ops):
            op["index"] = i
    return ops


def old_way(path: str, fmt: str) -> list:
    records, lines = cli_check.read_records(path, fmt)
    return txn.pair(records, path, lines=lines)


def fields(txns) -> list:
    return [(t.id, t.index, t.process, t.type, t.mops, t.invoke_time, t.complete_time,
             t.region, t.invoke_index) for t in txns]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("workload", ["list-append", "rw-register"])
@pytest.mark.parametrize("unusual", [False, True])
def test_same_transactions_and_verdict(tmp_path, seed, workload, unusual):
    rng = random.Random(seed)
    txns = simulate.serializable(rng, rng.randint(1, 200), workload=workload,
                                 keys=rng.randint(1, 5), info_rate=0.1, fail_rate=0.1)
    ops = ops_of(txns, rng, unusual)
    for fmt, text, load in (
            ("edn", "\n".join(map(edn_op, ops)) + "\n", txn.load_edn),
            ("edn", "[" + "\n".join(map(edn_op, ops)) + "]\n", txn.load_edn),
            ("elle-json", json.dumps(ops), txn.load_elle_json)):
        path = tmp_path / f"h.{fmt}"
        path.write_text(text)
        new, old = load(str(path)), old_way(str(path), fmt)
        assert new and fields(new) == fields(old)
        assert check.check(new, workload)["valid"] == check.check(old, workload)["valid"]


def _op(i, typ, process=0, value=None, **extra):
    return {"index": i, "type": typ, "f": "txn", "process": process,
            "value": [["append", 1, i]] if value is None else value, **extra}


@pytest.mark.parametrize("ops", [
    [_op(0, "invoke"), _op(1, "invoke")],                           # double invoke
    [_op(0, "ok")],                                                 # no invocation
    [_op(0, "invoke"), _op(1, "crash")],                            # unknown type
    [_op(0, "invoke"), {**_op(1, "ok"), "f": "read"}],              # f differs
    [{**_op(0, "invoke"), "process": [0]}],                         # process a vector
    [{**_op(0, "invoke"), "time": "1"}],                            # time a string
    [_op(0, "invoke"), _op(1, "ok", value=[["append", 1, [[1]]]])],  # value nested
    [_op(0, "invoke"), _op(1, "ok", value=[["append", 1, 2, 3]])],  # four-element micro-op
    [_op(0, "invoke"), _op(1, "ok", value=7)],                      # value not a vector
    [_op(0, "invoke"), 5],                                          # not a map
    [[_op(0, "invoke")], _op(1, "ok")],                             # a vector, then a map
])
def test_same_problem_named(tmp_path, ops):
    path = tmp_path / "bad.edn"
    path.write_text("\n".join(edn_op(o) if isinstance(o, dict) else
                              "[" + " ".join(map(edn_op, o)) + "]" if isinstance(o, list)
                              else edn(o) for o in ops) + "\n")
    with pytest.raises(BadInput) as old:
        old_way(str(path), "edn")
    with pytest.raises(BadInput) as new:
        txn.load_edn(str(path))
    assert str(new.value) == str(old.value)


def test_empty_is_no_operations(tmp_path):
    path = tmp_path / "empty.edn"
    path.write_text("\n")
    with pytest.raises(BadInput, match="no operations"):
        txn.load_edn(str(path))

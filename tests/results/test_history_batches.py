"""history.jsonl read in batches (results/history.py `_read_batch`, `_ListTexts`): the ops
are the ones a line-by-line decoding gives (`json.loads` + `Op.from_dict`, the oracle here)
whatever the lines hold -- value lists cut out by their text or not, lines the fast path
must refuse -- equal read lists are one object, and a bad line is named exactly as line by
line, in whichever batch it falls and whatever follows it in that batch."""

from __future__ import annotations

import json
import random

import pytest

from gtcheck.errors import BadInput
from results.history import _BATCH_CHARS, _BATCH_LINES, Op, parse_jsonl, read_jsonl


def _compact(d: dict) -> str:
    return json.dumps(d, separators=(",", ":"))  # as HistoryWriter writes


def _oracle(lines: list[str]) -> list[Op]:
    """Line by line, as the reader did before batches: each non-blank line decoded by
    json.loads, made an Op by Op.from_dict, unnumbered lines numbered in order."""
    ops, last = [], -1
    for line in lines:
        if not line.strip():
            continue
        d = json.loads(line)
        op = Op.from_dict(d)
        if "index" not in d:
            op = op.replace(index=last + 1)
        last = op.index
        ops.append(op)
    return ops


def _set_run(rng: random.Random, n_ops: int) -> list[dict]:
    """A set run's shape: adds of fresh elements, reads returning what was added."""
    added: dict[str, list[str]] = {"k0": [], "k1": []}
    out, t = [], 0
    for i in range(n_ops):
        key = rng.choice(sorted(added))
        t += 10
        if rng.random() < 0.4:
            e = f"e{i}"
            out += [{"index": 2 * i, "time": t, "type": "invoke", "process": 0,
                     "f": "add", "key": key, "value": e, "region": "us-east-1"},
                    {"index": 2 * i + 1, "time": t + 5, "type": "ok", "process": 0,
                     "f": "add", "key": key, "value": e, "region": "us-east-1"}]
            added[key].append(e)
        else:
            out += [{"index": 2 * i, "time": t, "type": "invoke", "process": 0,
                     "f": "read", "key": key, "region": "us-east-2", "consistent": True},
                    {"index": 2 * i + 1, "time": t + 5, "type": "ok", "process": 0,
                     "f": "read", "key": key, "value": sorted(added[key]),
                     "region": "us-east-2", "consistent": True}]
    return out


def test_a_set_run_read_in_batches_equals_line_by_line_and_shares_equal_reads(tmp_path):
    lines = [_compact(d) + "\n" for d in _set_run(random.Random(7), 6000)]
    assert len(lines) > 2 * _BATCH_LINES  # several batches
    path = tmp_path / "h.jsonl"
    path.write_text("".join(lines))
    assert path.stat().st_size > 2 * _BATCH_CHARS  # several batches of the file
    ops = read_jsonl(path)
    assert ops == _oracle(lines)
    reads = [op for op in ops if op.type == "ok" and op.f == "read"]
    assert any(len(op.value) > 20 for op in reads)  # long lists took the cut path
    by_value: dict[tuple, list] = {}
    for op in reads:
        first = by_value.setdefault((op.key, tuple(op.value)), op.value)
        if len(json.dumps(op.value)) > 80:  # long enough to be known by its text
            assert first is op.value  # an equal read is the same list
    elements = {}
    for op in reads:
        for e in (op.value if len(op.value) > 8 else ()):  # shorter lists: not worth it
            assert elements.setdefault(e, e) is e  # an equal element is one object


# lines the fast path must leave to the line-by-line reading, or read exactly as it does
_LONG = [f"e{i}" for i in range(40)]
_ODD_LINES = [
    # a value list of strings holding "]" (the first "]" is not the list's end)
    {"type": "ok", "process": 1, "f": "read", "value": ["a]", *_LONG]},
    # a nested list, bools and floats (1 == True == 1.0: never shared by equality)
    {"type": "ok", "process": 1, "f": "read", "value": [[1, 2], *_LONG]},
    {"type": "ok", "process": 1, "f": "read", "value": [True, 1, *_LONG]},
    {"type": "ok", "process": 1, "f": "read", "value": [1.0, 2, *_LONG]},
    # "value" inside strings before and after the list, and an extra field
    {"type": "ok", "process": 1, "f": "read", "key": 'x"value":[1]',
     "value": _LONG},
    {"type": "ok", "process": 1, "f": "read", "value": _LONG, "error": '"value":[9]'},
    {"type": "ok", "process": 1, "f": "read", "value": _LONG, "attempt": 2},
    {"type": "ok", "process": 1, "f": "read", "note": {"value": [1, 2, 3]},
     "value": _LONG},
    # an invocation's list is its own object
    {"type": "invoke", "process": 1, "f": "read", "value": _LONG},
]


@pytest.mark.parametrize("d", _ODD_LINES)
def test_odd_lines_read_as_line_by_line(d):
    lines = [_compact({"index": i, "time": i, **d}) for i in range(3)]
    ops = parse_jsonl(lines, check=False)
    assert ops == _oracle(lines)
    assert [type(x) for x in ops[0].value] == [type(x) for x in d["value"]]
    if d["type"] == "invoke":
        assert ops[0].value is not ops[1].value


def test_a_key_named_value_twice_keeps_the_last_as_json_does():
    line = ('{"index":0,"time":0,"type":"ok","process":1,"f":"read","value":'
            + json.dumps(_LONG, separators=(",", ":")) + ',"value":null}')
    op, = parse_jsonl([line], check=False)
    assert op.value is None  # json.loads keeps the last


def test_blank_lines_spaces_and_missing_indices_as_line_by_line():
    base = {"time": 1, "type": "invoke", "process": 0, "f": "read"}
    lines = [json.dumps({**base, "index": 0}), "   ", "\n",
             "  " + _compact({**base, "index": 5, "process": 1}),
             _compact({**base, "process": 2}),  # no index: the one before plus one
             _compact({**base, "process": 3, "value": _LONG}) + "  \t"]
    assert parse_jsonl(lines, check=False) == _oracle(lines)


def _history_lines(n: int) -> list[str]:
    out = []
    for i in range(n):
        out.append(_compact({"index": 2 * i, "time": 2 * i, "type": "invoke",
                             "process": 0, "f": "write", "key": "k", "value": i}))
        out.append(_compact({"index": 2 * i + 1, "time": 2 * i + 1, "type": "ok",
                             "process": 0, "f": "write", "key": "k",
                             "value": _LONG}))  # a list cut out: the batch path
    return out


@pytest.mark.parametrize("bad_at, bad, message", [
    (_BATCH_LINES + 10, '{"index":1,"time":0,"type":"invoke","process":9,"f":"r"}',
     "index 1 does not rise"),
    (2 * _BATCH_LINES + 1, '{"index":%d,"time":%d,"type":"ok","process":7,"f":"r"}',
     "ok completion of 'r' by process 7 without an invocation"),
    (_BATCH_LINES - 1, '{"index":%d,"time":%d,"type":"invoke","process":7,"f":"r"',
     "not valid JSON"),
    (5, '{"index":%d,"time":%d,"type":"invoke","process":true,"f":"r"}',
     "process must be an integer"),
    (_BATCH_LINES + 3, '{"index":%d,"time":-1,"type":"invoke","process":7,"f":"r"}',
     "time -1 is negative"),
    (_BATCH_LINES + 4, '{"index":%d,"time":%d,"type":"invoke","process":0,"f":"r"}',
     "double invoke"),
    (_BATCH_LINES + 6, '{"index":%d,"time":%d,"type":"ok","process":0,"f":"r"}',
     "does not match the invocation's 'write'"),
])
def test_a_bad_line_in_any_batch_is_named(tmp_path, bad_at, bad, message):
    lines = _history_lines(3 * _BATCH_LINES // 2)
    lines[bad_at - 1] = bad.replace("%d", str(bad_at - 1))  # its index and time in order
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInput) as e:
        read_jsonl(path)
    assert f"h.jsonl:{bad_at}: " in str(e.value) and message in str(e.value)
    with pytest.raises(BadInput) as e:  # batches of _BATCH_LINES lines
        parse_jsonl(lines, source="h.jsonl")
    assert str(e.value).startswith(f"h.jsonl:{bad_at}: ") and message in str(e.value)


def test_the_first_bad_line_of_a_batch_is_named_whatever_follows_it(tmp_path):
    lines = _history_lines(_BATCH_LINES)
    # a pairing error (a second invoke) before a shape error in the same batch
    lines[101] = '{"index":101,"time":101,"type":"invoke","process":0,"f":"write"}'
    lines[201] = '{"index":201,"time":201,"type":"invoke","process":"p","f":"w"}'
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInput) as e:
        read_jsonl(path)
    assert "h.jsonl:102: process 0 invokes 'write' while its 'write' is still in " \
        "flight" in str(e.value)

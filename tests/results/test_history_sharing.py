"""Reading a history shares equal set-read elements and equal set reads (results/history.py
`_shared_elements`): the values read are equal to what was written, element types are
kept (1, True and 1.0 are equal in Python but stay apart), and memory is shared."""

from __future__ import annotations

import json

from results.history import read_jsonl


def _write(path, values):
    lines = []
    for i, v in enumerate(values):
        lines.append({"index": 2 * i, "time": 10 * i, "type": "invoke", "process": i,
                      "f": "read", "key": "k", "value": None})
        lines.append({"index": 2 * i + 1, "time": 10 * i + 5, "type": "ok", "process": i,
                      "f": "read", "key": "k", "value": v})
    path.write_text("".join(json.dumps(d) + "\n" for d in lines))


def test_equal_reads_and_elements_are_shared_and_unchanged(tmp_path):
    big = list(range(1000, 1020))
    values = [big, big + [5000], list(big), [True] + big, [1.0] + big, ["a", "b"] * 5,
              [[1, 2]] * 10]
    p = tmp_path / "h.jsonl"
    _write(p, values)
    reads = [op.value for op in read_jsonl(p) if op.type == "ok"]
    assert reads == values
    assert [type(x) for x in reads[3]] == [bool] + [int] * 20   # True stays True
    assert type(reads[4][0]) is float
    assert reads[2] is reads[0]                  # an equal read is the same list
    assert reads[1][0] is reads[0][0]            # an equal element is the same object
    assert all(a is b for a, b in zip(reads[1], reads[0]))

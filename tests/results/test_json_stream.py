"""results/json_stream.py: a JSON array read one element at a time gives what json.loads
gives, across window edges, and malformed input is one BadInput naming file and line."""

from __future__ import annotations

import json

import pytest

from results import json_stream
from results.json_stream import iter_json_array
from suite.errors import BadInput


@pytest.fixture
def small_window(monkeypatch):
    monkeypatch.setattr(json_stream, "CHUNK_CHARS", 7)  # every element crosses an edge


@pytest.mark.parametrize("data", [
    [], [{}], [1, 22, 333, 4444, 55555], [{"type": "ok", "value": [["append", 1, 2]]}] * 5,
    [{"s": "a,b]c\"d\n" * 20, "n": -12.5e3, "t": True, "z": None}, [[[]]], "x" * 50]])
def test_same_as_json_loads(tmp_path, small_window, data):
    p = tmp_path / "h.json"
    p.write_text(json.dumps(data, indent=1))
    assert list(iter_json_array(str(p))) == data
    p.write_text(json.dumps(data, separators=(",", ":")))
    assert list(iter_json_array(str(p))) == data


@pytest.mark.parametrize("text, what", [
    ("", "Expecting '[' at line 1"), ("{}", "Expecting '[' at line 1"),
    ("[1,\n2\n3]", "Expecting ',' delimiter at line 3"),
    ("[1,\n{\"a\": }]", "Expecting value at line 2"),
    ("[1, 2", "Unterminated array at line 1"), ("[1] x", "Extra data at line 1"),
    ("[1,\n\n\"abc", "Unterminated string starting at line 3")])
def test_malformed_is_bad_input_with_the_line(tmp_path, small_window, text, what):
    p = tmp_path / "h.json"
    p.write_text(text)
    with pytest.raises(BadInput) as e:
        list(iter_json_array(str(p)))
    assert str(e.value).startswith(f"{p}: not valid JSON (")
    assert what.split(" at ")[0] in str(e.value) and what.split(" at ")[1] in str(e.value), \
        str(e.value)


def test_not_utf8_and_missing(tmp_path):
    p = tmp_path / "h.json"
    p.write_bytes(b"[\xff\xfe]")
    with pytest.raises(BadInput, match="not UTF-8"):
        list(iter_json_array(str(p)))
    with pytest.raises(BadInput, match="cannot read"):
        list(iter_json_array(str(tmp_path / "none.json")))


@pytest.mark.parametrize("sep", [",", ",\n", " , "])
def test_batches_cut_only_between_elements(tmp_path, monkeypatch, sep):
    """A window decoded in one batch (cut after a `}` a comma follows) gives the same
    elements as one by one, though strings and nested values hold `},` too; a window
    whose batch does not decode (NaN in it) still names the problem exactly."""
    data = [{"s": '"},{"x":1},' * (i % 3), "v": [{"a": {"b": i}}, {"c": [i, "},"]}]}
            for i in range(300)] + [{"tail": "}"}, 7, "x}"]
    p = tmp_path / "h.json"
    p.write_text("[" + sep.join(json.dumps(d) for d in data) + "]")
    batches = []
    real = json_stream._batch

    def counting(w, decode):
        out = real(w, decode)
        batches.append(len(out or ()))
        return out
    monkeypatch.setattr(json_stream, "_batch", counting)
    monkeypatch.setattr(json_stream, "CHUNK_CHARS", 4096)  # several windows
    assert list(iter_json_array(str(p))) == data
    assert sum(batches) > 0  # the batch path was taken (and cut right)
    p.write_text("[" + sep.join(json.dumps(d) for d in data[:100]) + sep + '{"n": NaN}]')
    with pytest.raises(BadInput, match="NaN is not a JSON number"):
        list(iter_json_array(str(p)))

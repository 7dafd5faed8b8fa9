"""results.edn's shape path (each Jepsen op line's fields by one regular expression, its
value by the Jepsen-line path) must read every line as the general path does, decline
what it cannot prove, and results.formats must build from its columns the same
operations `_edn_op` builds a map at a time, with the same errors. Random op lines
(one seed per case: the same every run) go through both and the answers are compared."""

from __future__ import annotations

import random

import pytest

from gtcheck.errors import BadInput
from results import edn, formats
from results.history import ReadTimedOut
from tests.results.test_edn_paths import form, general

KEY_ORDERS = [("index", "time", "type", "process", "f", "value"),  # jepsen.history.Op
              ("type", "f", "value", "process", "time", "index"),  # Jepsen 0.2's maps
              ("process", "type", "f", "value"),  # Knossos's, no index, no time
              ("process", "type", "f", "key", "value", "time", "index", "error")]


def op_line(rng: random.Random, keys: tuple[str, ...], i: int, *,
            value_text: tuple[str, object] | None = None) -> tuple[str, dict]:
    """One op map a line printed Clojure's way: (text, the map the readers must give)."""
    fields = {"index": (str(i), i), "time": (str(1000 * i), 1000 * i),
              "type": rng.choice([(":invoke", "invoke"), (":ok", "ok"), (":fail", "fail"),
                                  (":info", "info")]),
              "process": rng.choice([(str(i % 7), i % 7), ("-3", -3)]),
              "f": rng.choice([(":txn", "txn"), (":read", "read"), (":cas", "cas"),
                               (":a.b/c", "a.b/c")]),
              "key": rng.choice([(":x", "x"), ("12", 12), ("nil", None)]),
              "error": rng.choice([(":timeout", "timeout"), ("nil", None)]),
              "value": value_text or form(rng, 1, jepsen=True)}
    text = "{" + ", ".join(f":{k} {fields[k][0]}" for k in keys) + "}"
    return text, {k: fields[k][1] for k in keys}


def pieces(text: str) -> list:
    return [p for block in edn.iter_pieces(text, "<t>") for p in block]


def in_line_order(got: list) -> list:
    """Pieces' (form, line) pairs in line order (a block's pieces interleave)."""
    return sorted((f for p in got for f in (p.forms() if type(p) is edn.Rows else p)),
                  key=lambda f: f[1])


@pytest.mark.parametrize("seed", range(30))
def test_op_lines_of_one_shape_are_read_as_columns_equal_to_the_general_path(seed):
    rng = random.Random(seed)
    keys = KEY_ORDERS[seed % len(KEY_ORDERS)]
    lines = [op_line(rng, keys, i) for i in range(rng.randrange(1, 80))]
    text = "\n".join(t for t, _ in lines) + "\n"
    want = [(v, i + 1) for i, (_, v) in enumerate(lines)]
    assert general(text) == want
    assert edn.read_forms(text, "<t>") == want
    got = pieces(text)
    assert all(type(p) is edn.Rows for p in got)  # taken by the shape path
    assert in_line_order(got) == want


@pytest.mark.parametrize("seed", range(20))
def test_odd_lines_and_several_shapes_in_a_block_read_in_line_order(seed):
    rng = random.Random(100 + seed)
    lines = []
    for i in range(200):
        if rng.random() < 0.04:  # what no shape matches: read alone by the general path
            lines.append(rng.choice([
                ('{:type :info, :f :start, :value "partitioned", :process :nemesis}',
                 {"type": "info", "f": "start", "value": "partitioned",
                  "process": "nemesis"}),
                ('{:type :ok, :f :read, :value #{1 3}, :process 2}',
                 {"type": "ok", "f": "read", "value": [1, 3], "process": 2}),
                ("; a comment", None)]))
        else:
            lines.append(op_line(rng, KEY_ORDERS[rng.randrange(2)], i))
    text = "\n".join(t for t, _ in lines) + "\n"
    want = [(v, i + 1) for i, (_, v) in enumerate(lines) if v is not None]
    assert general(text) == want
    assert edn.read_forms(text, "<t>") == want
    got = pieces(text)
    assert any(type(p) is edn.Rows for p in got)
    assert in_line_order(got) == want


@pytest.mark.parametrize("line", [
    # a value whose text holds what looks like the fields after it: one place only
    "{:type :ok, :f :x, :value {:a 1, :process 2}, :process 3, :time 4, :index 5}",
    "{:type :ok, :f :x, :value [:process 2 :time 3], :process 3, :time 4, :index 5}",
    "{:index 0, :type :ok, :value [1 nil [nil]], :f :nil}",  # nil, and the keyword
    "{:index 0, :type :ok, :value nil, :f :vanilla}",
    "#jepsen.history.Op{:index 0, :type :ok, :value (1 2), :f :r}",  # a record, a list
    "{:index 0, :type :ok, :value -1, :f :-}",
    "{:index 0, :type :ok, :value 1.5e3, :f :r}",
    "{:index 0, :type :ok, :value [1 nil], :f :r}",
    # Jepsen's bank reads: a map whose keys are numbers (no JSON object: marked arrays)
    "{:type :ok, :f :read, :process 1, :value {0 100, 1 0, 2 -3}, :index 9}",
])
def test_lines_the_shape_path_reads_as_the_general_path_does(line):
    text = "\n".join([line] * 3) + "\n"
    assert edn.read_forms(text, "<t>") == general(text)
    assert all(type(p) is edn.Rows for p in pieces(text))  # taken


@pytest.mark.parametrize("line", [
    "{:index 0, :type :ok, :value 1], :x [2, :f :r}",  # a value that is not one form
    "{:index 0, :type :ok, :value 1 2, :f :r}",  # an odd map
    "{:index 0, :type :ok, :value 1}}",
    "{:index 0, :type :ok, :value null, :f :r}",  # the symbol null, not nil
    "{:index 0, :type :ok, :value 1/2, :f :r}",  # a ratio
    "{:index 0, :type :ok, :value #{1 2}, :f :r}",  # a set
    "{:index 0, :type :ok, :value #_ 1 2, :f :r}",  # a discard
    "{:index 99999999999999999999, :type :ok, :value 1, :f :r}",  # past a long
    "{:index 0, :type :ok, :value [1\t2], :f :r}",
    "{:index 00, :type :ok, :value 1, :f :r}",  # a leading zero: two numbers in EDN
])
def test_lines_the_shape_path_declines_are_read_as_the_other_paths_read_them(
        line, monkeypatch):
    good = "{:index 0, :type :ok, :value 1, :f :r}"
    text = "\n".join([good, line, good]) + "\n"
    try:
        got = edn.read_forms(text, "<t>")
    except BadInput as e:
        got = e
    monkeypatch.setattr(edn, "SHAPE_DECLINES_MAX", 0)  # the shape path off
    try:
        want = edn.read_forms(text, "<t>")
    except BadInput as e:
        assert isinstance(got, BadInput) and str(got) == str(e)
        return
    assert got == want


def test_a_form_over_several_lines_is_never_taken_for_op_lines():
    ops = [op_line(random.Random(i), KEY_ORDERS[0], i) for i in range(30)]
    text = "[\n" + "\n".join(t for t, _ in ops) + "\n]\n"  # one vector of op maps
    assert edn.read_forms(text, "<t>") == [([v for _, v in ops], 1)]
    one_line = "[" + " ".join(t for t, _ in ops) + "]\n"
    assert edn.read_forms(one_line, "<t>") == [([v for _, v in ops], 1)]


def _one_at_a_time(text: str) -> list:
    """What formats builds from maps, one `_edn_op` a form (the reference)."""
    ops, _ = formats._edn_ops(iter(edn.read_forms(text, "<t>")), "<t>")
    return ops


@pytest.mark.parametrize("seed", range(20))
def test_operations_built_from_columns_equal_those_built_a_map_at_a_time(seed):
    rng = random.Random(200 + seed)
    keys = KEY_ORDERS[seed % len(KEY_ORDERS)]
    lines = []
    for i in range(rng.randrange(1, 120)):
        if rng.random() < 0.03:  # read alone: a string; no :time (the op before's)
            lines.append('{:process :nemesis, :type :info, :f :kill, :value "n1"' +
                         (f", :index {i}}}" if "index" in keys else "}"))
        elif rng.random() < 0.05:  # a nemesis op: `:process :nemesis`, a shape of its own
            lines.append("{" + ", ".join(
                f":{k} " + {"process": ":nemesis", "type": ":info", "f": ":start",
                            "index": str(i), "time": str(1000 * i)}.get(k, "nil")
                for k in keys) + "}")
        else:
            lines.append(op_line(rng, keys, i, value_text=rng.choice(
                [("nil", None), ("[1 2]", [1, 2]), ("[[:append 3 1] [:r 4 nil]]", None)]))[0])
    text = "\n".join(lines) + "\n"
    got, got_lines = formats.parse_edn(text, source="<t>")
    assert got == _one_at_a_time(text)
    assert list(got_lines) == list(range(1, len(lines) + 1))


@pytest.mark.parametrize("line,message", [
    ("{:index 1, :time 2, :type :done, :process 0, :f :r, :value 1}",
     r"<t>:2: unknown :type 'done'"),
    ("{:index 1, :time 2, :type :ok, :process :n1, :f :r, :value 1}",
     r"<t>:2: :process must be an integer or :nemesis"),
    ("{:index 1, :time 2, :type :ok, :process 0, :f 7, :value 1}", None),  # f "7"
    ("{:index 1, :time 2, :type :ok, :process 0, :f :r, :value 1, :key [1]}",
     r"<t>:2: :key must be"),
    ("{:index 1, :time 2, :type :ok, :process 0, :f :r, :value 1, :error [:x]}", None),
    ("{:index 1, :time 2, :type :ok, :process 0, :f :r, :value 1, :extra 3}", None),
    ("{:index :one, :time 2, :type :ok, :process 0, :f :r, :value 1}",
     r"<t>:2: :index must be an integer"),
])
def test_a_row_a_column_check_refuses_is_read_by_edn_op_with_its_line(line, message):
    first = "{:index 0, :time 1, :type :invoke, :process 0, :f :r, :value 1}"
    text = "\n".join([first] * 1 + [line] + [line.replace(":index 1", ":index 2")]) + "\n"
    if message is None:
        assert formats.parse_edn(text, source="<t>")[0] == _one_at_a_time(text)
        return
    with pytest.raises(BadInput, match=message):
        formats.parse_edn(text, source="<t>")
    with pytest.raises(BadInput, match=message):
        _one_at_a_time(text)


def test_reading_stops_at_the_deadline():
    rng = random.Random(5)
    text = "\n".join(op_line(rng, KEY_ORDERS[0], i)[0] for i in range(50)) + "\n"
    with pytest.raises(ReadTimedOut, match="deadline"):
        formats.parse_edn(text, source="<t>", deadline=0.0)


def test_a_shape_whose_values_json_cannot_hold_reads_them_as_marked_arrays():
    lines = ["{:type :invoke, :f :transfer, :value {:from 3, :to 0, :amount 1}, :index 0}",
             "{:type :ok, :f :read, :value {0 100, 1 0}, :index 1}",
             "{:type :fail, :f :transfer, :value [:negative 1 -3], :index 2}"] * 50
    text = "\n".join(lines) + "\n"
    assert edn.read_forms(text, "<t>") == general(text)
    assert all(type(p) is edn.Rows for p in pieces(text))


MUTATIONS = list('{}[]()#:," ;\\\n\r\t-0123456789anilrtue^@~`\'') + [
    ":nil", "null", "#{", "#_", "#x{", ", :index 3", "1/2"]


def _read(fn):
    try:
        got = fn()
        # parse_edn's line numbers: a range or a list, the same numbers
        return (got[0], None if got[1] is None else list(got[1])) \
            if type(got) is tuple else got
    except BadInput as e:
        return ("BadInput", str(e))


@pytest.mark.parametrize("seed", range(10))
def test_mutated_op_lines_read_and_fail_alike_with_the_shape_path_and_without(
        seed, monkeypatch):
    """Op lines with a character inserted or deleted here and there: the same forms and
    the same operations, or the same BadInput, with the shape path as without it."""
    rng = random.Random(900 + seed)
    for case in range(20):
        keys = KEY_ORDERS[case % len(KEY_ORDERS)]
        lines = [op_line(rng, keys, i)[0] for i in range(rng.randrange(1, 40))]
        for _ in range(rng.randrange(1, 4)):
            k = rng.randrange(len(lines))
            s, p = lines[k], rng.randrange(len(lines[k]) + 1)
            lines[k] = s[:p] + rng.choice(MUTATIONS) + s[p:] if rng.random() < 0.5 \
                else s[:p] + s[p + 1:]
        text = "\n".join(lines) + "\n"
        with_shapes = (_read(lambda: edn.read_forms(text, "<t>")),
                       _read(lambda: formats.parse_edn(text, source="<t>")))
        monkeypatch.setattr(edn, "SHAPE_DECLINES_MAX", 0)  # the shape path off
        assert with_shapes == (_read(lambda: edn.read_forms(text, "<t>")),
                               _read(lambda: formats.parse_edn(text, source="<t>")))
        monkeypatch.undo()

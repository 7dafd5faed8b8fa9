"""results.edn reads EDN by three paths (the Jepsen-line path into JSON objects, the
regex-to-JSON block path, the iterative general parser); all must give the same values
and lines. Random EDN forms, printed Clojure's way (what the Jepsen-line path is for)
and printed in odd ways (what it must decline), go through each path and the answers
are compared. One seed per case: the cases are the same every run."""

from __future__ import annotations

import datetime
import random

import pytest

from gtcheck.errors import BadInput
from results import edn

KEYWORDS = ["index", "time", "type", "process", "f", "value", "r", "append", "read",
            "re", "ok", "invoke", "txn", "a.b/c", "x-y?", "nil", "true", "-1", "<=>"]


def form(rng: random.Random, depth: int = 0, *, jepsen: bool = False):
    """(EDN text printed Clojure's way, the plain value the readers must give); with
    `jepsen`, only what the Jepsen-line path reads (no symbols, no sets)."""
    kinds = ["int", "int", "kw", "kw", "nil", "bool", "float", "vec", "vec", "list",
             "map"] + ([] if jepsen else ["sym", "set"])
    kind = rng.choice(kinds if depth < 4 else ["int", "kw", "nil", "bool", "float"])
    if kind == "int":
        n = rng.choice([0, 1, -1, 7, 300, -2 ** 63, 2 ** 63 - 1, rng.randrange(10 ** 6)])
        return str(n), n
    if kind == "kw":
        k = rng.choice(KEYWORDS)
        return ":" + k, k
    if kind == "nil":
        return "nil", None
    if kind == "bool":
        b = rng.random() < 0.5
        return ("true" if b else "false"), b
    if kind == "float":
        x = rng.choice([1.5, -0.25, 1e5, 2.5e-3, 0.0])
        return repr(x), x
    if kind == "sym":
        s = rng.choice(["foo", "a.b", "nilly", "x/y"])
        return s, s
    items = [form(rng, depth + 1, jepsen=jepsen) for _ in range(rng.randrange(5))]
    if kind == "vec":
        return "[" + " ".join(t for t, _ in items) + "]", [v for _, v in items]
    if kind == "list":
        return "(" + " ".join(t for t, _ in items) + ")", [v for _, v in items]
    if kind == "set":
        vals = {}
        for t, v in items:  # distinct plain values only (a set of ints and keywords)
            if type(v) in (int, str) and (type(v), v) not in vals:
                vals[(type(v), v)] = t
        keys = sorted(vals, key=lambda tv: (tv[0].__name__, tv[1]))
        value = edn._sorted([v for _, v in keys])
        return "#{" + " ".join(vals[k] for k in keys) + "}", value
    return op_map(rng, depth + 1, jepsen=jepsen)


def op_map(rng: random.Random, depth: int = 0, *, jepsen: bool = False):
    """A map with keyword keys, printed `{:k v, :k v}`."""
    keys = rng.sample(KEYWORDS, rng.randrange(1, 7))
    entries = [(k, form(rng, depth + 1, jepsen=jepsen)) for k in keys]
    text = "{" + ", ".join(f":{k} {t}" for k, (t, _) in entries) + "}"
    return text, {k: v for k, (_, v) in entries}


def general(text: str) -> list:
    """The general path alone: [(value, line)]."""
    return [(f, ln) for f, ln, _ in edn._general(text, 0, 1, "<t>", None)]


def oddly(rng: random.Random, text: str) -> str:
    """The same forms printed another (valid) way: commas, extra or other whitespace."""
    choice = rng.randrange(6)
    if choice == 0:
        return text.replace(" ", "  ")
    if choice == 1:
        return text.replace(", ", " ")
    if choice == 2:
        return text.replace(" ", ", ")
    if choice == 3:
        return text.replace("[", "[ ").replace("]", " ]")
    if choice == 4:
        return text.replace(" ", "\t")
    return text.replace("\n", "\n\n")


@pytest.mark.parametrize("seed", range(40))
def test_the_jepsen_line_path_reads_clojure_printed_maps_as_the_general_path(seed):
    rng = random.Random(seed)
    maps = [op_map(rng, jepsen=True) for _ in range(rng.randrange(1, 60))]
    text = "\n".join(t for t, _ in maps) + "\n"
    want = [(v, i + 1) for i, (_, v) in enumerate(maps)]
    assert general(text) == want
    lines = text.split("\n")[:-1]
    assert edn._jepsen_block(lines, edn.Keywords()) == [v for _, v in maps]  # taken
    assert edn.read_forms(text, "<t>") == want


@pytest.mark.parametrize("seed", range(20))
def test_sets_and_symbols_are_left_to_the_other_paths_and_read_the_same(seed):
    rng = random.Random(500 + seed)
    maps = [op_map(rng) for _ in range(rng.randrange(1, 60))]
    text = "\n".join(t for t, _ in maps) + "\n"
    want = [(v, i + 1) for i, (_, v) in enumerate(maps)]
    assert general(text) == want
    assert edn.read_forms(text, "<t>") == want


@pytest.mark.parametrize("seed", range(40))
def test_odd_printing_reads_the_same_by_every_path(seed):
    rng = random.Random(1000 + seed)
    forms = [rng.choice([op_map, form])(rng) for _ in range(rng.randrange(1, 40))]
    text = oddly(rng, "\n".join(t for t, _ in forms)) + "\n"
    want = general(text)
    assert [v for v, _ in want] == [v for _, v in forms]
    assert edn.read_forms(text, "<t>") == want
    lines = text.split("\n")[:-1]
    jepsen = edn._jepsen_block(lines, edn.Keywords())
    if jepsen is not None:  # taken: then one form a line, equal
        assert jepsen == [v for v, _ in want] and len(want) == len(lines)
    fast = edn._fast_block(text.split("\n"))
    if fast is not None:  # taken: each line's forms
        assert [(v, k + 1) for k, line in enumerate(fast) for v in line] == want


@pytest.mark.parametrize("text", [
    "{:a 1] [:b}\n{:x [1}\n{2]}\n",  # brackets mismatched across lines
    "{:a [{:x 1}\n{:y 2}]}\n{:b 1} {:c 2}\n",  # a form over two lines, two on one
    "{:a 1 :b 2}\n",  # map entries without Clojure's commas: valid EDN, declined
    "{:a 1, :b}\n",  # an odd map
    "{:a null}\n",  # the symbol null, not nil
    "{:a NaN}\n{:b Infinity}\n",  # JSON's constants are EDN symbols
    "{:a 1/2}\n",  # a ratio
    "{:a 1N}\n{:b 1.5M}\n{:c +5}\n{:d 007}\n",  # EDN numbers JSON does not have
    "{:a :b:c}\n",  # a colon inside a keyword
    "{1 2, 3 4}\n",  # keys that are not keywords
    "{:vanilla 1, :a nil}\n",  # nil inside a keyword is not nil
    "{:r [:read 1], :read :r}\n",  # a keyword that is another's prefix
    "{:a %s}\n" % ("9" * 401),  # longer than MAX_DIGITS
])
def test_the_jepsen_line_path_declines_what_it_cannot_read_exactly(text):
    lines = text.split("\n")[:-1]
    jepsen = edn._jepsen_block(lines, edn.Keywords())
    try:
        want = general(text)
    except BadInput:
        assert jepsen is None
        return
    if jepsen is not None:
        assert len(want) == len(lines) and jepsen == [v for v, _ in want]
    assert edn.read_forms(text, "<t>") == want


def test_nesting_at_the_limit_reads_and_past_it_is_refused_by_every_path():
    ok = "{:a " + "[" * (edn.MAX_DEPTH - 1) + "]" * (edn.MAX_DEPTH - 1) + "}\n"
    assert edn.read_forms(ok, "<t>") == general(ok)
    deep = "{:a " + "[" * edn.MAX_DEPTH + "]" * edn.MAX_DEPTH + "}\n"
    with pytest.raises(BadInput, match="nested more than"):
        general(deep)
    with pytest.raises(BadInput, match="nested more than"):
        edn.read_forms(deep, "<t>")


def test_keywords_learned_in_one_block_are_looked_for_again_when_a_block_adds_one():
    kw = edn.Keywords()
    assert edn._jepsen_block(["{:type :ok, :f :read}"], kw) == [{"type": "ok", "f": "read"}]
    assert edn._jepsen_block(["{:type :ok, :g :write}"], kw) == [{"type": "ok",
                                                                    "g": "write"}]
    assert "g" in kw.keys and "write" in kw.values


@pytest.mark.parametrize("line,value", [
    ("{:k -1, :v :-1}", {"k": -1, "v": "-1"}),  # a keyword that looks like the number
    ("{:k true, :v :t}", {"k": True, "v": "t"}),  # a keyword that starts true
    ("{:k nil, :v [:n nil]}", {"k": None, "v": ["n", None]}),
])
def test_a_keyword_like_the_value_after_a_key_is_read_by_the_jepsen_line_path(line, value):
    assert edn._jepsen_block([line, line], edn.Keywords()) == [value, value]


def _with_odd_lines(rng: random.Random, n: int) -> tuple[list[str], list]:
    """Jepsen-printed maps, a few of them with what the Jepsen-line path leaves to the
    general one (a string, a comment after the form, a character, a #inst tag)."""
    lines, values = [], []
    for i in range(n):
        text, value = op_map(rng, jepsen=True)
        if rng.random() < 0.04:
            kind = rng.randrange(4)
            if kind == 0:
                text, value = text[:-1] + ', :error "timed out"}', {**value,
                                                                     "error": "timed out"}
                if text.startswith("{, "):
                    continue
            elif kind == 1:
                text = text + " ; a comment"
            elif kind == 2:
                text, value = text[:-1] + r", :c \x}", {**value, "c": "x"}
            else:
                # a date, as edn_format reads #inst
                text, value = text[:-1] + ', :at #inst "2026-01-01"}', {
                    **value, "at": datetime.date(2026, 1, 1)}
        lines.append(text)
        values.append(value)
    return lines, values


@pytest.mark.parametrize("seed", range(20))
def test_a_block_with_a_few_odd_lines_reads_them_alone_and_the_rest_by_the_fast_path(seed):
    rng = random.Random(3000 + seed)
    lines, values = _with_odd_lines(rng, 200)
    text = "\n".join(lines) + "\n"
    want = general(text)
    assert [v for v, _ in want] == values
    mixed = edn._mixed_block(lines, edn.Keywords(), 1, "<t>")
    if any(edn._NOT_PLAIN.search(s) for s in lines):
        assert mixed == want  # taken
    assert edn.read_forms(text, "<t>") == want


@pytest.mark.parametrize("odd", [
    '{:a "two\nlines"}',  # a string over two lines: no line is a form of its own
    '#_ {:skip 1}\n{:a 1}',  # a discard on its own line
    '{:a 1} #_',  # a discard at a line's end: it takes the next line's form
    '#foo\n{:a 1}',  # a tag at a line's end tags the next line's form
])
def test_odd_lines_that_are_not_forms_of_their_own_are_left_to_the_block_paths(odd):
    rng = random.Random(7)
    lines = [op_map(rng, jepsen=True)[0] for _ in range(40)]
    lines[20:20] = odd.split("\n")
    text = "\n".join(lines) + "\n"
    assert edn._mixed_block(text.split("\n")[:-1], edn.Keywords(), 1, "<t>") is None
    assert edn.read_forms(text, "<t>") == general(text)


def test_record_tags_are_read_as_the_maps_they_tag_by_the_jepsen_line_path():
    lines = ["#jepsen.history.Op{:index %d, :type :ok, :f :read, :value [1 nil]}" % i
             for i in range(50)]
    text = "\n".join(lines) + "\n"
    assert edn.plain_text(text) == ("jepsen.history.Op",)
    jepsen = edn._jepsen_block(lines, edn.Keywords())
    assert jepsen == [{"index": i, "type": "ok", "f": "read", "value": [1, None]}
                      for i in range(50)]
    assert edn.read_forms(text, "<t>") == general(text)
    assert edn.plain_text(text + "#{1 2}\n") is None  # a set is no record
